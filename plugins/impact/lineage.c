/*
 * lineage.c - the table graph of a directory of job scripts: inputs -> job
 * -> outputs, plus column edges where a summary says where a column comes
 * from; as JSON, DOT or Mermaid; and the tables downstream of a table.
 */
#include "impact_diff_int.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_SCRIPT (8u << 20)
#define MAX_DEPTH 16

static const char *str(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static int has(const json_t *arr, const char *s)
{
    size_t i;
    json_t *v;

    json_array_foreach(arr, i, v) {
        if (json_is_string(v) && !strcmp(json_string_value(v), s)) {
            return 1;
        }
    }
    return 0;
}

static void push_unique(json_t *arr, const char *s)
{
    if (s && *s && !has(arr, s)) {
        json_array_append_new(arr, json_string(s));
    }
}

json_t *impact_lineage_new(void)
{
    return json_pack("{s:[],s:[],s:[],s:[]}", "jobs", "nodes", "edges", "column_edges");
}

static void add_node(json_t *graph, const char *id, const char *kind, const char *name)
{
    json_t *nodes = json_object_get(graph, "nodes"), *n;
    size_t i;

    json_array_foreach(nodes, i, n) {
        if (!strcmp(str(n, "id"), id)) {
            return;
        }
    }
    json_array_append_new(nodes, json_pack("{s:s,s:s,s:s}", "id", id, "kind", kind, "name", name));
}

/* Every name a job mentions: what a downstream check needs to tell whether
 * the job reads a column. */
static json_t *mentions(const json_t *sum)
{
    json_t *out = json_array(), *v, *w;
    size_t i, k;

    json_array_foreach(json_object_get(sum, "columns"), i, v) {
        push_unique(out, str(v, "name"));
        push_unique(out, str(v, "from"));
        push_unique(out, str(v, "expr"));
        json_array_foreach(json_object_get(v, "sources"), k, w) {
            push_unique(out, json_string_value(w));
        }
    }
    json_array_foreach(json_object_get(sum, "filters"), i, v) {
        push_unique(out, json_string_value(v));
    }
    json_array_foreach(json_object_get(sum, "join_keys"), i, v) {
        json_array_foreach(json_object_get(v, "columns"), k, w) {
            push_unique(out, json_string_value(w));
        }
    }
    json_array_foreach(json_object_get(sum, "grain"), i, v) {
        push_unique(out, json_string_value(v));
    }
    return out;
}

static json_t *outputs_of(const json_t *sum)
{
    json_t *out = json_array(), *t;
    size_t i;

    json_array_foreach(json_object_get(sum, "targets"), i, t) {
        push_unique(out, str(t, "name"));
    }
    push_unique(out, str(sum, "output"));
    return out;
}

/* One edge per output column and job: a later entry for the same name (the
 * final select after an intermediate one) replaces the earlier. */
static void column_edges(json_t *graph, const json_t *sum, const json_t *outputs, const char *path,
                         const json_t *inputs)
{
    const char *table = json_string_value(json_array_get(outputs, 0));
    json_t *edges = json_object_get(graph, "column_edges"), *c, *e;
    size_t i, k, first = json_array_size(edges);

    if (!table) {
        return;
    }
    json_array_foreach(json_object_get(sum, "columns"), i, c) {
        json_t *src = json_object_get(c, "sources");

        if (!str(c, "name") || !json_array_size(src) ||
            (str(c, "op") && !strcmp(str(c, "op"), "drop"))) {
            continue;
        }
        e = json_pack("{s:s,s:s,s:O,s:s,s:O?}", "table", table, "column", str(c, "name"), "sources",
                      src, "job", path, "inputs", json_object_get(sum, "inputs"));
        for (k = first; e && k < json_array_size(edges); k++) {
            if (!strcmp(str(json_array_get(edges, k), "column"), str(c, "name"))) {
                json_array_set_new(edges, k, e);
                e = NULL;
            }
        }
        if (e) {
            json_array_append_new(edges, e);
        }
    }
}

int impact_lineage_add(json_t *graph, const char *path, const json_t *sum)
{
    json_t *outputs = outputs_of(sum), *job, *v;
    const char *name = str(sum, "job_name") ? str(sum, "job_name") : path;
    char jid[4200], tid[4200];
    size_t i;

    json_t *inputs = json_array();

    json_array_foreach(json_object_get(sum, "inputs"), i, v) {
        push_unique(inputs, json_string_value(v)); /* names only: skips odd entries */
    }
    job = json_pack("{s:s,s:s,s:s?,s:o,s:O,s:o}", "path", path, "job", name, "language",
                    str(sum, "language"), "inputs", inputs, "outputs", outputs, "mentions",
                    mentions(sum));
    if (!job || json_array_append_new(json_object_get(graph, "jobs"), job) < 0) {
        json_decref(outputs);
        return impact_host->error_set(WEIR_ENOMEM, "impact.lineage: out of memory");
    }
    snprintf(jid, sizeof(jid), "job:%s", path);
    add_node(graph, jid, "job", name);
    json_array_foreach(json_object_get(job, "inputs"), i, v) {
        snprintf(tid, sizeof(tid), "table:%s", json_string_value(v));
        add_node(graph, tid, "table", json_string_value(v));
        json_array_append_new(json_object_get(graph, "edges"),
                              json_pack("{s:s,s:s}", "from", tid, "to", jid));
    }
    json_array_foreach(outputs, i, v) {
        snprintf(tid, sizeof(tid), "table:%s", json_string_value(v));
        add_node(graph, tid, "table", json_string_value(v));
        json_array_append_new(json_object_get(graph, "edges"),
                              json_pack("{s:s,s:s}", "from", jid, "to", tid));
    }
    column_edges(graph, sum, outputs, path, json_object_get(job, "inputs"));
    json_decref(outputs);
    return WEIR_OK;
}

/* ---- scanning a directory ---- */

static int is_job(const char *name)
{
    size_t n = strlen(name);

    return (n > 3 && !strcmp(name + n - 3, ".py")) || (n > 4 && !strcmp(name + n - 4, ".sql"));
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Folders of installed code, not jobs: a repository's whole work tree is
 * the default jobs directory. */
static int skipped_dir(const char *name)
{
    static const char *const skip[] = { "node_modules", "venv", "__pycache__", "site-packages" };

    for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++) {
        if (!strcmp(name, skip[i])) {
            return 1;
        }
    }
    return 0;
}

/* Relative paths of the job scripts under root/rel, appended to list. */
static int collect(const char *root, const char *rel, json_t *list, int depth)
{
    char dir[4096], sub[4096];
    struct dirent *e;
    struct stat st;
    DIR *d;

    if (snprintf(dir, sizeof(dir), "%s%s%s", root, *rel ? "/" : "", rel) >= (int)sizeof(dir)) {
        return depth ? WEIR_OK
                     : impact_host->error_set(WEIR_EINVALID,
                                              "impact.lineage: jobs directory path too long");
    }
    if (depth > MAX_DEPTH || (d = opendir(dir)) == NULL) {
        return depth ? WEIR_OK
                     : impact_host->error_set(WEIR_ENOTFOUND,
                                              "impact.lineage: cannot open the jobs directory '%s'",
                                              root);
    }
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || skipped_dir(e->d_name)) {
            continue; /* ., .., .git, hidden files, installed packages */
        }
        if (snprintf(sub, sizeof(sub), "%s%s%s", rel, *rel ? "/" : "", e->d_name) >=
                (int)sizeof(sub) ||
            snprintf(dir + strlen(root), sizeof(dir) - strlen(root), "/%s", sub) >=
                (int)(sizeof(dir) - strlen(root))) {
            continue; /* a path longer than any file system takes */
        }
        /* symlinked folders are not followed (no loops); symlinked files are */
        if (lstat(dir, &st) != 0) {
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            collect(root, sub, list, depth + 1);
        }
        else if ((S_ISREG(st.st_mode) ||
                  (S_ISLNK(st.st_mode) && stat(dir, &st) == 0 && S_ISREG(st.st_mode))) &&
                 is_job(e->d_name)) {
            json_array_append_new(list, json_string(sub));
        }
    }
    closedir(d);
    return WEIR_OK;
}

static int read_file(const char *path, char **text, size_t *len)
{
    FILE *f = fopen(path, "rb");
    long n;

    *text = NULL;
    if (!f || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || (size_t)n > MAX_SCRIPT ||
        fseek(f, 0, SEEK_SET) != 0 || (*text = impact_host->malloc((size_t)n + 1)) == NULL ||
        fread(*text, 1, (size_t)n, f) != (size_t)n) {
        if (f) {
            fclose(f);
        }
        impact_host->free(*text);
        *text = NULL;
        return impact_host->error_set(WEIR_EIO, "impact.lineage: cannot read '%s' (or over 8 MiB)",
                                      path);
    }
    fclose(f);
    (*text)[n] = '\0';
    *len = (size_t)n;
    return WEIR_OK;
}

int impact_lineage_scan(const char *dir, json_t **graph)
{
    json_t *list = json_array(), *sum = NULL;
    const char **names = NULL;
    char full[8400], *text = NULL;
    size_t i, n, len = 0;
    int rc;

    *graph = impact_lineage_new();
    if (!list || !*graph) {
        rc = impact_host->error_set(WEIR_ENOMEM, "impact.lineage: out of memory");
        goto done;
    }
    if ((rc = collect(dir, "", list, 0)) < 0) {
        goto done;
    }
    n = json_array_size(list);
    if ((names = impact_host->malloc((n + 1) * sizeof(*names))) == NULL) {
        rc = impact_host->error_set(WEIR_ENOMEM, "impact.lineage: out of memory");
        goto done;
    }
    for (i = 0; i < n; i++) {
        names[i] = json_string_value(json_array_get(list, i));
    }
    qsort(names, n, sizeof(*names), cmp_str);
    for (i = 0; i < n && rc == WEIR_OK; i++) {
        snprintf(full, sizeof(full), "%s/%s", dir, names[i]);
        if ((rc = read_file(full, &text, &len)) == WEIR_OK &&
            (rc = impact_summarize(names[i], text, len, IMPACT_LANG_AUTO, &sum)) == WEIR_OK) {
            rc = impact_lineage_add(*graph, names[i], sum);
        }
        impact_host->free(text);
        text = NULL;
        json_decref(sum);
        sum = NULL;
    }
done:
    if (rc < 0) {
        json_decref(*graph);
        *graph = NULL;
    }
    impact_host->free(names);
    json_decref(list);
    return rc;
}

/* ---- output formats ---- */

static int node_index(const json_t *graph, const char *id)
{
    size_t i;
    json_t *n;

    json_array_foreach(json_object_get(graph, "nodes"), i, n) {
        if (!strcmp(str(n, "id"), id)) {
            return (int)i;
        }
    }
    return -1;
}

static int dot(const json_t *graph, char **text, size_t *len)
{
    size_t i;
    json_t *v;
    int rc = impact_buf_printf(text, len, "digraph lineage {\n  rankdir=LR;\n");

    json_array_foreach(json_object_get(graph, "nodes"), i, v) {
        int job = !strcmp(str(v, "kind"), "job");

        if (rc == WEIR_OK) {
            rc = impact_buf_printf(text, len, "  n%zu [label=\"%s\", shape=%s];\n", i,
                                   str(v, "name"), job ? "ellipse" : "box");
        }
    }
    json_array_foreach(json_object_get(graph, "edges"), i, v) {
        if (rc == WEIR_OK) {
            rc = impact_buf_printf(text, len, "  n%d -> n%d;\n", node_index(graph, str(v, "from")),
                                   node_index(graph, str(v, "to")));
        }
    }
    return rc == WEIR_OK ? impact_buf_printf(text, len, "}\n") : rc;
}

static int mermaid(const json_t *graph, char **text, size_t *len)
{
    size_t i;
    json_t *v;
    int rc = impact_buf_printf(text, len, "flowchart LR\n");

    json_array_foreach(json_object_get(graph, "nodes"), i, v) {
        int job = !strcmp(str(v, "kind"), "job");

        if (rc == WEIR_OK) {
            rc = impact_buf_printf(text, len, "  n%zu%s\"%s\"%s\n", i, job ? "([" : "[",
                                   str(v, "name"), job ? "])" : "]");
        }
    }
    json_array_foreach(json_object_get(graph, "edges"), i, v) {
        if (rc == WEIR_OK) {
            rc = impact_buf_printf(text, len, "  n%d --> n%d\n", node_index(graph, str(v, "from")),
                                   node_index(graph, str(v, "to")));
        }
    }
    return rc;
}

int impact_lineage_format(const json_t *graph, const char *format, char **text)
{
    size_t len = 0;
    int rc;

    *text = NULL;
    if (!strcmp(format, "dot")) {
        rc = dot(graph, text, &len);
    }
    else if (!strcmp(format, "mermaid")) {
        rc = mermaid(graph, text, &len);
    }
    else if (!strcmp(format, "json")) {
        char *s = json_dumps(graph, JSON_INDENT(2) | JSON_SORT_KEYS);

        rc = s ? impact_buf_printf(text, &len, "%s\n", s) : WEIR_ENOMEM;
        free(s);
    }
    else {
        return impact_host->error_set(
            WEIR_EINVALID, "impact.lineage: unknown format '%s'; use json, dot or mermaid", format);
    }
    if (rc < 0) {
        impact_host->free(*text);
        *text = NULL;
    }
    return rc;
}

/* ---- downstream ---- */

static json_t *read_cols(const json_t *job, const json_t *columns)
{
    json_t *out = json_array(), *c, *m;
    size_t i, k;

    json_array_foreach(columns, i, c) {
        json_array_foreach(json_object_get(job, "mentions"), k, m) {
            if (json_is_string(c) && impact_word_in(json_string_value(m), json_string_value(c))) {
                push_unique(out, json_string_value(c));
            }
        }
    }
    return out;
}

/* The columns of `table` the job computes from any of `read`: the affected
 * columns one level further down (from the graph's column edges). */
static json_t *carried(const json_t *graph, const json_t *job, const char *table,
                       const json_t *read)
{
    json_t *out = json_array(), *e, *src, *c;
    size_t i, k, m;

    json_array_foreach(json_object_get(graph, "column_edges"), i, e) {
        if (strcmp(str(e, "job"), str(job, "path")) != 0 || strcmp(str(e, "table"), table) != 0) {
            continue;
        }
        json_array_foreach(json_object_get(e, "sources"), k, src) {
            json_array_foreach(read, m, c) {
                if (impact_word_in(json_string_value(src), json_string_value(c))) {
                    push_unique(out, str(e, "column"));
                }
            }
        }
    }
    return out;
}

int impact_lineage_downstream(const json_t *graph, const char *table, const json_t *columns,
                              json_t **out)
{
    json_t *queue = json_array(), *seen = json_array(), *job, *t;
    size_t head = 0, i, k;

    *out = json_array();
    if (!queue || !seen || !*out) {
        json_decref(queue);
        json_decref(seen);
        json_decref(*out);
        *out = NULL;
        return impact_host->error_set(WEIR_ENOMEM, "impact: out of memory");
    }
    json_array_append_new(queue, json_pack("{s:s,s:i,s:O}", "table", table, "depth", 0, "columns",
                                           json_is_array(columns) ? columns : json_null()));
    push_unique(seen, table);
    for (head = 0; head < json_array_size(queue) && head < 1000; head++) {
        json_t *q = json_array_get(queue, head);
        const char *up = str(q, "table");
        json_int_t depth = json_integer_value(json_object_get(q, "depth"));

        json_array_foreach(json_object_get(graph, "jobs"), i, job) {
            if (!has(json_object_get(job, "inputs"), up)) {
                continue;
            }
            json_array_foreach(json_object_get(job, "outputs"), k, t) {
                const char *name = json_string_value(t);
                json_t *read, *next;

                if (has(seen, name)) {
                    continue;
                }
                push_unique(seen, name);
                read = read_cols(job, json_object_get(q, "columns"));
                next = carried(graph, job, name, read);
                json_array_append_new(queue, json_pack("{s:s,s:I,s:O}", "table", name, "depth",
                                                       depth + 1, "columns", next));
                json_array_append_new(
                    *out, json_pack("{s:s,s:s,s:s,s:I,s:s,s:o,s:o}", "table", name, "job",
                                    str(job, "job"), "path", str(job, "path"), "depth", depth + 1,
                                    "via", up, "columns_read", read, "columns_affected", next));
            }
        }
    }
    json_decref(queue);
    json_decref(seen);
    return WEIR_OK;
}

/* ---- impact.lineage ---- */

/* The column names of a catalog table (cached in `cache`; null when the
 * catalog does not have it). Borrowed from the cache. */
static const json_t *catalog_columns(weir_ctx *ctx, json_t *cache, const char *table)
{
    json_t *in, *def = NULL, *names, *c;
    size_t i;

    if ((names = json_object_get(cache, table)) != NULL) {
        return names;
    }
    names = json_array();
    in = json_pack("{s:s}", "table", table);
    if (in && impact_host->service_call(ctx, "catalog", "get_table", in, &def) == WEIR_OK) {
        json_array_foreach(
            json_object_get(json_object_get(json_object_get(def, "Table"), "StorageDescriptor"),
                            "Columns"),
            i, c) {
            push_unique(names, str(c, "Name"));
        }
    }
    json_object_set_new(cache, table, names);
    json_decref(in);
    json_decref(def);
    return names;
}

/* Each column edge's sources as "table.column" where the catalog says which
 * input table has that column ("from"; several when more than one has it).
 * Tables the catalog does not know leave their sources unqualified. */
static void qualify(weir_ctx *ctx, json_t *graph)
{
    json_t *cache = json_object(), *e, *src, *in;
    size_t i, k, m;
    char name[1024];

    json_array_foreach(json_object_get(graph, "column_edges"), i, e) {
        json_t *from = json_array();

        json_array_foreach(json_object_get(e, "sources"), k, src) {
            const char *s = json_string_value(src), *dot = s ? strrchr(s, '.') : NULL;
            const char *col = dot ? dot + 1 : s;

            json_array_foreach(json_object_get(e, "inputs"), m, in) {
                const char *t = json_string_value(in);

                if (col && t && has(catalog_columns(ctx, cache, t), col)) {
                    snprintf(name, sizeof(name), "%s.%s", t, col);
                    push_unique(from, name);
                }
            }
        }
        json_object_set_new(e, "from", from);
    }
    json_decref(cache);
}

static int run_lineage(const json_t *input, json_t **out, weir_ctx *ctx, void *payload)
{
    const char *dir = json_string_value(json_object_get(input, "dir"));
    const char *format = json_string_value(json_object_get(input, "format"));
    const char *project = ctx ? impact_host->ctx_get(ctx, "project") : NULL;
    char *where = NULL, *text = NULL;
    json_t *graph = NULL;
    size_t len = 0;
    int rc;

    (void)payload;
    *out = NULL;
    if (dir[0] != '/' && project &&
        (rc = impact_buf_printf(&where, &len, "%s/%s", project, dir)) < 0) {
        return rc;
    }
    if ((rc = impact_lineage_scan(where ? where : dir, &graph)) < 0) {
        goto done;
    }
    if (ctx && json_is_true(json_object_get(input, "catalog"))) {
        qualify(ctx, graph);
    }
    if ((rc = impact_lineage_format(graph, format ? format : "json", &text)) < 0) {
        goto done;
    }
    if (strcmp(format ? format : "json", "json") != 0) {
        json_object_set_new(graph, "text", json_string(text));
    }
    *out = graph;
    graph = NULL;
done:
    impact_host->free(where);
    impact_host->free(text);
    json_decref(graph);
    return rc;
}

static const struct weir_param_desc lineage_params[] = {
    { "dir", WEIR_PARAM_STRING, 1, NULL,
      "directory of job scripts (*.py, *.sql), relative to the project" },
    { "format", WEIR_PARAM_STRING, 0, "\"json\"",
      "json, dot or mermaid (adds the text as \"text\")" },
    { "catalog", WEIR_PARAM_BOOLEAN, 0, "true",
      "qualify column sources with the input tables' catalog columns (\"from\")" },
    { NULL, 0, 0, NULL, NULL },
};

const struct weir_step_desc impact_step_lineage = {
    WEIR_STEP_DESC_VERSION,
    "lineage",
    NULL,
    "table lineage of a directory of jobs: {jobs, nodes, edges, column_edges}",
    lineage_params,
    run_lineage,
    NULL,
};
