/*
 * impact_sum_int.h - private to the summarisers (summarize.c, pysum.c,
 * sqlsum.c): the summary being built and the helpers that add to it.
 * Every add helper copies its strings; line is 1-based.
 */
#ifndef WEIR_IMPACT_SUM_INT_H
#define WEIR_IMPACT_SUM_INT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "impact.h"

#define IMPACT_MAX_SCRIPT (8u << 20)

/* The arrays of a job summary under construction (all owned). */
struct isum {
    json_t *sources, *targets, *join_keys, *filter_details, *columns, *grain_details;
    json_t *unresolved, *diagnostics;
    int oom;        /* an allocation failed somewhere: the result is WEIR_ENOMEM */
    uint64_t *seen; /* fingerprints of the entries so far (open addressing) */
    size_t nseen, capseen;
};

int isum_init(struct isum *s);
void isum_free(struct isum *s);
/* Builds the final object (inputs, output, filters, grain derived). */
int isum_finish(struct isum *s, const char *job_name, const char *language, json_t **out);

/* A JSON string of s, with bytes that are not UTF-8 replaced by '?'; JSON
 * null for NULL; NULL only when out of memory. */
json_t *isum_str(const char *s);

void isum_source(struct isum *s, const char *name, const char *kind, const char *via, int line);
void isum_target(struct isum *s, const char *name, const char *kind, const char *via,
                 const char *mode, int line);
/* columns, lcols, rcols: new references (arrays of strings) or NULL. */
void isum_join(struct isum *s, const char *left, const char *right, json_t *lcols, json_t *rcols,
               const char *how, int line);
void isum_filter(struct isum *s, const char *expr, const char *table, int line);
/* sources: new reference (array) or NULL. */
void isum_column(struct isum *s, const char *name, const char *op, json_t *sources,
                 const char *expr, const char *type, const char *from, int line);
/* keys: new reference (array of strings). */
void isum_grain(struct isum *s, const char *kind, json_t *keys, int line);
void isum_unresolved(struct isum *s, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void isum_diag(struct isum *s, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Normalises a join type word ("left_outer", "LEFT", "leftsemi") to the
 * summary's vocabulary; NULL when unknown. */
const char *isum_how(const char *word);

/*
 * SQL summary of text[0..len) into s. line0 is the script line of text's
 * first character. views (borrowed object or NULL) maps temp-view names
 * (lower-cased) registered by a PySpark script to the table they stand for
 * (a string) or null; such names are not inputs. Temporary views the SQL
 * creates are added to it. If first_table is not NULL it receives the first
 * source table of the last query (a new string, host->free), or NULL.
 */
void impact_sql_summarize(struct isum *s, const char *text, size_t len, int line0, json_t *views,
                          char **first_table);

/* PySpark summary of src[0..len) into s. */
void impact_py_summarize(struct isum *s, const char *src, size_t len);

#endif
