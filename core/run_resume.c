/* run_resume.c - picking a run up where it stopped: finished steps keep
 * their outputs, approvals bring their decisions, refined steps re-run. */
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "eventlog.h"
#include "run_int.h"
#include "run_pool.h"
#include "state.h"

static int reuse_finished(struct run *r, const json_t *steps)
{
    size_t k;
    json_t *rec;

    json_array_foreach(steps, k, rec) {
        const char *id = json_string_value(json_object_get(rec, "step"));
        const char *status = json_string_value(json_object_get(rec, "status"));
        long i = id ? weir_pipeline_find(r->p, id) : -1;
        struct node *n;
        if (i < 0 || !status || strcmp(status, "success")) {
            continue;
        }
        n = &r->nodes[i];
        n->state = N_DONE;
        n->status = "success";
        n->reused = 1;
        n->attempts = (int)json_integer_value(json_object_get(rec, "attempts"));
        n->output = json_incref(json_object_get(rec, "output"));
        if (!n->output) {
            n->output = json_null();
        }
        json_object_set_new(r->steps_scope, id, json_pack("{s:O,s:s}", "output", n->output, "status",
                                                          "success"));
    }
    return WEIR_OK;
}

static int depends_on(const struct weir_pipeline *p, size_t from, size_t to)
{
    /* siblings only; pipelines are acyclic, so plain recursion terminates */
    const struct weir_pstep *s = &p->steps[from];

    for (size_t k = 0; k < s->nneeds; k++) {
        if (s->needs[k] == to || depends_on(p, s->needs[k], to)) {
            return 1;
        }
    }
    return 0;
}

static int inside(const struct weir_pipeline *p, size_t x, size_t group)
{
    for (long c = p->steps[x].parent; c >= 0; c = p->steps[c].parent) {
        if ((size_t)c == group) {
            return 1;
        }
    }
    return 0;
}

static void forget(struct run *r, size_t i)
{
    struct node *n = &r->nodes[i];

    n->state = N_PENDING;
    n->status = "pending";
    n->reused = 0;
    json_decref(n->output);
    n->output = NULL;
    json_object_del(r->steps_scope, r->p->steps[i].id);
}

/* Re-runs the refine target, everything downstream of it and everything
 * inside those, and hands the target the approver's comment. */
static void apply_refine(struct run *r, size_t approval, const json_t *decision)
{
    long t = r->p->steps[approval].refine;

    if (t < 0) {
        return;
    }
    for (size_t i = 0; i < r->p->nsteps; i++) {
        int downstream = (size_t)t == i || (r->p->steps[i].parent == r->p->steps[t].parent &&
                                            depends_on(r->p, i, (size_t)t));
        for (size_t g = 0; !downstream && g < r->p->nsteps; g++) {
            downstream = inside(r->p, i, g) && ((size_t)t == g || depends_on(r->p, g, (size_t)t));
        }
        if (downstream) {
            forget(r, i);
        }
    }
    json_decref(r->nodes[t].feedback);
    r->nodes[t].feedback = json_pack("{s:O,s:O,s:O}", "comment", json_object_get(decision, "comment"),
                                     "by", json_object_get(decision, "by"), "history",
                                     json_object_get(decision, "history"));
}

static void load_decisions(struct run *r, const json_t *approvals)
{
    size_t k;
    json_t *a;

    r->decisions = json_object();
    json_array_foreach(approvals, k, a) {
        const char *step = json_string_value(json_object_get(a, "step"));
        const char *status = json_string_value(json_object_get(a, "status"));
        long i = step ? weir_pipeline_find(r->p, step) : -1;
        if (i < 0 || !status) {
            continue;
        }
        json_object_set(r->decisions, step, a);
        if (!strcmp(status, "refined")) {
            apply_refine(r, (size_t)i, a);
        }
    }
}

static int load_run(struct run *r, struct weir_runtime *rt, const char *run_id, json_t **rec)
{
    struct weir_state *st = NULL;
    const char *status;
    int rc;

    if ((rc = weir_state_open(rt->cfg->workspace, &st)) < 0) {
        return rc;
    }
    rc = weir_state_run_get(st, run_id, rec);
    weir_state_close(st);
    if (rc < 0) {
        return rc;
    }
    status = json_string_value(json_object_get(*rec, "status"));
    if (status && !strcmp(status, "success")) {
        return weir_error_set(WEIR_EINVALID, "run %s already succeeded; nothing to resume", run_id);
    }
    snprintf(r->id, sizeof(r->id), "%s", run_id);
    snprintf(r->date, sizeof(r->date), "%s", json_string_value(json_object_get(*rec, "date")));
    return WEIR_OK;
}

int weir__run_resume(struct run *r, struct weir_runtime *rt, const struct weir_run_opts *opts,
                     struct weir_diags *diags)
{
    json_t *rec = NULL;
    const char *source, *path;
    void *it;
    int rc;

    if ((rc = load_run(r, rt, opts->resume, &rec)) < 0) {
        goto done;
    }
    source = json_string_value(json_object_get(rec, "source"));
    path = json_string_value(json_object_get(rec, "path"));
    /* point at the config's copy of the name: rec is freed below */
    it = json_object_iter_at(rt->cfg->targets, json_string_value(json_object_get(rec, "target")));
    if (!it) {
        rc = weir_error_set(WEIR_EINVALID, "run %s used target '%s', which weir.yaml no longer defines",
                            opts->resume, json_string_value(json_object_get(rec, "target")));
        goto done;
    }
    r->target = json_object_iter_key(it);
    /* the run keeps running what it started with, even if the file changed */
    if ((rc = weir_pipeline_load(path ? path : "pipeline", source ? source : "", source ? strlen(source) : 0,
                                 rt->cfg, r->target, rt->plugins, &r->p, diags)) < 0) {
        goto done;
    }
    if ((rc = weir_pipeline_params(r->p, json_object_get(rec, "params"), &r->params)) < 0 ||
        (rc = weir__run_init(r, rt, opts)) < 0) {
        goto done;
    }
    reuse_finished(r, json_object_get(rec, "steps"));
    load_decisions(r, json_object_get(rec, "approvals"));
    rc = weir_state_run_set_status(r->st, r->id, "running", weir_now_wall_ms());

done:
    json_decref(rec);
    return rc;
}
