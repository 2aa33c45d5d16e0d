/*
 * llm_reply.c - from a model's reply to the llm.generate output: JSON
 * extraction (models wrap JSON in fences or prose even when told not to),
 * the schema's required keys, usage and latency.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llm_common.h"

/* Narrows [*s, *e) to the inside of a ``` fence, if the text has one. */
static void strip_fence(const char **s, const char **e)
{
    const char *open = memmem(*s, (size_t)(*e - *s), "```", 3), *body, *close;

    if (!open) {
        return;
    }
    body = memchr(open, '\n', (size_t)(*e - open));
    if (!body) {
        return;
    }
    body++;
    close = memmem(body, (size_t)(*e - body), "```", 3);
    *s = body;
    *e = close ? close : *e;
}

static json_t *parse(const char *s, const char *e, json_error_t *err)
{
    while (s < e && isspace((unsigned char)*s)) {
        s++;
    }
    while (e > s && isspace((unsigned char)e[-1])) {
        e--;
    }
    return json_loadb(s, (size_t)(e - s), JSON_REJECT_DUPLICATES, err);
}

/* A one-line, bounded quote of the reply for error messages. */
static void excerpt(const char *text, size_t len, char *out, size_t cap)
{
    size_t o = 0;

    for (size_t i = 0; i < len && o + 4 < cap; i++) {
        out[o++] = iscntrl((unsigned char)text[i]) ? ' ' : text[i];
    }
    if (len > o) {
        memcpy(out + o, "...", 4);
        return;
    }
    out[o] = '\0';
}

int llm_reply_json(const struct weir_host_api *host, const char *op, const char *text, size_t len,
                   json_t **out)
{
    const char *s = text, *e = text + len, *a, *b;
    char quote[LLM_EXCERPT + 4];
    json_error_t err, first;

    *out = NULL;
    strip_fence(&s, &e);
    if ((*out = parse(s, e, &first)) != NULL) {
        return WEIR_OK;
    }
    a = memchr(s, '{', (size_t)(e - s));
    for (b = e; a && b > a && b[-1] != '}'; b--) {
    }
    if (a && b > a && (*out = parse(a, b, &err)) != NULL) {
        return WEIR_OK;
    }
    excerpt(text, len, quote, sizeof(quote));
    return host->error_set(WEIR_EINVALID,
                           "%s: the model's reply is not JSON (%s at line %d, column %d); it "
                           "begins: '%s'; ask for JSON in the prompt or try another model",
                           op, first.text, first.line, first.column, quote);
}

static const char *type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_NULL: return "null";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    default: return "a number";
    }
}

int llm_reply_check(const struct weir_host_api *host, const char *op, const json_t *value,
                    const json_t *schema)
{
    const char *type = json_string_value(json_object_get(schema, "type"));
    const json_t *req = json_object_get(schema, "required"), *k;
    char missing[256] = "";
    size_t i, n = 0;

    if (type && ((strcmp(type, "object") == 0 && !json_is_object(value)) ||
                 (strcmp(type, "array") == 0 && !json_is_array(value)))) {
        return host->error_set(WEIR_EINVALID,
                               "%s: the model answered %s where the schema asks "
                               "for an %s",
                               op, type_name(value), type);
    }
    json_array_foreach(req, i, k) {
        if (json_is_string(k) && !json_object_get(value, json_string_value(k))) {
            size_t used = strlen(missing);

            snprintf(missing + used, sizeof(missing) - used, "%s'%s'", n++ ? ", " : "",
                     json_string_value(k));
        }
    }
    if (n > 0) {
        return host->error_set(WEIR_EINVALID,
                               "%s: the model's answer lacks required key(s) %s "
                               "of the schema",
                               op, missing);
    }
    return WEIR_OK;
}

static json_t *usage_json(const struct llm_usage *u)
{
    json_t *o = json_object();

    if (o && u && u->input_tokens >= 0) {
        json_object_set_new(o, "input_tokens", json_integer(u->input_tokens));
    }
    if (o && u && u->output_tokens >= 0) {
        json_object_set_new(o, "output_tokens", json_integer(u->output_tokens));
    }
    return o;
}

static int with_schema(const struct weir_host_api *host, const char *op, const char *text,
                       const json_t *answer, const json_t *schema, json_t **value)
{
    int rc;

    if (answer) {
        *value = json_deep_copy(answer);
        if (!*value) {
            return host->error_set(WEIR_ENOMEM, "%s: out of memory", op);
        }
    }
    else if ((rc = llm_reply_json(host, op, text ? text : "", text ? strlen(text) : 0, value)) <
             0) {
        return rc;
    }
    if ((rc = llm_reply_check(host, op, *value, schema)) < 0) {
        json_decref(*value);
        *value = NULL;
    }
    return rc;
}

int llm_finish(const struct weir_host_api *host, weir_ctx *ctx, const char *op, const char *model,
               const char *text, const json_t *answer, const json_t *schema,
               const struct llm_usage *usage, int64_t latency_ms, json_t **out)
{
    json_t *value = NULL;
    int rc = WEIR_OK;

    *out = NULL;
    if (json_is_object(schema)) {
        rc = with_schema(host, op, text, answer, schema, &value);
    }
    else {
        value = json_pack("{s:s}", "text", text ? text : "");
        rc = value ? WEIR_OK : host->error_set(WEIR_ENOMEM, "%s: out of memory", op);
    }
    if (rc < 0) {
        goto done;
    }
    if (json_is_object(value) && !json_object_get(value, "usage")) {
        json_object_set_new(value, "usage", usage_json(usage));
    }
    if (json_is_object(value) && !json_object_get(value, "latency_ms")) {
        json_object_set_new(value, "latency_ms", json_integer(latency_ms));
    }
    host->log(ctx, WEIR_LOG_INFO, "%s: model %s: %lld input tokens, %lld output tokens, %lld ms",
              op, model, usage ? (long long)usage->input_tokens : -1LL,
              usage ? (long long)usage->output_tokens : -1LL, (long long)latency_ms);
    *out = value;
    value = NULL;

done:
    json_decref(value);
    return rc;
}
