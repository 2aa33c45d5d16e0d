/* gemini_plugin.c - the entry of the gemini plugin: registers llm.generate. */
#include "gemini.h"

const struct weir_host_api *gemini_host;

WEIR_PLUGIN_ENTRY(gemini)
{
    struct weir_plugin_info info = WEIR_PLUGIN_INFO_INIT;
    struct weir_step_desc generate = {
        WEIR_STEP_DESC_VERSION,
        "generate",
        "llm",
        "generateContent on the Gemini API with a response schema, JSON answers checked",
        gemini_generate_params,
        gemini_generate_run,
        NULL
    };
    int rc;

    WEIR_PLUGIN_CHECK_ABI(host);
    gemini_host = host;
    info.description = "llm service on the Google Gemini API";
    info.plugin_version = "0.1.0";
    if ((rc = host->plugin_describe(reg, &info)) < 0) {
        return rc;
    }
    return host->step_register(reg, &generate);
}
