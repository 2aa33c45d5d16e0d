/*
 * test_semdiff.c - the semantic diff of two job summaries, on summaries
 * written by hand in the impact.h shape (so these tests pin the diff alone,
 * whatever the summarisers find): the walkthrough's change (inner -> left
 * join, a column renamed), filters added / removed / changed / reformatted,
 * columns added / removed / retyped / recomputed, inputs and outputs, a
 * script added or deleted, the grain; and the lineage graph built from
 * summaries, with its downstream walk and DOT / Mermaid output.
 */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "impact_diff_int.h"
#include "plugins.h"

const struct weir_host_api *impact_host;

static int setup(void **state)
{
    (void)state;
    impact_host = weir_host_api_get();
    return 0;
}

static json_t *parse(const char *text)
{
    json_error_t err;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &err);

    if (!v) {
        fail_msg("bad test JSON at %d: %s", err.line, err.text);
    }
    return v;
}

/* The diff of two summaries given as JSON text ("null" for none). */
static json_t *diff(const char *a, const char *b)
{
    json_t *ja = parse(a), *jb = parse(b), *changes = NULL;

    assert_int_equal(impact_semdiff(ja, jb, &changes), WEIR_OK);
    json_decref(ja);
    json_decref(jb);
    return changes;
}

/* "kind:classification" of each change, joined by spaces. */
static char *kinds(const json_t *changes)
{
    static char buf[2048];
    size_t i;
    json_t *c;

    buf[0] = '\0';
    json_array_foreach(changes, i, c) {
        snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s:%s", i ? " " : "",
                 json_string_value(json_object_get(c, "kind")),
                 json_string_value(json_object_get(c, "classification")));
    }
    return buf;
}

static const json_t *change_of(const json_t *changes, const char *kind)
{
    size_t i;
    json_t *c;

    json_array_foreach(changes, i, c) {
        if (!strcmp(json_string_value(json_object_get(c, "kind")), kind)) {
            return c;
        }
    }
    fail_msg("no %s change in %s", kind, kinds(changes));
    return NULL;
}

/* v1 and v2 of examples/jobs/loan_repayments_etl.py, summarised by hand. */
#define V1                                                                                         \
    "{\"job_name\":\"loan_repayments_etl\",\"language\":\"pyspark\","                              \
    "\"inputs\":[\"raw_db.raw_payments\",\"analytics_db.dim_loan\",\"analytics_db.dim_customer\"]" \
    ","                                                                                            \
    "\"output\":\"analytics_db.loan_repayment_fact\","                                             \
    "\"targets\":[{\"name\":\"analytics_db.loan_repayment_fact\",\"kind\":\"table\","              \
    "\"via\":\"saveAsTable\",\"mode\":\"append\",\"line\":37}],"                                   \
    "\"join_keys\":[{\"left_table\":\"raw_db.raw_payments\",\"right_table\":\"analytics_db.dim_"   \
    "loan\","                                                                                      \
    "\"columns\":[\"loan_id\"],\"how\":\"inner\",\"line\":25},"                                    \
    "{\"left_table\":\"raw_db.raw_payments\",\"right_table\":\"analytics_db.dim_customer\","       \
    "\"columns\":[\"customer_id\"],\"how\":\"inner\",\"line\":26}],"                               \
    "\"filters\":[\"payment_status IN ('SUCCESS', 'FAILED', 'PENDING')\"],"                        \
    "\"filter_details\":[{\"expr\":\"payment_status IN ('SUCCESS', 'FAILED', 'PENDING')\","        \
    "\"table\":\"raw_db.raw_payments\",\"line\":22}],"                                             \
    "\"columns\":[{\"name\":\"loan_id\",\"op\":\"select\",\"sources\":[\"loan_id\"],\"line\":28}," \
    "{\"name\":\"emi_amount\",\"op\":\"alias\",\"sources\":[\"amount\"],\"type\":\"double\","      \
    "\"expr\":\"F.col(\\\"amount\\\").cast(\\\"double\\\")\",\"line\":31},"                        \
    "{\"name\":\"status\",\"op\":\"alias\",\"sources\":[\"payment_status\"],\"line\":32}],"        \
    "\"grain\":[],\"grain_details\":[]}"

static void test_walkthrough_change(void **state)
{
    char *v2 = strdup(V1), *p;
    json_t *changes;
    const json_t *c;

    (void)state;
    /* the second join becomes a left join; emi_amount becomes repayment_amount */
    p = strstr(v2, "\"customer_id\"],\"how\":\"inner\"");
    memcpy(strstr(p, "inner"), "left\" ", 6);
    changes = NULL;
    {
        char *q = strstr(v2, "\"emi_amount\""), *out = malloc(strlen(v2) + 16);

        sprintf(out, "%.*s\"repayment_amount\"%s", (int)(q - v2), v2, q + strlen("\"emi_amount\""));
        free(v2);
        v2 = out;
    }
    changes = diff(V1, v2);
    assert_string_equal(kinds(changes), "join_type_changed:needs_review column_renamed:breaking");
    c = change_of(changes, "join_type_changed");
    tu_assert_json(json_object_get(c, "before"), "\"inner\"");
    tu_assert_json(json_object_get(c, "after"), "\"left\"");
    tu_assert_json(json_object_get(c, "right_table"), "\"analytics_db.dim_customer\"");
    assert_int_equal(json_integer_value(json_object_get(c, "line_after")), 26);
    c = change_of(changes, "column_renamed");
    tu_assert_json(json_object_get(c, "before"), "\"emi_amount\"");
    tu_assert_json(json_object_get(c, "after"), "\"repayment_amount\"");
    tu_assert_json(json_object_get(c, "columns_affected"), "[\"emi_amount\"]");
    assert_int_equal(json_integer_value(json_object_get(c, "line_before")), 31);
    assert_string_equal(impact_changes_status(changes), "breaking");
    json_decref(changes);
    free(v2);
}

static void test_identical_is_empty(void **state)
{
    json_t *changes = diff(V1, V1);

    (void)state;
    assert_int_equal(json_array_size(changes), 0);
    assert_string_equal(impact_changes_status(changes), "ok");
    json_decref(changes);
}

static void test_filters(void **state)
{
    json_t *changes;
    const json_t *c;

    (void)state;
    /* reformatted only: no change */
    changes =
        diff("{\"filters\":[\"a > 1 AND  b = 'x'\"]}", "{\"filters\":[\"a > 1\\n  AND b = 'x'\"]}");
    assert_string_equal(kinds(changes), "");
    json_decref(changes);

    changes = diff("{\"filter_details\":[{\"expr\":\"status <> 'PENDING'\",\"line\":4},"
                   "{\"expr\":\"amount > 0\",\"line\":5}]}",
                   "{\"filter_details\":[{\"expr\":\"status = 'SUCCESS'\",\"line\":4},"
                   "{\"expr\":\"region = 'EU'\",\"line\":9}]}");
    assert_string_equal(
        kinds(changes),
        "filter_changed:needs_review filter_removed:needs_review filter_added:needs_review");
    c = change_of(changes, "filter_changed");
    tu_assert_json(json_object_get(c, "before"), "\"status <> 'PENDING'\"");
    tu_assert_json(json_object_get(c, "after"), "\"status = 'SUCCESS'\"");
    tu_assert_json(json_object_get(c, "columns_affected"), "[\"status\"]");
    c = change_of(changes, "filter_added");
    tu_assert_json(json_object_get(c, "columns_affected"), "[\"region\"]");
    assert_int_equal(json_integer_value(json_object_get(c, "line_after")), 9);
    assert_string_equal(impact_changes_status(changes), "needs_review");
    json_decref(changes);

    /* qualifiers, functions and quoted text are not columns */
    changes = diff("{\"filters\":[]}",
                   "{\"filters\":[\"c.segment = 'retail' AND upper(f.city) <> \\\"x y\\\"\"]}");
    tu_assert_json(json_object_get(json_array_get(changes, 0), "columns_affected"),
                   "[\"segment\", \"city\"]");
    json_decref(changes);
}

static void test_columns(void **state)
{
    json_t *changes;
    const json_t *c;

    (void)state;
    changes = diff("{\"columns\":[{\"name\":\"a\",\"op\":\"select\",\"sources\":[\"a\"]},"
                   "{\"name\":\"b\",\"op\":\"cast\",\"sources\":[\"b\"],\"type\":\"int\"},"
                   "{\"name\":\"c\",\"op\":\"with_column\",\"sources\":[\"x\"],\"expr\":\"x * 2\"},"
                   "{\"name\":\"gone\",\"op\":\"select\",\"sources\":[\"g\"]}]}",
                   "{\"columns\":[{\"name\":\"a\",\"op\":\"select\",\"sources\":[\"a\"]},"
                   "{\"name\":\"b\",\"op\":\"cast\",\"sources\":[\"b\"],\"type\":\"bigint\"},"
                   "{\"name\":\"c\",\"op\":\"with_column\",\"sources\":[\"x\"],\"expr\":\"x * 3\"},"
                   "{\"name\":\"gone\",\"op\":\"select\",\"sources\":[\"g\"]},"
                   "{\"name\":\"gone\",\"op\":\"drop\"},"
                   "{\"name\":\"d\",\"op\":\"with_column\",\"sources\":[\"y\"],\"expr\":\"y\"}]}");
    assert_string_equal(kinds(changes), "column_retyped:breaking column_changed:needs_review "
                                        "column_removed:breaking column_added:non_breaking");
    c = change_of(changes, "column_retyped");
    tu_assert_json(json_object_get(c, "before"), "\"int\"");
    tu_assert_json(json_object_get(c, "after"), "\"bigint\"");
    c = change_of(changes, "column_removed");
    tu_assert_json(json_object_get(c, "columns_affected"), "[\"gone\"]");
    json_decref(changes);

    /* the same select item (line 8) under a new name over renamed sources */
    changes =
        diff("{\"columns\":[{\"name\":\"total_emi\",\"op\":\"select\",\"sources\":[\"emi_amount\"],"
             "\"expr\":\"SUM(f.emi_amount)\",\"line\":8}]}",
             "{\"columns\":[{\"name\":\"total_repaid\",\"op\":\"select\",\"sources\":[\"repayment_"
             "amount\"],"
             "\"expr\":\"SUM(f.repayment_amount)\",\"line\":8}]}");
    assert_string_equal(kinds(changes), "column_renamed:breaking");
    json_decref(changes);
    /* on other lines with other sources: removed and added */
    changes =
        diff("{\"columns\":[{\"name\":\"a\",\"op\":\"select\",\"sources\":[\"x\"],\"line\":8}]}",
             "{\"columns\":[{\"name\":\"b\",\"op\":\"select\",\"sources\":[\"y\"],\"line\":9}]}");
    assert_string_equal(kinds(changes), "column_removed:breaking column_added:non_breaking");
    json_decref(changes);

    /* withColumnRenamed from the same source column under a new name */
    changes =
        diff("{\"columns\":[{\"name\":\"emi\",\"op\":\"rename\",\"from\":\"amount\"}]}",
             "{\"columns\":[{\"name\":\"emi_amount\",\"op\":\"rename\",\"from\":\"amount\"}]}");
    assert_string_equal(kinds(changes), "column_renamed:breaking");
    json_decref(changes);
}

static void test_inputs_outputs_and_files(void **state)
{
    json_t *changes;

    (void)state;
    changes = diff("{\"inputs\":[\"a.x\",\"a.y\"],\"output\":\"b.t\"}",
                   "{\"inputs\":[\"a.x\",\"a.z\"],\"output\":\"b.u\"}");
    assert_string_equal(kinds(changes), "output_removed:breaking output_added:non_breaking "
                                        "input_removed:needs_review input_added:non_breaking");
    json_decref(changes);

    /* a new script: only additions */
    changes = diff("null", "{\"inputs\":[\"a.x\"],\"output\":\"b.t\",\"grain\":[\"k\"]}");
    assert_string_equal(kinds(changes), "output_added:non_breaking input_added:non_breaking");
    assert_string_equal(impact_changes_status(changes), "ok");
    json_decref(changes);

    /* a deleted script: its table is no longer written */
    changes = diff("{\"inputs\":[\"a.x\"],\"output\":\"b.t\"}", "null");
    assert_string_equal(kinds(changes), "output_removed:breaking input_removed:needs_review");
    json_decref(changes);
}

static void test_grain_and_joins(void **state)
{
    json_t *changes;

    (void)state;
    changes = diff("{\"grain\":[\"loan_id\",\"payment_date\"]}",
                   "{\"grain\":[\"payment_date\",\"loan_id\"]}");
    assert_string_equal(kinds(changes), "");
    json_decref(changes);

    changes = diff("{\"grain\":[\"loan_id\",\"payment_date\"],\"grain_details\":[{\"kind\":"
                   "\"dedup\",\"keys\":[\"loan_id\",\"payment_date\"],\"line\":7}]}",
                   "{\"grain\":[\"loan_id\"],\"grain_details\":[{\"kind\":\"dedup\",\"keys\":["
                   "\"loan_id\"],\"line\":8}]}");
    assert_string_equal(kinds(changes), "grain_changed:breaking");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(changes, 0), "line_after")),
                     8);
    json_decref(changes);

    changes =
        diff("{\"join_keys\":[{\"right_table\":\"d\",\"columns\":[\"k\"],\"how\":\"left\"}]}",
             "{\"join_keys\":[{\"right_table\":\"d\",\"columns\":[\"k\",\"j\"],\"how\":\"left\"},"
             "{\"right_table\":\"e\",\"columns\":[\"m\"],\"how\":\"inner\"}]}");
    assert_string_equal(kinds(changes), "join_keys_changed:needs_review join_added:needs_review");
    json_decref(changes);
}

/* Summaries of the wrong shape (a hand-edited file, a newer producer) give
 * what can be compared, never a crash. */
static void test_odd_shapes(void **state)
{
    static const char *const odd[] = {
        "{}",
        "{\"columns\":\"x\",\"join_keys\":[1,{\"right_table\":5}],\"filters\":[null,3],"
        "\"grain\":\"k\",\"targets\":[{}],\"inputs\":[1],\"filter_details\":[{\"expr\":7}]}",
        "{\"columns\":[{\"name\":1},{\"op\":\"drop\"},{\"name\":\"a\",\"op\":\"rename\"}],"
        "\"join_keys\":[{\"right_table\":\"d\"}],\"grain_details\":[{}],\"output\":[]}",
        "[1,2]",
        "\"text\"",
    };
    json_t *changes, *g;

    (void)state;
    for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
        for (size_t k = 0; k < sizeof(odd) / sizeof(odd[0]); k++) {
            changes = diff(odd[i], odd[k]);
            assert_true(json_is_array(changes));
            json_decref(changes);
        }
        g = impact_lineage_new();
        changes = parse(odd[i]);
        assert_int_equal(impact_lineage_add(g, "x.py", changes), WEIR_OK);
        json_decref(changes);
        json_decref(g);
    }
    /* joins without keys on either side: no key change */
    changes = diff("{\"join_keys\":[{\"right_table\":\"d\"}]}",
                   "{\"join_keys\":[{\"right_table\":\"d\"}]}");
    assert_string_equal(kinds(changes), "");
    json_decref(changes);
}

static void test_word_in(void **state)
{
    (void)state;
    assert_true(impact_word_in("SUM(f.emi_amount) AS total", "emi_amount"));
    assert_true(impact_word_in("EMI_AMOUNT >= 0", "emi_amount"));
    assert_false(impact_word_in("emi_amount_usd >= 0", "emi_amount"));
    assert_false(impact_word_in("x_emi_amount", "emi_amount"));
    assert_false(impact_word_in(NULL, "emi_amount"));
}

/* Two jobs: etl writes fact from raw; summary reads fact, writes monthly;
 * report reads monthly. */
static json_t *small_graph(void)
{
    json_t *g = impact_lineage_new(), *s;

    s = parse("{\"job_name\":\"etl\",\"inputs\":[\"raw.p\"],\"output\":\"a.fact\","
              "\"columns\":[{\"name\":\"emi_amount\",\"op\":\"alias\",\"sources\":[\"amount\"]}]}");
    assert_int_equal(impact_lineage_add(g, "jobs/etl.py", s), WEIR_OK);
    json_decref(s);
    s = parse("{\"job_name\":\"monthly\",\"inputs\":[\"a.fact\"],\"output\":\"a.monthly\","
              "\"columns\":[{\"name\":\"total\",\"op\":\"alias\",\"sources\":[\"emi_amount\"],"
              "\"expr\":\"SUM(f.emi_amount)\"}]}");
    assert_int_equal(impact_lineage_add(g, "jobs/monthly.sql", s), WEIR_OK);
    json_decref(s);
    s = parse("{\"job_name\":\"dash\",\"inputs\":[\"a.monthly\"],\"output\":\"a.dash\","
              "\"columns\":[{\"name\":\"grand\",\"op\":\"alias\",\"sources\":[\"total\"]},"
              "{\"name\":\"n\",\"op\":\"alias\",\"sources\":[\"payments\"]}]}");
    assert_int_equal(impact_lineage_add(g, "jobs/dash.sql", s), WEIR_OK);
    json_decref(s);
    return g;
}

static void test_lineage(void **state)
{
    json_t *g = small_graph(), *down = NULL, *cols = parse("[\"emi_amount\",\"status\"]");
    char *text = NULL;

    (void)state;
    assert_int_equal(json_array_size(json_object_get(g, "nodes")), 7);
    assert_int_equal(json_array_size(json_object_get(g, "edges")), 6);
    tu_assert_json(json_array_get(json_object_get(g, "column_edges"), 0),
                   "{\"table\":\"a.fact\",\"column\":\"emi_amount\",\"sources\":[\"amount\"],"
                   "\"job\":\"jobs/etl.py\",\"inputs\":[\"raw.p\"]}");

    assert_int_equal(impact_lineage_downstream(g, "a.fact", cols, &down), WEIR_OK);
    tu_assert_json(down,
                   "[{\"table\":\"a.monthly\",\"job\":\"monthly\",\"path\":\"jobs/monthly.sql\","
                   "\"depth\":1,\"via\":\"a.fact\",\"columns_read\":[\"emi_amount\"],"
                   "\"columns_affected\":[\"total\"]},"
                   "{\"table\":\"a.dash\",\"job\":\"dash\",\"path\":\"jobs/dash.sql\","
                   "\"depth\":2,\"via\":\"a.monthly\",\"columns_read\":[\"total\"],"
                   "\"columns_affected\":[\"grand\"]}]");
    json_decref(down);
    /* no affected columns: the same tables, nothing read */
    assert_int_equal(impact_lineage_downstream(g, "a.fact", NULL, &down), WEIR_OK);
    assert_int_equal(json_array_size(down), 2);
    tu_assert_json(json_object_get(json_array_get(down, 1), "columns_read"), "[]");

    assert_int_equal(impact_lineage_format(g, "dot", &text), WEIR_OK);
    assert_non_null(strstr(text, "digraph lineage {"));
    assert_non_null(strstr(text, "n0 [label=\"etl\", shape=ellipse];"));
    assert_non_null(strstr(text, "n1 [label=\"raw.p\", shape=box];"));
    assert_non_null(strstr(text, "n1 -> n0;"));
    impact_host->free(text);
    assert_int_equal(impact_lineage_format(g, "mermaid", &text), WEIR_OK);
    assert_non_null(strstr(text, "flowchart LR\n"));
    assert_non_null(strstr(text, "n0([\"etl\"])"));
    assert_non_null(strstr(text, "n0 --> n2"));
    impact_host->free(text);
    /* an intermediate select and the final one: one edge, the final's sources */
    {
        json_t *sum = parse("{\"output\":\"a.x\",\"columns\":["
                            "{\"name\":\"k\",\"op\":\"select\",\"sources\":[\"k\"]},"
                            "{\"name\":\"k\",\"op\":\"alias\",\"sources\":[\"key\"]}]}");
        size_t before = json_array_size(json_object_get(g, "column_edges"));

        assert_int_equal(impact_lineage_add(g, "jobs/x.py", sum), WEIR_OK);
        assert_int_equal(json_array_size(json_object_get(g, "column_edges")), before + 1);
        tu_assert_json(
            json_object_get(json_array_get(json_object_get(g, "column_edges"), before), "sources"),
            "[\"key\"]");
        json_decref(sum);
    }
    assert_int_equal(impact_lineage_format(g, "svg", &text), WEIR_EINVALID);
    assert_non_null(strstr(impact_host->error_last(), "unknown format 'svg'"));
    json_decref(down);
    json_decref(cols);
    json_decref(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_walkthrough_change),
        cmocka_unit_test(test_identical_is_empty),
        cmocka_unit_test(test_filters),
        cmocka_unit_test(test_columns),
        cmocka_unit_test(test_inputs_outputs_and_files),
        cmocka_unit_test(test_grain_and_joins),
        cmocka_unit_test(test_odd_shapes),
        cmocka_unit_test(test_word_in),
        cmocka_unit_test(test_lineage),
    };

    return cmocka_run_group_tests(tests, setup, NULL);
}
