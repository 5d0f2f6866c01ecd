/*
 * shingle.c - word n-grams of normalized text.
 *
 * Normalized text is words separated by single spaces, so shingle i is the
 * substring from the start of word i to the end of word i+k-1, and it is
 * hashed in place (no copy) with XXH3-64, seed 0. A text of fewer than k words
 * is one shingle of all of them, so short units (captions, "Subscribe now")
 * still compare. The default k is 3 (2 for sentences): see
 * pd_shingle_default() and bench/edits.c.
 */
#include "internal.h"

#include <xxhash.h>

/* Bit i set: p[i] is a space, for the 64 bytes at p. Words are short, so the
 * spaces are found 8 bytes at a time in a register, not by a call to
 * memchr() per word (which took two thirds of the time here). */
static uint64_t spaces64(const char *p)
{
    uint64_t m = 0;
    for (int i = 0; i < 8; i++) {
        /* a space becomes 0, and its byte's top bit is set */
        uint64_t zero = pd_zero_bytes(pd_load8(p + 8 * i) ^ UINT64_C(0x2020202020202020));
        m |= ((zero >> 7) * UINT64_C(0x0102040810204080) >> 56) << (8 * i);
    }
    return m;
}

size_t pd_shingles(const char *norm, size_t len, unsigned k, uint64_t *out, size_t cap)
{
    if (len == 0)
        return 0;
    if (k == 0)
        k = 1;
    /* starts[] is a ring of the last k word starts; `at` is words % k,
     * kept without a division. */
    size_t starts[64];
    if (k > 64)
        k = 64;
    size_t words = 0, n = 0, pos = 0;
    unsigned at = 0;
    /* A word ends at each space and, unless the text ends with a space, at
     * len. The text is read 64 bytes at a time, its last bytes from a copy. */
    char tail[64];
    for (size_t base = 0; base <= len; base += 64) {
        uint64_t m;
        if (base + 64 <= len) {
            m = spaces64(norm + base);
        } else {
            memset(tail, 'x', sizeof tail);
            memcpy(tail, norm + base, len - base);
            m = spaces64(tail) | (uint64_t)(norm[len - 1] != ' ') << (len - base);
        }
        for (; m; m &= m - 1) {
            size_t end = base + (size_t)__builtin_ctzll(m);
            starts[at] = pos;
            at = at + 1 == k ? 0 : at + 1;
            words++;
            if (words >= k) {
                size_t s = starts[at]; /* the word k - 1 words back */
                if (n < cap)
                    out[n] = XXH3_64bits(norm + s, end - s);
                n++;
            }
            pos = end + 1;
        }
    }
    if (words < k) {
        if (cap > 0)
            out[0] = XXH3_64bits(norm, len);
        n = 1;
    }
    return n;
}
