/*
 * pyglue.c - AWS Glue and Delta Lake calls for the PySpark summariser:
 * create_dynamic_frame.from_catalog / from_options (and the *_from_*
 * spellings, keyword or positional), write_dynamic_frame.*, the
 * transforms (ApplyMapping, Join, Filter, SelectFields, DropFields,
 * RenameField, others passed through) and DeltaTable.merge.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "pysum_int.h"

/* ---- Glue ---- */

static struct val *dict_get(struct val *d, const char *key)
{
    for (int i = 0; d && d->k == V_DICT && i + 1 < d->n; i += 2) {
        if (py_eq(py_str_of(d->items[i]), key)) {
            return d->items[i + 1];
        }
    }
    return NULL;
}

struct val *py_catalog_name(struct py *P, struct val *db, struct val *tb, int line)
{
    struct val *v;

    if (db && tb && db->k == V_STR && tb->k == V_STR) {
        return py_str(P, py_printf(P, "%s.%s", db->s, tb->s), line);
    }
    v = py_val(P, V_UNRES, line);
    v->s = (db && db->k == V_UNRES)   ? db->s
           : (tb && tb->k == V_UNRES) ? tb->s
                                      : "a database or table name the summariser cannot evaluate";
    return v;
}

struct val *py_glue_read(struct py *P, const char *last, const struct pn *call, int line)
{
    struct val *pd = py_arg(P, call, 1000, "push_down_predicate");
    const char *label;

    if (strstr(last, "catalog")) {
        struct val *db = py_arg(P, call, 0, "database"), *tb = py_arg(P, call, 1, "table_name");

        if (!db) {
            db = py_arg(P, call, 1000, "database");
        }
        if (!tb) {
            tb = py_arg(P, call, 1000, "table_name");
        }
        label = py_source(P, py_catalog_name(P, db, tb, line), "table",
                          "create_dynamic_frame.from_catalog", line);
    }
    else {
        struct val *o = py_arg(P, call, 1, "connection_options");
        struct val *p = dict_get(o, "paths") ? dict_get(o, "paths") : dict_get(o, "path");

        if (!p) {
            p = dict_get(o, "dbtable");
        }
        label = p ? py_source(P, p, dict_get(o, "dbtable") == p ? "table" : "path",
                              "create_dynamic_frame.from_options", line)
                  : NULL;
        if (!p) {
            isum_unresolved(py_sum(P), line, "the paths of create_dynamic_frame.from_options");
        }
    }
    if (pd && pd->k == V_STR) {
        py_add_filter(P, pd, label, line);
    }
    return py_df(P, label, NULL, line);
}

struct val *py_glue_write(struct py *P, const char *last, const struct pn *call, int line)
{
    struct val *frame = py_arg(P, call, 1000, "frame");

    if (!frame) {
        frame = py_arg(P, call, 0, NULL);
    }
    if (strstr(last, "catalog")) {
        struct val *db = py_arg(P, call, 1, "database"), *tb = py_arg(P, call, 2, "table_name");

        py_target(P, py_catalog_name(P, db, tb, line), "table", "write_dynamic_frame.from_catalog",
                  NULL, line);
    }
    else {
        struct val *o = py_arg(P, call, 2, "connection_options");
        struct val *p = dict_get(o, "path") ? dict_get(o, "path") : dict_get(o, "dbtable");

        if (p) {
            py_target(P, p, dict_get(o, "dbtable") == p ? "table" : "path",
                      py_printf(P, "write_dynamic_frame.%s", last), NULL, line);
        }
        else {
            isum_unresolved(py_sum(P), line, "the path of write_dynamic_frame.from_options");
        }
    }
    return frame ? frame : py_val(P, V_UNK, line);
}

static struct val *frame_arg(struct py *P, const struct pn *call, int pos)
{
    struct val *f = py_arg(P, call, 1000, "frame");

    return f ? f : py_arg(P, call, pos, NULL);
}

void py_apply_mapping(struct py *P, struct val *maps, int line)
{
    for (int i = 0; maps && maps->k == V_LIST && i < maps->n; i++) {
        struct val *m = maps->items[i];
        const char *src, *st, *dst, *dt;

        if (m->k != V_LIST || m->n < 4) {
            continue;
        }
        src = py_str_of(m->items[0]);
        st = py_str_of(m->items[1]);
        dst = py_str_of(m->items[2]);
        dt = py_str_of(m->items[3]);
        if (!src || !dst) {
            continue;
        }
        json_t *s = json_array();

        json_array_append_new(s, isum_str(src));
        isum_column(py_sum(P), dst,
                    strcmp(src, dst)                   ? "rename"
                    : (st && dt && strcasecmp(st, dt)) ? "cast"
                                                       : "select",
                    s, NULL, st && dt && strcasecmp(st, dt) ? dt : NULL,
                    strcmp(src, dst) ? src : NULL, line);
    }
}

struct val *py_glue_transform(struct py *P, const char *cls, const struct pn *call, int line)
{
    struct val *f = frame_arg(P, call, 0);
    const char *label = f && f->k == V_DF ? f->df->label : NULL;

    if (py_eq(cls, "Join")) {
        struct val *f1 = py_arg(P, call, 0, "frame1"), *f2 = py_arg(P, call, 1, "frame2");
        struct val *k1 = py_arg(P, call, 2, "keys1"), *k2 = py_arg(P, call, 3, "keys2");
        json_t *l = py_names_json(P, k1 && k1->k == V_STR ? NULL : k1),
               *r = py_names_json(P, k2 && k2->k == V_STR ? NULL : k2);

        if (!f1) {
            f1 = py_arg(P, call, 1000, "frame1");
        }
        if (!f2) {
            f2 = py_arg(P, call, 1000, "frame2");
        }
        if (k1 && k1->k == V_STR) {
            json_array_append_new(l, isum_str(k1->s));
        }
        if (k2 && k2->k == V_STR) {
            json_array_append_new(r, isum_str(k2->s));
        }
        isum_join(py_sum(P), f1 && f1->k == V_DF ? f1->df->label : NULL,
                  f2 && f2->k == V_DF ? f2->df->label : NULL, l, r, "inner", line);
        return f1 && f1->k == V_DF ? py_df(P, f1->df->label, NULL, line) : py_val(P, V_UNK, line);
    }
    if (py_eq(cls, "ApplyMapping")) {
        py_apply_mapping(P, py_arg(P, call, 1, "mappings") ?: py_arg(P, call, 1000, "mappings"),
                         line);
    }
    else if (py_eq(cls, "Filter")) {
        py_add_filter(P, py_arg(P, call, 1, "f") ?: py_arg(P, call, 1000, "f"), label, line);
    }
    else if (py_eq(cls, "SelectFields") || py_eq(cls, "DropFields")) {
        struct val *p = py_arg(P, call, 1, "paths") ?: py_arg(P, call, 1000, "paths");

        for (int i = 0; p && p->k == V_LIST && i < p->n; i++) {
            py_add_column(P, p->items[i], py_eq(cls, "DropFields") ? "drop" : "select", NULL, line);
        }
    }
    else if (py_eq(cls, "RenameField")) {
        struct val *o = py_arg(P, call, 1, "old_name") ?: py_arg(P, call, 1000, "old_name");
        struct val *n = py_arg(P, call, 2, "new_name") ?: py_arg(P, call, 1000, "new_name");

        if (py_str_of(o) && py_str_of(n)) {
            json_t *s = json_array();

            json_array_append_new(s, isum_str(o->s));
            isum_column(py_sum(P), n->s, "rename", s, NULL, NULL, o->s, line);
        }
    }
    return f && f->k == V_DF ? f : py_val(P, V_UNK, line);
}

/* ---- Delta Lake ---- */

/* A table or path name without recording it as a source. */
const char *py_name_only(struct py *P, struct val *v, int line)
{
    if (v && v->k == V_STR) {
        return v->s;
    }
    isum_unresolved(py_sum(P), line, "Delta table name from %s",
                    v && v->k == V_UNRES ? v->s : "an expression the summariser cannot evaluate");
    return NULL;
}

/* DeltaTable.merge(source, "t.id = s.id AND ..."): the table is written,
 * the equalities are the join (and merge) keys. */
void py_delta_merge(struct py *P, struct val *d, struct val *src, struct val *cond, int line)
{
    const char *target = d->df ? d->df->label : NULL;
    json_t *l = json_array(), *r = json_array(), *keys;
    const char *c = py_str_of(cond);

    if (target) {
        isum_target(py_sum(P), target, strstr(target, "://") || target[0] == '/' ? "path" : "table",
                    "DeltaTable.merge", "merge", line);
    }
    for (const char *p = c; p && *p;) {
        const char *and = strcasestr(p, " and "), *end = and? and : p + strlen(p);
        const char *eqs = memchr(p, '=', (size_t)(end - p));

        if (eqs && eqs > p && eqs[-1] != '<' && eqs[-1] != '>' && eqs[-1] != '!') {
            const char *ld = memchr(p, '.', (size_t)(eqs - p)),
                       *rd = memchr(eqs, '.', (size_t)(end - eqs));
            const char *ls = ld ? ld + 1 : p, *rs = rd ? rd + 1 : eqs + 1;
            size_t ln = (size_t)(eqs - ls), rn = (size_t)(end - rs);

            while (ln && ls[ln - 1] == ' ') {
                ln--;
            }
            while (rn && rs[rn - 1] == ' ') {
                rn--;
            }
            while (*ls == ' ' && ln) {
                ls++;
                ln--;
            }
            while (*rs == ' ' && rn) {
                rs++;
                rn--;
            }
            json_array_append_new(l, isum_str(pyarena_strndup(py_arena(P), ls, ln)));
            json_array_append_new(r, isum_str(pyarena_strndup(py_arena(P), rs, rn)));
        }
        else if (end > p) {
            isum_filter(py_sum(P), pyarena_strndup(py_arena(P), p, (size_t)(end - p)), NULL, line);
        }
        p = and? and+5 : end;
    }
    keys = json_deep_copy(l);
    isum_grain(py_sum(P), "merge_key", keys, line);
    isum_join(py_sum(P), target, src && src->k == V_DF ? src->df->label : NULL, l, r, "inner",
              line);
}
