/*
 * bedrock.h - the bedrock plugin: llm.generate over Amazon Bedrock Runtime.
 * bedrock_wire.c builds request bodies and reads replies (pure functions on
 * JSON); bedrock_generate.c the params and the provider llm_generate_run
 * drives; bedrock_plugin.c the entry.
 */
#ifndef WEIR_BEDROCK_H
#define WEIR_BEDROCK_H

#include <weir/weir.h>

#include "llm_common.h"

/* The host table, set by the entry (tests set it themselves). */
extern const struct weir_host_api *bedrock_host;

/* The llm.generate op and its params. */
extern const struct weir_param_desc bedrock_generate_params[];
int bedrock_generate_run(const json_t *input, json_t **out, weir_ctx *ctx, void *payload);

/* Which Bedrock API a request uses. */
enum bedrock_api { BEDROCK_CONVERSE, BEDROCK_INVOKE };

/* Name of the tool that carries the JSON answer when json_mode is "tool". */
#define BEDROCK_TOOL "answer"

/* max_tokens when the input gives none (InvokeModel requires one). */
#define BEDROCK_MAX_TOKENS 4096

/* The request body for input's messages, temperature, max_tokens and
 * json_schema; system may be NULL; tool non-zero forces the answer through
 * a single tool whose input schema is json_schema. New reference, or NULL
 * when out of memory. */
json_t *bedrock_body(enum bedrock_api api, const json_t *input, const char *system, int tool);

/* <endpoint>/model/<model id, URI-encoded>/converse|invoke (libc-allocated). */
char *bedrock_url(const char *endpoint, const char *model, enum bedrock_api api);

/* Reads a reply document: *text is the concatenated text blocks
 * (libc-allocated, "" when none), *tool_input the tool's input when the model
 * answered through the tool (borrowed from doc) else NULL, usage the token
 * counts. WEIR_EINVALID when the reply has no message, was cut off at
 * max_tokens, or was blocked. */
int bedrock_reply(enum bedrock_api api, const json_t *doc, char **text, const json_t **tool_input,
                  struct llm_usage *usage);

#endif
