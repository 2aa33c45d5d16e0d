/* test_run_lua.c - Lua steps inside pipelines: JSON output, the function
 * form and ctx, errors with lines, the sandbox, limits, script files. */
#include "rt_util.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"

static void test_lua_output_json(void **state)
{
    struct rt_project *p = *state;
    enum weir_run_status st;
    json_t *params = json_pack("{s:i}", "n", 41);
    json_t *sum = rt_run(p, "p.yaml",
                         "version: 1\n"
                         "name: lua_json\n"
                         "params:\n"
                         "  n: { type: integer }\n"
                         "steps:\n"
                         "  - id: inline\n"
                         "    with: { n: \"${{ params.n }}\", list: [1, 2], obj: {k: v}, nothing: null }\n"
                         "    lua: |\n"
                         "      return {\n"
                         "        n = input.n + 1, int = math.type(input.n),\n"
                         "        list = input.list, obj = input.obj, nothing = input.nothing,\n"
                         "        arr = weir.array({}), empty = weir.object({}), half = 1.5, s = 'x',\n"
                         "        seq = {3, 2, 1}, nested = { deep = { true, false } }\n"
                         "      }\n"
                         "  - id: fn\n"
                         "    needs: [inline]\n"
                         "    with: { prev: \"${{ steps.inline.output.n }}\" }\n"
                         "    lua: |\n"
                         "      return function(input, ctx)\n"
                         "        return { prev = input.prev, step = ctx.step.id, run = ctx.run.id,\n"
                         "                 date = ctx.run.date, target = ctx.run.target }\n"
                         "      end\n"
                         "  - id: nil_out\n"
                         "    lua: |\n"
                         "      local x = 1\n",
                         2, params, &st, NULL);

    assert_int_equal(st, WEIR_RUN_SUCCESS);
    tu_assert_json(json_object_get(rt_step(sum, "inline"), "output"),
                   "{\"n\":42,\"int\":\"integer\",\"list\":[1,2],\"obj\":{\"k\":\"v\"},\"nothing\":null,"
                   "\"arr\":[],\"empty\":{},\"half\":1.5,\"s\":\"x\",\"seq\":[3,2,1],"
                   "\"nested\":{\"deep\":[true,false]}}");
    {
        json_t *fn = json_object_get(rt_step(sum, "fn"), "output");
        tu_assert_json(json_object_get(fn, "prev"), "42");
        tu_assert_json(json_object_get(fn, "step"), "\"fn\"");
        assert_string_equal(json_string_value(json_object_get(fn, "run")), rt_run_id(sum));
        tu_assert_json(json_object_get(fn, "date"), "\"2026-11-21\"");
        tu_assert_json(json_object_get(fn, "target"), "\"local\"");
    }
    tu_assert_json(json_object_get(rt_step(sum, "nil_out"), "output"), "null");
    json_decref(sum);
    json_decref(params);
}

static void test_lua_error_line(void **state)
{
    struct rt_project *p = *state;
    enum weir_run_status st;
    json_t *sum = rt_run(p, "p.yaml",
                         "version: 1\n"
                         "name: lua_err\n"
                         "steps:\n"
                         "  - id: bad\n"
                         "    lua: |\n"
                         "      local x = 1\n"
                         "      local y = nil\n"
                         "      return x + y\n"
                         "  - id: raised\n"
                         "    lua: |\n"
                         "      error('custom failure')\n"
                         "  - id: after\n"
                         "    uses: core.echo\n"
                         "    needs: [bad]\n",
                         2, NULL, &st, NULL);
    const char *err = rt_step_error(sum, "bad");

    assert_int_equal(st, WEIR_RUN_FAILED);
    rt_assert_status(sum, "bad", "failed");
    /* the chunk is named after the pipeline file and the line is the file's
     * line (line 8 is `return x + y`), so the message points into the YAML */
    rt_assert_contains(err, "p.yaml:8:");
    rt_assert_contains(err, "arithmetic on a nil value");
    if (err[0] == '=') {
        fail_msg("Lua chunk name leaks its '=' prefix into the message: %s", err);
    }
    rt_assert_contains(rt_step_error(sum, "raised"), "custom failure");
    rt_assert_contains(rt_step_error(sum, "raised"), "p.yaml:11:");
    rt_assert_status(sum, "after", "skipped");
    json_decref(sum);
}

static void test_lua_sandbox(void **state)
{
    struct rt_project *p = *state;
    enum weir_run_status st;
    json_t *sum = rt_run(p, "p.yaml",
                         "version: 1\n"
                         "name: sandbox\n"
                         "steps:\n"
                         "  - id: probe\n"
                         "    lua: |\n"
                         "      return { io = io == nil, package = package == nil, require = require == nil,\n"
                         "               debug = debug == nil, load = load == nil, dofile = dofile == nil,\n"
                         "               loadfile = loadfile == nil, dump = string.dump == nil,\n"
                         "               execute = os.execute == nil, getenv = os.getenv == nil,\n"
                         "               remove = os.remove == nil, clock = type(os.clock),\n"
                         "               fmt = string.format('%05.1f', 3.14159) }\n"
                         "  - id: escape\n"
                         "    lua: |\n"
                         "      return io.open('/etc/passwd'):read('a')\n"
                         "  - id: set_global\n"
                         "    lua: |\n"
                         "      leaked = 'yes'\n"
                         "      return leaked\n"
                         "  - id: read_global\n"
                         "    needs: [set_global]\n"
                         "    lua: |\n"
                         "      return leaked == nil\n",
                         2, NULL, &st, NULL);

    assert_int_equal(st, WEIR_RUN_FAILED);
    tu_assert_json(json_object_get(rt_step(sum, "probe"), "output"),
                   "{\"io\":true,\"package\":true,\"require\":true,\"debug\":true,\"load\":true,"
                   "\"dofile\":true,\"loadfile\":true,\"dump\":true,\"execute\":true,\"getenv\":true,"
                   "\"remove\":true,\"clock\":\"function\",\"fmt\":\"003.1\"}");
    rt_assert_status(sum, "escape", "failed");
    rt_assert_contains(rt_step_error(sum, "escape"), "io");
    tu_assert_json(json_object_get(rt_step(sum, "set_global"), "output"), "\"yes\"");
    tu_assert_json(json_object_get(rt_step(sum, "read_global"), "output"), "true");
    json_decref(sum);
}

static void test_lua_not_json(void **state)
{
    struct rt_project *p = *state;
    enum weir_run_status st;
    json_t *sum = rt_run(p, "p.yaml",
                         "version: 1\n"
                         "name: not_json\n"
                         "steps:\n"
                         "  - id: fn\n"
                         "    lua: |\n"
                         "      return { a = { 1, 2, print or function() end } }\n"
                         "  - id: nan\n"
                         "    lua: |\n"
                         "      return 0/0\n",
                         2, NULL, &st, NULL);

    assert_int_equal(st, WEIR_RUN_FAILED);
    rt_assert_status(sum, "fn", "failed");
    rt_assert_contains(rt_step_error(sum, "fn"), "function is not JSON");
    rt_assert_status(sum, "nan", "failed");
    json_decref(sum);
}

static void test_lua_memory_limit(void **state)
{
    struct rt_project *p = rt_project_new("lua: { memory_mb: 2 }\n");
    enum weir_run_status st;
    json_t *sum = rt_run(p, "p.yaml",
                         "version: 1\n"
                         "name: mem\n"
                         "steps:\n"
                         "  - id: hog\n"
                         "    lua: |\n"
                         "      local t = {}\n"
                         "      for i = 1, 1e7 do t[i] = string.rep('x', 64) .. i end\n"
                         "      return #t\n"
                         "  - id: small\n"
                         "    lua: |\n"
                         "      return #string.rep('x', 1000)\n",
                         2, NULL, &st, NULL);

    (void)state;
    assert_int_equal(st, WEIR_RUN_FAILED);
    rt_assert_status(sum, "hog", "failed");
    rt_assert_contains(rt_step_error(sum, "hog"), "memory limit of 2 MiB");
    tu_assert_json(json_object_get(rt_step(sum, "small"), "output"), "1000");
    json_decref(sum);
    rt_project_free(p);
}

static void test_lua_script_file(void **state)
{
    struct rt_project *p = *state;
    enum weir_run_status st;
    json_t *sum;

    free(rt_write(p, "scripts-lua/double.lua",
                  "-- doubles every value\n"
                  "return function(input, ctx)\n"
                  "  local out = {}\n"
                  "  for i, v in ipairs(input.values) do out[i] = v * 2 end\n"
                  "  if input.fail then error('asked to fail') end\n"
                  "  return out\n"
                  "end\n"));
    sum = rt_run(p, "p.yaml",
                 "version: 1\n"
                 "name: lua_file\n"
                 "steps:\n"
                 "  - id: twice\n"
                 "    lua: scripts-lua/double.lua\n"
                 "    with: { values: [1, 2, 3] }\n"
                 "  - id: broken\n"
                 "    lua: scripts-lua/double.lua\n"
                 "    with: { values: [], fail: true }\n",
                 2, NULL, &st, NULL);
    assert_int_equal(st, WEIR_RUN_FAILED);
    tu_assert_json(json_object_get(rt_step(sum, "twice"), "output"), "[2,4,6]");
    rt_assert_contains(rt_step_error(sum, "broken"), "scripts-lua/double.lua:5:");
    rt_assert_contains(rt_step_error(sum, "broken"), "asked to fail");
    json_decref(sum);
}

/* A syntax error is found before anything runs, at its line in the YAML file. */
static void test_lua_syntax_error_before_run(void **state)
{
    struct rt_project *p = *state;
    char *diag = NULL;

    assert_int_equal(rt_run_error(p, "syntax.yaml",
                                  "version: 1\n"
                                  "name: syntax\n"
                                  "steps:\n"
                                  "  - id: w\n"
                                  "    uses: core.json_write\n"
                                  "    with: { path: ran.json, value: 1 }\n"
                                  "  - id: bad\n"
                                  "    lua: |\n"
                                  "      local x = 1\n"
                                  "      return x +\n",
                                  NULL, &diag),
                     WEIR_EINVALID);
    rt_assert_contains(diag, "syntax.yaml:");
    free(diag);
    {
        char *ran = NULL;
        assert_true(asprintf(&ran, "%s/ran.json", p->dir) >= 0);
        assert_null(tu_read_file(ran, NULL));
        free(ran);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lua_output_json, rt_setup, rt_teardown),
        cmocka_unit_test_setup_teardown(test_lua_error_line, rt_setup, rt_teardown),
        cmocka_unit_test_setup_teardown(test_lua_sandbox, rt_setup, rt_teardown),
        cmocka_unit_test_setup_teardown(test_lua_not_json, rt_setup, rt_teardown),
        cmocka_unit_test(test_lua_memory_limit),
        cmocka_unit_test_setup_teardown(test_lua_script_file, rt_setup, rt_teardown),
        cmocka_unit_test_setup_teardown(test_lua_syntax_error_before_run, rt_setup, rt_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
