/*
 * drift_plugin.c - the entry of the drift plugin and its steps:
 * drift.record (keep the day's profile in the stats history) and
 * drift.detect (today's profile against the history, every detector).
 */
#include "drift.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct weir_host_api *drift_host;

/* The date param, or run.date; -1 with the error set when invalid. */
static int day_param(const json_t *input, weir_ctx *ctx, const char *step)
{
    const char *date = json_string_value(json_object_get(input, "date"));
    int day;

    if (!date) {
        date = drift_host->ctx_get(ctx, "run.date");
    }
    day = date && strlen(date) == 10 ? drift_parse_day(date) : -1;
    if (day < 0) {
        drift_host->error_set(WEIR_EINVALID, "drift.%s: date '%s' is not YYYY-MM-DD", step,
                              date ? date : "(none)");
    }
    return day;
}

/* ---- drift.record ---- */

static int run_record(const json_t *input, json_t **out, weir_ctx *ctx, void *payload)
{
    const char *table = json_string_value(json_object_get(input, "table"));
    const json_t *profile = json_object_get(input, "profile");
    json_t *value = NULL, *order = NULL, *put = NULL, *res = NULL, *stats;
    char *uri = NULL, date[11];
    const char *col;
    json_t *cs;
    int rc, day;

    (void)payload;
    if (!table || !drift_table_ok(table)) {
        return drift_host->error_set(WEIR_EINVALID, "drift.record: invalid table name '%s'",
                                     table ? table : "");
    }
    if ((day = day_param(input, ctx, "record")) < 0) {
        return WEIR_EINVALID;
    }
    if (!drift_profile_valid(profile)) {
        return drift_host->error_set(
            WEIR_EINVALID,
            "drift.record: profile must be an engine.profile output (row_count, column_stats)");
    }
    drift_format_day(day, date);
    value = json_deep_copy(profile);
    if (!value || asprintf(&uri, "stats-history/%s/%s.json", table, date) < 0) {
        uri = NULL;
        rc = drift_host->error_set(WEIR_ENOMEM, "drift.record: out of memory");
        goto done;
    }
    /* The store writes sorted keys, which loses the column order the
     * schema detector needs: keep it as a list (unless a copy has it). */
    stats = json_object_get(value, "column_stats");
    if (!json_is_array(json_object_get(value, "column_order"))) {
        order = json_array();
        json_object_foreach(stats, col, cs) {
            json_array_append_new(order, json_string(col));
        }
        json_object_set(value, "column_order", order);
    }
    put = json_pack("{s:s,s:O}", "uri", uri, "value", value);
    if (!put) {
        rc = drift_host->error_set(WEIR_ENOMEM, "drift.record: out of memory");
        goto done;
    }
    if ((rc = drift_host->service_call(ctx, "store", "put", put, &res)) < 0) {
        goto done;
    }
    *out = json_pack("{s:s,s:s,s:s,s:O}", "uri", uri, "table", table, "date", date, "bytes",
                     json_object_get(res, "bytes") ? json_object_get(res, "bytes") : json_null());
    rc = *out ? WEIR_OK : drift_host->error_set(WEIR_ENOMEM, "drift.record: out of memory");
done:
    json_decref(value);
    json_decref(order);
    json_decref(put);
    json_decref(res);
    free(uri);
    return rc;
}

static const struct weir_param_desc record_params[] = {
    { "table", WEIR_PARAM_STRING, 1, NULL, "database.table, as in the catalog" },
    { "date", WEIR_PARAM_STRING, 0, "null", "YYYY-MM-DD the profile is for; default run.date" },
    { "profile", WEIR_PARAM_OBJECT, 1, NULL, "an engine.profile output" },
    { NULL, 0, 0, NULL, NULL },
};

const struct weir_step_desc drift_step_record = {
    WEIR_STEP_DESC_VERSION,
    "record",
    NULL,
    "stores a day's profile at stats-history/<table>/<date>.json (idempotent per date)",
    record_params,
    run_record,
    NULL,
};

/* ---- drift.detect ---- */

#define MAX_DAYS 4096

struct detect {
    weir_ctx *ctx;
    const char *table;
    struct drift_thresholds t;
    const json_t *feedback; /* array or NULL */
    json_t *anomalies, *suppressed, *checked;
    json_t *series; /* per judged metric: its points, verdicts and today's band */
    json_t **profiles; /* history days then today */
    int *days;
    size_t n; /* days in profiles (today is the last) */
    char date[11];
};

/* Whether a feedback entry marks (day, detector, metric, column) as expected.
 * Fields absent from the entry match anything. */
static int expected_by_feedback(const struct detect *d, int day, const char *detector,
                                const char *metric, const char *column)
{
    size_t i;
    const json_t *e;

    json_array_foreach(d->feedback, i, e) {
        const char *fd = json_string_value(json_object_get(e, "date"));
        const char *fdet = json_string_value(json_object_get(e, "detector"));
        const char *fm = json_string_value(json_object_get(e, "metric"));
        const char *fc = json_string_value(json_object_get(e, "column"));

        if ((!fd || drift_parse_day(fd) == day) && (!fdet || strcmp(fdet, detector) == 0) &&
            (!fm || strcmp(fm, metric) == 0) && (!fc || strcmp(fc, column ? column : "") == 0)) {
            return 1;
        }
    }
    return 0;
}

static void add_checked(struct detect *d, const char *detector, const char *metric,
                        const char *column)
{
    json_array_append_new(d->checked,
                          json_pack("{s:s,s:s,s:o}", "detector", detector, "metric", metric,
                                    "column", column ? json_string(column) : json_null()));
}

/* Files the anomaly of today under anomalies, or suppressed when a person said so. */
static void report(struct detect *d, const struct drift_anomaly *a)
{
    json_t *j = drift_anomaly_json(a, d->date);

    if (!j) {
        return;
    }
    if (expected_by_feedback(d, d->days[d->n - 1], a->detector, a->metric, a->column)) {
        json_array_append_new(d->suppressed, j);
    }
    else {
        json_array_append_new(d->anomalies, j);
    }
}

static const json_t *col_stats(const json_t *profile, const char *column)
{
    return json_object_get(json_object_get(profile, "column_stats"), column);
}

/* Value of a series on one day, NAN when absent. */
static double metric_of(const json_t *profile, const char *column, const char *metric)
{
    const json_t *cs, *v;
    double rows, distinct;

    if (!column) {
        v = json_object_get(profile, metric);
        return json_is_number(v) ? json_number_value(v) : NAN;
    }
    cs = col_stats(profile, column);
    if (!cs) {
        return NAN;
    }
    if (strcmp(metric, "duplicate_pct") == 0) {
        rows = json_number_value(json_object_get(profile, "row_count"));
        distinct = json_number_value(json_object_get(cs, "distinct_count"));
        /* every column of a 3-row table looks unique: too few rows say nothing */
        if (rows < 10 || !json_is_number(json_object_get(cs, "distinct_count"))) {
            return NAN;
        }
        /* the sign carries exactness to eval_unique (detect.c) */
        return json_is_true(json_object_get(cs, "distinct_exact")) ? -(distinct / rows)
                                                                   : distinct / rows;
    }
    v = json_object_get(cs, metric);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

/* A judged metric for the report's charts: every point with its verdict
 * (1: flagged when it was judged), and the band today was judged against. */
static void add_series(struct detect *d, const char *detector, const char *metric,
                       const char *column, const struct drift_point *pts,
                       const unsigned char *flags, size_t n, const struct drift_anomaly *a,
                       int fired)
{
    json_t *points = json_array();
    char day[11];

    for (size_t i = 0; i < n; i++) {
        double v = fabs(pts[i].value);

        /* the uniqueness series is distinct/rows (signed for exactness, see
         * metric_of); its chart shows what its band means: duplicate % */
        if (strcmp(metric, "duplicate_pct") == 0) {
            v = (1.0 - fmin(v, 1.0)) * 100.0;
        }
        drift_format_day(pts[i].day, day);
        json_array_append_new(points, json_pack("{s:s,s:f,s:b}", "date", day, "value", v,
                                                "flagged", flags[i] != 0));
    }
    json_array_append_new(
        d->series,
        json_pack("{s:s,s:s,s:o,s:o,s:f,s:f,s:f,s:b}", "detector", detector, "metric", metric,
                  "column", column ? json_string(column) : json_null(), "points", points,
                  "expected_low", a->expected_low, "expected_high", a->expected_high,
                  "observed", a->observed, "anomalous", fired));
}

static void check_series(struct detect *d, enum drift_rule rule, const char *detector,
                         const char *column, const char *metric)
{
    struct drift_point *pts = malloc(d->n * sizeof(*pts));
    unsigned char *exp = calloc(d->n, 1), *flags = calloc(d->n, 1);
    struct drift_anomaly a;
    size_t m = 0;
    int fired;

    if (!pts || !exp || !flags) {
        goto done;
    }
    for (size_t i = 0; i < d->n; i++) {
        double v = metric_of(d->profiles[i], column, metric);

        if (!isnan(v)) {
            pts[m].day = d->days[i];
            pts[m].value = v;
            exp[m] = (unsigned char)expected_by_feedback(d, d->days[i], detector, metric, column);
            m++;
        }
    }
    /* the last point must be today's: a metric absent today is the schema's business */
    if (m == 0 || pts[m - 1].day != d->days[d->n - 1]) {
        goto done;
    }
    if (m - 1 >= (size_t)d->t.min_history) {
        add_checked(d, detector, metric, column);
    }
    /* today is judged without its feedback mark, so report() can suppress it */
    exp[m - 1] = 0;
    memset(&a, 0, sizeof(a));
    fired = drift_check_series(rule, pts, m, exp, &d->t, metric, column, flags, &a);
    if (fired) {
        report(d, &a);
    }
    if (a.has_band) {
        add_series(d, detector, metric, column, pts, flags, m, &a, fired);
    }
done:
    free(pts);
    free(exp);
    free(flags);
}

/* A column's top values on one day (values point into the profile). */
static int cats_of(const json_t *profile, int day, const char *column, struct drift_cats *c,
                   struct drift_cat_value **store)
{
    const json_t *cs = col_stats(profile, column), *top = json_object_get(cs, "top_values"), *e;
    size_t i, n = 0;

    memset(c, 0, sizeof(*c));
    *store = NULL;
    if (!json_is_array(top)) {
        return -1;
    }
    *store = calloc(json_array_size(top) + 1, sizeof(**store));
    if (!*store) {
        return -1;
    }
    json_array_foreach(top, i, e) {
        const char *v = json_string_value(json_object_get(e, "value"));

        if (v && json_is_number(json_object_get(e, "count"))) {
            (*store)[n].value = v;
            (*store)[n].count = json_number_value(json_object_get(e, "count"));
            n++;
        }
    }
    c->day = day;
    c->rows = json_number_value(json_object_get(profile, "row_count")) -
              json_number_value(json_object_get(cs, "null_count"));
    c->values = *store;
    c->n = n;
    c->complete = json_is_true(json_object_get(cs, "top_values_exact")) &&
                  json_number_value(json_object_get(cs, "distinct_count")) <= (double)n;
    return 0;
}

/* Categorical: every value fits in the profile's top list (exact counts),
 * and there are far fewer values than rows. An id or customer column has new
 * values every day by nature, and a date column gets a new value daily; a
 * top list that is cut off would make "new" and "gone" guesses. */
static int categorical(const json_t *profile, const char *column)
{
    const json_t *cs = col_stats(profile, column);
    const char *inf = json_string_value(json_object_get(cs, "inferred_type"));
    double distinct = json_number_value(json_object_get(cs, "distinct_count"));
    double rows = json_number_value(json_object_get(profile, "row_count"));
    size_t listed = json_array_size(json_object_get(cs, "top_values"));

    if (!cs || (inf && (strcmp(inf, "date") == 0 || strcmp(inf, "timestamp") == 0 ||
                        strcmp(inf, "double") == 0))) {
        return 0;
    }
    return json_is_true(json_object_get(cs, "top_values_exact")) && distinct >= 1 &&
           distinct <= (double)listed && distinct <= 0.5 * rows;
}

static void check_categorical(struct detect *d, const char *column)
{
    struct drift_cats *cats = calloc(d->n, sizeof(*cats));
    struct drift_cat_value **stores = calloc(d->n, sizeof(*stores));
    struct drift_anomaly a, found[16];
    size_t nb = 0, k;
    struct drift_cats today;
    struct drift_cat_value *today_store = NULL;

    if (!cats || !stores) {
        goto done;
    }
    for (size_t i = 0; i + 1 < d->n; i++) {
        if (!categorical(d->profiles[i], column)) {
            continue; /* a day it did not look categorical says nothing about its mix */
        }
        if (cats_of(d->profiles[i], d->days[i], column, &cats[nb], &stores[nb]) == 0) {
            nb++;
        }
        else {
            free(stores[nb]);
            stores[nb] = NULL;
        }
    }
    if (nb < (size_t)d->t.min_history || nb == 0 ||
        cats_of(d->profiles[d->n - 1], d->days[d->n - 1], column, &today, &today_store) < 0) {
        goto done;
    }
    add_checked(d, "distribution", "psi", column);
    add_checked(d, "distribution", "categories", column);
    if (drift_check_psi(cats, nb, &today, &d->t, column, &a)) {
        report(d, &a);
    }
    k = drift_check_categories(cats, nb, &today, &d->t, column, found, 16);
    for (size_t i = 0; i < k; i++) {
        report(d, &found[i]);
    }
done:
    for (size_t i = 0; stores && i < d->n; i++) {
        free(stores[i]);
    }
    free(stores);
    free(cats);
    free(today_store);
}

/* The columns of a day, in order when the history kept it. */
/* The data columns of a profile in order: partition keys (profile.partitions)
 * are where files sit, not the schema, and a day read from its partition's
 * files alone does not have them. */
static struct drift_column *columns_of(const json_t *profile, size_t *n, int *ordered)
{
    const json_t *stats = json_object_get(profile, "column_stats");
    const json_t *order = json_object_get(profile, "column_order"), *cs;
    const json_t *parts = json_object_get(profile, "partitions");
    struct drift_column *cols = calloc(json_object_size(stats) + 1, sizeof(*cols));
    size_t i, want = 0;
    const char *name;

    *n = 0;
    *ordered = json_is_array(order);
    if (!cols) {
        return NULL;
    }
    json_object_foreach((json_t *)stats, name, cs) {
        want += json_object_get(parts, name) == NULL;
    }
    if (*ordered) {
        json_t *e;

        json_array_foreach(order, i, e) {
            name = json_string_value(e);
            cs = name && !json_object_get(parts, name) ? json_object_get(stats, name) : NULL;
            if (cs && *n < want) {
                cols[*n].name = name;
                cols[*n].type = json_string_value(json_object_get(cs, "declared_type"));
                cols[*n].type = cols[*n].type ? cols[*n].type : "string";
                (*n)++;
            }
        }
        if (*n == want) {
            return cols;
        }
        *n = 0;
        *ordered = 0; /* an order list that does not cover the columns: ignore it */
    }
    json_object_foreach((json_t *)stats, name, cs) {
        if (!json_object_get(parts, name)) {
            cols[*n].name = name;
            cols[*n].type = json_string_value(json_object_get(cs, "declared_type"));
            cols[*n].type = cols[*n].type ? cols[*n].type : "string";
            (*n)++;
        }
    }
    return cols;
}

static void check_schema(struct detect *d)
{
    struct drift_column *before, *after;
    struct drift_anomaly found[64];
    size_t nb, na, k;
    int ob, oa;

    if (d->n < 2) {
        return;
    }
    before = columns_of(d->profiles[d->n - 2], &nb, &ob);
    after = columns_of(d->profiles[d->n - 1], &na, &oa);
    if (before && after) {
        add_checked(d, "schema", "columns", NULL);
        k = drift_check_schema(before, nb, after, na, found, 64);
        for (size_t i = 0; i < k; i++) {
            /* key order is only known to be the column order when both days kept it */
            if (strcmp(found[i].metric, "column_order") != 0 || (ob && oa)) {
                report(d, &found[i]);
            }
        }
    }
    free(before);
    free(after);
}

static int time_typed(const json_t *cs)
{
    const char *types[] = { json_string_value(json_object_get(cs, "declared_type")),
                            json_string_value(json_object_get(cs, "inferred_type")) };

    for (size_t i = 0; i < 2; i++) {
        if (types[i] &&
            (strncmp(types[i], "date", 4) == 0 || strncmp(types[i], "timestamp", 9) == 0)) {
            return 1;
        }
    }
    return 0;
}

/* Freshness of the date/timestamp columns that kept up with the date on the
 * last history day (so a birth date or a historical column never alarms). */
static void check_freshness(struct detect *d)
{
    const json_t *prev, *today, *cs;
    const char *name;
    struct drift_anomaly a;

    if (d->n < 2) {
        return;
    }
    prev = json_object_get(d->profiles[d->n - 2], "column_stats");
    today = json_object_get(d->profiles[d->n - 1], "column_stats");
    json_object_foreach((json_t *)today, name, cs) {
        const json_t *pcs = json_object_get(prev, name);
        const char *pmax = json_string_value(json_object_get(pcs, "max"));
        const char *tmax = json_string_value(json_object_get(cs, "max"));

        if (!time_typed(cs) || !pmax || !tmax ||
            drift_check_freshness(pmax, d->days[d->n - 2], &d->t, name, &a)) {
            continue;
        }
        add_checked(d, "freshness", "lag_hours", name);
        if (drift_check_freshness(tmax, d->days[d->n - 1], &d->t, name, &a)) {
            report(d, &a);
        }
    }
}

/* Reads a store key as JSON; *value NULL when it does not exist. */
static const char *status_of(const json_t *anomalies)
{
    size_t i;
    const json_t *a;
    const char *st = "ok";

    json_array_foreach(anomalies, i, a) {
        const char *sev = json_string_value(json_object_get(a, "severity"));

        if (sev && strcmp(sev, "error") == 0) {
            return "error";
        }
        st = "warn";
    }
    return st;
}

static int run_detect(const json_t *input, json_t **out, weir_ctx *ctx, void *payload)
{
    struct detect d;
    struct drift_history h = { 0 };
    json_t *today = NULL, *feedback = NULL;
    char *uri = NULL, *fb_uri = NULL;
    const char *fb = json_string_value(json_object_get(input, "feedback_uri"));
    const json_t *given = json_object_get(input, "profile"), *cs;
    const char *col;
    int rc, day;

    (void)payload;
    memset(&d, 0, sizeof(d));
    d.ctx = ctx;
    d.table = json_string_value(json_object_get(input, "table"));
    if (!d.table || !drift_table_ok(d.table)) {
        return drift_host->error_set(WEIR_EINVALID, "drift.detect: invalid table name '%s'",
                                     d.table ? d.table : "");
    }
    if ((day = day_param(input, ctx, "detect")) < 0) {
        return WEIR_EINVALID;
    }
    drift_format_day(day, d.date);
    drift_thresholds_default(&d.t);
    d.t.window_days = (int)json_integer_value(json_object_get(input, "window_days"));
    d.t.min_history = (int)json_integer_value(json_object_get(input, "min_history"));
    if ((rc = drift_thresholds_apply(&d.t, json_object_get(input, "thresholds"))) < 0) {
        return rc;
    }
    if (d.t.min_history < 0 || d.t.min_history > MAX_DAYS) {
        return drift_host->error_set(WEIR_EINVALID, "drift.detect: min_history must be 0..%d",
                                     MAX_DAYS);
    }
    if (d.t.window_days < 1 || d.t.window_days > MAX_DAYS) {
        return drift_host->error_set(WEIR_EINVALID, "drift.detect: window_days must be 1..%d",
                                     MAX_DAYS);
    }
    /* today's profile: given, or the one drift.record stored */
    if (json_is_object(given)) {
        today = json_incref((json_t *)given);
    }
    else {
        if (asprintf(&uri, "stats-history/%s/%s.json", d.table, d.date) < 0) {
            uri = NULL;
            rc = drift_host->error_set(WEIR_ENOMEM, "drift.detect: out of memory");
            goto done;
        }
        if ((rc = drift_store_get_json(ctx, uri, &today)) < 0) {
            goto done;
        }
        if (!today) {
            rc = drift_host->error_set(
                WEIR_ENOTFOUND,
                "drift.detect: no profile of %s for %s at %s (run drift.record first)", d.table,
                d.date, uri);
            goto done;
        }
    }
    if (!drift_profile_valid(today)) {
        rc = drift_host->error_set(
            WEIR_EINVALID, "drift.detect: today's profile of %s has no row_count or column_stats",
            d.table);
        goto done;
    }
    if ((rc = drift_history_read(ctx, d.table, day, d.t.window_days, &h)) < 0) {
        goto done;
    }
    /* feedback: a broken file must not hide today's alarms, so it only warns */
    if (!fb && asprintf(&fb_uri, "contracts/%s.drift-feedback.json", d.table) < 0) {
        fb_uri = NULL;
        rc = drift_host->error_set(WEIR_ENOMEM, "drift.detect: out of memory");
        goto done;
    }
    if (*(fb ? fb : fb_uri) && drift_store_get_json(ctx, fb ? fb : fb_uri, &feedback) < 0) {
        drift_host->log(ctx, WEIR_LOG_WARN, "drift.detect: ignoring feedback %s: %s",
                        fb ? fb : fb_uri, drift_host->error_last());
    }
    if (feedback && !json_is_array(feedback)) {
        drift_host->log(ctx, WEIR_LOG_WARN, "drift.detect: ignoring feedback %s: not a JSON array",
                        fb ? fb : fb_uri);
        json_decref(feedback);
        feedback = NULL;
    }
    d.feedback = feedback;
    d.n = h.n + 1;
    d.profiles = calloc(d.n, sizeof(*d.profiles));
    d.days = calloc(d.n, sizeof(*d.days));
    d.anomalies = json_array();
    d.suppressed = json_array();
    d.checked = json_array();
    d.series = json_array();
    if (!d.profiles || !d.days || !d.anomalies || !d.suppressed || !d.checked || !d.series) {
        rc = drift_host->error_set(WEIR_ENOMEM, "drift.detect: out of memory");
        goto done;
    }
    for (size_t i = 0; i < h.n; i++) {
        d.profiles[i] = h.days[i].profile;
        d.days[i] = h.days[i].day;
    }
    d.profiles[h.n] = today;
    d.days[h.n] = day;

    check_schema(&d);
    check_freshness(&d);
    check_series(&d, DRIFT_VOLUME, "volume", NULL, "row_count");
    json_object_foreach(json_object_get(today, "column_stats"), col, cs) {
        if ((rc = drift_host->ctx_check(ctx)) < 0) {
            goto done;
        }
        check_series(&d, DRIFT_NULLS, "completeness", col, "null_pct");
        check_series(&d, DRIFT_UNIQUE, "uniqueness", col, "duplicate_pct");
        if (!time_typed(cs)) {
            check_series(&d, DRIFT_SHIFT, "distribution", col, "p50");
            check_series(&d, DRIFT_SHIFT, "distribution", col, "p95");
            check_series(&d, DRIFT_SHIFT, "distribution", col, "mean");
        }
        /* today's list may have grown past the top list: judged against the
         * days that were categorical */
        if (json_is_array(json_object_get(cs, "top_values")) && !time_typed(cs)) {
            check_categorical(&d, col);
        }
    }
    *out = json_pack("{s:s,s:s,s:I,s:I,s:O,s:O,s:O,s:O,s:s}", "table", d.table, "date", d.date,
                     "history_days", (json_int_t)h.n, "skipped_files", (json_int_t)h.skipped,
                     "anomalies", d.anomalies, "suppressed", d.suppressed, "checked", d.checked,
                     "series", d.series, "status", status_of(d.anomalies));
    rc = *out ? WEIR_OK : drift_host->error_set(WEIR_ENOMEM, "drift.detect: out of memory");
done:
    drift_history_free(&h);
    json_decref(today);
    json_decref(feedback);
    json_decref(d.anomalies);
    json_decref(d.suppressed);
    json_decref(d.checked);
    json_decref(d.series);
    free(d.profiles);
    free(d.days);
    free(uri);
    free(fb_uri);
    return rc;
}

static const struct weir_param_desc detect_params[] = {
    { "table", WEIR_PARAM_STRING, 1, NULL, "database.table, as in the catalog" },
    { "date", WEIR_PARAM_STRING, 0, "null", "YYYY-MM-DD to judge; default run.date" },
    { "profile", WEIR_PARAM_OBJECT, 0, "null",
      "today's profile; default stats-history/<table>/<date>.json" },
    { "window_days", WEIR_PARAM_INTEGER, 0, "28",
      "days of history before the date used as baseline" },
    { "min_history", WEIR_PARAM_INTEGER, 0, "5",
      "baseline days before a statistical detector fires" },
    { "feedback_uri", WEIR_PARAM_STRING, 0, "null",
      "alarms marked expected; default contracts/<table>.drift-feedback.json, \"\": none" },
    { "thresholds", WEIR_PARAM_OBJECT, 0, "null", "overrides of the detector thresholds (README)" },
    { NULL, 0, 0, NULL, NULL },
};

const struct weir_step_desc drift_step_detect = {
    WEIR_STEP_DESC_VERSION,
    "detect",
    NULL,
    "judges a day's profile against the stats history: volume, completeness, uniqueness, "
    "distribution, schema, freshness",
    detect_params,
    run_detect,
    NULL,
};

WEIR_PLUGIN_ENTRY(drift)
{
    struct weir_plugin_info info = WEIR_PLUGIN_INFO_INIT;
    int rc;

    WEIR_PLUGIN_CHECK_ABI(host);
    drift_host = host;
    info.description =
        "stats history and drift detection: record a day's profile, detect anomalies";
    info.plugin_version = "0.1.0";
    if ((rc = host->plugin_describe(reg, &info)) < 0 ||
        (rc = host->step_register(reg, &drift_step_record)) < 0 ||
        (rc = host->step_register(reg, &drift_step_detect)) < 0 ||
        (rc = host->step_register(reg, &drift_step_report)) < 0) {
        return rc;
    }
    return WEIR_OK;
}
