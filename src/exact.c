/*
 * exact.c - the exact-repeat fast path: a table from the 128-bit XXH3 hash of
 * a unit's normalized text to the id of the first unit with that text.
 *
 * Open addressing with linear probing; slots hold only a 32-bit id (+1), the
 * keys live in the caller's array, so a distinct text costs 4 bytes per slot
 * here. Ids are given in order (0, 1, 2, ...), so the table doubles at 50%
 * load by reading the keys in order rather than the old slots'. With 128-bit
 * hashes a collision between different texts is not a practical concern
 * (2^-64 at 2^32 texts).
 *
 * One thread interns while others look up: a slot is published with a
 * release store after its key is in place, and read with an acquire load, so
 * a reader finds a text either complete or not yet. The table only grows in
 * pd_exact_reserve(), which the caller runs while nobody reads.
 */
#include "internal.h"

pd_status pd_exact_init(pd_exact *t, size_t expect)
{
    size_t n = 1024;
    while (n < expect * 2)
        n *= 2;
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

pd_status pd_exact_reserve(pd_exact *t, const pd_h128 *keys, size_t more)
{
    size_t n = t->mask + 1;
    while ((t->count + more) * 2 > n)
        n *= 2;
    if (n == t->mask + 1)
        return PD_OK;
    _Atomic uint32_t *s = calloc(n, sizeof *s);
    if (!s)
        return PD_ENOMEM;
    pd_prefault((void *)s, n * sizeof *s); /* every page gets written below */
    enum { AHEAD = 16 }; /* slots fetched ahead of their insertion */
    for (size_t id = 0; id < t->count; id++) {
        if (id + AHEAD < t->count)
            PD_PREFETCH((const void *)&s[(size_t)keys[id + AHEAD].lo & (n - 1)]);
        size_t h = (size_t)keys[id].lo & (n - 1);
        while (atomic_load_explicit(&s[h], memory_order_relaxed))
            h = (h + 1) & (n - 1);
        atomic_store_explicit(&s[h], (uint32_t)id + 1, memory_order_relaxed);
    }
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
        uint32_t s = atomic_load_explicit(&t->slots[h], memory_order_acquire);
        if (!s)
            return UINT32_MAX;
        if (keys[s - 1].lo == k.lo && keys[s - 1].hi == k.hi)
            return s - 1;
    }
}

pd_status pd_exact_intern(pd_exact *t, const pd_h128 *keys, pd_h128 k, uint32_t *found)
{
    PD_TRY(pd_exact_reserve(t, keys, 1));
    size_t h = (size_t)k.lo & t->mask;
    for (;; h = (h + 1) & t->mask) {
        uint32_t s = atomic_load_explicit(&t->slots[h], memory_order_relaxed);
        if (!s)
            break;
        if (keys[s - 1].lo == k.lo && keys[s - 1].hi == k.hi) {
            *found = s - 1;
            return PD_OK;
        }
    }
    *found = (uint32_t)t->count++;
    atomic_store_explicit(&t->slots[h], *found + 1, memory_order_release);
    return PD_OK;
}
