/*
 * test_llm_common.c - the reply handling the bedrock, openai and gemini
 * plugins share (plugins/llm-common): JSON found inside fences and prose,
 * a clear error with a bounded excerpt when there is none, the schema's
 * required keys, the output with usage and latency, and HTTP statuses
 * mapped to codes without echoing anything token-like.
 */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "llm_common.h"
#include "plugins.h"

#define OP "llm.generate (test)"

static const struct weir_host_api *H;

static json_t *reply(const char *text)
{
    json_t *v = NULL;
    int rc = llm_reply_json(H, OP, text, strlen(text), &v);

    if (rc != WEIR_OK) {
        fail_msg("no JSON in %s: %s", text, H->error_last());
    }
    return v;
}

static void test_json_is_found_in_fences_and_prose(void **state)
{
    json_t *v;

    (void)state;
    v = reply("  {\"a\": 1}\n");
    tu_assert_json(v, "{\"a\": 1}");
    json_decref(v);
    v = reply("```json\n{\"a\": [1, 2]}\n```");
    tu_assert_json(v, "{\"a\": [1, 2]}");
    json_decref(v);
    v = reply("Here is the contract:\n```\n{\"b\": \"x\"}\n```\nHope it helps.");
    tu_assert_json(v, "{\"b\": \"x\"}");
    json_decref(v);
    v = reply("Sure! {\"c\": {\"d\": null}} -- done");
    tu_assert_json(v, "{\"c\": {\"d\": null}}");
    json_decref(v);
}

static void test_not_json_is_a_clear_bounded_error(void **state)
{
    char long_text[2000];
    json_t *v = NULL;

    (void)state;
    assert_int_equal(llm_reply_json(H, OP, "I cannot help with that.", 24, &v), WEIR_EINVALID);
    assert_null(v);
    tu_assert_contains(H->error_last(), OP ": the model's reply is not JSON");
    tu_assert_contains(H->error_last(), "it begins: 'I cannot help with that.'");
    memset(long_text, 'x', sizeof(long_text) - 1);
    long_text[sizeof(long_text) - 1] = '\0';
    assert_int_equal(llm_reply_json(H, OP, long_text, strlen(long_text), &v), WEIR_EINVALID);
    assert_true(strlen(H->error_last()) < 500);
    tu_assert_contains(H->error_last(), "xxx...'");
}

static void test_required_keys_and_type(void **state)
{
    json_t *schema = json_loads("{\"type\": \"object\", \"required\": [\"data_quality\", \"tests\","
                                " \"docs_markdown\"]}",
                                0, NULL);
    json_t *answer = json_loads("{\"data_quality\": {}}", 0, NULL), *arr = json_array();

    (void)state;
    assert_int_equal(llm_reply_check(H, OP, answer, schema), WEIR_EINVALID);
    tu_assert_contains(H->error_last(), "lacks required key(s) 'tests', 'docs_markdown'");
    assert_int_equal(llm_reply_check(H, OP, arr, schema), WEIR_EINVALID);
    tu_assert_contains(H->error_last(), "answered an array where the schema asks for an object");
    json_object_set_new(answer, "tests", json_array());
    json_object_set_new(answer, "docs_markdown", json_string("# t"));
    assert_int_equal(llm_reply_check(H, OP, answer, schema), WEIR_OK);
    json_decref(schema);
    json_decref(answer);
    json_decref(arr);
}

static void test_finish_adds_usage_and_latency(void **state)
{
    json_t *schema = json_loads("{\"type\": \"object\", \"required\": [\"ok\"]}", 0, NULL), *out;
    struct llm_usage u = { 12, 5 };

    (void)state;
    assert_int_equal(
        llm_finish(H, NULL, OP, "m", "```json\n{\"ok\": true}\n```", NULL, schema, &u, 321, &out),
        WEIR_OK);
    tu_assert_json(out, "{\"ok\": true, \"usage\": {\"input_tokens\": 12, \"output_tokens\": 5},"
                        " \"latency_ms\": 321}");
    json_decref(out);
    assert_int_equal(llm_finish(H, NULL, OP, "m", "hello", NULL, NULL, &u, 7, &out), WEIR_OK);
    tu_assert_json(out,
                   "{\"text\": \"hello\", \"usage\": {\"input_tokens\": 12, \"output_tokens\": 5},"
                   " \"latency_ms\": 7}");
    json_decref(out);
    assert_int_equal(llm_finish(H, NULL, OP, "m", "{\"nope\": 1}", NULL, schema, &u, 7, &out),
                     WEIR_EINVALID);
    assert_null(out);
    json_decref(schema);
}

static void test_http_statuses(void **state)
{
    struct weir_http_response r = { 0 };
    char body[] =
        "{\"error\": {\"message\": \"Incorrect API key provided: "
        "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789\", \"type\": \"invalid_request_error\"}}";

    (void)state;
    r.status = 401;
    r.body = body;
    r.body_len = strlen(body);
    r.attempts = 1;
    assert_int_equal(llm_http_status(H, OP, &r, "check OPENAI_API_KEY"), WEIR_EDENIED);
    tu_assert_contains(H->error_last(),
                       "HTTP 401 invalid_request_error: Incorrect API key provided: [masked]");
    tu_assert_contains(H->error_last(), "check OPENAI_API_KEY");
    assert_null(strstr(H->error_last(), "abcdefghijklmnopqrstuvwxyz"));
    r.status = 429;
    r.attempts = 3;
    r.body = NULL;
    r.body_len = 0;
    assert_int_equal(llm_http_status(H, OP, &r, ""), WEIR_EIO);
    tu_assert_contains(H->error_last(), "rate limited (HTTP 429) after 3 attempt(s)");
    r.status = 404;
    assert_int_equal(llm_http_status(H, OP, &r, ""), WEIR_ENOTFOUND);
    r.status = 400;
    assert_int_equal(llm_http_status(H, OP, &r, ""), WEIR_EINVALID);
    r.status = 503;
    assert_int_equal(llm_http_status(H, OP, &r, ""), WEIR_EIO);
    r.status = 200;
    assert_int_equal(llm_http_status(H, OP, &r, ""), WEIR_OK);
}

static void test_messages_are_checked(void **state)
{
    static const struct {
        const char *messages;
        const char *fragment;
    } cases[] = {
        { "[]", "non-empty array" },
        { "[{\"role\": \"tool\", \"content\": \"x\"}]", "messages[0].role" },
        { "[{\"role\": \"user\", \"content\": 3}]", "messages[0].content must be a string" },
        { "[{\"role\": \"system\", \"content\": \"x\"}]", "only system messages" },
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *m = json_loads(cases[i].messages, 0, NULL);

        assert_int_equal(llm_messages_check(H, OP, m), WEIR_EINVALID);
        tu_assert_contains(H->error_last(), cases[i].fragment);
        json_decref(m);
    }
}

static int setup(void **state)
{
    (void)state;
    H = weir_host_api_get();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_is_found_in_fences_and_prose),
        cmocka_unit_test(test_not_json_is_a_clear_bounded_error),
        cmocka_unit_test(test_required_keys_and_type),
        cmocka_unit_test(test_finish_adds_usage_and_latency),
        cmocka_unit_test(test_http_statuses),
        cmocka_unit_test(test_messages_are_checked),
    };

    return cmocka_run_group_tests(tests, setup, NULL);
}
