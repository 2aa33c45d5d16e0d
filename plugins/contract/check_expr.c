/*
 * check_expr.c - the parser (recursive descent) of `check` expressions and
 * the accessors of a compiled one; see check_expr.h for the language and
 * check_eval.c for the evaluator.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "check_expr_int.h"
#include "contract.h"

/* ---- parser -------------------------------------------------------------- */

struct parser {
    struct check_expr *e;
    const char *text;
    size_t pos;
    char *err;
    size_t errlen;
    int failed;
};

static void fail(struct parser *p, size_t at, const char *msg)
{
    if (!p->failed) {
        snprintf(p->err, p->errlen, "at offset %zu: %s", at, msg);
        p->failed = 1;
    }
}

static void *grow(void *ptr, size_t *cap, size_t need, size_t elem)
{
    size_t n = *cap ? *cap : 8;
    void *q;

    if (need <= *cap) {
        return ptr;
    }
    while (n < need) {
        n *= 2;
    }
    if ((q = contract_host->realloc(ptr, n * elem)) == NULL) {
        return NULL;
    }
    *cap = n;
    return q;
}

static int new_node(struct parser *p, enum node_op op, int a, int b)
{
    struct check_expr *e = p->e;
    struct node *n;

    if (p->failed) {
        return -1;
    }
    if ((n = grow(e->nodes, &e->capnodes, e->nnodes + 1, sizeof(*n))) == NULL) {
        fail(p, p->pos, "out of memory");
        return -1;
    }
    e->nodes = n;
    memset(&n[e->nnodes], 0, sizeof(*n));
    n[e->nnodes].op = op;
    n[e->nnodes].a = a;
    n[e->nnodes].b = b;
    return (int)e->nnodes++;
}

static void skip_ws(struct parser *p)
{
    while (isspace((unsigned char)p->text[p->pos])) {
        p->pos++;
    }
}

static int is_ident_char(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

/* Consumes keyword kw (case-insensitive, whole word) when it is next. */
static int accept_kw(struct parser *p, const char *kw)
{
    size_t n = strlen(kw);

    skip_ws(p);
    if (strncasecmp(p->text + p->pos, kw, n) == 0 && !is_ident_char(p->text[p->pos + n])) {
        p->pos += n;
        return 1;
    }
    return 0;
}

static int accept(struct parser *p, const char *tok)
{
    size_t n = strlen(tok);

    skip_ws(p);
    if (strncmp(p->text + p->pos, tok, n) == 0) {
        p->pos += n;
        return 1;
    }
    return 0;
}

static void expect(struct parser *p, const char *tok)
{
    char msg[64];

    if (!accept(p, tok)) {
        snprintf(msg, sizeof(msg), "expected '%s'", tok);
        fail(p, p->pos, msg);
    }
}

static int is_bool_node(const struct parser *p, int i)
{
    enum node_op op;

    if (i < 0) {
        return 1; /* already failed */
    }
    op = p->e->nodes[i].op;
    return op == N_BOOL || op == N_NULL || (op >= N_OR && op <= N_BETWEEN);
}

static int is_value_node(const struct parser *p, int i)
{
    return i < 0 || !is_bool_node(p, i) || p->e->nodes[i].op == N_NULL;
}

static int column_index(struct parser *p, const char *name, size_t len)
{
    struct check_expr *e = p->e;
    char **cols;
    size_t *bind, i;

    for (i = 0; i < e->ncolumns; i++) {
        if (strlen(e->columns[i]) == len && !memcmp(e->columns[i], name, len)) {
            return (int)i;
        }
    }
    cols = contract_host->realloc(e->columns, (e->ncolumns + 1) * sizeof(*cols));
    if (cols != NULL) {
        e->columns = cols;
    }
    bind = contract_host->realloc(e->bind, (e->ncolumns + 1) * sizeof(*bind));
    if (bind != NULL) {
        e->bind = bind;
    }
    if (cols == NULL || bind == NULL || (cols[i] = contract_host->malloc(len + 1)) == NULL) {
        fail(p, p->pos, "out of memory");
        return -1;
    }
    memcpy(cols[i], name, len);
    cols[i][len] = '\0';
    bind[i] = i;
    e->ncolumns++;
    return (int)i;
}

static int parse_or(struct parser *p);
static int parse_sum(struct parser *p);

static int parse_string(struct parser *p)
{
    struct check_expr *e = p->e;
    size_t start = p->pos, off = e->nstrings;
    int id;

    p->pos++; /* opening quote */
    for (;;) {
        char c = p->text[p->pos];
        char *s;

        if (c == '\0') {
            fail(p, start, "unterminated string literal");
            return -1;
        }
        if (c == '\'') {
            if (p->text[p->pos + 1] != '\'') {
                p->pos++;
                break;
            }
            p->pos++; /* '' is one quote */
        }
        if ((s = grow(e->strings, &e->capstrings, e->nstrings + 2, 1)) == NULL) {
            fail(p, p->pos, "out of memory");
            return -1;
        }
        e->strings = s;
        s[e->nstrings++] = c;
        p->pos++;
    }
    /* Keep a NUL after each literal so it can be parsed as a number. */
    if ((e->strings = grow(e->strings, &e->capstrings, e->nstrings + 1, 1)) == NULL) {
        fail(p, p->pos, "out of memory");
        return -1;
    }
    e->strings[e->nstrings++] = '\0';
    if ((id = new_node(p, N_STR, 0, 0)) >= 0) {
        e->nodes[id].str = off;
        e->nodes[id].len = e->nstrings - off - 1;
    }
    return id;
}

static int parse_quoted_ident(struct parser *p, char q)
{
    size_t start = ++p->pos;
    int id;

    while (p->text[p->pos] != q) {
        if (p->text[p->pos] == '\0') {
            fail(p, start - 1, "unterminated quoted column name");
            return -1;
        }
        p->pos++;
    }
    if (p->pos == start) {
        fail(p, start - 1, "empty column name");
        return -1;
    }
    id = new_node(p, N_COL, column_index(p, p->text + start, p->pos - start), 0);
    p->pos++;
    return id;
}

static int parse_primary(struct parser *p)
{
    const char *t;
    size_t start;
    int id;

    skip_ws(p);
    start = p->pos;
    t = p->text + p->pos;
    if (*t == '(') {
        p->pos++;
        id = parse_or(p);
        expect(p, ")");
        return id;
    }
    if (*t == '\'') {
        return parse_string(p);
    }
    if (*t == '"' || *t == '`') {
        return parse_quoted_ident(p, *t);
    }
    if (isdigit((unsigned char)*t) || (*t == '.' && isdigit((unsigned char)t[1]))) {
        char *end;
        double v = strtod(t, &end);

        if (is_ident_char(*end)) {
            fail(p, start, "malformed number");
            return -1;
        }
        p->pos += (size_t)(end - t);
        if ((id = new_node(p, N_NUM, 0, 0)) >= 0) {
            p->e->nodes[id].num = v;
        }
        return id;
    }
    if (accept_kw(p, "NULL")) {
        return new_node(p, N_NULL, 0, 0);
    }
    if (accept_kw(p, "TRUE") || accept_kw(p, "FALSE")) {
        if ((id = new_node(p, N_BOOL, 0, 0)) >= 0) {
            p->e->nodes[id].num = (t[0] == 't' || t[0] == 'T');
        }
        return id;
    }
    if (isalpha((unsigned char)*t) || *t == '_') {
        static const char *const reserved[] = { "AND", "OR", "NOT", "IN", "IS", "LIKE", "BETWEEN" };
        size_t n = 0, k;

        while (is_ident_char(t[n])) {
            n++;
        }
        for (k = 0; k < sizeof(reserved) / sizeof(reserved[0]); k++) {
            if (strlen(reserved[k]) == n && !strncasecmp(t, reserved[k], n)) {
                fail(p, start, "expected a value, found a keyword");
                return -1;
            }
        }
        p->pos += n;
        return new_node(p, N_COL, column_index(p, t, n), 0);
    }
    fail(p, start,
         *t ? "expected a value (column, number, 'string', NULL or '(')"
            : "unexpected end of expression");
    return -1;
}

static int parse_unary(struct parser *p)
{
    int a;

    if (accept(p, "-")) {
        a = parse_unary(p);
        if (!is_value_node(p, a)) {
            fail(p, p->pos, "'-' needs a number");
        }
        return new_node(p, N_NEG, a, 0);
    }
    return parse_primary(p);
}

static int arith(struct parser *p, enum node_op op, int a, int b, size_t at)
{
    if (!is_value_node(p, a) || !is_value_node(p, b)) {
        fail(p, at, "arithmetic on a condition");
    }
    return new_node(p, op, a, b);
}

static int parse_product(struct parser *p)
{
    int a = parse_unary(p);

    while (!p->failed) {
        size_t at = (skip_ws(p), p->pos);
        enum node_op op;

        if (accept(p, "*")) {
            op = N_MUL;
        }
        else if (accept(p, "/")) {
            op = N_DIV;
        }
        else if (accept(p, "%")) {
            op = N_MOD;
        }
        else {
            break;
        }
        a = arith(p, op, a, parse_unary(p), at);
    }
    return a;
}

static int parse_sum(struct parser *p)
{
    int a = parse_product(p);

    while (!p->failed) {
        size_t at = (skip_ws(p), p->pos);
        enum node_op op;

        if (accept(p, "+")) {
            op = N_ADD;
        }
        else if (accept(p, "-")) {
            op = N_SUB;
        }
        else {
            break;
        }
        a = arith(p, op, a, parse_product(p), at);
    }
    return a;
}

static int parse_in_list(struct parser *p, int a, int neg)
{
    struct check_expr *e = p->e;
    int items[256], id;
    size_t n = 0, i;
    int *l;

    expect(p, "(");
    do {
        if (n == sizeof(items) / sizeof(items[0])) {
            fail(p, p->pos, "IN list longer than 256 values; use an allowed_values rule");
            return -1;
        }
        items[n++] = parse_sum(p);
    } while (!p->failed && accept(p, ","));
    expect(p, ")");
    if (p->failed) {
        return -1;
    }
    if ((l = grow(e->list, &e->caplist, e->nlist + n, sizeof(*l))) == NULL) {
        fail(p, p->pos, "out of memory");
        return -1;
    }
    e->list = l;
    if ((id = new_node(p, N_IN, a, (int)e->nlist)) >= 0) {
        e->nodes[id].c = (int)n;
        e->nodes[id].neg = neg;
    }
    for (i = 0; i < n; i++) {
        l[e->nlist++] = items[i];
    }
    return id;
}

static int parse_pred(struct parser *p)
{
    static const struct {
        const char *tok;
        enum node_op op;
    } cmps[] = { { "<=", N_LE }, { ">=", N_GE }, { "<>", N_NE }, { "!=", N_NE },
                 { "==", N_EQ }, { "=", N_EQ },  { "<", N_LT },  { ">", N_GT } };
    int a = parse_sum(p), id, neg = 0;
    size_t i, save;

    if (p->failed) {
        return -1;
    }
    for (i = 0; i < sizeof(cmps) / sizeof(cmps[0]); i++) {
        if (accept(p, cmps[i].tok)) {
            return new_node(p, cmps[i].op, a, parse_sum(p));
        }
    }
    if (accept_kw(p, "IS")) {
        neg = accept_kw(p, "NOT");
        if (!accept_kw(p, "NULL")) {
            fail(p, p->pos, "expected NULL after IS [NOT]");
        }
        if ((id = new_node(p, N_ISNULL, a, 0)) >= 0) {
            p->e->nodes[id].neg = neg;
        }
        return id;
    }
    save = p->pos;
    neg = accept_kw(p, "NOT");
    if (accept_kw(p, "IN")) {
        return parse_in_list(p, a, neg);
    }
    if (accept_kw(p, "LIKE")) {
        if ((id = new_node(p, N_LIKE, a, parse_sum(p))) >= 0) {
            p->e->nodes[id].neg = neg;
        }
        return id;
    }
    if (accept_kw(p, "BETWEEN")) {
        int lo = parse_sum(p), hi;

        if (!accept_kw(p, "AND")) {
            fail(p, p->pos, "expected AND in BETWEEN");
        }
        hi = parse_sum(p);
        if ((id = new_node(p, N_BETWEEN, a, lo)) >= 0) {
            p->e->nodes[id].c = hi;
            p->e->nodes[id].neg = neg;
        }
        return id;
    }
    if (neg) {
        fail(p, save, "expected IN, LIKE or BETWEEN after NOT");
    }
    return a;
}

static int logical(struct parser *p, enum node_op op, int a, int b, size_t at)
{
    if (!is_bool_node(p, a) || !is_bool_node(p, b)) {
        fail(p, at, op == N_NOT ? "NOT needs a condition" : "AND/OR need conditions on both sides");
    }
    return new_node(p, op, a, b);
}

static int parse_not(struct parser *p)
{
    size_t at = (skip_ws(p), p->pos);

    if (accept_kw(p, "NOT")) {
        return logical(p, N_NOT, parse_not(p), -1, at);
    }
    return parse_pred(p);
}

static int parse_and(struct parser *p)
{
    int a = parse_not(p);

    while (!p->failed) {
        size_t at = (skip_ws(p), p->pos);

        if (!accept_kw(p, "AND")) {
            break;
        }
        a = logical(p, N_AND, a, parse_not(p), at);
    }
    return a;
}

static int parse_or(struct parser *p)
{
    int a = parse_and(p);

    while (!p->failed) {
        size_t at = (skip_ws(p), p->pos);

        if (!accept_kw(p, "OR")) {
            break;
        }
        a = logical(p, N_OR, a, parse_and(p), at);
    }
    return a;
}

void check_expr_free(struct check_expr *e)
{
    size_t i;

    if (e == NULL) {
        return;
    }
    for (i = 0; i < e->ncolumns; i++) {
        contract_host->free(e->columns[i]);
    }
    contract_host->free(e->columns);
    contract_host->free(e->bind);
    contract_host->free(e->nodes);
    contract_host->free(e->list);
    contract_host->free(e->strings);
    contract_host->free(e);
}

int check_expr_compile(const char *text, struct check_expr **out, char *err, size_t errlen)
{
    struct parser p = { 0 };
    struct check_expr *e;

    *out = NULL;
    if ((e = contract_host->malloc(sizeof(*e))) == NULL) {
        snprintf(err, errlen, "out of memory");
        return WEIR_ENOMEM;
    }
    memset(e, 0, sizeof(*e));
    p.e = e;
    p.text = text;
    p.err = err;
    p.errlen = errlen;
    e->root = parse_or(&p);
    skip_ws(&p);
    if (!p.failed && text[p.pos] != '\0') {
        fail(&p, p.pos, "unexpected text after the expression");
    }
    if (!p.failed && !is_bool_node(&p, e->root)) {
        fail(&p, 0, "the expression is a value, not a condition (compare it with something)");
    }
    if (p.failed) {
        check_expr_free(e);
        return WEIR_EINVALID;
    }
    *out = e;
    return WEIR_OK;
}

size_t check_expr_ncolumns(const struct check_expr *e)
{
    return e->ncolumns;
}

const char *check_expr_column(const struct check_expr *e, size_t i)
{
    return i < e->ncolumns ? e->columns[i] : NULL;
}

void check_expr_bind(struct check_expr *e, size_t i, size_t field)
{
    if (i < e->ncolumns) {
        e->bind[i] = field;
    }
}

size_t check_expr_field(const struct check_expr *e, size_t i)
{
    return i < e->ncolumns ? e->bind[i] : (size_t)-1;
}
