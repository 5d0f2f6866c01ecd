/*
 * verify.c - from LSH buckets to verified near pairs.
 *
 * The band keys of the distinct texts give candidate pairs (lsh.c); the keys
 * are freed at once. Each text in a candidate pair then gets a profile,
 * recomputed from its first occurrence, which is re-read by offset: its sorted
 * set of shingle hashes (or, with --no-verify, its MinHash signature). Only
 * candidates are recomputed, so a corpus of unique lines costs nothing here.
 * Texts are read on the main thread in batches of bounded size and profiled in
 * parallel. Every candidate pair is then scored: the exact Jaccard similarity
 * of the two shingle sets (or the signature estimate), and kept if it reaches
 * the threshold.
 */
#include "internal.h"

#include <stdlib.h>

enum { BATCH_TEXT_BYTES = 16 << 20, BATCH_ITEMS = 1 << 16, PAIR_BLOCK = 4096 };

typedef struct item {
    uint32_t text;
    size_t off, len; /* in the batch's arena */
    uint64_t *prof;
    size_t n;
    pd_status st;
} item;

typedef struct vstate {
    pd_scan *sc;
    char *arena;
    item *items;
    size_t n_items;
    pd_buf *norm; /* one per thread */
} vstate;

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* The profile of one text: sorted distinct shingle hashes, or a signature
 * packed two slots to a uint64_t. */
static pd_status profile(pd_scan *sc, pd_buf *norm, const char *text, size_t len, item *it)
{
    PD_TRY(pd_normalize(text, len, sc->o.norm, norm, NULL));
    size_t cap = PD_SHINGLE_MAX(norm->len), words = (sc->o.perms + 1) / 2;
    uint64_t *sh = malloc(cap * sizeof *sh);
    if (!sh)
        return PD_ENOMEM;
    size_t n = pd_shingles(norm->data, norm->len, sc->o.shingle, sh, cap);
    assert(n <= cap);
    if (sc->o.verify) {
        qsort(sh, n, sizeof *sh, cmp_u64);
        size_t u = 0;
        for (size_t i = 0; i < n; i++)
            if (u == 0 || sh[i] != sh[u - 1])
                sh[u++] = sh[i];
        it->prof = sh;
        it->n = u;
        return PD_OK;
    }
    uint64_t *sig = malloc(words * sizeof *sig);
    if (!sig) {
        free(sh);
        return PD_ENOMEM;
    }
    sig[words - 1] = 0;
    pd_minhash_sign(sc->mh, sh, n, (uint32_t *)sig);
    free(sh);
    it->prof = sig;
    it->n = words;
    return PD_OK;
}

static void profile_job(void *ctx, unsigned tid, size_t i)
{
    vstate *v = ctx;
    item *it = &v->items[i];
    it->st = profile(v->sc, &v->norm[tid], v->arena + it->off, it->len, it);
}

/* Append a batch's profiles to the pool, in text order. */
static pd_status store_batch(pd_scan *sc, vstate *v, size_t *cap_pool)
{
    for (size_t i = 0; i < v->n_items; i++) {
        item *it = &v->items[i];
        PD_TRY(it->st);
        size_t at = sc->prof_off[sc->n_prof];
        PD_TRY(PD_GROW(sc->prof_pool, *cap_pool, at + it->n));
        memcpy(sc->prof_pool + at, it->prof, it->n * sizeof *it->prof);
        free(it->prof);
        it->prof = NULL;
        sc->prof_of[it->text] = (uint32_t)sc->n_prof;
        sc->prof_off[++sc->n_prof] = at + it->n;
    }
    return PD_OK;
}

/* Read and profile every text marked in prof_of (0 = wanted). */
static pd_status build_profiles(pd_scan *sc, const pd_source *src, size_t wanted)
{
    vstate v = {.sc = sc};
    size_t cap_pool = 0, cap_arena = 0;
    pd_status st = PD_ENOMEM;
    sc->prof_off = malloc((wanted + 1) * sizeof *sc->prof_off);
    v.items = calloc(BATCH_ITEMS, sizeof *v.items);
    v.norm = calloc(sc->threads, sizeof *v.norm);
    if (!sc->prof_off || !v.items || !v.norm)
        goto done;
    sc->prof_off[0] = 0;
    size_t t = 0;
    while (t < sc->n_texts) {
        size_t used = 0;
        v.n_items = 0;
        for (; t < sc->n_texts && v.n_items < BATCH_ITEMS && used < BATCH_TEXT_BYTES; t++) {
            if (sc->prof_of[t] != 0)
                continue;
            const pd_urec *u = &sc->units[sc->first[t]];
            size_t len = (size_t)(u->byte_end - u->byte_start);
            if ((st = pd_grow((void **)&v.arena, &cap_arena, used + len + 1, 1)) != PD_OK)
                goto done;
            if ((st = src->read(src->ctx, u->doc, u->byte_start, len, v.arena + used)) != PD_OK) {
                pd_scan_fail(sc, "cannot read '%s' again", src->name(src->ctx, u->doc));
                goto done;
            }
            v.items[v.n_items++] = (item){.text = (uint32_t)t, .off = used, .len = len};
            used += len;
        }
        pd_parallel_for(sc->threads, v.n_items, profile_job, &v);
        if ((st = store_batch(sc, &v, &cap_pool)) != PD_OK)
            goto done;
    }
    st = PD_OK;
done:
    for (size_t i = 0; v.items && i < v.n_items; i++)
        free(v.items[i].prof);
    for (unsigned i = 0; v.norm && i < sc->threads; i++)
        pd_buf_release(&v.norm[i]);
    free(v.norm);
    free(v.items);
    free(v.arena);
    return st;
}

double pd_text_similarity(const pd_scan *sc, uint32_t ta, uint32_t tb)
{
    if (ta == tb)
        return 1.0;
    uint32_t pa = sc->prof_of[ta], pb = sc->prof_of[tb];
    const uint64_t *a = sc->prof_pool + sc->prof_off[pa], *b = sc->prof_pool + sc->prof_off[pb];
    if (sc->o.verify)
        return pd_jaccard_sorted(a, sc->prof_off[pa + 1] - sc->prof_off[pa], b,
                                 sc->prof_off[pb + 1] - sc->prof_off[pb]);
    return pd_minhash_jaccard((const uint32_t *)a, (const uint32_t *)b, sc->o.perms);
}

typedef struct score {
    pd_scan *sc;
    const uint64_t *pairs;
    float *sim;
    size_t n;
} score;

static void score_job(void *ctx, unsigned tid, size_t blk)
{
    PD_UNUSED(tid);
    score *s = ctx;
    size_t end = (blk + 1) * PAIR_BLOCK < s->n ? (blk + 1) * PAIR_BLOCK : s->n;
    for (size_t i = blk * PAIR_BLOCK; i < end; i++) {
        double j = pd_text_similarity(s->sc, (uint32_t)(s->pairs[i] >> 32), (uint32_t)s->pairs[i]);
        s->sim[i] = j >= s->sc->o.threshold ? (float)j : -1.0f; /* -1: below the threshold */
    }
}

pd_status pd_verify_run(pd_scan *sc, const pd_source *src)
{
    uint64_t *pairs;
    size_t n;
    pd_status st = pd_lsh_pairs(sc->keys, (uint32_t)sc->n_texts, sc->bands, &pairs, &n);
    free(sc->keys);
    sc->keys = NULL;
    if (st != PD_OK) {
        pd_scan_fail(sc, "out of memory while pairing candidates");
        return st;
    }
    sc->stats.candidates = n;
    sc->prof_of = malloc((sc->n_texts + 1) * sizeof *sc->prof_of);
    float *sim = malloc((n + 1) * sizeof *sim);
    if (!sc->prof_of || !sim) {
        free(pairs);
        free(sim);
        pd_scan_fail(sc, "out of memory while verifying candidates");
        return PD_ENOMEM;
    }
    memset(sc->prof_of, 0xFF, sc->n_texts * sizeof *sc->prof_of);
    size_t wanted = 0;
    for (size_t i = 0; i < n; i++)
        for (int side = 0; side < 2; side++) {
            uint32_t t = (uint32_t)(pairs[i] >> (side ? 0 : 32));
            if (sc->prof_of[t] == UINT32_MAX) {
                sc->prof_of[t] = 0;
                wanted++;
            }
        }
    st = build_profiles(sc, src, wanted);
    if (st != PD_OK) {
        if (!sc->err[0])
            pd_scan_fail(sc, "%s while verifying candidates", pd_strerror(st));
        free(pairs);
        free(sim);
        return st;
    }
    score s = {sc, pairs, sim, n};
    pd_parallel_for(sc->threads, (n + PAIR_BLOCK - 1) / PAIR_BLOCK, score_job, &s);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (sim[i] >= 0) {
            pairs[k] = pairs[i];
            sim[k++] = sim[i];
        }
    sc->near_pairs = pairs;
    sc->near_sim = sim;
    sc->n_near = k;
    sc->stats.verified = k;
    return PD_OK;
}
