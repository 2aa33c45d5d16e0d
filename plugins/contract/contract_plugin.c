/* contract_plugin.c - entry of the contract plugin. */
#include "contract.h"
#include "lake.h"

const struct weir_host_api *contract_host;

WEIR_PLUGIN_ENTRY(contract)
{
    struct weir_plugin_info info = WEIR_PLUGIN_INFO_INIT;
    int rc;

    WEIR_PLUGIN_CHECK_ABI(host);
    contract_host = host;
    lake_host = host;
    info.description = "data contracts: generate contract, tests and docs; enforce before and after load";
    info.plugin_version = "0.1.0";
    if ((rc = host->plugin_describe(reg, &info)) < 0 || (rc = contract_register_model(reg)) < 0 ||
        (rc = contract_register_generate(reg)) < 0 || (rc = contract_register_preload(reg)) < 0 ||
        (rc = contract_register_postload(reg)) < 0) {
        return rc;
    }
    return WEIR_OK;
}
