/*
 * sqlgen.h - contract rules as SQL for the engine: one violation query per
 * rule (expect 0), a metric query for table checks (the value observed), and
 * a query for a sample of failing rows. Used by contract.postload, by the
 * `sql` export and by contract.generate (tests from rules).
 *
 * Every dialect difference lives in sqlgen.c: the lake engine speaks SQLite;
 * Athena and Trino share the other dialect. Identifiers are double-quoted
 * per dotted part, literals single-quoted with quotes doubled.
 */
#ifndef WEIR_CONTRACT_SQLGEN_H
#define WEIR_CONTRACT_SQLGEN_H

#include "contract.h"

enum sqlgen_dialect {
    SQLGEN_SQLITE = 0,
    SQLGEN_TRINO      /* Trino / Athena / Presto */
};

/* "sqlite" -> SQLGEN_SQLITE; "trino", "athena", "presto" -> SQLGEN_TRINO; else -1. */
int sqlgen_dialect_parse(const char *name);
const char *sqlgen_dialect_name(enum sqlgen_dialect d);

/* What the rules are checked on: a table, optionally narrowed to one
 * partition (filter_column = filter_value, e.g. dt = the run date), and the
 * reference date for freshness (YYYY-MM-DD; NULL: now). */
struct sqlgen_source {
    const char *table;          /* "db.table" */
    const char *filter_column;  /* NULL: the whole table */
    const char *filter_value;
    const char *date;
};

struct sqlgen_query {
    char *sql;         /* one row, one column "failures": the rule holds when it is 0;
                          for custom_sql, the rule's own query (raw = 1) */
    char *metric_sql;  /* table checks: one row, one column "value" (row count, lag hours,
                          null ratio, distinct count); NULL for row rules */
    char *sample_sql;  /* up to sample_rows failing rows (or duplicate keys); NULL if none */
    char *skip;        /* set instead of the SQL when the rule cannot be checked post-load
                          on this dialect; says why */
    int raw;           /* sql is a user query: count = its single numeric value, else its rows */
};

/*
 * Builds the queries of one rule. row_count_anomaly gets only metric_sql
 * (the comparison needs history). Returns WEIR_OK, WEIR_EINVALID (a rule
 * missing what it needs, message set) or WEIR_ENOMEM; on error *q is empty.
 */
int sqlgen_rule(enum sqlgen_dialect d, const struct sqlgen_source *src, const struct contract_rule *rule,
                long sample_rows, struct sqlgen_query *q);
void sqlgen_query_free(struct sqlgen_query *q);

/* "a.b" -> "\"a\".\"b\"" (quotes inside doubled). Caller frees. */
char *sqlgen_ident(const char *name);
/* A JSON scalar as a SQL literal: strings quoted and escaped, numbers and
 * booleans as is, null as NULL; NULL for arrays and objects. Caller frees. */
char *sqlgen_literal(const json_t *v);
/* The FROM item of src: the quoted table, or a subquery narrowed to the
 * partition. Caller frees. */
char *sqlgen_from(const struct sqlgen_source *src);

/*
 * Narrows a user query to src's partition: each reference to src->table
 * (outside string literals and quoted names, at word boundaries) becomes
 * the narrowed subquery, aliased as the table's own name unless the query
 * gives it an alias. Without a filter, a copy of sql. Caller frees.
 */
char *sqlgen_scope(const char *sql, const struct sqlgen_source *src);

#endif
