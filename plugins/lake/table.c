/*
 * table.c - the table model: Hive types, Glue-shaped definitions turned into
 * struct lake_table, location resolution, and the table's file listing.
 * The YAML short form is converted to the Glue shape in table_yaml.c, and
 * the directory walk lives in partition.c, so one code path builds tables.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "catalog_int.h"

const char *const lake_cat_default_nulls[] = { "", "NA", "NULL", "null", "\\N", NULL };

/* ---- Hive types --------------------------------------------------------- */

/* A small recursive-descent check of Hive type syntax, so a typo deep inside
 * struct<...> is caught when the table loads, not when a query runs. */
struct tparse {
    const char *p;
    int depth;
};

static void skip_ws(struct tparse *tp)
{
    while (isspace((unsigned char)*tp->p)) {
        tp->p++;
    }
}

static size_t word(struct tparse *tp, char *buf, size_t cap)
{
    size_t n = 0;

    skip_ws(tp);
    while ((isalnum((unsigned char)*tp->p) || *tp->p == '_') && n + 1 < cap) {
        buf[n++] = (char)tolower((unsigned char)*tp->p++);
    }
    buf[n] = '\0';
    return n;
}

static int expect(struct tparse *tp, char c)
{
    skip_ws(tp);
    if (*tp->p != c) {
        return -1;
    }
    tp->p++;
    return 0;
}

static int number(struct tparse *tp, long lo, long hi, long *v)
{
    char *end;

    skip_ws(tp);
    if (!isdigit((unsigned char)*tp->p)) {
        return -1;
    }
    errno = 0;
    *v = strtol(tp->p, &end, 10);
    if (errno || *v < lo || *v > hi) {
        return -1;
    }
    tp->p = end;
    return 0;
}

static int parse_type(struct tparse *tp, enum lake_type *kind);

/* The <...> part of array/map/struct/uniontype. */
static int parse_complex(struct tparse *tp, const char *w)
{
    enum lake_type k;
    char name[128];

    if (++tp->depth > 32 || expect(tp, '<') < 0) {
        return -1;
    }
    for (int i = 0;; i++) {
        if (!strcmp(w, "struct")) {
            if (!word(tp, name, sizeof(name)) || expect(tp, ':') < 0) {
                return -1;
            }
        }
        if (parse_type(tp, &k) < 0) {
            return -1;
        }
        skip_ws(tp);
        if (*tp->p == '>') {
            tp->p++;
            tp->depth--;
            return (!strcmp(w, "array") && i != 0) || (!strcmp(w, "map") && i != 1) ? -1 : 0;
        }
        if (expect(tp, ',') < 0) {
            return -1;
        }
    }
}

static int parse_type(struct tparse *tp, enum lake_type *kind)
{
    static const struct {
        const char *name;
        enum lake_type kind;
    } simple[] = {
        { "string", LAKE_STRING },   { "binary", LAKE_STRING }, { "int", LAKE_INT },
        { "integer", LAKE_INT },     { "tinyint", LAKE_INT },   { "smallint", LAKE_INT },
        { "bigint", LAKE_BIGINT },   { "float", LAKE_DOUBLE },  { "double", LAKE_DOUBLE },
        { "boolean", LAKE_BOOLEAN }, { "date", LAKE_DATE },     { "timestamp", LAKE_TIMESTAMP },
    };
    char w[32];
    long n, s;

    if (!word(tp, w, sizeof(w))) {
        return -1;
    }
    for (size_t i = 0; i < sizeof(simple) / sizeof(simple[0]); i++) {
        if (!strcmp(w, simple[i].name)) {
            *kind = simple[i].kind;
            return 0;
        }
    }
    if (!strcmp(w, "varchar") || !strcmp(w, "char")) {
        *kind = LAKE_STRING;
        return expect(tp, '(') < 0 || number(tp, 1, w[0] == 'v' ? 65535 : 255, &n) < 0 ||
                       expect(tp, ')') < 0
                   ? -1
                   : 0;
    }
    if (!strcmp(w, "decimal") || !strcmp(w, "numeric")) {
        *kind = LAKE_DECIMAL;
        skip_ws(tp);
        if (*tp->p != '(') {
            return 0;
        }
        tp->p++;
        if (number(tp, 1, 38, &n) < 0) {
            return -1;
        }
        skip_ws(tp);
        if (*tp->p == ',' && (tp->p++, number(tp, 0, n, &s) < 0)) {
            return -1;
        }
        return expect(tp, ')');
    }
    if (!strcmp(w, "array") || !strcmp(w, "map") || !strcmp(w, "struct") ||
        !strcmp(w, "uniontype")) {
        *kind = LAKE_COMPLEX;
        return parse_complex(tp, w);
    }
    return -1;
}

int lake_cat_type_check(const char *type, enum lake_type *kind)
{
    struct tparse tp = { type, 0 };

    if (parse_type(&tp, kind) < 0) {
        return WEIR_EINVALID;
    }
    skip_ws(&tp);
    return *tp.p ? WEIR_EINVALID : WEIR_OK;
}

/* Unknown types read as text: lake_table_load has already refused them, so
 * this only matters to callers parsing types of their own. */
enum lake_type lake_type_parse(const char *hive_type)
{
    enum lake_type kind = LAKE_STRING;

    if (!hive_type || lake_cat_type_check(hive_type, &kind) < 0) {
        return LAKE_STRING;
    }
    return kind;
}

/* ---- Glue definition -> struct lake_table -------------------------------- */

static const char *str_at(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

/* A Glue parameter from the SerDe parameters, then the table parameters. */
static const char *param(const json_t *serde_params, const json_t *params, const char *key)
{
    const char *v = str_at(serde_params, key);

    return v ? v : str_at(params, key);
}

static int columns_from(const json_t *arr, const char *what, const char *where,
                        struct lake_column **out, size_t *n)
{
    size_t i, count = json_array_size(arr);
    json_t *c;

    if (arr && !json_is_array(arr)) {
        return lake_host->error_set(WEIR_EINVALID, "%s: %s must be an array", where, what);
    }
    if (count == 0) {
        return WEIR_OK;
    }
    if ((*out = lake_host->malloc(count * sizeof(**out))) == NULL) {
        return lake_host->error_set(WEIR_ENOMEM, "%s: out of memory", where);
    }
    memset(*out, 0, count * sizeof(**out));
    *n = count;
    json_array_foreach(arr, i, c) {
        const char *name = str_at(c, "Name"), *type = str_at(c, "Type"),
                   *comment = str_at(c, "Comment");
        struct lake_column *col = &(*out)[i];

        if (!name || !*name || !type) {
            return lake_host->error_set(
                WEIR_EINVALID, "%s: %s[%zu] needs a Name and a Type (strings)", where, what, i);
        }
        if (lake_cat_type_check(type, &col->kind) < 0) {
            return lake_host->error_set(
                WEIR_EINVALID,
                "%s: column '%s' has unknown type '%s'; use a Hive type: string, "
                "varchar(n), char(n), int, tinyint, smallint, bigint, float, "
                "double, decimal(p,s), boolean, date, timestamp, array<..>, "
                "map<..>, struct<..>",
                where, name, type);
        }
        col->name = lake_cat_strdup(name);
        col->type = lake_cat_strdup(type);
        col->comment = comment ? lake_cat_strdup(comment) : NULL;
        if (!col->name || !col->type || (comment && !col->comment)) {
            return lake_host->error_set(WEIR_ENOMEM, "%s: out of memory", where);
        }
    }
    return WEIR_OK;
}

/* Hive column names are case-insensitive, so "ID" and "id" clash. */
static int check_unique(const struct lake_table *t, const char *where)
{
    size_t total = t->ncolumns + t->npartitions;

    for (size_t i = 0; i < total; i++) {
        const char *a = i < t->ncolumns ? t->columns[i].name : t->partitions[i - t->ncolumns].name;
        for (size_t k = i + 1; k < total; k++) {
            const char *b =
                k < t->ncolumns ? t->columns[k].name : t->partitions[k - t->ncolumns].name;
            if (!strcasecmp(a, b)) {
                return lake_host->error_set(
                    WEIR_EINVALID,
                    "%s: column '%s' is defined twice (names are "
                    "case-insensitive, and partition keys share the namespace)",
                    where, b);
            }
        }
    }
    return WEIR_OK;
}

static int resolve_location(struct lake_table *t, const char *base, const char *store_root,
                            const char *where)
{
    const char *loc = t->location, *rest;
    char *path = NULL;

    if (!strncmp(loc, "s3://", 5) || !strncmp(loc, "s3a://", 6) || !strncmp(loc, "s3n://", 6)) {
        rest = strstr(loc, "://") + 3;
        if (!*rest || *rest == '/') {
            return lake_host->error_set(WEIR_EINVALID, "%s: location '%s' has no bucket", where,
                                        loc);
        }
        path = lake_cat_printf("%s/%s", store_root, rest);
    }
    else if (!strncmp(loc, "file://", 7)) {
        path = lake_cat_strdup(loc + 7);
    }
    else if (strstr(loc, "://")) {
        return lake_host->error_set(WEIR_EINVALID,
                                    "%s: location '%s' uses a scheme the local lake cannot "
                                    "read; use s3://bucket/prefix, a relative or an absolute path",
                                    where, loc);
    }
    else {
        path = lake_cat_strdup(loc);
    }
    if (!path || (t->root = lake_cat_path_abs(base, path)) == NULL) {
        lake_host->free(path);
        return lake_host->error_set(WEIR_ENOMEM, "%s: out of memory", where);
    }
    lake_host->free(path);
    return WEIR_OK;
}

static int format_from(struct lake_table *t, const char *serde_lib, const char *where)
{
    const char *cls = str_at(t->parameters, "classification");

    if ((serde_lib && strstr(serde_lib, "JsonSerDe")) || (cls && !strcasecmp(cls, "json"))) {
        t->format = LAKE_JSONL;
        return WEIR_OK;
    }
    if (cls && *cls && strcasecmp(cls, "csv") && strcasecmp(cls, "tsv") &&
        strcasecmp(cls, "text")) {
        return lake_host->error_set(WEIR_EINVALID,
                                    "%s: classification '%s' is not readable by the local "
                                    "lake; it reads csv (delimited text) and json (JSON Lines)",
                                    where, cls);
    }
    t->format = LAKE_CSV;
    return WEIR_OK;
}

/* Glue writes delimiters as the character, an escape such as "\t" or
 * "\u0001", or octal "\001". Digits are Hive's serialization.format ids, not
 * delimiters. */
static int delimiter_from(const char *text, char *out)
{
    unsigned long v;
    char *end;

    if (!text) {
        return 1;
    }
    if (strlen(text) == 1) {
        *out = text[0];
        return isdigit((unsigned char)text[0]) ? 1 : 0;
    }
    if (!strcmp(text, "\\t")) {
        *out = '\t';
        return 0;
    }
    if (text[0] == '\\') {
        v = text[1] == 'u' ? strtoul(text + 2, &end, 16) : strtoul(text + 1, &end, 8);
        if (*end == '\0' && v > 0 && v < 128) {
            *out = (char)v;
            return 0;
        }
    }
    return -1;
}

static int csv_options(struct lake_table *t, const json_t *serde_params, const char *where)
{
    static const char *const keys[] = { "field.delim", "separatorChar", "serialization.format" };
    const char *hdr = param(serde_params, t->parameters, "skip.header.line.count");
    char *end;
    int rc;

    t->delimiter = ',';
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        if ((rc = delimiter_from(param(serde_params, t->parameters, keys[i]), &t->delimiter)) ==
            0) {
            break;
        }
        if (rc < 0) {
            return lake_host->error_set(WEIR_EINVALID, "%s: %s '%s' is not a single character",
                                        where, keys[i],
                                        param(serde_params, t->parameters, keys[i]));
        }
    }
    t->header_lines = 0;
    if (hdr) {
        long v = strtol(hdr, &end, 10);
        if (end == hdr || *end || v < 0 || v > 1000) {
            return lake_host->error_set(WEIR_EINVALID,
                                        "%s: skip.header.line.count '%s' is not a "
                                        "small non-negative integer",
                                        where, hdr);
        }
        t->header_lines = (int)v;
    }
    return WEIR_OK;
}

/* weir.null.tokens (a JSON array, from the YAML form) wins over Hive's single
 * serialization.null.format, which wins over the defaults. */
static int null_tokens(struct lake_table *t, const json_t *serde_params, const char *where)
{
    const char *list = param(serde_params, t->parameters, "weir.null.tokens");
    const char *one = param(serde_params, t->parameters, "serialization.null.format");
    json_t *arr = list ? json_loads(list, 0, NULL) : NULL;
    size_t i, n = 0;
    int rc = WEIR_OK;

    if (list && (!json_is_array(arr))) {
        rc = lake_host->error_set(WEIR_EINVALID,
                                  "%s: weir.null.tokens must be a JSON array of strings", where);
        goto done;
    }
    n = arr ? json_array_size(arr) : one ? 1 : 5;
    if ((t->null_tokens = lake_host->malloc((n + 1) * sizeof(char *))) == NULL) {
        rc = lake_host->error_set(WEIR_ENOMEM, "%s: out of memory", where);
        goto done;
    }
    memset(t->null_tokens, 0, (n + 1) * sizeof(char *));
    for (i = 0; i < n; i++) {
        const char *tok = arr   ? json_string_value(json_array_get(arr, i))
                          : one ? one
                                : lake_cat_default_nulls[i];
        if (!tok) {
            rc = lake_host->error_set(WEIR_EINVALID, "%s: weir.null.tokens[%zu] is not a string",
                                      where, i);
            goto done;
        }
        if ((t->null_tokens[i] = lake_cat_strdup(tok)) == NULL) {
            rc = lake_host->error_set(WEIR_ENOMEM, "%s: out of memory", where);
            goto done;
        }
    }

done:
    json_decref(arr);
    return rc;
}

static int dup_field(const json_t *obj, const char *key, char **out, const char *where)
{
    const char *v = str_at(obj, key);

    if (!v) {
        *out = NULL;
        return WEIR_OK;
    }
    if ((*out = lake_cat_strdup(v)) == NULL) {
        return lake_host->error_set(WEIR_ENOMEM, "%s: out of memory", where);
    }
    return WEIR_OK;
}

int lake_cat_table_from_def(json_t *def, const char *base, const char *store_root,
                            const char *where, struct lake_table **out)
{
    json_t *tbl = json_object_get(def, "Table"), *sd, *serde;
    struct lake_table *t;
    int rc;

    *out = NULL;
    if ((t = lake_host->malloc(sizeof(*t))) == NULL) {
        json_decref(def);
        return lake_host->error_set(WEIR_ENOMEM, "%s: out of memory", where);
    }
    memset(t, 0, sizeof(*t));
    t->def = def;
    sd = json_object_get(tbl, "StorageDescriptor");
    serde = json_object_get(sd, "SerdeInfo");
    if (!json_is_object(tbl) || !json_is_object(sd)) {
        rc = lake_host->error_set(WEIR_EINVALID,
                                  "%s: not a Glue table: needs {\"Table\": {..., "
                                  "\"StorageDescriptor\": {...}}}",
                                  where);
        goto done;
    }
    if (!json_is_object(json_object_get(tbl, "Parameters"))) {
        json_object_set_new(tbl, "Parameters", json_object());
    }
    t->parameters = json_object_get(tbl, "Parameters");
    if (!str_at(tbl, "Name") || !str_at(tbl, "DatabaseName") || !str_at(sd, "Location")) {
        rc = lake_host->error_set(WEIR_EINVALID,
                                  "%s: Table.Name, Table.DatabaseName and "
                                  "StorageDescriptor.Location are required strings",
                                  where);
        goto done;
    }
    if ((rc = dup_field(tbl, "Name", &t->name, where)) < 0 ||
        (rc = dup_field(tbl, "DatabaseName", &t->database, where)) < 0 ||
        (rc = dup_field(tbl, "Description", &t->description, where)) < 0 ||
        (rc = dup_field(sd, "Location", &t->location, where)) < 0 ||
        (rc = columns_from(json_object_get(sd, "Columns"), "StorageDescriptor.Columns", where,
                           &t->columns, &t->ncolumns)) < 0 ||
        (rc = columns_from(json_object_get(tbl, "PartitionKeys"), "PartitionKeys", where,
                           &t->partitions, &t->npartitions)) < 0 ||
        (rc = check_unique(t, where)) < 0 ||
        (rc = resolve_location(t, base, store_root, where)) < 0 ||
        (rc = format_from(t, str_at(serde, "SerializationLibrary"), where)) < 0 ||
        (rc = csv_options(t, json_object_get(serde, "Parameters"), where)) < 0 ||
        (rc = null_tokens(t, json_object_get(serde, "Parameters"), where)) < 0) {
        goto done;
    }
    if (t->ncolumns == 0) {
        rc = lake_host->error_set(
            WEIR_EINVALID, "%s: the table has no columns (StorageDescriptor.Columns)", where);
        goto done;
    }
    if (t->format == LAKE_JSONL) {
        t->header_lines = 0;
    }
    *out = t;
    t = NULL;

done:
    lake_table_free(t);
    return rc;
}

/* ---- loading and freeing ------------------------------------------------- */

static void columns_free(struct lake_column *c, size_t n)
{
    for (size_t i = 0; c && i < n; i++) {
        lake_host->free(c[i].name);
        lake_host->free(c[i].type);
        lake_host->free(c[i].comment);
    }
    lake_host->free(c);
}

void lake_table_free(struct lake_table *t)
{
    if (!t) {
        return;
    }
    lake_host->free(t->database);
    lake_host->free(t->name);
    lake_host->free(t->description);
    columns_free(t->columns, t->ncolumns);
    columns_free(t->partitions, t->npartitions);
    lake_host->free(t->location);
    lake_host->free(t->root);
    lake_cat_strv_free(t->null_tokens);
    json_decref(t->def);
    lake_host->free(t);
}

/* Reads the one definition file of db.table (JSON or YAML) into the Glue shape. */
static int read_def(const char *cat, const char *db, const char *name, json_t **def, char **where)
{
    static const char *const exts[] = { "json", "yaml", "yml" };
    char *found = NULL;
    struct stat st;
    json_error_t jerr;
    int rc = WEIR_OK;

    for (size_t i = 0; i < 3; i++) {
        char *p = lake_cat_printf("%s/%s/%s.%s", cat, db, name, exts[i]);
        if (!p) {
            rc = lake_host->error_set(WEIR_ENOMEM, "out of memory");
            goto done;
        }
        if (stat(p, &st) != 0 || !S_ISREG(st.st_mode)) {
            lake_host->free(p);
            continue;
        }
        if (found) {
            rc = lake_host->error_set(WEIR_EINVALID,
                                      "table '%s.%s' is defined twice, in '%s' and '%s'; "
                                      "remove one",
                                      db, name, found, p);
            lake_host->free(p);
            goto done;
        }
        found = p;
    }
    if (!found) {
        rc = lake_host->error_set(WEIR_ENOTFOUND,
                                  "table '%s.%s' not found: no %s/%s/%s.json or .yaml; "
                                  "`weir catalog list %s` shows the tables",
                                  db, name, cat, db, name, db);
        goto done;
    }
    if (!strcmp(found + strlen(found) - 5, ".json")) {
        if ((*def = json_load_file(found, 0, &jerr)) == NULL) {
            rc = lake_host->error_set(WEIR_EINVALID, "%s:%d:%d: %s", found, jerr.line, jerr.column,
                                      jerr.text);
        }
    }
    else {
        rc = lake_cat_yaml_to_glue(found, db, def);
    }

done:
    if (rc < 0) {
        lake_host->free(found);
        found = NULL;
    }
    *where = found;
    return rc;
}

/* The file's place in the catalog names the table; a definition that says
 * otherwise is refused rather than silently renamed. */
static int check_names(json_t *def, const char *db, const char *name, const char *where)
{
    json_t *tbl = json_object_get(def, "Table");
    const char *n, *d;

    if (!json_is_object(tbl)) {
        return lake_host->error_set(WEIR_EINVALID, "%s: not a Glue table: no \"Table\" object",
                                    where);
    }
    if (!json_object_get(tbl, "DatabaseName")) {
        json_object_set_new(tbl, "DatabaseName", json_string(db));
    }
    if (!json_object_get(tbl, "Name")) {
        json_object_set_new(tbl, "Name", json_string(name));
    }
    n = str_at(tbl, "Name");
    d = str_at(tbl, "DatabaseName");
    if (!n || !d || strcmp(n, name) || strcmp(d, db)) {
        return lake_host->error_set(WEIR_EINVALID,
                                    "%s: the definition names table '%s.%s' but its file "
                                    "says '%s.%s'; rename the file or fix Name/DatabaseName",
                                    where, d ? d : "?", n ? n : "?", db, name);
    }
    return WEIR_OK;
}

int lake_table_load(const char *catalog_dir, const char *store_root, const char *qualified,
                    struct lake_table **out)
{
    char *cat = NULL, *project = NULL, *store = NULL, *db = NULL, *where = NULL, *dot;
    json_t *def = NULL;
    int rc;

    *out = NULL;
    if (!qualified || (dot = strchr(qualified, '.')) == NULL) {
        return lake_host->error_set(WEIR_EINVALID, "table '%s' must be qualified as database.table",
                                    qualified ? qualified : "");
    }
    if ((db = lake_cat_strdup(qualified)) == NULL) {
        return lake_host->error_set(WEIR_ENOMEM, "out of memory");
    }
    db[dot - qualified] = '\0';
    if (!lake_cat_name_ok(db) || !lake_cat_name_ok(dot + 1)) {
        rc = lake_host->error_set(WEIR_EINVALID,
                                  "table '%s': database and table names are letters, digits, "
                                  "'_' and '-'",
                                  qualified);
        goto done;
    }
    cat = lake_cat_path_abs(NULL, catalog_dir ? catalog_dir : "catalog");
    project = cat ? lake_cat_dirname(cat) : NULL;
    store = project ? lake_cat_path_abs(project, store_root ? store_root : "lake") : NULL;
    if (!store) {
        rc = lake_host->error_set(WEIR_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = read_def(cat, db, dot + 1, &def, &where)) < 0 ||
        (rc = check_names(def, db, dot + 1, where)) < 0) {
        goto done;
    }
    rc = lake_cat_table_from_def(def, project, store, where, out);
    def = NULL;

done:
    json_decref(def);
    lake_host->free(cat);
    lake_host->free(project);
    lake_host->free(store);
    lake_host->free(db);
    lake_host->free(where);
    return rc;
}

/* ---- files --------------------------------------------------------------- */

int lake_table_files(const struct lake_table *t, const struct lake_partition_filter *filter,
                     struct lake_file **out, size_t *n)
{
    struct lake_cat_walk w = { 0 };
    char *qual = lake_cat_printf("%s.%s", t->database, t->name);
    char **keys = NULL;
    int rc;

    if (!qual || (keys = lake_host->malloc((t->npartitions + 1) * sizeof(char *))) == NULL) {
        lake_host->free(qual);
        return lake_host->error_set(WEIR_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < t->npartitions; i++) {
        keys[i] = t->partitions[i].name;
    }
    w.root = t->root;
    w.table = qual;
    w.keys = keys;
    w.nkeys = t->npartitions;
    rc = lake_cat_walk_files(&w, filter, out, n);
    lake_host->free(keys);
    lake_host->free(qual);
    return rc;
}

void lake_files_free(struct lake_file *files, size_t n)
{
    for (size_t i = 0; files && i < n; i++) {
        lake_host->free(files[i].path);
        lake_cat_strv_free(files[i].partition_values);
    }
    lake_host->free(files);
}
