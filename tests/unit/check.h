/*
 * check.h - the unit tests' tiny harness: CHECK() records a result and
 * prints file:line on failure; check_done() prints "NAME: N passed, M failed"
 * and returns the exit status. Counts are also appended to $PD_TEST_COUNTS
 * when set, for the suite's total. check_rand() makes test data.
 */
#ifndef PD_CHECK_H
#define PD_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned check_pass, check_fail;

#define CHECK(cond)                                                         \
    do {                                                                    \
        if (cond) {                                                         \
            check_pass++;                                                   \
        } else {                                                            \
            check_fail++;                                                   \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                   \
    } while (0)

#define CHECK_STR(got, want)                                                \
    do {                                                                    \
        const char *g_ = (got), *w_ = (want);                               \
        if (strcmp(g_, w_) == 0) {                                          \
            check_pass++;                                                   \
        } else {                                                            \
            check_fail++;                                                   \
            fprintf(stderr, "%s:%d: got \"%s\", want \"%s\"\n", __FILE__, __LINE__, g_, w_); \
        }                                                                   \
    } while (0)

/* xorshift64: test data that is the same on every machine. */
static inline uint64_t check_rand(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *state = x;
}

static inline int check_done(const char *name)
{
    printf("%s: %u passed, %u failed\n", name, check_pass, check_fail);
    const char *path = getenv("PD_TEST_COUNTS");
    if (path) {
        FILE *f = fopen(path, "a");
        if (f) {
            fprintf(f, "%u %u\n", check_pass, check_fail);
            fclose(f);
        }
    }
    return check_fail ? 1 : 0;
}

#endif
