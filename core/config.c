/* config.c - reading weir.yaml. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "ydoc.h"

static const char *const default_env[] = { "HOME", "USER", "LANG", "TZ", NULL };

static char *abs_path(const char *base, const char *path)
{
    char *out = NULL;

    if (path[0] == '/') {
        return strdup(path);
    }
    if (asprintf(&out, "%s/%s", base, path) < 0) {
        return NULL;
    }
    return out;
}

static char *dir_of(const char *path)
{
    char *copy = strdup(path);
    char *slash = copy ? strrchr(copy, '/') : NULL;

    if (!copy) {
        return NULL;
    }
    if (!slash) {
        free(copy);
        return getcwd(NULL, 0);
    }
    if (slash == copy) {
        slash[1] = '\0';
    }
    else {
        *slash = '\0';
    }
    if (copy[0] != '/') {
        char *cwd = getcwd(NULL, 0);
        char *full = cwd ? abs_path(cwd, copy) : NULL;
        free(cwd);
        free(copy);
        return full;
    }
    return copy;
}

static int set_defaults(struct weir_config *cfg)
{
    json_t *local = json_pack("{s:s,s:s,s:s,s:s,s:s}", "catalog", "lake", "engine", "lake", "store",
                              "fs", "llm", "builtin", "notify", "file");

    cfg->env_allow = json_array();
    for (size_t i = 0; default_env[i]; i++) {
        json_array_append_new(cfg->env_allow, json_string(default_env[i]));
    }
    cfg->default_target = strdup("local");
    cfg->targets = json_object();
    json_object_set_new(cfg->targets, "local", local);
    cfg->workspace = abs_path(cfg->project, ".weir");
    cfg->lua.memory_bytes = WEIR_LUA_DEFAULT_MEMORY;
    cfg->lua.time_budget_ms = WEIR_LUA_DEFAULT_BUDGET_MS;
    if (!cfg->env_allow || !cfg->default_target || !cfg->targets || !local || !cfg->workspace) {
        return weir_error_set(WEIR_ENOMEM, "out of memory");
    }
    return WEIR_OK;
}

static void bad(struct weir_diags *d, const char *file, const struct weir_ynode *n, const char *fmt,
                const char *key)
{
    weir_diags_add(d, file, n ? n->line : 0, n ? n->col : 0, fmt, key);
}

static int is_str(const struct weir_ynode *n)
{
    return n && n->kind == WEIR_YNODE_SCALAR;
}

/* A target's service: a plugin name, or {plugin: name, with: {settings}}
 * whose settings become defaults of every op of that service (a workgroup,
 * a bucket, a model id), so pipelines stay the same on every target. */
static json_t *read_service(struct weir_config *cfg, const char *service, const struct weir_ynode *v,
                            struct weir_diags *d)
{
    const struct weir_ynode *plugin = NULL, *with = NULL;

    if (is_str(v)) {
        return json_string(v->str);
    }
    if (v->kind == WEIR_YNODE_MAP) {
        for (size_t i = 0; i < v->n; i++) {
            if (!strcmp(v->keys[i]->str, "plugin")) {
                plugin = v->items[i];
            }
            else if (!strcmp(v->keys[i]->str, "with")) {
                with = v->items[i];
            }
            else {
                weir_diags_add(d, cfg->path, v->keys[i]->line, v->keys[i]->col,
                               "unknown key '%s' in service '%s' (expected plugin, with)",
                               v->keys[i]->str, service);
                return NULL;
            }
        }
    }
    if (!is_str(plugin) || (with && with->kind != WEIR_YNODE_MAP)) {
        bad(d, cfg->path, v, "service '%s' must name a plugin, or be {plugin: NAME, with: {settings}}",
            service);
        return NULL;
    }
    return json_pack("{s:s,s:o}", "plugin", plugin->str, "with",
                     with ? weir_ynode_to_json(with) : json_object());
}

static void read_targets(struct weir_config *cfg, const struct weir_ynode *v, struct weir_diags *d)
{
    if (v->kind != WEIR_YNODE_MAP) {
        bad(d, cfg->path, v, "'%s' must be a mapping of target name to {service: plugin}", "targets");
        return;
    }
    for (size_t i = 0; i < v->n; i++) {
        const struct weir_ynode *t = v->items[i];
        json_t *services = json_object();
        if (t->kind != WEIR_YNODE_MAP) {
            bad(d, cfg->path, t, "target '%s' must be a mapping of service to plugin", v->keys[i]->str);
            json_decref(services);
            continue;
        }
        for (size_t j = 0; j < t->n; j++) {
            json_t *impl = read_service(cfg, t->keys[j]->str, t->items[j], d);

            if (impl) {
                json_object_set_new(services, t->keys[j]->str, impl);
            }
        }
        json_object_set_new(cfg->targets, v->keys[i]->str, services);
    }
}

static void read_plugin_dirs(struct weir_config *cfg, const struct weir_ynode *v, struct weir_diags *d)
{
    if (v->kind != WEIR_YNODE_SEQ) {
        bad(d, cfg->path, v, "'%s' must be a list of directories", "plugin_dirs");
        return;
    }
    for (size_t i = 0; i < v->n; i++) {
        char *dir;
        if (!is_str(v->items[i])) {
            bad(d, cfg->path, v->items[i], "'%s' entries must be strings", "plugin_dirs");
            continue;
        }
        dir = abs_path(cfg->project, v->items[i]->str);
        if (dir) {
            weir_config_add_plugin_dir(cfg, dir, 0);
            free(dir);
        }
    }
}

static void read_lua(struct weir_config *cfg, const struct weir_ynode *v, struct weir_diags *d)
{
    json_t *j = weir_ynode_to_json(v);
    json_t *mem = json_object_get(j, "memory_mb"), *budget = json_object_get(j, "time_budget_ms");
    const char *key;
    json_t *val;

    if (!json_is_object(j)) {
        bad(d, cfg->path, v, "'%s' must be a mapping {memory_mb, time_budget_ms}", "lua");
    }
    json_object_foreach(j, key, val) {
        if (strcmp(key, "memory_mb") && strcmp(key, "time_budget_ms")) {
            bad(d, cfg->path, v, "unknown key '%s' in lua; known: memory_mb, time_budget_ms", key);
        }
    }
    if (mem && (!json_is_integer(mem) || json_integer_value(mem) < 1 || json_integer_value(mem) > 4096)) {
        bad(d, cfg->path, v, "'%s' must be an integer from 1 to 4096", "lua.memory_mb");
    }
    else if (mem) {
        cfg->lua.memory_bytes = (size_t)json_integer_value(mem) << 20;
    }
    if (budget && (!json_is_integer(budget) || json_integer_value(budget) < 1)) {
        bad(d, cfg->path, v, "'%s' must be a positive integer", "lua.time_budget_ms");
    }
    else if (budget) {
        cfg->lua.time_budget_ms = json_integer_value(budget);
    }
    json_decref(j);
}

static void read_key(struct weir_config *cfg, const char *key, const struct weir_ynode *v,
                     struct weir_diags *d)
{
    if (!strcmp(key, "version")) {
        if (!is_str(v) || strcmp(v->str, "1")) {
            bad(d, cfg->path, v, "'%s' must be 1", key);
        }
    }
    else if (!strcmp(key, "workspace") && is_str(v)) {
        free(cfg->workspace);
        cfg->workspace = abs_path(cfg->project, v->str);
    }
    else if (!strcmp(key, "default_target") && is_str(v)) {
        free(cfg->default_target);
        cfg->default_target = strdup(v->str);
    }
    else if (!strcmp(key, "plugin_dirs")) {
        read_plugin_dirs(cfg, v, d);
    }
    else if (!strcmp(key, "targets")) {
        read_targets(cfg, v, d);
    }
    else if (!strcmp(key, "lua")) {
        read_lua(cfg, v, d);
    }
    else if (!strcmp(key, "env") && v->kind == WEIR_YNODE_SEQ) {
        for (size_t i = 0; i < v->n; i++) {
            if (is_str(v->items[i])) {
                json_array_append_new(cfg->env_allow, json_string(v->items[i]->str));
            }
        }
    }
    else if (!strcmp(key, "workspace") || !strcmp(key, "default_target") || !strcmp(key, "env")) {
        bad(d, cfg->path, v, "'%s' has the wrong type; see the weir.yaml section of the README", key);
    }
    else {
        bad(d, cfg->path, v, "unknown key '%s'; known: version, workspace, plugin_dirs, env, "
            "default_target, targets, lua", key);
    }
}

static int read_file(struct weir_config *cfg, struct weir_diags *d)
{
    struct weir_ynode *root = NULL;
    size_t before = d->n;
    int rc;

    if ((rc = weir_ydoc_parse_file(cfg->path, &root, d)) < 0) {
        return rc;
    }
    if (root && root->kind != WEIR_YNODE_MAP) {
        weir_diags_add(d, cfg->path, root->line, root->col, "weir.yaml must be a mapping");
    }
    for (size_t i = 0; root && root->kind == WEIR_YNODE_MAP && i < root->n; i++) {
        read_key(cfg, root->keys[i]->str, root->items[i], d);
    }
    if (!json_object_get(cfg->targets, cfg->default_target)) {
        weir_diags_add(d, cfg->path, 0, 0, "default_target '%s' is not defined under targets",
                       cfg->default_target);
    }
    weir_ynode_free(root);
    return d->n > before ? WEIR_EINVALID : WEIR_OK;
}

int weir_config_load(const char *path, struct weir_config **out, struct weir_diags *diags)
{
    struct weir_config *cfg = calloc(1, sizeof(*cfg));
    int rc = WEIR_OK;

    if (!cfg) {
        return weir_error_set(WEIR_ENOMEM, "out of memory");
    }
    if (!path && access("weir.yaml", F_OK) == 0) {
        path = "weir.yaml";
    }
    cfg->project = path ? dir_of(path) : getcwd(NULL, 0);
    if (!cfg->project || (rc = set_defaults(cfg)) < 0) {
        rc = rc < 0 ? rc : weir_error_set(WEIR_EIO, "cannot determine the project directory");
        goto error;
    }
    if (path) {
        cfg->path = strdup(path);
        if ((rc = read_file(cfg, diags)) < 0) {
            weir_diags_to_error(diags);
            goto error;
        }
    }
    *out = cfg;
    return WEIR_OK;

error:
    weir_config_free(cfg);
    return rc;
}

int weir_config_add_plugin_dir(struct weir_config *cfg, const char *dir, int front)
{
    char **dirs = realloc(cfg->plugin_dirs, (cfg->nplugin_dirs + 1) * sizeof(*dirs));
    char *copy = strdup(dir);

    if (!dirs || !copy) {
        free(copy);
        if (dirs) {
            cfg->plugin_dirs = dirs;
        }
        return weir_error_set(WEIR_ENOMEM, "out of memory");
    }
    cfg->plugin_dirs = dirs;
    if (front) {
        memmove(dirs + 1, dirs, cfg->nplugin_dirs * sizeof(*dirs));
        dirs[0] = copy;
    }
    else {
        dirs[cfg->nplugin_dirs] = copy;
    }
    cfg->nplugin_dirs++;
    return WEIR_OK;
}

int weir_config_set_workspace(struct weir_config *cfg, const char *dir)
{
    char *cwd = getcwd(NULL, 0);
    char *ws = cwd ? abs_path(cwd, dir) : NULL;

    free(cwd);
    if (!ws) {
        return weir_error_set(WEIR_ENOMEM, "out of memory");
    }
    free(cfg->workspace);
    cfg->workspace = ws;
    return WEIR_OK;
}

const json_t *weir_config_target(const struct weir_config *cfg, const char *name)
{
    const json_t *t = json_object_get(cfg->targets, name);
    if (!t) {
        weir_error_set(WEIR_ENOTFOUND, "unknown target '%s'; define it under targets in weir.yaml",
                       name);
    }
    return t;
}

int weir_config_env_allowed(const struct weir_config *cfg, const char *name)
{
    size_t i;
    json_t *v;

    json_array_foreach(cfg->env_allow, i, v) {
        if (!strcmp(json_string_value(v), name)) {
            return 1;
        }
    }
    return 0;
}

void weir_config_free(struct weir_config *cfg)
{
    if (!cfg) {
        return;
    }
    for (size_t i = 0; i < cfg->nplugin_dirs; i++) {
        free(cfg->plugin_dirs[i]);
    }
    free(cfg->plugin_dirs);
    free(cfg->path);
    free(cfg->project);
    free(cfg->workspace);
    free(cfg->default_target);
    json_decref(cfg->env_allow);
    json_decref(cfg->targets);
    free(cfg);
}
