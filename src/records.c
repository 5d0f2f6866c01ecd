/*
 * records.c - the record readers: JSONL (with jansson) and CSV/TSV (with
 * libcsv) streams turned into documents of a pd_files.
 *
 * Both read a pd_instream in blocks, so a file of any size streams through
 * bounded memory: one record is held at a time (up to PD_RECORD_MAX bytes).
 * A record that cannot be used (not JSON, no text, too few columns) is
 * reported with its line and skipped, or stops the file when strict.
 */
#include "internal.h"

#include <csv.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
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

static pd_status jsonl_record(pd_files *fs, uint32_t file, uint64_t line, const char *p,
                              size_t n)
{
    const pd_input_options *o = pd_files_options(fs);
    size_t i = 0;
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r'))
        i++;
    if (i == n)
        return PD_OK; /* a blank line is no record */
    json_error_t err;
    json_t *root = json_loadb(p, n, JSON_ALLOW_NUL, &err);
    if (!root)
        return pd_files_malformed(fs, file, line, "not valid JSON: %s (column %d)", err.text,
                                  err.column);
    json_t *text = lookup(root, o->text_field), *id = lookup(root, o->id_field);
    pd_status st = PD_OK;
    char num[32];
    if (!json_is_object(root))
        st = pd_files_malformed(fs, file, line, "not a JSON object");
    else if (!text)
        st = pd_files_malformed(fs, file, line, "no field '%s'", o->text_field);
    else if (!json_is_string(text))
        st = pd_files_malformed(fs, file, line, "field '%s' is not a string", o->text_field);
    else if (id && !json_is_string(id) && !json_is_integer(id))
        st = pd_files_malformed(fs, file, line, "field '%s' is neither a string nor an integer",
                                o->id_field);
    else if (json_is_integer(id)) {
        int k = snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(id));
        st = pd_files_record(fs, file, line, num, (size_t)k, json_string_value(text),
                             json_string_length(text));
    } else {
        st = pd_files_record(fs, file, line, id ? json_string_value(id) : NULL,
                             id ? json_string_length(id) : 0, json_string_value(text),
                             json_string_length(text));
    }
    json_decref(root);
    return st;
}

pd_status pd_read_jsonl(pd_files *fs, uint32_t file, pd_instream *in)
{
    pd_buf b;
    pd_buf_init(&b);
    pd_status st = pd_buf_reserve(&b, BLOCK);
    uint64_t line = 1;
    size_t scan = 0; /* b.data[0..scan) holds no newline */
    bool first = true, eof = false, skipping = false;
    while (st == PD_OK && !(eof && b.len == 0)) {
        char *nl = memchr(b.data + scan, '\n', b.len - scan);
        if (!nl && !eof) {
            if (b.len > PD_RECORD_MAX && !skipping) {
                st = pd_files_malformed(fs, file, line, "record longer than %zu bytes",
                                        PD_RECORD_MAX);
                skipping = true;
            }
            if (skipping)
                b.len = 0; /* drop the record's bytes until its end */
            scan = b.len;
            size_t got = 0;
            if (st == PD_OK && (st = pd_buf_reserve(&b, b.len + BLOCK)) == PD_OK)
                st = pd_instream_read(in, b.data + b.len, BLOCK, &got);
            size_t bom = skip_bom(b.data + b.len, got, first);
            memmove(b.data + b.len, b.data + b.len + bom, got - bom);
            b.len += got - bom;
            first = false;
            eof = got == 0;
            continue;
        }
        size_t n = nl ? (size_t)(nl - b.data) : b.len;
        if (!skipping)
            st = jsonl_record(fs, file, line, b.data, n);
        skipping = false;
        size_t used = nl ? n + 1 : n;
        memmove(b.data, b.data + used, b.len - used);
        b.len -= used;
        scan = 0;
        line++;
    }
    pd_buf_release(&b);
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

/* Feed one block, a line at a time, so that each row knows the line it
 * began on (a quoted field may span lines). */
static void feed(csv_reader *r, struct csv_parser *p, const char *data, size_t n)
{
    while (n > 0 && r->st == PD_OK) {
        const char *nl = memchr(data, '\n', n);
        size_t k = nl ? (size_t)(nl - data) + 1 : n;
        if (r->at_start && !r->row_open) {
            r->row_line = r->line;
            r->row_bytes = 0;
        }
        uint64_t rows = r->rows;
        csv_parse(p, data, k, on_field, on_row, r);
        /* A line that ends no row leaves one open (a quoted newline), unless
         * it is blank: libcsv skips blank lines between rows. */
        bool blank = r->at_start && (k == 1 || (k == 2 && data[0] == '\r'));
        if (nl && r->rows == rows && !blank)
            r->row_open = true;
        r->row_bytes += k;
        r->at_start = nl != NULL;
        r->line += nl != NULL;
        data += k;
        n -= k;
    }
}

pd_status pd_read_csv(pd_files *fs, uint32_t file, pd_instream *in, char delim)
{
    const pd_input_options *o = pd_files_options(fs);
    csv_reader r = {.fs = fs, .file = file, .o = o, .header = true, .at_start = true,
                    .text_col = column_index(o->text_column),
                    .id_col = o->id_column ? column_index(o->id_column) : -1,
                    .line = 1, .row_line = 1, .st = PD_OK};
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
    return st != PD_OK ? st : r.st;
}
