/*
 * files.c - reading input as a pd_source: text files, directory walks,
 * standard input, compressed files and the documents of JSONL and CSV files.
 *
 * A directory is walked recursively and its regular files are added in
 * byte-wise (strcmp) order of their full paths, so the input order, and with
 * it the report, does not depend on the file system. Symbolic links to files
 * are followed, links to directories are not (no cycles).
 *
 * An uncompressed regular text file is its own document. A small one found
 * by a walk or given in a list (pd_files_add_paths) is copied into one
 * unlinked spool file as it is added, on a pool of threads (a small
 * compressed one is decoded there too); a larger one, or one added alone,
 * is read where it lies. Everything else (standard
 * input, pipes, compressed files, JSONL and CSV records) is decoded once,
 * while it is added, into the spool, and its documents are ranges of the
 * spool. Later stages map a document (small ones are read into memory,
 * large ones mapped) and re-read units' bytes with preadv(), possibly on
 * several threads at once. A file's descriptor, once opened, stays open for
 * those reads while fewer than pd_input_options.keep_open are; a small file
 * beyond that is copied into the spool when it is first read (spool_copy),
 * so files added one by one are not opened again for every block of the
 * verification and the report.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

/* Documents up to MAP_MIN bytes are read into memory: for small files one
 * read() costs less than mmap's page faults and munmap's TLB shootdowns. */
enum { MAP_MIN = 1 << 20, SPOOL_BUF = 1 << 20 };
/* Malformed records reported one by one per file; the rest are counted. */
enum { MALFORMED_SHOWN = 20 };
/* Files kept open at most (pd_input_options.keep_open). */
enum { FD_KEPT_MAX = 1 << 16 };
#define NO_NAME UINT64_MAX

/* A document: a whole file on disk, or a range of the spool. */
typedef struct doc {
    uint64_t off, len; /* in the spool; for a file read in place, len is its
                        * size when it was added (0: measured when mapped) */
    uint64_t line;     /* record line in the file, 0 for a whole file */
    uint64_t name;     /* offset of its id in fs->names, or NO_NAME: the path */
    uint32_t file;
    uint64_t dropped; /* bytes of its mapping released so far (files_release) */
    bool spooled;
    bool mapped; /* set by files_map(): mmap'ed, not read into memory */
} doc;

struct pd_files {
    pd_input_options opt;
    pd_input_stats stats;
    char **paths; /* the files read, in order */
    size_t n_paths, cap_paths;
    doc *docs;
    size_t n_docs, cap_docs;
    char *names; /* NUL-terminated document ids */
    size_t names_len, cap_names;
    int spool_fd; /* -1 until needed */
    uint64_t spool_len;
    uint64_t spool_flushed; /* where wbuf's bytes go (pwrite: spool_copy writes too) */
    char *wbuf; /* bytes not yet written to the spool */
    size_t wlen;
    bool stdin_used;
    uint32_t malformed_file; /* the file whose malformed records are counted */
    uint64_t malformed_here;
    pthread_mutex_t lock; /* around diag: documents may be mapped in parallel */
    /* Each file's descriptor (-1: not open), kept open once opened while
     * fewer than max_kept are: a corpus is read again in many small spans,
     * and an open and a close cost more than a small read. */
    pthread_mutex_t fd_lock;
    int *fds;
    size_t n_kept, max_kept;
    /* A small file that is not kept open is copied into the spool when it is
     * first mapped (spool_copy); false when the spool failed. Under fd_lock. */
    bool spool_copies;
    pd_diag_fn diag;
    void *diag_ctx;
    pd_pool *pool; /* opt.threads threads, for parsing records */
    pd_pool *io_pool; /* more, for reading many small files (io_threads) */
};

void pd_files_report(pd_files *fs, const char *path, uint64_t line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pthread_mutex_lock(&fs->lock);
    pd_vdiagf(fs->diag, fs->diag_ctx, path, line, fmt, ap);
    pthread_mutex_unlock(&fs->lock);
    va_end(ap);
}
#define report(fs, path, ...) pd_files_report(fs, path, 0, __VA_ARGS__)

void pd_input_options_init(pd_input_options *o)
{
    memset(o, 0, sizeof *o);
    o->format = PD_FORMAT_AUTO;
    o->text_field = o->text_column = "text";
    o->id_field = o->id_column = "id";
}

pd_status pd_files_new(const pd_input_options *opts, pd_diag_fn diag, void *diag_ctx,
                       pd_files **out)
{
    pd_files *fs = calloc(1, sizeof *fs);
    *out = fs;
    if (!fs)
        return PD_ENOMEM;
    if (opts)
        fs->opt = *opts;
    else
        pd_input_options_init(&fs->opt);
    if (!(fs->pool = pd_pool_new(fs->opt.threads ? fs->opt.threads : pd_cpu_count()))) {
        free(fs);
        *out = NULL;
        return PD_ENOMEM;
    }
    fs->spool_fd = -1;
    fs->spool_copies = true;
    pthread_mutex_init(&fs->lock, NULL);
    pthread_mutex_init(&fs->fd_lock, NULL);
    struct rlimit rl;
    fs->max_kept = fs->opt.keep_open;
    if (fs->max_kept == 0 && getrlimit(RLIMIT_NOFILE, &rl) == 0)
        fs->max_kept = rl.rlim_cur / 2 < FD_KEPT_MAX ? (size_t)(rl.rlim_cur / 2) : FD_KEPT_MAX;
    if (fs->max_kept > FD_KEPT_MAX)
        fs->max_kept = FD_KEPT_MAX;
    fs->diag = diag;
    fs->diag_ctx = diag_ctx;
    return PD_OK;
}

void pd_files_free(pd_files *fs)
{
    if (!fs)
        return;
    for (size_t i = 0; i < fs->n_paths; i++)
        free(fs->paths[i]);
    free(fs->paths);
    free(fs->docs);
    free(fs->names);
    free(fs->wbuf);
    pd_pool_free(fs->pool);
    pd_pool_free(fs->io_pool);
    pthread_mutex_destroy(&fs->lock);
    pthread_mutex_destroy(&fs->fd_lock);
    for (size_t i = 0; i < fs->n_paths; i++)
        if (fs->fds[i] >= 0)
            close(fs->fds[i]);
    free(fs->fds);
    if (fs->spool_fd >= 0)
        close(fs->spool_fd);
    free(fs);
}

const pd_input_options *pd_files_options(const pd_files *fs)
{
    return &fs->opt;
}

pd_pool *pd_files_pool(pd_files *fs)
{
    return fs->pool;
}

const char *pd_files_path(const pd_files *fs, uint32_t file)
{
    return fs->paths[file];
}

const pd_input_stats *pd_files_stats(const pd_files *fs)
{
    return &fs->stats;
}

static pd_status push_path(pd_files *fs, const char *path, uint32_t *file)
{
    if (fs->n_paths >= UINT32_MAX - 1)
        return PD_EINVAL;
    size_t cap = fs->cap_paths;
    PD_TRY(PD_GROW(fs->paths, cap, fs->n_paths + 1));
    if (cap > fs->cap_paths) {
        int *fds = realloc(fs->fds, cap * sizeof *fds);
        if (!fds)
            return PD_ENOMEM;
        fs->fds = fds;
        fs->cap_paths = cap;
    }
    char *copy = strdup(path);
    if (!copy)
        return PD_ENOMEM;
    *file = (uint32_t)fs->n_paths;
    fs->fds[fs->n_paths] = -1;
    fs->paths[fs->n_paths++] = copy;
    fs->stats.files++;
    return PD_OK;
}

/* Keep fd open as file's descriptor if there is room; false if not. */
static bool keep_fd(pd_files *fs, uint32_t file, int fd)
{
    pthread_mutex_lock(&fs->fd_lock);
    bool kept = fs->fds[file] < 0 && fs->n_kept < fs->max_kept;
    if (kept) {
        fs->fds[file] = fd;
        fs->n_kept++;
    }
    pthread_mutex_unlock(&fs->fd_lock);
    return kept;
}

static pd_status push_doc(pd_files *fs, doc d)
{
    if (fs->n_docs >= UINT32_MAX - 1) {
        report(fs, fs->paths[d.file], "more than %u documents: split the input into several runs",
               UINT32_MAX - 2);
        return PD_EINVAL;
    }
    PD_TRY(PD_GROW(fs->docs, fs->cap_docs, fs->n_docs + 1));
    fs->docs[fs->n_docs++] = d;
    return PD_OK;
}

/* ---- the spool ----------------------------------------------------------- */

/* Create the spool; `quiet`: say nothing when that fails. */
static pd_status spool_create(pd_files *fs, bool quiet)
{
    if (fs->spool_fd >= 0)
        return PD_OK;
    const char *dir = getenv("TMPDIR");
    if (!dir || !*dir)
        dir = "/tmp";
    char tmpl[4096];
    snprintf(tmpl, sizeof tmpl, "%s/paradup-spool-XXXXXX", dir);
    int fd = mkstemp(tmpl);
    if (fd < 0) {
        if (!quiet)
            report(fs, dir, "cannot create a temporary file: %s", strerror(errno));
        return PD_EIO;
    }
    unlink(tmpl);
    if (!(fs->wbuf = malloc(SPOOL_BUF))) {
        close(fd);
        return PD_ENOMEM;
    }
    fs->spool_fd = fd;
    return PD_OK;
}

static pd_status spool_open(pd_files *fs)
{
    return spool_create(fs, false);
}

/* pwrite() until all len bytes are written; a write of nothing is PD_EIO
 * with errno 0. */
static pd_status write_at(int fd, const char *buf, size_t len, uint64_t off)
{
    while (len > 0) {
        ssize_t w = pwrite(fd, buf, len, (off_t)off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (w == 0)
                errno = 0;
            return PD_EIO;
        }
        buf += w;
        off += (uint64_t)w;
        len -= (size_t)w;
    }
    return PD_OK;
}

static pd_status spool_flush(pd_files *fs)
{
    if (write_at(fs->spool_fd, fs->wbuf, fs->wlen, fs->spool_flushed) != PD_OK) {
        const char *dir = getenv("TMPDIR");
        report(fs, dir && *dir ? dir : "/tmp", "cannot write a temporary file: %s",
               errno ? strerror(errno) : "no space");
        return PD_EIO;
    }
    fs->spool_flushed += fs->wlen;
    fs->wlen = 0;
    return PD_OK;
}

pd_status pd_files_flush(pd_files *fs)
{
    return fs->wlen ? spool_flush(fs) : PD_OK;
}

static pd_status spool_write(pd_files *fs, const char *data, size_t len)
{
    PD_TRY(spool_open(fs));
    enum { PROGRESS_EVERY = 16 << 20 };
    if (fs->opt.progress && (fs->spool_len + len) / PROGRESS_EVERY != fs->spool_len / PROGRESS_EVERY)
        fs->opt.progress(fs->opt.progress_ctx, fs->spool_len + len);
    fs->spool_len += len;
    while (len > 0) {
        size_t n = SPOOL_BUF - fs->wlen < len ? SPOOL_BUF - fs->wlen : len;
        memcpy(fs->wbuf + fs->wlen, data, n);
        fs->wlen += n;
        data += n;
        len -= n;
        if (fs->wlen == SPOOL_BUF)
            PD_TRY(spool_flush(fs));
    }
    return PD_OK;
}

pd_status pd_files_record(pd_files *fs, uint32_t file, uint64_t line, const char *id,
                          size_t id_len, const char *text, size_t len)
{
    char num[48];
    const char *path = fs->paths[file];
    size_t need = id ? id_len + 1 : strlen(path) + sizeof num;
    PD_TRY(PD_GROW(fs->names, fs->cap_names, fs->names_len + need));
    doc d = {.off = fs->spool_len, .len = len, .line = line, .name = fs->names_len, .file = file,
             .spooled = true};
    char *name = fs->names + fs->names_len;
    if (id) {
        memcpy(name, id, id_len);
        name[id_len] = 0;
        fs->names_len += strnlen(name, id_len) + 1;
    } else {
        snprintf(num, sizeof num, ":%" PRIu64, line);
        fs->names_len += (size_t)sprintf(name, "%s%s", path, num) + 1;
    }
    PD_TRY(spool_write(fs, text, len));
    fs->stats.records++;
    return push_doc(fs, d);
}

pd_status pd_files_malformed(pd_files *fs, uint32_t file, uint64_t line, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fs->stats.malformed++;
    if (file != fs->malformed_file)
        fs->malformed_here = 0;
    fs->malformed_file = file;
    if (++fs->malformed_here <= MALFORMED_SHOWN)
        pd_files_report(fs, fs->paths[file], line, "%s: %s", msg,
                        fs->opt.strict ? "stopping (--strict)" : "record skipped");
    if (fs->malformed_here == MALFORMED_SHOWN + 1)
        pd_files_report(fs, fs->paths[file], line,
                        "more malformed records: counted in the summary, not shown");
    return fs->opt.strict ? PD_EPARSE : PD_OK;
}

/* ---- adding files -------------------------------------------------------- */

static bool has_suffix(const char *s, size_t len, const char *suf)
{
    size_t n = strlen(suf);
    return len >= n && strncasecmp(s + len - n, suf, n) == 0;
}

/* The format of path: the option, or the name's suffix past .gz/.zst. */
static pd_format format_of(const pd_files *fs, const char *path, char *delim)
{
    size_t len = strlen(path);
    *delim = fs->opt.delimiter ? fs->opt.delimiter : ',';
    static const char *const packed[] = {".gz", ".gzip", ".zst", ".zstd"};
    for (size_t i = 0; i < sizeof packed / sizeof *packed; i++)
        if (has_suffix(path, len, packed[i])) {
            len -= strlen(packed[i]);
            break;
        }
    if (!fs->opt.delimiter && has_suffix(path, len, ".tsv"))
        *delim = '\t';
    if (fs->opt.format != PD_FORMAT_AUTO)
        return fs->opt.format;
    if (has_suffix(path, len, ".jsonl") || has_suffix(path, len, ".ndjson") ||
        has_suffix(path, len, ".json"))
        return PD_FORMAT_JSONL;
    if (has_suffix(path, len, ".csv") || has_suffix(path, len, ".tsv"))
        return PD_FORMAT_CSV;
    return PD_FORMAT_TEXT;
}

/* Copy the decoded stream into the spool as one document. */
static pd_status spool_text(pd_files *fs, uint32_t file, pd_instream *in)
{
    doc d = {.off = fs->spool_len, .name = NO_NAME, .file = file, .spooled = true};
    char buf[1 << 16];
    for (;;) {
        size_t got;
        pd_status st = pd_instream_read(in, buf, sizeof buf, &got);
        if (st != PD_OK)
            return st;
        if (got == 0)
            break;
        PD_TRY(spool_write(fs, buf, got));
    }
    d.len = fs->spool_len - d.off;
    return push_doc(fs, d);
}

/* Is a file read where it lies (else it is decoded into the spool)? */
static bool read_in_place(pd_format fmt, bool regular, pd_compression kind)
{
    return fmt == PD_FORMAT_TEXT && regular && kind == PD_PLAIN;
}

/* A document that is a whole text file, read where it lies; its size as
 * it was when it was added (files_map() reads that much). */
static doc in_place(uint32_t file, uint64_t size)
{
    return (doc){.len = size, .name = NO_NAME, .file = file};
}

/* Add one file read from fd: "-" is standard input. A regular, uncompressed
 * text file is read in place later; anything else is decoded now. */
static pd_status add_file(pd_files *fs, const char *path, int fd, bool regular, uint64_t size)
{
    uint32_t file;
    PD_TRY(push_path(fs, path, &file));
    bool is_stdin = strcmp(path, "-") == 0;
    char delim;
    pd_format fmt = format_of(fs, is_stdin ? "" : path, &delim);
    pd_instream *in;
    pd_status st = pd_instream_open(fd, &in);
    if (st != PD_OK)
        ;
    else if (!is_stdin && read_in_place(fmt, regular, pd_instream_kind(in)))
        st = push_doc(fs, in_place(file, size));
    else if (fmt == PD_FORMAT_TEXT)
        st = spool_text(fs, file, in);
    else if (fmt == PD_FORMAT_JSONL)
        st = pd_read_jsonl(fs, file, in);
    else
        st = pd_read_csv(fs, file, in, delim, true);
    pd_status fst = pd_files_flush(fs); /* records read before a failure are kept */
    st = st == PD_OK ? fst : st;
    if (in && pd_instream_error(in)) {
        report(fs, path, "cannot read: %s", pd_instream_error(in));
        st = PD_EIO;
    }
    pd_instream_close(in);
    return st;
}

static pd_status add_stdin(pd_files *fs)
{
    if (fs->stdin_used) {
        report(fs, "-", "standard input can be read only once");
        return PD_EINVAL;
    }
    fs->stdin_used = true;
    return add_file(fs, "-", STDIN_FILENO, false, 0);
}

static pd_status add_path(pd_files *fs, const char *path)
{
    int fd;
    do
        fd = open(path, O_RDONLY | O_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0) {
        report(fs, path, "cannot open: %s", strerror(errno));
        if (fd >= 0)
            close(fd);
        return PD_EIO;
    }
    pd_status st = add_file(fs, path, fd, S_ISREG(sb.st_mode), (uint64_t)sb.st_size);
    /* A file read in place keeps its descriptor for the reads to come. */
    const doc *last = fs->n_docs > 0 ? &fs->docs[fs->n_docs - 1] : NULL;
    uint32_t file = (uint32_t)fs->n_paths - 1;
    if (!(st == PD_OK && last && !last->spooled && last->file == file && keep_fd(fs, file, fd)))
        close(fd);
    return st;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool any_match(const char *const *globs, size_t n, const char *name, const char *rel)
{
    for (size_t i = 0; i < n; i++)
        if (fnmatch(globs[i], strchr(globs[i], '/') ? rel : name, 0) == 0)
            return true;
    return false;
}

/* Does the include/exclude filter let the file (or directory) through? rel
 * is its path below the directory given on the command line. */
static bool wanted(const pd_files *fs, const char *name, const char *rel, bool is_dir)
{
    if (any_match(fs->opt.exclude, fs->opt.n_exclude, name, rel))
        return false;
    return is_dir || fs->opt.n_include == 0 ||
           any_match(fs->opt.include, fs->opt.n_include, name, rel);
}

typedef struct walker {
    char **list;
    size_t n, cap;
    size_t root_len; /* the prefix of each path that names the walked root */
    bool failed;
} walker;

/* Collect the wanted regular files under `dir` into w->list. */
static pd_status walk(pd_files *fs, const char *dir, walker *w)
{
    DIR *d = opendir(dir);
    if (!d) {
        report(fs, dir, "cannot open directory: %s", strerror(errno));
        w->failed = true;
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
        const char *rel = path + w->root_len;
        struct stat sb, lsb;
        bool is_reg = e->d_type == DT_REG, is_dir = false;
        /* d_type spares a stat per file where the file system fills it in. */
        if (!is_reg && (lstat(path, &lsb) != 0 || stat(path, &sb) != 0)) {
            /* A dangling link or a file that vanished: say so, go on. */
            report(fs, path, "cannot stat: %s", strerror(errno));
            w->failed = true;
        } else if (!is_reg) {
            is_dir = S_ISDIR(sb.st_mode) && !S_ISLNK(lsb.st_mode);
            is_reg = S_ISREG(sb.st_mode);
        }
        if (is_dir && wanted(fs, e->d_name, rel, true))
            st = walk(fs, path, w);
        if (is_reg && wanted(fs, e->d_name, rel, false) &&
            (st = PD_GROW(w->list, w->cap, w->n + 1)) == PD_OK) {
            w->list[w->n++] = path;
            continue;
        }
        free(path);
    }
    closedir(d);
    return st;
}

/* Which files of a walk or a list are text, found on several threads, as
 * adding many small files is mostly opening each one. A text file of less
 * than SMALL_FILE bytes is read whole there (and decoded, if compressed) and
 * copied into the spool, the files of a block with one pwrite(): it is
 * opened once, not sniffed, kept open and read again, and the scan reads it
 * with the spool's other documents (100 MB in 31,075 files, near -j2: 737
 * -> 593 ms; the same gzipped, 1,611 -> 954 ms). A larger plain file is
 * read in place. Anything else (another format, a large compressed file, a
 * failure) is left to add_path() or pd_files_add(), which add it, or report
 * it, in order. */
enum { SMALL_FILE = 64 << 10, SNIFF_BLOCK = 64, SNIFF_BUF = 1 << 20, SNIFF_ROOM = SNIFF_BUF / 2 };
#define NOT_SPOOLED UINT64_MAX

typedef struct sniff_job {
    pd_files *fs;
    const char *const *list;
    size_t n;
    bool walked;    /* the list is a walk's regular files */
    int *fd;        /* a plain file's descriptor, or PLAIN_CLOSED; else -1 */
    uint64_t *size; /* a plain file's size */
    uint64_t *at;   /* where a small plain file lies in the spool, or NOT_SPOOLED */
    char *buf[PD_MAX_THREADS]; /* each thread's files not yet written; its
                                * own mapping, handed back when freed */
    _Atomic size_t room; /* descriptors that may still be kept */
    _Atomic bool spool;  /* small files go to the spool (until a write fails) */
} sniff_job;

enum { PLAIN_CLOSED = -2 }; /* plain, but not kept open (no room), or not spooled */

static bool take_room(_Atomic size_t *room)
{
    size_t r = atomic_load(room);
    while (r > 0 && !atomic_compare_exchange_weak(room, &r, r - 1))
        ;
    return r > 0;
}

/* preadv() until the buffers are full; a short read moves along them. The
 * end of the file before then is PD_EIO with errno 0. */
static pd_status readv_at(int fd, struct iovec *iov, int n, uint64_t off)
{
    for (;;) {
        for (; n > 0 && iov->iov_len == 0; iov++, n--)
            ;
        if (n == 0)
            return PD_OK;
        ssize_t r = preadv(fd, iov, n, (off_t)off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            if (r == 0)
                errno = 0;
            return PD_EIO;
        }
        off += (uint64_t)r;
        for (; n > 0 && (size_t)r >= iov->iov_len; iov++, n--)
            r -= (ssize_t)iov->iov_len;
        if (n > 0) {
            iov->iov_base = (char *)iov->iov_base + r;
            iov->iov_len -= (size_t)r;
        }
    }
}

static pd_status read_at(int fd, char *buf, size_t len, uint64_t off)
{
    struct iovec iov = {buf, len};
    return readv_at(fd, &iov, 1, off);
}

/* Write the `used` bytes of buf, the files from `first` on that were read
 * into it, to the end of the spool. When that fails they are read in place. */
static void spool_files(sniff_job *j, const char *buf, size_t used, size_t first, size_t end)
{
    pd_files *fs = j->fs;
    pthread_mutex_lock(&fs->fd_lock);
    bool ok = spool_create(fs, true) == PD_OK;
    uint64_t off = fs->spool_len;
    if (ok)
        fs->spool_flushed = fs->spool_len += used;
    pthread_mutex_unlock(&fs->fd_lock);
    ok = ok && write_at(fs->spool_fd, buf, used, off) == PD_OK;
    if (!ok)
        atomic_store(&j->spool, false);
    for (size_t i = first; i < end; i++) {
        if (j->at[i] == NOT_SPOOLED)
            continue;
        if (ok)
            j->at[i] += off;
        else {
            j->at[i] = NOT_SPOOLED;
            j->fd[i] = PLAIN_CLOSED;
        }
    }
    if (ok && fs->opt.progress && off / (16 << 20) != (off + used) / (16 << 20)) {
        pthread_mutex_lock(&fs->lock);
        fs->opt.progress(fs->opt.progress_ctx, off + used);
        pthread_mutex_unlock(&fs->lock);
    }
}

/* Decode the n compressed bytes at src into dst (cap bytes): their length,
 * or SIZE_MAX when they are corrupt, truncated or decode to more than cap
 * (add_path() then reads the file, and says why it fails). */
static size_t decode_small(const char *src, size_t n, char *dst, size_t cap)
{
    pd_instream *in;
    size_t len = 0, got = 1;
    pd_status st = pd_instream_open_mem(src, n, &in);
    while (st == PD_OK && got > 0 && len <= cap) {
        char spare; /* a byte past cap: the text is longer */
        st = len < cap ? pd_instream_read(in, dst + len, cap - len, &got)
                       : pd_instream_read(in, &spare, 1, &got);
        len += got;
    }
    pd_instream_close(in);
    return st == PD_OK && len <= cap ? len : SIZE_MAX;
}

/* Sniff text file i, open as fd; a small one is read into buf at *used
 * (at[i] is then its place there), decoded there when it is compressed.
 * Returns whether fd stays open. */
static bool sniff_file(sniff_job *j, size_t i, int fd, char *buf, size_t *used)
{
    struct stat sb;
    char magic[4];
    if (fstat(fd, &sb) != 0)
        return false;
    bool small = S_ISREG(sb.st_mode) && (uint64_t)sb.st_size < SMALL_FILE && atomic_load(&j->spool);
    size_t got;
    if (small) {
        char *at = buf + *used;
        got = (size_t)sb.st_size;
        if (read_at(fd, at, got, 0) != PD_OK)
            return false; /* add_path() reads it as it is now, or says why not */
        if (pd_compression_of(at, got) != PD_PLAIN) {
            size_t len = decode_small(at, got, at + got, SNIFF_BUF - *used - got);
            if (len == SIZE_MAX)
                return false;
            memmove(at, at + got, len);
            got = len;
        }
        j->size[i] = got;
        j->at[i] = *used;
        *used += got;
        return false;
    }
    ssize_t n = pread(fd, magic, sizeof magic, 0);
    if (n < 0 || !read_in_place(PD_FORMAT_TEXT, S_ISREG(sb.st_mode),
                                pd_compression_of(magic, (size_t)n)))
        return false;
    j->size[i] = (uint64_t)sb.st_size;
    if (take_room(&j->room)) {
        j->fd[i] = fd;
        return true;
    }
    j->fd[i] = PLAIN_CLOSED;
    return false;
}

static void sniff_block(void *ctx, unsigned tid, size_t b)
{
    sniff_job *j = ctx;
    size_t first = b * SNIFF_BLOCK, end = first + SNIFF_BLOCK < j->n ? first + SNIFF_BLOCK : j->n;
    if (!j->buf[tid] && atomic_load(&j->spool) && !(j->buf[tid] = malloc(SNIFF_BUF)))
        atomic_store(&j->spool, false);
    char *buf = j->buf[tid];
    size_t used = 0, from = first;
    for (size_t i = first; i < end; i++) {
        char delim;
        struct stat sb;
        j->fd[i] = -1;
        j->at[i] = NOT_SPOOLED;
        if (format_of(j->fs, j->list[i], &delim) != PD_FORMAT_TEXT)
            continue; /* no need to open it */
        /* A path not found by a walk may be "-", a directory or a FIFO,
         * which opening could block or take data from. */
        if (!j->walked && (strcmp(j->list[i], "-") == 0 || stat(j->list[i], &sb) != 0 ||
                           !S_ISREG(sb.st_mode)))
            continue;
        if (used > SNIFF_BUF - SNIFF_ROOM) { /* room for a small file and its decoding */
            spool_files(j, buf, used, from, i);
            used = 0;
            from = i;
        }
        int fd = open(j->list[i], O_RDONLY | O_CLOEXEC);
        if (fd >= 0 && !sniff_file(j, i, fd, buf, &used))
            close(fd);
    }
    for (size_t i = from; i < end; i++)
        if (j->at[i] != NOT_SPOOLED) { /* an empty file, too, is in the spool */
            spool_files(j, buf, used, from, end);
            break;
        }
}

/* Threads that read small files, IO_PER_THREAD a worker thread, at most
 * IO_THREADS_MAX: files not in the page cache are read faster with more
 * reads in flight, and a thread waiting for the disk takes no CPU. 100 MB
 * in 31,075 files, near -j2, caches dropped: 2.13 s with 2 threads, 1.36 s
 * with 8, 1.16 s with 16; cached, 558, 565 and 606 ms (7 alternating runs). */
enum { IO_PER_THREAD = 4, IO_THREADS_MAX = 32 };

static pd_pool *io_pool(pd_files *fs)
{
    unsigned n = pd_pool_size(fs->pool) * IO_PER_THREAD;
    if (!fs->io_pool)
        fs->io_pool = pd_pool_new(n < IO_THREADS_MAX ? n : IO_THREADS_MAX);
    return fs->io_pool ? fs->io_pool : fs->pool;
}

/* Add the files list[0..n), in order, as pd_files_add() would: plain text
 * ones found by sniff_block(), the rest by pd_files_add(). `walked`: the list
 * is a walk's regular files; else a failed path stops the list when strict. */
static pd_status add_list(pd_files *fs, const char *const *list, size_t n, bool walked,
                          bool *failed)
{
    sniff_job j = {.fs = fs, .list = list, .n = n, .walked = walked};
    j.fd = malloc((n + 1) * sizeof *j.fd);
    j.size = malloc((n + 1) * sizeof *j.size);
    j.at = malloc((n + 1) * sizeof *j.at);
    pd_status st = j.fd && j.size && j.at ? PD_OK : PD_ENOMEM;
    bool sniffed = st == PD_OK;
    if (sniffed) {
        /* the spool's buffered records were written when their file ended */
        atomic_init(&j.spool, fs->wlen == 0 && fs->spool_copies);
        atomic_init(&j.room, fs->max_kept - fs->n_kept);
        size_t blocks = (n + SNIFF_BLOCK - 1) / SNIFF_BLOCK;
        pd_pool *pool = blocks > 1 ? io_pool(fs) : fs->pool;
        pd_parallel_for(pool, pd_pool_size(pool), blocks, sniff_block, &j);
        for (size_t t = 0; t < PD_MAX_THREADS; t++)
            free(j.buf[t]);
    }
    for (size_t i = 0; i < n && st == PD_OK; i++) {
        uint32_t file;
        pd_status fst = PD_OK;
        bool spooled = j.at[i] != NOT_SPOOLED, plain = j.fd[i] != -1;
        if ((spooled || plain) && (fst = push_path(fs, list[i], &file)) == PD_OK) {
            doc d = in_place(file, j.size[i]);
            if (spooled) {
                d.off = j.at[i];
                d.spooled = true;
            } else if (j.fd[i] >= 0 && keep_fd(fs, file, j.fd[i]))
                j.fd[i] = -1;
            fst = push_doc(fs, d);
        } else if (!spooled && !plain) {
            fst = walked ? add_path(fs, list[i]) : pd_files_add(fs, list[i]);
        }
        if (fst == PD_EIO && (walked || !fs->opt.strict))
            *failed = true;
        else
            st = fst;
    }
    for (size_t i = 0; sniffed && i < n; i++)
        if (j.fd[i] >= 0) /* not kept, or not added after a failure */
            close(j.fd[i]);
    free(j.fd);
    free(j.size);
    free(j.at);
    return st;
}

static pd_status add_dir(pd_files *fs, const char *dir)
{
    walker w = {NULL, 0, 0, strlen(dir), false};
    w.root_len += dir[w.root_len - 1] != '/';
    pd_status st = walk(fs, dir, &w);
    if (st == PD_OK) {
        qsort(w.list, w.n, sizeof *w.list, cmp_str);
        st = add_list(fs, (const char *const *)w.list, w.n, true, &w.failed);
    }
    for (size_t i = 0; i < w.n; i++)
        free(w.list[i]);
    free(w.list);
    return st != PD_OK ? st : w.failed ? PD_EIO : PD_OK;
}

pd_status pd_files_add_paths(pd_files *fs, const char *const *paths, size_t n)
{
    bool failed = false;
    pd_status st = n == 1 ? pd_files_add(fs, paths[0]) : add_list(fs, paths, n, false, &failed);
    return st != PD_OK ? st : failed ? PD_EIO : PD_OK;
}

pd_status pd_files_add(pd_files *fs, const char *path)
{
    if (strcmp(path, "-") == 0)
        return add_stdin(fs);
    struct stat sb;
    if (stat(path, &sb) != 0) {
        report(fs, path, "cannot open: %s", strerror(errno));
        return PD_EIO;
    }
    if (S_ISDIR(sb.st_mode))
        return add_dir(fs, path);
    return add_path(fs, path);
}

/* ---- the pd_source view -------------------------------------------------- */

static const char *files_name(void *ctx, uint32_t d)
{
    pd_files *fs = ctx;
    const doc *dc = &fs->docs[d];
    return dc->name == NO_NAME ? fs->paths[dc->file] : fs->names + dc->name;
}

static void files_origin(void *ctx, uint32_t d, const char **file, uint64_t *line)
{
    pd_files *fs = ctx;
    *file = fs->paths[fs->docs[d].file];
    *line = fs->docs[d].line;
}

/* The descriptor to read document d from, and where its bytes start. */
static int doc_fd(pd_files *fs, uint32_t d, uint64_t *base)
{
    const doc *dc = &fs->docs[d];
    *base = dc->off;
    if (dc->spooled)
        return fs->spool_fd;
    pthread_mutex_lock(&fs->fd_lock);
    int fd = fs->fds[dc->file];
    pthread_mutex_unlock(&fs->fd_lock);
    if (fd >= 0)
        return fd;
    while ((fd = open(fs->paths[dc->file], O_RDONLY | O_CLOEXEC)) < 0 && errno == EINTR)
        ;
    if (fd >= 0 && !keep_fd(fs, dc->file, fd)) {
        pthread_mutex_lock(&fs->fd_lock); /* another thread may have kept one */
        int other = fs->fds[dc->file];
        pthread_mutex_unlock(&fs->fd_lock);
        if (other >= 0) {
            close(fd);
            fd = other;
        }
    }
    return fd;
}

/* Done with fd of document d: closed unless it is kept. */
static void done_fd(pd_files *fs, uint32_t d, int fd)
{
    if (fd == fs->spool_fd)
        return;
    pthread_mutex_lock(&fs->fd_lock);
    bool kept = fs->fds[fs->docs[d].file] == fd;
    pthread_mutex_unlock(&fs->fd_lock);
    if (!kept)
        close(fd);
}

/* The length of document d, from fd for a file read in place. */
static pd_status doc_len(pd_files *fs, uint32_t d, int fd, size_t *len)
{
    const doc *dc = &fs->docs[d];
    const char *path = fs->paths[dc->file];
    struct stat sb;
    if (dc->spooled) {
        *len = (size_t)dc->len;
        return dc->len <= SIZE_MAX ? PD_OK : PD_EIO;
    }
    /* A small file is read with its size when it was added: a file that got
     * shorter since is reported by the read. A file to be mapped is measured
     * again, as mapping past its end would fault. */
    if (dc->len > 0 && dc->len < MAP_MIN) {
        *len = (size_t)dc->len;
        return PD_OK;
    }
    if (fstat(fd, &sb) != 0) {
        report(fs, path, "cannot open: %s", strerror(errno));
        return PD_EIO;
    }
    if (!S_ISREG(sb.st_mode)) {
        report(fs, path, "not a regular file");
        return PD_EIO;
    }
    if ((uint64_t)sb.st_size > SIZE_MAX) {
        report(fs, path, "too large to map");
        return PD_EIO;
    }
    *len = (size_t)sb.st_size;
    return PD_OK;
}

/* Is fd document d's kept descriptor (not one to close after the read)? */
static bool fd_kept(pd_files *fs, uint32_t d, int fd)
{
    if (fd == fs->spool_fd) /* made before the scan (pd_files_source) */
        return true;
    pthread_mutex_lock(&fs->fd_lock);
    bool kept = fs->fds[fs->docs[d].file] == fd;
    pthread_mutex_unlock(&fs->fd_lock);
    return kept;
}

/* Copy small file d, just read into buf, to the end of the spool: its later
 * reads (verification, the report) are then the spool's, with no open() and
 * close() each (a 1 GB corpus of 297,000 files, 20,000 of them kept open,
 * made 1.2M openat calls), and read together with their neighbours. Space
 * is taken under fd_lock and written with pwrite(), so mappings on several
 * threads copy at once. When the spool cannot be written, the file stays
 * where it is, read again as before, and later ones are not copied. */
static void spool_copy(pd_files *fs, uint32_t d, const char *buf, size_t len)
{
    pthread_mutex_lock(&fs->fd_lock);
    bool ok = fs->spool_copies && fs->wlen == 0; /* records are all written */
    uint64_t off = fs->spool_len;
    if (ok)
        fs->spool_flushed = fs->spool_len += len;
    pthread_mutex_unlock(&fs->fd_lock);
    if (ok && write_at(fs->spool_fd, buf, len, off) == PD_OK) {
        doc *dc = &fs->docs[d]; /* each document is mapped by one thread */
        dc->off = off;
        dc->len = len;
        dc->spooled = true;
        return;
    }
    pthread_mutex_lock(&fs->fd_lock);
    fs->spool_copies = false;
    pthread_mutex_unlock(&fs->fd_lock);
}

/* A spooled document starts anywhere: its mapping begins this many bytes
 * before it, on a page boundary. */
static size_t map_lead(const pd_files *fs, uint32_t d)
{
    return (size_t)(fs->docs[d].off % (uint64_t)sysconf(_SC_PAGESIZE));
}

static pd_status files_map(void *ctx, uint32_t d, const char **data, size_t *len)
{
    pd_files *fs = ctx;
    const char *path = fs->paths[fs->docs[d].file];
    uint64_t base;
    int fd = doc_fd(fs, d, &base);
    if (fd < 0) {
        report(fs, path, "cannot open: %s", strerror(errno));
        return PD_EIO;
    }
    pd_status st = doc_len(fs, d, fd, len);
    if (st != PD_OK || *len == 0) {
        *data = "";
        done_fd(fs, d, fd);
        return st;
    }
    if (*len < MAP_MIN) {
        char *buf = malloc(*len);
        st = buf ? read_at(fd, buf, *len, base) : PD_ENOMEM;
        int err = errno;
        bool kept = fd_kept(fs, d, fd);
        done_fd(fs, d, fd);
        if (st != PD_OK) {
            report(fs, path, "cannot read: %s", err ? strerror(err) : "the file got shorter");
            free(buf);
            return st;
        }
        if (!kept && !fs->docs[d].spooled)
            spool_copy(fs, d, buf, *len);
        *data = buf;
        return PD_OK;
    }
    size_t lead = map_lead(fs, d);
    void *p = mmap(NULL, *len + lead, PROT_READ, MAP_PRIVATE, fd, (off_t)(base - lead));
    int err = errno;
    done_fd(fs, d, fd);
    if (p == MAP_FAILED) {
        report(fs, path, "cannot map: %s", strerror(err));
        return PD_EIO;
    }
    madvise(p, *len + lead, MADV_SEQUENTIAL);
    fs->docs[d].mapped = true; /* each document is mapped by one thread */
    fs->docs[d].dropped = 0;
    *data = (char *)p + lead;
    return PD_OK;
}

static void files_unmap(void *ctx, uint32_t d, const char *data, size_t len)
{
    pd_files *fs = ctx;
    size_t lead = map_lead(fs, d);
    if (fs->docs[d].mapped)
        munmap((void *)(data - lead), len + lead);
    else if (len > 0)
        free((void *)data);
}

/* Mapped pages are dropped DROP_BYTES at a time: each madvise() interrupts
 * the other CPUs to flush their TLBs (100 MB exact at -j2: 167 -> 153 ms,
 * system time 101 -> 75 ms, against a call after every 1 MB chunk). The
 * scan reads most chunks through copies, so only the pages around a chunk's
 * ends are mapped in meanwhile; a chunk read where it lies adds its own. */
enum { DROP_BYTES = 8 << 20 };

static void files_release(void *ctx, uint32_t d, const char *data, size_t upto)
{
    pd_files *fs = ctx;
    doc *dc = &fs->docs[d];
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    if (!dc->mapped)
        return; /* read into memory: nothing to drop */
    /* Only the pages not dropped before: a range already dropped still costs
     * a walk of its page tables, and a call comes after every chunk. */
    uintptr_t base = (uintptr_t)data - map_lead(fs, d) + dc->dropped;
    uintptr_t end = ((uintptr_t)data + upto) & ~(uintptr_t)(page - 1);
    if (end > base + DROP_BYTES) {
        madvise((void *)base, end - base, MADV_DONTNEED);
        dc->dropped += end - base;
    }
}

/* Bytes between ranges are read into a scratch buffer rather than end a
 * preadv() when there are at most GAP_BYTES of them: a call costs about 2 us
 * here, the copy of 16 KB as much. The report of 100 MB exact, at -j2, reads
 * its texts in 11,200 calls (50 MB) with gaps of 4 KB, 5,800 (80 MB) with 8
 * KB, 2,300 (120 MB) with 16 KB and 900 (152 MB) with 32 KB; its stage took
 * 46, 43, 41 and 40 ms. A call takes 1,024 buffers. */
enum { GAP_BYTES = 16 << 10, IOVS = 1024 };

/* Ranges r[0..n) of documents read from fd: each to its place, in as few
 * preadv() calls as the gaps and buffers allow (a range before the end of
 * the one before starts a call of its own). */
static pd_status read_ranges_at(pd_files *fs, int fd, const pd_range *r, size_t n,
                                size_t *failed)
{
    char gap[GAP_BYTES];
    struct iovec iov[IOVS];
    pd_status st = PD_OK;
    for (size_t i = 0; i < n && st == PD_OK;) {
        uint64_t start = fs->docs[r[i].doc].off + r[i].off, end = start;
        size_t first = i;
        int k = 0;
        for (; i < n && k + 2 <= IOVS; i++) {
            uint64_t at = fs->docs[r[i].doc].off + r[i].off;
            if (at < end || at - end > GAP_BYTES)
                break;
            if (at > end)
                iov[k++] = (struct iovec){gap, (size_t)(at - end)};
            iov[k++] = (struct iovec){r[i].dst, r[i].len};
            end = at + r[i].len;
        }
        *failed = first;
        st = readv_at(fd, iov, k, start);
    }
    return st;
}

/* Runs of ranges read from one descriptor: a document's own file, or the
 * spool, which holds the records of JSONL and CSV input one after another. */
static pd_status files_read_ranges(void *ctx, const pd_range *r, size_t n, size_t *failed)
{
    pd_files *fs = ctx;
    pd_status st = PD_OK;
    for (size_t i = 0, j; i < n && st == PD_OK; i = j) {
        uint32_t d = r[i].doc;
        bool spooled = fs->docs[d].spooled;
        for (j = i + 1; j < n && (r[j].doc == d || (spooled && fs->docs[r[j].doc].spooled)); j++)
            ;
        uint64_t base; /* each range's document gives its own */
        int fd = doc_fd(fs, d, &base);
        if (fd < 0) {
            report(fs, fs->paths[fs->docs[d].file], "cannot open again: %s", strerror(errno));
            *failed = i;
            return PD_EIO;
        }
        size_t k = 0;
        st = read_ranges_at(fs, fd, r + i, j - i, &k);
        int err = errno;
        done_fd(fs, d, fd);
        if (st != PD_OK) {
            *failed = i + k;
            report(fs, fs->paths[fs->docs[r[i + k].doc].file], "cannot read again: %s",
                   err ? strerror(err) : "the file got shorter");
        }
    }
    return st;
}

/* One range: what the scanner's copies of large documents' chunks read. */
static pd_status files_read(void *ctx, uint32_t d, uint64_t off, size_t len, char *buf)
{
    pd_range r = {d, off, len, buf};
    size_t failed;
    return files_read_ranges(ctx, &r, 1, &failed);
}

/* A spooled record's length is known; so is a file's, measured when it was
 * added, unless that left it to map(). */
static uint64_t files_length(void *ctx, uint32_t d)
{
    const doc *dc = &((pd_files *)ctx)->docs[d];
    return dc->spooled || dc->len > 0 ? dc->len : UINT64_MAX;
}

pd_source pd_files_source(pd_files *fs)
{
    /* Some files are not kept open: the spool they are copied into when
     * they are first read (spool_copy) is made now, before reads run on
     * several threads. */
    if (fs->n_paths > fs->n_kept && spool_create(fs, true) != PD_OK)
        fs->spool_copies = false;
    return (pd_source){fs,          (uint32_t)fs->n_docs, files_name,    files_map,
                       files_unmap, files_read,           files_origin,  files_release,
                       files_read_ranges, files_length};
}
