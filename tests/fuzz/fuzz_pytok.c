/*
 * fuzz_pytok.c - libFuzzer target for the Python tokenizer and the PySpark
 * summariser behind it. The impact plugin's summariser sources are compiled
 * into this harness so they carry the fuzzer's coverage. Besides crashes and
 * sanitizer reports it traps when a token lies outside the input, lines go
 * backwards, INDENT and DEDENT do not balance, the token list does not end
 * with END, or the summary is not a complete, serialisable job summary.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../plugins/impact/pycol.c"
#include "../../plugins/impact/pyglue.c"
#include "../../plugins/impact/pyio.c"
#include "../../plugins/impact/pyparse.c"
#include "../../plugins/impact/pyspark.c"
#include "../../plugins/impact/pystr.c"
#include "../../plugins/impact/pysum.c"
#include "../../plugins/impact/pytok.c"
#include "../../plugins/impact/sqlscan.c"
#include "../../plugins/impact/sqlsum.c"
#include "../../plugins/impact/summarize.c"
#include "plugins.h"

const struct weir_host_api *impact_host;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    impact_host = weir_host_api_get();
    return 0;
}

static void check_tokens(const char *src, size_t size)
{
    struct pytok t;
    int depth = 0, line = 1;

    if (pytok_run(src, size, &t) != WEIR_OK) {
        return; /* out of memory only: 8 MiB is beyond libFuzzer's inputs */
    }
    if (t.n == 0 || t.v[t.n - 1].kind != PYTOK_END) {
        abort();
    }
    for (size_t i = 0; i < t.n; i++) {
        const struct pytok_token *k = &t.v[i];

        if ((size_t)k->off + k->len > size || k->line < line) {
            abort();
        }
        line = k->line;
        depth += (k->kind == PYTOK_INDENT) - (k->kind == PYTOK_DEDENT);
        if (depth < 0 || depth > PYTOK_MAX_INDENT) {
            abort();
        }
        if (k->kind == PYTOK_STRING) {
            size_t len;
            int flags;
            const char *body = pytok_string_body(src, k, &len, &flags);

            if (body < src + k->off || body + len > src + k->off + k->len) {
                abort();
            }
        }
    }
    if (depth != 0) {
        abort();
    }
    pytok_free(&t);
}

static void check_summary(const json_t *s)
{
    static const char *const arrays[] = { "inputs",     "sources",    "targets",
                                          "join_keys",  "filters",    "filter_details",
                                          "columns",    "grain",      "grain_details",
                                          "unresolved", "diagnostics" };
    char *text;

    for (size_t i = 0; i < sizeof(arrays) / sizeof(arrays[0]); i++) {
        if (!json_is_array(json_object_get(s, arrays[i]))) {
            abort();
        }
    }
    if (!(text = json_dumps(s, 0))) {
        abort(); /* e.g. a string that is not UTF-8 */
    }
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *s = NULL;

    check_tokens((const char *)data, size);
    if (impact_summarize("fuzz.py", (const char *)data, size, IMPACT_LANG_PYSPARK, &s) == WEIR_OK) {
        check_summary(s);
    }
    json_decref(s);
    return 0;
}
