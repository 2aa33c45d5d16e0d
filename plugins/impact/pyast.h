/*
 * pyast.h - private to pyparse.c / pysum.c: a small expression tree for the
 * Python the summariser reads (calls, attributes, subscripts, literals,
 * operators), parsed from pytok tokens with a nesting bound, and the arena
 * everything is allocated from.
 */
#ifndef WEIR_IMPACT_PYAST_H
#define WEIR_IMPACT_PYAST_H

#include <stddef.h>

#include "pytok.h"

struct pyarena {
    struct pyblock *head;
    int oom;
};

void *pyarena_alloc(struct pyarena *a, size_t n); /* zeroed; NULL sets a->oom */
char *pyarena_strndup(struct pyarena *a, const char *s, size_t n);
void pyarena_free(struct pyarena *a);

enum pn_kind {
    PN_NAME,   /* text: identifier */
    PN_STR,    /* text: decoded value; fstr */
    PN_NUM,    /* text: as written */
    PN_ATTR,   /* a.text */
    PN_CALL,   /* a(items) */
    PN_SUB,    /* a[b] */
    PN_LIST,   /* list, tuple or set: items */
    PN_DICT,   /* items: key, value, key, value ... */
    PN_BIN,    /* a text b: text is the operator ("and", "==", "not in", ...) */
    PN_UN,     /* text a: "not", "-", "~", "+" */
    PN_KW,     /* keyword argument text=a; text "*" / "**" for unpacking */
    PN_LAMBDA, /* a: body; items: parameter names as PN_NAME */
    PN_OTHER   /* anything else (comprehension, await, ...) */
};

struct pn {
    enum pn_kind kind;
    int line;
    const char *text;
    size_t len;
    int fstr;
    struct pn *a, *b;
    struct pn **items;
    int nitems;
};

struct pyparser {
    const char *src;
    const struct pytok *tk;
    size_t i, end; /* tokens [i, end) of the statement */
    int depth;
    int fail;
    struct pyarena *ar;
};

#define PYPARSE_MAX_DEPTH 150

/* Parses one expression (a "test" with optional trailing tuple commas) at
 * p->i; never reads past p->end. Sets p->fail on a syntax error. */
struct pn *pyparse_expr(struct pyparser *p);

/* Is token i the operator / name text t? */
int pyparse_tok_is(const struct pyparser *p, size_t i, const char *t);

#endif
