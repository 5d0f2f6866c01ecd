/* fuzz_segment.c - segmentation of any bytes, in each unit kind: units are in
 * order, inside the document, trimmed, and their text can be rebuilt; a
 * sentence start found from any place in a line (the scan cuts long lines
 * there) is one the segmenter finds. */
#include "fuzz.h"
#include "internal.h"

#include <stdlib.h>
#include <string.h>

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
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
            if (kind != PD_UNIT_PARAGRAPH)
                FUZZ_CHECK(memcmp(text.data, d + u.byte_start, text.len) == 0);
            prev_end = u.byte_end;
            prev_line = u.line_end;
            if (kind == PD_UNIT_SENTENCE)
                starts[u.byte_start] = true;
        }
    }
    for (size_t from = 1; from < size; from++) {
        const char *nl = memchr(d + from, '\n', size - from);
        size_t to = nl ? (size_t)(nl - d) : size;
        size_t k = pd_segment_sentence_start(d, from, to);
        FUZZ_CHECK(k == 0 || (k >= from && k < to && starts[k]));
    }
    free(starts);
    pd_buf_release(&text);
    return 0;
}
