/*
 * json.c - the fast path for JSONL records: one line read as a JSON object,
 * its two top-level members (the text and the id) found and decoded.
 *
 * The whole line is checked against the JSON grammar (RFC 8259) with the
 * rules jansson applies as records.c calls it: strings are valid UTF-8
 * without raw control bytes, escapes and surrogate pairs are well formed, a
 * later duplicate key wins. What it accepts, jansson accepts too and reads
 * the same way. Anything out of the common case (an escaped key, a number
 * with an exponent or too many digits to be sure of its range, deep nesting,
 * a text that is not a string, an id that is neither a string nor a plain
 * integer) makes it say PD_JSON_UNSURE, and jansson reads the line: its
 * verdict and its messages stand for every line that is not plain.
 */
#include "internal.h"

enum { MAX_DEPTH = 32, MAX_INT_DIGITS = 18, MAX_REAL_DIGITS = 300 };

typedef struct scanner {
    const unsigned char *p, *end;
    unsigned depth;
} scanner;

/* A member's value as found: where it lies and what it is. */
typedef struct found {
    const unsigned char *at, *stop; /* a string: between its quotes */
    char kind;                      /* 0: absent, '"' string, 'i' plain integer, '?' other */
    bool escaped;
} found;

static void skip_ws(scanner *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\r' || *s->p == '\n'))
        s->p++;
}

static int hex4(const unsigned char *p)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        int c = p[i], d = c >= '0' && c <= '9' ? c - '0'
                        : c >= 'a' && c <= 'f' ? c - 'a' + 10
                        : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                               : -1;
        if (d < 0)
            return -1;
        v = v << 4 | d;
    }
    return v;
}

/* The length of the well-formed UTF-8 sequence at p (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF), or 0. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
    unsigned c = p[0];
    size_t n = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
    if (n == 0 || (size_t)(end - p) < n)
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 0;
    if ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] > 0x9F) || (c == 0xF0 && p[1] < 0x90) ||
        (c == 0xF4 && p[1] > 0x8F))
        return 0;
    return n;
}

/* Past the bytes at p that a string holds as they are (printable ASCII but
 * a quote or a backslash), eight at a time: a byte that is not one of them
 * sets its top bit in `stop` (the borrows of the subtractions can set the
 * bits of later bytes too, but only after a byte that is set). The 8-byte
 * word that holds one is left to the caller, byte by byte. */
static const unsigned char *plain_run(const unsigned char *p, const unsigned char *end)
{
    const uint64_t ones = UINT64_C(0x0101010101010101), tops = ones << 7;
    while (end - p >= 8) {
        uint64_t x, quote, bslash;
        memcpy(&x, p, 8);
        quote = x ^ (ones * '"');
        bslash = x ^ (ones * '\\');
        uint64_t stop = ((x - ones * 0x20) & ~x) | ((quote - ones) & ~quote) |
                        ((bslash - ones) & ~bslash) | x;
        if (stop & tops)
            break;
        p += 8;
    }
    return p;
}

/* A string at s->p (its opening quote): checked, and its contents placed in
 * f; false if it is not plain. */
static bool string(scanner *s, found *f)
{
    const unsigned char *p = s->p + 1, *end = s->end;
    f->at = p;
    f->escaped = false;
    while (p < end) {
        p = plain_run(p, end);
        if (p == end)
            break;
        unsigned c = *p;
        if (c == '"') {
            f->stop = p;
            s->p = p + 1;
            return true;
        }
        if (c >= 0x20 && c < 0x80 && c != '\\') {
            p++;
        } else if (c >= 0x80) {
            size_t n = utf8_len(p, end);
            if (n == 0)
                return false;
            p += n;
        } else if (c == '\\' && p + 1 < end) {
            f->escaped = true;
            if (p[1] != 'u') {
                if (p[1] == 0 || !strchr("\"\\/bfnrt", p[1]))
                    return false;
                p += 2;
                continue;
            }
            int u = end - p >= 6 ? hex4(p + 2) : -1;
            if (u < 0 || (u >= 0xDC00 && u <= 0xDFFF))
                return false;
            if (u >= 0xD800 && u <= 0xDBFF) { /* a high surrogate: its low half follows */
                int lo = end - p >= 12 && p[6] == '\\' && p[7] == 'u' ? hex4(p + 8) : -1;
                if (lo < 0xDC00 || lo > 0xDFFF)
                    return false;
                p += 6;
            }
            p += 6;
        } else {
            return false; /* a control byte, or a backslash at the end */
        }
    }
    return false;
}

/* A number at s->p; kind 'i' for an integer of at most MAX_INT_DIGITS
 * digits, '?' for a real; false if it is malformed, or of a size whose range
 * jansson checks (an exponent, a long integer or a very long real). */
static bool number(scanner *s, char *kind)
{
    const unsigned char *p = s->p, *end = s->end;
    p += p < end && *p == '-';
    const unsigned char *digits = p;
    if (p < end && *p == '0')
        p++;
    else if (p < end && *p >= '1' && *p <= '9')
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    else
        return false;
    size_t int_digits = (size_t)(p - digits);
    *kind = 'i';
    if (p < end && *p == '.') {
        const unsigned char *frac = ++p;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
        if (p == frac)
            return false;
        *kind = '?';
    }
    if (p < end && (*p == 'e' || *p == 'E'))
        return false;
    if (*kind == 'i' ? int_digits > MAX_INT_DIGITS : (size_t)(p - digits) > MAX_REAL_DIGITS)
        return false;
    s->p = p;
    return true;
}

static bool value(scanner *s, found *f);

/* Past the opening bracket at s->p and blanks: true if the closing one
 * follows at once (it is passed too). */
static bool empty_items(scanner *s, char close)
{
    s->p++;
    skip_ws(s);
    if (s->p < s->end && *s->p == close) {
        s->p++;
        return true;
    }
    return false;
}

/* After a member or an element: a comma (more follow) or the closing
 * bracket (*done); false for anything else. */
static bool next_item(scanner *s, char close, bool *done)
{
    skip_ws(s);
    if (s->p >= s->end || (*s->p != ',' && *s->p != close))
        return false;
    *done = *s->p++ == close;
    return true;
}

/* An object at s->p; at the top (depth 1) the members named key[0] and
 * key[1] are kept in f[0] and f[1], the last one of a name winning. */
static bool object(scanner *s, const char *const key[2], found f[2])
{
    bool top = s->depth == 1, done = empty_items(s, '}');
    while (!done) {
        found k, v;
        skip_ws(s);
        if (s->p >= s->end || *s->p != '"' || !string(s, &k) || k.escaped)
            return false;
        skip_ws(s);
        if (s->p >= s->end || *s->p != ':')
            return false;
        s->p++;
        if (!value(s, &v))
            return false;
        for (int i = 0; top && i < 2; i++)
            if (key[i] && strlen(key[i]) == (size_t)(k.stop - k.at) &&
                memcmp(key[i], k.at, (size_t)(k.stop - k.at)) == 0)
                f[i] = v;
        if (!next_item(s, '}', &done))
            return false;
    }
    return true;
}

static bool array(scanner *s)
{
    found v;
    for (bool done = empty_items(s, ']'); !done;)
        if (!value(s, &v) || !next_item(s, ']', &done))
            return false;
    return true;
}

static bool word(scanner *s, const char *w)
{
    size_t n = strlen(w);
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, w, n) != 0)
        return false;
    s->p += n;
    return true;
}

/* Any value at s->p (after blanks), described in f. */
static bool value(scanner *s, found *f)
{
    static const char *const none[2] = {NULL, NULL};
    found ignored[2];
    skip_ws(s);
    if (s->p >= s->end)
        return false;
    f->at = s->p;
    f->kind = '?';
    switch (*s->p) {
    case '"':
        f->kind = '"';
        return string(s, f);
    case '{':
    case '[': {
        if (++s->depth > MAX_DEPTH)
            return false;
        bool ok = *s->p == '{' ? object(s, none, ignored) : array(s);
        s->depth--;
        return ok;
    }
    case 't':
        return word(s, "true");
    case 'f':
        return word(s, "false");
    case 'n':
        return word(s, "null");
    default:
        if (!number(s, &f->kind))
            return false;
        f->stop = s->p;
        return true;
    }
}

static void put_utf8(char *d, size_t *n, unsigned cp)
{
    if (cp < 0x80) {
        d[(*n)++] = (char)cp;
    } else if (cp < 0x800) {
        d[(*n)++] = (char)(0xC0 | cp >> 6);
        d[(*n)++] = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        d[(*n)++] = (char)(0xE0 | cp >> 12);
        d[(*n)++] = (char)(0x80 | (cp >> 6 & 0x3F));
        d[(*n)++] = (char)(0x80 | (cp & 0x3F));
    } else {
        d[(*n)++] = (char)(0xF0 | cp >> 18);
        d[(*n)++] = (char)(0x80 | (cp >> 12 & 0x3F));
        d[(*n)++] = (char)(0x80 | (cp >> 6 & 0x3F));
        d[(*n)++] = (char)(0x80 | (cp & 0x3F));
    }
}

/* Append the decoded string f (checked by string()) to the arena. An escape
 * never decodes to more bytes than it takes. */
static bool put_string(pd_buf *a, const found *f, size_t *at, size_t *len)
{
    size_t n = (size_t)(f->stop - f->at), k = 0;
    if (pd_buf_reserve(a, a->len + n + 1) != PD_OK)
        return false;
    char *d = a->data + a->len;
    if (!f->escaped) {
        memcpy(d, f->at, n);
        k = n;
    } else {
        static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
        for (const unsigned char *p = f->at; p < f->stop;) {
            if (*p != '\\') { /* the run up to the next escape, as it is */
                const unsigned char *e = memchr(p, '\\', (size_t)(f->stop - p));
                size_t run = (size_t)((e ? e : f->stop) - p);
                memcpy(d + k, p, run);
                k += run;
                p += run;
            } else if (p[1] != 'u') {
                d[k++] = to[strchr(from, p[1]) - from];
                p += 2;
            } else {
                unsigned cp = (unsigned)hex4(p + 2);
                p += 6;
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + ((unsigned)hex4(p + 2) - 0xDC00);
                    p += 6;
                }
                put_utf8(d, &k, cp);
            }
        }
    }
    *at = a->len;
    *len = k;
    a->len += k;
    return true;
}

pd_json_result pd_json_record(const char *line, size_t n, const char *text_key,
                              const char *id_key, pd_buf *arena, pd_json_fields *out)
{
    scanner s = {(const unsigned char *)line, (const unsigned char *)line + n, 1};
    const char *const key[2] = {text_key, id_key};
    found f[2] = {{NULL, NULL, 0, false}, {NULL, NULL, 0, false}};
    skip_ws(&s);
    if (s.p >= s.end || *s.p != '{' || !object(&s, key, f))
        return PD_JSON_UNSURE;
    skip_ws(&s);
    if (s.p != s.end || f[0].kind != '"' || (f[1].kind != 0 && f[1].kind != '"' && f[1].kind != 'i'))
        return PD_JSON_UNSURE;
    size_t keep = arena->len;
    out->has_id = f[1].kind != 0;
    if (!put_string(arena, &f[0], &out->text, &out->text_len))
        return PD_JSON_NOMEM;
    if (f[1].kind == '"' && !put_string(arena, &f[1], &out->id, &out->id_len)) {
        arena->len = keep;
        return PD_JSON_NOMEM;
    }
    if (f[1].kind == 'i') { /* the integer as jansson prints it: -0 is 0 */
        found lit = f[1];
        if (lit.stop - lit.at == 2 && lit.at[0] == '-' && lit.at[1] == '0')
            lit.at++;
        lit.escaped = false;
        if (!put_string(arena, &lit, &out->id, &out->id_len)) {
            arena->len = keep;
            return PD_JSON_NOMEM;
        }
    }
    return PD_JSON_OK;
}
