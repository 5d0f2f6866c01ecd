/* test_lsh.c - band keys and the candidate pairs of LSH buckets: the key of a
 * band (equal rows give equal keys, in any band; a change in any one row
 * changes it; the values themselves, the same on every machine); keys added
 * in batches read back band by band, from a temporary file and from memory
 * (also when no temporary file can be made, or it fills up); pairs (pd_lsh_pairs) in a small
 * case worked by hand (the first member and a window of four before each
 * member), and in a large one whose bands repeat each other's pairs, against
 * the same rule applied plainly (qsort of all bands' pairs), for 1, 2 and 3
 * threads, and in one of mostly single keys with planted repeats. */
#include "check.h"
#include "internal.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>

enum { WINDOW = 4 };

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Band keys of n items (item i's key of band j at keys[i * bands + j]),
 * added `batch` items at a time. */
static pd_bandkeys *store(const uint32_t *keys, uint32_t n, unsigned bands, bool in_memory,
                          uint32_t batch)
{
    pd_bandkeys *k;
    if (pd_bandkeys_new(bands, in_memory, &k) != PD_OK)
        return NULL;
    for (uint32_t first = 0; first < n; first += batch) {
        uint32_t m = n - first < batch ? n - first : batch;
        uint32_t *stage = pd_bandkeys_stage(k, batch); /* room for more than m */
        if (!stage)
            break;
        for (uint32_t i = 0; i < m; i++)
            for (unsigned j = 0; j < bands; j++)
                stage[(size_t)j * batch + i] = keys[(size_t)(first + i) * bands + j];
        if (pd_bandkeys_commit(k, m) != PD_OK)
            break;
    }
    return k;
}

/* Every band read back as it was added, in each way of keeping them. */
static void test_keys(void)
{
    enum { N = 50000, BANDS = 9 };
    uint32_t *keys = malloc((size_t)N * BANDS * sizeof *keys), *band = malloc(N * sizeof *band);
    for (size_t i = 0; i < (size_t)N * BANDS; i++)
        keys[i] = (uint32_t)(i * 2654435761u);
    const char *tmpdir = getenv("TMPDIR");
    char *saved = tmpdir ? strdup(tmpdir) : NULL;
    struct rlimit fsize;
    getrlimit(RLIMIT_FSIZE, &fsize);
    signal(SIGXFSZ, SIG_IGN); /* a write past the limit fails instead */
    /* a file; memory asked for; no file possible; a file that fills up after
     * two batches (files may grow to 600 KB: 2 x 7001 x 9 x 4 bytes fit) */
    for (int way = 0; way < 4; way++) {
        if (way == 2)
            setenv("TMPDIR", "/nonexistent/paradup-test", 1);
        if (way == 3) {
            if (saved)
                setenv("TMPDIR", saved, 1);
            else
                unsetenv("TMPDIR");
            struct rlimit small = {600 << 10, fsize.rlim_max};
            setrlimit(RLIMIT_FSIZE, &small);
        }
        pd_bandkeys *k = store(keys, N, BANDS, way == 1, 7001);
        setrlimit(RLIMIT_FSIZE, &fsize);
        CHECK(k && pd_bandkeys_count(k) == N);
        if (!k)
            continue;
        CHECK(pd_bandkeys_on_file(k) == (way == 0));
        const char *dir;
        int err = pd_bandkeys_failure(k, &dir);
        if (way == 3 && err != EFBIG)
            fprintf(stderr, "keys: a full file gave %s\n", strerror(err));
        CHECK(way == 2   ? err != 0 && strcmp(dir, "/nonexistent/paradup-test") == 0
              : way == 3 ? err == EFBIG
                         : err == 0);
        size_t wrong = 0;
        for (unsigned j = 0; j < BANDS; j++) {
            memset(band, 0, N * sizeof *band);
            CHECK(pd_bandkeys_read(k, j, band) == PD_OK);
            for (size_t i = 0; i < N; i++)
                wrong += band[i] != keys[i * BANDS + j];
        }
        CHECK(wrong == 0);
        pd_bandkeys_free(k);
    }
    if (saved)
        setenv("TMPDIR", saved, 1);
    else
        unsetenv("TMPDIR");
    free(saved);
    free(keys);
    free(band);
}

static void test_by_hand(void)
{
    /* One band; bucket 5 holds ids 0 2 3 5 6 7 8, bucket 1 holds 1 4. */
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
    pd_bandkeys *k = store(keys, 9, 1, false, 4);
    CHECK(pool && k && pd_lsh_pairs(k, 1, pool, 1, &pairs, &n) == PD_OK);
    pd_bandkeys_free(k);
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
        v[i] = (uint64_t)keys[(size_t)i * bands + j] << 32 | i;
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

/* All bands' pairs by the rule, sorted: *n_ref of them, the first *u distinct. */
static uint64_t *reference(const uint32_t *keys, uint32_t n, unsigned bands, size_t *n_ref,
                           size_t *u)
{
    uint64_t *ref = malloc((size_t)n * bands * (WINDOW + 1) * sizeof *ref);
    *n_ref = 0;
    for (unsigned j = 0; j < bands; j++)
        *n_ref += band_pairs(keys, n, bands, j, ref + *n_ref);
    qsort(ref, *n_ref, sizeof *ref, cmp_u64);
    *u = 0;
    for (size_t i = 0; i < *n_ref; i++)
        if (*u == 0 || ref[i] != ref[*u - 1])
            ref[(*u)++] = ref[i];
    return ref;
}

/* pd_lsh_pairs on the keys, added `batch` at a time, on 1 to `threads`
 * threads: the reference's u pairs each time. */
static void check_pairs(const uint32_t *keys, uint32_t n, unsigned bands, bool in_memory,
                        uint32_t batch, unsigned threads, const uint64_t *ref, size_t u)
{
    pd_pool *pool = pd_pool_new(threads);
    pd_bandkeys *k = store(keys, n, bands, in_memory, batch);
    CHECK(pool && k);
    for (unsigned t = 1; t <= threads && k; t++) {
        uint64_t *pairs;
        size_t np;
        CHECK(pd_lsh_pairs(k, bands, pool, t, &pairs, &np) == PD_OK);
        CHECK(np == u && memcmp(pairs, ref, u * sizeof *ref) == 0);
        free(pairs);
    }
    pd_bandkeys_free(k);
    pd_pool_free(pool);
}

static void test_many_bands(void)
{
    /* 8 bands over 60,000 ids in buckets of about 300: 2.4 million pairs with
     * repeats (bands 0, 3 and 6 share their buckets), so each band's sorted
     * pairs are merged into a list that holds many of them already. The keys
     * are added in uneven batches. */
    enum { N = 60000, BANDS = 8 };
    uint32_t *keys = malloc((size_t)N * BANDS * sizeof *keys);
    for (uint32_t i = 0; i < N; i++)
        for (unsigned j = 0; j < BANDS; j++)
            keys[(size_t)i * BANDS + j] =
                j % 3 == 0 ? i % 200 : (i * (j + 1) + j) % 199 + 1000 * j;
    size_t n_ref, u;
    uint64_t *ref = reference(keys, N, BANDS, &n_ref, &u);
    printf("lsh: %zu pairs from buckets, %zu distinct\n", n_ref, u);
    CHECK(n_ref > 2u << 20 && u < n_ref);
    check_pairs(keys, N, BANDS, false, 12345, 3, ref, u);
    free(ref);
    free(keys);
}

/* Mostly keys met once, which are set aside before the sort (by the top bits
 * of their keys): planted repeats must still pair, and keys that share only
 * their top bits with another must not. */
static void test_single_keys(void)
{
    enum { N = 200000, BANDS = 3 };
    uint32_t *keys = malloc((size_t)N * BANDS * sizeof *keys);
    uint64_t x = 88172645463325252ull;
    for (uint32_t i = 0; i < N; i++)
        for (unsigned j = 0; j < BANDS; j++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift64 */
            uint32_t *k = &keys[(size_t)i * BANDS + j];
            *k = (uint32_t)(x >> 32);
            if (i >= 2 && i % 97 == 0)
                *k = keys[(size_t)(i - 1) * BANDS + j]; /* a repeat: a pair */
            else if (i >= 2 && i % 101 == 0)
                *k = keys[(size_t)(i - 2) * BANDS + j] ^ 1; /* the same top bits only */
        }
    size_t n_ref, u;
    uint64_t *ref = reference(keys, N, BANDS, &n_ref, &u);
    printf("lsh: %zu distinct pairs among %d mostly single keys\n", u, N);
    CHECK(u >= N / 97 - 1 && u < N / 50); /* the repeats, and the few chance ones */
    check_pairs(keys, N, BANDS, true, 50000, 2, ref, u);
    free(ref);
    free(keys);
}

/* pd_lsh_keys: a key depends on every row of its band, only on them, and
 * is the same on every machine (three keys checked against the formula
 * computed apart, with Python's integers). */
static void test_key_function(void)
{
    enum { BANDS = 21, ROWS = 6, N = BANDS * ROWS };
    uint64_t *mult = pd_lsh_mult_new(ROWS);
    CHECK(mult != NULL);
    if (!mult)
        return;
    uint32_t sig[N], keys[BANDS], again[BANDS];
    uint64_t x = 0x2545F4914F6CDD1Dull;
    for (unsigned i = 0; i < N; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        sig[i] = (uint32_t)x;
    }
    memcpy(sig + ROWS, sig, ROWS * sizeof *sig); /* band 1 repeats band 0's rows */
    pd_lsh_keys(sig, BANDS, ROWS, mult, keys);
    CHECK(keys[0] == keys[1]);
    printf("lsh: band keys %08x %08x %08x\n", (unsigned)keys[0], (unsigned)keys[2],
           (unsigned)keys[20]);
    CHECK(keys[0] == 0xceb40ccau && keys[2] == 0x8a00fa1fu && keys[20] == 0x2b51d734u);
    int changed = 0, same_elsewhere = 0;
    for (unsigned i = 0; i < N; i++)
        for (unsigned bit = 0; bit < 32; bit += 7) {
            sig[i] ^= 1u << bit;
            pd_lsh_keys(sig, BANDS, ROWS, mult, again);
            sig[i] ^= 1u << bit;
            for (unsigned j = 0; j < BANDS; j++) {
                if (j == i / ROWS)
                    changed += again[j] != keys[j];
                else
                    same_elsewhere += again[j] == keys[j];
            }
        }
    CHECK(changed == N * 5);                      /* every flipped bit of every row */
    CHECK(same_elsewhere == N * 5 * (BANDS - 1)); /* and no other band's key */
    free(mult);
}

int main(void)
{
    test_key_function();
    test_keys();
    test_by_hand();
    test_many_bands();
    test_single_keys();
    return check_done("test_lsh");
}
