/*
 * gluecat_ops.c - catalog.list_databases, list_tables and get_table over the
 * Glue Data Catalog API, in the lake catalog's output shapes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gluecat.h"

const struct weir_host_api *gluecat_host;

/* Glue answers a GetTables page of 100 full tables in well under 16 MiB. */
#define MAX_RESPONSE (16u * 1024 * 1024)

static const char *param_str(const json_t *input, const char *key)
{
    const char *v = json_string_value(json_object_get(input, key));

    return v && *v ? v : NULL;
}

static void service_init(struct awsjson_service *svc, const json_t *input)
{
    memset(svc, 0, sizeof(*svc));
    svc->service_id = "GLUE";
    svc->signing_name = "glue";
    svc->target_prefix = "AWSGlue";
    svc->label = "Glue";
    svc->region = param_str(input, "region");
    svc->max_response = MAX_RESPONSE;
}

/* A request body with CatalogId when the op was given one, and MaxResults
 * for the listing ops. */
static json_t *request(const json_t *input)
{
    json_t *body = json_object();
    const char *catalog = param_str(input, "catalog_id");
    const json_t *page = json_object_get(input, "page_size");

    if (body && catalog) {
        json_object_set_new(body, "CatalogId", json_string(catalog));
    }
    if (body && json_is_integer(page)) {
        json_object_set(body, "MaxResults", (json_t *)page);
    }
    return body;
}

static int check_page_size(const json_t *input, const char *op)
{
    const json_t *page = json_object_get(input, "page_size");

    if (json_is_integer(page) && (json_integer_value(page) < 1 || json_integer_value(page) > 100)) {
        return gluecat_host->error_set(WEIR_EINVALID,
                                       "%s: param 'page_size' must be 1-100, got "
                                       "%" JSON_INTEGER_FORMAT,
                                       op, json_integer_value(page));
    }
    return WEIR_OK;
}

static int cmp_json_str(const void *a, const void *b)
{
    return strcmp(json_string_value(*(json_t *const *)a), json_string_value(*(json_t *const *)b));
}

/* Sorts an array of strings in place (Glue pages come in its own order). */
static void sort_names(json_t *names)
{
    size_t n = json_array_size(names);
    json_t **v = n ? gluecat_host->malloc(n * sizeof(*v)) : NULL;

    if (!v) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        v[i] = json_incref(json_array_get(names, i));
    }
    qsort(v, n, sizeof(*v), cmp_json_str);
    json_array_clear(names);
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(names, v[i]);
    }
    gluecat_host->free(v);
}

static int append_names(const json_t *page, const char *list_key, json_t *names)
{
    const json_t *list = json_object_get(page, list_key), *e;
    size_t i;

    if (!json_is_array(list)) {
        return gluecat_host->error_set(WEIR_EIO, "Glue: response has no '%s' array", list_key);
    }
    json_array_foreach(list, i, e) {
        const char *name = json_string_value(json_object_get(e, "Name"));

        if (name) {
            json_array_append_new(names, json_string(name));
        }
    }
    return WEIR_OK;
}

int gluecat_list_names(weir_ctx *ctx, const struct awsjson_service *svc, const char *op,
                       const json_t *body, const char *list_key, json_t *names,
                       struct awsjson_error *err)
{
    json_t *req = json_deep_copy(body), *page = NULL, *seen = json_object();
    const char *token;
    int rc = WEIR_OK;

    for (size_t pages = 0; rc == WEIR_OK; pages++) {
        if (!req || !seen) {
            rc = gluecat_host->error_set(WEIR_ENOMEM, "Glue %s: out of memory", op);
            break;
        }
        if (pages == GLUECAT_MAX_PAGES) {
            rc = gluecat_host->error_set(WEIR_EIO, "Glue %s: more than %d pages; giving up", op,
                                         GLUECAT_MAX_PAGES);
            break;
        }
        if (!json_object_get(req, "MaxResults")) {
            json_object_set_new(req, "MaxResults", json_integer(100));
        }
        if ((rc = awsjson_call(gluecat_host, ctx, svc, op, req, &page, err)) < 0 ||
            (rc = append_names(page, list_key, names)) < 0) {
            break;
        }
        if ((token = json_string_value(json_object_get(page, "NextToken"))) == NULL || !*token) {
            break;
        }
        /* A service that hands back a token it gave before would page forever. */
        if (json_object_get(seen, token)) {
            rc = gluecat_host->error_set(WEIR_EIO, "Glue %s: NextToken repeated after %zu pages",
                                         op, pages + 1);
            break;
        }
        json_object_set_new(seen, token, json_true());
        json_object_set_new(req, "NextToken", json_string(token));
        json_decref(page);
        page = NULL;
        if (ctx && (rc = gluecat_host->ctx_check(ctx)) < 0) {
            rc = gluecat_host->error_set(rc, "Glue %s: stopped: %s", op,
                                         rc == WEIR_ECANCELLED ? "the run was cancelled"
                                                               : "the step's deadline passed");
        }
    }
    sort_names(names);
    json_decref(page);
    json_decref(req);
    json_decref(seen);
    return rc;
}

/* ---- params ------------------------------------------------------------ */

/* clang-format off */
#define COMMON_PARAMS                                                                            \
    { "region", WEIR_PARAM_STRING, 0, "null",                                                   \
      "AWS region of the catalog (default: AWS_REGION, AWS_DEFAULT_REGION, the profile's)" },   \
    { "catalog_id", WEIR_PARAM_STRING, 0, "null",                                               \
      "account id of the Data Catalog (default: the caller's account)" },                       \
    { "catalog_dir", WEIR_PARAM_STRING, 0, "null",                                              \
      "accepted for pipelines written for the lake catalog; ignored" }

/* Listing ops also take the Glue page size. */
#define PAGE_PARAM                                                                               \
    { "page_size", WEIR_PARAM_INTEGER, 0, "100", "names per Glue request (MaxResults, 1-100)" }
/* clang-format on */

static const struct weir_param_desc list_databases_params[] = {
    COMMON_PARAMS,
    PAGE_PARAM,
    { NULL, WEIR_PARAM_ANY, 0, NULL, NULL },
};

static const struct weir_param_desc list_tables_params[] = {
    { "database", WEIR_PARAM_STRING, 1, NULL, "Glue database" },
    COMMON_PARAMS,
    PAGE_PARAM,
    { NULL, WEIR_PARAM_ANY, 0, NULL, NULL },
};

static const struct weir_param_desc get_table_params[] = {
    { "table", WEIR_PARAM_STRING, 1, NULL, "table as database.table" },
    COMMON_PARAMS,
    { "store_root", WEIR_PARAM_STRING, 0, "null",
      "accepted for pipelines written for the lake catalog; ignored" },
    { NULL, WEIR_PARAM_ANY, 0, NULL, NULL },
};

/* ---- the ops ------------------------------------------------------------ */

static int run_list_databases(const json_t *input, json_t **out, weir_ctx *ctx, void *payload)
{
    struct awsjson_service svc;
    json_t *body = request(input), *names = json_array();
    int rc;

    (void)payload;
    service_init(&svc, input);
    if ((rc = check_page_size(input, "catalog.list_databases")) < 0) {
        goto done;
    }
    if (!body || !names) {
        rc = gluecat_host->error_set(WEIR_ENOMEM, "catalog.list_databases: out of memory");
        goto done;
    }
    if ((rc = gluecat_list_names(ctx, &svc, "GetDatabases", body, "DatabaseList", names, NULL)) <
        0) {
        goto done;
    }
    *out = json_pack("{s:O}", "databases", names);

done:
    json_decref(body);
    json_decref(names);
    return rc;
}

static int run_list_tables(const json_t *input, json_t **out, weir_ctx *ctx, void *payload)
{
    const char *db = param_str(input, "database");
    struct awsjson_service svc;
    struct awsjson_error err;
    json_t *body = request(input), *names = json_array(), *qualified = json_array(), *v;
    size_t i;
    int rc;

    (void)payload;
    service_init(&svc, input);
    if ((rc = check_page_size(input, "catalog.list_tables")) < 0) {
        goto done;
    }
    if (!body || !names || !qualified || !db) {
        rc = gluecat_host->error_set(db ? WEIR_ENOMEM : WEIR_EINVALID, "catalog.list_tables: %s",
                                     db ? "out of memory" : "param 'database' is empty");
        goto done;
    }
    json_object_set_new(body, "DatabaseName", json_string(db));
    rc = gluecat_list_names(ctx, &svc, "GetTables", body, "TableList", names, &err);
    if (rc == WEIR_ENOTFOUND) {
        rc = gluecat_host->error_set(rc,
                                     "database %s not found in the Glue Data Catalog (region "
                                     "%s); catalog.list_databases lists them",
                                     db, awsjson_region_label(svc.region));
    }
    if (rc < 0) {
        goto done;
    }
    json_array_foreach(names, i, v) {
        char q[600];

        snprintf(q, sizeof(q), "%s.%s", db, json_string_value(v));
        json_array_append_new(qualified, json_string(q));
    }
    *out = json_pack("{s:s,s:O}", "database", db, "tables", qualified);

done:
    json_decref(body);
    json_decref(names);
    json_decref(qualified);
    return rc;
}

static int run_get_table(const json_t *input, json_t **out, weir_ctx *ctx, void *payload)
{
    const char *qualified = param_str(input, "table");
    char db[256], name[256];
    struct awsjson_service svc;
    struct awsjson_error err;
    json_t *body = request(input), *resp = NULL, *w = NULL;
    const json_t *table;
    int rc;

    (void)payload;
    service_init(&svc, input);
    if (gluecat_split_name(qualified, db, sizeof(db), name, sizeof(name)) < 0) {
        rc = gluecat_host->error_set(WEIR_EINVALID,
                                     "catalog.get_table: param 'table': '%s' is "
                                     "not \"database.table\"",
                                     qualified ? qualified : "");
        goto done;
    }
    if (!body) {
        rc = gluecat_host->error_set(WEIR_ENOMEM, "catalog.get_table: out of memory");
        goto done;
    }
    json_object_set_new(body, "DatabaseName", json_string(db));
    json_object_set_new(body, "Name", json_string(name));
    rc = awsjson_call(gluecat_host, ctx, &svc, "GetTable", body, &resp, &err);
    if (rc == WEIR_ENOTFOUND) {
        rc = gluecat_host->error_set(rc,
                                     "table %s not found in the Glue Data Catalog (region %s): "
                                     "%s; catalog.list_tables lists a database's tables",
                                     qualified, awsjson_region_label(svc.region), err.message);
    }
    if (rc < 0) {
        goto done;
    }
    if (!json_is_object(table = json_object_get(resp, "Table"))) {
        rc = gluecat_host->error_set(WEIR_EIO, "Glue GetTable: response for %s has no Table",
                                     qualified);
        goto done;
    }
    if ((rc = gluecat_table_weir(table, qualified, &w)) < 0) {
        goto done;
    }
    *out = json_pack("{s:O,s:o}", "Table", table, "weir", w);

done:
    json_decref(body);
    json_decref(resp);
    return rc;
}

static const struct weir_step_desc steps[] = {
    { WEIR_STEP_DESC_VERSION, "list_databases", "catalog",
      "lists the databases of the Glue Data Catalog (GetDatabases)", list_databases_params,
      run_list_databases, NULL },
    { WEIR_STEP_DESC_VERSION, "list_tables", "catalog",
      "lists a Glue database's tables as database.table (GetTables)", list_tables_params,
      run_list_tables, NULL },
    { WEIR_STEP_DESC_VERSION, "get_table", "catalog",
      "a table's definition in the Glue GetTable shape, with the lake's weir summary",
      get_table_params, run_get_table, NULL },
};

int gluecat_register(weir_registry *reg)
{
    int rc;

    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        if ((rc = gluecat_host->step_register(reg, &steps[i])) < 0) {
            return rc;
        }
    }
    return WEIR_OK;
}
