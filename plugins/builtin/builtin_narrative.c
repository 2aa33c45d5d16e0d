/*
 * builtin_narrative.c - the builtin provider's answer to drift.report's
 * narrative prompt (context task "drift_narrative"): per anomaly, the usual
 * upstream causes of that kind of change and what to check first. Templated
 * and deterministic; a model provider writes freer prose from the same
 * context.
 */
#include <stdlib.h>
#include <string.h>

#include "builtin.h"

struct hint {
    const char *detector, *metric; /* metric NULL: any */
    const char *text;
};

/* What an on-call engineer checks first, by detector and metric. */
static const struct hint hints[] = {
    { "volume", NULL,
      "Row count moved: check that every upstream file or partition of the day arrived and "
      "loaded (a missed file, a half-day extract, a duplicated load)." },
    { "completeness", NULL,
      "More nulls: an upstream field stopped being filled (a timeout or a changed mapping in the "
      "source system); compare the source extract for that column." },
    { "uniqueness", NULL,
      "Duplicates on a key that was unique: look for a rerun loaded twice or a join that fans out." },
    { "distribution", "new_category",
      "A new value appeared: confirm with the source owner whether it is a real new category "
      "(then add it to the contract's allowed values) or a data entry error." },
    { "distribution", "vanished_category",
      "A value disappeared: a filter upstream may have changed, or one source stopped sending." },
    { "distribution", "psi",
      "The mix of values changed: check for a new source, a filter change or a re-mapping upstream." },
    { "distribution", NULL,
      "The values shifted: look for a unit or currency change (cents vs units), a changed "
      "formula, or a different population loaded." },
    { "schema", NULL,
      "The schema changed: find the upstream change (crawler, DDL, writer) and update the contract "
      "and downstream jobs that read the column." },
    { "freshness", NULL,
      "Data is stale: the latest load may have replayed old data or the job that writes the table "
      "did not run; check the job's last successful run." },
};

static const char *hint_for(const char *detector, const char *metric)
{
    for (size_t i = 0; i < sizeof(hints) / sizeof(hints[0]); i++) {
        if (detector && !strcmp(hints[i].detector, detector) &&
            (!hints[i].metric || (metric && !strcmp(hints[i].metric, metric)))) {
            return hints[i].text;
        }
    }
    return NULL;
}

json_t *builtin_drift_narrative(const json_t *context)
{
    const json_t *anomalies = json_object_get(context, "anomalies"), *a;
    const char *used[sizeof(hints) / sizeof(hints[0])] = { 0 };
    size_t i, nused = 0, len = 0;
    char *text = NULL;
    FILE *f = open_memstream(&text, &len);
    json_t *out;

    if (!f) {
        return NULL;
    }
    if (json_array_size(anomalies) == 0) {
        fprintf(f, "Nothing unusual on %s: every check of %s is within its expected range.",
                builtin_str(context, "date") ?: "this day", builtin_str(context, "table") ?: "the table");
    }
    else {
        fprintf(f, "%zu anomal%s on %s for %s.", json_array_size(anomalies),
                json_array_size(anomalies) == 1 ? "y" : "ies", builtin_str(context, "date") ?: "this day",
                builtin_str(context, "table") ?: "the table");
    }
    json_array_foreach(anomalies, i, a) {
        const char *h = hint_for(builtin_str(a, "detector"), builtin_str(a, "metric"));
        size_t k;

        for (k = 0; k < nused && used[k] != h; k++) {
        }
        if (h && k == nused) {
            used[nused++] = h; /* one hint per kind, however many columns it hit */
            fprintf(f, " %s", h);
        }
    }
    if (fclose(f) != 0) {
        free(text);
        return NULL;
    }
    out = json_pack("{s:s}", "narrative", text);
    free(text);
    return out;
}
