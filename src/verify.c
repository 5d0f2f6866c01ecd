/*
 * verify.c - from LSH buckets to verified near pairs.
 *
 * The band keys of the distinct texts give candidate pairs (lsh.c); the keys
 * are freed at once. Each text in a candidate pair then gets a profile,
 * recomputed from its first occurrence, which is re-read by offset: its
 * sorted set of shingle fingerprints, the top 32 bits of its shingle hashes
 * (or, with --no-verify, its MinHash signature). Only candidates are
 * recomputed, so a corpus of unique lines costs nothing here.
 * Texts are planned on the main thread in batches of bounded size; a job of
 * READ_TEXTS texts is read (with one call where the source allows,
 * pd_read_ranges) into its thread's buffer and profiled by that thread,
 * while its bytes are still in that CPU's cache. Every candidate pair is then
 * scored: the Jaccard similarity of the two fingerprint sets (or the
 * signature estimate), and kept if it reaches the threshold.
 *
 * The profiles are kept until clustering has measured each text against its
 * cluster's first, and they grow with the candidates' text (4 bytes a
 * shingle). So past a budget (48 bytes a unit, 16 MiB at least) they are
 * moved to an unlinked temporary file as batches are made; once all are
 * made, all are there, and the file is mapped and read in runs of pairs (or
 * texts) whose profiles fit the budget, its pages given back after each
 * run. The file lives in the page cache, not in the process's memory; where
 * none can be made, the profiles stay in memory.
 */
#define _DEFAULT_SOURCE /* madvise() advice beyond POSIX */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

enum {
    BATCH_TEXT_BYTES = 4 << 20,
    BATCH_ITEMS = 1 << 16,
    PAIR_BLOCK = 4096,
    PROF_FLOOR = 16 << 20,
    PROF_PER_UNIT = 48,
    /* texts a job reads and profiles: their ranges fit one preadv() */
    READ_TEXTS = 500
};

typedef struct item {
    uint32_t text;
    unsigned tid;    /* the thread whose output holds the profile */
    size_t off, len; /* the text in its job's buffer */
    size_t at, n;    /* the profile in that thread's output */
    pd_status st;
} item;

/* What one thread keeps between items: normalized text, shingles, a sort
 * buffer and the profiles it made, which stay there for scoring. */
typedef struct worker {
    _Alignas(64) pd_buf norm;
    pd_normcache nc;
    pd_buf raw;  /* for pd_read_ranges() */
    pd_buf text; /* the texts of the job being profiled */
    uint64_t *sh, *tmp;
    uint32_t *out;
    size_t cap_sh, cap_tmp, cap_out, n_out, ready;
} worker;

typedef struct vstate {
    pd_scan *sc;
    const pd_source *src;
    item *items;
    size_t n_items;
    pd_status *job_st; /* how reading the texts of each job went */
    uint32_t *job_doc; /* and the document it could not read */
    size_t cap_st, cap_doc;
    worker *w; /* one per thread */
    uint64_t *base; /* per thread: where its buffer went in the file */
} vstate;

/* Room for `more` values after w->out's profiles. The buffer holds the
 * thread's profiles until clustering has measured the similarities, so it
 * only grows: its pages are mapped ahead in steps of PREFAULT values with
 * one call each (pd_prefault). */
enum { PREFAULT = 128 << 10 };

static pd_status grow_out(worker *w, size_t more)
{
    size_t need = w->n_out + more;
    if (need > w->cap_out) {
        PD_TRY(PD_GROW(w->out, w->cap_out, need));
        w->ready = w->n_out;
    }
    if (need > w->ready) {
        size_t end = need + PREFAULT < w->cap_out ? need + PREFAULT : w->cap_out;
        pd_prefault(w->out + w->ready, (end - w->ready) * sizeof *w->out);
        w->ready = end;
    }
    return PD_OK;
}

/* The profile of one text into w->out: the top 32 bits of its shingle
 * hashes, sorted and distinct, or its signature. Half the bytes of the whole
 * hashes, for the profiles are kept until clustering; two different shingles
 * of a pair then count as one with probability na * nb / 2^32 (5e-7 for
 * texts of 50 shingles). */
static pd_status profile(pd_scan *sc, worker *w, const char *text, size_t len, item *it)
{
    size_t bad;
    PD_TRY(pd_normalize_at(text, len, sc->o.norm, &w->norm, NULL, &bad, &w->nc));
    size_t cap = PD_SHINGLE_MAX(w->norm.len), perms = sc->o.perms;
    PD_TRY(PD_REGROW(w->sh, w->cap_sh, cap));
    PD_TRY(grow_out(w, cap > perms ? cap : perms));
    size_t n = pd_shingles(w->norm.data, w->norm.len, sc->o.shingle, w->sh, cap);
    uint32_t *dst = w->out + w->n_out;
    it->at = w->n_out;
    if (sc->o.verify) {
        PD_TRY(PD_REGROW(w->tmp, w->cap_tmp, n));
        pd_sort_spread(w->sh, n, w->tmp);
        size_t u = 0;
        for (size_t i = 0; i < n; i++) {
            uint32_t top = (uint32_t)(w->sh[i] >> 32); /* sorted by these bits first */
            if (u == 0 || top != dst[u - 1])
                dst[u++] = top;
        }
        it->n = u;
    } else {
        pd_minhash_sign(sc->mh, w->sh, n, dst);
        it->n = perms;
    }
    w->n_out += it->n;
    return PD_OK;
}

/* Read the texts of job i (items [i * READ_TEXTS, ...)) into this thread's
 * buffer and profile them. */
static void profile_job(void *ctx, unsigned tid, size_t i)
{
    vstate *v = ctx;
    const pd_scan *sc = v->sc;
    worker *w = &v->w[tid];
    size_t from = i * READ_TEXTS;
    size_t to = from + READ_TEXTS < v->n_items ? from + READ_TEXTS : v->n_items;
    const item *last = &v->items[to - 1];
    if ((v->job_st[i] = pd_buf_reserve(&w->text, last->off + last->len + 1)) != PD_OK)
        return;
    pd_range r[READ_TEXTS];
    size_t n = 0;
    for (size_t k = from; k < to; k++) {
        const item *it = &v->items[k];
        const pd_urec *u = &sc->units[sc->first[it->text]];
        if (it->len > 0)
            r[n++] = (pd_range){u->doc, u->byte_start, it->len, w->text.data + it->off};
    }
    v->job_st[i] = n > 0 ? pd_read_ranges(v->src, &w->raw, r, n, &v->job_doc[i]) : PD_OK;
    if (v->job_st[i] != PD_OK)
        return; /* the batch stops: profile_batch() names the document */
    for (size_t k = from; k < to; k++) {
        item *it = &v->items[k];
        it->tid = tid;
        it->st = profile(v->sc, w, w->text.data + it->off, it->len, it);
    }
}

/* Number a batch's profiles in text order; they stay where they were made. */
static pd_status store_batch(pd_scan *sc, vstate *v)
{
    for (size_t i = 0; i < v->n_items; i++) {
        const item *it = &v->items[i];
        PD_TRY(it->st);
        sc->prof_of[it->text] = (uint32_t)sc->n_prof;
        sc->prof_at[sc->n_prof] = (uint64_t)it->tid << PD_PROF_SHIFT | it->at;
        sc->prof_len[sc->n_prof++] = (uint32_t)it->n;
        sc->stats.profile_bytes += it->n * sizeof *sc->prof_map;
    }
    return PD_OK;
}

/* Move the profiles in the threads' buffers to the end of the temporary
 * file (made at the first call) and point prof_at at them there; where no
 * file can be made, leave them and lift the budget. */
static pd_status spill(pd_scan *sc, vstate *v)
{
    const char *dir = "";
    if (sc->prof_fd < 0 && (sc->prof_fd = pd_temp_fd(&dir)) < 0) {
        pd_diagf(sc->o.diag, sc->o.diag_ctx, dir, 0,
                 "cannot move verification profiles to a temporary file here (%s): they are "
                 "held in memory", strerror(errno));
        sc->prof_budget = SIZE_MAX;
        return PD_OK;
    }
    for (unsigned t = 0; t < sc->threads; t++) {
        worker *w = &v->w[t];
        v->base[t] = sc->prof_end;
        if (pd_pwrite_full(sc->prof_fd, w->out, w->n_out * sizeof *w->out,
                           sc->prof_end * sizeof *w->out) != PD_OK) {
            pd_scan_fail(sc, "cannot write verification profiles to a temporary file: %s",
                         strerror(errno));
            return PD_EIO;
        }
        sc->prof_end += w->n_out;
        sc->stats.profile_bytes_on_file += w->n_out * sizeof *w->out;
    }
    const uint64_t mask = ((uint64_t)1 << PD_PROF_SHIFT) - 1;
    for (size_t p = sc->prof_spilled; p < sc->n_prof; p++) {
        uint64_t at = sc->prof_at[p];
        sc->prof_at[p] = (uint64_t)sc->threads << PD_PROF_SHIFT |
                         (v->base[at >> PD_PROF_SHIFT] + (at & mask));
    }
    sc->prof_spilled = sc->n_prof;
    for (unsigned t = 0; t < sc->threads; t++)
        v->w[t].n_out = 0; /* the buffers' pages take the next batches */
    return PD_OK;
}

/* The bytes of profiles held in the threads' buffers. */
static size_t held(const pd_scan *sc, const vstate *v)
{
    size_t n = 0;
    for (unsigned t = 0; t < sc->threads; t++)
        n += v->w[t].n_out;
    return n * sizeof *v->w->out;
}

/* Once all are made: if some went to the file, the rest follow and the file
 * is mapped. */
static pd_status map_profiles(pd_scan *sc, vstate *v)
{
    if (sc->prof_fd < 0)
        return PD_OK;
    PD_TRY(spill(sc, v));
    void *m = mmap(NULL, sc->prof_end * sizeof *sc->prof_map, PROT_READ, MAP_SHARED,
                   sc->prof_fd, 0);
    if (m == MAP_FAILED) {
        pd_scan_fail(sc, "cannot map verification profiles: %s", strerror(errno));
        return PD_EIO;
    }
    sc->prof_map = m;
    return PD_OK;
}

/* The next wanted text at or after *t, or false at the end. */
static bool next_wanted(const pd_scan *sc, size_t *t)
{
    while (*t < sc->n_texts && sc->prof_of[*t] != 0)
        ++*t;
    return *t < sc->n_texts;
}

/* Plan a batch of wanted texts from *t on: each text's place in the buffer
 * of its job (READ_TEXTS texts). */
static pd_status plan_batch(pd_scan *sc, vstate *v, size_t *t)
{
    size_t used = 0, off = 0;
    v->n_items = 0;
    while (v->n_items < BATCH_ITEMS && used < BATCH_TEXT_BYTES && next_wanted(sc, t)) {
        const pd_urec *u = &sc->units[sc->first[*t]];
        size_t len = (size_t)u->len;
        if (v->n_items % READ_TEXTS == 0)
            off = 0; /* a job's first text */
        v->items[v->n_items++] = (item){.text = (uint32_t)*t, .off = off, .len = len};
        off += len;
        used += len;
        ++*t;
    }
    size_t jobs = (v->n_items + READ_TEXTS - 1) / READ_TEXTS;
    PD_TRY(PD_GROW(v->job_st, v->cap_st, jobs));
    PD_TRY(PD_GROW(v->job_doc, v->cap_doc, jobs));
    return PD_OK;
}

/* Read a planned batch and profile its texts, READ_TEXTS a job. */
static pd_status profile_batch(pd_scan *sc, vstate *v)
{
    size_t jobs = (v->n_items + READ_TEXTS - 1) / READ_TEXTS;
    pd_parallel_for(sc->pool, jobs < 2 ? 1 : sc->threads, jobs, profile_job, v);
    for (size_t i = 0; i < jobs; i++)
        if (v->job_st[i] != PD_OK) {
            if (v->job_st[i] != PD_ENOMEM)
                pd_scan_fail(sc, "cannot read '%s' again",
                             v->src->name(v->src->ctx, v->job_doc[i]));
            return v->job_st[i];
        }
    return PD_OK;
}

/* Read and profile every text marked in prof_of (0 = wanted). */
static pd_status build_profiles(pd_scan *sc, const pd_source *src, size_t wanted)
{
    vstate v = {.sc = sc, .src = src};
    pd_status st = PD_ENOMEM;
    sc->prof_at = pd_alloc((wanted + 1) * sizeof *sc->prof_at);
    sc->prof_len = pd_alloc((wanted + 1) * sizeof *sc->prof_len);
    sc->prof_buf = calloc(sc->threads, sizeof *sc->prof_buf);
    v.items = pd_alloc(BATCH_ITEMS * sizeof *v.items);
    v.w = aligned_alloc(64, sc->threads * sizeof *v.w);
    v.base = calloc(sc->threads, sizeof *v.base);
    if (!sc->prof_at || !sc->prof_len || !sc->prof_buf || !v.items || !v.w || !v.base)
        goto done;
    memset(v.w, 0, sc->threads * sizeof *v.w);
    /* Each thread's profiles get room for all of them ahead, as address
     * space only (a value per 4 bytes of an average unit, or a signature):
     * a buffer that grew would move, copying what it holds onto fresh pages. */
    size_t per_text = sc->o.verify ? (size_t)(sc->stats.bytes / (sc->n_units + 1)) / 4 + 1
                                   : sc->o.perms;
    for (unsigned i = 0; i < sc->threads; i++) /* refused, the buffers grow as they fill */
        (void)PD_GROW(v.w[i].out, v.w[i].cap_out, wanted * per_text + 1);
    size_t t = 0;
    while (next_wanted(sc, &t)) {
        if ((st = plan_batch(sc, &v, &t)) != PD_OK ||
            (st = profile_batch(sc, &v)) != PD_OK || (st = store_batch(sc, &v)) != PD_OK ||
            (held(sc, &v) > sc->prof_budget && (st = spill(sc, &v)) != PD_OK))
            goto done;
    }
    st = map_profiles(sc, &v);
done:
    for (unsigned i = 0; v.w && i < sc->threads; i++) {
        pd_buf_release(&v.w[i].norm);
        pd_normcache_release(&v.w[i].nc);
        pd_buf_release(&v.w[i].raw);
        pd_buf_release(&v.w[i].text);
        free(v.w[i].sh);
        free(v.w[i].tmp);
        if (sc->prof_buf && !sc->prof_map)
            sc->prof_buf[i] = v.w[i].out; /* the profiles stay for scoring */
        else
            free(v.w[i].out);
    }
    free(v.w);
    free(v.base);
    free(v.items);
    free(v.job_st);
    free(v.job_doc);
    return st;
}

static const uint32_t *profile_at(const pd_scan *sc, uint32_t p)
{
    uint64_t at = sc->prof_at[p];
    const uint32_t *base = sc->prof_map ? sc->prof_map : sc->prof_buf[at >> PD_PROF_SHIFT];
    return base + (at & (((uint64_t)1 << PD_PROF_SHIFT) - 1));
}

void pd_verify_release(pd_scan *sc)
{
    free(sc->prof_of);
    free(sc->prof_at);
    free(sc->prof_len);
    for (unsigned t = 0; sc->prof_buf && t < sc->threads; t++)
        free(sc->prof_buf[t]);
    free(sc->prof_buf);
    if (sc->prof_map)
        munmap((void *)sc->prof_map, sc->prof_end * sizeof *sc->prof_map);
    if (sc->prof_fd >= 0)
        close(sc->prof_fd);
    sc->prof_fd = -1;
    sc->prof_map = NULL;
    sc->prof_end = 0;
    sc->prof_spilled = 0;
    sc->prof_of = NULL;
    sc->prof_at = NULL;
    sc->prof_len = NULL;
    sc->prof_buf = NULL;
    sc->n_prof = 0;
}

/* The similarity of two texts from their profiles; with verification, -1
 * once it is known to fall short of t (pd_jaccard_at_least32; t = 0 gives
 * the value always). */
static double similarity(const pd_scan *sc, uint32_t ta, uint32_t tb, double t)
{
    if (ta == tb)
        return 1.0;
    uint32_t pa = sc->prof_of[ta], pb = sc->prof_of[tb];
    const uint32_t *a = profile_at(sc, pa), *b = profile_at(sc, pb);
    if (sc->o.verify)
        return pd_jaccard_at_least32(a, sc->prof_len[pa], b, sc->prof_len[pb], t);
    return pd_minhash_jaccard(a, b, sc->o.perms);
}

double pd_text_similarity(const pd_scan *sc, uint32_t ta, uint32_t tb)
{
    return similarity(sc, ta, tb, 0.0);
}

size_t pd_profile_bytes(const pd_scan *sc, uint32_t t)
{
    uint32_t p = sc->prof_of[t];
    return p == UINT32_MAX ? 0 : sc->prof_len[p] * sizeof *sc->prof_map;
}

typedef struct run {
    void (*fn)(void *ctx, size_t from, size_t to);
    void *ctx;
    size_t from, to, grain;
} run;

static void run_range(void *ctx, unsigned tid, size_t i)
{
    PD_UNUSED(tid);
    const run *r = ctx;
    size_t from = r->from + i * r->grain;
    r->fn(r->ctx, from, r->to - from < r->grain ? r->to : from + r->grain);
}

void pd_profiles_for(pd_scan *sc, size_t n, size_t grain, size_t (*bytes)(void *ctx, size_t i),
                     void (*fn)(void *ctx, size_t from, size_t to), void *ctx)
{
    for (size_t from = 0, to; from < n; from = to) {
        to = n;
        if (sc->prof_map) {
            size_t sum = bytes(ctx, from);
            for (to = from + 1; to < n && sum + bytes(ctx, to) <= sc->prof_budget; to++)
                sum += bytes(ctx, to);
        }
        run r = {fn, ctx, from, to, grain};
        size_t ranges = (to - from + grain - 1) / grain;
        pd_parallel_for(sc->pool, ranges < 2 ? 1 : sc->threads, ranges, run_range, &r);
        if (sc->prof_map) /* what the run read is in the page cache still */
            madvise((void *)sc->prof_map, sc->prof_end * sizeof *sc->prof_map, MADV_DONTNEED);
    }
}

typedef struct score {
    pd_scan *sc;
    const uint64_t *pairs;
    float *sim;
    size_t n;
} score;

static void score_range(void *ctx, size_t from, size_t to)
{
    score *s = ctx;
    const pd_scan *sc = s->sc;
    for (size_t i = from; i < to; i++) {
        double j = similarity(sc, (uint32_t)(s->pairs[i] >> 32), (uint32_t)s->pairs[i],
                              sc->o.threshold);
        s->sim[i] = j >= sc->o.threshold ? (float)j : -1.0f; /* -1: below the threshold */
    }
}

static size_t pair_bytes(void *ctx, size_t i)
{
    const score *s = ctx;
    return pd_profile_bytes(s->sc, (uint32_t)(s->pairs[i] >> 32)) +
           pd_profile_bytes(s->sc, (uint32_t)s->pairs[i]);
}

pd_status pd_verify_run(pd_scan *sc, const pd_source *src)
{
    uint64_t *pairs;
    size_t n;
    double t0 = pd_now();
    pd_status st = pd_lsh_pairs(sc->keys, sc->bands, sc->pool, sc->threads, &pairs, &n);
    sc->stats.secs_candidates = pd_now() - t0;
    pd_bandkeys_free(sc->keys);
    sc->keys = NULL;
    if (st != PD_OK) {
        pd_scan_fail(sc, st == PD_EIO ? "cannot read the band keys back from their temporary file"
                                      : "out of memory while pairing candidates");
        return st;
    }
    sc->stats.candidates = n;
    sc->prof_budget = sc->o.verify_memory;
    if (!sc->prof_budget) {
        size_t per_units = sc->n_units * PROF_PER_UNIT;
        sc->prof_budget = per_units > PROF_FLOOR ? per_units : PROF_FLOOR;
    }
    sc->prof_of = pd_alloc((sc->n_texts + 1) * sizeof *sc->prof_of);
    float *sim = pd_alloc((n + 1) * sizeof *sim);
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
    pd_profiles_for(sc, n, PAIR_BLOCK, pair_bytes, score_range, &s);
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
