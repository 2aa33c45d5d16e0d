/*
 * test_git.c - reading script versions with libgit2 (gitread.c) and the
 * impact.diff step, on real repositories made with libgit2 in a temp dir:
 * v1 and v2 committed on main, a feature branch, a staged and an unstaged
 * edit; both versions read back byte for byte, the changed scripts listed,
 * the unified diff, the merge base, and the errors for a missing revision
 * and a directory outside any repository.
 */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "impact_diff_int.h"
#include "plugins.h"

const struct weir_host_api *impact_host;

static const char V1[] = "df = spark.table(\"raw.p\")\n"
                         "df = df.filter(\"amount > 0\")\n"
                         "df.write.saveAsTable(\"a.fact\")\n";
static const char V2[] = "df = spark.table(\"raw.p\")\n"
                         "df = df.filter(\"amount > 10\")\n"
                         "df.write.saveAsTable(\"a.fact\")\n";

struct fx {
    char *dir;
    git_repository *repo;
    char c1[41], c2[41], c3[41];
};

static void ok(int rc)
{
    if (rc < 0) {
        const git_error *e = git_error_last();

        fail_msg("libgit2: %s", e ? e->message : "?");
    }
}

/* Stages the files of the work tree and commits them on HEAD. */
static void commit_all(git_repository *repo, const char *msg, char hex[41])
{
    git_index *index = NULL;
    git_oid tree_id, id;
    git_tree *tree = NULL;
    git_signature *sig = NULL;
    git_object *parent = NULL;
    git_reference *ref = NULL;

    ok(git_repository_index(&index, repo));
    ok(git_index_add_all(index, NULL, 0, NULL, NULL));
    ok(git_index_write(index));
    ok(git_index_write_tree(&tree_id, index));
    ok(git_tree_lookup(&tree, repo, &tree_id));
    ok(git_signature_new(&sig, "t", "t@weir.invalid", 1700000000, 0));
    if (git_revparse_ext(&parent, &ref, repo, "HEAD") == 0) {
        git_object *c = NULL;

        ok(git_object_peel(&c, parent, GIT_OBJECT_COMMIT));
        git_object_free(parent);
        parent = c;
    }
    ok(git_commit_create_v(&id, repo, "HEAD", sig, sig, NULL, msg, tree, parent ? 1 : 0,
                           (const git_commit *)parent));
    git_oid_tostr(hex, 41, &id);
    git_object_free(parent);
    git_reference_free(ref);
    git_signature_free(sig);
    git_tree_free(tree);
    git_index_free(index);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    git_repository_init_options o;
    git_reference *br = NULL;
    git_commit *c = NULL;
    git_oid id;

    impact_host = weir_host_api_get();
    git_libgit2_init();
    f->dir = tu_mkdtemp();
    git_repository_init_options_init(&o, GIT_REPOSITORY_INIT_OPTIONS_VERSION);
    o.initial_head = "main";
    o.flags |= GIT_REPOSITORY_INIT_MKPATH;
    ok(git_repository_init_ext(&f->repo, f->dir, &o));
    free(tu_write_file(f->dir, "jobs/etl.py", V1));
    free(tu_write_file(f->dir, "jobs/notes.txt", "not a job\n"));
    commit_all(f->repo, "v1", f->c1);
    /* v2 on a feature branch, so main stays at v1 (the merge base) */
    git_oid_fromstr(&id, f->c1);
    ok(git_commit_lookup(&c, f->repo, &id));
    ok(git_branch_create(&br, f->repo, "feature", c, 0));
    ok(git_repository_set_head(f->repo, "refs/heads/feature"));
    free(tu_write_file(f->dir, "jobs/etl.py", V2));
    free(tu_write_file(f->dir, "jobs/monthly.sql", "SELECT 1;\n"));
    free(tu_write_file(f->dir, "jobs/notes.txt", "still not a job\n"));
    commit_all(f->repo, "v2", f->c2);
    /* and main moves on after the branch point: an empty commit c3 */
    {
        git_tree *tree = NULL;
        git_signature *sig = NULL;
        git_oid id3;

        ok(git_commit_tree(&tree, c));
        ok(git_signature_new(&sig, "t", "t@weir.invalid", 1700000100, 0));
        ok(git_commit_create_v(&id3, f->repo, "refs/heads/main", sig, sig, NULL, "c3", tree, 1, c));
        git_oid_tostr(f->c3, sizeof(f->c3), &id3);
        git_signature_free(sig);
        git_tree_free(tree);
    }
    git_reference_free(br);
    git_commit_free(c);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    git_repository_free(f->repo);
    git_libgit2_shutdown();
    tu_rmtree(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

static void test_read_revisions(void **state)
{
    struct fx *f = *state;
    git_repository *repo = NULL;
    char *text = NULL, hex[41];
    size_t len = 0;

    /* opened from a subdirectory, like a hook in any folder of the repo */
    char *sub = malloc(strlen(f->dir) + 8);

    sprintf(sub, "%s/jobs", f->dir);
    assert_int_equal(impact_git_open(sub, &repo), WEIR_OK);
    free(sub);
    assert_int_equal(impact_git_read(repo, f->c1, "jobs/etl.py", &text, &len), WEIR_OK);
    assert_int_equal(len, strlen(V1));
    assert_string_equal(text, V1);
    impact_host->free(text);
    assert_int_equal(impact_git_read(repo, "feature", "jobs/etl.py", &text, &len), WEIR_OK);
    assert_string_equal(text, V2);
    impact_host->free(text);
    /* absent at v1: no text, no error */
    assert_int_equal(impact_git_read(repo, "main", "jobs/monthly.sql", &text, &len), WEIR_OK);
    assert_null(text);
    assert_int_equal(impact_git_resolve(repo, "HEAD~1", hex), WEIR_OK);
    assert_string_equal(hex, f->c1);
    assert_int_equal(impact_git_default_base(repo, NULL, hex), WEIR_OK);
    assert_string_equal(hex, f->c1); /* merge base of HEAD (feature) with main */
    assert_int_equal(impact_git_default_base(repo, "main", hex), WEIR_OK);
    assert_string_equal(hex, f->c3); /* main itself */
    assert_int_equal(impact_git_default_base(repo, f->c2, hex), WEIR_OK);
    assert_string_equal(hex, f->c1);
    assert_int_equal(impact_git_resolve(repo, "no-such-branch", hex), WEIR_ENOTFOUND);
    assert_non_null(strstr(impact_host->error_last(), "no-such-branch"));
    impact_git_close(repo);
}

static void test_changed_and_unified(void **state)
{
    struct fx *f = *state;
    git_repository *repo = NULL;
    json_t *paths = NULL;
    char *d = NULL;

    assert_int_equal(impact_git_open(f->dir, &repo), WEIR_OK);
    assert_int_equal(impact_git_changed(repo, f->c1, f->c2, NULL, &paths), WEIR_OK);
    tu_assert_json(paths, "[\"jobs/etl.py\", \"jobs/monthly.sql\"]"); /* not notes.txt */
    json_decref(paths);
    assert_int_equal(impact_git_changed(repo, f->c1, f->c2, "jobs/etl", &paths), WEIR_OK);
    tu_assert_json(paths, "[]"); /* a prefix is a folder, not a string prefix */
    json_decref(paths);
    assert_int_equal(impact_git_changed(repo, f->c2, IMPACT_REV_WORKTREE, "jobs", &paths), WEIR_OK);
    tu_assert_json(paths, "[]"); /* clean work tree */
    json_decref(paths);

    assert_int_equal(impact_git_unified("jobs/etl.py", V1, strlen(V1), V2, strlen(V2), &d),
                     WEIR_OK);
    /* the index line has the blob ids `git hash-object` gives V1 and V2 */
    assert_string_equal(d, "diff --git a/jobs/etl.py b/jobs/etl.py\n"
                           "index 8593ac0..af84cc3 100644\n"
                           "--- a/jobs/etl.py\n"
                           "+++ b/jobs/etl.py\n"
                           "@@ -1,3 +1,3 @@\n"
                           " df = spark.table(\"raw.p\")\n"
                           "-df = df.filter(\"amount > 0\")\n"
                           "+df = df.filter(\"amount > 10\")\n"
                           " df.write.saveAsTable(\"a.fact\")\n");
    impact_host->free(d);
    assert_int_equal(impact_git_unified("x.py", V1, strlen(V1), V1, strlen(V1), &d), WEIR_OK);
    assert_string_equal(d, "");
    impact_host->free(d);
    impact_git_close(repo);
}

static void test_worktree_and_index(void **state)
{
    struct fx *f = *state;
    git_repository *repo = NULL;
    git_index *index = NULL;
    json_t *paths = NULL;
    char *text = NULL;
    size_t len;

    free(tu_write_file(f->dir, "jobs/etl.py", "staged\n"));
    ok(git_repository_index(&index, f->repo));
    ok(git_index_add_bypath(index, "jobs/etl.py"));
    ok(git_index_write(index));
    git_index_free(index);
    free(tu_write_file(f->dir, "jobs/etl.py", "unstaged\n"));
    free(tu_write_file(f->dir, "jobs/new_job.sql", "SELECT 2;\n"));

    assert_int_equal(impact_git_open(f->dir, &repo), WEIR_OK);
    assert_int_equal(impact_git_read(repo, IMPACT_REV_INDEX, "jobs/etl.py", &text, &len), WEIR_OK);
    assert_string_equal(text, "staged\n");
    impact_host->free(text);
    assert_int_equal(impact_git_read(repo, IMPACT_REV_WORKTREE, "jobs/etl.py", &text, &len),
                     WEIR_OK);
    assert_string_equal(text, "unstaged\n");
    impact_host->free(text);
    assert_int_equal(impact_git_changed(repo, "HEAD", IMPACT_REV_INDEX, NULL, &paths), WEIR_OK);
    tu_assert_json(paths, "[\"jobs/etl.py\"]");
    json_decref(paths);
    assert_int_equal(impact_git_changed(repo, "HEAD", IMPACT_REV_WORKTREE, NULL, &paths), WEIR_OK);
    tu_assert_json(paths, "[\"jobs/etl.py\", \"jobs/new_job.sql\"]"); /* untracked counts */
    json_decref(paths);
    impact_git_close(repo);

    /* bytes that are not UTF-8 still give a diff, as '?' */
    free(tu_write_file(f->dir, "jobs/latin1.sql", "-- caf\xe9 \xed\xa0\x80\nSELECT 1;\n"));
    {
        json_t *in = json_pack("{s:s,s:s,s:s,s:[s],s:s}", "repo", f->dir, "from", "HEAD", "to", "",
                               "files", "jobs/latin1.sql", "jobs", ""),
               *out = NULL, *file;

        assert_int_equal(impact_step_diff.run(in, &out, NULL, NULL), WEIR_OK);
        file = json_array_get(json_object_get(out, "files"), 0);
        assert_string_equal(json_string_value(json_object_get(file, "state")), "added");
        assert_string_equal(json_string_value(json_object_get(file, "source_after")),
                            "-- caf? ???\nSELECT 1;\n");
        assert_non_null(strstr(json_string_value(json_object_get(file, "diff")), "+-- caf? ???\n"));
        json_decref(out);
        json_decref(in);
    }
}

/* impact.diff's run callback, called directly (no ctx: paths are absolute). */
static void test_diff_step(void **state)
{
    struct fx *f = *state;
    json_t *in = json_pack("{s:s,s:s,s:s,s:[],s:s}", "repo", f->dir, "from", "main", "to",
                           "feature", "files", "jobs", ""),
           *out = NULL, *file;
    char want[128];

    assert_int_equal(impact_step_diff.run(in, &out, NULL, NULL), WEIR_OK);
    snprintf(want, sizeof(want), "{\"rev\":\"main\",\"commit\":\"%s\"}", f->c3);
    tu_assert_json(json_object_get(out, "from"), want);
    assert_string_equal(json_string_value(json_object_get(out, "report_id")), f->c2);
    assert_int_equal(json_array_size(json_object_get(out, "files")), 2);
    file = json_array_get(json_object_get(out, "files"), 0);
    assert_string_equal(json_string_value(json_object_get(file, "path")), "jobs/etl.py");
    assert_string_equal(json_string_value(json_object_get(file, "state")), "modified");
    assert_non_null(strstr(json_string_value(json_object_get(file, "diff")),
                           "+df = df.filter(\"amount > 10\")\n"));
    assert_true(json_is_object(json_object_get(file, "before")));
    assert_true(json_is_object(json_object_get(file, "after")));
    file = json_array_get(json_object_get(out, "files"), 1);
    assert_string_equal(json_string_value(json_object_get(file, "state")), "added");
    assert_true(json_is_null(json_object_get(file, "before")));
    json_decref(out);
    json_decref(in);

    in =
        json_pack("{s:s,s:s,s:s,s:[],s:s}", "repo", "/", "from", "", "to", "", "files", "jobs", "");
    assert_int_equal(impact_step_diff.run(in, &out, NULL, NULL), WEIR_ENOTFOUND);
    assert_non_null(strstr(impact_host->error_last(), "is not inside a git repository"));
    json_decref(in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_revisions), cmocka_unit_test(test_changed_and_unified),
        cmocka_unit_test(test_diff_step),
        cmocka_unit_test(test_worktree_and_index), /* last: it edits the work tree */
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
