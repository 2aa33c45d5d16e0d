/*
 * test_check_expr.c - the `check` expression language (plugins/contract/
 * check_expr.c): a table of expressions evaluated over one fixed row
 * (precedence, IN, LIKE, BETWEEN, IS NULL, arithmetic, three-valued logic,
 * type errors), and syntax errors with their offsets.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "check_expr.h"
#include "contract.h"
#include "lake.h"
#include "plugins.h"

const struct weir_host_api *contract_host;

static int group_setup(void **state)
{
    (void)state;
    contract_host = weir_host_api_get();
    lake_host = weir_host_api_get();
    return 0;
}

/* The row every expression sees: a=10, b=3, c=-2.5, s='Hello', n=NULL,
 * t='abc' (not a number), u='ünï' (3 code points), d='2026-10-03', z='0'. */
static const char *const col_names[] = { "a", "b", "c", "s", "n", "t", "u", "d", "z", "amount" };
static const struct lake_field row[] = {
    { "10", 2 },
    { "3", 1 },
    { "-2.5", 4 },
    { "Hello", 5 },
    { NULL, 0 },
    { "abc", 3 },
    { "\xC3\xBCn\xC3\xAF", 5 },
    { "2026-10-03", 10 },
    { "0", 1 },
    { "9", 1 },
};

static enum check_result eval_text(const char *text)
{
    struct check_expr *e = NULL;
    enum check_result r;
    char err[256];
    size_t i, k;

    if (check_expr_compile(text, &e, err, sizeof(err)) != WEIR_OK) {
        fail_msg("'%s' does not compile: %s", text, err);
    }
    for (i = 0; i < check_expr_ncolumns(e); i++) {
        for (k = 0; k < sizeof(col_names) / sizeof(col_names[0]); k++) {
            if (!strcmp(col_names[k], check_expr_column(e, i))) {
                check_expr_bind(e, i, k);
                break;
            }
        }
        if (k == sizeof(col_names) / sizeof(col_names[0])) {
            fail_msg("'%s': test row has no column %s", text, check_expr_column(e, i));
        }
    }
    r = check_expr_eval(e, row);
    check_expr_free(e);
    return r;
}

#define T CHECK_TRUE
#define F CHECK_FALSE
#define N CHECK_NULL
#define E CHECK_ERROR

static const struct {
    const char *text;
    enum check_result want;
} cases[] = {
    /* comparisons: numbers with numbers, text with strings */
    { "a > 5", T },
    { "a >= 10", T },
    { "a < 10", F },
    { "a <= 10", T },
    { "a = 10", T },
    { "a == 10.0", T },
    { "a != 10", F },
    { "a <> 3", T },
    { "s = 'Hello'", T },
    { "s = 'hello'", F },
    { "s > 'Apple'", T },
    { "d >= '2026-10-01'", T },
    { "d < '2026-10-03'", F },
    { "a > b", T }, /* both numeric: 10 > 3, not '10' < '3' */
    { "s > t", F }, /* both text: 'Hello' < 'abc' bytewise */
    /* precedence: * before +, AND before OR, NOT binds tighter than AND */
    { "a + b * 2 = 16", T },
    { "(a + b) * 2 = 26", T },
    { "a - b - 2 = 5", T },
    { "a / 4 = 2.5", T },
    { "a % 3 = 1", T },
    { "-c = 2.5", T },
    { "- -a = 10", T },
    { "a > 100 OR a > 5 AND b > 100", F },
    { "(a > 100 OR a > 5) AND b > 1", T },
    { "NOT a > 100 AND b = 3", T },
    { "NOT (a > 5 AND b = 3)", F },
    { "a>5 and b=3", T }, /* keywords in any case, no spaces needed */
    /* IN */
    { "b IN (1, 2, 3)", T },
    { "b IN (4, 5)", F },
    { "b NOT IN (4, 5)", T },
    { "s IN ('Hello', 'World')", T },
    { "s NOT IN ('Hello')", F },
    { "n IN (1, 2)", N },
    { "b IN (1, NULL)", N },
    { "b IN (3, NULL)", T },
    { "b NOT IN (1, NULL)", N },
    { "t IN (1, 2)", F }, /* text vs numbers: simply not in the list */
    /* LIKE: % any run, _ one UTF-8 character, case-sensitive */
    { "s LIKE 'H%'", T },
    { "s LIKE 'h%'", F },
    { "s LIKE '%ll%'", T },
    { "s LIKE 'H_llo'", T },
    { "s LIKE 'H_lo'", F },
    { "s NOT LIKE '%x%'", T },
    { "u LIKE '_n_'", T },
    { "u LIKE '___'", T },
    { "s LIKE '%'", T },
    { "s LIKE 'Hello%'", T },
    { "n LIKE '%'", N },
    { "d LIKE '2026-__-__'", T },
    /* BETWEEN */
    { "a BETWEEN 1 AND 10", T },
    { "a BETWEEN 11 AND 20", F },
    { "a NOT BETWEEN 11 AND 20", T },
    { "n BETWEEN 1 AND 2", N },
    { "a BETWEEN 1 AND n", N },
    { "a BETWEEN 20 AND n", F },
    /* IS NULL */
    { "n IS NULL", T },
    { "n IS NOT NULL", F },
    { "a IS NULL", F },
    { "a IS NOT NULL", T },
    { "(a + n) IS NULL", T },
    /* three-valued logic */
    { "n > 1", N },
    { "n = n", N },
    { "NOT n > 1", N },
    { "n > 1 AND a > 100", F },
    { "n > 1 AND a > 1", N },
    { "n > 1 OR a > 1", T },
    { "n > 1 OR a > 100", N },
    { "a + n > 1", N },
    { "NULL = NULL", N },
    { "TRUE", T },
    { "FALSE OR TRUE", T },
    { "NOT FALSE", T },
    /* type errors are errors (a violation), but FALSE AND / TRUE OR decide alone */
    { "t > 1", E },
    { "t + 1 > 1", E },
    { "NOT t > 1", E },
    { "t > 1 OR a > 1", T },
    { "t > 1 AND a > 100", F },
    { "t > 1 AND a > 1", E },
    { "t > 1 OR n > 1", E },
    /* division by zero is NULL, as in SQLite */
    { "a / z > 1", N },
    { "a % z > 1", N },
    /* quoted identifiers and literals */
    { "\"a\" = 10", T },
    { "`s` = 'Hello'", T },
    { "'it''s' = 'it''s'", T },
    { "amount >= 0", T },
    { "a = 1e1", T },
    { "a > .5", T },
};

static void test_eval_table(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        enum check_result got = eval_text(cases[i].text);

        if (got != cases[i].want) {
            fail_msg("case %zu: '%s' gave %d, want %d", i, cases[i].text, (int)got,
                     (int)cases[i].want);
        }
    }
}

static const struct {
    const char *text;
    const char *err;
} bad[] = {
    { "a >", "at offset 3: unexpected end of expression" },
    { "a > 1 AND", "at offset 9: unexpected end of expression" },
    { "(a > 1", "at offset 6: expected ')'" },
    { "a > 1)", "at offset 5: unexpected text after the expression" },
    { "a", "is a value, not a condition" },
    { "a + 1", "is a value, not a condition" },
    { "s = 'open", "at offset 4: unterminated string literal" },
    { "a IN 1, 2", "at offset 5: expected '('" },
    { "a IS 5", "expected NULL after IS" },
    { "a NOT 5", "at offset 2: expected IN, LIKE or BETWEEN after NOT" },
    { "a BETWEEN 1 OR 2", "expected AND in BETWEEN" },
    { "a > 1 AND b", "AND/OR need conditions" },
    { "NOT a", "NOT needs a condition" },
    { "(a > 1) + 2 > 0", "arithmetic on a condition" },
    { "a = AND", "at offset 4: expected a value, found a keyword" },
    { "a > 12abc", "at offset 4: malformed number" },
    { "a > 1 ; DROP TABLE x", "at offset 6: unexpected text" },
    { "\"a = 1", "unterminated quoted column name" },
    { "", "unexpected end of expression" },
    { "a = #", "at offset 4: expected a value" },
};

static void test_syntax_errors(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct check_expr *e = (struct check_expr *)1;
        char err[256] = "";

        if (check_expr_compile(bad[i].text, &e, err, sizeof(err)) != WEIR_EINVALID) {
            fail_msg("case %zu: '%s' compiled", i, bad[i].text);
        }
        assert_null(e);
        if (strstr(err, bad[i].err) == NULL) {
            fail_msg("case %zu: '%s': error \"%s\" lacks \"%s\"", i, bad[i].text, err, bad[i].err);
        }
    }
}

static void test_columns(void **state)
{
    struct check_expr *e = NULL;
    char err[128];

    (void)state;
    assert_int_equal(
        check_expr_compile("b > a AND a < 100 OR \"my col\" IS NULL", &e, err, sizeof(err)),
        WEIR_OK);
    assert_int_equal(check_expr_ncolumns(e), 3);
    assert_string_equal(check_expr_column(e, 0), "b");
    assert_string_equal(check_expr_column(e, 1), "a");
    assert_string_equal(check_expr_column(e, 2), "my col");
    assert_null(check_expr_column(e, 3));
    check_expr_bind(e, 2, 7);
    assert_int_equal(check_expr_field(e, 2), 7);
    check_expr_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eval_table),
        cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_columns),
    };

    return cmocka_run_group_tests(tests, group_setup, NULL);
}
