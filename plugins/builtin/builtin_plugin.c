/*
 * builtin_plugin.c - entry of the builtin plugin and its llm.generate: the
 * embedded, network-free implementation of the llm service. It answers the
 * prompts contract.generate builds (the context JSON between the markers of
 * prompt.h) with the spec §3.2 object {data_quality, tests, docs_markdown},
 * the same bytes for the same context every time.
 */
#include <stdlib.h>
#include <string.h>

#include "builtin.h"

const struct weir_host_api *builtin_host;

static const struct weir_param_desc generate_params[] = {
    { "messages", WEIR_PARAM_ARRAY, 1, NULL,
      "chat messages [{role, content}]; a user message carries the context JSON between "
      "the " PROMPT_CONTEXT_BEGIN " / " PROMPT_CONTEXT_END " lines" },
    { "json_schema", WEIR_PARAM_OBJECT, 0, "null",
      "schema of the expected answer (the builtin provider always answers the contract shape)" },
    { "temperature", WEIR_PARAM_NUMBER, 0, "null", "ignored: the builtin provider is deterministic" },
    { "max_tokens", WEIR_PARAM_INTEGER, 0, "null", "ignored" },
    { "model", WEIR_PARAM_STRING, 0, "null", "ignored" },
    { NULL, WEIR_PARAM_ANY, 0, NULL, NULL },
};

/* The context of the last user message that has one. New reference or NULL. */
static json_t *find_context(const json_t *messages)
{
    for (size_t i = json_array_size(messages); i > 0; i--) {
        const json_t *m = json_array_get(messages, i - 1);
        const char *role = builtin_str(m, "role");
        json_t *context;

        if (role && strcmp(role, "user") == 0 &&
            (context = prompt_find_context(builtin_str(m, "content"))) != NULL) {
            if (json_is_object(context)) {
                return context;
            }
            json_decref(context);
        }
    }
    return NULL;
}

static int run_generate(const json_t *input, json_t **out, weir_ctx *ctx, void *payload)
{
    json_t *context = find_context(json_object_get(input, "messages"));
    json_t *dq = NULL, *tests = NULL;
    char *table = NULL, *docs = NULL;
    int rc = WEIR_OK;

    (void)payload;
    if (!context) {
        return builtin_host->error_set(WEIR_EINVALID,
                                       "llm.generate (builtin): no user message holds a context "
                                       "object between '%s' and '%s'; the builtin provider only "
                                       "drafts contracts and drift narratives (use a model "
                                       "provider for other prompts)",
                                       PROMPT_CONTEXT_BEGIN, PROMPT_CONTEXT_END);
    }
    if (builtin_str(context, "task") && strcmp(builtin_str(context, "task"), "drift_narrative") == 0) {
        *out = builtin_drift_narrative(context);
        rc = *out ? WEIR_OK : builtin_host->error_set(WEIR_ENOMEM, "llm.generate (builtin): out of memory");
        goto done;
    }
    if (!builtin_str(context, "table_name") || !builtin_str(context, "database") ||
        !json_is_array(json_object_get(context, "schema"))) {
        rc = builtin_host->error_set(WEIR_EINVALID, "llm.generate (builtin): the context needs "
                                                    "table_name, database and schema");
        goto done;
    }
    if (asprintf(&table, "%s.%s", builtin_str(context, "database"),
                 builtin_str(context, "table_name")) < 0) {
        table = NULL;
        rc = builtin_host->error_set(WEIR_ENOMEM, "llm.generate (builtin): out of memory");
        goto done;
    }
    dq = builtin_suggest(context, ctx);
    tests = dq ? builtin_tests(table, dq) : NULL;
    docs = dq ? builtin_docs(context, dq) : NULL;
    if (!dq || !tests || !docs) {
        rc = builtin_host->error_set(WEIR_ENOMEM, "llm.generate (builtin): out of memory");
        goto done;
    }
    *out = json_pack("{s:O, s:O, s:s}", "data_quality", dq, "tests", tests, "docs_markdown", docs);
    if (!*out) {
        rc = builtin_host->error_set(WEIR_ENOMEM, "llm.generate (builtin): out of memory");
    }

done:
    json_decref(context);
    json_decref(dq);
    json_decref(tests);
    free(table);
    free(docs);
    return rc;
}

WEIR_PLUGIN_ENTRY(builtin)
{
    struct weir_plugin_info info = WEIR_PLUGIN_INFO_INIT;
    struct weir_step_desc generate = {
        WEIR_STEP_DESC_VERSION, "generate", "llm",
        "deterministic contract, tests and docs from a context (no network)", generate_params,
        run_generate, NULL
    };
    int rc;

    WEIR_PLUGIN_CHECK_ABI(host);
    builtin_host = host;
    info.description = "embedded llm provider: rules from statistics, tests from rules, docs "
                       "from templates; deterministic, no network";
    info.plugin_version = "0.1.0";
    if ((rc = host->plugin_describe(reg, &info)) < 0) {
        return rc;
    }
    return host->step_register(reg, &generate);
}
