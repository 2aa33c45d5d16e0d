/*
 * test_preload.c - contract.preload through the built plugin, as the runner
 * calls it: a generated batch with planted bad rows (null key, negative
 * amount, unknown status, ragged row, impossible date), each quarantined
 * with the right rule names and the rest written byte-identical; the
 * quarantine threshold; the contract from the store; the malformed-file
 * corpus in tests/data/preload/ with valid + quarantined == input on every
 * file; parameter errors.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "contract.h"
#include "lake.h"
#include "ctx.h"
#include "error.h"
#include "plugins.h"

const struct weir_host_api *contract_host;

static struct weir_plugins *plugins;
static const struct weir_step_def *preload;
static json_t *services;
static char *proj;

static const char *catalog_def =
    "{\"Table\":{\"Name\":\"payments\",\"DatabaseName\":\"sales\","
    "\"Parameters\":{\"classification\":\"csv\",\"skip.header.line.count\":\"1\"},"
    "\"StorageDescriptor\":{\"Columns\":["
    "{\"Name\":\"loan_id\",\"Type\":\"string\"},{\"Name\":\"payment_date\",\"Type\":\"date\"},"
    "{\"Name\":\"emi_amount\",\"Type\":\"double\"},{\"Name\":\"status\",\"Type\":\"string\"},"
    "{\"Name\":\"note\",\"Type\":\"string\"}],"
    "\"Location\":\"s3://bucket/payments/\","
    "\"SerdeInfo\":{\"Parameters\":{\"field.delim\":\",\"}}}}}";

static const char *contract_text =
    "{\"data_quality\":{\"table_name\":\"payments\",\"columns\":{"
    "\"loan_id\":{\"type\":\"string\",\"rules\":[{\"type\":\"not_null\"},"
    "  {\"type\":\"pattern\",\"regex\":\"^L[0-9]{5}$\"}]},"
    "\"payment_date\":{\"type\":\"date\",\"rules\":[{\"type\":\"type_conformity\"}]},"
    "\"emi_amount\":{\"type\":\"double\",\"rules\":[{\"type\":\"min\",\"value\":0},"
    "  {\"type\":\"range_soft\",\"max\":50000}]},"
    "\"status\":{\"type\":\"string\",\"rules\":[{\"type\":\"accepted_values\","
    "  \"values\":[\"SUCCESS\",\"FAILED\",\"PENDING\"]}]}},"
    "\"table_level_checks\":[{\"type\":\"grain_uniqueness\",\"grain\":[\"loan_id\",\"payment_"
    "date\"]},"
    "  {\"type\":\"check\",\"name\":\"big_needs_failed\","
    "   \"expression\":\"emi_amount < 100000 OR status = 'FAILED'\"}]}}";

static const char *corpus_contract = "{\"columns\":{\"a\":{\"rules\":[{\"type\":\"not_null\"}]},"
                                     "\"b\":{\"rules\":[{\"type\":\"min\",\"value\":0}]}}}";

static int group_setup(void **state)
{
    (void)state;
    contract_host = weir_host_api_get();
    lake_host = weir_host_api_get();
    if (weir_plugins_new(&plugins) != WEIR_OK) {
        return -1;
    }
    tu_load_plugin(plugins, "contract");
    tu_load_plugin(plugins, "fs");
    tu_load_plugin(plugins, "lake");
    preload = weir_plugins_find_step(plugins, "contract", "preload");
    services = json_pack("{s:s, s:s, s:s}", "store", "fs", "engine", "lake", "catalog", "lake");
    if ((proj = tu_mkdtemp()) == NULL || preload == NULL || services == NULL) {
        return -1;
    }
    free(tu_write_file(proj, "catalog/sales/payments.json", catalog_def));
    free(tu_write_file(proj, "lake/contracts/sales.payments.json", contract_text));
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    weir_plugins_free(plugins);
    json_decref(services);
    tu_rmtree(proj);
    free(proj);
    return 0;
}

/* Runs contract.preload with `with` (stolen) as run run_id. */
static int run_preload(json_t *with, const char *run_id, json_t **out)
{
    struct weir_ctx ctx = { 0 };
    int rc;

    ctx.project = proj;
    ctx.workspace = proj;
    ctx.run_id = run_id;
    ctx.run_date = "2026-10-04";
    ctx.step_id = "preload";
    ctx.plugins = plugins;
    ctx.services = services;
    *out = NULL;
    assert_non_null(with);
    rc = weir_step_invoke(preload, with, out, &ctx);
    json_decref(with);
    return rc;
}

static char *read_in(const char *rel)
{
    char path[4096];

    snprintf(path, sizeof(path), "%s/%s", proj, rel);
    return tu_read_file(path, NULL);
}

/* ---- the planted batch --------------------------------------------------- */

#define NROWS 100

/* Writes incoming/batch.csv; *expected gets the byte-identical valid output. */
static void write_batch(char **expected)
{
    static const char *const statuses[] = { "SUCCESS", "FAILED", "PENDING" };
    size_t cap = 1 << 16, len = 0, elen = 0;
    char *text = malloc(cap), *good = malloc(cap), line[256];
    int i;

    len = (size_t)sprintf(text, "loan_id,payment_date,emi_amount,status,note\r\n");
    memcpy(good, text, len + 1);
    elen = len;
    for (i = 0; i < NROWS; i++) {
        int bad = 1;

        switch (i) {
        case 10: snprintf(line, sizeof(line), ",2026-10-01,100.00,SUCCESS,null key\r\n"); break;
        case 20: snprintf(line, sizeof(line), "L00020,2026-10-01,-5,SUCCESS,negative\r\n"); break;
        case 30: snprintf(line, sizeof(line), "L00030,2026-10-01,10,REFUNDED,status\r\n"); break;
        case 40: snprintf(line, sizeof(line), "L00040,2026-10-01,10\r\n"); break;
        case 50: snprintf(line, sizeof(line), "L00050,2026-02-30,10,PENDING,date\r\n"); break;
        case 60: snprintf(line, sizeof(line), "L00060,2026-10-01,-1,LOST,two rules\r\n"); break;
        case 70: snprintf(line, sizeof(line), "L00070,2026-10-01,200000,SUCCESS,check\r\n"); break;
        default:
            bad = 0;
            /* quoted fields with commas, quotes and a line break stay as written */
            snprintf(line, sizeof(line), "L%05d,2026-10-%02d,%d.%02d,%s,%s\r\n", i, 1 + i % 28,
                     (i * 37) % 20000, i % 100, statuses[i % 3],
                     i % 9 == 0 ? "\"a, \"\"quoted\"\"\nnote\""
                     : i == 99  ? "60000 is soft"
                                : "ok");
            if (i == 99) {
                /* over range_soft (warn): counted, still valid */
                snprintf(line, sizeof(line), "L00099,2026-10-02,60000,SUCCESS,soft\r\n");
            }
            break;
        }
        memcpy(text + len, line, strlen(line) + 1);
        len += strlen(line);
        if (!bad) {
            memcpy(good + elen, line, strlen(line) + 1);
            elen += strlen(line);
        }
    }
    free(tu_write_file(proj, "incoming/batch.csv", text));
    free(text);
    *expected = good;
}

/* Line (1-based) of row i: header on line 1, rows 0, 9, 18 ... span two lines. */
static int line_of(int i)
{
    return 2 + i + (i + 8) / 9;
}

static json_t *read_jsonl(const char *rel)
{
    char *text = read_in(rel), *p, *nl;
    json_t *arr = json_array();

    assert_non_null(text);
    for (p = text; *p; p = nl + 1) {
        json_t *v;

        nl = strchr(p, '\n');
        assert_non_null(nl);
        *nl = '\0';
        v = json_loads(p, 0, NULL);
        assert_non_null(v);
        json_array_append_new(arr, v);
    }
    free(text);
    return arr;
}

static json_t *batch_with(void)
{
    return json_pack("{s:s, s:s, s:s, s:f}", "input", "incoming/batch.csv", "table",
                     "sales.payments", "contract_uri", "contracts/sales.payments.json",
                     "max_quarantine_pct", 100.0);
}

static void test_planted_rows(void **state)
{
    static const struct {
        int row;
        const char *rules;
        const char *reason;
    } planted[] = {
        { 10, "[\"loan_id.not_null\"]", "loan_id=NULL violates loan_id.not_null (not null)" },
        { 20, "[\"emi_amount.min\"]", "emi_amount=-5 violates emi_amount.min (>= 0)" },
        { 30, "[\"status.allowed_values\"]",
          "status=REFUNDED violates status.allowed_values (in [SUCCESS, FAILED, PENDING])" },
        { 40, "[\"malformed\"]", "ragged row: 3 fields, expected 5" },
        { 50, "[\"payment_date.type_conformity\"]",
          "payment_date=2026-02-30 violates payment_date.type_conformity (a valid date)" },
        { 60, "[\"emi_amount.min\",\"status.allowed_values\"]",
          "emi_amount=-1 violates emi_amount.min (>= 0); status=LOST violates" },
        { 70, "[\"emi_amount.range_soft\",\"big_needs_failed\"]",
          "emi_amount < 100000 OR status = 'FAILED' is not true for (emi_amount=200000, "
          "status=SUCCESS) (big_needs_failed)" },
    };
    json_t *out = NULL, *rejected;
    char *expected = NULL, *valid;
    size_t i;

    (void)state;
    write_batch(&expected);
    if (run_preload(batch_with(), "run-1", &out) != WEIR_OK) {
        fail_msg("preload failed: %s", weir_error_last());
    }
    assert_int_equal(json_integer_value(json_object_get(out, "input_rows")), NROWS);
    assert_int_equal(json_integer_value(json_object_get(out, "valid_rows")), NROWS - 7);
    assert_int_equal(json_integer_value(json_object_get(out, "quarantined_rows")), 7);
    assert_int_equal(json_integer_value(json_object_get(out, "malformed_rows")), 1);
    assert_int_equal(json_integer_value(json_object_get(out, "warned_rows")), 1);
    assert_true(json_is_true(json_object_get(out, "passed")));
    assert_string_equal(json_string_value(json_object_get(out, "valid_output")),
                        "preload/sales.payments/run-1/valid.csv");
    assert_string_equal(json_string_value(json_object_get(out, "quarantine_output")),
                        "quarantine/sales.payments/run-1/rejected.jsonl");
    tu_assert_json(json_object_get(out, "per_rule"),
                   "{\"loan_id.not_null\":1,\"loan_id.pattern\":0,"
                   "\"payment_date.type_conformity\":1,\"emi_amount.min\":2,"
                   "\"emi_amount.range_soft\":2,\"status.allowed_values\":2,"
                   "\"big_needs_failed\":1,\"malformed\":1}");

    /* valid rows: the source text, byte for byte, CRLF and quoted line breaks included */
    valid = read_in("lake/preload/sales.payments/run-1/valid.csv");
    assert_non_null(valid);
    assert_string_equal(valid, expected);

    rejected = read_jsonl("lake/quarantine/sales.payments/run-1/rejected.jsonl");
    assert_int_equal(json_array_size(rejected), 7);
    for (i = 0; i < sizeof(planted) / sizeof(planted[0]); i++) {
        json_t *q = json_array_get(rejected, i);
        char *names = tu_json_text(json_object_get(q, "rule_name"));
        json_t *want = json_loads(planted[i].rules, 0, NULL);
        char *want_text = tu_json_text(want);

        assert_int_equal(json_integer_value(json_object_get(q, "line")), line_of(planted[i].row));
        assert_string_equal(json_string_value(json_object_get(q, "file")), "incoming/batch.csv");
        assert_string_equal(names, want_text);
        if (strstr(json_string_value(json_object_get(q, "error_reason")), planted[i].reason) ==
            NULL) {
            fail_msg("row %d: reason \"%s\" lacks \"%s\"", planted[i].row,
                     json_string_value(json_object_get(q, "error_reason")), planted[i].reason);
        }
        free(names);
        free(want_text);
        json_decref(want);
    }
    /* a malformed record keeps its text; a parsed one its fields */
    assert_true(json_is_null(json_object_get(json_array_get(rejected, 3), "row")));
    assert_string_equal(json_string_value(json_object_get(json_array_get(rejected, 3), "raw")),
                        "L00040,2026-10-01,10");
    tu_assert_json(json_object_get(json_array_get(rejected, 1), "row"),
                   "{\"loan_id\":\"L00020\",\"payment_date\":\"2026-10-01\",\"emi_amount\":\"-5\","
                   "\"status\":\"SUCCESS\",\"note\":\"negative\"}");
    assert_true(json_is_null(
        json_object_get(json_object_get(json_array_get(rejected, 0), "row"), "loan_id")));
    json_decref(rejected);
    json_decref(out);
    free(valid);
    free(expected);
}

static void test_threshold(void **state)
{
    json_t *with = batch_with(), *out = NULL;
    char *expected = NULL, *valid;

    (void)state;
    write_batch(&expected);
    json_object_del(with, "max_quarantine_pct"); /* default 5: 7% is too many */
    assert_int_equal(run_preload(with, "run-2", &out), WEIR_ERROR);
    assert_null(out);
    assert_non_null(strstr(weir_error_last(), "7.00% of 100 rows quarantined (7), above "
                                              "max_quarantine_pct 5.00"));
    /* everything was written before failing */
    valid = read_in("lake/preload/sales.payments/run-2/valid.csv");
    assert_non_null(valid);
    assert_string_equal(valid, expected);
    free(valid);
    free(expected);
    valid = read_in("lake/quarantine/sales.payments/run-2/rejected.jsonl");
    assert_non_null(valid);
    free(valid);

    with = batch_with();
    json_object_set_new(with, "max_quarantine_pct", json_real(7.0));
    assert_int_equal(run_preload(with, "run-3", &out), WEIR_OK);
    assert_true(json_is_true(json_object_get(out, "passed")));
    json_decref(out);
}

static void test_rule_selection_and_inline_contract(void **state)
{
    json_t *with, *out = NULL;
    char *expected = NULL;

    (void)state;
    write_batch(&expected);
    free(expected);
    /* only the not_null rule: the rest passes, malformed records still do not */
    with = json_pack("{s:s, s:s, s:o, s:[s]}", "input", "incoming/batch.csv", "table",
                     "sales.payments", "contract", json_loads(contract_text, 0, NULL), "rules",
                     "loan_id.not_null");
    assert_int_equal(run_preload(with, "run-4", &out), WEIR_OK);
    assert_int_equal(json_integer_value(json_object_get(out, "quarantined_rows")), 2);
    tu_assert_json(json_object_get(out, "per_rule"), "{\"loan_id.not_null\":1,\"malformed\":1}");
    json_decref(out);
}

/* Records across the raw pass's 8 MiB mapping windows, one field longer
 * than a window, CRLF and quoted line breaks: still byte-identical, still
 * counted once each. */
static void test_big_file(void **state)
{
    size_t cap = 40u << 20, len = 0, vlen = 0, big = 15u << 20;
    char *text = malloc(cap), *valid = malloc(cap), *got, path[4096];
    json_t *out = NULL, *with;
    int i, bad = 0;
    FILE *f;

    (void)state;
    assert_non_null(text);
    assert_non_null(valid);
    len = (size_t)sprintf(text, "a,b,c\r\n");
    memcpy(valid, text, len);
    vlen = len;
    for (i = 0; len < (36u << 20); i++) {
        char row[160];
        size_t n;

        if (i == 1000) {
            /* one quoted field of 15 MiB: longer than a window */
            n = (size_t)sprintf(row, "big,1,\"");
            memcpy(text + len, row, n);
            memcpy(valid + vlen, row, n);
            len += n;
            vlen += n;
            memset(text + len, 'x', big - 4096);
            memset(valid + vlen, 'x', big - 4096);
            len += big - 4096;
            vlen += big - 4096;
            n = (size_t)sprintf(row, "\nend\"\r\n");
        }
        else if (i % 10007 == 5) {
            n = (size_t)sprintf(row, "k%d,-1,\"neg\r\nline\"\r\n", i);
            bad++;
        }
        else {
            n = (size_t)sprintf(row, "k%d,%d,\"q,%d\"\r\n", i, i % 1000, i);
        }
        memcpy(text + len, row, n);
        len += n;
        if (i % 10007 != 5) {
            memcpy(valid + vlen, row, n);
            vlen += n;
        }
    }
    snprintf(path, sizeof(path), "%s/incoming/big.csv", proj);
    assert_non_null(f = fopen(path, "wb"));
    assert_int_equal(fwrite(text, 1, len, f), len);
    fclose(f);
    with = json_pack("{s:s, s:o, s:f}", "input", "incoming/big.csv", "contract",
                     json_loads(corpus_contract, 0, NULL), "max_quarantine_pct", 100.0);
    if (run_preload(with, "big", &out) != WEIR_OK) {
        fail_msg("big file: %s", weir_error_last());
    }
    assert_int_equal(json_integer_value(json_object_get(out, "input_rows")), i);
    assert_int_equal(json_integer_value(json_object_get(out, "quarantined_rows")), bad);
    got = read_in("lake/preload/big/big/valid.csv");
    assert_non_null(got);
    assert_int_equal(strlen(got), vlen);
    assert_memory_equal(got, valid, vlen);
    free(got);
    free(text);
    free(valid);
    json_decref(out);
}

static void test_param_errors(void **state)
{
    json_t *out = NULL;

    (void)state;
    assert_int_equal(run_preload(json_pack("{s:s}", "input", "incoming/batch.csv"), "e1", &out),
                     WEIR_EINVALID);
    assert_non_null(strstr(weir_error_last(), "give 'contract'"));
    assert_int_equal(
        run_preload(json_pack("{s:s, s:{s:{s:{s:[{s:s}]}}}}", "input", "incoming/batch.csv",
                              "contract", "columns", "nope", "rules", "type", "not_null"),
                    "e2", &out),
        WEIR_EINVALID);
    assert_non_null(strstr(weir_error_last(), "columns.nope: unknown column 'nope'"));
    assert_int_equal(run_preload(json_pack("{s:s, s:s}", "input", "incoming/none.csv",
                                           "contract_uri", "contracts/sales.payments.json"),
                                 "e3", &out),
                     WEIR_ENOTFOUND);
    assert_int_equal(run_preload(json_pack("{s:s, s:s}", "input", "incoming/batch.csv",
                                           "contract_uri", "contracts/missing.json"),
                                 "e4", &out),
                     WEIR_ENOTFOUND);
    assert_non_null(strstr(weir_error_last(), "contract_uri"));
    assert_int_equal(
        run_preload(json_pack("{s:s, s:s, s:s}", "input", "incoming/batch.csv", "table",
                              "sales.nope", "contract_uri", "contracts/sales.payments.json"),
                    "e5", &out),
        WEIR_ENOTFOUND);
}

/* ---- the corpus ---------------------------------------------------------- */

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static void check_corpus_file(const char *dir, const char *name)
{
    char input[4096], run[64], key[256];
    const char *v = strstr(name, ".v"), *q = strstr(name, ".q");
    long want_valid = strtol(v + 2, NULL, 10), want_quar = strtol(q + 2, NULL, 10);
    json_t *out = NULL, *with;
    int64_t in, valid, quar;

    assert_true(snprintf(input, sizeof(input), "%s/%s", dir, name) < (int)sizeof(input));
    snprintf(run, sizeof(run), "corpus-%.2s", name);
    with = json_pack("{s:s, s:o, s:f}", "input", input, "contract",
                     json_loads(corpus_contract, 0, NULL), "max_quarantine_pct", 100.0);
    if (run_preload(with, run, &out) != WEIR_OK) {
        fail_msg("%s: %s", name, weir_error_last());
    }
    in = json_integer_value(json_object_get(out, "input_rows"));
    valid = json_integer_value(json_object_get(out, "valid_rows"));
    quar = json_integer_value(json_object_get(out, "quarantined_rows"));
    if (valid + quar != in || valid != want_valid || quar != want_quar) {
        fail_msg("%s: input %lld, valid %lld, quarantined %lld; want valid %ld, quarantined %ld",
                 name, (long long)in, (long long)valid, (long long)quar, want_valid, want_quar);
    }
    /* the written files hold what the counts say */
    snprintf(key, sizeof(key), "lake/%s",
             json_string_value(json_object_get(out, "quarantine_output")));
    {
        char *text = read_in(key), *p;
        int64_t lines = 0;

        assert_non_null(text);
        for (p = text; (p = strchr(p, '\n')) != NULL; p++) {
            lines++;
        }
        if (lines != quar) {
            fail_msg("%s: %lld quarantine lines, %lld quarantined", name, (long long)lines,
                     (long long)quar);
        }
        free(text);
    }
    if (strstr(name, ".same.")) {
        char *src = tu_read_file(input, NULL), *got;

        snprintf(key, sizeof(key), "lake/%s",
                 json_string_value(json_object_get(out, "valid_output")));
        got = read_in(key);
        assert_non_null(got);
        if (strcmp(src, got) != 0) {
            fail_msg("%s: valid output differs from the source", name);
        }
        free(src);
        free(got);
    }
    json_decref(out);
}

static void test_corpus(void **state)
{
    char dir[4096];
    struct dirent **list;
    int n, i, checked = 0;

    (void)state;
    snprintf(dir, sizeof(dir), "%s/tests/data/preload", tu_env("WEIR_SOURCE_DIR"));
    n = scandir(dir, &list, NULL, by_name);
    assert_true(n > 0);
    for (i = 0; i < n; i++) {
        if (strstr(list[i]->d_name, ".v") && strstr(list[i]->d_name, ".q")) {
            check_corpus_file(dir, list[i]->d_name);
            checked++;
        }
        free(list[i]);
    }
    free(list);
    assert_true(checked >= 20);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_planted_rows),
        cmocka_unit_test(test_threshold),
        cmocka_unit_test(test_rule_selection_and_inline_contract),
        cmocka_unit_test(test_param_errors),
        cmocka_unit_test(test_corpus),
        cmocka_unit_test(test_big_file),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
