/*
 * test_sqlgen.c - contract rules as SQL (plugins/contract/sqlgen.c): one
 * golden query per rule kind on SQLite and on Trino, a partition-narrowed
 * source, quoting and escaping, pattern skipped on SQLite, and the scoping
 * of user queries to one partition.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "contract.h"
#include "lake.h"
#include "error.h"
#include "plugins.h"
#include "sqlgen.h"

const struct weir_host_api *contract_host;

static int group_setup(void **state)
{
    (void)state;
    contract_host = weir_host_api_get();
    lake_host = weir_host_api_get();
    return 0;
}

/* Parses a one-rule contract: a column rule on column col, or (col NULL) a
 * table-level check. */
static struct contract *one_rule(const char *col, const char *rule)
{
    char *text = NULL;
    json_t *dq, *errors = NULL;
    struct contract *c = NULL;

    if (col) {
        assert_true(asprintf(&text, "{\"table_name\": \"t\", \"columns\": {\"%s\": {\"type\": \"string\", "
                                    "\"rules\": [%s]}}}", col, rule) > 0);
    }
    else {
        assert_true(asprintf(&text, "{\"table_name\": \"t\", \"columns\": {}, \"table_level_checks\": [%s]}",
                             rule) > 0);
    }
    dq = json_loads(text, 0, NULL);
    assert_non_null(dq);
    if (contract_parse("db.t", dq, NULL, &c, &errors) != WEIR_OK) {
        char *e = json_dumps(errors, 0);

        fail_msg("%s: %s", text, e);
    }
    json_decref(dq);
    json_decref(errors);
    free(text);
    return c;
}

struct golden {
    const char *col;
    const char *rule;
    const char *sql;     /* violation query, or NULL */
    const char *metric;  /* metric query, or NULL */
    const char *sample;  /* sample query, or NULL */
};

static const struct sqlgen_source whole = { .table = "db.t", .date = "2026-10-04" };

static void check_golden(enum sqlgen_dialect d, const struct sqlgen_source *src, const struct golden *g)
{
    struct contract *c = one_rule(g->col, g->rule);
    struct sqlgen_query q;

    assert_int_equal(c->nrules, 1);
    if (sqlgen_rule(d, src, &c->rules[0], 5, &q) != WEIR_OK) {
        fail_msg("%s: %s", g->rule, weir_error_last());
    }
    if (!q.skip) {
        if (g->sql ? !q.sql || strcmp(q.sql, g->sql) : q.sql != NULL) {
            fail_msg("%s sql:\n  got      %s\n  expected %s", g->rule, q.sql ? q.sql : "(null)",
                     g->sql ? g->sql : "(null)");
        }
        if (g->metric ? !q.metric_sql || strcmp(q.metric_sql, g->metric) : q.metric_sql != NULL) {
            fail_msg("%s metric:\n  got      %s\n  expected %s", g->rule, q.metric_sql ? q.metric_sql : "(null)",
                     g->metric ? g->metric : "(null)");
        }
        if (g->sample ? !q.sample_sql || strcmp(q.sample_sql, g->sample) : q.sample_sql != NULL) {
            fail_msg("%s sample:\n  got      %s\n  expected %s", g->rule, q.sample_sql ? q.sample_sql : "(null)",
                     g->sample ? g->sample : "(null)");
        }
    }
    sqlgen_query_free(&q);
    contract_free(c);
}

static const struct golden sqlite_goldens[] = {
    { "c", "{\"type\": \"not_null\"}", "SELECT COUNT(*) AS failures FROM \"db\".\"t\" AS t WHERE \"c\" IS NULL", NULL,
      "SELECT * FROM \"db\".\"t\" AS t WHERE \"c\" IS NULL LIMIT 5" },
    { "c", "{\"type\": \"allowed_values\", \"values\": [\"A\", \"it's\", 3]}",
      "SELECT COUNT(*) AS failures FROM \"db\".\"t\" AS t WHERE \"c\" IS NOT NULL AND \"c\" NOT IN ('A', 'it''s', 3)",
      NULL, "SELECT * FROM \"db\".\"t\" AS t WHERE \"c\" IS NOT NULL AND \"c\" NOT IN ('A', 'it''s', 3) LIMIT 5" },
    { "c", "{\"type\": \"disallowed_values\", \"values\": [\"X\"]}",
      "SELECT COUNT(*) AS failures FROM \"db\".\"t\" AS t WHERE \"c\" IN ('X')", NULL,
      "SELECT * FROM \"db\".\"t\" AS t WHERE \"c\" IN ('X') LIMIT 5" },
    { "c", "{\"type\": \"min\", \"value\": 0}", "SELECT COUNT(*) AS failures FROM \"db\".\"t\" AS t WHERE \"c\" < 0",
      NULL, "SELECT * FROM \"db\".\"t\" AS t WHERE \"c\" < 0 LIMIT 5" },
    { "c", "{\"type\": \"max\", \"value\": 2.5}", "SELECT COUNT(*) AS failures FROM \"db\".\"t\" AS t WHERE \"c\" > 2.5",
      NULL, "SELECT * FROM \"db\".\"t\" AS t WHERE \"c\" > 2.5 LIMIT 5" },
    { "c", "{\"type\": \"range\", \"min\": 1, \"max\": 9}",
      "SELECT COUNT(*) AS failures FROM \"db\".\"t\" AS t WHERE \"c\" < 1 OR \"c\" > 9", NULL,
      "SELECT * FROM \"db\".\"t\" AS t WHERE \"c\" < 1 OR \"c\" > 9 LIMIT 5" },
    { "c", "{\"type\": \"length_range\", \"min\": 2, \"max\": 4}",
      "SELECT COUNT(*) AS failures FROM \"db\".\"t\" AS t WHERE \"c\" IS NOT NULL AND (LENGTH(\"c\") < 2 OR "
      "LENGTH(\"c\") > 4)", NULL,
      "SELECT * FROM \"db\".\"t\" AS t WHERE \"c\" IS NOT NULL AND (LENGTH(\"c\") < 2 OR LENGTH(\"c\") > 4) LIMIT 5" },
    { "c", "{\"type\": \"unique\"}",
      "SELECT COUNT(*) AS failures FROM (SELECT \"c\" FROM \"db\".\"t\" AS t WHERE \"c\" IS NOT NULL GROUP BY \"c\" "
      "HAVING COUNT(*) > 1) AS d", NULL,
      "SELECT \"c\", COUNT(*) AS duplicates FROM \"db\".\"t\" AS t WHERE \"c\" IS NOT NULL GROUP BY \"c\" HAVING "
      "COUNT(*) > 1 ORDER BY \"c\" LIMIT 5" },
    { NULL, "{\"type\": \"grain_unique\", \"grain\": [\"a\", \"b\"]}",
      "SELECT COUNT(*) AS failures FROM (SELECT \"a\", \"b\" FROM \"db\".\"t\" AS t GROUP BY \"a\", \"b\" HAVING "
      "COUNT(*) > 1) AS d", NULL,
      "SELECT \"a\", \"b\", COUNT(*) AS duplicates FROM \"db\".\"t\" AS t GROUP BY \"a\", \"b\" HAVING COUNT(*) > 1 "
      "ORDER BY \"a\", \"b\" LIMIT 5" },
    { "c", "{\"type\": \"foreign_key\", \"ref_table\": \"dim\", \"ref_column\": \"id\"}",
      "SELECT COUNT(*) AS failures FROM \"db\".\"t\" AS t LEFT JOIN \"db\".\"dim\" AS r ON t.\"c\" = r.\"id\" WHERE "
      "r.\"id\" IS NULL AND t.\"c\" IS NOT NULL", NULL,
      "SELECT t.* FROM \"db\".\"t\" AS t LEFT JOIN \"db\".\"dim\" AS r ON t.\"c\" = r.\"id\" WHERE r.\"id\" IS NULL "
      "AND t.\"c\" IS NOT NULL LIMIT 5" },
    { NULL, "{\"type\": \"row_count_range\", \"min\": 10, \"max\": 100}",
      "SELECT COUNT(*) AS failures FROM (SELECT COUNT(*) AS value FROM \"db\".\"t\" AS t) AS m WHERE value IS NULL "
      "OR value < 10 OR value > 100", "SELECT COUNT(*) AS value FROM \"db\".\"t\" AS t", NULL },
    { NULL, "{\"type\": \"row_count_anomaly\", \"max_change_pct\": 20}", NULL,
      "SELECT COUNT(*) AS value FROM \"db\".\"t\" AS t", NULL },
    { NULL, "{\"type\": \"freshness_sla\", \"column\": \"ts\", \"max_lag_hours\": 30}",
      "SELECT COUNT(*) AS failures FROM (SELECT (julianday('2026-10-04', '+1 day') - julianday(MAX(\"ts\"))) * 24.0 "
      "AS value FROM \"db\".\"t\") AS m WHERE value IS NULL OR value > 30",
      "SELECT (julianday('2026-10-04', '+1 day') - julianday(MAX(\"ts\"))) * 24.0 AS value FROM \"db\".\"t\"", NULL },
    { "c", "{\"type\": \"null_ratio_max\", \"max\": 0.1}",
      "SELECT COUNT(*) AS failures FROM (SELECT AVG(CASE WHEN \"c\" IS NULL THEN 1.0 ELSE 0.0 END) AS value FROM "
      "\"db\".\"t\" AS t) AS m WHERE value IS NULL OR value > 0.1",
      "SELECT AVG(CASE WHEN \"c\" IS NULL THEN 1.0 ELSE 0.0 END) AS value FROM \"db\".\"t\" AS t", NULL },
    { NULL, "{\"type\": \"check\", \"expression\": \"a <= b\"}",
      "SELECT COUNT(*) AS failures FROM \"db\".\"t\" AS t WHERE NOT (a <= b)", NULL,
      "SELECT * FROM \"db\".\"t\" AS t WHERE NOT (a <= b) LIMIT 5" },
    { NULL, "{\"type\": \"custom_sql\", \"sql\": \"SELECT * FROM db.t WHERE x = 'db.t'\"}",
      "SELECT * FROM db.t WHERE x = 'db.t'", NULL, NULL },
};

static void test_sqlite_goldens(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(sqlite_goldens) / sizeof(sqlite_goldens[0]); i++) {
        check_golden(SQLGEN_SQLITE, &whole, &sqlite_goldens[i]);
    }
}

static void test_trino_and_pattern(void **state)
{
    static const struct golden pat = {
        "c", "{\"type\": \"pattern\", \"regex\": \"^L[0-9]+$\"}",
        "SELECT COUNT(*) AS failures FROM \"db\".\"t\" AS t WHERE \"c\" IS NOT NULL AND NOT regexp_like(\"c\", "
        "'^L[0-9]+$')", NULL,
        "SELECT * FROM \"db\".\"t\" AS t WHERE \"c\" IS NOT NULL AND NOT regexp_like(\"c\", '^L[0-9]+$') LIMIT 5"
    };
    static const struct golden fresh = {
        NULL, "{\"type\": \"freshness_sla\", \"column\": \"ts\", \"max_lag_hours\": 6}",
        "SELECT COUNT(*) AS failures FROM (SELECT date_diff('second', MAX(CAST(\"ts\" AS timestamp)), TIMESTAMP "
        "'2026-10-04' + INTERVAL '1' DAY) / 3600.0 AS value FROM \"db\".\"t\") AS m WHERE value IS NULL OR value > 6",
        "SELECT date_diff('second', MAX(CAST(\"ts\" AS timestamp)), TIMESTAMP '2026-10-04' + INTERVAL '1' DAY) / "
        "3600.0 AS value FROM \"db\".\"t\"", NULL
    };
    struct contract *c = one_rule("c", pat.rule);
    struct sqlgen_query q;

    check_golden(SQLGEN_TRINO, &whole, &pat);
    check_golden(SQLGEN_TRINO, &whole, &fresh);
    assert_int_equal(sqlgen_rule(SQLGEN_SQLITE, &whole, &c->rules[0], 5, &q), WEIR_OK);
    assert_null(q.sql);
    assert_non_null(q.skip);
    assert_non_null(strstr(q.skip, "not checkable post-load on sqlite"));
    sqlgen_query_free(&q);
    contract_free(c);
    assert_int_equal(sqlgen_dialect_parse("athena"), SQLGEN_TRINO);
    assert_int_equal(sqlgen_dialect_parse("sqlite"), SQLGEN_SQLITE);
    assert_int_equal(sqlgen_dialect_parse("oracle"), -1);
}

static void test_partition_source(void **state)
{
    static const struct sqlgen_source day = { .table = "db.t", .filter_column = "dt", .filter_value = "2026-10-04",
                                              .date = "2026-10-04" };
    static const struct golden nn = {
        "c", "{\"type\": \"not_null\"}",
        "SELECT COUNT(*) AS failures FROM (SELECT * FROM \"db\".\"t\" WHERE \"dt\" = '2026-10-04') AS t WHERE \"c\" "
        "IS NULL", NULL,
        "SELECT * FROM (SELECT * FROM \"db\".\"t\" WHERE \"dt\" = '2026-10-04') AS t WHERE \"c\" IS NULL LIMIT 5"
    };
    char *s;

    (void)state;
    check_golden(SQLGEN_SQLITE, &day, &nn);
    s = sqlgen_scope("SELECT a, COUNT(*) FROM db.t GROUP BY a HAVING COUNT(*) > 1", &day);
    assert_string_equal(s, "SELECT a, COUNT(*) FROM (SELECT * FROM \"db\".\"t\" WHERE \"dt\" = '2026-10-04') AS "
                           "\"t\" GROUP BY a HAVING COUNT(*) > 1");
    free(s);
    s = sqlgen_scope("SELECT COUNT(*) FROM db.t f JOIN db.t_v2 g ON f.k = g.k WHERE f.x = 'db.t'", &day);
    assert_string_equal(s, "SELECT COUNT(*) FROM (SELECT * FROM \"db\".\"t\" WHERE \"dt\" = '2026-10-04') f JOIN "
                           "db.t_v2 g ON f.k = g.k WHERE f.x = 'db.t'");
    free(s);
    s = sqlgen_scope("SELECT COUNT(*) AS failures FROM \"db\".\"t\" AS t WHERE \"c\" IS NULL", &day);
    assert_string_equal(s, "SELECT COUNT(*) AS failures FROM (SELECT * FROM \"db\".\"t\" WHERE \"dt\" = "
                           "'2026-10-04') AS t WHERE \"c\" IS NULL");
    free(s);
    s = sqlgen_scope("SELECT 1 FROM db.t", &whole);
    assert_string_equal(s, "SELECT 1 FROM db.t");
    free(s);
    s = sqlgen_ident("we\"ird.t");
    assert_string_equal(s, "\"we\"\"ird\".\"t\"");
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sqlite_goldens),
        cmocka_unit_test(test_trino_and_pattern),
        cmocka_unit_test(test_partition_source),
    };

    return cmocka_run_group_tests(tests, group_setup, NULL);
}
