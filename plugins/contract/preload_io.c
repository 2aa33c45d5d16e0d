/*
 * preload_io.c - contract.preload's input side: the files of a batch, the
 * table that says how to read them, and the streaming loop that sends every
 * record to the valid output or the quarantine (see preload.c for the
 * outputs and the accounting rules).
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "predicate.h"
#include "preload_int.h"
#include "rawscan.h"

#define CHECK_EVERY 65536

static char *dup_n(const char *s, size_t n)
{
    char *p = contract_host->malloc(n + 1);

    if (p != NULL) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

/* ---- files --------------------------------------------------------------- */

static int cmp_files(const void *a, const void *b)
{
    return strcmp(((const struct lake_file *)a)->path, ((const struct lake_file *)b)->path);
}

void preload_files_free(struct lake_file *files, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        contract_host->free(files[i].path);
    }
    contract_host->free(files);
}

static int add_file(struct lake_file **files, size_t *n, char *path)
{
    struct lake_file *f = contract_host->realloc(*files, (*n + 1) * sizeof(**files));

    if (f == NULL || path == NULL) {
        contract_host->free(path);
        if (f != NULL) {
            *files = f;
        }
        return contract_host->error_set(WEIR_ENOMEM, "out of memory");
    }
    *files = f;
    f[*n].path = path;
    f[*n].partition_values = NULL;
    (*n)++;
    return WEIR_OK;
}

int preload_list_files(const char *path, struct lake_file **out, size_t *n)
{
    struct stat sb;
    struct dirent *de;
    DIR *d;
    int rc = WEIR_OK;

    *out = NULL;
    *n = 0;
    if (stat(path, &sb) < 0) {
        return contract_host->error_set(WEIR_ENOTFOUND, "contract.preload: input %s: %s", path,
                                        strerror(errno));
    }
    if (!S_ISDIR(sb.st_mode)) {
        return add_file(out, n, preload_printf("%s", path));
    }
    if ((d = opendir(path)) == NULL) {
        return contract_host->error_set(WEIR_EIO, "contract.preload: input %s: %s", path,
                                        strerror(errno));
    }
    while (rc >= 0 && (de = readdir(d)) != NULL) {
        char *full;

        if (de->d_name[0] == '.' || de->d_name[0] == '_') {
            continue;
        }
        if ((full = preload_printf("%s/%s", path, de->d_name)) == NULL) {
            rc = contract_host->error_set(WEIR_ENOMEM, "out of memory");
            break;
        }
        if (stat(full, &sb) < 0 || !S_ISREG(sb.st_mode)) {
            contract_host->free(full);
            continue;
        }
        rc = add_file(out, n, full);
    }
    closedir(d);
    if (rc >= 0 && *n == 0) {
        rc = contract_host->error_set(WEIR_ENOTFOUND,
                                      "contract.preload: input directory %s has "
                                      "no data files",
                                      path);
    }
    if (rc < 0) {
        preload_files_free(*out, *n);
        *out = NULL;
        *n = 0;
        return rc;
    }
    qsort(*out, *n, sizeof(**out), cmp_files);
    return WEIR_OK;
}

/* ---- the table ----------------------------------------------------------- */

void preload_table_free(struct lake_table *t, int own)
{
    size_t i;

    if (t == NULL) {
        return;
    }
    if (!own) {
        lake_table_free(t);
        return;
    }
    for (i = 0; i < t->ncolumns; i++) {
        contract_host->free(t->columns[i].name);
        contract_host->free(t->columns[i].type);
    }
    contract_host->free(t->columns);
    contract_host->free(t->name);
    contract_host->free(t);
}

json_t *preload_table_schema(const struct lake_table *t)
{
    json_t *arr;
    size_t i;

    if (t == NULL || t->ncolumns + t->npartitions == 0 || (arr = json_array()) == NULL) {
        return NULL;
    }
    for (i = 0; i < t->ncolumns + t->npartitions; i++) {
        const struct lake_column *c =
            i < t->ncolumns ? &t->columns[i] : &t->partitions[i - t->ncolumns];

        json_array_append_new(
            arr, json_pack("{s:s, s:s}", "name", c->name, "type", c->type ? c->type : "string"));
    }
    return arr;
}

int preload_table_from_catalog(struct preload_run *st, const char *catalog_dir, const char *table)
{
    char *dir = preload_resolve(st->project, st->store_root, catalog_dir);
    int rc;

    if (dir == NULL || (st->table_name = preload_printf("%s", table)) == NULL) {
        contract_host->free(dir);
        return contract_host->error_set(WEIR_ENOMEM, "out of memory");
    }
    rc = lake_table_load(dir, st->store_root, table, &st->table);
    contract_host->free(dir);
    if (rc < 0) {
        return contract_host->error_set(rc, "contract.preload: table %s: %s", table,
                                        contract_host->error_last());
    }
    st->from_catalog = 1;
    return WEIR_OK;
}

static int add_column(struct lake_table *t, const char *name, size_t len)
{
    struct lake_column *c = contract_host->realloc(t->columns, (t->ncolumns + 1) * sizeof(*c));

    if (c == NULL) {
        return contract_host->error_set(WEIR_ENOMEM, "out of memory");
    }
    t->columns = c;
    c = &t->columns[t->ncolumns];
    memset(c, 0, sizeof(*c));
    c->name = dup_n(name, len);
    c->type = dup_n("string", 6);
    c->kind = LAKE_STRING;
    t->ncolumns++;
    return c->name && c->type ? WEIR_OK : contract_host->error_set(WEIR_ENOMEM, "out of memory");
}

/* Column names from a CSV header record (quotes removed, "" unescaped). */
static int header_columns(struct lake_table *t, const char *rec, size_t len, char delim)
{
    char name[1024];
    size_t i = 0, n;
    int rc;

    while (len > 0 && (rec[len - 1] == '\n' || rec[len - 1] == '\r')) {
        len--;
    }
    for (;;) {
        n = 0;
        if (i < len && rec[i] == '"') {
            for (i++; i < len; i++) {
                if (rec[i] == '"' && !(i + 1 < len && rec[i + 1] == '"')) {
                    i++;
                    break;
                }
                i += rec[i] == '"';
                if (n < sizeof(name) - 1) {
                    name[n++] = rec[i];
                }
            }
        }
        for (; i < len && rec[i] != delim; i++) {
            if (n < sizeof(name) - 1) {
                name[n++] = rec[i];
            }
        }
        if ((rc = add_column(t, name, n)) < 0) {
            return rc;
        }
        if (i >= len) {
            return WEIR_OK;
        }
        i++;
    }
}

static int is_jsonl_name(const char *path)
{
    const char *dot = strrchr(path, '.');

    return dot && (!strcmp(dot, ".jsonl") || !strcmp(dot, ".ndjson") || !strcmp(dot, ".json"));
}

int preload_table_infer(struct preload_run *st, const json_t *input, char delim)
{
    struct lake_table *t;
    struct rawscan *raw = NULL;
    const char *base = strrchr(st->files[0].path, '/'), *rec, *dot;
    size_t len;
    int rc;

    (void)input;
    if ((t = contract_host->malloc(sizeof(*t))) == NULL) {
        return contract_host->error_set(WEIR_ENOMEM, "out of memory");
    }
    memset(t, 0, sizeof(*t));
    st->table = t;
    st->own_table = 1;
    base = base ? base + 1 : st->files[0].path;
    dot = strchr(base, '.');
    st->table_name = dup_n(base, dot ? (size_t)(dot - base) : strlen(base));
    t->name = preload_printf("%s", st->table_name ? st->table_name : "");
    if (st->table_name == NULL || t->name == NULL) {
        return contract_host->error_set(WEIR_ENOMEM, "out of memory");
    }
    t->format = is_jsonl_name(st->files[0].path) ? LAKE_JSONL : LAKE_CSV;
    t->delimiter = delim;
    if (t->format == LAKE_JSONL) {
        return WEIR_OK;
    }
    t->header_lines = 1;
    if ((rc = rawscan_open(st->files[0].path, 0, delim, &raw)) < 0) {
        return rc;
    }
    if ((rc = rawscan_next(raw)) == 0) {
        rc = contract_host->error_set(WEIR_EINVALID,
                                      "contract.preload: %s is empty: a CSV "
                                      "input without a table needs a header line",
                                      st->files[0].path);
    }
    if (rc > 0) {
        rec = rawscan_record(raw, &len);
        rc = header_columns(t, rec, len, delim);
    }
    rawscan_close(raw);
    return rc;
}

/* JSON Lines without a table: the columns are the contract's (objects are
 * read by key). */
int preload_table_add_contract_columns(struct preload_run *st)
{
    const json_t *cols = json_object_get(st->c->data_quality, "columns");
    const char *name;
    const json_t *def;
    size_t i;
    int rc;

    if (st->table->format != LAKE_JSONL) {
        return WEIR_OK;
    }
    json_object_foreach((json_t *)cols, name, def) {
        if ((rc = add_column(st->table, name, strlen(name))) < 0) {
            return rc;
        }
    }
    for (i = 0; i < st->c->nrules; i++) {
        const char *col = st->c->rules[i].column;

        if (col != NULL && json_object_get(cols, col) == NULL &&
            (rc = add_column(st->table, col, strlen(col))) < 0) {
            return rc;
        }
    }
    return WEIR_OK;
}

/* ---- streaming ----------------------------------------------------------- */

static int write_record(struct preload_out *o, const char *rec, size_t len)
{
    if (len > 0 && fwrite(rec, 1, len, o->f) != len) {
        return contract_host->error_set(WEIR_EIO, "%s: write: %s", o->tmp, strerror(errno));
    }
    if ((len == 0 || (rec[len - 1] != '\n' && rec[len - 1] != '\r')) && putc('\n', o->f) == EOF) {
        return contract_host->error_set(WEIR_EIO, "%s: write: %s", o->tmp, strerror(errno));
    }
    return WEIR_OK;
}

/* Opens the raw pass on path and skips (first file: copies) the header. */
static int raw_open(struct preload_run *st, const char *path)
{
    const char *rec;
    size_t len;
    int i, rc;

    rc = rawscan_open(path, st->table->format == LAKE_JSONL, st->table->delimiter, &st->raw);
    for (i = 0; rc >= 0 && st->table->format == LAKE_CSV && i < st->table->header_lines; i++) {
        if ((rc = rawscan_next(st->raw)) <= 0) {
            break;
        }
        rec = rawscan_record(st->raw, &len);
        if (!st->header_written) {
            rc = write_record(&st->valid, rec, len);
        }
    }
    if (rc >= 0 && st->table->header_lines > 0) {
        st->header_written = 1;
    }
    return rc < 0 ? rc : WEIR_OK;
}

/* Counts the records of the raw pass the reader never delivered. */
static int raw_drain(struct preload_run *st)
{
    int rc;

    while (st->raw != NULL && (rc = rawscan_next(st->raw)) != 0) {
        if (rc < 0) {
            return rc;
        }
        st->raw_records++;
        st->unmatched++;
    }
    rawscan_close(st->raw);
    st->raw = NULL;
    return WEIR_OK;
}

/* Moves the raw pass to the record of file that starts on line. */
static int raw_sync(struct preload_run *st, const char *file, uint64_t line)
{
    int rc;

    /* the reader hands out the same path pointer for every row of a file */
    if (st->raw == NULL || (file != st->raw_file && strcmp(rawscan_path(st->raw), file) != 0)) {
        if ((rc = raw_drain(st)) < 0 || (rc = raw_open(st, file)) < 0) {
            return rc;
        }
    }
    st->raw_file = file;
    for (;;) {
        if ((rc = rawscan_next(st->raw)) < 0) {
            return rc;
        }
        if (rc == 0 || rawscan_line(st->raw) > line) {
            return contract_host->error_set(WEIR_ERROR,
                                            "contract.preload: internal error: the "
                                            "raw pass lost the record at %s:%llu",
                                            file, (unsigned long long)line);
        }
        st->raw_records++;
        if (rawscan_line(st->raw) == line) {
            return WEIR_OK;
        }
        st->unmatched++;
    }
}

/* Valid UTF-8 copy of raw bytes (bad bytes become U+FFFD), for JSON. */
static json_t *text_json(const char *s, size_t len)
{
    json_t *v;
    char *buf, *p;
    size_t i;

    while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == '\r')) {
        len--;
    }
    if ((v = json_stringn(s, len)) != NULL) {
        return v;
    }
    if ((buf = contract_host->malloc(len * 3 + 1)) == NULL) {
        return NULL;
    }
    for (i = 0, p = buf; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c < 0x80) {
            *p++ = (char)c;
        }
        else {
            memcpy(p, "\xEF\xBF\xBD", 3);
            p += 3;
        }
    }
    v = json_stringn(buf, (size_t)(p - buf));
    contract_host->free(buf);
    return v;
}

static const char *rel_path(const struct preload_run *st, const char *path)
{
    size_t n = strlen(st->project);

    return !strncmp(path, st->project, n) && path[n] == '/' ? path + n + 1 : path;
}

static int write_quarantine(struct preload_run *st, json_t *obj)
{
    int rc = WEIR_OK;

    if (obj == NULL) {
        return contract_host->error_set(WEIR_ENOMEM, "out of memory");
    }
    if (json_dumpf(obj, st->quar.f, JSON_COMPACT) < 0 || putc('\n', st->quar.f) == EOF) {
        rc = contract_host->error_set(WEIR_EIO, "%s: write: %s", st->quar.tmp, strerror(errno));
    }
    json_decref(obj);
    st->quarantined += rc >= 0;
    return rc;
}

static void on_issue(const struct lake_issue *is, void *payload)
{
    struct preload_run *st = payload;
    const char *rec;
    size_t len;

    if (st->cb_rc < 0) {
        return;
    }
    st->malformed++;
    if ((st->cb_rc = raw_sync(st, is->file, is->line)) < 0) {
        return;
    }
    rec = rawscan_record(st->raw, &len);
    st->cb_rc = write_quarantine(st, json_pack("{s:I, s:s, s:[s], s:s, s:n, s:o}", "line",
                                               (json_int_t)is->line, "file", rel_path(st, is->file),
                                               "rule_name", "malformed", "error_reason", is->what,
                                               "row", "raw", text_json(rec, len)));
}

static json_t *row_json(const struct lake_table *t, const struct lake_field *f, size_t n)
{
    json_t *row = json_object();
    size_t i;

    for (i = 0; row != NULL && i < n && i < t->ncolumns + t->npartitions; i++) {
        const char *name =
            i < t->ncolumns ? t->columns[i].name : t->partitions[i - t->ncolumns].name;

        json_object_set_new(row, name, f[i].data ? text_json(f[i].data, f[i].len) : json_null());
    }
    return row;
}

static int quarantine_row(struct preload_run *st, const struct lake_field *f, size_t n,
                          size_t nfailed, const char *file, uint64_t line)
{
    json_t *names = json_array();
    char reason[2048], one[512];
    size_t i, at = 0;

    reason[0] = '\0';
    for (i = 0; names != NULL && i < nfailed; i++) {
        json_array_append_new(names, json_string(predicate_rule(st->pred, st->failed[i])->name));
        predicate_reason(st->pred, st->failed[i], f, n, one, sizeof(one));
        if (at < sizeof(reason)) {
            at += (size_t)snprintf(reason + at, sizeof(reason) - at, "%s%s", i ? "; " : "", one);
        }
    }
    return write_quarantine(st,
                            json_pack("{s:I, s:s, s:o, s:s, s:o}", "line", (json_int_t)line, "file",
                                      rel_path(st, file), "rule_name", names, "error_reason",
                                      reason, "row", row_json(st->table, f, n)));
}

static int one_row(struct preload_run *st, struct lake_reader *r)
{
    size_t n, nfailed, i, len;
    const struct lake_field *f = lake_reader_fields(r, &n);
    const char *file = lake_reader_file(r), *rec;
    uint64_t line = lake_reader_line(r);
    int rc, reject = 0;

    st->rows++;
    if ((rc = raw_sync(st, file, line)) < 0) {
        return rc;
    }
    if ((rc = predicate_eval(st->pred, f, n, st->failed, &nfailed)) < 0) {
        /* a broken rule fails the step; say where it broke */
        char why[1024];

        snprintf(why, sizeof(why), "%s", contract_host->error_last());
        return contract_host->error_set(rc, "contract.preload: %s line %llu: %s",
                                        rel_path(st, file), (unsigned long long)line, why);
    }
    for (i = 0; i < nfailed; i++) {
        st->counts[st->failed[i]]++;
        reject |= predicate_rule(st->pred, st->failed[i])->is_error;
    }
    if (reject) {
        return quarantine_row(st, f, n, nfailed, file, line);
    }
    st->warned += nfailed > 0;
    rec = rawscan_record(st->raw, &len);
    if ((rc = write_record(&st->valid, rec, len)) < 0) {
        return rc;
    }
    st->nvalid++;
    return WEIR_OK;
}

/* With no record at all, a CSV valid output still starts with the header. */
static int header_only(struct preload_run *st)
{
    int rc;

    if (st->header_written || st->table->format != LAKE_CSV || st->table->header_lines == 0) {
        return WEIR_OK;
    }
    if ((rc = raw_open(st, st->files[0].path)) < 0) {
        return rc;
    }
    rawscan_close(st->raw);
    st->raw = NULL;
    return WEIR_OK;
}

int preload_stream(struct preload_run *st)
{
    struct lake_reader_opts opts = { 1, on_issue, st };
    struct lake_reader *r = NULL;
    int rc;

    if ((rc = lake_reader_open(st->table, st->files, st->nfiles, &opts, &r)) < 0) {
        return rc;
    }
    for (;;) {
        rc = lake_reader_next(r);
        if (st->cb_rc < 0) {
            rc = st->cb_rc;
        }
        if (rc <= 0) {
            break;
        }
        if ((rc = one_row(st, r)) < 0) {
            break;
        }
        if (st->rows % CHECK_EVERY == 0 && st->ctx != NULL &&
            (rc = contract_host->ctx_check(st->ctx)) < 0) {
            break;
        }
    }
    lake_reader_close(r);
    if (rc == 0 && (rc = raw_drain(st)) >= 0) {
        rc = header_only(st);
    }
    return rc;
}
