/*
 * detect.c - days, thresholds and the numeric series detectors (volume,
 * completeness, distribution shift, uniqueness). Pure functions: the series
 * come in as arrays, nothing is read or written here.
 */
#include "drift.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- days (civil-from-days, Howard Hinnant's algorithm) ---- */

static int days_from_civil(int y, int m, int d)
{
    int era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void drift_format_day(int z, char *buf)
{
    int era, doe, yoe, y, doy, mp, d, m;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    y = yoe + era * 400;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp + (mp < 10 ? 3 : -9);
    y += m <= 2;
    y = y < 0 ? 0 : (y > 9999 ? 9999 : y);
    snprintf(buf, 11, "%04d-%02d-%02d", y, m & 15, d & 31);
}

int drift_parse_day(const char *s)
{
    int y, m, d;
    static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

    if (!s || strlen(s) < 10) {
        return -1;
    }
    for (int i = 0; i < 10; i++) {
        if ((i == 4 || i == 7) ? s[i] != '-' : (s[i] < '0' || s[i] > '9')) {
            return -1;
        }
    }
    y = atoi(s);
    m = atoi(s + 5);
    d = atoi(s + 8);
    if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1] ||
        (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))) {
        return -1;
    }
    return days_from_civil(y, m, d);
}

int drift_weekday(int day)
{
    /* 1970-01-01 was a Thursday (3 when Monday is 0) */
    int w = (day + 3) % 7;

    return w < 0 ? w + 7 : w;
}

/* ---- thresholds ---- */

void drift_thresholds_default(struct drift_thresholds *t)
{
    t->min_history = 5;
    t->window_days = 28;
    t->volume_pct = 20.0;
    t->volume_mean_days = 7;
    t->z = 3.5;
    t->seasonal_min_points = 3;
    t->null_points = 5.0;
    t->shift_min_rel = 0.10;
    t->unique_tolerance = 0.03;
    t->psi_warn = 0.1;
    t->psi_error = 0.2;
    t->new_category_share = 0.01;
    t->freshness_sla_hours = 48.0;
}

int drift_thresholds_apply(struct drift_thresholds *t, const json_t *o)
{
    const char *key;
    const json_t *v;
    struct {
        const char *name;
        double *d;
        int *i;
    } fields[] = {
        { "min_history", NULL, &t->min_history },
        { "window_days", NULL, &t->window_days },
        { "volume_pct", &t->volume_pct, NULL },
        { "volume_mean_days", NULL, &t->volume_mean_days },
        { "z", &t->z, NULL },
        { "seasonal_min_points", NULL, &t->seasonal_min_points },
        { "null_points", &t->null_points, NULL },
        { "shift_min_rel", &t->shift_min_rel, NULL },
        { "unique_tolerance", &t->unique_tolerance, NULL },
        { "psi_warn", &t->psi_warn, NULL },
        { "psi_error", &t->psi_error, NULL },
        { "new_category_share", &t->new_category_share, NULL },
        { "freshness_sla_hours", &t->freshness_sla_hours, NULL },
    };

    if (!o || json_is_null(o)) {
        return WEIR_OK;
    }
    if (!json_is_object(o)) {
        return drift_host->error_set(WEIR_EINVALID, "drift: thresholds must be an object");
    }
    json_object_foreach((json_t *)o, key, v) {
        size_t i;

        for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
            if (strcmp(fields[i].name, key) == 0) {
                break;
            }
        }
        if (i == sizeof(fields) / sizeof(fields[0])) {
            return drift_host->error_set(WEIR_EINVALID, "drift: unknown threshold '%s'", key);
        }
        if (fields[i].i) {
            if (!json_is_integer(v) || json_integer_value(v) < 0 ||
                json_integer_value(v) > 100000) {
                return drift_host->error_set(
                    WEIR_EINVALID, "drift: threshold '%s' must be an integer 0..100000", key);
            }
            *fields[i].i = (int)json_integer_value(v);
        }
        else {
            if (!json_is_number(v) || json_number_value(v) < 0) {
                return drift_host->error_set(WEIR_EINVALID,
                                             "drift: threshold '%s' must be a number >= 0", key);
            }
            *fields[i].d = json_number_value(v);
        }
    }
    return WEIR_OK;
}

json_t *drift_anomaly_json(const struct drift_anomaly *a, const char *date)
{
    json_t *o = json_object();

    if (!o) {
        return NULL;
    }
    json_object_set_new(o, "detector", json_string(a->detector));
    json_object_set_new(o, "metric", json_string(a->metric));
    json_object_set_new(o, "column", a->column[0] ? json_string(a->column) : json_null());
    json_object_set_new(o, "date", json_string(date));
    json_object_set_new(o, "score", isfinite(a->score) ? json_real(a->score) : json_null());
    json_object_set_new(o, "expected_low", a->has_band ? json_real(a->expected_low) : json_null());
    json_object_set_new(o, "expected_high",
                        a->has_band ? json_real(a->expected_high) : json_null());
    json_object_set_new(o, "observed", a->has_band ? json_real(a->observed) : json_null());
    json_object_set_new(o, "direction", json_string(a->direction));
    json_object_set_new(o, "severity", json_string(a->severity));
    json_object_set_new(o, "explanation", json_string(a->explanation));
    return o;
}

/* ---- robust statistics ---- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* Median of v[0..n) (reorders v). */
static double median(double *v, size_t n)
{
    qsort(v, n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

/* Median and the MAD scaled to a normal sigma (1.4826 * MAD), floored so a
 * perfectly flat history (or three same-weekday points that happen to agree)
 * does not turn the smallest wobble into an alarm: the floor is rel_floor of
 * the median, and at least abs_floor. */
static void robust(const double *vals, size_t n, double abs_floor, double rel_floor, double *med,
                   double *scale)
{
    double *tmp = malloc(n * sizeof(*tmp));
    double m, floor_v;

    if (!tmp) {
        *med = 0;
        *scale = INFINITY;
        return;
    }
    memcpy(tmp, vals, n * sizeof(*tmp));
    m = median(tmp, n);
    for (size_t i = 0; i < n; i++) {
        tmp[i] = fabs(vals[i] - m);
    }
    *med = m;
    *scale = 1.4826 * median(tmp, n);
    floor_v = fmax(abs_floor, rel_floor * fabs(m));
    if (*scale < floor_v) {
        *scale = floor_v;
    }
    free(tmp);
}

static void fill(struct drift_anomaly *a, const char *detector, const char *metric,
                 const char *column)
{
    memset(a, 0, sizeof(*a));
    a->detector = detector;
    snprintf(a->metric, sizeof(a->metric), "%s", metric);
    snprintf(a->column, sizeof(a->column), "%s", column ? column : "");
    a->has_band = 1;
}

/* The name used in explanations: "row_count" or "amount.null_pct". */
static void label(char *buf, size_t size, const char *metric, const char *column)
{
    if (column && *column) {
        snprintf(buf, size, "%s.%s", column, metric);
    }
    else {
        snprintf(buf, size, "%s", metric);
    }
}

/* ---- one day against its baseline ---- */

/* Row counts: a sigma of at least 5% of the median, so z > 3.5 means a move
 * of at least 17.5%, in line with the +-20% rule it must agree with. */
#define VOLUME_REL_FLOOR 0.05

struct baseline {
    const double *vals;
    const int *days;
    size_t n;
    /* every day of the window, flagged or not: a weekly dip is flagged until
     * day-of-week seasonality can be established, so the same-weekday
     * reference must count those days (its median still ignores a one-off) */
    const double *all_vals;
    const int *all_days;
    size_t all_n;
};

static int eval_volume(const struct baseline *b, struct drift_point x,
                       const struct drift_thresholds *t, const char *metric, const char *column,
                       struct drift_anomaly *a)
{
    double sum = 0, mean, pct, med, scale, z, *same = NULL;
    size_t nmean = 0, nsame = 0;
    int seasonal = 0, fire;
    char name[320];

    /* the spec's rule: the mean of the last volume_mean_days baseline days
     * (by date; the most recent points when gaps leave none in range) */
    for (size_t i = b->n; i-- > 0;) {
        if (b->days[i] >= x.day - t->volume_mean_days || nmean == 0) {
            if (nmean < (size_t)t->volume_mean_days) {
                sum += b->vals[i];
                nmean++;
            }
        }
    }
    mean = sum / (double)nmean;
    pct = mean != 0 ? (x.value - mean) / fabs(mean) * 100.0 : (x.value != 0 ? INFINITY : 0);
    /* robust z over the window, against the same weekday when enough exist */
    same = malloc((b->all_n + 1) * sizeof(*same));
    if (!same) {
        return 0;
    }
    for (size_t i = 0; i < b->all_n; i++) {
        if (drift_weekday(b->all_days[i]) == drift_weekday(x.day)) {
            same[nsame++] = b->all_vals[i];
        }
    }
    if (nsame >= (size_t)t->seasonal_min_points && t->seasonal_min_points > 0) {
        seasonal = 1;
    }
    else if (t->seasonal_min_points > 0) {
        /* until the same weekday has enough points, the same kind of day
         * (Saturday-Sunday or Monday-Friday) does: a table with quiet
         * weekends is then not flagged on each of its first three weekends */
        nsame = 0;
        for (size_t i = 0; i < b->all_n; i++) {
            if ((drift_weekday(b->all_days[i]) >= 5) == (drift_weekday(x.day) >= 5)) {
                same[nsame++] = b->all_vals[i];
            }
        }
        seasonal = nsame > 0 ? 2 : 0;
    }
    if (seasonal) {
        robust(same, nsame, 1.0, VOLUME_REL_FLOOR, &med, &scale);
    }
    else {
        robust(b->vals, b->n, 1.0, VOLUME_REL_FLOOR, &med, &scale);
    }
    free(same);
    z = (x.value - med) / scale;
    /* Both must agree: the +-% rule alone flags every weekend of a weekly
     * cycle, the z-score alone flags tiny moves of a very steady table. */
    fire = fabs(pct) > t->volume_pct && fabs(z) > t->z;
    fill(a, "volume", metric, column);
    a->score = z;
    a->observed = x.value;
    /* normal is inside either band, so the band shown is their union */
    a->expected_low = fmin(mean * (1 - t->volume_pct / 100.0), med - t->z * scale);
    a->expected_high = fmax(mean * (1 + t->volume_pct / 100.0), med + t->z * scale);
    if (!fire) {
        return 0;
    }
    a->direction = x.value < mean ? "down" : "up";
    a->severity = "error";
    label(name, sizeof(name), metric, column);
    snprintf(a->explanation, sizeof(a->explanation),
             "%s %.0f is %.0f%% %s the %d-day average %.0f (expected %.0f-%.0f; robust z %.1f vs "
             "%s median %.0f)",
             name, x.value, fabs(pct), x.value < mean ? "below" : "above", t->volume_mean_days,
             mean, a->expected_low, a->expected_high, z,
             seasonal == 1 ? "same-weekday" : seasonal == 2 ? "same day-type" : "window", med);
    return 1;
}

static int eval_nulls(const struct baseline *b, struct drift_point x,
                      const struct drift_thresholds *t, const char *metric, const char *column,
                      struct drift_anomaly *a)
{
    double med, scale, z, high;
    char name[320];

    robust(b->vals, b->n, 0.5, 0.01, &med, &scale);
    z = (x.value - med) / scale;
    high = fmax(med + t->null_points, med + t->z * scale);
    fill(a, "completeness", metric, column);
    a->score = z;
    a->observed = x.value;
    a->expected_low = 0;
    a->expected_high = high > 100 ? 100 : high;
    /* only a rise matters: fewer nulls is never an incident */
    if (!(x.value - med >= t->null_points && z > t->z)) {
        return 0;
    }
    a->direction = "up";
    a->severity = "error";
    label(name, sizeof(name), metric, column);
    snprintf(a->explanation, sizeof(a->explanation),
             "%s %.1f%% is %.1f points above the usual %.1f%% (expected <= %.1f%%, robust z %.1f)",
             name, x.value, x.value - med, med, a->expected_high, z);
    return 1;
}

static int eval_shift(const struct baseline *b, struct drift_point x,
                      const struct drift_thresholds *t, const char *metric, const char *column,
                      struct drift_anomaly *a)
{
    double med, scale, z, half;
    char name[320];

    robust(b->vals, b->n, 1e-9, 0.01, &med, &scale);
    z = (x.value - med) / scale;
    /* a z-score alone flags a 2% move of a very steady mean; require a real
     * move as well */
    half = fmax(t->z * scale, t->shift_min_rel * fabs(med));
    fill(a, "distribution", metric, column);
    a->score = z;
    a->observed = x.value;
    a->expected_low = med - half;
    a->expected_high = med + half;
    if (!(fabs(z) > t->z && fabs(x.value - med) > t->shift_min_rel * fabs(med))) {
        return 0;
    }
    a->direction = x.value < med ? "down" : "up";
    a->severity = fabs(z) > 2 * t->z ? "error" : "warn";
    label(name, sizeof(name), metric, column);
    snprintf(a->explanation, sizeof(a->explanation),
             "%s %.4g moved %.0f%% from the usual %.4g (expected %.4g-%.4g, robust z %.1f)", name,
             x.value, med != 0 ? fabs(x.value - med) / fabs(med) * 100.0 : 100.0, med,
             a->expected_low, a->expected_high, z);
    return 1;
}

static int eval_unique(const struct baseline *b, struct drift_point x,
                       const struct drift_thresholds *t, const char *metric, const char *column,
                       struct drift_anomaly *a)
{
    double tol = t->unique_tolerance, dup;
    char name[320];

    /* x.value is distinct/rows; a negative value marks an exact count, for
     * which no tolerance is needed (see drift_plugin.c) */
    if (x.value < 0) {
        tol = 0;
        x.value = -x.value;
    }
    for (size_t i = 0; i < b->n; i++) {
        if (fabs(b->vals[i]) < 1.0 - tol - 1e-9) {
            return 0; /* was not unique: duplicates are its normal */
        }
    }
    dup = 1.0 - fmin(x.value, 1.0);
    fill(a, "uniqueness", metric, column);
    a->score = dup * 100.0;
    a->observed = dup * 100.0;
    a->expected_low = 0;
    a->expected_high = 2 * tol * 100.0;
    if (dup <= 2 * tol + 1e-12) {
        return 0;
    }
    a->direction = "down";
    a->severity = "error";
    label(name, sizeof(name), "duplicate_pct", column);
    snprintf(
        a->explanation, sizeof(a->explanation),
        "%s: column %s was unique every day of the window; now %.2f%% of its rows are duplicates",
        name, column ? column : "", dup * 100.0);
    (void)metric;
    return 1;
}

static int eval_day(enum drift_rule rule, const struct baseline *b, struct drift_point x,
                    const struct drift_thresholds *t, const char *metric, const char *column,
                    struct drift_anomaly *a)
{
    switch (rule) {
    case DRIFT_VOLUME: return eval_volume(b, x, t, metric, column, a);
    case DRIFT_NULLS: return eval_nulls(b, x, t, metric, column, a);
    case DRIFT_SHIFT: return eval_shift(b, x, t, metric, column, a);
    case DRIFT_UNIQUE: return eval_unique(b, x, t, metric, column, a);
    }
    return 0;
}

int drift_check_series(enum drift_rule rule, const struct drift_point *pts, size_t n,
                       const unsigned char *expected, const struct drift_thresholds *t,
                       const char *metric, const char *column, unsigned char *flags,
                       struct drift_anomaly *a)
{
    double *vals = NULL, *all_vals = NULL;
    int *days = NULL, *all_days = NULL;
    size_t base_start = 0;
    unsigned char *flag = NULL, *verdict = NULL;
    struct drift_anomaly tmp;
    int last = 0;

    if (n == 0) {
        return 0;
    }
    vals = malloc(n * sizeof(*vals));
    days = malloc(n * sizeof(*days));
    all_vals = malloc(n * sizeof(*all_vals));
    all_days = malloc(n * sizeof(*all_days));
    flag = calloc(n, 1);
    verdict = calloc(n, 1);
    if (!vals || !days || !all_vals || !all_days || !flag || !verdict) {
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        struct baseline b = { vals, days, 0, all_vals, all_days, 0 };
        size_t run = 0;

        /* a level shift: min_history flagged days in a row are the new
         * normal, and the days before them no longer describe the table */
        for (size_t j = i; j-- > base_start && flag[j];) {
            run++;
        }
        if (t->min_history > 0 && run >= (size_t)t->min_history) {
            for (size_t j = i - run; j < i; j++) {
                flag[j] = 0;
            }
            base_start = i - run;
        }
        for (size_t j = base_start; j < i; j++) {
            if (pts[j].day < pts[i].day && pts[j].day >= pts[i].day - t->window_days &&
                isfinite(pts[j].value)) {
                all_vals[b.all_n] = pts[j].value;
                all_days[b.all_n] = pts[j].day;
                b.all_n++;
                if (!flag[j]) {
                    vals[b.n] = pts[j].value;
                    days[b.n] = pts[j].day;
                    b.n++;
                }
            }
        }
        if (b.n < (size_t)(t->min_history > 0 ? t->min_history : 1) || !isfinite(pts[i].value) ||
            (expected && expected[i])) {
            continue;
        }
        flag[i] =
            (unsigned char)eval_day(rule, &b, pts[i], t, metric, column, i + 1 == n ? a : &tmp);
        verdict[i] = flag[i];
        last = i + 1 == n && flag[i];
    }
    if (flags) {
        memcpy(flags, verdict, n);
    }
done:
    free(vals);
    free(days);
    free(all_vals);
    free(all_days);
    free(flag);
    free(verdict);
    return last;
}
