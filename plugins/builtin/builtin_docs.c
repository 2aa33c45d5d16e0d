/*
 * builtin_docs.c - tests derived from a data_quality object (one post_load
 * SQL test per rule that one query can check, a history check for volume
 * and freshness, pre_load expressions for row rules), and the Markdown
 * documentation of the table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builtin.h"

/* "a, b" of a JSON array of strings. */
static void add_list(struct pbuf *b, const json_t *arr, const char *sep)
{
    size_t i;
    const json_t *v;

    json_array_foreach(arr, i, v) {
        pbuf_add(b, i ? sep : "");
        if (json_is_string(v)) {
            pbuf_add(b, json_string_value(v));
        }
        else {
            pbuf_add_sql_value(b, v);
        }
    }
}

/* One sentence saying what a rule demands. */
static void describe(struct pbuf *b, const char *col, const char *type, const json_t *r)
{
    const json_t *lo = json_object_get(r, "min"), *hi = json_object_get(r, "max");

    if (strcmp(type, "not_null") == 0) {
        pbuf_addf(b, "%s must not be null.", col);
    }
    else if (strcmp(type, "null_ratio_max") == 0) {
        pbuf_addf(b, "At most %g%% of %s may be null.", 100.0 * json_number_value(hi), col);
    }
    else if (strcmp(type, "unique") == 0) {
        pbuf_addf(b, "%s values are unique.", col);
    }
    else if (strcmp(type, "grain_unique") == 0) {
        pbuf_add(b, "No duplicate (");
        add_list(b, json_object_get(r, "grain"), ", ");
        pbuf_add(b, ") rows.");
    }
    else if (strcmp(type, "allowed_values") == 0) {
        pbuf_addf(b, "%s is one of ", col);
        add_list(b, json_object_get(r, "values"), ", ");
        pbuf_add(b, ".");
    }
    else if (strcmp(type, "min") == 0) {
        pbuf_addf(b, "%s is at least ", col);
        pbuf_add_number(b, json_object_get(r, "value"));
        pbuf_add(b, ".");
    }
    else if (strcmp(type, "range_soft") == 0 || strcmp(type, "range") == 0) {
        pbuf_addf(b, "%s stays between ", col);
        pbuf_add_number(b, lo);
        pbuf_add(b, " and ");
        pbuf_add_number(b, hi);
        pbuf_add(b, type[5] ? " (soft bound: a warning, not a failure)." : ".");
    }
    else if (strcmp(type, "pattern") == 0) {
        pbuf_addf(b, "%s matches `%s`.", col, json_string_value(json_object_get(r, "regex")));
    }
    else if (strcmp(type, "length_range") == 0) {
        pbuf_addf(b, "%s is ", col);
        if (json_equal((json_t *)lo, (json_t *)hi)) {
            pbuf_add(b, "exactly ");
            pbuf_add_number(b, lo);
        }
        else {
            pbuf_add_number(b, lo);
            pbuf_add(b, "..");
            pbuf_add_number(b, hi);
        }
        pbuf_add(b, " characters long.");
    }
    else if (strcmp(type, "foreign_key") == 0) {
        pbuf_addf(b, "Every %s exists in %s.%s.", col,
                  json_string_value(json_object_get(r, "ref_table")),
                  json_string_value(json_object_get(r, "ref_column")));
    }
    else if (strcmp(type, "row_count_anomaly") == 0) {
        pbuf_addf(b, "The row count stays within %lld%% of the %lld-day average.",
                  (long long)json_integer_value(json_object_get(r, "max_change_pct")),
                  (long long)json_integer_value(json_object_get(r, "window_days")));
    }
    else if (strcmp(type, "freshness_sla") == 0) {
        pbuf_addf(b, "The newest %s is at most %lld hours old.",
                  json_string_value(json_object_get(r, "column")),
                  (long long)json_integer_value(json_object_get(r, "max_lag_hours")));
    }
    else if (strcmp(type, "check") == 0) {
        pbuf_addf(b, "`%s` holds.", json_string_value(json_object_get(r, "expression")));
    }
    else {
        pbuf_addf(b, "%s rule on %s.", type, col);
    }
}

/* The name of a rule's test: "not_null_loan_id", "grain_unique_loan_id_payment_date". */
static void test_name(struct pbuf *b, const char *col, const char *type, const json_t *r)
{
    pbuf_add(b, type);
    if (col) {
        pbuf_addf(b, "_%s", col);
    }
    else if (strcmp(type, "grain_unique") == 0) {
        pbuf_add(b, "_");
        add_list(b, json_object_get(r, "grain"), "_");
    }
    else if (json_is_string(json_object_get(r, "name"))) {
        pbuf_addf(b, "_%s", json_string_value(json_object_get(r, "name")));
    }
    else if (json_is_string(json_object_get(r, "column"))) {
        pbuf_addf(b, "_%s", json_string_value(json_object_get(r, "column")));
    }
}

static void add_tests_of_rule(json_t *tests, json_t *pre, const char *table, const char *col,
                              const json_t *r)
{
    const char *type = builtin_str(r, "type"), *sev = builtin_str(r, "severity");
    struct pbuf name = { 0 }, desc = { 0 };
    char *sql, *expr, *n, *d;
    json_t *t;

    if (!type) {
        return;
    }
    sev = sev ? sev : "error";
    test_name(&name, col, type, r);
    describe(&desc, col ? col : "", type, r);
    n = pbuf_take(&name);
    d = pbuf_take(&desc);
    if ((sql = prompt_violation_sql(table, col, type, r)) != NULL) {
        t = json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:i}}", "name", n, "description", d, "stage",
                      "post_load", "severity", sev, "sql", sql, "expect", "max", 0);
        json_array_append_new(tests, t);
    }
    else {
        /* Volume and freshness need history or the clock: the runner does them. */
        json_t *check = json_deep_copy(r);

        json_object_del(check, "severity");
        json_object_del(check, "evidence");
        t = json_pack("{s:s, s:s, s:s, s:s, s:o}", "name", n, "description", d, "stage",
                      "post_load", "severity", sev, "check", check);
        json_array_append_new(tests, t);
    }
    if ((expr = prompt_row_expression(col, type, r)) != NULL) {
        char *pn = NULL;

        if (asprintf(&pn, "preload_%s", n) >= 0) {
            json_array_append_new(pre, json_pack("{s:s, s:s, s:s, s:s, s:s}", "name", pn,
                                                 "description", d, "stage", "pre_load",
                                                 "severity", sev, "rule", expr));
        }
        free(pn);
    }
    free(sql);
    free(expr);
    free(n);
    free(d);
}

json_t *builtin_tests(const char *table, const json_t *dq)
{
    json_t *tests = json_array(), *pre = json_array();
    const char *col;
    const json_t *spec, *r;
    size_t i;

    json_object_foreach((json_t *)json_object_get(dq, "columns"), col, spec) {
        json_array_foreach(json_object_get(spec, "rules"), i, r) {
            add_tests_of_rule(tests, pre, table, col, r);
        }
    }
    json_array_foreach(json_object_get(dq, "table_level_checks"), i, r) {
        add_tests_of_rule(tests, pre, table, NULL, r);
    }
    json_array_extend(tests, pre);
    json_decref(pre);
    return tests;
}

/* ---- Markdown --------------------------------------------------------- */

/* Text for a table cell: pipes escaped, newlines flattened. */
static void add_cell(struct pbuf *b, const char *s)
{
    for (; s && *s; s++) {
        char c[2] = { *s, 0 };

        pbuf_add(b, *s == '|' ? "\\|" : *s == '\n' ? " " : c);
    }
}

static void add_stat(struct pbuf *b, const json_t *v)
{
    if (json_is_string(v)) {
        add_cell(b, json_string_value(v));
    }
    else if (json_is_number(v)) {
        pbuf_add_number(b, v);
    }
    else {
        pbuf_add(b, "");
    }
}

static void docs_columns(struct pbuf *b, const json_t *context)
{
    const json_t *c;
    size_t i;

    pbuf_add(b, "## Columns\n\n| Column | Type | Nullable | Nulls | Distinct | Min | Max | "
                "Description |\n|---|---|---|---|---|---|---|---|\n");
    json_array_foreach(json_object_get(context, "schema"), i, c) {
        const char *name = builtin_str(c, "name");
        const json_t *st = builtin_column_stats(context, name ? name : "");

        pbuf_add(b, "| `");
        add_cell(b, name);
        pbuf_add(b, "` | ");
        add_cell(b, builtin_str(c, "type"));
        pbuf_add(b, json_is_true(json_object_get(c, "nullable")) ? " | yes | " : " | no | ");
        add_stat(b, json_object_get(st, "null_count"));
        pbuf_add(b, " | ");
        add_stat(b, json_object_get(st, "distinct_count"));
        pbuf_add(b, json_is_true(json_object_get(st, "distinct_exact")) || !st ? " | " : " (approx.) | ");
        add_stat(b, json_object_get(st, "min"));
        pbuf_add(b, " | ");
        add_stat(b, json_object_get(st, "max"));
        pbuf_add(b, " | ");
        add_cell(b, builtin_str(c, "comment"));
        pbuf_add(b, " |\n");
    }
}

static void docs_rule(struct pbuf *b, const char *col, const json_t *r)
{
    const char *type = builtin_str(r, "type");

    if (!type) {
        return;
    }
    pbuf_addf(b, "- `%s` ", type);
    if (col) {
        pbuf_addf(b, "on `%s` ", col);
    }
    pbuf_addf(b, "(%s): ", builtin_str(r, "severity") ? builtin_str(r, "severity") : "error");
    describe(b, col ? col : "", type, r);
    if (builtin_str(r, "evidence")) {
        pbuf_addf(b, " Evidence: %s.", builtin_str(r, "evidence"));
    }
    pbuf_add(b, "\n");
}

static void docs_lineage(struct pbuf *b, const json_t *job)
{
    const json_t *j;
    size_t i;

    pbuf_add(b, "\n## Lineage\n\n");
    if (!json_is_object(job)) {
        pbuf_add(b, "No job summary was given, so the producing job and its inputs are not "
                    "documented yet.\n");
        return;
    }
    if (builtin_str(job, "job_name")) {
        pbuf_addf(b, "- Job: `%s`\n", builtin_str(job, "job_name"));
    }
    if (json_array_size(json_object_get(job, "inputs"))) {
        pbuf_add(b, "- Inputs: ");
        add_list(b, json_object_get(job, "inputs"), ", ");
        pbuf_add(b, "\n");
    }
    if (builtin_str(job, "output")) {
        pbuf_addf(b, "- Output: `%s`\n", builtin_str(job, "output"));
    }
    json_array_foreach(json_object_get(job, "join_keys"), i, j) {
        pbuf_addf(b, "- Join: %s to %s on ",
                  builtin_str(j, "left_table") ? builtin_str(j, "left_table") : "?",
                  builtin_str(j, "right_table") ? builtin_str(j, "right_table") : "?");
        add_list(b, json_object_get(j, "columns"), ", ");
        pbuf_add(b, "\n");
    }
    json_array_foreach(json_object_get(job, "filters"), i, j) {
        if (json_is_string(j)) {
            pbuf_addf(b, "- Filter: `%s`\n", json_string_value(j));
        }
    }
}

char *builtin_docs(const json_t *context, const json_t *dq)
{
    struct pbuf b = { 0 };
    const json_t *grain = json_object_get(dq, "primary_key"), *fresh = json_object_get(dq, "freshness");
    const json_t *k, *r, *spec;
    const char *col;
    size_t i;

    pbuf_addf(&b, "# Table: %s.%s\n\n", builtin_str(context, "database"),
              builtin_str(context, "table_name"));
    if (builtin_str(context, "purpose") && *builtin_str(context, "purpose")) {
        pbuf_addf(&b, "%s\n\n", builtin_str(context, "purpose"));
    }
    pbuf_add(&b, "| | |\n|---|---|\n");
    pbuf_addf(&b, "| Layer | %s |\n", builtin_str(context, "layer") && *builtin_str(context, "layer")
                                          ? builtin_str(context, "layer") : "not set");
    if (builtin_str(dq, "owner")) {
        pbuf_addf(&b, "| Owner | %s |\n", builtin_str(dq, "owner"));
    }
    pbuf_addf(&b, "| Rows (profiled) | %lld |\n",
              (long long)json_integer_value(json_object_get(context, "row_count")));
    if (json_array_size(json_object_get(context, "partition_keys"))) {
        pbuf_add(&b, "| Partitioned by | ");
        json_array_foreach(json_object_get(context, "partition_keys"), i, k) {
            pbuf_addf(&b, "%s`%s` (%s)", i ? ", " : "", builtin_str(k, "name"),
                      builtin_str(k, "type") ? builtin_str(k, "type") : "string");
        }
        pbuf_add(&b, " |\n");
    }
    if (json_array_size(grain)) {
        pbuf_add(&b, "| Grain | one row per (");
        add_list(&b, grain, ", ");
        pbuf_add(&b, ") |\n");
    }
    if (json_is_object(fresh)) {
        pbuf_addf(&b, "| Freshness | %s%s`%s` at most %lld hours old |\n",
                  builtin_str(fresh, "frequency") ? builtin_str(fresh, "frequency") : "",
                  builtin_str(fresh, "frequency") ? " loads; " : "", builtin_str(fresh, "column"),
                  (long long)json_integer_value(json_object_get(fresh, "max_lag_hours")));
    }
    pbuf_add(&b, "\n");
    docs_columns(&b, context);
    pbuf_add(&b, "\n## Data quality rules\n\nError rules fail the load; warn rules are "
                 "reported.\n\n");
    json_object_foreach((json_t *)json_object_get(dq, "columns"), col, spec) {
        json_array_foreach(json_object_get(spec, "rules"), i, r) {
            docs_rule(&b, col, r);
        }
    }
    json_array_foreach(json_object_get(dq, "table_level_checks"), i, r) {
        docs_rule(&b, NULL, r);
    }
    if (json_array_size(json_object_get(context, "constraints"))) {
        pbuf_add(&b, "\nDeclared constraints come from the catalog (`constraint.<name>` "
                     "table parameters).\n");
    }
    docs_lineage(&b, json_object_get(context, "job_summary"));
    return pbuf_take(&b);
}
