/*
 * edits.c - how often a lightly edited copy of a paragraph or a sentence is
 * found, by shingle size.
 *
 *   edits FILE [LINES [THRESHOLD [sentence]]]
 *
 * Takes LINES (default 4000) distinct lines of 15-80 words from FILE (a
 * corpus of a paragraph a line, such as bench/gen's), or with `sentence`
 * distinct sentences of 6-45 words, chosen with a fixed seed, and writes
 * each next to a copy with one edit: a word substituted, two words
 * substituted, a word inserted or a word deleted, in turn (new words are
 * taken from other lines). The file is scanned in this process at the
 * threshold (default 0.8) with word shingles of 1 to 5, and the share of the
 * copies in their original's cluster is printed by edit and by length. The
 * Jaccard similarity of a text of n words to its copy with one word
 * substituted is (n - 2k + 1) / (n + 1) for shingles of k words, so the
 * larger k, the longer a text must be for such a copy to reach T. Clusters
 * that join two of the chosen texts are counted too: the corpus holds
 * edited copies of its own paragraphs, so those are mostly real.
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <xxhash.h>

enum { MAX_WORDS = 80, KINDS = 4, BANDS = 3 };
static const char *const kind_names[KINDS] = {"1 sub", "2 subs", "1 ins", "1 del"};

/* Lines or sentences: the words they have, and the length bands shown. */
static const struct sizes {
    unsigned min, max, band[BANDS - 1];
    const char *names[BANDS];
} line_sizes = {15, 80, {30, 50}, {"15-29", "30-49", "50-80"}},
  sentence_sizes = {6, 45, {15, 25}, {"6-14", "15-24", "25-45"}};
static const struct sizes *sz = &line_sizes;

static uint64_t rng = 0x45444954u; /* "EDIT" */
static uint64_t rnd(void)
{
    uint64_t z = (rng += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

typedef struct line {
    char *text;
    char **w;
    unsigned n;
} line;

/* Split s (modified) into words at spaces. */
static unsigned words(char *s, char **w, unsigned cap)
{
    unsigned n = 0;
    for (char *t = strtok(s, " \t\r"); t && n < cap; t = strtok(NULL, " \t\r"))
        w[n++] = t;
    return n;
}

/* Keep text t[0, n) in out[] if it has the words wanted and was not seen. */
static void keep(const char *t, size_t n, pd_exact *seen, line **out, size_t *count, size_t *cap)
{
    char *text = strndup(t, n), *split = strndup(t, n), *w[MAX_WORDS + 1];
    unsigned nw = words(split, w, MAX_WORDS + 1);
    XXH128_hash_t h = XXH3_128bits(t, n);
    uint32_t id;
    size_t before = seen->count;
    if (nw < sz->min || nw > sz->max ||
        pd_exact_intern(seen, (pd_h128){h.low64, h.high64}, &id) != PD_OK ||
        seen->count == before || PD_GROW(*out, *cap, *count + 1) != PD_OK) {
        free(text);
        free(split);
        return;
    }
    line *l = &(*out)[(*count)++];
    *l = (line){text, malloc(nw * sizeof *w), nw};
    memcpy(l->w, w, nw * sizeof *w); /* into split, kept */
}

/* The distinct lines (or sentences) of the file with the words wanted, in
 * order. */
static line *read_lines(const char *path, bool sentences, size_t *count)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    line *out = NULL;
    size_t cap = 0, bcap = 0;
    pd_exact seen;
    pd_buf text;
    char *buf = NULL;
    pd_exact_init(&seen, 1 << 16);
    pd_buf_init(&text);
    *count = 0;
    while (getline(&buf, &bcap, f) > 0) {
        size_t len = strcspn(buf, "\n");
        buf[len] = 0;
        if (!sentences) {
            keep(buf, len, &seen, &out, count, &cap);
            continue;
        }
        pd_segmenter s;
        pd_unit u;
        pd_segment_init(&s, buf, len, PD_UNIT_SENTENCE);
        while (pd_segment_next(&s, &u))
            if (pd_unit_text(buf, len, &u, PD_UNIT_SENTENCE, &text) == PD_OK)
                keep(text.data, text.len, &seen, &out, count, &cap);
    }
    free(buf);
    fclose(f);
    pd_buf_release(&text);
    pd_exact_release(&seen);
    return out;
}

/* Write line l and its copy with edit `kind` to f; new words come from
 * random lines of all[]. */
static void write_pair(FILE *f, const line *l, unsigned kind, const line *all, size_t n_all)
{
    const char *w[MAX_WORDS + 1];
    unsigned n = l->n;
    memcpy(w, l->w, n * sizeof *w);
    const line *o = &all[rnd() % n_all];
    const char *fresh = o->w[rnd() % o->n];
    unsigned at = (unsigned)(rnd() % n), at2 = (unsigned)(rnd() % (n - 1));
    switch (kind) {
    case 0: w[at] = fresh; break;
    case 1:
        w[at] = fresh;
        w[at2 + (at2 >= at)] = all[rnd() % n_all].w[0];
        break;
    case 2:
        memmove(w + at + 1, w + at, (n - at) * sizeof *w);
        w[at] = fresh;
        n++;
        break;
    default:
        memmove(w + at, w + at + 1, (n - at - 1) * sizeof *w);
        n--;
    }
    fprintf(f, "%s\n", l->text);
    for (unsigned i = 0; i < n; i++)
        fprintf(f, "%s%s", w[i], i + 1 < n ? " " : "\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: edits FILE [LINES [THRESHOLD]]\n");
        return 2;
    }
    size_t want = argc > 2 ? (size_t)atol(argv[2]) : 4000, n_all;
    double t = argc > 3 ? atof(argv[3]) : 0.8;
    bool sentences = argc > 4 && strcmp(argv[4], "sentence") == 0;
    const char *what = sentences ? "sentences" : "lines";
    if (sentences)
        sz = &sentence_sizes;
    line *all = read_lines(argv[1], sentences, &n_all);
    if (!all || n_all < 2 * want) {
        fprintf(stderr, "edits: %s: fewer than %zu %s of %u-%u words\n", argv[1], 2 * want, what,
                sz->min, sz->max);
        return 1;
    }
    for (size_t i = n_all - 1; i > 0; i--) { /* shuffle; the first `want` are chosen */
        size_t j = rnd() % (i + 1);
        line x = all[i];
        all[i] = all[j];
        all[j] = x;
    }
    char path[] = "/tmp/paradup-edits-XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        perror("edits: temporary file");
        return 1;
    }
    for (size_t i = 0; i < want; i++)
        write_pair(f, &all[i], (unsigned)(i % KINDS), all + want, n_all - want);
    fclose(f);

    printf("edited copies found at T = %.2f: %zu %s of %u-%u words, each next to a copy "
           "with one edit\n", t, want, what, sz->min, sz->max);
    printf(" k   %-7s %-7s %-7s %-7s   1 sub by words: %5s %5s %5s   %s joined\n", kind_names[0],
           kind_names[1], kind_names[2], kind_names[3], sz->names[0], sz->names[1], sz->names[2],
           what);
    for (unsigned k = 1; k <= 5; k++) {
        pd_files *fs;
        pd_files_new(NULL, NULL, NULL, &fs);
        pd_files_add(fs, path);
        pd_source src = pd_files_source(fs);
        pd_options o;
        pd_options_init(&o);
        o.threshold = t;
        o.shingle = k;
        pd_scan *sc;
        if (pd_scan_new(&o, &sc) != PD_OK || pd_scan_run(sc, &src) != PD_OK) {
            fprintf(stderr, "edits: the scan failed\n");
            return 1;
        }
        /* units are the file's lines: line 2i+1 is text i, 2i+2 its copy */
        uint64_t *cluster = calloc(2 * want + 1, sizeof *cluster);
        for (size_t r = 0; r < pd_scan_row_count(sc); r++) {
            pd_row row;
            pd_scan_row(sc, r, &row);
            cluster[row.unit.line_start - 1] = row.cluster;
        }
        size_t found[KINDS] = {0}, per[KINDS] = {0}, band_found[BANDS] = {0}, band_n[BANDS] = {0};
        size_t joined = 0, rows = pd_scan_row_count(sc);
        uint32_t *originals = calloc(rows + 2, sizeof *originals);
        for (size_t i = 0; i < want; i++)
            if (cluster[2 * i] && ++originals[cluster[2 * i]] == 2)
                joined++;
        free(originals);
        for (size_t i = 0; i < want; i++) {
            unsigned kind = (unsigned)(i % KINDS), nw = all[i].n;
            bool hit = cluster[2 * i] && cluster[2 * i] == cluster[2 * i + 1];
            per[kind]++;
            found[kind] += hit;
            if (kind == 0) {
                unsigned b = nw < sz->band[0] ? 0 : nw < sz->band[1] ? 1 : 2;
                band_n[b]++;
                band_found[b] += hit;
            }
        }
        printf(" %u ", k);
        for (unsigned j = 0; j < KINDS; j++)
            printf("  %5.1f%%", 100.0 * found[j] / per[j]);
        printf("   %*s", (int)strlen("1 sub by words:"), "");
        for (unsigned b = 0; b < BANDS; b++)
            printf(" %5.1f%%", band_n[b] ? 100.0 * band_found[b] / band_n[b] : 0);
        printf("   %zu\n", joined);
        free(cluster);
        pd_scan_free(sc);
        pd_files_free(fs);
    }
    unlink(path);
    return 0;
}
