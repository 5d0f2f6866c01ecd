/* test_files.c - a directory read through pd_files: a file that got shorter
 * between the walk and the scan is reported and skipped, and one that grew
 * is read as it was when it was added; the other files are read whole. */
#include "check.h"
#include "paradup.h"

#include <stdlib.h>
#include <unistd.h>

static char said[4096];

static void diag(void *ctx, const char *doc, uint64_t line, const char *msg)
{
    (void)ctx, (void)line;
    size_t n = strlen(said);
    snprintf(said + n, sizeof said - n, "%s: %s\n", strrchr(doc, '/') + 1, msg);
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

int main(void)
{
    char dir[] = "/tmp/paradup-test-files-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    write_file(dir, "a.txt", "the same line in three files\nonly in a\n");
    write_file(dir, "b.txt", "the same line in three files\nonly in b, and more to come\n");
    write_file(dir, "c.txt", "the same line in three files\nonly in c\n");
    pd_files *fs;
    CHECK(pd_files_new(NULL, diag, NULL, &fs) == PD_OK);
    CHECK(pd_files_add(fs, dir) == PD_OK);
    /* After the walk: b gets shorter, c grows. */
    char path[512];
    snprintf(path, sizeof path, "%s/b.txt", dir);
    CHECK(truncate(path, 10) == 0);
    write_file(dir, "c.txt", "the same line in three files\nonly in c\nthe same line in three files\n");

    pd_options o;
    pd_options_init(&o);
    o.threshold = 1;
    o.diag = diag;
    pd_scan *sc;
    CHECK(pd_scan_new(&o, &sc) == PD_OK);
    pd_source src = pd_files_source(fs);
    CHECK(pd_scan_run(sc, &src) == PD_OK);
    CHECK_STR(said, "b.txt: cannot read: the file got shorter\n");
    CHECK(pd_scan_stats(sc)->docs == 2 && pd_scan_stats(sc)->docs_failed == 1);
    /* a and c share the line; c's copy added after the walk is not read. */
    CHECK(pd_scan_row_count(sc) == 2 && pd_scan_stats(sc)->units == 4);
    pd_scan_free(sc);
    pd_files_free(fs);
    for (const char *n = "a.txt\0b.txt\0c.txt\0"; *n; n += strlen(n) + 1) {
        snprintf(path, sizeof path, "%s/%s", dir, n);
        unlink(path);
    }
    rmdir(dir);
    return check_done("test_files");
}
