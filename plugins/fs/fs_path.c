/*
 * fs_path.c - from a uri to a path under the store root. The mapping is
 * purely lexical and strict: a key that could name two files, or a file
 * outside the root, is refused rather than normalised, so what a pipeline
 * writes locally is what it would write to S3.
 */
#include <string.h>

#include "fs_internal.h"

#define HINT "use s3://bucket/key or a path relative to the store root"

/* Checks one '/'-separated segment [s, s+len) of a key. */
static int check_segment(const char *op, const char *uri, const char *s, size_t len)
{
    if (len == 0) {
        return fs_host->error_set(WEIR_EINVALID,
                                  "%s: %s: empty path segment (a leading, trailing or "
                                  "doubled '/'); %s",
                                  op, uri, HINT);
    }
    if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.')) {
        return fs_host->error_set(WEIR_EINVALID,
                                  "%s: %s: '.' and '..' segments are refused: keys "
                                  "cannot leave or alias paths under the store root; %s",
                                  op, uri, HINT);
    }
    if (len >= strlen(FS_TEMP_PREFIX) && !memcmp(s, FS_TEMP_PREFIX, strlen(FS_TEMP_PREFIX))) {
        return fs_host->error_set(WEIR_EINVALID,
                                  "%s: %s: names starting with '%s' are reserved for "
                                  "in-progress writes; rename the key",
                                  op, uri, FS_TEMP_PREFIX);
    }
    if (len > 255) {
        return fs_host->error_set(WEIR_EINVALID,
                                  "%s: %s: a path segment is %zu bytes, over the local "
                                  "limit of 255; shorten the key",
                                  op, uri, len);
    }
    return WEIR_OK;
}

/* Checks every segment of key; with is_prefix the part after the last '/' is
 * a name prefix, not a name, and is not checked. */
static int check_key(const char *op, const char *uri, const char *key, int is_prefix)
{
    const char *end = key + strlen(key);
    int rc;

    if (!is_prefix && *key == '\0') {
        return fs_host->error_set(WEIR_EINVALID,
                                  "%s: '%s': empty key; name an object, e.g. "
                                  "s3://bucket/path/file.json",
                                  op, uri);
    }
    if (is_prefix) {
        const char *slash = strrchr(key, '/');
        end = slash ? slash : key;
    }
    for (const char *s = key; s < end;) {
        const char *slash = memchr(s, '/', (size_t)(end - s));
        const char *stop = slash ? slash : end;

        if ((rc = check_segment(op, uri, s, (size_t)(stop - s))) < 0) {
            return rc;
        }
        s = stop + 1;
        if (slash && s == end && !is_prefix) {
            return check_segment(op, uri, s, 0);
        }
    }
    return WEIR_OK;
}

/* The root directory: input "root" relative to the project directory. */
static int resolve_root(weir_ctx *ctx, const json_t *input, const char *op, struct fs_loc *loc)
{
    const char *root = fs_param_string(input, "root", "lake");
    const char *project = ctx ? fs_host->ctx_get(ctx, "project") : NULL;
    size_t n;

    if (*root == '\0') {
        return fs_host->error_set(WEIR_EINVALID,
                                  "%s: param 'root' is empty; give the store directory "
                                  "(default \"lake\", relative to the project)",
                                  op);
    }
    if (strlen(root) != json_string_length(json_object_get(input, "root"))) {
        return fs_host->error_set(WEIR_EINVALID, "%s: param 'root' contains a NUL byte", op);
    }
    if (root[0] == '/' || !project || !*project) {
        loc->root = fs_strdup(root);
    }
    else {
        loc->root = fs_printf("%s/%s", project, root);
    }
    if (!loc->root) {
        return fs_nomem(op);
    }
    n = strlen(loc->root);
    while (n > 1 && loc->root[n - 1] == '/') {
        loc->root[--n] = '\0';
    }
    return WEIR_OK;
}

/* An absolute uri is accepted only inside the root; *key is what follows it. */
static int strip_root(const char *op, const struct fs_loc *loc, const char **key)
{
    size_t n = strlen(loc->root);
    const char *uri = loc->uri;

    if (!strcmp(loc->root, "/")) {
        *key = uri + 1;
        return WEIR_OK;
    }
    if (strncmp(uri, loc->root, n) != 0 || (uri[n] != '/' && uri[n] != '\0')) {
        return fs_host->error_set(WEIR_EINVALID,
                                  "%s: '%s': absolute path outside the store root '%s'; "
                                  "%s",
                                  op, uri, loc->root, HINT);
    }
    *key = uri[n] ? uri + n + 1 : uri + n;
    return WEIR_OK;
}

/* Splits the uri into bucket and key. */
static int split_uri(const char *op, struct fs_loc *loc, const char **key)
{
    const char *uri = loc->uri;

    if (!strncmp(uri, "s3://", 5)) {
        const char *rest = uri + 5, *slash = strchr(rest, '/');
        size_t blen = slash ? (size_t)(slash - rest) : strlen(rest);
        int rc;

        if (blen == 0) {
            return fs_host->error_set(WEIR_EINVALID, "%s: '%s': no bucket; write s3://bucket/key",
                                      op, uri);
        }
        if ((rc = check_segment(op, uri, rest, blen)) < 0) {
            return rc;
        }
        if ((loc->bucket = fs_printf("%.*s", (int)blen, rest)) == NULL) {
            return fs_nomem(op);
        }
        *key = slash ? slash + 1 : rest + blen;
        return WEIR_OK;
    }
    if (strstr(uri, "://")) {
        return fs_host->error_set(
            WEIR_EINVALID, "%s: '%s': unsupported scheme for the local store; %s", op, uri, HINT);
    }
    if (uri[0] == '/') {
        return strip_root(op, loc, key);
    }
    *key = uri;
    return WEIR_OK;
}

int fs_loc_resolve(weir_ctx *ctx, const json_t *input, const char *op, const char *param,
                   int is_prefix, struct fs_loc *loc)
{
    const json_t *v = json_object_get(input, param);
    const char *key = NULL;
    int rc;

    memset(loc, 0, sizeof(*loc));
    loc->uri = json_string_value(v);
    if (!loc->uri) {
        return fs_host->error_set(WEIR_EINVALID, "%s: param '%s' must be a string; %s", op, param,
                                  HINT);
    }
    if (strlen(loc->uri) != json_string_length(v)) {
        return fs_host->error_set(WEIR_EINVALID,
                                  "%s: param '%s' contains a NUL byte; keys are "
                                  "NUL-free text",
                                  op, param);
    }
    if ((rc = resolve_root(ctx, input, op, loc)) < 0 || (rc = split_uri(op, loc, &key)) < 0 ||
        (rc = check_key(op, loc->uri, key, is_prefix)) < 0) {
        goto done;
    }
    loc->key = fs_strdup(key);
    loc->base = loc->bucket ? fs_printf("%s/%s", loc->root, loc->bucket) : fs_strdup(loc->root);
    if (!is_prefix && loc->base && loc->key) {
        loc->path = fs_printf("%s/%s", loc->base, loc->key);
    }
    if (!loc->key || !loc->base || (!is_prefix && !loc->path)) {
        rc = fs_nomem(op);
    }

done:
    if (rc < 0) {
        fs_loc_free(loc);
    }
    return rc;
}

void fs_loc_free(struct fs_loc *loc)
{
    fs_host->free(loc->root);
    fs_host->free(loc->base);
    fs_host->free(loc->bucket);
    fs_host->free(loc->key);
    fs_host->free(loc->path);
    memset(loc, 0, sizeof(*loc));
}

char *fs_loc_uri(const struct fs_loc *loc, const char *key)
{
    if (loc->bucket) {
        return fs_printf("s3://%s/%s", loc->bucket, key);
    }
    return fs_strdup(key);
}
