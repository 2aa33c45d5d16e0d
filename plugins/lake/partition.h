/*
 * partition.h - partition pruning: a conjunction of constraints on a table's
 * partition columns (dt = '2026-10-01', dt >= '2026-10-02', ...) tested
 * against the partition values of each file before it is opened.
 *
 * The engine builds one filter per scan from the WHERE constraints SQLite
 * hands its virtual table, and passes it to lake_table_files():
 *
 *     struct lake_partition_filter *f = NULL;
 *     lake_partition_filter_new(&f);
 *     lake_partition_filter_add(f, 0, LAKE_CMP_GE, "2026-10-02");  (dt >= ...)
 *     lake_table_files(t, f, &files, &n);
 *     lake_partition_filter_free(f);
 *
 * Semantics (all constraints must hold; an empty filter keeps every file):
 *   - values compare as numbers when both sides parse completely as finite
 *     decimal numbers ("7" < "10"), else byte-wise like strcmp (so ISO dates
 *     order correctly);
 *   - a file in the Hive null partition (__HIVE_DEFAULT_PARTITION__) matches
 *     no constraint, as NULL matches no comparison in SQL.
 * Pruning only ever drops files that cannot match; the engine still applies
 * the full WHERE clause to the rows it reads.
 */
#ifndef WEIR_LAKE_PARTITION_H
#define WEIR_LAKE_PARTITION_H

#include <stddef.h>

enum lake_cmp { LAKE_CMP_EQ = 0, LAKE_CMP_LT, LAKE_CMP_LE, LAKE_CMP_GT, LAKE_CMP_GE };

/* One constraint: partition_values[column] <op> value. */
struct lake_partition_constraint {
    size_t column; /* index into the table's partitions (0 = first key) */
    enum lake_cmp op;
    char *value; /* owned copy */
};

struct lake_partition_filter {
    struct lake_partition_constraint *items;
    size_t n;
    size_t cap;
};

/* The value Hive writes as the directory name of a NULL partition value. */
#define LAKE_HIVE_NULL_PARTITION "__HIVE_DEFAULT_PARTITION__"

/* A new empty filter (keeps every file). WEIR_OK or WEIR_ENOMEM. */
int lake_partition_filter_new(struct lake_partition_filter **out);

/* Adds column <op> value (value is copied). WEIR_OK, WEIR_ENOMEM. */
int lake_partition_filter_add(struct lake_partition_filter *f, size_t column, enum lake_cmp op,
                              const char *value);

/* Parses "=", "==", "<", "<=", ">", ">=" into *op; WEIR_EINVALID otherwise. */
int lake_partition_cmp_parse(const char *text, enum lake_cmp *op);

/* 1 if a file with these partition values (one per key, nvalues of them) may
 * hold matching rows, 0 if it can be skipped. A NULL filter matches all; a
 * constraint on a column >= nvalues is ignored (never prunes). */
int lake_partition_filter_match(const struct lake_partition_filter *f, const char *const *values,
                                size_t nvalues);

void lake_partition_filter_free(struct lake_partition_filter *f);

#endif
