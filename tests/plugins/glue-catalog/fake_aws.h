/*
 * fake_aws.h - a host API table for unit tests of the AWS plugins: the real
 * weir host (weir_host_api_get) with its HTTP client replaced by a script of
 * canned responses, and step registration captured so a test can run an op
 * directly. Each request is recorded (operation from X-Amz-Target, parsed
 * body) for assertions. The end-to-end tests use the real host and the AWS
 * test server instead.
 */
#ifndef WEIR_FAKE_AWS_H
#define WEIR_FAKE_AWS_H

#include <weir/weir.h>

/* The fake host; reset by fake_aws_reset. */
const struct weir_host_api *fake_aws_host(void);

/* Forgets queued responses, recorded requests and captured steps. */
void fake_aws_reset(void);

/* Queues the answer to the next call of op ("GetTables"): HTTP status and body. */
void fake_aws_push(const char *op, long status, const char *body);

/* Queues the same answer for every later call of op (after the queued ones). */
void fake_aws_always(const char *op, long status, const char *body);

/* The requests made so far: [{"op": "GetTables", "body": {...}}] (borrowed). */
const json_t *fake_aws_requests(void);

/* How many requests were made for op. */
int fake_aws_count(const char *op);

/* The step registered under name (by an entry or a register function run with
 * the fake host), or NULL. */
const struct weir_step_desc *fake_aws_step(const char *name);

/* Runs a captured step with `with` given as JSON text; returns its code. */
int fake_aws_run(const char *name, const char *with_json, json_t **out);

#endif
