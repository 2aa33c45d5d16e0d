/*
 * query.c - engine.query and engine.dialect of the embedded lake: SQL over
 * the catalog's files in place, on an in-memory SQLite database whose only
 * tables are weir_lake virtual tables (vtab.c).
 *
 * The SQL may come from an LLM, so it is treated as untrusted (reliability
 * targets §4): one statement only, first keyword SELECT or WITH,
 * sqlite3_stmt_readonly, PRAGMA query_only, an authorizer that allows
 * reading and plain functions and nothing else, no extension loading, no
 * further ATTACH, and a row limit plus a deadline enforced by a progress
 * handler. The catalog is set up before any of that is switched on.
 */
#include <ctype.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "engine_int.h"
#include "query_int.h"

static const struct weir_param_desc query_params[] = {
    { "sql", WEIR_PARAM_STRING, 1, NULL, "one SELECT or WITH statement (SQLite dialect)" },
    { "max_rows", WEIR_PARAM_INTEGER, 0, "10000", "rows returned at most; more sets truncated" },
    { "timeout_ms", WEIR_PARAM_INTEGER, 0, "60000", "the query is stopped after this long" },
    { "max_bytes", WEIR_PARAM_INTEGER, 0, "67108864",
      "result size cap (bytes of values, roughly); more sets truncated" },
    { "catalog_dir", WEIR_PARAM_STRING, 0, "\"catalog\"", "catalog directory (relative to the project)" },
    { "store_root", WEIR_PARAM_STRING, 0, "\"lake\"", "directory s3:// locations map under" },
    { "tables", WEIR_PARAM_ARRAY, 0, "null",
      "\"db.table\" names to expose; null exposes every table of the catalog" },
    { NULL, WEIR_PARAM_ANY, 0, NULL, NULL },
};

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the deadline ---------------------------------------------------- */

struct run_state {
    weir_ctx *ctx;
    int64_t deadline;    /* monotonic ms */
    int64_t budget_ms;   /* deadline - start */
    int by_step;         /* the step's own deadline came first */
    int stop_code;       /* why the progress handler stopped the query */
    char denied[160];    /* what the authorizer refused */
};

static int on_progress(void *payload)
{
    struct run_state *st = payload;
    int rc;

    if (now_ms() >= st->deadline) {
        st->stop_code = WEIR_ETIMEOUT;
        return 1;
    }
    if (st->ctx && (rc = lake_host->ctx_check(st->ctx)) < 0) {
        st->stop_code = rc;
        return 1;
    }
    return 0;
}

/* ---- the catalog ----------------------------------------------------- */

static int exec(sqlite3 *db, const char *sql)
{
    char *err = NULL;

    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
        lake_host->error_set(WEIR_EINVALID, "%s", err ? err : sqlite3_errmsg(db));
        sqlite3_free(err);
        return WEIR_EINVALID;
    }
    return WEIR_OK;
}

static int attach(sqlite3 *db, const char *schema, int *nattached)
{
    char *sql;
    int rc;

    if (!strcmp(schema, "main") || !strcmp(schema, "temp")) {
        return WEIR_OK;
    }
    sql = sqlite3_mprintf("SELECT 1 FROM pragma_database_list WHERE name = %Q", schema);
    sqlite3_stmt *st = NULL;
    int exists = sql && sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
                 sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    sqlite3_free(sql);
    if (exists) {
        return WEIR_OK;
    }
    /* The default limit of 10 attached databases is far below a real catalog. */
    if (*nattached + 1 > sqlite3_limit(db, SQLITE_LIMIT_ATTACHED, -1)) {
        sqlite3_limit(db, SQLITE_LIMIT_ATTACHED, *nattached + 1);
        if (sqlite3_limit(db, SQLITE_LIMIT_ATTACHED, -1) < *nattached + 1) {
            return lake_host->error_set(WEIR_EINVALID, "engine.query: more than %d databases in the "
                                        "catalog; name the ones needed in `tables`", *nattached);
        }
    }
    sql = sqlite3_mprintf("ATTACH ':memory:' AS \"%w\"", schema);
    rc = sql ? exec(db, sql) : WEIR_ENOMEM;
    sqlite3_free(sql);
    if (rc == WEIR_OK) {
        (*nattached)++;
    }
    return rc;
}

/* Exposes db.table; a table that fails to load is logged and left out, so
 * one broken definition does not stop queries on the others. */
static int expose(sqlite3 *db, weir_ctx *ctx, const char *schema, const char *table,
                  int *nattached, sqlite3_str *problems)
{
    char *sql;
    int rc;

    if ((rc = attach(db, schema, nattached)) < 0) {
        return rc;
    }
    sql = sqlite3_mprintf("CREATE VIRTUAL TABLE \"%w\".\"%w\" USING weir_lake('%q.%q')", schema,
                          table, schema, table);
    if (!sql) {
        return lake_host->error_set(WEIR_ENOMEM, "out of memory");
    }
    if (exec(db, sql) < 0) {
        lake_host->log(ctx, WEIR_LOG_WARN, "engine.query: table %s.%s left out: %s", schema, table,
                       lake_host->error_last());
        sqlite3_str_appendf(problems, "; %s.%s: %s", schema, table, lake_host->error_last());
    }
    sqlite3_free(sql);
    return WEIR_OK;
}

static int table_file_name(const char *file, char *name, size_t cap)
{
    const char *dot = strrchr(file, '.');
    size_t n;

    if (file[0] == '.' || !dot ||
        (strcmp(dot, ".json") != 0 && strcmp(dot, ".yaml") != 0 && strcmp(dot, ".yml") != 0)) {
        return 0;
    }
    n = (size_t)(dot - file);
    if (n == 0 || n >= cap) {
        return 0;
    }
    memcpy(name, file, n);
    name[n] = '\0';
    return 1;
}

static int expose_database(sqlite3 *db, weir_ctx *ctx, const char *catalog, const char *schema,
                           int *nattached, sqlite3_str *problems)
{
    char path[4096], name[256];
    struct dirent *e;
    DIR *d;
    int rc = WEIR_OK;

    snprintf(path, sizeof(path), "%s/%s", catalog, schema);
    if ((d = opendir(path)) == NULL) {
        return WEIR_OK;
    }
    while (rc == WEIR_OK && (e = readdir(d)) != NULL) {
        if (table_file_name(e->d_name, name, sizeof(name))) {
            rc = expose(db, ctx, schema, name, nattached, problems);
        }
    }
    closedir(d);
    return rc;
}

static int expose_catalog(sqlite3 *db, weir_ctx *ctx, const char *catalog, const json_t *tables,
                          sqlite3_str *problems)
{
    int nattached = 0, rc = WEIR_OK;
    struct dirent *e;
    DIR *d;

    if (tables) {
        size_t i;
        json_t *v;

        json_array_foreach(tables, i, v)
        {
            const char *q = json_string_value(v), *dot = q ? strchr(q, '.') : NULL;
            char schema[256];

            if (!dot || (size_t)(dot - q) >= sizeof(schema)) {
                return lake_host->error_set(WEIR_EINVALID, "engine.query: tables[%zu] must be a "
                                            "\"database.table\" string", i);
            }
            snprintf(schema, sizeof(schema), "%.*s", (int)(dot - q), q);
            if ((rc = expose(db, ctx, schema, dot + 1, &nattached, problems)) < 0) {
                return rc;
            }
        }
        return WEIR_OK;
    }
    if ((d = opendir(catalog)) == NULL) {
        return lake_host->error_set(WEIR_ENOTFOUND, "engine.query: catalog directory %s not "
                                    "found; set catalog_dir", catalog);
    }
    while (rc == WEIR_OK && (e = readdir(d)) != NULL) {
        if (e->d_name[0] != '.') {
            rc = expose_database(db, ctx, catalog, e->d_name, &nattached, problems);
        }
    }
    closedir(d);
    return rc;
}

/* ---- the gate -------------------------------------------------------- */

static int on_authorize(void *payload, int action, const char *a3, const char *a4, const char *a5,
                        const char *a6)
{
    static const char *const denied_functions[] = { "load_extension", "fts3_tokenizer",
                                                    "readfile", "writefile", "edit", NULL };
    struct run_state *st = payload;

    (void)a5;
    (void)a6;
    switch (action) {
    case SQLITE_SELECT:
    case SQLITE_READ:
    case SQLITE_RECURSIVE:
        return SQLITE_OK;
    case SQLITE_FUNCTION:
        for (const char *const *f = denied_functions; *f; f++) {
            if (a4 && sqlite3_stricmp(a4, *f) == 0) {
                snprintf(st->denied, sizeof(st->denied), "function %s()", a4);
                return SQLITE_DENY;
            }
        }
        return SQLITE_OK;
    default:
        snprintf(st->denied, sizeof(st->denied), "%s", lake_query_action_name(action, a3));
        return SQLITE_DENY;
    }
}

static int refuse(const char *sql, const char *why)
{
    return lake_host->error_set(WEIR_EINVALID, "engine.query: only a single SELECT or WITH "
                                "statement may run; got %.*s%s (%s)",
                                80, sql, strlen(sql) > 80 ? "..." : "", why);
}

/* Prepares the user's statement behind every check of the gate. */
static int prepare_checked(sqlite3 *db, struct run_state *st, const char *sql, const char *problems,
                           sqlite3_stmt **out)
{
    const char *tail = NULL;
    int rc;

    *out = NULL;
    if (!lake_query_first_keyword_ok(sql)) {
        return refuse(sql, "it does not start with SELECT or WITH");
    }
    sqlite3_set_authorizer(db, on_authorize, st);
    rc = sqlite3_prepare_v2(db, sql, -1, out, &tail);
    if (rc != SQLITE_OK) {
        if (st->denied[0]) {
            char why[200];

            snprintf(why, sizeof(why), "%s is not allowed", st->denied);
            return refuse(sql, why);
        }
        /* A write SQLite rejects before asking the authorizer (a DELETE on a
         * virtual table with no xUpdate) is a refusal too. */
        if (strstr(sqlite3_errmsg(db), "may not be modified") ||
            strstr(sqlite3_errmsg(db), "readonly")) {
            return refuse(sql, sqlite3_errmsg(db));
        }
        return lake_host->error_set(WEIR_EINVALID, "engine.query: %s%s", sqlite3_errmsg(db),
                                    problems);
    }
    if (!*out) {
        return refuse(sql, "no statement");
    }
    if (!lake_query_only_comments(tail)) {
        return refuse(sql, "more than one statement");
    }
    if (!sqlite3_stmt_readonly(*out)) {
        return refuse(sql, "the statement writes");
    }
    return WEIR_OK;
}

/* ---- results --------------------------------------------------------- */

static json_t *value_json(sqlite3_stmt *stmt, int i)
{
    switch (sqlite3_column_type(stmt, i)) {
    case SQLITE_INTEGER:
        return json_integer(sqlite3_column_int64(stmt, i));
    case SQLITE_FLOAT: {
        double d = sqlite3_column_double(stmt, i);

        return isfinite(d) ? json_real(d) : json_null();
    }
    case SQLITE_TEXT:
        return lake_query_text_json((const char *)sqlite3_column_text(stmt, i),
                                    (size_t)sqlite3_column_bytes(stmt, i));
    case SQLITE_BLOB:
        return lake_query_blob_json(sqlite3_column_blob(stmt, i),
                                    (size_t)sqlite3_column_bytes(stmt, i));
    default:
        return json_null();
    }
}

static const char *value_type_name(int type)
{
    switch (type) {
    case SQLITE_INTEGER:
        return "INTEGER";
    case SQLITE_FLOAT:
        return "REAL";
    case SQLITE_TEXT:
        return "TEXT";
    case SQLITE_BLOB:
        return "BLOB";
    default:
        return NULL;
    }
}

/* Columns without a declared type (expressions) take the type of their
 * first non-null value. */
static void note_types(sqlite3_stmt *stmt, json_t *columns)
{
    for (int i = 0; i < sqlite3_column_count(stmt); i++) {
        json_t *col = json_array_get(columns, (size_t)i);
        const char *name = value_type_name(sqlite3_column_type(stmt, i));

        if (json_is_null(json_object_get(col, "type")) && name) {
            json_object_set_new(col, "type", json_string(name));
        }
    }
}

static json_t *columns_json(sqlite3_stmt *stmt)
{
    json_t *cols = json_array();

    for (int i = 0; cols && i < sqlite3_column_count(stmt); i++) {
        const char *decl = sqlite3_column_decltype(stmt, i);
        const char *name = sqlite3_column_name(stmt, i);

        json_array_append_new(cols, json_pack("{s:s, s:o}", "name", name ? name : "",
                                              "type", decl ? json_string(decl) : json_null()));
    }
    return cols;
}

static int step_error(sqlite3 *db, const struct run_state *st)
{
    if (st->stop_code == WEIR_ETIMEOUT) {
        return lake_host->error_set(WEIR_ETIMEOUT, "engine.query: stopped after %lld ms (%s); "
                                    "narrow the query or raise %s", (long long)st->budget_ms,
                                    st->by_step ? "the step's timeout" : "timeout_ms",
                                    st->by_step ? "the step's `timeout:`" : "timeout_ms");
    }
    if (st->stop_code < 0) {
        return lake_host->error_set(st->stop_code, "engine.query: stopped: %s",
                                    st->stop_code == WEIR_ECANCELLED ? "the run was cancelled"
                                                                     : "the step's deadline passed");
    }
    return lake_host->error_set(WEIR_EINVALID, "engine.query: %s", sqlite3_errmsg(db));
}

/* Bytes a row adds to the result, roughly (values as stored, plus a few
 * bytes each for JSON punctuation). */
static size_t row_bytes(sqlite3_stmt *stmt, int ncol)
{
    size_t n = 2;

    for (int i = 0; i < ncol; i++) {
        n += 4 + (size_t)(sqlite3_column_type(stmt, i) == SQLITE_TEXT ||
                                  sqlite3_column_type(stmt, i) == SQLITE_BLOB
                              ? sqlite3_column_bytes(stmt, i)
                              : 8);
    }
    return n;
}

static int collect(sqlite3 *db, sqlite3_stmt *stmt, const struct run_state *st, json_int_t max_rows,
                   json_int_t max_bytes, json_t *result)
{
    json_t *columns = columns_json(stmt), *rows = json_array();
    int ncol = sqlite3_column_count(stmt), truncated = 0, rc;
    json_int_t n = 0, bytes = 0;

    json_object_set_new(result, "columns", columns);
    json_object_set_new(result, "rows", rows);
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        json_t *row;

        bytes += (json_int_t)row_bytes(stmt, ncol);
        if (n >= max_rows || bytes > max_bytes) {
            truncated = 1;
            break;
        }
        if ((row = json_array()) == NULL) {
            return lake_host->error_set(WEIR_ENOMEM, "engine.query: out of memory for results");
        }
        for (int i = 0; i < ncol; i++) {
            json_array_append_new(row, value_json(stmt, i));
        }
        json_array_append_new(rows, row);
        note_types(stmt, columns);
        n++;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        return step_error(db, st);
    }
    json_object_set_new(result, "row_count", json_integer(n));
    json_object_set_new(result, "truncated", json_boolean(truncated));
    return WEIR_OK;
}

/* ---- the step -------------------------------------------------------- */

static char *resolve(weir_ctx *ctx, const char *path)
{
    const char *project = ctx ? lake_host->ctx_get(ctx, "project") : NULL;

    if (path[0] == '/' || !project || !*project) {
        return sqlite3_mprintf("%s", path);
    }
    return sqlite3_mprintf("%s/%s", project, path);
}

static int harden(sqlite3 *db, struct run_state *st)
{
    int rc;

    sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, (int *)NULL);
    sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, (int *)NULL);
    sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, (int *)NULL);
    sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, (int *)NULL);
    if ((rc = exec(db, "PRAGMA query_only = 1")) < 0) {
        return rc;
    }
    sqlite3_limit(db, SQLITE_LIMIT_ATTACHED, 0);
    sqlite3_limit(db, SQLITE_LIMIT_SQL_LENGTH, 1000000);
    sqlite3_limit(db, SQLITE_LIMIT_LENGTH, 64 * 1024 * 1024);
    sqlite3_progress_handler(db, 1000, on_progress, st);
    return WEIR_OK;
}

static int run_query(const json_t *input, json_t **out, weir_ctx *ctx, void *payload)
{
    const char *sql = json_string_value(json_object_get(input, "sql"));
    json_int_t max_rows = json_integer_value(json_object_get(input, "max_rows"));
    json_int_t timeout_ms = json_integer_value(json_object_get(input, "timeout_ms"));
    json_int_t max_bytes = json_integer_value(json_object_get(input, "max_bytes"));
    const json_t *tables = json_object_get(input, "tables");
    struct lake_vtab_env env = { 0 };
    struct run_state st = { .ctx = ctx };
    int64_t start = now_ms(), remaining = ctx ? lake_host->ctx_remaining_ms(ctx) : -1;
    char *catalog = NULL, *store = NULL, *problems = NULL;
    sqlite3_str *probs = NULL;
    sqlite3_stmt *stmt = NULL;
    sqlite3 *db = NULL;
    json_t *result = NULL;
    int rc;

    (void)payload;
    if (!json_object_get(input, "max_rows")) {
        max_rows = 10000;
    }
    if (!json_object_get(input, "timeout_ms")) {
        timeout_ms = 60000;
    }
    if (!json_object_get(input, "max_bytes")) {
        max_bytes = 64 * 1024 * 1024;
    }
    if (!sql || max_rows < 0 || timeout_ms <= 0) {
        return lake_host->error_set(WEIR_EINVALID, "engine.query: sql is required, max_rows >= 0 "
                                    "and timeout_ms > 0");
    }
    st.by_step = remaining >= 0 && remaining < timeout_ms;
    st.budget_ms = st.by_step ? remaining : timeout_ms;
    st.deadline = start + st.budget_ms;
    catalog = resolve(ctx, lake_query_param_str(input, "catalog_dir", "catalog"));
    store = resolve(ctx, lake_query_param_str(input, "store_root", "lake"));
    probs = sqlite3_str_new(NULL);
    if (!catalog || !store) {
        rc = lake_host->error_set(WEIR_ENOMEM, "out of memory");
        goto done;
    }
    env.catalog_dir = catalog;
    env.store_root = store;
    if (sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
        rc = lake_host->error_set(WEIR_ERROR, "engine.query: cannot open SQLite: %s",
                                  db ? sqlite3_errmsg(db) : "out of memory");
        goto done;
    }
    if ((rc = lake_vtab_register(db, &env)) < 0 ||
        (rc = expose_catalog(db, ctx, catalog, json_is_array(tables) ? tables : NULL, probs)) < 0 ||
        (rc = harden(db, &st)) < 0) {
        goto done;
    }
    problems = sqlite3_str_finish(probs);
    probs = NULL;
    if ((rc = prepare_checked(db, &st, sql, problems ? problems : "", &stmt)) < 0) {
        goto done;
    }
    result = json_object();
    if ((rc = collect(db, stmt, &st, max_rows, max_bytes, result)) < 0) {
        goto done;
    }
    json_object_set_new(result, "elapsed_ms", json_integer(now_ms() - start));
    json_object_set_new(result, "files_read", json_integer((json_int_t)env.files_read));
    *out = result;
    result = NULL;

done:
    json_decref(result);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    sqlite3_free(sqlite3_str_finish(probs));
    sqlite3_free(problems);
    sqlite3_free(catalog);
    sqlite3_free(store);
    return rc;
}

static int run_dialect(const json_t *input, json_t **out, weir_ctx *ctx, void *payload)
{
    (void)input;
    (void)ctx;
    (void)payload;
    *out = json_pack("{s:s}", "dialect", "sqlite");
    return *out ? WEIR_OK : lake_host->error_set(WEIR_ENOMEM, "out of memory");
}

int lake_register_engine(weir_registry *reg)
{
    const struct weir_step_desc query = {
        .version = WEIR_STEP_DESC_VERSION,
        .name = "query",
        .service = "engine",
        .description = "read-only SQL (one SELECT/WITH) over the catalog's files in place",
        .params = query_params,
        .run = run_query,
    };
    const struct weir_step_desc dialect = {
        .version = WEIR_STEP_DESC_VERSION,
        .name = "dialect",
        .service = "engine",
        .description = "the SQL dialect engine.query speaks: {\"dialect\": \"sqlite\"}",
        .run = run_dialect,
    };
    int rc;

    if ((rc = lake_host->step_register(reg, &query)) < 0) {
        return rc;
    }
    return lake_host->step_register(reg, &dialect);
}
