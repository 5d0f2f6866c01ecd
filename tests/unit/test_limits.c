/* test_limits.c - the 32-bit limits, reached with small inputs: this test is
 * built with the library's limits lowered to 1,000 units per run, 500 lines
 * per document and units of 1,000 bytes (see the Makefile). Past the first
 * two, the scan stops with PD_EINVAL and a message that says what to do; up
 * to them, it works. A longer unit is split into pieces, even with no
 * max_unit_bytes, and its pieces keep their byte ranges. */
#include "check.h"
#include "memsrc.h"

#include <stdlib.h>

/* n distinct lines, "line K of doc D" */
static char *lines(unsigned doc, unsigned n)
{
    char *t = malloc((size_t)n * 32 + 1), *p = t;
    for (unsigned i = 0; i < n; i++)
        p += sprintf(p, "line %u of document %u\n", i, doc);
    *p = 0;
    return t;
}

static pd_status scan(const char **texts, uint32_t n, char *err, size_t cap, size_t *units)
{
    static const char *names[] = {"a", "b", "c", "d"};
    memsrc m = {.names = names, .texts = texts};
    pd_source src = mem_source(&m, n);
    pd_options o;
    pd_options_init(&o);
    o.threads = 2;
    pd_scan *sc;
    pd_status st = pd_scan_new(&o, &sc);
    if (st == PD_OK)
        st = pd_scan_run(sc, &src);
    snprintf(err, cap, "%s", pd_scan_errmsg(sc));
    *units = pd_scan_stats(sc)->units;
    pd_scan_free(sc);
    return st;
}

static char said[512];

static void diag(void *ctx, const char *doc, uint64_t line, const char *msg)
{
    (void)ctx, (void)doc, (void)line;
    snprintf(said, sizeof said, "%s", msg);
}

/* Two copies of a line of 2,500 bytes, with no max_unit_bytes: each is cut
 * into three pieces of at most 1,000 bytes (the lowered PD_MAX_UNIT_LEN),
 * each piece a duplicate of the other copy's, with the warning of a split. */
static void test_long_unit(void)
{
    char *text = malloc(2 * 2600), *p = text;
    for (int copy = 0; copy < 2; copy++) {
        for (int w = 0; w < 250; w++)
            p += sprintf(p, "word%04d ", w);
        p[-1] = '\n';
    }
    *p = 0;
    const char *names[] = {"a"}, *texts[] = {text};
    memsrc m = {.names = names, .texts = texts};
    pd_source src = mem_source(&m, 1);
    pd_options o;
    pd_options_init(&o);
    o.max_unit_bytes = 0;
    o.threshold = 1.0;
    o.diag = diag;
    pd_scan *sc = NULL;
    CHECK(pd_scan_new(&o, &sc) == PD_OK && pd_scan_run(sc, &src) == PD_OK);
    size_t rows = sc ? pd_scan_row_count(sc) : 0, short_rows = 0;
    for (size_t i = 0; i < rows; i++) {
        pd_row r;
        pd_scan_row(sc, i, &r);
        short_rows += r.unit.byte_end - r.unit.byte_start <= 1000 &&
                      r.unit.line_end == r.unit.line_start;
    }
    CHECK(rows == 6 && short_rows == 6);
    CHECK(strstr(said, "longer than 1000 bytes") != NULL);
    pd_scan_free(sc);
    free(text);
}

int main(void)
{
    test_long_unit();
    char err[512];
    size_t units;
    char *d400[3] = {lines(0, 400), lines(1, 400), lines(2, 150)};
    char *d600 = lines(3, 600);

    /* 950 units in three documents of at most 400 lines: works. */
    const char *ok[] = {d400[0], d400[1], d400[2]};
    CHECK(scan(ok, 3, err, sizeof err, &units) == PD_OK);
    CHECK(units == 950);

    /* 1,350 units: more than the run holds. */
    const char *many[] = {d400[0], d400[1], d400[2], d400[0]};
    CHECK(scan(many, 4, err, sizeof err, &units) == PD_EINVAL);
    CHECK(strstr(err, "more than 1000 units: split the input into several runs") != NULL);

    /* One document of 600 lines: more than a document holds. */
    const char *long_doc[] = {d600};
    CHECK(scan(long_doc, 1, err, sizeof err, &units) == PD_EINVAL);
    CHECK_STR(err, "'a' has more than 500 lines or units: split it into smaller files");

    for (int i = 0; i < 3; i++)
        free(d400[i]);
    free(d600);
    return check_done("test_limits");
}
