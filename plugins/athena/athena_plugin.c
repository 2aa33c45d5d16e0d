/* athena_plugin.c - entry of the athena plugin (engine service on Amazon Athena). */
#include "athena.h"

WEIR_PLUGIN_ENTRY(athena)
{
    struct weir_plugin_info info = WEIR_PLUGIN_INFO_INIT;
    int rc;

    WEIR_PLUGIN_CHECK_ABI(host);
    athena_host = host;
    info.description = "engine service on Amazon Athena: SQL, one-scan profiling";
    info.plugin_version = "0.1.0";
    if ((rc = host->plugin_describe(reg, &info)) < 0 || (rc = athena_register_query(reg)) < 0 ||
        (rc = athena_register_profile(reg)) < 0) {
        return rc;
    }
    return WEIR_OK;
}
