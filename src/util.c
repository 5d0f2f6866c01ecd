/*
 * util.c - what every stage leans on: status texts, the version, growable
 * buffers, temporary files, a radix sort and a pool of POSIX threads for
 * parallel loops.
 */
#define _GNU_SOURCE /* madvise() advice beyond POSIX, O_TMPFILE, mkostemp() */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/mman.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

const char *pd_version(void)
{
    return PD_VERSION_STRING;
}

const char *pd_strerror(pd_status st)
{
    switch (st) {
    case PD_OK: return "success";
    case PD_ENOMEM: return "out of memory";
    case PD_EIO: return "input/output error";
    case PD_EPARSE: return "malformed input";
    case PD_EINVAL: return "invalid argument";
    case PD_EINTR: return "interrupted";
    }
    return "unknown error";
}

void pd_vdiagf(pd_diag_fn diag, void *ctx, const char *doc, uint64_t line, const char *fmt,
               va_list ap)
{
    if (!diag)
        return;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    diag(ctx, doc, line, msg);
}

void pd_diagf(pd_diag_fn diag, void *ctx, const char *doc, uint64_t line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pd_vdiagf(diag, ctx, doc, line, fmt, ap);
    va_end(ap);
}

/* A first touch of a 4 KB page is a fault that costs microseconds under
 * virtualization; one madvise() call maps a whole range at a fraction of
 * that. Only pages wholly inside [p, p + bytes) are touched, and the contents
 * do not change. Kernels before 5.14 refuse the advice: the pages then fault
 * in one by one, as without it. */
static void populate(const void *p, size_t bytes, int advice)
{
    enum { MIN_BYTES = 256 << 10 };
    if (!p || bytes < MIN_BYTES)
        return;
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t b = ((uintptr_t)p + page - 1) & ~(page - 1);
    uintptr_t e = ((uintptr_t)p + bytes) & ~(page - 1);
    if (e > b)
        madvise((void *)b, e - b, advice);
}

/* A block this large grows fourfold (pd_grow); huge pages, see pd_alloc. */
enum { LARGE_BLOCK = 4 << 20, HUGE_PAGE = 2 << 20 };

/* Pages about to be written (in huge pages when the block is large: every
 * large array comes from pd_alloc). */
void pd_prefault(void *p, size_t bytes)
{
#ifdef MADV_POPULATE_WRITE
    populate(p, bytes, MADV_POPULATE_WRITE);
#else
    PD_UNUSED(p);
    PD_UNUSED(bytes);
#endif
}

/* Pages about to be read (a file's, mapped). */
void pd_prefault_read(const void *p, size_t bytes)
{
#ifdef MADV_POPULATE_READ
    populate(p, bytes, MADV_POPULATE_READ);
#else
    PD_UNUSED(p);
    PD_UNUSED(bytes);
#endif
}

/* Arrays from HUGE_MIN bytes up are placed on huge pages of their own:
 * 2 MB aligned, their size rounded up to whole huge pages, so that no part
 * of them is left in 4 KB pages (under virtualization each of those costs
 * several microseconds on its first touch, populated or not). They come
 * from aligned_alloc(), so free() releases them. The rounding costs at most
 * one huge page an array, and only once its last page is touched. From 512
 * KB rather than 1 MB: 10 MB of news, near, took 74 ms instead of 88 (975
 * faults instead of 1,925) for 2.5 MB more at its peak; 100 MB took 1-2%
 * less time, and its peak was the same (exact) or lower (near); paragraphs
 * peaked 1.3 MB (100 MB) and 3.7 MB (300 MB) higher. From 256 KB, the
 * peaks rose by 10 to 20 MB. */
enum { HUGE_MIN = 512 << 10 };

void *pd_alloc(size_t bytes)
{
    if (bytes < HUGE_MIN)
        return malloc(bytes);
    size_t size = (bytes + HUGE_PAGE - 1) & ~(size_t)(HUGE_PAGE - 1);
    if (size < bytes)
        return NULL;
    void *p = aligned_alloc(HUGE_PAGE, size);
#ifdef MADV_HUGEPAGE
    if (p)
        madvise(p, size, MADV_HUGEPAGE);
#endif
    return p;
}

void *pd_calloc(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    if (n * size < HUGE_MIN)
        return calloc(n, size);
    /* Zeroed by a write: the pages are touched soon anyway, and dropping
     * them instead (MADV_DONTNEED) measured no faster and looks, to valgrind,
     * like memory never written. */
    void *p = pd_alloc(n * size);
    if (p)
        memset(p, 0, n * size);
    return p;
}

/* Copy a large block (pd_alloc's: 2 MB aligned) to q a huge page at a time,
 * giving back each of its pages once copied: the copy then holds one huge
 * page more than the larger block, not both blocks (at 1 GB exact, the unit
 * records' move from 128 MB to 512 MB of room made the peak 70 MB higher). */
static void move_block(char *q, char *p, size_t bytes)
{
    for (size_t off = 0; off < bytes; off += HUGE_PAGE) {
        size_t n = bytes - off < HUGE_PAGE ? bytes - off : HUGE_PAGE;
        memcpy(q + off, p + off, n);
#ifdef MADV_DONTNEED
        if (n == HUGE_PAGE)
            madvise(p + off, HUGE_PAGE, MADV_DONTNEED);
#endif
    }
}

pd_status pd_grow(void **p, size_t *cap, size_t need, size_t sz)
{
    if (need <= *cap)
        return PD_OK;
    size_t n = *cap ? *cap : 16;
    while (n < need) {
        if (n > SIZE_MAX / 2 / sz)
            return PD_ENOMEM;
        n *= 2;
    }
    /* A large block grows fourfold: moving it costs a copy, and the room it
     * does not use yet is only address space. Should that be refused, it
     * grows as far as needed. */
    bool four = n * sz >= LARGE_BLOCK && n <= SIZE_MAX / 4 / sz;
    /* A large block moves onto huge pages of its own by a copy. realloc()
     * would move its pages without one, but to a place that is seldom 2 MB
     * aligned, which splits them into 4 KB mappings: slower to use, and
     * slower still to rebuild (MADV_COLLAPSE), than the copy (near-duplicate
     * scan of 100 MB, one thread: 0.76 s and 0.69 s against 0.64 s; of 1 GB,
     * two threads: 4.4 s against 3.9 s when blocks from 32 MB up moved). */
    bool copy = n * sz >= HUGE_MIN;
    void *q = NULL;
    for (int t = four ? 0 : 1; t < 2 && !q; t++) {
        size_t m = t == 0 ? 2 * n : n;
        q = copy ? pd_alloc(m * sz) : realloc(*p, m * sz);
        if (q)
            n = m;
    }
    if (!q)
        return PD_ENOMEM;
    if (copy) {
        if (*cap * sz >= HUGE_MIN)
            move_block(q, *p, *cap * sz);
        else if (*cap)
            memcpy(q, *p, *cap * sz);
        free(*p);
    }
    *p = q;
    *cap = n;
    return PD_OK;
}

pd_status pd_regrow(void **p, size_t *cap, size_t need, size_t sz)
{
    if (need <= *cap)
        return PD_OK;
    /* Freed first: a large block's old contents would be copied for
     * nothing, and the old and new blocks would be held at once. */
    free(*p);
    *p = NULL;
    *cap = 0;
    return pd_grow(p, cap, need, sz);
}

/* Zeroed memory whose pages cost nothing until touched: an anonymous
 * mapping of its own. calloc() gives that only above glibc's mmap
 * threshold, which moves up as large blocks are freed; below it calloc()
 * writes every page (a code point cache of 830 KB cost 200 faults a
 * thread, where the ASCII text it served touched none). */
void *pd_zalloc(size_t bytes)
{
    void *p = mmap(NULL, bytes ? bytes : 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                   -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void pd_zfree(void *p, size_t bytes)
{
    if (p)
        munmap(p, bytes ? bytes : 1);
}

/* Arrays that grow together, carved from one block: a block of several
 * arrays reaches the size from which it lies on huge pages (pd_alloc) where
 * none of them would alone, and a first touch of memory on 4 KB pages costs
 * about 10 us a page here, 50 times a huge page's share. Each array starts
 * on a cache line of its own. */
static size_t lanes_bytes(const pd_lanes *l, size_t cap)
{
    size_t bytes = 0;
    for (unsigned i = 0; i < l->n; i++) {
        if (l->size[i] && cap > (SIZE_MAX - bytes - 63) / l->size[i])
            return SIZE_MAX;
        bytes += (cap * l->size[i] + 63) & ~(size_t)63;
    }
    return bytes;
}

pd_status pd_lanes_grow(pd_lanes *l, size_t need, size_t used)
{
    if (need <= l->cap)
        return PD_OK;
    size_t cap = l->cap ? 2 * l->cap : l->first, entry = 0;
    cap = cap > need ? cap : need;
    for (unsigned i = 0; i < l->n; i++)
        entry += l->size[i];
    /* A block that grows a second time goes to huge pages at once: the
     * steps between would each be touched page by page. */
    if (l->cap && entry > 0 && lanes_bytes(l, cap) < HUGE_MIN)
        cap = (HUGE_MIN + entry - 1) / entry;
    size_t bytes = lanes_bytes(l, cap);
    if (bytes == SIZE_MAX)
        return PD_ENOMEM;
    if (bytes >= HUGE_MIN && entry > 0) {
        /* on huge pages: as many entries as whole huge pages hold */
        bytes = (bytes + HUGE_PAGE - 1) & ~(size_t)(HUGE_PAGE - 1);
        size_t fill = (bytes - 64 * l->n) / entry; /* fits whatever the padding */
        cap = fill > cap ? fill : cap;
    }
    /* below the huge-page size, on a cache line (malloc gives 16 bytes) */
    char *block = bytes >= HUGE_MIN ? pd_alloc(bytes) : aligned_alloc(64, bytes ? bytes : 64);
    if (!block)
        return PD_ENOMEM;
    size_t off = 0;
    for (unsigned i = 0; i < l->n; i++) {
        void **a = l->array[i];
        if (used > 0)
            memcpy(block + off, *a, used * l->size[i]);
        *a = block + off;
        off += (cap * l->size[i] + 63) & ~(size_t)63;
    }
    free(l->block);
    l->block = block;
    l->cap = cap;
    return PD_OK;
}

void pd_lanes_free(pd_lanes *l)
{
    free(l->block);
    l->block = NULL;
    l->cap = 0;
    for (unsigned i = 0; i < l->n; i++)
        *l->array[i] = NULL;
}

void pd_buf_init(pd_buf *b)
{
    b->data = NULL;
    b->len = b->cap = 0;
}

void pd_buf_release(pd_buf *b)
{
    free(b->data);
    pd_buf_init(b);
}

pd_tbuf *pd_tbufs_new(unsigned n)
{
    pd_tbuf *t = aligned_alloc(64, (n ? n : 1) * sizeof *t);
    for (unsigned i = 0; t && i < n; i++)
        pd_buf_init(&t[i].b);
    return t;
}

void pd_tbufs_free(pd_tbuf *t, unsigned n)
{
    for (unsigned i = 0; t && i < n; i++)
        pd_buf_release(&t[i].b);
    free(t);
}

pd_status pd_buf_reserve(pd_buf *b, size_t need)
{
    return pd_grow((void **)&b->data, &b->cap, need, 1);
}

/* LSD radix sort on 11-bit digits; passes whose digit is constant are skipped,
 * so sorting keys that fit in 32 bits costs three passes. Stable. The counts
 * of every digit are taken in one sweep before the passes. */
enum { RADIX_BITS = 11, RADIX_DIGITS = (64 + RADIX_BITS - 1) / RADIX_BITS };

/* One LSD radix pass per digit (from bit `from` up) that is not the same in
 * every value; returns where the sorted values ended up (v or tmp). */
static uint64_t *radix(uint64_t *v, size_t n, uint64_t *tmp, unsigned from,
                       size_t (*count)[1 << RADIX_BITS])
{
    const size_t size = (size_t)1 << RADIX_BITS, mask = size - 1;
    unsigned digits = (64 - from + RADIX_BITS - 1) / RADIX_BITS;
    uint64_t *src = v, *dst = tmp, all_or = 0, all_and = ~UINT64_C(0);
    memset(count, 0, digits * sizeof *count);
    for (size_t i = 0; i < n; i++) {
        uint64_t x = v[i];
        all_or |= x;
        all_and &= x;
        for (unsigned d = 0; d < digits; d++)
            count[d][(x >> (from + d * RADIX_BITS)) & mask]++;
    }
    for (unsigned d = 0; d < digits; d++) {
        unsigned shift = from + d * RADIX_BITS;
        if ((((all_or ^ all_and) >> shift) & mask) == 0)
            continue;
        size_t sum = 0, *c = count[d];
        for (size_t k = 0; k < size; k++) {
            size_t here = c[k];
            c[k] = sum;
            sum += here;
        }
        for (size_t i = 0; i < n; i++)
            dst[c[(src[i] >> shift) & mask]++] = src[i];
        uint64_t *t = src;
        src = dst;
        dst = t;
    }
    return src;
}

static void insertion(uint64_t *v, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        uint64_t x = v[i];
        size_t j = i;
        for (; j > 0 && v[j - 1] > x; j--)
            v[j] = v[j - 1];
        v[j] = x;
    }
}

/* Quicksort (median of three, insertion sort below 24), recursing into the
 * smaller side: for the few hundred values of a text's shingles, where
 * radix passes cost more than they save. */
static void quick(uint64_t *v, size_t n)
{
    while (n > 24) {
        uint64_t a = v[0], b = v[n / 2], c = v[n - 1];
        uint64_t p = a < b ? (b < c ? b : a < c ? c : a) : (a < c ? a : b < c ? c : b);
        size_t i = 0, j = n - 1;
        for (;;) {
            while (v[i] < p)
                i++;
            while (v[j] > p)
                j--;
            if (i >= j)
                break;
            uint64_t t = v[i];
            v[i++] = v[j];
            v[j--] = t;
        }
        size_t left = j + 1; /* v[0..left) <= p <= v[left..n) */
        if (left < n - left) {
            quick(v, left);
            v += left;
            n -= left;
        } else {
            quick(v + left, n - left);
            n = left;
        }
    }
    insertion(v, n);
}

/* Comparison sorting for up to thousands of values, radix digits (few
 * passes, each linear) from bit `from` up above. */
static void sort_from(uint64_t *v, size_t n, uint64_t *tmp, unsigned from)
{
    if (n <= 4096) { /* whole values: the same order when the low bits are sorted */
        quick(v, n);
        return;
    }
    size_t count[RADIX_DIGITS][1 << RADIX_BITS];
    uint64_t *out = radix(v, n, tmp, from, count);
    if (out != v)
        memcpy(v, out, n * sizeof *v);
}

void pd_sort_u64(uint64_t *v, size_t n, uint64_t *tmp)
{
    sort_from(v, n, tmp, 0);
}

/* Up to 2^SPREAD_BITS values are spread into at least as many buckets by
 * their top bits, then one insertion pass puts each bucket in order: about
 * two moves a value when the values are hashes. Should they gather in a few
 * buckets, each bucket is sorted by quicksort instead. */
enum { SPREAD_BITS = 12, SPREAD_BUCKET_MAX = 16 };

void pd_sort_spread(uint64_t *v, size_t n, uint64_t *tmp)
{
    if (n < 2 || n > ((size_t)1 << SPREAD_BITS)) {
        pd_sort_u64(v, n, tmp);
        return;
    }
    unsigned bits = 1;
    while (((size_t)1 << bits) < n)
        bits++;
    const unsigned shift = 64 - bits;
    const size_t buckets = (size_t)1 << bits;
    uint16_t at[((size_t)1 << SPREAD_BITS) + 1]; /* n <= 4096 fits */
    memset(at, 0, (buckets + 1) * sizeof *at);
    for (size_t i = 0; i < n; i++)
        at[(v[i] >> shift) + 1]++;
    unsigned most = 0;
    for (size_t b = 0; b < buckets; b++) {
        most = at[b + 1] > most ? at[b + 1] : most;
        at[b + 1] = (uint16_t)(at[b + 1] + at[b]); /* at[b]: where bucket b starts */
    }
    for (size_t i = 0; i < n; i++)
        tmp[at[v[i] >> shift]++] = v[i]; /* at[b] ends as where bucket b ends */
    if (most <= SPREAD_BUCKET_MAX)
        insertion(tmp, n);
    else
        for (size_t b = 0; b < buckets; b++) {
            size_t start = b > 0 ? at[b - 1] : 0;
            quick(tmp + start, at[b] - start);
        }
    memcpy(v, tmp, n * sizeof *v);
}

void pd_sort_u64_high(uint64_t *v, size_t n, uint64_t *tmp)
{
    sort_from(v, n, tmp, 32);
}

int pd_temp_fd(const char **dir)
{
    const char *d = getenv("TMPDIR");
    *dir = d && *d ? d : "/tmp";
#ifdef O_TMPFILE
    int fd = open(*dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0)
        return fd;
#endif
    char tmpl[4096];
    if (snprintf(tmpl, sizeof tmpl, "%s/paradup-XXXXXX", *dir) >= (int)sizeof tmpl) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int fd2 = mkostemp(tmpl, O_CLOEXEC);
    if (fd2 >= 0)
        unlink(tmpl);
    return fd2;
}

pd_status pd_pwrite_full(int fd, const void *p, size_t n, uint64_t off)
{
    for (size_t done = 0; done < n;) {
        ssize_t w = pwrite(fd, (const char *)p + done, n - done, (off_t)(off + done));
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (w == 0)
                errno = ENOSPC;
            return PD_EIO;
        }
        done += (size_t)w;
    }
    return PD_OK;
}

pd_status pd_pread_full(int fd, void *p, size_t n, uint64_t off)
{
    for (size_t done = 0; done < n;) {
        ssize_t r = pread(fd, (char *)p + done, n - done, (off_t)(off + done));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            if (r == 0)
                errno = EIO;
            return PD_EIO;
        }
        done += (size_t)r;
    }
    return PD_OK;
}

double pd_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

uint64_t pd_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* The CPUs this process may run on (taskset, a container's cpuset), else
 * those online. */
unsigned pd_cpu_count(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
#ifdef CPU_COUNT
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        n = CPU_COUNT(&set);
#endif
    return n < 1 ? 1 : n > 256 ? 256 : (unsigned)n;
}

uint64_t pd_memory_bytes(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    return pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page : UINT64_C(1) << 30;
}

/* The pool's helpers are started by the first loop that wants them and wait
 * between loops (awake for a while, then asleep: spin_while): creating a
 * thread for every loop cost 80 us a thread here, and a run has a hundred
 * loops and more. One loop is in flight at a time;
 * `round` counts the loops started, so a helper knows a new one from the one
 * it has done. */
typedef struct pool_arg {
    pd_pool *pool;
    unsigned tid;
    uint64_t seen; /* the round before the helper's first */
} pool_arg;

struct pd_pool {
    pthread_mutex_t lock;
    pthread_cond_t work, done;
    unsigned size;    /* threads, the caller included */
    unsigned started; /* helpers running */
    unsigned helpers; /* helpers taking part in the current loop */
    uint64_t busy;    /* of those, the ones not done yet */
    uint64_t round;
    bool quit;
    bool spin; /* no more threads than CPUs: wait for a while awake (spin_while) */
    /* a stream (pd_stream_begin): items [0, published) may be taken, `grain`
     * at a time; the helpers leave it once it has ended; the caller sleeps
     * in pd_stream_wait() with `waiting` set */
    bool stream, ended;
    uint64_t published, waiting;
    pthread_cond_t more, progress;
    /* the current loop: items are taken `grain` at a time */
    void (*fn)(void *ctx, unsigned tid, size_t i);
    void *ctx;
    size_t n, grain;
    _Alignas(64) atomic_size_t next; /* taken by every thread: a line of its own */
    /* in a stream, the first item of the run each thread is doing, or
     * UINT64_MAX: every item before the lowest, and before next, is done */
    struct taking {
        _Alignas(64) uint64_t at;
    } *taking;
    /* the helpers, 1..size - 1. These arrays, one entry a thread, are sized
     * by the pool: for PD_MAX_THREADS the pool took 25 KB, seven pages
     * faulted in for each pool of a run, 0.1 ms of a 1 KB input here. */
    pthread_t *tid;
    pool_arg *arg;
};

pd_pool *pd_pool_new(unsigned threads)
{
    pd_pool *p = aligned_alloc(64, sizeof *p);
    if (!p)
        return NULL;
    memset(p, 0, sizeof *p);
    p->size = threads < 1 ? 1 : threads > PD_MAX_THREADS ? PD_MAX_THREADS : threads;
    p->taking = aligned_alloc(64, p->size * sizeof *p->taking);
    p->tid = calloc(p->size, sizeof *p->tid);
    p->arg = calloc(p->size, sizeof *p->arg);
    if (!p->taking || !p->tid || !p->arg) {
        free(p->taking);
        free(p->tid);
        free(p->arg);
        free(p);
        return NULL;
    }
    p->spin = p->size <= pd_cpu_count();
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->work, NULL);
    pthread_cond_init(&p->done, NULL);
    pthread_cond_init(&p->more, NULL);
    pthread_cond_init(&p->progress, NULL);
    return p;
}

void pd_pool_free(pd_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->quit = true;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->lock);
    for (unsigned t = 1; t <= p->started; t++)
        pthread_join(p->tid[t], NULL);
    pthread_cond_destroy(&p->work);
    pthread_cond_destroy(&p->done);
    pthread_cond_destroy(&p->more);
    pthread_cond_destroy(&p->progress);
    pthread_mutex_destroy(&p->lock);
    free(p->taking);
    free(p->tid);
    free(p->arg);
    free(p);
}

unsigned pd_pool_size(const pd_pool *p)
{
    return p ? p->size : 1;
}

unsigned pd_pool_started(const pd_pool *p)
{
    return p ? p->started : 0;
}

/* Wait, awake, up to SPIN_NS while *v is x (equal) or is not x: a loop's
 * end, or the next loop, often comes sooner than a sleeping thread is woken
 * (0.12-0.19 ms here, twice for each batch of the first pass). Then the
 * caller sleeps on its condition as before. Only when each thread has a
 * CPU: otherwise a spinning thread takes one from a thread with work. */
enum { SPIN_NS = 50000 };

/* Turn i of a wait awake that began at `start`: a pause, and every 64 turns
 * a look at the clock; false once the wait has lasted SPIN_NS. */
static bool spin_turn(unsigned i, double start)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
    return i % 64 != 0 || pd_now() < start + SPIN_NS / 1e9;
}

static void spin_while(const pd_pool *p, const uint64_t *v, uint64_t x, bool equal)
{
    double start = pd_now();
    for (unsigned i = 1; p->spin && (__atomic_load_n(v, __ATOMIC_ACQUIRE) == x) == equal; i++)
        if (!spin_turn(i, start))
            return;
}

/* Items are taken in runs, GRABS_PER_THREAD a thread, not one at a time:
 * neighbouring items done by different threads write to the same cache
 * lines. The run of a loop of n items on helpers + 1 threads: */
static size_t grain_for(size_t n, unsigned helpers)
{
    enum { GRABS_PER_THREAD = 32 };
    size_t grain = n / (((size_t)helpers + 1) * GRABS_PER_THREAD);
    return grain > 0 ? grain : 1;
}

/* Take runs of the current loop's items until none are left. */
static void take_items(pd_pool *p, unsigned tid)
{
    for (;;) {
        size_t i = atomic_fetch_add_explicit(&p->next, p->grain, memory_order_relaxed);
        if (i >= p->n)
            return;
        for (size_t end = i + p->grain < p->n ? i + p->grain : p->n; i < end; i++)
            p->fn(p->ctx, tid, i);
    }
}

/* Take the stream's next run of published items, and do them. The run's
 * first item is announced (taking[tid]) before it is taken, so that
 * stream_done() never counts it done too soon. */
static bool stream_take(pd_pool *p, unsigned tid)
{
    uint64_t *at = &p->taking[tid].at;
    size_t i = atomic_load_explicit(&p->next, memory_order_seq_cst), published;
    bool took = false;
    while (!took && i < (published = __atomic_load_n(&p->published, __ATOMIC_ACQUIRE))) {
        size_t grain = __atomic_load_n(&p->grain, __ATOMIC_RELAXED); /* set by each publish */
        size_t end = published - i > grain ? i + grain : published;
        __atomic_store_n(at, i, __ATOMIC_SEQ_CST);
        if ((took = atomic_compare_exchange_weak_explicit(&p->next, &i, end, memory_order_seq_cst,
                                                          memory_order_seq_cst)))
            for (; i < end; i++)
                p->fn(p->ctx, tid, i);
    }
    __atomic_store_n(at, UINT64_MAX, __ATOMIC_SEQ_CST);
    /* a caller that sets `waiting` after this read sees the run done */
    if (took && __atomic_load_n(&p->waiting, __ATOMIC_SEQ_CST)) {
        pthread_mutex_lock(&p->lock);
        pthread_cond_broadcast(&p->progress);
        pthread_mutex_unlock(&p->lock);
    }
    return took;
}

/* Are the stream's items [0, upto) done? next is read first: a run taken
 * after that read was announced before it was taken. */
static bool stream_done(pd_pool *p, uint64_t upto)
{
    uint64_t low = atomic_load_explicit(&p->next, memory_order_seq_cst);
    for (unsigned t = 0; t <= p->helpers && low >= upto; t++) {
        uint64_t at = __atomic_load_n(&p->taking[t].at, __ATOMIC_SEQ_CST);
        low = at < low ? at : low;
    }
    return low >= upto;
}

/* A helper's part in a stream: items as they are published, until it ends. */
static void stream_items(pd_pool *p, unsigned tid)
{
    for (;;) {
        uint64_t seen = __atomic_load_n(&p->published, __ATOMIC_ACQUIRE);
        if (stream_take(p, tid))
            continue;
        if (__atomic_load_n(&p->ended, __ATOMIC_ACQUIRE))
            return;
        spin_while(p, &p->published, seen, true);
        pthread_mutex_lock(&p->lock);
        while (p->published == seen && !p->ended)
            pthread_cond_wait(&p->more, &p->lock);
        pthread_mutex_unlock(&p->lock);
    }
}

static void *helper(void *arg)
{
    pool_arg *a = arg;
    pd_pool *p = a->pool;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        if (!p->quit && p->round == a->seen) {
            pthread_mutex_unlock(&p->lock);
            spin_while(p, &p->round, a->seen, true);
            pthread_mutex_lock(&p->lock);
        }
        while (!p->quit && p->round == a->seen)
            pthread_cond_wait(&p->work, &p->lock);
        if (p->quit)
            break;
        a->seen = p->round;
        if (a->tid > p->helpers)
            continue; /* a loop with fewer threads */
        pthread_mutex_unlock(&p->lock);
        if (p->stream)
            stream_items(p, a->tid);
        else
            take_items(p, a->tid);
        pthread_mutex_lock(&p->lock);
        if (__atomic_sub_fetch(&p->busy, 1, __ATOMIC_RELEASE) == 0)
            pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

/* Start helpers 1..want that are not running yet; returns how many run. */
static unsigned start_helpers(pd_pool *p, unsigned want)
{
    for (unsigned t = p->started + 1; t <= want; t++) {
        p->arg[t] = (pool_arg){p, t, p->round};
        if (pthread_create(&p->tid[t], NULL, helper, &p->arg[t]) != 0)
            break; /* fewer threads: the caller still does every item */
        p->started = t;
    }
    return p->started < want ? p->started : want;
}

/* The helpers of a loop on `threads` threads, the caller's included. */
static unsigned helpers_for(const pd_pool *p, unsigned threads)
{
    return threads > p->size ? p->size - 1 : threads > 0 ? threads - 1 : 0;
}

/* Give helpers 1..helpers a new round: a loop of n items, taken `grain` at a
 * time, or a stream. */
static void start_round(pd_pool *p, unsigned helpers, void (*fn)(void *ctx, unsigned tid, size_t i),
                        void *ctx, size_t n, size_t grain, bool stream)
{
    pthread_mutex_lock(&p->lock);
    assert(p->busy == 0); /* one loop at a time */
    p->fn = fn;
    p->ctx = ctx;
    p->n = n;
    p->grain = grain;
    p->stream = stream;
    __atomic_store_n(&p->ended, false, __ATOMIC_RELAXED);
    __atomic_store_n(&p->published, 0, __ATOMIC_RELAXED);
    for (unsigned t = 0; stream && t <= helpers; t++)
        __atomic_store_n(&p->taking[t].at, UINT64_MAX, __ATOMIC_RELAXED);
    atomic_store_explicit(&p->next, 0, memory_order_relaxed);
    p->helpers = helpers;
    __atomic_store_n(&p->busy, helpers, __ATOMIC_RELAXED);
    if (helpers > 0) {
        __atomic_store_n(&p->round, p->round + 1, __ATOMIC_RELEASE);
        pthread_cond_broadcast(&p->work);
    }
    pthread_mutex_unlock(&p->lock);
}

/* Wait until the helpers of the round are done with it. */
static void join_helpers(pd_pool *p)
{
    spin_while(p, &p->busy, 0, false);
    pthread_mutex_lock(&p->lock);
    while (p->busy > 0)
        pthread_cond_wait(&p->done, &p->lock);
    pthread_mutex_unlock(&p->lock);
}

void pd_parallel_start(pd_pool *p, unsigned threads, size_t n,
                       void (*fn)(void *ctx, unsigned tid, size_t i), void *ctx)
{
    unsigned helpers = helpers_for(p, threads);
    if (helpers >= n)
        helpers = n > 0 ? (unsigned)n - 1 : 0; /* the caller takes one item too */
    helpers = start_helpers(p, helpers);
    start_round(p, helpers, fn, ctx, n, grain_for(n, helpers), false);
}

void pd_parallel_finish(pd_pool *p)
{
    take_items(p, 0);
    join_helpers(p);
}

void pd_parallel_for(pd_pool *p, unsigned threads, size_t n,
                     void (*fn)(void *ctx, unsigned tid, size_t i), void *ctx)
{
    if (!p || threads <= 1 || n <= 1) {
        for (size_t i = 0; i < n; i++)
            fn(ctx, 0, i);
        return;
    }
    pd_parallel_start(p, threads, n, fn, ctx);
    pd_parallel_finish(p);
}

/* Streams (see internal.h). The first pass publishes a batch of chunks while
 * the helper works on the batch before: it no longer waits at each batch's
 * end for the last chunk of the other thread, then for the next batch to
 * start (a loop a batch). */
void pd_stream_begin(pd_pool *p, unsigned threads,
                     void (*fn)(void *ctx, unsigned tid, size_t i), void *ctx)
{
    start_round(p, start_helpers(p, helpers_for(p, threads)), fn, ctx, 0, 1, true);
}

void pd_stream_publish(pd_pool *p, size_t n)
{
    size_t grain = grain_for(n - p->published, p->helpers); /* as for a loop of the new items */
    pthread_mutex_lock(&p->lock);
    __atomic_store_n(&p->grain, grain, __ATOMIC_RELAXED);
    __atomic_store_n(&p->published, n, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&p->more);
    pthread_mutex_unlock(&p->lock);
}

void pd_stream_wait(pd_pool *p, uint64_t upto)
{
    while (!stream_done(p, upto)) {
        if (stream_take(p, 0))
            continue;
        /* the items left are another thread's: awake for a while, then asleep */
        double start = pd_now();
        for (unsigned i = 1; p->spin && !stream_done(p, upto) && spin_turn(i, start); i++)
            ;
        pthread_mutex_lock(&p->lock);
        __atomic_store_n(&p->waiting, 1, __ATOMIC_SEQ_CST);
        while (!stream_done(p, upto))
            pthread_cond_wait(&p->progress, &p->lock);
        __atomic_store_n(&p->waiting, 0, __ATOMIC_SEQ_CST);
        pthread_mutex_unlock(&p->lock);
    }
}

void pd_stream_end(pd_pool *p)
{
    while (stream_take(p, 0))
        ;
    pthread_mutex_lock(&p->lock);
    __atomic_store_n(&p->ended, true, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&p->more);
    pthread_mutex_unlock(&p->lock);
    join_helpers(p);
}
