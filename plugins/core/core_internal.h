/*
 * core_internal.h - what the source files of the core plugin share. Nothing
 * here is exported: the plugin is built with hidden visibility and exports
 * only weir_plugin_core_init.
 */
#ifndef CORE_INTERNAL_H
#define CORE_INTERNAL_H

#include <stdint.h>

#include <weir/weir.h>

/* The host table, set once by the entry before any step can run. */
extern const struct weir_host_api *core_host;

/* The step descriptors, registered by the entry in this order. */
extern const struct weir_step_desc core_step_echo;
extern const struct weir_step_desc core_step_fail;
extern const struct weir_step_desc core_step_flaky;
extern const struct weir_step_desc core_step_sleep;
extern const struct weir_step_desc core_step_shell;
extern const struct weir_step_desc core_step_json_read;
extern const struct weir_step_desc core_step_json_write;
extern const struct weir_step_desc core_step_log;

/* Frees core.flaky's attempt table; called from the plugin's shutdown. */
void core_flaky_reset(void);

/*
 * Context helpers. Every core step accepts ctx == NULL (tests call steps
 * directly): then there is no deadline, nothing is cancelled, the project is
 * the current directory and every run key reads as fallback.
 */
const char *core_ctx_get(weir_ctx *ctx, const char *key, const char *fallback);
int core_ctx_check(weir_ctx *ctx);
int64_t core_ctx_remaining_ms(weir_ctx *ctx);

/* Monotonic clock in milliseconds. */
int64_t core_now_ms(void);

/* Strings allocated with core_host->malloc; NULL when out of memory. */
char *core_strdup(const char *s);
char *core_printf(const char *fmt, ...) WEIR__PRINTF(1, 2);

/* Resolves a relative path against ctx "project" (the current directory when
 * there is none). *out is allocated with core_host->malloc. */
int core_path_resolve(weir_ctx *ctx, const char *path, char **out);

/* Param getters: an absent key and a JSON null both mean "not given", as they
 * do for the host's defaults, and yield the fallback. */
const json_t *core_param(const json_t *input, const char *name);
const char *core_param_string(const json_t *input, const char *name, const char *fallback);
json_int_t core_param_int(const json_t *input, const char *name, json_int_t fallback);
int core_param_bool(const json_t *input, const char *name, int fallback);

#endif /* CORE_INTERNAL_H */
