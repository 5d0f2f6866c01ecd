/* memsrc.h - a pd_source over strings in memory, for the unit tests. */
#ifndef PD_MEMSRC_H
#define PD_MEMSRC_H

#include "paradup.h"

#include <stdbool.h>
#include <string.h>

typedef struct memsrc {
    const char **names;
    const char **texts;
    size_t *lens; /* NULL: strlen, computed once by mem_source() */
    int maps, unmaps;
    int mapped, max_mapped; /* documents mapped at once: now, and the most */
    size_t len_cache[16];
    /* release() calls, and the most bytes one of them let go */
    size_t releases, released, max_release;
    bool known; /* give the source a length(): small documents are mapped late */
    bool ranged; /* give the source read_ranges(), which counts the ranges */
    size_t ranges_read;
} memsrc;

static const char *mem_name(void *ctx, uint32_t doc)
{
    return ((memsrc *)ctx)->names[doc];
}

static size_t mem_len(memsrc *m, uint32_t doc)
{
    return m->lens ? m->lens[doc] : m->len_cache[doc];
}

static pd_status mem_map(void *ctx, uint32_t doc, const char **data, size_t *len)
{
    memsrc *m = ctx;
    if (!m->texts[doc])
        return PD_EIO;
    __atomic_fetch_add(&m->maps, 1, __ATOMIC_RELAXED); /* map() runs on several threads */
    int now = __atomic_add_fetch(&m->mapped, 1, __ATOMIC_RELAXED);
    int most = __atomic_load_n(&m->max_mapped, __ATOMIC_RELAXED);
    while (now > most && !__atomic_compare_exchange_n(&m->max_mapped, &most, now, false,
                                                      __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        ;
    *data = m->texts[doc];
    *len = mem_len(m, doc);
    return PD_OK;
}

static void mem_unmap(void *ctx, uint32_t doc, const char *data, size_t len)
{
    (void)doc, (void)data, (void)len;
    __atomic_fetch_add(&((memsrc *)ctx)->unmaps, 1, __ATOMIC_RELAXED);
    __atomic_fetch_sub(&((memsrc *)ctx)->mapped, 1, __ATOMIC_RELAXED);
}

static pd_status mem_read(void *ctx, uint32_t doc, uint64_t off, size_t len, char *buf)
{
    memsrc *m = ctx;
    if (off + len > mem_len(m, doc))
        return PD_EIO;
    memcpy(buf, m->texts[doc] + off, len);
    return PD_OK;
}

static pd_status mem_read_ranges(void *ctx, const pd_range *r, size_t n, size_t *failed)
{
    memsrc *m = ctx;
    __atomic_fetch_add(&m->ranges_read, n, __ATOMIC_RELAXED);
    for (size_t i = 0; i < n; i++)
        if (mem_read(ctx, r[i].doc, r[i].off, r[i].len, r[i].dst) != PD_OK) {
            *failed = i;
            return PD_EIO;
        }
    return PD_OK;
}

/* The scanner calls release() from the thread that runs it. */
static void mem_release(void *ctx, uint32_t doc, const char *data, size_t upto)
{
    (void)doc, (void)data;
    memsrc *m = ctx;
    m->releases++;
    if (upto - m->released > m->max_release)
        m->max_release = upto - m->released;
    m->released = upto;
}

/* An unreadable document's length is known too (its map() fails). */
static uint64_t mem_length(void *ctx, uint32_t doc)
{
    return mem_len(ctx, doc);
}

static pd_source mem_source(memsrc *m, uint32_t n)
{
    for (uint32_t i = 0; i < n && i < 16 && !m->lens; i++)
        m->len_cache[i] = m->texts[i] ? strlen(m->texts[i]) : 0;
    return (pd_source){m,           n,
                       mem_name,    mem_map,
                       mem_unmap,   mem_read,
                       NULL,        mem_release,
                       m->ranged ? mem_read_ranges : NULL, m->known ? mem_length : NULL};
}

#endif
