/*
 * sqlgen.c - contract rules as violation SQL (see sqlgen.h). The queries
 * are built in a memstream; every dialect difference is in the helpers at
 * the top (regex, freshness arithmetic), so a new engine is one place.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sqlgen.h"

int sqlgen_dialect_parse(const char *name)
{
    if (!name) {
        return -1;
    }
    if (!strcmp(name, "sqlite")) {
        return SQLGEN_SQLITE;
    }
    if (!strcmp(name, "trino") || !strcmp(name, "athena") || !strcmp(name, "presto")) {
        return SQLGEN_TRINO;
    }
    return -1;
}

const char *sqlgen_dialect_name(enum sqlgen_dialect d)
{
    return d == SQLGEN_SQLITE ? "sqlite" : "trino";
}

/* ---- quoting ----------------------------------------------------------- */

static void put_quoted(FILE *f, const char *s, size_t n, char q)
{
    fputc(q, f);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == q) {
            fputc(q, f);
        }
        fputc(s[i], f);
    }
    fputc(q, f);
}

static void put_ident(FILE *f, const char *name)
{
    const char *dot;

    while ((dot = strchr(name, '.')) != NULL) {
        put_quoted(f, name, (size_t)(dot - name), '"');
        fputc('.', f);
        name = dot + 1;
    }
    put_quoted(f, name, strlen(name), '"');
}

static int put_literal(FILE *f, const json_t *v)
{
    const char *s;

    switch (json_typeof(v)) {
    case JSON_STRING:
        s = json_string_value(v);
        put_quoted(f, s, strlen(s), '\'');
        return 0;
    case JSON_INTEGER:
        fprintf(f, "%lld", (long long)json_integer_value(v));
        return 0;
    case JSON_REAL: {
        /* the shortest form that reads back as the same double */
        char text[40];

        snprintf(text, sizeof(text), "%.15g", json_real_value(v));
        if (strtod(text, NULL) != json_real_value(v)) {
            snprintf(text, sizeof(text), "%.17g", json_real_value(v));
        }
        fputs(text, f);
        return 0;
    }
    case JSON_TRUE:
        fputs("TRUE", f);
        return 0;
    case JSON_FALSE:
        fputs("FALSE", f);
        return 0;
    case JSON_NULL:
        fputs("NULL", f);
        return 0;
    default:
        return -1;
    }
}

/* A memstream; NULL only when out of memory. */
struct buf {
    FILE *f;
    char *p;
    size_t n;
};

static int buf_open(struct buf *b)
{
    b->p = NULL;
    b->n = 0;
    b->f = open_memstream(&b->p, &b->n);
    return b->f ? 0 : -1;
}

static char *buf_take(struct buf *b)
{
    if (fclose(b->f) != 0) {
        free(b->p);
        return NULL;
    }
    return b->p;
}

char *sqlgen_ident(const char *name)
{
    struct buf b;

    if (buf_open(&b) < 0) {
        return NULL;
    }
    put_ident(b.f, name);
    return buf_take(&b);
}

char *sqlgen_literal(const json_t *v)
{
    struct buf b;

    if (json_is_array(v) || json_is_object(v) || !v || buf_open(&b) < 0) {
        return NULL;
    }
    put_literal(b.f, v);
    return buf_take(&b);
}

static void put_from(FILE *f, const struct sqlgen_source *src)
{
    if (src->filter_column && src->filter_value) {
        fputs("(SELECT * FROM ", f);
        put_ident(f, src->table);
        fputs(" WHERE ", f);
        put_ident(f, src->filter_column);
        fputs(" = ", f);
        put_quoted(f, src->filter_value, strlen(src->filter_value), '\'');
        fputc(')', f);
    }
    else {
        put_ident(f, src->table);
    }
}

char *sqlgen_from(const struct sqlgen_source *src)
{
    struct buf b;

    if (buf_open(&b) < 0) {
        return NULL;
    }
    put_from(b.f, src);
    return buf_take(&b);
}

/* ---- dialect ----------------------------------------------------------- */

/* A condition true for rows whose column does not match the regex, or -1
 * when the dialect has no regex function the engine allows. */
static int put_regex_violation(FILE *f, enum sqlgen_dialect d, const char *col, const char *re)
{
    if (d == SQLGEN_SQLITE) {
        return -1;
    }
    put_ident(f, col);
    fputs(" IS NOT NULL AND NOT regexp_like(", f);
    put_ident(f, col);
    fputs(", ", f);
    put_quoted(f, re, strlen(re), '\'');
    fputc(')', f);
    return 0;
}

/* Hours from MAX(col) to the end of the reference date (or now). */
static void put_lag_hours(FILE *f, enum sqlgen_dialect d, const char *col, const char *date)
{
    if (d == SQLGEN_SQLITE) {
        fputs("(julianday(", f);
        if (date) {
            put_quoted(f, date, strlen(date), '\'');
            fputs(", '+1 day'", f);
        }
        else {
            fputs("'now'", f);
        }
        fputs(") - julianday(MAX(", f);
        put_ident(f, col);
        fputs("))) * 24.0", f);
        return;
    }
    fputs("date_diff('second', MAX(CAST(", f);
    put_ident(f, col);
    fputs(" AS timestamp)), ", f);
    if (date) {
        fputs("TIMESTAMP ", f);
        put_quoted(f, date, strlen(date), '\'');
        fputs(" + INTERVAL '1' DAY", f);
    }
    else {
        fputs("current_timestamp", f);
    }
    fputs(") / 3600.0", f);
}

/* ---- rules ------------------------------------------------------------- */

static const json_t *spec_get(const struct contract_rule *r, const char *key)
{
    return json_object_get(r->spec, key);
}

static int put_number(FILE *f, const json_t *v)
{
    if (!json_is_number(v)) {
        return -1;
    }
    return put_literal(f, v);
}

/* Writes the WHERE condition of a row rule's violations; 1 when the rule is
 * not a row rule, -1 on a rule missing what it needs (message set). */
static int put_row_violation(FILE *f, enum sqlgen_dialect d, const struct contract_rule *r, char **skip)
{
    const char *c = r->column;
    const json_t *v, *lo, *hi, *x;
    size_t i;

    switch (r->kind) {
    case CK_NOT_NULL:
        put_ident(f, c);
        fputs(" IS NULL", f);
        return 0;
    case CK_ALLOWED_VALUES:
    case CK_DISALLOWED_VALUES:
        v = spec_get(r, "values");
        if (!json_is_array(v)) {
            return contract_host->error_set(WEIR_EINVALID, "%s: values must be an array", r->name), -1;
        }
        /* an empty list: nothing is allowed (every value fails), nothing is banned */
        if (json_array_size(v) == 0) {
            if (r->kind == CK_ALLOWED_VALUES) {
                put_ident(f, c);
                fputs(" IS NOT NULL", f);
            }
            else {
                fputs("1 = 0", f);
            }
            return 0;
        }
        if (r->kind == CK_ALLOWED_VALUES) {
            put_ident(f, c);
            fputs(" IS NOT NULL AND ", f);
        }
        put_ident(f, c);
        fputs(r->kind == CK_ALLOWED_VALUES ? " NOT IN (" : " IN (", f);
        json_array_foreach(v, i, x) {
            if (i > 0) {
                fputs(", ", f);
            }
            if (put_literal(f, x) < 0) {
                return contract_host->error_set(WEIR_EINVALID, "%s: values must be scalars", r->name), -1;
            }
        }
        fputc(')', f);
        return 0;
    case CK_MIN:
    case CK_MAX:
        put_ident(f, c);
        fputs(r->kind == CK_MIN ? " < " : " > ", f);
        if (put_number(f, spec_get(r, "value")) < 0) {
            return contract_host->error_set(WEIR_EINVALID, "%s: value must be a number", r->name), -1;
        }
        return 0;
    case CK_RANGE:
    case CK_RANGE_SOFT:
    case CK_LENGTH_RANGE:
        lo = spec_get(r, "min");
        hi = spec_get(r, "max");
        if ((lo && !json_is_number(lo)) || (hi && !json_is_number(hi)) || (!lo && !hi)) {
            return contract_host->error_set(WEIR_EINVALID, "%s: min and/or max must be numbers", r->name),
                   -1;
        }
        if (r->kind == CK_LENGTH_RANGE) {
            put_ident(f, c);
            fputs(" IS NOT NULL AND (", f);
        }
        for (int k = 0; k < 2; k++) {
            const json_t *bound = k == 0 ? lo : hi;

            if (!bound) {
                continue;
            }
            if (k == 1 && lo) {
                fputs(" OR ", f);
            }
            if (r->kind == CK_LENGTH_RANGE) {
                fputs("LENGTH(", f);
                put_ident(f, c);
                fputc(')', f);
            }
            else {
                put_ident(f, c);
            }
            fputs(k == 0 ? " < " : " > ", f);
            put_literal(f, bound);
        }
        if (r->kind == CK_LENGTH_RANGE) {
            fputc(')', f);
        }
        return 0;
    case CK_PATTERN:
        v = spec_get(r, "regex");
        if (!json_is_string(v)) {
            return contract_host->error_set(WEIR_EINVALID, "%s: regex must be a string", r->name), -1;
        }
        if (put_regex_violation(f, d, c, json_string_value(v)) < 0) {
            *skip = strdup("not checkable post-load on sqlite (no REGEXP); enforced pre-load");
        }
        return 0;
    case CK_CHECK:
        v = spec_get(r, "expression");
        if (!json_is_string(v) || strchr(json_string_value(v), ';')) {
            return contract_host->error_set(WEIR_EINVALID, "%s: expression must be one SQL boolean "
                                            "expression", r->name), -1;
        }
        fprintf(f, "NOT (%s)", json_string_value(v));
        return 0;
    default:
        return 1;
    }
}

static void put_count_where(FILE *f, const struct sqlgen_source *src, const char *cond)
{
    fputs("SELECT COUNT(*) AS failures FROM ", f);
    put_from(f, src);
    fprintf(f, " AS t WHERE %s", cond);
}

static void put_sample_where(FILE *f, const struct sqlgen_source *src, const char *cond, long n)
{
    fputs("SELECT * FROM ", f);
    put_from(f, src);
    fprintf(f, " AS t WHERE %s LIMIT %ld", cond, n);
}

/* The columns of a unique or grain_unique rule as a quoted list. */
static int put_key_list(FILE *f, const struct contract_rule *r)
{
    const json_t *g = spec_get(r, "grain"), *x;
    size_t i;

    if (r->kind == CK_UNIQUE) {
        if (!r->column) {
            return -1;
        }
        put_ident(f, r->column);
        return 0;
    }
    if (!g) {
        g = spec_get(r, "columns");
    }
    if (!json_is_array(g) || json_array_size(g) == 0) {
        return -1;
    }
    json_array_foreach(g, i, x) {
        if (!json_is_string(x)) {
            return -1;
        }
        if (i > 0) {
            fputs(", ", f);
        }
        put_ident(f, json_string_value(x));
    }
    return 0;
}

/* The referenced table, qualified with the source's database when bare. */
static char *ref_table(const struct sqlgen_source *src, const char *ref)
{
    const char *dot = strchr(src->table, '.');
    char *out = NULL;

    if (strchr(ref, '.') || !dot) {
        return strdup(ref);
    }
    if (asprintf(&out, "%.*s.%s", (int)(dot - src->table), src->table, ref) < 0) {
        return NULL;
    }
    return out;
}

static int gen_table_rule(FILE *sql, FILE *metric, FILE *sample, int *has_metric, int *has_sample,
                          const struct sqlgen_source *src, enum sqlgen_dialect d,
                          const struct contract_rule *r, long n)
{
    const json_t *lo = spec_get(r, "min"), *hi = spec_get(r, "max"), *v;
    const char *col, *refcol;
    char *ref = NULL;

    switch (r->kind) {
    case CK_FOREIGN_KEY:
        v = spec_get(r, "ref_table");
        refcol = json_string_value(spec_get(r, "ref_column"));
        if (!json_is_string(v) || !r->column) {
            return contract_host->error_set(WEIR_EINVALID, "%s: needs a column and ref_table", r->name);
        }
        if (!refcol) {
            refcol = r->column;
        }
        if ((ref = ref_table(src, json_string_value(v))) == NULL) {
            return contract_host->error_set(WEIR_ENOMEM, "out of memory");
        }
        for (int k = 0; k < 2; k++) {
            FILE *f = k == 0 ? sql : sample;

            fputs(k == 0 ? "SELECT COUNT(*) AS failures FROM " : "SELECT t.* FROM ", f);
            put_from(f, src);
            fputs(" AS t LEFT JOIN ", f);
            put_ident(f, ref);
            fputs(" AS r ON t.", f);
            put_ident(f, r->column);
            fputs(" = r.", f);
            put_ident(f, refcol);
            fputs(" WHERE r.", f);
            put_ident(f, refcol);
            fputs(" IS NULL AND t.", f);
            put_ident(f, r->column);
            fputs(" IS NOT NULL", f);
            if (k == 1) {
                fprintf(f, " LIMIT %ld", n);
            }
        }
        *has_sample = 1;
        free(ref);
        return 0;
    case CK_ROW_COUNT_RANGE:
    case CK_DISTINCT_COUNT_RANGE:
    case CK_NULL_RATIO_MAX:
        if (r->kind == CK_NULL_RATIO_MAX) {
            lo = NULL;
            hi = spec_get(r, "max");
        }
        if ((lo && !json_is_number(lo)) || (hi && !json_is_number(hi)) || (!lo && !hi) ||
            (r->kind != CK_ROW_COUNT_RANGE && !r->column)) {
            return contract_host->error_set(WEIR_EINVALID, "%s: needs numeric min and/or max%s", r->name,
                                            r->kind != CK_ROW_COUNT_RANGE ? " and a column" : "");
        }
        if (r->kind == CK_ROW_COUNT_RANGE) {
            fputs("SELECT COUNT(*) AS value FROM ", metric);
        }
        else if (r->kind == CK_DISTINCT_COUNT_RANGE) {
            fputs("SELECT COUNT(DISTINCT ", metric);
            put_ident(metric, r->column);
            fputs(") AS value FROM ", metric);
        }
        else {
            fputs("SELECT AVG(CASE WHEN ", metric);
            put_ident(metric, r->column);
            fputs(" IS NULL THEN 1.0 ELSE 0.0 END) AS value FROM ", metric);
        }
        put_from(metric, src);
        fputs(" AS t", metric);
        *has_metric = 1;
        break;
    case CK_ROW_COUNT_ANOMALY:
        fputs("SELECT COUNT(*) AS value FROM ", metric);
        put_from(metric, src);
        fputs(" AS t", metric);
        *has_metric = 1;
        return 0;
    case CK_FRESHNESS_SLA:
        col = json_string_value(spec_get(r, "column"));
        if (!col) {
            col = r->column;
        }
        hi = spec_get(r, "max_lag_hours");
        lo = NULL;
        if (!col || !json_is_number(hi)) {
            return contract_host->error_set(WEIR_EINVALID, "%s: needs column and max_lag_hours", r->name);
        }
        fputs("SELECT ", metric);
        put_lag_hours(metric, d, col, src->date);
        /* freshness is about the newest data anywhere in the table */
        fputs(" AS value FROM ", metric);
        put_ident(metric, src->table);
        *has_metric = 1;
        break;
    default:
        return 1;
    }
    return 2;
}

/* The violation query of a bounded metric: NULL (no rows) fails too. */
static void put_bound_check(FILE *sql, const char *metric, const struct contract_rule *r)
{
    const json_t *lo = spec_get(r, "min"), *hi = spec_get(r, "max");

    if (r->kind == CK_NULL_RATIO_MAX) {
        lo = NULL;
    }
    if (r->kind == CK_FRESHNESS_SLA) {
        lo = NULL;
        hi = spec_get(r, "max_lag_hours");
    }
    fprintf(sql, "SELECT COUNT(*) AS failures FROM (%s) AS m WHERE value IS NULL", metric);
    if (json_is_number(lo)) {
        fputs(" OR value < ", sql);
        put_literal(sql, lo);
    }
    if (json_is_number(hi)) {
        fputs(" OR value > ", sql);
        put_literal(sql, hi);
    }
}

void sqlgen_query_free(struct sqlgen_query *q)
{
    free(q->sql);
    free(q->metric_sql);
    free(q->sample_sql);
    free(q->skip);
    memset(q, 0, sizeof(*q));
}

static int gen_unique(struct sqlgen_query *q, const struct sqlgen_source *src, const struct contract_rule *r,
                      long n)
{
    struct buf kb, s, sm;
    char *keys;
    int bad;

    if (buf_open(&kb) < 0) {
        return contract_host->error_set(WEIR_ENOMEM, "out of memory");
    }
    bad = put_key_list(kb.f, r);
    keys = buf_take(&kb);
    if (bad < 0 || !keys) {
        free(keys);
        return contract_host->error_set(WEIR_EINVALID, "%s: needs a column or a non-empty grain list",
                                        r->name);
    }
    if (buf_open(&s) < 0 || buf_open(&sm) < 0) {
        free(keys);
        return contract_host->error_set(WEIR_ENOMEM, "out of memory");
    }
    for (int k = 0; k < 2; k++) {
        FILE *f = k == 0 ? s.f : sm.f;

        fprintf(f, k == 0 ? "SELECT COUNT(*) AS failures FROM (SELECT %s FROM " : "SELECT %s, COUNT(*) AS "
                "duplicates FROM ", keys);
        put_from(f, src);
        fputs(" AS t", f);
        if (r->kind == CK_UNIQUE) {
            fprintf(f, " WHERE %s IS NOT NULL", keys);
        }
        fprintf(f, " GROUP BY %s HAVING COUNT(*) > 1", keys);
        if (k == 0) {
            fputs(") AS d", f);
        }
        else {
            fprintf(f, " ORDER BY %s LIMIT %ld", keys, n);
        }
    }
    free(keys);
    q->sql = buf_take(&s);
    q->sample_sql = buf_take(&sm);
    return q->sql && q->sample_sql ? WEIR_OK : contract_host->error_set(WEIR_ENOMEM, "out of memory");
}

int sqlgen_rule(enum sqlgen_dialect d, const struct sqlgen_source *src, const struct contract_rule *r,
                long n, struct sqlgen_query *q)
{
    struct buf s, m, sm, cb;
    char *cond = NULL, *skip = NULL;
    int rc, has_metric = 0, has_sample = 0;
    const char *custom;

    memset(q, 0, sizeof(*q));
    if (n < 1) {
        n = 1;
    }
    if (r->kind == CK_UNIQUE || r->kind == CK_GRAIN_UNIQUE) {
        return gen_unique(q, src, r, n);
    }
    if (r->kind == CK_CUSTOM_SQL) {
        custom = json_string_value(spec_get(r, "sql"));
        if (!custom) {
            return contract_host->error_set(WEIR_EINVALID, "%s: needs sql", r->name);
        }
        q->raw = 1;
        q->sql = sqlgen_scope(custom, src);
        return q->sql ? WEIR_OK : contract_host->error_set(WEIR_ENOMEM, "out of memory");
    }
    if (r->kind == CK_SCHEMA_COLUMNS || r->kind == CK_TYPE_CONFORMITY || r->kind == CK_DISTRIBUTION_DRIFT ||
        r->kind == CK_LUA) {
        q->skip = strdup(r->kind == CK_TYPE_CONFORMITY ? "enforced pre-load (the engine reads typed columns)"
                         : r->kind == CK_LUA           ? "enforced pre-load (a Lua rule has no SQL form)"
                                                       : "checked by the drift step, not post-load");
        return q->skip ? WEIR_OK : contract_host->error_set(WEIR_ENOMEM, "out of memory");
    }
    if (buf_open(&cb) < 0) {
        return contract_host->error_set(WEIR_ENOMEM, "out of memory");
    }
    if (contract_kind_is_row_rule(r->kind) || r->kind == CK_NOT_NULL || r->kind == CK_CHECK) {
        if (!r->column && r->kind != CK_CHECK) {
            free(buf_take(&cb));
            return contract_host->error_set(WEIR_EINVALID, "%s: a row rule needs a column", r->name);
        }
        rc = put_row_violation(cb.f, d, r, &skip);
        cond = buf_take(&cb);
        if (rc < 0 || !cond) {
            free(cond);
            free(skip);
            return rc < 0 ? WEIR_EINVALID : contract_host->error_set(WEIR_ENOMEM, "out of memory");
        }
        if (rc == 0) {
            if (skip) {
                q->skip = skip;
                free(cond);
                return WEIR_OK;
            }
            if (buf_open(&s) < 0 || buf_open(&sm) < 0) {
                free(cond);
                return contract_host->error_set(WEIR_ENOMEM, "out of memory");
            }
            put_count_where(s.f, src, cond);
            put_sample_where(sm.f, src, cond, n);
            free(cond);
            q->sql = buf_take(&s);
            q->sample_sql = buf_take(&sm);
            return q->sql && q->sample_sql ? WEIR_OK : contract_host->error_set(WEIR_ENOMEM, "out of memory");
        }
        free(cond);
    }
    else {
        free(buf_take(&cb));
    }
    if (buf_open(&s) < 0 || buf_open(&m) < 0 || buf_open(&sm) < 0) {
        return contract_host->error_set(WEIR_ENOMEM, "out of memory");
    }
    rc = gen_table_rule(s.f, m.f, sm.f, &has_metric, &has_sample, src, d, r, n);
    if (rc == 2) {
        fflush(m.f);
        put_bound_check(s.f, m.p ? m.p : "", r);
    }
    q->sql = buf_take(&s);
    q->metric_sql = buf_take(&m);
    q->sample_sql = buf_take(&sm);
    if (rc < 0) {
        sqlgen_query_free(q);
        return rc;
    }
    if (rc == 1) {
        sqlgen_query_free(q);
        return contract_host->error_set(WEIR_EINVALID, "%s: rule type '%s' has no SQL form", r->name,
                                        contract_kind_name(r->kind));
    }
    if (r->kind == CK_ROW_COUNT_ANOMALY) {
        free(q->sql);
        q->sql = NULL;
    }
    if (!has_metric) {
        free(q->metric_sql);
        q->metric_sql = NULL;
    }
    if (!has_sample) {
        free(q->sample_sql);
        q->sample_sql = NULL;
    }
    return WEIR_OK;
}

/* ---- scoping user queries ---------------------------------------------- */

static int word_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '$';
}

/* Whether the text at p (after blanks) starts an alias for the table. */
static int has_alias(const char *p)
{
    static const char *const keywords[] = { "where", "group", "order", "limit", "join", "left", "right",
                                            "inner", "outer", "cross", "on", "union", "having", "window",
                                            "natural", "full", "except", "intersect", "using", "offset",
                                            "fetch", NULL };
    size_t n = 0;

    while (isspace((unsigned char)*p)) {
        p++;
    }
    if (*p == '"') {
        return 1;
    }
    while (word_char(p[n])) {
        n++;
    }
    if (n == 0) {
        return 0;
    }
    for (size_t i = 0; keywords[i]; i++) {
        if (strlen(keywords[i]) == n && !strncasecmp(p, keywords[i], n)) {
            return 0;
        }
    }
    return 1;
}

char *sqlgen_scope(const char *sql, const struct sqlgen_source *src)
{
    size_t tlen = strlen(src->table);
    const char *p = sql, *bare = strchr(src->table, '.');
    char *quoted;
    size_t qlen;
    struct buf b;

    if (buf_open(&b) < 0) {
        return NULL;
    }
    bare = bare ? bare + 1 : src->table;
    quoted = sqlgen_ident(src->table);
    qlen = quoted ? strlen(quoted) : 0;
    while (*p) {
        /* the quoted form sqlgen itself writes ("db"."t") is a reference too */
        if (src->filter_column && src->filter_value && quoted && !strncmp(p, quoted, qlen) && p[qlen] != '.') {
            put_from(b.f, src);
            if (!has_alias(p + qlen)) {
                fputs(" AS ", b.f);
                put_ident(b.f, bare);
            }
            p += qlen;
            continue;
        }
        if (*p == '\'' || *p == '"' || *p == '`') {
            char q = *p;

            fputc(*p++, b.f);
            while (*p && *p != q) {
                fputc(*p++, b.f);
            }
            if (*p) {
                fputc(*p++, b.f);
            }
            continue;
        }
        if (src->filter_column && src->filter_value && !strncasecmp(p, src->table, tlen) &&
            !word_char(p[tlen]) && p[tlen] != '.' && (p == sql || (!word_char(p[-1]) && p[-1] != '.'))) {
            put_from(b.f, src);
            if (!has_alias(p + tlen)) {
                fputs(" AS ", b.f);
                put_ident(b.f, bare);
            }
            p += tlen;
            continue;
        }
        fputc(*p++, b.f);
    }
    free(quoted);
    return buf_take(&b);
}
