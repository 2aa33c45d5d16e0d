/*
 * pipeline.h - a pipeline file (YAML v1, DESIGN §3) loaded, checked and
 * compiled, ready to run. Everything that can be wrong with a pipeline is
 * found here, before any step runs, and reported as file:line:col.
 *
 * Steps form a flat array in file order. A `repeat:` step is a group whose
 * `steps:` follow it in the array with `parent` pointing at the group, so the
 * runner schedules one array. `needs` name siblings (same parent) only.
 */
#ifndef WEIR_CORE_PIPELINE_H
#define WEIR_CORE_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "config.h"
#include "diag.h"
#include "expr.h"
#include "plugins.h"

#define WEIR_PIPELINE_MAX_STEPS 100000

enum weir_step_kind {
    WEIR_STEP_USES,     /* a plugin step or a service op */
    WEIR_STEP_LUA,      /* an embedded Lua script */
    WEIR_STEP_APPROVAL, /* pauses the run for a human decision */
    WEIR_STEP_REPEAT    /* a group of steps run until a condition holds */
};

struct weir_retry {
    int max;              /* extra attempts after the first; 0 = none */
    int exponential;      /* backoff: exponential (else fixed) */
    int64_t delay_ms;     /* first delay */
    int64_t max_delay_ms; /* cap for exponential backoff */
    int jitter;           /* randomise each delay to [delay/2, delay] */
};

struct weir_pstep {
    char *id;
    int line, col;            /* position of the step's mapping */
    enum weir_step_kind kind;
    long parent;              /* index of the enclosing repeat group, or -1 */

    char *uses;               /* "plugin.step" or "service.op" as written */
    const struct weir_step_def *def; /* resolved for the pipeline's target */

    char *lua_src;            /* script text */
    size_t lua_len;
    char *lua_name;           /* chunk name for messages */

    struct weir_tmpl *with;   /* `with:` (an object template), or NULL */
    struct weir_expr *cond;   /* `if:`, or NULL */
    struct weir_tmpl *for_each; /* `for_each:` (must evaluate to an array), or NULL */

    size_t *needs;            /* indexes into the pipeline's steps */
    size_t nneeds;

    struct weir_retry retry;
    int64_t timeout_ms;       /* 0 = none */
    int continue_on_error;

    struct weir_tmpl *approval; /* {message, show} template, for approvals */
    long refine;              /* step re-run on "refine", or -1 */

    struct weir_expr *until;  /* repeat groups */
    int repeat_max;
};

struct weir_pipeline {
    char *file;               /* as given */
    char *source;             /* the YAML text */
    char *name;
    char *description;
    char *dir;                /* directory of the file (for relative lua: paths) */
    json_t *params;           /* {name: {type, required, default, description}} in file order */
    struct weir_pstep *steps;
    size_t nsteps;
};

/*
 * Loads, checks and compiles a pipeline from text (file names it in
 * diagnostics). Checks need the plugins (for `uses` and `with`) and the
 * config (target for service steps, env allow-list, project dir). Every
 * problem found is added to diags; returns WEIR_EINVALID when there was any.
 */
int weir_pipeline_load(const char *file, const char *text, size_t len, const struct weir_config *cfg,
                       const char *target, const struct weir_plugins *plugins,
                       struct weir_pipeline **out, struct weir_diags *diags);

/* Reads file and calls weir_pipeline_load. */
int weir_pipeline_load_file(const char *file, const struct weir_config *cfg, const char *target,
                            const struct weir_plugins *plugins, struct weir_pipeline **out,
                            struct weir_diags *diags);

void weir_pipeline_free(struct weir_pipeline *p);

/* Index of a step by id, or -1. */
long weir_pipeline_find(const struct weir_pipeline *p, const char *id);

/* Checks and completes run params: values given on the command line (object
 * of strings or JSON values; borrowed) against the declared params. Strings
 * are converted to the declared type ("10" -> 10 for an integer param).
 * *out is a new object with defaults. Errors name the param. */
int weir_pipeline_params(const struct weir_pipeline *p, const json_t *given, json_t **out);

/* Writes the step graph as Graphviz DOT or Mermaid. */
int weir_pipeline_graph(const struct weir_pipeline *p, const char *format, FILE *fp);

/* Parses a duration: integer seconds, or a string "250ms", "30s", "5m", "1h". */
int weir_duration_parse(const json_t *v, int64_t *ms);

#endif
