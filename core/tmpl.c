/*
 * tmpl.c - templates: JSON values whose strings hold ${{ }} expressions.
 * A template compiles into a tree that mirrors the value; any subtree
 * without an expression collapses into one constant, so evaluation only
 * walks the parts that change.
 */
#include "expr_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

/* Pipeline values are at most WEIR_YDOC_MAX_DEPTH deep; this only stops a
 * runaway recursion on values built elsewhere. */
#define TMPL_MAX_DEPTH 256

enum tkind { TK_CONST, TK_EXPR, TK_INTERP, TK_ARRAY, TK_OBJECT };

struct tpart {
    size_t off, len;        /* a literal: bytes of the node's text */
    struct weir_expr *expr; /* or an expression */
    size_t at;              /* where the expression starts in the string */
};

struct tnode {
    enum tkind kind;
    json_t *value;       /* TK_CONST */
    struct tpart *parts; /* TK_EXPR (one part), TK_INTERP */
    size_t nparts;
    char *text;         /* TK_INTERP: the literal bytes, unescaped */
    struct tnode *kids; /* TK_ARRAY, TK_OBJECT */
    size_t nkids;
    json_t *keys; /* TK_OBJECT: an array of the key strings */
};

struct weir_tmpl {
    struct tnode root;
};

struct cctx {
    char path[sizeof(((struct weir_tmpl_error *)0)->path)];
    size_t plen;
    size_t over; /* pushes that did not fit, still open */
    size_t offset;
};

static void tnode_free(struct tnode *t)
{
    for (size_t i = 0; i < t->nparts; i++) {
        weir_expr_free(t->parts[i].expr);
    }
    for (size_t i = 0; i < t->nkids; i++) {
        tnode_free(&t->kids[i]);
    }
    free(t->parts);
    free(t->text);
    free(t->kids);
    json_decref(t->value);
    json_decref(t->keys);
    memset(t, 0, sizeof(*t));
}

/* ------------------------------------------------------------------ */
/* compile                                                             */

/* Appends "/token" (RFC 6901: '~' as "~0", '/' as "~1"). A pointer that
 * does not fit is not cut: errors below it report the root ("") instead,
 * which still contains the offending string. */
static size_t path_push(struct cctx *c, const char *tok, size_t n)
{
    size_t saved = c->plen, len = c->plen, max = sizeof(c->path) - 1;
    char *out = c->path;

    if (c->over || len + 1 > max) {
        c->over++;
        return saved;
    }
    out[len++] = '/';
    for (size_t i = 0; i < n; i++) {
        int esc = tok[i] == '~' || tok[i] == '/';
        if (len + 1 + (size_t)esc > max) {
            c->over++;
            out[saved] = '\0';
            return saved;
        }
        if (esc) {
            out[len++] = '~';
        }
        out[len++] = tok[i] == '~' ? '0' : tok[i] == '/' ? '1' : tok[i];
    }
    out[len] = '\0';
    c->plen = len;
    return saved;
}

static void path_pop(struct cctx *c, size_t saved)
{
    if (c->over) {
        c->over--;
        return;
    }
    c->plen = saved;
    c->path[saved] = '\0';
}

static int fail_at(struct cctx *c, size_t offset, const char *msg)
{
    c->offset = offset;
    return weir_error_set(WEIR_EINVALID, "%s", msg);
}

/* Finds the "}}" closing an expression that starts at s[from], skipping
 * quoted strings so that '}}' inside them does not end it. */
static int find_close(struct cctx *c, const char *s, size_t n, size_t from, size_t *close)
{
    for (size_t k = from; k < n; k++) {
        if (s[k] == '\'' || s[k] == '"') {
            size_t q = k;
            for (k++; k < n && s[k] != s[q]; k++) {
                k += s[k] == '\\';
            }
            if (k >= n) {
                return fail_at(c, q,
                               "unterminated string in expression; close it with a matching quote");
            }
        }
        else if (s[k] == '}' && k + 1 < n && s[k + 1] == '}') {
            *close = k;
            return 0;
        }
    }
    return fail_at(
        c, from - 3,
        "unterminated '${{'; close the expression with '}}' (write '$${{' for a literal '${{')");
}

static int push_part(struct tnode *t, struct tpart part)
{
    struct tpart *p = realloc(t->parts, (t->nparts + 1) * sizeof(*p));

    if (!p) {
        weir_expr_free(part.expr);
        return weir_error_set(WEIR_ENOMEM, "out of memory compiling a template");
    }
    t->parts = p;
    t->parts[t->nparts++] = part;
    return 0;
}

/* Compiles the expression of "${{" at s[i] and moves i past its "}}". */
static int compile_expr(struct tnode *t, struct cctx *c, const char *s, size_t n, size_t *i)
{
    struct tpart part = { .at = *i + 3 };
    size_t close = 0, eoff = 0;

    if (find_close(c, s, n, *i + 3, &close) < 0) {
        return WEIR_EINVALID;
    }
    if (weir_expr_compile(s + part.at, close - part.at, &part.expr, &eoff) < 0) {
        c->offset = part.at + eoff;
        return WEIR_EINVALID;
    }
    *i = close + 2;
    return push_part(t, part);
}

static int flush_literal(struct tnode *t, const struct weir_sbuf *text, size_t *lit)
{
    int rc = 0;

    if (text->len > *lit) {
        rc = push_part(t, (struct tpart){ .off = *lit, .len = text->len - *lit });
    }
    *lit = text->len;
    return rc;
}

static int has_expr(const struct tnode *t)
{
    for (size_t i = 0; i < t->nparts; i++) {
        if (t->parts[i].expr) {
            return 1;
        }
    }
    return 0;
}

/* Splits s into literal parts and expressions, then picks the kind. */
static int compile_string(struct tnode *t, struct cctx *c, const char *s, size_t n)
{
    struct weir_sbuf text = { 0 };
    size_t i = 0, lit = 0;
    int rc = 0;

    while (rc == 0 && i < n) {
        const char *dollar = memchr(s + i, '$', n - i);
        size_t run = dollar ? (size_t)(dollar - (s + i)) : n - i;
        if (run) {
            rc = weir__sbuf_add(&text, s + i, run);
            i += run;
        }
        else if (n - i >= 4 && !memcmp(s + i, "$${{", 4)) {
            rc = weir__sbuf_add(&text, "${{", 3);
            i += 4;
        }
        else if (n - i >= 3 && !memcmp(s + i, "${{", 3)) {
            rc = flush_literal(t, &text, &lit);
            rc = rc ? rc : compile_expr(t, c, s, n, &i);
        }
        else {
            rc = weir__sbuf_add(&text, "$", 1);
            i++;
        }
    }
    rc = rc ? rc : flush_literal(t, &text, &lit);
    if (rc == 0 && !has_expr(t)) {
        free(t->parts);
        t->parts = NULL;
        t->nparts = 0;
        t->kind = TK_CONST;
        t->value = json_stringn_nocheck(text.p ? text.p : "", text.len);
        rc = t->value ? 0 : weir_error_set(WEIR_ENOMEM, "out of memory compiling a template");
    }
    else if (rc == 0) {
        t->kind = t->nparts == 1 && t->parts[0].expr ? TK_EXPR : TK_INTERP;
        t->text = text.p;
        text.p = NULL;
    }
    weir__sbuf_free(&text);
    return rc;
}

static int compile_node(struct tnode *t, struct cctx *c, const json_t *v, int depth);

/* Replaces a container whose kids are all constant by one constant. */
static int collapse(struct tnode *t)
{
    json_t *v = t->kind == TK_ARRAY ? json_array() : json_object();

    for (size_t i = 0; i < t->nkids; i++) {
        if (t->kids[i].kind != TK_CONST) {
            json_decref(v);
            return 0;
        }
    }
    for (size_t i = 0; v && i < t->nkids; i++) {
        json_t *kid = json_incref(t->kids[i].value);
        const json_t *key = t->keys ? json_array_get(t->keys, i) : NULL;
        int rc = key ? json_object_setn_new_nocheck(v, json_string_value(key),
                                                    json_string_length(key), kid)
                     : json_array_append_new(v, kid);
        if (rc < 0) {
            json_decref(v);
            v = NULL;
        }
    }
    if (!v) {
        return weir_error_set(WEIR_ENOMEM, "out of memory compiling a template");
    }
    tnode_free(t);
    t->kind = TK_CONST;
    t->value = v;
    return 0;
}

static int object_keys(struct tnode *t, const json_t *v)
{
    if (!(t->keys = json_array())) {
        return weir_error_set(WEIR_ENOMEM, "out of memory compiling a template");
    }
    for (void *it = json_object_iter((json_t *)v); it;
         it = json_object_iter_next((json_t *)v, it)) {
        json_t *k = json_stringn_nocheck(json_object_iter_key(it), json_object_iter_key_len(it));
        if (json_array_append_new(t->keys, k) < 0) {
            return weir_error_set(WEIR_ENOMEM, "out of memory compiling a template");
        }
    }
    return 0;
}

static int compile_kids(struct tnode *t, struct cctx *c, const json_t *v, int depth)
{
    size_t n = json_is_array(v) ? json_array_size(v) : json_object_size(v), i = 0;
    char num[32];
    void *it = json_is_object(v) ? json_object_iter((json_t *)v) : NULL;

    t->kind = json_is_object(v) ? TK_OBJECT : TK_ARRAY;
    if (t->kind == TK_OBJECT && object_keys(t, v) < 0) {
        return WEIR_ENOMEM;
    }
    if (!(t->kids = calloc(n ? n : 1, sizeof(*t->kids)))) {
        return weir_error_set(WEIR_ENOMEM, "out of memory compiling a template");
    }
    t->nkids = n;
    for (; i < n; i++) {
        size_t saved;
        const json_t *kid = it ? json_object_iter_value(it) : json_array_get(v, i);
        if (it) {
            saved = path_push(c, json_object_iter_key(it), json_object_iter_key_len(it));
            it = json_object_iter_next((json_t *)v, it);
        }
        else {
            saved = path_push(c, num, (size_t)snprintf(num, sizeof(num), "%zu", i));
        }
        if (compile_node(&t->kids[i], c, kid, depth + 1) < 0) {
            return WEIR_EINVALID;
        }
        path_pop(c, saved);
    }
    return collapse(t);
}

static int compile_node(struct tnode *t, struct cctx *c, const json_t *v, int depth)
{
    if (depth > TMPL_MAX_DEPTH) {
        return fail_at(c, 0, "value nested too deeply for a template; flatten it");
    }
    switch (json_typeof(v)) {
    case JSON_STRING: return compile_string(t, c, json_string_value(v), json_string_length(v));
    case JSON_ARRAY:
    case JSON_OBJECT: return compile_kids(t, c, v, depth);
    default:
        t->kind = TK_CONST;
        t->value = json_deep_copy(v);
        return t->value ? 0 : weir_error_set(WEIR_ENOMEM, "out of memory compiling a template");
    }
}

int weir_tmpl_compile(const json_t *value, struct weir_tmpl **out, struct weir_tmpl_error *err)
{
    struct cctx c = { .path = "" };
    struct weir_tmpl *t = NULL;
    int rc;

    if (out) {
        *out = NULL;
    }
    if (!out || !value) {
        return weir_error_set(WEIR_EINVALID, "weir_tmpl_compile: no value or output given");
    }
    if (!(t = calloc(1, sizeof(*t)))) {
        rc = weir_error_set(WEIR_ENOMEM, "out of memory compiling a template");
        goto done;
    }
    if ((rc = compile_node(&t->root, &c, value, 0)) < 0) {
        goto done;
    }
    *out = t;
    t = NULL;
done:
    if (rc < 0 && err) {
        memcpy(err->path, c.over ? "" : c.path, c.over ? 1 : sizeof(err->path));
        err->offset = c.offset;
    }
    weir_tmpl_free(t);
    return rc < 0 ? rc : WEIR_OK;
}

void weir_tmpl_free(struct weir_tmpl *t)
{
    if (t) {
        tnode_free(&t->root);
        free(t);
    }
}

int weir_tmpl_is_constant(const struct weir_tmpl *t)
{
    return t && t->root.kind == TK_CONST;
}

/* ------------------------------------------------------------------ */
/* evaluate                                                            */

static json_t *eval_node(const struct tnode *t, const json_t *scope);

static json_t *eval_interp(const struct tnode *t, const json_t *scope)
{
    struct weir_sbuf b = { 0 };
    json_t *v;
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < t->nparts; i++) {
        const struct tpart *p = &t->parts[i];
        if (!p->expr) {
            rc = weir__sbuf_add(&b, t->text + p->off, p->len);
        }
        else if ((rc = weir_expr_eval(p->expr, scope, &v)) == 0) {
            rc = weir__sbuf_add_value(&b, v);
            json_decref(v);
        }
    }
    if (rc < 0) {
        weir__sbuf_free(&b);
        return NULL;
    }
    return weir__sbuf_take_string(&b);
}

static json_t *eval_kids(const struct tnode *t, const json_t *scope)
{
    json_t *res = t->kind == TK_ARRAY ? json_array() : json_object(), *v;

    for (size_t i = 0; res && i < t->nkids; i++) {
        const json_t *key = t->keys ? json_array_get(t->keys, i) : NULL;
        if (!(v = eval_node(&t->kids[i], scope))) {
            json_decref(res);
            return NULL;
        }
        if ((key ? json_object_setn_new_nocheck(res, json_string_value(key),
                                                json_string_length(key), v)
                 : json_array_append_new(res, v)) < 0) {
            json_decref(res);
            res = NULL;
        }
    }
    if (!res) {
        weir_error_set(WEIR_ENOMEM, "out of memory evaluating a template");
    }
    return res;
}

static json_t *eval_node(const struct tnode *t, const json_t *scope)
{
    json_t *v = NULL;

    switch (t->kind) {
    case TK_CONST:
        if (!(v = json_deep_copy(t->value))) {
            weir_error_set(WEIR_ENOMEM, "out of memory evaluating a template");
        }
        return v;
    case TK_EXPR: return weir_expr_eval(t->parts[0].expr, scope, &v) < 0 ? NULL : v;
    case TK_INTERP: return eval_interp(t, scope);
    default: return eval_kids(t, scope);
    }
}

int weir_tmpl_eval(const struct weir_tmpl *t, const json_t *scope, json_t **out)
{
    if (!t || !out) {
        return weir_error_set(WEIR_EINVALID, "weir_tmpl_eval: no template or output given");
    }
    *out = eval_node(&t->root, scope);
    return *out ? WEIR_OK : WEIR_EINVALID;
}

/* ------------------------------------------------------------------ */
/* references                                                          */

struct shift {
    weir_expr_ref_cb cb;
    void *payload;
    size_t at;
};

/* Reports offsets within the template string rather than within the
 * expression, so that a caller can point at the right column. */
static int shifted(const struct weir_expr_ref *ref, void *payload)
{
    const struct shift *s = payload;
    struct weir_expr_ref r = *ref;

    r.offset += s->at;
    return s->cb(&r, s->payload);
}

static int node_refs(const struct tnode *t, struct shift *s)
{
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < t->nparts; i++) {
        if (t->parts[i].expr) {
            s->at = t->parts[i].at;
            rc = weir_expr_foreach_ref(t->parts[i].expr, shifted, s);
        }
    }
    for (size_t i = 0; rc == 0 && i < t->nkids; i++) {
        rc = node_refs(&t->kids[i], s);
    }
    return rc;
}

int weir_tmpl_foreach_ref(const struct weir_tmpl *t, weir_expr_ref_cb cb, void *payload)
{
    struct shift s = { .cb = cb, .payload = payload };

    if (!t || !cb) {
        return 0;
    }
    return node_refs(&t->root, &s);
}
