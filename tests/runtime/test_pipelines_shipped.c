/*
 * test_pipelines_shipped.c - the shipped pipelines (pipelines/demo.yaml,
 * pipelines/profile.yaml) run in-process against a copy of the example
 * project (examples/: weir.yaml, catalog/, lake/example-lake/), exactly as
 * `cd examples && weir run ../pipelines/X.yaml` does. Checks the artifacts
 * they write under the store root, and that a rerun on unchanged data writes
 * the same bytes (DESIGN §6).
 */
#include "rt_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "error.h"

#define FACT "analytics_db.loan_repayment_fact"
#define DATE "2026-10-04"

struct shipped {
    char *dir; /* the copy of examples/ */
    struct weir_runtime *rt;
};

static int setup(void **state)
{
    struct shipped *s = calloc(1, sizeof(*s));
    const char *src = tu_env("WEIR_SOURCE_DIR");
    struct weir_diags diags = { 0 };
    char *cmd = NULL, *cfg = NULL;

    assert_non_null(s);
    s->dir = tu_mkdtemp();
    assert_non_null(s->dir);
    /* Only the tracked example: artifacts a manual demo run left under
     * examples/lake/ or examples/.weir/ must not leak into the test. */
    assert_true(
        asprintf(&cmd,
                 "mkdir -p '%s/lake' && cp -R '%s/examples/weir.yaml' '%s/examples/catalog' "
                 "'%s/' && cp -R '%s/examples/lake/example-lake' '%s/lake/'",
                 s->dir, src, src, s->dir, src, s->dir) >= 0);
    assert_int_equal(system(cmd), 0);
    assert_true(asprintf(&cfg, "%s/weir.yaml", s->dir) >= 0);
    if (weir_runtime_open(cfg, tu_env("WEIR_PLUGIN_DIR"), &s->rt, &diags) != WEIR_OK) {
        weir_diags_print(&diags, stderr);
        fail_msg("weir_runtime_open: %s", weir_error_last());
    }
    weir_diags_free(&diags);
    free(cfg);
    free(cmd);
    *state = s;
    return 0;
}

static int teardown(void **state)
{
    struct shipped *s = *state;

    weir_runtime_close(s->rt);
    if (!getenv("WEIR_TEST_KEEP")) {
        tu_rmtree(s->dir);
    }
    free(s->dir);
    free(s);
    return 0;
}

/* Runs pipelines/<name> with params (JSON text) and returns the summary;
 * fails the test unless the run succeeds. */
static json_t *run(struct shipped *s, const char *name, const char *params_json)
{
    json_t *params = json_loads(params_json, 0, NULL), *summary = NULL;
    struct weir_diags diags = { 0 };
    enum weir_run_status st;
    char *pipeline = NULL;
    struct weir_run_opts opts = { .params = params, .jobs = 2, .date = DATE };

    assert_non_null(params);
    assert_true(asprintf(&pipeline, "%s/pipelines/%s", tu_env("WEIR_SOURCE_DIR"), name) >= 0);
    opts.pipeline = pipeline;
    if (weir_run_execute(s->rt, &opts, &diags, &st, &summary) != WEIR_OK) {
        weir_diags_print(&diags, stderr);
        fail_msg("%s: %s", name, weir_error_last());
    }
    weir_diags_free(&diags);
    if (st != WEIR_RUN_SUCCESS) {
        char *text = json_dumps(summary, JSON_INDENT(2));

        fail_msg("%s: run %s\n%s", name, rt_status_name(st), text);
    }
    json_decref(params);
    free(pipeline);
    return summary;
}

/* The bytes of <store root>/<key>; fails the test if the file is missing. */
static char *artifact(const struct shipped *s, const char *key)
{
    char *path = NULL, *text;

    assert_true(asprintf(&path, "%s/lake/%s", s->dir, key) >= 0);
    text = tu_read_file(path, NULL);
    if (!text) {
        fail_msg("artifact %s was not written", path);
    }
    free(path);
    return text;
}

static json_t *artifact_json(const struct shipped *s, const char *key)
{
    char *text = artifact(s, key);
    json_error_t err;
    json_t *v = json_loads(text, 0, &err);

    if (!v) {
        fail_msg("%s: %s", key, err.text);
    }
    free(text);
    return v;
}

/* The rule of `type` among contract.columns.<col>.rules, or NULL. */
static const json_t *rule(const json_t *contract, const char *col, const char *type)
{
    const json_t *rules =
        json_object_get(json_object_get(json_object_get(contract, "columns"), col), "rules");
    const json_t *r;
    size_t i;

    json_array_foreach(rules, i, r) {
        if (!strcmp(json_string_value(json_object_get(r, "type")), type)) {
            return r;
        }
    }
    return NULL;
}

/* The set of strings in arr, sorted, as one comma-separated string. */
static char *sorted_values(const json_t *arr)
{
    const char *v[16];
    size_t n = json_array_size(arr), len = 1;
    char *out;

    assert_true(n <= 16);
    for (size_t i = 0; i < n; i++) {
        v[i] = json_string_value(json_array_get(arr, i));
        assert_non_null(v[i]);
        len += strlen(v[i]) + 1;
    }
    for (size_t i = 1; i < n; i++) {
        for (size_t j = i; j > 0 && strcmp(v[j - 1], v[j]) > 0; j--) {
            const char *t = v[j];

            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    }
    out = calloc(1, len);
    for (size_t i = 0; i < n; i++) {
        strcat(out, i ? "," : "");
        strcat(out, v[i]);
    }
    return out;
}

static void test_demo_writes_stats_context_and_contract(void **state)
{
    static const char *const keys[] = {
        "stats-history/" FACT "/" DATE ".json",
        "contracts/" FACT ".context.json",
        "contracts/" FACT ".json",
    };
    struct shipped *s = *state;
    json_t *sum = run(s, "demo.yaml", "{}"), *stats, *context, *contract, *q;
    const json_t *allowed;
    char *first[3], *values;

    stats = artifact_json(s, keys[0]);
    context = artifact_json(s, keys[1]);
    contract = artifact_json(s, keys[2]);

    assert_int_equal(json_integer_value(json_object_get(stats, "row_count")), 120);
    assert_int_equal(json_integer_value(json_object_get(context, "row_count")), 120);
    assert_string_equal(json_string_value(json_object_get(context, "table_name")),
                        "loan_repayment_fact");
    assert_string_equal(json_string_value(json_object_get(context, "layer")), "curated");
    assert_int_equal(json_array_size(json_object_get(context, "schema")), 6);
    tu_assert_json(json_object_get(context, "constraints"),
                   "[{\"name\": \"ck_emi_positive\", \"type\": \"CHECK\","
                   " \"expression\": \"emi_amount >= 0\"}]");

    /* status: exactly the three values the data holds */
    allowed = rule(contract, "status", "allowed_values");
    assert_non_null(allowed);
    values = sorted_values(json_object_get(allowed, "values"));
    assert_string_equal(values, "FAILED,PENDING,SUCCESS");
    free(values);
    rt_assert_contains(json_string_value(json_object_get(allowed, "evidence")), "SUCCESS 105");
    /* ids are not a domain, amounts are non-negative, nothing is null */
    assert_null(rule(contract, "loan_id", "allowed_values"));
    assert_non_null(rule(contract, "emi_amount", "min"));
    assert_non_null(rule(contract, "created_at", "not_null"));

    /* SQL over the files in place */
    q = json_object_get(rt_step(sum, "status_counts"), "output");
    tu_assert_json(json_object_get(q, "rows"),
                   "[[\"SUCCESS\", 105, 1089740.31], [\"PENDING\", 9, 96963.75],"
                   " [\"FAILED\", 6, 60278.55]]");

    /* a rerun on unchanged data rewrites the same bytes */
    for (size_t i = 0; i < 3; i++) {
        first[i] = artifact(s, keys[i]);
    }
    json_decref(run(s, "demo.yaml", "{}"));
    for (size_t i = 0; i < 3; i++) {
        char *again = artifact(s, keys[i]);

        assert_string_equal(again, first[i]);
        free(again);
        free(first[i]);
    }
    json_decref(contract);
    json_decref(context);
    json_decref(stats);
    json_decref(sum);
}

/* The rules follow the data: a column with nulls gets no not_null. */
static void test_demo_on_a_dimension_with_nulls(void **state)
{
    struct shipped *s = *state;
    json_t *sum = run(s, "demo.yaml", "{\"table\": \"analytics_db.dim_customer\"}"), *contract;
    const json_t *allowed;
    char *values;

    contract = artifact_json(s, "contracts/analytics_db.dim_customer.json");
    assert_null(rule(contract, "email", "not_null"));
    assert_true(json_is_true(json_object_get(
        json_object_get(json_object_get(contract, "columns"), "email"), "nullable")));
    assert_non_null(rule(contract, "customer_id", "not_null"));
    allowed = rule(contract, "segment", "allowed_values");
    assert_non_null(allowed);
    values = sorted_values(json_object_get(allowed, "values"));
    assert_string_equal(values, "premium,retail,sme");
    free(values);
    json_decref(contract);
    json_decref(sum);
}

static void test_profile_stores_the_days_stats(void **state)
{
    static const char *const key = "stats-history/" FACT "/" DATE ".json";
    struct shipped *s = *state;
    json_t *sum = run(s, "profile.yaml", "{\"table\": \"" FACT "\"}"), *out, *stats;
    char *first, *again;

    out = json_object_get(rt_step(sum, "summary"), "output");
    assert_int_equal(json_integer_value(json_object_get(out, "row_count")), 120);
    assert_string_equal(json_string_value(json_object_get(out, "stats_uri")), key);
    stats = artifact_json(s, key);
    assert_int_equal(json_integer_value(json_object_get(stats, "row_count")), 120);
    assert_int_equal(json_integer_value(json_object_get(stats, "files")), 3);
    first = artifact(s, key);
    json_decref(stats);
    json_decref(sum);

    sum = run(s, "profile.yaml", "{\"table\": \"" FACT "\"}");
    again = artifact(s, key);
    assert_string_equal(again, first);
    free(again);
    free(first);
    json_decref(sum);
}

/* JSON Lines, one partition: the raw payments of 2026-10-02 (40 payments
 * the fact table holds plus 2 the ETL filters out), nulls in `source`. */
static void test_profile_raw_payments_one_partition(void **state)
{
    struct shipped *s = *state;
    json_t *sum =
        run(s, "profile.yaml",
            "{\"table\": \"raw_db.raw_payments\", \"partitions\": {\"dt\": \"2026-10-02\"}}");
    json_t *out = json_object_get(rt_step(sum, "summary"), "output"), *stats;
    char *nulls;

    assert_int_equal(json_integer_value(json_object_get(out, "row_count")), 42);
    assert_int_equal(json_integer_value(json_object_get(out, "files")), 1);
    nulls = tu_json_text(json_object_get(out, "columns_with_nulls"));
    rt_assert_contains(nulls, "source");
    free(nulls);
    stats = artifact_json(s, "stats-history/raw_db.raw_payments/" DATE ".json");
    tu_assert_json(json_object_get(stats, "partitions"), "{\"dt\": [\"2026-10-02\"]}");
    json_decref(stats);
    json_decref(sum);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_demo_writes_stats_context_and_contract, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_demo_on_a_dimension_with_nulls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_profile_stores_the_days_stats, setup, teardown),
        cmocka_unit_test_setup_teardown(test_profile_raw_payments_one_partition, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
