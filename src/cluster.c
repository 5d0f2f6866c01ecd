/*
 * cluster.c - from exact repeats and verified pairs to clusters and rows.
 *
 * Units with the same normalized text already share a text id (scan.c).
 * Verified near pairs join text ids with union-find (path halving, the
 * smaller id as root, so a root is always the earliest text of its set).
 * A cluster is a set with two or more units; clusters are numbered in order
 * of their first unit, and rows come out ordered by cluster, then input
 * order. The first unit is the keep row; every other member is `exact` when
 * its normalized text equals the keep row's, else `near`, with its
 * similarity measured against the keep row itself. Chains (A~B, B~C) can put
 * a member in a cluster below the threshold to its keep row; the similarity
 * column then shows that honestly.
 *
 * Text ids are given in input order, so the root text of a set is also the
 * text of its earliest unit: the keep row's. Each text's similarity to its
 * root is measured before the rows are placed, and verification's profiles
 * are let go then, not held next to the rows.
 */
#include "internal.h"

static uint32_t find(uint32_t *parent, uint32_t x)
{
    while (parent[x] != x) {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    return x;
}

static void unite(uint32_t *parent, uint32_t a, uint32_t b)
{
    a = find(parent, a);
    b = find(parent, b);
    if (a < b)
        parent[b] = a;
    else if (b < a)
        parent[a] = b;
}

/* Rows are placed by a counting sort over parts of the units, in parallel:
 * each part counts its units per root text, then places them after the
 * parts before it, so a cluster's rows stay in input order. */
enum { MAX_PARTS = 4, PART_MIN = 1 << 16 };

typedef struct placing {
    pd_scan *sc;
    const uint32_t *parent; /* each text's root text; NULL: each its own */
    size_t parts;
    /* per part and root text: units, then the next row, or NO_ROW for a
     * text whose units make no cluster */
    uint32_t *count[MAX_PARTS];
    uint32_t *end; /* see number_clusters() */
    /* per part of the texts: the clusters and rows of the parts before it */
    uint32_t clusters_before[MAX_PARTS + 1], rows_before[MAX_PARTS + 1];
} placing;

#define NO_ROW UINT32_MAX

/* Part k of `parts` of [0, n): [*from, *to). */
static void share(size_t n, size_t parts, size_t k, size_t *from, size_t *to)
{
    *from = n / parts * k;
    *to = k + 1 == parts ? n : n / parts * (k + 1);
}

static void part_range(const placing *pl, size_t k, size_t *from, size_t *to)
{
    share(pl->sc->n_units, pl->parts, k, from, to);
}

/* Unit u's root text: looked up where it is needed, in each part, rather
 * than kept for every unit. */
static uint32_t root_of(const placing *pl, size_t u)
{
    uint32_t t = pl->sc->text[u];
    return pl->parent ? pl->parent[t] : t;
}

static void count_part(void *ctx, unsigned tid, size_t k)
{
    PD_UNUSED(tid);
    placing *pl = ctx;
    size_t from, to;
    part_range(pl, k, &from, &to);
    memset(pl->count[k], 0, pl->sc->n_texts * sizeof *pl->count[k]); /* here, on its thread */
    for (size_t u = from; u < to; u++)
        pl->count[k][root_of(pl, u)]++;
}

static void place_part(void *ctx, unsigned tid, size_t k)
{
    PD_UNUSED(tid);
    placing *pl = ctx;
    size_t from, to, r0, r1;
    part_range(pl, k, &from, &to);
    /* The rows' pages, this part's share of them, mapped at once: the
     * members of a cluster lie anywhere in the input, so every part writes
     * all over the rows. */
    share(pl->sc->n_report, pl->parts, k, &r0, &r1);
    pd_prefault(pl->sc->report + r0, (r1 - r0) * sizeof *pl->sc->report);
    uint32_t *next = pl->count[k];
    for (size_t u = from; u < to; u++) {
        uint32_t x = root_of(pl, u);
        if (next[x] != NO_ROW)
            pl->sc->report[next[x]++].unit = (uint32_t)u; /* its cluster: describe_rows() */
    }
}

/* Clusters are numbered over the same number of parts of the texts, in
 * parallel, in two passes: each part sums its clusters and rows
 * (sum_texts), and then numbers them after those of the parts before it
 * (number_texts). */
static void text_range(const placing *pl, size_t k, size_t *from, size_t *to)
{
    share(pl->sc->n_texts, pl->parts, k, from, to);
}

static uint32_t text_units(const placing *pl, size_t x)
{
    uint32_t units = 0;
    for (size_t k = 0; k < pl->parts; k++)
        units += pl->count[k][x];
    return units;
}

static void sum_texts(void *ctx, unsigned tid, size_t k)
{
    PD_UNUSED(tid);
    placing *pl = ctx;
    size_t from, to;
    text_range(pl, k, &from, &to);
    uint32_t clusters = 0, rows = 0;
    for (size_t x = from; x < to; x++) {
        uint32_t units = text_units(pl, x);
        clusters += units >= 2;
        rows += units >= 2 ? units : 0;
    }
    pl->clusters_before[k + 1] = clusters; /* made a sum by number_clusters() */
    pl->rows_before[k + 1] = rows;
}

/* Each part's count of a root text becomes the row where the part's first
 * unit of it goes, and each cluster's end is noted. */
static void number_texts(void *ctx, unsigned tid, size_t k)
{
    PD_UNUSED(tid);
    placing *pl = ctx;
    size_t from, to;
    text_range(pl, k, &from, &to);
    uint32_t clusters = pl->clusters_before[k], rows = pl->rows_before[k];
    for (size_t x = from; x < to; x++) {
        uint32_t units = text_units(pl, x);
        for (size_t j = 0; j < pl->parts; j++) {
            uint32_t n = pl->count[j][x];
            pl->count[j][x] = units >= 2 ? rows : NO_ROW;
            rows += units >= 2 ? n : 0;
        }
        if (units >= 2)
            pl->end[++clusters] = rows;
    }
}

/* Number the clusters: in order of their root texts, which is the order of
 * their first units (see the top). *ends is left with the row after each
 * cluster's last, by cluster number: cluster c's rows are [ends[c - 1],
 * ends[c]), with ends[0] = 0. */
static pd_status number_clusters(placing *pl, uint32_t **ends)
{
    pd_scan *sc = pl->sc;
    if (!(*ends = pl->end = pd_alloc((sc->n_texts + 1) * sizeof *pl->end)))
        return PD_ENOMEM;
    pl->end[0] = 0;
    pd_parallel_for(sc->pool, (unsigned)pl->parts, pl->parts, sum_texts, pl);
    for (size_t k = 1; k <= pl->parts; k++) {
        pl->clusters_before[k] += pl->clusters_before[k - 1];
        pl->rows_before[k] += pl->rows_before[k - 1];
    }
    pd_parallel_for(sc->pool, (unsigned)pl->parts, pl->parts, number_texts, pl);
    uint32_t clusters = pl->clusters_before[pl->parts], rows = pl->rows_before[pl->parts];
    sc->n_report = rows;
    sc->stats.clusters = clusters;
    sc->stats.duplicates = rows - clusters;
    return PD_OK;
}

/* Number the clusters and place each member's row; parent[t] is text t's
 * root text (NULL: each text is its own). */
static pd_status place_rows(pd_scan *sc, const uint32_t *parent, uint32_t **ends)
{
    placing pl = {sc, parent, 1, {NULL}, NULL, {0}, {0}};
    while (pl.parts < MAX_PARTS && pl.parts < sc->threads &&
           sc->n_units / (pl.parts + 1) >= PART_MIN)
        pl.parts++;
    pd_status st = PD_ENOMEM;
    for (size_t k = 0; k < pl.parts; k++) /* zeroed by count_part() */
        if (!(pl.count[k] = pd_alloc((sc->n_texts + 1) * sizeof *pl.count[k])))
            goto done;
    pd_parallel_for(sc->pool, (unsigned)pl.parts, pl.parts, count_part, &pl);
    if ((st = number_clusters(&pl, ends)) != PD_OK)
        goto done;
    st = PD_ENOMEM;
    if (!(sc->report = pd_alloc((sc->n_report + 1) * sizeof *sc->report)))
        goto done;
    pd_parallel_for(sc->pool, (unsigned)pl.parts, pl.parts, place_part, &pl);
    st = PD_OK;
done:
    for (size_t k = 0; k < pl.parts; k++)
        free(pl.count[k]);
    return st;
}

/* Rows are described ROW_BLOCK at a time, in parallel: a row needs only
 * its cluster (from the cluster ends), the cluster's first row and the row
 * before it. What the report needs of the row's unit before reading its text
 * is copied too, while its record is in the cache: the rows' units are
 * scattered. */
enum { ROW_BLOCK = 1 << 14 };

typedef struct describe {
    pd_scan *sc;
    const uint32_t *ends;
    const float *sim; /* each text's similarity to its root (NULL: no near pairs) */
} describe;

/* Fill role, match, similarity and scope of a block of rows. */
static void describe_rows(void *ctx, unsigned tid, size_t blk)
{
    PD_UNUSED(tid);
    const describe *d = ctx;
    pd_scan *sc = d->sc;
    enum { AHEAD = 16 }; /* rows whose unit is fetched ahead: they are scattered */
    size_t end = (blk + 1) * ROW_BLOCK < sc->n_report ? (blk + 1) * ROW_BLOCK : sc->n_report;
    /* The block's first cluster: the first whose rows end after its first row. */
    uint32_t lo = 1, hi = (uint32_t)sc->stats.clusters;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (d->ends[mid] <= blk * ROW_BLOCK)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = blk * ROW_BLOCK, c = lo; i < end; i++) {
        if (i + AHEAD < end) {
            PD_PREFETCH(&sc->units[sc->report[i + AHEAD].unit]);
            PD_PREFETCH(&sc->text[sc->report[i + AHEAD].unit]);
        }
        pd_rrow *row = &sc->report[i];
        if (i == d->ends[c])
            c++;
        row->cluster = (uint32_t)c;
        uint32_t tu = sc->text[row->unit];
        row->len = sc->units[row->unit].len;
        row->same_bytes = sc->as_first[row->unit / 64] >> (row->unit % 64) & 1 ? tu : UINT32_MAX;
        size_t first = d->ends[c - 1];
        if (i == first) {
            row->role = PD_KEEP;
            row->match = PD_MATCH_NONE;
            row->scope = PD_SCOPE_NONE;
            row->sim = 0;
            continue;
        }
        uint32_t tk = sc->text[sc->report[first].unit];
        row->role = PD_DUPLICATE;
        row->match = tk == tu ? PD_MATCH_EXACT : PD_MATCH_NEAR;
        row->sim = tk == tu ? 1.0f : d->sim[tu]; /* tk is tu's root (see the top) */
        /* Members of one document are adjacent: units are in input order. */
        row->scope = sc->units[sc->report[i - 1].unit].doc == sc->units[row->unit].doc
                         ? PD_SCOPE_WITHIN
                         : PD_SCOPE_ACROSS;
    }
}

/* Each text's root text (union-find over the verified pairs), or NULL when
 * there are no near pairs: then each text is its own. */
static pd_status text_roots(pd_scan *sc, uint32_t **parent)
{
    *parent = NULL;
    if (sc->n_near == 0)
        return PD_OK;
    uint32_t *p = pd_alloc((sc->n_texts + 1) * sizeof *p);
    if (!p)
        return PD_ENOMEM;
    pd_prefault(p, sc->n_texts * sizeof *p); /* all written below */
    for (uint32_t i = 0; i < sc->n_texts; i++)
        p[i] = i;
    for (size_t i = 0; i < sc->n_near; i++)
        unite(p, (uint32_t)(sc->near_pairs[i] >> 32), (uint32_t)sc->near_pairs[i]);
    for (uint32_t i = 0; i < sc->n_texts; i++)
        p[i] = find(p, i);
    *parent = p;
    return PD_OK;
}

/* The verified similarity of texts ta < tb, looked up among the near pairs;
 * -1 when they were not a pair. */
static float near_similarity(const pd_scan *sc, uint32_t ta, uint32_t tb)
{
    uint64_t key = (uint64_t)ta << 32 | tb;
    size_t lo = 0, hi = sc->n_near;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (sc->near_pairs[mid] < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < sc->n_near && sc->near_pairs[lo] == key ? sc->near_sim[lo] : -1.0f;
}

/* Texts are measured TEXT_BLOCK at a time, in parallel: their lookups are
 * scattered. */
enum { TEXT_BLOCK = 1 << 14 };

typedef struct roots {
    pd_scan *sc;
    const uint32_t *parent;
    float *sim; /* per text */
} roots;

/* Each text's similarity to its root text where the two were a verified
 * pair, for a block of texts; else -1. */
static void pair_sim_job(void *ctx, unsigned tid, size_t blk)
{
    PD_UNUSED(tid);
    roots *r = ctx;
    size_t n = r->sc->n_texts, end = (blk + 1) * TEXT_BLOCK < n ? (blk + 1) * TEXT_BLOCK : n;
    for (size_t x = blk * TEXT_BLOCK; x < end; x++)
        r->sim[x] = r->parent[x] == x ? 1.0f : near_similarity(r->sc, r->parent[x], (uint32_t)x);
}

/* Each text's similarity to its root text, from the text roots: as verified
 * when the two were a pair, else measured. */
static pd_status text_sims(pd_scan *sc, const uint32_t *parent, float **sim)
{
    roots job = {sc, parent, pd_alloc((sc->n_texts + 1) * sizeof *job.sim)};
    if (!(*sim = job.sim))
        return PD_ENOMEM;
    pd_parallel_for(sc->pool, sc->n_texts < TEXT_BLOCK ? 1 : sc->threads,
                    (sc->n_texts + TEXT_BLOCK - 1) / TEXT_BLOCK, pair_sim_job, &job);
    return pd_chain_similarities(sc, parent, job.sim);
}

pd_status pd_cluster_run(pd_scan *sc)
{
    uint32_t *parent = NULL, *ends = NULL;
    float *sim = NULL;
    pd_status st = text_roots(sc, &parent);
    if (st == PD_OK && parent)
        st = text_sims(sc, parent, &sim);
    pd_verify_release(sc); /* the profiles served the similarities only */
    if (st != PD_OK || (st = place_rows(sc, parent, &ends)) != PD_OK)
        goto done;
    describe d = {sc, ends, sim};
    pd_parallel_for(sc->pool, sc->n_report < ROW_BLOCK ? 1 : sc->threads,
                    (sc->n_report + ROW_BLOCK - 1) / ROW_BLOCK, describe_rows, &d);
done:
    if (st != PD_OK && !sc->err[0]) /* a failed read of the profiles has said so */
        pd_scan_fail(sc, "out of memory while clustering");
    free(parent);
    free(sim);
    free(ends);
    return st;
}

size_t pd_scan_row_count(const pd_scan *sc)
{
    return sc->n_report;
}

static void fill_unit(const pd_scan *sc, uint32_t u, pd_unit *out, uint32_t *doc)
{
    const pd_urec *r = &sc->units[u];
    *out = (pd_unit){r->index, r->line_start, pd_urec_line_end(sc, u), r->byte_start,
                     r->byte_start + r->len};
    *doc = r->doc;
}

void pd_scan_row(const pd_scan *sc, size_t i, pd_row *row)
{
    const pd_rrow *r = &sc->report[i];
    row->cluster = r->cluster;
    fill_unit(sc, r->unit, &row->unit, &row->doc);
    row->role = (pd_role)r->role;
    row->match = (pd_match)r->match;
    row->similarity = r->sim;
    row->scope = (pd_scope)r->scope;
}

/* The pair list: each repeat with the first unit of its text, and each
 * verified near pair by the first units of its two texts. */
static pd_status build_pairs(pd_scan *sc)
{
    size_t n = sc->n_near, cap = 0;
    for (size_t u = 0; u < sc->n_units; u++)
        n += sc->first[sc->text[u]] != u;
    PD_TRY(PD_GROW(sc->pairs, cap, n + 1));
    size_t k = 0;
    for (size_t i = 0; i < sc->n_near; i++)
        sc->pairs[k++] = (uint64_t)sc->first[sc->near_pairs[i] >> 32] << 32 |
                         sc->first[(uint32_t)sc->near_pairs[i]];
    for (size_t u = 0; u < sc->n_units; u++)
        if (sc->first[sc->text[u]] != u)
            sc->pairs[k++] = (uint64_t)sc->first[sc->text[u]] << 32 | u;
    uint64_t *tmp = pd_alloc((n + 1) * sizeof *tmp);
    if (!tmp)
        return PD_ENOMEM;
    pd_sort_u64(sc->pairs, n, tmp);
    free(tmp);
    sc->n_pairs = n;
    sc->pairs_built = true;
    return PD_OK;
}

size_t pd_scan_pair_count(pd_scan *sc)
{
    if (!sc->pairs_built && build_pairs(sc) != PD_OK)
        return 0;
    return sc->n_pairs;
}

void pd_scan_pair(const pd_scan *sc, size_t i, pd_pair *p)
{
    uint32_t a = (uint32_t)(sc->pairs[i] >> 32), b = (uint32_t)sc->pairs[i];
    fill_unit(sc, a, &p->a, &p->doc_a);
    fill_unit(sc, b, &p->b, &p->doc_b);
    uint32_t ta = sc->text[a], tb = sc->text[b];
    p->match = ta == tb ? PD_MATCH_EXACT : PD_MATCH_NEAR;
    float sim = ta == tb ? 1.0f : near_similarity(sc, ta, tb);
    p->similarity = sim < 0 ? 0.0 : sim;
    p->scope = p->doc_a == p->doc_b ? PD_SCOPE_WITHIN : PD_SCOPE_ACROSS;
}
