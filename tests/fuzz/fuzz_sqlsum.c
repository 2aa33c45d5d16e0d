/*
 * fuzz_sqlsum.c - libFuzzer target for the SQL summariser: statement
 * splitting, the Spark rewrites, the PostgreSQL parser's JSON tree walk and
 * the token-scan fallback. The summariser sources are compiled into this
 * harness so they carry coverage. Besides crashes and sanitizer reports it
 * traps when the summary is incomplete or not serialisable, or when a line
 * number falls outside the script.
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

static void check_lines(const json_t *arr, json_int_t lines)
{
    size_t i;
    json_t *e;

    json_array_foreach(arr, i, e) {
        json_int_t l = json_integer_value(json_object_get(e, "line"));

        if (!json_is_object(e) || l < 1 || l > lines) {
            abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const arrays[] = { "sources",        "targets",    "join_keys",
                                          "filter_details", "columns",    "grain_details",
                                          "unresolved",     "diagnostics" };
    json_t *s = NULL;
    json_int_t lines = 1;
    char *text;

    for (size_t i = 0; i < size; i++) {
        lines += data[i] == '\n';
    }
    if (impact_summarize("fuzz.sql", (const char *)data, size, IMPACT_LANG_SQL, &s) != WEIR_OK) {
        return 0;
    }
    for (size_t i = 0; i < sizeof(arrays) / sizeof(arrays[0]); i++) {
        check_lines(json_object_get(s, arrays[i]), lines);
    }
    if (!json_is_array(json_object_get(s, "inputs")) || !(text = json_dumps(s, 0))) {
        abort();
    }
    free(text);
    json_decref(s);
    return 0;
}
