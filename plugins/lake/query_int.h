/*
 * query_int.h - text helpers of engine.query (query_sql.c): the keyword and
 * tail checks of the SQL gate, and result values as JSON.
 */
#ifndef WEIR_LAKE_QUERY_INT_H
#define WEIR_LAKE_QUERY_INT_H

#include "lake.h"

/* 1 when the first keyword after whitespace and comments is SELECT or WITH. */
int lake_query_first_keyword_ok(const char *sql);

/* 1 when s holds nothing but whitespace and SQL comments. */
int lake_query_only_comments(const char *s);

/* The authorizer action as words for a refusal ("PRAGMA table_info"). */
const char *lake_query_action_name(int action, const char *arg);

/* A string value; invalid UTF-8 bytes become U+FFFD rather than failing. */
json_t *lake_query_text_json(const char *s, size_t n);

/* A BLOB as "x'0a1b'" text, the way SQL writes one. */
json_t *lake_query_blob_json(const void *p, size_t n);

/* A string param, or fallback when absent or null. */
const char *lake_query_param_str(const json_t *input, const char *name, const char *fallback);

#endif
