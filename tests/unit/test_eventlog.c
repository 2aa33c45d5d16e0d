/* test_eventlog.c - the JSON-lines run log: format, redaction, threads. */
#include "testutil.h"

#include <pthread.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "eventlog.h"
#include "redact.h"
#include "error.h"

#define THREADS 8
#define PER_THREAD 500

static int setup(void **state)
{
    *state = tu_mkdtemp();
    weir_redact_reset();
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    tu_rmtree(*state);
    free(*state);
    weir_redact_reset();
    return 0;
}

static char *log_text(const char *dir, const char *run)
{
    char *path = NULL;
    char *text;

    assert_true(asprintf(&path, "%s/runs/%s/events.jsonl", dir, run) > 0);
    text = tu_read_file(path, NULL);
    free(path);
    assert_non_null(text);
    return text;
}

/* Splits text into lines (in place); every line must end with '\n'. */
static size_t split_lines(char *text, char **lines, size_t max)
{
    size_t n = 0;
    char *p = text;

    while (*p) {
        char *nl = strchr(p, '\n');
        assert_non_null(nl);
        *nl = '\0';
        assert_true(n < max);
        lines[n++] = p;
        p = nl + 1;
    }
    return n;
}

static json_t *parse(const char *line)
{
    json_error_t err;
    json_t *v = json_loads(line, 0, &err);

    if (!v) {
        fail_msg("not JSON: %s (%s)", line, err.text);
    }
    assert_true(json_is_object(v));
    return v;
}

static void assert_ts(const json_t *ev)
{
    regex_t re;
    const char *ts = json_string_value(json_object_get(ev, "ts"));

    assert_non_null(ts);
    assert_int_equal(regcomp(&re, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}"
                                  "\\.[0-9]{3}Z$",
                             REG_EXTENDED | REG_NOSUB),
                     0);
    assert_int_equal(regexec(&re, ts, 0, NULL, 0), 0);
    regfree(&re);
}

static void test_standard_keys_and_fields(void **state)
{
    struct weir_eventlog *log = NULL;
    char *lines[4];
    char *text;
    json_t *ev;

    assert_int_equal(weir_eventlog_open(*state, "run-1", &log), WEIR_OK);
    assert_int_equal(weir_eventlog_emit(log, "start", NULL, NULL), WEIR_OK);
    assert_int_equal(weir_eventlog_emit(log, "result", "schema",
                                        json_pack("{s:i, s:{s:s}, s:s}", "rows", 42, "output",
                                                  "table", "db.t", "run", "forged")),
                     WEIR_OK);
    weir_eventlog_close(log);

    text = log_text(*state, "run-1");
    assert_int_equal(split_lines(text, lines, 4), 2);
    ev = parse(lines[0]);
    assert_ts(ev);
    json_object_del(ev, "ts");
    tu_assert_json(ev, "{\"run\":\"run-1\",\"event\":\"start\"}");
    json_decref(ev);
    /* Standard keys come first and can not be overridden by fields. */
    assert_true(strncmp(lines[1], "{\"ts\":", 6) == 0);
    ev = parse(lines[1]);
    assert_ts(ev);
    json_object_del(ev, "ts");
    tu_assert_json(ev, "{\"run\":\"run-1\",\"event\":\"result\",\"step\":\"schema\","
                       "\"rows\":42,\"output\":{\"table\":\"db.t\"}}");
    json_decref(ev);
    free(text);
}

static void test_redaction(void **state)
{
    struct weir_eventlog *log = NULL;
    char *text;

    weir_redact_add("sk-live-123456");
    assert_int_equal(weir_eventlog_open(*state, "r", &log), WEIR_OK);
    assert_int_equal(weir_eventlog_emit(log, "error", "call",
                                        json_pack("{s:s}", "message",
                                                  "401 for token sk-live-123456")),
                     WEIR_OK);
    weir_eventlog_close(log);
    text = log_text(*state, "r");
    assert_null(strstr(text, "sk-live-123456"));
    assert_non_null(strstr(text, "\"message\":\"401 for token ***\""));
    json_decref(parse(strtok(text, "\n")));
    free(text);
}

static void test_bad_input(void **state)
{
    struct weir_eventlog *log = NULL;

    assert_int_equal(weir_eventlog_open(*state, "../escape", &log), WEIR_EINVALID);
    assert_int_equal(weir_eventlog_open(*state, "", &log), WEIR_EINVALID);
    assert_null(log);
    assert_int_equal(weir_eventlog_open(*state, "ok", &log), WEIR_OK);
    assert_int_equal(weir_eventlog_emit(log, "status", NULL, json_array()), WEIR_EINVALID);
    assert_non_null(strstr(weir_error_last(), "must be a JSON object"));
    weir_eventlog_close(log);
}

static void test_open_fails_clearly(void **state)
{
    struct weir_eventlog *log = NULL;
    char *file = tu_write_file(*state, "runs", "a file where a directory should be");

    assert_int_equal(weir_eventlog_open(*state, "x", &log), WEIR_EIO);
    assert_null(log);
    assert_non_null(strstr(weir_error_last(), "runs/x"));
    free(file);
}

struct worker {
    struct weir_eventlog *log;
    int id;
};

static void *emit_many(void *arg)
{
    struct worker *w = arg;

    for (int i = 0; i < PER_THREAD; i++) {
        /* A long field makes a torn or interleaved line likely if writes
         * were split. */
        if (weir_eventlog_emit(w->log, "status", NULL,
                               json_pack("{s:i, s:i, s:s}", "thread", w->id, "i", i, "pad",
                                         "................................................"
                                         "................................................")) <
            0) {
            return (void *)1;
        }
    }
    return NULL;
}

static void test_threads(void **state)
{
    static char *lines[THREADS * PER_THREAD + 1];
    static unsigned char seen[THREADS][PER_THREAD];
    pthread_t tid[THREADS];
    struct worker w[THREADS];
    struct weir_eventlog *log = NULL;
    char *text;
    size_t n;

    memset(seen, 0, sizeof(seen));
    assert_int_equal(weir_eventlog_open(*state, "threads", &log), WEIR_OK);
    for (int t = 0; t < THREADS; t++) {
        w[t] = (struct worker){log, t};
        assert_int_equal(pthread_create(&tid[t], NULL, emit_many, &w[t]), 0);
    }
    for (int t = 0; t < THREADS; t++) {
        void *ret = NULL;
        pthread_join(tid[t], &ret);
        assert_null(ret);
    }
    weir_eventlog_close(log);

    text = log_text(*state, "threads");
    n = split_lines(text, lines, THREADS * PER_THREAD + 1);
    assert_int_equal(n, THREADS * PER_THREAD);
    for (size_t i = 0; i < n; i++) {
        json_t *ev = parse(lines[i]);
        json_int_t t = json_integer_value(json_object_get(ev, "thread"));
        json_int_t k = json_integer_value(json_object_get(ev, "i"));
        assert_true(t >= 0 && t < THREADS && k >= 0 && k < PER_THREAD);
        assert_int_equal(seen[t][k], 0);
        seen[t][k] = 1;
        json_decref(ev);
    }
    free(text);
}

static void test_reopen_appends(void **state)
{
    struct weir_eventlog *log = NULL;
    char *lines[4];
    char *text;
    json_t *ev;

    assert_int_equal(weir_eventlog_open(*state, "again", &log), WEIR_OK);
    assert_int_equal(weir_eventlog_emit(log, "start", NULL, NULL), WEIR_OK);
    weir_eventlog_close(log);
    assert_int_equal(weir_eventlog_open(*state, "again", &log), WEIR_OK);
    assert_int_equal(weir_eventlog_emit(log, "end", NULL, json_pack("{s:s}", "status", "ok")),
                     WEIR_OK);
    weir_eventlog_close(log);

    text = log_text(*state, "again");
    assert_int_equal(split_lines(text, lines, 4), 2);
    ev = parse(lines[0]);
    assert_string_equal(json_string_value(json_object_get(ev, "event")), "start");
    json_decref(ev);
    ev = parse(lines[1]);
    assert_string_equal(json_string_value(json_object_get(ev, "event")), "end");
    json_decref(ev);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_standard_keys_and_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_redaction, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_fails_clearly, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen_appends, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
