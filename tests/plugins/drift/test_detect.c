/*
 * test_detect.c - the drift detectors on synthetic series: a step change is
 * flagged on its day, a trend and a weekly cycle are not, an outlier does not
 * widen the band of the days after it, too short a history never fires, and
 * a clean month raises nothing. Pure functions: no plugin is loaded.
 */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "drift.h"
#include "plugins.h"

const struct weir_host_api *drift_host;

#define MAXN 64

static struct drift_thresholds T;
static int DAY0;

static int setup(void **state)
{
    (void)state;
    drift_host = weir_host_api_get();
    drift_thresholds_default(&T);
    DAY0 = drift_parse_day("2026-10-05"); /* a Monday */
    return 0;
}

/* Deterministic noise in [-1, 1]. */
static double noise(int i)
{
    return sin(i * 12.9898) * 0.999;
}

static void series(struct drift_point *p, size_t n, double (*f)(int))
{
    for (size_t i = 0; i < n; i++) {
        p[i].day = DAY0 + (int)i;
        p[i].value = f((int)i);
    }
}

/* Runs a rule over the series; returns the flags as a string of 0/1. */
static const char *flags_of(enum drift_rule rule, const struct drift_point *p, size_t n,
                            const struct drift_thresholds *t)
{
    static char s[MAXN + 1];
    unsigned char flags[MAXN];
    struct drift_anomaly a;

    drift_check_series(rule, p, n, NULL, t, "m", NULL, flags, &a);
    for (size_t i = 0; i < n; i++) {
        s[i] = flags[i] ? '1' : '0';
    }
    s[n] = '\0';
    return s;
}

static const char *zeros(size_t n)
{
    static char s[MAXN + 1];

    memset(s, '0', n);
    s[n] = '\0';
    return s;
}

static void test_days(void **state)
{
    char buf[11];

    (void)state;
    assert_int_equal(drift_parse_day("1970-01-01"), 0);
    assert_int_equal(drift_parse_day("2026-02-29"), -1);
    assert_int_equal(drift_parse_day("2024-02-29"), drift_parse_day("2024-03-01") - 1);
    assert_int_equal(drift_parse_day("2026-13-01"), -1);
    drift_format_day(drift_parse_day("2026-11-22"), buf);
    assert_string_equal(buf, "2026-11-22");
    assert_int_equal(drift_weekday(DAY0), 0);
    assert_int_equal(drift_weekday(DAY0 + 6), 6);
}

static double steady40(int i)
{
    return 40 + noise(i);
}

static double step_at_20(int i)
{
    return i < 20 ? 40 + noise(i) : 16 + noise(i) * 0.4;
}

static void test_volume_step_change(void **state)
{
    struct drift_point p[30];
    struct drift_anomaly a;

    (void)state;
    series(p, 21, step_at_20);
    assert_int_equal(drift_check_series(DRIFT_VOLUME, p, 21, NULL, &T, "row_count", NULL, NULL, &a),
                     1);
    assert_string_equal(a.detector, "volume");
    assert_string_equal(a.direction, "down");
    assert_string_equal(a.severity, "error");
    assert_true(a.expected_low > 25 && a.expected_low < 35 && a.expected_high > 45);
    assert_true(a.score < -3.5);
    assert_non_null(strstr(a.explanation, "below the 7-day average 40"));
    /* flagged on the day of the step and after; after min_history days in a
     * row the new level is the normal */
    series(p, 30, step_at_20);
    assert_string_equal(flags_of(DRIFT_VOLUME, p, 30, &T), "000000000000000000001111100000");
    series(p, 30, steady40);
    assert_string_equal(flags_of(DRIFT_VOLUME, p, 30, &T), zeros(30));
}

static double trend(int i)
{
    return 1000 * pow(1.01, i) + noise(i) * 5;
}

static void test_volume_trend(void **state)
{
    struct drift_point p[40];

    (void)state;
    series(p, 40, trend);
    assert_string_equal(flags_of(DRIFT_VOLUME, p, 40, &T), zeros(40));
    assert_string_equal(flags_of(DRIFT_SHIFT, p, 40, &T), zeros(40));
}

static double weekly(int i)
{
    return (i % 7 >= 5 ? 500 : 1000) + noise(i) * 20;
}

static void test_volume_weekly_seasonality(void **state)
{
    struct drift_point p[42];
    struct drift_thresholds t = T;
    const char *f;

    (void)state;
    series(p, 42, weekly);
    /* the first Saturday has no weekend day before it; from the first
     * Sunday on, weekends are judged against weekends (day type) until
     * three same-weekday points exist, then against the same weekday */
    f = flags_of(DRIFT_VOLUME, p, 42, &T);
    assert_string_equal(f + 21, zeros(21));
    assert_string_equal(f, "000001000000000000000000000000000000000000");
    /* without seasonality (0 turns it off) the weekends would alarm */
    t.seasonal_min_points = 0;
    f = flags_of(DRIFT_VOLUME, p, 42, &t);
    assert_int_equal(f[26], '1'); /* the Saturday of week 4 */
    /* and a real drop on a weekday is still caught with seasonality */
    p[41].value = 300;
    assert_int_equal(flags_of(DRIFT_VOLUME, p, 42, &T)[41], '1');
}

static double outlier_at_10(int i)
{
    return i == 10 ? 10 : 100 + noise(i) * 2;
}

static void test_outlier_in_baseline(void **state)
{
    struct drift_point p[20];
    struct drift_anomaly a;

    (void)state;
    series(p, 20, outlier_at_10);
    assert_string_equal(flags_of(DRIFT_VOLUME, p, 20, &T), "00000000001000000000");
    /* the day after the outlier, a normal value is normal */
    assert_int_equal(drift_check_series(DRIFT_VOLUME, p, 12, NULL, &T, "row_count", NULL, NULL, &a),
                     0);
    /* the outlier marked expected by a person is baseline, and not flagged */
    {
        unsigned char exp[20] = { 0 }, flags[20];

        exp[10] = 1;
        drift_check_series(DRIFT_VOLUME, p, 20, exp, &T, "row_count", NULL, flags, &a);
        assert_int_equal(flags[10], 0);
    }
}

static double short_drop(int i)
{
    return i == 4 ? 10 : 100;
}

static double short_drop5(int i)
{
    return i == 5 ? 10 : 100;
}

static void test_short_history(void **state)
{
    struct drift_point p[6];
    struct drift_anomaly a;

    (void)state;
    series(p, 5, short_drop);
    assert_int_equal(drift_check_series(DRIFT_VOLUME, p, 5, NULL, &T, "row_count", NULL, NULL, &a),
                     0);
    series(p, 6, short_drop5);
    assert_int_equal(drift_check_series(DRIFT_VOLUME, p, 6, NULL, &T, "row_count", NULL, NULL, &a),
                     1);
    /* a gap: 5 points spread over 10 days are still 5 points of history */
    for (int i = 0; i < 6; i++) {
        p[i].day = DAY0 + 2 * i;
    }
    assert_int_equal(drift_check_series(DRIFT_VOLUME, p, 6, NULL, &T, "row_count", NULL, NULL, &a),
                     1);
}

static double nulls(int i)
{
    return 0.5 + noise(i) * 0.2;
}

static void test_completeness(void **state)
{
    struct drift_point p[15];
    struct drift_anomaly a;

    (void)state;
    series(p, 15, nulls);
    p[14].value = 8.0;
    assert_int_equal(
        drift_check_series(DRIFT_NULLS, p, 15, NULL, &T, "null_pct", "email", NULL, &a), 1);
    assert_string_equal(a.detector, "completeness");
    assert_string_equal(a.column, "email");
    assert_string_equal(a.direction, "up");
    assert_non_null(strstr(a.explanation, "email.null_pct 8.0%"));
    /* a rise under 5 points is noise for a null rate */
    p[14].value = 4.0;
    assert_int_equal(
        drift_check_series(DRIFT_NULLS, p, 15, NULL, &T, "null_pct", "email", NULL, &a), 0);
    /* fewer nulls never alarms */
    p[14].value = 0.0;
    assert_int_equal(
        drift_check_series(DRIFT_NULLS, p, 15, NULL, &T, "null_pct", "email", NULL, &a), 0);
}

static double unique_exact(int i)
{
    (void)i;
    return -1.0;
}

static double not_unique(int i)
{
    return 0.9 + noise(i) * 0.01;
}

static void test_uniqueness(void **state)
{
    struct drift_point p[10];
    struct drift_anomaly a;

    (void)state;
    series(p, 10, unique_exact);
    assert_int_equal(
        drift_check_series(DRIFT_UNIQUE, p, 10, NULL, &T, "duplicate_pct", "id", NULL, &a), 0);
    p[9].value = -0.995;
    assert_int_equal(
        drift_check_series(DRIFT_UNIQUE, p, 10, NULL, &T, "duplicate_pct", "id", NULL, &a), 1);
    assert_string_equal(a.detector, "uniqueness");
    assert_true(fabs(a.observed - 0.5) < 1e-9);
    /* an approximate count within its error is not a duplicate */
    series(p, 10, unique_exact);
    for (int i = 0; i < 10; i++) {
        p[i].value = i % 2 ? 0.995 : 1.0;
    }
    assert_int_equal(
        drift_check_series(DRIFT_UNIQUE, p, 10, NULL, &T, "duplicate_pct", "id", NULL, &a), 0);
    p[9].value = 0.8;
    assert_int_equal(
        drift_check_series(DRIFT_UNIQUE, p, 10, NULL, &T, "duplicate_pct", "id", NULL, &a), 1);
    /* a column that never was unique */
    series(p, 10, not_unique);
    p[9].value = 0.7;
    assert_int_equal(
        drift_check_series(DRIFT_UNIQUE, p, 10, NULL, &T, "duplicate_pct", "k", NULL, &a), 0);
}

static double mean50(int i)
{
    return 50 + noise(i);
}

static void test_distribution_shift(void **state)
{
    struct drift_point p[15];
    struct drift_anomaly a;

    (void)state;
    series(p, 15, mean50);
    assert_int_equal(drift_check_series(DRIFT_SHIFT, p, 15, NULL, &T, "mean", "amount", NULL, &a),
                     0);
    p[14].value = 80;
    assert_int_equal(drift_check_series(DRIFT_SHIFT, p, 15, NULL, &T, "mean", "amount", NULL, &a),
                     1);
    assert_string_equal(a.detector, "distribution");
    assert_string_equal(a.direction, "up");
    assert_true(a.expected_low < 50 && a.expected_high > 50 && a.expected_high < 80);
    /* a 3% move is within the minimum relative shift */
    p[14].value = 51.5 + 1.5;
    assert_int_equal(drift_check_series(DRIFT_SHIFT, p, 15, NULL, &T, "mean", "amount", NULL, &a),
                     0);
}

/* ---- categorical ---- */

static struct drift_cat_value abc[8][3];

static void cats_day(struct drift_cats *c, int i, double a, double b, double cc)
{
    abc[i][0] = (struct drift_cat_value){ "A", a };
    abc[i][1] = (struct drift_cat_value){ "B", b };
    abc[i][2] = (struct drift_cat_value){ "C", cc };
    c->day = DAY0 + i;
    c->rows = a + b + cc;
    c->values = abc[i];
    c->n = 3;
    c->complete = 1;
}

static void test_psi(void **state)
{
    struct drift_cats base[6], today;
    struct drift_anomaly a;

    (void)state;
    for (int i = 0; i < 6; i++) {
        cats_day(&base[i], i, 500 + i * 3, 300 - i * 2, 200 - i);
    }
    cats_day(&today, 6, 505, 298, 197);
    assert_int_equal(drift_check_psi(base, 6, &today, &T, "status", &a), 0);
    cats_day(&today, 6, 200, 300, 500);
    assert_int_equal(drift_check_psi(base, 6, &today, &T, "status", &a), 1);
    assert_string_equal(a.severity, "error");
    assert_true(a.score > 0.2);
    assert_string_equal(a.direction, "changed");
    /* a moderate shift warns */
    cats_day(&today, 6, 350, 300, 350);
    assert_int_equal(drift_check_psi(base, 6, &today, &T, "status", &a), 1);
    assert_string_equal(a.severity, "warn");
    /* too little history */
    cats_day(&today, 6, 200, 300, 500);
    assert_int_equal(drift_check_psi(base, 4, &today, &T, "status", &a), 0);
}

static void test_new_and_vanished_categories(void **state)
{
    struct drift_cats base[6], today;
    struct drift_cat_value vals[3] = { { "A", 500 }, { "B", 450 }, { "D", 50 } };
    struct drift_anomaly out[8];
    size_t n;

    (void)state;
    for (int i = 0; i < 6; i++) {
        cats_day(&base[i], i, 500, 300, 200);
    }
    today = (struct drift_cats){ DAY0 + 6, 1000, vals, 3, 1 };
    n = drift_check_categories(base, 6, &today, &T, "status", out, 8);
    assert_int_equal(n, 2);
    assert_string_equal(out[0].metric, "new_category");
    assert_string_equal(out[0].direction, "new");
    assert_non_null(strstr(out[0].explanation, "'D' in 5.0% of rows"));
    assert_string_equal(out[1].metric, "vanished_category");
    assert_string_equal(out[1].direction, "gone");
    assert_non_null(strstr(out[1].explanation, "'C'"));
    /* a rare new value (under 1% of rows) is not news */
    vals[1].count = 300;
    vals[2].count = 5;
    vals[0].count = 695;
    abc[7][0] = (struct drift_cat_value){ "C", 200 };
    {
        struct drift_cat_value v4[3] = { { "A", 500 }, { "B", 295 }, { "C", 200 } };
        struct drift_cat_value v5[4] = { { "A", 500 }, { "B", 295 }, { "C", 200 }, { "E", 5 } };

        today = (struct drift_cats){ DAY0 + 6, 1000, v5, 4, 1 };
        assert_int_equal(drift_check_categories(base, 6, &today, &T, "status", out, 8), 0);
        /* all present: nothing */
        today = (struct drift_cats){ DAY0 + 6, 995, v4, 3, 1 };
        assert_int_equal(drift_check_categories(base, 6, &today, &T, "status", out, 8), 0);
        /* an incomplete baseline list where D could have hidden below the cut */
        for (int i = 0; i < 6; i++) {
            base[i].complete = 0;
        }
        vals[0].count = 500;
        vals[1].count = 300;
        vals[2].count = 150; /* 15%: above every day's smallest listed share (20%)? no */
        today = (struct drift_cats){ DAY0 + 6, 1000, vals, 3, 1 };
        n = drift_check_categories(base, 6, &today, &T, "status", out, 8);
        assert_int_equal(n, 1); /* only C vanished: D at 15% could have been unlisted */
        assert_string_equal(out[0].metric, "vanished_category");
    }
}

static void test_schema(void **state)
{
    struct drift_column before[] = { { "id", "bigint" }, { "amount", "double" }, { "dt", "date" } };
    struct drift_column same[] = { { "id", "bigint" }, { "amount", "double" }, { "dt", "date" } };
    struct drift_column changed[] = { { "id", "string" }, { "dt", "date" }, { "note", "string" } };
    struct drift_column reordered[] = { { "amount", "double" },
                                        { "id", "bigint" },
                                        { "dt", "date" } };
    struct drift_anomaly out[8];
    size_t n;

    (void)state;
    assert_int_equal(drift_check_schema(before, 3, same, 3, out, 8), 0);
    n = drift_check_schema(before, 3, changed, 3, out, 8);
    assert_int_equal(n, 3);
    assert_string_equal(out[0].metric, "type_changed");
    assert_string_equal(out[0].column, "id");
    assert_non_null(strstr(out[0].explanation, "from bigint to string"));
    assert_string_equal(out[1].metric, "column_removed");
    assert_string_equal(out[1].column, "amount");
    assert_string_equal(out[1].severity, "error");
    assert_string_equal(out[2].metric, "column_added");
    assert_string_equal(out[2].column, "note");
    assert_string_equal(out[2].severity, "warn");
    n = drift_check_schema(before, 3, reordered, 3, out, 8);
    assert_int_equal(n, 1);
    assert_string_equal(out[0].metric, "column_order");
}

static void test_freshness(void **state)
{
    struct drift_anomaly a;
    int day = drift_parse_day("2026-10-20");
    double ts;

    (void)state;
    assert_int_equal(drift_parse_time("2026-10-20T06:00:00Z", &ts), 0);
    assert_true(fabs(ts - (day * 86400.0 + 6 * 3600)) < 1e-6);
    assert_int_equal(drift_parse_time("2026-10-20 08:00:00.5+02:00", &ts), 0);
    assert_true(fabs(ts - (day * 86400.0 + 6 * 3600 + 0.5)) < 1e-6);
    assert_int_equal(drift_parse_time("20 Oct 2026", &ts), -1);
    assert_int_equal(drift_check_freshness("2026-10-20", day, &T, "dt", &a), 0);
    assert_int_equal(drift_check_freshness("2026-10-19 01:00:00", day, &T, "ts", &a), 0);
    assert_int_equal(drift_check_freshness("2026-10-17", day, &T, "dt", &a), 1);
    assert_string_equal(a.detector, "freshness");
    assert_true(fabs(a.observed - 72) < 1e-9);
    assert_non_null(strstr(a.explanation, "72 hours behind the end of 2026-10-20 (SLA 48 hours)"));
    assert_int_equal(drift_check_freshness("not a time", day, &T, "dt", &a), 0);
}

static double clean_rows(int i)
{
    return (i % 7 >= 5 ? 8800 : 10000) * pow(1.003, i) + noise(i) * 150;
}

static double clean_nulls(int i)
{
    return 2.0 + noise(i + 7) * 0.6;
}

static double clean_mean(int i)
{
    return 120 + noise(i + 3) * 2.5;
}

static void test_clean_month_no_alarms(void **state)
{
    struct drift_point p[35];
    struct drift_thresholds t = T;

    (void)state;
    series(p, 35, clean_rows);
    assert_string_equal(flags_of(DRIFT_VOLUME, p, 35, &t), zeros(35));
    series(p, 35, clean_nulls);
    assert_string_equal(flags_of(DRIFT_NULLS, p, 35, &t), zeros(35));
    series(p, 35, clean_mean);
    assert_string_equal(flags_of(DRIFT_SHIFT, p, 35, &t), zeros(35));
    series(p, 35, unique_exact);
    assert_string_equal(flags_of(DRIFT_UNIQUE, p, 35, &t), zeros(35));
}

static void test_thresholds(void **state)
{
    struct drift_thresholds t = T;
    json_t *o = json_pack("{s:f,s:i}", "volume_pct", 30.0, "min_history", 3);

    (void)state;
    assert_int_equal(drift_thresholds_apply(&t, o), WEIR_OK);
    assert_true(t.volume_pct == 30.0 && t.min_history == 3);
    json_decref(o);
    o = json_pack("{s:i}", "nope", 1);
    assert_int_equal(drift_thresholds_apply(&t, o), WEIR_EINVALID);
    json_decref(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_days, setup),
        cmocka_unit_test_setup(test_volume_step_change, setup),
        cmocka_unit_test_setup(test_volume_trend, setup),
        cmocka_unit_test_setup(test_volume_weekly_seasonality, setup),
        cmocka_unit_test_setup(test_outlier_in_baseline, setup),
        cmocka_unit_test_setup(test_short_history, setup),
        cmocka_unit_test_setup(test_completeness, setup),
        cmocka_unit_test_setup(test_uniqueness, setup),
        cmocka_unit_test_setup(test_distribution_shift, setup),
        cmocka_unit_test_setup(test_psi, setup),
        cmocka_unit_test_setup(test_new_and_vanished_categories, setup),
        cmocka_unit_test_setup(test_schema, setup),
        cmocka_unit_test_setup(test_freshness, setup),
        cmocka_unit_test_setup(test_clean_month_no_alarms, setup),
        cmocka_unit_test_setup(test_thresholds, setup),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
