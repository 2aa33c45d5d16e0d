/*
 * test_summarize.c - the pieces of impact.summarize_job: the Python
 * tokenizer, SQL and PySpark summaries of small scripts written to exercise
 * one rule each, hostile input (bounded, never a crash), and the step with
 * its parameters and errors.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "impact.h"
#include "plugins.h"
#include "pytok.h"
#include "rt_util.h"

const struct weir_host_api *impact_host;

static json_t *summarize(const char *name, const char *src)
{
    json_t *out = NULL;

    assert_int_equal(impact_summarize(name, src, strlen(src), IMPACT_LANG_AUTO, &out), WEIR_OK);
    assert_non_null(out);
    return out;
}

/* The field as compact JSON, for comparisons with a literal. */
#define assert_field(sum, field, json) tu_assert_json(json_object_get((sum), (field)), (json))

/* The i-th element of an array field's member, e.g. join_keys[0].how. */
static const json_t *at(const json_t *sum, const char *field, size_t i, const char *key)
{
    return json_object_get(json_array_get(json_object_get(sum, field), i), key);
}

/* ---- tokenizer ---- */

static void test_pytok(void **state)
{
    static const char src[] = "def f(a,\n"
                              "      b):  # comment\n"
                              "    x = rf'''q{a}\n"
                              "''' + \\\n"
                              "        \"s\\\"t\"\n"
                              "\n"
                              "    return x\n"
                              "y = 1\n";
    static const enum pytok_kind want[] = {
        PYTOK_NAME,    PYTOK_NAME, PYTOK_OP,     PYTOK_NAME,    PYTOK_OP,
        PYTOK_NAME,    PYTOK_OP,   PYTOK_OP,     PYTOK_NEWLINE, PYTOK_INDENT,
        PYTOK_NAME,    PYTOK_OP,   PYTOK_STRING, PYTOK_OP,      PYTOK_STRING,
        PYTOK_NEWLINE, PYTOK_NAME, PYTOK_NAME,   PYTOK_NEWLINE, PYTOK_DEDENT,
        PYTOK_NAME,    PYTOK_OP,   PYTOK_NUMBER, PYTOK_NEWLINE, PYTOK_END,
    };
    struct pytok t;
    size_t len;
    int flags;
    const char *body;

    (void)state;
    assert_int_equal(pytok_run(src, sizeof(src) - 1, &t), WEIR_OK);
    assert_int_equal(t.n, sizeof(want) / sizeof(want[0]));
    for (size_t i = 0; i < t.n; i++) {
        assert_int_equal(t.v[i].kind, want[i]);
    }
    /* the triple-quoted raw f-string keeps its newline and starts on line 3 */
    assert_int_equal(t.v[12].line, 3);
    body = pytok_string_body(src, &t.v[12], &len, &flags);
    assert_int_equal(flags, PYTOK_STR_RAW | PYTOK_STR_F);
    assert_int_equal(len, 5);
    assert_memory_equal(body, "q{a}\n", 5);
    assert_int_equal(t.v[14].line, 5); /* after the backslash continuation */
    assert_int_equal(t.v[16].line, 7); /* return, after a blank line */
    assert_int_equal(t.v[20].line, 8);
    pytok_free(&t);
}

static void test_pytok_hostile(void **state)
{
    static const char *const inputs[] = {
        "'''never closed",
        "x = (((((",
        ")))]]]}}}",
        "\t\t  \n   x\n y\n\tz\n",
        "\\",
        "\"\\",
        "f'{'",
        "\x80\xff\xfe\x00\x61\x62\x63",
        "   # only a comment",
    };
    struct pytok t;

    (void)state;
    for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
        int depth = 0;

        assert_int_equal(pytok_run(inputs[i], strlen(inputs[i]) + (i == 7 ? 4 : 0), &t), WEIR_OK);
        assert_int_equal(t.v[t.n - 1].kind, PYTOK_END);
        for (size_t k = 0; k < t.n; k++) {
            depth += (t.v[k].kind == PYTOK_INDENT) - (t.v[k].kind == PYTOK_DEDENT);
            assert_true(depth >= 0);
        }
        assert_int_equal(depth, 0);
        pytok_free(&t);
    }
}

/* ---- SQL ---- */

static void test_sql_ctes_and_targets(void **state)
{
    json_t *s =
        summarize("etl/daily_orders.sql",
                  "WITH recent AS (SELECT * FROM raw.orders WHERE dt > '2024-01-01'),\n"
                  "     big AS (SELECT * FROM recent WHERE total > 100)\n"
                  "INSERT INTO mart.big_orders\n"
                  "SELECT b.order_id, c.name AS customer_name,\n"
                  "       row_number() OVER (PARTITION BY c.region ORDER BY b.total) AS rk\n"
                  "FROM big b JOIN raw.customers c ON c.id = b.customer_id\n"
                  "GROUP BY 1, 2;\n");

    (void)state;
    assert_string_equal(json_string_value(json_object_get(s, "job_name")), "daily_orders");
    assert_string_equal(json_string_value(json_object_get(s, "language")), "sql");
    assert_field(s, "inputs", "[\"raw.orders\", \"raw.customers\"]"); /* CTE names are not */
    assert_field(s, "output", "\"mart.big_orders\"");
    assert_field(s, "filters", "[\"dt > '2024-01-01'\", \"total > 100\"]");
    /* the ON clause names the right table first; keys are still left / right */
    assert_string_equal(json_string_value(at(s, "join_keys", 0, "left_table")), "big");
    assert_string_equal(json_string_value(at(s, "join_keys", 0, "right_table")), "raw.customers");
    tu_assert_json(at(s, "join_keys", 0, "left_columns"), "[\"customer_id\"]");
    tu_assert_json(at(s, "join_keys", 0, "right_columns"), "[\"id\"]");
    tu_assert_json(at(s, "join_keys", 0, "columns"), "[\"customer_id=id\"]");
    assert_int_equal(json_integer_value(at(s, "join_keys", 0, "line")), 6);
    /* GROUP BY 1, 2 names the select list's first two outputs */
    assert_field(s, "grain_details",
                 "[{\"kind\": \"window\", \"keys\": [\"region\"], \"line\": 5},"
                 " {\"kind\": \"group_by\", \"keys\": [\"order_id\", "
                 "\"customer_name\"], \"line\": 7}]");
    tu_assert_json(at(s, "columns", 1, "from"), "\"name\"");
    assert_string_equal(json_string_value(at(s, "columns", 1, "op")), "alias");
    assert_int_equal(json_array_size(json_object_get(s, "diagnostics")), 0);
    json_decref(s);
}

static void test_sql_spark_rewrites(void **state)
{
    json_t *s = summarize("x.sql", "INSERT OVERWRITE TABLE `dw`.`t` PARTITION (dt = '1')\n"
                                   "SELECT a FROM `raw`.`s` WHERE `a` IS NOT NULL");

    (void)state;
    assert_field(s, "targets",
                 "[{\"name\": \"dw.t\", \"kind\": \"table\", \"via\": "
                 "\"INSERT OVERWRITE\", \"mode\": \"overwrite\", \"line\": 1}]");
    assert_field(s, "inputs", "[\"raw.s\"]");
    assert_field(s, "filters", "[\"`a` IS NOT NULL\"]");
    json_decref(s);
}

static void test_sql_rejected_uses_fallback(void **state)
{
    json_t *s = summarize("x.sql", "SELECT 1;\n"
                                   "WITH c AS (SELECT * FROM raw.a)\n"
                                   "INSERT INTO out.t SELECT transform(xs, x -> x + 1) FROM c\n"
                                   "  JOIN raw.b ON c.k = b.k, raw.d\n"
                                   "WHERE extract(year FROM c.ts) = 2024 ???");
    const char *msg;

    (void)state;
    assert_field(s, "inputs", "[\"raw.a\", \"raw.b\", \"raw.d\"]");
    assert_field(s, "output", "\"out.t\"");
    assert_int_equal(json_array_size(json_object_get(s, "diagnostics")), 1);
    /* "->" is a PostgreSQL operator; the parser gives up at the "???" */
    assert_int_equal(json_integer_value(at(s, "diagnostics", 0, "line")), 5);
    msg = json_string_value(at(s, "diagnostics", 0, "message"));
    assert_non_null(strstr(msg, "PostgreSQL parser rejected"));
    json_decref(s);
}

static void test_sql_merge(void **state)
{
    json_t *s = summarize("m.sql", "MERGE INTO dw.dim t USING stage.src s ON t.id = s.id AND "
                                   "t.region = s.region\n"
                                   "WHEN MATCHED THEN UPDATE SET v = s.v");

    (void)state;
    assert_field(s, "inputs", "[\"stage.src\"]");
    assert_field(s, "output", "\"dw.dim\"");
    assert_field(s, "grain", "[\"id\", \"region\"]");
    assert_string_equal(json_string_value(at(s, "targets", 0, "mode")), "merge");
    json_decref(s);
}

/* ---- PySpark ---- */

static void test_py_follows_variables(void **state)
{
    json_t *s = summarize("jobs/orders.py",
                          "from pyspark.sql import functions as F\n"
                          "DB = 'sales'\n"
                          "o = spark.table(f'{DB}.orders').alias('o')\n"
                          "c = spark.read.format('parquet').load('s3://b/customers/')\n"
                          "j = o.join(c.alias('c'), F.col('c.id') == F.col('o.cust_id'), 'left')\n"
                          "j = j.where((F.col('o.amount') > 10) & ~F.col('c.test'))\n"
                          "j = j.withColumn('amt', F.col('o.amount').cast('decimal(10,2)'))\n"
                          "j.groupBy('cust_id').agg(F.sum('amt').alias('total'))\\\n"
                          "  .write.insertInto('mart.totals', overwrite=True)\n");

    (void)state;
    assert_string_equal(json_string_value(json_object_get(s, "language")), "pyspark");
    assert_field(s, "inputs", "[\"sales.orders\", \"s3://b/customers/\"]");
    assert_field(s, "targets",
                 "[{\"name\": \"mart.totals\", \"kind\": \"table\", \"via\": "
                 "\"insertInto\", \"mode\": \"overwrite\", \"line\": 9}]");
    assert_field(s, "join_keys",
                 "[{\"left_table\": \"sales.orders\", \"right_table\": \"s3://b/customers/\","
                 " \"columns\": [\"cust_id=id\"], \"left_columns\": [\"cust_id\"],"
                 " \"right_columns\": [\"id\"], \"how\": \"left\", \"line\": 5}]");
    assert_field(s, "filters", "[\"o.amount > 10\", \"NOT c.test\"]");
    assert_string_equal(json_string_value(at(s, "columns", 0, "op")), "cast");
    assert_string_equal(json_string_value(at(s, "columns", 0, "type")), "decimal(10,2)");
    assert_field(s, "grain", "[\"cust_id\"]");
    assert_int_equal(json_array_size(json_object_get(s, "unresolved")), 0);
    json_decref(s);
}

static void test_py_unresolved_is_reported(void **state)
{
    json_t *s = summarize("j.py", "import os\n"
                                  "args = getResolvedOptions(sys.argv, ['src'])\n"
                                  "a = spark.table(args['src'])\n"
                                  "b = spark.table(os.environ['DIM'])\n"
                                  "a.join(b, 'k').write.saveAsTable(tbl)\n");

    (void)state;
    assert_field(s, "inputs", "[]");
    assert_field(s, "output", "null");
    assert_field(s, "unresolved",
                 "[{\"line\": 3, \"what\": \"table name (spark.table) from job argument 'src'\"},"
                 " {\"line\": 4, \"what\": \"table name (spark.table) from environment variable "
                 "'DIM'\"},"
                 " {\"line\": 5, \"what\": \"table name (saveAsTable) from an expression the "
                 "summariser cannot evaluate\"}]");
    json_decref(s);
}

static void test_py_spark_sql_and_views(void **state)
{
    json_t *s =
        summarize("v.py", "spark.table('raw.events').createOrReplaceTempView('ev')\n"
                          "q = '''\n"
                          "SELECT e.user_id, count(*) AS n\n"
                          "FROM ev e JOIN dim.users u ON e.user_id = u.user_id\n"
                          "WHERE e.kind = 'click'\n"
                          "GROUP BY e.user_id'''\n"
                          "spark.sql(q).write.mode('append').parquet('s3://out/clicks/')\n");

    (void)state;
    assert_field(s, "inputs", "[\"raw.events\", \"dim.users\"]"); /* not the view ev */
    assert_string_equal(json_string_value(at(s, "join_keys", 0, "left_table")), "raw.events");
    assert_int_equal(json_integer_value(at(s, "join_keys", 0, "line")), 4);
    assert_int_equal(json_integer_value(at(s, "filter_details", 0, "line")), 5);
    assert_field(s, "targets",
                 "[{\"name\": \"s3://out/clicks/\", \"kind\": \"path\", \"via\": "
                 "\"write.parquet\", \"mode\": \"append\", \"line\": 7}]");
    json_decref(s);
}

static void test_py_functions_and_loops(void **state)
{
    json_t *s = summarize("f.py", "def load(name):\n"
                                  "    return spark.table('raw.' + name)\n"
                                  "def never_called(df):\n"
                                  "    df.write.saveAsTable('x.y')\n"
                                  "for t in ['a', 'b']:\n"
                                  "    load(t).dropDuplicates(['id'])\n");

    (void)state;
    assert_field(s, "inputs", "[\"raw.a\", \"raw.b\"]");
    assert_field(s, "output", "\"x.y\"");
    assert_field(s, "grain_details", "[{\"kind\": \"dedup\", \"keys\": [\"id\"], \"line\": 6}]");
    json_decref(s);
}

/* ---- hostile input ---- */

static void test_hostile(void **state)
{
    size_t n = 200000;
    char *deep = malloc(n + 1);
    json_t *s;

    (void)state;
    /* nesting far beyond every recursion bound */
    memset(deep, '(', n);
    deep[n] = '\0';
    s = summarize("deep.py", deep);
    json_decref(s);
    s = summarize("deep.sql", deep);
    assert_true(json_array_size(json_object_get(s, "diagnostics")) >= 1);
    json_decref(s);
    memcpy(deep, "x = ", 4);
    for (size_t i = 4; i + 6 < n; i += 6) {
        memcpy(deep + i, "f(a).(", 6);
    }
    json_decref(summarize("chain.py", deep));
    for (size_t i = 0; i < n; i++) {
        deep[i] = (char)(i * 7919 % 251 + 1);
    }
    json_decref(summarize("noise.py", deep));
    json_decref(summarize("noise.sql", deep));
    free(deep);
    /* a def with a long body, defined again at every call of its parent:
     * the work is bounded by the script's size, not size times calls */
    {
        size_t cap = 20000 * 16 + 16, o = 0;
        char *q = malloc(cap);

        o += (size_t)sprintf(q + o, "def f():\n    def g():\n");
        for (int i = 0; i < 8000 && o + 32 < cap; i++) {
            o += (size_t)sprintf(q + o, "        x = 1\n");
        }
        for (int i = 0; i < 8000 && o + 32 < cap; i++) {
            o += (size_t)sprintf(q + o, "f()\n");
        }
        s = summarize("quadratic.py", q);
        json_decref(s);
        free(q);
    }
    /* recursion through the script's own functions stops */
    json_decref(summarize("r.py", "def f(x):\n    return f(f(x))\nf(spark.table('a.b'))\n"));
}

static void test_too_big(void **state)
{
    json_t *out = NULL;

    (void)state;
    assert_int_equal(impact_summarize("big.py", "", (8u << 20) + 1, IMPACT_LANG_AUTO, &out),
                     WEIR_ETOOBIG);
    assert_null(out);
}

/* ---- the step ---- */

static void test_step(void **state)
{
    char *dir = tu_mkdtemp(),
         *path = tu_write_file(dir, "jobs/load.sql", "INSERT INTO a.b SELECT * FROM c.d");
    json_t *in, *out = NULL;

    (void)state;
    in = json_pack("{s:s, s:s}", "script", path, "language", "auto");
    assert_int_equal(impact_step_summarize_job.run(in, &out, NULL, NULL), WEIR_OK);
    assert_field(out, "inputs", "[\"c.d\"]");
    assert_string_equal(json_string_value(json_object_get(out, "script")), path);
    assert_string_equal(json_string_value(json_object_get(out, "job_name")), "load");
    json_decref(out);
    json_decref(in);

    /* inline text; language forced */
    in = json_pack("{s:s, s:s}", "text", "spark.table('x.y')", "language", "pyspark");
    out = NULL;
    assert_int_equal(impact_step_summarize_job.run(in, &out, NULL, NULL), WEIR_OK);
    assert_field(out, "inputs", "[\"x.y\"]");
    json_decref(out);
    json_decref(in);

    in = json_pack("{s:s}", "script", "/nonexistent/weir/job.py");
    out = NULL;
    assert_int_equal(impact_step_summarize_job.run(in, &out, NULL, NULL), WEIR_ENOTFOUND);
    assert_non_null(strstr(impact_host->error_last(), "/nonexistent/weir/job.py"));
    json_decref(in);

    in = json_pack("{s:s, s:s}", "text", "x", "language", "scala");
    assert_int_equal(impact_step_summarize_job.run(in, &out, NULL, NULL), WEIR_EINVALID);
    assert_non_null(strstr(impact_host->error_last(), "scala"));
    json_decref(in);

    in = json_object();
    assert_int_equal(impact_step_summarize_job.run(in, &out, NULL, NULL), WEIR_EINVALID);
    json_decref(in);
    assert_null(out);
    tu_rmtree(dir);
    free(path);
    free(dir);
}

/* The step in a pipeline: the script path is relative to the project. */
static void test_step_in_pipeline(void **state)
{
    struct rt_project *p = rt_project_new(NULL);
    enum weir_run_status st;
    json_t *sum, *out;

    (void)state;
    free(rt_write(p, "jobs/etl.py",
                  "df = glueContext.create_dynamic_frame.from_catalog(database='raw',\n"
                  "    table_name='payments').toDF()\n"
                  "df.groupBy('loan_id').count().write.saveAsTable('mart.payments_by_loan')\n"));
    sum = rt_run(p, "summarize.yaml",
                 "version: 1\n"
                 "name: summarize\n"
                 "steps:\n"
                 "  - id: job\n"
                 "    uses: impact.summarize_job\n"
                 "    with: { script: jobs/etl.py }\n",
                 1, NULL, &st, NULL);
    rt_assert_status(sum, "job", "success");
    out = json_object_get(rt_step(sum, "job"), "output");
    tu_assert_json(json_object_get(out, "inputs"), "[\"raw.payments\"]");
    tu_assert_json(json_object_get(out, "output"), "\"mart.payments_by_loan\"");
    tu_assert_json(json_object_get(out, "grain"), "[\"loan_id\"]");
    tu_assert_json(json_object_get(out, "script"), "\"jobs/etl.py\"");
    json_decref(sum);
    rt_project_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pytok),
        cmocka_unit_test(test_pytok_hostile),
        cmocka_unit_test(test_sql_ctes_and_targets),
        cmocka_unit_test(test_sql_spark_rewrites),
        cmocka_unit_test(test_sql_rejected_uses_fallback),
        cmocka_unit_test(test_sql_merge),
        cmocka_unit_test(test_py_follows_variables),
        cmocka_unit_test(test_py_unresolved_is_reported),
        cmocka_unit_test(test_py_spark_sql_and_views),
        cmocka_unit_test(test_py_functions_and_loops),
        cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_too_big),
        cmocka_unit_test(test_step),
        cmocka_unit_test(test_step_in_pipeline),
    };

    impact_host = weir_host_api_get();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
