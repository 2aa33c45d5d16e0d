/*
 * http_int.h - what http.c (transfer, retries) and http_auth.c (SigV4,
 * bearer and env-token headers) share. Not part of any public API.
 */
#ifndef WEIR_CORE_HTTP_INT_H
#define WEIR_CORE_HTTP_INT_H

#include <stddef.h>

#include <curl/curl.h>

#include "aws_creds.h"
#include "weir/plugin.h"

/* What is fixed for all attempts of one request. */
struct weir_http_plan {
    const struct weir_http_request *req;
    weir_ctx *ctx;
    char *url;   /* as sent: userinfo dropped, SigV4 query canonical */
    char *shown; /* scheme://host/path for messages: no query, no userinfo */
    char *host;  /* Host header value, host[:port] */
    char *path;
    char *query;     /* raw query as given, or NULL */
    char *auth_line; /* bearer / env token header line, or NULL */
    int sigv4;
    int s3; /* add x-amz-content-sha256 (S3, unless the caller sends it) */
    char payload_hash[80];
    struct weir_aws_creds creds;
    char *region;
    int max_attempts;
    size_t max_response;
    const char *response_file; /* req->response_file, NULL for HEAD */
    char *no_proxy;            /* NO_PROXY plus loopback: local test servers never go via a proxy */
};

/* Sets the last error like weir_error_set, after passing the message
 * through the redactor (URLs and AWS error text may hold a secret). */
int weir__http_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Sets p->url from p->shown and the query to send. */
int weir__http_build_url(struct weir_http_plan *p, const char *query);

/* Value of a caller header (case-insensitive name), or NULL. */
const char *weir__http_find_header(const char *const *headers, const char *name);

/* Appends "name: value" to a header list. */
int weir__http_add_line(struct curl_slist **list, const char *name, const char *value);

/* Resolves what req->auth needs once per request: credentials, region and
 * payload hash for SigV4, or the bearer / env-token header line. */
int weir__http_plan_auth(struct weir_http_plan *p);

/* Signs one attempt (a fresh x-amz-date each time) and appends X-Amz-Date,
 * X-Amz-Security-Token, X-Amz-Content-Sha256 (S3) and Authorization. The
 * first call also sets p->url with the canonical query. */
int weir__http_sign(struct weir_http_plan *p, struct curl_slist **list);

/* ---- http_retry.c ---- */

/* The AWS error code of an error response (x-amzn-ErrorType, JSON __type or
 * code, XML <Code>) into out; empty when there is none. */
void weir__http_error_code(const json_t *headers, const char *body, size_t len, char *out,
                           size_t n);

/* Full-jitter exponential backoff before retry number `attempt` (1-based). */
long weir__http_backoff_ms(int attempt);

/* For a 400/403 saying the signature's time is off, with a Date header
 * showing a real skew: records the skew (signing uses it from now on) and
 * returns 1. */
int weir__http_skew_check(long status, const json_t *headers, const char *body, size_t len);

/* The correction applied to the clock when signing (seconds). */
void weir__http_skew_set(long seconds);
long weir__http_skew_get(void);

/* The retry budget: take `cost` tokens (0 when there are not enough), give
 * some back after a success; set the level (500 at start; tests). */
int weir__http_tokens_take(int cost);
void weir__http_tokens_give(int n);
void weir__http_retry_tokens_set(int n);

#endif
