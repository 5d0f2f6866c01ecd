/* fuzz_input.c - the input readers (text, JSONL, CSV, TSV; gzip and zstd by
 * magic bytes) and the whole scan behind them. The first byte picks the
 * format, the threshold and whether verification's profiles go to a
 * temporary file past a budget of one byte; the rest is the file, given to
 * pd_files through an in-memory file. Whatever the bytes, the run must end
 * cleanly: a status, never a crash, and a report that libcsv parses back. */
#define _GNU_SOURCE
#include "fuzz.h"
#include "csvparse.h"
#include "paradup.h"

#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const pd_format formats[] = {PD_FORMAT_TEXT, PD_FORMAT_JSONL, PD_FORMAT_CSV,
                                        PD_FORMAT_CSV};
    pd_input_options in;
    pd_input_options_init(&in);
    in.format = formats[data[0] & 3];
    in.delimiter = (data[0] & 3) == 3 ? '\t' : 0;
    in.text_field = (data[0] & 4) ? "a.b" : "text";
    in.strict = (data[0] & 8) != 0;
    int fd = memfd_create("fuzz", 0);
    FUZZ_CHECK(fd >= 0);
    FUZZ_CHECK(write(fd, data + 1, size - 1) == (ssize_t)(size - 1));
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    pd_files *fs;
    FUZZ_CHECK(pd_files_new(&in, NULL, NULL, &fs) == PD_OK);
    pd_status st = pd_files_add(fs, path);
    FUZZ_CHECK(st == PD_OK || st == PD_EIO || st == PD_EPARSE);
    pd_source src = pd_files_source(fs);
    pd_options o;
    pd_options_init(&o);
    o.threshold = (data[0] & 16) ? 0.5 : 1.0;
    o.threads = 1;
    o.max_unit_bytes = 256;
    o.verify_memory = (data[0] & 32) ? 1 : 0;
    pd_scan *sc;
    FUZZ_CHECK(pd_scan_new(&o, &sc) == PD_OK);
    if (pd_scan_run(sc, &src) == PD_OK) {
        char *csv = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&csv, &len);
        FUZZ_CHECK(f && pd_scan_write_csv(sc, &src, PD_CSV_CLUSTERS, f) == PD_OK);
        fclose(f);
        csv_table t;
        FUZZ_CHECK(csvt_parse(&t, csv, len) == 0);
        for (size_t i = 0; i < t.n_rows; i++)
            FUZZ_CHECK(t.n_fields[i] == 13);
        csvt_free(&t);
        free(csv);
    }
    pd_scan_free(sc);
    pd_files_free(fs);
    close(fd);
    return 0;
}
