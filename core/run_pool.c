/* run_pool.c - a fixed pool of threads running step jobs. */
#include "run_pool.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "lua_host.h"

struct weir_pool {
    pthread_mutex_t mu;
    pthread_cond_t work;      /* jobs queued or stopping */
    pthread_cond_t done;      /* jobs finished */
    struct weir_job *queue, *queue_tail;
    struct weir_job *finished, *finished_tail;
    int stopping;
    int nthreads;
    pthread_t *threads;
};

void weir_job_free(struct weir_job *job)
{
    if (!job) {
        return;
    }
    json_decref(job->input);
    json_decref(job->lua_ctx);
    json_decref(job->output);
    free(job->error);
    free(job);
}

static int run_lua(struct weir_job *job)
{
    struct weir_lua_limits lim = job->lua;
    const char *name = job->ps->lua_name ? job->ps->lua_name : "lua";
    int64_t left = job->ctx.deadline_ms ? job->ctx.deadline_ms - weir_now_mono_ms() : 0;

    /* the step's timeout is the tighter budget when it is shorter */
    if (job->ctx.deadline_ms && (lim.time_budget_ms == 0 || left < lim.time_budget_ms)) {
        lim.time_budget_ms = left > 0 ? left : 1;
    }
    return weir_lua_run(name, job->ps->lua_src, job->ps->lua_len, job->input, job->lua_ctx, &lim,
                        &job->output);
}

void weir_job_execute(struct weir_job *job)
{
    int64_t t0 = weir_now_mono_ms();

    job->ctx.deadline_ms = job->ps->timeout_ms ? t0 + job->ps->timeout_ms : 0;
    weir_error_clear();
    if (job->ps->kind == WEIR_STEP_LUA) {
        job->rc = run_lua(job);
    }
    else {
        job->rc = weir_step_invoke(job->ps->def, job->input, &job->output, &job->ctx);
    }
    job->duration_ms = weir_now_mono_ms() - t0;
    /* a step that ignored its deadline still loses its result */
    if (job->ctx.deadline_ms && weir_now_mono_ms() > job->ctx.deadline_ms && job->rc == WEIR_OK) {
        job->rc = WEIR_ETIMEOUT;
    }
    /* only the step's own timeout is reworded; another one (the Lua budget
     * of weir.yaml, a plugin's limit) keeps the message that names it */
    if (job->rc == WEIR_ETIMEOUT && job->ctx.deadline_ms && weir_now_mono_ms() >= job->ctx.deadline_ms) {
        weir_error_set(WEIR_ETIMEOUT, "timed out after %lld ms (timeout %lld ms)",
                       (long long)job->duration_ms, (long long)job->ps->timeout_ms);
    }
    if (job->rc < 0) {
        json_decref(job->output);
        job->output = NULL;
        job->error = strdup(weir_error_last());
    }
}

static void *worker(void *arg)
{
    struct weir_pool *pool = arg;

    pthread_mutex_lock(&pool->mu);
    for (;;) {
        struct weir_job *job;
        while (!pool->queue && !pool->stopping) {
            pthread_cond_wait(&pool->work, &pool->mu);
        }
        if (!pool->queue) {
            break;
        }
        job = pool->queue;
        pool->queue = job->next;
        if (!pool->queue) {
            pool->queue_tail = NULL;
        }
        pthread_mutex_unlock(&pool->mu);
        job->next = NULL;
        weir_job_execute(job);
        pthread_mutex_lock(&pool->mu);
        if (pool->finished_tail) {
            pool->finished_tail->next = job;
        }
        else {
            pool->finished = job;
        }
        pool->finished_tail = job;
        pthread_cond_signal(&pool->done);
    }
    pthread_mutex_unlock(&pool->mu);
    return NULL;
}

int weir_pool_start(int nthreads, struct weir_pool **out)
{
    struct weir_pool *pool = calloc(1, sizeof(*pool));
    pthread_condattr_t ca;

    if (!pool || !(pool->threads = calloc((size_t)nthreads, sizeof(pthread_t)))) {
        free(pool);
        return weir_error_set(WEIR_ENOMEM, "out of memory");
    }
    pthread_mutex_init(&pool->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&pool->done, &ca);
    pthread_cond_init(&pool->work, NULL);
    pthread_condattr_destroy(&ca);
    for (int i = 0; i < nthreads; i++) {
        if (pthread_create(&pool->threads[i], NULL, worker, pool) != 0) {
            break;
        }
        pool->nthreads++;
    }
    if (pool->nthreads == 0) {
        weir_pool_stop(pool);
        return weir_error_set(WEIR_ERROR, "cannot start worker threads");
    }
    *out = pool;
    return WEIR_OK;
}

void weir_pool_submit(struct weir_pool *pool, struct weir_job *job)
{
    job->next = NULL;
    pthread_mutex_lock(&pool->mu);
    if (pool->queue_tail) {
        pool->queue_tail->next = job;
    }
    else {
        pool->queue = job;
    }
    pool->queue_tail = job;
    pthread_cond_signal(&pool->work);
    pthread_mutex_unlock(&pool->mu);
}

struct weir_job *weir_pool_collect(struct weir_pool *pool, int64_t wait_ms)
{
    struct weir_job *list;

    pthread_mutex_lock(&pool->mu);
    if (!pool->finished && wait_ms != 0) {
        if (wait_ms < 0) {
            pthread_cond_wait(&pool->done, &pool->mu);
        }
        else {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            ts.tv_sec += wait_ms / 1000;
            ts.tv_nsec += (wait_ms % 1000) * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&pool->done, &pool->mu, &ts);
        }
    }
    list = pool->finished;
    pool->finished = pool->finished_tail = NULL;
    pthread_mutex_unlock(&pool->mu);
    return list;
}

void weir_pool_stop(struct weir_pool *pool)
{
    if (!pool) {
        return;
    }
    pthread_mutex_lock(&pool->mu);
    pool->stopping = 1;
    pthread_cond_broadcast(&pool->work);
    pthread_mutex_unlock(&pool->mu);
    for (int i = 0; i < pool->nthreads; i++) {
        pthread_join(pool->threads[i], NULL);
    }
    while (pool->finished) {
        struct weir_job *j = pool->finished;
        pool->finished = j->next;
        weir_job_free(j);
    }
    pthread_mutex_destroy(&pool->mu);
    pthread_cond_destroy(&pool->work);
    pthread_cond_destroy(&pool->done);
    free(pool->threads);
    free(pool);
}
