/*
 * step_shell.c - core.shell: runs a command given as an argv array, without
 * a shell, so values from expressions can never be interpreted as shell
 * syntax. This file turns params into a shell_spec and the outcome into the
 * step's output; shell_proc.c runs the process.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shell.h"

#define DEFAULT_MAX_OUTPUT 1048576
/* The part of stderr quoted in a failure message. */
#define STDERR_QUOTE_MAX 300

static const struct weir_param_desc shell_params[] = {
    { "argv", WEIR_PARAM_ARRAY, 1, NULL,
      "the command and its arguments, run without a shell, e.g. [\"python3\", \"etl.py\", \"--day\", "
      "\"2024-05-01\"]" },
    { "cwd", WEIR_PARAM_STRING, 0, NULL,
      "working directory; a relative one is relative to the project directory (default: the project "
      "directory)" },
    { "env", WEIR_PARAM_OBJECT, 0, NULL,
      "extra environment variables; otherwise the command sees only PATH, HOME and LANG" },
    { "stdin", WEIR_PARAM_STRING, 0, NULL, "text written to the command's standard input (default: none)" },
    { "timeout_ms", WEIR_PARAM_INTEGER, 0, "0",
      "kill the command's process group after this many ms; 0 means at the step's timeout" },
    { "max_output_bytes", WEIR_PARAM_INTEGER, 0, "1048576",
      "bytes kept of stdout and of stderr, each; the rest is dropped and `truncated` is set" },
    { "check", WEIR_PARAM_BOOLEAN, 0, "true",
      "fail the step when the command exits with a non-zero status" },
    { NULL, WEIR_PARAM_ANY, 0, NULL, NULL },
};

/* ---- params to spec ----------------------------------------------------- */

static void strv_free(char **v)
{
    for (size_t i = 0; v && v[i]; i++) {
        core_host->free(v[i]);
    }
    core_host->free(v);
}

static char **strv_new(size_t n)
{
    char **v = core_host->malloc((n + 1) * sizeof(*v));

    if (v) {
        memset(v, 0, (n + 1) * sizeof(*v));
    }
    return v;
}

/* A string as is; a number or boolean as written in YAML, so that
 * `argv: [sleep, 5]` and `env: {THREADS: 4}` work. NULL for anything else. */
static char *scalar_text(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_STRING:
        return core_strdup(json_string_value(v));
    case JSON_INTEGER:
        return core_printf("%lld", (long long)json_integer_value(v));
    case JSON_REAL:
        return core_printf("%.15g", json_real_value(v));
    case JSON_TRUE:
        return core_strdup("true");
    case JSON_FALSE:
        return core_strdup("false");
    default:
        return NULL;
    }
}

static int not_scalar(const char *what, const json_t *v)
{
    if (json_is_string(v) || json_is_number(v) || json_is_boolean(v)) {
        return core_host->error_set(WEIR_ENOMEM, "core.shell: out of memory");
    }
    return core_host->error_set(WEIR_EINVALID, "core.shell: %s must be a string (or a number or boolean)",
                                what);
}

static int build_argv(const json_t *args, char ***out)
{
    size_t n = json_array_size(args);
    char **argv = NULL;
    char what[64];
    int rc = WEIR_OK;

    if (n == 0) {
        return core_host->error_set(WEIR_EINVALID, "core.shell: param 'argv' must be a non-empty array, "
                                    "e.g. [\"ls\", \"-l\"]");
    }
    if ((argv = strv_new(n)) == NULL) {
        return core_host->error_set(WEIR_ENOMEM, "core.shell: out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        if ((argv[i] = scalar_text(json_array_get(args, i))) == NULL) {
            snprintf(what, sizeof(what), "argv[%zu]", i);
            rc = not_scalar(what, json_array_get(args, i));
            goto done;
        }
    }
    *out = argv;
    argv = NULL;

done:
    strv_free(argv);
    return rc;
}

static int add_env(char **envp, size_t *n, const char *name, const json_t *value)
{
    char *text;

    if (!*name || strchr(name, '=')) {
        return core_host->error_set(WEIR_EINVALID, "core.shell: env name '%s' is not a valid variable "
                                    "name", name);
    }
    if ((text = scalar_text(value)) == NULL) {
        return not_scalar("each env value", value);
    }
    envp[*n] = core_printf("%s=%s", name, text);
    core_host->free(text);
    if (!envp[*n]) {
        return core_host->error_set(WEIR_ENOMEM, "core.shell: out of memory");
    }
    (*n)++;
    return WEIR_OK;
}

/* The minimal environment: PATH, HOME and LANG from weir's own, unless env
 * sets them, then env. Nothing else leaks from the parent (credentials!). */
static int build_env(const json_t *env, char ***out)
{
    static const char *const inherited[] = { "PATH", "HOME", "LANG" };
    char **envp = strv_new(3 + json_object_size(env));
    const char *name;
    json_t *value;
    size_t n = 0;
    int rc = WEIR_OK;

    if (!envp) {
        return core_host->error_set(WEIR_ENOMEM, "core.shell: out of memory");
    }
    for (size_t i = 0; i < 3; i++) {
        const char *v = getenv(inherited[i]);
        if (v && !json_object_get(env, inherited[i]) && (envp[n++] = core_printf("%s=%s", inherited[i], v)) == NULL) {
            rc = core_host->error_set(WEIR_ENOMEM, "core.shell: out of memory");
            goto done;
        }
    }
    json_object_foreach((json_t *)env, name, value) {
        if ((rc = add_env(envp, &n, name, value)) < 0) {
            goto done;
        }
    }
    *out = envp;
    envp = NULL;

done:
    strv_free(envp);
    return rc;
}

/* The given cwd against the project directory; without one, the project directory itself. */
static int build_cwd(const json_t *input, weir_ctx *ctx, char **out)
{
    const char *cwd = core_param_string(input, "cwd", NULL);
    const char *project = core_ctx_get(ctx, "project", NULL);

    if (cwd && *cwd) {
        return core_path_resolve(ctx, cwd, out);
    }
    if (project && *project && (*out = core_strdup(project)) == NULL) {
        return core_host->error_set(WEIR_ENOMEM, "core.shell: out of memory");
    }
    return WEIR_OK;
}

static int read_limits(const json_t *input, struct shell_spec *spec)
{
    json_int_t timeout = core_param_int(input, "timeout_ms", 0);
    json_int_t max = core_param_int(input, "max_output_bytes", DEFAULT_MAX_OUTPUT);

    if (timeout < 0) {
        return core_host->error_set(WEIR_EINVALID, "core.shell: param 'timeout_ms' must be >= 0, got %lld",
                                    (long long)timeout);
    }
    if (max < 0) {
        return core_host->error_set(WEIR_EINVALID,
                                    "core.shell: param 'max_output_bytes' must be >= 0, got %lld",
                                    (long long)max);
    }
    spec->timeout_ms = timeout;
    spec->max_output = (size_t)max;
    return WEIR_OK;
}

static void spec_free(struct shell_spec *spec)
{
    strv_free(spec->argv);
    strv_free(spec->envp);
    core_host->free(spec->cwd);
}

static int spec_from_input(const json_t *input, weir_ctx *ctx, struct shell_spec *spec)
{
    const json_t *in = core_param(input, "stdin");
    int rc;

    if ((rc = build_argv(core_param(input, "argv"), &spec->argv)) < 0 ||
        (rc = build_env(core_param(input, "env"), &spec->envp)) < 0 ||
        (rc = build_cwd(input, ctx, &spec->cwd)) < 0 || (rc = read_limits(input, spec)) < 0) {
        return rc;
    }
    spec->input = json_string_value(in);
    spec->input_len = json_string_length(in);
    return WEIR_OK;
}

/* ---- outcome to output -------------------------------------------------- */

/* Length of the well-formed UTF-8 sequence at s, or 0 if it is not one. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned int cp;
    size_t len;

    if (s[0] < 0x80) {
        return 1;
    }
    if (s[0] >= 0xC2 && s[0] <= 0xDF) {
        len = 2;
        cp = s[0] & 0x1Fu;
    }
    else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
        len = 3;
        cp = s[0] & 0x0Fu;
    }
    else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
        len = 4;
        cp = s[0] & 0x07u;
    }
    else {
        return 0;
    }
    for (size_t i = 1; i < len; i++) {
        if (i >= n || (s[i] & 0xC0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (s[i] & 0x3Fu);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10FFFF))) {
        return 0;
    }
    return len;
}

/* A JSON string of the output; bytes that are not UTF-8 (binary output, a
 * character cut by truncation) become U+FFFD, since JSON strings cannot hold them. */
static json_t *text_value(const struct shell_buf *b)
{
    const unsigned char *s = (const unsigned char *)b->data;
    char *clean;
    size_t n = 0, step;
    json_t *v;

    for (size_t i = 0; i < b->len && (step = utf8_seq(s + i, b->len - i)) != 0; i += step) {
        n = i + step;
    }
    if (n == b->len) {
        return json_stringn(b->len ? b->data : "", b->len);
    }
    if ((clean = core_host->malloc(b->len * 3)) == NULL) {
        return NULL;
    }
    n = 0;
    for (size_t i = 0; i < b->len; i += step ? step : 1) {
        step = utf8_seq(s + i, b->len - i);
        memcpy(clean + n, step ? (const char *)s + i : "\xEF\xBF\xBD", step ? step : 3);
        n += step ? step : 3;
    }
    v = json_stringn(clean, n);
    core_host->free(clean);
    return v;
}

static json_t *result_json(const struct shell_result *res)
{
    json_t *out = json_object();

    if (!out || json_object_set_new(out, "exit_code", json_integer(res->exit_code)) < 0 ||
        json_object_set_new(out, "stdout", text_value(&res->out)) < 0 ||
        json_object_set_new(out, "stderr", text_value(&res->err)) < 0 ||
        json_object_set_new(out, "truncated", json_boolean(res->out.truncated || res->err.truncated)) < 0 ||
        json_object_set_new(out, "duration_ms", json_integer(res->duration_ms)) < 0) {
        json_decref(out);
        return NULL;
    }
    return out;
}

/* The first non-empty line of stderr, for the failure message. */
static int first_line(const struct shell_buf *b, const char **line)
{
    size_t start = 0, end;

    while (start < b->len && (b->data[start] == '\n' || b->data[start] == '\r')) {
        start++;
    }
    for (end = start; end < b->len && b->data[end] != '\n' && b->data[end] != '\r'; end++) {
    }
    *line = b->data ? b->data + start : "";
    return (int)(end - start < STDERR_QUOTE_MAX ? end - start : STDERR_QUOTE_MAX);
}

static int exit_error(const struct shell_spec *spec, const struct shell_result *res)
{
    const char *line;
    int len = first_line(&res->err, &line);

    if (res->signal) {
        return core_host->error_set(WEIR_ERROR, "core.shell: '%s' was killed by signal %d%s%.*s",
                                    spec->argv[0], res->signal, len ? ": " : "", len, line);
    }
    if (len == 0) {
        return core_host->error_set(WEIR_ERROR, "core.shell: '%s' exited with status %d and printed "
                                    "nothing on stderr; set check: false to inspect its output",
                                    spec->argv[0], res->exit_code);
    }
    return core_host->error_set(WEIR_ERROR, "core.shell: '%s' exited with status %d: %.*s", spec->argv[0],
                                res->exit_code, len, line);
}

static int run_shell(const json_t *input, json_t **out, weir_ctx *ctx, void *payload)
{
    struct shell_spec spec;
    struct shell_result res;
    int rc;

    (void)payload;
    memset(&spec, 0, sizeof(spec));
    memset(&res, 0, sizeof(res));
    if ((rc = spec_from_input(input, ctx, &spec)) < 0 || (rc = core_shell_exec(&spec, ctx, &res)) < 0) {
        goto done;
    }
    if (res.exit_code != 0 && core_param_bool(input, "check", 1)) {
        rc = exit_error(&spec, &res);
        goto done;
    }
    if ((*out = result_json(&res)) == NULL) {
        rc = core_host->error_set(WEIR_ENOMEM, "core.shell: out of memory");
    }

done:
    spec_free(&spec);
    core_shell_result_free(&res);
    return rc;
}

const struct weir_step_desc core_step_shell = {
    .version = WEIR_STEP_DESC_VERSION,
    .name = "shell",
    .description = "runs a command (argv array, no shell); returns {exit_code, stdout, stderr, "
                   "truncated, duration_ms}",
    .params = shell_params,
    .run = run_shell,
};
