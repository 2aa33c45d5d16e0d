/*
 * llm_common.c - request-side helpers shared by the model providers:
 * message checks, the system prompt, settings, HTTP status mapping.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "llm_common.h"

#define JSON_ONLY                                                                               \
    "Reply with exactly one JSON object that follows the requested schema: no prose before or " \
    "after it and no Markdown code fences."

int llm_need_http(const struct weir_host_api *host, const char *op)
{
    if (WEIR_HOST_HAS(host, http_request) && WEIR_HOST_HAS(host, http_response_free)) {
        return WEIR_OK;
    }
    return host->error_set(WEIR_EVERSION,
                           "%s: this weir host has no HTTP client (host API 1.2 http_request); "
                           "run it with a weir built with HTTP support",
                           op);
}

int llm_messages_check(const struct weir_host_api *host, const char *op, const json_t *messages)
{
    size_t i, turns = 0;
    const json_t *m;

    if (!json_is_array(messages) || json_array_size(messages) == 0) {
        return host->error_set(WEIR_EINVALID,
                               "%s: param 'messages' must be a non-empty array of "
                               "{role, content}",
                               op);
    }
    json_array_foreach(messages, i, m) {
        const char *role = json_string_value(json_object_get(m, "role"));

        if (!role || (strcmp(role, "system") != 0 && strcmp(role, "user") != 0 &&
                      strcmp(role, "assistant") != 0)) {
            return host->error_set(WEIR_EINVALID,
                                   "%s: messages[%zu].role must be \"system\", "
                                   "\"user\" or \"assistant\"",
                                   op, i);
        }
        if (!json_is_string(json_object_get(m, "content"))) {
            return host->error_set(WEIR_EINVALID, "%s: messages[%zu].content must be a string", op,
                                   i);
        }
        turns += strcmp(role, "system") != 0;
    }
    if (turns == 0) {
        return host->error_set(WEIR_EINVALID,
                               "%s: messages hold only system messages; add a "
                               "user message",
                               op);
    }
    return WEIR_OK;
}

int llm_system_text(const struct weir_host_api *host, const char *op, const json_t *messages,
                    int ask_json, char **text)
{
    char *buf = NULL;
    size_t len = 0, i;
    const json_t *m;
    FILE *f = open_memstream(&buf, &len);

    *text = NULL;
    if (!f) {
        return host->error_set(WEIR_ENOMEM, "%s: out of memory", op);
    }
    json_array_foreach(messages, i, m) {
        if (strcmp(json_string_value(json_object_get(m, "role")), "system") == 0) {
            fprintf(f, "%s%s", len ? "\n\n" : "", json_string_value(json_object_get(m, "content")));
            fflush(f);
        }
    }
    if (ask_json) {
        fprintf(f, "%s%s", len ? "\n\n" : "", JSON_ONLY);
    }
    if (fclose(f) != 0 || !buf) {
        free(buf);
        return host->error_set(WEIR_ENOMEM, "%s: out of memory", op);
    }
    if (len == 0) {
        free(buf);
        return WEIR_OK;
    }
    *text = buf;
    return WEIR_OK;
}

const char *llm_setting(const json_t *input, const char *param, const char *env,
                        const char *fallback)
{
    const char *v = json_string_value(json_object_get(input, param));

    if (v && *v) {
        return v;
    }
    v = env ? getenv(env) : NULL;
    return v && *v ? v : fallback;
}

static json_t *text_block(const char *text, int typed)
{
    return typed ? json_pack("{s:s, s:s}", "type", "text", "text", text)
                 : json_pack("{s:s}", "text", text);
}

json_t *llm_turns(const json_t *messages, const char *assistant, const char *list, int typed)
{
    json_t *out = json_array(), *last = NULL;
    const char *last_role = "";
    const json_t *m;
    size_t i;

    json_array_foreach(messages, i, m) {
        const char *role = json_string_value(json_object_get(m, "role"));
        const char *text = json_string_value(json_object_get(m, "content"));

        if (!out || !role || !text || strcmp(role, "system") == 0) {
            continue;
        }
        role = strcmp(role, "assistant") == 0 ? assistant : "user";
        if (strcmp(role, last_role) != 0) {
            last = json_pack("{s:s, s:[]}", "role", role, list);
            if (!last || json_array_append_new(out, last) < 0) {
                json_decref(out);
                return NULL;
            }
            last_role = role;
        }
        json_array_append_new(json_object_get(last, list), text_block(text, typed));
    }
    return out;
}

json_int_t llm_usage_count(const json_t *usage, const char *key)
{
    const json_t *v = json_object_get(usage, key);

    return json_is_integer(v) ? json_integer_value(v) : -1;
}

char *llm_path_encode(const char *s)
{
    char *out = malloc(strlen(s) * 3 + 1), *o = out;

    for (const unsigned char *p = (const unsigned char *)s; out && *p; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '_' || *p == '.' || *p == '~') {
            *o++ = (char)*p;
        }
        else {
            o += sprintf(o, "%%%02X", *p);
        }
    }
    if (out) {
        *o = '\0';
    }
    return out;
}

size_t llm_base_len(const char *base)
{
    size_t n = strlen(base);

    while (n > 0 && base[n - 1] == '/') {
        n--;
    }
    return n;
}

int64_t llm_now_ms(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Copies s into out (bounded), with control characters as spaces and runs of
 * 24+ token characters (keys, signatures) masked, so a server that echoes a
 * credential cannot leak it through an error message. */
static void scrub(const char *s, char *out, size_t cap)
{
    size_t o = 0;

    while (s && *s && o + 12 < cap) {
        size_t run = 0;

        while (isalnum((unsigned char)s[run]) || s[run] == '-' || s[run] == '_') {
            run++;
        }
        if (run >= 24) {
            o += (size_t)snprintf(out + o, cap - o, "[masked]");
            s += run;
            continue;
        }
        if (run == 0) {
            run = 1;
        }
        for (size_t k = 0; k < run && o + 12 < cap; k++, s++) {
            out[o++] = iscntrl((unsigned char)*s) ? ' ' : *s;
        }
    }
    out[o] = '\0';
}

/* The provider's error code and message from the body or headers. */
static void error_parts(const struct weir_http_response *resp, const char **code, const char **msg,
                        json_t **doc)
{
    const json_t *err;

    *doc = resp->body ? json_loadb(resp->body, resp->body_len, 0, NULL) : NULL;
    err = json_object_get(*doc, "error");
    *code = json_string_value(json_object_get(resp->headers, "x-amzn-errortype"));
    if (!*code) {
        *code = json_string_value(json_object_get(err, "status"));
    }
    if (!*code) {
        *code = json_string_value(json_object_get(err, "type"));
    }
    if (!*code) {
        *code = json_string_value(json_object_get(err, "code"));
    }
    if (!*code) {
        *code = json_string_value(json_object_get(*doc, "__type"));
    }
    *msg = json_string_value(json_object_get(err, "message"));
    if (!*msg) {
        *msg = json_is_string(err) ? json_string_value(err) : NULL;
    }
    if (!*msg) {
        *msg = json_string_value(json_object_get(*doc, "message"));
    }
    if (!*msg) {
        *msg = json_string_value(json_object_get(*doc, "Message"));
    }
}

static int status_code(long status)
{
    switch (status) {
    case 401:
    case 403: return WEIR_EDENIED;
    case 404: return WEIR_ENOTFOUND;
    case 400:
    case 413:
    case 422: return WEIR_EINVALID;
    case 408: return WEIR_ETIMEOUT;
    default: return WEIR_EIO;
    }
}

int llm_http_status(const struct weir_host_api *host, const char *op,
                    const struct weir_http_response *resp, const char *hint)
{
    char code[96], msg[LLM_EXCERPT + 16];
    const char *c, *m;
    json_t *doc;
    int rc;

    if (resp->status >= 200 && resp->status < 300) {
        return WEIR_OK;
    }
    error_parts(resp, &c, &m, &doc);
    scrub(c, code, sizeof(code));
    scrub(m, msg, sizeof(msg));
    rc = status_code(resp->status);
    /* Gemini answers a bad key with 400 INVALID_ARGUMENT */
    if (resp->status == 400 && m && strstr(m, "API key")) {
        rc = WEIR_EDENIED;
    }
    if (resp->status == 429) {
        rc = host->error_set(rc,
                             "%s: rate limited (HTTP 429%s%s) after %d attempt(s)%s%s; lower "
                             "the request rate or raise the quota",
                             op, *code ? " " : "", code, resp->attempts, *msg ? ": " : "", msg);
    }
    else {
        rc =
            host->error_set(rc, "%s: HTTP %ld%s%s%s%s; %s", op, resp->status, *code ? " " : "",
                            code, *msg ? ": " : "", msg,
                            rc == WEIR_EDENIED ? hint
                            : rc == WEIR_EIO   ? "the provider failed; try again later"
                                             : "check the model name, the endpoint and the params");
    }
    json_decref(doc);
    return rc;
}
