/* test_normalize.c - what "the same text" means: NFKC, casefold, accents,
 * dots and apostrophes, character references, words hyphenated at line
 * ends, markup, punctuation, whitespace,
 * invalid UTF-8, NUL; the
 * wide ASCII loops write what the byte loop writes, and the code point cache
 * what utf8proc's way writes. */
#include "check.h"
#include "internal.h"

#include <utf8proc.h>

static const char *norm(const char *in, size_t len, unsigned flags, pd_norm_stats *st)
{
    static pd_buf b;
    pd_normalize(in, len, flags, &b, st);
    return b.len ? b.data : "";
}

#define N(s) norm((s), strlen(s), PD_NORM_DEFAULT, NULL)

/* Random text of pieces that exercise the ASCII loops: letters of both
 * cases, digits, runs of spaces, punctuation, dots and apostrophes, NUL,
 * and non-ASCII (accents, combining marks, curly quotes, Han, bad bytes). */
static size_t random_text(char *out, size_t cap, unsigned *seed)
{
    static const char *const pieces[] = {
        "a", "b", "Z", "Q", "x", "7", "0", " ", " ", "  ", "\t", "\n", "\r\n", ",", ";", "\"",
        "-", "(", ")", "?", "!", ".", ".", "'", "`", "U.S.", "it's", "...", " . ", "\0", "\x7F",
        "\xC3\xA9", "\xCC\x81", "\xE2\x80\x99", "\xE6\x9D\xB1", "\xFF", "\xC3\x9C",
        "\xEF\xAC\x81", "&", "&amp;", "&#8217;", "&Eacute;", "&#x301;", "&amp;quot;", "&foo;",
        "<p>", "</em>", "<a href='u>v'>", "<", ">", "]", "](x.org/a_(b))", "[", "<br/>", "<!--c-->",
        "word ", "Word, ", "words. ", "WORDS ", "and ", "12 "};
    enum { N_PIECES = sizeof pieces / sizeof *pieces };
    size_t n = 0, want = (size_t)(rand_r(seed) % 400);
    /* Mostly ASCII: a few texts have no byte >= 0x80 at all. */
    unsigned ascii_only = rand_r(seed) % 3 == 0, weight_word = rand_r(seed) % 4;
    while (n < want) {
        unsigned r = (unsigned)rand_r(seed);
        const char *p = pieces[r % N_PIECES];
        if (weight_word && r % 5 < weight_word)
            p = pieces[N_PIECES - 1 - (r / 5) % 6];
        size_t len = p[0] ? strlen(p) : 1; /* "\0" is one NUL byte */
        if (ascii_only && (unsigned char)p[0] >= 0x80)
            continue;
        if (n + len > cap)
            break;
        memcpy(out + n, p, len);
        n += len;
    }
    return n;
}

/* The wide ASCII loops (where this CPU has them: VBMI2 and AVX2) write what
 * the byte loop writes, under every flag set, and count the same NULs and
 * bad bytes. */
static void check_wide_loop(void)
{
    if (!pd_normalize_wide())
        printf("test_normalize: this CPU has no wide ASCII loop; all runs take the byte loop\n");
    char text[4096];
    pd_buf a, b;
    pd_buf_init(&a);
    pd_buf_init(&b);
    unsigned seed = 20261128, differ = 0;
    for (int i = 0; i < 40000; i++) {
        size_t len = random_text(text, sizeof text, &seed);
        unsigned flags = (unsigned)i % (PD_NORM_DEFAULT + 1);
        unsigned wide = i % 2 ? PD_NORM_NO_VBMI2 : 0; /* the AVX2 loop, or the widest */
        pd_norm_stats sa = {0, 0}, sb = {0, 0};
        size_t bad_a, bad_b;
        pd_status st_a = pd_normalize_at(text, len, flags | wide, &a, &sa, &bad_a, NULL);
        pd_status st_b =
            pd_normalize_at(text, len, flags | PD_NORM_BYTE_LOOP, &b, &sb, &bad_b, NULL);
        if (st_a != PD_OK || st_b != PD_OK || a.len != b.len || memcmp(a.data, b.data, a.len) ||
            sa.nul_bytes != sb.nul_bytes || sa.invalid_bytes != sb.invalid_bytes || bad_a != bad_b) {
            if (differ++ < 3)
                fprintf(stderr, "%s \"%.*s\" byte loop \"%.*s\" (flags %u)\n",
                        wide ? "AVX2" : "wide", (int)a.len, a.data, (int)b.len, b.data, flags);
        }
    }
    CHECK(differ == 0);
    pd_buf_release(&a);
    pd_buf_release(&b);
}

/* Normalize text[0..len) with the cache and without it, under flags: the
 * same bytes, counts and first bad byte. */
static bool same_with_cache(const char *text, size_t len, unsigned flags, pd_normcache *nc)
{
    static pd_buf a, b;
    pd_norm_stats sa = {0, 0}, sb = {0, 0};
    size_t bad_a, bad_b;
    pd_status st_a = pd_normalize_at(text, len, flags, &a, &sa, &bad_a, nc);
    pd_status st_b = pd_normalize_at(text, len, flags, &b, &sb, &bad_b, NULL);
    bool same = st_a == PD_OK && st_b == PD_OK && a.len == b.len &&
                !memcmp(a.data, b.data, a.len) && sa.nul_bytes == sb.nul_bytes &&
                sa.invalid_bytes == sb.invalid_bytes && bad_a == bad_b;
    static unsigned shown;
    if (!same && shown++ < 5)
        fprintf(stderr, "flags %u \"%.*s\": cached \"%.*s\", utf8proc \"%.*s\"\n", flags,
                (int)len, text, (int)a.len, a.data, (int)b.len, b.data);
    return same;
}

/* Every code point of the Basic Multilingual Plane and the emoji, and one
 * in 61 of the others, alone and between neighbours that could interact
 * with it (letters, a combining acute, Hangul jamo and a syllable, a nukta,
 * itself), is written the same with the cache as without it, under the
 * default steps and, for a sample, under every other set. */
static void check_cache_each_code_point(void)
{
    /* before and after: nothing, letters, an initial and a medial jamo, an
     * apostrophe, a Hangul syllable and a final jamo, Devanagari ka and nukta */
    static const char *const before[] = {"", "a", "\xD0\xB4", "\xE1\x84\x80", "x'",
                                         "\xEA\xB0\x80", "\xE0\xA4\x95"};
    static const char *const after[] = {"", "b", "\xCC\x81", "\xE1\x85\xA1", "\xE2\x80\x99s",
                                        "\xE1\x86\xA8", "\xE0\xA4\xBC"};
    enum { N_CONTEXTS = sizeof before / sizeof *before };
    pd_normcache nc[PD_NORM_DEFAULT + 1];
    memset(nc, 0, sizeof nc);
    unsigned differ = 0;
    for (int32_t cp = 0x80; cp < 0x110000; cp++) {
        bool emoji = cp >= 0x1F000 && cp <= 0x1FFFF;
        if ((cp >= 0xD800 && cp <= 0xDFFF) || (cp >= 0x10000 && !emoji && cp % 61))
            continue;
        char u[4];
        size_t n = (size_t)utf8proc_encode_char(cp, (utf8proc_uint8_t *)u);
        for (unsigned flags = 0; flags <= PD_NORM_DEFAULT; flags++) {
            if (flags != PD_NORM_DEFAULT && (unsigned)cp % 13 != flags)
                continue;
            for (int c = 0; c < N_CONTEXTS; c++) {
                char text[32];
                size_t bl = strlen(before[c]), al = strlen(after[c]);
                memcpy(text, before[c], bl);
                memcpy(text + bl, u, n);
                memcpy(text + bl + n, u, n); /* twice */
                memcpy(text + bl + 2 * n, after[c], al);
                differ += !same_with_cache(text, bl + n + al, flags, &nc[flags]);
                differ += !same_with_cache(text, bl + 2 * n + al, flags, &nc[flags]);
            }
        }
    }
    CHECK(differ == 0);
    for (unsigned f = 0; f <= PD_NORM_DEFAULT; f++)
        pd_normcache_release(&nc[f]);
}

/* Random text of code points that interact with their neighbours or not:
 * letters of several scripts, combining marks, Hangul jamo and syllables,
 * Indic letters and vowel signs, apostrophes, ignorables, ligatures and
 * compatibility forms, 4-byte characters (an emoji, Han, a mathematical
 * letter), bad bytes (4-byte ones too), NUL and ASCII. */
static void check_cache_random_text(void)
{
    static const char *const pieces[] = {
        "\xD0\x9F", "\xD1\x80", "\xCE\xA9", "\xE2\x84\xA6", "\xE2\x84\xAB", "\xC3\x9F",
        "\xC4\xB0", "\xC3\xA9", "\xCC\x81", "\xCC\x88", "\xE3\x82\x99", "\xE6\x9D\xB1",
        "\xE3\x81\x8B", "\xEA\xB0\x80", "\xEA\xB0\x81", "\xE1\x84\x80", "\xE1\x85\xA1",
        "\xE1\x86\xA8", "\xE1\x86\xA7", "\xE0\xA4\x95", "\xE0\xA4\xBE", "\xE0\xA4\xBC",
        "\xE0\xAD\x87", "\xE0\xAC\xBE", "\xE0\xAE\x95", "\xE0\xAF\x86", "\xE0\xAE\xBE",
        "\xE2\x80\x99", "\xE2\x80\x98", "\xCA\xBC", "\xC2\xAD", "\xE2\x80\x8B",
        "\xEF\xAC\x81", "\xEF\xAC\x83", "\xC2\xBD", "\xEF\xBC\xA1", "\xEF\xB7\xBA",
        "\xE2\x80\x94", "\xC2\xA0", "\xF0\x9F\x98\x80", "\xF0\xA0\x80\x80",
        "\xF0\x9D\x90\x80", "\xF0\x9F\x98", "\xF0\x80\x80\x80", "\xF4\x90\x80\x80", "\xFF",
        "\xE2\x82", "\xED\xA0\x80", "\0", "a", "Z", " ", "  ", ".", "'", ",", "-", "e", "U",
        "&amp;", "&#769;", "&", "<p>", "<", "](x)", "]", "[", "<br/>"};
    enum { N_PIECES = sizeof pieces / sizeof *pieces };
    pd_normcache nc[PD_NORM_DEFAULT + 1];
    memset(nc, 0, sizeof nc);
    uint64_t seed = 20261129;
    unsigned differ = 0;
    for (int i = 0; i < 40000; i++) {
        char text[512];
        size_t n = 0, want = check_rand(&seed) % (i % 8 ? 60 : 150); /* some runs over 64 */
        for (size_t k = 0; k < want; k++) {
            const char *p = pieces[check_rand(&seed) % N_PIECES];
            size_t len = p[0] ? strlen(p) : 1; /* "\0" is one NUL byte */
            memcpy(text + n, p, len);
            n += len;
        }
        unsigned flags = (unsigned)i % (PD_NORM_DEFAULT + 1);
        differ += !same_with_cache(text, n, flags, &nc[flags]);
    }
    CHECK(differ == 0);
    for (unsigned f = 0; f <= PD_NORM_DEFAULT; f++)
        pd_normcache_release(&nc[f]);
}

/* Long runs with no ASCII (Han without spaces), with a code point the
 * cache cannot write (a combining voiced mark, a Hangul final jamo) early,
 * late or twice: written as without the cache, where utf8proc reads a run
 * 64 code points at a time. */
static void check_cache_long_runs(void)
{
    static const char *const slow[] = {"\xE3\x82\x99", "\xE1\x86\xA8"};
    static const size_t at[][2] = {{3, 0}, {900, 0}, {63, 64}, {200, 700}, {999, 1000}};
    pd_normcache nc;
    memset(&nc, 0, sizeof nc);
    unsigned differ = 0;
    char text[1100 * 3 + 2 * 3];
    for (size_t s = 0; s < 2; s++)
        for (size_t a = 0; a < sizeof at / sizeof *at; a++) {
            size_t n = 0;
            for (size_t k = 0; k < 1100; k++) {
                memcpy(text + n, k % 3 ? "\xE6\x9D\xB1" : "\xE3\x81\x8B", 3); /* Han, kana */
                n += 3;
                if (k == at[a][0] || (at[a][1] && k == at[a][1])) {
                    memcpy(text + n, slow[s], 3);
                    n += 3;
                }
            }
            differ += !same_with_cache(text, n, PD_NORM_DEFAULT, &nc);
            differ += !same_with_cache(text, n, PD_NORM_DEFAULT & ~PD_NORM_ACCENTS, &nc);
        }
    CHECK(differ == 0);
    pd_normcache_release(&nc);
}

/* pd_norm_may_follow() holds for every starter that follows another in a
 * canonical decomposition utf8proc knows: the characters that can compose
 * with a starter before them, which the cache must leave to utf8proc. */
static void check_may_follow(void)
{
    unsigned missed = 0, seconds = 0;
    for (utf8proc_int32_t x = 0; x < 0x110000; x++) {
        utf8proc_int32_t d[32];
        utf8proc_ssize_t n = utf8proc_decompose_char(x, d, 32, UTF8PROC_DECOMPOSE, NULL);
        for (utf8proc_ssize_t k = 1; k < n && k < 32; k++)
            if (utf8proc_get_property(d[k])->combining_class == 0) {
                seconds++;
                if (!pd_norm_may_follow(d[k]) && missed++ < 3)
                    fprintf(stderr, "U+%04X follows a starter in U+%04X\n", (unsigned)d[k],
                            (unsigned)x);
            }
    }
    CHECK(seconds > 0 && missed == 0);
}

int main(void)
{
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"", ""},
        {"   ", ""},
        {"Hello,   World!", "hello world"},
        {"  --- Subscribe now! ---  ", "subscribe now"},
        {"López, Zürich, Ærø", "lopez zurich ærø"},
        {"Straße", "strasse"},
        {"U.S. Army", "us army"},
        {"US Army", "us army"},
        {"Mexico's and Mexico’s and Mexicoʼs", "mexicos and mexicos and mexicos"},
        {"“Curly” \"straight\" «guillemets»", "curly straight guillemets"},
        {"ﬁnal ² ＡＢＣ１２３", "final 2 abc123"},                   /* NFKC */
        {"e\xCC\x81t\xC3\xA9", "ete"},                               /* combining vs precomposed */
        {"syndi\xC2\xAD" "cated zero\xE2\x80\x8Bwidth", "syndicated zerowidth"}, /* ignorables */
        {"tab\tnew\nline\r\n", "tab new line"},
        {"em—dash–en-dash", "em dash en dash"},
        {"3.5 million", "35 million"},
        {"東京都に住む", "東 京 都 に 住 む"},                          /* Han and kana: a word each */
        {"Ελληνικά ΚΕΙΜΕΝΟ", "ελληνικα κειμενο"},
        {"Привет, МИР", "привет мир"},
        {"x\xE2\x80\xA6y", "xy"},                                    /* … -> ... -> deleted */
        /* HTML character references, as scraped copies keep some */
        {"AT&amp;T and the governor&#8217;s &quot;plan&quot;", "at t and the governors plan"},
        {"caf&eacute; caf&#233; caf&#xE9; CAF&Eacute;", "cafe cafe cafe cafe"},
        {"e&#769;t&#xe9;", "ete"},                                   /* decoded, then composed */
        {"fish &amp;amp; chips &amp;quot;fresh&amp;quot;", "fish chips fresh"}, /* escaped twice */
        {"a&nbsp;b&shy;c&mdash;d &frac12;", "a bc d 1 2"},
        {"&foo; &amp &#; &#x; &#0; &#xD800; &#1114112; &#12345678;", "foo amp x 0 xd800 1114112 12345678"},
        /* a word hyphenated at a line end is joined: '-', U+2010, U+2011,
         * a soft hyphen; blanks and CR around the break; capitals go on in
         * capitals */
        {"the gov-\nernment said", "the government said"},
        {"di\xE2\x80\x90\n       rectory and non\xE2\x80\x91 \r\n  breaking", "directory and nonbreaking"},
        {"syl\xC2\xAD\nlable", "syllable"},
        {"Caf\xC3\xA9-\n\xC3\xA9t\xC3\xA9 CONNEC-\nTION_TYPE", "cafeete connection type"},
        /* not a word going on: a capital after lower case, a digit, a
         * hyphen after a blank or a digit, a blank line, a hyphen inside a
         * line, a dash */
        {"Franco-\nGerman talks-\n2020 and 1990-\nyears, a -\nb, c-\n\nd", "franco german talks 2020 and 1990 years a b c d"},
        {"well-known and e-\nmail and x--\ny", "well known and email and x y"},
        /* markup: HTML tags and comments, Markdown link targets */
        {"<p>Hello <EM>world</em></p><BR/>", "hello world"},
        {"<a href=\"x>y\" class='z'\n>link</a> <!-- a <p> comment -->text", "link text"},
        {"[the report](https://example.com/a_(b)?c=1) said ![a map](map.png \"The map\")",
         "the report said a map"},
        {"<h1>A</h1><wbr><tt>B</tt><strong>C</strong>", "a b c"},
        /* not markup: no element's name, a blank, no end, a blank in a target */
        {"x<y or z>w, a < b > c, <notatag>, <a href, [1] and [2](a b), [3](", "x y or z w a b c notatag a href 1 and 2 a b 3"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        CHECK_STR(N(cases[i].in), cases[i].want);

    /* References are decoded unless the step is off, and the first
     * invalid byte is told in the text's own offsets. */
    CHECK_STR(norm("AT&amp;T&#8217;s", 16, PD_NORM_DEFAULT & ~PD_NORM_ENTITIES, NULL),
              "at amp t 8217 s");
    const char *refs = "\xC3\xA0&eacute;&amp;quot;x\xFFy";
    size_t first_bad;
    pd_buf out;
    pd_buf_init(&out);
    pd_norm_stats rst = {0, 0};
    CHECK(pd_normalize_at(refs, strlen(refs), PD_NORM_DEFAULT, &out, &rst, &first_bad, NULL) ==
          PD_OK);
    CHECK(out.len == 6 && memcmp(out.data, "ae x y", 6) == 0 && first_bad == 21 &&
          rst.invalid_bytes == 1);
    pd_buf_release(&out);
    /* Whether invalid bytes are Windows-1252 is decided on the raw text, not
     * on its decoding: "&eacute;" is no UTF-8. */
    CHECK_STR(N("caf&eacute; \xE9t\xE9"), "cafe ete");
    /* "&amp;" escaping "&amp;" 200,000 times, then "&quot;": one reference
     * (read in a loop: a recursion would overflow the stack) */
    size_t deep_len = 7 + 4 * 200000 + 7;
    char *deep = malloc(deep_len + 1);
    memcpy(deep, "x &amp;", 7);
    for (size_t k = 0; k < 200000; k++)
        memcpy(deep + 7 + 4 * k, "amp;", 4);
    memcpy(deep + 7 + 4 * 200000, "quot; y", 8);
    CHECK_STR(norm(deep, deep_len, PD_NORM_DEFAULT, NULL), "x y");
    free(deep);

    /* Hyphens are joined unless the step is off; the first invalid byte is
     * told in the text's own offsets. */
    CHECK_STR(norm("gov-\nernment", 13, PD_NORM_DEFAULT & ~PD_NORM_HYPHENS, NULL), "gov ernment");
    const char *broken = "ab-\n  cd ef\xE2\x80\x90\nghi\xFF";
    pd_buf_init(&out);
    rst = (pd_norm_stats){0, 0};
    CHECK(pd_normalize_at(broken, strlen(broken), PD_NORM_DEFAULT, &out, &rst, &first_bad, NULL) ==
          PD_OK);
    CHECK(out.len == 10 && memcmp(out.data, "abcd efghi", 10) == 0 && first_bad == 18 &&
          rst.invalid_bytes == 1);
    pd_buf_release(&out);
    /* (the UTF-8 hyphen is gone from the joined copy, which is still read as
     * UTF-8; Windows-1252 text is joined as well) */
    CHECK_STR(N("d\xE9j\xE0-\nvu"), "dejavu");
    /* nor a copy of the copy: markup taken out after the hyphen, the only
     * UTF-8, was joined */
    CHECK_STR(N("a<b>x</b>\xFF ab\xE2\x80\x90\ncd"), "a x abcd");

    /* Markup is taken out unless the step is off; the first invalid byte
     * is told in the text's own offsets. */
    CHECK_STR(norm("<p>Hi</p>", 9, PD_NORM_DEFAULT & ~PD_NORM_MARKUP, NULL), "p hi p");
    const char *marked = "\xC3\xA9<b>x</b>[y](z)\xFF";
    pd_buf_init(&out);
    rst = (pd_norm_stats){0, 0};
    CHECK(pd_normalize_at(marked, strlen(marked), PD_NORM_DEFAULT, &out, &rst, &first_bad, NULL) ==
          PD_OK);
    CHECK(out.len == 5 && memcmp(out.data, "e x y", 5) == 0 && first_bad == 16 &&
          rst.invalid_bytes == 1);
    pd_buf_release(&out);

    /* Each step can be turned off. */
    CHECK_STR(norm("López U.S.", 11, PD_NORM_DEFAULT & ~PD_NORM_CASEFOLD, NULL), "Lopez US");
    CHECK_STR(norm("López U.S.", 11, PD_NORM_DEFAULT & ~PD_NORM_ACCENTS, NULL), "lópez us");
    CHECK_STR(norm("López U.S.", 11, PD_NORM_DEFAULT & ~PD_NORM_DOTS, NULL), "lopez u s");
    CHECK_STR(norm("ﬁ", 3, PD_NORM_ACCENTS | PD_NORM_DOTS, NULL), "ﬁ");
    CHECK_STR(norm("A.B", 3, 0, NULL), "A B");

    /* Invalid UTF-8: each bad byte reads as a space, and is counted. */
    pd_norm_stats st = {0, 0};
    CHECK_STR(norm("ab\xFF" "cd\xC3\xA9", 7, PD_NORM_DEFAULT, &st), "ab cde");
    CHECK(st.invalid_bytes == 1);
    st = (pd_norm_stats){0, 0};
    const char *bad = "\xED\xA0\x80 surrogate \xC0\xAF overlong \xC3\xA9";
    CHECK_STR(norm(bad, strlen(bad), PD_NORM_DEFAULT, &st),
              "surrogate overlong e");
    CHECK(st.invalid_bytes == 5);
    /* ... unless the text holds no valid UTF-8 of more than one byte: then
     * it is Latin-1 or Windows-1252, and each bad byte reads as that. */
    st = (pd_norm_stats){0, 0};
    const char *legacy = "caf\xE9 don\x92t \x93Stra\xDF" "e\x94 \x81x";
    CHECK_STR(norm(legacy, strlen(legacy), PD_NORM_DEFAULT, &st), "cafe dont strasse x");
    CHECK(st.invalid_bytes == 6);
    CHECK_STR(norm("\xE2\x82", 2, PD_NORM_DEFAULT, NULL), "a"); /* â‚ */
    CHECK_STR(norm("caf\xE9 caf\xC3\xA9", 10, PD_NORM_DEFAULT, NULL), "caf cafe");
    /* NUL bytes read as spaces, and are counted. */
    st = (pd_norm_stats){0, 0};
    CHECK_STR(norm("a\0b", 3, PD_NORM_DEFAULT, &st), "a b");
    CHECK(st.nul_bytes == 1);

    /* A long run of combining marks (zalgo) and long non-ASCII text. */
    char zalgo[2 + 200 * 2 + 1];
    zalgo[0] = 'z';
    for (int i = 0; i < 200; i++)
        memcpy(zalgo + 1 + 2 * i, "\xCC\x81", 2);
    zalgo[401] = 'a';
    zalgo[402] = 0;
    CHECK_STR(norm(zalgo, 402, PD_NORM_DEFAULT, NULL), "za");
    char greek[4001];
    for (int i = 0; i < 1000; i++)
        memcpy(greek + 4 * i, "Ωω", 4); /* 4 bytes a pair, no spaces: one long word */
    greek[4000] = 0;
    const char *g = norm(greek, 4000, PD_NORM_DEFAULT, NULL);
    CHECK(strlen(g) == 4000 && strncmp(g, "ωω", 4) == 0);

    /* A deleted dot or apostrophe between a base and a combining mark: the
     * mark still composes with the base (found by the normalize fuzzer). */
    unsigned keep_accents = PD_NORM_DEFAULT & ~PD_NORM_ACCENTS;
    CHECK_STR(norm("U\xCC\x88.\xCC\x81", 6, keep_accents, NULL), "\xC7\x98");         /* Ü.◌́ -> ǘ */
    CHECK_STR(norm("\xC3\x9C\xE2\x80\x99\xCC\x81", 7, keep_accents, NULL), "\xC7\x98"); /* Ü’◌́ */
    CHECK_STR(norm("\xC3\x9C.\xCC\x81", 5, keep_accents, NULL), "\xC7\x98");            /* Ü.◌́ */
    /* Decomposed and precomposed text agree when accents are kept: e + U+0301 is é. */
    CHECK_STR(norm("Cafe\xCC\x81 cafe\xCC\x81", 13, keep_accents, NULL), "caf\xC3\xA9 caf\xC3\xA9");

    /* Idempotent: normalizing normalized text changes nothing. */
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char once[256];
        snprintf(once, sizeof once, "%s", N(cases[i].in));
        CHECK_STR(N(once), once);
    }
    check_wide_loop();
    check_may_follow();
    check_cache_each_code_point();
    check_cache_random_text();
    check_cache_long_runs();
    return check_done("test_normalize");
}
