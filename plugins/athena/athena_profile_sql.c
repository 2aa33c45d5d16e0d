/*
 * athena_profile_sql.c - the one SELECT that profiles a whole table on
 * Athena: every column's aggregates side by side, so the table is scanned
 * once however many columns it has (Athena bills by bytes scanned). Top
 * values come from approx_most_frequent in the same scan, quantiles from
 * approx_percentile, distinct counts from approx_distinct. The text is
 * deterministic (golden-tested): one aggregate per line, aliases c<i>_<what>
 * so any column name is safe.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "athena.h"

static void sb_add(struct weir_strbuf *b, const char *fmt, ...) WEIR__PRINTF(2, 3);
static void sb_add(struct weir_strbuf *b, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    weir_strbuf_vaddf(athena_host, b, fmt, ap);
    va_end(ap);
}

/* Appends text between quote characters, doubling any inside. */
static void sb_quoted(struct weir_strbuf *b, const char *text, char q)
{
    sb_add(b, "%c", q);
    for (const char *s = text; *s; s++) {
        if (*s == q) {
            sb_add(b, "%c", q);
        }
        sb_add(b, "%c", *s);
    }
    sb_add(b, "%c", q);
}

/* "name" as a Trino identifier. */
static void sb_ident(struct weir_strbuf *b, const char *name)
{
    sb_quoted(b, name, '"');
}

/* One "  expr AS "c<i>_<what>"," line; expr contains %C for the column. */
static void metric(struct weir_strbuf *b, size_t i, const char *col, const char *what, const char *expr)
{
    sb_add(b, ",\n  ");
    for (const char *s = expr; *s; s++) {
        if (s[0] == '%' && s[1] == 'C') {
            sb_ident(b, col);
            s++;
        }
        else {
            sb_add(b, "%c", *s);
        }
    }
    sb_add(b, " AS \"c%zu_%s\"", i, what);
}

/* The lake's value shapes (plugins/lake/shapes.c) as regular expressions,
 * in its order. They follow the hand-written matchers except for limits a
 * regex states badly: a date's calendar day and an email's part lengths. */
static const char *const shape_regex[ATHENA_NSHAPES] = {
    "^[A-Za-z0-9!#$%&''*+/=?^_`{|}~-]+(\\.[A-Za-z0-9!#$%&''*+/=?^_`{|}~-]+)*@"
    "([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?\\.)+[A-Za-z]{2,}$",
    "^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$",
    "^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
    "^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]+)?)?"
    "(Z|[+-][0-9]{2}(:?[0-9]{2})?)?$",
    "^[+-]?[0-9]+$",
    "^[+-]?([0-9]+\\.[0-9]*|\\.[0-9]+)$",
};

const char *const athena_shape_names[ATHENA_NSHAPES] = { "email",     "uuid",    "date",
                                                         "timestamp", "integer", "decimal" };

static void shape_metrics(struct weir_strbuf *b, size_t i, const struct athena_pcol *c)
{
    char what[32], expr[400];

    for (size_t k = 0; k < ATHENA_NSHAPES; k++) {
        snprintf(what, sizeof(what), "shape_%s", athena_shape_names[k]);
        snprintf(expr, sizeof(expr), "count_if(regexp_like(%%C, '%s'))", shape_regex[k]);
        metric(b, i, c->name, what, expr);
    }
}

static void column_metrics(struct weir_strbuf *b, size_t i, const struct athena_pcol *c, int64_t top_k)
{
    char top[160];
    int64_t cap = top_k * 4 < 64 ? 64 : top_k * 4;

    metric(b, i, c->name, "nulls", "count_if(%C IS NULL)");
    if (c->kind == HIVE_COMPLEX) {
        return; /* arrays, maps and structs: only nulls (see README) */
    }
    metric(b, i, c->name, "distinct", "approx_distinct(%C)");
    if (hive_kind_numeric(c->kind)) {
        metric(b, i, c->name, "min", "min(%C)");
        metric(b, i, c->name, "max", "max(%C)");
        metric(b, i, c->name, "mean", "avg(CAST(%C AS double))");
        metric(b, i, c->name, "stddev", "stddev_samp(CAST(%C AS double))");
        metric(b, i, c->name, "quantiles",
               "json_format(CAST(approx_percentile(CAST(%C AS double), ARRAY[0.5, 0.95, 0.99]) "
               "AS JSON))");
    }
    else if (c->kind == HIVE_STRING) {
        metric(b, i, c->name, "min", "min(%C)");
        metric(b, i, c->name, "max", "max(%C)");
    }
    else {
        /* dates, timestamps, booleans: as text, as the lake reports them */
        metric(b, i, c->name, "min", "CAST(min(%C) AS varchar)");
        metric(b, i, c->name, "max", "CAST(max(%C) AS varchar)");
    }
    if (c->kind == HIVE_STRING) {
        metric(b, i, c->name, "min_length", "min(length(%C))");
        metric(b, i, c->name, "max_length", "max(length(%C))");
        shape_metrics(b, i, c);
    }
    if (top_k > 0) {
        /* approx_most_frequent takes bigint or varchar values */
        snprintf(top, sizeof(top),
                 "json_format(CAST(approx_most_frequent(%lld, %s, %lld) AS JSON))",
                 (long long)top_k,
                 c->kind == HIVE_STRING                          ? "%C"
                 : c->kind == HIVE_INT || c->kind == HIVE_BIGINT ? "CAST(%C AS bigint)"
                                                                 : "CAST(%C AS varchar)",
                 (long long)cap);
        metric(b, i, c->name, "top", top);
    }
    if (c->partition) {
        /* value -> rows; the keys are the partitions profiled (few, so exact is cheap) */
        metric(b, i, c->name, "values",
               "json_format(CAST(histogram(CAST(%C AS varchar)) AS JSON))");
    }
}

static int literal(struct weir_strbuf *b, const struct athena_pcol *c, const json_t *v)
{
    char num[32];

    if (json_is_integer(v)) {
        snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    }
    else if (!json_is_string(v)) {
        return athena_host->error_set(WEIR_EINVALID,
                                      "engine.profile: param 'partitions': the "
                                      "value for '%s' must be a string, an integer or an array "
                                      "of those",
                                      c->name);
    }
    const char *text = json_is_string(v) ? json_string_value(v) : num;
    char *end;

    if (hive_kind_numeric(c->kind)) {
        /* only a plain decimal number goes into the SQL unquoted */
        if (!*text || strspn(text, "0123456789.-") != strlen(text) ||
            (strtod(text, &end), *end != '\0')) {
            return athena_host->error_set(WEIR_EINVALID,
                                          "engine.profile: param 'partitions': "
                                          "'%s' is not a number, but partition key '%s' is %s",
                                          text, c->name, c->type);
        }
        sb_add(b, "%s", text);
        return WEIR_OK;
    }
    if (c->kind == HIVE_DATE) {
        sb_add(b, "DATE ");
    }
    sb_quoted(b, text, '\'');
    return WEIR_OK;
}

static int where_clause(struct weir_strbuf *b, const struct athena_plan *plan, const json_t *partitions)
{
    const char *key;
    const json_t *want, *v;
    size_t k, n = 0, i;
    int rc;

    json_object_foreach((json_t *)partitions, key, want) {
        for (k = 0;
             k < plan->ncols && !(plan->cols[k].partition && !strcmp(plan->cols[k].name, key));
             k++) {
        }
        if (k == plan->ncols) {
            return athena_host->error_set(WEIR_EINVALID,
                                          "engine.profile: param 'partitions': "
                                          "'%s' is not a partition key of %s.%s",
                                          key, plan->database, plan->table);
        }
    }
    /* In partition key order, so the text does not depend on the param's key order. */
    for (k = 0; k < plan->ncols; k++) {
        const struct athena_pcol *c = &plan->cols[k];

        if (!c->partition || (want = json_object_get(partitions, c->name)) == NULL ||
            json_is_null(want)) {
            continue;
        }
        sb_add(b, n++ ? "\n  AND " : "\nWHERE ");
        sb_ident(b, c->name);
        if (!json_is_array(want)) {
            sb_add(b, " = ");
            if ((rc = literal(b, c, want)) < 0) {
                return rc;
            }
            continue;
        }
        if (json_array_size(want) == 0) {
            return athena_host->error_set(WEIR_EINVALID,
                                          "engine.profile: param 'partitions': "
                                          "the list for '%s' is empty",
                                          c->name);
        }
        sb_add(b, " IN (");
        json_array_foreach(want, i, v) {
            sb_add(b, i ? ", " : "");
            if ((rc = literal(b, c, v)) < 0) {
                return rc;
            }
        }
        sb_add(b, ")");
    }
    return WEIR_OK;
}

static int add_columns(struct athena_plan *plan, const json_t *cols, int partition,
                       const char *qualified)
{
    const json_t *c;
    size_t i;

    json_array_foreach(cols, i, c) {
        struct athena_pcol *p = &plan->cols[plan->ncols];

        p->name = json_string_value(json_object_get(c, "Name"));
        p->type = json_string_value(json_object_get(c, "Type"));
        p->partition = partition;
        if (!p->name || !*p->name || hive_type_parse(p->type, &p->kind) < 0) {
            return athena_host->error_set(WEIR_EINVALID,
                                          "engine.profile: table %s: column %zu "
                                          "('%s') has no name or an unknown type '%s'",
                                          qualified, i, p->name ? p->name : "",
                                          p->type ? p->type : "");
        }
        plan->ncols++;
    }
    return WEIR_OK;
}

static int plan_init(struct athena_plan *plan, const json_t *table)
{
    const char *db = json_string_value(json_object_get(table, "DatabaseName"));
    const char *name = json_string_value(json_object_get(table, "Name"));
    const json_t *cols = json_object_get(json_object_get(table, "StorageDescriptor"), "Columns");
    const json_t *parts = json_object_get(table, "PartitionKeys");
    size_t n = json_array_size(cols) + json_array_size(parts);
    char qualified[520];
    int rc;

    if (!db || !name || !*db || !*name) {
        return athena_host->error_set(WEIR_EINVALID, "engine.profile: the table definition has "
                                                     "no DatabaseName or Name");
    }
    snprintf(qualified, sizeof(qualified), "%s.%s", db, name);
    plan->database = weir_host_strdup(athena_host, db);
    plan->table = weir_host_strdup(athena_host, name);
    plan->cols = athena_host->malloc((n ? n : 1) * sizeof(*plan->cols));
    if (!plan->database || !plan->table || !plan->cols) {
        return athena_host->error_set(WEIR_ENOMEM, "engine.profile: out of memory");
    }
    memset(plan->cols, 0, (n ? n : 1) * sizeof(*plan->cols));
    if ((rc = add_columns(plan, cols, 0, qualified)) < 0 ||
        (rc = add_columns(plan, parts, 1, qualified)) < 0) {
        return rc;
    }
    return WEIR_OK;
}

int athena_profile_sql(const json_t *table, const json_t *partitions, int64_t top_k,
                       int64_t sample_rows, struct athena_plan *plan, char **sql)
{
    struct weir_strbuf b = { 0 };
    int rc;

    memset(plan, 0, sizeof(*plan));
    *sql = NULL;
    plan->top_k = top_k;
    plan->sample_rows = sample_rows;
    if ((rc = plan_init(plan, table)) < 0) {
        goto done;
    }
    sb_add(&b, "SELECT\n  count(*) AS \"row_count\"");
    for (size_t i = 0; i < plan->ncols; i++) {
        column_metrics(&b, i, &plan->cols[i], top_k);
    }
    sb_add(&b, "\nFROM ");
    if (sample_rows > 0) {
        sb_add(&b, "(\n  SELECT * FROM ");
    }
    sb_ident(&b, plan->database);
    sb_add(&b, ".");
    sb_ident(&b, plan->table);
    if (partitions && (rc = where_clause(&b, plan, partitions)) < 0) {
        goto done;
    }
    if (sample_rows > 0) {
        sb_add(&b, "\n  LIMIT %lld\n)", (long long)sample_rows);
    }
    sb_add(&b, "\n");
    if (b.failed) {
        rc = athena_host->error_set(WEIR_ENOMEM, "engine.profile: out of memory building SQL");
        goto done;
    }
    *sql = b.s;
    b.s = NULL;

done:
    athena_host->free(b.s);
    return rc;
}

void athena_plan_free(struct athena_plan *plan)
{
    athena_host->free(plan->database);
    athena_host->free(plan->table);
    athena_host->free(plan->cols);
    memset(plan, 0, sizeof(*plan));
}
