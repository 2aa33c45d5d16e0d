/* test_aws_creds.c - the AWS credential chain, region chain and endpoint
 * overrides, with real files in a temporary HOME. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aws_creds.h"
#include "error.h"
#include "plugins.h"
#include "redact.h"

static char *home;

static const char *const vars[] = { "AWS_ACCESS_KEY_ID",
                                    "AWS_SECRET_ACCESS_KEY",
                                    "AWS_SESSION_TOKEN",
                                    "AWS_PROFILE",
                                    "AWS_REGION",
                                    "AWS_DEFAULT_REGION",
                                    "AWS_SHARED_CREDENTIALS_FILE",
                                    "AWS_CONFIG_FILE",
                                    "AWS_ENDPOINT_URL",
                                    "AWS_ENDPOINT_URL_S3",
                                    "AWS_ENDPOINT_URL_GLUE",
                                    "AWS_ENDPOINT_URL_BEDROCK_RUNTIME",
                                    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
                                    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                                    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                                    NULL };

static int setup(void **state)
{
    home = tu_mkdtemp();
    for (const char *const *v = vars; *v; v++) {
        unsetenv(*v);
    }
    setenv("HOME", home, 1);
    weir_redact_reset();
    return 0;
}

static int teardown(void **state)
{
    tu_rmtree(home);
    free(home);
    return 0;
}

/* Writes ~/.aws/<name> with the given mode; returns its path (free it). */
static char *aws_file(const char *name, const char *text, mode_t mode)
{
    char rel[64];
    char *path;

    snprintf(rel, sizeof(rel), ".aws/%s", name);
    path = tu_write_file(home, rel, text);
    assert_int_equal(chmod(path, mode), 0);
    return path;
}

static const char CREDS[] = "# comment\n"
                            "[default]\n"
                            "aws_access_key_id = AKIDDEFAULT\n"
                            "aws_secret_access_key=default-secret-1234\n"
                            "\n"
                            "[dev]\n"
                            "  aws_access_key_id   =   AKIDDEV  \n"
                            "aws_secret_access_key = dev-secret-5678\n"
                            "aws_session_token = dev-token-abcd\n";

static void test_env_first(void **state)
{
    struct weir_aws_creds c;
    char *p = aws_file("credentials", CREDS, 0600);

    setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "env-secret-9999", 1);
    setenv("AWS_SESSION_TOKEN", "env-token-0000", 1);
    assert_int_equal(weir_aws_creds_load(&c), WEIR_OK);
    assert_string_equal(c.access_key_id, "AKIDENV");
    assert_string_equal(c.secret_access_key, "env-secret-9999");
    assert_string_equal(c.session_token, "env-token-0000");
    assert_string_equal(c.source, "environment");
    weir_aws_creds_clear(&c);
    assert_null(c.secret_access_key);
    /* Both secrets are now masked wherever text is redacted. */
    char *masked = weir_redact("k=env-secret-9999 t=env-token-0000");
    assert_string_equal(masked, "k=*** t=***");
    free(masked);
    free(p);
}

static void test_env_half_set(void **state)
{
    struct weir_aws_creds c;

    setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
    assert_int_equal(weir_aws_creds_load(&c), WEIR_EDENIED);
    assert_non_null(strstr(weir_error_last(), "AWS_SECRET_ACCESS_KEY is not"));
    assert_null(c.access_key_id);
}

static void test_credentials_file_profiles(void **state)
{
    struct weir_aws_creds c;
    char *p = aws_file("credentials", CREDS, 0600);

    assert_int_equal(weir_aws_creds_load(&c), WEIR_OK);
    assert_string_equal(c.access_key_id, "AKIDDEFAULT");
    assert_string_equal(c.secret_access_key, "default-secret-1234");
    assert_null(c.session_token);
    assert_string_equal(c.source, "credentials file");
    weir_aws_creds_clear(&c);
    setenv("AWS_PROFILE", "dev", 1);
    assert_int_equal(weir_aws_creds_load(&c), WEIR_OK);
    assert_string_equal(c.access_key_id, "AKIDDEV");
    assert_string_equal(c.secret_access_key, "dev-secret-5678");
    assert_string_equal(c.session_token, "dev-token-abcd");
    weir_aws_creds_clear(&c);
    free(p);
}

static void test_config_file_keys(void **state)
{
    struct weir_aws_creds c;
    char *p = aws_file("config",
                       "[default]\nregion = eu-west-1\n\n[profile ci]\nregion = "
                       "us-east-2\naws_access_key_id = AKIDCI\naws_secret_access_key "
                       "= ci-secret-4321\n",
                       0600);

    setenv("AWS_PROFILE", "ci", 1);
    assert_int_equal(weir_aws_creds_load(&c), WEIR_OK);
    assert_string_equal(c.access_key_id, "AKIDCI");
    assert_string_equal(c.source, "config file");
    weir_aws_creds_clear(&c);
    /* Keys in a config file others can read are refused too. */
    chmod(p, 0644);
    assert_int_equal(weir_aws_creds_load(&c), WEIR_EDENIED);
    assert_non_null(strstr(weir_error_last(), p));
    assert_null(strstr(weir_error_last(), "ci-secret-4321"));
    free(p);
}

static void test_open_credentials_file_refused(void **state)
{
    struct weir_aws_creds c;
    char *p = aws_file("credentials", CREDS, 0640);
    char want[1200];

    assert_int_equal(weir_aws_creds_load(&c), WEIR_EDENIED);
    snprintf(want, sizeof(want),
             "AWS credentials file '%s' is accessible by group or others "
             "(mode 0640); run `chmod 600 %s`",
             p, p);
    assert_string_equal(weir_error_last(), want);
    /* Environment credentials still win without touching the file. */
    setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "env-secret-9999", 1);
    assert_int_equal(weir_aws_creds_load(&c), WEIR_OK);
    weir_aws_creds_clear(&c);
    free(p);
}

static void test_file_overrides_and_missing_profile(void **state)
{
    struct weir_aws_creds c;
    char *p = tu_write_file(home, "elsewhere/creds",
                            "[other]\naws_access_key_id = AKIDOTHER\n"
                            "aws_secret_access_key = other-secret-11\n");

    chmod(p, 0600);
    setenv("AWS_SHARED_CREDENTIALS_FILE", p, 1);
    setenv("AWS_PROFILE", "other", 1);
    assert_int_equal(weir_aws_creds_load(&c), WEIR_OK);
    assert_string_equal(c.access_key_id, "AKIDOTHER");
    weir_aws_creds_clear(&c);
    setenv("AWS_PROFILE", "nope", 1);
    assert_int_equal(weir_aws_creds_load(&c), WEIR_EDENIED);
    assert_non_null(strstr(weir_error_last(), "AWS_PROFILE 'nope' is not a profile"));
    assert_non_null(strstr(weir_error_last(), p));
    free(p);
}

static void test_no_credentials(void **state)
{
    struct weir_aws_creds c;

    assert_int_equal(weir_aws_creds_load(&c), WEIR_EDENIED);
    assert_non_null(strstr(weir_error_last(), "no AWS credentials"));
}

static void test_half_profile(void **state)
{
    struct weir_aws_creds c;
    char *p = aws_file("credentials", "[default]\naws_access_key_id = AKIDHALF\n", 0600);

    assert_int_equal(weir_aws_creds_load(&c), WEIR_EDENIED);
    assert_non_null(strstr(weir_error_last(), "without aws_secret_access_key"));
    free(p);
}

static void test_region_chain(void **state)
{
    char *r,
        *p = aws_file("config", "[default]\nregion = eu-north-1\n[profile x]\nregion=ap-south-1\n",
                      0644); /* region only: others may read it */

    r = weir_aws_region();
    assert_string_equal(r, "eu-north-1");
    free(r);
    setenv("AWS_PROFILE", "x", 1);
    r = weir_aws_region();
    assert_string_equal(r, "ap-south-1");
    free(r);
    setenv("AWS_DEFAULT_REGION", "us-west-1", 1);
    r = weir_aws_region();
    assert_string_equal(r, "us-west-1");
    free(r);
    setenv("AWS_REGION", "sa-east-1", 1);
    r = weir_aws_region();
    assert_string_equal(r, "sa-east-1");
    free(r);
    unlink(p);
    unsetenv("AWS_REGION");
    unsetenv("AWS_DEFAULT_REGION");
    assert_null(weir_aws_region());
    assert_non_null(strstr(weir_error_last(), "AWS_REGION"));
    free(p);
}

static void expect_endpoint(const char *id, const char *region, const char *want)
{
    char *got = weir_aws_endpoint(id, region);

    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static void test_endpoints(void **state)
{
    const struct weir_host_api *host = weir_host_api_get();
    char *got;

    assert_null(weir_aws_endpoint("GLUE", NULL)); /* no region, no override */
    setenv("AWS_REGION", "eu-west-1", 1);
    expect_endpoint("GLUE", NULL, "https://glue.eu-west-1.amazonaws.com");
    expect_endpoint("Bedrock Runtime", NULL, "https://bedrock-runtime.eu-west-1.amazonaws.com");
    expect_endpoint("BEDROCK_RUNTIME", "us-east-1",
                    "https://bedrock-runtime.us-east-1.amazonaws.com");
    expect_endpoint("S3", "cn-north-1", "https://s3.cn-north-1.amazonaws.com.cn");
    setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9000/", 1);
    setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:4568", 1);
    setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", "http://127.0.0.1:7000/prefix", 1);
    expect_endpoint("S3", NULL, "http://127.0.0.1:4568");
    expect_endpoint("glue", NULL, "http://127.0.0.1:9000");
    expect_endpoint("bedrock-runtime", NULL, "http://127.0.0.1:7000/prefix");
    /* Through the host API, as plugins call it. */
    assert_true(WEIR_HOST_HAS(host, aws_endpoint));
    got = host->aws_endpoint(NULL, "ATHENA", NULL);
    assert_string_equal(got, "http://127.0.0.1:9000");
    host->free(got);
    setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true", 1);
    expect_endpoint("S3", NULL, "https://s3.eu-west-1.amazonaws.com");
}

static void test_endpoints_from_config(void **state)
{
    char *p = aws_file("config",
                       "[default]\nregion = us-east-1\nendpoint_url = http://127.0.0.1:1111\n"
                       "services = local\n\n[services local]\ns3 =\n  endpoint_url = "
                       "http://127.0.0.1:2222\nbedrock_runtime =\n  endpoint_url = "
                       "http://127.0.0.1:3333\n",
                       0644);

    expect_endpoint("S3", NULL, "http://127.0.0.1:2222");
    expect_endpoint("Bedrock Runtime", NULL, "http://127.0.0.1:3333");
    expect_endpoint("GLUE", NULL, "http://127.0.0.1:1111");
    setenv("AWS_ENDPOINT_URL_GLUE", "http://127.0.0.1:4444", 1);
    expect_endpoint("GLUE", NULL, "http://127.0.0.1:4444"); /* env beats the file */
    free(p);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_env_first),
        T(test_env_half_set),
        T(test_credentials_file_profiles),
        T(test_config_file_keys),
        T(test_open_credentials_file_refused),
        T(test_file_overrides_and_missing_profile),
        T(test_no_credentials),
        T(test_half_profile),
        T(test_region_chain),
        T(test_endpoints),
        T(test_endpoints_from_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
