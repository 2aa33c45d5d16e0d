/* fs_plugin.c - the entry of the fs plugin: describes it and registers the store ops. */
#include "fs_internal.h"

const struct weir_host_api *fs_host;

static const struct weir_step_desc *const steps[] = {
    &fs_step_get, &fs_step_put, &fs_step_head, &fs_step_delete, &fs_step_list,
};

WEIR_PLUGIN_ENTRY(fs)
{
    struct weir_plugin_info info = WEIR_PLUGIN_INFO_INIT;
    int rc;

    WEIR_PLUGIN_CHECK_ABI(host);
    fs_host = host;
    info.description = "store service over a local directory: get, put (atomic), head, delete, "
                       "list; s3://bucket/key maps under the root";
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
