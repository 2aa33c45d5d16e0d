/*
 * test_report.c - the drift report documents (report_text.c) from a
 * hand-written detection: what a reader must find in them, and that text
 * from the data (column names, explanations) cannot break out of HTML or a
 * Markdown table cell, and the day's post-load test results in the report.
 */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "drift.h"
#include "plugins.h"

const struct weir_host_api *drift_host;

static const char detection[] =
    "{\"table\": \"db.t\", \"date\": \"2026-10-02\", \"history_days\": 28, \"status\": \"error\","
    " \"checked\": [{}, {}],"
    " \"anomalies\": [{\"detector\": \"distribution\", \"metric\": \"mean\", \"column\": \"a<b>&\\\"c|d\","
    "   \"severity\": \"error\", \"observed\": 2500.5, \"expected_low\": 900, \"expected_high\": 1100,"
    "   \"score\": 41.25, \"explanation\": \"moved <script>alert(1)</script> | far\"}],"
    " \"suppressed\": [],"
    " \"series\": ["
    "  {\"detector\": \"volume\", \"metric\": \"row_count\", \"column\": null, \"observed\": 400,"
    "   \"expected_low\": 300, \"expected_high\": 500, \"anomalous\": false,"
    "   \"points\": [{\"date\": \"2026-09-30\", \"value\": 390, \"flagged\": false},"
    "               {\"date\": \"2026-10-01\", \"value\": 120, \"flagged\": true},"
    "               {\"date\": \"2026-10-02\", \"value\": 400, \"flagged\": false}]},"
    "  {\"detector\": \"distribution\", \"metric\": \"mean\", \"column\": \"a<b>&\\\"c|d\", \"observed\": 2500.5,"
    "   \"expected_low\": 900, \"expected_high\": 1100, \"anomalous\": true,"
    "   \"points\": [{\"date\": \"2026-10-01\", \"value\": 1000, \"flagged\": false},"
    "               {\"date\": \"2026-10-02\", \"value\": 2500.5, \"flagged\": true}]}]}";

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;

    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle)) {
        n++;
    }
    return n;
}

static void test_markdown(void **state)
{
    json_t *det = json_loads(detection, 0, NULL);
    struct weir_strbuf b = { 0 };

    (void)state;
    assert_non_null(det);
    drift_report_markdown(det, "Check the loader.", &b);
    assert_false(b.failed);
    assert_non_null(strstr(b.s, "# Drift report: db.t, 2026-10-02\n"));
    assert_non_null(strstr(b.s, "db.t 2026-10-02: ERROR, 1 error, 0 warnings (28 history days, 2 checks)"));
    /* a '|' in a name or an explanation must not open a new cell */
    assert_non_null(strstr(b.s, "| error | distribution | `a<b>&\"c\\|d.mean` | 2500 | 900 to 1100 | 41.25 |"));
    assert_non_null(strstr(b.s, "moved <script>alert(1)</script> \\| far |"));
    assert_non_null(strstr(b.s, "## What it may mean\n\nCheck the loader.\n"));
    /* the metrics table: one row per series, the anomalous one marked */
    assert_non_null(strstr(b.s, "| `row_count` | 400 | 300 to 500 | █▁█ |"));
    assert_non_null(strstr(b.s, "`a<b>&\"c\\|d.mean` **anomalous** |"));
    free(b.s);
    json_decref(det);
}

static void test_html(void **state)
{
    json_t *det = json_loads(detection, 0, NULL);
    struct weir_strbuf b = { 0 };

    (void)state;
    drift_report_html(det, NULL, &b);
    assert_false(b.failed);
    assert_true(strncmp(b.s, "<!DOCTYPE html>\n<html lang=\"en\">", 32) == 0);
    assert_non_null(strstr(b.s, "</body></html>\n"));
    /* data never becomes markup */
    assert_null(strstr(b.s, "<script"));
    assert_null(strstr(b.s, "a<b>"));
    assert_non_null(strstr(b.s, "<code>a&lt;b&gt;&amp;&quot;c|d.mean</code>"));
    assert_non_null(strstr(b.s, "moved &lt;script&gt;alert(1)&lt;/script&gt; | far"));
    /* one chart per series, the anomalous first, flagged days and today marked */
    assert_int_equal(count(b.s, "<svg "), 2);
    assert_int_equal(count(b.s, "class=\"chart bad\""), 1);
    assert_true(strstr(b.s, "data-metric=\"a&lt;b") < strstr(b.s, "data-metric=\"row_count\""));
    assert_int_equal(count(b.s, "<circle class=\"anomaly\""), 2); /* 10-01 of row_count, today of mean */
    assert_int_equal(count(b.s, "<circle class=\"today\""), 1);  /* today of row_count */
    assert_int_equal(count(b.s, "<rect class=\"band\""), 2);
    /* no narrative section without a narrative */
    assert_null(strstr(b.s, "What it may mean"));
    free(b.s);
    json_decref(det);
}

static void test_same_detection_same_bytes(void **state)
{
    json_t *det = json_loads(detection, 0, NULL);
    struct weir_strbuf a = { 0 }, b = { 0 };

    (void)state;
    drift_report_html(det, "x", &a);
    drift_report_html(det, "x", &b);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.s, b.s, a.len);
    free(a.s);
    free(b.s);
    json_decref(det);
}

static void test_post_load_tests(void **state)
{
    json_t *det = json_loads(detection, 0, NULL);
    struct weir_strbuf md = { 0 }, html = { 0 };

    (void)state;
    json_object_set_new(det, "tests",
                        json_pack("{s:i,s:i,s:i,s:i,s:[{s:s,s:s,s:s,s:s},{s:s,s:s,s:s,s:s}]}",
                                  "passed", 7, "failed", 1, "errors", 0, "skipped", 0, "results",
                                  "name", "not_null_loan_id", "status", "passed", "severity",
                                  "error", "expectation", "count == 0", "name", "unique_<id>",
                                  "status", "failed", "severity", "error", "expectation",
                                  "count == 0"));
    drift_report_markdown(det, NULL, &md);
    drift_report_html(det, NULL, &html);
    assert_non_null(strstr(md.s, "post-load tests: 7 passed, 1 failed"));
    assert_non_null(strstr(md.s, "## Post-load tests of the day\n\n7 passed, 1 failed, 0 errors, 0 skipped.\n"
                                 "- failed `unique_<id>` (error): count == 0\n"));
    assert_null(strstr(md.s, "not_null_loan_id")); /* passed tests are not listed */
    assert_non_null(strstr(html.s, "<li>failed <code>unique_&lt;id&gt;</code> (error): count == 0</li>"));
    free(md.s);
    free(html.s);
    json_decref(det);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_markdown),
        cmocka_unit_test(test_html),
        cmocka_unit_test(test_same_detection_same_bytes),
        cmocka_unit_test(test_post_load_tests),
    };
    drift_host = weir_host_api_get(); /* the documents are built with host allocations */
    return cmocka_run_group_tests(tests, NULL, NULL);
}
