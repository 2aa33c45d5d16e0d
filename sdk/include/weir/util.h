/*
 * weir/util.h - small helpers every plugin would otherwise write again:
 * strings allocated through the host, so they can be handed to the host or
 * freed with host->free.
 */
#ifndef WEIR_UTIL_H
#define WEIR_UTIL_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "weir/plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A copy of s allocated with host->malloc (free it with host->free), or NULL
 *  when out of memory. s must not be NULL. */
static inline char *weir_host_strdup(const struct weir_host_api *host, const char *s)
{
    size_t n = strlen(s) + 1;
    char *copy = (char *)host->malloc(n);

    if (copy) {
        memcpy(copy, s, n);
    }
    return copy;
}

/** vsnprintf into a string allocated with host->malloc (free it with
 *  host->free), or NULL when out of memory or on an encoding error. ap is
 *  consumed as by vsnprintf. */
static inline char *weir_host_vprintf(const struct weir_host_api *host, const char *fmt, va_list ap)
{
    va_list again;
    char *s = NULL;
    int n;

    va_copy(again, ap);
    n = vsnprintf(NULL, 0, fmt, ap);
    if (n >= 0 && (s = (char *)host->malloc((size_t)n + 1)) != NULL) {
        vsnprintf(s, (size_t)n + 1, fmt, again);
    }
    va_end(again);
    return s;
}

#ifdef __cplusplus
}
#endif

#endif /* WEIR_UTIL_H */
