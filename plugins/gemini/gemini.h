/*
 * gemini.h - the gemini plugin: llm.generate over Google's Gemini API
 * (generateContent). gemini_wire.c builds the body, converts JSON Schema to
 * Gemini's OpenAPI subset and reads the reply (pure functions on JSON);
 * gemini_generate.c the params and the provider llm_generate_run drives;
 * gemini_plugin.c the entry.
 */
#ifndef WEIR_GEMINI_H
#define WEIR_GEMINI_H

#include <weir/weir.h>

#include "llm_common.h"

/* The host table, set by the entry (tests set it themselves). */
extern const struct weir_host_api *gemini_host;

extern const struct weir_param_desc gemini_generate_params[];
int gemini_generate_run(const json_t *input, json_t **out, weir_ctx *ctx, void *payload);

/* The default base URL when neither base_url nor GEMINI_BASE_URL is set. */
#define GEMINI_BASE "https://generativelanguage.googleapis.com"

/* Depth bound of the schema conversion ($ref chains, nesting). */
#define GEMINI_SCHEMA_DEPTH 32

/* JSON Schema to the OpenAPI subset responseSchema takes: upper-case types,
 * ["x", "null"] as nullable, local $refs ("#/$defs/x", "#/definitions/x")
 * inlined, keywords Gemini rejects (additionalProperties, $schema, $defs,
 * $id, const, ...) dropped. New reference; NULL when out of memory or the
 * schema nests deeper than GEMINI_SCHEMA_DEPTH (a $ref cycle). */
json_t *gemini_schema(const json_t *schema);

/* Non-zero when a converted schema says what the original did: responseSchema
 * cannot describe an object without listed properties (a map). */
int gemini_schema_fits(const json_t *converted);

/* The generateContent body. system may be NULL. openapi non-zero sends the
 * converted schema as responseSchema, else the schema as is in
 * responseJsonSchema. New reference or NULL. */
json_t *gemini_body(const json_t *input, const char *system, int openapi);

/* <base>/v1beta/models/<model>:generateContent (libc-allocated). */
char *gemini_url(const char *base, const char *model);

/* Reads a reply: *text the first candidate's text parts, thoughts skipped
 * (libc-allocated); usage the token counts. WEIR_EINVALID when the prompt
 * was blocked, there is no candidate, or it stopped for a reason other than
 * STOP. */
int gemini_reply(const json_t *doc, char **text, struct llm_usage *usage);

#endif
