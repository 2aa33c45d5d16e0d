/*
 * test_gemini_server.c - the built gemini.so end to end: llm.generate with a
 * contract.generate-shaped request against tests/aws-server's Gemini
 * generateContent (which answers with the "weir_test_reply" of the last user
 * message), with each schema mode; and the failures a user meets.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws_server_proc.h"
#include "ctx.h"
#include "error.h"
#include "plugins.h"

#define assert_contains(hay, needle)                                        \
    do {                                                                    \
        if (!strstr((hay), (needle))) {                                     \
            fail_msg("\"%s\"\n  does not contain \"%s\"", (hay), (needle)); \
        }                                                                   \
    } while (0)

#define ANSWER                                                                                     \
    "{\"data_quality\": {\"table_name\": \"loans\", \"columns\": {\"id\": {\"type\": \"string\","  \
    " \"rules\": [{\"type\": \"not_null\", \"severity\": \"error\"}]}}},"                          \
    " \"tests\": [{\"name\": \"id_not_null\", \"stage\": \"post_load\"}], \"docs_markdown\": \"# " \
    "loans\"}"
#define SCHEMA                                                                               \
    "{\"type\": \"object\", \"required\": [\"data_quality\", \"tests\", \"docs_markdown\"]," \
    " \"properties\": {\"data_quality\": {\"type\": \"object\"}, \"tests\": {\"type\": "     \
    "\"array\"},"                                                                            \
    " \"docs_markdown\": {\"type\": \"string\"}}}"

static struct weir_plugins *plugins;
static struct aws_server server;
static char *project;
static struct weir_ctx ctx;

static int group_setup(void **state)
{
    char *path = NULL;

    (void)state;
    project = tu_mkdtemp();
    if (aws_server_start(
            &server, (const char *const[]){ "--api-key", "AIzagoodgoodgoodgoodgood", NULL }) != 0) {
        return -1;
    }
    setenv("GEMINI_BASE_URL", server.base, 1);
    setenv("GEMINI_API_KEY", "AIzagoodgoodgoodgoodgood", 1);
    setenv("GEMINI_MODEL", "gemini-2.5-flash", 1);
    if (weir_plugins_new(&plugins) != WEIR_OK ||
        asprintf(&path, "%s/gemini.so", tu_env("WEIR_PLUGIN_DIR")) < 0 ||
        weir_plugins_load_file(plugins, path) != WEIR_OK) {
        fprintf(stderr, "loading gemini.so: %s\n", weir_error_last());
        free(path);
        return -1;
    }
    free(path);
    ctx.run_id = "r1";
    ctx.run_date = "2026-11-21";
    ctx.target = "aws";
    ctx.step_id = "draft";
    ctx.workspace = project;
    ctx.project = project;
    ctx.plugins = plugins;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    aws_server_stop(&server);
    weir_plugins_free(plugins);
    tu_rmtree(project);
    free(project);
    return 0;
}

/* llm.generate with a contract-shaped prompt whose context carries reply
 * (JSON text) as weir_test_reply; extra is more input members ("" or ", ..."). */
static int generate(const char *reply, const char *extra, json_t **out)
{
    const struct weir_step_def *def = weir_plugins_find_op(plugins, "gemini", "llm", "generate");
    char *user = NULL, *input = NULL, *quoted;
    json_t *in, *u;
    int rc;

    assert_non_null(def);
    assert_true(asprintf(&user,
                         "Draft the data contract of table db.loans.\n\n"
                         "-----BEGIN CONTEXT JSON-----\n{\"table_name\": \"loans\","
                         " \"weir_test_reply\": %s}\n-----END CONTEXT JSON-----\n",
                         reply) > 0);
    u = json_string(user);
    quoted = json_dumps(u, JSON_ENCODE_ANY);
    assert_true(
        asprintf(&input,
                 "{\"messages\": [{\"role\": \"system\", \"content\": \"You are a data "
                 "engineer.\"}, {\"role\": \"user\", \"content\": %s}], \"json_schema\": " SCHEMA
                 "%s}",
                 quoted, extra) > 0);
    in = json_loads(input, 0, NULL);
    assert_non_null(in);
    *out = NULL;
    rc = weir_step_invoke(def, in, out, &ctx);
    json_decref(in);
    json_decref(u);
    free(user);
    free(quoted);
    free(input);
    return rc;
}

static void expect_answer(json_t *out)
{
    assert_true(json_integer_value(json_object_get(out, "latency_ms")) >= 0);
    assert_true(json_integer_value(json_object_get(json_object_get(out, "usage"), "input_tokens")) >
                0);
    assert_true(
        json_integer_value(json_object_get(json_object_get(out, "usage"), "output_tokens")) > 0);
    json_object_del(out, "latency_ms");
    json_object_del(out, "usage");
    tu_assert_json(out, ANSWER);
}

static void test_contract_answer_through_each_api(void **state)
{
    static const char *const modes[] = {
        "",
        ", \"schema_mode\": \"openapi\"",
        ", \"schema_mode\": \"json_schema\"",
    };
    json_t *out;

    (void)state;
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        if (generate(ANSWER, modes[i], &out) != WEIR_OK) {
            fail_msg("mode '%s': %s", modes[i], weir_error_last());
        }
        expect_answer(out);
        json_decref(out);
    }
}

static void test_not_json_is_a_clear_error(void **state)
{
    json_t *out;

    (void)state;
    assert_int_equal(generate("\"Sorry, I cannot draft that contract.\"", "", &out), WEIR_EINVALID);
    assert_contains(weir_error_last(), "llm.generate (gemini): the model's reply is not JSON");
    assert_contains(weir_error_last(), "'Sorry, I cannot draft that contract.'");
    assert_int_equal(generate("{\"data_quality\": {}}", "", &out), WEIR_EINVALID);
    assert_contains(weir_error_last(), "lacks required key(s) 'tests', 'docs_markdown'");
}

static void test_throttling_storm_is_bounded(void **state)
{
    json_t *out, *log, *r;
    size_t i;
    int throttled = 0;

    (void)state;
    assert_int_equal(aws_server_admin(&server, "/__weir/reset", "{}"), 0);
    assert_int_equal(
        aws_server_admin(&server, "/__weir/faults",
                         "{\"service\": \"gemini\", \"fault\": \"throttle\", \"count\": 50}"),
        0);
    assert_int_equal(generate(ANSWER, "", &out), WEIR_EIO);
    assert_contains(weir_error_last(), "rate limited (HTTP 429");
    assert_contains(weir_error_last(), "after 3 attempt(s)");
    log = aws_server_log(&server);
    json_array_foreach(json_object_get(log, "requests"), i, r) {
        throttled += json_integer_value(json_object_get(r, "status")) == 429;
    }
    json_decref(log);
    assert_int_equal(throttled, 3);
    aws_server_admin(&server, "/__weir/reset", "{}");

    /* two throttles, then an answer */
    assert_int_equal(
        aws_server_admin(&server, "/__weir/faults",
                         "{\"service\": \"gemini\", \"fault\": \"throttle\", \"count\": 2}"),
        0);
    assert_int_equal(generate(ANSWER, "", &out), WEIR_OK);
    expect_answer(out);
    json_decref(out);
    aws_server_admin(&server, "/__weir/reset", "{}");
}

static void test_bad_key_is_denied_without_the_secret(void **state)
{
    const char *secret = "AIzaWRONGwrongWRONGwrongWRONGwrong123";
    json_t *out;

    (void)state;
    setenv("GEMINI_API_KEY", secret, 1);
    assert_int_equal(generate(ANSWER, "", &out), WEIR_EDENIED);
    assert_contains(weir_error_last(), "check the key in GEMINI_API_KEY");
    assert_null(strstr(weir_error_last(), secret));
    setenv("GEMINI_API_KEY", "AIzagoodgoodgoodgoodgood", 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_contract_answer_through_each_api),
        cmocka_unit_test(test_not_json_is_a_clear_error),
        cmocka_unit_test(test_throttling_storm_is_bounded),
        cmocka_unit_test(test_bad_key_is_denied_without_the_secret),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
