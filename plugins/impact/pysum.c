/*
 * pysum.c - PySpark job summaries: runs the script symbolically. Statements
 * are executed in order (branches and loop bodies once, in place); names
 * are bound to symbolic values (DataFrames with the table they came from,
 * strings, Column expressions); defs run when called, with their arguments,
 * and once with unknown arguments if never called. What a call on those
 * values means for the summary is pyspark.c's business. A work budget
 * linear in the number of tokens bounds the whole run.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "pysum_int.h"

#define GLOBAL_BUCKETS 4096
#define LOCAL_BUCKETS 64
#define MAX_CALL_DEPTH 8
#define MAX_FSTRING_DEPTH 4
#define MAX_LOOP_ITEMS 16

struct bind {
    const char *name;
    struct val *v;
    struct bind *next;
};

struct frame {
    struct bind **b;
    size_t nb;
    struct frame *up;
    struct val *ret;
    int returned;
};

struct pyfunc {
    const char *name;
    const char **params;
    int nparams;
    size_t body0, body1;
    int called;
    struct pyfunc *next;
};

struct viewent {
    const char *name;
    struct df *df;
    struct viewent *next;
};

struct py {
    struct isum *s;
    const char *src;
    struct pytok tk;
    struct pyarena ar;
    struct frame *global, *cur;
    long budget;
    int call_depth, fdepth, noted_budget, noted_parse;
    struct pyfunc *funcs;
    struct viewent *views;
};

/* ---- values and names ---- */

struct val *py_val(struct py *P, enum vk k, int line)
{
    struct val *v = pyarena_alloc(&P->ar, sizeof(*v));
    static _Thread_local struct val oom; /* out of memory: an unknown (the run fails) */

    if (!v) {
        return &oom;
    }
    v->k = k;
    v->line = line;
    v->prec = 9;
    return v;
}

char *py_strdup(struct py *P, const char *s)
{
    return pyarena_strndup(&P->ar, s ? s : "", s ? strlen(s) : 0);
}

char *py_printf(struct py *P, const char *fmt, ...)
{
    va_list ap, again;
    int n;
    char *s;

    va_start(ap, fmt);
    va_copy(again, ap);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    s = n >= 0 ? pyarena_alloc(&P->ar, (size_t)n + 1) : NULL;
    if (s) {
        vsnprintf(s, (size_t)n + 1, fmt, again);
    }
    va_end(again);
    return s ? s : (char *)"";
}

struct val *py_str(struct py *P, const char *s, int line)
{
    struct val *v = py_val(P, V_STR, line);

    v->s = s;
    return v;
}

struct isum *py_sum(struct py *P)
{
    return P->s;
}

struct pyarena *py_arena(struct py *P)
{
    return &P->ar;
}

int py_enter(struct py *P)
{
    return P->fdepth++ < MAX_FSTRING_DEPTH;
}

void py_leave(struct py *P)
{
    P->fdepth--;
}

static size_t hash(const char *s, size_t n)
{
    size_t h = 5381;

    for (; *s; s++) {
        h = h * 33 + (unsigned char)*s;
    }
    return h % n;
}

static struct frame *frame_new(struct py *P, size_t nb, struct frame *up)
{
    struct frame *f = pyarena_alloc(&P->ar, sizeof(*f));

    if (f && !(f->b = pyarena_alloc(&P->ar, nb * sizeof(*f->b)))) {
        f = NULL;
    }
    if (f) {
        f->nb = nb;
        f->up = up;
    }
    return f;
}

static void bind(struct py *P, const char *name, struct val *v)
{
    struct frame *f = P->cur;
    size_t h = hash(name, f->nb);
    struct bind *b;

    for (b = f->b[h]; b; b = b->next) {
        if (strcmp(b->name, name) == 0) {
            b->v = v;
            return;
        }
    }
    if ((b = pyarena_alloc(&P->ar, sizeof(*b))) != NULL) {
        b->name = py_strdup(P, name);
        b->v = v;
        b->next = f->b[h];
        f->b[h] = b;
    }
}

static struct val *lookup(struct py *P, const char *name)
{
    for (struct frame *f = P->cur; f; f = f->up) {
        for (struct bind *b = f->b[hash(name, f->nb)]; b; b = b->next) {
            if (strcmp(b->name, name) == 0) {
                return b->v;
            }
        }
    }
    return NULL;
}

void py_view(struct py *P, const char *name, struct df *df)
{
    struct viewent *e = pyarena_alloc(&P->ar, sizeof(*e));

    if (e) {
        e->name = py_strdup(P, name);
        e->df = df;
        e->next = P->views;
        P->views = e;
    }
}

/* Temp views for the SQL summariser: lower-cased name -> table or null. */
json_t *py_views(struct py *P)
{
    json_t *o = json_object();

    for (struct viewent *e = P->views; e && o; e = e->next) {
        char key[256];
        size_t i;

        snprintf(key, sizeof(key), "%s", e->name);
        for (i = 0; key[i]; i++) {
            key[i] = (char)(key[i] >= 'A' && key[i] <= 'Z' ? key[i] + 32 : key[i]);
        }
        if (!json_object_get(o, key)) {
            json_object_set_new(o, key,
                                e->df && e->df->label ? isum_str(e->df->label) : json_null());
        }
    }
    return o;
}

/* ---- parsing a statement ---- */

static struct pn *parse(struct py *P, size_t i, size_t end)
{
    struct pyparser p;
    struct pn *n;

    P->budget -= (long)(end - i); /* a def's body is parsed each time it runs */
    if (P->budget < 0) {
        return NULL;
    }
    memset(&p, 0, sizeof(p));
    p.src = P->src;
    p.tk = &P->tk;
    p.i = i;
    p.end = end;
    p.ar = &P->ar;
    n = pyparse_expr(&p);
    if (p.fail || p.i != end) {
        if (!P->noted_parse) {
            P->noted_parse = 1;
            isum_diag(P->s, P->tk.v[i].line,
                      "a statement the summariser could not parse was skipped (first at this "
                      "line)");
        }
        return NULL;
    }
    return n;
}

static const struct pytok_token *tk(struct py *P, size_t i)
{
    return &P->tk.v[i];
}

static int tok_is(struct py *P, size_t i, size_t end, const char *t)
{
    size_t n = strlen(t);

    return i < end && (tk(P, i)->kind == PYTOK_OP || tk(P, i)->kind == PYTOK_NAME) &&
           tk(P, i)->len == n && memcmp(P->src + tk(P, i)->off, t, n) == 0;
}

static char *tok_text(struct py *P, size_t i)
{
    return pyarena_strndup(&P->ar, P->src + tk(P, i)->off, tk(P, i)->len);
}

/* ---- evaluation ---- */

struct val *py_arg(struct py *P, const struct pn *call, int pos, const char *kw)
{
    int k = 0;

    if (!call) {
        return NULL;
    }
    for (int i = 0; i < call->nitems; i++) {
        const struct pn *a = call->items[i];

        if (!a) {
            continue;
        }
        if (a->kind == PN_KW) {
            if (kw && a->len == strlen(kw) && memcmp(a->text, kw, a->len) == 0) {
                return py_eval(P, a->a);
            }
            continue;
        }
        if (k++ == pos) {
            return py_eval(P, a);
        }
    }
    return NULL;
}

static struct val *eval_bin(struct py *P, const struct pn *n)
{
    struct val *a = py_eval(P, n->a), *b = py_eval(P, n->b);
    char op[8];

    snprintf(op, sizeof(op), "%.*s", (int)n->len, n->text);
    if (strcmp(op, "+") == 0 && py_is_strish(a) && py_is_strish(b)) {
        return py_concat(P, a, b, n->line);
    }
    if (strcmp(op, "%") == 0 && py_is_strish(a)) {
        struct val *v = py_val(P, V_UNRES, n->line);

        v->s = "a string formatted with %";
        return v;
    }
    if (a->k == V_COL || b->k == V_COL) {
        return py_col_binop(P, op, a, b, n->line);
    }
    return py_val(P, V_UNK, n->line);
}

static struct val *eval_sub(struct py *P, const struct pn *n)
{
    struct val *o = py_eval(P, n->a), *k = py_eval(P, n->b);

    if (o->k == V_DICT && k->k == V_STR) {
        for (int i = 0; i + 1 < o->n; i += 2) {
            if (o->items[i]->k == V_STR && strcmp(o->items[i]->s, k->s) == 0) {
                return o->items[i + 1];
            }
        }
    }
    if (o->k == V_LIST && k->k == V_NUM) {
        long i = strtol(k->s, NULL, 10);

        if (i < 0) {
            i += o->n;
        }
        if (i >= 0 && i < o->n) {
            return o->items[i];
        }
    }
    if ((o->k == V_ARGS || (o->k == V_NAME && strstr(o->s, "environ"))) && k->k == V_STR) {
        struct val *v = py_val(P, V_UNRES, n->line);

        v->s =
            py_printf(P, o->k == V_ARGS ? "job argument '%s'" : "environment variable '%s'", k->s);
        return v;
    }
    if (o->k == V_NAME && strstr(o->s, "argv")) {
        struct val *v = py_val(P, V_UNRES, n->line);

        v->s = "a command-line argument";
        return v;
    }
    if ((o->k == V_DF || o->k == V_NAME || o->k == V_UNK) && k->k == V_STR) {
        struct val *c = py_to_col(P, k, 1, n->line);

        if (o->k == V_DF && c->nrefs) {
            c->refs[0].df = o->df;
        }
        return c;
    }
    return py_val(P, V_UNK, n->line);
}

static struct val *eval_list(struct py *P, const struct pn *n, enum vk k)
{
    struct val *v = py_val(P, k, n->line);

    v->items = pyarena_alloc(&P->ar, (size_t)(n->nitems + 1) * sizeof(*v->items));
    if (!v->items) {
        return py_val(P, V_UNK, n->line);
    }
    for (int i = 0; i < n->nitems; i++) {
        v->items[v->n++] = n->items[i] ? py_eval(P, n->items[i]) : py_val(P, V_UNK, n->line);
    }
    return v;
}

static struct val *eval_lambda(struct py *P, const struct pn *n)
{
    struct frame *f = frame_new(P, 8, P->cur), *saved = P->cur;
    struct val *v;

    if (!f) {
        return py_val(P, V_UNK, n->line);
    }
    P->cur = f;
    for (int i = 0; i < n->nitems; i++) {
        struct val *p = py_val(P, V_NAME, n->line);

        p->s = pyarena_strndup(&P->ar, n->items[i]->text, n->items[i]->len);
        bind(P, p->s, p);
    }
    v = py_eval(P, n->a);
    P->cur = saved;
    return v;
}

/* d.items(), d.keys(), d.values() as lists */
static struct val *dict_method(struct py *P, struct val *d, const char *m)
{
    struct val *l = py_val(P, V_LIST, d->line);
    int items = strcmp(m, "items") == 0, keys = strcmp(m, "keys") == 0;

    if (!items && !keys && strcmp(m, "values") != 0) {
        return py_val(P, V_UNK, d->line);
    }
    if (!(l->items = pyarena_alloc(&P->ar, (size_t)(d->n / 2 + 1) * sizeof(*l->items)))) {
        return py_val(P, V_UNK, d->line);
    }
    for (int i = 0; i + 1 < d->n; i += 2) {
        struct val *pair;

        if (!items) {
            l->items[l->n++] = d->items[keys ? i : i + 1];
            continue;
        }
        pair = py_val(P, V_LIST, d->line);
        if (!(pair->items = pyarena_alloc(&P->ar, 2 * sizeof(*pair->items)))) {
            return py_val(P, V_UNK, d->line);
        }
        pair->items[0] = d->items[i];
        pair->items[1] = d->items[i + 1];
        pair->n = 2;
        l->items[l->n++] = pair;
    }
    return l;
}

static struct val *eval_call(struct py *P, const struct pn *n)
{
    const struct pn *f = n->a;
    struct val *obj;

    if (f && f->kind == PN_ATTR) {
        char *m = pyarena_strndup(&P->ar, f->text, f->len);
        struct val *fn;

        obj = py_eval(P, f->a);
        if (obj->k == V_STR && m) {
            return py_str_method(P, obj, m, n);
        }
        if (obj->k == V_DICT && m) {
            return dict_method(P, obj, m);
        }
        /* self.extract(): a method of the script's own classes */
        if ((obj->k == V_NAME || obj->k == V_UNK) && m && (fn = lookup(P, m)) != NULL &&
            fn->k == V_FUNC && fn->fn->nparams > 0 && strcmp(fn->fn->params[0], "self") == 0) {
            return py_call_func(P, fn->fn, n, obj);
        }
        return py_method(P, obj, m ? m : "", n);
    }
    obj = f ? py_eval(P, f) : py_val(P, V_UNK, n->line);
    if (obj->k == V_FUNC) {
        return py_call_func(P, obj->fn, n, NULL);
    }
    if (obj->k == V_NAME) {
        return py_method(P, obj, NULL, n);
    }
    if (obj->k == V_UNK) {
        for (int i = 0; i < n->nitems; i++) { /* their side effects still count */
            if (n->items[i]) {
                py_eval(P, n->items[i]->kind == PN_KW ? n->items[i]->a : n->items[i]);
            }
        }
    }
    return py_val(P, V_UNK, n->line);
}

struct val *py_eval(struct py *P, const struct pn *n)
{
    struct val *v;

    if (!n || --P->budget < 0) {
        return py_val(P, V_UNK, n ? n->line : 0);
    }
    switch (n->kind) {
    case PN_NAME: {
        char *name = pyarena_strndup(&P->ar, n->text, n->len);

        if (!name) {
            return py_val(P, V_UNK, n->line);
        }
        if (strcmp(name, "True") == 0 || strcmp(name, "False") == 0) {
            v = py_val(P, V_BOOL, n->line);
            v->b = name[0] == 'T';
            return v;
        }
        if (strcmp(name, "None") == 0) {
            return py_val(P, V_NONE, n->line);
        }
        if ((v = lookup(P, name)) != NULL) {
            return v;
        }
        v = py_val(P, V_NAME, n->line);
        v->s = name;
        return v;
    }
    case PN_STR:
        if (n->fstr) {
            return py_fstring(P, n);
        }
        return py_str(P, n->text, n->line);
    case PN_NUM:
        v = py_val(P, V_NUM, n->line);
        v->s = pyarena_strndup(&P->ar, n->text, n->len);
        return v->s ? v : py_val(P, V_UNK, n->line);
    case PN_ATTR:
        return py_attr(P, py_eval(P, n->a), pyarena_strndup(&P->ar, n->text, n->len), n->line);
    case PN_CALL: return eval_call(P, n);
    case PN_SUB: return eval_sub(P, n);
    case PN_LIST: return eval_list(P, n, V_LIST);
    case PN_DICT: return eval_list(P, n, V_DICT);
    case PN_BIN:
        if ((n->len == 3 && memcmp(n->text, "and", 3) == 0) ||
            (n->len == 2 && memcmp(n->text, "or", 2) == 0)) {
            struct val *a = py_eval(P, n->a), *b = py_eval(P, n->b);

            return a->k == V_COL || b->k == V_COL
                       ? py_col_binop(P, n->text[0] == 'a' ? "&" : "|", a, b, n->line)
                       : py_val(P, V_UNK, n->line);
        }
        return eval_bin(P, n);
    case PN_UN:
        v = py_eval(P, n->a);
        if (v->k == V_COL && (n->text[0] == '~' || n->text[0] == 'n')) {
            return py_col_not(P, v, n->line);
        }
        if (v->k == V_NUM && n->text[0] == '-') {
            struct val *neg = py_val(P, V_NUM, n->line);

            neg->s = py_printf(P, "-%s", v->s);
            return neg;
        }
        return v->k == V_COL ? py_col_binop(P, "neg", v, v, n->line) : py_val(P, V_UNK, n->line);
    case PN_KW: return py_eval(P, n->a);
    case PN_LAMBDA: return eval_lambda(P, n);
    default: return py_val(P, V_UNK, n->line);
    }
}

/* ---- statements ---- */

static void exec_block(struct py *P, size_t i, size_t end);

/* End of the logical line starting at i: its NEWLINE token (or end). */
static size_t line_end(struct py *P, size_t i, size_t end)
{
    while (i < end && tk(P, i)->kind != PYTOK_NEWLINE) {
        i++;
    }
    return i;
}

/* The first op tok at bracket depth 0 in [i, end), or end. */
static size_t find_top(struct py *P, size_t i, size_t end, const char *t)
{
    int depth = 0;

    for (; i < end; i++) {
        const struct pytok_token *k = tk(P, i);

        if (k->kind == PYTOK_OP && k->len == 1 && strchr("([{", P->src[k->off])) {
            depth++;
        }
        else if (k->kind == PYTOK_OP && k->len == 1 && strchr(")]}", P->src[k->off])) {
            depth -= depth > 0;
        }
        else if (depth == 0 && tok_is(P, i, end, t)) {
            return i;
        }
    }
    return end;
}

/* After the header line ending at nl: the indented body [*b0, *b1) and the
 * index after it. A body on the header line itself gives *b0 == *b1. */
static size_t block_after(struct py *P, size_t nl, size_t end, size_t *b0, size_t *b1)
{
    size_t i = nl + 1;
    int depth = 0;

    *b0 = *b1 = i;
    if (i >= end || tk(P, i)->kind != PYTOK_INDENT) {
        return i;
    }
    *b0 = ++i;
    depth = 1;
    for (; i < end; i++) {
        depth += (tk(P, i)->kind == PYTOK_INDENT) - (tk(P, i)->kind == PYTOK_DEDENT);
        if (depth == 0) {
            break;
        }
    }
    *b1 = i;
    P->budget -= (long)(i - nl); /* finding the body is work too (a def run per call) */
    return i < end ? i + 1 : end;
}

static void bind_target(struct py *P, size_t i, size_t e, struct val *v)
{
    size_t colon = find_top(P, i, e, ":");

    e = colon; /* x: T = v */
    if (e == i + 1 && tk(P, i)->kind == PYTOK_NAME) {
        bind(P, tok_text(P, i), v);
        return;
    }
    if (v->k == V_LIST) { /* a, b = x, y */
        int k = 0;

        for (size_t j = i; j < e; j++) {
            if (tk(P, j)->kind == PYTOK_NAME && (j + 1 == e || tok_is(P, j + 1, e, ","))) {
                if (k < v->n) {
                    bind(P, tok_text(P, j), v->items[k]);
                }
                k++;
            }
            else if (!tok_is(P, j, e, ",") && !tok_is(P, j, e, "(") && !tok_is(P, j, e, ")")) {
                return;
            }
        }
    }
}

static void exec_import(struct py *P, size_t i, size_t e)
{
    int functions = 0;
    size_t j;

    for (j = i; j < e && !tok_is(P, j, e, "import"); j++) {
        if (tk(P, j)->kind == PYTOK_NAME && tk(P, j)->len == 9 &&
            memcmp(P->src + tk(P, j)->off, "functions", 9) == 0) {
            functions = 1;
        }
    }
    for (j++; j < e; j++) {
        const char *name;
        struct val *v;

        if (tk(P, j)->kind != PYTOK_NAME || tok_is(P, j, e, "as")) {
            continue;
        }
        name = tok_text(P, j);
        v = py_val(P, V_NAME, tk(P, j)->line);
        v->s = functions ? py_printf(P, "F.%s", name) : name;
        if (strcmp(name, "functions") == 0) {
            v->s = "F";
        }
        while (j + 1 < e && tk(P, j + 1)->kind == PYTOK_OP && tok_is(P, j + 1, e, ".")) {
            j += 2; /* import pyspark.sql.functions as F */
            if (j < e && tok_is(P, j, e, "functions")) {
                v->s = "F";
            }
        }
        if (tok_is(P, j + 1, e, "as") && j + 2 < e) {
            j += 2;
            name = tok_text(P, j);
        }
        if (name && v->s && strchr(name, '*') == NULL) {
            bind(P, name, v);
        }
    }
}

static void exec_simple(struct py *P, size_t i, size_t e)
{
    size_t eq, last = i;
    struct pn *n;
    struct val *v;

    if (i >= e) {
        return;
    }
    if (tok_is(P, i, e, "import") || tok_is(P, i, e, "from")) {
        exec_import(P, i, e);
        return;
    }
    if (tok_is(P, i, e, "return")) {
        n = i + 1 < e ? parse(P, i + 1, e) : NULL;
        P->cur->ret = n ? py_eval(P, n) : py_val(P, V_NONE, tk(P, i)->line);
        P->cur->returned = 1;
        return;
    }
    for (const char *const *k =
             (const char *const[]){ "pass", "break", "continue", "global", "nonlocal", "raise",
                                    "assert", "del", "@", NULL };
         *k; k++) {
        if (tok_is(P, i, e, *k)) {
            return;
        }
    }
    if (e > i + 2 && tk(P, i)->kind == PYTOK_NAME && tk(P, i + 1)->kind == PYTOK_OP &&
        tk(P, i + 1)->len == 2 && P->src[tk(P, i + 1)->off + 1] == '=' &&
        P->src[tk(P, i + 1)->off] == '+') { /* sql += "..." */
        struct val *old = lookup(P, tok_text(P, i));

        if ((n = parse(P, i + 2, e)) != NULL) {
            v = py_eval(P, n);
            bind(P, tok_text(P, i),
                 old && py_is_strish(old) && py_is_strish(v) ? py_concat(P, old, v, v->line)
                                                             : py_val(P, V_UNK, v->line));
        }
        return;
    }
    for (eq = find_top(P, i, e, "="); eq < e; eq = find_top(P, eq + 1, e, "=")) {
        last = eq + 1;
    }
    if (!(n = parse(P, last, e))) {
        return;
    }
    v = py_eval(P, n);
    for (size_t t = i; last > i && t < last;) { /* every target of a = b = value */
        size_t q = find_top(P, t, last - 1, "=");

        bind_target(P, t, q, v);
        t = q + 1;
    }
}

static struct pyfunc *def(struct py *P, size_t i, size_t nl, size_t b0, size_t b1)
{
    struct pyfunc *fn = pyarena_alloc(&P->ar, sizeof(*fn));
    size_t j, close;
    int depth = 0;

    if (!fn || i + 1 >= nl || tk(P, i + 1)->kind != PYTOK_NAME) {
        return NULL;
    }
    fn->name = tok_text(P, i + 1);
    fn->body0 = b0;
    fn->body1 = b1;
    fn->params = pyarena_alloc(&P->ar, (nl - i) * sizeof(*fn->params));
    close = find_top(P, i + 3, nl, ")");
    for (j = i + 3; fn->params && j < close; j++) {
        int at_start = j == i + 3 || tok_is(P, j - 1, nl, ",") || tok_is(P, j - 1, nl, "*") ||
                       tok_is(P, j - 1, nl, "**");

        depth += tok_is(P, j, nl, "(") + tok_is(P, j, nl, "[") - tok_is(P, j, nl, ")") -
                 tok_is(P, j, nl, "]");
        if (depth == 0 && at_start && tk(P, j)->kind == PYTOK_NAME) {
            fn->params[fn->nparams++] = tok_text(P, j);
        }
    }
    fn->next = P->funcs;
    P->funcs = fn;
    return fn;
}

struct val *py_call_func(struct py *P, struct pyfunc *fn, const struct pn *call, struct val *self)
{
    struct frame *f, *saved = P->cur;
    struct val *ret;
    int pos = 0;

    fn->called = 1;
    if (P->call_depth >= MAX_CALL_DEPTH || P->budget < 0 ||
        !(f = frame_new(P, LOCAL_BUCKETS, P->global))) {
        return py_val(P, V_UNK, call ? call->line : 0);
    }
    for (int k = 0; k < fn->nparams; k++) {
        struct val *a = NULL;

        if (k == 0 && self) {
            a = self; /* df.transform(f): f(df) */
        }
        else if (call) {
            a = py_arg(P, call, 1000, fn->params[k]);
            if (!a) {
                a = py_arg(P, call, pos++, NULL);
            }
        }
        P->cur = f;
        bind(P, fn->params[k], a ? a : py_val(P, V_UNK, call ? call->line : 0));
        P->cur = saved;
    }
    P->cur = f;
    P->call_depth++;
    exec_block(P, fn->body0, fn->body1);
    P->call_depth--;
    ret = f->ret ? f->ret : py_val(P, V_NONE, call ? call->line : 0);
    P->cur = saved;
    return ret;
}

/* for NAME in <list>: the body once per item (a few items), else once. */
static void exec_for(struct py *P, size_t i, size_t colon, size_t b0, size_t b1)
{
    size_t in = find_top(P, i, colon, "in");
    struct pn *n = in + 1 < colon ? parse(P, in + 1, colon) : NULL;
    struct val *it = n ? py_eval(P, n) : py_val(P, V_UNK, tk(P, i)->line);
    int single = in == i + 2 && tk(P, i + 1)->kind == PYTOK_NAME;

    if (it->k == V_LIST && it->n > 0 && it->n <= MAX_LOOP_ITEMS && in > i + 1) {
        for (int k = 0; k < it->n && !P->cur->returned; k++) {
            bind_target(P, i + 1, in, it->items[k]); /* x, or a, b for pairs */
            exec_block(P, b0, b1);
        }
        return;
    }
    if (single) {
        struct val *u = py_val(P, V_UNRES, tk(P, i)->line);

        u->s = py_printf(P, "loop variable '%s'", tok_text(P, i + 1));
        bind(P, tok_text(P, i + 1), u);
    }
    exec_block(P, b0, b1);
}

static int is_compound(struct py *P, size_t i, size_t e)
{
    static const char *const kw[] = { "if",     "elif",    "else",  "for",   "while", "with", "try",
                                      "except", "finally", "class", "async", "match", "case" };

    for (size_t k = 0; k < sizeof(kw) / sizeof(kw[0]); k++) {
        if (tok_is(P, i, e, kw[k])) {
            return 1;
        }
    }
    return 0;
}

static void exec_block(struct py *P, size_t i, size_t end)
{
    while (i < end && !P->cur->returned && P->budget >= 0) {
        size_t nl, b0, b1, next, colon;

        P->budget--;
        if (tk(P, i)->kind != PYTOK_NAME && tk(P, i)->kind != PYTOK_STRING &&
            tk(P, i)->kind != PYTOK_OP && tk(P, i)->kind != PYTOK_NUMBER) {
            i++; /* INDENT, DEDENT, NEWLINE, ERROR */
            continue;
        }
        nl = line_end(P, i, end);
        if (tok_is(P, i, nl, "def") || (tok_is(P, i, nl, "async") && tok_is(P, i + 1, nl, "def"))) {
            size_t d = tok_is(P, i, nl, "def") ? i : i + 1;

            next = block_after(P, nl, end, &b0, &b1);
            struct pyfunc *fn = def(P, d, nl, b0, b1);

            if (fn) {
                struct val *v = py_val(P, V_FUNC, tk(P, d)->line);

                v->fn = fn;
                bind(P, fn->name, v);
            }
            i = next;
            continue;
        }
        if (is_compound(P, i, nl)) {
            colon = find_top(P, i, nl, ":");
            next = block_after(P, nl, end, &b0, &b1);
            if (colon + 1 < nl) {
                b0 = colon + 1; /* if x: stmt */
                b1 = nl;
                next = nl + 1;
            }
            if (tok_is(P, i, nl, "for")) {
                exec_for(P, i, colon, b0, b1);
            }
            else {
                if (tok_is(P, i, nl, "if") || tok_is(P, i, nl, "while") ||
                    tok_is(P, i, nl, "elif")) {
                    struct pn *c = colon > i + 1 ? parse(P, i + 1, colon) : NULL;

                    if (c) {
                        py_eval(P, c);
                    }
                }
                exec_block(P, b0, b1);
            }
            i = next;
            continue;
        }
        for (size_t s0 = i; s0 < nl;) { /* a; b */
            size_t semi = find_top(P, s0, nl, ";");

            exec_simple(P, s0, semi);
            s0 = semi + 1;
        }
        i = nl + 1;
    }
}

void impact_py_summarize(struct isum *s, const char *src, size_t len)
{
    struct py P;

    memset(&P, 0, sizeof(P));
    P.s = s;
    P.src = src;
    if (pytok_run(src, len, &P.tk) < 0) {
        s->oom = 1;
        return;
    }
    P.budget = 64 * (long)P.tk.n + 100000;
    if (!(P.global = frame_new(&P, GLOBAL_BUCKETS, NULL))) {
        s->oom = 1;
        goto done;
    }
    P.cur = P.global;
    exec_block(&P, 0, P.tk.n);
    for (struct pyfunc *fn = P.funcs; fn && P.budget >= 0; fn = fn->next) {
        if (!fn->called) { /* never called: run with unknown arguments */
            P.global->returned = 0;
            py_call_func(&P, fn, NULL, NULL);
        }
    }
    if (P.budget < 0) {
        isum_diag(s, 1,
                  "the script is too large or too convoluted to follow entirely; the "
                  "summary is partial");
    }
    if (P.ar.oom) {
        s->oom = 1;
    }
done:
    pytok_free(&P.tk);
    pyarena_free(&P.ar);
}
