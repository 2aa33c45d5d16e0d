/*
 * export_yaml.c - the YAML exports of a contract: ODCS v3, dbt schema.yml
 * and SodaCL (see export.h). Strings are written as JSON strings, which are
 * valid double-quoted YAML scalars.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "export_int.h"

/* ---- odcs ----------------------------------------------------------------- */

static const json_t *columns_of(const struct contract *c)
{
    return json_object_get(c->data_quality, "columns");
}

static void odcs_quality(FILE *f, const struct contract *c, const struct contract_rule *r, const char *ind)
{
    const json_t *lo = export_arg(r, "min"), *hi = export_arg(r, "max");
    struct sqlgen_source src = { .table = c->table };
    struct sqlgen_query sq;

    fprintf(f, "%s- name: ", ind);
    export_q(f, r->name);
    fprintf(f, "\n%s  severity: %s\n", ind, r->is_error ? "error" : "warning");
    switch (r->kind) {
    case CK_NOT_NULL:
        fprintf(f, "%s  metric: nullValues\n%s  mustBe: 0\n%s  dimension: completeness\n", ind, ind, ind);
        return;
    case CK_NULL_RATIO_MAX:
        fprintf(f, "%s  metric: nullValues\n%s  unit: percent\n%s  mustBeLessOrEqualTo: %.15g\n"
                "%s  dimension: completeness\n", ind, ind, ind, export_num(r, "max", 0) * 100, ind);
        return;
    case CK_ALLOWED_VALUES:
        fprintf(f, "%s  metric: invalidValues\n%s  arguments:\n%s    validValues: ", ind, ind, ind);
        export_list(f, export_arg(r, "values"));
        fprintf(f, "\n%s  mustBe: 0\n%s  dimension: conformity\n", ind, ind);
        return;
    case CK_PATTERN:
        fprintf(f, "%s  metric: invalidValues\n%s  arguments:\n%s    pattern: ", ind, ind, ind);
        export_q(f, export_str_arg(r, "regex", ""));
        fprintf(f, "\n%s  mustBe: 0\n%s  dimension: conformity\n", ind, ind);
        return;
    case CK_UNIQUE:
    case CK_GRAIN_UNIQUE:
        fprintf(f, "%s  metric: duplicateValues\n", ind);
        if (r->kind == CK_GRAIN_UNIQUE) {
            fprintf(f, "%s  arguments:\n%s    properties: ", ind, ind);
            export_list(f, export_grain_of(r));
            fputc('\n', f);
        }
        fprintf(f, "%s  mustBe: 0\n%s  dimension: uniqueness\n", ind, ind);
        return;
    case CK_ROW_COUNT_RANGE:
        fprintf(f, "%s  metric: rowCount\n", ind);
        if (json_is_number(lo) && json_is_number(hi)) {
            fprintf(f, "%s  mustBeBetween: [%.15g, %.15g]\n", ind, json_number_value(lo), json_number_value(hi));
        }
        else {
            fprintf(f, "%s  %s: %.15g\n", ind, lo ? "mustBeGreaterOrEqualTo" : "mustBeLessOrEqualTo",
                    json_number_value(lo ? lo : hi));
        }
        fprintf(f, "%s  dimension: completeness\n", ind);
        return;
    default:
        break;
    }
    if (sqlgen_rule(SQLGEN_TRINO, &src, r, 5, &sq) == WEIR_OK && sq.sql && !sq.raw) {
        fprintf(f, "%s  type: sql\n%s  query: ", ind, ind);
        export_q(f, sq.sql);
        fprintf(f, "\n%s  mustBe: 0\n", ind);
    }
    else if (sq.raw && sq.sql) {
        fprintf(f, "%s  type: sql\n%s  query: ", ind, ind);
        export_q(f, sq.sql);
        fputc('\n', f);
    }
    else {
        fprintf(f, "%s  type: text\n%s  description: ", ind, ind);
        export_q(f, contract_kind_name(r->kind));
        fputc('\n', f);
    }
    sqlgen_query_free(&sq);
}

void export_odcs(FILE *f, const struct contract *c)
{
    const json_t *cols = columns_of(c), *pk = json_object_get(c->data_quality, "primary_key"), *x, *cv;
    const char *desc = json_string_value(json_object_get(c->data_quality, "description"));
    const char *owner = json_string_value(json_object_get(c->data_quality, "owner"));
    const char *name;
    size_t i;
    int any;

    fputs("apiVersion: v3.0.2\nkind: DataContract\nid: ", f);
    export_q(f, c->table);
    fputs("\nname: ", f);
    export_q(f, export_bare_table(c));
    fputs("\nversion: 1.0.0\nstatus: active\n", f);
    if (owner) {
        fputs("team:\n  - username: ", f);
        export_q(f, owner);
        fputc('\n', f);
    }
    if (desc) {
        fputs("description:\n  purpose: ", f);
        export_q(f, desc);
        fputc('\n', f);
    }
    fputs("schema:\n  - name: ", f);
    export_q(f, export_bare_table(c));
    fputs("\n    physicalName: ", f);
    export_q(f, c->table);
    fputs("\n    logicalType: object\n", f);
    if (json_array_size(pk) > 0) {
        fputs("    dataGranularityDescription: ", f);
        {
            char *g = json_dumps(pk, JSON_COMPACT);

            export_q(f, g ? g : "");
            free(g);
        }
        fputc('\n', f);
    }
    fputs("    properties:\n", f);
    json_object_foreach((json_t *)cols, name, cv) {
        const char *type = json_string_value(json_object_get(cv, "type"));
        size_t pos = 0;

        fputs("      - name: ", f);
        export_q(f, name);
        fputs("\n        physicalType: ", f);
        export_q(f, type ? type : "string");
        fprintf(f, "\n        required: %s\n", json_is_false(json_object_get(cv, "nullable")) ? "true" : "false");
        json_array_foreach(pk, i, x) {
            if (json_is_string(x) && !strcmp(json_string_value(x), name)) {
                pos = i + 1;
            }
        }
        if (pos) {
            fprintf(f, "        primaryKey: true\n        primaryKeyPosition: %zu\n", pos);
        }
        any = 0;
        for (size_t k = 0; k < c->nrules; k++) {
            if (c->rules[k].column && !strcmp(c->rules[k].column, name)) {
                if (!any) {
                    fputs("        quality:\n", f);
                    any = 1;
                }
                odcs_quality(f, c, &c->rules[k], "          ");
            }
        }
    }
    any = 0;
    for (size_t k = 0; k < c->nrules; k++) {
        if (!c->rules[k].column && c->rules[k].kind != CK_FRESHNESS_SLA) {
            if (!any) {
                fputs("    quality:\n", f);
                any = 1;
            }
            odcs_quality(f, c, &c->rules[k], "      ");
        }
    }
    for (size_t k = 0; k < c->nrules; k++) {
        const struct contract_rule *r = &c->rules[k];

        if (r->kind == CK_FRESHNESS_SLA) {
            fprintf(f, "slaProperties:\n  - property: latency\n    value: %.15g\n    unit: h\n    element: ",
                    export_num(r, "max_lag_hours", 24));
            {
                char *el = NULL;

                if (asprintf(&el, "%s.%s", export_bare_table(c), export_str_arg(r, "column", r->column ? r->column : "")) > 0) {
                    export_q(f, el);
                }
                free(el);
            }
            fputc('\n', f);
            break;
        }
    }
}

/* ---- dbt ------------------------------------------------------------------ */

static void dbt_severity(FILE *f, const struct contract_rule *r, const char *ind)
{
    if (!r->is_error) {
        fprintf(f, "%s  config:\n%s    severity: warn\n", ind, ind);
    }
}

/* A dbt test for r at indent ind, or 0 when dbt has none. */
static int dbt_test(FILE *f, const struct contract *c, const struct contract_rule *r, const char *ind)
{
    const json_t *lo = export_arg(r, "min"), *hi = export_arg(r, "max");
    char *expr = NULL;

    switch (r->kind) {
    case CK_NOT_NULL:
    case CK_UNIQUE:
        fprintf(f, "%s- %s%s\n", ind, contract_kind_name(r->kind), r->is_error ? "" : ":");
        dbt_severity(f, r, ind);
        return 1;
    case CK_ALLOWED_VALUES:
        fprintf(f, "%s- accepted_values:\n%s    values: ", ind, ind);
        export_list(f, export_arg(r, "values"));
        fputc('\n', f);
        dbt_severity(f, r, ind);
        return 1;
    case CK_FOREIGN_KEY:
        fprintf(f, "%s- relationships:\n%s    to: ", ind, ind);
        {
            const char *t = export_str_arg(r, "ref_table", ""), *dot = strrchr(t, '.');

            if (asprintf(&expr, "ref('%s')", dot ? dot + 1 : t) > 0) {
                export_q(f, expr);
            }
        }
        fprintf(f, "\n%s    field: ", ind);
        export_q(f, export_str_arg(r, "ref_column", r->column));
        fputc('\n', f);
        dbt_severity(f, r, ind);
        free(expr);
        return 1;
    case CK_GRAIN_UNIQUE:
        fprintf(f, "%s- dbt_utils.unique_combination_of_columns:\n%s    combination_of_columns: ", ind, ind);
        export_list(f, export_grain_of(r));
        fputc('\n', f);
        dbt_severity(f, r, ind);
        return 1;
    case CK_FRESHNESS_SLA:
        fprintf(f, "%s- dbt_utils.recency:\n%s    datepart: hour\n%s    field: ", ind, ind, ind);
        export_q(f, export_str_arg(r, "column", r->column ? r->column : ""));
        fprintf(f, "\n%s    interval: %.15g\n", ind, export_num(r, "max_lag_hours", 24));
        dbt_severity(f, r, ind);
        return 1;
    case CK_MIN:
    case CK_MAX:
        if (asprintf(&expr, "%s %s %.15g", r->column, r->kind == CK_MIN ? ">=" : "<=", export_num(r, "value", 0)) < 0) {
            return 0;
        }
        break;
    case CK_RANGE:
    case CK_RANGE_SOFT:
        if (json_is_number(lo) && json_is_number(hi)) {
            if (asprintf(&expr, "%s between %.15g and %.15g", r->column, json_number_value(lo), json_number_value(hi)) < 0) {
                return 0;
            }
        }
        else if (asprintf(&expr, "%s %s %.15g", r->column, lo ? ">=" : "<=", json_number_value(lo ? lo : hi)) < 0) {
            return 0;
        }
        break;
    case CK_DISALLOWED_VALUES:
        fprintf(f, "%s- not_accepted_values:\n%s    values: ", ind, ind);
        export_list(f, export_arg(r, "values"));
        fputc('\n', f);
        dbt_severity(f, r, ind);
        return 1;
    case CK_CHECK:
        expr = strdup(export_str_arg(r, "expression", "TRUE"));
        break;
    default:
        (void)c;
        return 0;
    }
    fprintf(f, "%s- dbt_utils.expression_is_true:\n%s    expression: ", ind, ind);
    export_q(f, expr ? expr : "TRUE");
    fputc('\n', f);
    dbt_severity(f, r, ind);
    free(expr);
    return 1;
}


/* One rule as a dbt test at `indent`, under a `data_tests:` key (written at
 * `key_indent` before the first test of the block, tracked by *any); a rule
 * dbt cannot express becomes a comment, never a silent drop. */
static void dbt_emit(FILE *f, const struct contract *c, const struct contract_rule *r,
                     const char *key_indent, const char *indent, int *any)
{
    char *p = NULL;
    size_t n = 0;
    FILE *m = open_memstream(&p, &n);
    int ok = m ? dbt_test(m, c, r, indent) : 0;

    if (m) {
        fclose(m);
    }
    if (ok && !*any) {
        fprintf(f, "%sdata_tests:\n", key_indent);
        *any = 1;
    }
    if (ok) {
        fputs(p, f);
    }
    else {
        fprintf(f, "%s# not exported: %s (%s)\n", key_indent, r->name, contract_kind_name(r->kind));
    }
    free(p);
}

static int dbt_is_model_level(const struct contract_rule *r)
{
    return !r->column || r->kind == CK_MIN || r->kind == CK_MAX || r->kind == CK_RANGE ||
           r->kind == CK_RANGE_SOFT || r->kind == CK_CHECK;
}

void export_dbt(FILE *f, const struct contract *c)
{
    const json_t *cols = columns_of(c), *cv;
    const char *desc = json_string_value(json_object_get(c->data_quality, "description")), *name;
    int any = 0;

    fprintf(f, "# dbt tests for %s, exported by weir from its contract (needs dbt_utils).\n"
            "version: 2\nmodels:\n  - name: ", c->table);
    export_q(f, export_bare_table(c));
    fputc('\n', f);
    if (desc) {
        fputs("    description: ", f);
        export_q(f, desc);
        fputc('\n', f);
    }
    for (size_t k = 0; k < c->nrules; k++) {
        if (dbt_is_model_level(&c->rules[k])) {
            dbt_emit(f, c, &c->rules[k], "    ", "      ", &any);
        }
    }
    fputs("    columns:\n", f);
    json_object_foreach((json_t *)cols, name, cv) {
        any = 0;
        fputs("      - name: ", f);
        export_q(f, name);
        fputc('\n', f);
        for (size_t k = 0; k < c->nrules; k++) {
            const struct contract_rule *r = &c->rules[k];

            if (r->column && !strcmp(r->column, name) && !dbt_is_model_level(r)) {
                dbt_emit(f, c, r, "        ", "          ", &any);
            }
        }
    }
}

/* ---- soda ----------------------------------------------------------------- */

/* Writes "<metric> = 0" (error) or "<metric>:\n warn: when > 0" (warn), then
 * the configuration lines, indented under the check. */
static void soda_check(FILE *f, const struct contract_rule *r, const char *metric, const char *config)
{
    if (r->is_error) {
        fprintf(f, "  - %s = 0%s\n", metric, config ? ":" : "");
    }
    else {
        fprintf(f, "  - %s:\n      warn: when > 0\n", metric);
    }
    if (config) {
        fputs(config, f);
    }
}

void export_soda(FILE *f, const struct contract *c)
{
    fprintf(f, "# SodaCL checks for %s, exported by weir from its contract.\nchecks for %s:\n", c->table, c->table);
    for (size_t k = 0; k < c->nrules; k++) {
        const struct contract_rule *r = &c->rules[k];
        const json_t *lo = export_arg(r, "min"), *hi = export_arg(r, "max"), *x;
        char *metric = NULL, *cfg = NULL;
        size_t n = 0, i;
        FILE *m = open_memstream(&cfg, &n);

        if (!m) {
            continue;
        }
        switch (r->kind) {
        case CK_NOT_NULL:
            fclose(m);
            free(cfg);
            cfg = NULL;
            m = NULL;
            if (asprintf(&metric, "missing_count(%s)", r->column) > 0) {
                soda_check(f, r, metric, NULL);
            }
            break;
        case CK_NULL_RATIO_MAX:
            fprintf(f, "  - missing_percent(%s) <= %.15g\n", r->column, export_num(r, "max", 0) * 100);
            break;
        case CK_ALLOWED_VALUES:
        case CK_DISALLOWED_VALUES:
            fprintf(m, "      %s values: ", r->kind == CK_ALLOWED_VALUES ? "valid" : "invalid");
            export_list(m, export_arg(r, "values"));
            fputc('\n', m);
            goto invalid;
        case CK_MIN:
        case CK_MAX:
            fprintf(m, "      valid %s: %.15g\n", r->kind == CK_MIN ? "min" : "max", export_num(r, "value", 0));
            goto invalid;
        case CK_RANGE:
        case CK_RANGE_SOFT:
        case CK_LENGTH_RANGE:
            if (json_is_number(lo)) {
                fprintf(m, "      valid min%s: %.15g\n", r->kind == CK_LENGTH_RANGE ? " length" : "", json_number_value(lo));
            }
            if (json_is_number(hi)) {
                fprintf(m, "      valid max%s: %.15g\n", r->kind == CK_LENGTH_RANGE ? " length" : "", json_number_value(hi));
            }
            goto invalid;
        case CK_PATTERN:
            fputs("      valid regex: ", m);
            export_q(m, export_str_arg(r, "regex", ""));
            fputc('\n', m);
        invalid:
            fclose(m);
            m = NULL;
            if (asprintf(&metric, "invalid_count(%s)", r->column) > 0) {
                soda_check(f, r, metric, cfg);
            }
            break;
        case CK_UNIQUE:
        case CK_GRAIN_UNIQUE:
            fputs("duplicate_count(", m);
            if (r->kind == CK_UNIQUE) {
                fputs(r->column, m);
            }
            json_array_foreach(r->kind == CK_GRAIN_UNIQUE ? export_grain_of(r) : NULL, i, x) {
                fprintf(m, "%s%s", i ? ", " : "", json_string_value(x));
            }
            fputc(')', m);
            fclose(m);
            m = NULL;
            soda_check(f, r, cfg, NULL);
            break;
        case CK_ROW_COUNT_RANGE:
            if (json_is_number(lo) && json_is_number(hi)) {
                fprintf(f, "  - row_count between %.15g and %.15g\n", json_number_value(lo), json_number_value(hi));
            }
            else {
                fprintf(f, "  - row_count %s %.15g\n", lo ? ">=" : "<=", json_number_value(lo ? lo : hi));
            }
            break;
        case CK_FOREIGN_KEY: {
            const char *t = export_str_arg(r, "ref_table", ""), *dot = strrchr(t, '.');

            fprintf(f, "  - values in (%s) must exist in %s (%s)\n", r->column, dot ? dot + 1 : t,
                    export_str_arg(r, "ref_column", r->column));
            break;
        }
        case CK_FRESHNESS_SLA:
            fprintf(f, "  - freshness(%s) < %.15gh\n", export_str_arg(r, "column", r->column ? r->column : ""),
                    export_num(r, "max_lag_hours", 24));
            break;
        case CK_CHECK:
            fputs("  - failed rows:\n      name: ", f);
            export_q(f, r->name);
            fputs("\n      fail condition: ", f);
            {
                char *e = NULL;

                if (asprintf(&e, "NOT (%s)", export_str_arg(r, "expression", "TRUE")) > 0) {
                    export_q(f, e);
                }
                free(e);
            }
            fputc('\n', f);
            break;
        case CK_CUSTOM_SQL:
            fputs("  - failed rows:\n      name: ", f);
            export_q(f, r->name);
            fputs("\n      fail query: ", f);
            export_q(f, export_str_arg(r, "sql", ""));
            fputc('\n', f);
            break;
        default:
            fprintf(f, "  # not exported: %s (%s)\n", r->name, contract_kind_name(r->kind));
            break;
        }
        if (m) {
            fclose(m);
        }
        free(cfg);
        free(metric);
    }
}
