/* test_segment.c - lines, paragraphs and sentences; CRLF, BOM, no final
 * newline, offsets and line numbers. */
#include "check.h"
#include "internal.h"

/* Segment `in` and render units as "index:l0-l1:[b,e):text|..." */
static const char *seg(const char *in, pd_unit_kind kind)
{
    static char out[4096];
    pd_segmenter s;
    pd_unit u;
    pd_buf text;
    pd_buf_init(&text);
    size_t len = strlen(in), n = 0;
    out[0] = 0;
    pd_segment_init(&s, in, len, kind);
    while (pd_segment_next(&s, &u)) {
        pd_unit_text(in, len, &u, kind, &text);
        n += (size_t)snprintf(out + n, sizeof out - n, "%u:%u-%u:[%llu,%llu):%s|", u.index,
                              u.line_start, u.line_end, (unsigned long long)u.byte_start,
                              (unsigned long long)u.byte_end, text.len ? text.data : "");
    }
    pd_buf_release(&text);
    return out;
}

/* A line of tokens that test the sentence splitter: terminators, closers,
 * abbreviations, initials, numbers, capitals in and out of ASCII. */
static size_t tricky_line(char *out, size_t cap, unsigned seed)
{
    static const char *tok[] = {
        "The", "cat", "sat", ".", "!", "?", "?!", "...", "Mr.", "U.S.", "e.g.", "J.", "etc.",
        "3.5", "2026", "\"", "'", ")", "]", "”", "’", "»", "“", "«", "(", "Élan", "ω", "Ǆ",
        "a", "B", ",", "\t", "  ", " ", " ", " ", " "};
    size_t n = 0;
    unsigned x = seed * 2654435761u + 1;
    while (n + 8 < cap) {
        x = x * 1103515245u + 12345u;
        const char *t = tok[(x >> 16) % (sizeof tok / sizeof *tok)];
        size_t k = strlen(t);
        if (n + k + 1 >= cap)
            break;
        memcpy(out + n, t, k);
        n += k;
        if ((x >> 8) % 3)
            out[n++] = ' ';
    }
    out[n] = 0;
    return n;
}

/* A sentence start found from any place in a line (pd_segment_sentence_start,
 * which lets the scan cut a long line of sentences into chunks) is one of the
 * starts the segmenter finds reading the whole line. The line is a copy of
 * exactly its length, so that a read past a window's end shows under ASan. */
static void test_sentence_start(void)
{
    static char buf[3000];
    static bool start[3000];
    unsigned found = 0, wrong = 0;
    for (unsigned seed = 0; seed < 300; seed++) {
        size_t len = tricky_line(buf, sizeof buf, seed);
        if (seed % 2)
            buf[len - 1] = ' '; /* a line that ends in a blank */
        char *line = malloc(len);
        memcpy(line, buf, len);
        memset(start, 0, sizeof start);
        pd_segmenter s;
        pd_unit u;
        pd_segment_init(&s, line, len, PD_UNIT_SENTENCE);
        while (pd_segment_next(&s, &u))
            start[u.byte_start] = true;
        /* windows [from, to): to every 97 bytes, and at the line's end */
        for (size_t from = 1; from < len; from += 1 + seed % 5)
            for (size_t to = from + 1;; to += 97) {
                if (to > len)
                    to = len;
                size_t k = pd_segment_sentence_start(line, from, to);
                found += k != 0;
                if (k && (k < from || k >= to || !start[k]) && !wrong++)
                    fprintf(stderr, "seed %u: %zu, found in [%zu, %zu), starts no sentence\n",
                            seed, k, from, to);
                if (to == len)
                    break;
            }
        free(line);
    }
    CHECK(found > 10000);
    CHECK(wrong == 0);
}

/* Lines of sentences whose terminators fall at every offset of an 8-byte
 * word, among bytes one bit away from a terminator ('/', '-', '>', and the
 * continuation bytes of ® ¿ ¡), which must not end one: each generated
 * sentence is one unit. */
static void test_terminator_offsets(void)
{
    static const char *const near[] = {"a/b", "c-d", "e>f", "g\xC2\xAEh", "\xC2\xBFi", "j\xC2\xA1"};
    static char line[4096], want[4096];
    unsigned bad = 0, sentences = 0;
    for (unsigned seed = 0; seed < 64; seed++) {
        size_t n = 0, w = 0;
        unsigned x = seed * 2654435761u + 7;
        for (int k = 0; k < 12; k++) {
            size_t from = n;
            x = x * 1103515245u + 12345u;
            n += (size_t)sprintf(line + n, "%sWord %s %.*s%c", k ? " " : "",
                                 near[(x >> 10) % 6], 6 + (int)((x >> 16) % 9), "xxxxxxxxxxxxxxx",
                                 ".!?"[(x >> 20) % 3]);
            from += k ? 1 : 0;
            w += (size_t)sprintf(want + w, "%.*s|", (int)(n - from), line + from);
            sentences++;
        }
        char *copy = malloc(n); /* exactly its length: a read past it shows under ASan */
        memcpy(copy, line, n);
        pd_segmenter sg;
        pd_unit u;
        char got[4096];
        size_t g = 0;
        pd_segment_init(&sg, copy, n, PD_UNIT_SENTENCE);
        while (pd_segment_next(&sg, &u) && g < sizeof got - 600)
            g += (size_t)sprintf(got + g, "%.*s|", (int)(u.byte_end - u.byte_start),
                                 copy + u.byte_start);
        if (strcmp(got, want) != 0 && !bad++)
            fprintf(stderr, "seed %u:\n got  %s\n want %s\n", seed, got, want);
        free(copy);
    }
    CHECK(sentences == 64 * 12);
    CHECK(bad == 0);
}

int main(void)
{
    static const struct {
        const char *in;
        pd_unit_kind kind;
        const char *want;
    } cases[] = {
        {"", PD_UNIT_LINE, ""},
        {"\n\n  \n", PD_UNIT_LINE, ""},
        {"a\nb", PD_UNIT_LINE, "1:1-1:[0,1):a|2:2-2:[2,3):b|"},
        {"  one  \n\ntwo\n", PD_UNIT_LINE, "1:1-1:[2,5):one|2:3-3:[9,12):two|"},
        {"one\r\ntwo\r\n", PD_UNIT_LINE, "1:1-1:[0,3):one|2:2-2:[5,8):two|"},
        {"\xEF\xBB\xBFhi\n", PD_UNIT_LINE, "1:1-1:[3,5):hi|"},
        {"\tx\t\r\n", PD_UNIT_LINE, "1:1-1:[1,2):x|"},
        /* paragraphs: lines trimmed and joined by one space, offsets span them */
        {"a b\n  c d  \n\n\ne\n", PD_UNIT_PARAGRAPH, "1:1-2:[0,9):a b c d|2:5-5:[14,15):e|"},
        {"p1\r\n \r\np2 line\r\nmore", PD_UNIT_PARAGRAPH, "1:1-1:[0,2):p1|2:3-4:[7,20):p2 line more|"},
        {"x\n", PD_UNIT_PARAGRAPH, "1:1-1:[0,1):x|"},
        /* sentences */
        {"One. Two! Three? Four", PD_UNIT_SENTENCE, "1:1-1:[0,4):One.|2:1-1:[5,9):Two!|3:1-1:[10,16):Three?|4:1-1:[17,21):Four|"},
        {"Mr. Smith went to the U.S. Army. He left.", PD_UNIT_SENTENCE,
         "1:1-1:[0,32):Mr. Smith went to the U.S. Army.|2:1-1:[33,41):He left.|"},
        {"J. R. R. Tolkien wrote it. Yes.", PD_UNIT_SENTENCE,
         "1:1-1:[0,26):J. R. R. Tolkien wrote it.|2:1-1:[27,31):Yes.|"},
        {"He said \"Stop.\" Then he left.", PD_UNIT_SENTENCE,
         "1:1-1:[0,15):He said \"Stop.\"|2:1-1:[16,29):Then he left.|"},
        {"It cost 3.5 million. 2026 was late. e.g. this one", PD_UNIT_SENTENCE,
         "1:1-1:[0,20):It cost 3.5 million.|2:1-1:[21,49):2026 was late. e.g. this one|"},
        {"lower. case stays", PD_UNIT_SENTENCE, "1:1-1:[0,17):lower. case stays|"},
        {"Fin.\nNext line. Second.", PD_UNIT_SENTENCE, "1:1-1:[0,4):Fin.|2:2-2:[5,15):Next line.|3:2-2:[16,23):Second.|"},
        {"She wrote “Done.” Élan followed.", PD_UNIT_SENTENCE,
         "1:1-1:[0,21):She wrote “Done.”|2:1-1:[22,37):Élan followed.|"},
        {"Jan. 5 was cold. Feb. was not.", PD_UNIT_SENTENCE, "1:1-1:[0,16):Jan. 5 was cold.|2:1-1:[17,30):Feb. was not.|"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        CHECK_STR(seg(cases[i].in, cases[i].kind), cases[i].want);

    /* Units' byte spans always slice the raw text back to the unit text. */
    const char *doc = "  alpha beta \r\n\r\ngamma\n  delta";
    pd_segmenter s;
    pd_unit u;
    pd_segment_init(&s, doc, strlen(doc), PD_UNIT_LINE);
    const char *want[] = {"alpha beta", "gamma", "delta"};
    for (int i = 0; pd_segment_next(&s, &u); i++)
        CHECK(strncmp(doc + u.byte_start, want[i], (size_t)(u.byte_end - u.byte_start)) == 0 &&
              strlen(want[i]) == u.byte_end - u.byte_start);
    test_sentence_start();
    test_terminator_offsets();
    return check_done("test_segment");
}
