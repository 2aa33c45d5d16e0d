/* pipeline_check.c - checks across steps: ids, needs, cycles, uses, with,
 * and what each expression may read. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ctx.h"
#include "error.h"
#include "pipeline_int.h"

static const char *const known_services[] = { "catalog", "engine", "store", "llm", "notify", NULL };

/* ------------------------------------------------------------------ */
/* ids and needs                                                       */

static void index_ids(struct weir_load *ld, json_t *ids)
{
    for (size_t i = 0; i < ld->p->nsteps; i++) {
        const char *id = ld->p->steps[i].id;
        const struct weir_ynode *idn = weir_ynode_get(ld->ls[i].node, "id");
        json_t *prev;
        if (!idn || idn->kind != WEIR_YNODE_SCALAR) {
            continue; /* no id: reported while loading, and "?" is no duplicate */
        }
        prev = json_object_get(ids, id);
        if (prev) {
            const struct weir_pstep *first = &ld->p->steps[json_integer_value(prev)];
            weir__perr(ld, idn, "duplicate step id '%s' (first defined at %d:%d); step ids must be "
                       "unique", id, first->line, first->col);
            continue;
        }
        json_object_set_new(ids, id, json_integer((json_int_t)i));
    }
}

static long lookup(const json_t *ids, const char *id)
{
    json_t *v = json_object_get(ids, id);
    return v ? (long)json_integer_value(v) : -1;
}

static void resolve_needs(struct weir_load *ld, size_t i, const json_t *ids)
{
    struct weir_lstep *ls = &ld->ls[i];
    struct weir_pstep *s = ls->s;

    s->needs = calloc(ls->nneeds ? ls->nneeds : 1, sizeof(*s->needs));
    for (size_t k = 0; s->needs && k < ls->nneeds; k++) {
        const struct weir_ynode *n = ls->needs_nodes[k];
        long j = lookup(ids, n->str);
        if (j < 0) {
            weir__perr(ld, n, "step '%s' needs '%s', which is not a step of this pipeline", s->id, n->str);
        }
        else if ((size_t)j == i) {
            weir__perr(ld, n, "step '%s' needs itself; remove it from its needs", s->id);
        }
        else if (ld->p->steps[j].parent != s->parent) {
            weir__perr(ld, n, "step '%s' needs '%s', which is in another repeat group; a step can "
                       "only need steps of its own group (depend on the group instead)", s->id, n->str);
        }
        else {
            s->needs[s->nneeds++] = (size_t)j;
        }
    }
}

/* Iterative DFS; colour 0 white, 1 on the path, 2 done. On a back edge the
 * cycle is the stack from the repeated step. */
static void find_cycles(struct weir_load *ld)
{
    size_t n = ld->p->nsteps;
    unsigned char *colour = calloc(n ? n : 1, 1);
    size_t *stack = calloc(n ? n : 1, sizeof(*stack)), *next = calloc(n ? n : 1, sizeof(*next));

    for (size_t root = 0; colour && stack && next && root < n; root++) {
        size_t top = 0;
        if (colour[root]) {
            continue;
        }
        stack[top++] = root;
        colour[root] = 1;
        next[root] = 0;
        while (top) {
            size_t u = stack[top - 1];
            const struct weir_pstep *s = &ld->p->steps[u];
            if (next[u] == s->nneeds) {
                colour[u] = 2;
                top--;
                continue;
            }
            size_t v = s->needs[next[u]++];
            if (colour[v] == 0) {
                colour[v] = 1;
                next[v] = 0;
                stack[top++] = v;
            }
            else if (colour[v] == 1) {
                char path[1024] = "";
                size_t from = 0;
                while (stack[from] != v) {
                    from++;
                }
                for (size_t k = from; k < top; k++) {
                    strncat(path, ld->p->steps[stack[k]].id, sizeof(path) - strlen(path) - 1);
                    strncat(path, " -> ", sizeof(path) - strlen(path) - 1);
                }
                strncat(path, ld->p->steps[v].id, sizeof(path) - strlen(path) - 1);
                weir__perr(ld, ld->ls[v].node, "dependency cycle: %s (each arrow reads \"needs\"); "
                           "remove one of these needs", path);
                colour[v] = 2; /* report each cycle once */
            }
        }
    }
    free(colour);
    free(stack);
    free(next);
}

/* ------------------------------------------------------------------ */
/* visibility: may step s read steps.x?                                */

static int contains(const struct weir_pipeline *p, long group, size_t x)
{
    for (long c = p->steps[x].parent; c >= 0; c = p->steps[c].parent) {
        if (c == group) {
            return 1;
        }
    }
    return 0;
}

static long common_group(const struct weir_pipeline *p, size_t a, size_t b)
{
    for (long c = p->steps[a].parent; c >= 0; c = p->steps[c].parent) {
        if (contains(p, c, b)) {
            return c;
        }
    }
    return -1;
}

static size_t lift(const struct weir_pipeline *p, size_t x, long group)
{
    while (p->steps[x].parent != group) {
        x = (size_t)p->steps[x].parent;
    }
    return x;
}

/* Is `to` reachable from `from` through needs? (siblings only) */
static int upstream(const struct weir_pipeline *p, size_t from, size_t to, unsigned *seen, unsigned stamp)
{
    size_t *stack = malloc(p->nsteps * sizeof(*stack));
    size_t top = 0;
    int found = 0;

    if (!stack) {
        return 1; /* out of memory: do not invent an error */
    }
    stack[top++] = from;
    while (top && !found) {
        const struct weir_pstep *s = &p->steps[stack[--top]];
        for (size_t k = 0; k < s->nneeds && !found; k++) {
            size_t v = s->needs[k];
            found = v == to;
            if (seen[v] != stamp) {
                seen[v] = stamp;
                stack[top++] = v;
            }
        }
    }
    free(stack);
    return found;
}

struct refctx {
    struct weir_load *ld;
    const json_t *ids;
    size_t step;
    const char *key;               /* with, if, for_each, approval, until */
    const struct weir_ynode *node; /* the scalar holding the expression */
    size_t base;                   /* where offsets of refs start in node's text */
    unsigned *seen;
};

/* Reports at the reference itself when node is a one-line scalar (quoted
 * scalars start one column before their text), else at node. */
static void __attribute__((format(printf, 3, 4)))
ref_err(const struct refctx *rc, const struct weir_expr_ref *ref, const char *fmt, ...)
{
    const struct weir_ynode *n = rc->node;
    int col = n ? n->col : 0;
    char msg[1024];
    va_list ap;

    if (n && n->kind == WEIR_YNODE_SCALAR && !memchr(n->str, '\n', n->len)) {
        col += (n->plain ? 0 : 1) + (int)(rc->base + ref->offset);
    }
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    weir_diags_add(rc->ld->diags, rc->ld->p->file, n ? n->line : 0, col, "%s", msg);
}

static int step_visible(struct refctx *rc, size_t x)
{
    const struct weir_pipeline *p = rc->ld->p;
    long group;

    if (x == rc->step) {
        return !strcmp(rc->key, "until"); /* a group's until reads the group's own steps */
    }
    if (contains(p, (long)rc->step, x)) {
        return !strcmp(rc->key, "until");
    }
    if (contains(p, (long)x, rc->step)) {
        return 0; /* an inner step reading its own group */
    }
    group = common_group(p, rc->step, x);
    if (group >= 0 && p->steps[x].parent >= 0 && contains(p, group, x) &&
        lift(p, x, group) != lift(p, rc->step, group)) {
        /* siblings in a loop see each other's latest outputs */
        return 1;
    }
    return upstream(p, lift(p, rc->step, group), lift(p, x, group), rc->seen, ++rc->ld->stamp);
}

static int in_group(const struct weir_pipeline *p, size_t s)
{
    return p->steps[s].parent >= 0;
}

static int check_ref(const struct weir_expr_ref *ref, void *payload)
{
    struct refctx *rc = payload;
    struct weir_load *ld = rc->ld;
    const struct weir_pstep *s = &ld->p->steps[rc->step];
    const char *root = ref->root;
    const char *first = ref->npath ? ref->path[0] : NULL;

    if (!strcmp(root, "params")) {
        if (first && !json_object_get(ld->p->params, first)) {
            ref_err(rc, ref, "step '%s' (%s) reads params.%s, which is not declared under "
                    "params", s->id, rc->key, first);
        }
    }
    else if (!strcmp(root, "steps")) {
        long x = first ? lookup(rc->ids, first) : -1;
        if (first && x < 0) {
            ref_err(rc, ref, "step '%s' (%s) reads steps.%s, which is not a step of this "
                    "pipeline", s->id, rc->key, first);
        }
        else if (x >= 0 && !step_visible(rc, (size_t)x)) {
            ref_err(rc, ref, "step '%s' (%s) reads steps.%s but does not depend on it; add "
                    "'%s' to its needs", s->id, rc->key, first, first);
        }
        else if (ref->npath > 1 && strcmp(ref->path[1], "output") && strcmp(ref->path[1], "status") &&
                 strcmp(ref->path[1], "error")) {
            ref_err(rc, ref, "step '%s' (%s) reads steps.%s.%s; a step has output, status "
                    "and error", s->id, rc->key, first, ref->path[1]);
        }
    }
    else if (!strcmp(root, "env")) {
        if (first && !weir_config_env_allowed(ld->cfg, first)) {
            ref_err(rc, ref, "step '%s' (%s) reads env.%s, which is not allowed; add %s to "
                    "env: in weir.yaml", s->id, rc->key, first, first);
        }
    }
    else if (!strcmp(root, "run")) {
        if (first && strcmp(first, "id") && strcmp(first, "date") && strcmp(first, "target")) {
            ref_err(rc, ref, "step '%s' (%s) reads run.%s; run has id, date and target",
                    s->id, rc->key, first);
        }
    }
    else if (!strcmp(root, "item") || !strcmp(root, "index")) {
        if (!s->for_each || strcmp(rc->key, "with")) {
            ref_err(rc, ref, "step '%s' (%s) reads %s, which exists only in 'with' of a "
                    "for_each step", s->id, rc->key, root);
        }
    }
    else if (!strcmp(root, "loop")) {
        if (!in_group(ld->p, rc->step) && strcmp(rc->key, "until")) {
            ref_err(rc, ref, "step '%s' (%s) reads loop, which exists only inside a repeat "
                    "group", s->id, rc->key);
        }
    }
    else if (strcmp(root, "feedback")) {
        ref_err(rc, ref, "step '%s' (%s): unknown name '%s' in expression; known: params, "
                "steps, env, run, item, index, loop, feedback", s->id, rc->key, root);
    }
    return 0;
}

/* The references of a template value, string by string: the compiled
 * template of the whole value does not say which string a reference is in,
 * so each string with an expression is compiled again on its own. */
static void check_tmpl_refs(struct refctx *rc, const struct weir_ynode *n)
{
    struct weir_tmpl *t = NULL;
    struct weir_tmpl_error err;
    json_t *v;

    if (!n) {
        return;
    }
    if (n->kind != WEIR_YNODE_SCALAR) {
        for (size_t i = 0; i < n->n; i++) {
            check_tmpl_refs(rc, n->items[i]);
        }
        return;
    }
    if (!memmem(n->str, n->len, "${{", 3)) {
        return;
    }
    v = json_stringn(n->str, n->len);
    if (v && weir_tmpl_compile(v, &t, &err) == WEIR_OK) {
        rc->node = n;
        rc->base = 0;
        weir_tmpl_foreach_ref(t, check_ref, rc);
    }
    weir_tmpl_free(t);
    json_decref(v);
}

/* The references of an `if:` or `until:` (see weir__cond_from_node: either
 * "${{ e }}" or a bare e); offsets count from e. */
static void check_cond_refs(struct refctx *rc, const struct weir_expr *e,
                            const struct weir_ynode *n)
{
    int scalar = n && n->kind == WEIR_YNODE_SCALAR;
    size_t start = scalar ? strspn(n->str, " \t") : 0;

    rc->node = n;
    rc->base = scalar && !strncmp(n->str + start, "${{", 3) ? start + 3 : 0;
    weir_expr_foreach_ref(e, check_ref, rc);
}

static void check_refs(struct weir_load *ld, size_t i, const json_t *ids, unsigned *seen)
{
    struct weir_pstep *s = &ld->p->steps[i];
    const struct weir_ynode *n = ld->ls[i].node;
    struct refctx rc = { ld, ids, i, "with", NULL, 0, seen };

    /* only values that compiled: the others have their error already */
    if (s->with) {
        check_tmpl_refs(&rc, ld->ls[i].with_node);
    }
    rc.key = "if";
    if (s->cond) {
        check_cond_refs(&rc, s->cond, weir_ynode_get(n, "if"));
    }
    rc.key = "for_each";
    if (s->for_each) {
        check_tmpl_refs(&rc, weir_ynode_get(n, "for_each"));
    }
    rc.key = "approval";
    if (s->approval) {
        check_tmpl_refs(&rc, weir_ynode_get(n, "approval"));
    }
    rc.key = "until";
    if (s->until) {
        check_cond_refs(&rc, s->until, weir_ynode_get(weir_ynode_get(n, "repeat"), "until"));
    }
}

/* ------------------------------------------------------------------ */
/* uses and with                                                       */

static int is_service(const json_t *services, const char *name)
{
    for (size_t i = 0; known_services[i]; i++) {
        if (!strcmp(known_services[i], name)) {
            return 1;
        }
    }
    return json_object_get(services, name) != NULL;
}

static void list_steps(const struct weir_plugins *plugins, const char *plugin, char *buf, size_t size)
{
    buf[0] = '\0';
    for (size_t i = 0; i < weir_plugins_step_count(plugins); i++) {
        const struct weir_step_def *d = weir_plugins_step_at(plugins, i);
        if (!strcmp(d->plugin, plugin)) {
            strncat(buf, *buf ? ", " : "", size - strlen(buf) - 1);
            strncat(buf, d->name, size - strlen(buf) - 1);
        }
    }
}

static const struct weir_step_def *resolve_uses(struct weir_load *ld, size_t i)
{
    struct weir_pstep *s = &ld->p->steps[i];
    const struct weir_ynode *at = weir_ynode_get(ld->ls[i].node, "uses");
    const json_t *services = weir_config_target(ld->cfg, ld->target);
    const struct weir_plugin_rec *rec;
    const struct weir_step_def *def;
    char plugin[128], list[512];
    const char *dot = strchr(s->uses, '.');

    if (!dot || dot == s->uses || !dot[1] || (size_t)(dot - s->uses) >= sizeof(plugin)) {
        weir__perr(ld, at, "'uses: %s' must be <plugin>.<step> or <service>.<operation>", s->uses);
        return NULL;
    }
    memcpy(plugin, s->uses, (size_t)(dot - s->uses));
    plugin[dot - s->uses] = '\0';
    if (services && is_service(services, plugin)) {
        def = weir_service_resolve(ld->plugins, services, plugin, dot + 1);
        if (!def) {
            weir__perr(ld, at, "'uses: %s' on target '%s': %s", s->uses, ld->target, weir_error_last());
        }
        return def;
    }
    rec = weir_plugins_find(ld->plugins, plugin);
    if (!rec) {
        weir__perr(ld, at, "'uses: %s': no plugin or service named '%s'; `weir plugins` lists what "
                   "is installed", s->uses, plugin);
        return NULL;
    }
    if (rec->error_code != WEIR_OK) {
        weir__perr(ld, at, "'uses: %s': %s", s->uses, rec->error);
        return NULL;
    }
    def = weir_plugins_find_step(ld->plugins, plugin, dot + 1);
    if (!def) {
        list_steps(ld->plugins, plugin, list, sizeof(list));
        weir__perr(ld, at, "plugin '%s' has no step '%s'; its steps: %s", plugin, dot + 1, list);
    }
    return def;
}

static void check_with(struct weir_load *ld, size_t i, const struct weir_step_def *def)
{
    const struct weir_ynode *w = ld->ls[i].with_node;
    const struct weir_pstep *s = &ld->p->steps[i];

    for (size_t k = 0; w && k < w->n; k++) {
        const struct weir_param_def *pd = weir_step_param_find(def, w->keys[k]->str);
        const struct weir_ynode *v = w->items[k];
        json_t *literal;
        if (!pd) {
            weir__perr(ld, w->keys[k], "step '%s': '%s.%s' has no param '%s'; see `weir plugin "
                       "describe %s`", s->id, def->plugin, def->name, w->keys[k]->str, def->plugin);
            continue;
        }
        if (v->kind == WEIR_YNODE_SCALAR && strstr(v->str, "${{")) {
            continue; /* type known only after evaluation */
        }
        literal = weir_ynode_to_json(v);
        if (!json_is_null(literal) && !weir_param_type_matches(pd->type, literal)) {
            weir__perr(ld, v, "step '%s': param '%s' must be %s", s->id, pd->name,
                       weir_param_type_name(pd->type));
        }
        json_decref(literal);
    }
    for (size_t k = 0; k < def->nparams; k++) {
        const struct weir_param_def *pd = &def->params[k];
        if (pd->required && !pd->def && !(w && weir_ynode_get(w, pd->name))) {
            weir__perr(ld, w ? w : ld->ls[i].node, "step '%s': missing required param '%s' of %s.%s "
                       "(%s)", s->id, pd->name, def->plugin, def->name,
                       pd->description ? pd->description : weir_param_type_name(pd->type));
        }
    }
}

static void check_refine(struct weir_load *ld, size_t i, const json_t *ids, unsigned *seen)
{
    struct weir_pstep *s = &ld->p->steps[i];
    const struct weir_ynode *n = ld->ls[i].refine_node;
    long t;

    if (!n) {
        s->refine = s->nneeds == 1 ? (long)s->needs[0] : -1;
        return;
    }
    if (n->kind != WEIR_YNODE_SCALAR) {
        return;
    }
    t = lookup(ids, n->str);
    if (t < 0 || ld->p->steps[t].parent != s->parent || !upstream(ld->p, i, (size_t)t, seen, ++ld->stamp)) {
        weir__perr(ld, n, "approval '%s': refine must name a step it depends on (through needs)", s->id);
        return;
    }
    s->refine = t;
}

void weir__pipeline_check(struct weir_load *ld)
{
    struct weir_pipeline *p = ld->p;
    json_t *ids = json_object();
    unsigned *seen = calloc(p->nsteps ? p->nsteps : 1, sizeof(*seen));

    if (!ids || !seen) {
        weir__perr(ld, NULL, "out of memory");
        goto done;
    }
    index_ids(ld, ids);
    for (size_t i = 0; i < p->nsteps; i++) {
        resolve_needs(ld, i, ids);
    }
    find_cycles(ld);
    if (ld->diags->n) {
        goto done; /* reference checks assume an acyclic graph */
    }
    for (size_t i = 0; i < p->nsteps; i++) {
        struct weir_pstep *s = &p->steps[i];
        if (s->kind == WEIR_STEP_USES && s->uses && (s->def = resolve_uses(ld, i)) != NULL) {
            check_with(ld, i, s->def);
        }
        if (s->kind == WEIR_STEP_APPROVAL) {
            check_refine(ld, i, ids, seen);
        }
        check_refs(ld, i, ids, seen);
    }

done:
    free(seen);
    json_decref(ids);
}
