/*
 * pysum_int.h - private to pysum.c (statements, names, strings) and
 * pyspark.c (what Spark and Glue calls mean): the symbolic values a
 * PySpark script is evaluated to.
 */
#ifndef WEIR_IMPACT_PYSUM_INT_H
#define WEIR_IMPACT_PYSUM_INT_H

#include "impact_sum_int.h"
#include "pyast.h"

enum vk {
    V_UNK, /* not known (s: what it came from, or NULL) */
    V_NONE,
    V_STR,     /* s: the string; line: where it was written */
    V_NUM,     /* s: as written */
    V_BOOL,    /* b */
    V_LIST,    /* items */
    V_DICT,    /* items: key, value, ... */
    V_DF,      /* df */
    V_READER,  /* spark.read...: fmt, path, table (dbtable option) */
    V_WRITER,  /* df.write...: df, mode, fmt, path, table */
    V_SINK,    /* glueContext.getSink(...): path, table */
    V_GROUPED, /* df.groupBy(...): df */
    V_WINDOW,  /* Window spec: items = partition keys (V_STR) */
    V_COL,     /* a Column expression: s = SQL-like text */
    V_NAME,    /* a module, class or object we only know by its dotted path s */
    V_FUNC,    /* a def of the script: fn */
    V_ARGS,    /* getResolvedOptions(...) */
    V_UNRES    /* a string we cannot compute: s says why ("job argument 'x'") */
};

struct df {
    const char *label; /* the table or path it was read from (joins: the left one) */
    const char *alias;
};

struct cref {
    const char *name;
    const struct df *df; /* df.col / df["col"] */
    const char *qual;    /* col("a.col") */
};

/* One conjunct of a Column condition; l/r set when it is col == col. */
struct conj {
    const char *text;
    struct cref *l, *r;
};

struct pyfunc;

struct val {
    enum vk k;
    int line;
    int b;
    int prec; /* V_COL: binding strength of the text's top operator (9 = atom) */
    const char *s;
    struct df *df;
    struct val **items;
    int n;
    struct cref *refs;
    int nrefs;
    struct conj *conj;
    int nconj;
    const char *alias, *cast; /* V_COL */
    const char *mode, *fmt, *path, *table;
    struct pyfunc *fn;
};

struct py; /* the evaluator (pysum.c) */

/* pysum.c */
struct val *py_val(struct py *P, enum vk k, int line);
struct val *py_str(struct py *P, const char *s, int line);
char *py_strdup(struct py *P, const char *s);
char *py_printf(struct py *P, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
struct val *py_eval(struct py *P, const struct pn *n);
struct val *py_arg(struct py *P, const struct pn *call, int pos, const char *kw);
struct val *py_call_func(struct py *P, struct pyfunc *fn, const struct pn *call, struct val *self);
struct isum *py_sum(struct py *P);
struct pyarena *py_arena(struct py *P);
/* Records a source read: v a string (or list of them); anything else is
 * reported as unresolved. Returns the name recorded first, or NULL. */
const char *py_source(struct py *P, struct val *v, const char *kind, const char *via, int line);
const char *py_target(struct py *P, struct val *v, const char *kind, const char *via,
                      const char *mode, int line);
/* Runs the SQL summariser on a spark.sql() string; returns its first table. */
const char *py_sql(struct py *P, struct val *q, int line);
void py_view(struct py *P, const char *name, struct df *df);
json_t *py_views(struct py *P);

/* f-string nesting guard: py_enter is 0 when too deep (call py_leave anyway) */
int py_enter(struct py *P);
void py_leave(struct py *P);

/* pystr.c */
struct val *py_fstring(struct py *P, const struct pn *n);
struct val *py_str_method(struct py *P, struct val *str, const char *m, const struct pn *call);
struct val *py_concat(struct py *P, struct val *a, struct val *b, int line);
int py_is_strish(const struct val *v);

/* pyspark.c helpers shared with pyglue.c */
int py_eq(const char *a, const char *b); /* a may be NULL */
const char *py_str_of(struct val *v);    /* the string of a V_STR, else NULL */
struct val *py_df(struct py *P, const char *label, const char *alias, int line);
void py_eval_args(struct py *P, const struct pn *call);
void py_add_filter(struct py *P, struct val *cond, const char *table, int line);
void py_add_column(struct py *P, struct val *c, const char *op, const char *name, int line);
json_t *py_names_json(struct py *P, struct val *l);

/* pyglue.c */
struct val *py_glue_read(struct py *P, const char *last, const struct pn *call, int line);
struct val *py_glue_write(struct py *P, const char *last, const struct pn *call, int line);
struct val *py_glue_transform(struct py *P, const char *cls, const struct pn *call, int line);
void py_apply_mapping(struct py *P, struct val *maps, int line);
struct val *py_catalog_name(struct py *P, struct val *db, struct val *tb, int line);
const char *py_name_only(struct py *P, struct val *v, int line);
void py_delta_merge(struct py *P, struct val *d, struct val *src, struct val *cond, int line);

/* pyspark.c */
/* A call of method `m` on value `obj` (NULL for a plain function named by
 * obj->s when obj is V_NAME). */
struct val *py_method(struct py *P, struct val *obj, const char *m, const struct pn *call);
struct val *py_attr(struct py *P, struct val *obj, const char *name, int line);
struct val *py_col_binop(struct py *P, const char *op, struct val *a, struct val *b, int line);
struct val *py_col_not(struct py *P, struct val *a, int line);
/* A value as Column text (strings as column names when as_name, else literals). */
struct val *py_to_col(struct py *P, struct val *v, int as_name, int line);
struct val *py_col_func(struct py *P, const char *name, const struct pn *call, int line);
struct val *py_col_method(struct py *P, struct val *c, const char *m, const struct pn *call);
/* The conjuncts of a condition (at least one); n receives their count. */
struct conj *py_conjuncts(struct py *P, struct val *c, int *n);
/* Output name of a column value (alias, else the text). */
const char *py_col_name(const struct val *c);

#endif
