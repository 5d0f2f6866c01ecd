/* test_exact.c - the exact-repeat table (exact.c): ids come back for every
 * key interned, across the table's growth and a rebuild on several threads;
 * keys that share the slot bits (hi), the tag (lo folded) or both, but differ
 * in a bit of either half, stay apart; and a lookup of a key never interned
 * finds nothing. */
#include "check.h"
#include "internal.h"

static uint64_t rng = 0x2545F4914F6CDD1Du;
static uint64_t next(void)
{
    return check_rand(&rng);
}

int main(void)
{
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
