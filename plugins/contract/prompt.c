/*
 * prompt.c - markers, rule violation SQL and the read-only SQL gate shared
 * by contract.generate and the builtin llm provider (see prompt.h).
 */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "prompt.h"

/* ---- pbuf ------------------------------------------------------------- */

static void pbuf_grow(struct pbuf *b, size_t more)
{
    size_t cap = b->cap ? b->cap : 256;
    char *s;

    if (b->oom) {
        return;
    }
    while (cap < b->len + more + 1) {
        cap *= 2;
    }
    if (cap == b->cap) {
        return;
    }
    if ((s = realloc(b->s, cap)) == NULL) {
        b->oom = 1;
        return;
    }
    b->s = s;
    b->cap = cap;
}

void pbuf_add(struct pbuf *b, const char *s)
{
    size_t n = strlen(s);

    pbuf_grow(b, n);
    if (b->oom) {
        return;
    }
    memcpy(b->s + b->len, s, n + 1);
    b->len += n;
}

void pbuf_addf(struct pbuf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->oom = 1;
        return;
    }
    pbuf_grow(b, (size_t)n);
    if (b->oom) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void pbuf_add_number(struct pbuf *b, const json_t *v)
{
    if (json_is_integer(v)) {
        pbuf_addf(b, "%lld", (long long)json_integer_value(v));
    }
    else {
        double d = json_number_value(v);

        /* 15 significant digits: what a profile printed, without binary tails. */
        if (d == floor(d) && fabs(d) < 1e15) {
            pbuf_addf(b, "%.0f", d);
        }
        else {
            pbuf_addf(b, "%.15g", d);
        }
    }
}

void pbuf_add_sql_value(struct pbuf *b, const json_t *v)
{
    if (json_is_string(v)) {
        const char *s = json_string_value(v);

        pbuf_add(b, "'");
        for (const char *p = s; *p; p++) {
            char c[3] = { *p, 0, 0 };

            if (*p == '\'') {
                c[1] = '\'';
            }
            pbuf_add(b, c);
        }
        pbuf_add(b, "'");
    }
    else if (json_is_number(v)) {
        pbuf_add_number(b, v);
    }
    else if (json_is_boolean(v)) {
        pbuf_add(b, json_is_true(v) ? "TRUE" : "FALSE");
    }
    else {
        pbuf_add(b, "NULL");
    }
}

char *pbuf_take(struct pbuf *b)
{
    char *s = b->oom ? NULL : b->s;

    if (b->oom) {
        free(b->s);
    }
    else if (!s) {
        s = strdup("");
    }
    memset(b, 0, sizeof(*b));
    return s;
}

void pbuf_free(struct pbuf *b)
{
    free(b->s);
    memset(b, 0, sizeof(*b));
}

/* ---- the context in a prompt ------------------------------------------ */

json_t *prompt_find_context(const char *text)
{
    const char *begin = text ? strstr(text, PROMPT_CONTEXT_BEGIN) : NULL;
    const char *end;

    if (!begin) {
        return NULL;
    }
    begin += strlen(PROMPT_CONTEXT_BEGIN);
    if ((end = strstr(begin, PROMPT_CONTEXT_END)) == NULL) {
        return NULL;
    }
    return json_loadb(begin, (size_t)(end - begin), JSON_REJECT_DUPLICATES, NULL);
}

/* ---- rule SQL --------------------------------------------------------- */

static const json_t *num(const json_t *spec, const char *key)
{
    const json_t *v = json_object_get(spec, key);

    return json_is_number(v) ? v : NULL;
}

/* Appends the values of spec.values as "(a, b, c)"; 0 when there are none. */
static int add_value_list(struct pbuf *b, const json_t *spec)
{
    const json_t *values = json_object_get(spec, "values");
    size_t i;
    const json_t *v;

    if (!json_is_array(values) || json_array_size(values) == 0) {
        return 0;
    }
    pbuf_add(b, "(");
    json_array_foreach(values, i, v) {
        pbuf_add(b, i ? ", " : "");
        pbuf_add_sql_value(b, v);
    }
    pbuf_add(b, ")");
    return 1;
}

/* The WHERE condition of a row rule's violation, or 0 when there is none. */
static int add_row_violation(struct pbuf *b, const char *col, const char *kind, const json_t *spec)
{
    const json_t *lo = num(spec, "min"), *hi = num(spec, "max"), *v = num(spec, "value");

    if (strcmp(kind, "not_null") == 0) {
        pbuf_addf(b, "%s IS NULL", col);
    }
    else if (strcmp(kind, "allowed_values") == 0 || strcmp(kind, "disallowed_values") == 0) {
        int allowed = kind[0] == 'a';

        pbuf_addf(b, "%s IS NOT NULL AND %s %s ", col, col, allowed ? "NOT IN" : "IN");
        return add_value_list(b, spec);
    }
    else if ((strcmp(kind, "min") == 0 || strcmp(kind, "max") == 0) && v) {
        pbuf_addf(b, "%s %s ", col, kind[1] == 'i' ? "<" : ">");
        pbuf_add_number(b, v);
    }
    else if ((strcmp(kind, "range") == 0 || strcmp(kind, "range_soft") == 0) && (lo || hi)) {
        if (lo) {
            pbuf_addf(b, "%s < ", col);
            pbuf_add_number(b, lo);
        }
        if (hi) {
            pbuf_addf(b, "%s%s > ", lo ? " OR " : "", col);
            pbuf_add_number(b, hi);
        }
    }
    else if (strcmp(kind, "length_range") == 0 && (lo || hi)) {
        if (lo) {
            pbuf_addf(b, "LENGTH(%s) < ", col);
            pbuf_add_number(b, lo);
        }
        if (hi) {
            pbuf_addf(b, "%sLENGTH(%s) > ", lo ? " OR " : "", col);
            pbuf_add_number(b, hi);
        }
    }
    else if (strcmp(kind, "check") == 0 &&
             json_is_string(json_object_get(spec, "expression"))) {
        /* A CHECK passes when its expression is true or unknown, as in SQL DDL. */
        pbuf_addf(b, "NOT (%s)", json_string_value(json_object_get(spec, "expression")));
    }
    else {
        return 0;
    }
    return 1;
}

/* "a, b" from an array of column names; 0 when it is not one. */
static int add_column_list(struct pbuf *b, const json_t *cols, const char *alias)
{
    size_t i;
    const json_t *c;

    if (!json_is_array(cols) || json_array_size(cols) == 0) {
        return 0;
    }
    json_array_foreach(cols, i, c) {
        if (!json_is_string(c)) {
            return 0;
        }
        pbuf_addf(b, "%s%s%s", i ? ", " : "", alias ? alias : "", json_string_value(c));
    }
    return 1;
}

char *prompt_violation_sql(const char *table, const char *column, const char *kind,
                           const json_t *spec)
{
    struct pbuf b = { 0 };
    int ok = 1;

    if (strcmp(kind, "null_ratio_max") == 0 && column && num(spec, "max")) {
        /* One aggregate: the null count when the share is over the bound, else 0. */
        pbuf_addf(&b,
                  "SELECT CASE WHEN SUM(CASE WHEN %s IS NULL THEN 1 ELSE 0 END) > ", column);
        pbuf_add_number(&b, num(spec, "max"));
        pbuf_addf(&b, " * COUNT(*) THEN SUM(CASE WHEN %s IS NULL THEN 1 ELSE 0 END) ELSE 0 END "
                      "AS failures FROM %s", column, table);
    }
    else if (strcmp(kind, "unique") == 0 && column) {
        pbuf_addf(&b,
                  "SELECT COUNT(*) AS failures FROM (SELECT %s FROM %s WHERE %s IS NOT NULL "
                  "GROUP BY %s HAVING COUNT(*) > 1) d", column, table, column, column);
    }
    else if (strcmp(kind, "grain_unique") == 0 || strcmp(kind, "grain_uniqueness") == 0) {
        struct pbuf cols = { 0 };
        char *list;

        ok = add_column_list(&cols, json_object_get(spec, "grain"), NULL);
        list = pbuf_take(&cols);
        if (ok && list) {
            pbuf_addf(&b,
                      "SELECT COUNT(*) AS failures FROM (SELECT %s FROM %s GROUP BY %s "
                      "HAVING COUNT(*) > 1) d", list, table, list);
        }
        free(list);
    }
    else if (strcmp(kind, "foreign_key") == 0 && column &&
             json_is_string(json_object_get(spec, "ref_table"))) {
        const char *ref = json_string_value(json_object_get(spec, "ref_table"));
        const json_t *rc = json_object_get(spec, "ref_column");
        const char *refcol = json_is_string(rc) ? json_string_value(rc) : column;

        pbuf_addf(&b,
                  "SELECT COUNT(*) AS failures FROM %s t LEFT JOIN %s r ON t.%s = r.%s "
                  "WHERE t.%s IS NOT NULL AND r.%s IS NULL", table, ref, column, refcol, column,
                  refcol);
    }
    else if (strcmp(kind, "row_count_range") == 0 && (num(spec, "min") || num(spec, "max"))) {
        pbuf_add(&b, "SELECT CASE WHEN ");
        if (num(spec, "min")) {
            pbuf_add(&b, "COUNT(*) < ");
            pbuf_add_number(&b, num(spec, "min"));
        }
        if (num(spec, "max")) {
            pbuf_add(&b, num(spec, "min") ? " OR COUNT(*) > " : "COUNT(*) > ");
            pbuf_add_number(&b, num(spec, "max"));
        }
        pbuf_addf(&b, " THEN 1 ELSE 0 END AS failures FROM %s", table);
    }
    else if (column || strcmp(kind, "check") == 0) {
        pbuf_addf(&b, "SELECT COUNT(*) AS failures FROM %s WHERE ", table);
        ok = add_row_violation(&b, column ? column : "", kind, spec);
    }
    else {
        ok = 0;
    }
    if (!ok) {
        pbuf_free(&b);
        return NULL;
    }
    return pbuf_take(&b);
}

char *prompt_row_expression(const char *column, const char *kind, const json_t *spec)
{
    struct pbuf b = { 0 };
    const json_t *v = num(spec, "value");
    int ok = 1;

    if (strcmp(kind, "not_null") == 0 && column) {
        pbuf_addf(&b, "%s IS NOT NULL", column);
    }
    else if (strcmp(kind, "min") == 0 && column && v) {
        pbuf_addf(&b, "%s >= ", column);
        pbuf_add_number(&b, v);
    }
    else if (strcmp(kind, "max") == 0 && column && v) {
        pbuf_addf(&b, "%s <= ", column);
        pbuf_add_number(&b, v);
    }
    else if (strcmp(kind, "allowed_values") == 0 && column) {
        pbuf_addf(&b, "%s IN ", column);
        ok = add_value_list(&b, spec);
    }
    else if (strcmp(kind, "check") == 0 &&
             json_is_string(json_object_get(spec, "expression"))) {
        pbuf_add(&b, json_string_value(json_object_get(spec, "expression")));
    }
    else {
        ok = 0;
    }
    if (!ok) {
        pbuf_free(&b);
        return NULL;
    }
    return pbuf_take(&b);
}

/* ---- line diff ------------------------------------------------------ */

#define MAX_DIFF_LINES 4000

/* Splits text into lines (pointers into a copy). */
static char **split_lines(char *text, size_t *n)
{
    size_t cap = 16;
    char **lines = malloc(cap * sizeof(*lines));

    *n = 0;
    for (char *p = text; lines && p && *p;) {
        char *nl = strchr(p, '\n');

        if (*n == cap) {
            char **more = realloc(lines, (cap *= 2) * sizeof(*lines));

            if (!more) {
                free(lines);
                return NULL;
            }
            lines = more;
        }
        lines[(*n)++] = p;
        if (nl) {
            *nl = 0;
        }
        p = nl ? nl + 1 : NULL;
    }
    return lines;
}

char *prompt_line_diff(const char *old_text, const char *new_text, const char *label)
{
    char *a_text = strdup(old_text), *b_text = strdup(new_text);
    size_t na = 0, nb = 0, i, j;
    char **a = split_lines(a_text, &na), **b = split_lines(b_text, &nb);
    unsigned *L = NULL;
    char *ops = NULL;
    const char **text = NULL;
    size_t n = 0;
    struct pbuf out = { 0 };
    char *res = NULL;

    pbuf_addf(&out, "--- %s (in the store)\n+++ %s (generated now)\n", label, label);
    if (!a || !b || na > MAX_DIFF_LINES || nb > MAX_DIFF_LINES ||
        (L = calloc((na + 1) * (nb + 1), sizeof(*L))) == NULL) {
        pbuf_add(&out, "(too large to diff)\n");
        goto done;
    }
    for (i = na; i-- > 0;) {
        for (j = nb; j-- > 0;) {
            L[i * (nb + 1) + j] = strcmp(a[i], b[j]) == 0
                                      ? L[(i + 1) * (nb + 1) + j + 1] + 1
                                      : (L[(i + 1) * (nb + 1) + j] > L[i * (nb + 1) + j + 1]
                                             ? L[(i + 1) * (nb + 1) + j]
                                             : L[i * (nb + 1) + j + 1]);
        }
    }
    /* The edit script (deletions first, as diff prints them), then each
     * change with two common lines around it; longer common runs elided. */
    if ((ops = malloc((na + nb + 1) * sizeof(*ops))) == NULL ||
        (text = malloc((na + nb + 1) * sizeof(*text))) == NULL) {
        pbuf_add(&out, "(out of memory)\n");
        goto done;
    }
    for (i = 0, j = 0; i < na || j < nb;) {
        if (i < na && j < nb && strcmp(a[i], b[j]) == 0) {
            ops[n] = ' ';
            text[n++] = a[i++];
            j++;
        }
        else if (i < na && (j == nb || L[(i + 1) * (nb + 1) + j] >= L[i * (nb + 1) + j + 1])) {
            ops[n] = '-';
            text[n++] = a[i++];
        }
        else {
            ops[n] = '+';
            text[n++] = b[j++];
        }
    }
    for (size_t k = 0, line = 1, skipping = 0; k < n; k++) {
        int near = ops[k] != ' ';

        for (size_t d = 1; d <= 2 && !near; d++) {
            near = (k >= d && ops[k - d] != ' ') || (k + d < n && ops[k + d] != ' ');
        }
        if (near) {
            if (skipping) {
                pbuf_addf(&out, "@@ line %zu @@\n", line);
            }
            pbuf_addf(&out, "%c%s\n", ops[k], text[k]);
        }
        skipping = !near;
        line += ops[k] != '+';
    }

done:
    res = pbuf_take(&out);
    free(ops);
    free(text);
    free(L);
    free(a);
    free(b);
    free(a_text);
    free(b_text);
    return res;
}

/* ---- the read-only gate ----------------------------------------------- */

/* Words that write, change the session or reach outside the query. REPLACE
 * is also a string function, so it is refused only when not called. */
static const char *const denied[] = {
    "INSERT", "UPDATE",  "DELETE", "DROP",   "ALTER",  "CREATE", "ATTACH", "DETACH",
    "PRAGMA", "REPLACE", "VACUUM", "INTO",   "COPY",   "CALL",   "EXPORT", "INSTALL",
    "LOAD",   "SET",     "RESET",  "MERGE",  "TRUNCATE", "GRANT", "REVOKE", "EXEC",
    "EXECUTE", "UPSERT", "REINDEX", "ANALYZE", "BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT",
};

static int word_char(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

/* Copies sql with comments removed, literals kept; NULL on an unclosed one. */
static char *strip_comments(const char *sql, const char **why)
{
    size_t n = strlen(sql);
    char *out = malloc(n + 1), *o = out;
    const char *p = sql;

    if (!out) {
        *why = "out of memory";
        return NULL;
    }
    while (*p) {
        if (p[0] == '-' && p[1] == '-') {
            while (*p && *p != '\n') {
                p++;
            }
            *o++ = ' ';
        }
        else if (p[0] == '/' && p[1] == '*') {
            const char *e = strstr(p + 2, "*/");

            if (!e) {
                *why = "unclosed /* comment";
                free(out);
                return NULL;
            }
            p = e + 2;
            *o++ = ' ';
        }
        else if (*p == '\'' || *p == '"' || *p == '`') {
            char q = *p;

            *o++ = *p++;
            for (;;) {
                if (!*p) {
                    *why = "unclosed quote";
                    free(out);
                    return NULL;
                }
                if (*p == q && p[1] == q) {
                    *o++ = *p++;
                    *o++ = *p++;
                    continue;
                }
                if (*p == q) {
                    *o++ = *p++;
                    break;
                }
                *o++ = *p++;
            }
        }
        else {
            *o++ = *p++;
        }
    }
    *o = 0;
    return out;
}

const char *prompt_sql_check(const char *sql)
{
    const char *why = NULL;
    char *s = strip_comments(sql, &why);
    const char *p;
    int first = 1;

    if (!s) {
        return why;
    }
    for (p = s; *p && !why;) {
        if (*p == '\'' || *p == '"' || *p == '`') {
            char q = *p++;

            while (*p && !(*p == q && p[1] != q)) {
                p += (*p == q) ? 2 : 1;
            }
            p += *p ? 1 : 0;
        }
        else if (*p == ';') {
            const char *r = p + 1;

            while (isspace((unsigned char)*r)) {
                r++;
            }
            if (*r) {
                why = "more than one statement";
            }
            p = r;
        }
        else if (word_char(*p)) {
            const char *w = p;
            size_t len;

            while (word_char(*p)) {
                p++;
            }
            len = (size_t)(p - w);
            if (first) {
                first = 0;
                if (!((len == 6 && strncasecmp(w, "SELECT", 6) == 0) ||
                      (len == 4 && strncasecmp(w, "WITH", 4) == 0))) {
                    why = "not a SELECT or WITH statement";
                }
                continue;
            }
            for (size_t i = 0; i < sizeof(denied) / sizeof(denied[0]) && !why; i++) {
                if (strlen(denied[i]) == len && strncasecmp(w, denied[i], len) == 0) {
                    const char *q = p;

                    while (isspace((unsigned char)*q)) {
                        q++;
                    }
                    if (strcmp(denied[i], "REPLACE") == 0 && *q == '(') {
                        continue;
                    }
                    why = "a write or side-effect keyword (INSERT, UPDATE, DELETE, DROP, ALTER, "
                          "CREATE, ATTACH, PRAGMA, INTO, ...) outside a string literal";
                }
            }
        }
        else {
            p++;
        }
    }
    if (!why && first) {
        why = "empty statement";
    }
    free(s);
    return why;
}
