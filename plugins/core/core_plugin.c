/* core_plugin.c - the entry of the core plugin: describes it and registers its steps. */
#include "core_internal.h"

const struct weir_host_api *core_host;

static const struct weir_step_desc *const steps[] = {
    &core_step_echo,       &core_step_fail,      &core_step_flaky,
    &core_step_sleep,      &core_step_shell,     &core_step_json_read,
    &core_step_json_write, &core_step_log,
};

static void core_shutdown(void *payload)
{
    (void)payload;
    core_flaky_reset();
}

WEIR_PLUGIN_EXPORT int weir_plugin_core_init(const struct weir_host_api *host, weir_registry *reg)
{
    struct weir_plugin_info info = WEIR_PLUGIN_INFO_INIT;
    int rc;

    WEIR_PLUGIN_CHECK_ABI(host);
    core_host = host;
    info.description = "general-purpose steps: echo, fail, flaky, sleep, shell, json_read, "
                       "json_write, log";
    info.plugin_version = "0.1.0";
    info.shutdown = core_shutdown;
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
