/*
 * model.c - the contract's rule vocabulary, the parser and validator of a
 * data_quality object (spec §3.2, DESIGN §7), and the contract.validate step.
 *
 * Validation collects every problem rather than stopping at the first, so a
 * generated contract can be sent back to the LLM with the full list; each
 * problem is one line that starts with the JSON path of the offending value.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "check_expr.h"
#include "contract.h"
#include "predicate.h"

static const char *const kind_names[CK_COUNT] = {
    [CK_NOT_NULL] = "not_null",
    [CK_NULL_RATIO_MAX] = "null_ratio_max",
    [CK_UNIQUE] = "unique",
    [CK_GRAIN_UNIQUE] = "grain_unique",
    [CK_ALLOWED_VALUES] = "allowed_values",
    [CK_DISALLOWED_VALUES] = "disallowed_values",
    [CK_MIN] = "min",
    [CK_MAX] = "max",
    [CK_RANGE] = "range",
    [CK_RANGE_SOFT] = "range_soft",
    [CK_PATTERN] = "pattern",
    [CK_LENGTH_RANGE] = "length_range",
    [CK_FOREIGN_KEY] = "foreign_key",
    [CK_ROW_COUNT_RANGE] = "row_count_range",
    [CK_ROW_COUNT_ANOMALY] = "row_count_anomaly",
    [CK_FRESHNESS_SLA] = "freshness_sla",
    [CK_SCHEMA_COLUMNS] = "schema_columns",
    [CK_TYPE_CONFORMITY] = "type_conformity",
    [CK_DISTINCT_COUNT_RANGE] = "distinct_count_range",
    [CK_DISTRIBUTION_DRIFT] = "distribution_drift",
    [CK_CUSTOM_SQL] = "custom_sql",
    [CK_CHECK] = "check",
    [CK_LUA] = "lua",
};

/* Names peers and the user's spec use for the same concepts (dq-anchors §2). */
static const struct {
    const char *alias;
    enum contract_kind kind;
} kind_aliases[] = {
    { "grain_uniqueness", CK_GRAIN_UNIQUE },
    { "accepted_values", CK_ALLOWED_VALUES },
    { "not_accepted_values", CK_DISALLOWED_VALUES },
    { "accepted_range", CK_RANGE },
    { "check_constraint", CK_CHECK },
};

const char *contract_kind_name(enum contract_kind k)
{
    if ((int)k < 0 || k >= CK_COUNT) {
        return "unknown";
    }
    return kind_names[k];
}

int contract_kind_parse(const char *name)
{
    size_t i;

    if (name == NULL) {
        return -1;
    }
    for (i = 0; i < CK_COUNT; i++) {
        if (!strcmp(name, kind_names[i])) {
            return (int)i;
        }
    }
    for (i = 0; i < sizeof(kind_aliases) / sizeof(kind_aliases[0]); i++) {
        if (!strcmp(name, kind_aliases[i].alias)) {
            return (int)kind_aliases[i].kind;
        }
    }
    return -1;
}

int contract_kind_is_row_rule(enum contract_kind k)
{
    switch (k) {
    case CK_NOT_NULL:
    case CK_ALLOWED_VALUES:
    case CK_DISALLOWED_VALUES:
    case CK_MIN:
    case CK_MAX:
    case CK_RANGE:
    case CK_RANGE_SOFT:
    case CK_PATTERN:
    case CK_LENGTH_RANGE:
    case CK_TYPE_CONFORMITY:
    case CK_CHECK:
    case CK_LUA: return 1;
    default: return 0;
    }
}

/* Kinds that are about the table as a whole and never name one column. */
static int kind_is_table_only(enum contract_kind k)
{
    return k == CK_GRAIN_UNIQUE || k == CK_ROW_COUNT_RANGE || k == CK_ROW_COUNT_ANOMALY ||
           k == CK_SCHEMA_COLUMNS || k == CK_CUSTOM_SQL;
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = contract_host->malloc(n);

    if (p != NULL) {
        memcpy(p, s, n);
    }
    return p;
}

/* ---- validation state --------------------------------------------------- */

struct parse_state {
    const json_t *dq;
    const json_t *schema; /* [{name, type}] or NULL */
    json_t *errors;
    struct contract_rule *rules;
    size_t nrules, cap;
    int oom;
};

static void problem(struct parse_state *ps, const char *fmt, ...) WEIR__PRINTF(2, 3);

static void problem(struct parse_state *ps, const char *fmt, ...)
{
    char buf[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (json_array_append_new(ps->errors, json_string(buf)) < 0) {
        ps->oom = 1;
    }
}

/* Non-zero when col may be used: it is in the schema (when one is given) and,
 * for rules outside columns{}, declared in the contract or the schema. */
static int column_known(const struct parse_state *ps, const char *col)
{
    size_t i;
    const json_t *c;

    if (ps->schema == NULL) {
        return 1;
    }
    json_array_foreach(ps->schema, i, c) {
        const char *name = json_string_value(json_is_object(c) ? json_object_get(c, "name") : c);

        if (name != NULL && !strcmp(name, col)) {
            return 1;
        }
    }
    return 0;
}

static void check_column_ref(struct parse_state *ps, const char *path, const char *col)
{
    if (!column_known(ps, col)) {
        problem(ps, "%s: unknown column '%s' (not in the table's schema)", path, col);
    }
}

/* Checks that key holds a number (is_int: an integer >= 0); returns 1 when present. */
static int want_number(struct parse_state *ps, const char *path, const json_t *spec,
                       const char *key, int required, int is_int)
{
    const json_t *v = json_object_get(spec, key);

    if (v == NULL || json_is_null(v)) {
        if (required) {
            problem(ps, "%s: missing '%s' (a number)", path, key);
        }
        return 0;
    }
    if (is_int && (!json_is_integer(v) || json_integer_value(v) < 0)) {
        problem(ps, "%s.%s: must be an integer >= 0", path, key);
        return 0;
    }
    if (!json_is_number(v)) {
        problem(ps, "%s.%s: must be a number", path, key);
        return 0;
    }
    return 1;
}

/* A bound of min/max/range: a number, or a string for dates and timestamps
 * (compared as text, which orders ISO dates correctly). */
static int want_bound(struct parse_state *ps, const char *path, const json_t *spec, const char *key)
{
    const json_t *v = json_object_get(spec, key);

    if (v == NULL || json_is_null(v)) {
        return 0;
    }
    if (!json_is_number(v) && !json_is_string(v)) {
        problem(ps, "%s.%s: must be a number or a string", path, key);
        return 0;
    }
    return 1;
}

static const char *want_string(struct parse_state *ps, const char *path, const json_t *spec,
                               const char *key, int required)
{
    const json_t *v = json_object_get(spec, key);

    if (v == NULL || json_is_null(v)) {
        if (required) {
            problem(ps, "%s: missing '%s' (a string)", path, key);
        }
        return NULL;
    }
    if (!json_is_string(v) || json_string_length(v) == 0) {
        problem(ps, "%s.%s: must be a non-empty string", path, key);
        return NULL;
    }
    return json_string_value(v);
}

/* An array of column names, each checked against the schema. */
static void want_columns(struct parse_state *ps, const char *path, const json_t *spec,
                         const char *key, int check_known)
{
    const json_t *v = json_object_get(spec, key), *c;
    char sub[320];
    size_t i;

    if (!json_is_array(v) || json_array_size(v) == 0) {
        problem(ps, "%s: missing '%s' (a non-empty array of column names)", path, key);
        return;
    }
    json_array_foreach(v, i, c) {
        snprintf(sub, sizeof(sub), "%s.%s[%zu]", path, key, i);
        if (!json_is_string(c)) {
            problem(ps, "%s: must be a column name (a string)", sub);
        }
        else if (check_known) {
            check_column_ref(ps, sub, json_string_value(c));
        }
    }
}

/* min/max pairs: at least one bound, and min <= max when both are numbers. */
static void want_min_max(struct parse_state *ps, const char *path, const json_t *spec, int bound,
                         int is_int)
{
    int has_min, has_max;
    const json_t *lo, *hi;

    if (bound) {
        has_min = want_bound(ps, path, spec, "min");
        has_max = want_bound(ps, path, spec, "max");
    }
    else {
        has_min = want_number(ps, path, spec, "min", 0, is_int);
        has_max = want_number(ps, path, spec, "max", 0, is_int);
    }
    lo = json_object_get(spec, "min");
    hi = json_object_get(spec, "max");
    if (!has_min && !has_max && (lo == NULL || json_is_null(lo)) &&
        (hi == NULL || json_is_null(hi))) {
        problem(ps, "%s: needs 'min', 'max' or both", path);
    }
    else if (has_min && has_max && json_is_number(lo) && json_is_number(hi) &&
             json_number_value(lo) > json_number_value(hi)) {
        problem(ps, "%s: min %g is greater than max %g", path, json_number_value(lo),
                json_number_value(hi));
    }
}

static void want_values(struct parse_state *ps, const char *path, const json_t *spec)
{
    const json_t *v = json_object_get(spec, "values"), *x;
    size_t i;

    if (!json_is_array(v) || json_array_size(v) == 0) {
        problem(ps, "%s: missing 'values' (a non-empty array)", path);
        return;
    }
    json_array_foreach(v, i, x) {
        if (!json_is_string(x) && !json_is_number(x) && !json_is_boolean(x)) {
            problem(ps, "%s.values[%zu]: must be a string, number or boolean", path, i);
        }
    }
}

/* The type a column is declared with: the contract's columns{} first, then
 * the schema; NULL when neither says. */
static const char *column_type(const struct parse_state *ps, const char *col)
{
    const json_t *def = json_object_get(json_object_get(ps->dq, "columns"), col), *c;
    size_t i;

    if (json_is_string(json_object_get(def, "type"))) {
        return json_string_value(json_object_get(def, "type"));
    }
    if (ps->schema != NULL) {
        json_array_foreach(ps->schema, i, c) {
            if (json_is_object(c) &&
                !strcmp(json_string_value(json_object_get(c, "name")) ?: "", col)) {
                return json_string_value(json_object_get(c, "type"));
            }
        }
    }
    return NULL;
}

static void check_expression(struct parse_state *ps, const char *path, const char *text)
{
    struct check_expr *e = NULL;
    char err[256];
    size_t i;

    if (check_expr_compile(text, &e, err, sizeof(err)) < 0) {
        problem(ps, "%s.expression: %s", path, err);
        return;
    }
    for (i = 0; i < check_expr_ncolumns(e); i++) {
        const char *col = check_expr_column(e, i);

        if (!column_known(ps, col) &&
            json_object_get(json_object_get(ps->dq, "columns"), col) == NULL) {
            problem(ps, "%s.expression: unknown column '%s'", path, col);
        }
    }
    check_expr_free(e);
}

/* Compiles a Lua rule once (and runs its chunk, which must return a
 * function) so a syntax error shows at validation time, not on the first row
 * of a load. Without the host's Lua (an older host) only the shape is
 * checked; the pre-load step then refuses the rule. No ctx here, so the
 * project's limits are not known: the host's defaults apply. */
static void check_lua(struct parse_state *ps, const char *path, const char *script)
{
    char name[400];
    void *session = NULL;

    if (!WEIR_HOST_HAS(contract_host, lua_open)) {
        return;
    }
    snprintf(name, sizeof(name), "%s.script", path);
    if (contract_host->lua_open(NULL, name, script, strlen(script), &session) < 0) {
        problem(ps, "%s", contract_host->error_last());
    }
    contract_host->lua_close(session);
}

/* Checks the kind-specific fields of one rule. col is the column it tests
 * (NULL for table-level), already checked against the schema. */
static void check_fields(struct parse_state *ps, const char *path, enum contract_kind kind,
                         const json_t *spec, const char *col)
{
    const char *s;

    switch (kind) {
    case CK_NULL_RATIO_MAX:
        if (want_number(ps, path, spec, "max", 1, 0)) {
            double m = json_number_value(json_object_get(spec, "max"));

            if (m < 0 || m > 1) {
                problem(ps, "%s.max: must be between 0 and 1, got %g", path, m);
            }
        }
        break;
    case CK_GRAIN_UNIQUE: want_columns(ps, path, spec, "grain", 1); break;
    case CK_ALLOWED_VALUES:
    case CK_DISALLOWED_VALUES: want_values(ps, path, spec); break;
    case CK_MIN:
    case CK_MAX:
        if (!want_bound(ps, path, spec, "value") && json_object_get(spec, "value") == NULL) {
            problem(ps, "%s: missing 'value' (a number or a string)", path);
        }
        break;
    case CK_RANGE:
    case CK_RANGE_SOFT: want_min_max(ps, path, spec, 1, 0); break;
    case CK_LENGTH_RANGE:
    case CK_DISTINCT_COUNT_RANGE:
    case CK_ROW_COUNT_RANGE: want_min_max(ps, path, spec, 0, 1); break;
    case CK_PATTERN:
        if ((s = want_string(ps, path, spec, "regex", 1)) != NULL) {
            char err[256];

            if (predicate_regex_check(s, err, sizeof(err)) < 0) {
                problem(ps, "%s.regex: not a valid PCRE2 pattern: %s", path, err);
            }
        }
        break;
    case CK_FOREIGN_KEY:
        want_string(ps, path, spec, "ref_table", 1);
        want_string(ps, path, spec, "ref_column", 1);
        break;
    case CK_ROW_COUNT_ANOMALY:
        want_number(ps, path, spec, "max_change_pct", 0, 0);
        want_number(ps, path, spec, "window_days", 0, 1);
        break;
    case CK_FRESHNESS_SLA: want_number(ps, path, spec, "max_lag_hours", 1, 0); break;
    case CK_SCHEMA_COLUMNS: want_columns(ps, path, spec, "columns", 0); break;
    case CK_TYPE_CONFORMITY:
        s = want_string(ps, path, spec, "data_type", 0);
        if (s == NULL && col != NULL && ps->schema != NULL && column_type(ps, col) == NULL) {
            problem(ps, "%s: no type to conform to: give 'data_type' or declare the column's type",
                    path);
        }
        break;
    case CK_DISTRIBUTION_DRIFT:
        want_string(ps, path, spec, "metric", 1);
        want_number(ps, path, spec, "max_change_pct", 1, 0);
        break;
    case CK_CUSTOM_SQL: {
        const json_t *ex = json_object_get(spec, "expect");

        want_string(ps, path, spec, "sql", 1);
        if (ex != NULL && !(json_is_string(ex) && !strcmp(json_string_value(ex), "zero_rows")) &&
            !(json_is_object(ex) && json_is_number(json_object_get(ex, "max")))) {
            problem(ps, "%s.expect: must be \"zero_rows\" or {\"max\": n}", path);
        }
        break;
    }
    case CK_CHECK:
        if ((s = want_string(ps, path, spec, "expression", 1)) != NULL) {
            check_expression(ps, path, s);
        }
        break;
    case CK_LUA:
        if ((s = want_string(ps, path, spec, "script", 1)) != NULL) {
            check_lua(ps, path, s);
        }
        break;
    default: break;
    }
}

static int default_is_error(enum contract_kind k)
{
    return !(k == CK_RANGE_SOFT || k == CK_DISTRIBUTION_DRIFT);
}

static int push_rule(struct parse_state *ps, const struct contract_rule *r)
{
    if (ps->nrules == ps->cap) {
        size_t cap = ps->cap ? ps->cap * 2 : 16;
        struct contract_rule *n = contract_host->realloc(ps->rules, cap * sizeof(*n));

        if (n == NULL) {
            ps->oom = 1;
            return -1;
        }
        ps->rules = n;
        ps->cap = cap;
    }
    ps->rules[ps->nrules++] = *r;
    return 0;
}

/* One rule object at path, declared under column decl_col (NULL in
 * table_level_checks). */
static void parse_rule(struct parse_state *ps, const char *path, const json_t *spec,
                       const char *decl_col)
{
    struct contract_rule r = { 0 };
    const json_t *type, *sev, *name, *colv;
    const char *col = decl_col;
    int kind;

    if (!json_is_object(spec)) {
        problem(ps, "%s: a rule must be an object with a 'type'", path);
        return;
    }
    type = json_object_get(spec, "type");
    if (!json_is_string(type)) {
        problem(ps, "%s: missing 'type' (the rule type, e.g. \"not_null\")", path);
        return;
    }
    if ((kind = contract_kind_parse(json_string_value(type))) < 0) {
        problem(ps, "%s: unknown rule type '%s'", path, json_string_value(type));
        return;
    }
    r.kind = (enum contract_kind)kind;
    colv = json_object_get(spec, "column");
    if (colv != NULL && !json_is_string(colv)) {
        problem(ps, "%s.column: must be a column name (a string)", path);
        return;
    }
    if (col == NULL && colv != NULL) {
        col = json_string_value(colv);
    }
    if (kind_is_table_only(r.kind)) {
        if (decl_col != NULL) {
            problem(ps, "%s: '%s' is a table-level check; move it to table_level_checks", path,
                    kind_names[kind]);
            return;
        }
        col = NULL;
    }
    else if (col == NULL && r.kind != CK_CHECK && r.kind != CK_LUA) {
        problem(ps, "%s: '%s' needs a 'column'", path, kind_names[kind]);
        return;
    }
    if (col != NULL && decl_col == NULL) {
        char sub[400];

        snprintf(sub, sizeof(sub), "%s.column", path);
        check_column_ref(ps, sub, col);
    }
    check_fields(ps, path, r.kind, spec, col);
    r.is_error = default_is_error(r.kind);
    sev = json_object_get(spec, "severity");
    if (sev != NULL && !json_is_null(sev)) {
        const char *s = json_string_value(sev);

        if (s != NULL && !strcmp(s, "error")) {
            r.is_error = 1;
        }
        else if (s != NULL && !strcmp(s, "warn")) {
            r.is_error = 0;
        }
        else {
            problem(ps, "%s.severity: must be \"error\" or \"warn\"", path);
        }
    }
    name = json_object_get(spec, "name");
    if (name != NULL && !json_is_null(name) &&
        (!json_is_string(name) || json_string_length(name) == 0)) {
        problem(ps, "%s.name: must be a non-empty string", path);
        name = NULL;
    }
    /* Names are assigned after all rules are read, so generated names can
     * avoid the explicit ones; keep the explicit one (borrowed) for now. */
    r.name = (char *)(json_is_string(name) ? json_string_value(name) : NULL);
    r.column = (char *)col;
    r.spec = spec;
    push_rule(ps, &r);
}

static void parse_rule_list(struct parse_state *ps, const char *path, const json_t *list,
                            const char *decl_col)
{
    const json_t *spec;
    char sub[320];
    size_t i;

    if (list == NULL || json_is_null(list)) {
        return;
    }
    if (!json_is_array(list)) {
        problem(ps, "%s: must be an array of rules", path);
        return;
    }
    json_array_foreach(list, i, spec) {
        snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
        parse_rule(ps, sub, spec, decl_col);
    }
}

static void parse_columns(struct parse_state *ps)
{
    const json_t *cols = json_object_get(ps->dq, "columns"), *def, *v;
    const char *col;
    char path[320];

    if (cols == NULL || json_is_null(cols)) {
        return;
    }
    if (!json_is_object(cols)) {
        problem(ps, "columns: must be an object of column name -> {type, nullable, rules}");
        return;
    }
    json_object_foreach((json_t *)cols, col, def) {
        snprintf(path, sizeof(path), "columns.%s", col);
        if (!json_is_object(def)) {
            problem(ps, "%s: must be an object {type, nullable, rules}", path);
            continue;
        }
        check_column_ref(ps, path, col);
        if ((v = json_object_get(def, "type")) != NULL && !json_is_string(v)) {
            problem(ps, "%s.type: must be a string (a Hive type)", path);
        }
        if ((v = json_object_get(def, "nullable")) != NULL && !json_is_boolean(v)) {
            problem(ps, "%s.nullable: must be true or false", path);
        }
        snprintf(path, sizeof(path), "columns.%s.rules", col);
        parse_rule_list(ps, path, json_object_get(def, "rules"), col);
    }
}

static int name_taken(const struct parse_state *ps, size_t upto, const char *name)
{
    size_t i;

    for (i = 0; i < upto; i++) {
        if (ps->rules[i].name != NULL && !strcmp(ps->rules[i].name, name)) {
            return 1;
        }
    }
    return 0;
}

/* Turns borrowed explicit names into owned copies and gives every other rule
 * "<column>.<kind>" or "<kind>", suffixed ".2", ".3" ... when taken. */
static void assign_names(struct parse_state *ps)
{
    char buf[400];
    size_t i, j;

    for (i = 0; i < ps->nrules; i++) {
        if (ps->rules[i].name != NULL) {
            if (name_taken(ps, i, ps->rules[i].name)) {
                problem(ps, "rule name '%s' is used twice; rule names must be unique",
                        ps->rules[i].name);
            }
        }
    }
    for (i = 0; i < ps->nrules; i++) {
        struct contract_rule *r = &ps->rules[i];

        if (r->name != NULL) {
            if ((r->name = dup_str(r->name)) == NULL) {
                ps->oom = 1;
            }
            continue;
        }
    }
    for (i = 0; i < ps->nrules; i++) {
        struct contract_rule *r = &ps->rules[i];
        int n = 1;

        if (r->name != NULL || ps->oom) {
            continue;
        }
        for (;;) {
            int len = r->column
                          ? snprintf(buf, sizeof(buf), "%s.%s", r->column, kind_names[r->kind])
                          : snprintf(buf, sizeof(buf), "%s", kind_names[r->kind]);

            if (n > 1) {
                snprintf(buf + len, sizeof(buf) - (size_t)len, ".%d", n);
            }
            for (j = 0;
                 j < ps->nrules && !(ps->rules[j].name != NULL && !strcmp(ps->rules[j].name, buf));
                 j++) {
            }
            if (j == ps->nrules) {
                break;
            }
            n++;
        }
        if ((r->name = dup_str(buf)) == NULL) {
            ps->oom = 1;
        }
    }
}

static void free_rules(struct contract_rule *rules, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        contract_host->free(rules[i].name);
        contract_host->free(rules[i].column);
    }
    contract_host->free(rules);
}

/* Column names in rules point into the JSON until here; copy them so the
 * contract owns everything it hands out. */
static void own_columns(struct parse_state *ps)
{
    size_t i;

    for (i = 0; i < ps->nrules; i++) {
        if (ps->rules[i].column != NULL &&
            (ps->rules[i].column = dup_str(ps->rules[i].column)) == NULL) {
            ps->oom = 1;
        }
    }
}

static void parse_top(struct parse_state *ps)
{
    const json_t *v;
    size_t i;

    if ((v = json_object_get(ps->dq, "table_name")) != NULL && !json_is_string(v)) {
        problem(ps, "table_name: must be a string");
    }
    if ((v = json_object_get(ps->dq, "primary_key")) != NULL && !json_is_null(v)) {
        const json_t *c;

        if (!json_is_array(v)) {
            problem(ps, "primary_key: must be an array of column names");
        }
        else {
            json_array_foreach(v, i, c) {
                char path[64];

                snprintf(path, sizeof(path), "primary_key[%zu]", i);
                if (!json_is_string(c)) {
                    problem(ps, "%s: must be a column name (a string)", path);
                }
                else {
                    check_column_ref(ps, path, json_string_value(c));
                }
            }
        }
    }
    parse_columns(ps);
    parse_rule_list(ps, "table_level_checks", json_object_get(ps->dq, "table_level_checks"), NULL);
}

int contract_parse(const char *table, const json_t *data_quality, const json_t *columns,
                   struct contract **out, json_t **errors)
{
    struct parse_state ps = { 0 };
    struct contract *c = NULL;
    const char *tname;
    int rc = WEIR_OK;

    *out = NULL;
    if (errors != NULL) {
        *errors = NULL;
    }
    if ((ps.errors = json_array()) == NULL) {
        return contract_host->error_set(WEIR_ENOMEM, "out of memory");
    }
    /* Deep copy first: rule specs are borrowed from the contract's own copy. */
    ps.dq = json_is_object(data_quality) ? json_deep_copy(data_quality) : NULL;
    ps.schema = json_is_array(columns) ? columns : NULL;
    if (!json_is_object(data_quality)) {
        problem(&ps, "data_quality: must be an object");
    }
    else if (ps.dq == NULL) {
        ps.oom = 1;
    }
    else {
        parse_top(&ps);
        own_columns(&ps);
        assign_names(&ps);
    }
    if (ps.oom) {
        rc = contract_host->error_set(WEIR_ENOMEM, "out of memory while parsing the contract");
        goto cleanup;
    }
    if (json_array_size(ps.errors) > 0) {
        rc = contract_host->error_set(WEIR_EINVALID, "contract: %zu problem(s), first: %s",
                                      json_array_size(ps.errors),
                                      json_string_value(json_array_get(ps.errors, 0)));
        goto cleanup;
    }
    tname = table ? table : json_string_value(json_object_get(ps.dq, "table_name"));
    if ((c = contract_host->malloc(sizeof(*c))) == NULL) {
        rc = contract_host->error_set(WEIR_ENOMEM, "out of memory");
        goto cleanup;
    }
    memset(c, 0, sizeof(*c));
    if (tname != NULL && (c->table = dup_str(tname)) == NULL) {
        contract_host->free(c);
        c = NULL;
        rc = contract_host->error_set(WEIR_ENOMEM, "out of memory");
        goto cleanup;
    }
    c->data_quality = (json_t *)ps.dq;
    c->rules = ps.rules;
    c->nrules = ps.nrules;
    ps.dq = NULL;
    ps.rules = NULL;
    ps.nrules = 0;
    *out = c;

cleanup:
    free_rules(ps.rules, ps.nrules);
    json_decref((json_t *)ps.dq);
    if (errors != NULL) {
        *errors = ps.errors;
    }
    else {
        json_decref(ps.errors);
    }
    return rc;
}

void contract_free(struct contract *c)
{
    if (c == NULL) {
        return;
    }
    free_rules(c->rules, c->nrules);
    contract_host->free(c->table);
    json_decref(c->data_quality);
    contract_host->free(c);
}

/* ---- contract.validate --------------------------------------------------- */

static const struct weir_param_desc validate_params[] = {
    { "contract", WEIR_PARAM_OBJECT, 1, NULL,
      "the data_quality object, or an object holding it under \"data_quality\"" },
    { "columns", WEIR_PARAM_ARRAY, 0, NULL,
      "the table's schema as [{name, type}]; rules on other columns are errors" },
    { "table", WEIR_PARAM_STRING, 0, NULL, "db.table the contract is for (default: table_name)" },
    { "strict", WEIR_PARAM_BOOLEAN, 0, "false", "fail the step when the contract is invalid" },
    { NULL, WEIR_PARAM_ANY, 0, NULL, NULL },
};

static json_t *rules_json(const struct contract *c)
{
    json_t *arr = json_array();
    size_t i;

    for (i = 0; arr != NULL && i < c->nrules; i++) {
        const struct contract_rule *r = &c->rules[i];

        if (json_array_append_new(arr, json_pack("{s:s, s:s, s:s?, s:s}", "name", r->name, "kind",
                                                 kind_names[r->kind], "column", r->column,
                                                 "severity", r->is_error ? "error" : "warn")) < 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

static int run_validate(const json_t *input, json_t **out, weir_ctx *ctx, void *payload)
{
    const json_t *contract = json_object_get(input, "contract");
    const json_t *cols = json_object_get(input, "columns");
    const json_t *dq = json_object_get(contract, "data_quality");
    struct contract *c = NULL;
    json_t *errors = NULL, *rules = NULL;
    int rc, strict = json_is_true(json_object_get(input, "strict"));

    (void)ctx;
    (void)payload;
    rc = contract_parse(json_string_value(json_object_get(input, "table")), dq ? dq : contract,
                        json_is_array(cols) ? cols : NULL, &c, &errors);
    if (rc < 0 && rc != WEIR_EINVALID) {
        goto cleanup;
    }
    if (rc == WEIR_EINVALID && strict) {
        goto cleanup;
    }
    rules = c ? rules_json(c) : json_array();
    *out = json_pack("{s:b, s:O, s:o}", "valid", c != NULL, "errors", errors, "rules", rules);
    rc = *out ? WEIR_OK : contract_host->error_set(WEIR_ENOMEM, "out of memory");

cleanup:
    json_decref(errors);
    contract_free(c);
    return rc;
}

static const struct weir_step_desc validate_step = {
    .version = WEIR_STEP_DESC_VERSION,
    .name = "validate",
    .description = "checks a data_quality contract: rule types, fields, columns, severities, names",
    .params = validate_params,
    .run = run_validate,
};

int contract_register_model(weir_registry *reg)
{
    return contract_host->step_register(reg, &validate_step);
}
