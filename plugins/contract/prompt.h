/*
 * prompt.h - what contract.generate and the builtin llm provider agree on:
 * the markers around the context JSON in the user message, the SQL that
 * counts a rule's violations (tests and the check against today's data use
 * the same text), the read-only SQL gate for generated tests, and the line
 * diff shown when a hand-edited contract is kept.
 *
 * prompt.c is compiled into both the contract and the builtin plugins; it
 * uses only libc and jansson (no host table), so it can.
 */
#ifndef WEIR_CONTRACT_PROMPT_H
#define WEIR_CONTRACT_PROMPT_H

#include <stddef.h>

#include <jansson.h>

/* The context object sits alone between these two lines of the user message. */
#define PROMPT_CONTEXT_BEGIN "-----BEGIN CONTEXT JSON-----"
#define PROMPT_CONTEXT_END "-----END CONTEXT JSON-----"

/* A growable string (libc allocation). */
struct pbuf {
    char *s;
    size_t len, cap;
    int oom;
};

void pbuf_add(struct pbuf *b, const char *s);
void pbuf_addf(struct pbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends v as SQL: a quoted string ('' doubled), a number, TRUE/FALSE, NULL. */
void pbuf_add_sql_value(struct pbuf *b, const json_t *v);
/* Appends a number the way people write it (no 17-digit tails). */
void pbuf_add_number(struct pbuf *b, const json_t *v);
/* Takes the string (NULL when out of memory) and resets b. */
char *pbuf_take(struct pbuf *b);
void pbuf_free(struct pbuf *b);

/* The context JSON of a prompt text (between the markers), or NULL. */
json_t *prompt_find_context(const char *text);

/*
 * The SQL that counts today's violations of a rule of table (db.table):
 * always one row with one integer column `failures`, 0 when the rule holds.
 * column is NULL for table-level checks; kind is the rule's type name; spec
 * the rule object. Returns NULL (libc-allocated otherwise) for kinds that
 * need history or a clock rather than one query (row_count_anomaly,
 * freshness_sla, distribution_drift, ...), or a spec it cannot use.
 */
char *prompt_violation_sql(const char *table, const char *column, const char *kind,
                           const json_t *spec);

/*
 * The passing condition of a row rule as a boolean expression (what a
 * pre_load test says: "emi_amount >= 0"), or NULL when the kind is not a
 * row rule expressible that way.
 */
char *prompt_row_expression(const char *column, const char *kind, const json_t *spec);

/*
 * The read-only gate for generated SQL: after comments, exactly one
 * statement (a trailing ';' allowed) whose first keyword is SELECT or WITH,
 * and no write or side-effect keyword outside string literals and quoted
 * identifiers. Returns NULL when the SQL passes, else a static reason.
 */
const char *prompt_sql_check(const char *sql);

/*
 * A line diff (longest common subsequence) of old_text -> new_text headed
 * "--- label (in the store)" / "+++ label (generated now)", each change with
 * two common lines around it and longer common runs elided as "@@ line N @@".
 * libc-allocated; NULL when out of memory.
 */
char *prompt_line_diff(const char *old_text, const char *new_text, const char *label);

#endif
