/* s3_plugin.c - the entry of the s3 plugin: describes it and registers the store ops. */
#include "s3_internal.h"

const struct weir_host_api *s3_host;

static const struct weir_step_desc *const steps[] = {
    &s3_step_get, &s3_step_put, &s3_step_head, &s3_step_delete, &s3_step_list,
};

WEIR_PLUGIN_ENTRY(s3)
{
    struct weir_plugin_info info = WEIR_PLUGIN_INFO_INIT;
    int rc;

    WEIR_PLUGIN_CHECK_ABI(host);
    s3_host = host;
    info.description = "store service on Amazon S3 or an S3-compatible server: get, put "
                       "(multipart for large files), head, delete, list";
    info.plugin_version = "0.1.0";
    if ((rc = host->plugin_describe(reg, &info)) < 0) {
        return rc;
    }
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        if ((rc = host->step_register(reg, steps[i])) < 0) {
            return rc;
        }
    }
    return WEIR_OK;
}
