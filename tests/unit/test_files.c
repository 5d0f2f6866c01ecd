/* test_files.c - a directory read through pd_files: a file that got shorter
 * between the walk and the scan is reported and skipped, and one that grew
 * is read as it was when it was added; the other files are read whole. And
 * read_ranges(): scattered ranges land where they are asked to, across long
 * gaps and more ranges than one call takes. */
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

/* The byte at offset i of the file test_read_ranges writes. */
static char byte_at(size_t i)
{
    return (char)('a' + (i * 7 + i / 977) % 26);
}

static void test_read_ranges(const char *dir)
{
    enum { SIZE = 3 << 19, RANGES = 700 };
    char *text = malloc(SIZE + 1), *dst = malloc(SIZE);
    for (size_t i = 0; i < SIZE; i++)
        text[i] = byte_at(i);
    text[SIZE] = 0;
    write_file(dir, "r.txt", text);
    char path[512];
    snprintf(path, sizeof path, "%s/r.txt", dir);
    pd_files *fs;
    CHECK(pd_files_new(NULL, diag, NULL, &fs) == PD_OK);
    CHECK(pd_files_add(fs, path) == PD_OK);
    pd_source src = pd_files_source(fs);
    CHECK(src.n_docs == 1 && src.read_ranges != NULL);

    /* Gaps of 0 to 3 KB, and every 100th of 40 KB (longer than one call
     * skips); each range goes to its own place in dst, in reverse order. */
    pd_range r[RANGES];
    uint64_t off = 5;
    size_t at = SIZE;
    for (size_t i = 0; i < RANGES; i++) {
        size_t len = 1 + (i * 37) % 300;
        r[i] = (pd_range){off, len, dst + (at -= len)};
        off += len + (i % 100 == 99 ? 40 << 10 : (i * 131) % 3000);
    }
    CHECK(off < SIZE);
    memset(dst, 0, SIZE);
    CHECK(src.read_ranges(src.ctx, 0, r, RANGES) == PD_OK);
    size_t bad = 0;
    for (size_t i = 0; i < RANGES; i++)
        bad += memcmp(r[i].dst, text + r[i].off, r[i].len) != 0;
    CHECK(bad == 0);
    CHECK(dst[at - 1] == 0); /* nothing written before the first place */

    /* Ranges out of order are refused; a range past the end is a read error. */
    pd_range back[2] = {{100, 10, dst}, {50, 10, dst + 10}};
    said[0] = 0;
    CHECK(src.read_ranges(src.ctx, 0, back, 2) == PD_EINVAL);
    CHECK_STR(said, ""); /* not the file's fault */
    pd_range past[2] = {{100, 10, dst}, {SIZE - 5, 10, dst + 10}};
    CHECK(src.read_ranges(src.ctx, 0, past, 2) == PD_EIO);
    CHECK_STR(said, "r.txt: cannot read again: the file got shorter\n");
    said[0] = 0;
    pd_files_free(fs);
    unlink(path);
    free(text);
    free(dst);
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
    test_read_ranges(dir);
    rmdir(dir);
    return check_done("test_files");
}
