/*
 * step_echo.c - core.echo: returns its `value` param. It is the cheapest step
 * there is, so benchmarks use it to measure the runtime's per-step overhead:
 * keep it free of allocations.
 */
#include "core_internal.h"

static const struct weir_param_desc echo_params[] = {
    { "value", WEIR_PARAM_ANY, 0, "null", "any JSON value; returned unchanged as the output" },
    { NULL, WEIR_PARAM_ANY, 0, NULL, NULL },
};

static int run_echo(const json_t *input, json_t **out, weir_ctx *ctx, void *payload)
{
    (void)ctx;
    (void)payload;
    /* The input is borrowed and read-only; a new reference is all the host needs. */
    *out = json_incref(json_object_get(input, "value"));
    return WEIR_OK;
}

const struct weir_step_desc core_step_echo = {
    .version = WEIR_STEP_DESC_VERSION,
    .name = "echo",
    .description = "returns its `value` param unchanged",
    .params = echo_params,
    .run = run_echo,
};
