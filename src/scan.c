/*
 * scan.c - the scanner: options, and the first pass over the documents.
 *
 * The first pass reads each document once. Documents are mapped a few hundred
 * at a time (a small one whose length the source knows is mapped later, by
 * the thread that processes it); the main thread cuts them, in
 * input order, into chunks of about 1 MiB (less at a batch's end) at unit
 * boundaries (so one huge file still uses every thread; a line longer than
 * that is cut at its pieces; see cut.c); batches of chunks go to the
 * threads as one stream (a chunk of a large document is processed from a copy
 * read with src->read(), see open_view): segment, normalize, hash the
 * normalized text with XXH3-128 and, when near-duplicates are wanted,
 * shingle, sign and compute the LSH band keys of each text that neither an
 * earlier batch nor the same thread (in this batch or the one before) has
 * signed. The main thread merges each batch in input order while the next
 * one is processed, and then cuts the batch after that (see merge_next): it
 * numbers units and lines across chunks and interns each text hash in the
 * exact-repeat table.
 * Only the first unit of each distinct text keeps band keys, so a banner
 * repeated a million times costs one LSH entry.
 *
 * Nothing of a unit's text is kept: 24 bytes of position per unit (28 for a
 * paragraph, and for a line or a sentence once a document looks wrapped), 4 for its
 * text id, a bit (as_first), and per distinct text 8 (the hash of its first
 * unit's bytes) + 4 (first unit) + 21 to 43 (the table, which holds the
 * text's hash); the band keys go to a temporary file (keys.c). The report
 * re-reads texts by offset.
 *
 * Output depends only on the input and options, never on thread timing:
 * chunks are cut at fixed places and merged in order.
 */
#include "internal.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

enum {
    /* The last chunks of a batch shrink, down to this: the threads then run
     * out of work at about the same time (see cut_batch). */
    TAIL_CHUNK_MIN = 256 << 10,
    BATCH_CHUNKS = 4096,
    BATCH_BYTES_PER_THREAD = 2 << 20,
    /* Chunks of documents of PD_COPY_DOC_MIN bytes or more are processed
     * from a copy (open_view) when they are no larger than this. */
    COPY_CHUNK_MAX = 4 << 20
};

void pd_options_init(pd_options *o)
{
    memset(o, 0, sizeof *o);
    o->unit = PD_UNIT_LINE;
    o->norm = PD_NORM_DEFAULT;
    o->shingle = 0;
    o->perms = 128;
    o->threshold = 0.8;
    o->verify = 1;
    o->unwrap = 1;
    o->seed = PD_DEFAULT_SEED;
    o->max_unit_bytes = PD_MAX_UNIT_BYTES;
}

pd_status pd_options_check(const pd_options *o, const char **why)
{
    const char *w = NULL;
    if (o->unit > PD_UNIT_SENTENCE)
        w = "unknown unit kind";
    else if (o->norm & ~(unsigned)PD_NORM_DEFAULT)
        w = "unknown normalization flag";
    else if (o->shingle > 64)
        w = "shingle size must be 1..64 (or 0, the default)";
    else if (o->perms < 1 || o->perms > 1024)
        w = "permutations must be 1..1024";
    else if (!(o->threshold > 0.0 && o->threshold <= 1.0))
        w = "threshold must be in (0, 1]";
    else if ((o->bands == 0) != (o->rows == 0))
        w = "bands and rows must be given together";
    else if (o->bands && (uint64_t)o->bands * o->rows > o->perms)
        w = "bands * rows must not exceed the permutations";
    else if (o->threads > 256)
        w = "threads must be at most 256";
    else if (o->max_unit_bytes && o->max_unit_bytes < 64)
        w = "the unit size limit must be at least 64 bytes (or 0 for none)";
    if (why)
        *why = w;
    return w ? PD_EINVAL : PD_OK;
}

void pd_scan_fail(pd_scan *sc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sc->err, sizeof sc->err, fmt, ap);
    va_end(ap);
}

unsigned pd_shingle_default(pd_unit_kind unit)
{
    return unit == PD_UNIT_SENTENCE ? 2 : 3;
}

pd_status pd_scan_new(const pd_options *opts, pd_scan **out)
{
    *out = NULL;
    PD_TRY(pd_options_check(opts, NULL));
    pd_scan *sc = aligned_alloc(64, sizeof *sc);
    if (!sc)
        return PD_ENOMEM;
    memset(sc, 0, sizeof *sc);
    sc->o = *opts;
    sc->prof_fd = -1;
    if (!sc->o.shingle)
        sc->o.shingle = pd_shingle_default(opts->unit);
    sc->threads = opts->threads ? opts->threads : pd_cpu_count();
    if (!(sc->pool = pd_pool_new(sc->threads))) {
        free(sc);
        return PD_ENOMEM;
    }
    sc->near = opts->threshold < 1.0;
    if (sc->near) {
        if (opts->bands) {
            sc->bands = opts->bands;
            sc->rows = opts->rows;
        } else {
            pd_lsh_choose(opts->threshold, opts->perms, &sc->bands, &sc->rows);
        }
        pd_status st = pd_minhash_new(opts->perms, opts->seed, &sc->mh);
        if (st == PD_OK)
            st = pd_bandkeys_new(sc->bands, false, &sc->keys);
        if (st == PD_OK && !(sc->band_mult = pd_lsh_mult_new(sc->rows)))
            st = PD_ENOMEM;
        if (st != PD_OK) {
            free(sc->band_mult);
            pd_minhash_free(sc->mh);
            pd_bandkeys_free(sc->keys);
            pd_pool_free(sc->pool);
            free(sc);
            return st;
        }
    }
    sc->stats.bands = sc->bands;
    sc->stats.rows = sc->rows;
    *out = sc;
    return PD_OK;
}

void pd_scan_free(pd_scan *sc)
{
    if (!sc)
        return;
    pd_pool_free(sc->pool);
    pd_minhash_free(sc->mh);
    free(sc->band_mult);
    free(sc->units);
    free(sc->text);
    free(sc->line_end);
    free(sc->as_first);
    free(sc->first);
    free(sc->first_bytes);
    pd_bandkeys_free(sc->keys);
    pd_exact_release(&sc->table[0]);
    pd_exact_release(&sc->table[1]);
    free(sc->near_pairs);
    free(sc->near_sim);
    pd_verify_release(sc);
    free(sc->report);
    free(sc->pairs);
    free(sc);
}

const pd_stats *pd_scan_stats(const pd_scan *sc)
{
    return &sc->stats;
}

const char *pd_scan_errmsg(const pd_scan *sc)
{
    return sc->err[0] ? sc->err : "no error";
}

/* ---- the first pass ----------------------------------------------------- */

/* A piece of one document, and what processing it found. */
/* Chunks and scratch are written by different threads side by side: each
 * starts a cache line of its own (no false sharing). */
#define PD_LINE _Alignas(64)

typedef struct chunk {
    PD_LINE uint32_t doc;
    const char *data;
    size_t start, end;
    bool first, last; /* the document's first and final chunks */
    /* as the cutter ended it (pd_cut) */
    bool open_start, open_end, open_unit;
    bool copy; /* processed from a copy (open_view) */
    bool unmapped; /* a whole document, unmapped once processed */
    /* A small document, mapped by the thread that processes it (see
     * cut_batch); unreadable when map() failed, and then skipped. */
    bool lazy, unreadable;
    /* The width the document is wrapped at (pd_segment_wrap) when lines or
     * sentences run across its lines, and the characters of the line
     * before start when a chunk of sentences begins inside one. */
    unsigned wrap, lead;
    bool spans; /* a unit may span lines: line_end is written */
    pd_status st;
    /* Its units and signatures, in the buffers of the thread that made them
     * (scratch.out, from uoff and soff; see bind_chunk): */
    pd_urec *u; /* local index and line numbers (1-based within the chunk) */
    uint32_t *line_end; /* if spans: each unit's last line, local */
    pd_h128 *h;
    /* the XXH3-64 hash of each unit's bytes as they lie; once its text is
     * found known, 1 when those are the bytes of the text's first unit, else 0 */
    uint64_t *bytes;
    uint32_t *known; /* the text id from earlier batches, or UINT32_MAX */
    /* signature s: the band keys keys[s * bands ...] of unit signed_unit[s] */
    uint32_t *keys, *signed_unit;
    size_t n;
    unsigned tid;
    size_t uoff, soff;
    uint32_t lines, segmented, first_bad_line, first_split_line;
    size_t fresh; /* units whose text was not known (known[j] == UINT32_MAX) */
    uint64_t empty, split, signatures;
    /* set by the merge: the first unit's id, and the document's line and
     * unit numbers before this chunk */
    size_t ubase;
    uint32_t line_base, index_base;
    pd_norm_stats ns;
    struct batch *batch;
} chunk;

typedef struct scratch {
    PD_LINE pd_buf norm[2]; /* the unit being read, and the one waiting */
    int cur;                /* norm[cur] is the next unit's */
    bool waiting;           /* chunk unit n - 1 waits for its lookup */
    uint64_t *sh;
    size_t cap_sh;
    uint32_t *sig;
    /* The texts this thread has signed (near-duplicates only) in the batch
     * it is on and in the batch before, by the batch's parity (see
     * first_signed); signed_in[signing] is the batch it is on. */
    struct signed_texts {
        pd_exact set;
        uint64_t batch;
    } signed_in[2];
    unsigned signing;
    /* What this thread's chunks of a batch made, one chunk after another,
     * by the batch's parity like signed_in: the merge of one batch reads
     * them while the next batch is processed. A buffer a thread, reused from
     * batch to batch, not arrays a chunk: those were first touched page by
     * page as chunks grew them, in glibc's heap and arenas. The arrays of a
     * unit and its signature lie in one block (see out_lanes). */
    struct chunk_out {
        pd_urec *u;
        pd_h128 *h;
        uint64_t *bytes;
        uint32_t *line_end, *known, *keys, *signed_unit;
        pd_lanes lanes;
        size_t units, sigs;
        uint64_t batch;
    } out[2];
    /* The chunk's bytes: document offset x is at d[x - origin]; d is the
     * mapping (origin 0) or raw, a copy read with src->read(). */
    const char *d;
    uint64_t origin;
    pd_buf raw;
    pd_normcache nc;
    const pd_exact *table; /* the exact table live when the chunk began */
} scratch;

/* The bytes of the chunk being processed at document offset off. */
static const char *view(const scratch *s, uint64_t off)
{
    return s->d + (off - s->origin);
}

/* A document mapped ahead of use, PREFETCH at a time: in parallel, unless
 * the pool is busy with a batch while the next is cut (pass1.busy). */
typedef struct mapped {
    const char *data;
    size_t len;
    pd_status st;
} mapped;

enum { PREFETCH = 256 };

/* A batch of chunks; chunks [0, used) own buffers. */
typedef struct batch {
    chunk *c;
    uint64_t number; /* batches are numbered from 1 as they are cut */
    size_t n, used;
    size_t units, fresh; /* its units, and those whose text was not known */
    /* the pool's stream it went to, and its first chunk's item number there */
    uint64_t stream, item;
    struct pass1 *p;
} batch;

/* Chunks published to the pool's stream, by item number modulo QUEUE: two
 * batches at most are published and not yet merged. */
enum { QUEUE = 2 * BATCH_CHUNKS };

typedef struct pass1 {
    pd_scan *sc;
    const pd_source *src;
    batch b[2]; /* one is processed while the other is merged */
    chunk **queue; /* see QUEUE */
    uint64_t streams, items; /* streams begun, and chunks published in the last */
    bool streaming; /* the pool's stream runs (publish) */
    scratch *scr;
    mapped pre[PREFETCH];
    uint32_t pre_first, pre_n; /* pre[i] is document pre_first + i */
    pd_cutter cut;
    uint32_t doc; /* the next document to cut, or the one being cut (mapped) */
    bool mapped, fresh; /* fresh: no chunk of it cut yet */
    uint64_t batches; /* cut so far */
    /* A table replaced by grow_table() while chunks may read it: freed once
     * item retire_items of stream retire_stream is done (retire_table) */
    bool retiring;
    uint64_t retire_stream, retire_items;
    uint64_t input_bytes; /* the input's length, as far as it is known (input_length) */
    size_t texts_ahead;   /* room reserve_ahead() wants in sc->first_bytes, or 0 */
    bool busy; /* the pool runs a batch while this one is cut: map ahead here */
    /* the document being merged */
    uint32_t line_base, index_base, doc_units, first_bad_line, first_split_line;
    uint64_t doc_split;
    pd_norm_stats doc_ns;
} pass1;

/* Point chunk c's arrays at its place in o, which moves as o grows: while
 * the chunk is processed, and again when its batch is merged. */
static void bind_chunk(chunk *c, const struct chunk_out *o, unsigned bands)
{
    c->u = o->u ? o->u + c->uoff : NULL;
    c->line_end = o->line_end ? o->line_end + c->uoff : NULL;
    c->h = o->h ? o->h + c->uoff : NULL;
    c->bytes = o->bytes ? o->bytes + c->uoff : NULL;
    c->known = o->known ? o->known + c->uoff : NULL;
    c->keys = o->keys ? o->keys + c->soff * bands : NULL;
    c->signed_unit = o->signed_unit ? o->signed_unit + c->soff : NULL;
}

/* Sign the normalized text of chunk unit j: its band keys. */
static pd_status sign_unit(pd_scan *sc, scratch *s, chunk *c, size_t j, const pd_buf *norm)
{
    PD_TRY(PD_REGROW(s->sh, s->cap_sh, PD_SHINGLE_MAX(norm->len)));
    size_t n = pd_shingles(norm->data, norm->len, sc->o.shingle, s->sh, s->cap_sh);
    pd_minhash_sign(sc->mh, s->sh, n, s->sig);
    size_t k = c->signatures;
    /* a unit has one signature at most: there is room (see out_lanes) */
    assert(c->soff + k < s->out[s->signing].lanes.cap);
    pd_lsh_keys(s->sig, sc->bands, sc->rows, sc->band_mult, c->keys + k * sc->bands);
    c->signed_unit[k] = (uint32_t)j;
    c->signatures++;
    return PD_OK;
}

static uint32_t count_newlines(const char *p, size_t n)
{
    uint32_t k = 0;
    for (const char *e = p + n; (p = memchr(p, '\n', (size_t)(e - p))) != NULL; p++)
        k++;
    return k;
}

/* count_newlines(), and in *hyphen whether a line may end with a hyphen
 * (pd_hyphen_may_end), so that the normalizer need not look for one again. */
static uint32_t count_lines_hyphens(const char *p, size_t n, bool *hyphen)
{
    uint32_t k = 0;
    *hyphen = false;
    for (const char *b = p, *e = p + n; (p = memchr(p, '\n', (size_t)(e - p))) != NULL; p++) {
        *hyphen = *hyphen || pd_hyphen_may_end(b, (size_t)(p - b));
        k++;
    }
    return k;
}

/* A thread starts on a chunk of batch `number`: the texts it signed two
 * batches ago are forgotten (their batch is merged, so the exact table
 * knows them), and so are the units it made then. */
static void signing_batch(scratch *s, uint64_t number)
{
    s->signing = number & 1;
    struct signed_texts *t = &s->signed_in[s->signing];
    if (t->batch != number) {
        pd_exact_clear(&t->set);
        t->batch = number;
    }
    struct chunk_out *o = &s->out[s->signing]; /* its batch is merged too */
    if (o->batch != number) {
        o->units = o->sigs = 0;
        o->batch = number;
    }
}

/* Should the unit of text h be signed? Not when this thread has signed h in
 * this batch or in the one before; else h is counted as signed. A new text's
 * band keys come from its first unit in input order (the merge), and that
 * unit is signed: a thread takes chunks in input order, so within a batch
 * the text is first met there; a text signed in the batch before is merged
 * before this batch, so this batch has none of its first units. */
static pd_status first_signed(scratch *s, pd_h128 h, bool *first)
{
    const struct signed_texts *before = &s->signed_in[s->signing ^ 1];
    struct signed_texts *now = &s->signed_in[s->signing];
    *first = false;
    if (before->batch + 1 == now->batch && pd_exact_find(&before->set, h) != UINT32_MAX)
        return PD_OK;
    if (!now->set.slots) /* it grows with the batch's texts, and is kept */
        PD_TRY(pd_exact_init(&now->set, 64));
    size_t n = now->set.count;
    uint32_t id;
    PD_TRY(pd_exact_intern(&now->set, h, &id));
    *first = id == n;
    return PD_OK;
}

/* Look up the waiting unit (the chunk's last) in the exact table: a text
 * seen in an earlier batch is found here, in parallel, and is not signed
 * again (the table is only read while chunks are processed); nor is a text
 * this thread has signed already (first_signed). With nothing to sign (exact
 * mode) the merge looks up every text as it interns: a worker's lookup would
 * only move that work off the main thread at the price of a second miss on
 * the slot, one that the other CPU has often just written (100 MB of news,
 * -t 1: 115.7 -> 109.2 ms at -j2, 191.2 -> 182.4 ms at -j1). */
static pd_status finish_waiting(pd_scan *sc, scratch *s, chunk *c)
{
    if (!s->waiting)
        return PD_OK;
    s->waiting = false;
    size_t j = c->n - 1;
    c->known[j] = sc->near ? pd_exact_find(s->table, c->h[j]) : UINT32_MAX;
    if (c->known[j] == UINT32_MAX)
        c->fresh++;
    else /* here, in parallel, not in the merge (see reserve_batch) */
        c->bytes[j] = sc->first_bytes[c->known[j]] == c->bytes[j];
    if (!sc->near || c->known[j] != UINT32_MAX)
        return PD_OK;
    bool first;
    PD_TRY(first_signed(s, c->h[j], &first));
    return first ? sign_unit(sc, s, c, j, &s->norm[s->cur ^ 1]) : PD_OK;
}

/* Normalize and hash data[start, end) as the chunk's next unit; it waits for
 * its lookup (and signing) until the next unit is read, or the chunk ends. */
static pd_status add_piece(pd_scan *sc, scratch *s, chunk *c, uint64_t start, uint64_t end,
                           uint32_t index, uint32_t line)
{
    const char *text = view(s, start);
    size_t len = (size_t)(end - start), bad;
    uint64_t before = c->ns.invalid_bytes;
    pd_buf *norm = &s->norm[s->cur];
    bool spans = c->spans, hyphen = false;
    uint32_t newlines = spans ? count_lines_hyphens(text, len, &hyphen) : 0;
    /* only a unit of lines can hold a word hyphenated at a line end */
    unsigned flags = sc->o.norm & (hyphen ? ~0u : ~(unsigned)PD_NORM_HYPHENS);
    PD_TRY(pd_normalize_at(text, len, flags, norm, &c->ns, &bad, &s->nc));
    if (before == 0 && c->ns.invalid_bytes > 0)
        c->first_bad_line = line + count_newlines(text, bad);
    if (norm->len == 0) {
        c->empty++;
        return PD_OK;
    }
    struct chunk_out *o = &s->out[s->signing];
    size_t need = c->uoff + c->n + 1;
    if (need > o->lanes.cap) {
        PD_TRY(pd_lanes_grow(&o->lanes, need, need - 1));
        bind_chunk(c, o, sc->bands);
    }
    assert(len <= PD_MAX_UNIT_LEN); /* longer ones were split (unit_limit) */
    c->u[c->n] = (pd_urec){start, (uint32_t)len, c->doc, index, line};
    if (spans)
        c->line_end[c->n] = line + newlines;
    pd_unit_hashes(text, len, norm->data, norm->len, &c->bytes[c->n], &c->h[c->n]);
    if (sc->near)
        pd_exact_prefetch(s->table, c->h[c->n]);
    /* The lookup of the unit before this one: its slot was fetched while this
     * one was normalized. */
    PD_TRY(finish_waiting(sc, s, c));
    c->n++;
    s->waiting = true;
    s->cur ^= 1;
    return PD_OK;
}

/* A unit longer than pd_unit_limit() is split into pieces, each a unit with
 * its own number, lines and byte range; the first split is remembered for
 * the document's warning. A unit that goes on past the chunk (open) is cut
 * as if it had no end, as the cutter did; one that continues the last
 * chunk's was counted there. */
static pd_status add_unit_split(pd_scan *sc, scratch *s, chunk *c, const pd_unit *u, bool open,
                                bool continued, uint32_t *extra)
{
    size_t max = pd_unit_limit(sc->o.max_unit_bytes);
    uint64_t start = u->byte_start;
    uint32_t line = u->line_start;
    if (!continued && !c->split++)
        c->first_split_line = u->line_start;
    for (uint32_t k = 0; start < u->byte_end; k++) {
        uint64_t end = pd_segment_piece_end(s->d, s->origin, start,
                                            open ? UINT64_MAX : u->byte_end, max),
                 next = end;
        while (end > start && pd_segment_space((unsigned char)*view(s, end - 1)))
            end--;
        if (k > 0)
            ++*extra;
        PD_TRY(add_piece(sc, s, c, start, end, u->index + *extra, line));
        while (next < u->byte_end && pd_segment_space((unsigned char)*view(s, next)))
            next++;
        line += count_newlines(view(s, start), (size_t)(next - start));
        start = next;
    }
    return PD_OK;
}

/* Where the chunk's bytes are read from (see scratch). A chunk of a large
 * document is copied with src->read(): reading page-cache pages through a
 * mapping costs a TLB miss every 4 KB, which under virtualization is dearer
 * than the copy. A unit that goes on past the chunk may be read beyond its
 * end, so such a chunk is read where it lies. */
static void open_view(const pd_source *src, scratch *s, const chunk *c)
{
    size_t len = c->end - c->start;
    if (c->copy && pd_buf_reserve(&s->raw, len + 1) == PD_OK &&
        src->read(src->ctx, c->doc, c->start, len, s->raw.data) == PD_OK) {
        s->d = s->raw.data;
        s->origin = c->start;
        return;
    }
    pd_prefault_read(c->data + c->start, len);
    s->d = c->data;
    s->origin = 0;
}

/* The segmenter's next unit, in document offsets. */
static bool next_unit(pd_segmenter *seg, const scratch *s, pd_unit *u)
{
    if (!pd_segment_next(seg, u))
        return false;
    u->byte_start += s->origin;
    u->byte_end += s->origin;
    return true;
}

static pd_status process_chunk(pd_scan *sc, const pd_source *src, scratch *s, chunk *c)
{
    pd_segmenter seg;
    pd_unit u;
    uint32_t extra = 0; /* pieces beyond the first of split units so far */
    open_view(src, s, c);
    pd_segment_range(&seg, s->d, c->start - s->origin, c->end - s->origin, 1, sc->o.unit);
    seg.wrap = c->wrap;
    seg.lead = c->lead;
    seg.goes_on = c->open_unit; /* the cutter ends no unit in a blank line */
    /* A paragraph may span lines; a line or a sentence only in wrapped text. */
    c->spans = sc->o.unit == PD_UNIT_PARAGRAPH || c->wrap;
    s->waiting = false;
    for (bool more = next_unit(&seg, s, &u); more;) {
        pd_unit next;
        more = next_unit(&seg, s, &next);
        /* Only a chunk's last unit can go on in the next chunk: a line's if
         * the chunk ends inside it, a paragraph's, or a wrapped line's, if
         * the chunk ends inside it or at the start of one of its lines. */
        bool open = c->open_unit && !more &&
                    (sc->o.unit != PD_UNIT_LINE || c->wrap ||
                     !memchr(view(s, u.byte_end), '\n', c->end - u.byte_end));
        bool continued = c->open_start && u.index == 1 && (u.line_start == 1 || c->spans);
        if ((sc->o.max_unit_bytes && open) ||
            u.byte_end - u.byte_start > pd_unit_limit(sc->o.max_unit_bytes))
            PD_TRY(add_unit_split(sc, s, c, &u, open, continued, &extra));
        else
            PD_TRY(add_piece(sc, s, c, u.byte_start, u.byte_end, u.index + extra, u.line_start));
        if (more)
            u = next;
    }
    PD_TRY(finish_waiting(sc, s, c));
    c->segmented = seg.index + extra;
    /* the open line is not over: the next chunk goes on with it */
    c->lines = seg.line - 1 - (c->open_end ? 1 : 0);
    return PD_OK;
}

/* The width a document looks hard-wrapped at, when its lines or sentences
 * run across its lines (pd_segment_wrap), or 0. */
static unsigned doc_wrap(const pd_scan *sc, const char *data, size_t len)
{
    return sc->o.unwrap && sc->o.unit != PD_UNIT_PARAGRAPH ? pd_segment_wrap(data, len) : 0;
}

/* A chunk that is a whole document gives its bytes back as soon as it is
 * processed, not when its batch is merged: a corpus of small files would
 * otherwise hold two batches of them. */
static void process_chunk_job(void *ctx, unsigned tid, size_t i)
{
    batch *b = ctx;
    chunk *c = &b->c[i];
    const pd_source *src = b->p->src;
    scratch *s = &b->p->scr[tid];
    s->table = &b->p->sc->table[__atomic_load_n(&b->p->sc->live, __ATOMIC_ACQUIRE)];
    signing_batch(s, b->number);
    struct chunk_out *o = &s->out[s->signing];
    c->tid = tid;
    c->uoff = o->units;
    c->soff = o->sigs;
    bind_chunk(c, o, b->p->sc->bands);
    if (c->lazy) {
        size_t len;
        if (src->map(src->ctx, c->doc, &c->data, &len) != PD_OK) {
            c->unreadable = c->unmapped = true;
            return;
        }
        c->start = pd_segment_bom(c->data, len);
        c->end = len;
        c->wrap = doc_wrap(b->p->sc, c->data, len);
    }
    c->st = process_chunk(b->p->sc, src, s, c);
    o->units = c->uoff + c->n;
    o->sigs = c->soff + c->signatures;
    if (c->first && c->last) {
        src->unmap(src->ctx, c->doc, c->data, c->end);
        c->unmapped = true;
    }
}

/* Is document d small enough to be mapped by the thread that processes it?
 * Then it is one chunk, and *len its length as far as the source knows. A
 * corpus of small documents (JSONL records, a directory of pages) was
 * otherwise mapped ahead, PREFETCH at a time, by the main thread's cutting,
 * while no chunk was ready: 75 ms of the first pass of 100 MB of JSONL at
 * -j2 went to cutting then, 2 ms now. */
static bool small_doc(const pass1 *p, uint32_t d, uint64_t *len)
{
    const pd_source *src = p->src;
    return src->length && (*len = src->length(src->ctx, d)) < TAIL_CHUNK_MIN;
}

static void map_job(void *ctx, unsigned tid, size_t i)
{
    PD_UNUSED(tid);
    pass1 *p = ctx;
    mapped *m = &p->pre[i];
    uint64_t len;
    if (small_doc(p, p->pre_first + (uint32_t)i, &len))
        m->st = PD_EINVAL; /* mapped later, by its chunk's thread */
    else
        m->st = p->src->map(p->src->ctx, p->pre_first + (uint32_t)i, &m->data, &m->len);
}

/* Make the next readable document current; *got is false at the end, or
 * when the next document is a small one (small_doc). */
static pd_status open_next_doc(pass1 *p, bool *got)
{
    pd_scan *sc = p->sc;
    uint64_t len;
    *got = false;
    while (p->doc < p->src->n_docs && !small_doc(p, p->doc, &len)) {
        if (p->doc >= p->pre_first + p->pre_n) {
            p->pre_first = p->doc;
            p->pre_n = p->src->n_docs - p->doc < PREFETCH ? p->src->n_docs - p->doc : PREFETCH;
            pd_parallel_for(sc->pool, p->busy ? 1 : sc->threads, p->pre_n, map_job, p);
        }
        mapped *m = &p->pre[p->doc - p->pre_first];
        if (m->st == PD_OK) {
            pd_cut_doc(&p->cut, p->doc, m->data, m->len, doc_wrap(sc, m->data, m->len));
            p->mapped = p->fresh = true;
            *got = true;
            return PD_OK;
        }
        sc->stats.docs_failed++;
        if (sc->o.strict) {
            pd_scan_fail(sc, "cannot read '%s'", p->src->name(p->src->ctx, p->doc));
            return PD_EIO;
        }
        p->doc++;
    }
    return PD_OK;
}

/* The next chunk of b, its counts zeroed. */
static chunk *new_chunk(batch *b)
{
    /* Chunks are zeroed on first use: the array is large, most runs touch a
     * few entries, and start-up counts for small inputs. */
    if (b->n == b->used)
        memset(&b->c[b->used++], 0, sizeof *b->c);
    chunk *c = &b->c[b->n++];
    c->batch = b;
    c->unmapped = c->lazy = c->unreadable = false;
    c->n = 0;
    c->lines = c->segmented = c->first_bad_line = c->first_split_line = 0;
    c->split = c->signatures = 0;
    c->fresh = 0;
    c->empty = 0;
    c->ns = (pd_norm_stats){0, 0};
    c->st = PD_OK;
    return c;
}

/* A small document (small_doc) as one chunk of b, mapped when processed. */
static void small_chunk(pass1 *p, batch *b)
{
    chunk *c = new_chunk(b);
    c->doc = p->doc++;
    c->data = NULL;
    c->start = c->end = 0;
    c->wrap = c->lead = 0; /* the thread that maps it finds its width */
    c->first = c->last = c->lazy = true;
    c->open_start = c->open_end = c->open_unit = c->copy = false;
}

/* Cut the next batch of chunks into b; b->n is 0 at the end of the input.
 * With several threads, a chunk aims at no more than a thread's share of
 * what is left of the batch (from TAIL_CHUNK_MIN up to PD_CHUNK_BYTES): a
 * batch of 4 MB on two threads is cut 1, 1, 1, 0.5, 0.25 and 0.25 MB, so
 * that no thread waits long for another's last chunk (the first pass of
 * 100 MB at -j2: 0.254 -> 0.246 s near, 0.129 -> 0.123 s exact, medians of
 * 9; chunks of at least 128 KB did no better). Where chunks end does not
 * change the report. */
static pd_status cut_batch(pass1 *p, batch *b)
{
    unsigned threads = p->sc->threads;
    size_t budget = (size_t)BATCH_BYTES_PER_THREAD * threads, bytes = 0;
    b->n = 0;
    b->number = ++p->batches;
    while (b->n < BATCH_CHUNKS && bytes < budget && p->doc < p->src->n_docs) {
        uint64_t len;
        if (!p->mapped && small_doc(p, p->doc, &len)) {
            bytes += (size_t)len;
            small_chunk(p, b);
            continue;
        }
        if (!p->mapped) {
            bool got;
            PD_TRY(open_next_doc(p, &got));
            if (!got)
                continue; /* the end, or a small document next */
        }
        size_t share = (budget - bytes) / threads;
        pd_cut cut;
        pd_cut_next(&p->cut,
                    threads == 1 || share >= PD_CHUNK_BYTES ? PD_CHUNK_BYTES
                    : share < TAIL_CHUNK_MIN                ? TAIL_CHUNK_MIN
                                                            : share,
                    &cut);
        chunk *c = new_chunk(b);
        c->doc = p->doc;
        c->data = p->cut.data;
        c->start = cut.start;
        c->end = cut.end;
        c->wrap = p->cut.wrap;
        c->lead = cut.lead;
        c->first = p->fresh;
        c->last = cut.end == p->cut.len;
        c->open_start = cut.open_start;
        c->open_end = cut.open_end;
        c->open_unit = cut.open_unit;
        /* a chunk inside a run of blanks holds no unit to read past its end */
        c->copy = p->cut.len >= PD_COPY_DOC_MIN && (!cut.open_unit || cut.blanks) &&
                  cut.end - cut.start <= COPY_CHUNK_MAX;
        p->fresh = false;
        bytes += cut.end - cut.start;
        if (c->last) {
            p->mapped = false;
            p->doc++;
        }
    }
    return PD_OK;
}

/* A warning about document doc: at `line` of a text file, or, for a record
 * of a JSONL or CSV file, at the record's line with the text's line named. */
static void doc_warn(const pass1 *p, uint32_t doc, uint64_t line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void doc_warn(const pass1 *p, uint32_t doc, uint64_t line, const char *fmt, ...)
{
    const pd_options *o = &p->sc->o;
    const char *file = p->src->name(p->src->ctx, doc);
    uint64_t rec = 0;
    if (p->src->origin)
        p->src->origin(p->src->ctx, doc, &file, &rec);
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (rec == 0)
        pd_diagf(o->diag, o->diag_ctx, file, line, "%s", msg);
    else if (line == 0)
        pd_diagf(o->diag, o->diag_ctx, file, rec, "record text: %s", msg);
    else
        pd_diagf(o->diag, o->diag_ctx, file, rec, "record text line %llu: %s",
                 (unsigned long long)line, msg);
}

static void finish_doc(pass1 *p, const chunk *c)
{
    pd_scan *sc = p->sc;
    size_t len = c->end;
    uint64_t bad = p->doc_ns.invalid_bytes, nul = p->doc_ns.nul_bytes;
    if (bad)
        doc_warn(p, c->doc, p->first_bad_line,
                 "%llu invalid UTF-8 byte%s (the first on this line), read as Windows-1252 in a unit with no valid UTF-8, else as spaces",
                 (unsigned long long)bad, bad > 1 ? "s" : "");
    if (nul)
        doc_warn(p, c->doc, 0, "%llu NUL byte%s, each read as a space", (unsigned long long)nul,
                 nul > 1 ? "s" : "");
    if (p->doc_split)
        doc_warn(p, c->doc, p->first_split_line,
                 "%llu unit%s longer than %zu bytes (the first on this line) split into pieces "
                 "of at most that size (--max-unit-bytes)",
                 (unsigned long long)p->doc_split, p->doc_split > 1 ? "s" : "",
                 pd_unit_limit(sc->o.max_unit_bytes));
    if (p->doc_units == 0)
        doc_warn(p, c->doc, 0, "%s", len > 0 ? "no text to compare" : "empty");
    sc->stats.docs++;
    sc->stats.invalid_bytes += p->doc_ns.invalid_bytes;
    sc->stats.nul_bytes += p->doc_ns.nul_bytes;
    if (!c->unmapped)
        p->src->unmap(p->src->ctx, c->doc, c->data, len);
}

/* Unit u has the bytes of its text's first unit: its bit in as_first. */
static void set_as_first(pd_scan *sc, size_t u)
{
    sc->as_first[u / 64] |= UINT64_C(1) << (u % 64);
}

/* Set unit u's bit in as_first when its bytes are those of the first unit
 * of its text t (the same hash of the bytes; the first unit's own is kept
 * during the first pass). */
static void mark_as_first(pd_scan *sc, size_t u, uint32_t t, uint64_t bytes)
{
    if (sc->first_bytes[t] == bytes)
        set_as_first(sc, u);
}

/* Copy chunk c's units to their places in the scanner's arrays, with their
 * document's line and unit numbers; mark those of texts known before c. */
static void place_units(pd_scan *sc, const chunk *c)
{
    if (c->n == 0)
        return; /* the arrays may not exist yet */
    pd_urec *dst = sc->units + c->ubase;
    for (size_t j = 0; j < c->n; j++) {
        pd_urec r = c->u[j];
        r.index += c->index_base;
        r.line_start += c->line_base;
        dst[j] = r;
        size_t u = c->ubase + j;
        if (sc->line_end)
            sc->line_end[u] = c->spans ? c->line_end[j] + c->line_base : r.line_start;
        sc->text[u] = c->known[j];
        if (c->known[j] != UINT32_MAX && c->bytes[j]) /* the worker compared them */
            set_as_first(sc, u);
    }
}

/* The band keys of the texts chunk c made, t0 on, to the batch's stage
 * (see pd_bandkeys), whose text 0 is text `base`, band after band: text by
 * text, each text's signature found once, not once a band (7 -> 5 ms of the
 * merge of 100 MB near). Each text's first unit is in c and was signed
 * there; texts and signatures both follow the units' order. */
static void copy_keys(pd_scan *sc, const chunk *c, size_t t0, uint32_t *stage, size_t stride,
                      size_t base)
{
    for (size_t t = t0, s = 0; t < sc->n_texts; t++, s++) {
        while (s < c->signatures && c->signed_unit[s] != sc->first[t] - c->ubase)
            s++;
        assert(s < c->signatures);
        const uint32_t *key = c->keys + s * sc->bands;
        for (unsigned k = 0; k < sc->bands; k++)
            stage[k * stride + (t - base)] = key[k];
    }
}

/* Give each unit of chunk c whose text was not known when the chunk was
 * processed its text id, in input order, and its as_first bit: a new text
 * gets the next id (its first unit, hash, band keys and the hash of its first
 * unit's bytes are kept). Room for every unit of the batch
 * to be new was reserved (reserve_batch, reserve_merged), so nothing here
 * moves an array the workers read. */
static pd_status intern_new(pd_scan *sc, const chunk *c, uint32_t *stage, size_t stride,
                            size_t base)
{
    enum { AHEAD = 8 }; /* table slots fetched ahead of their lookup */
    pd_exact *table = &sc->table[sc->live];
    size_t t0 = sc->n_texts;
    for (size_t j = 0; j < c->n; j++) {
        if (j + AHEAD < c->n && c->known[j + AHEAD] == UINT32_MAX)
            pd_exact_prefetch(table, c->h[j + AHEAD]);
        if (c->known[j] != UINT32_MAX)
            continue;
        uint32_t id = (uint32_t)(c->ubase + j), t;
        /* in place before a worker can find the text */
        sc->first_bytes[sc->n_texts] = c->bytes[j];
        PD_TRY(pd_exact_intern(table, c->h[j], &t));
        if (t == sc->n_texts) {
            sc->first[t] = id;
            sc->n_texts++;
        }
        sc->text[id] = t;
        mark_as_first(sc, id, t, c->bytes[j]);
    }
    if (stage)
        copy_keys(sc, c, t0, stage, stride, base);
    return PD_OK;
}

/* Count batch b's units, and those whose text was not known. */
static void count_batch(batch *b)
{
    size_t units = 0, fresh = 0;
    for (size_t i = 0; i < b->n; i++) {
        units += b->c[i].n;
        fresh += b->c[i].fresh;
    }
    b->units = units;
    b->fresh = fresh;
}

/* Free the table that grow_table() replaced, once no chunk can read it:
 * once item `done` of stream `stream` is done, or the stream has ended. */
static void retire_table(pass1 *p, uint64_t stream, uint64_t done)
{
    if (p->retiring && (!p->streaming || (stream == p->retire_stream && done >= p->retire_items))) {
        pd_exact_release(&p->sc->table[p->sc->live ^ 1]);
        p->retiring = false;
    }
}

/* Every chunk published is processed, and the pool is free for a loop. */
static void drain(pass1 *p)
{
    if (p->streaming)
        pd_stream_end(p->sc->pool);
    p->streaming = false;
    retire_table(p, 0, 0);
}

/* Room in the exact table for `more` new texts. While chunks are processed
 * they look up in the table (near-duplicates only), so it cannot grow in
 * place: a larger one is built beside it on this thread, and is live from
 * then on; the old one is freed once the chunks published before are done.
 * A chunk still on the old one misses the texts merged since, and signs
 * them again, as with a text the merge is adding (merge_next); the merge
 * gives each its one id. The stream goes on: stopping it to grow the table
 * left the helper idle while the batch was merged and the next one cut (3.6
 * ms of the first pass of 100 MB of news at -j2). With no stream the table
 * grows in place, on every thread. */
static pd_status grow_table(pass1 *p, size_t more)
{
    pd_scan *sc = p->sc;
    if (pd_exact_fits(&sc->table[sc->live], more))
        return PD_OK;
    if (p->retiring) /* two tables at most */
        drain(p);
    if (!p->streaming)
        return pd_exact_reserve(&sc->table[sc->live], more, sc->pool, sc->threads);
    PD_TRY(pd_exact_grow_into(&sc->table[sc->live ^ 1], &sc->table[sc->live], more));
    __atomic_store_n(&sc->live, sc->live ^ 1, __ATOMIC_RELEASE);
    p->retiring = true;
    p->retire_stream = p->streams;
    p->retire_items = p->items;
    if (!sc->near) /* no chunk reads it */
        retire_table(p, p->streams, p->items);
    return PD_OK;
}

/* Room, before batch b (counted) is merged, in what the workers read: for
 * each unit whose text was not known to be a new text (and for `ahead`
 * texts), the hashes of the texts' first units' bytes, which a worker
 * compares with the bytes of a unit whose text it finds known, and the
 * exact table (grow_table). The hashes do not move while the workers run:
 * reserve_fits() tells whether they would. */
static size_t reserve_texts(const pd_scan *sc, const batch *b, size_t ahead)
{
    size_t texts = sc->n_texts + b->fresh + 1;
    return texts > ahead ? texts : ahead;
}

static bool reserve_fits(const pd_scan *sc, const batch *b, size_t ahead)
{
    return reserve_texts(sc, b, ahead) <= sc->cap_first_bytes;
}

static pd_status reserve_batch(pass1 *p, const batch *b, size_t ahead)
{
    pd_scan *sc = p->sc;
    if (sc->n_units + b->units > PD_MAX_UNITS) {
        pd_scan_fail(sc, "more than %llu units: split the input into several runs",
                     (unsigned long long)PD_MAX_UNITS);
        return PD_EINVAL;
    }
    PD_TRY(PD_GROW(sc->first_bytes, sc->cap_first_bytes, reserve_texts(sc, b, ahead)));
    return grow_table(p, b->fresh);
}

/* Room for `units` units and `texts` texts in the arrays the merge fills
 * (not those the workers read: see reserve_batch). */
static pd_status grow_merged(pd_scan *sc, size_t units, size_t texts)
{
    PD_TRY(PD_GROW(sc->units, sc->cap_units, units));
    PD_TRY(PD_GROW(sc->text, sc->cap_text, units));
    if (sc->line_end || sc->o.unit == PD_UNIT_PARAGRAPH)
        PD_TRY(PD_GROW(sc->line_end, sc->cap_line_end, units));
    PD_TRY(PD_GROW(sc->as_first, sc->cap_as_first, (units + 63) / 64));
    return PD_GROW(sc->first, sc->cap_first, texts);
}

/* Room for the merge of b in the arrays only the merge touches: grown while
 * the workers process the next batch (moving a large block rebuilds its huge
 * pages, which takes milliseconds). */
static pd_status reserve_merged(pd_scan *sc, const batch *b)
{
    size_t units = sc->n_units + b->units, words = (units + 63) / 64;
    PD_TRY(grow_merged(sc, units, sc->n_texts + b->fresh + 1));
    if (!sc->line_end && units > 0) /* the first units that may span lines */
        for (size_t i = 0; i < b->n; i++)
            if (b->c[i].spans && b->c[i].n > 0) {
                PD_TRY(PD_GROW(sc->line_end, sc->cap_line_end, units));
                for (size_t u = 0; u < sc->n_units; u++)
                    sc->line_end[u] = sc->units[u].line_start;
                break;
            }
    if (words > sc->zeroed_as_first) { /* bits are set, never cleared */
        memset(sc->as_first + sc->zeroed_as_first, 0,
               (words - sc->zeroed_as_first) * sizeof *sc->as_first);
        sc->zeroed_as_first = words;
    }
    return PD_OK;
}

/* Map in the places the merge of b is about to write (see pd_prefault). */
static void prefault_batch(pd_scan *sc, const batch *b)
{
    if (b->units > 0) { /* else the arrays may not exist yet */
        pd_prefault(sc->units + sc->n_units, b->units * sizeof *sc->units);
        pd_prefault(sc->text + sc->n_units, b->units * sizeof *sc->text);
        if (sc->line_end)
            pd_prefault(sc->line_end + sc->n_units, b->units * sizeof *sc->line_end);
    }
    if (b->fresh == 0)
        return;
    pd_prefault(sc->first + sc->n_texts, b->fresh * sizeof *sc->first);
    pd_prefault(sc->first_bytes + sc->n_texts, b->fresh * sizeof *sc->first_bytes);
}

/* A chunk's place in its document and in the run, and what it adds to the
 * document's warnings and the statistics; finishes the document after its
 * last chunk. */
static pd_status account_chunk(pass1 *p, chunk *c, size_t ubase)
{
    pd_scan *sc = p->sc;
    c->ubase = ubase;
    if (c->unreadable) { /* as open_next_doc() does for one mapped ahead */
        sc->stats.docs_failed++;
        if (sc->o.strict) {
            pd_scan_fail(sc, "cannot read '%s'", p->src->name(p->src->ctx, c->doc));
            return PD_EIO;
        }
        return PD_OK;
    }
    if (c->st != PD_OK) {
        if (c->st != PD_ENOMEM) /* out of memory is not the file's fault: said below */
            pd_scan_fail(sc, "%s while reading '%s'", pd_strerror(c->st),
                         p->src->name(p->src->ctx, c->doc));
        return c->st;
    }
    if (c->first) {
        p->line_base = p->index_base = p->doc_units = p->first_bad_line = 0;
        p->first_split_line = 0;
        p->doc_split = 0;
        p->doc_ns = (pd_norm_stats){0, 0};
    }
    c->line_base = p->line_base;
    c->index_base = p->index_base;
    if (c->first_bad_line && !p->first_bad_line)
        p->first_bad_line = p->line_base + c->first_bad_line;
    if (c->split && !p->doc_split)
        p->first_split_line = p->line_base + c->first_split_line;
    p->doc_split += c->split;
    sc->stats.units_split += c->split;
    if ((uint64_t)p->line_base + c->lines > PD_MAX_DOC_LINES ||
        (uint64_t)p->index_base + c->segmented > PD_MAX_DOC_LINES) {
        pd_scan_fail(sc, "'%s' has more than %llu lines or units: split it into smaller files",
                     p->src->name(p->src->ctx, c->doc), (unsigned long long)PD_MAX_DOC_LINES);
        return PD_EINVAL;
    }
    p->line_base += c->lines;
    p->index_base += c->segmented;
    p->doc_units += (uint32_t)c->n;
    p->doc_ns.invalid_bytes += c->ns.invalid_bytes;
    p->doc_ns.nul_bytes += c->ns.nul_bytes;
    sc->stats.units += c->n;
    sc->stats.units_empty += c->empty;
    sc->stats.signatures += c->signatures;
    sc->stats.bytes += c->end - c->start;
    if (c->last)
        finish_doc(p, c);
    else if (p->src->release)
        p->src->release(p->src->ctx, c->doc, c->data, c->end);
    return PD_OK;
}

/* Fetch chunk c's arrays (the first PREFETCH_BYTES of each) ahead of its
 * merge. A batch of small documents (JSONL records, a directory of pages)
 * has a chunk each, whose arrays lie apart and are cold by the merge: one
 * chunk's misses wait on each other (16% of a run's merging, JSONL -j1). */
enum { PREFETCH_BYTES = 2048 };

static void prefetch_bytes(const void *p, size_t bytes)
{
    for (size_t off = 0; off < bytes && off < PREFETCH_BYTES; off += 64)
        PD_PREFETCH((const char *)p + off);
}

static void prefetch_chunk(const pd_scan *sc, const chunk *c)
{
    prefetch_bytes(c->u, c->n * sizeof *c->u);
    if (c->spans)
        prefetch_bytes(c->line_end, c->n * sizeof *c->line_end);
    prefetch_bytes(c->known, c->n * sizeof *c->known);
    prefetch_bytes(c->h, c->n * sizeof *c->h);
    prefetch_bytes(c->bytes, c->n * sizeof *c->bytes);
    if (sc->near) {
        prefetch_bytes(c->keys, c->signatures * sc->bands * sizeof *c->keys);
        prefetch_bytes(c->signed_unit, c->signatures * sizeof *c->signed_unit);
    }
}

/* Add a processed batch to the scanner, in input order: account for each
 * chunk, place its units and intern its new texts, whose band keys are then
 * added to the key file. */
static pd_status merge_batch(pass1 *p, batch *b)
{
    pd_scan *sc = p->sc;
    PD_TRY(reserve_merged(sc, b));
    prefault_batch(sc, b);
    size_t base = sc->n_texts;
    uint32_t *stage = NULL;
    if (sc->near && b->fresh > 0 && !(stage = pd_bandkeys_stage(sc->keys, b->fresh)))
        return PD_ENOMEM;
    for (size_t i = 0; i < b->n; i++) /* their threads' buffers have moved since */
        bind_chunk(&b->c[i], &p->scr[b->c[i].tid].out[b->number & 1], sc->bands);
    for (size_t i = 0; i < b->n; i++) {
        chunk *c = &b->c[i];
        if (i + 1 < b->n)
            prefetch_chunk(sc, &b->c[i + 1]);
        PD_TRY(account_chunk(p, c, sc->n_units));
        place_units(sc, c);
        PD_TRY(intern_new(sc, c, stage, b->fresh, base));
        sc->n_units += c->n;
    }
    if (stage && pd_bandkeys_commit(sc->keys, sc->n_texts - base) != PD_OK) {
        pd_scan_fail(sc, "cannot keep the band keys of %zu texts", sc->n_texts - base);
        return PD_ENOMEM;
    }
    return PD_OK;
}

static void pass1_release(pass1 *p)
{
    for (int k = 0; k < 2; k++)
        free(p->b[k].c);
    free(p->queue);
    for (unsigned t = 0; t < p->sc->threads && p->scr; t++) {
        pd_buf_release(&p->scr[t].norm[0]);
        pd_buf_release(&p->scr[t].norm[1]);
        pd_buf_release(&p->scr[t].raw);
        pd_normcache_release(&p->scr[t].nc);
        free(p->scr[t].sh);
        free(p->scr[t].sig);
        for (int k = 0; k < 2; k++) {
            pd_exact_release(&p->scr[t].signed_in[k].set);
            pd_lanes_free(&p->scr[t].out[k].lanes);
        }
    }
    free(p->scr);
    pd_cut_release(&p->cut);
    /* Documents mapped ahead but not used (an error stopped the run). */
    for (uint32_t d = p->doc; d < p->pre_first + p->pre_n; d++) {
        mapped *m = &p->pre[d - p->pre_first];
        if (m->st == PD_OK)
            p->src->unmap(p->src->ctx, d, m->data, m->len);
    }
}

/* The length of the documents whose length is known before they are read
 * (not a compressed file read as it is decompressed, for one). */
static uint64_t input_length(const pd_source *src)
{
    uint64_t sum = 0;
    if (!src->length)
        return 0;
    for (uint32_t d = 0; d < src->n_docs; d++) {
        uint64_t len = src->length(src->ctx, d);
        sum += len == UINT64_MAX ? 0 : len;
    }
    return sum;
}

/* After the first batch: room in the arrays that grow with the units and
 * texts for as many as the whole input would have at the first batch's
 * rate, plus an eighth. The room is address space until it is used; an
 * array that grew instead would move four times over 1 GB, copying what it
 * holds onto fresh pages each time. Short of room (an estimate too low, or
 * refused), they grow as before. No array is reserved more than an eighth
 * of the memory: where the system counts address space against a limit
 * (strict overcommit), a first batch far denser than the rest must not use
 * it up. */
static void reserve_ahead(pass1 *p)
{
    pd_scan *sc = p->sc;
    uint64_t read = sc->stats.bytes;
    if (p->input_bytes <= read || read == 0)
        return;
    double scale = (double)p->input_bytes / (double)read * 1.125;
    double units = (double)sc->n_units * scale + 1024, texts = (double)sc->n_texts * scale + 1024;
    double most = (double)pd_memory_bytes() / 8;
    if (units > most / sizeof *sc->units)
        units = most / sizeof *sc->units;
    if (units > (double)PD_MAX_UNITS)
        units = (double)PD_MAX_UNITS;
    if (texts > most / sizeof *sc->first_bytes)
        texts = most / sizeof *sc->first_bytes;
    if (texts > units)
        texts = units;
    (void)grow_merged(sc, (size_t)units, (size_t)texts);
    p->texts_ahead = (size_t)texts; /* the workers read first_bytes: see merge_next */
    /* The exact table, grown now, while it holds one batch's texts, not
     * when it fills: for three quarters of the first batch's rate, since a
     * first batch has no earlier texts to repeat (100 MB of news: 354,000
     * texts at its rate, 290,000 in all); an eighth of the memory at most
     * (16-byte slots, 37.5% full or more). */
    double table = texts * 0.75 / 1.125;
    if (table > most * 0.375 / 16)
        table = most * 0.375 / 16;
    if (!p->retiring && table > (double)sc->n_texts)
        (void)grow_table(p, (size_t)table - sc->n_texts);
}

/* Is a batch cut while the pool processes the one before? Only when the
 * source knows its documents' lengths: otherwise the cutter maps each small
 * document (small_doc), and two batches of them would be mapped at once, so
 * the next batch is cut between batches instead. */
static bool cut_while_busy(const pass1 *p)
{
    return p->src->length != NULL;
}

/* Item i of the pool's stream: a chunk to process. */
static void stream_job(void *ctx, unsigned tid, size_t i)
{
    pass1 *p = ctx;
    chunk *c = p->queue[i % QUEUE];
    batch *b = c->batch;
    process_chunk_job(b, tid, (size_t)(c - b->c));
}

/* Hand batch b's chunks to the pool's stream (started if need be). A
 * stream whose first batch is one chunk, the whole input, runs on the
 * calling thread alone: starting a helper thread, and waking the CPU it
 * runs on, cost a 1 KB input 0.2-0.8 ms of its 4.5. */
static void publish(pass1 *p, batch *b)
{
    pd_scan *sc = p->sc;
    if (b->n == 0)
        return;
    if (!p->streaming) {
        bool alone = b->n == 1 && !p->mapped && p->doc >= p->src->n_docs;
        pd_stream_begin(sc->pool, alone ? 1 : sc->threads, stream_job, p);
        p->streaming = true;
        p->streams++;
        p->items = 0;
    }
    b->stream = p->streams;
    b->item = p->items;
    for (size_t i = 0; i < b->n; i++)
        p->queue[(p->items + i) % QUEUE] = &b->c[i];
    p->items += b->n;
    pd_stream_publish(sc->pool, p->items);
}

/* Cut the next batch into b and publish it. While the stream runs, the
 * cutter maps documents on the main thread alone (pass1.busy). */
static pd_status cut_and_publish(pass1 *p, batch *b)
{
    p->busy = p->streaming;
    pd_status st = cut_batch(p, b);
    p->busy = false;
    if (st == PD_OK)
        publish(p, b);
    return st;
}

/* Merge batch `cur` once it is processed, while the next batch is, then cut
 * the batch after next into cur's place and publish it: the merge and the
 * cutting are serial, the processing is not. The chunks go to the pool as
 * one stream: the helper goes on to the next batch's chunks while the main
 * thread waits for cur's last, or merges (with a loop a batch, each thread
 * waited at each batch's end for the other's last chunk, then for the next
 * loop to start). The stream stops (drain) only to grow the hashes the
 * workers read (reserve_fits), and to cut a batch of a source that does not
 * know its documents' lengths (cut_while_busy). Workers may miss a text the
 * merge is adding and sign it again; the merge still gives it its one id,
 * so the output does not depend on the timing. */
static pd_status merge_next(pass1 *p, batch *cur, batch *next)
{
    pd_scan *sc = p->sc;
    bool aside = cut_while_busy(p);
    if (p->streaming && cur->stream == p->streams) /* else drained */
        pd_stream_wait(sc->pool, cur->item + cur->n);
    retire_table(p, cur->stream, cur->item + cur->n);
    count_batch(cur);
    if (!aside || !reserve_fits(sc, cur, p->texts_ahead))
        drain(p);
    pd_status st = reserve_batch(p, cur, p->texts_ahead);
    p->texts_ahead = 0;
    if (st == PD_OK && !aside)
        st = cut_and_publish(p, next);
    if (st != PD_OK)
        return st;
    bool first = sc->n_units == 0;
    st = merge_batch(p, cur);
    if (st == PD_OK && first)
        reserve_ahead(p);
    if (st == PD_OK && aside)
        st = cut_and_publish(p, cur);
    if (st == PD_OK && sc->o.progress &&
        sc->o.progress(sc->o.progress_ctx, sc->stats.bytes, sc->stats.docs)) {
        pd_scan_fail(sc, "stopped");
        st = PD_EINTR;
    }
    return st;
}

/* A thread's output for a batch: the arrays of its units and of their
 * signatures (a unit has one at most, so they share a count; none without
 * bands, in exact mode) in one block (pd_lanes), which reaches huge pages
 * (and then fills them, see pd_lanes_grow) where the arrays apart would
 * not: in 4 KB pages a batch of news lines cost 500 faults a thread the
 * first time, and as many again each time the arrays grew. It starts with
 * room for FIRST units (fewer for a smaller input), about a batch of long
 * paragraphs: in exact mode (60 bytes a unit) that block stays on 4 KB
 * pages; with the default 21 bands (144 bytes a unit, 576 KB) it is past
 * HUGE_MIN (util.c) and lies on a huge page from the start. More units
 * grow onto huge pages. */
static void out_lanes(struct chunk_out *o, unsigned bands, uint64_t input_bytes)
{
    enum { UNIT_BYTES = 64, FIRST = 4096, FIRST_MIN = 64 };
    uint64_t guess = (input_bytes < PD_CHUNK_BYTES ? input_bytes : PD_CHUNK_BYTES) / UNIT_BYTES;
    guess = guess < FIRST ? guess : FIRST;
    o->lanes = (pd_lanes){7,
                          {(void **)&o->u, (void **)&o->h, (void **)&o->bytes,
                           (void **)&o->line_end, (void **)&o->known, (void **)&o->keys,
                           (void **)&o->signed_unit},
                          {sizeof *o->u, sizeof *o->h, sizeof *o->bytes, sizeof *o->line_end,
                           sizeof *o->known, bands * sizeof *o->keys,
                           bands ? sizeof *o->signed_unit : 0},
                          guess > FIRST_MIN ? (size_t)guess : FIRST_MIN, 0, NULL};
}

/* The texts the exact table starts with room for: one per TEXT_BYTES of the
 * input (100 MB of news has one per 345 bytes), so that a large input's
 * table starts on huge pages and is rebuilt fewer times as it fills. At
 * most EXPECT_MAX (a table of 4 MB, written whole): the input may hold far
 * fewer texts (long paragraphs, a banner repeated). An input of unknown
 * length starts with room for EXPECT_UNKNOWN texts (32 KB), a small input
 * of known length for EXPECT_MIN (2 KB): each 4 KB page of a table is
 * faulted in, at 7-14 us here. */
static size_t table_expect(uint64_t input_bytes)
{
    enum { TEXT_BYTES = 512, EXPECT_UNKNOWN = 1 << 10, EXPECT_MIN = 64, EXPECT_MAX = 3 << 16 };
    uint64_t n = input_bytes / TEXT_BYTES;
    return input_bytes == 0 ? EXPECT_UNKNOWN
           : n < EXPECT_MIN ? EXPECT_MIN
           : n > EXPECT_MAX ? EXPECT_MAX
                            : (size_t)n;
}

/* The room the hashes of the texts' first units' bytes start with: one per
 * FIRST_BYTES_PER_TEXT bytes of the input (100 MB of news has one per 345),
 * as address space, no more than an eighth of the memory (refused, they
 * grow as before). The workers read them, so they grow only while no chunk
 * is processed (merge_next): grown after the first batch, as they were,
 * they stopped the stream twice at the start of each run. */
static size_t first_bytes_expect(uint64_t input_bytes)
{
    enum { FIRST_BYTES_PER_TEXT = 64, FIRST_BYTES_MIN = 1024 };
    uint64_t n = input_bytes / FIRST_BYTES_PER_TEXT + FIRST_BYTES_MIN;
    uint64_t most = pd_memory_bytes() / 8 / sizeof(uint64_t);
    n = n < most ? n : most;
    return n < PD_MAX_UNITS ? (size_t)n : (size_t)PD_MAX_UNITS;
}

static pd_status first_pass(pd_scan *sc, const pd_source *src)
{
    pass1 p = {.sc = sc, .src = src, .input_bytes = input_length(src)};
    p.cut.src = src;
    p.cut.unit = sc->o.unit;
    p.cut.max_unit_bytes = sc->o.max_unit_bytes;
    pd_status st = PD_ENOMEM;
    for (int k = 0; k < 2; k++) {
        p.b[k].c = aligned_alloc(64, BATCH_CHUNKS * sizeof *p.b[k].c);
        p.b[k].p = &p;
    }
    p.queue = malloc(QUEUE * sizeof *p.queue);
    p.scr = aligned_alloc(64, sc->threads * sizeof *p.scr);
    if (p.scr)
        memset(p.scr, 0, sc->threads * sizeof *p.scr);
    for (unsigned t = 0; t < sc->threads && p.scr; t++)
        for (int k = 0; k < 2; k++)
            out_lanes(&p.scr[t].out[k], sc->bands, p.input_bytes);
    if (!p.b[0].c || !p.b[1].c || !p.queue || !p.scr)
        goto done;
    /* Each thread's signature on cache lines of its own: the threads write
     * theirs at once, for every few shingles. */
    size_t sig_bytes = (sc->o.perms * sizeof *p.scr[0].sig + 63) / 64 * 64;
    for (unsigned t = 0; t < sc->threads && sc->near; t++)
        if (!(p.scr[t].sig = aligned_alloc(64, sig_bytes)))
            goto done;
    sc->live = 0;
    if ((st = pd_exact_init(&sc->table[0], table_expect(p.input_bytes))) != PD_OK)
        goto done;
    (void)PD_GROW(sc->first_bytes, sc->cap_first_bytes, first_bytes_expect(p.input_bytes));
    if ((st = cut_and_publish(&p, &p.b[0])) != PD_OK ||
        (cut_while_busy(&p) && (st = cut_and_publish(&p, &p.b[1])) != PD_OK))
        goto done;
    for (int k = 0; p.b[k].n > 0; k ^= 1)
        if ((st = merge_next(&p, &p.b[k], &p.b[k ^ 1])) != PD_OK)
            break;
done:
    drain(&p); /* after an error too: no chunk may be left in flight */
    if (st == PD_ENOMEM && !sc->err[0])
        pd_scan_fail(sc, "out of memory while reading the input");
    pass1_release(&p);
    pd_exact_release(&sc->table[0]);
    pd_exact_release(&sc->table[1]);
    sc->stats.distinct = sc->n_texts;
    free(sc->first_bytes);
    sc->first_bytes = NULL;
    return st;
}

/* Between stages, hand the heap's free memory back to the system: small
 * blocks freed by one stage (a walk's documents are read into memory one by
 * one) would otherwise stay in the peak of the next. */
static void release_free_memory(void)
{
#ifdef __GLIBC__
    malloc_trim(0);
#endif
}

pd_status pd_scan_run(pd_scan *sc, const pd_source *src)
{
    if (sc->ran) {
        pd_scan_fail(sc, "a scanner runs once");
        return PD_EINVAL;
    }
    sc->ran = true;
    double t0 = pd_now();
    PD_TRY(first_pass(sc, src));
    release_free_memory();
    const char *dir;
    int err = sc->near ? pd_bandkeys_failure(sc->keys, &dir) : 0;
    if (err)
        pd_diagf(sc->o.diag, sc->o.diag_ctx, dir, 0,
                 "cannot keep the LSH band keys in a temporary file here (%s): they are held "
                 "in memory", strerror(err));
    double t1 = pd_now();
    sc->stats.secs_read = t1 - t0;
    if (sc->near)
        PD_TRY(pd_verify_run(sc, src));
    double t2 = pd_now();
    sc->stats.secs_verify = t2 - t1 - sc->stats.secs_candidates;
    pd_status st = pd_cluster_run(sc);
    release_free_memory();
    sc->stats.secs_cluster = pd_now() - t2;
    return st;
}
