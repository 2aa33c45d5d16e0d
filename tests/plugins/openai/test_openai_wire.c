/*
 * test_openai_wire.c - the openai plugin without a network: the chat
 * completions body, replies in the documented shape, and llm.generate
 * against a stand-in host (fake_http.c) with canned responses.
 */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "fake_host.h"
#include "openai.h"
#include "plugins.h"

const struct weir_host_api *openai_host;

#define MESSAGES                                                           \
    "[{\"role\": \"system\", \"content\": \"You draft data contracts.\"}," \
    " {\"role\": \"user\", \"content\": \"Draft it.\"}]"
#define SCHEMA "{\"type\": \"object\", \"required\": [\"summary\"]}"
#define REPLY(content, finish)                                                                   \
    "{\"id\": \"chatcmpl-1\", \"object\": \"chat.completion\", \"model\": \"gpt-4o-mini\","      \
    " \"choices\": [{\"index\": 0, \"message\": {\"role\": \"assistant\", \"content\": " content \
    ", \"refusal\": null}, \"finish_reason\": \"" finish "\"}],"                                 \
    " \"usage\": {\"prompt_tokens\": 20, \"completion_tokens\": 5, \"total_tokens\": 25}}"

static int setup(void **state)
{
    (void)state;
    openai_host = fake_host();
    unsetenv("OPENAI_MODEL");
    unsetenv("OPENAI_BASE_URL");
    unsetenv("OPENAI_API_KEY");
    return 0;
}

static void test_body_with_each_format(void **state)
{
    json_t *in =
        tu_json_load("{\"messages\": " MESSAGES ", \"json_schema\": " SCHEMA ", \"temperature\": 0,"
                     " \"max_tokens\": 512}");
    json_t *body = openai_body("gpt-4o-mini", in, "SYS", OPENAI_JSON_SCHEMA, 1);

    (void)state;
    tu_assert_json(body, "{\"model\": \"gpt-4o-mini\", \"temperature\": 0.0, \"max_tokens\": 512,"
                         " \"messages\": [{\"role\": \"system\", \"content\": \"SYS\"},"
                         " {\"role\": \"user\", \"content\": \"Draft it.\"}],"
                         " \"response_format\": {\"type\": \"json_schema\", \"json_schema\":"
                         " {\"name\": \"answer\", \"strict\": true, \"schema\": " SCHEMA "}}}");
    json_decref(body);
    body = openai_body("m", in, NULL, OPENAI_JSON_OBJECT, 0);
    tu_assert_json(json_object_get(body, "response_format"), "{\"type\": \"json_object\"}");
    tu_assert_json(json_object_get(body, "messages"),
                   "[{\"role\": \"user\", \"content\": \"Draft it.\"}]");
    json_decref(body);
    body = openai_body("m", in, NULL, OPENAI_NO_FORMAT, 0);
    assert_null(json_object_get(body, "response_format"));
    json_decref(body);
    json_decref(in);
}

static void test_reply_shapes(void **state)
{
    json_t *ok = tu_json_load(REPLY("\"{\\\"summary\\\":\\\"ok\\\"}\"", "stop"));
    json_t *cut = tu_json_load(REPLY("\"{\\\"sum\"", "length"));
    json_t *refused =
        tu_json_load("{\"choices\": [{\"message\": {\"content\": null, \"refusal\": \"I can't\"},"
                     " \"finish_reason\": \"stop\"}]}");
    struct llm_usage u;
    const char *text;

    (void)state;
    assert_int_equal(openai_reply(ok, &text, &u), WEIR_OK);
    assert_string_equal(text, "{\"summary\":\"ok\"}");
    assert_int_equal(u.input_tokens, 20);
    assert_int_equal(u.output_tokens, 5);
    assert_int_equal(openai_reply(cut, &text, &u), WEIR_EINVALID);
    tu_assert_contains(openai_host->error_last(), "cut off at the length limit (5 output tokens)");
    assert_int_equal(openai_reply(refused, &text, &u), WEIR_EINVALID);
    tu_assert_contains(openai_host->error_last(), "the model refused: I can't");
    json_decref(ok);
    json_decref(cut);
    json_decref(refused);
}

static int generate(const char *input_text, json_t **out)
{
    json_t *in = tu_json_load(input_text);
    int rc;

    *out = NULL;
    rc = openai_generate_run(in, out, NULL, NULL);
    json_decref(in);
    return rc;
}

static void test_generate_with_and_without_a_key(void **state)
{
    const json_t *req;
    json_t *out;

    (void)state;
    fake_host_reset();
    fake_host_queue(200, NULL, REPLY("\"```json\\n{\\\"summary\\\": \\\"ok\\\"}\\n```\"", "stop"));
    setenv("OPENAI_BASE_URL", "http://127.0.0.1:8000/v1/", 1);
    assert_int_equal(generate("{\"messages\": " MESSAGES ", \"json_schema\": " SCHEMA ","
                              " \"model\": \"llama3\"}",
                              &out),
                     WEIR_OK);
    json_object_del(out, "latency_ms");
    tu_assert_json(
        out, "{\"summary\": \"ok\", \"usage\": {\"input_tokens\": 20, \"output_tokens\": 5}}");
    req = fake_host_request(0);
    assert_string_equal(json_string_value(json_object_get(req, "url")),
                        "http://127.0.0.1:8000/v1/chat/completions");
    /* no key in the environment: no auth at all (local servers) */
    assert_int_equal(json_integer_value(json_object_get(req, "auth")), WEIR_HTTP_AUTH_NONE);
    json_decref(out);

    setenv("OPENAI_API_KEY", "sk-test", 1);
    setenv("OPENAI_MODEL", "gpt-4o-mini", 1);
    fake_host_queue(200, NULL, REPLY("\"plain words\"", "stop"));
    assert_int_equal(generate("{\"messages\": " MESSAGES "}", &out), WEIR_OK);
    assert_string_equal(json_string_value(json_object_get(out, "text")), "plain words");
    req = fake_host_request(1);
    assert_int_equal(json_integer_value(json_object_get(req, "auth")), WEIR_HTTP_AUTH_ENV_TOKEN);
    assert_string_equal(json_string_value(json_object_get(req, "auth_header")), "Authorization");
    assert_string_equal(json_string_value(json_object_get(req, "auth_prefix")), "Bearer ");
    assert_string_equal(json_string_value(json_object_get(req, "auth_env")), "OPENAI_API_KEY");
    assert_null(strstr(json_string_value(json_object_get(req, "body")), "sk-test"));
    json_decref(out);
    unsetenv("OPENAI_API_KEY");
    unsetenv("OPENAI_MODEL");
    unsetenv("OPENAI_BASE_URL");
}

static void test_generate_errors(void **state)
{
    json_t *out;

    (void)state;
    fake_host_reset();
    assert_int_equal(generate("{\"messages\": " MESSAGES "}", &out), WEIR_EINVALID);
    tu_assert_contains(openai_host->error_last(), "no model: set param model");
    assert_int_equal(
        generate("{\"messages\": " MESSAGES ", \"model\": \"m\", \"base_url\": \"ftp://x\"}", &out),
        WEIR_EINVALID);
    tu_assert_contains(openai_host->error_last(), "base_url 'ftp://x' is not an http(s) URL");
    assert_int_equal(generate("{\"messages\": " MESSAGES
                              ", \"model\": \"m\", \"response_format\": \"xml\"}",
                              &out),
                     WEIR_EINVALID);
    tu_assert_contains(openai_host->error_last(), "param 'response_format' is 'xml'");
    assert_int_equal(json_array_size(fake_host_requests()), 0);

    fake_host_queue(200, NULL, REPLY("\"no json here\"", "stop"));
    assert_int_equal(generate("{\"messages\": " MESSAGES
                              ", \"model\": \"m\", \"json_schema\": " SCHEMA "}",
                              &out),
                     WEIR_EINVALID);
    tu_assert_contains(openai_host->error_last(),
                       "llm.generate (openai): the model's reply is not JSON");
    fake_host_queue(200, NULL, REPLY("\"{\\\"other\\\": 1}\"", "stop"));
    assert_int_equal(generate("{\"messages\": " MESSAGES
                              ", \"model\": \"m\", \"json_schema\": " SCHEMA "}",
                              &out),
                     WEIR_EINVALID);
    tu_assert_contains(openai_host->error_last(), "lacks required key(s) 'summary'");
    fake_host_queue(200, NULL, "<html>proxy error</html>");
    assert_int_equal(generate("{\"messages\": " MESSAGES ", \"model\": \"m\"}", &out),
                     WEIR_EINVALID);
    tu_assert_contains(openai_host->error_last(), "is not JSON");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_body_with_each_format),
        cmocka_unit_test(test_reply_shapes),
        cmocka_unit_test(test_generate_with_and_without_a_key),
        cmocka_unit_test(test_generate_errors),
    };

    return cmocka_run_group_tests(tests, setup, NULL);
}
