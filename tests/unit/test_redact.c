/* test_redact.c - the secret registry and weir_redact(). */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "redact.h"

static int reset(void **state)
{
    weir_redact_reset();
    return 0;
}

/* Redacts text and compares with want; frees the result. */
static void assert_redacts(const char *text, const char *want)
{
    char *got = weir_redact(text);

    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static void test_no_secrets_copies(void **state)
{
    char *text = "nothing to hide";
    char *got = weir_redact(text);

    assert_non_null(got);
    assert_ptr_not_equal(got, text);
    assert_string_equal(got, text);
    free(got);
}

static void test_single(void **state)
{
    weir_redact_add("hunter22");
    assert_redacts("password=hunter22", "password=***");
    assert_redacts("hunter22 and hunter22 again", "*** and *** again");
    assert_redacts("no secret here", "no secret here");
}

static void test_multiple(void **state)
{
    weir_redact_add("AKIAEXAMPLE");
    weir_redact_add("tok-9f8e7d");
    assert_redacts("key=AKIAEXAMPLE token=tok-9f8e7d end",
                   "key=*** token=*** end");
}

static void test_secret_inside_another(void **state)
{
    /* The shorter one is registered first: replacing it first would leave
     * "abc" and "xyz" of the longer secret behind. */
    weir_redact_add("s3cr3t");
    weir_redact_add("abc-s3cr3t-xyz");
    assert_redacts("[abc-s3cr3t-xyz] [s3cr3t]", "[***] [***]");
}

static void test_overlapping_occurrences(void **state)
{
    /* Two secrets sharing bytes, and a secret overlapping itself. */
    weir_redact_add("abcdef");
    weir_redact_add("defghi");
    assert_redacts("<abcdefghi>", "<***>");
    weir_redact_reset();
    weir_redact_add("aaaa");
    assert_redacts("xaaaaaax", "x***x");
}

static void test_short_secrets_ignored(void **state)
{
    weir_redact_add("");
    weir_redact_add("a");
    weir_redact_add("abc");
    assert_redacts("a abc abcd", "a abc abcd");
    weir_redact_add("abcd");
    assert_redacts("a abc abcd", "a abc ***");
}

static void test_null(void **state)
{
    weir_redact_add(NULL);
    assert_null(weir_redact(NULL));
    assert_redacts("still works", "still works");
}

static void test_copy_and_reset(void **state)
{
    char secret[] = "mutable-secret";

    weir_redact_add(secret);
    memset(secret, 'x', sizeof(secret) - 1);
    assert_redacts("mutable-secret", "***");
    weir_redact_add("mutable-secret"); /* a duplicate changes nothing */
    weir_redact_reset();
    assert_redacts("mutable-secret", "mutable-secret");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_no_secrets_copies, reset, reset),
        cmocka_unit_test_setup_teardown(test_single, reset, reset),
        cmocka_unit_test_setup_teardown(test_multiple, reset, reset),
        cmocka_unit_test_setup_teardown(test_secret_inside_another, reset, reset),
        cmocka_unit_test_setup_teardown(test_overlapping_occurrences, reset, reset),
        cmocka_unit_test_setup_teardown(test_short_secrets_ignored, reset, reset),
        cmocka_unit_test_setup_teardown(test_null, reset, reset),
        cmocka_unit_test_setup_teardown(test_copy_and_reset, reset, reset),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
