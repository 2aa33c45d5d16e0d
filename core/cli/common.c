/* common.c - option parsing and helpers shared by the commands. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#include "cli.h"
#include "ctx.h"
#include "error.h"

#define MAX_OPTS 24

int cli_exit_for(int rc)
{
    switch (rc) {
    case WEIR_OK: return WEIR_EXIT_OK;
    case WEIR_EINVALID: return WEIR_EXIT_INVALID;
    case WEIR_ENOTFOUND: return WEIR_EXIT_USAGE;
    default: return WEIR_EXIT_INTERNAL;
    }
}

int cli_service_exit(int rc)
{
    switch (rc) {
    case WEIR_ENOTFOUND: return WEIR_EXIT_USAGE;
    case WEIR_EINVALID: return WEIR_EXIT_INVALID;
    case WEIR_EEXISTS:
    case WEIR_EUSER:
    case WEIR_ETIMEOUT: return WEIR_EXIT_FAILED;
    default: return cli_exit_for(rc);
    }
}

/* One line on the terminal, rewritten in place while a long op runs. */
static void show_progress(void *payload, const char *step, uint64_t done, uint64_t total,
                          const char *unit)
{
    int *shown = payload;

    if (total) {
        fprintf(stderr, "\r%s: %llu / %llu %s (%.0f%%)  ", step, (unsigned long long)done,
                (unsigned long long)total, unit, 100.0 * (double)done / (double)total);
    }
    else {
        fprintf(stderr, "\r%s: %llu %s...  ", step, (unsigned long long)done, unit);
    }
    fflush(stderr);
    *shown = 1;
}

/* Runs def on a target's services with the context a pipeline step gets,
 * minus a run: ops that resolve relative paths see the project directory,
 * ops that date things see `date` (NULL: today). */
static int call_def(struct weir_runtime *rt, const char *target, const json_t *services,
                    const struct weir_step_def *def, const char *name, const char *date,
                    const json_t *with, json_t **out)
{
    int shown = 0, rc;
    struct weir_ctx ctx;
    char today[16];
    time_t now = time(NULL);
    struct tm tm;

    if (!date) {
        localtime_r(&now, &tm);
        strftime(today, sizeof(today), "%Y-%m-%d", &tm);
        date = today;
    }
    ctx = (struct weir_ctx){ .run_id = "",
                             .run_date = date,
                             .target = target,
                             .step_id = name,
                             .workspace = rt->cfg->workspace,
                             .project = rt->cfg->project,
                             .plugins = rt->plugins,
                             .services = services,
                             .progress_sink = isatty(2) ? show_progress : NULL,
                             .progress_payload = &shown,
                             .lua = rt->cfg->lua };
    rc = weir_step_invoke(def, with, out, &ctx);
    if (shown) {
        fputs("\r\033[K", stderr); /* the result replaces the progress line */
    }
    return rc;
}

int cli_service_call(struct weir_runtime *rt, const char *target, const char *service,
                     const char *op, const json_t *with, json_t **out)
{
    const json_t *services;
    const struct weir_step_def *def;

    *out = NULL;
    target = target ? target : rt->cfg->default_target;
    services = weir_config_target(rt->cfg, target);
    if (!services || (def = weir_service_resolve(rt->plugins, services, service, op)) == NULL) {
        /* an unknown target or a service the target lacks is a config problem */
        return WEIR_EINVALID;
    }
    return call_def(rt, target, services, def, service, NULL, with, out);
}

int cli_step_call(struct weir_runtime *rt, const char *target, const char *plugin,
                  const char *step, const char *date, const json_t *with, json_t **out)
{
    const json_t *services;
    const struct weir_step_def *def;

    *out = NULL;
    target = target ? target : rt->cfg->default_target;
    if ((services = weir_config_target(rt->cfg, target)) == NULL) {
        return weir_error_set(WEIR_EINVALID, "no target '%s' in weir.yaml", target);
    }
    if ((def = weir_plugins_find_step(rt->plugins, plugin, step)) == NULL) {
        return weir_error_set(WEIR_ENOTFOUND, "the %s plugin is not installed (no %s.%s step)",
                              plugin, plugin, step);
    }
    return call_def(rt, target, services, def, step, date, with, out);
}

void cli_error(const char *what)
{
    if (what) {
        fprintf(stderr, "weir: %s: %s\n", what, weir_error_last());
    }
    else {
        fprintf(stderr, "weir: %s\n", weir_error_last());
    }
}

void cli_print_json(const json_t *v)
{
    /* 15 significant digits: 0.1 prints as 0.1, not 0.10000000000000001 */
    json_dumpf(v, stdout, JSON_INDENT(2) | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
    fputc('\n', stdout);
}

void cli_report(struct weir_diags *diags)
{
    if (diags->n) {
        weir_diags_print(diags, stderr);
    }
    else {
        cli_error(NULL);
    }
    weir_diags_free(diags);
}

int cli_runtime(const struct cli_common *c, struct weir_runtime **rt)
{
    struct weir_diags diags = { 0 };
    int rc = weir_runtime_open(c->config, c->plugin_dir, rt, &diags);

    if (rc < 0) {
        cli_report(&diags);
        return rc == WEIR_EINVALID ? WEIR_EXIT_INVALID : WEIR_EXIT_INTERNAL;
    }
    weir_diags_free(&diags);
    if (c->workspace && weir_config_set_workspace((*rt)->cfg, c->workspace) < 0) {
        cli_error("--workspace");
        weir_runtime_close(*rt);
        return WEIR_EXIT_INTERNAL;
    }
    return 0;
}

static int add_opt(struct option *opts, size_t *n, const char *name, int has_arg, int val)
{
    if (*n + 1 >= MAX_OPTS) {
        return -1;
    }
    opts[*n] = (struct option){ name, has_arg ? required_argument : no_argument, NULL, val };
    (*n)++;
    return 0;
}

static int common_opt(int val, struct cli_common *c)
{
    switch (val) {
    case 1000: c->config = optarg; return 1;
    case 1001: c->workspace = optarg; return 1;
    case 1002: c->plugin_dir = optarg; return 1;
    case 1003: c->json = 1; return 1;
    default: return 0;
    }
}

int cli_parse(int argc, char **argv, struct cli_common *c, const struct cli_opt *extra, cli_extra_fn fn,
              void *payload, const char *usage)
{
    struct option opts[MAX_OPTS];
    char shorts[64] = "+h";
    size_t n = 0;
    int val;

    memset(opts, 0, sizeof(opts));
    add_opt(opts, &n, "config", 1, 1000);
    add_opt(opts, &n, "workspace", 1, 1001);
    add_opt(opts, &n, "plugin-dir", 1, 1002);
    add_opt(opts, &n, "json", 0, 1003);
    add_opt(opts, &n, "help", 0, 'h');
    for (size_t i = 0; extra && extra[i].name; i++) {
        add_opt(opts, &n, extra[i].name, extra[i].has_arg, 2000 + (int)i);
        if (extra[i].short_name) {
            size_t len = strlen(shorts);
            shorts[len] = (char)extra[i].short_name;
            shorts[len + 1] = extra[i].has_arg ? ':' : '\0';
            shorts[len + 2] = '\0';
        }
    }
    /* "+" would stop at the first positional; we want GNU permutation */
    memmove(shorts, shorts + 1, strlen(shorts));
    optind = 1;
    opterr = 0;
    while ((val = getopt_long(argc, argv, shorts, opts, NULL)) != -1) {
        if (val == 'h') {
            fputs(usage, stdout);
            exit(WEIR_EXIT_OK);
        }
        if (common_opt(val, c)) {
            continue;
        }
        for (size_t i = 0; extra && extra[i].name && val != '?'; i++) {
            if (val == 2000 + (int)i || (extra[i].short_name && val == extra[i].short_name)) {
                if (fn(extra[i].name, optarg, payload) < 0) {
                    fputs(usage, stderr);
                    return -1;
                }
                val = 0;
                break;
            }
        }
        if (val != 0) {
            fprintf(stderr, "weir: unknown or incomplete option '%s'\n%s", argv[optind - 1], usage);
            return -1;
        }
    }
    return optind;
}
