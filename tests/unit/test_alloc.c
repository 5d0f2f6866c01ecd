/* test_alloc.c - pd_alloc, pd_calloc, pd_grow and pd_regrow: large arrays
 * start on a 2 MB boundary (their own huge pages) and small ones come from
 * malloc; pd_calloc zeroes; pd_grow keeps every element across growth, from
 * the heap onto huge pages and from one huge block to the next; pd_regrow
 * gives room without keeping contents; all are released with free().
 * pd_lanes_grow keeps the entries in use of arrays that share one block,
 * each on a cache line of its own; a block that grows a second time goes
 * to huge pages, and fills them with room. */
#include "check.h"
#include "internal.h"

enum { MB = 1 << 20, HUGE = 2 << 20 };

static bool aligned(const void *p)
{
    return ((uintptr_t)p & (HUGE - 1)) == 0;
}

static void test_alloc(void)
{
    char *small = pd_alloc(1000), *large = pd_alloc(3 * MB + 5);
    CHECK(small && large && aligned(large));
    memset(small, 1, 1000);
    memset(large, 2, 3 * MB + 5); /* every byte asked for is usable */
    CHECK(large[3 * MB + 4] == 2);
    free(small);
    free(large);

    uint32_t *z = pd_calloc(MB, sizeof *z); /* 4 MB, zeroed, aligned */
    CHECK(z && aligned(z));
    size_t nonzero = 0;
    for (size_t i = 0; z && i < MB; i++)
        nonzero += z[i] != 0;
    CHECK(nonzero == 0);
    free(z);
    CHECK(pd_calloc(SIZE_MAX / 2, 4) == NULL); /* n * size overflows */
}

/* Grow one element at a time past the heap's sizes and several huge
 * blocks, writing each element as it is added: all are there at the end. */
static void test_grow(void)
{
    uint64_t *v = NULL;
    size_t cap = 0, moves = 0, n = 3 * MB; /* 24 MB of elements */
    uint64_t *last = NULL;
    bool ok = true, large_aligned = true;
    for (size_t i = 0; i < n && ok; i++) {
        if (PD_GROW(v, cap, i + 1) != PD_OK) {
            ok = false;
            break;
        }
        if (v != last) {
            moves++;
            last = v;
            if (cap * sizeof *v >= MB && !aligned(v))
                large_aligned = false;
        }
        v[i] = i * 0x9E3779B97F4A7C15u;
    }
    CHECK(ok && cap >= n);
    CHECK(large_aligned);
    size_t wrong = 0;
    for (size_t i = 0; ok && i < n; i++)
        wrong += v[i] != i * 0x9E3779B97F4A7C15u;
    CHECK(wrong == 0);
    CHECK(moves > 3 && moves < 40); /* doubling, then fourfold */
    free(v);

    /* A byte buffer (pd_buf) crossing the huge-page size keeps its bytes. */
    pd_buf b;
    pd_buf_init(&b);
    bool grown = true;
    for (int i = 0; i < 5000 && grown; i++) {
        grown = pd_buf_reserve(&b, b.len + 1000) == PD_OK;
        if (grown) {
            memset(b.data + b.len, 'a' + i % 26, 1000);
            b.len += 1000;
        }
    }
    CHECK(grown && b.len == 5000000);
    size_t bad = 0;
    for (size_t i = 0; i < b.len; i++)
        bad += b.data[i] != 'a' + (int)(i / 1000 % 26);
    CHECK(bad == 0 && aligned(b.data));
    pd_buf_release(&b);
}

static void test_regrow(void)
{
    uint32_t *s = NULL;
    size_t cap = 0;
    CHECK(PD_REGROW(s, cap, 100) == PD_OK && cap >= 100);
    uint32_t *first = s;
    CHECK(PD_REGROW(s, cap, 50) == PD_OK && s == first); /* room enough: untouched */
    CHECK(PD_REGROW(s, cap, 2 * MB) == PD_OK && cap >= 2 * MB && aligned(s));
    memset(s, 0xAB, 2 * MB * sizeof *s); /* all of the new room is usable */
    CHECK(PD_REGROW(s, cap, 5 * MB) == PD_OK && cap >= 5 * MB && aligned(s));
    s[5 * MB - 1] = 7;
    CHECK(s[5 * MB - 1] == 7);
    free(s);
}

static size_t lane_bytes(size_t cap, size_t size)
{
    return (cap * size + 63) / 64 * 64;
}

/* Three arrays of different entry sizes (one empty) grown together one
 * entry at a time past the huge-page size: every entry written is kept,
 * each array starts on a cache line and none overlaps the next, and every
 * block after the first is on huge pages with as many entries as its whole
 * pages hold. */
static void test_lanes(void)
{
    uint64_t *a = NULL;
    uint32_t *b = NULL;
    char *none = NULL;
    pd_lanes l = {3, {(void **)&a, (void **)&b, (void **)&none}, {8, 4, 0}, 100, 0, NULL};
    size_t n = 200000, growths = 0; /* 2.4 MB of entries */
    bool ok = true, laid_out = true, filled = true;
    for (size_t i = 0; i < n && ok; i++) {
        size_t cap = l.cap;
        if ((ok = pd_lanes_grow(&l, i + 1, i) == PD_OK) && l.cap != cap) {
            growths++;
            laid_out &= (uintptr_t)a % 64 == 0 && (uintptr_t)b % 64 == 0 &&
                        (char *)b >= (char *)(a + l.cap) && l.cap >= i + 1;
            /* from the second block on, whole huge pages, filled to within
             * the arrays' padding */
            size_t bytes = lane_bytes(l.cap, 8) + lane_bytes(l.cap, 4);
            if (growths > 1)
                filled &= aligned(l.block) && bytes >= MB &&
                           (bytes + HUGE - 1) / HUGE * HUGE - bytes < 3 * 64 + 12;
        }
        if (ok) {
            a[i] = i * 0x9E3779B97F4A7C15u;
            b[i] = (uint32_t)i ^ 0x5bd1e995u;
        }
    }
    CHECK(ok && l.cap >= n && growths >= 3);
    CHECK(laid_out);
    CHECK(filled);
    size_t wrong = 0;
    for (size_t i = 0; ok && i < n; i++)
        wrong += a[i] != i * 0x9E3779B97F4A7C15u || b[i] != ((uint32_t)i ^ 0x5bd1e995u);
    CHECK(wrong == 0);
    pd_lanes_free(&l);
    CHECK(!a && !b && !l.block && l.cap == 0);

    /* Entries of 64 bytes filling 2 MB exactly, with no room for padding:
     * the block still has room for every entry asked for. */
    uint64_t *w = NULL;
    pd_lanes one = {1, {(void **)&w}, {64}, 16, 0, NULL};
    size_t need = HUGE / 64;
    bool room = pd_lanes_grow(&one, 100, 0) == PD_OK && pd_lanes_grow(&one, need, 0) == PD_OK;
    CHECK(room && one.cap >= need);
    if (room)
        memset(w, 7, need * 64); /* every byte asked for is usable (ASan) */
    pd_lanes_free(&one);
}

int main(void)
{
    test_alloc();
    test_grow();
    test_regrow();
    test_lanes();
    return check_done("test_alloc");
}
