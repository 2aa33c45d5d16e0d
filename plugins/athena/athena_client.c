/*
 * athena_client.c - one Athena query from start to rows:
 * StartQueryExecution (with a ClientRequestToken, so the host's retries
 * cannot start it twice), GetQueryExecution polled with backoff (200 ms,
 * x1.5, at most 5 s) until a final state, GetQueryResults paged with
 * NextToken. A timeout or a cancelled run stops the query in Athena too, so
 * nothing keeps scanning (and billing) after weir gave up on it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "athena.h"

#define POLL_CAP_MS 5000
#define MAX_PAGES 100000
/* Between polls the step's deadline and cancellation are checked this often. */
#define SLICE_MS 50
/* StopQueryExecution after a timeout or a cancel gets this long, per attempt. */
#define STOP_TIMEOUT_MS 5000

struct run {
    weir_ctx *ctx;
    const struct athena_settings *s;
    struct awsjson_service svc;
    char qid[129];
    int64_t start, deadline;
    json_t *status; /* QueryExecution of the last poll */
    int abandon;    /* weir stopped waiting: the query must be stopped in Athena */
};

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int64_t ms)
{
    struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

    nanosleep(&ts, NULL);
}

static int make_token(char *out, size_t cap)
{
    unsigned char raw[16];

    if (cap < 33 || getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) {
        return athena_host->error_set(WEIR_EIO, "Athena: no random bytes for a request token");
    }
    for (size_t i = 0; i < sizeof(raw); i++) {
        snprintf(out + 2 * i, 3, "%02x", raw[i]);
    }
    return WEIR_OK;
}

static int call(struct run *r, const char *op, json_t *body, json_t **resp)
{
    int rc;

    if (!body) {
        return athena_host->error_set(WEIR_ENOMEM, "Athena %s: out of memory", op);
    }
    rc = awsjson_call(athena_host, r->ctx, &r->svc, op, body, resp, NULL);
    json_decref(body);
    return rc;
}

static int start(struct run *r, const char *sql)
{
    char token[40];
    json_t *resp = NULL;
    const char *id;
    int rc;

    if ((rc = make_token(token, sizeof(token))) < 0 ||
        (rc = call(r, "StartQueryExecution", athena_start_body(sql, token, r->s), &resp)) < 0) {
        goto done;
    }
    if ((id = json_string_value(json_object_get(resp, "QueryExecutionId"))) == NULL ||
        strlen(id) >= sizeof(r->qid)) {
        rc = athena_host->error_set(WEIR_EIO, "Athena StartQueryExecution: no QueryExecutionId "
                                              "in the response");
        goto done;
    }
    snprintf(r->qid, sizeof(r->qid), "%s", id);

done:
    json_decref(resp);
    return rc;
}

/* Best effort: the query is abandoned either way, and the error that made
 * us stop it is the one to report. The step's deadline has passed or its
 * run is cancelled, so the call goes out without the step's context (which
 * would refuse it), bounded on its own. */
static void stop(struct run *r)
{
    struct awsjson_service svc = r->svc;
    json_t *body = json_pack("{s:s}", "QueryExecutionId", r->qid), *resp = NULL;
    char saved[1024];

    snprintf(saved, sizeof(saved), "%s", athena_host->error_last());
    svc.timeout_ms = STOP_TIMEOUT_MS;
    svc.max_attempts = 2;
    if (!body ||
        awsjson_call(athena_host, NULL, &svc, "StopQueryExecution", body, &resp, NULL) < 0) {
        athena_host->log(r->ctx, WEIR_LOG_WARN, "%s: could not stop Athena query %s: %s", r->s->op,
                         r->qid, athena_host->error_last());
    }
    json_decref(resp);
    json_decref(body);
    athena_host->error_set(WEIR_ERROR, "%s", saved);
}

/* WEIR_OK while the query may go on; else the code to stop with (message set). */
static int may_continue(struct run *r)
{
    int rc = r->ctx ? athena_host->ctx_check(r->ctx) : WEIR_OK;

    r->abandon = rc < 0 || now_ms() >= r->deadline;
    if (rc == WEIR_ECANCELLED) {
        return athena_host->error_set(rc, "%s: Athena query %s stopped: the run was cancelled",
                                      r->s->op, r->qid);
    }
    if (rc < 0) {
        return athena_host->error_set(rc,
                                      "%s: Athena query %s stopped: the step's timeout "
                                      "passed",
                                      r->s->op, r->qid);
    }
    if (now_ms() >= r->deadline) {
        return athena_host->error_set(WEIR_ETIMEOUT,
                                      "%s: Athena query %s stopped after %lld ms "
                                      "(timeout_ms); raise timeout_ms or narrow the query",
                                      r->s->op, r->qid, (long long)r->s->timeout_ms);
    }
    return WEIR_OK;
}

static int wait_ms(struct run *r, int64_t ms)
{
    int rc;

    for (int64_t end = now_ms() + ms; now_ms() < end;) {
        if ((rc = may_continue(r)) < 0) {
            return rc;
        }
        sleep_ms(end - now_ms() < SLICE_MS ? end - now_ms() : SLICE_MS);
    }
    return may_continue(r);
}

static const char *error_category(json_int_t c)
{
    return c == 1 ? "system" : c == 2 ? "user" : "other";
}

/* The message for a query that ended FAILED or CANCELLED. */
static int final_error(struct run *r, const char *state)
{
    const json_t *st = json_object_get(r->status, "Status");
    const json_t *ae = json_object_get(st, "AthenaError");
    const char *reason = json_string_value(json_object_get(st, "StateChangeReason"));
    json_int_t cat = json_integer_value(json_object_get(ae, "ErrorCategory"));

    if (!strcmp(state, "CANCELLED")) {
        return athena_host->error_set(WEIR_ECANCELLED, "%s: Athena query %s was cancelled%s%s",
                                      r->s->op, r->qid, reason ? ": " : "", reason ? reason : "");
    }
    if (!ae) {
        return athena_host->error_set(WEIR_ERROR, "%s: Athena query %s failed: %s", r->s->op,
                                      r->qid, reason ? reason : "no reason given");
    }
    return athena_host->error_set(
        cat == 2 ? WEIR_EINVALID : WEIR_ERROR,
        "%s: Athena query %s failed: %s (AthenaError category %lld (%s), type %lld%s)", r->s->op,
        r->qid, reason ? reason : "no reason given", (long long)cat, error_category(cat),
        (long long)json_integer_value(json_object_get(ae, "ErrorType")),
        json_is_true(json_object_get(ae, "Retryable")) ? ", retryable" : "");
}

static int poll_until_done(struct run *r)
{
    int64_t delay = r->s->poll_ms > 0 ? r->s->poll_ms : 200;
    json_t *resp = NULL;
    const char *state;
    int rc;

    for (;;) {
        if ((rc = wait_ms(r, delay)) < 0) {
            return rc;
        }
        rc = call(r, "GetQueryExecution", json_pack("{s:s}", "QueryExecutionId", r->qid), &resp);
        if (rc < 0) {
            /* the deadline or a cancel caught the poll itself: the query still runs */
            r->abandon = rc == WEIR_ETIMEOUT || rc == WEIR_ECANCELLED;
            return rc;
        }
        json_decref(r->status);
        r->status = json_incref(json_object_get(resp, "QueryExecution"));
        json_decref(resp);
        resp = NULL;
        state = json_string_value(json_object_get(json_object_get(r->status, "Status"), "State"));
        if (!state) {
            return athena_host->error_set(WEIR_EIO,
                                          "Athena GetQueryExecution: no Status.State "
                                          "for query %s",
                                          r->qid);
        }
        if (!strcmp(state, "SUCCEEDED")) {
            return WEIR_OK;
        }
        if (!strcmp(state, "FAILED") || !strcmp(state, "CANCELLED")) {
            return final_error(r, state);
        }
        delay = delay * 3 / 2 > POLL_CAP_MS ? POLL_CAP_MS : delay * 3 / 2;
    }
}

static int fetch(struct run *r, struct athena_rows *rows)
{
    const char *type = json_string_value(json_object_get(r->status, "StatementType"));
    int dml = !type || !strcmp(type, "DML");
    json_t *resp = NULL, *body;
    char *token = NULL;
    int rc = 1;

    for (size_t page = 0; rc == 1; page++) {
        if (page == MAX_PAGES || (rc = may_continue(r)) < 0) {
            rc = rc < 0 ? rc
                        : athena_host->error_set(WEIR_EIO,
                                                 "Athena GetQueryResults: more "
                                                 "than %d pages",
                                                 MAX_PAGES);
            break;
        }
        body = json_pack("{s:s,s:I}", "QueryExecutionId", r->qid, "MaxResults",
                         (json_int_t)(r->s->page_size > 0 ? r->s->page_size : 1000));
        if (body && token) {
            json_object_set_new(body, "NextToken", json_string(token));
        }
        if ((rc = call(r, "GetQueryResults", body, &resp)) < 0 ||
            (rc = athena_rows_add_page(rows, resp, page == 0, dml)) < 0) {
            break;
        }
        free(token);
        token = NULL;
        const char *next = json_string_value(json_object_get(resp, "NextToken"));
        if (next && *next) {
            token = strdup(next);
        }
        if (rc == 0 && token) {
            rows->truncated = 1;
        }
        rc = rc == 1 && token ? 1 : 0;
        json_decref(resp);
        resp = NULL;
    }
    json_decref(resp);
    free(token);
    return rc < 0 ? rc : WEIR_OK;
}

static json_t *result_json(struct run *r, struct athena_rows *rows)
{
    json_t *out = json_object();
    const json_t *stats = json_object_get(r->status, "Statistics");

    json_object_set(out, "columns", rows->columns ? rows->columns : json_array());
    json_object_set(out, "rows", rows->rows);
    json_object_set_new(out, "row_count", json_integer((json_int_t)json_array_size(rows->rows)));
    json_object_set_new(out, "truncated", json_boolean(rows->truncated));
    json_object_set_new(out, "elapsed_ms", json_integer(now_ms() - r->start));
    json_object_set_new(out, "files_read", json_null());
    athena_host->log(r->ctx, WEIR_LOG_INFO, "%s: Athena query %s scanned %lld bytes", r->s->op,
                     r->qid,
                     (long long)json_integer_value(json_object_get(stats, "DataScannedInBytes")));
    return out;
}

static void run_init(struct run *r, weir_ctx *ctx, const struct athena_settings *s)
{
    int64_t left = ctx ? athena_host->ctx_remaining_ms(ctx) : -1;

    memset(r, 0, sizeof(*r));
    r->ctx = ctx;
    r->s = s;
    r->svc.service_id = "ATHENA";
    r->svc.signing_name = "athena";
    r->svc.target_prefix = "AmazonAthena";
    r->svc.label = "Athena";
    r->svc.region = s->region;
    /* one page of 1000 rows; a wider page is refused rather than buffered */
    r->svc.max_response = 32u * 1024 * 1024;
    r->start = now_ms();
    r->deadline = r->start + (left >= 0 && left < s->timeout_ms ? left : s->timeout_ms);
}

int athena_query_run(weir_ctx *ctx, const struct athena_settings *s, const char *sql, json_t **out)
{
    struct athena_rows rows;
    struct run r;
    int rc;

    run_init(&r, ctx, s);
    athena_rows_init(&rows, s->max_rows, s->max_bytes);
    if ((rc = start(&r, sql)) < 0) {
        goto done;
    }
    athena_host->log(ctx, WEIR_LOG_DEBUG, "%s: Athena query %s started", s->op, r.qid);
    if ((rc = poll_until_done(&r)) < 0) {
        if (r.abandon) {
            stop(&r);
        }
        goto done;
    }
    if ((rc = fetch(&r, &rows)) < 0) {
        goto done;
    }
    *out = result_json(&r, &rows);

done:
    athena_rows_free(&rows);
    json_decref(r.status);
    return rc;
}
