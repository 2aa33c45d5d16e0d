/*
 * s3_read.c - store.get (GetObject), store.head (HeadObject) and
 * store.delete (DeleteObject), with the outputs of the fs plugin.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "s3_internal.h"

/* Room for an S3 error document, whatever max_bytes says. */
#define ERROR_ROOM 65536

#define URI_PARAM                                                                         \
    {                                                                                     \
        "uri", WEIR_PARAM_STRING, 1, NULL,                                                \
            "s3://bucket/key, or a key relative to the bucket setting (under key_prefix)" \
    }

static const struct weir_param_desc get_params[] = {
    URI_PARAM,
    { "as", WEIR_PARAM_STRING, 0, "\"text\"",
      "\"text\": output body (a UTF-8 string); \"json\": parse and output value" },
    { "max_bytes", WEIR_PARAM_INTEGER, 0, "67108864",
      "refuse objects larger than this many bytes" },
    { "file", WEIR_PARAM_STRING, 0, "null",
      "write the object to this local file (relative to the project) instead of the output; "
      "streamed, no size bound" },
    S3_SETTING_PARAMS,
    { NULL, WEIR_PARAM_ANY, 0, NULL, NULL },
};

static int get_to_file(weir_ctx *ctx, const struct s3_loc *loc, const char *file, json_t **out)
{
    struct weir_http_response resp = { 0 };
    struct s3_req r = { .method = "GET", .key = loc->key };
    char *path = s3_local_path(ctx, file), *etag = NULL;
    struct stat st;
    int rc;

    if (!path) {
        return s3_host->error_set(WEIR_ENOMEM, "store.get: out of memory");
    }
    r.response_file = path;
    if ((rc = s3_send(ctx, "store.get", loc, &r, &resp)) < 0) {
        goto done;
    }
    if (resp.status != 200) {
        rc = s3_fail("store.get", loc, &resp, "s3:GetObject");
        goto done;
    }
    if (stat(path, &st) != 0) {
        rc = s3_host->error_set(WEIR_EIO, "store.get: %s: the download to '%s' is missing",
                                loc->uri, path);
        goto done;
    }
    etag = s3_etag(&resp);
    *out = json_pack("{s:s, s:I, s:s?, s:s}", "uri", loc->uri, "bytes", (json_int_t)st.st_size,
                     "etag", etag, "file", path);
    rc = *out ? WEIR_OK : s3_host->error_set(WEIR_ENOMEM, "store.get: out of memory");

done:
    s3_host->http_response_free(&resp);
    s3_host->free(path);
    s3_host->free(etag);
    return rc;
}

/* The body as the output's body (text) or value (json). */
static int decode(const struct s3_loc *loc, const struct weir_http_response *resp, int as_json,
                  json_t **content)
{
    json_error_t err;

    if (as_json) {
        *content = json_loadb(resp->body ? resp->body : "", resp->body_len, JSON_DECODE_ANY, &err);
        if (!*content) {
            return s3_host->error_set(WEIR_EINVALID,
                                      "store.get: %s: not JSON: %s (line %d, column "
                                      "%d); use as: text to read it as text",
                                      loc->uri, err.text, err.line, err.column);
        }
        return WEIR_OK;
    }
    *content = json_stringn(resp->body ? resp->body : "", resp->body_len);
    if (!*content) {
        return s3_host->error_set(WEIR_EINVALID,
                                  "store.get: %s: the content is not UTF-8 text, "
                                  "so it cannot be a JSON string; use file: to "
                                  "download it",
                                  loc->uri);
    }
    return WEIR_OK;
}

static int run_get(const json_t *input, json_t **out, weir_ctx *ctx, void *payload)
{
    const char *as = json_string_value(json_object_get(input, "as"));
    const char *file = json_string_value(json_object_get(input, "file"));
    json_int_t max = json_integer_value(json_object_get(input, "max_bytes"));
    struct weir_http_response resp = { 0 };
    struct s3_req r = { .method = "GET" };
    json_t *content = NULL;
    struct s3_loc loc;
    char *etag = NULL;
    int rc;

    (void)payload;
    as = as ? as : "text";
    if ((rc = s3_need_http("store.get")) < 0) {
        return rc;
    }
    if (strcmp(as, "text") != 0 && strcmp(as, "json") != 0) {
        return s3_host->error_set(WEIR_EINVALID,
                                  "store.get: param 'as' is '%s'; use \"text\" or "
                                  "\"json\"",
                                  as);
    }
    if (max <= 0) {
        return s3_host->error_set(WEIR_EINVALID, "store.get: param 'max_bytes' must be positive");
    }
    if ((rc = s3_loc_resolve(ctx, input, "store.get", "uri", 0, &loc)) < 0) {
        return rc;
    }
    if (file) {
        rc = get_to_file(ctx, &loc, file, out);
        goto done;
    }
    r.key = loc.key;
    /* the bound applies to error bodies too: leave room for S3's XML errors */
    r.max_response = (size_t)(max < ERROR_ROOM ? ERROR_ROOM : max);
    if ((rc = s3_send(ctx, "store.get", &loc, &r, &resp)) < 0 && rc != WEIR_ETOOBIG) {
        goto done;
    }
    if (rc == WEIR_OK && resp.status != 200) {
        rc = s3_fail("store.get", &loc, &resp, "s3:GetObject");
        goto done;
    }
    if (rc == WEIR_ETOOBIG || resp.body_len > (size_t)max) {
        rc = s3_host->error_set(WEIR_ETOOBIG,
                                "store.get: %s: the object is larger than max_bytes "
                                "(%lld); raise max_bytes or use file:",
                                loc.uri, (long long)max);
        goto done;
    }
    if ((rc = decode(&loc, &resp, as[0] == 'j', &content)) < 0) {
        goto done;
    }
    etag = s3_etag(&resp);
    *out = json_pack("{s:s, s:I, s:s?, s:o}", "uri", loc.uri, "bytes", (json_int_t)resp.body_len,
                     "etag", etag, as[0] == 'j' ? "value" : "body", content);
    content = NULL;
    rc = *out ? WEIR_OK : s3_host->error_set(WEIR_ENOMEM, "store.get: out of memory");

done:
    s3_host->http_response_free(&resp);
    json_decref(content);
    s3_host->free(etag);
    s3_loc_free(&loc);
    return rc;
}

const struct weir_step_desc s3_step_get = {
    WEIR_STEP_DESC_VERSION,
    "get",
    "store",
    "read an S3 object as text or JSON (GetObject), or download it to a file",
    get_params,
    run_get,
    NULL
};

/* ---- head ------------------------------------------------------------- */

static const struct weir_param_desc head_params[] = {
    URI_PARAM,
    S3_SETTING_PARAMS,
    { NULL, WEIR_PARAM_ANY, 0, NULL, NULL },
};

/* HeadObject: *exists and, when it does, the output fields. */
static int head(weir_ctx *ctx, const char *op, const struct s3_loc *loc, json_t **out)
{
    struct weir_http_response resp = { 0 };
    struct s3_req r = { .method = "HEAD", .key = loc->key };
    const char *len, *lm;
    char iso[64], *etag = NULL;
    int rc;

    if ((rc = s3_send(ctx, op, loc, &r, &resp)) < 0) {
        return rc;
    }
    len = json_string_value(json_object_get(resp.headers, "content-length"));
    lm = json_string_value(json_object_get(resp.headers, "last-modified"));
    if (resp.status == 404) {
        *out = json_pack("{s:s, s:b, s:n, s:n, s:n}", "uri", loc->uri, "exists", 0, "bytes", "etag",
                         "last_modified");
    }
    else if (resp.status == 200) {
        etag = s3_etag(&resp);
        *out = json_pack("{s:s, s:b, s:I, s:s?, s:s?}", "uri", loc->uri, "exists", 1, "bytes",
                         (json_int_t)(len ? strtoll(len, NULL, 10) : 0), "etag", etag,
                         "last_modified", lm && s3_http_date_iso(lm, iso) == 0 ? iso : NULL);
    }
    else {
        rc = s3_fail(op, loc, &resp, "s3:GetObject");
        goto done;
    }
    rc = *out ? WEIR_OK : s3_host->error_set(WEIR_ENOMEM, "%s: out of memory", op);

done:
    s3_host->http_response_free(&resp);
    s3_host->free(etag);
    return rc;
}

static int run_head(const json_t *input, json_t **out, weir_ctx *ctx, void *payload)
{
    struct s3_loc loc;
    int rc;

    (void)payload;
    if ((rc = s3_need_http("store.head")) < 0 ||
        (rc = s3_loc_resolve(ctx, input, "store.head", "uri", 0, &loc)) < 0) {
        return rc;
    }
    rc = head(ctx, "store.head", &loc, out);
    s3_loc_free(&loc);
    return rc;
}

const struct weir_step_desc s3_step_head = {
    WEIR_STEP_DESC_VERSION,
    "head",
    "store",
    "whether an S3 object exists, with its size, etag and last-modified time (HeadObject)",
    head_params,
    run_head,
    NULL
};

/* ---- delete ----------------------------------------------------------- */

static int run_delete(const json_t *input, json_t **out, weir_ctx *ctx, void *payload)
{
    struct weir_http_response resp = { 0 };
    struct s3_req r = { .method = "DELETE" };
    json_t *probe = NULL;
    struct s3_loc loc;
    int rc;

    (void)payload;
    if ((rc = s3_need_http("store.delete")) < 0 ||
        (rc = s3_loc_resolve(ctx, input, "store.delete", "uri", 0, &loc)) < 0) {
        return rc;
    }
    /* S3 deletes missing keys silently; the head says whether one was there */
    if ((rc = head(ctx, "store.delete", &loc, &probe)) < 0) {
        goto done;
    }
    if (json_is_true(json_object_get(probe, "exists"))) {
        r.key = loc.key;
        if ((rc = s3_send(ctx, "store.delete", &loc, &r, &resp)) < 0) {
            goto done;
        }
        if (resp.status != 204 && resp.status != 200 && resp.status != 404) {
            rc = s3_fail("store.delete", &loc, &resp, "s3:DeleteObject");
            goto done;
        }
    }
    *out = json_pack("{s:s, s:b}", "uri", loc.uri, "deleted",
                     json_is_true(json_object_get(probe, "exists")) && resp.status != 404);
    rc = *out ? WEIR_OK : s3_host->error_set(WEIR_ENOMEM, "store.delete: out of memory");

done:
    s3_host->http_response_free(&resp);
    json_decref(probe);
    s3_loc_free(&loc);
    return rc;
}

const struct weir_step_desc s3_step_delete = {
    WEIR_STEP_DESC_VERSION,
    "delete",
    "store",
    "delete an S3 object (DeleteObject); deleted is false when there was none",
    head_params,
    run_delete,
    NULL
};
