/*
 * hive_type.h - Hive column types as the Glue Data Catalog stores them
 * ("bigint", "decimal(12,2)", "array<struct<a:int>>"), checked and sorted
 * into the kinds the lake's table model uses. Shared by the glue-catalog
 * and athena plugins (athena compiles this file into its own core), so it
 * takes no host and allocates nothing.
 */
#ifndef WEIR_HIVE_TYPE_H
#define WEIR_HIVE_TYPE_H

enum hive_kind {
    HIVE_STRING = 0, /* string, varchar(n), char(n), binary */
    HIVE_INT,        /* tinyint, smallint, int, integer */
    HIVE_BIGINT,
    HIVE_DOUBLE,  /* float, real, double */
    HIVE_DECIMAL, /* decimal, decimal(p), decimal(p,s) */
    HIVE_BOOLEAN,
    HIVE_DATE,
    HIVE_TIMESTAMP,
    HIVE_COMPLEX /* array<...>, map<...>, struct<...>, uniontype<...> */
};

/* Parses a whole type string (case-insensitive, spaces allowed around
 * punctuation). Returns 0 and sets *kind, or -1 when the text is not a Hive
 * type (unknown name, bad bounds such as decimal(40,2), unbalanced <>). */
int hive_type_parse(const char *type, enum hive_kind *kind);

/* The kind's name as the lake reports inferred types: "string", "integer",
 * "double", "boolean", "date", "timestamp" (decimal is "double", complex
 * types "string"). */
const char *hive_kind_inferred(enum hive_kind kind);

/* Non-zero for the kinds profiled as numbers. */
int hive_kind_numeric(enum hive_kind kind);

#endif
