/*
 * awsjson.h - one call of an AWS awsJson 1.1 API (Glue, Athena): POST / with
 * X-Amz-Target, signed, retried and time-bounded by the host (ABI 1.2
 * http_request), the answer parsed, and an AWS error turned into a weir code
 * plus a message naming the service, the operation, the error type and
 * AWS's own text. Shared by the glue-catalog and athena plugins (athena
 * compiles this file into its own core). The plugin never sees credentials.
 */
#ifndef WEIR_AWSJSON_H
#define WEIR_AWSJSON_H

#include <weir/weir.h>

struct awsjson_service {
    const char *service_id;    /* for host->aws_endpoint: "GLUE", "ATHENA" */
    const char *signing_name;  /* "glue", "athena" */
    const char *target_prefix; /* "AWSGlue", "AmazonAthena" */
    const char *label;         /* in messages: "Glue", "Athena" */
    const char *region;        /* NULL: the configured region */
    size_t max_response;       /* bound on one response body; 0: the host's 64 MiB */
    int max_attempts;          /* 0: the host's default (3) */
    long timeout_ms;           /* per attempt; 0: the host's default (60 s) */
};

/* What an AWS error response said. */
struct awsjson_error {
    long status;       /* HTTP status; 0 when no response came */
    char type[128];    /* error code without namespace ("EntityNotFoundException") */
    char message[512]; /* AWS's Message, or "" */
    int attempts;
};

/* Fills err from an error response: the code from the body's "__type",
 * else "code", else the x-amzn-errortype header, cut at ':' and ',' and after
 * '#'; the text from "Message" or "message". Never fails. */
void awsjson_error_parse(long status, const char *body, const json_t *headers,
                         struct awsjson_error *err);

/* The weir code an AWS error means: WEIR_ENOTFOUND (EntityNotFound,
 * ResourceNotFound), WEIR_EDENIED (AccessDenied, unknown or expired
 * credentials, bad signature, 401/403), WEIR_EINVALID (InvalidInput,
 * InvalidRequest, Validation), WEIR_EIO (throttling or 5xx still failing
 * after the host's retries), else WEIR_ERROR. */
int awsjson_error_code(const struct awsjson_error *err);

/* Non-zero for throttling error codes. */
int awsjson_error_throttled(const struct awsjson_error *err);

/*
 * Calls <target_prefix>.<op> with body (borrowed object); ctx may be NULL for
 * a call that must go out after the step's deadline (a clean-up). On WEIR_OK *out is
 * the parsed response object (new reference). On an AWS error, err (may be
 * NULL) says what came back and the message reads
 * "<label> <op>: <type>: <message> (HTTP <status> after <n> attempts)"; the
 * caller may replace it with a more specific one. WEIR_EVERSION when the
 * host has no HTTP client; transport failures keep the host's code with the
 * message prefixed by "<label> <op>: ".
 */
int awsjson_call(const struct weir_host_api *host, weir_ctx *ctx, const struct awsjson_service *svc,
                 const char *op, const json_t *body, json_t **out, struct awsjson_error *err);

/* The region for messages: the given one, else AWS_REGION, else
 * AWS_DEFAULT_REGION, else "the configured region". */
const char *awsjson_region_label(const char *region);

#endif
