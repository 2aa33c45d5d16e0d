/*
 * test_glue_e2e.c - the built glue-catalog.so in the real host, against
 * tests/aws-server/aws_server.py serving the example catalog over the Glue
 * API (every request SigV4-verified by botocore): listing with NextToken
 * paging, get_table compared with the catalog files, unknown tables, bad
 * credentials, throttling then success, a throttling storm, and a response
 * over the size bound - each a clear error.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "testutil.h"

#include "aws_server.h"
#include "ctx.h"
#include "error.h"
#include "plugins.h"

static struct weir_plugins *plugins;
static struct aws_server server;
static json_t *services;
static json_t *log_lines; /* every log line of the ops, to check no secret reaches a log */

static int group_setup(void **state)
{
    (void)state;
    if (weir_plugins_new(&plugins) != WEIR_OK) {
        return -1;
    }
    tu_load_plugin(plugins, "glue-catalog");
    services = json_pack("{s:s}", "catalog", "glue-catalog");
    log_lines = json_array();
    return aws_server_start(&server, NULL);
}

static int group_teardown(void **state)
{
    (void)state;
    aws_server_stop(&server);
    weir_plugins_free(plugins);
    json_decref(services);
    json_decref(log_lines);
    return 0;
}

static int reset(void **state)
{
    (void)state;
    return aws_server_reset(&server);
}

static void on_log(void *payload, const char *step, int level, const char *msg)
{
    (void)payload;
    (void)step;
    (void)level;
    json_array_append_new(log_lines, json_string(msg));
}

static void assert_not_logged(const char *secret)
{
    const json_t *line;
    size_t i;

    json_array_foreach(log_lines, i, line) {
        if (strstr(json_string_value(line), secret)) {
            fail_msg("a log line holds a secret: %s", json_string_value(line));
        }
    }
}

/* Runs catalog.<op> through the target's services, as a pipeline would. */
static int run_op(const char *op, const char *with_text, json_t **out)
{
    const struct weir_step_def *def = weir_plugins_find_op(plugins, "glue-catalog", "catalog", op);
    json_t *with = json_loads(with_text, 0, NULL);
    struct weir_ctx ctx;
    int rc;

    assert_non_null(def);
    assert_non_null(with);
    memset(&ctx, 0, sizeof(ctx));
    ctx.plugins = plugins;
    ctx.services = services;
    ctx.step_id = "glue";
    ctx.log_sink = on_log;
    *out = NULL;
    rc = weir_step_invoke(def, with, out, &ctx);
    json_decref(with);
    return rc;
}

/* Names in the example catalog directory, sorted, independently of the plugin. */
static json_t *catalog_names(const char *sub, int dirs, const char *prefix)
{
    char path[1024];
    DIR *d;
    struct dirent *e;
    json_t *names = json_array();

    snprintf(path, sizeof(path), "%s/examples/catalog%s%s", tu_env("WEIR_SOURCE_DIR"),
             sub ? "/" : "", sub ? sub : "");
    assert_non_null(d = opendir(path));
    while ((e = readdir(d)) != NULL) {
        char full[1400], name[300];
        struct stat st;
        size_t n = strlen(e->d_name);

        snprintf(full, sizeof(full), "%s/%s", path, e->d_name);
        if (e->d_name[0] == '.' || stat(full, &st) != 0 || (S_ISDIR(st.st_mode) ? 1 : 0) != dirs) {
            continue;
        }
        if (!dirs && (n < 6 || strcmp(e->d_name + n - 5, ".json") != 0)) {
            continue;
        }
        snprintf(name, sizeof(name), "%s%.*s", prefix, (int)(dirs ? n : n - 5), e->d_name);
        json_array_append_new(names, json_string(name));
    }
    closedir(d);
    /* insertion sort: a handful of names */
    for (size_t i = 1; i < json_array_size(names); i++) {
        for (size_t j = i; j > 0 && strcmp(json_string_value(json_array_get(names, j - 1)),
                                           json_string_value(json_array_get(names, j))) > 0;
             j--) {
            json_t *a = json_incref(json_array_get(names, j - 1));
            json_array_set(names, j - 1, json_array_get(names, j));
            json_array_set_new(names, j, a);
        }
    }
    return names;
}

static void test_list_paged(void **state)
{
    json_t *out = NULL, *want = catalog_names(NULL, 1, ""), *log;

    (void)state;
    assert_int_equal(run_op("list_databases", "{\"page_size\": 1}", &out), WEIR_OK);
    assert_true(json_equal(json_object_get(out, "databases"), want));
    /* one database per page, plus the server's empty page that carries a token */
    log = aws_server_log(&server, "GetDatabases");
    assert_true(json_array_size(log) > json_array_size(want));
    json_decref(log);
    json_decref(out);
    json_decref(want);

    want = catalog_names("analytics_db", 0, "analytics_db.");
    assert_int_equal(
        run_op("list_tables", "{\"database\": \"analytics_db\", \"page_size\": 2}", &out), WEIR_OK);
    assert_true(json_equal(json_object_get(out, "tables"), want));
    assert_string_equal(json_string_value(json_object_get(out, "database")), "analytics_db");
    json_decref(out);
    json_decref(want);

    assert_int_equal(run_op("list_tables", "{\"database\": \"no_such_db\"}", &out), WEIR_ENOTFOUND);
    assert_non_null(strstr(weir_error_last(), "database no_such_db not found in the Glue Data "
                                              "Catalog (region us-east-1)"));
}

static void test_get_table(void **state)
{
    char path[1024];
    json_t *out = NULL, *file, *w;

    (void)state;
    snprintf(path, sizeof(path), "%s/examples/catalog/analytics_db/loan_repayment_fact.json",
             tu_env("WEIR_SOURCE_DIR"));
    file = json_load_file(path, 0, NULL);
    assert_non_null(file);
    assert_int_equal(run_op("get_table", "{\"table\": \"analytics_db.loan_repayment_fact\"}", &out),
                     WEIR_OK);
    assert_true(json_equal(
        json_object_get(json_object_get(json_object_get(out, "Table"), "StorageDescriptor"),
                        "Columns"),
        json_object_get(json_object_get(json_object_get(file, "Table"), "StorageDescriptor"),
                        "Columns")));
    assert_true(json_equal(json_object_get(json_object_get(out, "Table"), "PartitionKeys"),
                           json_object_get(json_object_get(file, "Table"), "PartitionKeys")));
    w = json_object_get(out, "weir");
    assert_string_equal(json_string_value(json_object_get(w, "root")),
                        "s3://example-lake/analytics_db/loan_repayment_fact/");
    assert_string_equal(json_string_value(json_object_get(w, "format")), "csv");
    assert_string_equal(json_string_value(json_object_get(w, "delimiter")), ",");
    assert_int_equal(json_integer_value(json_object_get(w, "header_lines")), 1);
    json_decref(out);
    json_decref(file);

    assert_int_equal(run_op("get_table", "{\"table\": \"raw_db.raw_payments\"}", &out), WEIR_OK);
    assert_string_equal(json_string_value(json_object_get(json_object_get(out, "weir"), "format")),
                        "jsonl");
    json_decref(out);
}

static void test_unknown_table(void **state)
{
    json_t *out = NULL;

    (void)state;
    assert_int_equal(run_op("get_table", "{\"table\": \"analytics_db.x\"}", &out), WEIR_ENOTFOUND);
    assert_non_null(strstr(weir_error_last(), "table analytics_db.x not found in the Glue Data "
                                              "Catalog (region us-east-1)"));
    assert_null(out);
}

static void test_bad_credentials(void **state)
{
    json_t *out = NULL, *log;

    (void)state;
    json_array_clear(log_lines);
    setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret-wJalrXUtnFEMI", 1);
    assert_int_equal(run_op("get_table", "{\"table\": \"analytics_db.dim_loan\"}", &out),
                     WEIR_EDENIED);
    assert_non_null(strstr(weir_error_last(), "Glue GetTable: InvalidSignatureException"));
    assert_null(strstr(weir_error_last(), "not-the-secret"));
    /* an auth failure is not retried */
    log = aws_server_log(&server, "GetTable");
    assert_int_equal(json_array_size(log), 1);
    json_decref(log);

    setenv("AWS_SECRET_ACCESS_KEY", AWS_SERVER_SECRET, 1);
    setenv("AWS_ACCESS_KEY_ID", "AKIDUNKNOWN", 1);
    assert_int_equal(run_op("list_databases", "{}", &out), WEIR_EDENIED);
    assert_non_null(strstr(weir_error_last(), "UnrecognizedClientException"));
    assert_null(strstr(weir_error_last(), AWS_SERVER_SECRET));
    assert_not_logged("not-the-secret");
    assert_not_logged(AWS_SERVER_SECRET);
    assert_not_logged("Signature=");
}

static void test_throttled_then_ok(void **state)
{
    json_t *out = NULL, *log;

    (void)state;
    aws_server_admin(&server, "faults",
                     "{\"service\": \"glue\", \"operation\": \"GetTable\", "
                     "\"fault\": \"throttle\", \"count\": 2}",
                     NULL);
    json_array_clear(log_lines);
    assert_int_equal(run_op("get_table", "{\"table\": \"analytics_db.dim_loan\"}", &out), WEIR_OK);
    /* each retry is logged, without a credential or a signature */
    assert_int_equal(json_array_size(log_lines), 2);
    assert_not_logged(AWS_SERVER_SECRET);
    assert_not_logged(AWS_SERVER_KEY_ID);
    assert_not_logged("Signature=");
    assert_string_equal(json_string_value(json_object_get(json_object_get(out, "Table"), "Name")),
                        "dim_loan");
    log = aws_server_log(&server, "GetTable");
    assert_int_equal(json_array_size(log), 3);
    json_decref(log);
    json_decref(out);
}

static void test_throttling_storm(void **state)
{
    json_t *out = NULL, *log;

    (void)state;
    aws_server_admin(&server, "faults",
                     "{\"service\": \"glue\", \"operation\": \"GetTable\", "
                     "\"fault\": \"throttle\", \"count\": 50}",
                     NULL);
    assert_int_equal(run_op("get_table", "{\"table\": \"analytics_db.dim_loan\"}", &out), WEIR_EIO);
    assert_non_null(strstr(weir_error_last(), "Glue GetTable: ThrottlingException"));
    assert_non_null(strstr(weir_error_last(), "after 3 attempts"));
    /* bounded: the host's three attempts, no more */
    log = aws_server_log(&server, "GetTable");
    assert_int_equal(json_array_size(log), 3);
    json_decref(log);
    assert_null(out);
}

/* A catalog whose one table definition is larger than the plugin reads. */
static void test_oversized_response(void **state)
{
    char *dir = tu_mkdtemp(), *big, *path;
    const char *args[] = { "--catalog", NULL, NULL };
    size_t n = 17u * 1024 * 1024;
    json_t *out = NULL, *t;
    FILE *f;

    (void)state;
    aws_server_stop(&server);
    big = malloc(n + 1);
    memset(big, 'x', n);
    big[n] = '\0';
    t = json_pack("{s:{s:s,s:s,s:{s:[{s:s,s:s}],s:s}}}", "Table", "Name", "huge", "Description",
                  big, "StorageDescriptor", "Columns", "Name", "a", "Type", "string", "Location",
                  "s3://example-lake/huge/");
    path = tu_write_file(dir, "big_db/.keep", "");
    free(path);
    assert_true(asprintf(&path, "%s/big_db/huge.json", dir) > 0);
    assert_non_null(f = fopen(path, "w"));
    assert_int_equal(json_dumpf(t, f, JSON_COMPACT), 0);
    fclose(f);
    args[1] = dir;
    assert_int_equal(aws_server_start(&server, args), 0);
    assert_int_equal(run_op("get_table", "{\"table\": \"big_db.huge\"}", &out), WEIR_ETOOBIG);
    assert_non_null(strstr(weir_error_last(), "Glue GetTable: response larger than 16777216 "
                                              "bytes"));
    assert_null(out);
    aws_server_stop(&server);
    assert_int_equal(aws_server_start(&server, NULL), 0);
    json_decref(t);
    free(big);
    free(path);
    tu_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_list_paged, reset),
        cmocka_unit_test_setup(test_get_table, reset),
        cmocka_unit_test_setup(test_unknown_table, reset),
        cmocka_unit_test_setup(test_bad_credentials, reset),
        cmocka_unit_test_setup(test_throttled_then_ok, reset),
        cmocka_unit_test_setup(test_throttling_storm, reset),
        cmocka_unit_test_setup(test_oversized_response, reset),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
