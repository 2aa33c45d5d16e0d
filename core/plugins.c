/* plugins.c - loading plugin shared objects and registering their steps. */
#include "plugins.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"

struct plugin {
    struct weir_plugin_rec rec;
    void *handle;                      /* dlopen handle; NULL for built-ins */
    void (*shutdown)(void *payload);
    void *shutdown_payload;
};

struct weir_plugins {
    struct plugin **plugins;
    size_t nplugins;
    struct weir_step_def **steps;
    size_t nsteps;
};

/* What an entry registers into, valid during one init call. */
struct weir_registry {
    struct weir_plugins *owner;
    struct plugin *plugin;
    size_t first_step;  /* steps at or after this index belong to the plugin */
    int described;
};

static int grow(void *arrayp, size_t n)
{
    void ***array = arrayp;
    void **bigger;

    /* capacity is the next power of two >= n+1 */
    if (n & (n - 1) && n != 0) {
        return WEIR_OK;
    }
    bigger = realloc(*array, (n ? n * 2 : 4) * sizeof(void *));
    if (!bigger) {
        return weir_error_set(WEIR_ENOMEM, "out of memory");
    }
    *array = bigger;
    return WEIR_OK;
}

static void step_def_free(struct weir_step_def *s)
{
    if (!s) {
        return;
    }
    for (size_t i = 0; i < s->nparams; i++) {
        free(s->params[i].name);
        free(s->params[i].description);
        json_decref(s->params[i].def);
    }
    free(s->params);
    free(s->plugin);
    free(s->name);
    free(s->service);
    free(s->description);
    free(s);
}

static void plugin_free(struct plugin *pl)
{
    if (!pl) {
        return;
    }
    free(pl->rec.name);
    free(pl->rec.path);
    free(pl->rec.description);
    free(pl->rec.version);
    free(pl->rec.error);
    free(pl);
}

int weir_plugins_new(struct weir_plugins **out)
{
    struct weir_plugins *p = calloc(1, sizeof(*p));

    if (!p) {
        return weir_error_set(WEIR_ENOMEM, "out of memory");
    }
    *out = p;
    return WEIR_OK;
}

static void plugin_unload(struct plugin *pl)
{
    if (pl->shutdown) {
        pl->shutdown(pl->shutdown_payload);
        pl->shutdown = NULL;
    }
    if (pl->handle) {
        dlclose(pl->handle);
        pl->handle = NULL;
    }
}

void weir_plugins_free(struct weir_plugins *p)
{
    if (!p) {
        return;
    }
    for (size_t i = 0; i < p->nsteps; i++) {
        step_def_free(p->steps[i]);
    }
    for (size_t i = p->nplugins; i-- > 0;) {
        plugin_unload(p->plugins[i]);
        plugin_free(p->plugins[i]);
    }
    free(p->steps);
    free(p->plugins);
    free(p);
}

/* ------------------------------------------------------------------ */
/* registration callbacks (reached through the host table)             */

static int valid_name(const char *s)
{
    if (!s || !*s || !((*s >= 'a' && *s <= 'z'))) {
        return 0;
    }
    for (; *s; s++) {
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_')) {
            return 0;
        }
    }
    return 1;
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

int weir__plugin_describe(weir_registry *reg, const struct weir_plugin_info *info)
{
    struct plugin *pl = reg->plugin;

    if (!info || info->version == 0 || info->version > WEIR_PLUGIN_INFO_VERSION) {
        return weir_error_set(WEIR_EINVALID, "plugin_info version %u is not supported (host knows 1..%d)",
                              info ? info->version : 0, WEIR_PLUGIN_INFO_VERSION);
    }
    if (reg->described) {
        return weir_error_set(WEIR_EINVALID, "plugin_describe called twice");
    }
    if (info->abi_major != WEIR_ABI_MAJOR) {
        return weir_error_set(WEIR_EVERSION,
                              "built for ABI %u.%u, host has %d.%d; rebuild the plugin against this "
                              "weir's SDK", info->abi_major, info->abi_minor, WEIR_ABI_MAJOR, WEIR_ABI_MINOR);
    }
    if (info->abi_minor > WEIR_ABI_MINOR) {
        return weir_error_set(WEIR_EVERSION, "needs ABI %u.%u, host has %d.%d; upgrade weir",
                              info->abi_major, info->abi_minor, WEIR_ABI_MAJOR, WEIR_ABI_MINOR);
    }
    reg->described = 1;
    pl->rec.description = dup_or_null(info->description);
    pl->rec.version = dup_or_null(info->plugin_version);
    pl->shutdown = info->shutdown;
    pl->shutdown_payload = info->payload;
    return WEIR_OK;
}

static int copy_params(struct weir_step_def *def, const struct weir_param_desc *params)
{
    size_t n = 0;

    while (params && params[n].name) {
        n++;
    }
    if (n == 0) {
        return WEIR_OK;
    }
    def->params = calloc(n, sizeof(*def->params));
    if (!def->params) {
        return weir_error_set(WEIR_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        struct weir_param_def *d = &def->params[i];
        json_error_t jerr;

        def->nparams = i + 1;
        if (!valid_name(params[i].name)) {
            return weir_error_set(WEIR_EINVALID, "step '%s': param name '%s' must match [a-z][a-z0-9_]*",
                                  def->name, params[i].name);
        }
        if (params[i].type < WEIR_PARAM_ANY || params[i].type > WEIR_PARAM_ARRAY) {
            return weir_error_set(WEIR_EINVALID, "step '%s': param '%s' has an unknown type %d",
                                  def->name, params[i].name, (int)params[i].type);
        }
        d->name = strdup(params[i].name);
        d->type = params[i].type;
        d->required = params[i].required != 0;
        d->description = dup_or_null(params[i].description);
        if (params[i].default_json) {
            d->def = json_loads(params[i].default_json, JSON_DECODE_ANY, &jerr);
            if (!d->def) {
                return weir_error_set(WEIR_EINVALID, "step '%s': param '%s': default is not JSON: %s",
                                      def->name, d->name, jerr.text);
            }
        }
    }
    return WEIR_OK;
}

static int find_dup(const struct weir_registry *reg, const char *name, const char *service)
{
    const struct weir_plugins *p = reg->owner;

    for (size_t i = reg->first_step; i < p->nsteps; i++) {
        const struct weir_step_def *s = p->steps[i];
        int same_service = (!s->service && !service) ||
                           (s->service && service && !strcmp(s->service, service));
        if (same_service && !strcmp(s->name, name)) {
            return 1;
        }
    }
    return 0;
}

static int check_desc(const struct weir_registry *reg, const struct weir_step_desc *desc)
{
    if (!reg->described) {
        return weir_error_set(WEIR_EINVALID, "step_register before plugin_describe; describe the "
                                             "plugin first");
    }
    if (desc->version == 0 || desc->version > WEIR_STEP_DESC_VERSION) {
        return weir_error_set(WEIR_EINVALID, "step '%s': descriptor version %u is not supported (host "
                              "knows 1..%d)", desc->name ? desc->name : "?", desc->version,
                              WEIR_STEP_DESC_VERSION);
    }
    if (!valid_name(desc->name)) {
        return weir_error_set(WEIR_EINVALID, "step name '%s' must match [a-z][a-z0-9_]*",
                              desc->name ? desc->name : "(null)");
    }
    if (desc->service && !valid_name(desc->service)) {
        return weir_error_set(WEIR_EINVALID, "step '%s': service name '%s' must match [a-z][a-z0-9_]*",
                              desc->name, desc->service);
    }
    if (!desc->run) {
        return weir_error_set(WEIR_EINVALID, "step '%s' has no run callback", desc->name);
    }
    if (find_dup(reg, desc->name, desc->service)) {
        return weir_error_set(WEIR_EEXISTS, "step '%s' is registered twice", desc->name);
    }
    return WEIR_OK;
}

int weir__step_register(weir_registry *reg, const struct weir_step_desc *desc)
{
    struct weir_plugins *p = reg->owner;
    struct weir_step_def *def = NULL;
    int rc;

    if (!desc) {
        return weir_error_set(WEIR_EINVALID, "step_register: descriptor is NULL");
    }
    if ((rc = check_desc(reg, desc)) < 0) {
        return rc;
    }
    /* Version 1 fields, copied one by one: never the plugin's struct size. */
    def = calloc(1, sizeof(*def));
    if (!def) {
        return weir_error_set(WEIR_ENOMEM, "out of memory");
    }
    def->plugin = strdup(reg->plugin->rec.name);
    def->name = strdup(desc->name);
    def->service = dup_or_null(desc->service);
    def->description = dup_or_null(desc->description);
    def->run = desc->run;
    def->payload = desc->payload;
    if ((rc = copy_params(def, desc->params)) < 0 || (rc = grow(&p->steps, p->nsteps)) < 0) {
        goto error;
    }
    p->steps[p->nsteps++] = def;
    return WEIR_OK;

error:
    step_def_free(def);
    return rc;
}

/* ------------------------------------------------------------------ */
/* loading                                                             */

static const struct plugin *plugin_by_name(const struct weir_plugins *p, const char *name)
{
    for (size_t i = 0; i < p->nplugins; i++) {
        if (p->plugins[i]->rec.error_code == WEIR_OK && !strcmp(p->plugins[i]->rec.name, name)) {
            return p->plugins[i];
        }
    }
    return NULL;
}

/* "libweir-glue-catalog.so.1" -> "glue-catalog" */
static char *name_from_path(const char *path)
{
    const char *base = strrchr(path, '/');
    char *name, *dot;

    base = base ? base + 1 : path;
    if (!strncmp(base, "lib", 3)) {
        base += 3;
    }
    if (!strncmp(base, "weir-", 5)) {
        base += 5;
    }
    name = strdup(base);
    if (name && (dot = strchr(name, '.')) != NULL) {
        *dot = '\0';
    }
    return name;
}

static char *entry_symbol(const char *name)
{
    char *sym = NULL;

    if (asprintf(&sym, "weir_plugin_%s_init", name) < 0) {
        return NULL;
    }
    for (char *c = sym; *c; c++) {
        if (*c == '-') {
            *c = '_';
        }
    }
    return sym;
}

/* Drops every step registered since the failed plugin's init started. */
static void drop_steps_from(struct weir_plugins *p, size_t first)
{
    for (size_t i = first; i < p->nsteps; i++) {
        step_def_free(p->steps[i]);
    }
    p->nsteps = first;
}

static int record(struct weir_plugins *p, struct plugin *pl, int code)
{
    int rc;

    pl->rec.error_code = code;
    if (code != WEIR_OK) {
        pl->rec.error = strdup(weir_error_last());
    }
    if ((rc = grow(&p->plugins, p->nplugins)) < 0) {
        plugin_unload(pl);
        plugin_free(pl);
        return rc;
    }
    p->plugins[p->nplugins++] = pl;
    if (code != WEIR_OK) {
        /* keep the message the caller sees identical to the recorded one */
        weir_error_set(code, "%s", pl->rec.error ? pl->rec.error : "out of memory");
    }
    return code;
}

static int run_init(struct weir_plugins *p, struct plugin *pl, weir_plugin_init_fn init)
{
    struct weir_registry reg = { p, pl, p->nsteps, 0 };
    const char *where = pl->rec.path ? pl->rec.path : pl->rec.name;
    int rc;

    weir_error_clear();
    rc = init(weir_host_api_get(), &reg);
    if (rc >= 0 && !reg.described) {
        rc = weir_error_set(WEIR_EINVALID, "the entry returned without calling plugin_describe");
    }
    if (rc >= 0) {
        return WEIR_OK;
    }
    drop_steps_from(p, reg.first_step);
    plugin_unload(pl);
    if (rc == WEIR_EVERSION) {
        return weir_error_wrap(WEIR_EVERSION, "plugin '%s': ABI mismatch", where);
    }
    if (!*weir_error_last()) {
        weir_error_set(rc, "returned %d without a message", rc);
    }
    return weir_error_wrap(WEIR_EUSER, "plugin '%s': error during initialization", where);
}

static int open_checked(const char *path, void **handle)
{
    struct stat st;

    if (stat(path, &st) != 0) {
        if (errno == ENOENT) {
            return weir_error_set(WEIR_ENOTFOUND, "plugin '%s': file not found", path);
        }
        return weir_error_set(WEIR_EIO, "plugin '%s': %s", path, strerror(errno));
    }
    if (!S_ISREG(st.st_mode)) {
        return weir_error_set(WEIR_EINVALID, "plugin '%s': not a regular file", path);
    }
    if (st.st_mode & (S_IWGRP | S_IWOTH)) {
        return weir_error_set(WEIR_EINVALID,
                              "plugin '%s': refusing a group- or world-writable file (mode %04o); "
                              "run chmod go-w on it", path, (unsigned)(st.st_mode & 07777));
    }
    *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!*handle) {
        return weir_error_set(WEIR_EINVALID, "plugin '%s': not a loadable shared object: %s", path,
                              dlerror());
    }
    return WEIR_OK;
}

int weir_plugins_load_file(struct weir_plugins *p, const char *path)
{
    struct plugin *pl = calloc(1, sizeof(*pl));
    const struct plugin *other;
    char *sym = NULL;
    void *entry;
    int rc;

    if (!pl) {
        return weir_error_set(WEIR_ENOMEM, "out of memory");
    }
    pl->rec.path = strdup(path);
    pl->rec.name = name_from_path(path);
    if ((rc = open_checked(path, &pl->handle)) < 0) {
        goto done;
    }
    if ((other = plugin_by_name(p, pl->rec.name)) != NULL) {
        rc = weir_error_set(WEIR_EEXISTS, "plugin '%s': a plugin named '%s' is already loaded from '%s'",
                            path, pl->rec.name, other->rec.path ? other->rec.path : "(built in)");
        plugin_unload(pl);
        goto done;
    }
    sym = entry_symbol(pl->rec.name);
    entry = sym ? dlsym(pl->handle, sym) : NULL;
    if (!entry) {
        rc = weir_error_set(WEIR_ENOTFOUND, "plugin '%s': no entry symbol '%s'; export it with "
                            "WEIR_PLUGIN_EXPORT", path, sym ? sym : "?");
        plugin_unload(pl);
        goto done;
    }
    rc = run_init(p, pl, (weir_plugin_init_fn)entry);

done:
    free(sym);
    return record(p, pl, rc);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int ends_with_so(const char *name)
{
    size_t n = strlen(name);
    return n > 3 && !strcmp(name + n - 3, ".so");
}

int weir_plugins_load_dir(struct weir_plugins *p, const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **names = NULL;
    size_t n = 0;
    int rc = WEIR_OK;

    if (!d) {
        return weir_error_set(WEIR_ENOTFOUND, "plugin directory '%s': %s", dir, strerror(errno));
    }
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || !ends_with_so(e->d_name)) {
            continue;
        }
        if ((rc = grow(&names, n)) < 0) {
            goto done;
        }
        if (asprintf(&names[n], "%s/%s", dir, e->d_name) < 0) {
            rc = weir_error_set(WEIR_ENOMEM, "out of memory");
            goto done;
        }
        n++;
    }
    qsort(names, n, sizeof(*names), by_name);
    for (size_t i = 0; i < n; i++) {
        char *name = name_from_path(names[i]);
        if (name && !plugin_by_name(p, name)) {
            weir_plugins_load_file(p, names[i]); /* failures are recorded, not fatal */
        }
        free(name);
    }
    rc = WEIR_OK;

done:
    for (size_t i = 0; i < n; i++) {
        free(names[i]);
    }
    free(names);
    closedir(d);
    return rc;
}

int weir_plugins_add_builtin(struct weir_plugins *p, const char *name, weir_plugin_init_fn init)
{
    struct plugin *pl = calloc(1, sizeof(*pl));
    int rc;

    if (!pl) {
        return weir_error_set(WEIR_ENOMEM, "out of memory");
    }
    pl->rec.name = strdup(name);
    if (plugin_by_name(p, name)) {
        rc = weir_error_set(WEIR_EEXISTS, "plugin '%s' is already loaded", name);
    }
    else {
        rc = run_init(p, pl, init);
    }
    return record(p, pl, rc);
}

/* ------------------------------------------------------------------ */
/* lookups                                                             */

size_t weir_plugins_count(const struct weir_plugins *p)
{
    return p->nplugins;
}

const struct weir_plugin_rec *weir_plugins_at(const struct weir_plugins *p, size_t i)
{
    return i < p->nplugins ? &p->plugins[i]->rec : NULL;
}

const struct weir_plugin_rec *weir_plugins_find(const struct weir_plugins *p, const char *name)
{
    const struct weir_plugin_rec *failed = NULL;

    for (size_t i = 0; i < p->nplugins; i++) {
        if (!strcmp(p->plugins[i]->rec.name, name)) {
            if (p->plugins[i]->rec.error_code == WEIR_OK) {
                return &p->plugins[i]->rec;
            }
            failed = &p->plugins[i]->rec;
        }
    }
    return failed;
}

const struct weir_step_def *weir_plugins_find_step(const struct weir_plugins *p, const char *plugin,
                                                   const char *step)
{
    for (size_t i = 0; i < p->nsteps; i++) {
        const struct weir_step_def *s = p->steps[i];
        if (!strcmp(s->plugin, plugin) && !strcmp(s->name, step)) {
            return s;
        }
    }
    return NULL;
}

const struct weir_step_def *weir_plugins_find_op(const struct weir_plugins *p, const char *impl,
                                                 const char *service, const char *op)
{
    for (size_t i = 0; i < p->nsteps; i++) {
        const struct weir_step_def *s = p->steps[i];
        if (s->service && !strcmp(s->service, service) && !strcmp(s->plugin, impl) &&
            !strcmp(s->name, op)) {
            return s;
        }
    }
    return NULL;
}

size_t weir_plugins_step_count(const struct weir_plugins *p)
{
    return p->nsteps;
}

const struct weir_step_def *weir_plugins_step_at(const struct weir_plugins *p, size_t i)
{
    return i < p->nsteps ? p->steps[i] : NULL;
}
