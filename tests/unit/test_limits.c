/* test_limits.c - the 32-bit limits, reached with small inputs: this test is
 * built with the library's limits lowered to 1,000 units per run and 500
 * lines per document (see the Makefile). Past either, the scan stops with
 * PD_EINVAL and a message that says what to do; up to them, it works. */
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

int main(void)
{
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
