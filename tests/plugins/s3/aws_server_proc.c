/* aws_server_proc.c - see aws_server_proc.h. */
#include "aws_server_proc.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

int aws_server_start(struct aws_server *s, const char *const *extra_args)
{
    const char *src = getenv("WEIR_SOURCE_DIR");
    char script[4096], line[128];
    const char *argv[32] = { "python3", script, "--port", "0" };
    int fds[2], argc = 4;
    FILE *out;

    memset(s, 0, sizeof(*s));
    if (!src || pipe(fds) != 0) {
        fprintf(stderr, "aws_server: WEIR_SOURCE_DIR unset or no pipe\n");
        return -1;
    }
    snprintf(script, sizeof(script), "%s/tests/aws-server/aws_server.py", src);
    for (size_t i = 0; extra_args && extra_args[i] && argc < 30; i++) {
        argv[argc++] = extra_args[i];
    }
    argv[argc] = NULL;
    if ((s->pid = fork()) == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        execvp("python3", (char *const *)argv);
        _exit(127);
    }
    close(fds[1]);
    out = fdopen(fds[0], "r");
    if (s->pid < 0 || !out || !fgets(line, sizeof(line), out) ||
        sscanf(line, "PORT=%d", &s->port) != 1) {
        fprintf(stderr, "aws_server: %s did not print PORT=<n>\n", script);
        if (out) {
            fclose(out);
        }
        aws_server_stop(s);
        return -1;
    }
    fclose(out); /* the server's later output goes nowhere */
    snprintf(s->base, sizeof(s->base), "http://127.0.0.1:%d", s->port);
    return 0;
}

void aws_server_stop(struct aws_server *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGTERM);
        waitpid(s->pid, NULL, 0);
    }
    s->pid = 0;
}

/* One plain HTTP/1.0 exchange; returns the body (malloc) or NULL. */
static char *exchange(const struct aws_server *s, const char *method, const char *path,
                      const char *body, int *status)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)s->port) };
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    char *req = NULL, *resp = NULL, *b;
    size_t len = 0, cap = 0;
    ssize_t n;

    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        asprintf(&req,
                 "%s %s HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                 "Content-Length: %zu\r\n\r\n%s",
                 method, path, body ? strlen(body) : 0, body ? body : "") < 0) {
        if (fd >= 0) {
            close(fd);
        }
        return NULL;
    }
    if (write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
        len = 0;
    }
    free(req);
    do {
        if (len + 4096 + 1 > cap) {
            cap = (cap + 4096) * 2;
            resp = realloc(resp, cap);
        }
        n = read(fd, resp + len, 4096);
        len += n > 0 ? (size_t)n : 0;
    } while (n > 0 && resp);
    close(fd);
    if (!resp) {
        return NULL;
    }
    resp[len] = '\0';
    *status = 0;
    sscanf(resp, "HTTP/%*s %d", status);
    b = strstr(resp, "\r\n\r\n");
    b = strdup(b ? b + 4 : "");
    free(resp);
    return b;
}

int aws_server_admin(const struct aws_server *s, const char *path, const char *json_body)
{
    int status = 0;
    char *b = exchange(s, "POST", path, json_body, &status);

    free(b);
    return status / 100 == 2 ? 0 : -1;
}

json_t *aws_server_log(const struct aws_server *s)
{
    int status = 0;
    char *b = exchange(s, "GET", "/__weir/log", NULL, &status);
    json_t *v = b ? json_loads(b, 0, NULL) : NULL;

    free(b);
    return v;
}

void aws_server_env(const struct aws_server *s)
{
    setenv("AWS_ENDPOINT_URL", s->base, 1);
    setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", 1);
    setenv("AWS_REGION", "us-east-1", 1);
    unsetenv("AWS_PROFILE");
    unsetenv("AWS_SESSION_TOKEN");
    unsetenv("AWS_BEARER_TOKEN_BEDROCK");
}
