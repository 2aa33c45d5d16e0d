/*
 * catalog.c - the lake's `catalog` service: list_databases, list_tables,
 * get_table (and infer, from infer.c). Definitions live in a catalog
 * directory, one folder per database, one file per table (Glue GetTable JSON
 * or the short YAML form); paths in params are relative to the project.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "catalog_int.h"

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

struct names {
    char **v;
    size_t n, cap;
};

static int push_name(struct names *ns, char *name)
{
    if (ns->n == ns->cap) {
        size_t cap = ns->cap ? ns->cap * 2 : 16;
        char **v = lake_host->realloc(ns->v, cap * sizeof(char *));
        if (!v) {
            lake_host->free(name);
            return WEIR_ENOMEM;
        }
        ns->v = v;
        ns->cap = cap;
    }
    ns->v[ns->n++] = name;
    return WEIR_OK;
}

/* The catalog name of a directory entry: a database directory (want_dirs),
 * or a table file without its extension; NULL to skip the entry. */
static char *entry_name(const char *dir, const char *entry, int want_dirs)
{
    char *path, *name, *dot;
    struct stat st;
    int is_dir;

    if (entry[0] == '.' || entry[0] == '_' ||
        (path = lake_cat_printf("%s/%s", dir, entry)) == NULL) {
        return NULL;
    }
    is_dir = stat(path, &st) == 0 && S_ISDIR(st.st_mode);
    lake_host->free(path);
    if ((name = lake_cat_strdup(entry)) == NULL) {
        return NULL;
    }
    dot = strrchr(name, '.');
    if (!want_dirs && !is_dir && dot &&
        (!strcmp(dot, ".json") || !strcmp(dot, ".yaml") || !strcmp(dot, ".yml"))) {
        *dot = '\0';
    }
    else if (!(want_dirs && is_dir)) {
        lake_host->free(name);
        return NULL;
    }
    if (!lake_cat_name_ok(name)) {
        lake_host->free(name);
        return NULL;
    }
    return name;
}

/* Sorted, unique catalog names in dir; a positive errno if dir cannot be opened. */
static int list_names(const char *dir, int want_dirs, json_t **out)
{
    DIR *d = opendir(dir);
    struct names ns = { NULL, 0, 0 };
    struct dirent *e;
    int rc = WEIR_OK;

    if (!d) {
        return errno;
    }
    while (rc == WEIR_OK && (e = readdir(d)) != NULL) {
        char *name = entry_name(dir, e->d_name, want_dirs);
        if (name) {
            rc = push_name(&ns, name);
        }
    }
    closedir(d);
    if (ns.n) {
        qsort(ns.v, ns.n, sizeof(char *), cmp_str);
    }
    *out = json_array();
    for (size_t i = 0; i < ns.n; i++) {
        /* a table defined twice (json and yaml) is listed once; get_table reports the clash */
        if (i == 0 || strcmp(ns.v[i], ns.v[i - 1])) {
            json_array_append_new(*out, json_string(ns.v[i]));
        }
    }
    for (size_t i = 0; i < ns.n; i++) {
        lake_host->free(ns.v[i]);
    }
    lake_host->free(ns.v);
    return rc;
}

static const char *param_str(const json_t *input, const char *key, const char *fallback)
{
    const char *v = json_string_value(json_object_get(input, key));

    return v ? v : fallback;
}

/* ---- catalog.list_databases --------------------------------------------- */

static const struct weir_param_desc list_databases_params[] = {
    { "catalog_dir", WEIR_PARAM_STRING, 0, "\"catalog\"",
      "catalog directory (one folder per database), relative to the project" },
    { NULL, WEIR_PARAM_ANY, 0, NULL, NULL },
};

static int run_list_databases(const json_t *input, json_t **out, weir_ctx *ctx, void *payload)
{
    char *dir = lake_cat_project_path(ctx, param_str(input, "catalog_dir", "catalog"));
    json_t *names = NULL;
    int rc;

    (void)payload;
    if (!dir) {
        return lake_host->error_set(WEIR_ENOMEM, "catalog.list_databases: out of memory");
    }
    rc = list_names(dir, 1, &names);
    if (rc > 0) {
        rc = lake_host->error_set(
            rc == ENOENT ? WEIR_ENOTFOUND : WEIR_EIO,
            "catalog.list_databases: catalog directory '%s' cannot be read: %s; "
            "create it or set catalog_dir",
            dir, strerror(rc));
    }
    else if (rc < 0) {
        rc = lake_host->error_set(rc, "catalog.list_databases: out of memory");
    }
    else {
        *out = json_pack("{s:O}", "databases", names);
    }
    json_decref(names);
    lake_host->free(dir);
    return rc;
}

/* ---- catalog.list_tables ------------------------------------------------ */

static const struct weir_param_desc list_tables_params[] = {
    { "database", WEIR_PARAM_STRING, 1, NULL, "database (a folder of the catalog directory)" },
    { "catalog_dir", WEIR_PARAM_STRING, 0, "\"catalog\"",
      "catalog directory, relative to the project" },
    { NULL, WEIR_PARAM_ANY, 0, NULL, NULL },
};

static int run_list_tables(const json_t *input, json_t **out, weir_ctx *ctx, void *payload)
{
    const char *db = param_str(input, "database", "");
    char *cat = lake_cat_project_path(ctx, param_str(input, "catalog_dir", "catalog"));
    char *dir = cat ? lake_cat_printf("%s/%s", cat, db) : NULL;
    json_t *names = NULL, *qualified = NULL, *v;
    size_t i;
    int rc;

    (void)payload;
    if (!lake_cat_name_ok(db)) {
        rc = lake_host->error_set(WEIR_EINVALID,
                                  "catalog.list_tables: database '%s' is not a valid name "
                                  "(letters, digits, '_' and '-')",
                                  db);
        goto done;
    }
    if (!dir) {
        rc = lake_host->error_set(WEIR_ENOMEM, "catalog.list_tables: out of memory");
        goto done;
    }
    if ((rc = list_names(dir, 0, &names)) != WEIR_OK) {
        rc = rc > 0 ? lake_host->error_set(rc == ENOENT ? WEIR_ENOTFOUND : WEIR_EIO,
                                           "catalog.list_tables: no database '%s' in '%s' (%s); "
                                           "catalog.list_databases lists them",
                                           db, cat, strerror(rc))
                    : lake_host->error_set(rc, "catalog.list_tables: out of memory");
        goto done;
    }
    qualified = json_array();
    json_array_foreach(names, i, v) {
        char *q = lake_cat_printf("%s.%s", db, json_string_value(v));
        json_array_append_new(qualified, json_string(q ? q : ""));
        lake_host->free(q);
    }
    *out = json_pack("{s:s,s:O}", "database", db, "tables", qualified);

done:
    json_decref(names);
    json_decref(qualified);
    lake_host->free(cat);
    lake_host->free(dir);
    return rc;
}

/* ---- catalog.get_table --------------------------------------------------- */

static const struct weir_param_desc get_table_params[] = {
    { "table", WEIR_PARAM_STRING, 1, NULL, "table as database.table" },
    { "catalog_dir", WEIR_PARAM_STRING, 0, "\"catalog\"",
      "catalog directory, relative to the project" },
    { "store_root", WEIR_PARAM_STRING, 0, "\"lake\"",
      "directory s3://bucket/key locations map under, relative to the project" },
    { NULL, WEIR_PARAM_ANY, 0, NULL, NULL },
};

/* One entry per partition directory; files come sorted, so a partition's
 * files are adjacent. */
static json_t *partitions_json(const struct lake_table *t, const struct lake_file *files, size_t n)
{
    json_t *arr = json_array();

    for (size_t i = 0; t->npartitions && i < n; i++) {
        json_t *values;
        char *dir;
        int same = i > 0;

        for (size_t k = 0; same && k < t->npartitions; k++) {
            same = !strcmp(files[i].partition_values[k], files[i - 1].partition_values[k]);
        }
        if (same) {
            continue;
        }
        values = json_object();
        for (size_t k = 0; k < t->npartitions; k++) {
            json_object_set_new(values, t->partitions[k].name,
                                json_string(files[i].partition_values[k]));
        }
        dir = lake_cat_dirname(files[i].path);
        json_array_append_new(arr,
                              json_pack("{s:o,s:s}", "values", values, "path", dir ? dir : ""));
        lake_host->free(dir);
    }
    return arr;
}

static json_t *weir_json(const struct lake_table *t, const struct lake_file *files, size_t n)
{
    json_t *w = json_object(), *nulls = json_array();
    char delim[2] = { t->delimiter, '\0' };

    json_object_set_new(w, "root", json_string(t->root));
    json_object_set_new(w, "format", json_string(t->format == LAKE_JSONL ? "jsonl" : "csv"));
    if (t->format == LAKE_CSV) {
        json_object_set_new(w, "delimiter", json_string(delim));
        json_object_set_new(w, "header_lines", json_integer(t->header_lines));
    }
    for (size_t i = 0; t->null_tokens[i]; i++) {
        json_array_append_new(nulls, json_string(t->null_tokens[i]));
    }
    json_object_set_new(w, "null_tokens", nulls);
    json_object_set_new(w, "files", json_integer((json_int_t)n));
    json_object_set_new(w, "partitions", partitions_json(t, files, n));
    return w;
}

/* Loads a table with catalog_dir and store_root resolved against the project. */
static int load_table(const json_t *input, weir_ctx *ctx, struct lake_table **t)
{
    char *cat = lake_cat_project_path(ctx, param_str(input, "catalog_dir", "catalog"));
    char *store = lake_cat_project_path(ctx, param_str(input, "store_root", "lake"));
    int rc;

    if (!cat || !store) {
        rc = lake_host->error_set(WEIR_ENOMEM, "out of memory");
    }
    else {
        rc = lake_table_load(cat, store, param_str(input, "table", ""), t);
    }
    lake_host->free(cat);
    lake_host->free(store);
    return rc;
}

static int run_get_table(const json_t *input, json_t **out, weir_ctx *ctx, void *payload)
{
    struct lake_table *t = NULL;
    struct lake_file *files = NULL;
    size_t n = 0;
    int rc;

    (void)payload;
    if ((rc = load_table(input, ctx, &t)) < 0 || (rc = lake_table_files(t, NULL, &files, &n)) < 0) {
        goto done;
    }
    *out = json_deep_copy(t->def);
    json_object_set_new(*out, "weir", weir_json(t, files, n));

done:
    lake_files_free(files, n);
    lake_table_free(t);
    return rc;
}

/* ---- registration ------------------------------------------------------ */

static const struct weir_step_desc steps[] = {
    { WEIR_STEP_DESC_VERSION, "list_databases", "catalog",
      "lists the databases of the local catalog", list_databases_params, run_list_databases, NULL },
    { WEIR_STEP_DESC_VERSION, "list_tables", "catalog",
      "lists a database's tables as database.table", list_tables_params, run_list_tables, NULL },
    { WEIR_STEP_DESC_VERSION, "get_table", "catalog",
      "a table's definition in the Glue GetTable shape, with its resolved files and partitions",
      get_table_params, run_get_table, NULL },
};

int lake_register_catalog(weir_registry *reg)
{
    int rc;

    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        if ((rc = lake_host->step_register(reg, &steps[i])) < 0) {
            return rc;
        }
    }
    return lake_host->step_register(reg, &lake_cat_step_infer);
}
