/*
 * report_md.c - the two texts of an impact report: the Markdown document
 * stored as reports/impact/<id>.md, and the short summary `weir impact` and
 * the git hook print.
 */
#include "impact_diff_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* ---- Markdown ---- */

static int md_change(char **md, size_t *n, const json_t *c)
{
    json_t *l = json_is_integer(json_object_get(c, "line_after"))
                    ? json_object_get(c, "line_after")
                    : json_object_get(c, "line_before");
    char *cols = json_dumps(json_object_get(c, "columns_affected"), JSON_COMPACT), line[32] = "-";
    int rc;

    if (json_is_integer(l)) {
        snprintf(line, sizeof(line), "%lld", (long long)json_integer_value(l));
    }
    rc = impact_buf_printf(md, n, "| %s | **%s** | %s | %s | %s |\n", txt(c, "what"),
                           txt(c, "classification"), line, cols ? cols : "[]", txt(c, "reason"));
    free(cols);
    return rc;
}

static int md_refs(char **md, size_t *n, const json_t *f)
{
    json_t *c, *h;
    size_t i, k, count = 0;
    int rc = impact_buf_printf(md, n, "\n### Contract rules and tests\n\n");

    json_array_foreach(json_object_get(f, "changes"), i, c) {
        json_array_foreach(json_object_get(c, "contract_refs"), k, h) {
            count++;
            rc = rc < 0 ? rc
                        : impact_buf_printf(md, n, "- %s `%s` (%s): **%s** - %s (%s)\n",
                                            txt(h, "kind"), txt(h, "name"), txt(h, "severity"),
                                            txt(h, "status"), txt(h, "reason"), txt(c, "what"));
        }
    }
    if (rc == WEIR_OK && !count) {
        rc = impact_buf_printf(md, n,
                               "- none: no rule or test of %s in the store names an "
                               "affected column\n",
                               txt(f, "output"));
    }
    return rc;
}

/* " reads [..] into [..]" for a downstream entry that reads affected columns. */
static int flow(char **buf, size_t *n, const json_t *d, const char *reads_word)
{
    const json_t *read = json_object_get(d, "columns_read"),
                 *into = json_object_get(d, "columns_affected");
    char *a, *b;
    int rc;

    if (!json_array_size(read)) {
        return WEIR_OK;
    }
    a = json_dumps(read, JSON_COMPACT);
    b = json_array_size(into) ? json_dumps(into, JSON_COMPACT) : NULL;
    rc = impact_buf_printf(buf, n, "%s%s%s%s", reads_word, a ? a : "[]", b ? " into " : "",
                           b ? b : "");
    free(a);
    free(b);
    return rc;
}

static int md_downstream(char **md, size_t *n, const json_t *f)
{
    json_t *d;
    size_t i;
    int rc = impact_buf_printf(md, n, "\n### Downstream\n\n");

    json_array_foreach(json_object_get(f, "downstream"), i, d) {
        rc = rc < 0 ? rc
                    : impact_buf_printf(md, n, "- %s (job %s, depth %lld)", txt(d, "table"),
                                        txt(d, "path"),
                                        (long long)json_integer_value(json_object_get(d, "depth")));
        rc = rc < 0 ? rc : flow(md, n, d, ": reads affected columns ");
        rc = rc < 0 ? rc : impact_buf_printf(md, n, "\n");
    }
    if (rc == WEIR_OK && !json_array_size(json_object_get(f, "downstream"))) {
        rc = impact_buf_printf(md, n, "- none found in the jobs directory\n");
    }
    return rc;
}

static int md_side(char **md, size_t *n, const char *label, const json_t *side)
{
    const json_t *rows = json_object_get(side, "row_count");
    char *cols = NULL;
    int rc;

    if (str(side, "error")) {
        return impact_buf_printf(md, n, "- %s query: fails on the engine: %s\n", label,
                                 str(side, "error"));
    }
    cols = json_dumps(json_object_get(side, "columns"), JSON_COMPACT | JSON_SORT_KEYS);
    rc = impact_buf_printf(md, n, "- %s query: %lld rows; sample stats %s\n", label,
                           (long long)json_integer_value(rows), cols ? cols : "{}");
    free(cols);
    return rc;
}

static int md_shadow(char **md, size_t *n, const json_t *sh)
{
    const json_t *cmp = json_object_get(sh, "compare");
    char *text;
    int rc;

    if (!sh) {
        return WEIR_OK;
    }
    if ((rc = impact_buf_printf(md, n, "\n### Shadow run\n\n")) < 0 ||
        (rc = md_side(md, n, "old", json_object_get(sh, "before"))) < 0 ||
        (rc = md_side(md, n, "new", json_object_get(sh, "after"))) < 0 || !cmp) {
        return rc;
    }
    text = json_dumps(cmp, JSON_COMPACT | JSON_SORT_KEYS);
    rc = impact_buf_printf(md, n, "- comparison: %s\n", text ? text : "{}");
    free(text);
    return rc;
}

static int md_file(char **md, size_t *n, const json_t *f)
{
    json_t *c, *s;
    size_t i;
    int rc = impact_buf_printf(md, n,
                               "\n## %s -> %s (%s, %s)\n\n| change | class | line | columns | why "
                               "|\n|---|---|---|---|---|\n",
                               txt(f, "path"), str(f, "output") ? str(f, "output") : "(no output)",
                               txt(f, "state"), txt(f, "status"));

    json_array_foreach(json_object_get(f, "changes"), i, c) {
        rc = rc < 0 ? rc : md_change(md, n, c);
    }
    rc = rc < 0 ? rc : md_refs(md, n, f);
    rc = rc < 0 ? rc : md_shadow(md, n, json_object_get(f, "shadow"));
    rc = rc < 0 ? rc : md_downstream(md, n, f);
    rc = rc < 0 ? rc : impact_buf_printf(md, n, "\n### Suggested contract edits\n\n");
    json_array_foreach(json_object_get(f, "suggested_edits"), i, s) {
        rc = rc < 0 ? rc : impact_buf_printf(md, n, "- %s\n", json_string_value(s));
    }
    if (rc == WEIR_OK && !json_array_size(json_object_get(f, "suggested_edits"))) {
        rc = impact_buf_printf(md, n, "- none\n");
    }
    if (rc == WEIR_OK && str(f, "diff") && *str(f, "diff")) {
        rc = impact_buf_printf(
            md, n, "\n<details><summary>diff</summary>\n\n```diff\n%s```\n\n</details>\n",
            str(f, "diff"));
    }
    return rc;
}

int impact_report_markdown(const json_t *report, char **md)
{
    const json_t *counts = json_object_get(report, "counts");
    size_t n = 0, i;
    json_t *f;
    int rc;

    *md = NULL;
    rc = impact_buf_printf(md, &n,
                           "# Impact report %s\n\n%s (%.12s) .. %s (%.12s)\n\n**Status: %s** (%lld "
                           "breaking, %lld needs review, %lld non-breaking)\n",
                           txt(report, "report_id"), txt(json_object_get(report, "from"), "rev"),
                           txt(json_object_get(report, "from"), "commit"),
                           txt(json_object_get(report, "to"), "rev"),
                           txt(json_object_get(report, "to"), "commit"), txt(report, "status"),
                           (long long)json_integer_value(json_object_get(counts, "breaking")),
                           (long long)json_integer_value(json_object_get(counts, "needs_review")),
                           (long long)json_integer_value(json_object_get(counts, "non_breaking")));
    if (rc == WEIR_OK && str(report, "narrative")) {
        rc = impact_buf_printf(md, &n, "\n%s\n", str(report, "narrative"));
    }
    json_array_foreach(json_object_get(report, "files"), i, f) {
        rc = rc < 0 ? rc : md_file(md, &n, f);
    }
    if (rc < 0) {
        impact_host->free(*md);
        *md = NULL;
    }
    return rc;
}

/* ---- the short text a hook prints ---- */

static int text_shadow(char **t, size_t *n, const json_t *sh)
{
    const json_t *a = json_object_get(sh, "before"), *b = json_object_get(sh, "after");
    const json_t *pct = json_object_get(json_object_get(sh, "compare"), "row_count_change_pct");

    if (!sh) {
        return WEIR_OK;
    }
    if (str(a, "error") || str(b, "error")) {
        return impact_buf_printf(t, n, "  shadow        %s query fails on the engine: %s\n",
                                 str(b, "error") ? "new" : "old",
                                 str(b, "error") ? str(b, "error") : str(a, "error"));
    }
    const json_t *shifts = json_object_get(json_object_get(sh, "compare"), "value_shifts"), *v;
    size_t i;
    int rc = impact_buf_printf(t, n, "  shadow        rows %lld -> %lld (%+.1f%%)",
                               (long long)json_integer_value(json_object_get(a, "row_count")),
                               (long long)json_integer_value(json_object_get(b, "row_count")),
                               json_number_value(pct));

    json_array_foreach(shifts, i, v) {
        rc = rc < 0
                 ? rc
                 : impact_buf_printf(t, n, "%s%s", i ? ", " : "; range moved: ", txt(v, "column"));
    }
    return rc < 0 ? rc : impact_buf_printf(t, n, "\n");
}

static int text_file(char **t, size_t *n, const json_t *f)
{
    json_t *c, *h, *d, *s;
    size_t i, k;
    int rc = impact_buf_printf(t, n, "%s -> %s\n", txt(f, "path"),
                               str(f, "output") ? str(f, "output") : "(no output)");

    json_array_foreach(json_object_get(f, "changes"), i, c) {
        json_t *l = json_is_integer(json_object_get(c, "line_after"))
                        ? json_object_get(c, "line_after")
                        : json_object_get(c, "line_before");
        char at[40] = "";

        if (json_is_integer(l)) {
            snprintf(at, sizeof(at), " (line %lld)", (long long)json_integer_value(l));
        }
        rc = rc < 0 ? rc
                    : impact_buf_printf(t, n, "  %-13s %s%s\n", txt(c, "classification"),
                                        txt(c, "what"), at);
        json_array_foreach(json_object_get(c, "contract_refs"), k, h) {
            rc = rc < 0 ? rc
                        : impact_buf_printf(t, n, "      %s %s (%s) is %s: %s\n", txt(h, "kind"),
                                            txt(h, "name"), txt(h, "severity"), txt(h, "status"),
                                            txt(h, "reason"));
        }
    }
    json_array_foreach(json_object_get(f, "downstream"), i, d) {
        rc = rc < 0 ? rc
                    : impact_buf_printf(t, n, "  downstream    %s (%s)", txt(d, "table"),
                                        txt(d, "path"));
        rc = rc < 0 ? rc : flow(t, n, d, " reads ");
        rc = rc < 0 ? rc : impact_buf_printf(t, n, "\n");
    }
    json_array_foreach(json_object_get(f, "suggested_edits"), i, s) {
        rc = rc < 0 ? rc : impact_buf_printf(t, n, "  suggest       %s\n", json_string_value(s));
    }
    return rc < 0 ? rc : text_shadow(t, n, json_object_get(f, "shadow"));
}

int impact_report_text(const json_t *report, char **t)
{
    const json_t *counts = json_object_get(report, "counts");
    size_t n = 0, i;
    json_t *f;
    int rc = impact_buf_printf(
        t, &n,
        "impact %s: %s (%lld breaking, %lld needs review, %lld non-breaking) in %zu script(s)\n",
        txt(report, "report_id"), txt(report, "status"),
        (long long)json_integer_value(json_object_get(counts, "breaking")),
        (long long)json_integer_value(json_object_get(counts, "needs_review")),
        (long long)json_integer_value(json_object_get(counts, "non_breaking")),
        json_array_size(json_object_get(report, "files")));

    json_array_foreach(json_object_get(report, "files"), i, f) {
        rc = rc < 0 ? rc : text_file(t, &n, f);
    }
    return rc;
}
