/* lake_plugin.c - entry of the embedded lake plugin. */
#include "lake.h"

WEIR_PLUGIN_ENTRY(lake)
{
    struct weir_plugin_info info = WEIR_PLUGIN_INFO_INIT;
    int rc;

    WEIR_PLUGIN_CHECK_ABI(host);
    lake_host = host;
    info.description = "embedded lake: local catalog, SQL over files in place, one-pass profiler";
    info.plugin_version = "0.1.0";
    if ((rc = host->plugin_describe(reg, &info)) < 0 || (rc = lake_register_catalog(reg)) < 0 ||
        (rc = lake_register_engine(reg)) < 0 || (rc = lake_register_profile(reg)) < 0) {
        return rc;
    }
    return WEIR_OK;
}
