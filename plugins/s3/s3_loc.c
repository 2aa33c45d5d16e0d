/*
 * s3_loc.c - from a uri to a bucket, a key and a URL. Keys are checked as
 * strictly as the fs plugin checks them, so a pipeline that runs locally
 * names the same objects on S3.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "s3_internal.h"

#define HINT "use s3://bucket/key or a key relative to the bucket setting"

static char *dupf(const char *fmt, ...) WEIR__PRINTF(1, 2);
static char *dupf(const char *fmt, ...)
{
    va_list ap;
    char *s;

    va_start(ap, fmt);
    s = weir_host_vprintf(s3_host, fmt, ap);
    va_end(ap);
    return s;
}

static int nomem(const char *op)
{
    return s3_host->error_set(WEIR_ENOMEM, "%s: out of memory", op);
}

static int check_segments(const char *op, const char *uri, const char *key, int is_prefix)
{
    const char *end = key + strlen(key), *s;

    if (is_prefix) {
        const char *slash = strrchr(key, '/');
        end = slash ? slash : key;
    }
    for (s = key; s < end || (!is_prefix && s == end);) {
        const char *slash = memchr(s, '/', (size_t)(end - s));
        size_t n = (size_t)((slash ? slash : end) - s);

        if (n == 0) {
            return s3_host->error_set(WEIR_EINVALID,
                                      "%s: '%s': empty path segment (a leading, "
                                      "trailing or doubled '/'); %s",
                                      op, uri, HINT);
        }
        if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.')) {
            return s3_host->error_set(WEIR_EINVALID,
                                      "%s: '%s': '.' and '..' segments are refused "
                                      "(as by the local store); %s",
                                      op, uri, HINT);
        }
        if (!slash) {
            break;
        }
        s = slash + 1;
    }
    return WEIR_OK;
}

/* bucket and key of an s3:// uri; else the bucket setting and key_prefix + uri. */
static int split(const json_t *input, const char *op, struct s3_loc *loc, const char **rel)
{
    const char *uri = loc->uri, *bucket, *prefix;

    if (strncmp(uri, "s3://", 5) == 0) {
        const char *rest = uri + 5, *slash = strchr(rest, '/');
        size_t n = slash ? (size_t)(slash - rest) : strlen(rest);

        if (n == 0) {
            return s3_host->error_set(WEIR_EINVALID, "%s: '%s': no bucket; write s3://bucket/key",
                                      op, uri);
        }
        loc->explicit_s3 = 1;
        *rel = slash ? slash + 1 : rest + n;
        loc->bucket = dupf("%.*s", (int)n, rest);
        loc->key = loc->bucket ? dupf("%s", *rel) : NULL;
        return loc->key ? WEIR_OK : nomem(op);
    }
    if (strstr(uri, "://") || uri[0] == '/') {
        return s3_host->error_set(WEIR_EINVALID, "%s: '%s': %s has no meaning on S3; %s", op, uri,
                                  uri[0] == '/' ? "an absolute local path" : "that scheme", HINT);
    }
    bucket = json_string_value(json_object_get(input, "bucket"));
    bucket = bucket && *bucket ? bucket : getenv("WEIR_S3_BUCKET");
    if (!bucket || !*bucket) {
        return s3_host->error_set(WEIR_EINVALID,
                                  "%s: '%s' names no bucket: write s3://bucket/key, "
                                  "or set param 'bucket' (weir.yaml: store: {plugin: "
                                  "s3, with: {bucket: ...}}) or env WEIR_S3_BUCKET",
                                  op, uri);
    }
    prefix = json_string_value(json_object_get(input, "key_prefix"));
    prefix = prefix ? prefix : getenv("WEIR_S3_PREFIX");
    prefix = prefix ? prefix : "";
    *rel = uri;
    loc->bucket = dupf("%s", bucket);
    loc->key = dupf("%s%s%s", prefix, *prefix && prefix[strlen(prefix) - 1] != '/' ? "/" : "", uri);
    loc->strip = loc->key ? strlen(loc->key) - strlen(uri) : 0;
    return loc->bucket && loc->key ? WEIR_OK : nomem(op);
}

static int path_style(const json_t *input, const struct s3_loc *loc)
{
    const json_t *force = json_object_get(input, "force_path_style");
    const char *env = getenv("WEIR_S3_FORCE_PATH_STYLE");

    if (json_is_boolean(force)) {
        return json_is_true(force);
    }
    if (env && (strcmp(env, "1") == 0 || strcasecmp(env, "true") == 0)) {
        return 1;
    }
    return strchr(loc->bucket, '.') != NULL || !s3_endpoint_is_aws(loc->endpoint);
}

int s3_loc_resolve(weir_ctx *ctx, const json_t *input, const char *op, const char *param,
                   int is_prefix, struct s3_loc *loc)
{
    const json_t *v = json_object_get(input, param);
    const char *rel = NULL;
    int rc;

    memset(loc, 0, sizeof(*loc));
    if (!(loc->uri = json_string_value(v))) {
        return s3_host->error_set(WEIR_EINVALID, "%s: param '%s' must be a string; %s", op, param,
                                  HINT);
    }
    if (strlen(loc->uri) != json_string_length(v)) {
        return s3_host->error_set(WEIR_EINVALID, "%s: param '%s' contains a NUL byte", op, param);
    }
    if ((rc = split(input, op, loc, &rel)) < 0) {
        goto done;
    }
    if (!is_prefix && *rel == '\0') {
        rc = s3_host->error_set(WEIR_EINVALID,
                                "%s: '%s': empty key; name an object, e.g. "
                                "s3://bucket/path/file.json",
                                op, loc->uri);
        goto done;
    }
    if ((*rel && (rc = check_segments(op, loc->uri, rel, is_prefix)) < 0)) {
        goto done;
    }
    if (strlen(loc->key) > S3_MAX_KEY) {
        rc = s3_host->error_set(WEIR_EINVALID,
                                "%s: '%s': the key is %zu bytes, over S3's limit "
                                "of %d",
                                op, loc->uri, strlen(loc->key), S3_MAX_KEY);
        goto done;
    }
    loc->region = json_string_value(json_object_get(input, "region"));
    if (!(loc->endpoint = s3_host->aws_endpoint(ctx, "S3", loc->region))) {
        rc = s3_host->error_set(WEIR_EINVALID, "%s: %s: no S3 endpoint: %s", op, loc->uri,
                                s3_host->error_last());
        goto done;
    }
    loc->endpoint[strcspn(loc->endpoint, "?#")] = '\0';
    for (size_t n = strlen(loc->endpoint); n > 0 && loc->endpoint[n - 1] == '/'; n--) {
        loc->endpoint[n - 1] = '\0';
    }
    loc->path_style = path_style(input, loc);

done:
    if (rc < 0) {
        s3_loc_free(loc);
    }
    return rc;
}

void s3_loc_free(struct s3_loc *loc)
{
    s3_host->free(loc->bucket);
    s3_host->free(loc->key);
    s3_host->free(loc->endpoint);
    memset(loc, 0, sizeof(*loc));
}

char *s3_loc_uri(const struct s3_loc *loc, const char *key)
{
    if (loc->explicit_s3) {
        return dupf("s3://%s/%s", loc->bucket, key);
    }
    return dupf("%s", strlen(key) >= loc->strip ? key + loc->strip : key);
}

char *s3_uri_encode(const char *s, int keep_slash)
{
    char *out = s3_host->malloc(strlen(s) * 3 + 1), *o = out;

    for (const unsigned char *p = (const unsigned char *)s; out && *p; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '_' || *p == '.' || *p == '~' || (keep_slash && *p == '/')) {
            *o++ = (char)*p;
        }
        else {
            o += sprintf(o, "%%%02X", *p);
        }
    }
    if (out) {
        *o = '\0';
    }
    return out;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

void s3_uri_decode(char *s, int plus)
{
    char *o = s;

    for (; *s; s++) {
        if (*s == '%' && hexval(s[1]) >= 0 && hexval(s[2]) >= 0) {
            *o++ = (char)(hexval(s[1]) * 16 + hexval(s[2]));
            s += 2;
        }
        else {
            *o++ = plus && *s == '+' ? ' ' : *s;
        }
    }
    *o = '\0';
}

int s3_endpoint_is_aws(const char *endpoint)
{
    const char *host = strstr(endpoint, "://");
    size_t n;

    host = host ? host + 3 : endpoint;
    n = strcspn(host, ":/");
    return n >= 14 && strncmp(host + n - 14, ".amazonaws.com", 14) == 0;
}

char *s3_url(const char *endpoint, int path_style, const char *bucket, const char *key,
             const char *query)
{
    char *ekey = s3_uri_encode(key ? key : "", 1), *url = NULL;
    const char *host = strstr(endpoint, "://");

    if (!ekey) {
        return NULL;
    }
    if (path_style || !host) {
        url = dupf("%s/%s/%s%s%s", endpoint, bucket, ekey, query ? "?" : "", query ? query : "");
    }
    else {
        url = dupf("%.*s%s.%s/%s%s%s", (int)(host + 3 - endpoint), endpoint, bucket, host + 3, ekey,
                   query ? "?" : "", query ? query : "");
    }
    s3_host->free(ekey);
    return url;
}

char *s3_local_path(weir_ctx *ctx, const char *file)
{
    const char *project = ctx ? s3_host->ctx_get(ctx, "project") : NULL;
    size_t n;
    char *p;

    if (file[0] == '/' || !project || !*project) {
        return weir_host_strdup(s3_host, file);
    }
    n = strlen(project) + strlen(file) + 2;
    if ((p = s3_host->malloc(n))) {
        snprintf(p, n, "%s/%s", project, file);
    }
    return p;
}

int s3_need_http(const char *op)
{
    if (WEIR_HOST_HAS(s3_host, http_request) && WEIR_HOST_HAS(s3_host, http_response_free) &&
        WEIR_HOST_HAS(s3_host, aws_endpoint)) {
        return WEIR_OK;
    }
    return s3_host->error_set(WEIR_EVERSION,
                              "%s: this weir host has no HTTP client (host API 1.2 "
                              "http_request); run it with a weir built with HTTP "
                              "support",
                              op);
}

char *s3_etag(const struct weir_http_response *resp)
{
    const char *e = json_string_value(json_object_get(resp->headers, "etag"));
    size_t n;

    if (!e) {
        return NULL;
    }
    n = strlen(e);
    if (n >= 2 && e[0] == '"' && e[n - 1] == '"') {
        return dupf("%.*s", (int)(n - 2), e + 1);
    }
    return dupf("%s", e);
}

int s3_http_date_iso(const char *http_date, char out[64])
{
    struct tm tm;
    const char *end;

    memset(&tm, 0, sizeof(tm));
    end = http_date ? strptime(http_date, "%a, %d %b %Y %H:%M:%S GMT", &tm) : NULL;
    if (!end || *end) {
        return -1;
    }
    snprintf(out, 64, "%04d-%02d-%02dT%02d:%02d:%02d.000Z", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return 0;
}
