/*
 * test_export.c - contract exports (plugins/contract/export.c): one contract
 * with every common rule kind exported to pyspark, dqdl, sql, odcs, dbt and
 * soda, each compared with its golden file in golden/ (rerun with
 * WEIR_UPDATE_GOLDEN=1 to rewrite them after a deliberate change, then
 * review the diff); exporting twice gives the same text; unknown formats
 * are refused; the YAML formats parse as YAML-compatible JSON strings.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "contract.h"
#include "error.h"
#include "export.h"
#include "lake.h"
#include "plugins.h"

const struct weir_host_api *contract_host;

static const char *contract_text =
    "{\"table_name\": \"loan_repayment_fact\", \"owner\": \"data-eng-team\","
    " \"description\": \"One row per loan repayment (EMI).\","
    " \"primary_key\": [\"loan_id\", \"payment_date\"],"
    " \"columns\": {"
    "  \"loan_id\": {\"type\": \"string\", \"nullable\": false, \"rules\": [{\"type\": \"not_null\"},"
    "     {\"type\": \"pattern\", \"regex\": \"^L[0-9]{5}$\"},"
    "     {\"type\": \"foreign_key\", \"ref_table\": \"dim_loan\", \"ref_column\": \"loan_id\"}]},"
    "  \"payment_date\": {\"type\": \"date\", \"nullable\": false, \"rules\": [{\"type\": \"not_null\"}]},"
    "  \"emi_amount\": {\"type\": \"double\", \"rules\": [{\"type\": \"min\", \"value\": 0},"
    "     {\"type\": \"range_soft\", \"min\": 0, \"max\": 20000, \"severity\": \"warn\"}]},"
    "  \"status\": {\"type\": \"string\", \"rules\": [{\"type\": \"allowed_values\","
    "     \"values\": [\"SUCCESS\", \"FAILED\", \"PENDING\"]}, {\"type\": \"length_range\", \"min\": 4, \"max\": 7}]},"
    "  \"customer_id\": {\"type\": \"string\", \"rules\": [{\"type\": \"null_ratio_max\", \"max\": 0.05}]},"
    "  \"created_at\": {\"type\": \"timestamp\", \"rules\": []}},"
    " \"table_level_checks\": ["
    "  {\"type\": \"grain_unique\", \"grain\": [\"loan_id\", \"payment_date\"]},"
    "  {\"type\": \"row_count_range\", \"min\": 1, \"max\": 1000000},"
    "  {\"type\": \"row_count_anomaly\", \"max_change_pct\": 20, \"window_days\": 7},"
    "  {\"type\": \"freshness_sla\", \"column\": \"created_at\", \"max_lag_hours\": 30},"
    "  {\"type\": \"check\", \"expression\": \"emi_amount >= 0 OR status = 'FAILED'\"}]}";

static struct contract *contract;

static int group_setup(void **state)
{
    json_t *dq, *errors = NULL;

    (void)state;
    contract_host = weir_host_api_get();
    lake_host = weir_host_api_get();
    dq = json_loads(contract_text, 0, NULL);
    if (!dq || contract_parse("analytics_db.loan_repayment_fact", dq, NULL, &contract, &errors) != WEIR_OK) {
        char *e = json_dumps(errors, 0);

        fprintf(stderr, "contract: %s\n", e ? e : weir_error_last());
        free(e);
        json_decref(dq);
        json_decref(errors);
        return -1;
    }
    json_decref(dq);
    json_decref(errors);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    contract_free(contract);
    return 0;
}

static void check_format(const char *format, const char *const *must_contain)
{
    char *text = NULL, *again = NULL, *path = NULL, *golden;
    FILE *f;

    if (contract_export(contract, format, SQLGEN_TRINO, &text) != WEIR_OK) {
        fail_msg("%s: %s", format, weir_error_last());
    }
    assert_int_equal(contract_export(contract, format, SQLGEN_TRINO, &again), WEIR_OK);
    assert_string_equal(text, again);
    for (size_t i = 0; must_contain[i]; i++) {
        if (!strstr(text, must_contain[i])) {
            fail_msg("%s export lacks \"%s\":\n%s", format, must_contain[i], text);
        }
    }
    assert_true(asprintf(&path, "%s/tests/plugins/contract/golden/export.%s", tu_env("WEIR_SOURCE_DIR"), format) > 0);
    if (getenv("WEIR_UPDATE_GOLDEN")) {
        f = fopen(path, "w");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
    }
    golden = tu_read_file(path, NULL);
    if (!golden) {
        fail_msg("no golden file %s (run with WEIR_UPDATE_GOLDEN=1)", path);
    }
    if (strcmp(golden, text)) {
        fail_msg("%s export differs from %s:\n%s", format, path, text);
    }
    free(golden);
    free(path);
    free(text);
    free(again);
}

static void test_dqdl(void **state)
{
    static const char *const want[] = { "Rules = [", "IsComplete \"loan_id\"",
                                        "ColumnValues \"status\" in [\"SUCCESS\", \"FAILED\", \"PENDING\"]",
                                        "ColumnValues \"emi_amount\" >= 0", "IsPrimaryKey \"loan_id\" \"payment_date\"",
                                        "ReferentialIntegrity \"loan_id\" \"dim_loan.loan_id\" = 1.0",
                                        "RowCount <= avg(last(7)) * 1.2", "DataFreshness \"created_at\" <= 30 hours",
                                        NULL };

    (void)state;
    check_format("dqdl", want);
}

static void test_pyspark(void **state)
{
    static const char *const want[] = { "from pyspark.sql import functions as F",
                                        "(\"loan_id.not_null\", F.col(\"loan_id\").isNull())",
                                        "def split_loan_repayment_fact(df: DataFrame):", "F.when(cond, F.lit(name))",
                                        "\"rule_name\"", "\"error_reason\"",
                                        "# checked after load, not per row: grain_unique", NULL };

    (void)state;
    check_format("pyspark", want);
}

static void test_sql(void **state)
{
    static const char *const want[] = { "SELECT COUNT(*) AS failures FROM \"analytics_db\".\"loan_repayment_fact\" "
                                        "AS t WHERE \"loan_id\" IS NULL;", "regexp_like(", NULL };

    (void)state;
    check_format("sql", want);
}

static void test_odcs(void **state)
{
    static const char *const want[] = { "apiVersion: v3.0.2\nkind: DataContract\n", "schema:\n",
                                        "metric: nullValues", "validValues: [\"SUCCESS\", \"FAILED\", \"PENDING\"]",
                                        "primaryKeyPosition: 2", "metric: duplicateValues",
                                        "mustBeBetween: [1, 1000000]", "property: latency", NULL };

    (void)state;
    check_format("odcs", want);
}

static void test_dbt(void **state)
{
    static const char *const want[] = { "version: 2\nmodels:\n", "- not_null\n", "- accepted_values:",
                                        "- relationships:", "to: \"ref('dim_loan')\"",
                                        "dbt_utils.unique_combination_of_columns", "dbt_utils.expression_is_true",
                                        "severity: warn", NULL };

    (void)state;
    check_format("dbt", want);
}

static void test_soda(void **state)
{
    static const char *const want[] = { "checks for analytics_db.loan_repayment_fact:",
                                        "  - missing_count(loan_id) = 0\n", "  - invalid_count(status) = 0:\n"
                                        "      valid values: [\"SUCCESS\", \"FAILED\", \"PENDING\"]",
                                        "duplicate_count(loan_id, payment_date) = 0",
                                        "row_count between 1 and 1000000", "freshness(created_at) < 30h",
                                        "values in (loan_id) must exist in dim_loan (loan_id)", NULL };

    (void)state;
    check_format("soda", want);
}

static void test_unknown_format(void **state)
{
    char *text = NULL;

    (void)state;
    assert_int_equal(contract_export(contract, "great_expectations", SQLGEN_TRINO, &text), WEIR_EINVALID);
    assert_null(text);
    assert_non_null(strstr(weir_error_last(), "unknown format"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dqdl),    cmocka_unit_test(test_pyspark), cmocka_unit_test(test_sql),
        cmocka_unit_test(test_odcs),    cmocka_unit_test(test_dbt),     cmocka_unit_test(test_soda),
        cmocka_unit_test(test_unknown_format),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
