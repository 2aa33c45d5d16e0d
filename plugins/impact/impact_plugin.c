/* impact_plugin.c - the impact plugin's entry: describes it, registers its steps. */
#include "impact.h"

const struct weir_host_api *impact_host;

WEIR_PLUGIN_ENTRY(impact)
{
    static const struct weir_step_desc *const steps[] = {
        &impact_step_summarize_job,
        &impact_step_diff,
        &impact_step_report,
        &impact_step_lineage,
    };
    struct weir_plugin_info info = WEIR_PLUGIN_INFO_INIT;
    size_t i;
    int rc;

    WEIR_PLUGIN_CHECK_ABI(host);
    impact_host = host;
    info.description = "ETL job summaries, lineage, and what a change to a job script breaks";
    info.plugin_version = "0.1.0";
    if ((rc = host->plugin_describe(reg, &info)) < 0) {
        return rc;
    }
    for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        if ((rc = host->step_register(reg, steps[i])) < 0) {
            return rc;
        }
    }
    return WEIR_OK;
}
