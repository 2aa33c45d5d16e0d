/*
 * run_int.h - the state of one run, shared by run.c (scheduling) and
 * run_exec.c (setup, persistence, summary). Not used elsewhere.
 */
#ifndef WEIR_CORE_RUN_INT_H
#define WEIR_CORE_RUN_INT_H

#include <stdio.h>

#include <jansson.h>

#include "ctx.h"
#include "pipeline.h"
#include "run.h"

enum node_state { N_PENDING, N_RUNNING, N_DONE };

struct node {
    enum node_state state;
    const char *status;     /* static string: pending, running, success, failed, ... */
    int attempts;
    json_t *output;
    char *error;
    int64_t started_wall, ended_wall;
    json_t *results;        /* for_each outputs, in item order */
    size_t pending_items;
    char *item_error;       /* first failing item */
    int iteration;          /* repeat groups */
    json_t *feedback;       /* refine comment for this step, or NULL */
    int reused;             /* output taken from the resumed run */
};

struct weir_state;
struct weir_eventlog;
struct weir_pool;
struct weir_job;

struct run {
    struct weir_runtime *rt;
    struct weir_pipeline *p;
    char id[64];
    char date[16];
    const char *target;
    json_t *params;
    json_t *env;
    json_t *run_info;       /* {id, date, target} */
    json_t *steps_scope;    /* {id: {output, status, error?}} */
    json_t *decisions;      /* {step: approval record} from state */
    struct node *nodes;
    size_t first_pending;   /* no pending step before this index */
    struct weir_ctx ctx_proto;
    struct weir_pool *pool;
    struct weir_state *st;
    struct weir_eventlog *log;
    FILE *progress;
    int inflight;           /* jobs submitted or waiting to retry */
    struct weir_job *retries;
    struct weir_job *batch;   /* jobs started in this pass, not yet handed out */
    json_t *unsaved;          /* step records not yet written to state */
    int64_t saved_ms;         /* monotonic time of the last state flush */
    unsigned seed;
};

/* Allocates nodes, opens state, events and the worker pool (p, id, date,
 * target set). */
int weir__run_init(struct run *r, struct weir_runtime *rt, const struct weir_run_opts *opts);
int weir__run_resume(struct run *r, struct weir_runtime *rt, const struct weir_run_opts *opts,
                     struct weir_diags *diags);
json_t *weir__run_scope(const struct run *r, size_t i, const json_t *item, long index);
void weir__run_loop(struct run *r);
enum weir_run_status weir__run_outcome(const struct run *r);

/* Queues a finished step for state, logs its events and prints progress. */
void weir__run_record(struct run *r, size_t i);
/* Writes queued step records in one transaction (always when force, else
 * only if the last flush is WEIR_RUN_FLUSH_MS old). */
void weir__run_flush(struct run *r, int force);
#define WEIR_RUN_FLUSH_MS 50
/* Appends an event (fields stolen, may be NULL). */
void weir__run_event(struct run *r, const char *event, size_t step, json_t *fields);
/* Stores a pending approval with what the approver should see. */
void weir__run_request_approval(struct run *r, size_t i, const json_t *shown);

#endif
