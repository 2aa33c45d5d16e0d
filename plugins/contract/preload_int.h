/*
 * preload_int.h - what preload.c (the step: params, contract, outputs,
 * result) and preload_io.c (input files, the table, the streaming loop)
 * share. Private to those two files.
 */
#ifndef WEIR_CONTRACT_PRELOAD_INT_H
#define WEIR_CONTRACT_PRELOAD_INT_H

#include <stdint.h>
#include <stdio.h>

#include "contract.h"
#include "lake.h"

struct predicate;
struct rawscan;

/* An output file written under a temporary name, renamed when complete. */
struct preload_out {
    FILE *f;
    char *path;
    char *tmp;
};

struct preload_run {
    weir_ctx *ctx;
    char *project;    /* absolute */
    char *store_root; /* absolute */
    char *table_name; /* path-safe: db.table, the contract's table_name, or the file name */
    int from_catalog;
    struct lake_table *table;
    int own_table; /* built here (not by lake_table_load) */
    struct lake_file *files;
    size_t nfiles;
    struct contract *c;
    struct predicate *pred;
    size_t *failed;       /* scratch: failed rule indices of one row */
    uint64_t *counts;     /* per compiled rule */
    struct rawscan *raw;  /* the raw pass over the file being read */
    const char *raw_file; /* the reader's path of that file, as last seen */
    int header_written;
    struct preload_out valid, quar;
    char *valid_key, *quar_key; /* store-relative */
    uint64_t rows, malformed, nvalid, quarantined, warned;
    uint64_t raw_records, unmatched;
    int cb_rc; /* first error inside the reader's issue callback */
};

char *preload_printf(const char *fmt, ...) WEIR__PRINTF(1, 2);
char *preload_resolve(const char *project, const char *store_root, const char *path);

/* A file, or the regular files of a directory (not starting with '.' or '_'),
 * sorted by name. */
int preload_list_files(const char *path, struct lake_file **out, size_t *n);
void preload_files_free(struct lake_file *files, size_t n);

/* The table: from the catalog (format, delimiter, header, null tokens,
 * columns), or built from the first file (CSV header line; JSON Lines: the
 * contract's columns, added by preload_table_add_contract_columns). */
int preload_table_from_catalog(struct preload_run *st, const char *catalog_dir, const char *table);
int preload_table_infer(struct preload_run *st, const json_t *input, char delim);
int preload_table_add_contract_columns(struct preload_run *st);
json_t *preload_table_schema(const struct lake_table *t);
void preload_table_free(struct lake_table *t, int own);

/* Streams every record through the predicate into the outputs. */
int preload_stream(struct preload_run *st);

#endif
