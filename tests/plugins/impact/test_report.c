/*
 * test_report.c - impact.report in a pipeline on the real fs store: a
 * hand-made impact.diff output (a column renamed, a join made left, a
 * filter added) against a contract and tests in the store. Checks which
 * rules, checks and tests are obsolete or suspicious and why, the escalation
 * of a change that obsoletes an error rule, the suggested edits, the
 * artifacts reports/impact/<id>.json and .md (byte-identical on a rerun),
 * a table without a contract, and a diff param that is not a diff.
 */
#include "rt_util.h"

#include <stdlib.h>
#include <string.h>

static const char PIPELINE[] = "version: 1\n"
                               "params:\n"
                               "  diff: { type: object, required: true }\n"
                               "steps:\n"
                               "  - id: report\n"
                               "    uses: impact.report\n"
                               "    with: { diff: \"${{ params.diff }}\", jobs: jobs }\n";

static const char CONTRACT[] = "{\"table_name\": \"loan_repayment_fact\", \"columns\": {"
                               " \"emi_amount\": {\"type\": \"double\", \"rules\": [{\"type\": "
                               "\"not_null\", \"severity\": \"error\"},"
                               "   {\"type\": \"min\", \"value\": 0, \"severity\": \"error\"}]},"
                               " \"status\": {\"type\": \"string\", \"rules\": [{\"type\": "
                               "\"allowed_values\", \"severity\": \"warn\","
                               "   \"values\": [\"SUCCESS\", \"FAILED\"]}]},"
                               " \"loan_id\": {\"type\": \"string\", \"rules\": [{\"type\": "
                               "\"not_null\", \"severity\": \"error\"}]}},"
                               " \"table_level_checks\": [{\"type\": \"row_count_range\", \"min\": "
                               "1, \"severity\": \"error\"},"
                               "  {\"type\": \"check\", \"name\": \"ck_emi_positive\", "
                               "\"expression\": \"emi_amount >= 0\", \"severity\": \"error\"}]}";

static const char TESTS[] =
    "{\"tests\": [{\"name\": \"emi_non_negative\", \"severity\": \"error\","
    "  \"sql\": \"SELECT COUNT(*) FROM analytics_db.loan_repayment_fact WHERE emi_amount < 0\"},"
    " {\"name\": \"loan_id_not_null\", \"sql\": \"SELECT COUNT(*) FROM t WHERE loan_id IS NULL\"},"
    " {\"name\": \"status_known\", \"severity\": \"warn\", \"sql\": \"SELECT COUNT(*) FROM t WHERE "
    "status NOT IN ('SUCCESS')\"}]}";

static const char DIFF[] =
    "{\"report_id\": \"abc123\", \"from\": {\"rev\": \"main\", \"commit\": \"c1\"},"
    " \"to\": {\"rev\": \"feature\", \"commit\": \"c2\"}, \"files\": ["
    " {\"path\": \"jobs/etl.py\", \"state\": \"modified\", \"diff\": \"-a\\n+b\\n\","
    "  \"before\": {\"output\": \"analytics_db.loan_repayment_fact\"},"
    "  \"after\": {\"output\": \"analytics_db.loan_repayment_fact\"}, \"changes\": ["
    "   {\"kind\": \"column_renamed\", \"what\": \"column emi_amount renamed to repayment_amount\","
    "    \"before\": \"emi_amount\", \"after\": \"repayment_amount\", \"line_before\": 31, "
    "\"line_after\": 31,"
    "    \"columns_affected\": [\"emi_amount\"], \"classification\": \"breaking\", \"reason\": "
    "\"r\"},"
    "   {\"kind\": \"join_type_changed\", \"what\": \"join with analytics_db.dim_customer: inner "
    "-> left\","
    "    \"before\": \"inner\", \"after\": \"left\", \"line_before\": 26, \"line_after\": 26,"
    "    \"right_table\": \"analytics_db.dim_customer\","
    "    \"columns_affected\": [], \"classification\": \"needs_review\", \"reason\": \"r\"},"
    "   {\"kind\": \"filter_added\", \"what\": \"filter added: status <> 'PENDING'\","
    "    \"before\": null, \"after\": \"status <> 'PENDING'\", \"line_before\": null, "
    "\"line_after\": 12,"
    "    \"columns_affected\": [\"status\"], \"classification\": \"needs_review\", \"reason\": "
    "\"r\"}]},"
    " {\"path\": \"jobs/to_s3.py\", \"state\": \"modified\", \"diff\": \"\","
    "  \"after\": {\"output\": \"s3://bucket/../exports/\"}, \"changes\": ["
    "   {\"kind\": \"column_removed\", \"what\": \"column y removed\", \"columns_affected\": "
    "[\"y\"],"
    "    \"classification\": \"breaking\", \"reason\": \"r\"}]},"
    " {\"path\": \"jobs/other.sql\", \"state\": \"added\", \"diff\": \"\", \"before\": null,"
    "  \"after\": {\"output\": \"analytics_db.no_contract\"}, \"changes\": ["
    "   {\"kind\": \"column_removed\", \"what\": \"column x removed\", \"before\": \"x\", "
    "\"after\": null,"
    "    \"line_before\": 3, \"line_after\": null, \"columns_affected\": [\"x\"],"
    "    \"classification\": \"breaking\", \"reason\": \"r\"}]}]}";

static struct rt_project *project(void)
{
    struct rt_project *p = rt_project_new(NULL);

    free(rt_write(p, "lake/contracts/analytics_db.loan_repayment_fact.json", CONTRACT));
    free(rt_write(p, "lake/tests/analytics_db.loan_repayment_fact.json", TESTS));
    free(rt_write(p, "jobs/README.md", "no job scripts here\n"));
    return p;
}

static json_t *run_report(struct rt_project *p, const char *diff_text, const char **status)
{
    json_t *params = json_pack("{s:o}", "diff", json_loads(diff_text, 0, NULL)), *summary;
    enum weir_run_status st;

    summary = rt_run(p, "impact.yaml", PIPELINE, 1, params, &st, NULL);
    *status = rt_step_status(summary, "report");
    json_decref(params);
    return summary;
}

/* "kind name status" of each reference of change i, joined by "; ". */
static const char *refs(const json_t *file, size_t i)
{
    static char buf[2048];
    const json_t *r;
    size_t k;

    buf[0] = '\0';
    json_array_foreach(
        json_object_get(json_array_get(json_object_get(file, "changes"), i), "contract_refs"), k,
        r) {
        snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s %s %s", k ? "; " : "",
                 json_string_value(json_object_get(r, "kind")),
                 json_string_value(json_object_get(r, "name")),
                 json_string_value(json_object_get(r, "status")));
    }
    return buf;
}

static void test_report_refs_and_artifacts(void **state)
{
    struct rt_project *p = project();
    const char *status;
    json_t *summary = run_report(p, DIFF, &status), *out, *file, *c;
    char *path, *md, *first;
    size_t len;

    (void)state;
    assert_string_equal(status, "success");
    out = json_object_get(rt_step(summary, "report"), "output");
    assert_string_equal(json_string_value(json_object_get(out, "status")), "breaking");
    tu_assert_json(json_object_get(out, "counts"),
                   "{\"breaking\":3,\"needs_review\":2,\"non_breaking\":0}");
    file = json_array_get(json_object_get(out, "files"), 0);
    assert_string_equal(json_string_value(json_object_get(file, "output")),
                        "analytics_db.loan_repayment_fact");
    tu_assert_json(json_object_get(file, "affected_columns"), "[\"emi_amount\",\"status\"]");

    assert_string_equal(refs(file, 0),
                        "rule emi_amount.not_null obsolete; rule emi_amount.min obsolete; "
                        "check ck_emi_positive obsolete; test emi_non_negative obsolete");
    c = json_array_get(
        json_object_get(json_array_get(json_object_get(file, "changes"), 0), "contract_refs"), 0);
    assert_non_null(strstr(json_string_value(json_object_get(c, "reason")), "renamed"));
    assert_string_equal(refs(file, 1), "check row_count_range suspicious");
    assert_string_equal(refs(file, 2),
                        "rule status.allowed_values suspicious; check row_count_range suspicious; "
                        "test status_known suspicious");
    assert_non_null(
        strstr(json_string_value(json_array_get(json_object_get(file, "suggested_edits"), 0)),
               "rename the column key \"emi_amount\" to \"repayment_amount\""));
    assert_non_null(
        strstr(json_string_value(json_array_get(json_object_get(file, "suggested_edits"), 1)),
               "review row_count_range and grain_unique against a day of new output"));

    /* an output written to a path has no contract to look up (and is no store key) */
    file = json_array_get(json_object_get(out, "files"), 1);
    assert_string_equal(refs(file, 0), "");
    assert_string_equal(json_string_value(json_object_get(file, "output")),
                        "s3://bucket/../exports/");

    /* no contract for the third table: no references, still classified */
    file = json_array_get(json_object_get(out, "files"), 2);
    assert_string_equal(refs(file, 0), "");
    assert_string_equal(json_string_value(json_object_get(file, "status")), "breaking");

    assert_non_null(strstr(json_string_value(json_object_get(out, "summary")),
                           "rule emi_amount.not_null (error) is obsolete"));
    assert_true(asprintf(&path, "%s/lake/reports/impact/abc123.md", p->dir) > 0);
    md = tu_read_file(path, &len);
    assert_non_null(md);
    assert_non_null(
        strstr(md, "**Status: breaking** (3 breaking, 2 needs review, 0 non-breaking)"));
    assert_non_null(strstr(md, "| column emi_amount renamed to repayment_amount | **breaking** | "
                               "31 | [\"emi_amount\"] |"));
    assert_non_null(strstr(md, "- rule `emi_amount.min` (error): **obsolete**"));
    assert_non_null(strstr(md, "main (c1) .. feature (c2)"));
    assert_non_null(strstr(md, "- none: no rule or test of analytics_db.no_contract in the store"));
    free(md);
    free(path);
    assert_true(asprintf(&path, "%s/lake/reports/impact/abc123.json", p->dir) > 0);
    first = tu_read_file(path, &len);
    assert_non_null(first);
    json_decref(summary);

    /* a rerun writes the same bytes */
    summary = run_report(p, DIFF, &status);
    md = tu_read_file(path, &len);
    assert_string_equal(md, first);
    free(md);
    free(first);
    free(path);
    json_decref(summary);
    rt_project_free(p);
}

/* An inner -> left join to dim_customer: the output column fed by
 * dim_customer.segment (per the catalog) can now be null, so its not_null
 * error rule would fail: the change escalates to breaking. A recomputed
 * column stays needs_review, its rules only suspicious. */
static void test_escalation(void **state)
{
    struct rt_project *p = project();
    char *cat = NULL, *src = NULL;
    size_t len;
    const char *status;
    json_t *summary, *out, *file, *c;

    (void)state;
    assert_true(asprintf(&src, "%s/examples/catalog/analytics_db/dim_customer.json",
                         tu_env("WEIR_SOURCE_DIR")) > 0);
    cat = tu_read_file(src, &len);
    assert_non_null(cat);
    free(rt_write(p, "catalog/analytics_db/dim_customer.json", cat));
    /* get_table resolves the table's files: give it one */
    free(rt_write(p, "lake/example-lake/analytics_db/dim_customer/part-000.csv",
                  "customer_id,name,email,city,segment,created_at\n"));
    free(rt_write(
        p, "lake/contracts/analytics_db.t2.json",
        "{\"columns\": {\"customer_segment\": {\"rules\": [{\"type\": \"not_null\", \"severity\": "
        "\"error\"}]},"
        " \"customer_id\": {\"rules\": [{\"type\": \"not_null\", \"severity\": \"error\"}]},"
        " \"created_at\": {\"rules\": [{\"type\": \"not_null\", \"severity\": \"error\"}]},"
        " \"amount\": {\"rules\": [{\"type\": \"min\", \"value\": 0, \"severity\": "
        "\"error\"}]}}}"));
    summary = run_report(
        p,
        "{\"report_id\": \"r2\", \"files\": [{\"path\": \"j.py\", \"state\": \"modified\", "
        "\"after\":"
        " {\"output\": \"analytics_db.t2\", \"join_keys\": [{\"right_table\": "
        "\"analytics_db.dim_customer\","
        "  \"columns\": [\"customer_id\"], \"how\": \"left\"}],"
        "  \"columns\": [{\"name\": \"customer_segment\", \"op\": \"alias\", \"sources\": "
        "[\"c.segment\"]},"
        "   {\"name\": \"customer_id\", \"op\": \"select\", \"sources\": [\"customer_id\"]},"
        "   {\"name\": \"created_at\", \"op\": \"alias\", \"sources\": []}]}, \"changes\": ["
        " {\"kind\": \"join_type_changed\", \"what\": \"w\", \"before\": \"inner\", \"after\": "
        "\"left\","
        "  \"right_table\": \"analytics_db.dim_customer\", \"columns_affected\": [],"
        "  \"classification\": \"needs_review\", \"reason\": \"r\"},"
        " {\"kind\": \"column_changed\", \"what\": \"w\", \"columns_affected\": [\"amount\"],"
        "  \"classification\": \"needs_review\", \"reason\": \"r\"}]}]}",
        &status);
    out = json_object_get(rt_step(summary, "report"), "output");
    assert_string_equal(json_string_value(json_object_get(out, "status")), "breaking");
    file = json_array_get(json_object_get(out, "files"), 0);
    c = json_array_get(json_object_get(file, "changes"), 0);
    tu_assert_json(json_object_get(c, "columns_affected"), "[\"customer_segment\"]");
    assert_string_equal(json_string_value(json_object_get(c, "classification")), "breaking");
    assert_string_equal(refs(file, 0), "rule customer_segment.not_null suspicious");
    assert_non_null(
        strstr(json_string_value(json_array_get(json_object_get(file, "suggested_edits"), 0)),
               "relax not_null on [\"customer_segment\"], which now come from an outer join "
               "with analytics_db.dim_customer"));
    assert_non_null(strstr(json_string_value(json_object_get(
                               json_array_get(json_object_get(c, "contract_refs"), 0), "reason")),
                           "outer join keeps unmatched rows"));
    c = json_array_get(json_object_get(file, "changes"), 1);
    assert_string_equal(json_string_value(json_object_get(c, "classification")), "needs_review");
    assert_string_equal(refs(file, 1), "rule amount.min suspicious");
    json_decref(summary);
    free(cat);
    free(src);
    rt_project_free(p);
}

/* narrative: true asks the llm service; the builtin provider only drafts
 * contracts, so the report falls back to the templated narrative. */
static void test_narrative(void **state)
{
    struct rt_project *p = project();
    json_t *params = json_pack("{s:o}", "diff", json_loads(DIFF, 0, NULL)), *summary, *out;
    enum weir_run_status st;
    const char *text;

    (void)state;
    summary = rt_run(
        p, "narrative.yaml",
        "version: 1\nparams:\n  diff: { type: object, required: true }\nsteps:\n"
        "  - id: report\n    uses: impact.report\n"
        "    with: { diff: \"${{ params.diff }}\", jobs: jobs, narrative: true, write: false }\n",
        1, params, &st, NULL);
    out = json_object_get(rt_step(summary, "report"), "output");
    text = json_string_value(json_object_get(out, "narrative"));
    assert_non_null(text);
    rt_assert_contains(text,
                       "This change is breaking. In jobs/etl.py, column emi_amount renamed to "
                       "repayment_amount (breaking)");
    rt_assert_contains(json_string_value(json_object_get(out, "markdown")),
                       "\nThis change is breaking.");
    assert_null(json_object_get(out, "artifacts")); /* write: false */
    json_decref(summary);
    json_decref(params);
    rt_project_free(p);
}

static void test_bad_diff(void **state)
{
    struct rt_project *p = project();
    const char *status;
    json_t *summary = run_report(p, "{\"files\": 3}", &status);

    (void)state;
    assert_string_equal(status, "failed");
    rt_assert_contains(rt_step_error(summary, "report"),
                       "param 'diff' must be an impact.diff output");
    json_decref(summary);
    rt_project_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_report_refs_and_artifacts),
        cmocka_unit_test(test_escalation),
        cmocka_unit_test(test_narrative),
        cmocka_unit_test(test_bad_diff),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
