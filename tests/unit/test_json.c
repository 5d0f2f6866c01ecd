/* test_json.c - the fast path for JSONL records (pd_json_record) against
 * jansson, which records.c falls back to: a few lines worked by hand, then
 * 300,000 generated lines (valid ones, and ones broken in every way the
 * generator knows: bad escapes and surrogates, invalid UTF-8, control bytes,
 * odd numbers, duplicate and escaped keys, truncations, stray bytes). Every
 * line the fast path reads, jansson must read the same way. Fixed seed. */
#include "check.h"
#include "internal.h"

#include <jansson.h>

static uint64_t rng = 0x2545F4914F6CDD1Dull;
static unsigned pick(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

/* What records.c reads with jansson: 1 with the text and id, or 0. */
static int reference(const char *line, size_t n, pd_buf *text, pd_buf *id, bool *has_id)
{
    json_error_t err;
    json_t *root = json_loadb(line, n, JSON_ALLOW_NUL, &err);
    if (!root)
        return 0;
    json_t *t = json_is_object(root) ? json_object_get(root, "text") : NULL;
    json_t *i = json_is_object(root) ? json_object_get(root, "id") : NULL;
    int ok = t && json_is_string(t) && (!i || json_is_string(i) || json_is_integer(i));
    if (ok) {
        text->len = 0;
        pd_buf_reserve(text, json_string_length(t) + 1);
        memcpy(text->data, json_string_value(t), json_string_length(t));
        text->len = json_string_length(t);
        *has_id = i != NULL;
        id->len = 0;
        if (i && json_is_string(i)) {
            pd_buf_reserve(id, json_string_length(i) + 1);
            memcpy(id->data, json_string_value(i), json_string_length(i));
            id->len = json_string_length(i);
        } else if (i) {
            pd_buf_reserve(id, 32);
            id->len = (size_t)snprintf(id->data, 32, "%" JSON_INTEGER_FORMAT, json_integer_value(i));
        }
    }
    json_decref(root);
    return ok;
}

/* Does the fast path agree with jansson on this line? Returns 1 when the
 * fast path read it and jansson reads it the same way, -1 when jansson does
 * not, 0 when the fast path left the line to jansson. */
static int compare(const char *line, size_t n)
{
    static pd_buf arena, text, id;
    pd_json_fields f;
    arena.len = 0;
    pd_json_result r = pd_json_record(line, n, "text", "id", &arena, &f);
    if (r != PD_JSON_OK)
        return 0;
    bool has_id = false;
    int ref = reference(line, n, &text, &id, &has_id);
    bool same = ref && f.text_len == text.len && memcmp(arena.data + f.text, text.data, text.len) == 0 &&
                f.has_id == has_id &&
                (!has_id || (f.id_len == id.len && memcmp(arena.data + f.id, id.data, id.len) == 0));
    if (!same)
        fprintf(stderr, "differs from jansson: %.*s\n", (int)(n < 300 ? n : 300), line);
    return same ? 1 : -1;
}

static void test_by_hand(void)
{
    static const char *const plain[] = {
        "{\"id\":\"a1\",\"text\":\"Subscribe now\"}",
        " {\"text\" : \"caf\\u00e9 \\\"quoted\\\" \\\\ \\/ \\b\\f\\n\\r\\t\", \"id\": -0 }\r",
        "{\"text\":\"\\ud83d\\ude00 and \\u0000 and \xc3\xa9\",\"meta\":{\"a\":[1,2.5,true,null,{}]}}",
        "{\"text\":\"first\",\"text\":\"second wins\",\"id\":123456789012345678}",
    };
    static const char *const unsure[] = {
        "{\"text\":\"x\",\"id\":1e5}",                   /* an exponent: jansson checks its range */
        "{\"te\\u0078t\":\"an escaped key\"}",          /* the key is text, unescaped */
        "{\"text\":\"\\ud800 alone\"}",                  /* a lone surrogate: malformed */
        "{\"text\":\"\xc0\x80 overlong\"}",              /* invalid UTF-8: malformed */
        "{\"text\":\"x\",}",                             /* a trailing comma: malformed */
        "[{\"text\":\"x\"}]",                            /* not an object */
        "{\"text\":5}",                                  /* not a string */
        "{\"text\":\"x\",\"id\":1234567890123456789}",   /* 19 digits: maybe out of range */
    };
    pd_buf arena;
    pd_buf_init(&arena);
    pd_json_fields f;
    for (size_t i = 0; i < sizeof plain / sizeof *plain; i++) {
        CHECK(pd_json_record(plain[i], strlen(plain[i]), "text", "id", &arena, &f) == PD_JSON_OK);
        CHECK(compare(plain[i], strlen(plain[i])) == 1);
    }
    arena.len = 0;
    const char *l = plain[3];
    CHECK(pd_json_record(l, strlen(l), "text", "id", &arena, &f) == PD_JSON_OK);
    CHECK(f.text_len == 11 && memcmp(arena.data + f.text, "second wins", 11) == 0);
    CHECK(f.has_id && f.id_len == 18);
    for (size_t i = 0; i < sizeof unsure / sizeof *unsure; i++)
        CHECK(pd_json_record(unsure[i], strlen(unsure[i]), "text", "id", &arena, &f) == PD_JSON_UNSURE);
    pd_buf_release(&arena);
}

/* Strings are skimmed eight bytes at a time: each byte that ends a plain
 * run (a quote, an escape, a control byte, a multibyte character, a byte
 * that is not UTF-8) at every offset of a long run, read as jansson reads it
 * or left to it, never accepted where jansson refuses. */
static void test_plain_runs(void)
{
    static const char *const stops[] = {"\\\"", "\\n", "\\u00e9", "\xc3\xa9", "\x01", "\xff", "\"", "\\"};
    int read = 0, wrong = 0;
    for (size_t s = 0; s < sizeof stops / sizeof *stops; s++)
        for (int at = 0; at < 24; at++) {
            char line[128];
            int n = snprintf(line, sizeof line, "{\"text\":\"%.*s%s%.*s\"}", at,
                             "abcdefghijklmnopqrstuvwxyz", stops[s], 19, "ABCDEFGHIJKLMNOPQRST");
            int c = compare(line, (size_t)n);
            read += c == 1;
            wrong += c < 0;
        }
    CHECK(wrong == 0);
    CHECK(read == 4 * 24); /* the last four make the line malformed */
}

/* ---- generated lines ---- */

static void put(pd_buf *b, const char *s)
{
    size_t n = strlen(s);
    pd_buf_reserve(b, b->len + n + 1);
    memcpy(b->data + b->len, s, n);
    b->len += n;
}

static void put_byte(pd_buf *b, unsigned char c)
{
    pd_buf_reserve(b, b->len + 2);
    b->data[b->len++] = (char)c;
}

static void gen_ws(pd_buf *b)
{
    static const char *const ws[] = {"", "", "", " ", "\t", "\r", "  ", "\n"};
    put(b, ws[pick(8)]);
}

static void gen_string(pd_buf *b)
{
    static const char *const bits[] = {
        "word", " ", "Subscribe now", "\\\"", "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t",
        "\\u00e9", "\\u0000", "\\uD83D\\uDE00", "\\ud800", "\\udc00", "\\uD83Dx", "\\u12", "\\x",
        "\\uZZZZ", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xc0\x80", "\xed\xa0\x80",
        "\xf5\x80\x80\x80", "\xe2\x82", "\x80", "\x01", "\x1f", "\x7f", "\\", "\xef\xbf\xbf",
        "\xf4\x8f\xbf\xbf", "\xf4\x90\x80\x80", "\xe0\x9f\xbf", "\xf0\x8f\xbf\xbf"};
    put_byte(b, '"');
    for (unsigned i = pick(6); i > 0; i--)
        put(b, bits[pick(12) == 0 ? pick(sizeof bits / sizeof *bits) : pick(3)]);
    put_byte(b, '"');
}

static void gen_number(pd_buf *b)
{
    static const char *const nums[] = {
        "0", "-0", "7", "42", "-17", "123456789012345678", "1234567890123456789", "-123456789012345678",
        "99999999999999999999999", "1.5", "-0.25", "1e5", "1E-3", "2.5e+10", "01", "-", "1.", ".5",
        "+1", "1e", "0x10", "1.2.3", "--1", "1e400", "NaN", "Infinity"};
    put(b, nums[pick(sizeof nums / sizeof *nums)]);
}

static void gen_value(pd_buf *b, int depth);

static void gen_object(pd_buf *b, int depth, bool top)
{
    static const char *const keys[] = {"\"text\"", "\"id\"", "\"meta\"", "\"a\"", "\"\"",
                                       "\"te\\u0078t\"", "\"i\\u0064\"", "\"text \"", "\"t\xc3\xa9xt\""};
    put_byte(b, '{');
    unsigned n = top ? 1 + pick(4) : pick(3);
    for (unsigned i = 0; i < n; i++) {
        if (i)
            put_byte(b, ',');
        gen_ws(b);
        if (top && i == 0 && pick(4) != 0) {
            put(b, "\"text\"");
        } else {
            put(b, keys[pick(sizeof keys / sizeof *keys)]);
        }
        gen_ws(b);
        put_byte(b, ':');
        if (top && i == 0 && pick(4) != 0)
            gen_string(b);
        else
            gen_value(b, depth + 1);
        gen_ws(b);
    }
    put_byte(b, '}');
}

static void gen_value(pd_buf *b, int depth)
{
    gen_ws(b);
    unsigned k = depth > 4 ? pick(5) : pick(8);
    if (k == 0 || k == 1)
        gen_string(b);
    else if (k == 2)
        gen_number(b);
    else if (k == 3)
        put(b, pick(3) == 0 ? "true" : pick(2) ? "false" : "null");
    else if (k == 4)
        put(b, pick(4) == 0 ? "tru" : "null");
    else if (k == 5 || k == 6)
        gen_object(b, depth, false);
    else {
        put_byte(b, '[');
        for (unsigned i = pick(4); i > 0; i--) {
            gen_value(b, depth + 1);
            if (i > 1)
                put_byte(b, ',');
        }
        put_byte(b, ']');
    }
}

/* Break a line in one of a few ways, or leave it whole. */
static void mutate(pd_buf *b)
{
    unsigned how = pick(10);
    if (b->len == 0 || how >= 6)
        return;
    size_t at = pick((unsigned)b->len);
    if (how == 0)
        b->len = at; /* truncated */
    else if (how == 1)
        b->data[at] = (char)pick(256); /* a byte replaced */
    else if (how == 2)
        memmove(b->data + at, b->data + at + 1, b->len - at - 1), b->len--; /* a byte dropped */
    else if (how == 3)
        b->data[at] = "\"\\{}[],:"[pick(8)];
    else if (how == 4) {
        put(b, pick(2) ? " x" : ",");
    }
}

static void test_generated(void)
{
    pd_buf line;
    pd_buf_init(&line);
    unsigned fast = 0, differ = 0, total = 300000;
    for (unsigned i = 0; i < total; i++) {
        line.len = 0;
        gen_ws(&line);
        gen_object(&line, 1, true);
        gen_ws(&line);
        mutate(&line);
        int r = compare(line.data ? line.data : "", line.len);
        fast += r != 0;
        differ += r < 0;
    }
    printf("json: the fast path read %u of %u generated lines, %u differently from jansson\n",
           fast, total, differ);
    CHECK(differ == 0);
    CHECK(fast > total / 10 && fast < total);
    pd_buf_release(&line);
}

int main(void)
{
    test_by_hand();
    test_plain_runs();
    test_generated();
    return check_done("test_json");
}
