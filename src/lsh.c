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

/* A thread's scratch, kept from band to band. */
typedef struct band_thread {
    _Alignas(64) uint64_t *v, *tmp; /* (key, id) pairs, then sort scratch */
    uint64_t *seen;                 /* the bitmaps of keys seen once and again */
    uint64_t *pairs;                /* the band's candidate pairs */
    size_t cap_tmp, cap_pairs;
} band_thread;

typedef struct band_job {
    const pd_bandkeys *keys;
    uint32_t n;
    unsigned bits;   /* a bitmap has 2^bits bits, indexed by a key's top bits */
    band_thread *t;  /* per thread */
    pd_status *st;   /* per band */
    /* the pairs of the bands done, sorted and unique, and room to merge */
    pthread_mutex_t lock;
    uint64_t *list, *spare;
    size_t n_list, cap_list, cap_spare;
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

static pd_status merge_pairs(uint64_t **l, size_t *n_l, size_t *cap_l, uint64_t **tmp,
                             size_t *cap_tmp, const uint64_t *p, size_t n_p);

/* The candidate pairs of band j, sorted and unique, in t->pairs (n of them):
 * its (key, id) pairs sorted by key (ids stay ascending within a key), each
 * bucket paired as the file comment says. The pairs' room is kept from band
 * to band: freed and allocated again, it was faulted in afresh for each band
 * on a helper thread, whose malloc() arena gives freed memory back (590 page
 * faults, against 60 on one thread, for 100 MB of news). */
static pd_status band_pairs(band_job *b, band_thread *t, size_t j, size_t *n)
{
    uint64_t *v = t->v;
    uint32_t *key = (uint32_t *)t->tmp; /* the sort's scratch holds the keys first */
    PD_TRY(pd_bandkeys_read(b->keys, (unsigned)j, key));
    /* Only keys whose top bits were seen twice can share a bucket. */
    size_t words = ((size_t)1 << b->bits) / 64, m = 0;
    uint64_t *once = t->seen, *again = once + words;
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
    pd_sort_u64_high(v, m, t->tmp);
    size_t total = 0, e;
    for (size_t s = 0; s < m; s = e) {
        for (e = s + 1; e < m && v[e] >> 32 == v[s] >> 32;)
            e++;
        total += bucket_pairs(e - s);
    }
    PD_TRY(PD_REGROW(t->pairs, t->cap_pairs, total + 1));
    uint64_t *p = t->pairs;
    pd_prefault(p, total * sizeof *p);
    size_t k = 0;
    for (size_t s = 0; s < m; s = e) {
        for (e = s + 1; e < m && v[e] >> 32 == v[s] >> 32; e++) {
            p[k++] = (uint64_t)(uint32_t)v[s] << 32 | (uint32_t)v[e];
            for (size_t w = e - 1; w > s && w + BUCKET_WINDOW >= e; w--)
                p[k++] = (uint64_t)(uint32_t)v[w] << 32 | (uint32_t)v[e];
        }
    }
    PD_TRY(PD_REGROW(t->tmp, t->cap_tmp, k + 1));
    pd_sort_u64(p, k, t->tmp);
    *n = unique(p, k);
    return PD_OK;
}

/* A thread's scratch, made by the thread at its first band: each thread
 * maps its own pages, in parallel. Each band reads its n keys into tmp; v
 * holds only the keys met again (40,000 of 290,000 a band for 100 MB of
 * news), so it is left to fault in as it fills. */
static pd_status band_thread_init(const band_job *b, band_thread *t)
{
    if (t->seen)
        return PD_OK;
    if (!t->v && !(t->v = pd_alloc(((size_t)b->n + 1) * sizeof *t->v)))
        return PD_ENOMEM;
    if (!t->tmp) {
        if (!(t->tmp = pd_alloc(((size_t)b->n + 1) * sizeof *t->tmp)))
            return PD_ENOMEM;
        t->cap_tmp = (size_t)b->n + 1;
        pd_prefault(t->tmp, (size_t)b->n * sizeof(uint32_t));
    }
    return (t->seen = pd_alloc(((size_t)1 << b->bits) / 4)) ? PD_OK : PD_ENOMEM;
}

/* Band j's pairs, added to the list. */
static void band(void *ctx, unsigned tid, size_t j)
{
    band_job *b = ctx;
    band_thread *t = &b->t[tid];
    size_t n = 0;
    b->st[j] = band_thread_init(b, t);
    if (b->st[j] == PD_OK)
        b->st[j] = band_pairs(b, t, j, &n);
    if (b->st[j] == PD_OK) {
        pthread_mutex_lock(&b->lock);
        b->st[j] = merge_pairs(&b->list, &b->n_list, &b->cap_list, &b->spare, &b->cap_spare,
                               t->pairs, n);
        pthread_mutex_unlock(&b->lock);
    }
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
    band_job b = {.keys = keys, .n = n, .bits = BITMAP_MIN,
                  .t = aligned_alloc(64, threads * sizeof *b.t),
                  .st = calloc(bands, sizeof *b.st)};
    if (b.t)
        memset(b.t, 0, threads * sizeof *b.t);
    /* About eight bits a key: one key in eight that is met once shares its
     * bits with another and goes on to the sort. */
    while (b.bits < BITMAP_MAX && ((size_t)1 << b.bits) < 8 * (size_t)n)
        b.bits++;
    pd_status st = PD_ENOMEM;
    if (!b.t || !b.st || PD_GROW(b.list, b.cap_list, 1) != PD_OK) /* it exists, even when empty */
        goto done;
    /* The bands are taken by the threads as each is free (in rounds of one
     * band a thread, the threads waited for the slowest band of each: 8 ms
     * of 40 for 100 MB of news at -j2), and each band's pairs are merged
     * into the list as the band ends, one merge at a time. The list, their
     * union, sorted and unique, is the same for any thread count and order;
     * a thread holds one band's pairs at a time. */
    pthread_mutex_init(&b.lock, NULL);
    pd_parallel_for(pool, threads, bands, band, &b);
    pthread_mutex_destroy(&b.lock);
    st = PD_OK;
    for (unsigned j = 0; j < bands && st == PD_OK; j++)
        st = b.st[j];
    if (st == PD_OK) {
        *pairs = b.list;
        *npairs = b.n_list;
        b.list = NULL;
    }
done:
    for (unsigned t = 0; t < threads && b.t; t++) {
        free(b.t[t].v);
        free(b.t[t].tmp);
        free(b.t[t].seen);
        free(b.t[t].pairs);
    }
    free(b.t);
    free(b.list);
    free(b.spare);
    free(b.st);
    return st;
}
