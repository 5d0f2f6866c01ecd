/* test_lsh.c - candidate pairs from LSH buckets (pd_lsh_pairs): a small case
 * worked by hand (the first member and a window of four before each member),
 * and a large one whose bands repeat each other's pairs, against the same
 * rule applied plainly (qsort of all bands' pairs), for 1, 2 and 3 threads. */
#include "check.h"
#include "internal.h"

enum { WINDOW = 4 };

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static void test_by_hand(void)
{
    /* One band; bucket 5 holds ids 0 2 3 5 6 7 8, bucket 1 holds 1 4 (with
     * one band, the keys of a block are those of the items in order). */
    const uint32_t keys[] = {5, 1, 5, 5, 1, 5, 5, 5, 5};
    const uint64_t want[] = {
        0ull << 32 | 2, 0ull << 32 | 3, 0ull << 32 | 5, 0ull << 32 | 6, 0ull << 32 | 7,
        0ull << 32 | 8, 1ull << 32 | 4, 2ull << 32 | 3, 2ull << 32 | 5, 2ull << 32 | 6,
        2ull << 32 | 7, 3ull << 32 | 5, 3ull << 32 | 6, 3ull << 32 | 7, 3ull << 32 | 8,
        5ull << 32 | 6, 5ull << 32 | 7, 5ull << 32 | 8, 6ull << 32 | 7, 6ull << 32 | 8,
        7ull << 32 | 8};
    uint64_t *pairs;
    size_t n;
    pd_pool *pool = pd_pool_new(1);
    CHECK(pool && pd_lsh_pairs(keys, 9, 1, pool, 1, &pairs, &n) == PD_OK);
    pd_pool_free(pool);
    CHECK(n == sizeof want / sizeof *want);
    CHECK(n == sizeof want / sizeof *want && memcmp(pairs, want, sizeof want) == 0);
    free(pairs); /* id 8 is not paired with 2: five members before it, four in the window */
}

/* The pairs of band j by the rule, appended to out. */
static size_t band_pairs(const uint32_t *keys, uint32_t n, unsigned bands, unsigned j, uint64_t *out)
{
    uint64_t *v = malloc(n * sizeof *v);
    for (uint32_t i = 0; i < n; i++)
        v[i] = (uint64_t)keys[pd_key_at(i, j, bands)] << 32 | i;
    qsort(v, n, sizeof *v, cmp_u64);
    size_t k = 0;
    for (size_t s = 0, e; s < n; s = e)
        for (e = s + 1; e < n && v[e] >> 32 == v[s] >> 32; e++)
            for (size_t w = e - 1; w + 1 > s; w--)
                if (w == s || w + WINDOW >= e)
                    out[k++] = (v[w] & 0xFFFFFFFF) << 32 | (v[e] & 0xFFFFFFFF);
    free(v);
    return k;
}

static void test_many_bands(void)
{
    /* 8 bands over 60,000 ids in buckets of about 300: 2.4 million pairs with
     * repeats (bands 0, 3 and 6 share their buckets), so each band's sorted
     * pairs are merged into a list that holds many of them already. The last
     * block of keys is not full. */
    enum { N = 60000, BANDS = 8 };
    uint32_t *keys = malloc(PD_KEYS_FOR(N, BANDS) * sizeof *keys);
    for (uint32_t i = 0; i < N; i++)
        for (unsigned j = 0; j < BANDS; j++)
            keys[pd_key_at(i, j, BANDS)] =
                j % 3 == 0 ? i % 200 : (i * (j + 1) + j) % 199 + 1000 * j;
    uint64_t *ref = malloc((size_t)N * BANDS * (WINDOW + 1) * sizeof *ref);
    size_t n_ref = 0;
    for (unsigned j = 0; j < BANDS; j++)
        n_ref += band_pairs(keys, N, BANDS, j, ref + n_ref);
    qsort(ref, n_ref, sizeof *ref, cmp_u64);
    size_t u = 0;
    for (size_t i = 0; i < n_ref; i++)
        if (u == 0 || ref[i] != ref[u - 1])
            ref[u++] = ref[i];
    printf("lsh: %zu pairs from buckets, %zu distinct\n", n_ref, u);
    CHECK(n_ref > 2u << 20 && u < n_ref);
    pd_pool *pool = pd_pool_new(3);
    for (unsigned threads = 1; threads <= 3; threads++) {
        uint64_t *pairs;
        size_t n;
        CHECK(pd_lsh_pairs(keys, N, BANDS, pool, threads, &pairs, &n) == PD_OK);
        CHECK(n == u && memcmp(pairs, ref, u * sizeof *ref) == 0);
        free(pairs);
    }
    pd_pool_free(pool);
    free(ref);
    free(keys);
}

int main(void)
{
    test_by_hand();
    test_many_bands();
    return check_done("test_lsh");
}
