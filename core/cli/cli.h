/*
 * cli.h - the `weir` command line: one file per command group.
 *
 * Exit codes (documented in the README, relied on by schedulers and hooks):
 */
#ifndef WEIR_CLI_H
#define WEIR_CLI_H

#include <jansson.h>

#include "run.h"

enum weir_exit {
    WEIR_EXIT_OK = 0,        /* success */
    WEIR_EXIT_FAILED = 1,    /* a step failed (the run failed) */
    WEIR_EXIT_USAGE = 2,     /* bad command line */
    WEIR_EXIT_INVALID = 3,   /* invalid pipeline or weir.yaml */
    WEIR_EXIT_PAUSED = 4,    /* the run waits for an approval */
    WEIR_EXIT_CANCELLED = 5, /* the run was cancelled (SIGINT/SIGTERM) */
    WEIR_EXIT_INTERNAL = 10  /* anything else: state database, I/O, out of memory */
};

/* Options every command accepts. */
struct cli_common {
    const char *config;      /* --config FILE */
    const char *workspace;   /* --workspace DIR */
    const char *plugin_dir;  /* --plugin-dir DIR */
    int json;                /* --json */
};

/* Opens the runtime for a command; prints diagnostics and returns an exit
 * code (> 0) on failure, 0 on success. */
int cli_runtime(const struct cli_common *c, struct weir_runtime **rt);

/* Prints a JSON value to stdout, pretty, with a newline. */
void cli_print_json(const json_t *v);

/* Prints the diagnostics (or, when there are none, the last error) to
 * stderr and frees them. */
void cli_report(struct weir_diags *diags);

/* Prints "weir: <last error>" to stderr. */
void cli_error(const char *what);

/* Maps a weir error code to an exit code. */
int cli_exit_for(int rc);

/* Calls service.op of a target (NULL: the default target) through the
 * runtime, exactly as a pipeline step `service.op` would run, with `with`
 * (borrowed) as its input. Returns the op's weir code (WEIR_EINVALID when the
 * target or the service does not resolve), the error set on failure. */
int cli_service_call(struct weir_runtime *rt, const char *target, const char *service,
                     const char *op, const json_t *with, json_t **out);

/* Runs the step plugin.step (e.g. "drift", "detect") on a target's services
 * (NULL: the default target) as a pipeline step would run, for the day
 * `date` (NULL: today), with `with` (borrowed) as its input. Returns the
 * step's code, the error set on failure (WEIR_EINVALID: no such target,
 * WEIR_ENOTFOUND: the plugin or step is not installed). */
int cli_step_call(struct weir_runtime *rt, const char *target, const char *plugin,
                  const char *step, const char *date, const json_t *with, json_t **out);

/* The exit code for a failed service call: a missing table or file is a
 * usage error (2), an invalid definition 3, a refused write or a timeout 1. */
int cli_service_exit(int rc);

int cli_run(int argc, char **argv);
int cli_validate(int argc, char **argv);
int cli_graph(int argc, char **argv);
int cli_plugins(int argc, char **argv);
int cli_plugin(int argc, char **argv);
int cli_runs(int argc, char **argv);
int cli_approvals(int argc, char **argv);
int cli_catalog(int argc, char **argv);
int cli_contract(int argc, char **argv);
int cli_profile(int argc, char **argv);
int cli_drift(int argc, char **argv);
int cli_impact(int argc, char **argv);
int cli_lineage(int argc, char **argv);
int cli_hook(int argc, char **argv);

/* Parses the common options in argv (getopt_long), returning the index of
 * the first non-option argument, or -1 after printing a usage error.
 * `extra` handles command-specific options: it gets the option's name and
 * argument and returns 0, or -1 for a usage error. */
struct cli_opt {
    const char *name;
    int has_arg;
    int short_name; /* e.g. 'j', or 0 */
};
typedef int (*cli_extra_fn)(const char *name, const char *arg, void *payload);
int cli_parse(int argc, char **argv, struct cli_common *c, const struct cli_opt *extra, cli_extra_fn fn,
              void *payload, const char *usage);

#endif
