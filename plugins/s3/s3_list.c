/*
 * s3_list.c - store.list: one page per call, in the fs plugin's output
 * shape, from as many ListObjectsV2 requests as it takes (S3 gives at most
 * 1000 entries a request). Names are requested url-encoded (so any key
 * survives XML) and decoded when the server says it encoded them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3_internal.h"

#define OP "store.list"

static const struct weir_param_desc list_params[] = {
    { "prefix", WEIR_PARAM_STRING, 1, NULL,
      "s3://bucket/ or s3://bucket/key-prefix, or a key prefix relative to the bucket setting "
      "(\"\" for all)" },
    { "delimiter", WEIR_PARAM_STRING, 0, "null",
      "group keys by the part after the prefix up to this string (\"/\": one folder level)" },
    { "max_keys", WEIR_PARAM_INTEGER, 0, "1000",
      "keys plus common prefixes per page (1..100000; several requests when over 1000)" },
    { "continuation_token", WEIR_PARAM_STRING, 0, "null",
      "next_continuation_token of the previous page, to get the next one" },
    S3_SETTING_PARAMS,
    { NULL, WEIR_PARAM_ANY, 0, NULL, NULL },
};

/* ---- the ListBucketResult document ------------------------------------ */

struct listing {
    json_t *keys, *prefixes, *cur;
    char *token;
    int truncated, url_encoded, oom;
};

static void set_cur(struct listing *l, const char *name, json_t *v)
{
    if (!l->cur && !(l->cur = json_object())) {
        l->oom = 1;
    }
    if (!v || !l->cur || json_object_set_new(l->cur, name, v) < 0) {
        l->oom = 1;
    }
}

static void list_cb(void *user, const char *path, const char *t, size_t len)
{
    struct listing *l = user;
    const char *leaf;

    if (strncmp(path, "ListBucketResult/", 17) != 0) {
        return;
    }
    leaf = path + 17;
    if (strcmp(leaf, "Contents/Key") == 0) {
        set_cur(l, "key", json_stringn(t, len));
    }
    else if (strcmp(leaf, "Contents/Size") == 0) {
        set_cur(l, "bytes", json_integer(strtoll(t, NULL, 10)));
    }
    else if (strcmp(leaf, "Contents/ETag") == 0) {
        size_t q = len >= 2 && t[0] == '"' && t[len - 1] == '"';

        set_cur(l, "etag", json_stringn(t + q, len - 2 * q));
    }
    else if (strcmp(leaf, "Contents/LastModified") == 0) {
        set_cur(l, "last_modified", json_stringn(t, len));
    }
    else if (strcmp(leaf, "Contents") == 0 && l->cur) {
        l->oom |= json_array_append_new(l->keys, l->cur) < 0;
        l->cur = NULL;
    }
    else if (strcmp(leaf, "CommonPrefixes/Prefix") == 0) {
        l->oom |= json_array_append_new(l->prefixes, json_stringn(t, len)) < 0;
    }
    else if (strcmp(leaf, "NextContinuationToken") == 0 && !l->token) {
        l->oom |= !(l->token = weir_host_strdup(s3_host, t));
    }
    else if (strcmp(leaf, "IsTruncated") == 0) {
        l->truncated = strcmp(t, "true") == 0;
    }
    else if (strcmp(leaf, "EncodingType") == 0) {
        l->url_encoded = strcmp(t, "url") == 0;
    }
}

static json_t *decoded(const char *s)
{
    char *copy = weir_host_strdup(s3_host, s);
    json_t *v;

    if (!copy) {
        return NULL;
    }
    s3_uri_decode(copy, 1);
    v = json_string(copy);
    s3_host->free(copy);
    return v;
}

static int decode_names(struct listing *l)
{
    json_t *k;
    size_t i;
    int bad = 0;

    json_array_foreach(l->keys, i, k) {
        bad |= json_object_set_new(k, "key", decoded(json_string_value(json_object_get(k, "key"))));
    }
    json_array_foreach(l->prefixes, i, k) {
        bad |= json_array_set_new(l->prefixes, i, decoded(json_string_value(k)));
    }
    return bad;
}

int s3_xml_list(const char *xml, size_t len, json_t **out)
{
    struct listing l = { json_array(), json_array(), NULL, NULL, 0, 0, 0 };
    int rc;

    *out = NULL;
    if ((rc = s3_xml_walk(xml, len, list_cb, &l)) == WEIR_OK) {
        if (l.oom || !l.keys || !l.prefixes || (l.url_encoded && decode_names(&l))) {
            rc = s3_host->error_set(WEIR_ENOMEM, "out of memory");
        }
        else if (!(*out = json_pack("{s:O, s:O, s:s?, s:b}", "keys", l.keys, "common_prefixes",
                                    l.prefixes, "next_continuation_token", l.token, "truncated",
                                    l.truncated))) {
            rc = s3_host->error_set(WEIR_ENOMEM, "out of memory");
        }
    }
    json_decref(l.keys);
    json_decref(l.prefixes);
    json_decref(l.cur);
    s3_host->free(l.token);
    return rc;
}

/* ---- the op ----------------------------------------------------------- */

/* The sorted, encoded query of one ListObjectsV2 request (libc). */
static char *list_query(const struct s3_loc *loc, const char *delim, json_int_t max,
                        const char *token)
{
    char *etoken = s3_uri_encode(token ? token : "", 0),
         *edelim = s3_uri_encode(delim ? delim : "", 0);
    char *eprefix = s3_uri_encode(loc->key, 0), *q = NULL;

    if (etoken && edelim && eprefix &&
        asprintf(&q, "%s%s%s%s%s%sencoding-type=url&list-type=2&max-keys=%lld&prefix=%s",
                 token ? "continuation-token=" : "", token ? etoken : "", token ? "&" : "",
                 delim ? "delimiter=" : "", delim ? edelim : "", delim ? "&" : "",
                 (long long)(max < S3_MAX_KEYS_PER_REQUEST ? max : S3_MAX_KEYS_PER_REQUEST),
                 eprefix) < 0) {
        q = NULL;
    }
    s3_host->free(etoken);
    s3_host->free(edelim);
    s3_host->free(eprefix);
    return q;
}

/* The page in the fs plugin's shape: uris and keys as the caller named them. */
static int shape(const struct s3_loc *loc, json_t *page)
{
    json_t *keys = json_object_get(page, "keys"),
           *prefixes = json_object_get(page, "common_prefixes");
    json_t *k, *shaped = json_array();
    size_t i;
    int bad = !shaped;

    json_array_foreach(keys, i, k) {
        const char *full = json_string_value(json_object_get(k, "key"));
        char *uri = s3_loc_uri(loc, full);
        const char *rel =
            loc->explicit_s3 ? full : full + (strlen(full) >= loc->strip ? loc->strip : 0);

        json_object_del(k, "etag"); /* fs lists no etags; S3's are MD5s, not fs's */
        bad |= !uri || json_object_set_new(k, "uri", json_string(uri)) ||
               json_object_set_new(k, "key", json_string(rel));
        s3_host->free(uri);
    }
    json_array_foreach(prefixes, i, k) {
        const char *full = json_string_value(k);
        char *uri = s3_loc_uri(loc, full);
        const char *rel =
            loc->explicit_s3 ? full : full + (strlen(full) >= loc->strip ? loc->strip : 0);

        bad |= !uri ||
               json_array_append_new(shaped, json_pack("{s:s, s:s}", "uri", uri, "prefix", rel));
        s3_host->free(uri);
    }
    bad |= json_object_set_new(page, "common_prefixes", shaped);
    if (!json_boolean_value(json_object_get(page, "truncated"))) {
        bad |= json_object_set_new(page, "next_continuation_token", json_null());
    }
    return bad ? s3_host->error_set(WEIR_ENOMEM, OP ": out of memory") : WEIR_OK;
}

/* One ListObjectsV2 request of up to `want` entries after token; *page is
 * the raw result (s3_xml_list), empty for a missing bucket. */
static int list_request(weir_ctx *ctx, const struct s3_loc *loc, const char *delim, json_int_t want,
                        const char *token, json_t **page)
{
    struct weir_http_response resp = { 0 };
    struct s3_req r = { .method = "GET" };
    char *query = list_query(loc, delim, want, token);
    int rc;

    if (!(r.query = query)) {
        return s3_host->error_set(WEIR_ENOMEM, OP ": out of memory");
    }
    if ((rc = s3_send(ctx, OP, loc, &r, &resp)) < 0) {
        goto done;
    }
    if (resp.status == 404) {
        s3_host->log(ctx, WEIR_LOG_WARN, OP ": %s: no such bucket '%s'; listing it as empty",
                     loc->uri, loc->bucket);
        *page = json_pack("{s:[], s:[], s:n, s:b}", "keys", "common_prefixes",
                          "next_continuation_token", "truncated", 0);
        rc = *page ? WEIR_OK : s3_host->error_set(WEIR_ENOMEM, OP ": out of memory");
    }
    else if (resp.status != 200) {
        rc = s3_fail(OP, loc, &resp, "s3:ListBucket");
    }
    else {
        rc = s3_xml_list(resp.body, resp.body_len, page);
    }

done:
    s3_host->http_response_free(&resp);
    free(query);
    return rc;
}

/* Appends next's entries to page and takes over its token and truncation. */
static int merge(json_t *page, json_t *next)
{
    return json_array_extend(json_object_get(page, "keys"), json_object_get(next, "keys")) ||
           json_array_extend(json_object_get(page, "common_prefixes"),
                             json_object_get(next, "common_prefixes")) ||
           json_object_set(page, "next_continuation_token",
                           json_object_get(next, "next_continuation_token")) ||
           json_object_set(page, "truncated", json_object_get(next, "truncated"));
}

static size_t entries(const json_t *page)
{
    return json_array_size(json_object_get(page, "keys")) +
           json_array_size(json_object_get(page, "common_prefixes"));
}

/* Fills a page of up to max entries, S3 giving at most 1000 a request. */
static int list_fill(weir_ctx *ctx, const struct s3_loc *loc, const char *delim, json_int_t max,
                     const char *token, json_t **page)
{
    json_t *next = NULL;
    int rc = list_request(ctx, loc, delim, max, token, page);

    while (rc == WEIR_OK && json_is_true(json_object_get(*page, "truncated")) &&
           (json_int_t)entries(*page) < max) {
        const char *t = json_string_value(json_object_get(*page, "next_continuation_token"));

        if (!t || (ctx && (rc = s3_host->ctx_check(ctx)) < 0)) {
            break;
        }
        if ((rc = list_request(ctx, loc, delim, max - (json_int_t)entries(*page), t, &next)) ==
                WEIR_OK &&
            merge(*page, next)) {
            rc = s3_host->error_set(WEIR_ENOMEM, OP ": out of memory");
        }
        json_decref(next);
        next = NULL;
    }
    if (rc < 0) {
        json_decref(*page);
        *page = NULL;
    }
    return rc;
}

static int run_list(const json_t *input, json_t **out, weir_ctx *ctx, void *payload)
{
    const char *delim = json_string_value(json_object_get(input, "delimiter"));
    const char *token = json_string_value(json_object_get(input, "continuation_token"));
    json_int_t max = json_integer_value(json_object_get(input, "max_keys"));
    json_t *page = NULL;
    struct s3_loc loc;
    int rc;

    (void)payload;
    if ((rc = s3_need_http(OP)) < 0) {
        return rc;
    }
    if (max < 1 || max > 100000) {
        return s3_host->error_set(WEIR_EINVALID, OP ": max_keys is %lld; give 1..100000",
                                  (long long)max);
    }
    if ((rc = s3_loc_resolve(ctx, input, OP, "prefix", 1, &loc)) < 0) {
        return rc;
    }
    if ((rc = list_fill(ctx, &loc, delim && *delim ? delim : NULL, max, token, &page)) == WEIR_OK &&
        (rc = shape(&loc, page)) == WEIR_OK) {
        *out = page;
        page = NULL;
    }
    json_decref(page);
    s3_loc_free(&loc);
    return rc;
}

const struct weir_step_desc s3_step_list = {
    WEIR_STEP_DESC_VERSION,
    "list",
    "store",
    "list S3 keys and common prefixes under a prefix, one page per call (ListObjectsV2)",
    list_params,
    run_list,
    NULL
};
