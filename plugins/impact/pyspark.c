/*
 * pyspark.c - what Spark and Glue calls mean for a job summary: reads
 * (spark.table, spark.read.*, glueContext.create_dynamic_frame.*), writes
 * (saveAsTable, insertInto, write.*, write_dynamic_frame.*, getSink),
 * DataFrame and DynamicFrame transformations (join, filter, select,
 * withColumn, groupBy, dropDuplicates, ApplyMapping, Join.apply, ...) and
 * temp views. Called by pysum.c for every method call and attribute.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "pysum_int.h"

int py_eq(const char *a, const char *b)
{
    return a && strcmp(a, b) == 0;
}

static int one_of(const char *m, const char *const *list)
{
    for (; *list; list++) {
        if (strcmp(m, *list) == 0) {
            return 1;
        }
    }
    return 0;
}

struct val *py_df(struct py *P, const char *label, const char *alias, int line)
{
    struct val *v = py_val(P, V_DF, line);

    v->df = pyarena_alloc(py_arena(P), sizeof(*v->df));
    if (!v->df) {
        return py_val(P, V_UNK, line);
    }
    v->df->label = label;
    v->df->alias = alias;
    return v;
}

static struct val *copy(struct py *P, const struct val *v)
{
    struct val *c = py_val(P, v->k, v->line);

    *c = *v;
    return c;
}

const char *py_str_of(struct val *v)
{
    return v && v->k == V_STR ? v->s : NULL;
}

/* Each argument evaluated once, for what it does (a read inside a call we
 * do not know still reads). */
void py_eval_args(struct py *P, const struct pn *call)
{
    for (int i = 0; call && i < call->nitems; i++) {
        if (call->items[i]) {
            py_eval(P, call->items[i]);
        }
    }
}

/* Positional arguments and list arguments flattened into one list. */
static struct val *flat_args(struct py *P, const struct pn *call, const char *kw)
{
    struct val *l = py_val(P, V_LIST, call ? call->line : 0);
    int cap = 16;

    l->items = pyarena_alloc(py_arena(P), (size_t)cap * sizeof(*l->items));
    for (int i = 0; l->items; i++) {
        struct val *a = py_arg(P, call, i, NULL);

        if (!a && i == 0 && kw) {
            a = py_arg(P, call, 1000, kw);
        }
        if (!a) {
            break;
        }
        for (int k = 0; k < (a->k == V_LIST ? a->n : 1) && l->n < cap; k++) {
            l->items[l->n++] = a->k == V_LIST ? a->items[k] : a;
        }
    }
    return l;
}

json_t *py_names_json(struct py *P, struct val *l)
{
    json_t *a = json_array();

    for (int i = 0; a && l && l->k == V_LIST && i < l->n; i++) {
        struct val *c = py_to_col(P, l->items[i], 1, l->line);

        json_array_append_new(a, isum_str(py_col_name(c)));
    }
    return a;
}

static json_t *refs_json(const struct val *c)
{
    json_t *a = json_array();

    for (int i = 0; a && c && c->k == V_COL && i < c->nrefs; i++) {
        json_array_append_new(a, isum_str(c->refs[i].name));
    }
    return a;
}

/* ---- filters and columns ---- */

static void add_trimmed(struct py *P, const char *s, size_t n, const char *table, int line)
{
    char *part;

    while (n > 0 && (*s == ' ' || *s == '\n' || *s == '\t')) {
        s++;
        n--;
    }
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\n' || s[n - 1] == '\t')) {
        n--;
    }
    if (n > 0 && (part = pyarena_strndup(py_arena(P), s, n)) != NULL) {
        isum_filter(py_sum(P), part, table, line);
    }
}

void py_add_filter(struct py *P, struct val *cond, const char *table, int line)
{
    int n;
    struct conj *c;

    if (!cond) {
        return;
    }
    if (cond->k == V_STR) { /* SQL text: split at top-level AND like the SQL summariser */
        const char *s = cond->s;
        int depth = 0, between = 0;
        size_t start = 0, i;

        for (i = 0; s[i]; i++) {
            depth += (s[i] == '(') - (s[i] == ')');
            if (depth == 0 && strncasecmp(s + i, "between ", 8) == 0) {
                between = 1;
            }
            if (depth == 0 && (i == 0 || s[i - 1] == ' ' || s[i - 1] == '\n') &&
                strncasecmp(s + i, "and", 3) == 0 && (s[i + 3] == ' ' || s[i + 3] == '\n')) {
                if (between) {
                    between = 0;
                    continue;
                }
                add_trimmed(P, s + start, i - start, table, line);
                start = i + 4;
            }
        }
        add_trimmed(P, s + start, i - start, table, line);
        return;
    }
    if (cond->k != V_COL) {
        isum_unresolved(py_sum(P), line,
                        "filter condition from an expression the summariser "
                        "cannot evaluate");
        return;
    }
    c = py_conjuncts(P, cond, &n);
    for (int i = 0; c && i < n; i++) {
        isum_filter(py_sum(P), c[i].text, table, line);
    }
}

void py_add_column(struct py *P, struct val *c, const char *op, const char *name, int line)
{
    if (!c) {
        return;
    }
    c = py_to_col(P, c, 1, line);
    if (!name) {
        name = py_col_name(c);
    }
    if (c->cast && c->nrefs == 1) {
        op = "cast";
    }
    else if (!strcmp(op, "select") && c->alias && c->b) {
        isum_column(py_sum(P), name, "alias", refs_json(c), NULL, NULL, c->refs[0].name, line);
        return;
    }
    isum_column(py_sum(P), name, op, refs_json(c), c->b && !c->alias ? NULL : c->s, c->cast, NULL,
                line);
}

/* ---- joins ---- */

static int on_side(const struct cref *r, const struct df *d)
{
    return r && d && (r->df == d || (r->qual && d->alias && strcmp(r->qual, d->alias) == 0));
}

static void join(struct py *P, struct val *left, struct val *right, struct val *on, struct val *how,
                 int line)
{
    json_t *lc = json_array(), *rc = json_array();
    const char *h = "inner";
    const struct df *ld = left && left->k == V_DF ? left->df : NULL;
    const struct df *rd = right && right->k == V_DF ? right->df : NULL;

    if (how && how->k == V_STR) {
        h = isum_how(how->s) ? isum_how(how->s) : "inner";
    }
    else if (how && how->k != V_NONE) {
        isum_unresolved(py_sum(P), line,
                        "join type from an expression the summariser cannot "
                        "evaluate");
    }
    if (!rd) {
        isum_unresolved(py_sum(P), line,
                        "the right side of this join is not a DataFrame the "
                        "summariser could follow");
    }
    if (on && (on->k == V_STR || on->k == V_LIST) &&
        (on->k == V_STR || (on->n > 0 && on->items[0]->k == V_STR))) {
        for (int i = 0; i < (on->k == V_LIST ? on->n : 1); i++) {
            const char *c = py_str_of(on->k == V_LIST ? on->items[i] : on);

            json_array_append_new(lc, isum_str(c ? c : "?"));
            json_array_append_new(rc, isum_str(c ? c : "?"));
        }
    }
    else if (on && (on->k == V_COL || on->k == V_LIST)) {
        for (int i = 0; i < (on->k == V_LIST ? on->n : 1); i++) {
            struct val *c = on->k == V_LIST ? on->items[i] : on;
            struct conj *cj;
            int n;

            if (c->k != V_COL || !(cj = py_conjuncts(P, c, &n))) {
                continue;
            }
            for (int k = 0; k < n; k++) {
                const struct cref *l = cj[k].l, *r = cj[k].r;

                if (!l) {
                    isum_filter(py_sum(P), cj[k].text, NULL, line);
                    continue;
                }
                if (on_side(l, rd) || on_side(r, ld)) {
                    const struct cref *t = l;

                    l = r;
                    r = t;
                }
                json_array_append_new(lc, isum_str(l->name));
                json_array_append_new(rc, isum_str(r->name));
            }
        }
    }
    else if (!on || on->k == V_NONE) {
        h = how && how->k == V_STR ? h : "cross";
    }
    else {
        isum_unresolved(py_sum(P), line,
                        "join keys from an expression the summariser cannot "
                        "evaluate");
    }
    isum_join(py_sum(P), ld ? ld->label : NULL, rd ? rd->label : NULL, lc, rc, h, line);
}

/* ---- calls by name ---- */

static const char *const col_functions[] = { "col",
                                             "column",
                                             "lit",
                                             "expr",
                                             "when",
                                             "sum",
                                             "avg",
                                             "mean",
                                             "min",
                                             "max",
                                             "count",
                                             "countDistinct",
                                             "count_distinct",
                                             "first",
                                             "last",
                                             "coalesce",
                                             "concat",
                                             "concat_ws",
                                             "upper",
                                             "lower",
                                             "trim",
                                             "ltrim",
                                             "rtrim",
                                             "length",
                                             "substring",
                                             "regexp_replace",
                                             "regexp_extract",
                                             "to_date",
                                             "to_timestamp",
                                             "date_format",
                                             "date_add",
                                             "date_sub",
                                             "datediff",
                                             "current_date",
                                             "current_timestamp",
                                             "year",
                                             "month",
                                             "dayofmonth",
                                             "hour",
                                             "round",
                                             "abs",
                                             "sha2",
                                             "md5",
                                             "split",
                                             "explode",
                                             "size",
                                             "isnull",
                                             "row_number",
                                             "rank",
                                             "dense_rank",
                                             "lag",
                                             "lead",
                                             "greatest",
                                             "least",
                                             "array",
                                             "struct",
                                             "collect_list",
                                             "collect_set",
                                             "approx_count_distinct",
                                             "floor",
                                             "ceil",
                                             "trunc",
                                             "date_trunc",
                                             "from_unixtime",
                                             "unix_timestamp",
                                             "months_between",
                                             "add_months",
                                             "last_day",
                                             "nvl",
                                             "ifnull",
                                             "initcap",
                                             "lpad",
                                             "rpad",
                                             "translate",
                                             "hash",
                                             "monotonically_increasing_id",
                                             "input_file_name",
                                             "stddev",
                                             "variance",
                                             "percentile_approx",
                                             "to_json",
                                             "from_json",
                                             "sha1",
                                             "xxhash64",
                                             "crc32",
                                             "bround",
                                             "dayofweek",
                                             "weekofyear",
                                             "quarter",
                                             NULL };

static struct val *window(struct py *P, struct val *w, const char *m, const struct pn *call,
                          int line)
{
    struct val *r = w ? copy(P, w) : py_val(P, V_WINDOW, line);

    r->k = V_WINDOW;
    if (py_eq(m, "partitionBy")) {
        struct val *keys = flat_args(P, call, "cols");
        json_t *j = py_names_json(P, keys);

        r->items = keys->items;
        r->n = keys->n;
        for (int i = 0; i < r->n; i++) {
            r->items[i] = py_str(P, py_col_name(py_to_col(P, r->items[i], 1, line)), line);
        }
        isum_grain(py_sum(P), "window", j, line);
    }
    return r;
}

static struct val *call_path(struct py *P, const char *path, const struct pn *call, int line)
{
    const char *last = strrchr(path, '.'), *prev = NULL;
    char cls[64] = "";

    if (last) {
        const char *p = last;

        while (p > path && p[-1] != '.') {
            p--;
        }
        snprintf(cls, sizeof(cls), "%.*s", (int)(last - p), p);
        prev = cls;
        last++;
    }
    else {
        last = path;
    }
    if (prev && (py_eq(last, "table") || py_eq(last, "read_table"))) {
        struct val *t = py_arg(P, call, 0, "tableName");

        return py_df(
            P,
            py_source(P, t ? t : py_arg(P, call, 1000, "tableName"), "table", "spark.table", line),
            NULL, line);
    }
    if (prev && py_eq(last, "sql") && !py_eq(prev, "F")) {
        return py_df(P, py_sql(P, py_arg(P, call, 0, "sqlQuery"), line), NULL, line);
    }
    if (((py_eq(prev, "create_dynamic_frame") || py_eq(prev, "create_data_frame")) &&
         strncmp(last, "from_", 5) == 0) ||
        strncmp(last, "create_dynamic_frame_from_", 26) == 0 ||
        strncmp(last, "create_data_frame_from_", 23) == 0) {
        return py_glue_read(P, last, call, line);
    }
    if ((py_eq(prev, "write_dynamic_frame") && strncmp(last, "from_", 5) == 0) ||
        strncmp(last, "write_dynamic_frame_from_", 25) == 0) {
        return py_glue_write(P, last, call, line);
    }
    if (py_eq(prev, "DeltaTable") && (py_eq(last, "forName") || py_eq(last, "forPath"))) {
        struct val *t = py_arg(P, call, 1, py_eq(last, "forName") ? "tableOrViewName" : "path");
        struct val *d = py_df(P, py_name_only(P, t, line), NULL, line);

        d->b = 1; /* a Delta table: merge() writes it */
        return d;
    }
    if (py_eq(last, "getSink")) {
        struct val *s = py_val(P, V_SINK, line);

        s->path = py_str_of(py_arg(P, call, 1000, "path"));
        return s;
    }
    if (py_eq(last, "fromDF")) {
        struct val *d = py_arg(P, call, 0, "dataframe");

        return d && d->k == V_DF ? d : py_val(P, V_UNK, line);
    }
    if (py_eq(last, "apply") && prev) {
        return py_glue_transform(P, prev, call, line);
    }
    if (py_eq(prev, "Window")) {
        return window(P, NULL, last, call, line);
    }
    if (py_eq(last, "getResolvedOptions")) {
        py_eval_args(P, call);
        return py_val(P, V_ARGS, line);
    }
    if (py_eq(last, "getenv")) {
        struct val *k = py_arg(P, call, 0, NULL), *v = py_val(P, V_UNRES, line);

        v->s = py_printf(P, "environment variable '%s'", py_str_of(k) ? k->s : "?");
        return v;
    }
    if (py_eq(last, "broadcast")) {
        return py_arg(P, call, 0, NULL) ?: py_val(P, V_UNK, line);
    }
    if ((prev && strcmp(path, "F.") > 0 && strncmp(path, "F.", 2) == 0 && !strchr(path + 2, '.')) ||
        (!prev && one_of(path, col_functions))) {
        return py_col_func(P, last, call, line);
    }
    py_eval_args(P, call);
    {
        struct val *v = py_val(P, V_NAME, line);

        v->s = path;
        return v;
    }
}

/* ---- readers, writers, sinks ---- */

static struct val *reader(struct py *P, struct val *r, const char *m, const struct pn *call,
                          int line)
{
    static const char *const fmts[] = { "csv",  "parquet", "json",     "orc", "text",
                                        "avro", "delta",   "textFile", NULL };
    struct val *n = r; /* DataFrameReader methods return the reader itself */

    if (py_eq(m, "format")) {
        n->fmt = py_str_of(py_arg(P, call, 0, NULL));
        return n;
    }
    if (py_eq(m, "option") || py_eq(m, "options")) {
        struct val *k = py_arg(P, call, 0, NULL), *v = py_arg(P, call, 1, NULL);

        if (py_eq(py_str_of(k), "path") && v) {
            n->path = py_str_of(v);
        }
        if ((py_eq(py_str_of(k), "dbtable") || py_eq(py_str_of(k), "query")) && v) {
            n->table = py_str_of(v);
        }
        if (py_eq(m, "options")) {
            n->path = py_str_of(py_arg(P, call, 1000, "path")) ?: n->path;
            n->table = py_str_of(py_arg(P, call, 1000, "dbtable")) ?: n->table;
        }
        return n;
    }
    if (py_eq(m, "schema")) {
        return n;
    }
    const char *via = py_printf(P, "spark.read.%s", m);
    if (py_eq(m, "table")) {
        return py_df(P, py_source(P, py_arg(P, call, 0, "tableName"), "table", via, line), NULL,
                     line);
    }
    if (py_eq(m, "jdbc")) {
        return py_df(P, py_source(P, py_arg(P, call, 1, "table"), "table", via, line), NULL, line);
    }
    if (py_eq(m, "load") || one_of(m, fmts)) {
        struct val *paths = py_arg(P, call, 1, NULL) ? flat_args(P, call, "path") : NULL;

        if (paths) { /* spark.read.parquet(p1, p2, ...) */
            return py_df(P, py_source(P, paths, "path", via, line), NULL, line);
        }
        struct val *p = py_arg(P, call, 0, "path");

        if (!p && n->path) {
            p = py_str(P, n->path, line);
        }
        if (!p && n->table) {
            return py_df(P, py_source(P, py_str(P, n->table, line), "table", via, line), NULL,
                         line);
        }
        if (!p) {
            isum_unresolved(py_sum(P), line, "the path this reader loads");
            return py_df(P, NULL, NULL, line);
        }
        return py_df(P, py_source(P, p, "path", via, line), NULL, line);
    }
    return n;
}

static const char *mode_of(struct py *P, const struct pn *call, const char *dflt)
{
    const char *m = py_str_of(py_arg(P, call, 1000, "mode"));

    return m ? m : dflt;
}

static struct val *writer(struct py *P, struct val *w, const char *m, const struct pn *call,
                          int line)
{
    static const char *const fmts[] = { "csv", "parquet", "json", "orc", "text", "avro", NULL };
    static const char *const v2[] = { "append", "overwrite",       "overwritePartitions",
                                      "create", "createOrReplace", "replace",
                                      NULL };
    struct val *n = w; /* so do the writer's */

    if (py_eq(m, "mode")) {
        n->mode = py_str_of(py_arg(P, call, 0, "saveMode"));
        return n;
    }
    if (py_eq(m, "format")) {
        n->fmt = py_str_of(py_arg(P, call, 0, NULL));
        return n;
    }
    if (py_eq(m, "option") || py_eq(m, "options")) {
        struct val *k = py_arg(P, call, 0, NULL), *v = py_arg(P, call, 1, NULL);

        if (py_eq(py_str_of(k), "path")) {
            n->path = py_str_of(v);
        }
        if (py_eq(py_str_of(k), "dbtable")) {
            n->table = py_str_of(v);
        }
        n->path = py_str_of(py_arg(P, call, 1000, "path")) ?: n->path;
        return n;
    }
    if (one_of(m, (const char *const[]){ "partitionBy", "bucketBy", "sortBy", "tableProperty",
                                         "using", "partitionedBy", NULL })) {
        py_eval_args(P, call);
        return n;
    }
    if (py_eq(m, "saveAsTable")) {
        py_target(P, py_arg(P, call, 0, "name"), "table", "saveAsTable", mode_of(P, call, w->mode),
                  line);
    }
    else if (py_eq(m, "insertInto")) {
        struct val *o = py_arg(P, call, 1, "overwrite");

        py_target(P, py_arg(P, call, 0, "tableName"), "table", "insertInto",
                  o && o->k == V_BOOL && o->b ? "overwrite"
                  : w->mode                   ? w->mode
                                              : "append",
                  line);
    }
    else if (py_eq(m, "save") || one_of(m, fmts)) {
        struct val *p = py_arg(P, call, 0, "path");

        if (!p && w->path) {
            p = py_str(P, w->path, line);
        }
        if (!p && w->table) {
            p = py_str(P, w->table, line);
        }
        if (p) {
            py_target(P, p, "path", py_printf(P, "write.%s", m), mode_of(P, call, w->mode), line);
        }
        else {
            isum_unresolved(py_sum(P), line, "the path this writer saves to");
        }
    }
    else if (py_eq(m, "jdbc")) {
        py_target(P, py_arg(P, call, 1, "table"), "table", "write.jdbc", mode_of(P, call, w->mode),
                  line);
    }
    else if (one_of(m, v2) && w->table) {
        py_target(P, py_str(P, w->table, line), "table", "writeTo", m, line);
    }
    return py_val(P, V_NONE, line);
}

static struct val *sink(struct py *P, struct val *s, const char *m, const struct pn *call, int line)
{
    struct val *n = s; /* and a Glue sink's */

    if (py_eq(m, "setCatalogInfo")) {
        struct val *t = py_catalog_name(P, py_arg(P, call, 0, "catalogDatabase"),
                                        py_arg(P, call, 1, "catalogTableName"), line);

        n->table = py_str_of(t);
        return n;
    }
    if (py_eq(m, "writeFrame")) {
        if (s->table || s->path) {
            py_target(P, py_str(P, s->table ? s->table : s->path, line),
                      s->table ? "table" : "path", "getSink.writeFrame", NULL, line);
        }
        else {
            isum_unresolved(py_sum(P), line, "the table or path of this Glue sink");
        }
        return py_arg(P, call, 0, "dynamic_frame") ?: py_val(P, V_UNK, line);
    }
    py_eval_args(P, call);
    return n;
}

/* ---- DataFrames ---- */

static struct val *grouped(struct py *P, struct val *g, const char *m, const struct pn *call,
                           int line)
{
    struct val *d = py_df(P, g->df ? g->df->label : NULL, NULL, line);

    if (py_eq(m, "agg")) {
        struct val *a = flat_args(P, call, NULL);

        if (a->n == 1 && a->items[0]->k == V_DICT) {
            struct val *dict = a->items[0];

            for (int i = 0; i + 1 < dict->n; i += 2) {
                if (py_str_of(dict->items[i]) && py_str_of(dict->items[i + 1])) {
                    json_t *s = json_array();

                    json_array_append_new(s, isum_str(dict->items[i]->s));
                    isum_column(py_sum(P),
                                py_printf(P, "%s(%s)", dict->items[i + 1]->s, dict->items[i]->s),
                                "select", s,
                                py_printf(P, "%s(%s)", dict->items[i + 1]->s, dict->items[i]->s),
                                NULL, NULL, line);
                }
            }
            return d;
        }
        for (int i = 0; i < a->n; i++) {
            py_add_column(P, a->items[i], "select", NULL, line);
        }
        return d;
    }
    if (py_eq(m, "pivot")) {
        py_eval_args(P, call);
        return g;
    }
    py_eval_args(P, call);
    return d;
}

static void df_columns(struct py *P, struct val *d, const char *m, const struct pn *call, int line)
{
    if (py_eq(m, "select") || py_eq(m, "drop")) {
        struct val *a = flat_args(P, call, NULL);

        for (int i = 0; i < a->n; i++) {
            py_add_column(P, a->items[i], py_eq(m, "drop") ? "drop" : "select", NULL, line);
        }
    }
    else if (py_eq(m, "selectExpr")) {
        struct val *a = flat_args(P, call, NULL);

        for (int i = 0; i < a->n; i++) {
            const char *e = py_str_of(a->items[i]), *as;

            if (!e) {
                continue;
            }
            as = strcasestr(e, " as ");
            isum_column(py_sum(P), as ? as + 4 : e, "select", NULL,
                        as ? pyarena_strndup(py_arena(P), e, (size_t)(as - e)) : e, NULL, NULL,
                        line);
        }
    }
    else if (py_eq(m, "withColumn")) {
        struct val *n = py_arg(P, call, 0, "colName"), *c = py_arg(P, call, 1, "col");

        if (py_str_of(n) && c) {
            py_add_column(P, py_to_col(P, c, 0, line), "with_column", n->s, line);
        }
    }
    else if (py_eq(m, "withColumns")) {
        struct val *dict = py_arg(P, call, 0, NULL);

        for (int i = 0; dict && dict->k == V_DICT && i + 1 < dict->n; i += 2) {
            if (py_str_of(dict->items[i])) {
                py_add_column(P, py_to_col(P, dict->items[i + 1], 0, line), "with_column",
                              dict->items[i]->s, line);
            }
        }
    }
    else if (py_eq(m, "withColumnRenamed") || py_eq(m, "rename_field")) {
        struct val *o = py_arg(P, call, 0, NULL), *n = py_arg(P, call, 1, NULL);

        if (py_str_of(o) && py_str_of(n)) {
            json_t *s = json_array();

            json_array_append_new(s, isum_str(o->s));
            isum_column(py_sum(P), n->s, "rename", s, NULL, NULL, o->s, line);
        }
    }
    (void)d;
}

static struct val *df_method(struct py *P, struct val *d, const char *m, const struct pn *call,
                             int line)
{
    static const char *const same[] = { "cache",
                                        "persist",
                                        "unpersist",
                                        "repartition",
                                        "repartitionByRange",
                                        "coalesce",
                                        "orderBy",
                                        "sort",
                                        "sortWithinPartitions",
                                        "limit",
                                        "sample",
                                        "fillna",
                                        "fill",
                                        "replace",
                                        "dropna",
                                        "distinct",
                                        "hint",
                                        "checkpoint",
                                        "localCheckpoint",
                                        "withWatermark",
                                        "toDF",
                                        "resolveChoice",
                                        "select",
                                        "selectExpr",
                                        "withColumn",
                                        "withColumns",
                                        "withColumnRenamed",
                                        "drop",
                                        "union",
                                        "unionAll",
                                        "unionByName",
                                        "intersect",
                                        "subtract",
                                        "exceptAll",
                                        "rename_field",
                                        "select_fields",
                                        "drop_fields",
                                        "apply_mapping",
                                        "na",
                                        "transform",
                                        NULL };
    const char *label = d->df ? d->df->label : NULL;

    if (py_eq(m, "merge") && d->b) {
        py_delta_merge(P, d, py_arg(P, call, 0, "source"), py_arg(P, call, 1, "condition"), line);
        return d;
    }
    if (d->b && (strncmp(m, "whenMatched", 11) == 0 || strncmp(m, "whenNotMatched", 14) == 0 ||
                 py_eq(m, "execute"))) {
        py_eval_args(P, call);
        return d;
    }
    if (py_eq(m, "join") || py_eq(m, "crossJoin")) {
        struct val *other = py_arg(P, call, 0, "other"), *on, *how;

        if (other && other->k == V_LIST) { /* DynamicFrame.join(paths1, paths2, frame2) */
            struct val *k2 = py_arg(P, call, 1, "paths2"), *f2 = py_arg(P, call, 2, "frame2");

            isum_join(py_sum(P), label, f2 && f2->k == V_DF ? f2->df->label : NULL,
                      py_names_json(P, other), py_names_json(P, k2), "inner", line);
            return py_df(P, label, NULL, line);
        }
        on = py_eq(m, "join") ? py_arg(P, call, 1, "on") : NULL;
        how = py_eq(m, "join") ? py_arg(P, call, 2, "how") : py_str(P, "cross", line);
        join(P, d, other, on, how, line);
        return py_df(P, label, NULL, line);
    }
    if (py_eq(m, "filter") || py_eq(m, "where")) {
        py_add_filter(P, py_arg(P, call, 0, "condition") ?: py_arg(P, call, 1000, "f"), label,
                      line);
        return d;
    }
    if (py_eq(m, "groupBy") || py_eq(m, "groupby") || py_eq(m, "rollup") || py_eq(m, "cube")) {
        struct val *g = py_val(P, V_GROUPED, line);
        struct val *keys = flat_args(P, call, "cols");

        g->df = d->df;
        if (keys->n) {
            isum_grain(py_sum(P), "group_by", py_names_json(P, keys), line);
        }
        return g;
    }
    if (py_eq(m, "agg")) {
        struct val g = *d;

        return grouped(P, &g, m, call, line);
    }
    if (py_eq(m, "dropDuplicates") || py_eq(m, "drop_duplicates")) {
        struct val *keys = flat_args(P, call, "subset");

        if (keys->n) {
            isum_grain(py_sum(P), "dedup", py_names_json(P, keys), line);
        }
        return d;
    }
    if (py_eq(m, "alias") || py_eq(m, "as")) {
        struct val *a = py_df(P, label, py_str_of(py_arg(P, call, 0, "alias")), line);

        a->b = d->b;
        return a;
    }
    if (one_of(m, (const char *const[]){ "createOrReplaceTempView", "createTempView",
                                         "registerTempTable", "createOrReplaceGlobalTempView",
                                         "createGlobalTempView", NULL })) {
        const char *v = py_str_of(py_arg(P, call, 0, "name"));

        if (v) {
            py_view(P, v, d->df);
        }
        return py_val(P, V_NONE, line);
    }
    if (py_eq(m, "writeTo")) {
        struct val *w = py_val(P, V_WRITER, line);

        w->df = d->df;
        w->table = py_str_of(py_arg(P, call, 0, "table"));
        return w;
    }
    if (py_eq(m, "transform")) {
        struct val *f = py_arg(P, call, 0, "func");

        return f && f->k == V_FUNC ? py_call_func(P, f->fn, NULL, d) : d;
    }
    if (py_eq(m, "filter") || py_eq(m, "apply_mapping")) {
        py_apply_mapping(P, py_arg(P, call, 0, "mappings"), line);
    }
    if (one_of(m, same)) {
        df_columns(P, d, m, call, line);
        if (py_eq(m, "apply_mapping")) {
            py_apply_mapping(P, py_arg(P, call, 0, "mappings"), line);
        }
        else if (py_eq(m, "select_fields") || py_eq(m, "drop_fields")) {
            struct val *p = py_arg(P, call, 0, "paths");

            for (int i = 0; p && p->k == V_LIST && i < p->n; i++) {
                py_add_column(P, p->items[i], py_eq(m, "drop_fields") ? "drop" : "select", NULL,
                              line);
            }
        }
        else if (!py_eq(m, "select") && !py_eq(m, "drop") && !py_eq(m, "selectExpr") &&
                 !py_eq(m, "withColumn") && !py_eq(m, "withColumns") &&
                 !py_eq(m, "withColumnRenamed") && !py_eq(m, "rename_field")) {
            py_eval_args(P, call);
        }
        return d;
    }
    py_eval_args(P, call);
    return py_val(P, V_UNK, line);
}

struct val *py_attr(struct py *P, struct val *obj, const char *name, int line)
{
    struct val *v;

    if (!name) {
        return py_val(P, V_UNK, line);
    }
    if (py_eq(name, "write") || py_eq(name, "writeStream")) {
        if (obj->k == V_DF || obj->k == V_UNK || obj->k == V_NAME) {
            v = py_val(P, V_WRITER, line);
            v->df = obj->k == V_DF ? obj->df : NULL;
            return v;
        }
    }
    if ((py_eq(name, "read") || py_eq(name, "readStream")) && obj->k != V_DF) {
        return py_val(P, V_READER, line);
    }
    if (obj->k == V_DF) {
        static const char *const not_cols[] = { "columns",      "schema",       "dtypes",
                                                "rdd",          "sparkSession", "sql_ctx",
                                                "storageLevel", "isStreaming",  NULL };

        if (py_eq(name, "na") || py_eq(name, "stat")) {
            return obj;
        }
        if (one_of(name, not_cols)) {
            return py_val(P, V_UNK, line);
        }
        v = py_to_col(P, py_str(P, name, line), 1, line);
        if (v->nrefs) {
            v->refs[0].df = obj->df;
        }
        return v;
    }
    if (obj->k == V_NAME || obj->k == V_UNK) { /* self.spark, an unknown object's member */
        v = py_val(P, V_NAME, line);
        v->s = py_printf(P, "%s.%s", obj->k == V_NAME ? obj->s : "?", name);
        return v;
    }
    return py_val(P, V_UNK, line);
}

struct val *py_method(struct py *P, struct val *obj, const char *m, const struct pn *call)
{
    int line = call ? call->line : obj->line;

    if (!m) {
        return call_path(P, obj->s ? obj->s : "?", call, line);
    }
    switch (obj->k) {
    case V_NAME: return call_path(P, py_printf(P, "%s.%s", obj->s, m), call, line);
    case V_DF: return df_method(P, obj, m, call, line);
    case V_READER: return reader(P, obj, m, call, line);
    case V_WRITER: return writer(P, obj, m, call, line);
    case V_SINK: return sink(P, obj, m, call, line);
    case V_GROUPED: return grouped(P, obj, m, call, line);
    case V_WINDOW: return window(P, obj, m, call, line);
    case V_COL: return py_col_method(P, obj, m, call);
    default: break;
    }
    if (py_eq(m, "saveAsTable") || py_eq(m, "insertInto")) { /* on something we lost track of */
        struct val w = { 0 };

        w.k = V_WRITER;
        return writer(P, &w, m, call, line);
    }
    py_eval_args(P, call);
    return py_val(P, V_UNK, line);
}
