/*
 * sqlscan.h - a SQL tokenizer (PostgreSQL, Trino and Spark SQL lexical
 * rules, loosely) used to split a script into statements, to find where an
 * expression ends in the source text, to rewrite Spark-only syntax and, when
 * the PostgreSQL parser rejects a statement, to pull table names out anyway.
 */
#ifndef WEIR_IMPACT_SQLSCAN_H
#define WEIR_IMPACT_SQLSCAN_H

#include <stddef.h>
#include <stdint.h>

#include "impact_sum_int.h"

enum sqltok_kind { SQLT_WORD, SQLT_QIDENT, SQLT_STRING, SQLT_NUMBER, SQLT_OP };

struct sqltok {
    enum sqltok_kind kind;
    uint32_t off, len;
};

/* Tokenizes text[0..len); comments are skipped. *toks (host->free) */
int sqlscan_run(const char *text, size_t len, struct sqltok **toks, size_t *n);

/* Case-insensitive: is token t the word w? */
int sqlscan_is(const char *text, const struct sqltok *t, const char *w);

/* Index of the first token starting at or after off (n if none). */
size_t sqlscan_find(const struct sqltok *t, size_t n, size_t off);

/* Length-preserving rewrites, into buf (tokens [a, b) copied from offset
 * off0), of Spark SQL the PostgreSQL grammar lacks: backticks, INSERT
 * OVERWRITE / INTO TABLE, PARTITION (...), PARTITIONED BY (...), CREATE OR
 * REPLACE TABLE, Trino table properties, LATERAL VIEW (with a diagnostic in
 * s). Returns non-zero for INSERT OVERWRITE. */
int sqlscan_rewrite(const char *text, const struct sqltok *t, size_t a, size_t b, char *buf,
                    size_t off0, struct isum *s, int (*line_of)(void *, size_t), void *arg);

/* Table names of tokens [a, b) by keyword patterns (FROM/JOIN/USING name,
 * INSERT/CREATE/MERGE/UPDATE targets), for a statement the parser rejected.
 * line_of maps an offset of text to a script line. */
void sqlscan_fallback(struct isum *s, const char *text, const struct sqltok *t, size_t a, size_t b,
                      int (*line_of)(void *, size_t), void *arg);

#endif
