/*
 * normalize.c - what "the same text" means.
 *
 * A unit's text becomes a string of words separated by single spaces:
 *   0. HTML character references decoded (&amp; -> &, &#8217; -> ’), as
 *      scraped copies keep some and not others (entities.c);
 *   1. Unicode NFKC (compatibility forms: ﬁ -> fi, ² -> 2, fullwidth -> ASCII);
 *   2. case folding (Straße -> strasse);
 *   3. diacritics stripped (López -> lopez): marks are dropped after
 *      decomposition, then the rest is recomposed;
 *   4. '.' and apostrophes (' ‘ ’ ʼ ′ `) deleted, so U.S. matches US and
 *      Mexico’s matches Mexico's;
 *   5. every other character that is not a letter or a digit becomes a space,
 *      Han ideographs and kana stand as words of their own (those scripts put
 *      no spaces between words), default-ignorable characters (soft hyphen,
 *      zero-width space) vanish, runs of spaces collapse and the ends are
 *      trimmed.
 * Steps 0-4 can be turned off one by one; step 5 always applies. A text
 * with a reference is decoded into a copy first: the ASCII loops stop at
 * each '&' to look, and otherwise read the text where it lies. So for a
 * text with an HTML tag or a Markdown link's target, taken out of a copy
 * (markup.c, PD_NORM_MARKUP): the loops stop at '<' and ']'. Before all
 * that, a word hyphenated across a line break is joined into a copy
 * (hyphens.c, PD_NORM_HYPHENS), for a unit that spans lines.
 *
 * Bytes that do not form valid UTF-8 are read one at a time as U+FFFD, which
 * is not a letter, so each acts as a space; NUL bytes likewise. Both are
 * counted for the caller's warning. A text with such bytes and no valid
 * sequence of more than one byte is read again, each of those bytes as its
 * Windows-1252 character (Latin-1 from 0xA0), as older pages and files are.
 *
 * Speed: ASCII bytes go through a table (64 at a time where the CPU has
 * AVX-512 VBMI2, 16 at a time for runs of plain words elsewhere). A run of
 * bytes >= 0x80 is written from a cache of what each code point becomes
 * (pd_normcache, one per thread) when none of its code points can compose or
 * reorder with a neighbour: utf8proc is then called once per code point the
 * thread meets, not once per occurrence. Another run (a word whose vowel
 * signs compose, combining marks) is read by utf8proc into a program of
 * writes, which the same cache keeps for short runs, so that a word met
 * again is written without utf8proc.
 */
#include "internal.h"

#include <utf8proc.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

enum { A_SPACE = 0, A_DELETE = 1 };

/* The steps that decide what a code point becomes (the cache's key). */
enum { CP_STEPS = PD_NORM_NFKC | PD_NORM_CASEFOLD | PD_NORM_ACCENTS | PD_NORM_DOTS };

/* ASCII byte -> output byte, A_SPACE or A_DELETE (with case folding and dot
 * deletion on; the other variants are derived in ascii_class()). */
static inline __attribute__((always_inline)) unsigned char ascii_map(unsigned char c, unsigned flags)
{
    if (c >= 'a' && c <= 'z')
        return c;
    if (c >= '0' && c <= '9')
        return c;
    if (c >= 'A' && c <= 'Z')
        return (flags & PD_NORM_CASEFOLD) ? (unsigned char)(c + 32) : c;
    if ((flags & PD_NORM_DOTS) && (c == '.' || c == '\'' || c == '`'))
        return A_DELETE;
    return A_SPACE;
}

/* ascii_map() as constant tables, one per setting of case folding (bit 0)
 * and dot deletion (bit 1): the hot loop does one load per byte. */
#define AM(c, f)                                                                          \
    ((c) >= 'a' && (c) <= 'z'   ? (c)                                                     \
     : (c) >= '0' && (c) <= '9' ? (c)                                                     \
     : (c) >= 'A' && (c) <= 'Z' ? ((f)&1 ? (c) + 32 : (c))                                \
     : ((f)&2) && ((c) == '.' || (c) == '\'' || (c) == '`') ? A_DELETE                   \
                                                           : A_SPACE)
#define AM4(c, f) AM(c, f), AM((c) + 1, f), AM((c) + 2, f), AM((c) + 3, f)
#define AM16(c, f) AM4(c, f), AM4((c) + 4, f), AM4((c) + 8, f), AM4((c) + 12, f)
#define AM128(f) AM16(0, f), AM16(16, f), AM16(32, f), AM16(48, f), AM16(64, f), AM16(80, f), \
                 AM16(96, f), AM16(112, f)
static const unsigned char ascii_tables[4][128] = {{AM128(0)}, {AM128(1)}, {AM128(2)}, {AM128(3)}};

static const unsigned char *ascii_table(unsigned flags)
{
    return ascii_tables[((flags & PD_NORM_CASEFOLD) ? 1 : 0) | ((flags & PD_NORM_DOTS) ? 2 : 0)];
}

static bool is_apostrophe_or_dot(utf8proc_int32_t cp)
{
    switch (cp) {
    case 0x2E: case 0x27: case 0x60: case 0xB4: case 0x2BC: case 0x2018: case 0x2019:
    case 0x2032:
        return true;
    default:
        return false;
    }
}

/* Scripts written without spaces: each character is a word. */
static bool is_cjk(utf8proc_int32_t cp)
{
    return (cp >= 0x3040 && cp <= 0x30FF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
           (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0xF900 && cp <= 0xFAFF) ||
           (cp >= 0x20000 && cp <= 0x2FA1F);
}

typedef struct writer {
    pd_buf *out;
    bool pending;   /* a separator was seen since the last character written */
    bool deleted;   /* the last character read was a deleted dot or apostrophe */
    bool recompose; /* a deletion put a combining mark next to a base */
} writer;

/* Before the bytes of a code point that is part of a word (or, alone, a
 * word of its own): the space that parts it from the word before, if one is
 * due, and the state after it. Room is the caller's to make. */
static inline void begin_word(writer *w, bool alone)
{
    pd_buf *o = w->out;
    if ((w->pending || alone) && o->len > 0 && o->data[o->len - 1] != ' ')
        o->data[o->len++] = ' ';
    w->pending = alone;
    w->deleted = false;
}

static utf8proc_option_t utf8proc_options(unsigned flags)
{
    utf8proc_option_t o = UTF8PROC_IGNORE;
    if (flags & PD_NORM_NFKC)
        o |= UTF8PROC_COMPAT | UTF8PROC_COMPOSE;
    if (flags & PD_NORM_CASEFOLD)
        o |= UTF8PROC_CASEFOLD;
    if (flags & PD_NORM_ACCENTS)
        o |= UTF8PROC_STRIPMARK | ((flags & PD_NORM_NFKC) ? 0 : UTF8PROC_DECOMPOSE);
    return o;
}

/* A run is read 64 code points at most (non_ascii_run), and a code point
 * decomposes to at most 18: the most a run's decomposition holds. */
enum { DEC_MAX = 64 * 20 };

/* Code points cps[0..n) decomposed (with mark stripping and case folding)
 * and recomposed, at dec (room for DEC_MAX); returns how many, or -1. */
static utf8proc_ssize_t decompose_run(const utf8proc_int32_t *cps, size_t n, unsigned flags,
                                      utf8proc_int32_t *dec)
{
    utf8proc_option_t opt = utf8proc_options(flags);
    utf8proc_ssize_t m = 0;
    for (size_t i = 0; i < n; i++) {
        utf8proc_ssize_t r = utf8proc_decompose_char(cps[i], dec + m, DEC_MAX - m, opt, NULL);
        if (r < 0 || m + r > DEC_MAX)
            return -1; /* cannot happen: a code point expands to at most 18 */
        m += r;
    }
    if (opt & (UTF8PROC_COMPOSE | UTF8PROC_DECOMPOSE))
        m = utf8proc_normalize_utf32(dec, m, opt);
    return m;
}

/* What the writer does with a normalized code point: write it as part of a
 * word, or as a word of its own, see a separator, or delete it. */
typedef enum { OP_WORD, OP_ALONE, OP_SPACE, OP_DELETE } cp_op;

/* The op for *cp, which becomes what is written (ASCII case folded). */
static cp_op classify(utf8proc_int32_t *cp, unsigned flags)
{
    if (*cp < 0x80) {
        unsigned char c = ascii_map((unsigned char)*cp, flags);
        if (c == A_DELETE || c == A_SPACE)
            return c == A_DELETE ? OP_DELETE : OP_SPACE;
        *cp = c;
        return OP_WORD;
    }
    if ((flags & PD_NORM_DOTS) && is_apostrophe_or_dot(*cp))
        return OP_DELETE;
    utf8proc_category_t cat = utf8proc_category(*cp);
    bool word = (cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO) ||
                (cat >= UTF8PROC_CATEGORY_ND && cat <= UTF8PROC_CATEGORY_NO) ||
                (!(flags & PD_NORM_ACCENTS) && cat >= UTF8PROC_CATEGORY_MN &&
                 cat <= UTF8PROC_CATEGORY_ME);
    if (!word)
        return OP_SPACE;
    return is_cjk(*cp) ? OP_ALONE : OP_WORD;
}

/* Room for `need` bytes in b, with a call only when it must grow. */
static inline pd_status room_for(pd_buf *b, size_t need)
{
    return need <= b->cap ? PD_OK : pd_buf_reserve(b, need);
}

/* A run's writes, recorded as a program that replay() carries out: the
 * bytes of each code point written as part of a word, and below 0x20 (where
 * no written byte lies) the other writes. A run of non-ASCII is read into a
 * program and the program replayed, so that the programs of frequent runs
 * can be kept (see run_slot). */
enum {
    P_SPACE = 1,   /* a separator */
    P_DELETE,      /* a deleted dot or apostrophe */
    P_ALONE,       /* the code point after it is a word of its own */
    P_RECOMPOSE,   /* normalize the result again (see recompose) */
    P_TAKE_BACK,   /* the last byte written is part of this run */
    P_BYTES = 0x20, /* from here up, bytes written */
    P_MAX_PER_CP = 5 /* program bytes a decomposed code point makes, at most */
};

/* Record code points cps[0..n), after decomposition, mark stripping, case
 * folding and recomposition, each classified, at prog (room for
 * P_MAX_PER_CP bytes for each of up to DEC_MAX code points); returns the
 * program's length, or -1. */
static utf8proc_ssize_t run_program(const utf8proc_int32_t *cps, size_t n, unsigned flags,
                                    unsigned char *prog)
{
    utf8proc_int32_t dec[DEC_MAX];
    utf8proc_ssize_t m = decompose_run(cps, n, flags, dec), len = 0;
    for (utf8proc_ssize_t i = 0; i < m; i++) {
        utf8proc_int32_t cp = dec[i];
        cp_op op = classify(&cp, flags);
        switch (op) {
        case OP_DELETE:
            /* Composition ran with the dot in place: a mark after it now
             * follows the base before it, and must compose with it. */
            if (i + 1 < m && utf8proc_get_property(dec[i + 1])->combining_class != 0)
                prog[len++] = P_RECOMPOSE;
            prog[len++] = P_DELETE;
            break;
        case OP_SPACE:
            prog[len++] = P_SPACE;
            break;
        case OP_WORD:
        case OP_ALONE:
            if (op == OP_ALONE)
                prog[len++] = P_ALONE;
            len += utf8proc_encode_char(cp, prog + len);
            break;
        }
    }
    return m < 0 ? -1 : len;
}

/* The bytes of the UTF-8 sequence that starts with byte c (of a program). */
static size_t utf8_length(unsigned char c)
{
    return c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
}

/* Carry out program prog[0..n). */
static pd_status replay(writer *w, const unsigned char *prog, size_t n)
{
    pd_buf *o = w->out;
    /* a code point's k bytes (after P_ALONE, or not) write at most k + 1 */
    PD_TRY(room_for(o, o->len + 2 * n + 1));
    for (size_t i = 0; i < n;) {
        switch (prog[i]) {
        case P_SPACE:
            w->deleted = false;
            w->pending = true;
            i++;
            break;
        case P_DELETE:
            w->deleted = true;
            i++;
            break;
        case P_RECOMPOSE:
            w->recompose = true;
            i++;
            break;
        case P_TAKE_BACK:
            o->len--;
            i++;
            break;
        default: {
            bool alone = prog[i] == P_ALONE;
            i += alone;
            size_t k = utf8_length(prog[i]);
            begin_word(w, alone);
            memcpy(o->data + o->len, prog + i, k);
            o->len += k;
            i += k;
            break;
        }
        }
    }
    return PD_OK;
}

/* Does the run begin with a combining mark (after any default-ignorable
 * characters, which vanish)? Then it belongs to the character before it. */
static bool starts_with_mark(const utf8proc_int32_t *cps, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        const utf8proc_property_t *p = utf8proc_get_property(cps[k]);
        if (!p->ignorable)
            return p->combining_class != 0;
    }
    return false;
}

/* A flag beside the PD_NORM_ steps: the text holds bytes that are not
 * UTF-8 and no sequence that is; each is read as Windows-1252 (see
 * pd_normalize_at). */
enum { LEGACY = 1u << 29 };
/* Another: the text is a copy (normalize_copy) read as UTF-8; the caller
 * reads it again as Windows-1252 if the text it copied calls for that. */
enum { COPY_READ = 1u << 28 };

/* Windows-1252's characters for the bytes 0x80-0x9F (U+FFFD for the five it
 * leaves out); from 0xA0 on, a byte is the Latin-1 code point it names. */
static const uint16_t cp1252[32] = {
    0x20AC, 0xFFFD, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0xFFFD, 0x017D, 0xFFFD, 0xFFFD, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0xFFFD, 0x017E, 0x0178};

/* Decode the run of non-ASCII bytes starting at text[*i] (at most 64 code
 * points, cut before a starter once 32 are read) into cps, moving *i past
 * it; returns how many, and counts the bytes that are not UTF-8 in *bad.
 * Such a byte is U+FFFD, or its Windows-1252 character under LEGACY. */
static size_t decode_run(const char *text, size_t len, size_t *i, utf8proc_int32_t *cps,
                         unsigned flags, pd_norm_stats *st, size_t *first_bad, size_t *bad)
{
    size_t n = 0, j = *i;
    *bad = 0;
    while (j < len && (unsigned char)text[j] >= 0x80 && n < 64) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t r = utf8proc_iterate((const utf8proc_uint8_t *)text + j,
                                              (utf8proc_ssize_t)(len - j), &cp);
        bool invalid = r < 0;
        if (invalid) {
            unsigned char c = (unsigned char)text[j];
            cp = !(flags & LEGACY) ? 0xFFFD : c < 0xA0 ? cp1252[c - 0x80] : c;
            r = 1;
        }
        /* Cut only before a starter, so composition sees whole sequences. */
        if (n >= 32 && utf8proc_get_property(cp)->combining_class == 0)
            break;
        if (invalid) {
            st->invalid_bytes++;
            ++*bad;
            if (j < *first_bad)
                *first_bad = j;
        }
        cps[n++] = cp;
        j += (size_t)r;
    }
    *i = j;
    return n;
}

/* What a run that starts with a combining mark does with what is written
 * before it: takes back the ASCII letter written last, so that the run
 * composes it (e + U+0301 is é, as if it were precomposed; the letter is the
 * context), or, after a deleted dot or apostrophe, asks for the result to be
 * normalized again (RUN_RECOMPOSE); else nothing (RUN_ALONE, and 0 for a run
 * that does not start with a mark). */
enum { RUN_ALONE = 0x80, RUN_RECOMPOSE = 0x81 };

/* The context of a run that starts with a mark. */
static unsigned mark_context(const writer *w)
{
    const pd_buf *o = w->out;
    if (!w->pending && o->len > 0 && (unsigned char)o->data[o->len - 1] < 0x80 &&
        o->data[o->len - 1] != ' ')
        return (unsigned char)o->data[o->len - 1];
    return w->deleted ? RUN_RECOMPOSE : RUN_ALONE;
}

static unsigned run_context(const writer *w, const utf8proc_int32_t *cps, size_t n)
{
    return starts_with_mark(cps, n) ? mark_context(w) : 0;
}

/* The program of code points cps[0..n) in context ctx, at prog (room for
 * 2 + P_MAX_PER_CP * DEC_MAX bytes); returns its length, or -1. */
static utf8proc_ssize_t context_program(utf8proc_int32_t *cps, size_t n, unsigned ctx,
                                        unsigned flags, unsigned char *prog)
{
    utf8proc_ssize_t len = 0;
    if (ctx == RUN_RECOMPOSE) {
        prog[len++] = P_RECOMPOSE; /* a deleted dot stood between a base and this mark */
    } else if (ctx > 0 && ctx < 0x80) {
        prog[len++] = P_TAKE_BACK;
        memmove(cps + 1, cps, n * sizeof *cps);
        cps[0] = (utf8proc_int32_t)ctx;
        n++;
    }
    utf8proc_ssize_t r = run_program(cps, n, flags, prog + len);
    return r < 0 ? -1 : len + r;
}

/* The cache of runs (pd_normcache.runs): short runs met often (words of
 * scripts whose letters compose with what follows, text in decomposed form)
 * with their context and program, a slot for the last run met with its hash.
 * A slot is 128 bytes; a run of more than RUN_KEY bytes, or with bytes that
 * are not UTF-8, or a program of more than RUN_PROG, is not kept. */
enum { RUN_SLOTS = 2048, RUN_KEY = 46, RUN_PROG = 78 };

struct pd_run_slot {
    unsigned char ctx, klen, plen; /* plen 0: nothing kept */
    char key[RUN_KEY];
    unsigned char prog[RUN_PROG];
};

/* The slot for run[0..n), a run of at most RUN_KEY bytes; the slot holds it
 * when its klen and key are the run's (and plen is not 0). */
static struct pd_run_slot *run_slot_of(pd_normcache *c, const char *run, size_t n)
{
    const uint64_t k = UINT64_C(0x9E3779B97F4A7C15);
    uint64_t h = n * k, v;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        memcpy(&v, run + i, 8);
        h = (h ^ v) * k;
        h ^= h >> 29;
    }
    v = 0; /* the last bytes in a register (a copy to memory would stall the load) */
    for (size_t b = 0; i + b < n; b++)
        v |= (uint64_t)(unsigned char)run[i + b] << (8 * b);
    h = (h ^ v) * k;
    return &c->runs[(h ^ h >> 32) & (RUN_SLOTS - 1)];
}

static bool run_slot_holds(const struct pd_run_slot *slot, const char *run, size_t n)
{
    return slot->plen > 0 && slot->klen == n && !memcmp(slot->key, run, n);
}

static void run_slot_keep(struct pd_run_slot *slot, unsigned ctx, const char *run, size_t n,
                          const unsigned char *prog, size_t plen)
{
    if (plen > RUN_PROG)
        return;
    slot->ctx = (unsigned char)ctx;
    slot->klen = (unsigned char)n;
    slot->plen = (unsigned char)plen;
    memcpy(slot->key, run, n);
    memcpy(slot->prog, prog, plen);
}

/* Read the run of non-ASCII bytes starting at text[*i] (see decode_run) and
 * write it. A run of at most RUN_KEY bytes is looked up in the thread's
 * cache of runs first: a run kept there is well-formed and was read whole
 * (it has fewer than 32 code points), so it is written without being read
 * again when its context is the same (a run that does not start with a mark
 * has none). Otherwise its program is made, and kept when the run is
 * well-formed. */
static pd_status non_ascii_run(writer *w, const char *text, size_t len, size_t *i, unsigned flags,
                               pd_norm_stats *st, size_t *first_bad, pd_normcache *cache)
{
    utf8proc_int32_t cps[65];
    unsigned char prog[2 + P_MAX_PER_CP * DEC_MAX];
    size_t start = *i, end = start, bad;
    while (cache && end < len && (unsigned char)text[end] >= 0x80 && end - start <= RUN_KEY)
        end++; /* the run's extent, for the cache only */
    struct pd_run_slot *slot = cache && end - start <= RUN_KEY
                                   ? run_slot_of(cache, text + start, end - start) : NULL;
    if (slot && run_slot_holds(slot, text + start, end - start) &&
        (slot->ctx == 0 || slot->ctx == mark_context(w))) {
        *i = end;
        return replay(w, slot->prog, slot->plen);
    }
    size_t n = decode_run(text, len, i, cps, flags, st, first_bad, &bad);
    unsigned ctx = run_context(w, cps, n);
    utf8proc_ssize_t plen = context_program(cps, n, ctx, flags, prog);
    if (plen < 0)
        return PD_EINVAL; /* cannot happen: a code point expands to at most 18 */
    if (slot && !bad && *i == end)
        run_slot_keep(slot, ctx, text + start, end - start, prog, (size_t)plen);
    return replay(w, prog, (size_t)plen);
}

/* Starters that may compose with a character before them: the second parts
 * of Unicode's canonical compositions that have combining class 0 (vowel
 * signs and length marks of Bengali to Sinhala, Tibetan, Myanmar and
 * Balinese), all the Hangul jamo after the initial ones (utf8proc composes
 * Hangul by arithmetic, and a syllable swallows U+11A7, which no
 * decomposition holds), and every code point past the Basic Multilingual
 * Plane but the planes' symbols (emoji) and Han. Called only to fill the
 * cache. A superset: test_normalize checks it against every decomposition
 * utf8proc knows, and every code point after a Hangul syllable. */
bool pd_norm_may_follow(int32_t cp)
{
    static const uint16_t single[] = {0x09BE, 0x09D7, 0x0B3E, 0x0B56, 0x0B57, 0x0BBE,
                                      0x0BD7, 0x0CC2, 0x0CD5, 0x0CD6, 0x0D3E, 0x0D57,
                                      0x0DCF, 0x0DDF, 0x0FB5, 0x0FB7, 0x102E, 0x1B35};
    if (cp >= 0x10000)
        return !((cp >= 0x1F000 && cp <= 0x1FFFF) || (cp >= 0x20000 && cp <= 0x3FFFF));
    if (cp >= 0x1160 && cp <= 0x11FF)
        return true;
    for (size_t i = 0; i < sizeof single / sizeof *single; i++)
        if (cp == single[i])
            return true;
    return false;
}

/* The code point cache (pd_normcache): an entry says how a code point is
 * written when it cannot interact with its neighbours, so that a run of such
 * code points is written as its program (run_program) writes it, one entry
 * at a time. Its low 3 bits are the kind, the next 3 the length of the bytes
 * written (at most 7), from bit 8 on those bytes. */
enum { CE_UNKNOWN, CE_SLOW, CE_NOTHING, CE_SPACE, CE_DELETE, CE_WORD, CE_ALONE };

static uint64_t entry_kind(uint64_t e)
{
    return e & 7;
}

/* What cp becomes (flags without PD_NORM_BYTE_LOOP). Its own combining
 * class is 0 and the first code point of its decomposition is a starter
 * that composes with nothing before it, or there is none; then no
 * reordering or composition reaches across it, and its writes are its own
 * program's. CE_SLOW when that does not hold, or when the program is not one
 * kind of write (a word's bytes, at most 7; a word of its own; separators;
 * deletions). */
static uint64_t cp_entry(utf8proc_int32_t cp, unsigned flags)
{
    utf8proc_int32_t dec[DEC_MAX];
    unsigned char prog[P_MAX_PER_CP * DEC_MAX];
    if (utf8proc_get_property(cp)->combining_class != 0)
        return CE_SLOW;
    utf8proc_ssize_t r = utf8proc_decompose_char(cp, dec, DEC_MAX, utf8proc_options(flags), NULL);
    if (r < 0 || r > DEC_MAX ||
        (r > 0 && (utf8proc_get_property(dec[0])->combining_class != 0 ||
                   pd_norm_may_follow(dec[0]))))
        return CE_SLOW;
    utf8proc_ssize_t n = run_program(&cp, 1, flags, prog);
    if (n <= 0)
        return n < 0 ? CE_SLOW : CE_NOTHING;
    uint64_t kind = prog[0] == P_SPACE    ? CE_SPACE
                    : prog[0] == P_DELETE ? CE_DELETE
                    : prog[0] == P_ALONE  ? CE_ALONE
                    : prog[0] >= P_BYTES  ? CE_WORD
                                          : CE_SLOW; /* P_RECOMPOSE */
    size_t from = kind == CE_ALONE; /* the bytes written start here */
    if (kind == CE_SLOW || n - from > 7)
        return CE_SLOW;
    uint64_t bytes = 0; /* (a second word of its own would start with P_ALONE) */
    for (utf8proc_ssize_t i = (utf8proc_ssize_t)from; i < n; i++) {
        if ((kind == CE_WORD || kind == CE_ALONE) ? prog[i] < P_BYTES : prog[i] != prog[0])
            return CE_SLOW; /* writes of two kinds */
        bytes |= (uint64_t)prog[i] << (8 * (i - (utf8proc_ssize_t)from));
    }
    size_t len = kind == CE_WORD || kind == CE_ALONE ? (size_t)n - from : 0;
    return kind | (uint64_t)len << 3 | (len ? bytes : 0) << 8;
}

/* The code point of the well-formed UTF-8 sequence of 2 to 4 bytes at s, of
 * which `avail` bytes can be read, with its length in *k; or -1 (anything
 * else: utf8proc's decoder takes it). */
static int32_t decode_utf8(const unsigned char *s, size_t avail, size_t *k)
{
    if (s[0] >= 0xC2 && s[0] <= 0xDF && avail >= 2 && (s[1] & 0xC0) == 0x80) {
        *k = 2;
        return (s[0] & 0x1F) << 6 | (s[1] & 0x3F);
    }
    if (s[0] >= 0xE0 && s[0] <= 0xEF && avail >= 3 && (s[1] & 0xC0) == 0x80 &&
        (s[2] & 0xC0) == 0x80) {
        int32_t cp = (s[0] & 0x0F) << 12 | (s[1] & 0x3F) << 6 | (s[2] & 0x3F);
        *k = 3;
        return cp >= 0x800 && (cp < 0xD800 || cp > 0xDFFF) ? cp : -1;
    }
    if (s[0] >= 0xF0 && s[0] <= 0xF4 && avail >= 4 && (s[1] & 0xC0) == 0x80 &&
        (s[2] & 0xC0) == 0x80 && (s[3] & 0xC0) == 0x80) {
        int32_t cp = (s[0] & 0x07) << 18 | (s[1] & 0x3F) << 12 | (s[2] & 0x3F) << 6 | (s[3] & 0x3F);
        *k = 4;
        return cp >= 0x10000 && cp <= 0x10FFFF ? cp : -1;
    }
    return -1;
}

/* The cache holds an entry for each code point of the Basic Multilingual
 * Plane, then SUPPLEMENTARY entries for the others (emoji, rare Han), each
 * for the last code point met with its low bits. */
enum { BMP = 1 << 16, SUPPLEMENTARY = 1 << 12 };
#define CACHE_BYTES                                                                            \
    ((BMP + SUPPLEMENTARY) * sizeof(uint64_t) + SUPPLEMENTARY * sizeof(uint32_t) +             \
     RUN_SLOTS * sizeof(struct pd_run_slot))

/* The cache, for flags: emptied when it was for others; false when out of
 * memory (the text then takes utf8proc's way). */
static bool cache_ready(pd_normcache *c, unsigned flags)
{
    if (!c->cp) { /* one mapping: most of it is never touched (pd_zalloc) */
        char *p = pd_zalloc(CACHE_BYTES);
        if (!p)
            return false;
        c->cp = (uint64_t *)p;
        c->sup_cp = (uint32_t *)(p + (BMP + SUPPLEMENTARY) * sizeof *c->cp);
        c->runs = (struct pd_run_slot *)(p + (BMP + SUPPLEMENTARY) * sizeof *c->cp +
                                         SUPPLEMENTARY * sizeof *c->sup_cp);
        c->flags = flags;
    }
    if (c->flags != flags) {
        memset(c->cp, 0, (BMP + SUPPLEMENTARY) * sizeof *c->cp);
        memset(c->sup_cp, 0, SUPPLEMENTARY * sizeof *c->sup_cp);
        memset(c->runs, 0, RUN_SLOTS * sizeof *c->runs);
        c->flags = flags;
    }
    return true;
}

/* cp's entry, which CE_UNKNOWN when not yet learned. */
static inline uint64_t *entry_of(pd_normcache *c, int32_t cp)
{
    if (cp < BMP)
        return &c->cp[cp];
    size_t i = (size_t)cp & (SUPPLEMENTARY - 1);
    if (c->sup_cp[i] != (uint32_t)cp) {
        c->sup_cp[i] = (uint32_t)cp;
        c->cp[BMP + i] = CE_UNKNOWN;
    }
    return &c->cp[BMP + i];
}

void pd_normcache_release(pd_normcache *c)
{
    pd_zfree(c->cp, CACHE_BYTES);
    for (int i = 0; i < 3; i++)
        pd_buf_release(&c->copies[i]);
    c->cp = NULL;
    c->sup_cp = NULL;
    c->runs = NULL;
}

/* Write code point entry e as replay() writes its code point's program. */
static void write_entry(writer *w, uint64_t e)
{
    pd_buf *o = w->out;
    switch (entry_kind(e)) {
    case CE_SPACE:
        w->pending = true;
        w->deleted = false;
        break;
    case CE_DELETE:
        w->deleted = true;
        break;
    case CE_WORD:
    case CE_ALONE: {
        begin_word(w, entry_kind(e) == CE_ALONE);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        uint64_t bytes = e >> 8; /* all 8 stored, the first (e >> 3 & 7) kept */
        memcpy(o->data + o->len, &bytes, 8);
        o->len += e >> 3 & 7;
#else
        for (unsigned b = 0, n = (unsigned)(e >> 3 & 7); b < n; b++)
            o->data[o->len++] = (char)(e >> (8 + 8 * b));
#endif
        break;
    }
    default: /* CE_NOTHING: a default-ignorable character */
        break;
    }
}

/* Write ASCII byte c (not NUL) as the byte loop writes it. */
static void write_ascii(writer *w, const unsigned char *map, unsigned char c)
{
    unsigned char m = map[c];
    if (m > A_DELETE) {
        begin_word(w, false);
        w->out->data[w->out->len++] = (char)m;
        return;
    }
    w->pending |= m == A_SPACE;
    w->deleted = m == A_DELETE;
}

/* ASCII bytes between two runs of non-ASCII that cached_run() reads itself
 * (a space between two words, a comma and a space): more go back to the
 * ASCII loops. */
enum { CACHED_GAP = 16 };

/* Write the run of bytes >= 0x80 at text[*i] from the cache (filling it as
 * code points are met), and the runs after it while short gaps of ASCII
 * part them, and move *i past what was written. A run with a code point
 * that cannot be written alone (CE_SLOW) or that is not well-formed is not
 * written: the text stops before it, *slow_at is where that code point
 * starts, and *done is false if the run is the first (it then takes
 * non_ascii_run()). */
static pd_status cached_run(pd_normcache *nc, const unsigned char *map, const char *text,
                            size_t len, size_t *i, writer *w, unsigned flags, bool *done,
                            size_t *slow_at)
{
    pd_buf *o = w->out;
    size_t j = *i;
    bool pending = w->pending, deleted = w->deleted;
    *done = false;
    for (;;) {
        size_t at = o->len;
        for (size_t k; j < len && (unsigned char)text[j] >= 0x80; j += k) {
            PD_TRY(room_for(o, o->len + 9)); /* a space and 8 bytes stored (write_entry) */
            int32_t cp = decode_utf8((const unsigned char *)text + j, len - j, &k);
            uint64_t *at_e = cp < 0 ? NULL : entry_of(nc, cp), e = at_e ? *at_e : CE_SLOW;
            if (e == CE_UNKNOWN)
                e = *at_e = cp_entry(cp, flags);
            if (entry_kind(e) == CE_SLOW) {
                o->len = at; /* back to the end of the last gap */
                w->pending = pending;
                w->deleted = deleted;
                *slow_at = j;
                return PD_OK;
            }
            write_entry(w, e);
        }
        *i = j;
        *done = true;
        size_t g = j;
        while (g < len && g - j < CACHED_GAP && text[g] != 0 && text[g] != '&' &&
               text[g] != '<' && text[g] != ']' && (unsigned char)text[g] < 0x80)
            g++; /* a character reference or markup may start there: the byte loop's */
        if (g == len || (unsigned char)text[g] < 0x80)
            return PD_OK; /* the end, a NUL, or a long gap */
        PD_TRY(room_for(o, o->len + 2 * (g - j))); /* an ASCII byte writes at most 2 */
        for (; j < g; j++)
            write_ascii(w, map, (unsigned char)text[j]);
        *i = j;
        pending = w->pending;
        deleted = w->deleted;
    }
}

/* Rare: a deleted dot or apostrophe stood between a base and a combining
 * mark. Normalizing the result once more composes them (it deletes nothing
 * more), so normalization stays a fixed point. */
static pd_status recompose(pd_buf *out, unsigned flags)
{
    pd_buf again;
    pd_buf_init(&again);
    pd_status st = pd_normalize(out->data, out->len, flags, &again, NULL);
    if (st == PD_OK) {
        pd_buf_release(out);
        *out = again;
    } else {
        pd_buf_release(&again);
    }
    return st;
}

#if defined(__SSE2__)
/* The common case, 16 bytes at a time: a block of ASCII letters, digits and
 * single spaces, neither starting after nothing with a space nor ending with
 * one, comes out as it went in (upper case folded when asked). Returns the
 * bytes written at d, or 0 when the block needs the byte loop. */
static inline size_t clean_block(const char *text, char *d, size_t n, bool pending, bool fold)
{
    __m128i v = _mm_loadu_si128((const __m128i *)text);
    /* Signed compares: bytes >= 0x80 are negative and fall outside every range. */
#define IN(lo, hi) _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8((char)((lo) - 1))), \
                                 _mm_cmplt_epi8(v, _mm_set1_epi8((char)((hi) + 1))))
    __m128i upper = IN('A', 'Z');
    __m128i word = _mm_or_si128(_mm_or_si128(IN('a', 'z'), upper), IN('0', '9'));
#undef IN
    __m128i space = _mm_cmpeq_epi8(v, _mm_set1_epi8(' '));
    unsigned ok = (unsigned)_mm_movemask_epi8(_mm_or_si128(word, space));
    unsigned sp = (unsigned)_mm_movemask_epi8(space);
    if (ok != 0xFFFF || (sp & (sp >> 1)) || (sp & 0x8000))
        return 0;
    bool lead = pending && !(sp & 1); /* the separator before the block */
    if (n == 0 && ((sp & 1) || pending))
        return 0; /* a leading space is dropped: the byte loop knows how */
    if (fold)
        v = _mm_add_epi8(v, _mm_and_si128(upper, _mm_set1_epi8(0x20)));
    d[n] = ' ';
    _mm_storeu_si128((__m128i *)(d + n + lead), v);
    return 16 + lead;
}
#endif

/* The wide loop stores 64 bytes wherever it writes: room is kept for them. */
enum { ASCII_SLACK = 64 };

/* Runs of ASCII 64 bytes at a time, where the CPU has AVX-512 VBMI2 (x86-64;
 * the choice is made at each call, so one binary runs everywhere). The table
 * maps each byte as the byte loop does; dots and apostrophes are compressed
 * out, then every word byte is kept and, of each run of spaces, the last one
 * before a word, as the byte loop writes a pending space only before a word.
 * Stops at the first byte >= 0x80, at a '&' when `amp` (a character
 * reference may start there), at a '<' or ']' when `markup` (a tag or a
 * link's target may), or at the end. (GCC before 8 has no VBMI2; the AVX2
 * loop below is built with it.) */
#if defined(__x86_64__) && (defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 8))
#define PD_ASCII_WIDE 1
#include <immintrin.h>

typedef struct ascii_state {
    size_t i, n;          /* read and written so far */
    bool pending, deleted;
    uint64_t nul;
} ascii_state;

__attribute__((target("avx512f,avx512bw,avx512vbmi,avx512vbmi2,bmi,bmi2,popcnt")))
static void ascii_run_vbmi2(const char *text, size_t len, char *d, const unsigned char *map,
                            bool amp, bool markup, ascii_state *a)
{
    const __m512i lo = _mm512_loadu_si512(map), hi = _mm512_loadu_si512(map + 64);
    const __m512i one = _mm512_set1_epi8(1), ampersand = _mm512_set1_epi8('&');
    const __m512i less = _mm512_set1_epi8('<'), bracket = _mm512_set1_epi8(']');
    size_t i = a->i, n = a->n;
    bool pending = a->pending, deleted = a->deleted;
    while (i < len) {
        size_t k = len - i < 64 ? len - i : 64;
        __mmask64 valid = _bzhi_u64(~UINT64_C(0), (unsigned)k);
        __m512i v = _mm512_maskz_loadu_epi8(valid, text + i);
        uint64_t high = _mm512_movepi8_mask(v) & valid;
        if (amp)
            high |= _mm512_cmpeq_epi8_mask(v, ampersand) & valid;
        if (markup)
            high |= (_mm512_cmpeq_epi8_mask(v, less) | _mm512_cmpeq_epi8_mask(v, bracket)) & valid;
        if (high) {
            k = (size_t)_tzcnt_u64(high);
            if (k == 0)
                break;
            valid = _bzhi_u64(~UINT64_C(0), (unsigned)k);
        }
        __m512i m = _mm512_permutex2var_epi8(lo, v, hi);
        uint64_t word = _mm512_cmpgt_epu8_mask(m, one) & valid;
        uint64_t del = _mm512_cmpeq_epi8_mask(m, one) & valid;
        uint64_t kept = valid & ~del, space = kept & ~word;
        a->nul += (uint64_t)_mm_popcnt_u64(_mm512_cmpeq_epi8_mask(v, _mm512_setzero_si512()) & valid);
        deleted = (del >> (k - 1)) & 1;
        i += k;
        if (!kept)
            continue;
        /* spaces map to 0 (A_SPACE); every word byte is above ' ' */
        __m512i mc = _mm512_maskz_compress_epi8(kept, _mm512_max_epu8(m, _mm512_set1_epi8(' ')));
        uint64_t w = _pext_u64(word, kept), sp = _pext_u64(space, kept);
        if (!w) {
            pending |= sp != 0;
            continue;
        }
        /* spaces count only after something was written */
        uint64_t after = n > 0 ? ~UINT64_C(0) : ~((w & -w) * 2 - 1);
        uint64_t keep = w | (sp & (w >> 1) & after);
        unsigned lead = pending && n > 0 && (w & 1);
        d[n] = ' ';
        _mm512_storeu_si512(d + n + lead, _mm512_maskz_compress_epi8(keep, mc));
        n += lead + (size_t)_mm_popcnt_u64(keep);
        pending = (sp >> (63 - __builtin_clzll(w))) != 0; /* spaces after the last word */
    }
    a->i = i;
    a->n = n;
    a->pending = pending;
    a->deleted = deleted;
}

/* The same runs 32 bytes at a time where the CPU has AVX2 but not VBMI2
 * (and its byte compress). Bytes are classed by compares, as ascii_map()
 * classes them. A space is kept when the next byte that is not deleted is a
 * word byte (it is the last space before a word), found by carrying the word
 * bytes down through runs of deleted ones; the kept bytes are then packed 8
 * at a time by a shuffle from compress8. 300,000 lines of news took 30 ms
 * to normalize, against 62 ms in the byte loop and 18.5 ms with VBMI2 (one
 * CPU, a scratch loop); 100 MB exact at -j1, with VBMI2 set aside, 411 ->
 * 329 ms in a slow hour (299 ms with it). */
#define PC8(x) (((x)&1) + ((x) >> 1 & 1) + ((x) >> 2 & 1) + ((x) >> 3 & 1) + ((x) >> 4 & 1) + \
                ((x) >> 5 & 1) + ((x) >> 6 & 1) + ((x) >> 7 & 1))
/* The place of the k-th set bit of the 8-bit m (7 past its last). */
#define POS(m, k) ((PC8((m)&1) <= (k)) + (PC8((m)&3) <= (k)) + (PC8((m)&7) <= (k)) +      \
                   (PC8((m)&15) <= (k)) + (PC8((m)&31) <= (k)) + (PC8((m)&63) <= (k)) + \
                   (PC8((m)&127) <= (k)))
#define C8(m) ((uint64_t)POS(m, 0) | (uint64_t)POS(m, 1) << 8 | (uint64_t)POS(m, 2) << 16 |   \
               (uint64_t)POS(m, 3) << 24 | (uint64_t)POS(m, 4) << 32 |                      \
               (uint64_t)POS(m, 5) << 40 | (uint64_t)POS(m, 6) << 48 | (uint64_t)POS(m, 7) << 56)
#define C8x4(m) C8(m), C8((m) + 1), C8((m) + 2), C8((m) + 3)
#define C8x16(m) C8x4(m), C8x4((m) + 4), C8x4((m) + 8), C8x4((m) + 12)
#define C8x64(m) C8x16(m), C8x16((m) + 16), C8x16((m) + 32), C8x16((m) + 48)
/* For each 8-bit mask, the shuffle that packs the bytes it selects of 8 to
 * the front, in order. */
static const uint64_t compress8[256] = {C8x64(0), C8x64(64), C8x64(128), C8x64(192)};
#undef C8x64
#undef C8x16
#undef C8x4
#undef C8
#undef POS
#undef PC8

/* 16 bytes taken from v from byte s on, then zeros (s <= 16). */
__attribute__((target("avx2"))) static inline __m128i shift_down(__m128i v, size_t s)
{
    static const char slide[32] = {0,    1,    2,    3,    4,    5,    6,    7,
                                   8,    9,    10,   11,   12,   13,   14,   15,
                                   -128, -128, -128, -128, -128, -128, -128, -128,
                                   -128, -128, -128, -128, -128, -128, -128, -128};
    return _mm_shuffle_epi8(v, _mm_loadu_si128((const __m128i *)(const void *)(slide + s)));
}

/* The last k < 32 bytes of a text, from text + i, as the first bytes of a
 * vector, then zeros: read as 16 bytes that end where the text does, moved
 * down (a call of memcpy() for the last bytes of every unit took a seventh
 * of the loop's time); a text of under 16 bytes is copied. */
__attribute__((target("avx2"))) static inline __m256i load_tail(const char *text, size_t i,
                                                                size_t k)
{
    const char *p = text + i;
    if (k >= 16) {
        __m128i lo = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i end = _mm_loadu_si128((const __m128i *)(const void *)(p + k - 16));
        return _mm256_set_m128i(shift_down(end, 32 - k), lo);
    }
    if (i + k >= 16) {
        __m128i end = _mm_loadu_si128((const __m128i *)(const void *)(p + k - 16));
        return _mm256_inserti128_si256(_mm256_setzero_si256(), shift_down(end, 16 - k), 0);
    }
    char tail[32] = {0};
    memcpy(tail, p, k);
    return _mm256_loadu_si256((const __m256i *)(const void *)tail);
}

/* The bytes of m that keep selects, written at d in order; returns how many
 * (up to 8 bytes after them are written too). */
__attribute__((target("avx2,popcnt"))) static inline size_t pack_kept(char *d, __m256i m,
                                                                      uint32_t keep)
{
    const uint64_t high = UINT64_C(0x0808080808080808); /* the upper 8 bytes of a lane */
    __m256i ctrl = _mm256_setr_epi64x((long long)compress8[keep & 255],
                                      (long long)(compress8[keep >> 8 & 255] + high),
                                      (long long)compress8[keep >> 16 & 255],
                                      (long long)(compress8[keep >> 24] + high));
    __m256i packed = _mm256_shuffle_epi8(m, ctrl);
    __m128i lo = _mm256_castsi256_si128(packed), hi = _mm256_extracti128_si256(packed, 1);
    /* each group's 8 bytes over the unused ones of the group before */
    size_t n = 0;
    _mm_storel_epi64((__m128i *)(void *)d, lo);
    n += (size_t)_mm_popcnt_u32(keep & 255);
    _mm_storel_epi64((__m128i *)(void *)(d + n), _mm_unpackhi_epi64(lo, lo));
    n += (size_t)_mm_popcnt_u32(keep >> 8 & 255);
    _mm_storel_epi64((__m128i *)(void *)(d + n), hi);
    n += (size_t)_mm_popcnt_u32(keep >> 16 & 255);
    _mm_storel_epi64((__m128i *)(void *)(d + n), _mm_unpackhi_epi64(hi, hi));
    return n + (size_t)_mm_popcnt_u32(keep >> 24);
}

__attribute__((target("avx2,bmi,popcnt")))
static void ascii_run_avx2(const char *text, size_t len, char *d, bool fold, bool dots,
                           bool amp, bool markup, ascii_state *a)
{
#define IN(lo, hi) _mm256_and_si256(_mm256_cmpgt_epi8(v, _mm256_set1_epi8((char)((lo) - 1))), \
                                    _mm256_cmpgt_epi8(_mm256_set1_epi8((char)((hi) + 1)), v))
#define EQ(c) _mm256_cmpeq_epi8(v, _mm256_set1_epi8(c))
#define MASK(x) ((uint32_t)_mm256_movemask_epi8(x))
    size_t i = a->i, n = a->n;
    bool pending = a->pending, deleted = a->deleted;
    while (i < len) {
        size_t k = len - i < 32 ? len - i : 32;
        __m256i v = k == 32 ? _mm256_loadu_si256((const __m256i *)(const void *)(text + i))
                            : load_tail(text, i, k);
        uint32_t valid = k == 32 ? ~0u : (1u << k) - 1;
        uint32_t stop = MASK(v); /* bytes >= 0x80 */
        if (amp)
            stop |= MASK(EQ('&'));
        if (markup)
            stop |= MASK(_mm256_or_si256(EQ('<'), EQ(']')));
        if ((stop &= valid)) {
            k = (size_t)_tzcnt_u32(stop);
            if (k == 0)
                break;
            valid = (1u << k) - 1;
        }
        __m256i upper = IN('A', 'Z');
        __m256i word_v = _mm256_or_si256(_mm256_or_si256(IN('a', 'z'), upper), IN('0', '9'));
        uint32_t word = MASK(word_v) & valid;
        __m256i dot = _mm256_or_si256(_mm256_or_si256(EQ('.'), EQ('\'')), EQ('`'));
        uint32_t del = dots ? MASK(dot) & valid : 0;
        uint32_t space = valid & ~word & ~del;
        a->nul += (uint64_t)_mm_popcnt_u32(MASK(EQ(0)) & valid);
        deleted = (del >> (k - 1)) & 1;
        i += k;
        if (!word) {
            pending |= space != 0;
            continue;
        }
        uint32_t reach = word; /* the next byte not deleted, from here on, is a word byte */
        for (uint32_t x = (reach >> 1) & del & ~reach; x; x = (x >> 1) & del & ~reach)
            reach |= x;
        uint32_t before = (word & -word) - 1; /* the bytes before the first word byte */
        uint32_t keep = word | (space & (reach >> 1));
        if (n == 0)
            keep &= ~(space & before); /* spaces count only after something was written */
        unsigned lead = pending && n > 0 && !(space & before);
        __m256i m = fold ? _mm256_add_epi8(v, _mm256_and_si256(upper, _mm256_set1_epi8(0x20))) : v;
        m = _mm256_blendv_epi8(_mm256_set1_epi8(' '), m, word_v);
        d[n] = ' ';
        n += lead;
        n += pack_kept(d + n, m, keep);
        pending = (space >> (31 - __builtin_clz(word))) != 0; /* spaces after the last word */
    }
    a->i = i;
    a->n = n;
    a->pending = pending;
    a->deleted = deleted;
#undef MASK
#undef EQ
#undef IN
}

#endif

/* Which wide ASCII loop runs for these flags on this CPU, if any. */
enum { WIDE_NONE, WIDE_AVX2, WIDE_VBMI2 };

static int ascii_wide(unsigned flags)
{
#ifdef PD_ASCII_WIDE
    if (flags & PD_NORM_BYTE_LOOP)
        return WIDE_NONE;
    if (!(flags & PD_NORM_NO_VBMI2) && __builtin_cpu_supports("avx512vbmi2") &&
        __builtin_cpu_supports("avx512vbmi") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("bmi2"))
        return WIDE_VBMI2;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi") &&
        __builtin_cpu_supports("popcnt"))
        return WIDE_AVX2;
#else
    PD_UNUSED(flags);
#endif
    return WIDE_NONE;
}

bool pd_normalize_wide(void)
{
    return ascii_wide(0) != WIDE_NONE;
}

/* Whether one of the 16 bytes at p is >= 0x80. */
static inline bool high_bytes16(const char *p)
{
    uint64_t a, b;
    memcpy(&a, p, 8);
    memcpy(&b, p + 8, 8);
    return ((a | b) & UINT64_C(0x8080808080808080)) != 0;
}

/* Does text hold a UTF-8 sequence of more than one byte? A text with bytes
 * that are not UTF-8 and no such sequence is most likely Latin-1 or
 * Windows-1252 (older pages and files): "caf\xE9" is then "café". */
static bool utf8_sequence(const char *text, size_t len)
{
    size_t k;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)text[i] >= 0xC2 &&
            decode_utf8((const unsigned char *)text + i, len - i, &k) >= 0)
            return true;
    return false;
}

/* Text that holds a character reference (entities.c), a word hyphenated
 * across a line break (hyphens.c) or markup (markup.c) is normalized as its
 * copy with those decoded, joined or taken out is, that step then off, with
 * the counts as they were before (`before`); the copy is read as UTF-8 or
 * Windows-1252 as the text itself would be, and the first invalid byte is
 * told in text's offsets. */
typedef enum { COPY_ENTITIES, COPY_HYPHENS, COPY_MARKUP } copy_kind;

static pd_status normalize_copy(copy_kind kind, const char *text, size_t len, unsigned flags,
                                pd_buf *out, pd_norm_stats *st, pd_norm_stats before,
                                size_t *first_bad, pd_normcache *cache)
{
    static const unsigned step[] = {PD_NORM_ENTITIES, PD_NORM_HYPHENS, PD_NORM_MARKUP};
    pd_buf local, *copy = cache ? &cache->copies[kind] : &local;
    if (!cache)
        pd_buf_init(&local);
    pd_status s = kind == COPY_ENTITIES ? pd_entities_decode(text, len, copy)
                  : kind == COPY_MARKUP ? pd_markup_strip(text, len, copy)
                                        : pd_buf_reserve(copy, len + 1);
    if (s == PD_OK && kind == COPY_HYPHENS)
        copy->len = pd_hyphens_join(text, len, copy->data);
    /* Whether invalid bytes are Windows-1252 is decided on the text first
     * copied, not on a copy, which may have lost its only UTF-8 sequence. */
    bool decide = !(flags & (LEGACY | COPY_READ));
    flags = (flags & ~step[kind]) | COPY_READ;
    *st = before;
    if (s == PD_OK)
        s = pd_normalize_at(copy->data, copy->len, flags, out, st, first_bad, cache);
    if (s == PD_OK && decide && st->invalid_bytes > before.invalid_bytes &&
        !utf8_sequence(text, len)) {
        *st = before;
        s = pd_normalize_at(copy->data, copy->len, (flags & ~COPY_READ) | LEGACY, out, st,
                            first_bad, cache);
    }
    if (*first_bad >= copy->len)
        *first_bad = len;
    else if (kind == COPY_ENTITIES)
        *first_bad = pd_entities_source(text, len, *first_bad);
    else if (kind == COPY_MARKUP)
        *first_bad = pd_markup_source(text, len, *first_bad);
    else
        *first_bad = pd_hyphens_source(text, len, *first_bad);
    if (!cache)
        pd_buf_release(&local);
    return s;
}

pd_status pd_normalize_at(const char *text, size_t len, unsigned flags, pd_buf *out,
                          pd_norm_stats *st, size_t *first_bad, pd_normcache *cache)
{
    pd_norm_stats dummy = {0, 0};
    if (!st)
        st = &dummy;
    size_t h, k;
    if ((flags & PD_NORM_HYPHENS) && pd_hyphen_break(text, len, 0, &h, &k))
        return normalize_copy(COPY_HYPHENS, text, len, flags, out, st, *st, first_bad, cache);
    const pd_norm_stats before = *st;
    const bool entities = (flags & PD_NORM_ENTITIES) != 0, markup = (flags & PD_NORM_MARKUP) != 0;
    *first_bad = len;
    PD_TRY(pd_buf_reserve(out, len + 2 + ASCII_SLACK));
    out->len = 0;
    writer w = {out, false, false, false};
    const unsigned char *map = ascii_table(flags);
    /* The ASCII loop keeps the output's end in locals (a char store could
     * alias out->len); it hands them back around each non-ASCII run. */
    char *d = out->data;
    size_t n = 0, i = 0;
    uint64_t nul = 0;
    bool pending = false, deleted = false;
    bool cached = false; /* the cache is ready (once non-ASCII is met) */
    size_t cache_from = 0; /* where cached_run() may be tried next */
#ifdef PD_ASCII_WIDE
    int wide = ascii_wide(flags);
#endif
    while (i < len) {
#ifdef PD_ASCII_WIDE
        /* not for a few ASCII bytes between two runs of non-ASCII (text in
         * decomposed form): the byte loop takes them for less */
        if (wide && !(i + 16 <= len && high_bytes16(text + i))) {
            ascii_state a = {i, n, pending, deleted, 0};
            if (wide == WIDE_VBMI2)
                ascii_run_vbmi2(text, len, d, map, entities, markup, &a);
            else
                ascii_run_avx2(text, len, d, (flags & PD_NORM_CASEFOLD) != 0,
                               (flags & PD_NORM_DOTS) != 0, entities, markup, &a);
            i = a.i;
            n = a.n;
            pending = a.pending;
            deleted = a.deleted;
            nul += a.nul;
            if (i == len)
                break;
        }
#endif
#if defined(__SSE2__)
        if (i + 16 <= len) {
            size_t wrote = clean_block(text + i, d, n, pending, (flags & PD_NORM_CASEFOLD) != 0);
            if (wrote > 0) {
                n += wrote;
                i += 16;
                pending = deleted = false;
                continue;
            }
        }
#endif
        unsigned char c = (unsigned char)text[i];
        if (c >= 0x80) {
            out->len = n;
            w.pending = pending;
            w.deleted = deleted;
            bool done = false;
            if (cache && !cached)
                cached = cache_ready(cache, flags & CP_STEPS);
            /* Not again before the code point it stopped at last: a long run
             * (Han with no ASCII) would be read once for every 64 code
             * points that non_ascii_run() takes up to there. */
            if (cached && i >= cache_from) {
                size_t slow_at = SIZE_MAX; /* it stopped at no code point */
                PD_TRY(cached_run(cache, map, text, len, &i, &w, flags & CP_STEPS, &done,
                                  &slow_at));
                if (slow_at != SIZE_MAX)
                    cache_from = slow_at + 1;
            }
            if (!done)
                PD_TRY(non_ascii_run(&w, text, len, &i, flags, st, first_bad,
                                     cached ? cache : NULL));
            deleted = w.deleted; /* the run may end with a deleted dot */
            /* Each ASCII byte writes at most one byte, plus one pending space. */
            PD_TRY(room_for(out, out->len + (len - i) + 3 + ASCII_SLACK));
            d = out->data;
            n = out->len;
            pending = w.pending;
            continue;
        }
        int32_t ref;
        if (c == '&' && entities && pd_entity_at(text, i, len, &ref))
            return normalize_copy(COPY_ENTITIES, text, len, flags, out, st, before, first_bad,
                                  cache);
        size_t at, span;
        if ((c == '<' || c == ']') && markup && pd_markup_at(text, i, len, &at, &span))
            return normalize_copy(COPY_MARKUP, text, len, flags, out, st, before, first_bad,
                                  cache);
        /* Branch-free: word boundaries come every few bytes and would be
         * mispredicted. Both stores land inside the reserved len + 2 bytes
         * (n never passes i); only the counts decide what is kept. */
        i++;
        unsigned char m = map[c];
        bool word = m > A_DELETE;
        d[n] = ' ';
        n += pending & word & (n > 0);
        d[n] = (char)m;
        n += word;
        pending = (pending | (m == A_SPACE)) & !word;
        deleted = m == A_DELETE;
        nul += c == 0;
    }
    out->len = n;
    st->nul_bytes += nul;
    if (st->invalid_bytes > before.invalid_bytes && !(flags & (LEGACY | COPY_READ)) &&
        !utf8_sequence(text, len)) {
        *st = before;
        return pd_normalize_at(text, len, flags | LEGACY, out, st, first_bad, cache);
    }
    if (out->len > 0 && out->data[out->len - 1] == ' ')
        out->len--;
    if (out->cap > out->len)
        out->data[out->len] = 0;
    if (w.recompose && (flags & PD_NORM_NFKC))
        return recompose(out, flags);
    return PD_OK;
}

pd_status pd_normalize(const char *text, size_t len, unsigned flags, pd_buf *out, pd_norm_stats *st)
{
    size_t first_bad;
    return pd_normalize_at(text, len, flags, out, st, &first_bad, NULL);
}
