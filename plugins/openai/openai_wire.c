/*
 * openai_wire.c - chat completions bodies and replies. Only widely
 * implemented fields are sent (model, messages, temperature, max_tokens,
 * response_format), so local servers accept the same request as OpenAI.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "openai.h"

static json_t *chat(const json_t *messages, const char *system)
{
    json_t *out = json_array();
    const json_t *m;
    size_t i;

    if (out && system &&
        json_array_append_new(out, json_pack("{s:s, s:s}", "role", "system", "content", system)) <
            0) {
        goto fail;
    }
    json_array_foreach(messages, i, m) {
        const char *role = json_string_value(json_object_get(m, "role"));

        if (!out || !role || strcmp(role, "system") == 0) {
            continue;
        }
        if (json_array_append_new(out, json_pack("{s:s, s:O}", "role", role, "content",
                                                 json_object_get(m, "content"))) < 0) {
            goto fail;
        }
    }
    return out;

fail:
    json_decref(out);
    return NULL;
}

static json_t *format_of(const json_t *schema, enum openai_format format, int strict)
{
    const char *name = json_string_value(json_object_get(schema, "title"));

    if (format == OPENAI_JSON_OBJECT) {
        return json_pack("{s:s}", "type", "json_object");
    }
    /* the name must match ^[a-zA-Z0-9_-]+$; a title rarely does */
    name =
        name &&
                strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") ==
                    strlen(name) &&
                *name
            ? name
            : "answer";
    return json_pack("{s:s, s:{s:s, s:b, s:O}}", "type", "json_schema", "json_schema", "name", name,
                     "strict", strict, "schema", schema);
}

json_t *openai_body(const char *model, const json_t *input, const char *system,
                    enum openai_format format, int strict)
{
    const json_t *temp = json_object_get(input, "temperature");
    const json_t *max = json_object_get(input, "max_tokens");
    const json_t *schema = json_object_get(input, "json_schema");
    json_t *body = json_pack("{s:s, s:o}", "model", model, "messages",
                             chat(json_object_get(input, "messages"), system));
    int bad = !body;

    bad = bad || (json_is_number(temp) &&
                  json_object_set_new(body, "temperature", json_real(json_number_value(temp))));
    bad = bad || (json_is_integer(max) &&
                  json_object_set_new(body, "max_tokens", json_integer(json_integer_value(max))));
    if (json_is_object(schema) && format != OPENAI_NO_FORMAT) {
        bad =
            bad || json_object_set_new(body, "response_format", format_of(schema, format, strict));
    }
    if (bad) {
        json_decref(body);
        return NULL;
    }
    return body;
}

char *openai_url(const char *base)
{
    char *url;

    return asprintf(&url, "%.*s/chat/completions", (int)llm_base_len(base), base) < 0 ? NULL : url;
}

int openai_reply(const json_t *doc, const char **text, struct llm_usage *usage)
{
    const json_t *choice = json_array_get(json_object_get(doc, "choices"), 0);
    const json_t *msg = json_object_get(choice, "message");
    const char *finish = json_string_value(json_object_get(choice, "finish_reason"));
    const char *refusal = json_string_value(json_object_get(msg, "refusal"));

    usage->input_tokens = llm_usage_count(json_object_get(doc, "usage"), "prompt_tokens");
    usage->output_tokens = llm_usage_count(json_object_get(doc, "usage"), "completion_tokens");
    *text = json_string_value(json_object_get(msg, "content"));
    if (refusal) {
        return openai_host->error_set(WEIR_EINVALID, "the model refused: %.200s", refusal);
    }
    if (finish && strcmp(finish, "length") == 0) {
        return openai_host->error_set(WEIR_EINVALID,
                                      "the reply was cut off at the length limit "
                                      "(%lld output tokens); raise max_tokens",
                                      (long long)usage->output_tokens);
    }
    if (finish && strcmp(finish, "content_filter") == 0) {
        return openai_host->error_set(WEIR_EINVALID,
                                      "the reply was withheld by the content filter");
    }
    if (!*text) {
        return openai_host->error_set(WEIR_EINVALID, "the reply has no choices[0].message.content");
    }
    return WEIR_OK;
}
