/* test_sort.c - pd_sort_u64, pd_sort_u64_high and pd_sort_spread on sizes
 * around each method's cut-over (insertion, quicksort, buckets, radix) and on
 * random, sorted, reversed and few-valued input, and values whose top bits
 * are alike: the output is ordered and a permutation. */
#include "check.h"
#include "internal.h"

static uint64_t rng = 88172645463325252u;
static uint64_t next(void)
{
    return check_rand(&rng);
}

static int check_sorted(uint64_t *v, size_t n, uint64_t sum, uint64_t xr)
{
    uint64_t s = 0, x = 0;
    for (size_t i = 0; i < n; i++) {
        s += v[i];
        x ^= v[i] * 0x9E3779B97F4A7C15u;
        if (i > 0 && v[i - 1] > v[i])
            return 0;
    }
    return s == sum && x == xr;
}

int main(void)
{
    static const size_t sizes[] = {0, 1, 2, 3, 23, 24, 25, 100, 4096, 4097, 50000};
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        size_t n = sizes[k];
        uint64_t *v = malloc((n + 1) * sizeof *v), *tmp = malloc((n + 1) * sizeof *tmp);
        for (int mode = 0; mode < 4; mode++) {
            uint64_t sum = 0, xr = 0;
            for (size_t i = 0; i < n; i++) {
                v[i] = mode == 0 ? next() : mode == 1 ? i : mode == 2 ? n - i : next() % 3;
                sum += v[i];
                xr ^= v[i] * 0x9E3779B97F4A7C15u;
            }
            uint64_t *w = malloc((n + 1) * sizeof *w);
            memcpy(w, v, n * sizeof *v);
            pd_sort_u64(v, n, tmp);
            CHECK(check_sorted(v, n, sum, xr));
            pd_sort_spread(w, n, tmp);
            CHECK(check_sorted(w, n, sum, xr));
            if (mode == 0) { /* hashes in few buckets: the top bits alike */
                for (size_t i = 0; i < n; i++)
                    w[i] = v[i] >> 20 | (i % 2 ? 0 : UINT64_C(0xFFF) << 52);
                uint64_t s2 = 0, x2 = 0;
                for (size_t i = 0; i < n; i++) {
                    s2 += w[i];
                    x2 ^= w[i] * 0x9E3779B97F4A7C15u;
                }
                pd_sort_spread(w, n, tmp);
                CHECK(check_sorted(w, n, s2, x2));
            }
            free(w);
        }
        /* By the high half, stably: low halves in order go in, and stay in
         * order within each high value. */
        for (size_t i = 0; i < n; i++)
            v[i] = (next() % 7) << 32 | i;
        pd_sort_u64_high(v, n, tmp);
        int ok = 1;
        for (size_t i = 1; i < n; i++)
            ok &= v[i - 1] < v[i];
        CHECK(ok);
        free(v);
        free(tmp);
    }
    return check_done("test_sort");
}
