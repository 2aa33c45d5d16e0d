/*
 * webhook_plugin.c - notify.send over an incoming webhook: Slack, Google Chat
 * or plain JSON. The webhook URL is a secret (Slack's and Google Chat's carry
 * their token in the path), so messages name its host only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <weir/weir.h>

static const struct weir_host_api *api;

/* scheme://host[:port] of url, for messages; at most size-1 characters. */
static void url_host(const char *url, char *buf, size_t size)
{
    const char *p = strstr(url, "://"), *end;

    p = p ? p + 3 : url;
    for (end = p; *end && *end != '/' && *end != '?' && *end != '#'; end++) {
    }
    snprintf(buf, size, "%.*s", (int)(end - p), p);
}

static const char *format_of(const char *format, const char *url)
{
    if (format && strcmp(format, "auto") != 0) {
        return format;
    }
    if (strstr(url, "hooks.slack.com")) {
        return "slack";
    }
    if (strstr(url, "chat.googleapis.com")) {
        return "google_chat";
    }
    return "json";
}

/* Slack and Google Chat read <, > and & as markup in message text. */
static void add_escaped(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '<') {
            fputs("&lt;", f);
        }
        else if (*s == '>') {
            fputs("&gt;", f);
        }
        else if (*s == '&') {
            fputs("&amp;", f);
        }
        else {
            fputc(*s, f);
        }
    }
}

/* The chat message: "*title* (STATUS)\ntext\n<link|report>" (both services
 * understand *bold* and <url|label>; a link that is not a URL is shown as text). */
static char *chat_text(const json_t *input)
{
    const char *title = json_string_value(json_object_get(input, "title"));
    const char *status = json_string_value(json_object_get(input, "status"));
    const char *text = json_string_value(json_object_get(input, "text"));
    const char *link = json_string_value(json_object_get(input, "link"));
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    if (!f) {
        return NULL;
    }
    fputs("*", f);
    add_escaped(f, title ? title : "weir");
    fputs("*", f);
    if (status) {
        fputs(" (", f);
        for (const char *p = status; *p; p++) {
            fputc(*p >= 'a' && *p <= 'z' ? *p - 32 : *p, f);
        }
        fputs(")", f);
    }
    fputs("\n", f);
    add_escaped(f, text);
    if (link && (!strncmp(link, "https://", 8) || !strncmp(link, "http://", 7))) {
        fprintf(f, "\n<%s|Open the report>", link);
    }
    else if (link) {
        fputs("\nreport: ", f);
        add_escaped(f, link);
    }
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

static json_t *payload_of(const json_t *input, const char *format)
{
    json_t *p;
    char *text;

    if (!strcmp(format, "json")) {
        return json_pack("{s:O,s:O,s:O,s:O}", "title", json_object_get(input, "title"), "text",
                         json_object_get(input, "text"), "status", json_object_get(input, "status"),
                         "link", json_object_get(input, "link"));
    }
    if ((text = chat_text(input)) == NULL) {
        return NULL;
    }
    p = json_pack("{s:s}", "text", text);
    free(text);
    return p;
}

static int run_send(const json_t *input, json_t **out, weir_ctx *ctx, void *unused)
{
    const char *url = json_string_value(json_object_get(input, "url"));
    const char *format = json_string_value(json_object_get(input, "format"));
    static const char *const headers[] = { "Content-Type: application/json", NULL };
    struct weir_http_request req = { 0 };
    struct weir_http_response resp = { 0 };
    json_t *payload = NULL;
    char *body = NULL, where[256];
    int rc;

    (void)unused;
    if (!WEIR_HOST_HAS(api, http_request)) {
        return api->error_set(WEIR_EVERSION, "notify.send (webhook): this weir has no HTTP "
                                              "client (plugin ABI 1.2 needed)");
    }
    url = url && *url ? url : getenv("WEIR_WEBHOOK_URL");
    if (!url || !*url || (strncmp(url, "https://", 8) && strncmp(url, "http://", 7))) {
        return api->error_set(WEIR_EINVALID, "notify.send (webhook): no webhook URL; set "
                                              "WEIR_WEBHOOK_URL or the target's notify setting url");
    }
    format = format_of(format, url);
    if (strcmp(format, "slack") && strcmp(format, "google_chat") && strcmp(format, "json")) {
        return api->error_set(WEIR_EINVALID, "notify.send (webhook): format '%s' is not one of "
                                              "auto, slack, google_chat, json", format);
    }
    url_host(url, where, sizeof(where));
    if ((payload = payload_of(input, format)) == NULL ||
        (body = json_dumps(payload, JSON_COMPACT)) == NULL) {
        rc = api->error_set(WEIR_ENOMEM, "notify.send (webhook): out of memory");
        goto done;
    }
    req.version = WEIR_HTTP_REQUEST_VERSION;
    req.method = "POST";
    req.url = url;
    req.headers = headers;
    req.body = body;
    req.body_len = strlen(body);
    req.max_response = 64 * 1024;
    req.timeout_ms = (long)json_integer_value(json_object_get(input, "timeout_ms"));
    if ((rc = api->http_request(ctx, &req, &resp)) < 0) {
        char why[512];

        snprintf(why, sizeof(why), "%s", api->error_last()); /* error_set overwrites it */
        rc = api->error_set(rc, "notify.send (webhook): posting to %s failed: %s", where, why);
        goto done;
    }
    if (resp.status < 200 || resp.status > 299) {
        rc = api->error_set(WEIR_ERROR, "notify.send (webhook): %s answered HTTP %ld after %d "
                                         "attempt(s): %.200s", where, resp.status, resp.attempts,
                             resp.body ? resp.body : "");
        goto done;
    }
    *out = json_pack("{s:s,s:s,s:i,s:i}", "host", where, "format", format, "http_status",
                     (int)resp.status, "attempts", resp.attempts);
    rc = *out ? WEIR_OK : api->error_set(WEIR_ENOMEM, "notify.send (webhook): out of memory");
done:
    api->http_response_free(&resp);
    json_decref(payload);
    free(body);
    return rc;
}

static const struct weir_param_desc send_params[] = {
    { "text", WEIR_PARAM_STRING, 1, NULL, "the message" },
    { "title", WEIR_PARAM_STRING, 0, "\"weir\"", "first line, in bold" },
    { "status", WEIR_PARAM_STRING, 0, "null", "ok, warn or error, shown after the title" },
    { "link", WEIR_PARAM_STRING, 0, "null", "a report: a URL becomes a link, anything else text" },
    { "url", WEIR_PARAM_STRING, 0, "null",
      "the incoming webhook URL (a secret: keep it in the environment); default env "
      "WEIR_WEBHOOK_URL" },
    { "format", WEIR_PARAM_STRING, 0, "\"auto\"",
      "slack, google_chat or json; auto picks from the URL's host (json otherwise)" },
    { "timeout_ms", WEIR_PARAM_INTEGER, 0, "10000", "per attempt" },
    { NULL, WEIR_PARAM_ANY, 0, NULL, NULL },
};

WEIR_PLUGIN_ENTRY(webhook)
{
    struct weir_plugin_info info = WEIR_PLUGIN_INFO_INIT;
    struct weir_step_desc send = { WEIR_STEP_DESC_VERSION, "send", "notify",
                                   "posts a summary to a Slack, Google Chat or JSON webhook",
                                   send_params, run_send, NULL };
    int rc;

    WEIR_PLUGIN_CHECK_ABI(host);
    api = host;
    info.description = "notify service: incoming webhooks (Slack, Google Chat, JSON)";
    info.plugin_version = "0.1.0";
    if ((rc = host->plugin_describe(reg, &info)) < 0) {
        return rc;
    }
    return host->step_register(reg, &send);
}
