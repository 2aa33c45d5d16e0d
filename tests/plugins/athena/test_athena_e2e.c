/*
 * test_athena_e2e.c - the built athena.so (with glue-catalog.so as the
 * catalog) in the real host, against tests/aws-server/aws_server.py, whose
 * Athena runs queries on SQLite over the example lake: a result over several
 * GetQueryResults pages compared with the lake engine's answer to the same
 * SQL, a FAILED query, throttling then success, a throttling storm, a query
 * stopped by the step's timeout or a cancelled run (StopQueryExecution in
 * the server's log),
 * and engine.profile compared with the lake profiler on the same table.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "aws_server.h"
#include "ctx.h"
#include "error.h"
#include "plugins.h"

static struct weir_plugins *plugins;
static struct aws_server server;
static json_t *aws_services, *local_services;
static char *examples;

static int group_setup(void **state)
{
    (void)state;
    if (weir_plugins_new(&plugins) != WEIR_OK) {
        return -1;
    }
    tu_load_plugin(plugins, "athena");
    tu_load_plugin(plugins, "glue-catalog");
    tu_load_plugin(plugins, "lake");
    aws_services = json_pack("{s:s,s:s}", "catalog", "glue-catalog", "engine", "athena");
    local_services = json_pack("{s:s,s:s}", "catalog", "lake", "engine", "lake");
    if (asprintf(&examples, "%s/examples", tu_env("WEIR_SOURCE_DIR")) < 0) {
        return -1;
    }
    return aws_server_start(&server, NULL);
}

static int group_teardown(void **state)
{
    (void)state;
    aws_server_stop(&server);
    weir_plugins_free(plugins);
    json_decref(aws_services);
    json_decref(local_services);
    free(examples);
    return 0;
}

static int reset(void **state)
{
    (void)state;
    return aws_server_reset(&server);
}

/* Set by the log sink once the plugin says the query started, when
 * cancel_on_start is set: the run is cancelled while Athena runs the query. */
static atomic_int cancel_flag;
static int cancel_on_start;

static void on_log(void *payload, const char *step, int level, const char *msg)
{
    (void)payload;
    (void)step;
    (void)level;
    if (cancel_on_start && strstr(msg, "Athena query ") && strstr(msg, " started")) {
        atomic_store(&cancel_flag, 1);
    }
}

/* Runs engine.<op> of plugin (athena or lake) in the example project;
 * deadline_ms > 0 is the step's timeout. */
static int run_engine(const char *plugin, const char *op, const char *with_text,
                      int64_t deadline_ms, json_t **out)
{
    const struct weir_step_def *def = weir_plugins_find_op(plugins, plugin, "engine", op);
    json_t *with = json_loads(with_text, 0, NULL);
    struct weir_ctx ctx;
    int rc;

    assert_non_null(def);
    assert_non_null(with);
    memset(&ctx, 0, sizeof(ctx));
    ctx.plugins = plugins;
    ctx.services = strcmp(plugin, "athena") == 0 ? aws_services : local_services;
    ctx.project = examples;
    ctx.workspace = examples;
    ctx.step_id = "engine";
    ctx.deadline_ms = deadline_ms > 0 ? weir_now_mono_ms() + deadline_ms : 0;
    ctx.cancel = &cancel_flag;
    ctx.log_sink = on_log;
    atomic_store(&cancel_flag, 0);
    *out = NULL;
    rc = weir_step_invoke(def, with, out, &ctx);
    json_decref(with);
    return rc;
}

#define FACT_SQL                                                                    \
    "SELECT loan_id, emi_amount, status, dt FROM analytics_db.loan_repayment_fact " \
    "ORDER BY dt, loan_id, payment_date"

static void test_query_pages_match_lake(void **state)
{
    json_t *aws = NULL, *local = NULL, *log;

    (void)state;
    assert_int_equal(
        run_engine("athena", "query", "{\"sql\": \"" FACT_SQL "\", \"page_size\": 50}", 0, &aws),
        WEIR_OK);
    assert_int_equal(run_engine("lake", "query", "{\"sql\": \"" FACT_SQL "\"}", 0, &local),
                     WEIR_OK);
    assert_true(json_integer_value(json_object_get(local, "row_count")) > 100);
    assert_int_equal(json_integer_value(json_object_get(aws, "row_count")),
                     json_integer_value(json_object_get(local, "row_count")));
    if (!json_equal(json_object_get(aws, "rows"), json_object_get(local, "rows"))) {
        char *a = json_dumps(json_array_get(json_object_get(aws, "rows"), 0), 0);
        char *l = json_dumps(json_array_get(json_object_get(local, "rows"), 0), 0);
        fail_msg("rows differ; first athena %s, lake %s", a, l);
    }
    assert_false(json_is_true(json_object_get(aws, "truncated")));
    /* 120 rows + the header at 50 per page: three pages */
    log = aws_server_log(&server, "GetQueryResults");
    assert_int_equal(json_array_size(log), 3);
    json_decref(log);
    json_decref(aws);
    json_decref(local);

    assert_int_equal(run_engine("athena", "query",
                                "{\"sql\": \"" FACT_SQL "\", \"page_size\": 50, \"max_rows\": 60}",
                                0, &aws),
                     WEIR_OK);
    assert_int_equal(json_integer_value(json_object_get(aws, "row_count")), 60);
    assert_true(json_is_true(json_object_get(aws, "truncated")));
    json_decref(aws);
}

static void test_failed_query(void **state)
{
    json_t *out = NULL;

    (void)state;
    assert_int_equal(run_engine("athena", "query",
                                "{\"sql\": \"SELECT no_such_column FROM analytics_db.dim_loan\"}",
                                0, &out),
                     WEIR_EINVALID);
    assert_non_null(strstr(weir_error_last(), "engine.query: Athena query "));
    assert_non_null(strstr(weir_error_last(), " failed: COLUMN_NOT_FOUND"));
    assert_non_null(strstr(weir_error_last(), "AthenaError category 2 (user)"));
    assert_null(out);
}

static void test_denied_and_unknown_table(void **state)
{
    json_t *out = NULL;

    (void)state;
    aws_server_admin(&server, "faults",
                     "{\"service\": \"athena\", \"operation\": "
                     "\"StartQueryExecution\", \"fault\": \"expired\"}",
                     NULL);
    assert_int_equal(run_engine("athena", "query", "{\"sql\": \"SELECT 1 AS one\"}", 0, &out),
                     WEIR_EDENIED);
    assert_non_null(strstr(weir_error_last(), "Athena StartQueryExecution: ExpiredTokenException"));
    assert_null(strstr(weir_error_last(), AWS_SERVER_SECRET));

    /* the table comes from the target's catalog (Glue here), whose error is kept */
    assert_int_equal(run_engine("athena", "profile", "{\"table\": \"analytics_db.nope\"}", 0, &out),
                     WEIR_ENOTFOUND);
    assert_non_null(strstr(weir_error_last(), "table analytics_db.nope not found in the Glue "
                                              "Data Catalog"));
    assert_null(out);
}

static void test_throttled_then_ok(void **state)
{
    json_t *out = NULL, *log;

    (void)state;
    aws_server_admin(&server, "faults",
                     "{\"service\": \"athena\", \"operation\": \"GetQueryExecution\", "
                     "\"fault\": \"throttle\", \"count\": 2}",
                     NULL);
    assert_int_equal(run_engine("athena", "query",
                                "{\"sql\": \"SELECT count(*) AS n FROM analytics_db.dim_loan\"}", 0,
                                &out),
                     WEIR_OK);
    tu_assert_json(json_object_get(out, "columns"), "[{\"name\": \"n\", \"type\": \"bigint\"}]");
    assert_true(
        json_integer_value(json_array_get(json_array_get(json_object_get(out, "rows"), 0), 0)) > 0);
    log = aws_server_log(&server, "StartQueryExecution");
    assert_int_equal(json_array_size(log), 1);
    json_decref(log);
    json_decref(out);
}

static void test_throttling_storm(void **state)
{
    json_t *out = NULL, *log;

    (void)state;
    aws_server_admin(&server, "faults",
                     "{\"service\": \"athena\", \"operation\": "
                     "\"StartQueryExecution\", \"fault\": \"toomany\", \"count\": 50}",
                     NULL);
    assert_int_equal(run_engine("athena", "query", "{\"sql\": \"SELECT 1 AS one\"}", 0, &out),
                     WEIR_EIO);
    assert_non_null(strstr(weir_error_last(), "Athena StartQueryExecution: "
                                              "TooManyRequestsException"));
    assert_non_null(strstr(weir_error_last(), "after 3 attempts"));
    log = aws_server_log(&server, "StartQueryExecution");
    assert_int_equal(json_array_size(log), 3);
    /* the host's retries reuse one ClientRequestToken: never two queries */
    assert_true(json_equal(
        json_object_get(json_object_get(json_array_get(log, 0), "body"), "ClientRequestToken"),
        json_object_get(json_object_get(json_array_get(log, 2), "body"), "ClientRequestToken")));
    json_decref(log);
    assert_null(out);
}

static void test_step_timeout_stops_query(void **state)
{
    json_t *out = NULL, *log, *start;
    const char *id;

    (void)state;
    assert_int_equal(run_engine("athena", "query",
                                "{\"sql\": \"/* weir:polls=100000 */ SELECT 1 AS one\"}", 2000,
                                &out),
                     WEIR_ETIMEOUT);
    assert_non_null(strstr(weir_error_last(), "stopped: the step's timeout passed"));
    start = aws_server_log(&server, "StartQueryExecution");
    log = aws_server_log(&server, "StopQueryExecution");
    assert_int_equal(json_array_size(start), 1);
    assert_int_equal(json_array_size(log), 1);
    id = json_string_value(
        json_object_get(json_object_get(json_array_get(log, 0), "body"), "QueryExecutionId"));
    assert_non_null(id);
    assert_non_null(strstr(weir_error_last(), id));
    assert_int_equal(json_integer_value(json_object_get(json_array_get(log, 0), "status")), 200);
    json_decref(log);
    json_decref(start);
    assert_null(out);
}

static void test_cancel_stops_query(void **state)
{
    json_t *out = NULL, *log;

    (void)state;
    cancel_on_start = 1;
    assert_int_equal(run_engine("athena", "query",
                                "{\"sql\": \"/* weir:polls=100000 */ SELECT 2 AS two\"}", 0, &out),
                     WEIR_ECANCELLED);
    cancel_on_start = 0;
    assert_non_null(strstr(weir_error_last(), "stopped: the run was cancelled"));
    log = aws_server_log(&server, "StopQueryExecution");
    assert_int_equal(json_array_size(log), 1);
    json_decref(log);
    assert_null(out);
}

/* Every key of want's objects is in got's and the other way round. */
static void assert_same_keys(const json_t *want, const json_t *got, const char *where)
{
    const char *key;
    const json_t *v;

    json_object_foreach((json_t *)want, key, v) {
        if (!json_object_get(got, key)) {
            fail_msg("%s: athena's profile has no '%s'", where, key);
        }
    }
    json_object_foreach((json_t *)got, key, v) {
        if (!json_object_get(want, key)) {
            fail_msg("%s: athena's profile has '%s', the lake's does not", where, key);
        }
    }
}

static void profile_matches_lake(const char *table)
{
    json_t *aws = NULL, *local = NULL, *ls, *as;
    const char *col;
    const json_t *lc;
    char with[256];

    snprintf(with, sizeof(with), "{\"table\": \"%s\"}", table);
    assert_int_equal(run_engine("athena", "profile", with, 0, &aws), WEIR_OK);
    assert_int_equal(run_engine("lake", "profile", with, 0, &local), WEIR_OK);
    assert_same_keys(local, aws, "top level");
    assert_int_equal(json_integer_value(json_object_get(aws, "row_count")),
                     json_integer_value(json_object_get(local, "row_count")));
    assert_true(
        json_equal(json_object_get(aws, "partitions"), json_object_get(local, "partitions")));
    ls = json_object_get(local, "column_stats");
    as = json_object_get(aws, "column_stats");
    assert_same_keys(ls, as, "column_stats");
    json_object_foreach((json_t *)ls, col, lc) {
        const json_t *ac = json_object_get(as, col);

        assert_same_keys(lc, ac, col);
        if (json_integer_value(json_object_get(lc, "null_count")) !=
            json_integer_value(json_object_get(ac, "null_count"))) {
            fail_msg("%s: null_count %lld (lake) vs %lld (athena)", col,
                     (long long)json_integer_value(json_object_get(lc, "null_count")),
                     (long long)json_integer_value(json_object_get(ac, "null_count")));
        }
        /* min and max are exact on both sides */
        for (size_t k = 0; k < 2; k++) {
            const char *m = k ? "max" : "min";
            const json_t *lv = json_object_get(lc, m), *av = json_object_get(ac, m);

            if (json_is_number(lv)
                    ? !json_is_number(av) || json_number_value(lv) != json_number_value(av)
                    : json_is_string(lv) && !json_equal(lv, av)) {
                fail_msg("%s.%s: %s differs between the lake and athena", table, col, m);
            }
        }
        /* shapes by regex (strings) or by type agree with the lake's matchers on this data */
        if (!json_is_null(json_object_get(ac, "shapes")) &&
            !json_equal(json_object_get(ac, "shapes"), json_object_get(lc, "shapes"))) {
            char *a = json_dumps(json_object_get(ac, "shapes"), 0);
            char *l = json_dumps(json_object_get(lc, "shapes"), 0);
            fail_msg("%s: shapes %s (lake) vs %s (athena)", col, l, a);
        }
    }
    json_decref(aws);
    json_decref(local);
}

static void test_profile_matches_lake(void **state)
{
    (void)state;
    profile_matches_lake("analytics_db.loan_repayment_fact");
    profile_matches_lake("analytics_db.dim_customer");
    profile_matches_lake("analytics_db.dim_loan");
}

static void test_profile_partition_pruning(void **state)
{
    json_t *out = NULL, *log;
    const char *sql;

    (void)state;
    assert_int_equal(run_engine("athena", "profile",
                                "{\"table\": \"analytics_db.loan_repayment_fact\", "
                                "\"partitions\": {\"dt\": \"2026-10-02\"}}",
                                0, &out),
                     WEIR_OK);
    tu_assert_json(json_object_get(out, "partitions"), "{\"dt\": [\"2026-10-02\"]}");
    log = aws_server_log(&server, "StartQueryExecution");
    sql = json_string_value(
        json_object_get(json_object_get(json_array_get(log, 0), "body"), "QueryString"));
    assert_non_null(sql);
    assert_non_null(strstr(sql, "WHERE \"dt\" = '2026-10-02'"));
    json_decref(log);
    json_decref(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_query_pages_match_lake, reset),
        cmocka_unit_test_setup(test_failed_query, reset),
        cmocka_unit_test_setup(test_denied_and_unknown_table, reset),
        cmocka_unit_test_setup(test_throttled_then_ok, reset),
        cmocka_unit_test_setup(test_throttling_storm, reset),
        cmocka_unit_test_setup(test_step_timeout_stops_query, reset),
        cmocka_unit_test_setup(test_cancel_stops_query, reset),
        cmocka_unit_test_setup(test_profile_matches_lake, reset),
        cmocka_unit_test_setup(test_profile_partition_pruning, reset),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
