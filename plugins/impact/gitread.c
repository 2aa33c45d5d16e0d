/*
 * gitread.c - script versions straight from the repository's objects with
 * libgit2: no `git` process, no checkout, so a hook or CI job reads any two
 * revisions without touching the work tree.
 */
#include "impact_diff_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Scripts beyond this are not job scripts; impact_summarize refuses them too. */
#define MAX_SCRIPT (8u << 20)

static int git_fail(int code, const char *what, const char *arg)
{
    const git_error *e = git_error_last();

    return impact_host->error_set(code, "impact: %s '%s': %s", what, arg ? arg : "",
                                  e && e->message ? e->message : "libgit2 error");
}

int impact_git_open(const char *path, git_repository **repo)
{
    *repo = NULL;
    git_libgit2_init();
    if (git_repository_open_ext(repo, path, 0, NULL) < 0) {
        git_libgit2_shutdown();
        *repo = NULL;
        return impact_host->error_set(WEIR_ENOTFOUND,
                                      "impact: '%s' is not inside a git repository; pass the "
                                      "repository with repo (--repo DIR)",
                                      path);
    }
    return WEIR_OK;
}

void impact_git_close(git_repository *repo)
{
    if (repo) {
        git_repository_free(repo);
        git_libgit2_shutdown();
    }
}

static int is_pseudo(const char *rev)
{
    return !rev || !strcmp(rev, IMPACT_REV_WORKTREE) || !strcmp(rev, IMPACT_REV_INDEX);
}

static int peel_commit(git_repository *repo, const char *rev, git_commit **commit)
{
    git_object *obj = NULL;
    int rc = WEIR_OK;

    if (git_revparse_single(&obj, repo, is_pseudo(rev) ? "HEAD" : rev) < 0 ||
        git_object_peel((git_object **)commit, obj, GIT_OBJECT_COMMIT) < 0) {
        const git_error *e = git_error_last();

        rc = impact_host->error_set(WEIR_ENOTFOUND,
                                    "impact: revision '%s' is not a commit of the repository "
                                    "(%s); give a branch, tag or commit id that exists there",
                                    is_pseudo(rev) ? "HEAD" : rev,
                                    e && e->message ? e->message : "not found");
    }
    git_object_free(obj);
    return rc;
}

int impact_git_resolve(git_repository *repo, const char *rev, char hex[41])
{
    git_commit *c = NULL;
    int rc = peel_commit(repo, rev, &c);

    if (rc == WEIR_OK) {
        git_oid_tostr(hex, 41, git_commit_id(c));
    }
    git_commit_free(c);
    return rc;
}

int impact_git_default_base(git_repository *repo, const char *to, char hex[41])
{
    static const char *const mains[] = { "main", "master", "origin/main", "origin/master" };
    git_commit *head = NULL, *other = NULL;
    git_oid base;
    size_t i;
    int rc;

    if ((rc = peel_commit(repo, to, &head)) < 0) {
        return rc;
    }
    git_oid_tostr(hex, 41, git_commit_id(head));
    for (i = 0; i < sizeof(mains) / sizeof(mains[0]); i++) {
        git_object *obj = NULL;

        if (git_revparse_single(&obj, repo, mains[i]) == 0 &&
            git_object_peel((git_object **)&other, obj, GIT_OBJECT_COMMIT) == 0) {
            git_object_free(obj);
            break;
        }
        git_object_free(obj);
    }
    if (other && git_merge_base(&base, repo, git_commit_id(head), git_commit_id(other)) == 0) {
        git_oid_tostr(hex, 41, &base);
    }
    git_commit_free(other);
    git_commit_free(head);
    return WEIR_OK;
}

static int copy_out(const char *data, size_t n, char **text, size_t *len)
{
    if (n > MAX_SCRIPT) {
        return impact_host->error_set(WEIR_ETOOBIG, "impact: script of %zu bytes is over 8 MiB", n);
    }
    if ((*text = impact_host->malloc(n + 1)) == NULL) {
        return impact_host->error_set(WEIR_ENOMEM, "impact: out of memory");
    }
    memcpy(*text, data, n);
    (*text)[n] = '\0';
    *len = n;
    return WEIR_OK;
}

static int read_blob(git_repository *repo, const git_oid *id, const char *path, char **text,
                     size_t *len)
{
    git_blob *blob = NULL;
    int rc;

    if (git_blob_lookup(&blob, repo, id) < 0) {
        return git_fail(WEIR_EIO, "cannot read the blob of", path);
    }
    rc = copy_out(git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob), text, len);
    git_blob_free(blob);
    return rc;
}

static int read_worktree(git_repository *repo, const char *path, char **text, size_t *len)
{
    const char *wd = git_repository_workdir(repo);
    char *full = NULL, *data = NULL;
    size_t n = 0, cap = 0;
    FILE *f = NULL;
    int rc = WEIR_OK;

    if (!wd) {
        return impact_host->error_set(WEIR_EINVALID,
                                      "impact: the repository is bare: give a revision, not %s",
                                      IMPACT_REV_WORKTREE);
    }
    if ((rc = impact_buf_printf(&full, &n, "%s%s", wd, path)) < 0) {
        goto done;
    }
    n = 0;
    if ((f = fopen(full, "rb")) == NULL) {
        goto done; /* absent in the work tree: deleted */
    }
    for (;;) {
        if (n == cap) {
            char *bigger = cap > MAX_SCRIPT ? NULL : impact_host->realloc(data, cap * 2 + 4096);

            if (!bigger) {
                rc = cap > MAX_SCRIPT
                         ? copy_out(data, n, text, len)
                         : impact_host->error_set(WEIR_ENOMEM, "impact: out of memory");
                goto done;
            }
            data = bigger;
            cap = cap * 2 + 4096;
        }
        size_t got = fread(data + n, 1, cap - n, f);

        if (got == 0) {
            break;
        }
        n += got;
    }
    rc = ferror(f) ? impact_host->error_set(WEIR_EIO, "impact: cannot read '%s'", full)
                   : copy_out(data ? data : "", n, text, len);
done:
    if (f) {
        fclose(f);
    }
    impact_host->free(data);
    impact_host->free(full);
    return rc;
}

static int read_index(git_repository *repo, const char *path, char **text, size_t *len)
{
    git_index *index = NULL;
    const git_index_entry *e;
    int rc = WEIR_OK;

    if (git_repository_index(&index, repo) < 0) {
        return git_fail(WEIR_EIO, "cannot read the index of", git_repository_path(repo));
    }
    if ((e = git_index_get_bypath(index, path, 0)) != NULL) {
        rc = read_blob(repo, &e->id, path, text, len);
    }
    git_index_free(index);
    return rc;
}

int impact_git_read(git_repository *repo, const char *rev, const char *path, char **text,
                    size_t *len)
{
    git_commit *c = NULL;
    git_tree *tree = NULL;
    git_tree_entry *e = NULL;
    int rc;

    *text = NULL;
    *len = 0;
    if (!rev || !strcmp(rev, IMPACT_REV_WORKTREE)) {
        return read_worktree(repo, path, text, len);
    }
    if (!strcmp(rev, IMPACT_REV_INDEX)) {
        return read_index(repo, path, text, len);
    }
    if ((rc = peel_commit(repo, rev, &c)) < 0) {
        return rc;
    }
    if (git_commit_tree(&tree, c) < 0) {
        rc = git_fail(WEIR_EIO, "cannot read the tree of", rev);
        goto done;
    }
    if (git_tree_entry_bypath(&e, tree, path) == 0 && git_tree_entry_type(e) == GIT_OBJECT_BLOB) {
        rc = read_blob(repo, git_tree_entry_id(e), path, text, len);
    }
done:
    git_tree_entry_free(e);
    git_tree_free(tree);
    git_commit_free(c);
    return rc;
}

static int is_script(const char *path, const char *prefix)
{
    size_t n = strlen(path), p = prefix ? strlen(prefix) : 0;

    if (p && (strncmp(path, prefix, p) != 0 || (prefix[p - 1] != '/' && path[p] != '/'))) {
        return 0;
    }
    return (n > 3 && !strcmp(path + n - 3, ".py")) || (n > 4 && !strcmp(path + n - 4, ".sql"));
}

static int commit_tree(git_repository *repo, const char *rev, git_tree **tree)
{
    git_commit *c = NULL;
    int rc = peel_commit(repo, rev, &c);

    if (rc == WEIR_OK && git_commit_tree(tree, c) < 0) {
        rc = git_fail(WEIR_EIO, "cannot read the tree of", rev);
    }
    git_commit_free(c);
    return rc;
}

static int make_diff(git_repository *repo, const char *from, const char *to, git_diff **diff)
{
    git_diff_options opts;
    git_tree *a = NULL, *b = NULL;
    int rc, g;

    git_diff_options_init(&opts, GIT_DIFF_OPTIONS_VERSION);
    opts.flags = GIT_DIFF_INCLUDE_UNTRACKED | GIT_DIFF_RECURSE_UNTRACKED_DIRS;
    if ((rc = commit_tree(repo, from, &a)) < 0) {
        return rc;
    }
    if (!to || !strcmp(to, IMPACT_REV_WORKTREE)) {
        g = git_diff_tree_to_workdir_with_index(diff, repo, a, &opts);
    }
    else if (!strcmp(to, IMPACT_REV_INDEX)) {
        g = git_diff_tree_to_index(diff, repo, a, NULL, &opts);
    }
    else if ((rc = commit_tree(repo, to, &b)) < 0) {
        git_tree_free(a);
        return rc;
    }
    else {
        g = git_diff_tree_to_tree(diff, repo, a, b, &opts);
    }
    if (g < 0) {
        rc = git_fail(WEIR_EIO, "cannot diff against", from);
    }
    git_tree_free(a);
    git_tree_free(b);
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int impact_git_changed(git_repository *repo, const char *from, const char *to, const char *prefix,
                       json_t **paths)
{
    git_diff *diff = NULL;
    const char **names = NULL;
    size_t i, n, k = 0;
    int rc;

    *paths = NULL;
    if ((rc = make_diff(repo, from, to, &diff)) < 0) {
        return rc;
    }
    n = git_diff_num_deltas(diff);
    if ((names = impact_host->malloc((n + 1) * sizeof(*names))) == NULL ||
        (*paths = json_array()) == NULL) {
        rc = impact_host->error_set(WEIR_ENOMEM, "impact: out of memory");
        goto done;
    }
    for (i = 0; i < n; i++) {
        const git_diff_delta *d = git_diff_get_delta(diff, i);
        const char *p = d->new_file.path ? d->new_file.path : d->old_file.path;

        if (p && is_script(p, prefix)) {
            names[k++] = p;
        }
    }
    qsort(names, k, sizeof(*names), cmp_str);
    for (i = 0; i < k; i++) {
        if (json_array_append_new(*paths, json_string(names[i])) < 0) {
            rc = impact_host->error_set(WEIR_ENOMEM, "impact: out of memory");
        }
    }
done:
    if (rc < 0) {
        json_decref(*paths);
        *paths = NULL;
    }
    impact_host->free(names);
    git_diff_free(diff);
    return rc;
}

int impact_git_unified(const char *path, const char *old, size_t old_len, const char *new_text,
                       size_t new_len, char **diff)
{
    git_diff_options opts;
    git_patch *patch = NULL;
    git_buf buf = GIT_BUF_INIT;
    int rc = WEIR_OK;

    *diff = NULL;
    git_libgit2_init();
    git_diff_options_init(&opts, GIT_DIFF_OPTIONS_VERSION);
    opts.context_lines = 3;
    if (git_patch_from_buffers(&patch, old, old ? old_len : 0, path, new_text,
                               new_text ? new_len : 0, path, &opts) < 0 ||
        (patch && git_patch_to_buf(&buf, patch) < 0)) {
        rc = git_fail(WEIR_ERROR, "cannot diff", path);
        goto done;
    }
    if ((*diff = impact_host->malloc(buf.size + 1)) == NULL) {
        rc = impact_host->error_set(WEIR_ENOMEM, "impact: out of memory");
        goto done;
    }
    if (buf.size) {
        memcpy(*diff, buf.ptr, buf.size);
    }
    (*diff)[buf.size] = '\0';
done:
    git_buf_dispose(&buf);
    git_patch_free(patch);
    git_libgit2_shutdown();
    return rc;
}
