/* pipeline_load.c - from a YAML tree to struct weir_pipeline, key by key. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "lua_host.h"
#include "pipeline.h"
#include "pipeline_int.h"
#include "ydoc.h"

static const char *const step_keys[] = { "id", "name", "description", "uses", "lua", "with", "needs",
                                         "if", "retry", "timeout", "continue_on_error", "for_each",
                                         "repeat", "steps", "approval", NULL };

void weir__perr(struct weir_load *ld, const struct weir_ynode *n, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    weir_diags_add(ld->diags, ld->p->file, n ? n->line : 0, n ? n->col : 0, "%s", msg);
}

static int is_scalar(const struct weir_ynode *n)
{
    return n && n->kind == WEIR_YNODE_SCALAR;
}

static int valid_id(const char *s)
{
    if (!s || !(isalpha((unsigned char)*s) || *s == '_')) {
        return 0;
    }
    for (; *s; s++) {
        if (!(isalnum((unsigned char)*s) || *s == '_')) {
            return 0;
        }
    }
    return 1;
}

static int known_key(const char *key, const char *const *keys)
{
    for (size_t i = 0; keys[i]; i++) {
        if (!strcmp(keys[i], key)) {
            return 1;
        }
    }
    return 0;
}

static void unknown_keys(struct weir_load *ld, const struct weir_ynode *map, const char *what,
                         const char *const *keys)
{
    for (size_t i = 0; i < map->n; i++) {
        if (!known_key(map->keys[i]->str, keys)) {
            char list[512] = "";
            for (size_t k = 0; keys[k]; k++) {
                strncat(list, k ? ", " : "", sizeof(list) - strlen(list) - 1);
                strncat(list, keys[k], sizeof(list) - strlen(list) - 1);
            }
            weir__perr(ld, map->keys[i], "unknown key '%s' in %s; known keys: %s", map->keys[i]->str,
                       what, list);
        }
    }
}

/* ------------------------------------------------------------------ */
/* expressions and templates with positions                           */

static const struct weir_ynode *node_at_pointer(const struct weir_ynode *n, const char *ptr)
{
    char tok[256];

    while (n && *ptr == '/') {
        size_t len = strcspn(ptr + 1, "/");
        size_t j = 0;
        if (len >= sizeof(tok)) {
            return n;
        }
        for (size_t i = 0; i < len; i++) {
            char c = ptr[1 + i];
            if (c == '~' && i + 1 < len) {
                c = ptr[2 + i] == '1' ? '/' : '~';
                i++;
            }
            tok[j++] = c;
        }
        tok[j] = '\0';
        ptr += 1 + len;
        if (n->kind == WEIR_YNODE_MAP) {
            n = weir_ynode_get(n, tok);
        }
        else if (n->kind == WEIR_YNODE_SEQ) {
            size_t idx = strtoul(tok, NULL, 10);
            n = idx < n->n ? n->items[idx] : NULL;
        }
    }
    return n;
}

/* Column of a byte offset inside a one-line scalar (quoted scalars start one
 * column later than their node). */
static int col_at(const struct weir_ynode *n, size_t offset)
{
    if (!n || !is_scalar(n) || memchr(n->str, '\n', n->len)) {
        return n ? n->col : 0;
    }
    return n->col + (n->plain ? 0 : 1) + (int)offset;
}

struct weir_tmpl *weir__tmpl_from_node(struct weir_load *ld, const struct weir_ynode *n)
{
    json_t *v = weir_ynode_to_json(n);
    struct weir_tmpl *t = NULL;
    struct weir_tmpl_error err;

    memset(&err, 0, sizeof(err));
    if (!v) {
        weir__perr(ld, n, "out of memory");
        return NULL;
    }
    if (weir_tmpl_compile(v, &t, &err) < 0) {
        const struct weir_ynode *at = node_at_pointer(n, err.path);
        if (!at) {
            at = n; /* the pointer was cut short (very long keys): the whole value */
        }
        weir_diags_add(ld->diags, ld->p->file, at->line, col_at(at, err.offset),
                       "invalid expression: %s", weir_error_last());
        t = NULL;
    }
    json_decref(v);
    return t;
}

/* `if:` and `until:` take "${{ e }}" or a bare expression e. */
struct weir_expr *weir__cond_from_node(struct weir_load *ld, const struct weir_ynode *n,
                                       const char *key)
{
    struct weir_expr *e = NULL;
    const char *s, *end;
    size_t off = 0, start;

    if (!is_scalar(n)) {
        weir__perr(ld, n, "'%s' must be an expression such as \"${{ steps.x.output.ok }}\"", key);
        return NULL;
    }
    s = n->str;
    end = s + n->len;
    start = strspn(s, " \t");
    if (!strncmp(s + start, "${{", 3)) {
        /* the expression ends at the last "}}": a string literal inside may
         * hold "}}" too ("${{ x == '}}' }}") */
        size_t tail = n->len;
        while (tail > start && (s[tail - 1] == ' ' || s[tail - 1] == '\t' || s[tail - 1] == '\n')) {
            tail--;
        }
        if (tail < start + 5 || memcmp(s + tail - 2, "}}", 2) ||
            memmem(s + start + 3, tail - 2 - (start + 3), "${{", 3)) {
            weir__perr(ld, n, "'%s' must be exactly one ${{ ... }} expression", key);
            return NULL;
        }
        s += start + 3;
        end = n->str + tail - 2;
        start = start + 3;
    }
    else {
        s += 0;
        start = 0;
    }
    if (weir_expr_compile(s, (size_t)(end - s), &e, &off) < 0) {
        weir_diags_add(ld->diags, ld->p->file, n->line, col_at(n, start + off),
                       "invalid expression in '%s': %s", key, weir_error_last());
        return NULL;
    }
    return e;
}

/* ------------------------------------------------------------------ */
/* step keys                                                           */

static void parse_needs(struct weir_load *ld, struct weir_lstep *ls, const struct weir_ynode *n)
{
    if (is_scalar(n)) {
        ls->needs_nodes = calloc(1, sizeof(*ls->needs_nodes));
        if (ls->needs_nodes) {
            ls->needs_nodes[0] = n;
            ls->nneeds = 1;
        }
        return;
    }
    if (n->kind != WEIR_YNODE_SEQ) {
        weir__perr(ld, n, "'needs' must be a step id or a list of step ids");
        return;
    }
    ls->needs_nodes = calloc(n->n ? n->n : 1, sizeof(*ls->needs_nodes));
    for (size_t i = 0; ls->needs_nodes && i < n->n; i++) {
        if (!is_scalar(n->items[i])) {
            weir__perr(ld, n->items[i], "'needs' entries must be step ids");
            continue;
        }
        ls->needs_nodes[ls->nneeds++] = n->items[i];
    }
}

static int json_int_in(const json_t *v, long long lo, long long hi)
{
    return json_is_integer(v) && json_integer_value(v) >= lo && json_integer_value(v) <= hi;
}

static void parse_retry(struct weir_load *ld, struct weir_pstep *s, const struct weir_ynode *n)
{
    static const char *const keys[] = { "max", "backoff", "delay", "max_delay", "jitter", NULL };
    json_t *v = weir_ynode_to_json(n);
    json_t *max = json_is_object(v) ? json_object_get(v, "max") : v;
    const char *backoff = json_string_value(json_object_get(v, "backoff"));
    const struct weir_ynode *at;

    s->retry.delay_ms = 1000;
    s->retry.max_delay_ms = 60000;
    s->retry.jitter = 1;
    if (n->kind == WEIR_YNODE_MAP) {
        unknown_keys(ld, n, "retry", keys);
    }
    else if (!is_scalar(n)) {
        weir__perr(ld, n, "'retry' must be a number of retries or {max, backoff, delay, max_delay, jitter}");
        goto done;
    }
    at = n->kind == WEIR_YNODE_MAP && weir_ynode_get(n, "max") ? weir_ynode_get(n, "max") : n;
    if (!max) {
        weir__perr(ld, n, "'retry' needs 'max', the number of retries (0 to 100)");
    }
    else if (!json_int_in(max, 0, 100)) {
        weir__perr(ld, at, "retry max must be an integer from 0 to 100");
    }
    else {
        s->retry.max = (int)json_integer_value(max);
    }
    if (json_object_get(v, "backoff") &&
        (!backoff || (strcmp(backoff, "fixed") && strcmp(backoff, "exponential")))) {
        weir__perr(ld, weir_ynode_get(n, "backoff"), "retry backoff must be 'fixed' or 'exponential'");
    }
    s->retry.exponential = backoff && !strcmp(backoff, "exponential");
    if (json_object_get(v, "delay") && weir_duration_parse(json_object_get(v, "delay"), &s->retry.delay_ms) < 0) {
        weir__perr(ld, weir_ynode_get(n, "delay"), "retry delay: %s", weir_error_last());
    }
    if (json_object_get(v, "max_delay") &&
        weir_duration_parse(json_object_get(v, "max_delay"), &s->retry.max_delay_ms) < 0) {
        weir__perr(ld, weir_ynode_get(n, "max_delay"), "retry max_delay: %s", weir_error_last());
    }
    if (json_object_get(v, "jitter")) {
        if (!json_is_boolean(json_object_get(v, "jitter"))) {
            weir__perr(ld, weir_ynode_get(n, "jitter"), "retry jitter must be true or false");
        }
        s->retry.jitter = json_is_true(json_object_get(v, "jitter"));
    }
done:
    json_decref(v);
}

static void parse_approval(struct weir_load *ld, struct weir_lstep *ls, const struct weir_ynode *n)
{
    static const char *const keys[] = { "message", "show", "refine", NULL };
    const struct weir_ynode *refine;

    if (n->kind != WEIR_YNODE_MAP) {
        weir__perr(ld, n, "'approval' must be a mapping {message, show, refine}");
        return;
    }
    unknown_keys(ld, n, "approval", keys);
    ls->s->approval = weir__tmpl_from_node(ld, n);
    refine = weir_ynode_get(n, "refine");
    if (refine && !is_scalar(refine)) {
        weir__perr(ld, refine, "'refine' must be the id of the step to re-run on refine");
    }
    ls->refine_node = refine;
}

static void parse_repeat(struct weir_load *ld, struct weir_pstep *s, const struct weir_ynode *n)
{
    static const char *const keys[] = { "until", "max", NULL };
    const struct weir_ynode *until, *max;

    if (n->kind != WEIR_YNODE_MAP) {
        weir__perr(ld, n, "'repeat' must be a mapping {until, max}");
        return;
    }
    unknown_keys(ld, n, "repeat", keys);
    until = weir_ynode_get(n, "until");
    max = weir_ynode_get(n, "max");
    if (!until) {
        weir__perr(ld, n, "'repeat' needs 'until', the condition that ends the loop");
    }
    else {
        s->until = weir__cond_from_node(ld, until, "until");
    }
    s->repeat_max = 0;
    if (!max || !is_scalar(max) || !max->plain || atol(max->str) < 1 || atol(max->str) > 1000 ||
        strspn(max->str, "0123456789") != max->len) {
        weir__perr(ld, max ? max : n, "'repeat' needs 'max', an integer from 1 to 1000 that bounds "
                   "the loop");
    }
    else {
        s->repeat_max = atoi(max->str);
    }
}

static void parse_bool(struct weir_load *ld, int *out, const struct weir_ynode *n, const char *key)
{
    json_t *v = weir_ynode_to_json(n);

    if (!json_is_boolean(v)) {
        weir__perr(ld, n, "'%s' must be true or false", key);
    }
    *out = json_is_true(v);
    json_decref(v);
}

static void parse_timeout(struct weir_load *ld, struct weir_pstep *s, const struct weir_ynode *n)
{
    json_t *v = weir_ynode_to_json(n);

    if (weir_duration_parse(v, &s->timeout_ms) < 0 || s->timeout_ms <= 0) {
        weir__perr(ld, n, "'timeout' must be a positive duration such as 30, \"30s\", \"500ms\", "
                   "\"5m\" or \"1h\"");
    }
    json_decref(v);
}

static void parse_with(struct weir_load *ld, struct weir_lstep *ls, const struct weir_ynode *n)
{
    if (n->kind != WEIR_YNODE_MAP) {
        weir__perr(ld, n, "'with' must be a mapping of param names to values");
        return;
    }
    ls->with_node = n;
    ls->s->with = weir__tmpl_from_node(ld, n);
}

static void parse_for_each(struct weir_load *ld, struct weir_pstep *s, const struct weir_ynode *n)
{
    /* a scalar without ${{ is a constant string or number, never a list */
    if (!(n->kind == WEIR_YNODE_SEQ || (is_scalar(n) && memmem(n->str, n->len, "${{", 3)))) {
        weir__perr(ld, n, "'for_each' must be a list or an expression giving a list, such as "
                   "[a, b] or \"${{ steps.tables.output }}\"");
        return;
    }
    s->for_each = weir__tmpl_from_node(ld, n);
}

static void parse_key(struct weir_load *ld, struct weir_lstep *ls, const char *key,
                      const struct weir_ynode *v)
{
    struct weir_pstep *s = ls->s;

    if (!strcmp(key, "uses") || !strcmp(key, "lua")) {
        if (!is_scalar(v) || !v->len) {
            weir__perr(ld, v, "'%s' must be a non-empty string", key);
        }
    }
    if (!strcmp(key, "name") || !strcmp(key, "description") || !strcmp(key, "id")) {
        if (!is_scalar(v)) {
            weir__perr(ld, v, "'%s' must be a string", key);
        }
    }
    else if (!strcmp(key, "with")) {
        parse_with(ld, ls, v);
    }
    else if (!strcmp(key, "needs")) {
        parse_needs(ld, ls, v);
    }
    else if (!strcmp(key, "if")) {
        s->cond = weir__cond_from_node(ld, v, "if");
    }
    else if (!strcmp(key, "retry")) {
        parse_retry(ld, s, v);
    }
    else if (!strcmp(key, "timeout")) {
        parse_timeout(ld, s, v);
    }
    else if (!strcmp(key, "continue_on_error")) {
        parse_bool(ld, &s->continue_on_error, v, key);
    }
    else if (!strcmp(key, "for_each")) {
        parse_for_each(ld, s, v);
    }
    else if (!strcmp(key, "repeat")) {
        parse_repeat(ld, s, v);
    }
    else if (!strcmp(key, "approval")) {
        parse_approval(ld, ls, v);
    }
}

/* ------------------------------------------------------------------ */
/* steps                                                               */

static int set_kind(struct weir_load *ld, struct weir_pstep *s, const struct weir_ynode *n)
{
    static const char *const kinds[] = { "uses", "lua", "approval", "repeat" };
    int found = -1;

    for (int k = 0; k < 4; k++) {
        if (weir_ynode_get(n, kinds[k])) {
            if (found >= 0) {
                weir__perr(ld, weir_ynode_get(n, kinds[k]), "a step has exactly one of uses, lua, "
                           "approval or repeat; this one has both '%s' and '%s'", kinds[found], kinds[k]);
                return -1;
            }
            found = k;
        }
    }
    if (found < 0) {
        weir__perr(ld, n, "step '%s' needs one of uses (a plugin step), lua (a script), approval or "
                   "repeat", s->id ? s->id : "?");
        return -1;
    }
    s->kind = (enum weir_step_kind)found;
    return 0;
}

static void check_kind_keys(struct weir_load *ld, const struct weir_pstep *s, const struct weir_ynode *n)
{
    const struct weir_ynode *steps = weir_ynode_get(n, "steps");

    if (s->kind == WEIR_STEP_REPEAT && !steps) {
        weir__perr(ld, n, "a repeat step needs 'steps', the list of steps to repeat");
    }
    if (s->kind != WEIR_STEP_REPEAT && steps) {
        weir__perr(ld, steps, "'steps' inside a step is only allowed together with 'repeat'");
    }
    if ((s->kind == WEIR_STEP_APPROVAL || s->kind == WEIR_STEP_REPEAT) && weir_ynode_get(n, "with")) {
        weir__perr(ld, weir_ynode_get(n, "with"), "'with' is for uses and lua steps");
    }
    if ((s->kind == WEIR_STEP_APPROVAL || s->kind == WEIR_STEP_REPEAT) && weir_ynode_get(n, "for_each")) {
        weir__perr(ld, weir_ynode_get(n, "for_each"), "'for_each' is for uses and lua steps");
    }
}

static int add_step(struct weir_load *ld, struct weir_lstep **out)
{
    struct weir_pipeline *p = ld->p;

    if (p->nsteps >= WEIR_PIPELINE_MAX_STEPS) {
        return -1;
    }
    if (p->nsteps == ld->cap) {
        size_t cap = ld->cap ? ld->cap * 2 : 16;
        struct weir_pstep *steps = realloc(p->steps, cap * sizeof(*steps));
        struct weir_lstep *ls = realloc(ld->ls, cap * sizeof(*ls));
        if (steps) {
            p->steps = steps;
        }
        if (ls) {
            ld->ls = ls;
        }
        if (!steps || !ls) {
            return -1;
        }
        ld->cap = cap;
        /* the steps moved: re-point the loader's view of each one */
        for (size_t i = 0; i < p->nsteps; i++) {
            ld->ls[i].s = &p->steps[i];
        }
    }
    memset(&p->steps[p->nsteps], 0, sizeof(p->steps[0]));
    memset(&ld->ls[p->nsteps], 0, sizeof(ld->ls[0]));
    p->steps[p->nsteps].refine = -1;
    *out = &ld->ls[p->nsteps];
    (*out)->s = &p->steps[p->nsteps];
    p->nsteps++;
    return 0;
}

static void parse_steps(struct weir_load *ld, const struct weir_ynode *seq, long parent);

static void parse_step(struct weir_load *ld, const struct weir_ynode *n, long parent)
{
    const struct weir_ynode *id, *body;
    struct weir_lstep *ls;
    long self;

    if (n->kind != WEIR_YNODE_MAP) {
        weir__perr(ld, n, "each step must be a mapping with at least 'id' and 'uses' or 'lua'");
        return;
    }
    if (add_step(ld, &ls) < 0) {
        weir__perr(ld, n, "too many steps (the limit is %d)", WEIR_PIPELINE_MAX_STEPS);
        return;
    }
    self = (long)ld->p->nsteps - 1;
    ls->node = n;
    ls->s->line = n->line;
    ls->s->col = n->col;
    ls->s->parent = parent;
    unknown_keys(ld, n, "a step", step_keys);
    id = weir_ynode_get(n, "id");
    /* a non-scalar id is reported by parse_key */
    if (!id || (is_scalar(id) && !valid_id(id->str))) {
        weir__perr(ld, id ? id : n, id ? "step id '%s' must match [A-Za-z_][A-Za-z0-9_]* (ids are "
                   "used in expressions as steps.<id>)" : "step has no 'id'%s; give it a unique id",
                   id ? id->str : "");
    }
    ls->s->id = strdup(id && is_scalar(id) ? id->str : "?");
    if (set_kind(ld, ls->s, n) == 0) {
        check_kind_keys(ld, ls->s, n);
    }
    for (size_t i = 0; i < n->n; i++) {
        /* ls may move when nested steps grow the arrays: re-fetch by index */
        parse_key(ld, &ld->ls[self], n->keys[i]->str, n->items[i]);
    }
    ls = &ld->ls[self];
    if ((body = weir_ynode_get(n, "uses")) && is_scalar(body)) {
        ls->s->uses = strdup(body->str);
    }
    if ((body = weir_ynode_get(n, "lua")) && is_scalar(body)) {
        weir__lua_load(ld, ls->s, body);
    }
    if (ls->s->kind == WEIR_STEP_REPEAT && (body = weir_ynode_get(n, "steps")) != NULL) {
        parse_steps(ld, body, self);
    }
}

static void parse_steps(struct weir_load *ld, const struct weir_ynode *seq, long parent)
{
    if (seq->kind != WEIR_YNODE_SEQ || seq->n == 0) {
        weir__perr(ld, seq, "'steps' must be a non-empty list of steps");
        return;
    }
    /* ld->depth counts enclosing repeat groups; the top-level list is none */
    if (parent >= 0 && ld->depth >= 16) {
        weir__perr(ld, ld->ls[parent].node, "repeat groups nest deeper than 16 levels (group "
                   "'%s'); flatten the loops", ld->p->steps[parent].id);
        return;
    }
    ld->depth += parent >= 0;
    for (size_t i = 0; i < seq->n; i++) {
        parse_step(ld, seq->items[i], parent);
    }
    ld->depth -= parent >= 0;
}

/* ------------------------------------------------------------------ */
/* top level                                                           */

/* types[] is in the order of enum weir_param_type. A null default is the
 * same as none. */
static void check_default(struct weir_load *ld, const char *name, const struct weir_ynode *d,
                          const json_t *decl, const char *type, const char *const *types)
{
    const json_t *def = json_object_get(decl, "default");
    size_t t = 0;

    while (strcmp(types[t], type)) {
        t++;
    }
    if (def && !json_is_null(def) && !weir_param_type_matches((enum weir_param_type)t, def)) {
        weir__perr(ld, weir_ynode_get(d, "default"), "default of param '%s' must be %s, the param's "
                   "type; fix the default or the type", name, type);
    }
}

static void parse_params(struct weir_load *ld, const struct weir_ynode *n)
{
    static const char *const keys[] = { "type", "required", "default", "description", NULL };
    static const char *const types[] = { "any", "string", "integer", "number", "boolean", "object",
                                         "array", NULL };

    if (n->kind != WEIR_YNODE_MAP) {
        weir__perr(ld, n, "'params' must be a mapping of param name to {type, required, default, "
                   "description}");
        return;
    }
    for (size_t i = 0; i < n->n; i++) {
        const struct weir_ynode *d = n->items[i];
        json_t *decl;
        const char *type;
        if (!valid_id(n->keys[i]->str)) {
            weir__perr(ld, n->keys[i], "param name '%s' must match [A-Za-z_][A-Za-z0-9_]*", n->keys[i]->str);
        }
        if (d->kind != WEIR_YNODE_MAP) {
            weir__perr(ld, d, "param '%s' must be a mapping such as { type: string, required: true }",
                       n->keys[i]->str);
            continue;
        }
        unknown_keys(ld, d, "a param", keys);
        decl = weir_ynode_to_json(d);
        type = json_string_value(json_object_get(decl, "type"));
        if (!type) {
            json_object_set_new(decl, "type", json_string(type = "string"));
        }
        if (!known_key(type, types)) {
            weir__perr(ld, weir_ynode_get(d, "type"), "param type '%s' is unknown; use one of any, "
                       "string, integer, number, boolean, object, array", type);
        }
        else {
            check_default(ld, n->keys[i]->str, d, decl, type, types);
        }
        if (json_object_get(decl, "required") && !json_is_boolean(json_object_get(decl, "required"))) {
            weir__perr(ld, weir_ynode_get(d, "required"), "'required' must be true or false");
        }
        json_object_set_new(ld->p->params, n->keys[i]->str, decl);
    }
}

static void parse_top(struct weir_load *ld, const struct weir_ynode *root)
{
    static const char *const keys[] = { "version", "name", "description", "params", "steps", NULL };
    const struct weir_ynode *v;

    unknown_keys(ld, root, "the pipeline", keys);
    v = weir_ynode_get(root, "version");
    if (!v) {
        weir__perr(ld, root, "missing 'version: 1' at the top of the pipeline");
    }
    else if (!is_scalar(v) || strcmp(v->str, "1")) {
        weir__perr(ld, v, "unsupported pipeline version '%s'; this weir reads version 1",
                   is_scalar(v) ? v->str : "?");
    }
    if ((v = weir_ynode_get(root, "name")) != NULL) {
        if (is_scalar(v)) {
            ld->p->name = strdup(v->str);
        }
        else {
            weir__perr(ld, v, "'name' must be a string");
        }
    }
    if ((v = weir_ynode_get(root, "description")) != NULL) {
        if (is_scalar(v)) {
            ld->p->description = strdup(v->str);
        }
        else {
            weir__perr(ld, v, "'description' must be a string");
        }
    }
    if ((v = weir_ynode_get(root, "params")) != NULL) {
        parse_params(ld, v);
    }
    v = weir_ynode_get(root, "steps");
    if (!v) {
        weir__perr(ld, root, "missing 'steps', the list of steps to run");
        return;
    }
    parse_steps(ld, v, -1);
}

/* Appends a load's own diagnostics to the caller's list. */
static void move_diags(struct weir_diags *to, struct weir_diags *from)
{
    for (size_t i = 0; i < from->n; i++) {
        weir_diags_add(to, from->v[i].file, from->v[i].line, from->v[i].col, "%s", from->v[i].msg);
    }
    to->dropped += from->dropped;
    weir_diags_free(from);
}

static char *stem_of(const char *file)
{
    const char *base = strrchr(file, '/');
    char *name = strdup(base ? base + 1 : file);
    char *dot = name ? strrchr(name, '.') : NULL;

    if (dot && dot != name) {
        *dot = '\0';
    }
    return name;
}

int weir_pipeline_load(const char *file, const char *text, size_t len, const struct weir_config *cfg,
                       const char *target, const struct weir_plugins *plugins,
                       struct weir_pipeline **out, struct weir_diags *diags)
{
    struct weir_load ld;
    struct weir_ynode *root = NULL;
    struct weir_pipeline *p = calloc(1, sizeof(*p));
    /* this load's own list: the checks count what this file produced, and
     * the caller's list may hold other files' diagnostics */
    struct weir_diags local = { 0 };
    int rc = WEIR_OK;

    memset(&ld, 0, sizeof(ld));
    if (!p) {
        return weir_error_set(WEIR_ENOMEM, "out of memory");
    }
    p->file = strdup(file);
    p->source = malloc(len + 1);
    p->params = json_object();
    p->dir = weir__dirname(file);
    if (!p->file || !p->source || !p->params || !p->dir) {
        weir_pipeline_free(p);
        return weir_error_set(WEIR_ENOMEM, "out of memory");
    }
    memcpy(p->source, text, len);
    p->source[len] = '\0';
    ld = (struct weir_load){ .p = p, .cfg = cfg, .target = target, .plugins = plugins,
                             .diags = &local };
    if (weir_ydoc_parse(text, len, file, &root, &local) < 0) {
        goto done;
    }
    if (!root || root->kind != WEIR_YNODE_MAP) {
        weir_diags_add(&local, file, root ? root->line : 1, root ? root->col : 1,
                       "a pipeline is a mapping with 'version: 1', 'name' and 'steps'");
        goto done;
    }
    parse_top(&ld, root);
    if (!p->name) {
        p->name = stem_of(file);
    }
    weir__pipeline_check(&ld);

done:
    for (size_t i = 0; ld.ls && i < p->nsteps; i++) {
        free(ld.ls[i].needs_nodes);
    }
    free(ld.ls);
    weir_ynode_free(root);
    if (local.n + local.dropped > 0) {
        weir_pipeline_free(p);
        rc = weir_diags_to_error(&local);
        move_diags(diags, &local);
        return rc;
    }
    *out = p;
    return rc;
}
