/*
 * sqlsum.c - SQL job summaries. Each statement goes to the PostgreSQL parser
 * (libpg_query, PostgreSQL 15 grammar) after length-preserving rewrites of
 * Spark syntax, so parse-tree locations stay offsets of the script; the JSON
 * parse tree is walked with jansson. A statement the parser rejects is
 * reported in diagnostics and scanned for table names by sqlscan.c.
 * Expression text is the source slice from the first to the last location
 * in the node, widened to whole tokens and balanced brackets.
 */
#include <ctype.h>
#include <pg_query.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sqlscan.h"

#define MAX_DEPTH 128
#define MAX_SCOPE 64
#define MAX_NAME 512

struct scope_ent {
    char alias[128];
    char label[MAX_NAME]; /* table name, view's table, CTE or subquery alias */
};

struct scope {
    struct scope_ent v[MAX_SCOPE];
    int n;
    const struct scope *up;
};

struct sq {
    struct isum *s;
    const char *text;
    size_t len;
    struct sqltok *t;
    size_t nt;
    size_t stmt_end; /* token index bounding expression slices */
    int line0;
    json_t *views; /* temp views: lower-cased name -> the table behind it, or null */
    json_t *ctes;  /* object: lower-cased CTE names */
    size_t base;   /* offset of the parsed statement in text */
    int overwrite;
    char *first;
    size_t *nl; /* offsets of the newlines of text */
    size_t nnl;
};

static int line_of(void *arg, size_t off)
{
    const struct sq *q = arg;
    size_t lo = 0, hi = q->nnl;

    while (lo < hi) { /* newlines before off */
        size_t mid = lo + (hi - lo) / 2;

        if (q->nl[mid] < off) {
            lo = mid + 1;
        }
        else {
            hi = mid;
        }
    }
    return q->line0 + (int)lo;
}

static int loc_line(const struct sq *q, const json_t *node)
{
    json_int_t loc = json_integer_value(json_object_get(node, "location"));

    return line_of((void *)q, q->base + (size_t)(loc > 0 ? loc : 0));
}

static const char *sval(const json_t *n)
{
    return json_string_value(json_object_get(json_object_get(n, "String"), "sval"));
}

static void lower(char *s)
{
    for (; *s; s++) {
        *s = (char)tolower((unsigned char)*s);
    }
}

static void rangevar_name(const json_t *rv, char *buf)
{
    const char *c = json_string_value(json_object_get(rv, "catalogname"));
    const char *sc = json_string_value(json_object_get(rv, "schemaname"));
    const char *r = json_string_value(json_object_get(rv, "relname"));

    snprintf(buf, MAX_NAME, "%s%s%s%s%s", c ? c : "", c ? "." : "", sc ? sc : "", sc ? "." : "",
             r ? r : "?");
}

/* ---- expression text ---- */

static void loc_range(const json_t *n, long *lo, long *hi, int depth)
{
    const char *k;
    json_t *v;
    size_t i;

    if (depth > MAX_DEPTH) {
        return;
    }
    if (json_is_array(n)) {
        json_array_foreach(n, i, v) {
            loc_range(v, lo, hi, depth + 1);
        }
        return;
    }
    json_object_foreach((json_t *)n, k, v) {
        if (strcmp(k, "location") == 0 && json_is_integer(v) && json_integer_value(v) >= 0) {
            long l = (long)json_integer_value(v);

            *lo = *lo < 0 || l < *lo ? l : *lo;
            *hi = l > *hi ? l : *hi;
        }
        else if (json_is_object(v) || json_is_array(v)) {
            loc_range(v, lo, hi, depth + 1);
        }
    }
}

static int tok_is_op(const struct sq *q, size_t i, char c)
{
    return q->t[i].kind == SQLT_OP && q->text[q->t[i].off] == c;
}

/* Source text of node, whitespace collapsed, into buf. */
static const char *expr_text(const struct sq *q, const json_t *node, char *buf, size_t cap)
{
    long lo = -1, hi = -1;
    size_t a, k, o = 0;
    int paren = 0, cas = 0;

    buf[0] = '\0';
    loc_range(node, &lo, &hi, 0);
    if (lo < 0 || q->nt == 0) {
        return buf;
    }
    a = sqlscan_find(q->t, q->nt, q->base + (size_t)lo);
    k = sqlscan_find(q->t, q->nt, q->base + (size_t)hi);
    if (a >= q->stmt_end || k >= q->stmt_end) {
        return buf;
    }
    while (k + 2 < q->stmt_end && tok_is_op(q, k + 1, '.')) {
        k += 2; /* the location of a.b.c is that of a */
    }
    while (k + 1 < q->stmt_end &&
           (sqlscan_is(q->text, &q->t[k], "IS") || sqlscan_is(q->text, &q->t[k], "NOT"))) {
        k++;
    }
    for (size_t i = a; i <= k; i++) {
        paren += tok_is_op(q, i, '(') - tok_is_op(q, i, ')');
        cas += sqlscan_is(q->text, &q->t[i], "CASE") - sqlscan_is(q->text, &q->t[i], "END");
    }
    while ((paren > 0 || cas > 0) && k + 1 < q->stmt_end) {
        k++;
        paren += tok_is_op(q, k, '(') - tok_is_op(q, k, ')');
        cas += sqlscan_is(q->text, &q->t[k], "CASE") - sqlscan_is(q->text, &q->t[k], "END");
    }
    for (size_t i = q->t[a].off; i < q->t[k].off + q->t[k].len && o + 1 < cap; i++) {
        char c = q->text[i];

        if (isspace((unsigned char)c)) {
            if (o > 0 && buf[o - 1] != ' ') {
                buf[o++] = ' ';
            }
            continue;
        }
        buf[o++] = c;
    }
    buf[o] = '\0';
    return buf;
}

/* ---- columns referenced by an expression ---- */

/* Appends name (and its qualifier into quals, "" when none) once. */
static void col_refs(const json_t *n, json_t *names, json_t *quals, int depth)
{
    const char *k;
    json_t *v;
    size_t i;

    if (depth > MAX_DEPTH || !n) {
        return;
    }
    if (json_is_array(n)) {
        json_array_foreach(n, i, v) {
            col_refs(v, names, quals, depth + 1);
        }
        return;
    }
    json_object_foreach((json_t *)n, k, v) {
        if (strcmp(k, "SubLink") == 0) {
            continue; /* another scope */
        }
        if (strcmp(k, "ColumnRef") == 0) {
            json_t *f = json_object_get(v, "fields");
            size_t nf = json_array_size(f);
            const char *name = nf ? sval(json_array_get(f, nf - 1)) : NULL;
            const char *qual = nf > 1 ? sval(json_array_get(f, nf - 2)) : "";
            int seen = 0;
            json_t *x;
            size_t j;

            if (!name) {
                name = "*";
            }
            json_array_foreach(names, j, x) {
                seen |= strcmp(json_string_value(x), name) == 0 &&
                        strcmp(json_string_value(json_array_get(quals, j)), qual ? qual : "") == 0;
            }
            if (!seen) {
                json_array_append_new(names, isum_str(name));
                json_array_append_new(quals, isum_str(qual ? qual : ""));
            }
        }
        else if (json_is_object(v) || json_is_array(v)) {
            col_refs(v, names, quals, depth + 1);
        }
    }
}

static const char *scope_lookup(const struct scope *sc, const char *qual)
{
    for (; sc; sc = sc->up) {
        for (int i = 0; i < sc->n; i++) {
            if (strcasecmp(sc->v[i].alias, qual) == 0) {
                return sc->v[i].label;
            }
        }
    }
    return NULL;
}

/* The table an expression reads: the one its qualifiers name, else the
 * only table in scope, else NULL. */
static const char *expr_table(const struct scope *sc, const json_t *node)
{
    json_t *names = json_array(), *quals = json_array(), *x;
    const char *table = NULL, *q0 = NULL;
    size_t i;
    int mixed = 0;

    col_refs(node, names, quals, 0);
    json_array_foreach(quals, i, x) {
        const char *qq = json_string_value(x);

        if (!q0) {
            q0 = qq;
        }
        mixed |= strcasecmp(q0, qq) != 0;
    }
    if (q0 && *q0 && !mixed) {
        table = scope_lookup(sc, q0);
    }
    else if (!mixed && sc->n == 1) {
        table = sc->v[0].label;
    }
    json_decref(names);
    json_decref(quals);
    return table;
}

static json_t *names_of(const json_t *node)
{
    json_t *names = json_array(), *quals = json_array();

    col_refs(node, names, quals, 0);
    json_decref(quals);
    return names;
}

/* ---- walking ---- */

static void stmt_walk(struct sq *q, const json_t *node, int depth);
static void select_walk(struct sq *q, const json_t *sel, int top, const struct scope *up,
                        int depth);

/* WHERE a.x = b.y between two tables of the FROM list: an implicit join,
 * collected per pair of tables. */
#define MAX_IMPLICIT 16

struct implicit {
    struct {
        const char *l, *r; /* labels, borrowed from the scope */
        json_t *lc, *rc;
        int line;
    } v[MAX_IMPLICIT];
    int n;
};

static const char *local_label(const struct scope *sc, const char *qual)
{
    for (int i = 0; qual && i < sc->n; i++) {
        if (strcasecmp(sc->v[i].alias, qual) == 0) {
            return sc->v[i].label;
        }
    }
    return NULL;
}

static int implicit_join(struct sq *q, const struct scope *sc, const json_t *expr,
                         struct implicit *im)
{
    const json_t *a = json_object_get(expr, "A_Expr"), *x, *y;
    json_t *fx, *fy;
    const char *lx, *ly;
    size_t nx, ny;
    int k;
    long lo = -1, hi = -1;

    if (!im || sc->n < 2 || !a ||
        strcmp(sval(json_array_get(json_object_get(a, "name"), 0)) ?: "", "=") != 0 ||
        !(x = json_object_get(json_object_get(a, "lexpr"), "ColumnRef")) ||
        !(y = json_object_get(json_object_get(a, "rexpr"), "ColumnRef"))) {
        return 0;
    }
    fx = json_object_get(x, "fields");
    fy = json_object_get(y, "fields");
    nx = json_array_size(fx);
    ny = json_array_size(fy);
    /* the qualifier is the part before the column: t.c, or s.t.c */
    lx = nx >= 2 ? local_label(sc, sval(json_array_get(fx, nx - 2))) : NULL;
    ly = ny >= 2 ? local_label(sc, sval(json_array_get(fy, ny - 2))) : NULL;
    if (!lx || !ly || lx == ly || !sval(json_array_get(fx, nx - 1)) ||
        !sval(json_array_get(fy, ny - 1))) {
        return 0;
    }
    if (lx > ly) { /* FROM order decides left and right */
        const char *t = lx;
        json_t *f = fx;

        lx = ly;
        ly = t;
        fx = fy;
        fy = f;
    }
    for (k = 0; k < im->n && !(im->v[k].l == lx && im->v[k].r == ly); k++) {
    }
    if (k == MAX_IMPLICIT) {
        return 0;
    }
    if (k == im->n) {
        loc_range(expr, &lo, &hi, 0);
        im->v[k].l = lx;
        im->v[k].r = ly;
        im->v[k].lc = json_array();
        im->v[k].rc = json_array();
        im->v[k].line = line_of(q, q->base + (size_t)(lo > 0 ? lo : 0));
        im->n++;
    }
    json_array_append_new(im->v[k].lc, isum_str(sval(json_array_get(fx, json_array_size(fx) - 1))));
    json_array_append_new(im->v[k].rc, isum_str(sval(json_array_get(fy, json_array_size(fy) - 1))));
    return 1;
}

static void implicit_emit(struct sq *q, struct implicit *im)
{
    for (int k = 0; k < im->n; k++) {
        isum_join(q->s, im->v[k].l, im->v[k].r, im->v[k].lc, im->v[k].rc, "inner", im->v[k].line);
    }
    im->n = 0;
}

static void add_filters_im(struct sq *q, const struct scope *sc, const json_t *expr,
                           struct implicit *im)
{
    char buf[2048];
    const json_t *b = json_object_get(expr, "BoolExpr");

    if (b && strcmp(json_string_value(json_object_get(b, "boolop")) ?: "", "AND_EXPR") == 0) {
        size_t i;
        json_t *a;

        json_array_foreach(json_object_get(b, "args"), i, a) {
            add_filters_im(q, sc, a, im);
        }
        return;
    }
    if (implicit_join(q, sc, expr, im)) {
        return;
    }
    expr_text(q, expr, buf, sizeof(buf));
    if (buf[0]) {
        long lo = -1, hi = -1;

        loc_range(expr, &lo, &hi, 0);
        isum_filter(q->s, buf, expr_table(sc, expr),
                    line_of(q, q->base + (size_t)(lo > 0 ? lo : 0)));
    }
}

static void add_filters(struct sq *q, const struct scope *sc, const json_t *expr)
{
    add_filters_im(q, sc, expr, NULL);
}

/* Copies src into dst[cap], cut short if need be (names are bounded). */
static void copy_name(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);

    n = n < cap ? n : cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static void scope_add(struct scope *sc, const char *alias, const char *label)
{
    if (sc->n < MAX_SCOPE) {
        copy_name(sc->v[sc->n].alias, sizeof(sc->v[0].alias), alias);
        copy_name(sc->v[sc->n].label, sizeof(sc->v[0].label), label);
        sc->n++;
    }
}

static void range_var(struct sq *q, struct scope *sc, const json_t *rv, const char *via)
{
    char name[MAX_NAME], key[MAX_NAME];
    const char *alias =
        json_string_value(json_object_get(json_object_get(rv, "alias"), "aliasname"));
    const char *rel = json_string_value(json_object_get(rv, "relname"));
    const char *label = name;
    const json_t *view;

    rangevar_name(rv, name);
    snprintf(key, sizeof(key), "%s", name);
    lower(key);
    if (json_object_get(q->ctes, key)) {
        label = name;
    }
    else if (q->views && (view = json_object_get(q->views, key)) != NULL) {
        label = json_is_string(view) ? json_string_value(view) : name;
    }
    else {
        isum_source(q->s, name, "table", via, loc_line(q, rv));
    }
    if (!q->first) {
        q->first = impact_host->malloc(strlen(label) + 1);
        if (q->first) {
            memcpy(q->first, label, strlen(label) + 1);
        }
    }
    scope_add(sc, alias ? alias : rel ? rel : name, label);
}

static void from_item(struct sq *q, struct scope *sc, const json_t *item, const char *via,
                      int depth);

/* Label and alias of the right-most table of a from item. */
static const char *item_label(const struct scope *sc, int from, int to, const char **alias)
{
    *alias = to > from ? sc->v[to - 1].alias : "";
    return to > from ? sc->v[to - 1].label : NULL;
}

static const char *join_how(const char *jt, int has_cond)
{
    if (!jt || strcmp(jt, "JOIN_INNER") == 0) {
        return has_cond ? "inner" : "cross";
    }
    if (strcmp(jt, "JOIN_LEFT") == 0) {
        return "left";
    }
    if (strcmp(jt, "JOIN_RIGHT") == 0) {
        return "right";
    }
    if (strcmp(jt, "JOIN_FULL") == 0) {
        return "full";
    }
    if (strcmp(jt, "JOIN_SEMI") == 0) {
        return "semi";
    }
    return strcmp(jt, "JOIN_ANTI") == 0 ? "anti" : "inner";
}

static const json_t *colref_of(const json_t *e)
{
    return json_object_get(e, "ColumnRef");
}

/* Splits join conditions into key pairs and (other conjuncts) filters. */
static void join_conds(struct sq *q, const struct scope *sc, const json_t *e, const char *ralias,
                       json_t *l, json_t *r, const char **ltable, int depth)
{
    const json_t *b = json_object_get(e, "BoolExpr"), *a = json_object_get(e, "A_Expr");
    const json_t *x, *y;

    if (depth > MAX_DEPTH) {
        return;
    }
    if (b && strcmp(json_string_value(json_object_get(b, "boolop")) ?: "", "AND_EXPR") == 0) {
        size_t i;
        json_t *arg;

        json_array_foreach(json_object_get(b, "args"), i, arg) {
            join_conds(q, sc, arg, ralias, l, r, ltable, depth + 1);
        }
        return;
    }
    x = a ? colref_of(json_object_get(a, "lexpr")) : NULL;
    y = a ? colref_of(json_object_get(a, "rexpr")) : NULL;
    if (x && y && strcmp(sval(json_array_get(json_object_get(a, "name"), 0)) ?: "", "=") == 0) {
        json_t *fx = json_object_get(x, "fields"), *fy = json_object_get(y, "fields");
        size_t nx = json_array_size(fx), ny = json_array_size(fy);
        const char *qx = nx > 1 ? sval(json_array_get(fx, nx - 2)) : "";
        const char *qy = ny > 1 ? sval(json_array_get(fy, ny - 2)) : "";
        const char *cx = sval(json_array_get(fx, nx - 1)), *cy = sval(json_array_get(fy, ny - 1));

        if (cx && cy) {
            if (qx && strcasecmp(qx, ralias) == 0) {
                const char *t = cx;

                cx = cy;
                cy = t;
                qx = qy;
            }
            json_array_append_new(l, isum_str(cx));
            json_array_append_new(r, isum_str(cy));
            if (!*ltable && qx && *qx) {
                *ltable = scope_lookup(sc, qx);
            }
            return;
        }
    }
    add_filters(q, sc, e);
}

static void join_expr(struct sq *q, struct scope *sc, const json_t *je, int depth)
{
    int l0 = sc->n, l1, r1;
    const char *lalias, *ralias, *ltable = NULL, *rtable;
    const json_t *quals = json_object_get(je, "quals");
    const json_t *using = json_object_get(je, "usingClause");
    json_t *lc = json_array(), *rc = json_array(), *u;
    size_t i;
    long lo = -1, hi = -1;

    from_item(q, sc, json_object_get(je, "larg"), "FROM", depth + 1);
    l1 = sc->n;
    from_item(q, sc, json_object_get(je, "rarg"), "JOIN", depth + 1);
    r1 = sc->n;
    rtable = item_label(sc, l1, r1, &ralias);
    json_array_foreach(using, i, u) {
        json_array_append_new(lc, isum_str(sval(u) ?: "?"));
        json_array_append_new(rc, isum_str(sval(u) ?: "?"));
    }
    if (quals) {
        join_conds(q, sc, quals, ralias, lc, rc, &ltable, 0);
    }
    if (!ltable) {
        ltable = l1 > l0 ? sc->v[l0].label : NULL;
    }
    (void)lalias;
    loc_range(json_object_get(je, "rarg"), &lo, &hi, 0);
    isum_join(
        q->s, ltable, rtable, lc, rc,
        join_how(json_string_value(json_object_get(je, "jointype")),
                 quals || json_array_size(using) || json_is_true(json_object_get(je, "isNatural"))),
        line_of(q, q->base + (size_t)(lo > 0 ? lo : 0)));
}

static void from_item(struct sq *q, struct scope *sc, const json_t *item, const char *via,
                      int depth)
{
    const json_t *v;

    if (depth > MAX_DEPTH || !item) {
        return;
    }
    if ((v = json_object_get(item, "RangeVar")) != NULL) {
        range_var(q, sc, v, via);
    }
    else if ((v = json_object_get(item, "JoinExpr")) != NULL) {
        join_expr(q, sc, v, depth);
    }
    else if ((v = json_object_get(item, "RangeSubselect")) != NULL) {
        const char *alias =
            json_string_value(json_object_get(json_object_get(v, "alias"), "aliasname"));

        select_walk(q, json_object_get(json_object_get(v, "subquery"), "SelectStmt"), 0, sc,
                    depth + 1);
        scope_add(sc, alias ? alias : "", alias ? alias : "(subquery)");
    }
}

/* Finds sub-selects and window partitions anywhere in an expression tree. */
static void expr_scan(struct sq *q, const json_t *n, const struct scope *sc, int depth)
{
    const char *k;
    json_t *v;
    size_t i;

    if (depth > MAX_DEPTH) {
        return;
    }
    if (json_is_array(n)) {
        json_array_foreach(n, i, v) {
            expr_scan(q, v, sc, depth + 1);
        }
        return;
    }
    json_object_foreach((json_t *)n, k, v) {
        if (strcmp(k, "SubLink") == 0) {
            select_walk(q, json_object_get(json_object_get(v, "subselect"), "SelectStmt"), 0, sc,
                        depth + 1);
            continue;
        }
        if (strcmp(k, "partitionClause") == 0 && json_array_size(v)) {
            json_t *keys = json_array(), *p;
            char buf[512];
            size_t j;

            json_array_foreach(v, j, p) {
                const json_t *c = colref_of(p);
                json_t *f = c ? json_object_get(c, "fields") : NULL;
                const char *name = f ? sval(json_array_get(f, json_array_size(f) - 1)) : NULL;

                json_array_append_new(keys,
                                      isum_str(name ? name : expr_text(q, p, buf, sizeof(buf))));
            }
            long lo = -1, hi = -1;

            loc_range(v, &lo, &hi, 0);
            isum_grain(q->s, "window", keys, line_of(q, q->base + (size_t)(lo > 0 ? lo : 0)));
        }
        if (json_is_object(v) || json_is_array(v)) {
            expr_scan(q, v, sc, depth + 1);
        }
    }
}

/* The output name of a select-list item: its alias, else its column. */
static const char *target_name(const struct sq *q, const json_t *rt, char *buf, size_t cap)
{
    const char *name = json_string_value(json_object_get(rt, "name"));
    const json_t *val = json_object_get(rt, "val"), *c = colref_of(val);

    if (name) {
        return name;
    }
    if (c) {
        json_t *f = json_object_get(c, "fields");
        const char *last = sval(json_array_get(f, json_array_size(f) - 1));

        return last ? last : "*";
    }
    return expr_text(q, val, buf, cap);
}

static void group_by(struct sq *q, const json_t *sel)
{
    const json_t *g = json_object_get(sel, "groupClause"), *tl = json_object_get(sel, "targetList");
    json_t *keys = json_array(), *item;
    char buf[1024];
    size_t i;
    long lo = -1, hi = -1;

    json_array_foreach(g, i, item) {
        const json_t *c = json_object_get(item, "A_Const");
        json_int_t ord = json_integer_value(json_object_get(json_object_get(c, "ival"), "ival"));
        const json_t *rt;

        if (c && ord >= 1 &&
            (rt = json_object_get(json_array_get(tl, (size_t)ord - 1), "ResTarget")) != NULL) {
            json_array_append_new(keys, isum_str(target_name(q, rt, buf, sizeof(buf))));
        }
        else if (colref_of(item)) {
            json_t *f = json_object_get(colref_of(item), "fields");

            json_array_append_new(keys,
                                  isum_str(sval(json_array_get(f, json_array_size(f) - 1)) ?: "*"));
        }
        else {
            json_array_append_new(keys, isum_str(expr_text(q, item, buf, sizeof(buf))));
        }
    }
    loc_range(g, &lo, &hi, 0);
    if (json_array_size(keys)) {
        isum_grain(q->s, "group_by", keys, line_of(q, q->base + (size_t)(lo > 0 ? lo : 0)));
    }
    else {
        json_decref(keys);
    }
}

static void select_columns(struct sq *q, const json_t *sel)
{
    json_t *item;
    size_t i;
    char nbuf[512], ebuf[2048];

    json_array_foreach(json_object_get(sel, "targetList"), i, item) {
        const json_t *rt = json_object_get(item, "ResTarget"), *val = json_object_get(rt, "val");
        const json_t *cast = json_object_get(val, "TypeCast");
        const char *name = target_name(q, rt, nbuf, sizeof(nbuf));
        const char *op = "select", *expr = NULL, *from = NULL;
        char tbuf[256];
        const char *type = NULL;

        if (!rt) {
            continue;
        }
        if (colref_of(val)) {
            json_t *f = json_object_get(colref_of(val), "fields");
            const char *col = sval(json_array_get(f, json_array_size(f) - 1));

            if (col && strcmp(col, name) != 0) {
                op = "alias";
                from = col;
            }
        }
        else if (cast && colref_of(json_object_get(cast, "arg"))) {
            op = "cast";
            type = expr_text(q, json_object_get(cast, "typeName"), tbuf, sizeof(tbuf));
            expr = expr_text(q, val, ebuf, sizeof(ebuf));
        }
        else {
            expr = expr_text(q, val, ebuf, sizeof(ebuf));
        }
        isum_column(q->s, name, op, names_of(val), expr, type, from, loc_line(q, rt));
    }
}

static void with_clause(struct sq *q, const json_t *w, int depth)
{
    json_t *item;
    size_t i;

    json_array_foreach(json_object_get(w, "ctes"), i, item) {
        const json_t *cte = json_object_get(item, "CommonTableExpr");
        const char *name = json_string_value(json_object_get(cte, "ctename"));
        char key[MAX_NAME];

        snprintf(key, sizeof(key), "%s", name ? name : "");
        lower(key);
        json_object_set_new(q->ctes, key, json_true());
        if (json_object_get(json_object_get(cte, "ctequery"), "SelectStmt")) {
            select_walk(q, json_object_get(json_object_get(cte, "ctequery"), "SelectStmt"), 0, NULL,
                        depth + 1); /* its select list is not the output's */
        }
        else {
            stmt_walk(q, json_object_get(cte, "ctequery"), depth + 1);
        }
    }
}

static void select_walk(struct sq *q, const json_t *sel, int top, const struct scope *up, int depth)
{
    struct scope *sc;
    const json_t *w = json_object_get(sel, "withClause"), *op = json_object_get(sel, "op");
    json_t *item;
    size_t i;

    if (!sel || depth > MAX_DEPTH || !(sc = impact_host->malloc(sizeof(*sc)))) {
        return;
    }
    sc->n = 0;
    sc->up = up;
    with_clause(q, w, depth);
    if (op && strcmp(json_string_value(op) ?: "", "SETOP_NONE") != 0) {
        select_walk(q,
                    json_object_get(json_object_get(sel, "larg"), "SelectStmt")
                        ? json_object_get(json_object_get(sel, "larg"), "SelectStmt")
                        : json_object_get(sel, "larg"),
                    top, up, depth + 1);
        select_walk(q,
                    json_object_get(json_object_get(sel, "rarg"), "SelectStmt")
                        ? json_object_get(json_object_get(sel, "rarg"), "SelectStmt")
                        : json_object_get(sel, "rarg"),
                    0, up, depth + 1);
        impact_host->free(sc);
        return;
    }
    json_array_foreach(json_object_get(sel, "fromClause"), i, item) {
        from_item(q, sc, item, "FROM", depth + 1);
    }
    if (json_object_get(sel, "whereClause")) {
        struct implicit *im = impact_host->malloc(sizeof(*im));

        if (im) {
            im->n = 0;
        }
        add_filters_im(q, sc, json_object_get(sel, "whereClause"), im);
        if (im) {
            implicit_emit(q, im);
        }
        impact_host->free(im);
    }
    if (json_object_get(sel, "havingClause")) {
        add_filters(q, sc, json_object_get(sel, "havingClause"));
    }
    expr_scan(q, json_object_get(sel, "targetList"), sc, depth + 1);
    group_by(q, sel);
    expr_scan(q, json_object_get(sel, "whereClause"), sc, depth + 1);
    expr_scan(q, json_object_get(sel, "havingClause"), sc, depth + 1);
    expr_scan(q, json_object_get(sel, "windowClause"), sc, depth + 1);
    if (top) {
        select_columns(q, sel);
    }
    impact_host->free(sc);
}

static void target_rel(struct sq *q, const json_t *rv, const char *via, const char *mode)
{
    char name[MAX_NAME];

    if (rv) {
        rangevar_name(rv, name);
        isum_target(q->s, name, "table", via, mode, loc_line(q, rv));
    }
}

static void merge_stmt(struct sq *q, const json_t *m, int depth)
{
    struct scope *sc = impact_host->malloc(sizeof(*sc));
    const json_t *rel = json_object_get(m, "relation");
    const char *alias =
        json_string_value(json_object_get(json_object_get(rel, "alias"), "aliasname"));
    const char *ralias, *ltable = NULL, *rtable;
    json_t *lc = json_array(), *rc = json_array();
    char name[MAX_NAME];

    if (!sc) {
        json_decref(lc);
        json_decref(rc);
        return;
    }
    sc->n = 0;
    sc->up = NULL;
    rangevar_name(rel, name);
    target_rel(q, rel, "MERGE", "merge");
    scope_add(sc, alias ? alias : json_string_value(json_object_get(rel, "relname")) ?: "", name);
    from_item(q, sc, json_object_get(m, "sourceRelation"), "USING", depth + 1);
    rtable = item_label(sc, 1, sc->n, &ralias);
    join_conds(q, sc, json_object_get(m, "joinCondition"), ralias, lc, rc, &ltable, 0);
    isum_grain(q->s, "merge_key", json_deep_copy(lc), loc_line(q, rel));
    isum_join(q->s, name, rtable, lc, rc, "inner", loc_line(q, rel));
    impact_host->free(sc);
}

/* CREATE TEMPORARY VIEW: not an output; later statements (and later
 * spark.sql calls, through views) read the tables behind it. */
static void temp_view(struct sq *q, const json_t *rv, const json_t *query, int depth)
{
    char name[MAX_NAME];
    char *saved = q->first;

    rangevar_name(rv, name);
    lower(name);
    q->first = NULL;
    stmt_walk(q, query, depth + 1);
    json_object_set_new(q->views, name, q->first ? isum_str(q->first) : json_null());
    impact_host->free(q->first);
    q->first = saved;
}

/* UPDATE t SET ... FROM s WHERE t.k = s.k, DELETE FROM t USING s WHERE ...:
 * t is written, s read, and the equalities join them. */
static void update_delete(struct sq *q, const json_t *v, int update, int depth)
{
    struct scope *sc = impact_host->malloc(sizeof(*sc));
    struct implicit *im = impact_host->malloc(sizeof(*im));
    const json_t *rel = json_object_get(v, "relation"), *item;
    const char *alias =
        json_string_value(json_object_get(json_object_get(rel, "alias"), "aliasname"));
    const char *relname = json_string_value(json_object_get(rel, "relname"));
    char name[MAX_NAME];
    size_t i;

    if (!sc || !im) {
        q->s->oom = 1;
        goto done;
    }
    sc->n = 0;
    sc->up = NULL;
    im->n = 0;
    rangevar_name(rel, name);
    target_rel(q, rel, update ? "UPDATE" : "DELETE", NULL);
    scope_add(sc, alias ? alias : relname ? relname : name, name);
    json_array_foreach(json_object_get(v, update ? "fromClause" : "usingClause"), i, item) {
        from_item(q, sc, item, update ? "FROM" : "USING", depth + 1);
    }
    if (json_object_get(v, "whereClause")) {
        add_filters_im(q, sc, json_object_get(v, "whereClause"), im);
        expr_scan(q, json_object_get(v, "whereClause"), sc, depth + 1);
    }
    implicit_emit(q, im);
done:
    impact_host->free(sc);
    impact_host->free(im);
}

static void stmt_walk(struct sq *q, const json_t *node, int depth)
{
    const json_t *v;

    if (depth > MAX_DEPTH || !node) {
        return;
    }
    if (!json_object_get(node, "SelectStmt") && json_is_object(node) &&
        json_object_size(node) == 1) {
        with_clause(
            q,
            json_object_get(json_object_iter_value(json_object_iter((json_t *)node)), "withClause"),
            depth);
    }
    if ((v = json_object_get(node, "SelectStmt")) != NULL) {
        select_walk(q, v, 1, NULL, depth + 1);
    }
    else if ((v = json_object_get(node, "InsertStmt")) != NULL) {
        target_rel(q, json_object_get(v, "relation"),
                   q->overwrite ? "INSERT OVERWRITE" : "INSERT INTO",
                   q->overwrite ? "overwrite" : "append");
        stmt_walk(q, json_object_get(v, "selectStmt"), depth + 1);
    }
    else if ((v = json_object_get(node, "CreateTableAsStmt")) != NULL) {
        int mv =
            strcmp(json_string_value(json_object_get(v, "objtype")) ?: "", "OBJECT_MATVIEW") == 0;

        target_rel(q, json_object_get(json_object_get(v, "into"), "rel"),
                   mv ? "CREATE MATERIALIZED VIEW" : "CREATE TABLE AS", "overwrite");
        stmt_walk(q, json_object_get(v, "query"), depth + 1);
    }
    else if ((v = json_object_get(node, "ViewStmt")) != NULL) {
        const json_t *rv = json_object_get(v, "view");

        if (strcmp(json_string_value(json_object_get(rv, "relpersistence")) ?: "", "t") == 0) {
            temp_view(q, rv, json_object_get(v, "query"), depth);
        }
        else {
            target_rel(q, rv, "CREATE VIEW", "overwrite");
            stmt_walk(q, json_object_get(v, "query"), depth + 1);
        }
    }
    else if ((v = json_object_get(node, "MergeStmt")) != NULL) {
        merge_stmt(q, v, depth);
    }
    else if ((v = json_object_get(node, "UpdateStmt")) != NULL ||
             (v = json_object_get(node, "DeleteStmt")) != NULL) {
        update_delete(q, v, json_object_get(node, "UpdateStmt") != NULL, depth);
    }
}

/* ---- statements ---- */

static void statement(struct sq *q, size_t a, size_t b)
{
    size_t off0 = q->t[a].off, off1 = q->t[b - 1].off + q->t[b - 1].len;
    char *buf = impact_host->malloc(off1 - off0 + 1);
    PgQueryParseResult r;
    json_t *tree = NULL, *st;
    size_t i;

    if (!buf) {
        q->s->oom = 1;
        return;
    }
    memcpy(buf, q->text + off0, off1 - off0);
    buf[off1 - off0] = '\0';
    q->overwrite = sqlscan_rewrite(q->text, q->t, a, b, buf, off0, q->s, line_of, q);
    r = pg_query_parse(buf);
    if (r.error) {
        size_t at = off0 + (r.error->cursorpos > 0 ? (size_t)r.error->cursorpos - 1 : 0);

        isum_diag(q->s, line_of(q, at < off1 ? at : off1 - 1),
                  "the PostgreSQL parser rejected this statement (%s); its tables were taken "
                  "from a token scan",
                  r.error->message ? r.error->message : "syntax error");
        sqlscan_fallback(q->s, q->text, q->t, a, b, line_of, q);
    }
    else if ((tree = json_loads(r.parse_tree, 0, NULL)) == NULL) {
        isum_diag(q->s, line_of(q, off0), "statement too deeply nested to summarise");
    }
    else {
        q->base = off0;
        q->stmt_end = b;
        json_array_foreach(json_object_get(tree, "stmts"), i, st) {
            stmt_walk(q, json_object_get(st, "stmt"), 0);
        }
    }
    json_decref(tree);
    pg_query_free_parse_result(r);
    impact_host->free(buf);
}

static int newlines(struct sq *q)
{
    size_t n = 0;
    const char *p = q->text, *end = q->text + q->len;

    while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        n++;
        p++;
    }
    if (!(q->nl = impact_host->malloc((n + 1) * sizeof(size_t)))) {
        return WEIR_ENOMEM;
    }
    for (p = q->text; p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++) {
        q->nl[q->nnl++] = (size_t)(p - q->text);
    }
    return WEIR_OK;
}

void impact_sql_summarize(struct isum *s, const char *text, size_t len, int line0, json_t *views,
                          char **first_table)
{
    struct sq q;
    size_t a = 0;
    json_t *own_views = views ? NULL : json_object();

    if (first_table) {
        *first_table = NULL;
    }
    memset(&q, 0, sizeof(q));
    q.s = s;
    q.text = text;
    q.len = len;
    q.line0 = line0;
    q.views = views ? views : own_views;
    if (!q.views || !(q.ctes = json_object()) || newlines(&q) < 0 ||
        sqlscan_run(text, len, &q.t, &q.nt) < 0) {
        s->oom = 1;
        goto done;
    }
    for (size_t i = 0; i <= q.nt; i++) {
        if (i == q.nt || tok_is_op(&q, i, ';')) {
            if (i > a) {
                json_object_clear(q.ctes);
                statement(&q, a, i);
            }
            a = i + 1;
        }
    }
done:
    if (first_table) {
        *first_table = q.first;
    }
    else {
        impact_host->free(q.first);
    }
    impact_host->free(q.t);
    impact_host->free(q.nl);
    json_decref(q.ctes);
    json_decref(own_views);
}
