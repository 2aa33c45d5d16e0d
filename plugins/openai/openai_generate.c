/*
 * openai_generate.c - llm.generate over chat completions: the params, and
 * what llm_generate_run needs to know of the API (settings, URL, the
 * optional bearer key, body and reply).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "openai.h"

#define OP "llm.generate (openai)"

const struct weir_param_desc openai_generate_params[] = {
    LLM_PARAM_MESSAGES,
    { "json_schema", WEIR_PARAM_OBJECT, 0, "null",
      "JSON Schema of the answer: the reply is parsed as JSON and its required keys checked" },
    { "temperature", WEIR_PARAM_NUMBER, 0, "null",
      "sampling temperature (null: the server's default)" },
    { "max_tokens", WEIR_PARAM_INTEGER, 0, "null",
      "output token limit (null: the server's default)" },
    { "model", WEIR_PARAM_STRING, 0, "null", "model name (null: env OPENAI_MODEL)" },
    { "base_url", WEIR_PARAM_STRING, 0, "null",
      "API base, e.g. http://127.0.0.1:8000/v1 (null: env OPENAI_BASE_URL, else " OPENAI_BASE ")" },
    { "api_key_env", WEIR_PARAM_STRING, 0, "\"OPENAI_API_KEY\"",
      "environment variable holding the key, sent as a bearer token; unset or empty: no key "
      "(local servers)" },
    { "response_format", WEIR_PARAM_STRING, 0, "\"json_schema\"",
      "with json_schema: \"json_schema\", \"json_object\" or \"none\" (prompt only)" },
    { "strict", WEIR_PARAM_BOOLEAN, 0, "false",
      "json_schema strict mode (needs every property required and additionalProperties false)" },
    LLM_PARAM_TIMEOUT_MS,
    LLM_PARAM_MAX_ATTEMPTS("429 and 5xx"),
    { NULL, WEIR_PARAM_ANY, 0, NULL, NULL },
};

struct call {
    struct llm_call llm; /* first: the flow's part */
    const char *base;
    const char *key_env; /* NULL: send no key */
    enum openai_format format;
    int strict;
};

static int format_setting(const char *fmt, enum openai_format *format)
{
    if (strcmp(fmt, "json_schema") == 0) {
        *format = OPENAI_JSON_SCHEMA;
    }
    else if (strcmp(fmt, "json_object") == 0) {
        *format = OPENAI_JSON_OBJECT;
    }
    else if (strcmp(fmt, "none") == 0) {
        *format = OPENAI_NO_FORMAT;
    }
    else {
        return openai_host->error_set(WEIR_EINVALID,
                                      OP ": param 'response_format' is '%s'; use "
                                         "\"json_schema\", \"json_object\" or \"none\"",
                                      fmt);
    }
    return WEIR_OK;
}

static int settings(const json_t *input, struct llm_call *lc)
{
    struct call *c = (struct call *)lc;
    const char *env = llm_setting(input, "api_key_env", NULL, "OPENAI_API_KEY");
    const char *key = getenv(env);
    int rc;

    c->llm.model = llm_setting(input, "model", "OPENAI_MODEL", NULL);
    c->base = llm_setting(input, "base_url", "OPENAI_BASE_URL", OPENAI_BASE);
    /* only whether the variable is set is looked at: the host reads the key */
    c->key_env = key && *key ? env : NULL;
    c->strict = json_is_true(json_object_get(input, "strict"));
    if (!c->llm.model) {
        return openai_host->error_set(WEIR_EINVALID, OP ": no model: set param model (e.g. in "
                                                        "weir.yaml, llm: {plugin: openai, with: "
                                                        "{model: ...}}) or env OPENAI_MODEL");
    }
    if ((rc = llm_call_base(openai_host, OP, &c->llm, c->base, env)) < 0) {
        return rc;
    }
    return format_setting(llm_setting(input, "response_format", NULL, "json_schema"), &c->format);
}

static json_t *body(const json_t *input, const char *system, const struct llm_call *lc)
{
    const struct call *c = (const struct call *)lc;

    return openai_body(c->llm.model, input, system, c->format, c->strict);
}

static int request(weir_ctx *ctx, const struct llm_call *lc, char **url,
                   struct weir_http_request *req)
{
    const struct call *c = (const struct call *)lc;

    (void)ctx;
    if (!(*url = openai_url(c->base))) {
        return openai_host->error_set(WEIR_ENOMEM, OP ": out of memory");
    }
    if (c->key_env) {
        req->auth = WEIR_HTTP_AUTH_ENV_TOKEN;
        req->auth_header = "Authorization";
        req->auth_prefix = "Bearer ";
        req->auth_env = c->key_env;
    }
    return WEIR_OK;
}

static int reply(const json_t *doc, const struct llm_call *lc, char **text, const json_t **answer,
                 struct llm_usage *usage)
{
    const char *content = NULL;
    int rc = openai_reply(doc, &content, usage);

    (void)lc;
    *answer = NULL;
    if (rc < 0) {
        return rc;
    }
    if (!(*text = strdup(content))) {
        return openai_host->error_set(WEIR_ENOMEM, "out of memory");
    }
    return WEIR_OK;
}

static const struct llm_provider provider = { OP, settings, body, request, reply };

int openai_generate_run(const json_t *input, json_t **out, weir_ctx *ctx, void *payload)
{
    struct call c = { 0 };

    (void)payload;
    return llm_generate_run(openai_host, ctx, input, &provider, &c.llm, out);
}
