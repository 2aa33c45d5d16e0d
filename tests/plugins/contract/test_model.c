/*
 * test_model.c - the contract model (plugins/contract/model.c): vocabulary
 * and aliases, and a validation table of good and broken data_quality
 * objects, each broken one rejected with the expected one-line error; the
 * contract.validate step through the loaded plugin.
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

static int group_setup(void **state)
{
    (void)state;
    contract_host = weir_host_api_get();
    lake_host = weir_host_api_get();
    return 0;
}

static void test_kind_names(void **state)
{
    int k;

    (void)state;
    for (k = 0; k < CK_COUNT; k++) {
        assert_int_equal(contract_kind_parse(contract_kind_name((enum contract_kind)k)), k);
    }
    assert_int_equal(contract_kind_parse("grain_uniqueness"), CK_GRAIN_UNIQUE);
    assert_int_equal(contract_kind_parse("accepted_values"), CK_ALLOWED_VALUES);
    assert_int_equal(contract_kind_parse("check_constraint"), CK_CHECK);
    assert_int_equal(contract_kind_parse("allowed"), -1);
    assert_int_equal(contract_kind_parse("not_empty"), -1);
    assert_int_equal(contract_kind_parse(NULL), -1);
    assert_true(contract_kind_is_row_rule(CK_NOT_NULL));
    assert_true(contract_kind_is_row_rule(CK_CHECK));
    assert_true(contract_kind_is_row_rule(CK_TYPE_CONFORMITY));
    assert_false(contract_kind_is_row_rule(CK_UNIQUE));
    assert_false(contract_kind_is_row_rule(CK_FOREIGN_KEY));
    assert_false(contract_kind_is_row_rule(CK_GRAIN_UNIQUE));
    assert_string_equal(contract_kind_name(CK_RANGE_SOFT), "range_soft");
}

static const char *schema_text =
    "[{\"name\":\"loan_id\",\"type\":\"string\"},{\"name\":\"payment_date\",\"type\":\"date\"},"
    "{\"name\":\"emi_amount\",\"type\":\"double\"},{\"name\":\"status\",\"type\":\"string\"}]";

static const char *good_text =
    "{\"table_name\":\"loan_repayment_fact\",\"owner\":\"data-eng\","
    "\"primary_key\":[\"loan_id\",\"payment_date\"],"
    "\"columns\":{"
    " \"loan_id\":{\"type\":\"string\",\"nullable\":false,\"rules\":[{\"type\":\"not_null\"},"
    "   {\"type\":\"foreign_key\",\"ref_table\":\"dim_loan\",\"ref_column\":\"loan_id\"}]},"
    " \"emi_amount\":{\"type\":\"double\",\"rules\":[{\"type\":\"min\",\"value\":0.0},"
    "   {\"type\":\"range_soft\",\"min\":0.0,\"max\":20000.0}]},"
    " \"status\":{\"type\":\"string\",\"rules\":[{\"type\":\"accepted_values\","
    "   \"values\":[\"SUCCESS\",\"FAILED\",\"PENDING\"]}]}},"
    "\"table_level_checks\":["
    " {\"type\":\"grain_uniqueness\",\"grain\":[\"loan_id\",\"payment_date\"]},"
    " {\"type\":\"row_count_anomaly\",\"rule\":\"within 20% of the 7-day average\"},"
    " {\"type\":\"check\",\"expression\":\"emi_amount >= 0 OR status = 'FAILED'\","
    "  \"severity\":\"warn\"}]}";

static void test_good_contract(void **state)
{
    json_t *dq = json_loads(good_text, 0, NULL), *schema = json_loads(schema_text, 0, NULL);
    json_t *errors = NULL;
    struct contract *c = NULL;

    (void)state;
    assert_non_null(dq);
    assert_int_equal(contract_parse(NULL, dq, schema, &c, &errors), WEIR_OK);
    assert_non_null(c);
    assert_int_equal(json_array_size(errors), 0);
    assert_string_equal(c->table, "loan_repayment_fact");
    assert_int_equal(c->nrules, 8);
    assert_string_equal(c->rules[0].name, "loan_id.not_null");
    assert_string_equal(c->rules[0].column, "loan_id");
    assert_int_equal(c->rules[0].kind, CK_NOT_NULL);
    assert_true(c->rules[0].is_error);
    assert_int_equal(c->rules[3].kind, CK_RANGE_SOFT);
    assert_false(c->rules[3].is_error); /* range_soft defaults to warn */
    assert_int_equal(c->rules[4].kind, CK_ALLOWED_VALUES);
    assert_string_equal(c->rules[4].name, "status.allowed_values");
    assert_int_equal(c->rules[5].kind, CK_GRAIN_UNIQUE);
    assert_null(c->rules[5].column);
    assert_string_equal(c->rules[5].name, "grain_unique");
    assert_int_equal(c->rules[7].kind, CK_CHECK);
    assert_false(c->rules[7].is_error);
    /* specs point into the contract's own copy, not the caller's object */
    json_decref(dq);
    assert_string_equal(json_string_value(json_object_get(c->rules[6].spec, "type")),
                        "row_count_anomaly");
    /* a table name given by the caller wins */
    contract_free(c);
    json_decref(errors);
    dq = json_loads(good_text, 0, NULL);
    assert_int_equal(contract_parse("analytics_db.loan_repayment_fact", dq, NULL, &c, NULL),
                     WEIR_OK);
    assert_string_equal(c->table, "analytics_db.loan_repayment_fact");
    contract_free(c);
    json_decref(dq);
    json_decref(schema);
}

/* One broken contract, the error it must produce (a substring of one line). */
struct bad_case {
    const char *dq;
    const char *expect;
};

static const struct bad_case bad_cases[] = {
    { "[]", "data_quality: must be an object" },
    { "{\"columns\":{\"status\":{\"rules\":[{\"type\":\"allowed\"}]}}}",
      "columns.status.rules[0]: unknown rule type 'allowed'" },
    { "{\"columns\":{\"status\":{\"rules\":[{\"type\":\"allowed_values\"}]}}}",
      "columns.status.rules[0]: missing 'values'" },
    { "{\"columns\":{\"status\":{\"rules\":[{\"type\":\"allowed_values\",\"values\":[]}]}}}",
      "columns.status.rules[0]: missing 'values'" },
    { "{\"columns\":{\"colour\":{\"rules\":[{\"type\":\"not_null\"}]}}}",
      "columns.colour: unknown column 'colour'" },
    { "{\"table_level_checks\":[{\"type\":\"not_null\",\"column\":\"nope\"}]}",
      "table_level_checks[0].column: unknown column 'nope'" },
    { "{\"columns\":{\"status\":{\"rules\":[{\"type\":\"not_null\",\"severity\":\"fatal\"}]}}}",
      "columns.status.rules[0].severity: must be \"error\" or \"warn\"" },
    { "{\"columns\":{\"status\":{\"rules\":[{\"type\":\"not_null\",\"name\":\"x\"},"
      "{\"type\":\"not_null\",\"name\":\"x\"}]}}}",
      "rule name 'x' is used twice" },
    { "{\"columns\":{\"emi_amount\":{\"rules\":[{\"type\":\"min\"}]}}}",
      "columns.emi_amount.rules[0]: missing 'value'" },
    { "{\"columns\":{\"emi_amount\":{\"rules\":[{\"type\":\"range\",\"min\":5,\"max\":1}]}}}",
      "min 5 is greater than max 1" },
    { "{\"columns\":{\"emi_amount\":{\"rules\":[{\"type\":\"range\"}]}}}",
      "needs 'min', 'max' or both" },
    { "{\"columns\":{\"status\":{\"rules\":[{\"type\":\"pattern\",\"regex\":7}]}}}",
      "rules[0].regex: must be a non-empty string" },
    { "{\"columns\":{\"status\":{\"rules\":[{\"type\":\"grain_unique\",\"grain\":[\"status\"]}]}}}",
      "is a table-level check" },
    { "{\"table_level_checks\":[{\"type\":\"grain_unique\",\"grain\":[\"loan_id\",\"zz\"]}]}",
      "table_level_checks[0].grain[1]: unknown column 'zz'" },
    { "{\"table_level_checks\":[{\"type\":\"min\",\"value\":1}]}", "'min' needs a 'column'" },
    { "{\"table_level_checks\":[{\"type\":\"check\",\"expression\":\"emi_amount >\"}]}",
      "table_level_checks[0].expression: at offset 12" },
    { "{\"table_level_checks\":[{\"type\":\"check\",\"expression\":\"colour = 'red'\"}]}",
      "unknown column 'colour'" },
    { "{\"columns\":{\"status\":{\"rules\":[{\"type\":\"null_ratio_max\",\"max\":1.5}]}}}",
      "must be between 0 and 1" },
    { "{\"columns\":{\"status\":{\"rules\":[{}]}}}", "columns.status.rules[0]: missing 'type'" },
    { "{\"columns\":{\"status\":{\"rules\":{}}}}", "columns.status.rules: must be an array" },
    { "{\"columns\":{\"status\":{\"nullable\":\"no\"}}}", "columns.status.nullable: must be" },
    { "{\"primary_key\":[\"loan_id\",\"nope\"]}", "primary_key[1]: unknown column 'nope'" },
    { "{\"table_level_checks\":[{\"type\":\"custom_sql\",\"sql\":\"select 1\",\"expect\":3}]}",
      "expect: must be \"zero_rows\"" },
    { "{\"columns\":{\"status\":{\"rules\":[{\"type\":\"length_range\",\"min\":-1}]}}}",
      "min: must be an integer >= 0" },
};

static void test_bad_contracts(void **state)
{
    json_t *schema = json_loads(schema_text, 0, NULL);
    size_t i, j;

    (void)state;
    for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        json_t *dq = json_loads(bad_cases[i].dq, 0, NULL), *errors = NULL;
        struct contract *c = (struct contract *)1;
        int found = 0;

        if (dq == NULL) {
            fail_msg("case %zu: bad JSON in the test", i);
        }
        assert_int_equal(contract_parse(NULL, dq, schema, &c, &errors), WEIR_EINVALID);
        assert_null(c);
        assert_true(json_array_size(errors) > 0);
        for (j = 0; j < json_array_size(errors); j++) {
            const char *line = json_string_value(json_array_get(errors, j));

            assert_non_null(line);
            assert_null(strchr(line, '\n'));
            if (strstr(line, bad_cases[i].expect)) {
                found = 1;
            }
        }
        if (!found) {
            char *t = tu_json_text(errors);

            fail_msg("case %zu: no error contains \"%s\"; got %s", i, bad_cases[i].expect, t);
        }
        json_decref(errors);
        json_decref(dq);
    }
    json_decref(schema);
}

static void test_every_problem_reported(void **state)
{
    json_t *dq = json_loads("{\"columns\":{\"a\":{\"rules\":[{\"type\":\"bogus\"},"
                            "{\"type\":\"min\"}]},\"b\":{\"rules\":[{\"type\":\"max\","
                            "\"value\":1,\"severity\":\"high\"}]}}}",
                            0, NULL);
    json_t *errors = NULL;
    struct contract *c = NULL;

    (void)state;
    assert_int_equal(contract_parse(NULL, dq, NULL, &c, &errors), WEIR_EINVALID);
    assert_int_equal(json_array_size(errors), 3);
    json_decref(errors);
    json_decref(dq);
}

static void test_names_and_severity(void **state)
{
    json_t *dq = json_loads(
        "{\"columns\":{\"a\":{\"type\":\"int\",\"rules\":[{\"type\":\"min\",\"value\":0},"
        "{\"type\":\"min\",\"value\":1,\"severity\":\"warn\"},{\"type\":\"max\",\"value\":9,"
        "\"name\":\"a.min.3\"},{\"type\":\"min\",\"value\":2},"
        "{\"type\":\"distribution_drift\",\"metric\":\"mean\",\"max_change_pct\":10},"
        "{\"type\":\"type_conformity\"}]}},"
        "\"table_level_checks\":[{\"type\":\"row_count_range\",\"min\":1},"
        "{\"type\":\"row_count_range\",\"max\":10,\"severity\":\"warn\"}]}",
        0, NULL);
    struct contract *c = NULL;
    json_t *errors = NULL;

    (void)state;
    assert_int_equal(contract_parse("db.t", dq, NULL, &c, &errors), WEIR_OK);
    assert_int_equal(c->nrules, 8);
    assert_string_equal(c->rules[0].name, "a.min");
    assert_string_equal(c->rules[1].name, "a.min.2");
    assert_false(c->rules[1].is_error);
    assert_string_equal(c->rules[2].name, "a.min.3");
    /* the generated name skips the explicit one */
    assert_string_equal(c->rules[3].name, "a.min.4");
    assert_false(c->rules[4].is_error); /* distribution_drift defaults to warn */
    assert_string_equal(c->rules[5].name, "a.type_conformity");
    assert_string_equal(c->rules[6].name, "row_count_range");
    assert_string_equal(c->rules[7].name, "row_count_range.2");
    assert_false(c->rules[7].is_error);
    contract_free(c);
    json_decref(errors);
    json_decref(dq);
}

/* contract.validate through the built plugin, as a pipeline would run it. */
static void test_validate_step(void **state)
{
    struct weir_plugins *plugins = NULL;
    const struct weir_step_def *def;
    char path[4096];
    json_t *with, *out = NULL;

    (void)state;
    snprintf(path, sizeof(path), "%s/contract.so", tu_env("WEIR_PLUGIN_DIR"));
    assert_int_equal(weir_plugins_new(&plugins), WEIR_OK);
    if (weir_plugins_load_file(plugins, path) != WEIR_OK) {
        fail_msg("load %s: %s", path, weir_error_last());
    }
    def = weir_plugins_find_step(plugins, "contract", "validate");
    assert_non_null(def);
    with = json_pack("{s:{s:o}, s:o}", "contract", "data_quality", json_loads(good_text, 0, NULL),
                     "columns", json_loads(schema_text, 0, NULL));
    assert_int_equal(weir_step_invoke(def, with, &out, NULL), WEIR_OK);
    assert_true(json_is_true(json_object_get(out, "valid")));
    assert_int_equal(json_array_size(json_object_get(out, "rules")), 8);
    tu_assert_json(json_array_get(json_object_get(out, "rules"), 0),
                   "{\"name\":\"loan_id.not_null\",\"kind\":\"not_null\",\"column\":\"loan_id\","
                   "\"severity\":\"error\"}");
    json_decref(out);
    out = NULL;
    json_object_set_new(
        with, "contract",
        json_loads("{\"columns\":{\"x\":{\"rules\":[{\"type\":\"nope\"}]}}}", 0, NULL));
    assert_int_equal(weir_step_invoke(def, with, &out, NULL), WEIR_OK);
    assert_true(json_is_false(json_object_get(out, "valid")));
    assert_int_equal(json_array_size(json_object_get(out, "errors")), 2);
    json_decref(out);
    out = NULL;
    json_object_set_new(with, "strict", json_true());
    assert_int_equal(weir_step_invoke(def, with, &out, NULL), WEIR_EINVALID);
    assert_null(out);
    json_decref(with);
    weir_plugins_free(plugins);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kind_names),         cmocka_unit_test(test_good_contract),
        cmocka_unit_test(test_bad_contracts),      cmocka_unit_test(test_every_problem_reported),
        cmocka_unit_test(test_names_and_severity), cmocka_unit_test(test_validate_step),
    };

    return cmocka_run_group_tests(tests, group_setup, NULL);
}
