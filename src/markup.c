/*
 * markup.c - HTML tags and Markdown link targets, which a reader never sees.
 *
 * Scrapers leave markup in text: "<p>", "<a href=...>", or Markdown, where
 * each outlet's copy of a story links its own pages: "[the report](https://
 * outlet.example/2026/11/...)". Read as text, a link's address adds a dozen
 * words that differ from copy to copy. The normalizer reads a unit with
 * markup from a copy where each construct is one space (pd_normalize_at,
 * PD_NORM_MARKUP):
 *   - a tag of an HTML element ("<p>", "</em>", "<a href='x' class=y>",
 *     "<br/>"; its name one of HTML's, so "x<y or z>w" stays), or a comment;
 *   - the target of a Markdown link or image, "(...)" right after "]": the
 *     link's text stays.
 * A construct longer than MARKUP_MAX, or that does not end within the unit,
 * is text.
 */
#include "internal.h"

#include <ctype.h>

enum { MARKUP_MAX = 4096 };

/* HTML's element names, sorted (and those of HTML 4 that pages still use),
 * each padded with NULs to ELEMENT_MAX bytes: a fixed-size compare. */
enum { ELEMENT_MAX = 12 };
static const char elements[][ELEMENT_MAX] = {
    "a", "abbr", "address", "area", "article", "aside", "audio", "b", "base", "bdi", "bdo",
    "big", "blockquote", "body", "br", "button", "canvas", "caption", "center", "cite", "code",
    "col", "colgroup", "data", "datalist", "dd", "del", "details", "dfn", "dialog", "div", "dl",
    "dt", "em", "embed", "fieldset", "figcaption", "figure", "font", "footer", "form", "h1",
    "h2", "h3", "h4", "h5", "h6", "head", "header", "hgroup", "hr", "html", "i", "iframe", "img",
    "input", "ins", "kbd", "label", "legend", "li", "link", "main", "map", "mark", "menu",
    "meta", "meter", "nav", "noscript", "object", "ol", "optgroup", "option", "output", "p",
    "param", "picture", "pre", "progress", "q", "rp", "rt", "ruby", "s", "samp", "script",
    "section", "select", "slot", "small", "source", "span", "strike", "strong", "style", "sub",
    "summary", "sup", "svg", "table", "tbody", "td", "template", "textarea", "tfoot", "th",
    "thead", "time", "title", "tr", "track", "tt", "u", "ul", "var", "video", "wbr"};

static bool element(const char *t, size_t n)
{
    char name[ELEMENT_MAX] = {0};
    if (n >= ELEMENT_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        name[i] = (char)tolower((unsigned char)t[i]);
    size_t lo = 0, hi = sizeof elements / sizeof *elements;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = memcmp(name, elements[mid], ELEMENT_MAX);
        if (c == 0)
            return true;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return false;
}

/* The length of the tag or comment at t[i] (a '<'), or 0. A tag ends
 * before the next '<' (in a quoted value too), a comment before the next
 * "<!--": text full of '<' is read once, not once for each. */
static size_t tag_at(const char *t, size_t i, size_t len)
{
    size_t end = len - i > MARKUP_MAX ? i + MARKUP_MAX : len, k = i + 1;
    if (end - i >= 7 && memcmp(t + i, "<!--", 4) == 0) {
        for (k = i + 4; k + 3 <= end; k++) {
            if (memcmp(t + k, "-->", 3) == 0)
                return k + 3 - i;
            if (k + 4 <= end && memcmp(t + k, "<!--", 4) == 0)
                return 0;
        }
        return 0;
    }
    k += k < end && t[k] == '/';
    size_t name = k;
    while (k < end && (isalnum((unsigned char)t[k])))
        k++;
    if (k == name || !element(t + name, k - name) || k == end)
        return 0;
    if (t[k] != '>' && t[k] != '/' && !isspace((unsigned char)t[k]))
        return 0;
    /* attributes, their values maybe quoted, up to '>' */
    for (char quote = 0; k < end; k++) {
        char c = t[k];
        if (c == '<')
            return 0;
        if (quote)
            quote = c == quote ? 0 : quote;
        else if (c == '"' || c == '\'')
            quote = c;
        else if (c == '>')
            return k + 1 - i;
    }
    return 0;
}

/* The length of the link target at t[i] (the '(' after a ']'), or 0: up to
 * its ')', with parentheses inside balanced, no blank but in a quoted
 * title ("(url "title")"), no bracket, on one line. */
static size_t target_at(const char *t, size_t i, size_t len)
{
    size_t end = len - i > MARKUP_MAX ? i + MARKUP_MAX : len;
    unsigned depth = 0;
    char quote = 0;
    for (size_t k = i; k < end; k++) {
        char c = t[k];
        if (c == '\n' || c == '[' || c == ']')
            return 0;
        if (quote) {
            quote = c == quote ? 0 : quote;
        } else if (c == '"' && k > i + 1 && t[k - 1] == ' ') {
            quote = c;
        } else if (c == '(') {
            depth++;
        } else if (c == ')' && --depth == 0) {
            return k > i + 1 ? k + 1 - i : 0;
        } else if (c == ' ' && (k + 1 == end || t[k + 1] != '"')) {
            return 0;
        }
    }
    return 0;
}

bool pd_markup_at(const char *t, size_t i, size_t len, size_t *from, size_t *n)
{
    if (t[i] == '<' && (*n = tag_at(t, i, len)) > 0) {
        *from = i;
        return true;
    }
    if (t[i] == ']' && i + 1 < len && t[i + 1] == '(' && (*n = target_at(t, i + 1, len)) > 0) {
        *from = i + 1;
        return true;
    }
    return false;
}

/* The next '<' or ']' in t[at, len), or len: a memchr() for each, the one
 * found further on kept in *lt or *rb (SIZE_MAX: not looked for yet). */
static size_t next_mark(const char *t, size_t len, size_t at, size_t *lt, size_t *rb)
{
    const char *p;
    if (*lt == SIZE_MAX || *lt < at)
        *lt = (p = memchr(t + at, '<', len - at)) ? (size_t)(p - t) : len;
    if (*rb == SIZE_MAX || *rb < at)
        *rb = (p = memchr(t + at, ']', len - at)) ? (size_t)(p - t) : len;
    return *lt < *rb ? *lt : *rb;
}

/* The next construct in t[at, len): [*from, *from + *n). */
static bool next_markup(const char *t, size_t len, size_t at, size_t *from, size_t *n)
{
    size_t lt = SIZE_MAX, rb = SIZE_MAX;
    for (size_t i; at < len && (i = next_mark(t, len, at, &lt, &rb)) < len; at = i + 1)
        if (pd_markup_at(t, i, len, from, n))
            return true;
    return false;
}

pd_status pd_markup_strip(const char *t, size_t len, pd_buf *out)
{
    PD_TRY(pd_buf_reserve(out, len + 1));
    out->len = 0;
    size_t at = 0, from, n;
    while (next_markup(t, len, at, &from, &n)) {
        memcpy(out->data + out->len, t + at, from - at);
        out->len += from - at;
        out->data[out->len++] = ' ';
        at = from + n;
    }
    memcpy(out->data + out->len, t + at, len - at);
    out->len += len - at;
    out->data[out->len] = 0;
    return PD_OK;
}

size_t pd_markup_source(const char *t, size_t len, size_t at)
{
    size_t src = 0, copied = 0, from, n;
    while (next_markup(t, len, src, &from, &n) && at >= copied + (from - src)) {
        copied += from - src;
        if (at == copied)
            return from; /* the space that stands for the construct */
        copied++;
        src = from + n;
    }
    return src + (at - copied);
}
