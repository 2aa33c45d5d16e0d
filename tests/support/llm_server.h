/*
 * llm_server.h - what the end-to-end tests of the llm plugins (bedrock,
 * openai, gemini) share: tests/aws-server started, the built <plugin>.so
 * loaded, and llm.generate called with a contract.generate-shaped request
 * whose context carries the reply the server's model gives
 * ("weir_test_reply"), plus the checks every provider must pass.
 */
#ifndef WEIR_LLM_SERVER_H
#define WEIR_LLM_SERVER_H

#include <jansson.h>

#include "aws_server.h"
#include "testutil.h"

/* A contract.generate answer and the schema it follows. */
#define LLM_SERVER_ANSWER                                                                          \
    "{\"data_quality\": {\"table_name\": \"loans\", \"columns\": {\"id\": {\"type\": \"string\","  \
    " \"rules\": [{\"type\": \"not_null\", \"severity\": \"error\"}]}}},"                          \
    " \"tests\": [{\"name\": \"id_not_null\", \"stage\": \"post_load\"}], \"docs_markdown\": \"# " \
    "loans\"}"
#define LLM_SERVER_SCHEMA                                                                    \
    "{\"type\": \"object\", \"required\": [\"data_quality\", \"tests\", \"docs_markdown\"]," \
    " \"properties\": {\"data_quality\": {\"type\": \"object\"}, \"tests\": {\"type\": "     \
    "\"array\"},"                                                                            \
    " \"docs_markdown\": {\"type\": \"string\"}}}"

/* What a provider's end-to-end test says of it. */
struct llm_server_spec {
    const char *plugin;             /* "bedrock": <plugin>.so, its op and fault service */
    const char *const *server_args; /* more server options, NULL-terminated, or NULL */
    const char *const *modes;       /* extra input members the answer must come back
                                       with, NULL-terminated */
    const char *prompt_mode;        /* extra members that make the reply text be parsed
                                       (NULL: none needed) */
    const char *throttle_error;     /* in the message after a throttling storm
                                       (NULL: "rate limited (HTTP 429") */
};

/* The running server (for its base URL and admin API). */
extern struct aws_server llm_server;

/* Starts the server and loads the plugin of spec (kept, not copied); 0, or
 * -1 with a message on stderr. */
int llm_server_setup(const struct llm_server_spec *spec);

/* cmocka group teardown: stops the server, frees the plugins. */
int llm_server_teardown(void **state);

/* llm.generate of the plugin with the schema and a contract-shaped prompt
 * whose context carries reply (JSON text) as weir_test_reply; extra is more
 * input members ("" or ", ..."). */
int llm_server_generate(const char *reply, const char *extra, json_t **out);

/* Asserts out is LLM_SERVER_ANSWER plus usage (tokens > 0) and latency_ms. */
void llm_server_expect_answer(json_t *out);

/* The tests every provider passes, as cmocka tests: the answer comes back
 * with each of the spec's modes; a reply that is not JSON (with the
 * prompt_mode), then one without the required keys, are WEIR_EINVALID
 * saying so; 50 throttles end in WEIR_EIO throttle_error "... after 3
 * attempt(s)" after exactly 3 requests, while 2 are retried to an answer. */
void llm_server_test_modes(void **state);
void llm_server_test_not_json(void **state);
void llm_server_test_throttling(void **state);

/* The three above, for a test's list. */
#define LLM_SERVER_TESTS                                                                 \
    cmocka_unit_test(llm_server_test_modes), cmocka_unit_test(llm_server_test_not_json), \
        cmocka_unit_test(llm_server_test_throttling)

#endif
