/*
 * pyparse.c - expressions of Python, by precedence climbing over pytok
 * tokens (see pyast.h). Comprehensions, slices and starred targets are
 * skipped over rather than modelled: the summariser needs calls, names and
 * literals. Every loop consumes a token, and recursion stops at
 * PYPARSE_MAX_DEPTH, so any input ends in bounded time.
 */
#include <string.h>

#include "impact.h"
#include "pyast.h"

/* ---- arena ---- */

struct pyblock {
    struct pyblock *next;
    size_t used, cap;
    max_align_t data[];
};

void *pyarena_alloc(struct pyarena *a, size_t n)
{
    struct pyblock *b = a->head;

    n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    if (!b || b->cap - b->used < n) {
        size_t cap = n > 65536 ? n : 65536;

        if (!(b = impact_host->malloc(sizeof(*b) + cap))) {
            a->oom = 1;
            return NULL;
        }
        b->cap = cap;
        b->used = 0;
        b->next = a->head;
        a->head = b;
    }
    b->used += n;
    return memset((char *)b->data + b->used - n, 0, n);
}

char *pyarena_strndup(struct pyarena *a, const char *s, size_t n)
{
    char *c = pyarena_alloc(a, n + 1);

    if (c) {
        memcpy(c, s, n);
        c[n] = '\0';
    }
    return c;
}

void pyarena_free(struct pyarena *a)
{
    while (a->head) {
        struct pyblock *b = a->head;

        a->head = b->next;
        impact_host->free(b);
    }
}

/* ---- tokens ---- */

static const struct pytok_token *tok(const struct pyparser *p)
{
    return &p->tk->v[p->i < p->end ? p->i : p->end];
}

int pyparse_tok_is(const struct pyparser *p, size_t i, const char *t)
{
    const struct pytok_token *k;
    size_t n = strlen(t);

    if (i >= p->end) {
        return 0;
    }
    k = &p->tk->v[i];
    return (k->kind == PYTOK_OP || k->kind == PYTOK_NAME) && k->len == n &&
           memcmp(p->src + k->off, t, n) == 0;
}

static int is(const struct pyparser *p, const char *t)
{
    return pyparse_tok_is(p, p->i, t);
}

static int accept(struct pyparser *p, const char *t)
{
    if (is(p, t)) {
        p->i++;
        return 1;
    }
    return 0;
}

static struct pn *node(struct pyparser *p, enum pn_kind kind, const char *text, size_t len)
{
    struct pn *n = pyarena_alloc(p->ar, sizeof(*n));

    if (!n) {
        p->fail = 1;
        return NULL;
    }
    n->kind = kind;
    n->text = text;
    n->len = len;
    n->line = tok(p)->line;
    return n;
}

static struct pn *bin(struct pyparser *p, const char *op, struct pn *a, struct pn *b)
{
    struct pn *n = node(p, PN_BIN, op, strlen(op));

    if (n) {
        n->a = a;
        n->b = b;
        n->line = a ? a->line : n->line;
    }
    return n;
}

/* Skips to the bracket closing the one opened just before p->i. */
static void skip_to_close(struct pyparser *p)
{
    int depth = 0;

    while (p->i < p->end) {
        const struct pytok_token *k = tok(p);

        if (k->kind == PYTOK_OP && k->len == 1 && strchr("([{", p->src[k->off])) {
            depth++;
        }
        else if (k->kind == PYTOK_OP && k->len == 1 && strchr(")]}", p->src[k->off])) {
            if (depth == 0) {
                return;
            }
            depth--;
        }
        p->i++;
    }
}

/* Items of a growing list (arena-allocated, doubled). */
struct items {
    struct pn **v;
    int n, cap;
};

static void push(struct pyparser *p, struct items *it, struct pn *x)
{
    if (it->n == it->cap) {
        int cap = it->cap ? it->cap * 2 : 4;
        struct pn **v = pyarena_alloc(p->ar, (size_t)cap * sizeof(*v));

        if (!v) {
            p->fail = 1;
            return;
        }
        if (it->n) {
            memcpy(v, it->v, (size_t)it->n * sizeof(*v));
        }
        it->v = v;
        it->cap = cap;
    }
    it->v[it->n++] = x;
}

/* ---- strings ---- */

static size_t decode(const char *s, size_t n, int raw, char *out)
{
    size_t o = 0;

    for (size_t i = 0; i < n; i++) {
        if (raw || s[i] != '\\' || i + 1 >= n) {
            out[o++] = s[i];
            continue;
        }
        i++;
        switch (s[i]) {
        case 'n': out[o++] = '\n'; break;
        case 't': out[o++] = '\t'; break;
        case '\\': out[o++] = '\\'; break;
        case '\'': out[o++] = '\''; break;
        case '"': out[o++] = '"'; break;
        case '\n': break;
        default: out[o++] = '\\'; out[o++] = s[i];
        }
    }
    out[o] = '\0';
    return o;
}

/* Adjacent string literals concatenate. */
static struct pn *strings(struct pyparser *p)
{
    size_t start = p->i, total = 0, o = 0;
    struct pn *n = node(p, PN_STR, "", 0);
    char *buf;

    while (p->i < p->end && tok(p)->kind == PYTOK_STRING) {
        total += tok(p)->len;
        p->i++;
    }
    if (!n || !(buf = pyarena_alloc(p->ar, total + 1))) {
        p->fail = 1;
        return n;
    }
    for (size_t i = start; i < p->i; i++) {
        size_t len;
        int flags;
        const char *body = pytok_string_body(p->src, &p->tk->v[i], &len, &flags);

        o += decode(body, len, flags & PYTOK_STR_RAW, buf + o);
        n->fstr |= (flags & PYTOK_STR_F) != 0;
    }
    n->text = buf;
    n->len = o;
    return n;
}

/* ---- expressions ---- */

static struct pn *test(struct pyparser *p);
static struct pn *or_test(struct pyparser *p);

static struct pn *fail_node(struct pyparser *p)
{
    p->fail = 1;
    if (p->i < p->end) {
        p->i++;
    }
    return node(p, PN_OTHER, "", 0);
}

/* Arguments of a call, after "(" up to and including ")". */
static void call_args(struct pyparser *p, struct pn *call)
{
    struct items it = { 0 };

    while (p->i < p->end && !is(p, ")") && !p->fail) {
        struct pn *arg;

        if (is(p, "*") || is(p, "**")) {
            arg = node(p, PN_KW, p->src + tok(p)->off, tok(p)->len);
            p->i++;
            if (arg) {
                arg->a = test(p);
            }
        }
        else if (tok(p)->kind == PYTOK_NAME && pyparse_tok_is(p, p->i + 1, "=")) {
            arg = node(p, PN_KW, p->src + tok(p)->off, tok(p)->len);
            p->i += 2;
            if (arg) {
                arg->a = test(p);
            }
        }
        else {
            arg = test(p);
            if (is(p, "for")) {
                skip_to_close(p); /* generator argument */
            }
        }
        push(p, &it, arg);
        if (!accept(p, ",")) {
            break;
        }
    }
    if (!accept(p, ")")) {
        p->fail = 1;
    }
    call->items = it.v;
    call->nitems = it.n;
}

/* [ ... ], ( ... ), { ... } after the opening bracket. */
static struct pn *display(struct pyparser *p, const char *close, int braces)
{
    struct pn *n = node(p, PN_LIST, "", 0);
    struct items it = { 0 };
    int dict = 0, tuple = 0;

    while (p->i < p->end && !is(p, close) && !p->fail) {
        struct pn *x;

        if (is(p, "*") || is(p, "**")) {
            p->i++;
        }
        x = test(p);
        if (is(p, "for")) {
            skip_to_close(p);
            if (n) {
                n->kind = PN_OTHER;
            }
            break;
        }
        push(p, &it, x);
        if (braces && accept(p, ":")) {
            dict = 1;
            push(p, &it, test(p));
        }
        if (!accept(p, ",")) {
            break;
        }
        tuple = 1;
    }
    if (!accept(p, close)) {
        p->fail = 1;
    }
    if (!n) {
        return NULL;
    }
    n->items = it.v;
    n->nitems = it.n;
    if (dict && n->kind == PN_LIST) {
        n->kind = PN_DICT;
    }
    if (!braces && close[0] == ')' && !tuple && it.n == 1 && n->kind == PN_LIST) {
        return it.v[0]; /* parenthesised expression */
    }
    return n;
}

static struct pn *atom(struct pyparser *p)
{
    const struct pytok_token *k = tok(p);
    struct pn *n;

    if (p->i >= p->end) {
        return fail_node(p);
    }
    switch (k->kind) {
    case PYTOK_NAME:
        n = node(p, PN_NAME, p->src + k->off, k->len);
        p->i++;
        return n;
    case PYTOK_NUMBER:
        n = node(p, PN_NUM, p->src + k->off, k->len);
        p->i++;
        return n;
    case PYTOK_STRING: return strings(p);
    default: break;
    }
    if (accept(p, "(")) {
        return display(p, ")", 0);
    }
    if (accept(p, "[")) {
        return display(p, "]", 0);
    }
    if (accept(p, "{")) {
        return display(p, "}", 1);
    }
    if (accept(p, "...")) {
        return node(p, PN_OTHER, "...", 3);
    }
    return fail_node(p);
}

static struct pn *postfix(struct pyparser *p)
{
    struct pn *x = atom(p);

    while (p->i < p->end && !p->fail) {
        struct pn *n;

        if (accept(p, ".")) {
            if (tok(p)->kind != PYTOK_NAME) {
                return fail_node(p);
            }
            n = node(p, PN_ATTR, p->src + tok(p)->off, tok(p)->len);
            p->i++;
        }
        else if (accept(p, "(")) {
            n = node(p, PN_CALL, "", 0);
            if (n) {
                call_args(p, n);
            }
        }
        else if (accept(p, "[")) {
            n = node(p, PN_SUB, "", 0);
            if (n) {
                n->b = test(p);
                if (!is(p, "]")) {
                    skip_to_close(p); /* slices, tuples of indices */
                }
                accept(p, "]");
            }
        }
        else {
            break;
        }
        if (!n) {
            return x;
        }
        n->a = x;
        if (n->kind != PN_ATTR) { /* a chained call is on the line of its method name */
            n->line = x ? x->line : n->line;
        }
        x = n;
    }
    return x;
}

static struct pn *unary(struct pyparser *p);

static struct pn *power(struct pyparser *p)
{
    struct pn *x;

    if (accept(p, "await")) {
        return postfix(p);
    }
    x = postfix(p);
    if (accept(p, "**")) {
        return bin(p, "**", x, unary(p));
    }
    return x;
}

static struct pn *unary(struct pyparser *p)
{
    if (is(p, "-") || is(p, "+") || is(p, "~")) {
        struct pn *n = node(p, PN_UN, p->src + tok(p)->off, 1);

        p->i++;
        if (++p->depth > PYPARSE_MAX_DEPTH) {
            return fail_node(p);
        }
        if (n) {
            n->a = unary(p);
        }
        p->depth--;
        return n;
    }
    return power(p);
}

/* Binary levels from loosest to tightest, each a list of operators. */
static const char *const levels[][6] = {
    { "|", NULL },        { "^", NULL },      { "&", NULL },
    { "<<", ">>", NULL }, { "+", "-", NULL }, { "*", "/", "//", "%", "@", NULL },
};

static struct pn *binary(struct pyparser *p, int level)
{
    struct pn *x;

    if (level >= (int)(sizeof(levels) / sizeof(levels[0]))) {
        return unary(p);
    }
    x = binary(p, level + 1);
    for (;;) {
        const char *op = NULL;

        for (int k = 0; levels[level][k]; k++) {
            if (is(p, levels[level][k])) {
                op = levels[level][k];
            }
        }
        if (!op || p->fail) {
            return x;
        }
        p->i++;
        x = bin(p, op, x, binary(p, level + 1));
    }
}

static struct pn *comparison(struct pyparser *p)
{
    static const char *const ops[] = { "==", "!=", "<", ">", "<=", ">=", "in", "is" };
    struct pn *x = binary(p, 0);

    for (;;) {
        const char *op = NULL;

        if (is(p, "not") && pyparse_tok_is(p, p->i + 1, "in")) {
            p->i += 2;
            x = bin(p, "not in", x, binary(p, 0));
            continue;
        }
        if (is(p, "is") && pyparse_tok_is(p, p->i + 1, "not")) {
            p->i += 2;
            x = bin(p, "is not", x, binary(p, 0));
            continue;
        }
        for (size_t k = 0; k < sizeof(ops) / sizeof(ops[0]); k++) {
            if (is(p, ops[k])) {
                op = ops[k];
            }
        }
        if (!op || p->fail) {
            return x;
        }
        p->i++;
        x = bin(p, op, x, binary(p, 0));
    }
}

static struct pn *not_test(struct pyparser *p)
{
    if (is(p, "not")) {
        struct pn *n = node(p, PN_UN, "not", 3);

        p->i++;
        if (++p->depth > PYPARSE_MAX_DEPTH) {
            return fail_node(p);
        }
        if (n) {
            n->a = not_test(p);
        }
        p->depth--;
        return n;
    }
    return comparison(p);
}

static struct pn *and_test(struct pyparser *p)
{
    struct pn *x = not_test(p);

    while (!p->fail && accept(p, "and")) {
        x = bin(p, "and", x, not_test(p));
    }
    return x;
}

static struct pn *or_test(struct pyparser *p)
{
    struct pn *x = and_test(p);

    while (!p->fail && accept(p, "or")) {
        x = bin(p, "or", x, and_test(p));
    }
    return x;
}

static struct pn *lambda(struct pyparser *p)
{
    struct pn *n = node(p, PN_LAMBDA, "lambda", 6);
    struct items it = { 0 };

    while (p->i < p->end && !is(p, ":")) {
        if (tok(p)->kind == PYTOK_NAME) {
            push(p, &it, node(p, PN_NAME, p->src + tok(p)->off, tok(p)->len));
        }
        p->i++;
    }
    if (!accept(p, ":")) {
        return fail_node(p);
    }
    if (n) {
        n->items = it.v;
        n->nitems = it.n;
        n->a = test(p);
    }
    return n;
}

static struct pn *test(struct pyparser *p)
{
    struct pn *x;

    if (++p->depth > PYPARSE_MAX_DEPTH) {
        p->depth--;
        return fail_node(p);
    }
    if (accept(p, "lambda")) {
        x = lambda(p);
    }
    else {
        x = or_test(p);
        if (!p->fail && accept(p, "if")) {
            or_test(p);
            if (accept(p, "else")) {
                test(p);
            }
        }
    }
    p->depth--;
    return x;
}

struct pn *pyparse_expr(struct pyparser *p)
{
    struct pn *x = test(p);

    if (!p->fail && is(p, ",")) {
        struct pn *t = node(p, PN_LIST, "", 0);
        struct items it = { 0 };

        push(p, &it, x);
        while (accept(p, ",") && p->i < p->end && !is(p, "=") && !p->fail) {
            push(p, &it, test(p));
        }
        if (t) {
            t->items = it.v;
            t->nitems = it.n;
            t->line = x ? x->line : t->line;
        }
        return t;
    }
    return x;
}
