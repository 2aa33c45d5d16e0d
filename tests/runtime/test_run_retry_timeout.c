/* test_run_retry_timeout.c - retry {max, backoff, delay, max_delay, jitter}
 * and timeout, for plugin steps, Lua steps and for_each items. */
#include "rt_util.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"

/* The delay_ms of the "retrying" events of step, in order (new array). */
static json_t *retry_delays(const struct rt_project *p, const json_t *sum, const char *step)
{
    json_t *events = rt_events(p, rt_run_id(sum)), *delays = json_array(), *ev;
    size_t i;

    json_array_foreach(events, i, ev) {
        const char *status = json_string_value(json_object_get(ev, "status"));
        const char *id = json_string_value(json_object_get(ev, "step"));
        if (status && id && !strcmp(status, "retrying") && !strcmp(id, step)) {
            json_array_append(delays, json_object_get(ev, "delay_ms"));
        }
    }
    json_decref(events);
    return delays;
}

/* Each logged delay is in [lo - 2, hi] (2 ms for the clock read between
 * scheduling and logging). */
static void assert_delays(const json_t *delays, const long long *lo, const long long *hi, size_t n)
{
    char *text = tu_json_text(delays);

    if (json_array_size(delays) != n) {
        fail_msg("retry delays %s: want %zu of them", text, n);
    }
    for (size_t i = 0; i < n; i++) {
        long long d = (long long)json_integer_value(json_array_get(delays, i));
        if (d < lo[i] - 2 || d > hi[i]) {
            fail_msg("retry delay #%zu is %lld ms, want [%lld, %lld] (all: %s)", i + 1, d, lo[i], hi[i], text);
        }
    }
    free(text);
}

static void test_retry_succeeds(void **state)
{
    struct rt_project *p = *state;
    enum weir_run_status st;
    int64_t ms;
    json_t *sum = rt_run(p, "p.yaml",
                         "version: 1\n"
                         "name: retry_ok\n"
                         "steps:\n"
                         "  - id: f\n"
                         "    uses: core.flaky\n"
                         "    with: { failures: 2 }\n"
                         "    retry: { max: 2, delay: 20ms }\n"
                         "  - id: after\n"
                         "    uses: core.echo\n"
                         "    needs: [f]\n"
                         "    with: { value: \"${{ steps.f.output.attempt }}\" }\n",
                         2, NULL, &st, &ms);
    json_t *delays = retry_delays(p, sum, "f");
    static const long long lo[] = { 10, 10 }, hi[] = { 20, 20 }; /* jitter is on by default */

    assert_int_equal(st, WEIR_RUN_SUCCESS);
    rt_assert_status(sum, "f", "success");
    assert_int_equal(rt_step_attempts(sum, "f"), 3);
    tu_assert_json(json_object_get(rt_step(sum, "f"), "output"), "{\"attempt\":3}");
    tu_assert_json(json_object_get(rt_step(sum, "after"), "output"), "3");
    assert_delays(delays, lo, hi, 2);
    if (ms < 20) {
        fail_msg("two retries with delay 20ms (jitter: >= 10 ms each) took only %lld ms", (long long)ms);
    }
    json_decref(delays);
    json_decref(sum);
}

static void test_retry_exhausted(void **state)
{
    struct rt_project *p = *state;
    enum weir_run_status st;
    json_t *sum = rt_run(p, "p.yaml",
                         "version: 1\n"
                         "name: retry_fail\n"
                         "steps:\n"
                         "  - id: f\n"
                         "    uses: core.flaky\n"
                         "    with: { failures: 2 }\n"
                         "    retry: { max: 1, delay: 20ms }\n"
                         "  - id: after\n"
                         "    uses: core.echo\n"
                         "    needs: [f]\n",
                         2, NULL, &st, NULL);

    assert_int_equal(st, WEIR_RUN_FAILED);
    rt_assert_status(sum, "f", "failed");
    assert_int_equal(rt_step_attempts(sum, "f"), 2);
    rt_assert_contains(rt_step_error(sum, "f"), "attempt 2 fails");
    rt_assert_status(sum, "after", "skipped");
    json_decref(sum);
}

static void test_retry_fixed_without_jitter(void **state)
{
    struct rt_project *p = *state;
    enum weir_run_status st;
    int64_t ms;
    json_t *sum = rt_run(p, "p.yaml",
                         "version: 1\n"
                         "name: retry_fixed\n"
                         "steps:\n"
                         "  - id: f\n"
                         "    uses: core.flaky\n"
                         "    with: { failures: 3 }\n"
                         "    retry: { max: 3, backoff: fixed, delay: 40ms, jitter: false }\n",
                         2, NULL, &st, &ms);
    json_t *delays = retry_delays(p, sum, "f");
    static const long long lo[] = { 40, 40, 40 }, hi[] = { 40, 40, 40 };

    assert_int_equal(st, WEIR_RUN_SUCCESS);
    assert_int_equal(rt_step_attempts(sum, "f"), 4);
    assert_delays(delays, lo, hi, 3);
    if (ms < 120) {
        fail_msg("three fixed 40 ms delays took only %lld ms", (long long)ms);
    }
    json_decref(delays);
    json_decref(sum);
}

static void test_retry_exponential(void **state)
{
    struct rt_project *p = *state;
    enum weir_run_status st;
    int64_t ms;
    json_t *sum = rt_run(p, "p.yaml",
                         "version: 1\n"
                         "name: retry_exp\n"
                         "steps:\n"
                         "  - id: f\n"
                         "    uses: core.flaky\n"
                         "    with: { failures: 3 }\n"
                         "    retry: { max: 3, backoff: exponential, delay: 20ms, jitter: false }\n"
                         "  - id: capped\n"
                         "    uses: core.flaky\n"
                         "    with: { failures: 4 }\n"
                         "    retry: { max: 4, backoff: exponential, delay: 20ms, max_delay: 50ms,\n"
                         "             jitter: false }\n"
                         "  - id: jittered\n"
                         "    uses: core.flaky\n"
                         "    with: { failures: 3 }\n"
                         "    retry: { max: 3, backoff: exponential, delay: 40ms, jitter: true }\n",
                         4, NULL, &st, &ms);
    json_t *d1 = retry_delays(p, sum, "f");
    json_t *d2 = retry_delays(p, sum, "capped");
    json_t *d3 = retry_delays(p, sum, "jittered");
    static const long long lo1[] = { 20, 40, 80 }, hi1[] = { 20, 40, 80 };
    static const long long lo2[] = { 20, 40, 50, 50 }, hi2[] = { 20, 40, 50, 50 };
    static const long long lo3[] = { 20, 40, 80 }, hi3[] = { 40, 80, 160 };

    assert_int_equal(st, WEIR_RUN_SUCCESS);
    assert_int_equal(rt_step_attempts(sum, "f"), 4);
    assert_int_equal(rt_step_attempts(sum, "capped"), 5);
    assert_int_equal(rt_step_attempts(sum, "jittered"), 4);
    assert_delays(d1, lo1, hi1, 3);
    assert_delays(d2, lo2, hi2, 4);
    assert_delays(d3, lo3, hi3, 3);
    if (ms < 160) {
        fail_msg("delays of 20+40+50+50 ms (in parallel with others) took only %lld ms", (long long)ms);
    }
    json_decref(d1);
    json_decref(d2);
    json_decref(d3);
    json_decref(sum);
}

/* `retry: N` is short for {max: N} with the default 1 s delay and jitter. */
static void test_retry_short_form(void **state)
{
    struct rt_project *p = *state;
    enum weir_run_status st;
    int64_t ms;
    json_t *sum = rt_run(p, "p.yaml",
                         "version: 1\n"
                         "name: retry_short\n"
                         "steps:\n"
                         "  - id: f\n"
                         "    uses: core.flaky\n"
                         "    with: { failures: 1 }\n"
                         "    retry: 1\n",
                         2, NULL, &st, &ms);
    json_t *delays = retry_delays(p, sum, "f");
    static const long long lo[] = { 500 }, hi[] = { 1000 };

    assert_int_equal(st, WEIR_RUN_SUCCESS);
    assert_int_equal(rt_step_attempts(sum, "f"), 2);
    assert_delays(delays, lo, hi, 1);
    assert_true(ms >= 500);
    json_decref(delays);
    json_decref(sum);
}

/* Every for_each item is retried on its own. */
static void test_retry_per_item(void **state)
{
    struct rt_project *p = *state;
    enum weir_run_status st;
    json_t *sum = rt_run(p, "p.yaml",
                         "version: 1\n"
                         "name: retry_items\n"
                         "steps:\n"
                         "  - id: f\n"
                         "    uses: core.flaky\n"
                         "    for_each: [0, 1, 2]\n"
                         "    with: { failures: \"${{ item }}\", key: \"k${{ index }}\" }\n"
                         "    retry: { max: 2, delay: 10ms }\n",
                         4, NULL, &st, NULL);

    assert_int_equal(st, WEIR_RUN_SUCCESS);
    tu_assert_json(json_object_get(rt_step(sum, "f"), "output"),
                   "[{\"attempt\":1},{\"attempt\":2},{\"attempt\":3}]");
    assert_int_equal(rt_step_attempts(sum, "f"), 3);
    json_decref(sum);
}

/* -------------------------------------------------------------------- */

static void test_timeout_plugin_step(void **state)
{
    struct rt_project *p = *state;
    enum weir_run_status st;
    int64_t ms;
    json_t *sum = rt_run(p, "p.yaml",
                         "version: 1\n"
                         "name: timeout\n"
                         "steps:\n"
                         "  - id: slow\n"
                         "    uses: core.sleep\n"
                         "    with: { ms: 5000 }\n"
                         "    timeout: 200ms\n"
                         "  - id: quick\n"
                         "    uses: core.sleep\n"
                         "    with: { ms: 10 }\n"
                         "    timeout: 2s\n"
                         "  - id: after\n"
                         "    uses: core.echo\n"
                         "    needs: [slow]\n",
                         2, NULL, &st, &ms);

    assert_int_equal(st, WEIR_RUN_FAILED);
    rt_assert_status(sum, "slow", "failed");
    rt_assert_contains(rt_step_error(sum, "slow"), "timed out");
    rt_assert_contains(rt_step_error(sum, "slow"), "200 ms");
    rt_assert_status(sum, "quick", "success");
    rt_assert_status(sum, "after", "skipped");
    if (ms < 200 || ms > 1500) {
        fail_msg("a 200 ms timeout on a 5 s sleep ended the run after %lld ms", (long long)ms);
    }
    json_decref(sum);
}

/* The timeout is per attempt; a timed-out attempt is retried. */
static void test_timeout_with_retry(void **state)
{
    struct rt_project *p = *state;
    enum weir_run_status st;
    int64_t ms;
    json_t *sum = rt_run(p, "p.yaml",
                         "version: 1\n"
                         "name: timeout_retry\n"
                         "steps:\n"
                         "  - id: slow\n"
                         "    uses: core.sleep\n"
                         "    with: { ms: 5000 }\n"
                         "    timeout: 100ms\n"
                         "    retry: { max: 2, delay: 10ms }\n",
                         2, NULL, &st, &ms);

    assert_int_equal(st, WEIR_RUN_FAILED);
    assert_int_equal(rt_step_attempts(sum, "slow"), 3);
    rt_assert_contains(rt_step_error(sum, "slow"), "timed out");
    if (ms < 300 || ms > 2500) {
        fail_msg("3 attempts with a 100 ms timeout took %lld ms", (long long)ms);
    }
    json_decref(sum);
}

static void test_timeout_lua_spin(void **state)
{
    struct rt_project *p = *state;
    enum weir_run_status st;
    int64_t ms;
    json_t *sum = rt_run(p, "p.yaml",
                         "version: 1\n"
                         "name: spin\n"
                         "steps:\n"
                         "  - id: spin\n"
                         "    lua: |\n"
                         "      while true do end\n"
                         "    timeout: 300ms\n"
                         "  - id: guarded\n"
                         "    lua: |\n"
                         "      local ok, err = pcall(function() while true do end end)\n"
                         "      return 'swallowed'\n"
                         "    timeout: 300ms\n",
                         2, NULL, &st, &ms);

    assert_int_equal(st, WEIR_RUN_FAILED);
    rt_assert_status(sum, "spin", "failed");
    rt_assert_contains(rt_step_error(sum, "spin"), "300 ms");
    /* pcall cannot swallow the time budget */
    rt_assert_status(sum, "guarded", "failed");
    if (ms > 2000) {
        fail_msg("a Lua loop with a 300 ms timeout ran %lld ms", (long long)ms);
    }
    json_decref(sum);
}

/* Without a step timeout, the Lua time budget of weir.yaml applies. */
static void test_lua_budget_from_config(void **state)
{
    struct rt_project *p = rt_project_new("lua: { time_budget_ms: 200 }\n");
    enum weir_run_status st;
    int64_t ms;
    json_t *sum = rt_run(p, "p.yaml",
                         "version: 1\n"
                         "name: budget\n"
                         "steps:\n"
                         "  - id: spin\n"
                         "    lua: |\n"
                         "      while true do end\n",
                         2, NULL, &st, &ms);

    (void)state;
    assert_int_equal(st, WEIR_RUN_FAILED);
    rt_assert_status(sum, "spin", "failed");
    rt_assert_contains(rt_step_error(sum, "spin"), "time budget of 200 ms");
    if (ms > 2000) {
        fail_msg("a 200 ms Lua budget let the loop run %lld ms", (long long)ms);
    }
    json_decref(sum);
    rt_project_free(p);
}

/* A step's own time limit (not `timeout:`) keeps its own message. */
static void test_plugin_timeout_message_kept(void **state)
{
    struct rt_project *p = *state;
    enum weir_run_status st;
    json_t *sum = rt_run(p, "p.yaml",
                         "version: 1\n"
                         "name: own_limit\n"
                         "steps:\n"
                         "  - id: sh\n"
                         "    uses: core.shell\n"
                         "    with: { argv: [sleep, 5], timeout_ms: 100 }\n"
                         "  - id: failed_timeout\n"
                         "    uses: core.fail\n"
                         "    with: { message: upstream took too long, code: timeout }\n",
                         2, NULL, &st, NULL);

    assert_int_equal(st, WEIR_RUN_FAILED);
    rt_assert_contains(rt_step_error(sum, "sh"), "core.shell");
    rt_assert_contains(rt_step_error(sum, "sh"), "timed out");
    assert_string_equal(rt_step_error(sum, "failed_timeout"), "upstream took too long");
    json_decref(sum);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_retry_succeeds, rt_setup, rt_teardown),
        cmocka_unit_test_setup_teardown(test_retry_exhausted, rt_setup, rt_teardown),
        cmocka_unit_test_setup_teardown(test_retry_fixed_without_jitter, rt_setup, rt_teardown),
        cmocka_unit_test_setup_teardown(test_retry_exponential, rt_setup, rt_teardown),
        cmocka_unit_test_setup_teardown(test_retry_short_form, rt_setup, rt_teardown),
        cmocka_unit_test_setup_teardown(test_retry_per_item, rt_setup, rt_teardown),
        cmocka_unit_test_setup_teardown(test_timeout_plugin_step, rt_setup, rt_teardown),
        cmocka_unit_test_setup_teardown(test_timeout_with_retry, rt_setup, rt_teardown),
        cmocka_unit_test_setup_teardown(test_timeout_lua_spin, rt_setup, rt_teardown),
        cmocka_unit_test(test_lua_budget_from_config),
        cmocka_unit_test_setup_teardown(test_plugin_timeout_message_kept, rt_setup, rt_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
