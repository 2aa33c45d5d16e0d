/* fake_host.c - see fake_host.h. */
#include "fake_host.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "plugins.h"

#define DEFAULT_ENDPOINT "https://s3.us-east-1.amazonaws.com"
#define MAX_STEPS 16

static struct weir_host_api table;
static json_t *queue, *requests;
static char endpoint[256] = DEFAULT_ENDPOINT;
static struct weir_step_desc steps[MAX_STEPS];
static size_t nsteps;

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* The operation of an AWS JSON request (X-Amz-Target: Service.Operation). */
static const char *target_op(const char *const *headers)
{
    for (size_t i = 0; headers && headers[i]; i++) {
        if (strncmp(headers[i], "X-Amz-Target: ", 14) == 0) {
            const char *dot = strchr(headers[i], '.');

            return dot ? dot + 1 : headers[i] + 14;
        }
    }
    return "";
}

static json_t *record(const struct weir_http_request *req)
{
    json_t *headers = json_array(), *parsed = NULL;
    struct stat st;

    for (size_t i = 0; req->headers && req->headers[i]; i++) {
        json_array_append_new(headers, json_string(req->headers[i]));
    }
    if (req->body) {
        parsed = json_loadb(req->body, req->body_len, 0, NULL);
    }
    return json_pack(
        "{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:I, s:o, s:i, s:o, s:o, s:o, s:o, s:I, s:i, s:I}",
        "op", target_op(req->headers), "method", str_or_null(req->method), "url",
        str_or_null(req->url), "headers", headers, "body",
        req->body ? json_stringn(req->body, req->body_len) : json_null(), "json",
        parsed ? parsed : json_null(), "body_file", str_or_null(req->body_file), "body_file_bytes",
        (json_int_t)(req->body_file && stat(req->body_file, &st) == 0 ? st.st_size : -1),
        "response_file", str_or_null(req->response_file), "auth", (int)req->auth, "aws_service",
        str_or_null(req->aws_service), "auth_header", str_or_null(req->auth_header), "auth_prefix",
        str_or_null(req->auth_prefix), "auth_env", str_or_null(req->auth_env), "max_response",
        (json_int_t)req->max_response, "max_attempts", req->max_attempts, "timeout_ms",
        (json_int_t)req->timeout_ms);
}

/* The first queued answer for op (one without an op answers anything), taken
 * off the queue unless it is an "always" one. New reference or NULL. */
static json_t *take(const char *op)
{
    json_t *c;
    size_t i;

    json_array_foreach(queue, i, c) {
        const char *want = json_string_value(json_object_get(c, "op"));

        if (want && strcmp(want, op) != 0) {
            continue;
        }
        json_incref(c);
        if (!json_is_true(json_object_get(c, "always"))) {
            json_array_remove(queue, i);
        }
        return c;
    }
    return NULL;
}

/* Puts body where the host would: the response file, else memory. */
static int answer_body(const struct weir_http_request *req, const char *body,
                       struct weir_http_response *resp)
{
    if (req->response_file && resp->status / 100 == 2) {
        FILE *f = fopen(req->response_file, "wb");

        assert_non_null(f);
        fwrite(body, 1, strlen(body), f);
        fclose(f);
        return WEIR_OK;
    }
    if (req->max_response && strlen(body) > req->max_response) {
        return table.error_set(WEIR_ETOOBIG, "fake host: response over max_response");
    }
    resp->body = strdup(body);
    resp->body_len = strlen(body);
    return WEIR_OK;
}

static int fake_request(weir_ctx *ctx, const struct weir_http_request *req,
                        struct weir_http_response *resp)
{
    const char *op = target_op(req->headers), *body;
    json_t *next = take(op);
    int rc = WEIR_OK;

    (void)ctx;
    memset(resp, 0, sizeof(*resp));
    json_array_append_new(requests, record(req));
    if (!next) {
        return table.error_set(WEIR_EIO, "fake host: no response queued for %s %s%s%s", req->method,
                               req->url, *op ? " " : "", op);
    }
    if (json_integer_value(json_object_get(next, "rc")) < 0) {
        rc = (int)json_integer_value(json_object_get(next, "rc"));
        table.error_set(rc, "fake transport failure");
        goto done;
    }
    resp->status = (long)json_integer_value(json_object_get(next, "status"));
    resp->attempts = 1;
    body = json_string_value(json_object_get(next, "body"));
    if (body && (rc = answer_body(req, body, resp)) < 0) {
        goto done;
    }
    resp->headers = json_deep_copy(json_object_get(next, "headers"));

done:
    json_decref(next);
    return rc;
}

static void fake_free(struct weir_http_response *resp)
{
    if (resp) {
        free(resp->body);
        json_decref(resp->headers);
        memset(resp, 0, sizeof(*resp));
    }
}

static char *fake_endpoint(weir_ctx *ctx, const char *service_id, const char *region)
{
    (void)ctx;
    (void)service_id;
    (void)region;
    return weir_host_strdup(&table, endpoint);
}

static int fake_register(weir_registry *reg, const struct weir_step_desc *desc)
{
    (void)reg;
    if (nsteps == MAX_STEPS) {
        return WEIR_ENOMEM;
    }
    steps[nsteps++] = *desc;
    return WEIR_OK;
}

const struct weir_host_api *fake_host(void)
{
    table = *weir_host_api_get();
    table.size = sizeof(table);
    table.http_request = fake_request;
    table.http_response_free = fake_free;
    table.aws_endpoint = fake_endpoint;
    table.step_register = fake_register;
    fake_host_reset();
    return &table;
}

void fake_host_reset(void)
{
    json_decref(queue);
    json_decref(requests);
    queue = json_array();
    requests = json_array();
    nsteps = 0;
    snprintf(endpoint, sizeof(endpoint), "%s", DEFAULT_ENDPOINT);
}

void fake_host_set_endpoint(const char *url)
{
    snprintf(endpoint, sizeof(endpoint), "%s", url);
}

static void enqueue(const char *op, long status, const char *headers_json, const char *body,
                    int always)
{
    json_t *h = headers_json ? json_loads(headers_json, 0, NULL) : NULL;

    if (headers_json && !h) {
        fail_msg("fake host: bad headers JSON %s", headers_json);
    }
    json_array_append_new(queue,
                          json_pack("{s:o, s:I, s:o, s:o, s:b}", "op", str_or_null(op), "status",
                                    (json_int_t)status, "headers", h ? h : json_object(), "body",
                                    str_or_null(body), "always", always));
}

void fake_host_queue(long status, const char *headers_json, const char *body)
{
    enqueue(NULL, status, headers_json, body, 0);
}

void fake_host_queue_error(int rc)
{
    json_array_append_new(queue, json_pack("{s:n, s:i}", "op", "rc", rc));
}

void fake_host_push(const char *op, long status, const char *body)
{
    enqueue(op, status, NULL, body, 0);
}

void fake_host_always(const char *op, long status, const char *body)
{
    enqueue(op, status, NULL, body, 1);
}

const json_t *fake_host_requests(void)
{
    return requests;
}

const json_t *fake_host_request(size_t n)
{
    const json_t *r = json_array_get(requests, n);

    if (!r) {
        fail_msg("fake host: no request #%zu (%zu made)", n, json_array_size(requests));
    }
    return r;
}

int fake_host_count(const char *op)
{
    const json_t *r;
    size_t i;
    int n = 0;

    json_array_foreach(requests, i, r) {
        n += strcmp(json_string_value(json_object_get(r, "op")), op) == 0;
    }
    return n;
}

const struct weir_step_desc *fake_host_step(const char *name)
{
    for (size_t i = 0; i < nsteps; i++) {
        if (strcmp(steps[i].name, name) == 0) {
            return &steps[i];
        }
    }
    return NULL;
}

int fake_host_run(const char *name, const char *with_json, json_t **out)
{
    const struct weir_step_desc *d = fake_host_step(name);
    json_t *with = json_loads(with_json, 0, NULL);
    int rc;

    *out = NULL;
    if (!d || !with) {
        json_decref(with);
        return WEIR_EINVALID;
    }
    rc = d->run(with, out, NULL, d->payload);
    json_decref(with);
    return rc;
}
