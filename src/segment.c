/*
 * segment.c - splitting a document into units.
 *
 * A document is read as lines ending in "\n" or "\r\n" (the last may have no
 * end). A line's text is trimmed of ASCII whitespace; a line that is empty
 * after trimming is blank. Three unit kinds:
 *   line       every non-blank line (scraped pages put banners, bylines and
 *              captions on consecutive lines, so a line is their paragraph),
 *              or, in a hard-wrapped document, the lines that run on into
 *              each other: a line as it was before wrapping;
 *   paragraph  a run of non-blank lines, ended by a blank line or the end;
 *   sentence   the sentences of each stretch of text, split after . ! ? (and
 *              closing quotes) when a space and a capital, digit, opening
 *              quote or letter without case follow, but not after an
 *              abbreviation or an initial; and after the marks of Chinese,
 *              Japanese, Indic scripts, Arabic and Urdu that end a sentence
 *              whatever follows (strong_len). A stretch is a non-blank line,
 *              or, in a hard-wrapped document, the lines a sentence runs
 *              across (see pd_segment_wrap).
 * Every unit records its line span and the byte span of its trimmed text in
 * the raw document, so later stages re-read it instead of keeping it.
 */
#include "internal.h"

#include <ctype.h>
#include <utf8proc.h>

void pd_segment_range(pd_segmenter *s, const char *data, size_t start, size_t end,
                      uint32_t line, pd_unit_kind kind)
{
    memset(s, 0, sizeof *s);
    s->data = data;
    s->pos = start;
    s->len = end;
    s->line = line;
    s->kind = kind;
}

size_t pd_segment_bom(const char *data, size_t len)
{
    return len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
}

void pd_segment_init(pd_segmenter *s, const char *data, size_t len, pd_unit_kind kind)
{
    pd_segment_range(s, data, pd_segment_bom(data, len), len, 1, kind);
    if (kind != PD_UNIT_PARAGRAPH)
        s->wrap = pd_segment_wrap(data, len);
}

void pd_segment_keep_lines(pd_segmenter *s)
{
    s->wrap = 0;
}

/* Read the next line at s->pos: its trimmed span [*b, *e) and its number.
 * Returns false at the end of the range. */
static bool next_line(pd_segmenter *s, size_t *b, size_t *e, uint32_t *no)
{
    if (s->pos >= s->len)
        return false;
    const char *p = s->data;
    size_t start = s->pos;
    const char *nl = memchr(p + start, '\n', s->len - start);
    size_t stop = nl ? (size_t)(nl - p) : s->len;
    s->pos = nl ? stop + 1 : s->len;
    *no = s->line++;
    while (start < stop && pd_segment_blank((unsigned char)p[start]))
        start++;
    while (stop > start && pd_segment_blank((unsigned char)p[stop - 1]))
        stop--;
    /* quotation marks alone are a blank line of a quotation (not between
     * paragraphs, which only blank lines end, as the chunk cutter sees);
     * not the rest of a line a range begins inside (lead), after its text,
     * nor the part of a line it ends inside (goes_on), before its text */
    size_t k = start;
    bool text = pd_segment_lead_text(s->lead) || (s->goes_on && !nl);
    while (s->kind != PD_UNIT_PARAGRAPH && !text && k < stop &&
           (p[k] == '>' || pd_segment_blank((unsigned char)p[k])))
        k++;
    *b = k == stop ? stop : start;
    *e = stop;
    return true;
}

/* --- sentence boundaries ------------------------------------------------- */

static const char *const abbreviations[] = {
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "mt", "ft", "gen", "gov", "sen",
    "rep", "col", "lt", "sgt", "capt", "cmdr", "adm", "maj", "rev", "hon", "pres", "supt",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
    "vs", "inc", "ltd", "co", "corp", "bros", "no", "nos", "vol", "fig", "al", "approx",
    "dept", "univ", "ave", "blvd", "rd", "etc"};

/* Is the word that ends just before the '.' at `dot` an abbreviation, an
 * initial, or dotted (U.S., e.g.)? */
static bool ends_abbreviation(const char *p, size_t begin, size_t dot)
{
    size_t w = dot;
    while (w > begin && !pd_segment_space((unsigned char)p[w - 1]))
        w--;
    while (w < dot && strchr("\"'([>", p[w]))
        w++;
    size_t n = dot - w;
    if (n == 0)
        return false;
    if (n == 1 && isalpha((unsigned char)p[w]))
        return true;
    if (memchr(p + w, '.', n))
        return true;
    if (n > 5)
        return false;
    char low[8];
    for (size_t i = 0; i < n; i++)
        low[i] = (char)tolower((unsigned char)p[w + i]);
    low[n] = 0;
    for (size_t i = 0; i < sizeof abbreviations / sizeof *abbreviations; i++)
        if (strcmp(low, abbreviations[i]) == 0)
            return true;
    return false;
}

/* The length of p[i, e) when it starts with one of the strings of set[],
 * or 0. */
static size_t one_of(const char *p, size_t i, size_t e, const char *const *set, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        size_t len = strlen(set[k]);
        if (len <= e - i && memcmp(p + i, set[k], len) == 0)
            return len;
    }
    return 0;
}

/* Length of a closing quote or bracket at p[i], or 0. */
static size_t closer_len(const char *p, size_t i, size_t e)
{
    static const char *const closers[] = {
        "\xE2\x80\x9D", "\xE2\x80\x99", "\xC2\xBB",     /* ” ’ » */
        "\xE3\x80\x8D", "\xE3\x80\x8F", "\xEF\xBC\x89", /* 」 』 ） */
        "\xE3\x80\x8B", "\xE3\x80\x91"};                /* 》 】 */
    unsigned char c = (unsigned char)p[i];
    if (c == '"' || c == '\'' || c == ')' || c == ']')
        return 1;
    return c >= 0xC2 ? one_of(p, i, e, closers, sizeof closers / sizeof *closers) : 0;
}

/* Length of a mark at p[i] that ends a sentence whatever follows it, or 0:
 * the full stops and marks of Chinese and Japanese (no space follows them),
 * the danda of Devanagari and other Indic scripts, the Arabic question mark,
 * the Urdu full stop and the Ethiopic one. Their lead bytes are those
 * may_terminate() takes. */
static size_t strong_len(const char *p, size_t i, size_t e)
{
    const unsigned char *q = (const unsigned char *)p + i;
    size_t room = e - i;
    switch (q[0]) {
    case 0xD8: /* ؟ */
    case 0xDB: /* ۔ */
        return room >= 2 && q[1] == (q[0] == 0xD8 ? 0x9F : 0x94) ? 2 : 0;
    case 0xE3: /* 。 */
        return room >= 3 && q[1] == 0x80 && q[2] == 0x82 ? 3 : 0;
    case 0xEF: /* ！ ？ ｡ */
        return room >= 3 && ((q[1] == 0xBC && (q[2] == 0x81 || q[2] == 0x9F)) ||
                             (q[1] == 0xBD && q[2] == 0xA1)) ? 3 : 0;
    case 0xE0: /* । ॥ */
        return room >= 3 && q[1] == 0xA5 && (q[2] == 0xA4 || q[2] == 0xA5) ? 3 : 0;
    case 0xE1: /* ። */
        return room >= 3 && q[1] == 0x8D && q[2] == 0xA2 ? 3 : 0;
    default:
        return 0;
    }
}

/* Does p[k, e) end inside a character: is it the start of a UTF-8 sequence
 * that e cuts, with every byte up to e continuing it? (A lead byte followed
 * by one that does not continue it is a character of its own, invalid.) */
static bool cut_char(const char *p, size_t k, size_t e)
{
    unsigned char c = (unsigned char)p[k];
    size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    if (len <= e - k)
        return false;
    while (++k < e)
        if (((unsigned char)p[k] & 0xC0) != 0x80)
            return false;
    return true;
}

/* Length of any terminator at p[i]: '.', '!', '?' or a strong mark. */
static size_t terminator_len(const char *p, size_t i, size_t e)
{
    return p[i] == '.' || p[i] == '!' || p[i] == '?' ? 1 : strong_len(p, i, e);
}

/* Can a sentence start at p[i]: a capital, a digit, an opening quote, or a
 * letter of a script without case? */
static bool starts_sentence(const char *p, size_t i, size_t e)
{
    unsigned char c = (unsigned char)p[i];
    if (c < 0x80)
        return isupper(c) || isdigit(c) || c == '"' || c == '\'' || c == '(' || c == '[';
    if (i + 3 <= e && memcmp(p + i, "\xE2\x80", 2) == 0 &&
        ((unsigned char)p[i + 2] == 0x9C || (unsigned char)p[i + 2] == 0x98))
        return true; /* “ ‘ */
    if (i + 2 <= e && memcmp(p + i, "\xC2\xAB", 2) == 0)
        return true; /* « */
    utf8proc_int32_t cp;
    if (utf8proc_iterate((const utf8proc_uint8_t *)p + i, (utf8proc_ssize_t)(e - i), &cp) < 0)
        return false;
    utf8proc_category_t cat = utf8proc_category(cp);
    return cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LT ||
           cat == UTF8PROC_CATEGORY_LO || cat == UTF8PROC_CATEGORY_ND;
}

/* Is c '.', '!', '?' or a lead byte of a strong mark (strong_len)? */
static bool may_terminate(unsigned char c)
{
    return c == '.' || c == '!' || c == '?' || (c & 0xFC) == 0xE0 || (c & 0xFC) == 0xD8 ||
           c == 0xEF;
}

/* The bytes of v (flagged as pd_zero_bytes() flags them) that may start a
 * strong mark: a lead byte of one (D8-DB, E0-E3 or EF: a few more than the
 * marks use, in three tests), followed by a second byte of one (or last in
 * v). Devanagari, kana and Arabic letters share the lead bytes; most of them
 * are told apart by the second. Han, Hangul, Cyrillic and Greek stop at the
 * first three tests. */
static uint64_t strong_leads(uint64_t v)
{
    const uint64_t ones = UINT64_C(0x0101010101010101);
    uint64_t top6 = v & ones * 0xFC;
    uint64_t lead = pd_zero_bytes(top6 ^ ones * 0xE0) | pd_zero_bytes(top6 ^ ones * 0xD8) |
                    pd_zero_bytes(v ^ ones * 0xEF);
    if (!lead)
        return 0;
    uint64_t second = pd_zero_bytes(v ^ ones * 0x80) |
                      pd_zero_bytes((v & ones * 0xFE) ^ ones * 0xBC) | /* BC, BD */
                      pd_zero_bytes(v ^ ones * 0xA5) | pd_zero_bytes(v ^ ones * 0x9F) |
                      pd_zero_bytes(v ^ ones * 0x94) | pd_zero_bytes(v ^ ones * 0x8D);
    return lead & (second >> 8 | UINT64_C(0x80) << 56);
}

/* Where the first terminator that starts in p[i, stop) starts
 * (terminator_len, which may read on to e), or stop. Eight bytes at a
 * time: looked for byte by byte, terminators took a fifth of a sentence
 * scan. The bytes that may start one ('.', '!', '?', the lead bytes of the
 * strong marks, which lead many other characters too) are found together,
 * the lead bytes only in words that are not ASCII, and each is then tried. */
static size_t terminator_in(const char *p, size_t i, size_t stop, size_t e)
{
    const uint64_t ones = UINT64_C(0x0101010101010101);
    for (; i + 8 <= stop; i += 8) {
        uint64_t v = pd_load8(p + i);
        uint64_t m = pd_zero_bytes(v ^ ones * '.') | pd_zero_bytes(v ^ ones * '!') |
                     pd_zero_bytes(v ^ ones * '?');
        if (v & ones << 7)
            m |= strong_leads(v);
        for (; m; m &= m - 1) {
            size_t k = i + (size_t)__builtin_ctzll(m) / 8;
            if (terminator_len(p, k, e))
                return k;
        }
    }
    for (; i < stop; i++)
        if (may_terminate((unsigned char)p[i]) && terminator_len(p, i, e))
            return i;
    return stop;
}

#ifdef PD_X86_AVX2
#include <immintrin.h>

/* The same 32 bytes at a time where the CPU has AVX2: '.', '!' and '?' by
 * compares; a block with a byte >= 0x80 (which may lead a strong mark) the
 * eight-byte way. 100 MB of news as sentences, -k 5 -j1 on one CPU: 545 ->
 * 519 ms (9 alternating runs). */
__attribute__((target("avx2"))) static size_t terminator_avx2(const char *p, size_t i, size_t e)
{
    for (; i + 32 <= e; i += 32) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(p + i));
        if (_mm256_movemask_epi8(v)) {
            size_t k = terminator_in(p, i, i + 32, e);
            if (k < i + 32)
                return k;
            continue;
        }
        __m256i dot = _mm256_cmpeq_epi8(v, _mm256_set1_epi8('.'));
        __m256i bang = _mm256_cmpeq_epi8(v, _mm256_set1_epi8('!'));
        __m256i ask = _mm256_cmpeq_epi8(v, _mm256_set1_epi8('?'));
        __m256i mark = _mm256_or_si256(_mm256_or_si256(dot, bang), ask);
        uint32_t m = (uint32_t)_mm256_movemask_epi8(mark);
        if (m)
            return i + (size_t)__builtin_ctz(m); /* an ASCII mark is a terminator */
    }
    return terminator_in(p, i, e, e);
}
#endif

/* Where the first terminator in p[i, e) starts, or e; with the AVX2 search
 * where `wide` allows it and the CPU has it. */
size_t pd_segment_terminator(const char *p, size_t i, size_t e, bool wide)
{
#ifdef PD_X86_AVX2
    if (wide && __builtin_cpu_supports("avx2"))
        return terminator_avx2(p, i, e);
#else
    PD_UNUSED(wide);
#endif
    return terminator_in(p, i, e, e);
}

static size_t next_terminator(const char *p, size_t i, size_t e)
{
    return pd_segment_terminator(p, i, e, true);
}

/* The end of the sentence that starts at `b` in the trimmed stretch [b, e):
 * sets *next to where the following sentence starts (e if none). */
static size_t sentence_end(const char *p, size_t b, size_t e, size_t *next)
{
    for (size_t i = next_terminator(p, b, e), n; i < e; i = next_terminator(p, i + 1, e)) {
        bool strong = false;
        size_t j = i;
        for (; j < e && (n = terminator_len(p, j, e)) > 0; j += n)
            strong |= n > 1;
        for (; j < e && (n = closer_len(p, j, e)) > 0;)
            j += n;
        size_t k = j;
        bool line_break = false;
        while (k < e && pd_segment_space((unsigned char)p[k]))
            line_break |= p[k++] == '\n';
        while (line_break && k < e && (p[k] == '>' || pd_segment_blank((unsigned char)p[k])))
            k++; /* the quotation marks of the next line a stretch runs on into */
        if (k == e || (k == j && cut_char(p, k, e)))
            break; /* nothing follows, or only part of a character (a window's end) */
        if (!strong) { /* '.', '!', '?': a space, a sentence's start, no abbreviation */
            if (k == j || !starts_sentence(p, k, e))
                continue;
            if (p[i] == '.' && j == i + 1 && ends_abbreviation(p, b, i))
                continue;
        }
        *next = k;
        return j;
    }
    *next = e;
    return e;
}

/* A sentence boundary is decided by its terminator, the closers and blanks
 * after it, the next character and, for an abbreviation, the word before
 * the dot; never by where the sentence began, as long as the scan starts
 * after a blank (the word before the dot then lies wholly inside it). So the
 * first boundary found from there is one of the stretch's. A window that
 * ends before the stretch does can only hide a boundary, not make one (a
 * character it cuts is not taken to follow a mark); its trailing blanks are
 * left out, so that nothing at `to` is read. */
size_t pd_segment_sentence_start(const char *data, size_t from, size_t to)
{
    while (from < to && !pd_segment_space((unsigned char)data[from - 1]))
        from++;
    while (to > from && pd_segment_space((unsigned char)data[to - 1]))
        to--;
    size_t next;
    sentence_end(data, from, to, &next);
    return next < to ? next : 0;
}

/* Does a sentence end where a run of blanks begins, in a line whose text
 * before the run ends with `tail` (from after a blank, or the line's
 * start, if that lies within TAIL_MAX bytes) and goes on after it with
 * `head`? The run's length decides nothing (sentence_end() skips any
 * blanks), so a short copy of the two sides, one blank apart, holds the
 * answer. Only an abbreviation's word longer than TAIL_MAX bytes could be
 * judged otherwise. */
enum { TAIL_MAX = 256, HEAD_MAX = 64 };

bool pd_segment_ends_across(const char *tail, size_t n_tail, const char *head, size_t n_head)
{
    char buf[TAIL_MAX + 1 + HEAD_MAX];
    if (n_tail > TAIL_MAX) {
        tail += n_tail - TAIL_MAX;
        n_tail = TAIL_MAX;
    }
    n_head = n_head < HEAD_MAX ? n_head : HEAD_MAX;
    memcpy(buf, tail, n_tail);
    buf[n_tail] = ' ';
    memcpy(buf + n_tail + 1, head, n_head);
    size_t n = n_tail + 1 + n_head, gap = n_tail + 1, next = 0;
    while (next < gap)
        sentence_end(buf, next, n, &next);
    return next == gap;
}

/* --- hard-wrapped text --------------------------------------------------- */

/* Plain-text books, e-mail, licences and old corpora break every line near a
 * width, so a sentence runs across lines, and copies wrapped at other widths
 * break it elsewhere. In a document whose lines look wrapped
 * (pd_segment_wrap), a line runs on into the next where the next one's first
 * word would (almost) not have fitted: the stretch, and its sentences, are
 * then the same whatever the width. A line's width counts its indent, as the
 * tools that fill text do; the slack allows for hand-wrapped and ragged text
 * (in the licences and release notes of a Debian system, 83-99% of the lines
 * followed by text are full with it, 54-96% without). A scraped page puts a
 * paragraph, a banner or a caption on a line of its own, each starting with
 * a capital, its lines longer than WRAP_MAX or too uneven to look wrapped:
 * no line runs on. */
enum {
    WRAP_SAMPLE = 64 << 10, /* the document's first bytes decide */
    WRAP_MIN = 30,          /* widths in characters */
    WRAP_MAX = 200,
    WRAP_SLACK = 6,         /* a full line may fall this much short */
    WRAP_PAIRS = 3,         /* at least this many lines a sentence goes on after */
    INDENT_SLACK = 1,       /* a line indented this much deeper still goes on */
    PUNCTUATED_PART = 8,    /* at least this part of the lines is punctuated */
    CHARS_CAP = WRAP_MAX + 1, /* characters are counted up to this */
    TAG_MAX = 32,           /* bytes of a tag before its text (text_indent) */
    LEAD_LOOK = CHARS_CAP + TAG_MAX + 64, /* bytes pd_segment_lead() reads on */
    /* pd_segmenter.lead: the width of the line before the range's start,
     * and its line_head() above */
    LEAD_INDENT_SHIFT = 16,
    LEAD_WIDTH = (1 << LEAD_INDENT_SHIFT) - 1,
    /* A line's head (line_head): its text_indent(), the depth of the
     * quotation it is in, and whether it starts with the name of a field */
    HEAD_INDENT = 0xFF,
    QUOTE_SHIFT = 8,
    QUOTE_MAX = 7,
    /* in a lead only: the range begins among the quotation marks and
     * blanks that start its line (pd_segment_lead_marks) */
    HEAD_MARKS = 1 << 13,
    FIELD_LINE = 1 << 14,
    TAG_LATER = 1 << 15 /* the text may follow a tag: tagged_head() tells */
};

/* Code points in p[b, e), CHARS_CAP at most: bytes that do not continue a
 * UTF-8 sequence (10xxxxxx), eight at a time; a multiply adds up the flags
 * (no popcount instruction in the baseline x86-64). */
static unsigned count_chars(const char *p, size_t b, size_t e)
{
    const uint64_t ones = UINT64_C(0x0101010101010101);
    size_t n = 0;
    for (; b + 8 <= e && n < CHARS_CAP; b += 8) {
        uint64_t v = pd_load8(p + b);
        n += 8 - (size_t)(((v & ~(v << 1) & ones << 7) >> 7) * ones >> 56);
    }
    for (; b < e && n < CHARS_CAP; b++)
        n += ((unsigned char)p[b] & 0xC0) != 0x80;
    return n < CHARS_CAP ? (unsigned)n : CHARS_CAP;
}

/* Does p[k] (of p[0, len)) start the name of a field, "License:" or
 * "Subject:" (a capital, then letters, digits or '-', then a colon and a
 * blank or the line's end), as in mail headers and Debian's control and
 * copyright files? */
static bool field_name(const char *p, size_t k, size_t len)
{
    if (k >= len || p[k] < 'A' || p[k] > 'Z')
        return false;
    size_t i = k + 1;
    while (i < len && i - k < 40 && (isalnum((unsigned char)p[i]) || p[i] == '-'))
        i++;
    return i + 1 < len && p[i] == ':' && (pd_segment_blank((unsigned char)p[i + 1]) || p[i + 1] == '\n');
}

/* Past the blanks and quotation marks ('>', as mail and Markdown quote)
 * at p[k] (of p[0, e)), *depth of them counted before k: where the line's
 * text starts, and in *depth how many marks (QUOTE_MAX at most). */
static size_t quote_skip(const char *p, size_t k, size_t e, unsigned *depth)
{
    for (;;) {
        while (k < e && pd_segment_blank((unsigned char)p[k]))
            k++;
        if (k == e || p[k] != '>' || *depth == QUOTE_MAX)
            return k;
        ++*depth;
        k++;
    }
}

/* The same from a line's start. */
static size_t quote_prefix(const char *p, size_t k, size_t e, unsigned *depth)
{
    *depth = 0;
    return quote_skip(p, k, e, depth);
}

/* How far into the next line its text is looked for. may_continue() takes
 * no line whose text starts deeper than a line's indent (HEAD_INDENT at
 * most) and INDENT_SLACK, or than CHARS_CAP, so a look this long gives the
 * same answers as one to the end, and a run of blanks of any length costs
 * no more: a line of a gigabyte of blanks was read whole, through the
 * file's mapping, by the test of whether its document is wrapped. */
enum {
    INDENT_REACH = HEAD_INDENT + INDENT_SLACK,
    NEXT_LOOK = (INDENT_REACH > CHARS_CAP ? INDENT_REACH : CHARS_CAP) + 1
};

/* Does the line after the newline at nl (of data[0, len)) start with text
 * that may continue a sentence? Then *at is where it starts, past the
 * quotation marks, and *depth how many there are. Not a blank line (in a
 * quotation too), the end, a list marker, or text further in than NEXT_LOOK. */
static bool next_text(const char *p, size_t len, size_t nl, size_t *at, unsigned *depth)
{
    size_t e = len - (nl + 1) > NEXT_LOOK ? nl + 1 + NEXT_LOOK : len;
    size_t k = quote_prefix(p, nl + 1, e, depth);
    if (k == e)
        return false;
    switch (p[k]) {
    case '\n': case '-': case '*': case '+': case '>': case '#': case '|':
        return false;
    }
    if (len - k >= 3 && memcmp(p + k, "\xE2\x80\xA2", 3) == 0) /* • */
        return false;
    *at = k;
    return true;
}

/* The width in characters of the word at p[k] (of p[0, len)): up to a
 * space, or to the end of a strong mark (Chinese and Japanese put none
 * between words). A chunk of sentences may end where a sentence starts,
 * after a space or such a mark, so a word never reaches past that end. */
static unsigned word_at(const char *p, size_t len, size_t k)
{
    size_t w = k, n;
    while (w < len && w - k <= 4 * CHARS_CAP && !pd_segment_space((unsigned char)p[w]))
        if ((n = strong_len(p, w, len)) > 0) {
            w += n;
            break;
        } else {
            w++;
        }
    return count_chars(p, k, w);
}

/* Is p[i] (of p[0, e)) a lower-case letter? */
static bool lower_at(const char *p, size_t i, size_t e)
{
    unsigned char c = (unsigned char)p[i];
    if (c < 0x80)
        return c >= 'a' && c <= 'z';
    utf8proc_int32_t cp;
    return utf8proc_iterate((const utf8proc_uint8_t *)p + i, (utf8proc_ssize_t)(e - i), &cp) > 0 &&
           utf8proc_category(cp) == UTF8PROC_CATEGORY_LL;
}

/* Is a line of `width` characters full in text wrapped at `wrap`, when the
 * next line's first word has `word`? */
static bool full(unsigned width, unsigned word, unsigned wrap)
{
    return width + 1 + word + WRAP_SLACK > wrap;
}

/* Does a line `width` characters wide, its text `indent` characters in,
 * ended by the newline at nl, run on into the next one in a document
 * wrapped at `wrap` (0: not wrapped)?
 * - The next line's first word would (almost) not have fitted. When the
 *   next line goes on in lower case, the line may fall twice the slack
 *   short: `fmt` and other tools that balance a paragraph's lines leave
 *   them up to 12 characters short (news through `fmt -w 72`: one line in
 *   250 falls 7-12 short, and 2.3% of its repeated texts were cut, none now).
 * - The next line is indented no deeper than this one's text (give or take
 *   INDENT_SLACK): a deeper one starts a paragraph (text that indents first
 *   lines, with no blank line between paragraphs), a quotation or a block
 *   of code. A wrapped list item's lines are indented under its text, after
 *   the marker or an opening bracket. A line as wide as CHARS_CAP counts as
 *   indented that far: its start may lie beyond where a chunk's cutter
 *   looks.
 * - A field does not run on into a field ("Copyright: 2003 X" then
 *   "License: MIT", in Debian's copyright files and mail headers): prose
 *   may put "Contributor:" at the start of a line, not after a field.
 * - The next line is quoted as deep: a reply's "> " lines go on into each
 *   other as the quoted text did, and not into the reply's own text.
 * may_continue() asks all but the first; `head` is the line's line_head(),
 * and the line is p[b, e) without its trailing blanks (read only when its
 * head has TAG_LATER). */
static unsigned tagged_head(const char *p, size_t b, size_t e, unsigned head);

static bool may_continue(const char *p, size_t len, size_t nl, unsigned width, unsigned head,
                         size_t b, size_t e, size_t *at)
{
    unsigned depth;
    if (!next_text(p, len, nl, at, &depth))
        return false;
    if (width >= CHARS_CAP)
        return *at - nl - 1 <= CHARS_CAP;
    if (depth != (head >> QUOTE_SHIFT & QUOTE_MAX) ||
        ((head & FIELD_LINE) && field_name(p, *at, len)))
        return false;
    size_t deep = *at - nl - 1;
    if (deep > (head & HEAD_INDENT) + INDENT_SLACK)
        head = tagged_head(p, b, e, head);
    return deep <= (head & HEAD_INDENT) + INDENT_SLACK;
}

static bool runs_on(const char *p, size_t len, size_t nl, unsigned wrap, unsigned width,
                    unsigned head, size_t b, size_t e)
{
    size_t at;
    if (!wrap || !may_continue(p, len, nl, width, head, b, e, &at))
        return false;
    unsigned word = word_at(p, len, at);
    return full(width, word, wrap) || (full(width + WRAP_SLACK, word, wrap) && lower_at(p, at, len));
}

/* Where the text after a tag starts, in the line p[b, e) whose tag starts
 * at p[i]: a tag of up to TAG_MAX bytes (single blanks inside) and two
 * blanks or more, then text. This is a manual page's tagged paragraph, or a
 * program's help ("-v     verbose", "-o, --output FILE   write ..."), whose
 * later lines go on under the text; i when there is none. Blanks are read up
 * to CHARS_CAP characters from the line's start (the head counts no more). */
static size_t tag_text(const char *p, size_t b, size_t i, size_t e)
{
    /* the blanks of p[i + 1, i + TAG_MAX + 2) as bits, without a branch a
     * byte */
    if (i + 2 >= e)
        return i;
    size_t n = e - i - 1 < TAG_MAX + 1 ? e - i - 1 : TAG_MAX + 1;
    uint64_t blank = 0;
    for (size_t k = 0; k < n; k++) {
        unsigned char c = (unsigned char)p[i + 1 + k]; /* as pd_segment_blank() */
        blank |= (uint64_t)((c == ' ') | (c == '\t') | ((unsigned)(c - '\v') <= '\r' - '\v')) << k;
    }
    uint64_t two = blank & blank >> 1; /* a blank with a blank after it */
    if (!two)
        return i;
    size_t t = i + 1 + (size_t)__builtin_ctzll(two);
    while (t < e && t - b < CHARS_CAP && pd_segment_blank((unsigned char)p[t]))
        t++;
    return t < e ? t : i;
}

/* The characters before the text of the line that starts at p[b] (of
 * p[0, e)), whose blanks and quotation marks end at p[i]: those, and an
 * opening bracket or quote, or, for a list
 * item, its marker and the blanks after it. A marker is '-', '*', '+',
 * '•', '–' or '—' (groff's lists), or up to 8 letters, digits
 * and dots, maybe after '(', ended by '.' or ')': "1.", "1.1.", "(a)",
 * "iv)". (Taking a short word and its full stop for one, "Dr. ", only lets
 * the next line go on from deeper.) At most CHARS_CAP. Else *tag: the text
 * may follow a tag instead (tagged_head). */
static unsigned text_indent(const char *p, size_t b, size_t i, size_t e, bool *tag)
{
    size_t m;
    *tag = false;
    if (i - b >= CHARS_CAP)
        return CHARS_CAP;
    if (i < e && (p[i] == '[' || p[i] == '"' || p[i] == '\'')) {
        m = i + 1; /* text aligned under what the bracket or quote opens */
        return count_chars(p, b, m);
    }
    if (i < e && (p[i] == '-' || p[i] == '*' || p[i] == '+')) {
        m = i + 1;
    } else if (e - i >= 3 && (memcmp(p + i, "\xE2\x80\xA2", 3) == 0 ||  /* • */
                              memcmp(p + i, "\xE2\x80\x93", 3) == 0 ||  /* – */
                              memcmp(p + i, "\xE2\x80\x94", 3) == 0)) { /* — */
        m = i + 3;
    } else {
        m = i + (i < e && p[i] == '(');
        size_t w = m;
        while (m < e && m - w < 8 && (isalnum((unsigned char)p[m]) || p[m] == '.'))
            m++;
        m = m > w && m < e && (p[m] == '.' || p[m] == ')') ? m + 1
            : m > w + 1 && p[m - 1] == '.'                  ? m
                                                            : i;
    }
    if (m > i && m < e && pd_segment_blank((unsigned char)p[m]))
        for (i = m; i < e && i - b < CHARS_CAP && pd_segment_blank((unsigned char)p[i]);)
            i++;
    else
        *tag = i + 2 < e;
    return count_chars(p, b, i);
}

/* The head of the line p[b, e): its text_indent(), its quotation depth
 * and FIELD_LINE when its text starts with the name of a field. */
static unsigned line_head(const char *p, size_t b, size_t e)
{
    unsigned depth;
    bool tag;
    size_t k = quote_prefix(p, b, e, &depth);
    unsigned indent = text_indent(p, b, k, e, &tag);
    return indent | depth << QUOTE_SHIFT | (field_name(p, k, e) ? FIELD_LINE : 0) |
           (tag ? TAG_LATER : 0);
}

/* The head of the line p[b, e) with its text taken to start after a tag
 * where it has one (tag_text). Asked for only when the next line is
 * indented deeper than the line's text otherwise: it reads up to 34 bytes a
 * line, which every line of a wrapped document would pay. */
static unsigned tagged_head(const char *p, size_t b, size_t e, unsigned head)
{
    if (!(head & TAG_LATER))
        return head;
    unsigned depth;
    size_t t = tag_text(p, b, quote_prefix(p, b, e, &depth), e);
    return (head & ~(unsigned)(TAG_LATER | HEAD_INDENT)) | count_chars(p, b, t);
}

/* The start of the line data[e] is in (after a newline, or at floor), in
 * *b; false when it lies more than 4 * CHARS_CAP back (the line is then
 * taken for CHARS_CAP wide, and its head for as deep). */
static bool line_start(const char *data, size_t floor, size_t e, size_t *b)
{
    for (*b = e; *b > floor && data[*b - 1] != '\n';)
        if (e - --*b > 4 * CHARS_CAP)
            return false;
    return true;
}

/* The lines of p[b, stop) that are followed by text (next_text) indented no
 * deeper than their own, and not a field after a field (as runs_on asks):
 * each line's [*lb, *le), trimmed
 * at its end, and where the text after it starts. A line followed by deeper
 * text (a term and its definition, a heading over a quotation or a block of
 * code) cannot run on, so it tells nothing about wrapping: a manual page's
 * short lines of options, each over its indented description, do not make
 * its wrapped paragraphs look ragged. */
typedef struct pair_lines {
    const char *p;
    size_t len, b, stop;
} pair_lines;

static bool next_pair_line(pair_lines *it, size_t *lb, size_t *le, size_t *next)
{
    for (const char *q; (q = memchr(it->p + it->b, '\n', it->stop - it->b)) != NULL;) {
        size_t nl = (size_t)(q - it->p);
        *lb = it->b;
        it->b = nl + 1;
        *le = pd_segment_blank_start(it->p, nl, *lb);
        if (*le > *lb && may_continue(it->p, it->len, nl, count_chars(it->p, *lb, *le),
                                      line_head(it->p, *lb, *le), *lb, *le, next))
            return true;
    }
    return false;
}

/* Is p[b, e) punctuated as prose is: do a PUNCTUATED_PART of its lines that
 * are not blank hold a comma, a full stop, a colon, a semicolon, '!' or '?'
 * before a blank or at their end? Records of one width (word lists,
 * generated data) need not start with a capital, but hold no such mark. */
static bool punctuated(const char *p, size_t b, size_t e)
{
    size_t lines = 0, marked = 0;
    bool text = false, mark = false;
    for (size_t i = b; i < e; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '\n') {
            lines += text;
            marked += mark;
            text = mark = false;
        } else if (!pd_segment_blank(c)) {
            text = true;
            mark = mark || (c != 0 && strchr(",.;:!?", c) &&
                            (i + 1 == e || pd_segment_space((unsigned char)p[i + 1])));
        }
    }
    lines += text;
    marked += mark;
    return marked * PUNCTUATED_PART >= lines;
}

unsigned pd_segment_wrap(const char *data, size_t len)
{
    size_t at = pd_segment_bom(data, len), b, e, next;
    size_t stop = len - at > WRAP_SAMPLE ? at + WRAP_SAMPLE : len, pairs = 0, lower = 0;
    /* Of the lines followed by text (not a list item), at least a third must
     * be followed by lower case, a sentence going on: prose (lists,
     * headlines, tables and logs are not; nor is text in a script without
     * case, left as it is). This is looked at first, as most documents fail
     * it: a page scraped a paragraph a line starts each with a capital. */
    pair_lines it = {data, len, at, stop};
    while (next_pair_line(&it, &b, &e, &next)) {
        pairs++;
        lower += lower_at(data, next, len);
    }
    if (lower < WRAP_PAIRS || lower * 3 < pairs || !punctuated(data, at, stop))
        return 0;
    /* Of the lines a sentence goes on after, how many are each width, and
     * each width with the next line's first word after it. (A line that
     * ends a paragraph is short, but tells nothing when no blank line
     * follows it.) */
    uint32_t widths[CHARS_CAP + 1] = {0}, with_word[2 * CHARS_CAP + 2] = {0};
    it = (pair_lines){data, len, at, stop};
    while (next_pair_line(&it, &b, &e, &next))
        if (lower_at(data, next, len)) {
            unsigned n = count_chars(data, b, e);
            widths[n]++;
            with_word[n + 1 + word_at(data, len, next)]++;
        }
    /* The width: the widest of those lines, the widest twentieth left out. */
    unsigned wrap = 0;
    for (size_t seen = 0; wrap < CHARS_CAP && (seen += widths[wrap]) * 20 < lower * 19;)
        wrap++;
    if (wrap < WRAP_MIN || wrap > WRAP_MAX)
        return 0;
    /* Wrapped if four in five of them are full. */
    size_t n_full = 0;
    for (unsigned n = 0; n < 2 * CHARS_CAP + 2; n++)
        n_full += n + WRAP_SLACK > wrap ? with_word[n] : 0;
    return n_full * 5 >= lower * 4 ? wrap : 0;
}

unsigned pd_segment_lead_far(void)
{
    return CHARS_CAP | CHARS_CAP << LEAD_INDENT_SHIFT;
}

/* Is the lead one of pd_segment_lead_marks()? *depth: the marks it counts
 * (0 for any other lead). */
static bool lead_in_marks(unsigned lead, unsigned *depth)
{
    unsigned head = lead >> LEAD_INDENT_SHIFT;
    *depth = head & HEAD_MARKS ? head >> QUOTE_SHIFT & QUOTE_MAX : 0;
    return head & HEAD_MARKS;
}

bool pd_segment_lead_text(unsigned lead)
{
    unsigned depth;
    return lead && !lead_in_marks(lead, &depth);
}

unsigned pd_segment_lead_marks(const char *p, size_t k, size_t s, unsigned lead)
{
    unsigned depth;
    lead_in_marks(lead, &depth);
    quote_skip(p, k, s, &depth);
    return CHARS_CAP | (CHARS_CAP | depth << QUOTE_SHIFT | HEAD_MARKS) << LEAD_INDENT_SHIFT;
}

size_t pd_segment_text_start(const char *p, size_t k, size_t e, unsigned lead)
{
    unsigned depth;
    lead_in_marks(lead, &depth);
    return quote_skip(p, k, e, &depth);
}

uint64_t pd_segment_piece_end(const char *d, uint64_t origin, uint64_t start, uint64_t end,
                              size_t max)
{
    uint64_t cut = start + max;
    if (cut >= end)
        return end;
    for (uint64_t i = cut; i > start + max / 2; i--)
        if (pd_segment_space((unsigned char)d[i - 1 - origin]))
            return i;
    while (cut > start + 1 && ((unsigned char)d[cut - origin] & 0xC0) == 0x80)
        cut--;
    return cut;
}

unsigned pd_segment_lead(const char *data, size_t floor, size_t at, size_t len)
{
    size_t b;
    if (!line_start(data, floor, at, &b))
        return pd_segment_lead_far();
    /* The head is the whole line's, as a segmenter that reads the line from
     * its start finds it, with a tag looked for (tagged_head), as no later
     * call can read the line: a tag's text may start after `at`. The head
     * depends on no byte more than CHARS_CAP past the line's start, TAG_MAX
     * past its text's start or a field name's 40 bytes past it, so LEAD_LOOK
     * bytes after `at` tell it. */
    size_t look = len - at > LEAD_LOOK ? at + LEAD_LOOK : len;
    const char *nl = memchr(data + at, '\n', look - at);
    size_t e = nl ? pd_segment_blank_start(data, (size_t)(nl - data), at) : look;
    return count_chars(data, b, at) | tagged_head(data, b, e, line_head(data, b, e))
                                          << LEAD_INDENT_SHIFT;
}

bool pd_segment_runs_on(const char *data, size_t floor, size_t len, size_t nl, unsigned wrap)
{
    /* the line's trimmed end */
    return wrap && pd_segment_runs_on_at(data, floor, len, pd_segment_blank_start(data, nl, floor),
                                         nl, wrap);
}

bool pd_segment_runs_on_at(const char *data, size_t floor, size_t len, size_t e, size_t nl,
                           unsigned wrap)
{
    size_t b;
    if (!wrap)
        return false;
    if (!line_start(data, floor, e, &b))
        return runs_on(data, len, nl, wrap, CHARS_CAP, CHARS_CAP, b, e);
    return runs_on(data, len, nl, wrap, count_chars(data, b, e), line_head(data, b, e), b, e);
}

int pd_segment_runs_on_in(const char *w, size_t n, bool first, bool last, size_t nl,
                          unsigned wrap)
{
    size_t e = pd_segment_blank_start(w, nl, 0), b;
    /* back: the line's start (or 4 * CHARS_CAP bytes of it) */
    if (!first && (e == 0 || (line_start(w, 0, e, &b) && b == 0)))
        return -1;
    /* on: the next line's marks, then its first word (word_at(), field_name()) */
    unsigned depth;
    size_t k = quote_prefix(w, nl + 1, n, &depth);
    if (!last && n - k <= 4 * CHARS_CAP + 64)
        return -1;
    return pd_segment_runs_on(w, 0, n, nl, wrap);
}

/* --- the iterator -------------------------------------------------------- */

static void set_unit(pd_segmenter *s, pd_unit *u, size_t b, size_t e, uint32_t l0, uint32_t l1)
{
    u->index = ++s->index;
    u->line_start = l0;
    u->line_end = l1;
    u->byte_start = b;
    u->byte_end = e;
}

/* Newlines in p[b, e). */
static uint32_t newlines(const char *p, size_t b, size_t e)
{
    uint32_t n = 0;
    for (const char *q; b < e && (q = memchr(p + b, '\n', e - b)) != NULL; b = (size_t)(q - p) + 1)
        n++;
    return n;
}

/* The next stretch of text to split into sentences: a non-blank line, and
 * the lines it runs on into (runs_on). False at the end of the range. */
static bool next_stretch(pd_segmenter *s)
{
    size_t b, e, raw;
    uint32_t no;
    do {
        raw = s->pos;
        if (!next_line(s, &b, &e, &no))
            return false;
    } while (b == e);
    /* the range may begin inside its first line: the lead is the rest */
    unsigned width = 0, head = 0, depth;
    bool in_marks = lead_in_marks(s->lead, &depth);
    if (s->wrap) {
        width = (s->lead & LEAD_WIDTH) + count_chars(s->data, raw, e);
        head = s->lead ? s->lead >> LEAD_INDENT_SHIFT : line_head(s->data, raw, e);
    }
    /* marks that start a line are no text: a range that begins inside a
     * line's text begins at text, and one that begins among the marks that
     * start its line counts them on (its line is as wide as a line is
     * counted, and its head is the text's: line_head()) */
    s->line_begin = s->lead && !in_marks ? b : quote_skip(s->data, b, e, &depth);
    if (in_marks)
        head = CHARS_CAP | depth << QUOTE_SHIFT |
               (field_name(s->data, s->line_begin, e) ? FIELD_LINE : 0);
    s->lead = 0;
    s->line_no = no;
    while (s->wrap && s->data[s->pos - 1] == '\n' &&
           runs_on(s->data, s->len, s->pos - 1, s->wrap, width < CHARS_CAP ? width : CHARS_CAP,
                   head, raw, e)) {
        raw = s->pos;
        next_line(s, &b, &e, &no);
        width = count_chars(s->data, raw, e);
        head = line_head(s->data, raw, e);
    }
    s->line_stop = e;
    s->stretch_end = no;
    return true;
}

int pd_segment_next(pd_segmenter *s, pd_unit *u)
{
    size_t b, e;
    uint32_t no;

    if (s->kind == PD_UNIT_SENTENCE) {
        while (s->line_begin >= s->line_stop)
            if (!next_stretch(s))
                return 0;
        size_t next, end = sentence_end(s->data, s->line_begin, s->line_stop, &next);
        uint32_t last = s->line_no;
        if (s->line_no < s->stretch_end) /* the stretch spans lines */
            last += newlines(s->data, s->line_begin, end);
        set_unit(s, u, s->line_begin, end, s->line_no, last);
        if (s->line_no < s->stretch_end)
            last += newlines(s->data, end, next);
        s->line_no = last;
        s->line_begin = next;
        return 1;
    }

    if (s->kind == PD_UNIT_LINE && s->wrap) { /* a line as it was before wrapping */
        if (!next_stretch(s))
            return 0;
        set_unit(s, u, s->line_begin, s->line_stop, s->line_no, s->stretch_end);
        return 1;
    }
    do {
        if (!next_line(s, &b, &e, &no))
            return 0;
        s->lead = 0; /* it tells of the first line only */
    } while (b == e);
    if (s->kind == PD_UNIT_LINE) {
        set_unit(s, u, b, e, no, no);
        return 1;
    }
    size_t pb = b, pe = e;
    uint32_t first = no, last = no;
    while (next_line(s, &b, &e, &no) && b < e) {
        pe = e;
        last = no;
    }
    set_unit(s, u, pb, pe, first, last);
    return 1;
}

pd_status pd_unit_text(const char *data, size_t len, const pd_unit *u, pd_unit_kind kind,
                       pd_buf *out)
{
    size_t b = (size_t)u->byte_start, e = (size_t)u->byte_end;
    if (e > len || b > e)
        return PD_EINVAL;
    PD_TRY(pd_buf_reserve(out, e - b + 1));
    out->len = 0;
    if ((kind == PD_UNIT_LINE && u->line_end == u->line_start) || !memchr(data + b, '\n', e - b)) {
        memcpy(out->data, data + b, e - b);
        out->len = e - b;
    } else {
        pd_segmenter s;
        size_t lb, le;
        uint32_t no;
        pd_segment_range(&s, data, b, e, 1, kind); /* (a paragraph keeps lines of marks) */
        unsigned depth;
        while (next_line(&s, &lb, &le, &no)) {
            size_t text = quote_prefix(data, lb, le, &depth);
            if (out->len && text < le)
                lb = text; /* a quoted line goes on */
            if (out->len)
                out->data[out->len++] = ' ';
            memcpy(out->data + out->len, data + lb, le - lb);
            out->len += le - lb;
        }
    }
    out->data[out->len] = 0;
    return PD_OK;
}
