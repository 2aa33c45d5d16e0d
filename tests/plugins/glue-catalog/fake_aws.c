/* fake_aws.c - see fake_aws.h. */
#include <stdlib.h>
#include <string.h>

#include "fake_aws.h"
#include "plugins.h"

#define MAX_QUEUED 256
#define MAX_STEPS 16

struct canned {
    char op[64];
    long status;
    char *body;
    int always;
};

static struct weir_host_api fake;
static struct canned queue[MAX_QUEUED];
static size_t nqueued;
static json_t *requests;
static struct weir_step_desc steps[MAX_STEPS];
static size_t nsteps;

static const char *target_op(const char *const *headers)
{
    for (size_t i = 0; headers && headers[i]; i++) {
        if (!strncmp(headers[i], "X-Amz-Target: ", 14)) {
            const char *dot = strchr(headers[i], '.');
            return dot ? dot + 1 : headers[i] + 14;
        }
    }
    return "";
}

static int fake_http(weir_ctx *ctx, const struct weir_http_request *req,
                     struct weir_http_response *resp)
{
    const char *op = target_op(req->headers);
    json_t *body = json_loadb(req->body, req->body_len, 0, NULL);

    (void)ctx;
    memset(resp, 0, sizeof(*resp));
    json_array_append_new(requests,
                          json_pack("{s:s,s:o}", "op", op, "body", body ? body : json_null()));
    for (size_t i = 0; i < nqueued; i++) {
        if (strcmp(queue[i].op, op) != 0) {
            continue;
        }
        resp->status = queue[i].status;
        resp->body = strdup(queue[i].body);
        resp->body_len = strlen(resp->body);
        resp->headers = json_object();
        resp->attempts = 1;
        if (!queue[i].always) {
            free(queue[i].body);
            memmove(&queue[i], &queue[i + 1], (nqueued - i - 1) * sizeof(queue[0]));
            nqueued--;
        }
        return WEIR_OK;
    }
    return fake.error_set(WEIR_EIO, "fake_aws: no response queued for %s", op);
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
    return weir_host_strdup(&fake, "http://127.0.0.1:9");
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

const struct weir_host_api *fake_aws_host(void)
{
    if (!fake.size) {
        fake = *weir_host_api_get();
        fake.size = sizeof(fake);
        fake.http_request = fake_http;
        fake.http_response_free = fake_free;
        fake.aws_endpoint = fake_endpoint;
        fake.step_register = fake_register;
        requests = json_array();
    }
    return &fake;
}

void fake_aws_reset(void)
{
    fake_aws_host();
    for (size_t i = 0; i < nqueued; i++) {
        free(queue[i].body);
    }
    nqueued = 0;
    nsteps = 0;
    json_array_clear(requests);
}

static void push(const char *op, long status, const char *body, int always)
{
    if (nqueued < MAX_QUEUED) {
        snprintf(queue[nqueued].op, sizeof(queue[nqueued].op), "%s", op);
        queue[nqueued].status = status;
        queue[nqueued].body = strdup(body);
        queue[nqueued].always = always;
        nqueued++;
    }
}

void fake_aws_push(const char *op, long status, const char *body)
{
    push(op, status, body, 0);
}

void fake_aws_always(const char *op, long status, const char *body)
{
    push(op, status, body, 1);
}

const json_t *fake_aws_requests(void)
{
    return requests;
}

int fake_aws_count(const char *op)
{
    const json_t *r;
    size_t i;
    int n = 0;

    json_array_foreach(requests, i, r) {
        n += strcmp(json_string_value(json_object_get(r, "op")), op) == 0;
    }
    return n;
}

const struct weir_step_desc *fake_aws_step(const char *name)
{
    for (size_t i = 0; i < nsteps; i++) {
        if (!strcmp(steps[i].name, name)) {
            return &steps[i];
        }
    }
    return NULL;
}

int fake_aws_run(const char *name, const char *with_json, json_t **out)
{
    const struct weir_step_desc *d = fake_aws_step(name);
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
