/*
 * s3_put.c - store.put: PutObject for text, JSON values and small files,
 * multipart (s3_multipart.c) for files over one part. An S3 PUT replaces the
 * object atomically, so readers see the old content or the new; `if_none_match:
 * "*"` becomes S3's conditional create.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "s3_internal.h"

#define OP "store.put"

static const struct weir_param_desc put_params[] = {
    { "uri", WEIR_PARAM_STRING, 1, NULL,
      "s3://bucket/key, or a key relative to the bucket setting (under key_prefix)" },
    { "body", WEIR_PARAM_STRING, 0, NULL,
      "the content, as text; give exactly one of body, value and file" },
    { "value", WEIR_PARAM_ANY, 0, NULL,
      "a JSON value, stored as compact JSON with sorted keys and a final newline" },
    { "file", WEIR_PARAM_STRING, 0, NULL,
      "upload this local file (relative to the project); streamed, multipart over 8 MiB" },
    { "if_none_match", WEIR_PARAM_STRING, 0, NULL,
      "\"*\": create only; fail with 'already exists' if the key exists (S3 conditional create)" },
    { "content_type", WEIR_PARAM_STRING, 0, NULL,
      "Content-Type stored with the object (default: by the kind of content)" },
    S3_SETTING_PARAMS,
    { NULL, WEIR_PARAM_ANY, 0, NULL, NULL },
};

/* What is being put: exactly one of the three. */
struct content {
    const char *body;
    size_t body_len;
    char *dumped; /* value as JSON text + "\n" (libc) */
    char *path;   /* file (host) */
    uint64_t size;
};

static int pick(weir_ctx *ctx, const json_t *input, const struct s3_loc *loc, struct content *c)
{
    const json_t *body = json_object_get(input, "body"), *value = json_object_get(input, "value");
    const char *file = json_string_value(json_object_get(input, "file"));
    struct stat st;

    body = json_is_null(body) ? NULL : body;
    value = body && json_is_null(value) ? NULL : value;
    if ((body != NULL) + (value != NULL) + (file != NULL) != 1) {
        return s3_host->error_set(WEIR_EINVALID,
                                  OP ": %s: give exactly one of 'body' (text), "
                                     "'value' (JSON) and 'file'",
                                  loc->uri);
    }
    if (body) {
        c->body = json_string_value(body);
        c->body_len = json_string_length(body);
        return WEIR_OK;
    }
    if (value) {
        char *text = json_dumps(value, JSON_ENCODE_ANY | JSON_COMPACT | JSON_SORT_KEYS |
                                           JSON_REAL_PRECISION(15));

        if (!text || asprintf(&c->dumped, "%s\n", text) < 0) {
            c->dumped = NULL;
            free(text);
            return s3_host->error_set(WEIR_ENOMEM, OP ": out of memory");
        }
        free(text);
        c->body = c->dumped;
        c->body_len = strlen(c->dumped);
        return WEIR_OK;
    }
    if (!(c->path = s3_local_path(ctx, file))) {
        return s3_host->error_set(WEIR_ENOMEM, OP ": out of memory");
    }
    if (stat(c->path, &st) != 0 || !S_ISREG(st.st_mode)) {
        return s3_host->error_set(WEIR_ENOTFOUND,
                                  OP ": %s: param 'file': '%s' is not a readable "
                                     "file; the path is relative to the project",
                                  loc->uri, c->path);
    }
    c->size = (uint64_t)st.st_size;
    return WEIR_OK;
}

static int condition(const json_t *input, const struct s3_loc *loc, int *create_only)
{
    const char *cond = json_string_value(json_object_get(input, "if_none_match"));

    *create_only = cond != NULL;
    if (cond && strcmp(cond, "*") != 0) {
        return s3_host->error_set(WEIR_EINVALID,
                                  OP ": %s: if_none_match '%s' is not supported; "
                                     "only \"*\" (create if absent) is",
                                  loc->uri, cond);
    }
    return WEIR_OK;
}

static const char *content_type(const json_t *input, const struct content *c)
{
    const char *ct = json_string_value(json_object_get(input, "content_type"));

    if (ct) {
        return ct;
    }
    return c->dumped ? "application/json"
           : c->path ? "application/octet-stream"
                     : "text/plain; charset=utf-8";
}

/* One PutObject; *etag on success. */
static int put_once(weir_ctx *ctx, const struct s3_loc *loc, const struct content *c,
                    const char *ctype, int create_only, char **etag)
{
    struct weir_http_response resp = { 0 };
    struct s3_req r = { .method = "PUT", .key = loc->key };
    char ct[256];
    const char *headers[] = { ct, create_only ? "If-None-Match: *" : NULL, NULL };
    int rc;

    snprintf(ct, sizeof(ct), "Content-Type: %s", ctype);
    r.headers = headers;
    r.body = c->path ? NULL : c->body;
    r.body_len = c->path ? 0 : c->body_len;
    r.body_file = c->path;
    if ((rc = s3_send(ctx, OP, loc, &r, &resp)) == WEIR_OK) {
        rc = resp.status == 200 ? WEIR_OK : s3_fail(OP, loc, &resp, "s3:PutObject");
    }
    if (rc == WEIR_OK && !(*etag = s3_etag(&resp))) {
        *etag = weir_host_strdup(s3_host, "");
    }
    s3_host->http_response_free(&resp);
    return rc;
}

static int run_put(const json_t *input, json_t **out, weir_ctx *ctx, void *payload)
{
    struct content c = { 0 };
    struct s3_loc loc;
    const char *ctype;
    char *etag = NULL;
    int rc, create_only;

    (void)payload;
    if ((rc = s3_need_http(OP)) < 0 || (rc = s3_loc_resolve(ctx, input, OP, "uri", 0, &loc)) < 0) {
        return rc;
    }
    if ((rc = pick(ctx, input, &loc, &c)) < 0 || (rc = condition(input, &loc, &create_only)) < 0) {
        goto done;
    }
    ctype = content_type(input, &c);
    if (strpbrk(ctype, "\r\n")) {
        rc = s3_host->error_set(WEIR_EINVALID, OP ": %s: content_type holds a line break", loc.uri);
        goto done;
    }
    if (c.path && c.size > S3_PART_SIZE) {
        rc = s3_multipart_put(ctx, &loc, c.path, c.size, create_only, ctype, &etag);
    }
    else {
        rc = put_once(ctx, &loc, &c, ctype, create_only, &etag);
    }
    if (rc < 0) {
        goto done;
    }
    *out = json_pack("{s:s, s:I, s:s}", "uri", loc.uri, "bytes",
                     (json_int_t)(c.path ? c.size : c.body_len), "etag", etag ? etag : "");
    rc = *out ? WEIR_OK : s3_host->error_set(WEIR_ENOMEM, OP ": out of memory");

done:
    free(c.dumped);
    s3_host->free(c.path);
    s3_host->free(etag);
    s3_loc_free(&loc);
    return rc;
}

const struct weir_step_desc s3_step_put = {
    WEIR_STEP_DESC_VERSION,
    "put",
    "store",
    "write an S3 object from text, a JSON value or a file (PutObject, multipart over 8 MiB)",
    put_params,
    run_put,
    NULL
};
