/* test_pool.c - the thread pool: every item of a loop is done once, for
 * counts around the size of a grab and for 1 to 5 threads (so with helpers
 * that spin while they wait, and with more threads than CPUs, helpers that
 * do not); each thread id is one the loop gave out; one pool runs loop
 * after loop, with fewer threads than it has, and a loop started in the
 * background while the caller works, and streams of items published in
 * steps. The CPUs counted are those the process may run on. */
#define _GNU_SOURCE /* sched_setaffinity() */
#include "check.h"
#include "internal.h"

#include <sched.h>
#include <stdatomic.h>
#include <time.h>

typedef struct count {
    _Atomic unsigned char *done;
    _Atomic unsigned bad_tid;
    unsigned threads;
} count;

static void mark(void *ctx, unsigned tid, size_t i)
{
    count *c = ctx;
    atomic_fetch_add(&c->done[i], 1);
    if (tid >= c->threads)
        atomic_fetch_add(&c->bad_tid, 1);
}

/* Items [0, n) each done once, nothing beyond, and no foreign thread id. */
static bool all_once(const count *c, size_t n, const char *what)
{
    size_t once = 0;
    for (size_t i = 0; i < n; i++)
        once += c->done[i] == 1;
    if (once != n || c->done[n] != 0 || c->bad_tid != 0)
        fprintf(stderr, "%s: %u threads, %zu items: %zu done once\n", what, c->threads, n, once);
    return once == n && c->done[n] == 0 && c->bad_tid == 0;
}

/* Mark item i; every SLOW-th takes a while, so that a caller waits asleep
 * for another thread's items. */
enum { SLOW = 97 };

static void mark_slowly(void *ctx, unsigned tid, size_t i)
{
    if (i % SLOW == 0)
        nanosleep(&(struct timespec){0, 200000}, NULL);
    mark(ctx, tid, i);
}

/* Items [0, upto) each done once, whatever else is. */
static bool done_below(const count *c, size_t upto)
{
    size_t once = 0;
    for (size_t i = 0; i < upto; i++)
        once += c->done[i] == 1;
    return once == upto;
}

/* A stream on `threads` threads: items published in steps are each done
 * once; between steps the caller waits for some of those published so far
 * (all of them, half, none), and they are done when it returns; the pool
 * runs a loop after the stream has ended. */
static void test_stream(pd_pool *pool, unsigned threads)
{
    static const size_t steps[] = {0, 1, 2, 64, 65, 300, 301, 2000, 5000};
    enum { N = 5000, STEPS = sizeof steps / sizeof *steps };
    count s = {calloc(N + 1, 1), 0, threads};
    pd_stream_begin(pool, threads, mark_slowly, &s);
    for (size_t k = 0; k < STEPS; k++) {
        pd_stream_publish(pool, steps[k]);
        size_t upto = k % 3 == 0 ? steps[k] : k % 3 == 1 ? steps[k] / 2 : 0;
        pd_stream_wait(pool, upto);
        CHECK(done_below(&s, upto));
    }
    pd_stream_end(pool);
    CHECK(all_once(&s, N, "stream"));
    free((void *)s.done);
    count c = {calloc(1001, 1), 0, threads};
    pd_parallel_for(pool, threads, 1000, mark, &c);
    CHECK(all_once(&c, 1000, "loop after a stream"));
    free((void *)c.done);
}

int main(void)
{
    static const size_t sizes[] = {0, 1, 2, 63, 64, 65, 319, 320, 321, 1000, 100003};
    enum { K = sizeof sizes / sizeof *sizes };
    for (unsigned size = 1; size <= 5; size++) {
        pd_pool *pool = pd_pool_new(size);
        CHECK(pool && pd_pool_size(pool) == size);
        /* Loops of every size, on as many threads as the pool has or fewer. */
        for (unsigned threads = 1; threads <= size; threads++)
            for (size_t k = 0; k < K; k++) {
                count c = {calloc(sizes[k] + 1, 1), 0, threads};
                pd_parallel_for(pool, threads, sizes[k], mark, &c);
                CHECK(all_once(&c, sizes[k], "loop"));
                free((void *)c.done);
            }
        /* In the background: the items get done while the caller waits for
         * the first of them, then joins in. */
        count c = {calloc(100001, 1), 0, size};
        pd_parallel_start(pool, size, 100000, mark, &c);
        for (double t0 = pd_now(); size > 1 && atomic_load(&c.done[0]) == 0 && pd_now() < t0 + 10;)
            ;
        pd_parallel_finish(pool);
        CHECK(all_once(&c, 100000, "background"));
        free((void *)c.done);
        test_stream(pool, size);
        test_stream(pool, 1); /* the caller alone */
        pd_pool_free(pool);
    }
    /* No pool: the caller does every item. */
    count c = {calloc(101, 1), 0, 1};
    pd_parallel_for(NULL, 4, 100, mark, &c);
    CHECK(all_once(&c, 100, "no pool"));
    free((void *)c.done);
    /* Bound to one CPU, the process counts one (the default thread count). */
    cpu_set_t was, one;
    if (sched_getaffinity(0, sizeof was, &was) == 0) {
        int cpu = 0;
        while (cpu < CPU_SETSIZE - 1 && !CPU_ISSET(cpu, &was))
            cpu++;
        CPU_ZERO(&one);
        CPU_SET(cpu, &one);
        CHECK(sched_setaffinity(0, sizeof one, &one) == 0 && pd_cpu_count() == 1);
        CHECK(sched_setaffinity(0, sizeof was, &was) == 0 &&
              pd_cpu_count() == (unsigned)CPU_COUNT(&was));
    }
    return check_done("test_pool");
}
