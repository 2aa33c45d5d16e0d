/*
 * http.h - the host's HTTP client behind weir_host_api.http_request (see
 * weir/plugin.h for the contract): libcurl, one easy handle per attempt,
 * SigV4 / bearer / env-token authentication added by the host, AWS standard
 * retry mode, timeouts bounded by the step's deadline, bounded bodies, and
 * no secret in any log line or error message.
 */
#ifndef WEIR_CORE_HTTP_H
#define WEIR_CORE_HTTP_H

#include "weir/plugin.h"

/** host_api.http_request. ctx may be NULL (no deadline, no cancellation). */
int weir_http_request(weir_ctx *ctx, const struct weir_http_request *req,
                      struct weir_http_response *resp);

/** host_api.http_response_free. */
void weir_http_response_free(struct weir_http_response *resp);

/** host_api.aws_endpoint (see aws_creds.h for the order). */
char *weir_http_aws_endpoint(weir_ctx *ctx, const char *service_id, const char *region);

/** Whether an AWS error code (JSON __type, XML <Code>, x-amzn-ErrorType, in
 *  any of their decorated forms) means "throttled or transient: retry". */
int weir_http_aws_code_retryable(const char *code);

#endif
