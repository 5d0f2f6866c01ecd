/*
 * csvout.c - the CSV report.
 *
 * Every field is quoted as libcsv's csv_write() quotes it: valid CSV that
 * every reader takes (a field without a quote is copied whole between quotes,
 * which is what csv_write() would write). A unit's text is read back from the source by its
 * byte offsets (nothing of it was kept) and, for a paragraph or a sentence of
 * wrapped lines, its lines are trimmed and joined by one space (pd_unit_text). Numbers are written with
 * fixed formats so the same input gives byte-identical output.
 */
#include "internal.h"

#include <csv.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>

/* The role, match and scope columns as a row writes them: quoted, with
 * their comma, copied whole (none starts with a character that PD_CSV_SAFE
 * defuses, nor holds a quote). */
typedef struct qname {
    const char *s;
    unsigned len;
} qname;
#define QNAME(x) {"\"" x "\",", sizeof(x) + 2}
static const qname role_q[] = {QNAME("keep"), QNAME("duplicate")};
static const qname match_q[] = {QNAME(""), QNAME("exact"), QNAME("near")};
static const qname scope_q[] = {QNAME(""), QNAME("within"), QNAME("across")};
#undef QNAME

/* The report is built in buf and written with one fwrite() per OUT_FLUSH
 * bytes: a call per field would cost a lock and a copy each. */
enum { OUT_FLUSH = 1 << 20 };

typedef struct out {
    FILE *f; /* NULL: a piece of the report, written by its caller */
    bool ok;
    int fields;
    bool safe; /* PD_CSV_SAFE: defuse cells a spreadsheet would run */
    pd_buf buf;
} out;

static void flush(out *o)
{
    if (o->buf.len > 0 && fwrite(o->buf.data, 1, o->buf.len, o->f) != o->buf.len)
        o->ok = false;
    o->buf.len = 0;
}

/* Room for `n` more bytes (and a comma); false when out of memory. */
static bool room(out *o, size_t n)
{
    if (o->f && o->buf.len >= OUT_FLUSH)
        flush(o);
    if (o->buf.len + n + 1 >= o->buf.cap && pd_buf_reserve(&o->buf, o->buf.len + n + 1) != PD_OK) {
        o->ok = false;
        return false;
    }
    if (o->fields++ > 0)
        o->buf.data[o->buf.len++] = ',';
    return true;
}

/* Write s quoted at d, which has room for 2 * n + 3 bytes; returns the
 * length written. With `safe`, a cell a spreadsheet would run as a formula
 * gets an apostrophe after its opening quote. */
static size_t put_field(char *d, size_t cap, const char *s, size_t n, bool safe)
{
    size_t lead = safe && n > 0 && strchr("=+-@\t\r", s[0]) ? 1 : 0, w;
    char *q = d + lead; /* the quoted field; an apostrophe goes before it */
    if (n == 0 || !memchr(s, '"', n)) {
        /* Nothing to double: the bytes csv_write() would write, at memcpy speed. */
        q[0] = '"';
        if (n > 0)
            memcpy(q + 1, s, n);
        q[n + 1] = '"';
        w = n + 2;
    } else {
        w = csv_write(q, cap - lead, s, n);
    }
    if (lead) { /* '=1+1 is shown as text by spreadsheets, not run as a formula */
        d[0] = '"';
        d[1] = '\'';
    }
    return w + lead;
}

static void field(out *o, const char *s, size_t n)
{
    /* Quoting at most doubles a field, plus its two quotes and an apostrophe. */
    if (room(o, 2 * n + 3))
        o->buf.len += put_field(o->buf.data + o->buf.len, o->buf.cap - o->buf.len, s, n, o->safe);
}

static void field_str(out *o, const char *s)
{
    field(o, s, strlen(s));
}

/* A name of role_q, match_q or scope_q as a field of its own. */
static void field_name(out *o, const qname *q)
{
    field(o, q->s + 1, q->len - 3); /* without its quotes and comma */
}

/* A number needs no escaping: its digits are written quoted, like every
 * field. Returns the length written, at most U64_FIELD bytes. */
enum { U64_FIELD = 22 };

/* The decimal digits of v: its bit length gives log10 to within one (1233 /
 * 4096 is just above log10(2)), and a table of powers of ten settles it. */
static size_t digits(uint64_t v)
{
    static const uint64_t pow10[20] = {
        1u, 10u, 100u, 1000u, 10000u, 100000u, 1000000u, 10000000u, 100000000u, 1000000000u,
        10000000000u, 100000000000u, 1000000000000u, 10000000000000u, 100000000000000u,
        1000000000000000u, 10000000000000000u, 100000000000000000u, 1000000000000000000u,
        10000000000000000000u};
    unsigned t = (unsigned)(64 - __builtin_clzll(v | 1)) * 1233 >> 12;
    return v == 0 ? 1 : t + (v >= pow10[t]);
}

static size_t put_u64(char *d, uint64_t v)
{
    /* The digits are counted first, then written from the last, two at a
     * time from a table: six numbers a row make this a hot loop. */
    static const char pairs[201] = "00010203040506070809101112131415161718192021222324252627282930"
                                   "31323334353637383940414243444546474849505152535455565758596061"
                                   "62636465666768697071727374757677787980818283848586878889909192"
                                   "93949596979899";
    size_t n = digits(v);
    d[0] = '"';
    char *e = d + 1 + n;
    *e = '"';
    while (v >= 100) {
        memcpy(e -= 2, pairs + 2 * (v % 100), 2);
        v /= 100;
    }
    if (v >= 10)
        memcpy(e - 2, pairs + 2 * v, 2);
    else
        e[-1] = (char)('0' + v);
    return n + 2;
}

static void field_u64(out *o, uint64_t v)
{
    if (room(o, U64_FIELD))
        o->buf.len += put_u64(o->buf.data + o->buf.len, v);
}

/* "%.3f" of a similarity, quoted, or "" when absent; at most SIM_FIELD
 * bytes. It is a float in [0, 1], so v * 1000 is exact in a double (24 + 10
 * bits), and rounding that to an integer, ties to even, is what printf does;
 * anything else goes through snprintf. */
enum { SIM_FIELD = 40 };

static size_t put_sim(char *d, double v, bool present)
{
    char b[SIM_FIELD / 2 - 2];
    size_t n = 0;
    if (present && v >= 0.0 && v <= 1.0 && (double)(float)v == v) {
        long k = lrint(v * 1000.0);
        b[0] = (char)('0' + k / 1000);
        b[1] = '.';
        b[2] = (char)('0' + k / 100 % 10);
        b[3] = (char)('0' + k / 10 % 10);
        b[4] = (char)('0' + k % 10);
        n = 5;
    } else if (present) {
        int w = snprintf(b, sizeof b, "%.3f", v);
        n = w < 0 ? 0 : (size_t)w < sizeof b ? (size_t)w : sizeof b - 1;
    }
    return put_field(d, SIM_FIELD, b, n, false);
}

static void field_sim(out *o, double v, bool present)
{
    if (room(o, SIM_FIELD))
        o->buf.len += put_sim(o->buf.data + o->buf.len, v, present);
}

static void end_row(out *o)
{
    if (pd_buf_reserve(&o->buf, o->buf.len + 1) != PD_OK)
        o->ok = false;
    else
        o->buf.data[o->buf.len++] = '\n';
    o->fields = 0;
}

static void header(out *o, const char *h)
{
    flush(o);
    if (fputs(h, o->f) == EOF || putc('\n', o->f) == EOF)
        o->ok = false;
}

/* Rows are written in blocks: a block's texts are read in input order (so
 * each document is opened once per block, not once per row) into an arena,
 * where each row has a place sized by its byte range, shared by the rows
 * whose bytes are the same (repeat_of). The more texts a block reads, the
 * closer together they lie, and the fewer calls read them (see GAP_BYTES in
 * files.c): 100 MB of news, exact, reads 65,000 texts; with gaps of 8 KB
 * that took 12,700 calls when a block was 2 MB of its rows' text (repeats
 * too), 5,800 with blocks of 65,536 rows and 4 MB to read (report stage 58
 * -> 50 ms at -j2), and 2,900 with blocks of 1 << 18 rows and 16 MB, for 20
 * MB more memory. So a block is BLOCK_ROWS rows, or a sixteenth of the
 * report's rows when that is more, up to BLOCK_ROWS_MAX, with READ_PER_ROW
 * bytes a row to read: the rows' arrays and the arena then cost a few bytes
 * a row, and a larger input is read more densely (1 GB of news, exact:
 * 75,000 calls instead of 120,000, report stage 435 -> 389 ms at -j2, peak +8
 * MB; near: 481 -> 429 ms). The bounds on rows also keep the rows' arrays
 * and the table of texts read small when one text repeats many times.
 * The block's rows are then formatted in slices of SLICE_BYTES of text, each
 * in parallel, in pieces of PIECE_ROWS appended to the buffer of the thread
 * that formats it, and the pieces are written in row order. A thread's buffer
 * is kept from slice to slice: one buffer a thread, not one a piece, reaches
 * the size (512 KB) from which it is placed on huge pages.
 * A block is planned (which rows' texts are read, and where each lies in
 * the arena) on the main thread, 0.6-0.9 ms for 65,536 rows, so the next
 * block is planned while the helpers format the current block's first
 * slice: two plans are kept, and the table of texts read and the sort's
 * scratch, used only while planning, are shared. */
enum {
    BLOCK_ROWS = 1 << 16,
    BLOCK_SHARE = 16,
    BLOCK_ROWS_MAX = 1 << 20, /* a block's arrays and arena: about 100 MB at most */
    READ_PER_ROW = 64,
    SLICE_BYTES = 2 << 20,
    PIECE_ROWS = 1024
};

typedef struct plan {
    size_t first, n;       /* rows [first, first + n) */
    size_t reads, bytes;   /* rows whose text is read (listed in order), and their bytes: */
    uint64_t *order;       /* unit << 32 | row offset in block, sorted */
    size_t *off, *len;     /* each row's text in the arena: rows read only (text_row) */
    uint32_t *same;        /* the earlier row whose text a row repeats, or NONE */
    pd_lanes rows_room;    /* order, off, len and same in one block */
} plan;

typedef struct block {
    plan pl[2];
    plan *p;               /* the block being written: pl[0] or pl[1] */
    plan *next;            /* and the one planned while it is (n = 0: none) */
    size_t from, to;       /* the slice being formatted: rows [first + from, first + to) */
    struct seen {          /* texts read, by their key: see repeat_of() */
        uint32_t key, row;
    } *seen;
    size_t cap_seen, n_seen; /* n_seen in use: a power of two */
    uint64_t *tmp;         /* room to sort a plan's order */
    size_t cap_tmp;
    pd_buf arena;
    pd_status *read_st;    /* how each job of read_texts() went */
    uint32_t *read_doc;    /* and the document it could not read */
    size_t cap_read_st, cap_read_doc;
    pd_tbuf *raw;          /* per thread: a span's bytes, for a source without read_ranges */
    pd_tbuf *join;         /* per thread: a unit's lines joined */
    pd_tbuf *rows;         /* per thread: the pieces it formatted */
    struct piece {
        unsigned tid;      /* in rows[tid], at [off, off + len) */
        size_t off, len;
        bool ok;
    } *piece;
    size_t cap_pieces;
} block;

typedef struct report {
    pd_scan *sc;
    const pd_source *src;
    block *b;
    bool safe;
} report;

/* Units read in one job, and ranges given to the source in one call: with
 * the gaps between them they fit the 1,024 buffers of one preadv(). */
enum { READ_UNITS = 500 };
#define NONE UINT32_MAX

/* The lines of a unit that spans lines trimmed and joined by one space, in
 * its place (joining never lengthens a text); a word hyphenated at a line
 * end is shown whole when the normalizer reads it so. */
static pd_status join_lines(report *r, unsigned tid, size_t row, uint32_t unit)
{
    block *b = r->b;
    plan *p = b->p;
    char *text = b->arena.data + p->off[row];
    const pd_urec *u = &r->sc->units[unit];
    pd_unit local = {u->index, u->line_start, pd_urec_line_end(r->sc, unit), 0, p->len[row]};
    if (local.line_end == local.line_start)
        return PD_OK;
    if (r->sc->o.norm & PD_NORM_HYPHENS)
        p->len[row] = local.byte_end = pd_hyphens_join(text, p->len[row], text);
    pd_buf *join = &b->join[tid].b;
    PD_TRY(pd_unit_text(text, p->len[row], &local, PD_UNIT_PARAGRAPH, join));
    if (join->len > 0)
        memcpy(text, join->data, join->len);
    p->len[row] = join->len;
    return PD_OK;
}

/* Read the texts of units [i * READ_UNITS, ...) of the block (in input order) straight
 * to their places in the arena: a parallel job, as the places do not
 * overlap. */
static void read_job(void *ctx, unsigned tid, size_t i)
{
    report *r = ctx;
    block *b = r->b;
    const plan *p = b->p;
    const pd_scan *sc = r->sc;
    size_t from = i * READ_UNITS;
    size_t stop = from + READ_UNITS < p->reads ? from + READ_UNITS : p->reads;
    pd_range rg[READ_UNITS];
    size_t n = 0;
    for (size_t j = from; j < stop; j++) {
        const pd_urec *u = &sc->units[p->order[j] >> 32];
        size_t row = (uint32_t)p->order[j]; /* p->len[row]: set by plan_block() */
        if (p->len[row] > 0)
            rg[n++] = (pd_range){u->doc, u->byte_start, p->len[row], b->arena.data + p->off[row]};
    }
    pd_status st = n > 0 ? pd_read_ranges(r->src, &b->raw[tid].b, rg, n, &b->read_doc[i]) : PD_OK;
    for (size_t j = from; j < stop && st == PD_OK && sc->line_end; j++)
        st = join_lines(r, tid, (uint32_t)p->order[j], (uint32_t)(p->order[j] >> 32));
    b->read_st[i] = st;
}

/* Read the planned block's texts into the arena, READ_UNITS at a time in
 * parallel. */
static pd_status read_texts(report *r)
{
    pd_scan *sc = r->sc;
    block *b = r->b;
    const plan *p = b->p;
    size_t n = (p->reads + READ_UNITS - 1) / READ_UNITS;
    PD_TRY(pd_regrow((void **)&b->arena.data, &b->arena.cap, p->bytes + 1, 1));
    pd_prefault(b->arena.data, p->bytes);
    PD_TRY(PD_GROW(b->read_st, b->cap_read_st, n));
    PD_TRY(PD_GROW(b->read_doc, b->cap_read_doc, n));
    pd_parallel_for(sc->pool, n < 2 || p->bytes < (1 << 16) ? 1 : sc->threads, n, read_job, r);
    for (size_t i = 0; i < n; i++) {
        pd_status st = b->read_st[i];
        if (st != PD_OK && st != PD_ENOMEM)
            pd_scan_fail(sc, "cannot read '%s' again", r->src->name(r->src->ctx, b->read_doc[i]));
        if (st != PD_OK)
            return st;
    }
    return PD_OK;
}

/* A plan's per-row arrays in one block: a block of BLOCK_ROWS rows then
 * lies on a huge page, where the arrays apart, each under the size that
 * gets one (pd_alloc), cost 450 faults of 4 KB pages, 2 ms of the report's
 * serial part for 100 MB of news. */
static void plan_lanes(plan *p)
{
    p->rows_room = (pd_lanes){4,
                              {(void **)&p->order, (void **)&p->off, (void **)&p->len,
                               (void **)&p->same},
                              {sizeof *p->order, sizeof *p->off, sizeof *p->len, sizeof *p->same},
                              0, 0, NULL};
}

/* An empty table of texts read, for up to `rows` rows (half full at most). */
static pd_status seen_reset(block *b, size_t rows)
{
    size_t cap = 16;
    while (cap < 2 * rows)
        cap *= 2;
    PD_TRY(PD_REGROW(b->seen, b->cap_seen, cap));
    memset(b->seen, 0xff, cap * sizeof *b->seen);
    b->n_seen = cap;
    return PD_OK;
}

/* The earlier row of the block whose text has the same bytes as row k's, of
 * `len` bytes, or NONE (its text is then read for row k). Rows with the
 * same key (pd_rrow.same_bytes) have the bytes of the same text's first
 * unit: a banner, a caption or a syndicated paragraph is read once a block,
 * not once a row (100 MB of news, exact: 322,000 rows, 65,000 texts read). */
static uint32_t repeat_of(block *b, const plan *p, uint32_t key, size_t len, uint32_t k)
{
    if (key == NONE)
        return NONE;
    size_t mask = b->n_seen - 1;
    for (size_t i = (key * UINT64_C(0x9E3779B97F4A7C15)) >> 32 & mask;; i = (i + 1) & mask) {
        struct seen *e = &b->seen[i];
        if (e->row == NONE) {
            *e = (struct seen){key, k};
            return NONE;
        }
        if (e->key == key) /* the lengths differ only by a collision */
            return p->len[e->row] == len ? e->row : NONE;
    }
}

/* Plan p: the block of rows from `first` (none past the last row), as many
 * as a block takes (see the top; at least one), each with its place in the
 * arena, and the units of those whose text is read in input order. */
static pd_status plan_block(report *r, plan *p, size_t first)
{
    pd_scan *sc = r->sc;
    block *b = r->b;
    size_t most = sc->n_report / BLOCK_SHARE > BLOCK_ROWS ? sc->n_report / BLOCK_SHARE : BLOCK_ROWS;
    most = most < BLOCK_ROWS_MAX ? most : BLOCK_ROWS_MAX;
    size_t rows = first < sc->n_report ? sc->n_report - first : 0;
    rows = rows < most ? rows : most;
    size_t read_bytes = most * READ_PER_ROW;
    p->first = first;
    p->n = p->reads = p->bytes = 0;
    if (rows == 0)
        return PD_OK;
    PD_TRY(seen_reset(b, rows));
    p->rows_room.first = rows;
    PD_TRY(pd_lanes_grow(&p->rows_room, rows, 0));
    size_t at = 0, k = 0;
    for (; k < rows && (k == 0 || at < read_bytes); k++) {
        const pd_rrow *row = &sc->report[first + k];
        size_t len = row->len;
        p->len[k] = len; /* as read; join_lines() shortens a unit's of lines */
        if ((p->same[k] = repeat_of(b, p, row->same_bytes, len, (uint32_t)k)) != NONE)
            continue;
        p->order[p->reads++] = (uint64_t)row->unit << 32 | k;
        p->off[k] = at;
        at += len;
    }
    p->n = k;
    p->bytes = at;
    PD_TRY(PD_REGROW(b->tmp, b->cap_tmp, p->reads));
    pd_sort_u64_high(p->order, p->reads, b->tmp); /* the low halves are in order */
    return PD_OK;
}

/* The row of the block whose text row i shows: its own, or the one it
 * repeats (as read, and joined). */
static size_t text_row(const plan *p, size_t i)
{
    return p->same[i] != NONE ? p->same[i] : i;
}

/* The source column: the file, and the record's line for JSONL and CSV. */
static void field_source(out *o, const pd_source *src, uint32_t doc)
{
    const char *file;
    uint64_t line = 0;
    if (!src->origin) {
        field_str(o, src->name(src->ctx, doc));
        return;
    }
    src->origin(src->ctx, doc, &file, &line);
    if (line == 0) {
        field_str(o, file);
        return;
    }
    char buf[4096];
    int n = snprintf(buf, sizeof buf, "%s:%llu", file, (unsigned long long)line);
    field(o, buf, n < 0 ? 0 : (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

/* A document's name field, then a comma and its source field, kept while
 * rows of that document follow one another. */
typedef struct doc_fields {
    out o;
    uint32_t doc;
    size_t name_len;
} doc_fields;

static bool doc_fields_for(doc_fields *df, const pd_source *src, uint32_t doc)
{
    if (df->o.buf.len > 0 && df->doc == doc)
        return true;
    df->o.buf.len = 0;
    df->o.fields = 0;
    field_str(&df->o, src->name(src->ctx, doc));
    df->name_len = df->o.buf.len;
    field_source(&df->o, src, doc);
    df->doc = doc;
    return df->o.ok;
}

static char *put_name(char *d, const qname *q)
{
    memcpy(d, q->s, q->len);
    return d + q->len;
}

static char *put_number(char *d, uint64_t v)
{
    d += put_u64(d, v);
    *d = ',';
    return d + 1;
}

/* Row i of the block, written with one check for room: every field's
 * longest form is known before it is written. */
static void format_row(out *o, const report *rp, size_t i, doc_fields *df)
{
    const block *b = rp->b;
    const plan *p = b->p;
    pd_row r;
    pd_scan_row(rp->sc, p->first + i, &r);
    if (!doc_fields_for(df, rp->src, r.doc)) {
        o->ok = false;
        return;
    }
    size_t t = text_row(p, i), n = p->len[t], words = 3 * (2 * 9 + 3) + 3; /* role, match, scope */
    size_t need = 6 * U64_FIELD + SIM_FIELD + words + df->o.buf.len + 2 * n + 3 + 16;
    if (pd_buf_reserve(&o->buf, o->buf.len + need) != PD_OK) {
        o->ok = false;
        return;
    }
    char *d = o->buf.data + o->buf.len;
    d = put_number(d, r.cluster);
    memcpy(d, df->o.buf.data, df->name_len);
    d += df->name_len;
    *d++ = ',';
    d = put_number(d, r.unit.index);
    d = put_number(d, r.unit.line_start);
    d = put_number(d, r.unit.line_end);
    d = put_number(d, r.unit.byte_start);
    d = put_number(d, r.unit.byte_end);
    d = put_name(d, &role_q[r.role]);
    d = put_name(d, &match_q[r.match]);
    d += put_sim(d, r.similarity, r.role == PD_DUPLICATE);
    *d++ = ',';
    d = put_name(d, &scope_q[r.scope]);
    d += put_field(d, 2 * n + 3, b->arena.data + p->off[t], n, o->safe);
    memcpy(d, df->o.buf.data + df->name_len, df->o.buf.len - df->name_len);
    d += df->o.buf.len - df->name_len;
    *d++ = '\n';
    o->buf.len = (size_t)(d - o->buf.data);
}

/* Format piece p of the block (rows [p * PIECE_ROWS, ...)) at the end of
 * this thread's buffer. */
static void format_piece(void *ctx, unsigned tid, size_t p)
{
    report *rp = ctx;
    block *b = rp->b;
    /* The rows go to a copy of the buffer's header, written back at the end. */
    out o = {NULL, true, 0, rp->safe, b->rows[tid].b};
    size_t off = o.buf.len;
    doc_fields df = {{NULL, true, 0, o.safe, {NULL, 0, 0}}, 0, 0};
    size_t start = b->from + p * PIECE_ROWS;
    size_t end = start + PIECE_ROWS < b->to ? start + PIECE_ROWS : b->to;
    enum { AHEAD = 8 }; /* rows whose unit record is fetched ahead: they are scattered */
    const pd_scan *sc = rp->sc;
    for (size_t i = start; i < end && o.ok; i++) {
        if (i + AHEAD < end)
            PD_PREFETCH(&sc->units[sc->report[b->p->first + i + AHEAD].unit]);
        format_row(&o, rp, i, &df);
    }
    b->rows[tid].b = o.buf;
    b->piece[p] = (struct piece){tid, off, o.buf.len - off, o.ok};
    pd_buf_release(&df.o.buf);
}

/* Format the slice's rows in parallel, and plan the next block meanwhile when
 * `ahead`; then write the pieces in order. */
static pd_status write_slice(report *r, out *o, bool ahead)
{
    block *b = r->b;
    size_t rows = b->to - b->from, n = (rows + PIECE_ROWS - 1) / PIECE_ROWS;
    if (n > b->cap_pieces) {
        struct piece *p = realloc(b->piece, n * sizeof *p);
        if (!p)
            return PD_ENOMEM;
        b->piece = p;
        b->cap_pieces = n;
    }
    for (unsigned t = 0; t < r->sc->threads; t++)
        b->rows[t].b.len = 0;
    pd_parallel_start(r->sc->pool, rows < PIECE_ROWS ? 1 : r->sc->threads, n, format_piece, r);
    pd_status st = ahead ? plan_block(r, b->next, b->p->first + b->p->n) : PD_OK;
    pd_parallel_finish(r->sc->pool);
    PD_TRY(st);
    flush(o);
    for (size_t i = 0; i < n && o->ok; i++) {
        const struct piece *p = &b->piece[i];
        if (!p->ok)
            return PD_ENOMEM;
        if (fwrite(b->rows[p->tid].b.data + p->off, 1, p->len, o->f) != p->len)
            o->ok = false;
    }
    return PD_OK;
}

/* Write the block's rows, a slice of SLICE_BYTES of their text at a time (at
 * least a row): the formatted pieces of a slice are held until it is
 * written. The next block is planned during the first slice. */
static pd_status write_block(report *r, out *o)
{
    block *b = r->b;
    const plan *p = b->p;
    pd_status st = PD_OK;
    for (b->from = 0; b->from < p->n && o->ok && st == PD_OK; b->from = b->to) {
        size_t text = 0;
        for (b->to = b->from; b->to < p->n && (b->to == b->from || text < SLICE_BYTES); b->to++)
            text += p->len[text_row(p, b->to)];
        st = write_slice(r, o, b->from == 0);
    }
    return st;
}

static void block_release(block *b, unsigned threads)
{
    pd_lanes_free(&b->pl[0].rows_room);
    pd_lanes_free(&b->pl[1].rows_room);
    free(b->tmp);
    free(b->seen);
    pd_buf_release(&b->arena);
    free(b->read_st);
    free(b->read_doc);
    pd_tbufs_free(b->raw, threads);
    pd_tbufs_free(b->join, threads);
    pd_tbufs_free(b->rows, threads);
    free(b->piece);
}

static pd_status write_rows(pd_scan *sc, const pd_source *src, out *o)
{
    block b;
    memset(&b, 0, sizeof b);
    plan_lanes(&b.pl[0]);
    plan_lanes(&b.pl[1]);
    b.p = &b.pl[0];
    report r = {sc, src, &b, o->safe};
    pd_status st = PD_OK;
    header(o, PD_CSV_HEADER);
    if (!(b.raw = pd_tbufs_new(sc->threads)) || !(b.join = pd_tbufs_new(sc->threads)) ||
        !(b.rows = pd_tbufs_new(sc->threads)))
        st = PD_ENOMEM;
    /* Room for a slice's formatted rows on each thread, as address space (a
     * slice of news rows formats to about 2.7 times its text): a buffer that
     * grew would move, copying its rows onto fresh pages. */
    for (unsigned t = 0; t < sc->threads && st == PD_OK && sc->n_report > 0; t++)
        (void)pd_buf_reserve(&b.rows[t].b, 4 * SLICE_BYTES);
    if (st == PD_OK)
        st = plan_block(&r, b.p, 0);
    while (st == PD_OK && o->ok && b.p->n > 0) {
        b.next = &b.pl[b.p == &b.pl[0]];
        if ((st = read_texts(&r)) == PD_OK)
            st = write_block(&r, o);
        b.p = b.next;
    }
    if (st == PD_ENOMEM)
        pd_scan_fail(sc, "out of memory while writing the report");
    block_release(&b, sc->threads);
    return st;
}

static void write_pairs(pd_scan *sc, const pd_source *src, out *o)
{
    header(o, PD_CSV_PAIRS_HEADER);
    size_t n = pd_scan_pair_count(sc);
    for (size_t i = 0; i < n && o->ok; i++) {
        pd_pair p;
        pd_scan_pair(sc, i, &p);
        field_str(o, src->name(src->ctx, p.doc_a));
        field_u64(o, p.a.index);
        field_u64(o, p.a.line_start);
        field_str(o, src->name(src->ctx, p.doc_b));
        field_u64(o, p.b.index);
        field_u64(o, p.b.line_start);
        field_name(o, &match_q[p.match]);
        field_sim(o, p.similarity, true);
        field_name(o, &scope_q[p.scope]);
        field_source(o, src, p.doc_a);
        field_source(o, src, p.doc_b);
        end_row(o);
    }
}

pd_status pd_scan_write_csv(pd_scan *sc, const pd_source *src, int mode, FILE *f)
{
    double t0 = pd_now();
    out o = {f, true, 0, (mode & PD_CSV_SAFE) != 0, {NULL, 0, 0}};
    pd_buf_init(&o.buf);
    pd_status st = PD_OK;
    if (mode & PD_CSV_PAIRS) {
        pd_scan_pair_count(sc); /* builds the list */
        if (!sc->pairs_built) {
            pd_scan_fail(sc, "out of memory while listing pairs");
            return PD_ENOMEM;
        }
        write_pairs(sc, src, &o);
    } else {
        st = write_rows(sc, src, &o);
    }
    flush(&o);
    if (st == PD_OK && (!o.ok || fflush(f) != 0 || ferror(f))) {
        pd_scan_fail(sc, "cannot write the report: %s", strerror(errno));
        st = PD_EIO;
    }
    pd_buf_release(&o.buf);
    sc->stats.secs_report = pd_now() - t0;
    return st;
}
