/* test_tmpl.c - templates: JSON values with ${{ }} inside strings. */
#include "testutil.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "expr.h"

struct case_ {
    const char *tmpl; /* JSON text of the template */
    const char *want; /* JSON text of the result */
};

static json_t *scope;

static int setup(void **state)
{
    scope = json_loads(
        "{\"params\": {\"table\": \"db.t\", \"n\": 3, \"f\": 1.5, \"nul\": null, \"t\": true,"
        "  \"obj\": {\"b\": [1, 2], \"a\": \"x\"}, \"list\": [1, \"two\"], \"empty\": \"\"},"
        " \"steps\": {\"a\": {\"output\": {\"x\": 42, \"rows\": [{\"id\": 7}]}}}}",
        0, NULL);
    return scope ? 0 : -1;
}

static int teardown(void **state)
{
    json_decref(scope);
    return 0;
}

static json_t *parse(const char *text)
{
    json_error_t err;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &err);

    if (!v) {
        fail_msg("bad test JSON %s: %s", text, err.text);
    }
    return v;
}

static struct weir_tmpl *compile_ok(const char *text)
{
    json_t *v = parse(text);
    struct weir_tmpl *t = NULL;
    struct weir_tmpl_error err = { "", 0 };

    if (weir_tmpl_compile(v, &t, &err) != WEIR_OK) {
        fail_msg("compiling %s: unexpected error at %s+%zu: %s", text, err.path, err.offset,
                 weir_error_last());
    }
    json_decref(v);
    assert_non_null(t);
    return t;
}

static json_t *eval_ok(const struct weir_tmpl *t)
{
    json_t *out = NULL;

    if (weir_tmpl_eval(t, scope, &out) != WEIR_OK) {
        fail_msg("unexpected evaluation error: %s", weir_error_last());
    }
    assert_non_null(out);
    return out;
}

static void check(const char *tmpl, const char *want)
{
    struct weir_tmpl *t = compile_ok(tmpl);
    json_t *out = eval_ok(t);

    tu_assert_json(out, want);
    json_decref(out);
    weir_tmpl_free(t);
}

static void compile_err(const json_t *v, const char *path, size_t offset, const char *msg)
{
    struct weir_tmpl *t = (struct weir_tmpl *)1;
    struct weir_tmpl_error err;

    memset(&err, 'x', sizeof(err));
    weir_error_clear();
    assert_int_equal(weir_tmpl_compile(v, &t, &err), WEIR_EINVALID);
    assert_null(t);
    if (strcmp(err.path, path) || err.offset != offset || !strstr(weir_error_last(), msg)) {
        fail_msg("error at '%s'+%zu (%s), want '%s'+%zu (%s)", err.path, err.offset,
                 weir_error_last(), path, offset, msg);
    }
}

static void compile_err_text(const char *text, const char *path, size_t offset, const char *msg)
{
    json_t *v = parse(text);

    compile_err(v, path, offset, msg);
    json_decref(v);
}

#define RUN(cases)                                                     \
    for (size_t i_ = 0; i_ < sizeof(cases) / sizeof(cases[0]); i_++) { \
        check(cases[i_].tmpl, cases[i_].want);                         \
    }

static void test_constant_values(void **state)
{
    static const struct case_ cases[] = {
        { "5", "5" },
        { "true", "true" },
        { "null", "null" },
        { "\"plain\"", "\"plain\"" },
        { "\"\"", "\"\"" },
        { "{\"a\": [1, \"x\", {\"b\": null}]}", "{\"a\": [1, \"x\", {\"b\": null}]}" },
        { "\"$ and $$ and ${ and ${ {\"", "\"$ and $$ and ${ and ${ {\"" },
        { "\"}} alone\"", "\"}} alone\"" },
    };

    RUN(cases);
}

static void test_is_constant(void **state)
{
    const char *yes[] = {
        "5", "\"x\"", "{\"a\": [1, {\"b\": \"c\"}]}", "\"$${{ x }}\"", "[]", "{}"
    };
    const char *no[] = { "\"${{ 1 }}\"", "[1, \"a${{ 1 }}\"]",
                         "{\"a\": {\"b\": [\"${{ params.n }}\"]}}" };

    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        struct weir_tmpl *t = compile_ok(yes[i]);
        if (!weir_tmpl_is_constant(t)) {
            fail_msg("%s should be constant", yes[i]);
        }
        weir_tmpl_free(t);
    }
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
        struct weir_tmpl *t = compile_ok(no[i]);
        if (weir_tmpl_is_constant(t)) {
            fail_msg("%s should not be constant", no[i]);
        }
        weir_tmpl_free(t);
    }
    assert_false(weir_tmpl_is_constant(NULL));
}

static void test_constant_eval_is_a_copy(void **state)
{
    json_t *src = parse("{\"a\": [1, {\"b\": \"c\"}]}");
    struct weir_tmpl *t = NULL;
    json_t *out, *again;

    assert_int_equal(weir_tmpl_compile(src, &t, NULL), WEIR_OK);
    /* Changing the source after compiling does not change the template. */
    json_object_set_new(src, "a", json_null());
    out = eval_ok(t);
    assert_ptr_not_equal(out, src);
    json_object_set_new(out, "mutated", json_true());
    again = eval_ok(t);
    tu_assert_json(again, "{\"a\": [1, {\"b\": \"c\"}]}");
    json_decref(out);
    json_decref(again);
    json_decref(src);
    weir_tmpl_free(t);
}

static void test_whole_value_keeps_type(void **state)
{
    static const struct case_ cases[] = {
        { "\"${{ params.n }}\"", "3" },
        { "\"${{params.n}}\"", "3" },
        { "\"${{ \\n params.n \\t }}\"", "3" },
        { "\"${{ params.f }}\"", "1.5" },
        { "\"${{ params.obj }}\"", "{\"a\": \"x\", \"b\": [1, 2]}" },
        { "\"${{ params.list }}\"", "[1, \"two\"]" },
        { "\"${{ params.nul }}\"", "null" },
        { "\"${{ params.missing }}\"", "null" },
        { "\"${{ params.t }}\"", "true" },
        { "\"${{ params.n > 2 }}\"", "true" },
        { "\"${{ params.table }}\"", "\"db.t\"" },
        { "\"${{ '}}' }}\"", "\"}}\"" },
        { "\"${{ steps.a.output.rows[0] }}\"", "{\"id\": 7}" },
    };

    RUN(cases);
}

static void test_whole_value_integer_type(void **state)
{
    struct weir_tmpl *t = compile_ok("\"${{ params.n }}\"");
    json_t *out = eval_ok(t);

    assert_true(json_is_integer(out));
    assert_int_equal(json_integer_value(out), 3);
    json_decref(out);
    weir_tmpl_free(t);
}

static void test_interpolation(void **state)
{
    static const struct case_ cases[] = {
        { "\"n=${{ params.n }}\"", "\"n=3\"" },
        { "\"${{ params.n }} items\"", "\"3 items\"" },
        { "\" ${{ params.n }}\"", "\" 3\"" },
        { "\"${{ params.n }} \"", "\"3 \"" },
        { "\"x=${{ params.nul }}!\"", "\"x=!\"" },
        { "\"f=${{ params.f }}\"", "\"f=1.5\"" },
        { "\"t=${{ params.t }}\"", "\"t=true\"" },
        { "\"o=${{ params.obj }}\"", "\"o={\\\"a\\\":\\\"x\\\",\\\"b\\\":[1,2]}\"" },
        { "\"l=${{ params.list }}\"", "\"l=[1,\\\"two\\\"]\"" },
        { "\"${{ 'a' }}${{ 'b' }}\"", "\"ab\"" },
        { "\"${{ params.n }}${{ params.n }}\"", "\"33\"" },
        { "\"select * from ${{ params.table }} limit ${{ params.n }}\"",
          "\"select * from db.t limit 3\"" },
        { "\"x${{ 'a}}b' }}y\"", "\"xa}}by\"" },
        { "\"${{ \\\"q}}\\\" }}!\"", "\"q}}!\"" },
        { "\"h\\u00e9 ${{ 'w\\u00f6rld' }}\"", "\"h\\u00e9 w\\u00f6rld\"" },
        { "\"[${{ params.empty }}]\"", "\"[]\"" },
        { "\"$${{ x }} ${{ params.n }}\"", "\"${{ x }} 3\"" },
        { "\"$${{ x }}\"", "\"${{ x }}\"" },
        { "\"a $${{ b }} c\"", "\"a ${{ b }} c\"" },
        /* Escapes are read left to right: "$" then "$${{". */
        { "\"$$${{ params.n }}\"", "\"$${{ params.n }}\"" },
        { "\"cost: $${{ 5\"", "\"cost: ${{ 5\"" },
        { "\"$${{\"", "\"${{\"" },
    };

    RUN(cases);
}

static void test_nested_structures(void **state)
{
    static const struct case_ cases[] = {
        { "{\"table\": \"${{ params.table }}\", \"cols\": [\"${{ params.n }}\", \"lit\"], \"k\": "
          "5}",
          "{\"table\": \"db.t\", \"cols\": [3, \"lit\"], \"k\": 5}" },
        { "[[[\"${{ params.list[1] }}\"]], {\"a\": {\"b\": \"n=${{ params.n }}\"}}]",
          "[[[\"two\"]], {\"a\": {\"b\": \"n=3\"}}]" },
        { "{\"context\": {\"schema\": \"${{ steps.a.output }}\", \"keep\": {\"x\": [1, 2]}}}",
          "{\"context\": {\"schema\": {\"x\": 42, \"rows\": [{\"id\": 7}]}, \"keep\": {\"x\": [1, "
          "2]}}}" },
        { "{\"${{ params.n }}\": \"${{ params.n }}\"}", "{\"${{ params.n }}\": 3}" },
    };

    RUN(cases);
}

static void test_object_key_order_kept(void **state)
{
    struct weir_tmpl *t =
        compile_ok("{\"z\": \"${{ params.n }}\", \"a\": 1, \"m\": \"${{ params.f }}\"}");
    json_t *out = eval_ok(t);
    char *text = json_dumps(out, JSON_COMPACT);

    assert_string_equal(text, "{\"z\":3,\"a\":1,\"m\":1.5}");
    free(text);
    json_decref(out);
    weir_tmpl_free(t);
}

static void test_compile_errors(void **state)
{
    compile_err_text("\"${{ params.n\"", "", 0,
                     "unterminated '${{'; close the expression with '}}'");
    compile_err_text("\"abc ${{ x\"", "", 4, "unterminated '${{'");
    compile_err_text("\"${{ x }} ${{\"", "", 9, "unterminated '${{'");
    compile_err_text("\"${{}}\"", "", 3, "empty expression");
    compile_err_text("\"${{ lenght(x) }}\"", "", 4, "unknown function 'lenght'");
    compile_err_text("\"n=${{ (1 }}\"", "", 9, "expected ')' to close '('");
    compile_err_text("\"${{ 'abc }}\"", "", 4, "unterminated string in expression");
    compile_err_text("\"a ${{ 1 < 2 < 3 }}\"", "", 12, "comparisons do not chain");
}

static void test_compile_error_paths(void **state)
{
    compile_err_text("{\"a\": [1, {\"b\": \"x ${{ 1 + }}\"}]}", "/a/1/b", 10, "expected a value");
    compile_err_text("{\"a~b/c\": [\"${{ = }}\"]}", "/a~0b~1c/0", 4, "'=' is not an operator");
    compile_err_text("[\"ok ${{ params.n }}\", \"${{ \"]", "/1", 0, "unterminated");
    compile_err_text("{\"\": {\"\": \"${{ ) }}\"}}", "//", 4, "found ')'");
    compile_err_text("{\"with\": {\"q\": \"ok\", \"r\": [\"${{ nope( }}\"]}}", "/with/r/0", 4,
                     "unknown function");
}

/* A pointer longer than err->path is not cut in the middle of a key: the
 * error names the root, which contains the offending string. */
static void test_long_error_path_falls_back_to_root(void **state)
{
    char key[300];
    json_t *v;

    memset(key, '~', sizeof(key) - 1);
    key[sizeof(key) - 1] = '\0';
    v = json_pack("{s:{s:[s]}}", "value", key, "${{ ( }}");
    compile_err(v, "", 6, "expected a value");
    json_decref(v);
    /* Just fitting: 200 '~' become 400 bytes, too long; 100 fit. */
    key[100] = '\0';
    v = json_pack("{s:{s:[i, s]}}", "value", key, 1, "${{ ( }}");
    {
        char want[300] = "/value/";
        for (int i = 0; i < 100; i++) {
            strcat(want, "~0");
        }
        strcat(want, "/1");
        compile_err(v, want, 6, "expected a value");
    }
    json_decref(v);
    /* A later sibling after an overlong key gets its full pointer again. */
    key[100] = '~';
    v = json_pack("{s:s, s:s}", key, "ok", "b", "${{ ) }}");
    compile_err(v, "/b", 4, "found ')'");
    json_decref(v);
}

static void test_depth_limit(void **state)
{
    json_t *v = json_string("${{ params.n }}");
    struct weir_tmpl *t = NULL;
    struct weir_tmpl_error err;

    for (int i = 0; i < 300; i++) {
        json_t *a = json_array();
        json_array_append_new(a, v);
        v = a;
    }
    assert_int_equal(weir_tmpl_compile(v, &t, &err), WEIR_EINVALID);
    assert_non_null(strstr(weir_error_last(), "nested too deeply"));
    assert_null(t);
    json_decref(v);
}

static void test_eval_error_has_expression(void **state)
{
    struct weir_tmpl *t = compile_ok("{\"a\": [\"x ${{ params.n < 'a' }}\"]}");
    json_t *out = (json_t *)1;

    assert_int_equal(weir_tmpl_eval(t, scope, &out), WEIR_EINVALID);
    assert_null(out);
    assert_non_null(
        strstr(weir_error_last(), "${{ params.n < 'a' }}: cannot compare number with string"));
    weir_tmpl_free(t);
    t = compile_ok("\"${{ length(1) }}\"");
    assert_int_equal(weir_tmpl_eval(t, scope, &out), WEIR_EINVALID);
    assert_non_null(strstr(weir_error_last(), "${{ length(1) }}: length()"));
    weir_tmpl_free(t);
}

static void test_bad_arguments(void **state)
{
    struct weir_tmpl *t = (struct weir_tmpl *)1;
    json_t *out;

    assert_int_equal(weir_tmpl_compile(NULL, &t, NULL), WEIR_EINVALID);
    assert_int_equal(weir_tmpl_eval(NULL, scope, &out), WEIR_EINVALID);
    assert_int_equal(weir_tmpl_foreach_ref(NULL, NULL, NULL), 0);
    weir_tmpl_free(NULL);
}

struct seen {
    char text[512];
    int calls, stop_at;
};

static int collect(const struct weir_expr_ref *ref, void *payload)
{
    struct seen *s = payload;
    size_t n = strlen(s->text);

    n += (size_t)snprintf(s->text + n, sizeof(s->text) - n, "%s@%zu", ref->root, ref->offset);
    for (size_t i = 0; i < ref->npath; i++) {
        n += (size_t)snprintf(s->text + n, sizeof(s->text) - n, "/%s", ref->path[i]);
    }
    snprintf(s->text + n, sizeof(s->text) - n, ";");
    return ++s->calls == s->stop_at ? 7 : 0;
}

static void test_foreach_ref(void **state)
{
    struct weir_tmpl *t = compile_ok(
        "{\"a\": \"${{ params.table }}\", \"b\": [\"x ${{ steps.a.output.x }} "
        "${{ env.HOME }}\", 5, \"$${{ not.a.ref }}\"], \"c\": {\"d\": \"${{ run.id + item }}\"}}");
    struct seen s = { .stop_at = -1 };

    assert_int_equal(weir_tmpl_foreach_ref(t, collect, &s), 0);
    /* Offsets are within the string that holds the expression. */
    assert_string_equal(s.text, "params@4/table;steps@6/a/output/x;env@30/HOME;run@4/id;item@13;");
    memset(&s, 0, sizeof(s));
    s.stop_at = 3;
    assert_int_equal(weir_tmpl_foreach_ref(t, collect, &s), 7);
    assert_int_equal(s.calls, 3);
    weir_tmpl_free(t);
    t = compile_ok("[1, \"plain\"]");
    memset(&s, 0, sizeof(s));
    assert_int_equal(weir_tmpl_foreach_ref(t, collect, &s), 0);
    assert_int_equal(s.calls, 0);
    weir_tmpl_free(t);
}

static void test_interpolation_of_each_type(void **state)
{
    static const struct case_ cases[] = {
        { "\"[${{ null }}]\"", "\"[]\"" },
        { "\"[${{ 0 }}]\"", "\"[0]\"" },
        { "\"[${{ -2.5 }}]\"", "\"[-2.5]\"" },
        { "\"[${{ 0.1 }}]\"", "\"[0.1]\"" },
        { "\"[${{ 2.0 }}]\"", "\"[2.0]\"" },
        { "\"[${{ false }}]\"", "\"[false]\"" },
        { "\"[${{ '' }}]\"", "\"[]\"" },
        { "\"[${{ [] }}]\"", "\"[[]]\"" },
        { "\"[${{ fromjson('{}') }}]\"", "\"[{}]\"" },
        { "\"[${{ fromjson('{\\\"b\\\": 1, \\\"a\\\": null}') }}]\"",
          "\"[{\\\"a\\\":null,\\\"b\\\":1}]\"" },
        { "\"[${{ 'line\\nbreak' }}]\"", "\"[line\\nbreak]\"" },
    };

    RUN(cases);
}

static void test_reusable_across_scopes(void **state)
{
    struct weir_tmpl *t = compile_ok("{\"n\": \"${{ params.n }}\", \"s\": \"n=${{ params.n }}\"}");
    json_t *other = json_pack("{s:{s:s}}", "params", "n", "seven");
    json_t *out;

    for (int i = 0; i < 3; i++) {
        out = eval_ok(t);
        tu_assert_json(out, "{\"n\": 3, \"s\": \"n=3\"}");
        json_decref(out);
        assert_int_equal(weir_tmpl_eval(t, other, &out), WEIR_OK);
        tu_assert_json(out, "{\"n\": \"seven\", \"s\": \"n=seven\"}");
        json_decref(out);
        assert_int_equal(weir_tmpl_eval(t, NULL, &out), WEIR_OK);
        tu_assert_json(out, "{\"n\": null, \"s\": \"n=\"}");
        json_decref(out);
    }
    json_decref(other);
    weir_tmpl_free(t);
}

struct worker {
    const struct weir_tmpl *t;
    int bad;
};

static void *worker_run(void *arg)
{
    struct worker *w = arg;

    for (int i = 0; i < 5000; i++) {
        json_t *out = NULL;
        if (weir_tmpl_eval(w->t, scope, &out) != WEIR_OK ||
            json_integer_value(json_object_get(out, "x")) != 42 ||
            strcmp(json_string_value(json_object_get(out, "s")), "db.t/3") != 0) {
            w->bad++;
        }
        json_decref(out);
    }
    return NULL;
}

/* Steps run in parallel and share compiled templates and the scope. */
static void test_parallel_eval(void **state)
{
    struct weir_tmpl *t = compile_ok(
        "{\"x\": \"${{ steps.a.output.x }}\", \"s\": \"${{ params.table }}/${{ params.n }}\","
        " \"c\": [1, \"${{ 'k' }}\"]}");
    pthread_t th[4];
    struct worker w[4];

    for (int i = 0; i < 4; i++) {
        w[i] = (struct worker){ .t = t };
        assert_int_equal(pthread_create(&th[i], NULL, worker_run, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(w[i].bad, 0);
    }
    weir_tmpl_free(t);
}

static double now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* The runtime evaluates templates for every step: a path template must
 * stay cheap. The bound is loose enough for sanitizer builds. */
static void test_eval_speed(void **state)
{
    struct weir_tmpl *t = compile_ok("\"${{ steps.a.output.x }}\"");
    struct weir_tmpl *w = compile_ok(
        "{\"table\": \"${{ params.table }}\", \"limit\": \"n=${{ params.n }}\", \"k\": 1}");
    const int n = 100000;
    double start = now_us(), simple, with;

    for (int i = 0; i < n; i++) {
        json_t *out;
        weir_tmpl_eval(t, scope, &out);
        json_decref(out);
    }
    simple = (now_us() - start) / n;
    start = now_us();
    for (int i = 0; i < n; i++) {
        json_t *out;
        weir_tmpl_eval(w, scope, &out);
        json_decref(out);
    }
    with = (now_us() - start) / n;
    print_message("template eval: %.3f us (path), %.3f us (object of 3)\n", simple, with);
    assert_true(simple < 5.0);
    assert_true(with < 25.0);
    weir_tmpl_free(t);
    weir_tmpl_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_constant_values),
        cmocka_unit_test(test_is_constant),
        cmocka_unit_test(test_constant_eval_is_a_copy),
        cmocka_unit_test(test_whole_value_keeps_type),
        cmocka_unit_test(test_whole_value_integer_type),
        cmocka_unit_test(test_interpolation),
        cmocka_unit_test(test_nested_structures),
        cmocka_unit_test(test_object_key_order_kept),
        cmocka_unit_test(test_compile_errors),
        cmocka_unit_test(test_compile_error_paths),
        cmocka_unit_test(test_long_error_path_falls_back_to_root),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_eval_error_has_expression),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_foreach_ref),
        cmocka_unit_test(test_interpolation_of_each_type),
        cmocka_unit_test(test_reusable_across_scopes),
        cmocka_unit_test(test_parallel_eval),
        cmocka_unit_test(test_eval_speed),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
