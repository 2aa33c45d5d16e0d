/* aws_creds_container.c - AWS credentials from the container credentials
 * endpoint (ECS task roles, EKS Pod Identity); see aws_creds.h. */
#include "aws_creds.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "error.h"
#include "http.h"
#include "redact.h"

#define ECS_HOST "http://169.254.170.2"
#define REFRESH_MARGIN_S 300
#define MAX_TOKEN_FILE 16384

/* The last credentials fetched, so a pipeline's thousands of requests do
 * not each cost a round trip to the endpoint. */
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static char *cache_url;
static struct weir_aws_creds cache;
static time_t cache_expires; /* 0: no expiry given */

static const char *env(const char *name)
{
    const char *v = getenv(name);

    return v && *v ? v : NULL;
}

/* http to anything but a loopback or the ECS/EKS agent would send the
 * token in the clear across the network: the SDKs refuse it too. */
static int full_uri_allowed(const char *url)
{
    static const char *const hosts[] = { "localhost", "169.254.170.2",  "169.254.170.23",
                                         "[::1]",     "[fd00:ec2::23]", NULL };
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL;
    int ok = 0;

    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
        ok = !strcasecmp(scheme, "https") || !strncmp(host, "127.", 4);
        for (const char *const *h = hosts; !ok && *h; h++) {
            ok = !strcasecmp(host, *h);
        }
        ok = ok && (!strcasecmp(scheme, "https") || !strcasecmp(scheme, "http"));
    }
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return ok;
}

/* The endpoint URL (new string), NULL with *rc set: WEIR_ENOTFOUND when
 * no variable is set, WEIR_EDENIED for a refused URL. */
static char *endpoint_url(int *rc)
{
    const char *rel = env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    const char *full = env("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    char *url;

    *rc = WEIR_OK;
    if (rel) {
        url = malloc(strlen(ECS_HOST) + strlen(rel) + 2);
        if (url) {
            sprintf(url, "%s%s%s", ECS_HOST, rel[0] == '/' ? "" : "/", rel);
        }
        *rc = url ? WEIR_OK : weir_error_set(WEIR_ENOMEM, "out of memory");
        return url;
    }
    if (!full) {
        *rc = WEIR_ENOTFOUND;
        return NULL;
    }
    if (!full_uri_allowed(full)) {
        *rc = weir_error_set(WEIR_EDENIED,
                             "AWS_CONTAINER_CREDENTIALS_FULL_URI must be https, or http to a "
                             "loopback address or the ECS/EKS agent (169.254.170.2, "
                             "169.254.170.23); it is '%.*s'",
                             (int)strcspn(full, "?#"), full);
        return NULL;
    }
    url = strdup(full);
    *rc = url ? WEIR_OK : weir_error_set(WEIR_ENOMEM, "out of memory");
    return url;
}

/* "Authorization: <token>" from the token file (EKS rotates it, so it is
 * read each time) or the variable; NULL line when neither is set. */
static int auth_line(char **line)
{
    const char *path = env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    char token[MAX_TOKEN_FILE];
    size_t n = 0;
    FILE *f;

    *line = NULL;
    if (path) {
        if (!(f = fopen(path, "r"))) {
            return weir_error_set(
                WEIR_EDENIED, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE '%s' cannot be read", path);
        }
        n = fread(token, 1, sizeof(token) - 1, f);
        fclose(f);
    }
    else if (env("AWS_CONTAINER_AUTHORIZATION_TOKEN")) {
        n = (size_t)snprintf(token, sizeof(token), "%s", env("AWS_CONTAINER_AUTHORIZATION_TOKEN"));
        n = n < sizeof(token) ? n : sizeof(token) - 1;
    }
    else {
        return WEIR_OK;
    }
    while (n > 0 && isspace((unsigned char)token[n - 1])) {
        n--;
    }
    token[n] = '\0';
    weir_redact_add(token);
    *line = malloc(n + 16);
    if (*line) {
        sprintf(*line, "Authorization: %s", token);
    }
    explicit_bzero(token, sizeof(token));
    return *line ? WEIR_OK : weir_error_set(WEIR_ENOMEM, "out of memory");
}

/* "2026-11-22T02:00:00Z" (fractions allowed) -> epoch seconds; 0 if absent
 * or unreadable, which means "refresh only when a request fails". */
static time_t iso_time(const char *s)
{
    struct tm tm = { 0 };

    if (!s || sscanf(s, "%d-%d-%dT%d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                     &tm.tm_min, &tm.tm_sec) != 6) {
        return 0;
    }
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return timegm(&tm);
}

static int parse_answer(const char *url, const struct weir_http_response *resp,
                        struct weir_aws_creds *out, time_t *expires)
{
    json_t *doc = json_loadb(resp->body, resp->body_len, 0, NULL);
    const char *id = json_string_value(json_object_get(doc, "AccessKeyId"));
    const char *secret = json_string_value(json_object_get(doc, "SecretAccessKey"));
    const char *token = json_string_value(json_object_get(doc, "Token"));
    int rc = WEIR_OK;

    if (!id || !secret) {
        rc = weir_error_set(WEIR_EDENIED,
                            "container credentials endpoint %.*s: the answer has no "
                            "AccessKeyId and SecretAccessKey",
                            (int)strcspn(url, "?#"), url);
        goto done;
    }
    out->access_key_id = strdup(id);
    out->secret_access_key = strdup(secret);
    out->session_token = token && *token ? strdup(token) : NULL;
    out->source = "container credentials";
    *expires = iso_time(json_string_value(json_object_get(doc, "Expiration")));
done:
    json_decref(doc);
    return rc;
}

static int fetch(const char *url, struct weir_aws_creds *out, time_t *expires)
{
    struct weir_http_request req = { 0 };
    struct weir_http_response resp = { 0 };
    const char *headers[3] = { "Accept: application/json", NULL, NULL };
    char *auth = NULL;
    int rc;

    if ((rc = auth_line(&auth)) < 0) {
        return rc;
    }
    headers[1] = auth;
    req.version = WEIR_HTTP_REQUEST_VERSION;
    req.method = "GET";
    req.url = url;
    req.headers = headers;
    req.connect_timeout_ms = 1000;
    req.timeout_ms = 2000;
    req.max_response = 65536;
    if ((rc = weir_http_request(NULL, &req, &resp)) < 0) {
        rc = weir_error_wrap(rc, "container credentials");
    }
    else if (resp.status != 200) {
        rc = weir_error_set(WEIR_EDENIED, "container credentials endpoint %.*s answered HTTP %ld",
                            (int)strcspn(url, "?#"), url, resp.status);
    }
    else {
        rc = parse_answer(url, &resp, out, expires);
    }
    if (auth) {
        explicit_bzero(auth, strlen(auth));
        free(auth);
    }
    if (resp.body) {
        explicit_bzero(resp.body, resp.body_len);
    }
    weir_http_response_free(&resp);
    return rc;
}

static int copy_creds(const struct weir_aws_creds *from, struct weir_aws_creds *to)
{
    to->access_key_id = strdup(from->access_key_id);
    to->secret_access_key = strdup(from->secret_access_key);
    to->session_token = from->session_token ? strdup(from->session_token) : NULL;
    to->source = from->source;
    if (!to->access_key_id || !to->secret_access_key ||
        (from->session_token && !to->session_token)) {
        weir_aws_creds_clear(to);
        return weir_error_set(WEIR_ENOMEM, "out of memory");
    }
    return WEIR_OK;
}

/* Copies the cache into out when it is for url and not about to expire. */
static int from_cache(const char *url, struct weir_aws_creds *out)
{
    int rc = WEIR_ENOTFOUND;

    pthread_mutex_lock(&cache_lock);
    if (cache_url && !strcmp(cache_url, url) &&
        (cache_expires == 0 || cache_expires - time(NULL) > REFRESH_MARGIN_S)) {
        rc = copy_creds(&cache, out);
    }
    pthread_mutex_unlock(&cache_lock);
    return rc;
}

static void to_cache(const char *url, const struct weir_aws_creds *c, time_t expires)
{
    pthread_mutex_lock(&cache_lock);
    weir_aws_creds_clear(&cache);
    free(cache_url);
    cache_url = strdup(url);
    if (!cache_url || copy_creds(c, &cache) < 0) {
        free(cache_url);
        cache_url = NULL;
    }
    cache_expires = expires;
    pthread_mutex_unlock(&cache_lock);
}

int weir_aws_creds_container(struct weir_aws_creds *out)
{
    time_t expires = 0;
    int rc;
    char *url = endpoint_url(&rc);

    if (!url) {
        return rc;
    }
    /* Fetched outside the lock: a slow endpoint must not stall threads that
     * already hold valid keys. Two threads may both fetch; both get keys. */
    if ((rc = from_cache(url, out)) == WEIR_ENOTFOUND &&
        (rc = fetch(url, out, &expires)) == WEIR_OK) {
        to_cache(url, out, expires);
    }
    free(url);
    return rc;
}

void weir_aws_creds_cache_reset(void)
{
    pthread_mutex_lock(&cache_lock);
    weir_aws_creds_clear(&cache);
    free(cache_url);
    cache_url = NULL;
    cache_expires = 0;
    pthread_mutex_unlock(&cache_lock);
}
