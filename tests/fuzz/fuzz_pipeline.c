/*
 * fuzz_pipeline.c - libFuzzer target for the pipeline loader: the input is
 * loaded as a pipeline file (YAML, checks, expressions, inline Lua syntax)
 * against the default config and, when WEIR_PLUGIN_DIR is set, the core
 * plugin, so that `uses` and `with` checks run too.
 *
 * Besides crashes and sanitizer reports it traps when the loader breaks its
 * contract: success must come with a pipeline and no diagnostic, failure
 * with no pipeline and at least one diagnostic, and every diagnostic about
 * the text must have a line and a column.
 *
 *   fuzz_pipeline -dict=tests/fuzz/fuzz_pipeline.dict tests/fuzz/corpus/fuzz_pipeline
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "diag.h"
#include "error.h"
#include "pipeline.h"
#include "plugins.h"
#include "ydoc.h"

static struct weir_config *cfg;
static struct weir_plugins *plugins;
static FILE *devnull;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void load_core_plugin(void)
{
    const char *dir = getenv("WEIR_PLUGIN_DIR");
    char *path = NULL;

    if (!dir || !*dir) {
        fprintf(stderr, "fuzz_pipeline: WEIR_PLUGIN_DIR not set; fuzzing without plugins\n");
        return;
    }
    if (asprintf(&path, "%s/core.so", dir) < 0) {
        abort();
    }
    if (weir_plugins_load_file(plugins, path) != WEIR_OK) {
        /* still useful without it: every `uses` is then an unknown plugin */
        fprintf(stderr, "fuzz_pipeline: %s\n", weir_error_last());
    }
    free(path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    struct weir_diags diags = { 0 };

    if (weir_config_load(NULL, &cfg, &diags) != WEIR_OK) {
        weir_diags_print(&diags, stderr);
        abort();
    }
    weir_diags_free(&diags);
    if (weir_plugins_new(&plugins) != WEIR_OK) {
        abort();
    }
    load_core_plugin();
    devnull = fopen("/dev/null", "w");
    if (!devnull) {
        abort();
    }
    return 0;
}

static void check_diags(const struct weir_diags *d, size_t size)
{
    for (size_t i = 0; i < d->n; i++) {
        /* only a text over the size limit is refused as a whole */
        if ((d->v[i].line <= 0 || d->v[i].col <= 0) && size <= WEIR_YDOC_MAX_BYTES) {
            fprintf(stderr, "diagnostic without a position: %s\n", d->v[i].msg);
            __builtin_trap();
        }
        if (!d->v[i].msg || !d->v[i].file) {
            __builtin_trap();
        }
    }
}

/* What a loaded pipeline offers its users must work on any of them. */
static void use_pipeline(const struct weir_pipeline *p)
{
    json_t *given = json_object(), *params = NULL;

    for (size_t i = 0; i < p->nsteps; i++) {
        if (!p->steps[i].id || weir_pipeline_find(p, p->steps[i].id) < 0) {
            __builtin_trap();
        }
        for (size_t k = 0; k < p->steps[i].nneeds; k++) {
            if (p->steps[i].needs[k] >= p->nsteps) {
                __builtin_trap();
            }
        }
    }
    weir_pipeline_graph(p, "dot", devnull);
    weir_pipeline_graph(p, "mermaid", devnull);
    if (given && weir_pipeline_params(p, given, &params) == WEIR_OK) {
        json_decref(params);
    }
    json_decref(given);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct weir_diags diags = { 0 };
    struct weir_pipeline *p = NULL;
    int rc = weir_pipeline_load("fuzz.yaml", (const char *)data, size, cfg, cfg->default_target,
                                plugins, &p, &diags);

    if (rc == WEIR_OK) {
        if (!p || diags.n || diags.dropped) {
            __builtin_trap();
        }
        use_pipeline(p);
        weir_pipeline_free(p);
    }
    else {
        if (p || (diags.n == 0 && diags.dropped == 0)) {
            __builtin_trap();
        }
        check_diags(&diags, size);
    }
    weir_diags_free(&diags);
    return 0;
}
