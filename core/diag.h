/*
 * diag.h - a list of user-facing diagnostics "file:line:col: message".
 * The pipeline loader collects all it finds instead of stopping at the first,
 * so one `weir validate` shows every problem of a file.
 */
#ifndef WEIR_CORE_DIAG_H
#define WEIR_CORE_DIAG_H

#include <stddef.h>
#include <stdio.h>

struct weir_diag {
    char *file;
    int line; /* 1-based; 0 when unknown */
    int col;  /* 1-based; 0 when unknown */
    char *msg;
};

struct weir_diags {
    struct weir_diag *v;
    size_t n, cap;
    size_t dropped;
};

/* Appends one diagnostic. Past WEIR_DIAGS_MAX the rest are dropped and the
 * printed list ends with a note saying how many. */
void weir_diags_add(struct weir_diags *d, const char *file, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Prints "file:line:col: error: msg" lines, in the order added. */
void weir_diags_print(const struct weir_diags *d, FILE *fp);

/* "file:line:col: msg" of the first diagnostic, into the thread's last error;
 * returns WEIR_EINVALID. */
int weir_diags_to_error(const struct weir_diags *d);

void weir_diags_free(struct weir_diags *d);

#define WEIR_DIAGS_MAX 100

#endif
