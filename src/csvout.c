/*
 * csvout.c - the CSV report.
 *
 * Every field goes through libcsv's csv_write(), which quotes it: valid CSV
 * that every reader takes. A unit's text is read back from the source by its
 * byte offsets (nothing of it was kept) and, for paragraphs, its lines are
 * trimmed and joined by one space (pd_unit_text). Numbers are written with
 * fixed formats so the same input gives byte-identical output.
 */
#include "internal.h"

#include <csv.h>
#include <errno.h>
#include <inttypes.h>

static const char *const role_name[] = {"keep", "duplicate"};
static const char *const match_name[] = {"", "exact", "near"};
static const char *const scope_name[] = {"", "within", "across"};

typedef struct out {
    FILE *f;
    bool ok;
    int fields;
    pd_buf quoted; /* csv_write()'s output: csv_fwrite() costs a putc per byte */
} out;

static void field(out *o, const char *s, size_t n)
{
    if (o->fields++ > 0 && putc(',', o->f) == EOF)
        o->ok = false;
    /* Quoting at most doubles a field, plus its two quotes. */
    if (pd_buf_reserve(&o->quoted, 2 * n + 2) != PD_OK) {
        o->ok = false;
        return;
    }
    size_t len = csv_write(o->quoted.data, o->quoted.cap, s, n);
    if (fwrite(o->quoted.data, 1, len, o->f) != len)
        o->ok = false;
}

static void field_str(out *o, const char *s)
{
    field(o, s, strlen(s));
}

static void field_u64(out *o, uint64_t v)
{
    char b[24];
    field(o, b, (size_t)snprintf(b, sizeof b, "%" PRIu64, v));
}

static void field_sim(out *o, double v, bool present)
{
    char b[16];
    field(o, b, present ? (size_t)snprintf(b, sizeof b, "%.3f", v) : 0);
}

static void end_row(out *o)
{
    if (putc('\n', o->f) == EOF)
        o->ok = false;
    o->fields = 0;
}

static void header(out *o, const char *h)
{
    if (fputs(h, o->f) == EOF || putc('\n', o->f) == EOF)
        o->ok = false;
}

/* The text of a unit, read back from the source into *text. */
static pd_status unit_text(pd_scan *sc, const pd_source *src, uint32_t doc, const pd_unit *u,
                           pd_buf *raw, pd_buf *text)
{
    size_t len = (size_t)(u->byte_end - u->byte_start);
    PD_TRY(pd_buf_reserve(raw, len + 1));
    if (src->read(src->ctx, doc, u->byte_start, len, raw->data) != PD_OK) {
        pd_scan_fail(sc, "cannot read '%s' again", src->name(src->ctx, doc));
        return PD_EIO;
    }
    pd_unit local = *u;
    local.byte_start = 0;
    local.byte_end = len;
    return pd_unit_text(raw->data, len, &local, sc->o.unit, text);
}

static pd_status write_rows(pd_scan *sc, const pd_source *src, out *o)
{
    pd_buf raw, text;
    pd_buf_init(&raw);
    pd_buf_init(&text);
    pd_status st = PD_OK;
    header(o, PD_CSV_HEADER);
    for (size_t i = 0; i < sc->n_report && o->ok; i++) {
        pd_row r;
        pd_scan_row(sc, i, &r);
        if ((st = unit_text(sc, src, r.doc, &r.unit, &raw, &text)) != PD_OK)
            break;
        field_u64(o, r.cluster);
        field_str(o, src->name(src->ctx, r.doc));
        field_u64(o, r.unit.index);
        field_u64(o, r.unit.line_start);
        field_u64(o, r.unit.line_end);
        field_u64(o, r.unit.byte_start);
        field_u64(o, r.unit.byte_end);
        field_str(o, role_name[r.role]);
        field_str(o, match_name[r.match]);
        field_sim(o, r.similarity, r.role == PD_DUPLICATE);
        field_str(o, scope_name[r.scope]);
        field(o, text.data ? text.data : "", text.len);
        end_row(o);
    }
    pd_buf_release(&raw);
    pd_buf_release(&text);
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
        field_str(o, match_name[p.match]);
        field_sim(o, p.similarity, true);
        field_str(o, scope_name[p.scope]);
        end_row(o);
    }
}

pd_status pd_scan_write_csv(pd_scan *sc, const pd_source *src, int mode, FILE *f)
{
    out o = {f, true, 0, {NULL, 0, 0}};
    pd_status st = PD_OK;
    if (mode == PD_CSV_PAIRS) {
        if (!sc->pairs_built && sc->n_units > 0 && pd_scan_pair_count(sc) == 0 && !sc->pairs_built) {
            pd_scan_fail(sc, "out of memory while listing pairs");
            return PD_ENOMEM;
        }
        write_pairs(sc, src, &o);
    } else {
        st = write_rows(sc, src, &o);
    }
    if (st == PD_OK && (!o.ok || fflush(f) != 0 || ferror(f))) {
        pd_scan_fail(sc, "cannot write the report: %s", strerror(errno));
        st = PD_EIO;
    }
    pd_buf_release(&o.quoted);
    return st;
}
