/* cmd_plugins.c - `weir plugins` and `weir plugin describe NAME`. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "error.h"

static json_t *step_json(const struct weir_step_def *d)
{
    json_t *params = json_array();

    for (size_t i = 0; i < d->nparams; i++) {
        const struct weir_param_def *p = &d->params[i];
        json_array_append_new(params, json_pack("{s:s,s:s,s:b,s:O,s:s}", "name", p->name, "type",
                                                weir_param_type_name(p->type), "required", p->required,
                                                "default", p->def ? p->def : json_null(), "description",
                                                p->description ? p->description : ""));
    }
    return json_pack("{s:s,s:s?,s:s,s:o}", "name", d->name, "service", d->service, "description",
                     d->description ? d->description : "", "params", params);
}

static json_t *plugin_json(const struct weir_plugins *ps, const struct weir_plugin_rec *rec)
{
    json_t *steps = json_array();

    for (size_t i = 0; i < weir_plugins_step_count(ps); i++) {
        const struct weir_step_def *d = weir_plugins_step_at(ps, i);
        if (!strcmp(d->plugin, rec->name)) {
            json_array_append_new(steps, step_json(d));
        }
    }
    return json_pack("{s:s,s:s?,s:s?,s:s?,s:b,s:s?,s:o}", "name", rec->name, "path", rec->path,
                     "version", rec->version, "description", rec->description, "loaded",
                     rec->error_code == WEIR_OK, "error", rec->error, "steps", steps);
}

static void print_step_line(const struct weir_step_def *d)
{
    char uses[160];

    snprintf(uses, sizeof(uses), "%s.%s", d->service ? d->service : d->plugin, d->name);
    printf("    %-28s %s\n", uses, d->description ? d->description : "");
}

int cli_plugins(int argc, char **argv)
{
    static const char usage[] = "usage: weir plugins [--json]\nlists installed plugins, their steps "
                                "and any that failed to load\n";
    struct cli_common c = { 0 };
    struct weir_runtime *rt = NULL;
    int first = cli_parse(argc, argv, &c, NULL, NULL, NULL, usage), code;
    json_t *all;

    if (first < 0 || first != argc) {
        if (first >= 0) {
            fputs(usage, stderr);
        }
        return WEIR_EXIT_USAGE;
    }
    if ((code = cli_runtime(&c, &rt)) != 0) {
        return code;
    }
    all = json_array();
    for (size_t i = 0; i < weir_plugins_count(rt->plugins); i++) {
        const struct weir_plugin_rec *rec = weir_plugins_at(rt->plugins, i);
        json_array_append_new(all, plugin_json(rt->plugins, rec));
        if (c.json) {
            continue;
        }
        if (rec->error_code != WEIR_OK) {
            printf("%s  (not loaded)\n    %s\n", rec->name, rec->error);
            continue;
        }
        printf("%s %s  %s\n", rec->name, rec->version ? rec->version : "", rec->description ? rec->description : "");
        for (size_t k = 0; k < weir_plugins_step_count(rt->plugins); k++) {
            const struct weir_step_def *d = weir_plugins_step_at(rt->plugins, k);
            if (!strcmp(d->plugin, rec->name)) {
                print_step_line(d);
            }
        }
    }
    if (c.json) {
        cli_print_json(all);
    }
    json_decref(all);
    weir_runtime_close(rt);
    return WEIR_EXIT_OK;
}

static void describe_text(const json_t *pj)
{
    size_t i, k;
    json_t *s, *p;

    printf("%s %s\n%s\n", json_string_value(json_object_get(pj, "name")),
           json_string_value(json_object_get(pj, "version")) ?: "",
           json_string_value(json_object_get(pj, "description")) ?: "");
    json_array_foreach(json_object_get(pj, "steps"), i, s) {
        const char *svc = json_string_value(json_object_get(s, "service"));
        printf("\n  uses: %s.%s\n    %s\n", svc ? svc : json_string_value(json_object_get(pj, "name")),
               json_string_value(json_object_get(s, "name")),
               json_string_value(json_object_get(s, "description")));
        json_array_foreach(json_object_get(s, "params"), k, p) {
            char *def = json_dumps(json_object_get(p, "default"), JSON_ENCODE_ANY | JSON_COMPACT);
            int has_def = !json_is_null(json_object_get(p, "default"));
            printf("    %-18s %-8s %-9s %s", json_string_value(json_object_get(p, "name")),
                   json_string_value(json_object_get(p, "type")),
                   json_is_true(json_object_get(p, "required")) ? "required" : "optional",
                   json_string_value(json_object_get(p, "description")));
            printf(has_def ? " (default %s)\n" : "\n", def);
            free(def);
        }
    }
}

int cli_plugin(int argc, char **argv)
{
    static const char usage[] = "usage: weir plugin describe NAME [--json]\n";
    struct cli_common c = { 0 };
    struct weir_runtime *rt = NULL;
    const struct weir_plugin_rec *rec;
    int first = cli_parse(argc, argv, &c, NULL, NULL, NULL, usage), code = WEIR_EXIT_OK;
    json_t *pj;

    if (first < 0 || argc - first != 2 || strcmp(argv[first], "describe")) {
        if (first >= 0) {
            fputs(usage, stderr);
        }
        return WEIR_EXIT_USAGE;
    }
    if ((code = cli_runtime(&c, &rt)) != 0) {
        return code;
    }
    rec = weir_plugins_find(rt->plugins, argv[first + 1]);
    if (!rec) {
        fprintf(stderr, "weir: no plugin named '%s'; `weir plugins` lists them\n", argv[first + 1]);
        weir_runtime_close(rt);
        return WEIR_EXIT_USAGE;
    }
    pj = plugin_json(rt->plugins, rec);
    if (c.json) {
        cli_print_json(pj);
    }
    else if (rec->error_code != WEIR_OK) {
        printf("%s: not loaded: %s\n", rec->name, rec->error);
    }
    else {
        describe_text(pj);
    }
    json_decref(pj);
    weir_runtime_close(rt);
    return WEIR_EXIT_OK;
}
