/* fuzz_json.c - the fast path for JSONL records against jansson: any line
 * pd_json_record() reads, jansson reads too, with the same text and id. */
#include "fuzz.h"
#include "internal.h"

#include <jansson.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *line = (const char *)data;
    pd_buf arena;
    pd_buf_init(&arena);
    pd_json_fields f;
    pd_json_result r = pd_json_record(line, size, "text", "id", &arena, &f);
    if (r == PD_JSON_OK) {
        json_error_t err;
        json_t *root = json_loadb(line, size, JSON_ALLOW_NUL, &err);
        FUZZ_CHECK(root && json_is_object(root));
        json_t *t = json_object_get(root, "text"), *id = json_object_get(root, "id");
        FUZZ_CHECK(t && json_is_string(t) && json_string_length(t) == f.text_len);
        FUZZ_CHECK(f.text_len == 0 || memcmp(json_string_value(t), arena.data + f.text, f.text_len) == 0);
        FUZZ_CHECK(f.has_id == (id != NULL));
        if (id && json_is_string(id)) {
            FUZZ_CHECK(json_string_length(id) == f.id_len);
            FUZZ_CHECK(f.id_len == 0 || memcmp(json_string_value(id), arena.data + f.id, f.id_len) == 0);
        } else if (id) {
            char num[32];
            FUZZ_CHECK(json_is_integer(id));
            int n = snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(id));
            FUZZ_CHECK((size_t)n == f.id_len && memcmp(num, arena.data + f.id, f.id_len) == 0);
        }
        json_decref(root);
    } else {
        FUZZ_CHECK(r == PD_JSON_UNSURE);
    }
    pd_buf_release(&arena);
    return 0;
}
