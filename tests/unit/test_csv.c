/* test_csv.c - CSV records: the reader's fast path for plain rows gives the
 * documents, the record lines and the messages that libcsv alone gives, on
 * generated CSV of every kind of field, line end, blank line, stray quote
 * and delimiter, small and cut by the reader's 64 KB blocks. */
#include "check.h"
#include "csvread.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static uint32_t rnd(uint64_t *x)
{
    *x = *x * 6364136223846793005u + 1442695040888963407u;
    return (uint32_t)(*x >> 33);
}

static const char *const line_ends[] = {"\n", "\r\n", "\r"};

/* A field: mostly plain (words, quoted text with "" and line ends inside),
 * sometimes what only libcsv reads (a quote with text after it). */
static void field(pd_buf *b, uint64_t *x, char delim)
{
    static const char *const words[] = {"alpha", "beta gamma", "", " padded ", "\t", "x\"y",
                                        "caf\xc3\xa9", "a\0b", "1234"};
    char d[2] = {delim, 0};
    switch (rnd(x) % 8) {
    case 0: case 1: case 2: { /* unquoted */
        const char *w = words[rnd(x) % 9];
        put(b, w, w[0] == 'a' && w[1] == 0 ? 3 : strlen(w));
        break;
    }
    case 3: case 4: case 5: { /* quoted, with what a quote may hold */
        if (rnd(x) % 4 == 0)
            put_str(b, " ");
        put_str(b, "\"");
        for (unsigned k = rnd(x) % 6; k > 0; k--) {
            unsigned c = rnd(x) % 7;
            if (c == 0)
                put_str(b, "\"\"");
            else if (c == 1)
                put_str(b, line_ends[rnd(x) % 3]);
            else if (c == 2)
                put_str(b, d);
            else
                put_str(b, words[rnd(x) % 9]);
        }
        put_str(b, "\"");
        if (rnd(x) % 5 == 0)
            put_str(b, rnd(x) % 2 ? " \t" : " ");
        break;
    }
    case 6: /* a quote with text after it, or a quote alone */
        put_str(b, rnd(x) % 2 ? "\"quoted\"tail" : "\"q\" \"r\"");
        break;
    default: /* a long plain field, to reach the blocks' ends */
        for (unsigned k = rnd(x) % 300; k > 0; k--)
            put_str(b, "words of a longer text ");
        break;
    }
}

static void generate(pd_buf *b, uint64_t seed, size_t size, char delim)
{
    uint64_t x = seed;
    char d[2] = {delim, 0};
    b->len = 0;
    if (rnd(&x) % 8) {
        bool text_first = rnd(&x) % 2;
        put_str(b, text_first ? "text" : "id");
        put_str(b, d);
        put_str(b, text_first ? "id" : "text");
    } else
        put_str(b, "other"); /* no text column: a message, no records */
    put_str(b, line_ends[rnd(&x) % 3]);
    while (b->len < size) {
        unsigned kind = rnd(&x) % 10;
        if (kind == 0) { /* a line libcsv skips */
            put_str(b, rnd(&x) % 2 ? "" : " \t ");
            put_str(b, line_ends[rnd(&x) % 3]);
            continue;
        }
        for (unsigned f = 0, n = 1 + rnd(&x) % 3; f < n; f++) {
            if (f)
                put_str(b, d);
            field(b, &x, delim);
        }
        put_str(b, line_ends[rnd(&x) % 3]);
    }
    if (rnd(&x) % 4 == 0)
        put_str(b, "\"left open");
    else if (rnd(&x) % 4 == 0 && b->len > 0)
        b->len--; /* no final line end */
}

/* Rows whose ends fall on the end of one of the reader's 64 KB blocks (a
 * stream in memory gives them whole): a "\r\n" cut between two blocks, a
 * lone "\r", a closing quote, a "" cut in two. */
static unsigned block_ends(const char *dummy, pd_buf *csv, pd_buf *docs[4])
{
    static const char *const tails[] = {"\r\n", "\rx,y\r\n", "\"\r\n", "\"\"\"\n", "\n\r\n"};
    unsigned differ = 0;
    for (size_t t = 0; t < sizeof tails / sizeof *tails; t++)
        for (size_t shift = 0; shift < 4; shift++) {
            csv->len = 0;
            put_str(csv, "id,text\r\n1,");
            if (tails[t][0] == '"')
                put_str(csv, "\"");
            while (csv->len < 65536 - shift - (tails[t][1] == '"' ? 2 : 1))
                put_str(csv, "w");
            put_str(csv, tails[t]);
            put_str(csv, "2,hello there world\r\n3,hello there world\r\n");
            read_csv(csv, ',', true, dummy, docs[0], docs[1]);
            read_csv(csv, ',', false, dummy, docs[2], docs[3]);
            differ += !same(docs[0], docs[2]) || !same(docs[1], docs[3]);
        }
    return differ;
}

int main(void)
{
    char dummy[] = "/tmp/paradup-test-csv-XXXXXX";
    int fd = mkstemp(dummy);
    CHECK(fd >= 0);
    close(fd);
    pd_buf csv, fast_docs, slow_docs, fast_msgs, slow_msgs;
    pd_buf_init(&csv);
    pd_buf_init(&fast_docs);
    pd_buf_init(&slow_docs);
    pd_buf_init(&fast_msgs);
    pd_buf_init(&slow_msgs);
    static const char delims[] = {',', '\t', ';', ' '};
    unsigned differ = 0, records = 0;
    for (uint64_t seed = 1; seed <= 2000; seed++) {
        char delim = delims[seed % 4];
        size_t size = seed % 50 == 0 ? 200000 : 40 + seed % 1000;
        generate(&csv, seed, size, delim);
        read_csv(&csv, delim, true, dummy, &fast_docs, &fast_msgs);
        records += read_csv(&csv, delim, false, dummy, &slow_docs, &slow_msgs);
        if (!(same(&fast_docs, &slow_docs) && same(&fast_msgs, &slow_msgs)) && !differ++)
            fprintf(stderr, "seed %llu: the fast path reads it otherwise\n--- fast\n%.*s%.*s"
                            "--- libcsv\n%.*s%.*s",
                    (unsigned long long)seed, (int)fast_docs.len, fast_docs.data,
                    (int)fast_msgs.len, fast_msgs.data, (int)slow_docs.len, slow_docs.data,
                    (int)slow_msgs.len, slow_msgs.data);
    }
    fprintf(stderr, "csv: 2000 generated files, %u records, %u read otherwise\n",
            records, differ);
    CHECK(records > 10000);
    CHECK(differ == 0);
    pd_buf *bufs[4] = {&fast_docs, &fast_msgs, &slow_docs, &slow_msgs};
    CHECK(block_ends(dummy, &csv, bufs) == 0);
    CHECK(broken == 0);
    unlink(dummy);
    pd_buf_release(&csv);
    pd_buf_release(&fast_docs);
    pd_buf_release(&slow_docs);
    pd_buf_release(&fast_msgs);
    pd_buf_release(&slow_msgs);
    return check_done("test_csv");
}
