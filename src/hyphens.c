/*
 * hyphens.c - words hyphenated across a line break, joined again.
 *
 * Typeset text (a manual page, text taken from a PDF, a scanned newspaper)
 * breaks a word at the end of a line, "gov-" then "ernment", and a copy set
 * at another width breaks other words. Within a unit that spans lines, a
 * hyphen after a letter at the end of a line, followed by a line that goes
 * on in lower case, is taken out with the line break and the blanks around
 * it: the unit reads "government" whatever the width. A word in capitals
 * goes on in capitals ("CONNEC-" then "TION_TYPE"). The hyphen may be
 * '-', U+2010 or U+2011 (groff writes U+2010) or a soft hyphen (U+00AD). A
 * compound broken after its own hyphen ("well-" then "known") is joined
 * too, and so differs from "well-known" on one line (two words there); a
 * reader cannot tell the two apart either. The normalizer reads the joined
 * copy (pd_normalize_at, PD_NORM_HYPHENS), and the report shows it.
 */
#include "internal.h"

#include <utf8proc.h>

static bool blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/* The code point that ends at t[e] (exclusive), if valid, else -1. */
static int32_t char_before(const char *t, size_t e)
{
    size_t b = e;
    while (b > 0 && e - b < 4 && ((unsigned char)t[b - 1] & 0xC0) == 0x80)
        b--;
    if (b == 0)
        return -1;
    b--;
    utf8proc_int32_t cp;
    return utf8proc_iterate((const utf8proc_uint8_t *)t + b, (utf8proc_ssize_t)(e - b), &cp) ==
                   (utf8proc_ssize_t)(e - b)
               ? cp
               : -1;
}

static bool letter(int32_t cp)
{
    if (cp < 0x80)
        return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
    utf8proc_category_t c = utf8proc_category(cp);
    return c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_LO;
}

/* A byte that is no UTF-8 but a letter in Windows-1252 and Latin-1 (text
 * the normalizer reads so, see normalize.c): À-ÿ but × and ÷. */
static bool latin1_letter(char c)
{
    unsigned char b = (unsigned char)c;
    return b >= 0xC0 && b != 0xD7 && b != 0xF7;
}

static bool lower(int32_t cp)
{
    return cp < 0x80 ? cp >= 'a' && cp <= 'z' : utf8proc_category(cp) == UTF8PROC_CATEGORY_LL;
}

static bool upper(int32_t cp)
{
    return cp < 0x80 ? cp >= 'A' && cp <= 'Z' : utf8proc_category(cp) == UTF8PROC_CATEGORY_LU;
}

/* The length of the hyphen that ends at t[e] (exclusive), or 0: its last
 * byte is one pd_hyphen_may_end() looks for. */
static size_t hyphen_before(const char *t, size_t e)
{
    if (e >= 1 && t[e - 1] == '-')
        return 1;
    if (e >= 2 && memcmp(t + e - 2, "\xC2\xAD", 2) == 0)
        return 2;
    if (e >= 3 && (memcmp(t + e - 3, "\xE2\x80\x90", 3) == 0 ||
                   memcmp(t + e - 3, "\xE2\x80\x91", 3) == 0))
        return 3;
    return 0;
}

bool pd_hyphen_break(const char *t, size_t len, size_t from, size_t *h, size_t *k)
{
    for (const char *q; from < len && (q = memchr(t + from, '\n', len - from)) != NULL;) {
        size_t nl = (size_t)(q - t), e = nl, n, b = nl + 1;
        from = nl + 1;
        while (e > 0 && blank(t[e - 1]))
            e--;
        int32_t before = (n = hyphen_before(t, e)) > 0 ? char_before(t, e - n) : -1;
        if (!letter(before) && !(n > 0 && e > n && before < 0 && latin1_letter(t[e - n - 1])))
            continue;
        while (b < len && blank(t[b]))
            b++;
        utf8proc_int32_t cp;
        if (b < len &&
            utf8proc_iterate((const utf8proc_uint8_t *)t + b, (utf8proc_ssize_t)(len - b), &cp) > 0 &&
            (lower(cp) || (upper(before) && upper(cp)))) {
            *h = e - n;
            *k = b;
            return true;
        }
    }
    return false;
}

size_t pd_hyphens_join(const char *t, size_t len, char *dst)
{
    size_t n = 0, at = 0, h, k;
    while (pd_hyphen_break(t, len, at, &h, &k)) {
        memmove(dst + n, t + at, h - at);
        n += h - at;
        at = k;
    }
    memmove(dst + n, t + at, len - at);
    return n + len - at;
}

size_t pd_hyphens_source(const char *t, size_t len, size_t at)
{
    size_t from = 0, copied = 0, h, k;
    while (pd_hyphen_break(t, len, from, &h, &k) && at >= copied + (h - from)) {
        copied += h - from;
        from = k;
    }
    return from + (at - copied);
}
