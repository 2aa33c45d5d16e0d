/* glue-catalog_plugin.c - entry of the glue-catalog plugin (catalog service on AWS Glue). */
#include "gluecat.h"

WEIR_PLUGIN_ENTRY(glue_catalog)
{
    struct weir_plugin_info info = WEIR_PLUGIN_INFO_INIT;
    int rc;

    WEIR_PLUGIN_CHECK_ABI(host);
    gluecat_host = host;
    info.description = "catalog service on the AWS Glue Data Catalog";
    info.plugin_version = "0.1.0";
    if ((rc = host->plugin_describe(reg, &info)) < 0 || (rc = gluecat_register(reg)) < 0) {
        return rc;
    }
    return WEIR_OK;
}
