/*
 * aws_srv.h - tests/aws-server/aws_server.py as a subprocess for the
 * end-to-end tests of the AWS plugins: started on a free 127.0.0.1 port with
 * the example catalog and lake, the AWS_* environment pointed at it (test
 * credentials, us-east-1), its admin API (/__weir/...) called through the
 * real host's HTTP client, and killed by its pid at the end.
 */
#ifndef WEIR_AWS_SRV_H
#define WEIR_AWS_SRV_H

#include <jansson.h>

/* The test credentials the server accepts (its defaults). */
#define AWS_SRV_KEY_ID "AKIDEXAMPLE"
#define AWS_SRV_SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"

/* Starts the server (extra_args: more options, e.g. "--catalog DIR", or
 * NULL) and sets AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 * AWS_REGION; returns 0, or -1 (message on stderr) when it does not start. */
int aws_srv_start(const char *const *extra_args);
void aws_srv_stop(void);

/* POST /__weir/<path> with a JSON body (text), or GET when body is NULL;
 * returns the parsed answer (new reference) or NULL. */
json_t *aws_srv_admin(const char *path, const char *body);

/* Requests of the log for one operation ("GetTable"), in order (new
 * reference); JSON bodies parsed into "body". */
json_t *aws_srv_log(const char *operation);

/* Restores the test credentials after a test changed them. */
void aws_srv_env(void);

#endif
