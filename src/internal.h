/*
 * internal.h - declarations shared by the stages of libparadup and not part
 * of the public API: buffer growth, the exact-repeat table, the worker pool
 * and the per-stage entry points that scan.c strings together.
 */
#ifndef PD_INTERNAL_H
#define PD_INTERNAL_H

#include "paradup.h"

#include <assert.h>
#include <stdatomic.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define PD_UNUSED(x) ((void)(x))

typedef struct pd_pool pd_pool; /* threads for parallel loops: see util.c below */
/* A hint to start loading the cache line at p; nothing where not supported. */
#if defined(__GNUC__) || defined(__clang__)
#define PD_PREFETCH(p) __builtin_prefetch(p)
#else
#define PD_PREFETCH(p) ((void)(p))
#endif
#define PD_TRY(expr)                       \
    do {                                   \
        pd_status pd_try_st_ = (expr);     \
        if (pd_try_st_ != PD_OK)           \
            return pd_try_st_;             \
    } while (0)

/* Units per run, and lines and units per document, are counted in 32 bits.
 * A build may lower the limits (a test does, to reach them with small input). */
#ifndef PD_MAX_UNITS
#define PD_MAX_UNITS (UINT32_MAX - 2)
#endif
#ifndef PD_MAX_DOC_LINES
#define PD_MAX_DOC_LINES (UINT32_MAX - 1)
#endif

/* Grow *p (n elements of size sz, capacity *cap) to hold at least `need`. */
pd_status pd_grow(void **p, size_t *cap, size_t need, size_t sz);
/* malloc(), but a large array gets huge pages of its own; free() frees it. */
void *pd_alloc(size_t bytes);
void *pd_calloc(size_t n, size_t size);
#define PD_GROW(arr, cap, need) pd_grow((void **)&(arr), &(cap), (need), sizeof *(arr))
/* The same for scratch whose contents need not be kept. */
pd_status pd_regrow(void **p, size_t *cap, size_t need, size_t sz);
#define PD_REGROW(arr, cap, need) pd_regrow((void **)&(arr), &(cap), (need), sizeof *(arr))
/* Zeroed memory whose untouched pages cost nothing; freed with pd_zfree(). */
void *pd_zalloc(size_t bytes);
void pd_zfree(void *p, size_t bytes);
/* Arrays that grow together in one block (see util.c): array[i] points to
 * the caller's pointer to an array of entries of size[i] bytes; each has
 * room for cap entries. The first growth makes room for at least `first`. */
enum { PD_LANES_MAX = 8 };
typedef struct pd_lanes {
    unsigned n;
    void **array[PD_LANES_MAX];
    size_t size[PD_LANES_MAX];
    size_t first, cap;
    void *block;
} pd_lanes;
/* Room for `need` entries in every array, keeping the first `used`. */
pd_status pd_lanes_grow(pd_lanes *l, size_t need, size_t used);
void pd_lanes_free(pd_lanes *l);

pd_status pd_buf_reserve(pd_buf *b, size_t need);

/* util.c: one buffer per thread, each on cache lines of its own (the
 * threads grow theirs at once; side by side they would share a line). */
typedef struct pd_tbuf {
    _Alignas(64) pd_buf b;
} pd_tbuf;
pd_tbuf *pd_tbufs_new(unsigned n);
void pd_tbufs_free(pd_tbuf *t, unsigned n);

/* util.c: map in the pages of [p, p + bytes) that are about to be read, or
 * written, with one call instead of a fault per page (small ranges are left
 * alone). */
void pd_prefault_read(const void *p, size_t bytes);
void pd_prefault(void *p, size_t bytes);

/* shingle.c: normalized text of len bytes has at most (len + 1) / 2 words,
 * so at most this many shingles: enough room for one pd_shingles() pass. */
#define PD_SHINGLE_MAX(len) ((len) / 2 + 1)
/* pd_shingles() with the AVX2 word finder allowed or not (tests run both). */
size_t pd_shingles_on(const char *norm, size_t len, unsigned k, uint64_t *out, size_t cap,
                      bool wide);

/* Code for AVX2, taken where the CPU has it (__builtin_cpu_supports) and
 * compiled for it by a target attribute: the shingles' word finder
 * (shingle.c) and the search for sentence terminators (segment.c). */
#if defined(__x86_64__) && (defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 5))
#define PD_X86_AVX2 1
#endif

/* Eight bytes at p as a word whose byte j is bits 8j..8j+7, whatever the
 * machine's byte order; and the top bit of each zero byte of a word. The
 * scans for spaces (shingle.c) and sentence ends (segment.c) test eight
 * bytes at a time with them. */
static inline uint64_t pd_load8(const char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

static inline uint64_t pd_zero_bytes(uint64_t v)
{
    const uint64_t low7 = UINT64_C(0x7f7f7f7f7f7f7f7f);
    return ~(((v & low7) + low7) | v) & ~low7;
}

/* A blank byte within a line (space, tab, CR, FF, VT). */
static inline bool pd_segment_blank(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* Where the run of blanks that ends at d[at - 1] begins, at or after floor:
 * d[floor, at) without its trailing blanks. */
static inline size_t pd_segment_blank_start(const char *d, size_t at, size_t floor)
{
    while (at > floor && pd_segment_blank((unsigned char)d[at - 1]))
        at--;
    return at;
}

/* A blank or a newline: what separates the words of a unit that spans
 * lines (a paragraph, a sentence of wrapped text, a long unit's pieces). */
static inline bool pd_segment_space(unsigned char c)
{
    return c == '\n' || pd_segment_blank(c);
}

/* segment.c: where the first sentence terminator in p[i, e) starts, or e;
 * with the AVX2 search where `wide` allows it (tests compare the two). */
size_t pd_segment_terminator(const char *p, size_t i, size_t e, bool wide);
/* segment.c: the length of a UTF-8 byte-order mark at the start of data. */
size_t pd_segment_bom(const char *data, size_t len);

/* util.c: format a message and pass it to diag (if not NULL). */
void pd_vdiagf(pd_diag_fn diag, void *ctx, const char *doc, uint64_t line, const char *fmt,
               va_list ap) __attribute__((format(printf, 5, 0)));
void pd_diagf(pd_diag_fn diag, void *ctx, const char *doc, uint64_t line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* segment.c: start a segmenter on data[start..end) of a larger document,
 * whose line `line` (1-based) begins at `start`. No BOM check. */
void pd_segment_range(pd_segmenter *s, const char *data, size_t start, size_t end,
                      uint32_t line, pd_unit_kind kind);
/* segment.c: a place in [from, to) of a stretch where a sentence starts
 * whatever the stretch holds before `from` (a boundary depends on a few
 * bytes around it only), or 0 if none is found. Reads data[from - 1, to). */
size_t pd_segment_sentence_start(const char *data, size_t from, size_t to);
/* segment.c: does a sentence end before a run of blanks inside a line,
 * whose text before the run ends with tail[0, n_tail) (from its last
 * word's start) and after it begins with head[0, n_head)? */
bool pd_segment_ends_across(const char *tail, size_t n_tail, const char *head, size_t n_head);
/* segment.c: the width in characters a document's lines are hard-wrapped
 * at, judged from its first 64 KB, or 0 when they do not look wrapped: a
 * segmenter of sentences is given it (pd_segmenter.wrap) to join a line to
 * the next where the next one's first word would not have fitted. */
unsigned pd_segment_wrap(const char *data, size_t len);
/* segment.c: does the line that the newline data[nl] ends run on into the
 * next (data[0, len) is read; the line begins after a newline, or at
 * floor)? Always false when wrap is 0. */
bool pd_segment_runs_on(const char *data, size_t floor, size_t len, size_t nl, unsigned wrap);
/* segment.c: the same for a line whose text ends at e (its blanks from e
 * to the newline are not read). */
bool pd_segment_runs_on_at(const char *data, size_t floor, size_t len, size_t e, size_t nl,
                           unsigned wrap);
/* segment.c: the same for the newline w[nl] of a window w[0, n) of a
 * document, which starts at its floor (first) or ends at its end (last)
 * or neither: 1 or 0 when every byte that decides it lies in the window,
 * else -1. */
int pd_segment_runs_on_in(const char *w, size_t n, bool first, bool last, size_t nl,
                          unsigned wrap);
/* segment.c: what a segmenter that starts at `at` inside a line of
 * data[0, len) is told of the line (pd_segmenter.lead): the width in
 * characters of what comes before `at`, and the indent of the line's text
 * (packed; only segment.c reads it). */
unsigned pd_segment_lead(const char *data, size_t floor, size_t at, size_t len);
/* segment.c: the lead of a range that begins inside a line whose start
 * lies too far back to read: as wide as a line is counted. */
unsigned pd_segment_lead_far(void);
/* segment.c: the lead of a range that begins in a run of blanks longer
 * than a chunk among the quotation marks and blanks that start a line, the
 * run at s and the line's marks from k: those in [k, s), with the ones a
 * range that begins at k with `lead` counts, are counted on by the range's
 * segmenter, and the line is as wide as a line is counted. */
unsigned pd_segment_lead_marks(const char *p, size_t k, size_t s, unsigned lead);
/* segment.c: does a range with this lead begin inside a line's text (not
 * at its start, nor among the marks that start it)? */
bool pd_segment_lead_text(unsigned lead);
/* segment.c: where the text of a line of sentences (or of hard-wrapped
 * lines) begins, from p[k], in p[0, e): past its blanks and the quotation
 * marks that the segmenter leaves out (QUOTE_MAX at most, with those a
 * range that begins at k with `lead` counts before k); e if it does not
 * begin before e. */
size_t pd_segment_text_start(const char *p, size_t k, size_t e, unsigned lead);
/* segment.c: where a piece of a long unit that starts at `start` ends
 * (d[x - origin] is byte x): at most `max` bytes on, after the last space in
 * its second half, else on a UTF-8 character boundary; `end` if sooner. */
uint64_t pd_segment_piece_end(const char *d, uint64_t origin, uint64_t start, uint64_t end,
                              size_t max);

/* normalize.c: what code points, and short runs that utf8proc must read,
 * become under one set of flags, learned as they are met: most are written
 * from here, without utf8proc. One per thread; zeroed, it is empty. */
typedef struct pd_normcache {
    uint64_t *cp;     /* an entry per code point of the BMP, then a few for others */
    uint32_t *sup_cp; /* the code point each of those few holds */
    struct pd_run_slot *runs; /* short runs utf8proc wrote, with what they wrote */
    unsigned flags;
    pd_buf copies[3]; /* a text decoded, joined or stripped of markup (its
                       * copy is read with the cache, not cached in it) */
} pd_normcache;
void pd_normcache_release(pd_normcache *c);
/* normalize.c: pd_normalize(), also giving the offset in text of the first
 * invalid UTF-8 byte (len if none) through *first_bad, with the thread's
 * cache (or NULL: each run of non-ASCII goes through utf8proc). */
pd_status pd_normalize_at(const char *text, size_t len, unsigned flags, pd_buf *out,
                          pd_norm_stats *st, size_t *first_bad, pd_normcache *cache);
/* Whether a starter may compose with a character before it (a superset). */
bool pd_norm_may_follow(int32_t cp);
/* A flag for pd_normalize_at() beside the PD_NORM_ steps: read ASCII with the
 * portable loop even where the wide one runs (tests compare the two). */
enum { PD_NORM_BYTE_LOOP = 1u << 30 };
/* And one to read it with the AVX2 loop where the VBMI2 one would run. */
enum { PD_NORM_NO_VBMI2 = 1u << 27 };
/* Whether this CPU runs the wide ASCII loop. */
bool pd_normalize_wide(void);

/* entities.c: the HTML character reference at p[i] (a '&'): its length and
 * code point (*cp), or 0 when there is none there. */
size_t pd_entity_at(const char *p, size_t i, size_t len, int32_t *cp);
/* text with every character reference decoded into out (never longer). */
pd_status pd_entities_decode(const char *text, size_t len, pd_buf *out);
/* The offset in text of the byte that lands at `at` in its decoding. */
size_t pd_entities_source(const char *text, size_t len, size_t at);

/* hyphens.c: the next word hyphenated across a line break in t[from, len):
 * [*h, *k) is its hyphen, the line break and the blanks around it. */
bool pd_hyphen_break(const char *t, size_t len, size_t from, size_t *h, size_t *k);
/* Whether the line that ends at the newline t[nl] may end with a hyphen:
 * its last byte before blanks is the last of '-', U+00AD, U+2010 or U+2011
 * (a quick look for the scan, before pd_hyphen_break; inline, as it runs
 * at every newline of a unit of lines). */
static inline bool pd_hyphen_may_end(const char *t, size_t nl)
{
    while (nl > 0 && (t[nl - 1] == ' ' || t[nl - 1] == '\t' || t[nl - 1] == '\r'))
        nl--;
    unsigned char c = nl > 0 ? (unsigned char)t[nl - 1] : 0;
    return c == '-' || c == 0xAD || c == 0x90 || c == 0x91;
}
/* t with every such break taken out, written to dst (which may be t):
 * its length. */
size_t pd_hyphens_join(const char *t, size_t len, char *dst);
/* The offset in t of the byte that lands at `at` in its joined copy. */
size_t pd_hyphens_source(const char *t, size_t len, size_t at);

/* markup.c: whether an HTML tag or comment (at a '<') or a Markdown link's
 * target (after a ']') is at t[i]: [*from, *from + *n). */
bool pd_markup_at(const char *t, size_t i, size_t len, size_t *from, size_t *n);
/* t with each such construct one space, into out (never longer). */
pd_status pd_markup_strip(const char *t, size_t len, pd_buf *out);
/* The offset in t of the byte that lands at `at` in its stripped copy. */
size_t pd_markup_source(const char *t, size_t len, size_t at);

/* minhash.c */
struct pd_minhash {
    unsigned perms;
    uint64_t seed;
    uint32_t *a, *b; /* h_i(x) = a_i * x + b_i mod 2^32 */
};

/* A 128-bit hash of a unit's normalized text. */
typedef struct pd_h128 {
    uint64_t lo, hi;
} pd_h128;

/* exact.c: an open-addressing table from a 128-bit hash to a 32-bit id. */
typedef struct pd_exact_slot {
    uint64_t hi;             /* the key's hi, written before word */
    _Atomic uint64_t word;   /* lo folded to 32 bits << 32 | id + 1, 0 = empty */
} pd_exact_slot;

typedef struct pd_exact {
    pd_exact_slot *slots;
    size_t mask;
    /* Written by the interning thread on every new text while the others
     * read the fields above: on a cache line of its own. */
    _Alignas(64) size_t count;
} pd_exact;

pd_status pd_exact_init(pd_exact *t, size_t expect);
void pd_exact_release(pd_exact *t);
/* Empty the table (it keeps its size); with no slots, it stays as it is. */
void pd_exact_clear(pd_exact *t);
/* Grow the table, if need be, so that `more` ids can be inserted without
 * growing it again (rebuilt on up to `threads` threads of the pool): only
 * while no other thread looks up. */
pd_status pd_exact_reserve(pd_exact *t, size_t more, pd_pool *pool, unsigned threads);
/* Make the empty table `to` one with room for from's ids and `more`,
 * holding from's ids under the same keys, on the calling thread: other
 * threads may look up in `from` meanwhile, none may intern. */
pd_status pd_exact_grow_into(pd_exact *to, const pd_exact *from, size_t more);
/* Can `more` ids be inserted without growing the table? */
bool pd_exact_fits(const pd_exact *t, size_t more);
/* Set *found to the id of key k, or insert k with the next id, t->count,
 * and set *found to that (a reader may find it at once). */
pd_status pd_exact_intern(pd_exact *t, pd_h128 k, uint32_t *found);
/* Start fetching the slot where a lookup of k begins (a hint, nothing more). */
void pd_exact_prefetch(const pd_exact *t, pd_h128 k);
/* The id of k, or UINT32_MAX; safe from several threads while none interns. */
uint32_t pd_exact_find(const pd_exact *t, pd_h128 k);

/* unithash.c: XXH3-64 of a unit's bytes and XXH3-128 of its normalized text,
 * the same on every CPU, in 256-bit lanes where it has AVX2. */
void pd_unit_hashes(const char *text, size_t len, const char *norm, size_t norm_len,
                    uint64_t *bytes, pd_h128 *key);

/* json.c: a JSONL record's text and id, read fast when the line is plain
 * (PD_JSON_UNSURE otherwise: jansson reads it). The decoded text, and the id
 * when present, are appended to arena; out gives their offsets there. */
typedef enum pd_json_result { PD_JSON_OK, PD_JSON_UNSURE, PD_JSON_NOMEM } pd_json_result;
typedef struct pd_json_fields {
    size_t text, text_len, id, id_len;
    bool has_id;
} pd_json_fields;
pd_json_result pd_json_record(const char *line, size_t n, const char *text_key,
                              const char *id_key, pd_buf *arena, pd_json_fields *out);

/* keys.c: the band keys of items 0, 1, 2, ..., added a batch at a time and
 * read a band at a time; in an unlinked temporary file unless in_memory (or
 * no file can be used). A batch of at most `most` items is staged: item i's
 * key of band j goes to stage[j * most + i]; commit(n) adds items [0, n) of
 * it. Reading band j fills out[0..count). Reads may run on several threads
 * at once, while nothing is added. */
typedef struct pd_bandkeys pd_bandkeys;
pd_status pd_bandkeys_new(unsigned bands, bool in_memory, pd_bandkeys **out);
void pd_bandkeys_free(pd_bandkeys *k);
uint32_t *pd_bandkeys_stage(pd_bandkeys *k, size_t most);
pd_status pd_bandkeys_commit(pd_bandkeys *k, size_t n);
size_t pd_bandkeys_count(const pd_bandkeys *k);
bool pd_bandkeys_on_file(const pd_bandkeys *k);
/* Why the keys are not in a file although one was asked for (an errno
 * value, with the directory in *dir), or 0. */
int pd_bandkeys_failure(const pd_bandkeys *k, const char **dir);
pd_status pd_bandkeys_read(const pd_bandkeys *k, unsigned band, uint32_t *out);

/* lsh.c: candidate pairs among the items of k, each with `bands` 32-bit band
 * keys. Appends pairs (a < b, as (uint64_t)a << 32 | b) to *pairs, sorted and
 * unique; bands are sorted on up to `threads` threads of the pool. PD_EIO:
 * the keys could not be read back. */
pd_status pd_lsh_pairs(const pd_bandkeys *k, unsigned bands, pd_pool *pool, unsigned threads,
                       uint64_t **pairs, size_t *npairs);
/* lsh.c: the rows + 1 multipliers of the band keys (malloc'd; NULL when out
 * of memory), and the band keys of one signature with them. */
uint64_t *pd_lsh_mult_new(unsigned rows);
void pd_lsh_keys(const uint32_t *sig, unsigned bands, unsigned rows, const uint64_t *mult,
                 uint32_t *keys);

/* util.c: a pool of `threads` threads for parallel loops, the caller's
 * included. Its helpers are started by the first loop that needs them and
 * wait for the next loop until pd_pool_free(). One loop runs at a time. */
#define PD_MAX_THREADS 256
pd_pool *pd_pool_new(unsigned threads);
void pd_pool_free(pd_pool *p);
unsigned pd_pool_size(const pd_pool *p);
/* The helper threads started so far. */
unsigned pd_pool_started(const pd_pool *p);

/* util.c: run fn(ctx, tid, i) for i in [0, n) on up to `threads` threads of
 * the pool (NULL: on the caller's alone); tid in [0, threads) names the
 * thread, for per-thread scratch. Items are handed out in order; the call
 * returns when all are done. */
void pd_parallel_for(pd_pool *p, unsigned threads, size_t n,
                     void (*fn)(void *ctx, unsigned tid, size_t i), void *ctx);

/* The same, started in the background (p not NULL): the helpers (tids 1,
 * 2, ...) take items while the caller does other work; pd_parallel_finish() makes the
 * caller take items too (as tid 0) and returns when all are done. */
void pd_parallel_start(pd_pool *p, unsigned threads, size_t n,
                       void (*fn)(void *ctx, unsigned tid, size_t i), void *ctx);
void pd_parallel_finish(pd_pool *p);

/* A stream: a loop whose items are published as they are made, in order.
 * The helpers take items [0, n) as pd_stream_publish(p, n) allows, and wait
 * for more; the caller takes items (as tid 0) in pd_stream_wait(), which
 * returns once items [0, upto) are done, and in pd_stream_end(), which
 * returns when every item published is done. No other loop runs on the
 * pool until then. */
void pd_stream_begin(pd_pool *p, unsigned threads,
                     void (*fn)(void *ctx, unsigned tid, size_t i), void *ctx);
void pd_stream_publish(pd_pool *p, size_t n);
void pd_stream_wait(pd_pool *p, uint64_t upto);
void pd_stream_end(pd_pool *p);
unsigned pd_cpu_count(void);
/* util.c: the machine's memory in bytes (1 GiB when it cannot be told). */
uint64_t pd_memory_bytes(void);
/* An unlinked temporary file in $TMPDIR (or /tmp), open for reading and
 * writing; -1 (errno set) when none can be made. *dir: where it was made. */
int pd_temp_fd(const char **dir);
/* Write n bytes of p at off, going on after short writes; PD_EIO with errno
 * set (ENOSPC for a file that takes no more) when that fails. */
pd_status pd_pwrite_full(int fd, const void *p, size_t n, uint64_t off);
/* Read n bytes at off into p, going on after short reads; PD_EIO with errno
 * set (EIO at the end of the file) when that fails. */
pd_status pd_pread_full(int fd, void *p, size_t n, uint64_t off);

/* reread.c: copy n ranges (in input order) to their places, with the
 * source's read_ranges() or else with read() calls, each for ranges of one
 * document that lie close together, read into *raw and copied out. PD_EIO
 * when the source fails (*failed: the document), PD_ENOMEM when this does. */
pd_status pd_read_ranges(const pd_source *src, pd_buf *raw, const pd_range *r, size_t n,
                         uint32_t *failed);

/* Seconds on a monotonic clock, for the stage timings in pd_stats. */
double pd_now(void);
/* util.c: the next value of the splitmix64 sequence from *state. */
uint64_t pd_splitmix64(uint64_t *state);

/* Stable radix sort of 64-bit values (tmp is scratch of n elements). */
void pd_sort_u64(uint64_t *v, size_t n, uint64_t *tmp);
/* The same, by the high 32 bits only, for values whose low halves are already
 * in order (the sort is stable). */
void pd_sort_u64_high(uint64_t *v, size_t n, uint64_t *tmp);
/* The same order, faster for values spread evenly over 64 bits (hashes); any
 * values are sorted, the others at about quicksort's speed. */
void pd_sort_spread(uint64_t *v, size_t n, uint64_t *tmp);

/* instream.c: a byte stream over fd, gzip or zstd undone by magic bytes. */
typedef enum pd_compression { PD_PLAIN = 0, PD_GZIP, PD_ZSTD } pd_compression;
typedef struct pd_instream pd_instream;
pd_status pd_instream_open(int fd, pd_instream **out); /* *out to close even on failure */
/* The same over n bytes in memory, which must outlive the stream. */
pd_status pd_instream_open_mem(const void *data, size_t n, pd_instream **out);
pd_compression pd_instream_kind(const pd_instream *s);
/* The compression that the first n (up to 4) bytes of a stream announce. */
pd_compression pd_compression_of(const void *start, size_t n);
/* Up to cap bytes into buf; *got == 0 at the end. On PD_EIO (read failed) or
 * PD_EPARSE (corrupt or truncated data) pd_instream_error() says what failed;
 * it is NULL while the stream is sound. The bytes decoded before a failure
 * come first; the failure is then returned by every call. */
pd_status pd_instream_read(pd_instream *s, char *buf, size_t cap, size_t *got);
const char *pd_instream_error(const pd_instream *s);
void pd_instream_close(pd_instream *s);

/* files.c, for the record readers: the longest record or line they hold. */
#define PD_RECORD_MAX ((size_t)1 << 30)
const pd_input_options *pd_files_options(const pd_files *fs);
pd_pool *pd_files_pool(pd_files *fs);
const char *pd_files_path(const pd_files *fs, uint32_t file);
/* Append a document whose text is text[0..len) read from record `line` of
 * `file`; id NULL: the document id is FILE:LINE. */
pd_status pd_files_record(pd_files *fs, uint32_t file, uint64_t line, const char *id,
                          size_t id_len, const char *text, size_t len);
/* Write the records appended so far to the spool, where they are read;
 * done when a file's records end (and by the tests, which call the record
 * readers themselves). */
pd_status pd_files_flush(pd_files *fs);
/* Report a malformed record and count it: PD_EPARSE when strict, else PD_OK. */
pd_status pd_files_malformed(pd_files *fs, uint32_t file, uint64_t line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Report a failure about a whole file. */
void pd_files_report(pd_files *fs, const char *path, uint64_t line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* records.c: read the records of `file` from `in` into fs. */
pd_status pd_read_jsonl(pd_files *fs, uint32_t file, pd_instream *in);
/* fast: plain rows are read without libcsv, as libcsv reads them (false:
 * libcsv reads every row; the tests compare the two). */
pd_status pd_read_csv(pd_files *fs, uint32_t file, pd_instream *in, char delim, bool fast);

#endif

/* ---- cut.c: where the first pass cuts a document into chunks ----------- */

enum {
    PD_CHUNK_BYTES = 1 << 20, /* the size a chunk aims at */
    /* lines longer than a chunk are cut inside when pieces are at most this */
    PD_LONG_PIECE_MAX = 16 << 20,
    /* Chunks of documents this large are processed from a copy (scan.c,
     * open_view), and the cutter reads them the same way. Smaller documents
     * are mostly in memory already (pd_files reads files under 1 MB, and
     * JSONL records), where a copy would save nothing. */
    PD_COPY_DOC_MIN = 1 << 20
};

/* A chunk, as the cutter ends it. */
typedef struct pd_cut {
    size_t start, end;
    /* what the chunk's segmenter is told of the line before start
     * (pd_segmenter.lead): for sentences and wrapped lines; for other
     * lines, whether it begins inside a line's text */
    unsigned lead;
    /* A line longer than a chunk is cut at its pieces, or inside a long run
     * of blanks: the chunk begins inside a line whose unit it continues
     * (open_start), or ends inside a line (open_end), whose last unit goes
     * on in the next chunk unless the line has no more text (open_unit). */
    bool open_start, open_end, open_unit;
    bool blanks; /* it lies inside a run of blanks, and holds no unit */
} pd_cut;

/* The cutter of one document at a time. src, unit and max_unit_bytes are
 * set once; the rest is its own. */
typedef struct pd_cutter {
    const pd_source *src;
    pd_unit_kind unit;
    size_t max_unit_bytes;
    /* the document being cut */
    uint32_t doc;
    const char *data;
    size_t len, pos;
    size_t floor; /* where its text starts: after a byte-order mark */
    unsigned wrap, lead; /* its width (pd_segment_wrap), and the next chunk's lead */
    bool in_line;        /* pos is inside a long line or paragraph whose unit has begun */
    size_t chunk_bytes;  /* the size the chunk being cut aims at */
    /* The last run of blanks found, [run_from, run_end) (see blank_end),
     * or the run the last chunk was cut in, which may be a line of
     * quotation marks and blanks (run_marks; cut_marks_line); and the
     * buffer runs are read into */
    size_t run_from, run_end;
    char *run_buf;
    bool run_marks;
    /* the last long run of quotation marks and blanks found (marks_end) */
    size_t marks_from, marks_to;
    bool in_run;       /* the last chunk ended inside that run (cut_gap) */
    unsigned run_lead; /* the lead of a chunk of sentences that starts in it */
    char *window;      /* the bytes cut_window() read, allocated on first use */
} pd_cutter;

/* Start cutting document doc, data[0, len), hard-wrapped at `wrap`
 * characters (0: not wrapped). */
void pd_cut_doc(pd_cutter *p, uint32_t doc, const char *data, size_t len, unsigned wrap);
/* Cut the next chunk, which aims at chunk_bytes (its end is len at the last). */
void pd_cut_next(pd_cutter *p, size_t chunk_bytes, pd_cut *c);
void pd_cut_release(pd_cutter *p);

/* ---- the scanner's state, shared by scan.c, verify.c, cluster.c, csvout.c */

/* The longest unit, in bytes: its length is kept in 32 bits (pd_urec). A
 * longer one is split into pieces, as by max_unit_bytes. */
#ifndef PD_MAX_UNIT_LEN
#define PD_MAX_UNIT_LEN (UINT32_MAX - 1)
#endif

/* The longest unit: max_unit_bytes, or PD_MAX_UNIT_LEN when that is 0 (no
 * limit) or more. */
static inline size_t pd_unit_limit(size_t max_unit_bytes)
{
    return max_unit_bytes && max_unit_bytes < PD_MAX_UNIT_LEN ? max_unit_bytes : PD_MAX_UNIT_LEN;
}

/* One unit, 24 bytes: where it is, never its text. The last line of a
 * paragraph, or of a sentence of wrapped lines, is kept apart
 * (pd_scan.line_end); other units end on the line they start. */
typedef struct pd_urec {
    uint64_t byte_start;
    uint32_t len, doc, index, line_start;
} pd_urec;

/* One report row: the unit, its cluster and what it matched. */
typedef struct pd_rrow {
    uint32_t unit;
    uint32_t cluster;
    float sim;
    uint8_t role, match, scope;
    /* for the report: the unit's length, and its text's id when the unit
     * has the bytes of the text's first unit (as_first), else UINT32_MAX */
    uint32_t len, same_bytes;
} pd_rrow;

/* The scanner. Its first lines are read by every thread for every unit of
 * the first pass (options, the MinHash parameters, the exact table), while
 * the merge writes counts and statistics for every unit: those begin on a
 * cache line of their own, as a write to a line another thread reads makes
 * that thread fetch the line again (allocated 64-aligned by pd_scan_new). */
struct pd_scan {
    pd_options o;
    unsigned bands, rows, threads;
    pd_pool *pool; /* sc->threads threads for the stages' loops */
    bool near; /* threshold < 1: MinHash and LSH run */
    bool ran;
    pd_minhash *mh;
    uint64_t *band_mult; /* pd_lsh_mult_new(rows) */
    /* The exact-repeat table is table[live]: the merge interns there, and a
     * chunk looks up in the one that was live when it began. The other is
     * empty, or the one it replaced while chunks begun before may still
     * read it (scan.c, grow_table). */
    pd_exact table[2];
    unsigned live;

    _Alignas(64) pd_stats stats;
    char err[512];

    /* units in input order; text[u] is the id of unit u's normalized text */
    pd_urec *units;
    uint32_t *text;
    /* each unit's last line: for paragraphs, and for sentences once one
     * may span lines (a document looks wrapped); else NULL */
    uint32_t *line_end;
    /* bit u: unit u's bytes are those of its text's first unit (the same
     * XXH3-64 hash of its bytes as they lie), so the report reads them once */
    uint64_t *as_first;
    size_t n_units, cap_units, cap_text, cap_line_end, cap_as_first, zeroed_as_first;

    /* distinct normalized texts in order of first occurrence */
    uint32_t *first; /* first unit with the text */
    uint64_t *first_bytes; /* the hash of its first unit's bytes: first pass only */
    pd_bandkeys *keys; /* each text's LSH band keys (near mode, until verify) */
    /* Counted up by the merge on every new text while the workers read
     * first_bytes above for every unit whose text they find known: on a
     * cache line of its own. */
    _Alignas(64) size_t n_texts;
    size_t cap_first, cap_first_bytes;

    /* verified near pairs of text ids (a << 32 | b, a < b), sorted */
    uint64_t *near_pairs;
    float *near_sim;
    size_t n_near;

    /* profiles of the texts in near pairs: the top 32 bits of their shingle
     * hashes, sorted and distinct (verify), or signatures (no verify), each
     * in the buffer of the thread that made it; prof_of[t] indexes prof_at
     * and prof_len, or is UINT32_MAX */
    uint32_t *prof_of;
    uint64_t *prof_at;  /* thread << PD_PROF_SHIFT | offset in its buffer */
    uint32_t *prof_len;
    uint32_t **prof_buf; /* one per thread */
    size_t n_prof;
    /* Profiles past prof_budget bytes go to a temporary file (prof_fd),
     * thread index `threads` in prof_at; once all are made, all are there,
     * and read back in ranges that fit the budget (verify.c). */
    size_t prof_budget; /* set by pd_verify_run() */
    int prof_fd;        /* or -1 */
    const char *prof_dir; /* where it is, for a message */

    pd_rrow *report;
    size_t n_report;
    uint64_t *pairs; /* unit pairs a << 32 | b for the pair report, built lazily */
    size_t n_pairs;
    bool pairs_built;
};

/* Unit u's last line: its first but for a paragraph. */
static inline uint32_t pd_urec_line_end(const pd_scan *sc, size_t u)
{
    return sc->line_end ? sc->line_end[u] : sc->units[u].line_start;
}

#define PD_PROF_SHIFT 48 /* offsets below 2^48; threads above */
pd_status pd_verify_run(pd_scan *sc, const pd_source *src);
pd_status pd_cluster_run(pd_scan *sc);
/* Free the profiles (pd_scan_free() does too). */
void pd_verify_release(pd_scan *sc);
/* minhash.c: pd_jaccard_sorted() for sorted arrays of distinct 32-bit values. */
double pd_jaccard_sorted32(const uint32_t *a, size_t na, const uint32_t *b, size_t nb);
/* minhash.c: the same when it reaches t, else -1, found sooner for most pairs. */
double pd_jaccard_at_least32(const uint32_t *a, size_t na, const uint32_t *b, size_t nb,
                             double t);
/* sim[x] for each text x whose root text root[x] is another and that was
 * not a verified pair with it (sim[x] < 0): their similarity, measured from
 * the profiles. PD_EIO when the profiles cannot be read back. */
pd_status pd_chain_similarities(pd_scan *sc, const uint32_t *root, float *sim);
void pd_scan_fail(pd_scan *sc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
