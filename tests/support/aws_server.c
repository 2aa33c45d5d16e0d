/* aws_server.c - see aws_server.h. */
#include "aws_server.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <weir/weir.h>

#include "plugins.h"

void aws_server_env(const struct aws_server *s)
{
    setenv("AWS_ENDPOINT_URL", s->base, 1);
    setenv("AWS_ACCESS_KEY_ID", AWS_SERVER_KEY_ID, 1);
    setenv("AWS_SECRET_ACCESS_KEY", AWS_SERVER_SECRET, 1);
    setenv("AWS_REGION", "us-east-1", 1);
    unsetenv("AWS_PROFILE");
    unsetenv("AWS_SESSION_TOKEN");
    unsetenv("AWS_BEARER_TOKEN_BEDROCK");
    unsetenv("AWS_ENDPOINT_URL_GLUE");
    unsetenv("AWS_ENDPOINT_URL_ATHENA");
}

static void child(int out_fd, const char *const *extra)
{
    const char *src = getenv("WEIR_SOURCE_DIR");
    char script[4096];
    /* the idle timeout ends a server whose test died before stopping it */
    const char *argv[32] = { "python3", script, "--port", "0", "--idle-timeout", "600" };
    int n = 6;

    snprintf(script, sizeof(script), "%s/tests/aws-server/aws_server.py", src ? src : ".");
    for (size_t i = 0; extra && extra[i] && n < 31; i++) {
        argv[n++] = extra[i];
    }
    argv[n] = NULL;
    dup2(out_fd, STDOUT_FILENO);
    close(out_fd);
    execvp("python3", (char *const *)argv);
    _exit(127);
}

int aws_server_start(struct aws_server *s, const char *const *extra_args)
{
    char line[128] = "";
    int fds[2];

    memset(s, 0, sizeof(*s));
    if (!getenv("WEIR_SOURCE_DIR") || pipe(fds) != 0) {
        fprintf(stderr, "aws_server: WEIR_SOURCE_DIR unset or no pipe\n");
        return -1;
    }
    if ((s->pid = fork()) == 0) {
        close(fds[0]);
        child(fds[1], extra_args);
    }
    close(fds[1]);
    s->out = fdopen(fds[0], "r");
    if (s->pid < 0 || !s->out || !fgets(line, sizeof(line), s->out) ||
        sscanf(line, "PORT=%d", &s->port) != 1) {
        fprintf(stderr, "aws_server.py did not start (first line: '%s')\n", line);
        aws_server_stop(s);
        return -1;
    }
    snprintf(s->base, sizeof(s->base), "http://127.0.0.1:%d", s->port);
    aws_server_env(s);
    return 0;
}

void aws_server_stop(struct aws_server *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGTERM);
        waitpid(s->pid, NULL, 0);
    }
    if (s->out) {
        fclose(s->out);
    }
    s->out = NULL;
    s->pid = 0;
}

int aws_server_admin(const struct aws_server *s, const char *path, const char *body,
                     json_t **answer)
{
    const struct weir_host_api *host = weir_host_api_get();
    struct weir_http_request req = { 0 };
    struct weir_http_response resp = { 0 };
    char url[256];
    int ok;

    snprintf(url, sizeof(url), "%s/__weir/%s", s->base, path);
    req.version = WEIR_HTTP_REQUEST_VERSION;
    req.method = body ? "POST" : "GET";
    req.url = url;
    req.body = body;
    req.body_len = body ? strlen(body) : 0;
    req.max_attempts = 1;
    ok = host->http_request(NULL, &req, &resp) == WEIR_OK && resp.status / 100 == 2;
    if (answer) {
        *answer = ok && resp.body ? json_loadb(resp.body, resp.body_len, 0, NULL) : NULL;
    }
    host->http_response_free(&resp);
    return ok ? 0 : -1;
}

int aws_server_reset(const struct aws_server *s)
{
    aws_server_env(s);
    return aws_server_admin(s, "reset", "{}", NULL);
}

json_t *aws_server_log(const struct aws_server *s, const char *operation)
{
    json_t *log = NULL, *out = json_array(), *r;
    size_t i;

    aws_server_admin(s, "log", NULL, &log);
    json_array_foreach(json_object_get(log, "requests"), i, r) {
        const char *op = json_string_value(json_object_get(r, "operation"));
        const char *body = json_string_value(json_object_get(r, "body"));
        json_t *parsed = body ? json_loads(body, 0, NULL) : NULL;

        /* the server logs bodies as text; tests read them as JSON */
        if (parsed) {
            json_object_set_new(r, "body", parsed);
        }
        if (!operation || (op && strcmp(op, operation) == 0)) {
            json_array_append(out, r);
        }
    }
    json_decref(log);
    return out;
}
