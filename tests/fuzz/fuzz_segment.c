/* fuzz_segment.c - segmentation of any bytes, in each unit kind: units are in
 * order, inside the document, trimmed, and their text can be rebuilt; a
 * sentence start found from any place in a stretch (the scan cuts long
 * stretches there) is one the segmenter finds; and sentences, or lines of
 * text that looks wrapped, segmented in two ranges, cut where the scan cuts
 * chunks, are those of the whole. */
#include "fuzz.h"
#include "internal.h"

#include <stdlib.h>
#include <string.h>

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

/* The units of d[start, end) (the line at start numbered `line`, its
 * text before start `lead` characters wide) into u[], from u[n]; returns
 * the new count. */
static size_t units(const char *d, size_t start, size_t end, uint32_t line, unsigned wrap,
                    unsigned lead, pd_unit_kind kind, pd_unit *u, size_t n)
{
    pd_segmenter s;
    pd_segment_range(&s, d, start, end, line, kind);
    s.wrap = wrap;
    s.lead = lead;
    while (pd_segment_next(&s, &u[n]))
        n++;
    return n;
}

/* Cut the document where the scan may end a chunk: after a newline that
 * no line runs on across, or, for sentences, where one starts (at its
 * line's start when only blanks and quotation marks lie before it there).
 * The two halves' units, renumbered, are the whole's. */
static void check_cuts(const char *d, size_t size, const bool *starts, pd_unit_kind kind)
{
    size_t bom = pd_segment_bom(d, size), n_whole, n;
    unsigned wrap = pd_segment_wrap(d, size);
    pd_unit *whole = malloc((size + 1) * sizeof *whole), *part = malloc((size + 1) * sizeof *part);
    FUZZ_CHECK(whole && part);
    n_whole = units(d, bom, size, 1, wrap, 0, kind, whole, 0);
    uint32_t line = 1;
    for (size_t cut = bom + 1, tries = 0; cut < size && tries < 64; cut++) {
        line += d[cut - 1] == '\n';
        bool after_nl = d[cut - 1] == '\n' && !pd_segment_runs_on(d, bom, size, cut - 1, wrap);
        if (!after_nl && (kind != PD_UNIT_SENTENCE || !starts[cut]))
            continue;
        size_t b = cut;
        while (b > bom && (pd_segment_blank((unsigned char)d[b - 1]) || d[b - 1] == '>'))
            b--;
        if (!after_nl && (b == bom || d[b - 1] == '\n'))
            continue; /* the scan cuts at the line's start, tried above if it ends a stretch
                       * (and never before the first line's text) */
        tries++;
        unsigned lead = after_nl ? 0 : pd_segment_lead(d, bom, cut, size);
        size_t first = units(d, bom, cut, 1, wrap, 0, kind, part, 0);
        n = units(d, cut, size, line, wrap, lead, kind, part, first);
        FUZZ_CHECK(n == n_whole);
        for (size_t i = 0; i < n; i++)
            FUZZ_CHECK(part[i].byte_start == whole[i].byte_start &&
                       part[i].byte_end == whole[i].byte_end &&
                       part[i].line_start == whole[i].line_start &&
                       part[i].line_end == whole[i].line_end);
    }
    free(whole);
    free(part);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *d = (const char *)data;
    pd_buf text;
    pd_buf_init(&text);
    bool *starts = calloc(size + 1, 1);
    FUZZ_CHECK(starts != NULL);
    for (int kind = PD_UNIT_LINE; kind <= PD_UNIT_SENTENCE; kind++) {
        pd_segmenter s;
        pd_unit u;
        uint64_t prev_end = 0;
        uint32_t prev_line = 0, index = 0;
        pd_segment_init(&s, d, size, (pd_unit_kind)kind);
        while (pd_segment_next(&s, &u)) {
            FUZZ_CHECK(u.index == ++index);
            FUZZ_CHECK(u.byte_start < u.byte_end && u.byte_end <= size);
            FUZZ_CHECK(u.byte_start >= prev_end);
            FUZZ_CHECK(u.line_start >= prev_line && u.line_end >= u.line_start);
            FUZZ_CHECK(!is_blank(d[u.byte_start]) && !is_blank(d[u.byte_end - 1]));
            FUZZ_CHECK(pd_unit_text(d, size, &u, (pd_unit_kind)kind, &text) == PD_OK);
            FUZZ_CHECK(text.len > 0 && text.len <= u.byte_end - u.byte_start);
            if (u.line_end == u.line_start)
                FUZZ_CHECK(memcmp(text.data, d + u.byte_start, text.len) == 0);
            prev_end = u.byte_end;
            prev_line = u.line_end;
            if (kind == PD_UNIT_SENTENCE)
                starts[u.byte_start] = true;
        }
    }
    /* a window ends at the first newline that ends a stretch, as the cut's,
     * or sooner (a window that ends early may hide a start, not make one) */
    size_t bom = pd_segment_bom(d, size);
    unsigned wrap = pd_segment_wrap(d, size);
    for (size_t from = bom + 1; from < size; from++) {
        size_t to = from;
        while (to < size && to - from < 4096 &&
               (d[to] != '\n' || pd_segment_runs_on(d, bom, size, to, wrap)))
            to++;
        size_t k = pd_segment_sentence_start(d, from, to);
        FUZZ_CHECK(k == 0 || (k >= from && k < to && starts[k]));
    }
    check_cuts(d, size, starts, PD_UNIT_SENTENCE);
    check_cuts(d, size, starts, PD_UNIT_LINE);
    free(starts);
    pd_buf_release(&text);
    return 0;
}
