/*
 * accuracy.c - paradup's near-duplicate pairs against a brute-force reference.
 *
 *   accuracy PATH [THRESHOLD [SHINGLE]]
 *
 * The reference segments the same input into lines, normalizes and shingles
 * each distinct normalized text with the library's own functions, and
 * computes the exact Jaccard similarity of every pair of distinct texts that
 * share at least one shingle (an inverted index, no sampling). paradup's scan
 * runs in the same process with default options (SHINGLE: the default for lines). Pairs are counted between
 * distinct normalized texts: identical lines are trivially found and would
 * swamp the figures. Printed: precision and recall at the threshold, recall
 * per Jaccard band, and the empirical LSH candidate rate per Jaccard bucket
 * next to the S-curve 1-(1-s^r)^b.
 */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <time.h>
#include <xxhash.h>

typedef struct text {
    uint64_t *sh;
    uint32_t n;
} text;

static text *texts;
static size_t n_texts, cap_texts;
static pd_exact table;
static uint32_t **doc_units; /* doc_units[doc][unit index] = text id + 1, 0 if none */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static uint32_t intern(const pd_buf *norm, unsigned k)
{
    XXH128_hash_t h = XXH3_128bits(norm->data, norm->len);
    pd_h128 key = {h.low64, h.high64};
    uint32_t id;
    pd_exact_intern(&table, key, &id);
    if (id < n_texts)
        return id;
    PD_GROW(texts, cap_texts, n_texts + 1);
    size_t n = pd_shingles(norm->data, norm->len, k, NULL, 0);
    uint64_t *sh = malloc((n + 1) * sizeof *sh);
    pd_shingles(norm->data, norm->len, k, sh, n);
    qsort(sh, n, sizeof *sh, cmp_u64);
    size_t u = 0;
    for (size_t i = 0; i < n; i++)
        if (u == 0 || sh[i] != sh[u - 1])
            sh[u++] = sh[i];
    texts[id] = (text){sh, (uint32_t)u};
    n_texts++;
    return id;
}

static void read_corpus(const pd_source *src, unsigned k)
{
    pd_buf norm;
    pd_buf_init(&norm);
    pd_exact_init(&table, 1 << 16);
    doc_units = calloc(src->n_docs, sizeof *doc_units);
    for (uint32_t d = 0; d < src->n_docs; d++) {
        const char *data;
        size_t len;
        if (src->map(src->ctx, d, &data, &len) != PD_OK)
            continue;
        pd_segmenter s;
        pd_unit u;
        size_t cap = 0;
        pd_segment_init(&s, data, len, PD_UNIT_LINE);
        while (pd_segment_next(&s, &u)) {
            pd_normalize(data + u.byte_start, (size_t)(u.byte_end - u.byte_start), PD_NORM_DEFAULT,
                         &norm, NULL);
            PD_GROW(doc_units[d], cap, u.index + 1);
            doc_units[d][u.index] = norm.len ? intern(&norm, k) + 1 : 0;
        }
        src->unmap(src->ctx, d, data, len);
    }
    pd_buf_release(&norm);
}

typedef struct rpair {
    uint32_t a, b;
    float j;
} rpair;

/* Every pair of distinct texts sharing a shingle with Jaccard >= floor. */
static rpair *reference(double floor, size_t *count)
{
    size_t total = 0;
    for (size_t t = 0; t < n_texts; t++)
        total += texts[t].n;
    uint64_t *post = malloc(total * sizeof *post), *tmp = malloc(total * sizeof *tmp);
    /* (shingle, text) sorted: shingle's high 40 bits, text id's low 24 bits
     * would not fit; so sort (shingle) with a parallel index instead. */
    size_t k = 0;
    for (size_t t = 0; t < n_texts; t++)
        for (uint32_t i = 0; i < texts[t].n; i++)
            post[k++] = texts[t].sh[i];
    pd_sort_u64(post, total, tmp);
    size_t n_sh = 0;
    for (size_t i = 0; i < total; i++)
        if (n_sh == 0 || post[i] != post[n_sh - 1])
            post[n_sh++] = post[i];
    /* Posting lists: for each distinct shingle, the texts that have it. */
    uint32_t *start = calloc(n_sh + 1, sizeof *start), *list = malloc(total * sizeof *list);
    for (size_t t = 0; t < n_texts; t++)
        for (uint32_t i = 0; i < texts[t].n; i++) {
            uint64_t *p = bsearch(&texts[t].sh[i], post, n_sh, sizeof *post, cmp_u64);
            texts[t].sh[i] = (uint64_t)(p - post); /* replace by shingle index */
            start[p - post + 1]++;
        }
    for (size_t i = 0; i < n_sh; i++)
        start[i + 1] += start[i];
    uint32_t *fill = malloc((n_sh + 1) * sizeof *fill);
    memcpy(fill, start, (n_sh + 1) * sizeof *fill);
    for (size_t t = 0; t < n_texts; t++)
        for (uint32_t i = 0; i < texts[t].n; i++)
            list[fill[texts[t].sh[i]]++] = (uint32_t)t;
    uint32_t *cnt = calloc(n_texts, sizeof *cnt), *touched = malloc(n_texts * sizeof *touched);
    rpair *out = NULL;
    size_t n_out = 0, cap_out = 0;
    for (uint32_t a = 0; a < n_texts; a++) {
        size_t nt = 0;
        for (uint32_t i = 0; i < texts[a].n; i++) {
            uint64_t s = texts[a].sh[i];
            for (uint32_t p = start[s]; p < start[s + 1]; p++) {
                uint32_t b = list[p];
                if (b <= a)
                    continue;
                if (cnt[b]++ == 0)
                    touched[nt++] = b;
            }
        }
        for (size_t i = 0; i < nt; i++) {
            uint32_t b = touched[i];
            double j = (double)cnt[b] / (double)(texts[a].n + texts[b].n - cnt[b]);
            cnt[b] = 0;
            if (j >= floor) {
                PD_GROW(out, cap_out, n_out + 1);
                out[n_out++] = (rpair){a, b, (float)j};
            }
        }
    }
    free(post); free(tmp); free(start); free(list); free(fill); free(cnt); free(touched);
    *count = n_out;
    return out;
}

static int cmp_pair(const void *x, const void *y)
{
    const rpair *p = x, *q = y;
    uint64_t a = (uint64_t)p->a << 32 | p->b, b = (uint64_t)q->a << 32 | q->b;
    return (a > b) - (a < b);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: accuracy PATH [THRESHOLD [SHINGLE]]\n");
        return 2;
    }
    double t = argc > 2 ? atof(argv[2]) : 0.8;
    unsigned k = argc > 3 ? (unsigned)atoi(argv[3]) : pd_shingle_default(PD_UNIT_LINE);
    pd_files *fs;
    pd_files_new(NULL, NULL, NULL, &fs);
    pd_files_add(fs, argv[1]);
    pd_source src = pd_files_source(fs);

    pd_options o;
    pd_options_init(&o);
    o.threshold = t;
    o.shingle = k;
    pd_scan *sc;
    pd_scan_new(&o, &sc);
    if (pd_scan_run(sc, &src) != PD_OK) {
        fprintf(stderr, "accuracy: %s\n", pd_scan_errmsg(sc));
        return 1;
    }
    read_corpus(&src, k);
    size_t n_ref;
    rpair *ref = reference(0.3, &n_ref); /* sorted by (a, b) by construction order */
    qsort(ref, n_ref, sizeof *ref, cmp_pair);

    /* paradup's near pairs as (text a, text b) */
    size_t np = pd_scan_pair_count(sc), found = 0, found_ok = 0;
    size_t hit[2] = {0, 0}, want[2] = {0, 0};
    for (size_t i = 0; i < n_ref; i++)
        if (ref[i].j >= t)
            want[ref[i].j >= 0.9]++;
    char *seen = calloc(n_ref + 1, 1);
    for (size_t i = 0; i < np; i++) {
        pd_pair p;
        pd_scan_pair(sc, i, &p);
        if (p.match != PD_MATCH_NEAR)
            continue;
        uint32_t a = doc_units[p.doc_a][p.a.index] - 1, b = doc_units[p.doc_b][p.b.index] - 1;
        rpair key = {a < b ? a : b, a < b ? b : a, 0};
        rpair *r = bsearch(&key, ref, n_ref, sizeof *ref, cmp_pair);
        found++;
        if (r && r->j >= t && !seen[r - ref]) {
            seen[r - ref] = 1;
            found_ok++;
            hit[r->j >= 0.9]++;
        }
    }
    size_t truth = want[0] + want[1];
    printf("accuracy: %zu distinct texts, threshold %.2f, shingle %u, %u bands x %u rows\n",
           n_texts, t, k, pd_scan_stats(sc)->bands, pd_scan_stats(sc)->rows);
    printf("accuracy: reference pairs >= T: %zu; paradup near pairs: %zu\n", truth, found);
    printf("accuracy: precision %.4f  recall %.4f\n", found ? (double)found_ok / found : 1.0,
           truth ? (double)found_ok / truth : 1.0);
    printf("accuracy: recall J in [%.1f, 0.9): %.4f (%zu pairs)  J in [0.9, 1]: %.4f (%zu pairs)\n",
           t, want[0] ? (double)hit[0] / want[0] : 1.0, want[0],
           want[1] ? (double)hit[1] / want[1] : 1.0, want[1]);

    /* Candidate rate per Jaccard bucket: do the two signatures share a band? */
    unsigned B = pd_scan_stats(sc)->bands, R = pd_scan_stats(sc)->rows;
    pd_minhash *mh;
    pd_minhash_new(o.perms, o.seed, &mh);
    uint32_t *sa = malloc(o.perms * sizeof *sa), *sb = malloc(o.perms * sizeof *sb);
    uint32_t *ka = malloc(B * sizeof *ka), *kb = malloc(B * sizeof *kb);
    uint64_t *mult = pd_lsh_mult_new(R);
    printf("s-curve: bucket      pairs  observed  expected\n");
    for (int bucket = 3; bucket < 10; bucket++) {
        size_t n = 0, cand = 0;
        double expect = 0;
        for (size_t i = 0; i < n_ref; i++) {
            if ((int)(ref[i].j * 10) != bucket && !(bucket == 9 && ref[i].j >= 1.0))
                continue;
            /* signatures from the reference's shingle indices would differ:
             * rebuild from hashes is not kept, so sign the index sets, which
             * have the same Jaccard */
            text *x = &texts[ref[i].a], *y = &texts[ref[i].b];
            pd_minhash_sign(mh, x->sh, x->n, sa);
            pd_minhash_sign(mh, y->sh, y->n, sb);
            pd_lsh_keys(sa, B, R, mult, ka);
            pd_lsh_keys(sb, B, R, mult, kb);
            int share = 0;
            for (unsigned j = 0; j < B; j++)
                share |= ka[j] == kb[j];
            cand += (size_t)share;
            expect += pd_lsh_probability(ref[i].j, B, R);
            n++;
        }
        if (n)
            printf("s-curve: [%.1f, %.1f) %8zu  %8.4f  %8.4f\n", bucket / 10.0, (bucket + 1) / 10.0,
                   n, (double)cand / n, expect / n);
    }
    free(sa);
    free(sb);
    free(ka);
    free(kb);
    free(mult);
    pd_minhash_free(mh);
    pd_scan_free(sc);
    pd_files_free(fs);
    return 0;
}
