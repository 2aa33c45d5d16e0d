/*
 * check_eval.c - evaluation of compiled `check` expressions over one row,
 * with SQL three-valued logic plus an ERROR value for values that cannot be
 * used (see check_expr.h), and the number parsing shared with predicate.c.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check_expr_int.h"
#include "contract.h"

/* ---- evaluator ----------------------------------------------------------- */

enum vtype { V_NULL, V_ERR, V_BOOL, V_NUM, V_STR, V_COL };

struct val {
    enum vtype t;
    double n;      /* V_BOOL (0/1), V_NUM */
    const char *s; /* V_STR, V_COL: NUL-terminated at s[len] */
    size_t len;
    int num_state; /* V_COL: 0 not parsed yet, 1 a number (in n), 2 not a number */
};

static const double pow10_tab[] = { 1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                    1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                    1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22 };

/*
 * Parses a whole text as a number. The common shape ([-+]digits[.digits],
 * at most 15 significant digits) is computed exactly (an integer below 2^53
 * divided by an exact power of ten rounds correctly); the rest goes to strtod.
 */
int check_expr_number(const char *s, size_t len, double *out)
{
    const char *p = s, *end = s + len;
    uint64_t m = 0;
    int digits = 0, frac = 0, neg = 0, seen = 0;
    char buf[64], *e;

    if (p < end && (*p == '-' || *p == '+')) {
        neg = *p++ == '-';
    }
    while (p < end && *p >= '0' && *p <= '9') {
        m = m * 10 + (uint64_t)(*p++ - '0');
        digits += m != 0;
        seen = 1;
    }
    if (p < end && *p == '.') {
        p++;
        while (p < end && *p >= '0' && *p <= '9') {
            m = m * 10 + (uint64_t)(*p++ - '0');
            digits += m != 0;
            frac++;
            seen = 1;
        }
    }
    if (p == end && seen && digits <= 15 && frac <= 22) {
        *out = (double)m / pow10_tab[frac];
        if (neg) {
            *out = -*out;
        }
        return 1;
    }
    if (len == 0 || len >= sizeof(buf)) {
        return 0;
    }
    for (p = s; p < end; p++) {
        if (!strchr("0123456789+-.eE", *p) || *p == '\0') {
            return 0; /* not hex, inf, nan or blanks, which strtod would take */
        }
    }
    memcpy(buf, s, len);
    buf[len] = '\0';
    errno = 0;
    *out = strtod(buf, &e);
    return e == buf + len && errno != ERANGE;
}

static int as_number(const struct val *v, double *out)
{
    if (v->t == V_NUM || v->t == V_BOOL || (v->t == V_COL && v->num_state == 1)) {
        *out = v->n;
        return 1;
    }
    if (v->t == V_COL && v->num_state == 2) {
        return 0;
    }
    return (v->t == V_STR || v->t == V_COL) && check_expr_number(v->s, v->len, out);
}

/* What an evaluation reads: the row, and the shared number cache or NULL. */
struct ectx {
    const struct lake_field *fields;
    struct check_numcache *cache;
};

static struct val eval(const struct check_expr *e, int i, const struct ectx *f);

static struct val mk(enum vtype t, double n)
{
    struct val v = { t, n, NULL, 0, 0 };

    return v;
}

/* -1/0/1 in *c, or V_NULL / V_ERR when the operands cannot be compared. */
static enum vtype compare(const struct val *a, const struct val *b, int *c)
{
    double x, y;
    size_t n;

    if (a->t == V_ERR || b->t == V_ERR) {
        return V_ERR;
    }
    if (a->t == V_NULL || b->t == V_NULL) {
        return V_NULL;
    }
    if (a->t == V_NUM || b->t == V_NUM || a->t == V_BOOL || b->t == V_BOOL ||
        (a->t == V_COL && b->t == V_COL && as_number(a, &x) && as_number(b, &y))) {
        if (!as_number(a, &x) || !as_number(b, &y)) {
            return V_ERR;
        }
        *c = (x > y) - (x < y);
        return V_BOOL;
    }
    n = a->len < b->len ? a->len : b->len;
    *c = memcmp(a->s, b->s, n);
    *c = *c ? (*c > 0) - (*c < 0) : (a->len > b->len) - (a->len < b->len);
    return V_BOOL;
}

static size_t utf8_len(const char *s)
{
    size_t n = 1;

    while ((s[n] & 0xC0) == 0x80) {
        n++;
    }
    return n;
}

/* LIKE: iterative matcher with one backtrack point for the last '%'. */
static int like(const char *s, size_t slen, const char *pat, size_t plen)
{
    size_t si = 0, pi = 0, star_p = (size_t)-1, star_s = 0;

    while (si < slen) {
        if (pi < plen && pat[pi] == '%') {
            star_p = ++pi;
            star_s = si;
        }
        else if (pi < plen && pat[pi] == '_') {
            si += utf8_len(s + si);
            pi++;
        }
        else if (pi < plen && pat[pi] == s[si]) {
            si++;
            pi++;
        }
        else if (star_p != (size_t)-1) {
            pi = star_p;
            star_s += utf8_len(s + star_s);
            si = star_s;
        }
        else {
            return 0;
        }
    }
    while (pi < plen && pat[pi] == '%') {
        pi++;
    }
    return pi == plen && si == slen;
}

static struct val eval_logic(const struct check_expr *e, const struct node *n, const struct ectx *f)
{
    struct val a = eval(e, n->a, f), b;
    int absorb = n->op == N_OR; /* the value that decides alone */

    if (n->op == N_NOT) {
        return a.t == V_BOOL ? mk(V_BOOL, !a.n) : a;
    }
    if (a.t == V_BOOL && (int)a.n == absorb) {
        return a;
    }
    b = eval(e, n->b, f);
    if (b.t == V_BOOL && (int)b.n == absorb) {
        return b;
    }
    if (a.t == V_ERR || b.t == V_ERR) {
        return mk(V_ERR, 0);
    }
    if (a.t == V_NULL || b.t == V_NULL) {
        return mk(V_NULL, 0);
    }
    return mk(V_BOOL, !absorb);
}

static struct val eval_arith(const struct check_expr *e, const struct node *n, const struct ectx *f)
{
    struct val a = eval(e, n->a, f), b = n->op == N_NEG ? mk(V_NUM, 0) : eval(e, n->b, f);
    double x, y;

    if (a.t == V_ERR || b.t == V_ERR) {
        return mk(V_ERR, 0);
    }
    if (a.t == V_NULL || b.t == V_NULL) {
        return mk(V_NULL, 0);
    }
    if (!as_number(&a, &x) || !as_number(&b, &y)) {
        return mk(V_ERR, 0);
    }
    switch (n->op) {
    case N_ADD: return mk(V_NUM, x + y);
    case N_SUB: return mk(V_NUM, x - y);
    case N_MUL: return mk(V_NUM, x * y);
    case N_DIV: return y == 0 ? mk(V_NULL, 0) : mk(V_NUM, x / y);
    case N_MOD: return y == 0 ? mk(V_NULL, 0) : mk(V_NUM, fmod(x, y));
    default: return mk(V_NUM, -x);
    }
}

static struct val negate_if(struct val v, int neg)
{
    if (neg && v.t == V_BOOL) {
        v.n = !v.n;
    }
    return v;
}

static struct val eval_in(const struct check_expr *e, const struct node *n, const struct ectx *f)
{
    struct val a = eval(e, n->a, f);
    enum vtype seen = V_BOOL;
    int k, c;

    if (a.t == V_NULL || a.t == V_ERR) {
        return a;
    }
    for (k = 0; k < n->c; k++) {
        struct val b = eval(e, e->list[n->b + k], f);
        enum vtype t = compare(&a, &b, &c);

        if (t == V_BOOL && c == 0) {
            return negate_if(mk(V_BOOL, 1), n->neg);
        }
        if (t == V_ERR && b.t != V_NUM) {
            seen = V_ERR;
        }
        else if (t == V_NULL && seen == V_BOOL) {
            seen = V_NULL;
        }
    }
    /* A text that is not a number can never equal a numeric item: that is a
     * plain "not in", not an error. */
    return seen == V_BOOL ? negate_if(mk(V_BOOL, 0), n->neg) : mk(seen, 0);
}

static struct val eval_pred(const struct check_expr *e, const struct node *n, const struct ectx *f)
{
    struct val a = eval(e, n->a, f), b;
    enum vtype t;
    int c = 0, c2 = 0;

    if (n->op == N_ISNULL) {
        return negate_if(mk(V_BOOL, a.t == V_NULL), n->neg);
    }
    b = eval(e, n->b, f);
    if (n->op == N_LIKE) {
        if (a.t == V_ERR || b.t == V_ERR) {
            return mk(V_ERR, 0);
        }
        if (a.t == V_NULL || b.t == V_NULL) {
            return mk(V_NULL, 0);
        }
        if (a.s == NULL || b.s == NULL) {
            return mk(V_ERR, 0);
        }
        return negate_if(mk(V_BOOL, like(a.s, a.len, b.s, b.len)), n->neg);
    }
    if (n->op == N_BETWEEN) {
        struct val hi = eval(e, n->c, f);
        enum vtype t2;
        struct val lo_ok, hi_ok;

        t = compare(&a, &b, &c);
        t2 = compare(&a, &hi, &c2);
        lo_ok = t == V_BOOL ? mk(V_BOOL, c >= 0) : mk(t, 0);
        hi_ok = t2 == V_BOOL ? mk(V_BOOL, c2 <= 0) : mk(t2, 0);
        if ((lo_ok.t == V_BOOL && !lo_ok.n) || (hi_ok.t == V_BOOL && !hi_ok.n)) {
            return negate_if(mk(V_BOOL, 0), n->neg);
        }
        if (lo_ok.t != V_BOOL || hi_ok.t != V_BOOL) {
            return mk(lo_ok.t == V_ERR || hi_ok.t == V_ERR ? V_ERR : V_NULL, 0);
        }
        return negate_if(mk(V_BOOL, 1), n->neg);
    }
    if ((t = compare(&a, &b, &c)) != V_BOOL) {
        return mk(t, 0);
    }
    switch (n->op) {
    case N_EQ: return mk(V_BOOL, c == 0);
    case N_NE: return mk(V_BOOL, c != 0);
    case N_LT: return mk(V_BOOL, c < 0);
    case N_LE: return mk(V_BOOL, c <= 0);
    case N_GT: return mk(V_BOOL, c > 0);
    default: return mk(V_BOOL, c >= 0);
    }
}

static struct val eval(const struct check_expr *e, int i, const struct ectx *f)
{
    const struct node *n = &e->nodes[i];
    struct val v = { V_NULL, 0, NULL, 0, 0 };

    switch (n->op) {
    case N_NUM: return mk(V_NUM, n->num);
    case N_BOOL: return mk(V_BOOL, n->num);
    case N_NULL: return v;
    case N_STR:
        v.t = V_STR;
        v.s = e->strings + n->str;
        v.len = n->len;
        return v;
    case N_COL: {
        size_t k = e->bind[n->a];
        const struct lake_field *fd = &f->fields[k];

        if (fd->data != NULL) {
            v.t = V_COL;
            v.s = fd->data;
            v.len = fd->len;
            if (f->cache != NULL) {
                v.num_state = check_numcache_get(f->cache, k, fd, &v.n) ? 1 : 2;
            }
        }
        return v;
    }
    case N_OR:
    case N_AND:
    case N_NOT: return eval_logic(e, n, f);
    case N_IN: return eval_in(e, n, f);
    case N_ADD:
    case N_SUB:
    case N_MUL:
    case N_DIV:
    case N_MOD:
    case N_NEG: return eval_arith(e, n, f);
    default: return eval_pred(e, n, f);
    }
}

int check_numcache_get(struct check_numcache *c, size_t field, const struct lake_field *f,
                       double *out)
{
    if (c->gen[field] != c->row) {
        c->gen[field] = c->row;
        c->ok[field] = (unsigned char)check_expr_number(f->data, f->len, &c->num[field]);
    }
    *out = c->num[field];
    return c->ok[field];
}

enum check_result check_expr_eval_cached(const struct check_expr *e,
                                         const struct lake_field *fields,
                                         struct check_numcache *cache)
{
    struct ectx x = { fields, cache };
    struct val v = eval(e, e->root, &x);

    switch (v.t) {
    case V_BOOL: return v.n ? CHECK_TRUE : CHECK_FALSE;
    case V_NULL: return CHECK_NULL;
    default: return CHECK_ERROR;
    }
}

enum check_result check_expr_eval(const struct check_expr *e, const struct lake_field *fields)
{
    return check_expr_eval_cached(e, fields, NULL);
}
