/*
 * weir/util.h - small helpers every plugin would otherwise write again:
 * strings and a growable text buffer allocated through the host, so they can
 * be handed to the host or freed with host->free.
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

/**
 * A growable string for building text (a report, a SQL statement) piece by
 * piece. Zero-initialise it, append with weir_strbuf_addf, then take `s`
 * (NUL-terminated, NULL while nothing was appended) and free it with
 * host->free. An allocation or encoding failure sets `failed`; later appends
 * do nothing, so a builder checks once at the end.
 */
struct weir_strbuf {
    char *s;     /**< the text so far, allocated with host->realloc */
    size_t len;  /**< strlen(s) */
    size_t cap;  /**< bytes allocated */
    int failed;  /**< an append failed; s holds what came before it */
};

/** Appends vsnprintf(fmt, ap) to b; ap is consumed as by vsnprintf. */
static inline void weir_strbuf_vaddf(const struct weir_host_api *host, struct weir_strbuf *b,
                                     const char *fmt, va_list ap)
{
    va_list again;
    int n;

    if (b->failed) {
        return;
    }
    va_copy(again, ap);
    n = vsnprintf(NULL, 0, fmt, ap);
    if (n < 0) {
        b->failed = 1;
    }
    else if (b->len + (size_t)n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        char *grown;

        while (cap < b->len + (size_t)n + 1) {
            cap *= 2;
        }
        grown = (char *)host->realloc(b->s, cap);
        if (grown) {
            b->s = grown;
            b->cap = cap;
        }
        else {
            b->failed = 1;
        }
    }
    if (!b->failed) {
        vsnprintf(b->s + b->len, (size_t)n + 1, fmt, again);
        b->len += (size_t)n;
    }
    va_end(again);
}

/** Appends printf(fmt, ...) to b (see weir_strbuf_vaddf). */
static inline void weir_strbuf_addf(const struct weir_host_api *host, struct weir_strbuf *b,
                                    const char *fmt, ...) WEIR__PRINTF(3, 4);
static inline void weir_strbuf_addf(const struct weir_host_api *host, struct weir_strbuf *b,
                                    const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    weir_strbuf_vaddf(host, b, fmt, ap);
    va_end(ap);
}

#ifdef __cplusplus
}
#endif

#endif /* WEIR_UTIL_H */
