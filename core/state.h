/*
 * state.h - durable run state in SQLite (DESIGN §8): runs, steps, approvals.
 *
 * The database is <workspace>/state.db, in WAL mode with synchronous=NORMAL;
 * every function below is one transaction, so a crash at any point leaves
 * the database consistent: either the whole write is there or none of it. A
 * killed process loses nothing committed; a power cut may lose the last
 * commits (never corrupting the file), and a resume then re-runs those steps. Other processes may read and write concurrently (the
 * CLI approving a run while another lists runs): a busy database is waited on
 * for up to 10 s. One handle is used by one thread at a time.
 *
 * Statuses. Run: "running", "success", "failed", "paused" (waiting for an
 * approval), "cancelled". Step: "pending", "running", "success", "failed",
 * "skipped", "waiting" (approval), "cancelled". Approval: "pending",
 * "approved", "rejected", "refined".
 */
#ifndef WEIR_CORE_STATE_H
#define WEIR_CORE_STATE_H

#include <stdint.h>

#include <jansson.h>

struct weir_state;

/* Opens (creating the directory and schema if needed) <workspace>/state.db.
 * A database with a newer schema version than this weir knows is refused. */
int weir_state_open(const char *workspace, struct weir_state **out);
void weir_state_close(struct weir_state *st);

struct weir_run_info {
    const char *id;        /* unique run id */
    const char *pipeline;  /* pipeline name */
    const char *path;      /* pipeline file as given */
    const char *source;    /* the pipeline's YAML text, so a resume runs what ran */
    const char *params;    /* JSON object text */
    const char *target;
    const char *date;      /* YYYY-MM-DD */
    const char *status;
    int64_t created_ms;    /* wall clock, ms since the epoch */
};

/* Inserts a new run; WEIR_EEXISTS if the id is taken. */
int weir_state_run_insert(struct weir_state *st, const struct weir_run_info *run);

/* Sets a run's status (and ended_ms when the status is terminal:
 * success, failed, cancelled). WEIR_ENOTFOUND for an unknown run. */
int weir_state_run_set_status(struct weir_state *st, const char *run_id, const char *status,
                              int64_t now_ms);

/* One run as an object: {id, pipeline, path, source, params (object), target,
 * date, status, created_ms, ended_ms (or null), steps: [{step, status,
 * attempts, output (JSON value or null), error (or null), started_ms,
 * ended_ms}] in insertion order, approvals: [...as in approvals_list] }.
 * WEIR_ENOTFOUND for an unknown id. */
int weir_state_run_get(struct weir_state *st, const char *run_id, json_t **out);

/* Runs, newest first, at most limit (0 = all): [{id, pipeline, target, date,
 * status, created_ms, ended_ms}]. */
int weir_state_runs_list(struct weir_state *st, size_t limit, json_t **out);

/* Inserts or replaces one step's record. output is borrowed and may be NULL;
 * error may be NULL. */
int weir_state_step_put(struct weir_state *st, const char *run_id, const char *step_id,
                        const char *status, int attempts, const json_t *output,
                        const char *error, int64_t started_ms, int64_t ended_ms);

/* Records that step_id waits for a decision (status "pending"); message and
 * payload (borrowed, may be NULL) are what the approver is shown. A second
 * request for the same step after a "refined" decision re-opens it (the
 * decision history is kept). */
int weir_state_approval_request(struct weir_state *st, const char *run_id, const char *step_id,
                                const char *message, const json_t *payload, int64_t now_ms);

/* Decides a pending approval: decision is "approved", "rejected" or "refined";
 * comment and by may be NULL. WEIR_ENOTFOUND if there is no such approval,
 * WEIR_EINVALID if it is not pending (message says its status). */
int weir_state_approval_decide(struct weir_state *st, const char *run_id, const char *step_id,
                               const char *decision, const char *comment, const char *by,
                               int64_t now_ms);

/* Approvals, newest first: [{run, step, status, message, payload, comment, by,
 * requested_ms, decided_ms, history: [{status, comment, by, decided_ms}]}].
 * run_id NULL = all runs; pending_only non-zero = only "pending". */
int weir_state_approvals_list(struct weir_state *st, const char *run_id, int pending_only,
                              json_t **out);

/* Group commit: between batch_begin and batch_end every call above shares
 * one transaction (each still all-or-nothing through a savepoint), so N
 * writes cost one commit. Hold a batch only briefly: it keeps the database's
 * write lock. batch_end commits. */
int weir_state_batch_begin(struct weir_state *st);
int weir_state_batch_end(struct weir_state *st);

#endif
