/*
 * file_plugin.c - notify.send on one machine: one JSON line per message
 * appended to <workspace>/notifications.jsonl, and the message on stderr, so
 * a scheduler's log has it and a tool can tail the file. No network.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <weir/weir.h>

static const struct weir_host_api *api;

static int run_send(const json_t *input, json_t **out, weir_ctx *ctx, void *unused)
{
    const char *ws = api->ctx_get(ctx, "workspace");
    const char *name = json_string_value(json_object_get(input, "file"));
    json_t *line = json_pack("{s:O,s:O,s:O,s:O,s:s?}", "title", json_object_get(input, "title"),
                             "status", json_object_get(input, "status"), "text",
                             json_object_get(input, "text"), "link", json_object_get(input, "link"),
                             "date", api->ctx_get(ctx, "run.date"));
    char *text = line ? json_dumps(line, JSON_COMPACT | JSON_SORT_KEYS) : NULL, *path = NULL;
    int fd = -1, rc;
    size_t len;

    (void)unused;
    if (!text || asprintf(&path, "%s/%s", name[0] == '/' || !ws ? "" : ws, name) < 0) {
        path = NULL;
        rc = api->error_set(WEIR_ENOMEM, "notify.send (file): out of memory");
        goto done;
    }
    if (ws && name[0] != '/') {
        (void)mkdir(ws, 0755); /* a workspace no run has used yet; exists: fine */
    }
    len = strlen(text);
    text[len++] = '\n'; /* json_dumps left room: the NUL becomes the newline */
    /* O_APPEND: one write per line, so concurrent runs never interleave lines */
    if ((fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) < 0 ||
        write(fd, text, len) != (ssize_t)len) {
        rc = api->error_set(WEIR_EIO, "notify.send (file): cannot append to %s: %s", path,
                            strerror(errno));
        goto done;
    }
    fprintf(stderr, "[notify] %s%s%s: %s\n", json_string_value(json_object_get(input, "title")),
            json_is_string(json_object_get(input, "status")) ? " " : "",
            json_is_string(json_object_get(input, "status"))
                ? json_string_value(json_object_get(input, "status"))
                : "",
            json_string_value(json_object_get(input, "text")));
    *out = json_pack("{s:s}", "path", path);
    rc = *out ? WEIR_OK : api->error_set(WEIR_ENOMEM, "notify.send (file): out of memory");
done:
    if (fd >= 0) {
        close(fd);
    }
    json_decref(line);
    free(text);
    free(path);
    return rc;
}

static const struct weir_param_desc send_params[] = {
    { "text", WEIR_PARAM_STRING, 1, NULL, "the message" },
    { "title", WEIR_PARAM_STRING, 0, "\"weir\"", "a short title" },
    { "status", WEIR_PARAM_STRING, 0, "null", "ok, warn or error" },
    { "link", WEIR_PARAM_STRING, 0, "null", "a report's URI or URL" },
    { "file", WEIR_PARAM_STRING, 0, "\"notifications.jsonl\"",
      "the file appended to, relative to the workspace" },
    { NULL, WEIR_PARAM_ANY, 0, NULL, NULL },
};

WEIR_PLUGIN_ENTRY(file)
{
    struct weir_plugin_info info = WEIR_PLUGIN_INFO_INIT;
    struct weir_step_desc send = { WEIR_STEP_DESC_VERSION, "send", "notify",
                                   "appends a message to <workspace>/notifications.jsonl and "
                                   "prints it on stderr",
                                   send_params, run_send, NULL };
    int rc;

    WEIR_PLUGIN_CHECK_ABI(host);
    api = host;
    info.description = "notify service on one machine: a JSON-lines file and stderr";
    info.plugin_version = "0.1.0";
    if ((rc = host->plugin_describe(reg, &info)) < 0) {
        return rc;
    }
    return host->step_register(reg, &send);
}
