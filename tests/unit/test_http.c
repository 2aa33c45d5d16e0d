/* test_http.c - the host HTTP client (http_request) against a real HTTP
 * server on 127.0.0.1 run by this test on a thread: retries, give-up,
 * timeouts, size bounds, streaming both ways, auth headers (env token,
 * Bedrock bearer, SigV4 recomputed from the bytes received) and redaction. */
#include "testutil.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "aws_sigv4.h"
#include "ctx.h"
#include "error.h"
#include "http.h"
#include "http_int.h"
#include "redact.h"

#define MAX_SCRIPT 8
#define MAX_SEEN 16

/* One canned answer; the last one of a script repeats. */
struct canned {
    int status;          /* 0: close the connection without answering */
    const char *headers; /* extra "Name: value\r\n" lines, or NULL */
    const char *body;
    size_t body_len; /* 0: strlen(body) */
    int delay_ms;    /* before answering (slow server) */
};

struct server {
    int fd;
    int port;
    pthread_t thread;
    struct canned script[MAX_SCRIPT];
    int n_script;
    char *seen[MAX_SEEN]; /* raw requests received: head + body */
    size_t seen_len[MAX_SEEN];
    int n_seen;
    pthread_mutex_t lock;
    volatile int stop;
};

static struct server srv;
static char *tmpdir;

/* ---- the server ------------------------------------------------------------ */

static void nap(int ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

    nanosleep(&ts, NULL);
}

/* Reads one request (head, then Content-Length bytes of body). */
static char *read_request(int c, size_t *len)
{
    size_t cap = 1 << 16, n = 0, want = (size_t)-1;
    char *buf = malloc(cap + 1);

    while (n < want) {
        struct pollfd p = { c, POLLIN, 0 };
        ssize_t got;
        if (poll(&p, 1, 100) <= 0) {
            if (srv.stop) {
                break;
            }
            continue;
        }
        if (n == cap) {
            cap *= 2;
            buf = realloc(buf, cap + 1);
        }
        if ((got = read(c, buf + n, cap - n)) <= 0) {
            break;
        }
        n += (size_t)got;
        buf[n] = '\0';
        if (want == (size_t)-1 && strstr(buf, "\r\n\r\n")) {
            const char *cl = strcasestr(buf, "\r\ncontent-length:");
            want =
                (size_t)(strstr(buf, "\r\n\r\n") - buf) + 4 + (cl ? strtoul(cl + 17, NULL, 10) : 0);
        }
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

static void answer(int c, const struct canned *a)
{
    size_t blen = a->body_len ? a->body_len : (a->body ? strlen(a->body) : 0);
    char head[1024];
    int n;

    for (int waited = 0; waited < a->delay_ms && !srv.stop; waited += 20) {
        nap(20);
    }
    if (a->status == 0) {
        return; /* drop the connection without a word */
    }
    n = snprintf(head, sizeof(head),
                 "HTTP/1.1 %d Canned\r\nContent-Length: %zu\r\n"
                 "Connection: close\r\n%s\r\n",
                 a->status, blen, a->headers ? a->headers : "");
    if (send(c, head, (size_t)n, MSG_NOSIGNAL) < 0) {
        return;
    }
    for (size_t off = 0; off < blen;) {
        ssize_t w = send(c, a->body + off, blen - off, MSG_NOSIGNAL);
        if (w <= 0) {
            return;
        }
        off += (size_t)w;
    }
}

static void *serve(void *arg)
{
    while (!srv.stop) {
        struct pollfd p = { srv.fd, POLLIN, 0 };
        int c, i;
        size_t len;
        char *req;
        if (poll(&p, 1, 50) <= 0 || (c = accept(srv.fd, NULL, NULL)) < 0) {
            continue;
        }
        req = read_request(c, &len);
        pthread_mutex_lock(&srv.lock);
        i = srv.n_seen;
        if (i < MAX_SEEN) {
            srv.seen[i] = req;
            srv.seen_len[i] = len;
            srv.n_seen++;
        }
        else {
            free(req);
        }
        pthread_mutex_unlock(&srv.lock);
        answer(c, &srv.script[i < srv.n_script ? i : srv.n_script - 1]);
        close(c);
    }
    return NULL;
}

static int listen_on_loopback(int backlog, int *port)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t alen = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

    assert_true(fd >= 0);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(fd, backlog), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

/* Starts the server with a script of answers. */
static void serve_script(const struct canned *script, int n)
{
    memcpy(srv.script, script, (size_t)n * sizeof(*script));
    srv.n_script = n;
    srv.fd = listen_on_loopback(16, &srv.port);
    assert_int_equal(pthread_create(&srv.thread, NULL, serve, NULL), 0);
}

static const char *const aws_vars[] = { "AWS_ACCESS_KEY_ID",
                                        "AWS_SECRET_ACCESS_KEY",
                                        "AWS_SESSION_TOKEN",
                                        "AWS_PROFILE",
                                        "AWS_REGION",
                                        "AWS_DEFAULT_REGION",
                                        "AWS_SHARED_CREDENTIALS_FILE",
                                        "AWS_CONFIG_FILE",
                                        "AWS_ENDPOINT_URL",
                                        "AWS_BEARER_TOKEN_BEDROCK",
                                        "AWS_MAX_ATTEMPTS",
                                        "WEIR_TEST_API_KEY",
                                        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                                        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                                        NULL };

static int setup(void **state)
{
    memset(&srv, 0, sizeof(srv));
    pthread_mutex_init(&srv.lock, NULL);
    srv.fd = -1;
    tmpdir = tu_mkdtemp();
    for (const char *const *v = aws_vars; *v; v++) {
        unsetenv(*v);
    }
    setenv("HOME", tmpdir, 1); /* never the real ~/.aws */
    weir_redact_reset();
    weir_error_clear();
    return 0;
}

static int teardown(void **state)
{
    if (srv.fd >= 0) {
        srv.stop = 1;
        pthread_join(srv.thread, NULL);
        close(srv.fd);
    }
    for (int i = 0; i < srv.n_seen; i++) {
        free(srv.seen[i]);
    }
    pthread_mutex_destroy(&srv.lock);
    weir__http_skew_set(0);
    weir__http_retry_tokens_set(500);
    tu_rmtree(tmpdir);
    free(tmpdir);
    return 0;
}

static char *url(const char *path)
{
    static char buf[512];

    snprintf(buf, sizeof(buf), "http://127.0.0.1:%d%s", srv.port, path);
    return buf;
}

static struct weir_http_request get(const char *path)
{
    struct weir_http_request r = { 0 };

    r.version = WEIR_HTTP_REQUEST_VERSION;
    r.method = "GET";
    r.url = url(path);
    return r;
}

/* Value of header `name` in a received request (case-insensitive), copied. */
static char *seen_header(int i, const char *name)
{
    char pat[128], *p, *end, *v;

    snprintf(pat, sizeof(pat), "\r\n%s:", name);
    p = strcasestr(srv.seen[i], pat);
    if (!p || p > strstr(srv.seen[i], "\r\n\r\n")) {
        return NULL;
    }
    p += strlen(pat);
    while (*p == ' ') {
        p++;
    }
    end = strstr(p, "\r\n");
    v = strndup(p, (size_t)(end - p));
    return v;
}

static int starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static const char *seen_body(int i)
{
    return strstr(srv.seen[i], "\r\n\r\n") + 4;
}

/* ---- captured logs --------------------------------------------------------- */

static char logbuf[16384];

static void capture_log(void *payload, const char *step, int level, const char *msg)
{
    strncat(logbuf, msg, sizeof(logbuf) - strlen(logbuf) - 2);
    strcat(logbuf, "\n");
}

static struct weir_ctx test_ctx(void)
{
    struct weir_ctx c = { 0 };

    c.step_id = "fetch";
    c.log_sink = capture_log;
    logbuf[0] = '\0';
    return c;
}

/* ---- retries ----------------------------------------------------------------- */

static void test_retry_503_then_ok(void **state)
{
    const struct canned s[] = { { 503, NULL, "busy", 0, 0 },
                                { 200, "X-Thing: yes\r\n", "ok", 0, 0 } };
    struct weir_http_request r;
    struct weir_http_response resp;
    struct weir_ctx ctx = test_ctx();

    serve_script(s, 2);
    r = get("/item");
    assert_int_equal(weir_http_request(&ctx, &r, &resp), WEIR_OK);
    assert_int_equal(resp.status, 200);
    assert_int_equal(resp.attempts, 2);
    assert_int_equal(srv.n_seen, 2);
    assert_string_equal(resp.body, "ok");
    assert_int_equal(resp.body_len, 2);
    assert_string_equal(json_string_value(json_object_get(resp.headers, "x-thing")), "yes");
    /* The retry was logged at debug level with its reason. */
    assert_non_null(strstr(logbuf, "HTTP 503"));
    assert_non_null(strstr(logbuf, "attempt 1 of 3"));
    weir_http_response_free(&resp);
    assert_null(resp.body);
}

static void test_throttle_storm_gives_up(void **state)
{
    const struct canned s[] = { { 429, "Content-Type: application/x-amz-json-1.1\r\n",
                                  "{\"__type\":\"ThrottlingException\",\"Message\":\"slow down\"}",
                                  0, 0 } };
    struct weir_http_request r;
    struct weir_http_response resp;

    serve_script(s, 1);
    r = get("/");
    r.max_attempts = 4;
    assert_int_equal(weir_http_request(NULL, &r, &resp), WEIR_OK);
    assert_int_equal(resp.status, 429);
    assert_int_equal(resp.attempts, 4);
    assert_int_equal(srv.n_seen, 4);
    assert_non_null(strstr(weir_error_last(), "gave up after 4 attempts"));
    assert_non_null(strstr(weir_error_last(), "HTTP 429 ThrottlingException"));
    assert_non_null(strstr(resp.body, "slow down"));
    weir_http_response_free(&resp);
}

/* With the process-wide retry budget nearly spent, a storm stops early. */
static void test_retry_budget(void **state)
{
    const struct canned s[] = { { 503, NULL, "", 0, 0 } };
    struct weir_http_request r;
    struct weir_http_response resp;

    serve_script(s, 1);
    weir__http_retry_tokens_set(5); /* one retry's worth */
    r = get("/");
    r.max_attempts = 5;
    assert_int_equal(weir_http_request(NULL, &r, &resp), WEIR_OK);
    assert_int_equal(resp.status, 503);
    assert_int_equal(resp.attempts, 2);
    assert_int_equal(srv.n_seen, 2);
    assert_non_null(strstr(weir_error_last(), "gave up after 2 attempts; the retry budget"));
    weir_http_response_free(&resp);
}

static void test_400_not_retried(void **state)
{
    const struct canned s[] = {
        { 400, NULL, "{\"__type\":\"ValidationException\",\"Message\":\"x\"}", 0, 0 }
    };
    struct weir_http_request r;
    struct weir_http_response resp;

    serve_script(s, 1);
    r = get("/");
    assert_int_equal(weir_http_request(NULL, &r, &resp), WEIR_OK);
    assert_int_equal(resp.status, 400);
    assert_int_equal(resp.attempts, 1);
    assert_int_equal(srv.n_seen, 1);
    weir_http_response_free(&resp);
}

/* Glue throttles with a 400 whose __type says so; S3 with an XML <Code>. */
static void test_400_throttling_code_retried(void **state)
{
    const struct canned s[] = {
        { 400, NULL, "{\"__type\":\"com.amazonaws.glue#ThrottlingException\",\"Message\":\"r\"}", 0,
          0 },
        { 400, NULL, "<Error><Code>SlowDown</Code><Message>m</Message></Error>", 0, 0 },
        { 204, NULL, "", 0, 0 }
    };
    struct weir_http_request r;
    struct weir_http_response resp;

    serve_script(s, 3);
    r = get("/");
    assert_int_equal(weir_http_request(NULL, &r, &resp), WEIR_OK);
    assert_int_equal(resp.status, 204);
    assert_int_equal(resp.attempts, 3);
    assert_int_equal(resp.body_len, 0);
    assert_string_equal(resp.body, "");
    weir_http_response_free(&resp);
}

static void test_retryable_codes(void **state)
{
    assert_true(weir_http_aws_code_retryable("ThrottlingException"));
    assert_true(weir_http_aws_code_retryable("TooManyRequestsException"));
    assert_true(weir_http_aws_code_retryable("aws.protocols#RequestLimitExceeded:http://x/"));
    assert_true(weir_http_aws_code_retryable("SlowDown"));
    assert_false(weir_http_aws_code_retryable("ValidationException"));
    assert_false(weir_http_aws_code_retryable("ThrottlingExceptionX"));
    assert_false(weir_http_aws_code_retryable(""));
    assert_false(weir_http_aws_code_retryable(NULL));
}

/* ---- time and size bounds ---------------------------------------------------- */

static void test_slow_response_times_out(void **state)
{
    const struct canned s[] = { { 200, NULL, "late", 0, 3000 } };
    struct weir_http_request r;
    struct weir_http_response resp;

    serve_script(s, 1);
    r = get("/slow?token=abc");
    r.timeout_ms = 200;
    r.max_attempts = 1;
    assert_int_equal(weir_http_request(NULL, &r, &resp), WEIR_ETIMEOUT);
    assert_non_null(strstr(weir_error_last(), "/slow"));
    assert_null(strstr(weir_error_last(), "token=abc")); /* queries may carry secrets */
    assert_null(resp.body);
}

static void test_step_deadline_bounds_request(void **state)
{
    const struct canned s[] = { { 200, NULL, "late", 0, 3000 } };
    struct weir_http_request r;
    struct weir_http_response resp;
    struct weir_ctx ctx = test_ctx();

    serve_script(s, 1);
    ctx.deadline_ms = weir_now_mono_ms() + 200;
    r = get("/slow");
    assert_int_equal(weir_http_request(&ctx, &r, &resp), WEIR_ETIMEOUT);
    assert_non_null(strstr(weir_error_last(), "deadline"));
}

/* A listener whose accept queue is full drops further SYNs, so connect()
 * never completes: the connect timeout must fire. */
static void test_connect_timeout(void **state)
{
    int port, fd = listen_on_loopback(0, &port), fillers[4];
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    struct weir_http_request r = { 0 };
    struct weir_http_response resp;
    char u[128];

    a.sin_port = htons((uint16_t)port);
    for (int i = 0; i < 4; i++) {
        fillers[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        connect(fillers[i], (struct sockaddr *)&a, sizeof(a));
    }
    nap(50);
    snprintf(u, sizeof(u), "http://127.0.0.1:%d/", port);
    r.version = WEIR_HTTP_REQUEST_VERSION;
    r.url = u;
    r.connect_timeout_ms = 200;
    r.max_attempts = 1;
    assert_int_equal(weir_http_request(NULL, &r, &resp), WEIR_ETIMEOUT);
    for (int i = 0; i < 4; i++) {
        close(fillers[i]);
    }
    close(fd);
}

static void test_connection_refused_is_eio(void **state)
{
    int port, fd = listen_on_loopback(1, &port);
    struct weir_http_request r = { 0 };
    struct weir_http_response resp;
    char u[128];

    close(fd); /* nothing listens there any more */
    snprintf(u, sizeof(u), "http://127.0.0.1:%d/x", port);
    r.version = WEIR_HTTP_REQUEST_VERSION;
    r.url = u;
    r.max_attempts = 2;
    assert_int_equal(weir_http_request(NULL, &r, &resp), WEIR_EIO);
    assert_non_null(strstr(weir_error_last(), "attempt 2 of 2"));
}

static void test_dropped_connection_retried(void **state)
{
    const struct canned s[] = { { 0, NULL, NULL, 0, 0 }, { 200, NULL, "back", 0, 0 } };
    struct weir_http_request r;
    struct weir_http_response resp;

    serve_script(s, 2);
    r = get("/flaky");
    assert_int_equal(weir_http_request(NULL, &r, &resp), WEIR_OK);
    assert_int_equal(resp.attempts, 2);
    assert_string_equal(resp.body, "back");
    weir_http_response_free(&resp);
}

static void test_body_over_max_response(void **state)
{
    static char big[10000];
    const struct canned s[] = { { 200, NULL, big, sizeof(big), 0 } };
    struct weir_http_request r;
    struct weir_http_response resp;

    memset(big, 'x', sizeof(big));
    serve_script(s, 1);
    r = get("/big");
    r.max_response = 1000;
    assert_int_equal(weir_http_request(NULL, &r, &resp), WEIR_ETOOBIG);
    assert_non_null(strstr(weir_error_last(), "max_response"));
    assert_int_equal(srv.n_seen, 1); /* not retried */
    r.max_response = sizeof(big);
    assert_int_equal(weir_http_request(NULL, &r, &resp), WEIR_OK);
    assert_int_equal(resp.body_len, sizeof(big));
    weir_http_response_free(&resp);
}

/* ---- streaming --------------------------------------------------------------- */

static void test_response_file(void **state)
{
    const struct canned s[] = { { 200, NULL, "line 1\nline 2\n", 0, 0 },
                                { 404, NULL, "<Error><Code>NoSuchKey</Code></Error>", 0, 0 } };
    struct weir_http_request r;
    struct weir_http_response resp;
    char dest[1024], *got;
    struct stat st;

    serve_script(s, 2);
    snprintf(dest, sizeof(dest), "%s/out.csv", tmpdir);
    r = get("/obj");
    r.response_file = dest;
    assert_int_equal(weir_http_request(NULL, &r, &resp), WEIR_OK);
    assert_int_equal(resp.status, 200);
    assert_null(resp.body);
    got = tu_read_file(dest, NULL);
    assert_string_equal(got, "line 1\nline 2\n");
    free(got);
    weir_http_response_free(&resp);
    /* A 404 keeps its body in memory and leaves no file behind. */
    unlink(dest);
    assert_int_equal(weir_http_request(NULL, &r, &resp), WEIR_OK);
    assert_int_equal(resp.status, 404);
    assert_non_null(strstr(resp.body, "NoSuchKey"));
    assert_int_not_equal(stat(dest, &st), 0);
    weir_http_response_free(&resp);
}

static void test_head(void **state)
{
    const struct canned s[] = { { 200, "ETag: \"abc\"\r\n", "hello", 0, 0 } };
    struct weir_http_request r;
    struct weir_http_response resp;
    char dest[1024];
    struct stat st;

    serve_script(s, 1);
    snprintf(dest, sizeof(dest), "%s/head.out", tmpdir);
    r = get("/obj");
    r.method = "HEAD";
    r.response_file = dest; /* nothing to stream: no file appears */
    assert_int_equal(weir_http_request(NULL, &r, &resp), WEIR_OK);
    assert_true(starts_with(srv.seen[0], "HEAD /obj HTTP/1.1\r\n"));
    assert_int_equal(resp.status, 200);
    assert_string_equal(resp.body, "");
    assert_string_equal(json_string_value(json_object_get(resp.headers, "content-length")), "5");
    assert_string_equal(json_string_value(json_object_get(resp.headers, "etag")), "\"abc\"");
    assert_int_not_equal(stat(dest, &st), 0);
    weir_http_response_free(&resp);
}

static void test_body_file_upload(void **state)
{
    const struct canned s[] = { { 200, NULL, "stored", 0, 0 } };
    struct weir_http_request r;
    struct weir_http_response resp;
    char *path = tu_write_file(tmpdir, "upload.bin", "id,name\n1,ada\n2,grace\n");
    char *cl, *expect;

    serve_script(s, 1);
    r = get("/bucket/upload.bin");
    r.method = "PUT";
    r.body_file = path;
    assert_int_equal(weir_http_request(NULL, &r, &resp), WEIR_OK);
    assert_int_equal(resp.status, 200);
    assert_true(starts_with(srv.seen[0], "PUT /bucket/upload.bin HTTP/1.1\r\n"));
    assert_string_equal(seen_body(0), "id,name\n1,ada\n2,grace\n");
    cl = seen_header(0, "content-length");
    assert_string_equal(cl, "22");
    expect = seen_header(0, "expect");
    assert_null(expect); /* no "Expect: 100-continue" */
    free(cl);
    free(path);
    weir_http_response_free(&resp);
}

static void test_post_body(void **state)
{
    const struct canned s[] = { { 200, NULL, "{}", 0, 0 } };
    struct weir_http_request r;
    struct weir_http_response resp;
    const char *hdrs[] = { "Content-Type: application/json", NULL };

    serve_script(s, 1);
    r = get("/v1/chat/completions");
    r.method = "POST";
    r.headers = hdrs;
    r.body = "{\"a\":1}";
    r.body_len = 7;
    assert_int_equal(weir_http_request(NULL, &r, &resp), WEIR_OK);
    assert_string_equal(seen_body(0), "{\"a\":1}");
    assert_non_null(strstr(srv.seen[0], "Content-Type: application/json\r\n"));
    weir_http_response_free(&resp);
}

/* ---- authentication and redaction --------------------------------------------- */

#define API_KEY "sk-test-0123456789abcdef"

static void test_env_token(void **state)
{
    const struct canned s[] = { { 503, NULL, "", 0, 0 }, { 200, NULL, "{}", 0, 0 } };
    struct weir_http_request r;
    struct weir_http_response resp;
    struct weir_ctx ctx = test_ctx();
    char *auth;

    serve_script(s, 2);
    r = get("/v1/models");
    r.auth = WEIR_HTTP_AUTH_ENV_TOKEN;
    r.auth_header = "Authorization";
    r.auth_prefix = "Bearer ";
    r.auth_env = "WEIR_TEST_API_KEY";
    assert_int_equal(weir_http_request(&ctx, &r, &resp), WEIR_EDENIED);
    assert_non_null(strstr(weir_error_last(), "WEIR_TEST_API_KEY"));
    setenv("WEIR_TEST_API_KEY", API_KEY, 1);
    assert_int_equal(weir_http_request(&ctx, &r, &resp), WEIR_OK);
    assert_int_equal(resp.attempts, 2);
    auth = seen_header(1, "authorization");
    assert_string_equal(auth, "Bearer " API_KEY);
    free(auth);
    assert_non_null(strstr(logbuf, "HTTP 503"));
    assert_null(strstr(logbuf, API_KEY));
    weir_http_response_free(&resp);
}

static void test_secret_never_in_errors(void **state)
{
    int port, fd = listen_on_loopback(1, &port);
    struct weir_http_request r = { 0 };
    struct weir_http_response resp;
    char u[256];

    close(fd);
    setenv("WEIR_TEST_API_KEY", API_KEY, 1);
    /* Even a URL that carries the key in its path is masked in the message. */
    snprintf(u, sizeof(u), "http://127.0.0.1:%d/key/" API_KEY "/x", port);
    r.version = WEIR_HTTP_REQUEST_VERSION;
    r.url = u;
    r.max_attempts = 1;
    r.auth = WEIR_HTTP_AUTH_ENV_TOKEN;
    r.auth_header = "x-goog-api-key";
    r.auth_env = "WEIR_TEST_API_KEY";
    assert_int_equal(weir_http_request(NULL, &r, &resp), WEIR_EIO);
    assert_non_null(strstr(weir_error_last(), "/key/***/x"));
    assert_null(strstr(weir_error_last(), API_KEY));
}

static void test_bedrock_bearer(void **state)
{
    const struct canned s[] = { { 200, NULL, "{}", 0, 0 } };
    struct weir_http_request r;
    struct weir_http_response resp;
    char *auth, *date;

    serve_script(s, 1);
    setenv("AWS_BEARER_TOKEN_BEDROCK", "bedrock-api-key-abcdef", 1);
    r = get("/model/m%3A0/converse");
    r.method = "POST";
    r.auth = WEIR_HTTP_AUTH_AWS_SIGV4;
    r.aws_service = "bedrock";
    r.body = "{}";
    r.body_len = 2;
    /* No AWS keys and no region: the bearer token needs neither. */
    assert_int_equal(weir_http_request(NULL, &r, &resp), WEIR_OK);
    auth = seen_header(0, "authorization");
    date = seen_header(0, "x-amz-date");
    assert_string_equal(auth, "Bearer bedrock-api-key-abcdef");
    assert_null(date);
    free(auth);
    weir_http_response_free(&resp);
}

/* Rebuilds the signature from the request exactly as the server received it
 * (method, raw path and query, the headers Authorization lists, the body)
 * and compares it with the one sent. */
static void verify_sigv4(int i, const char *service, const char *secret, const char *token)
{
    char *auth = seen_header(i, "authorization"), *date = seen_header(i, "x-amz-date");
    char *line = strndup(srv.seen[i], (size_t)(strstr(srv.seen[i], "\r\n") - srv.seen[i]));
    char *sp1 = strchr(line, ' '), *sp2 = strrchr(line, ' '), *q, *signed_list, *name;
    char *values[16], *save = NULL, hash[65], *key_id;
    struct weir_sigv4_header h[16];
    struct weir_sigv4_result res;
    size_t n = 0;
    const char *body = seen_body(i);
    struct weir_sigv4_request sr = { 0 };

    assert_non_null(auth);
    assert_non_null(date);
    *sp1 = '\0';
    *sp2 = '\0';
    if ((q = strchr(sp1 + 1, '?'))) {
        *q++ = '\0';
    }
    key_id =
        strndup(strstr(auth, "Credential=") + 11, strcspn(strstr(auth, "Credential=") + 11, "/"));
    signed_list = strndup(strstr(auth, "SignedHeaders=") + 14,
                          strcspn(strstr(auth, "SignedHeaders=") + 14, ","));
    for (name = strtok_r(signed_list, ";", &save); name; name = strtok_r(NULL, ";", &save)) {
        if (!strcmp(name, "x-amz-date") || !strcmp(name, "x-amz-security-token")) {
            continue; /* the signer adds these two itself */
        }
        values[n] = seen_header(i, name);
        assert_non_null(values[n]);
        h[n] = (struct weir_sigv4_header){ name, values[n] };
        n++;
    }
    weir_sha256_hex(body, strlen(body), hash);
    sr = (struct weir_sigv4_request){ .method = line,
                                      .path = sp1 + 1,
                                      .query = q,
                                      .headers = h,
                                      .n_headers = n,
                                      .payload_hash = hash,
                                      .access_key_id = key_id,
                                      .secret_access_key = secret,
                                      .session_token = token,
                                      .region = "eu-west-1",
                                      .service = service,
                                      .amz_date = date,
                                      .flags = strcmp(service, "s3")
                                                   ? WEIR_SIGV4_NORMALIZE | WEIR_SIGV4_ENCODE_PATH
                                                   : 0 };
    assert_int_equal(weir_sigv4_sign(&sr, &res), WEIR_OK);
    assert_string_equal(res.authorization, auth);
    /* The wire query is already canonical, so nothing was re-ordered in transit. */
    assert_string_equal(res.canonical_query, q ? q : "");
    weir_sigv4_result_free(&res);
    for (size_t k = 0; k < n; k++) {
        free(values[k]);
    }
    free(auth);
    free(date);
    free(line);
    free(key_id);
    free(signed_list);
}

#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYTESTKEY"
#define TOKEN "FwoGZXIvYXdzEXAMPLE/session+token=="

static void test_sigv4_glue(void **state)
{
    const struct canned s[] = { { 500, NULL, "", 0, 0 }, { 200, NULL, "{\"Table\":{}}", 0, 0 } };
    const char *hdrs[] = { "Content-Type: application/x-amz-json-1.1",
                           "X-Amz-Target: AWSGlue.GetTable", "User-Agent: test", NULL };
    struct weir_http_request r;
    struct weir_http_response resp;
    struct weir_ctx ctx = test_ctx();
    char *tok;

    serve_script(s, 2);
    setenv("AWS_ACCESS_KEY_ID", "AKIDTEST", 1);
    setenv("AWS_SECRET_ACCESS_KEY", SECRET, 1);
    setenv("AWS_SESSION_TOKEN", TOKEN, 1);
    setenv("AWS_REGION", "eu-west-1", 1);
    r = get("/");
    r.method = "POST";
    r.headers = hdrs;
    r.body = "{\"DatabaseName\":\"analytics\",\"Name\":\"events\"}";
    r.body_len = strlen(r.body);
    r.auth = WEIR_HTTP_AUTH_AWS_SIGV4;
    r.aws_service = "glue";
    assert_int_equal(weir_http_request(&ctx, &r, &resp), WEIR_OK);
    assert_int_equal(resp.attempts, 2);
    for (int i = 0; i < 2; i++) {
        verify_sigv4(i, "glue", SECRET, TOKEN);
        tok = seen_header(i, "x-amz-security-token");
        assert_string_equal(tok, TOKEN);
        free(tok);
    }
    assert_non_null(strstr(srv.seen[0], "SignedHeaders=content-type;host;x-amz-date;"
                                        "x-amz-security-token;x-amz-target,"));
    assert_null(strstr(logbuf, SECRET));
    assert_null(strstr(logbuf, TOKEN));
    weir_http_response_free(&resp);
}

static void test_sigv4_s3(void **state)
{
    const struct canned s[] = { { 200, NULL, "", 0, 0 } };
    struct weir_http_request r;
    struct weir_http_response resp;
    char *sha, want[65];

    serve_script(s, 1);
    setenv("AWS_ACCESS_KEY_ID", "AKIDTEST", 1);
    setenv("AWS_SECRET_ACCESS_KEY", SECRET, 1);
    r = get("/testbucket/dir/a%20b%2Bc.csv?x-id=PutObject&a=%2F/");
    r.method = "PUT";
    r.body = "col\n1\n";
    r.body_len = 6;
    r.auth = WEIR_HTTP_AUTH_AWS_SIGV4;
    r.aws_service = "s3";
    r.aws_region = "eu-west-1";
    assert_int_equal(weir_http_request(NULL, &r, &resp), WEIR_OK);
    /* The key is sent (and signed) as given; the query goes out canonical. */
    assert_true(starts_with(
        srv.seen[0], "PUT /testbucket/dir/a%20b%2Bc.csv?a=%2F%2F&x-id=PutObject HTTP/1.1\r\n"));
    sha = seen_header(0, "x-amz-content-sha256");
    weir_sha256_hex("col\n1\n", 6, want);
    assert_string_equal(sha, want);
    free(sha);
    verify_sigv4(0, "s3", SECRET, NULL);
    weir_http_response_free(&resp);
}

static time_t amz_time(const char *amz)
{
    struct tm tm = { 0 };

    assert_non_null(strptime(amz, "%Y%m%dT%H%M%SZ", &tm));
    return timegm(&tm);
}

/* A server an hour ahead rejects the signature as expired; the client
 * re-signs with the server's time once, and keeps that correction. */
static void test_sigv4_clock_skew(void **state)
{
    char date_hdr[128], date2_hdr[128];
    time_t ahead = time(NULL) + 3600;
    struct tm tm;
    struct canned s[] = { { 403, date_hdr,
                            "{\"__type\":\"InvalidSignatureException\",\"message\":\"Signature "
                            "expired\"}",
                            0, 0 },
                          { 200, NULL, "{}", 0, 0 },
                          { 403, date2_hdr, "{\"__type\":\"InvalidSignatureException\"}", 0, 0 } };
    struct weir_http_request r;
    struct weir_http_response resp;
    char *d1, *d2, *d3;

    gmtime_r(&ahead, &tm);
    strftime(date_hdr, sizeof(date_hdr), "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
    /* The third answer's Date agrees with the corrected clock: no retry. */
    snprintf(date2_hdr, sizeof(date2_hdr), "%s", date_hdr);
    serve_script(s, 3);
    setenv("AWS_ACCESS_KEY_ID", "AKIDTEST", 1);
    setenv("AWS_SECRET_ACCESS_KEY", SECRET, 1);
    setenv("AWS_REGION", "eu-west-1", 1);
    r = get("/");
    r.method = "POST";
    r.body = "{}";
    r.body_len = 2;
    r.auth = WEIR_HTTP_AUTH_AWS_SIGV4;
    r.aws_service = "athena";
    assert_int_equal(weir_http_request(NULL, &r, &resp), WEIR_OK);
    assert_int_equal(resp.status, 200);
    assert_int_equal(resp.attempts, 2);
    weir_http_response_free(&resp);
    assert_int_equal(weir_http_request(NULL, &r, &resp), WEIR_OK);
    assert_int_equal(resp.status, 403);
    assert_int_equal(resp.attempts, 1);
    weir_http_response_free(&resp);
    d1 = seen_header(0, "x-amz-date");
    d2 = seen_header(1, "x-amz-date");
    d3 = seen_header(2, "x-amz-date");
    assert_in_range(amz_time(d2) - amz_time(d1), 3590, 3610);
    assert_in_range(amz_time(d3) - amz_time(d1), 3590, 3610);
    verify_sigv4(1, "athena", SECRET, NULL);
    free(d1);
    free(d2);
    free(d3);
}

/* A 403 from a server whose clock agrees with ours is final. */
static void test_sigv4_denied_without_skew(void **state)
{
    const struct canned s[] = { { 403, NULL, "{\"__type\":\"AccessDeniedException\"}", 0, 0 } };
    struct weir_http_request r;
    struct weir_http_response resp;

    serve_script(s, 1);
    setenv("AWS_ACCESS_KEY_ID", "AKIDTEST", 1);
    setenv("AWS_SECRET_ACCESS_KEY", SECRET, 1);
    r = get("/");
    r.auth = WEIR_HTTP_AUTH_AWS_SIGV4;
    r.aws_service = "glue";
    r.aws_region = "eu-west-1";
    assert_int_equal(weir_http_request(NULL, &r, &resp), WEIR_OK);
    assert_int_equal(resp.status, 403);
    assert_int_equal(resp.attempts, 1);
    weir_http_response_free(&resp);
}

static void test_sigv4_without_credentials(void **state)
{
    struct weir_http_request r = { 0 };
    struct weir_http_response resp;
    char *cred;

    r.version = WEIR_HTTP_REQUEST_VERSION;
    r.url = "http://127.0.0.1:9/";
    r.auth = WEIR_HTTP_AUTH_AWS_SIGV4;
    r.aws_service = "glue";
    assert_int_equal(weir_http_request(NULL, &r, &resp), WEIR_EDENIED);
    assert_non_null(strstr(weir_error_last(), "AWS_ACCESS_KEY_ID"));
    /* A credentials file others can read is refused, naming the fix. */
    cred = tu_write_file(tmpdir, ".aws/credentials",
                         "[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = "
                         "file-secret-value\n");
    chmod(cred, 0644);
    assert_int_equal(weir_http_request(NULL, &r, &resp), WEIR_EDENIED);
    assert_non_null(strstr(weir_error_last(), cred));
    assert_non_null(strstr(weir_error_last(), "chmod 600"));
    assert_null(strstr(weir_error_last(), "file-secret-value"));
    free(cred);
}

static void test_bad_requests(void **state)
{
    struct weir_http_request r = { 0 };
    struct weir_http_response resp;
    atomic_int cancel = 1;
    struct weir_ctx ctx = test_ctx();

    r.url = "http://127.0.0.1:9/";
    assert_int_equal(weir_http_request(NULL, &r, &resp), WEIR_EINVALID); /* version 0 */
    r.version = WEIR_HTTP_REQUEST_VERSION;
    r.method = "BREW";
    assert_int_equal(weir_http_request(NULL, &r, &resp), WEIR_EINVALID);
    assert_non_null(strstr(weir_error_last(), "BREW"));
    r.method = NULL;
    r.url = "ftp://127.0.0.1/x";
    assert_int_equal(weir_http_request(NULL, &r, &resp), WEIR_EINVALID);
    r.url = "not a url";
    assert_int_equal(weir_http_request(NULL, &r, &resp), WEIR_EINVALID);
    /* Neither a password nor a query (which may hold a key) is echoed. */
    r.url = "http://user:hunter2pw@127.0.0.1:9/a b?key=abcdef123";
    assert_int_equal(weir_http_request(NULL, &r, &resp), WEIR_EINVALID);
    assert_non_null(strstr(weir_error_last(), "'http://***@127.0.0.1:9/a b'"));
    assert_null(strstr(weir_error_last(), "hunter2pw"));
    assert_null(strstr(weir_error_last(), "abcdef123"));
    r.url = "http://127.0.0.1:9/";
    ctx.cancel = &cancel;
    assert_int_equal(weir_http_request(&ctx, &r, &resp), WEIR_ECANCELLED);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_retry_503_then_ok),
        T(test_throttle_storm_gives_up),
        T(test_retry_budget),
        T(test_400_not_retried),
        T(test_400_throttling_code_retried),
        T(test_retryable_codes),
        T(test_slow_response_times_out),
        T(test_step_deadline_bounds_request),
        T(test_connect_timeout),
        T(test_connection_refused_is_eio),
        T(test_dropped_connection_retried),
        T(test_body_over_max_response),
        T(test_response_file),
        T(test_head),
        T(test_body_file_upload),
        T(test_post_body),
        T(test_env_token),
        T(test_secret_never_in_errors),
        T(test_bedrock_bearer),
        T(test_sigv4_glue),
        T(test_sigv4_s3),
        T(test_sigv4_clock_skew),
        T(test_sigv4_denied_without_skew),
        T(test_sigv4_without_credentials),
        T(test_bad_requests),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
