/*
 * gluecat.h - the glue-catalog plugin: the `catalog` service over the AWS
 * Glue Data Catalog (GetDatabases, GetTables, GetTable), answering in the
 * same shapes as the embedded lake catalog.
 *
 * Files: gluecat_table.c (a Glue table -> the lake's `weir` summary: format,
 * delimiter, header lines, null tokens; types checked), gluecat_ops.c (the
 * three ops and NextToken paging), awsjson.c (the awsJson 1.1 call),
 * hive_type.c (Hive type strings), glue-catalog_plugin.c (the entry).
 */
#ifndef WEIR_GLUECAT_H
#define WEIR_GLUECAT_H

#include <weir/weir.h>

#include "awsjson.h"
#include "hive_type.h"

/* The host table, set by the entry (or by a test). */
extern const struct weir_host_api *gluecat_host;

/* Pages a Glue list operation (GetDatabases, GetTables): request body
 * `body` (borrowed; NextToken/MaxResults are added), the array `list_key` of
 * every page, each element's "Name" appended to names (sorted afterwards).
 * Stops on a response without NextToken; a token seen twice or more than
 * GLUECAT_MAX_PAGES pages is an error. */
#define GLUECAT_MAX_PAGES 10000
int gluecat_list_names(weir_ctx *ctx, const struct awsjson_service *svc, const char *op,
                       const json_t *body, const char *list_key, json_t *names,
                       struct awsjson_error *err);

/* The `weir` object for a Glue table ({"Name", "StorageDescriptor", ...},
 * borrowed): {"root", "format", "delimiter", "header_lines", "null_tokens",
 * "files", "partitions"} as the lake's get_table reports them (files and
 * partitions null: Glue does not list files). Checks every column and
 * partition key has a name and a Hive type; on error the message names
 * `qualified` and the column. */
int gluecat_table_weir(const json_t *table, const char *qualified, json_t **out);

/* A SerDe delimiter as written ("," "\t" "\\t" "\\u0009" "\\001") -> the
 * character; -1 when it is not one character. */
int gluecat_delimiter_parse(const char *text);

/* Splits "db.table" into db and table (NUL-terminated copies in the given
 * buffers); -1 unless there is exactly one '.' with text on both sides. */
int gluecat_split_name(const char *qualified, char *db, size_t dbcap, char *table, size_t tablecap);

int gluecat_register(weir_registry *reg);

#endif
