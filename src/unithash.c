/*
 * unithash.c - the two hashes the first pass takes of every unit: XXH3-64 of
 * its bytes (whether a repeat has its first unit's bytes, for the report)
 * and XXH3-128 of its normalized text (the exact table's key).
 *
 * Where the CPU has AVX2 they come from XXH3 compiled here for it, inlined
 * from the system's xxhash.h; elsewhere, and when the compiler is not GCC on
 * x86-64, from the library. XXH3 is defined by its output, so both give the
 * same hashes; the AVX2 build takes texts over 240 bytes 32 bytes a step
 * instead of the library's 16. Both hashes of every line of 100 MB of news
 * took 19.3 ms from the library and 14.1 ms here (one CPU, a scratch loop).
 */
#include "internal.h"

#include <xxhash.h>

/* The library's XXH3, for CPUs without AVX2: named before xxhash.h is
 * included again below, inlined. */
static void hashes_library(const char *text, size_t len, const char *norm, size_t norm_len,
                           uint64_t *bytes, pd_h128 *key)
{
    *bytes = XXH3_64bits(text, len);
    XXH128_hash_t h = XXH3_128bits(norm, norm_len);
    *key = (pd_h128){h.low64, h.high64};
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define PD_HASH_AVX2 1
/* Everything from here to pop_options is compiled for AVX2, and only
 * hashes_avx2() calls it, after the CPU said it has AVX2. */
#pragma GCC push_options
#pragma GCC target("avx2")
#define XXH_INLINE_ALL
#define XXH_VECTOR XXH_AVX2
#include <xxhash.h>

static void hashes_avx2(const char *text, size_t len, const char *norm, size_t norm_len,
                        uint64_t *bytes, pd_h128 *key)
{
    *bytes = XXH3_64bits(text, len);
    XXH128_hash_t h = XXH3_128bits(norm, norm_len);
    *key = (pd_h128){h.low64, h.high64};
}
#pragma GCC pop_options
#endif

void pd_unit_hashes(const char *text, size_t len, const char *norm, size_t norm_len,
                    uint64_t *bytes, pd_h128 *key)
{
#ifdef PD_HASH_AVX2
    if (__builtin_cpu_supports("avx2")) {
        hashes_avx2(text, len, norm, norm_len, bytes, key);
        return;
    }
#endif
    hashes_library(text, len, norm, norm_len, bytes, key);
}
