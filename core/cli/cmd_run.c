/* cmd_run.c - `weir run`, `weir validate`, `weir graph`. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "error.h"
#include "pipeline.h"

struct run_args {
    json_t *params;
    const char *target;
    const char *date;
    const char *resume;
    const char *format;
    int jobs;
    int quiet;
};

static int run_opt(const char *name, const char *arg, void *payload)
{
    struct run_args *a = payload;
    const char *eq;

    if (!strcmp(name, "param")) {
        if (!(eq = strchr(arg, '=')) || eq == arg) {
            fprintf(stderr, "weir: --param takes NAME=VALUE, got '%s'\n", arg);
            return -1;
        }
        char *key = strndup(arg, (size_t)(eq - arg));
        json_object_set_new(a->params, key, json_string(eq + 1));
        free(key);
    }
    else if (!strcmp(name, "target")) {
        a->target = arg;
    }
    else if (!strcmp(name, "date")) {
        a->date = arg;
    }
    else if (!strcmp(name, "resume")) {
        a->resume = arg;
    }
    else if (!strcmp(name, "format")) {
        a->format = arg;
    }
    else if (!strcmp(name, "quiet")) {
        a->quiet = 1;
    }
    else if (!strcmp(name, "jobs")) {
        a->jobs = atoi(arg);
        if (a->jobs < 1 || a->jobs > 256) {
            fprintf(stderr, "weir: -j takes a number from 1 to 256\n");
            return -1;
        }
    }
    return 0;
}

static const struct cli_opt run_opts[] = {
    { "param", 1, 'p' }, { "target", 1, 't' }, { "date", 1, 0 }, { "resume", 1, 0 },
    { "jobs", 1, 'j' },  { "quiet", 0, 'q' },  { NULL, 0, 0 },
};

static const char run_usage[] =
    "usage: weir run PIPELINE [--param NAME=VALUE]... [--target T] [--date YYYY-MM-DD] [-j N]\n"
    "       weir run --resume RUN_ID\n"
    "  -p, --param NAME=VALUE  a pipeline param (converted to the declared type)\n"
    "  -t, --target T          target from weir.yaml (default: default_target)\n"
    "      --date D            run.date (default: today, UTC)\n"
    "  -j, --jobs N            steps run in parallel (default: number of cores)\n"
    "      --resume RUN_ID     re-run failed/pending steps of a run, reusing finished outputs\n"
    "  -q, --quiet             no progress lines\n"
    "      --json              print the run summary as JSON on stdout\n"
    "      --config F, --workspace D, --plugin-dir D\n"
    "exit codes: 0 ok, 1 a step failed, 2 usage, 3 invalid, 4 paused for approval, 5 cancelled\n";

static void on_signal(int sig)
{
    (void)sig;
    weir_run_cancel_all();
}

static int exit_for_status(enum weir_run_status st)
{
    switch (st) {
    case WEIR_RUN_SUCCESS: return WEIR_EXIT_OK;
    case WEIR_RUN_PAUSED: return WEIR_EXIT_PAUSED;
    case WEIR_RUN_CANCELLED: return WEIR_EXIT_CANCELLED;
    default: return WEIR_EXIT_FAILED;
    }
}

/* Without progress lines (not a terminal) a failure must still say what. */
static void print_failures(const json_t *summary)
{
    const char *id;
    json_t *step;

    json_object_foreach(json_object_get(summary, "steps"), id, step) {
        const char *status = json_string_value(json_object_get(step, "status"));
        if (status && !strcmp(status, "failed")) {
            fprintf(stderr, "weir: step '%s' failed: %s\n", id,
                    json_string_value(json_object_get(step, "error")));
        }
    }
}

/* Without progress lines a paused run must still say how to go on: a
 * scheduler's log is all its operator sees. */
static void print_waiting(const json_t *summary)
{
    const char *run = json_string_value(json_object_get(summary, "run"));
    const char *id;
    json_t *step;

    json_object_foreach(json_object_get(summary, "steps"), id, step) {
        const char *status = json_string_value(json_object_get(step, "status"));
        if (status && !strcmp(status, "waiting")) {
            fprintf(stderr,
                    "weir: run %s paused: step '%s' needs an approval: "
                    "weir approvals approve %s %s (or reject / refine --comment TEXT)\n",
                    run, id, run, id);
        }
    }
}

/* Shared by `weir run` and `weir approvals approve` (which resumes). */
int cli_execute(struct weir_runtime *rt, const struct weir_run_opts *opts, int json)
{
    struct weir_diags diags = { 0 };
    enum weir_run_status st = WEIR_RUN_FAILED;
    json_t *summary = NULL;
    int rc;

    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    rc = weir_run_execute(rt, opts, &diags, &st, &summary);
    if (rc < 0) {
        cli_report(&diags);
        return rc == WEIR_EINVALID ? WEIR_EXIT_INVALID : cli_exit_for(rc);
    }
    weir_diags_free(&diags);
    if (!opts->progress && st == WEIR_RUN_FAILED) {
        print_failures(summary);
    }
    if (!opts->progress && st == WEIR_RUN_PAUSED) {
        print_waiting(summary);
    }
    if (!opts->progress && st == WEIR_RUN_CANCELLED) {
        fprintf(stderr, "weir: run %s cancelled\n", json_string_value(json_object_get(summary, "run")));
    }
    if (json) {
        cli_print_json(summary);
    }
    else if (opts->progress) {
        fprintf(opts->progress, "run %s: %s\n", json_string_value(json_object_get(summary, "run")),
                json_string_value(json_object_get(summary, "status")));
    }
    json_decref(summary);
    return exit_for_status(st);
}

int cli_run(int argc, char **argv)
{
    struct cli_common c = { 0 };
    struct run_args a = { .params = json_object() };
    struct weir_runtime *rt = NULL;
    struct weir_run_opts opts = { 0 };
    int first = cli_parse(argc, argv, &c, run_opts, run_opt, &a, run_usage), code;

    if (first < 0 || (!a.resume && first != argc - 1) || (a.resume && first != argc)) {
        if (first >= 0) {
            fputs(a.resume ? "weir: --resume takes no pipeline file\n" : "weir: run takes one pipeline "
                  "file\n", stderr);
            fputs(run_usage, stderr);
        }
        json_decref(a.params);
        return WEIR_EXIT_USAGE;
    }
    if ((code = cli_runtime(&c, &rt)) != 0) {
        json_decref(a.params);
        return code;
    }
    opts = (struct weir_run_opts){ .pipeline = a.resume ? NULL : argv[first], .params = a.params,
                                   .target = a.target, .date = a.date, .jobs = a.jobs,
                                   .resume = a.resume,
                                   .progress = (!a.quiet && isatty(2)) ? stderr : NULL };
    code = cli_execute(rt, &opts, c.json);
    weir_runtime_close(rt);
    json_decref(a.params);
    return code;
}

/* ------------------------------------------------------------------ */

static int load_only(int argc, char **argv, const char *usage, struct run_args *a,
                     struct weir_runtime **rt, struct weir_pipeline **p, struct cli_common *c)
{
    struct weir_diags diags = { 0 };
    int first = cli_parse(argc, argv, c, run_opts + 1, run_opt, a, usage), code;

    if (first < 0 || first != argc - 1) {
        if (first >= 0) {
            fputs(usage, stderr);
        }
        return WEIR_EXIT_USAGE;
    }
    if ((code = cli_runtime(c, rt)) != 0) {
        return code;
    }
    if (weir_pipeline_load_file(argv[first], (*rt)->cfg, a->target ? a->target : (*rt)->cfg->default_target,
                                (*rt)->plugins, p, &diags) < 0) {
        weir_diags_print(&diags, stderr);
        weir_diags_free(&diags);
        weir_runtime_close(*rt);
        return WEIR_EXIT_INVALID;
    }
    weir_diags_free(&diags);
    return 0;
}

int cli_validate(int argc, char **argv)
{
    static const char usage[] = "usage: weir validate PIPELINE [--target T] [--json]\n"
                                "checks the pipeline against the installed plugins; exit 3 when "
                                "invalid\n";
    struct cli_common c = { 0 };
    struct run_args a = { .params = json_object() };
    struct weir_runtime *rt = NULL;
    struct weir_pipeline *p = NULL;
    int code = load_only(argc, argv, usage, &a, &rt, &p, &c);

    json_decref(a.params);
    if (code) {
        return code;
    }
    if (c.json) {
        json_t *v = json_pack("{s:b,s:s,s:i,s:O}", "valid", 1, "pipeline", p->name, "steps",
                              (int)p->nsteps, "params", p->params);
        cli_print_json(v);
        json_decref(v);
    }
    else {
        printf("%s: ok (%zu steps, pipeline '%s')\n", p->file, p->nsteps, p->name);
    }
    weir_pipeline_free(p);
    weir_runtime_close(rt);
    return WEIR_EXIT_OK;
}

int cli_graph(int argc, char **argv)
{
    static const char usage[] = "usage: weir graph PIPELINE [--format dot|mermaid]\n";
    static const struct cli_opt opts[] = { { "format", 1, 'f' }, { "target", 1, 't' }, { NULL, 0, 0 } };
    struct cli_common c = { 0 };
    struct run_args a = { .params = json_object(), .format = "dot" };
    struct weir_runtime *rt = NULL;
    struct weir_pipeline *p = NULL;
    struct weir_diags diags = { 0 };
    int first = cli_parse(argc, argv, &c, opts, run_opt, &a, usage), code = WEIR_EXIT_OK;

    json_decref(a.params);
    if (first < 0 || first != argc - 1) {
        if (first >= 0) {
            fputs(usage, stderr);
        }
        return WEIR_EXIT_USAGE;
    }
    if ((code = cli_runtime(&c, &rt)) != 0) {
        return code;
    }
    if (weir_pipeline_load_file(argv[first], rt->cfg, a.target ? a.target : rt->cfg->default_target,
                                rt->plugins, &p, &diags) < 0) {
        weir_diags_print(&diags, stderr);
        code = WEIR_EXIT_INVALID;
    }
    else if (weir_pipeline_graph(p, a.format, stdout) < 0) {
        cli_error("graph");
        code = WEIR_EXIT_USAGE;
    }
    weir_diags_free(&diags);
    weir_pipeline_free(p);
    weir_runtime_close(rt);
    return code;
}
