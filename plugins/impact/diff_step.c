/*
 * diff_step.c - impact.diff: each changed job script at two revisions, read
 * from the repository's objects, its unified diff, both summaries and the
 * semantic changes between them.
 */
#include "impact_diff_int.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

struct revs {
    const char *from, *to; /* as resolved: a commit hex, or WORKTREE / INDEX */
    char from_hex[41], to_hex[41];
};

static int pick_revs(git_repository *repo, const json_t *input, struct revs *r)
{
    const char *from = json_string_value(json_object_get(input, "from"));
    const char *to = json_string_value(json_object_get(input, "to"));
    int rc;

    if (!to || !*to) {
        to = git_repository_is_bare(repo) ? "HEAD" : IMPACT_REV_WORKTREE;
    }
    rc = from && *from ? impact_git_resolve(repo, from, r->from_hex)
                       : impact_git_default_base(repo, to, r->from_hex);
    if (rc == WEIR_OK) {
        rc = impact_git_resolve(repo, to, r->to_hex);
    }
    r->from = r->from_hex;
    r->to = strcmp(to, IMPACT_REV_WORKTREE) && strcmp(to, IMPACT_REV_INDEX) ? r->to_hex : to;
    return rc;
}

/* A file argument as a path inside the work tree (symlinks resolved on both
 * sides); anything else is taken as a repository path already. */
static json_t *repo_path(git_repository *repo, const char *file)
{
    const char *wd = git_repository_workdir(repo);
    char real[PATH_MAX], root[PATH_MAX];
    size_t n;

    if (wd && realpath(wd, root) && realpath(file, real)) {
        n = strlen(root);
        if (!strncmp(real, root, n) && real[n] == '/') {
            return json_string(real + n + 1);
        }
    }
    return json_string(file[0] == '.' && file[1] == '/' ? file + 2 : file);
}

static int summarize(const char *path, const char *text, size_t len, json_t **sum)
{
    *sum = NULL;
    if (!text) {
        *sum = json_null();
        return WEIR_OK;
    }
    return impact_summarize(path, text, len, IMPACT_LANG_AUTO, sum);
}

/* Length of the valid UTF-8 sequence at p, or 0. */
static size_t utf8_len(const unsigned char *p)
{
    size_t n = *p < 0x80             ? 1
               : (*p & 0xE0) == 0xC0 ? 2
               : (*p & 0xF0) == 0xE0 ? 3
               : (*p & 0xF8) == 0xF0 ? 4
                                     : 0;

    /* no overlong forms, no surrogates, nothing past U+10FFFF (jansson's rules) */
    if (n == 0 || (n == 2 && *p < 0xC2) || (n == 4 && *p > 0xF4) || (*p == 0xE0 && p[1] < 0xA0) ||
        (*p == 0xED && p[1] > 0x9F) || (*p == 0xF0 && p[1] < 0x90) || (*p == 0xF4 && p[1] > 0x8F)) {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80) {
            return 0;
        }
    }
    return n;
}

/* Bytes that are not UTF-8 (a Latin-1 comment, a stray NUL) become '?', so
 * the diff and the sources can travel as JSON strings. */
static void utf8_clean(char *s, size_t len)
{
    for (size_t i = 0; i < len;) {
        size_t n = s[i] ? utf8_len((const unsigned char *)s + i) : 0;

        if (n == 0 || i + n > len) {
            s[i++] = '?';
        }
        else {
            i += n;
        }
    }
}

static int is_sql(const char *path)
{
    size_t n = strlen(path);

    return n > 4 && !strcmp(path + n - 4, ".sql");
}

static int one_file(git_repository *repo, const struct revs *r, const char *path, json_t **out)
{
    char *a = NULL, *b = NULL, *diff = NULL;
    size_t na = 0, nb = 0;
    json_t *sa = NULL, *sb = NULL, *changes = NULL;
    int rc;

    *out = NULL;
    if ((rc = impact_git_read(repo, r->from, path, &a, &na)) < 0 ||
        (rc = impact_git_read(repo, r->to, path, &b, &nb)) < 0) {
        goto done;
    }
    if (!a && !b) {
        rc = impact_host->error_set(WEIR_ENOTFOUND,
                                    "impact.diff: '%s' exists at neither %.12s nor %s; give "
                                    "paths relative to the repository root",
                                    path, r->from, r->to);
        goto done;
    }
    if ((rc = impact_git_unified(path, a, na, b, nb, &diff)) < 0 ||
        (rc = summarize(path, a, na, &sa)) < 0 || (rc = summarize(path, b, nb, &sb)) < 0 ||
        (rc = impact_semdiff(sa, sb, &changes)) < 0) {
        goto done;
    }
    utf8_clean(diff, strlen(diff));
    if (a) {
        utf8_clean(a, na);
    }
    if (b) {
        utf8_clean(b, nb);
    }
    *out = json_pack("{s:s,s:s,s:s,s:O,s:O,s:O,s:s}", "path", path, "state",
                     !a   ? "added"
                     : !b ? "deleted"
                          : "modified",
                     "diff", diff, "before", sa, "after", sb, "changes", changes, "status",
                     impact_changes_status(changes));
    if (*out && is_sql(path)) {
        /* the shadow run of impact.report runs SQL scripts on the engine */
        json_object_set_new(*out, "source_before", a ? json_string(a) : json_null());
        json_object_set_new(*out, "source_after", b ? json_string(b) : json_null());
    }
    rc = *out ? WEIR_OK : impact_host->error_set(WEIR_ENOMEM, "impact.diff: out of memory");
done:
    impact_host->free(a);
    impact_host->free(b);
    impact_host->free(diff);
    json_decref(sa);
    json_decref(sb);
    json_decref(changes);
    return rc;
}

static int file_list(git_repository *repo, const json_t *input, const struct revs *r,
                     json_t **files)
{
    const json_t *given = json_object_get(input, "files");
    const char *jobs = json_string_value(json_object_get(input, "jobs"));
    size_t i;
    json_t *f;

    if (json_array_size(given) == 0) {
        return impact_git_changed(repo, r->from, r->to, jobs, files);
    }
    *files = json_array();
    json_array_foreach(given, i, f) {
        if (!json_is_string(f)) {
            json_decref(*files);
            *files = NULL;
            return impact_host->error_set(WEIR_EINVALID,
                                          "impact.diff: files[%zu] is not a string path", i);
        }
        json_array_append_new(*files, repo_path(repo, json_string_value(f)));
    }
    return WEIR_OK;
}

static const char *report_id(const struct revs *r, char buf[64])
{
    if (r->to == r->to_hex) {
        return r->to_hex;
    }
    snprintf(buf, 64, "%s-%s", r->to_hex, !strcmp(r->to, IMPACT_REV_INDEX) ? "index" : "worktree");
    return buf;
}

static json_t *rev_obj(const char *given, const char *resolved, const char *hex)
{
    return json_pack("{s:s,s:s}", "rev", given && *given ? given : resolved, "commit", hex);
}

static int run_diff(const json_t *input, json_t **out, weir_ctx *ctx, void *payload)
{
    const char *repo_arg = json_string_value(json_object_get(input, "repo"));
    const char *project = ctx ? impact_host->ctx_get(ctx, "project") : NULL;
    git_repository *repo = NULL;
    struct revs r;
    json_t *files = NULL, *results = json_array(), *f;
    char *where = NULL, id[64];
    size_t i;
    int rc;

    (void)payload;
    *out = NULL;
    if (repo_arg && repo_arg[0] != '/' && project &&
        impact_buf_printf(&where, &i, "%s/%s", project, repo_arg) < 0) {
        rc = WEIR_ENOMEM;
        goto done;
    }
    if ((rc = impact_git_open(where      ? where
                              : repo_arg ? repo_arg
                                         : ".",
                              &repo)) < 0 ||
        (rc = pick_revs(repo, input, &r)) < 0 || (rc = file_list(repo, input, &r, &files)) < 0) {
        goto done;
    }
    json_array_foreach(files, i, f) {
        json_t *one = NULL;

        if ((ctx && (rc = impact_host->ctx_check(ctx)) < 0) ||
            (rc = one_file(repo, &r, json_string_value(f), &one)) < 0) {
            goto done;
        }
        json_array_append_new(results, one);
    }
    *out = json_pack("{s:s?,s:o,s:o,s:s,s:O,s:s}", "repo", git_repository_workdir(repo), "from",
                     rev_obj(json_string_value(json_object_get(input, "from")), r.from, r.from_hex),
                     "to", rev_obj(json_string_value(json_object_get(input, "to")), r.to, r.to_hex),
                     "report_id", report_id(&r, id), "files", results, "status",
                     impact_files_status(results));
    if (!*out) {
        rc = impact_host->error_set(WEIR_ENOMEM, "impact.diff: out of memory");
    }
done:
    impact_host->free(where);
    json_decref(files);
    json_decref(results);
    impact_git_close(repo);
    return rc;
}

static const struct weir_param_desc diff_params[] = {
    { "repo", WEIR_PARAM_STRING, 0, "\".\"",
      "a directory inside the git repository (relative to the project)" },
    { "from", WEIR_PARAM_STRING, 0, "\"\"",
      "old revision (\"\": the merge-base of HEAD with main, master or origin/main)" },
    { "to", WEIR_PARAM_STRING, 0, "\"\"",
      "new revision, or WORKTREE / INDEX (\"\": the work tree; HEAD when bare)" },
    { "files", WEIR_PARAM_ARRAY, 0, "[]",
      "scripts to compare, as repository paths ([]: every .py / .sql file that changed)" },
    { "jobs", WEIR_PARAM_STRING, 0, "\"\"",
      "only changed scripts under this repository folder (\"\": anywhere)" },
    { NULL, 0, 0, NULL, NULL },
};

const struct weir_step_desc impact_step_diff = {
    WEIR_STEP_DESC_VERSION,
    "diff",
    NULL,
    "semantic diff of job scripts between two git revisions (read with libgit2)",
    diff_params,
    run_diff,
    NULL,
};
