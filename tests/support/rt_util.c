/* rt_util.c - see rt_util.h. */
#include "rt_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "error.h"
#include "state.h"

struct rt_project *rt_project_new(const char *extra_yaml)
{
    struct rt_project *p = calloc(1, sizeof(*p));
    char *yaml = NULL, *cfg;
    struct weir_diags diags = { 0 };
    int rc;

    assert_non_null(p);
    p->dir = tu_mkdtemp();
    assert_non_null(p->dir);
    assert_true(asprintf(&p->workspace, "%s/.weir", p->dir) >= 0);
    assert_true(asprintf(&yaml, "version: 1\nworkspace: .weir\n%s", extra_yaml ? extra_yaml : "") >= 0);
    cfg = tu_write_file(p->dir, "weir.yaml", yaml);
    rc = weir_runtime_open(cfg, tu_env("WEIR_PLUGIN_DIR"), &p->rt, &diags);
    if (rc != WEIR_OK) {
        weir_diags_print(&diags, stderr);
        fail_msg("weir_runtime_open: %d %s", rc, weir_error_last());
    }
    weir_diags_free(&diags);
    free(cfg);
    free(yaml);
    return p;
}

void rt_project_free(struct rt_project *p)
{
    if (!p) {
        return;
    }
    weir_runtime_close(p->rt);
    if (p->dir && !getenv("WEIR_TEST_KEEP")) {
        tu_rmtree(p->dir);
    }
    free(p->dir);
    free(p->workspace);
    free(p);
}

int rt_setup(void **state)
{
    *state = rt_project_new(NULL);
    return *state ? 0 : -1;
}

int rt_teardown(void **state)
{
    rt_project_free(*state);
    return 0;
}

char *rt_write(const struct rt_project *p, const char *name, const char *text)
{
    return tu_write_file(p->dir, name, text);
}

const char *rt_status_name(enum weir_run_status s)
{
    static const char *names[] = { "SUCCESS", "FAILED", "PAUSED", "CANCELLED" };
    return (unsigned)s < 4 ? names[s] : "?";
}

static json_t *execute(struct rt_project *p, const struct weir_run_opts *opts, enum weir_run_status *status)
{
    struct weir_diags diags = { 0 };
    json_t *summary = NULL;
    int rc = weir_run_execute(p->rt, opts, &diags, status, &summary);

    if (rc != WEIR_OK) {
        weir_diags_print(&diags, stderr);
        fail_msg("weir_run_execute: %d %s", rc, weir_error_last());
    }
    weir_diags_free(&diags);
    assert_non_null(summary);
    if (getenv("WEIR_TEST_VERBOSE")) {
        char *text = json_dumps(summary, JSON_INDENT(2));
        fprintf(stderr, "status %s\n%s\n", rt_status_name(*status), text);
        free(text);
    }
    return summary;
}

json_t *rt_run(struct rt_project *p, const char *name, const char *yaml, int jobs, const json_t *params,
               enum weir_run_status *status, int64_t *elapsed_ms)
{
    char *path = rt_write(p, name, yaml);
    struct weir_run_opts opts = { .pipeline = path, .params = params, .jobs = jobs,
                                  .date = "2026-11-21" };
    int64_t t0 = tu_now_ms();
    json_t *summary = execute(p, &opts, status);

    if (elapsed_ms) {
        *elapsed_ms = tu_now_ms() - t0;
    }
    free(path);
    return summary;
}

json_t *rt_resume(struct rt_project *p, const char *run_id, int jobs, enum weir_run_status *status)
{
    struct weir_run_opts opts = { .resume = run_id, .jobs = jobs };
    return execute(p, &opts, status);
}

int rt_run_error(struct rt_project *p, const char *name, const char *yaml, const json_t *params,
                 char **first_diag)
{
    char *path = rt_write(p, name, yaml);
    struct weir_run_opts opts = { .pipeline = path, .params = params, .jobs = 2 };
    struct weir_diags diags = { 0 };
    enum weir_run_status status;
    json_t *summary = NULL;
    int rc = weir_run_execute(p->rt, &opts, &diags, &status, &summary);

    if (rc == WEIR_OK) {
        fail_msg("expected an error before the run, got status %s", rt_status_name(status));
    }
    assert_null(summary);
    if (first_diag) {
        if (diags.n > 0) {
            assert_true(asprintf(first_diag, "%s:%d:%d: %s", diags.v[0].file, diags.v[0].line,
                                 diags.v[0].col, diags.v[0].msg) >= 0);
        }
        else {
            *first_diag = strdup(weir_error_last());
        }
    }
    weir_diags_free(&diags);
    free(path);
    return rc;
}

json_t *rt_step(const json_t *summary, const char *id)
{
    json_t *s = json_object_get(json_object_get(summary, "steps"), id);
    if (!s) {
        fail_msg("summary has no step '%s'", id);
    }
    return s;
}

const char *rt_step_status(const json_t *summary, const char *id)
{
    return json_string_value(json_object_get(rt_step(summary, id), "status"));
}

int rt_step_attempts(const json_t *summary, const char *id)
{
    return (int)json_integer_value(json_object_get(rt_step(summary, id), "attempts"));
}

const char *rt_step_error(const json_t *summary, const char *id)
{
    return json_string_value(json_object_get(rt_step(summary, id), "error"));
}

const char *rt_run_id(const json_t *summary)
{
    const char *id = json_string_value(json_object_get(summary, "run"));
    assert_non_null(id);
    return id;
}

void rt__assert_status(const json_t *summary, const char *id, const char *want, const char *file, int line)
{
    const char *got = rt_step_status(summary, id);
    if (!got || strcmp(got, want) != 0) {
        const char *err = rt_step_error(summary, id);
        fail_msg("%s:%d: step '%s' is '%s', want '%s'%s%s", file, line, id, got ? got : "(none)", want,
                 err ? "; error: " : "", err ? err : "");
    }
}

void rt__assert_contains(const char *hay, const char *needle, const char *file, int line)
{
    if (!hay || !strstr(hay, needle)) {
        fail_msg("%s:%d: '%s' does not contain '%s'", file, line, hay ? hay : "(NULL)", needle);
    }
}

json_t *rt_state_run(const struct rt_project *p, const char *run_id)
{
    struct weir_state *st = NULL;
    json_t *run = NULL;
    int rc = weir_state_open(p->workspace, &st);

    if (rc != WEIR_OK) {
        fail_msg("weir_state_open: %s", weir_error_last());
    }
    rc = weir_state_run_get(st, run_id, &run);
    weir_state_close(st);
    if (rc != WEIR_OK) {
        fail_msg("weir_state_run_get(%s): %s", run_id, weir_error_last());
    }
    return run;
}

json_t *rt_state_step(const json_t *run, const char *step)
{
    size_t i;
    json_t *rec;

    json_array_foreach(json_object_get(run, "steps"), i, rec) {
        const char *id = json_string_value(json_object_get(rec, "step"));
        if (id && !strcmp(id, step)) {
            return rec;
        }
    }
    fail_msg("state has no record of step '%s'", step);
    return NULL;
}

json_t *rt_events(const struct rt_project *p, const char *run_id)
{
    char *path = NULL, *text, *line, *save = NULL;
    json_t *events = json_array();

    assert_true(asprintf(&path, "%s/runs/%s/events.jsonl", p->workspace, run_id) >= 0);
    text = tu_read_file(path, NULL);
    if (!text) {
        fail_msg("no event log at %s", path);
    }
    for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        json_error_t err;
        json_t *ev = json_loads(line, 0, &err);
        if (!json_is_object(ev)) {
            fail_msg("%s: line is not a JSON object (%s): %s", path, err.text, line);
        }
        json_array_append_new(events, ev);
    }
    free(text);
    free(path);
    return events;
}
