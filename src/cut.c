/*
 * cut.c - where the first pass cuts a document into chunks.
 *
 * The scanner's main thread cuts each document, in input order, into chunks
 * of about a megabyte (less at a batch's end) that its threads segment
 * independently (scan.c). A chunk ends where a unit ends, so its units are
 * the units of the whole document: after a newline (lines), a blank line
 * (paragraphs), or a newline that no line runs on across or a sentence's
 * start (sentences, and the lines of hard-wrapped text). A unit longer than
 * a chunk is cut at its pieces (--max-unit-bytes), found with the rule the
 * workers split it by, and a run of blanks longer than a chunk is cut
 * inside, as is a line of quotation marks alone (a blank line of a
 * quotation); the chunk then tells the next whether its unit goes on.
 *
 * The cutter reads little: a window at the place it aims for, read with
 * src->read() (the pages of a large document are then read once, by its
 * chunks' copies), and runs of blanks in blocks. Where chunks end never
 * changes the report.
 */
#include "internal.h"

/* A blank, or with marks a quotation mark too. */
static bool run_byte(char c, bool marks)
{
    return pd_segment_blank((unsigned char)c) || (marks && c == '>');
}

/* How many of the n bytes at b are run bytes (run_byte), from the first:
 * eight at a time, each compared with the five blanks (and the mark). */
static size_t run_length(const char *b, size_t n, bool marks)
{
    const uint64_t ones = UINT64_C(0x0101010101010101), high = ones << 7;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t v = pd_load8(b + i);
        uint64_t in = pd_zero_bytes(v ^ ones * ' ') | pd_zero_bytes(v ^ ones * '\t') |
                      pd_zero_bytes(v ^ ones * '\r') | pd_zero_bytes(v ^ ones * '\f') |
                      pd_zero_bytes(v ^ ones * '\v') | (marks ? pd_zero_bytes(v ^ ones * '>') : 0);
        if (in != high)
            return i + (size_t)__builtin_ctzll(~in & high) / 8;
    }
    while (i < n && run_byte(b[i], marks))
        i++;
    return i;
}

/* Where the run (of blanks, or with marks of blanks and quotation marks)
 * that goes on at k ends, read with src->read() in blocks, so that a run of
 * gigabytes is not faulted in by the cutter; SIZE_MAX if the bytes cannot
 * be read again. */
enum { RUN_BLOCK = 1 << 16 };

static size_t run_end_read(pd_cutter *p, size_t k, bool marks)
{
    if (!p->run_buf && !(p->run_buf = malloc(RUN_BLOCK)))
        return SIZE_MAX;
    for (size_t n = RUN_BLOCK, i = n; i == n && k < p->len; k += i) {
        n = p->len - k < RUN_BLOCK ? p->len - k : RUN_BLOCK;
        if (p->src->read(p->src->ctx, p->doc, k, n, p->run_buf) != PD_OK)
            return SIZE_MAX;
        i = run_length(p->run_buf, n, marks);
    }
    return k;
}

/* Where the run at `from` ends (of blanks, or with marks of blanks and
 * quotation marks): at the next byte that is not of it, or the document's
 * end. Up to `near` the run is read in the document's pages, which its
 * chunks touch anyway; beyond, with run_end_read(). A run read that far is
 * remembered, as later steps and the chunks cut inside it ask again: a run
 * of blanks in run_from and run_end (see cut_gap), a run of marks in
 * marks_from and marks_to. */
static size_t run_end(pd_cutter *p, size_t from, size_t near, bool marks)
{
    const char *d = p->data;
    size_t *mem_from = marks ? &p->marks_from : &p->run_from;
    size_t *mem_to = marks ? &p->marks_to : &p->run_end;
    if (from >= *mem_from && from < *mem_to && (marks || !p->run_marks))
        return *mem_to;
    size_t lim = near < p->len ? near : p->len, e;
    size_t k = from < lim ? from + run_length(d + from, lim - from, marks) : from;
    if (k < near || k == p->len)
        return k;
    if ((e = run_end_read(p, k, marks)) == SIZE_MAX) /* unreadable: read them where they lie */
        return k + run_length(d + k, p->len - k, marks);
    *mem_from = from;
    *mem_to = e;
    if (!marks)
        p->run_marks = false;
    return e;
}

/* Where the run of blanks at `from` ends (run_end). */
static size_t blank_end(pd_cutter *p, size_t from, size_t near)
{
    return run_end(p, from, near, false);
}

/* If the line after the newline at nl is blank, where it ends (after its
 * newline, or at the document's end); else 0. */
static size_t blank_line_after(const char *d, size_t nl, size_t len)
{
    size_t k = nl + 1;
    while (k < len && pd_segment_blank((unsigned char)d[k]))
        k++;
    return k == len ? len : d[k] == '\n' ? k + 1 : 0;
}

/* The end of the first blank line that follows a newline in [from, to), or 0:
 * a paragraph ends before it. */
static size_t para_break(const char *d, size_t from, size_t to, size_t len)
{
    const char *nl;
    for (size_t i = from; i < to && (nl = memchr(d + i, '\n', to - i)) != NULL;) {
        size_t at = (size_t)(nl - d), end = blank_line_after(d, at, len);
        if (end)
            return end;
        i = at + 1;
    }
    return 0;
}

/* The cutter looks for a chunk's end in a window of the document read with
 * src->read() where it can. The chunks of a large document are processed
 * from copies (open_view), so the cutter is then the one reader of the
 * document's pages through the mapping, and a page read there counts in
 * the process's memory until the merge gives it back: a 2 MB folio of the
 * page cache (a file read from disk, on a kernel that caches files in large
 * folios) counts whole. With a chunk cut every megabyte, that held 9 MB of
 * the peak of 100 MB of news, and 14 MB of 100 MB of paragraphs. */
enum {
    CUT_WINDOW = 16 << 10,
    /* a hard-wrapped document's window reaches this far back too: see
     * stretch_end_after() */
    STRETCH_BACK = 4 << 10
};

/* Bytes [from, from + *n) of the document being cut, into p->window:
 * `size` bytes (up to STRETCH_BACK + CUT_WINDOW), fewer up to look or the
 * document's end. NULL when the document is small (in memory already, see
 * PD_COPY_DOC_MIN) or the bytes cannot be read. */
static const char *cut_window(pd_cutter *p, size_t from, size_t look, size_t size, size_t *n)
{
    look = look < p->len ? look : p->len;
    *n = look - from < size ? look - from : size;
    if (p->len < PD_COPY_DOC_MIN ||
        (!p->window && !(p->window = malloc(STRETCH_BACK + CUT_WINDOW))) ||
        p->src->read(p->src->ctx, p->doc, from, *n, p->window) != PD_OK)
        return NULL;
    return p->window;
}

/* Just past the first newline in [want, look) when it lies in the window,
 * else 0. */
static size_t newline_after(pd_cutter *p, size_t want, size_t look)
{
    size_t n;
    const char *buf = cut_window(p, want, look, CUT_WINDOW, &n);
    const char *nl = buf ? memchr(buf, '\n', n) : NULL;
    return nl ? want + (size_t)(nl - buf) + 1 : 0;
}

/* For a hard-wrapped document, the first newline from want on that ends a
 * stretch (see cut_stretches), when the window decides it: whether a line
 * runs on is read from its own bytes (up to 4 * CHARS_CAP of them back,
 * segment.c) and the next line's first word, so the window reaches
 * STRETCH_BACK bytes before want. Else 0. */
static size_t stretch_end_after(pd_cutter *p, size_t want)
{
    size_t from = want - p->floor > STRETCH_BACK ? want - STRETCH_BACK : p->floor, n;
    const char *buf = cut_window(p, from, p->len, STRETCH_BACK + CUT_WINDOW, &n);
    if (!buf)
        return 0;
    bool first = from == p->floor, last = from + n == p->len;
    for (const char *nl = buf + (want - from); (nl = memchr(nl, '\n', (size_t)(buf + n - nl)));
         nl++) {
        int on = pd_segment_runs_on_in(buf, n, first, last, (size_t)(nl - buf), p->wrap);
        if (on <= 0)
            return on < 0 ? 0 : from + (size_t)(nl - buf) + 1;
    }
    return 0;
}

/* para_break(d, want, look, len) when the window holds the answer: a blank
 * line that ends inside it. Else 0. */
static size_t para_break_after(pd_cutter *p, size_t want, size_t look)
{
    size_t n, end;
    const char *buf = cut_window(p, want, look, CUT_WINDOW, &n);
    if (!buf || !(end = para_break(buf, 0, n, n)))
        return 0;
    return end < n || want + n == p->len ? want + end : 0;
}

/* A run of blanks longer than a chunk is cut inside, in every unit kind
 * (for the lines of a document that does not look wrapped, see
 * cut_in_blanks), so that neither the cutter nor a worker reads it whole:
 * the chunks inside it hold nothing else and are copied (cut_batch). The
 * next chunk continues the unit before the run only if it goes on after it
 * (gap_goes_on); a chunk that starts in the run the last one was cut in is
 * cut in it again while it reaches past the look. */

enum { RUN_PROBE = 4 << 10 };

/* Are the RUN_PROBE bytes at `at` (fewer up to look) blanks, or with marks
 * quotation marks and blanks? *n: how many were read, in the window. */
static bool probe_run(pd_cutter *p, size_t at, size_t look, bool marks, size_t *n)
{
    const char *w = cut_window(p, at, look, RUN_PROBE, n);
    return w && run_length(w, *n, marks) == *n;
}

/* `at` lies in a run of blanks that reaches past look: the run's end, and
 * its start (back to p->pos at most) in *s; else 0. The run's first
 * RUN_PROBE bytes are read in the window (probe_run), the rest with
 * blank_end(). */
static size_t blank_run_at(pd_cutter *p, size_t at, size_t look, size_t *s)
{
    size_t e, from = at, n;
    if (!p->run_marks && at >= p->run_from && at < p->run_end) {
        e = p->run_end;
        from = p->run_from > p->pos ? p->run_from : p->pos;
    } else {
        if (!probe_run(p, at, look, false, &n))
            return 0;
        e = blank_end(p, at + n, at + n);
    }
    if (e <= look)
        return 0;
    *s = pd_segment_blank_start(p->data, from, p->pos);
    p->run_from = *s;
    p->run_end = e;
    p->run_marks = false;
    return e;
}

/* The start of the quotation marks and blanks before s in its line, back to
 * p->pos at most. */
static size_t marks_start(const pd_cutter *p, size_t s)
{
    while (s > p->pos && run_byte(p->data[s - 1], true))
        s--;
    return s;
}

/* Is there text in the line before k, where marks_start() stopped? At
 * p->pos, the chunk's lead tells whether its range begins inside a line's
 * text. */
static bool text_before_marks(const pd_cutter *p, size_t k)
{
    return k > p->pos ? p->data[k - 1] != '\n' : pd_segment_lead_text(p->lead);
}

/* Where the text of the line whose marks and blanks start at k (where
 * marks_start() stopped) begins, in [k, e): at p->pos, past the marks the
 * chunk's lead counts too. */
static size_t text_start(const pd_cutter *p, size_t k, size_t e)
{
    return pd_segment_text_start(p->data, k, e, k == p->pos ? p->lead : 0);
}

/* Where the quotation marks and blanks at k end: their first RUN_PROBE
 * bytes are read in the pages, the rest with run_end_read() (run_end). */
static size_t marks_end(pd_cutter *p, size_t k)
{
    return run_end(p, k, p->len - k < RUN_PROBE ? p->len : k + RUN_PROBE, true);
}

/* Is there text in the line after k, past quotation marks and blanks? */
static bool text_after_marks(pd_cutter *p, size_t k)
{
    k = marks_end(p, k);
    return k < p->len && p->data[k] != '\n';
}

/* A unit starts at q and goes on to `end` at least: the start of the first
 * of its pieces (add_unit_split) that starts at or after want, when one
 * from q ends before `end`; else 0. *inside and *lead as for a sentence. */
static size_t piece_cut(pd_cutter *p, size_t q, size_t end, size_t want, bool *inside,
                        unsigned *lead)
{
    const char *d = p->data;
    size_t max = p->max_unit_bytes;
    while (q + max < end) {
        size_t next = (size_t)pd_segment_piece_end(d, 0, q, UINT64_MAX, max);
        while (pd_segment_space((unsigned char)d[next]))
            next++;
        if (next >= want) {
            *inside = d[next - 1] != '\n';
            *lead = *inside ? pd_segment_lead(d, p->floor, next, p->len) : 0;
            return next;
        }
        q = next;
    }
    return 0;
}

/* `at` lies in a run of quotation marks and blanks that reaches past look:
 * the run's end, and its start (back to p->pos at most) in *s; else 0. Its
 * first RUN_PROBE bytes are read in the window, the rest with marks_end(),
 * which remembers it (from where it began to read: the run's start is
 * found once). */
static size_t marks_run_at(pd_cutter *p, size_t at, size_t look, size_t *s)
{
    size_t n, e;
    if (!p->run_marks && at >= p->run_from && at < p->run_end && p->run_end <= look)
        return 0; /* blanks that end before look (blank_run_at): a later step meets the marks */
    if (at < p->marks_from || at >= p->marks_to) {
        if (!probe_run(p, at, look, true, &n) || (e = marks_end(p, at + n)) <= look)
            return 0;
        if (e != p->marks_to) { /* not remembered: it ends the document */
            *s = marks_start(p, at);
            return e;
        }
    }
    if (p->marks_from > p->pos)
        p->marks_from = marks_start(p, p->marks_from);
    *s = p->marks_from > p->pos ? p->marks_from : p->pos;
    return p->marks_to > look ? p->marks_to : 0;
}

/* After the newline at nl, is there text on the next line? */
static bool text_after_line(pd_cutter *p, size_t nl)
{
    size_t k = blank_end(p, nl + 1, nl + 1);
    return k < p->len && p->data[k] != '\n';
}

/* Does a sentence end at the run of blanks that starts at s, its text
 * going on at `next` (pd_segment_ends_across)? */
static bool ends_across(const pd_cutter *p, size_t s, size_t next)
{
    const char *d = p->data;
    size_t w = s, n = p->len - next < 64 ? p->len - next : 64;
    while (w > p->pos && s - w < 256 && !pd_segment_space((unsigned char)d[w - 1]))
        w--;
    const char *nl = memchr(d + next, '\n', n);
    return pd_segment_ends_across(d + w, s - w, d + next, nl ? (size_t)(nl - (d + next)) : n);
}

/* In hard-wrapped text, the line whose text ends before the run of blanks
 * [s, e) and whose newline is at e runs on into the next: does its unit go
 * on there (for sentences, unless one ends at the line's end)? */
static bool runs_on_across(const pd_cutter *p, size_t s, size_t e)
{
    const char *d = p->data;
    if (!pd_segment_runs_on_at(d, p->floor, p->len, s, e, p->wrap))
        return false;
    size_t k = e + 1; /* the next line's text, after its quotation marks */
    while (k < p->len && (pd_segment_blank((unsigned char)d[k]) || d[k] == '>'))
        k++;
    return p->unit != PD_UNIT_SENTENCE || !ends_across(p, s, k);
}

/* Has the run of blanks [s, e) text before it in its line? The quotation
 * marks that start a line are no text of a sentence, nor of a line of
 * hard-wrapped text, up to QUOTE_MAX of them (segment.c), and none of a line
 * of marks alone; they are looked back over to p->pos, where the chunk's
 * lead tells whether its range begins inside a line's text (else its range
 * begins a line, or marks and blanks in a line that has no text before). */
static bool text_before(pd_cutter *p, size_t s, size_t e)
{
    if (p->unit == PD_UNIT_PARAGRAPH)
        return s > p->pos && p->data[s - 1] != '\n';
    size_t k = marks_start(p, s);
    if (text_before_marks(p, k))
        return true;
    return text_start(p, k, s) < s && text_after_marks(p, e);
}

/* Whether the unit before the run of blanks [s, e) goes on after it: its
 * text lies before and after the run in one paragraph; for sentences and
 * the lines of hard-wrapped text, in one line (with no sentence ending at
 * the run), or in a wrapped line that runs on into the next. 1 or 0; -1
 * when it goes on but the run is no longer than a piece (unit_limit),
 * which may then hold it (pieces end before a longer one). s lies at or
 * after p->pos; p->in_line tells whether the unit at p->pos has begun. */
static int gap_goes_on(pd_cutter *p, size_t s, size_t e)
{
    const char *d = p->data;
    bool line_text = text_before(p, s, e), on;
    if (p->unit == PD_UNIT_PARAGRAPH) {
        /* begun: text before, in the run's line or in the line above */
        size_t j = s > p->pos ? pd_segment_blank_start(d, s - 1, p->pos) : p->pos;
        bool begun = line_text || (j > p->pos ? d[j - 1] != '\n' : p->in_line);
        on = begun && e < p->len && (d[e] != '\n' || (line_text && text_after_line(p, e)));
    } else if (!line_text || e == p->len) {
        on = false;
    } else if (d[e] != '\n') {
        on = p->unit != PD_UNIT_SENTENCE || !ends_across(p, s, e);
    } else {
        on = p->wrap && runs_on_across(p, s, e);
    }
    return on && e - s <= pd_unit_limit(p->max_unit_bytes) ? -1 : on;
}

/* End the chunk inside the run of blanks [s, e): at want, or at s when it
 * starts past want. on: the unit before the run goes on after it. For
 * sentences and wrapped lines (lead given), *lead tells the next chunk
 * where in its line its range begins, when the line goes on after the run
 * (a chunk starts a chunk's length into the run, so the line is wider than
 * a line is counted): inside the line's text, with text before the run
 * (the line's quotation marks are behind); else among the marks and blanks
 * that start the line, some of them perhaps before the run. 0 when the run
 * ends its line. */
static size_t cut_gap(pd_cutter *p, size_t s, size_t e, size_t want, bool on, bool *inside,
                      bool *unit_on, unsigned *lead)
{
    const char *d = p->data;
    size_t cut = s > want ? s : want, k;
    *inside = cut > s || (s > p->floor && d[s - 1] != '\n');
    *unit_on = on;
    if (!lead || e == p->len || d[e] == '\n') {
        p->run_lead = 0;
    } else if (text_before(p, s, e)) {
        p->run_lead = pd_segment_lead_far();
    } else {
        k = marks_start(p, s);
        p->run_lead = pd_segment_lead_marks(d, k, s, k == p->pos ? p->lead : 0);
    }
    if (lead)
        *lead = *inside ? p->run_lead : 0;
    p->run_from = s;
    p->run_end = e;
    p->run_marks = false;
    p->in_run = true;
    return cut;
}

/* A line of quotation marks and blanks alone, [s, e), reaches far past
 * want (marks_run_at): the chunk ends inside it, as in a run of blanks
 * that starts a line, and the chunks that start in it end in it again. */
static size_t cut_marks_line(pd_cutter *p, size_t s, size_t e, size_t want, bool *inside,
                             bool *unit_on, unsigned *lead)
{
    size_t cut = cut_gap(p, s, e, want, false, inside, unit_on, lead);
    p->run_marks = true;
    return cut;
}

/* Does the line that the newline nl ends run on into the next? For the
 * line that ends the run the last chunk was cut in, from the text before
 * the run (in_run): the run is not read back. A line of marks alone is a
 * blank line, which runs on into nothing. */
static bool runs_on_from(const pd_cutter *p, bool in_run, size_t nl)
{
    if (in_run && nl == p->run_end)
        return !p->run_marks &&
               pd_segment_runs_on_at(p->data, p->floor, p->len, p->run_from, nl, p->wrap);
    return pd_segment_runs_on(p->data, p->floor, p->len, nl, p->wrap);
}

/* A run of blanks [s, e) of a line reaches far past `want` (lines of a
 * document that does not look wrapped): the chunk ends inside it (cut_gap).
 * The line's unit goes on in the next chunk only if it has begun (there is
 * text before the run) and the line has more text after it. Blanks around a
 * unit are no part of it, so the cut changes no unit, number or piece. */
static size_t cut_in_blanks(pd_cutter *p, size_t s, size_t e, size_t want, bool begun,
                            bool *inside, bool *unit_on)
{
    bool on = begun && e < p->len && p->data[e] != '\n';
    return cut_gap(p, s, e, want, on, inside, unit_on, NULL);
}

/* The chunk starts in the run the last one was cut in, which reaches past
 * look: it ends in it too, at want. */
static size_t cut_gap_again(pd_cutter *p, size_t want, bool *inside, bool *unit_on,
                            unsigned *lead)
{
    *inside = true;
    *unit_on = p->in_line;
    if (lead)
        *lead = p->run_lead;
    p->in_run = true;
    return want;
}

/* The end of the first blank line after a newline in [from, to), as
 * para_break() finds it, or 0; the line starts at *blank. Its blanks are
 * read with blank_end(), in the pages up to `to` and past them with
 * src->read(). */
static size_t para_break_far(pd_cutter *p, size_t from, size_t to, size_t *blank)
{
    const char *d = p->data, *nl;
    for (size_t i = from; i < to && (nl = memchr(d + i, '\n', to - i)) != NULL;) {
        size_t k = blank_end(p, *blank = (size_t)(nl - d) + 1, to);
        if (k == p->len || d[k] == '\n')
            return k == p->len ? k : k + 1;
        i = k;
    }
    return 0;
}

/* The chunk's end at the first blank line after a newline in [from, to):
 * after it, or inside it when it is longer than a chunk (the paragraph
 * before it is over). 0 if there is none. */
static size_t para_end(pd_cutter *p, size_t from, size_t to, size_t want, bool *inside,
                       bool *unit_on)
{
    size_t blank, end = para_break_far(p, from, to, &blank);
    size_t e = end == p->len ? end : end - 1;
    if (!end || e - blank <= PD_CHUNK_BYTES)
        return end;
    return cut_gap(p, blank, e, want, false, inside, unit_on, NULL);
}

/* Past the blanks and newlines at `from`: the next text, or, at a second
 * newline (a blank line ends the paragraph), just past it (*brk). Their runs
 * of blanks are read with blank_end(), as in para_break_far(); the longest
 * one is [*s, *e) (kept across calls: *s == *e to start). */
static size_t para_skip(pd_cutter *p, size_t from, size_t to, bool *brk, size_t *s, size_t *e)
{
    *brk = false;
    for (unsigned newlines = 0;;) {
        size_t k = blank_end(p, from, to);
        if (k - from > *e - *s) {
            *s = from;
            *e = k;
        }
        if (k == p->len || p->data[k] != '\n')
            return k;
        if (++newlines == 2) {
            *brk = true;
            return k + 1;
        }
        from = k + 1;
    }
}

/* Where the chunk at p->pos ends when units are paragraphs split at
 * max_unit_bytes: after a blank line near pos + chunk_bytes, or, when the
 * paragraph there goes on far, at the start of one of its pieces, found from
 * the paragraph's first text with the rule add_unit_split() follows (blanks
 * and newlines between words are spaces; two newlines with only blanks
 * between end the paragraph); or inside a run of blanks longer than a
 * chunk (cut_gap). *inside: the chunk ends inside a line. */
static size_t cut_paragraph(pd_cutter *p, bool in_run, bool *inside, bool *unit_on)
{
    const char *d = p->data;
    size_t want = p->pos + p->chunk_bytes, max = p->max_unit_bytes, len = p->len, s, e;
    size_t look = len - want < PD_CHUNK_BYTES ? len : want + PD_CHUNK_BYTES;
    size_t end = para_break_after(p, want, look);
    if (end)
        return end;
    if (in_run && p->run_end > look)
        return cut_gap_again(p, want, inside, unit_on, NULL);
    int on = (e = blank_run_at(p, want, look, &s)) != 0 ? gap_goes_on(p, s, e) : -1;
    if (on >= 0)
        return cut_gap(p, s, e, want, on, inside, unit_on, NULL);
    end = para_end(p, want, look, want, inside, unit_on);
    if (end || look == len)
        return end ? end : len;
    /* The piece to start from: pos itself (inside the paragraph), or the
     * first text after the last blank line before want. */
    size_t q = p->pos, blank;
    bool brk, broke = false;
    s = e = 0;
    if (!p->in_line)
        for (size_t i = p->pos; (end = para_break_far(p, i, want, &blank)) != 0 && end <= want;)
            q = i = end;
    do {
        q = para_skip(p, q, look, &brk, &s, &e);
        broke |= brk;
    } while (brk && q < len);
    if (e - s > PD_CHUNK_BYTES)
        return cut_gap(p, s, e, want, p->in_line && !broke && q < len, inside, unit_on, NULL);
    for (;;) {
        size_t cut = q + max;
        if (cut >= len)
            return len;
        if ((end = para_end(p, q, cut, want, inside, unit_on)) != 0)
            return end; /* the paragraph ends within this piece */
        /* It goes on past cut, unless only blanks and a blank line follow:
         * the next piece starts at the text after this one. Blanks longer
         * than a chunk after it are cut inside. */
        s = e = 0;
        size_t piece = (size_t)pd_segment_piece_end(d, 0, q, UINT64_MAX, max);
        size_t next = para_skip(p, piece, look, &brk, &s, &e);
        if (e - s > PD_CHUNK_BYTES)
            return cut_gap(p, s, e, want, !brk && next < len, inside, unit_on, NULL);
        if (brk || next == len)
            return next;
        if (next >= want) {
            *inside = d[next - 1] != '\n';
            *unit_on = true;
            return next;
        }
        q = next;
    }
}

/* For sentences and the lines of hard-wrapped text: the run of quotation
 * marks and blanks [s, e) reaches past want (marks_run_at). When it starts
 * a line, the line is a blank line of a quotation if the run ends it
 * (cut_marks_line); else the line's unit starts past the marks that the
 * segmenter leaves out. When the chunk starts in it inside a unit that goes
 * on, the unit goes on from there. That unit is cut at its pieces
 * (piece_cut). 0 when there is text before the run (cut_in_unit cuts its
 * unit), when no piece ends before e, or when the unit's start lies past
 * the chunk's reach: the chunk then reads on. */
static size_t cut_marks(pd_cutter *p, size_t s, size_t e, size_t want, bool *inside,
                        bool *unit_on, unsigned *lead)
{
    size_t max = p->max_unit_bytes, q = s;
    if (!text_before_marks(p, s)) {
        if (e == p->len || p->data[e] == '\n')
            return cut_marks_line(p, s, e, want, inside, unit_on, lead);
        size_t reach = want + PD_CHUNK_BYTES < e ? want + PD_CHUNK_BYTES : e;
        if ((q = text_start(p, s, reach)) == reach)
            return 0;
    } else if (!p->in_line || s != p->pos) {
        return 0;
    }
    if (max == 0 || max > PD_LONG_PIECE_MAX || (q = piece_cut(p, q, e, want, inside, lead)) == 0)
        return 0;
    *unit_on = true;
    return q;
}

/* No stretch ends and no sentence starts in [want, look), which reaches a
 * piece past want: the unit that holds want is long (a line of gigabytes,
 * a stretch of wrapped lines with no break, a sentence with no end). The
 * chunk then ends inside it, at the start of one of its pieces, found with
 * the rule add_unit_split() follows from the unit's start as the chunk's
 * own segmenter finds it, so the unit's pieces do not depend on where
 * chunks end; *lead as for a sentence. 0 when no piece ends in the window
 * (max_unit_bytes too large), and the chunk reads on. */
static size_t cut_in_unit(pd_cutter *p, size_t want, size_t look, bool *inside, unsigned *lead)
{
    const char *d = p->data;
    size_t max = p->max_unit_bytes;
    if (max == 0 || max > PD_LONG_PIECE_MAX)
        return 0;
    pd_segmenter seg;
    pd_unit u, last = {0};
    pd_segment_range(&seg, d, p->pos, look, 1, p->unit);
    seg.wrap = p->wrap;
    seg.lead = p->lead;
    while (pd_segment_next(&seg, &u)) {
        if (u.byte_start > want)
            return 0; /* a unit starts that the window's look missed */
        last = u;
    }
    return piece_cut(p, last.byte_start, last.byte_end, want, inside, lead);
}

/* Where the chunk ends when units are sentences, or lines of a document
 * that looks wrapped: after the first newline from `want` on that ends a
 * stretch (one that no line runs on across, see pd_segment_runs_on) or, for
 * sentences, in a stretch that goes on, at the start of a sentence
 * (*inside; the chunk then tells its segmenter the characters of the line
 * before, *lead). Both are looked for a step at a time, so a chunk usually
 * ends within a step of `want`; a unit longer than a chunk and a piece is
 * cut at its pieces (cut_in_unit, *unit_on). A run of blanks that reaches
 * more than a chunk past where it is met is cut inside (cut_gap). */
static size_t cut_stretches(pd_cutter *p, size_t want, bool in_run, bool *inside, bool *unit_on,
                            unsigned *lead)
{
    enum { STEP = 64 << 10 };
    const char *d = p->data;
    size_t floor = p->floor, k, max = p->max_unit_bytes, s, e;
    size_t far = want + PD_CHUNK_BYTES + (max < PD_LONG_PIECE_MAX ? max : 0); /* where to try it */
    bool sentences = p->unit == PD_UNIT_SENTENCE;
    int on;
    if (in_run && p->run_end > want + PD_CHUNK_BYTES)
        return cut_gap_again(p, want, inside, unit_on, lead);
    for (size_t from = want; from < p->len; from += STEP) {
        size_t to = p->len - from < STEP ? p->len : from + STEP;
        if (pd_segment_blank((unsigned char)d[from]) &&
            (e = blank_run_at(p, from, from + PD_CHUNK_BYTES, &s)) != 0 &&
            (on = gap_goes_on(p, s, e)) >= 0)
            return cut_gap(p, s, e, want, on, inside, unit_on, lead);
        if (run_byte(d[from], true) && (e = marks_run_at(p, from, from + PD_CHUNK_BYTES, &s)) &&
            (k = cut_marks(p, s, e, want, inside, unit_on, lead)) != 0)
            return k;
        for (const char *nl = d + from; (nl = memchr(nl, '\n', (size_t)(d + to - nl))) != NULL;)
            if (!runs_on_from(p, in_run, (size_t)(nl++ - d)))
                return (size_t)(nl - d);
        if (sentences && (k = pd_segment_sentence_start(d, from, to)) != 0) {
            size_t b = k; /* back over blanks and quotation marks */
            while (b > p->pos && (pd_segment_blank((unsigned char)d[b - 1]) || d[b - 1] == '>'))
                b--;
            if (b > p->pos && d[b - 1] == '\n')
                return b; /* at the start of a line a sentence runs on into */
            *inside = true;
            *lead = pd_segment_lead(d, floor, k, p->len);
            return k;
        }
        if (from < far && to >= far && to < p->len && (k = cut_in_unit(p, want, to, inside, lead))) {
            *unit_on = true;
            return k;
        }
    }
    return p->len;
}

/* For unwrapped lines: does the run of blanks [s, e) lie outside its
 * line's unit? It does when no text is before it in the line (the unit,
 * if any, starts after it), when it ends the line (the unit ends before
 * it), or when the line is quotation marks alone (no unit). Marks are text
 * in a line that is not marks alone. At p->pos, in_line tells whether the
 * line's unit has begun. */
static bool run_outside_line(pd_cutter *p, size_t s, size_t e)
{
    const char *d = p->data;
    size_t k = marks_start(p, s);
    if (k > p->pos ? d[k - 1] != '\n' : p->in_line)
        return e == p->len || d[e] == '\n';
    return k == s || !text_after_marks(p, e);
}

/* Where the chunk ends when units are held whole (max_unit_bytes 0 or
 * above PD_LONG_PIECE_MAX), lines that do not look wrapped or paragraphs:
 * after the first newline (lines) or blank line (paragraphs) from want on,
 * looked for a step at a time. A run of blanks met at a step that reaches
 * more than a chunk past it, and holds no unit's text on both sides (lines:
 * run_outside_line; paragraphs: gap_goes_on), is cut inside (cut_gap), as
 * is a line of quotation marks alone (lines): they are not read whole. A
 * unit is, and the run inside one. */
static size_t cut_whole_units(pd_cutter *p, size_t want, bool in_run, bool *inside,
                              bool *unit_on)
{
    enum { STEP = 64 << 10 };
    const char *d = p->data;
    bool lines = p->unit == PD_UNIT_LINE;
    size_t s, e, k;
    if (in_run && p->run_end > want + PD_CHUNK_BYTES)
        return cut_gap_again(p, want, inside, unit_on, NULL);
    for (size_t from = want; from < p->len; from += STEP) {
        size_t to = p->len - from < STEP ? p->len : from + STEP;
        if (pd_segment_blank((unsigned char)d[from]) &&
            (e = blank_run_at(p, from, from + PD_CHUNK_BYTES, &s)) != 0) {
            if (lines ? run_outside_line(p, s, e) : gap_goes_on(p, s, e) == 0)
                return cut_gap(p, s, e, want, false, inside, unit_on, NULL);
        } else if (lines && run_byte(d[from], true) &&
                   (e = marks_run_at(p, from, from + PD_CHUNK_BYTES, &s)) != 0 &&
                   !text_before_marks(p, s) && (e == p->len || d[e] == '\n')) {
            return cut_marks_line(p, s, e, want, inside, unit_on, NULL);
        }
        const char *nl;
        if (lines && (nl = memchr(d + from, '\n', to - from)) != NULL)
            return (size_t)(nl - d) + 1;
        if (!lines && (k = para_end(p, from, to, want, inside, unit_on)) != 0)
            return k;
    }
    return p->len;
}

/* Where the chunk that starts at p->pos ends: just after a newline near
 * pos + chunk_bytes (after a blank line for paragraphs; for sentences, at a
 * stretch's end or a sentence's start, cut_stretches). A line too long to
 * find its end within a chunk's reach, when units are lines split at
 * max_unit_bytes, is cut inside instead (*inside; *unit_on when its unit
 * goes on): at the start of one of its pieces, found from the line's start
 * with the rule add_unit_split() follows, or inside a run of blanks that
 * reaches far past the chunk. The cutter and the workers read a window at a
 * time, never the whole line, and the pages of a line of gigabytes are
 * released as its chunks are merged. */
static size_t cut_chunk(pd_cutter *p, bool *inside, bool *unit_on, unsigned *lead)
{
    const char *d = p->data;
    size_t want = p->pos + p->chunk_bytes, max = p->max_unit_bytes;
    bool in_run = p->in_run;
    *inside = *unit_on = p->in_run = false;
    *lead = 0;
    if (want >= p->len)
        return p->len;
    if (p->unit == PD_UNIT_SENTENCE || p->wrap) {
        /* unwrapped, every newline ends a stretch: the first one, as below */
        size_t after = p->wrap ? stretch_end_after(p, want) : newline_after(p, want, p->len);
        return after ? after : cut_stretches(p, want, in_run, inside, unit_on, lead);
    }
    if (max == 0 || max > PD_LONG_PIECE_MAX) {
        size_t after = p->unit == PD_UNIT_PARAGRAPH ? para_break_after(p, want, p->len)
                                                           : newline_after(p, want, p->len);
        return after ? after : cut_whole_units(p, want, in_run, inside, unit_on);
    }
    if (p->unit == PD_UNIT_PARAGRAPH)
        return cut_paragraph(p, in_run, inside, unit_on);
    size_t look = p->len - want < PD_CHUNK_BYTES ? p->len : want + PD_CHUNK_BYTES;
    size_t after = newline_after(p, want, look);
    if (after)
        return after;
    if (in_run && p->run_end > look)
        return cut_gap_again(p, want, inside, unit_on, NULL);
    const char *nl = memchr(d + want, '\n', look - want);
    if (nl || look == p->len)
        return nl ? (size_t)(nl - d) + 1 : p->len;
    /* The piece to start from: pos itself (inside the line, perhaps in the
     * blanks before a piece), or the line's start; then past its blanks. A
     * chunk inside a run of blanks found before has no newline to look
     * back for. */
    size_t q = want;
    if (!p->in_line && !(p->pos >= p->run_from && want < p->run_end))
        while (q > p->pos && d[q - 1] != '\n')
            q--;
    else
        q = p->pos;
    size_t e = blank_end(p, q, look);
    if (e > look)
        return cut_in_blanks(p, q, e, want, p->in_line, inside, unit_on);
    q = e;
    /* A line of quotation marks alone is blank (no unit, nor pieces): it
     * ends the chunk, or is cut inside as a run of blanks would be. */
    if (!p->in_line && q < p->len && d[q] == '>' &&
        ((e = marks_end(p, q)) == p->len || d[e] == '\n')) {
        if (e > look)
            return cut_marks_line(p, q, e, want, inside, unit_on, NULL);
        return e == p->len ? e : e + 1;
    }
    for (;;) {
        /* Is there more of the line than a piece from q holds? If not, it
         * ends in this chunk (its end is found without reading far). */
        size_t cut = q + max;
        if (cut >= p->len)
            return p->len;
        if ((nl = memchr(d + q, '\n', max)) != NULL)
            return (size_t)(nl - d) + 1;
        /* A run of blanks at cut that reaches past the chunk is cut inside
         * when it lies between pieces: when it is longer than a piece, or
         * when the line ends after it. */
        size_t k = blank_end(p, cut, look > cut ? look : cut);
        size_t s = pd_segment_blank_start(d, cut, q);
        if (k > look && k > cut && (k - s > max || k == p->len || d[k] == '\n'))
            return cut_in_blanks(p, s, k, want, true, inside, unit_on);
        if (k == p->len || d[k] == '\n')
            return k == p->len ? k : k + 1;
        /* It goes on past cut: the piece ends where add_unit_split() ends
         * it, and the next one starts at the text after it. */
        size_t next = blank_end(p, (size_t)pd_segment_piece_end(d, 0, q, UINT64_MAX, max), k);
        if (next >= want) {
            *inside = *unit_on = true;
            return next;
        }
        q = next;
    }
}

void pd_cut_doc(pd_cutter *p, uint32_t doc, const char *data, size_t len, unsigned wrap)
{
    p->doc = doc;
    p->data = data;
    p->len = len;
    p->pos = p->floor = pd_segment_bom(data, len);
    p->wrap = wrap;
    p->lead = 0;
    p->in_line = p->in_run = false;
    p->run_from = p->run_end = p->marks_from = p->marks_to = 0;
    p->run_marks = false;
}

void pd_cut_next(pd_cutter *p, size_t chunk_bytes, pd_cut *c)
{
    bool inside, unit_on;
    unsigned lead;
    p->chunk_bytes = chunk_bytes;
    size_t end = cut_chunk(p, &inside, &unit_on, &lead);
    /* A chunk of lines (not hard-wrapped) that goes on with a line's unit
     * begins inside its text: quotation marks alone there are no blank line. */
    if (p->unit == PD_UNIT_LINE && !p->wrap && unit_on)
        lead = pd_segment_lead_far();
    c->start = p->pos;
    c->end = end;
    c->lead = p->lead;
    c->open_start = p->in_line;
    c->open_end = inside;
    c->open_unit = unit_on;
    c->blanks = !p->run_marks && p->run_from <= p->pos && end <= p->run_end;
    p->lead = lead;
    p->in_line = unit_on;
    p->pos = end;
}

void pd_cut_release(pd_cutter *p)
{
    free(p->run_buf);
    free(p->window);
    p->run_buf = p->window = NULL;
}
