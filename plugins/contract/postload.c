/*
 * postload.c - contract.postload: runs a table's post-load tests and the
 * contract's table-level checks on the engine of the current target, for
 * one day (the table's first partition key = the date, when it has one),
 * and writes results/<table>/<date>.json through the store.
 *
 * The artifact holds no durations (they go only into the step output), so
 * rerunning on unchanged data writes the same bytes.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "export.h"
#include "sqlgen.h"

static const struct weir_param_desc postload_params[] = {
    { "table", WEIR_PARAM_STRING, 1, NULL, "database.table" },
    { "tests_uri", WEIR_PARAM_STRING, 0, NULL, "store key of the tests (default tests/<table>.json); \"\": none" },
    { "contract_uri", WEIR_PARAM_STRING, 0, NULL,
      "store key of the contract (default contracts/<table>.json); \"\": none" },
    { "results_uri", WEIR_PARAM_STRING, 0, NULL, "where results go (default results/<table>/<date>.json)" },
    { "date", WEIR_PARAM_STRING, 0, NULL, "the day checked, YYYY-MM-DD (default run.date)" },
    { "partition_column", WEIR_PARAM_STRING, 0, NULL,
      "column narrowing the checks to the date (default: the table's first partition key; \"\": whole table)" },
    { "contract_rules", WEIR_PARAM_STRING, 0, "\"table\"",
      "contract rules run: table (table-level checks and foreign keys), all (row rules too), none" },
    { "sample_rows", WEIR_PARAM_INTEGER, 0, "5", "failing rows kept per failed test" },
    { "history_days", WEIR_PARAM_INTEGER, 0, "7", "days of stats-history for row_count_anomaly" },
    { NULL, WEIR_PARAM_ANY, 0, NULL, NULL },
};

struct run {
    weir_ctx *ctx;
    const char *table;
    const char *date;
    long sample_rows;
    long history_days;
    enum sqlgen_dialect dialect;
    struct sqlgen_source src;
    char *partition;
    json_t *results;   /* array of result objects */
    json_t *durations; /* parallel array of integers */
};

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *param_str(const json_t *input, const char *key)
{
    return json_string_value(json_object_get(input, key));
}

/* store.get as JSON; WEIR_ENOTFOUND when absent (message set). */
static int store_get_json(weir_ctx *ctx, const char *uri, json_t **value)
{
    json_t *in = json_pack("{s:s,s:s}", "uri", uri, "as", "json"), *out = NULL;
    int rc = contract_host->service_call(ctx, "store", "get", in, &out);

    json_decref(in);
    *value = NULL;
    if (rc == WEIR_OK) {
        *value = json_incref(json_object_get(out, "value"));
    }
    json_decref(out);
    return rc;
}

static int engine_query(struct run *r, const char *sql, long max_rows, json_t **out)
{
    json_t *in = json_pack("{s:s,s:I}", "sql", sql, "max_rows", (json_int_t)max_rows);
    int rc = contract_host->service_call(r->ctx, "engine", "query", in, out);

    json_decref(in);
    return rc;
}

/* Engine rows as objects keyed by column name, at most n. */
static json_t *rows_as_objects(const json_t *res, long n)
{
    const json_t *cols = json_object_get(res, "columns"), *row;
    json_t *out = json_array();
    size_t i;

    json_array_foreach(json_object_get(res, "rows"), i, row) {
        json_t *o = json_object();

        if ((long)i >= n) {
            break;
        }
        for (size_t k = 0; k < json_array_size(row); k++) {
            const char *name = json_string_value(json_object_get(json_array_get(cols, k), "name"));

            json_object_set(o, name ? name : "?", json_array_get(row, k));
        }
        json_array_append_new(out, o);
    }
    return out;
}

/* The single numeric value of a one-row, one-column result, else NAN. */
static double single_number(const json_t *res)
{
    const json_t *rows = json_object_get(res, "rows"), *row = json_array_get(rows, 0);

    if (json_array_size(rows) == 1 && json_array_size(row) == 1 && json_is_number(json_array_get(row, 0))) {
        return json_number_value(json_array_get(row, 0));
    }
    return NAN;
}

static json_t *number_json(double v)
{
    if (isnan(v)) {
        return json_null();
    }
    if (v == floor(v) && fabs(v) < 9e15) {
        return json_integer((json_int_t)v);
    }
    return json_real(round(v * 1e6) / 1e6);
}

static void add_result(struct run *r, const char *name, const char *source, const char *status,
                       json_t *observed, const char *expectation, int is_error, json_t *sample,
                       const char *message, int64_t started)
{
    json_t *o = json_pack("{s:s,s:s,s:s,s:o,s:s,s:s,s:o}", "name", name, "source", source, "status", status,
                          "observed", observed ? observed : json_null(), "expectation",
                          expectation ? expectation : "", "severity", is_error ? "error" : "warn",
                          "sample", sample ? sample : json_array());

    if (message) {
        json_object_set_new(o, "message", json_string(message));
    }
    json_array_append_new(r->results, o);
    json_array_append_new(r->durations, json_integer(mono_ms() - started));
}

/* ---- SQL tests ---------------------------------------------------------- */

/* Runs a query whose failures are either its single number or its rows. */
static void run_sql_check(struct run *r, const char *name, const char *source, const char *sql,
                          const char *sample_sql, double threshold, int is_error, int64_t started)
{
    json_t *res = NULL, *sample = NULL, *rows = NULL;
    char expect[64];
    double count;

    if (engine_query(r, sql, 10000, &res) < 0) {
        add_result(r, name, source, "error", NULL, NULL, is_error, NULL, contract_host->error_last(), started);
        return;
    }
    count = single_number(res);
    if (isnan(count)) {
        count = (double)json_array_size(json_object_get(res, "rows"));
        sample = rows_as_objects(res, r->sample_rows);
    }
    if (!sample && count > threshold && sample_sql && engine_query(r, sample_sql, r->sample_rows, &rows) == WEIR_OK) {
        sample = rows_as_objects(rows, r->sample_rows);
        json_decref(rows);
    }
    if (threshold > 0) {
        snprintf(expect, sizeof(expect), "failures <= %.15g", threshold);
    }
    else {
        snprintf(expect, sizeof(expect), "failures == 0");
    }
    add_result(r, name, source, count <= threshold ? "pass" : "fail", number_json(count), expect, is_error,
               count <= threshold ? NULL : sample, json_is_true(json_object_get(res, "truncated"))
                   ? "more rows than the engine returned; the count is a lower bound" : NULL, started);
    if (count <= threshold) {
        json_decref(sample);
    }
    json_decref(res);
}

static double test_threshold(const json_t *t)
{
    const json_t *e = json_object_get(t, "expect"), *th = json_object_get(t, "threshold");

    if (json_is_number(th)) {
        return json_number_value(th);
    }
    if (json_is_object(e) && json_is_number(json_object_get(e, "max"))) {
        return json_number_value(json_object_get(e, "max"));
    }
    return 0;
}

static int severity_is_error(const json_t *t)
{
    const char *s = json_string_value(json_object_get(t, "severity"));

    return !s || strcmp(s, "warn") != 0;
}

static void run_tests(struct run *r, const json_t *tests)
{
    const json_t *t;
    size_t i;

    if (json_is_object(tests)) {
        tests = json_object_get(tests, "tests");
    }
    json_array_foreach(tests, i, t) {
        const char *name = json_string_value(json_object_get(t, "name"));
        const char *sql = json_string_value(json_object_get(t, "sql"));
        const char *rule = json_string_value(json_object_get(t, "rule"));
        const char *stage = json_string_value(json_object_get(t, "stage"));
        int64_t started = mono_ms();
        char fallback[32], *scoped = NULL, *check = NULL, *from = NULL, *sample = NULL;

        if (!name) {
            snprintf(fallback, sizeof(fallback), "tests[%zu]", i);
            name = fallback;
        }
        if (sql && (!stage || !strcmp(stage, "post_load"))) {
            scoped = sqlgen_scope(sql, &r->src);
            run_sql_check(r, name, "tests", scoped ? scoped : sql, NULL, test_threshold(t),
                          severity_is_error(t), started);
        }
        else if (rule) {
            /* a row rule (pre-load) re-checked on what was loaded */
            from = sqlgen_from(&r->src);
            if (from && strchr(rule, ';') == NULL &&
                asprintf(&check, "SELECT COUNT(*) AS failures FROM %s AS t WHERE NOT (%s)", from, rule) > 0 &&
                asprintf(&sample, "SELECT * FROM %s AS t WHERE NOT (%s) LIMIT %ld", from, rule, r->sample_rows) > 0) {
                run_sql_check(r, name, "tests", check, sample, test_threshold(t), severity_is_error(t), started);
            }
            else {
                add_result(r, name, "tests", "error", NULL, NULL, severity_is_error(t), NULL,
                           "rule is not one SQL boolean expression", started);
            }
        }
        else {
            add_result(r, name, "tests", "skipped", NULL, NULL, severity_is_error(t), NULL,
                       sql ? "not a post_load test" : "no sql and no rule", started);
        }
        free(scoped);
        free(check);
        free(sample);
        free(from);
    }
}

/* ---- contract checks ----------------------------------------------------- */

static int day_offset(const char *date, int days, char out[11])
{
    struct tm tm = { 0 };
    time_t t;

    if (!date || strlen(date) != 10 || !strptime(date, "%Y-%m-%d", &tm)) {
        return -1;
    }
    t = timegm(&tm) + (time_t)days * 86400;
    gmtime_r(&t, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
    return 0;
}

/* Row counts of the previous days from stats-history/<table>/<day>.json. */
static int history_counts(struct run *r, long days, double *sum, int *n)
{
    char day[11], *uri = NULL;
    json_t *v = NULL;
    int rc;

    *sum = 0;
    *n = 0;
    for (long k = 1; k <= days; k++) {
        if (day_offset(r->date, (int)-k, day) < 0 ||
            asprintf(&uri, "stats-history/%s/%s.json", r->table, day) < 0) {
            return contract_host->error_set(WEIR_EINVALID, "date '%s' is not YYYY-MM-DD", r->date);
        }
        rc = store_get_json(r->ctx, uri, &v);
        if (rc == WEIR_OK && json_is_number(json_object_get(v, "row_count"))) {
            *sum += json_number_value(json_object_get(v, "row_count"));
            (*n)++;
        }
        json_decref(v);
        /* a missing day is a gap in the history; an unreadable one is an error */
        if (rc < 0 && rc != WEIR_ENOTFOUND) {
            rc = contract_host->error_set(rc, "%s: %s", uri, contract_host->error_last());
            free(uri);
            return rc;
        }
        free(uri);
        uri = NULL;
    }
    return WEIR_OK;
}

static void run_anomaly(struct run *r, const struct contract_rule *rule, double count, int64_t started)
{
    const json_t *pct = json_object_get(rule->spec, "max_change_pct");
    const json_t *win = json_object_get(rule->spec, "window_days");
    double max_pct = json_is_number(pct) ? json_number_value(pct) : 20, sum, avg, change;
    long days = json_is_integer(win) ? (long)json_integer_value(win) : r->history_days;
    char expect[96], msg[128];
    int n;

    if (history_counts(r, days, &sum, &n) < 0) {
        add_result(r, rule->name, "contract", "error", NULL, NULL, rule->is_error, NULL,
                   contract_host->error_last(), started);
        return;
    }
    if (n < 3) {
        snprintf(msg, sizeof(msg), "insufficient history: %d of the previous %ld days (3 needed)", n, days);
        add_result(r, rule->name, "contract", "pass", number_json(count), "enough history", rule->is_error,
                   NULL, msg, started);
        return;
    }
    avg = sum / n;
    change = avg > 0 ? (count - avg) / avg * 100.0 : (count > 0 ? 100.0 : 0.0);
    snprintf(expect, sizeof(expect), "row count within %.15g%% of the %d-day average %.15g", max_pct, n,
             round(avg * 100) / 100);
    snprintf(msg, sizeof(msg), "change %+.1f%%", change);
    add_result(r, rule->name, "contract", fabs(change) <= max_pct ? "pass" : "fail", number_json(count),
               expect, rule->is_error, NULL, msg, started);
}

/* A table check measured by a metric query and judged here against its bounds. */
static void run_metric(struct run *r, const struct contract_rule *rule, const char *metric_sql,
                       int64_t started)
{
    const json_t *lo = json_object_get(rule->spec, "min"), *hi = json_object_get(rule->spec, "max");
    json_t *res = NULL;
    const char *what;
    char expect[96];
    double v;
    int ok;

    if (engine_query(r, metric_sql, 2, &res) < 0) {
        add_result(r, rule->name, "contract", "error", NULL, NULL, rule->is_error, NULL,
                   contract_host->error_last(), started);
        return;
    }
    v = single_number(res);
    json_decref(res);
    if (rule->kind == CK_ROW_COUNT_ANOMALY) {
        run_anomaly(r, rule, isnan(v) ? 0 : v, started);
        return;
    }
    if (rule->kind == CK_FRESHNESS_SLA) {
        lo = NULL;
        hi = json_object_get(rule->spec, "max_lag_hours");
    }
    else if (rule->kind == CK_NULL_RATIO_MAX) {
        lo = NULL;
    }
    ok = !isnan(v) && (!json_is_number(lo) || v >= json_number_value(lo)) &&
         (!json_is_number(hi) || v <= json_number_value(hi));
    what = rule->kind == CK_FRESHNESS_SLA ? "hours since the newest row"
           : rule->kind == CK_NULL_RATIO_MAX ? "null ratio"
           : rule->kind == CK_DISTINCT_COUNT_RANGE ? "distinct values" : "row count";
    if (json_is_number(lo) && json_is_number(hi)) {
        snprintf(expect, sizeof(expect), "%s between %.15g and %.15g", what, json_number_value(lo),
                 json_number_value(hi));
    }
    else {
        snprintf(expect, sizeof(expect), "%s %s %.15g", what, json_is_number(lo) ? ">=" : "<=",
                 json_number_value(json_is_number(lo) ? lo : hi));
    }
    add_result(r, rule->name, "contract", ok ? "pass" : "fail", number_json(v), expect, rule->is_error, NULL,
               isnan(v) ? "no value (no rows)" : NULL, started);
}

static int rule_selected(const struct contract_rule *rule, const char *which)
{
    switch (rule->kind) {
    case CK_UNIQUE:
    case CK_GRAIN_UNIQUE:
    case CK_FOREIGN_KEY:
    case CK_ROW_COUNT_RANGE:
    case CK_ROW_COUNT_ANOMALY:
    case CK_FRESHNESS_SLA:
    case CK_NULL_RATIO_MAX:
    case CK_DISTINCT_COUNT_RANGE:
    case CK_CUSTOM_SQL:
        return strcmp(which, "none") != 0;
    case CK_SCHEMA_COLUMNS:
    case CK_DISTRIBUTION_DRIFT:
        return 0;
    default:
        return !strcmp(which, "all");
    }
}

static void run_contract(struct run *r, const struct contract *c, const char *which)
{
    for (size_t i = 0; i < c->nrules; i++) {
        const struct contract_rule *rule = &c->rules[i];
        struct sqlgen_query q;
        int64_t started = mono_ms();
        json_t *res = NULL, *sample = NULL;
        double failures;
        int dup = 0;

        for (size_t k = 0; k < json_array_size(r->results); k++) {
            dup |= !strcmp(json_string_value(json_object_get(json_array_get(r->results, k), "name")),
                           rule->name);
        }
        if (dup || !rule_selected(rule, which)) {
            continue;
        }
        if (sqlgen_rule(r->dialect, &r->src, rule, r->sample_rows, &q) < 0) {
            add_result(r, rule->name, "contract", "error", NULL, NULL, rule->is_error, NULL,
                       contract_host->error_last(), started);
            continue;
        }
        if (q.skip) {
            add_result(r, rule->name, "contract", "skipped", NULL, NULL, rule->is_error, NULL, q.skip, started);
        }
        else if (q.metric_sql) {
            run_metric(r, rule, q.metric_sql, started);
        }
        else if (q.raw) {
            run_sql_check(r, rule->name, "contract", q.sql, NULL, test_threshold(rule->spec), rule->is_error,
                          started);
        }
        else if (engine_query(r, q.sql, 2, &res) < 0) {
            add_result(r, rule->name, "contract", "error", NULL, NULL, rule->is_error, NULL,
                       contract_host->error_last(), started);
        }
        else {
            failures = single_number(res);
            json_decref(res);
            res = NULL;
            if (failures > 0 && q.sample_sql && engine_query(r, q.sample_sql, r->sample_rows, &res) == WEIR_OK) {
                sample = rows_as_objects(res, r->sample_rows);
            }
            add_result(r, rule->name, "contract", failures == 0 ? "pass" : "fail", number_json(failures),
                       "failures == 0", rule->is_error, sample, NULL, started);
        }
        json_decref(res);
        sqlgen_query_free(&q);
    }
}

/* ---- the step ------------------------------------------------------------- */

static int setup(struct run *r, const json_t *input)
{
    const char *pc = param_str(input, "partition_column");
    json_t *in, *out = NULL;
    int d;

    in = json_object();
    if (contract_host->service_call(r->ctx, "engine", "dialect", in, &out) == WEIR_OK &&
        (d = sqlgen_dialect_parse(json_string_value(json_object_get(out, "dialect")))) >= 0) {
        r->dialect = (enum sqlgen_dialect)d;
    }
    else {
        r->dialect = SQLGEN_TRINO;
    }
    json_decref(in);
    json_decref(out);
    out = NULL;
    if (pc) {
        r->partition = *pc ? strdup(pc) : NULL;
    }
    else {
        in = json_pack("{s:s}", "table", r->table);
        if (contract_host->service_call(r->ctx, "catalog", "get_table", in, &out) == WEIR_OK) {
            pc = json_string_value(json_object_get(
                json_array_get(json_object_get(json_object_get(out, "Table"), "PartitionKeys"), 0), "Name"));
            r->partition = pc ? strdup(pc) : NULL;
        }
        else {
            contract_host->log(r->ctx, WEIR_LOG_WARN, "contract.postload: %s: no partition key known (%s); "
                               "checking the whole table", r->table, contract_host->error_last());
        }
        json_decref(in);
        json_decref(out);
    }
    r->src.table = r->table;
    r->src.filter_column = r->partition;
    r->src.filter_value = r->partition ? r->date : NULL;
    r->src.date = r->date;
    return WEIR_OK;
}

/* Reads uri (param key, default "<dir>/<table>.json"); "" reads nothing. */
static int load_artifact(struct run *r, const json_t *input, const char *key, const char *dir, json_t **v)
{
    const char *uri = param_str(input, key);
    char *def = NULL;
    int rc = WEIR_OK;

    *v = NULL;
    if (uri && !*uri) {
        return WEIR_OK;
    }
    if (!uri) {
        if (asprintf(&def, "%s/%s.json", dir, r->table) < 0) {
            return contract_host->error_set(WEIR_ENOMEM, "out of memory");
        }
        uri = def;
    }
    if ((rc = store_get_json(r->ctx, uri, v)) < 0) {
        rc = contract_host->error_set(rc, "contract.postload: %s: cannot read %s: %s", r->table, uri,
                                      contract_host->error_last());
    }
    free(def);
    return rc;
}

static int run_postload(const json_t *input, json_t **out, weir_ctx *ctx, void *payload)
{
    struct run r = { .ctx = ctx };
    json_t *tests = NULL, *cdoc = NULL, *errors = NULL, *artifact = NULL, *put = NULL, *putout = NULL;
    struct contract *c = NULL;
    const char *which = param_str(input, "contract_rules"), *ruri = param_str(input, "results_uri");
    char *def_ruri = NULL, *failed_names = NULL, probe[11];
    size_t i, nfail_err = 0, len = 0;
    int rc, counts[4] = { 0 };
    const json_t *res;

    (void)payload;
    r.table = param_str(input, "table");
    r.date = param_str(input, "date");
    if (!r.date) {
        r.date = contract_host->ctx_get(ctx, "run.date");
    }
    r.sample_rows = (long)json_integer_value(json_object_get(input, "sample_rows"));
    r.history_days = (long)json_integer_value(json_object_get(input, "history_days"));
    which = which ? which : "table";
    r.results = json_array();
    r.durations = json_array();
    if (!r.table || !r.date || day_offset(r.date, 0, probe) < 0) {
        rc = contract_host->error_set(WEIR_EINVALID, "contract.postload: needs table and a date YYYY-MM-DD");
        goto done;
    }
    if (strcmp(which, "table") && strcmp(which, "all") && strcmp(which, "none")) {
        rc = contract_host->error_set(WEIR_EINVALID, "contract.postload: contract_rules must be table, all or none");
        goto done;
    }
    if ((rc = load_artifact(&r, input, "tests_uri", "tests", &tests)) < 0 ||
        (rc = load_artifact(&r, input, "contract_uri", "contracts", &cdoc)) < 0 || (rc = setup(&r, input)) < 0) {
        goto done;
    }
    if (cdoc) {
        const json_t *dq = json_object_get(cdoc, "data_quality");

        if ((rc = contract_parse(r.table, dq ? dq : cdoc, NULL, &c, &errors)) < 0) {
            char *text = json_dumps(errors, JSON_COMPACT);

            rc = contract_host->error_set(rc, "contract.postload: %s: invalid contract: %s", r.table,
                                          text ? text : contract_host->error_last());
            free(text);
            goto done;
        }
    }
    if (tests) {
        run_tests(&r, tests);
    }
    if (c) {
        run_contract(&r, c, which);
    }
    json_array_foreach(r.results, i, res) {
        const char *st = json_string_value(json_object_get(res, "status"));
        int err = !strcmp(json_string_value(json_object_get(res, "severity")), "error");

        counts[!strcmp(st, "pass") ? 0 : !strcmp(st, "fail") ? 1 : !strcmp(st, "error") ? 2 : 3]++;
        if (err && (!strcmp(st, "fail") || !strcmp(st, "error"))) {
            const char *name = json_string_value(json_object_get(res, "name"));
            char *grown = realloc(failed_names, len + strlen(name) + 3);

            if (grown) {
                failed_names = grown;
                len += (size_t)sprintf(failed_names + len, "%s%s", nfail_err ? ", " : "", name);
            }
            nfail_err++;
        }
    }
    artifact = json_pack("{s:s,s:s,s:O,s:i,s:i,s:i,s:i,s:s?}", "table", r.table, "date", r.date, "results",
                         r.results, "passed", counts[0], "failed", counts[1], "errors", counts[2], "skipped",
                         counts[3], "partition_column", r.partition);
    if (!ruri && asprintf(&def_ruri, "results/%s/%s.json", r.table, r.date) < 0) {
        rc = contract_host->error_set(WEIR_ENOMEM, "out of memory");
        goto done;
    }
    put = json_pack("{s:s,s:O}", "uri", ruri ? ruri : def_ruri, "value", artifact);
    if ((rc = contract_host->service_call(ctx, "store", "put", put, &putout)) < 0) {
        goto done;
    }
    /* the step output carries the durations; the artifact does not */
    json_array_foreach(r.results, i, res) {
        json_object_set((json_t *)res, "duration_ms", json_array_get(r.durations, i));
    }
    json_object_set(artifact, "results_uri", json_object_get(putout, "uri"));
    if (nfail_err > 0) {
        rc = contract_host->error_set(WEIR_ERROR, "contract.postload: %s %s: %zu error-severity test%s failed: %s",
                                      r.table, r.date, nfail_err, nfail_err == 1 ? "" : "s",
                                      failed_names ? failed_names : "");
        goto done;
    }
    *out = artifact;
    artifact = NULL;
    rc = WEIR_OK;

done:
    free(failed_names);
    free(def_ruri);
    free(r.partition);
    contract_free(c);
    json_decref(errors);
    json_decref(tests);
    json_decref(cdoc);
    json_decref(artifact);
    json_decref(put);
    json_decref(putout);
    json_decref(r.results);
    json_decref(r.durations);
    return rc;
}

int contract_register_postload(weir_registry *reg)
{
    const struct weir_step_desc postload = {
        .version = WEIR_STEP_DESC_VERSION,
        .name = "postload",
        .description = "run a table's post-load tests and table checks on the engine; write results/<table>/<date>.json",
        .params = postload_params,
        .run = run_postload,
    };
    int rc;

    if ((rc = contract_host->step_register(reg, &postload)) < 0) {
        return rc;
    }
    return contract_register_export(reg);
}
