/*
 * infer.c - catalog.infer: a table definition from files. The layout gives
 * the partition keys (key=value directories), the first line of a CSV file
 * its column names, and a sample of rows (sample_rows, from the first files
 * in path order) the delimiter and the types. The result is the Glue
 * GetTable shape, optionally written to <catalog_dir>/<db>/<table>.json.
 *
 * CSV records are read here with a small quote-aware splitter rather than
 * the engine's reader: inference only needs a sample, and must work on files
 * the reader would reject (it reports them as the inferred shape's problem).
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog_int.h"

#define SNIFF_RECORDS 200

/* What the sample said about one column. */
struct col {
    char *name;
    char *comment; /* or NULL */
    int saw_int, saw_real, saw_bool, saw_str, saw_nested;
    int str_not_date, str_not_ts;
};

struct infer {
    const char *path; /* as given, for messages */
    struct lake_file *files;
    size_t nfiles;
    struct lake_cat_walk walk;
    int jsonl;
    char delim;
    struct col *cols;
    size_t ncols, capcols;
    long sample_rows, rows;
};

/* ---- value classification ------------------------------------------------- */

static int digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i])) {
            return 0;
        }
    }
    return n > 0;
}

/* Integers with a leading zero ("007") stay text: they are codes, and a
 * number type would lose the zeros. */
static int is_int(const char *s)
{
    const char *d = s + (*s == '-' || *s == '+');
    char *end;

    if (!digits(d, strlen(d)) || (d[0] == '0' && d[1])) {
        return 0;
    }
    errno = 0;
    (void)strtoll(s, &end, 10);
    return errno == 0 && *end == '\0';
}

static int is_real(const char *s)
{
    const char *d = s + (*s == '-' || *s == '+');
    char *end;
    double v;

    if (strspn(d, "0123456789.eE+-") != strlen(d) ||
        !(isdigit((unsigned char)d[0]) || d[0] == '.') ||
        (d[0] == '0' && isdigit((unsigned char)d[1]))) {
        return 0;
    }
    v = strtod(s, &end);
    return *end == '\0' && isfinite(v);
}

static int is_date(const char *s)
{
    static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int y, m, d;

    if (strlen(s) < 10 || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) || s[7] != '-' ||
        !digits(s + 8, 2)) {
        return 0;
    }
    y = atoi(s);
    m = (s[5] - '0') * 10 + (s[6] - '0');
    d = (s[8] - '0') * 10 + (s[9] - '0');
    if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1]) {
        return 0;
    }
    return !(m == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)));
}

/* YYYY-MM-DD[ T]HH:MM:SS[.fffffffff] */
static int is_ts(const char *s)
{
    const char *t = s + 11;

    if (strlen(s) < 19 || !is_date(s) || (s[10] != ' ' && s[10] != 'T') || !digits(t, 2) ||
        t[2] != ':' || !digits(t + 3, 2) || t[5] != ':' || !digits(t + 6, 2)) {
        return 0;
    }
    if (atoi(t) > 23 || atoi(t + 3) > 59 || atoi(t + 6) > 60) {
        return 0;
    }
    t += 8;
    if (*t == '.') {
        size_t n = strspn(t + 1, "0123456789");
        return n >= 1 && n <= 9 && t[1 + n] == '\0';
    }
    return *t == '\0';
}

static void see_string(struct col *c, const char *s)
{
    c->saw_str = 1;
    c->str_not_date |= !(strlen(s) == 10 && is_date(s));
    c->str_not_ts |= !is_ts(s);
}

static void see_text(struct col *c, const char *s)
{
    for (size_t i = 0; lake_cat_default_nulls[i]; i++) {
        if (!strcmp(s, lake_cat_default_nulls[i])) {
            return;
        }
    }
    if (is_int(s)) {
        c->saw_int = 1;
    }
    else if (is_real(s)) {
        c->saw_real = 1;
    }
    else if (!strcasecmp(s, "true") || !strcasecmp(s, "false")) {
        c->saw_bool = 1;
    }
    else {
        see_string(c, s);
    }
}

static void see_json(struct col *c, const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
    case JSON_ARRAY: c->saw_nested = 1; break;
    case JSON_INTEGER: c->saw_int = 1; break;
    case JSON_REAL: c->saw_real = 1; break;
    case JSON_TRUE:
    case JSON_FALSE: c->saw_bool = 1; break;
    case JSON_STRING: see_string(c, json_string_value(v)); break;
    default: break;
    }
}

/* Mixed kinds fall back to string, the type every value can be read as. */
static const char *col_type(const struct col *c)
{
    int numeric = c->saw_int || c->saw_real;

    if (c->saw_nested || numeric + c->saw_bool + c->saw_str > 1) {
        return "string";
    }
    if (numeric) {
        return c->saw_real ? "double" : "bigint";
    }
    if (c->saw_bool) {
        return "boolean";
    }
    if (c->saw_str && !c->str_not_date) {
        return "date";
    }
    if (c->saw_str && !c->str_not_ts) {
        return "timestamp";
    }
    return "string";
}

/* ---- columns ------------------------------------------------------------- */

static struct col *col_add(struct infer *in, const char *name)
{
    struct col *c;

    if (in->ncols == in->capcols) {
        size_t cap = in->capcols ? in->capcols * 2 : 16;
        void *p = lake_host->realloc(in->cols, cap * sizeof(*in->cols));
        if (!p) {
            return NULL;
        }
        in->cols = p;
        in->capcols = cap;
    }
    c = &in->cols[in->ncols];
    memset(c, 0, sizeof(*c));
    if ((c->name = lake_cat_strdup(name)) == NULL) {
        return NULL;
    }
    in->ncols++;
    return c;
}

static struct col *col_find(struct infer *in, const char *name)
{
    for (size_t i = 0; i < in->ncols; i++) {
        if (!strcmp(in->cols[i].name, name)) {
            return &in->cols[i];
        }
    }
    return NULL;
}

/* A CSV header cell as a Hive column name: lower case, [a-z0-9_], unique;
 * the original goes into the comment when it had to change. */
static int csv_column(struct infer *in, const char *cell, size_t index)
{
    char name[256];
    size_t n = 0;
    struct col *c;

    for (const char *p = cell; *p && n + 8 < sizeof(name); p++) {
        name[n++] = isalnum((unsigned char)*p) ? (char)tolower((unsigned char)*p) : '_';
    }
    name[n] = '\0';
    if (n == 0) {
        snprintf(name, sizeof(name), "col_%zu", index + 1);
    }
    for (int k = 2; col_find(in, name); k++) {
        snprintf(name + n, sizeof(name) - n, "_%d", k);
    }
    if ((c = col_add(in, name)) == NULL) {
        return lake_host->error_set(WEIR_ENOMEM, "catalog.infer: out of memory");
    }
    if (strcmp(name, cell) && (c->comment = lake_cat_printf("header: '%s'", cell)) == NULL) {
        return lake_host->error_set(WEIR_ENOMEM, "catalog.infer: out of memory");
    }
    return WEIR_OK;
}

/* Of , ; tab |, the delimiter giving the same field count (above one) on
 * the most sampled records; ties go to the larger count, then list order. */
static int sniff(struct infer *in)
{
    static const char cands[] = { ',', ';', '\t', '|' };
    size_t counts[SNIFF_RECORDS], nrec = 0, best_hits = 0, best_mode = 0;
    json_t *recs = json_array();
    struct lake_cat_buf scratch = { 0 };
    struct lake_cat_src s;
    int rc;

    in->delim = ',';
    if ((rc = lake_cat_src_open(&s, in->files[0].path)) < 0) {
        json_decref(recs);
        return rc;
    }
    while (nrec < SNIFF_RECORDS && (long)nrec <= in->sample_rows &&
           (rc = lake_cat_next_nonblank(&s)) == 1) {
        json_array_append_new(recs, json_stringn_nocheck(s.rec.p, s.rec.n));
        nrec++;
    }
    for (size_t c = 0; rc >= 0 && c < sizeof(cands); c++) {
        size_t mode = 0, hits = 0, nf;
        for (size_t r = 0; rc >= 0 && r < nrec; r++) {
            json_t *v = json_array_get(recs, r);
            rc = lake_cat_split(json_string_value(v), json_string_length(v), cands[c], &scratch,
                                &nf);
            counts[r] = nf;
        }
        for (size_t r = 0; r < nrec; r++) {
            size_t h = 0;
            for (size_t k = 0; k < nrec; k++) {
                h += counts[k] == counts[r];
            }
            if (h > hits || (h == hits && counts[r] > mode)) {
                hits = h;
                mode = counts[r];
            }
        }
        if (mode > 1 && (hits > best_hits || (hits == best_hits && mode > best_mode))) {
            best_hits = hits;
            best_mode = mode;
            in->delim = cands[c];
        }
    }
    lake_cat_src_close(&s);
    lake_host->free(scratch.p);
    json_decref(recs);
    return rc < 0 ? rc : WEIR_OK;
}

/* Header of one file, checked against the first file's. */
static int csv_header(struct infer *in, struct lake_cat_src *s, struct lake_cat_buf *cells,
                      json_t *first, size_t fileno_)
{
    size_t nf, i;
    const char *cell;
    int rc;

    if ((rc = lake_cat_split(s->rec.p, s->rec.n, in->delim, cells, &nf)) < 0) {
        return rc;
    }
    for (i = 0, cell = cells->p; i < nf; i++, cell += strlen(cell) + 1) {
        if (fileno_ == 0) {
            json_array_append_new(first, json_string_nocheck(cell));
            if ((rc = csv_column(in, cell, i)) < 0) {
                return rc;
            }
        }
        else if (nf != json_array_size(first) ||
                 strcmp(cell, json_string_value(json_array_get(first, i)))) {
            return lake_host->error_set(WEIR_EINVALID,
                                        "catalog.infer: '%s' has a different header than '%s' "
                                        "(column %zu); files of one table share their columns",
                                        s->path, in->files[0].path, i + 1);
        }
    }
    return WEIR_OK;
}

static int sample_csv_file(struct infer *in, size_t k, struct lake_cat_buf *cells, json_t *first)
{
    struct lake_cat_src s;
    size_t nf, i;
    const char *cell;
    int rc;

    if ((rc = lake_cat_src_open(&s, in->files[k].path)) < 0) {
        return rc;
    }
    if ((rc = lake_cat_next_nonblank(&s)) <= 0 || (rc = csv_header(in, &s, cells, first, k)) < 0) {
        goto done;
    }
    while (in->rows < in->sample_rows && (rc = lake_cat_next_nonblank(&s)) == 1) {
        if ((rc = lake_cat_split(s.rec.p, s.rec.n, in->delim, cells, &nf)) < 0) {
            goto done;
        }
        if (nf != in->ncols) {
            rc =
                lake_host->error_set(WEIR_EINVALID,
                                     "catalog.infer: %s:%llu: %zu fields where the header has "
                                     "%zu (delimiter '%c'); fix the row or the header",
                                     s.path, (unsigned long long)s.start, nf, in->ncols, in->delim);
            goto done;
        }
        for (i = 0, cell = cells->p; i < nf; i++, cell += strlen(cell) + 1) {
            see_text(&in->cols[i], cell);
        }
        in->rows++;
    }

done:
    lake_cat_src_close(&s);
    return rc < 0 ? rc : WEIR_OK;
}

static int sample_csv(struct infer *in)
{
    struct lake_cat_buf cells = { 0 };
    json_t *first = json_array();
    int rc = sniff(in);

    for (size_t k = 0; rc == WEIR_OK && k < in->nfiles && in->rows < in->sample_rows; k++) {
        rc = sample_csv_file(in, k, &cells, first);
    }
    lake_host->free(cells.p);
    json_decref(first);
    return rc;
}

/* ---- JSON Lines ------------------------------------------------------------ */

static int sample_jsonl_file(struct infer *in, size_t k)
{
    struct lake_cat_src s;
    json_error_t jerr;
    json_t *obj, *v;
    const char *key;
    ssize_t len;
    int rc;

    if ((rc = lake_cat_src_open(&s, in->files[k].path)) < 0) {
        return rc;
    }
    while (in->rows < in->sample_rows && (len = getline(&s.lbuf, &s.lcap, s.f)) >= 0) {
        s.line++;
        if (strspn(s.lbuf, " \t\r\n") == (size_t)len) {
            continue;
        }
        if ((obj = json_loadb(s.lbuf, (size_t)len, 0, &jerr)) == NULL || !json_is_object(obj)) {
            rc = lake_host->error_set(WEIR_EINVALID, "catalog.infer: %s:%llu: %s", s.path,
                                      (unsigned long long)s.line,
                                      obj ? "a JSON Lines record must be an object" : jerr.text);
            json_decref(obj);
            break;
        }
        json_object_foreach(obj, key, v) {
            struct col *c = col_find(in, key);
            if (!c && (c = col_add(in, key)) == NULL) {
                rc = lake_host->error_set(WEIR_ENOMEM, "catalog.infer: out of memory");
                break;
            }
            see_json(c, v);
        }
        json_decref(obj);
        in->rows++;
        if (rc < 0) {
            break;
        }
    }
    lake_cat_src_close(&s);
    return rc;
}

static int sample_jsonl(struct infer *in)
{
    int rc = WEIR_OK;

    for (size_t k = 0; rc == WEIR_OK && k < in->nfiles && in->rows < in->sample_rows; k++) {
        rc = sample_jsonl_file(in, k);
    }
    for (size_t i = 0; rc == WEIR_OK && i < in->ncols; i++) {
        if (in->cols[i].saw_nested && !in->cols[i].comment &&
            (in->cols[i].comment = lake_cat_strdup("nested JSON kept as text")) == NULL) {
            rc = lake_host->error_set(WEIR_ENOMEM, "catalog.infer: out of memory");
        }
    }
    return rc;
}

/* ---- the definition -------------------------------------------------------- */

/* date or bigint when every (non-null) value of the key is one, else string. */
static const char *partition_type(const struct infer *in, size_t k)
{
    int all_date = 1, all_int = 1, any = 0;

    for (size_t i = 0; i < in->nfiles; i++) {
        const char *v = in->files[i].partition_values[k];
        if (!strcmp(v, LAKE_HIVE_NULL_PARTITION)) {
            continue;
        }
        any = 1;
        all_date &= strlen(v) == 10 && is_date(v);
        all_int &= is_int(v);
    }
    return !any ? "string" : all_date ? "date" : all_int ? "bigint" : "string";
}

static int glue_columns(const struct infer *in, json_t **cols, json_t **parts)
{
    *cols = json_array();
    *parts = json_array();
    for (size_t i = 0; i < in->ncols; i++) {
        json_t *c =
            json_pack("{s:s,s:s}", "Name", in->cols[i].name, "Type", col_type(&in->cols[i]));
        if (in->cols[i].comment) {
            json_object_set_new(c, "Comment", json_string(in->cols[i].comment));
        }
        json_array_append_new(*cols, c);
    }
    for (size_t k = 0; k < in->walk.nkeys; k++) {
        const char *key = in->walk.keys[k];
        for (size_t i = 0; i < in->ncols; i++) {
            if (!strcasecmp(in->cols[i].name, key)) {
                return lake_host->error_set(WEIR_EINVALID,
                                            "catalog.infer: partition key '%s' is also a column "
                                            "of the files under '%s'; rename one",
                                            key, in->path);
            }
        }
        json_array_append_new(*parts,
                              json_pack("{s:s,s:s}", "Name", key, "Type", partition_type(in, k)));
    }
    return WEIR_OK;
}

static json_t *glue_table(const struct infer *in, const char *db, const char *name,
                          const char *location, json_t *cols, json_t *parts)
{
    json_t *params = json_pack("{s:s}", "classification", in->jsonl ? "json" : "csv");
    json_t *serde_params = json_object();
    char delim[2] = { in->delim, '\0' };
    char *desc = lake_cat_printf("Inferred by weir from %s (%ld sampled rows)", in->path, in->rows);
    json_t *t;

    if (!in->jsonl) {
        json_object_set_new(params, "skip.header.line.count", json_string("1"));
        json_object_set_new(serde_params, "field.delim", json_string(delim));
    }
    t = json_pack("{s:{s:s,s:s,s:s,s:s,s:o,s:{s:o,s:s,s:s,s:s,s:{s:s,s:o}},s:o}}", "Table", "Name",
                  name, "DatabaseName", db, "Description", desc ? desc : "", "TableType",
                  "EXTERNAL_TABLE", "Parameters", params, "StorageDescriptor", "Columns", cols,
                  "Location", location, "InputFormat", "org.apache.hadoop.mapred.TextInputFormat",
                  "OutputFormat", "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
                  "SerdeInfo", "SerializationLibrary",
                  in->jsonl ? "org.openx.data.jsonserde.JsonSerDe"
                            : "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
                  "Parameters", serde_params, "PartitionKeys", parts);
    lake_host->free(desc);
    return t;
}

/* The Location to write: s3://bucket/prefix/ when the data sits under the
 * store root, else the path relative to the project (relative locations
 * start at the catalog directory's parent), else absolute. */
static char *location_for(const char *abs, const char *project, const char *store, const char *cat)
{
    size_t ns = strlen(store), np = strlen(project);
    char *cat_parent = lake_cat_dirname(cat), *loc;
    struct stat st;
    int dir = stat(abs, &st) == 0 && S_ISDIR(st.st_mode);

    if (!strncmp(abs, store, ns) && abs[ns] == '/' && strchr(abs + ns + 1, '/')) {
        loc = lake_cat_printf("s3://%s%s", abs + ns + 1, dir ? "/" : "");
    }
    else if (cat_parent && !strcmp(cat_parent, project) && !strncmp(abs, project, np) &&
             abs[np] == '/') {
        loc = lake_cat_strdup(abs + np + 1);
    }
    else {
        loc = lake_cat_strdup(abs);
    }
    lake_host->free(cat_parent);
    return loc;
}

/* A default table name from the path: its last component, without the
 * extension for a file, as lower case [a-z0-9_]. */
static char *default_name(const char *abs)
{
    const char *base = strrchr(abs, '/') + 1;
    char *name = lake_cat_strdup(*base ? base : "table"), *dot;

    if (!name) {
        return NULL;
    }
    if ((dot = strrchr(name, '.')) != NULL && dot != name) {
        *dot = '\0';
    }
    for (char *p = name; *p; p++) {
        *p = isalnum((unsigned char)*p) ? (char)tolower((unsigned char)*p) : '_';
    }
    return name;
}

/* ---- writing --------------------------------------------------------------- */

/* Writes {"Table": ...} to <cat>/<db>/<name>.json unless a definition is
 * there already (a .json only gives way to force; a YAML one never). */
static int write_def(const json_t *def, const char *cat, const char *db, const char *name,
                     int force, char **written)
{
    char *path = lake_cat_printf("%s/%s/%s.json", cat, db, name), *text = NULL;
    char *yaml = lake_cat_printf("%s/%s/%s.yaml", cat, db, name),
         *yml = lake_cat_printf("%s/%s/%s.yml", cat, db, name);
    int rc = WEIR_OK;

    if (!path || !yaml || !yml) {
        rc = lake_host->error_set(WEIR_ENOMEM, "out of memory");
    }
    else if (access(yaml, F_OK) == 0 || access(yml, F_OK) == 0) {
        rc = lake_host->error_set(WEIR_EEXISTS,
                                  "catalog.infer: %s.%s is already defined in YAML ('%s'); remove "
                                  "it first to replace it with an inferred definition",
                                  db, name, access(yaml, F_OK) == 0 ? yaml : yml);
    }
    else if (!force && access(path, F_OK) == 0) {
        rc = lake_host->error_set(WEIR_EEXISTS,
                                  "catalog.infer: '%s' exists; refusing to overwrite it without "
                                  "force: true (--force)",
                                  path);
    }
    else if ((text = json_dumps(def, JSON_INDENT(2))) == NULL) {
        rc = lake_host->error_set(WEIR_ENOMEM, "out of memory");
    }
    else {
        size_t len = strlen(text);
        char *full = lake_cat_printf("%s\n", text);
        rc = full ? lake_cat_write_atomic(path, full, len + 1)
                  : lake_host->error_set(WEIR_ENOMEM, "out of memory");
        lake_host->free(full);
    }
    free(text);
    lake_host->free(yaml);
    lake_host->free(yml);
    if (rc == WEIR_OK) {
        *written = path;
    }
    else {
        lake_host->free(path);
    }
    return rc;
}

/* ---- catalog.infer --------------------------------------------------------- */

static const struct weir_param_desc infer_params[] = {
    { "path", WEIR_PARAM_STRING, 1, NULL,
      "a directory of files (partitions: key=value folders) or one file, "
      "relative to the project; s3://bucket/key maps under store_root" },
    { "database", WEIR_PARAM_STRING, 0, "\"default\"", "database of the inferred table" },
    { "table", WEIR_PARAM_STRING, 0, NULL, "table name (default: the directory or file name)" },
    { "sample_rows", WEIR_PARAM_INTEGER, 0, "1000",
      "rows read to infer the delimiter and the types" },
    { "write", WEIR_PARAM_BOOLEAN, 0, "false", "also write <catalog_dir>/<database>/<table>.json" },
    { "force", WEIR_PARAM_BOOLEAN, 0, "false", "with write: replace an existing JSON definition" },
    { "catalog_dir", WEIR_PARAM_STRING, 0, "\"catalog\"",
      "catalog directory, relative to the project" },
    { "store_root", WEIR_PARAM_STRING, 0, "\"lake\"",
      "directory s3://bucket/key locations map under; data below it gets an s3:// location" },
    { NULL, WEIR_PARAM_ANY, 0, NULL, NULL },
};

static int json_ext(const char *path)
{
    const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');

    if (!dot || (slash && dot < slash)) {
        return -1;
    }
    return !strcasecmp(dot, ".json") || !strcasecmp(dot, ".jsonl") || !strcasecmp(dot, ".ndjson")
               ? 1
           : strcasecmp(dot, ".txt") ? 0
                                     : -1;
}

/* JSON Lines by extension; for .txt and extension-less files, by whether
 * the first non-blank byte of the first such file opens an object. */
static int detect_format(struct infer *in)
{
    int seen_json = 0, seen_csv = 0, c = EOF;
    FILE *f;

    for (size_t i = 0; i < in->nfiles; i++) {
        int e = json_ext(in->files[i].path);
        if (e < 0 && !seen_json && !seen_csv && (f = fopen(in->files[i].path, "rb")) != NULL) {
            while ((c = fgetc(f)) != EOF && isspace(c)) {
            }
            fclose(f);
            e = c == EOF ? -1 : c == '{';
        }
        seen_json |= e == 1;
        seen_csv |= e == 0;
    }
    if (seen_json && seen_csv) {
        return lake_host->error_set(WEIR_EINVALID,
                                    "catalog.infer: '%s' mixes JSON and delimited files; a table "
                                    "has one format",
                                    in->path);
    }
    in->jsonl = seen_json;
    return WEIR_OK;
}

static json_t *weir_info(const struct infer *in, const char *written)
{
    json_t *w =
        json_pack("{s:s,s:s,s:I,s:I}", "root", in->walk.root, "format", in->jsonl ? "jsonl" : "csv",
                  "files", (json_int_t)in->nfiles, "sampled_rows", (json_int_t)in->rows);
    char delim[2] = { in->delim, '\0' };

    if (!in->jsonl) {
        json_object_set_new(w, "delimiter", json_string(delim));
        json_object_set_new(w, "header_lines", json_integer(1));
    }
    json_object_set_new(w, "written", written ? json_string(written) : json_null());
    return w;
}

static int infer_sample(struct infer *in)
{
    int rc;

    if ((rc = lake_cat_walk_files(&in->walk, NULL, &in->files, &in->nfiles)) < 0) {
        return rc;
    }
    if (in->nfiles == 0) {
        return lake_host->error_set(WEIR_EINVALID, "catalog.infer: no data files under '%s'",
                                    in->path);
    }
    if ((rc = detect_format(in)) < 0 || (rc = in->jsonl ? sample_jsonl(in) : sample_csv(in)) < 0) {
        return rc;
    }
    if (in->ncols == 0) {
        return lake_host->error_set(WEIR_EINVALID,
                                    "catalog.infer: the files under '%s' hold no header or record "
                                    "to infer columns from",
                                    in->path);
    }
    return WEIR_OK;
}

static void infer_free(struct infer *in)
{
    for (size_t i = 0; i < in->ncols; i++) {
        lake_host->free(in->cols[i].name);
        lake_host->free(in->cols[i].comment);
    }
    lake_host->free(in->cols);
    lake_files_free(in->files, in->nfiles);
    lake_cat_strv_free(in->walk.keys);
}

static int run_infer(const json_t *input, json_t **out, weir_ctx *ctx, void *payload)
{
    const char *db = json_string_value(json_object_get(input, "database"));
    const char *given_name = json_string_value(json_object_get(input, "table"));
    json_int_t sample = json_integer_value(json_object_get(input, "sample_rows"));
    struct infer in = { 0 };
    char *abs = NULL, *project = NULL, *cat = NULL, *store = NULL, *name = NULL, *loc = NULL,
         *written = NULL;
    json_t *cols = NULL, *parts = NULL, *def = NULL;
    int rc;

    (void)payload;
    in.path = json_string_value(json_object_get(input, "path"));
    in.sample_rows = json_object_get(input, "sample_rows") ? (long)sample : 1000;
    db = db ? db : "default";
    project = lake_cat_project_path(ctx, ".");
    cat = lake_cat_project_path(ctx, json_string_value(json_object_get(input, "catalog_dir"))
                                         ?: "catalog");
    store = lake_cat_project_path(ctx, json_string_value(json_object_get(input, "store_root"))
                                           ?: "lake");
    /* an s3:// path names data the way a table's Location does: under the store root */
    if (in.path && !strncmp(in.path, "s3://", 5) && store) {
        abs = lake_cat_printf("%s/%s", store, in.path + 5);
    }
    else {
        abs = lake_cat_project_path(ctx, in.path ? in.path : "");
    }
    for (size_t n = abs ? strlen(abs) : 0; n > 1 && abs[n - 1] == '/'; n--) {
        abs[n - 1] = '\0'; /* "dir/" is "dir": one slash in the Location */
    }
    name = given_name ? lake_cat_strdup(given_name) : abs ? default_name(abs) : NULL;
    if (!abs || !project || !cat || !store || !name) {
        rc = lake_host->error_set(WEIR_ENOMEM, "catalog.infer: out of memory");
        goto done;
    }
    if (!in.path || !*in.path || in.sample_rows < 1 || !lake_cat_name_ok(db) ||
        !lake_cat_name_ok(name)) {
        rc = lake_host->error_set(
            WEIR_EINVALID,
            "catalog.infer: needs a non-empty path, sample_rows >= 1, and "
            "database and table names of letters, digits, '_' and '-' (got '%s.%s')",
            db, name);
        goto done;
    }
    in.walk.root = abs;
    in.walk.table = in.path;
    in.walk.discover = 1;
    if ((rc = infer_sample(&in)) < 0 || (rc = glue_columns(&in, &cols, &parts)) < 0) {
        goto done;
    }
    if ((loc = location_for(abs, project, store, cat)) == NULL ||
        (def = glue_table(&in, db, name, loc, cols, parts)) == NULL) {
        rc = lake_host->error_set(WEIR_ENOMEM, "catalog.infer: out of memory");
        goto done;
    }
    cols = parts = NULL;
    if (json_is_true(json_object_get(input, "write")) &&
        (rc = write_def(def, cat, db, name, json_is_true(json_object_get(input, "force")),
                        &written)) < 0) {
        goto done;
    }
    *out = json_deep_copy(def);
    json_object_set_new(*out, "weir", weir_info(&in, written));
    rc = WEIR_OK;

done:
    infer_free(&in);
    json_decref(cols);
    json_decref(parts);
    json_decref(def);
    lake_host->free(abs);
    lake_host->free(project);
    lake_host->free(cat);
    lake_host->free(store);
    lake_host->free(name);
    lake_host->free(loc);
    lake_host->free(written);
    return rc;
}

const struct weir_step_desc lake_cat_step_infer = {
    .version = WEIR_STEP_DESC_VERSION,
    .name = "infer",
    .service = "catalog",
    .description =
        "infers a table definition (Glue shape) from files: header, delimiter, types, partitions",
    .params = infer_params,
    .run = run_infer,
};
