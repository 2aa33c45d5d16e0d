/*
 * headertest.c - the public SDK headers must compile cleanly for any plugin
 * author: strict C99 with -pedantic -Werror (see tests/extra.cmake), no GNU
 * extensions, no weir source tree. Uses every macro, so their expansions are
 * checked too, and runs the ABI check against a fake host table.
 */
#include <weir/weir.h>

#include <stdio.h>

static int fake_error_set(int code, const char *fmt, ...)
{
    (void)fmt;
    return code;
}

static int fake_entry(const struct weir_host_api *host, weir_registry *reg)
{
    struct weir_plugin_info info = WEIR_PLUGIN_INFO_INIT;

    (void)reg;
    WEIR_PLUGIN_CHECK_ABI(host);
    return WEIR_HOST_HAS(host, ctx_get) && info.abi_major == WEIR_ABI_MAJOR ? WEIR_OK : WEIR_ERROR;
}

int main(void)
{
    struct weir_host_api host = { 0 };
    weir_plugin_init_fn entry = fake_entry;

    host.abi_major = WEIR_ABI_MAJOR;
    host.abi_minor = WEIR_ABI_MINOR;
    host.size = (uint32_t)sizeof(host);
    host.error_set = fake_error_set;
    if (entry(&host, NULL) != WEIR_ERROR) { /* ctx_get is NULL: not "provided" */
        fputs("headertest: WEIR_HOST_HAS accepted a NULL field\n", stderr);
        return 1;
    }
    host.abi_major = WEIR_ABI_MAJOR + 1;
    if (entry(&host, NULL) != WEIR_EVERSION) {
        fputs("headertest: WEIR_PLUGIN_CHECK_ABI accepted another ABI major\n", stderr);
        return 1;
    }
    puts("headertest: ok");
    return 0;
}
