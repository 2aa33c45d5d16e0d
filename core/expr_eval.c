/*
 * expr_eval.c - evaluates a compiled expression against a scope. Paths
 * walk borrowed pointers into the scope and take one reference at the end,
 * so reading `steps.a.output` copies nothing.
 */
#include "expr_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

#define eval weir__expr_node_eval

int weir_json_truthy(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_FALSE:
    case JSON_NULL: return 0;
    case JSON_INTEGER: return json_integer_value(v) != 0;
    case JSON_REAL: return json_real_value(v) != 0.0;
    case JSON_STRING: return json_string_length(v) != 0;
    default: return v != NULL;
    }
}

/* ------------------------------------------------------------------ */
/* paths                                                               */

static const json_t *at_index(const json_t *v, json_int_t i)
{
    json_int_t n;

    if (!json_is_array(v)) {
        return NULL;
    }
    n = (json_int_t)json_array_size(v);
    if (i < 0) {
        i += n;
    }
    return i >= 0 && i < n ? json_array_get(v, (size_t)i) : NULL;
}

static const json_t *at_key(const json_t *v, const char *key, size_t len)
{
    return json_is_object(v) ? json_object_getn(v, key, len) : NULL;
}

/* A computed index: strings are keys, whole numbers are positions, and
 * anything else finds nothing. */
static const json_t *at_value(const json_t *v, const json_t *ix)
{
    double d;

    if (json_is_string(ix)) {
        return at_key(v, json_string_value(ix), json_string_length(ix));
    }
    if (json_is_integer(ix)) {
        return at_index(v, json_integer_value(ix));
    }
    if (json_is_real(ix)) {
        d = json_real_value(ix);
        if (d == floor(d) && fabs(d) < 9.0e15) {
            return at_index(v, (json_int_t)d);
        }
    }
    return NULL;
}

static int step(const struct expr_seg *seg, const json_t *scope, const json_t **cur)
{
    json_t *ix;

    if (seg->kind == SEG_KEY) {
        *cur = at_key(*cur, seg->key, seg->keylen);
    }
    else if (seg->kind == SEG_INDEX) {
        *cur = at_index(*cur, seg->index);
    }
    else if ((ix = eval(seg->expr, scope)) != NULL) {
        *cur = at_value(*cur, ix);
        json_decref(ix);
    }
    else {
        return -1;
    }
    return 0;
}

static json_t *eval_path(const struct expr_node *n, const json_t *scope)
{
    json_t *hold = NULL, *res;
    const json_t *cur;

    if (n->base) {
        if (!(hold = eval(n->base, scope))) {
            return NULL;
        }
        cur = hold;
    }
    else {
        cur = at_key(scope, n->root, n->rootlen);
    }
    /* cur stays borrowed from hold or the scope while indexes evaluate. */
    for (size_t i = 0; cur && i < n->nsegs; i++) {
        if (step(&n->segs[i], scope, &cur) < 0) {
            json_decref(hold);
            return NULL;
        }
    }
    res = cur ? json_incref((json_t *)cur) : json_null();
    json_decref(hold);
    return res;
}

/* ------------------------------------------------------------------ */
/* operators                                                           */

static json_t *eval_not(const struct expr_node *n, const json_t *scope)
{
    json_t *v = eval(n->kids[0], scope);
    int t;

    if (!v) {
        return NULL;
    }
    t = weir_json_truthy(v);
    json_decref(v);
    return json_boolean(!t);
}

static json_t *eval_neg(const struct expr_node *n, const json_t *scope)
{
    json_t *v = eval(n->kids[0], scope), *res = NULL;

    if (!v) {
        return NULL;
    }
    if (json_is_integer(v) && json_integer_value(v) != EXPR_INT_MIN) {
        res = json_integer(-json_integer_value(v));
    }
    else if (json_is_number(v)) {
        res = json_real(-json_number_value(v));
    }
    else {
        weir_error_set(WEIR_EINVALID, "'-' needs a number, got %s", weir__expr_type_name(v));
    }
    json_decref(v);
    return res;
}

/* '&&' stops at the first falsy operand, '||' at the first truthy one;
 * either yields the operand it stopped at, or the last. */
static json_t *eval_logic(const struct expr_node *n, const json_t *scope, int stop_when)
{
    for (size_t i = 0;; i++) {
        json_t *v = eval(n->kids[i], scope);
        if (!v || i + 1 == n->nkids || weir_json_truthy(v) == stop_when) {
            return v;
        }
        json_decref(v);
    }
}

static json_t *add_numbers(const json_t *a, const json_t *b)
{
    json_int_t sum;
    double d;

    if (json_is_integer(a) && json_is_integer(b) &&
        !__builtin_add_overflow(json_integer_value(a), json_integer_value(b), &sum)) {
        return json_integer(sum);
    }
    d = json_number_value(a) + json_number_value(b);
    if (!isfinite(d)) {
        weir_error_set(WEIR_EINVALID, "'+' overflowed: the sum is too large for a number");
        return NULL;
    }
    return json_real(d);
}

static int add_error(const json_t *a, const json_t *b)
{
    return weir_error_set(WEIR_EINVALID,
                          "'+' needs two numbers or at least one string, got %s and %s; "
                          "use tojson() to turn a value into text",
                          weir__expr_type_name(a), weir__expr_type_name(b));
}

/* Left to right: numbers add until a string appears, then everything is
 * appended to one buffer, so a long chain of strings copies each byte once. */
static json_t *eval_add(const struct expr_node *n, const json_t *scope)
{
    struct weir_sbuf buf = { 0 };
    json_t *acc = eval(n->kids[0], scope), *v = NULL, *sum;
    int text = 0;

    for (size_t i = 1; acc && i < n->nkids; i++) {
        if (!(v = eval(n->kids[i], scope))) {
            goto fail;
        }
        if (!text && (json_is_string(acc) || json_is_string(v))) {
            text = 1;
            if (weir__sbuf_add_value(&buf, acc) < 0) {
                goto fail;
            }
        }
        if (text) {
            if (weir__sbuf_add_value(&buf, v) < 0) {
                goto fail;
            }
        }
        else if (!json_is_number(acc) || !json_is_number(v)) {
            add_error(acc, v);
            goto fail;
        }
        else if (!(sum = add_numbers(acc, v))) {
            goto fail;
        }
        else {
            json_decref(acc);
            acc = sum;
        }
        json_decref(v);
        v = NULL;
    }
    if (text && acc) {
        json_decref(acc);
        acc = weir__sbuf_take_string(&buf);
    }
    return acc;
fail:
    json_decref(v);
    json_decref(acc);
    weir__sbuf_free(&buf);
    return NULL;
}

static const char *op_text(enum expr_op op)
{
    switch (op) {
    case EOP_LT: return "<";
    case EOP_LE: return "<=";
    case EOP_GT: return ">";
    default: return ">=";
    }
}

/* <0, 0, >0 like strcmp, or 2 with the last error set. */
static int order(const json_t *a, const json_t *b, enum expr_op op)
{
    if (json_is_integer(a) && json_is_integer(b)) {
        json_int_t x = json_integer_value(a), y = json_integer_value(b);
        return (x > y) - (x < y);
    }
    if (json_is_number(a) && json_is_number(b)) {
        double x = json_number_value(a), y = json_number_value(b);
        return (x > y) - (x < y);
    }
    if (json_is_string(a) && json_is_string(b)) {
        size_t na = json_string_length(a), nb = json_string_length(b);
        int c = memcmp(json_string_value(a), json_string_value(b), na < nb ? na : nb);
        return c ? (c > 0) - (c < 0) : (na > nb) - (na < nb);
    }
    weir_error_set(
        WEIR_EINVALID,
        "cannot compare %s with %s using '%s'; both sides must be numbers or both strings",
        weir__expr_type_name(a), weir__expr_type_name(b), op_text(op));
    return 2;
}

static int compare(const json_t *a, const json_t *b, enum expr_op op)
{
    int c;

    if (op == EOP_EQ || op == EOP_NE) {
        c = weir__expr_json_equal(a, b);
        return c < 0 ? -1 : (op == EOP_EQ) == (c == 1);
    }
    if ((c = order(a, b, op)) == 2) {
        return -1;
    }
    switch (op) {
    case EOP_LT: return c < 0;
    case EOP_LE: return c <= 0;
    case EOP_GT: return c > 0;
    default: return c >= 0;
    }
}

static json_t *eval_cmp(const struct expr_node *n, const json_t *scope)
{
    json_t *a = eval(n->kids[0], scope), *b = NULL;
    int r = -1;

    if (a && (b = eval(n->kids[1], scope))) {
        r = compare(a, b, n->op);
    }
    json_decref(a);
    json_decref(b);
    return r < 0 ? NULL : json_boolean(r);
}

/* ------------------------------------------------------------------ */
/* calls and arrays                                                    */

/* default(x, fallback) evaluates fallback only when it is needed. */
static json_t *eval_default(const struct expr_node *n, const json_t *scope)
{
    json_t *v = eval(n->kids[0], scope);

    if (!v || !(json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0))) {
        return v;
    }
    json_decref(v);
    return eval(n->kids[1], scope);
}

#define INLINE_ARGS 8

static json_t *eval_call(const struct expr_node *n, const json_t *scope)
{
    json_t *small[INLINE_ARGS], **args = small, *res = NULL;
    size_t done = 0;

    if (n->func == FN_DEFAULT) {
        return eval_default(n, scope);
    }
    if (n->nkids > INLINE_ARGS && !(args = malloc(n->nkids * sizeof(*args)))) {
        weir_error_set(WEIR_ENOMEM, "out of memory evaluating %s()",
                       weir__expr_funcs[n->func].name);
        return NULL;
    }
    for (; done < n->nkids; done++) {
        if (!(args[done] = eval(n->kids[done], scope))) {
            goto done;
        }
    }
    res = weir__expr_func_call(n->func, args, n->nkids);
done:
    while (done > 0) {
        json_decref(args[--done]);
    }
    if (args != small) {
        free(args);
    }
    return res;
}

static json_t *eval_array(const struct expr_node *n, const json_t *scope)
{
    json_t *arr = json_array(), *v;

    for (size_t i = 0; arr && i < n->nkids; i++) {
        if (!(v = eval(n->kids[i], scope)) || json_array_append_new(arr, v) < 0) {
            json_decref(arr);
            return NULL;
        }
    }
    if (!arr) {
        weir_error_set(WEIR_ENOMEM, "out of memory building an array");
    }
    return arr;
}

json_t *weir__expr_node_eval(const struct expr_node *n, const json_t *scope)
{
    switch (n->op) {
    case EOP_CONST: return json_incref((json_t *)n->value);
    case EOP_PATH: return eval_path(n, scope);
    case EOP_NOT: return eval_not(n, scope);
    case EOP_NEG: return eval_neg(n, scope);
    case EOP_ADD: return eval_add(n, scope);
    case EOP_AND: return eval_logic(n, scope, 0);
    case EOP_OR: return eval_logic(n, scope, 1);
    case EOP_CALL: return eval_call(n, scope);
    case EOP_ARRAY: return eval_array(n, scope);
    default: return eval_cmp(n, scope);
    }
}

int weir_expr_eval(const struct weir_expr *e, const json_t *scope, json_t **out)
{
    json_t *v;

    if (!e || !out) {
        return weir_error_set(WEIR_EINVALID, "weir_expr_eval: no expression or output given");
    }
    *out = NULL;
    if (!(v = eval(e->root, scope))) {
        return weir_error_wrap(WEIR_EINVALID, "${{ %s }}", e->shown);
    }
    *out = v;
    return WEIR_OK;
}
