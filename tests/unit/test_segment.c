/* test_segment.c - lines, paragraphs and sentences; CRLF, BOM, no final
 * newline, offsets and line numbers. */
#include "check.h"
#include "paradup.h"

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
    return check_done("test_segment");
}
