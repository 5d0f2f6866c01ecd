/*
 * files.c - reading input: files, directory walks and standard input, as a
 * pd_source.
 *
 * A directory is walked recursively and its regular files are added in
 * byte-wise (strcmp) order of their full paths, so the input order, and with
 * it the report, does not depend on the file system. Symbolic links to files
 * are followed, links to directories are not (no cycles). Standard input is
 * copied to an unlinked temporary file, so that it can be mapped and re-read
 * like any file. Large documents are mapped read-only and small ones read
 * into memory, each released after use; later stages re-read a unit's bytes
 * with pread() through a small
 * cache of open descriptors.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Files up to MAP_MIN bytes are read into memory: for small files one read()
 * costs less than mmap's page faults and munmap's TLB shootdowns. */
enum { FD_CACHE = 16, MAP_MIN = 1 << 20 };

struct pd_files {
    char **paths;
    size_t n, cap_paths;
    pthread_mutex_t lock; /* around diag: documents may be mapped in parallel */
    int stdin_fd; /* the spool of "-", or -1 */
    pd_diag_fn diag;
    void *diag_ctx;
    struct {
        uint32_t doc;
        int fd;
    } cache[FD_CACHE];
};

/* Report a failure about path; serialized, as documents may be mapped on
 * several threads. */
static void report(pd_files *fs, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void report(pd_files *fs, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pthread_mutex_lock(&fs->lock);
    pd_vdiagf(fs->diag, fs->diag_ctx, path, 0, fmt, ap);
    pthread_mutex_unlock(&fs->lock);
    va_end(ap);
}

pd_status pd_files_new(pd_diag_fn diag, void *diag_ctx, pd_files **out)
{
    pd_files *fs = calloc(1, sizeof *fs);
    *out = fs;
    if (!fs)
        return PD_ENOMEM;
    fs->stdin_fd = -1;
    pthread_mutex_init(&fs->lock, NULL);
    fs->diag = diag;
    fs->diag_ctx = diag_ctx;
    for (int i = 0; i < FD_CACHE; i++)
        fs->cache[i].fd = -1;
    return PD_OK;
}

void pd_files_free(pd_files *fs)
{
    if (!fs)
        return;
    for (size_t i = 0; i < fs->n; i++)
        free(fs->paths[i]);
    free(fs->paths);
    pthread_mutex_destroy(&fs->lock);
    for (int i = 0; i < FD_CACHE; i++)
        if (fs->cache[i].fd >= 0 && fs->cache[i].fd != fs->stdin_fd)
            close(fs->cache[i].fd);
    if (fs->stdin_fd >= 0)
        close(fs->stdin_fd);
    free(fs);
}

static pd_status push_path(pd_files *fs, const char *path)
{
    if (fs->n >= UINT32_MAX - 1)
        return PD_EINVAL;
    PD_TRY(PD_GROW(fs->paths, fs->cap_paths, fs->n + 1));
    char *copy = strdup(path);
    if (!copy)
        return PD_ENOMEM;
    fs->paths[fs->n++] = copy;
    return PD_OK;
}

static pd_status spool_stdin(pd_files *fs)
{
    if (fs->stdin_fd >= 0) {
        report(fs, "-", "standard input can be read only once");
        return PD_EINVAL;
    }
    const char *dir = getenv("TMPDIR");
    char tmpl[4096];
    snprintf(tmpl, sizeof tmpl, "%s/paradup-stdin-XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(tmpl);
    if (fd < 0) {
        report(fs, "-", "cannot create a temporary file in '%s': %s", dir && *dir ? dir : "/tmp",
               strerror(errno));
        return PD_EIO;
    }
    unlink(tmpl);
    char buf[1 << 16];
    for (;;) {
        ssize_t r = read(STDIN_FILENO, buf, sizeof buf);
        if (r == 0)
            break;
        if (r < 0 && errno == EINTR)
            continue;
        ssize_t w = r < 0 ? -1 : write(fd, buf, (size_t)r);
        if (r < 0 || w != r) {
            report(fs, "-", "cannot %s standard input: %s", r < 0 ? "read" : "spool",
                   strerror(errno));
            close(fd);
            return PD_EIO;
        }
    }
    fs->stdin_fd = fd;
    return push_path(fs, "-");
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Collect the regular files under `dir` into list; false if any part of the
 * walk failed (reported). */
static pd_status walk(pd_files *fs, const char *dir, char ***list, size_t *n, size_t *cap,
                      bool *failed)
{
    DIR *d = opendir(dir);
    if (!d) {
        report(fs, dir, "cannot open directory: %s", strerror(errno));
        *failed = true;
        return PD_OK;
    }
    pd_status st = PD_OK;
    struct dirent *e;
    while (st == PD_OK && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        char *path = malloc(len);
        if (!path) {
            st = PD_ENOMEM;
            break;
        }
        bool slash = dir[strlen(dir) - 1] == '/';
        snprintf(path, len, "%s%s%s", dir, slash ? "" : "/", e->d_name);
        struct stat sb, lsb;
        /* d_type spares a stat per file where the file system fills it in. */
        if (e->d_type == DT_REG) {
            if ((st = PD_GROW(*list, *cap, *n + 1)) == PD_OK)
                (*list)[(*n)++] = path;
            else
                free(path);
            continue;
        }
        if (lstat(path, &lsb) != 0 || stat(path, &sb) != 0) {
            /* A dangling link or a file that vanished: say so, go on. */
            report(fs, path, "cannot stat: %s", strerror(errno));
            *failed = true;
            free(path);
        } else if (S_ISDIR(sb.st_mode) && !S_ISLNK(lsb.st_mode)) {
            st = walk(fs, path, list, n, cap, failed);
            free(path);
        } else if (S_ISREG(sb.st_mode) && (st = PD_GROW(*list, *cap, *n + 1)) == PD_OK) {
            (*list)[(*n)++] = path;
        } else {
            free(path);
        }
    }
    closedir(d);
    return st;
}

static pd_status add_dir(pd_files *fs, const char *dir)
{
    char **list = NULL;
    size_t n = 0, cap = 0;
    bool failed = false;
    pd_status st = walk(fs, dir, &list, &n, &cap, &failed);
    if (st == PD_OK)
        qsort(list, n, sizeof *list, cmp_str);
    for (size_t i = 0; i < n; i++) {
        if (st == PD_OK)
            st = push_path(fs, list[i]);
        free(list[i]);
    }
    free(list);
    return st != PD_OK ? st : failed ? PD_EIO : PD_OK;
}

pd_status pd_files_add(pd_files *fs, const char *path)
{
    if (strcmp(path, "-") == 0)
        return spool_stdin(fs);
    struct stat sb;
    if (stat(path, &sb) != 0) {
        report(fs, path, "cannot open: %s", strerror(errno));
        return PD_EIO;
    }
    if (S_ISDIR(sb.st_mode))
        return add_dir(fs, path);
    return push_path(fs, path);
}

/* ---- the pd_source view -------------------------------------------------- */

static const char *files_name(void *ctx, uint32_t doc)
{
    return ((pd_files *)ctx)->paths[doc];
}

static int open_doc(pd_files *fs, uint32_t doc)
{
    if (strcmp(fs->paths[doc], "-") == 0 && fs->stdin_fd >= 0)
        return fs->stdin_fd;
    int fd;
    do
        fd = open(fs->paths[doc], O_RDONLY | O_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    return fd;
}

static void close_doc(pd_files *fs, int fd)
{
    if (fd != fs->stdin_fd)
        close(fd);
}

static pd_status files_map(void *ctx, uint32_t doc, const char **data, size_t *len)
{
    pd_files *fs = ctx;
    const char *path = fs->paths[doc];
    int fd = open_doc(fs, doc);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0) {
        report(fs, path, "cannot open: %s", strerror(errno));
        if (fd >= 0)
            close_doc(fs, fd);
        return PD_EIO;
    }
    if (!S_ISREG(sb.st_mode)) {
        report(fs, path, "not a regular file");
        close_doc(fs, fd);
        return PD_EIO;
    }
    if ((uint64_t)sb.st_size > SIZE_MAX) {
        report(fs, path, "too large to map");
        close_doc(fs, fd);
        return PD_EIO;
    }
    *len = (size_t)sb.st_size;
    if (*len == 0) {
        *data = "";
        close_doc(fs, fd);
        return PD_OK;
    }
    if (*len < MAP_MIN) {
        char *buf = malloc(*len);
        size_t got = 0;
        while (buf && got < *len) {
            ssize_t r = pread(fd, buf + got, *len - got, (off_t)got);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                break;
            got += (size_t)r;
        }
        int err = buf ? errno : ENOMEM;
        close_doc(fs, fd);
        if (got < *len) {
            report(fs, path, "cannot read: %s", got ? "the file got shorter" : strerror(err));
            free(buf);
            return PD_EIO;
        }
        *data = buf;
        return PD_OK;
    }
    void *p = mmap(NULL, *len, PROT_READ, MAP_PRIVATE, fd, 0);
    int err = errno;
    close_doc(fs, fd);
    if (p == MAP_FAILED) {
        report(fs, path, "cannot map: %s", strerror(err));
        return PD_EIO;
    }
    madvise(p, *len, MADV_SEQUENTIAL);
    *data = p;
    return PD_OK;
}

static void files_unmap(void *ctx, uint32_t doc, const char *data, size_t len)
{
    PD_UNUSED(ctx);
    PD_UNUSED(doc);
    if (len >= MAP_MIN)
        munmap((void *)data, len);
    else if (len > 0)
        free((void *)data);
}

static pd_status files_read(void *ctx, uint32_t doc, uint64_t off, size_t len, char *buf)
{
    pd_files *fs = ctx;
    unsigned slot = doc % FD_CACHE;
    if (fs->cache[slot].fd < 0 || fs->cache[slot].doc != doc) {
        if (fs->cache[slot].fd >= 0)
            close_doc(fs, fs->cache[slot].fd);
        fs->cache[slot].fd = open_doc(fs, doc);
        fs->cache[slot].doc = doc;
        if (fs->cache[slot].fd < 0) {
            report(fs, fs->paths[doc], "cannot open again: %s", strerror(errno));
            return PD_EIO;
        }
    }
    int fd = fs->cache[slot].fd;
    while (len > 0) {
        ssize_t r = pread(fd, buf, len, (off_t)off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            report(fs, fs->paths[doc], "cannot read again: %s",
                   r < 0 ? strerror(errno) : "the file got shorter");
            return PD_EIO;
        }
        buf += r;
        off += (uint64_t)r;
        len -= (size_t)r;
    }
    return PD_OK;
}

pd_source pd_files_source(pd_files *fs)
{
    return (pd_source){fs, (uint32_t)fs->n, files_name, files_map, files_unmap, files_read};
}
