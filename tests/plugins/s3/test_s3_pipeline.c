/*
 * test_s3_pipeline.c - a pipeline that says `uses: store.put` / `store.get`
 * / `store.list` / `store.head` runs unchanged on a target whose store is
 * {plugin: s3, with: {bucket, key_prefix}}, against tests/aws-server; the
 * object lands where the settings say, checked on the server's disk.
 */
#include "rt_util.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "aws_server.h"
#include "error.h"

static struct aws_server server;
static char *s3root;

static int setup(void **state)
{
    char *bucket = NULL;
    const char *args[] = { "--s3-root", NULL, NULL };

    s3root = tu_mkdtemp();
    args[1] = s3root;
    if (asprintf(&bucket, "%s/lake", s3root) < 0 || mkdir(bucket, 0755) != 0 ||
        aws_server_start(&server, args) != 0) {
        return -1;
    }
    free(bucket);
    unsetenv("WEIR_S3_BUCKET");
    unsetenv("WEIR_S3_PREFIX");
    *state =
        rt_project_new("default_target: aws\n"
                       "targets:\n"
                       "  aws:\n"
                       "    store: { plugin: s3, with: { bucket: lake, key_prefix: weir } }\n");
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    rt_project_free(*state);
    aws_server_stop(&server);
    tu_rmtree(s3root);
    free(s3root);
    return 0;
}

static void test_store_pipeline_runs_on_s3(void **state)
{
    struct rt_project *p = *state;
    enum weir_run_status st;
    json_t *sum = rt_run(p, "store.yaml",
                         "version: 1\n"
                         "name: store_on_s3\n"
                         "steps:\n"
                         "  - id: put\n"
                         "    uses: store.put\n"
                         "    with:\n"
                         "      uri: \"stats-history/db.t/${{ run.date }}.json\"\n"
                         "      value: { rows: 3, cols: [a, b] }\n"
                         "  - id: get\n"
                         "    uses: store.get\n"
                         "    needs: [put]\n"
                         "    with: { uri: \"${{ steps.put.output.uri }}\", as: json }\n"
                         "  - id: list\n"
                         "    uses: store.list\n"
                         "    needs: [put]\n"
                         "    with: { prefix: \"stats-history/\", delimiter: \"/\" }\n"
                         "  - id: head\n"
                         "    uses: store.head\n"
                         "    needs: [put]\n"
                         "    with: { uri: \"${{ steps.put.output.uri }}\" }\n"
                         "  - id: check\n"
                         "    uses: core.echo\n"
                         "    needs: [get, head]\n"
                         "    with: { value: \"${{ steps.get.output.value.rows == 3 && "
                         "steps.get.output.etag == steps.head.output.etag }}\" }\n",
                         1, NULL, &st, NULL);
    char *path = NULL, *disk;
    json_t *get;

    if (st != WEIR_RUN_SUCCESS) {
        fail_msg("run %s: put: %s; get: %s", rt_status_name(st), rt_step_error(sum, "put"),
                 rt_step_error(sum, "get"));
    }
    get = json_object_get(rt_step(sum, "get"), "output");
    tu_assert_json(json_object_get(get, "value"), "{\"rows\": 3, \"cols\": [\"a\", \"b\"]}");
    assert_string_equal(json_string_value(json_object_get(get, "uri")),
                        "stats-history/db.t/2026-11-21.json");
    tu_assert_json(
        json_object_get(json_object_get(rt_step(sum, "list"), "output"), "common_prefixes"),
        "[{\"uri\": \"stats-history/db.t/\", \"prefix\": \"stats-history/db.t/\"}]");
    tu_assert_json(json_object_get(rt_step(sum, "check"), "output"), "true");
    assert_true(asprintf(&path, "%s/lake/weir/stats-history/db.t/2026-11-21.json", s3root) > 0);
    disk = tu_read_file(path, NULL);
    assert_non_null(disk);
    assert_string_equal(disk, "{\"cols\":[\"a\",\"b\"],\"rows\":3}\n");
    free(disk);
    free(path);
    json_decref(sum);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_store_pipeline_runs_on_s3, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
