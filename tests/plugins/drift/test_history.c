/*
 * test_history.c - drift.record, the history reader and drift.detect through
 * the loaded plugins (drift.so with fs.so as the store), in a temp project:
 * idempotent records, gaps and torn files in the history, paging, and the
 * feedback file.
 */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctx.h"
#include "drift.h"
#include "error.h"
#include "plugins.h"

const struct weir_host_api *drift_host;

static struct weir_plugins *plugins;
static json_t *services;

struct fixture {
    char *project;
    struct weir_ctx ctx;
};

static int group_setup(void **state)
{
    (void)state;
    drift_host = weir_host_api_get();
    services = json_pack("{s:s}", "store", "fs");
    if (weir_plugins_new(&plugins) != WEIR_OK ||
        weir_plugins_load_dir(plugins, tu_env("WEIR_PLUGIN_DIR")) != WEIR_OK) {
        fprintf(stderr, "loading plugins: %s\n", weir_error_last());
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    weir_plugins_free(plugins);
    json_decref(services);
    return 0;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    if (!f || !(f->project = tu_mkdtemp())) {
        return -1;
    }
    f->ctx.run_id = "r1";
    f->ctx.run_date = "2026-10-20";
    f->ctx.target = "local";
    f->ctx.step_id = "drift";
    f->ctx.workspace = f->project;
    f->ctx.project = f->project;
    f->ctx.plugins = plugins;
    f->ctx.services = services;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    tu_rmtree(f->project);
    free(f->project);
    free(f);
    return 0;
}

/* Runs drift.<step>; `with` is stolen. */
static int call(struct fixture *f, const char *step, json_t *with, json_t **out)
{
    const struct weir_step_def *def = weir_plugins_find_step(plugins, "drift", step);
    int rc;

    assert_non_null(def);
    assert_non_null(with);
    *out = NULL;
    rc = weir_step_invoke(def, with, out, &f->ctx);
    json_decref(with);
    return rc;
}

static json_t *ok(struct fixture *f, const char *step, json_t *with)
{
    json_t *out = NULL;
    int rc = call(f, step, with, &out);

    if (rc != WEIR_OK) {
        fail_msg("drift.%s: %d %s", step, rc, weir_error_last());
    }
    return out;
}

static double noise(int i)
{
    return sin(i * 12.9898) * 0.999;
}

/* One column's stats with the fields every column has. */
static json_t *column(const char *type, const char *inferred, json_int_t distinct)
{
    json_t *o = json_object();

    json_object_set_new(o, "declared_type", json_string(type));
    json_object_set_new(o, "inferred_type", json_string(inferred));
    json_object_set_new(o, "null_pct", json_real(0.0));
    json_object_set_new(o, "null_count", json_integer(0));
    json_object_set_new(o, "distinct_count", json_integer(distinct));
    json_object_set_new(o, "distinct_exact", json_true());
    return o;
}

static void top_value(json_t *top, const char *value, long count)
{
    json_t *e = json_object();

    json_object_set_new(e, "value", json_string(value));
    json_object_set_new(e, "count", json_integer(count));
    json_array_append_new(top, e);
}

/* A profile shaped like engine.profile's, for day i of a steady table. */
static json_t *profile(int i, long rows, double status_c_share)
{
    long c = (long)(rows * status_c_share), a = (rows - c) * 6 / 10, b = rows - c - a;
    json_t *id = column("bigint", "integer", rows), *status = column("string", "string", 3);
    json_t *dt = column("date", "date", 1), *top = json_array(), *stats = json_object();
    json_t *p = json_object();

    json_object_set_new(id, "min", json_real(1.0));
    json_object_set_new(id, "max", json_real((double)rows));
    json_object_set_new(id, "mean", json_real(50.0 + noise(i)));
    json_object_set_new(id, "p50", json_real(48.0 + noise(i + 1)));
    json_object_set_new(id, "p95", json_real(95.0 + noise(i + 2)));
    top_value(top, "a", a);
    top_value(top, "b", b);
    top_value(top, "c", c);
    json_object_set_new(status, "top_values", top);
    json_object_set_new(status, "top_values_exact", json_true());
    json_object_set_new(dt, "min", json_string("x"));
    json_object_set_new(dt, "max", json_string("x"));
    json_object_set_new(stats, "id", id);
    json_object_set_new(stats, "status", status);
    json_object_set_new(stats, "dt", dt);
    json_object_set_new(p, "table", json_string("db.t"));
    json_object_set_new(p, "row_count", json_integer(rows));
    json_object_set_new(p, "files", json_integer(1));
    json_object_set_new(p, "column_stats", stats);
    return p;
}

/* Sets dt's min/max to the date of `day`. */
static void set_dt(json_t *p, int day)
{
    char d[11];
    json_t *dt = json_object_get(json_object_get(p, "column_stats"), "dt");

    drift_format_day(day, d);
    json_object_set_new(dt, "min", json_string(d));
    json_object_set_new(dt, "max", json_string(d));
}

static json_t *record_with(int day, json_t *prof)
{
    char d[11];

    drift_format_day(day, d);
    set_dt(prof, day);
    return json_pack("{s:s,s:s,s:o}", "table", "db.t", "date", d, "profile", prof);
}

static long rows_of(int i)
{
    return 1000 + (long)(noise(i) * 20);
}

static void record_days(struct fixture *f, int first, int n, int skip)
{
    for (int i = 0; i < n; i++) {
        if (i != skip) {
            json_decref(ok(f, "record", record_with(first + i, profile(i, rows_of(i), 0.2))));
        }
    }
}

static void test_record_idempotent(void **state)
{
    struct fixture *f = *state;
    json_t *out;
    char *path = NULL, *first, *second;
    size_t n1, n2;

    out = ok(f, "record", record_with(drift_parse_day("2026-10-01"), profile(0, 1000, 0.2)));
    assert_string_equal(json_string_value(json_object_get(out, "uri")),
                        "stats-history/db.t/2026-10-01.json");
    json_decref(out);
    assert_true(asprintf(&path, "%s/lake/stats-history/db.t/2026-10-01.json", f->project) >= 0);
    first = tu_read_file(path, &n1);
    assert_non_null(first);
    /* the column order survives the store's sorted keys */
    assert_non_null(strstr(first, "\"column_order\":[\"id\",\"status\",\"dt\"]"));
    json_decref(ok(f, "record", record_with(drift_parse_day("2026-10-01"), profile(0, 1000, 0.2))));
    second = tu_read_file(path, &n2);
    assert_int_equal(n1, n2);
    assert_memory_equal(first, second, n1);
    /* the date defaults to run.date; a bad date or profile is refused */
    out = ok(f, "record", json_pack("{s:s,s:o}", "table", "db.t", "profile", profile(0, 10, 0.2)));
    assert_string_equal(json_string_value(json_object_get(out, "uri")),
                        "stats-history/db.t/2026-10-20.json");
    json_decref(out);
    assert_int_equal(call(f, "record",
                          json_pack("{s:s,s:s,s:o}", "table", "db.t", "date", "2026-02-30",
                                    "profile", profile(0, 10, 0.2)),
                          &out),
                     WEIR_EINVALID);
    assert_int_equal(
        call(f, "record", json_pack("{s:s,s:{s:i}}", "table", "db.t", "profile", "x", 1), &out),
        WEIR_EINVALID);
    assert_int_equal(call(f, "record",
                          json_pack("{s:s,s:o}", "table", "../x", "profile", profile(0, 10, 0.2)),
                          &out),
                     WEIR_EINVALID);
    free(first);
    free(second);
    free(path);
}

static void test_history_gap_and_torn_file(void **state)
{
    struct fixture *f = *state;
    struct drift_history h;
    int d0 = drift_parse_day("2026-10-01");
    char *dir = NULL;

    record_days(f, d0, 12, 3); /* 2026-10-01 .. 10-12 without 10-04 */
    assert_true(asprintf(&dir, "%s/lake/stats-history/db.t", f->project) >= 0);
    free(tu_write_file(dir, "2026-10-07.json", "{\"row_count\": 1000, \"column_st"));
    free(tu_write_file(dir, "2026-10-08.json", "{\"hello\": 1}\n"));
    free(tu_write_file(dir, "notes.txt", "not a day\n"));
    free(tu_write_file(dir, "2026-08-01.json", "{\"row_count\": 1, \"column_stats\": {}}\n"));
    /* enough old days to push the window onto a second list page */
    for (int i = 0; i < 1001; i++) {
        char name[32];

        drift_format_day(drift_parse_day("2000-01-01") + i, name);
        strcat(name, ".json");
        free(tu_write_file(dir, name, "{}\n"));
    }
    assert_int_equal(drift_history_read((weir_ctx *)&f->ctx, "db.t", d0 + 12, 28, &h), WEIR_OK);
    assert_int_equal(h.n, 9); /* 12 days - the gap - the torn - the invalid */
    assert_int_equal(h.skipped, 2);
    for (size_t i = 1; i < h.n; i++) {
        assert_true(h.days[i].day > h.days[i - 1].day);
    }
    assert_int_equal(h.days[0].day, d0);
    assert_int_equal(h.days[h.n - 1].day, d0 + 11);
    drift_history_free(&h);
    /* the window ends the day before: today's own file is not history */
    assert_int_equal(drift_history_read((weir_ctx *)&f->ctx, "db.t", d0 + 5, 3, &h), WEIR_OK);
    assert_int_equal(h.n, 2); /* 10-03, 10-05 (10-04 missing) */
    drift_history_free(&h);
    /* an unknown table has an empty history */
    assert_int_equal(drift_history_read((weir_ctx *)&f->ctx, "db.none", d0 + 5, 28, &h), WEIR_OK);
    assert_int_equal(h.n, 0);
    drift_history_free(&h);
    free(dir);
}

static int has_anomaly(const json_t *list, const char *detector, const char *metric)
{
    size_t i;
    const json_t *a;

    json_array_foreach(list, i, a) {
        if (strcmp(json_string_value(json_object_get(a, "detector")), detector) == 0 &&
            strcmp(json_string_value(json_object_get(a, "metric")), metric) == 0) {
            return 1;
        }
    }
    return 0;
}

static json_t *detect(struct fixture *f, int day)
{
    char d[11];

    drift_format_day(day, d);
    return ok(f, "detect", json_pack("{s:s,s:s}", "table", "db.t", "date", d));
}

static void test_detect_end_to_end(void **state)
{
    struct fixture *f = *state;
    int d0 = drift_parse_day("2026-10-01"), today = d0 + 14;
    json_t *out, *prof;
    char *dir = NULL;

    record_days(f, d0, 14, 6);
    /* a clean day: nothing */
    json_decref(ok(f, "record", record_with(today, profile(14, rows_of(14), 0.2))));
    out = detect(f, today);
    assert_int_equal(json_integer_value(json_object_get(out, "history_days")), 13);
    assert_int_equal(json_array_size(json_object_get(out, "anomalies")), 0);
    assert_string_equal(json_string_value(json_object_get(out, "status")), "ok");
    assert_true(json_array_size(json_object_get(out, "checked")) >= 8);
    json_decref(out);
    /* a volume drop, a new status mix and a stale dt */
    prof = profile(14, 400, 0.6);
    json_decref(ok(f, "record", record_with(today, prof)));
    {
        char *path = NULL, *text;
        json_t *stored;

        /* make dt stale by rewriting the stored file's max */
        assert_true(asprintf(&path, "%s/lake/stats-history/db.t/2026-10-15.json", f->project) >= 0);
        text = tu_read_file(path, NULL);
        stored = json_loads(text, 0, NULL);
        json_object_set_new(json_object_get(json_object_get(stored, "column_stats"), "dt"), "max",
                            json_string("2026-10-11"));
        assert_int_equal(json_dump_file(stored, path, JSON_SORT_KEYS | JSON_COMPACT), 0);
        json_decref(stored);
        free(text);
        free(path);
    }
    out = detect(f, today);
    assert_string_equal(json_string_value(json_object_get(out, "status")), "error");
    assert_true(has_anomaly(json_object_get(out, "anomalies"), "volume", "row_count"));
    assert_true(has_anomaly(json_object_get(out, "anomalies"), "distribution", "psi"));
    assert_true(has_anomaly(json_object_get(out, "anomalies"), "freshness", "lag_hours"));
    json_decref(out);
    /* a person marks the volume drop as expected: it is suppressed, the rest stays */
    assert_true(asprintf(&dir, "%s/lake/contracts", f->project) >= 0);
    free(tu_write_file(
        dir, "db.t.drift-feedback.json",
        "[{\"date\": \"2026-10-15\", \"detector\": \"volume\", \"metric\": \"row_count\","
        " \"column\": null, \"note\": \"backfill of half the day\"}]"));
    out = detect(f, today);
    assert_false(has_anomaly(json_object_get(out, "anomalies"), "volume", "row_count"));
    assert_true(has_anomaly(json_object_get(out, "suppressed"), "volume", "row_count"));
    assert_true(has_anomaly(json_object_get(out, "anomalies"), "freshness", "lag_hours"));
    json_decref(out);
    /* a torn feedback file only warns */
    free(tu_write_file(dir, "db.t.drift-feedback.json", "[{\"date\": "));
    out = detect(f, today);
    assert_true(has_anomaly(json_object_get(out, "anomalies"), "volume", "row_count"));
    json_decref(out);
    /* no profile for the date */
    assert_int_equal(
        call(f, "detect", json_pack("{s:s,s:s}", "table", "db.t", "date", "2027-01-01"), &out),
        WEIR_ENOTFOUND);
    free(dir);
}

static void test_detect_short_history(void **state)
{
    struct fixture *f = *state;
    int d0 = drift_parse_day("2026-10-01");
    json_t *out;

    record_days(f, d0, 4, -1);
    json_decref(ok(f, "record", record_with(d0 + 4, profile(4, 300, 0.2))));
    out = detect(f, d0 + 4);
    /* 4 days of history: the statistical detectors stay silent */
    assert_false(has_anomaly(json_object_get(out, "anomalies"), "volume", "row_count"));
    json_decref(out);
}

/* 30 clean days (noise, a mild weekly dip, a slow trend, a wobbling mix):
 * every one of the last 15 is judged and none alarms; then a planted new
 * category is caught on its day. */
static void test_clean_month_through_the_plugin(void **state)
{
    struct fixture *f = *state;
    int d0 = drift_parse_day("2026-09-21");
    json_t *out, *prof, *top;

    for (int i = 0; i < 30; i++) {
        long rows = (long)((i % 7 >= 5 ? 900 : 1000) * (1 + 0.004 * i) + noise(i) * 15);

        json_decref(
            ok(f, "record", record_with(d0 + i, profile(i, rows, 0.2 + noise(i + 5) * 0.01))));
    }
    for (int i = 15; i < 30; i++) {
        out = detect(f, d0 + i);
        if (json_array_size(json_object_get(out, "anomalies")) != 0) {
            char *text = tu_json_text(json_object_get(out, "anomalies"));

            fail_msg("day %d: %s", i, text);
        }
        assert_string_equal(json_string_value(json_object_get(out, "status")), "ok");
        json_decref(out);
    }
    prof = profile(30, 1100, 0.2);
    top = json_object_get(json_object_get(json_object_get(prof, "column_stats"), "status"),
                          "top_values");
    top_value(top, "refunded", 40);
    json_object_set_new(json_object_get(json_object_get(prof, "column_stats"), "status"),
                        "distinct_count", json_integer(4));
    json_decref(ok(f, "record", record_with(d0 + 30, prof)));
    out = detect(f, d0 + 30);
    assert_true(has_anomaly(json_object_get(out, "anomalies"), "distribution", "new_category"));
    /* a 3.6% newcomer is news, not a changed mix */
    assert_false(has_anomaly(json_object_get(out, "anomalies"), "distribution", "psi"));
    assert_string_equal(json_string_value(json_object_get(out, "status")), "warn");
    json_decref(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_record_idempotent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_history_gap_and_torn_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_detect_end_to_end, setup, teardown),
        cmocka_unit_test_setup_teardown(test_detect_short_history, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clean_month_through_the_plugin, setup, teardown),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
