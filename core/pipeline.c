/* pipeline.c - pipeline lifetime, params, durations, Lua sources, graphs. */
#include "pipeline.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "lua_host.h"
#include "pipeline_int.h"

#define MAX_LUA_FILE (1u << 20)

char *weir__dirname(const char *path)
{
    const char *slash = strrchr(path, '/');

    if (!slash) {
        return strdup(".");
    }
    if (slash == path) {
        return strdup("/");
    }
    return strndup(path, (size_t)(slash - path));
}

static char *read_small_file(const char *path, size_t max, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    char *buf = NULL;
    size_t n;

    if (!fp) {
        return NULL;
    }
    buf = malloc(max + 1);
    n = buf ? fread(buf, 1, max + 1, fp) : 0;
    fclose(fp);
    if (!buf || n > max) {
        free(buf);
        errno = EFBIG;
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* lua: paths are tried against the project, the pipeline's directory and
 * its parent, so `lua: scripts-lua/x.lua` works from pipelines/ too. */
static char *find_lua_file(const struct weir_load *ld, const char *rel)
{
    const char *bases[3] = { ld->cfg ? ld->cfg->project : ".", ld->p->dir, NULL };
    char *parent = NULL, *path = NULL;

    if (rel[0] == '/') {
        return access(rel, R_OK) == 0 ? strdup(rel) : NULL;
    }
    if (asprintf(&parent, "%s/..", ld->p->dir) >= 0) {
        bases[2] = parent;
    }
    for (int i = 0; i < 3 && bases[i]; i++) {
        if (asprintf(&path, "%s/%s", bases[i], rel) < 0) {
            path = NULL;
            break;
        }
        if (access(path, R_OK) == 0) {
            break;
        }
        free(path);
        path = NULL;
    }
    free(parent);
    return path;
}

/* Column of the first non-blank character of a line of text (1-based), or 1. */
static int text_indent_col(const char *text, int line)
{
    const char *s = text;
    int col = 1;

    for (int l = 1; s && l < line; l++) {
        s = strchr(s, '\n');
        s = s ? s + 1 : NULL;
    }
    while (s && (*s == ' ' || *s == '\t')) {
        s++;
        col++;
    }
    return s && *s && *s != '\n' ? col : 1;
}

/* Lua's message starts with "<chunk>:<line>: ", where chunk is a cut-down
 * "file:step" and line counts from the script's first line. The diagnostic
 * already points into the pipeline, so that prefix would only look like a
 * second, different position; keep the script line as a note. */
/* "file.yaml:9: unexpected symbol" -> "unexpected symbol": the diagnostic
 * carries the position already. */
static const char *lua_reason(const char *msg, int line)
{
    char needle[32];
    const char *at;

    snprintf(needle, sizeof(needle), ":%d: ", line);
    at = line > 0 ? strstr(msg, needle) : NULL;
    return at ? at + strlen(needle) : msg;
}

/* An inline script is stored behind as many newlines as it is deep into the
 * pipeline file, so the line numbers Lua reports, when checking and when
 * running, are lines of the pipeline file. */
static char *pad_inline(const struct weir_ynode *n, size_t *len)
{
    int block = memchr(n->str, '\n', n->len) != NULL;
    size_t pad = (size_t)(block ? n->line : n->line - 1);
    char *src = malloc(pad + n->len + 1);

    if (!src) {
        return NULL;
    }
    memset(src, '\n', pad);
    memcpy(src + pad, n->str, n->len);
    src[pad + n->len] = '\0';
    *len = pad + n->len;
    return src;
}

static int is_lua_file_ref(const struct weir_ynode *n)
{
    return !memchr(n->str, '\n', n->len) && n->len > 4 && !strcmp(n->str + n->len - 4, ".lua");
}

void weir__lua_load(struct weir_load *ld, struct weir_pstep *s, const struct weir_ynode *n)
{
    char *path = NULL;
    int line = 0;

    if (is_lua_file_ref(n)) {
        path = find_lua_file(ld, n->str);
        if (!path || !(s->lua_src = read_small_file(path, MAX_LUA_FILE, &s->lua_len))) {
            weir__perr(ld, n, "lua script '%s' %s; paths are relative to the project or the pipeline",
                       n->str, path ? "is unreadable or larger than 1 MiB" : "not found");
            free(path);
            return;
        }
        s->lua_name = strdup(n->str);
    }
    else {
        s->lua_src = pad_inline(n, &s->lua_len);
        s->lua_name = strdup(ld->p->file);
    }
    if (s->lua_src && s->lua_name && weir_lua_check(s->lua_name, s->lua_src, s->lua_len, &line) < 0) {
        int block = !path && memchr(n->str, '\n', n->len) != NULL;
        int at = path ? line : (line > 0 ? line : n->line);
        int col = path ? 1 : block ? text_indent_col(ld->p->source, at) : n->col;
        weir_diags_add(ld->diags, path ? n->str : ld->p->file, at, col, "lua: %s",
                       lua_reason(weir_error_last(), line));
    }
    free(path);
}

/* A problem with the file as a whole: no position. Sets the last error from
 * this message, not from the first of diags, which may be another file's. */
static int __attribute__((format(printf, 3, 4)))
file_error(struct weir_diags *diags, const char *file, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    weir_diags_add(diags, file, 0, 0, "%s", msg);
    return weir_error_set(WEIR_EINVALID, "%s: %s", file, msg);
}

int weir_pipeline_load_file(const char *file, const struct weir_config *cfg, const char *target,
                            const struct weir_plugins *plugins, struct weir_pipeline **out,
                            struct weir_diags *diags)
{
    struct stat st;
    size_t len = 0;
    char *text;
    int rc;

    if (stat(file, &st) != 0) {
        return file_error(diags, file, "cannot read the pipeline: %s",
                          errno == ENOENT ? "no such file" : strerror(errno));
    }
    if (!S_ISREG(st.st_mode)) {
        /* errno is stale here: stat succeeded */
        return file_error(diags, file, "cannot read the pipeline: not a regular file");
    }
    if ((uintmax_t)st.st_size > WEIR_YDOC_MAX_BYTES) {
        /* the same words as for a text given directly (ydoc.c) */
        return file_error(diags, file, "file is larger than %u MiB (%jd bytes); split it into "
                          "smaller files", WEIR_YDOC_MAX_BYTES >> 20, (intmax_t)st.st_size);
    }
    text = read_small_file(file, WEIR_YDOC_MAX_BYTES, &len);
    if (!text) {
        return file_error(diags, file, "cannot read the pipeline: %s", strerror(errno));
    }
    rc = weir_pipeline_load(file, text, len, cfg, target, plugins, out, diags);
    free(text);
    return rc;
}

static void pstep_free(struct weir_pstep *s)
{
    free(s->id);
    free(s->uses);
    free(s->lua_src);
    free(s->lua_name);
    free(s->needs);
    weir_tmpl_free(s->with);
    weir_tmpl_free(s->for_each);
    weir_tmpl_free(s->approval);
    weir_expr_free(s->cond);
    weir_expr_free(s->until);
}

void weir_pipeline_free(struct weir_pipeline *p)
{
    if (!p) {
        return;
    }
    for (size_t i = 0; i < p->nsteps; i++) {
        pstep_free(&p->steps[i]);
    }
    free(p->steps);
    free(p->file);
    free(p->source);
    free(p->name);
    free(p->description);
    free(p->dir);
    json_decref(p->params);
    free(p);
}

long weir_pipeline_find(const struct weir_pipeline *p, const char *id)
{
    for (size_t i = 0; i < p->nsteps; i++) {
        if (!strcmp(p->steps[i].id, id)) {
            return (long)i;
        }
    }
    return -1;
}

/* ------------------------------------------------------------------ */
/* params                                                              */

static enum weir_param_type param_type(const char *name)
{
    static const char *names[] = { "any", "string", "integer", "number", "boolean", "object", "array" };
    for (int i = 0; i < 7; i++) {
        if (name && !strcmp(name, names[i])) {
            return (enum weir_param_type)i;
        }
    }
    return WEIR_PARAM_STRING;
}

/* "10" for an integer param becomes 10; text that is not JSON stays a string. */
static json_t *coerce(const json_t *given, enum weir_param_type t)
{
    json_t *parsed;

    if (!json_is_string(given) || t == WEIR_PARAM_STRING) {
        return json_incref((json_t *)given);
    }
    parsed = json_loads(json_string_value(given), JSON_DECODE_ANY, NULL);
    if (parsed && weir_param_type_matches(t, parsed)) {
        return parsed;
    }
    json_decref(parsed);
    return json_incref((json_t *)given);
}

int weir_pipeline_params(const struct weir_pipeline *p, const json_t *given, json_t **out)
{
    json_t *params = json_object();
    const char *key;
    json_t *decl, *v;

    json_object_foreach((json_t *)given, key, v) {
        if (!json_object_get(p->params, key)) {
            char names[512] = "";
            const char *k;
            json_t *d;
            json_object_foreach(p->params, k, d) {
                strncat(names, *names ? ", " : "", sizeof(names) - strlen(names) - 1);
                strncat(names, k, sizeof(names) - strlen(names) - 1);
            }
            json_decref(params);
            return weir_error_set(WEIR_EINVALID, "unknown param '%s'; pipeline '%s' declares: %s", key,
                                  p->name, *names ? names : "none");
        }
    }
    json_object_foreach(p->params, key, decl) {
        enum weir_param_type t = param_type(json_string_value(json_object_get(decl, "type")));
        json_t *value = json_object_get(given, key);
        value = value ? coerce(value, t) : json_incref(json_object_get(decl, "default"));
        if (json_is_null(value) && !json_object_get(given, key)) {
            /* `default: null` is the same as no default */
            json_decref(value);
            value = NULL;
        }
        if (!value && json_is_true(json_object_get(decl, "required"))) {
            json_decref(params);
            return weir_error_set(WEIR_EINVALID, "missing required param '%s'; pass --param %s=VALUE",
                                  key, key);
        }
        if (value && !weir_param_type_matches(t, value)) {
            json_decref(value);
            json_decref(params);
            return weir_error_set(WEIR_EINVALID, "param '%s' must be %s", key, weir_param_type_name(t));
        }
        json_object_set_new(params, key, value ? value : json_null());
    }
    *out = params;
    return WEIR_OK;
}

/* ------------------------------------------------------------------ */
/* durations                                                           */

int weir_duration_parse(const json_t *v, int64_t *ms)
{
    const char *s;
    char *end = NULL;
    double n;

    if (json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) < 864000000) {
        *ms = (int64_t)json_integer_value(v) * 1000;
        return WEIR_OK;
    }
    if (!json_is_string(v)) {
        return weir_error_set(WEIR_EINVALID, "a duration is a number of seconds or a string like "
                              "\"500ms\", \"30s\", \"5m\", \"1h\"");
    }
    s = json_string_value(v);
    errno = 0;
    n = strtod(s, &end);
    if (end == s || errno || n < 0 || n > 1e9) {
        return weir_error_set(WEIR_EINVALID, "'%s' is not a duration; use e.g. \"500ms\", \"30s\", "
                              "\"5m\", \"1h\"", s);
    }
    if (!strcmp(end, "ms")) {
        *ms = (int64_t)n;
    }
    else if (!strcmp(end, "s") || !*end) {
        *ms = (int64_t)(n * 1000);
    }
    else if (!strcmp(end, "m")) {
        *ms = (int64_t)(n * 60000);
    }
    else if (!strcmp(end, "h")) {
        *ms = (int64_t)(n * 3600000);
    }
    else {
        return weir_error_set(WEIR_EINVALID, "'%s' has an unknown unit '%s'; use ms, s, m or h", s, end);
    }
    return WEIR_OK;
}

/* ------------------------------------------------------------------ */
/* graphs                                                              */

static const char *kind_label(const struct weir_pstep *s)
{
    switch (s->kind) {
    case WEIR_STEP_LUA: return "lua";
    case WEIR_STEP_APPROVAL: return "approval";
    case WEIR_STEP_REPEAT: return "repeat";
    default: return s->uses ? s->uses : "uses";
    }
}

static void graph_dot(const struct weir_pipeline *p, FILE *fp)
{
    fprintf(fp, "digraph \"%s\" {\n  rankdir=LR;\n  node [shape=box];\n", p->name);
    for (size_t i = 0; i < p->nsteps; i++) {
        const struct weir_pstep *s = &p->steps[i];
        fprintf(fp, "  \"%s\" [label=\"%s\\n%s\"%s];\n", s->id, s->id, kind_label(s),
                s->kind == WEIR_STEP_APPROVAL ? ", shape=diamond" : "");
        if (s->parent >= 0) {
            fprintf(fp, "  \"%s\" -> \"%s\" [style=dotted, label=\"in\"];\n", s->id, p->steps[s->parent].id);
        }
        for (size_t k = 0; k < s->nneeds; k++) {
            fprintf(fp, "  \"%s\" -> \"%s\";\n", p->steps[s->needs[k]].id, s->id);
        }
    }
    fputs("}\n", fp);
}

static void graph_mermaid(const struct weir_pipeline *p, FILE *fp)
{
    fputs("flowchart LR\n", fp);
    for (size_t i = 0; i < p->nsteps; i++) {
        const struct weir_pstep *s = &p->steps[i];
        if (s->kind == WEIR_STEP_APPROVAL) {
            fprintf(fp, "  %s{\"%s<br/>%s\"}\n", s->id, s->id, kind_label(s));
        }
        else {
            fprintf(fp, "  %s[\"%s<br/>%s\"]\n", s->id, s->id, kind_label(s));
        }
        if (s->parent >= 0) {
            fprintf(fp, "  %s -.-> %s\n", s->id, p->steps[s->parent].id);
        }
        for (size_t k = 0; k < s->nneeds; k++) {
            fprintf(fp, "  %s --> %s\n", p->steps[s->needs[k]].id, s->id);
        }
    }
}

int weir_pipeline_graph(const struct weir_pipeline *p, const char *format, FILE *fp)
{
    if (!format || !strcmp(format, "dot")) {
        graph_dot(p, fp);
    }
    else if (!strcmp(format, "mermaid")) {
        graph_mermaid(p, fp);
    }
    else {
        return weir_error_set(WEIR_EINVALID, "unknown graph format '%s'; use dot or mermaid", format);
    }
    return WEIR_OK;
}
