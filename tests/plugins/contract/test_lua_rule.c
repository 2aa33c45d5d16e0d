/*
 * test_lua_rule.c - the `lua` rule kind: contract.preload quarantines the
 * rows a Lua rule rejects, with the rule's own reason; contract.validate
 * reports a broken script before any load; a broken rule (runaway loop,
 * runtime error, a result that is not a verdict) fails the step instead of
 * quarantining rows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "contract.h"
#include "lake.h"
#include "ctx.h"
#include "error.h"
#include "plugins.h"

const struct weir_host_api *contract_host;

static struct weir_plugins *plugins;
static const struct weir_step_def *preload, *validate;
static json_t *services;
static char *proj;

static const char *catalog_def =
    "{\"Table\":{\"Name\":\"payments\",\"DatabaseName\":\"sales\","
    "\"Parameters\":{\"classification\":\"csv\",\"skip.header.line.count\":\"1\"},"
    "\"StorageDescriptor\":{\"Columns\":["
    "{\"Name\":\"loan_id\",\"Type\":\"string\"},{\"Name\":\"tries\",\"Type\":\"int\"},"
    "{\"Name\":\"emi_amount\",\"Type\":\"double\"},{\"Name\":\"status\",\"Type\":\"string\"},"
    "{\"Name\":\"note\",\"Type\":\"string\"}],"
    "\"Location\":\"s3://bucket/payments/\","
    "\"SerdeInfo\":{\"Parameters\":{\"field.delim\":\",\"}}}}}";

/* Row 2 fails with a reason, row 4 with false; row 5 has NULLs (nil in Lua);
 * row 6 has an int column that does not parse (a string in Lua). */
static const char *batch = "loan_id,tries,emi_amount,status,note\n"
                           "L00001,1,100.5,SUCCESS,ok\n"
                           "L00002,2,50,FAILED,ok\n"
                           "L00003,1,0,FAILED,ok\n"
                           "L00004,3,10,PENDING,bad\n"
                           "L00005,,,FAILED,\n"
                           "L00006,x,7,SUCCESS,ok\n";

static const char *good_rule =
    "local seen = 0\n"
    "return function(row)\n"
    "  seen = seen + 1\n"
    "  if math.type(row.tries) == 'float' or math.type(row.emi_amount) == 'integer' then\n"
    "    return 'columns not typed'\n"
    "  end\n"
    "  if row.status == 'FAILED' and row.emi_amount and row.emi_amount > 0 then\n"
    "    return 'failed payment with amount ' .. row.emi_amount\n"
    "  end\n"
    "  if row.note == 'bad' then return false end\n"
    "  if row.tries == 'x' and seen == 6 then return 'tries=' .. row.tries end\n"
    "  if row.note == nil then return nil end\n"
    "  return true\n"
    "end\n";

static int group_setup(void **state)
{
    (void)state;
    contract_host = weir_host_api_get();
    lake_host = weir_host_api_get();
    if (weir_plugins_new(&plugins) != WEIR_OK) {
        return -1;
    }
    tu_load_plugin(plugins, "contract");
    tu_load_plugin(plugins, "fs");
    tu_load_plugin(plugins, "lake");
    preload = weir_plugins_find_step(plugins, "contract", "preload");
    validate = weir_plugins_find_step(plugins, "contract", "validate");
    services = json_pack("{s:s, s:s, s:s}", "store", "fs", "engine", "lake", "catalog", "lake");
    if ((proj = tu_mkdtemp()) == NULL || !preload || !validate || !services) {
        return -1;
    }
    free(tu_write_file(proj, "catalog/sales/payments.json", catalog_def));
    free(tu_write_file(proj, "incoming/batch.csv", batch));
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    weir_plugins_free(plugins);
    json_decref(services);
    tu_rmtree(proj);
    free(proj);
    return 0;
}

/* A contract with one table-level lua rule named "r". */
static json_t *contract_with(const char *script)
{
    return json_pack("{s:s, s:[{s:s, s:s, s:s}]}", "table_name", "payments", "table_level_checks",
                     "type", "lua", "name", "r", "script", script);
}

/* Runs step with `with` (stolen) and a per-call Lua budget of budget_ms. */
static int invoke(const struct weir_step_def *step, json_t *with, int64_t budget_ms, json_t **out)
{
    struct weir_ctx ctx = { 0 };
    int rc;

    ctx.project = proj;
    ctx.workspace = proj;
    ctx.run_id = "run-1";
    ctx.run_date = "2026-10-04";
    ctx.step_id = "preload";
    ctx.plugins = plugins;
    ctx.services = services;
    ctx.lua.time_budget_ms = budget_ms;
    *out = NULL;
    assert_non_null(with);
    rc = weir_step_invoke(step, with, out, &ctx);
    json_decref(with);
    return rc;
}

static int run_preload(const char *script, int64_t budget_ms, json_t **out)
{
    return invoke(preload,
                  json_pack("{s:s, s:s, s:o, s:f}", "input", "incoming/batch.csv", "table",
                            "sales.payments", "contract", contract_with(script),
                            "max_quarantine_pct", 100.0),
                  budget_ms, out);
}

static json_t *read_jsonl(const char *rel)
{
    char path[4096], *text, *p, *nl;
    json_t *arr = json_array();

    snprintf(path, sizeof(path), "%s/%s", proj, rel);
    text = tu_read_file(path, NULL);
    assert_non_null(text);
    for (p = text; *p; p = nl + 1) {
        json_t *v;

        nl = strchr(p, '\n');
        assert_non_null(nl);
        *nl = '\0';
        v = json_loads(p, 0, NULL);
        assert_non_null(v);
        json_array_append_new(arr, v);
    }
    free(text);
    return arr;
}

static void test_lua_rule_quarantines_with_reason(void **state)
{
    json_t *out = NULL, *rej;
    char path[4096], *valid;

    (void)state;
    if (run_preload(good_rule, 0, &out) != WEIR_OK) {
        fail_msg("preload failed: %s", weir_error_last());
    }
    assert_int_equal(json_integer_value(json_object_get(out, "input_rows")), 6);
    assert_int_equal(json_integer_value(json_object_get(out, "quarantined_rows")), 3);
    tu_assert_json(json_object_get(out, "per_rule"), "{\"r\":3,\"malformed\":0}");
    rej = read_jsonl("lake/quarantine/sales.payments/run-1/rejected.jsonl");
    assert_int_equal(json_array_size(rej), 3);
    tu_assert_json(json_object_get(json_array_get(rej, 0), "rule_name"), "[\"r\"]");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(rej, 0), "line")), 3);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(rej, 0), "error_reason")),
        "failed payment with amount 50.0 (r)");
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(rej, 1), "error_reason")),
        "lua rule returned false (r)");
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(rej, 2), "error_reason")),
        "tries=x (r)");
    json_decref(rej);
    snprintf(path, sizeof(path), "%s/lake/preload/sales.payments/run-1/valid.csv", proj);
    valid = tu_read_file(path, NULL);
    assert_string_equal(valid, "loan_id,tries,emi_amount,status,note\n"
                               "L00001,1,100.5,SUCCESS,ok\n"
                               "L00003,1,0,FAILED,ok\n"
                               "L00005,,,FAILED,\n");
    free(valid);
    json_decref(out);
}

/* Runs contract.validate on a lua rule with script; returns the errors. */
static json_t *validate_errors(const char *script)
{
    json_t *out = NULL, *errors;

    if (invoke(validate, json_pack("{s:o}", "contract", contract_with(script)), 0, &out) !=
        WEIR_OK) {
        fail_msg("validate failed: %s", weir_error_last());
    }
    errors = json_incref(json_object_get(out, "errors"));
    assert_int_equal(json_is_true(json_object_get(out, "valid")), json_array_size(errors) == 0);
    json_decref(out);
    return errors;
}

static void test_validate_reports_script_errors(void **state)
{
    json_t *errors;

    (void)state;
    errors = validate_errors(good_rule);
    tu_assert_json(errors, "[]");
    json_decref(errors);
    errors = validate_errors("return function(row)\n  return row.x >\nend\n");
    assert_int_equal(json_array_size(errors), 1);
    assert_non_null(strstr(json_string_value(json_array_get(errors, 0)),
                           "table_level_checks[0].script:3: unexpected symbol near 'end'"));
    json_decref(errors);
    errors = validate_errors("return 42");
    assert_non_null(strstr(json_string_value(json_array_get(errors, 0)),
                           "the chunk must return a function, it returned a number"));
    json_decref(errors);
    errors = validate_errors("");
    tu_assert_json(errors, "[\"table_level_checks[0].script: must be a non-empty string\"]");
    json_decref(errors);
}

static void test_runaway_rule_fails_the_step(void **state)
{
    json_t *out = NULL;
    int64_t t0 = tu_now_ms();

    (void)state;
    assert_int_equal(run_preload("return function(row)\n"
                                 "  if row.loan_id == 'L00002' then while true do end end\n"
                                 "end\n",
                                 50, &out),
                     WEIR_ETIMEOUT);
    assert_null(out);
    assert_non_null(strstr(weir_error_last(), "incoming/batch.csv line 3: "
                                              "lua: time budget of 50 ms exceeded"));
    /* one row's budget, not the default 10 s */
    assert_true(tu_now_ms() - t0 < 5000);
}

static void test_broken_rule_fails_the_step(void **state)
{
    json_t *out = NULL;

    (void)state;
    assert_int_equal(run_preload("return function(row) return row.nope.x end", 0, &out),
                     WEIR_EUSER);
    assert_null(out);
    assert_non_null(strstr(weir_error_last(), "line 2: lua rule r:1: attempt to index a nil "
                                              "value (field 'nope')"));
    assert_int_equal(run_preload("return function(row) return {1} end", 0, &out), WEIR_EINVALID);
    assert_non_null(strstr(weir_error_last(), "lua rule r: the function returned a table"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lua_rule_quarantines_with_reason),
        cmocka_unit_test(test_validate_reports_script_errors),
        cmocka_unit_test(test_runaway_rule_fails_the_step),
        cmocka_unit_test(test_broken_rule_fails_the_step),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
