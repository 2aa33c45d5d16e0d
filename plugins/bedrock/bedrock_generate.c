/*
 * bedrock_generate.c - llm.generate over Bedrock Runtime: the params, and
 * what llm_generate_run needs to know of Bedrock (settings, the endpoint
 * and SigV4 or a Bedrock API key, body and reply in the chosen API).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bedrock.h"

#define OP "llm.generate (bedrock)"

/* The variable the AWS SDKs read a Bedrock API key from. */
#define BEDROCK_TOKEN_ENV "AWS_BEARER_TOKEN_BEDROCK"

const struct weir_param_desc bedrock_generate_params[] = {
    LLM_PARAM_MESSAGES,
    { "json_schema", WEIR_PARAM_OBJECT, 0, "null",
      "JSON Schema of the answer: the reply is parsed as JSON and its required keys checked" },
    { "temperature", WEIR_PARAM_NUMBER, 0, "null",
      "sampling temperature (null: the model's default)" },
    { "max_tokens", WEIR_PARAM_INTEGER, 0, "null", "output token limit (null: 4096)" },
    { "model", WEIR_PARAM_STRING, 0, "null", "per-call model id; overrides model_id" },
    { "model_id", WEIR_PARAM_STRING, 0, "null",
      "model or inference-profile id or ARN (null: env WEIR_BEDROCK_MODEL_ID)" },
    { "api", WEIR_PARAM_STRING, 0, "\"converse\"",
      "\"converse\" (any model) or \"invoke\" (InvokeModel with an Anthropic Messages body)" },
    { "json_mode", WEIR_PARAM_STRING, 0, "\"tool\"",
      "with json_schema: \"tool\" (forced tool whose input schema is json_schema) or \"prompt\" "
      "(system-prompt instruction only)" },
    { "region", WEIR_PARAM_STRING, 0, "null",
      "AWS region (null: AWS_REGION, the profile's region)" },
    LLM_PARAM_TIMEOUT_MS,
    LLM_PARAM_MAX_ATTEMPTS("throttling and 5xx"),
    { NULL, WEIR_PARAM_ANY, 0, NULL, NULL },
};

/* What one call needs besides the input. */
struct call {
    struct llm_call llm; /* first: the flow's part */
    enum bedrock_api api;
    int tool;
    const char *region;
};

static int settings(const json_t *input, struct llm_call *lc)
{
    struct call *c = (struct call *)lc;
    const char *api = llm_setting(input, "api", NULL, "converse");
    const char *mode = llm_setting(input, "json_mode", NULL, "tool");
    const char *type;

    c->llm.model = llm_setting(input, "model", NULL, NULL);
    c->llm.model =
        c->llm.model ? c->llm.model : llm_setting(input, "model_id", "WEIR_BEDROCK_MODEL_ID", NULL);
    c->region = llm_setting(input, "region", NULL, NULL);
    if (!c->llm.model) {
        return bedrock_host->error_set(WEIR_EINVALID,
                                       OP ": no model: set param model_id (e.g. in "
                                          "weir.yaml, llm: {plugin: bedrock, with: "
                                          "{model_id: ...}}) or env WEIR_BEDROCK_MODEL_ID");
    }
    if (strcmp(api, "converse") != 0 && strcmp(api, "invoke") != 0) {
        return bedrock_host->error_set(WEIR_EINVALID,
                                       OP ": param 'api' is '%s'; use \"converse\" "
                                          "or \"invoke\"",
                                       api);
    }
    if (strcmp(mode, "tool") != 0 && strcmp(mode, "prompt") != 0) {
        return bedrock_host->error_set(WEIR_EINVALID,
                                       OP ": param 'json_mode' is '%s'; use "
                                          "\"tool\" or \"prompt\"",
                                       mode);
    }
    c->api = api[0] == 'c' ? BEDROCK_CONVERSE : BEDROCK_INVOKE;
    /* a tool's input must be an object: other schemas go by the prompt */
    type = json_string_value(json_object_get(json_object_get(input, "json_schema"), "type"));
    c->tool = mode[0] == 't' && type && strcmp(type, "object") == 0;
    snprintf(c->llm.source, sizeof(c->llm.source), "Bedrock reply");
    snprintf(c->llm.hint, sizeof(c->llm.hint),
             "check the AWS credentials (or " BEDROCK_TOKEN_ENV "), the region, and that they "
             "allow bedrock:InvokeModel on this model");
    return WEIR_OK;
}

static json_t *body(const json_t *input, const char *system, const struct llm_call *lc)
{
    const struct call *c = (const struct call *)lc;

    return bedrock_body(c->api, input, system, c->tool);
}

static int request(weir_ctx *ctx, const struct llm_call *lc, char **url,
                   struct weir_http_request *req)
{
    const struct call *c = (const struct call *)lc;
    char *endpoint = bedrock_host->aws_endpoint(ctx, "BEDROCK_RUNTIME", c->region);

    if (!endpoint) {
        return bedrock_host->error_set(WEIR_EINVALID, OP ": no Bedrock endpoint: %s",
                                       bedrock_host->error_last());
    }
    *url = bedrock_url(endpoint, c->llm.model, c->api);
    bedrock_host->free(endpoint);
    if (!*url) {
        return bedrock_host->error_set(WEIR_ENOMEM, OP ": out of memory");
    }
    req->auth = WEIR_HTTP_AUTH_AWS_SIGV4;
    req->aws_service = "bedrock";
    req->aws_region = c->region;
    if (getenv(BEDROCK_TOKEN_ENV) && *getenv(BEDROCK_TOKEN_ENV)) {
        /* a Bedrock API key replaces SigV4; only its presence is looked at here,
         * the host reads and redacts it */
        req->auth = WEIR_HTTP_AUTH_ENV_TOKEN;
        req->auth_header = "Authorization";
        req->auth_prefix = "Bearer ";
        req->auth_env = BEDROCK_TOKEN_ENV;
    }
    return WEIR_OK;
}

static int reply(const json_t *doc, const struct llm_call *lc, char **text, const json_t **answer,
                 struct llm_usage *usage)
{
    return bedrock_reply(((const struct call *)lc)->api, doc, text, answer, usage);
}

static const struct llm_provider provider = { OP, settings, body, request, reply };

int bedrock_generate_run(const json_t *input, json_t **out, weir_ctx *ctx, void *payload)
{
    struct call c = { 0 };

    (void)payload;
    return llm_generate_run(bedrock_host, ctx, input, &provider, &c.llm, out);
}
