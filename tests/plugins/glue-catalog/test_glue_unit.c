/*
 * test_glue_unit.c - the glue-catalog plugin without a network: Hive type
 * checking, SerDe parameters -> the lake's weir summary (on the example
 * catalog's own Glue JSON), and the three ops run against canned Glue
 * responses (paging, tokens, error mapping) through a fake HTTP client.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "fake_host.h"
#include "gluecat.h"

static int setup(void **state)
{
    (void)state;
    gluecat_host = fake_host();
    setenv("AWS_REGION", "eu-west-1", 1);
    return 0;
}

static json_t *example_table(const char *db, const char *name)
{
    char path[1024];
    json_t *doc;

    snprintf(path, sizeof(path), "%s/examples/catalog/%s/%s.json", tu_env("WEIR_SOURCE_DIR"), db,
             name);
    doc = json_load_file(path, 0, NULL);
    assert_non_null(doc);
    return doc;
}

static void test_hive_types(void **state)
{
    static const struct {
        const char *type;
        enum hive_kind kind;
    } ok[] = {
        { "string", HIVE_STRING },
        { "VARCHAR(10)", HIVE_STRING },
        { "char(1)", HIVE_STRING },
        { "int", HIVE_INT },
        { "tinyint", HIVE_INT },
        { "smallint", HIVE_INT },
        { "bigint", HIVE_BIGINT },
        { "double", HIVE_DOUBLE },
        { "float", HIVE_DOUBLE },
        { "decimal", HIVE_DECIMAL },
        { "decimal(12,2)", HIVE_DECIMAL },
        { "decimal( 5 , 0 )", HIVE_DECIMAL },
        { "boolean", HIVE_BOOLEAN },
        { "date", HIVE_DATE },
        { "timestamp", HIVE_TIMESTAMP },
        { "array<string>", HIVE_COMPLEX },
        { "map<string,array<int>>", HIVE_COMPLEX },
        { "struct<a:int,b:struct<c:string>>", HIVE_COMPLEX },
        { "binary", HIVE_STRING },
    };
    static const char *const bad[] = { "",          "text",          "varchar",
                                       "char(0)",   "decimal(40,2)", "decimal(5,6)",
                                       "array<>",   "map<string>",   "array<int",
                                       "struct<a>", "int extra",     "array<money>" };
    enum hive_kind kind;

    (void)state;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        kind = (enum hive_kind) - 1;
        if (hive_type_parse(ok[i].type, &kind) != 0 || kind != ok[i].kind) {
            fail_msg("'%s': expected kind %d, got %d", ok[i].type, ok[i].kind, kind);
        }
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (hive_type_parse(bad[i], &kind) == 0) {
            fail_msg("'%s' accepted", bad[i]);
        }
    }
    assert_string_equal(hive_kind_inferred(HIVE_DECIMAL), "double");
    assert_string_equal(hive_kind_inferred(HIVE_INT), "integer");
}

static void test_delimiters(void **state)
{
    (void)state;
    assert_int_equal(gluecat_delimiter_parse(","), ',');
    assert_int_equal(gluecat_delimiter_parse("\t"), '\t');
    assert_int_equal(gluecat_delimiter_parse("\\t"), '\t');
    assert_int_equal(gluecat_delimiter_parse("\\u0009"), '\t');
    assert_int_equal(gluecat_delimiter_parse("\\001"), 1);
    assert_int_equal(gluecat_delimiter_parse("ab"), -1);
    assert_int_equal(gluecat_delimiter_parse(""), -1);
}

static void test_weir_from_examples(void **state)
{
    json_t *fact = example_table("analytics_db", "loan_repayment_fact");
    json_t *raw = example_table("raw_db", "raw_payments"), *w = NULL;

    (void)state;
    assert_int_equal(gluecat_table_weir(json_object_get(fact, "Table"), "x.y", &w), WEIR_OK);
    tu_assert_json(w, "{\"root\": \"s3://example-lake/analytics_db/loan_repayment_fact/\","
                      " \"format\": \"csv\", \"delimiter\": \",\", \"header_lines\": 1,"
                      " \"null_tokens\": [\"\", \"NA\", \"NULL\", \"null\", \"\\\\N\"],"
                      " \"files\": null, \"partitions\": null}");
    json_decref(w);
    assert_int_equal(gluecat_table_weir(json_object_get(raw, "Table"), "x.y", &w), WEIR_OK);
    assert_string_equal(json_string_value(json_object_get(w, "format")), "jsonl");
    assert_null(json_object_get(w, "delimiter"));
    json_decref(w);
    json_decref(fact);
    json_decref(raw);
}

static void test_weir_serde_variants(void **state)
{
    json_t *t = json_loads(
        "{\"Name\": \"t\", \"StorageDescriptor\": {\"Columns\": [{\"Name\": \"a\", \"Type\": "
        "\"string\"}], \"Location\": \"s3://b/t/\", \"SerdeInfo\": {\"SerializationLibrary\": "
        "\"org.apache.hadoop.hive.serde2.OpenCSVSerde\", \"Parameters\": {\"separatorChar\": "
        "\"\\t\", \"serialization.null.format\": \"-\"}}}, \"Parameters\": "
        "{\"skip.header.line.count\": \"2\"}}",
        0, NULL);
    json_t *w = NULL;

    (void)state;
    assert_int_equal(gluecat_table_weir(t, "db.t", &w), WEIR_OK);
    tu_assert_json(w, "{\"root\": \"s3://b/t/\", \"format\": \"csv\", \"delimiter\": \"\\t\","
                      " \"header_lines\": 2, \"null_tokens\": [\"-\"], \"files\": null,"
                      " \"partitions\": null}");
    json_decref(w);
    /* Hive's format id "1" is not a delimiter */
    json_object_set_new(
        json_object_get(json_object_get(json_object_get(t, "StorageDescriptor"), "SerdeInfo"),
                        "Parameters"),
        "separatorChar", json_null());
    json_object_del(
        json_object_get(json_object_get(json_object_get(t, "StorageDescriptor"), "SerdeInfo"),
                        "Parameters"),
        "separatorChar");
    json_object_set_new(
        json_object_get(json_object_get(json_object_get(t, "StorageDescriptor"), "SerdeInfo"),
                        "Parameters"),
        "serialization.format", json_string("1"));
    assert_int_equal(gluecat_table_weir(t, "db.t", &w), WEIR_OK);
    assert_string_equal(json_string_value(json_object_get(w, "delimiter")), ",");
    json_decref(w);
    /* a type Glue would store but weir cannot read is named with its column */
    json_object_set_new(
        json_array_get(json_object_get(json_object_get(t, "StorageDescriptor"), "Columns"), 0),
        "Type", json_string("decimal(40,1)"));
    assert_int_equal(gluecat_table_weir(t, "db.t", &w), WEIR_EINVALID);
    assert_non_null(strstr(gluecat_host->error_last(), "table db.t: column 'a' has type "
                                                       "'decimal(40,1)'"));
    json_decref(t);
}

static void test_weir_columnar(void **state)
{
    json_t *t = json_loads("{\"Name\": \"p\", \"StorageDescriptor\": {\"Columns\": [{\"Name\": "
                           "\"a\", \"Type\": \"bigint\"}], \"SerdeInfo\": "
                           "{\"SerializationLibrary\": \"org.apache.hadoop.hive.ql.io.parquet."
                           "serde.ParquetHiveSerDe\"}}}",
                           0, NULL);
    json_t *w = NULL;

    (void)state;
    assert_int_equal(gluecat_table_weir(t, "db.p", &w), WEIR_OK);
    assert_string_equal(json_string_value(json_object_get(w, "format")), "parquet");
    assert_null(json_object_get(w, "delimiter"));
    assert_true(json_is_null(json_object_get(w, "root")));
    json_decref(w);
    json_decref(t);
}

static void register_ops(void)
{
    assert_int_equal(gluecat_register(NULL), WEIR_OK);
}

static void test_list_databases_pages(void **state)
{
    json_t *out = NULL;
    const json_t *reqs;

    (void)state;
    register_ops();
    fake_host_push("GetDatabases", 200,
                   "{\"DatabaseList\": [{\"Name\": \"raw_db\"}, {\"Name\": \"analytics_db\"}],"
                   " \"NextToken\": \"t1\"}");
    fake_host_push("GetDatabases", 200, "{\"DatabaseList\": [], \"NextToken\": \"t2\"}");
    fake_host_push("GetDatabases", 200, "{\"DatabaseList\": [{\"Name\": \"b_db\"}]}");
    assert_int_equal(fake_host_run("list_databases", "{}", &out), WEIR_OK);
    tu_assert_json(out, "{\"databases\": [\"analytics_db\", \"b_db\", \"raw_db\"]}");
    reqs = fake_host_requests();
    assert_int_equal(json_array_size(reqs), 3);
    tu_assert_json(json_object_get(json_array_get(reqs, 0), "json"), "{\"MaxResults\": 100}");
    tu_assert_json(json_object_get(json_array_get(reqs, 1), "json"),
                   "{\"MaxResults\": 100, \"NextToken\": \"t1\"}");
    tu_assert_json(json_object_get(json_array_get(reqs, 2), "json"),
                   "{\"MaxResults\": 100, \"NextToken\": \"t2\"}");
    json_decref(out);
}

static void test_repeated_token(void **state)
{
    json_t *out = NULL;

    (void)state;
    register_ops();
    fake_host_always("GetDatabases", 200,
                     "{\"DatabaseList\": [{\"Name\": \"a\"}], \"NextToken\": \"same\"}");
    assert_int_equal(fake_host_run("list_databases", "{}", &out), WEIR_EIO);
    assert_non_null(strstr(gluecat_host->error_last(), "NextToken repeated"));
    assert_int_equal(fake_host_count("GetDatabases"), 2);
    assert_null(out);
}

static void test_list_tables(void **state)
{
    json_t *out = NULL;

    (void)state;
    register_ops();
    fake_host_push("GetTables", 200,
                   "{\"TableList\": [{\"Name\": \"dim_loan\"}], \"NextToken\": \"n\"}");
    fake_host_push("GetTables", 200,
                   "{\"TableList\": [{\"Name\": \"dim_customer\"}, {\"Name\": \"fact\"}]}");
    assert_int_equal(fake_host_run("list_tables",
                                   "{\"database\": \"analytics_db\", "
                                   "\"catalog_id\": \"123456789012\"}",
                                   &out),
                     WEIR_OK);
    tu_assert_json(out, "{\"database\": \"analytics_db\", \"tables\": [\"analytics_db."
                        "dim_customer\", \"analytics_db.dim_loan\", \"analytics_db.fact\"]}");
    tu_assert_json(json_object_get(json_array_get(fake_host_requests(), 0), "json"),
                   "{\"CatalogId\": \"123456789012\", \"DatabaseName\": \"analytics_db\", "
                   "\"MaxResults\": 100}");
    json_decref(out);

    fake_host_push("GetTables", 400,
                   "{\"__type\": \"EntityNotFoundException\", \"Message\": "
                   "\"Database nope not found.\"}");
    assert_int_equal(fake_host_run("list_tables", "{\"database\": \"nope\"}", &out),
                     WEIR_ENOTFOUND);
    assert_string_equal(gluecat_host->error_last(),
                        "database nope not found in the Glue Data Catalog (region eu-west-1); "
                        "catalog.list_databases lists them");
}

static void test_get_table(void **state)
{
    json_t *fact = example_table("analytics_db", "loan_repayment_fact"), *out = NULL;
    char *text = json_dumps(fact, JSON_COMPACT);

    (void)state;
    register_ops();
    fake_host_push("GetTable", 200, text);
    assert_int_equal(
        fake_host_run("get_table", "{\"table\": \"analytics_db.loan_repayment_fact\"}", &out),
        WEIR_OK);
    assert_true(json_equal(json_object_get(out, "Table"), json_object_get(fact, "Table")));
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(out, "weir"), "header_lines")), 1);
    tu_assert_json(json_object_get(json_array_get(fake_host_requests(), 0), "json"),
                   "{\"DatabaseName\": \"analytics_db\", \"Name\": \"loan_repayment_fact\"}");
    json_decref(out);
    free(text);
    json_decref(fact);
}

static void test_get_table_errors(void **state)
{
    json_t *out = NULL;

    (void)state;
    register_ops();
    fake_host_push("GetTable", 400,
                   "{\"__type\": \"com.amazonaws.glue#EntityNotFoundException\","
                   " \"Message\": \"Table x not found.\"}");
    assert_int_equal(fake_host_run("get_table", "{\"table\": \"analytics_db.x\"}", &out),
                     WEIR_ENOTFOUND);
    assert_string_equal(gluecat_host->error_last(),
                        "table analytics_db.x not found in the Glue Data Catalog (region "
                        "eu-west-1): Table x not found.; catalog.list_tables lists a database's "
                        "tables");
    fake_host_push("GetTable", 400,
                   "{\"__type\": \"AccessDeniedException\", \"Message\": "
                   "\"no glue:GetTable on arn:aws:glue:x\"}");
    assert_int_equal(fake_host_run("get_table", "{\"table\": \"a.b\"}", &out), WEIR_EDENIED);
    assert_non_null(strstr(gluecat_host->error_last(),
                           "Glue GetTable: AccessDeniedException: no glue:GetTable on"));
    fake_host_push("GetTable", 500,
                   "{\"__type\": \"InternalServiceException\", \"Message\": "
                   "\"boom\"}");
    assert_int_equal(fake_host_run("get_table", "{\"table\": \"a.b\"}", &out), WEIR_EIO);
    assert_non_null(strstr(gluecat_host->error_last(),
                           "Glue GetTable: InternalServiceException: boom (HTTP 500"));
    assert_int_equal(fake_host_run("get_table", "{\"table\": \"nodot\"}", &out), WEIR_EINVALID);
    assert_non_null(strstr(gluecat_host->error_last(), "'nodot' is not \"database.table\""));
    fake_host_push("GetTable", 200, "not json");
    assert_int_equal(fake_host_run("get_table", "{\"table\": \"a.b\"}", &out), WEIR_EIO);
    assert_null(out);
}

static void test_error_parse(void **state)
{
    struct awsjson_error e;
    json_t *h = json_pack("{s:s}", "x-amzn-errortype", "ThrottlingException:http://internal");

    (void)state;
    awsjson_error_parse(400, "{}", h, &e);
    assert_string_equal(e.type, "ThrottlingException");
    assert_int_equal(awsjson_error_code(&e), WEIR_EIO);
    assert_true(awsjson_error_throttled(&e));
    awsjson_error_parse(403, "<html>", NULL, &e);
    assert_string_equal(e.type, "HTTP403");
    assert_int_equal(awsjson_error_code(&e), WEIR_EDENIED);
    awsjson_error_parse(400, "{\"code\": \"ValidationException\", \"message\": \"bad\"}", NULL, &e);
    assert_string_equal(e.message, "bad");
    assert_int_equal(awsjson_error_code(&e), WEIR_EINVALID);
    json_decref(h);
}

static void test_no_http_client(void **state)
{
    struct weir_host_api old = *fake_host();
    struct weir_host_api *h = (struct weir_host_api *)fake_host();
    json_t *out = NULL;

    (void)state;
    register_ops();
    h->http_request = NULL;
    assert_int_equal(fake_host_run("list_databases", "{}", &out), WEIR_EVERSION);
    assert_non_null(strstr(gluecat_host->error_last(), "Glue GetDatabases: this weir host has "
                                                       "no HTTP client"));
    *h = old;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_hive_types, setup),
        cmocka_unit_test_setup(test_delimiters, setup),
        cmocka_unit_test_setup(test_weir_from_examples, setup),
        cmocka_unit_test_setup(test_weir_serde_variants, setup),
        cmocka_unit_test_setup(test_weir_columnar, setup),
        cmocka_unit_test_setup(test_list_databases_pages, setup),
        cmocka_unit_test_setup(test_repeated_token, setup),
        cmocka_unit_test_setup(test_list_tables, setup),
        cmocka_unit_test_setup(test_get_table, setup),
        cmocka_unit_test_setup(test_get_table_errors, setup),
        cmocka_unit_test_setup(test_error_parse, setup),
        cmocka_unit_test_setup(test_no_http_client, setup),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
