/*
 * fake_host.h - a host API table for the tests of the HTTP plugins (s3,
 * glue-catalog, athena, bedrock, openai, gemini) without a network: the
 * real weir host (weir_host_api_get) whose http_request records each
 * request and answers from canned responses, whose aws_endpoint returns a
 * fixed URL, and whose step_register captures steps so a test can run an op
 * directly. The end-to-end tests use the real host and aws_server.h
 * instead. Single-threaded tests only.
 */
#ifndef WEIR_FAKE_HOST_H
#define WEIR_FAKE_HOST_H

#include <weir/weir.h>

/* The fake table, rebuilt from the real host, with every state reset (so a
 * test that changed the table gets it back). */
const struct weir_host_api *fake_host(void);

/* Forgets queued responses, recorded requests and captured steps, and
 * restores the endpoint. */
void fake_host_reset(void);

/* The URL aws_endpoint returns (default https://s3.us-east-1.amazonaws.com). */
void fake_host_set_endpoint(const char *url);

/* Queues the answer to the next request, whatever it is: status, headers as
 * a JSON object text (lower-case names; NULL for none), body (NULL for
 * none). With a response_file in the request, a 2xx body is written there
 * instead; a body over the request's max_response is WEIR_ETOOBIG. */
void fake_host_queue(long status, const char *headers_json, const char *body);

/* Queues a transport failure: the next request fails with rc (< 0). */
void fake_host_queue_error(int rc);

/* Queues the answer to the next request of an AWS JSON operation, named by
 * its X-Amz-Target ("GetTables"); fake_host_always answers every later
 * request of op (after the queued ones). A request nothing answers fails
 * with WEIR_EIO. */
void fake_host_push(const char *op, long status, const char *body);
void fake_host_always(const char *op, long status, const char *body);

/* The recorded requests (borrowed): [{op (the X-Amz-Target operation or
 * ""), method, url, headers: [..], body (text or null), json (the body
 * parsed, or null), body_file, body_file_bytes, response_file, auth,
 * aws_service, auth_header, auth_prefix, auth_env, max_response,
 * max_attempts, timeout_ms}]. */
const json_t *fake_host_requests(void);

/* The n-th request (borrowed; fails the test if absent). */
const json_t *fake_host_request(size_t n);

/* How many requests were made for op. */
int fake_host_count(const char *op);

/* The step registered under name through the fake table, or NULL. */
const struct weir_step_desc *fake_host_step(const char *name);

/* Runs a captured step with `with` given as JSON text; returns its code. */
int fake_host_run(const char *name, const char *with_json, json_t **out);

#endif
