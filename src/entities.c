/*
 * entities.c - HTML character references, decoded before normalization.
 *
 * Scraped text keeps some of the markup's character references: one copy of
 * a wire story says "AT&amp;T" and "the governor&#8217;s office", another
 * "AT&T" and "the governor’s office". With PD_NORM_ENTITIES (on by default)
 * they are the same text. A reference is decoded when it is well formed and
 * ends with ';': `&#` and 1-7 decimal digits, `&#x` and 1-6 hexadecimal
 * ones, naming a Unicode scalar value other than NUL; or `&` and a name of
 * the table below (those of HTML 4: markup, Latin-1, typography), which
 * covers what text extractors leave. "&amp;" followed by another reference
 * (escaped twice, "&amp;quot;") is that reference. Anything else, such as
 * "&foo;" or "AT&T", is left as it is. Decoding never lengthens a text: a
 * reference takes at least as many bytes as its UTF-8.
 */
#include "internal.h"

#include <stdlib.h>

typedef struct entity {
    char name[9];
    uint16_t cp;
} entity;

/* Sorted by name (strcmp), for bsearch. */
static const entity entities[] = {
    {"AElig", 0xC6},   {"Aacute", 0xC1},  {"Acirc", 0xC2},   {"Agrave", 0xC0},
    {"Aring", 0xC5},   {"Atilde", 0xC3},  {"Auml", 0xC4},    {"Ccedil", 0xC7},
    {"Dagger", 0x2021}, {"ETH", 0xD0},    {"Eacute", 0xC9},  {"Ecirc", 0xCA},
    {"Egrave", 0xC8},  {"Euml", 0xCB},    {"Iacute", 0xCD},  {"Icirc", 0xCE},
    {"Igrave", 0xCC},  {"Iuml", 0xCF},    {"Ntilde", 0xD1},  {"OElig", 0x152},
    {"Oacute", 0xD3},  {"Ocirc", 0xD4},   {"Ograve", 0xD2},  {"Oslash", 0xD8},
    {"Otilde", 0xD5},  {"Ouml", 0xD6},    {"Prime", 0x2033}, {"Scaron", 0x160},
    {"THORN", 0xDE},   {"Uacute", 0xDA},  {"Ucirc", 0xDB},   {"Ugrave", 0xD9},
    {"Uuml", 0xDC},    {"Yacute", 0xDD},  {"Yuml", 0x178},   {"aacute", 0xE1},
    {"acirc", 0xE2},   {"acute", 0xB4},   {"aelig", 0xE6},   {"agrave", 0xE0},
    {"amp", 0x26},     {"apos", 0x27},    {"aring", 0xE5},   {"atilde", 0xE3},
    {"auml", 0xE4},    {"bdquo", 0x201E}, {"brvbar", 0xA6},  {"bull", 0x2022},
    {"ccedil", 0xE7},  {"cedil", 0xB8},   {"cent", 0xA2},    {"circ", 0x2C6},
    {"copy", 0xA9},    {"curren", 0xA4},  {"dagger", 0x2020}, {"deg", 0xB0},
    {"divide", 0xF7},  {"eacute", 0xE9},  {"ecirc", 0xEA},   {"egrave", 0xE8},
    {"emsp", 0x2003},  {"ensp", 0x2002},  {"eth", 0xF0},     {"euml", 0xEB},
    {"euro", 0x20AC},  {"frac12", 0xBD},  {"frac14", 0xBC},  {"frac34", 0xBE},
    {"gt", 0x3E},      {"hellip", 0x2026}, {"iacute", 0xED}, {"icirc", 0xEE},
    {"iexcl", 0xA1},   {"igrave", 0xEC},  {"iquest", 0xBF},  {"iuml", 0xEF},
    {"laquo", 0xAB},   {"ldquo", 0x201C}, {"lrm", 0x200E},   {"lsaquo", 0x2039},
    {"lsquo", 0x2018}, {"lt", 0x3C},      {"macr", 0xAF},    {"mdash", 0x2014},
    {"micro", 0xB5},   {"middot", 0xB7},  {"minus", 0x2212}, {"nbsp", 0xA0},
    {"ndash", 0x2013}, {"not", 0xAC},     {"ntilde", 0xF1},  {"oacute", 0xF3},
    {"ocirc", 0xF4},   {"oelig", 0x153},  {"ograve", 0xF2},  {"ordf", 0xAA},
    {"ordm", 0xBA},    {"oslash", 0xF8},  {"otilde", 0xF5},  {"ouml", 0xF6},
    {"para", 0xB6},    {"permil", 0x2030}, {"plusmn", 0xB1}, {"pound", 0xA3},
    {"prime", 0x2032}, {"quot", 0x22},    {"raquo", 0xBB},   {"rdquo", 0x201D},
    {"reg", 0xAE},     {"rlm", 0x200F},   {"rsaquo", 0x203A}, {"rsquo", 0x2019},
    {"sbquo", 0x201A}, {"scaron", 0x161}, {"sect", 0xA7},    {"shy", 0xAD},
    {"sup1", 0xB9},    {"sup2", 0xB2},    {"sup3", 0xB3},    {"szlig", 0xDF},
    {"thinsp", 0x2009}, {"thorn", 0xFE},  {"tilde", 0x2DC},  {"times", 0xD7},
    {"trade", 0x2122}, {"uacute", 0xFA},  {"ucirc", 0xFB},   {"ugrave", 0xF9},
    {"uml", 0xA8},     {"uuml", 0xFC},    {"yacute", 0xFD},  {"yen", 0xA5},
    {"yuml", 0xFF},    {"zwj", 0x200D},   {"zwnj", 0x200C}};

static int by_name(const void *key, const void *e)
{
    return strcmp(key, ((const entity *)e)->name);
}

static int hex_digit(char c)
{
    return c >= '0' && c <= '9' ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* A numeric reference after "&#" at p[i]: its length from i and its code
 * point, or 0. */
static size_t numeric(const char *p, size_t i, size_t len, int32_t *cp)
{
    bool hex = i < len && (p[i] == 'x' || p[i] == 'X');
    size_t j = i + hex, max = hex ? 6 : 7;
    int32_t v = 0;
    for (int d; j < len && j - i - hex < max; j++) {
        d = hex ? hex_digit(p[j]) : p[j] >= '0' && p[j] <= '9' ? p[j] - '0' : -1;
        if (d < 0)
            break;
        v = v * (hex ? 16 : 10) + d;
    }
    if (j == i + hex || j >= len || p[j] != ';' || v == 0 || v > 0x10FFFF ||
        (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return j + 1 - i;
}

static bool name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* One reference after its '&' at p[i]: its length from i and its code
 * point, or 0. */
static size_t one(const char *p, size_t i, size_t len, int32_t *cp)
{
    if (i < len && p[i] == '#') {
        size_t n = numeric(p, i + 1, len, cp);
        return n ? n + 1 : 0;
    }
    char name[sizeof entities[0].name];
    size_t j = i;
    for (; j < len && j - i < sizeof name - 1 && name_char(p[j]); j++)
        name[j - i] = p[j];
    if (j == i || j >= len || p[j] != ';')
        return 0;
    name[j - i] = 0;
    const entity *e =
        bsearch(name, entities, sizeof entities / sizeof *entities, sizeof *entities, by_name);
    if (!e)
        return 0;
    *cp = e->cp;
    return j + 1 - i;
}

/* The reference after its '&' at p[i], "&amp;" escaping the next one
 * ("&amp;quot;", "&amp;amp;quot;"): its length from i and its code point,
 * or 0. A loop, not a recursion: a text may hold a million "amp;" in a row. */
static size_t body(const char *p, size_t i, size_t len, int32_t *cp)
{
    size_t n = one(p, i, len, cp), k;
    int32_t inner;
    for (; n && *cp == '&' && (k = one(p, i + n, len, &inner)) > 0; n += k)
        *cp = inner;
    return n;
}

size_t pd_entity_at(const char *p, size_t i, size_t len, int32_t *cp)
{
    size_t n = i < len && p[i] == '&' ? body(p, i + 1, len, cp) : 0;
    return n ? n + 1 : 0;
}

/* The UTF-8 of scalar value cp at d; its length. */
static size_t put_utf8(char *d, int32_t cp)
{
    if (cp < 0x80) {
        d[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        d[0] = (char)(0xC0 | cp >> 6);
        d[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        d[0] = (char)(0xE0 | cp >> 12);
        d[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        d[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    d[0] = (char)(0xF0 | cp >> 18);
    d[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    d[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    d[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

pd_status pd_entities_decode(const char *text, size_t len, pd_buf *out)
{
    PD_TRY(pd_buf_reserve(out, len + 1));
    size_t n = 0;
    int32_t cp;
    for (size_t i = 0, k; i < len;) {
        const char *amp = memchr(text + i, '&', len - i);
        size_t run = amp ? (size_t)(amp - text) - i : len - i;
        memcpy(out->data + n, text + i, run);
        n += run;
        i += run;
        if (i == len)
            break;
        if ((k = pd_entity_at(text, i, len, &cp)) > 0) {
            n += put_utf8(out->data + n, cp);
            i += k;
        } else {
            out->data[n++] = text[i++];
        }
    }
    out->len = n;
    out->data[n] = 0;
    return PD_OK;
}

size_t pd_entities_source(const char *text, size_t len, size_t at)
{
    size_t i = 0, n = 0, k;
    int32_t cp;
    char utf8[4];
    while (i < len) {
        k = text[i] == '&' ? pd_entity_at(text, i, len, &cp) : 0;
        size_t out = k ? put_utf8(utf8, cp) : 1;
        if (at < n + out)
            return i;
        n += out;
        i += k ? k : 1;
    }
    return len;
}
