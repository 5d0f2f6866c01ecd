/*
 * records.c - the record readers: JSONL (with jansson) and CSV/TSV (with
 * libcsv) streams turned into documents of a pd_files. A plain CSV row (see
 * fast_row) is read without libcsv, the way libcsv reads it; test_csv
 * compares the two on generated CSV.
 *
 * Both read a pd_instream in blocks, so a file of any size streams through
 * bounded memory: CSV holds one record at a time, JSONL a batch of lines of
 * about 4 MB parsed in parallel (a record is at most PD_RECORD_MAX bytes).
 * A record that cannot be used (not JSON, no text, too few columns) is
 * reported with its line and skipped, or stops the file when strict.
 */
#include "internal.h"

#include <csv.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>

enum { BLOCK = 1 << 16 };

/* A UTF-8 byte-order mark at the start of a stream is not part of it. */
static size_t skip_bom(const char *p, size_t n, bool first)
{
    return first ? pd_segment_bom(p, n) : 0;
}

/* ---- JSONL --------------------------------------------------------------- */

/* The value at a dotted path: a key that itself holds dots is tried whole
 * first, then the path is split at its first dot. */
static json_t *lookup(json_t *obj, const char *path)
{
    if (!json_is_object(obj))
        return NULL;
    json_t *v = json_object_get(obj, path);
    const char *dot = strchr(path, '.');
    if (v || !dot)
        return v;
    char head[256];
    size_t n = (size_t)(dot - path);
    if (n >= sizeof head)
        return NULL;
    memcpy(head, path, n);
    head[n] = 0;
    return lookup(json_object_get(obj, head), dot + 1);
}

/* JSONL is read in batches of about JSONL_BATCH bytes of whole lines. The
 * lines of a batch are parsed in parallel (jansson keeps no shared state
 * while parsing), each into its thread's arena: the record's text and id, or
 * why it is malformed. Three batches are in flight: while the main thread
 * reads (decompresses) one, the pool parses the next and, as one more item
 * of the same loop, adds the one before in line order; so documents,
 * messages and --strict stop where a serial reader would. */
enum { JSONL_BATCH = 4 << 20, JSONL_READ = 1 << 20 };

typedef enum jkind { J_BLANK, J_RECORD, J_MALFORMED, J_NOMEM } jkind;

typedef struct jline {
    const char *p; /* the line in its batch's text */
    size_t n;
    jkind kind;
    bool has_id;
    unsigned tid;             /* the arena that holds what follows */
    size_t text, text_len;    /* the text, or the message when malformed */
    size_t id, id_len;
} jline;

/* A batch: whole lines of the stream, or the place of a record too long to
 * read; then what parsing its lines made. */
typedef struct jbatch {
    pd_buf text;
    jline *lines;
    size_t n_lines, cap_lines;
    pd_tbuf *arena;  /* one per thread */
    uint64_t line;   /* the number of its first line */
    bool overlong;   /* no lines: the record at `line` was too long and dropped */
    pd_status after; /* PD_OK, or how the stream failed after these lines */
} jbatch;

typedef struct jsonl {
    const pd_input_options *o;
    bool fast; /* the fields are top-level names: json.c may read plain lines */
    jbatch *parsing; /* the batch whose lines parse_line() reads */
    jbatch *adding;  /* the batch before, added by the same round (jsonl_job) */
    pd_status added;
    pd_files *fs;
    uint32_t file;
    pd_pool *pool;
    unsigned threads;
} jsonl;

/* The stream as it is cut into batches: buf holds what was read and is in
 * no batch yet, buf.data[0..scan) without a newline. */
typedef struct jreader {
    pd_instream *in;
    pd_buf buf;
    size_t want, scan;
    uint64_t line; /* the number of buf's first line */
    bool first, eof, skipping;
} jreader;

/* Append n bytes to a's end; their offset in *at. */
static bool arena_put(pd_buf *a, const char *p, size_t n, size_t *at)
{
    if (pd_buf_reserve(a, a->len + n + 1) != PD_OK)
        return false;
    *at = a->len;
    if (n)
        memcpy(a->data + a->len, p, n);
    a->len += n;
    return true;
}

static void jline_malformed(jline *l, pd_buf *a, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void jline_malformed(jline *l, pd_buf *a, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    size_t n = k < 0 ? 0 : (size_t)k < sizeof msg ? (size_t)k : sizeof msg - 1;
    l->kind = arena_put(a, msg, n, &l->text) ? J_MALFORMED : J_NOMEM;
    l->text_len = n;
}

/* Parse line i of the batch: a parallel job. */
static void parse_line(void *ctx, unsigned tid, size_t i)
{
    jsonl *j = ctx;
    jline *l = &j->parsing->lines[i];
    pd_buf *a = &j->parsing->arena[tid].b;
    const char *p = l->p;
    size_t n = l->n, k = 0;
    l->tid = tid;
    l->kind = J_BLANK;
    while (k < n && (p[k] == ' ' || p[k] == '\t' || p[k] == '\r'))
        k++;
    if (k == n)
        return; /* a blank line is no record */
    const pd_input_options *o = j->o;
    if (j->fast) { /* a plain line is read without building its tree */
        pd_json_fields f;
        pd_json_result r = pd_json_record(p, n, o->text_field, o->id_field, a, &f);
        if (r == PD_JSON_NOMEM)
            l->kind = J_NOMEM;
        if (r == PD_JSON_OK)
            *l = (jline){p, n, J_RECORD, f.has_id, tid, f.text, f.text_len, f.id, f.id_len};
        if (r != PD_JSON_UNSURE)
            return;
    }
    json_error_t err;
    json_t *root = json_loadb(p, n, JSON_ALLOW_NUL, &err);
    if (!root) {
        jline_malformed(l, a, "not valid JSON: %s (column %d)", err.text, err.column);
        return;
    }
    json_t *text = lookup(root, o->text_field), *id = lookup(root, o->id_field);
    char num[32];
    if (!json_is_object(root))
        jline_malformed(l, a, "not a JSON object");
    else if (!text)
        jline_malformed(l, a, "no field '%s'", o->text_field);
    else if (!json_is_string(text))
        jline_malformed(l, a, "field '%s' is not a string", o->text_field);
    else if (id && !json_is_string(id) && !json_is_integer(id))
        jline_malformed(l, a, "field '%s' is neither a string nor an integer", o->id_field);
    else {
        const char *idp = NULL;
        l->id_len = 0;
        if (json_is_integer(id)) {
            int w = snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(id));
            idp = num;
            l->id_len = (size_t)w;
        } else if (id) {
            idp = json_string_value(id);
            l->id_len = json_string_length(id);
        }
        l->has_id = idp != NULL;
        l->text_len = json_string_length(text);
        bool ok = arena_put(a, json_string_value(text), l->text_len, &l->text) &&
                  (!idp || arena_put(a, idp, l->id_len, &l->id));
        l->kind = ok ? J_RECORD : J_NOMEM;
    }
    json_decref(root);
}

/* Add a parsed batch in line order: its records, its messages, and how the
 * stream failed after it; the first failure is returned. */
static pd_status add_batch(pd_files *fs, uint32_t file, jbatch *bt, unsigned threads)
{
    pd_status st = PD_OK;
    if (bt->overlong)
        st = pd_files_malformed(fs, file, bt->line, "record longer than %zu bytes",
                                PD_RECORD_MAX);
    for (size_t i = 0; i < bt->n_lines && st == PD_OK; i++) {
        const jline *l = &bt->lines[i];
        const char *a = bt->arena[l->tid].b.data;
        if (l->kind == J_NOMEM)
            st = PD_ENOMEM;
        else if (l->kind == J_MALFORMED)
            st = pd_files_malformed(fs, file, bt->line + i, "%.*s", (int)l->text_len,
                                    a + l->text);
        else if (l->kind == J_RECORD)
            st = pd_files_record(fs, file, bt->line + i, l->has_id ? a + l->id : NULL, l->id_len,
                                 a + l->text, l->text_len);
    }
    for (unsigned t = 0; t < threads; t++)
        bt->arena[t].b.len = 0;
    return st == PD_OK ? bt->after : st;
}

/* Move buf[0..end), whole lines, into bt (buf and bt's text swap places;
 * the rest is copied back) and cut it into lines. */
static pd_status take_lines(jreader *r, jbatch *bt, size_t end)
{
    pd_buf rest = bt->text;
    bt->text = r->buf;
    PD_TRY(pd_buf_reserve(&rest, bt->text.len - end + 1));
    if (bt->text.len > end)
        memcpy(rest.data, bt->text.data + end, bt->text.len - end);
    rest.len = bt->text.len - end;
    r->buf = rest;
    bt->text.len = end;
    const char *b = bt->text.data;
    for (size_t pos = 0; pos < end;) {
        const char *nl = memchr(b + pos, '\n', end - pos);
        size_t n = nl ? (size_t)(nl - (b + pos)) : end - pos;
        PD_TRY(PD_GROW(bt->lines, bt->cap_lines, bt->n_lines + 1));
        bt->lines[bt->n_lines++] = (jline){.p = b + pos, .n = n};
        pos += n + 1;
    }
    r->line += bt->n_lines;
    r->scan = 0;
    r->want = JSONL_BATCH;
    return PD_OK;
}

/* The end of the last whole line in b[0..len), or 0; b[0..scan) is known to
 * hold no newline. */
static size_t whole_lines(const char *b, size_t len, size_t scan)
{
    size_t e = len;
    while (e > scan && b[e - 1] != '\n')
        e--;
    return e > scan ? e : 0;
}

/* Read the next batch into bt: at least JSONL_BATCH bytes of whole lines
 * unless the stream ends or fails first (the lines before a failure count),
 * or a record too long to keep. *got is false at the end of the stream. */
static pd_status next_batch(jreader *r, jbatch *bt, bool *got)
{
    bt->n_lines = 0;
    bt->overlong = false;
    bt->after = PD_OK;
    bt->line = r->line;
    *got = false;
    while (!(r->eof && r->buf.len == 0)) {
        if (!r->eof && r->buf.len < r->want) {
            size_t n = 0;
            pd_status st = pd_buf_reserve(&r->buf, r->buf.len + JSONL_READ);
            if (st == PD_OK)
                st = pd_instream_read(r->in, r->buf.data + r->buf.len, JSONL_READ, &n);
            size_t bom = skip_bom(r->buf.data + r->buf.len, n, r->first);
            memmove(r->buf.data + r->buf.len, r->buf.data + r->buf.len + bom, n - bom);
            r->buf.len += n - bom;
            r->first = false;
            r->eof = n == 0;
            if (st == PD_ENOMEM)
                return st;
            if (st != PD_OK) { /* the stream is damaged: the lines before it count */
                if (!r->skipping)
                    PD_TRY(take_lines(r, bt, whole_lines(r->buf.data, r->buf.len, r->scan)));
                bt->after = st;
                r->eof = true;
                r->buf.len = 0;
                *got = true;
                return PD_OK;
            }
            continue;
        }
        if (r->skipping) { /* drop the rest of an overlong record */
            char *nl = memchr(r->buf.data, '\n', r->buf.len);
            size_t drop = nl ? (size_t)(nl - r->buf.data) + 1 : r->buf.len;
            memmove(r->buf.data, r->buf.data + drop, r->buf.len - drop);
            r->buf.len -= drop;
            if (nl) {
                r->skipping = false;
                r->line++;
            }
            continue;
        }
        size_t end = r->eof ? r->buf.len : whole_lines(r->buf.data, r->buf.len, r->scan);
        if (end > 0) {
            PD_TRY(take_lines(r, bt, end));
            *got = true;
            return PD_OK;
        }
        /* one line longer than the buffer: read on */
        r->scan = r->buf.len;
        r->want = r->buf.len + JSONL_READ;
        if (r->buf.len > PD_RECORD_MAX) {
            bt->overlong = true;
            r->skipping = true;
            r->buf.len = r->scan = 0;
            r->want = JSONL_BATCH;
            *got = true;
            return PD_OK;
        }
    }
    return PD_OK;
}

/* Item 0 of a round adds the batch before (it is taken first), the others
 * parse the round's lines. */
static void jsonl_job(void *ctx, unsigned tid, size_t i)
{
    jsonl *j = ctx;
    if (i > 0)
        parse_line(ctx, tid, i - 1);
    else if (j->adding)
        j->added = add_batch(j->fs, j->file, j->adding, j->threads);
}

/* Round by round: bt[k] is parsed and bt[k - 1] added on the pool while the
 * main thread reads bt[k + 1] (mod 3); returns the first failure. */
static pd_status jsonl_pipeline(jsonl *j, jreader *r, jbatch *bt)
{
    bool got;
    unsigned k = 0;
    pd_status st = next_batch(r, &bt[0], &got);
    j->adding = NULL;
    while (st == PD_OK && got) {
        j->parsing = &bt[k];
        j->added = PD_OK;
        size_t n = bt[k].n_lines;
        pd_parallel_start(j->pool, n < 64 ? 1 : j->threads, n + 1, jsonl_job, j);
        got = false;
        if (bt[k].after == PD_OK)
            st = next_batch(r, &bt[(k + 1) % 3], &got);
        pd_parallel_finish(j->pool);
        st = j->added != PD_OK ? j->added : st;
        j->adding = &bt[k];
        k = (k + 1) % 3;
    }
    return st == PD_OK && j->adding ? add_batch(j->fs, j->file, j->adding, j->threads) : st;
}

pd_status pd_read_jsonl(pd_files *fs, uint32_t file, pd_instream *in)
{
    const pd_input_options *o = pd_files_options(fs);
    jsonl j = {.o = o, .fs = fs, .file = file, .pool = pd_files_pool(fs),
               .threads = pd_pool_size(pd_files_pool(fs)),
               .fast = !strchr(o->text_field, '.') && (!o->id_field || !strchr(o->id_field, '.'))};
    jreader r = {.in = in, .want = JSONL_BATCH, .line = 1, .first = true};
    jbatch bt[3];
    memset(bt, 0, sizeof bt);
    pd_buf_init(&r.buf);
    pd_status st = PD_OK;
    for (int k = 0; k < 3 && st == PD_OK; k++)
        if (!(bt[k].arena = pd_tbufs_new(j.threads)))
            st = PD_ENOMEM;
    if (st == PD_OK)
        st = jsonl_pipeline(&j, &r, bt);
    for (int k = 0; k < 3; k++) {
        pd_tbufs_free(bt[k].arena, j.threads);
        free(bt[k].lines);
        pd_buf_release(&bt[k].text);
    }
    pd_buf_release(&r.buf);
    return st;
}

/* ---- CSV ----------------------------------------------------------------- */

typedef struct csv_reader {
    pd_files *fs;
    uint32_t file;
    const pd_input_options *o;
    bool header;       /* the header row is being read */
    bool row_open;     /* a row has begun and not ended */
    long text_col, id_col; /* 0-based, -1 when not (yet) known */
    long col;          /* the field being read */
    uint64_t rows;     /* rows ended so far */
    uint64_t row_bytes; /* bytes fed since the row began */
    bool at_start;     /* the next byte fed begins a line */
    bool after_cr;     /* the last block ended in "\r": a "\n" may follow */
    bool blank_so_far; /* the line fed so far began between rows and is blank */
    char delim;
    bool fast;         /* plain rows are read without libcsv (fast_row) */
    pd_buf unescaped;  /* a quoted field with "" in it, read by fast_row() */
    size_t header_cols;
    uint64_t line, row_line;
    pd_buf text, id, names; /* names: the header's fields, for messages */
    bool have_text, have_id;
    pd_status st;
} csv_reader;

/* A column option: a 1-based index, or a name to find in the header. */
static long column_index(const char *spec)
{
    char *end;
    long v = strtol(spec, &end, 10);
    return *spec && *end == 0 && v > 0 ? v - 1 : -1;
}

static pd_status keep_field(pd_buf *b, const void *p, size_t n)
{
    PD_TRY(pd_buf_reserve(b, n + 1));
    memcpy(b->data, p, n);
    b->len = n;
    return PD_OK;
}

static void on_field(void *p, size_t n, void *ctx)
{
    csv_reader *r = ctx;
    r->row_open = true;
    if (r->st != PD_OK)
        return;
    if (r->header) {
        if (r->text_col < 0 && n == strlen(r->o->text_column) && memcmp(p, r->o->text_column, n) == 0)
            r->text_col = r->col;
        if (r->id_col < 0 && r->o->id_column && n == strlen(r->o->id_column) &&
            memcmp(p, r->o->id_column, n) == 0)
            r->id_col = r->col;
        if (r->names.len < 200 && (r->st = pd_buf_reserve(&r->names, r->names.len + n + 3)) == PD_OK) {
            if (r->names.len)
                r->names.data[r->names.len++] = ',';
            memcpy(r->names.data + r->names.len, p, n);
            r->names.len += n;
        }
    } else if (r->col == r->text_col) {
        r->st = keep_field(&r->text, p, n);
        r->have_text = true;
    } else if (r->col == r->id_col) {
        r->st = keep_field(&r->id, p, n);
        r->have_id = true;
    }
    r->col++;
}

static void on_row(int c, void *ctx)
{
    PD_UNUSED(c);
    csv_reader *r = ctx;
    long cols = r->col;
    r->col = 0;
    r->rows++;
    r->row_open = false;
    if (r->st != PD_OK)
        return;
    if (r->header) {
        r->header = false;
        r->header_cols = (size_t)cols;
        if (r->text_col < 0 || r->text_col >= cols) {
            if (r->names.data)
                r->names.data[r->names.len] = 0;
            pd_files_report(r->fs, pd_files_path(r->fs, r->file), r->row_line,
                            "no column '%s' in the header (%s): choose one with --text-column",
                            r->o->text_column, r->names.data ? r->names.data : "");
            r->st = PD_EIO;
        }
        if (r->id_col >= cols)
            r->id_col = -1;
        return;
    }
    if (!r->have_text)
        r->st = pd_files_malformed(r->fs, r->file, r->row_line,
                                   "%ld field%s, but the text is in column %ld", cols,
                                   cols == 1 ? "" : "s", r->text_col + 1);
    else
        r->st = pd_files_record(r->fs, r->file, r->row_line,
                                r->have_id && r->id.len ? r->id.data : NULL, r->id.len,
                                r->text.data, r->text.len);
    r->have_text = r->have_id = false;
}

/* Where the line at data[0..n) ends: after its "\n", "\r\n" or lone "\r"
 * (libcsv ends a row at each), or n when it goes on past the block. */
static size_t line_end(const char *data, size_t n)
{
    const char *nl = memchr(data, '\n', n);
    size_t k = nl ? (size_t)(nl - data) : n;
    const char *cr = memchr(data, '\r', k);
    if (cr && (size_t)(cr - data) + 1 < k)
        return (size_t)(cr - data) + 1; /* a lone CR: an old Mac line end */
    return nl ? k + 1 : cr ? (size_t)(cr - data) + 1 : n;
}

/* The fast path: a row read without libcsv when it is plain, exactly as
 * libcsv (not strict, no options but CSV_APPEND_NULL) reads it. A plain row
 * starts between rows and ends, within the block, at "\n", "\r\n" or a
 * lone "\r" (a "\r" must not be the block's last byte); its fields are
 * unquoted (blanks around them dropped, a quote in them kept) or quoted,
 * with "" for a quote and nothing but blanks between the closing quote and
 * the delimiter or the line end. Anything else (a blank line, a quote with
 * something after it, a row the block cuts) is left to libcsv. Blanks are
 * spaces and tabs that are not the delimiter. */
static bool csv_blank(char c, char delim)
{
    return (c == ' ' || c == '\t') && c != delim;
}

/* Is the line data[0..k), at a row's start, one that libcsv skips: blanks
 * and its line end? */
static bool blank_line(const char *data, size_t k, char delim)
{
    if (k > 0 && data[k - 1] == '\n')
        k--;
    if (k > 0 && data[k - 1] == '\r')
        k--;
    for (size_t i = 0; i < k; i++)
        if (!csv_blank(data[i], delim))
            return false;
    return true;
}

/* The end of the quoted field whose content starts at d[i]: the index of
 * its closing quote, or n when it is not closed in d[0..n). *escaped is set
 * when it holds a "". */
static size_t closing_quote(const char *d, size_t i, size_t n, bool *escaped)
{
    for (;;) {
        const char *q = memchr(d + i, '"', n - i);
        if (!q)
            return n;
        i = (size_t)(q - d);
        if (i + 1 < n && d[i + 1] == '"') {
            *escaped = true;
            i += 2;
            continue;
        }
        return i;
    }
}

/* Read the plain row at d[0..n): with `emit`, give its fields and its end
 * to on_field() and on_row(). Returns the bytes it takes with its line end,
 * or 0 when it is not plain (see above). */
static size_t fast_row(csv_reader *r, const char *d, size_t n, bool emit)
{
    char delim = r->delim;
    size_t i = 0;
    while (i < n && csv_blank(d[i], delim))
        i++;
    if (i == n || d[i] == '\n' || d[i] == '\r')
        return 0; /* a blank line, or a cut one */
    for (;;) { /* at the start of a field, blanks skipped */
        size_t b = i, e;
        if (i < n && d[i] == '"') {
            bool escaped = false;
            e = closing_quote(d, i + 1, n, &escaped);
            if (e == n)
                return 0;
            i = e + 1;
            while (i < n && csv_blank(d[i], delim))
                i++;
            if (i == n || (d[i] != delim && d[i] != '\n' && d[i] != '\r'))
                return 0;
            if (emit && !escaped)
                on_field((void *)(d + b + 1), e - b - 1, r);
            else if (emit) {
                pd_buf *u = &r->unescaped;
                if ((r->st = pd_buf_reserve(u, e - b)) != PD_OK)
                    return 0;
                u->len = 0;
                for (size_t k = b + 1; k < e;) { /* "" is one quote */
                    const char *q = memchr(d + k, '"', e - k);
                    size_t stop = q ? (size_t)(q - d) + 1 : e;
                    memcpy(u->data + u->len, d + k, stop - k);
                    u->len += stop - k;
                    k = q ? stop + 1 : e;
                }
                on_field(u->data, u->len, r);
            }
        } else {
            while (i < n && d[i] != delim && d[i] != '\n' && d[i] != '\r')
                i++;
            if (i == n)
                return 0;
            for (e = i; e > b && csv_blank(d[e - 1], delim);)
                e--;
            if (emit)
                on_field((void *)(d + b), e - b, r);
        }
        if (d[i] != delim)
            break;
        i++;
        while (i < n && csv_blank(d[i], delim))
            i++;
    }
    /* d[i] ends the row: "\r" then maybe "\n", or "\n" */
    if (d[i] == '\r' && i + 1 == n)
        return 0; /* its "\n" may be in the next block */
    if (emit)
        on_row(d[i], r);
    return i + 1 + (d[i] == '\r' && d[i + 1] == '\n');
}

/* The lines d[0..n) spans, as line_end() counts them. */
static uint64_t lines_in(const char *d, size_t n)
{
    uint64_t lines = 0;
    for (const char *p = d, *end = d + n; (p = memchr(p, '\n', (size_t)(end - p))); p++)
        lines++;
    for (const char *p = d, *end = d + n; (p = memchr(p, '\r', (size_t)(end - p))); p++)
        lines += p + 1 == end || p[1] != '\n';
    return lines;
}

/* Read plain rows at d[0..n) without libcsv, while the reader is between
 * rows; returns the bytes read. */
static size_t fast_rows(csv_reader *r, const char *d, size_t n)
{
    size_t done = 0;
    while (r->fast && r->at_start && !r->row_open && r->st == PD_OK && done < n) {
        size_t k = fast_row(r, d + done, n - done, false);
        if (k == 0)
            break;
        r->row_line = r->line;
        fast_row(r, d + done, n - done, true);
        r->row_bytes = k;
        r->line += lines_in(d + done, k);
        done += k;
    }
    return done;
}

/* Feed one block, a line at a time, so that each row knows the line it
 * began on (a quoted field may span lines). */
static void feed(csv_reader *r, struct csv_parser *p, const char *data, size_t n)
{
    if (n > 0 && r->after_cr && data[0] == '\n') {
        csv_parse(p, data, 1, on_field, on_row, r); /* a "\r\n" cut by the block */
        data++;
        n--;
    }
    r->after_cr = false;
    while (n > 0 && r->st == PD_OK) {
        size_t fast = fast_rows(r, data, n);
        data += fast;
        n -= fast;
        if (n == 0)
            break;
        size_t k = line_end(data, n);
        bool ended = data[k - 1] == '\n' || data[k - 1] == '\r';
        if (r->at_start && !r->row_open) {
            r->row_line = r->line;
            r->row_bytes = 0;
        }
        uint64_t rows = r->rows;
        csv_parse(p, data, k, on_field, on_row, r);
        /* A line that ends no row leaves one open (a quoted newline), unless
         * it is blank: libcsv skips blank lines between rows. */
        bool blank = (r->at_start ? !r->row_open : r->blank_so_far) && blank_line(data, k, r->delim);
        if (ended && r->rows == rows && !blank)
            r->row_open = true;
        r->row_bytes += k;
        r->blank_so_far = blank;
        r->at_start = ended;
        r->line += ended;
        r->after_cr = k == n && data[k - 1] == '\r';
        data += k;
        n -= k;
    }
}

pd_status pd_read_csv(pd_files *fs, uint32_t file, pd_instream *in, char delim, bool fast)
{
    const pd_input_options *o = pd_files_options(fs);
    csv_reader r = {.fs = fs, .file = file, .o = o, .header = true, .at_start = true,
                    .text_col = column_index(o->text_column),
                    .id_col = o->id_column ? column_index(o->id_column) : -1,
                    .line = 1, .row_line = 1, .delim = delim, .st = PD_OK,
                    .fast = fast && delim != '"' && delim != '\n' && delim != '\r'};
    struct csv_parser p;
    if (csv_init(&p, CSV_APPEND_NULL) != 0)
        return PD_ENOMEM;
    csv_set_delim(&p, (unsigned char)delim);
    char *block = malloc(BLOCK);
    bool first = true;
    pd_status st = block ? PD_OK : PD_ENOMEM;
    while (st == PD_OK && r.st == PD_OK) {
        size_t got;
        if ((st = pd_instream_read(in, block, BLOCK, &got)) != PD_OK || got == 0)
            break;
        size_t bom = skip_bom(block, got, first);
        first = false;
        feed(&r, &p, block + bom, got - bom);
        if (r.row_bytes > PD_RECORD_MAX && r.st == PD_OK) {
            pd_files_report(fs, pd_files_path(fs, file), r.row_line,
                            "record longer than %zu bytes (a quote left open?): file not read on",
                            PD_RECORD_MAX);
            r.st = PD_EIO;
        }
    }
    /* End the last line, so that a row still open is a quote never closed. */
    if (st == PD_OK && r.st == PD_OK && !r.at_start)
        feed(&r, &p, "\n", 1);
    if (st == PD_OK && r.st == PD_OK && r.row_open)
        r.st = pd_files_malformed(fs, file, r.row_line, "a quoted field is never closed");
    else if (st == PD_OK && r.st == PD_OK)
        csv_fini(&p, on_field, on_row, &r);
    if (st == PD_OK && r.st == PD_OK && r.header && !pd_instream_error(in))
        pd_files_report(fs, pd_files_path(fs, file), 0, "no header row: the file is empty");
    csv_free(&p);
    free(block);
    pd_buf_release(&r.text);
    pd_buf_release(&r.id);
    pd_buf_release(&r.names);
    pd_buf_release(&r.unescaped);
    return st != PD_OK ? st : r.st;
}
