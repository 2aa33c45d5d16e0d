/*
 * llm_generate.c - the llm.generate flow every model provider runs: checks,
 * the system prompt, one POST through the host (which signs or adds the
 * key, retries and redacts), status mapping, then the reply into the
 * output. The provider only says how its API spells the request and reply.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llm_common.h"

int llm_call_base(const struct weir_host_api *host, const char *op, struct llm_call *call,
                  const char *base, const char *key_env)
{
    if (strncmp(base, "http://", 7) != 0 && strncmp(base, "https://", 8) != 0) {
        return host->error_set(WEIR_EINVALID, "%s: base_url '%s' is not an http(s) URL", op, base);
    }
    snprintf(call->source, sizeof(call->source), "reply of %s", base);
    snprintf(call->hint, sizeof(call->hint), "check the key in %s and that it may use model %s",
             key_env, call->model);
    return WEIR_OK;
}

/* Sends body; *resp holds a 2xx response on WEIR_OK. */
static int post(const struct weir_host_api *host, weir_ctx *ctx, const json_t *input,
                const struct llm_provider *p, const struct llm_call *call, const char *body,
                struct weir_http_response *resp)
{
    static const char *const headers[] = { "Content-Type: application/json",
                                           "Accept: application/json", NULL };
    struct weir_http_request req = { 0 };
    char *url = NULL;
    int rc;

    req.version = WEIR_HTTP_REQUEST_VERSION;
    req.method = "POST";
    req.headers = headers;
    req.body = body;
    req.body_len = strlen(body);
    req.timeout_ms = (long)json_integer_value(json_object_get(input, "timeout_ms"));
    req.max_attempts = (int)json_integer_value(json_object_get(input, "max_attempts"));
    if ((rc = p->request(ctx, call, &url, &req)) < 0) {
        goto done;
    }
    req.url = url;
    if ((rc = host->http_request(ctx, &req, resp)) == WEIR_OK) {
        rc = llm_http_status(host, p->op, resp, call->hint);
    }

done:
    free(url);
    return rc;
}

/* The reply into the output. */
static int answer(const struct weir_host_api *host, weir_ctx *ctx, const json_t *input,
                  const struct llm_provider *p, const struct llm_call *call,
                  const struct weir_http_response *resp, int64_t latency, json_t **out)
{
    json_error_t err;
    json_t *doc = json_loadb(resp->body ? resp->body : "", resp->body_len, 0, &err);
    const json_t *structured = NULL;
    struct llm_usage usage;
    char *text = NULL, why[512];
    int rc;

    if (!doc) {
        rc = host->error_set(WEIR_EINVALID, "%s: the %s is not JSON (%s)", p->op, call->source,
                             err.text);
        goto done;
    }
    if ((rc = p->reply(doc, call, &text, &structured, &usage)) < 0) {
        /* the provider's message says what; this one adds where */
        snprintf(why, sizeof(why), "%s", host->error_last());
        rc = host->error_set(rc, "%s: model %s: %s", p->op, call->model, why);
        goto done;
    }
    rc = llm_finish(host, ctx, p->op, call->model, text, structured,
                    json_object_get(input, "json_schema"), &usage, latency, out);

done:
    json_decref(doc);
    free(text);
    return rc;
}

int llm_generate_run(const struct weir_host_api *host, weir_ctx *ctx, const json_t *input,
                     const struct llm_provider *p, struct llm_call *call, json_t **out)
{
    const json_t *messages = json_object_get(input, "messages");
    struct weir_http_response resp = { 0 };
    char *system = NULL, *body = NULL;
    json_t *doc = NULL;
    int64_t start;
    int rc;

    *out = NULL;
    if ((rc = llm_need_http(host, p->op)) < 0) {
        return rc;
    }
    if ((rc = p->settings(input, call)) < 0 ||
        (rc = llm_messages_check(host, p->op, messages)) < 0 ||
        (rc = llm_system_text(host, p->op, messages,
                              json_is_object(json_object_get(input, "json_schema")), &system)) <
            0) {
        goto done;
    }
    doc = p->body(input, system, call);
    body = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    if (!body) {
        rc = host->error_set(WEIR_ENOMEM, "%s: out of memory", p->op);
        goto done;
    }
    start = llm_now_ms();
    if ((rc = post(host, ctx, input, p, call, body, &resp)) < 0) {
        goto done;
    }
    rc = answer(host, ctx, input, p, call, &resp, llm_now_ms() - start, out);

done:
    host->http_response_free(&resp);
    json_decref(doc);
    free(system);
    free(body);
    return rc;
}
