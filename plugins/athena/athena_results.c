/*
 * athena_results.c - the parts of the Athena client that are pure data:
 * the StartQueryExecution body, and GetQueryResults pages turned into
 * engine.query rows (header row, NULLs, typed values, row and size bounds).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "athena.h"

json_t *athena_start_body(const char *sql, const char *token, const struct athena_settings *s)
{
    json_t *body = json_pack("{s:s,s:s,s:s}", "QueryString", sql, "ClientRequestToken", token,
                             "WorkGroup", s->workgroup);
    json_t *ctx = json_object();

    if (!body || !ctx) {
        json_decref(body);
        json_decref(ctx);
        return NULL;
    }
    if (s->database) {
        json_object_set_new(ctx, "Database", json_string(s->database));
    }
    if (s->catalog) {
        json_object_set_new(ctx, "Catalog", json_string(s->catalog));
    }
    if (json_object_size(ctx)) {
        json_object_set(body, "QueryExecutionContext", ctx);
    }
    json_decref(ctx);
    if (s->output_location) {
        json_object_set_new(body, "ResultConfiguration",
                            json_pack("{s:s}", "OutputLocation", s->output_location));
    }
    return body;
}

static int type_in(const char *type, const char *const *names)
{
    for (size_t i = 0; names[i]; i++) {
        size_t n = strlen(names[i]);
        /* "decimal" also matches a parameterised "decimal(12,2)" */
        if (!strncmp(type, names[i], n) && (type[n] == '\0' || type[n] == '(')) {
            return 1;
        }
    }
    return 0;
}

json_t *athena_value_json(const char *type, const json_t *datum)
{
    static const char *const ints[] = { "tinyint", "smallint", "integer", "int", "bigint", NULL };
    static const char *const reals[] = { "real", "double", "float", "decimal", NULL };
    const json_t *v = json_object_get(datum, "VarCharValue");
    const char *text = json_string_value(v);
    char *end;

    if (!text) {
        return json_null();
    }
    type = type ? type : "varchar";
    if (type_in(type, ints)) {
        errno = 0;
        long long n = strtoll(text, &end, 10);
        if (*text && *end == '\0' && errno == 0) {
            return json_integer((json_int_t)n);
        }
    }
    else if (type_in(type, reals)) {
        double d = strtod(text, &end);
        /* NaN and infinities have no JSON number; they stay text */
        if (*text && *end == '\0' && isfinite(d)) {
            return json_real(d);
        }
    }
    else if (!strcmp(type, "boolean") && (!strcmp(text, "true") || !strcmp(text, "false"))) {
        return json_boolean(text[0] == 't');
    }
    return json_string(text);
}

void athena_rows_init(struct athena_rows *r, int64_t max_rows, int64_t max_bytes)
{
    memset(r, 0, sizeof(*r));
    r->max_rows = max_rows;
    r->max_bytes = max_bytes;
    r->rows = json_array();
}

void athena_rows_free(struct athena_rows *r)
{
    json_decref(r->columns);
    json_decref(r->rows);
    memset(r, 0, sizeof(*r));
}

static int take_columns(struct athena_rows *r, const json_t *page)
{
    const json_t *info = json_object_get(
        json_object_get(json_object_get(page, "ResultSet"), "ResultSetMetadata"), "ColumnInfo");
    const json_t *c;
    size_t i;

    if (!json_is_array(info)) {
        return athena_host->error_set(WEIR_EIO, "Athena GetQueryResults: the first page has no "
                                                "ResultSetMetadata.ColumnInfo");
    }
    r->columns = json_array();
    json_array_foreach(info, i, c) {
        const char *name = json_string_value(json_object_get(c, "Label"));
        const char *type = json_string_value(json_object_get(c, "Type"));

        if (!name) {
            name = json_string_value(json_object_get(c, "Name"));
        }
        json_array_append_new(r->columns, json_pack("{s:s,s:s}", "name", name ? name : "", "type",
                                                    type ? type : "varchar"));
    }
    return WEIR_OK;
}

/* PyAthena's rule: row 0 of page 1 of a SELECT is the header iff its values
 * are the column labels. */
static int is_header(const struct athena_rows *r, const json_t *data)
{
    if (json_array_size(data) != json_array_size(r->columns)) {
        return 0;
    }
    for (size_t i = 0; i < json_array_size(data); i++) {
        const char *v = json_string_value(json_object_get(json_array_get(data, i), "VarCharValue"));
        const char *name =
            json_string_value(json_object_get(json_array_get(r->columns, i), "name"));

        if (!v || !name || strcmp(v, name) != 0) {
            return 0;
        }
    }
    return 1;
}

/* Bytes a row adds, roughly as the lake counts them. */
static int64_t row_bytes(const json_t *data)
{
    int64_t n = 2;

    for (size_t i = 0; i < json_array_size(data); i++) {
        const char *v = json_string_value(json_object_get(json_array_get(data, i), "VarCharValue"));
        n += 4 + (int64_t)(v ? strlen(v) : 0);
    }
    return n;
}

int athena_rows_add_page(struct athena_rows *r, const json_t *page, int first, int dml)
{
    const json_t *rows = json_object_get(json_object_get(page, "ResultSet"), "Rows"), *row;
    size_t i;
    int rc;

    if (!r->rows) {
        return athena_host->error_set(WEIR_ENOMEM, "Athena GetQueryResults: out of memory");
    }
    if (first && (rc = take_columns(r, page)) < 0) {
        return rc;
    }
    if (!json_is_array(rows)) {
        return athena_host->error_set(WEIR_EIO, "Athena GetQueryResults: page has no "
                                                "ResultSet.Rows array");
    }
    json_array_foreach(rows, i, row) {
        const json_t *data = json_object_get(row, "Data");
        json_t *out;

        if (!json_is_array(data)) {
            return athena_host->error_set(WEIR_EIO,
                                          "Athena GetQueryResults: row %zu has no Data "
                                          "array",
                                          i);
        }
        if (first && dml && i == 0 && is_header(r, data)) {
            continue;
        }
        r->bytes += row_bytes(data);
        if ((int64_t)json_array_size(r->rows) >= r->max_rows || r->bytes > r->max_bytes) {
            r->truncated = 1;
            return 0;
        }
        out = json_array();
        for (size_t k = 0; out && k < json_array_size(data); k++) {
            const char *type =
                json_string_value(json_object_get(json_array_get(r->columns, k), "type"));
            json_array_append_new(out, athena_value_json(type, json_array_get(data, k)));
        }
        if (!out || json_array_append_new(r->rows, out) < 0) {
            return athena_host->error_set(WEIR_ENOMEM, "Athena GetQueryResults: out of memory");
        }
    }
    return 1;
}
