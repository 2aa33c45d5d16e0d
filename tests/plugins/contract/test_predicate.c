/*
 * test_predicate.c - the pre-load predicate program (plugins/contract/
 * predicate.c): every row rule kind on passing, failing and NULL values,
 * the reasons it gives, rule selection and compile errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "contract.h"
#include "lake.h"
#include "plugins.h"
#include "predicate.h"

const struct weir_host_api *contract_host;

#define NCOLS 10
static const char *const names[NCOLS] = { "id",  "amount", "status", "code", "name",
                                          "day", "ts",     "flag",   "qty",  "price" };
static const char *const types[NCOLS] = {
    "string", "double",    "string",  "string", "string",
    "date",   "timestamp", "boolean", "int",    "decimal(5,2)"
};
static struct lake_column columns[NCOLS];
static struct lake_table table;

static int group_setup(void **state)
{
    size_t i;

    (void)state;
    contract_host = weir_host_api_get();
    lake_host = weir_host_api_get();
    for (i = 0; i < NCOLS; i++) {
        columns[i].name = (char *)names[i];
        columns[i].type = (char *)types[i];
        columns[i].kind = lake_type_parse(types[i]);
    }
    table.database = "db";
    table.name = "t";
    table.columns = columns;
    table.ncolumns = NCOLS;
    return 0;
}

/* A compiled contract of the given rules on one column (or table-level when
 * col is NULL). */
struct prog {
    struct contract *c;
    struct predicate *p;
};

static void prog_init(struct prog *g, const char *dq_text, const char *only_text)
{
    json_t *dq = json_loads(dq_text, 0, NULL), *errors = NULL;
    json_t *only = only_text ? json_loads(only_text, 0, NULL) : NULL;

    if (dq == NULL) {
        fail_msg("bad test JSON: %s", dq_text);
    }
    if (contract_parse("db.t", dq, NULL, &g->c, &errors) != WEIR_OK) {
        char *t = tu_json_text(errors);

        fail_msg("contract does not parse: %s", t);
    }
    if (predicate_compile(g->c, &table, only, &g->p) != WEIR_OK) {
        fail_msg("does not compile: %s", weir_host_api_get()->error_last());
    }
    json_decref(dq);
    json_decref(errors);
    json_decref(only);
}

static void prog_free(struct prog *g)
{
    predicate_free(g->p);
    contract_free(g->c);
}

/* Evaluates a row given as col=value pairs ("amount=-5", "id" alone is
 * NULL); returns the failed rule names joined by ',' (static buffer). */
static const char *eval_row(struct prog *g, const char *const *cells, size_t ncells)
{
    static char out[512];
    struct lake_field row[NCOLS];
    size_t failed[32], nf, i, k;

    for (i = 0; i < NCOLS; i++) {
        row[i].data = "x"; /* a harmless default for the columns not under test */
        row[i].len = 1;
    }
    row[7].data = "true";
    row[7].len = 4;
    for (i = 0; i < ncells; i++) {
        const char *eq = strchr(cells[i], '=');
        size_t nlen = eq ? (size_t)(eq - cells[i]) : strlen(cells[i]);

        for (k = 0; k < NCOLS && (strlen(names[k]) != nlen || strncmp(names[k], cells[i], nlen));
             k++) {
        }
        assert_true(k < NCOLS);
        row[k].data = eq ? eq + 1 : NULL;
        row[k].len = eq ? strlen(eq + 1) : 0;
    }
    assert_int_equal(predicate_eval(g->p, row, NCOLS, failed, &nf), WEIR_OK);
    out[0] = '\0';
    for (i = 0; i < nf; i++) {
        snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s", i ? "," : "",
                 predicate_rule(g->p, failed[i])->name);
    }
    return out;
}

#define ROW(g, ...)                                     \
    eval_row((g), (const char *const[]){ __VA_ARGS__ }, \
             sizeof((const char *const[]){ __VA_ARGS__ }) / sizeof(const char *))

static void test_not_null_and_sets(void **state)
{
    struct prog g;

    (void)state;
    prog_init(&g,
              "{\"columns\":{\"id\":{\"rules\":[{\"type\":\"not_null\"}]},"
              "\"status\":{\"rules\":[{\"type\":\"allowed_values\",\"values\":[\"A\",\"B\"]}]},"
              "\"qty\":{\"rules\":[{\"type\":\"allowed_values\",\"values\":[1,2,5]},"
              "{\"type\":\"disallowed_values\",\"values\":[2]}]},"
              "\"code\":{\"rules\":[{\"type\":\"disallowed_values\",\"values\":[\"X\",\"Y\"]}]}}}",
              NULL);
    assert_int_equal(predicate_nrules(g.p), 5);
    assert_string_equal(ROW(&g, "id=1", "status=A", "qty=1", "code=Z"), "");
    assert_string_equal(ROW(&g, "id", "status=A", "qty=1", "code=Z"), "id.not_null");
    assert_string_equal(ROW(&g, "id=", "status=B", "qty=5", "code=Z"), ""); /* "" is not NULL */
    assert_string_equal(ROW(&g, "id=1", "status=a", "qty=1", "code=Z"), "status.allowed_values");
    /* NULL passes every rule but not_null, as in SQL */
    assert_string_equal(ROW(&g, "id=1", "status", "qty", "code"), "");
    /* numbers compare as numbers: 5.0 is in [1, 2, 5] */
    assert_string_equal(ROW(&g, "id=1", "status=A", "qty=5.0", "code=Z"), "");
    assert_string_equal(ROW(&g, "id=1", "status=A", "qty=3", "code=Z"), "qty.allowed_values");
    assert_string_equal(ROW(&g, "id=1", "status=A", "qty=two", "code=Z"), "qty.allowed_values");
    assert_string_equal(ROW(&g, "id=1", "status=A", "qty=2", "code=X"),
                        "qty.disallowed_values,code.disallowed_values");
    prog_free(&g);
}

static void test_bounds(void **state)
{
    struct prog g;

    (void)state;
    prog_init(
        &g,
        "{\"columns\":{\"amount\":{\"rules\":[{\"type\":\"min\",\"value\":0},"
        "{\"type\":\"max\",\"value\":100.5},{\"type\":\"range_soft\",\"min\":1,\"max\":50}]},"
        "\"day\":{\"rules\":[{\"type\":\"range\",\"min\":\"2026-01-01\",\"max\":\"2026-12-31\"}]},"
        "\"qty\":{\"rules\":[{\"type\":\"range\",\"min\":-3}]}}}",
        NULL);
    assert_string_equal(ROW(&g, "amount=10", "day=2026-10-03", "qty=0"), "");
    assert_string_equal(ROW(&g, "amount=-5", "day=2026-10-03", "qty=0"),
                        "amount.min,amount.range_soft");
    assert_false(predicate_rule(g.p, 2)->is_error);
    assert_string_equal(ROW(&g, "amount=100.5", "day=2026-10-03", "qty=0"), "amount.range_soft");
    assert_string_equal(ROW(&g, "amount=100.51", "day=2026-10-03", "qty=0"),
                        "amount.max,amount.range_soft");
    assert_string_equal(ROW(&g, "amount=1e1", "day=2025-12-31", "qty=-4"), "day.range,qty.range");
    /* a value that is not a number breaks a numeric bound */
    assert_string_equal(ROW(&g, "amount=ten", "day=2026-10-03", "qty=0"),
                        "amount.min,amount.max,amount.range_soft");
    assert_string_equal(ROW(&g, "amount", "day", "qty"), "");
    /* long and exotic numbers go through strtod */
    assert_string_equal(ROW(&g, "amount=12.3456789012345678", "day=2026-10-03", "qty=-3"), "");
    assert_string_equal(ROW(&g, "amount=-0.0000000000000000001", "day=2026-10-03", "qty=0"),
                        "amount.min,amount.range_soft");
    prog_free(&g);
}

static void test_pattern_and_length(void **state)
{
    struct prog g;

    (void)state;
    prog_init(
        &g,
        "{\"columns\":{\"code\":{\"rules\":[{\"type\":\"pattern\",\"regex\":\"^L[0-9]{3}$\"}]},"
        "\"name\":{\"rules\":[{\"type\":\"pattern\",\"regex\":\"[aeiou]\"},"
        "{\"type\":\"length_range\",\"min\":2,\"max\":4}]}}}",
        NULL);
    assert_string_equal(ROW(&g, "code=L123", "name=abc"), "");
    assert_string_equal(ROW(&g, "code=L1234", "name=abc"), "code.pattern");
    assert_string_equal(ROW(&g, "code=xL123", "name=abc"), "code.pattern");
    /* unanchored: a vowel anywhere */
    assert_string_equal(ROW(&g, "code=L123", "name=xxa"), "");
    assert_string_equal(ROW(&g, "code=L123", "name=xyz"), "name.pattern");
    /* length in code points: "éàü" is 3 characters, 6 bytes */
    assert_string_equal(ROW(&g, "code=L123", "name=\xC3\xA9\xC3\xA0u"), "");
    assert_string_equal(ROW(&g, "code=L123", "name=a"), "name.length_range");
    assert_string_equal(ROW(&g, "code=L123", "name=aeiou"), "name.length_range");
    assert_string_equal(ROW(&g, "code", "name"), "");
    prog_free(&g);
}

static void test_type_conformity(void **state)
{
    struct prog g;

    (void)state;
    prog_init(&g,
              "{\"columns\":{\"qty\":{\"rules\":[{\"type\":\"type_conformity\"}]},"
              "\"amount\":{\"rules\":[{\"type\":\"type_conformity\"}]},"
              "\"price\":{\"rules\":[{\"type\":\"type_conformity\"}]},"
              "\"flag\":{\"rules\":[{\"type\":\"type_conformity\"}]},"
              "\"day\":{\"rules\":[{\"type\":\"type_conformity\"}]},"
              "\"ts\":{\"rules\":[{\"type\":\"type_conformity\"}]},"
              "\"code\":{\"rules\":[{\"type\":\"type_conformity\",\"data_type\":\"tinyint\"}]}}}",
              NULL);
    assert_string_equal(ROW(&g, "qty=42", "amount=1.5e3", "price=123.45", "flag=TRUE",
                            "day=2024-02-29", "ts=2026-10-03 05:44:00", "code=-128"),
                        "");
    assert_string_equal(ROW(&g, "qty=2147483648", "amount=1,5", "price=1234.5", "flag=yes",
                            "day=2026-02-29", "ts=2026-10-03 25:00:00", "code=128"),
                        "qty.type_conformity,amount.type_conformity,price.type_conformity,"
                        "flag.type_conformity,day.type_conformity,ts.type_conformity,"
                        "code.type_conformity");
    assert_string_equal(ROW(&g, "qty=-2147483648", "amount=-0.5", "price=-999.99", "flag=false",
                            "day=2000-02-29", "ts=2026-10-03T05:44:00.123+05:30", "code=127"),
                        "");
    assert_string_equal(ROW(&g, "qty=4.0", "amount=abc", "price=1.234", "flag=1", "day=2026-1-03",
                            "ts=2026-10-03 05:44", "code=1x"),
                        "qty.type_conformity,amount.type_conformity,price.type_conformity,"
                        "flag.type_conformity,day.type_conformity,code.type_conformity");
    assert_string_equal(ROW(&g, "qty", "amount", "price", "flag", "day", "ts", "code"), "");
    prog_free(&g);
}

static void test_check_rule_and_reasons(void **state)
{
    struct prog g;
    struct lake_field row[NCOLS];
    size_t failed[8], i, nf;
    char reason[512];

    (void)state;
    prog_init(&g,
              "{\"columns\":{\"amount\":{\"rules\":[{\"type\":\"min\",\"value\":0}]},"
              "\"status\":{\"rules\":[{\"type\":\"allowed_values\",\"values\":[\"OK\",\"BAD\"]}]}},"
              "\"table_level_checks\":[{\"type\":\"check\",\"name\":\"amount_or_bad\","
              "\"expression\":\"amount >= 0 OR status = 'BAD'\"},"
              "{\"type\":\"grain_unique\",\"grain\":[\"id\"]}]}",
              NULL);
    /* grain_unique needs the whole table: not compiled */
    assert_int_equal(predicate_nrules(g.p), 3);
    assert_string_equal(ROW(&g, "amount=-5", "status=BAD"), "amount.min");
    assert_string_equal(ROW(&g, "amount=-5", "status=OK"), "amount.min,amount_or_bad");
    /* NULL makes the check unknown, which passes */
    assert_string_equal(ROW(&g, "amount", "status=OK"), "");

    for (i = 0; i < NCOLS; i++) {
        row[i].data = "x";
        row[i].len = 1;
    }
    row[1].data = "-5";
    row[1].len = 2;
    row[2].data = "NEW";
    row[2].len = 3;
    assert_int_equal(predicate_eval(g.p, row, NCOLS, failed, &nf), WEIR_OK);
    assert_int_equal(nf, 3);
    predicate_reason(g.p, failed[0], row, NCOLS, reason, sizeof(reason));
    assert_string_equal(reason, "amount=-5 violates amount.min (>= 0)");
    predicate_reason(g.p, failed[1], row, NCOLS, reason, sizeof(reason));
    assert_string_equal(reason, "status=NEW violates status.allowed_values (in [OK, BAD])");
    predicate_reason(g.p, failed[2], row, NCOLS, reason, sizeof(reason));
    assert_string_equal(reason, "amount >= 0 OR status = 'BAD' is not true for (amount=-5, "
                                "status=NEW) (amount_or_bad)");
    prog_free(&g);
}

static void test_selection_and_errors(void **state)
{
    const char *dq_text = "{\"columns\":{\"amount\":{\"rules\":[{\"type\":\"min\",\"value\":0},"
                          "{\"type\":\"unique\"}]},\"id\":{\"rules\":[{\"type\":\"not_null\"}]}}}";
    json_t *dq = json_loads(dq_text, 0, NULL), *only;
    struct contract *c = NULL;
    struct predicate *p = NULL;
    struct prog g;

    (void)state;
    prog_init(&g, dq_text, "[\"id.not_null\"]");
    assert_int_equal(predicate_nrules(g.p), 1);
    assert_string_equal(ROW(&g, "id", "amount=-1"), "id.not_null");
    prog_free(&g);

    assert_int_equal(contract_parse(NULL, dq, NULL, &c, NULL), WEIR_OK);
    only = json_loads("[\"amount.unique\"]", 0, NULL);
    assert_int_equal(predicate_compile(c, &table, only, &p), WEIR_EINVALID);
    assert_non_null(strstr(weir_host_api_get()->error_last(), "run it post-load"));
    json_decref(only);
    only = json_loads("[\"nope\"]", 0, NULL);
    assert_int_equal(predicate_compile(c, &table, only, &p), WEIR_EINVALID);
    assert_non_null(strstr(weir_host_api_get()->error_last(), "no rule named 'nope'"));
    assert_null(p);
    json_decref(only);
    contract_free(c);
    json_decref(dq);

    /* a rule on a column the file does not have */
    dq = json_loads("{\"columns\":{\"colour\":{\"rules\":[{\"type\":\"not_null\"}]}}}", 0, NULL);
    assert_int_equal(contract_parse(NULL, dq, NULL, &c, NULL), WEIR_OK);
    assert_int_equal(predicate_compile(c, &table, NULL, &p), WEIR_EINVALID);
    assert_non_null(strstr(weir_host_api_get()->error_last(), "column 'colour'"));
    contract_free(c);
    json_decref(dq);

    /* a bad regex is caught by validation already */
    {
        char err[256];

        assert_int_equal(predicate_regex_check("a(b", err, sizeof(err)), WEIR_EINVALID);
        assert_non_null(strstr(err, "offset 3"));
        assert_int_equal(predicate_regex_check("^a(b)?$", err, sizeof(err)), WEIR_OK);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_not_null_and_sets),      cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_pattern_and_length),     cmocka_unit_test(test_type_conformity),
        cmocka_unit_test(test_check_rule_and_reasons), cmocka_unit_test(test_selection_and_errors),
    };

    return cmocka_run_group_tests(tests, group_setup, NULL);
}
