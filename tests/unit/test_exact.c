/* test_exact.c - the exact-repeat table (exact.c): ids come back for every
 * key interned, across the table's growth and a rebuild on several threads;
 * keys that share the slot bits (hi), the tag (lo folded) or both, but differ
 * in a bit of either half, stay apart; and a lookup of a key never interned
 * finds nothing. The unit hashes (unithash.c) are the library's XXH3. */
#include "check.h"
#include "internal.h"

#include <xxhash.h>

static uint64_t rng = 0x2545F4914F6CDD1Du;
static uint64_t next(void)
{
    return check_rand(&rng);
}

/* pd_unit_hashes() gives the library's XXH3 (the reference: the AVX2 build
 * must not change a hash) for every length across its paths (up to 16, 128
 * and 240 bytes, then stripes of 64 and blocks of 1,024), at every
 * alignment, and for texts of several blocks. */
static void test_unit_hashes(void)
{
    enum { MAX = 2100, BIG = 100000 };
    char *buf = malloc(BIG + 64);
    uint64_t state = 7;
    for (size_t i = 0; i < BIG + 64; i++)
        buf[i] = (char)check_rand(&state);
    unsigned wrong = 0, cases = 0;
    for (size_t len = 0; len <= MAX + 64; len += len < MAX ? 1 : 8191) {
        for (size_t at = 0; at < (len < 300 ? 32 : 3); at++, cases++) {
            const char *a = buf + at, *b = buf + BIG - len - at; /* two texts apart */
            uint64_t bytes;
            pd_h128 key;
            pd_unit_hashes(a, len, b, len, &bytes, &key);
            XXH128_hash_t h = XXH3_128bits(b, len);
            wrong += bytes != XXH3_64bits(a, len) || key.lo != h.low64 || key.hi != h.high64;
        }
    }
    uint64_t bytes;
    pd_h128 key;
    pd_unit_hashes(buf, BIG, "", 0, &bytes, &key);
    wrong += bytes != XXH3_64bits(buf, BIG) || key.lo != XXH3_128bits("", 0).low64;
    CHECK(cases > 10000 && wrong == 0);
    pd_unit_hashes("", 0, buf, BIG, &bytes, &key);
    CHECK(bytes == UINT64_C(0x2D06800538D394C2)); /* XXH3-64 of nothing, as published */
    CHECK(key.hi == XXH3_128bits(buf, BIG).high64);
    free(buf);
}

int main(void)
{
    test_unit_hashes();
    enum { N = 200000 };
    pd_h128 *keys = malloc((N + 1) * sizeof *keys);
    pd_exact t;
    CHECK(pd_exact_init(&t, 16) == PD_OK);
    /* Groups of four: a random key, then one with its hi (slot) and
     * another lo, one with its lo and another hi, and one that differs from
     * the first in lo's top bit only. */
    for (size_t i = 0; i < N; i++) {
        pd_h128 k = {next(), next()};
        if (i % 4 == 1)
            k.hi = keys[i - 1].hi;
        else if (i % 4 == 2)
            k.lo = keys[i - 2].lo;
        else if (i % 4 == 3)
            k = (pd_h128){keys[i - 3].lo ^ (UINT64_C(1) << 63), keys[i - 3].hi};
        keys[i] = k;
    }
    unsigned wrong = 0, grown = 0;
    size_t mask = t.mask;
    for (size_t i = 0; i < N; i++) {
        uint32_t id;
        wrong += pd_exact_intern(&t, keys[i], &id) != PD_OK || id != i;
        grown += t.mask != mask;
        mask = t.mask;
    }
    CHECK(wrong == 0 && t.count == N);
    CHECK(grown >= 8); /* from 1,024 slots to 2^18 */
    /* Rebuilt on four threads (the scanner's growth): every key is still found. */
    mask = t.mask;
    pd_pool *pool = pd_pool_new(4);
    CHECK(pool && pd_exact_reserve(&t, 3 * N, pool, 4) == PD_OK && t.mask > mask);
    pd_pool_free(pool);
    for (size_t i = 0; i < N; i++) {
        uint32_t id;
        wrong += pd_exact_find(&t, keys[i]) != i;
        wrong += pd_exact_intern(&t, keys[i], &id) != PD_OK || id != i; /* no new id */
    }
    CHECK(wrong == 0 && t.count == N);
    for (size_t i = 0; i < N; i++) {
        /* the same tag, and a slot the table's mask may not tell apart */
        pd_h128 other = {keys[i].lo, keys[i].hi ^ (UINT64_C(1) << 40)};
        pd_h128 near = {keys[i].lo ^ (UINT64_C(1) << 62), keys[i].hi}; /* same slot */
        pd_h128 low = {keys[i].lo ^ 1, keys[i].hi};
        wrong += pd_exact_find(&t, other) != UINT32_MAX;
        wrong += pd_exact_find(&t, near) != UINT32_MAX;
        wrong += pd_exact_find(&t, low) != UINT32_MAX;
    }
    CHECK(wrong == 0);
    pd_exact_release(&t);
    free(keys);
    return check_done("test_exact");
}
