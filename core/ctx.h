/*
 * ctx.h - what the host knows about one execution of one step; the SDK sees
 * it as the opaque weir_ctx. Filled by the runner, read by host functions.
 */
#ifndef WEIR_CORE_CTX_H
#define WEIR_CORE_CTX_H

#include <stdatomic.h>
#include <stdint.h>

#include <jansson.h>

#include "lua_host.h"
#include "plugins.h"

typedef void (*weir_log_sink_fn)(void *payload, const char *step, int level, const char *msg);
typedef void (*weir_progress_fn)(void *payload, const char *step, uint64_t done, uint64_t total,
                                 const char *unit);

struct weir_ctx {
    const char *run_id;
    const char *run_date;
    const char *target;     /* target name */
    const char *step_id;
    const char *workspace;  /* absolute */
    const char *project;    /* absolute directory of weir.yaml (or cwd) */
    int64_t deadline_ms;    /* monotonic ms; 0 = none */
    const atomic_int *cancel; /* non-zero once the run is being cancelled; may be NULL */
    const struct weir_plugins *plugins;
    const json_t *services; /* target's {service: implementation plugin} */
    weir_log_sink_fn log_sink; /* NULL: stderr */
    void *log_payload;
    weir_progress_fn progress_sink; /* NULL: progress is not shown */
    void *progress_payload;
    struct weir_lua_limits lua; /* for host lua_open; zero fields mean the defaults */
};

/* Monotonic clock in ms, and wall clock in ms since the epoch. */
int64_t weir_now_mono_ms(void);
int64_t weir_now_wall_ms(void);

/* Milliseconds left before the step's deadline (0 once passed), or -1 when
 * it has none or ctx is NULL. */
int64_t weir_ctx_remaining_ms(weir_ctx *ctx);

/* The most verbose level printed on stderr: env WEIR_LOG (error, warn, info,
 * debug), default warn. */
int weir_log_threshold(void);
/* Prints a plugin's log line on stderr when its level passes the threshold
 * (msg is already redacted). */
void weir_log_print(const char *step, int level, const char *msg);

/* Runs a step definition with its input checked against its params (defaults
 * filled in). Used by the runner and by service_call. */
int weir_step_invoke(const struct weir_step_def *def, const json_t *with, json_t **out,
                     struct weir_ctx *ctx);

/* Resolves "service.op" through ctx->services to a step definition, or NULL
 * with the last error saying why. */
/* The plugin implementing `service` in a target's services (a name, or the
 * "plugin" of {plugin, with}), or NULL when the target has none. */
const char *weir_service_plugin(const json_t *services, const char *service);

const struct weir_step_def *weir_service_resolve(const struct weir_plugins *p, const json_t *services,
                                                 const char *service, const char *op);

#endif
