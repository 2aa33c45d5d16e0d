/*
 * hive_type.c - a small recursive-descent checker for Hive type strings.
 * Nested types are only checked, never modelled: the engine sees them as
 * text, as the lake does.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "hive_type.h"

#define MAX_DEPTH 32

struct cursor {
    const char *p;
    int depth;
};

static void skip_ws(struct cursor *c)
{
    while (*c->p == ' ' || *c->p == '\t') {
        c->p++;
    }
}

static int accept(struct cursor *c, char ch)
{
    skip_ws(c);
    if (*c->p != ch) {
        return 0;
    }
    c->p++;
    return 1;
}

/* An identifier: letters, digits, '_' (type names and struct field names). */
static size_t word(struct cursor *c, char *buf, size_t cap)
{
    size_t n = 0;

    skip_ws(c);
    while ((isalnum((unsigned char)*c->p) || *c->p == '_') && n + 1 < cap) {
        buf[n++] = (char)tolower((unsigned char)*c->p++);
    }
    buf[n] = '\0';
    return n;
}

static int number(struct cursor *c, long *out)
{
    char *end;

    skip_ws(c);
    if (!isdigit((unsigned char)*c->p)) {
        return 0;
    }
    *out = strtol(c->p, &end, 10);
    c->p = end;
    return 1;
}

/* "(n)" after varchar/char with 1 <= n <= max. */
static int length_arg(struct cursor *c, long max)
{
    long n;

    return accept(c, '(') && number(c, &n) && n >= 1 && n <= max && accept(c, ')');
}

/* Optional "(p)" or "(p,s)" after decimal, p <= 38, s <= p. */
static int decimal_args(struct cursor *c)
{
    long p, s = 0;

    if (!accept(c, '(')) {
        return 1;
    }
    if (!number(c, &p) || p < 1 || p > 38) {
        return 0;
    }
    if (accept(c, ',') && (!number(c, &s) || s > p)) {
        return 0;
    }
    return accept(c, ')');
}

static int parse(struct cursor *c, enum hive_kind *kind);

/* The <...> of array, map, uniontype: `n` types (0: one or more). */
static int type_list(struct cursor *c, int n)
{
    enum hive_kind k;
    int seen = 0;

    if (!accept(c, '<')) {
        return 0;
    }
    do {
        if (parse(c, &k) < 0) {
            return 0;
        }
        seen++;
    } while (accept(c, ','));
    return accept(c, '>') && (n == 0 || seen == n);
}

/* struct<name:type,...>; field names may be backquoted. */
static int struct_fields(struct cursor *c)
{
    char name[256];
    enum hive_kind k;

    if (!accept(c, '<')) {
        return 0;
    }
    do {
        skip_ws(c);
        if (*c->p == '`') {
            const char *close = strchr(c->p + 1, '`');
            if (!close || close == c->p + 1) {
                return 0;
            }
            c->p = close + 1;
        }
        else if (word(c, name, sizeof(name)) == 0) {
            return 0;
        }
        if (!accept(c, ':') || parse(c, &k) < 0) {
            return 0;
        }
    } while (accept(c, ','));
    return accept(c, '>');
}

static const struct {
    const char *name;
    enum hive_kind kind;
} scalars[] = {
    { "string", HIVE_STRING },       { "binary", HIVE_STRING },   { "tinyint", HIVE_INT },
    { "smallint", HIVE_INT },        { "int", HIVE_INT },         { "integer", HIVE_INT },
    { "bigint", HIVE_BIGINT },       { "float", HIVE_DOUBLE },    { "real", HIVE_DOUBLE },
    { "double", HIVE_DOUBLE },       { "boolean", HIVE_BOOLEAN }, { "date", HIVE_DATE },
    { "timestamp", HIVE_TIMESTAMP },
};

static int parse(struct cursor *c, enum hive_kind *kind)
{
    char name[32];
    int ok = 0;

    if (++c->depth > MAX_DEPTH || word(c, name, sizeof(name)) == 0) {
        return -1;
    }
    for (size_t i = 0; i < sizeof(scalars) / sizeof(scalars[0]); i++) {
        if (!strcmp(name, scalars[i].name)) {
            *kind = scalars[i].kind;
            ok = 1;
            /* "double precision" is Hive's synonym for double */
            if (*kind == HIVE_DOUBLE && !strcmp(name, "double")) {
                struct cursor save = *c;
                char next[16];
                if (word(c, next, sizeof(next)) == 0 || strcmp(next, "precision") != 0) {
                    *c = save;
                }
            }
        }
    }
    if (!ok) {
        if (!strcmp(name, "varchar") || !strcmp(name, "char")) {
            *kind = HIVE_STRING;
            ok = length_arg(c, name[0] == 'v' ? 65535 : 255);
        }
        else if (!strcmp(name, "decimal") || !strcmp(name, "numeric")) {
            *kind = HIVE_DECIMAL;
            ok = decimal_args(c);
        }
        else {
            *kind = HIVE_COMPLEX;
            ok = !strcmp(name, "array")       ? type_list(c, 1)
                 : !strcmp(name, "map")       ? type_list(c, 2)
                 : !strcmp(name, "uniontype") ? type_list(c, 0)
                 : !strcmp(name, "struct")    ? struct_fields(c)
                                              : 0;
        }
    }
    c->depth--;
    return ok ? 0 : -1;
}

int hive_type_parse(const char *type, enum hive_kind *kind)
{
    struct cursor c = { type, 0 };

    if (!type || parse(&c, kind) < 0) {
        return -1;
    }
    skip_ws(&c);
    return *c.p == '\0' ? 0 : -1;
}

const char *hive_kind_inferred(enum hive_kind kind)
{
    switch (kind) {
    case HIVE_INT:
    case HIVE_BIGINT: return "integer";
    case HIVE_DOUBLE:
    case HIVE_DECIMAL: return "double";
    case HIVE_BOOLEAN: return "boolean";
    case HIVE_DATE: return "date";
    case HIVE_TIMESTAMP: return "timestamp";
    default: return "string";
    }
}

int hive_kind_numeric(enum hive_kind kind)
{
    return kind >= HIVE_INT && kind <= HIVE_DECIMAL;
}
