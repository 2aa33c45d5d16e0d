/*
 * awsjson.c - the awsJson 1.1 transport shared by glue-catalog and athena.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "awsjson.h"

static void copy_text(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

/* "com.amazonaws.glue#EntityNotFoundException:http://..." -> "EntityNotFoundException" */
static void sanitise_type(char *type)
{
    char *hash = strchr(type, '#');
    size_t n;

    if (hash) {
        memmove(type, hash + 1, strlen(hash + 1) + 1);
    }
    n = strcspn(type, ":,");
    type[n] = '\0';
}

void awsjson_error_parse(long status, const char *body, const json_t *headers,
                         struct awsjson_error *err)
{
    json_t *doc = body ? json_loads(body, 0, NULL) : NULL;
    const char *type = json_string_value(json_object_get(doc, "__type"));
    const char *msg = json_string_value(json_object_get(doc, "Message"));

    memset(err, 0, sizeof(*err));
    err->status = status;
    if (!type) {
        type = json_string_value(json_object_get(doc, "code"));
    }
    if (!type) {
        type = json_string_value(json_object_get(headers, "x-amzn-errortype"));
    }
    if (!msg) {
        msg = json_string_value(json_object_get(doc, "message"));
    }
    copy_text(err->type, sizeof(err->type), type ? type : "");
    sanitise_type(err->type);
    if (!err->type[0]) {
        snprintf(err->type, sizeof(err->type), "HTTP%ld", status);
    }
    copy_text(err->message, sizeof(err->message), msg);
    json_decref(doc);
}

static int type_is(const struct awsjson_error *err, const char *const *names)
{
    for (size_t i = 0; names[i]; i++) {
        if (!strcmp(err->type, names[i])) {
            return 1;
        }
    }
    return 0;
}

int awsjson_error_throttled(const struct awsjson_error *err)
{
    static const char *const throttled[] = {
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "LimitExceededException",
        "ThrottledException",
        "RequestThrottledException",
        "SlowDown",
        NULL,
    };

    return err->status == 429 || type_is(err, throttled);
}

int awsjson_error_code(const struct awsjson_error *err)
{
    static const char *const notfound[] = { "EntityNotFoundException", "ResourceNotFoundException",
                                            NULL };
    static const char *const denied[] = {
        "AccessDeniedException",
        "AccessDenied",
        "UnrecognizedClientException",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "MissingAuthenticationTokenException",
        NULL,
    };
    static const char *const invalid[] = { "InvalidInputException", "InvalidRequestException",
                                           "ValidationException", "SerializationException", NULL };

    if (type_is(err, notfound)) {
        return WEIR_ENOTFOUND;
    }
    if (type_is(err, denied) || err->status == 401 || err->status == 403) {
        return WEIR_EDENIED;
    }
    if (awsjson_error_throttled(err) || err->status >= 500) {
        return WEIR_EIO;
    }
    if (type_is(err, invalid)) {
        return WEIR_EINVALID;
    }
    return WEIR_ERROR;
}

const char *awsjson_region_label(const char *region)
{
    const char *env;

    if (region && *region) {
        return region;
    }
    if ((env = getenv("AWS_REGION")) != NULL && *env) {
        return env;
    }
    if ((env = getenv("AWS_DEFAULT_REGION")) != NULL && *env) {
        return env;
    }
    return "the configured region";
}

/* The endpoint with a trailing '/', the path of every awsJson call. */
static char *endpoint_url(const struct weir_host_api *host, weir_ctx *ctx,
                          const struct awsjson_service *svc)
{
    char *base = host->aws_endpoint(ctx, svc->service_id, svc->region), *url;
    size_t n;

    if (!base) {
        return NULL;
    }
    n = strlen(base);
    if (n && base[n - 1] == '/') {
        return base;
    }
    if ((url = host->malloc(n + 2)) != NULL) {
        memcpy(url, base, n);
        memcpy(url + n, "/", 2);
    }
    host->free(base);
    return url;
}

/* Keeps the host's message and code but says which call it was about. */
static int transport_error(const struct weir_host_api *host, int rc,
                           const struct awsjson_service *svc, const char *op)
{
    char why[512];

    copy_text(why, sizeof(why), host->error_last());
    if (rc == WEIR_ETOOBIG) {
        return host->error_set(rc,
                               "%s %s: response larger than %zu bytes (%s); ask for less "
                               "(fewer rows per page, a narrower query)",
                               svc->label, op, svc->max_response, why);
    }
    return host->error_set(rc, "%s %s: %s", svc->label, op, why);
}

static int answer(const struct weir_host_api *host, const struct awsjson_service *svc,
                  const char *op, const struct weir_http_response *resp, json_t **out,
                  struct awsjson_error *err)
{
    struct awsjson_error local;
    json_error_t jerr;

    if (resp->status >= 200 && resp->status < 300) {
        *out = json_loads(resp->body ? resp->body : "{}", 0, &jerr);
        if (!json_is_object(*out)) {
            json_decref(*out);
            *out = NULL;
            return host->error_set(WEIR_EIO, "%s %s: the response is not a JSON object (%s)",
                                   svc->label, op, jerr.text);
        }
        return WEIR_OK;
    }
    err = err ? err : &local;
    awsjson_error_parse(resp->status, resp->body, resp->headers, err);
    err->attempts = resp->attempts;
    return host->error_set(awsjson_error_code(err), "%s %s: %s: %s (HTTP %ld after %d attempt%s)",
                           svc->label, op, err->type, err->message[0] ? err->message : "no message",
                           resp->status, resp->attempts, resp->attempts == 1 ? "" : "s");
}

int awsjson_call(const struct weir_host_api *host, weir_ctx *ctx, const struct awsjson_service *svc,
                 const char *op, const json_t *body, json_t **out, struct awsjson_error *err)
{
    struct weir_http_request req = { 0 };
    struct weir_http_response resp = { 0 };
    char target[128];
    const char *headers[3] = { "Content-Type: application/x-amz-json-1.1", target, NULL };
    char *url = NULL, *text = NULL;
    int rc;

    *out = NULL;
    if (err) {
        memset(err, 0, sizeof(*err));
    }
    if (!WEIR_HOST_HAS(host, http_request) || !WEIR_HOST_HAS(host, aws_endpoint)) {
        return host->error_set(WEIR_EVERSION,
                               "%s %s: this weir host has no HTTP client "
                               "(host API 1.2 http_request/aws_endpoint); use a weir build "
                               "with AWS support",
                               svc->label, op);
    }
    snprintf(target, sizeof(target), "X-Amz-Target: %s.%s", svc->target_prefix, op);
    if ((url = endpoint_url(host, ctx, svc)) == NULL) {
        rc = transport_error(host, WEIR_EINVALID, svc, op);
        goto done;
    }
    if ((text = json_dumps(body, JSON_COMPACT)) == NULL) {
        rc = host->error_set(WEIR_ENOMEM, "%s %s: out of memory", svc->label, op);
        goto done;
    }
    req.version = WEIR_HTTP_REQUEST_VERSION;
    req.method = "POST";
    req.url = url;
    req.headers = headers;
    req.body = text;
    req.body_len = strlen(text);
    req.max_response = svc->max_response;
    req.max_attempts = svc->max_attempts;
    req.timeout_ms = svc->timeout_ms;
    req.auth = WEIR_HTTP_AUTH_AWS_SIGV4;
    req.aws_service = svc->signing_name;
    req.aws_region = svc->region;
    if ((rc = host->http_request(ctx, &req, &resp)) < 0) {
        rc = transport_error(host, rc, svc, op);
        goto done;
    }
    rc = answer(host, svc, op, &resp, out, err);

done:
    host->http_response_free(&resp);
    free(text);
    host->free(url);
    return rc;
}
