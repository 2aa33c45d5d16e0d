/* cmd_runs.c - `weir runs list` and `weir runs show RUN`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "error.h"
#include "state.h"

static void fmt_time(json_t *ms, char *buf, size_t size)
{
    time_t t = (time_t)(json_integer_value(ms) / 1000);
    struct tm tm;

    if (!json_is_integer(ms)) {
        snprintf(buf, size, "-");
        return;
    }
    gmtime_r(&t, &tm);
    strftime(buf, size, "%Y-%m-%d %H:%M:%SZ", &tm);
}

static void list_text(const json_t *runs)
{
    size_t i;
    json_t *r;

    printf("%-24s %-10s %-20s %-8s %s\n", "RUN", "STATUS", "PIPELINE", "TARGET", "STARTED");
    json_array_foreach(runs, i, r) {
        char when[32];
        fmt_time(json_object_get(r, "created_ms"), when, sizeof(when));
        printf("%-24s %-10s %-20s %-8s %s\n", json_string_value(json_object_get(r, "id")),
               json_string_value(json_object_get(r, "status")),
               json_string_value(json_object_get(r, "pipeline")),
               json_string_value(json_object_get(r, "target")), when);
    }
}

static void show_text(const json_t *run)
{
    size_t i;
    json_t *s;

    printf("run %s  pipeline %s  target %s  date %s  status %s\n",
           json_string_value(json_object_get(run, "id")), json_string_value(json_object_get(run, "pipeline")),
           json_string_value(json_object_get(run, "target")), json_string_value(json_object_get(run, "date")),
           json_string_value(json_object_get(run, "status")));
    json_array_foreach(json_object_get(run, "steps"), i, s) {
        json_int_t ms = json_integer_value(json_object_get(s, "ended_ms")) -
                        json_integer_value(json_object_get(s, "started_ms"));
        const char *err = json_string_value(json_object_get(s, "error"));
        printf("  %-10s %-28s attempts %-2lld %6lld ms%s%s\n", json_string_value(json_object_get(s, "status")),
               json_string_value(json_object_get(s, "step")),
               (long long)json_integer_value(json_object_get(s, "attempts")), (long long)ms,
               err ? "  " : "", err ? err : "");
    }
}

static int limit_opt(const char *name, const char *arg, void *payload)
{
    *(size_t *)payload = (size_t)strtoul(arg, NULL, 10);
    return 0;
}

int cli_runs(int argc, char **argv)
{
    static const char usage[] = "usage: weir runs list [--limit N] [--json]\n"
                                "       weir runs show RUN [--json]\n";
    static const struct cli_opt opts[] = { { "limit", 1, 'n' }, { NULL, 0, 0 } };
    struct cli_common c = { 0 };
    struct weir_runtime *rt = NULL;
    struct weir_state *st = NULL;
    size_t limit = 20;
    int first = cli_parse(argc, argv, &c, opts, limit_opt, &limit, usage), code, rc;
    int list = first >= 0 && argc - first == 1 && !strcmp(argv[first], "list");
    int show = first >= 0 && argc - first == 2 && !strcmp(argv[first], "show");
    json_t *v = NULL;

    if (!list && !show) {
        if (first >= 0) {
            fputs(usage, stderr);
        }
        return WEIR_EXIT_USAGE;
    }
    if ((code = cli_runtime(&c, &rt)) != 0) {
        return code;
    }
    rc = weir_state_open(rt->cfg->workspace, &st);
    if (rc == WEIR_OK) {
        rc = list ? weir_state_runs_list(st, limit, &v) : weir_state_run_get(st, argv[first + 1], &v);
    }
    if (rc < 0) {
        cli_error(NULL);
        code = rc == WEIR_ENOTFOUND ? WEIR_EXIT_USAGE : WEIR_EXIT_INTERNAL;
    }
    else if (c.json) {
        cli_print_json(v);
    }
    else if (list) {
        list_text(v);
    }
    else {
        show_text(v);
    }
    json_decref(v);
    weir_state_close(st);
    weir_runtime_close(rt);
    return code;
}
