/*
 * gemini_generate.c - llm.generate over generateContent: settings, one POST
 * (the host adds the key, retries and redacts), the reply into the output
 * every llm provider gives.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gemini.h"

#define OP "llm.generate (gemini)"

const struct weir_param_desc gemini_generate_params[] = {
    { "messages", WEIR_PARAM_ARRAY, 1, NULL,
      "chat messages [{role, content}], role system, user or assistant" },
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
    { "timeout_ms", WEIR_PARAM_INTEGER, 0, "120000", "per-attempt HTTP timeout" },
    { "max_attempts", WEIR_PARAM_INTEGER, 0, "3", "attempts on 429 and 5xx (1: no retry)" },
    { NULL, WEIR_PARAM_ANY, 0, NULL, NULL },
};

struct call {
    const char *model;
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

static int settings(const json_t *input, struct call *c)
{
    c->model = llm_setting(input, "model", "GEMINI_MODEL", NULL);
    c->base = llm_setting(input, "base_url", "GEMINI_BASE_URL", GEMINI_BASE);
    c->key_env = llm_setting(input, "api_key_env", NULL, "GEMINI_API_KEY");
    if (!c->model) {
        return gemini_host->error_set(WEIR_EINVALID, OP ": no model: set param model (e.g. in "
                                                        "weir.yaml, llm: {plugin: gemini, with: "
                                                        "{model: ...}}) or env GEMINI_MODEL");
    }
    if (strncmp(c->base, "http://", 7) != 0 && strncmp(c->base, "https://", 8) != 0) {
        return gemini_host->error_set(WEIR_EINVALID, OP ": base_url '%s' is not an http(s) URL",
                                      c->base);
    }
    return schema_mode(input, llm_setting(input, "schema_mode", NULL, "auto"), &c->openapi);
}

static int post(weir_ctx *ctx, const json_t *input, const struct call *c, const char *body,
                struct weir_http_response *resp)
{
    static const char *const headers[] = { "Content-Type: application/json",
                                           "Accept: application/json", NULL };
    struct weir_http_request req = { 0 };
    char *url = gemini_url(c->base, c->model), hint[200];
    int rc;

    if (!url) {
        return gemini_host->error_set(WEIR_ENOMEM, OP ": out of memory");
    }
    req.version = WEIR_HTTP_REQUEST_VERSION;
    req.method = "POST";
    req.url = url;
    req.headers = headers;
    req.body = body;
    req.body_len = strlen(body);
    req.timeout_ms = (long)json_integer_value(json_object_get(input, "timeout_ms"));
    req.max_attempts = (int)json_integer_value(json_object_get(input, "max_attempts"));
    req.auth = WEIR_HTTP_AUTH_ENV_TOKEN;
    req.auth_header = "x-goog-api-key";
    req.auth_prefix = "";
    req.auth_env = c->key_env;
    snprintf(hint, sizeof(hint), "check the key in %s and that it may use model %s", c->key_env,
             c->model);
    if ((rc = gemini_host->http_request(ctx, &req, resp)) == WEIR_OK) {
        rc = llm_http_status(gemini_host, OP, resp, hint);
    }
    free(url);
    return rc;
}

static int answer(weir_ctx *ctx, const json_t *input, const struct call *c,
                  const struct weir_http_response *resp, int64_t latency, json_t **out)
{
    json_error_t err;
    json_t *doc = json_loadb(resp->body ? resp->body : "", resp->body_len, 0, &err);
    struct llm_usage usage;
    char *text = NULL, why[512];
    int rc;

    if (!doc) {
        rc = gemini_host->error_set(WEIR_EINVALID, OP ": the reply of %s is not JSON (%s)", c->base,
                                    err.text);
        goto done;
    }
    if ((rc = gemini_reply(doc, &text, &usage)) < 0) {
        snprintf(why, sizeof(why), "%s", gemini_host->error_last());
        rc = gemini_host->error_set(rc, OP ": model %s: %s", c->model, why);
        goto done;
    }
    rc = llm_finish(gemini_host, ctx, OP, c->model, text, NULL,
                    json_object_get(input, "json_schema"), &usage, latency, out);

done:
    json_decref(doc);
    free(text);
    return rc;
}

int gemini_generate_run(const json_t *input, json_t **out, weir_ctx *ctx, void *payload)
{
    const json_t *schema = json_object_get(input, "json_schema");
    struct weir_http_response resp = { 0 };
    char *system = NULL, *body = NULL;
    json_t *doc = NULL;
    struct call c = { 0 };
    int64_t start;
    int rc;

    (void)payload;
    if ((rc = llm_need_http(gemini_host, OP)) < 0) {
        return rc;
    }
    if ((rc = settings(input, &c)) < 0 ||
        (rc = llm_messages_check(gemini_host, OP, json_object_get(input, "messages"))) < 0 ||
        (rc = llm_system_text(gemini_host, OP, json_object_get(input, "messages"),
                              json_is_object(schema), &system)) < 0) {
        goto done;
    }
    doc = gemini_body(input, system, c.openapi);
    body = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    if (!body) {
        rc = gemini_host->error_set(WEIR_ENOMEM, OP ": out of memory");
        goto done;
    }
    start = llm_now_ms();
    if ((rc = post(ctx, input, &c, body, &resp)) < 0) {
        goto done;
    }
    rc = answer(ctx, input, &c, &resp, llm_now_ms() - start, out);

done:
    gemini_host->http_response_free(&resp);
    json_decref(doc);
    free(system);
    free(body);
    return rc;
}
