/* fuzz_normalize.c - normalization of any bytes under every flag set: the
 * output is valid UTF-8, single-spaced, trimmed, normalizing it again changes
 * nothing, the wide ASCII loops (VBMI2, AVX2) write what the byte loop
 * writes, and the code point cache what utf8proc's way writes. */
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
    /* One cache a flag set, kept from input to input, as a thread keeps its
     * own from unit to unit (reachable to the end, not leaked). */
    static pd_normcache nc[PD_NORM_DEFAULT + 1];
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
        pd_norm_stats sa = {0, 0}; /* the AVX2 loop where the VBMI2 one would run */
        FUZZ_CHECK(pd_normalize((const char *)data, size, flags | PD_NORM_NO_VBMI2, &bytes, &sa) ==
                   PD_OK);
        FUZZ_CHECK(bytes.len == once.len && sa.nul_bytes == st.nul_bytes &&
                   sa.invalid_bytes == st.invalid_bytes);
        FUZZ_CHECK(once.len == 0 || memcmp(bytes.data, once.data, once.len) == 0);
        pd_norm_stats sc = {0, 0};
        size_t bad;
        FUZZ_CHECK(pd_normalize_at((const char *)data, size, flags, &bytes, &sc, &bad,
                                   &nc[flags]) == PD_OK);
        FUZZ_CHECK(bytes.len == once.len && sc.nul_bytes == st.nul_bytes &&
                   sc.invalid_bytes == st.invalid_bytes);
        FUZZ_CHECK(once.len == 0 || memcmp(bytes.data, once.data, once.len) == 0);
    }
    pd_buf_release(&once);
    pd_buf_release(&twice);
    pd_buf_release(&bytes);
    return 0;
}
