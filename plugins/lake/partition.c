/*
 * partition.c - partition filters (partition.h) and the walk that lists a
 * table's data files with their Hive partition values.
 *
 * Layout rule: with partition keys k1..kn, every data file sits exactly n
 * directories below the table root, in k1=v1/.../kn=vn. Anything else that
 * is not hidden (a name starting with '.' or '_', like _SUCCESS or .crc
 * files) is an error naming it, so no data is silently left out.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "catalog_int.h"

#define MAX_DISCOVER_DEPTH 16

/* ---- filters ------------------------------------------------------------- */

int lake_partition_filter_new(struct lake_partition_filter **out)
{
    if ((*out = lake_host->malloc(sizeof(**out))) == NULL) {
        return lake_host->error_set(WEIR_ENOMEM, "out of memory for a partition filter");
    }
    memset(*out, 0, sizeof(**out));
    return WEIR_OK;
}

int lake_partition_filter_add(struct lake_partition_filter *f, size_t column, enum lake_cmp op,
                              const char *value)
{
    struct lake_partition_constraint *c;

    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 4;
        void *items = lake_host->realloc(f->items, cap * sizeof(*f->items));
        if (!items) {
            return lake_host->error_set(WEIR_ENOMEM, "out of memory for a partition filter");
        }
        f->items = items;
        f->cap = cap;
    }
    c = &f->items[f->n];
    if ((c->value = lake_cat_strdup(value)) == NULL) {
        return lake_host->error_set(WEIR_ENOMEM, "out of memory for a partition filter");
    }
    c->column = column;
    c->op = op;
    f->n++;
    return WEIR_OK;
}

int lake_partition_cmp_parse(const char *text, enum lake_cmp *op)
{
    static const struct {
        const char *text;
        enum lake_cmp op;
    } ops[] = { { "=", LAKE_CMP_EQ },  { "==", LAKE_CMP_EQ }, { "<", LAKE_CMP_LT },
                { "<=", LAKE_CMP_LE }, { ">", LAKE_CMP_GT },  { ">=", LAKE_CMP_GE } };

    for (size_t i = 0; text && i < sizeof(ops) / sizeof(ops[0]); i++) {
        if (!strcmp(text, ops[i].text)) {
            *op = ops[i].op;
            return WEIR_OK;
        }
    }
    return lake_host->error_set(
        WEIR_EINVALID,
        "partition filter: unknown operator '%s'; use =, <, <=, >, >=", text ? text : "");
}

static int as_number(const char *s, double *v)
{
    char *end;

    if (!*s || isspace((unsigned char)*s) || strpbrk(s, "xXnNiI")) {
        return 0;
    }
    *v = strtod(s, &end);
    return *end == '\0' && isfinite(*v);
}

static int compare(const char *a, const char *b)
{
    double x, y;

    if (as_number(a, &x) && as_number(b, &y)) {
        return x < y ? -1 : x > y ? 1 : 0;
    }
    return strcmp(a, b);
}

int lake_partition_filter_match(const struct lake_partition_filter *f, const char *const *values,
                                size_t nvalues)
{
    for (size_t i = 0; f && i < f->n; i++) {
        const struct lake_partition_constraint *c = &f->items[i];
        int cmp, ok;

        if (c->column >= nvalues) {
            continue;
        }
        if (!values[c->column] || !strcmp(values[c->column], LAKE_HIVE_NULL_PARTITION)) {
            return 0;
        }
        cmp = compare(values[c->column], c->value);
        switch (c->op) {
        case LAKE_CMP_EQ: ok = cmp == 0; break;
        case LAKE_CMP_LT: ok = cmp < 0; break;
        case LAKE_CMP_LE: ok = cmp <= 0; break;
        case LAKE_CMP_GT: ok = cmp > 0; break;
        default: ok = cmp >= 0; break;
        }
        if (!ok) {
            return 0;
        }
    }
    return 1;
}

void lake_partition_filter_free(struct lake_partition_filter *f)
{
    if (!f) {
        return;
    }
    for (size_t i = 0; i < f->n; i++) {
        lake_host->free(f->items[i].value);
    }
    lake_host->free(f->items);
    lake_host->free(f);
}

/* ---- the walk ------------------------------------------------------------ */

struct walk {
    struct lake_cat_walk *w;
    char **paths;
    size_t n, cap;
};

static int hidden(const char *name)
{
    return name[0] == '.' || name[0] == '_';
}

/* Text files weir reads; Spark and Hive also write extension-less part files. */
static int data_file(const char *name)
{
    static const char *const exts[] = { "csv", "tsv", "txt", "json", "jsonl", "ndjson" };
    const char *dot = strrchr(name, '.');

    if (!dot || dot == name) {
        return 1;
    }
    for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
        if (!strcasecmp(dot + 1, exts[i])) {
            return 1;
        }
    }
    return 0;
}

static int push_path(struct walk *wk, char *path)
{
    if (wk->n == wk->cap) {
        size_t cap = wk->cap ? wk->cap * 2 : 16;
        void *p = lake_host->realloc(wk->paths, cap * sizeof(char *));
        if (!p) {
            lake_host->free(path);
            return lake_host->error_set(WEIR_ENOMEM, "out of memory listing files");
        }
        wk->paths = p;
        wk->cap = cap;
    }
    wk->paths[wk->n++] = path;
    return WEIR_OK;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int outside(const struct walk *wk, const char *path, const char *what)
{
    return lake_host->error_set(
        WEIR_EINVALID,
        "table %s: %s '%s' is outside the partition layout (%zu level%s of key=value "
        "directories under '%s'); move it, or hide it with a leading '_' or '.'",
        wk->w->table, what, path, wk->w->nkeys, wk->w->nkeys == 1 ? "" : "s", wk->w->root);
}

static int walk_dir(struct walk *wk, const char *dir, size_t depth)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    struct stat st;
    int rc = WEIR_OK;

    if (!d) {
        return lake_host->error_set(WEIR_EIO, "table %s: cannot read directory '%s': %s",
                                    wk->w->table, dir, strerror(errno));
    }
    while (rc == WEIR_OK && (e = readdir(d)) != NULL) {
        char *path;

        if (hidden(e->d_name)) {
            continue;
        }
        if ((path = lake_cat_printf("%s/%s", dir, e->d_name)) == NULL) {
            rc = lake_host->error_set(WEIR_ENOMEM, "out of memory listing files");
            break;
        }
        if (stat(path, &st) != 0) {
            rc = lake_host->error_set(WEIR_EIO, "table %s: cannot stat '%s': %s", wk->w->table,
                                      path, strerror(errno));
        }
        else if (S_ISDIR(st.st_mode)) {
            if (wk->w->discover ? depth >= MAX_DISCOVER_DEPTH : depth >= wk->w->nkeys) {
                rc = outside(wk, path, "directory");
            }
            else {
                rc = walk_dir(wk, path, depth + 1);
            }
        }
        else if (!S_ISREG(st.st_mode)) {
            rc = lake_host->error_set(WEIR_EINVALID, "table %s: '%s' is not a regular file",
                                      wk->w->table, path);
        }
        else if (!data_file(e->d_name)) {
            rc = lake_host->error_set(
                WEIR_EINVALID,
                "table %s: '%s' is not a text data file (.csv, .tsv, .txt, .json, .jsonl, "
                ".ndjson or no extension; compressed and columnar files are not read); "
                "move it, or hide it with a leading '_' or '.'",
                wk->w->table, path);
        }
        else {
            rc = push_path(wk, path);
            path = NULL;
        }
        lake_host->free(path);
    }
    closedir(d);
    return rc;
}

/* Hive escapes special characters in partition directory names as %XX. */
static char *unescape(const char *s, size_t len)
{
    char *out = lake_host->malloc(len + 1), *o = out;

    for (size_t i = 0; out && i < len; i++) {
        if (s[i] == '%' && i + 2 < len && isxdigit((unsigned char)s[i + 1]) &&
            isxdigit((unsigned char)s[i + 2])) {
            char hex[3] = { s[i + 1], s[i + 2], 0 };
            *o++ = (char)strtol(hex, NULL, 16);
            i += 2;
        }
        else {
            *o++ = s[i];
        }
    }
    if (out) {
        *o = '\0';
    }
    return out;
}

/* The key=value directories between the root and the file, checked against
 * (or, when discovering, taken as) the table's keys. */
static int split_partitions(struct walk *wk, const char *path, char ***values)
{
    const char *rel = path + strlen(wk->w->root) + 1, *seg = rel, *slash;
    size_t depth = 0, n = 0;

    for (const char *p = rel; *p; p++) {
        depth += *p == '/';
    }
    if (wk->w->discover && !wk->w->keys) {
        if ((wk->w->keys = lake_host->malloc((depth + 1) * sizeof(char *))) == NULL) {
            return lake_host->error_set(WEIR_ENOMEM, "out of memory");
        }
        memset(wk->w->keys, 0, (depth + 1) * sizeof(char *));
        wk->w->nkeys = depth;
    }
    if (depth != wk->w->nkeys) {
        return outside(wk, path, "file");
    }
    if ((*values = lake_host->malloc((depth + 1) * sizeof(char *))) == NULL) {
        return lake_host->error_set(WEIR_ENOMEM, "out of memory");
    }
    memset(*values, 0, (depth + 1) * sizeof(char *));
    for (; (slash = strchr(seg, '/')) != NULL; seg = slash + 1, n++) {
        const char *eq = memchr(seg, '=', (size_t)(slash - seg));
        size_t klen = eq ? (size_t)(eq - seg) : 0;

        if (!eq || klen == 0) {
            return outside(wk, path, "file");
        }
        if (!wk->w->keys[n] && (wk->w->keys[n] = unescape(seg, klen)) == NULL) {
            return lake_host->error_set(WEIR_ENOMEM, "out of memory");
        }
        if (strlen(wk->w->keys[n]) != klen || strncasecmp(wk->w->keys[n], seg, klen)) {
            return lake_host->error_set(WEIR_EINVALID,
                                        "table %s: file '%s' has partition key '%.*s' where "
                                        "'%s' was expected; move it out of the table location",
                                        wk->w->table, path, (int)klen, seg, wk->w->keys[n]);
        }
        if (((*values)[n] = unescape(eq + 1, (size_t)(slash - eq - 1))) == NULL) {
            return lake_host->error_set(WEIR_ENOMEM, "out of memory");
        }
    }
    return WEIR_OK;
}

static int collect(struct walk *wk, const struct lake_partition_filter *filter,
                   struct lake_file **out, size_t *n)
{
    struct lake_file *files = lake_host->malloc((wk->n ? wk->n : 1) * sizeof(*files));
    size_t kept = 0;
    int rc = WEIR_OK;

    if (!files) {
        return lake_host->error_set(WEIR_ENOMEM, "out of memory listing files");
    }
    for (size_t i = 0; i < wk->n; i++) {
        char **values = NULL;

        if ((rc = split_partitions(wk, wk->paths[i], &values)) < 0) {
            lake_cat_strv_free(values);
            break;
        }
        if (!lake_partition_filter_match(filter, (const char *const *)values, wk->w->nkeys)) {
            lake_cat_strv_free(values);
            continue;
        }
        files[kept].path = wk->paths[i];
        files[kept].partition_values = values;
        wk->paths[i] = NULL;
        kept++;
    }
    if (rc < 0) {
        lake_files_free(files, kept);
        return rc;
    }
    *out = files;
    *n = kept;
    return WEIR_OK;
}

int lake_cat_walk_files(struct lake_cat_walk *w, const struct lake_partition_filter *filter,
                        struct lake_file **out, size_t *n)
{
    struct walk wk = { w, NULL, 0, 0 };
    struct stat st;
    int rc;

    *out = NULL;
    *n = 0;
    if (stat(w->root, &st) != 0) {
        return lake_host->error_set(errno == ENOENT ? WEIR_ENOTFOUND : WEIR_EIO,
                                    "table %s: location '%s' cannot be read: %s; check the table's "
                                    "Location and the store root",
                                    w->table, w->root, strerror(errno));
    }
    if (S_ISREG(st.st_mode)) {
        /* a single-file table: the root is the file */
        char *path = lake_cat_strdup(w->root);
        if (w->nkeys > 0) {
            lake_host->free(path);
            return outside(&wk, w->root, "file");
        }
        if (!path || (rc = push_path(&wk, path)) < 0) {
            return lake_host->error_set(WEIR_ENOMEM, "out of memory");
        }
        if (w->discover && !w->keys && (w->keys = lake_host->malloc(sizeof(char *))) != NULL) {
            w->keys[0] = NULL;
        }
        if ((*out = lake_host->malloc(sizeof(**out))) == NULL) {
            lake_host->free(path);
            lake_host->free(wk.paths);
            return lake_host->error_set(WEIR_ENOMEM, "out of memory");
        }
        (*out)[0].path = path;
        (*out)[0].partition_values = NULL;
        *n = 1;
        lake_host->free(wk.paths);
        return WEIR_OK;
    }
    rc = walk_dir(&wk, w->root, 0);
    if (rc == WEIR_OK) {
        if (wk.n > 1) {
            qsort(wk.paths, wk.n, sizeof(char *), cmp_str);
        }
        rc = collect(&wk, filter, out, n);
    }
    for (size_t i = 0; i < wk.n; i++) {
        lake_host->free(wk.paths[i]);
    }
    lake_host->free(wk.paths);
    return rc;
}
