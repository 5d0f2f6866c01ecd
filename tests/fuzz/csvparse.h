/* csvparse.h - read a CSV report back with libcsv into rows of fields, for
 * the fuzz targets that check what the writer wrote. */
#ifndef PD_CSVPARSE_H
#define PD_CSVPARSE_H

#include <csv.h>
#include <stdlib.h>
#include <string.h>

typedef struct csv_table {
    char ***rows;   /* rows[i][j], NUL-terminated copies */
    size_t **lens;  /* lens[i][j] */
    size_t *n_fields;
    size_t n_rows, cap_rows;
    char **cur;
    size_t *cur_len, n_cur, cap_cur;
} csv_table;

static void csvt_field(void *s, size_t n, void *ctx)
{
    csv_table *t = ctx;
    if (t->n_cur == t->cap_cur) {
        t->cap_cur = t->cap_cur ? 2 * t->cap_cur : 16;
        t->cur = realloc(t->cur, t->cap_cur * sizeof *t->cur);
        t->cur_len = realloc(t->cur_len, t->cap_cur * sizeof *t->cur_len);
    }
    char *copy = malloc(n + 1);
    memcpy(copy, s ? s : "", n);
    copy[n] = 0;
    t->cur[t->n_cur] = copy;
    t->cur_len[t->n_cur++] = n;
}

static void csvt_row(int c, void *ctx)
{
    (void)c;
    csv_table *t = ctx;
    if (t->n_rows == t->cap_rows) {
        t->cap_rows = t->cap_rows ? 2 * t->cap_rows : 16;
        t->rows = realloc(t->rows, t->cap_rows * sizeof *t->rows);
        t->lens = realloc(t->lens, t->cap_rows * sizeof *t->lens);
        t->n_fields = realloc(t->n_fields, t->cap_rows * sizeof *t->n_fields);
    }
    t->rows[t->n_rows] = t->cur;
    t->lens[t->n_rows] = t->cur_len;
    t->n_fields[t->n_rows++] = t->n_cur;
    t->cur = NULL;
    t->cur_len = NULL;
    t->n_cur = t->cap_cur = 0;
}

/* Parse text[0..len) strictly; 0 on success. */
static int csvt_parse(csv_table *t, const char *text, size_t len)
{
    struct csv_parser p;
    memset(t, 0, sizeof *t);
    if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_REPALL_NL) != 0)
        return -1;
    int bad = csv_parse(&p, text, len, csvt_field, csvt_row, t) != len;
    bad |= csv_fini(&p, csvt_field, csvt_row, t) != 0;
    csv_free(&p);
    return bad ? -1 : 0;
}

static void csvt_free(csv_table *t)
{
    for (size_t i = 0; i < t->n_rows; i++) {
        for (size_t j = 0; j < t->n_fields[i]; j++)
            free(t->rows[i][j]);
        free(t->rows[i]);
        free(t->lens[i]);
    }
    for (size_t j = 0; j < t->n_cur; j++)
        free(t->cur[j]);
    free(t->cur);
    free(t->cur_len);
    free(t->rows);
    free(t->lens);
    free(t->n_fields);
}

#endif
