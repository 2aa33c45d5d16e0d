/*
 * test_generate.c - contract.build_context and contract.generate through the
 * loaded plugins on a copy of the example project: artifacts written and
 * byte-identical on rerun; broken llm answers (not JSON, wrong shape,
 * unknown column, DML in a test, two statements) each rejected with its
 * reason and asked again; failure after max_attempts listing every error;
 * rules today's data breaks kept as warn or dropped; a hand-edited contract
 * left alone (with a diff) unless force.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "ctx.h"
#include "error.h"
#include "plugins.h"

#define TABLE "analytics_db.loan_repayment_fact"
#define CONTRACT_FILE "lake/contracts/" TABLE ".json"

static struct weir_plugins *plugins;

struct proj {
    char *dir;
    char *workspace;
};

static int group_setup(void **state)
{
    char *fx = NULL;

    (void)state;
    if (weir_plugins_new(&plugins) != WEIR_OK ||
        weir_plugins_load_dir(plugins, tu_env("WEIR_PLUGIN_DIR")) != WEIR_OK ||
        asprintf(&fx, "%s/llm/fx_llm_script.so", tu_env("WEIR_FIXTURE_DIR")) < 0 ||
        weir_plugins_load_file(plugins, fx) != WEIR_OK) {
        fprintf(stderr, "loading plugins: %s\n", weir_error_last());
        free(fx);
        return -1;
    }
    free(fx);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    weir_plugins_free(plugins);
    return 0;
}

static int setup(void **state)
{
    struct proj *p = calloc(1, sizeof(*p));
    char *cmd = NULL;

    p->dir = tu_mkdtemp();
    /* Artifacts left in examples/ by someone's runs are not part of the example. */
    if (asprintf(&cmd, "cp -r '%s/examples/.' '%s/' && rm -rf '%s/lake/contracts' '%s/lake/tests' "
                       "'%s/lake/docs'", tu_env("WEIR_SOURCE_DIR"), p->dir, p->dir, p->dir,
                 p->dir) < 0 ||
        system(cmd) != 0 || asprintf(&p->workspace, "%s/.weir", p->dir) < 0) {
        free(cmd);
        return -1;
    }
    free(cmd);
    *state = p;
    return 0;
}

static int teardown(void **state)
{
    struct proj *p = *state;

    tu_rmtree(p->dir);
    free(p->dir);
    free(p->workspace);
    free(p);
    unsetenv("FX_LLM_SCRIPT");
    unsetenv("FX_LLM_LOG");
    return 0;
}

/* Runs plugin.step with `with` in the project, llm served by llm_impl. */
static int invoke(struct proj *p, const char *plugin, const char *step, const json_t *with,
                  const char *llm_impl, json_t **out)
{
    json_t *services = json_pack("{s:s, s:s, s:s, s:s}", "catalog", "lake", "engine", "lake",
                                 "store", "fs", "llm", llm_impl);
    const struct weir_step_def *def = weir_plugins_find_step(plugins, plugin, step);
    struct weir_ctx ctx;
    int rc;

    assert_non_null(def);
    memset(&ctx, 0, sizeof(ctx));
    ctx.project = p->dir;
    ctx.workspace = p->workspace;
    ctx.plugins = plugins;
    ctx.services = services;
    ctx.step_id = step;
    ctx.run_id = "test";
    ctx.run_date = "2026-10-04";
    *out = NULL;
    rc = weir_step_invoke(def, with, out, &ctx);
    json_decref(services);
    return rc;
}

static json_t *build_context(struct proj *p)
{
    json_t *with = json_pack("{s:s}", "table", TABLE), *out = NULL;

    assert_int_equal(invoke(p, "contract", "build_context", with, "builtin", &out), WEIR_OK);
    json_decref(with);
    return out;
}

/* The builtin provider's answer for a context: a valid answer to script. */
static json_t *builtin_answer(struct proj *p, const json_t *context)
{
    char *text = json_dumps(context, JSON_COMPACT | JSON_SORT_KEYS), *msg = NULL;
    json_t *with, *out = NULL;

    assert_true(asprintf(&msg, "-----BEGIN CONTEXT JSON-----\n%s\n-----END CONTEXT JSON-----\n",
                         text) > 0);
    with = json_pack("{s:[{s:s, s:s}]}", "messages", "role", "user", "content", msg);
    assert_int_equal(invoke(p, "builtin", "generate", with, "builtin", &out), WEIR_OK);
    json_decref(with);
    free(text);
    free(msg);
    return out;
}

static char *project_file(struct proj *p, const char *rel)
{
    char *path = NULL, *text;

    assert_true(asprintf(&path, "%s/%s", p->dir, rel) > 0);
    text = tu_read_file(path, NULL);
    free(path);
    return text;
}

static json_t *generate_with(struct proj *p, const json_t *context, const char *llm,
                             const char *extra, int *rc)
{
    json_t *with = json_loads(extra ? extra : "{}", 0, NULL), *out = NULL;

    assert_non_null(with);
    json_object_set(with, "context", (json_t *)context);
    *rc = invoke(p, "contract", "generate", with, llm, &out);
    json_decref(with);
    return out;
}

/* Writes a script of answers (steals them) and points the fixture at it. */
static void script(struct proj *p, json_t *answers)
{
    char *text = json_dumps(answers, JSON_COMPACT), *path;
    static int n;
    char name[64];

    snprintf(name, sizeof(name), "script-%d.json", ++n);
    path = tu_write_file(p->dir, name, text);
    setenv("FX_LLM_SCRIPT", path, 1);
    free(path);
    free(text);
    json_decref(answers);
}

static void test_context_shape(void **state)
{
    struct proj *p = *state;
    json_t *c = build_context(p), *with, *out = NULL;
    const char *keys[] = { "table_name", "database", "layer", "purpose", "owner", "schema",
                           "partition_keys", "constraints", "row_count", "column_stats",
                           "job_summary" };
    const char *key;
    json_t *v;
    size_t i = 0;

    json_object_foreach(c, key, v) {
        assert_true(i < sizeof(keys) / sizeof(keys[0]));
        assert_string_equal(key, keys[i++]);
    }
    assert_int_equal(i, sizeof(keys) / sizeof(keys[0]));
    assert_string_equal(json_string_value(json_object_get(c, "layer")), "curated");
    assert_string_equal(json_string_value(json_object_get(c, "purpose")),
                        "Fact table with one row per loan repayment (EMI).");
    assert_int_equal(json_integer_value(json_object_get(c, "row_count")), 120);
    tu_assert_json(json_object_get(c, "constraints"),
                   "[{\"name\":\"ck_emi_positive\",\"type\":\"CHECK\",\"expression\":\"emi_amount >= 0\"}]");
    tu_assert_json(json_object_get(c, "partition_keys"), "[{\"name\":\"dt\",\"type\":\"string\"}]");
    v = json_array_get(json_object_get(c, "schema"), 0);
    assert_string_equal(json_string_value(json_object_get(v, "name")), "loan_id");
    assert_false(json_is_true(json_object_get(v, "nullable")));
    assert_null(json_object_get(c, "samples"));
    json_decref(c);

    /* samples only on request, and params override the catalog */
    with = json_pack("{s:s, s:i, s:s, s:s}", "table", TABLE, "sample_rows", 2, "purpose", "P",
                     "layer", "gold");
    assert_int_equal(invoke(p, "contract", "build_context", with, "builtin", &out), WEIR_OK);
    assert_int_equal(json_array_size(json_object_get(out, "samples")), 2);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(out, "samples"), 0), "status")),
                        "SUCCESS");
    assert_string_equal(json_string_value(json_object_get(out, "purpose")), "P");
    assert_string_equal(json_string_value(json_object_get(out, "layer")), "gold");
    json_decref(with);
    json_decref(out);
}

static void test_generate_writes_identical_artifacts(void **state)
{
    struct proj *p = *state;
    json_t *c = build_context(p), *out;
    char *files[3], *again;
    const char *rel[3] = { CONTRACT_FILE, "lake/tests/" TABLE ".json", "lake/docs/" TABLE ".md" };
    int rc;

    out = generate_with(p, c, "builtin", NULL, &rc);
    assert_int_equal(rc, WEIR_OK);
    assert_true(json_is_true(json_object_get(out, "written")));
    assert_int_equal(json_integer_value(json_object_get(out, "attempts")), 1);
    assert_true(json_integer_value(json_object_get(out, "rules")) >= 10);
    assert_true(json_integer_value(json_object_get(out, "tests")) >= 10);
    assert_int_equal(json_array_size(json_object_get(out, "downgraded")), 0);
    assert_string_equal(json_string_value(json_object_get(json_object_get(out, "artifacts"), "docs")),
                        "docs/" TABLE ".md");
    json_decref(out);
    for (int i = 0; i < 3; i++) {
        files[i] = project_file(p, rel[i]);
        assert_non_null(files[i]);
    }
    assert_non_null(strstr(files[0], "\"allowed_values\""));
    assert_non_null(strstr(files[2], "# Table: " TABLE));

    out = generate_with(p, c, "builtin", NULL, &rc);
    assert_int_equal(rc, WEIR_OK);
    assert_true(json_is_true(json_object_get(out, "written")));
    assert_false(json_is_true(json_object_get(out, "human_edited")));
    json_decref(out);
    for (int i = 0; i < 3; i++) {
        again = project_file(p, rel[i]);
        assert_string_equal(again, files[i]);
        free(again);
        free(files[i]);
    }
    json_decref(c);
}

/* One broken answer, then a valid one: accepted on attempt 2, the reason kept. */
static void retry_case(struct proj *p, json_t *broken, const char *reason)
{
    json_t *c = build_context(p), *good = builtin_answer(p, c), *out;
    char *log = NULL, *logged;
    int rc;

    assert_true(asprintf(&log, "%s/llm.log", p->dir) > 0);
    setenv("FX_LLM_LOG", log, 1);
    script(p, json_pack("[o, O]", broken, good));
    out = generate_with(p, c, "fx_llm_script", "{\"write\": false}", &rc);
    assert_int_equal(rc, WEIR_OK);
    assert_int_equal(json_integer_value(json_object_get(out, "attempts")), 2);
    {
        char *errors = json_dumps(json_object_get(json_array_get(json_object_get(out, "rejected"), 0),
                                                  "errors"), 0);

        if (!strstr(errors, reason)) {
            fail_msg("'%s' not in %s", reason, errors);
        }
        free(errors);
    }
    /* the re-ask listed the errors */
    logged = tu_read_file(log, NULL);
    assert_non_null(logged);
    assert_non_null(strstr(logged, "Your answer was rejected"));
    assert_non_null(strstr(logged, reason));
    free(logged);
    free(log);
    json_decref(out);
    json_decref(good);
    json_decref(c);
}

static json_t *valid_answer(struct proj *p)
{
    json_t *c = build_context(p), *a = builtin_answer(p, c);

    json_decref(c);
    return a;
}

static void test_retry_not_json(void **state)
{
    retry_case(*state, json_string("Sure! Here is your contract: {data_quality: ...}"),
               "the answer is not JSON");
}

static void test_retry_wrong_schema(void **state)
{
    retry_case(*state, json_pack("{s:s}", "contract", "x"), "data_quality: missing");
}

static void test_retry_unknown_column(void **state)
{
    struct proj *p = *state;
    json_t *a = valid_answer(p);

    json_object_set_new(json_object_get(json_object_get(a, "data_quality"), "columns"), "loan_idd",
                        json_pack("{s:s, s:[{s:s}]}", "type", "string", "rules", "type", "not_null"));
    retry_case(p, a, "unknown column 'loan_idd'");
}

static void test_retry_dml_in_sql(void **state)
{
    struct proj *p = *state;
    json_t *a = valid_answer(p);

    json_object_set_new(json_array_get(json_object_get(a, "tests"), 0), "sql",
                        json_string("DELETE FROM " TABLE " WHERE loan_id IS NULL"));
    retry_case(p, a, "not a SELECT or WITH statement");
    a = valid_answer(p);
    json_object_set_new(json_array_get(json_object_get(a, "tests"), 0), "sql",
                        json_string("SELECT COUNT(*) AS failures FROM " TABLE
                                    " WHERE status = 'DROP' AND 0 IN (SELECT 1 INTO t)"));
    retry_case(p, a, "write or side-effect keyword");
}

static void test_retry_two_statements(void **state)
{
    struct proj *p = *state;
    json_t *a = valid_answer(p);

    json_object_set_new(json_array_get(json_object_get(a, "tests"), 1), "sql",
                        json_string("SELECT COUNT(*) AS failures FROM " TABLE "; SELECT 1"));
    retry_case(p, a, "more than one statement");
}

static void test_all_attempts_invalid(void **state)
{
    struct proj *p = *state;
    json_t *c = build_context(p), *out;
    int rc;

    script(p, json_pack("[s, {s:i}, s]", "nope", "data_quality", 1, "still not json"));
    out = generate_with(p, c, "fx_llm_script", "{\"max_attempts\": 3}", &rc);
    assert_int_equal(rc, WEIR_EINVALID);
    assert_null(out);
    assert_non_null(strstr(weir_error_last(), "in 3 attempt(s)"));
    assert_non_null(strstr(weir_error_last(), "attempt 1: the answer is not JSON"));
    assert_non_null(strstr(weir_error_last(), "attempt 2: data_quality: missing or not an object"));
    assert_non_null(strstr(weir_error_last(), "attempt 3:"));
    assert_null(project_file(p, CONTRACT_FILE));
    json_decref(c);
}

/* A context whose statistics claim two status values: the data has three. */
static json_t *misleading_context(struct proj *p)
{
    json_t *c = build_context(p);
    json_t *st = json_object_get(json_object_get(c, "column_stats"), "status");

    json_object_set_new(st, "distinct_count", json_integer(2));
    json_object_set_new(st, "top_values", json_pack("[{s:s, s:i}, {s:s, s:i}]", "value", "SUCCESS",
                                                    "count", 111, "value", "FAILED", "count", 9));
    return c;
}

static void test_violated_rule_downgraded_or_dropped(void **state)
{
    struct proj *p = *state;
    json_t *c = misleading_context(p), *out, *rule, *dq;
    char *contract;
    int rc;

    out = generate_with(p, c, "builtin", NULL, &rc);
    assert_int_equal(rc, WEIR_OK);
    tu_assert_json(json_object_get(out, "downgraded"),
                   "[{\"rule\": \"status.allowed_values\", \"violations\": 9}]");
    json_decref(out);
    contract = project_file(p, CONTRACT_FILE);
    dq = json_loads(contract, 0, NULL);
    rule = json_array_get(json_object_get(json_object_get(json_object_get(dq, "columns"), "status"),
                                          "rules"), 1);
    assert_string_equal(json_string_value(json_object_get(rule, "type")), "allowed_values");
    assert_string_equal(json_string_value(json_object_get(rule, "severity")), "warn");
    assert_non_null(strstr(json_string_value(json_object_get(rule, "evidence")),
                           "violated by 9 rows today"));
    json_decref(dq);
    free(contract);
    contract = project_file(p, "lake/tests/" TABLE ".json");
    assert_non_null(strstr(contract, "\"warn\""));
    free(contract);
    contract = project_file(p, "lake/docs/" TABLE ".md");
    assert_non_null(strstr(contract, "## Checked against today's data"));
    assert_non_null(strstr(contract, "- rule `status.allowed_values`: violated by 9 rows\n"));
    free(contract);

    out = generate_with(p, c, "builtin", "{\"on_violation\": \"drop\", \"write\": false}", &rc);
    assert_int_equal(rc, WEIR_OK);
    tu_assert_json(json_object_get(out, "dropped"),
                   "[{\"rule\": \"status.allowed_values\", \"violations\": 9}]");
    contract = json_dumps(json_object_get(out, "data_quality"), 0);
    assert_null(strstr(contract, "allowed_values"));
    free(contract);
    contract = json_dumps(json_object_get(out, "test_list"), 0);
    assert_null(strstr(contract, "allowed_values_status"));
    free(contract);
    json_decref(out);
    json_decref(c);
}

static void test_human_edit_kept_unless_force(void **state)
{
    struct proj *p = *state;
    json_t *c = build_context(p), *out;
    char *orig, *edited, *path = NULL, *now, *pos;
    int rc;

    json_decref(generate_with(p, c, "builtin", NULL, &rc));
    assert_int_equal(rc, WEIR_OK);
    orig = project_file(p, CONTRACT_FILE);
    assert_non_null(orig);
    /* a reviewer renames the owner */
    edited = strdup(orig);
    pos = strstr(edited, "\"data-eng-team\"");
    assert_non_null(pos);
    memcpy(pos, "\"finance-dq-ok\"", 15);
    assert_true(asprintf(&path, "%s/%s", p->dir, CONTRACT_FILE) > 0);
    free(tu_write_file(p->dir, CONTRACT_FILE, edited));

    out = generate_with(p, c, "builtin", NULL, &rc);
    assert_int_equal(rc, WEIR_OK);
    assert_false(json_is_true(json_object_get(out, "written")));
    assert_true(json_is_true(json_object_get(out, "human_edited")));
    assert_non_null(strstr(json_string_value(json_object_get(out, "diff")),
                           "-  \"owner\": \"finance-dq-ok\""));
    assert_non_null(strstr(json_string_value(json_object_get(out, "diff")),
                           "+  \"owner\": \"data-eng-team\""));
    json_decref(out);
    now = tu_read_file(path, NULL);
    assert_string_equal(now, edited);
    free(now);

    out = generate_with(p, c, "builtin", "{\"force\": true}", &rc);
    assert_int_equal(rc, WEIR_OK);
    assert_true(json_is_true(json_object_get(out, "written")));
    json_decref(out);
    now = tu_read_file(path, NULL);
    assert_string_equal(now, orig);
    free(now);
    free(orig);
    free(edited);
    free(path);
    json_decref(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_context_shape, setup, teardown),
        cmocka_unit_test_setup_teardown(test_generate_writes_identical_artifacts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retry_not_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retry_wrong_schema, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retry_unknown_column, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retry_dml_in_sql, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retry_two_statements, setup, teardown),
        cmocka_unit_test_setup_teardown(test_all_attempts_invalid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_violated_rule_downgraded_or_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_human_edit_kept_unless_force, setup, teardown),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
