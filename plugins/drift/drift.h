/*
 * drift.h - the drift plugin's model: day numbers, thresholds, anomalies,
 * the pure detectors (no I/O, unit-tested on synthetic series) and the
 * stats-history reader.
 */
#ifndef WEIR_DRIFT_H
#define WEIR_DRIFT_H

#include <stddef.h>

#include <jansson.h>

#include "weir/weir.h"

extern const struct weir_host_api *drift_host;

/* ---- days ---- */

/* "YYYY-MM-DD" (only the first 10 characters are read) -> days since
 * 1970-01-01, or -1 when it is not a valid date. */
int drift_parse_day(const char *s);
/* Writes day as "YYYY-MM-DD" into buf (at least 11 bytes). */
void drift_format_day(int day, char *buf);
/* 0 = Monday ... 6 = Sunday. */
int drift_weekday(int day);

/* ---- thresholds ---- */

struct drift_thresholds {
    int min_history;         /* baseline days before a statistical detector fires */
    int window_days;         /* history window read and used as baseline */
    double volume_pct;       /* the spec's rule: +-% of the rolling mean */
    int volume_mean_days;    /* ... over this many days */
    double z;                /* robust z-score threshold (median/MAD) */
    int seasonal_min_points; /* same-weekday points needed for day-of-week seasonality */
    double null_points;      /* null_pct jump, absolute percentage points */
    double shift_min_rel;    /* distribution shift must also move this share of the median */
    double unique_tolerance; /* duplicate rate tolerated on approximate distinct counts */
    double psi_warn;
    double psi_error;
    double new_category_share; /* a new value must hold this share of rows */
    double freshness_sla_hours;
};

void drift_thresholds_default(struct drift_thresholds *t);
/* Applies overrides from a JSON object; unknown keys or wrong types are an
 * error (returns WEIR_EINVALID with the message set through drift_host). */
int drift_thresholds_apply(struct drift_thresholds *t, const json_t *overrides);

/* ---- anomalies ---- */

struct drift_anomaly {
    const char *detector; /* static string */
    char metric[64];
    char column[256]; /* "" for table-level metrics */
    double score;
    double expected_low, expected_high, observed;
    int has_band;          /* expected_* and observed meaningful */
    const char *direction; /* up|down|new|gone|changed */
    const char *severity;  /* error|warn */
    char explanation[512];
};

/* The anomaly as the JSON object of drift.detect's output (new reference). */
json_t *drift_anomaly_json(const struct drift_anomaly *a, const char *date);

/* ---- numeric series detectors (detect.c) ---- */

struct drift_point {
    int day;
    double value;
};

enum drift_rule {
    DRIFT_VOLUME, /* row_count: +-% of the rolling mean AND robust z (seasonal) */
    DRIFT_NULLS,  /* null_pct: +N points AND robust z */
    DRIFT_SHIFT,  /* p50/p95/mean: robust z AND a minimum relative move */
    DRIFT_UNIQUE  /* distinct/rows of a column that was unique */
};

/*
 * Evaluates every day of a date-ordered series in order, each against the
 * earlier days of the window that were not flagged themselves (so an anomaly
 * never widens the band of the days after it). A run of min_history flagged
 * days in a row is a level shift, and re-enters the baseline as the new
 * normal. expected (may be NULL) marks days a person declared expected:
 * never flagged, always baseline. flags (n bytes, may be NULL) receives the
 * verdict per day. Returns 1 and fills *a when the LAST day is anomalous,
 * 0 when it is not (or could not be judged: too little history). When the
 * last day was judged, *a has its band (has_band, expected_*, observed)
 * either way, so a report can draw it; the caller zeroes *a first.
 */
int drift_check_series(enum drift_rule rule, const struct drift_point *pts, size_t n,
                       const unsigned char *expected, const struct drift_thresholds *t,
                       const char *metric, const char *column, unsigned char *flags,
                       struct drift_anomaly *a);

/* ---- categorical, schema, freshness (detect_cat.c) ---- */

struct drift_cat_value {
    const char *value;
    double count;
};

/* One day's top values of a column. complete: the list holds every distinct
 * value (distinct_count <= its length), so absence means "not present". */
struct drift_cats {
    int day;
    double rows;
    const struct drift_cat_value *values;
    size_t n;
    int complete;
};

/* PSI of today against the mean shares of the baseline days (top values plus
 * an "other" bucket). Returns 1 with *a filled when PSI > psi_warn and at
 * least min_history baseline days exist. */
int drift_check_psi(const struct drift_cats *base, size_t nbase, const struct drift_cats *today,
                    const struct drift_thresholds *t, const char *column, struct drift_anomaly *a);

/* New values (absent in every baseline day, >= new_category_share of today's
 * rows) and vanished ones (present every baseline day, absent today). Writes
 * up to max anomalies; returns how many. */
size_t drift_check_categories(const struct drift_cats *base, size_t nbase,
                              const struct drift_cats *today, const struct drift_thresholds *t,
                              const char *column, struct drift_anomaly *out, size_t max);

struct drift_column {
    const char *name;
    const char *type;
};

/* Columns added, removed, retyped, or reordered between two days. Writes up
 * to max anomalies; returns how many. */
size_t drift_check_schema(const struct drift_column *before, size_t nbefore,
                          const struct drift_column *after, size_t nafter,
                          struct drift_anomaly *out, size_t max);

/* Parses a date or timestamp ("YYYY-MM-DD", "YYYY-MM-DD[ T]HH:MM[:SS[.f]][Z|+hh:mm]")
 * into seconds since the epoch (UTC); a bare date counts as the end of that
 * day. Returns 0, or -1 when it is not one. */
int drift_parse_time(const char *s, double *epoch);

/* Freshness: lag of max_value behind the end of day `day`, against the SLA.
 * Returns 1 with *a filled when the lag exceeds it. */
int drift_check_freshness(const char *max_value, int day, const struct drift_thresholds *t,
                          const char *column, struct drift_anomaly *a);

/* ---- history (history.c) ---- */

struct drift_day {
    int day;
    json_t *profile; /* owned */
};

struct drift_history {
    struct drift_day *days; /* date order */
    size_t n;
    size_t skipped; /* unreadable files passed over */
};

/* Reads stats-history/<table>/<day>.json for days in [to - window, to - 1]
 * through the store service; gaps are fine, an unreadable or invalid file is
 * skipped with a warning. */
int drift_history_read(weir_ctx *ctx, const char *table, int to, int window,
                       struct drift_history *h);
void drift_history_free(struct drift_history *h);

/* The JSON value at uri in the store (new reference), or *value NULL when
 * there is no such key; other failures are returned with the error set. */
int drift_store_get_json(weir_ctx *ctx, const char *uri, json_t **value);

/* Table names end up in store keys: letters, digits, '_', '-', '.' only,
 * no "..", not starting with '.'. */
int drift_table_ok(const char *table);

/* Checks that a profile has the shape drift reads (row_count, column_stats). */
int drift_profile_valid(const json_t *profile);

/* ---- reports (report_text.c: documents; report.c: the step) ---- */

/* Appends to a report being built (weir_strbuf, allocated through the host). */
void drift_buf_addf(struct weir_strbuf *b, const char *fmt, ...) WEIR__PRINTF(2, 3);

/* One line: "<table> <date>: ERROR, 1 error, 0 warnings (...); <first explanation>". */
void drift_report_summary(const json_t *detection, struct weir_strbuf *b);
/* The report of a drift.detect output, with an optional narrative (NULL: none). */
void drift_report_markdown(const json_t *detection, const char *narrative, struct weir_strbuf *b);
/* The same as one self-contained HTML page: one inline SVG chart per series. */
void drift_report_html(const json_t *detection, const char *narrative, struct weir_strbuf *b);

/* ---- steps ---- */

extern const struct weir_step_desc drift_step_record;
extern const struct weir_step_desc drift_step_detect;
extern const struct weir_step_desc drift_step_report;

#endif
