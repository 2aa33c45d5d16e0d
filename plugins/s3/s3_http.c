/*
 * s3_http.c - one S3 request through the host (which signs it with SigV4,
 * retries throttling and 5xx, and keeps credentials out of every message),
 * and the meaning of S3's error statuses.
 */
#include <stdio.h>
#include <string.h>

#include "s3_internal.h"

int s3_send(weir_ctx *ctx, const char *op, const struct s3_loc *loc, const struct s3_req *r,
            struct weir_http_response *resp)
{
    struct weir_http_request req = { 0 };
    char *url = s3_url(loc->endpoint, loc->path_style, loc->bucket, r->key, r->query);
    char why[512];
    int rc;

    if (!url) {
        return s3_host->error_set(WEIR_ENOMEM, "%s: out of memory", op);
    }
    req.version = WEIR_HTTP_REQUEST_VERSION;
    req.method = r->method;
    req.url = url;
    req.headers = r->headers;
    req.body = r->body;
    req.body_len = r->body_len;
    req.body_file = r->body_file;
    req.response_file = r->response_file;
    req.max_response = r->max_response;
    req.auth = WEIR_HTTP_AUTH_AWS_SIGV4;
    req.aws_service = "s3";
    req.aws_region = loc->region;
    if ((rc = s3_host->http_request(ctx, &req, resp)) < 0) {
        snprintf(why, sizeof(why), "%s", s3_host->error_last());
        rc = s3_host->error_set(rc, "%s: %s: %s", op, loc->uri, why);
    }
    s3_host->free(url);
    return rc;
}

static const char *const denied_codes[] = { "AccessDenied",
                                            "InvalidAccessKeyId",
                                            "SignatureDoesNotMatch",
                                            "ExpiredToken",
                                            "InvalidToken",
                                            "AllAccessDisabled",
                                            NULL };

static int is_denied(long status, const char *code)
{
    for (size_t i = 0; code && denied_codes[i]; i++) {
        if (strcmp(code, denied_codes[i]) == 0) {
            return 1;
        }
    }
    return status == 401 || status == 403;
}

static int fail_coded(const char *op, const struct s3_loc *loc,
                      const struct weir_http_response *resp, const char *action, const char *code,
                      const char *msg)
{
    const char *region = json_string_value(json_object_get(resp->headers, "x-amz-bucket-region"));
    const char *c = code ? code : "", *sep = msg && *msg ? ": " : "";

    msg = msg ? msg : "";
    if (is_denied(resp->status, code)) {
        return s3_host->error_set(WEIR_EDENIED,
                                  "%s: %s: access denied (HTTP %ld %s%s%.200s); check "
                                  "the AWS credentials and that they allow %s on "
                                  "bucket '%s'",
                                  op, loc->uri, resp->status, c, sep, msg, action, loc->bucket);
    }
    if (resp->status == 404 || (code && strncmp(code, "NoSuch", 6) == 0)) {
        return s3_host->error_set(WEIR_ENOTFOUND, "%s: %s: %s", op, loc->uri,
                                  code && strcmp(code, "NoSuchBucket") == 0   ? "no such bucket"
                                  : code && strcmp(code, "NoSuchUpload") == 0 ? "no such upload"
                                                                              : "no such key");
    }
    if (resp->status == 412 || (code && strcmp(code, "ConditionalRequestConflict") == 0)) {
        return s3_host->error_set(WEIR_EEXISTS,
                                  "%s: %s already exists (S3 refused the create-only "
                                  "put: HTTP %ld %s)",
                                  op, loc->uri, resp->status, c);
    }
    if (resp->status == 301 || resp->status == 307 ||
        (region && code && strcmp(code, "AuthorizationHeaderMalformed") == 0)) {
        return s3_host->error_set(WEIR_EINVALID,
                                  "%s: %s: bucket '%s' is in region %s; set param "
                                  "'region' or AWS_REGION to it",
                                  op, loc->uri, loc->bucket, region ? region : "(not said)");
    }
    return s3_host->error_set(resp->status == 400 ? WEIR_EINVALID : WEIR_EIO,
                              "%s: %s: S3 answered HTTP %ld %s%s%.200s after %d attempt(s)", op,
                              loc->uri, resp->status, c, sep, msg, resp->attempts);
}

int s3_fail(const char *op, const struct s3_loc *loc, const struct weir_http_response *resp,
            const char *action)
{
    char *code = NULL, *msg = NULL;
    int rc;

    if (resp->body && resp->body_len > 0) {
        s3_xml_error(resp->body, resp->body_len, &code, &msg);
    }
    rc = fail_coded(op, loc, resp, action, code, msg);
    s3_host->free(code);
    s3_host->free(msg);
    return rc;
}
