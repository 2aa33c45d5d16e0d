/*
 * openai.h - the openai plugin: llm.generate over any OpenAI-compatible chat
 * completions server (OpenAI, vLLM, llama.cpp server, Ollama). openai_wire.c
 * builds the body and reads the reply (pure functions on JSON);
 * openai_generate.c the params and the provider llm_generate_run drives;
 * openai_plugin.c the entry.
 */
#ifndef WEIR_OPENAI_H
#define WEIR_OPENAI_H

#include <weir/weir.h>

#include "llm_common.h"

/* The host table, set by the entry (tests set it themselves). */
extern const struct weir_host_api *openai_host;

extern const struct weir_param_desc openai_generate_params[];
int openai_generate_run(const json_t *input, json_t **out, weir_ctx *ctx, void *payload);

/* The default base URL when neither base_url nor OPENAI_BASE_URL is set. */
#define OPENAI_BASE "https://api.openai.com/v1"

/* How the answer's format is requested. */
enum openai_format { OPENAI_JSON_SCHEMA, OPENAI_JSON_OBJECT, OPENAI_NO_FORMAT };

/* The chat completions body for model and input's messages, temperature,
 * max_tokens and json_schema (response_format only when there is a
 * schema). system is the system text to send first (NULL: none); the input's
 * own system messages are replaced by it. New reference or NULL (no memory). */
json_t *openai_body(const char *model, const json_t *input, const char *system,
                    enum openai_format format, int strict);

/* <base>/chat/completions (libc-allocated). */
char *openai_url(const char *base);

/* Reads a reply: *text the first choice's content (borrowed from doc), usage
 * the token counts. WEIR_EINVALID when there is no choice or content, the
 * model refused, or the reply was cut off at the length limit. */
int openai_reply(const json_t *doc, const char **text, struct llm_usage *usage);

#endif
