/*
 * pagecache.c - how the bench's corpora lie in the page cache.
 *
 *   pagecache PATH...     each file (a directory's files too) as a file read
 *                         from disk lies there: its cached pages are dropped
 *                         (posix_fadvise DONTNEED, which needs no root for clean
 *                         pages) and it is read once, in order, so that the
 *                         kernel's readahead fills the cache again
 *   pagecache -t FILE     the median of 5 reads of FILE through a 1 MB buffer, in ms
 *
 * Where the kernel caches a file in large folios (ext4 does on Linux 6.18), a
 * file read from disk lies in folios of up to 2 MB, while one written a few KB
 * at a time (the corpora are made an article per write) lies in 4 KB pages
 * until it is evicted; copying it out then costs several times as much. The
 * bench states which way its corpora lie instead of inheriting their history.
 */
#define _XOPEN_SOURCE 700
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { BUF = 1 << 20, TIMES = 5 };
static char buf[BUF];

/* Read fd from its start to its end; -1 on an error. */
static int read_all(int fd)
{
    for (off_t at = 0;;) {
        ssize_t n = pread(fd, buf, BUF, at);
        if (n < 0)
            return -1;
        if (n == 0)
            return 0;
        at += n;
    }
}

static int recache(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)ftw;
    if (type != FTW_F || !S_ISREG(st->st_mode))
        return 0;
    int fd = open(path, O_RDONLY);
    /* written back first: only clean pages are dropped */
    if (fd < 0 || fdatasync(fd) != 0 || posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) != 0 ||
        read_all(fd) != 0) {
        perror(path);
        if (fd >= 0)
            close(fd);
        return 1;
    }
    close(fd);
    return 0;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int time_reads(const char *path)
{
    int fd = open(path, O_RDONLY);
    double t[TIMES];
    for (int i = 0; fd >= 0 && i < TIMES; i++) {
        double t0 = now();
        if (read_all(fd) != 0)
            break;
        t[i] = now() - t0;
        if (i == TIMES - 1) {
            close(fd);
            qsort(t, TIMES, sizeof *t, cmp_double);
            printf("%.1f\n", t[TIMES / 2] * 1e3);
            return 0;
        }
    }
    perror(path);
    return 1;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "-t") == 0)
        return time_reads(argv[2]);
    if (argc < 2 || argv[1][0] == '-') {
        fprintf(stderr, "usage: pagecache PATH... | pagecache -t FILE\n");
        return 2;
    }
    int bad = 0;
    for (int i = 1; i < argc; i++)
        bad |= nftw(argv[i], recache, 64, FTW_PHYS) != 0;
    return bad;
}
