/* test_segment.c - lines, paragraphs and sentences; CRLF, BOM, no final
 * newline, offsets and line numbers; the search for terminators with AVX2
 * and without; whether a wrapped line runs on, read through a window; a
 * line of blanks longer than anything that reads it; whether a sentence
 * ends at a run of blanks, from the text on either side; the quotation
 * marks of a line a range begins inside. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include "check.h"
#include "internal.h"

#include <sys/mman.h>

/* Segment `in` and render units as "index:l0-l1:[b,e):text|...", or, with
 * texts_only, as "text|...". */
static const char *render(const char *in, pd_unit_kind kind, bool texts_only)
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
        if (!texts_only)
            n += (size_t)snprintf(out + n, sizeof out - n, "%u:%u-%u:[%llu,%llu):", u.index,
                                  u.line_start, u.line_end, (unsigned long long)u.byte_start,
                                  (unsigned long long)u.byte_end);
        n += (size_t)snprintf(out + n, sizeof out - n, "%s|", text.len ? text.data : "");
    }
    pd_buf_release(&text);
    return out;
}

static const char *seg(const char *in, pd_unit_kind kind)
{
    return render(in, kind, false);
}

/* A line of tokens that test the sentence splitter: terminators, closers,
 * abbreviations, initials, numbers, capitals in and out of ASCII. */
static size_t tricky_line(char *out, size_t cap, unsigned seed)
{
    static const char *tok[] = {
        "The", "cat", "sat", ".", "!", "?", "?!", "...", "Mr.", "U.S.", "e.g.", "J.", "etc.",
        "3.5", "2026", "\"", "'", ")", "]", "”", "’", "»", "“", "«", "(", "Élan", "ω", "Ǆ",
        "a", "B", ",", "\t", "  ", " ", " ", " ", " ", "。", "！", "」", "晴", "は", "।", "क",
        "؟", "ن", "\xE3\x80", "\xEF\xBC"};
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

/* The search for sentence terminators finds, with the AVX2 blocks (where the
 * CPU has them) and without, the same first terminator from every start in
 * texts of ASCII words, marks, the strong marks of other scripts, their
 * lead bytes before other characters, and cuts inside them, each text
 * exactly its length (a read past it shows under ASan). */
static void test_terminator_search(void)
{
    static const char *const pieces[] = {
        "word ", "Word ", "a", " ", ". ", "! ", "? ", "...", "\xE3\x80\x82", "\xEF\xBC\x81",
        "\xEF\xBC\x9F", "\xEF\xBD\xA1", "\xE0\xA5\xA4", "\xE1\x8D\xA2", "\xD8\x9F", "\xDB\x94",
        "\xE3\x81\x82", "\xE0\xA4\x95", "\xEF\xBC\xA1", "\xD8\xA8", "\xC3\xA9", "\xE3\x80", "\xEF"};
    enum { N = sizeof pieces / sizeof *pieces };
    uint64_t r = 11;
    unsigned wrong = 0, asked = 0;
    for (int t = 0; t < 400; t++) {
        char buf[300];
        size_t n = 0, want = (size_t)(check_rand(&r) % 250);
        int mode = t % 4; /* ASCII; words with a mark in 30 pieces; anything (twice) */
        while (n < want) {
            uint64_t x = check_rand(&r);
            const char *p = mode == 0   ? pieces[x % 7]
                            : mode == 1 ? pieces[x % 30 ? x % 4 : 4 + x / 30 % 4]
                                        : pieces[x % N];
            size_t len = strlen(p);
            if (n + len > sizeof buf)
                break;
            memcpy(buf + n, p, len);
            n += len;
        }
        char *text = malloc(n ? n : 1);
        memcpy(text, buf, n);
        for (size_t i = 0; i <= n; i++, asked++)
            wrong += pd_segment_terminator(text, i, n, false) != pd_segment_terminator(text, i, n, true);
        free(text);
    }
    CHECK(wrong == 0 && asked > 20000);
}

/* The texts of the sentences of `in`, as "text|text|...". */
static const char *sentence_texts(const char *in)
{
    return render(in, PD_UNIT_SENTENCE, true);
}

/* Hard-wrapped text: a sentence runs across lines, so a paragraph wrapped
 * at 40 or 72 columns, or at 31 indented by 2 with CRLF, has the sentences of the
 * same paragraph on one line, whether a line ends before a capital, after
 * an abbreviation or before a number. A scraped page's lines (banners, a
 * headline, a byline, paragraphs a line each), headlines of one width and a
 * list's items are not joined. */
static void test_wrapped(void)
{
    const char *line =
        "The city council voted on Tuesday to approve a new budget that increases spending on "
        "public transit by 12 percent, said Mayor Jane Smith of Port City. Officials said work on "
        "the new line would begin next spring and take about three years, with service from 2029. "
        "Mr. Alvarez of the U.S. Department of Transportation agreed.\n";
    const char *at40 =
        "The city council voted on Tuesday to\napprove a new budget that increases\nspending on "
        "public transit by 12\npercent, said Mayor Jane Smith of Port\nCity. Officials said work "
        "on the new\nline would begin next spring and take\nabout three years, with service "
        "from\n2029. Mr. Alvarez of the U.S. Department\nof Transportation agreed.\n";
    const char *at31 =
        "  The city council voted on\r\n  Tuesday to approve a new budget\r\n  that increases "
        "spending on\r\n  public transit by 12 percent,\r\n  said Mayor Jane Smith of Port\r\n  "
        "City. Officials said work on\r\n  the new line would begin next\r\n  spring and take "
        "about three\r\n  years, with service from 2029.\r\n  Mr. Alvarez of the U.S.\r\n  "
        "Department of Transportation\r\n  agreed.\r\n";
    const char *one72 =
        "The city council voted on Tuesday to approve a new budget that increases\nspending on "
        "public transit by 12 percent, said Mayor Jane Smith of Port\nCity. Officials said work "
        "on the new line would begin next spring and\ntake about three years, with service from "
        "2029. Mr. Alvarez of the U.S.\nDepartment of Transportation agreed.\n";
    CHECK_STR(sentence_texts(line),
              "The city council voted on Tuesday to approve a new budget that increases spending "
              "on public transit by 12 percent, said Mayor Jane Smith of Port City.|Officials said "
              "work on the new line would begin next spring and take about three years, with "
              "service from 2029.|Mr. Alvarez of the U.S. Department of Transportation agreed.|");
    /* At 72 columns the paragraph has two lines a sentence goes on after:
     * too few to tell (two lines of a page may start in lower case). Twice,
     * it has four. */
    char at72[1024];
    snprintf(at72, sizeof at72, "%s\n%s", one72, one72);
    CHECK(pd_segment_wrap(line, strlen(line)) == 0 && pd_segment_wrap(one72, strlen(one72)) == 0);
    CHECK(pd_segment_wrap(at40, strlen(at40)) == 40 && pd_segment_wrap(at31, strlen(at31)) == 33 &&
          pd_segment_wrap(at72, strlen(at72)) == 72);
    char want[1024], twice[2048]; /* sentence_texts() returns the same buffer each time */
    snprintf(want, sizeof want, "%s", sentence_texts(line));
    snprintf(twice, sizeof twice, "%s%s", want, want);
    CHECK_STR(sentence_texts(at40), want);
    CHECK_STR(sentence_texts(at31), want);
    CHECK_STR(sentence_texts(at72), twice);
    /* lines and bytes: a sentence from its first line's text to its last's */
    CHECK(strncmp(seg(at72, PD_UNIT_SENTENCE), "1:1-3:[0,150):", 14) == 0);
    CHECK(strstr(seg(at72, PD_UNIT_SENTENCE), "|2:3-4:[151,262):Officials") != NULL);
    CHECK(strstr(seg(at72, PD_UNIT_SENTENCE), "|3:4-5:[263,323):Mr. Alvarez") != NULL);

    /* Paragraphs with no blank line between them: a paragraph's last line
     * is short and the next starts with a capital, at three of the seven
     * line ends here; the lines a sentence goes on after still show the
     * width. */
    const char *packed =
        "Crews will replace worn expansion joints on the Harbor\nBridge starting in March, "
        "officials said.\nThe closure is the first full shutdown of the span since\nit opened in "
        "1987, according to Port City records.\nDrivers will be sent to the Fifth Street "
        "crossing and\nthe coastal highway during the six weeks of work.\nThe city will add two "
        "temporary ferry runs each morning\nand evening for commuters from the north shore.\n";
    CHECK(pd_segment_wrap(packed, strlen(packed)) == 56);
    CHECK_STR(sentence_texts(packed),
              "Crews will replace worn expansion joints on the Harbor Bridge starting in March, "
              "officials said.|The closure is the first full shutdown of the span since it opened "
              "in 1987, according to Port City records.|Drivers will be sent to the Fifth Street "
              "crossing and the coastal highway during the six weeks of work.|The city will add "
              "two temporary ferry runs each morning and evening for commuters from the north "
              "shore.|");

    /* A list after wrapped text: its items are not joined. */
    char list[1024];
    snprintf(list, sizeof list, "%s- the first item of the list, long enough to fill\n"
                                "- a second item\n\xE2\x80\xA2 a bullet\n", at40);
    CHECK(pd_segment_wrap(list, strlen(list)) == 40);
    CHECK(strstr(sentence_texts(list), "agreed.|- the first item of the list, long enough to "
                                       "fill|- a second item|\xE2\x80\xA2 a bullet|") != NULL);

    /* Lines of one width that do not go on in lower case (headlines, a
     * table, a log) are not prose: not joined. */
    const char *heads = "Council Approves Record Transit Budget For Port\n"
                        "Harbor Bridge Will Close For Six Weeks In March\n"
                        "School Board Weighs Cuts To Music And Sports Now\n"
                        "Ferry Service Adds Two Runs For North Shore Riders\n"
                        "Mayor Says Federal Money Covers Most Of The Cost\n";
    CHECK(pd_segment_wrap(heads, strlen(heads)) == 0);

    /* A scraped page: each line is a stretch of its own. */
    const char *page =
        "DAILY LEDGER | Subscribe for $1 a week and get unlimited access to local news\n"
        "Subscribe now\n"
        "Harbor Bridge will close for six weeks of repairs starting in March\n"
        "By Ana Lopez, Staff Writer | Updated Feb. 12, 2026 at 4:15 p.m.\n"
        "The Harbor Bridge, which carries about 40,000 vehicles a day between the port district "
        "and downtown, will close to all traffic for six weeks. Officials said the work could "
        "not be done in stages because the joints sit beneath every lane of the bridge deck.\n"
        "Photo: Traffic crosses the Harbor Bridge at dusk on Tuesday\n"
        "Related: City council approves new bus lanes on Fifth Street\n"
        "Subscribe now\n";
    CHECK(pd_segment_wrap(page, strlen(page)) == 0);
    CHECK_STR(sentence_texts(page),
              "DAILY LEDGER | Subscribe for $1 a week and get unlimited access to local news|"
              "Subscribe now|Harbor Bridge will close for six weeks of repairs starting in March|"
              "By Ana Lopez, Staff Writer | Updated Feb. 12, 2026 at 4:15 p.m.|"
              "The Harbor Bridge, which carries about 40,000 vehicles a day between the port "
              "district and downtown, will close to all traffic for six weeks.|Officials said the "
              "work could not be done in stages because the joints sit beneath every lane of the "
              "bridge deck.|Photo: Traffic crosses the Harbor Bridge at dusk on Tuesday|"
              "Related: City council approves new bus lanes on Fifth Street|Subscribe now|");
}

/* Lines of hard-wrapped text are read as they were before wrapping: the
 * paragraph at 40 columns, and indented with CRLF at 31, is one line unit,
 * whose text is its one-line form; pd_segment_keep_lines() reads every
 * line as written. Lines of one width that go on in lower case but hold no
 * punctuation (generated records, a word list) are not prose, nor are two
 * lines of a short page. */
static void test_unwrapped_lines(void)
{
    const char *line =
        "It was the first full closure of the span since it opened in 1987, and the city said "
        "drivers should plan for delays. Crews will work at night when they can.";
    const char *at40 =
        "It was the first full closure of the\nspan since it opened in 1987, and the\ncity said "
        "drivers should plan for\ndelays. Crews will work at night when\nthey can.\n\n"
        "Short line.\n";
    const char *at31 =
        "   It was the first full\r\n   closure of the span since it\r\n   opened in 1987, and the "
        "city\r\n   said drivers should plan for\r\n   delays. Crews will work at\r\n   night when "
        "they can.\r\n\r\nShort line.\r\n";
    char want[1024];
    snprintf(want, sizeof want, "1:1-5:[0,%zu):%s|2:7-7:[%zu,%zu):Short line.|", strlen(line),
             line, strlen(line) + 2, strlen(line) + 13);
    CHECK(pd_segment_wrap(at40, strlen(at40)) == 37);
    CHECK_STR(seg(at40, PD_UNIT_LINE), want);
    snprintf(want, sizeof want, "%s|Short line.|", line);
    CHECK_STR(render(at31, PD_UNIT_LINE, true), want);

    /* Balanced as fmt balances lines: the third line is 8 characters short
     * of the width with the next word, and runs on as the next line goes on
     * in lower case; before a capital it would end the unit. */
    char balanced[512];
    snprintf(balanced, sizeof balanced, "%s%s",
             "It was the first full closure of the\nspan since it opened in 1987, and the\n"
             "city said drivers should\nplan for delays. Crews will work at\nnight when they "
             "can.\n\n", at40);
    CHECK(pd_segment_wrap(balanced, strlen(balanced)) == 37);
    snprintf(want, sizeof want, "%s|%s|Short line.|", line, line);
    CHECK_STR(render(balanced, PD_UNIT_LINE, true), want);
    strstr(balanced, "\nplan")[1] = 'P';
    CHECK(strncmp(seg(balanced, PD_UNIT_LINE), "1:1-3:", 6) == 0);

    /* A line does not run on into one indented deeper than its text: the
     * next paragraph of text that indents first lines (with no blank line
     * between, the first one's last line full), or a block of code. A list
     * item's lines, indented under its text, and a paragraph indented as a
     * whole go on. */
    const char *book =
        "    It was the first full closure of\nthe span since it opened in 1987, and\n"
        "the city said drivers should plan for\nlong delays on the coastal road.\n"
        "    Crews will work at night when they\ncan, and the ferry will add two runs\n"
        "each morning for commuters who live on\nthe north shore.\n";
    CHECK(pd_segment_wrap(book, strlen(book)) == 38);
    CHECK_STR(seg(book, PD_UNIT_LINE),
              "1:1-4:[4,145):It was the first full closure of the span since it opened in 1987, "
              "and the city said drivers should plan for long delays on the coastal road.|"
              "2:5-8:[150,277):Crews will work at night when they can, and the ferry will add two "
              "runs each morning for commuters who live on the north shore.|");
    const char *blocks =
        "It was the first full closure of the span\nsince it opened in 1987, and the city said\n"
        "drivers should plan for long delays on the\ncoastal road, and crews will work at night\n"
        "        make check && make install\n\n"
        "(a) the ferry will add two runs each morning\n"
        "    for commuters who live on the north shore;\n"
        "- and the bus will run every ten minutes on\n"
        "  the bridge road, where the old tolls were.\n\n"
        "    The state will pay for most of the work,\n"
        "    said the governor, who visited the site.\n";
    CHECK_STR(seg(blocks, PD_UNIT_LINE),
              "1:1-4:[0,170):It was the first full closure of the span since it opened in 1987, "
              "and the city said drivers should plan for long delays on the coastal road, and "
              "crews will work at night|2:5-5:[179,205):make check && make install|"
              "3:7-8:[207,298):(a) the ferry will add two runs each morning for commuters who "
              "live on the north shore;|4:9-10:[299,387):- and the bus will run every ten "
              "minutes on the bridge road, where the old tolls were.|5:12-13:[393,478):The "
              "state will pay for most of the work, said the governor, who visited the site.|");

    /* A paragraph of a manual page, five lines at column 7, and its unit. */
#define FROB_PARAGRAPH                                                                           \
    "       Frob reads the configuration of a running server and\n"                              \
    "       changes the widgets it names, one at a time, in the\n"                               \
    "       order given on the command line; it waits for each\n"                                \
    "       change to take effect before it goes on to the next\n"                               \
    "       one, and stops at the first change that fails.\n"
#define FROB_PARAGRAPH_UNIT                                                                      \
    "Frob reads the configuration of a running server and changes the widgets it names, one at " \
    "a time, in the order given on the command line; it waits for each change to take effect "   \
    "before it goes on to the next one, and stops at the first change that fails."

    /* A manual page: lines of options, each over its description indented
     * deeper, say nothing of how the text is wrapped (they cannot run on);
     * its paragraphs make it look wrapped, and an item marked with a dash
     * goes on under its text. */
    const char *manual =
        "NAME\n"
        "       frob - adjust the widgets of a running server\n"
        "\n"
        "DESCRIPTION\n"
        FROB_PARAGRAPH
        "\n"
        "OPTIONS\n"
        "       -a, --all\n"
        "              change every widget the server knows, not only\n"
        "              the ones named on the command line\n"
        "       -n, --dry-run\n"
        "              print what would change, and change nothing at\n"
        "              all\n"
        "       -w, --wait=SECONDS\n"
        "              wait this long for each change before giving\n"
        "              up on it (default: ten seconds)\n"
        "       -q, --quiet\n"
        "              print nothing but errors\n"
        "       -v, --verbose\n"
        "              print each widget as it changes, with the\n"
        "              value it had before\n"
        "\n"
        "       When the server does not answer, frob tries again\n"
        "       three times and then gives up with a message that\n"
        "       names the widget it was changing at the time.\n"
        "       — the first try waits one second, the second two\n"
        "         seconds and the third four seconds, so that a busy\n"
        "         server has time to catch up.\n";
    CHECK(pd_segment_wrap(manual, strlen(manual)) == 60);
    CHECK_STR(seg(manual, PD_UNIT_LINE),
              "1:1-1:[0,4):NAME|"
              "2:2-2:[12,57):frob - adjust the widgets of a running server|"
              "3:4-4:[59,70):DESCRIPTION|"
              "4:5-9:[78,360):" FROB_PARAGRAPH_UNIT "|"
              "5:11-11:[362,369):OPTIONS|"
              "6:12-12:[377,386):-a, --all|"
              "7:13-14:[401,496):change every widget the server knows, not only the ones named on "
              "the command line|"
              "8:15-15:[504,517):-n, --dry-run|"
              "9:16-17:[532,596):print what would change, and change nothing at all|"
              "10:18-18:[604,622):-w, --wait=SECONDS|"
              "11:19-20:[637,727):wait this long for each change before giving up on it (default: "
              "ten seconds)|"
              "12:21-21:[735,746):-q, --quiet|"
              "13:22-22:[761,785):print nothing but errors|"
              "14:23-23:[793,806):-v, --verbose|"
              "15:24-25:[821,896):print each widget as it changes, with the value it had before|"
              "16:27-29:[905,1064):When the server does not answer, frob tries again three times "
              "and then gives up with a message that names the widget it was changing at the time.|"
              "17:30-32:[1072,1220):— the first try waits one second, the second two seconds and "
              "the third four seconds, so that a busy server has time to catch up.|");

    /* Tagged paragraphs: a tag and its text share the first line, and the
     * text goes on under itself (groff's .TP, a program's help); a tag
     * line does not run on into a line indented deeper than its text. */
    const char *tagged =
        "DESCRIPTION\n"
        FROB_PARAGRAPH
        "\n"
        "       -a     change every widget the server knows, not only\n"
        "              the ones named on the command line\n"
        "       -o, --out FILE  write what changed to FILE, one line\n"
        "                       for each widget, in the order given\n"
        "       -x     print the widgets as frob would change them:\n"
        "                  frob -x widget-one\n"
        "\n"
        "       It is an error to name a widget twice in one of its\n"
        "       runs, as the second change would undo the first one.\n";
    CHECK(pd_segment_wrap(tagged, strlen(tagged)) == 60);
    CHECK_STR(seg(tagged, PD_UNIT_LINE),
              "1:1-1:[0,11):DESCRIPTION|"
              "2:2-6:[19,301):" FROB_PARAGRAPH_UNIT "|"
              "3:8-9:[310,412):-a     change every widget the server knows, not only the ones "
              "named on the command line|"
              "4:10-11:[420,531):-o, --out FILE  write what changed to FILE, one line for each "
              "widget, in the order given|"
              "5:12-12:[539,590):-x     print the widgets as frob would change them:|"
              "6:13-13:[609,627):frob -x widget-one|"
              "7:15-16:[636,747):It is an error to name a widget twice in one of its runs, as "
              "the second change would undo the first one.|");
    /* A field does not run on into a field (Debian's copyright files, mail
     * headers), however full it is; a line of prose runs on into one that
     * starts with a word and a colon. */
    const char *fields =
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"
        "Upstream-Name: frob, the widget adjuster for running servers\n"
        "Source: https://frob.example.org/releases/frob-2.4.1-source.tar.gz\n"
        "\n"
        "Files: *\n"
        "Copyright: 2019-2026 The authors of frob, the widget adjuster for the\n"
        "  servers of the harbour authority\n"
        "License: MIT-with-notes\n"
        "\n"
        "License: MIT-with-notes\n"
        " Permission is hereby granted, free of charge, to any person obtaining a\n"
        " copy of this software and associated documentation files, to deal in the\n"
        " software without restriction, including without limitation the rights to\n"
        " use, copy, modify, merge, publish and distribute copies of the software,\n"
        " subject to the notices below, which are to be kept by each\n"
        " Contributor: the notices go with every copy of the software, whole or in\n"
        " part, and with every work that includes a part of it.\n";
    CHECK(pd_segment_wrap(fields, strlen(fields)) == 73);
    CHECK_STR(seg(fields, PD_UNIT_LINE),
              "1:1-1:[0,74):Format: "
              "https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/|"
              "2:2-2:[75,135):Upstream-Name: frob, the widget adjuster for running servers|"
              "3:3-3:[136,202):Source: https://frob.example.org/releases/frob-2.4.1-source.tar.gz|"
              "4:5-5:[204,212):Files: *|"
              "5:6-6:[213,282):Copyright: 2019-2026 The authors of frob, the widget adjuster for "
              "the|"
              "6:7-7:[285,317):servers of the harbour authority|"
              "7:8-8:[318,341):License: MIT-with-notes|"
              "8:10-10:[343,366):License: MIT-with-notes|"
              "9:11-17:[368,850):Permission is hereby granted, free of charge, to any person "
              "obtaining a copy of this software and associated documentation files, to deal in "
              "the software without restriction, including without limitation the rights to use, "
              "copy, modify, merge, publish and distribute copies of the software, subject to the "
              "notices below, which are to be kept by each Contributor: the notices go with every "
              "copy of the software, whole or in part, and with every work that includes a part of "
              "it.|");

    /* A reply quotes wrapped text: quoted lines go on into each other at
     * the same depth, not into a quotation inside the quotation, nor into
     * the reply's own text; the marks are no part of the unit or its text,
     * and a line of marks alone is a blank line of the quotation. */
    const char *reply =
        "On Tuesday, Maria Lopez wrote:\n"
        "> The council voted on a budget that increases spending for transit by\n"
        "> four percent, and the mayor said construction of the new ferry\n"
        "> terminal would begin next spring if the state approves the loan, and\n"
        "> > will the bridge close while the crews work on the approach roads,\n"
        "> > or only at night?\n"
        ">\n"
        "> Only at night, the engineers said, and the ferry will add two runs\n"
        "> each morning for commuters who live on the north shore of the bay,\n"
        "and that is clearer than the notice the city sent out last week,\n"
        "which said nothing about the ferry at all.\n";
    CHECK(pd_segment_wrap(reply, strlen(reply)) == 70);
    CHECK_STR(seg(reply, PD_UNIT_LINE),
              "1:1-1:[0,30):On Tuesday, Maria Lopez wrote:|"
              "2:2-4:[33,237):The council voted on a budget that increases spending for transit by "
              "four percent, and the mayor said construction of the new ferry terminal would begin "
              "next spring if the state approves the loan, and|"
              "3:5-6:[242,329):will the bridge close while the crews work on the approach roads, "
              "or only at night?|"
              "4:8-9:[334,469):Only at night, the engineers said, and the ferry will add two runs "
              "each morning for commuters who live on the north shore of the bay,|"
              "5:10-11:[470,577):and that is clearer than the notice the city sent out last week, "
              "which said nothing about the ferry at all.|");

    /* A sentence of a quotation ends at a line end as it would unquoted:
     * the next line's marks are not its first word (and a chunk that starts
     * at that word leaves the marks behind as a blank line). */
    const char *quoted =
        "> The council voted on a budget that increases spending for transit by\n"
        "> four percent, and the mayor said construction of the new ferry terminal.\n"
        "> Work would begin next spring if the state approves the loan, she said,\n"
        "> and the bridge would close only at night while crews are on the roads.\n"
        ">\n"
        "> The council voted on a budget that increases spending for transit by\n"
        "> four percent, and the mayor said construction of the new ferry terminal.\n"
        "> Work would begin next spring if the state approves the loan, she said,\n"
        "> and the bridge would close only at night while crews are on the roads.\n"
        ">\n"
        "> The council voted on a budget that increases spending for transit by\n"
        "> four percent, and the mayor said construction of the new ferry terminal.\n"
        "> Work would begin next spring if the state approves the loan, she said,\n"
        "> and the bridge would close only at night while crews are on the roads.\n"
        ">\n";
    const char *first_two =
        "1:1-2:[2,145):The council voted on a budget that increases spending for transit by "
        "four percent, and the mayor said construction of the new ferry terminal.|"
        "2:3-4:[148,291):Work would begin next spring if the state approves the loan, she "
        "said, and the bridge would close only at night while crews are on the roads.|";
    CHECK(strncmp(seg(quoted, PD_UNIT_SENTENCE), first_two, strlen(first_two)) == 0);

    pd_segmenter s;
    pd_unit u;
    size_t n = 0;
    pd_segment_init(&s, at40, strlen(at40), PD_UNIT_LINE);
    pd_segment_keep_lines(&s);
    while (pd_segment_next(&s, &u))
        n += u.line_start == u.line_end;
    CHECK(n == 6 && s.index == 6);

    const char *records = "user alpha logged in from host one at ten past nine\n"
                          "user bravo logged in from host two at half past nine\n"
                          "user charlie logged out from host three at nine sharp\n"
                          "user delta logged in from host four at a quarter to ten\n"
                          "user echo logged out from host five at ten to eleven\n";
    CHECK(pd_segment_wrap(records, strlen(records)) == 0);
    CHECK(strncmp(seg(records, PD_UNIT_LINE), "1:1-1:", 6) == 0);
    const char *short_page = "First line, after a byte-order mark\nsecond line\n\n"
                             "first line after a byte order mark\nlast line without a newline";
    CHECK(pd_segment_wrap(short_page, strlen(short_page)) == 0);
}

/* pd_segment_runs_on_in() on windows of a document gives the answer
 * pd_segment_runs_on() gives on the whole, or -1: text wrapped at 40
 * columns with words of up to 900 bytes, quoted and indented lines, blank
 * lines and lines of 1,200 letters or blanks, seen through windows of 64
 * bytes to 3 KB at every 37th byte. */
static void test_runs_on_in(void)
{
    enum { WRAP = 40 };
    static char doc[1 << 16];
    size_t n = 0, col = 0;
    uint64_t x = 12345;
    while (n < sizeof doc - 4096) {
        x = x * 6364136223846793005u + 1442695040888963407u;
        unsigned r = (unsigned)(x >> 33) % 100;
        size_t len = r < 2 ? 300 + (x >> 20) % 600 : 1 + (x >> 40) % 9;
        if (r == 2 || r == 3) { /* a paragraph ends; a quoted or indented one may follow */
            n += (size_t)snprintf(doc + n, sizeof doc - n, "\n\n%s", r == 2 ? "> " : "    ");
            col = 0;
            continue;
        }
        if (r == 4) {
            memset(doc + n, (x & 1) ? ' ' : 'y', 1200);
            n += 1200;
            doc[n++] = '\n';
            col = 0;
            continue;
        }
        if (col > 0 && col + 1 + len > WRAP) {
            doc[n++] = '\n';
            col = 0;
        } else if (col > 0) {
            doc[n++] = ' ';
            col++;
        }
        for (size_t i = 0; i < len; i++)
            doc[n++] = (char)((i == 0 && r % 3 == 0) ? 'A' + r % 26 : 'a' + (x >> (i % 50)) % 26);
        col += len;
    }
    doc[n++] = '\n';
    static const size_t sizes[] = {64, 300, 900, 3000};
    size_t decided = 0, asked = 0, wrong = 0;
    for (size_t from = 0; from < n; from += 37)
        for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
            size_t w = n - from < sizes[k] ? n - from : sizes[k];
            for (size_t nl = from; nl < from + w; nl++) {
                if (doc[nl] != '\n')
                    continue;
                int got = pd_segment_runs_on_in(doc + from, w, from == 0, from + w == n, nl - from,
                                                WRAP);
                asked++;
                decided += got >= 0;
                wrong += got >= 0 && (got == 1) != pd_segment_runs_on(doc, 0, n, nl, WRAP);
            }
        }
    CHECK(wrong == 0 && asked > 20000 && decided > asked / 3);
}

/* Whether a sentence ends at a run of blanks inside a line, from the text
 * on either side of it: as the segmenter decides with one blank there. */
static void test_ends_across(void)
{
    static const struct {
        const char *tail, *head;
        bool ends;
    } cases[] = {
        {"photo.", "Subscribe now.", true},  {"the caption", "of a photo", false},
        {"He met Mr.", "Smith there.", false}, {"It rained.", "then it stopped.", false},
        {"今日は晴れ。", "明日は雨。", true},   {"“Done.”", "Élan followed.", true},
        {"U.S.", "Army", false},              {"It cost 3.", "5 million", true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *t = cases[i].tail, *h = cases[i].head;
        CHECK(pd_segment_ends_across(t, strlen(t), h, strlen(h)) == cases[i].ends);
        /* the same as the segmenter of the line with one blank between */
        char line[128];
        snprintf(line, sizeof line, " %s %s", t, h); /* read from after a blank */
        size_t gap = strlen(t) + 2;
        CHECK((pd_segment_sentence_start(line, 1, strlen(line)) == gap) == cases[i].ends);
    }
    /* the last word's bytes beyond the first 256 before the run are left out */
    char tail[600];
    memset(tail, 'x', sizeof tail);
    memcpy(tail + sizeof tail - 4, "end.", 4);
    CHECK(pd_segment_ends_across(tail, sizeof tail, "Next", 4));
}

/* A range that begins inside a line's text (its lead set) reads the rest
 * of the line as text, quotation marks and all: only a line that is marks
 * from its start is a blank line of a quotation. */
static void test_lead_marks(void)
{
    const char *d = "Said he.> >  > >\n> >\nNext.";
    size_t at = 8; /* after "Said he." */
    for (int lead = 0; lead < 2; lead++) {
        pd_segmenter s;
        pd_unit u;
        pd_segment_range(&s, d, at, strlen(d), 1, PD_UNIT_SENTENCE);
        s.lead = lead ? pd_segment_lead(d, 0, at, strlen(d)) : 0;
        CHECK(pd_segment_next(&s, &u));
        /* with the lead, "> >  > >" is the rest of a line's text */
        CHECK(u.byte_start == (lead ? at : 21) && u.line_start == (lead ? 1u : 3u));
    }
}

/* A line of blanks far longer than the wrap test's sample, after a line of
 * text, in a document of 16 MB whose pages past its first 128 KB are
 * unreadable: whether the document is wrapped is decided from its first
 * bytes, and the blank line is looked into only as far as a line's text
 * could start and still go on from the line before (it was read to its
 * end), as it is when asked whether the first line runs on into it. */
static void test_long_blank_line(void)
{
    enum { LEN = 16 << 20, READABLE = 128 << 10 };
    char *d = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(d != MAP_FAILED);
    if (d == MAP_FAILED)
        return;
    const char *first = "a line of text that a sentence might go on from, as it does\n";
    size_t n = strlen(first);
    memcpy(d, first, n);
    memset(d + n, ' ', READABLE - n);
    CHECK(mprotect(d + READABLE, LEN - READABLE, PROT_NONE) == 0);
    CHECK(pd_segment_wrap(d, LEN) == 0);
    CHECK(!pd_segment_runs_on(d, 0, LEN, n - 1, 72));
    munmap(d, LEN);
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
        /* marks that end a sentence whatever follows; letters without case start one */
        {"今日は晴れ。明日は雨！本当？", PD_UNIT_SENTENCE,
         "1:1-1:[0,18):今日は晴れ。|2:1-1:[18,33):明日は雨！|3:1-1:[33,42):本当？|"},
        {"「はい。」と言った。", PD_UNIT_SENTENCE, "1:1-1:[0,15):「はい。」|2:1-1:[15,30):と言った。|"},
        {"यह वाक्य है। दूसरा है।", PD_UNIT_SENTENCE, "1:1-1:[0,32):यह वाक्य है।|2:1-1:[33,58):दूसरा है।|"},
        {"هذه جملة. هذه أخرى؟ نعم", PD_UNIT_SENTENCE,
         "1:1-1:[0,16):هذه جملة.|2:1-1:[17,34):هذه أخرى؟|3:1-1:[35,41):نعم|"},
        {"Hello. नमस्ते. a。 b", PD_UNIT_SENTENCE, "1:1-1:[0,6):Hello.|2:1-1:[7,31):नमस्ते. a。|3:1-1:[32,33):b|"},
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
    test_runs_on_in();
    test_long_blank_line();
    test_ends_across();
    test_lead_marks();
    test_sentence_start();
    test_terminator_offsets();
    test_terminator_search();
    test_wrapped();
    test_unwrapped_lines();
    return check_done("test_segment");
}
