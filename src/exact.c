/*
 * exact.c - the exact-repeat fast path: a table from the 128-bit XXH3 hash of
 * a unit's normalized text to the id of the first unit with that text.
 *
 * Open addressing with linear probing. A slot holds 64 bits: the id (+1) and
 * a 32-bit tag, taken from hash bits that do not pick the slot. The keys live
 * in the caller's array, which a probe reads only when the tag matches, so
 * looking up a new text touches the table alone. A distinct text costs 8 bytes
 * a slot here, 11 to 21 bytes a text as the table fills from 37.5% to 75%.
 * Ids are given in order (0, 1, 2, ...), so the table doubles by reading the
 * keys in order rather than the old slots'. With 128-bit hashes a collision
 * between different texts is not a practical concern (2^-64 at 2^32 texts).
 *
 * One thread interns while others look up: a slot is published with a
 * release store after its key is in place, and read with an acquire load, so
 * a reader finds a text either complete or not yet. The table only grows in
 * pd_exact_reserve(), which the caller runs while nobody reads, and which
 * rebuilds the slots on several threads.
 */
#include "internal.h"

static uint64_t tag_of(pd_h128 k)
{
    return k.hi >> 32; /* the slot comes from k.lo */
}

static uint64_t slot_value(pd_h128 k, uint32_t id)
{
    return tag_of(k) << 32 | ((uint64_t)id + 1);
}

/* Does slot value s hold key k? */
static bool holds(uint64_t s, const pd_h128 *keys, pd_h128 k)
{
    const pd_h128 *key = &keys[(uint32_t)s - 1];
    return s >> 32 == tag_of(k) && key->lo == k.lo && key->hi == k.hi;
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
    size_t n = slots_for(expect, 1024);
    /* calloc: a small input touches few of these pages, and untouched ones
     * cost no memory (a table grown by pd_exact_reserve is written whole). */
    t->slots = calloc(n, sizeof *t->slots);
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

/* A rebuild of the table: ids [0, count) into the new slots s, in parts. */
typedef struct rebuild {
    _Atomic uint64_t *s;
    size_t mask, count, per_part;
    const pd_h128 *keys;
} rebuild;

enum { REBUILD_PART = 1 << 14 }; /* ids a job: many parts for the threads to share */

/* Insert the ids of one part. Parts run at once: a slot is claimed with a
 * compare-and-swap, so where a key lands depends on timing, but every key
 * lands in its probe run, and a lookup finds it whatever the order. */
static void rebuild_part(void *ctx, unsigned tid, size_t part)
{
    PD_UNUSED(tid);
    const rebuild *r = ctx;
    size_t from = part * r->per_part;
    size_t to = from + r->per_part < r->count ? from + r->per_part : r->count;
    enum { AHEAD = 16 }; /* slots fetched ahead of their insertion */
    for (size_t id = from; id < to; id++) {
        if (id + AHEAD < to)
            PD_PREFETCH((const void *)&r->s[(size_t)r->keys[id + AHEAD].lo & r->mask]);
        uint64_t v = slot_value(r->keys[id], (uint32_t)id);
        for (size_t h = (size_t)r->keys[id].lo & r->mask;; h = (h + 1) & r->mask) {
            uint64_t empty = 0;
            if (atomic_compare_exchange_strong_explicit(&r->s[h], &empty, v, memory_order_relaxed,
                                                        memory_order_relaxed))
                break;
        }
    }
}

pd_status pd_exact_reserve(pd_exact *t, const pd_h128 *keys, size_t more, pd_pool *pool,
                           unsigned threads)
{
    size_t n = slots_for(t->count + more, t->mask + 1);
    if (n == t->mask + 1)
        return PD_OK;
    _Atomic uint64_t *s = pd_calloc(n, sizeof *s);
    if (!s)
        return PD_ENOMEM;
    pd_prefault((void *)s, n * sizeof *s); /* every page gets written below */
    rebuild r = {s, n - 1, t->count, REBUILD_PART, keys};
    size_t parts = (t->count + REBUILD_PART - 1) / REBUILD_PART;
    pd_parallel_for(pool, threads, parts, rebuild_part, &r);
    free(t->slots);
    t->slots = s;
    t->mask = n - 1;
    return PD_OK;
}

void pd_exact_prefetch(const pd_exact *t, pd_h128 k)
{
    if (t->slots)
        PD_PREFETCH((const void *)&t->slots[(size_t)k.lo & t->mask]);
}

uint32_t pd_exact_find(const pd_exact *t, const pd_h128 *keys, pd_h128 k)
{
    if (!t->slots)
        return UINT32_MAX;
    for (size_t h = (size_t)k.lo & t->mask;; h = (h + 1) & t->mask) {
        uint64_t s = atomic_load_explicit(&t->slots[h], memory_order_acquire);
        if (!s)
            return UINT32_MAX;
        if (holds(s, keys, k))
            return (uint32_t)s - 1;
    }
}

pd_status pd_exact_intern(pd_exact *t, const pd_h128 *keys, pd_h128 k, uint32_t *found)
{
    PD_TRY(pd_exact_reserve(t, keys, 1, NULL, 1));
    size_t h = (size_t)k.lo & t->mask;
    for (;; h = (h + 1) & t->mask) {
        uint64_t s = atomic_load_explicit(&t->slots[h], memory_order_relaxed);
        if (!s)
            break;
        if (holds(s, keys, k)) {
            *found = (uint32_t)s - 1;
            return PD_OK;
        }
    }
    *found = (uint32_t)t->count++;
    atomic_store_explicit(&t->slots[h], slot_value(k, *found), memory_order_release);
    return PD_OK;
}
