/* aws_srv.c - see aws_srv.h. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <weir/weir.h>

#include "aws_srv.h"
#include "plugins.h"
#include "testutil.h"

static pid_t server_pid;
static FILE *server_out; /* kept open: a closed pipe would break the server's prints */
static char base_url[64];

void aws_srv_env(void)
{
    setenv("AWS_ENDPOINT_URL", base_url, 1);
    setenv("AWS_ACCESS_KEY_ID", AWS_SRV_KEY_ID, 1);
    setenv("AWS_SECRET_ACCESS_KEY", AWS_SRV_SECRET, 1);
    setenv("AWS_REGION", "us-east-1", 1);
    unsetenv("AWS_SESSION_TOKEN");
    unsetenv("AWS_PROFILE");
    unsetenv("AWS_ENDPOINT_URL_GLUE");
    unsetenv("AWS_ENDPOINT_URL_ATHENA");
}

static void child(int out_fd, const char *const *extra)
{
    const char *src = getenv("WEIR_SOURCE_DIR");
    char script[1024], catalog[1024], data[1024];
    const char *argv[32];
    int n = 0;

    snprintf(script, sizeof(script), "%s/tests/aws-server/aws_server.py", src);
    snprintf(catalog, sizeof(catalog), "%s/examples/catalog", src);
    snprintf(data, sizeof(data), "%s/examples/lake", src);
    argv[n++] = "python3";
    argv[n++] = script;
    argv[n++] = "--port";
    argv[n++] = "0";
    argv[n++] = "--idle-timeout";
    argv[n++] = "600";
    argv[n++] = "--data";
    argv[n++] = data;
    if (!extra || !extra[0] || strcmp(extra[0], "--catalog") != 0) {
        argv[n++] = "--catalog";
        argv[n++] = catalog;
    }
    for (size_t i = 0; extra && extra[i] && n < 30; i++) {
        argv[n++] = extra[i];
    }
    argv[n] = NULL;
    dup2(out_fd, STDOUT_FILENO);
    execvp("python3", (char *const *)argv);
    _exit(127);
}

int aws_srv_start(const char *const *extra_args)
{
    int fds[2];
    char line[128] = "";
    FILE *f;

    if (pipe(fds) != 0) {
        return -1;
    }
    if ((server_pid = fork()) == 0) {
        close(fds[0]);
        child(fds[1], extra_args);
    }
    close(fds[1]);
    f = fdopen(fds[0], "r");
    if (server_pid < 0 || !f || !fgets(line, sizeof(line), f) || strncmp(line, "PORT=", 5) != 0) {
        fprintf(stderr, "aws_server.py did not start (first line: '%s')\n", line);
        if (f) {
            fclose(f);
        }
        aws_srv_stop();
        return -1;
    }
    server_out = f;
    snprintf(base_url, sizeof(base_url), "http://127.0.0.1:%d", atoi(line + 5));
    aws_srv_env();
    return 0;
}

void aws_srv_stop(void)
{
    if (server_pid > 0) {
        kill(server_pid, SIGTERM);
        waitpid(server_pid, NULL, 0);
    }
    if (server_out) {
        fclose(server_out);
    }
    server_out = NULL;
    server_pid = 0;
}

json_t *aws_srv_admin(const char *path, const char *body)
{
    const struct weir_host_api *host = weir_host_api_get();
    struct weir_http_request req = { 0 };
    struct weir_http_response resp = { 0 };
    char url[256];
    json_t *out = NULL;

    snprintf(url, sizeof(url), "%s/__weir/%s", base_url, path);
    req.version = WEIR_HTTP_REQUEST_VERSION;
    req.method = body ? "POST" : "GET";
    req.url = url;
    req.body = body;
    req.body_len = body ? strlen(body) : 0;
    req.max_attempts = 1;
    if (host->http_request(NULL, &req, &resp) == WEIR_OK && resp.status == 200 && resp.body) {
        out = json_loads(resp.body, 0, NULL);
    }
    host->http_response_free(&resp);
    return out;
}

json_t *aws_srv_log(const char *operation)
{
    json_t *log = aws_srv_admin("log", NULL), *out = json_array(), *r;
    size_t i;

    json_array_foreach(json_object_get(log, "requests"), i, r) {
        const char *op = json_string_value(json_object_get(r, "operation"));
        const char *body = json_string_value(json_object_get(r, "body"));
        json_t *parsed = body ? json_loads(body, 0, NULL) : NULL;

        /* the server logs bodies as text; tests read them as JSON */
        if (parsed) {
            json_object_set_new(r, "body", parsed);
        }
        if (op && !strcmp(op, operation)) {
            json_array_append(out, r);
        }
    }
    json_decref(log);
    return out;
}
