/* fuzz_normalize.c - normalization of any bytes under every flag set: the
 * output is valid UTF-8, single-spaced, trimmed, normalizing it again changes
 * nothing, and the wide ASCII loop writes what the byte loop writes. */
#include "fuzz.h"
#include "internal.h"

#include <string.h>
#include <utf8proc.h>

static void check_form(const pd_buf *b)
{
    const uint8_t *p = (const uint8_t *)b->data;
    size_t i = 0;
    while (i < b->len) {
        utf8proc_int32_t c;
        utf8proc_ssize_t n = utf8proc_iterate(p + i, (utf8proc_ssize_t)(b->len - i), &c);
        FUZZ_CHECK(n > 0 && c != 0);
        i += (size_t)n;
    }
    if (b->len > 0) {
        FUZZ_CHECK(b->data[0] != ' ' && b->data[b->len - 1] != ' ');
        FUZZ_CHECK(strstr(b->data, "  ") == NULL);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pd_buf once, twice, bytes;
    pd_buf_init(&once);
    pd_buf_init(&twice);
    pd_buf_init(&bytes);
    for (unsigned flags = 0; flags <= PD_NORM_DEFAULT; flags++) {
        pd_norm_stats st = {0, 0};
        FUZZ_CHECK(pd_normalize((const char *)data, size, flags, &once, &st) == PD_OK);
        FUZZ_CHECK(st.invalid_bytes + st.nul_bytes <= size);
        check_form(&once);
        FUZZ_CHECK(pd_normalize(once.data ? once.data : "", once.len, flags, &twice, NULL) == PD_OK);
        FUZZ_CHECK(twice.len == once.len);
        FUZZ_CHECK(once.len == 0 || memcmp(twice.data, once.data, once.len) == 0);
        pd_norm_stats sb = {0, 0};
        FUZZ_CHECK(pd_normalize((const char *)data, size, flags | PD_NORM_BYTE_LOOP, &bytes, &sb) ==
                   PD_OK);
        FUZZ_CHECK(bytes.len == once.len && sb.nul_bytes == st.nul_bytes &&
                   sb.invalid_bytes == st.invalid_bytes);
        FUZZ_CHECK(once.len == 0 || memcmp(bytes.data, once.data, once.len) == 0);
    }
    pd_buf_release(&once);
    pd_buf_release(&twice);
    pd_buf_release(&bytes);
    return 0;
}
