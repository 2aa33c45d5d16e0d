/* llm_server.c - see llm_server.h. */
#include "llm_server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctx.h"
#include "error.h"
#include "plugins.h"

struct aws_server llm_server;

static struct weir_plugins *plugins;
static const struct llm_server_spec *spec;
static char *project;
static struct weir_ctx ctx;

int llm_server_setup(const struct llm_server_spec *s)
{
    spec = s;
    project = tu_mkdtemp();
    if (aws_server_start(&llm_server, s->server_args) != 0 ||
        weir_plugins_new(&plugins) != WEIR_OK) {
        return -1;
    }
    tu_load_plugin(plugins, s->plugin);
    ctx.run_id = "r1";
    ctx.run_date = "2026-11-21";
    ctx.target = "aws";
    ctx.step_id = "draft";
    ctx.workspace = project;
    ctx.project = project;
    ctx.plugins = plugins;
    return 0;
}

int llm_server_teardown(void **state)
{
    (void)state;
    aws_server_stop(&llm_server);
    weir_plugins_free(plugins);
    tu_rmtree(project);
    free(project);
    return 0;
}

int llm_server_generate(const char *reply, const char *extra, json_t **out)
{
    const struct weir_step_def *def =
        weir_plugins_find_op(plugins, spec->plugin, "llm", "generate");
    char *user = NULL, *input = NULL, *quoted;
    json_t *in, *u;
    int rc;

    assert_non_null(def);
    assert_true(asprintf(&user,
                         "Draft the data contract of table db.loans.\n\n"
                         "-----BEGIN CONTEXT JSON-----\n{\"table_name\": \"loans\","
                         " \"weir_test_reply\": %s}\n-----END CONTEXT JSON-----\n",
                         reply) > 0);
    u = json_string(user);
    quoted = json_dumps(u, JSON_ENCODE_ANY);
    assert_true(asprintf(&input,
                         "{\"messages\": [{\"role\": \"system\", \"content\": \"You are a data "
                         "engineer.\"}, {\"role\": \"user\", \"content\": %s}], "
                         "\"json_schema\": " LLM_SERVER_SCHEMA "%s}",
                         quoted, extra) > 0);
    in = tu_json_load(input);
    *out = NULL;
    rc = weir_step_invoke(def, in, out, &ctx);
    json_decref(in);
    json_decref(u);
    free(user);
    free(quoted);
    free(input);
    return rc;
}

void llm_server_expect_answer(json_t *out)
{
    const json_t *usage = json_object_get(out, "usage");

    assert_true(json_integer_value(json_object_get(out, "latency_ms")) >= 0);
    assert_true(json_integer_value(json_object_get(usage, "input_tokens")) > 0);
    assert_true(json_integer_value(json_object_get(usage, "output_tokens")) > 0);
    json_object_del(out, "latency_ms");
    json_object_del(out, "usage");
    tu_assert_json(out, LLM_SERVER_ANSWER);
}

void llm_server_test_modes(void **state)
{
    json_t *out;

    (void)state;
    for (size_t i = 0; spec->modes[i]; i++) {
        if (llm_server_generate(LLM_SERVER_ANSWER, spec->modes[i], &out) != WEIR_OK) {
            fail_msg("mode '%s': %s", spec->modes[i], weir_error_last());
        }
        llm_server_expect_answer(out);
        json_decref(out);
    }
}

void llm_server_test_not_json(void **state)
{
    char want[128];
    json_t *out;

    (void)state;
    snprintf(want, sizeof(want), "llm.generate (%s): the model's reply is not JSON", spec->plugin);
    assert_int_equal(llm_server_generate("\"Sorry, I cannot draft that contract.\"",
                                         spec->prompt_mode ? spec->prompt_mode : "", &out),
                     WEIR_EINVALID);
    tu_assert_contains(weir_error_last(), want);
    tu_assert_contains(weir_error_last(), "'Sorry, I cannot draft that contract.'");
    assert_int_equal(llm_server_generate("{\"data_quality\": {}}", "", &out), WEIR_EINVALID);
    tu_assert_contains(weir_error_last(), "lacks required key(s) 'tests', 'docs_markdown'");
}

/* Makes the server throttle the plugin's next count requests. */
static void throttle(int count)
{
    char fault[128];

    snprintf(fault, sizeof(fault), "{\"service\": \"%s\", \"fault\": \"throttle\", \"count\": %d}",
             spec->plugin, count);
    assert_int_equal(aws_server_reset(&llm_server), 0);
    assert_int_equal(aws_server_admin(&llm_server, "faults", fault, NULL), 0);
}

void llm_server_test_throttling(void **state)
{
    json_t *out, *log, *r;
    size_t i;
    int throttled = 0;

    (void)state;
    throttle(50);
    assert_int_equal(llm_server_generate(LLM_SERVER_ANSWER, "", &out), WEIR_EIO);
    tu_assert_contains(weir_error_last(),
                       spec->throttle_error ? spec->throttle_error : "rate limited (HTTP 429");
    tu_assert_contains(weir_error_last(), "after 3 attempt(s)");
    log = aws_server_log(&llm_server, NULL);
    json_array_foreach(log, i, r) {
        throttled += json_integer_value(json_object_get(r, "status")) == 429;
    }
    json_decref(log);
    assert_int_equal(throttled, 3);

    /* two throttles, then an answer */
    throttle(2);
    assert_int_equal(llm_server_generate(LLM_SERVER_ANSWER, "", &out), WEIR_OK);
    llm_server_expect_answer(out);
    json_decref(out);
    aws_server_reset(&llm_server);
}
