/*
 * test_bedrock_server.c - the built bedrock.so end to end: llm.generate
 * with a contract.generate-shaped request, signed by the host, against
 * tests/aws-server's Bedrock Runtime (which answers with the
 * "weir_test_reply" of the last user message), through Converse (forced
 * tool and prompt-only) and InvokeModel; and the failures a user meets.
 */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "llm_server.h"

/* The Bedrock API key the server accepts. */
#define BEARER "bedrock-api-key-0123456789abcdefghij"

/* Converse with a forced tool or the prompt only, and the same on InvokeModel. */
static const char *const modes[] = {
    "",
    ", \"json_mode\": \"prompt\"",
    ", \"api\": \"invoke\"",
    ", \"api\": \"invoke\", \"json_mode\": \"prompt\"",
    NULL,
};
static const struct llm_server_spec spec = {
    .plugin = "bedrock",
    .server_args = (const char *const[]){ "--bedrock-token", BEARER, NULL },
    .modes = modes,
    .prompt_mode = ", \"json_mode\": \"prompt\"",
    .throttle_error = "rate limited (HTTP 429 ThrottlingException",
};

static int group_setup(void **state)
{
    (void)state;
    if (llm_server_setup(&spec) != 0) {
        return -1;
    }
    setenv("WEIR_BEDROCK_MODEL_ID", "anthropic.claude-3-5-sonnet-20240620-v1:0", 1);
    return 0;
}

static void test_bad_credentials_are_denied_without_the_secret(void **state)
{
    const char *secret = "notTheSecretnotTheSecretnotTheSecret99";
    json_t *out;

    (void)state;
    setenv("AWS_SECRET_ACCESS_KEY", secret, 1);
    assert_int_equal(llm_server_generate(LLM_SERVER_ANSWER, "", &out), WEIR_EDENIED);
    tu_assert_contains(weir_error_last(), "HTTP 403");
    tu_assert_contains(weir_error_last(), "bedrock:InvokeModel");
    assert_null(strstr(weir_error_last(), secret));
    aws_server_env(&llm_server);
}

static void test_bedrock_api_key_replaces_sigv4(void **state)
{
    const char *wrong = "bedrock-api-key-WRONGWRONGWRONGWRONG";
    json_t *out;

    (void)state;
    /* with the key set, a broken AWS secret does not matter: no SigV4 is sent */
    setenv("AWS_SECRET_ACCESS_KEY", "broken", 1);
    setenv("AWS_BEARER_TOKEN_BEDROCK", BEARER, 1);
    if (llm_server_generate(LLM_SERVER_ANSWER, "", &out) != WEIR_OK) {
        fail_msg("with the API key: %s", weir_error_last());
    }
    llm_server_expect_answer(out);
    json_decref(out);
    setenv("AWS_BEARER_TOKEN_BEDROCK", wrong, 1);
    assert_int_equal(llm_server_generate(LLM_SERVER_ANSWER, "", &out), WEIR_EDENIED);
    assert_null(strstr(weir_error_last(), wrong));
    tu_assert_contains(weir_error_last(), "AWS_BEARER_TOKEN_BEDROCK");
    aws_server_env(&llm_server);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        LLM_SERVER_TESTS,
        cmocka_unit_test(test_bad_credentials_are_denied_without_the_secret),
        cmocka_unit_test(test_bedrock_api_key_replaces_sigv4),
    };

    return cmocka_run_group_tests(tests, group_setup, llm_server_teardown);
}
