/*
 * lsh.c - locality-sensitive hashing by banding.
 *
 * A signature of b*r values is cut into b bands of r rows; each band is
 * hashed (vector multiply-shift, see pd_lsh_keys) to a 32-bit key. Two
 * units become a candidate pair when they share a key in some band, which
 * happens with probability 1-(1-s^r)^b for Jaccard s.
 *
 * Choosing (b, r): verification removes false positives, a false negative is
 * lost for good, so pd_lsh_choose() weighs the false-negative mass of the
 * S-curve above the threshold PD_LSH_FN_WEIGHT times more than the
 * false-positive mass below it. (Equal weights put the curve's midpoint above
 * the threshold and lose about a quarter of the pairs just over it.)
 *
 * Buckets: for each band, the keys met only once (most of them) are set
 * aside first with two bitmaps (keys seen, keys seen again, by their top
 * bits); the (key, id) pairs left are radix-sorted by key, ids ascending
 * within a key. A bucket of n members yields the pairs (first,
 * member) and (one of the BUCKET_WINDOW previous members, member): O(n), so a
 * template line that fills a bucket with a million variants costs a few
 * million pairs, not 5e11. Union-find then joins the bucket; the window lets
 * a member that is close to its neighbours but not to the first still be
 * verified, and pairs are found in other bands too.
 */
#include "internal.h"

#include <math.h>

/* Each member of a bucket is paired with the first member and with the
 * BUCKET_WINDOW members before it. On bench/'s corpus a window of 1 verifies
 * 99.3% of the pairs over the threshold, 4 verifies 99.95%, 16 no more. */
enum { BUCKET_WINDOW = 4 };

/* The bitmaps that set single keys aside: 2^BITMAP_MIN to 2^BITMAP_MAX bits. */
enum { BITMAP_MIN = 12, BITMAP_MAX = 30 };

double pd_lsh_probability(double s, unsigned bands, unsigned rows)
{
    return 1.0 - pow(1.0 - pow(s, (double)rows), (double)bands);
}

/* The S-curve is integrated by the midpoint rule on STEPS points below the
 * threshold and STEPS above (enough to rank (b, r): 200 chose the same pairs
 * for T = 0.5..0.95). P(s) = 1 - (1 - s^r)^b is built by repeated products
 * as b grows, with no pow(): start-up matters for small inputs. */
enum { STEPS = 50 };

void pd_lsh_choose(double t, unsigned perms, unsigned *bands, unsigned *rows)
{
    double s[2 * STEPS], sr[2 * STEPS], q[2 * STEPS];
    for (int i = 0; i < STEPS; i++) {
        s[i] = (i + 0.5) * t / STEPS;                         /* below t */
        s[STEPS + i] = t + (i + 0.5) * (1.0 - t) / STEPS;    /* above t */
        sr[i] = sr[STEPS + i] = 1.0;
    }
    double best = INFINITY, h_lo = t / STEPS, h_hi = (1.0 - t) / STEPS;
    *bands = 1;
    *rows = perms ? perms : 1;
    for (unsigned r = 1; r <= perms; r++) {
        for (int i = 0; i < 2 * STEPS; i++) {
            sr[i] *= s[i]; /* s^r */
            q[i] = 1.0;    /* (1 - s^r)^b, for b = 0 */
        }
        for (unsigned b = 1; b * r <= perms; b++) {
            double fp = 0, fn = 0;
            for (int i = 0; i < STEPS; i++) {
                q[i] *= 1.0 - sr[i];
                q[STEPS + i] *= 1.0 - sr[STEPS + i];
                fp += 1.0 - q[i];       /* P(s) below t */
                fn += q[STEPS + i];     /* 1 - P(s) above t */
            }
            double cost = fp * h_lo + PD_LSH_FN_WEIGHT * fn * h_hi;
            if (cost < best - 1e-12 || (cost < best + 1e-12 && b < *bands)) {
                best = cost;
                *bands = b;
                *rows = r;
            }
        }
    }
}

/* The multipliers: a fixed splitmix64 sequence, so a signature's keys are
 * the same on every machine and for every seed. */
uint64_t *pd_lsh_mult_new(unsigned rows)
{
    uint64_t *m = malloc(((size_t)rows + 1) * sizeof *m), state = 0;
    for (unsigned i = 0; m && i <= rows; i++)
        m[i] = pd_splitmix64(&state);
    return m;
}

void pd_lsh_keys(const uint32_t *sig, unsigned bands, unsigned rows, const uint64_t *mult,
                 uint32_t *keys)
{
    /* Vector multiply-shift (Dietzfelbinger): the top 32 bits of
     * m_r + sum m_i * v_i mod 2^64 over the band's rows v_i, from a
     * 2-universal family. The products are independent, where a chain of
     * multiply-xorshift steps waited on each other (27 -> 15 ms for 294,000
     * signatures of 21 bands x 6 rows, in a scratch loop). Every band uses
     * the same multipliers: bands are bucketed apart. A key collision only
     * adds a candidate, which verification drops. */
    for (unsigned j = 0; j < bands; j++) {
        const uint32_t *v = sig + (size_t)j * rows;
        uint64_t h = mult[rows];
        for (unsigned i = 0; i < rows; i++)
            h += mult[i] * v[i];
        keys[j] = (uint32_t)(h >> 32);
    }
}

typedef struct band_job {
    const pd_bandkeys *keys;
    uint32_t n;
    unsigned bands, first; /* this round's bands are first, first + 1, ... */
    uint64_t **v, **tmp;  /* per thread: (key, id) pairs, then sort scratch */
    uint64_t **seen;      /* per thread: the bitmaps of keys seen once and again */
    unsigned bits;        /* a bitmap has 2^bits bits, indexed by a key's top bits */
    size_t *cap_tmp;      /* per thread: the scratch's room */
    uint64_t **pairs;     /* per band */
    size_t *npairs;
    pd_status *st;
} band_job;

/* The pairs a bucket of n members yields: each member after the first is
 * paired with the first and with the BUCKET_WINDOW members before it (as
 * many as there are after the first). */
static size_t bucket_pairs(size_t n)
{
    size_t k = 0;
    for (size_t e = 1; e < n; e++)
        k += 1 + (e - 1 < BUCKET_WINDOW ? e - 1 : BUCKET_WINDOW);
    return k;
}

static size_t unique(uint64_t *v, size_t n)
{
    size_t u = 0;
    for (size_t i = 0; i < n; i++)
        if (u == 0 || v[i] != v[u - 1])
            v[u++] = v[i];
    return u;
}

/* The candidate pairs of band j, sorted and unique: its (key, id) pairs
 * sorted by key (ids stay ascending within a key), each bucket paired as the
 * file comment says. */
static pd_status band_pairs(band_job *b, unsigned tid, size_t j)
{
    uint64_t *v = b->v[tid];
    uint32_t *key = (uint32_t *)b->tmp[tid]; /* the sort's scratch holds the keys first */
    PD_TRY(pd_bandkeys_read(b->keys, (unsigned)j, key));
    /* Only keys whose top bits were seen twice can share a bucket. */
    size_t words = ((size_t)1 << b->bits) / 64, m = 0;
    uint64_t *once = b->seen[tid], *again = once + words;
    memset(once, 0, 2 * words * sizeof *once);
    unsigned shift = 32 - b->bits;
    for (uint32_t i = 0; i < b->n; i++) {
        uint32_t x = key[i] >> shift;
        uint64_t bit = UINT64_C(1) << (x & 63);
        again[x >> 6] |= once[x >> 6] & bit;
        once[x >> 6] |= bit;
    }
    for (uint32_t i = 0; i < b->n; i++) {
        uint32_t x = key[i] >> shift;
        if (again[x >> 6] >> (x & 63) & 1)
            v[m++] = (uint64_t)key[i] << 32 | i;
    }
    pd_sort_u64_high(v, m, b->tmp[tid]);
    size_t total = 0, e;
    for (size_t s = 0; s < m; s = e) {
        for (e = s + 1; e < m && v[e] >> 32 == v[s] >> 32;)
            e++;
        total += bucket_pairs(e - s);
    }
    uint64_t *out = b->pairs[j] = pd_alloc((total + 1) * sizeof *out);
    if (!out)
        return PD_ENOMEM;
    pd_prefault(out, total * sizeof *out);
    size_t k = 0;
    for (size_t s = 0; s < m; s = e) {
        for (e = s + 1; e < m && v[e] >> 32 == v[s] >> 32; e++) {
            out[k++] = (uint64_t)(uint32_t)v[s] << 32 | (uint32_t)v[e];
            for (size_t w = e - 1; w > s && w + BUCKET_WINDOW >= e; w--)
                out[k++] = (uint64_t)(uint32_t)v[w] << 32 | (uint32_t)v[e];
        }
    }
    PD_TRY(PD_REGROW(b->tmp[tid], b->cap_tmp[tid], k + 1));
    pd_sort_u64(out, k, b->tmp[tid]);
    b->npairs[j] = unique(out, k);
    return PD_OK;
}

static void band(void *ctx, unsigned tid, size_t nth)
{
    band_job *b = ctx;
    size_t j = b->first + nth;
    b->st[j] = band_pairs(b, tid, j);
}

/* *l (n_l pairs) and p (n_p), both sorted and unique, merged into tmp,
 * which then becomes *l: sorted and unique. */
static pd_status merge_pairs(uint64_t **l, size_t *n_l, size_t *cap_l, uint64_t **tmp,
                             size_t *cap_tmp, const uint64_t *p, size_t n_p)
{
    PD_TRY(PD_REGROW(*tmp, *cap_tmp, *n_l + n_p + 1));
    pd_prefault(*tmp, (*n_l + n_p) * sizeof **tmp);
    const uint64_t *a = *l;
    uint64_t *out = *tmp;
    size_t na = *n_l, i = 0, j = 0, k = 0;
    while (i < na && j < n_p) {
        uint64_t x = a[i] <= p[j] ? a[i] : p[j];
        i += a[i] == x;
        j += p[j] == x;
        out[k++] = x;
    }
    if (i < na)
        memcpy(out + k, a + i, (na - i) * sizeof *out);
    k += na - i;
    if (j < n_p)
        memcpy(out + k, p + j, (n_p - j) * sizeof *out);
    k += n_p - j;
    *tmp = *l; /* swap: the merged list becomes the list */
    *l = out;
    size_t cap = *cap_l;
    *cap_l = *cap_tmp;
    *cap_tmp = cap;
    *n_l = k;
    return PD_OK;
}

pd_status pd_lsh_pairs(const pd_bandkeys *keys, unsigned bands, pd_pool *pool, unsigned threads,
                       uint64_t **pairs, size_t *npairs)
{
    uint32_t n = (uint32_t)pd_bandkeys_count(keys);
    *pairs = NULL;
    *npairs = 0;
    if (threads > bands)
        threads = bands;
    if ((size_t)n * bands < (1u << 16))
        threads = 1; /* starting a thread costs more than the work */
    if (threads == 0)
        threads = 1;
    band_job b = {keys,
                  n,
                  bands,
                  0,
                  calloc(threads, sizeof *b.v),
                  calloc(threads, sizeof *b.tmp),
                  calloc(threads, sizeof *b.seen),
                  BITMAP_MIN,
                  calloc(threads, sizeof *b.cap_tmp),
                  calloc(bands, sizeof *b.pairs),
                  calloc(bands, sizeof *b.npairs),
                  calloc(bands, sizeof *b.st)};
    /* About eight bits a key: one key in eight that is met once shares its
     * bits with another and goes on to the sort. */
    while (b.bits < BITMAP_MAX && ((size_t)1 << b.bits) < 8 * (size_t)n)
        b.bits++;
    pd_status st = PD_ENOMEM;
    uint64_t *l = NULL, *tmp = NULL;
    size_t n_l = 0, cap_l = 0, cap_tmp = 0;
    if (!b.v || !b.tmp || !b.seen || !b.cap_tmp || !b.pairs || !b.npairs || !b.st)
        goto done;
    for (unsigned t = 0; t < threads; t++) {
        if (!(b.v[t] = pd_alloc(((size_t)n + 1) * sizeof **b.v)) ||
            !(b.tmp[t] = pd_alloc(((size_t)n + 1) * sizeof **b.tmp)) ||
            !(b.seen[t] = pd_alloc(((size_t)1 << b.bits) / 4)))
            goto done;
        b.cap_tmp[t] = (size_t)n + 1;
        /* Each band reads its n keys into tmp; v holds only the keys met
         * again (40,000 of 290,000 a band for 100 MB of news), so it is
         * left to fault in as it fills. */
        pd_prefault(b.tmp[t], (size_t)n * sizeof(uint32_t));
    }
    /* Bands run `threads` at a time, each sorting its own pairs. While one
     * round runs, the main thread merges the last round's pairs into the list
     * in band order (then joins the round): the same list for any thread
     * count. */
    st = PD_GROW(l, cap_l, 1); /* the list exists, even when empty */
    for (unsigned merged = 0; merged < bands && st == PD_OK;) {
        unsigned round = 0;
        if (b.first < bands) {
            round = bands - b.first < threads ? bands - b.first : threads;
            pd_parallel_start(pool, threads, round, band, &b);
        }
        for (; merged < b.first && st == PD_OK; merged++) {
            st = b.st[merged];
            if (st == PD_OK)
                st = merge_pairs(&l, &n_l, &cap_l, &tmp, &cap_tmp, b.pairs[merged],
                                 b.npairs[merged]);
            free(b.pairs[merged]);
            b.pairs[merged] = NULL;
        }
        if (round) {
            pd_parallel_finish(pool);
            b.first += round;
        }
    }
    if (st == PD_OK) {
        *pairs = l;
        *npairs = n_l;
        l = NULL;
    }
done:
    free(l);
    free(tmp);
    for (unsigned t = 0; t < threads && b.v && b.tmp && b.seen; t++) {
        free(b.v[t]);
        free(b.tmp[t]);
        free(b.seen[t]);
    }
    for (unsigned j = 0; j < bands && b.pairs; j++)
        free(b.pairs[j]);
    free(b.v);
    free(b.tmp);
    free(b.seen);
    free(b.cap_tmp);
    free(b.pairs);
    free(b.npairs);
    free(b.st);
    return st;
}
