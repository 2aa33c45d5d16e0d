/* diag.c - collected file:line:col diagnostics. */
#include "diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

void weir_diags_add(struct weir_diags *d, const char *file, int line, int col, const char *fmt, ...)
{
    struct weir_diag *slot;
    va_list ap;
    char *msg = NULL;

    if (d->n >= WEIR_DIAGS_MAX) {
        d->dropped++;
        return;
    }
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 8;
        struct weir_diag *v = realloc(d->v, cap * sizeof(*v));
        if (!v) {
            d->dropped++;
            return;
        }
        d->v = v;
        d->cap = cap;
    }
    va_start(ap, fmt);
    if (vasprintf(&msg, fmt, ap) < 0) {
        msg = NULL;
    }
    va_end(ap);
    slot = &d->v[d->n++];
    slot->file = strdup(file ? file : "<input>");
    slot->line = line;
    slot->col = col;
    slot->msg = msg ? msg : strdup("out of memory");
}

static void print_one(const struct weir_diag *g, FILE *fp)
{
    if (g->line > 0) {
        fprintf(fp, "%s:%d:%d: error: %s\n", g->file, g->line, g->col, g->msg);
    }
    else {
        fprintf(fp, "%s: error: %s\n", g->file, g->msg);
    }
}

void weir_diags_print(const struct weir_diags *d, FILE *fp)
{
    for (size_t i = 0; i < d->n; i++) {
        print_one(&d->v[i], fp);
    }
    if (d->dropped) {
        fprintf(fp, "(%zu more errors not shown)\n", d->dropped);
    }
}

int weir_diags_to_error(const struct weir_diags *d)
{
    const struct weir_diag *g;

    if (d->n == 0) {
        return weir_error_set(WEIR_EINVALID, "invalid input");
    }
    g = &d->v[0];
    if (g->line > 0) {
        return weir_error_set(WEIR_EINVALID, "%s:%d:%d: %s", g->file, g->line, g->col, g->msg);
    }
    return weir_error_set(WEIR_EINVALID, "%s: %s", g->file, g->msg);
}

void weir_diags_free(struct weir_diags *d)
{
    for (size_t i = 0; i < d->n; i++) {
        free(d->v[i].file);
        free(d->v[i].msg);
    }
    free(d->v);
    memset(d, 0, sizeof(*d));
}
