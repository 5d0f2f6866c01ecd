/* test_scan.c - the scanner end to end through the library API: exact and
 * near clusters, keep/duplicate, within/across, input order, line numbers
 * across chunk boundaries, determinism across thread counts, a failed
 * document, the report's texts and a document that shrank before the
 * report, texts repeated byte for byte and their variants in the report
 * (over batches, near and exact), the exact table grown while chunks read it,
 * verification's reads, a text signed once by a thread in a batch
 * (in one document and across documents), small
 * documents given back once processed, a chain of near texts measured
 * against its keep row, many clusters placed in parallel (exact and near),
 * verification's profiles on a temporary file, a huge LSH bucket, the pair
 * list, an input of one chunk scanned with no helper thread, and runs of
 * blanks longer than a chunk in lines, paragraphs and sentences (and blank
 * lines of them in hard-wrapped text), read only near their ends. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include "check.h"
#include "internal.h" /* pd_segment_wrap */
#include "memsrc.h"

#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>

static pd_scan *run(memsrc *m, uint32_t n, pd_options *o)
{
    pd_scan *sc;
    if (pd_scan_new(o, &sc) != PD_OK)
        return NULL;
    pd_source src = mem_source(m, n);
    if (pd_scan_run(sc, &src) != PD_OK) {
        fprintf(stderr, "scan: %s\n", pd_scan_errmsg(sc));
        pd_scan_free(sc);
        return NULL;
    }
    return sc;
}

/* Scan one document with the default options on `threads` threads (the
 * source is gone when this returns: rows and statistics only). */
static pd_scan *run_doc(const char *text, unsigned threads)
{
    const char *names[] = {"doc"}, *texts[] = {text};
    memsrc m = {.names = names, .texts = texts};
    pd_options o;
    pd_options_init(&o);
    o.threads = threads;
    return run(&m, 1, &o);
}

/* Rows as "cluster:doc:unit:role:match:scope|". */
static const char *rows(pd_scan *sc)
{
    static char out[8192];
    size_t n = 0;
    out[0] = 0;
    for (size_t i = 0; i < pd_scan_row_count(sc) && n < sizeof out - 64; i++) {
        pd_row r;
        pd_scan_row(sc, i, &r);
        static const char *role[] = {"keep", "dup"}, *match[] = {"", "exact", "near"},
                          *scope[] = {"", "within", "across"};
        n += (size_t)snprintf(out + n, sizeof out - n, "%llu:%u:%u:%s:%s:%s|",
                              (unsigned long long)r.cluster, r.doc, r.unit.index, role[r.role],
                              match[r.match], scope[r.scope]);
    }
    return out;
}

static const char *long_a =
    "The Harbor Bridge, which carries about 40,000 vehicles a day between the port district "
    "and downtown, will close to all traffic for six weeks beginning March 2 while crews "
    "replace worn expansion joints and resurface the deck, city officials said Tuesday.";
static const char *long_b =
    "PORT CITY - The Harbor Bridge, which carries about 40,000 vehicles a day between the port "
    "district and downtown, will close to all traffic for six weeks beginning March 2 while "
    "crews replace worn expansion joints and resurface the deck, city officials said Tuesday.";

static void test_clusters(void)
{
    char d0[1024], d1[1024];
    snprintf(d0, sizeof d0, "Subscribe now\n%s\nA caption here\nA caption here\nunique zero\n"
                            "Subscribe now!\n", long_a);
    snprintf(d1, sizeof d1, "SUBSCRIBE NOW\nunrelated words in a line\n%s\n", long_b);
    const char *names[] = {"d0", "d1"}, *texts[] = {d0, d1};
    memsrc m = {.names = names, .texts = texts};
    pd_options o;
    pd_options_init(&o);
    o.threads = 2;
    pd_scan *sc = run(&m, 2, &o);
    CHECK(sc != NULL);
    if (!sc)
        return;
    CHECK_STR(rows(sc), "1:0:1:keep::|1:0:6:dup:exact:within|1:1:1:dup:exact:across|"
                        "2:0:2:keep::|2:1:3:dup:near:across|"
                        "3:0:3:keep::|3:0:4:dup:exact:within|");
    pd_row r;
    pd_scan_row(sc, 4, &r);
    CHECK(r.similarity > 0.8 && r.similarity < 1.0);
    CHECK(r.unit.line_start == 3 && r.unit.byte_start == 40);
    const pd_stats *st = pd_scan_stats(sc);
    CHECK(st->docs == 2 && st->units == 9 && st->clusters == 3 && st->duplicates == 4);
    CHECK(m.maps == 2 && m.unmaps == 2);

    /* Pairs: each repeat with its first occurrence, and the near pair. */
    CHECK(pd_scan_pair_count(sc) == 4);
    pd_pair p;
    pd_scan_pair(sc, 1, &p);
    CHECK(p.doc_a == 0 && p.a.index == 1 && p.doc_b == 1 && p.b.index == 1 &&
          p.match == PD_MATCH_EXACT && p.scope == PD_SCOPE_ACROSS);
    pd_scan_pair(sc, 2, &p);
    CHECK(p.a.index == 2 && p.doc_b == 1 && p.b.index == 3 && p.match == PD_MATCH_NEAR &&
          p.similarity == r.similarity);
    pd_scan_free(sc);

    /* Exact only: the near pair is gone, the repeats stay. */
    o.threshold = 1.0;
    sc = run(&m, 2, &o);
    CHECK_STR(rows(sc), "1:0:1:keep::|1:0:6:dup:exact:within|1:1:1:dup:exact:across|"
                        "2:0:3:keep::|2:0:4:dup:exact:within|");
    CHECK(pd_scan_stats(sc)->bands == 0);
    pd_scan_free(sc);
}

/* Scan one document that holds one repeat, on `threads` threads: its two
 * rows, the second (the repeat) in *repeat. */
static pd_scan *run_one_repeat(memsrc *m, pd_options *o, unsigned threads, pd_row *repeat)
{
    o->threads = threads;
    pd_scan *sc = run(m, 1, o);
    CHECK(sc && pd_scan_row_count(sc) == 2);
    if (sc)
        pd_scan_row(sc, 1, repeat);
    return sc;
}

/* The rows of a run are those of the first run (*saved, kept on first use). */
static void same_rows(char **saved, pd_scan *sc)
{
    if (!*saved)
        *saved = strdup(rows(sc));
    else
        CHECK_STR(rows(sc), *saved);
}

/* A line of sentences longer than several chunks is read a chunk at a time
 * (the source is told to release what was read), cut where sentences start:
 * the numbers of the units are those of the whole line, whatever the thread
 * count, and whether the source knows its documents' lengths (then each
 * batch is cut while the one before is processed) or not. */
static void test_sentence_chunks(void)
{
    size_t cap = 6u << 20, n = 0;
    char *line = malloc(cap);
    const char *repeat = "The caption repeats here, said Mr. Brown of the U.S. team. ";
    n += (size_t)snprintf(line, cap, "%s", repeat);
    for (unsigned i = 0; n < (5u << 20); i++)
        n += (size_t)snprintf(line + n, cap - n, "Sentence %u tells of Dr. Lee (in the U.S.) and %u. ",
                              i, i * 7919u);
    size_t at = n;
    n += (size_t)snprintf(line + n, cap - n, "%s\n", repeat);
    /* the repeat's number in the whole line */
    pd_segmenter seg;
    pd_unit u;
    uint32_t want = 0;
    pd_segment_init(&seg, line, n, PD_UNIT_SENTENCE);
    while (pd_segment_next(&seg, &u))
        if (u.byte_start == at)
            want = u.index;
    CHECK(want > 50000);
    const char *names[] = {"line"}, *texts[] = {line};
    pd_options o;
    pd_options_init(&o);
    o.unit = PD_UNIT_SENTENCE;
    char *first = NULL;
    for (unsigned run_no = 0; run_no < 6; run_no++) {
        unsigned threads = 1u << (run_no % 3);
        memsrc m = {.names = names, .texts = texts, .known = run_no >= 3};
        pd_row r;
        pd_scan *sc = run_one_repeat(&m, &o, threads, &r);
        if (!sc)
            break;
        CHECK(r.unit.index == want && r.unit.byte_start == at && r.unit.line_start == 1);
        CHECK(m.releases >= 3 && m.max_release < (2u << 20));
        same_rows(&first, sc);
        pd_scan_free(sc);
    }
    free(first);
    free(line);
}

/* Words for generated prose: lower case, capitalized, abbreviations. */
static const char *const prose_words[] = {
    "the", "council", "voted", "on", "a", "budget", "that", "increases", "spending",
    "for", "transit", "by", "percent", "and", "said", "Mayor", "Smith", "Harbor",
    "Bridge", "Mr.", "U.S.", "officials", "would", "begin", "next", "spring", "of",
    "construction", "expected", "to", "take", "years", "March", "Tuesday", "\"we",
    "know\"", "(in", "2019)", "I", "service", "ferry", "commuters", "Port", "City"};

/* Append a paragraph of `sentences` sentences drawn by *seed, wrapped at
 * `width` bytes (the words are ASCII), to out; returns the new length. */
static size_t wrapped_paragraph(char *out, size_t n, uint64_t seed, unsigned sentences,
                                unsigned width, const char *indent)
{
    size_t col = 0;
    uint64_t x = seed;
    for (unsigned s = 0; s < sentences; s++) {
        unsigned words = 6 + (unsigned)(x % 19);
        for (unsigned w = 0; w < words; w++) {
            x = x * 6364136223846793005u + 1442695040888963407u;
            char word[32];
            const char *pick = prose_words[(x >> 33) % (sizeof prose_words / sizeof *prose_words)];
            snprintf(word, sizeof word, "%s%s", pick, w + 1 == words ? "." : "");
            if (w == 0 && word[0] >= 'a' && word[0] <= 'z')
                word[0] = (char)(word[0] - 'a' + 'A');
            size_t len = strlen(word);
            if (col > 0 && col + 1 + len > width) {
                n += (size_t)sprintf(out + n, "\n%s", indent);
                col = 0;
            } else if (col > 0) {
                out[n++] = ' ';
                col++;
            } else if (n == 0 || out[n - 1] == '\n') {
                n += (size_t)sprintf(out + n, "%s", indent);
            }
            memcpy(out + n, word, len);
            n += len;
            col += len;
        }
    }
    out[n++] = '\n';
    return n;
}

/* Is unit u, numbered from 1, the want[u->index - 1] of want[0, n)? */
static bool unit_is(const pd_unit *u, const pd_unit *want, size_t n)
{
    const pd_unit *w = u->index >= 1 && u->index <= n ? &want[u->index - 1] : NULL;
    return w && u->line_start == w->line_start && u->line_end == w->line_end &&
           u->byte_start == w->byte_start && u->byte_end == w->byte_end;
}

/* The rows of a scan of one document whose unit is not its want[] (unit_is). */
static size_t rows_not_units(const pd_scan *sc, const pd_unit *want, size_t n)
{
    size_t bad = 0;
    for (size_t i = 0; i < pd_scan_row_count(sc); i++) {
        pd_row r;
        pd_scan_row(sc, i, &r);
        bad += !unit_is(&r.unit, want, n);
    }
    return bad;
}

/* Units of hard-wrapped text: two documents hold the same paragraphs,
 * wrapped at 72 and at 58 columns (some with no blank line between them,
 * some indented, some far longer than a chunk), after a page of a line a
 * paragraph, each line twice, that does not look wrapped (its units' last
 * lines are kept from the first wrapped chunk on). Each document scans into
 * the units the segmenter finds in it whole, whatever the threads and
 * wherever chunks end (inside a stretch too, for sentences, where the chunk
 * tells its segmenter how the line began). Each sentence then meets its
 * twin, and nothing else; so does each paragraph as a line unit, but where
 * a paragraph with no blank line after it ends on a full line and runs on
 * into the next. */
static void test_wrapped(pd_unit_kind kind)
{
    size_t cap = 12u << 20, n[3] = {0, 0, 0};
    char *doc[3] = {malloc(cap), malloc(cap), malloc(cap)};
    for (unsigned i = 0; n[0] < (2u << 20); i++)
        for (int twice = 0; twice < 2; twice++)
            n[0] += (size_t)sprintf(doc[0] + n[0], "Line %u says one thing. It says %u more.\n",
                                    i, i * 7919u);
    for (uint64_t p = 1; n[1] < (3u << 20); p++) {
        unsigned sentences = p % 29 == 0 ? 9000 : 1 + (unsigned)(p % 7);
        for (int d = 1; d < 3; d++) {
            n[d] = wrapped_paragraph(doc[d], n[d], p * 0x9E3779B97F4A7C15u, sentences,
                                     d == 2 ? 58 : 72, d == 2 && p % 5 == 0 ? "  " : "");
            n[d] += (size_t)sprintf(doc[d] + n[d], p % 3 || d == 2 ? "\n" : "");
        }
    }
    CHECK(pd_segment_wrap(doc[0], n[0]) == 0 && pd_segment_wrap(doc[1], n[1]) == 72 &&
          pd_segment_wrap(doc[2], n[2]) == 58);
    pd_unit *want[3] = {NULL, NULL, NULL};
    size_t units[3] = {0, 0, 0};
    for (int d = 0; d < 3; d++) {
        pd_segmenter seg;
        pd_unit u;
        size_t cap_units = 0;
        pd_segment_init(&seg, doc[d], n[d], kind);
        while (pd_segment_next(&seg, &u)) {
            if (units[d] == cap_units)
                want[d] = realloc(want[d], (cap_units = cap_units * 2 + 1024) * sizeof(pd_unit));
            want[d][units[d]++] = u;
        }
    }
    bool lines = kind == PD_UNIT_LINE;
    CHECK(units[0] > 80000 / (lines ? 2 : 1));
    CHECK(lines ? units[1] > 100 && units[2] > units[1] : units[1] > 30000 && units[1] == units[2]);
    const char *names[] = {"page", "at72", "at58"}, *texts[] = {doc[0], doc[1], doc[2]};
    pd_options o;
    pd_options_init(&o);
    o.unit = kind;
    o.threshold = 1.0;
    for (unsigned threads = 1; threads <= 3; threads++) {
        memsrc m = {.names = names, .texts = texts};
        o.threads = threads;
        pd_scan *sc = run(&m, 3, &o);
        CHECK(sc != NULL);
        if (!sc)
            break;
        const pd_stats *st = pd_scan_stats(sc);
        CHECK(st->units == units[0] + units[1] + units[2]);
        CHECK(lines || (st->clusters == units[0] / 2 + units[1] && pd_scan_row_count(sc) == st->units));
        size_t bad = 0, rows[3] = {0, 0, 0};
        for (size_t i = 0; i < pd_scan_row_count(sc); i++) {
            pd_row r;
            pd_scan_row(sc, i, &r);
            rows[r.doc]++;
            bad += !unit_is(&r.unit, want[r.doc], units[r.doc]) ||
                   (r.role == PD_DUPLICATE &&
                    r.scope != (r.doc ? PD_SCOPE_ACROSS : PD_SCOPE_WITHIN));
        }
        CHECK(bad == 0 && rows[0] == units[0]);
        /* a third of the paragraphs at 72 have no blank line after them */
        CHECK(lines ? rows[1] * 10 >= units[1] * 6 && rows[1] == rows[2]
                    : rows[1] == units[1] && rows[2] == units[2]);
        pd_scan_free(sc);
    }
    for (int d = 0; d < 3; d++) {
        free(want[d]);
        free(doc[d]);
    }
}

/* Append `bytes` of lower-case words drawn by *x (no sentence ends), wrapped
 * at `width` bytes, or on one line when width is 0, then a full stop and a
 * newline. */
static size_t long_run(char *out, size_t n, uint64_t *x, size_t bytes, unsigned width)
{
    static const char *const words[] = {"the", "council", "voted", "on", "a", "budget",
                                        "that", "increases", "spending", "for", "transit",
                                        "and", "said", "officials", "would", "begin"};
    size_t start = n, col = 0;
    while (n - start < bytes) {
        *x = *x * 6364136223846793005u + 1442695040888963407u;
        const char *w = words[(*x >> 33) % (sizeof words / sizeof *words)];
        size_t len = strlen(w);
        if (col > 0) {
            bool wrap = width && col + 1 + len > width;
            out[n++] = wrap ? '\n' : ' ';
            col = wrap ? 0 : col + 1;
        }
        memcpy(out + n, w, len);
        n += len;
        col += len;
    }
    n += (size_t)sprintf(out + n, ".\n");
    return n;
}

/* Units far longer than a chunk in hard-wrapped text (a line of 2.5 MB, a
 * stretch of wrapped lines that long, each one sentence) are read a chunk at
 * a time, the chunks cut at their pieces: no chunk, so no release of the
 * source's bytes, reaches 2 MB (the whole unit did before). The document
 * holds its text twice; each scan, whatever the threads, finds every unit
 * of the whole document, split into the pieces the documented rule gives,
 * and its twin. */
static void test_long_wrapped_units(pd_unit_kind kind)
{
    enum { MAX = 200000 };
    size_t cap = 12u << 20, n = 0;
    char *doc = malloc(cap);
    uint64_t x = 7;
    for (int copy = 0; copy < 2; copy++) {
        for (uint64_t p = 1; p <= 600; p++) {
            n = wrapped_paragraph(doc, n, p * 0x9E3779B97F4A7C15u, 1 + (unsigned)(p % 5), 72, "");
            n += (size_t)sprintf(doc + n, "\n");
            if (p == 300 || p == 500) {
                x = p;
                n = long_run(doc, n, &x, 5u << 19, p == 300 ? 0 : 72);
                n += (size_t)sprintf(doc + n, "\n");
            }
        }
    }
    CHECK(pd_segment_wrap(doc, n) == 72);
    /* The units of the whole document, long ones split into pieces: at most
     * MAX bytes, ending after the last space in a piece's second half. */
    size_t units = 0, cap_units = 0, longest = 0, split = 0;
    pd_unit *want = NULL;
    pd_segmenter seg;
    pd_unit u;
    uint32_t extra = 0;
    pd_segment_init(&seg, doc, n, kind);
    while (pd_segment_next(&seg, &u)) {
        longest = u.byte_end - u.byte_start > longest ? u.byte_end - u.byte_start : longest;
        split += u.byte_end - u.byte_start > MAX;
        for (size_t b = u.byte_start, k = 0; b < u.byte_end; k++) {
            size_t e = b + MAX >= u.byte_end ? u.byte_end : b + MAX, next;
            if (e < u.byte_end) {
                while (e > b + MAX / 2 && doc[e - 1] != ' ' && doc[e - 1] != '\n')
                    e--;
                CHECK(e > b + MAX / 2);
            }
            for (next = e; e > b && (doc[e - 1] == ' ' || doc[e - 1] == '\n');)
                e--;
            while (next < u.byte_end && (doc[next] == ' ' || doc[next] == '\n'))
                next++;
            if (units == cap_units)
                want = realloc(want, (cap_units = cap_units * 2 + 1024) * sizeof *want);
            extra += k > 0;
            pd_unit *w = &want[units++];
            w->index = u.index + extra;
            w->byte_start = b;
            w->byte_end = e;
            w->line_start = u.line_start;
            for (size_t i = u.byte_start; i < b; i++)
                w->line_start += doc[i] == '\n';
            w->line_end = w->line_start;
            for (size_t i = b; i < e; i++)
                w->line_end += doc[i] == '\n';
            b = next;
        }
    }
    CHECK(longest > (5u << 19) && split == 4 && units % 2 == 0 && units > 1200);
    const char *names[] = {"doc"}, *texts[] = {doc};
    pd_options o;
    pd_options_init(&o);
    o.unit = kind;
    o.threshold = 1.0;
    o.max_unit_bytes = MAX;
    for (unsigned threads = 1; threads <= 3; threads++) {
        memsrc m = {.names = names, .texts = texts};
        o.threads = threads;
        pd_scan *sc = run(&m, 1, &o);
        CHECK(sc != NULL);
        if (!sc)
            break;
        CHECK(m.releases > 5 && m.max_release < (2u << 20));
        const pd_stats *st = pd_scan_stats(sc);
        CHECK(st->units == units && st->units_split == split && pd_scan_row_count(sc) == units);
        CHECK(rows_not_units(sc, want, units) == 0 && pd_scan_stats(sc)->clusters == units / 2);
        pd_scan_free(sc);
    }
    free(want);
    free(doc);
}

/* A document larger than a chunk: unit numbers and lines run on across the
 * chunk boundaries, whatever the thread count. */
static void test_chunks(void)
{
    size_t cap = 4u << 20, n = 0;
    char *big = malloc(cap);
    unsigned lines = 0;
    while (n < (3u << 20)) {
        n += (size_t)snprintf(big + n, cap - n, "line %u says something unique %u\n\n", lines,
                              lines * 7919u);
        lines++;
    }
    n += (size_t)snprintf(big + n, cap - n, "line 5 says something unique %u\n", 5u * 7919u);
    const char *names[] = {"big"}, *texts[] = {big};
    memsrc m = {.names = names, .texts = texts};
    pd_options o;
    pd_options_init(&o);
    char *saved = NULL;
    for (unsigned threads = 1; threads <= 4; threads *= 2) {
        o.unit = PD_UNIT_LINE;
        pd_row r;
        pd_scan *sc = run_one_repeat(&m, &o, threads, &r);
        if (!sc)
            break;
        CHECK(r.unit.index == lines + 1 && r.unit.line_start == 2 * lines + 1);
        CHECK(pd_scan_stats(sc)->units == lines + 1);
        same_rows(&saved, sc);
        pd_scan_free(sc);
    }
    /* Paragraph chunks end at blank lines: same numbering. */
    o.unit = PD_UNIT_PARAGRAPH;
    pd_scan *sc = run(&m, 1, &o);
    pd_row r;
    pd_scan_row(sc, 1, &r);
    CHECK(r.unit.index == lines + 1 && r.unit.line_start == 2 * lines + 1);
    pd_scan_free(sc);
    free(saved);
    free(big);
}

/* A source whose read() always fails. */
static pd_status failing_read(void *ctx, uint32_t doc, uint64_t off, size_t len, char *buf)
{
    (void)ctx, (void)doc, (void)off, (void)len, (void)buf;
    return PD_EIO;
}

/* Chunks of a large document are cut after the newline (or the blank line,
 * for paragraphs) that follows each megabyte, looked for in a few KB read
 * with read() and, beyond those, in the document's pages: lines of 1 to 40
 * KB, each there twice, are all found at their lines and bytes, on 1, 2
 * and 4 threads, with units of any length, and the same when read() fails
 * (then the chunks are read where they lie, as is every newline); as
 * paragraphs, a blank line after each, and as sentences (a line with no
 * stop is one), the same. */
static void test_chunks_long_lines(pd_unit_kind kind)
{
    enum { LINES = 150, STEP = 41 };
    unsigned gap = kind == PD_UNIT_PARAGRAPH ? 2 : 1; /* newlines after each */
    size_t cap = 16u << 20, n = 0, *start = malloc(2 * LINES * sizeof *start);
    char *big = malloc(cap);
    for (unsigned half = 0; half < 2; half++)
        for (unsigned i = 0; i < LINES; i++) {
            size_t len = 1000 + (size_t)(i * STEP % 111) * 350; /* 1,000 to 39,500 */
            start[half * LINES + i] = n;
            n += (size_t)snprintf(big + n, cap - n, "line %u:", i);
            for (unsigned w = 0; n < start[half * LINES + i] + len; w++)
                n += (size_t)snprintf(big + n, cap - n, " w%u", (w * 7919u + i) % 100000u);
            for (unsigned k = 0; k < gap; k++)
                big[n++] = '\n';
        }
    big[n] = 0;
    CHECK(n > (3u << 20)); /* several chunks */
    const char *names[] = {"big"}, *texts[] = {big};
    memsrc m = {.names = names, .texts = texts};
    pd_options o;
    pd_options_init(&o);
    o.threshold = 1.0;
    o.unit = kind;
    char *saved = NULL;
    /* threads, read() fails, units of any length (--max-unit-bytes 0) */
    static const struct {
        unsigned threads;
        bool fail, unlimited;
    } runs[] = {{1, false, false}, {2, false, false}, {4, false, false},
                {2, true, false},  {2, false, true},  {2, true, true}};
    for (size_t k = 0; k < sizeof runs / sizeof *runs; k++) {
        o.threads = runs[k].threads;
        o.max_unit_bytes = runs[k].unlimited ? 0 : PD_MAX_UNIT_BYTES;
        pd_source src = mem_source(&m, 1);
        if (runs[k].fail)
            src.read = failing_read;
        pd_scan *sc;
        if (pd_scan_new(&o, &sc) != PD_OK || pd_scan_run(sc, &src) != PD_OK) {
            CHECK(!"scan");
            break;
        }
        size_t rows = pd_scan_row_count(sc), right = 0;
        CHECK(rows == 2 * LINES);
        for (size_t i = 0; i < rows; i++) {
            pd_row r;
            pd_scan_row(sc, i, &r);
            size_t u = r.unit.index - 1;
            right += u < 2 * LINES && r.unit.line_start == gap * u + 1 &&
                     r.unit.line_end == gap * u + 1 && r.unit.byte_start == start[u] &&
                     r.unit.byte_end == (u + 1 < 2 * LINES ? start[u + 1] : n) - gap &&
                     r.role == (u < LINES ? PD_KEEP : PD_DUPLICATE);
        }
        CHECK(right == rows);
        same_rows(&saved, sc);
        pd_scan_free(sc);
    }
    free(saved);
    free(start);
    free(big);
}

/* A hard-wrapped document of several chunks, its paragraphs each there
 * twice (some indented, some with no blank line after them): chunks end
 * after a line that does not run on, found in a window read with read()
 * (or, when the window does not tell, in the document's pages). Every unit
 * is the one the segmenter finds in the whole document, on 1, 2 and 4
 * threads, and when read() fails. */
static void test_chunks_wrapped(pd_unit_kind kind)
{
    size_t cap = 8u << 20, n = 0;
    char *doc = malloc(cap);
    for (int copy = 0; copy < 2; copy++)
        for (uint64_t p = 1; n < (size_t)(copy + 1) * (3u << 19); p++) {
            n = wrapped_paragraph(doc, n, p * 0x9E3779B97F4A7C15u, 1 + (unsigned)(p % 5), 72,
                                  p % 7 == 0 ? "    " : "");
            if (p % 3 != 0)
                doc[n++] = '\n';
        }
    doc[n] = 0;
    CHECK(pd_segment_wrap(doc, n) > 0 && n > (3u << 20)); /* it looks wrapped */
    size_t units = 0, cap_units = 0;
    pd_unit *want = NULL, u;
    pd_segmenter seg;
    pd_segment_init(&seg, doc, n, kind);
    while (pd_segment_next(&seg, &u)) {
        if (units == cap_units)
            want = realloc(want, (cap_units = cap_units * 2 + 1024) * sizeof *want);
        want[units++] = u;
    }
    const char *names[] = {"doc"}, *texts[] = {doc};
    pd_options o;
    pd_options_init(&o);
    o.unit = kind;
    o.threshold = 1.0;
    for (unsigned k = 0; k < 4; k++) {
        memsrc m = {.names = names, .texts = texts};
        pd_source src = mem_source(&m, 1);
        if (k == 3)
            src.read = failing_read;
        o.threads = k == 3 ? 2 : 1u << k;
        pd_scan *sc;
        if (pd_scan_new(&o, &sc) != PD_OK || pd_scan_run(sc, &src) != PD_OK) {
            CHECK(!"scan");
            break;
        }
        size_t rows = pd_scan_row_count(sc);
        CHECK(pd_scan_stats(sc)->units == units && rows > units / 2 &&
              rows_not_units(sc, want, units) == 0);
        pd_scan_free(sc);
    }
    free(want);
    free(doc);
}

/* One unreadable document is skipped; strict mode stops. Both when it is
 * mapped ahead and when, its length known, its chunk's thread maps it. */
static void test_failed_doc(void)
{
    const char *names[] = {"a", "gone", "b"}, *texts[] = {"same line\n", NULL, "same line\n"};
    for (int known = 0; known < 2; known++) {
        memsrc m = {.names = names, .texts = texts, .known = known};
        pd_options o;
        pd_options_init(&o);
        pd_scan *sc = run(&m, 3, &o);
        CHECK(sc && pd_scan_row_count(sc) == 2 && pd_scan_stats(sc)->docs_failed == 1);
        CHECK(sc && pd_scan_stats(sc)->docs == 2 && m.mapped == 0);
        pd_scan_free(sc);
        o.strict = 1;
        pd_scan *strict;
        CHECK(pd_scan_new(&o, &strict) == PD_OK);
        pd_source src = mem_source(&m, 3);
        CHECK(pd_scan_run(strict, &src) == PD_EIO);
        CHECK_STR(pd_scan_errmsg(strict), "cannot read 'gone'");
        pd_scan_free(strict);
    }
}

/* The report reads the rows' texts again: they come out as they are in
 * the source, and a document that got shorter since the scan is named. */
static void test_report_reads(void)
{
    const char *names[] = {"a", "b"};
    const char *texts[] = {"Subscribe now!\nfirst story\nSubscribe now!\n",
                           "other story\n\"Subscribe\" now\n"};
    memsrc m = {.names = names, .texts = texts};
    pd_options o;
    pd_options_init(&o);
    o.threshold = 1.0;
    pd_scan *sc = run(&m, 2, &o);
    CHECK(sc && pd_scan_row_count(sc) == 3);
    pd_source src = mem_source(&m, 2);
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    CHECK(f && sc && pd_scan_write_csv(sc, &src, 0, f) == PD_OK);
    fclose(f);
    CHECK(out && strstr(out, ",\"Subscribe now!\",") && strstr(out, ",\"\"\"Subscribe\"\" now\","));
    free(out);
    m.len_cache[1] = 5; /* b is now shorter than its rows */
    f = fopen("/dev/null", "w");
    CHECK(f && sc && pd_scan_write_csv(sc, &src, 0, f) == PD_EIO);
    CHECK(sc && strstr(pd_scan_errmsg(sc), "cannot read 'b' again"));
    fclose(f);
    pd_scan_free(sc);
}

/* The report of one document: its CSV text, to be freed. */
static char *report_of(memsrc *m, pd_options *o)
{
    pd_scan *sc = run(m, 1, o);
    pd_source src = mem_source(m, 1);
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    CHECK(f && sc && pd_scan_write_csv(sc, &src, 0, f) == PD_OK);
    if (f)
        fclose(f);
    pd_scan_free(sc);
    return out;
}

/* Row fields of a report line, unquoted in place: how many were found. */
static int csv_fields(char *line, char **field, int max)
{
    int n = 0;
    for (char *p = line; *p == '"' && n < max;) {
        char *w = ++p;
        field[n++] = w;
        for (; *p && !(p[0] == '"' && p[1] != '"'); p++)
            *w++ = p[0] == '"' ? *++p : *p;
        if (*p)
            p++;
        *w = 0;
        if (*p == ',')
            p++;
    }
    return n;
}

/* Each row of a report shows its own unit's bytes (lines[unit - 1], its
 * lines joined for a paragraph); returns the rows checked. */
static size_t rows_show_units(char *csv, const char *const *lines, size_t n_lines)
{
    size_t rows = 0, bad = 0;
    char *save = NULL;
    strtok_r(csv, "\n", &save); /* the header */
    for (char *line; (line = strtok_r(NULL, "\n", &save)) != NULL; rows++) {
        char *f[13];
        unsigned long unit = csv_fields(line, f, 13) == 13 ? strtoul(f[2], NULL, 10) : 0;
        if (unit == 0 || unit > n_lines || strcmp(f[11], lines[unit - 1]) != 0)
            bad++;
    }
    CHECK(bad == 0);
    return rows;
}

/* The report reads the bytes of a text's first unit once a block for all the
 * rows that repeat them, while variants of it (case, quotes, spacing: the
 * same normalized text, other bytes) show their own bytes: lines over three
 * blocks of rows, and paragraphs over several read jobs, joined; a banner
 * repeated 20,000 times is read once. */
static void test_report_repeats(void)
{
    static const char *const variants[] = {
        "Subscribe now for full access!", "SUBSCRIBE NOW FOR FULL ACCESS!",
        "Subscribe now for full access!", "\"Subscribe now\" for full access!",
        "Subscribe  now for full access!", "subscribe now for full access",
        "\xe2\x80\x9cSubscribe now\xe2\x80\x9d for full access!"};
    enum { LINES = 150000, N_VAR = sizeof variants / sizeof *variants };
    static const char *lines[LINES];
    char *text = malloc((size_t)LINES * 40), *p = text;
    CHECK(text != NULL);
    if (!text)
        return;
    for (size_t i = 0; i < LINES; i++) {
        lines[i] = variants[(i * 5 + i / 7) % N_VAR];
        p += sprintf(p, "%s\n", lines[i]);
    }
    const char *names[] = {"doc"}, *texts[] = {text};
    memsrc m = {.names = names, .texts = texts};
    pd_options o;
    pd_options_init(&o);
    /* 4.5 MB: two or three batches, so later batches meet texts known from
     * earlier ones, which exact mode finds in the merge and near mode in the
     * workers; the rows are the same either way. */
    char *one = NULL;
    for (unsigned run_no = 0; run_no < 4; run_no++) {
        o.threads = run_no % 2 + 1;
        o.threshold = run_no < 2 ? 0.8 : 1.0;
        char *csv = report_of(&m, &o);
        CHECK(csv != NULL);
        if (run_no == 0 && csv)
            one = strdup(csv);
        else
            CHECK(csv && one && strcmp(csv, one) == 0);
        CHECK(csv && rows_show_units(csv, lines, LINES) == LINES);
        free(csv);
    }
    free(one);
    o.threshold = 0.8;
    /* Paragraphs of two lines, re-indented in some: joined once, shown
     * joined by every row that repeats them. */
    static const char *const paras[] = {"Photo: the harbor\nat dawn", "Photo: the harbor\n  at dawn",
                                        "PHOTO: THE HARBOR\nAT DAWN"};
    static const char *const joined[] = {"Photo: the harbor at dawn", "Photo: the harbor at dawn",
                                         "PHOTO: THE HARBOR AT DAWN"};
    enum { PARAS = 3000 };
    static const char *shown[PARAS];
    p = text;
    for (size_t i = 0; i < PARAS; i++) {
        size_t v = (i * 7 + i / 5) % 3;
        shown[i] = joined[v];
        p += sprintf(p, "%s\n\n", paras[v]);
    }
    o.threads = 2;
    o.unit = PD_UNIT_PARAGRAPH;
    char *csv = report_of(&m, &o);
    CHECK(csv && rows_show_units(csv, shown, PARAS) == PARAS);
    free(csv);
    static const char *banner[20000];
    p = text;
    for (size_t i = 0; i < 20000; i++)
        p += sprintf(p, "%s\n", banner[i] = "Subscribe now!");
    p += sprintf(p, "The story itself.\n");
    o.unit = PD_UNIT_LINE;
    o.threshold = 1.0; /* no verification: only the report reads */
    m.ranged = true;
    csv = report_of(&m, &o);
    CHECK(csv && rows_show_units(csv, banner, 20000) == 20000);
    CHECK(m.ranges_read == 1);
    free(csv);
    free(text);
}

/* The first pass streams chunks to the threads across batches: with its
 * length known, a document's next batch is processed while one is merged,
 * and the exact table grows between batches. 80,000 texts of eight random
 * words, each on three lines spread over 14 MB, give a cluster each, and
 * the same report at every thread count, the length known or not. */
static void test_stream(void)
{
    enum { TEXTS = 80000, REPEATS = 3, LINES = TEXTS * REPEATS, WORDS = 8 };
    char *text = malloc((size_t)LINES * (WORDS * 7 + 1) + 1), *p = text;
    CHECK(text != NULL);
    if (!text)
        return;
    for (size_t i = 0; i < LINES; i++) {
        uint64_t k = i * 7919 % TEXTS, state = k; /* 7919 is prime: each text thrice */
        for (int w = 0; w < WORDS; w++)
            p += sprintf(p, "%sw%05u", w ? " " : "", (unsigned)(pd_splitmix64(&state) % 100000));
        *p++ = '\n';
    }
    *p = 0;
    const char *names[] = {"stream"}, *texts[] = {text};
    uint64_t first = 0;
    for (unsigned run_no = 0; run_no < 6; run_no++) {
        memsrc m = {.names = names, .texts = texts, .known = run_no % 2 == 1};
        pd_options o;
        pd_options_init(&o);
        o.threads = 1 + run_no / 2;
        pd_scan *sc = run(&m, 1, &o);
        CHECK(sc != NULL);
        if (!sc)
            break;
        const pd_stats *st = pd_scan_stats(sc);
        CHECK(st->units == LINES && st->distinct == TEXTS);
        CHECK(st->clusters == TEXTS && st->duplicates == LINES - TEXTS);
        /* every row: line i holds text i * 7919 mod TEXTS, so a text's three
         * lines lie TEXTS apart; a digest of the rows is the same every run */
        uint64_t digest = 0;
        size_t bad = 0;
        for (size_t i = 0; i < pd_scan_row_count(sc); i++) {
            pd_row r;
            pd_scan_row(sc, i, &r);
            size_t keep = i - i % REPEATS; /* its cluster's first row */
            pd_row k;
            pd_scan_row(sc, keep, &k);
            bad += r.cluster != i / REPEATS + 1 ||
                   r.unit.index != k.unit.index + (i % REPEATS) * TEXTS ||
                   r.role != (i == keep ? PD_KEEP : PD_DUPLICATE) ||
                   (i != keep && (r.match != PD_MATCH_EXACT || r.scope != PD_SCOPE_WITHIN));
            digest = digest * 31 + r.unit.index;
        }
        CHECK(bad == 0);
        CHECK(run_no == 0 ? (first = digest) != 0 : digest == first);
        pd_scan_free(sc);
    }
    free(text);
}

/* The exact table grows while chunks look up in it: a larger one is built
 * beside it, and the old one is kept until the chunks begun before are done.
 * The first 5 MB are 100 long lines said again and again, so the table is
 * not sized ahead for what follows: 100,000 texts of eight random words,
 * each on two lines 100,000 lines (5.7 MB) apart, where the table grows from
 * batch to batch. Every thread count, and exact mode, finds each
 * text's two lines, and nothing else, in the same rows. */
static void test_table_grows(void)
{
    enum { FEW = 100, FEW_LINES = 10000, FILLER = 20, TEXTS = 100000, WORDS = 8 };
    static const char filler[] = " and the same words again";
    size_t few_len = 40 + FILLER * (sizeof filler - 1);
    char *text = malloc((size_t)FEW_LINES * few_len + (size_t)TEXTS * 2 * (WORDS * 7 + 1) + 1),
         *p = text;
    CHECK(text != NULL);
    if (!text)
        return;
    for (size_t i = 0; i < FEW_LINES; i++) {
        p += sprintf(p, "a line said often, number %03u", (unsigned)(i % FEW));
        for (int f = 0; f < FILLER; f++)
            p += sprintf(p, "%s", filler);
        *p++ = '\n';
    }
    for (size_t i = 0; i < (size_t)TEXTS * 2; i++) {
        uint64_t state = i % TEXTS + 1000;
        for (int w = 0; w < WORDS; w++)
            p += sprintf(p, "%sw%05u", w ? " " : "", (unsigned)(pd_splitmix64(&state) % 100000));
        *p++ = '\n';
    }
    *p = 0;
    const char *names[] = {"grows"}, *texts[] = {text};
    uint64_t first = 0;
    for (unsigned run_no = 0; run_no < 4; run_no++) {
        memsrc m = {.names = names, .texts = texts, .known = true};
        pd_options o;
        pd_options_init(&o);
        o.threads = run_no < 3 ? 1u << run_no : 2;
        o.threshold = run_no < 3 ? 0.8 : 1.0; /* exact mode: no chunk looks up */
        pd_scan *sc = run(&m, 1, &o);
        CHECK(sc != NULL);
        if (!sc)
            break;
        const pd_stats *st = pd_scan_stats(sc);
        CHECK(st->units == FEW_LINES + 2 * TEXTS && st->distinct == FEW + TEXTS);
        CHECK(st->clusters == FEW + TEXTS);
        /* the long lines' clusters come first; then text k's cluster holds
         * lines FEW_LINES + k + 1 and FEW_LINES + TEXTS + k + 1, exact */
        uint64_t digest = 0;
        size_t bad = 0, rows = pd_scan_row_count(sc);
        CHECK(rows == FEW_LINES + 2 * TEXTS);
        for (size_t i = FEW_LINES; i < rows; i++) {
            pd_row r;
            pd_scan_row(sc, i, &r);
            size_t k = (i - FEW_LINES) / 2;
            bool keep = (i - FEW_LINES) % 2 == 0;
            bad += r.cluster != FEW + k + 1 ||
                   r.unit.index != FEW_LINES + k + 1 + (keep ? 0 : TEXTS) ||
                   r.role != (keep ? PD_KEEP : PD_DUPLICATE) ||
                   (!keep && r.match != PD_MATCH_EXACT);
            digest = digest * 31 + r.unit.index;
        }
        CHECK(bad == 0);
        CHECK(run_no == 0 ? (first = digest) != 0 : digest == first);
        pd_scan_free(sc);
    }
    free(text);
}

/* Verification reads the candidates' texts again, span by span: pairs of
 * near variants a megabyte or more apart in a 3 MB document are all found,
 * whatever the thread count, and a source that cannot read is named. */
static void test_verify_reads(void)
{
    enum { PAIRS = 40 };
    size_t cap = 4u << 20, n = 0;
    char *doc = malloc(cap);
    for (unsigned i = 0; n < (3u << 20); i++) {
        /* sentence k at line 100 + 500k as it is, and at line 40000 + 500k
         * (1.6 MB on) a word longer */
        unsigned k = (i - 100) / 500, far = i >= 40000;
        if (far)
            k = (i - 40000) / 500;
        if (i >= 100 && (i - 100) % 500 == 0 && k < PAIRS)
            n += (size_t)snprintf(doc + n, cap - n,
                                  "story %u alpha%u bravo%u charlie%u delta%u echo%u foxtrot%u "
                                  "golf%u hotel%u india%u juliet%u kilo%u lima%u mike%u "
                                  "november%u oscar%u papa%u quebec%u romeo%u sierra%u%s\n",
                                  k, k, k, k, k, k, k, k, k, k, k, k, k, k, k, k, k, k, k, k,
                                  far ? " tango" : "");
        else
            n += (size_t)snprintf(doc + n, cap - n, "filler %u with words %u and %u\n", i,
                                  i * 7919u, i * 104729u);
    }
    const char *names[] = {"big"}, *texts[] = {doc};
    memsrc m = {.names = names, .texts = texts};
    pd_options o;
    pd_options_init(&o);
    char *saved = NULL;
    for (unsigned threads = 1; threads <= 4; threads *= 2) {
        o.threads = threads;
        pd_scan *sc = run(&m, 1, &o);
        CHECK(sc && pd_scan_stats(sc)->clusters == PAIRS && pd_scan_row_count(sc) == 2 * PAIRS);
        size_t near = 0;
        for (size_t i = 0; sc && i < pd_scan_row_count(sc); i++) {
            pd_row r;
            pd_scan_row(sc, i, &r);
            near += r.role == PD_DUPLICATE && r.match == PD_MATCH_NEAR && r.unit.index >= 40001;
        }
        CHECK(near == PAIRS); /* each longer copy, a near duplicate */
        if (sc)
            same_rows(&saved, sc);
        pd_scan_free(sc);
    }
    pd_scan *sc;
    CHECK(pd_scan_new(&o, &sc) == PD_OK);
    pd_source src = mem_source(&m, 1);
    src.read = failing_read;
    CHECK(pd_scan_run(sc, &src) == PD_EIO);
    CHECK(strstr(pd_scan_errmsg(sc), "cannot read 'big' again") != NULL);
    pd_scan_free(sc);
    free(saved);
    free(doc);
}

/* A text met again in its chunk is signed once: the banner and the long
 * line repeated 50 times, each then has one signature, and the near variant
 * at the end still finds the long line by its first occurrence's keys. */
static void test_signed_once(void)
{
    size_t cap = 50 * 400 + 1024, n = 0;
    char *doc = malloc(cap);
    for (unsigned i = 0; i < 50; i++)
        n += (size_t)snprintf(doc + n, cap - n, "Subscribe now\n%s\nline %u of words\n", long_a,
                              i);
    snprintf(doc + n, cap - n, "%s\n", long_b);
    for (unsigned threads = 1; threads <= 2; threads++) {
        pd_scan *sc = run_doc(doc, threads);
        CHECK(sc != NULL);
        if (!sc)
            break;
        const pd_stats *st = pd_scan_stats(sc);
        CHECK(st->units == 151 && st->distinct == 53);
        CHECK(st->signatures == st->distinct);
        CHECK(st->clusters == 2 && st->duplicates == 99);
        pd_row r;
        pd_scan_row(sc, pd_scan_row_count(sc) - 1, &r);
        CHECK(r.unit.index == 151 && r.match == PD_MATCH_NEAR && r.cluster == 2);
        pd_scan_free(sc);
    }
    free(doc);
}

/* The same across documents: 60 small ones (a chunk each, one batch) that
 * repeat a banner and a paragraph. A thread signs each text once in a batch,
 * so one thread signs the 63 distinct texts, two sign each repeat at most
 * once more; the near variant in the last document is still found. */
static void test_signed_once_across_docs(void)
{
    enum { DOCS = 60 };
    static char docs[DOCS][1024];
    const char *names[DOCS], *texts[DOCS];
    for (unsigned i = 0; i < DOCS; i++) {
        snprintf(docs[i], sizeof docs[i], "Subscribe now\n%s\nline %u of words\n%s\n", long_a,
                 i, i == DOCS - 1 ? long_b : "");
        names[i] = texts[i] = docs[i];
    }
    size_t lens[DOCS];
    for (unsigned i = 0; i < DOCS; i++)
        lens[i] = strlen(docs[i]);
    memsrc m = {.names = names, .texts = texts, .lens = lens};
    pd_options o;
    pd_options_init(&o);
    for (unsigned threads = 1; threads <= 2; threads++) {
        o.threads = threads;
        pd_scan *sc = run(&m, DOCS, &o);
        CHECK(sc != NULL);
        if (!sc)
            break;
        const pd_stats *st = pd_scan_stats(sc);
        CHECK(st->units == 3 * DOCS + 1 && st->distinct == DOCS + 3);
        if (st->signatures > st->distinct + 2 * (threads - 1))
            fprintf(stderr, "%u threads: %llu signatures of %llu texts\n", threads,
                    (unsigned long long)st->signatures, (unsigned long long)st->distinct);
        CHECK(st->signatures <= st->distinct + 2 * (threads - 1));
        CHECK(st->clusters == 2 && st->duplicates == 2 * (DOCS - 1) + 1);
        pd_scan_free(sc);
    }
}

/* 200,000 near-variants of one banner share LSH buckets: pairs stay O(n). */
static void test_huge_bucket(void)
{
    enum { N = 200000 };
    size_t cap = (size_t)N * 96, n = 0;
    char *doc = malloc(cap);
    for (unsigned i = 0; i < N; i++) {
        if (i % 4 == 3)
            n += (size_t)snprintf(doc + n, cap - n, "noise %u %u %u\n", i, i * 31u, i * 97u);
        else
            n += (size_t)snprintf(doc + n, cap - n,
                                  "Subscribe now to the Daily Ledger for just one dollar a week "
                                  "with offer code %u\n", i);
    }
    const char *names[] = {"banners"}, *texts[] = {doc};
    memsrc m = {.names = names, .texts = texts};
    pd_options o;
    pd_options_init(&o);
    pd_scan *sc = run(&m, 1, &o);
    CHECK(sc != NULL);
    if (sc) {
        const pd_stats *st = pd_scan_stats(sc);
        printf("huge bucket: %llu units, %llu candidates, %llu clusters\n",
               (unsigned long long)st->units, (unsigned long long)st->candidates,
               (unsigned long long)st->clusters);
        CHECK(st->clusters == 1 && st->duplicates == N / 4 * 3 - 1);
        CHECK(st->candidates <= 2ull * N * st->bands);
    }
    pd_scan_free(sc);
    free(doc);
}

static void test_options(void)
{
    pd_options o;
    pd_options_init(&o);
    const char *why;
    CHECK(pd_options_check(&o, &why) == PD_OK && why == NULL);
    o.threshold = 0;
    CHECK(pd_options_check(&o, &why) == PD_EINVAL && why != NULL);
    o.threshold = 0.8;
    o.bands = 20;
    CHECK(pd_options_check(&o, &why) == PD_EINVAL);
    o.rows = 7;
    CHECK(pd_options_check(&o, &why) == PD_EINVAL); /* 140 > 128 */
    o.rows = 6;
    CHECK(pd_options_check(&o, &why) == PD_OK);
    pd_scan *sc;
    o.shingle = 65;
    CHECK(pd_scan_new(&o, &sc) == PD_EINVAL && sc == NULL);
    CHECK(pd_shingle_default(PD_UNIT_LINE) == 3 && pd_shingle_default(PD_UNIT_PARAGRAPH) == 3 &&
          pd_shingle_default(PD_UNIT_SENTENCE) == 2);
    CHECK(strcmp(pd_strerror(PD_ENOMEM), "out of memory") == 0);
    CHECK(strcmp(pd_version(), PD_VERSION_STRING) == 0);
    char v[32]; /* the numbers say what the string says */
    snprintf(v, sizeof v, "%d.%d.%d", PD_VERSION_MAJOR, PD_VERSION_MINOR, PD_VERSION_PATCH);
    CHECK(strcmp(v, PD_VERSION_STRING) == 0);
}

/* Many one-line documents: each is unmapped as soon as its chunk is
 * processed, so the documents mapped at once are at most one batch being cut
 * (BATCH_CHUNKS in scan.c) and those mapped ahead (PREFETCH), not two
 * batches; when the source knows their lengths, each is mapped by the thread
 * that processes it, so at most one a thread. Every document is still
 * unmapped once, and the repeat found. */
static void test_small_docs_released(void)
{
    enum { DOCS = 12000, ONE_BATCH = 4096, AHEAD = 256 };
    const char **names = malloc(DOCS * sizeof *names), **texts = malloc(DOCS * sizeof *texts);
    char *buf = malloc(DOCS * 48);
    size_t *lens = malloc(DOCS * sizeof *lens);
    if (!names || !texts || !buf || !lens)
        return;
    for (size_t i = 0; i < DOCS; i++) {
        char *t = buf + i * 48;
        int n = i % 1000 == 7 ? snprintf(t, 48, "Subscribe now\n")
                              : snprintf(t, 48, "document %zu says something\n", i);
        lens[i] = (size_t)n;
        names[i] = texts[i] = t;
    }
    for (unsigned run_no = 0; run_no < 4; run_no++) {
        /* With their lengths known, documents are mapped one a thread. */
        unsigned threads = 1 + run_no % 2;
        bool known = run_no >= 2;
        memsrc m = {.names = names, .texts = texts, .lens = lens, .known = known};
        pd_options o;
        pd_options_init(&o);
        o.threads = threads;
        o.threshold = 1.0;
        pd_scan *sc = run(&m, DOCS, &o);
        CHECK(sc != NULL);
        if (!sc)
            continue;
        if (m.max_mapped > ONE_BATCH + AHEAD)
            fprintf(stderr, "%u threads: %d documents mapped at once\n", threads, m.max_mapped);
        CHECK(m.max_mapped <= (known ? (int)threads : ONE_BATCH + AHEAD));
        CHECK(m.maps == DOCS && m.unmaps == DOCS && m.mapped == 0);
        const pd_stats *st = pd_scan_stats(sc);
        CHECK(st->docs == DOCS && st->units == DOCS && st->clusters == 1 && st->duplicates == 11);
        pd_scan_free(sc);
    }
    free(names);
    free(texts);
    free(buf);
    free(lens);
}

/* A ~ B and B ~ C, but A and C are further apart than the threshold: one
 * cluster, whose rows give each member's similarity to the keep row A
 * (35/41 shingles of 3 shared with B, 32/44 with C), not to its partner. */
static void test_chain(void)
{
    char a[512], b[512], c[512];
    size_t na = 0, nb = 0, nc = 0;
    for (int w = 0; w < 40; w++) { /* 40 words: 38 shingles of 3 */
        na += (size_t)snprintf(a + na, sizeof a - na, "w%d ", w);
        nb += (size_t)snprintf(b + nb, sizeof b - nb, w >= 37 ? "b%d " : "w%d ", w);
        nc += (size_t)snprintf(c + nc, sizeof c - nc, w >= 37 ? "b%d " : w < 3 ? "c%d " : "w%d ", w);
    }
    char doc[2048];
    snprintf(doc, sizeof doc, "%s\nsomething else entirely\n%s\n%s\n", a, b, c);
    for (unsigned threads = 1; threads <= 2; threads++) {
        pd_scan *sc = run_doc(doc, threads);
        CHECK(sc != NULL);
        if (!sc)
            continue;
        CHECK_STR(rows(sc), "1:0:1:keep::|1:0:3:dup:near:within|1:0:4:dup:near:within|");
        pd_row r;
        pd_scan_row(sc, 1, &r);
        CHECK(fabs(r.similarity - 35.0 / 41) < 1e-6);
        pd_scan_row(sc, 2, &r);
        CHECK(fabs(r.similarity - 32.0 / 44) < 1e-6); /* below 0.8, said as it is */
        pd_scan_free(sc);
    }
}

/* What a test of many clusters checks of each duplicate row, given its
 * cluster's keep row; ctx is the test's. */
typedef bool member_ok(const pd_row *r, const pd_row *keep, void *ctx);

/* Scan one document at 1, 2 and 4 threads: each time, the clusters must be
 * numbered in order of their keep rows, and each cluster's rows be its keep
 * row, then its duplicates in input order, each one that ok() accepts; the
 * rows must be the same every time. Returns the last run's clusters, and
 * its rows in *rows. */
static uint64_t walk_clusters(const char *doc, pd_options *o, member_ok *ok, void *ctx,
                              size_t *rows)
{
    const char *names[] = {"doc"}, *texts[] = {doc};
    uint64_t first_digest = 0, cluster = 0;
    *rows = 0;
    for (unsigned threads = 1; threads <= 4; threads *= 2) {
        memsrc m = {.names = names, .texts = texts};
        o->threads = threads;
        pd_scan *sc = run(&m, 1, o);
        CHECK(sc != NULL);
        if (!sc)
            return 0;
        size_t bad = 0;
        uint64_t digest = 0, prev_unit = 0;
        pd_row keep = {0};
        cluster = 0;
        *rows = pd_scan_row_count(sc);
        for (size_t i = 0; i < *rows; i++) {
            pd_row r;
            pd_scan_row(sc, i, &r);
            digest = digest * 1000003 + r.cluster * 31 + r.unit.index * 7 + r.role * 3 + r.match;
            if (r.cluster != cluster) { /* a new cluster starts with its keep row */
                bad += r.cluster != cluster + 1 || r.role != PD_KEEP ||
                       (cluster > 0 && r.unit.index <= keep.unit.index);
                cluster = r.cluster;
                keep = r;
            } else {
                bad += r.role != PD_DUPLICATE || r.unit.index <= prev_unit || !ok(&r, &keep, ctx);
            }
            prev_unit = r.unit.index;
        }
        CHECK(bad == 0);
        if (threads == 1)
            first_digest = digest;
        CHECK(digest == first_digest);
        pd_scan_free(sc);
    }
    return cluster;
}

static bool exact_member(const pd_row *r, const pd_row *keep, void *ctx)
{
    PD_UNUSED(keep);
    PD_UNUSED(ctx);
    return r->match == PD_MATCH_EXACT;
}

/* Many clusters over more units than one part of the row placement takes
 * (cluster.c: PART_MIN), of exact repeats (walk_clusters). */
static void test_many_clusters(void)
{
    enum { LINES = 300000, TEXTS = 20000 };
    size_t cap = (size_t)LINES * 48, n = 0, rows;
    char *doc = malloc(cap);
    CHECK(doc != NULL);
    if (!doc)
        return;
    for (unsigned i = 0; i < LINES; i++) {
        if (i % 13 == 0) /* a line of its own */
            n += (size_t)snprintf(doc + n, cap - n, "single line %u stands alone\n", i);
        else
            n += (size_t)snprintf(doc + n, cap - n, "text %u is said again\n",
                                  (unsigned)((i * 7919u) % TEXTS));
    }
    pd_options o;
    pd_options_init(&o);
    o.threshold = 1;
    CHECK(walk_clusters(doc, &o, exact_member, NULL, &rows) == TEXTS);
    CHECK(rows == LINES - (LINES + 12) / 13);
    free(doc);
}

enum { NEAR_TEXTS = 20000 };

/* Line i of test_many_near_clusters(): its text t and whether it is the
 * variant, whose last word differs (3-word shingles: Jaccard 17/19 to the
 * text; distinct texts share no word); or a line of its own (t = UINT32_MAX). */
static void near_line(uint64_t i, unsigned *t, bool *variant)
{
    *t = i % 13 == 0 ? UINT32_MAX : (unsigned)((i * 7919u) % NEAR_TEXTS);
    *variant = i / 7 % 4 == 0;
}

/* A member holds its keep row's text, and is exact when it is the same
 * form of it (text or variant), else near; counts the near ones. */
static bool near_member(const pd_row *r, const pd_row *keep, void *ctx)
{
    unsigned t, tk;
    bool v, vk;
    near_line(r->unit.line_start - 1, &t, &v);
    near_line(keep->unit.line_start - 1, &tk, &vk);
    *(size_t *)ctx += r->match == PD_MATCH_NEAR;
    return t == tk && t != UINT32_MAX && r->match == (v == vk ? PD_MATCH_EXACT : PD_MATCH_NEAR);
}

/* Near-duplicates joined into clusters over more units than one part of the
 * row placement takes, where each unit's root text is looked up through the
 * union-find of its text: every cluster holds one text and its variants
 * (walk_clusters). */
static void test_many_near_clusters(void)
{
    enum { LINES = 140000, WORDS = 20 };
    size_t cap = (size_t)LINES * (WORDS * 6 + 2), n = 0, rows, near = 0;
    char *doc = malloc(cap);
    CHECK(doc != NULL);
    if (!doc)
        return;
    for (unsigned i = 0; i < LINES; i++) {
        unsigned t;
        bool variant;
        near_line(i, &t, &variant);
        if (t == UINT32_MAX) {
            n += (size_t)snprintf(doc + n, cap - n, "single line %u stands alone\n", i);
            continue;
        }
        for (unsigned w = 0; w + 1 < WORDS; w++)
            n += (size_t)snprintf(doc + n, cap - n, "%c%x ", 'a' + w, t);
        n += (size_t)snprintf(doc + n, cap - n, "%c%x\n", variant ? 'y' : 'z', t);
    }
    pd_options o;
    pd_options_init(&o);
    uint64_t clusters = walk_clusters(doc, &o, near_member, &near, &rows);
    /* A text whose variants LSH missed would make a cluster of its own. */
    CHECK(clusters >= NEAR_TEXTS && clusters <= NEAR_TEXTS + NEAR_TEXTS / 100);
    CHECK(near > 3 * NEAR_TEXTS); /* over the three runs */
    free(doc);
}

/* Counts the warnings that say the profiles are held in memory. */
static void count_held(void *ctx, const char *doc, uint64_t line, const char *msg)
{
    PD_UNUSED(doc);
    PD_UNUSED(line);
    if (strstr(msg, "verification profiles") && strstr(msg, "held in memory"))
        ++*(int *)ctx;
}

/* Past their budget, verification's profiles go to a temporary file and are
 * read back in runs that fit it: chains of near texts (each member measured
 * against a keep row it was not paired with) give the same rows and
 * similarities, bit for bit, with the profiles in memory, moved to the file
 * after each batch (two batches here) or in runs of a few pairs, or moved
 * to a file that fills up after a few jobs' profiles (all then read back
 * into memory, with a warning), on 1 and 2 threads. */
static void test_profiles_on_file(void)
{
    enum { GROUPS = 7000, WORDS = 40 };
    size_t cap = (size_t)GROUPS * 3 * WORDS * 12, n = 0;
    char *doc = malloc(cap);
    for (int g = 0; g < GROUPS; g++)
        for (int v = 0; v < 3; v++) { /* a; b: its last 3 words changed; c: b's first 3 too */
            for (int w = 0; w < WORDS; w++) {
                char c = v > 0 && w >= WORDS - 3 ? 'b' : v == 2 && w < 3 ? 'c' : 'g';
                n += (size_t)snprintf(doc + n, cap - n, "%c%dw%d ", c, g, w);
            }
            doc[n - 1] = '\n';
        }
    const char *names[] = {"doc"}, *texts[] = {doc};
    size_t budgets[] = {0, 1, 1 << 16, 1}, rows = 0;
    pd_row *want = NULL;
    struct rlimit fsize;
    getrlimit(RLIMIT_FSIZE, &fsize);
    signal(SIGXFSZ, SIG_IGN); /* a write past the limit fails instead */
    for (unsigned threads = 1; threads <= 2; threads++)
        for (size_t k = 0; k < sizeof budgets / sizeof *budgets; k++) {
            /* files of 2.5 MB: the first batch's profiles take 1.9 MB of
             * the 3.2 MB, and the file fills up in the second, 76 KB a job */
            bool full = k == 3;
            pd_options o;
            pd_options_init(&o);
            o.threads = threads;
            o.verify_memory = budgets[k];
            int held = 0;
            o.diag = count_held;
            o.diag_ctx = &held;
            memsrc m = {.names = names, .texts = texts};
            struct rlimit small = {2560 << 10, fsize.rlim_max};
            if (full)
                setrlimit(RLIMIT_FSIZE, &small);
            pd_scan *sc = run(&m, 1, &o);
            setrlimit(RLIMIT_FSIZE, &fsize);
            CHECK(sc != NULL);
            if (!sc)
                break;
            const pd_stats *st = pd_scan_stats(sc);
            CHECK(st->profile_bytes >= (uint64_t)GROUPS * 3 * (WORDS - 2) * 4);
            CHECK(st->profile_bytes_on_file == (budgets[k] && !full ? st->profile_bytes : 0));
            CHECK(held == full);
            if (!want) {
                rows = pd_scan_row_count(sc);
                want = malloc(rows * sizeof *want);
                size_t chained = 0;
                for (size_t i = 0; i < rows; i++) {
                    pd_scan_row(sc, i, &want[i]);
                    chained += want[i].role == PD_DUPLICATE && want[i].similarity < 0.8;
                }
                CHECK(rows == GROUPS * 3 && chained == GROUPS);
            }
            size_t differ = pd_scan_row_count(sc) != rows;
            for (size_t i = 0; !differ && i < rows; i++) {
                pd_row r;
                pd_scan_row(sc, i, &r);
                differ += r.cluster != want[i].cluster || r.unit.index != want[i].unit.index ||
                          r.role != want[i].role || r.match != want[i].match ||
                          r.similarity != want[i].similarity;
            }
            CHECK(differ == 0);
            pd_scan_free(sc);
        }
    free(want);
    free(doc);
}

/* An input that is one chunk is scanned on the calling thread alone, with
 * no helper thread started; one of several chunks starts the helper. Both
 * give the rows they give on one thread. */
static void test_one_chunk_alone(void)
{
    enum { LINE_ROOM = 1024 }; /* more than the three lines written at a time */
    size_t cap = 3 << 20, n = 0;
    char *doc = malloc(cap + LINE_ROOM);
    CHECK(doc != NULL);
    if (!doc)
        return;
    for (unsigned i = 0; n < cap; i++)
        n += (size_t)snprintf(doc + n, LINE_ROOM, "%s\nline %u of words\n%s\n", long_a, i % 1000,
                              long_b);
    size_t sizes[] = {2000, n};
    for (int k = 0; k < 2; k++) {
        char save = doc[sizes[k]];
        doc[sizes[k]] = 0;
        pd_scan *one = run_doc(doc, 1), *two = run_doc(doc, 2);
        CHECK(one && two);
        if (one && two) {
            CHECK(pd_pool_started(two->pool) == (k == 0 ? 0u : 1u));
            CHECK(pd_scan_row_count(one) == pd_scan_row_count(two) &&
                  pd_scan_row_count(one) > 0);
            char *saved = NULL;
            same_rows(&saved, one);
            same_rows(&saved, two);
            free(saved);
        }
        pd_scan_free(one);
        pd_scan_free(two);
        doc[sizes[k]] = save;
    }
    free(doc);
}

/* Runs of blanks longer than a chunk, in lines, paragraphs and sentences: the
 * chunks are cut inside them, and no more of a run than a chunk's reach at
 * either end is read through the document's pages. The middle of each run
 * is unreadable there (PROT_NONE); read() fills it with spaces. The
 * document is there twice, so that every unit is in the report: each is
 * found at its bytes and line, the units split into pieces are counted, on
 * 1, 2 and 4 threads. A paragraph's text longer than a chunk ('W') is
 * there in two pieces, found inside its bytes; 'V' is a third of it, one
 * unit. 'P' pads a line to the next MiB: the first chunk ends after it. */
enum {
    GAP_RUN = 11 << 19, GAP_HEAD = 9 << 18, GAP_TAIL = 5 << 19, GAP_MAX = 32,
    GAP_WORDS = 3 << 19, GAP_UNITS = 64
};

typedef struct gap_doc {
    char *d;
    size_t n, cap;
    uint32_t line;
    size_t n_units, hidden_n;
    struct gap_unit { size_t b, e; uint32_t line; bool pieces; } units[GAP_UNITS];
    struct { size_t b, e; char fill; } hidden[GAP_MAX];
} gap_doc;

/* The text just put at g->d[b, g->n) is a unit on the current line (or,
 * with pieces, holds units). */
static void gap_unit(gap_doc *g, size_t b, bool pieces)
{
    CHECK(g->n_units < GAP_UNITS);
    if (g->n_units < GAP_UNITS)
        g->units[g->n_units++] = (struct gap_unit){b, g->n, g->line, pieces};
}

/* The most bytes the layout's character at s puts (gap_put). */
static size_t gap_room(const char *s)
{
    return *s == 'R' || *s == 'Q' || *s == 'U' ? GAP_RUN
           : *s == 'P'                         ? 1u << 20
           : *s == 'W' || *s == 'V'            ? GAP_WORDS
           : *s == '['                         ? strcspn(s, "]")
                                               : 1;
}

static void gap_put(gap_doc *g, const char *s)
{
    for (; *s; s++) {
        size_t b = g->n, room = gap_room(s);
        CHECK(g->n + room <= g->cap); /* the layout fits the document */
        if (g->n + room > g->cap)
            return;
        if (*s == 'R' || *s == 'Q') { /* a run of blanks or quotation marks, its middle hidden */
            size_t page = 4096;
            char fill = *s == 'R' ? ' ' : '>'; /* as read() gives the middle */
            memset(g->d + g->n, fill, GAP_RUN);
            g->n += GAP_RUN;
            CHECK(g->hidden_n < GAP_MAX);
            if (g->hidden_n < GAP_MAX) {
                g->hidden[g->hidden_n].b = (b + GAP_HEAD + page - 1) / page * page;
                g->hidden[g->hidden_n].fill = fill;
                g->hidden[g->hidden_n++].e = (g->n - GAP_TAIL) / page * page;
            }
        } else if (*s == 'U') { /* quotation marks a unit's text goes on after */
            memset(g->d + g->n, '>', GAP_RUN);
            g->n += GAP_RUN;
        } else if (*s == 'P') { /* a line of padding to the next MiB, no repeat */
            size_t to = (g->n / (1u << 20) + 1) << 20;
            memset(g->d + g->n, 'p', to - g->n - 1);
            g->n = to;
            g->d[g->n - 1] = '\n';
            g->line++;
        } else if (*s == 'W' || *s == 'V') { /* words, on one line */
            size_t n = *s == 'W' ? GAP_WORDS : GAP_WORDS / 3; /* in pieces, or not */
            for (size_t k = 0; k < n; k += 6)
                memcpy(g->d + g->n + k, "words ", 6);
            g->n += n - 1;
            gap_unit(g, b, *s == 'W');
        } else if (*s == '[') { /* a unit's text, to the next ']' */
            const char *end = strchr(s, ']');
            memcpy(g->d + g->n, s + 1, (size_t)(end - s - 1));
            g->n += (size_t)(end - s - 1);
            gap_unit(g, b, false);
            s = end;
        } else {
            g->line += *s == '\n';
            g->d[g->n++] = *s;
        }
    }
}

/* The document gap_read() reads, the bytes it has read, and the reads it
 * was asked for past the document's end (nothing should ask: gap_scan()
 * checks). gap_read() runs on the scan's threads. */
static gap_doc *gap_reading;
static uint64_t gap_bytes_read, gap_past_end;

static pd_status gap_read(void *ctx, uint32_t doc, uint64_t off, size_t len, char *buf)
{
    (void)ctx, (void)doc;
    const gap_doc *g = gap_reading;
    if (off + len > g->n) {
        __atomic_fetch_add(&gap_past_end, 1, __ATOMIC_RELAXED);
        return PD_EIO;
    }
    __atomic_fetch_add(&gap_bytes_read, len, __ATOMIC_RELAXED);
    for (size_t i = 0; i < len;) {
        size_t at = off + i, n = len - i;
        char hidden = 0;
        for (size_t k = 0; k < g->hidden_n; k++) {
            if (at >= g->hidden[k].b && at < g->hidden[k].e) {
                hidden = g->hidden[k].fill;
                n = n < g->hidden[k].e - at ? n : g->hidden[k].e - at;
            } else if (at < g->hidden[k].b && n > g->hidden[k].b - at) {
                n = g->hidden[k].b - at;
            }
        }
        if (hidden)
            memset(buf + i, hidden, n);
        else
            memcpy(buf + i, g->d + at, n);
        i += n;
    }
    return PD_OK;
}

/* A document of up to cap bytes to lay out (an anonymous mapping, whose
 * pages can be made unreadable), or NULL. */
static gap_doc *gap_doc_new(size_t cap)
{
    gap_doc *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->cap = cap;
    g->line = 1;
    g->d = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (g->d == MAP_FAILED) {
        free(g);
        return NULL;
    }
    return g;
}

static void gap_doc_free(gap_doc *g)
{
    munmap(g->d, g->cap);
    free(g);
}

/* Make the middles of g's runs unreadable in its pages. */
static void gap_hide(const gap_doc *g)
{
    for (size_t k = 0; k < g->hidden_n; k++)
        CHECK(mprotect(g->d + g->hidden[k].b, g->hidden[k].e - g->hidden[k].b, PROT_NONE) == 0);
}

/* Scan g for exact repeats on `threads` threads, read() filling the runs'
 * middles with spaces (rows and statistics only), or NULL; the bytes read
 * are in gap_bytes_read. */
static pd_scan *gap_scan(gap_doc *g, pd_unit_kind kind, size_t max, unsigned threads)
{
    const char *names[] = {"gaps"}, *texts[] = {g->d};
    size_t lens[] = {g->n};
    memsrc m = {.names = names, .texts = texts, .lens = lens};
    pd_options o;
    pd_options_init(&o);
    o.threshold = 1.0;
    o.unit = kind;
    o.max_unit_bytes = max;
    o.threads = threads;
    pd_source src = mem_source(&m, 1);
    src.read = gap_read;
    gap_reading = g;
    gap_bytes_read = gap_past_end = 0;
    pd_scan *sc;
    if (pd_scan_new(&o, &sc) != PD_OK)
        return NULL;
    pd_status st = pd_scan_run(sc, &src);
    CHECK(__atomic_load_n(&gap_past_end, __ATOMIC_RELAXED) == 0);
    if (st != PD_OK) {
        pd_scan_free(sc);
        return NULL;
    }
    return sc;
}

static void test_blank_runs(pd_unit_kind kind, const char *layout, uint64_t split)
{
    size_t room = 0;
    for (const char *c = layout; *c; c++)
        room += gap_room(c);
    gap_doc *g = gap_doc_new(2 * room + 4);
    CHECK(g != NULL);
    if (!g)
        return;
    gap_put(g, layout);
    gap_put(g, "\n\n");
    gap_put(g, layout);
    gap_hide(g);
    char *saved = NULL;
    for (unsigned threads = 1; threads <= 4; threads *= 2) {
        pd_scan *sc = gap_scan(g, kind, PD_MAX_UNIT_BYTES, threads);
        if (!sc) {
            CHECK(!"scan");
            break;
        }
        size_t rows = pd_scan_row_count(sc), right = 0, pieces = 0, whole = 0;
        for (size_t k = 0; k < g->n_units; k++)
            whole += !g->units[k].pieces;
        for (size_t i = 0; i < rows; i++) {
            pd_row r;
            pd_scan_row(sc, i, &r);
            for (size_t k = 0; k < g->n_units; k++) {
                bool at = g->units[k].pieces ? r.unit.byte_start >= g->units[k].b &&
                                                   r.unit.byte_end <= g->units[k].e
                                             : r.unit.byte_start == g->units[k].b &&
                                                   r.unit.byte_end == g->units[k].e;
                at = at && r.unit.line_start == g->units[k].line &&
                     r.unit.line_end == g->units[k].line;
                right += at;
                pieces += at && g->units[k].pieces;
            }
        }
        CHECK(right == rows);
        CHECK(rows == whole + pieces && pieces == 2 * (g->n_units - whole));
        CHECK(pd_scan_stats(sc)->units_split == 2 * split);
        same_rows(&saved, sc);
        pd_scan_free(sc);
    }
    free(saved);
    gap_doc_free(g);
}

/* Hard-wrapped text with runs of blanks longer than a chunk: a blank line
 * of them between paragraphs; in a paragraph, a run after a line's text
 * (the line runs on or not, as its width says), in place of a space, and
 * before a line's text. Each unit is the one the segmenter finds in the
 * whole document, on 1, 2 and 4 threads, and no run's middle is read
 * through the document's pages. */
static void wrapped_with_runs(gap_doc *g)
{
    uint64_t seed = 1;
    char par[8192];
    for (int block = 0; block < 4; block++) {
        for (size_t end = g->n + (block == 0 ? 100u << 10 : 20u << 10); g->n < end; seed++) {
            g->n = wrapped_paragraph(g->d, g->n, seed * 0x9E3779B97F4A7C15u,
                                     1 + (unsigned)(seed % 5), 72, "");
            gap_put(g, seed % 3 ? "\n" : "");
        }
        if (block == 0) {
            gap_put(g, "\nR\n");
            continue;
        }
        size_t n = wrapped_paragraph(par, 0, seed++ * 0x9E3779B97F4A7C15u, 5, 72, "");
        const char *at = strchr(par + 100, block == 2 ? ' ' : '\n');
        size_t cut = (size_t)(at - par) + (block == 3); /* after a newline, or at it */
        memcpy(g->d + g->n, par, cut);
        g->n += cut;
        gap_put(g, "R");
        cut += block == 2; /* the space the run takes the place of */
        memcpy(g->d + g->n, par + cut, n - cut);
        g->n += n - cut;
    }
}

/* The units of a whole document as the scanner numbers them: a unit
 * longer than `max` is split into pieces, each at most max bytes, ending
 * after the last space in its second half (else max bytes on, on a
 * character's start), its blanks trimmed; the next starts at the text
 * after it. Returns the count, at most cap; *split: the units split. */
static size_t units_with_pieces(const char *d, size_t len, pd_unit_kind kind, size_t max,
                                pd_unit *want, size_t cap, uint64_t *split)
{
    size_t n = 0;
    *split = 0;
    pd_segmenter seg;
    pd_unit u;
    pd_segment_init(&seg, d, len, kind);
    while (pd_segment_next(&seg, &u) && n < cap) {
        uint32_t line = u.line_start;
        *split += u.byte_end - u.byte_start > max;
        for (size_t start = u.byte_start; start < u.byte_end && n < cap;) {
            size_t end = u.byte_end;
            if (start + max < end) {
                end = start + max;
                while (end > start + max / 2 && !pd_segment_space((unsigned char)d[end - 1]))
                    end--;
                if (end == start + max / 2)
                    for (end = start + max; ((unsigned char)d[end] & 0xC0) == 0x80;)
                        end--;
            }
            size_t next = end, e = end;
            while (e > start && pd_segment_space((unsigned char)d[e - 1]))
                e--;
            while (next < u.byte_end && pd_segment_space((unsigned char)d[next]))
                next++;
            uint32_t lines = 0, to_next = 0;
            for (size_t i = start; i < next; i++) {
                lines += d[i] == '\n' && i < e;
                to_next += d[i] == '\n';
            }
            want[n] = (pd_unit){.index = (uint32_t)(n + 1), .line_start = line,
                                .line_end = line + lines, .byte_start = start, .byte_end = e};
            n++;
            line += to_next;
            start = next;
        }
    }
    return n;
}

/* Scan g (its runs' middles hidden) and check every row against the units
 * of the whole document (units_with_pieces), and the units split; a unit
 * of quotation marks alone is numbered, but normalizes to nothing. The
 * source's reads are counted too. */
static void check_against_segmenter(gap_doc *g, pd_unit_kind kind, size_t max)
{
    pd_unit *want = malloc(8192 * sizeof *want);
    uint64_t split;
    size_t units = units_with_pieces(g->d, g->n, kind, pd_unit_limit(max), want, 8192, &split);
    size_t marks = 0;
    for (size_t i = 0; i < units; i++)
        marks += strspn(g->d + want[i].byte_start, "> \t") >= want[i].byte_end - want[i].byte_start;
    CHECK(split > 0 || max == 0);
    gap_hide(g);
    for (unsigned threads = 1; threads <= 4; threads *= 2) {
        pd_scan *sc = gap_scan(g, kind, max, threads);
        if (!sc) {
            CHECK(!"scan");
            break;
        }
        /* The chunks' copies, and the cutter's windows and runs, each read
         * once or about: twice the document (a run of marks read again at
         * every step of the cutter's search was 4-5 times). */
        CHECK(__atomic_load_n(&gap_bytes_read, __ATOMIC_RELAXED) <= 3 * (uint64_t)g->n);
        CHECK(pd_scan_stats(sc)->units == units - marks && pd_scan_row_count(sc) == units - marks &&
              rows_not_units(sc, want, units) == 0);
        CHECK(pd_scan_stats(sc)->units_split == split);
        pd_scan_free(sc);
    }
    free(want);
}

static void test_blank_lines_wrapped(pd_unit_kind kind)
{
    gap_doc *g = gap_doc_new(2 * (4 * GAP_RUN + (200u << 10)));
    CHECK(g != NULL);
    if (!g)
        return;
    wrapped_with_runs(g);
    gap_put(g, "\n");
    wrapped_with_runs(g);
    CHECK(pd_segment_wrap(g->d, g->n) > 0); /* it looks wrapped */
    check_against_segmenter(g, kind, PD_MAX_UNIT_BYTES);
    gap_doc_free(g);
}

/* Lay `layout` out twice, a blank line between, and check it against the
 * whole document's segmenter (check_against_segmenter). */
static void check_layout_twice(const char *layout, pd_unit_kind kind, size_t max)
{
    size_t room = 0;
    for (const char *c = layout; *c; c++)
        room += gap_room(c);
    gap_doc *g = gap_doc_new(2 * room + 4);
    CHECK(g != NULL);
    if (!g)
        return;
    gap_put(g, layout);
    gap_put(g, "\n");
    gap_put(g, layout);
    check_against_segmenter(g, kind, max);
    gap_doc_free(g);
}

/* Sentences with quotation marks between runs of blanks in a line: a run
 * after marks that follow text is inside the line's text, one after the
 * marks that start a line is not. The marks a sentence leaves out (seven)
 * are counted on both sides of a run: the eighth and the ninth are its
 * text. Marks alone after a run end a blank line. */
static void test_marks_between_runs(void)
{
    check_layout_twice("Mr.> >wordEnd.> >R> >Rword \tthe captionRmore of it\nR> >Rmarks start it\n",
                       PD_UNIT_SENTENCE, PD_MAX_UNIT_BYTES);
    check_layout_twice("> > >R> > > > > >[x y z. The end.]\n>>>>>>R>>>[a reply]\n >R> \t>\n"
                       "R>>[more]\n> >R> > >R> > > >[end]\nW\n",
                       PD_UNIT_SENTENCE, PD_MAX_UNIT_BYTES);
}

/* Lines of quotation marks longer than a chunk, as sentences and as lines.
 * A line of marks alone ('Q') is a blank line, with no unit: the chunks are
 * cut inside it, and its middle is unreadable. Marks with text after them
 * ('U') start the line's unit, up to seven of them left out of a sentence
 * (past a run of blanks too), and the unit is cut at its pieces. */
static void test_marks_lines(pd_unit_kind kind)
{
    check_layout_twice("[Before the quote.]\nQ\n[After it.]\n  Q  \n> > U[ a reply to it]\n"
                       ">>>>>>>>R[goes on]\nQR\n RQ \n> >R> >R[marks start it]\nQ",
                       kind, PD_MAX_UNIT_BYTES);
}

/* Units held whole (--max-unit-bytes 0): runs of blanks longer than a
 * chunk that hold no unit's text on both sides, and lines of quotation
 * marks alone, are cut inside as when units are split, their middles
 * unreadable ('R', 'Q'). Marks with text after them ('U') start a line's
 * unit, read whole. Paragraphs read marks as text, so their layout has
 * runs of blanks only. */
static void test_whole_units(void)
{
    const char *lines = "[Before.]\nR\n[After.]\n  Q  \nR[text after a run]\n"
                        "[text before a run]R\n> >R> >\n>R>>R\nQR\n U[ a reply]\n";
    check_layout_twice(lines, PD_UNIT_LINE, 0);
    check_layout_twice(lines, PD_UNIT_SENTENCE, 0);
    check_layout_twice("[Para one.]\nR\n[Para two.]\n\nR[starts after a run]\n[goes on.]\n\n"
                       "[ends before a run]R\n\nR\n",
                       PD_UNIT_PARAGRAPH, 0);
}

/* A line of sentences with no end, a step of the cutter's search (64 KB)
 * past the first chunk's aim, where a blank lies less than the cutter's
 * probe for a run of blanks (4 KB) from the document's end: the probe must
 * not read past the end (gap_scan checks). It did, and the source then
 * reported a file that got shorter. */
static void test_probe_near_end(void)
{
    size_t at = (1u << 20) + (64u << 10), len = at + 100;
    gap_doc *g = gap_doc_new(len);
    CHECK(g != NULL);
    if (!g)
        return;
    for (size_t k = 0; k < len; k++)
        g->d[k] = "words "[k % 6];
    g->d[at] = ' ';
    g->d[len - 1] = '\n';
    g->n = len;
    pd_scan *sc = gap_scan(g, PD_UNIT_SENTENCE, PD_MAX_UNIT_BYTES, 1);
    CHECK(sc != NULL);
    if (sc) {
        CHECK(pd_scan_stats(sc)->units_split == 1); /* the line, in two pieces */
        pd_scan_free(sc);
    }
    gap_doc_free(g);
}

int main(void)
{
    test_wrapped(PD_UNIT_SENTENCE);
    test_wrapped(PD_UNIT_LINE);
    test_long_wrapped_units(PD_UNIT_LINE);
    test_long_wrapped_units(PD_UNIT_SENTENCE);
    test_clusters();
    test_chunks();
    test_chunks_long_lines(PD_UNIT_LINE);
    test_chunks_long_lines(PD_UNIT_PARAGRAPH);
    test_chunks_long_lines(PD_UNIT_SENTENCE);
    test_chunks_wrapped(PD_UNIT_LINE);
    test_chunks_wrapped(PD_UNIT_SENTENCE);
    test_sentence_chunks();
    test_failed_doc();
    test_report_reads();
    test_report_repeats();
    test_stream();
    test_table_grows();
    test_verify_reads();
    test_signed_once();
    test_signed_once_across_docs();
    test_small_docs_released();
    test_chain();
    test_many_clusters();
    test_many_near_clusters();
    test_profiles_on_file();
    test_huge_bucket();
    test_options();
    test_one_chunk_alone();
    /* a blank line of blanks; a paragraph's two texts with the run between
     * them in a line, after the first's line or before the second's (split
     * in pieces, the last one's second text longer than a chunk); a run
     * after a text, before one, at the end after a line and after text */
    test_blank_runs(PD_UNIT_PARAGRAPH,
                    "[one photo caption]\n\nR\n[two photo caption]R[three caption]\n\n"
                    "[four caption]R\n[five caption]\n\n[six caption]\nR[seven caption]\n\n"
                    "[eight caption]R\n\nR[nine caption]\n\n[eleven caption]R\nW\n\n"
                    "[ten caption]\nR\n\nRVR",
                    4);
    /* lines: a run alone (also one that starts a chunk, after a line that
     * ends at a MiB), before a text, between two (split), after one */
    test_blank_runs(PD_UNIT_LINE,
                    "[one caption]\nPR\n[seven caption]\nR\nR[two caption]\n"
                    "[three caption]R[four caption]\n[five caption]R\n[six caption]",
                    1);
    test_blank_lines_wrapped(PD_UNIT_LINE);
    test_blank_lines_wrapped(PD_UNIT_SENTENCE);
    test_marks_between_runs();
    test_probe_near_end();
    test_marks_lines(PD_UNIT_SENTENCE);
    test_marks_lines(PD_UNIT_LINE);
    test_whole_units();
    /* sentences that end at a run (before a capital, a strong mark) and go
     * on across it (no mark, an abbreviation, lower case after); a line's
     * quotation marks are left out before its text, runs among them too,
     * but not after a run that follows text */
    test_blank_runs(PD_UNIT_SENTENCE,
                    "[The caption of a photo.]R[Subscribe now.]\n[the caption]R[of a photo]\n"
                    "[He met Mr.]R[Smith there.]\n[It rained.]R[then it stopped.]\n"
                    "[今日は晴れ。]R[明日は雨。]\n[A trailing one.]R\nR> [A leading one.]\n"
                    "[the quote mark]R[> stays in its line]\n[Before a quote.]\n> R> [A quote.]\n",
                    4);
    return check_done("test_scan");
}
