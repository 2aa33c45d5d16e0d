/*
 * context.c - contract.build_context: the context object of the user's spec
 * §3.1, assembled from the target's catalog (schema, partition keys,
 * description, constraint.<name> parameters) and engine (profile, optional
 * sample rows), plus what the caller knows (purpose, layer, job summary).
 * Keys are added in one fixed order so the JSON, and so the prompt and the
 * generated artifacts, are the same bytes for the same table and data.
 */
#include <stdlib.h>
#include <string.h>

#include "contract.h"

static const struct weir_param_desc build_params[] = {
    { "table", WEIR_PARAM_STRING, 1, NULL, "the table, as \"database.table\"" },
    { "purpose", WEIR_PARAM_STRING, 0, "null",
      "what the table is for (default: the catalog description)" },
    { "layer", WEIR_PARAM_STRING, 0, "null",
      "raw, staging, curated... (default: the catalog's Parameters.layer, else \"\")" },
    { "constraints", WEIR_PARAM_ARRAY, 0, "null",
      "[{name, type: \"CHECK\", expression}] (default: the catalog's constraint.<name> parameters)" },
    { "job_summary", WEIR_PARAM_OBJECT, 0, "null",
      "summary of the producing job {job_name, inputs, output, join_keys, filters, grain}" },
    { "sample_rows", WEIR_PARAM_INTEGER, 0, "0",
      "include up to N rows of data (opt-in: data can be sensitive); 0 includes none" },
    { "catalog_dir", WEIR_PARAM_STRING, 0, "null", "passed to the catalog and engine ops when set" },
    { "store_root", WEIR_PARAM_STRING, 0, "null", "passed to the catalog and engine ops when set" },
    { NULL, WEIR_PARAM_ANY, 0, NULL, NULL },
};

/* A non-empty string param, or NULL. */
static const char *param_str(const json_t *input, const char *key)
{
    const char *s = json_string_value(json_object_get(input, key));

    return s && *s ? s : NULL;
}

/* {table, catalog_dir?, store_root?} for a lake op. */
static json_t *op_input(const json_t *input, const char *table)
{
    json_t *in = json_pack("{s:s}", "table", table);
    const char *keys[] = { "catalog_dir", "store_root" };

    for (size_t i = 0; in && i < 2; i++) {
        if (param_str(input, keys[i])) {
            json_object_set_new(in, keys[i], json_string(param_str(input, keys[i])));
        }
    }
    return in;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* [{name, type: "CHECK", expression}] from Parameters "constraint.<name>",
 * sorted by name (Glue does not keep an order for parameters). */
static json_t *catalog_constraints(const json_t *params)
{
    json_t *out = json_array();
    const char **keys = NULL;
    const char *key;
    const json_t *v;
    size_t n = 0;

    if (!out || !json_is_object(params)) {
        return out;
    }
    keys = contract_host->malloc((json_object_size(params) + 1) * sizeof(*keys));
    if (!keys) {
        json_decref(out);
        return NULL;
    }
    json_object_foreach((json_t *)params, key, v) {
        if (strncmp(key, "constraint.", 11) == 0 && key[11] && json_is_string(v)) {
            keys[n++] = key;
        }
    }
    qsort(keys, n, sizeof(*keys), cmp_str);
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(out, json_pack("{s:s, s:s, s:s}", "name", keys[i] + 11, "type",
                                             "CHECK", "expression",
                                             json_string_value(json_object_get(params, keys[i]))));
    }
    contract_host->free(keys);
    return out;
}

/* [{name, type, nullable, comment?}]; nullable is what the data shows. */
static json_t *schema_of(const json_t *cols, const json_t *stats)
{
    json_t *out = json_array();
    const json_t *c;
    size_t i;

    json_array_foreach(cols, i, c) {
        const char *name = json_string_value(json_object_get(c, "Name"));
        const char *comment = json_string_value(json_object_get(c, "Comment"));
        const json_t *nulls = json_object_get(json_object_get(stats, name ? name : ""), "null_count");
        json_t *col;

        if (!name) {
            continue;
        }
        col = json_pack("{s:s, s:s, s:b}", "name", name, "type",
                        json_string_value(json_object_get(c, "Type"))
                            ? json_string_value(json_object_get(c, "Type")) : "string",
                        "nullable", !(json_is_integer(nulls) && json_integer_value(nulls) == 0));
        if (col && comment && *comment) {
            json_object_set_new(col, "comment", json_string(comment));
        }
        json_array_append_new(out, col);
    }
    return out;
}

/* Up to n rows as objects, in file order. */
static int sample(weir_ctx *ctx, const json_t *input, const char *table, json_int_t n,
                  json_t **out)
{
    json_t *in = op_input(input, table), *res = NULL, *rows = json_array();
    char *sql = NULL;
    const json_t *row, *cols;
    size_t i, k;
    int rc;

    if (!in || !rows || asprintf(&sql, "SELECT * FROM %s LIMIT %lld", table, (long long)n) < 0) {
        sql = NULL;
        rc = contract_host->error_set(WEIR_ENOMEM, "contract.build_context: out of memory");
        goto cleanup;
    }
    json_object_del(in, "table");
    json_object_set_new(in, "sql", json_string(sql));
    if ((rc = contract_host->service_call(ctx, "engine", "query", in, &res)) < 0) {
        goto cleanup;
    }
    cols = json_object_get(res, "columns");
    json_array_foreach(json_object_get(res, "rows"), i, row) {
        json_t *obj = json_object();

        for (k = 0; k < json_array_size(cols); k++) {
            const char *name = json_string_value(json_object_get(json_array_get(cols, k), "name"));

            if (name) {
                json_object_set(obj, name, json_array_get(row, k));
            }
        }
        json_array_append_new(rows, obj);
    }
    *out = rows;
    rows = NULL;

cleanup:
    free(sql);
    json_decref(in);
    json_decref(res);
    json_decref(rows);
    return rc;
}

static int run_build_context(const json_t *input, json_t **out, weir_ctx *ctx, void *payload)
{
    const char *table = json_string_value(json_object_get(input, "table"));
    const char *dot = table ? strchr(table, '.') : NULL;
    json_t *in = NULL, *def = NULL, *prof = NULL, *res = NULL, *samples = NULL;
    const json_t *t, *params, *stats, *k, *given;
    const char *purpose, *layer, *owner;
    json_int_t nsample = json_integer_value(json_object_get(input, "sample_rows"));
    size_t i;
    int rc;

    (void)payload;
    if (!dot || dot == table || !dot[1] || strchr(dot + 1, '.')) {
        return contract_host->error_set(WEIR_EINVALID,
                                        "contract.build_context: table '%s' must be "
                                        "\"database.table\"", table ? table : "");
    }
    if (nsample < 0) {
        return contract_host->error_set(WEIR_EINVALID,
                                        "contract.build_context: sample_rows must be >= 0");
    }
    if ((in = op_input(input, table)) == NULL) {
        return contract_host->error_set(WEIR_ENOMEM, "contract.build_context: out of memory");
    }
    if ((rc = contract_host->service_call(ctx, "catalog", "get_table", in, &def)) < 0 ||
        (rc = contract_host->service_call(ctx, "engine", "profile", in, &prof)) < 0) {
        goto cleanup;
    }
    if (nsample > 0 && (rc = sample(ctx, input, table, nsample, &samples)) < 0) {
        goto cleanup;
    }
    t = json_object_get(def, "Table");
    params = json_object_get(t, "Parameters");
    stats = json_object_get(prof, "column_stats");
    purpose = param_str(input, "purpose");
    purpose = purpose ? purpose : json_string_value(json_object_get(t, "Description"));
    layer = param_str(input, "layer");
    layer = layer ? layer : json_string_value(json_object_get(params, "layer"));
    owner = json_string_value(json_object_get(params, "owner"));
    res = json_object();
    json_object_set_new(res, "table_name", json_string(dot + 1));
    json_object_set_new(res, "database", json_stringn(table, (size_t)(dot - table)));
    json_object_set_new(res, "layer", json_string(layer ? layer : ""));
    json_object_set_new(res, "purpose", json_string(purpose ? purpose : ""));
    if (owner) {
        json_object_set_new(res, "owner", json_string(owner));
    }
    json_object_set_new(res, "schema",
                        schema_of(json_object_get(json_object_get(t, "StorageDescriptor"), "Columns"),
                                  stats));
    json_object_set_new(res, "partition_keys", json_array());
    json_array_foreach(json_object_get(t, "PartitionKeys"), i, k) {
        const char *type = json_string_value(json_object_get(k, "Type"));

        json_array_append_new(json_object_get(res, "partition_keys"),
                              json_pack("{s:s?, s:s}", "name",
                                        json_string_value(json_object_get(k, "Name")), "type",
                                        type ? type : "string"));
    }
    given = json_object_get(input, "constraints");
    json_object_set_new(res, "constraints",
                        json_is_array(given) ? json_deep_copy(given) : catalog_constraints(params));
    json_object_set(res, "row_count", json_object_get(prof, "row_count"));
    json_object_set_new(res, "column_stats", stats ? json_deep_copy(stats) : json_object());
    given = json_object_get(input, "job_summary");
    json_object_set_new(res, "job_summary", json_is_object(given) ? json_deep_copy(given) : json_null());
    if (samples) {
        json_object_set(res, "samples", samples);
    }
    if (!json_object_get(res, "row_count")) {
        json_object_set_new(res, "row_count", json_integer(0));
    }
    *out = res;
    res = NULL;

cleanup:
    json_decref(in);
    json_decref(def);
    json_decref(prof);
    json_decref(res);
    json_decref(samples);
    return rc;
}

const struct weir_step_desc contract_step_build_context = {
    WEIR_STEP_DESC_VERSION, "build_context", NULL,
    "the LLM context of a table (spec §3.1): schema, partitions, constraints, profile, job summary",
    build_params, run_build_context, NULL
};
