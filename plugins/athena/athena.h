/*
 * athena.h - the athena plugin: the `engine` service on Amazon Athena
 * (Trino SQL): engine.query, engine.dialect and engine.profile, answering in
 * the same shapes as the embedded lake engine.
 *
 * Files: athena_results.c (request bodies, GetQueryResults pages -> rows,
 * typed values; pure), athena_client.c (start, poll with backoff, stop,
 * page results), athena_query.c (query and dialect ops),
 * athena_profile_sql.c (the one profiling SELECT; pure), athena_profile.c
 * (engine.profile: the table, the SQL, the result -> the lake's profile
 * JSON), athena_plugin.c (the entry). ../glue-catalog/awsjson.c and
 * hive_type.c are compiled in too.
 */
#ifndef WEIR_ATHENA_H
#define WEIR_ATHENA_H

#include <stdint.h>

#include <weir/weir.h>

#include "awsjson.h"
#include "hive_type.h"

/* The host table, set by the entry (or by a test). */
extern const struct weir_host_api *athena_host;

/* Where and how a query runs (op params, defaults from the environment). */
struct athena_settings {
    const char *workgroup;       /* WorkGroup */
    const char *output_location; /* ResultConfiguration.OutputLocation, or NULL */
    const char *database;        /* QueryExecutionContext.Database, or NULL */
    const char *catalog;         /* QueryExecutionContext.Catalog, or NULL */
    const char *region;          /* NULL: the configured region */
    int64_t timeout_ms;          /* whole query, also bounded by the step's timeout */
    int64_t max_rows;            /* rows kept; more sets truncated */
    int64_t max_bytes;           /* result size kept, roughly */
    int64_t poll_ms;             /* first GetQueryExecution delay (200); x1.5 up to 5 s */
    int64_t page_size;           /* GetQueryResults MaxResults (1-1000) */
    const char *op;              /* "engine.query" or "engine.profile", for messages */
};

/* Params every op that runs SQL declares (workgroup, output_location,
 * catalog, region); defaults come from athena_settings_init. */
/* clang-format off */
#define ATHENA_SETTINGS_PARAMS                                                                   \
    { "workgroup", WEIR_PARAM_STRING, 0, "null",                                                \
      "Athena workgroup (default: env WEIR_ATHENA_WORKGROUP, else \"primary\")" },              \
    { "output_location", WEIR_PARAM_STRING, 0, "null",                                          \
      "s3:// prefix for results (default: env WEIR_ATHENA_OUTPUT_LOCATION, else the "           \
      "workgroup's)" },                                                                         \
    { "catalog", WEIR_PARAM_STRING, 0, "null",                                                  \
      "data catalog of unqualified names (default: Athena's AwsDataCatalog)" },                 \
    { "region", WEIR_PARAM_STRING, 0, "null",                                                   \
      "AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, the profile's)" }
/* clang-format on */

/* Fills s from input's settings params and the environment. */
void athena_settings_init(struct athena_settings *s, const json_t *input, const char *op);

/* ---- pure parts (athena_results.c) ---------------------------------- */

/* A StartQueryExecution body (new reference). */
json_t *athena_start_body(const char *sql, const char *token, const struct athena_settings *s);

/* One result value: datum {"VarCharValue": "42"} (or {} for NULL) typed by
 * the Athena column type: integer types -> JSON integer, real/double/
 * float/decimal -> real, boolean -> true/false, anything else a string. */
json_t *athena_value_json(const char *type, const json_t *datum);

/* Rows gathered over GetQueryResults pages, in engine.query's shape. */
struct athena_rows {
    json_t *columns; /* [{"name", "type"}] from the first page */
    json_t *rows;    /* [[values]] */
    int64_t max_rows, max_bytes, bytes;
    int truncated; /* a row was left out */
};

void athena_rows_init(struct athena_rows *r, int64_t max_rows, int64_t max_bytes);
void athena_rows_free(struct athena_rows *r);
/* Adds one GetQueryResults response. On the first page the column list is
 * taken from ResultSetMetadata and, for a SELECT (dml), a first row that
 * repeats the column labels is skipped. Returns 1 when more rows are
 * wanted, 0 when the result is full (truncated set if a row was left out),
 * or a negative code for a malformed page (message set). */
int athena_rows_add_page(struct athena_rows *r, const json_t *page, int first, int dml);

/* ---- the client (athena_client.c) ---------------------------------- */

/* Runs sql and gathers its result as {"columns", "rows", "row_count",
 * "truncated", "elapsed_ms", "files_read": null}. Stops the query
 * (StopQueryExecution) when the timeout passes or the run is cancelled. */
int athena_query_run(weir_ctx *ctx, const struct athena_settings *s, const char *sql, json_t **out);

/* ---- profiling (athena_profile_sql.c, athena_profile.c) ------------- */

struct athena_pcol {
    const char *name; /* borrowed from the table JSON */
    const char *type; /* Hive type as declared */
    enum hive_kind kind;
    int partition; /* a partition key */
};

struct athena_plan {
    char *database, *table;   /* host->malloc'd */
    struct athena_pcol *cols; /* data columns, then partition keys */
    size_t ncols;
    int64_t top_k, sample_rows;
    int skip_bad; /* skip_bad_rows given: the output has "bad_rows": null */
};

/* Builds the plan and the one profiling SELECT for a Glue table object
 * ({"Name", "DatabaseName", "StorageDescriptor", "PartitionKeys"}, borrowed;
 * must outlive the plan), with partitions (object key -> value or array of
 * values, or NULL) as a WHERE on the partition keys. *sql is host->malloc'd. */
int athena_profile_sql(const json_t *table, const json_t *partitions, int64_t top_k,
                       int64_t sample_rows, struct athena_plan *plan, char **sql);
void athena_plan_free(struct athena_plan *plan);

/* The value shapes profiled in string columns, in the lake's order
 * ("email", "uuid", "date", "timestamp", "integer", "decimal"). */
#define ATHENA_NSHAPES 6
extern const char *const athena_shape_names[ATHENA_NSHAPES];

/* Turns the profiling query's result (engine.query shape, one row) into the
 * lake's profile JSON. */
int athena_profile_render(const struct athena_plan *plan, const json_t *result, json_t **out);

int athena_register_query(weir_registry *reg);
int athena_register_profile(weir_registry *reg);

#endif
