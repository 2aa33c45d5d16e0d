/*
 * check_expr.h - the `check` rule's expression language: a small SQL-like
 * boolean expression over one row's columns, compiled once and evaluated per
 * row without allocating.
 *
 * Grammar (keywords case-insensitive):
 *   expr    := or
 *   or      := and (OR and)*
 *   and     := not (AND not)*
 *   not     := NOT not | pred
 *   pred    := sum [ cmpop sum | IS [NOT] NULL | [NOT] IN '(' sum (',' sum)* ')'
 *                  | [NOT] LIKE sum | [NOT] BETWEEN sum AND sum ]
 *   cmpop   := = | == | != | <> | < | <= | > | >=
 *   sum     := product (('+' | '-') product)*
 *   product := unary (('*' | '/' | '%') unary)*
 *   unary   := '-' unary | primary
 *   primary := number | 'string' ('' escapes a quote) | TRUE | FALSE | NULL
 *            | column | "column" | `column` | '(' expr ')'
 *
 * Semantics follow SQL's three-valued logic: NULL compares to nothing,
 * NULL AND FALSE is FALSE, NULL OR TRUE is TRUE. A check is violated only when
 * it evaluates to FALSE (a NULL result passes, as in SQL CHECK constraints;
 * use IS NOT NULL or a not_null rule to forbid NULLs), or when a value cannot
 * be used as the expression needs (a non-numeric text in arithmetic or
 * compared with a number): that ERROR result also counts as a violation.
 * Column values are text; they compare as numbers with a number, as text with
 * a string literal, and, column with column, as numbers when both parse as
 * numbers. Division by zero gives NULL (as in SQLite). LIKE is case-sensitive
 * (as in Trino / Athena), `%` any run, `_` one UTF-8 character, no ESCAPE.
 */
#ifndef WEIR_CHECK_EXPR_H
#define WEIR_CHECK_EXPR_H

#include <stddef.h>
#include <stdint.h>

#include "lake.h"

enum check_result { CHECK_FALSE = 0, CHECK_TRUE = 1, CHECK_NULL = 2, CHECK_ERROR = 3 };

struct check_expr;

/* Compiles text. On a syntax error returns WEIR_EINVALID with a message in
 * err ("at offset 7: expected ')'"); error_set is not called, so a caller
 * validating many rules can collect the messages. */
int check_expr_compile(const char *text, struct check_expr **out, char *err, size_t errlen);
void check_expr_free(struct check_expr *e);

/* The distinct column names the expression reads, in order of first use. */
size_t check_expr_ncolumns(const struct check_expr *e);
const char *check_expr_column(const struct check_expr *e, size_t i);

/* Binds expression column i to index field of the rows passed to eval. */
void check_expr_bind(struct check_expr *e, size_t i, size_t field);
size_t check_expr_field(const struct check_expr *e, size_t i);

/* Parses a whole text as a number: [-+]digits[.digits] exactly (15
 * significant digits computed without strtod), anything else strtod accepts
 * in full (exponents, inf); no blanks. Returns 1 with *out set, else 0. */
int check_expr_number(const char *s, size_t len, double *out);

/* Evaluates over a row (fields indexed as bound). Thread-safe for one
 * compiled expression shared by several threads. */
enum check_result check_expr_eval(const struct check_expr *e, const struct lake_field *fields);

/* Numbers parsed at most once per row and field, shared by every rule that
 * reads a row: entry i is current when gen[i] == row (the owner bumps row
 * for each new row and sizes the arrays to the row's fields). */
struct check_numcache {
    uint32_t row;
    uint32_t *gen;
    unsigned char *ok;
    double *num;
};
int check_numcache_get(struct check_numcache *c, size_t field, const struct lake_field *f,
                       double *out);

/* check_expr_eval with the number cache (may be NULL). */
enum check_result check_expr_eval_cached(const struct check_expr *e,
                                         const struct lake_field *fields,
                                         struct check_numcache *cache);

#endif
