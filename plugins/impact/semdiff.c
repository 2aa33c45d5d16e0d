/*
 * semdiff.c - the semantic diff of two job summaries (impact.h shape) and
 * the impact.diff step that reads both versions of each script from git.
 *
 * Classification (the spirit of SQLMesh's categories; README "impact.diff"):
 *
 *   change                          classification  why
 *   output_removed                  breaking        the table is no longer written
 *   output_added / input_added      non_breaking    nothing that existed changes
 *   input_removed                   needs_review    columns fed by it change or vanish
 *   column_removed/renamed/retyped  breaking        readers of the old name/type break
 *   column_added                    non_breaking
 *   column_changed (expression)     needs_review    same name, other values
 *   join_type_changed               needs_review    inner -> outer keeps unmatched rows
 *                                                   (nulls in the joined columns, more
 *                                                   rows); outer -> inner drops rows
 *   join_keys_changed/added/removed needs_review    other matches, maybe other grain
 *   filter_added/removed/changed    needs_review    fewer / more / other rows
 *   grain_changed                   breaking        uniqueness of the table changes
 *
 * The report (report.c) escalates a needs_review change to breaking when it
 * makes an error-severity contract rule obsolete.
 */
#include "impact_diff_int.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- small helpers ---- */

int impact_buf_printf(char **buf, size_t *len, const char *fmt, ...)
{
    va_list ap, again;
    size_t have = *buf ? *len : 0;
    char *bigger;
    int n;

    va_start(ap, fmt);
    va_copy(again, ap);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || (bigger = impact_host->realloc(*buf, have + (size_t)n + 1)) == NULL) {
        va_end(again);
        return impact_host->error_set(WEIR_ENOMEM, "impact: out of memory");
    }
    vsnprintf(bigger + have, (size_t)n + 1, fmt, again);
    va_end(again);
    *buf = bigger;
    *len = have + (size_t)n;
    return WEIR_OK;
}

static int is_word(int c)
{
    return isalnum(c) || c == '_';
}

int impact_word_in(const char *text, const char *word)
{
    size_t n = strlen(word);

    if (!text || !n) {
        return 0;
    }
    for (const char *p = text; *p; p++) {
        if (strncasecmp(p, word, n) == 0 && (p == text || !is_word((unsigned char)p[-1])) &&
            !is_word((unsigned char)p[n])) {
            return 1;
        }
    }
    return 0;
}

static const char *str(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static json_t *line_of(const json_t *o)
{
    json_t *l = json_object_get(o, "line");

    return json_is_integer(l) ? json_incref(l) : json_null();
}

/* Whitespace collapsed, so a reformatted expression is the same expression. */
static char *norm(const char *s)
{
    char *out = impact_host->malloc(strlen(s ? s : "") + 1), *w = out;
    int space = 0;

    if (!out) {
        return NULL;
    }
    for (const char *p = s ? s : ""; *p; p++) {
        if (isspace((unsigned char)*p)) {
            space = w != out;
            continue;
        }
        if (space) {
            *w++ = ' ';
            space = 0;
        }
        *w++ = *p;
    }
    *w = '\0';
    return out;
}

static int same_text(const char *a, const char *b)
{
    char *x = norm(a), *y = norm(b);
    int same = x && y && !strcmp(x, y);

    impact_host->free(x);
    impact_host->free(y);
    return same;
}

static int in_names(const json_t *arr, const char *name)
{
    size_t i;
    json_t *v;

    json_array_foreach(arr, i, v) {
        if (json_is_string(v) && !strcmp(json_string_value(v), name)) {
            return 1;
        }
    }
    return 0;
}

static int add(json_t *changes, const char *kind, const char *cls, json_t *before, json_t *after,
               json_t *lb, json_t *la, json_t *cols, const char *what, const char *reason)
{
    json_t *c = json_pack("{s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:s,s:s}", "kind", kind, "what", what,
                          "before", before ? before : json_null(), "after",
                          after ? after : json_null(), "line_before", lb ? lb : json_null(),
                          "line_after", la ? la : json_null(), "columns_affected",
                          cols ? cols : json_array(), "classification", cls, "reason", reason);

    if (!c || json_array_append_new(changes, c) < 0) {
        return impact_host->error_set(WEIR_ENOMEM, "impact: out of memory");
    }
    return WEIR_OK;
}

/* Identifiers of an expression outside quotes: the columns it can touch. */
static json_t *idents(const char *expr)
{
    static const char *const kw[] = { "and",   "or",      "not",    "in",        "is",     "null",
                                      "like",  "between", "true",   "false",     "col",    "f",
                                      "lit",   "isin",    "isnull", "isnotnull", "select", "from",
                                      "where", "case",    "when",   "then",      "else",   "end",
                                      "cast",  "as" };
    json_t *out = json_array();
    const char *p = expr ? expr : "";

    while (out && *p) {
        if (*p == '\'' || *p == '"') {
            char q = *p++;

            p += strcspn(p, q == '\'' ? "'" : "\"");
            p += *p != '\0';
            continue;
        }
        if (!(isalpha((unsigned char)*p) || *p == '_')) {
            p++;
            continue;
        }
        size_t n = 0, k;

        while (is_word((unsigned char)p[n])) {
            n++;
        }
        for (k = 0; k < sizeof(kw) / sizeof(kw[0]); k++) {
            if (strlen(kw[k]) == n && !strncasecmp(p, kw[k], n)) {
                break;
            }
        }
        /* skip function names and table qualifiers (f.status: status) */
        if (k == sizeof(kw) / sizeof(kw[0]) && p[n] != '(' && p[n] != '.') {
            json_t *s = json_stringn(p, n);

            if (s && !in_names(out, json_string_value(s))) {
                json_array_append(out, s);
            }
            json_decref(s);
        }
        p += n;
    }
    return out;
}

/* ---- inputs and outputs ---- */

static json_t *target_names(const json_t *sum)
{
    json_t *out = json_array(), *t;
    size_t i;

    json_array_foreach(json_object_get(sum, "targets"), i, t) {
        if (str(t, "name") && !in_names(out, str(t, "name"))) {
            json_array_append_new(out, json_string(str(t, "name")));
        }
    }
    if (json_array_size(out) == 0 && str(sum, "output")) {
        json_array_append_new(out, json_string(str(sum, "output")));
    }
    return out;
}

static json_t *find_named(const json_t *arr, const char *key, const char *name)
{
    size_t i;
    json_t *v;

    json_array_foreach(arr, i, v) {
        if (str(v, key) && !strcmp(str(v, key), name)) {
            return v;
        }
    }
    return NULL;
}

static int diff_sets(json_t *changes, const json_t *a, const json_t *b, const json_t *deta,
                     const json_t *detb, const char *noun)
{
    char kind[32], what[600];
    size_t i;
    json_t *v;
    int rc = WEIR_OK;

    json_array_foreach(a, i, v) {
        if (rc == WEIR_OK && json_is_string(v) && !in_names(b, json_string_value(v))) {
            json_t *d = find_named(deta, "name", json_string_value(v));

            snprintf(kind, sizeof(kind), "%s_removed", noun);
            snprintf(what, sizeof(what), "%s %s removed", noun, json_string_value(v));
            rc = add(changes, kind, !strcmp(noun, "output") ? "breaking" : "needs_review",
                     json_incref(v), NULL, d ? line_of(d) : NULL, NULL, NULL, what,
                     !strcmp(noun, "output")
                         ? "the job no longer writes this table: its readers get no new data"
                         : "columns fed by this input change or disappear");
        }
    }
    json_array_foreach(b, i, v) {
        if (rc == WEIR_OK && json_is_string(v) && !in_names(a, json_string_value(v))) {
            json_t *d = find_named(detb, "name", json_string_value(v));

            snprintf(kind, sizeof(kind), "%s_added", noun);
            snprintf(what, sizeof(what), "%s %s added", noun, json_string_value(v));
            rc = add(changes, kind, "non_breaking", NULL, json_incref(v), NULL,
                     d ? line_of(d) : NULL, NULL, what, "nothing that existed changes");
        }
    }
    return rc;
}

/* ---- joins ---- */

static const char *join_how(const json_t *j)
{
    return str(j, "how") ? str(j, "how") : "inner";
}

static int outer_of(const char *how)
{
    return !strcmp(how, "left") || !strcmp(how, "right") || !strcmp(how, "full") ||
           !strcmp(how, "outer") || !strcmp(how, "left_outer") || !strcmp(how, "full_outer");
}

static int diff_one_join(json_t *changes, const json_t *ja, const json_t *jb, const char *table)
{
    const char *ha = join_how(ja), *hb = join_how(jb);
    json_t *ka = json_object_get(ja, "columns"), *kb = json_object_get(jb, "columns");
    char what[600], reason[600];
    int rc = WEIR_OK;

    if (strcmp(ha, hb) != 0) {
        snprintf(what, sizeof(what), "join with %s: %s -> %s", table, ha, hb);
        snprintf(reason, sizeof(reason),
                 outer_of(hb) && !outer_of(ha)
                     ? "rows without a match in %s are now kept: more rows, and the columns "
                       "it provides can be null"
                     : "rows without a match in %s may now be dropped or duplicated: the row "
                       "count and grain can change",
                 table);
        rc = add(changes, "join_type_changed", "needs_review", json_string(ha), json_string(hb),
                 line_of(ja), line_of(jb), NULL, what, reason);
        if (rc == WEIR_OK) {
            json_t *last = json_array_get(changes, json_array_size(changes) - 1);

            json_object_set_new(last, "right_table", json_string(table));
        }
    }
    if (rc == WEIR_OK && (ka || kb) && !json_equal(ka, kb)) {
        snprintf(what, sizeof(what), "join keys with %s changed", table);
        rc = add(changes, "join_keys_changed", "needs_review", json_deep_copy(ka),
                 json_deep_copy(kb), line_of(ja), line_of(jb), json_deep_copy(kb), what,
                 "other rows match: values of the joined columns and the row count can change");
    }
    return rc;
}

static int diff_joins(json_t *changes, const json_t *a, const json_t *b)
{
    json_t *ja = json_object_get(a, "join_keys"), *jb = json_object_get(b, "join_keys"), *j;
    char what[600];
    size_t i;
    int rc = WEIR_OK;

    json_array_foreach(ja, i, j) {
        const char *t = str(j, "right_table") ? str(j, "right_table") : "?";
        json_t *other = find_named(jb, "right_table", t);

        if (rc == WEIR_OK && other) {
            rc = diff_one_join(changes, j, other, t);
        }
        else if (rc == WEIR_OK) {
            snprintf(what, sizeof(what), "%s join with %s removed", join_how(j), t);
            rc = add(changes, "join_removed", "needs_review", json_deep_copy(j), NULL, line_of(j),
                     NULL, NULL, what, "columns from the joined table are gone or change");
        }
    }
    json_array_foreach(jb, i, j) {
        const char *t = str(j, "right_table") ? str(j, "right_table") : "?";

        if (rc == WEIR_OK && !find_named(ja, "right_table", t)) {
            snprintf(what, sizeof(what), "%s join with %s added", join_how(j), t);
            rc = add(changes, "join_added", "needs_review", NULL, json_deep_copy(j), NULL,
                     line_of(j), json_deep_copy(json_object_get(j, "columns")), what,
                     outer_of(join_how(j)) ? "adds columns; duplicate keys would add rows"
                                           : "rows without a match are now dropped");
        }
    }
    return rc;
}

/* ---- filters ---- */

static json_t *filter_list(const json_t *sum)
{
    json_t *d = json_object_get(sum, "filter_details"), *out, *f;
    size_t i;

    if (json_array_size(d)) {
        return json_incref(d);
    }
    out = json_array();
    json_array_foreach(json_object_get(sum, "filters"), i, f) {
        if (json_is_string(f)) {
            json_array_append_new(out, json_pack("{s:O}", "expr", f));
        }
    }
    return out;
}

static int has_filter(const json_t *list, const char *expr)
{
    size_t i;
    json_t *f;

    json_array_foreach(list, i, f) {
        if (same_text(str(f, "expr"), expr)) {
            return 1;
        }
    }
    return 0;
}

/* A removed and an added filter on the same first column are one change. */
static json_t *partner(const json_t *added, const json_t *removed_f, unsigned char *used)
{
    json_t *ir = idents(str(removed_f, "expr")), *f, *found = NULL;
    size_t i;

    json_array_foreach(added, i, f) {
        json_t *ia = idents(str(f, "expr"));

        if (!found && !used[i] && json_array_size(ir) && json_array_size(ia) &&
            !strcmp(json_string_value(json_array_get(ir, 0)),
                    json_string_value(json_array_get(ia, 0)))) {
            found = f;
            used[i] = 1;
        }
        json_decref(ia);
    }
    json_decref(ir);
    return found;
}

static int diff_filters(json_t *changes, const json_t *a, const json_t *b)
{
    json_t *fa = filter_list(a), *fb = filter_list(b), *added = json_array(), *f;
    unsigned char *used = NULL;
    char what[900];
    size_t i;
    int rc = WEIR_OK;

    json_array_foreach(fb, i, f) {
        if (!has_filter(fa, str(f, "expr"))) {
            json_array_append(added, f);
        }
    }
    used = impact_host->malloc(json_array_size(added) + 1);
    if (!fa || !fb || !added || !used) {
        rc = impact_host->error_set(WEIR_ENOMEM, "impact: out of memory");
        goto done;
    }
    memset(used, 0, json_array_size(added) + 1);
    json_array_foreach(fa, i, f) {
        json_t *p;

        if (rc < 0 || has_filter(fb, str(f, "expr"))) {
            continue;
        }
        if ((p = partner(added, f, used)) != NULL) {
            snprintf(what, sizeof(what), "filter changed: %s -> %s", str(f, "expr"),
                     str(p, "expr"));
            rc = add(changes, "filter_changed", "needs_review", json_string(str(f, "expr")),
                     json_string(str(p, "expr")), line_of(f), line_of(p), idents(str(p, "expr")),
                     what, "other rows pass the filter");
        }
        else {
            snprintf(what, sizeof(what), "filter removed: %s", str(f, "expr"));
            rc = add(changes, "filter_removed", "needs_review", json_string(str(f, "expr")), NULL,
                     line_of(f), NULL, idents(str(f, "expr")), what,
                     "rows the filter dropped are now kept: more rows, values outside the old "
                     "filter appear");
        }
    }
    json_array_foreach(added, i, f) {
        if (rc == WEIR_OK && !used[i]) {
            snprintf(what, sizeof(what), "filter added: %s", str(f, "expr"));
            rc = add(changes, "filter_added", "needs_review", NULL, json_string(str(f, "expr")),
                     NULL, line_of(f), idents(str(f, "expr")), what,
                     "rows that fail it are dropped: fewer rows");
        }
    }
done:
    impact_host->free(used);
    json_decref(fa);
    json_decref(fb);
    json_decref(added);
    return rc;
}

/* ---- columns ---- */

/* The columns the job ends with: name -> its last entry; drops remove. */
static json_t *final_columns(const json_t *sum)
{
    json_t *out = json_object(), *c;
    size_t i;

    json_array_foreach(json_object_get(sum, "columns"), i, c) {
        const char *name = str(c, "name"), *op = str(c, "op");

        if (!name) {
            continue;
        }
        if (op && !strcmp(op, "drop")) {
            json_object_del(out, name);
            continue;
        }
        if (op && !strcmp(op, "rename") && str(c, "from")) {
            json_object_del(out, str(c, "from"));
        }
        json_object_set(out, name, c);
    }
    return out;
}

/* Where a column's values come from, to recognise it under a new name;
 * failing that, the same select item (same line and op) under a new name. */
static int same_origin(const json_t *a, const json_t *b, int by_line)
{
    if (by_line) {
        json_t *la = json_object_get(a, "line"), *lb = json_object_get(b, "line");

        return json_is_integer(la) && json_equal(la, lb) && str(a, "op") && str(b, "op") &&
               !strcmp(str(a, "op"), str(b, "op"));
    }
    json_t *sa = json_object_get(a, "sources"), *sb = json_object_get(b, "sources");

    if (str(a, "from") && str(b, "from")) {
        return !strcmp(str(a, "from"), str(b, "from"));
    }
    if (json_array_size(sa) && json_equal(sa, sb)) {
        return 1;
    }
    return str(a, "expr") && str(b, "expr") && same_text(str(a, "expr"), str(b, "expr"));
}

static int col_change(json_t *changes, const char *kind, const char *cls, const char *name,
                      json_t *before, json_t *after, const json_t *ca, const json_t *cb,
                      const char *what, const char *reason)
{
    json_t *cols = json_array();

    json_array_append_new(cols, json_string(name));
    return add(changes, kind, cls, before, after, ca ? line_of(ca) : NULL, cb ? line_of(cb) : NULL,
               cols, what, reason);
}

static int diff_kept(json_t *changes, const char *name, const json_t *ca, const json_t *cb)
{
    const char *ta = str(ca, "type"), *tb = str(cb, "type");
    char what[900];

    if ((ta || tb) && !(ta && tb && !strcasecmp(ta, tb))) {
        snprintf(what, sizeof(what), "column %s retyped: %s -> %s", name, ta ? ta : "(inferred)",
                 tb ? tb : "(inferred)");
        return col_change(changes, "column_retyped", "breaking", name, ta ? json_string(ta) : NULL,
                          tb ? json_string(tb) : NULL, ca, cb, what,
                          "readers and the contract expect the old type");
    }
    if (str(ca, "expr") && str(cb, "expr") && !same_text(str(ca, "expr"), str(cb, "expr"))) {
        snprintf(what, sizeof(what), "column %s computed differently", name);
        return col_change(changes, "column_changed", "needs_review", name,
                          json_string(str(ca, "expr")), json_string(str(cb, "expr")), ca, cb, what,
                          "same name, other values: ranges and allowed values may no longer hold");
    }
    return WEIR_OK;
}

static int diff_columns(json_t *changes, const json_t *a, const json_t *b)
{
    json_t *ma = final_columns(a), *mb = final_columns(b), *ca, *cb, *matched = json_object();
    const char *name, *other;
    char what[900];
    int rc = WEIR_OK;

    json_object_foreach(ma, name, ca) {
        if (rc < 0) {
            break;
        }
        if ((cb = json_object_get(mb, name)) != NULL) {
            rc = diff_kept(changes, name, ca, cb);
            continue;
        }
        json_t *to = NULL;

        for (int by_line = 0; by_line < 2 && !to; by_line++) {
            json_object_foreach(mb, other, cb) {
                if (!to && !json_object_get(ma, other) && !json_object_get(matched, other) &&
                    same_origin(ca, cb, by_line)) {
                    to = cb;
                    json_object_set_new(matched, other, json_true());
                }
            }
        }
        if (to) {
            snprintf(what, sizeof(what), "column %s renamed to %s", name, str(to, "name"));
            rc = col_change(changes, "column_renamed", "breaking", name, json_string(name),
                            json_string(str(to, "name")), ca, to, what,
                            "readers of the old name break; rules and tests on it no longer apply");
        }
        else {
            snprintf(what, sizeof(what), "column %s removed", name);
            rc = col_change(changes, "column_removed", "breaking", name, json_string(name), NULL,
                            ca, NULL, what, "readers of the column break");
        }
    }
    json_object_foreach(mb, name, cb) {
        if (rc == WEIR_OK && !json_object_get(ma, name) && !json_object_get(matched, name)) {
            snprintf(what, sizeof(what), "column %s added", name);
            rc = col_change(changes, "column_added", "non_breaking", name, NULL, json_string(name),
                            NULL, cb, what, "existing readers are unaffected");
        }
    }
    json_decref(ma);
    json_decref(mb);
    json_decref(matched);
    return rc;
}

/* ---- grain ---- */

static int same_set(const json_t *a, const json_t *b)
{
    size_t i;
    json_t *v;

    if (json_array_size(a) != json_array_size(b)) {
        return 0;
    }
    json_array_foreach(a, i, v) {
        if (!json_is_string(v) || !in_names(b, json_string_value(v))) {
            return 0;
        }
    }
    return 1;
}

static int diff_grain(json_t *changes, const json_t *a, const json_t *b)
{
    json_t *ga = json_object_get(a, "grain"), *gb = json_object_get(b, "grain");
    json_t *da = json_array_get(json_object_get(a, "grain_details"), 0);
    json_t *db = json_array_get(json_object_get(b, "grain_details"), 0);

    if (same_set(ga, gb)) {
        return WEIR_OK;
    }
    return add(changes, "grain_changed", "breaking", json_deep_copy(ga ? ga : json_null()),
               json_deep_copy(gb ? gb : json_null()), da ? line_of(da) : NULL,
               db ? line_of(db) : NULL, json_deep_copy(gb && json_array_size(gb) ? gb : ga),
               "grain changed", "one row no longer means the same thing; uniqueness checks change");
}

int impact_semdiff(const json_t *before, const json_t *after, json_t **changes)
{
    json_t *empty = json_object(), *ta = NULL, *tb = NULL;
    const json_t *a = json_is_object(before) ? before : empty;
    const json_t *b = json_is_object(after) ? after : empty;
    int rc;

    *changes = json_array();
    ta = target_names(a);
    tb = target_names(b);
    if (!*changes || !empty || !ta || !tb) {
        rc = impact_host->error_set(WEIR_ENOMEM, "impact: out of memory");
        goto done;
    }
    if ((rc = diff_sets(*changes, ta, tb, json_object_get(a, "targets"),
                        json_object_get(b, "targets"), "output")) < 0 ||
        (rc = diff_sets(*changes, json_object_get(a, "inputs"), json_object_get(b, "inputs"),
                        json_object_get(a, "sources"), json_object_get(b, "sources"), "input")) <
            0 ||
        (rc = diff_joins(*changes, a, b)) < 0 || (rc = diff_filters(*changes, a, b)) < 0 ||
        (rc = diff_columns(*changes, a, b)) < 0) {
        goto done;
    }
    rc = json_is_object(before) && json_is_object(after) ? diff_grain(*changes, a, b) : WEIR_OK;
done:
    if (rc < 0) {
        json_decref(*changes);
        *changes = NULL;
    }
    json_decref(ta);
    json_decref(tb);
    json_decref(empty);
    return rc;
}

const char *impact_changes_status(const json_t *changes)
{
    const char *status = "ok";
    size_t i;
    json_t *c;

    json_array_foreach(changes, i, c) {
        const char *cls = str(c, "classification");

        if (cls && !strcmp(cls, "breaking")) {
            return "breaking";
        }
        if (cls && !strcmp(cls, "needs_review")) {
            status = "needs_review";
        }
    }
    return status;
}

const char *impact_files_status(const json_t *files)
{
    const char *status = "ok";
    size_t i;
    json_t *f;

    json_array_foreach(files, i, f) {
        const char *st = impact_changes_status(json_object_get(f, "changes"));

        if (!strcmp(st, "breaking")) {
            return st;
        }
        if (!strcmp(st, "needs_review")) {
            status = st;
        }
    }
    return status;
}
