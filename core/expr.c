/*
 * expr.c - compiles `${{ ... }}` expressions: a recursive-descent parser
 * over the tokens of expr_lex.c, building a small AST in an arena, and the
 * scope references found on the way. Evaluation is in expr_eval.c, the
 * functions in expr_func.c.
 */
#include "expr_int.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

#define fail weir__expr_fail
#define fail_nomem weir__expr_fail_nomem
#define lex weir__expr_lex

/* ------------------------------------------------------------------ */
/* arena                                                               */

#define CHUNK_SIZE 4096

struct expr_chunk {
    struct expr_chunk *next;
    size_t used, size;
    max_align_t data[];
};

static void *arena_alloc(struct weir_expr *e, size_t n)
{
    struct expr_chunk *c = e->chunks;
    size_t need = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    void *p;

    if (!c || c->size - c->used < need) {
        size_t size = need > CHUNK_SIZE ? need : CHUNK_SIZE;
        c = malloc(sizeof(*c) + size);
        if (!c) {
            return NULL;
        }
        c->size = size;
        c->used = 0;
        /* A chunk made for one large block goes behind the current one so
         * that the current chunk's free space stays usable. */
        if (e->chunks && need > CHUNK_SIZE) {
            c->next = e->chunks->next;
            e->chunks->next = c;
        }
        else {
            c->next = e->chunks;
            e->chunks = c;
        }
    }
    p = (char *)c->data + c->used;
    c->used += need;
    memset(p, 0, n);
    return p;
}

static char *arena_strndup(struct weir_expr *e, const char *s, size_t n)
{
    char *p = arena_alloc(e, n + 1);

    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

/* The current token for a message: "'foo'", "end of expression". Strings
 * are not quoted back: they may hold newlines or long text. */
static const char *describe(const struct expr_parser *p, char *buf, size_t size)
{
    size_t n = p->tok.end - p->tok.start;

    if (p->tok.kind == T_EOF) {
        return "end of expression";
    }
    if (p->tok.kind == T_STR) {
        return "a string";
    }
    if (n > 24) {
        snprintf(buf, size, "'%.24s...'", p->s + p->tok.start);
    }
    else {
        snprintf(buf, size, "'%.*s'", (int)n, p->s + p->tok.start);
    }
    return buf;
}

/* ------------------------------------------------------------------ */
/* parser                                                              */

struct vec {
    void **v;
    size_t n, cap;
};

static int vec_push(struct expr_parser *p, struct vec *v, void *item)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 8;
        void **nv = realloc(v->v, cap * sizeof(*nv));
        if (!nv) {
            fail_nomem(p);
            return -1;
        }
        v->v = nv;
        v->cap = cap;
    }
    v->v[v->n++] = item;
    return 0;
}

static struct expr_node *new_node(struct expr_parser *p, enum expr_op op)
{
    struct expr_node *n = arena_alloc(p->e, sizeof(*n));

    if (!n) {
        return fail_nomem(p);
    }
    n->op = op;
    return n;
}

/* A node whose kids are the collected vector (copied into the arena). */
static struct expr_node *nary(struct expr_parser *p, enum expr_op op, const struct vec *kids)
{
    struct expr_node *n = new_node(p, op);

    if (!n) {
        return NULL;
    }
    if (kids->n) {
        n->kids = arena_alloc(p->e, kids->n * sizeof(*n->kids));
        if (!n->kids) {
            return fail_nomem(p);
        }
        memcpy(n->kids, kids->v, kids->n * sizeof(*n->kids));
    }
    n->nkids = kids->n;
    return n;
}

static int expect(struct expr_parser *p, enum tok_kind kind, const char *what)
{
    char buf[40];

    if (p->failed) {
        return -1;
    }
    if (p->tok.kind != kind) {
        fail(p, p->tok.start, "%s, found %s", what, describe(p, buf, sizeof(buf)));
        return -1;
    }
    return lex(p);
}

static int enter(struct expr_parser *p)
{
    if (++p->depth > WEIR_EXPR_MAX_DEPTH) {
        fail(p, p->tok.start, "expression nested deeper than %d levels; simplify it or split it up",
             WEIR_EXPR_MAX_DEPTH);
        return -1;
    }
    return 0;
}

static struct expr_node *parse_or(struct expr_parser *p);

static const char *const keywords[] = { "true", "false", "null" };

static int keyword(const struct expr_parser *p)
{
    size_t n = p->tok.end - p->tok.start;

    for (int i = 0; i < 3; i++) {
        if (strlen(keywords[i]) == n && !memcmp(p->s + p->tok.start, keywords[i], n)) {
            return i;
        }
    }
    return -1;
}

static struct expr_node *const_node(struct expr_parser *p, const json_t *v)
{
    struct expr_node *n = new_node(p, EOP_CONST);

    if (n) {
        n->value = v;
    }
    return n;
}

static struct expr_node *parse_list(struct expr_parser *p, enum expr_op op, enum tok_kind close,
                                    const char *what)
{
    struct vec items = { 0 };
    struct expr_node *n = NULL, *item;

    while (p->tok.kind != close || items.n > 0) {
        if (!(item = parse_or(p)) || vec_push(p, &items, item) < 0) {
            goto done;
        }
        if (p->tok.kind == close) {
            break;
        }
        if (expect(p, T_COMMA, what) < 0) {
            goto done;
        }
    }
    if (lex(p) == 0) {
        n = nary(p, op, &items);
    }
done:
    free(items.v);
    return n;
}

static size_t edit_distance(const char *a, size_t na, const char *b)
{
    size_t nb = strlen(b), row[32];

    if (na >= 31 || nb >= 31) {
        return 99;
    }
    for (size_t j = 0; j <= nb; j++) {
        row[j] = j;
    }
    for (size_t i = 1; i <= na; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= nb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            best = up + 1 < best ? up + 1 : best;
            best = row[j - 1] + 1 < best ? row[j - 1] + 1 : best;
            row[j] = best;
            diag = up;
        }
    }
    return row[nb];
}

static void *unknown_function(struct expr_parser *p, const char *name, size_t n, size_t at)
{
    char known[256] = "";
    const char *near = NULL;
    size_t off = 0;

    for (int i = 0; i < FN_COUNT; i++) {
        off += (size_t)snprintf(known + off, sizeof(known) - off, "%s%s", i ? ", " : "",
                                weir__expr_funcs[i].name);
        if (!near && edit_distance(name, n, weir__expr_funcs[i].name) <= 2) {
            near = weir__expr_funcs[i].name;
        }
    }
    if (near) {
        return fail(p, at, "unknown function '%.*s' (did you mean '%s'?); known: %s",
                    (int)(n > 40 ? 40 : n), name, near, known);
    }
    return fail(p, at, "unknown function '%.*s'; known: %s", (int)(n > 40 ? 40 : n), name, known);
}

static void *bad_arity(struct expr_parser *p, const struct expr_func_info *info, size_t got,
                       size_t at)
{
    if (info->max_args == SIZE_MAX) {
        return fail(p, at, "%s() takes at least %zu argument%s, got %zu", info->name,
                    info->min_args, info->min_args == 1 ? "" : "s", got);
    }
    if (info->max_args > info->min_args) {
        return fail(p, at, "%s() takes %zu or %zu arguments, got %zu", info->name, info->min_args,
                    info->max_args, got);
    }
    return fail(p, at, "%s() takes %zu argument%s, got %zu", info->name, info->min_args,
                info->min_args == 1 ? "" : "s", got);
}

static struct expr_node *parse_call(struct expr_parser *p, size_t at, size_t len)
{
    const char *name = p->s + at;
    const struct expr_func_info *info = NULL;
    struct expr_node *n;
    int f;

    for (f = 0; f < FN_COUNT; f++) {
        if (strlen(weir__expr_funcs[f].name) == len &&
            !memcmp(weir__expr_funcs[f].name, name, len)) {
            info = &weir__expr_funcs[f];
            break;
        }
    }
    if (!info) {
        return unknown_function(p, name, len, at);
    }
    if (lex(p) < 0 ||
        !(n = parse_list(p, EOP_CALL, T_RPAREN, "expected ',' or ')' in the arguments"))) {
        return NULL;
    }
    n->func = f;
    if (n->nkids < info->min_args || n->nkids > info->max_args) {
        return bad_arity(p, info, n->nkids, at);
    }
    return n;
}

static int add_ref(struct expr_parser *p, const char *root, size_t at)
{
    struct weir_expr *e = p->e;

    if (e->nrefs == e->refcap) {
        size_t cap = e->refcap ? e->refcap * 2 : 4;
        struct expr_ref *r = realloc(e->refs, cap * sizeof(*r));
        if (!r) {
            fail_nomem(p);
            return -1;
        }
        e->refs = r;
        e->refcap = cap;
    }
    e->refs[e->nrefs] = (struct expr_ref){ .root = root, .offset = at };
    return (int)e->nrefs++;
}

static struct expr_node *parse_ident(struct expr_parser *p)
{
    size_t at = p->tok.start, len = p->tok.end - p->tok.start;
    int kw = keyword(p);
    struct expr_node *n;

    if (lex(p) < 0) {
        return NULL;
    }
    if (p->tok.kind == T_LPAREN) {
        return parse_call(p, at, len);
    }
    if (kw >= 0) {
        return const_node(p, kw == 0 ? json_true() : kw == 1 ? json_false() : json_null());
    }
    if (!(n = new_node(p, EOP_PATH)) || !(n->root = arena_strndup(p->e, p->s + at, len))) {
        return p->failed ? NULL : fail_nomem(p);
    }
    n->rootlen = len;
    /* Refs are numbered in source order; the path is filled in by postfix. */
    n->ref = add_ref(p, n->root, at);
    return n->ref < 0 ? NULL : n;
}

static struct expr_node *parse_literal(struct expr_parser *p)
{
    struct expr_node *n = const_node(p, p->tok.value);

    return n && lex(p) == 0 ? n : NULL;
}

static struct expr_node *parse_primary(struct expr_parser *p)
{
    char buf[40];
    struct expr_node *n;

    switch (p->tok.kind) {
    case T_NUM:
    case T_STR: return parse_literal(p);
    case T_IDENT: return parse_ident(p);
    case T_LPAREN:
        if (lex(p) < 0 || !(n = parse_or(p))) {
            return NULL;
        }
        if (p->tok.kind != T_RPAREN) {
            return fail(p, p->tok.start, "expected ')' to close '(', found %s",
                        describe(p, buf, sizeof(buf)));
        }
        return lex(p) == 0 ? n : NULL;
    case T_LBRACK:
        return lex(p) < 0 ? NULL
                          : parse_list(p, EOP_ARRAY, T_RBRACK, "expected ',' or ']' in the array");
    case T_EOF:
        return fail(p, p->tok.start,
                    "expected a value at the end of the expression; it is incomplete");
    default:
        return fail(p, p->tok.start,
                    "expected a value (a path, literal, function call or '('), found %s",
                    describe(p, buf, sizeof(buf)));
    }
}

static char *index_text(struct expr_parser *p, json_int_t i)
{
    char buf[32];
    int n = snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, i);

    return arena_strndup(p->e, buf, (size_t)n);
}

/* One '.name' or '[expr]' segment; *text is its constant text, or NULL. */
static int parse_seg(struct expr_parser *p, struct expr_seg *seg, const char **text)
{
    struct expr_node *ix;

    *text = NULL;
    if (p->tok.kind == T_DOT) {
        if (lex(p) < 0) {
            return -1;
        }
        if (p->tok.kind != T_IDENT) {
            fail(p, p->tok.start,
                 p->tok.kind == T_NUM ? "expected a name after '.'; index arrays with [0]"
                                      : "expected a name after '.'");
            return -1;
        }
        seg->kind = SEG_KEY;
        seg->keylen = p->tok.end - p->tok.start;
        seg->key = *text = arena_strndup(p->e, p->s + p->tok.start, seg->keylen);
        if (!seg->key) {
            fail_nomem(p);
            return -1;
        }
        return lex(p);
    }
    if (lex(p) < 0 || !(ix = parse_or(p))) {
        return -1;
    }
    if (p->tok.kind != T_RBRACK) {
        char buf[40];
        fail(p, p->tok.start, "expected ']' to close '[', found %s", describe(p, buf, sizeof(buf)));
        return -1;
    }
    if (ix->op == EOP_CONST && json_is_string(ix->value)) {
        seg->kind = SEG_KEY;
        seg->key = *text = json_string_value(ix->value);
        seg->keylen = json_string_length(ix->value);
    }
    else if (ix->op == EOP_CONST && json_is_integer(ix->value)) {
        seg->kind = SEG_INDEX;
        seg->index = json_integer_value(ix->value);
        if (!(*text = index_text(p, seg->index))) {
            fail_nomem(p);
            return -1;
        }
    }
    else {
        seg->kind = SEG_EXPR;
        seg->expr = ix;
    }
    return lex(p);
}

/* Copies the constant prefix of the path into the root's reference. */
static int finish_ref(struct expr_parser *p, struct expr_node *n, const struct vec *texts)
{
    struct expr_ref *r;

    if (n->base || n->ref < 0 || texts->n == 0) {
        return 0;
    }
    r = &p->e->refs[n->ref];
    r->path = arena_alloc(p->e, texts->n * sizeof(*r->path));
    if (!r->path) {
        fail_nomem(p);
        return -1;
    }
    memcpy(r->path, texts->v, texts->n * sizeof(*r->path));
    r->npath = texts->n;
    return 0;
}

static struct expr_node *parse_postfix(struct expr_parser *p)
{
    struct expr_node *n = parse_primary(p), *res = NULL;
    struct vec segs = { 0 }, texts = { 0 };
    int constant = 1;

    if (!n || (p->tok.kind != T_DOT && p->tok.kind != T_LBRACK)) {
        return n;
    }
    if (n->op != EOP_PATH || n->base || n->nsegs) {
        struct expr_node *base = n;
        if (!(n = new_node(p, EOP_PATH))) {
            return NULL;
        }
        n->base = base;
        n->ref = -1;
    }
    while (p->tok.kind == T_DOT || p->tok.kind == T_LBRACK) {
        struct expr_seg *seg = arena_alloc(p->e, sizeof(*seg));
        const char *text;
        if (!seg) {
            fail_nomem(p);
            goto done;
        }
        if (parse_seg(p, seg, &text) < 0 || vec_push(p, &segs, seg) < 0) {
            goto done;
        }
        constant = constant && text;
        if (constant && vec_push(p, &texts, (void *)text) < 0) {
            goto done;
        }
    }
    if (!(n->segs = arena_alloc(p->e, segs.n * sizeof(*n->segs)))) {
        fail_nomem(p);
        goto done;
    }
    for (size_t i = 0; i < segs.n; i++) {
        n->segs[i] = *(struct expr_seg *)segs.v[i];
    }
    n->nsegs = segs.n;
    if (finish_ref(p, n, &texts) == 0) {
        res = n;
    }
done:
    free(segs.v);
    free(texts.v);
    return res;
}

static int is_number_const(const struct expr_node *n)
{
    return n->op == EOP_CONST && json_is_number(n->value);
}

/* Folds '-' of a literal so that [-1] is a constant index. */
static struct expr_node *negate_const(struct expr_parser *p, struct expr_node *n)
{
    json_t *v;

    if (json_is_integer(n->value) && json_integer_value(n->value) != EXPR_INT_MIN) {
        v = json_integer(-json_integer_value(n->value));
    }
    else {
        v = json_real(-json_number_value(n->value));
    }
    if (!v || json_array_append_new(p->e->consts, v) < 0) {
        return fail_nomem(p);
    }
    return const_node(p, v);
}

static struct expr_node *parse_unary(struct expr_parser *p)
{
    enum tok_kind k = p->tok.kind;
    struct expr_node *operand, *n;

    if (k != T_NOT && k != T_MINUS) {
        return parse_postfix(p);
    }
    if (enter(p) < 0 || lex(p) < 0 || !(operand = parse_unary(p))) {
        return NULL;
    }
    p->depth--;
    if (k == T_MINUS && is_number_const(operand)) {
        return negate_const(p, operand);
    }
    struct vec kids = { .v = (void **)&operand, .n = 1, .cap = 1 };
    n = nary(p, k == T_NOT ? EOP_NOT : EOP_NEG, &kids);
    return n;
}

/* a OP b OP c ... as one node with many kids, so that long chains do not
 * make a deep tree. */
static struct expr_node *parse_chain(struct expr_parser *p, enum tok_kind tk, enum expr_op op,
                                     struct expr_node *(*sub)(struct expr_parser *))
{
    struct vec kids = { 0 };
    struct expr_node *n = sub(p), *res = NULL;

    if (!n || p->tok.kind != tk) {
        return n;
    }
    if (vec_push(p, &kids, n) < 0) {
        goto done;
    }
    while (p->tok.kind == tk) {
        if (lex(p) < 0 || !(n = sub(p)) || vec_push(p, &kids, n) < 0) {
            goto done;
        }
    }
    res = nary(p, op, &kids);
done:
    free(kids.v);
    return res;
}

static struct expr_node *parse_add(struct expr_parser *p)
{
    return parse_chain(p, T_PLUS, EOP_ADD, parse_unary);
}

static enum expr_op cmp_op(enum tok_kind k)
{
    switch (k) {
    case T_EQ: return EOP_EQ;
    case T_NE: return EOP_NE;
    case T_LT: return EOP_LT;
    case T_LE: return EOP_LE;
    case T_GT: return EOP_GT;
    case T_GE: return EOP_GE;
    default: return EOP_CONST;
    }
}

static struct expr_node *parse_cmp(struct expr_parser *p)
{
    struct expr_node *pair[2];
    enum expr_op op;

    if (!(pair[0] = parse_add(p)) || (op = cmp_op(p->tok.kind)) == EOP_CONST) {
        return pair[0];
    }
    if (lex(p) < 0 || !(pair[1] = parse_add(p))) {
        return NULL;
    }
    if (cmp_op(p->tok.kind) != EOP_CONST) {
        return fail(p, p->tok.start,
                    "comparisons do not chain; combine them with '&&' or use parentheses");
    }
    struct vec kids = { .v = (void **)pair, .n = 2, .cap = 2 };
    return nary(p, op, &kids);
}

static struct expr_node *parse_and(struct expr_parser *p)
{
    return parse_chain(p, T_AND, EOP_AND, parse_cmp);
}

static struct expr_node *parse_or(struct expr_parser *p)
{
    struct expr_node *n;

    if (enter(p) < 0) {
        return NULL;
    }
    n = parse_chain(p, T_OR, EOP_OR, parse_and);
    p->depth--;
    return n;
}

/* ------------------------------------------------------------------ */
/* compile                                                             */

static void *trailing(struct expr_parser *p)
{
    char buf[40];

    switch (p->tok.kind) {
    case T_MINUS:
        return fail(
            p, p->tok.start,
            "there is no subtraction, '-' only negates; write a key containing '-' as x['my-key']");
    case T_RPAREN: return fail(p, p->tok.start, "unmatched ')'; remove it or add the missing '('");
    case T_RBRACK: return fail(p, p->tok.start, "unmatched ']'; remove it or add the missing '['");
    default:
        return fail(
            p, p->tok.start,
            "unexpected %s after a complete expression; join parts with an operator such as "
            "'+', '&&' or '=='",
            describe(p, buf, sizeof(buf)));
    }
}

/* The source on one line, trimmed and shortened, for evaluation errors. */
static char *shown_source(const char *s, size_t len)
{
    size_t max = 160, n;
    char *out;

    while (len && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')) {
        s++;
        len--;
    }
    while (len &&
           (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\n' || s[len - 1] == '\r')) {
        len--;
    }
    n = len > max ? max : len;
    /* Do not cut a UTF-8 sequence in half. */
    while (n < len && n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) {
        n--;
    }
    out = malloc(n + 4);
    if (!out) {
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        out[i] = (s[i] == '\n' || s[i] == '\r' || s[i] == '\t') ? ' ' : s[i];
    }
    strcpy(out + n, n < len ? "..." : "");
    return out;
}

static int precheck(const char *src, size_t len, size_t *bad)
{
    if (len > WEIR_EXPR_MAX_LEN) {
        *bad = WEIR_EXPR_MAX_LEN;
        return weir_error_set(WEIR_EINVALID,
                              "expression longer than %d bytes; move the logic into a lua step",
                              WEIR_EXPR_MAX_LEN);
    }
    *bad = weir__expr_check_text((const unsigned char *)src, len);
    if (*bad < len) {
        return weir_error_set(WEIR_EINVALID,
                              src[*bad] ? "invalid utf-8 in the expression; save the file as utf-8"
                                        : "nul byte in the expression; remove it");
    }
    return 0;
}

static struct weir_expr *new_expr(const char *src, size_t len)
{
    struct weir_expr *e = calloc(1, sizeof(*e));

    if (!e) {
        return NULL;
    }
    e->src = malloc(len + 1);
    e->shown = shown_source(src, len);
    e->consts = json_array();
    if (!e->src || !e->shown || !e->consts) {
        weir_expr_free(e);
        return NULL;
    }
    memcpy(e->src, src, len);
    e->src[len] = '\0';
    e->len = len;
    return e;
}

static int parse_all(struct expr_parser *p)
{
    if (lex(p) < 0) {
        return -1;
    }
    if (p->tok.kind == T_EOF) {
        fail(p, p->tok.start, "empty expression; write a value or a path such as params.name");
        return -1;
    }
    p->e->root = parse_or(p);
    if (p->e->root && p->tok.kind != T_EOF) {
        trailing(p);
    }
    return p->failed ? -1 : 0;
}

int weir_expr_compile(const char *src, size_t len, struct weir_expr **out, size_t *err_offset)
{
    struct expr_parser p = { 0 };
    size_t bad = 0;
    int rc = WEIR_EINVALID;

    if (!out || (!src && len)) {
        return weir_error_set(WEIR_EINVALID, "weir_expr_compile: no source or output given");
    }
    *out = NULL;
    if (precheck(src ? src : "", len, &bad) < 0) {
        goto done;
    }
    if (!(p.e = new_expr(src ? src : "", len))) {
        rc = weir_error_set(WEIR_ENOMEM, "out of memory while compiling the expression");
        goto done;
    }
    p.s = p.e->src;
    p.len = len;
    if (parse_all(&p) < 0) {
        bad = p.err_offset;
        goto done;
    }
    *out = p.e;
    p.e = NULL;
    rc = WEIR_OK;
done:
    weir_expr_free(p.e);
    if (rc < 0 && err_offset) {
        *err_offset = bad;
    }
    return rc;
}

void weir_expr_free(struct weir_expr *e)
{
    struct expr_chunk *c, *next;

    if (!e) {
        return;
    }
    for (c = e->chunks; c; c = next) {
        next = c->next;
        free(c);
    }
    json_decref(e->consts);
    free(e->refs);
    free(e->shown);
    free(e->src);
    free(e);
}

int weir_expr_foreach_ref(const struct weir_expr *e, weir_expr_ref_cb cb, void *payload)
{
    if (!e || !cb) {
        return 0;
    }
    for (size_t i = 0; i < e->nrefs; i++) {
        const struct expr_ref *r = &e->refs[i];
        struct weir_expr_ref ref = { .root = r->root,
                                     .path = (const char *const *)r->path,
                                     .npath = r->npath,
                                     .offset = r->offset };
        int rc = cb(&ref, payload);
        if (rc) {
            return rc;
        }
    }
    return 0;
}
