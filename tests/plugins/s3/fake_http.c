/* fake_http.c - see fake_http.h. */
#include "fake_http.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "plugins.h"

static struct weir_host_api table;
static json_t *queue, *requests;
static char endpoint[256] = "https://s3.us-east-1.amazonaws.com";

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *record(const struct weir_http_request *req)
{
    json_t *headers = json_array();
    struct stat st;

    for (size_t i = 0; req->headers && req->headers[i]; i++) {
        json_array_append_new(headers, json_string(req->headers[i]));
    }
    return json_pack(
        "{s:o, s:o, s:o, s:o, s:o, s:I, s:o, s:i, s:o, s:o, s:o, s:o, s:I, s:i, s:I}", "method",
        str_or_null(req->method), "url", str_or_null(req->url), "headers", headers, "body",
        req->body ? json_stringn(req->body, req->body_len) : json_null(), "body_file",
        str_or_null(req->body_file), "body_file_bytes",
        (json_int_t)(req->body_file && stat(req->body_file, &st) == 0 ? st.st_size : -1),
        "response_file", str_or_null(req->response_file), "auth", (int)req->auth, "aws_service",
        str_or_null(req->aws_service), "auth_header", str_or_null(req->auth_header), "auth_prefix",
        str_or_null(req->auth_prefix), "auth_env", str_or_null(req->auth_env), "max_response",
        (json_int_t)req->max_response, "max_attempts", req->max_attempts, "timeout_ms",
        (json_int_t)req->timeout_ms);
}

static int fake_request(weir_ctx *ctx, const struct weir_http_request *req,
                        struct weir_http_response *resp)
{
    json_t *next = json_incref(json_array_get(queue, 0)), *h;
    const char *body;
    int rc = WEIR_OK;

    (void)ctx;
    memset(resp, 0, sizeof(*resp));
    json_array_append_new(requests, record(req));
    if (!next) {
        fail_msg("fake_http: unexpected request %s %s", req->method, req->url);
    }
    json_array_remove(queue, 0);
    if (json_integer_value(json_object_get(next, "rc")) < 0) {
        rc = (int)json_integer_value(json_object_get(next, "rc"));
        table.error_set(rc, "fake transport failure");
        goto done;
    }
    resp->status = (long)json_integer_value(json_object_get(next, "status"));
    resp->attempts = 1;
    h = json_object_get(next, "headers");
    resp->headers = h ? json_deep_copy(h) : json_object();
    body = json_string_value(json_object_get(next, "body"));
    if (body && req->response_file && resp->status / 100 == 2) {
        FILE *f = fopen(req->response_file, "wb");

        assert_non_null(f);
        fwrite(body, 1, strlen(body), f);
        fclose(f);
    }
    else if (body) {
        if (req->max_response && strlen(body) > req->max_response) {
            json_decref(resp->headers);
            resp->headers = NULL;
            rc = table.error_set(WEIR_ETOOBIG, "fake: response over max_response");
            goto done;
        }
        resp->body = strdup(body);
        resp->body_len = strlen(body);
    }

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

const struct weir_host_api *fake_http_host(void)
{
    table = *weir_host_api_get();
    table.http_request = fake_request;
    table.http_response_free = fake_free;
    table.aws_endpoint = fake_endpoint;
    fake_http_reset();
    return &table;
}

void fake_http_reset(void)
{
    json_decref(queue);
    json_decref(requests);
    queue = json_array();
    requests = json_array();
    snprintf(endpoint, sizeof(endpoint), "%s", "https://s3.us-east-1.amazonaws.com");
}

void fake_http_set_endpoint(const char *url)
{
    snprintf(endpoint, sizeof(endpoint), "%s", url);
}

void fake_http_queue(long status, const char *headers_json, const char *body)
{
    json_t *h = headers_json ? json_loads(headers_json, 0, NULL) : NULL;

    if (headers_json && !h) {
        fail_msg("fake_http: bad headers JSON %s", headers_json);
    }
    json_array_append_new(queue, json_pack("{s:I, s:o, s:o}", "status", (json_int_t)status,
                                           "headers", h ? h : json_object(), "body",
                                           body ? json_string(body) : json_null()));
}

void fake_http_queue_error(int rc)
{
    json_array_append_new(queue, json_pack("{s:i}", "rc", rc));
}

const json_t *fake_http_requests(void)
{
    return requests;
}

const json_t *fake_http_request(size_t n)
{
    const json_t *r = json_array_get(requests, n);

    if (!r) {
        fail_msg("fake_http: no request #%zu (%zu made)", n, json_array_size(requests));
    }
    return r;
}
