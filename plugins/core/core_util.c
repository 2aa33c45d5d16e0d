/* core_util.c - helpers shared by the core steps: context, strings, paths, params. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core_internal.h"
#include "weir/util.h"

const char *core_ctx_get(weir_ctx *ctx, const char *key, const char *fallback)
{
    const char *v = ctx ? core_host->ctx_get(ctx, key) : NULL;

    return v ? v : fallback;
}

int core_ctx_check(weir_ctx *ctx)
{
    return ctx ? core_host->ctx_check(ctx) : WEIR_OK;
}

int64_t core_ctx_remaining_ms(weir_ctx *ctx)
{
    return ctx ? core_host->ctx_remaining_ms(ctx) : -1;
}

int64_t core_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

char *core_strdup(const char *s)
{
    return weir_host_strdup(core_host, s);
}

char *core_printf(const char *fmt, ...)
{
    va_list ap;
    char *s;

    va_start(ap, fmt);
    s = weir_host_vprintf(core_host, fmt, ap);
    va_end(ap);
    return s;
}

int core_path_resolve(weir_ctx *ctx, const char *path, char **out)
{
    const char *project = core_ctx_get(ctx, "project", NULL);
    char *full;

    if (path[0] == '/' || !project || !*project) {
        full = core_strdup(path);
    }
    else {
        full = core_printf("%s/%s", project, path);
    }
    if (!full) {
        return core_host->error_set(WEIR_ENOMEM, "out of memory resolving path '%s'", path);
    }
    *out = full;
    return WEIR_OK;
}

const json_t *core_param(const json_t *input, const char *name)
{
    const json_t *v = json_object_get(input, name);

    return json_is_null(v) ? NULL : v;
}

const char *core_param_string(const json_t *input, const char *name, const char *fallback)
{
    const char *s = json_string_value(core_param(input, name));

    return s ? s : fallback;
}

json_int_t core_param_int(const json_t *input, const char *name, json_int_t fallback)
{
    const json_t *v = core_param(input, name);

    return json_is_integer(v) ? json_integer_value(v) : fallback;
}

int core_param_bool(const json_t *input, const char *name, int fallback)
{
    const json_t *v = core_param(input, name);

    return json_is_boolean(v) ? json_is_true(v) : fallback;
}
