/* test_expr.c - the ${{ }} expression language: syntax, semantics,
 * functions, compile errors and their offsets, references, limits. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "expr.h"

struct ok_case {
    const char *src;
    const char *want; /* JSON text */
};

struct err_case {
    const char *src;
    const char *msg; /* a substring of the error message */
};

struct compile_err_case {
    const char *src;
    size_t offset;
    const char *msg;
};

static json_t *scope;

static const char *scope_text =
    "{\"params\": {\"table\": \"db.t\", \"n\": 3, \"zero\": 0, \"empty\": \"\", \"k\": \"a\","
    "  \"list\": [1, 2, \"x\"], \"obj\": {\"b\": 2, \"a\": 1}, \"f\": 1.5,"
    "  \"big\": 9223372036854775807, \"min\": -9223372036854775808, \"t\": true, \"nul\": null,"
    "  \"uni\": \"h\\u00e9llo\", \"weird\": {\"my-key\": 3, \"a/b\": 4}},"
    " \"steps\": {\"a\": {\"output\": {\"x\": 42, \"s\": \"str\", \"deep\": [[1, [2]]],"
    "  \"rows\": [{\"id\": 1}, {\"id\": 2}]}}},"
    " \"env\": {\"HOME\": \"/home/u\"},"
    " \"run\": {\"id\": \"r1\"},"
    " \"item\": \"it\"}";

static int setup(void **state)
{
    json_error_t err;

    scope = json_loads(scope_text, 0, &err);
    if (!scope) {
        fprintf(stderr, "bad scope: %s\n", err.text);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    json_decref(scope);
    return 0;
}

static struct weir_expr *compile_ok(const char *src)
{
    struct weir_expr *e = NULL;
    size_t off = 0;

    if (weir_expr_compile(src, strlen(src), &e, &off) != WEIR_OK) {
        fail_msg("compiling [%s]: unexpected error at %zu: %s", src, off, weir_error_last());
    }
    assert_non_null(e);
    return e;
}

static void eval_ok(const char *src, const char *want)
{
    struct weir_expr *e = compile_ok(src);
    json_t *v = NULL;

    if (weir_expr_eval(e, scope, &v) != WEIR_OK) {
        fail_msg("evaluating [%s]: unexpected error: %s", src, weir_error_last());
    }
    tu_assert_json(v, want);
    json_decref(v);
    weir_expr_free(e);
}

static void eval_err(const char *src, const char *msg)
{
    struct weir_expr *e = compile_ok(src);
    json_t *v = (json_t *)1;

    weir_error_clear();
    if (weir_expr_eval(e, scope, &v) != WEIR_EINVALID) {
        fail_msg("evaluating [%s]: expected an error containing '%s'", src, msg);
    }
    assert_null(v);
    if (!strstr(weir_error_last(), msg)) {
        fail_msg("evaluating [%s]: message '%s' lacks '%s'", src, weir_error_last(), msg);
    }
    weir_expr_free(e);
}

static void compile_err(const char *src, size_t len, size_t offset, const char *msg)
{
    struct weir_expr *e = (struct weir_expr *)1;
    size_t off = 9999;
    const char *last;

    weir_error_clear();
    if (weir_expr_compile(src, len, &e, &off) != WEIR_EINVALID) {
        fail_msg("compiling [%.60s]: expected an error containing '%s'", src, msg);
    }
    assert_null(e);
    last = weir_error_last();
    if (!strstr(last, msg)) {
        fail_msg("compiling [%.60s]: message '%s' lacks '%s'", src, last, msg);
    }
    if (off != offset) {
        fail_msg("compiling [%.60s]: offset %zu, want %zu (%s)", src, off, offset, last);
    }
    /* Messages are one lowercase line. */
    assert_null(strchr(last, '\n'));
    assert_false(last[0] >= 'A' && last[0] <= 'Z');
}

#define RUN_OK(cases)                                                  \
    for (size_t i_ = 0; i_ < sizeof(cases) / sizeof(cases[0]); i_++) { \
        eval_ok(cases[i_].src, cases[i_].want);                        \
    }

#define RUN_ERR(cases)                                                 \
    for (size_t i_ = 0; i_ < sizeof(cases) / sizeof(cases[0]); i_++) { \
        eval_err(cases[i_].src, cases[i_].msg);                        \
    }

#define RUN_COMPILE_ERR(cases)                                                              \
    for (size_t i_ = 0; i_ < sizeof(cases) / sizeof(cases[0]); i_++) {                      \
        compile_err(cases[i_].src, strlen(cases[i_].src), cases[i_].offset, cases[i_].msg); \
    }

/* ------------------------------------------------------------------ */
/* literals                                                            */

static void test_literals(void **state)
{
    static const struct ok_case cases[] = {
        { "1", "1" },
        { "0", "0" },
        { "007", "7" },
        { "1.5", "1.5" },
        { "1e3", "1000.0" },
        { "2.5E-1", "0.25" },
        { "9223372036854775807", "9223372036854775807" },
        { "-9223372036854775807", "-9223372036854775807" },
        { "true", "true" },
        { "false", "false" },
        { "null", "null" },
        { "'single'", "\"single\"" },
        { "\"double\"", "\"double\"" },
        { "''", "\"\"" },
        { "[]", "[]" },
        { "[1, 'a', [null]]", "[1, \"a\", [null]]" },
        { "  1  ", "1" },
        { "\n\t1\r\n", "1" },
    };

    RUN_OK(cases);
}

static void test_integer_literal_overflow_becomes_real(void **state)
{
    struct weir_expr *e = compile_ok("9223372036854775808");
    json_t *v;

    assert_int_equal(weir_expr_eval(e, scope, &v), WEIR_OK);
    assert_true(json_is_real(v));
    assert_true(json_real_value(v) == 9223372036854775808.0);
    json_decref(v);
    weir_expr_free(e);
}

static void test_number_types_kept(void **state)
{
    struct weir_expr *e = compile_ok("params.n + 1");
    json_t *v;

    assert_int_equal(weir_expr_eval(e, scope, &v), WEIR_OK);
    assert_true(json_is_integer(v));
    json_decref(v);
    weir_expr_free(e);
    e = compile_ok("params.n + 1.0");
    assert_int_equal(weir_expr_eval(e, scope, &v), WEIR_OK);
    assert_true(json_is_real(v));
    assert_true(json_real_value(v) == 4.0);
    json_decref(v);
    weir_expr_free(e);
}

static void test_string_escapes(void **state)
{
    static const struct ok_case cases[] = {
        { "'a\\nb'", "\"a\\nb\"" },
        { "'a\\tb'", "\"a\\tb\"" },
        { "'a\\rb'", "\"a\\rb\"" },
        { "'a\\\\b'", "\"a\\\\b\"" },
        { "'it\\'s'", "\"it's\"" },
        { "\"say \\\"hi\\\"\"", "\"say \\\"hi\\\"\"" },
        { "'\"'", "\"\\\"\"" },
        { "\"'\"", "\"'\"" },
        { "'\\u00e9'", "\"\\u00e9\"" },
        { "'\\u20AC'", "\"\\u20ac\"" },
        { "'\\ud83d\\ude00'", "\"\\ud83d\\ude00\"" },
        { "'h\xc3\xa9llo'", "\"h\\u00e9llo\"" },
    };

    RUN_OK(cases);
}

/* ------------------------------------------------------------------ */
/* paths                                                               */

static void test_paths(void **state)
{
    static const struct ok_case cases[] = {
        { "params.table", "\"db.t\"" },
        { "steps.a.output.x", "42" },
        { "steps.a.output", "{\"x\": 42, \"s\": \"str\", \"deep\": [[1, [2]]], \"rows\": [{\"id\": "
                            "1}, {\"id\": 2}]}" },
        { "params['table']", "\"db.t\"" },
        { "params[\"n\"]", "3" },
        { "steps['a'].output['x']", "42" },
        { "params.list[0]", "1" },
        { "params.list[2]", "\"x\"" },
        { "params.list[-1]", "\"x\"" },
        { "params.list[-3]", "1" },
        { "steps.a.output.deep[0][1][0]", "2" },
        { "steps.a.output.rows[1].id", "2" },
        { "steps.a.output.rows[params.zero].id", "1" },
        { "params[params.k == 'a' && 'obj'].a", "1" },
        { "params.list[1.0]", "2" },
        { "params.weird['my-key']", "3" },
        { "params.weird['a/b']", "4" },
        { "[10, 20, 30][1]", "20" },
        { "(params).n", "3" },
        { "fromjson('{\"a\": [5]}').a[0]", "5" },
        { "params.true", "null" },
        { "item", "\"it\"" },
    };

    RUN_OK(cases);
}

static void test_missing_paths_are_null(void **state)
{
    static const struct ok_case cases[] = {
        { "params.nope", "null" },
        { "nope", "null" },
        { "nope.deeper.still", "null" },
        { "params.table.x", "null" },
        { "params.n.x", "null" },
        { "params.nul.x", "null" },
        { "params.list[3]", "null" },
        { "params.list[-4]", "null" },
        { "params.list['0']", "null" },
        { "params.obj[0]", "null" },
        { "params.list[1.5]", "null" },
        { "params.list[null]", "null" },
        { "params.list[true]", "null" },
        { "params.table[0]", "null" },
        { "params.list[9223372036854775807]", "null" },
        { "params.list[-9223372036854775807]", "null" },
        { "params.list[1e300]", "null" },
    };

    RUN_OK(cases);
}

static void test_scope_null_or_not_object(void **state)
{
    struct weir_expr *e = compile_ok("params.n");
    json_t *v = NULL, *arr = json_array();

    assert_int_equal(weir_expr_eval(e, NULL, &v), WEIR_OK);
    assert_true(json_is_null(v));
    json_decref(v);
    assert_int_equal(weir_expr_eval(e, arr, &v), WEIR_OK);
    assert_true(json_is_null(v));
    json_decref(v);
    json_decref(arr);
    weir_expr_free(e);
}

static void test_path_returns_scope_value_without_copy(void **state)
{
    struct weir_expr *e = compile_ok("steps.a.output");
    json_t *v = NULL,
           *want = json_object_get(json_object_get(json_object_get(scope, "steps"), "a"), "output");
    size_t before = want->refcount;

    assert_int_equal(weir_expr_eval(e, scope, &v), WEIR_OK);
    assert_ptr_equal(v, want);
    assert_int_equal(want->refcount, before + 1);
    json_decref(v);
    assert_int_equal(want->refcount, before);
    weir_expr_free(e);
}

/* ------------------------------------------------------------------ */
/* operators                                                           */

static void test_not(void **state)
{
    static const struct ok_case cases[] = {
        { "!true", "false" },       { "!false", "true" }, { "!null", "true" },
        { "!0", "true" },           { "!0.0", "true" },   { "!1", "false" },
        { "!''", "true" },          { "!'a'", "false" },  { "![]", "false" },
        { "!params.obj", "false" }, { "!!'a'", "true" },  { "!!!0", "true" },
        { "!params.nope", "true" },
    };

    RUN_OK(cases);
}

static void test_negation(void **state)
{
    static const struct ok_case cases[] = {
        { "-1", "-1" },
        { "-1.5", "-1.5" },
        { "--1", "1" },
        { "-params.n", "-3" },
        { "-params.f", "-1.5" },
        { "- params.n", "-3" },
        { "-params.big", "-9223372036854775807" },
        { "-params.min", "9223372036854775808.0" },
        { "-(1 + 2)", "-3" },
    };
    static const struct err_case errs[] = {
        { "-'x'", "'-' needs a number, got string" },
        { "-params.nul", "got null" },
        { "-params.t", "got boolean" },
    };

    RUN_OK(cases);
    RUN_ERR(errs);
}

static void test_add(void **state)
{
    static const struct ok_case cases[] = {
        { "1 + 2", "3" },
        { "1 + 1.5", "2.5" },
        { "0.1 + 0.2", "0.30000000000000004" },
        { "'a' + 'b'", "\"ab\"" },
        { "'a' + 1", "\"a1\"" },
        { "1 + 'a'", "\"1a\"" },
        { "1 + 2 + 'x'", "\"3x\"" },
        { "'x' + 1 + 2", "\"x12\"" },
        { "'a' + null", "\"a\"" },
        { "null + 'a'", "\"a\"" },
        { "'a' + true", "\"atrue\"" },
        { "'a' + 1.5", "\"a1.5\"" },
        { "'a' + [1, 'b']", "\"a[1,\\\"b\\\"]\"" },
        { "'o=' + params.obj", "\"o={\\\"a\\\":1,\\\"b\\\":2}\"" },
        { "params.table + '.' + params.n", "\"db.t.3\"" },
        { "'h\xc3\xa9' + 'llo'", "\"h\\u00e9llo\"" },
        { "params.big + 0", "9223372036854775807" },
        { "params.big + 1", "9223372036854775808.0" },
        { "params.min + -1", "-9223372036854775809.0" },
        { "1+1+1+1+1+1+1+1+1+1", "10" },
    };
    static const struct err_case errs[] = {
        { "1e308 + 1e308", "'+' overflowed" },
        { "true + 1", "'+' needs two numbers or at least one string, got boolean and number" },
        { "null + 1", "got null and number" },
        { "[1] + [2]", "got array and array" },
        { "params.obj + 1", "got object and number" },
        { "1 + 2 + true", "got number and boolean" },
    };

    RUN_OK(cases);
    RUN_ERR(errs);
}

static void test_and_or_yield_operands(void **state)
{
    static const struct ok_case cases[] = {
        { "1 && 2", "2" },
        { "0 && 2", "0" },
        { "'' && 2", "\"\"" },
        { "null && 2", "null" },
        { "1 && 2 && 0 && 3", "0" },
        { "1 && 2 && 3", "3" },
        { "1 || 2", "1" },
        { "0 || 2", "2" },
        { "'' || 'd'", "\"d\"" },
        { "0 || '' || 'z'", "\"z\"" },
        { "0 || ''", "\"\"" },
        { "false || null", "null" },
        { "params.nope || 'fallback'", "\"fallback\"" },
        { "[] || 1", "[]" },
        { "params.obj && params.n", "3" },
    };

    RUN_OK(cases);
}

static void test_short_circuit(void **state)
{
    /* The right sides would fail if evaluated. */
    static const struct ok_case cases[] = {
        { "false && (1 < 'x')", "false" },
        { "params.zero && -'x'", "0" },
        { "true || (1 < 'x')", "true" },
        { "'a' || fromjson('not json')", "\"a\"" },
        { "false && (1 < 'x') && (2 < 'y')", "false" },
        { "1 || (true + 1) || (false + 1)", "1" },
        { "(false && (1 < 'x')) || 'ok'", "\"ok\"" },
    };
    static const struct err_case errs[] = {
        { "true && (1 < 'x')", "cannot compare" },
        { "false || (1 < 'x')", "cannot compare" },
    };

    RUN_OK(cases);
    RUN_ERR(errs);
}

static void test_truthiness(void **state)
{
    static const char *falsy[] = { "false", "null", "0", "0.0", "-0.0", "\"\"" };
    static const char *truthy[] = { "true",      "1",     "-1", "0.5", "\"0\"",
                                    "\"false\"", "\" \"", "[]", "{}",  "[0]" };

    for (size_t i = 0; i < sizeof(falsy) / sizeof(falsy[0]); i++) {
        json_t *v = json_loads(falsy[i], JSON_DECODE_ANY, NULL);
        assert_non_null(v);
        if (weir_json_truthy(v)) {
            fail_msg("%s should be falsy", falsy[i]);
        }
        json_decref(v);
    }
    for (size_t i = 0; i < sizeof(truthy) / sizeof(truthy[0]); i++) {
        json_t *v = json_loads(truthy[i], JSON_DECODE_ANY, NULL);
        assert_non_null(v);
        if (!weir_json_truthy(v)) {
            fail_msg("%s should be truthy", truthy[i]);
        }
        json_decref(v);
    }
}

static void test_equality(void **state)
{
    static const struct ok_case cases[] = {
        { "1 == 1.0", "true" },
        { "1.0 == 1", "true" },
        { "1 == 1.5", "false" },
        { "1 != 1.0", "false" },
        { "2 != 3", "true" },
        { "'a' == 'a'", "true" },
        { "'a' == 'A'", "false" },
        { "'a' == 1", "false" },
        { "'1' == 1", "false" },
        { "true == 1", "false" },
        { "null == null", "true" },
        { "params.nope == null", "true" },
        { "null == false", "false" },
        { "'' == null", "false" },
        { "[1, 2] == [1, 2.0]", "true" },
        { "[1, 2] == [2, 1]", "false" },
        { "[1] == [1, 1]", "false" },
        { "params.obj == fromjson('{\"a\": 1, \"b\": 2.0}')", "true" },
        { "params.obj == fromjson('{\"a\": 1}')", "false" },
        { "params.obj == fromjson('{\"a\": 1, \"c\": 2}')", "false" },
        { "params.obj != params.obj", "false" },
        { "params.big == 9223372036854775807", "true" },
        { "params.big == 9223372036854775806", "false" },
        { "params.big == 9223372036854775807.0", "false" },
        { "9007199254740993 == 9007199254740992.0", "false" },
        { "params.table == 'db.t'", "true" },
        { "params.list == [1, 2, 'x']", "true" },
    };

    RUN_OK(cases);
}

static void test_comparisons(void **state)
{
    static const struct ok_case cases[] = {
        { "1 < 2", "true" },
        { "2 < 1", "false" },
        { "2 <= 2", "true" },
        { "3 > 2.5", "true" },
        { "2.5 >= 3", "false" },
        { "-1 < 0", "true" },
        { "1.0 <= 1", "true" },
        { "params.n >= 3", "true" },
        { "'a' < 'b'", "true" },
        { "'ab' < 'b'", "true" },
        { "'a' < 'ab'", "true" },
        { "'' < 'a'", "true" },
        { "'b' <= 'b'", "true" },
        { "'B' < 'a'", "true" },
        { "'2024-01-02' > '2024-01-01'", "true" },
        { "params.big > 9223372036854775806", "true" },
        { "params.min < params.big", "true" },
    };
    static const struct err_case errs[] = {
        { "1 < 'a'", "cannot compare number with string using '<'; both sides must be numbers or "
                     "both strings" },
        { "'a' >= 1", "using '>='" },
        { "null < 1", "cannot compare null with number" },
        { "params.nope > 0", "cannot compare null" },
        { "[1] < [2]", "cannot compare array with array" },
        { "true > false", "using '>'" },
        { "params.obj <= params.obj", "using '<='" },
    };

    RUN_OK(cases);
    RUN_ERR(errs);
}

static void test_precedence(void **state)
{
    static const struct ok_case cases[] = {
        { "1 + 2 == 3", "true" },       { "1 + 2 == 3 && 'a' < 'b' || false", "true" },
        { "1 || 0 && 0", "1" },         { "(1 || 0) && 0", "0" },
        { "0 && 1 || 2", "2" },         { "!false == true", "true" },
        { "!(1 == 2)", "true" },        { "-1 + 2", "1" },
        { "'x' + 1 == 'x1'", "true" },  { "(1 < 2) == true", "true" },
        { "2 > 1 && 1 > 2", "false" },  { "params.list[1 + 1]", "\"x\"" },
        { "!params.list[0]", "false" }, { "-params.list[1] + 5", "3" },
    };

    RUN_OK(cases);
    eval_err("!1 + 1", "got boolean and number");
}

/* ------------------------------------------------------------------ */
/* functions                                                           */

static void test_fn_length(void **state)
{
    static const struct ok_case cases[] = {
        { "length('abc')", "3" },
        { "length('')", "0" },
        { "length('h\xc3\xa9llo')", "5" },
        { "length(params.uni)", "5" },
        { "length('\\ud83d\\ude00')", "1" },
        { "length('\xe2\x82\xac\xe2\x82\xac')", "2" },
        { "length([1, 2])", "2" },
        { "length([])", "0" },
        { "length(params.obj)", "2" },
        { "length(params.nope)", "0" },
        { "length(steps.a.output.rows) > 0", "true" },
    };
    static const struct err_case errs[] = {
        { "length(1)", "length() needs a string, array or object, got number" },
        { "length(true)", "got boolean" },
    };

    RUN_OK(cases);
    RUN_ERR(errs);
}

static void test_fn_contains(void **state)
{
    static const struct ok_case cases[] = {
        { "contains('abcdef', 'cd')", "true" },    { "contains('abc', '')", "true" },
        { "contains('abc', 'x')", "false" },       { "contains('abc', 'abcd')", "false" },
        { "contains(params.list, 1.0)", "true" },  { "contains(params.list, 'x')", "true" },
        { "contains(params.list, 'y')", "false" }, { "contains(params.list, '1')", "false" },
        { "contains([[1], 2], [1.0])", "true" },   { "contains([], null)", "false" },
        { "contains([null], null)", "true" },      { "contains(params.nope, 'x')", "false" },
        { "contains(params.table, '.')", "true" },
    };
    static const struct err_case errs[] = {
        { "contains('abc', 1)", "contains() needs a string to look for in a string, got number" },
        { "contains(5, 1)", "contains() needs a string or an array to search, got number" },
        { "contains(params.obj, 'a')", "got object" },
    };

    RUN_OK(cases);
    eval_ok("contains([[1], fromjson('{\"a\": 1}')], fromjson('{\"a\": 1.0}'))", "true");
    RUN_ERR(errs);
}

static void test_fn_startswith_endswith(void **state)
{
    static const struct ok_case cases[] = {
        { "startswith('abc', 'ab')", "true" },
        { "startswith('abc', 'bc')", "false" },
        { "startswith('abc', '')", "true" },
        { "startswith('ab', 'abc')", "false" },
        { "startswith(params.table, 'db.')", "true" },
        { "startswith(params.nope, 'x')", "false" },
        { "endswith('abc', 'bc')", "true" },
        { "endswith('abc', 'ab')", "false" },
        { "endswith('abc', '')", "true" },
        { "endswith('c', 'abc')", "false" },
        { "endswith(params.nope, 'x')", "false" },
    };
    static const struct err_case errs[] = {
        { "startswith(1, 'a')", "startswith() needs two strings, got number" },
        { "endswith('a', [])", "endswith() needs two strings, got array" },
    };

    RUN_OK(cases);
    RUN_ERR(errs);
}

static void test_fn_format(void **state)
{
    static const struct ok_case cases[] = {
        { "format('{0}-{1}', 'a', 1)", "\"a-1\"" },
        { "format('x{1}{0}', 'a', 'b')", "\"xba\"" },
        { "format('{0}{0}', 'ab')", "\"abab\"" },
        { "format('{{0}}', 1)", "\"{0}\"" },
        { "format('{{{0}}}', 1)", "\"{1}\"" },
        { "format('a{{b')", "\"a{b\"" },
        { "format('plain')", "\"plain\"" },
        { "format('')", "\"\"" },
        { "format('[{0}]', null)", "\"[]\"" },
        { "format('{0}', params.obj)", "\"{\\\"a\\\":1,\\\"b\\\":2}\"" },
        { "format('{0}', 1.5)", "\"1.5\"" },
        { "format('{0}', 0.1)", "\"0.1\"" },
        { "format('{0}', true)", "\"true\"" },
        { "format('\xc3\xa9{0}\xc3\xa9', '\xc3\xbc')", "\"\\u00e9\\u00fc\\u00e9\"" },
        { "format('{10}', 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 'ten')", "\"ten\"" },
        { "format('select * from {0} where id = {1}', params.table, params.n)",
          "\"select * from db.t where id = 3\"" },
    };
    static const struct err_case errs[] = {
        { "format('{2}', 1)",
          "format() placeholder {2} has no value: 1 argument follows the format string" },
        { "format('{0}')", "0 arguments follow" },
        { "format('{', 1)", "does not start a placeholder" },
        { "format('a{x}', 1)", "'{' at byte 1" },
        { "format('{0', 1)", "does not start a placeholder" },
        { "format('}', 1)", "unmatched '}' at byte 0" },
        { "format(1)", "format() needs a format string as its first argument, got number" },
        { "format('{99999999999999}', 1)", "does not start a placeholder" },
    };

    RUN_OK(cases);
    RUN_ERR(errs);
}

static void test_fn_join(void **state)
{
    static const struct ok_case cases[] = {
        { "join(['a', 'b'], '-')", "\"a-b\"" },
        { "join(params.list)", "\"1,2,x\"" },
        { "join(params.list, ', ')", "\"1, 2, x\"" },
        { "join([])", "\"\"" },
        { "join(['only'], '-')", "\"only\"" },
        { "join('s', '-')", "\"s\"" },
        { "join([null, 1.5, true, [1]], '+')", "\"+1.5+true+[1]\"" },
        { "join(params.nope)", "\"\"" },
        { "join(['a', 'b'], '')", "\"ab\"" },
    };
    static const struct err_case errs[] = {
        { "join(1)", "join() needs an array, got number" },
        { "join(['a'], 2)", "join() needs a string separator, got number" },
        { "join(params.obj)", "got object" },
    };

    RUN_OK(cases);
    RUN_ERR(errs);
}

static void test_fn_tojson(void **state)
{
    static const struct ok_case cases[] = {
        { "tojson(params.obj)", "\"{\\\"a\\\":1,\\\"b\\\":2}\"" },
        { "tojson(fromjson('{\"z\": {\"y\": 1, \"x\": 2}, \"a\": []}'))",
          "\"{\\\"a\\\":[],\\\"z\\\":{\\\"x\\\":2,\\\"y\\\":1}}\"" },
        { "tojson('a\"b')", "\"\\\"a\\\\\\\"b\\\"\"" },
        { "tojson('a\\nb')", "\"\\\"a\\\\nb\\\"\"" },
        { "tojson(fromjson('\"\\\\u0001\"'))", "\"\\\"\\\\u0001\\\"\"" },
        { "tojson(0.1)", "\"0.1\"" },
        { "tojson(3.0)", "\"3.0\"" },
        { "tojson(1e21)", "\"1e21\"" },
        { "tojson(1.5e-7)", "\"1.5e-7\"" },
        { "tojson(-2)", "\"-2\"" },
        { "tojson(null)", "\"null\"" },
        { "tojson(params.nope)", "\"null\"" },
        { "tojson(true)", "\"true\"" },
        { "tojson(params.list)", "\"[1,2,\\\"x\\\"]\"" },
        { "tojson('h\xc3\xa9')", "\"\\\"h\\u00e9\\\"\"" },
        { "fromjson(tojson(steps.a.output)) == steps.a.output", "true" },
    };

    RUN_OK(cases);
}

static void test_fn_fromjson(void **state)
{
    static const struct ok_case cases[] = {
        { "fromjson('[1, {\"a\": 2}]')", "[1, {\"a\": 2}]" },
        { "fromjson('3')", "3" },
        { "fromjson('2.5')", "2.5" },
        { "fromjson('\"s\"')", "\"s\"" },
        { "fromjson('null')", "null" },
        { "fromjson(params.nope)", "null" },
        { "fromjson(' {} ')", "{}" },
    };
    static const struct err_case errs[] = {
        { "fromjson('x')", "fromjson() got text that is not json" },
        { "fromjson('[1,')", "not json" },
        { "fromjson('{\"a\": 1, \"a\": 2}')", "duplicate" },
        { "fromjson(1)", "fromjson() needs a string of json text, got number" },
        { "fromjson('')", "not json" },
    };

    RUN_OK(cases);
    RUN_ERR(errs);
}

static char *nested_arrays(int depth)
{
    char *s = malloc((size_t)depth * 2 + 32);
    size_t n = 0;

    n += (size_t)sprintf(s, "fromjson('");
    for (int i = 0; i < depth; i++) {
        s[n++] = '[';
    }
    for (int i = 0; i < depth; i++) {
        s[n++] = ']';
    }
    strcpy(s + n, "')");
    return s;
}

static void test_fn_fromjson_depth_limit(void **state)
{
    char *ok = nested_arrays(WEIR_EXPR_MAX_DEPTH);
    char *deep = nested_arrays(WEIR_EXPR_MAX_DEPTH + 1);
    char *deeper = nested_arrays(3000);
    struct weir_expr *e = compile_ok(ok);
    json_t *v;

    assert_int_equal(weir_expr_eval(e, scope, &v), WEIR_OK);
    assert_true(json_is_array(v));
    json_decref(v);
    weir_expr_free(e);
    eval_err(deep, "nested deeper than 64 levels");
    eval_err(deeper, "not json");
    free(ok);
    free(deep);
    free(deeper);
}

static void test_fn_default(void **state)
{
    static const struct ok_case cases[] = {
        { "default(params.nope, 'd')", "\"d\"" },
        { "default(params.empty, 'd')", "\"d\"" },
        { "default(params.table, 'd')", "\"db.t\"" },
        { "default(0, 'd')", "0" },
        { "default(false, 1)", "false" },
        { "default([], 1)", "[]" },
        { "default(null, null)", "null" },
        { "default(params.n, 1 < 'x')", "3" },
        { "default(default(null, ''), 'last')", "\"last\"" },
    };

    RUN_OK(cases);
    eval_err("default(null, 1 < 'x')", "cannot compare");
}

static void test_fn_lower_upper(void **state)
{
    static const struct ok_case cases[] = {
        { "lower('AbC')", "\"abc\"" },
        { "upper('AbC')", "\"ABC\"" },
        { "lower('\xc3\x89T\xc3\x89')", "\"\\u00c9t\\u00c9\"" },
        { "upper('a1_b')", "\"A1_B\"" },
        { "lower('')", "\"\"" },
        { "lower(params.nope)", "null" },
        { "upper(params.table)", "\"DB.T\"" },
    };
    static const struct err_case errs[] = {
        { "lower(1)", "lower() needs a string, got number" },
        { "upper([])", "upper() needs a string, got array" },
    };

    RUN_OK(cases);
    RUN_ERR(errs);
}

static void test_fn_keys(void **state)
{
    static const struct ok_case cases[] = {
        { "keys(params.obj)", "[\"a\", \"b\"]" },
        { "keys(fromjson('{\"b\": 1, \"B\": 2, \"a\": 3, \"ab\": 4}'))",
          "[\"B\", \"a\", \"ab\", \"b\"]" },
        { "keys(fromjson('{}'))", "[]" },
        { "keys(params.nope)", "[]" },
        { "join(keys(steps.a.output), ',')", "\"deep,rows,s,x\"" },
    };
    static const struct err_case errs[] = {
        { "keys([1])", "keys() needs an object, got array" },
        { "keys('s')", "got string" },
    };

    RUN_OK(cases);
    RUN_ERR(errs);
}

/* ------------------------------------------------------------------ */
/* compile errors                                                      */

static void test_compile_errors_syntax(void **state)
{
    static const struct compile_err_case cases[] = {
        { "", 0, "empty expression" },
        { "   ", 3, "empty expression" },
        { "(1 + 2", 6, "expected ')' to close '(', found end of expression" },
        { "(1 + 2]", 6, "expected ')' to close '(', found ']'" },
        { "[1, 2", 5, "expected ',' or ']' in the array, found end of expression" },
        { "[1 2]", 3, "expected ',' or ']' in the array, found '2'" },
        { "[1,]", 3, "expected a value" },
        { "a.", 2, "expected a name after '.'" },
        { "a.0", 2, "index arrays with [0]" },
        { "a[1", 3, "expected ']' to close '['" },
        { "a[]", 2, "expected a value" },
        { "a = b", 2, "'=' is not an operator; use '=='" },
        { "a & b", 2, "use '&&'" },
        { "a | b", 2, "use '||'" },
        { "a - b", 2, "there is no subtraction" },
        { "a * 2", 2, "'*' is not an operator" },
        { "a / 2", 2, "'/' is not an operator" },
        { "a b", 2, "unexpected 'b' after a complete expression" },
        { "1 < 2 < 3", 6, "comparisons do not chain" },
        { "1 == 2 != 3", 7, "comparisons do not chain" },
        { "1 < 2 == true", 6, "comparisons do not chain" },
        { "length(1,)", 9, "expected a value" },
        { "a)", 1, "unmatched ')'" },
        { "a]", 1, "unmatched ']'" },
        { "1 +", 3, "expected a value at the end of the expression" },
        { "+1", 0, "expected a value (a path, literal, function call or '('), found '+'" },
        { "{a}", 0, "there are no object literals" },
        { "@", 0, "unexpected character '@'" },
        { "a.b(1)", 3, "unexpected '('" },
        { "!", 1, "expected a value at the end" },
        { "x -", 2, "there is no subtraction" },
    };

    RUN_COMPILE_ERR(cases);
}

static void test_compile_errors_literals(void **state)
{
    static const struct compile_err_case cases[] = {
        { "'abc", 0, "unterminated string; close it with '" },
        { "x + \"abc", 4, "unterminated string; close it with \"" },
        { "'abc\\", 0, "unterminated string" },
        { "'a\\qb'", 2, "unknown escape '\\q' in string" },
        { "'\\u12'", 1, "'\\u' must be followed by 4 hex digits" },
        { "'\\u12g4'", 1, "4 hex digits" },
        { "'\\ud800'", 1, "high surrogate \\ud800 must be followed by a low surrogate" },
        { "'\\ud800\\u0041'", 1, "high surrogate" },
        { "'\\udc00'", 1, "lone low surrogate" },
        { "'\\u0000'", 1, "\\u0000 is not allowed" },
        { "1.", 1, "expected a digit after '.'" },
        { "1.x", 1, "expected a digit after '.'" },
        { "1e", 1, "expected digits in the exponent" },
        { "1e+", 1, "expected digits in the exponent" },
        { "12abc", 0, "number followed by 'a'" },
        { "0x10", 0, "number followed by 'x'" },
        { "1e999", 0, "number '1e999' is out of range" },
        { "\xc3\xa9", 0, "unexpected byte 0xc3 outside a string" },
        { "'ok' + \xff", 7, "invalid utf-8" },
        { "'\xc0\x80'", 1, "invalid utf-8" },
        { "'\xed\xa0\x80'", 1, "invalid utf-8" },
        { "'\xe2\x82'", 1, "invalid utf-8" },
    };

    RUN_COMPILE_ERR(cases);
    compile_err("'a\0b'", 5, 2, "nul byte in the expression");
}

static void test_compile_errors_functions(void **state)
{
    static const struct compile_err_case cases[] = {
        { "lenght(x)", 0,
          "unknown function 'lenght' (did you mean 'length'?); known: length, contains, "
          "startswith, "
          "endswith, format, join, tojson, fromjson, default, lower, upper, keys" },
        { "1 + foo(1)", 4, "unknown function 'foo'; known: length," },
        { "Length('a')", 0, "did you mean 'length'?" },
        { "tojson2(1)", 0, "did you mean 'tojson'?" },
        { "length()", 0, "length() takes 1 argument, got 0" },
        { "x && length(1, 2)", 5, "length() takes 1 argument, got 2" },
        { "contains('a')", 0, "contains() takes 2 arguments, got 1" },
        { "format()", 0, "format() takes at least 1 argument, got 0" },
        { "join()", 0, "join() takes 1 or 2 arguments, got 0" },
        { "join([], ',', 1)", 0, "join() takes 1 or 2 arguments, got 3" },
        { "default(1)", 0, "default() takes 2 arguments, got 1" },
        { "keys(1, 2)", 0, "keys() takes 1 argument, got 2" },
        { "length(1", 8, "expected ',' or ')' in the arguments, found end of expression" },
        { "length(1;", 8, "unexpected character ';'" },
    };

    RUN_COMPILE_ERR(cases);
}

static void test_output_untouched_on_error(void **state)
{
    struct weir_expr *e = (struct weir_expr *)1;

    /* err_offset may be NULL. */
    assert_int_equal(weir_expr_compile("(", 1, &e, NULL), WEIR_EINVALID);
    assert_null(e);
    assert_int_equal(weir_expr_compile(NULL, 0, &e, NULL), WEIR_EINVALID);
    assert_int_equal(weir_expr_compile("1", 1, NULL, NULL), WEIR_EINVALID);
}

/* ------------------------------------------------------------------ */
/* limits                                                              */

static char *repeat(const char *head, const char *unit, int n, const char *tail)
{
    size_t len = strlen(head) + strlen(unit) * (size_t)n + strlen(tail) + 1;
    char *s = malloc(len), *p = s;

    p += sprintf(p, "%s", head);
    for (int i = 0; i < n; i++) {
        p += sprintf(p, "%s", unit);
    }
    sprintf(p, "%s", tail);
    return s;
}

static void test_length_limit(void **state)
{
    char *src = malloc(WEIR_EXPR_MAX_LEN + 2);

    memset(src, ' ', WEIR_EXPR_MAX_LEN + 1);
    src[0] = '1';
    src[WEIR_EXPR_MAX_LEN + 1] = '\0';
    compile_err(src, WEIR_EXPR_MAX_LEN + 1, WEIR_EXPR_MAX_LEN, "expression longer than 8192 bytes");
    /* Exactly at the limit is fine. */
    src[WEIR_EXPR_MAX_LEN] = '\0';
    weir_expr_free(compile_ok(src));
    free(src);
}

static void test_depth_limit(void **state)
{
    char *parens_ok = repeat("", "(", WEIR_EXPR_MAX_DEPTH - 1, "1");
    char *parens_bad = repeat("", "(", WEIR_EXPR_MAX_DEPTH, "1");
    char *nots_ok = repeat("", "!", WEIR_EXPR_MAX_DEPTH - 1, "1");
    char *nots_bad = repeat("", "!", 5000, "1");
    char *arrays_bad = repeat("", "[", 4000, "");
    char *calls_bad = repeat("", "length(", 500, "");
    char *index_bad = repeat("a", "[a", 1000, "");
    size_t close = strlen(parens_ok);
    struct weir_expr *e;

    /* Close the parens that stay open. */
    parens_ok = realloc(parens_ok, close * 2 + 1);
    memset(parens_ok + close, ')', close - 1);
    parens_ok[close * 2 - 1] = '\0';
    e = compile_ok(parens_ok);
    weir_expr_free(e);
    e = compile_ok(nots_ok);
    weir_expr_free(e);
    /* The offset is that of the first token nested too deep. */
    compile_err(parens_bad, strlen(parens_bad), WEIR_EXPR_MAX_DEPTH,
                "expression nested deeper than 64 levels");
    compile_err(nots_bad, strlen(nots_bad), WEIR_EXPR_MAX_DEPTH - 1,
                "nested deeper than 64 levels");
    compile_err(arrays_bad, strlen(arrays_bad), WEIR_EXPR_MAX_DEPTH, "nested deeper");
    compile_err(calls_bad, strlen(calls_bad), 7 * WEIR_EXPR_MAX_DEPTH, "nested deeper");
    compile_err(index_bad, strlen(index_bad), 2 * WEIR_EXPR_MAX_DEPTH, "nested deeper");
    free(parens_ok);
    free(parens_bad);
    free(nots_ok);
    free(nots_bad);
    free(arrays_bad);
    free(calls_bad);
    free(index_bad);
}

static void test_long_chains_are_flat(void **state)
{
    /* Thousands of operands: neither the parser nor the evaluator recurse
     * per operand. */
    char *sum = repeat("1", "+1", 4000, "");
    char *cat = repeat("'a'", "+'a'", 2000, "");
    char *ands = repeat("1", "&&1", 2500, "");
    char *path = repeat("steps", ".a", 3000, "");
    struct weir_expr *e = compile_ok(sum);
    json_t *v;

    assert_int_equal(weir_expr_eval(e, scope, &v), WEIR_OK);
    assert_int_equal(json_integer_value(v), 4001);
    json_decref(v);
    weir_expr_free(e);
    e = compile_ok(cat);
    assert_int_equal(weir_expr_eval(e, scope, &v), WEIR_OK);
    assert_int_equal(json_string_length(v), 2001);
    json_decref(v);
    weir_expr_free(e);
    eval_ok(ands, "1");
    eval_ok(path, "null");
    free(sum);
    free(cat);
    free(ands);
    free(path);
}

static json_t *deep_value(int depth)
{
    json_t *v = json_integer(1);

    for (int i = 0; i < depth; i++) {
        json_t *a = json_array();
        json_array_append_new(a, v);
        v = a;
    }
    return v;
}

static void test_deep_scope_values(void **state)
{
    json_t *s = json_pack("{s:o, s:o, s:o}", "d1", deep_value(2000), "d2", deep_value(2000), "ok",
                          deep_value(100));
    const char *errs[] = { "d1 == d2", "tojson(d1)", "contains([d1], d2)", "'x' + d1",
                           "format('{0}', d1)" };
    struct weir_expr *e;
    json_t *v;

    for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
        e = compile_ok(errs[i]);
        if (weir_expr_eval(e, s, &v) != WEIR_EINVALID ||
            !strstr(weir_error_last(), "nested deeper than")) {
            fail_msg("[%s] should fail as too deep: %s", errs[i], weir_error_last());
        }
        weir_expr_free(e);
    }
    e = compile_ok("ok == ok && tojson(ok) != '' && d1 == d1");
    assert_int_equal(weir_expr_eval(e, s, &v), WEIR_OK);
    assert_true(json_is_true(v));
    json_decref(v);
    weir_expr_free(e);
    json_decref(s);
}

static void test_string_size_cap(void **state)
{
    char *big = malloc(1u << 20);
    json_t *s;
    struct weir_expr *e;
    json_t *v;
    char *src = repeat("b", "+b", 40, "");

    memset(big, 'x', 1u << 20);
    s = json_pack("{s:s%}", "b", big, (size_t)(1u << 20));
    e = compile_ok(src);
    assert_int_equal(weir_expr_eval(e, s, &v), WEIR_EINVALID);
    assert_non_null(strstr(weir_error_last(), "string result longer than 32 mib"));
    weir_expr_free(e);
    e = compile_ok(
        "format('{0}{0}{0}{0}{0}{0}{0}{0}{0}{0}{0}{0}{0}{0}{0}{0}{0}{0}{0}{0}{0}{0}{0}{0}{0}{0}{0}"
        "{0}{0}{0}{0}{0}{0}{0}', b)");
    assert_int_equal(weir_expr_eval(e, s, &v), WEIR_EINVALID);
    weir_expr_free(e);
    e = compile_ok("length(b + b)");
    assert_int_equal(weir_expr_eval(e, s, &v), WEIR_OK);
    assert_int_equal(json_integer_value(v), 2 << 20);
    json_decref(v);
    weir_expr_free(e);
    json_decref(s);
    free(big);
    free(src);
}

/* ------------------------------------------------------------------ */
/* evaluation errors and references                                    */

static void test_eval_error_has_source(void **state)
{
    eval_err("  params.n < 'x'  ", "${{ params.n < 'x' }}: cannot compare number with string");
    eval_err("length(\n  params.n\n)", "${{ length(   params.n ) }}: length() needs");
    eval_err("[length(1)]", "${{ [length(1)] }}: length()");
}

struct refs_seen {
    char text[1024];
    int stop_at;
    int calls;
};

static int collect_ref(const struct weir_expr_ref *ref, void *payload)
{
    struct refs_seen *seen = payload;
    size_t n = strlen(seen->text);

    n += (size_t)snprintf(seen->text + n, sizeof(seen->text) - n, "%s@%zu", ref->root, ref->offset);
    for (size_t i = 0; i < ref->npath; i++) {
        n += (size_t)snprintf(seen->text + n, sizeof(seen->text) - n, "/%s", ref->path[i]);
    }
    snprintf(seen->text + n, sizeof(seen->text) - n, ";");
    return ++seen->calls == seen->stop_at ? 42 : 0;
}

static void refs_are(const char *src, const char *want)
{
    struct weir_expr *e = compile_ok(src);
    struct refs_seen seen = { .stop_at = -1 };

    assert_int_equal(weir_expr_foreach_ref(e, collect_ref, &seen), 0);
    if (strcmp(seen.text, want)) {
        fail_msg("refs of [%s]:\n  got:  %s\n  want: %s", src, seen.text, want);
    }
    weir_expr_free(e);
}

static void test_foreach_ref(void **state)
{
    refs_are("params.table", "params@0/table;");
    refs_are("steps.a.output['x'] + 1", "steps@0/a/output/x;");
    refs_are("steps[params.k].output", "steps@0;params@6/k;");
    refs_are("run.x[0].y[-1]", "run@0/x/0/y/-1;");
    refs_are("steps.a.output.rows[params.n].id", "steps@0/a/output/rows;params@20/n;");
    refs_are("length(env.HOME) > 0 && item", "env@7/HOME;item@24;");
    refs_are("fromjson('1').z + format('{0}', x)", "x@32;");
    refs_are("true || null || false || 1", "");
    refs_are("a[1.5].b", "a@0;");
    refs_are("a[true].b", "a@0;");
    refs_are("(a).b", "a@1/b;");
    refs_are("(a.b).c", "a@1/b;");
    refs_are("a.null.true", "a@0/null/true;");
    refs_are("a['x/y']", "a@0/x/y;");
    refs_are("[a, b][0]", "a@1;b@4;");
}

static void test_foreach_ref_stops(void **state)
{
    struct weir_expr *e = compile_ok("a + b + c");
    struct refs_seen seen = { .stop_at = 2 };

    assert_int_equal(weir_expr_foreach_ref(e, collect_ref, &seen), 42);
    assert_int_equal(seen.calls, 2);
    assert_string_equal(seen.text, "a@0;b@4;");
    weir_expr_free(e);
}

static void test_compiled_expr_is_reusable(void **state)
{
    struct weir_expr *e = compile_ok("params.n + 1");
    json_t *other = json_pack("{s:{s:i}}", "params", "n", 10);
    json_t *v;

    for (int i = 0; i < 3; i++) {
        assert_int_equal(weir_expr_eval(e, scope, &v), WEIR_OK);
        assert_int_equal(json_integer_value(v), 4);
        json_decref(v);
        assert_int_equal(weir_expr_eval(e, other, &v), WEIR_OK);
        assert_int_equal(json_integer_value(v), 11);
        json_decref(v);
    }
    json_decref(other);
    weir_expr_free(e);
    weir_expr_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_literals),
        cmocka_unit_test(test_integer_literal_overflow_becomes_real),
        cmocka_unit_test(test_number_types_kept),
        cmocka_unit_test(test_string_escapes),
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_missing_paths_are_null),
        cmocka_unit_test(test_scope_null_or_not_object),
        cmocka_unit_test(test_path_returns_scope_value_without_copy),
        cmocka_unit_test(test_not),
        cmocka_unit_test(test_negation),
        cmocka_unit_test(test_add),
        cmocka_unit_test(test_and_or_yield_operands),
        cmocka_unit_test(test_short_circuit),
        cmocka_unit_test(test_truthiness),
        cmocka_unit_test(test_equality),
        cmocka_unit_test(test_comparisons),
        cmocka_unit_test(test_precedence),
        cmocka_unit_test(test_fn_length),
        cmocka_unit_test(test_fn_contains),
        cmocka_unit_test(test_fn_startswith_endswith),
        cmocka_unit_test(test_fn_format),
        cmocka_unit_test(test_fn_join),
        cmocka_unit_test(test_fn_tojson),
        cmocka_unit_test(test_fn_fromjson),
        cmocka_unit_test(test_fn_fromjson_depth_limit),
        cmocka_unit_test(test_fn_default),
        cmocka_unit_test(test_fn_lower_upper),
        cmocka_unit_test(test_fn_keys),
        cmocka_unit_test(test_compile_errors_syntax),
        cmocka_unit_test(test_compile_errors_literals),
        cmocka_unit_test(test_compile_errors_functions),
        cmocka_unit_test(test_output_untouched_on_error),
        cmocka_unit_test(test_length_limit),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_long_chains_are_flat),
        cmocka_unit_test(test_deep_scope_values),
        cmocka_unit_test(test_string_size_cap),
        cmocka_unit_test(test_eval_error_has_source),
        cmocka_unit_test(test_foreach_ref),
        cmocka_unit_test(test_foreach_ref_stops),
        cmocka_unit_test(test_compiled_expr_is_reusable),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
