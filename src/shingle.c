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
 * memchr() per word (which took two thirds of the time here); or, where the
 * CPU has AVX2, 32 bytes at a time (see pd_shingles). */
static inline uint64_t spaces64(const char *p)
{
    uint64_t m = 0;
    for (int i = 0; i < 8; i++) {
        /* a space becomes 0, and its byte's top bit is set */
        uint64_t zero = pd_zero_bytes(pd_load8(p + 8 * i) ^ UINT64_C(0x2020202020202020));
        m |= ((zero >> 7) * UINT64_C(0x0102040810204080) >> 56) << (8 * i);
    }
    return m;
}

#ifdef PD_X86_AVX2
#include <immintrin.h>

__attribute__((target("avx2"))) static inline uint64_t spaces64_avx2(const char *p)
{
    __m256i sp = _mm256_set1_epi8(' ');
    __m256i lo = _mm256_loadu_si256((const __m256i *)(const void *)p);
    __m256i hi = _mm256_loadu_si256((const __m256i *)(const void *)(p + 32));
    uint32_t a = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(lo, sp));
    uint32_t b = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(hi, sp));
    return (uint64_t)b << 32 | a;
}
#endif

/* The shingles of norm, with the spaces found by AVX2 or not: inlined into
 * one function of each kind below, so that the choice costs nothing a word. */
__attribute__((always_inline)) static inline size_t shingles(const char *norm, size_t len,
                                                             unsigned k, uint64_t *out,
                                                             size_t cap, bool avx2)
{
    if (len == 0)
        return 0;
    if (k == 0)
        k = 1;
#ifdef PD_X86_AVX2
#define SPACES64(p) (avx2 ? spaces64_avx2(p) : spaces64(p))
#else
#define SPACES64(p) spaces64(p)
    PD_UNUSED(avx2);
#endif
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
            m = SPACES64(norm + base);
        } else {
            memset(tail, 'x', sizeof tail);
            memcpy(tail, norm + base, len - base);
            m = SPACES64(tail) | (uint64_t)(norm[len - 1] != ' ') << (len - base);
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
#undef SPACES64

#ifdef PD_X86_AVX2
__attribute__((target("avx2"))) static size_t shingles_avx2(const char *norm, size_t len,
                                                            unsigned k, uint64_t *out, size_t cap)
{
    return shingles(norm, len, k, out, cap, true);
}
#endif

/* Words 32 bytes at a time where the CPU has AVX2 and `wide` allows it:
 * 300,000 lines of news, 7.4 million 5-word shingles, took 53 ms against 60
 * ms (a scratch loop, one CPU), the same shingles. */
size_t pd_shingles_on(const char *norm, size_t len, unsigned k, uint64_t *out, size_t cap,
                      bool wide)
{
#ifdef PD_X86_AVX2
    if (wide && __builtin_cpu_supports("avx2"))
        return shingles_avx2(norm, len, k, out, cap);
#endif
    return shingles(norm, len, k, out, cap, false);
}

size_t pd_shingles(const char *norm, size_t len, unsigned k, uint64_t *out, size_t cap)
{
    return pd_shingles_on(norm, len, k, out, cap, true);
}
