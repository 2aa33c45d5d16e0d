/*
 * builtin.h - the builtin llm provider: a deterministic stand-in for a model
 * that answers contract-generation prompts from the context alone (rules
 * from statistics, tests from rules, docs from templates). Files:
 * builtin_plugin.c (entry, llm.generate), builtin_rules.c (suggestions),
 * builtin_docs.c (tests and Markdown), builtin_narrative.c (drift report
 * narratives).
 */
#ifndef WEIR_BUILTIN_H
#define WEIR_BUILTIN_H

#include <weir/weir.h>

#include "prompt.h"

extern const struct weir_host_api *builtin_host;

/* Suggests the data_quality object (spec §3.2) for a context (spec §3.1).
 * ctx may reach the catalog (dimension tables for foreign keys); without
 * one, only the job summary's joins give foreign keys. New reference. */
json_t *builtin_suggest(const json_t *context, weir_ctx *ctx);

/* Tests (post_load SQL, pre_load expressions) for a data_quality object. */
json_t *builtin_tests(const char *table, const json_t *data_quality);

/* The Markdown documentation; libc-allocated, NULL when out of memory. */
char *builtin_docs(const json_t *context, const json_t *data_quality);

/* The narrative of a drift check (context task "drift_narrative"):
 * {narrative}; new reference, NULL when out of memory. */
json_t *builtin_drift_narrative(const json_t *context);

/* Small helpers shared by the files. */
const char *builtin_str(const json_t *obj, const char *key);
const json_t *builtin_column_stats(const json_t *context, const char *column);
int builtin_is_numeric_type(const char *type);

#endif
