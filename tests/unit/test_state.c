/* test_state.c - run state: runs, steps, approvals, schema versions, and
 * that kill -9 at any moment leaves a consistent database. */
#include "testutil.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "state.h"

#define CRASH_ROUNDS 20
#define CRASH_OUTPUT_BYTES 20000
#define WRITER_RUNS 40
#define WRITER_STEPS 3

static int setup(void **state)
{
    *state = tu_mkdtemp();
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    tu_rmtree(*state);
    free(*state);
    return 0;
}

static struct weir_state *open_state(const char *dir)
{
    struct weir_state *st = NULL;
    int rc = weir_state_open(dir, &st);

    if (rc != WEIR_OK) {
        fail_msg("weir_state_open(%s): %d %s", dir, rc, weir_error_last());
    }
    return st;
}

static int insert(struct weir_state *st, const char *id, int64_t created_ms, const char *status)
{
    const struct weir_run_info run = {
        .id = id,
        .pipeline = "copilot",
        .path = "pipelines/copilot.yaml",
        .source = "version: 1\nname: copilot\n",
        .params = "{\"table\": \"db.t\"}",
        .target = "local",
        .date = "2026-11-21",
        .status = status,
        .created_ms = created_ms,
    };

    return weir_state_run_insert(st, &run);
}

static json_t *get_run(struct weir_state *st, const char *id)
{
    json_t *run = NULL;

    assert_int_equal(weir_state_run_get(st, id, &run), WEIR_OK);
    assert_non_null(run);
    return run;
}

static json_t *approvals(struct weir_state *st, const char *run_id, int pending_only)
{
    json_t *list = NULL;

    assert_int_equal(weir_state_approvals_list(st, run_id, pending_only, &list), WEIR_OK);
    return list;
}

static void assert_error_has(const char *needle)
{
    if (!strstr(weir_error_last(), needle)) {
        fail_msg("error '%s' does not mention '%s'", weir_error_last(), needle);
    }
}

/* ---- runs ---------------------------------------------------------------- */

static void test_run_insert_get(void **state)
{
    struct weir_state *st = open_state(*state);
    json_t *run;

    assert_int_equal(insert(st, "r1", 1000, "running"), WEIR_OK);
    run = get_run(st, "r1");
    tu_assert_json(run, "{\"id\":\"r1\",\"pipeline\":\"copilot\","
                        "\"path\":\"pipelines/copilot.yaml\","
                        "\"source\":\"version: 1\\nname: copilot\\n\","
                        "\"params\":{\"table\":\"db.t\"},"
                        "\"target\":\"local\",\"date\":\"2026-11-21\",\"status\":\"running\","
                        "\"created_ms\":1000,\"ended_ms\":null,\"steps\":[],\"approvals\":[]}");
    json_decref(run);
    weir_state_close(st);
}

static void test_run_optional_fields(void **state)
{
    struct weir_state *st = open_state(*state);
    const struct weir_run_info bare = {.id = "bare", .status = "running", .created_ms = 5};
    json_t *run;

    assert_int_equal(weir_state_run_insert(st, &bare), WEIR_OK);
    run = get_run(st, "bare");
    tu_assert_json(run, "{\"id\":\"bare\",\"pipeline\":null,\"path\":null,\"source\":null,"
                        "\"params\":{},\"target\":null,\"date\":null,\"status\":\"running\","
                        "\"created_ms\":5,\"ended_ms\":null,\"steps\":[],\"approvals\":[]}");
    json_decref(run);
    weir_state_close(st);
}

static void test_runs_list_newest_first(void **state)
{
    struct weir_state *st = open_state(*state);
    json_t *list = NULL;

    assert_int_equal(insert(st, "old", 1000, "success"), WEIR_OK);
    assert_int_equal(insert(st, "new", 3000, "running"), WEIR_OK);
    assert_int_equal(insert(st, "mid", 2000, "running"), WEIR_OK);
    /* Same creation time as "new" but inserted later: listed before it. */
    assert_int_equal(insert(st, "new2", 3000, "running"), WEIR_OK);

    assert_int_equal(weir_state_runs_list(st, 0, &list), WEIR_OK);
    assert_int_equal(json_array_size(list), 4);
    tu_assert_json(json_array_get(list, 0),
                   "{\"id\":\"new2\",\"pipeline\":\"copilot\",\"target\":\"local\","
                   "\"date\":\"2026-11-21\",\"status\":\"running\",\"created_ms\":3000,"
                   "\"ended_ms\":null}");
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 1), "id")), "new");
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 2), "id")), "mid");
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 3), "id")), "old");
    /* Inserted as terminal: ended when created. */
    assert_int_equal(json_integer_value(json_object_get(json_array_get(list, 3), "ended_ms")),
                     1000);
    json_decref(list);

    assert_int_equal(weir_state_runs_list(st, 2, &list), WEIR_OK);
    assert_int_equal(json_array_size(list), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 1), "id")), "new");
    json_decref(list);
    weir_state_close(st);
}

static void test_runs_list_empty(void **state)
{
    struct weir_state *st = open_state(*state);
    json_t *list = NULL;

    assert_int_equal(weir_state_runs_list(st, 10, &list), WEIR_OK);
    tu_assert_json(list, "[]");
    json_decref(list);
    weir_state_close(st);
}

static void test_duplicate_and_unknown(void **state)
{
    struct weir_state *st = open_state(*state);
    json_t *out = NULL;

    assert_int_equal(insert(st, "r1", 1, "running"), WEIR_OK);
    assert_int_equal(insert(st, "r1", 2, "running"), WEIR_EEXISTS);
    assert_error_has("r1");
    assert_int_equal(weir_state_run_get(st, "nope", &out), WEIR_ENOTFOUND);
    assert_error_has("nope");
    assert_null(out);
    assert_int_equal(weir_state_run_set_status(st, "nope", "failed", 5), WEIR_ENOTFOUND);
    assert_int_equal(weir_state_step_put(st, "nope", "s", "running", 1, NULL, NULL, 1, 0),
                     WEIR_ENOTFOUND);
    assert_int_equal(weir_state_approval_request(st, "nope", "s", "ok?", NULL, 1),
                     WEIR_ENOTFOUND);
    /* The first insert is untouched by the refused second one. */
    out = get_run(st, "r1");
    assert_int_equal(json_integer_value(json_object_get(out, "created_ms")), 1);
    json_decref(out);
    weir_state_close(st);
}

static void test_invalid_input(void **state)
{
    struct weir_state *st = open_state(*state);
    struct weir_run_info run = {.id = "r", .status = "done", .created_ms = 1};

    assert_int_equal(weir_state_run_insert(st, &run), WEIR_EINVALID);
    assert_error_has("'done'");
    run.status = "running";
    run.params = "[1, 2]";
    assert_int_equal(weir_state_run_insert(st, &run), WEIR_EINVALID);
    assert_error_has("params");
    run.params = NULL;
    run.id = "";
    assert_int_equal(weir_state_run_insert(st, &run), WEIR_EINVALID);
    run.id = "r";
    assert_int_equal(weir_state_run_insert(st, &run), WEIR_OK);
    assert_int_equal(weir_state_run_set_status(st, "r", "finished", 2), WEIR_EINVALID);
    assert_int_equal(weir_state_step_put(st, "r", "s", "ok", 1, NULL, NULL, 1, 2),
                     WEIR_EINVALID);
    assert_int_equal(weir_state_step_put(st, "r", NULL, "running", 1, NULL, NULL, 1, 2),
                     WEIR_EINVALID);
    weir_state_close(st);
}

static void assert_status(struct weir_state *st, const char *status, const char *ended_json)
{
    json_t *run = get_run(st, "r");
    char *ended = tu_json_text(json_object_get(run, "ended_ms"));

    assert_string_equal(json_string_value(json_object_get(run, "status")), status);
    assert_string_equal(ended, ended_json);
    free(ended);
    json_decref(run);
}

static void test_status_and_ended(void **state)
{
    struct weir_state *st = open_state(*state);

    assert_int_equal(insert(st, "r", 100, "running"), WEIR_OK);
    assert_int_equal(weir_state_run_set_status(st, "r", "paused", 200), WEIR_OK);
    assert_status(st, "paused", "null");
    assert_int_equal(weir_state_run_set_status(st, "r", "failed", 300), WEIR_OK);
    assert_status(st, "failed", "300");
    /* Resuming makes it unfinished again. */
    assert_int_equal(weir_state_run_set_status(st, "r", "running", 400), WEIR_OK);
    assert_status(st, "running", "null");
    assert_int_equal(weir_state_run_set_status(st, "r", "success", 500), WEIR_OK);
    assert_status(st, "success", "500");
    assert_int_equal(weir_state_run_set_status(st, "r", "cancelled", 600), WEIR_OK);
    assert_status(st, "cancelled", "600");
    weir_state_close(st);
}

/* ---- steps --------------------------------------------------------------- */

static void test_steps_order_and_update(void **state)
{
    struct weir_state *st = open_state(*state);
    json_t *out = json_pack("{s:i}", "rows", 7);
    json_t *run;

    assert_int_equal(insert(st, "r", 1, "running"), WEIR_OK);
    assert_int_equal(weir_state_step_put(st, "r", "zeta", "running", 1, NULL, NULL, 10, 0),
                     WEIR_OK);
    assert_int_equal(weir_state_step_put(st, "r", "alpha", "pending", 0, NULL, NULL, 0, 0),
                     WEIR_OK);
    assert_int_equal(weir_state_step_put(st, "r", "mid", "running", 1, NULL, NULL, 12, 0),
                     WEIR_OK);
    /* Updating the first and second keeps their places. */
    assert_int_equal(weir_state_step_put(st, "r", "zeta", "failed", 2, NULL, "boom", 10, 20),
                     WEIR_OK);
    assert_int_equal(weir_state_step_put(st, "r", "alpha", "success", 1, out, NULL, 21, 22),
                     WEIR_OK);
    run = get_run(st, "r");
    tu_assert_json(json_object_get(run, "steps"),
                   "[{\"step\":\"zeta\",\"status\":\"failed\",\"attempts\":2,\"output\":null,"
                   "\"error\":\"boom\",\"started_ms\":10,\"ended_ms\":20},"
                   "{\"step\":\"alpha\",\"status\":\"success\",\"attempts\":1,"
                   "\"output\":{\"rows\":7},\"error\":null,\"started_ms\":21,\"ended_ms\":22},"
                   "{\"step\":\"mid\",\"status\":\"running\",\"attempts\":1,\"output\":null,"
                   "\"error\":null,\"started_ms\":12,\"ended_ms\":0}]");
    json_decref(run);
    /* output is borrowed. */
    assert_int_equal(out->refcount, 1);
    json_decref(out);
    weir_state_close(st);
}

static void test_steps_are_per_run(void **state)
{
    struct weir_state *st = open_state(*state);
    json_t *run;

    assert_int_equal(insert(st, "a", 1, "running"), WEIR_OK);
    assert_int_equal(insert(st, "b", 2, "running"), WEIR_OK);
    assert_int_equal(weir_state_step_put(st, "a", "s", "success", 1, NULL, NULL, 1, 2), WEIR_OK);
    assert_int_equal(weir_state_step_put(st, "b", "s", "failed", 3, NULL, "x", 1, 2), WEIR_OK);
    run = get_run(st, "a");
    assert_int_equal(json_array_size(json_object_get(run, "steps")), 1);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(run, "steps"), 0), "status")),
                        "success");
    json_decref(run);
    weir_state_close(st);
}

static void assert_output_roundtrip(struct weir_state *st, const char *step, json_t *value,
                                    const char *want)
{
    json_t *run;
    json_t *steps;

    assert_int_equal(weir_state_step_put(st, "r", step, "success", 1, value, NULL, 1, 2),
                     WEIR_OK);
    json_decref(value);
    run = get_run(st, "r");
    steps = json_object_get(run, "steps");
    for (size_t i = 0; i < json_array_size(steps); i++) {
        json_t *s = json_array_get(steps, i);
        if (strcmp(json_string_value(json_object_get(s, "step")), step) == 0) {
            tu_assert_json(json_object_get(s, "output"), want);
        }
    }
    json_decref(run);
}

static void test_output_roundtrip(void **state)
{
    struct weir_state *st = open_state(*state);

    assert_int_equal(insert(st, "r", 1, "running"), WEIR_OK);
    assert_output_roundtrip(st, "obj",
                            json_pack("{s:{s:[i,f,b]}, s:s}", "a", "b", 1, 2.5, 1, "u", "ü\"\n"),
                            "{\"a\":{\"b\":[1,2.5,true]},\"u\":\"ü\\\"\\n\"}");
    assert_output_roundtrip(st, "arr", json_pack("[s,n,i]", "x", -3), "[\"x\",null,-3]");
    assert_output_roundtrip(st, "str", json_string("just text"), "\"just text\"");
    assert_output_roundtrip(st, "jnull", json_null(), "null");
    assert_output_roundtrip(st, "cnull", NULL, "null");
    assert_output_roundtrip(st, "num", json_integer(9007199254740993LL), "9007199254740993");
    weir_state_close(st);
}

/* ---- approvals ----------------------------------------------------------- */

static void test_approvals_request_decide_list(void **state)
{
    struct weir_state *st = open_state(*state);
    json_t *payload = json_pack("{s:s}", "sql", "SELECT 1");
    json_t *list;

    assert_int_equal(insert(st, "r1", 1, "paused"), WEIR_OK);
    assert_int_equal(insert(st, "r2", 2, "paused"), WEIR_OK);
    assert_int_equal(weir_state_approval_request(st, "r1", "s1", "run it?", payload, 100),
                     WEIR_OK);
    assert_int_equal(weir_state_approval_request(st, "r1", "s2", NULL, NULL, 200), WEIR_OK);
    assert_int_equal(weir_state_approval_request(st, "r2", "s1", "and this?", NULL, 300),
                     WEIR_OK);
    json_decref(payload);

    list = approvals(st, NULL, 0);
    tu_assert_json(list,
                   "[{\"run\":\"r2\",\"step\":\"s1\",\"status\":\"pending\","
                   "\"message\":\"and this?\","
                   "\"payload\":null,\"comment\":null,\"by\":null,\"requested_ms\":300,"
                   "\"decided_ms\":null,\"history\":[]},"
                   "{\"run\":\"r1\",\"step\":\"s2\",\"status\":\"pending\",\"message\":null,"
                   "\"payload\":null,\"comment\":null,\"by\":null,\"requested_ms\":200,"
                   "\"decided_ms\":null,\"history\":[]},"
                   "{\"run\":\"r1\",\"step\":\"s1\",\"status\":\"pending\",\"message\":\"run it?\","
                   "\"payload\":{\"sql\":\"SELECT 1\"},\"comment\":null,\"by\":null,"
                   "\"requested_ms\":100,\"decided_ms\":null,\"history\":[]}]");
    json_decref(list);

    assert_int_equal(weir_state_approval_decide(st, "r1", "s1", "approved", "looks fine", "ana",
                                                400),
                     WEIR_OK);
    assert_int_equal(weir_state_approval_decide(st, "r2", "s1", "rejected", NULL, NULL, 410),
                     WEIR_OK);
    list = approvals(st, "r1", 0);
    assert_int_equal(json_array_size(list), 2);
    tu_assert_json(json_array_get(list, 1),
                   "{\"run\":\"r1\",\"step\":\"s1\",\"status\":\"approved\","
                   "\"message\":\"run it?\","
                   "\"payload\":{\"sql\":\"SELECT 1\"},\"comment\":\"looks fine\",\"by\":\"ana\","
                   "\"requested_ms\":100,\"decided_ms\":400,\"history\":[{\"status\":\"approved\","
                   "\"comment\":\"looks fine\",\"by\":\"ana\",\"decided_ms\":400}]}");
    json_decref(list);

    list = approvals(st, NULL, 1);
    assert_int_equal(json_array_size(list), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "step")),
                        "s2");
    json_decref(list);
    list = approvals(st, "r2", 1);
    tu_assert_json(list, "[]");
    json_decref(list);
    weir_state_close(st);
}

static void test_approvals_in_run_get(void **state)
{
    struct weir_state *st = open_state(*state);
    json_t *list;
    json_t *run;

    assert_int_equal(insert(st, "r1", 1, "paused"), WEIR_OK);
    assert_int_equal(insert(st, "r2", 1, "paused"), WEIR_OK);
    assert_int_equal(weir_state_approval_request(st, "r1", "a", "m", NULL, 10), WEIR_OK);
    assert_int_equal(weir_state_approval_request(st, "r1", "b", "m", NULL, 20), WEIR_OK);
    assert_int_equal(weir_state_approval_request(st, "r2", "a", "m", NULL, 30), WEIR_OK);
    assert_int_equal(weir_state_approval_decide(st, "r1", "a", "refined", "more", "bo", 40),
                     WEIR_OK);
    list = approvals(st, "r1", 0);
    run = get_run(st, "r1");
    assert_int_equal(json_array_size(list), 2);
    assert_true(json_equal(json_object_get(run, "approvals"), list));
    json_decref(run);
    json_decref(list);
    weir_state_close(st);
}

static void test_decide_errors(void **state)
{
    struct weir_state *st = open_state(*state);
    json_t *list;

    assert_int_equal(insert(st, "r", 1, "paused"), WEIR_OK);
    assert_int_equal(weir_state_approval_decide(st, "r", "s", "approved", NULL, NULL, 5),
                     WEIR_ENOTFOUND);
    assert_int_equal(weir_state_approval_request(st, "r", "s", "ok?", NULL, 10), WEIR_OK);
    assert_int_equal(weir_state_approval_decide(st, "r", "s", "maybe", NULL, NULL, 15),
                     WEIR_EINVALID);
    assert_error_has("'maybe'");
    assert_int_equal(weir_state_approval_decide(st, "r", "s", "rejected", "no", "li", 20),
                     WEIR_OK);
    assert_int_equal(weir_state_approval_decide(st, "r", "s", "approved", "yes", "li", 30),
                     WEIR_EINVALID);
    assert_error_has("rejected");
    /* A decided approval can not be asked again (only a refined one). */
    assert_int_equal(weir_state_approval_request(st, "r", "s", "again?", NULL, 40),
                     WEIR_EINVALID);
    /* The refused calls changed nothing. */
    list = approvals(st, "r", 0);
    tu_assert_json(list, "[{\"run\":\"r\",\"step\":\"s\",\"status\":\"rejected\","
                         "\"message\":\"ok?\","
                         "\"payload\":null,\"comment\":\"no\",\"by\":\"li\",\"requested_ms\":10,"
                         "\"decided_ms\":20,\"history\":[{\"status\":\"rejected\","
                         "\"comment\":\"no\","
                         "\"by\":\"li\",\"decided_ms\":20}]}]");
    json_decref(list);
    weir_state_close(st);
}

static void test_refined_then_rerequested(void **state)
{
    struct weir_state *st = open_state(*state);
    json_t *payload = json_pack("{s:s}", "sql", "SELECT a FROM t");
    json_t *list;

    assert_int_equal(insert(st, "r", 1, "paused"), WEIR_OK);
    assert_int_equal(weir_state_approval_request(st, "r", "sql", "v1", NULL, 10), WEIR_OK);
    /* A repeated request while pending refreshes the text, not the time. */
    assert_int_equal(weir_state_approval_request(st, "r", "sql", "v1b", NULL, 15), WEIR_OK);
    assert_int_equal(weir_state_approval_decide(st, "r", "sql", "refined", "add a filter", "ana",
                                                20),
                     WEIR_OK);
    list = approvals(st, "r", 1);
    tu_assert_json(list, "[]");
    json_decref(list);

    assert_int_equal(weir_state_approval_request(st, "r", "sql", "v2", payload, 30), WEIR_OK);
    list = approvals(st, "r", 1);
    tu_assert_json(list, "[{\"run\":\"r\",\"step\":\"sql\",\"status\":\"pending\","
                         "\"message\":\"v2\","
                         "\"payload\":{\"sql\":\"SELECT a FROM t\"},\"comment\":null,\"by\":null,"
                         "\"requested_ms\":30,\"decided_ms\":null,\"history\":[{\"status\":"
                         "\"refined\",\"comment\":\"add a filter\",\"by\":\"ana\","
                         "\"decided_ms\":20}]}]");
    json_decref(list);

    assert_int_equal(weir_state_approval_decide(st, "r", "sql", "approved", NULL, "ana", 40),
                     WEIR_OK);
    list = approvals(st, "r", 0);
    tu_assert_json(json_object_get(json_array_get(list, 0), "history"),
                   "[{\"status\":\"refined\",\"comment\":\"add a filter\",\"by\":\"ana\","
                   "\"decided_ms\":20},{\"status\":\"approved\",\"comment\":null,\"by\":\"ana\","
                   "\"decided_ms\":40}]");
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(list, 0), "message")), "v2");
    json_decref(list);
    json_decref(payload);
    weir_state_close(st);
}

static void test_approval_first_request_message(void **state)
{
    struct weir_state *st = open_state(*state);
    json_t *list;

    assert_int_equal(insert(st, "r", 1, "paused"), WEIR_OK);
    assert_int_equal(weir_state_approval_request(st, "r", "sql", "v1", NULL, 10), WEIR_OK);
    assert_int_equal(weir_state_approval_request(st, "r", "sql", "v1b", NULL, 15), WEIR_OK);
    list = approvals(st, "r", 0);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(list, 0), "message")), "v1b");
    assert_int_equal(
        json_integer_value(json_object_get(json_array_get(list, 0), "requested_ms")), 10);
    json_decref(list);
    weir_state_close(st);
}

/* ---- persistence and versions ------------------------------------------- */

static char *dump_run(struct weir_state *st, const char *id)
{
    json_t *run = get_run(st, id);
    char *text = tu_json_text(run);

    json_decref(run);
    return text;
}

static void test_reopen_sees_everything(void **state)
{
    struct weir_state *st = open_state(*state);
    json_t *out = json_pack("{s:[i,i]}", "x", 1, 2);
    json_t *list = NULL;
    char *before;
    char *after;

    assert_int_equal(insert(st, "r", 1, "running"), WEIR_OK);
    assert_int_equal(weir_state_step_put(st, "r", "a", "success", 1, out, NULL, 2, 3), WEIR_OK);
    assert_int_equal(weir_state_approval_request(st, "r", "b", "ok?", out, 4), WEIR_OK);
    assert_int_equal(weir_state_approval_decide(st, "r", "b", "refined", "c", "d", 5), WEIR_OK);
    assert_int_equal(weir_state_run_set_status(st, "r", "failed", 6), WEIR_OK);
    before = dump_run(st, "r");
    weir_state_close(st);
    json_decref(out);

    st = open_state(*state);
    after = dump_run(st, "r");
    assert_string_equal(after, before);
    assert_non_null(strstr(after, "\"ended_ms\":6"));
    assert_non_null(strstr(after, "\"status\":\"refined\""));
    assert_int_equal(weir_state_runs_list(st, 0, &list), WEIR_OK);
    assert_int_equal(json_array_size(list), 1);
    json_decref(list);
    free(before);
    free(after);
    weir_state_close(st);
}

static void test_creates_workspace(void **state)
{
    char *ws = NULL;
    char *db = NULL;
    char *text;

    assert_true(asprintf(&ws, "%s/deep/er/.weir", (char *)*state) > 0);
    weir_state_close(open_state(ws));
    assert_true(asprintf(&db, "%s/state.db", ws) > 0);
    text = tu_read_file(db, NULL);
    assert_non_null(text);
    free(text);
    free(db);
    free(ws);
}

static char *db_path(const char *dir)
{
    char *path = NULL;

    assert_true(asprintf(&path, "%s/state.db", dir) > 0);
    return path;
}

static void test_newer_schema_refused(void **state)
{
    struct weir_state *st = open_state(*state);
    char *path = db_path(*state);
    char want[512];
    sqlite3 *db = NULL;

    weir_state_close(st);
    st = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);

    assert_int_equal(weir_state_open(*state, &st), WEIR_EVERSION);
    assert_null(st);
    snprintf(want, sizeof(want),
             "state database %s has schema version 99, newer than this weir (1); upgrade weir",
             path);
    assert_string_equal(weir_error_last(), want);
    free(path);
}

static void test_not_a_database(void **state)
{
    struct weir_state *st = NULL;
    char *path = tu_write_file(*state, "state.db", "this is certainly not an SQLite file, "
                                                   "it is plain text long enough to have a header");
    int rc = weir_state_open(*state, &st);

    assert_true(rc < 0);
    assert_null(st);
    assert_error_has(path);
    assert_error_has("not a database");
    free(path);
}

/* ---- crash safety --------------------------------------------------------- */

/* The child of a crash round: writes complete runs forever and reports each
 * one on fd once every call for it has returned. */
static void crash_writer(const char *dir, int round, int fd)
{
    struct weir_state *st = NULL;
    char *big = malloc(CRASH_OUTPUT_BYTES + 1);
    json_t *out = NULL;
    char id[64];
    char step[32];
    char line[96];

    /* Outputs spanning several pages make each commit many page writes, so
     * kills land inside them and a non-atomic commit would show. */
    memset(big, 'x', CRASH_OUTPUT_BYTES);
    big[CRASH_OUTPUT_BYTES] = '\0';
    out = json_pack("{s:s, s:[i,i,i], s:s}", "table", "db.t", "rows", 1, 2, 3, "blob", big);
    if (!out || weir_state_open(dir, &st) < 0) {
        _exit(2);
    }
    for (int i = 0;; i++) {
        int nsteps = 1 + i % 4;
        snprintf(id, sizeof(id), "c%02d-%06d", round, i);
        if (insert(st, id, i, "running") < 0) {
            _exit(3);
        }
        for (int k = 0; k < nsteps; k++) {
            snprintf(step, sizeof(step), "s%d", k);
            if (weir_state_step_put(st, id, step, "running", 1, NULL, NULL, i, 0) < 0 ||
                weir_state_step_put(st, id, step, "success", 1, out, NULL, i, i + 1) < 0) {
                _exit(4);
            }
        }
        if (weir_state_run_set_status(st, id, "success", i + 2) < 0) {
            _exit(5);
        }
        int n = snprintf(line, sizeof(line), "%s %d\n", id, nsteps);
        if (write(fd, line, (size_t)n) != n) {
            _exit(6);
        }
    }
}

struct committed {
    char *text; /* "id nsteps\n" lines as the children reported them */
    size_t len;
    size_t cap;
};

static void append_from(struct committed *c, int fd, int timeout_ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    char buf[4096];

    if (poll(&p, 1, timeout_ms) <= 0) {
        return;
    }
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n <= 0) {
        return;
    }
    if (c->len + (size_t)n + 1 > c->cap) {
        c->cap = (c->len + (size_t)n + 1) * 2;
        c->text = realloc(c->text, c->cap);
        assert_non_null(c->text);
    }
    memcpy(c->text + c->len, buf, (size_t)n);
    c->len += (size_t)n;
    c->text[c->len] = '\0';
}

/* Runs one child for delay_ms, kills it with SIGKILL and collects what it
 * reported as committed. */
static void crash_round(const char *dir, int round, int delay_ms, struct committed *c)
{
    int fds[2];
    int status = 0;
    pid_t pid;
    int64_t deadline;

    assert_int_equal(pipe(fds), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        crash_writer(dir, round, fds[1]);
        _exit(7);
    }
    close(fds[1]);
    deadline = tu_now_ms() + delay_ms;
    while (tu_now_ms() < deadline) {
        append_from(c, fds[0], (int)(deadline - tu_now_ms()));
    }
    kill(pid, SIGKILL);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!WIFSIGNALED(status)) {
        fail_msg("crash writer exited by itself with status %d", WEXITSTATUS(status));
    }
    /* Drain whatever it wrote before dying; EOF ends the loop. */
    for (size_t before = SIZE_MAX; before != c->len;) {
        before = c->len;
        append_from(c, fds[0], 0);
    }
    close(fds[0]);
}

static void assert_integrity(const char *dir)
{
    char *path = db_path(dir);
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;

    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(s, 0), "ok");
    sqlite3_finalize(s);
    sqlite3_close(db);
    free(path);
}

/* Every run reported committed is there with all its steps finished. */
static size_t assert_committed(const char *dir, const struct committed *c)
{
    struct weir_state *st = open_state(dir);
    char *copy = strdup(c->text ? c->text : "");
    size_t count = 0;
    char *save = NULL;

    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char id[64];
        int nsteps = 0;
        json_t *run = NULL;
        json_t *steps;

        assert_int_equal(sscanf(line, "%63s %d", id, &nsteps), 2);
        if (weir_state_run_get(st, id, &run) != WEIR_OK) {
            fail_msg("committed run %s is missing: %s", id, weir_error_last());
        }
        assert_string_equal(json_string_value(json_object_get(run, "status")), "success");
        steps = json_object_get(run, "steps");
        assert_int_equal(json_array_size(steps), nsteps);
        for (size_t k = 0; k < json_array_size(steps); k++) {
            json_t *step = json_array_get(steps, k);
            assert_string_equal(json_string_value(json_object_get(step, "status")), "success");
            json_t *blob = json_object_get(json_object_get(step, "output"), "blob");
            assert_int_equal(json_string_length(blob), CRASH_OUTPUT_BYTES);
        }
        json_decref(run);
        count++;
    }
    free(copy);
    weir_state_close(st);
    return count;
}

static void test_crash_safety(void **state)
{
    struct committed c = {0};
    unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
    size_t count = 0;
    int rounds_with_commits = 0;

    print_message("crash test seed %u\n", seed);
    srand(seed);
    for (int round = 0; round < CRASH_ROUNDS; round++) {
        size_t before = count;
        crash_round(*state, round, 5 + rand() % 56, &c);
        assert_integrity(*state);
        count = assert_committed(*state, &c);
        rounds_with_commits += count > before;
    }
    print_message("crash test: %d rounds, %zu runs committed before kills, %d rounds with "
                  "commits\n",
                  CRASH_ROUNDS, count, rounds_with_commits);
    /* Without commits the test would prove nothing; a loaded machine may
     * leave some rounds without one, so only a few are required. */
    assert_true(count > 0);
    assert_true(rounds_with_commits >= 3);
    free(c.text);
}

/* ---- concurrent writers ---------------------------------------------------- */

static int concurrent_writer(const char *dir, const char *prefix, int go)
{
    struct weir_state *st = NULL;
    json_t *list = NULL;
    char id[64];
    char buf[1];

    /* Both start at once: the parent closes the pipe. */
    if (read(go, buf, 1) != 0 || weir_state_open(dir, &st) < 0) {
        fprintf(stderr, "%s: open: %s\n", prefix, weir_error_last());
        return 2;
    }
    for (int i = 0; i < WRITER_RUNS; i++) {
        snprintf(id, sizeof(id), "%s-%d", prefix, i);
        if (insert(st, id, i, "running") < 0) {
            fprintf(stderr, "%s: insert: %s\n", prefix, weir_error_last());
            return 3;
        }
        for (int k = 0; k < WRITER_STEPS; k++) {
            char step[16];
            snprintf(step, sizeof(step), "s%d", k);
            if (weir_state_step_put(st, id, step, "success", 1, NULL, NULL, i, i) < 0) {
                fprintf(stderr, "%s: step: %s\n", prefix, weir_error_last());
                return 4;
            }
        }
        if (weir_state_runs_list(st, 5, &list) < 0) {
            fprintf(stderr, "%s: list: %s\n", prefix, weir_error_last());
            return 5;
        }
        json_decref(list);
    }
    weir_state_close(st);
    return 0;
}

static void test_two_writers(void **state)
{
    const char *prefixes[2] = {"left", "right"};
    pid_t pids[2];
    int status[2] = {0, 0};
    struct weir_state *st;
    json_t *list = NULL;
    int go[2];

    assert_int_equal(pipe(go), 0);
    for (int i = 0; i < 2; i++) {
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0) {
            close(go[1]);
            _exit(concurrent_writer(*state, prefixes[i], go[0]));
        }
    }
    close(go[0]);
    close(go[1]);
    /* Both are reaped before judging, so a failure of one does not remove
     * the directory under the other. */
    for (int i = 0; i < 2; i++) {
        assert_int_equal(waitpid(pids[i], &status[i], 0), pids[i]);
    }
    for (int i = 0; i < 2; i++) {
        assert_true(WIFEXITED(status[i]));
        assert_int_equal(WEXITSTATUS(status[i]), 0);
    }
    st = open_state(*state);
    assert_int_equal(weir_state_runs_list(st, 0, &list), WEIR_OK);
    assert_int_equal(json_array_size(list), 2 * WRITER_RUNS);
    json_decref(list);
    for (int i = 0; i < 2; i++) {
        char id[64];
        json_t *run;
        snprintf(id, sizeof(id), "%s-%d", prefixes[i], WRITER_RUNS - 1);
        run = get_run(st, id);
        assert_int_equal(json_array_size(json_object_get(run, "steps")), WRITER_STEPS);
        json_decref(run);
    }
    weir_state_close(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_run_insert_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_run_optional_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_runs_list_newest_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_runs_list_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_and_unknown, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_and_ended, setup, teardown),
        cmocka_unit_test_setup_teardown(test_steps_order_and_update, setup, teardown),
        cmocka_unit_test_setup_teardown(test_steps_are_per_run, setup, teardown),
        cmocka_unit_test_setup_teardown(test_output_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_approvals_request_decide_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_approvals_in_run_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_decide_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refined_then_rerequested, setup, teardown),
        cmocka_unit_test_setup_teardown(test_approval_first_request_message, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen_sees_everything, setup, teardown),
        cmocka_unit_test_setup_teardown(test_creates_workspace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_newer_schema_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_a_database, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_safety, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_writers, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
