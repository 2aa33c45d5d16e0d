/*
 * athena_profile.c - engine.profile on Athena: the table's definition from
 * the catalog service (or the `definition` param), the one profiling SELECT
 * (athena_profile_sql.c), and its single result row turned into exactly the
 * lake profiler's JSON (plugins/lake/profile.c), keys in the same order.
 * What a SQL engine cannot tell cheaply is null or false: files is null,
 * the exactness flags are false (every count but row and null counts is
 * approximate), shapes of reals and decimals are null; see the README.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "athena.h"

static const struct weir_param_desc profile_params[] = {
    { "table", WEIR_PARAM_STRING, 0, "null",
      "table to profile, as \"database.table\" (required unless definition is given)" },
    { "definition", WEIR_PARAM_OBJECT, 0, "null",
      "a table in the Glue GetTable shape to profile instead of asking the catalog" },
    { "partitions", WEIR_PARAM_OBJECT, 0, "null",
      "partition key -> value or array of values to profile (a WHERE on the keys; default all)" },
    { "top_k", WEIR_PARAM_INTEGER, 0, "10", "most frequent values reported per column" },
    { "sample_rows", WEIR_PARAM_INTEGER, 0, "0",
      "profile only N rows (a LIMIT in a subquery; which rows is up to Athena; 0: all)" },
    { "timeout_ms", WEIR_PARAM_INTEGER, 0, "600000",
      "the query is stopped (StopQueryExecution) after this long" },
    ATHENA_SETTINGS_PARAMS,
    { "exact_threshold", WEIR_PARAM_INTEGER, 0, "10000",
      "accepted for lake pipelines; ignored (Athena's counts are approximate)" },
    { "skip_bad_rows", WEIR_PARAM_BOOLEAN, 0, "false",
      "accepted for lake pipelines; Athena's SerDe decides what a bad row is (bad_rows is null)" },
    { "catalog_dir", WEIR_PARAM_STRING, 0, "null", "passed to catalog.get_table" },
    { "store_root", WEIR_PARAM_STRING, 0, "null", "passed to catalog.get_table" },
    { NULL, WEIR_PARAM_ANY, 0, NULL, NULL },
};

/* x rounded to 6 significant digits, as the lake prints derived reals. */
static double round6(double x)
{
    char buf[32];

    if (!isfinite(x) || x == 0.0) {
        return 0.0;
    }
    snprintf(buf, sizeof(buf), "%.6g", x);
    return strtod(buf, NULL);
}

static json_t *metric(const json_t *row, size_t i, const char *what)
{
    char key[64];

    snprintf(key, sizeof(key), "c%zu_%s", i, what);
    return json_object_get(row, key);
}

/* A copy of a metric, null when the result lacks it. */
static json_t *metric_copy(const json_t *row, size_t i, const char *what)
{
    json_t *v = metric(row, i, what);

    return v ? json_incref(v) : json_null();
}

static json_int_t metric_int(const json_t *row, size_t i, const char *what)
{
    return json_integer_value(metric(row, i, what));
}

/* A numeric result as the lake reports it: integers for integer columns. */
static json_t *number(const struct athena_pcol *c, const json_t *v)
{
    int ints = c->kind == HIVE_INT || c->kind == HIVE_BIGINT;
    double d;

    if (!json_is_number(v)) {
        return json_null();
    }
    d = json_number_value(v);
    if (ints && fabs(d) < 9.0e15) {
        return json_integer((json_int_t)llround(d));
    }
    return json_real(d);
}

static json_t *rounded(const json_t *v)
{
    return json_is_number(v) ? json_real(round6(json_number_value(v))) : json_null();
}

static void numeric_stats(json_t *o, const struct athena_pcol *c, const json_t *row, size_t i)
{
    json_t *q = json_loads(json_string_value(metric(row, i, "quantiles"))
                               ? json_string_value(metric(row, i, "quantiles"))
                               : "null",
                           JSON_DECODE_ANY, NULL);
    const char *keys[3] = { "p50", "p95", "p99" };

    json_object_set_new(o, "min", number(c, metric(row, i, "min")));
    json_object_set_new(o, "max", number(c, metric(row, i, "max")));
    json_object_set_new(o, "mean", rounded(metric(row, i, "mean")));
    json_object_set_new(o, "stddev", rounded(metric(row, i, "stddev")));
    for (size_t k = 0; k < 3; k++) {
        json_object_set_new(o, keys[k], number(c, json_array_get(q, k)));
    }
    json_decref(q);
}

static int cmp_top(const void *a, const void *b)
{
    const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    json_int_t cx = json_integer_value(json_object_get(x, "count"));
    json_int_t cy = json_integer_value(json_object_get(y, "count"));

    if (cx != cy) {
        return cx > cy ? -1 : 1;
    }
    return strcmp(json_string_value(json_object_get(x, "value")),
                  json_string_value(json_object_get(y, "value")));
}

/* {"value": count, ...} from approx_most_frequent -> [{value, count}] by
 * count, then value, as the lake orders them. */
static json_t *top_values(const json_t *row, size_t i, int64_t top_k)
{
    json_t *map = json_loads(
        json_string_value(metric(row, i, "top")) ? json_string_value(metric(row, i, "top")) : "{}",
        0, NULL);
    size_t n = json_object_size(map), k = 0;
    json_t **v = athena_host->malloc((n ? n : 1) * sizeof(*v)), *arr = json_array();
    const char *key;
    json_t *count;

    json_object_foreach(map, key, count) {
        if (v && json_is_integer(count)) {
            v[k++] = json_pack("{s:s,s:O}", "value", key, "count", count);
        }
    }
    if (v && k) {
        qsort(v, k, sizeof(*v), cmp_top);
    }
    for (size_t j = 0; v && j < k; j++) {
        if ((int64_t)j < top_k) {
            json_array_append(arr, v[j]);
        }
        json_decref(v[j]);
    }
    athena_host->free(v);
    json_decref(map);
    return arr;
}

/* Shares of non-null values per shape, non-zero only, as the lake reports
 * them: counted by regex for strings, implied by the type for integers,
 * dates and timestamps; null where Athena cannot see the text (reals,
 * decimals, complex values). */
static json_t *shapes_json(const struct athena_pcol *c, const json_t *row, size_t i,
                           json_int_t nonnull)
{
    json_t *o = json_object();
    char what[32];

    if (c->kind == HIVE_STRING) {
        for (size_t k = 0; nonnull > 0 && k < ATHENA_NSHAPES; k++) {
            snprintf(what, sizeof(what), "shape_%s", athena_shape_names[k]);
            json_int_t n = metric_int(row, i, what);
            if (n > 0) {
                json_object_set_new(o, athena_shape_names[k],
                                    json_real(round6((double)n / (double)nonnull)));
            }
        }
        return o;
    }
    if (nonnull > 0 && (c->kind == HIVE_INT || c->kind == HIVE_BIGINT || c->kind == HIVE_DATE ||
                        c->kind == HIVE_TIMESTAMP)) {
        json_object_set_new(o,
                            c->kind == HIVE_DATE        ? "date"
                            : c->kind == HIVE_TIMESTAMP ? "timestamp"
                                                        : "integer",
                            json_real(1.0));
    }
    if (c->kind == HIVE_DOUBLE || c->kind == HIVE_DECIMAL || c->kind == HIVE_COMPLEX) {
        json_decref(o);
        return json_null();
    }
    return o;
}

/* Whether approx_most_frequent returned every value of the column: at most
 * top_k of them and their counts add up to the non-null rows. Its counts are
 * exact while the distinct values fit its capacity, so the list is then the
 * column's whole value set, as the lake's top_values_exact says. Returns
 * the number of distinct values then, else -1. */
static json_int_t top_complete(const json_t *row, size_t i, json_int_t nonnull, int64_t top_k)
{
    const char *text = json_string_value(metric(row, i, "top"));
    json_t *map = text ? json_loads(text, 0, NULL) : NULL, *count;
    json_int_t sum = 0;
    const char *key;
    int complete;

    json_object_foreach(map, key, count) {
        sum += json_integer_value(count);
    }
    complete = map && nonnull > 0 && (int64_t)json_object_size(map) <= top_k && sum == nonnull;
    sum = complete ? (json_int_t)json_object_size(map) : -1;
    json_decref(map);
    return sum;
}

/* The type the values look like, as the lake infers it: for strings from the
 * shape counts (every non-null value an integer, a number, a date...), for
 * the other types from the declared type. */
static const char *inferred_of(const struct athena_pcol *c, const json_t *row, size_t i,
                               json_int_t nonnull)
{
    json_int_t n_int, n_dec;

    if (c->kind != HIVE_STRING || nonnull <= 0) {
        return hive_kind_inferred(c->kind);
    }
    n_int = metric_int(row, i, "shape_integer");
    n_dec = metric_int(row, i, "shape_decimal");
    if (n_int == nonnull) {
        return "integer";
    }
    if (n_int + n_dec == nonnull) {
        return "double";
    }
    if (metric_int(row, i, "shape_date") == nonnull) {
        return "date";
    }
    if (metric_int(row, i, "shape_timestamp") == nonnull) {
        return "timestamp";
    }
    return "string";
}

static json_t *column_json(const struct athena_plan *plan, size_t i, const json_t *row,
                           json_int_t rows)
{
    const struct athena_pcol *c = &plan->cols[i];
    json_int_t nulls = metric_int(row, i, "nulls");
    json_t *o = json_object();
    int complex = c->kind == HIVE_COMPLEX;

    json_object_set_new(o, "declared_type", json_string(c->type));
    json_int_t exact = complex ? -1 : top_complete(row, i, rows - nulls, plan->top_k);
    int complete = exact >= 0;

    json_object_set_new(o, "inferred_type",
                        rows > nulls ? json_string(inferred_of(c, row, i, rows - nulls)) : json_null());
    json_object_set_new(o, "null_count", json_integer(nulls));
    json_object_set_new(o, "null_pct",
                        json_real(rows ? round6(100.0 * (double)nulls / (double)rows) : 0.0));
    json_object_set_new(o, "distinct_count",
                        complex    ? json_null()
                        : complete ? json_integer(exact)
                                   : json_integer(metric_int(row, i, "distinct")));
    /* a complete value list counts the distinct values exactly */
    json_object_set_new(o, "distinct_exact", json_boolean(complete));
    if (hive_kind_numeric(c->kind)) {
        numeric_stats(o, c, row, i);
    }
    else {
        json_object_set_new(o, "min", complex ? json_null() : metric_copy(row, i, "min"));
        json_object_set_new(o, "max", complex ? json_null() : metric_copy(row, i, "max"));
    }
    if (c->kind == HIVE_STRING || complex) {
        json_object_set_new(o, "min_length",
                            complex ? json_null() : metric_copy(row, i, "min_length"));
        json_object_set_new(o, "max_length",
                            complex ? json_null() : metric_copy(row, i, "max_length"));
    }
    json_object_set_new(o, "top_values", top_values(row, i, plan->top_k));
    json_object_set_new(o, "top_values_exact", json_boolean(complete));
    json_object_set_new(o, "shapes", shapes_json(c, row, i, rows - nulls));
    return o;
}

/* The one result row as an object keyed by column alias. */
static json_t *row_object(const json_t *result)
{
    const json_t *cols = json_object_get(result, "columns");
    const json_t *row = json_array_get(json_object_get(result, "rows"), 0);
    json_t *o = json_object();

    for (size_t k = 0; o && row && k < json_array_size(cols); k++) {
        const char *name = json_string_value(json_object_get(json_array_get(cols, k), "name"));
        json_t *v = json_array_get(row, k);
        if (name && v) {
            json_object_set(o, name, v);
        }
    }
    return o;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The keys of histogram's {value: rows} in byte order, as the lake lists
 * partition folders. */
static json_t *sorted_keys(const json_t *hist)
{
    size_t n = json_object_size(hist), k = 0;
    const char **keys = athena_host->malloc((n ? n : 1) * sizeof(*keys));
    json_t *arr = json_array(), *v;
    const char *key;

    json_object_foreach((json_t *)hist, key, v) {
        if (keys) {
            keys[k++] = key;
        }
    }
    if (keys && k) {
        qsort(keys, k, sizeof(*keys), cmp_str);
    }
    for (size_t i = 0; i < k; i++) {
        json_array_append_new(arr, json_string(keys[i]));
    }
    athena_host->free(keys);
    return arr;
}

static json_t *partitions_json(const struct athena_plan *plan, const json_t *row)
{
    json_t *o = json_object();

    for (size_t i = 0; i < plan->ncols; i++) {
        const char *text = json_string_value(metric(row, i, "values"));
        json_t *v;

        if (!plan->cols[i].partition) {
            continue;
        }
        v = text ? json_loads(text, 0, NULL) : NULL;
        json_object_set_new(o, plan->cols[i].name, sorted_keys(v));
        json_decref(v);
    }
    return o;
}

int athena_profile_render(const struct athena_plan *plan, const json_t *result, json_t **out)
{
    json_t *row = row_object(result), *o = json_object(), *stats = json_object();
    char qualified[520];
    json_int_t rows;
    int rc = WEIR_OK;

    *out = NULL;
    if (!row || !o || !stats) {
        rc = athena_host->error_set(WEIR_ENOMEM, "engine.profile: out of memory");
        goto done;
    }
    if (json_array_size(json_object_get(result, "rows")) != 1 ||
        !json_is_integer(json_object_get(row, "row_count"))) {
        rc = athena_host->error_set(WEIR_EIO, "engine.profile: the profiling query did not "
                                              "return one row with a row_count");
        goto done;
    }
    rows = json_integer_value(json_object_get(row, "row_count"));
    snprintf(qualified, sizeof(qualified), "%s.%s", plan->database, plan->table);
    json_object_set_new(o, "table", json_string(qualified));
    json_object_set_new(o, "row_count", json_integer(rows));
    json_object_set_new(o, "files", json_null());
    json_object_set_new(o, "partitions", partitions_json(plan, row));
    if (plan->sample_rows) {
        json_object_set_new(o, "sample_rows", json_integer((json_int_t)plan->sample_rows));
    }
    if (plan->skip_bad) {
        json_object_set_new(o, "bad_rows", json_null());
    }
    for (size_t i = 0; i < plan->ncols; i++) {
        json_object_set_new(stats, plan->cols[i].name, column_json(plan, i, row, rows));
    }
    json_object_set(o, "column_stats", stats);
    *out = o;
    o = NULL;

done:
    json_decref(row);
    json_decref(o);
    json_decref(stats);
    return rc;
}

/* The table: `definition` ({"Table": ...} or the table object itself), or
 * catalog.get_table through the target's catalog service. */
static int table_def(weir_ctx *ctx, const json_t *input, json_t **def)
{
    const json_t *given = json_object_get(input, "definition");
    const char *table = json_string_value(json_object_get(input, "table"));
    const char *keys[] = { "catalog_dir", "store_root" };
    json_t *in, *got = NULL;
    int rc;

    if (json_is_object(given)) {
        *def = json_incref(json_object_get(given, "Table") ? json_object_get(given, "Table")
                                                           : (json_t *)given);
        return WEIR_OK;
    }
    if (!table || !*table) {
        return athena_host->error_set(WEIR_EINVALID, "engine.profile: param 'table' must be "
                                                     "\"database.table\" (or give a 'definition')");
    }
    if ((in = json_pack("{s:s}", "table", table)) == NULL) {
        return athena_host->error_set(WEIR_ENOMEM, "engine.profile: out of memory");
    }
    for (size_t i = 0; i < 2; i++) {
        const json_t *v = json_object_get(input, keys[i]);
        if (json_is_string(v)) {
            json_object_set(in, keys[i], (json_t *)v);
        }
    }
    rc = athena_host->service_call(ctx, "catalog", "get_table", in, &got);
    json_decref(in);
    if (rc == WEIR_OK) {
        *def = json_incref(json_object_get(got, "Table"));
        rc = *def ? WEIR_OK
                  : athena_host->error_set(WEIR_EIO,
                                           "engine.profile: catalog.get_table "
                                           "returned no Table for %s",
                                           table);
    }
    json_decref(got);
    return rc;
}

static int run_profile(const json_t *input, json_t **out, weir_ctx *ctx, void *payload)
{
    const json_t *parts = json_object_get(input, "partitions");
    struct athena_settings s;
    struct athena_plan plan = { 0 };
    json_int_t top_k = json_integer_value(json_object_get(input, "top_k"));
    json_int_t sample = json_integer_value(json_object_get(input, "sample_rows"));
    json_t *def = NULL, *result = NULL;
    char *sql = NULL;
    int rc;

    (void)payload;
    athena_settings_init(&s, input, "engine.profile");
    s.timeout_ms = json_is_integer(json_object_get(input, "timeout_ms"))
                       ? json_integer_value(json_object_get(input, "timeout_ms"))
                       : 600000;
    s.max_rows = 1;
    if (!json_object_get(input, "top_k")) {
        top_k = 10;
    }
    if (top_k < 0 || sample < 0 || s.timeout_ms <= 0) {
        return athena_host->error_set(WEIR_EINVALID, "engine.profile: top_k and sample_rows must "
                                                     "be >= 0, timeout_ms > 0");
    }
    if ((rc = table_def(ctx, input, &def)) < 0 ||
        (rc = athena_profile_sql(def, json_is_object(parts) ? parts : NULL, top_k, sample, &plan,
                                 &sql)) < 0 ||
        (rc = athena_query_run(ctx, &s, sql, &result)) < 0) {
        goto done;
    }
    plan.skip_bad = json_is_true(json_object_get(input, "skip_bad_rows"));
    rc = athena_profile_render(&plan, result, out);

done:
    athena_plan_free(&plan);
    athena_host->free(sql);
    json_decref(result);
    json_decref(def);
    return rc;
}

int athena_register_profile(weir_registry *reg)
{
    struct weir_step_desc d = {
        .version = WEIR_STEP_DESC_VERSION,
        .name = "profile",
        .service = "engine",
        .description = "profiles every column of a table with one Athena query (one scan)",
        .params = profile_params,
        .run = run_profile,
    };

    return athena_host->step_register(reg, &d);
}
