/*
 * error.h - the host side of the error idiom (see sdk weir/error.h): a
 * per-thread last-error message next to negative return codes.
 */
#ifndef WEIR_CORE_ERROR_H
#define WEIR_CORE_ERROR_H

#include <stdarg.h>

#include "weir/error.h"

/* Sets this thread's message (printf-style) and returns code. */
int weir_error_set(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int weir_error_vset(int code, const char *fmt, va_list ap);

/* Prefixes the current message with context ("loading x: <old message>")
 * and returns code; used where a layer adds where-information. */
int weir_error_wrap(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Borrowed; never NULL. Valid until the next set/wrap/clear on this thread. */
const char *weir_error_last(void);
void weir_error_clear(void);

/* Size of the message buffer; longer messages are truncated with "...". */
#define WEIR_ERROR_MAX 1024

#endif
