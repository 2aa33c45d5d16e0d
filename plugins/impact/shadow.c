/*
 * shadow.c - the optional shadow run of impact.report: the old and the new
 * query of a changed SQL job, run read-only on the target's engine over a
 * sample of today's data, compared by row count and per-column stats. A
 * query the engine rejects (another dialect, a column the data does not
 * have yet) is reported with the engine's message: that is a finding too.
 */
#include "impact_diff_int.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int word_at(const char *p, const char *w)
{
    size_t n = strlen(w);

    return !strncasecmp(p, w, n) && !(isalnum((unsigned char)p[n]) || p[n] == '_');
}

/* The query of a job script: from its first SELECT / WITH outside quotes and
 * comments (past an INSERT INTO ... or CREATE TABLE ... AS), without the
 * final ';'. NULL when there is none. */
static char *query_of(const char *sql)
{
    const char *p = sql, *start = NULL;
    char *q;
    size_t n;

    while (*p && !start) {
        if (p[0] == '-' && p[1] == '-') {
            p += strcspn(p, "\n");
        }
        else if (p[0] == '/' && p[1] == '*') {
            const char *end = strstr(p + 2, "*/");

            p = end ? end + 2 : p + strlen(p);
        }
        else if (*p == '\'' || *p == '"') {
            char quote = *p++;

            p += strcspn(p, quote == '\'' ? "'" : "\"");
            p += *p != '\0';
        }
        else if ((p == sql || !(isalnum((unsigned char)p[-1]) || p[-1] == '_')) &&
                 (word_at(p, "select") || word_at(p, "with"))) {
            start = p;
        }
        else {
            p++;
        }
    }
    if (!start) {
        return NULL;
    }
    n = strlen(start);
    while (n && (isspace((unsigned char)start[n - 1]) || start[n - 1] == ';')) {
        n--;
    }
    if ((q = impact_host->malloc(n + 1)) != NULL) {
        memcpy(q, start, n);
        q[n] = '\0';
    }
    return q;
}

static int query(weir_ctx *ctx, const char *sql, json_int_t max_rows, json_t **out)
{
    json_t *in = json_pack("{s:s,s:I}", "sql", sql, "max_rows", max_rows);
    int rc = in ? impact_host->service_call(ctx, "engine", "query", in, out) : WEIR_ENOMEM;

    json_decref(in);
    return rc;
}

/* nulls, distinct values, min and max of one column of the sample rows. */
static json_t *column_stats(const json_t *rows, size_t col)
{
    json_t *seen = json_object(), *row, *v, *lo = NULL, *hi = NULL, *out;
    json_int_t nulls = 0;
    size_t i;

    json_array_foreach(rows, i, row) {
        v = json_array_get(row, col);
        if (!v || json_is_null(v)) {
            nulls++;
            continue;
        }
        char *key = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);

        if (key) {
            json_object_set_new(seen, key, json_true());
            free(key);
        }
        if (json_is_number(v)) {
            if (!lo || json_number_value(v) < json_number_value(lo)) {
                lo = v;
            }
            if (!hi || json_number_value(v) > json_number_value(hi)) {
                hi = v;
            }
        }
    }
    out = json_pack("{s:I,s:I,s:O?,s:O?}", "nulls", nulls, "distinct",
                    (json_int_t)json_object_size(seen), "min", lo, "max", hi);
    json_decref(seen);
    return out;
}

/* {row_count, sample_rows, columns: {name: stats}} or {error}. */
static json_t *run_side(weir_ctx *ctx, const char *src, json_int_t sample)
{
    char *q = src ? query_of(src) : NULL, *sql = NULL;
    json_t *res = NULL, *out = NULL, *cols, *c;
    size_t len = 0, i;
    int rc;

    if (!src) {
        return json_pack("{s:s}", "error", "the script does not exist on this side");
    }
    if (!q) {
        return json_pack("{s:s}", "error", "no SELECT or WITH query in the script");
    }
    if ((rc = impact_buf_printf(&sql, &len, "SELECT COUNT(*) AS n FROM (%s) AS weir_shadow", q)) <
            0 ||
        (rc = query(ctx, sql, 1, &res)) < 0) {
        out = json_pack("{s:s}", "error", impact_host->error_last());
        goto done;
    }
    out = json_pack("{s:O?,s:{}}", "row_count",
                    json_array_get(json_array_get(json_object_get(res, "rows"), 0), 0), "columns");
    json_decref(res);
    res = NULL;
    impact_host->free(sql);
    sql = NULL;
    len = 0;
    if ((rc = impact_buf_printf(&sql, &len, "SELECT * FROM (%s) AS weir_shadow LIMIT %lld", q,
                                (long long)sample)) < 0 ||
        (rc = query(ctx, sql, sample, &res)) < 0) {
        json_object_set_new(out, "error", json_string(impact_host->error_last()));
        goto done;
    }
    json_object_set_new(out, "sample_rows",
                        json_integer((json_int_t)json_array_size(json_object_get(res, "rows"))));
    cols = json_object_get(out, "columns");
    json_array_foreach(json_object_get(res, "columns"), i, c) {
        const char *name = json_string_value(json_object_get(c, "name"));

        if (name) {
            json_object_set_new(cols, name, column_stats(json_object_get(res, "rows"), i));
        }
    }
done:
    impact_host->free(q);
    impact_host->free(sql);
    json_decref(res);
    return out;
}

/* Row counts, the columns that appear or vanish, numeric columns whose
 * range moved, and columns whose share of nulls moved by over 5 points. */
static json_t *compare(const json_t *a, const json_t *b)
{
    json_t *ca = json_object_get(a, "columns"), *cb = json_object_get(b, "columns"), *sa, *sb;
    json_t *out = json_pack("{s:[],s:[],s:[],s:[]}", "columns_added", "columns_removed",
                            "null_shifts", "value_shifts");
    double na = (double)json_integer_value(json_object_get(a, "sample_rows"));
    double nb = (double)json_integer_value(json_object_get(b, "sample_rows"));
    json_int_t ra = json_integer_value(json_object_get(a, "row_count"));
    json_int_t rb = json_integer_value(json_object_get(b, "row_count"));
    const char *name;

    if (ra > 0) {
        json_object_set_new(out, "row_count_change_pct",
                            json_real(round(1000.0 * (double)(rb - ra) / (double)ra) / 10.0));
    }
    json_object_foreach(ca, name, sa) {
        if (!(sb = json_object_get(cb, name))) {
            json_array_append_new(json_object_get(out, "columns_removed"), json_string(name));
            continue;
        }
        double pa =
            na > 0 ? 100.0 * (double)json_integer_value(json_object_get(sa, "nulls")) / na : 0;
        double pb =
            nb > 0 ? 100.0 * (double)json_integer_value(json_object_get(sb, "nulls")) / nb : 0;

        if (!json_equal(json_object_get(sa, "min"), json_object_get(sb, "min")) ||
            !json_equal(json_object_get(sa, "max"), json_object_get(sb, "max"))) {
            json_array_append_new(json_object_get(out, "value_shifts"),
                                  json_pack("{s:s,s:O?,s:O?,s:O?,s:O?}", "column", name,
                                            "min_before", json_object_get(sa, "min"), "min_after",
                                            json_object_get(sb, "min"), "max_before",
                                            json_object_get(sa, "max"), "max_after",
                                            json_object_get(sb, "max")));
        }
        if (fabs(pb - pa) > 5.0) {
            json_array_append_new(json_object_get(out, "null_shifts"),
                                  json_pack("{s:s,s:f,s:f}", "column", name, "null_pct_before",
                                            round(pa * 10) / 10, "null_pct_after",
                                            round(pb * 10) / 10));
        }
    }
    json_object_foreach(cb, name, sb) {
        if (!json_object_get(ca, name)) {
            json_array_append_new(json_object_get(out, "columns_added"), json_string(name));
        }
    }
    return out;
}

int impact_shadow_run(weir_ctx *ctx, const json_t *file, json_int_t sample, json_t **out)
{
    const char *path = json_string_value(json_object_get(file, "path"));
    json_t *before, *after;
    size_t n = path ? strlen(path) : 0;

    *out = NULL;
    if (n < 4 || strcmp(path + n - 4, ".sql") != 0) {
        return WEIR_OK; /* PySpark cannot run on the engine: no shadow run */
    }
    before = run_side(ctx, json_string_value(json_object_get(file, "source_before")), sample);
    after = run_side(ctx, json_string_value(json_object_get(file, "source_after")), sample);
    *out = json_pack("{s:o,s:o}", "before", before, "after", after);
    if (*out && !json_object_get(before, "error") && !json_object_get(after, "error")) {
        json_object_set_new(*out, "compare", compare(before, after));
    }
    return *out ? WEIR_OK : impact_host->error_set(WEIR_ENOMEM, "impact.report: out of memory");
}
