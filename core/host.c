/* host.c - the host API table plugins receive, and step invocation. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctx.h"
#include "error.h"
#include "http.h"
#include "lua_host.h"
#include "redact.h"

int weir__plugin_describe(weir_registry *reg, const struct weir_plugin_info *info);
int weir__step_register(weir_registry *reg, const struct weir_step_desc *desc);

int64_t weir_now_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t weir_now_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *level_name(int level)
{
    static const char *names[] = { "error", "warn", "info", "debug" };
    return level >= 0 && level <= WEIR_LOG_DEBUG ? names[level] : "info";
}

int weir_log_threshold(void)
{
    const char *v = getenv("WEIR_LOG");

    for (int level = WEIR_LOG_ERROR; v && level <= WEIR_LOG_DEBUG; level++) {
        if (!strcmp(v, level_name(level))) {
            return level;
        }
    }
    return WEIR_LOG_WARN; /* a scheduler's mail or a CI log: problems only */
}

void weir_log_print(const char *step, int level, const char *msg)
{
    if (level <= weir_log_threshold()) {
        fprintf(stderr, "weir: %s%s%s%s: %s\n", step ? "[" : "", step ? step : "",
                step ? "] " : "", level_name(level), msg);
    }
}

static void host_log(weir_ctx *ctx, enum weir_log_level level, const char *fmt, ...)
{
    char msg[2048];
    char *clean;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    clean = weir_redact(msg);
    if (ctx && ctx->log_sink) {
        ctx->log_sink(ctx->log_payload, ctx->step_id, (int)level, clean ? clean : msg);
    }
    else {
        weir_log_print(ctx ? ctx->step_id : NULL, (int)level, clean ? clean : msg);
    }
    free(clean);
}

static int host_ctx_check(weir_ctx *ctx)
{
    if (!ctx) {
        return WEIR_OK;
    }
    if (ctx->cancel && atomic_load(ctx->cancel)) {
        return weir_error_set(WEIR_ECANCELLED, "step '%s': run cancelled", ctx->step_id);
    }
    if (ctx->deadline_ms && weir_now_mono_ms() >= ctx->deadline_ms) {
        return weir_error_set(WEIR_ETIMEOUT, "step '%s': timeout reached", ctx->step_id);
    }
    return WEIR_OK;
}

int64_t weir_ctx_remaining_ms(weir_ctx *ctx)
{
    int64_t left;

    if (!ctx || !ctx->deadline_ms) {
        return -1;
    }
    left = ctx->deadline_ms - weir_now_mono_ms();
    return left > 0 ? left : 0;
}

static const char *host_ctx_get(weir_ctx *ctx, const char *key)
{
    if (!ctx || !key) {
        return NULL;
    }
    if (!strcmp(key, "run.id")) {
        return ctx->run_id;
    }
    if (!strcmp(key, "run.date")) {
        return ctx->run_date;
    }
    if (!strcmp(key, "run.target")) {
        return ctx->target;
    }
    if (!strcmp(key, "step.id")) {
        return ctx->step_id;
    }
    if (!strcmp(key, "workspace")) {
        return ctx->workspace;
    }
    if (!strcmp(key, "project")) {
        return ctx->project;
    }
    if (!strncmp(key, "service.", 8)) {
        return weir_service_plugin(ctx->services, key + 8);
    }
    return NULL;
}

const char *weir_service_plugin(const json_t *services, const char *service)
{
    const json_t *impl = json_object_get(services, service);

    return json_is_object(impl) ? json_string_value(json_object_get(impl, "plugin"))
                                : json_string_value(impl);
}

/* The target's settings for def's service, when def implements it there. */
static const json_t *service_settings(const struct weir_step_def *def, const struct weir_ctx *ctx)
{
    const json_t *impl;
    const char *plugin;

    if (!def->service || !ctx || !ctx->services) {
        return NULL;
    }
    impl = json_object_get(ctx->services, def->service);
    plugin = json_string_value(json_object_get(impl, "plugin"));
    return plugin && !strcmp(plugin, def->plugin) ? json_object_get(impl, "with") : NULL;
}

/* with + the settings of params def declares that with does not give. */
static json_t *with_settings(const struct weir_step_def *def, const json_t *with, const json_t *settings)
{
    json_t *merged = json_is_object(with) ? json_copy((json_t *)with) : json_object();

    for (size_t i = 0; merged && i < def->nparams; i++) {
        const json_t *v = json_object_get(settings, def->params[i].name);

        if (v && !json_object_get(merged, def->params[i].name)) {
            json_object_set(merged, def->params[i].name, (json_t *)v);
        }
    }
    return merged;
}

const struct weir_step_def *weir_service_resolve(const struct weir_plugins *p, const json_t *services,
                                                 const char *service, const char *op)
{
    const char *impl = weir_service_plugin(services, service);
    const struct weir_step_def *def;

    if (!impl) {
        weir_error_set(WEIR_ENOTFOUND, "the target has no implementation of service '%s'; add "
                       "'%s: <plugin>' to the target in weir.yaml", service, service);
        return NULL;
    }
    def = weir_plugins_find_op(p, impl, service, op);
    if (!def) {
        const struct weir_plugin_rec *rec = weir_plugins_find(p, impl);
        if (!rec) {
            weir_error_set(WEIR_ENOTFOUND, "service '%s' is implemented by plugin '%s', which is "
                           "not installed in any plugin directory", service, impl);
        }
        else if (rec->error_code != WEIR_OK) {
            weir_error_set(WEIR_ENOTFOUND, "service '%s': %s", service, rec->error);
        }
        else {
            weir_error_set(WEIR_ENOTFOUND, "plugin '%s' has no operation '%s' of service '%s'; see "
                           "`weir plugin describe %s`", impl, op, service, impl);
        }
    }
    return def;
}

int weir_step_invoke(const struct weir_step_def *def, const json_t *with, json_t **out,
                     struct weir_ctx *ctx)
{
    json_t *input = NULL, *result = NULL, *merged = NULL;
    const json_t *settings = service_settings(def, ctx);
    int rc;

    if (settings && (with == NULL || json_is_object(with))) {
        if ((merged = with_settings(def, with, settings)) == NULL) {
            return weir_error_set(WEIR_ENOMEM, "%s.%s: out of memory", def->plugin, def->name);
        }
        with = merged;
    }
    rc = weir_step_input_check(def, with, &input);
    json_decref(merged);
    if (rc < 0) {
        return weir_error_wrap(rc, "%s.%s", def->plugin, def->name);
    }
    weir_error_clear();
    rc = def->run(input, &result, ctx, def->payload);
    json_decref(input);
    if (rc < 0) {
        json_decref(result);
        if (!*weir_error_last()) {
            weir_error_set(rc, "%s.%s failed with code %d and no message", def->plugin, def->name, rc);
        }
        return rc;
    }
    *out = result ? result : json_null();
    return WEIR_OK;
}

static int host_service_call(weir_ctx *ctx, const char *service, const char *op, const json_t *input,
                             json_t **out)
{
    const struct weir_step_def *def;

    if (!ctx || !ctx->plugins || !service || !op || !out) {
        return weir_error_set(WEIR_EINVALID, "service_call: ctx, service, op and out are required");
    }
    def = weir_service_resolve(ctx->plugins, ctx->services, service, op);
    if (!def) {
        return WEIR_ENOTFOUND;
    }
    return weir_step_invoke(def, input, out, ctx);
}

static void host_ctx_progress(weir_ctx *ctx, uint64_t done, uint64_t total, const char *unit)
{
    if (ctx && ctx->progress_sink) {
        ctx->progress_sink(ctx->progress_payload, ctx->step_id, done, total, unit ? unit : "");
    }
}

/* Lua sessions over lua_host.h with the project's limits; zero fields of
 * ctx->lua (or no ctx) fall back to the defaults inside lua_host.c. */
static int host_lua_open(weir_ctx *ctx, const char *chunkname, const char *src, size_t len,
                         void **session)
{
    struct weir_lua_limits none = { 0 };
    struct weir_lua_session *s = NULL;
    int rc;

    if (!session) {
        return weir_error_set(WEIR_EINVALID, "lua_open: session is required");
    }
    rc = weir_lua_session_open(chunkname, src, len, ctx ? &ctx->lua : &none, &s);
    *session = s;
    return rc;
}

static int host_lua_call(void *session, const json_t *input, json_t **out)
{
    return weir_lua_session_call(session, input, out);
}

static void host_lua_close(void *session)
{
    weir_lua_session_close(session);
}

static void *host_malloc(size_t n)
{
    return malloc(n);
}

static void *host_realloc(void *p, size_t n)
{
    return realloc(p, n);
}

static void host_free(void *p)
{
    free(p);
}

static const char *host_error_last(void)
{
    return weir_error_last();
}

static const struct weir_host_api host_api = {
    .abi_major = WEIR_ABI_MAJOR,
    .abi_minor = WEIR_ABI_MINOR,
    .size = sizeof(struct weir_host_api),
    .malloc = host_malloc,
    .realloc = host_realloc,
    .free = host_free,
    .error_set = weir_error_set,
    .error_last = host_error_last,
    .log = host_log,
    .plugin_describe = weir__plugin_describe,
    .step_register = weir__step_register,
    .service_call = host_service_call,
    .ctx_check = host_ctx_check,
    .ctx_remaining_ms = weir_ctx_remaining_ms,
    .ctx_get = host_ctx_get,
    .ctx_progress = host_ctx_progress,
    .lua_open = host_lua_open,
    .lua_call = host_lua_call,
    .lua_close = host_lua_close,
    .http_request = weir_http_request,
    .http_response_free = weir_http_response_free,
    .aws_endpoint = weir_http_aws_endpoint,
};

const struct weir_host_api *weir_host_api_get(void)
{
    return &host_api;
}
