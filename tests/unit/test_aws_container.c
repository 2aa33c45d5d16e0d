/* test_aws_container.c - AWS credentials from the container credentials
 * endpoint (ECS / EKS Pod Identity), served by a real HTTP server on
 * 127.0.0.1 on a thread: the token header, the answer's keys, caching until
 * near expiry, refused URLs and endpoint errors, and redaction. */
#include "testutil.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "aws_creds.h"
#include "error.h"
#include "redact.h"

/* One canned answer for every request; what came in is kept. */
struct server {
    int fd;
    int port;
    pthread_t thread;
    int status;
    char body[1024];
    int requests;
    char last[4096]; /* head of the last request */
    pthread_mutex_t lock;
    volatile int stop;
};

static struct server srv;
static char *tmpdir;

static void read_head(int c, char *buf, size_t cap)
{
    size_t n = 0;

    while (n + 1 < cap && !strstr(buf, "\r\n\r\n")) {
        struct pollfd p = { c, POLLIN, 0 };
        ssize_t got;
        if (poll(&p, 1, 100) <= 0) {
            if (srv.stop) {
                return;
            }
            continue;
        }
        if ((got = read(c, buf + n, cap - 1 - n)) <= 0) {
            return;
        }
        n += (size_t)got;
        buf[n] = '\0';
    }
}

static void *serve(void *arg)
{
    while (!srv.stop) {
        struct pollfd p = { srv.fd, POLLIN, 0 };
        char head[4096] = "", reply[2048];
        int c, n;
        if (poll(&p, 1, 50) <= 0 || (c = accept(srv.fd, NULL, NULL)) < 0) {
            continue;
        }
        read_head(c, head, sizeof(head));
        pthread_mutex_lock(&srv.lock);
        srv.requests++;
        snprintf(srv.last, sizeof(srv.last), "%s", head);
        n = snprintf(reply, sizeof(reply),
                     "HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n%s",
                     srv.status, strlen(srv.body), srv.body);
        pthread_mutex_unlock(&srv.lock);
        if (send(c, reply, (size_t)n, MSG_NOSIGNAL) < 0) {
            /* the client gave up; nothing to do */
        }
        close(c);
    }
    return NULL;
}

static void answer(int status, const char *id, const char *expiration)
{
    pthread_mutex_lock(&srv.lock);
    srv.status = status;
    snprintf(srv.body, sizeof(srv.body),
             "{\"RoleArn\":\"arn:aws:iam::123456789012:role/task\",\"AccessKeyId\":\"%s\","
             "\"SecretAccessKey\":\"container-secret-0123\",\"Token\":\"container-token-4567\","
             "\"Expiration\":\"%s\"}",
             id, expiration);
    pthread_mutex_unlock(&srv.lock);
}

/* An ISO 8601 UTC time `from_now` seconds ahead. */
static const char *in_seconds(long from_now)
{
    static char buf[32];
    time_t t = time(NULL) + from_now;
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

static int setup(void **state)
{
    static const char *const vars[] = { "AWS_ACCESS_KEY_ID",
                                        "AWS_SECRET_ACCESS_KEY",
                                        "AWS_SESSION_TOKEN",
                                        "AWS_PROFILE",
                                        "AWS_SHARED_CREDENTIALS_FILE",
                                        "AWS_CONFIG_FILE",
                                        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                                        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                                        "AWS_CONTAINER_AUTHORIZATION_TOKEN",
                                        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
                                        "AWS_MAX_ATTEMPTS",
                                        NULL };
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t alen = sizeof(a);
    char url[128];

    for (const char *const *v = vars; *v; v++) {
        unsetenv(*v);
    }
    tmpdir = tu_mkdtemp();
    setenv("HOME", tmpdir, 1);
    weir_redact_reset();
    weir_aws_creds_cache_reset();
    memset(&srv, 0, sizeof(srv));
    pthread_mutex_init(&srv.lock, NULL);
    srv.fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_int_equal(bind(srv.fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(srv.fd, 16), 0);
    assert_int_equal(getsockname(srv.fd, (struct sockaddr *)&a, &alen), 0);
    srv.port = ntohs(a.sin_port);
    answer(200, "ASIACONTAINER", in_seconds(3600));
    assert_int_equal(pthread_create(&srv.thread, NULL, serve, NULL), 0);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/v2/credentials/task-1", srv.port);
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
    return 0;
}

static int teardown(void **state)
{
    srv.stop = 1;
    pthread_join(srv.thread, NULL);
    close(srv.fd);
    pthread_mutex_destroy(&srv.lock);
    weir_aws_creds_cache_reset();
    tu_rmtree(tmpdir);
    free(tmpdir);
    return 0;
}

static void test_keys_and_token(void **state)
{
    struct weir_aws_creds c;
    char *masked;

    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "container-auth-token-89ab", 1);
    assert_int_equal(weir_aws_creds_load(&c), WEIR_OK);
    assert_string_equal(c.access_key_id, "ASIACONTAINER");
    assert_string_equal(c.secret_access_key, "container-secret-0123");
    assert_string_equal(c.session_token, "container-token-4567");
    assert_string_equal(c.source, "container credentials");
    weir_aws_creds_clear(&c);
    assert_non_null(strstr(srv.last, "GET /v2/credentials/task-1 HTTP/1.1\r\n"));
    assert_non_null(strstr(srv.last, "\r\nAuthorization: container-auth-token-89ab\r\n"));
    /* The endpoint's token and the keys it gave are all secrets now. */
    masked = weir_redact("container-auth-token-89ab container-secret-0123 container-token-4567");
    assert_string_equal(masked, "*** *** ***");
    free(masked);
}

static void test_token_file(void **state)
{
    struct weir_aws_creds c;
    char *path = tu_write_file(tmpdir, "eks-token", "eks-pod-identity-token\n");

    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "ignored-when-file-is-set", 1);
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", path, 1);
    assert_int_equal(weir_aws_creds_load(&c), WEIR_OK);
    weir_aws_creds_clear(&c);
    assert_non_null(strstr(srv.last, "\r\nAuthorization: eks-pod-identity-token\r\n"));
    free(path);
}

static void test_cached_until_near_expiry(void **state)
{
    struct weir_aws_creds c;

    for (int i = 0; i < 3; i++) {
        assert_int_equal(weir_aws_creds_load(&c), WEIR_OK);
        weir_aws_creds_clear(&c);
    }
    assert_int_equal(srv.requests, 1);
    /* Keys that expire within five minutes are fetched again each time. */
    weir_aws_creds_cache_reset();
    answer(200, "ASIASHORTLIVED", in_seconds(120));
    for (int i = 0; i < 2; i++) {
        assert_int_equal(weir_aws_creds_load(&c), WEIR_OK);
        assert_string_equal(c.access_key_id, "ASIASHORTLIVED");
        weir_aws_creds_clear(&c);
    }
    assert_int_equal(srv.requests, 3);
}

static void test_files_and_env_come_first(void **state)
{
    struct weir_aws_creds c;

    setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "env-secret-9999", 1);
    assert_int_equal(weir_aws_creds_load(&c), WEIR_OK);
    assert_string_equal(c.access_key_id, "AKIDENV");
    weir_aws_creds_clear(&c);
    assert_int_equal(srv.requests, 0);
}

static void test_endpoint_errors(void **state)
{
    struct weir_aws_creds c;

    answer(500, "X", "");
    assert_int_equal(weir_aws_creds_load(&c), WEIR_EDENIED);
    assert_non_null(strstr(weir_error_last(), "answered HTTP 500"));
    assert_int_equal(srv.requests, 3); /* a 500 is retried like any request */
    pthread_mutex_lock(&srv.lock);
    snprintf(srv.body, sizeof(srv.body), "{\"Code\":\"Success\"}");
    srv.status = 200;
    pthread_mutex_unlock(&srv.lock);
    assert_int_equal(weir_aws_creds_load(&c), WEIR_EDENIED);
    assert_non_null(strstr(weir_error_last(), "no AccessKeyId"));
}

static void test_refused_full_uri(void **state)
{
    struct weir_aws_creds c;

    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://198.51.100.7/creds?x=1", 1);
    assert_int_equal(weir_aws_creds_load(&c), WEIR_EDENIED);
    assert_non_null(strstr(weir_error_last(), "'http://198.51.100.7/creds'"));
    assert_int_equal(srv.requests, 0);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_keys_and_token),           T(test_token_file),      T(test_cached_until_near_expiry),
        T(test_files_and_env_come_first), T(test_endpoint_errors), T(test_refused_full_uri),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
