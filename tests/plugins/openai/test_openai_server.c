/*
 * test_openai_server.c - the built openai.so end to end: llm.generate with a
 * contract.generate-shaped request against tests/aws-server's OpenAI-compatible
 * /v1/chat/completions (which answers with the "weir_test_reply" of the last
 * user message), with each response_format; and the failures a user meets.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "llm_server.h"

#define KEY "sk-goodgoodgoodgoodgood"

static const char *const modes[] = {
    "",
    ", \"strict\": true",
    ", \"response_format\": \"json_object\"",
    ", \"response_format\": \"none\"",
    NULL,
};
static const struct llm_server_spec spec = {
    .plugin = "openai",
    .server_args = (const char *const[]){ "--api-key", KEY, NULL },
    .modes = modes,
};

static int group_setup(void **state)
{
    char base[128];

    (void)state;
    if (llm_server_setup(&spec) != 0) {
        return -1;
    }
    snprintf(base, sizeof(base), "%s/v1", llm_server.base);
    setenv("OPENAI_BASE_URL", base, 1);
    setenv("OPENAI_API_KEY", KEY, 1);
    setenv("OPENAI_MODEL", "gpt-4o-mini", 1);
    return 0;
}

static void test_bad_key_is_denied_without_the_secret(void **state)
{
    const char *secret = "sk-wrongwrongwrongwrongwrongwrong1234";
    json_t *out;

    (void)state;
    setenv("OPENAI_API_KEY", secret, 1);
    assert_int_equal(llm_server_generate(LLM_SERVER_ANSWER, "", &out), WEIR_EDENIED);
    tu_assert_contains(weir_error_last(), "HTTP 401");
    tu_assert_contains(weir_error_last(), "check the key in OPENAI_API_KEY");
    assert_null(strstr(weir_error_last(), secret));
    assert_null(strstr(weir_error_last(), "wrongwrongwrong"));
    setenv("OPENAI_API_KEY", KEY, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        LLM_SERVER_TESTS,
        cmocka_unit_test(test_bad_key_is_denied_without_the_secret),
    };

    return cmocka_run_group_tests(tests, group_setup, llm_server_teardown);
}
