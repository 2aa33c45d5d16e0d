/*
 * report.c - impact.report: what each semantic change of an impact.diff
 * touches. For the table the job writes: its contract's rules and its tests
 * that reference an affected column (obsolete or suspicious, with the
 * reason), the tables downstream through the lineage of the jobs directory,
 * and suggested contract edits. Written as reports/impact/<id>.json and .md
 * through the store, so it lands in S3 on the aws target.
 */
#include "impact_diff_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct rep {
    weir_ctx *ctx;
    const char *prefix; /* store prefix of the artifacts */
    json_t *docs;       /* "contracts/<t>.json" -> document or null (cache) */
    json_t *graph;      /* lineage of the jobs directory, or NULL */
    json_int_t shadow;  /* rows of the shadow run's sample; 0: no shadow run */
};

static const char *str(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* For printing: a missing field shows as "-". */
static const char *txt(const json_t *o, const char *key)
{
    const char *s = str(o, key);

    return s ? s : "-";
}

static int is(const char *a, const char *b)
{
    return a && b && !strcmp(a, b);
}

/* A store document as JSON, or null when there is none (cached). */
/* A catalog table name that can be a store key: an output written to a
 * path (s3://...) or a name from a variable has no contract to look up. */
static int table_key_ok(const char *t)
{
    return *t && *t != '.' && strstr(t, "..") == NULL &&
           strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") ==
               strlen(t);
}

static int store_doc(struct rep *r, const char *dir, const char *table, json_t **doc)
{
    json_t *in = NULL, *got = NULL;
    char *uri = NULL;
    size_t n = 0;
    int rc;

    if (!table_key_ok(table)) {
        *doc = json_null();
        return WEIR_OK;
    }
    if ((rc = impact_buf_printf(&uri, &n, "%s%s/%s.json", r->prefix, dir, table)) < 0) {
        return rc;
    }
    if ((*doc = json_object_get(r->docs, uri)) != NULL) {
        impact_host->free(uri);
        return WEIR_OK;
    }
    in = json_pack("{s:s,s:s}", "uri", uri, "as", "json");
    rc = in ? impact_host->service_call(r->ctx, "store", "get", in, &got) : WEIR_ENOMEM;
    if (rc == WEIR_OK || rc == WEIR_ENOTFOUND) {
        json_t *v = rc == WEIR_OK ? json_object_get(got, "value") : NULL;

        json_object_set(r->docs, uri, v ? v : json_null());
        *doc = json_object_get(r->docs, uri);
        rc = WEIR_OK;
    }
    impact_host->free(uri);
    json_decref(in);
    json_decref(got);
    return rc;
}

/* ---- which rules and tests a change touches ---- */

static int removes_column(const char *kind)
{
    return is(kind, "column_removed") || is(kind, "column_renamed");
}

/* Why a rule on `col` is obsolete or suspicious after change c; NULL: it is not. */
static const char *verdict(const json_t *c, const char *rule_type, const char *column,
                           int *obsolete)
{
    const char *kind = str(c, "kind");

    *obsolete = removes_column(kind) || is(kind, "grain_changed");
    if (removes_column(kind)) {
        return is(kind, "column_renamed") ? "the column is renamed: the rule checks a column the "
                                            "table no longer has"
                                          : "the column is removed from the output";
    }
    if (is(kind, "grain_changed")) {
        return "the grain changed: the old key no longer identifies a row";
    }
    if (is(kind, "column_retyped")) {
        return "the column's type changed: bounds, patterns and values may not fit it";
    }
    if (is(kind, "join_type_changed") && rule_type && !strcmp(rule_type, "not_null")) {
        return "an outer join keeps unmatched rows, whose joined columns are null";
    }
    if (!column) {
        return "the rows of the table change: check the bound still holds on new output";
    }
    return "the rows or values behind this column changed: check the rule still holds";
}

static int add_hit(json_t *hits, const char *kind, const char *name, const char *column,
                   const char *severity, const json_t *c, const char *rule_type)
{
    int obsolete;
    const char *why = verdict(c, rule_type, column, &obsolete);
    json_t *h =
        json_pack("{s:s,s:s,s:s?,s:s,s:s,s:s,s:s}", "kind", kind, "name", name, "column", column,
                  "severity", severity ? severity : "error", "status",
                  obsolete ? "obsolete" : "suspicious", "reason", why, "change", str(c, "what"));

    if (!h || json_array_append_new(hits, h) < 0) {
        return impact_host->error_set(WEIR_ENOMEM, "impact.report: out of memory");
    }
    return WEIR_OK;
}

/* Row-level checks an outer join or a filter can break without naming a column. */
static int table_wide(const json_t *c, const char *type)
{
    const char *kind = str(c, "kind");

    if (!type) {
        return 0;
    }
    if (is(kind, "join_type_changed") || is(kind, "join_keys_changed") || is(kind, "join_added") ||
        is(kind, "join_removed")) {
        return !strcmp(type, "row_count_range") || !strcmp(type, "row_count_anomaly") ||
               !strcmp(type, "grain_unique");
    }
    if (!strncmp(kind ? kind : "", "filter_", 7)) {
        return !strcmp(type, "row_count_range") || !strcmp(type, "row_count_anomaly");
    }
    return is(kind, "grain_changed") && !strcmp(type, "grain_unique");
}

static int contract_hits(const json_t *contract, const json_t *c, json_t *hits)
{
    json_t *cols = json_object_get(c, "columns_affected"), *col, *rule, *chk;
    char name[600];
    size_t i, k;
    int rc = WEIR_OK;

    json_array_foreach(cols, i, col) {
        json_t *spec =
            json_object_get(json_object_get(contract, "columns"), json_string_value(col));

        json_array_foreach(json_object_get(spec, "rules"), k, rule) {
            snprintf(name, sizeof(name), "%s.%s", json_string_value(col),
                     str(rule, "name") ? str(rule, "name") : str(rule, "type"));
            if (rc == WEIR_OK) {
                rc = add_hit(hits, "rule", name, json_string_value(col), str(rule, "severity"), c,
                             str(rule, "type"));
            }
        }
    }
    json_array_foreach(json_object_get(contract, "table_level_checks"), k, chk) {
        char *text = json_dumps(chk, JSON_COMPACT | JSON_SORT_KEYS);
        const char *hit = NULL;

        json_array_foreach(cols, i, col) {
            if (!hit && text && impact_word_in(text, json_string_value(col))) {
                hit = json_string_value(col);
            }
        }
        if (rc == WEIR_OK && (hit || table_wide(c, str(chk, "type")))) {
            rc = add_hit(hits, "check", str(chk, "name") ? str(chk, "name") : str(chk, "type"), hit,
                         str(chk, "severity"), c, str(chk, "type"));
        }
        free(text);
    }
    if (rc == WEIR_OK && is(str(c, "kind"), "grain_changed") &&
        json_array_size(json_object_get(contract, "primary_key"))) {
        rc = add_hit(hits, "primary_key", "primary_key", NULL, "error", c, NULL);
    }
    return rc;
}

static int test_hits(const json_t *tests, const json_t *c, json_t *hits)
{
    json_t *cols = json_object_get(c, "columns_affected"), *col, *t;
    size_t i, k;
    int rc = WEIR_OK;

    json_array_foreach(json_object_get(tests, "tests"), k, t) {
        const char *text = str(t, "sql") ? str(t, "sql") : str(t, "rule");

        json_array_foreach(cols, i, col) {
            if (rc == WEIR_OK && impact_word_in(text, json_string_value(col))) {
                rc = add_hit(hits, "test", str(t, "name") ? str(t, "name") : "(unnamed)",
                             json_string_value(col), str(t, "severity"), c, NULL);
                break;
            }
        }
    }
    return rc;
}

/* ---- suggestions ---- */

static int outer(const char *how);

static json_t *suggestion(const json_t *c, const char *table, const json_t *hits)
{
    const char *kind = str(c, "kind"),
               *col = json_string_value(json_array_get(json_object_get(c, "columns_affected"), 0));
    char *s = NULL;
    size_t n = 0;
    json_t *out;

    if (is(kind, "column_renamed") && json_array_size(hits)) {
        impact_buf_printf(&s, &n,
                          "contracts/%s.json: rename the column key \"%s\" to \"%s\" "
                          "(keeping its rules), and use \"%s\" in the tests that name it",
                          table, str(c, "before"), str(c, "after"), str(c, "after"));
    }
    else if (is(kind, "column_removed") && json_array_size(hits)) {
        impact_buf_printf(&s, &n,
                          "contracts/%s.json: remove the column \"%s\" and its rules; "
                          "drop or rewrite the tests that name it",
                          table, col);
    }
    else if (is(kind, "column_retyped")) {
        impact_buf_printf(&s, &n,
                          "contracts/%s.json: set columns.%s.type to \"%s\" and review "
                          "its bounds and patterns",
                          table, col, str(c, "after"));
    }
    else if (is(kind, "join_type_changed") && outer(str(c, "after")) && col) {
        char *cols = json_dumps(json_object_get(c, "columns_affected"), JSON_COMPACT);

        impact_buf_printf(&s, &n,
                          "contracts/%s.json: relax not_null on %s, which now come from "
                          "an outer join with %s (null_ratio_max, or severity warn), and review "
                          "row_count_range and grain_unique",
                          table, cols ? cols : col, txt(c, "right_table"));
        free(cols);
    }
    else if (!strncmp(kind ? kind : "", "join_", 5) && json_array_size(hits)) {
        impact_buf_printf(
            &s, &n,
            "contracts/%s.json: review row_count_range and grain_unique "
            "against a day of new output: the join keeps, drops or repeats other rows",
            table);
    }
    else if (is(kind, "grain_changed")) {
        impact_buf_printf(&s, &n,
                          "contracts/%s.json: set primary_key and grain_unique to the new "
                          "grain",
                          table);
    }
    else if (!strncmp(kind ? kind : "", "filter_", 7) && json_array_size(hits)) {
        impact_buf_printf(&s, &n,
                          "contracts/%s.json: review row_count_range and the value rules "
                          "of the filtered columns against a day of new output",
                          table);
    }
    out = s ? json_string(s) : NULL;
    impact_host->free(s);
    return out;
}

/* ---- one file ---- */

static const char *out_table(const json_t *file)
{
    const json_t *s = json_is_object(json_object_get(file, "after"))
                          ? json_object_get(file, "after")
                          : json_object_get(file, "before");
    const char *t = str(s, "output");

    return t ? t : str(json_array_get(json_object_get(s, "targets"), 0), "name");
}

/* An error-severity rule the change makes obsolete, or a not_null error rule
 * on a column an outer join can now leave null: either fails on new data. */
static int breaks_rule(const json_t *c, const json_t *hits)
{
    size_t i;
    json_t *h;

    json_array_foreach(hits, i, h) {
        if (!is(str(h, "severity"), "error")) {
            continue;
        }
        if (is(str(h, "status"), "obsolete") ||
            (is(str(c, "kind"), "join_type_changed") && is(str(h, "kind"), "rule") &&
             str(h, "name") && strstr(str(h, "name"), ".not_null"))) {
            return 1;
        }
    }
    return 0;
}

static int outer(const char *how)
{
    return is(how, "left") || is(how, "right") || is(how, "full") || is(how, "outer") ||
           is(how, "left_outer") || is(how, "full_outer");
}

static const char *last_part(const char *name)
{
    const char *dot = strrchr(name, '.');

    return dot ? dot + 1 : name;
}

static int named_in(const json_t *arr, const char *key, const char *name)
{
    size_t i;
    json_t *v;

    json_array_foreach(arr, i, v) {
        const char *n = key ? str(v, key) : json_string_value(v);

        if (n && !strcasecmp(last_part(n), name)) {
            return 1;
        }
    }
    return 0;
}

/* After an inner -> outer join, the output columns fed by the joined table
 * (its catalog columns, the join keys aside) can be null: they join the
 * change's affected columns. No catalog entry: nothing is added. */
static void outer_join_columns(struct rep *r, const json_t *file, json_t *c)
{
    const char *right = str(c, "right_table");
    const json_t *after = json_object_get(file, "after"), *col, *src, *j;
    json_t *in, *def = NULL, *cat, *keys = json_array(),
                *affected = json_object_get(c, "columns_affected");
    size_t i, k;

    if (!is(str(c, "kind"), "join_type_changed") || !outer(str(c, "after")) ||
        outer(str(c, "before")) || !right || !json_is_array(affected) ||
        (in = json_pack("{s:s}", "table", right)) == NULL) {
        json_decref(keys);
        return;
    }
    if (impact_host->service_call(r->ctx, "catalog", "get_table", in, &def) == WEIR_OK) {
        cat = json_object_get(json_object_get(json_object_get(def, "Table"), "StorageDescriptor"),
                              "Columns");
        json_array_foreach(json_object_get(after, "join_keys"), i, j) {
            if (is(str(j, "right_table"), right)) {
                json_array_extend(keys, json_object_get(j, "columns"));
                json_array_extend(keys, json_object_get(j, "right_columns"));
            }
        }
        json_array_foreach(json_object_get(after, "columns"), i, col) {
            json_array_foreach(json_object_get(col, "sources"), k, src) {
                const char *s = json_string_value(src);

                if (s && str(col, "name") && named_in(cat, "Name", last_part(s)) &&
                    !named_in(keys, NULL, last_part(s)) &&
                    !named_in(affected, NULL, str(col, "name"))) {
                    json_array_append_new(affected, json_string(str(col, "name")));
                }
            }
        }
    }
    json_decref(in);
    json_decref(def);
    json_decref(keys);
}

static int one_change(struct rep *r, const json_t *file, const char *table, json_t *c,
                      json_t *cols_all, json_t *suggestions)
{
    json_t *contract = json_null(), *tests = json_null(), *hits = json_array(), *sug, *col;
    size_t i;
    int rc = WEIR_OK;

    if (table && ((rc = store_doc(r, "contracts", table, &contract)) < 0 ||
                  (rc = store_doc(r, "tests", table, &tests)) < 0)) {
        json_decref(hits);
        return rc;
    }
    outer_join_columns(r, file, c);
    if ((rc = contract_hits(contract, c, hits)) == WEIR_OK) {
        rc = test_hits(tests, c, hits);
    }
    if (is(str(c, "classification"), "needs_review") && breaks_rule(c, hits)) {
        json_object_set_new(c, "classification", json_string("breaking"));
        json_object_set_new(
            c, "reason_escalated",
            json_string("an error-severity contract rule would fail on the new output"));
    }
    if (table && (sug = suggestion(c, table, hits)) != NULL) {
        json_array_append_new(suggestions, sug);
    }
    json_array_foreach(json_object_get(c, "columns_affected"), i, col) {
        size_t k;
        json_t *x;
        int seen = 0;

        json_array_foreach(cols_all, k, x) {
            seen |= json_equal(x, col);
        }
        if (!seen) {
            json_array_append(cols_all, col);
        }
    }
    json_object_set_new(c, "contract_refs", hits);
    return rc;
}

static int one_file(struct rep *r, const json_t *file, json_t **out)
{
    const char *table = out_table(file);
    json_t *changes = json_deep_copy(json_object_get(file, "changes"));
    json_t *cols = json_array(), *sug = json_array(), *down = NULL, *c;
    size_t i;
    int rc = WEIR_OK;

    *out = NULL;
    json_array_foreach(changes, i, c) {
        if (rc == WEIR_OK) {
            rc = one_change(r, file, table, c, cols, sug);
        }
    }
    if (rc == WEIR_OK && r->graph && table) {
        rc = impact_lineage_downstream(r->graph, table, cols, &down);
    }
    if (rc == WEIR_OK) {
        *out =
            json_pack("{s:O?,s:s?,s:O?,s:s,s:O,s:o,s:o,s:o}", "path", json_object_get(file, "path"),
                      "output", table, "state", json_object_get(file, "state"), "status",
                      impact_changes_status(changes), "changes", changes, "affected_columns", cols,
                      "downstream", down ? down : json_array(), "suggested_edits", sug);
        cols = sug = NULL;
        rc = *out ? WEIR_OK : impact_host->error_set(WEIR_ENOMEM, "impact.report: out of memory");
    }
    json_object_set(*out, "diff", json_object_get(file, "diff"));
    if (rc == WEIR_OK && r->shadow > 0) {
        json_t *sh = NULL;

        if ((rc = impact_shadow_run(r->ctx, file, r->shadow, &sh)) == WEIR_OK && sh) {
            json_object_set_new(*out, "shadow", sh);
        }
    }
    json_decref(changes);
    json_decref(cols);
    json_decref(sug);
    return rc;
}

/* ---- narrative ---- */

static json_t *templated(const json_t *report)
{
    json_t *f, *c;
    size_t i, k, n = 0;
    char *s = NULL;

    impact_buf_printf(&s, &n, "This change is %s.", txt(report, "status"));
    json_array_foreach(json_object_get(report, "files"), i, f) {
        json_array_foreach(json_object_get(f, "changes"), k, c) {
            impact_buf_printf(&s, &n, " In %s, %s (%s): %s.", txt(f, "path"), txt(c, "what"),
                              txt(c, "classification"), txt(c, "reason"));
        }
    }
    c = json_string(s ? s : "");
    impact_host->free(s);
    return c;
}

/* The llm's narrative; the templated one when the provider has none
 * (the builtin provider only drafts contracts). */
static json_t *narrative(struct rep *r, const json_t *report)
{
    char *facts = json_dumps(json_object_get(report, "files"), JSON_COMPACT | JSON_SORT_KEYS);
    json_t *in = NULL, *got = NULL, *text = NULL;

    in = facts ? json_pack("{s:[{s:s,s:s},{s:s,s:s}],s:{s:s,s:{s:{s:s}},s:[s]}}", "messages",
                           "role", "system", "content",
                           "You explain the impact of an ETL code change to data engineers in "
                           "one short paragraph.",
                           "role", "user", "content", facts, "json_schema", "type", "object",
                           "properties", "narrative", "type", "string", "required", "narrative")
               : NULL;
    if (in && impact_host->service_call(r->ctx, "llm", "generate", in, &got) == WEIR_OK &&
        json_is_string(json_object_get(got, "narrative"))) {
        text = json_incref(json_object_get(got, "narrative"));
    }
    free(facts);
    json_decref(in);
    json_decref(got);
    return text ? text : templated(report);
}

/* ---- impact.report ---- */

static json_t *count(const json_t *files)
{
    json_int_t b = 0, r = 0, nb = 0;
    size_t i, k;
    json_t *f, *c;

    json_array_foreach(files, i, f) {
        json_array_foreach(json_object_get(f, "changes"), k, c) {
            const char *cls = str(c, "classification");

            b += is(cls, "breaking");
            r += is(cls, "needs_review");
            nb += is(cls, "non_breaking");
        }
    }
    return json_pack("{s:I,s:I,s:I}", "breaking", b, "needs_review", r, "non_breaking", nb);
}

static int put(struct rep *r, const char *uri, const char *body, const json_t *value)
{
    json_t *in = value ? json_pack("{s:s,s:O}", "uri", uri, "value", value)
                       : json_pack("{s:s,s:s}", "uri", uri, "body", body);
    json_t *out = NULL;
    int rc = in ? impact_host->service_call(r->ctx, "store", "put", in, &out)
                : impact_host->error_set(WEIR_ENOMEM, "impact.report: out of memory");

    json_decref(in);
    json_decref(out);
    return rc;
}

static int write_artifacts(struct rep *r, json_t *report, const char *md)
{
    char *juri = NULL, *muri = NULL;
    size_t n = 0;
    int rc;

    if ((rc = impact_buf_printf(&juri, &n, "%sreports/impact/%s.json", r->prefix,
                                str(report, "report_id"))) < 0 ||
        (rc = impact_buf_printf(&muri, &n, "%sreports/impact/%s.md", r->prefix,
                                str(report, "report_id"))) < 0 ||
        (rc = put(r, juri, NULL, report)) < 0 || (rc = put(r, muri, md, NULL)) < 0) {
        goto done;
    }
    json_object_set_new(report, "artifacts",
                        json_pack("{s:s,s:s}", "json", juri, "markdown", muri));
done:
    impact_host->free(juri);
    impact_host->free(muri);
    return rc;
}

static int build(struct rep *r, const json_t *diff, int want_narrative, json_t **report)
{
    json_t *files = json_array(), *f, *one;
    size_t i;
    int rc = WEIR_OK;

    json_array_foreach(json_object_get(diff, "files"), i, f) {
        if (rc == WEIR_OK && (rc = one_file(r, f, &one)) == WEIR_OK) {
            json_array_append_new(files, one);
        }
    }
    if (rc < 0) {
        json_decref(files);
        return rc;
    }
    *report = json_pack("{s:O?,s:O?,s:O?,s:o,s:o}", "report_id", json_object_get(diff, "report_id"),
                        "from", json_object_get(diff, "from"), "to", json_object_get(diff, "to"),
                        "counts", count(files), "files", files);
    if (!*report) {
        return impact_host->error_set(WEIR_ENOMEM, "impact.report: out of memory");
    }
    json_object_set_new(*report, "status", json_string(impact_files_status(files)));
    if (want_narrative) {
        json_object_set_new(*report, "narrative", narrative(r, *report));
    }
    return WEIR_OK;
}

static int lineage_for(struct rep *r, const json_t *input, const json_t *diff)
{
    const char *jobs = str(input, "jobs");
    const char *project = r->ctx ? impact_host->ctx_get(r->ctx, "project") : NULL;
    char *where = NULL;
    size_t n = 0;
    int rc;

    if (!jobs || !*jobs) {
        jobs = str(diff, "repo");
    }
    if (!jobs) {
        return WEIR_OK; /* nothing to scan: no downstream section */
    }
    if (jobs[0] != '/' && project &&
        (rc = impact_buf_printf(&where, &n, "%s/%s", project, jobs)) < 0) {
        return rc;
    }
    rc = impact_lineage_scan(where ? where : jobs, &r->graph);
    impact_host->free(where);
    return rc;
}

static int run_report(const json_t *input, json_t **out, weir_ctx *ctx, void *payload)
{
    const json_t *diff = json_object_get(input, "diff");
    struct rep r = { ctx, str(input, "prefix") ? str(input, "prefix") : "", json_object(), NULL,
                     json_is_true(json_object_get(input, "shadow"))
                         ? json_integer_value(json_object_get(input, "shadow_rows"))
                         : 0 };
    json_t *report = NULL;
    char *md = NULL, *text = NULL;
    int rc;

    (void)payload;
    *out = NULL;
    if (!json_is_array(json_object_get(diff, "files")) || !str(diff, "report_id")) {
        rc = impact_host->error_set(
            WEIR_EINVALID,
            "impact.report: param 'diff' must be an impact.diff output (files, report_id)");
        goto done;
    }
    if (strspn(str(diff, "report_id"),
               "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_-") !=
            strlen(str(diff, "report_id")) ||
        !*str(diff, "report_id")) {
        rc = impact_host->error_set(
            WEIR_EINVALID,
            "impact.report: report_id '%s' may only have letters, digits, '_' and '-'",
            str(diff, "report_id"));
        goto done;
    }
    if ((rc = lineage_for(&r, input, diff)) < 0 ||
        (rc = build(&r, diff, json_is_true(json_object_get(input, "narrative")), &report)) < 0 ||
        (rc = impact_report_markdown(report, &md)) < 0 ||
        (rc = impact_report_text(report, &text)) < 0) {
        goto done;
    }
    if (json_is_true(json_object_get(input, "write")) &&
        (rc = write_artifacts(&r, report, md)) < 0) {
        goto done;
    }
    json_object_set_new(report, "markdown", json_string(md));
    json_object_set_new(report, "summary", json_string(text));
    *out = report;
    report = NULL;
done:
    impact_host->free(md);
    impact_host->free(text);
    json_decref(report);
    json_decref(r.docs);
    json_decref(r.graph);
    return rc;
}

static const struct weir_param_desc report_params[] = {
    { "diff", WEIR_PARAM_OBJECT, 1, NULL, "an impact.diff output" },
    { "jobs", WEIR_PARAM_STRING, 0, "\"\"",
      "directory of job scripts for the downstream lineage (\"\": the repository's work tree)" },
    { "prefix", WEIR_PARAM_STRING, 0, "\"\"", "store prefix of contracts/, tests/ and reports/" },
    { "narrative", WEIR_PARAM_BOOLEAN, 0, "false",
      "add a narrative from the llm service (templated when it gives none)" },
    { "write", WEIR_PARAM_BOOLEAN, 0, "true",
      "write reports/impact/<id>.json and .md to the store" },
    { "shadow", WEIR_PARAM_BOOLEAN, 0, "false",
      "run the old and new query of changed SQL jobs on the engine and compare them" },
    { "shadow_rows", WEIR_PARAM_INTEGER, 0, "1000", "rows of the shadow run's sample" },
    { NULL, 0, 0, NULL, NULL },
};

const struct weir_step_desc impact_step_report = {
    WEIR_STEP_DESC_VERSION,
    "report",
    NULL,
    "impact report of an impact.diff: rules, tests and downstream tables each change touches",
    report_params,
    run_report,
    NULL,
};
