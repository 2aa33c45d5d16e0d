/*
 * export.c - contract.export (see export.h). Each format walks the rules in
 * contract order; a rule a format cannot express becomes a comment naming
 * it, so nothing is dropped silently. Strings are written as JSON strings,
 * which are valid double-quoted scalars in YAML and string literals in
 * Python and DQDL.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "export_int.h"

const char *const contract_export_formats[] = { "pyspark", "dqdl", "sql", "odcs", "dbt", "soda", NULL };

/* ---- helpers ------------------------------------------------------------ */

void export_q(FILE *f, const char *s)
{
    json_t *v = json_string(s ? s : "");
    char *text = v ? json_dumps(v, JSON_ENCODE_ANY) : NULL;

    fputs(text ? text : "\"\"", f);
    free(text);
    json_decref(v);
}

void export_val(FILE *f, const json_t *v)
{
    char *text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);

    fputs(text ? text : "null", f);
    free(text);
}

/* A JSON array as "[a, b]" with ", " between items. */
void export_list(FILE *f, const json_t *a)
{
    const json_t *x;
    size_t i;

    fputc('[', f);
    json_array_foreach(a, i, x) {
        fputs(i ? ", " : "", f);
        export_val(f, x);
    }
    fputc(']', f);
}

const json_t *export_arg(const struct contract_rule *r, const char *key)
{
    return json_object_get(r->spec, key);
}

double export_num(const struct contract_rule *r, const char *key, double def)
{
    const json_t *v = export_arg(r, key);

    return json_is_number(v) ? json_number_value(v) : def;
}

const char *export_bare_table(const struct contract *c)
{
    const char *dot = strchr(c->table, '.');

    return dot ? dot + 1 : c->table;
}

const json_t *export_grain_of(const struct contract_rule *r)
{
    const json_t *g = export_arg(r, "grain");

    return g ? g : export_arg(r, "columns");
}

const char *export_str_arg(const struct contract_rule *r, const char *key, const char *def)
{
    const char *s = json_string_value(export_arg(r, key));

    return s ? s : def;
}

/* ---- dqdl --------------------------------------------------------------- */

static int dqdl_rule(FILE *f, const struct contract *c, const struct contract_rule *r)
{
    const char *col = r->column;
    const json_t *lo = export_arg(r, "min"), *hi = export_arg(r, "max"), *x;
    size_t i;

    switch (r->kind) {
    case CK_NOT_NULL:
        fprintf(f, "IsComplete \"%s\"", col);
        return 1;
    case CK_NULL_RATIO_MAX:
        fprintf(f, "Completeness \"%s\" >= %.15g", col, 1.0 - export_num(r, "max", 0));
        return 1;
    case CK_UNIQUE:
        fprintf(f, "IsUnique \"%s\"", col);
        return 1;
    case CK_GRAIN_UNIQUE:
        fputs("IsPrimaryKey", f);
        json_array_foreach(export_grain_of(r), i, x) {
            fprintf(f, " \"%s\"", json_string_value(x));
        }
        return 1;
    case CK_ALLOWED_VALUES:
    case CK_DISALLOWED_VALUES:
        fprintf(f, "ColumnValues \"%s\" %sin ", col, r->kind == CK_DISALLOWED_VALUES ? "not " : "");
        export_list(f, export_arg(r, "values"));
        return 1;
    case CK_MIN:
        fprintf(f, "ColumnValues \"%s\" >= %.15g", col, export_num(r, "value", 0));
        return 1;
    case CK_MAX:
        fprintf(f, "ColumnValues \"%s\" <= %.15g", col, export_num(r, "value", 0));
        return 1;
    case CK_RANGE:
    case CK_RANGE_SOFT:
    case CK_LENGTH_RANGE:
    case CK_ROW_COUNT_RANGE:
    case CK_DISTINCT_COUNT_RANGE: {
        const char *what = r->kind == CK_LENGTH_RANGE ? "ColumnLength"
                           : r->kind == CK_ROW_COUNT_RANGE ? "RowCount"
                           : r->kind == CK_DISTINCT_COUNT_RANGE ? "DistinctValuesCount" : "ColumnValues";
        char head[160];

        if (r->kind == CK_ROW_COUNT_RANGE) {
            snprintf(head, sizeof(head), "%s", what);
        }
        else {
            snprintf(head, sizeof(head), "%s \"%s\"", what, col);
        }
        if (json_is_number(lo) && json_is_number(hi)) {
            fprintf(f, "(%s >= %.15g) and (%s <= %.15g)", head, json_number_value(lo), head, json_number_value(hi));
        }
        else {
            fprintf(f, "%s %s %.15g", head, lo ? ">=" : "<=", json_number_value(lo ? lo : hi));
        }
        return 1;
    }
    case CK_PATTERN:
        fprintf(f, "ColumnValues \"%s\" matches ", col);
        export_q(f, export_str_arg(r, "regex", ""));
        return 1;
    case CK_FOREIGN_KEY:
        fprintf(f, "ReferentialIntegrity \"%s\" \"%s.%s\" = 1.0", col, export_str_arg(r, "ref_table", ""),
                export_str_arg(r, "ref_column", col));
        return 1;
    case CK_ROW_COUNT_ANOMALY: {
        double pct = export_num(r, "max_change_pct", 20) / 100.0;
        int days = (int)export_num(r, "window_days", 7);

        fprintf(f, "(RowCount >= avg(last(%d)) * %.15g) and (RowCount <= avg(last(%d)) * %.15g)", days, 1 - pct, days,
                1 + pct);
        return 1;
    }
    case CK_FRESHNESS_SLA:
        fprintf(f, "DataFreshness \"%s\" <= %.15g hours", export_str_arg(r, "column", col ? col : ""),
                export_num(r, "max_lag_hours", 24));
        return 1;
    case CK_SCHEMA_COLUMNS:
        json_array_foreach(export_arg(r, "columns"), i, x) {
            fprintf(f, "%sColumnExists \"%s\"", i ? ",\n    " : "",
                    json_is_string(x) ? json_string_value(x) : json_string_value(json_object_get(x, "name")));
        }
        return json_array_size(export_arg(r, "columns")) > 0;
    case CK_CHECK:
        fputs("CustomSql ", f);
        {
            char *sql = NULL;

            if (asprintf(&sql, "SELECT COUNT(*) FROM primary WHERE NOT (%s)", export_str_arg(r, "expression", "TRUE")) > 0) {
                export_q(f, sql);
            }
            free(sql);
        }
        fputs(" = 0", f);
        return 1;
    case CK_CUSTOM_SQL:
        fputs("CustomSql ", f);
        export_q(f, export_str_arg(r, "sql", ""));
        fputs(" = 0", f);
        return 1;
    default:
        (void)c;
        return 0;
    }
}

static void export_dqdl(FILE *f, const struct contract *c)
{
    struct buf_rule {
        char *p;
        size_t n;
    };
    int first = 1;

    fprintf(f, "# AWS Glue Data Quality ruleset for %s, exported by weir from its contract.\n", c->table);
    for (size_t i = 0; i < c->nrules; i++) {
        struct buf_rule b = { NULL, 0 };
        FILE *m = open_memstream(&b.p, &b.n);
        int ok = m ? dqdl_rule(m, c, &c->rules[i]) : 0;

        if (m) {
            fclose(m);
        }
        if (!ok) {
            fprintf(f, "# not expressible in DQDL: %s (%s)\n", c->rules[i].name, contract_kind_name(c->rules[i].kind));
        }
        free(b.p);
    }
    fputs("Rules = [\n", f);
    for (size_t i = 0; i < c->nrules; i++) {
        char *p = NULL;
        size_t n = 0;
        FILE *m = open_memstream(&p, &n);
        int ok = m ? dqdl_rule(m, c, &c->rules[i]) : 0;

        if (m) {
            fclose(m);
        }
        if (ok) {
            fprintf(f, "%s    %s", first ? "" : ",\n", p);
            first = 0;
        }
        free(p);
    }
    fputs(first ? "]\n" : "\n]\n", f);
}

/* ---- sql ------------------------------------------------------------------ */

static void export_sql(FILE *f, const struct contract *c, enum sqlgen_dialect d)
{
    struct sqlgen_source src = { .table = c->table };

    fprintf(f, "-- Violation queries for %s (%s dialect), exported by weir from its contract.\n"
            "-- Each returns one row, failures: the rule holds when it is 0.\n", c->table, sqlgen_dialect_name(d));
    for (size_t i = 0; i < c->nrules; i++) {
        const struct contract_rule *r = &c->rules[i];
        struct sqlgen_query sq;

        fprintf(f, "\n-- %s (%s, %s)\n", r->name, contract_kind_name(r->kind), r->is_error ? "error" : "warn");
        if (sqlgen_rule(d, &src, r, 5, &sq) < 0) {
            fprintf(f, "-- not exported: %s\n", contract_host->error_last());
            continue;
        }
        if (sq.skip) {
            fprintf(f, "-- %s\n", sq.skip);
        }
        else if (sq.sql) {
            fprintf(f, "%s;\n", sq.sql);
        }
        else if (sq.metric_sql) {
            fprintf(f, "-- compared with stats history: within %.15g%% of the %.15g-day average\n%s;\n",
                    export_num(r, "max_change_pct", 20), export_num(r, "window_days", 7), sq.metric_sql);
        }
        sqlgen_query_free(&sq);
    }
}

/* ---- pyspark -------------------------------------------------------------- */

static int py_cond(FILE *f, const struct contract_rule *r)
{
    const json_t *lo = export_arg(r, "min"), *hi = export_arg(r, "max");
    const char *c = r->column;

    switch (r->kind) {
    case CK_NOT_NULL:
        fprintf(f, "F.col(\"%s\").isNull()", c);
        return 1;
    case CK_ALLOWED_VALUES:
        fprintf(f, "F.col(\"%s\").isNotNull() & ~F.col(\"%s\").isin(", c, c);
        export_list(f, export_arg(r, "values"));
        fputc(')', f);
        return 1;
    case CK_DISALLOWED_VALUES:
        fprintf(f, "F.col(\"%s\").isin(", c);
        export_list(f, export_arg(r, "values"));
        fputc(')', f);
        return 1;
    case CK_MIN:
    case CK_MAX:
        fprintf(f, "F.col(\"%s\") %s F.lit(%.15g)", c, r->kind == CK_MIN ? "<" : ">", export_num(r, "value", 0));
        return 1;
    case CK_RANGE:
    case CK_RANGE_SOFT:
    case CK_LENGTH_RANGE: {
        char e[160];

        if (r->kind == CK_LENGTH_RANGE) {
            snprintf(e, sizeof(e), "F.length(F.col(\"%s\"))", c);
        }
        else {
            snprintf(e, sizeof(e), "F.col(\"%s\")", c);
        }
        fputc('(', f);
        if (json_is_number(lo)) {
            fprintf(f, "(%s < F.lit(%.15g))", e, json_number_value(lo));
        }
        if (json_is_number(hi)) {
            fprintf(f, "%s(%s > F.lit(%.15g))", json_is_number(lo) ? " | " : "", e, json_number_value(hi));
        }
        fputc(')', f);
        return 1;
    }
    case CK_PATTERN:
        fprintf(f, "F.col(\"%s\").isNotNull() & ~F.col(\"%s\").rlike(", c, c);
        export_q(f, export_str_arg(r, "regex", ""));
        fputc(')', f);
        return 1;
    case CK_CHECK:
        fputs("~F.expr(", f);
        export_q(f, export_str_arg(r, "expression", "TRUE"));
        fputc(')', f);
        return 1;
    default:
        return 0;
    }
}

static void export_pyspark(FILE *f, const struct contract *c)
{
    size_t nrow = 0;

    fprintf(f, "# Pre-load split for %s, exported by weir from its contract.\n"
            "# Rows failing any rule go to quarantine with rule_name (every failed rule) and error_reason.\n"
            "from pyspark.sql import DataFrame\nfrom pyspark.sql import functions as F\n\n"
            "RULES = [\n", c->table);
    for (size_t i = 0; i < c->nrules; i++) {
        char *p = NULL;
        size_t n = 0;
        FILE *m = open_memstream(&p, &n);
        int ok = m ? py_cond(m, &c->rules[i]) : 0;

        if (m) {
            fclose(m);
        }
        if (ok) {
            fputs("    (", f);
            export_q(f, c->rules[i].name);
            fprintf(f, ", %s),\n", p);
            nrow++;
        }
        free(p);
    }
    fputs("]\n", f);
    for (size_t i = 0; i < c->nrules; i++) {
        char *p = NULL;
        size_t n = 0;
        FILE *m = open_memstream(&p, &n);
        int ok = m ? py_cond(m, &c->rules[i]) : 0;

        if (m) {
            fclose(m);
        }
        if (!ok && c->rules[i].kind == CK_LUA) {
            /* a weir Lua rule has no Spark form; it is not a post-load check either */
            fprintf(f, "# not exported: %s (lua, enforced by weir contract.preload)\n",
                    c->rules[i].name);
        }
        else if (!ok) {
            fprintf(f, "# checked after load, not per row: %s (%s)\n", c->rules[i].name,
                    contract_kind_name(c->rules[i].kind));
        }
        free(p);
    }
    fprintf(f, "\n\ndef split_%s(df: DataFrame):\n"
            "    \"\"\"Returns (valid, quarantine); valid rows are unchanged.\"\"\"\n"
            "    failed = F.array(*[F.when(cond, F.lit(name)) for name, cond in RULES])\n"
            "    flagged = df.withColumn(\"rule_name\", F.filter(failed, lambda x: x.isNotNull()))\n"
            "    valid = flagged.filter(F.size(\"rule_name\") == 0).drop(\"rule_name\")\n"
            "    quarantine = flagged.filter(F.size(\"rule_name\") > 0).withColumn(\n"
            "        \"error_reason\", F.concat_ws(\"; \", F.col(\"rule_name\")))\n"
            "    return valid, quarantine\n", export_bare_table(c));
    (void)nrow;
}

/* ---- entry points ------------------------------------------------------- */

int contract_export(const struct contract *c, const char *format, enum sqlgen_dialect d, char **text)
{
    char *p = NULL;
    size_t n = 0;
    FILE *f;

    *text = NULL;
    if (!format || (strcmp(format, "pyspark") && strcmp(format, "dqdl") && strcmp(format, "sql") &&
                    strcmp(format, "odcs") && strcmp(format, "dbt") && strcmp(format, "soda"))) {
        return contract_host->error_set(WEIR_EINVALID, "contract.export: unknown format '%s' (pyspark, dqdl, "
                                        "sql, odcs, dbt or soda)", format ? format : "");
    }
    if ((f = open_memstream(&p, &n)) == NULL) {
        return contract_host->error_set(WEIR_ENOMEM, "out of memory");
    }
    if (!strcmp(format, "dqdl")) {
        export_dqdl(f, c);
    }
    else if (!strcmp(format, "sql")) {
        export_sql(f, c, d);
    }
    else if (!strcmp(format, "pyspark")) {
        export_pyspark(f, c);
    }
    else if (!strcmp(format, "odcs")) {
        export_odcs(f, c);
    }
    else if (!strcmp(format, "dbt")) {
        export_dbt(f, c);
    }
    else {
        export_soda(f, c);
    }
    if (fclose(f) != 0) {
        free(p);
        return contract_host->error_set(WEIR_ENOMEM, "out of memory");
    }
    *text = p;
    return WEIR_OK;
}

static const struct weir_param_desc export_params[] = {
    { "format", WEIR_PARAM_STRING, 1, NULL, "pyspark, dqdl, sql, odcs, dbt or soda" },
    { "table", WEIR_PARAM_STRING, 0, NULL, "database.table (default: the contract's or contracts/<table>.json's)" },
    { "contract", WEIR_PARAM_OBJECT, 0, NULL, "the contract (data_quality object)" },
    { "contract_uri", WEIR_PARAM_STRING, 0, NULL, "store key of the contract (default contracts/<table>.json)" },
    { "dialect", WEIR_PARAM_STRING, 0, "\"trino\"", "SQL dialect of the sql format: trino (Athena) or sqlite" },
    { NULL, WEIR_PARAM_ANY, 0, NULL, NULL },
};

static int run_export(const json_t *input, json_t **out, weir_ctx *ctx, void *payload)
{
    const char *format = json_string_value(json_object_get(input, "format"));
    const char *table = json_string_value(json_object_get(input, "table"));
    const char *uri = json_string_value(json_object_get(input, "contract_uri"));
    const char *dname = json_string_value(json_object_get(input, "dialect"));
    const json_t *doc = json_object_get(input, "contract"), *dq;
    json_t *loaded = NULL, *in = NULL, *got = NULL, *errors = NULL;
    struct contract *c = NULL;
    char *def = NULL, *text = NULL;
    int rc, d = sqlgen_dialect_parse(dname ? dname : "trino");

    (void)payload;
    if (d < 0) {
        return contract_host->error_set(WEIR_EINVALID, "contract.export: unknown dialect '%s'", dname);
    }
    if (!doc) {
        if (!uri && (!table || asprintf(&def, "contracts/%s.json", table) < 0)) {
            rc = contract_host->error_set(WEIR_EINVALID, "contract.export: give contract, contract_uri or table");
            goto done;
        }
        in = json_pack("{s:s,s:s}", "uri", uri ? uri : def, "as", "json");
        if ((rc = contract_host->service_call(ctx, "store", "get", in, &got)) < 0) {
            goto done;
        }
        loaded = json_incref(json_object_get(got, "value"));
        doc = loaded;
    }
    dq = json_object_get(doc, "data_quality");
    dq = dq ? dq : doc;
    if (!table) {
        table = json_string_value(json_object_get(dq, "table_name"));
    }
    if (!table) {
        rc = contract_host->error_set(WEIR_EINVALID, "contract.export: the contract names no table; give table");
        goto done;
    }
    if ((rc = contract_parse(table, dq, NULL, &c, &errors)) < 0) {
        char *e = json_dumps(errors, JSON_COMPACT);

        rc = contract_host->error_set(rc, "contract.export: %s: invalid contract: %s", table, e ? e : "");
        free(e);
        goto done;
    }
    if ((rc = contract_export(c, format, (enum sqlgen_dialect)d, &text)) < 0) {
        goto done;
    }
    *out = json_pack("{s:s,s:s}", "format", format, "text", text);
    rc = *out ? WEIR_OK : contract_host->error_set(WEIR_ENOMEM, "out of memory");

done:
    free(text);
    free(def);
    contract_free(c);
    json_decref(errors);
    json_decref(loaded);
    json_decref(in);
    json_decref(got);
    return rc;
}

int contract_register_export(weir_registry *reg)
{
    const struct weir_step_desc desc = {
        .version = WEIR_STEP_DESC_VERSION,
        .name = "export",
        .description = "a contract as pyspark, dqdl (Glue Data Quality), sql, odcs (v3), dbt or soda text",
        .params = export_params,
        .run = run_export,
    };

    return contract_host->step_register(reg, &desc);
}
