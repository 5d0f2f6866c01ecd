/*
 * verify.c - from LSH buckets to verified near pairs.
 *
 * The band keys of the distinct texts give candidate pairs (lsh.c); then
 * the keys are let go (their file closed while the first texts are
 * profiled). Each text in a candidate pair gets a profile,
 * recomputed from its first occurrence, which is re-read by offset: its
 * sorted set of shingle fingerprints, the top 32 bits of its shingle hashes
 * (or, with --no-verify, its MinHash signature). Only candidates are
 * recomputed, so a corpus of unique lines costs nothing here.
 * Texts are planned on the main thread in batches of bounded size, and each
 * job of READ_TEXTS texts goes to the threads once planned: it is read (with
 * one call where the source allows, pd_read_ranges) into its thread's buffer
 * and profiled by that thread, while its bytes are still in that CPU's cache.
 * Every candidate pair is then scored: the Jaccard similarity of the two
 * fingerprint sets (or the signature estimate), and kept if it reaches the
 * threshold.
 *
 * The profiles are kept until clustering has measured each text against its
 * cluster's first, and they grow with the candidates' text (4 bytes a
 * shingle). So past a budget (48 bytes a unit, 4 MiB at least) those held
 * are moved to an unlinked temporary file, each thread's at once, and from
 * then on each job writes its own there as it ends (at a place taken
 * atomically) and keeps none. Pairs are then scored in ranges whose
 * profiles fit a thread's share of the budget: a thread reads a range's
 * profiles with one pread() for each stretch of the file they lie in
 * (sorted by place, gaps of up to READ_GAP read through), then scores the
 * range. The file lives in
 * the page cache, not in the process's memory (a mapping would count the
 * pages around each profile read too); where no file can be made, or it
 * can take no more, the profiles stay in memory (to_memory).
 */
#define _XOPEN_SOURCE 700 /* pread() */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
    BATCH_TEXT_BYTES = 4 << 20,
    BATCH_ITEMS = 1 << 16,
    PROF_FLOOR = 4 << 20,
    PROF_PER_UNIT = 48,
    /* items a range scores at most (two profiles each, one sort key a
     * profile), and file bytes between two profiles read through */
    RANGE_ITEMS = 4096,
    SIDE_BITS = 13,
    READ_GAP = 4096,
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
    size_t n_items; /* planned so far (the jobs read it as it grows) */
    pd_status *job_st; /* how reading the texts of each job went */
    uint32_t *job_doc; /* and the document it could not read */
    worker *w; /* one per thread */
    uint64_t *base; /* per thread: where its buffer went in the file */
    /* Once the profiles go to the file, each job writes its own there as it
     * ends, at `end` (values, taken atomically), and keeps none. */
    bool through;
    uint64_t end;     /* values written to the file */
    size_t spilled;   /* profiles [0, spilled) are on it */
    int write_err;    /* errno of a failed write, or 0 */
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

/* Write the profiles of a job's items [from, to), all in w->out, to the
 * file, and point the items there (thread index `threads`). */
static void write_job(vstate *v, worker *w, size_t from, size_t to)
{
    const pd_scan *sc = v->sc;
    if (__atomic_load_n(&v->write_err, __ATOMIC_RELAXED))
        return; /* the file takes no more: they stay here (to_memory) */
    uint64_t at = __atomic_fetch_add(&v->end, w->n_out, __ATOMIC_RELAXED);
    if (pd_pwrite_full(sc->prof_fd, w->out, w->n_out * sizeof *w->out, at * sizeof *w->out) !=
        PD_OK) {
        int err = errno;
        __atomic_store_n(&v->write_err, err, __ATOMIC_RELAXED);
        return;
    }
    for (size_t k = from; k < to; k++) {
        v->items[k].tid = sc->threads;
        v->items[k].at += at;
    }
    w->n_out = 0;
}

/* Read the texts of job i (items [i * READ_TEXTS, ...)) into this thread's
 * buffer and profile them. */
static void profile_job(void *ctx, unsigned tid, size_t i)
{
    vstate *v = ctx;
    const pd_scan *sc = v->sc;
    worker *w = &v->w[tid];
    size_t from = i * READ_TEXTS, planned = __atomic_load_n(&v->n_items, __ATOMIC_RELAXED);
    size_t to = from + READ_TEXTS < planned ? from + READ_TEXTS : planned;
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
    if (v->through)
        write_job(v, w, from, to);
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
        sc->stats.profile_bytes += it->n * sizeof(uint32_t);
    }
    return PD_OK;
}

/* The file takes no more (a full disk): what it holds is read back into
 * memory, as the buffer of thread index `threads`, and the profiles stay
 * in memory from now on, with a warning. A job whose write failed kept its
 * profiles; its place in the file, perhaps past the file's end, is not
 * read for any. */
static pd_status to_memory(pd_scan *sc, vstate *v)
{
    pd_diagf(sc->o.diag, sc->o.diag_ctx, sc->prof_dir, 0,
             "cannot write verification profiles to a temporary file here (%s): they are held "
             "in memory", strerror(v->write_err));
    size_t bytes = v->end * sizeof *v->w->out, done = 0;
    char *mem = pd_alloc(bytes + 1);
    if (!mem)
        return PD_ENOMEM;
    for (ssize_t r = 1; done < bytes && r != 0;) {
        r = pread(sc->prof_fd, mem + done, bytes - done, (off_t)done);
        if (r < 0 && errno != EINTR) {
            free(mem);
            pd_scan_fail(sc, "cannot read verification profiles back from their temporary file "
                         "in '%s': %s", sc->prof_dir, strerror(errno));
            return PD_EIO;
        }
        done += r > 0 ? (size_t)r : 0;
    }
    memset(mem + done, 0, bytes - done);
    sc->prof_buf[sc->threads] = (uint32_t *)mem;
    close(sc->prof_fd);
    sc->prof_fd = -1;
    sc->prof_budget = SIZE_MAX;
    sc->stats.profile_bytes_on_file = 0;
    v->through = false;
    v->write_err = 0;
    return PD_OK;
}

/* Where profile p lies in its thread's buffer, or in the file. */
static uint64_t profile_offset(const pd_scan *sc, uint32_t p)
{
    return sc->prof_at[p] & (((uint64_t)1 << PD_PROF_SHIFT) - 1);
}

/* Write thread t's buffer to the file at its base. */
static void write_held(void *ctx, unsigned tid, size_t t)
{
    PD_UNUSED(tid);
    vstate *v = ctx;
    const worker *w = &v->w[t];
    if (pd_pwrite_full(v->sc->prof_fd, w->out, w->n_out * sizeof *w->out,
                       v->base[t] * sizeof *w->out) != PD_OK) {
        int err = errno;
        __atomic_store_n(&v->write_err, err, __ATOMIC_RELAXED);
    }
}

/* Move the profiles held in the threads' buffers to the end of the
 * temporary file (made at the first call), each thread's in parallel, and
 * point prof_at at them there; from now on each job writes its own. Where
 * no file can be made, leave them and lift the budget. */
static pd_status spill(pd_scan *sc, vstate *v)
{
    if (sc->prof_fd < 0 && (sc->prof_fd = pd_temp_fd(&sc->prof_dir)) < 0) {
        pd_diagf(sc->o.diag, sc->o.diag_ctx, sc->prof_dir, 0,
                 "cannot move verification profiles to a temporary file here (%s): they are "
                 "held in memory", strerror(errno));
        sc->prof_budget = SIZE_MAX;
        return PD_OK;
    }
    for (unsigned t = 0; t < sc->threads; t++) {
        v->base[t] = v->end;
        v->end += v->w[t].n_out;
    }
    pd_parallel_for(sc->pool, sc->threads, sc->threads, write_held, v);
    if (v->write_err)
        return to_memory(sc, v); /* nothing points at the file yet */
    for (size_t p = v->spilled; p < sc->n_prof; p++) {
        uint64_t t = sc->prof_at[p] >> PD_PROF_SHIFT;
        if (t < sc->threads) /* else written by its job */
            sc->prof_at[p] = (uint64_t)sc->threads << PD_PROF_SHIFT |
                             (v->base[t] + profile_offset(sc, (uint32_t)p));
    }
    v->spilled = sc->n_prof;
    for (unsigned t = 0; t < sc->threads; t++)
        v->w[t].n_out = 0;
    v->through = true;
    sc->stats.profile_bytes_on_file = v->end * sizeof *v->w->out;
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

/* Once all are made: if some went to the file, the rest follow. */
static pd_status finish_file(pd_scan *sc, vstate *v)
{
    return sc->prof_fd < 0 ? PD_OK : spill(sc, v);
}

/* The next wanted text at or after *t, or false at the end. */
static bool next_wanted(const pd_scan *sc, size_t *t)
{
    while (*t < sc->n_texts && sc->prof_of[*t] != 0)
        ++*t;
    return *t < sc->n_texts;
}

/* Plan a batch of wanted texts from *t on, each text's place in the buffer
 * of its job (READ_TEXTS texts), and read and profile them. Each job goes
 * to the pool's stream as soon as it is planned, so that the helpers begin
 * while the rest are planned (0.3-0.4 ms a batch of 13,000 texts, with the
 * helper idle, when the whole batch was planned first); one job runs on
 * this thread alone. After planning, the main thread lets the LSH band keys
 * go before it joins in: they are all read, and closing their file gives
 * back its pages, which took 1.7 ms of the main thread alone at 100 MB. */
static pd_status profile_batch(pd_scan *sc, vstate *v, size_t *t)
{
    size_t n = 0, used = 0, off = 0, jobs = 0;
    bool streaming = false;
    __atomic_store_n(&v->n_items, 0, __ATOMIC_RELAXED);
    while (n < BATCH_ITEMS && used < BATCH_TEXT_BYTES && next_wanted(sc, t)) {
        if (n % READ_TEXTS == 0 && n > 0) { /* job `jobs` is planned, and another begins */
            if (!streaming)
                pd_stream_begin(sc->pool, sc->threads, profile_job, v);
            streaming = true;
            __atomic_store_n(&v->n_items, n, __ATOMIC_RELAXED);
            pd_stream_publish(sc->pool, ++jobs);
            off = 0;
        }
        const pd_urec *u = &sc->units[sc->first[*t]];
        size_t len = (size_t)u->len;
        v->items[n++] = (item){.text = (uint32_t)*t, .off = off, .len = len};
        off += len;
        used += len;
        ++*t;
    }
    __atomic_store_n(&v->n_items, n, __ATOMIC_RELAXED);
    size_t all = (n + READ_TEXTS - 1) / READ_TEXTS;
    if (streaming)
        pd_stream_publish(sc->pool, all);
    pd_bandkeys_free(sc->keys);
    sc->keys = NULL;
    if (streaming) {
        pd_stream_wait(sc->pool, all);
        pd_stream_end(sc->pool);
    } else {
        for (size_t i = 0; i < all; i++)
            profile_job(v, 0, i);
    }
    if (v->write_err)
        PD_TRY(to_memory(sc, v));
    for (size_t i = 0; i < all; i++)
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
    /* one block (prof_len after prof_at), on huge pages from 512 KB: written
     * by the main thread, a 4 KB page at a time they cost it 300 faults at
     * 100 MB of news */
    size_t at_bytes = (wanted + 1) * sizeof *sc->prof_at;
    if ((sc->prof_at = pd_alloc(at_bytes + (wanted + 1) * sizeof *sc->prof_len)))
        sc->prof_len = (uint32_t *)((char *)sc->prof_at + at_bytes);
    sc->prof_buf = calloc(sc->threads + 1, sizeof *sc->prof_buf); /* + the file's, read back */
    v.items = pd_alloc(BATCH_ITEMS * sizeof *v.items);
    v.w = aligned_alloc(64, sc->threads * sizeof *v.w);
    v.base = calloc(sc->threads, sizeof *v.base);
    enum { BATCH_JOBS = (BATCH_ITEMS + READ_TEXTS - 1) / READ_TEXTS };
    v.job_st = malloc(BATCH_JOBS * sizeof *v.job_st);
    v.job_doc = malloc(BATCH_JOBS * sizeof *v.job_doc);
    if (!sc->prof_at || !sc->prof_len || !sc->prof_buf || !v.items || !v.w || !v.base ||
        !v.job_st || !v.job_doc)
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
        if ((st = profile_batch(sc, &v, &t)) != PD_OK || (st = store_batch(sc, &v)) != PD_OK ||
            (held(sc, &v) > sc->prof_budget && (st = spill(sc, &v)) != PD_OK))
            goto done;
    }
    st = finish_file(sc, &v);
done:
    for (unsigned i = 0; v.w && i < sc->threads; i++) {
        pd_buf_release(&v.w[i].norm);
        pd_normcache_release(&v.w[i].nc);
        pd_buf_release(&v.w[i].raw);
        pd_buf_release(&v.w[i].text);
        free(v.w[i].sh);
        free(v.w[i].tmp);
        if (sc->prof_buf && sc->prof_fd < 0)
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

/* Profile p, held in memory. */
static const uint32_t *profile_at(const pd_scan *sc, uint32_t p)
{
    return sc->prof_buf[sc->prof_at[p] >> PD_PROF_SHIFT] + profile_offset(sc, p);
}

void pd_verify_release(pd_scan *sc)
{
    free(sc->prof_of);
    free(sc->prof_at); /* and prof_len with it */
    for (unsigned t = 0; sc->prof_buf && t <= sc->threads; t++)
        free(sc->prof_buf[t]);
    free(sc->prof_buf);
    if (sc->prof_fd >= 0)
        close(sc->prof_fd);
    sc->prof_fd = -1;
    sc->prof_of = NULL;
    sc->prof_at = NULL;
    sc->prof_len = NULL;
    sc->prof_buf = NULL;
    sc->n_prof = 0;
}

/* The similarity of two profiles; with verification, -1 once it is known to
 * fall short of t (pd_jaccard_at_least32), else the value. */
static float similarity(const pd_scan *sc, const uint32_t *a, size_t na, const uint32_t *b,
                        size_t nb, double t)
{
    double j = sc->o.verify ? pd_jaccard_at_least32(a, na, b, nb, t)
                            : pd_minhash_jaccard(a, b, sc->o.perms);
    return j >= t ? (float)j : -1.0f;
}

/* ---- scoring items: pairs of texts --------------------------------------- */

typedef bool (*pair_fn)(const void *ctx, size_t i, uint32_t *ta, uint32_t *tb);

/* What a thread keeps for the ranges it scores from the file. */
typedef struct reader {
    _Alignas(64) pd_buf buf; /* the range's profiles */
    uint64_t *key, *tmp;     /* offset << SIDE_BITS | side, and a sort buffer */
    const uint32_t **at;     /* two profiles an item, or NULL: not scored */
    uint32_t *prof;          /* and their numbers */
    size_t cap_key, cap_tmp, cap_at, cap_prof;
} reader;

typedef struct scoring {
    pd_scan *sc;
    pair_fn pair;
    const void *ctx;
    double t;
    float *out;
    size_t n, *bound; /* the ranges: items [bound[r], bound[r + 1]) */
    reader *rd;       /* one per thread */
    pd_status *st;    /* per range */
    int read_err;     /* errno of a failed read, or 0 */
} scoring;

/* Read the profiles of items [from, to) into rd->buf, sorted by their place
 * in the file, and point rd->at at them: two passes over the sorted sides,
 * one to size the buffer and one to read. */
static pd_status read_range(const scoring *s, reader *rd, size_t from, size_t to)
{
    const pd_scan *sc = s->sc;
    size_t sides = 2 * (to - from), m = 0;
    PD_TRY(PD_REGROW(rd->key, rd->cap_key, sides));
    PD_TRY(PD_REGROW(rd->tmp, rd->cap_tmp, sides));
    PD_TRY(PD_REGROW(rd->at, rd->cap_at, sides));
    PD_TRY(PD_REGROW(rd->prof, rd->cap_prof, sides));
    for (size_t i = from; i < to; i++) {
        uint32_t ta, tb;
        bool scored = s->pair(s->ctx, i, &ta, &tb);
        rd->at[2 * (i - from)] = rd->at[2 * (i - from) + 1] = NULL;
        for (int side = 0; scored && side < 2; side++) {
            size_t k = 2 * (i - from) + (size_t)side;
            uint32_t p = rd->prof[k] = sc->prof_of[side ? tb : ta];
            rd->key[m++] = profile_offset(sc, p) << SIDE_BITS | k;
        }
    }
    pd_sort_u64(rd->key, m, rd->tmp);
    for (int pass = 0; pass < 2; pass++) {
        uint64_t start = 0, end = 0; /* the stretch being read, in values */
        size_t used = 0, at = 0;     /* buffer values: the stretch's first */
        for (size_t k = 0; k <= m; k++) {
            uint64_t off = k < m ? rd->key[k] >> SIDE_BITS : 0;
            if (k == m || k == 0 || (off > end && (off - end) * sizeof(uint32_t) > READ_GAP)) {
                if (pass == 1 && end > start &&
                    pd_pread_full(sc->prof_fd, (uint32_t *)rd->buf.data + at,
                                  (end - start) * sizeof(uint32_t),
                                  start * sizeof(uint32_t)) != PD_OK)
                    return PD_EIO;
                at = used;
                start = end = off;
            }
            if (k == m)
                break;
            size_t side = rd->key[k] & ((1u << SIDE_BITS) - 1);
            uint64_t e = off + sc->prof_len[rd->prof[side]];
            if (e > end) {
                used += e - end;
                end = e;
            }
            if (pass == 1)
                rd->at[side] = (const uint32_t *)rd->buf.data + at + (off - start);
        }
        if (pass == 0)
            PD_TRY(pd_buf_reserve(&rd->buf, used * sizeof(uint32_t) + 1));
    }
    return PD_OK;
}

/* Score range r: from the file, or from memory. */
static void score_range(void *ctx, unsigned tid, size_t r)
{
    scoring *s = ctx;
    const pd_scan *sc = s->sc;
    size_t from = s->bound[r], to = s->bound[r + 1];
    reader *rd = &s->rd[tid];
    if (sc->prof_fd >= 0 && (s->st[r] = read_range(s, rd, from, to)) != PD_OK) {
        int err = errno; /* this thread's */
        __atomic_store_n(&s->read_err, err, __ATOMIC_RELAXED);
        return;
    }
    for (size_t i = from; i < to; i++) {
        uint32_t ta, tb;
        if (!s->pair(s->ctx, i, &ta, &tb))
            continue;
        uint32_t pa = sc->prof_of[ta], pb = sc->prof_of[tb];
        const uint32_t *a = sc->prof_fd >= 0 ? rd->at[2 * (i - from)] : profile_at(sc, pa);
        const uint32_t *b = sc->prof_fd >= 0 ? rd->at[2 * (i - from) + 1] : profile_at(sc, pb);
        s->out[i] = similarity(sc, a, sc->prof_len[pa], b, sc->prof_len[pb], s->t);
    }
}

/* The ranges: RANGE_ITEMS items, and from the file no more profile bytes
 * than a thread's share of the budget (one item at least). */
static pd_status plan_ranges(scoring *s, size_t *ranges)
{
    const pd_scan *sc = s->sc;
    size_t share = sc->prof_budget / sc->threads, cap = 0, r = 0;
    for (size_t from = 0; from < s->n; r++) {
        PD_TRY(PD_GROW(s->bound, cap, r + 2));
        s->bound[r] = from;
        size_t to = from, bytes = 0;
        while (to < s->n && to - from < RANGE_ITEMS) {
            uint32_t ta, tb;
            size_t b = 0;
            if (sc->prof_fd >= 0 && s->pair(s->ctx, to, &ta, &tb))
                b = (sc->prof_len[sc->prof_of[ta]] + sc->prof_len[sc->prof_of[tb]]) *
                    sizeof(uint32_t);
            if (to > from && bytes + b > share)
                break;
            bytes += b;
            to++;
        }
        from = to;
    }
    PD_TRY(PD_GROW(s->bound, cap, r + 1));
    s->bound[r] = s->n;
    *ranges = r;
    return PD_OK;
}

/* out[i] = the similarity of item i's two texts, which differ (pair()
 * false: left alone), -1 below t, on the scan's threads. */
static pd_status score_items(pd_scan *sc, size_t n, pair_fn pair, const void *ctx, double t,
                             float *out)
{
    scoring s = {.sc = sc, .pair = pair, .ctx = ctx, .t = t, .out = out, .n = n};
    size_t ranges = 0;
    pd_status st = plan_ranges(&s, &ranges);
    s.st = calloc(ranges + 1, sizeof *s.st);
    s.rd = aligned_alloc(64, sc->threads * sizeof *s.rd);
    if (st == PD_OK && (!s.st || !s.rd))
        st = PD_ENOMEM;
    if (st == PD_OK) {
        memset(s.rd, 0, sc->threads * sizeof *s.rd);
        pd_parallel_for(sc->pool, ranges < 2 ? 1 : sc->threads, ranges, score_range, &s);
        for (size_t r = 0; r < ranges && st == PD_OK; r++)
            st = s.st[r];
    }
    for (unsigned i = 0; s.rd && i < sc->threads; i++) {
        pd_buf_release(&s.rd[i].buf);
        free(s.rd[i].key);
        free(s.rd[i].tmp);
        free(s.rd[i].at);
        free(s.rd[i].prof);
    }
    free(s.rd);
    free(s.st);
    free(s.bound);
    if (st == PD_EIO)
        pd_scan_fail(sc, "cannot read verification profiles back from their temporary file in "
                     "'%s': %s", sc->prof_dir, strerror(s.read_err));
    return st;
}

/* Item x of the texts: x and its root, where the two were not a verified
 * pair (their similarity is not known yet, sims[x] < 0). */
typedef struct rooted {
    const uint32_t *root;
    const float *sim;
} rooted;

static bool chain_pair(const void *ctx, size_t x, uint32_t *ta, uint32_t *tb)
{
    const rooted *r = ctx;
    *ta = r->root[x];
    *tb = (uint32_t)x;
    return r->root[x] != x && r->sim[x] < 0;
}

pd_status pd_chain_similarities(pd_scan *sc, const uint32_t *root, float *sim)
{
    rooted r = {root, sim};
    return score_items(sc, sc->n_texts, chain_pair, &r, 0.0, sim);
}

static bool candidate_pair(const void *ctx, size_t i, uint32_t *ta, uint32_t *tb)
{
    const uint64_t *pairs = ctx;
    *ta = (uint32_t)(pairs[i] >> 32);
    *tb = (uint32_t)pairs[i];
    return true;
}

pd_status pd_verify_run(pd_scan *sc, const pd_source *src)
{
    uint64_t *pairs;
    size_t n;
    double t0 = pd_now();
    pd_status st = pd_lsh_pairs(sc->keys, sc->bands, sc->pool, sc->threads, &pairs, &n);
    sc->stats.secs_candidates = pd_now() - t0;
    if (st != PD_OK) {
        pd_scan_fail(sc, st == PD_EIO ? "cannot read the band keys back from their temporary file"
                                      : "out of memory while pairing candidates");
        return st;
    }
    sc->stats.candidates = n;
    if (!pd_bandkeys_on_file(sc->keys)) { /* held in memory: they go now */
        pd_bandkeys_free(sc->keys);
        sc->keys = NULL;
    }
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
    st = build_profiles(sc, src, wanted); /* which lets the band keys go */
    pd_bandkeys_free(sc->keys); /* unless there was nothing to build */
    sc->keys = NULL;
    if (st != PD_OK) {
        if (!sc->err[0])
            pd_scan_fail(sc, "%s while verifying candidates", pd_strerror(st));
        free(pairs);
        free(sim);
        return st;
    }
    if ((st = score_items(sc, n, candidate_pair, pairs, sc->o.threshold, sim)) != PD_OK) {
        if (!sc->err[0])
            pd_scan_fail(sc, "%s while verifying candidates", pd_strerror(st));
        free(pairs);
        free(sim);
        return st;
    }
    size_t k = 0; /* the pairs at or above the threshold */
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
