/*
 * rt_util.h - helpers for the runtime tests (tests/runtime/): a throw-away
 * project directory with a weir.yaml, a runtime over the built plugins, and
 * running pipelines given as YAML text.
 */
#ifndef WEIR_RT_UTIL_H
#define WEIR_RT_UTIL_H

#include <stdint.h>

#include <jansson.h>

#include "testutil.h"

#include "run.h"

struct rt_project {
    char *dir;                 /* project directory (weir.yaml is here) */
    char *workspace;           /* <dir>/.weir */
    struct weir_runtime *rt;
};

/* cmocka setup/teardown: *state becomes a struct rt_project with the
 * default weir.yaml (workspace: .weir). */
int rt_setup(void **state);
int rt_teardown(void **state);

/* A project whose weir.yaml is `version: 1\nworkspace: .weir\n` + extra_yaml. */
struct rt_project *rt_project_new(const char *extra_yaml);
void rt_project_free(struct rt_project *p);

/* Writes text to <dir>/<name>; returns the full path (free it). */
char *rt_write(const struct rt_project *p, const char *name, const char *text);

/* Runs pipeline text (written to <dir>/<name>) and returns the summary;
 * fails the test unless weir_run_execute returns WEIR_OK. params may be NULL.
 * *elapsed_ms (may be NULL) is the wall time of the call. */
json_t *rt_run(struct rt_project *p, const char *name, const char *yaml, int jobs, const json_t *params,
               enum weir_run_status *status, int64_t *elapsed_ms);

/* Resumes run_id; fails the test unless weir_run_execute returns WEIR_OK. */
json_t *rt_resume(struct rt_project *p, const char *run_id, int jobs, enum weir_run_status *status);

/* Like rt_run but expects an error before the run; returns the rc and fills
 * *first_diag (may be NULL; free it) with "file:line:col: msg" of the first
 * diagnostic, or the last error when there was none. */
int rt_run_error(struct rt_project *p, const char *name, const char *yaml, const json_t *params,
                 char **first_diag);

/* summary.steps.<id> (borrowed; fails the test if absent). */
json_t *rt_step(const json_t *summary, const char *id);
const char *rt_step_status(const json_t *summary, const char *id);
int rt_step_attempts(const json_t *summary, const char *id);
const char *rt_step_error(const json_t *summary, const char *id);
const char *rt_run_id(const json_t *summary);

/* Asserts the step's status (with a readable message on mismatch). */
#define rt_assert_status(summary, id, want) rt__assert_status((summary), (id), (want), __FILE__, __LINE__)
void rt__assert_status(const json_t *summary, const char *id, const char *want, const char *file, int line);

/* Asserts that hay contains needle. */
#define rt_assert_contains(hay, needle) rt__assert_contains((hay), (needle), __FILE__, __LINE__)
void rt__assert_contains(const char *hay, const char *needle, const char *file, int line);

/* weir_state_run_get of run_id from the project's workspace (new reference). */
json_t *rt_state_run(const struct rt_project *p, const char *run_id);

/* The state record of one step in a weir_state_run_get object (borrowed). */
json_t *rt_state_step(const json_t *run, const char *step);

/* The events of a run, one JSON object per line (fails the test on a line that
 * is not a JSON object). New array. */
json_t *rt_events(const struct rt_project *p, const char *run_id);

/* Name of the status string, for messages. */
const char *rt_status_name(enum weir_run_status s);

#endif
