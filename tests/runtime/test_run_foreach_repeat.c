/* test_run_foreach_repeat.c - for_each fan-out (order, empty lists, failing
 * items) and repeat {until, max} groups (iterations, max, loop scope, inner
 * steps reading each other's previous outputs, nesting). */
#include "rt_util.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"

static void test_foreach_literal_item_index(void **state)
{
    struct rt_project *p = *state;
    enum weir_run_status st;
    json_t *sum = rt_run(p, "p.yaml",
                         "version: 1\n"
                         "name: fe\n"
                         "steps:\n"
                         "  - id: each\n"
                         "    uses: core.echo\n"
                         "    for_each: [a, b, c]\n"
                         "    with: { value: \"${{ index }}:${{ item }}\" }\n"
                         "  - id: typed\n"
                         "    uses: core.echo\n"
                         "    for_each: [1, {k: v}, [2], null]\n"
                         "    with: { value: \"${{ item }}\" }\n"
                         "  - id: after\n"
                         "    uses: core.echo\n"
                         "    needs: [each]\n"
                         "    with: { value: \"${{ steps.each.output[2] }}\" }\n",
                         4, NULL, &st, NULL);

    assert_int_equal(st, WEIR_RUN_SUCCESS);
    tu_assert_json(json_object_get(rt_step(sum, "each"), "output"), "[\"0:a\",\"1:b\",\"2:c\"]");
    tu_assert_json(json_object_get(rt_step(sum, "typed"), "output"), "[1,{\"k\":\"v\"},[2],null]");
    tu_assert_json(json_object_get(rt_step(sum, "after"), "output"), "\"2:c\"");
    json_decref(sum);
}

/* Items finish in any order; the output is still in item order. */
static void test_foreach_expression_order(void **state)
{
    struct rt_project *p = *state;
    enum weir_run_status st;
    int64_t ms;
    json_t *sum = rt_run(p, "p.yaml",
                         "version: 1\n"
                         "name: fe_order\n"
                         "steps:\n"
                         "  - id: plan\n"
                         "    uses: core.echo\n"
                         "    with:\n"
                         "      value: [{ms: 300, v: a}, {ms: 200, v: b}, {ms: 100, v: c}, {ms: 0, v: d}]\n"
                         "  - id: work\n"
                         "    uses: core.sleep\n"
                         "    needs: [plan]\n"
                         "    for_each: \"${{ steps.plan.output }}\"\n"
                         "    with: { ms: \"${{ item.ms }}\" }\n"
                         "  - id: tag\n"
                         "    uses: core.echo\n"
                         "    needs: [work]\n"
                         "    for_each: \"${{ steps.plan.output }}\"\n"
                         "    with: { value: \"${{ item.v }}=${{ steps.work.output[index].slept_ms }}\" }\n",
                         4, NULL, &st, &ms);

    assert_int_equal(st, WEIR_RUN_SUCCESS);
    tu_assert_json(json_object_get(rt_step(sum, "work"), "output"),
                   "[{\"slept_ms\":300},{\"slept_ms\":200},{\"slept_ms\":100},{\"slept_ms\":0}]");
    tu_assert_json(json_object_get(rt_step(sum, "tag"), "output"), "[\"a=300\",\"b=200\",\"c=100\",\"d=0\"]");
    (void)ms;
    json_decref(sum);
}

/* Items of a for_each run at once: each waits (up to 20 s) for a file the
 * other writes, which only ends when both run at the same time. No clock in
 * the verdict, so a loaded machine cannot fail it. */
static void test_foreach_items_in_parallel(void **state)
{
    struct rt_project *p = *state;
    enum weir_run_status st;
    json_t *sum = rt_run(p, "p.yaml",
                         "version: 1\n"
                         "name: fe_parallel\n"
                         "steps:\n"
                         "  - id: meet\n"
                         "    uses: core.shell\n"
                         "    for_each: [[a, b], [b, a]]\n"
                         "    with:\n"
                         "      argv: [sh, -c, 'touch \"meet-$1\"; i=0; while [ ! -e \"meet-$2\" ]; do"
                         " i=$((i+1)); [ $i -lt 400 ] || exit 1; sleep 0.05; done', meet,"
                         " \"${{ item[0] }}\", \"${{ item[1] }}\"]\n",
                         2, NULL, &st, NULL);

    assert_int_equal(st, WEIR_RUN_SUCCESS);
    assert_int_equal(json_array_size(json_object_get(rt_step(sum, "meet"), "output")), 2);
    json_decref(sum);
}

static void test_foreach_empty(void **state)
{
    struct rt_project *p = *state;
    enum weir_run_status st;
    json_t *sum = rt_run(p, "p.yaml",
                         "version: 1\n"
                         "name: fe_empty\n"
                         "steps:\n"
                         "  - id: none\n"
                         "    uses: core.fail\n"
                         "    for_each: \"${{ [] }}\"\n"
                         "  - id: literal\n"
                         "    uses: core.fail\n"
                         "    for_each: []\n"
                         "  - id: after\n"
                         "    uses: core.echo\n"
                         "    needs: [none, literal]\n"
                         "    with: { value: \"${{ length(steps.none.output) }}\" }\n",
                         2, NULL, &st, NULL);

    assert_int_equal(st, WEIR_RUN_SUCCESS);
    rt_assert_status(sum, "none", "success");
    tu_assert_json(json_object_get(rt_step(sum, "none"), "output"), "[]");
    rt_assert_status(sum, "literal", "success");
    tu_assert_json(json_object_get(rt_step(sum, "literal"), "output"), "[]");
    tu_assert_json(json_object_get(rt_step(sum, "after"), "output"), "0");
    json_decref(sum);
}

static void test_foreach_failing_item(void **state)
{
    struct rt_project *p = *state;
    enum weir_run_status st;
    json_t *sum = rt_run(p, "p.yaml",
                         "version: 1\n"
                         "name: fe_fail\n"
                         "steps:\n"
                         "  - id: each\n"
                         "    for_each: [ok, bad, ok2]\n"
                         "    with: { v: \"${{ item }}\" }\n"
                         "    lua: |\n"
                         "      if input.v == 'bad' then error('cannot use ' .. input.v) end\n"
                         "      return input.v\n"
                         "  - id: after\n"
                         "    uses: core.echo\n"
                         "    needs: [each]\n"
                         "  - id: not_list\n"
                         "    uses: core.echo\n"
                         "    for_each: \"${{ 'abc' }}\"\n",
                         4, NULL, &st, NULL);

    assert_int_equal(st, WEIR_RUN_FAILED);
    rt_assert_status(sum, "each", "failed");
    rt_assert_contains(rt_step_error(sum, "each"), "item 1:");
    rt_assert_contains(rt_step_error(sum, "each"), "cannot use bad");
    rt_assert_status(sum, "after", "skipped");
    rt_assert_status(sum, "not_list", "failed");
    rt_assert_contains(rt_step_error(sum, "not_list"), "for_each must give a list");
    json_decref(sum);
}

/* An item whose `with` cannot be evaluated fails the step, named by its
 * index; the other items still run. */
static void test_foreach_item_with_error(void **state)
{
    struct rt_project *p = *state;
    enum weir_run_status st;
    json_t *sum = rt_run(p, "p.yaml",
                         "version: 1\n"
                         "name: fe_with\n"
                         "steps:\n"
                         "  - id: each\n"
                         "    uses: core.echo\n"
                         "    for_each: [1, x, y]\n"
                         "    with: { value: \"${{ item < 5 }}\" }\n"
                         "  - id: all_bad\n"
                         "    uses: core.echo\n"
                         "    for_each: [x, y]\n"
                         "    with: { value: \"${{ item < 5 }}\" }\n",
                         2, NULL, &st, NULL);

    assert_int_equal(st, WEIR_RUN_FAILED);
    rt_assert_status(sum, "each", "failed");
    rt_assert_contains(rt_step_error(sum, "each"), "item 1:");
    rt_assert_status(sum, "all_bad", "failed");
    rt_assert_contains(rt_step_error(sum, "all_bad"), "item 0:");
    json_decref(sum);
}

/* -------------------------------------------------------------------- */
/* repeat                                                               */

static void test_repeat_until(void **state)
{
    struct rt_project *p = *state;
    enum weir_run_status st;
    json_t *sum = rt_run(p, "p.yaml",
                         "version: 1\n"
                         "name: rep\n"
                         "steps:\n"
                         "  - id: loop\n"
                         "    repeat: { until: \"${{ steps.inner.output >= 2 }}\", max: 5 }\n"
                         "    steps:\n"
                         "      - id: inner\n"
                         "        with: { i: \"${{ loop.index }}\", first: \"${{ loop.first }}\" }\n"
                         "        lua: |\n"
                         "          return input.i\n"
                         "      - id: firsts\n"
                         "        uses: core.echo\n"
                         "        needs: [inner]\n"
                         "        with: { value: \"${{ loop.first }}\" }\n"
                         "  - id: after\n"
                         "    uses: core.echo\n"
                         "    needs: [loop]\n"
                         "    with: { value: [\"${{ steps.loop.output.iterations }}\", \"${{ steps.inner.output }}\"] }\n",
                         2, NULL, &st, NULL);

    assert_int_equal(st, WEIR_RUN_SUCCESS);
    rt_assert_status(sum, "loop", "success");
    tu_assert_json(json_object_get(rt_step(sum, "loop"), "output"), "{\"iterations\":3}");
    tu_assert_json(json_object_get(rt_step(sum, "inner"), "output"), "2");
    tu_assert_json(json_object_get(rt_step(sum, "firsts"), "output"), "false");
    tu_assert_json(json_object_get(rt_step(sum, "after"), "output"), "[3, 2]");
    json_decref(sum);
}

static void test_repeat_max_reached(void **state)
{
    struct rt_project *p = *state;
    enum weir_run_status st;
    json_t *sum = rt_run(p, "p.yaml",
                         "version: 1\n"
                         "name: rep_max\n"
                         "steps:\n"
                         "  - id: loop\n"
                         "    repeat: { until: \"${{ steps.inner.output > 100 }}\", max: 4 }\n"
                         "    steps:\n"
                         "      - id: inner\n"
                         "        uses: core.echo\n"
                         "        with: { value: \"${{ loop.index }}\" }\n"
                         "  - id: after\n"
                         "    uses: core.echo\n"
                         "    needs: [loop]\n",
                         2, NULL, &st, NULL);

    assert_int_equal(st, WEIR_RUN_FAILED);
    rt_assert_status(sum, "loop", "failed");
    rt_assert_contains(rt_step_error(sum, "loop"), "after 4 iterations");
    tu_assert_json(json_object_get(rt_step(sum, "inner"), "output"), "3");
    rt_assert_status(sum, "after", "skipped");
    json_decref(sum);
}

/* A generate-validate-fix loop: gen reads check's output of the previous
 * iteration, check reads gen's output of this one. */
static void test_repeat_previous_outputs(void **state)
{
    struct rt_project *p = *state;
    enum weir_run_status st;
    json_t *sum = rt_run(p, "p.yaml",
                         "version: 1\n"
                         "name: rep_fix\n"
                         "steps:\n"
                         "  - id: fix\n"
                         "    repeat: { until: \"${{ steps.check.output.ok }}\", max: 10 }\n"
                         "    steps:\n"
                         "      - id: gen\n"
                         "        with: { prev: \"${{ steps.check.output.value }}\", first: \"${{ loop.first }}\" }\n"
                         "        lua: |\n"
                         "          if input.first then assert(input.prev == weir.null) end\n"
                         "          local prev = input.prev\n"
                         "          if prev == weir.null then prev = 0 end\n"
                         "          return prev + 1\n"
                         "      - id: check\n"
                         "        needs: [gen]\n"
                         "        with: { g: \"${{ steps.gen.output }}\" }\n"
                         "        lua: |\n"
                         "          return { value = input.g * 2, ok = input.g * 2 >= 10 }\n",
                         2, NULL, &st, NULL);

    /* gen: 1, 3, 7, 15 ; check: 2, 6, 14 (ok) */
    assert_int_equal(st, WEIR_RUN_SUCCESS);
    tu_assert_json(json_object_get(rt_step(sum, "fix"), "output"), "{\"iterations\":3}");
    tu_assert_json(json_object_get(rt_step(sum, "gen"), "output"), "7");
    tu_assert_json(json_object_get(rt_step(sum, "check"), "output"), "{\"value\":14,\"ok\":true}");
    json_decref(sum);
}

static void test_repeat_inner_failure(void **state)
{
    struct rt_project *p = *state;
    enum weir_run_status st;
    json_t *sum = rt_run(p, "p.yaml",
                         "version: 1\n"
                         "name: rep_fail\n"
                         "steps:\n"
                         "  - id: loop\n"
                         "    repeat: { until: \"${{ false }}\", max: 5 }\n"
                         "    steps:\n"
                         "      - id: a\n"
                         "        uses: core.echo\n"
                         "        with: { value: \"${{ loop.index }}\" }\n"
                         "      - id: b\n"
                         "        uses: core.fail\n"
                         "        needs: [a]\n"
                         "        if: \"${{ steps.a.output == 1 }}\"\n"
                         "        with: { message: second iteration breaks }\n"
                         "  - id: after\n"
                         "    uses: core.echo\n"
                         "    needs: [loop]\n",
                         2, NULL, &st, NULL);

    assert_int_equal(st, WEIR_RUN_FAILED);
    rt_assert_status(sum, "loop", "failed");
    rt_assert_contains(rt_step_error(sum, "loop"), "failed");
    rt_assert_status(sum, "b", "failed");
    tu_assert_json(json_object_get(rt_step(sum, "a"), "output"), "1");
    rt_assert_status(sum, "after", "skipped");
    json_decref(sum);
}

/* for_each inside a group starts afresh each iteration; nested groups have
 * their own loop.index. */
static void test_repeat_foreach_and_nesting(void **state)
{
    struct rt_project *p = *state;
    enum weir_run_status st;
    json_t *sum = rt_run(p, "p.yaml",
                         "version: 1\n"
                         "name: rep_nest\n"
                         "steps:\n"
                         "  - id: outer\n"
                         "    repeat: { until: \"${{ loop.index >= 1 }}\", max: 5 }\n"
                         "    steps:\n"
                         "      - id: fan\n"
                         "        uses: core.echo\n"
                         "        for_each: \"${{ [loop.index, loop.index + 10] }}\"\n"
                         "        with: { value: \"${{ item }}\" }\n"
                         "      - id: inner\n"
                         "        needs: [fan]\n"
                         "        repeat: { until: \"${{ steps.x.output.i >= 2 }}\", max: 5 }\n"
                         "        steps:\n"
                         "          - id: x\n"
                         "            uses: core.echo\n"
                         "            with: { value: { i: \"${{ loop.index }}\", fan: \"${{ steps.fan.output }}\" } }\n",
                         2, NULL, &st, NULL);

    assert_int_equal(st, WEIR_RUN_SUCCESS);
    tu_assert_json(json_object_get(rt_step(sum, "outer"), "output"), "{\"iterations\":2}");
    tu_assert_json(json_object_get(rt_step(sum, "fan"), "output"), "[1, 11]");
    tu_assert_json(json_object_get(rt_step(sum, "inner"), "output"), "{\"iterations\":3}");
    tu_assert_json(json_object_get(rt_step(sum, "x"), "output"), "{\"i\":2,\"fan\":[1,11]}");
    json_decref(sum);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_foreach_literal_item_index, rt_setup, rt_teardown),
        cmocka_unit_test_setup_teardown(test_foreach_expression_order, rt_setup, rt_teardown),
        cmocka_unit_test_setup_teardown(test_foreach_items_in_parallel, rt_setup, rt_teardown),
        cmocka_unit_test_setup_teardown(test_foreach_empty, rt_setup, rt_teardown),
        cmocka_unit_test_setup_teardown(test_foreach_failing_item, rt_setup, rt_teardown),
        cmocka_unit_test_setup_teardown(test_foreach_item_with_error, rt_setup, rt_teardown),
        cmocka_unit_test_setup_teardown(test_repeat_until, rt_setup, rt_teardown),
        cmocka_unit_test_setup_teardown(test_repeat_max_reached, rt_setup, rt_teardown),
        cmocka_unit_test_setup_teardown(test_repeat_previous_outputs, rt_setup, rt_teardown),
        cmocka_unit_test_setup_teardown(test_repeat_inner_failure, rt_setup, rt_teardown),
        cmocka_unit_test_setup_teardown(test_repeat_foreach_and_nesting, rt_setup, rt_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
