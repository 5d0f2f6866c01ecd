/*
 * reread.c - texts read back from a pd_source by their byte ranges, for
 * verification and the report: the first pass keeps nothing of a text.
 */
#include "internal.h"

/* Ranges of one document that lie this close together are read with one
 * read() by a source without read_ranges(), the bytes between them too: a
 * call costs about as much as copying a few KB here. */
enum { SPAN_GAP = 4 << 10, SPAN_BYTES = 1 << 20 };

pd_status pd_read_ranges(const pd_source *src, pd_buf *raw, const pd_range *r, size_t n,
                         uint32_t *failed)
{
    if (src->read_ranges) {
        size_t bad = 0;
        if (n == 0 || src->read_ranges(src->ctx, r, n, &bad) == PD_OK)
            return PD_OK;
        *failed = r[bad < n ? bad : 0].doc;
        return PD_EIO;
    }
    for (size_t i = 0, j; i < n; i = j) {
        uint64_t off = r[i].off, end = off + r[i].len;
        for (j = i + 1; j < n && r[j].doc == r[i].doc && r[j].off >= end &&
                        r[j].off - end <= SPAN_GAP && r[j].off + r[j].len - off <= SPAN_BYTES;
             j++)
            end = r[j].off + r[j].len;
        size_t len = (size_t)(end - off);
        PD_TRY(pd_regrow((void **)&raw->data, &raw->cap, len, 1));
        if (src->read(src->ctx, r[i].doc, off, len, raw->data) != PD_OK) {
            *failed = r[i].doc;
            return PD_EIO;
        }
        for (size_t k = i; k < j; k++)
            memcpy(r[k].dst, raw->data + (r[k].off - off), r[k].len);
    }
    return PD_OK;
}
