/*
 * predicate.h - the pre-load predicate program: a contract's row rules
 * compiled once against a table's columns and evaluated on every row of an
 * incoming file without allocating.
 *
 * Semantics per rule (a field is NULL when missing or a null token):
 *   not_null           fails on NULL
 *   min / max / range / range_soft
 *                      numeric bounds compare numbers (a value that is not a
 *                      number fails); string bounds compare bytes (ISO dates
 *                      and timestamps order correctly)
 *   allowed_values / disallowed_values
 *                      exact text match against string values, numeric
 *                      equality against number values ("5.0" is in [5])
 *   pattern            PCRE2, unanchored search (anchor with ^...$), UTF mode
 *   length_range       length in UTF-8 code points
 *   type_conformity    the value parses as the Hive type: int, bigint,
 *                      double/float, decimal(p,s) (digits checked), boolean,
 *                      date (a real calendar date), timestamp; strings pass
 *   check              see check_expr.h (FALSE or ERROR fails, NULL passes)
 *   lua                the rule's function is called with the row as a table
 *                      {column = value} (values typed by the column's kind
 *                      when they parse as it, else strings; NULL columns are
 *                      absent, i.e. nil); true or nil passes, false fails, a
 *                      string fails with that string as the reason. A script
 *                      error is an error of the step, not of the row.
 * Every rule but not_null and lua passes on NULL, as in SQL.
 *
 * A compiled program holds per-row scratch (numbers parsed once per field,
 * PCRE2 match data, one Lua session per lua rule, opened on the first row
 * and closed by predicate_free), so one program serves one thread.
 */
#ifndef WEIR_CONTRACT_PREDICATE_H
#define WEIR_CONTRACT_PREDICATE_H

#include <stddef.h>

#include "contract.h"
#include "lake.h"

struct predicate;

/* Compiles the row rules of c against t's columns (data columns, then
 * partition columns, as the reader yields them). only (borrowed, may be NULL)
 * is an array of rule names to apply; NULL applies every row rule. Errors (a
 * rule on a column the table lacks, a bad regex, a named rule that is unknown
 * or not a row rule) set the last error and return WEIR_EINVALID. The
 * program borrows c, which must outlive it. */
int predicate_compile(const struct contract *c, const struct lake_table *t, const json_t *only,
                      struct predicate **out);
void predicate_free(struct predicate *p);

/* The compiled rules, in contract order. */
size_t predicate_nrules(const struct predicate *p);
const struct contract_rule *predicate_rule(const struct predicate *p, size_t i);

/* The step context Lua rules take their limits from (NULL: the host's
 * defaults). Call before the first predicate_eval. */
void predicate_set_ctx(struct predicate *p, weir_ctx *ctx);

/* Evaluates every rule on one row of n fields; stores the indices of the
 * failed rules in failed (room for predicate_nrules) and their number in
 * *nfailed. Returns WEIR_OK, or a negative code with the last error set when
 * a Lua rule is broken (script error, time budget, memory cap, a result
 * other than true/nil/false/string): the caller fails the step. */
int predicate_eval(struct predicate *p, const struct lake_field *fields, size_t n, size_t *failed,
                   size_t *nfailed);

/* One line saying why rule i failed on this row, e.g.
 * "emi_amount=-5 violates emi_amount.min (>= 0)". */
void predicate_reason(const struct predicate *p, size_t i, const struct lake_field *fields,
                      size_t n, char *buf, size_t len);

/* Checks that a regex compiles; on failure writes "offset N: message" to err. */
int predicate_regex_check(const char *regex, char *err, size_t errlen);

#endif
