/* openai_plugin.c - the entry of the openai plugin: registers llm.generate. */
#include "openai.h"

const struct weir_host_api *openai_host;

WEIR_PLUGIN_ENTRY(openai)
{
    struct weir_plugin_info info = WEIR_PLUGIN_INFO_INIT;
    struct weir_step_desc generate = {
        WEIR_STEP_DESC_VERSION,
        "generate",
        "llm",
        "chat completion on an OpenAI-compatible server, JSON answers checked",
        openai_generate_params,
        openai_generate_run,
        NULL
    };
    int rc;

    WEIR_PLUGIN_CHECK_ABI(host);
    openai_host = host;
    info.description = "llm service on any OpenAI-compatible server (OpenAI, vLLM, llama.cpp, "
                       "Ollama)";
    info.plugin_version = "0.1.0";
    if ((rc = host->plugin_describe(reg, &info)) < 0) {
        return rc;
    }
    return host->step_register(reg, &generate);
}
