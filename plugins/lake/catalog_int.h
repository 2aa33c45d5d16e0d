/*
 * catalog_int.h - helpers shared by the catalog files (table.c, table_yaml.c,
 * partition.c, catalog.c, catalog_util.c, infer.c, infer_csv.c). Prefixed
 * lake_cat_ so they never collide with the engine's or profiler's helpers
 * in the same library.
 */
#ifndef WEIR_LAKE_CATALOG_INT_H
#define WEIR_LAKE_CATALOG_INT_H

#include <stdio.h>

#include "lake.h"
#include "partition.h"

/* Host-allocated copies; NULL when out of memory. */
char *lake_cat_strdup(const char *s);
char *lake_cat_printf(const char *fmt, ...) WEIR__PRINTF(1, 2);

/* Absolute, lexically normalised form of path (relative paths start at base,
 * or the current directory when base is NULL). NULL when out of memory. */
char *lake_cat_path_abs(const char *base, const char *path);

/* Directory part of an absolute path ("/a/b" -> "/a"). */
char *lake_cat_dirname(const char *path);

/* 1 for names safe as a database or table name (letters, digits, _ and -,
 * not starting with - or .), which keeps them from escaping the catalog dir. */
int lake_cat_name_ok(const char *name);

/* Validates a Hive type; sets *kind. WEIR_OK or WEIR_EINVALID (no message). */
int lake_cat_type_check(const char *type, enum lake_type *kind);

/* Reads a short-form YAML table file into the Glue GetTable shape.
 * default_db is the database directory name. */
int lake_cat_yaml_to_glue(const char *path, const char *default_db, json_t **out);

/* Builds a table from a Glue-shaped definition (stolen reference). base is
 * the directory relative locations start at (the project), store_root is
 * absolute. `where` names the definition in messages. */
int lake_cat_table_from_def(json_t *def, const char *base, const char *store_root,
                            const char *where, struct lake_table **out);

/* Lists data files under root: a file, or a directory tree whose files sit
 * exactly npartitions levels down in key=value directories. keys: the
 * expected partition keys (NULL with discover set: learn them from the first
 * file; *keys_out then gets a host-allocated NULL-terminated array). */
struct lake_cat_walk {
    const char *root;
    const char *table; /* for messages */
    char **keys;       /* expected keys, nkeys of them */
    size_t nkeys;
    int discover; /* learn keys (infer) */
};
int lake_cat_walk_files(struct lake_cat_walk *w, const struct lake_partition_filter *filter,
                        struct lake_file **out, size_t *n);

/* Free a NULL-terminated array of host-allocated strings. */
void lake_cat_strv_free(char **v);

/* Default null tokens ("", NA, NULL, null, \N). */
extern const char *const lake_cat_default_nulls[];

/* Writes text to path atomically (temp file, fsync, rename), creating the
 * parent directories. */
int lake_cat_write_atomic(const char *path, const char *text, size_t len);

/* ---- sampling files (infer_csv.c) ---- */

/* A growable byte buffer, always NUL-terminated. */
struct lake_cat_buf {
    char *p;
    size_t n, cap;
};

/* A file read record by record. */
struct lake_cat_src {
    FILE *f;
    const char *path;
    uint64_t line;  /* physical lines read */
    uint64_t start; /* first line of the current record */
    char *lbuf;
    size_t lcap;
    struct lake_cat_buf rec;
};

int lake_cat_buf_add(struct lake_cat_buf *b, const char *s, size_t n);
int lake_cat_src_open(struct lake_cat_src *s, const char *path);
void lake_cat_src_close(struct lake_cat_src *s);

/* The next CSV record into s->rec, joining physical lines while a quote is
 * open (BOM and line ends stripped): 1, 0 at the end, or an error. The
 * nonblank variant skips empty records. */
int lake_cat_next_record(struct lake_cat_src *s);
int lake_cat_next_nonblank(struct lake_cat_src *s);

/* Splits rec into unquoted NUL-terminated fields, one after the other in out. */
int lake_cat_split(const char *rec, size_t len, char delim, struct lake_cat_buf *out, size_t *nf);

/* A path given in params, made absolute against the project directory
 * (ctx "project"; the current directory when ctx is NULL). */
char *lake_cat_project_path(weir_ctx *ctx, const char *path);

/* The catalog.infer step (infer.c), registered by catalog.c. */
extern const struct weir_step_desc lake_cat_step_infer;

#endif
