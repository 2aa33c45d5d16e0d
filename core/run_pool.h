/*
 * run_pool.h - worker threads that execute step jobs. The scheduler submits
 * jobs and collects finished ones; workers only run the step and time it.
 */
#ifndef WEIR_CORE_RUN_POOL_H
#define WEIR_CORE_RUN_POOL_H

#include <pthread.h>
#include <stdint.h>

#include <jansson.h>

#include "ctx.h"
#include "pipeline.h"

struct weir_job {
    /* filled by the scheduler */
    size_t step;
    long item;                  /* for_each index, or -1 */
    int attempt;                /* 1-based */
    const struct weir_pstep *ps;
    json_t *input;              /* owned */
    json_t *lua_ctx;            /* owned; Lua steps only */
    struct weir_lua_limits lua;
    struct weir_ctx ctx;        /* step_id etc. borrowed from the run */
    /* filled by the worker */
    int rc;
    json_t *output;             /* owned */
    char *error;                /* owned */
    int64_t duration_ms;
    int64_t due_ms;             /* when a retry may run (scheduler) */
    struct weir_job *next;
};

struct weir_pool;

int weir_pool_start(int nthreads, struct weir_pool **out);

/* Queues a job (the pool takes it). */
void weir_pool_submit(struct weir_pool *pool, struct weir_job *job);

/* Returns the finished jobs (a list, oldest first), waiting up to wait_ms
 * (-1: until one finishes) when there are none. */
struct weir_job *weir_pool_collect(struct weir_pool *pool, int64_t wait_ms);

/* Stops the threads after the queued jobs have run. */
void weir_pool_stop(struct weir_pool *pool);

/* Runs a job on the calling thread (workers use it; so does the scheduler
 * when a job is the only work there is, to save two thread handoffs). */
void weir_job_execute(struct weir_job *job);

void weir_job_free(struct weir_job *job);

#endif
