/*
 * bedrock_wire.c - Bedrock Runtime bodies and replies. Converse is the
 * provider-neutral shape; InvokeModel carries Anthropic's Messages body.
 * Both alternate user and assistant turns (llm_turns merges consecutive
 * messages of one role).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bedrock.h"

static int add_tool(enum bedrock_api api, json_t *body, const json_t *schema)
{
    const char *what = "Return the answer: its input is the JSON object the request asks for.";

    if (api == BEDROCK_CONVERSE) {
        return json_object_set_new(body, "toolConfig",
                                   json_pack("{s:[{s:{s:s, s:s, s:{s:O}}}], s:{s:{s:s}}}", "tools",
                                             "toolSpec", "name", BEDROCK_TOOL, "description", what,
                                             "inputSchema", "json", schema, "toolChoice", "tool",
                                             "name", BEDROCK_TOOL));
    }
    return json_object_set_new(body, "tools",
                               json_pack("[{s:s, s:s, s:O}]", "name", BEDROCK_TOOL, "description",
                                         what, "input_schema", schema)) ||
           json_object_set_new(body, "tool_choice",
                               json_pack("{s:s, s:s}", "type", "tool", "name", BEDROCK_TOOL));
}

json_t *bedrock_body(enum bedrock_api api, const json_t *input, const char *system, int tool)
{
    const json_t *temp = json_object_get(input, "temperature");
    const json_t *schema = json_object_get(input, "json_schema");
    json_int_t max = json_integer_value(json_object_get(input, "max_tokens"));
    json_t *body = json_object(), *conf;
    int bad = !body;

    max = max > 0 ? max : BEDROCK_MAX_TOKENS;
    bad = bad || json_object_set_new(body, "messages",
                                     llm_turns(json_object_get(input, "messages"), "assistant",
                                               "content", api == BEDROCK_INVOKE));
    if (api == BEDROCK_CONVERSE) {
        conf = json_pack("{s:I}", "maxTokens", max);
        bad = bad || !conf ||
              (json_is_number(temp) &&
               json_object_set_new(conf, "temperature", json_real(json_number_value(temp))));
        bad = bad || json_object_set_new(body, "inferenceConfig", conf);
        if (system) {
            bad = bad || json_object_set_new(body, "system", json_pack("[{s:s}]", "text", system));
        }
    }
    else {
        bad = bad ||
              json_object_set_new(body, "anthropic_version", json_string("bedrock-2023-05-31")) ||
              json_object_set_new(body, "max_tokens", json_integer(max));
        bad = bad || (json_is_number(temp) &&
                      json_object_set_new(body, "temperature", json_real(json_number_value(temp))));
        bad = bad || (system && json_object_set_new(body, "system", json_string(system)));
    }
    if (tool && json_is_object(schema)) {
        bad = bad || add_tool(api, body, schema);
    }
    if (bad) {
        json_decref(body);
        return NULL;
    }
    return body;
}

char *bedrock_url(const char *endpoint, const char *model, enum bedrock_api api)
{
    char *enc = llm_path_encode(model), *url = NULL;

    if (enc && asprintf(&url, "%.*s/model/%s/%s", (int)llm_base_len(endpoint), endpoint, enc,
                        api == BEDROCK_CONVERSE ? "converse" : "invoke") < 0) {
        url = NULL;
    }
    free(enc);
    return url;
}

/* Appends the text of each block, and finds the tool's input. */
static int read_blocks(enum bedrock_api api, const json_t *blocks, FILE *f,
                       const json_t **tool_input)
{
    const json_t *b;
    size_t i;

    json_array_foreach(blocks, i, b) {
        const char *text = json_string_value(json_object_get(b, "text"));
        const json_t *use = api == BEDROCK_CONVERSE ? json_object_get(b, "toolUse") : b;
        const char *type = json_string_value(json_object_get(b, "type"));

        if (text && (api == BEDROCK_CONVERSE || (type && strcmp(type, "text") == 0))) {
            fputs(text, f);
        }
        if ((api == BEDROCK_CONVERSE || (type && strcmp(type, "tool_use") == 0)) &&
            json_object_get(use, "input")) {
            *tool_input = json_object_get(use, "input");
        }
    }
    return WEIR_OK;
}

int bedrock_reply(enum bedrock_api api, const json_t *doc, char **text, const json_t **tool_input,
                  struct llm_usage *usage)
{
    int conv = api == BEDROCK_CONVERSE;
    const json_t *u = json_object_get(doc, "usage");
    const json_t *blocks =
        conv
            ? json_object_get(json_object_get(json_object_get(doc, "output"), "message"), "content")
            : json_object_get(doc, "content");
    const char *stop = json_string_value(json_object_get(doc, conv ? "stopReason" : "stop_reason"));
    size_t len = 0;
    FILE *f;

    *text = NULL;
    *tool_input = NULL;
    usage->input_tokens = llm_usage_count(u, conv ? "inputTokens" : "input_tokens");
    usage->output_tokens = llm_usage_count(u, conv ? "outputTokens" : "output_tokens");
    if (!json_is_array(blocks)) {
        return bedrock_host->error_set(WEIR_EINVALID, "the reply holds no message content (%s)",
                                       api == BEDROCK_CONVERSE ? "output.message.content"
                                                               : "content");
    }
    if (stop && strcmp(stop, "max_tokens") == 0) {
        return bedrock_host->error_set(WEIR_EINVALID,
                                       "the reply was cut off at max_tokens "
                                       "(%lld output tokens); raise max_tokens",
                                       (long long)usage->output_tokens);
    }
    if (stop && (strcmp(stop, "guardrail_intervened") == 0 ||
                 strcmp(stop, "content_filtered") == 0 || strcmp(stop, "refusal") == 0)) {
        return bedrock_host->error_set(WEIR_EINVALID,
                                       "the model declined to answer (stop reason "
                                       "%s)",
                                       stop);
    }
    if (!(f = open_memstream(text, &len))) {
        return bedrock_host->error_set(WEIR_ENOMEM, "out of memory");
    }
    read_blocks(api, blocks, f, tool_input);
    if (fclose(f) != 0 || !*text) {
        free(*text);
        *text = NULL;
        return bedrock_host->error_set(WEIR_ENOMEM, "out of memory");
    }
    return WEIR_OK;
}
