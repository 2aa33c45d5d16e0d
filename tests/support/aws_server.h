/*
 * aws_server.h - tests/aws-server/aws_server.py as a child process for the
 * end-to-end tests of the AWS and LLM plugins: started on a free 127.0.0.1
 * port, the AWS_* environment pointed at it, its admin API (/__weir/...)
 * called through the real host's HTTP client, stopped by its pid.
 */
#ifndef WEIR_AWS_SERVER_H
#define WEIR_AWS_SERVER_H

#include <stdio.h>
#include <sys/types.h>

#include <jansson.h>

/* The test credentials the server accepts (its defaults). */
#define AWS_SERVER_KEY_ID "AKIDEXAMPLE"
#define AWS_SERVER_SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"

struct aws_server {
    pid_t pid;
    int port;
    char base[64]; /* http://127.0.0.1:<port> */
    FILE *out;     /* kept open: a closed pipe would break the server's prints */
};

/* Starts the server with extra options (NULL-terminated, may be NULL; e.g.
 * "--s3-root", dir) and calls aws_server_env. Returns 0, or -1 (message on
 * stderr) when python3 or the server is missing or it printed no port. */
int aws_server_start(struct aws_server *s, const char *const *extra_args);
void aws_server_stop(struct aws_server *s);

/* POST /__weir/<path> with a JSON body (text), or GET when body is NULL.
 * Returns 0 on a 2xx; *answer (may be NULL) gets the parsed reply (new
 * reference, NULL when not JSON). */
int aws_server_admin(const struct aws_server *s, const char *path, const char *body,
                     json_t **answer);

/* Forgets the faults and the log (POST /__weir/reset) and calls
 * aws_server_env, so each test starts from the same server; 0 on success. */
int aws_server_reset(const struct aws_server *s);

/* The requests the server logged, in order, only those of operation
 * ("GetTable") unless it is NULL; JSON bodies parsed into "body". New
 * reference (an empty array when the log cannot be read). */
json_t *aws_server_log(const struct aws_server *s, const char *operation);

/* Points AWS_ENDPOINT_URL at s with the test credentials and us-east-1, and
 * unsets what would override them (profile, session token, Bedrock API key,
 * per-service endpoints); restores them after a test changed them. */
void aws_server_env(const struct aws_server *s);

#endif
