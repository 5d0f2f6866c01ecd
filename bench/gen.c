/*
 * gen.c - a seeded generator of a syndicated-news corpus with known structure,
 * for paradup's benchmarks.
 *
 *   gen DIR MEGABYTES [SEED [world]]
 *
 * Writes DIR/<outlet>/<story>.txt until about MEGABYTES of text exist. Words
 * come from a synthetic vocabulary of 30,000 words with Zipf frequencies, so
 * common n-grams recur as they do in English. Each outlet has its own banner,
 * subscribe line, navigation line and footer, printed at the top and bottom of
 * each of its articles. A base story is a headline, a byline and 6-14
 * paragraphs (one line each, 15-80 words) with 0-2 photo captions; 30% of the
 * stories are syndicated to 1-9 other outlets. A copy drops each paragraph
 * with probability 0.1, swaps neighbours with 0.05, and edits each paragraph
 * at a rate drawn from {0, 0.01, 0.03, 0.06, 0.1, 0.2} per word
 * (substitution, insertion or deletion), adds datelines, changes case and
 * straightens or curls quotes. Captions are printed twice in a row with
 * probability 0.3, and a closing line is repeated with probability 0.2.
 * With `world`, the same corpus is written in seven scripts, one per outlet
 * and per story (by its home outlet; copies keep their story's): Latin,
 * Latin with accents, Cyrillic, Greek, Han (no spaces between words),
 * Hangul and Devanagari, each letter of a word standing for one of the
 * script's, with its case where the script has one.
 * Nothing here knows paradup's parameters.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static uint64_t rng_state;
static uint64_t rnd(void)
{
    uint64_t z = (rng_state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}
static double unif(void) { return (double)(rnd() >> 11) / 9007199254740992.0; }
static unsigned below(unsigned n) { return (unsigned)(unif() * n); }

enum { VOCAB = 30000, OUTLETS = 40, MAXW = 200, MAXP = 16 };
enum { LATIN, ACCENTED, CYRILLIC, GREEK, HAN, HANGUL, DEVANAGARI, SCRIPTS };
static int world; /* write in all the scripts, not only LATIN */
static char *vocab[VOCAB];
static double zipf_cdf[VOCAB];

static void make_vocab(void)
{
    static const char *syl[] = {"ka", "lo", "mer", "ta", "ri", "son", "ve", "dan", "po", "lis",
                                "tor", "en", "ba", "ni", "chu", "gar", "se", "mo", "ar", "qui",
                                "del", "fa", "no", "ste", "wi", "ly", "pre", "ox", "um", "hal"};
    double sum = 0;
    for (int i = 0; i < VOCAB; i++) {
        char w[32] = "";
        int n = 1 + (int)below(3) + (i > 2000);
        for (int s = 0; s < n; s++)
            strcat(w, syl[below(30)]);
        vocab[i] = strdup(w);
        sum += 1.0 / (i + 1.0);
        zipf_cdf[i] = sum;
    }
    for (int i = 0; i < VOCAB; i++)
        zipf_cdf[i] /= sum;
}

static int word(void)
{
    double u = unif();
    int lo = 0, hi = VOCAB - 1;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (zipf_cdf[mid] < u)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

typedef struct para {
    int w[MAXW];
    int n;
} para;

typedef struct story {
    para p[MAXP];
    int np;
    para head, caption[2];
    int ncap;
} story;

static void random_para(para *p, int lo, int hi)
{
    p->n = lo + (int)below((unsigned)(hi - lo + 1));
    for (int i = 0; i < p->n; i++)
        p->w[i] = word();
}

typedef struct outlet {
    char name[32];
    para banner, subscribe, nav, footer;
} outlet;
static outlet outlets[OUTLETS];

static void put_utf8(FILE *f, unsigned cp)
{
    if (cp < 0x80) {
        fputc((int)cp, f);
    } else if (cp < 0x800) {
        fputc(0xC0 | (int)(cp >> 6), f);
        fputc(0x80 | (int)(cp & 0x3F), f);
    } else {
        fputc(0xE0 | (int)(cp >> 12), f);
        fputc(0x80 | (int)(cp >> 6 & 0x3F), f);
        fputc(0x80 | (int)(cp & 0x3F), f);
    }
}

/* Letter c (a-z) of a word in `script`, upper case when `upper`. */
static void put_letter(FILE *f, int c, int upper, int script)
{
    static const unsigned accented[26][2] = {
        ['a' - 'a'] = {0xE1, 0xC1}, ['c' - 'a'] = {0xE7, 0xC7},   ['e' - 'a'] = {0xE9, 0xC9},
        ['i' - 'a'] = {0xED, 0xCD}, ['n' - 'a'] = {0xF1, 0xD1},   ['o' - 'a'] = {0xF6, 0xD6},
        ['s' - 'a'] = {0x15B, 0x15A}, ['u' - 'a'] = {0xFC, 0xDC}, ['y' - 'a'] = {0xFD, 0xDD},
        ['z' - 'a'] = {0x17E, 0x17D}};
    int i = c - 'a';
    unsigned cp = (unsigned)(upper ? c - 32 : c);
    switch (script) {
    case ACCENTED:
        if (accented[i][0])
            cp = accented[i][upper];
        break;
    case CYRILLIC: cp = (upper ? 0x410u : 0x430u) + (unsigned)i; break;
    case GREEK: /* 24 letters without final sigma, then two with tonos */
        cp = i < 17 ? (upper ? 0x391u : 0x3B1u) + (unsigned)i
             : i < 24 ? (upper ? 0x3A3u : 0x3C3u) + (unsigned)(i - 17)
             : upper  ? (i == 24 ? 0x386u : 0x388u)
                      : 0x3ACu + (unsigned)(i - 24);
        break;
    case HAN: cp = 0x4E00u + 37u * (unsigned)i; break;
    case HANGUL: cp = 0xAC00u + 397u * (unsigned)i; break;
    case DEVANAGARI: cp = 0x915u + (unsigned)i; break;
    }
    put_utf8(f, cp);
}

/* A word, its first letter upper case when caps is 1, all when 2. */
static void put_word(FILE *f, const char *w, int caps, int script)
{
    for (const char *c = w; *c; c++)
        put_letter(f, *c, caps == 2 || (caps == 1 && c == w), script);
}

static void put_para(FILE *f, const para *p, int style, int script)
{
    /* style bit 1: capitalize the first word; bit 2: curly quotes around a
     * quoted span; bit 4: all caps (banners). */
    int q0 = p->n > 8 && (style & 6) ? 2 : -1;
    for (int i = 0; i < p->n; i++) {
        const char *w = vocab[p->w[i]];
        if (i && script != HAN)
            fputc(' ', f);
        if (i == q0)
            fputs(style & 2 ? "\xE2\x80\x9C" : "\"", f);
        put_word(f, w, style & 4 ? 2 : i == 0 && (style & 1), script);
        if (i == q0 + 5 && q0 >= 0)
            fputs(style & 2 ? "\xE2\x80\x9D" : "\"", f);
        if (i % 11 == 10 && i + 1 < p->n)
            fputc(',', f);
    }
    fputs(".\n", f);
}

/* A copy of p with each word edited with probability rate. */
static void edit(const para *p, para *out, double rate)
{
    out->n = 0;
    for (int i = 0; i < p->n && out->n < MAXW - 2; i++) {
        if (unif() >= rate) {
            out->w[out->n++] = p->w[i];
            continue;
        }
        switch (below(3)) {
        case 0: out->w[out->n++] = word(); break;                      /* substitute */
        case 1: out->w[out->n++] = word(); out->w[out->n++] = p->w[i]; break; /* insert */
        default: break;                                                /* delete */
        }
    }
    if (out->n == 0)
        *out = *p;
}

static long long write_article(const char *dir, int o, int id, const story *s, int copy, int script)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, outlets[o].name);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/%s/story-%06d.txt", dir, outlets[o].name, id);
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "gen: cannot write %s: %s\n", path, strerror(errno));
        exit(1);
    }
    const outlet *ou = &outlets[o];
    int own = world ? o % SCRIPTS : LATIN; /* the outlet's banners */
    static const double rates[] = {0, 0.01, 0.03, 0.06, 0.1, 0.2};
    put_para(f, &ou->banner, 4, own);
    put_para(f, &ou->subscribe, 1, own);
    put_para(f, &ou->nav, 1, own);
    put_para(f, &s->head, 1, script);
    if (!world) {
        fprintf(f, "By %s %s, %s | Updated %d:%02d\n", vocab[word()], vocab[word()], ou->name,
                1 + (int)below(12), (int)below(60));
    } else {
        int first = word(), last = word();
        fputs("By ", f);
        put_word(f, vocab[first], 1, script);
        fputc(' ', f);
        put_word(f, vocab[last], 1, script);
        fprintf(f, ", %s | Updated %d:%02d\n", ou->name, 1 + (int)below(12), (int)below(60));
    }
    int order[MAXP];
    for (int i = 0; i < s->np; i++)
        order[i] = i;
    for (int i = 0; copy && i + 1 < s->np; i++)
        if (unif() < 0.05) {
            int t = order[i];
            order[i] = order[i + 1];
            order[i + 1] = t;
        }
    for (int k = 0; k < s->np; k++) {
        const para *p = &s->p[order[k]];
        if (k == 2 && s->ncap) {
            put_para(f, &s->caption[0], 1, script);
            if (unif() < 0.3)
                put_para(f, &s->caption[0], 1, script);
        }
        if (copy && unif() < 0.1)
            continue;
        para e;
        edit(p, &e, copy ? rates[below(6)] : 0);
        int style = 1 | (copy && unif() < 0.5 ? 2 : 0);
        if (copy && k == 0 && unif() < 0.5) {
            put_word(f, vocab[word()], 0, script);
            fputs(" - ", f);
        }
        put_para(f, &e, style, script);
    }
    if (unif() < 0.2)
        put_para(f, &s->p[s->np - 1], 1, script);
    put_para(f, &ou->subscribe, 1, own);
    put_para(f, &ou->banner, 4, own);
    put_para(f, &ou->footer, 1, own);
    long long size = ftell(f);
    fclose(f);
    return size;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: gen DIR MEGABYTES [SEED [world]]\n");
        return 2;
    }
    world = argc > 4 && strcmp(argv[4], "world") == 0;
    const char *dir = argv[1];
    long long target = atoll(argv[2]) * 1000000LL, written = 0;
    rng_state = argc > 3 ? strtoull(argv[3], NULL, 0) : 1;
    mkdir(dir, 0755);
    make_vocab();
    for (int o = 0; o < OUTLETS; o++) {
        snprintf(outlets[o].name, sizeof outlets[o].name, "outlet%02d", o);
        random_para(&outlets[o].banner, 8, 14);
        random_para(&outlets[o].subscribe, 2, 4);
        random_para(&outlets[o].nav, 3, 5);
        random_para(&outlets[o].footer, 5, 8);
    }
    int id = 0;
    story s;
    while (written < target) {
        s.np = 6 + (int)below(9);
        for (int i = 0; i < s.np; i++)
            random_para(&s.p[i], 15, 80);
        random_para(&s.head, 6, 12);
        s.ncap = (int)below(3);
        for (int i = 0; i < s.ncap; i++)
            random_para(&s.caption[i], 8, 20);
        int home = (int)below(OUTLETS);
        int script = world ? home % SCRIPTS : LATIN;
        written += write_article(dir, home, id++, &s, 0, script);
        if (unif() < 0.3) {
            int copies = 1 + (int)below(9);
            for (int c = 0; c < copies && written < target; c++)
                written += write_article(dir, (home + 1 + c) % OUTLETS, id++, &s, 1, script);
        }
    }
    printf("gen: %d articles, %.1f MB in %s\n", id, written / 1e6, dir);
    return 0;
}
