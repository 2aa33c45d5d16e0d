/*
 * impact.h - the impact plugin's shared model.
 *
 * A job summary is the JSON object of the user's specification (§3.1
 * job_summary) with weir's additions; every producer (PySpark, SQL) returns
 * this shape and every consumer (semantic diff, lineage, report, the contract
 * plugin's context) reads only this shape:
 *
 *   {
 *     "job_name":  "loan_repayments_etl",          file name without extension
 *     "language":  "pyspark" | "sql",
 *     "inputs":    ["raw_db.raw_payments", "s3://bucket/path/", ...],   spec: names
 *     "output":    "analytics_db.loan_repayment_fact" | null,          spec: first output
 *     "sources":   [{"name", "kind": "table"|"path", "via": "spark.table", "line"}],
 *     "targets":   [{"name", "kind", "via": "saveAsTable", "mode": "overwrite"|null, "line"}],
 *     "join_keys": [{"left_table", "right_table", "columns": [...],     spec fields
 *                    "left_columns": [...], "right_columns": [...],
 *                    "how": "inner"|"left"|"right"|"full"|"cross"|"semi"|"anti", "line"}],
 *     "filters":   ["payment_status IN ('SUCCESS', 'FAILED')", ...],   spec: expressions
 *     "filter_details": [{"expr", "table": name|null, "line"}],
 *     "columns":   [{"name", "op": "select"|"with_column"|"rename"|"drop"|"alias"|"cast",
 *                    "sources": [...], "expr": text|null, "type": cast type|null,
 *                    "from": old name (rename)|null, "line"}],
 *     "grain":     ["loan_id", "payment_date"],                         spec: keys
 *     "grain_details": [{"kind": "group_by"|"dedup"|"window"|"merge_key", "keys": [...], "line"}],
 *     "unresolved": [{"line", "what": "table name from variable 'src'"}],
 *     "diagnostics": [{"line", "message"}]        e.g. SQL the PostgreSQL parser rejected
 *   }
 *
 * Lines are 1-based lines of the script. Table names are as written, with a
 * database prefix when the script gives one.
 */
#ifndef WEIR_IMPACT_H
#define WEIR_IMPACT_H

#include <stddef.h>

#include <jansson.h>

#include "weir/plugin.h"

extern const struct weir_host_api *impact_host;

/* ---- summaries (summarize.c, py*.c, sql*.c) ---- */

enum impact_language {
    IMPACT_LANG_AUTO = 0, /* from the file name: .sql is SQL, anything else Python */
    IMPACT_LANG_PYSPARK,
    IMPACT_LANG_SQL
};

/*
 * Summarises a script held in memory (src, len bytes; need not be
 * NUL-terminated; any bytes at all: never crashes, time linear in len).
 * name is the script's path, used for job_name and the language when
 * lang is AUTO. On WEIR_OK *out is a new job summary object; WEIR_ENOMEM
 * or WEIR_ETOOBIG (over 8 MiB) otherwise. A script it cannot make sense of
 * still gives WEIR_OK with what it found and the rest in unresolved /
 * diagnostics.
 */
int impact_summarize(const char *name, const char *src, size_t len, enum impact_language lang,
                     json_t **out);

/* ---- steps ---- */

extern const struct weir_step_desc impact_step_summarize_job;
extern const struct weir_step_desc impact_step_diff;
extern const struct weir_step_desc impact_step_report;
extern const struct weir_step_desc impact_step_lineage;

#endif
