/*
 * cmd_impact.c - `weir impact`, `weir lineage` and `weir hook`: the impact
 * plugin's steps (impact.diff, impact.report, impact.lineage) run through
 * the runtime with the target's services, and git hooks that call them.
 * The CLI does not link libgit2: reading the repository is the plugin's
 * job; a hook is just a file.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "error.h"

#define HOOK_MARK "weir-impact-hook"

struct impact_args {
    const char *target, *from, *to, *repo, *jobs, *format, *prefix;
    int allow_breaking, narrative, no_write, force, shadow;
};

static const char impact_usage[] =
    "usage: weir impact [--from REV] [--to REV] [--repo DIR] [--jobs DIR] [--allow-breaking]\n"
    "                   [--narrative] [--shadow] [--no-write] [--json] [FILES...]\n"
    "what a change to ETL job scripts breaks: impact.diff then impact.report\n"
    "options:\n"
    "  --from REV        old revision (default: merge-base of HEAD with main/master/origin/main)\n"
    "  --to REV          new revision, or WORKTREE / INDEX (default: the work tree)\n"
    "  --repo DIR        a directory inside the git repository (default: .)\n"
    "  --jobs DIR        directory of job scripts for the downstream lineage (default: the work "
    "tree)\n"
    "  --allow-breaking  report breaking changes but exit 0 (also: WEIR_ALLOW_BREAKING=1)\n"
    "  --narrative       add a narrative from the llm service\n"
    "  --shadow          run the old and new query of changed SQL jobs on the engine, compare\n"
    "  --no-write        do not write reports/impact/<id>.md and .json to the store\n"
    "  --prefix P        store prefix of contracts/, tests/ and reports/\n"
    "  -t, --target T    target from weir.yaml (default: default_target)\n"
    "  --json            print the report as JSON\n"
    "FILES are job scripts (default: the .py and .sql files changed between the revisions).\n"
    "exit codes: 0 no breaking change (or allowed), 1 a breaking change, 2 usage or no such\n"
    "            revision / repository, 3 invalid input or weir.yaml, 10 internal error\n";

static const char lineage_usage[] =
    "usage: weir lineage DIR [--format json|dot|mermaid]\n"
    "the table lineage of the job scripts (*.py, *.sql) under DIR: inputs -> job -> outputs,\n"
    "with column edges in the JSON where a script says where a column comes from\n"
    "exit codes: 0 ok, 2 usage or DIR not found, 3 invalid format\n";

static const char hook_usage[] =
    "usage: weir hook install [pre-push|pre-commit] [--repo DIR] [--force] [--config FILE]\n"
    "       weir hook uninstall [pre-push|pre-commit] [--repo DIR]\n"
    "install writes .git/hooks/<hook> (default pre-push): it runs `weir impact` on the job\n"
    "scripts being pushed (pre-commit: staged), prints the summary and blocks on a breaking\n"
    "change unless WEIR_ALLOW_BREAKING=1 or git's --no-verify. It calls this weir binary by\n"
    "its absolute path with the project's weir.yaml (--config, default ./weir.yaml when present).\n"
    "An existing hook weir did not write is kept unless --force.\n"
    "exit codes: 0 ok, 1 a foreign hook is in the way, 2 usage or not a git repository\n";

static int on_opt(const char *name, const char *arg, void *payload)
{
    struct impact_args *a = payload;

    if (!strcmp(name, "target")) {
        a->target = arg;
    }
    else if (!strcmp(name, "from")) {
        a->from = arg;
    }
    else if (!strcmp(name, "to")) {
        a->to = arg;
    }
    else if (!strcmp(name, "repo")) {
        a->repo = arg;
    }
    else if (!strcmp(name, "jobs")) {
        a->jobs = arg;
    }
    else if (!strcmp(name, "format")) {
        a->format = arg;
    }
    else if (!strcmp(name, "prefix")) {
        a->prefix = arg;
    }
    else if (!strcmp(name, "allow-breaking")) {
        a->allow_breaking = 1;
    }
    else if (!strcmp(name, "narrative")) {
        a->narrative = 1;
    }
    else if (!strcmp(name, "no-write")) {
        a->no_write = 1;
    }
    else if (!strcmp(name, "force")) {
        a->force = 1;
    }
    else if (!strcmp(name, "shadow")) {
        a->shadow = 1;
    }
    return 0;
}

static const struct cli_opt impact_opts[] = {
    { "target", 1, 't' },  { "from", 1, 0 },     { "to", 1, 0 },     { "repo", 1, 0 },
    { "jobs", 1, 0 },      { "format", 1, 0 },   { "prefix", 1, 0 }, { "allow-breaking", 0, 0 },
    { "narrative", 0, 0 }, { "no-write", 0, 0 }, { "force", 0, 0 },  { "shadow", 0, 0 },
    { NULL, 0, 0 },
};

/* An absolute path for a step: the plugin resolves relative ones against
 * the project, the user typed them relative to here. */
static char *absolute(const char *path)
{
    char *real = realpath(path, NULL);

    return real ? real : strdup(path);
}

/* ---- weir impact ---- */

static json_t *impact_with(const struct impact_args *a, int argc, char **argv, int first)
{
    json_t *with = json_object(), *files = json_array();
    char *repo = absolute(a->repo ? a->repo : ".");

    json_object_set_new(with, "repo", json_string(repo));
    free(repo);
    if (a->from) {
        json_object_set_new(with, "from", json_string(a->from));
    }
    if (a->to) {
        json_object_set_new(with, "to", json_string(a->to));
    }
    for (int i = first; i < argc; i++) {
        char *f = absolute(argv[i]);

        json_array_append_new(files, json_string(f));
        free(f);
    }
    json_object_set_new(with, "files", files);
    return with;
}

static int impact_run(struct weir_runtime *rt, const struct impact_args *a,
                      const struct cli_common *c, json_t *with)
{
    json_t *diff = NULL, *in = NULL, *rep = NULL;
    const char *env = getenv("WEIR_ALLOW_BREAKING"), *status;
    int allow = a->allow_breaking || (env && !strcmp(env, "1")), rc, code = WEIR_EXIT_OK;

    if ((rc = cli_step_call(rt, a->target, "impact", "diff", NULL, with, &diff)) < 0) {
        goto fail;
    }
    if (json_array_size(json_object_get(diff, "files")) == 0 && c->json) {
        cli_print_json(diff);
        goto done;
    }
    if (json_array_size(json_object_get(diff, "files")) == 0) {
        printf("impact: no job scripts (.py, .sql) changed between %.12s and %s\n",
               json_string_value(json_object_get(json_object_get(diff, "from"), "commit")),
               json_string_value(json_object_get(json_object_get(diff, "to"), "rev")));
        goto done;
    }
    in = json_pack("{s:O,s:b,s:b,s:b}", "diff", diff, "narrative", a->narrative, "write",
                   !a->no_write, "shadow", a->shadow);
    if (a->jobs) {
        char *jobs = absolute(a->jobs);

        json_object_set_new(in, "jobs", json_string(jobs));
        free(jobs);
    }
    if (a->prefix) {
        json_object_set_new(in, "prefix", json_string(a->prefix));
    }
    if ((rc = cli_step_call(rt, a->target, "impact", "report", NULL, in, &rep)) < 0) {
        goto fail;
    }
    if (c->json) {
        cli_print_json(rep);
    }
    else {
        fputs(json_string_value(json_object_get(rep, "summary")), stdout);
        if (json_object_get(rep, "artifacts")) {
            printf("report: %s\n", json_string_value(json_object_get(
                                       json_object_get(rep, "artifacts"), "markdown")));
        }
    }
    status = json_string_value(json_object_get(rep, "status"));
    if (status && !strcmp(status, "breaking")) {
        if (allow) {
            fprintf(stderr,
                    "weir: breaking changes allowed (--allow-breaking / WEIR_ALLOW_BREAKING=1)\n");
        }
        else {
            fprintf(stderr, "weir: breaking changes found; fix them, update the contract, or allow "
                            "them with WEIR_ALLOW_BREAKING=1 (git: --no-verify)\n");
            code = WEIR_EXIT_FAILED;
        }
    }
    goto done;
fail:
    cli_error(NULL);
    code = rc == WEIR_ENOTFOUND ? WEIR_EXIT_USAGE : cli_service_exit(rc);
done:
    json_decref(diff);
    json_decref(in);
    json_decref(rep);
    return code;
}

int cli_impact(int argc, char **argv)
{
    struct impact_args a = { 0 };
    struct cli_common c = { 0 };
    struct weir_runtime *rt = NULL;
    int first = cli_parse(argc, argv, &c, impact_opts, on_opt, &a, impact_usage), code;
    json_t *with;

    if (first < 0) {
        return WEIR_EXIT_USAGE;
    }
    if ((code = cli_runtime(&c, &rt)) != 0) {
        return code;
    }
    with = impact_with(&a, argc, argv, first);
    code = impact_run(rt, &a, &c, with);
    json_decref(with);
    weir_runtime_close(rt);
    return code;
}

/* ---- weir lineage ---- */

int cli_lineage(int argc, char **argv)
{
    struct impact_args a = { 0 };
    struct cli_common c = { 0 };
    struct weir_runtime *rt = NULL;
    int first = cli_parse(argc, argv, &c, impact_opts, on_opt, &a, lineage_usage), code, rc;
    json_t *with, *out = NULL;
    char *dir;

    if (first < 0 || argc - first != 1) {
        if (first >= 0) {
            fputs(lineage_usage, stderr);
        }
        return WEIR_EXIT_USAGE;
    }
    if ((code = cli_runtime(&c, &rt)) != 0) {
        return code;
    }
    dir = absolute(argv[first]);
    with = json_pack("{s:s,s:s}", "dir", dir, "format", a.format ? a.format : "json");
    free(dir);
    if ((rc = cli_step_call(rt, a.target, "impact", "lineage", NULL, with, &out)) < 0) {
        cli_error(NULL);
        code = rc == WEIR_ENOTFOUND ? WEIR_EXIT_USAGE : cli_service_exit(rc);
    }
    else if (json_is_string(json_object_get(out, "text")) && !c.json) {
        fputs(json_string_value(json_object_get(out, "text")), stdout);
    }
    else {
        json_object_del(out, "text");
        cli_print_json(out);
    }
    json_decref(with);
    json_decref(out);
    weir_runtime_close(rt);
    return code;
}

/* ---- weir hook ---- */

/* The first line of a small file, without its newline, or NULL. */
static char *first_line(const char *path)
{
    char line[PATH_MAX + 16];
    FILE *f = fopen(path, "r");
    char *out = NULL;

    if (f && fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\n")] = '\0';
        out = strdup(line);
    }
    if (f) {
        fclose(f);
    }
    return out;
}

/* path, or base/path when path is relative (a new string). */
static char *resolve(const char *base, const char *path)
{
    char *out = NULL;

    if (asprintf(&out, "%s%s%s", path[0] == '/' ? "" : base, path[0] == '/' ? "" : "/", path) < 0) {
        return NULL;
    }
    return out;
}

/* The git directory of a ".git" entry: itself, or for a linked work tree
 * the "gitdir: <path>" it names; hooks live in that directory's common
 * directory (the main repository's, named by its "commondir" file). */
static char *common_dir(const char *cur, const char *git)
{
    char *line = first_line(git), *gitdir = NULL, *common = NULL, *cd_file = NULL, *rel = NULL;

    if (!line || strncmp(line, "gitdir: ", 8) != 0 || !(gitdir = resolve(cur, line + 8))) {
        free(line);
        return NULL;
    }
    if (asprintf(&cd_file, "%s/commondir", gitdir) >= 0 && (rel = first_line(cd_file)) != NULL) {
        common = resolve(gitdir, rel);
    }
    free(line);
    free(cd_file);
    free(rel);
    if (common) {
        free(gitdir);
        gitdir = common;
    }
    common = realpath(gitdir, NULL); /* "<main>/.git/worktrees/x/../.." reads badly */
    if (common) {
        free(gitdir);
        return common;
    }
    return gitdir;
}

/* The hooks directory of the repository containing dir. */
static char *hooks_dir(const char *dir)
{
    char *cur = absolute(dir), *out = NULL, *gd = NULL;
    struct stat st;

    while (cur) {
        char git[PATH_MAX + 8], *slash;

        snprintf(git, sizeof(git), "%s/.git", cur);
        if (stat(git, &st) == 0) {
            gd = S_ISDIR(st.st_mode) ? strdup(git) : common_dir(cur, git);
            if (gd && asprintf(&out, "%s/hooks", gd) < 0) {
                out = NULL;
            }
            break;
        }
        if ((slash = strrchr(cur, '/')) == NULL || slash == cur) {
            break;
        }
        *slash = '\0';
    }
    free(gd);
    free(cur);
    return out;
}

/* s quoted for sh: '...' with each ' as '\'' */
static void sh_quote(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s; s++) {
        if (*s == '\'') {
            fputs("'\\''", f);
        }
        else {
            fputc(*s, f);
        }
    }
    fputc('\'', f);
}

static void write_hook(FILE *f, const char *kind, const char *weir, const char *config)
{
    fprintf(
        f,
        "#!/bin/sh\n# %s: %s. Written by `weir hook install`; `weir hook uninstall` removes it.\n"
        "# Runs `weir impact` on the job scripts %s; a breaking change blocks\n"
        "# unless WEIR_ALLOW_BREAKING=1 (or git's --no-verify).\nweir=",
        HOOK_MARK, kind, !strcmp(kind, "pre-push") ? "being pushed" : "staged for the commit");
    sh_quote(f, weir);
    fputs("\nset --", f);
    if (config) {
        fputs(" --config ", f);
        sh_quote(f, config);
    }
    fputc('\n', f);
    if (!strcmp(kind, "pre-commit")) {
        fputs("git rev-parse -q --verify HEAD >/dev/null || exit 0   # first commit: nothing to "
              "compare\n"
              "exec \"$weir\" impact \"$@\" --from HEAD --to INDEX\n",
              f);
        return;
    }
    fputs("zero=0000000000000000000000000000000000000000\nrc=0\n"
          "while read -r lref lsha rref rsha; do\n"
          "    [ \"$lsha\" = \"$zero\" ] && continue   # a deleted ref: nothing to check\n"
          "    if [ \"$rsha\" != \"$zero\" ] && git cat-file -e \"$rsha^{commit}\" 2>/dev/null; "
          "then\n"
          "        \"$weir\" impact \"$@\" --from \"$rsha\" --to \"$lsha\" </dev/null || rc=$?\n"
          "    else\n"
          "        \"$weir\" impact \"$@\" --to \"$lsha\" </dev/null || rc=$?\n"
          "    fi\n"
          "done\nexit $rc\n",
          f);
}

/* 1 when path is a hook weir wrote, 0 when foreign, -1 when absent. */
static int ours(const char *path)
{
    char buf[512];
    size_t n;
    FILE *f = fopen(path, "r");

    if (!f) {
        return -1;
    }
    n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return strstr(buf, HOOK_MARK) != NULL;
}

static int hook_install(const char *hooks, const char *kind, const struct impact_args *a,
                        const struct cli_common *c)
{
    char path[PATH_MAX + 32], tmp[PATH_MAX + 48], weir[PATH_MAX];
    char *config = NULL;
    ssize_t n = readlink("/proc/self/exe", weir, sizeof(weir) - 1);
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", hooks, kind);
    if (ours(path) == 0 && !a->force) {
        fprintf(stderr, "weir: %s exists and was not written by weir; pass --force to replace it\n",
                path);
        return WEIR_EXIT_FAILED;
    }
    if (n <= 0) {
        fprintf(stderr, "weir: cannot find the weir binary (/proc/self/exe): %s\n",
                strerror(errno));
        return WEIR_EXIT_INTERNAL;
    }
    weir[n] = '\0';
    if (c->config || access("weir.yaml", R_OK) == 0) {
        config = realpath(c->config ? c->config : "weir.yaml", NULL);
        if (!config) {
            fprintf(stderr, "weir: config '%s' not found\n", c->config);
            return WEIR_EXIT_USAGE;
        }
    }
    mkdir(hooks, 0755);
    snprintf(tmp, sizeof(tmp), "%s/.%s.weir-tmp", hooks, kind);
    if ((f = fopen(tmp, "w")) == NULL) {
        fprintf(stderr, "weir: cannot write %s: %s\n", tmp, strerror(errno));
        free(config);
        return WEIR_EXIT_INTERNAL;
    }
    write_hook(f, kind, weir, config);
    if (fclose(f) != 0 || chmod(tmp, 0755) != 0 || rename(tmp, path) != 0) {
        fprintf(stderr, "weir: cannot install %s: %s\n", path, strerror(errno));
        unlink(tmp);
        free(config);
        return WEIR_EXIT_INTERNAL;
    }
    printf("installed %s (weir %s%s%s)\n", path, weir, config ? ", config " : "",
           config ? config : "");
    free(config);
    return WEIR_EXIT_OK;
}

static int hook_uninstall(const char *hooks, const char *kind)
{
    static const char *const kinds[] = { "pre-push", "pre-commit" };
    char path[PATH_MAX + 32];
    int code = WEIR_EXIT_OK, removed = 0;

    for (size_t i = 0; i < 2; i++) {
        if (kind && strcmp(kind, kinds[i]) != 0) {
            continue;
        }
        snprintf(path, sizeof(path), "%s/%s", hooks, kinds[i]);
        int mine = ours(path);

        if (mine == 1 && unlink(path) == 0) {
            printf("removed %s\n", path);
            removed++;
        }
        else if (mine == 0) {
            fprintf(stderr, "weir: %s was not written by weir; left alone\n", path);
            code = WEIR_EXIT_FAILED;
        }
    }
    if (!removed && code == WEIR_EXIT_OK) {
        printf("no weir hook installed in %s\n", hooks);
    }
    return code;
}

int cli_hook(int argc, char **argv)
{
    struct impact_args a = { 0 };
    struct cli_common c = { 0 };
    int first = cli_parse(argc, argv, &c, impact_opts, on_opt, &a, hook_usage), nargs, code;
    const char *sub, *kind;
    char *hooks;

    if (first < 0) {
        return WEIR_EXIT_USAGE;
    }
    nargs = argc - first;
    sub = nargs > 0 ? argv[first] : "";
    kind = nargs > 1 ? argv[first + 1] : NULL;
    if (nargs > 2 || (strcmp(sub, "install") && strcmp(sub, "uninstall")) ||
        (kind && strcmp(kind, "pre-push") && strcmp(kind, "pre-commit"))) {
        fputs(hook_usage, stderr);
        return WEIR_EXIT_USAGE;
    }
    if ((hooks = hooks_dir(a.repo ? a.repo : ".")) == NULL) {
        fprintf(stderr, "weir: '%s' is not inside a git repository; pass --repo DIR\n",
                a.repo ? a.repo : ".");
        return WEIR_EXIT_USAGE;
    }
    code = !strcmp(sub, "install") ? hook_install(hooks, kind ? kind : "pre-push", &a, &c)
                                   : hook_uninstall(hooks, kind);
    free(hooks);
    return code;
}
