/*
 * bedrock_generate.c - llm.generate over Bedrock Runtime: settings, one
 * signed POST (the host signs, retries and redacts), the reply into the
 * output every llm provider gives.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bedrock.h"

#define OP "llm.generate (bedrock)"

/* The variable the AWS SDKs read a Bedrock API key from. */
#define BEDROCK_TOKEN_ENV "AWS_BEARER_TOKEN_BEDROCK"

const struct weir_param_desc bedrock_generate_params[] = {
    { "messages", WEIR_PARAM_ARRAY, 1, NULL,
      "chat messages [{role, content}], role system, user or assistant" },
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
    { "timeout_ms", WEIR_PARAM_INTEGER, 0, "120000", "per-attempt HTTP timeout" },
    { "max_attempts", WEIR_PARAM_INTEGER, 0, "3", "attempts on throttling and 5xx (1: no retry)" },
    { NULL, WEIR_PARAM_ANY, 0, NULL, NULL },
};

/* What one call needs besides the input. */
struct call {
    const char *model;
    enum bedrock_api api;
    int tool;
    const char *region;
};

static int settings(const json_t *input, struct call *c)
{
    const char *api = llm_setting(input, "api", NULL, "converse");
    const char *mode = llm_setting(input, "json_mode", NULL, "tool");
    const char *type;

    c->model = llm_setting(input, "model", NULL, NULL);
    c->model = c->model ? c->model : llm_setting(input, "model_id", "WEIR_BEDROCK_MODEL_ID", NULL);
    c->region = llm_setting(input, "region", NULL, NULL);
    if (!c->model) {
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
    return WEIR_OK;
}

/* Sends body; *resp holds a 2xx response on WEIR_OK. */
static int post(weir_ctx *ctx, const json_t *input, const struct call *c, const char *body,
                struct weir_http_response *resp)
{
    static const char *const headers[] = { "Content-Type: application/json",
                                           "Accept: application/json", NULL };
    struct weir_http_request req = { 0 };
    char *endpoint = bedrock_host->aws_endpoint(ctx, "BEDROCK_RUNTIME", c->region);
    char *url = endpoint ? bedrock_url(endpoint, c->model, c->api) : NULL;
    int rc;

    if (!endpoint) {
        rc = bedrock_host->error_set(WEIR_EINVALID, OP ": no Bedrock endpoint: %s",
                                     bedrock_host->error_last());
        goto done;
    }
    if (!url) {
        rc = bedrock_host->error_set(WEIR_ENOMEM, OP ": out of memory");
        goto done;
    }
    req.version = WEIR_HTTP_REQUEST_VERSION;
    req.method = "POST";
    req.url = url;
    req.headers = headers;
    req.body = body;
    req.body_len = strlen(body);
    req.timeout_ms = (long)json_integer_value(json_object_get(input, "timeout_ms"));
    req.max_attempts = (int)json_integer_value(json_object_get(input, "max_attempts"));
    req.auth = WEIR_HTTP_AUTH_AWS_SIGV4;
    req.aws_service = "bedrock";
    req.aws_region = c->region;
    if (getenv(BEDROCK_TOKEN_ENV) && *getenv(BEDROCK_TOKEN_ENV)) {
        /* a Bedrock API key replaces SigV4; only its presence is looked at here,
         * the host reads and redacts it */
        req.auth = WEIR_HTTP_AUTH_ENV_TOKEN;
        req.auth_header = "Authorization";
        req.auth_prefix = "Bearer ";
        req.auth_env = BEDROCK_TOKEN_ENV;
    }
    if ((rc = bedrock_host->http_request(ctx, &req, resp)) < 0) {
        goto done;
    }
    rc = llm_http_status(bedrock_host, OP, resp,
                         "check the AWS credentials (or AWS_BEARER_TOKEN_BEDROCK), the region, "
                         "and that they allow bedrock:InvokeModel on this model");

done:
    bedrock_host->free(endpoint);
    free(url);
    return rc;
}

/* The reply into the output. */
static int answer(weir_ctx *ctx, const json_t *input, const struct call *c,
                  const struct weir_http_response *resp, int64_t latency, json_t **out)
{
    json_error_t err;
    json_t *doc = json_loadb(resp->body ? resp->body : "", resp->body_len, 0, &err);
    const json_t *tool_input = NULL;
    struct llm_usage usage;
    char *text = NULL, why[512];
    int rc;

    if (!doc) {
        rc = bedrock_host->error_set(WEIR_EINVALID, OP ": the Bedrock reply is not JSON (%s)",
                                     err.text);
        goto done;
    }
    if ((rc = bedrock_reply(c->api, doc, &text, &tool_input, &usage)) < 0) {
        snprintf(why, sizeof(why), "%s", bedrock_host->error_last());
        rc = bedrock_host->error_set(rc, OP ": model %s: %s", c->model, why);
        goto done;
    }
    rc = llm_finish(bedrock_host, ctx, OP, c->model, text, tool_input,
                    json_object_get(input, "json_schema"), &usage, latency, out);

done:
    json_decref(doc);
    free(text);
    return rc;
}

int bedrock_generate_run(const json_t *input, json_t **out, weir_ctx *ctx, void *payload)
{
    const json_t *schema = json_object_get(input, "json_schema");
    struct weir_http_response resp = { 0 };
    char *system = NULL, *body = NULL;
    json_t *doc = NULL;
    struct call c;
    int64_t start;
    int rc;

    (void)payload;
    if ((rc = llm_need_http(bedrock_host, OP)) < 0) {
        return rc;
    }
    if ((rc = settings(input, &c)) < 0 ||
        (rc = llm_messages_check(bedrock_host, OP, json_object_get(input, "messages"))) < 0 ||
        (rc = llm_system_text(bedrock_host, OP, json_object_get(input, "messages"),
                              json_is_object(schema), &system)) < 0) {
        goto done;
    }
    doc = bedrock_body(c.api, input, system, c.tool);
    body = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    if (!body) {
        rc = bedrock_host->error_set(WEIR_ENOMEM, OP ": out of memory");
        goto done;
    }
    start = llm_now_ms();
    if ((rc = post(ctx, input, &c, body, &resp)) < 0) {
        goto done;
    }
    rc = answer(ctx, input, &c, &resp, llm_now_ms() - start, out);

done:
    bedrock_host->http_response_free(&resp);
    json_decref(doc);
    free(system);
    free(body);
    return rc;
}
