/*
 * detect_cat.c - the detectors that do not look at one number per day:
 * categorical drift (PSI, new and vanished values), schema changes and
 * freshness. Pure functions, like detect.c.
 */
#include "drift.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Shares are floored at 0.5% in PSI: with the textbook 1e-4 a new value at
 * 3% of rows alone scores 0.2 (an error), though new_category already says
 * it; at 0.5% it takes a new value of ~10% of rows to make PSI warn. */
#define PSI_FLOOR 0.005

static void start(struct drift_anomaly *a, const char *detector, const char *metric,
                  const char *column)
{
    memset(a, 0, sizeof(*a));
    a->detector = detector;
    snprintf(a->metric, sizeof(a->metric), "%s", metric);
    snprintf(a->column, sizeof(a->column), "%s", column ? column : "");
}

/* Count of value in a day's list, or -1 when it is not listed. */
static double count_of(const struct drift_cats *d, const char *value)
{
    for (size_t i = 0; i < d->n; i++) {
        if (strcmp(d->values[i].value, value) == 0) {
            return d->values[i].count;
        }
    }
    return -1;
}

/* Smallest listed share of a day (what a value needed to make the list). */
static double min_share(const struct drift_cats *d)
{
    double m = 1.0;

    for (size_t i = 0; i < d->n; i++) {
        if (d->rows > 0 && d->values[i].count / d->rows < m) {
            m = d->values[i].count / d->rows;
        }
    }
    return d->n ? m : 0.0;
}

/* Share of value on day d, or -1 when unknown (not listed, list incomplete). */
static double share_of(const struct drift_cats *d, const char *value)
{
    double c = count_of(d, value);

    if (d->rows <= 0) {
        return -1;
    }
    if (c >= 0) {
        return c / d->rows;
    }
    return d->complete ? 0.0 : -1;
}

/* Whether value is known (listed, or absent from a complete list) on every day. */
static int known_everywhere(const struct drift_cats *base, size_t nbase,
                            const struct drift_cats *today, const char *value)
{
    if (share_of(today, value) < 0) {
        return 0;
    }
    for (size_t i = 0; i < nbase; i++) {
        if (share_of(&base[i], value) < 0) {
            return 0;
        }
    }
    return 1;
}

static int seen(const char **list, size_t n, const char *v)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(list[i], v) == 0) {
            return 1;
        }
    }
    return 0;
}

int drift_check_psi(const struct drift_cats *base, size_t nbase, const struct drift_cats *today,
                    const struct drift_thresholds *t, const char *column, struct drift_anomaly *a)
{
    const char **buckets = NULL;
    size_t nb = 0, cap = today->n;
    double psi = 0, eo = 1, ao = 1, worst = 0;
    const char *worst_v = NULL;
    int fired = 0;

    if (nbase < (size_t)(t->min_history > 0 ? t->min_history : 1) || today->rows <= 0) {
        return 0;
    }
    for (size_t i = 0; i < nbase; i++) {
        cap += base[i].n;
    }
    buckets = malloc((cap + 1) * sizeof(*buckets));
    if (!buckets) {
        return 0;
    }
    /* Buckets: values whose share is known on every day; the rest of each
     * day's rows (values outside an incomplete top list) is one "other"
     * bucket, so a value dropping just out of a top-k list is not drift. */
    for (size_t d = 0; d <= nbase; d++) {
        const struct drift_cats *day = d < nbase ? &base[d] : today;

        for (size_t i = 0; i < day->n; i++) {
            const char *v = day->values[i].value;

            if (!seen(buckets, nb, v) && known_everywhere(base, nbase, today, v)) {
                buckets[nb++] = v;
            }
        }
    }
    for (size_t k = 0; k < nb; k++) {
        double e = 0, act = share_of(today, buckets[k]), term, fa, fe;

        for (size_t d = 0; d < nbase; d++) {
            e += share_of(&base[d], buckets[k]);
        }
        e /= (double)nbase;
        eo -= e;
        ao -= act;
        fa = fmax(act, PSI_FLOOR);
        fe = fmax(e, PSI_FLOOR);
        term = (fa - fe) * log(fa / fe);
        psi += term;
        if (term > worst) {
            worst = term;
            worst_v = buckets[k];
        }
    }
    eo = fmax(eo, 0);
    ao = fmax(ao, 0);
    ao = fmax(ao, PSI_FLOOR);
    eo = fmax(eo, PSI_FLOOR);
    psi += (ao - eo) * log(ao / eo);
    if (psi > t->psi_warn) {
        start(a, "distribution", "psi", column);
        a->has_band = 1;
        a->score = psi;
        a->observed = psi;
        a->expected_low = 0;
        a->expected_high = t->psi_warn;
        a->direction = "changed";
        a->severity = psi > t->psi_error ? "error" : "warn";
        snprintf(
            a->explanation, sizeof(a->explanation),
            "%s value mix changed: PSI %.3f vs the %zu-day mix (warn > %.2f, error > %.2f)%s%s%s",
            column, psi, nbase, t->psi_warn, t->psi_error, worst_v ? "; most moved: '" : "",
            worst_v ? worst_v : "", worst_v ? "'" : "");
        fired = 1;
    }
    free(buckets);
    return fired;
}

size_t drift_check_categories(const struct drift_cats *base, size_t nbase,
                              const struct drift_cats *today, const struct drift_thresholds *t,
                              const char *column, struct drift_anomaly *out, size_t max)
{
    size_t n = 0;
    double today_min = min_share(today);

    if (nbase < (size_t)(t->min_history > 0 ? t->min_history : 1) || today->rows <= 0) {
        return 0;
    }
    for (size_t i = 0; i < today->n && n < max; i++) {
        const char *v = today->values[i].value;
        double share = today->values[i].count / today->rows;
        int is_new = share >= t->new_category_share;

        /* new only if every baseline day would have listed it at this share */
        for (size_t d = 0; d < nbase && is_new; d++) {
            if (count_of(&base[d], v) >= 0 || (!base[d].complete && share <= min_share(&base[d]))) {
                is_new = 0;
            }
        }
        if (is_new) {
            struct drift_anomaly *a = &out[n++];

            start(a, "distribution", "new_category", column);
            a->has_band = 1;
            a->score = share * 100.0;
            a->observed = share * 100.0;
            a->direction = "new";
            a->severity = "warn";
            snprintf(a->explanation, sizeof(a->explanation),
                     "%s has a new value '%s' in %.1f%% of rows, never seen in the last %zu days",
                     column, v, share * 100.0, nbase);
        }
    }
    if (nbase == 0) {
        return n;
    }
    for (size_t i = 0; i < base[nbase - 1].n && n < max; i++) {
        const char *v = base[nbase - 1].values[i].value;
        double least = 1.0;
        int every = 1;

        for (size_t d = 0; d < nbase && every; d++) {
            double c = count_of(&base[d], v);

            if (c < 0 || base[d].rows <= 0) {
                every = 0;
            }
            else if (c / base[d].rows < least) {
                least = c / base[d].rows;
            }
        }
        /* gone only if today's list would have shown it at its usual share */
        if (every && count_of(today, v) < 0 && (today->complete || least > today_min)) {
            struct drift_anomaly *a = &out[n++];

            start(a, "distribution", "vanished_category", column);
            a->has_band = 1;
            a->score = least * 100.0;
            a->observed = 0;
            a->expected_low = least * 100.0;
            a->expected_high = 100.0;
            a->direction = "gone";
            a->severity = "warn";
            snprintf(a->explanation, sizeof(a->explanation),
                     "%s value '%s' was present every day of the last %zu (at least %.1f%% of "
                     "rows) and is gone today",
                     column, v, nbase, least * 100.0);
        }
    }
    return n;
}

static const struct drift_column *find_col(const struct drift_column *cols, size_t n,
                                           const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(cols[i].name, name) == 0) {
            return &cols[i];
        }
    }
    return NULL;
}

size_t drift_check_schema(const struct drift_column *before, size_t nbefore,
                          const struct drift_column *after, size_t nafter,
                          struct drift_anomaly *out, size_t max)
{
    size_t n = 0, ia = 0;
    int reordered = 0;

    for (size_t i = 0; i < nbefore && n < max; i++) {
        const struct drift_column *now = find_col(after, nafter, before[i].name);

        if (!now) {
            start(&out[n], "schema", "column_removed", before[i].name);
            out[n].direction = "gone";
            out[n].severity = "error";
            out[n].score = 1;
            snprintf(out[n].explanation, sizeof(out[n].explanation), "column %s (%s) was removed",
                     before[i].name, before[i].type);
            n++;
        }
        else if (strcmp(now->type, before[i].type) != 0) {
            start(&out[n], "schema", "type_changed", before[i].name);
            out[n].direction = "changed";
            out[n].severity = "error";
            out[n].score = 1;
            snprintf(out[n].explanation, sizeof(out[n].explanation),
                     "column %s changed type from %s to %s", before[i].name, before[i].type,
                     now->type);
            n++;
        }
    }
    for (size_t i = 0; i < nafter && n < max; i++) {
        if (!find_col(before, nbefore, after[i].name)) {
            start(&out[n], "schema", "column_added", after[i].name);
            out[n].direction = "new";
            out[n].severity = "warn";
            out[n].score = 1;
            snprintf(out[n].explanation, sizeof(out[n].explanation), "column %s (%s) was added",
                     after[i].name, after[i].type);
            n++;
        }
    }
    /* order: the columns present on both days, walked in both orders */
    for (size_t i = 0; i < nbefore && !reordered; i++) {
        if (!find_col(after, nafter, before[i].name)) {
            continue;
        }
        while (ia < nafter && !find_col(before, nbefore, after[ia].name)) {
            ia++;
        }
        if (ia >= nafter || strcmp(after[ia].name, before[i].name) != 0) {
            reordered = 1;
        }
        ia++;
    }
    if (reordered && n < max) {
        start(&out[n], "schema", "column_order", NULL);
        out[n].direction = "changed";
        out[n].severity = "warn";
        out[n].score = 1;
        snprintf(out[n].explanation, sizeof(out[n].explanation),
                 "the column order changed (readers by position would misread the columns)");
        n++;
    }
    return n;
}

static int digits(const char *s, int n, int *v)
{
    *v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }
        *v = *v * 10 + (s[i] - '0');
    }
    return 0;
}

int drift_parse_time(const char *s, double *epoch)
{
    int day = drift_parse_day(s), h = 0, mi = 0, sec = 0, oh = 0, om = 0;
    double frac = 0;
    const char *p;

    if (day < 0) {
        return -1;
    }
    p = s + 10;
    if (*p == '\0') {
        *epoch = (day + 1) * 86400.0; /* a bare date: the end of that day */
        return 0;
    }
    if ((*p != 'T' && *p != ' ') || digits(p + 1, 2, &h) < 0 || p[3] != ':' ||
        digits(p + 4, 2, &mi) < 0 || h > 23 || mi > 59) {
        return -1;
    }
    p += 6;
    if (*p == ':') {
        if (digits(p + 1, 2, &sec) < 0 || sec > 60) {
            return -1;
        }
        p += 3;
        if (*p == '.') {
            double scale = 0.1;

            for (p++; *p >= '0' && *p <= '9'; p++) {
                frac += (*p - '0') * scale;
                scale /= 10;
            }
        }
    }
    if (*p == 'Z') {
        p++;
    }
    else if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1;

        if (digits(p + 1, 2, &oh) < 0) {
            return -1;
        }
        p += 3;
        if (*p == ':') {
            p++;
        }
        if (*p && digits(p, 2, &om) < 0) {
            return -1;
        }
        p += *p ? 2 : 0;
        oh *= sign;
        om *= sign;
    }
    if (*p != '\0') {
        return -1;
    }
    *epoch = day * 86400.0 + h * 3600.0 + mi * 60.0 + sec + frac - oh * 3600.0 - om * 60.0;
    return 0;
}

int drift_check_freshness(const char *max_value, int day, const struct drift_thresholds *t,
                          const char *column, struct drift_anomaly *a)
{
    double ts, lag;
    char when[11];

    if (!max_value || drift_parse_time(max_value, &ts) < 0) {
        return 0;
    }
    lag = ((day + 1) * 86400.0 - ts) / 3600.0;
    if (lag <= t->freshness_sla_hours) {
        return 0;
    }
    start(a, "freshness", "lag_hours", column);
    a->has_band = 1;
    a->score = lag / (t->freshness_sla_hours > 0 ? t->freshness_sla_hours : 1);
    a->observed = lag;
    a->expected_low = 0;
    a->expected_high = t->freshness_sla_hours;
    a->direction = "down";
    a->severity = "error";
    drift_format_day(day, when);
    snprintf(a->explanation, sizeof(a->explanation),
             "%s: newest value %s is %.0f hours behind the end of %s (SLA %.0f hours)", column,
             max_value, lag, when, t->freshness_sla_hours);
    return 1;
}
