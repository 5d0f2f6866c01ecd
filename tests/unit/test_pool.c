/* test_pool.c - the thread pool (pd_parallel_for): every item is done once,
 * for counts around the size of a grab and for 1 to 5 threads, and each
 * thread id is one the pool gave out. */
#include "check.h"
#include "internal.h"

#include <stdatomic.h>

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

int main(void)
{
    static const size_t sizes[] = {0, 1, 2, 63, 64, 65, 319, 320, 321, 1000, 100003};
    for (unsigned threads = 1; threads <= 5; threads++)
        for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
            size_t n = sizes[k];
            count c = {calloc(n + 1, 1), 0, threads};
            pd_parallel_for(threads, n, mark, &c);
            size_t once = 0;
            for (size_t i = 0; i < n; i++)
                once += c.done[i] == 1;
            if (once != n || c.done[n] != 0 || c.bad_tid != 0)
                fprintf(stderr, "%u threads, %zu items: %zu done once\n", threads, n, once);
            CHECK(once == n && c.done[n] == 0 && c.bad_tid == 0);
            free((void *)c.done);
        }
    return check_done("test_pool");
}
