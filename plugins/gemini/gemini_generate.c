/*
 * gemini_generate.c - llm.generate over generateContent: the params, and
 * what llm_generate_run needs to know of the API (settings and the schema
 * mode, URL, the key header, body and reply).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gemini.h"

#define OP "llm.generate (gemini)"

const struct weir_param_desc gemini_generate_params[] = {
    LLM_PARAM_MESSAGES,
    { "json_schema", WEIR_PARAM_OBJECT, 0, "null",
      "JSON Schema of the answer: sent as the response schema; the reply is parsed and its "
      "required keys checked" },
    { "temperature", WEIR_PARAM_NUMBER, 0, "null",
      "sampling temperature (null: the model's default)" },
    { "max_tokens", WEIR_PARAM_INTEGER, 0, "null", "maxOutputTokens (null: the model's default)" },
    { "model", WEIR_PARAM_STRING, 0, "null",
      "model name, e.g. gemini-2.5-flash (null: env GEMINI_MODEL)" },
    { "base_url", WEIR_PARAM_STRING, 0, "null",
      "API base (null: env GEMINI_BASE_URL, else " GEMINI_BASE ")" },
    { "api_key_env", WEIR_PARAM_STRING, 0, "\"GEMINI_API_KEY\"",
      "environment variable holding the key, sent as x-goog-api-key" },
    { "schema_mode", WEIR_PARAM_STRING, 0, "\"auto\"",
      "\"openapi\" (responseSchema, converted), \"json_schema\" (responseJsonSchema, as is) or "
      "\"auto\" (openapi unless the schema has maps it cannot express)" },
    LLM_PARAM_TIMEOUT_MS,
    LLM_PARAM_MAX_ATTEMPTS("429 and 5xx"),
    { NULL, WEIR_PARAM_ANY, 0, NULL, NULL },
};

struct call {
    struct llm_call llm; /* first: the flow's part */
    const char *base;
    const char *key_env;
    int openapi;
};

static int schema_mode(const json_t *input, const char *mode, int *openapi)
{
    json_t *conv;

    if (strcmp(mode, "openapi") == 0 || strcmp(mode, "json_schema") == 0) {
        *openapi = mode[0] == 'o';
        return WEIR_OK;
    }
    if (strcmp(mode, "auto") != 0) {
        return gemini_host->error_set(WEIR_EINVALID,
                                      OP ": param 'schema_mode' is '%s'; use "
                                         "\"auto\", \"openapi\" or \"json_schema\"",
                                      mode);
    }
    if (!json_is_object(json_object_get(input, "json_schema"))) {
        *openapi = 1;
        return WEIR_OK;
    }
    if (!(conv = gemini_schema(json_object_get(input, "json_schema")))) {
        return gemini_host->error_set(WEIR_EINVALID,
                                      OP ": json_schema nests deeper than %d "
                                         "levels (a $ref cycle?)",
                                      GEMINI_SCHEMA_DEPTH);
    }
    *openapi = gemini_schema_fits(conv);
    json_decref(conv);
    return WEIR_OK;
}

static int settings(const json_t *input, struct llm_call *lc)
{
    struct call *c = (struct call *)lc;
    int rc;

    c->llm.model = llm_setting(input, "model", "GEMINI_MODEL", NULL);
    c->base = llm_setting(input, "base_url", "GEMINI_BASE_URL", GEMINI_BASE);
    c->key_env = llm_setting(input, "api_key_env", NULL, "GEMINI_API_KEY");
    if (!c->llm.model) {
        return gemini_host->error_set(WEIR_EINVALID, OP ": no model: set param model (e.g. in "
                                                        "weir.yaml, llm: {plugin: gemini, with: "
                                                        "{model: ...}}) or env GEMINI_MODEL");
    }
    if ((rc = llm_call_base(gemini_host, OP, &c->llm, c->base, c->key_env)) < 0) {
        return rc;
    }
    return schema_mode(input, llm_setting(input, "schema_mode", NULL, "auto"), &c->openapi);
}

static json_t *body(const json_t *input, const char *system, const struct llm_call *lc)
{
    return gemini_body(input, system, ((const struct call *)lc)->openapi);
}

static int request(weir_ctx *ctx, const struct llm_call *lc, char **url,
                   struct weir_http_request *req)
{
    const struct call *c = (const struct call *)lc;

    (void)ctx;
    if (!(*url = gemini_url(c->base, c->llm.model))) {
        return gemini_host->error_set(WEIR_ENOMEM, OP ": out of memory");
    }
    req->auth = WEIR_HTTP_AUTH_ENV_TOKEN;
    req->auth_header = "x-goog-api-key";
    req->auth_prefix = "";
    req->auth_env = c->key_env;
    return WEIR_OK;
}

static int reply(const json_t *doc, const struct llm_call *lc, char **text, const json_t **answer,
                 struct llm_usage *usage)
{
    (void)lc;
    *answer = NULL;
    return gemini_reply(doc, text, usage);
}

static const struct llm_provider provider = { OP, settings, body, request, reply };

int gemini_generate_run(const json_t *input, json_t **out, weir_ctx *ctx, void *payload)
{
    struct call c = { 0 };

    (void)payload;
    return llm_generate_run(gemini_host, ctx, input, &provider, &c.llm, out);
}
