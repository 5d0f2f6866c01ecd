/* test_files.c - files read through pd_files: a file read where it lies that
 * got shorter between its adding and the scan is reported and skipped, and
 * one that grew is read as it was when it was added; the other files are
 * read whole. A walk or a list reads its small files as it adds them. And
 * read_ranges(): scattered ranges land where they are asked to, across long
 * gaps and more ranges than one call takes. And files whose first batch
 * misleads the scan's reservation of room for their units. */
#include "check.h"
#include "paradup.h"

#include <stdbool.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

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

/* An exact scan of src on two threads, run. */
static pd_scan *exact_scan(const pd_source *src)
{
    pd_options o;
    pd_options_init(&o);
    o.threshold = 1;
    o.threads = 2;
    pd_scan *sc = NULL;
    CHECK(pd_scan_new(&o, &sc) == PD_OK);
    CHECK(sc && pd_scan_run(sc, src) == PD_OK);
    return sc;
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
        r[i] = (pd_range){0, off, len, dst + (at -= len)};
        off += len + (i % 100 == 99 ? 40 << 10 : (i * 131) % 3000);
    }
    CHECK(off < SIZE);
    memset(dst, 0, SIZE);
    size_t failed = 99;
    CHECK(src.read_ranges(src.ctx, r, RANGES, &failed) == PD_OK);
    size_t bad = 0;
    for (size_t i = 0; i < RANGES; i++)
        bad += memcmp(r[i].dst, text + r[i].off, r[i].len) != 0;
    CHECK(bad == 0);
    CHECK(dst[at - 1] == 0); /* nothing written before the first place */

    /* Ranges out of order are read too (with a call each); a range past the
     * end is a read error. */
    pd_range back[3] = {{0, 100, 10, dst}, {0, 50, 60, dst + 10}, {0, 70, 5, dst + 70}};
    said[0] = 0;
    CHECK(src.read_ranges(src.ctx, back, 3, &failed) == PD_OK);
    CHECK(memcmp(dst, text + 100, 10) == 0 && memcmp(dst + 10, text + 50, 60) == 0 &&
          memcmp(dst + 70, text + 70, 5) == 0);
    CHECK_STR(said, "");
    pd_range past[3] = {{0, 100, 10, dst}, {0, 200000, 10, dst + 10}, {0, SIZE - 5, 10, dst + 20}};
    CHECK(src.read_ranges(src.ctx, past, 3, &failed) == PD_EIO);
    CHECK(failed == 2); /* the first range of the call that failed */
    CHECK_STR(said, "r.txt: cannot read again: the file got shorter\n");
    said[0] = 0;
    pd_files_free(fs);
    unlink(path);
    free(text);
    free(dst);
}

/* Records of a JSONL file share the spool: ranges of several records, and
 * of a plain file read between them, each land in their place. */
static void test_read_ranges_records(const char *dir)
{
    write_file(dir, "s.jsonl", "{\"text\": \"alpha one\\nalpha two\"}\n"
                               "{\"text\": \"beta\"}\n"
                               "{\"text\": \"gamma \\u00e9t\\u00e9\"}\n");
    write_file(dir, "t.txt", "plain file text\n");
    char path[512], path2[512];
    snprintf(path, sizeof path, "%s/s.jsonl", dir);
    snprintf(path2, sizeof path2, "%s/t.txt", dir);
    pd_files *fs;
    CHECK(pd_files_new(NULL, diag, NULL, &fs) == PD_OK);
    CHECK(pd_files_add(fs, path) == PD_OK);
    CHECK(pd_files_add(fs, path2) == PD_OK);
    pd_source src = pd_files_source(fs);
    CHECK(src.n_docs == 4);
    char out[64];
    memset(out, '.', sizeof out);
    pd_range r[5] = {{0, 6, 3, out},       {0, 10, 5, out + 3}, {1, 0, 4, out + 8},
                     {2, 6, 5, out + 12}, {3, 6, 4, out + 17}};
    size_t failed;
    CHECK(src.read_ranges(src.ctx, r, 5, &failed) == PD_OK);
    out[21] = 0;
    CHECK_STR(out, "onealphabeta\xc3\xa9t\xc3\xa9" "file");
    /* The same through read(), one range at a time. */
    char one[8] = {0};
    CHECK(src.read(src.ctx, 2, 6, 5, one) == PD_OK);
    CHECK(memcmp(one, out + 12, 5) == 0);
    pd_files_free(fs);
    unlink(path);
    unlink(path2);
}

/* A banner in five cases: one normalized text, five texts to read back. */
static const char *const banners[] = {
    "Subscribe now to the daily letter", "SUBSCRIBE now to the daily letter",
    "Subscribe NOW to the daily letter", "Subscribe now TO the daily letter",
    "Subscribe now to THE daily letter"};

/* Scan dir with at most one file kept open, remove the files, then write
 * the report: the texts come from the spool, where the files not kept open
 * were copied when first read; with no spool (TMPDIR missing) they cannot. */
static pd_status report_after_removal(const char *dir, const char *tmpdir, char **out)
{
    char path[512];
    for (int i = 0; i < 5; i++) {
        char name[32], text[128];
        snprintf(name, sizeof name, "k%d.txt", i);
        snprintf(text, sizeof text, "%s\nstory %d is its own\n", banners[i], i);
        write_file(dir, name, text);
    }
    pd_input_options in;
    pd_input_options_init(&in);
    in.keep_open = 1;
    pd_files *fs;
    CHECK(pd_files_new(&in, diag, NULL, &fs) == PD_OK);
    for (int i = 0; i < 5; i++) { /* one by one: a walk would spool them now */
        snprintf(path, sizeof path, "%s/k%d.txt", dir, i);
        CHECK(pd_files_add(fs, path) == PD_OK);
    }
    const char *saved = getenv("TMPDIR");
    char *keep = saved ? strdup(saved) : NULL;
    setenv("TMPDIR", tmpdir, 1);
    pd_source src = pd_files_source(fs);
    if (keep) {
        setenv("TMPDIR", keep, 1);
        free(keep);
    } else {
        unsetenv("TMPDIR");
    }
    pd_scan *sc = exact_scan(&src);
    for (int i = 0; i < 5; i++) {
        snprintf(path, sizeof path, "%s/k%d.txt", dir, i);
        unlink(path);
    }
    size_t len = 0;
    FILE *f = open_memstream(out, &len);
    said[0] = 0;
    pd_status st = pd_scan_write_csv(sc, &src, 0, f);
    fclose(f);
    pd_scan_free(sc);
    pd_files_free(fs);
    return st;
}

static void test_spooled_copies(const char *dir)
{
    char *out = NULL;
    CHECK(report_after_removal(dir, "/tmp", &out) == PD_OK);
    for (int i = 0; i < 5; i++) { /* each file's banner, from the spool or a kept file */
        char field[64];
        snprintf(field, sizeof field, "\"%s\"", banners[i]);
        CHECK(out && strstr(out, field) && !strstr(strstr(out, field) + 1, field));
    }
    CHECK_STR(said, "");
    free(out);
    out = NULL;
    CHECK(report_after_removal(dir, "/nonexistent-paradup-dir", &out) == PD_EIO);
    CHECK(strstr(said, "cannot open again") != NULL);
    free(out);
    said[0] = 0;
}

/* Records added after a scan has copied files into the spool go after the
 * copies: a second scan reads both right. */
static void test_add_after_copies(const char *dir)
{
    for (int i = 0; i < 3; i++) {
        char name[32];
        snprintf(name, sizeof name, "k%d.txt", i);
        write_file(dir, name, "Subscribe now to the daily letter\nits own line\n");
    }
    pd_input_options in;
    pd_input_options_init(&in);
    in.keep_open = 1;
    pd_files *fs;
    CHECK(pd_files_new(&in, diag, NULL, &fs) == PD_OK);
    for (int i = 0; i < 3; i++) { /* one by one: copied when first read */
        char path[512];
        snprintf(path, sizeof path, "%s/k%d.txt", dir, i);
        CHECK(pd_files_add(fs, path) == PD_OK);
    }
    pd_options o;
    pd_options_init(&o);
    o.threshold = 1;
    for (int round = 0; round < 2; round++) {
        if (round == 1) {
            char path[512];
            write_file(dir, "r.jsonl", "{\"text\": \"Subscribe now to the daily letter\"}\n");
            snprintf(path, sizeof path, "%s/r.jsonl", dir);
            CHECK(pd_files_add(fs, path) == PD_OK);
            unlink(path);
        }
        pd_source src = pd_files_source(fs);
        pd_scan *sc;
        CHECK(pd_scan_new(&o, &sc) == PD_OK);
        CHECK(pd_scan_run(sc, &src) == PD_OK);
        char *out = NULL;
        size_t len = 0, rows = 0;
        FILE *f = open_memstream(&out, &len);
        CHECK(pd_scan_write_csv(sc, &src, 0, f) == PD_OK);
        fclose(f);
        for (const char *p = out; p && (p = strstr(p, ",\"Subscribe now to the daily letter\",")); p++)
            rows++;
        CHECK(rows == (size_t)(3 + round));
        free(out);
        pd_scan_free(sc);
    }
    pd_files_free(fs);
    for (int i = 0; i < 3; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/k%d.txt", dir, i);
        unlink(path);
    }
}

/* The scan reserves room for the units after its first batch, at that
 * batch's rate: a file that starts with long lines and goes on with many
 * short ones outgrows the reservation, and one that starts short and goes on
 * long is reserved far too much. Both must scan as any other file. */
static void test_estimates(const char *dir)
{
    enum { LONG = 200, LONG_LEN = 40000, SHORT = 300000, DISTINCT = 100000 };
    char path[512];
    for (int order = 0; order < 2; order++) {
        snprintf(path, sizeof path, "%s/rate%d.txt", dir, order);
        FILE *f = fopen(path, "w");
        for (int part = 0; part < 2 && f; part++) {
            if ((part == 0) == (order == 0)) {
                for (int i = 0; i < LONG; i++) { /* 8 MB of distinct long lines */
                    fprintf(f, "long line %d", i);
                    for (int w = 0; w < LONG_LEN / 8; w++)
                        fprintf(f, " w%05d", (i * 7919 + w) % 99991);
                    fputc('\n', f);
                }
            } else {
                for (int i = 0; i < SHORT; i++)
                    fprintf(f, "short %d\n", i % DISTINCT); /* each three times */
            }
        }
        CHECK(f && fclose(f) == 0);
        pd_files *fs;
        CHECK(pd_files_new(NULL, diag, NULL, &fs) == PD_OK);
        CHECK(pd_files_add(fs, path) == PD_OK);
        pd_source src = pd_files_source(fs);
        pd_scan *sc = exact_scan(&src);
        const pd_stats *st = pd_scan_stats(sc);
        CHECK(st->units == LONG + SHORT && st->distinct == LONG + DISTINCT);
        CHECK(pd_scan_row_count(sc) == SHORT);
        /* The last row: the last short line, with its own line number. */
        pd_row r;
        pd_scan_row(sc, SHORT - 1, &r);
        uint64_t line = order == 0 ? LONG + SHORT : SHORT;
        CHECK(r.unit.line_start == line && r.unit.line_end == line);
        pd_scan_free(sc);
        pd_files_free(fs);
        unlink(path);
    }
}

/* A text of at least `size` bytes: `first`, then lines of its own. */
static char *large_text(const char *first, size_t size)
{
    char *text = malloc(size + 64);
    size_t n = (size_t)sprintf(text, "%s\n", first);
    for (int i = 0; n < size; i++)
        n += (size_t)sprintf(text + n, "line %d of the large file\n", i);
    return text;
}

/* The exact repeats of "the shared line" in src: how many rows, and the
 * documents' names in their order, after `dir`/. */
static size_t shared_rows(const pd_source *src, const char *dir, char *names, size_t cap)
{
    pd_scan *sc = exact_scan(src);
    names[0] = 0;
    for (uint32_t d = 0; d < src->n_docs; d++) {
        const char *name = src->name(src->ctx, d) + strlen(dir) + 1;
        snprintf(names + strlen(names), cap - strlen(names), "%s ", name);
    }
    char *out = NULL;
    size_t len = 0, rows = 0;
    FILE *f = open_memstream(&out, &len);
    CHECK(pd_scan_write_csv(sc, src, 0, f) == PD_OK);
    fclose(f);
    for (const char *p = out; p && (p = strstr(p, ",\"the shared line\",")); p++)
        rows++;
    free(out);
    pd_scan_free(sc);
    return rows;
}

/* A walk reads its small plain files as it adds them (into the spool), and
 * leaves larger ones where they lie: after the walk, a small file that got
 * shorter is read as it was; a large one is reported. */
static void test_walk_small_files(const char *dir)
{
    char sub[512], path[600], names[256];
    snprintf(sub, sizeof sub, "%s/walk", dir);
    CHECK(mkdir(sub, 0700) == 0);
    write_file(sub, "a.txt", "the shared line\nonly in a\n");
    write_file(sub, "b.txt", "the shared line\nonly in b\n");
    write_file(sub, "c.jsonl", "{\"text\": \"the shared line\"}\n");
    char *text = large_text("the shared line", 100000);
    write_file(sub, "d.txt", text);
    free(text);
    pd_files *fs;
    CHECK(pd_files_new(NULL, diag, NULL, &fs) == PD_OK);
    CHECK(pd_files_add(fs, sub) == PD_OK);
    for (const char *n = "a.txt\0d.txt\0"; *n; n += strlen(n) + 1) {
        snprintf(path, sizeof path, "%s/%s", sub, n);
        CHECK(truncate(path, 5) == 0);
    }
    said[0] = 0;
    pd_source src = pd_files_source(fs);
    CHECK(src.n_docs == 4);
    CHECK(shared_rows(&src, sub, names, sizeof names) == 3);
    CHECK_STR(names, "a.txt b.txt c.jsonl:1 d.txt ");
    CHECK_STR(said, "d.txt: cannot read: the file got shorter\n");
    pd_files_free(fs);

    /* The same files listed, with the directory, a missing file and the
     * large one again: each in its place; strict stops at the missing one. */
    write_file(sub, "a.txt", "the shared line\nonly in a\n");
    text = large_text("the shared line", 100000);
    write_file(sub, "d.txt", text);
    free(text);
    char paths[5][600];
    const char *list[5];
    const char *const tail[5] = {"b.txt", "", "missing.txt", "a.txt", "d.txt"};
    for (int i = 0; i < 5; i++) {
        snprintf(paths[i], sizeof paths[i], "%s%s%s", sub, *tail[i] ? "/" : "", tail[i]);
        list[i] = paths[i];
    }
    for (int strict = 0; strict < 2; strict++) {
        pd_input_options in;
        pd_input_options_init(&in);
        in.strict = strict;
        CHECK(pd_files_new(&in, diag, NULL, &fs) == PD_OK);
        said[0] = 0;
        CHECK(pd_files_add_paths(fs, list, 5) == PD_EIO);
        CHECK_STR(said, "missing.txt: cannot open: No such file or directory\n");
        src = pd_files_source(fs);
        size_t rows = shared_rows(&src, sub, names, sizeof names);
        if (strict) {
            CHECK(rows == 5);
            CHECK_STR(names, "b.txt a.txt b.txt c.jsonl:1 d.txt ");
        } else {
            CHECK(rows == 7);
            CHECK_STR(names, "b.txt a.txt b.txt c.jsonl:1 d.txt a.txt d.txt ");
        }
        pd_files_free(fs);
    }
    for (const char *n = "a.txt\0b.txt\0c.jsonl\0d.txt\0"; *n; n += strlen(n) + 1) {
        snprintf(path, sizeof path, "%s/%s", sub, n);
        unlink(path);
    }
    rmdir(sub);
}

/* Write text (n bytes) to dir/name gzip- or zstd-compressed, the file cut
 * to `keep` of its bytes when keep > 0. */
static void write_compressed(const char *dir, const char *name, const char *text, size_t n,
                             bool zstd, long keep)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (zstd) {
        size_t cap = ZSTD_compressBound(n);
        char *z = malloc(cap);
        size_t k = ZSTD_compress(z, cap, text, n, 3);
        CHECK(!ZSTD_isError(k));
        FILE *f = fopen(path, "wb");
        fwrite(z, 1, k, f);
        fclose(f);
        free(z);
    } else {
        gzFile g = gzopen(path, "wb");
        CHECK(g && gzwrite(g, text, (unsigned)n) == (int)n);
        gzclose(g);
    }
    if (keep > 0)
        CHECK(truncate(path, keep) == 0);
}

/* The report of the files in `sub` as a walk adds them (the small
 * compressed ones decoded on the reading threads) and as they are added one
 * by one, in the same order (each decoded as it is added). */
static char *report_of(const char *sub, bool walk, const char *const *names, size_t n)
{
    pd_files *fs;
    CHECK(pd_files_new(NULL, diag, NULL, &fs) == PD_OK);
    char path[600];
    said[0] = 0;
    if (walk)
        CHECK(pd_files_add(fs, sub) == PD_EIO);
    for (size_t i = 0; !walk && i < n; i++) {
        snprintf(path, sizeof path, "%s/%s", sub, names[i]);
        pd_files_add(fs, path);
    }
    pd_source src = pd_files_source(fs);
    pd_scan *sc = exact_scan(&src);
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    CHECK(pd_scan_write_csv(sc, &src, 0, f) == PD_OK);
    fclose(f);
    CHECK(src.n_docs == 4);
    pd_scan_free(sc);
    pd_files_free(fs);
    return out;
}

/* Small compressed files in a walk are decoded as they are read, on the
 * reading threads; one cut short is reported, one that decodes to more than
 * a reading thread holds is read as any larger file. The report is the one
 * of the same files added one by one. */
static void test_walk_compressed(const char *dir)
{
    char sub[512], path[600];
    snprintf(sub, sizeof sub, "%s/walkz", dir);
    CHECK(mkdir(sub, 0700) == 0);
    const char *e = "the shared line\nonly in e\n";
    write_compressed(sub, "e.txt.gz", e, strlen(e), false, 0);
    write_compressed(sub, "e2.txt.zst", e, strlen(e), true, 0);
    char *text = large_text("the shared line", 30000);
    write_compressed(sub, "f.txt.gz", text, strlen(text), false, 2000);
    free(text);
    enum { BLANK = 3 << 20 }; /* lines with nothing to compare, past any room */
    text = malloc(BLANK + 32);
    size_t n = (size_t)sprintf(text, "the shared line\n");
    memset(text + n, '\n', BLANK);
    write_compressed(sub, "g.txt.gz", text, n + BLANK, false, 0);
    free(text);
    write_file(sub, "h.txt", "the shared line\n");
    const char *names[] = {"e.txt.gz", "e2.txt.zst", "f.txt.gz", "g.txt.gz", "h.txt"};
    char *walked = report_of(sub, true, names, 5);
    CHECK_STR(said, "f.txt.gz: cannot read: truncated gzip data\n");
    char *alone = report_of(sub, false, names, 5);
    CHECK_STR(said, "f.txt.gz: cannot read: truncated gzip data\n");
    CHECK(walked && alone && strcmp(walked, alone) == 0);
    size_t rows = 0;
    for (const char *p = walked; p && (p = strstr(p, ",\"the shared line\",")); p++)
        rows++;
    CHECK(rows == 4);
    CHECK(walked && strstr(walked, "g.txt.gz"));
    free(walked);
    free(alone);
    for (size_t i = 0; i < 5; i++) {
        snprintf(path, sizeof path, "%s/%s", sub, names[i]);
        unlink(path);
    }
    rmdir(sub);
}

int main(void)
{
    char dir[] = "/tmp/paradup-test-files-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    write_file(dir, "a.txt", "the same line in three files\nonly in a\n");
    write_file(dir, "b.txt", "the same line in three files\nonly in b, and more to come\n");
    write_file(dir, "c.txt", "the same line in three files\nonly in c\n");
    /* Files added one by one are read where they lie, when the scan gets
     * to them. After they are added: b gets shorter, c grows. */
    pd_files *fs;
    CHECK(pd_files_new(NULL, diag, NULL, &fs) == PD_OK);
    char path[512];
    for (const char *n = "a.txt\0b.txt\0c.txt\0"; *n; n += strlen(n) + 1) {
        snprintf(path, sizeof path, "%s/%s", dir, n);
        CHECK(pd_files_add(fs, path) == PD_OK);
    }
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
    test_walk_small_files(dir);
    test_walk_compressed(dir);
    test_read_ranges(dir);
    test_read_ranges_records(dir);
    test_spooled_copies(dir);
    test_add_after_copies(dir);
    test_estimates(dir);
    rmdir(dir);
    return check_done("test_files");
}
