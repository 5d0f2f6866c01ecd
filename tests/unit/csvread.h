/* csvread.h - read CSV bytes through pd_read_csv() into a fresh pd_files,
 * with the fast path for plain rows or with libcsv alone, and write down
 * what came out (each document's record line, name and text, and what was
 * said), for test_csv and fuzz_csvread to compare the two. */
#ifndef PD_CSVREAD_H
#define PD_CSVREAD_H

#include "internal.h"

#include <stdio.h>
#include <stdlib.h>

static char said[1 << 16];
static unsigned broken; /* set-up or reads that failed: checked once, at the end */

static void diag(void *ctx, const char *doc, uint64_t line, const char *msg)
{
    (void)ctx, (void)doc;
    size_t n = strlen(said);
    snprintf(said + n, sizeof said - n, "%llu: %s\n", (unsigned long long)line, msg);
}

static void put(pd_buf *b, const char *s, size_t n)
{
    if (pd_buf_reserve(b, b->len + n + 1) != PD_OK)
        abort();
    memcpy(b->data + b->len, s, n);
    b->len += n;
}
static void put_str(pd_buf *b, const char *s)
{
    put(b, s, strlen(s));
}

/* Read csv through pd_read_csv() into a fresh pd_files: what it said, and
 * its documents (name, record line, text) in `docs`. */
static uint32_t read_csv(const pd_buf *csv, char delim, bool fast, const char *dummy,
                         pd_buf *docs, pd_buf *msgs)
{
    pd_files *fs;
    if (pd_files_new(NULL, diag, NULL, &fs) != PD_OK)
        abort();
    broken += pd_files_add(fs, dummy) != PD_OK; /* file 0, an empty text */
    said[0] = 0;
    pd_instream *in;
    broken += pd_instream_open_mem(csv->data, csv->len, &in) != PD_OK;
    pd_status st = pd_read_csv(fs, 0, in, delim, fast);
    pd_instream_close(in);
    broken += pd_files_flush(fs) != PD_OK;
    pd_source src = pd_files_source(fs);
    docs->len = 0;
    char head[64];
    snprintf(head, sizeof head, "status %d, %u docs\n", (int)st, src.n_docs);
    put_str(docs, head);
    for (uint32_t d = 1; d < src.n_docs; d++) {
        const char *file, *data;
        uint64_t line;
        size_t len;
        src.origin(src.ctx, d, &file, &line);
        snprintf(head, sizeof head, "%llu ", (unsigned long long)line);
        put_str(docs, head);
        put_str(docs, src.name(src.ctx, d));
        put_str(docs, ": ");
        if (src.map(src.ctx, d, &data, &len) != PD_OK) {
            broken++;
            continue;
        }
        put(docs, data, len);
        src.unmap(src.ctx, d, data, len);
        put_str(docs, "\n");
    }
    msgs->len = 0;
    put_str(msgs, said);
    pd_files_free(fs);
    return src.n_docs - 1;
}

static bool same(const pd_buf *a, const pd_buf *b)
{
    return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

#endif
