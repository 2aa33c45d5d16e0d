/*
 * test_core_plugin.c - the core plugin (plugins/core), loaded from the built
 * core.so and driven one step at a time: input checked against the step's
 * params, then its run callback called directly. Most tests pass ctx NULL,
 * which every core step accepts; a few build a weir_ctx by hand to cover
 * deadlines, cancellation and the project directory. Pipeline-level tests
 * of core.* live in tests/runtime.
 */
#include "testutil.h"

#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctx.h"
#include "error.h"
#include "plugins.h"

#define assert_contains(haystack, needle)                                                     \
    do {                                                                                      \
        if (!strstr((haystack), (needle))) {                                                  \
            fail_msg("\"%s\"\n  does not contain \"%s\"", (haystack), (needle));              \
        }                                                                                     \
    } while (0)

static struct weir_plugins *plugins;
static char *tmp;

static int group_setup(void **state)
{
    char *path = NULL;

    (void)state;
    if (weir_plugins_new(&plugins) != WEIR_OK ||
        asprintf(&path, "%s/core.so", tu_env("WEIR_PLUGIN_DIR")) < 0) {
        return -1;
    }
    if (weir_plugins_load_file(plugins, path) != WEIR_OK) {
        fprintf(stderr, "loading core.so: %s\n", weir_error_last());
        free(path);
        return -1;
    }
    free(path);
    tmp = tu_mkdtemp();
    return tmp ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    weir_plugins_free(plugins);
    tu_rmtree(tmp);
    free(tmp);
    return 0;
}

/* Runs core.<step> with `with` given as JSON text, the way the runner does:
 * params checked and defaulted first. *out is NULL unless the step succeeds. */
static int run_ctx(const char *step, const char *with_text, json_t **out, struct weir_ctx *ctx)
{
    const struct weir_step_def *def = weir_plugins_find_step(plugins, "core", step);
    json_error_t jerr;
    json_t *with = json_loads(with_text, 0, &jerr);
    json_t *input = NULL, *result = NULL;
    int rc;

    assert_non_null(def);
    if (!with) {
        fail_msg("bad test JSON %s: %s", with_text, jerr.text);
    }
    *out = NULL;
    rc = weir_step_input_check(def, with, &input);
    json_decref(with);
    if (rc < 0) {
        return rc;
    }
    weir_error_clear();
    rc = def->run(input, &result, (weir_ctx *)ctx, def->payload);
    json_decref(input);
    if (rc < 0) {
        assert_true(*weir_error_last() != '\0');
        json_decref(result);
        return rc;
    }
    *out = result ? result : json_null();
    return rc;
}

static int run(const char *step, const char *with_text, json_t **out)
{
    return run_ctx(step, with_text, out, NULL);
}

/* Runs a step that must succeed and compares its output. */
static void expect_output(const char *step, const char *with_text, const char *want)
{
    json_t *out = NULL;
    int rc = run(step, with_text, &out);

    if (rc != WEIR_OK) {
        fail_msg("core.%s %s: %d %s", step, with_text, rc, weir_error_last());
    }
    tu_assert_json(out, want);
    json_decref(out);
}

/* Runs a step that must fail with code and a message containing fragment. */
static void expect_error(const char *step, const char *with_text, int code, const char *fragment)
{
    json_t *out = NULL;

    assert_int_equal(run(step, with_text, &out), code);
    assert_null(out);
    assert_contains(weir_error_last(), fragment);
}

static const char *out_string(const json_t *out, const char *key)
{
    const char *s = json_string_value(json_object_get(out, key));

    assert_non_null(s);
    return s;
}

/* Runs core.shell, which must succeed with exit code 0, and compares its stdout. */
static void expect_stdout(const char *with_text, const char *want)
{
    json_t *out = NULL;
    int rc = run("shell", with_text, &out);

    if (rc != WEIR_OK) {
        fail_msg("core.shell %s: %d %s", with_text, rc, weir_error_last());
    }
    assert_int_equal(json_integer_value(json_object_get(out, "exit_code")), 0);
    assert_string_equal(out_string(out, "stdout"), want);
    assert_string_equal(out_string(out, "stderr"), "");
    assert_true(json_is_false(json_object_get(out, "truncated")));
    json_decref(out);
}

/* ---- describe ------------------------------------------------------------------ */

static void test_core__describe(void **state)
{
    static const char *const names[] = { "echo", "fail", "flaky", "sleep", "shell",
                                         "json_read", "json_write", "log" };
    const struct weir_plugin_rec *rec = weir_plugins_find(plugins, "core");

    (void)state;
    assert_non_null(rec);
    assert_int_equal(rec->error_code, WEIR_OK);
    assert_string_equal(rec->version, "0.1.0");
    assert_non_null(rec->description);
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const struct weir_step_def *def = weir_plugins_find_step(plugins, "core", names[i]);
        assert_non_null(def);
        assert_null(def->service);
        assert_true(def->description && *def->description);
        for (size_t j = 0; j < def->nparams; j++) {
            assert_true(def->params[j].description && *def->params[j].description);
        }
    }
    assert_int_equal(weir_plugins_step_count(plugins), 8);
}

/* ---- echo, fail, flaky, sleep, log ------------------------------------------------ */

static void test_core__echo(void **state)
{
    (void)state;
    expect_output("echo", "{\"value\": {\"a\": [1, 2.5, \"x\"], \"b\": null}}",
                  "{\"a\": [1, 2.5, \"x\"], \"b\": null}");
    expect_output("echo", "{\"value\": 7}", "7");
    expect_output("echo", "{}", "null");
    expect_error("echo", "{\"other\": 1}", WEIR_EINVALID, "unknown param 'other'");
}

static void test_core__fail(void **state)
{
    (void)state;
    expect_error("fail", "{}", WEIR_ERROR, "core.fail was asked to fail");
    expect_error("fail", "{\"message\": \"boom\", \"code\": \"invalid\"}", WEIR_EINVALID, "boom");
    expect_error("fail", "{\"code\": \"timeout\"}", WEIR_ETIMEOUT, "core.fail was asked to fail");
    expect_error("fail", "{\"code\": \"nope\"}", WEIR_EINVALID,
                 "param 'code' must be error, invalid or timeout, got 'nope'");
}

static void test_core__flaky_counts_attempts(void **state)
{
    (void)state;
    expect_error("flaky", "{\"failures\": 2, \"key\": \"a\"}", WEIR_ERROR, "attempt 1 fails on purpose");
    expect_error("flaky", "{\"failures\": 2, \"key\": \"a\"}", WEIR_ERROR, "attempt 2 fails on purpose");
    expect_output("flaky", "{\"failures\": 2, \"key\": \"a\"}", "{\"attempt\": 3}");
    expect_output("flaky", "{\"failures\": 2, \"key\": \"a\"}", "{\"attempt\": 4}");
    /* another key has its own counter */
    expect_output("flaky", "{\"failures\": 0, \"key\": \"b\"}", "{\"attempt\": 1}");
    expect_error("flaky", "{\"key\": \"c\"}", WEIR_ERROR, "attempt 1 fails on purpose (failures: 1");
    expect_output("flaky", "{\"key\": \"c\"}", "{\"attempt\": 2}");
}

static void test_core__flaky_keys_by_run_and_step(void **state)
{
    struct weir_ctx r1 = { .run_id = "run-1", .step_id = "s" };
    struct weir_ctx r2 = { .run_id = "run-2", .step_id = "s" };
    json_t *out = NULL;

    (void)state;
    assert_int_equal(run_ctx("flaky", "{\"failures\": 0}", &out, &r1), WEIR_OK);
    tu_assert_json(out, "{\"attempt\": 1}");
    json_decref(out);
    assert_int_equal(run_ctx("flaky", "{\"failures\": 0}", &out, &r2), WEIR_OK);
    tu_assert_json(out, "{\"attempt\": 1}");
    json_decref(out);
    assert_int_equal(run_ctx("flaky", "{\"failures\": 0}", &out, &r1), WEIR_OK);
    tu_assert_json(out, "{\"attempt\": 2}");
    json_decref(out);
}

struct flaky_thread {
    int attempts[50];
};

static void *flaky_worker(void *arg)
{
    struct flaky_thread *t = arg;

    for (int i = 0; i < 50; i++) {
        json_t *out = NULL;
        if (run("flaky", "{\"failures\": 0, \"key\": \"threads\"}", &out) == WEIR_OK) {
            t->attempts[i] = (int)json_integer_value(json_object_get(out, "attempt"));
        }
        json_decref(out);
    }
    return NULL;
}

/* Concurrent attempts of one key get distinct numbers: the table is locked. */
static void test_core__flaky_threads(void **state)
{
    struct flaky_thread t[4];
    pthread_t tid[4];
    char seen[201] = { 0 };

    (void)state;
    memset(t, 0, sizeof(t));
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pthread_create(&tid[i], NULL, flaky_worker, &t[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(tid[i], NULL);
    }
    for (int i = 0; i < 4; i++) {
        for (int j = 0; j < 50; j++) {
            int a = t[i].attempts[j];
            assert_true(a >= 1 && a <= 200);
            assert_false(seen[a]);
            seen[a] = 1;
        }
    }
}

static void test_core__sleep(void **state)
{
    int64_t start = tu_now_ms();

    (void)state;
    expect_output("sleep", "{\"ms\": 35}", "{\"slept_ms\": 35}");
    assert_true(tu_now_ms() - start >= 35);
    expect_output("sleep", "{\"ms\": 0}", "{\"slept_ms\": 0}");
    expect_error("sleep", "{\"ms\": -1}", WEIR_EINVALID, "param 'ms' must be an integer from 0");
    expect_error("sleep", "{}", WEIR_EINVALID, "missing required param 'ms'");
}

static void test_core__sleep_stops_at_deadline(void **state)
{
    struct weir_ctx ctx = { .run_id = "r", .step_id = "nap", .deadline_ms = tu_now_ms() + 60 };
    int64_t start = tu_now_ms();
    json_t *out = NULL;

    (void)state;
    assert_int_equal(run_ctx("sleep", "{\"ms\": 5000}", &out, &ctx), WEIR_ETIMEOUT);
    assert_true(tu_now_ms() - start < 1000);
}

static void test_core__sleep_stops_when_cancelled(void **state)
{
    atomic_int cancel = 1;
    struct weir_ctx ctx = { .run_id = "r", .step_id = "nap", .cancel = &cancel };
    json_t *out = NULL;

    (void)state;
    assert_int_equal(run_ctx("sleep", "{\"ms\": 5000}", &out, &ctx), WEIR_ECANCELLED);
}

static void test_core__log(void **state)
{
    (void)state;
    expect_output("log", "{\"message\": \"core.log test line\", \"level\": \"warn\"}", "null");
    expect_output("log", "{\"message\": \"core.log default level\"}", "null");
    expect_error("log", "{\"message\": \"x\", \"level\": \"loud\"}", WEIR_EINVALID,
                 "param 'level' must be debug, info, warn or error, got 'loud'");
    expect_error("log", "{}", WEIR_EINVALID, "missing required param 'message'");
}

/* ---- json_read / json_write ------------------------------------------------------ */

static char *path_in_tmp(const char *name)
{
    char *path = NULL;

    assert_true(asprintf(&path, "%s/%s", tmp, name) > 0);
    return path;
}

static json_t *write_json(const char *path, const char *value, const char *pretty)
{
    char *with = NULL;
    json_t *out = NULL;
    int rc;

    assert_true(asprintf(&with, "{\"path\": \"%s\", \"value\": %s%s%s}", path, value,
                         pretty ? ", \"pretty\": " : "", pretty ? pretty : "") > 0);
    rc = run("json_write", with, &out);
    if (rc != WEIR_OK) {
        fail_msg("json_write %s: %s", with, weir_error_last());
    }
    free(with);
    return out;
}

static void test_core__json_write_pretty_sorted(void **state)
{
    char *path = path_in_tmp("out/deeper/pretty.json");
    const char *want = "{\n  \"a\": [\n    1,\n    2\n  ],\n  \"b\": \"x\"\n}\n";
    json_t *out = write_json(path, "{\"b\": \"x\", \"a\": [1, 2]}", NULL);
    size_t len = 0;
    char *text = tu_read_file(path, &len);

    (void)state;
    assert_string_equal(out_string(out, "path"), path);
    assert_int_equal(json_integer_value(json_object_get(out, "bytes")), strlen(want));
    assert_non_null(text);
    assert_string_equal(text, want);
    json_decref(out);
    free(text);
    free(path);
}

static void test_core__json_write_compact_replaces(void **state)
{
    char *path = path_in_tmp("compact.json");
    char *text, *dir = path_in_tmp("");
    json_t *out;
    DIR *d;
    struct dirent *e;

    (void)state;
    json_decref(write_json(path, "[1]", "false"));
    out = write_json(path, "{\"z\": 1, \"a\": {\"y\": true, \"b\": null}}", "false");
    text = tu_read_file(path, NULL);
    assert_string_equal(text, "{\"a\":{\"b\":null,\"y\":true},\"z\":1}\n");
    /* no temporary file is left behind */
    d = opendir(dir);
    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        assert_null(strstr(e->d_name, ".tmp."));
    }
    closedir(d);
    json_decref(out);
    free(text);
    free(dir);
    free(path);
}

static void test_core__json_roundtrip(void **state)
{
    char *path = path_in_tmp("round.json");
    char *with = NULL;
    const char *value = "{\"name\": \"caf\\u00e9\", \"n\": 12345678901, \"r\": 0.5, \"list\": [true, null]}";

    (void)state;
    json_decref(write_json(path, value, NULL));
    assert_true(asprintf(&with, "{\"path\": \"%s\"}", path) > 0);
    expect_output("json_read", with, value);
    free(with);
    free(path);
}

static void test_core__json_read_scalar_and_relative(void **state)
{
    char *cwd = getcwd(NULL, 0);

    (void)state;
    free(tu_write_file(tmp, "scalar.json", "42\n"));
    /* with no ctx, relative paths start at the current directory */
    assert_int_equal(chdir(tmp), 0);
    expect_output("json_read", "{\"path\": \"scalar.json\"}", "42");
    expect_output("json_write", "{\"path\": \"rel.json\", \"value\": \"s\"}",
                  "{\"path\": \"rel.json\", \"bytes\": 4}");
    expect_output("json_read", "{\"path\": \"rel.json\"}", "\"s\"");
    assert_int_equal(chdir(cwd), 0);
    free(cwd);
}

static void test_core__json_paths_relative_to_project(void **state)
{
    struct weir_ctx ctx = { .run_id = "r", .step_id = "j", .project = tmp };
    char *want = NULL;
    json_t *out = NULL;

    (void)state;
    assert_int_equal(run_ctx("json_write", "{\"path\": \"proj/p.json\", \"value\": [1]}", &out, &ctx),
                     WEIR_OK);
    assert_true(asprintf(&want, "%s/proj/p.json", tmp) > 0);
    assert_string_equal(out_string(out, "path"), want);
    json_decref(out);
    assert_int_equal(run_ctx("json_read", "{\"path\": \"proj/p.json\"}", &out, &ctx), WEIR_OK);
    tu_assert_json(out, "[1]");
    json_decref(out);
    free(want);
}

static void test_core__json_read_errors(void **state)
{
    char *bad = tu_write_file(tmp, "bad.json", "{\n  \"a\": 1,\n  \"b\": \n}\n");
    char *missing = path_in_tmp("missing.json");
    char *with = NULL, *where = NULL;

    (void)state;
    assert_true(asprintf(&with, "{\"path\": \"%s\"}", missing) > 0);
    expect_error("json_read", with, WEIR_ENOTFOUND, missing);
    free(with);

    assert_true(asprintf(&with, "{\"path\": \"%s\"}", bad) > 0);
    assert_true(asprintf(&where, "'%s' line 4 column 1: ", bad) > 0);
    expect_error("json_read", with, WEIR_EINVALID, where);
    free(with);

    assert_true(asprintf(&with, "{\"path\": \"%s\"}", tmp) > 0);
    expect_error("json_read", with, WEIR_EINVALID, "is a directory");
    free(with);
    expect_error("json_read", "{}", WEIR_EINVALID, "missing required param 'path'");
    free(where);
    free(missing);
    free(bad);
}

static void test_core__json_write_errors(void **state)
{
    char *file = tu_write_file(tmp, "plainfile", "x");
    char *with = NULL;

    (void)state;
    /* a parent that is a file, not a directory */
    assert_true(asprintf(&with, "{\"path\": \"%s/sub/x.json\", \"value\": 1}", file) > 0);
    expect_error("json_write", with, WEIR_EIO, "cannot create directory");
    free(with);
    assert_true(asprintf(&with, "{\"path\": \"%s/\", \"value\": 1}", tmp) > 0);
    expect_error("json_write", with, WEIR_EINVALID, "names a directory");
    free(with);
    free(file);
}

/* ---- shell --------------------------------------------------------------------------- */

static void test_core__shell_basic(void **state)
{
    json_t *out = NULL;

    (void)state;
    assert_int_equal(run("shell", "{\"argv\": [\"echo\", \"hi there\", 42]}", &out), WEIR_OK);
    assert_int_equal(json_integer_value(json_object_get(out, "exit_code")), 0);
    assert_string_equal(out_string(out, "stdout"), "hi there 42\n");
    assert_string_equal(out_string(out, "stderr"), "");
    assert_true(json_is_false(json_object_get(out, "truncated")));
    assert_true(json_integer_value(json_object_get(out, "duration_ms")) >= 0);
    json_decref(out);
}

static void test_core__shell_no_shell_interpolation(void **state)
{
    (void)state;
    /* $HOME and ; reach echo as plain text: there is no shell in between */
    expect_stdout("{\"argv\": [\"echo\", \"$HOME;\", \"`id`\"], \"max_output_bytes\": 100}",
                  "$HOME; `id`\n");
}

static void test_core__shell_exit_status(void **state)
{
    json_t *out = NULL;

    (void)state;
    assert_int_equal(run("shell", "{\"argv\": [\"sh\", \"-c\", \"echo out; echo err >&2; exit 3\"], "
                                  "\"check\": false}", &out), WEIR_OK);
    assert_int_equal(json_integer_value(json_object_get(out, "exit_code")), 3);
    assert_string_equal(out_string(out, "stdout"), "out\n");
    assert_string_equal(out_string(out, "stderr"), "err\n");
    json_decref(out);

    expect_error("shell", "{\"argv\": [\"sh\", \"-c\", \"echo; echo first problem >&2; echo second >&2; exit 4\"]}",
                 WEIR_ERROR, "core.shell: 'sh' exited with status 4: first problem");
    expect_error("shell", "{\"argv\": [\"false\"]}", WEIR_ERROR,
                 "core.shell: 'false' exited with status 1 and printed nothing on stderr");
}

static void test_core__shell_signal(void **state)
{
    json_t *out = NULL;

    (void)state;
    assert_int_equal(run("shell", "{\"argv\": [\"sh\", \"-c\", \"kill -9 $$\"], \"check\": false}", &out),
                     WEIR_OK);
    assert_int_equal(json_integer_value(json_object_get(out, "exit_code")), 128 + 9);
    json_decref(out);
    expect_error("shell", "{\"argv\": [\"sh\", \"-c\", \"kill -9 $$\"]}", WEIR_ERROR,
                 "core.shell: 'sh' was killed by signal 9");
}

static void test_core__shell_stdin(void **state)
{
    (void)state;
    expect_stdout("{\"argv\": [\"cat\"], \"stdin\": \"line 1\\nline 2\\n\"}", "line 1\nline 2\n");
    /* a command that ignores its stdin must not break the host with SIGPIPE */
    expect_stdout("{\"argv\": [\"true\"], \"stdin\": \"ignored\"}", "");
}

/* Big stdin, stdout and stderr at once: with blocking I/O this deadlocks. */
static void test_core__shell_large_streams(void **state)
{
    size_t n = 600000;
    char *big = malloc(n + 1);
    json_t *with, *input = NULL, *out = NULL;
    const struct weir_step_def *def = weir_plugins_find_step(plugins, "core", "shell");

    (void)state;
    memset(big, 'i', n);
    big[n] = '\0';
    with = json_pack("{s:[s,s,s], s:s, s:i}", "argv", "sh", "-c",
                     "head -c 300000 /dev/zero | tr '\\0' e >&2; cat; head -c 300000 /dev/zero | tr '\\0' f >&2",
                     "stdin", big, "max_output_bytes", 10000000);
    assert_int_equal(weir_step_input_check(def, with, &input), WEIR_OK);
    assert_int_equal(def->run(input, &out, NULL, def->payload), WEIR_OK);
    assert_int_equal(strlen(out_string(out, "stdout")), n);
    assert_int_equal(strlen(out_string(out, "stderr")), 600000);
    assert_true(json_is_false(json_object_get(out, "truncated")));
    json_decref(out);
    json_decref(input);
    json_decref(with);
    free(big);
}

static void test_core__shell_truncates(void **state)
{
    json_t *out = NULL;

    (void)state;
    assert_int_equal(run("shell", "{\"argv\": [\"sh\", \"-c\", \"head -c 50000 /dev/zero | tr '\\\\0' x\"], "
                                  "\"max_output_bytes\": 100}", &out), WEIR_OK);
    assert_int_equal(strlen(out_string(out, "stdout")), 100);
    assert_true(json_is_true(json_object_get(out, "truncated")));
    json_decref(out);
}

static void test_core__shell_invalid_utf8(void **state)
{
    json_t *out = NULL;

    (void)state;
    assert_int_equal(run("shell", "{\"argv\": [\"printf\", \"a\\\\377b\\\\303\"]}", &out), WEIR_OK);
    assert_string_equal(out_string(out, "stdout"), "a\xEF\xBF\xBD" "b\xEF\xBF\xBD");
    json_decref(out);
}

static void test_core__shell_minimal_env(void **state)
{
    json_t *out = NULL;
    const char *text;

    (void)state;
    setenv("WEIR_TEST_SECRET", "do-not-leak", 1);
    assert_int_equal(run("shell", "{\"argv\": [\"env\"], \"env\": {\"FOO\": \"bar baz\", \"N\": 4, "
                                  "\"B\": true}}", &out), WEIR_OK);
    unsetenv("WEIR_TEST_SECRET");
    text = out_string(out, "stdout");
    assert_contains(text, "FOO=bar baz\n");
    assert_contains(text, "N=4\n");
    assert_contains(text, "B=true\n");
    assert_null(strstr(text, "WEIR_TEST_SECRET"));
    for (const char *line = text; *line; line = strchr(line, '\n') + 1) {
        if (strncmp(line, "PATH=", 5) && strncmp(line, "HOME=", 5) && strncmp(line, "LANG=", 5) &&
            strncmp(line, "FOO=", 4) && strncmp(line, "N=", 2) && strncmp(line, "B=", 2)) {
            fail_msg("unexpected variable in the child's environment: %s", line);
        }
    }
    json_decref(out);
    /* env overrides the inherited ones */
    expect_stdout("{\"argv\": [\"sh\", \"-c\", \"echo $HOME\"], \"env\": {\"HOME\": \"/nowhere\"}}",
                  "/nowhere\n");
    expect_error("shell", "{\"argv\": [\"env\"], \"env\": {\"A=B\": \"x\"}}", WEIR_EINVALID,
                 "env name 'A=B'");
    expect_error("shell", "{\"argv\": [\"env\"], \"env\": {\"A\": [1]}}", WEIR_EINVALID,
                 "each env value must be a string");
}

static char *real_tmp(void)
{
    char *real = realpath(tmp, NULL);

    assert_non_null(real);
    return real;
}

static void test_core__shell_cwd(void **state)
{
    char *real = real_tmp(), *with = NULL, *want = NULL, *cwd = getcwd(NULL, 0);
    struct weir_ctx ctx = { .run_id = "r", .step_id = "sh", .project = real };
    json_t *out = NULL;

    (void)state;
    free(tu_write_file(tmp, "sub/marker", "m"));
    /* absolute cwd */
    assert_true(asprintf(&with, "{\"argv\": [\"pwd\"], \"cwd\": \"%s/sub\"}", real) > 0);
    assert_true(asprintf(&want, "%s/sub\n", real) > 0);
    assert_int_equal(run("shell", with, &out), WEIR_OK);
    assert_string_equal(out_string(out, "stdout"), want);
    json_decref(out);
    /* relative cwd starts at the project; no cwd means the project itself */
    assert_int_equal(run_ctx("shell", "{\"argv\": [\"ls\"], \"cwd\": \"sub\"}", &out, &ctx), WEIR_OK);
    assert_string_equal(out_string(out, "stdout"), "marker\n");
    json_decref(out);
    assert_int_equal(run_ctx("shell", "{\"argv\": [\"ls\", \"sub\"]}", &out, &ctx), WEIR_OK);
    assert_string_equal(out_string(out, "stdout"), "marker\n");
    json_decref(out);
    /* no ctx: relative to the current directory */
    assert_int_equal(chdir(real), 0);
    assert_int_equal(run("shell", "{\"argv\": [\"ls\"], \"cwd\": \"sub\"}", &out), WEIR_OK);
    assert_string_equal(out_string(out, "stdout"), "marker\n");
    json_decref(out);
    assert_int_equal(chdir(cwd), 0);
    expect_error("shell", "{\"argv\": [\"pwd\"], \"cwd\": \"/no/such/dir/weir\"}", WEIR_ENOTFOUND,
                 "core.shell: cwd '/no/such/dir/weir' does not exist");
    free(cwd);
    free(want);
    free(with);
    free(real);
}

static void test_core__shell_start_errors(void **state)
{
    (void)state;
    expect_error("shell", "{\"argv\": [\"weir-no-such-command\"]}", WEIR_ENOTFOUND,
                 "core.shell: command 'weir-no-such-command' not found");
    expect_error("shell", "{\"argv\": []}", WEIR_EINVALID, "param 'argv' must be a non-empty array");
    expect_error("shell", "{\"argv\": [\"echo\", {}]}", WEIR_EINVALID, "argv[1] must be a string");
    expect_error("shell", "{\"argv\": [\"echo\"], \"timeout_ms\": -5}", WEIR_EINVALID,
                 "param 'timeout_ms' must be >= 0");
    expect_error("shell", "{\"argv\": [\"echo\"], \"max_output_bytes\": -1}", WEIR_EINVALID,
                 "param 'max_output_bytes' must be >= 0");
    expect_error("shell", "{\"argv\": \"echo hi\"}", WEIR_EINVALID, "param 'argv' must be array");
    expect_error("shell", "{}", WEIR_EINVALID, "missing required param 'argv'");
}

/* A zombie or no process at all: either way, killed. */
static int process_gone(long pid)
{
    char path[64], stat[256] = { 0 };
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
    if ((f = fopen(path, "r")) == NULL) {
        return 1;
    }
    if (!fgets(stat, sizeof(stat), f)) {
        stat[0] = '\0';
    }
    fclose(f);
    return strstr(stat, ") Z ") != NULL;
}

static void test_core__shell_timeout_kills_group(void **state)
{
    char *pidfile = path_in_tmp("bg.pid"), *with = NULL, *text = NULL;
    int64_t start = tu_now_ms();
    json_t *out = NULL;
    long pid = 0;

    (void)state;
    /* the background sleep keeps stdout open: only killing the group ends it */
    assert_true(asprintf(&with, "{\"argv\": [\"sh\", \"-c\", \"sleep 30 & echo $! > %s; sleep 30\"], "
                                "\"timeout_ms\": 700}", pidfile) > 0);
    assert_int_equal(run("shell", with, &out), WEIR_ETIMEOUT);
    assert_string_equal(weir_error_last(), "core.shell: 'sh' timed out after 700 ms");
    assert_true(tu_now_ms() - start < 5000);
    text = tu_read_file(pidfile, NULL);
    assert_non_null(text);
    pid = strtol(text, NULL, 10);
    assert_true(pid > 0);
    for (int i = 0; i < 100 && !process_gone(pid); i++) {
        usleep(10000);
    }
    assert_true(process_gone(pid));
    free(text);
    free(with);
    free(pidfile);
}

static void test_core__shell_step_deadline(void **state)
{
    struct weir_ctx ctx = { .run_id = "r", .step_id = "sh", .deadline_ms = tu_now_ms() + 200 };
    int64_t start = tu_now_ms();
    json_t *out = NULL;

    (void)state;
    assert_int_equal(run_ctx("shell", "{\"argv\": [\"sleep\", 30]}", &out, &ctx), WEIR_ETIMEOUT);
    assert_contains(weir_error_last(), "core.shell: 'sleep' timed out after ");
    assert_true(tu_now_ms() - start < 5000);
}

static void test_core__shell_cancelled(void **state)
{
    atomic_int cancel = 1;
    struct weir_ctx ctx = { .run_id = "r", .step_id = "sh", .cancel = &cancel };
    json_t *out = NULL;

    (void)state;
    assert_int_equal(run_ctx("shell", "{\"argv\": [\"sleep\", 30]}", &out, &ctx), WEIR_ECANCELLED);
    assert_contains(weir_error_last(), "core.shell: 'sleep' was cancelled");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_core__describe),
        cmocka_unit_test(test_core__echo),
        cmocka_unit_test(test_core__fail),
        cmocka_unit_test(test_core__flaky_counts_attempts),
        cmocka_unit_test(test_core__flaky_keys_by_run_and_step),
        cmocka_unit_test(test_core__flaky_threads),
        cmocka_unit_test(test_core__sleep),
        cmocka_unit_test(test_core__sleep_stops_at_deadline),
        cmocka_unit_test(test_core__sleep_stops_when_cancelled),
        cmocka_unit_test(test_core__log),
        cmocka_unit_test(test_core__json_write_pretty_sorted),
        cmocka_unit_test(test_core__json_write_compact_replaces),
        cmocka_unit_test(test_core__json_roundtrip),
        cmocka_unit_test(test_core__json_read_scalar_and_relative),
        cmocka_unit_test(test_core__json_paths_relative_to_project),
        cmocka_unit_test(test_core__json_read_errors),
        cmocka_unit_test(test_core__json_write_errors),
        cmocka_unit_test(test_core__shell_basic),
        cmocka_unit_test(test_core__shell_no_shell_interpolation),
        cmocka_unit_test(test_core__shell_exit_status),
        cmocka_unit_test(test_core__shell_signal),
        cmocka_unit_test(test_core__shell_stdin),
        cmocka_unit_test(test_core__shell_large_streams),
        cmocka_unit_test(test_core__shell_truncates),
        cmocka_unit_test(test_core__shell_invalid_utf8),
        cmocka_unit_test(test_core__shell_minimal_env),
        cmocka_unit_test(test_core__shell_cwd),
        cmocka_unit_test(test_core__shell_start_errors),
        cmocka_unit_test(test_core__shell_timeout_kills_group),
        cmocka_unit_test(test_core__shell_step_deadline),
        cmocka_unit_test(test_core__shell_cancelled),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
