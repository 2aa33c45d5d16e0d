/*
 * vtab.c - the weir_lake virtual table: a catalog table's files read in
 * place through a streaming lake_reader, one reader per cursor.
 *
 * Partition pruning: xBestIndex offers SQLite to pass equality and range
 * constraints on partition columns to xFilter, which turns the ones whose
 * meaning it is sure of into a lake_partition_filter. SQLite still checks
 * every constraint itself (omit = 0), so pruning can only save work; it
 * must never drop a file SQLite would have matched, which is why a
 * constraint is used only with the binary collation and a right-hand side
 * of the column's own kind (text on TEXT columns, numbers on numeric ones),
 * and why a file whose value in a numeric partition column is not a number
 * is kept under a range constraint (SQLite orders such text after every
 * number, the filter byte-wise).
 */
#include <errno.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"
#include "partition.h"

struct lv_table {
    sqlite3_vtab base;
    struct lake_table *t;
    struct lake_vtab_env *env;
    double rows;     /* estimated from the files' sizes; 0 until known */
};

struct lv_cursor {
    sqlite3_vtab_cursor base;
    struct lake_file *all;     /* every file of the table (owned) */
    size_t nall;
    struct lake_file *files;   /* shallow copies of the ones that may match */
    size_t nfiles;
    struct lake_reader *r;
    const struct lake_field *fields;
    int eof;
    sqlite3_int64 rowid;
};

static const char *sql_type(enum lake_type kind)
{
    switch (kind) {
    case LAKE_INT:
    case LAKE_BIGINT:
        return "INTEGER";
    case LAKE_DOUBLE:
    case LAKE_DECIMAL:
        return "REAL";
    default:
        return "TEXT";
    }
}

static int is_numeric_kind(enum lake_type kind)
{
    return kind == LAKE_INT || kind == LAKE_BIGINT || kind == LAKE_DOUBLE || kind == LAKE_DECIMAL;
}

static const struct lake_column *column_at(const struct lake_table *t, int i)
{
    return (size_t)i < t->ncolumns ? &t->columns[i] : &t->partitions[(size_t)i - t->ncolumns];
}

static char *declare_sql(const struct lake_table *t)
{
    sqlite3_str *s = sqlite3_str_new(NULL);

    sqlite3_str_appendall(s, "CREATE TABLE x(");
    for (size_t i = 0; i < t->ncolumns + t->npartitions; i++) {
        const struct lake_column *c = column_at(t, (int)i);

        sqlite3_str_appendf(s, "%s\"%w\" %s", i ? ", " : "", c->name, sql_type(c->kind));
    }
    sqlite3_str_appendall(s, ")");
    return sqlite3_str_finish(s);
}

/* The module argument, with the quotes SQL may have put around it. */
static char *qualified_arg(const char *arg)
{
    size_t n = strlen(arg);

    if (n >= 2 && (arg[0] == '\'' || arg[0] == '"') && arg[n - 1] == arg[0]) {
        return sqlite3_mprintf("%.*s", (int)(n - 2), arg + 1);
    }
    return sqlite3_mprintf("%s", arg);
}

static int lv_connect(sqlite3 *db, void *aux, int argc, const char *const *argv, sqlite3_vtab **out,
                      char **err)
{
    struct lake_vtab_env *env = aux;
    struct lv_table *tab = NULL;
    char *name = NULL, *decl = NULL;
    int rc = SQLITE_ERROR;

    if (argc != 4) {
        *err = sqlite3_mprintf("weir_lake takes one argument, the table as database.table");
        return SQLITE_ERROR;
    }
    if ((tab = sqlite3_malloc(sizeof(*tab))) == NULL || (name = qualified_arg(argv[3])) == NULL) {
        rc = SQLITE_NOMEM;
        goto done;
    }
    memset(tab, 0, sizeof(*tab));
    tab->env = env;
    if (lake_table_load(env->catalog_dir, env->store_root, name, &tab->t) < 0) {
        *err = sqlite3_mprintf("%s", lake_host->error_last());
        goto done;
    }
    if ((decl = declare_sql(tab->t)) == NULL) {
        rc = SQLITE_NOMEM;
        goto done;
    }
    if ((rc = sqlite3_declare_vtab(db, decl)) != SQLITE_OK) {
        *err = sqlite3_mprintf("%s: %s", name, sqlite3_errmsg(db));
        goto done;
    }
    *out = &tab->base;
    tab = NULL;

done:
    if (tab) {
        lake_table_free(tab->t);
        sqlite3_free(tab);
    }
    sqlite3_free(name);
    sqlite3_free(decl);
    return rc;
}

static int lv_disconnect(sqlite3_vtab *base)
{
    struct lv_table *tab = (struct lv_table *)base;

    lake_table_free(tab->t);
    sqlite3_free(tab);
    return SQLITE_OK;
}

static int cmp_of(unsigned char op, enum lake_cmp *out)
{
    switch (op) {
    case SQLITE_INDEX_CONSTRAINT_EQ:
        *out = LAKE_CMP_EQ;
        return 1;
    case SQLITE_INDEX_CONSTRAINT_GT:
        *out = LAKE_CMP_GT;
        return 1;
    case SQLITE_INDEX_CONSTRAINT_GE:
        *out = LAKE_CMP_GE;
        return 1;
    case SQLITE_INDEX_CONSTRAINT_LT:
        *out = LAKE_CMP_LT;
        return 1;
    case SQLITE_INDEX_CONSTRAINT_LE:
        *out = LAKE_CMP_LE;
        return 1;
    default:
        return 0;
    }
}

/* Rows of the table, guessed from its files' total size (64 bytes a row),
 * so the planner puts the smaller table inside a join's loop: without
 * indexes every inner row is read again for each outer one. */
static double estimate_rows(struct lv_table *tab)
{
    struct lake_file *files = NULL;
    double bytes = 0;
    size_t n = 0;
    struct stat st;

    if (tab->rows > 0) {
        return tab->rows;
    }
    if (lake_table_files(tab->t, NULL, &files, &n) == WEIR_OK) {
        for (size_t i = 0; i < n; i++) {
            if (stat(files[i].path, &st) == 0) {
                bytes += (double)st.st_size;
            }
        }
        lake_files_free(files, n);
    }
    tab->rows = bytes / 64 > 10 ? bytes / 64 : 10;
    return tab->rows;
}

/* idxStr lists the constraints handed to xFilter, in argv order, as
 * "<partition index>:<lake_cmp>," pairs. */
static int lv_best_index(sqlite3_vtab *base, sqlite3_index_info *info)
{
    struct lv_table *tab = (struct lv_table *)base;
    sqlite3_str *s = sqlite3_str_new(NULL);
    double cost = estimate_rows(tab);
    int n = 0;

    for (int i = 0; i < info->nConstraint; i++) {
        const struct sqlite3_index_constraint *c = &info->aConstraint[i];
        const char *coll;
        enum lake_cmp op;

        if (!c->usable || c->iColumn < (int)tab->t->ncolumns || !cmp_of(c->op, &op)) {
            continue;
        }
        coll = sqlite3_vtab_collation(info, i);
        if (coll && sqlite3_stricmp(coll, "BINARY") != 0) {
            continue;
        }
        info->aConstraintUsage[i].argvIndex = ++n;
        info->aConstraintUsage[i].omit = 0;
        sqlite3_str_appendf(s, "%d:%d,", c->iColumn - (int)tab->t->ncolumns, (int)op);
        cost /= op == LAKE_CMP_EQ ? 20.0 : 3.0;
    }
    info->idxNum = n;
    info->idxStr = sqlite3_str_finish(s);
    info->needToFreeIdxStr = 1;
    info->estimatedCost = cost > 1 ? cost : 1;
    info->estimatedRows = (sqlite3_int64)info->estimatedCost;
    return SQLITE_OK;
}

static int lv_open(sqlite3_vtab *base, sqlite3_vtab_cursor **out)
{
    struct lv_cursor *cur = sqlite3_malloc(sizeof(*cur));

    (void)base;
    if (!cur) {
        return SQLITE_NOMEM;
    }
    memset(cur, 0, sizeof(*cur));
    cur->eof = 1;
    *out = &cur->base;
    return SQLITE_OK;
}

static void cursor_reset(struct lv_cursor *cur)
{
    lake_reader_close(cur->r);
    cur->r = NULL;
    if (cur->all) {
        lake_files_free(cur->all, cur->nall);
    }
    lake_host->free(cur->files);
    cur->all = NULL;
    cur->nall = 0;
    cur->files = NULL;
    cur->nfiles = 0;
    cur->fields = NULL;
    cur->eof = 1;
    cur->rowid = 0;
}

static int lv_close(sqlite3_vtab_cursor *base)
{
    cursor_reset((struct lv_cursor *)base);
    sqlite3_free(base);
    return SQLITE_OK;
}

static int fail(sqlite3_vtab_cursor *base, int rc)
{
    sqlite3_free(base->pVtab->zErrMsg);
    base->pVtab->zErrMsg = sqlite3_mprintf("%s", lake_host->error_last());
    return rc == WEIR_ENOMEM ? SQLITE_NOMEM : SQLITE_ERROR;
}

/* Whether value v can prune partition column col with its own semantics
 * (see the top of the file). */
static int prunes(const struct lake_column *col, enum lake_cmp op, sqlite3_value *v)
{
    int type = sqlite3_value_type(v);

    if (is_numeric_kind(col->kind)) {
        return type == SQLITE_INTEGER || type == SQLITE_FLOAT;
    }
    if (type != SQLITE_TEXT) {
        return 0;
    }
    if (op == LAKE_CMP_EQ) {
        return 1;
    }
    /* The filter orders two numbers numerically ("9" < "10") where SQLite
     * orders TEXT byte-wise: a range with a numeric bound is left to SQLite. */
    char *end;
    const char *text = (const char *)sqlite3_value_text(v);

    errno = 0;
    (void)strtod(text, &end);
    return end == text || *end != '\0';
}

static int build_filter(struct lv_table *tab, const char *idx, int argc, sqlite3_value **argv,
                        struct lake_partition_filter **out)
{
    int rc;

    *out = NULL;
    for (int k = 0; k < argc && idx && *idx; k++) {
        char *end;
        long pk = strtol(idx, &end, 10);
        enum lake_cmp op = (enum lake_cmp)strtol(end + 1, &end, 10);

        idx = end + 1;
        if (pk < 0 || (size_t)pk >= tab->t->npartitions ||
            !prunes(&tab->t->partitions[pk], op, argv[k])) {
            continue;
        }
        if ((!*out && (rc = lake_partition_filter_new(out)) < 0) ||
            (rc = lake_partition_filter_add(*out, (size_t)pk, op,
                                            (const char *)sqlite3_value_text(argv[k]))) < 0) {
            return rc;
        }
    }
    return WEIR_OK;
}

static int is_number(const char *s)
{
    char *end;

    if (!*s || !strchr("+-.0123456789", *s)) {
        return 0;
    }
    (void)strtod(s, &end);
    return *end == '\0';
}

static int may_match(const struct lake_table *t, const struct lake_partition_filter *f,
                     const struct lake_file *file)
{
    const char *const *values = (const char *const *)file->partition_values;

    if (!f || !values || lake_partition_filter_match(f, values, t->npartitions)) {
        return 1;
    }
    for (size_t i = 0; i < f->n; i++) {
        const char *v = values[f->items[i].column];

        if (f->items[i].op != LAKE_CMP_EQ && is_numeric_kind(t->partitions[f->items[i].column].kind) && v &&
            strcmp(v, LAKE_HIVE_NULL_PARTITION) != 0 && !is_number(v)) {
            return 1;
        }
    }
    return 0;
}

/* Lists the table's files and keeps those the filter cannot rule out. */
static int select_files(struct lv_cursor *cur, const struct lake_table *t,
                        const struct lake_partition_filter *f)
{
    int rc;

    if ((rc = lake_table_files(t, NULL, &cur->all, &cur->nall)) < 0) {
        return rc;
    }
    cur->files = lake_host->malloc((cur->nall ? cur->nall : 1) * sizeof(*cur->files));
    if (!cur->files) {
        return lake_host->error_set(WEIR_ENOMEM, "out of memory listing %s.%s", t->database,
                                    t->name);
    }
    for (size_t i = 0; i < cur->nall; i++) {
        if (may_match(t, f, &cur->all[i])) {
            cur->files[cur->nfiles++] = cur->all[i];
        }
    }
    return WEIR_OK;
}

static int lv_next(sqlite3_vtab_cursor *base)
{
    struct lv_cursor *cur = (struct lv_cursor *)base;
    size_t n;
    int rc = lake_reader_next(cur->r);

    if (rc < 0) {
        cur->eof = 1;
        return fail(base, rc);
    }
    cur->eof = rc == 0;
    cur->fields = rc ? lake_reader_fields(cur->r, &n) : NULL;
    cur->rowid++;
    return SQLITE_OK;
}

static int lv_filter(sqlite3_vtab_cursor *base, int idx_num, const char *idx_str, int argc,
                     sqlite3_value **argv)
{
    struct lv_cursor *cur = (struct lv_cursor *)base;
    struct lv_table *tab = (struct lv_table *)base->pVtab;
    struct lake_partition_filter *filter = NULL;
    int rc;

    (void)idx_num;
    cursor_reset(cur);
    if ((rc = build_filter(tab, idx_str, argc, argv, &filter)) < 0 ||
        (rc = select_files(cur, tab->t, filter)) < 0 ||
        (rc = lake_reader_open(tab->t, cur->files, cur->nfiles, NULL, &cur->r)) < 0) {
            if (filter) {
            lake_partition_filter_free(filter);
        }
        return fail(base, rc);
    }
    if (filter) {
        lake_partition_filter_free(filter);
    }
    tab->env->files_read += cur->nfiles;
    cur->rowid = 0;
    return lv_next(base);
}

static int lv_eof(sqlite3_vtab_cursor *base)
{
    return ((struct lv_cursor *)base)->eof;
}

/* Numbers as numbers, so WHERE amount > 100 compares numerically; text that
 * does not parse stays text rather than becoming a wrong number. */
static void result_typed(sqlite3_context *ctx, enum lake_type kind, const struct lake_field *f)
{
    char *end;

    if (kind == LAKE_INT || kind == LAKE_BIGINT) {
        errno = 0;
        long long v = strtoll(f->data, &end, 10);

        if (f->len && end == f->data + f->len && errno == 0) {
            sqlite3_result_int64(ctx, v);
            return;
        }
    }
    else if ((kind == LAKE_DOUBLE || kind == LAKE_DECIMAL) && f->len &&
             strchr("+-.0123456789", f->data[0])) {
        double d = strtod(f->data, &end);

        if (end == f->data + f->len) {
            sqlite3_result_double(ctx, d);
            return;
        }
    }
    sqlite3_result_text(ctx, f->data, (int)f->len, SQLITE_TRANSIENT);
}

static int lv_column(sqlite3_vtab_cursor *base, sqlite3_context *ctx, int i)
{
    struct lv_cursor *cur = (struct lv_cursor *)base;
    struct lv_table *tab = (struct lv_table *)base->pVtab;
    const struct lake_field *f;

    if (!cur->fields || i < 0 || (size_t)i >= tab->t->ncolumns + tab->t->npartitions) {
        sqlite3_result_null(ctx);
        return SQLITE_OK;
    }
    f = &cur->fields[i];
    if (!f->data) {
        sqlite3_result_null(ctx);
        return SQLITE_OK;
    }
    if (f->len > (size_t)INT32_MAX) {
        sqlite3_result_error_toobig(ctx);
        return SQLITE_OK;
    }
    result_typed(ctx, column_at(tab->t, i)->kind, f);
    return SQLITE_OK;
}

static int lv_rowid(sqlite3_vtab_cursor *base, sqlite3_int64 *rowid)
{
    *rowid = ((struct lv_cursor *)base)->rowid;
    return SQLITE_OK;
}

static const sqlite3_module lv_module = {
    .iVersion = 0,
    .xCreate = lv_connect,
    .xConnect = lv_connect,
    .xBestIndex = lv_best_index,
    .xDisconnect = lv_disconnect,
    .xDestroy = lv_disconnect,
    .xOpen = lv_open,
    .xClose = lv_close,
    .xFilter = lv_filter,
    .xNext = lv_next,
    .xEof = lv_eof,
    .xColumn = lv_column,
    .xRowid = lv_rowid,
};

int lake_vtab_register(sqlite3 *db, struct lake_vtab_env *env)
{
    if (sqlite3_create_module_v2(db, "weir_lake", &lv_module, env, NULL) != SQLITE_OK) {
        return lake_host->error_set(WEIR_ERROR, "engine: cannot register weir_lake: %s",
                                    sqlite3_errmsg(db));
    }
    return WEIR_OK;
}
