/* test_run_basic.c - whole pipelines in-process: the DAG, needs / skip /
 * continue_on_error / if, expressions and types, the env allow-list,
 * parallelism and the summary's independence from scheduling, cancellation. */
#include "rt_util.h"

#include <dirent.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "error.h"

static void test_chain_types_and_interpolation(void **state)
{
    struct rt_project *p = *state;
    enum weir_run_status st;
    json_t *params = json_pack("{s:s}", "n", "7"); /* a string, coerced to the declared integer */
    json_t *sum = rt_run(p, "p.yaml",
                         "version: 1\n"
                         "name: basic\n"
                         "params:\n"
                         "  n: { type: integer, required: true }\n"
                         "  label: { type: string, default: dflt }\n"
                         "steps:\n"
                         "  - id: a\n"
                         "    uses: core.echo\n"
                         "    with: { value: \"${{ params.n }}\" }\n"
                         "  - id: b\n"
                         "    uses: core.echo\n"
                         "    needs: [a]\n"
                         "    with: { value: \"n=${{ steps.a.output }} label=${{ params.label }}\" }\n"
                         "  - id: c\n"
                         "    uses: core.echo\n"
                         "    needs: [a, b]\n"
                         "    with:\n"
                         "      value: { sum: \"${{ steps.a.output + 1 }}\", list: [\"${{ steps.b.output }}\", 2],\n"
                         "               home: \"${{ env.HOME }}\", run: \"${{ run.date }}\" }\n",
                         2, params, &st, NULL);

    assert_int_equal(st, WEIR_RUN_SUCCESS);
    tu_assert_json(json_object_get(sum, "status"), "\"success\"");
    tu_assert_json(json_object_get(sum, "pipeline"), "\"basic\"");
    tu_assert_json(json_object_get(sum, "date"), "\"2026-11-21\"");
    /* a whole-value expression keeps the type */
    assert_true(json_is_integer(json_object_get(rt_step(sum, "a"), "output")));
    tu_assert_json(rt_step(sum, "a"), "{\"status\":\"success\",\"attempts\":1,\"output\":7}");
    tu_assert_json(json_object_get(rt_step(sum, "b"), "output"), "\"n=7 label=dflt\"");
    {
        json_t *c = json_object_get(rt_step(sum, "c"), "output");
        tu_assert_json(json_object_get(c, "sum"), "8");
        tu_assert_json(json_object_get(c, "list"), "[\"n=7 label=dflt\", 2]");
        tu_assert_json(json_object_get(c, "run"), "\"2026-11-21\"");
        assert_string_equal(json_string_value(json_object_get(c, "home")), getenv("HOME"));
    }
    json_decref(sum);
    json_decref(params);
}

static void test_failed_need_skips_downstream(void **state)
{
    struct rt_project *p = *state;
    enum weir_run_status st;
    json_t *sum = rt_run(p, "p.yaml",
                         "version: 1\n"
                         "name: skip\n"
                         "steps:\n"
                         "  - id: a\n"
                         "    uses: core.fail\n"
                         "    with: { message: boom }\n"
                         "  - id: b\n"
                         "    uses: core.echo\n"
                         "    needs: [a]\n"
                         "  - id: c\n"
                         "    uses: core.echo\n"
                         "    needs: [b]\n"
                         "  - id: d\n"
                         "    uses: core.echo\n"
                         "    with: { value: independent }\n",
                         2, NULL, &st, NULL);

    assert_int_equal(st, WEIR_RUN_FAILED);
    tu_assert_json(json_object_get(sum, "status"), "\"failed\"");
    rt_assert_status(sum, "a", "failed");
    assert_string_equal(rt_step_error(sum, "a"), "boom");
    rt_assert_status(sum, "b", "skipped");
    assert_int_equal(rt_step_attempts(sum, "b"), 0);
    rt_assert_status(sum, "c", "skipped");
    rt_assert_status(sum, "d", "success");
    json_decref(sum);
}

static void test_continue_on_error(void **state)
{
    struct rt_project *p = *state;
    enum weir_run_status st;
    json_t *sum = rt_run(p, "p.yaml",
                         "version: 1\n"
                         "name: coe\n"
                         "steps:\n"
                         "  - id: f\n"
                         "    uses: core.fail\n"
                         "    with: { message: tolerated }\n"
                         "    continue_on_error: true\n"
                         "  - id: g\n"
                         "    uses: core.echo\n"
                         "    needs: [f]\n"
                         "    with: { value: \"${{ steps.f.status }}: ${{ steps.f.error }}\" }\n",
                         2, NULL, &st, NULL);

    assert_int_equal(st, WEIR_RUN_SUCCESS);
    rt_assert_status(sum, "f", "failed");
    assert_string_equal(rt_step_error(sum, "f"), "tolerated");
    rt_assert_status(sum, "g", "success");
    tu_assert_json(json_object_get(rt_step(sum, "g"), "output"), "\"failed: tolerated\"");
    json_decref(sum);
}

/* GitHub Actions semantics: a job whose need was skipped is skipped too. */
static void test_if_false_skips_dependents(void **state)
{
    struct rt_project *p = *state;
    enum weir_run_status st;
    json_t *sum = rt_run(p, "p.yaml",
                         "version: 1\n"
                         "name: cond\n"
                         "params:\n"
                         "  on: { type: boolean, default: false }\n"
                         "steps:\n"
                         "  - id: a\n"
                         "    uses: core.echo\n"
                         "    with: { value: 5 }\n"
                         "  - id: off\n"
                         "    uses: core.fail\n"
                         "    if: \"${{ params.on }}\"\n"
                         "  - id: after_off\n"
                         "    uses: core.echo\n"
                         "    needs: [off]\n"
                         "  - id: on\n"
                         "    uses: core.echo\n"
                         "    needs: [a]\n"
                         "    if: \"${{ steps.a.output == 5 }}\"\n"
                         "    with: { value: ran }\n",
                         2, NULL, &st, NULL);

    assert_int_equal(st, WEIR_RUN_SUCCESS);
    rt_assert_status(sum, "off", "skipped");
    assert_int_equal(rt_step_attempts(sum, "off"), 0);
    rt_assert_status(sum, "after_off", "skipped");
    rt_assert_status(sum, "on", "success");
    tu_assert_json(json_object_get(rt_step(sum, "on"), "output"), "\"ran\"");
    json_decref(sum);
}

static void test_if_error_fails_step(void **state)
{
    struct rt_project *p = *state;
    enum weir_run_status st;
    json_t *sum = rt_run(p, "p.yaml",
                         "version: 1\n"
                         "name: cond_error\n"
                         "steps:\n"
                         "  - id: a\n"
                         "    uses: core.echo\n"
                         "    with: { value: text }\n"
                         "  - id: b\n"
                         "    uses: core.echo\n"
                         "    needs: [a]\n"
                         "    if: \"${{ steps.a.output < 3 }}\"\n",
                         2, NULL, &st, NULL);

    assert_int_equal(st, WEIR_RUN_FAILED);
    rt_assert_status(sum, "b", "failed");
    rt_assert_contains(rt_step_error(sum, "b"), "if:");
    json_decref(sum);
}

/* -------------------------------------------------------------------- */

static const char *const dag_yaml =
    "version: 1\n"
    "name: dag\n"
    "steps:\n"
    "  - id: root\n"
    "    uses: core.echo\n"
    "    with: { value: [45, 15, 30] }\n"
    "  - id: slow\n"
    "    uses: core.sleep\n"
    "    needs: [root]\n"
    "    with: { ms: 60 }\n"
    "  - id: fast\n"
    "    uses: core.echo\n"
    "    needs: [root]\n"
    "    with: { value: \"${{ steps.root.output[0] }}\" }\n"
    "  - id: fan\n"
    "    uses: core.sleep\n"
    "    needs: [root]\n"
    "    for_each: \"${{ steps.root.output }}\"\n"
    "    with: { ms: \"${{ item }}\" }\n"
    "  - id: broken\n"
    "    uses: core.fail\n"
    "    needs: [fast]\n"
    "    continue_on_error: true\n"
    "  - id: join\n"
    "    uses: core.echo\n"
    "    needs: [slow, fast, fan, broken]\n"
    "    with: { value: { fast: \"${{ steps.fast.output }}\", fan: \"${{ steps.fan.output }}\" } }\n"
    "  - id: never\n"
    "    uses: core.echo\n"
    "    if: \"${{ false }}\"\n"
    "  - id: tail\n"
    "    uses: core.echo\n"
    "    needs: [join]\n";

static void test_summary_independent_of_jobs(void **state)
{
    struct rt_project *p = *state;
    enum weir_run_status st1, st8;
    json_t *s1 = rt_run(p, "dag.yaml", dag_yaml, 1, NULL, &st1, NULL);
    json_t *s8 = rt_run(p, "dag.yaml", dag_yaml, 8, NULL, &st8, NULL);
    /* not sorted: the key order (pipeline order) must match too */
    char *t1 = json_dumps(json_object_get(s1, "steps"), JSON_COMPACT);
    char *t8 = json_dumps(json_object_get(s8, "steps"), JSON_COMPACT);
    static const char *const order[] = { "root", "slow", "fast", "fan", "broken", "join", "never", "tail" };
    const char *key;
    json_t *v;
    size_t k = 0;

    assert_int_equal(st1, WEIR_RUN_SUCCESS);
    assert_int_equal(st8, WEIR_RUN_SUCCESS);
    assert_string_not_equal(rt_run_id(s1), rt_run_id(s8));
    assert_string_equal(t1, t8);
    json_object_foreach(json_object_get(s8, "steps"), key, v) {
        assert_true(k < 8);
        assert_string_equal(key, order[k]);
        k++;
    }
    assert_int_equal(k, 8);
    tu_assert_json(json_object_get(rt_step(s8, "join"), "output"),
                   "{\"fast\":45,\"fan\":[{\"slept_ms\":45},{\"slept_ms\":15},{\"slept_ms\":30}]}");
    free(t1);
    free(t8);
    json_decref(s1);
    json_decref(s8);
}

static const char *const eight_sleeps =
    "version: 1\n"
    "name: par\n"
    "steps:\n"
    "  - { id: s1, uses: core.sleep, with: { ms: 200 } }\n"
    "  - { id: s2, uses: core.sleep, with: { ms: 200 } }\n"
    "  - { id: s3, uses: core.sleep, with: { ms: 200 } }\n"
    "  - { id: s4, uses: core.sleep, with: { ms: 200 } }\n"
    "  - { id: s5, uses: core.sleep, with: { ms: 200 } }\n"
    "  - { id: s6, uses: core.sleep, with: { ms: 200 } }\n"
    "  - { id: s7, uses: core.sleep, with: { ms: 200 } }\n"
    "  - { id: s8, uses: core.sleep, with: { ms: 200 } }\n";

static void test_parallel_jobs(void **state)
{
    struct rt_project *p = *state;
    enum weir_run_status st;
    int64_t ms8, ms1;
    json_t *s8 = rt_run(p, "par.yaml", eight_sleeps, 8, NULL, &st, &ms8);

    assert_int_equal(st, WEIR_RUN_SUCCESS);
    json_t *s1 = rt_run(p, "par.yaml", eight_sleeps, 1, NULL, &st, &ms1);
    assert_int_equal(st, WEIR_RUN_SUCCESS);
    if (ms8 >= 1000) {
        fail_msg("8 x 200 ms with jobs=8 took %lld ms; expected < 1000", (long long)ms8);
    }
    if (ms1 < 1600) {
        fail_msg("8 x 200 ms with jobs=1 took %lld ms; expected >= 1600", (long long)ms1);
    }
    json_decref(s1);
    json_decref(s8);
}

/* -------------------------------------------------------------------- */

static void test_env_allow_list(void **state)
{
    struct rt_project *p = *state;
    char *diag = NULL;
    enum weir_run_status st;
    json_t *params = json_pack("{s:s}", "name", "WEIR_RT_SECRET");
    json_t *sum;

    setenv("WEIR_RT_SECRET", "hunter2", 1);
    /* a literal reference to a name outside the allow-list is refused before the run */
    assert_int_equal(rt_run_error(p, "env.yaml",
                                  "version: 1\n"
                                  "name: env\n"
                                  "steps:\n"
                                  "  - id: a\n"
                                  "    uses: core.echo\n"
                                  "    with: { value: \"${{ env.WEIR_RT_SECRET }}\" }\n",
                                  NULL, &diag),
                     WEIR_EINVALID);
    rt_assert_contains(diag, "env.yaml:6:");
    rt_assert_contains(diag, "WEIR_RT_SECRET");
    free(diag);
    /* a computed name cannot reach it either: env holds only allowed names */
    sum = rt_run(p, "env2.yaml",
                 "version: 1\n"
                 "name: env2\n"
                 "params:\n"
                 "  name: { type: string }\n"
                 "steps:\n"
                 "  - id: a\n"
                 "    uses: core.echo\n"
                 "    with: { value: [\"${{ env[params.name] }}\", \"${{ env['HOME'] }}\"] }\n",
                 2, params, &st, NULL);
    assert_int_equal(st, WEIR_RUN_SUCCESS);
    assert_true(json_is_null(json_array_get(json_object_get(rt_step(sum, "a"), "output"), 0)));
    assert_string_equal(json_string_value(json_array_get(json_object_get(rt_step(sum, "a"), "output"), 1)),
                        getenv("HOME"));
    json_decref(sum);
    json_decref(params);
    unsetenv("WEIR_RT_SECRET");
}

static void test_env_allowed_by_config(void **state)
{
    struct rt_project *p;
    enum weir_run_status st;
    json_t *sum;

    (void)state;
    setenv("WEIR_RT_VISIBLE", "shown", 1);
    p = rt_project_new("env: [WEIR_RT_VISIBLE]\n");
    sum = rt_run(p, "env.yaml",
                 "version: 1\n"
                 "name: env\n"
                 "steps:\n"
                 "  - id: a\n"
                 "    uses: core.echo\n"
                 "    with: { value: \"v=${{ env.WEIR_RT_VISIBLE }}\" }\n",
                 2, NULL, &st, NULL);
    assert_int_equal(st, WEIR_RUN_SUCCESS);
    tu_assert_json(json_object_get(rt_step(sum, "a"), "output"), "\"v=shown\"");
    json_decref(sum);
    rt_project_free(p);
    unsetenv("WEIR_RT_VISIBLE");
}

static void test_invalid_pipeline_runs_nothing(void **state)
{
    struct rt_project *p = *state;
    char *diag = NULL;
    char *marker = NULL;
    struct stat sb;

    assert_true(asprintf(&marker, "%s/marker.json", p->dir) >= 0);
    assert_int_equal(rt_run_error(p, "cycle.yaml",
                                  "version: 1\n"
                                  "name: cycle\n"
                                  "steps:\n"
                                  "  - id: w\n"
                                  "    uses: core.json_write\n"
                                  "    with: { path: marker.json, value: 1 }\n"
                                  "  - id: a\n"
                                  "    uses: core.echo\n"
                                  "    needs: [b]\n"
                                  "  - id: b\n"
                                  "    uses: core.echo\n"
                                  "    needs: [a]\n",
                                  NULL, &diag),
                     WEIR_EINVALID);
    rt_assert_contains(diag, "cycle.yaml:");
    assert_int_not_equal(stat(marker, &sb), 0);
    free(diag);
    free(marker);
}

/* Two runs at once on one runtime (a server running requests in threads). */
struct concurrent {
    struct rt_project *p;
    const char *name;
    int value;
    enum weir_run_status st;
    json_t *sum;
};

static void *run_one(void *arg)
{
    struct concurrent *c = arg;
    char *path = NULL, *yaml = NULL;
    struct weir_diags diags = { 0 };
    struct weir_run_opts opts = { .jobs = 3 };

    if (asprintf(&yaml,
                 "version: 1\n"
                 "name: %s\n"
                 "steps:\n"
                 "  - { id: a, uses: core.echo, with: { value: %d } }\n"
                 "  - { id: s1, uses: core.sleep, needs: [a], with: { ms: 30 } }\n"
                 "  - { id: s2, uses: core.flaky, needs: [a], with: { failures: 1 }, retry: { max: 1, delay: 5ms } }\n"
                 "  - { id: l, needs: [s1, s2], with: { v: \"${{ steps.a.output }}\" }, lua: 'return input.v * 2' }\n",
                 c->name, c->value) < 0) {
        return NULL;
    }
    path = tu_write_file(c->p->dir, c->name, yaml);
    opts.pipeline = path;
    if (weir_run_execute(c->p->rt, &opts, &diags, &c->st, &c->sum) != WEIR_OK) {
        c->sum = NULL;
    }
    weir_diags_free(&diags);
    free(path);
    free(yaml);
    return NULL;
}

static void test_concurrent_runs(void **state)
{
    struct rt_project *p = *state;
    struct concurrent c[2] = { { p, "one.yaml", 1, 0, NULL }, { p, "two.yaml", 2, 0, NULL } };
    pthread_t th[2];

    for (int i = 0; i < 2; i++) {
        assert_int_equal(pthread_create(&th[i], NULL, run_one, &c[i]), 0);
    }
    for (int i = 0; i < 2; i++) {
        pthread_join(th[i], NULL);
    }
    for (int i = 0; i < 2; i++) {
        char want[16];
        assert_non_null(c[i].sum);
        assert_int_equal(c[i].st, WEIR_RUN_SUCCESS);
        snprintf(want, sizeof(want), "%d", 2 * c[i].value);
        tu_assert_json(json_object_get(rt_step(c[i].sum, "l"), "output"), want);
        assert_int_equal(rt_step_attempts(c[i].sum, "s2"), 2);
    }
    assert_string_not_equal(rt_run_id(c[0].sum), rt_run_id(c[1].sum));
    json_decref(c[0].sum);
    json_decref(c[1].sum);
}

/* -------------------------------------------------------------------- */
/* cancellation                                                         */

struct canceller {
    char *marker;
    int64_t cancelled_at;
};

/* Waits (bounded) until the pipeline has written the marker, then cancels. */
static void *cancel_when_marked(void *arg)
{
    struct canceller *c = arg;
    struct stat sb;
    int64_t give_up = tu_now_ms() + 10000;

    while (stat(c->marker, &sb) != 0 && tu_now_ms() < give_up) {
        struct timespec ts = { 0, 5 * 1000000L };
        nanosleep(&ts, NULL);
    }
    c->cancelled_at = tu_now_ms();
    weir_run_cancel_all();
    return NULL;
}

/* Whether the run's event log (the only run in the workspace) has a result
 * event for step. */
static int step_has_result(const char *workspace, const char *step)
{
    char *runs = NULL;
    DIR *d;
    struct dirent *e;
    int found = 0;

    if (asprintf(&runs, "%s/runs", workspace) < 0 || !(d = opendir(runs))) {
        free(runs);
        return 0;
    }
    while (!found && (e = readdir(d)) != NULL) {
        char *path = NULL, *text, *line, *save = NULL;
        if (e->d_name[0] == '.' || asprintf(&path, "%s/%s/events.jsonl", runs, e->d_name) < 0) {
            continue;
        }
        text = tu_read_file(path, NULL);
        for (line = text ? strtok_r(text, "\n", &save) : NULL; line && !found;
             line = strtok_r(NULL, "\n", &save)) {
            json_t *ev = json_loads(line, 0, NULL);
            const char *event = json_string_value(json_object_get(ev, "event"));
            const char *id = json_string_value(json_object_get(ev, "step"));
            found = event && id && !strcmp(event, "result") && !strcmp(id, step);
            json_decref(ev);
        }
        free(text);
        free(path);
    }
    closedir(d);
    free(runs);
    return found;
}

struct event_canceller {
    const char *workspace;
    const char *step;
    int64_t cancelled_at;
};

/* Waits (bounded) until step's result is logged, then cancels. */
static void *cancel_after_result(void *arg)
{
    struct event_canceller *c = arg;
    int64_t give_up = tu_now_ms() + 10000;

    while (!step_has_result(c->workspace, c->step) && tu_now_ms() < give_up) {
        struct timespec ts = { 0, 5 * 1000000L };
        nanosleep(&ts, NULL);
    }
    c->cancelled_at = tu_now_ms();
    weir_run_cancel_all();
    return NULL;
}

static const char *const cancel_yaml =
    "version: 1\n"
    "name: cancel\n"
    "steps:\n"
    "  - id: long\n"
    "    uses: core.sleep\n"
    "    with: { ms: 5000 }\n"
    "  - id: pause\n"
    "    uses: core.sleep\n"
    "    with: { ms: 100 }\n"
    "  - id: mark\n"
    "    uses: core.json_write\n"
    "    needs: [pause]\n"
    "    with: { path: marker.json, value: 1 }\n"
    "  - id: after\n"
    "    uses: core.echo\n"
    "    needs: [long]\n";

static void test_cancel_all(void **state)
{
    struct rt_project *p = *state;
    struct canceller c = { 0 };
    pthread_t th;
    enum weir_run_status st;
    int64_t t0 = tu_now_ms(), t_end;
    json_t *sum;

    assert_true(asprintf(&c.marker, "%s/marker.json", p->dir) >= 0);
    unlink(c.marker);
    assert_int_equal(pthread_create(&th, NULL, cancel_when_marked, &c), 0);
    sum = rt_run(p, "cancel.yaml", cancel_yaml, 4, NULL, &st, NULL);
    t_end = tu_now_ms();
    pthread_join(th, NULL);

    assert_int_equal(st, WEIR_RUN_CANCELLED);
    tu_assert_json(json_object_get(sum, "status"), "\"cancelled\"");
    /* the sleeping step stops at once instead of sleeping its 5 s */
    if (t_end - c.cancelled_at > 1000) {
        fail_msg("run ended %lld ms after the cancel (started %lld ms before it)",
                 (long long)(t_end - c.cancelled_at), (long long)(c.cancelled_at - t0));
    }
    rt_assert_status(sum, "long", "cancelled");
    rt_assert_status(sum, "mark", "success");
    /* never started: skipped because its need was cancelled (or cancelled itself) */
    assert_true(!strcmp(rt_step_status(sum, "after"), "skipped") ||
                !strcmp(rt_step_status(sum, "after"), "cancelled"));
    assert_int_equal(rt_step_attempts(sum, "after"), 0);
    json_decref(sum);
    free(c.marker);
}

/* A step waiting out a long retry delay is cancelled at once, without
 * running its pending attempt. */
static void test_cancel_during_retry_delay(void **state)
{
    struct rt_project *p = *state;
    struct event_canceller c = { p->workspace, "mark", 0 };
    pthread_t th;
    enum weir_run_status st;
    int64_t t_end;
    json_t *sum;

    assert_int_equal(pthread_create(&th, NULL, cancel_after_result, &c), 0);
    sum = rt_run(p, "cancel_retry.yaml",
                 "version: 1\n"
                 "name: cancel_retry\n"
                 "steps:\n"
                 "  - id: flaky\n"
                 "    uses: core.flaky\n"
                 "    with: { failures: 5 }\n"
                 "    retry: { max: 5, delay: 5s, jitter: false }\n"
                 "  - id: pause\n"
                 "    uses: core.sleep\n"
                 "    with: { ms: 100 }\n"
                 "  - id: mark\n"
                 "    uses: core.json_write\n"
                 "    needs: [pause]\n"
                 "    with: { path: marker.json, value: 1 }\n",
                 4, NULL, &st, NULL);
    t_end = tu_now_ms();
    pthread_join(th, NULL);

    assert_int_equal(st, WEIR_RUN_CANCELLED);
    if (t_end - c.cancelled_at > 1000) {
        fail_msg("run ended %lld ms after the cancel; the 5 s retry delay was waited out",
                 (long long)(t_end - c.cancelled_at));
    }
    rt_assert_status(sum, "flaky", "cancelled");
    assert_int_equal(rt_step_attempts(sum, "flaky"), 1);
    json_decref(sum);
}

/* A cancel must not outlive the run it cancelled: the next run in the same
 * process runs normally. */
static void test_run_after_cancel(void **state)
{
    struct rt_project *p = *state;
    enum weir_run_status st;
    json_t *sum = rt_run(p, "after.yaml",
                         "version: 1\n"
                         "name: after\n"
                         "steps:\n"
                         "  - { id: a, uses: core.echo, with: { value: 1 } }\n"
                         "  - { id: b, uses: core.sleep, needs: [a], with: { ms: 10 } }\n",
                         2, NULL, &st, NULL);

    assert_int_equal(st, WEIR_RUN_SUCCESS);
    rt_assert_status(sum, "a", "success");
    rt_assert_status(sum, "b", "success");
    json_decref(sum);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_chain_types_and_interpolation, rt_setup, rt_teardown),
        cmocka_unit_test_setup_teardown(test_failed_need_skips_downstream, rt_setup, rt_teardown),
        cmocka_unit_test_setup_teardown(test_continue_on_error, rt_setup, rt_teardown),
        cmocka_unit_test_setup_teardown(test_if_false_skips_dependents, rt_setup, rt_teardown),
        cmocka_unit_test_setup_teardown(test_if_error_fails_step, rt_setup, rt_teardown),
        cmocka_unit_test_setup_teardown(test_summary_independent_of_jobs, rt_setup, rt_teardown),
        cmocka_unit_test_setup_teardown(test_parallel_jobs, rt_setup, rt_teardown),
        cmocka_unit_test_setup_teardown(test_env_allow_list, rt_setup, rt_teardown),
        cmocka_unit_test(test_env_allowed_by_config),
        cmocka_unit_test_setup_teardown(test_invalid_pipeline_runs_nothing, rt_setup, rt_teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_runs, rt_setup, rt_teardown),
        cmocka_unit_test_setup_teardown(test_cancel_all, rt_setup, rt_teardown),
        cmocka_unit_test_setup_teardown(test_cancel_during_retry_delay, rt_setup, rt_teardown),
        cmocka_unit_test_setup_teardown(test_run_after_cancel, rt_setup, rt_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
