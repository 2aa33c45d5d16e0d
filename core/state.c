/* state.c - run state in SQLite: a versioned schema, WAL, one transaction per
 * public call, every statement prepared once per handle. */
#include "state.h"

#include <sqlite3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "fsutil.h"

#define SCHEMA_VERSION 1
#define BUSY_TIMEOUT_MS 10000
#define RETRY_PAUSE_MS 10
#define JSON_STORE_FLAGS (JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY)

/* migrations[v] takes the schema from user_version v to v + 1. Only ever
 * append: a database that some weir has opened is at one of these steps.
 * The seq columns are rowids, so listings keep the order rows first
 * appeared; an upsert updates a row in place and keeps its seq. */
static const char *const migrations[SCHEMA_VERSION] = {
    "CREATE TABLE runs ("
    " seq INTEGER PRIMARY KEY,"
    " id TEXT NOT NULL UNIQUE,"
    " pipeline TEXT, path TEXT, source TEXT,"
    " params TEXT NOT NULL,"
    " target TEXT, date TEXT,"
    " status TEXT NOT NULL,"
    " created_ms INTEGER NOT NULL,"
    " ended_ms INTEGER);"
    "CREATE INDEX runs_by_created ON runs (created_ms, seq);"
    "CREATE TABLE steps ("
    " seq INTEGER PRIMARY KEY,"
    " run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,"
    " step TEXT NOT NULL,"
    " status TEXT NOT NULL,"
    " attempts INTEGER NOT NULL,"
    " output TEXT, error TEXT,"
    " started_ms INTEGER, ended_ms INTEGER,"
    " UNIQUE (run_id, step));"
    "CREATE TABLE approvals ("
    " seq INTEGER PRIMARY KEY,"
    " run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,"
    " step TEXT NOT NULL,"
    " status TEXT NOT NULL,"
    " message TEXT, payload TEXT, comment TEXT, decided_by TEXT,"
    " requested_ms INTEGER NOT NULL, decided_ms INTEGER,"
    " UNIQUE (run_id, step));"
    "CREATE INDEX approvals_by_status ON approvals (status);"
    "CREATE TABLE approval_history ("
    " seq INTEGER PRIMARY KEY,"
    " approval INTEGER NOT NULL REFERENCES approvals (seq) ON DELETE CASCADE,"
    " status TEXT NOT NULL, comment TEXT, decided_by TEXT,"
    " decided_ms INTEGER NOT NULL);"
    "CREATE INDEX approval_history_by_approval ON approval_history (approval, seq);",
};

enum stmt_id {
    S_BEGIN_READ,
    S_BEGIN_WRITE,
    S_COMMIT,
    S_ROLLBACK,
    S_RUN_EXISTS,
    S_RUN_INSERT,
    S_RUN_STATUS,
    S_RUN_GET,
    S_RUNS_LIST,
    S_STEPS_OF,
    S_STEP_PUT,
    S_APPROVAL_FIND,
    S_APPROVAL_INSERT,
    S_APPROVAL_REOPEN,
    S_APPROVAL_DECIDE,
    S_HISTORY_ADD,
    S_APPROVALS_LIST,
    S_HISTORY_OF,
    S_COUNT
};

static const char *const stmt_sql[S_COUNT] = {
    [S_BEGIN_READ] = "BEGIN",
    [S_BEGIN_WRITE] = "BEGIN IMMEDIATE",
    [S_COMMIT] = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
    [S_RUN_EXISTS] = "SELECT 1 FROM runs WHERE id = ?1",
    [S_RUN_INSERT] = "INSERT INTO runs (id, pipeline, path, source, params, target, date, status,"
                     " created_ms, ended_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    [S_RUN_STATUS] = "UPDATE runs SET status = ?2, ended_ms = ?3 WHERE id = ?1",
    [S_RUN_GET] = "SELECT id, pipeline, path, source, params, target, date, status, created_ms,"
                  " ended_ms FROM runs WHERE id = ?1",
    [S_RUNS_LIST] = "SELECT id, pipeline, target, date, status, created_ms, ended_ms FROM runs"
                    " ORDER BY created_ms DESC, seq DESC LIMIT ?1",
    [S_STEPS_OF] = "SELECT step, status, attempts, output, error, started_ms, ended_ms FROM steps"
                   " WHERE run_id = ?1 ORDER BY seq",
    [S_STEP_PUT] = "INSERT INTO steps (run_id, step, status, attempts, output, error, started_ms,"
                   " ended_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
                   " ON CONFLICT (run_id, step) DO UPDATE SET status = excluded.status,"
                   " attempts = excluded.attempts, output = excluded.output,"
                   " error = excluded.error, started_ms = excluded.started_ms,"
                   " ended_ms = excluded.ended_ms",
    [S_APPROVAL_FIND] = "SELECT seq, status FROM approvals WHERE run_id = ?1 AND step = ?2",
    [S_APPROVAL_INSERT] = "INSERT INTO approvals (run_id, step, status, message, payload,"
                          " requested_ms) VALUES (?1, ?2, 'pending', ?3, ?4, ?5)",
    /* A repeated request while still pending only refreshes what is shown;
     * after "refined" it is a new question, asked now. */
    [S_APPROVAL_REOPEN] = "UPDATE approvals SET message = ?2, payload = ?3,"
                          " requested_ms = CASE status WHEN 'pending' THEN requested_ms"
                          " ELSE ?4 END, status = 'pending', comment = NULL,"
                          " decided_by = NULL, decided_ms = NULL WHERE seq = ?1",
    [S_APPROVAL_DECIDE] = "UPDATE approvals SET status = ?2, comment = ?3, decided_by = ?4,"
                          " decided_ms = ?5 WHERE seq = ?1",
    [S_HISTORY_ADD] = "INSERT INTO approval_history (approval, status, comment, decided_by,"
                      " decided_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
    [S_APPROVALS_LIST] = "SELECT run_id, step, status, message, payload, comment, decided_by,"
                         " requested_ms, decided_ms, seq FROM approvals"
                         " WHERE (?1 IS NULL OR run_id = ?1) AND (?2 = 0 OR status = 'pending')"
                         " ORDER BY requested_ms DESC, seq DESC",
    [S_HISTORY_OF] = "SELECT status, comment, decided_by, decided_ms FROM approval_history"
                     " WHERE approval = ?1 ORDER BY seq",
};

struct weir_state {
    sqlite3 *db;
    char *path;
    sqlite3_stmt *stmt[S_COUNT];
    bool in_batch;  /* inside weir_state_batch_begin/end: one outer transaction */
};

/* How a column becomes a JSON value in the objects handed out. */
enum col_kind { COL_TEXT, COL_INT, COL_JSON };

struct col {
    const char *key;
    enum col_kind kind;
};

static const struct col run_cols[] = {
    {"id", COL_TEXT},       {"pipeline", COL_TEXT}, {"path", COL_TEXT},
    {"source", COL_TEXT},   {"params", COL_JSON},   {"target", COL_TEXT},
    {"date", COL_TEXT},     {"status", COL_TEXT},   {"created_ms", COL_INT},
    {"ended_ms", COL_INT},
};

static const struct col run_list_cols[] = {
    {"id", COL_TEXT},     {"pipeline", COL_TEXT},  {"target", COL_TEXT}, {"date", COL_TEXT},
    {"status", COL_TEXT}, {"created_ms", COL_INT}, {"ended_ms", COL_INT},
};

static const struct col step_cols[] = {
    {"step", COL_TEXT},  {"status", COL_TEXT},    {"attempts", COL_INT}, {"output", COL_JSON},
    {"error", COL_TEXT}, {"started_ms", COL_INT}, {"ended_ms", COL_INT},
};

static const struct col approval_cols[] = {
    {"run", COL_TEXT},     {"step", COL_TEXT},   {"status", COL_TEXT},
    {"message", COL_TEXT}, {"payload", COL_JSON}, {"comment", COL_TEXT},
    {"by", COL_TEXT},      {"requested_ms", COL_INT}, {"decided_ms", COL_INT},
};

static const struct col history_cols[] = {
    {"status", COL_TEXT},
    {"comment", COL_TEXT},
    {"by", COL_TEXT},
    {"decided_ms", COL_INT},
};

#define NCOLS(a) (sizeof(a) / sizeof((a)[0]))

static const char *const run_statuses[] = {"running", "success", "failed", "paused", "cancelled",
                                           NULL};
static const char *const step_statuses[] = {"pending", "running", "success",   "failed",
                                            "skipped", "waiting", "cancelled", NULL};
static const char *const decisions[] = {"approved", "rejected", "refined", NULL};

/* ---- errors ------------------------------------------------------------ */

/* "state database <path>: <what>: <sqlite's reason>", with the code that
 * tells a caller whether waiting longer or freeing memory could help. */
static int db_error(const struct weir_state *st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int db_error(const struct weir_state *st, const char *fmt, ...)
{
    char what[256];
    int code = st->db ? sqlite3_errcode(st->db) : SQLITE_NOMEM;
    int rc = WEIR_EIO;
    const char *hint = "";
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    if (code == SQLITE_BUSY || code == SQLITE_LOCKED) {
        rc = WEIR_ETIMEOUT;
        hint = "; another process held it for more than 10 s, retry later";
    }
    else if (code == SQLITE_NOMEM) {
        rc = WEIR_ENOMEM;
    }
    return weir_error_set(rc, "state database %s: %s: %s%s", st->path, what,
                          st->db ? sqlite3_errmsg(st->db) : "out of memory", hint);
}

static int check_word(const char *what, const char *value, const char *const *allowed)
{
    char list[160] = "";

    for (size_t i = 0; value && allowed[i]; i++) {
        if (strcmp(value, allowed[i]) == 0) {
            return WEIR_OK;
        }
    }
    for (size_t i = 0; allowed[i]; i++) {
        strncat(list, i ? ", " : "", sizeof(list) - strlen(list) - 1);
        strncat(list, allowed[i], sizeof(list) - strlen(list) - 1);
    }
    return weir_error_set(WEIR_EINVALID, "%s '%s' is not one of: %s", what,
                          value ? value : "(null)", list);
}

static int check_id(const char *what, const char *id)
{
    if (!id || !*id) {
        return weir_error_set(WEIR_EINVALID, "state: %s is missing; pass a non-empty id", what);
    }
    return WEIR_OK;
}

static bool is_terminal(const char *run_status)
{
    return strcmp(run_status, "success") == 0 || strcmp(run_status, "failed") == 0 ||
           strcmp(run_status, "cancelled") == 0;
}

/* ---- opening ------------------------------------------------------------ */

static int exec(struct weir_state *st, const char *sql, const char *what)
{
    if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
        return db_error(st, "%s", what);
    }
    return WEIR_OK;
}

/* Runs a one-row pragma and copies its first column as text. */
static int pragma_text(struct weir_state *st, const char *sql, char *buf, size_t size)
{
    sqlite3_stmt *s = NULL;
    int rc = WEIR_OK;

    if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK ||
        sqlite3_step(s) != SQLITE_ROW) {
        rc = db_error(st, "running %s", sql);
        goto cleanup;
    }
    snprintf(buf, size, "%s", (const char *)sqlite3_column_text(s, 0));
cleanup:
    sqlite3_finalize(s);
    return rc;
}

/* Turning a new database into WAL needs an exclusive lock, and SQLite
 * answers SQLITE_BUSY for it at once instead of calling the busy handler.
 * Two processes creating the database together hit that, so this waits
 * the way the busy timeout would. */
static int set_wal(struct weir_state *st)
{
    const struct timespec pause = {0, RETRY_PAUSE_MS * 1000000L};
    char mode[32] = "";
    int rc;

    for (int waited = 0;; waited += RETRY_PAUSE_MS) {
        rc = pragma_text(st, "PRAGMA journal_mode = WAL", mode, sizeof(mode));
        if (rc != WEIR_ETIMEOUT || waited >= BUSY_TIMEOUT_MS) {
            break;
        }
        nanosleep(&pause, NULL);
    }
    if (rc == WEIR_OK && strcmp(mode, "wal") != 0) {
        rc = weir_error_set(WEIR_EIO,
                            "state database %s: cannot use WAL mode (journal mode stays '%s'); "
                            "put the workspace on a local file system",
                            st->path, mode);
    }
    return rc;
}

static int open_db(struct weir_state *st)
{
    const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    int rc;

    if (sqlite3_open_v2(st->path, &st->db, flags, NULL) != SQLITE_OK) {
        return db_error(st, "opening");
    }
    sqlite3_busy_timeout(st->db, BUSY_TIMEOUT_MS);
    if ((rc = set_wal(st)) < 0 ||
        /* WAL + NORMAL: every commit is atomic and survives a crash of the
         * process; only a power cut can drop the last commits, never corrupt
         * the file. FULL would fsync each step (~3.5 ms a step here), which
         * dwarfs the step itself; a resumed run simply re-runs a lost step. */
        (rc = exec(st, "PRAGMA synchronous = NORMAL", "setting synchronous=NORMAL")) < 0 ||
        (rc = exec(st, "PRAGMA foreign_keys = ON", "enabling foreign keys")) < 0) {
        return rc;
    }
    return WEIR_OK;
}

static int upgrade(struct weir_state *st, int from)
{
    char sql[64];
    int rc = WEIR_OK;

    if (from > SCHEMA_VERSION) {
        return weir_error_set(WEIR_EVERSION,
                              "state database %s has schema version %d, newer than this weir "
                              "(%d); upgrade weir",
                              st->path, from, SCHEMA_VERSION);
    }
    for (int v = from; v < SCHEMA_VERSION && rc == WEIR_OK; v++) {
        rc = exec(st, migrations[v], "creating the schema");
    }
    if (rc == WEIR_OK && from < SCHEMA_VERSION) {
        snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", SCHEMA_VERSION);
        rc = exec(st, sql, "recording the schema version");
    }
    return rc;
}

/* The version is read under the write lock, so two processes opening a new
 * database at once do not both create the schema. */
static int migrate(struct weir_state *st)
{
    char version[32];
    int rc;

    if ((rc = exec(st, "BEGIN IMMEDIATE", "locking for the schema check")) < 0) {
        return rc;
    }
    rc = pragma_text(st, "PRAGMA user_version", version, sizeof(version));
    if (rc == WEIR_OK) {
        rc = upgrade(st, atoi(version));
    }
    if (rc == WEIR_OK) {
        rc = exec(st, "COMMIT", "committing the schema");
    }
    if (rc < 0 && !sqlite3_get_autocommit(st->db)) {
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    }
    return rc;
}

static int prepare_all(struct weir_state *st)
{
    for (int i = 0; i < S_COUNT; i++) {
        if (sqlite3_prepare_v3(st->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &st->stmt[i],
                               NULL) != SQLITE_OK) {
            return db_error(st, "preparing statement %d", i);
        }
    }
    return WEIR_OK;
}

int weir_state_open(const char *workspace, struct weir_state **out)
{
    struct weir_state *st = NULL;
    int rc;

    st = calloc(1, sizeof(*st));
    if (!st || asprintf(&st->path, "%s/state.db", workspace) < 0) {
        if (st) {
            st->path = NULL;
        }
        rc = weir_error_set(WEIR_ENOMEM, "out of memory opening the state database in %s",
                            workspace);
        goto cleanup;
    }
    if ((rc = weir_mkdir_p(workspace)) < 0 || (rc = open_db(st)) < 0 || (rc = migrate(st)) < 0 ||
        (rc = prepare_all(st)) < 0) {
        goto cleanup;
    }
    *out = st;
    st = NULL;
cleanup:
    weir_state_close(st);
    return rc;
}

void weir_state_close(struct weir_state *st)
{
    if (!st) {
        return;
    }
    for (int i = 0; i < S_COUNT; i++) {
        sqlite3_finalize(st->stmt[i]);
    }
    sqlite3_close(st->db);
    free(st->path);
    free(st);
}

/* ---- statements and transactions ---------------------------------------- */

static sqlite3_stmt *use(struct weir_state *st, enum stmt_id id)
{
    sqlite3_stmt *s = st->stmt[id];

    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return s;
}

static int bind_text(sqlite3_stmt *s, int i, const char *text)
{
    return text ? sqlite3_bind_text(s, i, text, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(s, i);
}

static int bind_ms(sqlite3_stmt *s, int i, int64_t ms)
{
    return sqlite3_bind_int64(s, i, ms);
}

static int begin(struct weir_state *st, bool write)
{
    sqlite3_stmt *s;

    /* inside a batch each call is a savepoint, so a failed call still
     * undoes only itself */
    if (st->in_batch) {
        return exec(st, "SAVEPOINT op", "starting a savepoint");
    }
    s = use(st, write ? S_BEGIN_WRITE : S_BEGIN_READ);

    if (sqlite3_step(s) != SQLITE_DONE) {
        return db_error(st, "starting a transaction");
    }
    return WEIR_OK;
}

/* Ends the transaction begun by begin(): commits when rc is a success,
 * rolls back otherwise (or when the commit fails). Returns the outcome. */
static int finish(struct weir_state *st, int rc)
{
    /* A statement left mid-result would keep its read open past the end. */
    for (int i = 0; i < S_COUNT; i++) {
        sqlite3_reset(st->stmt[i]);
    }
    if (st->in_batch) {
        if (rc < 0) {
            sqlite3_exec(st->db, "ROLLBACK TO op", NULL, NULL, NULL);
        }
        sqlite3_exec(st->db, "RELEASE op", NULL, NULL, NULL);
        return rc;
    }
    if (rc >= 0 && sqlite3_step(st->stmt[S_COMMIT]) != SQLITE_DONE) {
        rc = db_error(st, "committing");
    }
    if (rc < 0 && !sqlite3_get_autocommit(st->db)) {
        sqlite3_step(st->stmt[S_ROLLBACK]);
    }
    sqlite3_reset(st->stmt[S_COMMIT]);
    sqlite3_reset(st->stmt[S_ROLLBACK]);
    return rc;
}

/* Stored JSON text of v (NULL stays SQL NULL); *text is the caller's. */
static int dump_json(const struct weir_state *st, const json_t *v, const char *what, char **text)
{
    *text = NULL;
    if (v && !(*text = json_dumps(v, JSON_STORE_FLAGS))) {
        return weir_error_set(WEIR_EINVALID,
                              "state database %s: %s can not be stored as JSON (out of memory "
                              "or a NaN/invalid string inside)",
                              st->path, what);
    }
    return WEIR_OK;
}

/* ---- rows to JSON ------------------------------------------------------- */

static json_t *col_value(sqlite3_stmt *s, int i, enum col_kind kind)
{
    const char *text;

    if (sqlite3_column_type(s, i) == SQLITE_NULL) {
        return json_null();
    }
    if (kind == COL_INT) {
        return json_integer(sqlite3_column_int64(s, i));
    }
    text = (const char *)sqlite3_column_text(s, i);
    if (!text) {
        return NULL;
    }
    return kind == COL_JSON ? json_loads(text, JSON_DECODE_ANY, NULL) : json_string(text);
}

static json_t *row_object(sqlite3_stmt *s, const struct col *cols, size_t ncols)
{
    json_t *obj = json_object();

    for (size_t i = 0; obj && i < ncols; i++) {
        if (json_object_set_new(obj, cols[i].key, col_value(s, (int)i, cols[i].kind)) < 0) {
            json_decref(obj);
            obj = NULL;
        }
    }
    return obj;
}

/* Called for each row after its object is built (to attach nested lists). */
typedef int (*row_hook)(struct weir_state *st, sqlite3_stmt *s, json_t *row);

/* Appends one object per result row of s (already bound) to list. */
static int collect(struct weir_state *st, sqlite3_stmt *s, const struct col *cols, size_t ncols,
                   row_hook hook, const char *what, json_t *list)
{
    int step = SQLITE_DONE;
    int rc = WEIR_OK;

    while (rc == WEIR_OK && (step = sqlite3_step(s)) == SQLITE_ROW) {
        json_t *row = row_object(s, cols, ncols);
        if (!row || json_array_append_new(list, row) < 0) {
            return weir_error_set(WEIR_ENOMEM,
                                  "state database %s: cannot read %s (out of memory or stored "
                                  "text that is not valid UTF-8/JSON)",
                                  st->path, what);
        }
        rc = hook ? hook(st, s, row) : WEIR_OK;
    }
    if (rc == WEIR_OK && step != SQLITE_DONE) {
        rc = db_error(st, "reading %s", what);
    }
    return rc;
}

/* Lists rows under key in obj. */
static int collect_into(struct weir_state *st, sqlite3_stmt *s, const struct col *cols,
                        size_t ncols, row_hook hook, const char *what, json_t *obj,
                        const char *key)
{
    json_t *list = json_array();

    if (!list || json_object_set_new(obj, key, list) < 0) {
        return weir_error_set(WEIR_ENOMEM, "out of memory reading %s from %s", what, st->path);
    }
    return collect(st, s, cols, ncols, hook, what, list);
}

static int run_not_found(const struct weir_state *st, const char *run_id)
{
    return weir_error_set(WEIR_ENOTFOUND, "run %s not found in state database %s; check the run id",
                          run_id, st->path);
}

static int run_exists(struct weir_state *st, const char *run_id, bool *exists)
{
    sqlite3_stmt *s = use(st, S_RUN_EXISTS);
    int step;

    bind_text(s, 1, run_id);
    step = sqlite3_step(s);
    if (step != SQLITE_ROW && step != SQLITE_DONE) {
        return db_error(st, "looking up run %s", run_id);
    }
    *exists = step == SQLITE_ROW;
    return WEIR_OK;
}

static int need_run(struct weir_state *st, const char *run_id)
{
    bool exists = false;
    int rc = run_exists(st, run_id, &exists);

    if (rc == WEIR_OK && !exists) {
        rc = run_not_found(st, run_id);
    }
    return rc;
}

/* ---- runs --------------------------------------------------------------- */

static int check_run_info(const struct weir_run_info *run)
{
    json_t *params = NULL;
    int rc;

    if ((rc = check_id("run id", run->id)) < 0 ||
        (rc = check_word("run status", run->status, run_statuses)) < 0) {
        return rc;
    }
    if (run->params) {
        params = json_loads(run->params, 0, NULL);
        if (!json_is_object(params)) {
            rc = weir_error_set(WEIR_EINVALID, "run %s: params must be a JSON object, got '%.60s'",
                                run->id, run->params);
        }
        json_decref(params);
    }
    return rc;
}

static int insert_run(struct weir_state *st, const struct weir_run_info *run)
{
    sqlite3_stmt *s = NULL;
    bool exists = false;
    int brc;
    int rc;

    if ((rc = run_exists(st, run->id, &exists)) < 0) {
        return rc;
    }
    if (exists) {
        return weir_error_set(WEIR_EEXISTS, "run %s already exists in state database %s; use "
                              "another run id", run->id, st->path);
    }
    s = use(st, S_RUN_INSERT);
    brc = bind_text(s, 1, run->id) | bind_text(s, 2, run->pipeline) | bind_text(s, 3, run->path) |
          bind_text(s, 4, run->source) | bind_text(s, 5, run->params ? run->params : "{}") |
          bind_text(s, 6, run->target) | bind_text(s, 7, run->date) |
          bind_text(s, 8, run->status) | bind_ms(s, 9, run->created_ms);
    if (is_terminal(run->status)) {
        brc |= bind_ms(s, 10, run->created_ms);
    }
    if (brc != SQLITE_OK || sqlite3_step(s) != SQLITE_DONE) {
        return db_error(st, "inserting run %s", run->id);
    }
    return WEIR_OK;
}

int weir_state_run_insert(struct weir_state *st, const struct weir_run_info *run)
{
    int rc;

    if ((rc = check_run_info(run)) < 0 || (rc = begin(st, true)) < 0) {
        return rc;
    }
    return finish(st, insert_run(st, run));
}

static int set_status(struct weir_state *st, const char *run_id, const char *status,
                      int64_t now_ms)
{
    sqlite3_stmt *s = use(st, S_RUN_STATUS);
    int brc = bind_text(s, 1, run_id) | bind_text(s, 2, status);

    /* Leaving a terminal status (a resumed run) clears ended_ms again. */
    if (is_terminal(status)) {
        brc |= bind_ms(s, 3, now_ms);
    }
    if (brc != SQLITE_OK || sqlite3_step(s) != SQLITE_DONE) {
        return db_error(st, "setting the status of run %s", run_id);
    }
    if (sqlite3_changes(st->db) == 0) {
        return run_not_found(st, run_id);
    }
    return WEIR_OK;
}

int weir_state_run_set_status(struct weir_state *st, const char *run_id, const char *status,
                              int64_t now_ms)
{
    int rc;

    if ((rc = check_id("run id", run_id)) < 0 ||
        (rc = check_word("run status", status, run_statuses)) < 0 || (rc = begin(st, true)) < 0) {
        return rc;
    }
    return finish(st, set_status(st, run_id, status, now_ms));
}

static int add_history(struct weir_state *st, sqlite3_stmt *approvals, json_t *row)
{
    sqlite3_stmt *s = use(st, S_HISTORY_OF);

    sqlite3_bind_int64(s, 1, sqlite3_column_int64(approvals, NCOLS(approval_cols)));
    return collect_into(st, s, history_cols, NCOLS(history_cols), NULL, "approval history", row,
                        "history");
}

static int list_approvals(struct weir_state *st, const char *run_id, int pending_only,
                          json_t *list)
{
    sqlite3_stmt *s = use(st, S_APPROVALS_LIST);

    bind_text(s, 1, run_id);
    sqlite3_bind_int(s, 2, pending_only != 0);
    return collect(st, s, approval_cols, NCOLS(approval_cols), add_history, "approvals", list);
}

static int read_run(struct weir_state *st, const char *run_id, json_t **out)
{
    sqlite3_stmt *s = use(st, S_RUN_GET);
    json_t *run = NULL;
    json_t *approvals = NULL;
    int step;
    int rc;

    bind_text(s, 1, run_id);
    step = sqlite3_step(s);
    if (step != SQLITE_ROW) {
        rc = step == SQLITE_DONE ? run_not_found(st, run_id)
                                 : db_error(st, "reading run %s", run_id);
        goto cleanup;
    }
    run = row_object(s, run_cols, NCOLS(run_cols));
    approvals = json_array();
    if (!run || !approvals || json_object_set(run, "approvals", approvals) < 0) {
        rc = weir_error_set(WEIR_ENOMEM, "out of memory reading run %s from %s", run_id, st->path);
        goto cleanup;
    }
    s = use(st, S_STEPS_OF);
    bind_text(s, 1, run_id);
    if ((rc = collect_into(st, s, step_cols, NCOLS(step_cols), NULL, "steps", run, "steps")) < 0 ||
        (rc = list_approvals(st, run_id, 0, approvals)) < 0) {
        goto cleanup;
    }
    *out = run;
    run = NULL;
cleanup:
    json_decref(approvals);
    json_decref(run);
    return rc;
}

int weir_state_run_get(struct weir_state *st, const char *run_id, json_t **out)
{
    json_t *run = NULL;
    int rc;

    if ((rc = check_id("run id", run_id)) < 0 || (rc = begin(st, false)) < 0) {
        return rc;
    }
    rc = finish(st, read_run(st, run_id, &run));
    if (rc < 0) {
        json_decref(run);
        return rc;
    }
    *out = run;
    return WEIR_OK;
}

int weir_state_runs_list(struct weir_state *st, size_t limit, json_t **out)
{
    json_t *list = json_array();
    sqlite3_stmt *s = NULL;
    int rc;

    if (!list) {
        return weir_error_set(WEIR_ENOMEM, "out of memory listing runs in %s", st->path);
    }
    if ((rc = begin(st, false)) < 0) {
        goto cleanup;
    }
    s = use(st, S_RUNS_LIST);
    /* A negative LIMIT is no limit in SQLite. */
    sqlite3_bind_int64(s, 1, limit == 0 || limit > (size_t)INT64_MAX ? -1 : (sqlite3_int64)limit);
    rc = finish(st, collect(st, s, run_list_cols, NCOLS(run_list_cols), NULL, "runs", list));
    if (rc == WEIR_OK) {
        *out = list;
        list = NULL;
    }
cleanup:
    json_decref(list);
    return rc;
}

/* ---- steps -------------------------------------------------------------- */

static int put_step(struct weir_state *st, const char *run_id, const char *step_id,
                    const char *status, int attempts, const char *output, const char *error,
                    int64_t started_ms, int64_t ended_ms)
{
    sqlite3_stmt *s = NULL;
    int brc;
    int rc;

    if ((rc = need_run(st, run_id)) < 0) {
        return rc;
    }
    s = use(st, S_STEP_PUT);
    brc = bind_text(s, 1, run_id) | bind_text(s, 2, step_id) | bind_text(s, 3, status) |
          sqlite3_bind_int(s, 4, attempts) | bind_text(s, 5, output) | bind_text(s, 6, error) |
          bind_ms(s, 7, started_ms) | bind_ms(s, 8, ended_ms);
    if (brc != SQLITE_OK || sqlite3_step(s) != SQLITE_DONE) {
        return db_error(st, "recording step %s of run %s", step_id, run_id);
    }
    return WEIR_OK;
}

int weir_state_step_put(struct weir_state *st, const char *run_id, const char *step_id,
                        const char *status, int attempts, const json_t *output,
                        const char *error, int64_t started_ms, int64_t ended_ms)
{
    char *text = NULL;
    int rc;

    if ((rc = check_id("run id", run_id)) < 0 || (rc = check_id("step id", step_id)) < 0 ||
        (rc = check_word("step status", status, step_statuses)) < 0 ||
        (rc = dump_json(st, output, "the step output", &text)) < 0) {
        goto cleanup;
    }
    /* JSON is rendered before the transaction so the write lock is held
     * only for the write itself. */
    if ((rc = begin(st, true)) < 0) {
        goto cleanup;
    }
    rc = finish(st, put_step(st, run_id, step_id, status, attempts, text, error, started_ms,
                             ended_ms));
cleanup:
    free(text);
    return rc;
}

/* ---- approvals ---------------------------------------------------------- */

/* Finds the approval of (run, step): *seq is 0 when there is none. */
static int find_approval(struct weir_state *st, const char *run_id, const char *step_id,
                         int64_t *seq, char *status, size_t size)
{
    sqlite3_stmt *s = use(st, S_APPROVAL_FIND);
    int step;

    bind_text(s, 1, run_id);
    bind_text(s, 2, step_id);
    step = sqlite3_step(s);
    *seq = 0;
    if (step == SQLITE_ROW) {
        *seq = sqlite3_column_int64(s, 0);
        snprintf(status, size, "%s", (const char *)sqlite3_column_text(s, 1));
    }
    else if (step != SQLITE_DONE) {
        return db_error(st, "looking up the approval of step %s in run %s", step_id, run_id);
    }
    return WEIR_OK;
}

static int request(struct weir_state *st, const char *run_id, const char *step_id,
                   const char *message, const char *payload, int64_t now_ms)
{
    sqlite3_stmt *s = NULL;
    char status[32] = "";
    int64_t seq = 0;
    int brc;
    int rc;

    if ((rc = need_run(st, run_id)) < 0 ||
        (rc = find_approval(st, run_id, step_id, &seq, status, sizeof(status))) < 0) {
        return rc;
    }
    if (seq && strcmp(status, "pending") != 0 && strcmp(status, "refined") != 0) {
        return weir_error_set(WEIR_EINVALID, "approval of step %s in run %s was already %s; only "
                              "a refined or pending approval can be requested again",
                              step_id, run_id, status);
    }
    if (seq) {
        s = use(st, S_APPROVAL_REOPEN);
        brc = sqlite3_bind_int64(s, 1, seq) | bind_text(s, 2, message) |
              bind_text(s, 3, payload) | bind_ms(s, 4, now_ms);
    }
    else {
        s = use(st, S_APPROVAL_INSERT);
        brc = bind_text(s, 1, run_id) | bind_text(s, 2, step_id) | bind_text(s, 3, message) |
              bind_text(s, 4, payload) | bind_ms(s, 5, now_ms);
    }
    if (brc != SQLITE_OK || sqlite3_step(s) != SQLITE_DONE) {
        return db_error(st, "requesting approval of step %s in run %s", step_id, run_id);
    }
    return WEIR_OK;
}

int weir_state_approval_request(struct weir_state *st, const char *run_id, const char *step_id,
                                const char *message, const json_t *payload, int64_t now_ms)
{
    char *text = NULL;
    int rc;

    if ((rc = check_id("run id", run_id)) < 0 || (rc = check_id("step id", step_id)) < 0 ||
        (rc = dump_json(st, payload, "the approval payload", &text)) < 0 ||
        (rc = begin(st, true)) < 0) {
        goto cleanup;
    }
    rc = finish(st, request(st, run_id, step_id, message, text, now_ms));
cleanup:
    free(text);
    return rc;
}

struct decision {
    const char *run_id;
    const char *step_id;
    const char *decision;
    const char *comment;
    const char *by;
    int64_t now_ms;
};

static int decide(struct weir_state *st, const struct decision *d)
{
    sqlite3_stmt *s = NULL;
    char status[32] = "";
    int64_t seq = 0;
    int brc;
    int rc;

    if ((rc = find_approval(st, d->run_id, d->step_id, &seq, status, sizeof(status))) < 0) {
        return rc;
    }
    if (!seq) {
        return weir_error_set(WEIR_ENOTFOUND, "no approval for step %s in run %s; list the "
                              "pending ones with `weir approvals list`", d->step_id, d->run_id);
    }
    if (strcmp(status, "pending") != 0) {
        return weir_error_set(WEIR_EINVALID, "approval of step %s in run %s is not pending (it "
                              "is %s); only a pending approval can be decided",
                              d->step_id, d->run_id, status);
    }
    s = use(st, S_APPROVAL_DECIDE);
    brc = sqlite3_bind_int64(s, 1, seq) | bind_text(s, 2, d->decision) |
          bind_text(s, 3, d->comment) | bind_text(s, 4, d->by) | bind_ms(s, 5, d->now_ms);
    if (brc != SQLITE_OK || sqlite3_step(s) != SQLITE_DONE) {
        return db_error(st, "deciding the approval of step %s in run %s", d->step_id, d->run_id);
    }
    s = use(st, S_HISTORY_ADD);
    brc = sqlite3_bind_int64(s, 1, seq) | bind_text(s, 2, d->decision) |
          bind_text(s, 3, d->comment) | bind_text(s, 4, d->by) | bind_ms(s, 5, d->now_ms);
    if (brc != SQLITE_OK || sqlite3_step(s) != SQLITE_DONE) {
        return db_error(st, "recording the decision on step %s in run %s", d->step_id, d->run_id);
    }
    return WEIR_OK;
}

int weir_state_approval_decide(struct weir_state *st, const char *run_id, const char *step_id,
                               const char *decision, const char *comment, const char *by,
                               int64_t now_ms)
{
    const struct decision d = {run_id, step_id, decision, comment, by, now_ms};
    int rc;

    if ((rc = check_id("run id", run_id)) < 0 || (rc = check_id("step id", step_id)) < 0 ||
        (rc = check_word("decision", decision, decisions)) < 0 || (rc = begin(st, true)) < 0) {
        return rc;
    }
    return finish(st, decide(st, &d));
}

int weir_state_approvals_list(struct weir_state *st, const char *run_id, int pending_only,
                              json_t **out)
{
    json_t *list = json_array();
    int rc;

    if (!list) {
        return weir_error_set(WEIR_ENOMEM, "out of memory listing approvals in %s", st->path);
    }
    if ((rc = begin(st, false)) < 0) {
        goto cleanup;
    }
    rc = finish(st, list_approvals(st, run_id, pending_only, list));
    if (rc == WEIR_OK) {
        *out = list;
        list = NULL;
    }
cleanup:
    json_decref(list);
    return rc;
}

int weir_state_batch_begin(struct weir_state *st)
{
    int rc;

    if (st->in_batch) {
        return weir_error_set(WEIR_EINVALID, "state database %s: batch already open", st->path);
    }
    if ((rc = begin(st, true)) < 0) {
        return rc;
    }
    st->in_batch = true;
    return WEIR_OK;
}

int weir_state_batch_end(struct weir_state *st)
{
    if (!st->in_batch) {
        return WEIR_OK;
    }
    st->in_batch = false;
    return finish(st, WEIR_OK);
}
