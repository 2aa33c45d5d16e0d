/*
 * test_bedrock_wire.c - the bedrock plugin without a network: Converse and
 * InvokeModel bodies, replies in the documented shapes, and llm.generate
 * against a stand-in host (fake_http.c) that records the request and
 * answers with canned Bedrock responses.
 */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "bedrock.h"
#include "fake_host.h"
#include "plugins.h"

const struct weir_host_api *bedrock_host;

/* A contract.generate-shaped request: system + user, a schema with required keys. */
#define MESSAGES                                                           \
    "[{\"role\": \"system\", \"content\": \"You draft data contracts.\"}," \
    " {\"role\": \"user\", \"content\": \"Draft it.\"},"                   \
    " {\"role\": \"assistant\", \"content\": \"{}\"},"                     \
    " {\"role\": \"user\", \"content\": \"Fix it.\"},"                     \
    " {\"role\": \"user\", \"content\": \"Please.\"}]"
#define SCHEMA "{\"type\": \"object\", \"required\": [\"data_quality\", \"docs_markdown\"]}"

static int setup(void **state)
{
    (void)state;
    bedrock_host = fake_host();
    unsetenv("WEIR_BEDROCK_MODEL_ID");
    return 0;
}

static void test_converse_body_with_forced_tool(void **state)
{
    json_t *in =
        tu_json_load("{\"messages\": " MESSAGES ", \"json_schema\": " SCHEMA ", \"temperature\": 0,"
                     " \"max_tokens\": 100}");
    json_t *body = bedrock_body(BEDROCK_CONVERSE, in, "SYS", 1);

    (void)state;
    tu_assert_json(
        body,
        "{\"messages\": [{\"role\": \"user\", \"content\": [{\"text\": \"Draft it.\"}]},"
        " {\"role\": \"assistant\", \"content\": [{\"text\": \"{}\"}]},"
        " {\"role\": \"user\", \"content\": [{\"text\": \"Fix it.\"}, {\"text\": \"Please.\"}]}],"
        " \"system\": [{\"text\": \"SYS\"}],"
        " \"inferenceConfig\": {\"maxTokens\": 100, \"temperature\": 0.0},"
        " \"toolConfig\": {\"tools\": [{\"toolSpec\": {\"name\": \"answer\", \"description\":"
        " \"Return the answer: its input is the JSON object the request asks for.\","
        " \"inputSchema\": {\"json\": " SCHEMA "}}}],"
        " \"toolChoice\": {\"tool\": {\"name\": \"answer\"}}}}");
    json_decref(body);
    json_decref(in);
}

static void test_invoke_body_is_anthropic_messages(void **state)
{
    json_t *in = tu_json_load("{\"messages\": [{\"role\": \"user\", \"content\": \"Say ok\"}]}");
    json_t *body = bedrock_body(BEDROCK_INVOKE, in, "Reply with JSON only.", 0);

    (void)state;
    tu_assert_json(body, "{\"anthropic_version\": \"bedrock-2023-05-31\", \"max_tokens\": 4096,"
                         " \"system\": \"Reply with JSON only.\","
                         " \"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"text\","
                         " \"text\": \"Say ok\"}]}]}");
    json_decref(body);
    json_decref(in);
}

static void test_url_encodes_the_model_id(void **state)
{
    char *u = bedrock_url(
        "https://bedrock-runtime.us-east-1.amazonaws.com/",
        "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-5-sonnet-20240620-v1:0",
        BEDROCK_CONVERSE);

    (void)state;
    assert_string_equal(
        u, "https://bedrock-runtime.us-east-1.amazonaws.com/model/arn%3Aaws%3Abedrock"
           "%3Aus-east-1%3A%3Afoundation-model%2Fanthropic.claude-3-5-sonnet-20240620-v1%3A0"
           "/converse");
    free(u);
}

static void test_replies_in_both_shapes(void **state)
{
    json_t *conv = tu_json_load(
        "{\"output\": {\"message\": {\"role\": \"assistant\", \"content\":"
        " [{\"text\": \"{\\\"ok\\\":\"}, {\"text\": \"true}\"}]}},"
        " \"stopReason\": \"end_turn\", \"usage\": {\"inputTokens\": 12,"
        " \"outputTokens\": 5, \"totalTokens\": 17}, \"metrics\": {\"latencyMs\": 321}}");
    json_t *inv = tu_json_load(
        "{\"id\": \"msg_1\", \"type\": \"message\", \"role\": \"assistant\", \"content\":"
        " [{\"type\": \"tool_use\", \"id\": \"t1\", \"name\": \"answer\", \"input\": {\"ok\": 1}}],"
        " \"stop_reason\": \"tool_use\", \"usage\": {\"input_tokens\": 10, \"output_tokens\": 1}}");
    json_t *cut =
        tu_json_load("{\"output\": {\"message\": {\"content\": [{\"text\": \"{\\\"a\\\"\"}]}},"
                     " \"stopReason\": \"max_tokens\", \"usage\": {\"outputTokens\": 9}}");
    const json_t *tool;
    struct llm_usage u;
    char *text;

    (void)state;
    assert_int_equal(bedrock_reply(BEDROCK_CONVERSE, conv, &text, &tool, &u), WEIR_OK);
    assert_string_equal(text, "{\"ok\":true}");
    assert_null(tool);
    assert_int_equal(u.input_tokens, 12);
    assert_int_equal(u.output_tokens, 5);
    free(text);
    assert_int_equal(bedrock_reply(BEDROCK_INVOKE, inv, &text, &tool, &u), WEIR_OK);
    assert_string_equal(text, "");
    tu_assert_json(tool, "{\"ok\": 1}");
    assert_int_equal(u.output_tokens, 1);
    free(text);
    assert_int_equal(bedrock_reply(BEDROCK_CONVERSE, cut, &text, &tool, &u), WEIR_EINVALID);
    tu_assert_contains(bedrock_host->error_last(), "cut off at max_tokens (9 output tokens)");
    json_decref(conv);
    json_decref(inv);
    json_decref(cut);
}

static int generate(const char *input_text, json_t **out)
{
    json_t *in = tu_json_load(input_text);
    int rc;

    *out = NULL;
    rc = bedrock_generate_run(in, out, NULL, NULL);
    json_decref(in);
    return rc;
}

static void test_generate_through_the_tool(void **state)
{
    const json_t *req;
    json_t *out, *sent;

    (void)state;
    fake_host_reset();
    fake_host_set_endpoint("https://bedrock-runtime.us-east-1.amazonaws.com");
    fake_host_queue(
        200, NULL,
        "{\"output\": {\"message\": {\"role\": \"assistant\", \"content\": [{\"toolUse\":"
        " {\"toolUseId\": \"t\", \"name\": \"answer\", \"input\": {\"data_quality\": {},"
        " \"docs_markdown\": \"# t\"}}}]}}, \"stopReason\": \"tool_use\","
        " \"usage\": {\"inputTokens\": 40, \"outputTokens\": 8}}");
    setenv("WEIR_BEDROCK_MODEL_ID", "anthropic.claude-3-5-sonnet-20240620-v1:0", 1);
    assert_int_equal(generate("{\"messages\": " MESSAGES ", \"json_schema\": " SCHEMA "}", &out),
                     WEIR_OK);
    unsetenv("WEIR_BEDROCK_MODEL_ID");
    assert_int_equal(json_integer_value(json_object_get(out, "latency_ms")) >= 0, 1);
    json_object_del(out, "latency_ms");
    tu_assert_json(out, "{\"data_quality\": {}, \"docs_markdown\": \"# t\","
                        " \"usage\": {\"input_tokens\": 40, \"output_tokens\": 8}}");
    req = fake_host_request(0);
    assert_string_equal(json_string_value(json_object_get(req, "url")),
                        "https://bedrock-runtime.us-east-1.amazonaws.com/model/"
                        "anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse");
    assert_string_equal(json_string_value(json_object_get(req, "aws_service")), "bedrock");
    assert_int_equal(json_integer_value(json_object_get(req, "auth")), WEIR_HTTP_AUTH_AWS_SIGV4);
    sent = tu_json_load(json_string_value(json_object_get(req, "body")));
    tu_assert_contains(json_string_value(json_object_get(
                           json_array_get(json_object_get(sent, "system"), 0), "text")),
                       "You draft data contracts.\n\nReply with exactly one JSON object");
    assert_non_null(json_object_get(sent, "toolConfig"));
    json_decref(sent);
    json_decref(out);
}

static void test_generate_errors(void **state)
{
    json_t *out, *sent;

    (void)state;
    fake_host_reset();
    assert_int_equal(generate("{\"messages\": " MESSAGES "}", &out), WEIR_EINVALID);
    tu_assert_contains(bedrock_host->error_last(), "no model: set param model_id");
    assert_int_equal(
        generate("{\"messages\": " MESSAGES ", \"model_id\": \"m\", \"api\": \"chat\"}", &out),
        WEIR_EINVALID);
    tu_assert_contains(bedrock_host->error_last(), "param 'api' is 'chat'");
    assert_int_equal(json_array_size(fake_host_requests()), 0);

    fake_host_queue(200, NULL,
                    "{\"content\": [{\"type\": \"text\", \"text\": \"Sorry, no.\"}],"
                    " \"stop_reason\": \"end_turn\", \"usage\": {\"input_tokens\": 1,"
                    " \"output_tokens\": 1}}");
    assert_int_equal(
        generate("{\"messages\": " MESSAGES ", \"json_schema\": " SCHEMA ","
                 " \"model_id\": \"m\", \"api\": \"invoke\", \"json_mode\": \"prompt\"}",
                 &out),
        WEIR_EINVALID);
    tu_assert_contains(bedrock_host->error_last(), "the model's reply is not JSON");
    tu_assert_contains(bedrock_host->error_last(), "'Sorry, no.'");
    sent = tu_json_load(json_string_value(json_object_get(fake_host_request(0), "body")));
    assert_null(json_object_get(sent, "tools")); /* json_mode prompt: no tool */
    json_decref(sent);

    fake_host_queue(403, "{\"x-amzn-errortype\": \"AccessDeniedException:http://internal/\"}",
                    "{\"message\": \"User is not authorized to perform bedrock:InvokeModel\"}");
    assert_int_equal(generate("{\"messages\": " MESSAGES ", \"model_id\": \"m\"}", &out),
                     WEIR_EDENIED);
    tu_assert_contains(bedrock_host->error_last(), "HTTP 403 AccessDeniedException");
    tu_assert_contains(bedrock_host->error_last(), "AWS_BEARER_TOKEN_BEDROCK");
}

static void test_without_http_it_says_so(void **state)
{
    struct weir_host_api old = *weir_host_api_get();
    json_t *out;

    (void)state;
    old.http_request = NULL;
    bedrock_host = &old;
    assert_int_equal(generate("{\"messages\": " MESSAGES ", \"model_id\": \"m\"}", &out),
                     WEIR_EVERSION);
    tu_assert_contains(old.error_last(), "has no HTTP client");
    bedrock_host = fake_host();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_converse_body_with_forced_tool),
        cmocka_unit_test(test_invoke_body_is_anthropic_messages),
        cmocka_unit_test(test_url_encodes_the_model_id),
        cmocka_unit_test(test_replies_in_both_shapes),
        cmocka_unit_test(test_generate_through_the_tool),
        cmocka_unit_test(test_generate_errors),
        cmocka_unit_test(test_without_http_it_says_so),
    };

    return cmocka_run_group_tests(tests, setup, NULL);
}
