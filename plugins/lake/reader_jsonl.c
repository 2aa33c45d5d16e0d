/*
 * reader_jsonl.c - JSON Lines: one object per line, fields by column name.
 *   - a missing key or JSON null is NULL (null tokens do not apply: JSON
 *     has a real null, so the string "NA" stays a string);
 *   - keys match the column name exactly, else case-insensitively (Glue
 *     lower-cases column names, producers often do not);
 *   - strings are their text, numbers their shortest round-trip text,
 *     booleans "true"/"false", nested objects and arrays compact JSON;
 *   - blank lines are skipped; anything else that is not an object (a
 *     syntax error, an array, invalid UTF-8) makes the record bad.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "reader_int.h"

void lake_jsonl_release(struct lake_reader *r)
{
    if (r->doc) {
        json_decref(r->doc);
        r->doc = NULL;
    }
    for (size_t i = 0; r->dumps && i < r->t->ncolumns; i++) {
        free(r->dumps[i]); /* json_dumps allocates with jansson's malloc */
        r->dumps[i] = NULL;
    }
}

/* Reads one physical line (without its line break) into the record buffer.
 * Returns 1 with a line, 0 at the end of the file, or a weir error. */
static int read_line(struct lake_reader *r)
{
    int rc, any = 0;

    r->rec_len = 0;
    r->rec_line = r->line;
    for (;;) {
        const unsigned char *p, *q, *end;

        if (r->pos >= r->len) {
            rc = lake_rd_fill(r);
            if (rc == -1) {
                break;
            }
            if (rc < 0) {
                return WEIR_EIO;
            }
        }
        any = 1;
        p = r->buf + r->pos;
        end = r->buf + r->len;
        q = memchr(p, '\n', (size_t)(end - p));
        if (!q) {
            q = end;
        }
        if (q > p && (rc = lake_rec_put(r, (const char *)p, (size_t)(q - p))) < 0) {
            return rc;
        }
        r->pos = (size_t)(q - r->buf);
        if (q < end) {
            r->pos++;
            r->line++;
            break;
        }
    }
    if (r->rec_len > 0 && r->rec[r->rec_len - 1] == '\r') {
        r->rec_len--;
    }
    return any;
}

static int blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r') {
            return 0;
        }
    }
    return 1;
}

static json_t *lookup(json_t *doc, const char *name)
{
    json_t *v = json_object_get(doc, name);
    const char *key;
    json_t *val;

    if (v) {
        return v;
    }
    json_object_foreach(doc, key, val)
    {
        if (strcasecmp(key, name) == 0) {
            return val;
        }
    }
    return NULL;
}

/* Formats a number into the record buffer (the line itself is no longer
 * needed once parsed) and records its span. */
static int number_span(struct lake_reader *r, json_t *v)
{
    char text[40];
    size_t off = r->rec_len;
    int rc;

    if (json_is_integer(v)) {
        snprintf(text, sizeof(text), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    }
    else {
        double d = json_real_value(v);

        snprintf(text, sizeof(text), "%.15g", d);
        if (strtod(text, NULL) != d) {
            snprintf(text, sizeof(text), "%.17g", d);
        }
    }
    if ((rc = lake_rec_put(r, text, strlen(text) + 1)) < 0 ||
        (rc = lake_span_push(r, off, strlen(text), 1)) < 0) {
        return rc;
    }
    return WEIR_OK;
}

static int value_span(struct lake_reader *r, size_t col, json_t *v)
{
    int rc;

    if (json_is_integer(v) || json_is_real(v)) {
        return number_span(r, v);
    }
    if ((rc = lake_span_push(r, 0, 0, 1)) < 0) {
        return rc;
    }
    struct lake_span *s = &r->spans[r->nspans - 1];

    if (!v || json_is_null(v)) {
        s->null = 1;
    }
    else if (json_is_string(v)) {
        s->ptr = json_string_value(v);
        s->len = json_string_length(v);
    }
    else if (json_is_boolean(v)) {
        s->ptr = json_is_true(v) ? "true" : "false";
        s->len = strlen(s->ptr);
    }
    else {
        if ((r->dumps[col] = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY)) == NULL) {
            return lake_host->error_set(WEIR_ENOMEM, "out of memory reading %s",
                                        lake_reader_path(r));
        }
        s->ptr = r->dumps[col];
        s->len = strlen(s->ptr);
    }
    return WEIR_OK;
}

int lake_jsonl_record(struct lake_reader *r)
{
    json_error_t err;
    int rc;

    lake_jsonl_release(r);
    r->nspans = 0;
    r->issue[0] = '\0';
    do {
        if ((rc = read_line(r)) <= 0) {
            return rc;
        }
    } while (blank(r->rec, r->rec_len));
    r->doc = json_loadb(r->rec, r->rec_len, JSON_DECODE_ANY, &err);
    if (!r->doc) {
        snprintf(r->issue, sizeof(r->issue), "invalid JSON at column %d: %s", err.column, err.text);
        return LAKE_BAD_RECORD;
    }
    if (!json_is_object(r->doc)) {
        snprintf(r->issue, sizeof(r->issue), "not a JSON object");
        return LAKE_BAD_RECORD;
    }
    r->rec_len = 0;
    for (size_t i = 0; i < r->t->ncolumns; i++) {
        if ((rc = value_span(r, i, lookup(r->doc, r->t->columns[i].name))) < 0) {
            return rc;
        }
    }
    r->rec_base = r->rec;
    return 1;
}
