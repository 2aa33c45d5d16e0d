/*
 * openai_generate.c - llm.generate over chat completions: settings, one
 * POST (the host adds the key, retries and redacts), the reply into the
 * output every llm provider gives.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "openai.h"

#define OP "llm.generate (openai)"

const struct weir_param_desc openai_generate_params[] = {
    { "messages", WEIR_PARAM_ARRAY, 1, NULL,
      "chat messages [{role, content}], role system, user or assistant" },
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
    { "timeout_ms", WEIR_PARAM_INTEGER, 0, "120000", "per-attempt HTTP timeout" },
    { "max_attempts", WEIR_PARAM_INTEGER, 0, "3", "attempts on 429 and 5xx (1: no retry)" },
    { NULL, WEIR_PARAM_ANY, 0, NULL, NULL },
};

struct call {
    const char *model;
    const char *base;
    const char *key_env; /* NULL: send no key */
    enum openai_format format;
};

static int settings(const json_t *input, struct call *c)
{
    const char *fmt = llm_setting(input, "response_format", NULL, "json_schema");
    const char *env = llm_setting(input, "api_key_env", NULL, "OPENAI_API_KEY");
    const char *key = getenv(env);

    c->model = llm_setting(input, "model", "OPENAI_MODEL", NULL);
    c->base = llm_setting(input, "base_url", "OPENAI_BASE_URL", OPENAI_BASE);
    /* only whether the variable is set is looked at: the host reads the key */
    c->key_env = key && *key ? env : NULL;
    if (!c->model) {
        return openai_host->error_set(WEIR_EINVALID, OP ": no model: set param model (e.g. in "
                                                        "weir.yaml, llm: {plugin: openai, with: "
                                                        "{model: ...}}) or env OPENAI_MODEL");
    }
    if (strncmp(c->base, "http://", 7) != 0 && strncmp(c->base, "https://", 8) != 0) {
        return openai_host->error_set(WEIR_EINVALID, OP ": base_url '%s' is not an http(s) URL",
                                      c->base);
    }
    if (strcmp(fmt, "json_schema") == 0) {
        c->format = OPENAI_JSON_SCHEMA;
    }
    else if (strcmp(fmt, "json_object") == 0) {
        c->format = OPENAI_JSON_OBJECT;
    }
    else if (strcmp(fmt, "none") == 0) {
        c->format = OPENAI_NO_FORMAT;
    }
    else {
        return openai_host->error_set(WEIR_EINVALID,
                                      OP ": param 'response_format' is '%s'; use "
                                         "\"json_schema\", \"json_object\" or \"none\"",
                                      fmt);
    }
    return WEIR_OK;
}

static int post(weir_ctx *ctx, const json_t *input, const struct call *c, const char *body,
                struct weir_http_response *resp)
{
    static const char *const headers[] = { "Content-Type: application/json",
                                           "Accept: application/json", NULL };
    struct weir_http_request req = { 0 };
    char *url = openai_url(c->base), hint[200];
    int rc;

    if (!url) {
        return openai_host->error_set(WEIR_ENOMEM, OP ": out of memory");
    }
    req.version = WEIR_HTTP_REQUEST_VERSION;
    req.method = "POST";
    req.url = url;
    req.headers = headers;
    req.body = body;
    req.body_len = strlen(body);
    req.timeout_ms = (long)json_integer_value(json_object_get(input, "timeout_ms"));
    req.max_attempts = (int)json_integer_value(json_object_get(input, "max_attempts"));
    if (c->key_env) {
        req.auth = WEIR_HTTP_AUTH_ENV_TOKEN;
        req.auth_header = "Authorization";
        req.auth_prefix = "Bearer ";
        req.auth_env = c->key_env;
    }
    snprintf(hint, sizeof(hint), "check the key in %s and that it may use model %s",
             c->key_env ? c->key_env : llm_setting(input, "api_key_env", NULL, "OPENAI_API_KEY"),
             c->model);
    if ((rc = openai_host->http_request(ctx, &req, resp)) == WEIR_OK) {
        rc = llm_http_status(openai_host, OP, resp, hint);
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
    const char *text = NULL;
    char why[512];
    int rc;

    if (!doc) {
        rc = openai_host->error_set(WEIR_EINVALID, OP ": the reply of %s is not JSON (%s)", c->base,
                                    err.text);
        goto done;
    }
    if ((rc = openai_reply(doc, &text, &usage)) < 0) {
        snprintf(why, sizeof(why), "%s", openai_host->error_last());
        rc = openai_host->error_set(rc, OP ": model %s: %s", c->model, why);
        goto done;
    }
    rc = llm_finish(openai_host, ctx, OP, c->model, text, NULL,
                    json_object_get(input, "json_schema"), &usage, latency, out);

done:
    json_decref(doc);
    return rc;
}

int openai_generate_run(const json_t *input, json_t **out, weir_ctx *ctx, void *payload)
{
    const json_t *schema = json_object_get(input, "json_schema");
    struct weir_http_response resp = { 0 };
    char *system = NULL, *body = NULL;
    json_t *doc = NULL;
    struct call c = { 0 };
    int64_t start;
    int rc;

    (void)payload;
    if ((rc = llm_need_http(openai_host, OP)) < 0) {
        return rc;
    }
    if ((rc = settings(input, &c)) < 0 ||
        (rc = llm_messages_check(openai_host, OP, json_object_get(input, "messages"))) < 0 ||
        (rc = llm_system_text(openai_host, OP, json_object_get(input, "messages"),
                              json_is_object(schema), &system)) < 0) {
        goto done;
    }
    doc = openai_body(c.model, input, system, c.format,
                      json_is_true(json_object_get(input, "strict")));
    body = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    if (!body) {
        rc = openai_host->error_set(WEIR_ENOMEM, OP ": out of memory");
        goto done;
    }
    start = llm_now_ms();
    if ((rc = post(ctx, input, &c, body, &resp)) < 0) {
        goto done;
    }
    rc = answer(ctx, input, &c, &resp, llm_now_ms() - start, out);

done:
    openai_host->http_response_free(&resp);
    json_decref(doc);
    free(system);
    free(body);
    return rc;
}
