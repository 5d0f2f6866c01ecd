/* test_instream.c - compressed streams give the same bytes and the same
 * failure whatever the sizes they are read in: 6 MB of text as gzip and as
 * zstd, read in pieces of 100,003 bytes and of 1 MiB; the same cut in half
 * (truncated: the bytes before the cut) and with bytes overwritten in the
 * middle (corrupt); the failure stays for every later call. */
#include "check.h"
#include "internal.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

enum { TEXT = 6 << 20, PIECE = 100003 };

/* A temporary file holding data[0..n); its descriptor, at offset 0. */
static int temp_with(const void *data, size_t n)
{
    char path[] = "/tmp/paradup-test-instream-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    unlink(path);
    if (write(fd, data, n) != (ssize_t)n) {
        close(fd);
        return -1;
    }
    lseek(fd, 0, SEEK_SET);
    return fd;
}

static size_t gzip_of(const char *in, size_t n, unsigned char *out, size_t cap)
{
    z_stream z = {0};
    deflateInit2(&z, 1, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
    z.next_in = (unsigned char *)in;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    deflate(&z, Z_FINISH);
    size_t len = cap - z.avail_out;
    deflateEnd(&z);
    return len;
}

/* Everything a stream gives: its bytes into out, its last status. */
typedef struct result {
    char *bytes;
    size_t len;
    pd_status st;
    char err[64];
} result;

static result read_all(const unsigned char *file, size_t n, size_t piece)
{
    result r = {malloc(TEXT + piece), 0, PD_OK, ""};
    int fd = temp_with(file, n);
    pd_instream *in = NULL;
    if (fd < 0 || !r.bytes || (r.st = pd_instream_open(fd, &in)) != PD_OK) {
        r.st = PD_EIO;
    } else {
        size_t got = 1;
        while (got > 0 && r.len <= TEXT &&
               (r.st = pd_instream_read(in, r.bytes + r.len, piece, &got)) == PD_OK)
            r.len += got;
        size_t again; /* the end, or the failure, stays */
        if (pd_instream_read(in, r.bytes, PIECE, &again) != r.st || again != 0)
            r.st = PD_EINVAL;
        const char *e = pd_instream_error(in);
        snprintf(r.err, sizeof r.err, "%s", e ? e : "");
    }
    pd_instream_close(in);
    if (fd >= 0)
        close(fd);
    return r;
}

/* Read the same file in both sizes: the same bytes, status and message; the
 * bytes are the text's first ones, all of them when the file is sound (a
 * corrupt file may give garbage before its failure is seen). */
static bool same_both_ways(const unsigned char *file, size_t n, const char *text, size_t want,
                           pd_status st, bool corrupt, const char *what)
{
    result a = read_all(file, n, PIECE), b = read_all(file, n, 1 << 20);
    bool ok = a.st == st && b.st == st && a.len == b.len && strcmp(a.err, b.err) == 0 &&
              memcmp(a.bytes, b.bytes, a.len) == 0 && a.len <= want &&
              (corrupt || memcmp(a.bytes, text, a.len) == 0) && (st != PD_OK || a.len == want);
    if (!ok)
        fprintf(stderr, "%s: %zu/%zu bytes, status %d/%d, '%s'/'%s'\n", what, a.len, b.len,
                (int)a.st, (int)b.st, a.err, b.err);
    free(a.bytes);
    free(b.bytes);
    return ok;
}

int main(void)
{
    char *text = malloc(TEXT);
    size_t cap = ZSTD_compressBound(TEXT) + TEXT / 2;
    unsigned char *gz = malloc(cap), *zs = malloc(cap);
    if (!text || !gz || !zs)
        return 1;
    uint64_t x = 42;
    for (size_t i = 0; i < TEXT; i++) { /* words of letters and spaces, lines */
        x = x * 6364136223846793005u + 1442695040888963407u;
        text[i] = i % 97 == 96 ? '\n' : (x >> 60) < 3 ? ' ' : (char)('a' + (x >> 59) % 26);
    }
    size_t n_gz = gzip_of(text, TEXT, gz, cap);
    size_t n_zs = ZSTD_compress(zs, cap, text, TEXT, 1);
    CHECK(n_gz > 0 && !ZSTD_isError(n_zs));

    CHECK(same_both_ways(gz, n_gz, text, TEXT, PD_OK, false, "gzip"));
    CHECK(same_both_ways(zs, n_zs, text, TEXT, PD_OK, false, "zstd"));
    /* Cut in half: the bytes before the cut, then "truncated". */
    CHECK(same_both_ways(gz, n_gz / 2, text, TEXT, PD_EPARSE, false, "gzip cut"));
    CHECK(same_both_ways(zs, n_zs / 2, text, TEXT, PD_EPARSE, false, "zstd cut"));
    /* Bytes overwritten in the middle: some bytes, then "corrupt". */
    memset(gz + n_gz / 2, 0xA5, 64);
    memset(zs + n_zs / 2, 0xA5, 64);
    CHECK(same_both_ways(gz, n_gz, text, TEXT, PD_EPARSE, true, "gzip corrupt"));
    CHECK(same_both_ways(zs, n_zs, text, TEXT, PD_EPARSE, true, "zstd corrupt"));

    free(text);
    free(gz);
    free(zs);
    return check_done("test_instream");
}
