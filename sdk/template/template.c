/*
 * template.c - an example weir plugin with two steps, written to be copied.
 *
 *   template.greet   builds a greeting from `name` (and `shout`)
 *   template.tag     stamps every record of a list with the run id, checking
 *                    for timeout and cancellation between records
 *
 * A plugin includes <weir/weir.h> and system headers only. It never links
 * against the weir binary: everything it needs from the host comes through the
 * function table passed to its entry, so one .so works with every weir that
 * has the same ABI major.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <weir/weir.h>

/*
 * The host table, kept from the entry. Steps need it for errors, logging and
 * allocation; the entry runs once, before any step, so a file-scope pointer
 * set there is safe to read from the worker threads that run steps later.
 */
static const struct weir_host_api *host;

/* ------------------------------------------------------------------ */
/* template.greet                                                      */

/*
 * Declared params are the plugin's contract with pipeline authors: the host
 * rejects unknown keys, reports a missing required param before anything runs,
 * fills in defaults and checks types, and `weir plugin describe template`
 * prints this table. So a run callback may rely on types and defaults
 * instead of re-validating them. Defaults are JSON text.
 */
static const struct weir_param_desc greet_params[] = {
    { "name", WEIR_PARAM_STRING, 1, NULL, "who to greet" },
    { "shout", WEIR_PARAM_BOOLEAN, 0, "false", "upper-case the whole greeting" },
    { NULL, WEIR_PARAM_ANY, 0, NULL, NULL },
};

static int run_greet(const json_t *input, json_t **out, weir_ctx *ctx, void *payload)
{
    /* The host checked both params, so these cannot be NULL or mistyped. */
    const char *name = json_string_value(json_object_get(input, "name"));
    int shout = json_is_true(json_object_get(input, "shout"));
    size_t size;
    char *text;

    (void)payload;
    if (*name == '\0') {
        /* Types cannot say "non-empty": the message says what, where, and what to do. */
        return host->error_set(WEIR_EINVALID,
                               "template.greet: param 'name' is empty; give a name to greet");
    }
    /* Memory that might cross into the host goes through the host's allocator. */
    size = strlen(name) + sizeof("Hello, !");
    if (!(text = host->malloc(size))) {
        return host->error_set(WEIR_ENOMEM, "template.greet: out of memory");
    }
    snprintf(text, size, "Hello, %s!", name);
    for (char *p = text; shout && *p; p++) {
        *p = (char)toupper((unsigned char)*p); /* ASCII only: UTF-8 bytes stay as they are */
    }
    host->log(ctx, WEIR_LOG_DEBUG, "greeting %s", name);
    /* `*out` is a new reference: the host owns it from here on. */
    *out = json_pack("{s:s}", "greeting", text);
    host->free(text);
    return *out ? WEIR_OK : host->error_set(WEIR_ENOMEM, "template.greet: out of memory");
}

/* ------------------------------------------------------------------ */
/* template.tag                                                        */

static const struct weir_param_desc tag_params[] = {
    { "records", WEIR_PARAM_ARRAY, 1, NULL, "the records (JSON objects) to stamp" },
    { "field", WEIR_PARAM_STRING, 0, "\"run_id\"", "name of the field that gets the run id" },
    { NULL, WEIR_PARAM_ANY, 0, NULL, NULL },
};

/*
 * Steps may be called outside a run (tests call run callbacks directly with
 * ctx == NULL), and ctx_get returns NULL for keys the host does not know; a
 * fallback keeps both cases simple.
 */
static const char *ctx_value(weir_ctx *ctx, const char *key, const char *fallback)
{
    const char *v = ctx ? host->ctx_get(ctx, key) : NULL;
    return v ? v : fallback;
}

static int run_tag(const json_t *input, json_t **out, weir_ctx *ctx, void *payload)
{
    const json_t *records = json_object_get(input, "records");
    const char *field = json_string_value(json_object_get(input, "field"));
    const char *run_id = ctx_value(ctx, "run.id", "");
    json_t *result = json_array(), *record;
    size_t i;
    int rc = WEIR_OK;

    (void)payload;
    if (!result) {
        return host->error_set(WEIR_ENOMEM, "template.tag: out of memory");
    }
    json_array_foreach(records, i, record) {
        /*
         * A long step polls ctx_check between units of work: it turns a
         * `timeout:` or a cancelled run (Ctrl-C) into a prompt, clean return
         * instead of a step the host has to wait for. Pass its code up as is.
         */
        if (ctx && (rc = host->ctx_check(ctx)) < 0) {
            goto cleanup;
        }
        if (!json_is_object(record)) {
            /* The index and the fix make the message actionable in a long list. */
            rc = host->error_set(WEIR_EINVALID,
                                 "template.tag: records[%zu] is not an object; give a list of "
                                 "objects such as {table: sales}",
                                 i);
            goto cleanup;
        }
        /*
         * `input` is borrowed and read-only (the host may share it between
         * attempts), so stamp a copy, never the record itself.
         */
        json_t *copy = json_copy(record);
        if (!copy || json_object_set_new(copy, field, json_string(run_id)) < 0 ||
            json_array_append_new(result, copy) < 0) {
            json_decref(copy);
            rc = host->error_set(WEIR_ENOMEM, "template.tag: out of memory");
            goto cleanup;
        }
    }
    *out = json_pack("{s:o,s:I}", "records", result, "count", (json_int_t)json_array_size(records));
    return *out ? WEIR_OK : host->error_set(WEIR_ENOMEM, "template.tag: out of memory");

cleanup:
    /* One cleanup label: whatever failed above, nothing is leaked. */
    json_decref(result);
    return rc;
}

/* ------------------------------------------------------------------ */
/* entry                                                               */

/*
 * Descriptors carry their struct version first and the host copies only the
 * fields it knows for that version; that is what lets old plugins run on newer
 * hosts. Designated initialisers keep unset fields zero (here: service, which
 * a plain step leaves NULL).
 */
static const struct weir_step_desc steps[] = {
    {
        .version = WEIR_STEP_DESC_VERSION,
        .name = "greet",
        .description = "returns {greeting} for `name`, upper-cased when `shout` is true",
        .params = greet_params,
        .run = run_greet,
    },
    {
        .version = WEIR_STEP_DESC_VERSION,
        .name = "tag",
        .description = "returns {records, count}: each record with `field` set to the run id",
        .params = tag_params,
        .run = run_tag,
    },
};

/*
 * The one exported symbol. Its name must be weir_plugin_<file name>_init:
 * the loader derives it from "template.so". Everything else in this file is
 * static, and the build uses hidden visibility, so two plugins can both have
 * a `run_greet` without clashing.
 */
WEIR_PLUGIN_EXPORT int weir_plugin_template_init(const struct weir_host_api *h, weir_registry *reg)
{
    struct weir_plugin_info info = WEIR_PLUGIN_INFO_INIT;
    int rc;

    /* First, before touching any other field: a host of another ABI major
     * may lay the table out differently. */
    WEIR_PLUGIN_CHECK_ABI(h);
    host = h;
    info.description = "example plugin from the weir SDK template: greet, tag";
    info.plugin_version = "0.1.0";
    if ((rc = host->plugin_describe(reg, &info)) < 0) {
        return rc;
    }
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        if ((rc = host->step_register(reg, &steps[i])) < 0) {
            return rc;
        }
    }
    return WEIR_OK;
}
