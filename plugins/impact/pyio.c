/*
 * pyio.c - what the PySpark summariser records: sources and targets from
 * the names a script computes (or unresolved entries saying where an
 * unknown name came from), and spark.sql() text handed to the SQL
 * summariser with the script's temp views.
 */
#include <string.h>

#include "pysum_int.h"

static const char *kind_of(const char *name, const char *kind)
{
    return strstr(name, "://") || name[0] == '/' ? "path" : kind;
}

static const char *name_note(struct py *P, struct val *v, const char *kind, int line,
                             const char *what)
{
    if (v->k == V_STR) {
        return v->s;
    }
    if (v->k == V_UNRES) {
        isum_unresolved(py_sum(P), line, "%s name (%s) from %s", kind, what, v->s);
    }
    else {
        isum_unresolved(py_sum(P), line,
                        "%s name (%s) from an expression the summariser cannot "
                        "evaluate",
                        kind, what);
    }
    return NULL;
}

const char *py_source(struct py *P, struct val *v, const char *kind, const char *via, int line)
{
    const char *first = NULL, *name;

    if (!v) {
        return NULL;
    }
    if (v->k == V_LIST) {
        for (int i = 0; i < v->n; i++) {
            const char *n = py_source(P, v->items[i], kind, via, line);

            first = first ? first : n;
        }
        return first;
    }
    if ((name = name_note(P, v, kind, line, via)) != NULL) {
        isum_source(py_sum(P), name, kind_of(name, kind), via, line);
    }
    return name;
}

const char *py_target(struct py *P, struct val *v, const char *kind, const char *via,
                      const char *mode, int line)
{
    const char *name;

    if (!v) {
        return NULL;
    }
    if ((name = name_note(P, v, kind, line, via)) != NULL) {
        isum_target(py_sum(P), name, kind_of(name, kind), via, mode, line);
    }
    return name;
}

/* Sources and targets the SQL summariser found in a string with unknown
 * pieces name the placeholder: they become unresolved entries instead. */
static void drop_placeholders(struct py *P, json_t *arr, size_t from, const char *why)
{
    for (size_t i = from; i < json_array_size(arr);) {
        json_t *e = json_array_get(arr, i);
        const char *name = json_string_value(json_object_get(e, "name"));

        if (name && strstr(name, "__unresolved__")) {
            isum_unresolved(py_sum(P), (int)json_integer_value(json_object_get(e, "line")),
                            "table name in spark.sql text from %s", why);
            json_array_remove(arr, i);
            continue;
        }
        i++;
    }
}

/* In filter text a value the summariser could not compute reads "?". */
static void mark_placeholders(json_t *arr, size_t from)
{
    for (size_t i = from; i < json_array_size(arr); i++) {
        json_t *e = json_array_get(arr, i);
        const char *x = json_string_value(json_object_get(e, "expr"));
        char buf[4096];
        size_t o = 0;

        if (!x || !strstr(x, "__unresolved__")) {
            continue;
        }
        while (*x && o + 1 < sizeof(buf)) {
            if (strncmp(x, "__unresolved__", 14) == 0) {
                buf[o++] = '?';
                x += 14;
            }
            else {
                buf[o++] = *x++;
            }
        }
        buf[o] = '\0';
        json_object_set_new(e, "expr", isum_str(buf));
    }
}

/* Temp views the SQL created become views of the script. */
static void register_views(struct py *P, json_t *views, int line)
{
    json_t *known = py_views(P), *v;
    const char *k;

    json_object_foreach(views, k, v) {
        if (known && !json_object_get(known, k)) {
            py_view(
                P, py_strdup(P, k),
                py_df(P, json_is_string(v) ? py_strdup(P, json_string_value(v)) : NULL, NULL, line)
                    ->df);
        }
    }
    json_decref(known);
}

const char *py_sql(struct py *P, struct val *q, int line)
{
    json_t *views;
    char *first = NULL;
    const char *text, *label = NULL;
    size_t ns = json_array_size(py_sum(P)->sources), nt = json_array_size(py_sum(P)->targets);
    size_t nf = json_array_size(py_sum(P)->filter_details);

    if (!q || (q->k != V_STR && !(q->k == V_UNRES && q->path))) {
        isum_unresolved(py_sum(P), line,
                        "spark.sql text from an expression the summariser cannot "
                        "evaluate");
        return NULL;
    }
    text = q->k == V_STR ? q->s : q->path;
    views = py_views(P);
    impact_sql_summarize(py_sum(P), text, strlen(text), q->line ? q->line : line, views, &first);
    if (q->k == V_UNRES) {
        drop_placeholders(P, py_sum(P)->sources, ns, q->s);
        drop_placeholders(P, py_sum(P)->targets, nt, q->s);
        mark_placeholders(py_sum(P)->filter_details, nf);
    }
    if (first) {
        label = strstr(first, "__unresolved__") ? NULL : py_strdup(P, first);
        impact_host->free(first);
    }
    register_views(P, views, line);
    json_decref(views);
    return label;
}
