/*
 * run.h - running a pipeline: scheduling, retries, timeouts, fan-out, loops,
 * approvals, state and events (DESIGN §3, §8).
 *
 * A runtime holds what outlives one run (config, loaded plugins). A run
 * executes steps on a pool of worker threads; everything else (expression
 * evaluation, state, events) happens on the calling thread, so step results
 * are recorded in one place and the summary is the same whatever the
 * scheduling order.
 */
#ifndef WEIR_CORE_RUN_H
#define WEIR_CORE_RUN_H

#include <stdio.h>

#include <jansson.h>

#include "config.h"
#include "diag.h"
#include "plugins.h"

struct weir_runtime {
    struct weir_config *cfg;
    struct weir_plugins *plugins;
};

/* Loads config (path NULL: ./weir.yaml or defaults), then plugins from the
 * configured directories, WEIR_PLUGIN_PATH (colon-separated) and the
 * directory next to the executable. extra_plugin_dir may be NULL. */
int weir_runtime_open(const char *config_path, const char *extra_plugin_dir,
                      struct weir_runtime **out, struct weir_diags *diags);
void weir_runtime_close(struct weir_runtime *rt);

struct weir_run_opts {
    const char *pipeline;   /* pipeline file (ignored when resuming) */
    const json_t *params;   /* {name: value}; values may be strings to coerce */
    const char *target;     /* NULL: the config's default_target */
    const char *date;       /* run.date, YYYY-MM-DD; NULL: today (UTC) */
    int jobs;               /* parallel steps; 0: number of cores */
    const char *resume;     /* run id to resume, or NULL */
    FILE *progress;         /* where to print progress lines, or NULL */
};

/* Run outcome; also the CLI's exit-code basis. */
enum weir_run_status {
    WEIR_RUN_SUCCESS = 0,
    WEIR_RUN_FAILED,
    WEIR_RUN_PAUSED,
    WEIR_RUN_CANCELLED
};

/*
 * Runs a pipeline (or resumes a run). On WEIR_OK *status says how the run
 * ended and *summary (new reference) is
 *   {run, pipeline, target, date, status, steps: {id: {status, attempts,
 *    output, error?}}}  with steps in pipeline order.
 * Errors before the run starts (invalid pipeline, unknown run) return
 * WEIR_EINVALID / WEIR_ENOTFOUND with diags or the last error set.
 */
int weir_run_execute(struct weir_runtime *rt, const struct weir_run_opts *opts, struct weir_diags *diags,
                     enum weir_run_status *status, json_t **summary);

/* Asks running runs of this process to stop (signal-safe). */
void weir_run_cancel_all(void);

#endif
