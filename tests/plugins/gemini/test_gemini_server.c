/*
 * test_gemini_server.c - the built gemini.so end to end: llm.generate with a
 * contract.generate-shaped request against tests/aws-server's Gemini
 * generateContent (which answers with the "weir_test_reply" of the last user
 * message), with each schema mode; and the failures a user meets.
 */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "llm_server.h"

#define KEY "AIzagoodgoodgoodgoodgood"

static const char *const modes[] = {
    "",
    ", \"schema_mode\": \"openapi\"",
    ", \"schema_mode\": \"json_schema\"",
    NULL,
};
static const struct llm_server_spec spec = {
    .plugin = "gemini",
    .server_args = (const char *const[]){ "--api-key", KEY, NULL },
    .modes = modes,
};

static int group_setup(void **state)
{
    (void)state;
    if (llm_server_setup(&spec) != 0) {
        return -1;
    }
    setenv("GEMINI_BASE_URL", llm_server.base, 1);
    setenv("GEMINI_API_KEY", KEY, 1);
    setenv("GEMINI_MODEL", "gemini-2.5-flash", 1);
    return 0;
}

static void test_bad_key_is_denied_without_the_secret(void **state)
{
    const char *secret = "AIzaWRONGwrongWRONGwrongWRONGwrong123";
    json_t *out;

    (void)state;
    setenv("GEMINI_API_KEY", secret, 1);
    assert_int_equal(llm_server_generate(LLM_SERVER_ANSWER, "", &out), WEIR_EDENIED);
    tu_assert_contains(weir_error_last(), "check the key in GEMINI_API_KEY");
    assert_null(strstr(weir_error_last(), secret));
    setenv("GEMINI_API_KEY", KEY, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        LLM_SERVER_TESTS,
        cmocka_unit_test(test_bad_key_is_denied_without_the_secret),
    };

    return cmocka_run_group_tests(tests, group_setup, llm_server_teardown);
}
