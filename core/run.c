/* run.c - the scheduler: which step runs when, and what happens after. */
#include "run.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "eventlog.h"
#include "pipeline.h"
#include "run_int.h"
#include "run_pool.h"
#include "state.h"

/*
 * Cancellation. weir_run_cancel_all() only sets a flag (signal-safe). Every
 * run watches it: steps not yet started end "cancelled", running steps see it
 * through ctx->cancel, no retry is attempted. The request is consumed when the
 * last active run of the process ends, so a later run (the next test, a
 * long-lived server) starts clean; a cancelled run keeps reporting itself
 * cancelled through cancel_latched. A request made while no run is active is
 * kept for the next run, so a Ctrl-C during pipeline loading is not lost.
 */
#define CANCEL_POLL_MS 50

static atomic_int cancel_requested;
static atomic_int active_runs;
static const atomic_int cancel_latched = 1;

void weir_run_cancel_all(void)
{
    atomic_store(&cancel_requested, 1);
}

/* ------------------------------------------------------------------ */
/* scope: what expressions see                                         */

static json_t *loop_of(const struct run *r, long group)
{
    if (group < 0) {
        return json_null();
    }
    return json_pack("{s:i,s:b}", "index", r->nodes[group].iteration, "first",
                     r->nodes[group].iteration == 0);
}

json_t *weir__run_scope(const struct run *r, size_t i, const json_t *item, long index)
{
    const struct weir_pstep *s = &r->p->steps[i];
    json_t *scope = json_object();
    long group = s->kind == WEIR_STEP_REPEAT ? (long)i : s->parent;

    json_object_set(scope, "params", r->params);
    json_object_set(scope, "steps", r->steps_scope);
    json_object_set(scope, "env", r->env);
    json_object_set(scope, "run", r->run_info);
    json_object_set_new(scope, "loop", loop_of(r, group));
    json_object_set(scope, "feedback", r->nodes[i].feedback ? r->nodes[i].feedback : json_null());
    if (item) {
        json_object_set(scope, "item", (json_t *)item);
        json_object_set_new(scope, "index", json_integer(index));
    }
    return scope;
}

static int eval_tmpl(const struct run *r, size_t i, const struct weir_tmpl *t, const json_t *item,
                     long index, json_t **out)
{
    json_t *scope = weir__run_scope(r, i, item, index);
    int rc = weir_tmpl_eval(t, scope, out);

    json_decref(scope);
    return rc;
}

static int eval_cond(const struct run *r, size_t i, const struct weir_expr *e, int *truth)
{
    json_t *scope = weir__run_scope(r, i, NULL, 0), *v = NULL;
    int rc = weir_expr_eval(e, scope, &v);

    json_decref(scope);
    if (rc == WEIR_OK) {
        *truth = weir_json_truthy(v);
    }
    json_decref(v);
    return rc;
}

/* ------------------------------------------------------------------ */
/* finishing steps                                                     */

static int is_terminal_ok(const struct run *r, size_t i)
{
    const struct node *n = &r->nodes[i];
    return n->state == N_DONE && (!strcmp(n->status, "success") ||
                                  (!strcmp(n->status, "failed") && r->p->steps[i].continue_on_error));
}

static void node_finish(struct run *r, size_t i, const char *status, json_t *output, const char *error)
{
    struct node *n = &r->nodes[i];
    json_t *entry;

    n->state = N_DONE;
    n->status = status;
    json_decref(n->output);
    n->output = output ? output : json_null();
    free(n->error);
    n->error = error ? strdup(error) : NULL;
    n->ended_wall = weir_now_wall_ms();
    entry = json_pack("{s:O,s:s}", "output", n->output, "status", status);
    if (error) {
        json_object_set_new(entry, "error", json_string(error));
    }
    json_object_set_new(r->steps_scope, r->p->steps[i].id, entry);
    weir__run_record(r, i);
}

static void fail(struct run *r, size_t i, const char *fmt, const char *detail)
{
    char msg[WEIR_ERROR_MAX + 128];

    snprintf(msg, sizeof(msg), fmt, detail);
    node_finish(r, i, "failed", NULL, msg);
}

/* ------------------------------------------------------------------ */
/* dispatch                                                            */

static json_t *lua_ctx_of(const struct run *r, size_t i)
{
    return json_pack("{s:O,s:{s:s},s:O}", "run", r->run_info, "step", "id", r->p->steps[i].id,
                     "feedback", r->nodes[i].feedback ? r->nodes[i].feedback : json_null());
}

static void submit(struct run *r, size_t i, json_t *input, long item)
{
    const struct weir_pstep *s = &r->p->steps[i];
    struct weir_job *job = calloc(1, sizeof(*job));

    if (!job) {
        json_decref(input);
        return;
    }
    job->step = i;
    job->item = item;
    job->attempt = 1;
    job->ps = s;
    job->input = input;
    job->lua = r->rt->cfg->lua;
    job->lua_ctx = s->kind == WEIR_STEP_LUA ? lua_ctx_of(r, i) : NULL;
    job->ctx = r->ctx_proto;
    job->ctx.step_id = s->id;
    r->inflight++;
    job->next = r->batch;
    r->batch = job;
}

static void start_items(struct run *r, size_t i)
{
    const struct weir_pstep *s = &r->p->steps[i];
    struct node *n = &r->nodes[i];
    json_t *items = NULL;
    size_t k;
    json_t *item;

    if (eval_tmpl(r, i, s->for_each, NULL, 0, &items) < 0) {
        fail(r, i, "for_each: %s", weir_error_last());
        return;
    }
    if (!json_is_array(items)) {
        json_decref(items);
        fail(r, i, "for_each must give a list; got %s", "another type (check the expression)");
        return;
    }
    n->results = json_array();
    n->pending_items = json_array_size(items);
    if (n->pending_items == 0) {
        json_decref(items);
        node_finish(r, i, "success", json_incref(n->results), NULL);
        return;
    }
    json_array_foreach(items, k, item) {
        json_t *input = NULL;
        json_array_append_new(n->results, json_null());
        if (s->with && eval_tmpl(r, i, s->with, item, (long)k, &input) < 0) {
            /* the first failing item names the error, as in finish_item */
            if (!n->item_error && asprintf(&n->item_error, "item %zu: with: %s", k, weir_error_last()) < 0) {
                n->item_error = NULL;
            }
            n->pending_items--;
            continue;
        }
        submit(r, i, input ? input : json_object(), (long)k);
    }
    json_decref(items);
    if (n->pending_items == 0) {
        fail(r, i, "%s", n->item_error ? n->item_error : "no item could start");
    }
}

static void start_work(struct run *r, size_t i)
{
    const struct weir_pstep *s = &r->p->steps[i];
    json_t *input = NULL;

    r->nodes[i].state = N_RUNNING;
    weir__run_event(r, "status", i, json_pack("{s:s}", "status", "running"));
    if (s->for_each) {
        start_items(r, i);
        return;
    }
    if (s->with && eval_tmpl(r, i, s->with, NULL, 0, &input) < 0) {
        fail(r, i, "with: %s", weir_error_last());
        return;
    }
    if (input && !json_is_object(input)) {
        json_decref(input);
        fail(r, i, "with: %s", "must evaluate to a mapping");
        return;
    }
    submit(r, i, input ? input : json_object(), -1);
}

static void start_group(struct run *r, size_t g)
{
    r->nodes[g].state = N_RUNNING;
    r->nodes[g].iteration = 0;
    weir__run_event(r, "status", g, json_pack("{s:s,s:i}", "status", "running", "iteration", 0));
}

/* An approval step either has a decision (from state) or asks for one. */
static void start_approval(struct run *r, size_t i)
{
    const struct weir_pstep *s = &r->p->steps[i];
    json_t *d = json_object_get(r->decisions, s->id);
    const char *status = json_string_value(json_object_get(d, "status"));
    json_t *shown = NULL;

    if (status && !strcmp(status, "approved")) {
        node_finish(r, i, "success", json_pack("{s:s,s:O,s:O}", "decision", "approved", "comment",
                    json_object_get(d, "comment"), "by", json_object_get(d, "by")), NULL);
        return;
    }
    if (status && !strcmp(status, "rejected")) {
        const char *c = json_string_value(json_object_get(d, "comment"));
        fail(r, i, "rejected by the approver: %s", c ? c : "(no comment)");
        return;
    }
    if (s->approval && eval_tmpl(r, i, s->approval, NULL, 0, &shown) < 0) {
        fail(r, i, "approval: %s", weir_error_last());
        return;
    }
    weir__run_request_approval(r, i, shown);
    json_decref(shown);
    node_finish(r, i, "waiting", NULL, NULL);
}

enum verdict { V_READY, V_WAIT, V_SKIP };

static enum verdict needs_verdict(const struct run *r, size_t i, const char **why)
{
    const struct weir_pstep *s = &r->p->steps[i];

    if (s->parent >= 0 && r->nodes[s->parent].state != N_RUNNING) {
        return V_WAIT;
    }
    for (size_t k = 0; k < s->nneeds; k++) {
        size_t j = s->needs[k];
        const struct node *n = &r->nodes[j];
        if (n->state != N_DONE || !strcmp(n->status, "waiting")) {
            return V_WAIT;
        }
        if (!is_terminal_ok(r, j)) {
            *why = r->p->steps[j].id;
            return V_SKIP;
        }
    }
    return V_READY;
}

static void node_start(struct run *r, size_t i)
{
    const struct weir_pstep *s = &r->p->steps[i];
    int truth = 1;

    r->nodes[i].started_wall = weir_now_wall_ms();
    if (atomic_load(&cancel_requested)) {
        node_finish(r, i, "cancelled", NULL, "run cancelled before the step started");
        return;
    }
    if (s->cond && eval_cond(r, i, s->cond, &truth) < 0) {
        fail(r, i, "if: %s", weir_error_last());
        return;
    }
    if (!truth) {
        node_finish(r, i, "skipped", NULL, NULL);
        return;
    }
    switch (s->kind) {
    case WEIR_STEP_REPEAT: start_group(r, i); break;
    case WEIR_STEP_APPROVAL: start_approval(r, i); break;
    default: start_work(r, i); break;
    }
}

/* Starts every step whose needs are met; returns how many changed state. */
static size_t start_ready(struct run *r)
{
    size_t changed = 0;

    for (size_t i = r->first_pending; i < r->p->nsteps; i++) {
        const char *why = NULL;
        enum verdict v;
        if (r->nodes[i].state != N_PENDING) {
            if (i == r->first_pending) {
                r->first_pending++;
            }
            continue;
        }
        v = needs_verdict(r, i, &why);
        if (v == V_READY) {
            node_start(r, i);
            changed++;
        }
        else if (v == V_SKIP) {
            r->nodes[i].started_wall = weir_now_wall_ms();
            node_finish(r, i, "skipped", NULL, NULL);
            weir__run_event(r, "status", i, json_pack("{s:s,s:s}", "status", "skipped", "because", why));
            changed++;
        }
    }
    return changed;
}

/* ------------------------------------------------------------------ */
/* groups                                                              */

static void reset_children(struct run *r, size_t g)
{
    for (size_t i = g + 1; i < r->p->nsteps; i++) {
        long c = r->p->steps[i].parent;
        while (c >= 0 && (size_t)c != g) {
            c = r->p->steps[c].parent;
        }
        if (c < 0) {
            continue;
        }
        r->nodes[i].state = N_PENDING;
        r->nodes[i].status = "pending";
        json_decref(r->nodes[i].results);
        r->nodes[i].results = NULL;
        free(r->nodes[i].item_error);
        r->nodes[i].item_error = NULL;
    }
    if (r->first_pending > g) {
        r->first_pending = g;
    }
}

/* Called when nothing more can start: closes groups whose children are done. */
static size_t close_groups(struct run *r)
{
    size_t changed = 0;

    for (size_t g = r->p->nsteps; g-- > 0;) {
        const struct weir_pstep *s = &r->p->steps[g];
        int done = 1, failed = 0, truth = 0;
        if (s->kind != WEIR_STEP_REPEAT || r->nodes[g].state != N_RUNNING) {
            continue;
        }
        for (size_t i = g + 1; i < r->p->nsteps && done; i++) {
            if (r->p->steps[i].parent != (long)g) {
                continue;
            }
            done = r->nodes[i].state == N_DONE && strcmp(r->nodes[i].status, "waiting");
            failed |= done && strcmp(r->nodes[i].status, "skipped") && !is_terminal_ok(r, i);
        }
        if (!done) {
            continue;
        }
        changed++;
        if (failed) {
            fail(r, g, "%s", "a step of the repeat group failed");
        }
        else if (eval_cond(r, g, s->until, &truth) < 0) {
            fail(r, g, "until: %s", weir_error_last());
        }
        else if (truth) {
            node_finish(r, g, "success", json_pack("{s:i}", "iterations", r->nodes[g].iteration + 1), NULL);
        }
        else if (r->nodes[g].iteration + 1 >= s->repeat_max) {
            char detail[64];
            snprintf(detail, sizeof(detail), "%d", s->repeat_max);
            fail(r, g, "repeat: 'until' still false after %s iterations (the max)", detail);
        }
        else {
            r->nodes[g].iteration++;
            weir__run_event(r, "status", g, json_pack("{s:s,s:i}", "status", "running", "iteration",
                                                      r->nodes[g].iteration));
            reset_children(r, g);
        }
    }
    return changed;
}

/* ------------------------------------------------------------------ */
/* job results and retries                                             */

static int64_t retry_delay(struct run *r, const struct weir_retry *rt, int failed_attempts)
{
    int64_t d = rt->delay_ms;

    if (rt->exponential) {
        for (int k = 1; k < failed_attempts && d < rt->max_delay_ms; k++) {
            d *= 2;
        }
        if (d > rt->max_delay_ms) {
            d = rt->max_delay_ms;
        }
    }
    if (rt->jitter && d > 1) {
        d = d / 2 + (int64_t)(rand_r(&r->seed) % (unsigned)(d / 2 + 1));
    }
    return d;
}

static void schedule_retry(struct run *r, struct weir_job *job)
{
    job->due_ms = weir_now_mono_ms() + retry_delay(r, &job->ps->retry, job->attempt);
    weir__run_event(r, "status", job->step, json_pack("{s:s,s:i,s:s,s:I}", "status", "retrying",
                    "attempt", job->attempt, "error", job->error ? job->error : "",
                    "delay_ms", (json_int_t)(job->due_ms - weir_now_mono_ms())));
    json_decref(job->output);
    job->output = NULL;
    free(job->error);
    job->error = NULL;
    job->attempt++;
    job->next = r->retries;
    r->retries = job;
}

static void finish_item(struct run *r, struct weir_job *job)
{
    struct node *n = &r->nodes[job->step];

    if (job->rc == WEIR_OK) {
        json_array_set(n->results, (size_t)job->item, job->output);
    }
    else if (!n->item_error && asprintf(&n->item_error, "item %ld: %s", job->item, job->error) < 0) {
        n->item_error = NULL;
    }
    if (--n->pending_items > 0) {
        return;
    }
    if (n->item_error) {
        node_finish(r, job->step, "failed", NULL, n->item_error);
    }
    else {
        node_finish(r, job->step, "success", json_incref(n->results), NULL);
    }
}

static void job_done(struct run *r, struct weir_job *job)
{
    struct node *n = &r->nodes[job->step];

    if (job->attempt > n->attempts) {
        n->attempts = job->attempt;
    }
    if (job->rc < 0 && job->attempt <= job->ps->retry.max && !atomic_load(&cancel_requested)) {
        schedule_retry(r, job);
        return;
    }
    r->inflight--;
    if (job->item >= 0) {
        finish_item(r, job);
    }
    else if (job->rc == WEIR_OK) {
        node_finish(r, job->step, "success", json_incref(job->output), NULL);
    }
    else {
        node_finish(r, job->step, job->rc == WEIR_ECANCELLED ? "cancelled" : "failed", NULL, job->error);
    }
    weir_job_free(job);
}

/* Resubmits due retries; returns ms until the next one, or -1 when none. */
static int64_t run_due_retries(struct run *r)
{
    struct weir_job **pp = &r->retries;
    int64_t now = weir_now_mono_ms(), next = -1;

    while (*pp) {
        struct weir_job *job = *pp;
        if (atomic_load(&cancel_requested)) {
            /* the attempt that was waiting never runs */
            *pp = job->next;
            job->attempt--;
            job->rc = WEIR_ECANCELLED;
            job->error = strdup("run cancelled while waiting to retry");
            job_done(r, job);
            continue;
        }
        if (job->due_ms <= now) {
            *pp = job->next;
            weir_pool_submit(r->pool, job);
            continue;
        }
        if (next < 0 || job->due_ms - now < next) {
            next = job->due_ms - now;
        }
        pp = &job->next;
    }
    return next;
}

/* ------------------------------------------------------------------ */
/* the loop                                                            */

/* Hands the jobs started in this pass to the pool, in the order they were
 * started (submit() pushes them onto r->batch). */
/* Hands this pass's jobs to the pool in start order, or runs a lone job on
 * this thread: with nothing else in flight no one could use a worker's time
 * meanwhile, and it saves two thread handoffs per step of a chain. Returns
 * non-zero when it ran a job here (so the caller looks for ready steps again). */
static int hand_out(struct run *r)
{
    struct weir_job *job = r->batch, *ordered = NULL;

    r->batch = NULL;
    while (job) {
        struct weir_job *next = job->next;
        job->next = ordered;
        ordered = job;
        job = next;
    }
    if (ordered && !ordered->next && r->inflight == 1 && !r->retries) {
        weir_job_execute(ordered);
        job_done(r, ordered);
        return 1;
    }
    while (ordered) {
        struct weir_job *next = ordered->next;
        weir_pool_submit(r->pool, ordered);
        ordered = next;
    }
    return 0;
}

void weir__run_loop(struct run *r)
{
    int cancelled;

    atomic_fetch_add(&active_runs, 1);
    r->ctx_proto.cancel = &cancel_requested;
    for (;;) {
        int64_t wait, first;
        struct weir_job *done;
        do {
            while (start_ready(r) + close_groups(r) > 0) {
            }
        } while (hand_out(r));
        wait = run_due_retries(r);
        if (r->inflight == 0) {
            break;
        }
        /* a cancel must not wait out a long retry delay */
        if (wait > CANCEL_POLL_MS) {
            wait = CANCEL_POLL_MS;
        }
        /* before blocking for long, let other processes see finished steps */
        first = json_array_size(r->unsaved) && (wait < 0 || wait > WEIR_RUN_FLUSH_MS)
                    ? WEIR_RUN_FLUSH_MS : wait;
        done = weir_pool_collect(r->pool, first);
        if (!done && first != wait) {
            weir__run_flush(r, 1);
            done = weir_pool_collect(r->pool, wait < 0 ? -1 : wait - first);
        }
        while (done) {
            struct weir_job *next = done->next;
            job_done(r, done);
            done = next;
        }
    }
    cancelled = atomic_load(&cancel_requested);
    for (size_t i = 0; i < r->p->nsteps && cancelled; i++) {
        if (r->nodes[i].state != N_DONE) {
            node_finish(r, i, "cancelled", NULL, "run cancelled");
        }
    }
    if (cancelled) {
        r->ctx_proto.cancel = &cancel_latched;
    }
    if (atomic_fetch_sub(&active_runs, 1) == 1 && cancelled) {
        atomic_store(&cancel_requested, 0);
    }
}

enum weir_run_status weir__run_outcome(const struct run *r)
{
    int waiting = 0, failed = 0, cancelled = 0;

    for (size_t i = 0; i < r->p->nsteps; i++) {
        const struct node *n = &r->nodes[i];
        if (n->state != N_DONE || !strcmp(n->status, "waiting")) {
            waiting = 1;
        }
        else if (!strcmp(n->status, "cancelled")) {
            cancelled = 1;
        }
        else if (!strcmp(n->status, "failed") && !r->p->steps[i].continue_on_error) {
            failed = 1;
        }
    }
    if (cancelled || (r->ctx_proto.cancel && atomic_load(r->ctx_proto.cancel))) {
        return WEIR_RUN_CANCELLED;
    }
    if (failed) {
        return WEIR_RUN_FAILED;
    }
    return waiting ? WEIR_RUN_PAUSED : WEIR_RUN_SUCCESS;
}
