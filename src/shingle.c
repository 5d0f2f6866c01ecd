/*
 * shingle.c - word n-grams of normalized text.
 *
 * Normalized text is words separated by single spaces, so shingle i is the
 * substring from the start of word i to the end of word i+k-1, and it is
 * hashed in place (no copy) with XXH3-64, seed 0. A text of fewer than k words
 * is one shingle of all of them, so short units (captions, "Subscribe now")
 * still compare. The default k = 5 is the common choice for web text
 * (word 5-grams at thresholds 0.7-0.9); bench/ measures it.
 */
#include "internal.h"

#include <xxhash.h>

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
    while (pos < len) {
        const char *sp = memchr(norm + pos, ' ', len - pos);
        size_t end = sp ? (size_t)(sp - norm) : len;
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
    if (words < k) {
        if (cap > 0)
            out[0] = XXH3_64bits(norm, len);
        n = 1;
    }
    return n;
}
