/*
 * test_catalog.c - the lake catalog (plugins/lake/table*.c, partition.c,
 * catalog.c, infer.c): Hive types, Glue JSON and YAML definitions, location
 * resolution, partition discovery and pruning, and the catalog service ops
 * through the built lake.so, including infer on generated files.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

#include "catalog_int.h"
#include "ctx.h"
#include "error.h"
#include "partition.h"
#include "plugins.h"


#define assert_contains(haystack, needle)                                        \
    do {                                                                         \
        if (!strstr((haystack), (needle))) {                                     \
            fail_msg("\"%s\"\n  does not contain \"%s\"", (haystack), (needle)); \
        }                                                                        \
    } while (0)

static struct weir_plugins *plugins;
static char *tmp;
static char examples[4096];

static int group_setup(void **state)
{
    char path[4096];

    (void)state;
    lake_host = weir_host_api_get();
    snprintf(examples, sizeof(examples), "%s/examples", tu_env("WEIR_SOURCE_DIR"));
    snprintf(path, sizeof(path), "%s/lake.so", tu_env("WEIR_PLUGIN_DIR"));
    if (weir_plugins_new(&plugins) != WEIR_OK || weir_plugins_load_file(plugins, path) != WEIR_OK) {
        fprintf(stderr, "loading lake.so: %s\n", weir_error_last());
        return -1;
    }
    tmp = tu_mkdtemp();
    return tmp ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    weir_plugins_free(plugins);
    tu_rmtree(tmp);
    free(tmp);
    return 0;
}

/* A fresh project directory under tmp for one test. */
static char *project(const char *name)
{
    char *dir = NULL;

    assert_true(asprintf(&dir, "%s/%s", tmp, name) > 0);
    assert_int_equal(mkdir(dir, 0777), 0);
    return dir;
}

static void put(const char *dir, const char *name, const char *text)
{
    free(tu_write_file(dir, name, text));
}

/* Runs lake's catalog.<op> with `with` as JSON text and project as the ctx's
 * project (NULL: no ctx), the way the runner does. */
static int op(const char *name, const char *proj, const char *with_text, json_t **out)
{
    const struct weir_step_def *def = weir_plugins_find_op(plugins, "lake", "catalog", name);
    struct weir_ctx ctx = { .project = proj };
    json_t *with = json_loads(with_text, 0, NULL);
    int rc;

    assert_non_null(def);
    assert_non_null(with);
    *out = NULL;
    rc = weir_step_invoke(def, with, out, proj ? &ctx : NULL);
    json_decref(with);
    return rc;
}

static json_t *op_ok(const char *name, const char *proj, const char *with_text)
{
    json_t *out = NULL;

    if (op(name, proj, with_text, &out) != WEIR_OK) {
        fail_msg("catalog.%s %s: %s", name, with_text, weir_error_last());
    }
    return out;
}

static const char *jstr(const json_t *v, const char *path)
{
    /* "a.b.c" into nested objects */
    char key[128];
    const char *dot;

    while ((dot = strchr(path, '.')) != NULL) {
        snprintf(key, sizeof(key), "%.*s", (int)(dot - path), path);
        v = json_object_get(v, key);
        path = dot + 1;
    }
    return json_string_value(json_object_get(v, path));
}

/* ---- types --------------------------------------------------------------- */

static void test_hive_types(void **state)
{
    static const struct {
        const char *type;
        enum lake_type kind;
    } ok[] = {
        { "string", LAKE_STRING },
        { "varchar(20)", LAKE_STRING },
        { "char(3)", LAKE_STRING },
        { "int", LAKE_INT },
        { "INTEGER", LAKE_INT },
        { "tinyint", LAKE_INT },
        { "smallint", LAKE_INT },
        { "bigint", LAKE_BIGINT },
        { "float", LAKE_DOUBLE },
        { "double", LAKE_DOUBLE },
        { "decimal(10,2)", LAKE_DECIMAL },
        { "decimal", LAKE_DECIMAL },
        { "decimal( 38 , 0 )", LAKE_DECIMAL },
        { "boolean", LAKE_BOOLEAN },
        { "date", LAKE_DATE },
        { "timestamp", LAKE_TIMESTAMP },
        { "array<string>", LAKE_COMPLEX },
        { "map<string,array<int>>", LAKE_COMPLEX },
        { "struct<a:int, b:map<string,decimal(5,1)>>", LAKE_COMPLEX },
    };
    static const char *const bad[] = { "money",
                                       "varchar",
                                       "varchar(0)",
                                       "char(256)",
                                       "decimal(39,2)",
                                       "decimal(5,6)",
                                       "array<>",
                                       "array<int,int>",
                                       "map<string>",
                                       "struct<a int>",
                                       "array<string",
                                       "int extra",
                                       "" };
    enum lake_type kind;

    (void)state;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        if (lake_cat_type_check(ok[i].type, &kind) != WEIR_OK || kind != ok[i].kind) {
            fail_msg("type '%s' should parse as kind %d", ok[i].type, (int)ok[i].kind);
        }
        assert_int_equal(lake_type_parse(ok[i].type), ok[i].kind);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (lake_cat_type_check(bad[i], &kind) == WEIR_OK) {
            fail_msg("type '%s' should be refused", bad[i]);
        }
    }
    assert_int_equal(lake_type_parse("money"), LAKE_STRING);
}

/* ---- definitions ------------------------------------------------------------ */

static const char glue_sales[] =
    "{\"Table\": {\"Name\": \"sales\", \"DatabaseName\": \"shop\", \"Description\": \"Sales\",\n"
    " \"Parameters\": {\"classification\": \"csv\", \"skip.header.line.count\": \"1\"},\n"
    " \"StorageDescriptor\": {\"Columns\": [\n"
    "   {\"Name\": \"id\", \"Type\": \"bigint\", \"Comment\": \"key\"},\n"
    "   {\"Name\": \"amount\", \"Type\": \"decimal(10,2)\"},\n"
    "   {\"Name\": \"tags\", \"Type\": \"array<string>\"}],\n"
    "  \"Location\": \"s3://bucket/shop/sales/\",\n"
    "  \"SerdeInfo\": {\"SerializationLibrary\": "
    "\"org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe\",\n"
    "   \"Parameters\": {\"field.delim\": \"|\", \"serialization.null.format\": \"-\"}}},\n"
    " \"PartitionKeys\": [{\"Name\": \"dt\", \"Type\": \"date\"}]}}\n";

static const char yaml_sales[] = "name: sales\n"
                                 "description: Sales\n"
                                 "location: s3://bucket/shop/sales/\n"
                                 "format: csv\n"
                                 "delimiter: '|'\n"
                                 "header: true\n"
                                 "null_tokens: '-'\n"
                                 "columns:\n"
                                 "  - {name: id, type: bigint, comment: key}\n"
                                 "  - amount: decimal(10,2)\n"
                                 "  - {name: tags, type: array<string>}\n"
                                 "partitions: {dt: date}\n";

static void assert_columns_equal(const struct lake_column *a, const struct lake_column *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(a[i].name, b[i].name);
        assert_string_equal(a[i].type, b[i].type);
        assert_int_equal(a[i].kind, b[i].kind);
        assert_true((a[i].comment == NULL) == (b[i].comment == NULL));
        if (a[i].comment) {
            assert_string_equal(a[i].comment, b[i].comment);
        }
    }
}

static void test_glue_and_yaml_agree(void **state)
{
    char *p = project("forms"), *cat, *store;
    struct lake_table *g = NULL, *y = NULL;

    (void)state;
    put(p, "catalog/shop/sales.json", glue_sales);
    put(p, "catalog/shop/sales2.yaml", yaml_sales);
    assert_true(asprintf(&cat, "%s/catalog", p) > 0);
    assert_true(asprintf(&store, "%s/lake", p) > 0);
    if (lake_table_load(cat, store, "shop.sales", &g) != WEIR_OK) {
        fail_msg("%s", weir_error_last());
    }
    /* the YAML file names its table sales, but it lives in sales2.yaml */
    assert_int_equal(lake_table_load(cat, store, "shop.sales2", &y), WEIR_EINVALID);
    assert_contains(weir_error_last(), "sales2");
    put(p, "catalog/shop/sales2.yaml", yaml_sales + strlen("name: sales\n"));
    if (lake_table_load(cat, store, "shop.sales2", &y) != WEIR_OK) {
        fail_msg("%s", weir_error_last());
    }
    assert_string_equal(g->database, "shop");
    assert_string_equal(y->database, "shop");
    assert_string_equal(y->name, "sales2");
    assert_string_equal(g->description, y->description);
    assert_int_equal(g->ncolumns, 3);
    assert_int_equal(y->ncolumns, 3);
    assert_columns_equal(g->columns, y->columns, 3);
    assert_int_equal(g->npartitions, 1);
    assert_int_equal(y->npartitions, 1);
    assert_columns_equal(g->partitions, y->partitions, 1);
    assert_int_equal(g->columns[2].kind, LAKE_COMPLEX);
    assert_string_equal(g->location, y->location);
    assert_string_equal(g->root, y->root);
    assert_int_equal(g->format, LAKE_CSV);
    assert_int_equal(y->format, LAKE_CSV);
    assert_int_equal(g->delimiter, '|');
    assert_int_equal(y->delimiter, '|');
    assert_int_equal(g->header_lines, 1);
    assert_int_equal(y->header_lines, 1);
    assert_string_equal(g->null_tokens[0], "-");
    assert_null(g->null_tokens[1]);
    assert_string_equal(y->null_tokens[0], "-");
    assert_null(y->null_tokens[1]);
    assert_string_equal(
        json_string_value(json_object_get(
            json_object_get(json_object_get(json_object_get(json_object_get(y->def, "Table"),
                                                            "StorageDescriptor"),
                                            "SerdeInfo"),
                            "Parameters"),
            "field.delim")),
        "|");
    assert_string_equal(
        json_string_value(json_object_get(
            json_object_get(json_object_get(json_object_get(y->def, "Table"), "StorageDescriptor"),
                            "SerdeInfo"),
            "SerializationLibrary")),
        "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe");
    lake_table_free(g);
    lake_table_free(y);
    free(cat);
    free(store);
    free(p);
}

static void test_defaults_and_jsonl(void **state)
{
    char *p = project("defaults"), *cat;
    struct lake_table *t = NULL;

    (void)state;
    put(p, "catalog/raw/events.yaml",
        "format: jsonl\nlocation: data/events\ncolumns: {id: bigint, body: {type: string, comment: "
        "raw}}\n");
    put(p, "catalog/raw/tsv.json",
        "{\"Table\": {\"StorageDescriptor\": {\"Columns\": [{\"Name\": \"a\", \"Type\": "
        "\"string\"}],"
        " \"Location\": \"/abs/where\", \"SerdeInfo\": {\"Parameters\": {\"field.delim\": "
        "\"\\\\t\"}}}}}");
    put(p, "catalog/raw/parquet.json",
        "{\"Table\": {\"Parameters\": {\"classification\": \"parquet\"}, \"StorageDescriptor\": "
        "{\"Columns\":"
        " [{\"Name\": \"a\", \"Type\": \"string\"}], \"Location\": \"x\"}}}");
    assert_true(asprintf(&cat, "%s/catalog", p) > 0);
    assert_int_equal(lake_table_load(cat, "lake", "raw.events", &t), WEIR_OK);
    assert_int_equal(t->format, LAKE_JSONL);
    assert_int_equal(t->header_lines, 0);
    assert_string_equal(t->columns[1].comment, "raw");
    assert_null(t->columns[0].comment);
    assert_string_equal(t->null_tokens[4], "\\N");
    assert_null(t->null_tokens[5]);
    lake_table_free(t);
    assert_int_equal(lake_table_load(cat, "lake", "raw.tsv", &t), WEIR_OK);
    assert_int_equal(t->delimiter, '\t');
    assert_int_equal(t->header_lines, 0);
    assert_string_equal(t->root, "/abs/where");
    lake_table_free(t);
    assert_int_equal(lake_table_load(cat, "lake", "raw.parquet", &t), WEIR_EINVALID);
    assert_contains(weir_error_last(), "parquet");
    assert_int_equal(lake_table_load(cat, "lake", "raw.missing", &t), WEIR_ENOTFOUND);
    assert_int_equal(lake_table_load(cat, "lake", "../etc.passwd", &t), WEIR_EINVALID);
    assert_int_equal(lake_table_load(cat, "lake", "nodot", &t), WEIR_EINVALID);
    put(p, "catalog/raw/bad.yaml", "colums: {id: bigint}\nlocation: x\n");
    assert_int_equal(lake_table_load(cat, "lake", "raw.bad", &t), WEIR_EINVALID);
    assert_contains(weir_error_last(), "unknown key 'colums'");
    put(p, "catalog/raw/events.json", glue_sales);
    assert_int_equal(lake_table_load(cat, "lake", "raw.events", &t), WEIR_EINVALID);
    assert_contains(weir_error_last(), "defined twice");
    free(cat);
    free(p);
}

static void test_unknown_type_names_table_and_column(void **state)
{
    char *p = project("badtype"), *cat;
    struct lake_table *t = NULL;

    (void)state;
    put(p, "catalog/shop/orders.yaml",
        "location: x\ncolumns:\n  - {name: id, type: bigint}\n  - {name: total, type: money}\n");
    assert_true(asprintf(&cat, "%s/catalog", p) > 0);
    assert_int_equal(lake_table_load(cat, "lake", "shop.orders", &t), WEIR_EINVALID);
    assert_null(t);
    assert_contains(weir_error_last(), "orders.yaml");
    assert_contains(weir_error_last(), "column 'total'");
    assert_contains(weir_error_last(), "'money'");
    free(cat);
    free(p);
}

static void test_locations(void **state)
{
    char *p = project("locs"), *cat, *want;
    struct lake_table *t = NULL;

    (void)state;
    put(p, "catalog/db/s3t.yaml", "location: s3://my-bucket/a/b/\ncolumns: {x: int}\n");
    put(p, "catalog/db/relt.yaml", "location: data/../files/t\ncolumns: {x: int}\n");
    put(p, "catalog/db/gs.yaml", "location: gs://b/x\ncolumns: {x: int}\n");
    assert_true(asprintf(&cat, "%s/catalog", p) > 0);

    /* s3:// under the store root, itself relative to the project */
    assert_int_equal(lake_table_load(cat, "store", "db.s3t", &t), WEIR_OK);
    assert_true(asprintf(&want, "%s/store/my-bucket/a/b", p) > 0);
    assert_string_equal(t->root, want);
    assert_string_equal(t->location, "s3://my-bucket/a/b/");
    free(want);
    lake_table_free(t);
    assert_int_equal(lake_table_load(cat, "/srv/lake", "db.s3t", &t), WEIR_OK);
    assert_string_equal(t->root, "/srv/lake/my-bucket/a/b");
    lake_table_free(t);

    /* relative: from the catalog directory's parent, the project */
    assert_int_equal(lake_table_load(cat, "lake", "db.relt", &t), WEIR_OK);
    assert_true(asprintf(&want, "%s/files/t", p) > 0);
    assert_string_equal(t->root, want);
    free(want);
    lake_table_free(t);

    assert_int_equal(lake_table_load(cat, "lake", "db.gs", &t), WEIR_EINVALID);
    assert_contains(weir_error_last(), "gs://b/x");
    free(cat);
    free(p);
}

/* ---- files and partitions ---------------------------------------------------- */

static struct lake_table *example_table(void)
{
    char cat[4200], store[4200];
    struct lake_table *t = NULL;

    snprintf(cat, sizeof(cat), "%s/catalog", examples);
    snprintf(store, sizeof(store), "%s/lake", examples);
    if (lake_table_load(cat, store, "analytics_db.loan_repayment_fact", &t) != WEIR_OK) {
        fail_msg("%s", weir_error_last());
    }
    return t;
}

static void test_example_partitions(void **state)
{
    struct lake_table *t = example_table();
    struct lake_file *files = NULL;
    size_t n = 0;

    (void)state;
    assert_int_equal(t->ncolumns, 6);
    assert_int_equal(t->npartitions, 1);
    assert_string_equal(t->partitions[0].name, "dt");
    assert_int_equal(t->columns[3].kind, LAKE_DOUBLE);
    assert_int_equal(t->columns[5].kind, LAKE_TIMESTAMP);
    assert_int_equal(t->header_lines, 1);
    assert_int_equal(t->delimiter, ',');
    assert_int_equal(lake_table_files(t, NULL, &files, &n), WEIR_OK);
    assert_true(n >= 3);
    assert_string_equal(files[0].partition_values[0], "2026-10-01");
    assert_string_equal(files[1].partition_values[0], "2026-10-02");
    assert_string_equal(files[2].partition_values[0], "2026-10-03");
    assert_non_null(
        strstr(files[0].path, "/example-lake/analytics_db/loan_repayment_fact/dt=2026-10-01/"));
    for (size_t i = 1; i < n; i++) {
        assert_true(strcmp(files[i - 1].path, files[i].path) < 0);
    }
    lake_files_free(files, n);
    lake_table_free(t);
}

static void test_filter_pruning(void **state)
{
    struct lake_table *t = example_table();
    struct lake_partition_filter *f = NULL;
    struct lake_file *files = NULL;
    enum lake_cmp cmp;
    size_t n = 0;

    (void)state;
    assert_int_equal(lake_partition_filter_new(&f), WEIR_OK);
    assert_int_equal(lake_partition_filter_add(f, 0, LAKE_CMP_EQ, "2026-10-02"), WEIR_OK);
    assert_int_equal(lake_table_files(t, f, &files, &n), WEIR_OK);
    assert_int_equal(n, 1);
    assert_string_equal(files[0].partition_values[0], "2026-10-02");
    lake_files_free(files, n);
    lake_partition_filter_free(f);

    assert_int_equal(lake_partition_filter_new(&f), WEIR_OK);
    assert_int_equal(lake_partition_cmp_parse(">=", &cmp), WEIR_OK);
    assert_int_equal(lake_partition_filter_add(f, 0, cmp, "2026-10-02"), WEIR_OK);
    assert_int_equal(lake_partition_filter_add(f, 0, LAKE_CMP_LT, "2026-10-03"), WEIR_OK);
    assert_int_equal(lake_table_files(t, f, &files, &n), WEIR_OK);
    assert_int_equal(n, 1);
    assert_string_equal(files[0].partition_values[0], "2026-10-02");
    lake_files_free(files, n);
    lake_partition_filter_free(f);

    assert_int_equal(lake_partition_filter_new(&f), WEIR_OK);
    assert_int_equal(lake_partition_filter_add(f, 0, LAKE_CMP_GT, "2026-10-03"), WEIR_OK);
    assert_int_equal(lake_table_files(t, f, &files, &n), WEIR_OK);
    assert_int_equal(n, 0);
    lake_files_free(files, n);
    lake_partition_filter_free(f);
    lake_table_free(t);

    /* numbers compare as numbers, the null partition matches nothing */
    assert_int_equal(lake_partition_filter_new(&f), WEIR_OK);
    assert_int_equal(lake_partition_filter_add(f, 0, LAKE_CMP_LE, "10"), WEIR_OK);
    {
        const char *nine[] = { "9" }, *eleven[] = { "11" }, *null[] = { LAKE_HIVE_NULL_PARTITION };
        assert_int_equal(lake_partition_filter_match(f, nine, 1), 1);
        assert_int_equal(lake_partition_filter_match(f, eleven, 1), 0);
        assert_int_equal(lake_partition_filter_match(f, null, 1), 0);
        assert_int_equal(lake_partition_filter_match(NULL, null, 1), 1);
    }
    lake_partition_filter_free(f);
    assert_int_equal(lake_partition_cmp_parse("<>", &cmp), WEIR_EINVALID);
}

static void test_two_level_partitions(void **state)
{
    char *p = project("twolevel"), *cat;
    struct lake_table *t = NULL;
    struct lake_partition_filter *f = NULL;
    struct lake_file *files = NULL;
    size_t n = 0;

    (void)state;
    put(p, "catalog/db/ev.yaml",
        "location: data/ev\nheader: false\ncolumns: {x: int}\npartitions: [year, {month: int}]\n");
    put(p, "data/ev/year=2026/month=9/a.csv", "1\n");
    put(p, "data/ev/year=2026/month=10/a.csv", "2\n");
    put(p, "data/ev/year=2026/month=10/b.csv", "");
    put(p, "data/ev/year=2025/month=12/part-0000", "3\n");
    put(p, "data/ev/year=2025/month=12/_SUCCESS", "");
    put(p, "data/ev/year=2025/.hidden/x.csv", "");
    put(p, "data/ev/year=2025%3Ax/month=1/a.csv", "");
    assert_true(asprintf(&cat, "%s/catalog", p) > 0);
    assert_int_equal(lake_table_load(cat, "lake", "db.ev", &t), WEIR_OK);
    assert_int_equal(lake_table_files(t, NULL, &files, &n), WEIR_OK);
    assert_int_equal(n, 5);
    /* path order: '%' sorts before '/' */
    assert_string_equal(files[0].partition_values[0], "2025:x");
    assert_string_equal(files[0].partition_values[1], "1");
    assert_string_equal(files[1].partition_values[0], "2025");
    assert_string_equal(files[1].partition_values[1], "12");
    assert_string_equal(files[2].partition_values[1], "10");
    assert_non_null(strstr(files[3].path, "month=10/b.csv"));
    assert_string_equal(files[4].partition_values[1], "9");
    lake_files_free(files, n);

    assert_int_equal(lake_partition_filter_new(&f), WEIR_OK);
    assert_int_equal(lake_partition_filter_add(f, 0, LAKE_CMP_EQ, "2026"), WEIR_OK);
    assert_int_equal(lake_partition_filter_add(f, 1, LAKE_CMP_GE, "10"), WEIR_OK);
    assert_int_equal(lake_table_files(t, f, &files, &n), WEIR_OK);
    assert_int_equal(n, 2);
    assert_string_equal(files[0].partition_values[1], "10");
    lake_files_free(files, n);
    lake_partition_filter_free(f);
    lake_table_free(t);
    free(cat);
    free(p);
}

static void expect_layout_error(const char *name, const char *stray, const char *fragment)
{
    char *p = project(name), *cat;
    struct lake_table *t = NULL;
    struct lake_file *files = NULL;
    size_t n = 0;

    put(p, "catalog/db/t.yaml", "location: data/t\ncolumns: {x: int}\npartitions: [dt]\n");
    put(p, "data/t/dt=2026-10-01/a.csv", "x\n1\n");
    put(p, stray, "x\n1\n");
    assert_true(asprintf(&cat, "%s/catalog", p) > 0);
    assert_int_equal(lake_table_load(cat, "lake", "db.t", &t), WEIR_OK);
    assert_int_equal(lake_table_files(t, NULL, &files, &n), WEIR_EINVALID);
    assert_null(files);
    assert_contains(weir_error_last(), fragment);
    lake_table_free(t);
    free(cat);
    free(p);
}

static void test_stray_files_are_errors(void **state)
{
    (void)state;
    expect_layout_error("stray1", "data/t/loose.csv",
                        "data/t/loose.csv' is outside the partition layout");
    expect_layout_error("stray2", "data/t/region=eu/a.csv",
                        "partition key 'region' where 'dt' was expected");
    expect_layout_error("stray3", "data/t/dt=2026-10-02/sub/a.csv",
                        "dt=2026-10-02/sub' is outside");
    expect_layout_error("stray4", "data/t/dt=2026-10-02/a.parquet",
                        "a.parquet' is not a text data file");
}

static void test_missing_location(void **state)
{
    char *p = project("noloc"), *cat;
    struct lake_table *t = NULL;
    struct lake_file *files = NULL;
    size_t n = 0;

    (void)state;
    put(p, "catalog/db/t.yaml", "location: data/none\ncolumns: {x: int}\n");
    assert_true(asprintf(&cat, "%s/catalog", p) > 0);
    assert_int_equal(lake_table_load(cat, "lake", "db.t", &t), WEIR_OK);
    assert_int_equal(lake_table_files(t, NULL, &files, &n), WEIR_ENOTFOUND);
    assert_contains(weir_error_last(), "data/none");
    lake_table_free(t);
    free(cat);
    free(p);
}

/* ---- the service ops through lake.so ------------------------------------------ */

static void test_ops_on_examples(void **state)
{
    json_t *out, *parts;
    char want[4300];

    (void)state;
    out = op_ok("list_databases", examples, "{}");
    tu_assert_json(out, "{\"databases\": [\"analytics_db\", \"raw_db\"]}");
    json_decref(out);

    out = op_ok("list_tables", examples, "{\"database\": \"analytics_db\"}");
    assert_string_equal(jstr(out, "database"), "analytics_db");
    tu_assert_json(json_object_get(out, "tables"),
                   "[\"analytics_db.dim_customer\", \"analytics_db.dim_loan\","
                   " \"analytics_db.loan_repayment_fact\", \"analytics_db.payment_events\"]");
    json_decref(out);

    out = op_ok("get_table", examples, "{\"table\": \"analytics_db.loan_repayment_fact\"}");
    assert_string_equal(jstr(out, "Table.Name"), "loan_repayment_fact");
    assert_string_equal(jstr(out, "Table.StorageDescriptor.Location"),
                        "s3://example-lake/analytics_db/loan_repayment_fact/");
    snprintf(want, sizeof(want), "%s/lake/example-lake/analytics_db/loan_repayment_fact", examples);
    assert_string_equal(jstr(out, "weir.root"), want);
    assert_string_equal(jstr(out, "weir.format"), "csv");
    parts = json_object_get(json_object_get(out, "weir"), "partitions");
    assert_true(json_array_size(parts) >= 3);
    tu_assert_json(json_object_get(json_array_get(parts, 0), "values"), "{\"dt\": \"2026-10-01\"}");
    assert_string_equal(jstr(json_array_get(parts, 2), "path"), strcat(want, "/dt=2026-10-03"));
    json_decref(out);

    assert_int_equal(op("get_table", examples, "{\"table\": \"analytics_db.nope\"}", &out),
                     WEIR_ENOTFOUND);
    assert_contains(weir_error_last(), "analytics_db.nope");
    assert_int_equal(op("list_tables", examples, "{\"database\": \"nodb\"}", &out), WEIR_ENOTFOUND);
    assert_contains(weir_error_last(), "nodb");
    assert_int_equal(op("list_tables", examples, "{}", &out), WEIR_EINVALID);
    assert_int_equal(op("list_databases", examples, "{\"catalog_dir\": \"nowhere\"}", &out),
                     WEIR_ENOTFOUND);
}

static void test_ops_sorted_and_relative(void **state)
{
    char *p = project("ops");
    json_t *out;

    (void)state;
    put(p, "meta/zeta/b.yaml", "location: d\ncolumns: {x: int}\n");
    put(p, "meta/zeta/a.json", "{}");
    put(p, "meta/zeta/c.yml", "location: d\ncolumns: {x: int}\n");
    put(p, "meta/zeta/notes.txt", "");
    put(p, "meta/zeta/_draft.yaml", "");
    put(p, "meta/alpha/.keep", "");
    put(p, "meta/README.md", "");
    out = op_ok("list_databases", p, "{\"catalog_dir\": \"meta\"}");
    tu_assert_json(out, "{\"databases\": [\"alpha\", \"zeta\"]}");
    json_decref(out);
    out = op_ok("list_tables", p, "{\"database\": \"zeta\", \"catalog_dir\": \"meta\"}");
    tu_assert_json(out,
                   "{\"database\": \"zeta\", \"tables\": [\"zeta.a\", \"zeta.b\", \"zeta.c\"]}");
    json_decref(out);
    out = op_ok("list_tables", p, "{\"database\": \"alpha\", \"catalog_dir\": \"meta\"}");
    tu_assert_json(out, "{\"database\": \"alpha\", \"tables\": []}");
    json_decref(out);
    free(p);
}

/* ---- infer ------------------------------------------------------------------- */

static const char *col_type(const json_t *out, const char *name)
{
    size_t i;
    json_t *c;

    json_array_foreach(
        json_object_get(json_object_get(json_object_get(out, "Table"), "StorageDescriptor"),
                        "Columns"),
        i, c) {
        if (!strcmp(jstr(c, "Name"), name)) {
            return jstr(c, "Type");
        }
    }
    fail_msg("no column '%s'", name);
    return NULL;
}

static void test_infer_csv(void **state)
{
    char *p = project("infer_csv");
    static const char header[] = "id;Amount;paid;day;at;code;note\n";
    char *text = NULL;
    json_t *out, *parts;
    struct lake_table *t = NULL;
    char *cat;

    (void)state;
    assert_true(
        asprintf(
            &text,
            "%s1;10.5;true;2026-10-01;2026-10-01 10:00:00;007;\"a;b\"\n"
            "2;-3;false;2026-10-02;2026-10-01T10:00:00.123;010;NA\n"
            "9223372036854775807;1e3;TRUE;2026-02-28;2026-10-01 23:59:59;123;\"multi\nline\"\n",
            header) > 0);
    put(p, "data/sales/dt=2026-10-01/region=eu/part-0.csv", text);
    put(p, "data/sales/dt=2026-10-02/region=us/part-0.csv", header);
    put(p, "data/sales/dt=2026-10-02/region=us/_SUCCESS", "");
    free(text);

    out = op_ok("infer", p, "{\"path\": \"data/sales\", \"database\": \"shop\"}");
    assert_string_equal(jstr(out, "Table.Name"), "sales");
    assert_string_equal(jstr(out, "Table.DatabaseName"), "shop");
    assert_string_equal(jstr(out, "Table.StorageDescriptor.Location"), "data/sales");
    assert_string_equal(jstr(out, "weir.delimiter"), ";");
    assert_string_equal(jstr(out, "weir.format"), "csv");
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(out, "weir"), "sampled_rows")), 3);
    assert_string_equal(col_type(out, "id"), "bigint");
    assert_string_equal(col_type(out, "amount"), "double");
    assert_string_equal(col_type(out, "paid"), "boolean");
    assert_string_equal(col_type(out, "day"), "date");
    assert_string_equal(col_type(out, "at"), "timestamp");
    assert_string_equal(col_type(out, "code"), "string");
    assert_string_equal(col_type(out, "note"), "string");
    parts = json_object_get(json_object_get(out, "Table"), "PartitionKeys");
    tu_assert_json(
        parts,
        "[{\"Name\": \"dt\", \"Type\": \"date\"}, {\"Name\": \"region\", \"Type\": \"string\"}]");
    assert_true(json_is_null(json_object_get(json_object_get(out, "weir"), "written")));
    json_decref(out);

    /* written, then loaded back as a table whose files are the same */
    out = op_ok("infer", p, "{\"path\": \"data/sales\", \"database\": \"shop\", \"write\": true}");
    assert_non_null(jstr(out, "weir.written"));
    json_decref(out);
    assert_true(asprintf(&cat, "%s/catalog", p) > 0);
    if (lake_table_load(cat, "lake", "shop.sales", &t) != WEIR_OK) {
        fail_msg("%s", weir_error_last());
    }
    assert_int_equal(t->delimiter, ';');
    assert_int_equal(t->header_lines, 1);
    assert_int_equal(t->ncolumns, 7);
    assert_int_equal(t->npartitions, 2);
    assert_int_equal(t->partitions[0].kind, LAKE_DATE);
    assert_string_equal(t->columns[1].comment, "header: 'Amount'");
    lake_table_free(t);
    free(cat);

    /* refuses to overwrite unless forced */
    assert_int_equal(
        op("infer", p, "{\"path\": \"data/sales\", \"database\": \"shop\", \"write\": true}", &out),
        WEIR_EEXISTS);
    assert_contains(weir_error_last(), "force");
    out = op_ok(
        "infer", p,
        "{\"path\": \"data/sales\", \"database\": \"shop\", \"write\": true, \"force\": true}");
    json_decref(out);
    free(p);
}

static void test_infer_csv_errors_and_sample(void **state)
{
    char *p = project("infer_bad");
    json_t *out;

    (void)state;
    put(p, "data/ragged/a.csv", "a,b,c\n1,2,3\n4,5\n");
    assert_int_equal(op("infer", p, "{\"path\": \"data/ragged\"}", &out), WEIR_EINVALID);
    assert_contains(weir_error_last(), "a.csv:3: 2 fields");
    /* a sample too small to reach the ragged row */
    out = op_ok("infer", p, "{\"path\": \"data/ragged\", \"sample_rows\": 1}");
    assert_string_equal(col_type(out, "c"), "bigint");
    json_decref(out);

    put(p, "data/hdr/a.csv", "a,b\n1,2\n");
    put(p, "data/hdr/b.csv", "a,c\n1,2\n");
    assert_int_equal(op("infer", p, "{\"path\": \"data/hdr\"}", &out), WEIR_EINVALID);
    assert_contains(weir_error_last(), "different header");

    put(p, "data/empty/.keep", "");
    assert_int_equal(op("infer", p, "{\"path\": \"data/empty\"}", &out), WEIR_EINVALID);
    assert_contains(weir_error_last(), "no data files");

    put(p, "data/tabs.tsv", "x\ty\n1\t2.5\n");
    out = op_ok("infer", p, "{\"path\": \"data/tabs.tsv\"}");
    assert_string_equal(jstr(out, "Table.Name"), "tabs");
    assert_string_equal(jstr(out, "weir.delimiter"), "\t");
    assert_string_equal(col_type(out, "y"), "double");
    json_decref(out);
    free(p);
}

static void test_infer_jsonl(void **state)
{
    char *p = project("infer_jsonl");
    json_t *out, *cols;

    (void)state;
    put(p, "lake/bucket/events/day=1/a.jsonl",
        "{\"id\": 1, \"name\": \"a\", \"at\": \"2026-10-01 01:02:03\"}\n"
        "\n"
        "{\"id\": 2, \"score\": 1.5, \"tags\": [1], \"ok\": true, \"name\": null}\n");
    put(p, "lake/bucket/events/day=2/a.jsonl",
        "{\"id\": 3, \"score\": 2, \"meta\": {\"k\": 1}, \"d\": \"2026-01-01\"}\n");
    out = op_ok("infer", p, "{\"path\": \"lake/bucket/events\"}");
    assert_string_equal(jstr(out, "Table.StorageDescriptor.Location"), "s3://bucket/events/");
    assert_string_equal(jstr(out, "Table.Parameters.classification"), "json");
    assert_string_equal(jstr(out, "weir.format"), "jsonl");
    cols = json_object_get(json_object_get(json_object_get(out, "Table"), "StorageDescriptor"),
                           "Columns");
    tu_assert_json(
        cols,
        "[{\"Name\": \"id\", \"Type\": \"bigint\"}, {\"Name\": \"name\", \"Type\": \"string\"},"
        " {\"Name\": \"at\", \"Type\": \"timestamp\"}, {\"Name\": \"score\", \"Type\": \"double\"},"
        " {\"Name\": \"tags\", \"Type\": \"string\", \"Comment\": \"nested JSON kept as text\"},"
        " {\"Name\": \"ok\", \"Type\": \"boolean\"},"
        " {\"Name\": \"meta\", \"Type\": \"string\", \"Comment\": \"nested JSON kept as text\"},"
        " {\"Name\": \"d\", \"Type\": \"date\"}]");
    tu_assert_json(json_object_get(json_object_get(out, "Table"), "PartitionKeys"),
                   "[{\"Name\": \"day\", \"Type\": \"bigint\"}]");
    json_decref(out);

    put(p, "lake/bucket/bad/a.jsonl", "{\"id\": 1}\n[1]\n");
    assert_int_equal(op("infer", p, "{\"path\": \"lake/bucket/bad\"}", &out), WEIR_EINVALID);
    assert_contains(weir_error_last(), "a.jsonl:2");
    free(p);
}

static void test_infer_refuses_yaml_clash(void **state)
{
    char *p = project("infer_yaml");
    json_t *out;

    (void)state;
    put(p, "catalog/default/t.yaml", "location: t\ncolumns: {a: int}\n");
    put(p, "t/a.csv", "a\n1\n");
    assert_int_equal(op("infer", p, "{\"path\": \"t\", \"write\": true, \"force\": true}", &out),
                     WEIR_EEXISTS);
    assert_contains(weir_error_last(), "t.yaml");
    free(p);
}

/* ---- the command line ------------------------------------------------------- */

/* Runs `weir <args>` in dir; returns the exit status, output in *text. */
static int weir_cli(const char *dir, const char *args, char **text)
{
    char *cmd = NULL, buf[4096];
    size_t n = 0;
    FILE *f;
    int status;

    assert_true(asprintf(&cmd, "cd '%s' && '%s' %s 2>&1", dir, tu_env("WEIR_WEIR_BIN"), args) > 0);
    assert_non_null(f = popen(cmd, "r"));
    n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    status = pclose(f);
    free(cmd);
    *text = strdup(buf);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_cli(void **state)
{
    char *p = project("cli"), *text, *def, *path;

    (void)state;
    assert_int_equal(weir_cli(examples, "catalog list", &text), 0);
    assert_contains(text, "analytics_db.loan_repayment_fact");
    free(text);
    assert_int_equal(
        weir_cli(examples, "catalog show analytics_db.loan_repayment_fact --json", &text), 0);
    assert_contains(text, "\"partitions\"");
    free(text);
    assert_int_equal(weir_cli(examples, "catalog show analytics_db.nope", &text), 2);
    assert_contains(text, "not found");
    free(text);
    assert_int_equal(weir_cli(examples, "catalog show", &text), 2);
    free(text);

    put(p, "data/orders/part-0.csv", "id|total\n1|2.5\n");
    assert_int_equal(weir_cli(p, "catalog infer data/orders --database shop --write", &text), 0);
    assert_contains(text, "written to");
    free(text);
    assert_true(asprintf(&path, "%s/catalog/shop/orders.json", p) > 0);
    assert_non_null(def = tu_read_file(path, NULL));
    assert_contains(def, "\"field.delim\": \"|\"");
    free(def);
    free(path);
    assert_int_equal(weir_cli(p, "catalog infer data/orders --database shop --write", &text), 1);
    assert_contains(text, "--force");
    free(text);
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hive_types),
        cmocka_unit_test(test_glue_and_yaml_agree),
        cmocka_unit_test(test_defaults_and_jsonl),
        cmocka_unit_test(test_unknown_type_names_table_and_column),
        cmocka_unit_test(test_locations),
        cmocka_unit_test(test_example_partitions),
        cmocka_unit_test(test_filter_pruning),
        cmocka_unit_test(test_two_level_partitions),
        cmocka_unit_test(test_stray_files_are_errors),
        cmocka_unit_test(test_missing_location),
        cmocka_unit_test(test_ops_on_examples),
        cmocka_unit_test(test_ops_sorted_and_relative),
        cmocka_unit_test(test_infer_csv),
        cmocka_unit_test(test_infer_csv_errors_and_sample),
        cmocka_unit_test(test_infer_jsonl),
        cmocka_unit_test(test_infer_refuses_yaml_clash),
        cmocka_unit_test(test_cli),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
