/*
 * report_text.c - the drift report as text: a growing buffer, escaping, and
 * the Markdown and HTML documents built from a drift.detect output. Pure
 * functions (no store, no llm), so tests check the documents directly.
 *
 * The HTML is self-contained (inline CSS and SVG, no script, no external
 * asset) and well-formed XML as well as HTML, so it opens from a mail
 * attachment or an S3 console preview and any XML parser can check it.
 */
#include "drift.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- buffer ---- */

void drift_buf_addf(struct weir_strbuf *b, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    weir_strbuf_vaddf(drift_host, b, fmt, ap);
    va_end(ap);
}

/* Text into HTML/XML: the five characters that can end a text or an attribute. */
static void add_esc(struct weir_strbuf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': drift_buf_addf(b, "&amp;"); break;
        case '<': drift_buf_addf(b, "&lt;"); break;
        case '>': drift_buf_addf(b, "&gt;"); break;
        case '"': drift_buf_addf(b, "&quot;"); break;
        case '\'': drift_buf_addf(b, "&#39;"); break;
        default: drift_buf_addf(b, "%c", *s);
        }
    }
}

/* Text into a Markdown table cell: '|' and line breaks would end the cell. */
static void add_md_cell(struct weir_strbuf *b, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '|') {
            drift_buf_addf(b, "\\|");
        }
        else if (*s == '\n' || *s == '\r') {
            drift_buf_addf(b, " ");
        }
        else {
            drift_buf_addf(b, "%c", *s);
        }
    }
}

/* ---- reading the detection ---- */

static const char *str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static double num(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

/* "row_count" or "amount.null_pct". */
static void metric_name(const json_t *o, char *buf, size_t size)
{
    const char *col = str(o, "column");

    snprintf(buf, size, "%s%s%s", col, *col ? "." : "", str(o, "metric"));
}

static size_t count_severity(const json_t *anomalies, const char *severity)
{
    size_t i, n = 0;
    const json_t *a;

    json_array_foreach(anomalies, i, a) {
        n += strcmp(str(a, "severity"), severity) == 0;
    }
    return n;
}

void drift_report_summary(const json_t *det, struct weir_strbuf *b)
{
    const json_t *anomalies = json_object_get(det, "anomalies");
    size_t errors = count_severity(anomalies, "error"), warns = count_severity(anomalies, "warn");
    const json_t *first = json_array_get(anomalies, 0);
    char status[8];

    snprintf(status, sizeof(status), "%s", str(det, "status"));
    for (char *p = status; *p; p++) {
        *p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
    }
    drift_buf_addf(b, "%s %s: %s, %zu error%s, %zu warning%s (%lld history days, %zu checks)",
                   str(det, "table"), str(det, "date"), status, errors, errors == 1 ? "" : "s",
                   warns, warns == 1 ? "" : "s",
                   (long long)json_integer_value(json_object_get(det, "history_days")),
                   json_array_size(json_object_get(det, "checked")));
    if (json_is_object(json_object_get(det, "tests"))) {
        const json_t *t = json_object_get(det, "tests");

        drift_buf_addf(b, "; post-load tests: %lld passed, %lld failed",
                       (long long)json_integer_value(json_object_get(t, "passed")),
                       (long long)json_integer_value(json_object_get(t, "failed")));
    }
    if (first) {
        drift_buf_addf(b, "; %s: %s", str(first, "detector"), str(first, "explanation"));
    }
}

/* The day's post-load test results (a results/<table>/<date>.json document
 * under "tests"): the counts, then every test that did not pass; nothing
 * when there are none. As HTML or as Markdown. */
static void add_tests(struct weir_strbuf *b, const json_t *det, int html)
{
    void (*text)(struct weir_strbuf *, const char *) = html ? add_esc : add_md_cell;
    const json_t *t = json_object_get(det, "tests"), *r;
    size_t i;

    if (!json_is_object(t)) {
        return;
    }
    drift_buf_addf(b, html ? "<h2>Post-load tests of the day</h2>\n<p>"
                           : "\n## Post-load tests of the day\n\n");
    drift_buf_addf(b, "%lld passed, %lld failed, %lld errors, %lld skipped.",
                   (long long)json_integer_value(json_object_get(t, "passed")),
                   (long long)json_integer_value(json_object_get(t, "failed")),
                   (long long)json_integer_value(json_object_get(t, "errors")),
                   (long long)json_integer_value(json_object_get(t, "skipped")));
    drift_buf_addf(b, html ? "</p>\n<ul>\n" : "\n");
    json_array_foreach(json_object_get(t, "results"), i, r) {
        if (strcmp(str(r, "status"), "passed") != 0 && strcmp(str(r, "status"), "skipped") != 0) {
            drift_buf_addf(b, html ? "<li>" : "- ");
            text(b, str(r, "status"));
            drift_buf_addf(b, html ? " <code>" : " `");
            text(b, str(r, "name"));
            drift_buf_addf(b, html ? "</code> (" : "` (");
            text(b, str(r, "severity"));
            drift_buf_addf(b, "): ");
            text(b, *str(r, "message") ? str(r, "message") : str(r, "expectation"));
            drift_buf_addf(b, html ? "</li>\n" : "\n");
        }
    }
    if (html) {
        drift_buf_addf(b, "</ul>\n");
    }
}

/* ---- numbers ---- */

/* A value for people: integers without decimals, others with 4 significant digits. */
static void add_num(struct weir_strbuf *b, double v)
{
    if (isnan(v)) {
        drift_buf_addf(b, "-");
    }
    else if (fabs(v) < 1e15 && v == floor(v)) {
        drift_buf_addf(b, "%.0f", v);
    }
    else {
        drift_buf_addf(b, "%.4g", v);
    }
}

static void add_band(struct weir_strbuf *b, const json_t *o)
{
    double lo = num(o, "expected_low"), hi = num(o, "expected_high");

    if (isnan(lo) && isnan(hi)) {
        drift_buf_addf(b, "-");
        return;
    }
    add_num(b, lo);
    drift_buf_addf(b, " to ");
    add_num(b, hi);
}

/* ---- Markdown ---- */

/* A text sparkline: one block character per day, for terminals and Markdown. */
static void add_text_spark(struct weir_strbuf *b, const json_t *points)
{
    static const char *const blocks[] = { "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█" };
    double lo = INFINITY, hi = -INFINITY;
    size_t i;
    const json_t *p;

    json_array_foreach(points, i, p) {
        lo = fmin(lo, num(p, "value"));
        hi = fmax(hi, num(p, "value"));
    }
    json_array_foreach(points, i, p) {
        double v = num(p, "value");
        int k = hi > lo ? (int)floor((v - lo) / (hi - lo) * 7.0 + 0.5) : 3;

        drift_buf_addf(b, "%s", blocks[k < 0 ? 0 : k > 7 ? 7 : k]);
    }
}

static void md_anomalies(struct weir_strbuf *b, const json_t *list)
{
    size_t i;
    const json_t *a;
    char name[320];

    drift_buf_addf(b, "| severity | detector | metric | observed | expected | score | explanation |\n"
                      "|---|---|---|---|---|---|---|\n");
    json_array_foreach(list, i, a) {
        metric_name(a, name, sizeof(name));
        drift_buf_addf(b, "| %s | %s | `", str(a, "severity"), str(a, "detector"));
        add_md_cell(b, name);
        drift_buf_addf(b, "` | ");
        add_num(b, num(a, "observed"));
        drift_buf_addf(b, " | ");
        add_band(b, a);
        drift_buf_addf(b, " | ");
        add_num(b, num(a, "score"));
        drift_buf_addf(b, " | ");
        add_md_cell(b, str(a, "explanation"));
        drift_buf_addf(b, " |\n");
    }
}

void drift_report_markdown(const json_t *det, const char *narrative, struct weir_strbuf *b)
{
    const json_t *anomalies = json_object_get(det, "anomalies");
    const json_t *suppressed = json_object_get(det, "suppressed");
    const json_t *s;
    size_t i;
    char name[320];

    drift_buf_addf(b, "# Drift report: %s, %s\n\n", str(det, "table"), str(det, "date"));
    drift_report_summary(det, b);
    drift_buf_addf(b, "\n\n## Anomalies\n\n");
    if (json_array_size(anomalies)) {
        md_anomalies(b, anomalies);
    }
    else {
        drift_buf_addf(b, "None: every check is within its expected range.\n");
    }
    if (json_array_size(suppressed)) {
        drift_buf_addf(b, "\n## Marked expected (feedback file)\n\n");
        md_anomalies(b, suppressed);
    }
    add_tests(b, det, 0);
    if (narrative && *narrative) {
        drift_buf_addf(b, "\n## What it may mean\n\n%s\n", narrative);
    }
    drift_buf_addf(b, "\n## Metrics\n\n| metric | today | expected | history |\n|---|---|---|---|\n");
    json_array_foreach(json_object_get(det, "series"), i, s) {
        metric_name(s, name, sizeof(name));
        drift_buf_addf(b, "| `");
        add_md_cell(b, name);
        drift_buf_addf(b, "`%s | ", json_is_true(json_object_get(s, "anomalous")) ? " **anomalous**" : "");
        add_num(b, num(s, "observed"));
        drift_buf_addf(b, " | ");
        add_band(b, s);
        drift_buf_addf(b, " | ");
        add_text_spark(b, json_object_get(s, "points"));
        drift_buf_addf(b, " |\n");
    }
    drift_buf_addf(b, "\nAn alarm that was expected (a planned backfill, a known outage) is silenced by "
                      "adding `{\"date\": \"%s\", \"detector\": ..., \"metric\": ..., \"column\": ...}` "
                      "to `contracts/%s.drift-feedback.json`.\n",
                   str(det, "date"), str(det, "table"));
}

/* ---- HTML ---- */

#define SPARK_W 260.0
#define SPARK_H 56.0
#define SPARK_PAD 5.0

/* One metric's chart: the expected band of today, the series, flagged days
 * in red, today as the last, larger point. */
static void html_spark(struct weir_strbuf *b, const json_t *s)
{
    const json_t *points = json_object_get(s, "points"), *p;
    double lo = num(s, "expected_low"), hi = num(s, "expected_high"), y0, y1;
    size_t i, n = json_array_size(points);
    char name[320];

    json_array_foreach(points, i, p) {
        lo = fmin(lo, num(p, "value"));
        hi = fmax(hi, num(p, "value"));
    }
    if (!(hi > lo)) {
        hi = lo + 1.0;
    }
    metric_name(s, name, sizeof(name));
#define X(k) (SPARK_PAD + (n > 1 ? (double)(k) * (SPARK_W - 2 * SPARK_PAD) / (double)(n - 1) : 0.0))
#define Y(v) (SPARK_H - SPARK_PAD - ((v) - lo) / (hi - lo) * (SPARK_H - 2 * SPARK_PAD))
    drift_buf_addf(b, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"spark\" width=\"%.0f\" "
                      "height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" data-metric=\"",
                   SPARK_W, SPARK_H, SPARK_W, SPARK_H);
    add_esc(b, name);
    drift_buf_addf(b, "\"><title>");
    add_esc(b, name);
    drift_buf_addf(b, ": %zu days, expected ", n);
    add_band(b, s);
    drift_buf_addf(b, "</title>");
    y0 = Y(num(s, "expected_high"));
    y1 = Y(num(s, "expected_low"));
    drift_buf_addf(b, "<rect class=\"band\" x=\"0\" y=\"%.1f\" width=\"%.0f\" height=\"%.1f\"/>",
                   y0, SPARK_W, fmax(y1 - y0, 1.0));
    drift_buf_addf(b, "<polyline class=\"line\" points=\"");
    json_array_foreach(points, i, p) {
        drift_buf_addf(b, "%s%.1f,%.1f", i ? " " : "", X(i), Y(num(p, "value")));
    }
    drift_buf_addf(b, "\"/>");
    json_array_foreach(points, i, p) {
        int last = i + 1 == n, bad = json_is_true(json_object_get(p, "flagged"));

        if (bad || last) {
            drift_buf_addf(b, "<circle class=\"%s\" cx=\"%.1f\" cy=\"%.1f\" r=\"%d\"><title>%s: ",
                           bad ? "anomaly" : "today", X(i), Y(num(p, "value")), last ? 4 : 3,
                           str(p, "date"));
            add_num(b, num(p, "value"));
            drift_buf_addf(b, "</title></circle>");
        }
    }
    drift_buf_addf(b, "</svg>");
#undef X
#undef Y
}

static void html_anomalies(struct weir_strbuf *b, const json_t *list)
{
    size_t i;
    const json_t *a;
    char name[320];

    drift_buf_addf(b, "<table><thead><tr><th>severity</th><th>detector</th><th>metric</th>"
                      "<th>observed</th><th>expected</th><th>score</th><th>explanation</th></tr>"
                      "</thead><tbody>\n");
    json_array_foreach(list, i, a) {
        metric_name(a, name, sizeof(name));
        drift_buf_addf(b, "<tr class=\"%s\"><td>", strcmp(str(a, "severity"), "error") ? "warn" : "error");
        add_esc(b, str(a, "severity"));
        drift_buf_addf(b, "</td><td>");
        add_esc(b, str(a, "detector"));
        drift_buf_addf(b, "</td><td><code>");
        add_esc(b, name);
        drift_buf_addf(b, "</code></td><td>");
        add_num(b, num(a, "observed"));
        drift_buf_addf(b, "</td><td>");
        add_band(b, a);
        drift_buf_addf(b, "</td><td>");
        add_num(b, num(a, "score"));
        drift_buf_addf(b, "</td><td>");
        add_esc(b, str(a, "explanation"));
        drift_buf_addf(b, "</td></tr>\n");
    }
    drift_buf_addf(b, "</tbody></table>\n");
}

static const char css[] =
    "body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#1d2329;max-width:1100px}"
    "h1{font-size:20px}h2{font-size:16px;margin-top:28px}"
    "table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #dde;padding:4px 6px;"
    "text-align:left;vertical-align:top}tr.error td:first-child{color:#b00020;font-weight:600}"
    "tr.warn td:first-child{color:#a15c00;font-weight:600}.status-error{color:#b00020}"
    ".status-warn{color:#a15c00}.status-ok{color:#1b7f3b}"
    ".charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(280px,1fr));gap:12px}"
    ".chart{border:1px solid #e3e6ea;border-radius:6px;padding:6px}.chart.bad{border-color:#b00020}"
    ".chart p{margin:0 0 4px;font-size:12px}"
    ".band{fill:#cfe8d5}.line{fill:none;stroke:#4a5a6a;stroke-width:1.5}"
    ".anomaly{fill:#b00020}.today{fill:#1d2329}";

static void html_charts(struct weir_strbuf *b, const json_t *series, int anomalous)
{
    size_t i;
    const json_t *s;
    char name[320];

    json_array_foreach(series, i, s) {
        if (json_is_true(json_object_get(s, "anomalous")) != anomalous) {
            continue;
        }
        metric_name(s, name, sizeof(name));
        drift_buf_addf(b, "<div class=\"chart%s\"><p><code>", anomalous ? " bad" : "");
        add_esc(b, name);
        drift_buf_addf(b, "</code> today ");
        add_num(b, num(s, "observed"));
        drift_buf_addf(b, ", expected ");
        add_band(b, s);
        drift_buf_addf(b, "</p>");
        html_spark(b, s);
        drift_buf_addf(b, "</div>\n");
    }
}

void drift_report_html(const json_t *det, const char *narrative, struct weir_strbuf *b)
{
    const json_t *anomalies = json_object_get(det, "anomalies");
    const json_t *suppressed = json_object_get(det, "suppressed");

    drift_buf_addf(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/>"
                      "<meta name=\"viewport\" content=\"width=device-width\"/><title>Drift: ");
    add_esc(b, str(det, "table"));
    drift_buf_addf(b, " ");
    add_esc(b, str(det, "date"));
    drift_buf_addf(b, "</title><style>%s</style></head>\n<body>\n<h1>Drift report: ", css);
    add_esc(b, str(det, "table"));
    drift_buf_addf(b, ", ");
    add_esc(b, str(det, "date"));
    drift_buf_addf(b, "</h1>\n<p class=\"status-%s\">", str(det, "status"));
    {
        struct weir_strbuf line = { 0 };

        drift_report_summary(det, &line);
        add_esc(b, line.failed || !line.s ? "" : line.s);
        b->failed |= line.failed;
        drift_host->free(line.s);
    }
    drift_buf_addf(b, "</p>\n<h2>Anomalies</h2>\n");
    if (json_array_size(anomalies)) {
        html_anomalies(b, anomalies);
    }
    else {
        drift_buf_addf(b, "<p>None: every check is within its expected range.</p>\n");
    }
    if (json_array_size(suppressed)) {
        drift_buf_addf(b, "<h2>Marked expected (feedback file)</h2>\n");
        html_anomalies(b, suppressed);
    }
    add_tests(b, det, 1);
    if (narrative && *narrative) {
        drift_buf_addf(b, "<h2>What it may mean</h2>\n<p>");
        add_esc(b, narrative);
        drift_buf_addf(b, "</p>\n");
    }
    drift_buf_addf(b, "<h2>Metrics</h2>\n<p>Green: the range expected today. Red: days flagged. "
                      "The last point is today.</p>\n<div class=\"charts\">\n");
    html_charts(b, json_object_get(det, "series"), 1);
    html_charts(b, json_object_get(det, "series"), 0);
    drift_buf_addf(b, "</div>\n</body></html>\n");
}
