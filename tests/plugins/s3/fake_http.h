/*
 * fake_http.h - a stand-in for the host's HTTP functions, for the pure tests
 * of the s3, bedrock, openai and gemini plugins: a copy of the real host
 * table whose http_request records each request and answers from a queue of
 * canned responses, and whose aws_endpoint returns a fixed URL. Single-
 * threaded tests only.
 */
#ifndef WEIR_FAKE_HTTP_H
#define WEIR_FAKE_HTTP_H

#include <weir/weir.h>

/* The fake table (the real host's functions but for HTTP); reset state. */
const struct weir_host_api *fake_http_host(void);
void fake_http_reset(void);

/* The URL aws_endpoint returns (default https://s3.us-east-1.amazonaws.com). */
void fake_http_set_endpoint(const char *url);

/* Queues a response: status, headers as a JSON object text (lower-case
 * names; NULL for none), body (NULL for none). With a response_file in the
 * request, a 2xx body is written there instead. rc < 0 makes http_request
 * fail with that code instead of answering. */
void fake_http_queue(long status, const char *headers_json, const char *body);
void fake_http_queue_error(int rc);

/* The recorded requests: [{method, url, headers: [..], body, body_file,
 * body_file_bytes, response_file, auth, aws_service, auth_header,
 * auth_prefix, auth_env, max_response, max_attempts, timeout_ms}]
 * (borrowed). */
const json_t *fake_http_requests(void);
/* The n-th request (borrowed; fails the test if absent). */
const json_t *fake_http_request(size_t n);

#endif
