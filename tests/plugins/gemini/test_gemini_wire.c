/*
 * test_gemini_wire.c - the gemini plugin without a network: JSON Schema to
 * responseSchema, the generateContent body, replies in the documented shape,
 * and llm.generate against a stand-in host (fake_http.c).
 */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "fake_host.h"
#include "gemini.h"
#include "plugins.h"

const struct weir_host_api *gemini_host;

#define MESSAGES                                           \
    "[{\"role\": \"system\", \"content\": \"Be brief.\"}," \
    " {\"role\": \"user\", \"content\": \"Describe x\"},"  \
    " {\"role\": \"assistant\", \"content\": \"{}\"},"     \
    " {\"role\": \"user\", \"content\": \"Again\"}]"
#define SCHEMA                                                                           \
    "{\"type\": \"object\", \"required\": [\"summary\"], \"properties\": {\"summary\": " \
    "{\"type\": \"string\"}}}"

static int setup(void **state)
{
    (void)state;
    gemini_host = fake_host();
    unsetenv("GEMINI_MODEL");
    unsetenv("GEMINI_BASE_URL");
    return 0;
}

static void test_schema_conversion(void **state)
{
    json_t *s = tu_json_load(
        "{\"$schema\": \"https://json-schema.org/draft/2020-12/schema\", \"type\": \"object\","
        " \"additionalProperties\": false, \"required\": [\"rules\", \"owner\", \"ghost\"],"
        " \"properties\": {"
        "  \"owner\": {\"type\": [\"string\", \"null\"], \"description\": \"team\"},"
        "  \"stage\": {\"enum\": [\"pre_load\", \"post_load\"]},"
        "  \"n\": {\"type\": \"integer\", \"minimum\": 0, \"const\": 3},"
        "  \"rules\": {\"type\": \"array\", \"items\": {\"$ref\": \"#/$defs/rule\"}}},"
        " \"$defs\": {\"rule\": {\"type\": \"object\", \"required\": [\"type\"],"
        "  \"properties\": {\"type\": {\"type\": \"string\"}}}}}");
    json_t *c = gemini_schema(s);

    (void)state;
    tu_assert_json(
        c, "{\"type\": \"OBJECT\", \"required\": [\"rules\", \"owner\"], \"properties\": {"
           " \"owner\": {\"type\": \"STRING\", \"nullable\": true, \"description\": \"team\"},"
           " \"stage\": {\"type\": \"STRING\", \"enum\": [\"pre_load\", \"post_load\"]},"
           " \"n\": {\"type\": \"INTEGER\", \"minimum\": 0},"
           " \"rules\": {\"type\": \"ARRAY\", \"items\": {\"type\": \"OBJECT\","
           "  \"required\": [\"type\"], \"properties\": {\"type\": {\"type\": \"STRING\"}}}}}}");
    assert_true(gemini_schema_fits(c));
    json_decref(c);
    json_decref(s);

    /* a map (object without properties) cannot be said in responseSchema */
    s = tu_json_load("{\"type\": \"object\", \"properties\": {\"columns\": {\"type\": \"object\","
                     " \"additionalProperties\": {\"type\": \"string\"}}}}");
    c = gemini_schema(s);
    assert_false(gemini_schema_fits(c));
    json_decref(c);
    json_decref(s);

    /* a $ref cycle is cut at the depth bound */
    s = tu_json_load(
        "{\"$ref\": \"#/$defs/a\", \"$defs\": {\"a\": {\"type\": \"object\", \"properties\":"
        " {\"next\": {\"$ref\": \"#/$defs/a\"}}}}}");
    assert_null(gemini_schema(s));
    json_decref(s);
}

static void test_body_and_url(void **state)
{
    json_t *in =
        tu_json_load("{\"messages\": " MESSAGES ", \"json_schema\": " SCHEMA ", \"temperature\": 0,"
                     " \"max_tokens\": 512}");
    json_t *body = gemini_body(in, "SYS", 1);
    char *url;

    (void)state;
    tu_assert_json(body,
                   "{\"contents\": [{\"role\": \"user\", \"parts\": [{\"text\": \"Describe x\"}]},"
                   " {\"role\": \"model\", \"parts\": [{\"text\": \"{}\"}]},"
                   " {\"role\": \"user\", \"parts\": [{\"text\": \"Again\"}]}],"
                   " \"systemInstruction\": {\"parts\": [{\"text\": \"SYS\"}]},"
                   " \"generationConfig\": {\"temperature\": 0.0, \"maxOutputTokens\": 512,"
                   " \"responseMimeType\": \"application/json\", \"responseSchema\":"
                   " {\"type\": \"OBJECT\", \"required\": [\"summary\"], \"properties\":"
                   " {\"summary\": {\"type\": \"STRING\"}}}}}");
    json_decref(body);
    body = gemini_body(in, NULL, 0);
    tu_assert_json(json_object_get(json_object_get(body, "generationConfig"), "responseJsonSchema"),
                   SCHEMA);
    json_decref(body);
    json_decref(in);
    url = gemini_url("http://127.0.0.1:9/", "models/gemini-2.5-flash");
    assert_string_equal(url, "http://127.0.0.1:9/v1beta/models/gemini-2.5-flash:generateContent");
    free(url);
    url = gemini_url("http://127.0.0.1:9/v1beta", "gemini 2");
    assert_string_equal(url, "http://127.0.0.1:9/v1beta/models/gemini%202:generateContent");
    free(url);
}

static void test_reply_shapes(void **state)
{
    json_t *ok = tu_json_load(
        "{\"candidates\": [{\"content\": {\"role\": \"model\", \"parts\": ["
        "{\"text\": \"thinking...\", \"thought\": true}, {\"text\": \"{\\\"summary\\\":\"},"
        " {\"text\": \"\\\"ok\\\"}\"}]}, \"finishReason\": \"STOP\", \"index\": 0}],"
        " \"usageMetadata\": {\"promptTokenCount\": 20, \"candidatesTokenCount\": 5}}");
    json_t *blocked = tu_json_load("{\"promptFeedback\": {\"blockReason\": \"SAFETY\"}}");
    json_t *cut = tu_json_load("{\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"{\"}]},"
                               " \"finishReason\": \"MAX_TOKENS\"}]}");
    struct llm_usage u;
    char *text;

    (void)state;
    assert_int_equal(gemini_reply(ok, &text, &u), WEIR_OK);
    assert_string_equal(text, "{\"summary\":\"ok\"}");
    assert_int_equal(u.input_tokens, 20);
    assert_int_equal(u.output_tokens, 5);
    free(text);
    assert_int_equal(gemini_reply(blocked, &text, &u), WEIR_EINVALID);
    tu_assert_contains(gemini_host->error_last(), "the prompt was blocked, SAFETY");
    assert_int_equal(gemini_reply(cut, &text, &u), WEIR_EINVALID);
    tu_assert_contains(gemini_host->error_last(), "finishReason MAX_TOKENS); raise max_tokens");
    json_decref(ok);
    json_decref(blocked);
    json_decref(cut);
}

static int generate(const char *input_text, json_t **out)
{
    json_t *in = tu_json_load(input_text);
    int rc;

    *out = NULL;
    rc = gemini_generate_run(in, out, NULL, NULL);
    json_decref(in);
    return rc;
}

static void test_generate(void **state)
{
    const json_t *req;
    json_t *out, *sent;

    (void)state;
    fake_host_reset();
    fake_host_queue(200, NULL,
                    "{\"candidates\": [{\"content\": {\"parts\": [{\"text\": "
                    "\"{\\\"summary\\\": \\\"ok\\\"}\"}]}, \"finishReason\": \"STOP\"}],"
                    " \"usageMetadata\": {\"promptTokenCount\": 3, \"candidatesTokenCount\": 4}}");
    setenv("GEMINI_MODEL", "gemini-2.5-flash", 1);
    assert_int_equal(generate("{\"messages\": " MESSAGES ", \"json_schema\": " SCHEMA ","
                              " \"base_url\": \"http://127.0.0.1:9\"}",
                              &out),
                     WEIR_OK);
    unsetenv("GEMINI_MODEL");
    json_object_del(out, "latency_ms");
    tu_assert_json(out,
                   "{\"summary\": \"ok\", \"usage\": {\"input_tokens\": 3, \"output_tokens\": 4}}");
    req = fake_host_request(0);
    assert_string_equal(json_string_value(json_object_get(req, "url")),
                        "http://127.0.0.1:9/v1beta/models/gemini-2.5-flash:generateContent");
    assert_int_equal(json_integer_value(json_object_get(req, "auth")), WEIR_HTTP_AUTH_ENV_TOKEN);
    assert_string_equal(json_string_value(json_object_get(req, "auth_header")), "x-goog-api-key");
    assert_string_equal(json_string_value(json_object_get(req, "auth_env")), "GEMINI_API_KEY");
    sent = tu_json_load(json_string_value(json_object_get(req, "body")));
    assert_non_null(json_object_get(json_object_get(sent, "generationConfig"), "responseSchema"));
    json_decref(sent);
    json_decref(out);

    /* auto mode: a schema with a map goes as responseJsonSchema */
    fake_host_queue(
        200, NULL,
        "{\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"{\\\"m\\\": {}}\"}]},"
        " \"finishReason\": \"STOP\"}]}");
    assert_int_equal(
        generate("{\"messages\": " MESSAGES ", \"model\": \"g\", \"json_schema\":"
                 " {\"type\": \"object\", \"properties\": {\"m\": {\"type\": \"object\"}}}}",
                 &out),
        WEIR_OK);
    sent = tu_json_load(json_string_value(json_object_get(fake_host_request(1), "body")));
    assert_non_null(
        json_object_get(json_object_get(sent, "generationConfig"), "responseJsonSchema"));
    assert_null(json_object_get(json_object_get(sent, "generationConfig"), "responseSchema"));
    json_decref(sent);
    json_decref(out);

    assert_int_equal(generate("{\"messages\": " MESSAGES "}", &out), WEIR_EINVALID);
    tu_assert_contains(gemini_host->error_last(), "no model: set param model");
    assert_int_equal(
        generate("{\"messages\": " MESSAGES ", \"model\": \"g\", \"schema_mode\": \"x\"}", &out),
        WEIR_EINVALID);
    tu_assert_contains(gemini_host->error_last(), "param 'schema_mode' is 'x'");
    fake_host_queue(400, NULL,
                    "{\"error\": {\"code\": 400, \"message\": \"API key not valid.\","
                    " \"status\": \"INVALID_ARGUMENT\"}}");
    assert_int_equal(generate("{\"messages\": " MESSAGES ", \"model\": \"g\"}", &out),
                     WEIR_EDENIED);
    tu_assert_contains(gemini_host->error_last(), "HTTP 400 INVALID_ARGUMENT: API key not valid.");
    tu_assert_contains(gemini_host->error_last(), "check the key in GEMINI_API_KEY");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schema_conversion),
        cmocka_unit_test(test_body_and_url),
        cmocka_unit_test(test_reply_shapes),
        cmocka_unit_test(test_generate),
    };

    return cmocka_run_group_tests(tests, setup, NULL);
}
