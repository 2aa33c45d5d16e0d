/*
 * contract.h - the contract plugin's shared model (DESIGN §6, §7; the user's
 * spec §3.2): a data_quality object parsed into rules, each rule with its
 * kind, column (NULL for table-level checks), severity and evidence.
 *
 * Files: model.c (this header: vocabulary, parse, validate), context.c
 * (contract.build_context), generate.c (contract.generate: prompt, llm call,
 * validation loop, check against data, artifacts), predicate.c + preload.c
 * (contract.preload: compiled row rules, quarantine), postload.c
 * (contract.postload: SQL tests, results), export.c (pyspark, dqdl, sql,
 * odcs, dbt, soda), contract_plugin.c (entry).
 */
#ifndef WEIR_CONTRACT_H
#define WEIR_CONTRACT_H

#include <stddef.h>

#include <weir/weir.h>

extern const struct weir_host_api *contract_host;

/* The rule vocabulary, one name each (DESIGN §7). The order is stable: it is
 * the order rules are written in generated artifacts. */
enum contract_kind {
    CK_NOT_NULL = 0,
    CK_NULL_RATIO_MAX,     /* {max: 0..1} */
    CK_UNIQUE,
    CK_GRAIN_UNIQUE,       /* table: {grain: [cols]} ("grain_uniqueness" accepted as an alias) */
    CK_ALLOWED_VALUES,     /* {values: [...]} */
    CK_DISALLOWED_VALUES,  /* {values: [...]} */
    CK_MIN,                /* {value} */
    CK_MAX,                /* {value} */
    CK_RANGE,              /* {min, max} */
    CK_RANGE_SOFT,         /* {min, max}: warn-level by default */
    CK_PATTERN,            /* {regex} (PCRE2 syntax) */
    CK_LENGTH_RANGE,       /* {min, max} */
    CK_FOREIGN_KEY,        /* {ref_table, ref_column} */
    CK_ROW_COUNT_RANGE,    /* table: {min, max} */
    CK_ROW_COUNT_ANOMALY,  /* table: {max_change_pct (default 20), window_days (default 7)} */
    CK_FRESHNESS_SLA,      /* table: {column, max_lag_hours} */
    CK_SCHEMA_COLUMNS,     /* table: {columns: [...]} */
    CK_TYPE_CONFORMITY,    /* column values parse as the declared type */
    CK_DISTINCT_COUNT_RANGE, /* {min, max} */
    CK_DISTRIBUTION_DRIFT, /* {metric, max_change_pct} */
    CK_CUSTOM_SQL,         /* table: {sql, expect: "zero_rows" | {max: n}} */
    CK_CHECK,              /* {expression}: a SQL boolean expression over a row's columns */
    CK_LUA,                /* {script}: a Lua chunk returning function(row) (README "Lua rules") */
    CK_COUNT
};

/* Name of a kind ("not_null"), and the kind of a name (aliases included), or -1. */
const char *contract_kind_name(enum contract_kind k);
int contract_kind_parse(const char *name);
/* Non-zero for kinds that test one row at a time (usable before load). */
int contract_kind_is_row_rule(enum contract_kind k);

struct contract_rule {
    enum contract_kind kind;
    char *name;            /* unique in the contract: "<column>.<kind>" or "<kind>[.<n>]" */
    char *column;          /* NULL for table-level checks */
    int is_error;          /* severity: 1 error, 0 warn */
    const json_t *spec;    /* the rule's JSON object (borrowed from the contract) */
};

struct contract {
    char *table;           /* "db.table" */
    json_t *data_quality;  /* owned: the whole data_quality object */
    struct contract_rule *rules;
    size_t nrules;
};

/*
 * Parses and validates a data_quality object (spec §3.2 shape:
 * {table_name, owner, description, primary_key, freshness, columns: {col:
 * {type, nullable, rules: [...]}}, table_level_checks: [...]}).
 * columns (borrowed, may be NULL) is the table's schema as [{name, type}]:
 * when given, rules on unknown columns are errors. Every problem found is
 * appended to *errors (a new array of one-line strings naming the rule, e.g.
 * "columns.status.rules[0]: unknown rule type 'allowed'"); returns
 * WEIR_EINVALID when there is any, and then *out is NULL.
 */
int contract_parse(const char *table, const json_t *data_quality, const json_t *columns,
                   struct contract **out, json_t **errors);
void contract_free(struct contract *c);

/* Registration, one per file group; contract_plugin.c calls them all. */
int contract_register_model(weir_registry *reg);
int contract_register_generate(weir_registry *reg);
int contract_register_preload(weir_registry *reg);
int contract_register_postload(weir_registry *reg);

#endif
