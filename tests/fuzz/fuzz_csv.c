/* fuzz_csv.c - the CSV writer: a document (the input) is scanned twice over,
 * so each of its units is reported; the report must parse back with libcsv
 * (strict mode) into rows of 13 fields whose doc, offsets and text are the
 * unit's own (with the --csv-safe apostrophe when the first input byte is
 * odd). */
#define _GNU_SOURCE
#include "fuzz.h"
#include "csvparse.h"
#include "paradup.h"
#include "../unit/memsrc.h"

#include <stdio.h>

static const char *names[] = {"doc \"one\", first", "=doc two"};

static void check_report(const char *csv, size_t len, const char *doc, size_t size, int safe,
                         pd_unit_kind kind)
{
    csv_table t;
    FUZZ_CHECK(csvt_parse(&t, csv, len) == 0);
    FUZZ_CHECK(t.n_rows >= 1 && t.n_fields[0] == 13);
    pd_buf want;
    pd_buf_init(&want);
    for (size_t i = 1; i < t.n_rows; i++) {
        char **f = t.rows[i];
        FUZZ_CHECK(t.n_fields[i] == 13);
        int which = strcmp(f[1], safe ? "'=doc two" : names[1]) == 0;
        FUZZ_CHECK(which || strcmp(f[1], names[0]) == 0);
        pd_unit u = {0, (uint32_t)strtoul(f[3], NULL, 10), (uint32_t)strtoul(f[4], NULL, 10),
                     strtoull(f[5], NULL, 10), strtoull(f[6], NULL, 10)};
        FUZZ_CHECK(u.byte_start < u.byte_end && u.byte_end <= size);
        FUZZ_CHECK(pd_unit_text(doc, size, &u, kind, &want) == PD_OK);
        const char *got = f[11];
        size_t got_len = t.lens[i][11];
        if (safe && want.len > 0 && strchr("=+-@\t\r", want.data[0])) {
            FUZZ_CHECK(got[0] == '\'');
            got++;
            got_len--;
        }
        FUZZ_CHECK(got_len == want.len && memcmp(got, want.data, want.len) == 0);
    }
    pd_buf_release(&want);
    csvt_free(&t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int safe = data[0] & 1;
    pd_unit_kind kind = (pd_unit_kind)((data[0] >> 1) % 3);
    const char *doc = (const char *)data + 1;
    size--;
    const char *texts[2] = {doc, doc};
    size_t lens[2] = {size, size};
    memsrc m = {.names = names, .texts = texts, .lens = lens};
    pd_source src = mem_source(&m, 2);
    pd_options o;
    pd_options_init(&o);
    o.threshold = 1.0;
    o.unit = kind;
    o.threads = 1;
    pd_scan *sc;
    FUZZ_CHECK(pd_scan_new(&o, &sc) == PD_OK);
    FUZZ_CHECK(pd_scan_run(sc, &src) == PD_OK);
    char *csv = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&csv, &len);
    FUZZ_CHECK(f != NULL);
    FUZZ_CHECK(pd_scan_write_csv(sc, &src, PD_CSV_CLUSTERS | (safe ? PD_CSV_SAFE : 0), f) == PD_OK);
    fclose(f);
    check_report(csv, len, doc, size, safe, kind);
    free(csv);
    pd_scan_free(sc);
    return 0;
}
