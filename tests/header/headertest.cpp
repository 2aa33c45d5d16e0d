// headertest.cpp - the public SDK headers must also compile as C++11 with
// -pedantic -Werror, so plugins can be written in C++ (extern "C" entry).
#include <weir/weir.h>

#include <cstdio>

static int fake_error_set(int code, const char *, ...)
{
    return code;
}

extern "C" WEIR_PLUGIN_EXPORT int weir_plugin_headertest_init(const struct weir_host_api *host,
                                                              weir_registry *reg)
{
    weir_plugin_info info = WEIR_PLUGIN_INFO_INIT;

    (void)reg;
    WEIR_PLUGIN_CHECK_ABI(host);
    return WEIR_HOST_HAS(host, ctx_get) && info.abi_major == WEIR_ABI_MAJOR ? WEIR_OK : WEIR_ERROR;
}

int main()
{
    weir_host_api host = weir_host_api();
    weir_plugin_init_fn entry = weir_plugin_headertest_init;

    host.abi_major = WEIR_ABI_MAJOR;
    host.abi_minor = WEIR_ABI_MINOR;
    host.size = static_cast<uint32_t>(sizeof(host));
    host.error_set = fake_error_set;
    if (entry(&host, nullptr) != WEIR_ERROR ||
        (host.abi_major++, entry(&host, nullptr)) != WEIR_EVERSION) {
        std::fputs("headertest++: ABI macros misbehave\n", stderr);
        return 1;
    }
    std::puts("headertest++: ok");
    return 0;
}
