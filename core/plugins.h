/*
 * plugins.h - loading plugins and the registry of their steps (DESIGN §4).
 *
 * Loading rules: only files ending in ".so" in the directories the caller
 * names (weir.yaml plugin_dirs, WEIR_PLUGIN_PATH, the directory next to the
 * weir binary); dlopen with RTLD_NOW | RTLD_LOCAL; group- or world-writable
 * files are refused before dlopen. Each failure has its own message and code:
 *
 *   missing file      WEIR_ENOTFOUND  "plugin '<path>': file not found"
 *   writable file     WEIR_EINVALID   "plugin '<path>': refusing a group- or world-writable file (mode 0666); run chmod go-w on it"
 *   not loadable      WEIR_EINVALID   "plugin '<path>': not a loadable shared object: <dlerror>"
 *   no entry symbol   WEIR_ENOTFOUND  "plugin '<path>': no entry symbol 'weir_plugin_<name>_init'; export it with WEIR_PLUGIN_EXPORT"
 *   ABI mismatch      WEIR_EVERSION   "plugin '<path>': ABI mismatch: <detail>"
 *   init error        WEIR_EUSER      "plugin '<path>': error during initialization: <plugin's message>"
 *   duplicate name    WEIR_EEXISTS    "plugin '<path>': a plugin named '<name>' is already loaded from '<other>'"
 *
 * A plugin whose init fails is unloaded (its shutdown is called first) and
 * contributes no step; the failure is kept so `weir plugins` can show it and
 * a pipeline that uses the plugin reports it.
 */
#ifndef WEIR_CORE_PLUGINS_H
#define WEIR_CORE_PLUGINS_H

#include <stddef.h>

#include "weir/plugin.h"

struct weir_param_def {
    char *name;
    enum weir_param_type type;
    int required;
    json_t *def;         /* default value, or NULL */
    char *description;
};

struct weir_step_def {
    char *plugin;        /* plugin name, e.g. "core" */
    char *name;          /* step name, e.g. "echo" */
    char *service;       /* NULL, or the service this step implements an op of */
    char *description;
    struct weir_param_def *params;
    size_t nparams;
    weir_step_run_fn run;
    void *payload;
};

struct weir_plugin_rec {
    char *name;          /* derived from the file name */
    char *path;          /* NULL for built-in plugins */
    char *description;
    char *version;
    int error_code;      /* WEIR_OK when loaded */
    char *error;         /* message when error_code != WEIR_OK */
};

struct weir_plugins;

int weir_plugins_new(struct weir_plugins **out);

/* Frees everything: calls each loaded plugin's shutdown, then dlcloses it. */
void weir_plugins_free(struct weir_plugins *p);

/* Loads one file. Returns the code from the table above with the message set
 * as the last error; the failure is also recorded (see weir_plugins_at). */
int weir_plugins_load_file(struct weir_plugins *p, const char *path);

/* Loads every *.so in dir, in name order. A file that fails is recorded and
 * skipped; a file whose plugin name is already loaded (from an earlier
 * directory) is shadowed, like PATH, and silently skipped. Returns WEIR_OK
 * unless dir itself cannot be read (WEIR_ENOTFOUND). */
int weir_plugins_load_dir(struct weir_plugins *p, const char *dir);

/* Registers a plugin compiled into the calling program (tests, static builds)
 * under name, through the same init path a .so goes through. */
int weir_plugins_add_builtin(struct weir_plugins *p, const char *name, weir_plugin_init_fn init);

size_t weir_plugins_count(const struct weir_plugins *p);
const struct weir_plugin_rec *weir_plugins_at(const struct weir_plugins *p, size_t i);
const struct weir_plugin_rec *weir_plugins_find(const struct weir_plugins *p, const char *name);

/* A plain step or a service op by plugin and step name ("core", "echo"), or NULL. */
const struct weir_step_def *weir_plugins_find_step(const struct weir_plugins *p,
                                                   const char *plugin, const char *step);

/* The op of a service implemented by plugin impl ("lake", "engine", "query"), or NULL. */
const struct weir_step_def *weir_plugins_find_op(const struct weir_plugins *p, const char *impl,
                                                 const char *service, const char *op);

/* Steps in registration order (for `weir plugins` / `weir plugin describe`). */
size_t weir_plugins_step_count(const struct weir_plugins *p);
const struct weir_step_def *weir_plugins_step_at(const struct weir_plugins *p, size_t i);

/* The host API table handed to plugins (also used by built-ins). */
const struct weir_host_api *weir_host_api_get(void);

/* Validates `with` (borrowed object) against def's params: unknown keys, missing
 * required, types. On success *out is a new object with defaults filled in.
 * On error returns WEIR_EINVALID with a message naming the param. */
int weir_step_input_check(const struct weir_step_def *def, const json_t *with, json_t **out);

/* Helpers shared by the pipeline checker and `weir plugin describe`. */
const struct weir_param_def *weir_step_param_find(const struct weir_step_def *def, const char *name);
int weir_param_type_matches(enum weir_param_type t, const json_t *v);
const char *weir_param_type_name(enum weir_param_type t);

#endif
