/*
 * exact.c - the exact-repeat fast path: a table from the 128-bit XXH3 hash of
 * a unit's normalized text to the id of the first unit with that text.
 *
 * Open addressing with linear probing. A slot of 16 bytes holds the key
 * itself, as 96 bits (hi, and lo folded to 32 bits), and the id: a lookup
 * reads one slot, never an array of keys elsewhere, so a text met again costs
 * one cache miss, not two. A distinct text costs 21 to 43 bytes as the table
 * fills from 37.5% to 75%. Two different texts share 96 bits with odds of
 * about 2^-33 at 2^32 texts.
 *
 * One thread interns while others look up: a slot's hi is written first and
 * its tag and id published after it with a release store, read with an
 * acquire load, so a reader finds a text either complete or not yet. The
 * table only grows in pd_exact_reserve(), which the caller runs while nobody
 * reads, and which zeroes the new slots and rebuilds them on several threads;
 * or into a second table (pd_exact_grow_into), on the calling thread, while
 * others still read the first.
 */
#include "internal.h"

/* The word a slot publishes: lo folded to 32 bits, and id + 1 (0 = empty). */
static uint64_t slot_word(pd_h128 k, uint32_t id)
{
    return (uint64_t)(uint32_t)(k.lo ^ k.lo >> 32) << 32 | ((uint64_t)id + 1);
}

static bool same_tag(uint64_t w, pd_h128 k)
{
    return (uint32_t)(w >> 32) == (uint32_t)(k.lo ^ k.lo >> 32);
}

/* Slots for `count` ids at most 75% full. */
static size_t slots_for(size_t count, size_t n)
{
    while (count * 4 > n * 3)
        n *= 2;
    return n;
}

pd_status pd_exact_init(pd_exact *t, size_t expect)
{
    size_t n = slots_for(expect, 64);
    /* A table under 512 KB comes from calloc(), whose untouched pages cost no
     * memory; a larger one is on huge pages (pd_calloc), where the lookups
     * of the first batches would otherwise each map a 4 KB page of zeros
     * (512 faults for 2 MB, at about 10 us each here). */
    t->slots = pd_calloc(n, sizeof *t->slots);
    t->mask = n - 1;
    t->count = 0;
    return t->slots ? PD_OK : PD_ENOMEM;
}

void pd_exact_release(pd_exact *t)
{
    free(t->slots);
    t->slots = NULL;
    t->mask = t->count = 0;
}

void pd_exact_clear(pd_exact *t)
{
    if (t->slots && t->count > 0)
        memset((void *)t->slots, 0, (t->mask + 1) * sizeof *t->slots);
    t->count = 0;
}

/* A rebuild of the table: the old slots `from` into the new ones, in parts. */
typedef struct rebuild {
    pd_exact_slot *s;
    size_t mask, per_part, old_n;
    const pd_exact_slot *from;
} rebuild;

enum { REBUILD_PART = 1 << 15 }; /* old slots a job: many parts for the threads to share */

/* Insert the keys of one part's old slots. Parts run at once: a slot is
 * claimed with a compare-and-swap of its word, so where a key lands depends
 * on timing, but every key lands in its probe run, and a lookup finds it
 * whatever the order. */
static void rebuild_part(void *ctx, unsigned tid, size_t part)
{
    PD_UNUSED(tid);
    const rebuild *r = ctx;
    size_t from = part * r->per_part;
    size_t to = from + r->per_part < r->old_n ? from + r->per_part : r->old_n;
    enum { AHEAD = 16 }; /* new slots fetched ahead of their insertion */
    for (size_t i = from; i < to; i++) {
        if (i + AHEAD < to)
            PD_PREFETCH(&r->s[(size_t)r->from[i + AHEAD].hi & r->mask]);
        uint64_t w = atomic_load_explicit(&r->from[i].word, memory_order_relaxed);
        if (!w)
            continue;
        for (size_t h = (size_t)r->from[i].hi & r->mask;; h = (h + 1) & r->mask) {
            uint64_t empty = 0;
            if (atomic_compare_exchange_strong_explicit(&r->s[h].word, &empty, w,
                                                        memory_order_relaxed,
                                                        memory_order_relaxed)) {
                r->s[h].hi = r->from[i].hi;
                break;
            }
        }
    }
}

/* Zero one part of the new slots (ZERO_PART bytes): the first touch of
 * fresh memory is the dear part of a rebuild, and it is shared out too. */
enum { ZERO_PART = 2 << 20 };

static void zero_part(void *ctx, unsigned tid, size_t part)
{
    PD_UNUSED(tid);
    const rebuild *r = ctx;
    size_t bytes = (r->mask + 1) * sizeof *r->s, off = part * ZERO_PART;
    size_t len = bytes - off < ZERO_PART ? bytes - off : ZERO_PART;
    pd_prefault((char *)r->s + off, len);
    memset((char *)r->s + off, 0, len);
}

bool pd_exact_fits(const pd_exact *t, size_t more)
{
    return slots_for(t->count + more, t->mask + 1) == t->mask + 1;
}

pd_status pd_exact_reserve(pd_exact *t, size_t more, pd_pool *pool, unsigned threads)
{
    size_t n = slots_for(t->count + more, t->mask + 1);
    if (n == t->mask + 1)
        return PD_OK;
    if (n > SIZE_MAX / sizeof(pd_exact_slot))
        return PD_ENOMEM;
    pd_exact_slot *s = pd_alloc(n * sizeof *s);
    if (!s)
        return PD_ENOMEM;
    rebuild r = {s, n - 1, REBUILD_PART, t->mask + 1, t->slots};
    size_t bytes = n * sizeof *s;
    pd_parallel_for(pool, threads, (bytes + ZERO_PART - 1) / ZERO_PART, zero_part, &r);
    size_t parts = (r.old_n + REBUILD_PART - 1) / REBUILD_PART;
    pd_parallel_for(pool, threads, parts, rebuild_part, &r);
    free(t->slots);
    t->slots = s;
    t->mask = n - 1;
    return PD_OK;
}

pd_status pd_exact_grow_into(pd_exact *to, const pd_exact *from, size_t more)
{
    size_t n = slots_for(from->count + more, from->mask + 1);
    if (n > SIZE_MAX / sizeof(pd_exact_slot))
        return PD_ENOMEM;
    pd_exact_slot *s = pd_calloc(n, sizeof *s);
    if (!s)
        return PD_ENOMEM;
    rebuild r = {s, n - 1, from->mask + 1, from->mask + 1, from->slots};
    rebuild_part(&r, 0, 0);
    to->slots = s;
    to->mask = n - 1;
    to->count = from->count;
    return PD_OK;
}

void pd_exact_prefetch(const pd_exact *t, pd_h128 k)
{
    if (t->slots)
        PD_PREFETCH(&t->slots[(size_t)k.hi & t->mask]);
}

uint32_t pd_exact_find(const pd_exact *t, pd_h128 k)
{
    if (!t->slots)
        return UINT32_MAX;
    for (size_t h = (size_t)k.hi & t->mask;; h = (h + 1) & t->mask) {
        uint64_t w = atomic_load_explicit(&t->slots[h].word, memory_order_acquire);
        if (!w)
            return UINT32_MAX;
        if (same_tag(w, k) && t->slots[h].hi == k.hi)
            return (uint32_t)w - 1;
    }
}

pd_status pd_exact_intern(pd_exact *t, pd_h128 k, uint32_t *found)
{
    PD_TRY(pd_exact_reserve(t, 1, NULL, 1));
    size_t h = (size_t)k.hi & t->mask;
    for (;; h = (h + 1) & t->mask) {
        uint64_t w = atomic_load_explicit(&t->slots[h].word, memory_order_relaxed);
        if (!w)
            break;
        if (same_tag(w, k) && t->slots[h].hi == k.hi) {
            *found = (uint32_t)w - 1;
            return PD_OK;
        }
    }
    *found = (uint32_t)t->count++;
    t->slots[h].hi = k.hi;
    atomic_store_explicit(&t->slots[h].word, slot_word(k, *found), memory_order_release);
    return PD_OK;
}
