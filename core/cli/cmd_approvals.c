/* cmd_approvals.c - `weir approvals list|show|approve|reject|refine`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "ctx.h"
#include "error.h"
#include "state.h"

int cli_execute(struct weir_runtime *rt, const struct weir_run_opts *opts, int json);

struct appr_args {
    const char *run;
    const char *comment;
    const char *by;
    int all;
    int no_resume;
};

static int appr_opt(const char *name, const char *arg, void *payload)
{
    struct appr_args *a = payload;

    if (!strcmp(name, "run")) {
        a->run = arg;
    }
    else if (!strcmp(name, "comment")) {
        a->comment = arg;
    }
    else if (!strcmp(name, "by")) {
        a->by = arg;
    }
    else if (!strcmp(name, "all")) {
        a->all = 1;
    }
    else if (!strcmp(name, "no-resume")) {
        a->no_resume = 1;
    }
    return 0;
}

static const char usage[] =
    "usage: weir approvals list [--run RUN] [--all] [--json]\n"
    "       weir approvals show RUN STEP [--json]\n"
    "       weir approvals approve RUN STEP [--comment TEXT] [--by NAME] [--no-resume]\n"
    "       weir approvals reject RUN STEP --comment TEXT [--by NAME] [--no-resume]\n"
    "       weir approvals refine RUN STEP --comment TEXT [--by NAME] [--no-resume]\n"
    "approve/reject/refine record the decision and resume the run (its exit code is the run's);\n"
    "refine re-runs the step the approval names in `refine:` with ${{ feedback.comment }} set.\n";

static void print_one(const json_t *a)
{
    char *show = json_dumps(json_object_get(a, "payload"), JSON_INDENT(2) | JSON_ENCODE_ANY);

    printf("run %s  step %s  status %s\n  %s\n", json_string_value(json_object_get(a, "run")),
           json_string_value(json_object_get(a, "step")), json_string_value(json_object_get(a, "status")),
           json_string_value(json_object_get(a, "message")));
    if (show && strcmp(show, "null")) {
        printf("%s\n", show);
    }
    free(show);
}

static json_t *find(const json_t *list, const char *step)
{
    size_t i;
    json_t *a;

    json_array_foreach(list, i, a) {
        if (!strcmp(json_string_value(json_object_get(a, "step")), step)) {
            return a;
        }
    }
    return NULL;
}

static int list_or_show(struct weir_state *st, const struct appr_args *a, int json, char **pos, int npos)
{
    json_t *list = NULL, *one;
    size_t i;
    int rc = weir_state_approvals_list(st, npos == 3 ? pos[1] : a->run, npos == 3 ? 0 : !a->all, &list);

    if (rc < 0) {
        cli_error(NULL);
        return WEIR_EXIT_INTERNAL;
    }
    if (npos == 3) {
        one = find(list, pos[2]);
        if (!one) {
            fprintf(stderr, "weir: run %s has no approval step '%s'\n", pos[1], pos[2]);
            json_decref(list);
            return WEIR_EXIT_USAGE;
        }
        json ? cli_print_json(one) : print_one(one);
    }
    else if (json) {
        cli_print_json(list);
    }
    else {
        json_array_foreach(list, i, one) {
            print_one(one);
        }
        if (json_array_size(list) == 0) {
            printf("no %sapprovals\n", a->all ? "" : "pending ");
        }
    }
    json_decref(list);
    return WEIR_EXIT_OK;
}

static int decide(struct weir_runtime *rt, struct weir_state *st, const struct appr_args *a, int json,
                  char **pos)
{
    const char *decision = !strcmp(pos[0], "approve") ? "approved"
                           : !strcmp(pos[0], "reject") ? "rejected" : "refined";
    const char *by = a->by ? a->by : getenv("USER") ? getenv("USER") : "unknown";
    struct weir_run_opts opts = { 0 };

    if (strcmp(decision, "approved") && !a->comment) {
        fprintf(stderr, "weir: %s needs --comment saying why or what to change\n", pos[0]);
        return WEIR_EXIT_USAGE;
    }
    if (weir_state_approval_decide(st, pos[1], pos[2], decision, a->comment, by, weir_now_wall_ms()) < 0) {
        cli_error(NULL);
        return WEIR_EXIT_USAGE;
    }
    if (a->no_resume) {
        printf("%s %s/%s; resume with: weir run --resume %s\n", decision, pos[1], pos[2], pos[1]);
        return WEIR_EXIT_OK;
    }
    opts.resume = pos[1];
    opts.progress = isatty(2) ? stderr : NULL;
    return cli_execute(rt, &opts, json);
}

int cli_approvals(int argc, char **argv)
{
    static const struct cli_opt opts[] = { { "run", 1, 0 }, { "comment", 1, 'm' }, { "by", 1, 0 },
                                           { "all", 0, 'a' }, { "no-resume", 0, 0 }, { NULL, 0, 0 } };
    struct cli_common c = { 0 };
    struct appr_args a = { 0 };
    struct weir_runtime *rt = NULL;
    struct weir_state *st = NULL;
    int first = cli_parse(argc, argv, &c, opts, appr_opt, &a, usage), code, npos;
    char **pos = argv + (first < 0 ? 0 : first);
    int is_list, is_decide;

    npos = first < 0 ? 0 : argc - first;
    is_list = npos >= 1 && ((!strcmp(pos[0], "list") && npos == 1) || (!strcmp(pos[0], "show") && npos == 3));
    is_decide = npos == 3 && (!strcmp(pos[0], "approve") || !strcmp(pos[0], "reject") ||
                              !strcmp(pos[0], "refine"));
    if (!is_list && !is_decide) {
        if (first >= 0) {
            fputs(usage, stderr);
        }
        return WEIR_EXIT_USAGE;
    }
    if ((code = cli_runtime(&c, &rt)) != 0) {
        return code;
    }
    if (weir_state_open(rt->cfg->workspace, &st) < 0) {
        cli_error(NULL);
        weir_runtime_close(rt);
        return WEIR_EXIT_INTERNAL;
    }
    code = is_list ? list_or_show(st, &a, c.json, pos, npos) : decide(rt, st, &a, c.json, pos);
    weir_state_close(st);
    weir_runtime_close(rt);
    return code;
}
