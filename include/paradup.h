/*
 * paradup.h - the public API of libparadup, which finds duplicate and
 * near-duplicate text units (lines, paragraphs, sentences) in a corpus.
 *
 * The pipeline, one source file per stage:
 *   segment   split a document into units, with line numbers and byte offsets
 *   normalize decode HTML references, NFKC, casefold, strip diacritics, fold
 *             punctuation to spaces
 *   shingle   word n-grams of the normalized text, each hashed with XXH3-64
 *   minhash   a MinHash signature of the shingle set
 *   lsh       banding of signatures into candidate pairs
 *   verify    exact Jaccard of candidate pairs
 *   cluster   union-find over exact repeats and verified pairs
 *   csvout    the CSV report, written with libcsv
 *
 * Conventions: every public name starts with pd_ or PD_. Functions that can
 * fail return a pd_status; pd_strerror() names it. Handles are opaque and
 * paired pd_X_new()/pd_X_free(); pd_X_free(NULL) is a no-op. Caller-owned
 * structs are paired pd_X_init()/pd_X_release(). Inputs are borrowed: the
 * library copies whatever it keeps. The library keeps no global state, never
 * prints and never exits; a handle may be used by one thread at a time.
 */
#ifndef PARADUP_H
#define PARADUP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PD_VERSION_MAJOR 0
#define PD_VERSION_MINOR 7
#define PD_VERSION_PATCH 0
#define PD_VERSION_STRING "0.7.0"

/* ------------------------------------------------------------------------ */
/* Errors                                                                    */

typedef enum pd_status {
    PD_OK = 0,
    PD_ENOMEM,   /* out of memory */
    PD_EIO,      /* reading or writing failed (errno is kept) */
    PD_EPARSE,   /* malformed input */
    PD_EINVAL,   /* an argument is out of range */
    PD_EINTR     /* stopped by the caller's progress callback */
} pd_status;

/* A static English text for `st`; never NULL. */
const char *pd_strerror(pd_status st);

/* The library version, "MAJOR.MINOR.PATCH"; static storage. */
const char *pd_version(void);

/* A growable byte buffer, owned by the caller: zero it (or pd_buf_init())
 * before first use and pd_buf_release() it once. `data` is NUL-terminated
 * whenever len > 0 after a library call that fills it. */
typedef struct pd_buf {
    char *data;
    size_t len;
    size_t cap;
} pd_buf;

void pd_buf_init(pd_buf *b);
void pd_buf_release(pd_buf *b);

/* ------------------------------------------------------------------------ */
/* Segmentation                                                              */

/* A document that looks hard-wrapped (judged on its first 64 KB, see the
 * README) has lines that run on into the next: there a line unit is a line
 * as it was before wrapping, and sentences run across lines. */
typedef enum pd_unit_kind {
    PD_UNIT_LINE = 0,  /* every line not blank after trimming (default) */
    PD_UNIT_PARAGRAPH, /* blocks separated by blank lines */
    PD_UNIT_SENTENCE   /* sentences within each line, or run across wrapped lines */
} pd_unit_kind;

/* One unit of a document. Lines are 1-based and inclusive; byte offsets are
 * 0-based, [byte_start, byte_end), and cover the unit's trimmed text in the
 * raw document (a unit of several lines spans from its first line's text to
 * its last's). */
typedef struct pd_unit {
    uint32_t index;      /* 1-based position among the document's units */
    uint32_t line_start;
    uint32_t line_end;
    uint64_t byte_start;
    uint64_t byte_end;
} pd_unit;

/* A caller-owned iterator over the units of a document held in memory. The
 * fields are private. Lines and sentences run across the lines of a
 * document that looks hard-wrapped (see pd_unit_kind). `\n` and
 * `\r\n` line ends are both accepted, the last line needs no newline, and a
 * leading UTF-8 byte-order mark is skipped. */
typedef struct pd_segmenter {
    const char *data;
    size_t len, pos;
    uint32_t line, index;
    pd_unit_kind kind;
    size_t line_begin, line_stop; /* the stretch of lines being split, */
    uint32_t line_no, stretch_end; /* the line at line_begin, its last line */
    unsigned wrap, lead; /* the width the text is wrapped at, or 0 */
    /* For a range of a larger document, as the scanner's chunks are: the
     * range ends inside a line with text past its end, so that line is no
     * blank line of quotation marks, whatever of it the range holds. */
    int goes_on;
} pd_segmenter;

/* Start iterating `data[0..len)`, which stays borrowed until the last call. */
void pd_segment_init(pd_segmenter *s, const char *data, size_t len, pd_unit_kind kind);

/* Read every line as written, even if the document looks hard-wrapped
 * (pd_options.unwrap = 0 in a scan). Call it before the first unit. */
void pd_segment_keep_lines(pd_segmenter *s);

/* Store the next unit in *u and return 1, or return 0 at the end. */
int pd_segment_next(pd_segmenter *s, pd_unit *u);

/* The unit's text as the CSV shows it: its bytes in `data`, except that the
 * lines of a unit that spans lines are trimmed and joined by one space, the
 * quotation marks ('>') that start its lines after the first left out.
 * Replaces out's contents. Returns PD_ENOMEM or PD_OK. */
pd_status pd_unit_text(const char *data, size_t len, const pd_unit *u, pd_unit_kind kind,
                       pd_buf *out);

/* ------------------------------------------------------------------------ */
/* Normalization                                                             */

/* Each step is on by default (PD_NORM_DEFAULT). Whatever the flags, every
 * character that is not a letter or digit becomes a space, runs of spaces
 * collapse to one, and the result is trimmed. Bytes that are not valid UTF-8
 * are each read as U+FFFD, and so act as a space; they are counted. */
enum {
    PD_NORM_NFKC = 1u << 0,     /* Unicode NFKC compatibility forms */
    PD_NORM_CASEFOLD = 1u << 1, /* Unicode case folding */
    PD_NORM_ACCENTS = 1u << 2,  /* strip diacritics: López -> lopez */
    PD_NORM_DOTS = 1u << 3,     /* delete '.' and apostrophes: U.S. -> us */
    PD_NORM_ENTITIES = 1u << 4, /* decode HTML character references: &amp; -> & */
    PD_NORM_HYPHENS = 1u << 5,  /* join a word hyphenated at a line end: gov-\nernment */
    PD_NORM_MARKUP = 1u << 6,   /* take out HTML tags and Markdown link targets */
    PD_NORM_DEFAULT = 0x7Fu
};

typedef struct pd_norm_stats {
    uint64_t invalid_bytes; /* bytes that are not valid UTF-8 */
    uint64_t nul_bytes;     /* NUL bytes */
} pd_norm_stats;

/* Normalize `text[0..len)` into `out` (replacing its contents). `st` may be
 * NULL; when given, its counters are incremented. Returns PD_OK or PD_ENOMEM. */
pd_status pd_normalize(const char *text, size_t len, unsigned flags, pd_buf *out,
                       pd_norm_stats *st);

/* ------------------------------------------------------------------------ */
/* Shingles, MinHash signatures and LSH banding                              */

/* The hashes of the word k-grams of normalized text `norm` (words are
 * separated by single spaces, as pd_normalize writes them). A text of fewer
 * than k words is one shingle of all its words; an empty text has none. Each
 * shingle is hashed once with XXH3-64 (seed 0) over its bytes, spaces
 * included. Writes at most `cap` hashes to `out` (which may be NULL when cap is
 * 0) and returns how many there are in all. */
size_t pd_shingles(const char *norm, size_t len, unsigned k, uint64_t *out, size_t cap);

/* The default seed of the permutation family (see pd_minhash_new). */
#define PD_DEFAULT_SEED UINT64_C(0x5041524144555031) /* "PARADUP1" */

typedef struct pd_minhash pd_minhash;

/* A family of `perms` hash functions derived from `seed`:
 *   h_i(x) = (a_i * x + b_i) mod 2^32,  x = low 32 bits of XXH3-64(shingle)
 * with a_i (forced odd) and b_i the low 32 bits of the outputs of splitmix64
 * seeded with `seed`, taken in turn. Signatures therefore depend only on
 * (seed, perms, shingle hashes) and are the same on every machine. perms must
 * be 1..1024. */
pd_status pd_minhash_new(unsigned perms, uint64_t seed, pd_minhash **out);
void pd_minhash_free(pd_minhash *mh);
unsigned pd_minhash_perms(const pd_minhash *mh);

/* Fill sig[0..perms) with the minimum of each h_i over the n shingle hashes.
 * With n == 0 every slot is UINT32_MAX. */
void pd_minhash_sign(const pd_minhash *mh, const uint64_t *shingles, size_t n, uint32_t *sig);

/* Sign a raw text in one call: normalize it with `norm` flags (PD_NORM_*),
 * take its word k-grams and fill sig[0..perms). Returns PD_ENOMEM or PD_OK;
 * an empty normalized text gives all UINT32_MAX. */
pd_status pd_minhash_sign_text(const pd_minhash *mh, const char *text, size_t len, unsigned norm,
                               unsigned k, uint32_t *sig);

/* The fraction of equal slots: an estimate of the Jaccard similarity. */
double pd_minhash_jaccard(const uint32_t *a, const uint32_t *b, unsigned perms);

/* The exact Jaccard similarity of two sorted arrays of distinct hashes. Two
 * empty sets have similarity 1. */
double pd_jaccard_sorted(const uint64_t *a, size_t na, const uint64_t *b, size_t nb);

/* The probability that a pair of similarity s shares at least one of b bands
 * of r rows: 1 - (1 - s^r)^b. */
double pd_lsh_probability(double s, unsigned bands, unsigned rows);

/* Choose bands * rows <= perms for threshold t in (0,1): the pair that
 * minimises the false-positive mass of the S-curve below t plus
 * PD_LSH_FN_WEIGHT times the false-negative mass above it. Verification
 * removes false positives, so false negatives weigh far more: with 500,
 * P(t) >= 0.99 for t from 0.5 to 0.9 at 128 permutations (t = 0.8 gives
 * 21 bands of 6 rows, P(0.8) = 0.998); weights of 16-100 leave P(t) at
 * 0.95-0.985 and lose pairs just over the threshold. */
#define PD_LSH_FN_WEIGHT 500.0
void pd_lsh_choose(double t, unsigned perms, unsigned *bands, unsigned *rows);

/* ------------------------------------------------------------------------ */
/* Documents: where the scanner reads its input                              */

/* Bytes [off, off+len) of document `doc`, to be copied to dst. */
typedef struct pd_range {
    uint32_t doc;
    uint64_t off;
    size_t len;
    char *dst;
} pd_range;

/* A random-access collection of documents, implemented by the caller (or by
 * pd_files below). Documents are numbered 0..n_docs-1 in input order. The
 * scanner calls map() once per document, and read() (or read_ranges()) for
 * the bytes it copies: the chunks of a large document as it reads them, and
 * the texts verification and the report need. map(), unmap(), release(),
 * read(), read_ranges() and length() may be called from several threads at
 * once (map() and unmap() for different documents); name() and origin() are
 * called from the thread that runs the scanner. */
typedef struct pd_source {
    void *ctx;
    uint32_t n_docs;
    /* The document's name as the report shows it; borrowed. */
    const char *(*name)(void *ctx, uint32_t doc);
    /* Make the whole document readable at *data (borrowed until unmap()). On
     * failure return non-PD_OK; the scanner skips the document (and stops if
     * pd_options.strict is set). */
    pd_status (*map)(void *ctx, uint32_t doc, const char **data, size_t *len);
    void (*unmap)(void *ctx, uint32_t doc, const char *data, size_t len);
    /* Copy bytes [off, off+len) of the document into buf. */
    pd_status (*read)(void *ctx, uint32_t doc, uint64_t off, size_t len, char *buf);
    /* Provenance (may be NULL: the name is the file): the file the document
     * was read from, borrowed, and the line of its record in that file for
     * JSONL and CSV input, or 0 when the document is the whole file. */
    void (*origin)(void *ctx, uint32_t doc, const char **file, uint64_t *line);
    /* May be NULL. The scanner is done with data[0..upto) of a mapped
     * document (it reads later bytes only); a source that mapped a large file
     * can drop those pages, so memory does not grow with the document. */
    void (*release)(void *ctx, uint32_t doc, const char *data, size_t upto);
    /* May be NULL. Copy n ranges, each of at least one byte, to their dst:
     * the texts verification and the report read again, scattered over many
     * documents. The ranges come in
     * input order (by document, then offset) and do not overlap. Without it
     * the scanner calls read() for the ranges of a document that lie close
     * together and copies them out; pd_files reads ranges that lie close
     * together in one file (records of JSONL and CSV input share one) with
     * one preadv(), the bytes between them into a scratch buffer. Called
     * from several threads at once, like read(). On failure *failed is the
     * index of a range that could not be read, whose document is named. */
    pd_status (*read_ranges)(void *ctx, const pd_range *r, size_t n, size_t *failed);
    /* May be NULL. The document's length in bytes when it is known without
     * reading it, else UINT64_MAX; map() has the last word. A document known
     * to be small is mapped by the thread that processes it, not ahead of
     * time by the one that cuts the input into chunks. */
    uint64_t (*length)(void *ctx, uint32_t doc);
} pd_source;

/* Diagnostics about a document: `line` is 0 when the message is about the
 * whole document. `msg` is borrowed for the call. */
typedef void (*pd_diag_fn)(void *ctx, const char *doc, uint64_t line, const char *msg);

/* How pd_files reads what it is given. */
typedef enum pd_format {
    PD_FORMAT_AUTO = 0, /* by file name: .jsonl .ndjson .json, .csv .tsv, else text */
    PD_FORMAT_TEXT,     /* the whole file is one document */
    PD_FORMAT_JSONL,    /* one JSON object per line, one document each */
    PD_FORMAT_CSV       /* a header row, then one document per row */
} pd_format;

typedef struct pd_input_options {
    pd_format format;        /* PD_FORMAT_AUTO (a .gz/.zst suffix is looked past) */
    const char *text_field;  /* JSONL: "text"; "a.b" reaches into nested objects */
    const char *id_field;    /* JSONL: "id"; without one the id is FILE:LINE */
    const char *text_column; /* CSV: header name or 1-based index: "text" */
    const char *id_column;   /* CSV: "id"; without one the id is FILE:LINE */
    char delimiter;          /* CSV: 0 = ',' ('\t' for .tsv files) */
    /* Directory walks add only files whose name (or, for a pattern with a
     * '/', whose path) matches an include glob, if any is given, and no
     * exclude glob. Borrowed, like the strings above. */
    const char *const *include;
    size_t n_include;
    const char *const *exclude;
    size_t n_exclude;
    int strict; /* the first malformed record is an error (PD_EPARSE) */
    unsigned threads; /* for parsing JSONL records, and 4 times as many (at
                       * most 32) to read the small files of a walk or a
                       * list; 0 = every CPU the process may run on */
    /* Input files that may stay open between reads (a corpus of many small
     * files is read again in blocks); 0 = half of the process's soft limit
     * on open files, at most 65,536. Others are opened for each read. */
    size_t keep_open;
    /* Called now and then (every 16 MB) with the bytes decoded so far, while
     * compressed, JSONL and CSV inputs and standard input are added and small
     * files copied (pd_files_add_paths, walks); one call at a time, perhaps
     * from a thread of the pools that parse JSONL and read small files. */
    void (*progress)(void *ctx, uint64_t bytes_decoded);
    void *progress_ctx;
} pd_input_options;

void pd_input_options_init(pd_input_options *o);

typedef struct pd_input_stats {
    uint64_t files;     /* files read */
    uint64_t records;   /* JSONL/CSV records read as documents */
    uint64_t malformed; /* records skipped as malformed */
} pd_input_stats;

/* Files and directories on disk as a pd_source. Compressed files (gzip, zstd;
 * known by their magic bytes) are read through a decompressor; JSONL and CSV
 * records, compressed files, pipes and standard input are decoded once, as
 * they are added, into an unlinked temporary file (in $TMPDIR), which later
 * stages read back: memory stays bounded, disk holds the decoded text. The
 * small text files of a walk or a list (pd_files_add_paths) are copied (or
 * decoded) there as they are added, on a pool of threads; other small files
 * that cannot all be kept open are copied there when first read.
 * Failures to open, walk or decode a path and malformed records are reported
 * through `diag` (which may be NULL), in input order for the records of a
 * file, one call at a time but not always from the caller's thread (files
 * are read on a pool of threads). opts may be NULL for the defaults. */
typedef struct pd_files pd_files;

pd_status pd_files_new(const pd_input_options *opts, pd_diag_fn diag, void *diag_ctx,
                       pd_files **out);
void pd_files_free(pd_files *fs);

/* Add a path: a regular file, a directory (walked recursively; its regular
 * files are added in byte-wise order of their paths; symbolic links to
 * directories are not followed) or "-" for standard input. Returns PD_EIO
 * after reporting a path that cannot be opened, walked or decoded (a walk
 * still adds every file it could reach; a file cut short keeps the records
 * before the damage), PD_EPARSE for a malformed record when strict, and
 * PD_ENOMEM when out of memory. */
pd_status pd_files_add(pd_files *fs, const char *path);
/* Add paths[0..n) in order, as pd_files_add() would one by one, but with
 * the files among them opened and read on the pool's threads (a list of many
 * small files is mostly opening each one). Returns the first status other
 * than PD_OK or PD_EIO, which stops the list there, as PD_EIO does when
 * opts.strict is set; else PD_EIO if any path failed. */
pd_status pd_files_add_paths(pd_files *fs, const char *const *paths, size_t n);
const pd_input_stats *pd_files_stats(const pd_files *fs);

/* A view of fs as a pd_source, valid while fs lives and is not added to. */
pd_source pd_files_source(pd_files *fs);

/* ------------------------------------------------------------------------ */
/* Scanning                                                                  */

#define PD_MAX_UNIT_BYTES ((size_t)1 << 20)

typedef struct pd_options {
    pd_unit_kind unit;  /* PD_UNIT_LINE */
    unsigned norm;      /* PD_NORM_DEFAULT */
    unsigned shingle;   /* words per shingle: 0, pd_shingle_default() */
    unsigned perms;     /* MinHash permutations: 128 */
    double threshold;   /* Jaccard threshold, (0, 1]: 0.8; 1 = exact repeats only */
    unsigned bands;     /* 0: chosen by pd_lsh_choose() */
    unsigned rows;      /* 0: chosen by pd_lsh_choose() */
    int verify;         /* 1: check candidates by exact Jaccard */
    unsigned threads;   /* 0: one per CPU the process may run on */
    uint64_t seed;      /* PD_DEFAULT_SEED */
    int strict;         /* 1: stop at the first unreadable document */
    /* 1: in a document that looks hard-wrapped, line and sentence units run
     * across lines (see pd_unit_kind); 0: every line is read as written. */
    int unwrap;         /* 1 */
    /* Units longer than this are split into pieces of at most this many
     * bytes (after the last space in a piece's second half, else on a UTF-8
     * character boundary), each a unit of its own, with a warning per
     * document: memory per unit stays bounded. 0: no limit below 4 GiB (a
     * unit's length is kept in 32 bits: a longer one is split all the same). */
    size_t max_unit_bytes; /* PD_MAX_UNIT_BYTES (1 MiB) */
    /* Verification keeps a profile of each candidate text (4 bytes a
     * shingle) until clustering. Past this many bytes in memory they go to
     * an unlinked temporary file in $TMPDIR, read back in runs of this size
     * (where none can be made, or it fills up, they stay in memory, with a
     * warning). 0: 48 bytes a unit, 4 MiB at least. */
    size_t verify_memory; /* 0 */
    /* Warnings about a document (invalid UTF-8, NUL bytes, no text): called
     * from the thread that runs pd_scan_run(). line is 0 when not known. */
    pd_diag_fn diag;
    void *diag_ctx;
    /* Progress, called now and then from that thread with the bytes and
     * documents read so far; a non-zero return stops the run with PD_EINTR. */
    int (*progress)(void *ctx, uint64_t bytes_done, uint64_t docs_done);
    void *progress_ctx;
} pd_options;

/* Fill *o with the defaults listed above. */
void pd_options_init(pd_options *o);

/* The words per shingle of a scan whose options leave it 0: 3, and 2 for
 * sentences. A copy of a text of n words with one word substituted has
 * Jaccard similarity (n - 2k + 1) / (n + 1) to it with shingles of k words,
 * so the shingle must be short next to the unit for T = 0.8 to find it: a
 * line of 29 words or more at k = 3 (49 at k = 5), a sentence of 19 or more
 * at k = 2. bench/edits.c measures it. */
unsigned pd_shingle_default(pd_unit_kind unit);

/* PD_OK, or PD_EINVAL with a static message in *why. */
pd_status pd_options_check(const pd_options *o, const char **why);

typedef struct pd_stats {
    uint64_t docs;          /* documents read */
    uint64_t docs_failed;   /* documents that could not be read */
    uint64_t bytes;         /* bytes read */
    uint64_t units;         /* units with non-empty normalized text */
    uint64_t units_empty;   /* units skipped: normalized text is empty */
    uint64_t units_split;   /* units longer than max_unit_bytes, split into pieces */
    uint64_t distinct;      /* distinct normalized texts */
    uint64_t signatures;    /* MinHash signatures computed: one per distinct text,
                               more when chunks processed at once meet a new text */
    uint64_t candidates;    /* candidate pairs from LSH */
    uint64_t verified;      /* candidate pairs at or above the threshold */
    uint64_t clusters;      /* clusters of two or more units */
    uint64_t duplicates;    /* units that are not the first of their cluster */
    uint64_t invalid_bytes; /* invalid UTF-8 bytes, read as separators */
    uint64_t nul_bytes;     /* NUL bytes, read as separators */
    unsigned bands, rows;   /* the LSH parameters used (0 when exact only) */
    /* Wall-clock seconds per stage: reading, normalizing and signing; LSH
     * candidates; verification; clustering; writing the report. */
    double secs_read, secs_candidates, secs_verify, secs_cluster, secs_report;
    /* Verification's profiles of the candidate texts (4 bytes a shingle, or a
     * signature with verify off), and how many of those bytes went to a
     * temporary file: what is held in memory at once stays under 48 bytes a
     * unit (4 MiB at least). */
    uint64_t profile_bytes, profile_bytes_on_file;
} pd_stats;

typedef enum pd_role { PD_KEEP = 0, PD_DUPLICATE } pd_role;
typedef enum pd_match { PD_MATCH_NONE = 0, PD_MATCH_EXACT, PD_MATCH_NEAR } pd_match;
typedef enum pd_scope { PD_SCOPE_NONE = 0, PD_SCOPE_WITHIN, PD_SCOPE_ACROSS } pd_scope;

/* One member of a cluster: a row of the report. */
typedef struct pd_row {
    uint64_t cluster;   /* 1-based, in order of the cluster's first member */
    uint32_t doc;       /* document number in the source */
    pd_unit unit;
    pd_role role;       /* PD_KEEP for the first member in input order */
    pd_match match;     /* exact or near (PD_MATCH_NONE on keep rows) */
    double similarity;  /* Jaccard to the keep row (exact one when verifying) */
    pd_scope scope;     /* within: an earlier member is in the same document */
} pd_row;

/* A pair of units, a before b in input order. */
typedef struct pd_pair {
    uint32_t doc_a, doc_b;
    pd_unit a, b;
    pd_match match;
    double similarity;
    pd_scope scope;
} pd_pair;

typedef struct pd_scan pd_scan;

/* A scanner with a copy of *opts. Returns PD_EINVAL for bad options. Its
 * threads are started by the first stage that runs in parallel and kept
 * until pd_scan_free(). A near-duplicate scan writes the LSH band keys of
 * its texts to an unlinked temporary file in $TMPDIR (or /tmp), and holds
 * them in memory, with a warning through diag, when it cannot. */
pd_status pd_scan_new(const pd_options *opts, pd_scan **out);
void pd_scan_free(pd_scan *sc);

/* Read every document of `src` and find the clusters. May be called once per
 * scanner. `src` must stay valid, with the same documents, until the scanner is
 * freed or the report written. On failure pd_scan_errmsg() says what failed. */
pd_status pd_scan_run(pd_scan *sc, const pd_source *src);

const pd_stats *pd_scan_stats(const pd_scan *sc);
const char *pd_scan_errmsg(const pd_scan *sc);

/* The rows, ordered by cluster, then input order. */
size_t pd_scan_row_count(const pd_scan *sc);
void pd_scan_row(const pd_scan *sc, size_t i, pd_row *row);

/* The pairs (the list is built on the first call): every verified near pair,
 * and every exact repeat paired with the
 * first occurrence of its text; ordered by a, then b. */
size_t pd_scan_pair_count(pd_scan *sc);
void pd_scan_pair(const pd_scan *sc, size_t i, pd_pair *pair);

/* ------------------------------------------------------------------------ */
/* The CSV report                                                            */

/* Header of the cluster report (PD_CSV_CLUSTERS). */
#define PD_CSV_HEADER \
    "cluster,doc,unit,line_start,line_end,byte_start,byte_end,role,match,similarity,scope,text," \
    "source"
/* Header of the pair report (PD_CSV_PAIRS). */
#define PD_CSV_PAIRS_HEADER \
    "doc_a,unit_a,line_a,doc_b,unit_b,line_b,match,similarity,scope,source_a,source_b"

/* Report modes; PD_CSV_SAFE may be or'ed in: a string cell starting with =,
 * +, -, @, tab or CR gets a leading apostrophe, so that a spreadsheet shows
 * it as text instead of running it as a formula. */
enum { PD_CSV_CLUSTERS = 0, PD_CSV_PAIRS = 1, PD_CSV_SAFE = 2 };

/* Write the report to `out` with libcsv (every field quoted), reading unit
 * texts back from `src`, which must be the source given to pd_scan_run().
 * Returns PD_EIO if a write fails (errno kept). */
pd_status pd_scan_write_csv(pd_scan *sc, const pd_source *src, int mode, FILE *out);

#ifdef __cplusplus
}
#endif
#endif /* PARADUP_H */
