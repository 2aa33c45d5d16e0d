/*
 * test_query.c - engine.query and engine.dialect of the lake plugin, loaded
 * from the built lake.so and run through weir_step_invoke with a context
 * whose project is the example lake ($WEIR_SOURCE_DIR/examples) or a small
 * project written by the test: results, types, partition pruning, the
 * read-only gate, row limit, timeout, and bad data failing the query.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "testutil.h"

#include "ctx.h"
#include "error.h"
#include "plugins.h"

#define assert_contains(haystack, needle)                                                     \
    do {                                                                                      \
        if (!strstr((haystack), (needle))) {                                                  \
            fail_msg("\"%s\"\n  does not contain \"%s\"", (haystack), (needle));              \
        }                                                                                     \
    } while (0)

#define FACT "analytics_db.loan_repayment_fact"

static struct weir_plugins *plugins;
static const struct weir_step_def *query_op, *dialect_op;
static char *examples, *proj;

static const char *glue_fmt =
    "{\"Table\": {\"Name\": \"%s\", \"DatabaseName\": \"shop\", \"Parameters\": {%s},"
    " \"StorageDescriptor\": {\"Columns\": [%s], \"Location\": \"%s\"}, \"PartitionKeys\": [%s]}}";

static void write_table(const char *name, const char *params, const char *columns,
                        const char *location, const char *partitions)
{
    char *rel = NULL, *text = NULL;

    assert_true(asprintf(&rel, "catalog/shop/%s.json", name) > 0);
    assert_true(asprintf(&text, glue_fmt, name, params, columns, location, partitions) > 0);
    free(tu_write_file(proj, rel, text));
    free(rel);
    free(text);
}

/* A second project: shop.orders (CSV, partitioned by dt and an int region),
 * shop.customers (JSON Lines), shop.broken (a ragged row). */
static void write_project(void)
{
    write_table("orders", "\"classification\": \"csv\", \"skip.header.line.count\": \"1\"",
                "{\"Name\": \"order_id\", \"Type\": \"bigint\"}, {\"Name\": \"customer_id\", \"Type\": "
                "\"string\"}, {\"Name\": \"amount\", \"Type\": \"decimal(10,2)\"}",
                "data/orders/", "{\"Name\": \"dt\", \"Type\": \"string\"}, {\"Name\": \"region\", "
                "\"Type\": \"int\"}");
    free(tu_write_file(proj, "data/orders/dt=2026-01-01/region=9/a.csv",
                       "order_id,customer_id,amount\n1,c1,10.50\n2,c2,\"20\"\n3,c1,NA\n"));
    free(tu_write_file(proj, "data/orders/dt=2026-01-02/region=10/a.csv",
                       "order_id,customer_id,amount\n4,c3,5\n5,c2,7.25\n"));
    free(tu_write_file(proj, "data/orders/dt=2026-01-02/region=x/a.csv",
                       "order_id,customer_id,amount\n6,c1,1\n"));
    write_table("customers", "\"classification\": \"json\"",
                "{\"Name\": \"customer_id\", \"Type\": \"string\"}, {\"Name\": \"name\", \"Type\": "
                "\"string\"}, {\"Name\": \"tags\", \"Type\": \"array<string>\"}",
                "data/customers/", "");
    free(tu_write_file(proj, "data/customers/c.jsonl",
                       "{\"customer_id\":\"c1\",\"name\":\"Asha\",\"tags\":[\"vip\"]}\n"
                       "{\"customer_id\":\"c2\",\"name\":\"Ravi\"}\n"
                       "{\"customer_id\":\"c3\",\"name\":null}\n"));
    write_table("broken", "\"classification\": \"csv\"",
                "{\"Name\": \"a\", \"Type\": \"string\"}, {\"Name\": \"b\", \"Type\": \"string\"}",
                "data/broken/", "");
    free(tu_write_file(proj, "data/broken/x.csv", "1,2\n3,4\n5,6,7\n"));
}

static int group_setup(void **state)
{
    char *path = NULL;

    (void)state;
    if (weir_plugins_new(&plugins) != WEIR_OK ||
        asprintf(&path, "%s/lake.so", tu_env("WEIR_PLUGIN_DIR")) < 0) {
        return -1;
    }
    if (weir_plugins_load_file(plugins, path) != WEIR_OK) {
        fprintf(stderr, "loading lake.so: %s\n", weir_error_last());
        free(path);
        return -1;
    }
    free(path);
    query_op = weir_plugins_find_op(plugins, "lake", "engine", "query");
    dialect_op = weir_plugins_find_op(plugins, "lake", "engine", "dialect");
    if (!query_op || !dialect_op || asprintf(&examples, "%s/examples", tu_env("WEIR_SOURCE_DIR")) < 0 ||
        (proj = tu_mkdtemp()) == NULL) {
        return -1;
    }
    write_project();
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    weir_plugins_free(plugins);
    tu_rmtree(proj);
    free(proj);
    free(examples);
    return 0;
}

/* Runs engine.query in project with `with` = {"sql": sql} plus the members
 * of the JSON object text extra (or NULL). */
static int run_in(const char *project, const char *sql, const char *extra, int64_t deadline_ms,
                  json_t **out)
{
    struct weir_ctx ctx = { 0 };
    json_t *with = extra ? json_loads(extra, 0, NULL) : json_object();
    int rc;

    assert_non_null(with);
    json_object_set_new(with, "sql", json_string(sql));
    ctx.project = project;
    ctx.step_id = "q";
    ctx.deadline_ms = deadline_ms;
    *out = NULL;
    rc = weir_step_invoke(query_op, with, out, &ctx);
    json_decref(with);
    return rc;
}

static json_t *query_ok(const char *project, const char *sql, const char *extra)
{
    json_t *out = NULL;

    if (run_in(project, sql, extra, 0, &out) != WEIR_OK) {
        fail_msg("%s: %s", sql, weir_error_last());
    }
    return out;
}

static json_int_t int_at(const json_t *out, size_t row, size_t col)
{
    const json_t *v = json_array_get(json_array_get(json_object_get(out, "rows"), row), col);

    assert_true(json_is_integer(v));
    return json_integer_value(v);
}

static json_int_t files_read(const json_t *out)
{
    return json_integer_value(json_object_get(out, "files_read"));
}

static void test_count_all_partitions(void **state)
{
    json_t *out = query_ok(examples, "SELECT COUNT(*) AS n FROM " FACT, NULL);

    (void)state;
    tu_assert_json(json_object_get(out, "columns"), "[{\"name\": \"n\", \"type\": \"INTEGER\"}]");
    tu_assert_json(json_object_get(out, "rows"), "[[120]]");
    assert_int_equal(json_integer_value(json_object_get(out, "row_count")), 1);
    assert_true(json_is_false(json_object_get(out, "truncated")));
    assert_true(json_is_integer(json_object_get(out, "elapsed_ms")));
    assert_int_equal(files_read(out), 3);
    json_decref(out);
}

static void test_partition_pruning(void **state)
{
    json_t *out;

    (void)state;
    out = query_ok(examples, "SELECT COUNT(*) FROM " FACT " WHERE dt = '2026-10-02'", NULL);
    assert_int_equal(int_at(out, 0, 0), 40);
    assert_int_equal(files_read(out), 1);
    json_decref(out);
    out = query_ok(examples, "SELECT COUNT(*), MIN(dt) FROM " FACT " WHERE dt >= '2026-10-02'", NULL);
    assert_int_equal(int_at(out, 0, 0), 80);
    assert_int_equal(files_read(out), 2);
    json_decref(out);
    /* No partition constraint: every file, and the same answer. */
    out = query_ok(examples, "SELECT COUNT(*) FROM " FACT " WHERE substr(dt, 9) = '02'", NULL);
    assert_int_equal(int_at(out, 0, 0), 40);
    assert_int_equal(files_read(out), 3);
    json_decref(out);
}

static void test_pruning_never_drops_matches(void **state)
{
    json_t *out;

    (void)state;
    /* region is an int partition: 9 < 10 numerically; "x" is not a number
     * and must still be read (SQLite orders text after numbers). */
    out = query_ok(proj, "SELECT group_concat(order_id) FROM (SELECT order_id FROM shop.orders "
                         "WHERE region > 9 ORDER BY order_id)", NULL);
    tu_assert_json(json_object_get(out, "rows"), "[[\"4,5,6\"]]");
    assert_int_equal(files_read(out), 2);
    json_decref(out);
    out = query_ok(proj, "SELECT COUNT(*) FROM shop.orders WHERE region = 10", NULL);
    assert_int_equal(int_at(out, 0, 0), 2);
    assert_int_equal(files_read(out), 1);
    json_decref(out);
    /* A numeric bound on a TEXT partition column orders byte-wise in SQL. */
    out = query_ok(proj, "SELECT COUNT(*) FROM shop.orders WHERE dt > '2026'", NULL);
    assert_int_equal(int_at(out, 0, 0), 6);
    json_decref(out);
}

/* Counts rows per status straight from the example files, independently
 * of the reader (the example data has no quoting). */
static void count_statuses(json_t *expect)
{
    static const char *const days[] = { "2026-10-01", "2026-10-02", "2026-10-03" };
    char line[512];

    for (size_t d = 0; d < 3; d++) {
        char *path = NULL;
        FILE *f;

        assert_true(asprintf(&path, "%s/lake/example-lake/analytics_db/loan_repayment_fact/dt=%s/"
                                    "part-000.csv", examples, days[d]) > 0);
        f = fopen(path, "r");
        assert_non_null(f);
        assert_non_null(fgets(line, sizeof(line), f));
        while (fgets(line, sizeof(line), f)) {
            char *status = line;

            for (int k = 0; k < 4; k++) {
                status = strchr(status, ',') + 1;
            }
            *strchr(status, ',') = '\0';
            json_object_set_new(expect, status,
                                json_integer(json_integer_value(json_object_get(expect, status)) + 1));
        }
        fclose(f);
        free(path);
    }
}

static void test_group_by(void **state)
{
    json_t *out = query_ok(examples, "SELECT status, COUNT(*) AS n FROM " FACT " GROUP BY status", NULL);
    json_t *expect = json_object(), *got = json_object(), *row;
    size_t i;

    (void)state;
    count_statuses(expect);
    json_array_foreach(json_object_get(out, "rows"), i, row)
    {
        json_object_set(got, json_string_value(json_array_get(row, 0)), json_array_get(row, 1));
    }
    assert_true(json_object_size(expect) >= 2);
    assert_true(json_equal(got, expect));
    json_decref(expect);
    json_decref(got);
    json_decref(out);
}

static void test_join_and_types(void **state)
{
    json_t *out;

    (void)state;
    out = query_ok(proj, "SELECT c.name, SUM(o.amount) AS total, COUNT(*) AS n, c.tags "
                         "FROM shop.orders o JOIN shop.customers c ON c.customer_id = o.customer_id "
                         "GROUP BY c.customer_id ORDER BY c.customer_id", NULL);
    tu_assert_json(json_object_get(out, "rows"),
                   "[[\"Asha\", 11.5, 3, \"[\\\"vip\\\"]\"], [\"Ravi\", 27.25, 2, null],"
                   " [null, 5.0, 1, null]]");
    json_decref(out);
    out = query_ok(examples, "SELECT loan_id, emi_amount, dt, length(status) AS len, NULL AS nada FROM "
                   FACT " WHERE dt = '2026-10-01' LIMIT 1", NULL);
    tu_assert_json(json_object_get(out, "columns"),
                   "[{\"name\": \"loan_id\", \"type\": \"TEXT\"}, {\"name\": \"emi_amount\", \"type\": "
                   "\"REAL\"}, {\"name\": \"dt\", \"type\": \"TEXT\"}, {\"name\": \"len\", \"type\": "
                   "\"INTEGER\"}, {\"name\": \"nada\", \"type\": null}]");
    tu_assert_json(json_object_get(out, "rows"), "[[\"L01001\", 6814.74, \"2026-10-01\", 7, null]]");
    json_decref(out);
    /* Numbers compare as numbers: 16514.85 > 9000 although "16..." < "9..." as text. */
    out = query_ok(examples, "SELECT COUNT(*) FROM " FACT " WHERE emi_amount > 9000 AND emi_amount < 20000"
                   " AND loan_id = 'L01008' AND dt = '2026-10-01'", NULL);
    assert_int_equal(int_at(out, 0, 0), 1);
    json_decref(out);
}

static void test_refusals(void **state)
{
    static const char *const bad[] = {
        "INSERT INTO shop.broken VALUES (1, 2)",
        "DELETE FROM shop.broken",
        "DROP TABLE shop.broken",
        "UPDATE shop.broken SET a = 1",
        "PRAGMA query_only = 0",
        "ATTACH '/tmp/x.db' AS x",
        "DETACH shop",
        "SELECT 1; SELECT 2",
        "SELECT 1; DROP TABLE shop.broken",
        "SELECT 1 /* c */ ; -- c\n DELETE FROM shop.broken",
        "WITH x AS (SELECT 1) DELETE FROM shop.broken",
        "SELECT load_extension('/tmp/evil.so')",
        "CREATE TABLE t(a)",
        "BEGIN",
        "VACUUM INTO '/tmp/weir-vacuum.db'",
        "EXPLAIN SELECT 1",
        "-- only a comment",
        "",
        NULL,
    };
    json_t *out = NULL;

    (void)state;
    for (size_t i = 0; bad[i]; i++) {
        int rc = run_in(proj, bad[i], NULL, 0, &out);

        if (rc != WEIR_EINVALID) {
            fail_msg("%s: ran (rc %d)", bad[i], rc);
        }
        assert_null(out);
        assert_contains(weir_error_last(), "engine.query: only a single SELECT or WITH statement may run");
    }
    out = query_ok(proj, "  -- leading comment\n/* block */ with x(v) as (select 2) select v from x; -- end\n",
                   NULL);
    tu_assert_json(json_object_get(out, "rows"), "[[2]]");
    json_decref(out);
    out = query_ok(proj, "SELECT 1;", NULL);
    json_decref(out);
}

static void test_max_rows(void **state)
{
    json_t *out = query_ok(examples, "SELECT loan_id FROM " FACT, "{\"max_rows\": 5}");

    (void)state;
    assert_int_equal(json_array_size(json_object_get(out, "rows")), 5);
    assert_int_equal(json_integer_value(json_object_get(out, "row_count")), 5);
    assert_true(json_is_true(json_object_get(out, "truncated")));
    json_decref(out);
    out = query_ok(examples, "SELECT loan_id FROM " FACT, "{\"max_bytes\": 100}");
    assert_true(json_is_true(json_object_get(out, "truncated")));
    assert_in_range(json_integer_value(json_object_get(out, "row_count")), 1, 10);
    json_decref(out);
    out = query_ok(examples, "SELECT loan_id FROM " FACT, "{\"max_rows\": 120}");
    assert_int_equal(json_integer_value(json_object_get(out, "row_count")), 120);
    assert_true(json_is_false(json_object_get(out, "truncated")));
    json_decref(out);
}

static void test_timeout(void **state)
{
    const char *sql = "SELECT COUNT(*) FROM " FACT " a, " FACT " b, " FACT " c, " FACT " d";
    json_t *out = NULL;
    int64_t t0 = tu_now_ms();

    (void)state;
    assert_int_equal(run_in(examples, sql, "{\"timeout_ms\": 300}", 0, &out), WEIR_ETIMEOUT);
    assert_contains(weir_error_last(), "engine.query: stopped after 300 ms");
    assert_true(tu_now_ms() - t0 < 5000);
    /* The step's own deadline stops it too. */
    t0 = tu_now_ms();
    assert_int_equal(run_in(examples, sql, NULL, weir_now_mono_ms() + 300, &out), WEIR_ETIMEOUT);
    assert_true(tu_now_ms() - t0 < 5000);
    assert_null(out);
}

static void test_bad_data_fails_query(void **state)
{
    json_t *out = NULL;
    char *want = NULL;

    (void)state;
    assert_int_equal(run_in(proj, "SELECT COUNT(*) FROM shop.broken", NULL, 0, &out), WEIR_EINVALID);
    assert_true(asprintf(&want, "data/broken/x.csv:3: ragged row: 3 fields, expected 2") > 0);
    assert_contains(weir_error_last(), want);
    free(want);
    assert_null(out);
    /* Other tables of the same catalog still answer. */
    out = query_ok(proj, "SELECT COUNT(*) FROM shop.customers", NULL);
    assert_int_equal(int_at(out, 0, 0), 3);
    json_decref(out);
}

static void test_tables_param_and_dialect(void **state)
{
    struct weir_ctx ctx = { 0 };
    json_t *out = NULL, *with = json_object();

    (void)state;
    out = query_ok(proj, "SELECT COUNT(*) FROM shop.customers", "{\"tables\": [\"shop.customers\"]}");
    assert_int_equal(int_at(out, 0, 0), 3);
    json_decref(out);
    assert_int_equal(run_in(proj, "SELECT * FROM shop.orders", "{\"tables\": [\"shop.customers\"]}", 0,
                            &out),
                     WEIR_EINVALID);
    assert_contains(weir_error_last(), "no such table: shop.orders");
    ctx.project = proj;
    assert_int_equal(weir_step_invoke(dialect_op, with, &out, &ctx), WEIR_OK);
    tu_assert_json(out, "{\"dialect\": \"sqlite\"}");
    json_decref(out);
    json_decref(with);
}

/* The example fact table imported into a plain SQLite table by the test
 * itself (the example files have no quoting), in file order. */
static sqlite3 *import_fact(void)
{
    static const char *const days[] = { "2026-10-01", "2026-10-02", "2026-10-03" };
    sqlite3 *db = NULL;
    sqlite3_stmt *ins = NULL;
    char line[512];

    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE fact(loan_id TEXT, customer_id TEXT, payment_date TEXT,"
                                      " emi_amount REAL, status TEXT, created_at TEXT, dt TEXT)",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO fact VALUES (?, ?, ?, ?, ?, ?, ?)", -1, &ins, NULL),
                     SQLITE_OK);
    for (size_t d = 0; d < 3; d++) {
        char *path = NULL;
        FILE *f;

        assert_true(asprintf(&path, "%s/lake/example-lake/analytics_db/loan_repayment_fact/dt=%s/"
                                    "part-000.csv", examples, days[d]) > 0);
        assert_non_null(f = fopen(path, "r"));
        assert_non_null(fgets(line, sizeof(line), f));
        while (fgets(line, sizeof(line), f)) {
            char *field = line, *next;

            line[strcspn(line, "\r\n")] = '\0';
            for (int k = 0; k < 6; k++) {
                next = strchr(field, ',');
                if (next) {
                    *next = '\0';
                }
                if (*field) {
                    sqlite3_bind_text(ins, k + 1, field, -1, SQLITE_TRANSIENT);
                }
                else {
                    sqlite3_bind_null(ins, k + 1);
                }
                field = next ? next + 1 : field + strlen(field);
            }
            sqlite3_bind_text(ins, 7, days[d], -1, SQLITE_STATIC);
            assert_int_equal(sqlite3_step(ins), SQLITE_DONE);
            sqlite3_reset(ins);
        }
        fclose(f);
        free(path);
    }
    sqlite3_finalize(ins);
    return db;
}

static json_t *plain_rows(sqlite3 *db, const char *sql)
{
    json_t *rows = json_array();
    sqlite3_stmt *st = NULL;

    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW) {
        json_t *row = json_array();

        for (int i = 0; i < sqlite3_column_count(st); i++) {
            switch (sqlite3_column_type(st, i)) {
            case SQLITE_INTEGER:
                json_array_append_new(row, json_integer(sqlite3_column_int64(st, i)));
                break;
            case SQLITE_FLOAT:
                json_array_append_new(row, json_real(sqlite3_column_double(st, i)));
                break;
            case SQLITE_TEXT:
                json_array_append_new(row, json_string((const char *)sqlite3_column_text(st, i)));
                break;
            default:
                json_array_append_new(row, json_null());
            }
        }
        json_array_append_new(rows, row);
    }
    sqlite3_finalize(st);
    return rows;
}

static void test_same_results_as_imported_table(void **state)
{
    static const char *const queries[] = {
        "SELECT status, COUNT(*), ROUND(SUM(emi_amount), 2), MIN(payment_date), MAX(created_at) "
        "FROM %s GROUP BY status ORDER BY status",
        "SELECT dt, COUNT(DISTINCT customer_id), AVG(emi_amount), MAX(emi_amount) FROM %s GROUP BY dt "
        "ORDER BY dt",
        "SELECT loan_id, emi_amount, dt FROM %s WHERE dt BETWEEN '2026-10-02' AND '2026-10-03' AND "
        "emi_amount > 10000 ORDER BY loan_id, dt",
        "SELECT * FROM %s WHERE dt < '2026-10-02' OR status <> 'SUCCESS' ORDER BY dt, loan_id LIMIT 25",
        "SELECT a.customer_id, COUNT(*) FROM %s a JOIN %s b ON a.loan_id = b.loan_id AND a.dt < b.dt "
        "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 5",
        NULL,
    };
    sqlite3 *db = import_fact();

    (void)state;
    for (size_t i = 0; queries[i]; i++) {
        char *vsql = NULL, *psql = NULL;
        json_t *out, *want;

        assert_true(asprintf(&vsql, queries[i], FACT, FACT) > 0);
        assert_true(asprintf(&psql, queries[i], "fact", "fact") > 0);
        out = query_ok(examples, vsql, NULL);
        want = plain_rows(db, psql);
        assert_true(json_array_size(want) > 0);
        if (!json_equal(json_object_get(out, "rows"), want)) {
            char *a = tu_json_text(json_object_get(out, "rows")), *b = tu_json_text(want);

            fail_msg("%s\n  lake:   %.400s\n  sqlite: %.400s", vsql, a, b);
        }
        json_decref(out);
        json_decref(want);
        free(vsql);
        free(psql);
    }
    sqlite3_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_count_all_partitions),
        cmocka_unit_test(test_partition_pruning),
        cmocka_unit_test(test_pruning_never_drops_matches),
        cmocka_unit_test(test_group_by),
        cmocka_unit_test(test_same_results_as_imported_table),
        cmocka_unit_test(test_join_and_types),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_max_rows),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_bad_data_fails_query),
        cmocka_unit_test(test_tables_param_and_dialect),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
