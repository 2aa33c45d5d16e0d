/* bedrock_plugin.c - the entry of the bedrock plugin: registers llm.generate. */
#include "bedrock.h"

const struct weir_host_api *bedrock_host;

WEIR_PLUGIN_ENTRY(bedrock)
{
    struct weir_plugin_info info = WEIR_PLUGIN_INFO_INIT;
    struct weir_step_desc generate = {
        WEIR_STEP_DESC_VERSION,
        "generate",
        "llm",
        "chat completion on Amazon Bedrock (Converse or InvokeModel), JSON answers checked",
        bedrock_generate_params,
        bedrock_generate_run,
        NULL
    };
    int rc;

    WEIR_PLUGIN_CHECK_ABI(host);
    bedrock_host = host;
    info.description = "llm service on Amazon Bedrock Runtime (SigV4 or a Bedrock API key)";
    info.plugin_version = "0.1.0";
    if ((rc = host->plugin_describe(reg, &info)) < 0) {
        return rc;
    }
    return host->step_register(reg, &generate);
}
