/*
 * test_athena_unit.c - the athena plugin without a network: typed values
 * and result pages (header row, NULLs, truncation), the profiling SQL for
 * the example tables against golden files (byte for byte), the profile
 * result -> the lake's JSON, and the query state machine (poll, page,
 * FAILED, timeout -> StopQueryExecution) against canned Athena responses.
 *
 * WEIR_UPDATE_GOLDEN=1 rewrites the golden files instead of comparing
 * (review the diff before committing it).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "athena.h"
#include "fake_host.h"

static int setup(void **state)
{
    (void)state;
    athena_host = fake_host();
    unsetenv("WEIR_ATHENA_WORKGROUP");
    unsetenv("WEIR_ATHENA_OUTPUT_LOCATION");
    return 0;
}

static json_t *example_table(const char *db, const char *name)
{
    char path[1024];
    json_t *doc, *t;

    snprintf(path, sizeof(path), "%s/examples/catalog/%s/%s.json", tu_env("WEIR_SOURCE_DIR"), db,
             name);
    doc = json_load_file(path, 0, NULL);
    assert_non_null(doc);
    t = json_incref(json_object_get(doc, "Table"));
    json_decref(doc);
    return t;
}

/* ---- values and pages --------------------------------------------------- */

static void assert_value(const char *type, const char *datum, const char *expected)
{
    json_t *d = json_loads(datum, 0, NULL), *v = athena_value_json(type, d);
    json_t *want = json_loads(expected, JSON_DECODE_ANY, NULL);

    if (!json_equal(v, want)) {
        char *got = json_dumps(v, JSON_ENCODE_ANY);
        fail_msg("%s %s: expected %s, got %s", type, datum, expected, got);
    }
    json_decref(d);
    json_decref(v);
    json_decref(want);
}

static void test_values(void **state)
{
    (void)state;
    assert_value("bigint", "{\"VarCharValue\": \"42\"}", "42");
    assert_value("integer", "{\"VarCharValue\": \"-7\"}", "-7");
    assert_value("tinyint", "{}", "null");
    assert_value("double", "{\"VarCharValue\": \"2.5\"}", "2.5");
    assert_value("decimal", "{\"VarCharValue\": \"1234.50\"}", "1234.5");
    assert_value("double", "{\"VarCharValue\": \"NaN\"}", "\"NaN\"");
    assert_value("boolean", "{\"VarCharValue\": \"true\"}", "true");
    assert_value("boolean", "{\"VarCharValue\": \"false\"}", "false");
    assert_value("varchar", "{\"VarCharValue\": \"\"}", "\"\"");
    assert_value("varchar", "{}", "null");
    assert_value("varchar", "{\"VarCharValue\": \"42\"}", "\"42\"");
    assert_value("date", "{\"VarCharValue\": \"2026-10-01\"}", "\"2026-10-01\"");
    assert_value("bigint", "{\"VarCharValue\": \"12x\"}", "\"12x\"");
}

#define COLS                                                                                 \
    "\"ResultSetMetadata\": {\"ColumnInfo\": [{\"Name\": \"status\", \"Label\": \"status\"," \
    " \"Type\": \"varchar\"}, {\"Name\": \"n\", \"Label\": \"n\", \"Type\": \"bigint\"}]}"

static const char *page1 =
    "{\"ResultSet\": {\"Rows\": [{\"Data\": [{\"VarCharValue\": \"status\"}, {\"VarCharValue\": "
    "\"n\"}]}, {\"Data\": [{\"VarCharValue\": \"SUCCESS\"}, {\"VarCharValue\": \"10\"}]}, "
    "{\"Data\": [{}, {\"VarCharValue\": \"3\"}]}], " COLS "}, \"NextToken\": \"p2\"}";
static const char *page2 =
    "{\"ResultSet\": {\"Rows\": [{\"Data\": [{\"VarCharValue\": \"status\"}, {\"VarCharValue\": "
    "\"n\"}]}, {\"Data\": [{\"VarCharValue\": \"\"}, {}]}], " COLS "}}";

static void add_page(struct athena_rows *r, const char *text, int first, int dml, int want)
{
    json_t *page = json_loads(text, 0, NULL);

    assert_non_null(page);
    assert_int_equal(athena_rows_add_page(r, page, first, dml), want);
    json_decref(page);
}

static void test_pages(void **state)
{
    struct athena_rows r;

    (void)state;
    athena_rows_init(&r, 100, 1 << 20);
    add_page(&r, page1, 1, 1, 1);
    /* a later page's row that looks like the header is data */
    add_page(&r, page2, 0, 1, 1);
    tu_assert_json(r.columns, "[{\"name\": \"status\", \"type\": \"varchar\"}, {\"name\": \"n\","
                              " \"type\": \"bigint\"}]");
    tu_assert_json(r.rows, "[[\"SUCCESS\", 10], [null, 3], [\"status\", \"n\"], [\"\", null]]");
    assert_false(r.truncated);
    athena_rows_free(&r);

    /* DDL/UTILITY results have no header row */
    athena_rows_init(&r, 100, 1 << 20);
    add_page(&r, page1, 1, 0, 1);
    assert_int_equal(json_array_size(r.rows), 3);
    athena_rows_free(&r);

    /* max_rows: the result is full and says a row was left out */
    athena_rows_init(&r, 1, 1 << 20);
    add_page(&r, page1, 1, 1, 0);
    tu_assert_json(r.rows, "[[\"SUCCESS\", 10]]");
    assert_true(r.truncated);
    athena_rows_free(&r);

    athena_rows_init(&r, 10, 1 << 20);
    add_page(&r, "{\"ResultSet\": {\"Rows\": []}}", 1, 1, WEIR_EIO);
    athena_rows_free(&r);
}

static void test_start_body(void **state)
{
    struct athena_settings s;
    json_t *in = json_pack("{s:s,s:s}", "database", "analytics_db", "output_location", "s3://r/x/"),
           *body;

    (void)state;
    setenv("WEIR_ATHENA_WORKGROUP", "etl", 1);
    athena_settings_init(&s, in, "engine.query");
    body = athena_start_body("SELECT 1", "0123456789abcdef0123456789abcdef", &s);
    tu_assert_json(body, "{\"QueryString\": \"SELECT 1\", \"ClientRequestToken\": "
                         "\"0123456789abcdef0123456789abcdef\", \"WorkGroup\": \"etl\", "
                         "\"QueryExecutionContext\": {\"Database\": \"analytics_db\"}, "
                         "\"ResultConfiguration\": {\"OutputLocation\": \"s3://r/x/\"}}");
    json_decref(body);
    json_decref(in);
    unsetenv("WEIR_ATHENA_WORKGROUP");
    setenv("WEIR_ATHENA_OUTPUT_LOCATION", "s3://env/out/", 1);
    in = json_object();
    athena_settings_init(&s, in, "engine.query");
    body = athena_start_body("SELECT 2", "t", &s);
    tu_assert_json(body, "{\"QueryString\": \"SELECT 2\", \"ClientRequestToken\": \"t\", "
                         "\"WorkGroup\": \"primary\", \"ResultConfiguration\": "
                         "{\"OutputLocation\": \"s3://env/out/\"}}");
    json_decref(body);
    json_decref(in);
}

/* ---- golden SQL ---------------------------------------------------------- */

static void check_golden(const char *name, const char *sql)
{
    char path[1024];
    char *want;

    snprintf(path, sizeof(path), "%s/tests/plugins/athena/golden/%s.sql", tu_env("WEIR_SOURCE_DIR"),
             name);
    if (getenv("WEIR_UPDATE_GOLDEN")) {
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(sql, f);
        fclose(f);
        return;
    }
    want = tu_read_file(path, NULL);
    if (!want) {
        fail_msg("golden file %s missing; generated:\n%s", path, sql);
    }
    if (strcmp(want, sql) != 0) {
        fail_msg("%s differs from the golden file %s; generated:\n%s", name, path, sql);
    }
    free(want);
}

static void golden(const char *db, const char *table, const char *partitions, int64_t top_k,
                   int64_t sample, const char *name)
{
    json_t *t = example_table(db, table);
    json_t *parts = partitions ? json_loads(partitions, 0, NULL) : NULL;
    struct athena_plan plan;
    char *sql = NULL;

    assert_int_equal(athena_profile_sql(t, parts, top_k, sample, &plan, &sql), WEIR_OK);
    check_golden(name, sql);
    athena_host->free(sql);
    athena_plan_free(&plan);
    json_decref(parts);
    json_decref(t);
}

static void test_golden_sql(void **state)
{
    (void)state;
    golden("analytics_db", "loan_repayment_fact", NULL, 10, 0, "loan_repayment_fact");
    golden("analytics_db", "loan_repayment_fact", "{\"dt\": [\"2026-10-01\", \"2026-10-02\"]}", 10,
           0, "loan_repayment_fact_dt");
    golden("analytics_db", "dim_loan", NULL, 10, 0, "dim_loan");
    golden("analytics_db", "dim_customer", NULL, 5, 1000, "dim_customer_sample");
    golden("raw_db", "raw_payments", "{\"dt\": \"2026-10-03\"}", 10, 0, "raw_payments_dt");
}

static void test_sql_quoting_and_partition_errors(void **state)
{
    json_t *t = json_loads("{\"Name\": \"we\\\"ird\", \"DatabaseName\": \"db\", "
                           "\"StorageDescriptor\": {\"Columns\": [{\"Name\": \"a\\\"b\", "
                           "\"Type\": \"array<int>\"}]}, \"PartitionKeys\": [{\"Name\": "
                           "\"year\", \"Type\": \"int\"}, {\"Name\": \"day\", \"Type\": "
                           "\"date\"}]}",
                           0, NULL);
    json_t *parts = json_loads("{\"day\": \"2026-01-0'1\", \"year\": 2026}", 0, NULL);
    struct athena_plan plan;
    char *sql = NULL;

    (void)state;
    assert_int_equal(athena_profile_sql(t, parts, 0, 0, &plan, &sql), WEIR_OK);
    assert_non_null(strstr(sql, "count_if(\"a\"\"b\" IS NULL) AS \"c0_nulls\""));
    assert_null(strstr(sql, "c0_distinct")); /* complex: nulls only */
    assert_non_null(strstr(sql, "FROM \"db\".\"we\"\"ird\"\nWHERE \"year\" = 2026\n  AND \"day\" "
                                "= DATE '2026-01-0''1'\n"));
    athena_host->free(sql);
    athena_plan_free(&plan);
    json_decref(parts);

    parts = json_loads("{\"month\": \"1\"}", 0, NULL);
    assert_int_equal(athena_profile_sql(t, parts, 0, 0, &plan, &sql), WEIR_EINVALID);
    assert_string_equal(athena_host->error_last(), "engine.profile: param 'partitions': 'month' "
                                                   "is not a partition key of db.we\"ird");
    athena_plan_free(&plan);
    json_decref(parts);
    parts = json_loads("{\"year\": \"1-2\"}", 0, NULL);
    assert_int_equal(athena_profile_sql(t, parts, 0, 0, &plan, &sql), WEIR_EINVALID);
    athena_plan_free(&plan);
    json_decref(parts);
    parts = json_loads("{\"year\": \"2026; DROP\"}", 0, NULL);
    assert_int_equal(athena_profile_sql(t, parts, 0, 0, &plan, &sql), WEIR_EINVALID);
    assert_non_null(strstr(athena_host->error_last(), "is not a number, but partition key "
                                                      "'year' is int"));
    athena_plan_free(&plan);
    json_decref(parts);
    json_decref(t);
}

/* ---- the profile result ------------------------------------------------- */

/* What Athena returns for the loan_repayment_fact profile (columns as
 * engine.query gives them, values typed). */
static json_t *canned_profile_result(const struct athena_plan *plan, const json_t *values)
{
    json_t *cols = json_array(), *row = json_array();
    const char *key;
    json_t *v;

    (void)plan;
    json_object_foreach((json_t *)values, key, v) {
        json_array_append_new(cols, json_pack("{s:s,s:s}", "name", key, "type", "varchar"));
        json_array_append(row, v);
    }
    return json_pack("{s:o,s:[o]}", "columns", cols, "rows", row);
}

/* The object's keys in iteration (insertion) order, space-separated, are want. */
static void assert_key_order(const json_t *o, const char *want)
{
    char got[1024] = "";
    const char *key;
    const json_t *v;

    json_object_foreach((json_t *)o, key, v) {
        snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s", got[0] ? " " : "", key);
    }
    assert_string_equal(got, want);
}

static void test_profile_render(void **state)
{
    json_t *t = json_loads("{\"Name\": \"t\", \"DatabaseName\": \"db\", \"StorageDescriptor\": "
                           "{\"Columns\": [{\"Name\": \"id\", \"Type\": \"bigint\"}, {\"Name\": "
                           "\"name\", \"Type\": \"string\"}, {\"Name\": \"tags\", \"Type\": "
                           "\"array<string>\"}]}, \"PartitionKeys\": [{\"Name\": \"dt\", "
                           "\"Type\": \"string\"}]}",
                           0, NULL);
    json_t *values = json_loads(
        "{\"row_count\": 4, \"c0_nulls\": 1, \"c0_distinct\": 3, \"c0_min\": 1, \"c0_max\": 9,"
        " \"c0_mean\": 4.333333333, \"c0_stddev\": 4.163331999, \"c0_quantiles\": "
        "\"[3.0,9.0,9.0]\","
        " \"c0_top\": \"{\\\"9\\\":1,\\\"1\\\":1,\\\"3\\\":1}\", \"c1_nulls\": 0, \"c1_distinct\": "
        "2,"
        " \"c1_min\": \"ann\", \"c1_max\": \"bob\", \"c1_min_length\": 3, \"c1_max_length\": 3,"
        " \"c1_top\": \"{\\\"ann\\\":1,\\\"bob\\\":3}\", \"c2_nulls\": 4, \"c3_nulls\": 0,"
        " \"c3_distinct\": 1, \"c3_shape_date\": 4, \"c1_shape_email\": 1, \"c3_min\": "
        "\"2026-10-01\", \"c3_max\": \"2026-10-01\","
        " \"c3_top\": \"{\\\"2026-10-01\\\":4}\", \"c3_values\": \"{\\\"2026-10-02\\\": 1, "
        "\\\"2026-10-01\\\": 3}\"}",
        0, NULL);
    struct athena_plan plan;
    json_t *result, *out = NULL;
    char *sql = NULL;

    (void)state;
    assert_non_null(values);
    assert_int_equal(athena_profile_sql(t, NULL, 2, 0, &plan, &sql), WEIR_OK);
    result = canned_profile_result(&plan, values);
    assert_int_equal(athena_profile_render(&plan, result, &out), WEIR_OK);
    /* name and dt: the top list holds every value (counts add up to the
     * non-null rows), so it and the distinct count are exact; id has more
     * values than top_k. dt's values all look like dates: inferred date. */
    tu_assert_json(
        out,
        "{\"table\": \"db.t\", \"row_count\": 4, \"files\": null,"
        " \"partitions\": {\"dt\": [\"2026-10-01\", \"2026-10-02\"]}, \"column_stats\": {"
        "\"id\": {\"declared_type\": \"bigint\", \"inferred_type\": \"integer\", \"null_count\": 1,"
        " \"null_pct\": 25.0, \"distinct_count\": 3, \"distinct_exact\": false, \"min\": 1,"
        " \"max\": 9, \"mean\": 4.33333, \"stddev\": 4.16333, \"p50\": 3, \"p95\": 9, \"p99\": 9,"
        " \"top_values\": [{\"value\": \"1\", \"count\": 1}, {\"value\": \"3\", \"count\": 1}],"
        " \"top_values_exact\": false, \"shapes\": {\"integer\": 1.0}},"
        "\"name\": {\"declared_type\": \"string\", \"inferred_type\": \"string\", \"null_count\": "
        "0,"
        " \"null_pct\": 0.0, \"distinct_count\": 2, \"distinct_exact\": true, \"min\": \"ann\","
        " \"max\": \"bob\", \"min_length\": 3, \"max_length\": 3, \"top_values\": [{\"value\":"
        " \"bob\", \"count\": 3}, {\"value\": \"ann\", \"count\": 1}], \"top_values_exact\": true,"
        " \"shapes\": {\"email\": 0.25}},"
        "\"tags\": {\"declared_type\": \"array<string>\", \"inferred_type\": null, \"null_count\": "
        "4,"
        " \"null_pct\": 100.0, \"distinct_count\": null, \"distinct_exact\": false, \"min\": null,"
        " \"max\": null, \"min_length\": null, \"max_length\": null, \"top_values\": [],"
        " \"top_values_exact\": false, \"shapes\": null},"
        "\"dt\": {\"declared_type\": \"string\", \"inferred_type\": \"date\", \"null_count\": 0,"
        " \"null_pct\": 0.0, \"distinct_count\": 1, \"distinct_exact\": true, \"min\":"
        " \"2026-10-01\", \"max\": \"2026-10-01\", \"min_length\": null, \"max_length\": null,"
        " \"top_values\": [{\"value\": \"2026-10-01\", \"count\": 4}], \"top_values_exact\": true,"
        " \"shapes\": {\"date\": 1.0}}}}");
    json_decref(out);

    /* with sample_rows and skip_bad_rows: the lake's top-level keys, in its order */
    plan.sample_rows = 100;
    plan.skip_bad = 1;
    assert_int_equal(athena_profile_render(&plan, result, &out), WEIR_OK);
    assert_key_order(out, "table row_count files partitions sample_rows bad_rows column_stats");
    assert_key_order(json_object_get(json_object_get(out, "column_stats"), "id"),
                     "declared_type inferred_type null_count null_pct distinct_count "
                     "distinct_exact min max mean stddev p50 p95 p99 top_values "
                     "top_values_exact shapes");
    assert_key_order(json_object_get(json_object_get(out, "column_stats"), "name"),
                     "declared_type inferred_type null_count null_pct distinct_count "
                     "distinct_exact min max min_length max_length top_values "
                     "top_values_exact shapes");
    json_decref(out);
    json_decref(result);
    athena_host->free(sql);
    athena_plan_free(&plan);
    json_decref(values);
    json_decref(t);
}

/* ---- the query state machine, on canned responses ----------------------- */

static void register_ops(void)
{
    assert_int_equal(athena_register_query(NULL), WEIR_OK);
    assert_int_equal(athena_register_profile(NULL), WEIR_OK);
}

static void test_query_pages(void **state)
{
    json_t *out = NULL;
    const json_t *reqs, *start, *r;
    size_t i;

    (void)state;
    register_ops();
    fake_host_push("StartQueryExecution", 200, "{\"QueryExecutionId\": \"q-1\"}");
    fake_host_push("GetQueryExecution", 200,
                   "{\"QueryExecution\": {\"QueryExecutionId\": \"q-1\","
                   " \"Status\": {\"State\": \"QUEUED\"}}}");
    fake_host_push("GetQueryExecution", 200,
                   "{\"QueryExecution\": {\"Status\": {\"State\": "
                   "\"RUNNING\"}}}");
    fake_host_push("GetQueryExecution", 200,
                   "{\"QueryExecution\": {\"StatementType\": \"DML\", "
                   "\"Status\": {\"State\": \"SUCCEEDED\"}}}");
    fake_host_push("GetQueryResults", 200, page1);
    fake_host_push("GetQueryResults", 200, page2);
    assert_int_equal(fake_host_run("query",
                                   "{\"sql\": \"SELECT status, count(*) AS n FROM t "
                                   "GROUP BY 1\", \"database\": \"analytics_db\"}",
                                   &out),
                     WEIR_OK);
    json_object_del(out, "elapsed_ms");
    tu_assert_json(out, "{\"columns\": [{\"name\": \"status\", \"type\": \"varchar\"}, {\"name\":"
                        " \"n\", \"type\": \"bigint\"}], \"rows\": [[\"SUCCESS\", 10], [null, 3],"
                        " [\"status\", \"n\"], [\"\", null]], \"row_count\": 4,"
                        " \"truncated\": false, \"files_read\": null}");
    reqs = fake_host_requests();
    assert_int_equal(json_array_size(reqs), 6);
    start = json_object_get(json_array_get(reqs, 0), "json");
    assert_string_equal(json_string_value(json_object_get(start, "WorkGroup")), "primary");
    assert_int_equal(strlen(json_string_value(json_object_get(start, "ClientRequestToken"))), 32);
    tu_assert_json(json_object_get(start, "QueryExecutionContext"),
                   "{\"Database\": \"analytics_db\"}");
    json_array_foreach(reqs, i, r) {
        if (i > 0) {
            assert_string_equal(
                json_string_value(json_object_get(json_object_get(r, "json"), "QueryExecutionId")),
                "q-1");
        }
    }
    tu_assert_json(json_object_get(json_array_get(reqs, 5), "json"),
                   "{\"QueryExecutionId\": \"q-1\", \"MaxResults\": 1000, \"NextToken\": "
                   "\"p2\"}");
    json_decref(out);
}

static void test_query_truncated_across_pages(void **state)
{
    json_t *out = NULL;

    (void)state;
    register_ops();
    fake_host_push("StartQueryExecution", 200, "{\"QueryExecutionId\": \"q-2\"}");
    fake_host_push("GetQueryExecution", 200,
                   "{\"QueryExecution\": {\"Status\": {\"State\": "
                   "\"SUCCEEDED\"}}}");
    fake_host_push("GetQueryResults", 200, page1);
    assert_int_equal(fake_host_run("query", "{\"sql\": \"SELECT 1\", \"max_rows\": 1}", &out),
                     WEIR_OK);
    /* one row kept; the next one on page 1 is left out and page 2 is never asked for */
    assert_int_equal(json_integer_value(json_object_get(out, "row_count")), 1);
    assert_true(json_is_true(json_object_get(out, "truncated")));
    assert_int_equal(fake_host_count("GetQueryResults"), 1);
    json_decref(out);
}

static void test_query_failed(void **state)
{
    json_t *out = NULL;

    (void)state;
    register_ops();
    fake_host_push("StartQueryExecution", 200, "{\"QueryExecutionId\": \"q-3\"}");
    fake_host_push("GetQueryExecution", 200,
                   "{\"QueryExecution\": {\"Status\": {\"State\": \"FAILED\", "
                   "\"StateChangeReason\": \"COLUMN_NOT_FOUND: line 1:8: Column 'x' cannot be "
                   "resolved\", \"AthenaError\": {\"ErrorCategory\": 2, \"ErrorType\": 1006, "
                   "\"Retryable\": false}}}}");
    assert_int_equal(fake_host_run("query", "{\"sql\": \"SELECT x\"}", &out), WEIR_EINVALID);
    assert_string_equal(athena_host->error_last(),
                        "engine.query: Athena query q-3 failed: COLUMN_NOT_FOUND: line 1:8: "
                        "Column 'x' cannot be resolved (AthenaError category 2 (user), type "
                        "1006)");
    assert_int_equal(fake_host_count("GetQueryResults"), 0);
    assert_int_equal(fake_host_count("StopQueryExecution"), 0);

    fake_host_push("StartQueryExecution", 400,
                   "{\"__type\": \"InvalidRequestException\", "
                   "\"AthenaErrorCode\": \"INVALID_INPUT\", \"Message\": \"No output location "
                   "provided.\"}");
    assert_int_equal(fake_host_run("query", "{\"sql\": \"SELECT 1\"}", &out), WEIR_EINVALID);
    assert_non_null(strstr(athena_host->error_last(), "Athena StartQueryExecution: "
                                                      "InvalidRequestException: No output "
                                                      "location provided."));
}

static void test_query_timeout_stops(void **state)
{
    json_t *out = NULL;

    (void)state;
    register_ops();
    fake_host_push("StartQueryExecution", 200, "{\"QueryExecutionId\": \"q-4\"}");
    fake_host_always("GetQueryExecution", 200,
                     "{\"QueryExecution\": {\"Status\": {\"State\": "
                     "\"RUNNING\"}}}");
    fake_host_push("StopQueryExecution", 200, "{}");
    assert_int_equal(fake_host_run("query", "{\"sql\": \"SELECT 1\", \"timeout_ms\": 250}", &out),
                     WEIR_ETIMEOUT);
    assert_non_null(strstr(athena_host->error_last(), "Athena query q-4 stopped after 250 ms"));
    assert_int_equal(fake_host_count("StopQueryExecution"), 1);
    tu_assert_json(json_object_get(json_array_get(fake_host_requests(),
                                                  json_array_size(fake_host_requests()) - 1),
                                   "json"),
                   "{\"QueryExecutionId\": \"q-4\"}");
    assert_null(out);
}

/* engine.profile with a `definition`: the SQL sent is the golden text, the
 * one result row becomes the profile. */
static void test_profile_op(void **state)
{
    json_t *t = example_table("analytics_db", "loan_repayment_fact"), *with, *out = NULL;
    char golden_path[1024], *want, *with_text;
    const char *sent;

    (void)state;
    register_ops();
    snprintf(golden_path, sizeof(golden_path), "%s/tests/plugins/athena/golden/%s.sql",
             tu_env("WEIR_SOURCE_DIR"), "loan_repayment_fact_dt");
    assert_non_null(want = tu_read_file(golden_path, NULL));
    with = json_pack("{s:{s:O},s:{s:[ss]},s:s}", "definition", "Table", t, "partitions", "dt",
                     "2026-10-01", "2026-10-02", "workgroup", "wg");
    with_text = json_dumps(with, JSON_COMPACT);
    fake_host_push("StartQueryExecution", 200, "{\"QueryExecutionId\": \"p-1\"}");
    fake_host_push("GetQueryExecution", 200,
                   "{\"QueryExecution\": {\"Status\": {\"State\": "
                   "\"SUCCEEDED\"}}}");
    fake_host_push("GetQueryResults", 200,
                   "{\"ResultSet\": {\"Rows\": [{\"Data\": [{\"VarCharValue\": \"row_count\"}, "
                   "{\"VarCharValue\": \"c6_values\"}]}, {\"Data\": [{\"VarCharValue\": \"80\"}, "
                   "{\"VarCharValue\": \"{\\\"2026-10-02\\\": 40, \\\"2026-10-01\\\": 40}\"}]}], "
                   "\"ResultSetMetadata\": {\"ColumnInfo\": [{\"Name\": \"row_count\", \"Type\": "
                   "\"bigint\"}, {\"Name\": \"c6_values\", \"Type\": \"varchar\"}]}}}");
    assert_int_equal(fake_host_run("profile", with_text, &out), WEIR_OK);
    sent = json_string_value(json_object_get(
        json_object_get(json_array_get(fake_host_requests(), 0), "json"), "QueryString"));
    assert_non_null(sent);
    assert_string_equal(sent, want);
    assert_string_equal(
        json_string_value(json_object_get(
            json_object_get(json_array_get(fake_host_requests(), 0), "json"), "WorkGroup")),
        "wg");
    assert_int_equal(json_integer_value(json_object_get(out, "row_count")), 80);
    assert_string_equal(json_string_value(json_object_get(out, "table")),
                        "analytics_db.loan_repayment_fact");
    tu_assert_json(json_object_get(out, "partitions"),
                   "{\"dt\": [\"2026-10-01\", \"2026-10-02\"]}");
    assert_int_equal(json_object_size(json_object_get(out, "column_stats")), 7);
    json_decref(out);

    /* neither a table nor a definition */
    assert_int_equal(fake_host_run("profile", "{\"top_k\": 3}", &out), WEIR_EINVALID);
    assert_non_null(strstr(athena_host->error_last(), "param 'table' must be"));
    free(with_text);
    free(want);
    json_decref(with);
    json_decref(t);
}

static void test_dialect(void **state)
{
    json_t *out = NULL;

    (void)state;
    register_ops();
    assert_int_equal(fake_host_run("dialect", "{}", &out), WEIR_OK);
    tu_assert_json(out, "{\"dialect\": \"trino\"}");
    json_decref(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_values, setup),
        cmocka_unit_test_setup(test_pages, setup),
        cmocka_unit_test_setup(test_start_body, setup),
        cmocka_unit_test_setup(test_golden_sql, setup),
        cmocka_unit_test_setup(test_sql_quoting_and_partition_errors, setup),
        cmocka_unit_test_setup(test_profile_render, setup),
        cmocka_unit_test_setup(test_query_pages, setup),
        cmocka_unit_test_setup(test_query_truncated_across_pages, setup),
        cmocka_unit_test_setup(test_query_failed, setup),
        cmocka_unit_test_setup(test_query_timeout_stops, setup),
        cmocka_unit_test_setup(test_profile_op, setup),
        cmocka_unit_test_setup(test_dialect, setup),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
