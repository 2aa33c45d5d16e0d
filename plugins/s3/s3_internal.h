/*
 * s3_internal.h - what the source files of the s3 plugin share: the store
 * service (get, put, head, delete, list) on Amazon S3 or an S3-compatible
 * server, with the params and output shapes of the fs plugin. HTTP, SigV4,
 * credentials and retries are the host's (host API 1.2 http_request).
 */
#ifndef S3_INTERNAL_H
#define S3_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <weir/weir.h>

/* The host table, set by the entry (tests set it themselves). */
extern const struct weir_host_api *s3_host;

/* The store ops, registered by the entry with service "store". */
extern const struct weir_step_desc s3_step_get;
extern const struct weir_step_desc s3_step_put;
extern const struct weir_step_desc s3_step_head;
extern const struct weir_step_desc s3_step_delete;
extern const struct weir_step_desc s3_step_list;

/* Multipart part size, and the file size above which a put goes multipart. */
#define S3_PART_SIZE ((uint64_t)8 << 20)
/* ListObjectsV2 returns at most this many entries per request. */
#define S3_MAX_KEYS_PER_REQUEST 1000
/* Longest object key S3 accepts, in bytes. */
#define S3_MAX_KEY 1024

/* The params every op takes besides its own (settings; see README). */
#define S3_SETTING_PARAMS                                                                         \
    { "bucket", WEIR_PARAM_STRING, 0, "null",                                                     \
      "bucket for keys without s3:// (null: env WEIR_S3_BUCKET)" },                               \
        { "key_prefix", WEIR_PARAM_STRING, 0, "null",                                             \
          "prefix put before keys without s3:// (null: env WEIR_S3_PREFIX; a '/' is added)" },    \
        { "force_path_style", WEIR_PARAM_BOOLEAN, 0, "null",                                      \
          "path-style URLs (null: env WEIR_S3_FORCE_PATH_STYLE, else only for non-AWS endpoints " \
          "and "                                                                                  \
          "dotted buckets)" },                                                                    \
        { "region", WEIR_PARAM_STRING, 0, "null",                                                 \
          "AWS region (null: AWS_REGION, the profile's)" },                                       \
    {                                                                                             \
        "root", WEIR_PARAM_STRING, 0, "null", "accepted for fs compatibility; unused on S3"       \
    }

/* Where a uri lands on S3. Strings are host-allocated. */
struct s3_loc {
    const char *uri; /* as given; borrowed from the input */
    char *bucket;
    char *key;       /* the full object key (for list, the key prefix; may be "") */
    size_t strip;    /* bytes of key_prefix to drop from keys for output (relative uris) */
    int explicit_s3; /* the uri was s3://...: output uris are s3:// too */
    char *endpoint;  /* service endpoint, no trailing '/' */
    int path_style;
    const char *region;
};

/* Resolves input[param] ("uri", or "prefix" with is_prefix) and the
 * settings. Refuses what fs refuses (NUL bytes, empty keys or buckets, '.'
 * and '..' segments, empty segments) plus absolute local paths and keys
 * over 1024 bytes, with messages that start with op. */
int s3_loc_resolve(weir_ctx *ctx, const json_t *input, const char *op, const char *param,
                   int is_prefix, struct s3_loc *loc);
void s3_loc_free(struct s3_loc *loc);

/* The uri a pipeline sees for full object key `key` of loc's bucket. */
char *s3_loc_uri(const struct s3_loc *loc, const char *key);

/* Pure helpers of s3_loc.c (tested directly). */
/* Percent-encodes s for a URL; '/' is kept when keep_slash. Host-allocated. */
char *s3_uri_encode(const char *s, int keep_slash);
/* Decodes %XX (and '+' as space when plus) in place. */
void s3_uri_decode(char *s, int plus);
/* The object URL: path-style <endpoint>/<bucket>/<key> or virtual-host
 * <scheme>://<bucket>.<host>/<key>, key encoded per segment, then
 * "?query" when query is non-NULL. Host-allocated. */
char *s3_url(const char *endpoint, int path_style, const char *bucket, const char *key,
             const char *query);
/* Non-zero when the endpoint is AWS's own (virtual-host addressing works). */
int s3_endpoint_is_aws(const char *endpoint);

/* One request. body/body_file/response_file may be NULL; max_response 0 is
 * the host's default. Returns WEIR_OK with any status in *resp, or the
 * host's error (message prefixed with op and uri). */
struct s3_req {
    const char *method;
    const char *key;   /* object key, or NULL for the bucket */
    const char *query; /* encoded, sorted "a=b&c=d", or NULL */
    const char *const *headers;
    const void *body;
    size_t body_len;
    const char *body_file;
    const char *response_file;
    size_t max_response;
};
int s3_send(weir_ctx *ctx, const char *op, const struct s3_loc *loc, const struct s3_req *r,
            struct weir_http_response *resp);

/* Sets the error for a non-2xx response: 404 WEIR_ENOTFOUND, 403 and
 * credential errors WEIR_EDENIED, 412/409 conditional failures WEIR_EEXISTS,
 * 400 and region redirects WEIR_EINVALID, the rest WEIR_EIO. `action` is the
 * IAM action named in a denial ("s3:GetObject"). Returns the code. */
int s3_fail(const char *op, const struct s3_loc *loc, const struct weir_http_response *resp,
            const char *action);

/* file relative to ctx's project directory unless absolute; host-allocated. */
char *s3_local_path(weir_ctx *ctx, const char *file);

/* Uploads the local file at path (size bytes) in S3_PART_SIZE parts; aborts
 * the upload on any failure so no part is left behind. *etag on success
 * (host-allocated). */
int s3_multipart_put(weir_ctx *ctx, const struct s3_loc *loc, const char *path, uint64_t size,
                     int create_only, const char *content_type, char **etag);

/* WEIR_EVERSION unless the host has http_request. */
int s3_need_http(const char *op);

/* The ETag header without its quotes, host-allocated; NULL when absent. */
char *s3_etag(const struct weir_http_response *resp);

/* RFC 1123 ("Sun, 22 Nov 2026 00:52:51 GMT") to ISO-8601 with
 * milliseconds ("2026-11-22T00:52:51.000Z"); non-zero if unparsable. */
int s3_http_date_iso(const char *http_date, char out[64]);

/* ---- XML (s3_xml.c) ---- */

/* Called at the end of each element: path is the '/'-joined local names
 * from the root ("ListBucketResult/Contents/Key"), text the element's own
 * entity-decoded text. */
typedef void (*s3_xml_fn)(void *user, const char *path, const char *text, size_t len);

/* Walks a document (depth <= 16, element text <= 64 KiB, no DTD). Returns
 * WEIR_EINVALID with the byte offset on malformed input. */
int s3_xml_walk(const char *xml, size_t len, s3_xml_fn fn, void *user);

/* Code and Message of an <Error> document; both host-allocated or NULL. */
void s3_xml_error(const char *xml, size_t len, char **code, char **message);

/* The first element at path, host-allocated; NULL if absent or malformed. */
char *s3_xml_find(const char *xml, size_t len, const char *path);

/* A ListObjectsV2 result: {keys: [{key, bytes, etag, last_modified}],
 * common_prefixes: [prefix...], next_continuation_token, truncated} with
 * url-encoded names decoded when the result says EncodingType url. */
int s3_xml_list(const char *xml, size_t len, json_t **out);

#endif
