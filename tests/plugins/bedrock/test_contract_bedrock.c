/*
 * test_contract_bedrock.c - contract.generate unchanged on a target whose llm
 * is {plugin: bedrock, with: {model_id}}: the prompt goes through bedrock.so,
 * signed, to tests/aws-server, whose Bedrock answers with the
 * "weir_test_reply" member of the context (here the builtin provider's
 * answer for the same context), and the contract is validated, checked
 * against the example lake and written like with any provider.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws_server.h"
#include "ctx.h"
#include "error.h"
#include "plugins.h"

#define TABLE "analytics_db.loan_repayment_fact"

static struct weir_plugins *plugins;
static struct aws_server server;
static char *project, *workspace;

static int group_setup(void **state)
{
    char *cmd = NULL;

    (void)state;
    project = tu_mkdtemp();
    if (asprintf(&workspace, "%s/.weir", project) < 0 ||
        asprintf(&cmd,
                 "cp -r '%s/examples/.' '%s/' && rm -rf '%s/lake/contracts' '%s/lake/tests' "
                 "'%s/lake/docs'",
                 tu_env("WEIR_SOURCE_DIR"), project, project, project, project) < 0 ||
        system(cmd) != 0) {
        free(cmd);
        return -1;
    }
    free(cmd);
    if (aws_server_start(&server, NULL) != 0) {
        return -1;
    }
    if (weir_plugins_new(&plugins) != WEIR_OK ||
        weir_plugins_load_dir(plugins, tu_env("WEIR_PLUGIN_DIR")) != WEIR_OK) {
        fprintf(stderr, "loading plugins: %s\n", weir_error_last());
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    aws_server_stop(&server);
    weir_plugins_free(plugins);
    tu_rmtree(project);
    free(project);
    free(workspace);
    return 0;
}

static int invoke(const char *plugin, const char *step, const json_t *with, const char *llm_json,
                  json_t **out)
{
    json_t *services = json_pack("{s:s, s:s, s:s, s:o}", "catalog", "lake", "engine", "lake",
                                 "store", "fs", "llm", json_loads(llm_json, JSON_DECODE_ANY, NULL));
    const struct weir_step_def *def = weir_plugins_find_step(plugins, plugin, step);
    struct weir_ctx ctx;
    int rc;

    assert_non_null(def);
    memset(&ctx, 0, sizeof(ctx));
    ctx.project = project;
    ctx.workspace = workspace;
    ctx.plugins = plugins;
    ctx.services = services;
    ctx.step_id = step;
    ctx.run_id = "test";
    ctx.run_date = "2026-10-04";
    ctx.target = "aws";
    *out = NULL;
    rc = weir_step_invoke(def, with, out, &ctx);
    json_decref(services);
    return rc;
}

static json_t *builtin_answer(const json_t *context)
{
    char *text = json_dumps(context, JSON_COMPACT | JSON_SORT_KEYS), *msg = NULL;
    json_t *with, *out = NULL;

    assert_true(
        asprintf(&msg, "-----BEGIN CONTEXT JSON-----\n%s\n-----END CONTEXT JSON-----\n", text) > 0);
    with = json_pack("{s:[{s:s, s:s}]}", "messages", "role", "user", "content", msg);
    assert_int_equal(invoke("builtin", "generate", with, "\"builtin\"", &out), WEIR_OK);
    json_decref(with);
    free(text);
    free(msg);
    return out;
}

static void test_contract_generate_with_bedrock(void **state)
{
    const char *bedrock = "{\"plugin\": \"bedrock\", \"with\": {\"model_id\":"
                          " \"anthropic.claude-3-5-sonnet-20240620-v1:0\"}}";
    json_t *with = json_pack("{s:s}", "table", TABLE), *context = NULL, *answer, *out = NULL;
    json_t *written, *log, *r;
    char *path = NULL, *text;
    size_t i;
    int calls = 0;

    (void)state;
    assert_int_equal(invoke("contract", "build_context", with, "\"builtin\"", &context), WEIR_OK);
    json_decref(with);
    answer = builtin_answer(context);
    json_object_set(context, "weir_test_reply", answer);
    with = json_pack("{s:O}", "context", context);
    if (invoke("contract", "generate", with, bedrock, &out) != WEIR_OK) {
        fail_msg("contract.generate with bedrock: %s", weir_error_last());
    }
    assert_true(json_is_true(json_object_get(out, "written")));

    /* what was written is what the model (the server) answered */
    assert_true(asprintf(&path, "%s/lake/contracts/%s.json", project, TABLE) > 0);
    text = tu_read_file(path, NULL);
    assert_non_null(text);
    written = json_loads(text, 0, NULL);
    assert_non_null(written);
    assert_string_equal(
        json_string_value(json_object_get(written, "table_name")),
        json_string_value(json_object_get(json_object_get(answer, "data_quality"), "table_name")));
    assert_int_equal(
        json_object_size(json_object_get(written, "columns")),
        json_object_size(json_object_get(json_object_get(answer, "data_quality"), "columns")));
    free(text);
    free(path);
    assert_true(asprintf(&path, "%s/lake/docs/%s.md", project, TABLE) > 0);
    text = tu_read_file(path, NULL);
    assert_non_null(text);
    assert_string_equal(text, json_string_value(json_object_get(answer, "docs_markdown")));

    /* one Converse call, signed and accepted */
    log = aws_server_log(&server, NULL);
    json_array_foreach(log, i, r) {
        const char *p = json_string_value(json_object_get(r, "path"));

        if (p && strstr(p, "/converse")) {
            calls++;
            assert_int_equal(json_integer_value(json_object_get(r, "status")), 200);
            assert_true(json_is_true(json_object_get(r, "signature_ok")));
        }
    }
    assert_int_equal(calls, 1);
    json_decref(log);
    json_decref(written);
    free(text);
    free(path);
    json_decref(with);
    json_decref(out);
    json_decref(answer);
    json_decref(context);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_contract_generate_with_bedrock),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
