/* http.c - host HTTP client: libcurl + SigV4 + retries (see http.h). */
#include "http.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "ctx.h"
#include "error.h"
#include "http_int.h"
#include "redact.h"

#ifndef WEIR_VERSION
#define WEIR_VERSION "dev"
#endif

#define DEF_MAX_RESPONSE ((size_t)64 << 20)
#define DEF_CONNECT_MS 5000L
#define DEF_TIMEOUT_MS 60000L
#define DEF_ATTEMPTS 3
#define SLEEP_SLICE_MS 50
#define RETRY_COST 5
#define RETRY_TIMEOUT_COST 10

/* One attempt's transfer state, filled by the libcurl callbacks. */
struct xfer {
    CURL *h;
    const struct weir_http_plan *plan;
    char *body;
    size_t len, cap;
    int too_big;
    int cancelled;
    json_t *headers;
    FILE *in;
    FILE *out;
    char *tmp_path;
    int file_error;
    char errbuf[CURL_ERROR_SIZE]; /* libcurl's detail ("Connection timed out after 200 ms") */
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

/* Every attempt is one fresh connection carrying exactly one request:
 * libcurl silently re-sends a request when a reused keep-alive connection
 * turns out dead, which would put requests on the wire that the retry
 * policy (and its logs) never saw, POSTs included. What attempts do share
 * is DNS answers and TLS sessions (resumption saves most of a handshake). */
static CURLSH *share;
static pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access access, void *arg)
{
    pthread_mutex_lock(&share_locks[data]);
}

static void share_unlock(CURL *h, curl_lock_data data, void *arg)
{
    pthread_mutex_unlock(&share_locks[data]);
}

static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++) {
        pthread_mutex_init(&share_locks[i], NULL);
    }
    share = curl_share_init();
    if (share) {
        curl_share_setopt(share, CURLSHOPT_LOCKFUNC, share_lock);
        curl_share_setopt(share, CURLSHOPT_UNLOCKFUNC, share_unlock);
        curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
        curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    }
}

/* Every message goes through the redactor: URLs and AWS error text may
 * carry a value the host registered as secret. */
int weir__http_fail(int code, const char *fmt, ...)
{
    char msg[WEIR_ERROR_MAX];
    char *clean;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    clean = weir_redact(msg);
    weir_error_set(code, "%s", clean ? clean : "http: (message withheld)");
    free(clean);
    return code;
}

static const char *env_value(const char *name)
{
    const char *v = name ? getenv(name) : NULL;

    return v && *v ? v : NULL;
}

/* ---- callbacks ------------------------------------------------------------ */

static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
    struct xfer *x = arg;
    size_t len = size * n, k = 0;
    char name[128];
    const char *v, *end = data + len;

    if (len >= 5 && !strncmp(data, "HTTP/", 5)) {
        json_object_clear(x->headers); /* a new response (after 100, or a retry) */
        return len;
    }
    while (k < len && k + 1 < sizeof(name) && data[k] != ':') {
        name[k] = (char)tolower((unsigned char)data[k]);
        k++;
    }
    if (k >= len || data[k] != ':') {
        return len;
    }
    name[k] = '\0';
    v = data + k + 1;
    while (v < end && (*v == ' ' || *v == '\t')) {
        v++;
    }
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ')) {
        end--;
    }
    json_object_set_new(x->headers, name, json_stringn(v, (size_t)(end - v)));
    return len;
}

static int status_ok(long status)
{
    return status >= 200 && status < 300;
}

static size_t to_file(struct xfer *x, const char *data, size_t len)
{
    if (!x->out) {
        int fd;
        x->tmp_path = malloc(strlen(x->plan->response_file) + 16);
        if (!x->tmp_path) {
            x->file_error = ENOMEM;
            return 0;
        }
        sprintf(x->tmp_path, "%s.tmp.XXXXXX", x->plan->response_file);
        fd = mkstemp(x->tmp_path);
        if (fd < 0 || !(x->out = fdopen(fd, "wb"))) {
            x->file_error = errno;
            if (fd >= 0) {
                close(fd);
            }
            return 0;
        }
    }
    if (len && fwrite(data, 1, len, x->out) != len) {
        x->file_error = errno;
        return 0;
    }
    return len;
}

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
    struct xfer *x = arg;
    size_t len = size * n;
    long status = 0;

    curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
    if (x->plan->response_file && status_ok(status)) {
        return to_file(x, data, len);
    }
    if (x->len + len > x->plan->max_response) {
        x->too_big = 1;
        return 0;
    }
    if (x->len + len + 1 > x->cap) {
        size_t cap = x->cap ? x->cap : 4096;
        char *p;
        while (cap < x->len + len + 1) {
            cap *= 2;
        }
        if (!(p = realloc(x->body, cap))) {
            return 0;
        }
        x->body = p;
        x->cap = cap;
    }
    memcpy(x->body + x->len, data, len);
    x->len += len;
    x->body[x->len] = '\0';
    return len;
}

static size_t on_read(char *buf, size_t size, size_t n, void *arg)
{
    struct xfer *x = arg;
    size_t got = fread(buf, 1, size * n, x->in);

    return got == 0 && ferror(x->in) ? CURL_READFUNC_ABORT : got;
}

static int on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    struct xfer *x = arg;
    weir_ctx *ctx = x->plan->ctx;

    if (ctx && ctx->cancel && atomic_load(ctx->cancel)) {
        x->cancelled = 1;
        return 1;
    }
    return 0;
}

/* ---- request preparation -------------------------------------------------- */

static char *url_part(CURLU *u, CURLUPart part)
{
    char *v = NULL, *copy;

    if (curl_url_get(u, part, &v, 0) != CURLUE_OK || !v) {
        return NULL;
    }
    copy = strdup(v);
    curl_free(v);
    return copy;
}

/* A URL for a message when it could not be parsed: no query or fragment
 * (they may carry keys) and no user:password. */
static void safe_url(const char *url, char *out, size_t n)
{
    size_t len = strcspn(url, "?#");
    const char *scheme = strstr(url, "://");
    const char *host = scheme && (size_t)(scheme - url) < len ? scheme + 3 : NULL;
    const char *at = host ? memchr(host, '@', strcspn(host, "/?#")) : NULL;

    if (at) {
        snprintf(out, n, "%.*s***%.*s", (int)(host - url), url, (int)(url + len - at), at);
    }
    else {
        snprintf(out, n, "%.*s", (int)len, url);
    }
}

static int parse_url(struct weir_http_plan *p)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL, shown[512];
    int rc = WEIR_OK;

    safe_url(p->req->url, shown, sizeof(shown));
    if (!u || curl_url_set(u, CURLUPART_URL, p->req->url, CURLU_PATH_AS_IS) != CURLUE_OK) {
        rc = weir__http_fail(WEIR_EINVALID,
                             "http: '%s' is not a valid absolute URL; percent-encode spaces "
                             "and other reserved characters",
                             shown);
        goto done;
    }
    scheme = url_part(u, CURLUPART_SCHEME);
    host = url_part(u, CURLUPART_HOST);
    port = url_part(u, CURLUPART_PORT);
    p->path = url_part(u, CURLUPART_PATH);
    p->query = url_part(u, CURLUPART_QUERY);
    if (!scheme || !host || (strcasecmp(scheme, "http") && strcasecmp(scheme, "https"))) {
        rc = weir__http_fail(WEIR_EINVALID, "http: '%s' is not an http(s) URL", shown);
        goto done;
    }
    p->host = malloc(strlen(host) + (port ? strlen(port) : 0) + 2);
    p->shown = malloc(strlen(scheme) + strlen(host) + (port ? strlen(port) : 0) +
                      (p->path ? strlen(p->path) : 0) + 8);
    if (!p->host || !p->shown || !p->path) {
        rc = weir__http_fail(WEIR_ENOMEM, "http: out of memory");
        goto done;
    }
    sprintf(p->host, "%s%s%s", host, port ? ":" : "", port ? port : "");
    sprintf(p->shown, "%s://%s%s", scheme, p->host, p->path);
done:
    free(scheme);
    free(host);
    free(port);
    curl_url_cleanup(u);
    return rc;
}

/* The URL sent: the shown part plus the query (canonical for SigV4, so the
 * wire and the signature can not disagree). */
int weir__http_build_url(struct weir_http_plan *p, const char *query)
{
    p->url = malloc(strlen(p->shown) + (query ? strlen(query) : 0) + 2);
    if (!p->url) {
        return weir__http_fail(WEIR_ENOMEM, "http: out of memory");
    }
    sprintf(p->url, "%s%s%s", p->shown, query && *query ? "?" : "", query ? query : "");
    return WEIR_OK;
}

static const char *const methods[] = { "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", NULL };

static int check_request(const struct weir_http_request *req, struct weir_http_response *resp)
{
    int known = 0;

    if (!req || !resp) {
        return weir_error_set(WEIR_EINVALID, "http_request: req and resp are required");
    }
    memset(resp, 0, sizeof(*resp));
    if (req->version != WEIR_HTTP_REQUEST_VERSION) {
        return weir_error_set(WEIR_EINVALID, "http_request: struct version %u is not %d",
                              req->version, WEIR_HTTP_REQUEST_VERSION);
    }
    if (!req->url || !*req->url) {
        return weir_error_set(WEIR_EINVALID, "http_request: url is required");
    }
    for (const char *const *m = methods; *m; m++) {
        known |= req->method && !strcmp(req->method, *m);
    }
    if (req->method && !known) {
        return weir_error_set(WEIR_EINVALID,
                              "http_request: method '%s' is not one of GET HEAD "
                              "POST PUT DELETE PATCH",
                              req->method);
    }
    if (req->body && req->body_file) {
        return weir_error_set(WEIR_EINVALID, "http_request: give body or body_file, not both");
    }
    return WEIR_OK;
}

static char *no_proxy_list(void)
{
    const char *env = env_value("NO_PROXY") ? env_value("NO_PROXY") : env_value("no_proxy");
    const char *loopback = "127.0.0.1,localhost,::1";
    char *list = malloc((env ? strlen(env) + 1 : 0) + strlen(loopback) + 1);

    if (list) {
        sprintf(list, "%s%s%s", env ? env : "", env ? "," : "", loopback);
    }
    return list;
}

static int plan_init(struct weir_http_plan *p, weir_ctx *ctx, const struct weir_http_request *req)
{
    const char *env_attempts = env_value("AWS_MAX_ATTEMPTS");
    int rc;

    memset(p, 0, sizeof(*p));
    p->req = req;
    p->ctx = ctx;
    p->max_response = req->max_response ? req->max_response : DEF_MAX_RESPONSE;
    /* A HEAD has no body to stream, so it leaves no (empty) file behind. */
    p->response_file = req->method && !strcmp(req->method, "HEAD") ? NULL : req->response_file;
    p->max_attempts = req->max_attempts > 0                    ? req->max_attempts
                      : env_attempts && atoi(env_attempts) > 0 ? atoi(env_attempts)
                                                               : DEF_ATTEMPTS;
    if (!(p->no_proxy = no_proxy_list())) {
        return weir__http_fail(WEIR_ENOMEM, "http: out of memory");
    }
    if ((rc = parse_url(p)) < 0 || (rc = weir__http_plan_auth(p)) < 0) {
        return rc;
    }
    return p->sigv4 ? WEIR_OK : weir__http_build_url(p, p->query);
}

static void plan_free(struct weir_http_plan *p)
{
    free(p->url);
    free(p->shown);
    free(p->host);
    free(p->path);
    free(p->query);
    if (p->auth_line) {
        explicit_bzero(p->auth_line, strlen(p->auth_line));
        free(p->auth_line);
    }
    weir_aws_creds_clear(&p->creds);
    free(p->region);
    free(p->no_proxy);
}

/* ---- one attempt ---------------------------------------------------------- */

static int build_headers(struct weir_http_plan *p, struct curl_slist **list)
{
    int rc = WEIR_OK;

    for (const char *const *l = p->req->headers; l && *l && !rc; l++) {
        struct curl_slist *n = curl_slist_append(*list, *l);
        rc = n ? WEIR_OK : weir__http_fail(WEIR_ENOMEM, "http: out of memory");
        *list = n ? n : *list;
    }
    if (!rc && !weir__http_find_header(p->req->headers, "host")) {
        rc = weir__http_add_line(list, "Host", p->host); /* exactly the host that was signed */
    }
    if (!rc && p->sigv4) {
        rc = weir__http_sign(p, list);
    }
    if (!rc && p->auth_line) {
        struct curl_slist *n = curl_slist_append(*list, p->auth_line);
        rc = n ? WEIR_OK : weir__http_fail(WEIR_ENOMEM, "http: out of memory");
        *list = n ? n : *list;
    }
    if (!rc) {
        /* An empty Expect: stops libcurl's "Expect: 100-continue" on uploads. */
        struct curl_slist *n = curl_slist_append(*list, "Expect:");
        rc = n ? WEIR_OK : weir__http_fail(WEIR_ENOMEM, "http: out of memory");
        *list = n ? n : *list;
    }
    return rc;
}

static void free_headers(struct curl_slist *list)
{
    for (struct curl_slist *l = list; l; l = l->next) {
        explicit_bzero(l->data, strlen(l->data)); /* Authorization, tokens */
    }
    curl_slist_free_all(list);
}

static int set_body(struct xfer *x, const struct weir_http_request *r, const char *method)
{
    CURL *h = x->h;
    struct stat st;

    if (!strcmp(method, "HEAD")) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
        return WEIR_OK;
    }
    if (strcmp(method, "GET")) {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    }
    if (r->body_file) {
        if (!(x->in = fopen(r->body_file, "rb")) || fstat(fileno(x->in), &st) != 0) {
            return weir__http_fail(WEIR_EIO, "http: body_file '%s': %s", r->body_file,
                                   strerror(errno));
        }
        curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(h, CURLOPT_READDATA, x);
        curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)st.st_size);
    }
    else if (r->body || !strcmp(method, "POST") || !strcmp(method, "PUT") ||
             !strcmp(method, "PATCH")) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(r->body ? r->body_len : 0));
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, r->body ? (const char *)r->body : "");
    }
    return WEIR_OK;
}

static void set_timeouts(CURL *h, const struct weir_http_request *r, long budget_ms)
{
    long total = r->timeout_ms > 0 ? r->timeout_ms : DEF_TIMEOUT_MS;
    long connect = r->connect_timeout_ms > 0 ? r->connect_timeout_ms : DEF_CONNECT_MS;

    if (budget_ms >= 0 && budget_ms < total) {
        total = budget_ms > 0 ? budget_ms : 1;
    }
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, total);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, connect < total ? connect : total);
    /* A stalled body fails long before the total timeout on big transfers. */
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 30L);
}

static void set_options(struct xfer *x, struct curl_slist *list, long budget_ms)
{
    CURL *h = x->h;

    curl_easy_setopt(h, CURLOPT_URL, x->plan->url);
    if (share) {
        curl_easy_setopt(h, CURLOPT_SHARE, share);
    }
    curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_NOPROXY, x->plan->no_proxy);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L); /* credentials must not follow */
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "weir/" WEIR_VERSION);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, x);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, x->errbuf);
    set_timeouts(h, x->plan->req, budget_ms);
}

static void xfer_free(struct xfer *x)
{
    if (x->h) {
        curl_easy_cleanup(x->h);
    }
    if (x->in) {
        fclose(x->in);
    }
    if (x->out) {
        fclose(x->out);
    }
    if (x->tmp_path) {
        unlink(x->tmp_path);
        free(x->tmp_path);
    }
    free(x->body);
    json_decref(x->headers);
    memset(x, 0, sizeof(*x));
}

/* Moves a streamed 2xx body into place (an empty body still makes a file). */
static int commit_file(struct xfer *x)
{
    const char *dest = x->plan->response_file;

    if (!x->out && !to_file(x, "", 0)) {
        return weir__http_fail(WEIR_EIO, "http: response_file '%s': %s", dest,
                               strerror(x->file_error));
    }
    if (fflush(x->out) != 0 || fsync(fileno(x->out)) != 0 || fclose(x->out) != 0) {
        x->out = NULL;
        return weir__http_fail(WEIR_EIO, "http: response_file '%s': %s", dest, strerror(errno));
    }
    x->out = NULL;
    if (rename(x->tmp_path, dest) != 0) {
        return weir__http_fail(WEIR_EIO, "http: response_file '%s': %s", dest, strerror(errno));
    }
    free(x->tmp_path);
    x->tmp_path = NULL;
    return WEIR_OK;
}

/* ---- classification and retries ------------------------------------------- */

struct outcome {
    int rc; /* WEIR_OK when a response arrived */
    long status;
    int retryable;
    char reason[320]; /* "HTTP 503 SlowDown", "Couldn't connect to server" */
};

static int transient_curl(CURLcode cc)
{
    switch (cc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR: return 1;
    default: return 0;
    }
}

static void classify_status(const struct xfer *x, long status, struct outcome *o)
{
    char code[96];

    o->status = status;
    weir__http_error_code(x->headers, x->body, x->len, code, sizeof(code));
    o->retryable = status == 429 || status == 500 || status == 502 || status == 503 ||
                   status == 504 || (status >= 400 && weir_http_aws_code_retryable(code));
    snprintf(o->reason, sizeof(o->reason), "HTTP %ld%s%s", status, *code ? " " : "", code);
}

static void classify(struct xfer *x, CURLcode cc, long budget_ms, struct outcome *o)
{
    long status = 0;

    curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
    memset(o, 0, sizeof(*o));
    if (x->cancelled) {
        o->rc = WEIR_ECANCELLED;
        snprintf(o->reason, sizeof(o->reason), "run cancelled");
    }
    else if (x->too_big) {
        o->rc = WEIR_ETOOBIG;
        snprintf(o->reason, sizeof(o->reason),
                 "response body over max_response (%zu bytes); "
                 "raise max_response or stream it with response_file",
                 x->plan->max_response);
    }
    else if (x->file_error) {
        o->rc = WEIR_EIO;
        snprintf(o->reason, sizeof(o->reason), "response_file '%s': %s", x->plan->response_file,
                 strerror(x->file_error));
    }
    else if (cc != CURLE_OK) {
        int deadline =
            cc == CURLE_OPERATION_TIMEDOUT && budget_ms >= 0 &&
            budget_ms < (x->plan->req->timeout_ms > 0 ? x->plan->req->timeout_ms : DEF_TIMEOUT_MS);
        o->rc = cc == CURLE_OPERATION_TIMEDOUT ? WEIR_ETIMEOUT : WEIR_EIO;
        o->retryable = transient_curl(cc) && !deadline;
        snprintf(o->reason, sizeof(o->reason), "%s%s",
                 *x->errbuf ? x->errbuf : curl_easy_strerror(cc),
                 deadline ? " (the step's deadline)" : "");
    }
    else {
        classify_status(x, status, o);
    }
}

static int check_ctx(const struct weir_http_plan *p)
{
    weir_ctx *ctx = p->ctx;

    if (ctx && ctx->cancel && atomic_load(ctx->cancel)) {
        return weir__http_fail(WEIR_ECANCELLED, "http: %s %s: run cancelled",
                               p->req->method ? p->req->method : "GET", p->shown);
    }
    if (weir_ctx_remaining_ms(ctx) == 0) {
        return weir__http_fail(WEIR_ETIMEOUT, "http: %s %s: the step's deadline passed",
                               p->req->method ? p->req->method : "GET", p->shown);
    }
    return WEIR_OK;
}

/* Sleeps in slices so a cancelled run does not wait out a long backoff. */
static int pause_ms(const struct weir_http_plan *p, long ms)
{
    while (ms > 0) {
        long slice = ms < SLEEP_SLICE_MS ? ms : SLEEP_SLICE_MS;
        struct timespec ts = { slice / 1000, (slice % 1000) * 1000000L };
        int rc = check_ctx(p);
        if (rc < 0) {
            return rc;
        }
        nanosleep(&ts, NULL);
        ms -= slice;
    }
    return WEIR_OK;
}

static void log_debug(const struct weir_http_plan *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void log_debug(const struct weir_http_plan *p, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    weir_host_api_get()->log(p->ctx, WEIR_LOG_DEBUG, "%s", msg); /* host log redacts */
}

/* CURLOPT_NOSIGNAL keeps libcurl away from process-wide signal handlers
 * (threads), so a write to a connection the peer closed could raise SIGPIPE
 * and kill the process. Block it on this thread for the transfer and drop
 * any that was raised meanwhile, as libpq does. */
static CURLcode perform(CURL *h)
{
    sigset_t pipe_only, old;
    struct timespec zero = { 0, 0 };
    CURLcode cc;

    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_only, &old);
    cc = curl_easy_perform(h);
    if (!sigismember(&old, SIGPIPE)) {
        while (sigtimedwait(&pipe_only, NULL, &zero) > 0) {
        }
        pthread_sigmask(SIG_SETMASK, &old, NULL);
    }
    return cc;
}

static int run_attempt(struct weir_http_plan *p, struct xfer *x, struct outcome *o)
{
    struct curl_slist *list = NULL;
    int64_t budget = weir_ctx_remaining_ms(p->ctx);
    CURLcode cc;
    int rc;

    memset(o, 0, sizeof(*o));
    x->plan = p;
    x->h = curl_easy_init();
    x->headers = json_object();
    if (!x->h || !x->headers) {
        return o->rc = weir__http_fail(WEIR_ENOMEM, "http: out of memory");
    }
    if ((rc = build_headers(p, &list)) < 0 ||
        (rc = set_body(x, p->req, p->req->method ? p->req->method : "GET")) < 0) {
        free_headers(list);
        return o->rc = rc;
    }
    set_options(x, list, (long)budget);
    cc = perform(x->h);
    free_headers(list);
    classify(x, cc, (long)budget, o);
    if (o->rc == WEIR_OK && p->response_file && status_ok(o->status) && (rc = commit_file(x)) < 0) {
        o->rc = rc;
        o->retryable = 0;
        snprintf(o->reason, sizeof(o->reason), "%s", weir_error_last());
    }
    return WEIR_OK;
}

static void take_response(struct xfer *x, const struct outcome *o, int attempts,
                          struct weir_http_response *resp)
{
    resp->status = o->status;
    resp->attempts = attempts;
    resp->headers = x->headers;
    x->headers = NULL;
    if (!(x->plan->response_file && status_ok(o->status))) {
        resp->body = x->body ? x->body : calloc(1, 1);
        resp->body_len = x->body ? x->len : 0;
        x->body = NULL;
    }
}

struct retry_state {
    int skew_fixed;
    int spent;         /* tokens this request drew */
    int out_of_budget; /* a retry was due but the bucket was empty */
};

/* After an attempt: 1 to try again (the backoff already waited), 0 to report
 * this attempt; *rc < 0 when the wait was cut short. */
static int retry_again(struct weir_http_plan *p, const struct xfer *x, const struct outcome *o,
                       int attempt, struct retry_state *st, int *rc)
{
    const char *method = p->req->method ? p->req->method : "GET";
    int cost = o->rc == WEIR_ETIMEOUT ? RETRY_TIMEOUT_COST : RETRY_COST;
    long delay;

    if (attempt >= p->max_attempts) {
        return 0;
    }
    if (!o->retryable) {
        if (!p->sigv4 || st->skew_fixed ||
            !weir__http_skew_check(o->status, x->headers, x->body, x->len)) {
            return 0;
        }
        st->skew_fixed = 1;
        log_debug(p, "http: %s %s: %s; the server's clock is %+ld s from ours, retrying", method,
                  p->shown, o->reason, weir__http_skew_get());
        return 1;
    }
    delay = weir__http_backoff_ms(attempt);
    if (weir_ctx_remaining_ms(p->ctx) >= 0 && weir_ctx_remaining_ms(p->ctx) <= delay) {
        return 0; /* no time left for another attempt: report this one */
    }
    if (!weir__http_tokens_take(cost)) {
        st->out_of_budget = 1;
        return 0;
    }
    st->spent += cost;
    log_debug(p, "http: %s %s: %s (attempt %d of %d); retrying in %ld ms", method, p->shown,
              o->reason, attempt, p->max_attempts, delay);
    *rc = pause_ms(p, delay);
    return *rc == WEIR_OK;
}

static int request_loop(struct weir_http_plan *p, struct weir_http_response *resp)
{
    const char *method = p->req->method ? p->req->method : "GET";
    const char *budget = "; the retry budget is spent (many failures across requests)";
    struct xfer x = { 0 };
    struct outcome o = { 0 };
    struct retry_state st = { 0 };
    int attempt, rc = WEIR_OK;

    for (attempt = 1;; attempt++) {
        xfer_free(&x);
        if ((rc = check_ctx(p)) < 0 || (rc = run_attempt(p, &x, &o)) < 0 ||
            !retry_again(p, &x, &o, attempt, &st, &rc)) {
            break;
        }
    }
    if (rc < 0) {
        goto done;
    }
    if (o.rc < 0) {
        rc = weir__http_fail(o.rc, "http: %s %s: %s (attempt %d of %d)%s", method, p->shown,
                             o.reason, attempt, p->max_attempts, st.out_of_budget ? budget : "");
        goto done;
    }
    if (o.retryable) {
        /* Still WEIR_OK (the caller maps statuses), but error_last says why. */
        weir__http_fail(WEIR_OK, "http: %s %s: %s; gave up after %d attempt%s%s", method, p->shown,
                        o.reason, attempt, attempt == 1 ? "" : "s", st.out_of_budget ? budget : "");
        log_debug(p, "%s", weir_error_last());
    }
    else if (o.status < 400) {
        weir__http_tokens_give(st.spent ? st.spent : 1);
    }
    take_response(&x, &o, attempt, resp);
done:
    xfer_free(&x);
    return rc;
}

/* ---- host API ------------------------------------------------------------- */

int weir_http_request(weir_ctx *ctx, const struct weir_http_request *req,
                      struct weir_http_response *resp)
{
    struct weir_http_plan p;
    int rc;

    if ((rc = check_request(req, resp)) < 0) {
        return rc;
    }
    pthread_once(&curl_once, curl_init_once);
    if ((rc = plan_init(&p, ctx, req)) == WEIR_OK) {
        rc = request_loop(&p, resp);
    }
    plan_free(&p);
    return rc;
}

void weir_http_response_free(struct weir_http_response *resp)
{
    if (!resp) {
        return;
    }
    free(resp->body);
    json_decref(resp->headers);
    memset(resp, 0, sizeof(*resp));
}

char *weir_http_aws_endpoint(weir_ctx *ctx, const char *service_id, const char *region)
{
    return weir_aws_endpoint(service_id, region);
}
