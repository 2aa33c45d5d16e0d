/* test_run_state_events.c - what a run leaves behind: its record in the
 * state database and its JSON-lines event log. */
#include "rt_util.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "redact.h"
#include "state.h"

static const char *const yaml =
    "version: 1\n"
    "name: observed\n"
    "params:\n"
    "  who: { type: string, default: world }\n"
    "steps:\n"
    "  - id: hello\n"
    "    uses: core.echo\n"
    "    with: { value: \"hello ${{ params.who }}\" }\n"
    "  - id: flaky\n"
    "    uses: core.flaky\n"
    "    needs: [hello]\n"
    "    with: { failures: 1 }\n"
    "    retry: { max: 1, delay: 10ms }\n"
    "  - id: broken\n"
    "    uses: core.fail\n"
    "    needs: [hello]\n"
    "    with: { message: \"no luck\" }\n"
    "  - id: downstream\n"
    "    uses: core.echo\n"
    "    needs: [broken]\n"
    "  - id: off\n"
    "    uses: core.echo\n"
    "    if: \"${{ false }}\"\n";

static void test_state_record(void **state)
{
    struct rt_project *p = *state;
    enum weir_run_status st;
    json_t *params = json_pack("{s:s}", "who", "lake");
    json_t *sum = rt_run(p, "obs.yaml", yaml, 2, params, &st, NULL);
    json_t *run = rt_state_run(p, rt_run_id(sum));
    static const char *const ids[] = { "hello", "flaky", "broken", "downstream", "off" };
    static const char *const statuses[] = { "success", "success", "failed", "skipped", "skipped" };
    static const int attempts[] = { 1, 2, 1, 0, 0 };

    assert_int_equal(st, WEIR_RUN_FAILED);
    assert_string_equal(json_string_value(json_object_get(run, "id")), rt_run_id(sum));
    tu_assert_json(json_object_get(run, "pipeline"), "\"observed\"");
    tu_assert_json(json_object_get(run, "status"), "\"failed\"");
    tu_assert_json(json_object_get(run, "target"), "\"local\"");
    tu_assert_json(json_object_get(run, "date"), "\"2026-11-21\"");
    tu_assert_json(json_object_get(run, "params"), "{\"who\":\"lake\"}");
    assert_string_equal(json_string_value(json_object_get(run, "source")), yaml);
    assert_true(json_is_integer(json_object_get(run, "ended_ms")));
    assert_int_equal(json_array_size(json_object_get(run, "steps")), 5);
    for (size_t i = 0; i < 5; i++) {
        json_t *rec = rt_state_step(run, ids[i]);
        const char *got = json_string_value(json_object_get(rec, "status"));
        if (!got || strcmp(got, statuses[i])) {
            fail_msg("state: step %s is %s, want %s", ids[i], got ? got : "(none)", statuses[i]);
        }
        assert_int_equal(json_integer_value(json_object_get(rec, "attempts")), attempts[i]);
        /* the summary says the same */
        assert_string_equal(rt_step_status(sum, ids[i]), statuses[i]);
        assert_int_equal(rt_step_attempts(sum, ids[i]), attempts[i]);
    }
    tu_assert_json(json_object_get(rt_state_step(run, "hello"), "output"), "\"hello lake\"");
    tu_assert_json(json_object_get(rt_state_step(run, "flaky"), "output"), "{\"attempt\":2}");
    tu_assert_json(json_object_get(rt_state_step(run, "broken"), "error"), "\"no luck\"");
    json_decref(run);

    /* and the run is listed, newest first */
    {
        struct weir_state *s = NULL;
        json_t *list = NULL;
        assert_int_equal(weir_state_open(p->workspace, &s), WEIR_OK);
        assert_int_equal(weir_state_runs_list(s, 0, &list), WEIR_OK);
        weir_state_close(s);
        assert_int_equal(json_array_size(list), 1);
        assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "id")), rt_run_id(sum));
        json_decref(list);
    }
    json_decref(sum);
    json_decref(params);
}

static void test_event_log(void **state)
{
    struct rt_project *p = *state;
    enum weir_run_status st;
    json_t *sum = rt_run(p, "obs.yaml", yaml, 2, NULL, &st, NULL);
    const char *id = rt_run_id(sum);
    json_t *events = rt_events(p, id), *ev, *finals = json_object();
    size_t i, n = json_array_size(events);
    const char *key;
    json_t *v;

    assert_true(n >= 2);
    tu_assert_json(json_object_get(json_array_get(events, 0), "event"), "\"start\"");
    tu_assert_json(json_object_get(json_array_get(events, 0), "pipeline"), "\"observed\"");
    tu_assert_json(json_object_get(json_array_get(events, n - 1), "event"), "\"end\"");
    tu_assert_json(json_object_get(json_array_get(events, n - 1), "status"), "\"failed\"");
    json_array_foreach(events, i, ev) {
        const char *e = json_string_value(json_object_get(ev, "event"));
        const char *step = json_string_value(json_object_get(ev, "step"));
        assert_non_null(e);
        assert_true(json_is_string(json_object_get(ev, "ts")));
        assert_string_equal(json_string_value(json_object_get(ev, "run")), id);
        if (!strcmp(e, "start") || !strcmp(e, "end")) {
            assert_true(i == 0 || i == n - 1);
            assert_null(step);
            continue;
        }
        assert_non_null(step);
        assert_true(!strcmp(e, "status") || !strcmp(e, "result") || !strcmp(e, "error"));
        if (strcmp(e, "status")) {
            json_t *count = json_object_get(finals, step);
            json_object_set_new(finals, step, json_integer(json_integer_value(count) + 1));
            assert_string_equal(json_string_value(json_object_get(ev, "status")), rt_step_status(sum, step));
        }
        if (!strcmp(e, "error")) {
            assert_true(json_is_string(json_object_get(ev, "error")));
        }
    }
    /* exactly one result or error per step */
    assert_int_equal(json_object_size(finals), 5);
    json_object_foreach(finals, key, v) {
        if (json_integer_value(v) != 1) {
            fail_msg("step %s has %lld result/error events", key, (long long)json_integer_value(v));
        }
    }
    json_decref(finals);
    json_decref(events);
    json_decref(sum);
}

/* A registered secret is masked in the event log. */
static void test_events_redacted(void **state)
{
    struct rt_project *p = *state;
    enum weir_run_status st;
    json_t *sum;
    char *path = NULL, *text;

    weir_redact_add("tok-3f9a7c21e5");
    sum = rt_run(p, "secret.yaml",
                 "version: 1\n"
                 "name: secret\n"
                 "steps:\n"
                 "  - id: show\n"
                 "    uses: core.echo\n"
                 "    with: { value: \"key=tok-3f9a7c21e5\" }\n"
                 "  - id: leak\n"
                 "    uses: core.fail\n"
                 "    with: { message: \"bad token tok-3f9a7c21e5\" }\n",
                 2, NULL, &st, NULL);
    assert_int_equal(st, WEIR_RUN_FAILED);
    assert_true(asprintf(&path, "%s/runs/%s/events.jsonl", p->workspace, rt_run_id(sum)) >= 0);
    text = tu_read_file(path, NULL);
    assert_non_null(text);
    rt_assert_contains(text, "***");
    if (strstr(text, "tok-3f9a7c21e5")) {
        fail_msg("secret in the event log: %s", text);
    }
    free(text);
    free(path);
    json_decref(sum);
    weir_redact_reset();
}

/* A plugin's log lines land in the run's event log as "log" events
 * (redacted; debug only with WEIR_LOG=debug). */
static void test_plugin_logs_in_event_log(void **state)
{
    struct rt_project *p = *state;
    enum weir_run_status st;
    json_t *sum;
    char *path = NULL, *text;

    weir_redact_add("sk-41d0c9e7aa");
    unsetenv("WEIR_LOG");
    sum = rt_run(p, "logs.yaml",
                 "version: 1\n"
                 "name: logs\n"
                 "steps:\n"
                 "  - id: usage\n"
                 "    uses: core.log\n"
                 "    with: { message: \"tokens in 812 out 96 key sk-41d0c9e7aa\" }\n"
                 "  - id: chatter\n"
                 "    uses: core.log\n"
                 "    with: { message: \"wire detail\", level: debug }\n",
                 1, NULL, &st, NULL);
    assert_int_equal(st, WEIR_RUN_SUCCESS);
    assert_true(asprintf(&path, "%s/runs/%s/events.jsonl", p->workspace, rt_run_id(sum)) >= 0);
    text = tu_read_file(path, NULL);
    assert_non_null(text);
    rt_assert_contains(text, "\"event\":\"log\"");
    rt_assert_contains(text, "\"level\":\"info\"");
    rt_assert_contains(text, "tokens in 812 out 96 key ***");
    assert_null(strstr(text, "sk-41d0c9e7aa"));
    assert_null(strstr(text, "wire detail"));
    free(text);
    free(path);
    json_decref(sum);
    weir_redact_reset();
}

/* Progress lines name each finished step with its status; an approval
 * says how to decide it. */
static void test_progress_lines(void **state)
{
    struct rt_project *p = *state;
    char *buf = NULL, *path;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    struct weir_run_opts opts = { .jobs = 2 };
    struct weir_diags diags = { 0 };
    enum weir_run_status st;
    json_t *sum = NULL;

    path = rt_write(p, "prog.yaml",
                    "version: 1\n"
                    "name: prog\n"
                    "steps:\n"
                    "  - { id: first_step, uses: core.echo, with: { value: 1 } }\n"
                    "  - { id: broken_step, uses: core.fail, needs: [first_step], with: { message: oops } }\n"
                    "  - { id: gate, needs: [first_step], approval: { message: ok? } }\n");
    opts.pipeline = path;
    opts.progress = fp;
    assert_int_equal(weir_run_execute(p->rt, &opts, &diags, &st, &sum), WEIR_OK);
    fclose(fp);
    assert_int_equal(st, WEIR_RUN_FAILED);
    rt_assert_contains(buf, "success");
    rt_assert_contains(buf, "first_step");
    rt_assert_contains(buf, "broken_step");
    rt_assert_contains(buf, "oops");
    rt_assert_contains(buf, "weir approvals approve");
    rt_assert_contains(buf, rt_run_id(sum));
    json_decref(sum);
    weir_diags_free(&diags);
    free(buf);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_state_record, rt_setup, rt_teardown),
        cmocka_unit_test_setup_teardown(test_event_log, rt_setup, rt_teardown),
        cmocka_unit_test_setup_teardown(test_events_redacted, rt_setup, rt_teardown),
        cmocka_unit_test_setup_teardown(test_plugin_logs_in_event_log, rt_setup, rt_teardown),
        cmocka_unit_test_setup_teardown(test_progress_lines, rt_setup, rt_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
