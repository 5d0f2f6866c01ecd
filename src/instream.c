/*
 * instream.c - a byte stream over a file descriptor (or bytes in memory)
 * that undoes gzip or zstd compression, recognized by the magic bytes at its
 * start (never by the file name), so compressed standard input works too.
 *
 * Concatenated gzip members and zstd frames are read one after another, as
 * gzip(1) and zstd(1) do. A stream that ends inside a member or frame is an
 * error ("truncated"), not a short document. The bytes decoded before a
 * failure are given before the failure is, so what a reader gets does not
 * depend on the sizes it reads in.
 */
#include "internal.h"

#include <errno.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

enum { IN_CAP = 1 << 17 };

struct pd_instream {
    int fd;
    pd_compression kind;
    unsigned char *in;  /* raw bytes read from fd */
    size_t in_pos, in_len;
    bool eof;           /* fd is exhausted */
    bool in_frame;      /* inside a gzip member or zstd frame */
    bool z_ready;
    z_stream z;
    ZSTD_DStream *zs;
    const char *err;    /* static message after a failure */
    pd_status failed;   /* once a failure is said, it stays */
    bool borrowed;      /* `in` is the caller's bytes (pd_instream_open_mem) */
};

/* Refill the raw buffer; false at end of file or on error (s->err set). */
static bool refill(pd_instream *s)
{
    if (s->in_pos < s->in_len)
        return true;
    s->in_pos = s->in_len = 0;
    while (!s->eof) {
        ssize_t r = read(s->fd, s->in, IN_CAP);
        if (r > 0) {
            s->in_len = (size_t)r;
            return true;
        }
        if (r == 0)
            s->eof = true;
        else if (errno != EINTR) {
            s->err = strerror(errno);
            s->eof = true;
        }
    }
    return false;
}

pd_compression pd_compression_of(const void *start, size_t n)
{
    const unsigned char *m = start;
    if (n >= 2 && m[0] == 0x1f && m[1] == 0x8b)
        return PD_GZIP;
    if (n >= 4 && m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd)
        return PD_ZSTD;
    return PD_PLAIN;
}

/* Tell the compression by the magic bytes at the start of s->in, and make
 * its decoder. */
static pd_status start_decoder(pd_instream *s)
{
    s->kind = pd_compression_of(s->in, s->in_len);
    if (s->kind == PD_GZIP) {
        if (inflateInit2(&s->z, 16 + MAX_WBITS) != Z_OK)
            return PD_ENOMEM;
        s->z_ready = true;
    } else if (s->kind == PD_ZSTD) {
        if (!(s->zs = ZSTD_createDStream()) || ZSTD_isError(ZSTD_initDStream(s->zs)))
            return PD_ENOMEM;
    }
    return PD_OK;
}

pd_status pd_instream_open(int fd, pd_instream **out)
{
    pd_instream *s = calloc(1, sizeof *s);
    *out = s;
    if (!s || !(s->in = malloc(IN_CAP)))
        return PD_ENOMEM;
    memset(s->in, 0, 4); /* the magic test reads 4 bytes, whatever was read */
    s->fd = fd;
    /* Read just the four bytes of a magic (or what there is): a plain text
     * file is then read only once more, where it lies; a pipe may deliver
     * them in pieces. */
    while (s->in_len < 4 && !s->eof) {
        ssize_t r = read(fd, s->in + s->in_len, 4 - s->in_len);
        if (r > 0)
            s->in_len += (size_t)r;
        else if (r == 0)
            s->eof = true;
        else if (errno != EINTR) {
            s->err = strerror(errno);
            return PD_EIO;
        }
    }
    return start_decoder(s);
}

pd_status pd_instream_open_mem(const void *data, size_t n, pd_instream **out)
{
    pd_instream *s = calloc(1, sizeof *s);
    *out = s;
    if (!s)
        return PD_ENOMEM;
    s->fd = -1;
    s->in = (unsigned char *)data; /* only read: there is no fd to refill it from */
    s->in_len = n;
    s->eof = s->borrowed = true;
    return start_decoder(s);
}

pd_compression pd_instream_kind(const pd_instream *s)
{
    return s->kind;
}

const char *pd_instream_error(const pd_instream *s)
{
    return s->err;
}

static pd_status read_gzip(pd_instream *s, char *buf, size_t cap, size_t *got)
{
    s->z.next_out = (unsigned char *)buf;
    s->z.avail_out = (uInt)(cap > UINT32_MAX ? UINT32_MAX : cap);
    while (s->z.avail_out > 0) {
        if (!refill(s))
            break;
        s->z.next_in = s->in + s->in_pos;
        s->z.avail_in = (uInt)(s->in_len - s->in_pos);
        s->in_frame = true;
        int r = inflate(&s->z, Z_NO_FLUSH);
        s->in_pos = s->in_len - s->z.avail_in;
        if (r == Z_STREAM_END) {
            s->in_frame = false;
            inflateReset(&s->z); /* a further member may follow */
        } else if (r == Z_MEM_ERROR || (r != Z_OK && r != Z_BUF_ERROR)) {
            *got = (size_t)((char *)s->z.next_out - buf);
            if (r == Z_MEM_ERROR)
                return PD_ENOMEM;
            s->err = "corrupt gzip data";
            return PD_EPARSE;
        }
    }
    *got = (size_t)((char *)s->z.next_out - buf);
    return PD_OK;
}

static pd_status read_zstd(pd_instream *s, char *buf, size_t cap, size_t *got)
{
    ZSTD_outBuffer o = {buf, cap, 0};
    while (o.pos < o.size) {
        if (!refill(s))
            break;
        ZSTD_inBuffer i = {s->in, s->in_len, s->in_pos};
        size_t r = ZSTD_decompressStream(s->zs, &o, &i);
        s->in_pos = i.pos;
        *got = o.pos;
        if (ZSTD_isError(r) && ZSTD_getErrorCode(r) == ZSTD_error_memory_allocation)
            return PD_ENOMEM;
        if (ZSTD_isError(r)) {
            s->err = ZSTD_getErrorName(r);
            return PD_EPARSE;
        }
        s->in_frame = r != 0;
    }
    *got = o.pos;
    return PD_OK;
}

pd_status pd_instream_read(pd_instream *s, char *buf, size_t cap, size_t *got)
{
    *got = 0;
    if (s->failed)
        return s->failed;
    pd_status st = PD_OK;
    if (s->kind == PD_GZIP)
        st = read_gzip(s, buf, cap, got);
    else if (s->kind == PD_ZSTD)
        st = read_zstd(s, buf, cap, got);
    else if (refill(s)) {
        *got = s->in_len - s->in_pos < cap ? s->in_len - s->in_pos : cap;
        memcpy(buf, s->in + s->in_pos, *got);
        s->in_pos += *got;
    }
    if (st == PD_OK && *got == 0 && s->err) {
        st = PD_EIO;
    } else if (st == PD_OK && *got == 0 && s->in_frame) {
        s->err = s->kind == PD_GZIP ? "truncated gzip data" : "truncated zstd data";
        st = PD_EPARSE;
    }
    if (st != PD_OK) {
        s->failed = st;
        if (*got > 0)
            return PD_OK; /* the bytes first, the failure with the next call */
    }
    return st;
}

void pd_instream_close(pd_instream *s)
{
    if (!s)
        return;
    if (s->z_ready)
        inflateEnd(&s->z);
    ZSTD_freeDStream(s->zs);
    if (!s->borrowed)
        free(s->in);
    free(s);
}
