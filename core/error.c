/* error.c - the per-thread last-error message. */
#include "error.h"

#include <stdio.h>
#include <string.h>

static _Thread_local char last_error[WEIR_ERROR_MAX];

static void mark_truncated(int n)
{
    if (n >= (int)sizeof(last_error)) {
        memcpy(last_error + sizeof(last_error) - 4, "...", 4);
    }
}

int weir_error_vset(int code, const char *fmt, va_list ap)
{
    mark_truncated(vsnprintf(last_error, sizeof(last_error), fmt, ap));
    return code;
}

int weir_error_set(int code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    weir_error_vset(code, fmt, ap);
    va_end(ap);
    return code;
}

int weir_error_wrap(int code, const char *fmt, ...)
{
    char prefix[WEIR_ERROR_MAX];
    char old[WEIR_ERROR_MAX];
    va_list ap;

    memcpy(old, last_error, sizeof(old));
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
    mark_truncated(snprintf(last_error, sizeof(last_error), "%s: %s", prefix, old));
    return code;
}

const char *weir_error_last(void)
{
    return last_error;
}

void weir_error_clear(void)
{
    last_error[0] = '\0';
}
