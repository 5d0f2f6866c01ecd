/*
 * keys.c - the LSH band keys of the distinct texts, kept out of memory.
 *
 * The first pass makes each new text's band keys (4 bytes a band, 84 bytes
 * a text by default: the largest thing the scanner would hold per text), and
 * LSH reads them one band at a time. So they are written to an unlinked
 * temporary file, as each batch is merged: one extent per batch, band after
 * band, in text order within a band. Reading band j is then one pread() per
 * extent. The file lives in the page cache and costs no resident memory of
 * the process; where no file can be made (no writable TMPDIR) or written
 * (a full disk), the extents are kept in memory and everything else is the
 * same.
 */
#define _GNU_SOURCE /* pwritev() */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <sys/uio.h>
#include <unistd.h>

typedef struct extent {
    uint64_t off; /* in the file, or in mem: the same bytes */
    size_t first, n; /* texts [first, first + n) */
} extent;

struct pd_bandkeys {
    unsigned bands;
    int fd;    /* -1: the extents are in mem */
    int err;   /* why the file could not be made or written (errno), or 0 */
    char dir[256]; /* where it was to be */
    pd_buf mem;
    uint64_t end; /* bytes of the extents so far */
    extent *ext;
    size_t n_ext, cap_ext, count;
    uint32_t *stage; /* the batch being added: band j's keys at stage[j * stride] */
    size_t stride, cap_stage;
};

/* An unlinked file in $TMPDIR (or /tmp); -1 (errno set) when none can be
 * made. The directory's name is kept for a message. */
static int temp_file(pd_bandkeys *k)
{
    const char *dir;
    int fd = pd_temp_fd(&dir);
    snprintf(k->dir, sizeof k->dir, "%s", dir);
    return fd;
}

pd_status pd_bandkeys_new(unsigned bands, bool in_memory, pd_bandkeys **out)
{
    pd_bandkeys *k = calloc(1, sizeof *k);
    *out = k;
    if (!k)
        return PD_ENOMEM;
    k->bands = bands;
    k->fd = in_memory ? -1 : temp_file(k);
    k->err = k->fd < 0 && !in_memory ? errno : 0;
    pd_buf_init(&k->mem);
    return PD_OK;
}

void pd_bandkeys_free(pd_bandkeys *k)
{
    if (!k)
        return;
    if (k->fd >= 0)
        close(k->fd);
    pd_buf_release(&k->mem);
    free(k->ext);
    free(k->stage);
    free(k);
}

size_t pd_bandkeys_count(const pd_bandkeys *k)
{
    return k->count;
}

bool pd_bandkeys_on_file(const pd_bandkeys *k)
{
    return k->fd >= 0;
}

int pd_bandkeys_failure(const pd_bandkeys *k, const char **dir)
{
    *dir = k->dir;
    return k->err;
}

uint32_t *pd_bandkeys_stage(pd_bandkeys *k, size_t most)
{
    size_t need = most * k->bands;
    if (need > k->cap_stage && PD_GROW(k->stage, k->cap_stage, need) != PD_OK)
        return NULL;
    k->stride = most;
    return k->stage;
}

/* The stage's bands, n keys each, written to the file at k->end: up to IOV
 * bands a call, a short write going on from where it stopped. */
static pd_status write_file(pd_bandkeys *k, size_t n)
{
    size_t bytes = n * sizeof *k->stage;
    enum { IOV = 64 };
    for (unsigned j = 0; j < k->bands;) {
        struct iovec v[IOV];
        int c = 0;
        for (; j < k->bands && c < IOV; j++, c++)
            v[c] = (struct iovec){k->stage + (size_t)j * k->stride, bytes};
        off_t at = (off_t)(k->end + (uint64_t)(j - (unsigned)c) * bytes);
        for (struct iovec *p = v; c > 0;) {
            ssize_t w = pwritev(k->fd, p, c, at);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0) {
                k->err = w < 0 ? errno : ENOSPC;
                return PD_EIO;
            }
            at += w;
            for (; c > 0 && (size_t)w >= p->iov_len; c--, p++)
                w -= (ssize_t)p->iov_len;
            if (c > 0) {
                p->iov_base = (char *)p->iov_base + w;
                p->iov_len -= (size_t)w;
            }
        }
    }
    return PD_OK;
}

/* The extents written so far, read back into memory: the file can take no
 * more. */
static pd_status to_memory(pd_bandkeys *k)
{
    PD_TRY(pd_buf_reserve(&k->mem, (size_t)k->end + 1));
    PD_TRY(pd_pread_full(k->fd, k->mem.data, (size_t)k->end, 0));
    k->mem.len = (size_t)k->end;
    close(k->fd);
    k->fd = -1;
    return PD_OK;
}

/* Write the extent's bands, each n keys of the stage, at k->end; in memory
 * once the file fails. */
static pd_status write_extent(pd_bandkeys *k, size_t n)
{
    size_t bytes = n * sizeof *k->stage;
    if (k->fd >= 0 && write_file(k, n) != PD_OK)
        PD_TRY(to_memory(k));
    if (k->fd < 0) {
        PD_TRY(pd_buf_reserve(&k->mem, k->mem.len + bytes * k->bands + 1));
        for (unsigned j = 0; j < k->bands; j++, k->mem.len += bytes)
            memcpy(k->mem.data + k->mem.len, k->stage + (size_t)j * k->stride, bytes);
    }
    return PD_OK;
}

pd_status pd_bandkeys_commit(pd_bandkeys *k, size_t n)
{
    if (n == 0)
        return PD_OK;
    PD_TRY(PD_GROW(k->ext, k->cap_ext, k->n_ext + 1));
    PD_TRY(write_extent(k, n));
    k->ext[k->n_ext++] = (extent){k->end, k->count, n};
    k->end += (uint64_t)n * sizeof *k->stage * k->bands;
    k->count += n;
    return PD_OK;
}

pd_status pd_bandkeys_read(const pd_bandkeys *k, unsigned band, uint32_t *out)
{
    for (size_t e = 0; e < k->n_ext; e++) {
        const extent *x = &k->ext[e];
        size_t bytes = x->n * sizeof *out;
        uint64_t at = x->off + (uint64_t)band * bytes;
        if (k->fd < 0) {
            memcpy(out + x->first, k->mem.data + at, bytes);
            continue;
        }
        PD_TRY(pd_pread_full(k->fd, out + x->first, bytes, at));
    }
    return PD_OK;
}
