/*
 * gemini_wire.c - generateContent bodies and replies, and the JSON Schema
 * to OpenAPI-subset conversion responseSchema needs. Gemini rejects unknown
 * schema keywords, so the conversion keeps an allow-list rather than
 * dropping a deny-list.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gemini.h"

static const char *const kept[] = { "description", "minItems", "maxItems", "minimum",
                                    "maximum",     "title",    NULL };

/* The node a local $ref names, or NULL. */
static const json_t *resolve(const json_t *root, const char *ref)
{
    char part[128];
    const json_t *at = root;

    if (strncmp(ref, "#/", 2) != 0) {
        return NULL;
    }
    for (ref += 2; at && *ref;) {
        size_t n = strcspn(ref, "/");

        if (n >= sizeof(part)) {
            return NULL;
        }
        memcpy(part, ref, n);
        part[n] = '\0';
        at = json_object_get(at, part);
        ref += n + (ref[n] == '/');
    }
    return at;
}

static json_t *upper(const char *type)
{
    char buf[16];
    size_t i;

    for (i = 0; type[i] && i + 1 < sizeof(buf); i++) {
        buf[i] = (char)toupper((unsigned char)type[i]);
    }
    buf[i] = '\0';
    return json_string(buf);
}

/* type, or the first non-null of a type list, plus nullable. */
static int conv_type(const json_t *s, json_t *out)
{
    const json_t *t = json_object_get(s, "type"), *e;
    size_t i;
    int bad = 0;

    if (json_is_string(t) && strcmp(json_string_value(t), "null") != 0) {
        return json_object_set_new(out, "type", upper(json_string_value(t)));
    }
    json_array_foreach(t, i, e) {
        if (!json_is_string(e)) {
            continue;
        }
        if (strcmp(json_string_value(e), "null") == 0) {
            bad = bad || json_object_set_new(out, "nullable", json_true());
        }
        else if (!json_object_get(out, "type")) {
            bad = bad || json_object_set_new(out, "type", upper(json_string_value(e)));
        }
    }
    return bad;
}

static json_t *conv(const json_t *root, const json_t *s, int depth);

static int conv_children(const json_t *root, const json_t *s, json_t *out, int depth)
{
    const json_t *props = json_object_get(s, "properties"), *p,
                 *req = json_object_get(s, "required");
    json_t *np = json_object(), *nr = json_array();
    const char *k;
    size_t i;
    int bad = !np || !nr;

    json_object_foreach((json_t *)props, k, p) {
        json_t *c = conv(root, p, depth + 1);

        bad = bad || !c || json_object_set_new(np, k, c);
    }
    json_array_foreach(req, i, p) {
        if (json_is_string(p) && json_object_get(props, json_string_value(p))) {
            bad = bad || json_array_append(nr, (json_t *)p);
        }
    }
    if (!bad && json_object_size(np) > 0) {
        bad = json_object_set(out, "properties", np) ||
              (json_array_size(nr) > 0 && json_object_set(out, "required", nr));
    }
    if (!bad && json_is_object(json_object_get(s, "items"))) {
        json_t *c = conv(root, json_object_get(s, "items"), depth + 1);

        bad = !c || json_object_set_new(out, "items", c);
    }
    json_decref(np);
    json_decref(nr);
    return bad;
}

/* enum stays only when every value is a string (Gemini enums are strings). */
static int conv_enum(const json_t *s, json_t *out)
{
    const json_t *en = json_object_get(s, "enum"), *e;
    size_t i;

    if (!json_is_array(en) || json_array_size(en) == 0) {
        return 0;
    }
    json_array_foreach(en, i, e) {
        if (!json_is_string(e)) {
            return 0;
        }
    }
    return json_object_set(out, "enum", (json_t *)en) ||
           (!json_object_get(out, "type") &&
            json_object_set_new(out, "type", json_string("STRING")));
}

static json_t *conv(const json_t *root, const json_t *s, int depth)
{
    const char *ref = json_string_value(json_object_get(s, "$ref"));
    json_t *out;
    int bad;

    if (depth > GEMINI_SCHEMA_DEPTH) {
        return NULL;
    }
    if (ref && resolve(root, ref)) {
        return conv(root, resolve(root, ref), depth + 1);
    }
    if (!(out = json_object())) {
        return NULL;
    }
    bad = conv_type(s, out) || conv_enum(s, out) || conv_children(root, s, out, depth);
    for (size_t i = 0; !bad && kept[i]; i++) {
        json_t *v = json_object_get(s, kept[i]);

        bad = v && json_object_set(out, kept[i], v);
    }
    if (bad) {
        json_decref(out);
        return NULL;
    }
    return out;
}

json_t *gemini_schema(const json_t *schema)
{
    return conv(schema, schema, 0);
}

static int add_schema(json_t *conf, const json_t *schema, int openapi)
{
    json_t *conv = openapi ? gemini_schema(schema) : json_deep_copy(schema);

    return !conv ||
           json_object_set_new(conf, "responseMimeType", json_string("application/json")) ||
           json_object_set_new(conf, openapi ? "responseSchema" : "responseJsonSchema", conv);
}

json_t *gemini_body(const json_t *input, const char *system, int openapi)
{
    const json_t *temp = json_object_get(input, "temperature");
    const json_t *max = json_object_get(input, "max_tokens");
    const json_t *schema = json_object_get(input, "json_schema");
    json_t *body = json_pack("{s:o}", "contents",
                             llm_turns(json_object_get(input, "messages"), "model", "parts", 0));
    json_t *conf = json_object();
    int bad = !body || !conf;

    bad = bad || (system && json_object_set_new(body, "systemInstruction",
                                                json_pack("{s:[{s:s}]}", "parts", "text", system)));
    bad = bad || (json_is_number(temp) &&
                  json_object_set_new(conf, "temperature", json_real(json_number_value(temp))));
    bad = bad ||
          (json_is_integer(max) &&
           json_object_set_new(conf, "maxOutputTokens", json_integer(json_integer_value(max))));
    bad = bad || (json_is_object(schema) && add_schema(conf, schema, openapi));
    bad = bad || json_object_set(body, "generationConfig", conf);
    json_decref(conf);
    if (bad) {
        json_decref(body);
        return NULL;
    }
    return body;
}

char *gemini_url(const char *base, const char *model)
{
    size_t n = llm_base_len(base);
    char *enc = llm_path_encode(model + (strncmp(model, "models/", 7) == 0 ? 7 : 0)), *url = NULL;

    /* a base that already names the API version is taken as is */
    n -= n >= 7 && strncmp(base + n - 7, "/v1beta", 7) == 0 ? 7 : 0;
    if (enc && asprintf(&url, "%.*s/v1beta/models/%s:generateContent", (int)n, base, enc) < 0) {
        url = NULL;
    }
    free(enc);
    return url;
}

int gemini_reply(const json_t *doc, char **text, struct llm_usage *usage)
{
    const json_t *cand = json_array_get(json_object_get(doc, "candidates"), 0), *part;
    const char *finish = json_string_value(json_object_get(cand, "finishReason"));
    const char *blocked =
        json_string_value(json_object_get(json_object_get(doc, "promptFeedback"), "blockReason"));
    size_t i, len = 0;
    FILE *f;

    *text = NULL;
    usage->input_tokens =
        llm_usage_count(json_object_get(doc, "usageMetadata"), "promptTokenCount");
    usage->output_tokens =
        llm_usage_count(json_object_get(doc, "usageMetadata"), "candidatesTokenCount");
    if (!cand) {
        return gemini_host->error_set(WEIR_EINVALID, "no candidate in the reply%s%s",
                                      blocked ? ": the prompt was blocked, " : "",
                                      blocked ? blocked : "");
    }
    if (finish && strcmp(finish, "STOP") != 0) {
        return gemini_host->error_set(
            WEIR_EINVALID,
            "the reply stopped early (finishReason "
            "%s)%s",
            finish, strcmp(finish, "MAX_TOKENS") == 0 ? "; raise max_tokens" : "");
    }
    if (!(f = open_memstream(text, &len))) {
        return gemini_host->error_set(WEIR_ENOMEM, "out of memory");
    }
    json_array_foreach(json_object_get(json_object_get(cand, "content"), "parts"), i, part) {
        if (!json_is_true(json_object_get(part, "thought")) &&
            json_is_string(json_object_get(part, "text"))) {
            fputs(json_string_value(json_object_get(part, "text")), f);
        }
    }
    if (fclose(f) != 0 || !*text) {
        free(*text);
        *text = NULL;
        return gemini_host->error_set(WEIR_ENOMEM, "out of memory");
    }
    return WEIR_OK;
}

int gemini_schema_fits(const json_t *conv)
{
    const char *type = json_string_value(json_object_get(conv, "type"));
    const json_t *props = json_object_get(conv, "properties"), *p;
    const char *k;

    if (type && strcmp(type, "OBJECT") == 0 && json_object_size(props) == 0) {
        return 0;
    }
    json_object_foreach((json_t *)props, k, p) {
        if (!gemini_schema_fits(p)) {
            return 0;
        }
    }
    return !json_object_get(conv, "items") || gemini_schema_fits(json_object_get(conv, "items"));
}
