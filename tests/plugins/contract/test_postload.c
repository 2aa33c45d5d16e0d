/*
 * test_postload.c - contract.postload through the loaded plugins (contract,
 * lake, fs) on a temporary copy of examples/: the seeded-defect day
 * (dt=2026-10-04 with a null key, duplicate grain rows, a negative amount,
 * an unknown status, an orphan loan_id and 60% fewer rows) fails with each
 * defect caught by the right test, a clean day passes with zero failures,
 * reruns write byte-identical results, and history shorter than 3 days
 * passes the anomaly check as "insufficient history".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "ctx.h"
#include "error.h"
#include "plugins.h"

#define FACT "analytics_db.loan_repayment_fact"

static struct weir_plugins *plugins;
static const struct weir_step_def *postload;
static char *tmp, *proj, *workspace;
static json_t *services;

static const char *contract_text =
    "{\"table_name\": \"loan_repayment_fact\", \"owner\": \"data-eng-team\","
    " \"primary_key\": [\"loan_id\", \"payment_date\"],"
    " \"columns\": {"
    "  \"loan_id\": {\"type\": \"string\", \"nullable\": false, \"rules\": [{\"type\": \"not_null\"},"
    "     {\"type\": \"foreign_key\", \"ref_table\": \"dim_loan\", \"ref_column\": \"loan_id\"}]},"
    "  \"customer_id\": {\"type\": \"string\", \"nullable\": false, \"rules\": [{\"type\": \"not_null\"}]},"
    "  \"payment_date\": {\"type\": \"date\", \"nullable\": false, \"rules\": [{\"type\": \"not_null\"}]},"
    "  \"emi_amount\": {\"type\": \"double\", \"rules\": [{\"type\": \"min\", \"value\": 0}]},"
    "  \"status\": {\"type\": \"string\", \"rules\": [{\"type\": \"allowed_values\","
    "     \"values\": [\"SUCCESS\", \"FAILED\", \"PENDING\"]}]},"
    "  \"created_at\": {\"type\": \"timestamp\", \"rules\": []}},"
    " \"table_level_checks\": ["
    "  {\"type\": \"grain_unique\", \"grain\": [\"loan_id\", \"payment_date\"]},"
    "  {\"type\": \"row_count_anomaly\", \"max_change_pct\": 20, \"window_days\": 7},"
    "  {\"type\": \"freshness_sla\", \"column\": \"created_at\", \"max_lag_hours\": 48}]}\n";

static const char *tests_text =
    "{\"tests\": ["
    " {\"name\": \"not_null_loan_id\", \"stage\": \"post_load\", \"sql\":"
    "  \"SELECT COUNT(*) AS null_count FROM analytics_db.loan_repayment_fact WHERE loan_id IS NULL\"},"
    " {\"name\": \"allowed_status\", \"stage\": \"post_load\", \"sql\":"
    "  \"SELECT loan_id, status FROM analytics_db.loan_repayment_fact WHERE status NOT IN ('SUCCESS', 'FAILED',"
    " 'PENDING')\"},"
    " {\"name\": \"pk_uniqueness_loan_id_payment_date\", \"stage\": \"post_load\", \"sql\":"
    "  \"SELECT loan_id, payment_date, COUNT(*) AS cnt FROM analytics_db.loan_repayment_fact GROUP BY loan_id,"
    " payment_date HAVING cnt > 1\"},"
    " {\"name\": \"preload_emi_amount_non_negative\", \"stage\": \"pre_load\", \"rule\": \"emi_amount >= 0\"},"
    " {\"name\": \"few_pending\", \"stage\": \"post_load\", \"severity\": \"warn\", \"threshold\": 100, \"sql\":"
    "  \"SELECT COUNT(*) FROM analytics_db.loan_repayment_fact WHERE status = 'PENDING'\"}"
    "]}\n";

/* 16 rows (60% fewer than the usual 40): rows 1-5 carry one defect each. */
static const char *defect_csv =
    "loan_id,customer_id,payment_date,emi_amount,status,created_at\n"
    ",C0501,2026-10-04,6814.74,SUCCESS,2026-10-04 01:00:00\n"
    "L01002,C0502,2026-10-04,1200.00,SUCCESS,2026-10-04 01:10:00\n"
    "L01002,C0502,2026-10-04,1200.00,SUCCESS,2026-10-04 01:10:00\n"
    "L01003,C0503,2026-10-04,-50.00,SUCCESS,2026-10-04 01:20:00\n"
    "L01004,C0504,2026-10-04,900.00,REFUNDED,2026-10-04 01:30:00\n"
    "L99999,C0505,2026-10-04,700.00,SUCCESS,2026-10-04 01:40:00\n"
    "L01010,C0506,2026-10-04,800.00,FAILED,2026-10-04 02:00:00\n"
    "L01011,C0507,2026-10-04,810.00,SUCCESS,2026-10-04 02:10:00\n"
    "L01012,C0508,2026-10-04,820.00,PENDING,2026-10-04 02:20:00\n"
    "L01013,C0509,2026-10-04,830.00,SUCCESS,2026-10-04 02:30:00\n"
    "L01014,C0510,2026-10-04,840.00,SUCCESS,2026-10-04 02:40:00\n"
    "L01015,C0511,2026-10-04,850.00,SUCCESS,2026-10-04 02:50:00\n"
    "L01016,C0512,2026-10-04,860.00,SUCCESS,2026-10-04 03:00:00\n"
    "L01017,C0513,2026-10-04,870.00,SUCCESS,2026-10-04 03:10:00\n"
    "L01018,C0514,2026-10-04,880.00,SUCCESS,2026-10-04 03:20:00\n"
    "L01019,C0515,2026-10-04,890.00,SUCCESS,2026-10-04 03:30:00\n";

static int group_setup(void **state)
{
    char *cmd = NULL, *rel = NULL;

    (void)state;
    if (weir_plugins_new(&plugins) != WEIR_OK || weir_plugins_load_dir(plugins, tu_env("WEIR_PLUGIN_DIR")) != WEIR_OK ||
        (postload = weir_plugins_find_step(plugins, "contract", "postload")) == NULL) {
        fprintf(stderr, "loading plugins: %s\n", weir_error_last());
        return -1;
    }
    tmp = tu_mkdtemp();
    if (!tmp || asprintf(&proj, "%s/proj", tmp) < 0 || asprintf(&workspace, "%s/.weir", proj) < 0 ||
        asprintf(&cmd, "cp -r '%s/examples' '%s' && rm -rf '%s/.weir' '%s/lake/contracts' '%s/lake/tests' "
                 "'%s/lake/results' '%s/lake/stats-history'", tu_env("WEIR_SOURCE_DIR"), proj, proj, proj, proj,
                 proj, proj) < 0 || system(cmd) != 0) {
        return -1;
    }
    free(cmd);
    free(tu_write_file(proj, "lake/contracts/" FACT ".json", contract_text));
    free(tu_write_file(proj, "lake/tests/" FACT ".json", tests_text));
    /* the profile pipeline's history: 40 rows a day */
    for (int d = 26; d <= 33; d++) {
        if (asprintf(&rel, "lake/stats-history/" FACT "/2026-%s-%02d.json", d <= 30 ? "09" : "10",
                     d <= 30 ? d : d - 30) < 0) {
            return -1;
        }
        free(tu_write_file(proj, rel, "{\"row_count\": 40, \"columns\": {}}\n"));
        free(rel);
    }
    free(tu_write_file(proj, "lake/example-lake/analytics_db/loan_repayment_fact/dt=2026-10-04/part-000.csv",
                       defect_csv));
    services = json_pack("{s:s,s:s,s:s}", "catalog", "lake", "engine", "lake", "store", "fs");
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    weir_plugins_free(plugins);
    json_decref(services);
    if (tmp) {
        tu_rmtree(tmp);
    }
    free(tmp);
    free(proj);
    free(workspace);
    return 0;
}

static int run_postload(const char *date, const char *extra, json_t **out)
{
    struct weir_ctx ctx = { .run_id = "r1", .run_date = date, .target = "local", .step_id = "postload",
                            .workspace = workspace, .project = proj, .plugins = plugins, .services = services };
    json_t *with = extra ? json_loads(extra, 0, NULL) : json_object();
    int rc;

    assert_non_null(with);
    json_object_set_new(with, "table", json_string(FACT));
    *out = NULL;
    rc = weir_step_invoke(postload, with, out, &ctx);
    json_decref(with);
    return rc;
}

static json_t *read_results(const char *date, char **text)
{
    char *path = NULL;
    json_t *v;

    assert_true(asprintf(&path, "%s/lake/results/" FACT "/%s.json", proj, date) > 0);
    *text = tu_read_file(path, NULL);
    if (!*text) {
        fail_msg("no results at %s", path);
    }
    v = json_loads(*text, 0, NULL);
    assert_non_null(v);
    free(path);
    return v;
}

static const json_t *result_named(const json_t *doc, const char *name)
{
    const json_t *r;
    size_t i;

    json_array_foreach(json_object_get(doc, "results"), i, r) {
        if (!strcmp(json_string_value(json_object_get(r, "name")), name)) {
            return r;
        }
    }
    fail_msg("no result named %s", name);
    return NULL;
}

static void assert_status(const json_t *doc, const char *name, const char *status)
{
    const json_t *r = result_named(doc, name);
    const char *got = json_string_value(json_object_get(r, "status"));

    if (strcmp(got, status)) {
        char *t = json_dumps(r, JSON_COMPACT);

        fail_msg("%s: status %s, expected %s: %s", name, got, status, t);
    }
}

static void test_seeded_defects(void **state)
{
    json_t *out = NULL, *doc;
    const json_t *r;
    char *text = NULL;
    const char *msg;

    (void)state;
    assert_int_equal(run_postload("2026-10-04", NULL, &out), WEIR_ERROR);
    msg = weir_error_last();
    assert_non_null(strstr(msg, "not_null_loan_id"));
    assert_non_null(strstr(msg, "grain_unique"));
    assert_null(out);
    doc = read_results("2026-10-04", &text);
    /* null key */
    assert_status(doc, "not_null_loan_id", "fail");
    assert_int_equal(json_integer_value(json_object_get(result_named(doc, "not_null_loan_id"), "observed")), 1);
    /* duplicate grain, seen both by the test and by the contract check */
    assert_status(doc, "pk_uniqueness_loan_id_payment_date", "fail");
    r = result_named(doc, "pk_uniqueness_loan_id_payment_date");
    assert_int_equal(json_integer_value(json_object_get(r, "observed")), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(r, "sample"), 0), "loan_id")),
                        "L01002");
    r = result_named(doc, "grain_unique");
    assert_string_equal(json_string_value(json_object_get(r, "status")), "fail");
    assert_int_equal(json_integer_value(json_object_get(r, "observed")), 1);
    /* negative amount (a pre-load rule re-checked after load) */
    assert_status(doc, "preload_emi_amount_non_negative", "fail");
    r = result_named(doc, "preload_emi_amount_non_negative");
    assert_int_equal(json_integer_value(json_object_get(r, "observed")), 1);
    assert_true(json_number_value(json_object_get(json_array_get(json_object_get(r, "sample"), 0), "emi_amount")) < 0);
    /* unknown status, with the failing row as the sample */
    assert_status(doc, "allowed_status", "fail");
    r = result_named(doc, "allowed_status");
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(r, "sample"), 0), "status")),
                        "REFUNDED");
    /* orphan foreign key */
    assert_status(doc, "loan_id.foreign_key", "fail");
    r = result_named(doc, "loan_id.foreign_key");
    assert_int_equal(json_integer_value(json_object_get(r, "observed")), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(r, "sample"), 0), "loan_id")),
                        "L99999");
    /* 60% volume drop */
    assert_status(doc, "row_count_anomaly", "fail");
    r = result_named(doc, "row_count_anomaly");
    assert_int_equal(json_integer_value(json_object_get(r, "observed")), 16);
    assert_non_null(strstr(json_string_value(json_object_get(r, "message")), "-60.0%"));
    /* what is fine that day stays fine */
    assert_status(doc, "created_at.freshness_sla", "pass");
    assert_status(doc, "few_pending", "pass");
    assert_int_equal(json_integer_value(json_object_get(doc, "failed")), 7);
    assert_int_equal(json_integer_value(json_object_get(doc, "errors")), 0);
    assert_null(json_object_get(result_named(doc, "few_pending"), "duration_ms"));
    json_decref(doc);
    free(text);
}

static void test_clean_day_and_rerun(void **state)
{
    json_t *out = NULL, *doc;
    char *first = NULL, *second = NULL;
    const json_t *r;
    size_t i;

    (void)state;
    if (run_postload("2026-10-03", NULL, &out) != WEIR_OK) {
        fail_msg("clean day: %s", weir_error_last());
    }
    assert_int_equal(json_integer_value(json_object_get(out, "failed")), 0);
    assert_int_equal(json_integer_value(json_object_get(out, "errors")), 0);
    assert_int_equal(json_integer_value(json_object_get(out, "passed")), 9);
    json_array_foreach(json_object_get(out, "results"), i, r) {
        assert_true(json_is_integer(json_object_get(r, "duration_ms")));
        assert_string_equal(json_string_value(json_object_get(r, "status")), "pass");
    }
    json_decref(out);
    doc = read_results("2026-10-03", &first);
    json_decref(doc);
    assert_int_equal(run_postload("2026-10-03", NULL, &out), WEIR_OK);
    json_decref(out);
    doc = read_results("2026-10-03", &second);
    json_decref(doc);
    assert_string_equal(first, second);
    free(first);
    free(second);
}

static void test_insufficient_history_and_params(void **state)
{
    json_t *out = NULL;
    const json_t *r;
    size_t i;
    int seen = 0;

    (void)state;
    /* the contract's window_days (7) wins over history_days: 5 earlier days, enough */
    if (run_postload("2026-10-01", "{\"history_days\": 2, \"tests_uri\": \"\"}", &out) != WEIR_OK) {
        fail_msg("%s", weir_error_last());
    }
    json_array_foreach(json_object_get(out, "results"), i, r) {
        if (!strcmp(json_string_value(json_object_get(r, "name")), "row_count_anomaly")) {
            assert_string_equal(json_string_value(json_object_get(r, "status")), "pass");
            seen = 1;
        }
    }
    assert_true(seen);
    json_decref(out);
    /* a missing tests file is an error naming it */
    assert_true(run_postload("2026-10-03", "{\"tests_uri\": \"tests/nope.json\"}", &out) < 0);
    assert_non_null(strstr(weir_error_last(), "tests/nope.json"));
    assert_true(run_postload("2026-13-45", NULL, &out) < 0);
}

static void test_short_history(void **state)
{
    json_t *out = NULL;
    const json_t *r;
    size_t i;
    int seen = 0;

    (void)state;
    /* 2026-09-28: only 2026-09-26 and -27 are in the history */
    if (run_postload("2026-09-28", "{\"tests_uri\": \"\"}", &out) < 0) {
        /* no rows that day: the anomaly check passes for lack of history, nothing else can fail */
        fail_msg("%s", weir_error_last());
    }
    json_array_foreach(json_object_get(out, "results"), i, r) {
        if (!strcmp(json_string_value(json_object_get(r, "name")), "row_count_anomaly")) {
            assert_string_equal(json_string_value(json_object_get(r, "status")), "pass");
            assert_non_null(strstr(json_string_value(json_object_get(r, "message")), "insufficient history"));
            seen = 1;
        }
    }
    assert_true(seen);
    json_decref(out);
}

static void test_unreadable_history(void **state)
{
    json_t *out = NULL, *doc;
    char *text = NULL;

    (void)state;
    free(tu_write_file(proj, "lake/stats-history/" FACT "/2026-11-09.json", "{\"row_count\": 4"));
    assert_int_equal(run_postload("2026-11-10", "{\"tests_uri\": \"\"}", &out), WEIR_ERROR);
    assert_non_null(strstr(weir_error_last(), "row_count_anomaly"));
    doc = read_results("2026-11-10", &text);
    assert_status(doc, "row_count_anomaly", "error");
    assert_non_null(strstr(json_string_value(json_object_get(result_named(doc, "row_count_anomaly"), "message")),
                           "2026-11-09.json"));
    json_decref(doc);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seeded_defects),
        cmocka_unit_test(test_clean_day_and_rerun),
        cmocka_unit_test(test_insufficient_history_and_params),
        cmocka_unit_test(test_short_history),
        cmocka_unit_test(test_unreadable_history),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
