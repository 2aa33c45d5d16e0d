/*
 * test_notify.c - the notify service: webhook.so posting to a real HTTP
 * server on 127.0.0.1 (a thread in this test that records each request and
 * answers with a scripted status), and file.so appending to the workspace.
 * Checked: the Slack, Google Chat and JSON payloads; retries on 503 then
 * success; a 400 is an error naming the host only (the webhook URL is a
 * secret); the URL from the environment; the file's JSON lines.
 */
#include "testutil.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ctx.h"
#include "error.h"
#include "plugins.h"

#define MAX_REQ 8

/* A one-thread HTTP/1.1 server: each connection is one request. */
struct server {
    int fd, port;
    pthread_t thread;
    int statuses[MAX_REQ]; /* answer of request i; 0: 200 */
    int n;                 /* requests seen */
    char *bodies[MAX_REQ];
    char paths[MAX_REQ][256];
};

static long content_length(const char *head)
{
    const char *p = strcasestr(head, "\r\ncontent-length:");
    return p ? strtol(p + 17, NULL, 10) : 0;
}

static void *serve(void *arg)
{
    struct server *s = arg;

    for (;;) {
        int c = accept(s->fd, NULL, NULL), status;
        char buf[65536], reply[256];
        size_t got = 0;
        char *end = NULL;
        long want;

        if (c < 0) {
            return NULL; /* closed by the test */
        }
        while (got < sizeof(buf) - 1) {
            ssize_t r = read(c, buf + got, sizeof(buf) - 1 - got);
            if (r <= 0) {
                break;
            }
            got += (size_t)r;
            buf[got] = '\0';
            if ((end = strstr(buf, "\r\n\r\n")) != NULL &&
                got - (size_t)(end + 4 - buf) >= (size_t)content_length(buf)) {
                break;
            }
        }
        buf[got] = '\0';
        want = end ? content_length(buf) : 0;
        if (s->n < MAX_REQ && end) {
            sscanf(buf, "%*s %255s", s->paths[s->n]);
            s->bodies[s->n] = strndup(end + 4, (size_t)want);
        }
        status = s->n < MAX_REQ && s->statuses[s->n] ? s->statuses[s->n] : 200;
        s->n++;
        snprintf(reply, sizeof(reply),
                 "HTTP/1.1 %d X\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n"
                 "Connection: close\r\n\r\n%s",
                 status, status == 200 ? "ok" : "no");
        (void)!write(c, reply, strlen(reply));
        close(c);
    }
}

static void server_start(struct server *s)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof(a);

    s->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(s->fd >= 0);
    assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(s->fd, 8), 0);
    assert_int_equal(getsockname(s->fd, (struct sockaddr *)&a, &len), 0);
    s->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&s->thread, NULL, serve, s), 0);
}

static void server_stop(struct server *s)
{
    shutdown(s->fd, SHUT_RDWR);
    close(s->fd);
    pthread_join(s->thread, NULL);
    for (int i = 0; i < MAX_REQ; i++) {
        free(s->bodies[i]);
    }
}

static struct weir_plugins *plugins;
static char *workspace;

static int group_setup(void **state)
{
    (void)state;
    workspace = tu_mkdtemp();
    if (weir_plugins_new(&plugins) != WEIR_OK) {
        return -1;
    }
    tu_load_plugin(plugins, "webhook");
    tu_load_plugin(plugins, "file");
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    weir_plugins_free(plugins);
    tu_rmtree(workspace);
    free(workspace);
    return 0;
}

/* Runs <plugin>.send with `with` (stolen). */
static int send_with(const char *plugin, json_t *with, json_t **out)
{
    const struct weir_step_def *def = weir_plugins_find_step(plugins, plugin, "send");
    struct weir_ctx ctx = { .run_id = "r1", .run_date = "2026-10-02", .target = "t",
                            .step_id = "notify", .workspace = workspace, .project = workspace,
                            .plugins = plugins };
    int rc;

    assert_non_null(def);
    *out = NULL;
    rc = weir_step_invoke(def, with, out, &ctx);
    json_decref(with);
    return rc;
}

static char *url_of(const struct server *s, const char *path)
{
    char *url = NULL;

    assert_true(asprintf(&url, "http://127.0.0.1:%d%s", s->port, path) > 0);
    return url;
}

static void test_slack_google_json_payloads(void **state)
{
    struct server s = { 0 };
    char *url;
    json_t *out = NULL, *body;

    (void)state;
    server_start(&s);
    url = url_of(&s, "/services/T000/B000/secret-token");
    assert_int_equal(send_with("webhook",
                               json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "text", "amount <b> & co",
                                         "title", "weir drift", "status", "error", "link",
                                         "https://reports.example/r.html", "url", url, "format",
                                         "slack"),
                               &out),
                     WEIR_OK);
    tu_assert_json(json_object_get(out, "format"), "\"slack\"");
    json_decref(out);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.paths[0], "/services/T000/B000/secret-token");
    body = json_loads(s.bodies[0], 0, NULL);
    tu_assert_json(body, "{\"text\": \"*weir drift* (ERROR)\\namount &lt;b&gt; &amp; co\\n"
                         "<https://reports.example/r.html|Open the report>\"}");
    json_decref(body);

    assert_int_equal(send_with("webhook",
                               json_pack("{s:s,s:s,s:s,s:s}", "text", "ok today", "link",
                                         "reports/drift/t/2026-10-02.html", "url", url, "format",
                                         "google_chat"),
                               &out),
                     WEIR_OK);
    json_decref(out);
    body = json_loads(s.bodies[1], 0, NULL);
    tu_assert_json(body, "{\"text\": \"*weir*\\nok today\\nreport: reports/drift/t/2026-10-02.html\"}");
    json_decref(body);

    /* json: the fields as they are; auto picks json for an unknown host */
    assert_int_equal(send_with("webhook",
                               json_pack("{s:s,s:s,s:s}", "text", "hello", "status", "warn", "url", url),
                               &out),
                     WEIR_OK);
    tu_assert_json(json_object_get(out, "format"), "\"json\"");
    json_decref(out);
    body = json_loads(s.bodies[2], 0, NULL);
    tu_assert_json(body, "{\"title\": \"weir\", \"text\": \"hello\", \"status\": \"warn\", \"link\": null}");
    json_decref(body);
    free(url);
    server_stop(&s);
}

static void test_retry_then_error_without_the_url(void **state)
{
    struct server s = { .statuses = { 503, 200, 400 } };
    char *url;
    json_t *out = NULL;

    (void)state;
    server_start(&s);
    url = url_of(&s, "/hook/very-secret-token");
    /* a 503 is retried by the host's HTTP client, then the post succeeds */
    assert_int_equal(send_with("webhook", json_pack("{s:s,s:s}", "text", "x", "url", url), &out), WEIR_OK);
    tu_assert_json(json_object_get(out, "attempts"), "2");
    json_decref(out);
    assert_int_equal(s.n, 2);
    /* a 400 is not: an error naming the host, never the secret path */
    assert_int_not_equal(send_with("webhook", json_pack("{s:s,s:s}", "text", "x", "url", url), &out),
                         WEIR_OK);
    assert_non_null(strstr(weir_error_last(), "answered HTTP 400"));
    assert_non_null(strstr(weir_error_last(), "127.0.0.1"));
    assert_null(strstr(weir_error_last(), "very-secret-token"));
    assert_int_equal(s.n, 3);
    free(url);
    server_stop(&s);
}

static void test_url_from_env_and_missing(void **state)
{
    struct server s = { 0 };
    char *url;
    json_t *out = NULL;

    (void)state;
    server_start(&s);
    url = url_of(&s, "/env-hook");
    setenv("WEIR_WEBHOOK_URL", url, 1);
    assert_int_equal(send_with("webhook", json_pack("{s:s}", "text", "from env"), &out), WEIR_OK);
    json_decref(out);
    assert_string_equal(s.paths[0], "/env-hook");
    unsetenv("WEIR_WEBHOOK_URL");
    assert_int_equal(send_with("webhook", json_pack("{s:s}", "text", "nowhere"), &out), WEIR_EINVALID);
    assert_non_null(strstr(weir_error_last(), "WEIR_WEBHOOK_URL"));
    free(url);
    server_stop(&s);
}

static void test_file_appends_lines(void **state)
{
    json_t *out = NULL, *line;
    char *path = NULL, *text;
    size_t len;

    (void)state;
    assert_int_equal(send_with("file", json_pack("{s:s,s:s}", "text", "first", "status", "ok"), &out),
                     WEIR_OK);
    json_decref(out);
    assert_int_equal(send_with("file", json_pack("{s:s}", "text", "second \"quoted\""), &out), WEIR_OK);
    json_decref(out);
    assert_true(asprintf(&path, "%s/notifications.jsonl", workspace) > 0);
    text = tu_read_file(path, &len);
    assert_non_null(text);
    assert_non_null(strchr(text, '\n'));
    line = json_loadb(text, (size_t)(strchr(text, '\n') - text), 0, NULL);
    tu_assert_json(line, "{\"date\": \"2026-10-02\", \"link\": null, \"status\": \"ok\", "
                         "\"text\": \"first\", \"title\": \"weir\"}");
    json_decref(line);
    line = json_loads(strchr(text, '\n') + 1, JSON_DISABLE_EOF_CHECK, NULL);
    tu_assert_json(json_object_get(line, "text"), "\"second \\\"quoted\\\"\"");
    json_decref(line);
    free(text);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slack_google_json_payloads),
        cmocka_unit_test(test_retry_then_error_without_the_url),
        cmocka_unit_test(test_url_from_env_and_missing),
        cmocka_unit_test(test_file_appends_lines),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
