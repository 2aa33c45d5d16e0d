/* test_run_approval_resume.c - approval steps (pause, approve, reject,
 * refine with feedback) and resuming failed runs without redoing finished
 * steps. */
#include "rt_util.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "state.h"

/* gen appends a line to gen.log each time it really runs, so re-runs show. */
static const char *const approval_yaml =
    "version: 1\n"
    "name: approve\n"
    "params:\n"
    "  topic: { type: string, default: sales }\n"
    "steps:\n"
    "  - id: gen\n"
    "    uses: core.shell\n"
    "    with:\n"
    "      argv: [sh, -c, 'echo ran >> gen.log; printf %s \"$0\"',\n"
    "             \"draft for ${{ params.topic }}${{ feedback.comment }}\"]\n"
    "  - id: review\n"
    "    needs: [gen]\n"
    "    approval:\n"
    "      message: \"Approve: ${{ steps.gen.output.stdout }}\"\n"
    "      show: { draft: \"${{ steps.gen.output.stdout }}\", n: 3 }\n"
    "      refine: gen\n"
    "  - id: use\n"
    "    uses: core.echo\n"
    "    needs: [review]\n"
    "    with: { value: \"${{ steps.review.output.decision }}: ${{ steps.gen.output.stdout }}\" }\n"
    "  - id: side\n"
    "    uses: core.sleep\n"
    "    with: { ms: 20 }\n";

static int gen_runs(const struct rt_project *p)
{
    char *path = NULL, *text;
    int n = 0;

    assert_true(asprintf(&path, "%s/gen.log", p->dir) >= 0);
    text = tu_read_file(path, NULL);
    for (char *c = text; c && *c; c++) {
        n += *c == '\n';
    }
    free(text);
    free(path);
    return n;
}

static void decide(const struct rt_project *p, const char *run_id, const char *decision, const char *comment)
{
    struct weir_state *st = NULL;
    int rc;

    assert_int_equal(weir_state_open(p->workspace, &st), WEIR_OK);
    rc = weir_state_approval_decide(st, run_id, "review", decision, comment, "ann", 1795300000000);
    weir_state_close(st);
    if (rc != WEIR_OK) {
        fail_msg("approval_decide(%s): %d %s", decision, rc, weir_error_last());
    }
}

static json_t *approvals(const struct rt_project *p, const char *run_id, int pending_only)
{
    struct weir_state *st = NULL;
    json_t *list = NULL;

    assert_int_equal(weir_state_open(p->workspace, &st), WEIR_OK);
    assert_int_equal(weir_state_approvals_list(st, run_id, pending_only, &list), WEIR_OK);
    weir_state_close(st);
    return list;
}

/* Runs the pipeline up to its approval; returns the run id (free it). */
static char *run_to_approval(struct rt_project *p)
{
    enum weir_run_status st;
    json_t *sum = rt_run(p, "approve.yaml", approval_yaml, 2, NULL, &st, NULL);
    json_t *list, *a;
    char *id;

    assert_int_equal(st, WEIR_RUN_PAUSED);
    tu_assert_json(json_object_get(sum, "status"), "\"paused\"");
    rt_assert_status(sum, "gen", "success");
    rt_assert_status(sum, "review", "waiting");
    rt_assert_status(sum, "use", "pending");
    rt_assert_status(sum, "side", "success"); /* independent work goes on */
    assert_int_equal(gen_runs(p), 1);
    id = strdup(rt_run_id(sum));

    list = approvals(p, id, 1);
    assert_int_equal(json_array_size(list), 1);
    a = json_array_get(list, 0);
    tu_assert_json(json_object_get(a, "step"), "\"review\"");
    tu_assert_json(json_object_get(a, "status"), "\"pending\"");
    tu_assert_json(json_object_get(a, "message"), "\"Approve: draft for sales\"");
    tu_assert_json(json_object_get(a, "payload"), "{\"draft\":\"draft for sales\",\"n\":3}");
    json_decref(list);
    {
        json_t *run = rt_state_run(p, id);
        tu_assert_json(json_object_get(run, "status"), "\"paused\"");
        tu_assert_json(json_object_get(rt_state_step(run, "review"), "status"), "\"waiting\"");
        json_decref(run);
    }
    json_decref(sum);
    return id;
}

static void test_approve(void **state)
{
    struct rt_project *p = *state;
    char *id = run_to_approval(p);
    enum weir_run_status st;
    json_t *sum, *list;
    struct weir_diags diags = { 0 };
    struct weir_run_opts again = { .resume = id, .jobs = 2 };
    json_t *none = NULL;

    decide(p, id, "approved", "lgtm");
    sum = rt_resume(p, id, 2, &st);
    assert_int_equal(st, WEIR_RUN_SUCCESS);
    assert_string_equal(rt_run_id(sum), id);
    rt_assert_status(sum, "gen", "success");
    assert_int_equal(gen_runs(p), 1); /* reused, not re-run */
    rt_assert_status(sum, "review", "success");
    tu_assert_json(json_object_get(rt_step(sum, "review"), "output"),
                   "{\"decision\":\"approved\",\"comment\":\"lgtm\",\"by\":\"ann\"}");
    tu_assert_json(json_object_get(rt_step(sum, "use"), "output"), "\"approved: draft for sales\"");
    rt_assert_status(sum, "side", "success");

    list = approvals(p, id, 0);
    assert_int_equal(json_array_size(list), 1);
    tu_assert_json(json_object_get(json_array_get(list, 0), "status"), "\"approved\"");
    json_decref(list);
    list = approvals(p, id, 1);
    assert_int_equal(json_array_size(list), 0);
    json_decref(list);
    {
        json_t *run = rt_state_run(p, id);
        tu_assert_json(json_object_get(run, "status"), "\"success\"");
        json_decref(run);
    }
    /* a finished run cannot be resumed */
    assert_int_equal(weir_run_execute(p->rt, &again, &diags, &st, &none), WEIR_EINVALID);
    rt_assert_contains(weir_error_last(), "already succeeded");
    assert_null(none);
    weir_diags_free(&diags);
    json_decref(sum);
    free(id);
}

static void test_reject(void **state)
{
    struct rt_project *p = *state;
    char *id = run_to_approval(p);
    enum weir_run_status st;
    json_t *sum;

    decide(p, id, "rejected", "wrong table");
    sum = rt_resume(p, id, 2, &st);
    assert_int_equal(st, WEIR_RUN_FAILED);
    rt_assert_status(sum, "review", "failed");
    rt_assert_contains(rt_step_error(sum, "review"), "rejected");
    rt_assert_contains(rt_step_error(sum, "review"), "wrong table");
    rt_assert_status(sum, "use", "skipped");
    assert_int_equal(gen_runs(p), 1);
    {
        json_t *run = rt_state_run(p, id);
        tu_assert_json(json_object_get(run, "status"), "\"failed\"");
        json_decref(run);
    }
    json_decref(sum);
    free(id);
}

/* Refine re-runs gen with the comment, asks again; then approve finishes
 * with gen's refined output, without running gen a third time. A new
 * runtime per resume, as when `weir approvals` and `weir run --resume` are
 * separate processes. */
static void test_refine_then_approve(void **state)
{
    struct rt_project *p = *state;
    char *id = run_to_approval(p);
    enum weir_run_status st;
    struct weir_diags diags = { 0 };
    json_t *sum, *list, *a;

    decide(p, id, "refined", " (shorter)");
    weir_runtime_close(p->rt);
    p->rt = NULL;
    {
        char *cfg = NULL;
        assert_true(asprintf(&cfg, "%s/weir.yaml", p->dir) >= 0);
        assert_int_equal(weir_runtime_open(cfg, tu_env("WEIR_PLUGIN_DIR"), &p->rt, &diags), WEIR_OK);
        free(cfg);
    }
    sum = rt_resume(p, id, 2, &st);
    assert_int_equal(st, WEIR_RUN_PAUSED);
    assert_int_equal(gen_runs(p), 2);
    tu_assert_json(json_object_get(json_object_get(rt_step(sum, "gen"), "output"), "stdout"),
                   "\"draft for sales (shorter)\"");
    rt_assert_status(sum, "review", "waiting");
    rt_assert_status(sum, "use", "pending");
    rt_assert_status(sum, "side", "success");

    list = approvals(p, id, 1);
    assert_int_equal(json_array_size(list), 1);
    a = json_array_get(list, 0);
    tu_assert_json(json_object_get(a, "message"), "\"Approve: draft for sales (shorter)\"");
    tu_assert_json(json_object_get(a, "payload"), "{\"draft\":\"draft for sales (shorter)\",\"n\":3}");
    /* the refine is kept in the history */
    assert_true(json_array_size(json_object_get(a, "history")) >= 1);
    tu_assert_json(json_object_get(json_array_get(json_object_get(a, "history"), 0), "status"), "\"refined\"");
    json_decref(list);
    json_decref(sum);

    decide(p, id, "approved", NULL);
    sum = rt_resume(p, id, 2, &st);
    assert_int_equal(st, WEIR_RUN_SUCCESS);
    assert_int_equal(gen_runs(p), 2);
    tu_assert_json(json_object_get(rt_step(sum, "use"), "output"), "\"approved: draft for sales (shorter)\"");
    json_decref(sum);
    weir_diags_free(&diags);
    free(id);
}

/* -------------------------------------------------------------------- */
/* resume after failure                                                 */

static const char *const resume_yaml =
    "version: 1\n"
    "name: resume\n"
    "steps:\n"
    "  - id: a\n"
    "    uses: core.flaky\n"
    "    with: { failures: 0, key: a }\n"
    "  - id: b\n"
    "    uses: core.flaky\n"
    "    needs: [a]\n"
    "    with: { failures: 1 }\n"
    "  - id: c\n"
    "    uses: core.echo\n"
    "    needs: [b]\n"
    "    with: { value: \"${{ steps.a.output.attempt }}-${{ steps.b.output.attempt }}\" }\n"
    "  - id: d\n"
    "    uses: core.flaky\n"
    "    with: { failures: 0 }\n";

static void test_resume_after_failure(void **state)
{
    struct rt_project *p = *state;
    enum weir_run_status st;
    json_t *first = rt_run(p, "resume.yaml", resume_yaml, 2, NULL, &st, NULL);
    const char *id = rt_run_id(first);
    json_t *sum, *run, *events, *ev;
    size_t i, starts = 0, ends = 0;

    assert_int_equal(st, WEIR_RUN_FAILED);
    tu_assert_json(json_object_get(rt_step(first, "a"), "output"), "{\"attempt\":1}");
    rt_assert_status(first, "b", "failed");
    rt_assert_status(first, "c", "skipped");
    tu_assert_json(json_object_get(rt_step(first, "d"), "output"), "{\"attempt\":1}");

    sum = rt_resume(p, id, 2, &st);
    assert_int_equal(st, WEIR_RUN_SUCCESS);
    assert_string_equal(rt_run_id(sum), id);
    /* a and d were not re-run: their flaky counters would say 2 */
    tu_assert_json(json_object_get(rt_step(sum, "a"), "output"), "{\"attempt\":1}");
    assert_int_equal(rt_step_attempts(sum, "a"), 1);
    tu_assert_json(json_object_get(rt_step(sum, "d"), "output"), "{\"attempt\":1}");
    /* b was, under the same run id: the second call of its counter */
    tu_assert_json(json_object_get(rt_step(sum, "b"), "output"), "{\"attempt\":2}");
    rt_assert_status(sum, "c", "success");
    tu_assert_json(json_object_get(rt_step(sum, "c"), "output"), "\"1-2\"");

    run = rt_state_run(p, id);
    tu_assert_json(json_object_get(run, "status"), "\"success\"");
    tu_assert_json(json_object_get(rt_state_step(run, "b"), "status"), "\"success\"");
    tu_assert_json(json_object_get(rt_state_step(run, "c"), "status"), "\"success\"");
    json_decref(run);

    /* one log across both sessions: two starts (the second marked resumed), two ends */
    events = rt_events(p, id);
    json_array_foreach(events, i, ev) {
        const char *e = json_string_value(json_object_get(ev, "event"));
        if (!strcmp(e, "start")) {
            tu_assert_json(json_object_get(ev, "resumed"), starts ? "true" : "false");
            starts++;
        }
        ends += !strcmp(e, "end");
    }
    assert_int_equal(starts, 2);
    assert_int_equal(ends, 2);
    json_decref(events);
    json_decref(sum);
    json_decref(first);
}

/* A resume runs the pipeline the run started with, even if the file changed. */
static void test_resume_uses_recorded_pipeline(void **state)
{
    struct rt_project *p = *state;
    enum weir_run_status st;
    json_t *first = rt_run(p, "resume.yaml", resume_yaml, 2, NULL, &st, NULL);
    json_t *sum;

    assert_int_equal(st, WEIR_RUN_FAILED);
    free(rt_write(p, "resume.yaml", "version: 1\nname: other\nsteps:\n  - { id: z, uses: core.fail }\n"));
    sum = rt_resume(p, rt_run_id(first), 2, &st);
    assert_int_equal(st, WEIR_RUN_SUCCESS);
    tu_assert_json(json_object_get(sum, "pipeline"), "\"resume\"");
    rt_assert_status(sum, "c", "success");
    json_decref(sum);
    json_decref(first);
}

static void test_resume_unknown_run(void **state)
{
    struct rt_project *p = *state;
    struct weir_run_opts opts = { .resume = "20990101-000000-abcdef", .jobs = 1 };
    struct weir_diags diags = { 0 };
    enum weir_run_status st;
    json_t *sum = NULL;

    assert_int_equal(weir_run_execute(p->rt, &opts, &diags, &st, &sum), WEIR_ENOTFOUND);
    assert_null(sum);
    weir_diags_free(&diags);
}

/* Resuming before anyone decided pauses again, with one pending approval
 * and nothing re-run. */
static void test_resume_undecided(void **state)
{
    struct rt_project *p = *state;
    char *id = run_to_approval(p);
    enum weir_run_status st;
    json_t *sum = rt_resume(p, id, 2, &st), *list;

    assert_int_equal(st, WEIR_RUN_PAUSED);
    rt_assert_status(sum, "review", "waiting");
    rt_assert_status(sum, "use", "pending");
    assert_int_equal(gen_runs(p), 1);
    list = approvals(p, id, 0);
    assert_int_equal(json_array_size(list), 1);
    tu_assert_json(json_object_get(json_array_get(list, 0), "status"), "\"pending\"");
    json_decref(list);
    json_decref(sum);
    free(id);
}

/* Deciding twice is refused: the approval is no longer pending. */
static void test_decide_twice(void **state)
{
    struct rt_project *p = *state;
    char *id = run_to_approval(p);
    struct weir_state *st = NULL;

    decide(p, id, "approved", NULL);
    assert_int_equal(weir_state_open(p->workspace, &st), WEIR_OK);
    assert_int_equal(weir_state_approval_decide(st, id, "review", "rejected", NULL, NULL, 1), WEIR_EINVALID);
    weir_state_close(st);
    free(id);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_approve, rt_setup, rt_teardown),
        cmocka_unit_test_setup_teardown(test_reject, rt_setup, rt_teardown),
        cmocka_unit_test_setup_teardown(test_refine_then_approve, rt_setup, rt_teardown),
        cmocka_unit_test_setup_teardown(test_resume_undecided, rt_setup, rt_teardown),
        cmocka_unit_test_setup_teardown(test_decide_twice, rt_setup, rt_teardown),
        cmocka_unit_test_setup_teardown(test_resume_after_failure, rt_setup, rt_teardown),
        cmocka_unit_test_setup_teardown(test_resume_uses_recorded_pipeline, rt_setup, rt_teardown),
        cmocka_unit_test_setup_teardown(test_resume_unknown_run, rt_setup, rt_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
