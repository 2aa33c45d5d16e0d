/*
 * test_builtin.c - the builtin llm provider through the loaded plugins on a
 * copy of the example project: the rules it suggests for
 * loan_repayment_fact (each with evidence and a severity, each holding on
 * today's data), tests and docs derived from them, the job summary's grain
 * and joins taking precedence, byte-identical answers, and a clear refusal
 * of prompts without a context.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "ctx.h"
#include "error.h"
#include "plugins.h"

#define TABLE "analytics_db.loan_repayment_fact"

static struct weir_plugins *plugins;
static char *project;

static int group_setup(void **state)
{
    char *cmd = NULL;

    (void)state;
    project = tu_mkdtemp();
    if (weir_plugins_new(&plugins) != WEIR_OK ||
        weir_plugins_load_dir(plugins, tu_env("WEIR_PLUGIN_DIR")) != WEIR_OK ||
        asprintf(&cmd, "cp -r '%s/examples/.' '%s/'", tu_env("WEIR_SOURCE_DIR"), project) < 0 ||
        system(cmd) != 0) {
        free(cmd);
        return -1;
    }
    free(cmd);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    weir_plugins_free(plugins);
    tu_rmtree(project);
    free(project);
    return 0;
}

static int invoke(const char *plugin, const char *step, const json_t *with, json_t **out)
{
    json_t *services = json_pack("{s:s, s:s, s:s, s:s}", "catalog", "lake", "engine", "lake",
                                 "store", "fs", "llm", "builtin");
    const struct weir_step_def *def = weir_plugins_find_step(plugins, plugin, step);
    struct weir_ctx ctx;
    int rc;

    assert_non_null(def);
    memset(&ctx, 0, sizeof(ctx));
    ctx.project = project;
    ctx.workspace = project;
    ctx.plugins = plugins;
    ctx.services = services;
    ctx.step_id = step;
    *out = NULL;
    rc = weir_step_invoke(def, with, out, &ctx);
    json_decref(services);
    return rc;
}

static json_t *context(void)
{
    json_t *with = json_pack("{s:s}", "table", TABLE), *out = NULL;

    assert_int_equal(invoke("contract", "build_context", with, &out), WEIR_OK);
    json_decref(with);
    return out;
}

static json_t *ask(const json_t *ctx_obj)
{
    char *text = json_dumps(ctx_obj, JSON_INDENT(1)), *msg = NULL;
    json_t *with, *out = NULL;

    assert_true(asprintf(&msg, "Draft it.\n-----BEGIN CONTEXT JSON-----\n%s\n"
                               "-----END CONTEXT JSON-----\nReply with JSON.", text) > 0);
    with = json_pack("{s:[{s:s, s:s}, {s:s, s:s}], s:f}", "messages", "role", "system", "content",
                     "You are a senior data engineer.", "role", "user", "content", msg,
                     "temperature", 0.0);
    assert_int_equal(invoke("builtin", "generate", with, &out), WEIR_OK);
    json_decref(with);
    free(text);
    free(msg);
    return out;
}

/* The rule of type in a rule array, or NULL. */
static const json_t *find_rule(const json_t *rules, const char *type)
{
    const json_t *r;
    size_t i;

    json_array_foreach(rules, i, r) {
        if (strcmp(json_string_value(json_object_get(r, "type")), type) == 0) {
            return r;
        }
    }
    return NULL;
}

static const json_t *col_rule(const json_t *dq, const char *col, const char *type)
{
    return find_rule(json_object_get(json_object_get(json_object_get(dq, "columns"), col), "rules"),
                     type);
}

static void assert_evidence(const json_t *r, const char *part)
{
    const char *ev;

    assert_non_null(r);
    ev = json_string_value(json_object_get(r, "evidence"));
    assert_non_null(ev);
    if (!strstr(ev, part)) {
        fail_msg("evidence '%s' lacks '%s'", ev, part);
    }
}

static const json_t *find_test(const json_t *tests, const char *name)
{
    const json_t *t;
    size_t i;

    json_array_foreach(tests, i, t) {
        if (strcmp(json_string_value(json_object_get(t, "name")), name) == 0) {
            return t;
        }
    }
    return NULL;
}

static void test_suggestions_for_loan_repayment_fact(void **state)
{
    json_t *c = context(), *a = ask(c);
    const json_t *dq = json_object_get(a, "data_quality"), *r, *rules, *spec;
    const char *col;
    size_t i;

    (void)state;
    assert_evidence(col_rule(dq, "loan_id", "not_null"), "null_count=0 of 120 rows");
    assert_evidence(col_rule(dq, "customer_id", "not_null"), "null_count=0 of 120 rows");
    assert_evidence(col_rule(dq, "payment_date", "not_null"), "null_count=0");
    r = col_rule(dq, "status", "allowed_values");
    assert_evidence(r, "SUCCESS=105");
    tu_assert_json(json_object_get(r, "values"), "[\"FAILED\", \"PENDING\", \"SUCCESS\"]");
    assert_string_equal(json_string_value(json_object_get(r, "severity")), "error");
    r = col_rule(dq, "emi_amount", "min");
    assert_evidence(r, "min=504.55");
    tu_assert_json(json_object_get(r, "value"), "0");
    r = col_rule(dq, "emi_amount", "range_soft");
    assert_evidence(r, "max=19865.69");
    assert_string_equal(json_string_value(json_object_get(r, "severity")), "warn");
    assert_true(json_number_value(json_object_get(r, "max")) > 19865.69);
    assert_null(col_rule(dq, "emi_amount", "unique"));  /* amounts are not keys */
    assert_null(col_rule(dq, "loan_id", "allowed_values"));
    r = col_rule(dq, "loan_id", "foreign_key");
    assert_evidence(r, "analytics_db.dim_loan");
    assert_string_equal(json_string_value(json_object_get(r, "ref_table")), "analytics_db.dim_loan");
    r = col_rule(dq, "customer_id", "foreign_key");
    assert_string_equal(json_string_value(json_object_get(r, "ref_table")),
                        "analytics_db.dim_customer");
    rules = json_object_get(dq, "table_level_checks");
    r = find_rule(rules, "grain_unique");
    assert_evidence(r, "candidate key");
    tu_assert_json(json_object_get(r, "grain"), "[\"loan_id\", \"payment_date\"]");
    tu_assert_json(json_object_get(dq, "primary_key"), "[\"loan_id\", \"payment_date\"]");
    r = find_rule(rules, "row_count_anomaly");
    assert_evidence(r, "row_count=120");
    tu_assert_json(json_object_get(r, "max_change_pct"), "20");
    tu_assert_json(json_object_get(r, "window_days"), "7");
    assert_evidence(find_rule(rules, "freshness_sla"), "created_at=2026-10-03 05:58:00");
    r = find_rule(rules, "check");
    assert_string_equal(json_string_value(json_object_get(r, "expression")), "emi_amount >= 0");
    assert_string_equal(json_string_value(json_object_get(dq, "owner")), "data-eng-team");

    /* every rule says why and how bad */
    json_object_foreach((json_t *)json_object_get(dq, "columns"), col, spec) {
        json_array_foreach(json_object_get(spec, "rules"), i, r) {
            const char *sev = json_string_value(json_object_get(r, "severity"));

            assert_true(json_string_length(json_object_get(r, "evidence")) > 5);
            assert_true(strcmp(sev, "error") == 0 || strcmp(sev, "warn") == 0);
        }
    }
    json_decref(a);
    json_decref(c);
}

static void test_tests_and_docs(void **state)
{
    json_t *c = context(), *a = ask(c);
    const json_t *tests = json_object_get(a, "tests"), *t;
    const char *docs = json_string_value(json_object_get(a, "docs_markdown"));
    size_t i, post = 0;

    (void)state;
    t = find_test(tests, "not_null_loan_id");
    assert_non_null(t);
    assert_string_equal(json_string_value(json_object_get(t, "sql")),
                        "SELECT COUNT(*) AS failures FROM " TABLE " WHERE loan_id IS NULL");
    tu_assert_json(json_object_get(t, "expect"), "{\"max\": 0}");
    t = find_test(tests, "preload_min_emi_amount");
    assert_string_equal(json_string_value(json_object_get(t, "rule")), "emi_amount >= 0");
    assert_string_equal(json_string_value(json_object_get(t, "stage")), "pre_load");
    assert_non_null(find_test(tests, "grain_unique_loan_id_payment_date"));
    assert_non_null(json_object_get(find_test(tests, "row_count_anomaly"), "check"));

    /* every SQL test runs on the engine and passes on today's data */
    json_array_foreach(tests, i, t) {
        const json_t *sql = json_object_get(t, "sql");
        json_t *with, *res = NULL;

        if (!sql) {
            continue;
        }
        with = json_pack("{s:O}", "sql", sql);
        if (invoke("lake", "query", with, &res) != WEIR_OK) {
            fail_msg("%s: %s", json_string_value(sql), weir_error_last());
        }
        if (json_integer_value(json_array_get(json_array_get(json_object_get(res, "rows"), 0), 0))) {
            fail_msg("%s fails on today's data", json_string_value(sql));
        }
        post++;
        json_decref(with);
        json_decref(res);
    }
    assert_true(post >= 12);

    assert_non_null(strstr(docs, "# Table: " TABLE "\n\nFact table with one row per loan repayment"));
    assert_non_null(strstr(docs, "| Grain | one row per (loan_id, payment_date) |"));
    assert_non_null(strstr(docs, "| `status` | string | no | 0 | 3 | FAILED | SUCCESS | SUCCESS, "
                                 "FAILED or PENDING |"));
    assert_non_null(strstr(docs, "- `allowed_values` on `status` (error): status is one of FAILED, "
                                 "PENDING, SUCCESS."));
    assert_non_null(strstr(docs, "## Lineage\n\nNo job summary"));
    json_decref(a);
    json_decref(c);
}

static void test_job_summary_wins(void **state)
{
    json_t *c = context(), *a;
    const json_t *dq, *r;
    const char *docs;

    (void)state;
    json_object_set_new(c, "job_summary",
                        json_pack("{s:s, s:[s,s], s:s, s:[{s:s, s:s, s:[s]}], s:[s], s:[s,s,s]}",
                                  "job_name", "loan_repayments_etl", "inputs", "raw_payments",
                                  "dim_loan", "output", "loan_repayment_fact", "join_keys",
                                  "left_table", "raw_payments", "right_table", "dim_loan",
                                  "columns", "loan_id", "filters",
                                  "payment_status IN ('SUCCESS', 'FAILED', 'PENDING')", "grain",
                                  "loan_id", "payment_date", "status"));
    a = ask(c);
    dq = json_object_get(a, "data_quality");
    r = find_rule(json_object_get(dq, "table_level_checks"), "grain_unique");
    assert_evidence(r, "grain declared by the job summary");
    tu_assert_json(json_object_get(r, "grain"), "[\"loan_id\", \"payment_date\", \"status\"]");
    assert_evidence(col_rule(dq, "loan_id", "foreign_key"),
                    "the job joins raw_payments to dim_loan on loan_id");
    docs = json_string_value(json_object_get(a, "docs_markdown"));
    assert_non_null(strstr(docs, "- Job: `loan_repayments_etl`"));
    assert_non_null(strstr(docs, "- Join: raw_payments to dim_loan on loan_id"));
    json_decref(a);
    json_decref(c);
}

static void test_deterministic(void **state)
{
    json_t *c1 = context(), *c2 = context(), *a1 = ask(c1), *a2 = ask(c2);
    char *t1 = json_dumps(a1, JSON_COMPACT), *t2 = json_dumps(a2, JSON_COMPACT);

    (void)state;
    assert_string_equal(t1, t2);
    free(t1);
    free(t2);
    json_decref(a1);
    json_decref(a2);
    json_decref(c1);
    json_decref(c2);
}

static void test_refuses_prompt_without_context(void **state)
{
    json_t *with = json_pack("{s:[{s:s, s:s}]}", "messages", "role", "user", "content",
                             "Summarise this PySpark job"), *out = NULL;

    (void)state;
    assert_int_equal(invoke("builtin", "generate", with, &out), WEIR_EINVALID);
    assert_null(out);
    assert_non_null(strstr(weir_error_last(), "-----BEGIN CONTEXT JSON-----"));
    json_decref(with);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_suggestions_for_loan_repayment_fact),
        cmocka_unit_test(test_tests_and_docs),
        cmocka_unit_test(test_job_summary_wins),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_refuses_prompt_without_context),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
