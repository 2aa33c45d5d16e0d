/* http_auth.c - the authentication http.c adds to a request: AWS SigV4
 * (credentials, region, payload hash, signing), the Bedrock bearer token and
 * env-token API keys. Secrets read here are registered with the redactor. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/evp.h>

#include "aws_sigv4.h"
#include "error.h"
#include "http_int.h"
#include "redact.h"

static const char *env_value(const char *name)
{
    const char *v = name ? getenv(name) : NULL;

    return v && *v ? v : NULL;
}

static int hash_file(const char *path, char out[65])
{
    unsigned char buf[65536];
    FILE *f = fopen(path, "rb");
    EVP_MD_CTX *md = NULL;
    unsigned char digest[32];
    unsigned int dlen = 0;
    size_t n;
    int rc = WEIR_OK;

    if (!f) {
        return weir__http_fail(WEIR_EIO, "http: body_file '%s': %s", path, strerror(errno));
    }
    md = EVP_MD_CTX_new();
    if (!md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
        rc = weir__http_fail(WEIR_ENOMEM, "http: out of memory");
        goto done;
    }
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
        EVP_DigestUpdate(md, buf, n);
    }
    if (ferror(f)) {
        rc = weir__http_fail(WEIR_EIO, "http: reading body_file '%s': %s", path, strerror(errno));
        goto done;
    }
    EVP_DigestFinal_ex(md, digest, &dlen);
    for (unsigned int i = 0; i < dlen; i++) {
        sprintf(out + 2 * i, "%02x", digest[i]);
    }
done:
    EVP_MD_CTX_free(md);
    fclose(f);
    return rc;
}

/* Value of a caller header (case-insensitive name), or NULL. */
const char *weir__http_find_header(const char *const *headers, const char *name)
{
    size_t n = strlen(name);

    for (; headers && *headers; headers++) {
        if (!strncasecmp(*headers, name, n) && (*headers)[n] == ':') {
            const char *v = *headers + n + 1;
            while (*v == ' ' || *v == '\t') {
                v++;
            }
            return v;
        }
    }
    return NULL;
}

static char *header_line(const char *name, const char *prefix, const char *value)
{
    char *line = malloc(strlen(name) + strlen(prefix) + strlen(value) + 3);

    if (line) {
        sprintf(line, "%s: %s%s", name, prefix, value);
    }
    return line;
}

static int plan_token(struct weir_http_plan *p, const char *name, const char *prefix,
                      const char *var)
{
    const char *token = env_value(var);

    if (!token) {
        return weir__http_fail(WEIR_EDENIED,
                               "http: environment variable %s is not set or empty; export it "
                               "with the API key for %s",
                               var, p->host);
    }
    weir_redact_add(token);
    p->auth_line = header_line(name, prefix, token);
    return p->auth_line ? WEIR_OK : weir__http_fail(WEIR_ENOMEM, "http: out of memory");
}

static int plan_payload(struct weir_http_plan *p)
{
    const struct weir_http_request *r = p->req;
    const char *given = weir__http_find_header(r->headers, "x-amz-content-sha256");

    if (given) {
        snprintf(p->payload_hash, sizeof(p->payload_hash), "%s", given);
        p->s3 = 0; /* the caller sends the header; do not add a second one */
        return WEIR_OK;
    }
    if (r->body_file) {
        return hash_file(r->body_file, p->payload_hash);
    }
    weir_sha256_hex(r->body ? r->body : "", r->body ? r->body_len : 0, p->payload_hash);
    return WEIR_OK;
}

static int plan_sigv4(struct weir_http_plan *p)
{
    const struct weir_http_request *r = p->req;
    int rc;

    if (!r->aws_service || !*r->aws_service) {
        return weir__http_fail(WEIR_EINVALID,
                               "http: aws_service (the signing name) is required for SigV4");
    }
    if (!strcmp(r->aws_service, "bedrock") && env_value("AWS_BEARER_TOKEN_BEDROCK")) {
        return plan_token(p, "Authorization", "Bearer ", "AWS_BEARER_TOKEN_BEDROCK");
    }
    p->sigv4 = 1;
    p->s3 = !strcmp(r->aws_service, "s3");
    if ((rc = weir_aws_creds_load(&p->creds)) < 0) {
        return rc;
    }
    p->region = r->aws_region ? strdup(r->aws_region) : weir_aws_region();
    if (!p->region) {
        return r->aws_region ? weir__http_fail(WEIR_ENOMEM, "http: out of memory") : WEIR_EINVALID;
    }
    return plan_payload(p);
}

int weir__http_plan_auth(struct weir_http_plan *p)
{
    const struct weir_http_request *r = p->req;

    switch (r->auth) {
    case WEIR_HTTP_AUTH_NONE: return WEIR_OK;
    case WEIR_HTTP_AUTH_AWS_SIGV4: return plan_sigv4(p);
    case WEIR_HTTP_AUTH_ENV_TOKEN:
        if (!r->auth_header || !*r->auth_header || !r->auth_env) {
            return weir__http_fail(WEIR_EINVALID,
                                   "http: env-token auth needs auth_header and auth_env");
        }
        return plan_token(p, r->auth_header, r->auth_prefix ? r->auth_prefix : "", r->auth_env);
    }
    return weir__http_fail(WEIR_EINVALID, "http: unknown auth %d", (int)r->auth);
}

/* Headers that proxies or libcurl may add, drop or rewrite: never signed
 * (the AWS SDKs leave out the same ones). */
static int unsignable(const char *name, size_t n)
{
    static const char *const skip[] = { "authorization",
                                        "user-agent",
                                        "expect",
                                        "connection",
                                        "transfer-encoding",
                                        "keep-alive",
                                        "te",
                                        "trailer",
                                        "upgrade",
                                        "x-amzn-trace-id",
                                        "cache-control",
                                        "pragma",
                                        "referer",
                                        "from",
                                        "max-forwards",
                                        NULL };

    if (n > 6 && !strncasecmp(name, "proxy-", 6)) {
        return 1;
    }
    for (const char *const *s = skip; *s; s++) {
        if (strlen(*s) == n && !strncasecmp(name, *s, n)) {
            return 1;
        }
    }
    return 0;
}

static void amz_now(char out[17])
{
    time_t now = time(NULL) + weir__http_skew_get();
    struct tm tm;

    gmtime_r(&now, &tm);
    strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

int weir__http_add_line(struct curl_slist **list, const char *name, const char *value)
{
    char *line = header_line(name, "", value);
    struct curl_slist *l = line ? curl_slist_append(*list, line) : NULL;

    if (line) {
        explicit_bzero(line, strlen(line));
        free(line);
    }
    if (!l) {
        return weir__http_fail(WEIR_ENOMEM, "http: out of memory");
    }
    *list = l;
    return WEIR_OK;
}

/* The signable caller headers as name/value pairs, plus host and, for S3,
 * x-amz-content-sha256. Names and values point into `store`. -1: no memory. */
static long sign_headers(const struct weir_http_plan *p, struct weir_sigv4_header *h, char **store)
{
    long n = 0;

    for (const char *const *l = p->req->headers; l && *l; l++) {
        const char *colon = strchr(*l, ':');
        if (!colon || unsignable(*l, (size_t)(colon - *l))) {
            continue;
        }
        store[n] = strdup(*l);
        if (!store[n]) {
            return -1;
        }
        store[n][colon - *l] = '\0';
        h[n].name = store[n];
        h[n].value = store[n] + (colon - *l) + 1;
        n++;
    }
    if (!weir__http_find_header(p->req->headers, "host")) {
        h[n++] = (struct weir_sigv4_header){ "host", p->host };
    }
    if (p->s3) {
        h[n++] = (struct weir_sigv4_header){ "x-amz-content-sha256", p->payload_hash };
    }
    return n;
}

int weir__http_sign(struct weir_http_plan *p, struct curl_slist **list)
{
    size_t cap = 2;
    struct weir_sigv4_header *h;
    char **store, date[17];
    struct weir_sigv4_result res;
    struct weir_sigv4_request sr = { 0 };
    long n;
    int rc, s3 = !strcmp(p->req->aws_service, "s3");

    for (const char *const *l = p->req->headers; l && *l; l++) {
        cap++;
    }
    h = calloc(cap, sizeof(*h));
    store = calloc(cap, sizeof(*store));
    if (!h || !store || (n = sign_headers(p, h, store)) < 0) {
        rc = weir__http_fail(WEIR_ENOMEM, "http: out of memory");
        goto done;
    }
    amz_now(date);
    sr.method = p->req->method ? p->req->method : "GET";
    sr.path = p->path;
    sr.query = p->query;
    sr.headers = h;
    sr.n_headers = (size_t)n;
    sr.payload_hash = p->payload_hash;
    sr.access_key_id = p->creds.access_key_id;
    sr.secret_access_key = p->creds.secret_access_key;
    sr.session_token = p->creds.session_token;
    sr.region = p->region;
    sr.service = p->req->aws_service;
    sr.amz_date = date;
    sr.flags = s3 ? 0 : WEIR_SIGV4_NORMALIZE | WEIR_SIGV4_ENCODE_PATH; /* S3: path as sent */
    if ((rc = weir_sigv4_sign(&sr, &res)) < 0) {
        goto done;
    }
    rc = !p->url ? weir__http_build_url(p, res.canonical_query) : WEIR_OK;
    if (!rc) {
        rc = weir__http_add_line(list, "X-Amz-Date", date);
    }
    if (!rc && p->creds.session_token) {
        rc = weir__http_add_line(list, "X-Amz-Security-Token", p->creds.session_token);
    }
    if (!rc && p->s3) {
        rc = weir__http_add_line(list, "X-Amz-Content-Sha256", p->payload_hash);
    }
    if (!rc) {
        rc = weir__http_add_line(list, "Authorization", res.authorization);
    }
    weir_sigv4_result_free(&res);
done:
    for (size_t i = 0; store && i < cap; i++) {
        free(store[i]);
    }
    free(store);
    free(h);
    return rc;
}
