/* test_normalize.c - what "the same text" means: NFKC, casefold, accents,
 * dots and apostrophes, punctuation, whitespace, invalid UTF-8, NUL; and the
 * wide ASCII loop writes what the byte loop writes. */
#include "check.h"
#include "internal.h"

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
        "\xEF\xAC\x81", "word ", "Word, ", "words. ", "WORDS ", "and ", "12 "};
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

/* The wide ASCII loop (where this CPU has it) writes what the byte loop
 * writes, under every flag set, and counts the same NULs and bad bytes. */
static void check_wide_loop(void)
{
    if (!pd_normalize_wide())
        printf("test_normalize: this CPU has no wide ASCII loop; both runs take the byte loop\n");
    char text[4096];
    pd_buf a, b;
    pd_buf_init(&a);
    pd_buf_init(&b);
    unsigned seed = 20261128, differ = 0;
    for (int i = 0; i < 20000; i++) {
        size_t len = random_text(text, sizeof text, &seed);
        unsigned flags = (unsigned)i % (PD_NORM_DEFAULT + 1);
        pd_norm_stats sa = {0, 0}, sb = {0, 0};
        size_t bad_a, bad_b;
        pd_status st_a = pd_normalize_at(text, len, flags, &a, &sa, &bad_a);
        pd_status st_b = pd_normalize_at(text, len, flags | PD_NORM_BYTE_LOOP, &b, &sb, &bad_b);
        if (st_a != PD_OK || st_b != PD_OK || a.len != b.len || memcmp(a.data, b.data, a.len) ||
            sa.nul_bytes != sb.nul_bytes || sa.invalid_bytes != sb.invalid_bytes || bad_a != bad_b) {
            if (differ++ < 3)
                fprintf(stderr, "wide \"%.*s\" byte loop \"%.*s\" (flags %u)\n", (int)a.len,
                        a.data, (int)b.len, b.data, flags);
        }
    }
    CHECK(differ == 0);
    pd_buf_release(&a);
    pd_buf_release(&b);
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
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        CHECK_STR(N(cases[i].in), cases[i].want);

    /* Each step can be turned off. */
    CHECK_STR(norm("López U.S.", 11, PD_NORM_DEFAULT & ~PD_NORM_CASEFOLD, NULL), "Lopez US");
    CHECK_STR(norm("López U.S.", 11, PD_NORM_DEFAULT & ~PD_NORM_ACCENTS, NULL), "lópez us");
    CHECK_STR(norm("López U.S.", 11, PD_NORM_DEFAULT & ~PD_NORM_DOTS, NULL), "lopez u s");
    CHECK_STR(norm("ﬁ", 3, PD_NORM_ACCENTS | PD_NORM_DOTS, NULL), "ﬁ");
    CHECK_STR(norm("A.B", 3, 0, NULL), "A B");

    /* Invalid UTF-8: each bad byte reads as a space, and is counted. */
    pd_norm_stats st = {0, 0};
    CHECK_STR(norm("ab\xFF" "cd\xC3", 6, PD_NORM_DEFAULT, &st), "ab cd");
    CHECK(st.invalid_bytes == 2);
    st = (pd_norm_stats){0, 0};
    CHECK_STR(norm("\xE2\x82", 2, PD_NORM_DEFAULT, &st), "");
    CHECK(st.invalid_bytes == 2);
    st = (pd_norm_stats){0, 0};
    const char *bad = "\xED\xA0\x80 surrogate \xC0\xAF overlong";
    CHECK_STR(norm(bad, strlen(bad), PD_NORM_DEFAULT, &st),
              "surrogate overlong");
    CHECK(st.invalid_bytes == 5);
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
    return check_done("test_normalize");
}
