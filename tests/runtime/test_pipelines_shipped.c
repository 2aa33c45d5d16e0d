/*
 * test_pipelines_shipped.c - the shipped pipelines (pipelines/demo.yaml,
 * copilot.yaml, preload.yaml, postload.yaml, profile.yaml) run in-process
 * against a fresh copy of the example project (examples/: weir.yaml,
 * catalog/, incoming/, lake/example-lake/), exactly as
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
                 "'%s/examples/incoming' '%s/' && cp -R '%s/examples/lake/example-lake' '%s/lake/'",
                 s->dir, src, src, src, s->dir, src, s->dir) >= 0);
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

/* Lines of a text (the number of '\n'). */
static size_t count_lines(const char *text)
{
    size_t n = 0;

    for (; *text; text++) {
        n += *text == '\n';
    }
    return n;
}

/* The rule_name array of the quarantined record of source line `line`, as
 * one comma-separated string (in the order the record gives), or NULL. */
static char *quarantined_rules(const char *jsonl, long line)
{
    const char *p = jsonl;

    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        json_t *rec = json_loadb(p, len, 0, NULL);

        assert_non_null(rec);
        if (json_integer_value(json_object_get(rec, "line")) == line) {
            const json_t *names = json_object_get(rec, "rule_name"), *v;
            char *out = calloc(1, 256);
            size_t i;

            assert_true(json_is_array(names));
            json_array_foreach(names, i, v) {
                strcat(out, i ? "," : "");
                strcat(out, json_string_value(v));
            }
            json_decref(rec);
            return out;
        }
        json_decref(rec);
        p += len + (nl != NULL);
    }
    return NULL;
}

/* The main job: profile + stats history, contract/tests/docs, pre-load of
 * the incoming batch with its planted bad rows, post-load of the last
 * loaded day, and the summary of where it all is. */
static void test_demo_main_job(void **state)
{
    static const char *const keys[] = {
        "stats-history/" FACT "/" DATE ".json",
        "contracts/" FACT ".json",
        "tests/" FACT ".json",
        "docs/" FACT ".md",
        "results/" FACT "/2026-10-03.json",
    };
    enum { NKEYS = sizeof(keys) / sizeof(keys[0]) };
    struct shipped *s = *state;
    json_t *sum = run(s, "demo.yaml", "{}"), *out, *stats, *contract, *tests, *results;
    const json_t *allowed, *art, *min;
    char *first[NKEYS], *values, *docs, *batch, *valid, *quar, *path = NULL, *names;
    size_t batch_rows, valid_rows, quar_rows;

    out = json_object_get(rt_step(sum, "summary"), "output");
    art = json_object_get(out, "artifacts");
    for (size_t i = 0; i < 4; i++) {
        static const char *const field[] = { "stats", "contract", "tests", "docs" };

        assert_string_equal(json_string_value(json_object_get(art, field[i])), keys[i]);
    }
    assert_string_equal(json_string_value(json_object_get(art, "results")), keys[4]);

    /* the stats history entry and SQL over the files in place */
    stats = artifact_json(s, keys[0]);
    assert_int_equal(json_integer_value(json_object_get(stats, "row_count")), 120);
    tu_assert_json(json_object_get(json_object_get(rt_step(sum, "status_counts"), "output"), "rows"),
                   "[[\"SUCCESS\", 105, 1089740.31], [\"PENDING\", 9, 96963.75],"
                   " [\"FAILED\", 6, 60278.55]]");

    /* the contract: keys not null, the three statuses, amounts >= 0 */
    contract = artifact_json(s, keys[1]);
    assert_non_null(rule(contract, "loan_id", "not_null"));
    assert_null(rule(contract, "loan_id", "allowed_values"));
    allowed = rule(contract, "status", "allowed_values");
    assert_non_null(allowed);
    values = sorted_values(json_object_get(allowed, "values"));
    assert_string_equal(values, "FAILED,PENDING,SUCCESS");
    free(values);
    rt_assert_contains(json_string_value(json_object_get(allowed, "evidence")), "SUCCESS=105");
    min = rule(contract, "emi_amount", "min");
    assert_non_null(min);
    assert_true(json_number_value(json_object_get(min, "value")) == 0.0);
    assert_int_equal(json_integer_value(json_object_get(out, "rules")), 17);

    tests = artifact_json(s, keys[2]);
    assert_true(json_array_size(json_object_get(tests, "tests")) > 0);
    assert_int_equal(json_integer_value(json_object_get(out, "tests")),
                     (json_int_t)json_array_size(json_object_get(tests, "tests")));
    docs = artifact(s, keys[3]);
    rt_assert_contains(docs, "loan_repayment_fact");
    free(docs);

    /* pre-load: one quarantined record per planted row, naming its rule(s) */
    quar = artifact(s, json_string_value(json_object_get(art, "quarantine")));
    rt_assert_contains(json_string_value(json_object_get(art, "quarantine")),
                       "quarantine/" FACT "/");
    rt_assert_contains(json_string_value(json_object_get(art, "valid")), "preload/" FACT "/");
    assert_int_equal(count_lines(quar), 4);
    names = quarantined_rules(quar, 8); /* empty loan_id */
    assert_string_equal(names, "loan_id.not_null");
    free(names);
    names = quarantined_rules(quar, 15); /* negative emi_amount */
    rt_assert_contains(names, "emi_amount.min");
    rt_assert_contains(names, "ck_emi_positive");
    free(names);
    names = quarantined_rules(quar, 23); /* status REFUNDED */
    assert_string_equal(names, "status.allowed_values");
    free(names);
    names = quarantined_rules(quar, 31); /* 4 fields instead of 6 */
    assert_string_equal(names, "malformed");
    free(names);

    /* valid + quarantined == the batch's rows, counted from the files */
    assert_true(asprintf(&path, "%s/incoming/loan_repayment_fact/2026-10-04.csv", s->dir) >= 0);
    batch = tu_read_file(path, NULL);
    assert_non_null(batch);
    valid = artifact(s, json_string_value(json_object_get(art, "valid")));
    batch_rows = count_lines(batch) - 1; /* header */
    valid_rows = count_lines(valid) - 1;
    quar_rows = count_lines(quar);
    assert_int_equal(batch_rows, 40);
    assert_int_equal(valid_rows + quar_rows, batch_rows);
    assert_int_equal(json_integer_value(json_object_get(out, "valid")), (json_int_t)valid_rows);
    assert_int_equal(json_integer_value(json_object_get(out, "quarantined")), (json_int_t)quar_rows);
    tu_assert_json(json_object_get(out, "quarantined_per_rule"),
                   "{\"ck_emi_positive\": 1, \"emi_amount.min\": 1, \"emi_amount.range_soft\": 1,"
                   " \"loan_id.not_null\": 1, \"malformed\": 1, \"status.allowed_values\": 1}");
    free(path);
    free(batch);
    free(valid);
    free(quar);

    /* post-load: the clean day passes */
    results = artifact_json(s, keys[4]);
    assert_string_equal(json_string_value(json_object_get(results, "date")), "2026-10-03");
    assert_true(json_integer_value(json_object_get(results, "passed")) > 0);
    assert_int_equal(json_integer_value(json_object_get(results, "failed")), 0);
    assert_int_equal(json_integer_value(json_object_get(results, "errors")), 0);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(out, "postload"), "failed")),
                     0);

    /* a rerun on unchanged data rewrites the same bytes */
    for (size_t i = 0; i < NKEYS; i++) {
        first[i] = artifact(s, keys[i]);
    }
    json_decref(sum);
    sum = run(s, "demo.yaml", "{}");
    for (size_t i = 0; i < NKEYS; i++) {
        char *again = artifact(s, keys[i]);

        assert_string_equal(again, first[i]);
        free(again);
        free(first[i]);
    }
    json_decref(results);
    json_decref(tests);
    json_decref(contract);
    json_decref(stats);
    json_decref(sum);
}

/* copilot.yaml writes the contract that preload.yaml and postload.yaml use. */
static void test_copilot_then_preload_and_postload(void **state)
{
    struct shipped *s = *state;
    json_t *sum = run(s, "copilot.yaml", "{\"table\": \"" FACT "\"}"), *out, *contract;

    out = json_object_get(rt_step(sum, "summary"), "output");
    assert_true(json_is_true(json_object_get(out, "written")));
    contract = artifact_json(s, "contracts/" FACT ".json");
    assert_non_null(rule(contract, "status", "allowed_values"));
    free(artifact(s, "tests/" FACT ".json"));
    free(artifact(s, "docs/" FACT ".md"));
    json_decref(contract);
    json_decref(sum);

    /* the default input: a day already loaded, so nothing is quarantined */
    sum = run(s, "preload.yaml", "{}");
    out = json_object_get(rt_step(sum, "preload"), "output");
    assert_int_equal(json_integer_value(json_object_get(out, "input_rows")), 40);
    assert_int_equal(json_integer_value(json_object_get(out, "valid_rows")), 40);
    assert_int_equal(json_integer_value(json_object_get(out, "quarantined_rows")), 0);
    free(artifact(s, json_string_value(json_object_get(out, "valid_output"))));
    json_decref(sum);

    sum = run(s, "postload.yaml", "{\"table\": \"" FACT "\", \"date\": \"2026-10-03\"}");
    out = json_object_get(rt_step(sum, "summary"), "output");
    assert_int_equal(json_integer_value(json_object_get(out, "failed")), 0);
    assert_int_equal(json_integer_value(json_object_get(out, "errors")), 0);
    assert_true(json_integer_value(json_object_get(out, "passed")) > 0);
    free(artifact(s, "results/" FACT "/2026-10-03.json"));
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
        cmocka_unit_test_setup_teardown(test_demo_main_job, setup, teardown),
        cmocka_unit_test_setup_teardown(test_copilot_then_preload_and_postload, setup, teardown),
        cmocka_unit_test_setup_teardown(test_profile_stores_the_days_stats, setup, teardown),
        cmocka_unit_test_setup_teardown(test_profile_raw_payments_one_partition, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
