/*
 * test_fs_pipeline.c - the store service end to end: a project whose
 * weir.yaml maps the local target's store to fs, and pipelines that say
 * `uses: store.put` / `store.get` / `store.list` / `store.head`.
 */
#include "rt_util.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"

static int setup(void **state)
{
    *state = rt_project_new("targets:\n"
                            "  local:\n"
                            "    store: fs\n");
    return *state ? 0 : -1;
}

static void test_put_then_get_through_the_service(void **state)
{
    struct rt_project *p = *state;
    enum weir_run_status st;
    json_t *sum =
        rt_run(p, "store.yaml",
               "version: 1\n"
               "name: store_roundtrip\n"
               "steps:\n"
               "  - id: put\n"
               "    uses: store.put\n"
               "    with:\n"
               "      uri: \"s3://artifacts/stats-history/db.t/${{ run.date }}.json\"\n"
               "      value: { rows: 3, cols: [a, b] }\n"
               "  - id: get\n"
               "    uses: store.get\n"
               "    needs: [put]\n"
               "    with: { uri: \"${{ steps.put.output.uri }}\", as: json }\n"
               "  - id: list\n"
               "    uses: store.list\n"
               "    needs: [put]\n"
               "    with: { prefix: \"s3://artifacts/stats-history/\", delimiter: \"/\" }\n"
               "  - id: head\n"
               "    uses: fs.head\n"
               "    needs: [put]\n"
               "    with: { uri: \"${{ steps.put.output.uri }}\" }\n"
               "  - id: check\n"
               "    uses: core.echo\n"
               "    needs: [get, head]\n"
               "    with: { value: \"${{ steps.get.output.value.rows == 3 && "
               "steps.get.output.etag == steps.head.output.etag }}\" }\n",
               2, NULL, &st, NULL);
    json_t *get, *list;
    char *path = NULL, *disk;

    assert_int_equal(st, WEIR_RUN_SUCCESS);
    get = json_object_get(rt_step(sum, "get"), "output");
    tu_assert_json(json_object_get(get, "value"), "{\"rows\": 3, \"cols\": [\"a\", \"b\"]}");
    assert_string_equal(json_string_value(json_object_get(get, "uri")),
                        "s3://artifacts/stats-history/db.t/2026-11-21.json");
    list = json_object_get(rt_step(sum, "list"), "output");
    tu_assert_json(
        json_object_get(list, "common_prefixes"),
        "[{\"uri\": \"s3://artifacts/stats-history/db.t/\", \"prefix\": \"stats-history/db.t/\"}]");
    tu_assert_json(json_object_get(rt_step(sum, "check"), "output"), "true");

    assert_true(asprintf(&path, "%s/lake/artifacts/stats-history/db.t/2026-11-21.json", p->dir) >=
                0);
    disk = tu_read_file(path, NULL);
    assert_non_null(disk);
    assert_string_equal(disk, "{\"cols\":[\"a\",\"b\"],\"rows\":3}\n");
    free(disk);
    free(path);
    json_decref(sum);
}

static void test_conditional_create_fails_the_step(void **state)
{
    struct rt_project *p = *state;
    enum weir_run_status st;
    const char *yaml =
        "version: 1\n"
        "name: create_once\n"
        "steps:\n"
        "  - id: create\n"
        "    uses: store.put\n"
        "    with: { uri: \"s3://b/once.txt\", body: \"hello\", if_none_match: \"*\" }\n";
    json_t *sum = rt_run(p, "once.yaml", yaml, 1, NULL, &st, NULL);

    assert_int_equal(st, WEIR_RUN_SUCCESS);
    json_decref(sum);
    sum = rt_run(p, "once.yaml", yaml, 1, NULL, &st, NULL);
    assert_int_equal(st, WEIR_RUN_FAILED);
    rt_assert_status(sum, "create", "failed");
    rt_assert_contains(rt_step_error(sum, "create"), "s3://b/once.txt already exists");
    json_decref(sum);
}

static void test_bad_param_is_reported_before_the_run(void **state)
{
    struct rt_project *p = *state;
    char *diag = NULL;
    int rc = rt_run_error(p, "bad.yaml",
                          "version: 1\n"
                          "name: bad\n"
                          "steps:\n"
                          "  - id: get\n"
                          "    uses: store.get\n"
                          "    with: { uri: \"s3://b/k\", max_keys: 3 }\n",
                          NULL, &diag);

    assert_true(rc < 0);
    rt_assert_contains(diag, "max_keys");
    free(diag);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_put_then_get_through_the_service, setup, rt_teardown),
        cmocka_unit_test_setup_teardown(test_conditional_create_fails_the_step, setup, rt_teardown),
        cmocka_unit_test_setup_teardown(test_bad_param_is_reported_before_the_run, setup,
                                        rt_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
