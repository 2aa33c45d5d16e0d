/*
 * pycol.c - PySpark Column expressions rendered back to SQL-like text
 * (col("a") == "x" & col("b").isNotNull() becomes a = 'x' AND b IS NOT NULL),
 * with the columns they read and, for conditions, their conjuncts and the
 * col == col pairs a join condition is made of.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "pysum_int.h"

enum { PREC_OR = 1, PREC_AND, PREC_NOT, PREC_CMP, PREC_ADD, PREC_MUL, PREC_ATOM = 9 };

static struct val *col(struct py *P, const char *text, int prec, int line)
{
    struct val *c = py_val(P, V_COL, line);

    c->s = text ? text : "?";
    c->prec = prec;
    return c;
}

/* c->refs gains from's refs (copied: values are shared between names). */
static void add_refs(struct py *P, struct val *c, const struct val *from)
{
    struct cref *r;

    if (!from || from->k != V_COL || from->nrefs == 0) {
        return;
    }
    if (!(r = pyarena_alloc(py_arena(P), (size_t)(c->nrefs + from->nrefs) * sizeof(*r)))) {
        return;
    }
    if (c->nrefs) {
        memcpy(r, c->refs, (size_t)c->nrefs * sizeof(*r));
    }
    for (int i = 0; i < from->nrefs; i++) {
        int seen = 0;

        for (int j = 0; j < c->nrefs; j++) {
            seen |= strcmp(r[j].name, from->refs[i].name) == 0 && r[j].df == from->refs[i].df;
        }
        if (!seen) {
            r[c->nrefs++] = from->refs[i];
        }
    }
    c->refs = r;
}

static const char *quote(struct py *P, const char *s)
{
    size_t n = strlen(s), o = 0;
    char *q = pyarena_alloc(py_arena(P), 2 * n + 3);

    if (!q) {
        return "''";
    }
    q[o++] = '\'';
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\'') {
            q[o++] = '\'';
        }
        q[o++] = s[i];
    }
    q[o++] = '\'';
    q[o] = '\0';
    return q;
}

static struct val *colref(struct py *P, const char *name, int line)
{
    struct val *c = col(P, name, PREC_ATOM, line);
    const char *dot = strrchr(name, '.');

    c->refs = pyarena_alloc(py_arena(P), sizeof(*c->refs));
    if (c->refs) {
        c->refs[0].name = dot ? py_strdup(P, dot + 1) : name;
        c->refs[0].qual = dot ? pyarena_strndup(py_arena(P), name, (size_t)(dot - name)) : NULL;
        c->nrefs = 1;
    }
    c->b = 1; /* a plain column */
    return c;
}

static const char *list_text(struct py *P, struct val *v, struct val *refs_to, int line)
{
    const char *t = "";

    for (int i = 0; i < v->n; i++) {
        struct val *x = py_to_col(P, v->items[i], 0, line);

        add_refs(P, refs_to, x);
        t = py_printf(P, "%s%s%s", t, i ? ", " : "", x->s);
    }
    return t;
}

struct val *py_to_col(struct py *P, struct val *v, int as_name, int line)
{
    struct val *c;

    switch (v ? v->k : V_UNK) {
    case V_COL: return v;
    case V_STR: return as_name ? colref(P, v->s, line) : col(P, quote(P, v->s), PREC_ATOM, line);
    case V_NUM: return col(P, v->s, PREC_ATOM, line);
    case V_BOOL: return col(P, v->b ? "TRUE" : "FALSE", PREC_ATOM, line);
    case V_NONE: return col(P, "NULL", PREC_ATOM, line);
    case V_LIST:
        c = col(P, NULL, PREC_ATOM, line);
        c->s = py_printf(P, "(%s)", list_text(P, v, c, line));
        return c;
    case V_NAME: return col(P, v->s, PREC_ATOM, line);
    default: return col(P, "?", PREC_ATOM, line);
    }
}

const char *py_col_name(const struct val *c)
{
    if (c->alias) {
        return c->alias;
    }
    if (c->b && c->nrefs == 1) {
        return c->refs[0].name;
    }
    return c->s;
}

static const char *paren(struct py *P, const struct val *c, int prec, int strict)
{
    return c->prec < prec || (strict && c->prec == prec) ? py_printf(P, "(%s)", c->s) : c->s;
}

struct conj *py_conjuncts(struct py *P, struct val *c, int *n)
{
    struct conj *one;

    if (c->nconj) {
        *n = c->nconj;
        return c->conj;
    }
    *n = 0;
    if (!(one = pyarena_alloc(py_arena(P), sizeof(*one)))) {
        return NULL;
    }
    one->text = c->s;
    *n = 1;
    return one;
}

static void and_conj(struct py *P, struct val *r, struct val *a, struct val *b)
{
    int na, nb;
    struct conj *ca = py_conjuncts(P, a, &na), *cb = py_conjuncts(P, b, &nb);

    if (!ca || !cb ||
        !(r->conj = pyarena_alloc(py_arena(P), (size_t)(na + nb) * sizeof(*r->conj)))) {
        return;
    }
    memcpy(r->conj, ca, (size_t)na * sizeof(*ca));
    memcpy(r->conj + na, cb, (size_t)nb * sizeof(*cb));
    r->nconj = na + nb;
}

struct val *py_col_binop(struct py *P, const char *op, struct val *a, struct val *b, int line)
{
    static const struct {
        const char *py, *sql;
        int prec;
    } ops[] = {
        { "&", "AND", PREC_AND }, { "|", "OR", PREC_OR },   { "==", "=", PREC_CMP },
        { "!=", "<>", PREC_CMP }, { "<", "<", PREC_CMP },   { ">", ">", PREC_CMP },
        { "<=", "<=", PREC_CMP }, { ">=", ">=", PREC_CMP }, { "+", "+", PREC_ADD },
        { "-", "-", PREC_ADD },   { "*", "*", PREC_MUL },   { "/", "/", PREC_MUL },
        { "%", "%", PREC_MUL },
    };
    struct val *ca, *cb, *r;
    const char *sql = op;
    int prec = PREC_CMP;

    if (strcmp(op, "neg") == 0) {
        ca = py_to_col(P, a, 0, line);
        r = col(P, py_printf(P, "-%s", paren(P, ca, PREC_ATOM, 0)), PREC_MUL, line);
        add_refs(P, r, ca);
        return r;
    }
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        if (strcmp(op, ops[i].py) == 0) {
            sql = ops[i].sql;
            prec = ops[i].prec;
        }
    }
    ca = py_to_col(P, a, 0, line);
    cb = py_to_col(P, b, 0, line);
    r = col(
        P,
        py_printf(P, "%s %s %s", paren(P, ca, prec, 0), sql, paren(P, cb, prec, prec >= PREC_CMP)),
        prec, line);
    add_refs(P, r, ca);
    add_refs(P, r, cb);
    if (prec == PREC_AND) {
        and_conj(P, r, ca, cb);
    }
    else if (strcmp(sql, "=") == 0 && ca->b && cb->b && ca->nrefs == 1 && cb->nrefs == 1 &&
             (r->conj = pyarena_alloc(py_arena(P), sizeof(*r->conj))) != NULL) {
        r->conj[0].text = r->s;
        r->conj[0].l = ca->refs;
        r->conj[0].r = cb->refs;
        r->nconj = 1;
    }
    return r;
}

struct val *py_col_not(struct py *P, struct val *a, int line)
{
    struct val *r = col(P, py_printf(P, "NOT %s", paren(P, a, PREC_NOT, 0)), PREC_NOT, line);

    add_refs(P, r, a);
    return r;
}

/* ---- functions ---- */

/* Functions whose string arguments are all column names. */
static int all_cols(const char *f)
{
    static const char *const names[] = { "coalesce", "concat",   "greatest",      "least",
                                         "array",    "struct",   "countDistinct", "count_distinct",
                                         "hash",     "xxhash64", "md5",           "sha1",
                                         "sha2",     "crc32" };

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(f, names[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

static struct val *arg_col(struct py *P, const struct pn *call, int i, int as_name, int line)
{
    struct val *v = py_arg(P, call, i, NULL);

    return v ? py_to_col(P, v, as_name, line) : NULL;
}

static int nargs(const struct pn *call)
{
    int n = 0;

    for (int i = 0; call && i < call->nitems; i++) {
        n += call->items[i] && call->items[i]->kind != PN_KW;
    }
    return n;
}

struct val *py_col_func(struct py *P, const char *name, const struct pn *call, int line)
{
    struct val *r, *a;
    const char *args = "";
    int n = nargs(call), multi = all_cols(name);

    if (strcmp(name, "col") == 0 || strcmp(name, "column") == 0) {
        a = py_arg(P, call, 0, NULL);
        return a && a->k == V_STR ? colref(P, a->s, line) : py_to_col(P, a, 1, line);
    }
    if (strcmp(name, "lit") == 0) {
        return arg_col(P, call, 0, 0, line) ?: col(P, "NULL", PREC_ATOM, line);
    }
    if (strcmp(name, "expr") == 0) {
        a = py_arg(P, call, 0, NULL);
        return col(P, a && a->k == V_STR ? a->s : "?", PREC_OR, line);
    }
    if (strcmp(name, "when") == 0) {
        struct val *c = arg_col(P, call, 0, 0, line), *v = arg_col(P, call, 1, 0, line);

        if (!c || !v) {
            return col(P, "?", PREC_ATOM, line);
        }
        r = col(P, py_printf(P, "CASE WHEN %s THEN %s END", c->s, v->s), PREC_ATOM, line);
        add_refs(P, r, c);
        add_refs(P, r, v);
        return r;
    }
    r = col(P, NULL, PREC_ATOM, line);
    for (int i = 0; i < n; i++) {
        int as_name = multi ? !(strcmp(name, "concat_ws") == 0 && i == 0) : i == 0;
        struct val *x = arg_col(P, call, i, as_name, line);

        if (x) {
            add_refs(P, r, x);
            args = py_printf(P, "%s%s%s", args, i ? ", " : "", x->s);
        }
    }
    r->s = py_printf(P, "%s(%s)", name, args);
    return r;
}

static const char *type_name(struct py *P, struct val *t)
{
    static const char *const map[][2] = {
        { "IntegerType", "int" },         { "LongType", "bigint" },
        { "StringType", "string" },       { "DoubleType", "double" },
        { "FloatType", "float" },         { "DateType", "date" },
        { "TimestampType", "timestamp" }, { "BooleanType", "boolean" },
        { "DecimalType", "decimal" },     { "ShortType", "smallint" },
        { "ByteType", "tinyint" },
    };
    const char *s, *dot;

    if (!t) {
        return "?";
    }
    if (t->k == V_STR) {
        return t->s;
    }
    if (t->k != V_NAME) {
        return "?";
    }
    dot = strrchr(t->s, '.');
    s = dot ? dot + 1 : t->s;
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        if (strncmp(s, map[i][0], strlen(map[i][0])) == 0) {
            return map[i][1];
        }
    }
    return py_strdup(P, s);
}

/* A LIKE pattern from a string, with % where startswith/endswith/contains
 * leave it open. */
static const char *like(struct py *P, struct val *v, const char *pre, const char *post)
{
    return v && v->k == V_STR ? py_printf(P, "'%s%s%s'", pre, v->s, post) : "?";
}

static struct val *unary_suffix(struct py *P, struct val *c, const char *suffix, int prec)
{
    struct val *r = col(P, py_printf(P, "%s %s", paren(P, c, PREC_CMP, 0), suffix), prec, c->line);

    add_refs(P, r, c);
    return r;
}

static struct val *case_more(struct py *P, struct val *c, const char *what, const struct pn *call)
{
    struct val *x = arg_col(P, call, 0, 0, c->line), *y = arg_col(P, call, 1, 0, c->line), *r;
    size_t n = strlen(c->s);
    const char *head = n > 4 && strcmp(c->s + n - 4, " END") == 0
                           ? pyarena_strndup(py_arena(P), c->s, n - 4)
                           : c->s;

    if (!x) {
        return c;
    }
    r = col(P,
            what[0] == 'w' && y ? py_printf(P, "%s WHEN %s THEN %s END", head, x->s, y->s)
                                : py_printf(P, "%s ELSE %s END", head, x->s),
            PREC_ATOM, c->line);
    add_refs(P, r, c);
    add_refs(P, r, x);
    add_refs(P, r, y);
    return r;
}

struct val *py_col_method(struct py *P, struct val *c, const char *m, const struct pn *call)
{
    struct val *a = NULL, *r;
    int line = c->line;

    if (!strcmp(m, "alias") || !strcmp(m, "name") || !strcmp(m, "as_")) {
        a = py_arg(P, call, 0, NULL);
        r = py_val(P, V_COL, line);
        *r = *c;
        r->alias = a && a->k == V_STR ? a->s : NULL;
        return r;
    }
    if (!strcmp(m, "cast") || !strcmp(m, "astype")) {
        const char *t = type_name(P, py_arg(P, call, 0, NULL));

        r = col(P, py_printf(P, "CAST(%s AS %s)", c->s, t), PREC_ATOM, line);
        add_refs(P, r, c);
        r->cast = t;
        return r;
    }
    if (!strcmp(m, "isNull") || !strcmp(m, "isnull")) {
        return unary_suffix(P, c, "IS NULL", PREC_CMP);
    }
    if (!strcmp(m, "isNotNull")) {
        return unary_suffix(P, c, "IS NOT NULL", PREC_CMP);
    }
    if (!strcmp(m, "desc") || !strcmp(m, "desc_nulls_last") || !strcmp(m, "desc_nulls_first")) {
        return unary_suffix(P, c, "DESC", PREC_ATOM);
    }
    if (!strcmp(m, "asc") || !strcmp(m, "asc_nulls_first") || !strcmp(m, "asc_nulls_last")) {
        return unary_suffix(P, c, "ASC", PREC_ATOM);
    }
    if (!strcmp(m, "isin")) {
        struct val *l = py_val(P, V_LIST, line);

        a = py_arg(P, call, 0, NULL);
        if (a && a->k == V_LIST && nargs(call) == 1) {
            l = a;
        }
        else {
            l->items = pyarena_alloc(py_arena(P), (size_t)(nargs(call) + 1) * sizeof(*l->items));
            for (int i = 0; l->items && i < nargs(call); i++) {
                l->items[l->n++] = py_arg(P, call, i, NULL);
            }
        }
        return unary_suffix(P, c, py_printf(P, "IN %s", py_to_col(P, l, 0, line)->s), PREC_CMP);
    }
    if (!strcmp(m, "between")) {
        struct val *x = arg_col(P, call, 0, 0, line), *y = arg_col(P, call, 1, 0, line);

        return unary_suffix(P, c, py_printf(P, "BETWEEN %s AND %s", x ? x->s : "?", y ? y->s : "?"),
                            PREC_CMP);
    }
    if (!strcmp(m, "like") || !strcmp(m, "rlike") || !strcmp(m, "ilike")) {
        char kw[8];

        snprintf(kw, sizeof(kw), "%s", m);
        for (char *q = kw; *q; q++) {
            *q = (char)(*q - 32);
        }
        return unary_suffix(
            P, c, py_printf(P, "%s %s", kw, like(P, py_arg(P, call, 0, NULL), "", "")), PREC_CMP);
    }
    if (!strcmp(m, "startswith") || !strcmp(m, "endswith") || !strcmp(m, "contains")) {
        return unary_suffix(P, c,
                            py_printf(P, "LIKE %s",
                                      like(P, py_arg(P, call, 0, NULL), m[0] == 's' ? "" : "%",
                                           m[0] == 'e' ? "" : "%")),
                            PREC_CMP);
    }
    if (!strcmp(m, "when") || !strcmp(m, "otherwise")) {
        return case_more(P, c, m, call);
    }
    if (!strcmp(m, "over")) {
        a = py_arg(P, call, 0, NULL);
        const char *keys = "";

        for (int i = 0; a && a->k == V_WINDOW && i < a->n; i++) {
            keys = py_printf(P, "%s%s%s", keys, i ? ", " : "PARTITION BY ", a->items[i]->s);
        }
        return unary_suffix(P, c, py_printf(P, "OVER (%s)", keys), PREC_ATOM);
    }
    if (!strcmp(m, "eqNullSafe")) {
        return py_col_binop(P, "<=>", c, py_arg(P, call, 0, NULL), line);
    }
    r = col(P, py_printf(P, "%s.%s(...)", c->s, m), PREC_ATOM, line);
    add_refs(P, r, c);
    return r;
}
