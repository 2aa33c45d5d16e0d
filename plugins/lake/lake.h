/*
 * lake.h - the embedded lake plugin's shared model: tables (from the local
 * catalog), and a streaming row reader over a table's files, used by the
 * catalog (infer), the SQL engine (virtual tables) and the profiler.
 *
 * Files: catalog.c (catalog service), reader_csv.c / reader_jsonl.c (rows),
 * vtab.c + query.c (engine.query on SQLite), profile.c + sketch_*.c
 * (engine.profile), lake_plugin.c (entry and registration).
 */
#ifndef WEIR_LAKE_H
#define WEIR_LAKE_H

#include <stddef.h>
#include <stdint.h>

#include <weir/weir.h>

/* The host table, defined once in lake_core (catalog_util.c) and set by
 * whichever entry links it (lake, contract) or by a test; every lake file
 * uses it for errors (lake_host->error_set) and logging. */
extern const struct weir_host_api *lake_host;

/* ------------------------------------------------------------------ */
/* tables                                                              */

enum lake_type {
    LAKE_STRING = 0, LAKE_INT, LAKE_BIGINT, LAKE_DOUBLE, LAKE_DECIMAL, LAKE_BOOLEAN, LAKE_DATE,
    LAKE_TIMESTAMP, LAKE_COMPLEX /* array/map/struct, kept as text */
};

struct lake_column {
    char *name;
    char *type;            /* Hive type as written, e.g. "decimal(10,2)" */
    enum lake_type kind;
    char *comment;         /* or NULL */
};

enum lake_format { LAKE_CSV = 0, LAKE_JSONL };

struct lake_table {
    char *database;
    char *name;
    char *description;     /* or NULL */
    struct lake_column *columns;      /* data columns, file order */
    size_t ncolumns;
    struct lake_column *partitions;   /* partition keys (dt=...), in order */
    size_t npartitions;
    char *location;        /* as written (s3://bucket/prefix/ or a path) */
    char *root;            /* resolved absolute local directory */
    enum lake_format format;
    char delimiter;        /* CSV field separator, default ',' */
    int header_lines;      /* CSV header lines to skip (skip.header.line.count) */
    char **null_tokens;    /* NULL-terminated; default "", NA, NULL, null, \N */
    json_t *parameters;    /* Glue Parameters object (borrowed from the def) */
    json_t *def;           /* the table in the Glue GetTable shape ({"Table": ...}) */
};

/* Loads database.table from the catalog directory (Glue JSON
 * <dir>/<db>/<table>.json, or short YAML <dir>/<db>/<table>.yaml).
 * store_root maps s3://bucket/key to <store_root>/bucket/key. */
int lake_table_load(const char *catalog_dir, const char *store_root, const char *qualified,
                    struct lake_table **out);
void lake_table_free(struct lake_table *t);
enum lake_type lake_type_parse(const char *hive_type);

/* One data file of a table with its partition values (strings, one per
 * partition key, in order). */
struct lake_file {
    char *path;
    char **partition_values;
};

/* Lists a table's files in path order; with a filter (may be NULL) only files
 * whose partition values satisfy it (pruning). *out is an array of n files. */
struct lake_partition_filter; /* built by the engine from WHERE constraints */
int lake_table_files(const struct lake_table *t, const struct lake_partition_filter *filter,
                     struct lake_file **out, size_t *n);
void lake_files_free(struct lake_file *files, size_t n);

/* ------------------------------------------------------------------ */
/* streaming rows                                                      */

/* A field of the current row: bytes (not NUL-terminated in general, but
 * readers keep a NUL after each field for convenience), or NULL when the
 * value is missing or one of the table's null tokens. */
struct lake_field {
    const char *data;   /* NULL for SQL NULL */
    size_t len;
};

/* A problem in the data: ragged row, invalid UTF-8, bad JSON. Never silent:
 * the reader stops with an error naming file:line unless the caller set
 * tolerate_errors, in which case it counts and reports them through here. */
struct lake_issue {
    const char *file;
    uint64_t line;      /* 1-based physical line where the record starts */
    const char *what;
};

struct lake_reader;

struct lake_reader_opts {
    int tolerate_errors;  /* non-zero: skip bad records, report each to on_issue */
    void (*on_issue)(const struct lake_issue *issue, void *payload);
    void *payload;
};

/* Opens a reader over the given files (in order) of table t. Memory is
 * bounded: one buffered block plus the current record, whatever the file size. */
int lake_reader_open(const struct lake_table *t, const struct lake_file *files, size_t nfiles,
                     const struct lake_reader_opts *opts, struct lake_reader **out);

/* Advances to the next row. Returns 1 with a row, 0 at the end, or a negative
 * weir error code (message set: "file:line: ragged row: 7 fields, expected 6"). */
int lake_reader_next(struct lake_reader *r);

/* Fields of the current row: the table's data columns in order, then its
 * partition columns. Valid until the next call to lake_reader_next. */
const struct lake_field *lake_reader_fields(const struct lake_reader *r, size_t *n);

/* Where the current row came from (for quarantine and error messages). */
const char *lake_reader_file(const struct lake_reader *r);
uint64_t lake_reader_line(const struct lake_reader *r);

void lake_reader_close(struct lake_reader *r);

/* ------------------------------------------------------------------ */
/* registration (one per file group; lake_plugin.c calls them all)      */

int lake_register_catalog(weir_registry *reg);
int lake_register_engine(weir_registry *reg);
int lake_register_profile(weir_registry *reg);

#endif
