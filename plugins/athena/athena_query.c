/*
 * athena_query.c - engine.query and engine.dialect on Athena, with the
 * params a pipeline written for the lake passes (sql, max_rows, max_bytes,
 * timeout_ms; catalog_dir, store_root and tables accepted and ignored).
 */
#include <stdlib.h>
#include <string.h>

#include "athena.h"

const struct weir_host_api *athena_host;

static const char *param_str(const json_t *input, const char *key)
{
    const char *v = json_string_value(json_object_get(input, key));

    return v && *v ? v : NULL;
}

static const char *env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);

    return v && *v ? v : fallback;
}

static int64_t param_int(const json_t *input, const char *key, int64_t fallback)
{
    const json_t *v = json_object_get(input, key);

    return json_is_integer(v) ? (int64_t)json_integer_value(v) : fallback;
}

void athena_settings_init(struct athena_settings *s, const json_t *input, const char *op)
{
    memset(s, 0, sizeof(*s));
    s->op = op;
    s->workgroup = param_str(input, "workgroup");
    s->workgroup = s->workgroup ? s->workgroup : env_or("WEIR_ATHENA_WORKGROUP", "primary");
    s->output_location = param_str(input, "output_location");
    if (!s->output_location) {
        s->output_location = env_or("WEIR_ATHENA_OUTPUT_LOCATION", NULL);
    }
    s->catalog = param_str(input, "catalog");
    s->database = param_str(input, "database");
    s->region = param_str(input, "region");
    s->timeout_ms = param_int(input, "timeout_ms", 60000);
    s->max_rows = param_int(input, "max_rows", 10000);
    s->max_bytes = param_int(input, "max_bytes", 64 * 1024 * 1024);
    s->poll_ms = 200;
    s->page_size = param_int(input, "page_size", 1000);
}

static const struct weir_param_desc query_params[] = {
    { "sql", WEIR_PARAM_STRING, 1, NULL, "one statement in Athena's SQL (Trino)" },
    { "max_rows", WEIR_PARAM_INTEGER, 0, "10000", "rows returned at most; more sets truncated" },
    { "timeout_ms", WEIR_PARAM_INTEGER, 0, "60000",
      "the query is stopped (StopQueryExecution) after this long" },
    { "max_bytes", WEIR_PARAM_INTEGER, 0, "67108864",
      "result size cap (bytes of values, roughly); more sets truncated" },
    { "database", WEIR_PARAM_STRING, 0, "null",
      "database of unqualified table names (QueryExecutionContext.Database)" },
    { "page_size", WEIR_PARAM_INTEGER, 0, "1000", "rows per GetQueryResults request (1-1000)" },
    ATHENA_SETTINGS_PARAMS,
    { "catalog_dir", WEIR_PARAM_STRING, 0, "null", "accepted for lake pipelines; ignored" },
    { "store_root", WEIR_PARAM_STRING, 0, "null", "accepted for lake pipelines; ignored" },
    { "tables", WEIR_PARAM_ARRAY, 0, "null", "accepted for lake pipelines; ignored" },
    { NULL, WEIR_PARAM_ANY, 0, NULL, NULL },
};

static int run_query(const json_t *input, json_t **out, weir_ctx *ctx, void *payload)
{
    const char *sql = param_str(input, "sql");
    struct athena_settings s;

    (void)payload;
    athena_settings_init(&s, input, "engine.query");
    if (!sql || s.max_rows < 0 || s.timeout_ms <= 0 || s.max_bytes <= 0 || s.page_size < 1 ||
        s.page_size > 1000) {
        return athena_host->error_set(WEIR_EINVALID,
                                      "engine.query: sql is required, max_rows "
                                      ">= 0, timeout_ms > 0, max_bytes > 0 and page_size 1-1000");
    }
    if (strlen(sql) > 262144) {
        return athena_host->error_set(WEIR_ETOOBIG,
                                      "engine.query: the SQL is %zu bytes; Athena "
                                      "takes at most 262144",
                                      strlen(sql));
    }
    return athena_query_run(ctx, &s, sql, out);
}

static int run_dialect(const json_t *input, json_t **out, weir_ctx *ctx, void *payload)
{
    (void)input;
    (void)ctx;
    (void)payload;
    *out = json_pack("{s:s}", "dialect", "trino");
    return *out ? WEIR_OK : athena_host->error_set(WEIR_ENOMEM, "out of memory");
}

int athena_register_query(weir_registry *reg)
{
    const struct weir_step_desc query = {
        .version = WEIR_STEP_DESC_VERSION,
        .name = "query",
        .service = "engine",
        .description = "one SQL statement on Athena; rows in the lake engine's shape",
        .params = query_params,
        .run = run_query,
    };
    const struct weir_step_desc dialect = {
        .version = WEIR_STEP_DESC_VERSION,
        .name = "dialect",
        .service = "engine",
        .description = "the SQL dialect engine.query speaks: {\"dialect\": \"trino\"}",
        .run = run_dialect,
    };
    int rc;

    if ((rc = athena_host->step_register(reg, &query)) < 0) {
        return rc;
    }
    return athena_host->step_register(reg, &dialect);
}
