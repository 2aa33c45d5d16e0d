/*
 * aws_server_proc.h - runs tests/aws-server/aws_server.py as a child process
 * for the end-to-end tests of the s3, bedrock, openai and gemini plugins:
 * starts it on a free 127.0.0.1 port, reads its "PORT=<n>" line, and stops
 * it by its pid.
 */
#ifndef WEIR_AWS_SERVER_PROC_H
#define WEIR_AWS_SERVER_PROC_H

#include <sys/types.h>

#include <jansson.h>

struct aws_server {
    pid_t pid;
    int port;
    char base[64]; /* http://127.0.0.1:<port> */
};

/* Starts the server with extra argv (NULL-terminated, may be NULL). Returns 0,
 * or -1 (with a message on stderr) when python3 or the server is missing or
 * it printed no port. */
int aws_server_start(struct aws_server *s, const char *const *extra_args);
void aws_server_stop(struct aws_server *s);

/* POSTs a JSON body to an admin path ("/__weir/faults"); 0 on a 2xx. */
int aws_server_admin(const struct aws_server *s, const char *path, const char *json_body);

/* GET /__weir/log as JSON (new reference), or NULL. */
json_t *aws_server_log(const struct aws_server *s);

/* Sets the AWS test credentials, region and AWS_ENDPOINT_URL for s. */
void aws_server_env(const struct aws_server *s);

#endif
