/*
 * builtin_rules.c - rules suggested from a context's statistics, in the
 * spirit of Deequ's constraint suggestion: completeness, categorical range,
 * uniqueness, non-negative numbers, soft ranges, value shapes, plus what a
 * data engineer adds by hand (grain, foreign keys to dimensions, volume and
 * freshness). Every rule carries the statistic it rests on as `evidence`, so
 * a reviewer can tell a fact from a default.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builtin.h"

#define EMAIL_REGEX "^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$"
#define UUID_REGEX "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"

/* Categorical columns: at most this many values, and at most this share of
 * distinct values per non-null row (Deequ's CategoricalRangeRule). */
#define MAX_ALLOWED_VALUES 10
#define MAX_CATEGORICAL_RATIO 0.1
/* Margin added on each side of an observed numeric range (range_soft). */
#define RANGE_MARGIN 0.1
#define DEFAULT_MAX_LAG_HOURS 48

struct suggest {
    const json_t *context;
    weir_ctx *ctx;
    const char *database;
    const char *table;     /* bare name */
    json_int_t rows;
    json_t *catalog_tables; /* "db.t" strings, or NULL when the catalog is not reachable */
};

const char *builtin_str(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

const json_t *builtin_column_stats(const json_t *context, const char *column)
{
    return json_object_get(json_object_get(context, "column_stats"), column);
}

int builtin_is_numeric_type(const char *type)
{
    static const char *const numeric[] = { "tinyint", "smallint", "int", "integer", "bigint",
                                           "float", "double", "decimal", "real" };

    if (!type) {
        return 0;
    }
    for (size_t i = 0; i < sizeof(numeric) / sizeof(numeric[0]); i++) {
        size_t n = strlen(numeric[i]);

        if (strncmp(type, numeric[i], n) == 0 && (type[n] == 0 || type[n] == '(')) {
            return 1;
        }
    }
    return 0;
}

static int is_integer_type(const char *type)
{
    return type && (strcmp(type, "tinyint") == 0 || strcmp(type, "smallint") == 0 ||
                    strcmp(type, "int") == 0 || strcmp(type, "integer") == 0 ||
                    strcmp(type, "bigint") == 0);
}

static int is_string_type(const char *type)
{
    return type && (strcmp(type, "string") == 0 || strncmp(type, "varchar", 7) == 0 ||
                    strncmp(type, "char", 4) == 0);
}

/* Names that identify something: loan_id, customer_key, id. */
static int key_like(const char *name)
{
    size_t n = strlen(name);

    return strcmp(name, "id") == 0 || (n > 3 && strcmp(name + n - 3, "_id") == 0) ||
           (n > 4 && strcmp(name + n - 4, "_key") == 0);
}

static json_int_t stat_int(const json_t *stats, const char *key, json_int_t fallback)
{
    const json_t *v = json_object_get(stats, key);

    return json_is_number(v) ? (json_int_t)json_number_value(v) : fallback;
}

static double stat_num(const json_t *stats, const char *key, double fallback)
{
    const json_t *v = json_object_get(stats, key);

    return json_is_number(v) ? json_number_value(v) : fallback;
}

/* A new rule object {type, ...} with severity and evidence (printf-style). */
static json_t *rule_new(const char *type, const char *severity, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static json_t *rule_new(const char *type, const char *severity, const char *fmt, ...)
{
    char evidence[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(evidence, sizeof(evidence), fmt, ap);
    va_end(ap);
    return json_pack("{s:s, s:s, s:s}", "type", type, "severity", severity, "evidence", evidence);
}

/* x rounded outwards to the column's grain: integers, else cents. */
static json_t *bound(double x, int integer, int up)
{
    double scale = integer ? 1.0 : 100.0;
    double r = up ? ceil(x * scale) / scale : floor(x * scale) / scale;

    if (integer || r == floor(r)) {
        return json_integer((json_int_t)r);
    }
    return json_real(r);
}

static void add_completeness(json_t *rules, const json_t *stats, json_int_t rows)
{
    json_int_t nulls = stat_int(stats, "null_count", -1);
    double p, z = 1.96, upper;

    if (nulls < 0 || rows <= 0 || nulls >= rows) {
        return;
    }
    if (nulls == 0) {
        json_array_append_new(rules, rule_new("not_null", "error", "null_count=0 of %lld rows",
                                              (long long)rows));
        return;
    }
    /* Retain today's completeness: the 95% Wilson upper bound of the null
     * share, so ordinary day-to-day noise does not fail the check. */
    p = (double)nulls / (double)rows;
    upper = (p + z * z / (2.0 * rows) +
             z * sqrt(p * (1 - p) / rows + z * z / (4.0 * rows * rows))) / (1 + z * z / rows);
    upper = ceil(upper * 100.0) / 100.0;
    if (upper > 1.0) {
        upper = 1.0;
    }
    json_t *r = rule_new("null_ratio_max", "warn",
                         "null_count=%lld of %lld rows (%.1f%%); bound is the 95%% Wilson upper "
                         "limit", (long long)nulls, (long long)rows, 100.0 * p);
    json_object_set_new(r, "max", json_real(upper));
    json_array_append_new(rules, r);
}

static void add_unique(json_t *rules, const char *name, const char *type, const json_t *stats,
                       json_int_t rows)
{
    json_int_t distinct = stat_int(stats, "distinct_count", -1);

    if (rows < 2 || stat_int(stats, "null_count", -1) != 0 ||
        !json_is_true(json_object_get(stats, "distinct_exact")) || distinct != rows ||
        !(is_string_type(type) || is_integer_type(type))) {
        return;
    }
    json_array_append_new(rules, rule_new("unique", key_like(name) ? "error" : "warn",
                                          "distinct_count=%lld of %lld rows, no nulls",
                                          (long long)distinct, (long long)rows));
}

static void add_categorical(json_t *rules, const char *name, const char *type, const json_t *stats,
                            json_int_t rows)
{
    json_int_t distinct = stat_int(stats, "distinct_count", -1);
    json_int_t nonnull = rows - stat_int(stats, "null_count", 0);
    const json_t *top = json_object_get(stats, "top_values");
    const char *inferred = builtin_str(stats, "inferred_type");
    json_t *values, *r;
    struct pbuf ev = { 0 };
    char *evidence;
    size_t i;
    const json_t *tv;

    if (!is_string_type(type) || key_like(name) || distinct < 1 || distinct > MAX_ALLOWED_VALUES ||
        nonnull <= 0 || (double)distinct / (double)nonnull > MAX_CATEGORICAL_RATIO ||
        !json_is_true(json_object_get(stats, "distinct_exact")) ||
        !json_is_true(json_object_get(stats, "top_values_exact")) || !json_is_array(top) ||
        json_array_size(top) != (size_t)distinct ||
        (inferred && (strcmp(inferred, "date") == 0 || strcmp(inferred, "timestamp") == 0))) {
        return;
    }
    values = json_array();
    pbuf_addf(&ev, "%lld distinct values in %lld non-null rows:", (long long)distinct,
              (long long)nonnull);
    json_array_foreach(top, i, tv) {
        const json_t *v = json_object_get(tv, "value");

        json_array_append(values, (json_t *)v);
        pbuf_addf(&ev, "%s %s=%lld", i ? "," : "", json_string_value(v) ? json_string_value(v) : "?",
                  (long long)stat_int(tv, "count", 0));
    }
    /* Sorted, so a shift in frequencies does not reorder the contract. */
    for (size_t a = 1; a < json_array_size(values); a++) {
        for (size_t b = a; b > 0; b--) {
            const char *x = json_string_value(json_array_get(values, b - 1));
            const char *y = json_string_value(json_array_get(values, b));

            if (!x || !y || strcmp(x, y) <= 0) {
                break;
            }
            json_t *t = json_incref(json_array_get(values, b - 1));
            json_array_set(values, b - 1, json_array_get(values, b));
            json_array_set_new(values, b, t);
        }
    }
    evidence = pbuf_take(&ev);
    r = rule_new("allowed_values", "error", "%s", evidence ? evidence : "");
    json_object_set_new(r, "values", values);
    json_array_append_new(rules, r);
    free(evidence);
}

static void add_numeric(json_t *rules, const char *name, const char *type, const json_t *stats,
                        json_int_t rows)
{
    const json_t *jmin = json_object_get(stats, "min"), *jmax = json_object_get(stats, "max");
    double lo, hi, margin;
    int integer = is_integer_type(type);
    json_t *r;

    if (!builtin_is_numeric_type(type) || key_like(name) || !json_is_number(jmin) ||
        !json_is_number(jmax)) {
        return;
    }
    lo = json_number_value(jmin);
    hi = json_number_value(jmax);
    if (lo >= 0) {
        r = rule_new("min", "error", "min=%.15g over %lld rows (never negative)", lo, (long long)rows);
        json_object_set_new(r, "value", json_integer(0));
        json_array_append_new(rules, r);
    }
    margin = (hi - lo) * RANGE_MARGIN;
    if (margin == 0) {
        margin = fabs(hi) * RANGE_MARGIN;
    }
    r = rule_new("range_soft", "warn", "observed min=%.15g, max=%.15g; widened by 10%% of the range",
                 lo, hi);
    json_object_set_new(r, "min", bound(lo >= 0 && lo - margin < 0 ? 0 : lo - margin, integer, 0));
    json_object_set_new(r, "max", bound(hi + margin, integer, 1));
    json_array_append_new(rules, r);
}

static void add_shape(json_t *rules, const char *name, const char *type, const json_t *stats)
{
    const json_t *shapes = json_object_get(stats, "shapes");
    json_int_t lmin = stat_int(stats, "min_length", -1), lmax = stat_int(stats, "max_length", -1);
    json_t *r = NULL;

    if (!is_string_type(type)) {
        return;
    }
    if (stat_num(shapes, "email", 0) >= 1.0) {
        r = rule_new("pattern", "warn", "shape email: 100%% of non-null values");
        json_object_set_new(r, "regex", json_string(EMAIL_REGEX));
    }
    else if (stat_num(shapes, "uuid", 0) >= 1.0) {
        r = rule_new("pattern", "warn", "shape uuid: 100%% of non-null values");
        json_object_set_new(r, "regex", json_string(UUID_REGEX));
    }
    else if (key_like(name) && lmin > 0 && lmin == lmax) {
        /* Fixed-width codes: a truncated or padded key is a broken join. */
        r = rule_new("length_range", "warn", "every value is %lld characters long", (long long)lmin);
        json_object_set_new(r, "min", json_integer(lmin));
        json_object_set_new(r, "max", json_integer(lmax));
    }
    if (r) {
        json_array_append_new(rules, r);
    }
}

/* ---- foreign keys ----------------------------------------------------- */

/* "db.t" for a job summary's table name. */
static char *qualify(const struct suggest *s, const char *t)
{
    char *q = NULL;

    if (strchr(t, '.')) {
        return strdup(t);
    }
    if (asprintf(&q, "%s.%s", s->database, t) < 0) {
        return NULL;
    }
    return q;
}

static int table_has_column(const struct suggest *s, const char *table, const char *column)
{
    json_t *in = json_pack("{s:s}", "table", table), *out = NULL;
    const json_t *cols, *c;
    size_t i;
    int found = 0;

    if (in && builtin_host->service_call(s->ctx, "catalog", "get_table", in, &out) == WEIR_OK) {
        cols = json_object_get(json_object_get(json_object_get(out, "Table"), "StorageDescriptor"),
                               "Columns");
        json_array_foreach(cols, i, c) {
            const char *n = builtin_str(c, "Name");

            found = found || (n && strcmp(n, column) == 0);
        }
    }
    json_decref(in);
    json_decref(out);
    return found;
}

static json_t *fk_from_job(const struct suggest *s, const char *column)
{
    const json_t *joins = json_object_get(json_object_get(s->context, "job_summary"), "join_keys");
    const json_t *j, *c;
    size_t i, k;

    json_array_foreach(joins, i, j) {
        const char *right = builtin_str(j, "right_table");

        if (!right || strcmp(right, s->table) == 0) {
            continue;
        }
        json_array_foreach(json_object_get(j, "columns"), k, c) {
            if (json_is_string(c) && strcmp(json_string_value(c), column) == 0) {
                char *ref = qualify(s, right);
                json_t *r = rule_new("foreign_key", "error", "the job joins %s to %s on %s",
                                     builtin_str(j, "left_table") ? builtin_str(j, "left_table")
                                                                  : "its input",
                                     right, column);

                json_object_set_new(r, "ref_table", json_string(ref ? ref : right));
                json_object_set_new(r, "ref_column", json_string(column));
                free(ref);
                return r;
            }
        }
    }
    return NULL;
}

static json_t *fk_from_name(const struct suggest *s, const char *column)
{
    size_t n = strlen(column), i;
    char *dim = NULL;
    const json_t *t;
    json_t *r = NULL;

    if (!s->catalog_tables || n <= 3 || strcmp(column + n - 3, "_id") != 0 ||
        asprintf(&dim, "%s.dim_%.*s", s->database, (int)(n - 3), column) < 0) {
        return NULL;
    }
    json_array_foreach(s->catalog_tables, i, t) {
        const char *name = json_string_value(t);

        if (name && strcmp(name, dim) == 0 && strcmp(dim + strlen(s->database) + 1, s->table) != 0 &&
            table_has_column(s, dim, column)) {
            r = rule_new("foreign_key", "error",
                         "column name matches dimension table %s, which has %s", dim, column);
            json_object_set_new(r, "ref_table", json_string(dim));
            json_object_set_new(r, "ref_column", json_string(column));
            break;
        }
    }
    free(dim);
    return r;
}

/* ---- the table -------------------------------------------------------- */

static int in_schema(const json_t *context, const char *column)
{
    const json_t *c;
    size_t i;

    json_array_foreach(json_object_get(context, "schema"), i, c) {
        const char *n = builtin_str(c, "name");

        if (n && strcmp(n, column) == 0) {
            return 1;
        }
    }
    return 0;
}

/* The grain: the job's, else one unique key, else the finest key + a date. */
static json_t *suggest_grain(const struct suggest *s, char *evidence, size_t cap)
{
    const json_t *g = json_object_get(json_object_get(s->context, "job_summary"), "grain");
    const json_t *c, *best = NULL, *date = NULL;
    json_int_t best_distinct = -1;
    size_t i;

    if (json_is_array(g) && json_array_size(g) > 0) {
        json_array_foreach(g, i, c) {
            if (!json_is_string(c) || !in_schema(s->context, json_string_value(c))) {
                g = NULL;
                break;
            }
        }
        if (g) {
            snprintf(evidence, cap, "grain declared by the job summary");
            return json_deep_copy(g);
        }
    }
    if (s->rows <= 0) {
        return NULL;
    }
    json_array_foreach(json_object_get(s->context, "schema"), i, c) {
        const char *name = builtin_str(c, "name"), *type = builtin_str(c, "type");
        const json_t *st = builtin_column_stats(s->context, name ? name : "");
        json_int_t d = stat_int(st, "distinct_count", -1);

        if (!name || stat_int(st, "null_count", -1) != 0) {
            continue;
        }
        if (key_like(name) && d > best_distinct) {
            best = c;
            best_distinct = d;
        }
        if (!date && type && strcmp(type, "date") == 0) {
            date = c;
        }
    }
    if (!best) {
        return NULL;
    }
    if (best_distinct == s->rows) {
        snprintf(evidence, cap, "%s: distinct_count=%lld of %lld rows", builtin_str(best, "name"),
                 (long long)best_distinct, (long long)s->rows);
        return json_pack("[s]", builtin_str(best, "name"));
    }
    if (!date) {
        return NULL;
    }
    snprintf(evidence, cap,
             "candidate key: %s (%lld distinct) + %s (%lld distinct) over %lld rows; checked "
             "against the data by contract.generate", builtin_str(best, "name"),
             (long long)best_distinct, builtin_str(date, "name"),
             (long long)stat_int(builtin_column_stats(s->context, builtin_str(date, "name")),
                                 "distinct_count", 0), (long long)s->rows);
    return json_pack("[s,s]", builtin_str(best, "name"), builtin_str(date, "name"));
}

/* The load timestamp: created_at / updated_at / loaded_at first, else any. */
static const char *timestamp_column(const json_t *context)
{
    static const char *const preferred[] = { "created_at", "updated_at", "loaded_at", "load_ts" };
    const json_t *c;
    const char *first = NULL;
    size_t i;

    json_array_foreach(json_object_get(context, "schema"), i, c) {
        const char *type = builtin_str(c, "type"), *name = builtin_str(c, "name");

        if (!type || !name || strcmp(type, "timestamp") != 0) {
            continue;
        }
        for (size_t k = 0; k < sizeof(preferred) / sizeof(preferred[0]); k++) {
            if (strcmp(name, preferred[k]) == 0) {
                return name;
            }
        }
        first = first ? first : name;
    }
    return first;
}

/* "dt" when a partition key holds dates (daily loads), else NULL. */
static const char *daily_partition(const json_t *context)
{
    const json_t *k;
    size_t i;

    json_array_foreach(json_object_get(context, "partition_keys"), i, k) {
        const char *name = builtin_str(k, "name");
        const char *inferred = builtin_str(builtin_column_stats(context, name ? name : ""),
                                           "inferred_type");

        if (name && inferred && strcmp(inferred, "date") == 0) {
            return name;
        }
    }
    return NULL;
}

static void add_table_checks(struct suggest *s, json_t *dq, json_t *checks)
{
    char evidence[512] = "";
    json_t *grain = suggest_grain(s, evidence, sizeof(evidence));
    const char *ts = timestamp_column(s->context), *daily = daily_partition(s->context);
    const json_t *c;
    json_t *r;
    size_t i;

    if (grain) {
        r = rule_new("grain_unique", "error", "%s", evidence);
        json_object_set(r, "grain", grain);
        json_array_append_new(checks, r);
    }
    json_object_set_new(dq, "primary_key", grain ? grain : json_null());
    if (s->rows > 0) {
        r = rule_new("row_count_anomaly", "warn",
                     "row_count=%lld today; default: within 20%% of the 7-day average",
                     (long long)s->rows);
        json_object_set_new(r, "max_change_pct", json_integer(20));
        json_object_set_new(r, "window_days", json_integer(7));
        json_array_append_new(checks, r);
    }
    if (ts) {
        const char *latest = builtin_str(builtin_column_stats(s->context, ts), "max");

        r = rule_new("freshness_sla", "warn", "latest %s=%s%s%s; default lag %d hours", ts,
                     latest ? latest : "unknown", daily ? "; daily partitions by " : "",
                     daily ? daily : "", DEFAULT_MAX_LAG_HOURS);
        json_object_set_new(r, "column", json_string(ts));
        json_object_set_new(r, "max_lag_hours", json_integer(DEFAULT_MAX_LAG_HOURS));
        json_array_append_new(checks, r);
        json_object_set_new(dq, "freshness",
                            json_pack("{s:s?, s:s, s:i}", "frequency", daily ? "daily" : NULL,
                                      "column", ts, "max_lag_hours", DEFAULT_MAX_LAG_HOURS));
    }
    else {
        json_object_set_new(dq, "freshness", json_null());
    }
    json_array_foreach(json_object_get(s->context, "constraints"), i, c) {
        const char *expr = builtin_str(c, "expression"), *name = builtin_str(c, "name");

        if (!expr) {
            continue;
        }
        r = rule_new("check", "error", "declared constraint %s", name ? name : "(unnamed)");
        if (name) {
            json_object_set_new(r, "name", json_string(name));
        }
        json_object_set_new(r, "expression", json_string(expr));
        json_array_append_new(checks, r);
    }
}

json_t *builtin_suggest(const json_t *context, weir_ctx *ctx)
{
    struct suggest s = { context, ctx, builtin_str(context, "database"),
                         builtin_str(context, "table_name"), 0, NULL };
    json_t *dq = json_object(), *columns = json_object(), *checks = json_array();
    json_t *in = NULL, *out = NULL;
    const json_t *c;
    size_t i;

    s.database = s.database ? s.database : "default";
    s.table = s.table ? s.table : "";
    s.rows = json_integer_value(json_object_get(context, "row_count"));
    if (ctx && (in = json_pack("{s:s}", "database", s.database)) != NULL &&
        builtin_host->service_call(ctx, "catalog", "list_tables", in, &out) == WEIR_OK) {
        s.catalog_tables = json_object_get(out, "tables");
    }
    json_object_set_new(dq, "table_name", json_string(s.table));
    json_object_set_new(dq, "owner", json_is_string(json_object_get(context, "owner"))
                                         ? json_incref(json_object_get(context, "owner"))
                                         : json_null());
    json_object_set_new(dq, "description",
                        json_string(builtin_str(context, "purpose") ? builtin_str(context, "purpose")
                                                                    : ""));
    json_array_foreach(json_object_get(context, "schema"), i, c) {
        const char *name = builtin_str(c, "name"), *type = builtin_str(c, "type");
        const json_t *st = builtin_column_stats(context, name ? name : "");
        json_t *rules = json_array(), *fk;

        if (!name) {
            json_decref(rules);
            continue;
        }
        add_completeness(rules, st, s.rows);
        add_unique(rules, name, type, st, s.rows);
        add_categorical(rules, name, type, st, s.rows);
        add_numeric(rules, name, type, st, s.rows);
        add_shape(rules, name, type, st);
        if ((fk = fk_from_job(&s, name)) != NULL || (fk = fk_from_name(&s, name)) != NULL) {
            json_array_append_new(rules, fk);
        }
        json_object_set_new(columns, name,
                            json_pack("{s:s, s:b, s:o}", "type", type ? type : "string", "nullable",
                                      json_is_true(json_object_get(c, "nullable")), "rules", rules));
    }
    json_object_set_new(dq, "columns", columns);
    add_table_checks(&s, dq, checks);
    json_object_set_new(dq, "table_level_checks", checks);
    json_decref(in);
    json_decref(out);
    return dq;
}
