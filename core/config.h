/*
 * config.h - the project file weir.yaml:
 *
 *   version: 1
 *   workspace: .weir              # state, logs, artifacts (relative to this file)
 *   plugin_dirs: [plugins]        # searched before the built-in plugin dir
 *   env: [AWS_REGION]             # environment names pipelines may read (env.X)
 *   default_target: local
 *   targets:
 *     local: { catalog: lake, engine: lake, store: fs, llm: builtin, notify: file }
 *     aws:   { catalog: glue-catalog, engine: athena, store: s3, llm: bedrock, notify: webhook }
 *   lua: { memory_mb: 64, time_budget_ms: 10000 }
 *
 * Without a weir.yaml the project is the current directory, the workspace
 * .weir, and the only target is `local` with the embedded implementations.
 */
#ifndef WEIR_CORE_CONFIG_H
#define WEIR_CORE_CONFIG_H

#include <stddef.h>

#include <jansson.h>

#include "diag.h"
#include "lua_host.h"

struct weir_config {
    char *path;            /* weir.yaml used, or NULL */
    char *project;         /* absolute directory of weir.yaml, or cwd */
    char *workspace;       /* absolute */
    char **plugin_dirs;    /* absolute, in search order */
    size_t nplugin_dirs;
    json_t *env_allow;     /* array of names */
    char *default_target;
    json_t *targets;       /* {name: {service: plugin}} */
    struct weir_lua_limits lua;
};

/* Loads path (NULL: ./weir.yaml if present, else defaults). Problems are
 * added to diags as file:line:col; returns WEIR_EINVALID then. */
int weir_config_load(const char *path, struct weir_config **out, struct weir_diags *diags);

/* Adds a plugin directory in front of the configured ones (CLI --plugin-dir,
 * WEIR_PLUGIN_PATH). */
int weir_config_add_plugin_dir(struct weir_config *cfg, const char *dir, int front);

/* Sets the workspace (CLI --workspace); relative to the current directory. */
int weir_config_set_workspace(struct weir_config *cfg, const char *dir);

/* The {service: plugin} object of a target (borrowed) or NULL with the last error set. */
const json_t *weir_config_target(const struct weir_config *cfg, const char *name);

/* Whether env.NAME may be read by pipelines. */
int weir_config_env_allowed(const struct weir_config *cfg, const char *name);

void weir_config_free(struct weir_config *cfg);

#endif
