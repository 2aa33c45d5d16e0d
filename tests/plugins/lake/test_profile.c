/*
 * test_profile.c - engine.profile through the built lake.so: the example
 * lake checked against a brute-force pass over its CSV files, partition
 * selection, sampling, parameter errors, byte-identical output across runs,
 * and bounded memory on a generated 2M-row file.
 */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "testutil.h"

#include "ctx.h"
#include "error.h"
#include "plugins.h"

#define TABLE "analytics_db.loan_repayment_fact"

static struct weir_plugins *plugins;
static const struct weir_step_def *profile_op;

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
    profile_op = weir_plugins_find_op(plugins, "lake", "engine", "profile");
    return profile_op ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    weir_plugins_free(plugins);
    return 0;
}

/* Progress reports seen through the host (ABI 1.1 ctx_progress). */
struct progress_seen {
    int calls;
    uint64_t last;
    char unit[16];
};
static struct progress_seen progress_seen;

static void note_progress(void *payload, const char *step, uint64_t done, uint64_t total,
                          const char *unit)
{
    struct progress_seen *p = payload;

    (void)step;
    assert_int_equal(total, 0); /* rows: the total is not known up front */
    assert_true(done > p->last);
    p->calls++;
    p->last = done;
    snprintf(p->unit, sizeof(p->unit), "%s", unit);
}

/* Runs engine.profile in project dir with `with` (JSON text); returns the code. */
static int run_profile(const char *project, const char *with_text, json_t **out)
{
    struct weir_ctx ctx;
    json_t *with = json_loads(with_text, 0, NULL);
    int rc;

    assert_non_null(with);
    memset(&ctx, 0, sizeof(ctx));
    ctx.project = project;
    ctx.workspace = project;
    ctx.plugins = plugins;
    ctx.step_id = "profile";
    ctx.progress_sink = note_progress;
    ctx.progress_payload = &progress_seen;
    memset(&progress_seen, 0, sizeof(progress_seen));
    *out = NULL;
    rc = weir_step_invoke(profile_op, with, out, &ctx);
    json_decref(with);
    return rc;
}

static char *examples_dir(void)
{
    char *dir = NULL;

    assert_true(asprintf(&dir, "%s/examples", tu_env("WEIR_SOURCE_DIR")) > 0);
    return dir;
}

/* Brute force over the example CSVs: rows, emi_amount min/max, status counts. */
struct truth {
    long rows;
    double emi_min, emi_max;
    long status_rows;
};

static void scan_csv(const char *path, struct truth *t)
{
    FILE *f = fopen(path, "r");
    char line[1024];
    int header = 1;

    assert_non_null(f);
    while (fgets(line, sizeof(line), f)) {
        char *field[8] = { 0 }, *save = NULL, *p = strtok_r(line, ",\r\n", &save);
        int n = 0;
        double emi;

        if (header) {
            header = 0;
            continue;
        }
        while (p && n < 8) {
            field[n++] = p;
            p = strtok_r(NULL, ",\r\n", &save);
        }
        assert_int_equal(n, 6);
        emi = strtod(field[3], NULL);
        if (t->rows == 0 || emi < t->emi_min) {
            t->emi_min = emi;
        }
        if (t->rows == 0 || emi > t->emi_max) {
            t->emi_max = emi;
        }
        t->status_rows += field[4][0] != '\0';
        t->rows++;
    }
    fclose(f);
}

static void brute_force(struct truth *t)
{
    char *root = NULL;
    struct dirent *e;
    DIR *d;

    memset(t, 0, sizeof(*t));
    assert_true(asprintf(&root, "%s/examples/lake/example-lake/analytics_db/loan_repayment_fact",
                         tu_env("WEIR_SOURCE_DIR")) > 0);
    assert_non_null(d = opendir(root));
    while ((e = readdir(d)) != NULL) {
        char *path = NULL;

        if (strncmp(e->d_name, "dt=", 3) != 0) {
            continue;
        }
        assert_true(asprintf(&path, "%s/%s/part-000.csv", root, e->d_name) > 0);
        scan_csv(path, t);
        free(path);
    }
    closedir(d);
    free(root);
}

static void test_examples_match_brute_force(void **state)
{
    char *dir = examples_dir();
    json_t *out, *stats, *emi, *status, *top, *v;
    json_int_t sum = 0;
    struct truth t;
    size_t i;

    (void)state;
    brute_force(&t);
    assert_int_equal(t.rows, 120);
    assert_int_equal(run_profile(dir, "{\"table\": \"" TABLE "\"}", &out), WEIR_OK);
    assert_string_equal(json_string_value(json_object_get(out, "table")), TABLE);
    assert_int_equal(json_integer_value(json_object_get(out, "row_count")), t.rows);
    assert_int_equal(json_integer_value(json_object_get(out, "files")), 3);
    tu_assert_json(json_object_get(out, "partitions"),
                   "{\"dt\": [\"2026-10-01\", \"2026-10-02\", \"2026-10-03\"]}");
    stats = json_object_get(out, "column_stats");
    assert_int_equal(json_object_size(stats), 7); /* 6 columns + dt */

    emi = json_object_get(stats, "emi_amount");
    assert_string_equal(json_string_value(json_object_get(emi, "declared_type")), "double");
    assert_string_equal(json_string_value(json_object_get(emi, "inferred_type")), "double");
    assert_true(json_number_value(json_object_get(emi, "min")) == t.emi_min);
    assert_true(json_number_value(json_object_get(emi, "max")) == t.emi_max);
    assert_true(json_number_value(json_object_get(emi, "null_pct")) == 0.0);
    assert_true(json_number_value(json_object_get(emi, "p95")) <= t.emi_max);
    assert_true(json_number_value(json_object_get(emi, "p50")) >= t.emi_min);
    assert_null(json_object_get(emi, "min_length"));

    status = json_object_get(stats, "status");
    assert_true(json_number_value(json_object_get(status, "null_pct")) == 0.0);
    assert_true(json_is_true(json_object_get(status, "top_values_exact")));
    assert_true(json_is_true(json_object_get(status, "distinct_exact")));
    assert_null(json_object_get(status, "mean"));
    assert_non_null(json_object_get(status, "max_length"));
    top = json_object_get(status, "top_values");
    json_array_foreach(top, i, v) {
        sum += json_integer_value(json_object_get(v, "count"));
    }
    assert_int_equal(sum, t.status_rows);
    assert_int_equal(json_array_size(top),
                     json_integer_value(json_object_get(status, "distinct_count")));

    v = json_object_get(stats, "payment_date");
    assert_string_equal(json_string_value(json_object_get(v, "inferred_type")), "date");
    assert_true(json_number_value(json_object_get(json_object_get(v, "shapes"), "date")) == 1.0);
    v = json_object_get(stats, "created_at");
    assert_string_equal(json_string_value(json_object_get(v, "inferred_type")), "timestamp");
    json_decref(out);
    free(dir);
}

static void test_partitions_and_sample(void **state)
{
    char *dir = examples_dir();
    json_t *out;

    (void)state;
    assert_int_equal(
        run_profile(dir, "{\"table\": \"" TABLE "\", \"partitions\": {\"dt\": \"2026-10-02\"}}",
                    &out),
        WEIR_OK);
    assert_int_equal(json_integer_value(json_object_get(out, "row_count")), 40);
    assert_int_equal(json_integer_value(json_object_get(out, "files")), 1);
    tu_assert_json(json_object_get(out, "partitions"), "{\"dt\": [\"2026-10-02\"]}");
    json_decref(out);

    assert_int_equal(run_profile(dir,
                                 "{\"table\": \"" TABLE
                                 "\", \"partitions\": {\"dt\": [\"2026-10-01\", "
                                 "\"2026-10-03\", \"1999-01-01\"]}}",
                                 &out),
                     WEIR_OK);
    assert_int_equal(json_integer_value(json_object_get(out, "row_count")), 80);
    json_decref(out);

    assert_int_equal(run_profile(dir, "{\"table\": \"" TABLE "\", \"sample_rows\": 10}", &out),
                     WEIR_OK);
    assert_int_equal(json_integer_value(json_object_get(out, "row_count")), 10);
    json_decref(out);

    assert_int_equal(
        run_profile(dir, "{\"table\": \"" TABLE "\", \"partitions\": {\"day\": \"x\"}}", &out),
        WEIR_EINVALID);
    assert_non_null(strstr(weir_error_last(), "'day' is not a partition key"));
    assert_int_equal(run_profile(dir, "{\"table\": \"" TABLE "\", \"top_k\": -1}", &out),
                     WEIR_EINVALID);
    assert_int_equal(run_profile(dir, "{\"table\": \"analytics_db.nope\"}", &out), WEIR_ENOTFOUND);
    free(dir);
}

static void test_deterministic(void **state)
{
    char *dir = examples_dir(), *a, *b;
    json_t *o1, *o2;

    (void)state;
    assert_int_equal(run_profile(dir, "{\"table\": \"" TABLE "\", \"exact_threshold\": 20}", &o1),
                     WEIR_OK);
    assert_int_equal(run_profile(dir, "{\"table\": \"" TABLE "\", \"exact_threshold\": 20}", &o2),
                     WEIR_OK);
    a = json_dumps(o1, JSON_COMPACT);
    b = json_dumps(o2, JSON_COMPACT);
    assert_string_equal(a, b);
    /* with a threshold of 20 the id columns went to sketches */
    assert_false(json_is_true(json_object_get(
        json_object_get(json_object_get(o1, "column_stats"), "loan_id"), "distinct_exact")));
    free(a);
    free(b);
    json_decref(o1);
    json_decref(o2);
    free(dir);
}

static long status_kb(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;

    if (!f) {
        return -1;
    }
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, key, strlen(key)) == 0) {
            kb = strtol(line + strlen(key) + 1, NULL, 10);
        }
    }
    fclose(f);
    return kb;
}

static void write_big(const char *dir, long rows)
{
    static const char *const cats[] = { "alpha", "beta", "gamma", "delta", "epsilon" };
    char *path = NULL;
    uint64_t s = 12345;
    FILE *f;

    assert_true(asprintf(&path, "%s/data/big/part-0.csv", dir) > 0);
    free(tu_write_file(dir, "data/big/part-0.csv", ""));
    assert_non_null(f = fopen(path, "w"));
    fputs("id,category,amount,email,day\n", f);
    for (long i = 0; i < rows; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        fprintf(f, "%ld,%s,%.2f,user%lu@example.com,2026-%02d-%02d\n", i, cats[(s >> 33) % 5],
                (double)((s >> 20) % 1000000) / 100.0, (unsigned long)((s >> 30) % 500000),
                (int)(i % 12) + 1, (int)(i % 28) + 1);
    }
    fclose(f);
    free(path);
    free(tu_write_file(
        dir, "catalog/gen/big.json",
        "{\"Table\": {\"Name\": \"big\", \"DatabaseName\": \"gen\", \"Parameters\": "
        "{\"classification\": \"csv\", \"skip.header.line.count\": \"1\"}, "
        "\"StorageDescriptor\": {\"Columns\": [{\"Name\": \"id\", \"Type\": \"bigint\"}, "
        "{\"Name\": \"category\", \"Type\": \"string\"}, {\"Name\": \"amount\", \"Type\": "
        "\"double\"}, {\"Name\": \"email\", \"Type\": \"string\"}, {\"Name\": \"day\", "
        "\"Type\": \"date\"}], \"Location\": \"data/big/\", \"SerdeInfo\": {\"Parameters\": "
        "{\"field.delim\": \",\"}}}, \"PartitionKeys\": []}}"));
}

static void test_bounded_memory(void **state)
{
    enum { ROWS = 2000000 };
    char *dir = tu_mkdtemp();
    json_t *out, *id, *email;
    long before, after;
    int64_t t0;

    (void)state;
    write_big(dir, ROWS);
    before = status_kb("VmHWM:");
    t0 = tu_now_ms();
    assert_int_equal(run_profile(dir, "{\"table\": \"gen.big\"}", &out), WEIR_OK);
    after = status_kb("VmHWM:");
    print_message("profiled %d rows in %lld ms, peak RSS %ld -> %ld kB\n", ROWS,
                  (long long)(tu_now_ms() - t0), before, after);
    assert_int_equal(json_integer_value(json_object_get(out, "row_count")), ROWS);
    /* a report every 2^20 rows: 2M rows give one (at 1,048,576) */
    assert_int_equal(progress_seen.calls, ROWS / (1 << 20));
    assert_string_equal(progress_seen.unit, "rows");
    id = json_object_get(json_object_get(out, "column_stats"), "id");
    assert_false(json_is_true(json_object_get(id, "distinct_exact")));
    assert_true(fabs((double)json_integer_value(json_object_get(id, "distinct_count")) - ROWS) /
                    ROWS <
                0.02);
    assert_int_equal(json_integer_value(json_object_get(id, "min")), 0);
    assert_int_equal(json_integer_value(json_object_get(id, "max")), ROWS - 1);
    assert_true(fabs(json_number_value(json_object_get(id, "p50")) - ROWS / 2.0) / ROWS < 0.01);
    email = json_object_get(json_object_get(out, "column_stats"), "email");
    assert_true(json_number_value(json_object_get(json_object_get(email, "shapes"), "email")) ==
                1.0);
#if defined(__SANITIZE_ADDRESS__)
    print_message("address sanitizer: RSS bound not checked\n");
#else
    assert_true(after - before < 64 * 1024);
#endif
    json_decref(out);
    tu_rmtree(dir);
    free(dir);
}

/* The same rows as CSV and as JSON Lines give the same column_stats. */
static void test_jsonl_same_as_csv(void **state)
{
    static const char *const cats[] = { "red", "green", "blue" };
    char *dir = tu_mkdtemp(), *csv = NULL, *jsonl = NULL, *a, *b;
    size_t csv_len = 0, jsonl_len = 0;
    FILE *fc = open_memstream(&csv, &csv_len), *fj = open_memstream(&jsonl, &jsonl_len);
    json_t *oc, *oj;

    (void)state;
    fputs("id,cat,amt\n", fc);
    for (int i = 0; i < 3000; i++) {
        if (i % 7 == 0) {
            fprintf(fc, "%d,,%d.5\n", i, i % 100);
            fprintf(fj, "{\"id\": %d, \"cat\": null, \"amt\": %d.5}\n", i, i % 100);
        }
        else if (i % 11 == 0) {
            fprintf(fc, "%d,%s,\n", i, cats[i % 3]);
            fprintf(fj, "{\"id\": %d, \"cat\": \"%s\"}\n", i, cats[i % 3]);
        }
        else {
            fprintf(fc, "%d,%s,%d.5\n", i, cats[i % 3], i % 100);
            fprintf(fj, "{\"id\": %d, \"cat\": \"%s\", \"amt\": %d.5}\n", i, cats[i % 3], i % 100);
        }
    }
    fclose(fc);
    fclose(fj);
    free(tu_write_file(dir, "data/c/part-0.csv", csv));
    free(tu_write_file(dir, "data/j/part-0.json", jsonl));
    free(tu_write_file(
        dir, "catalog/t/c.json",
        "{\"Table\": {\"Name\": \"c\", \"DatabaseName\": \"t\", \"Parameters\": "
        "{\"classification\": \"csv\", \"skip.header.line.count\": \"1\"}, "
        "\"StorageDescriptor\": {\"Columns\": [{\"Name\": \"id\", \"Type\": \"int\"}, "
        "{\"Name\": \"cat\", \"Type\": \"string\"}, {\"Name\": \"amt\", \"Type\": \"double\"}], "
        "\"Location\": \"data/c/\"}, \"PartitionKeys\": []}}"));
    free(tu_write_file(
        dir, "catalog/t/j.json",
        "{\"Table\": {\"Name\": \"j\", \"DatabaseName\": \"t\", \"Parameters\": "
        "{\"classification\": \"json\"}, "
        "\"StorageDescriptor\": {\"Columns\": [{\"Name\": \"id\", \"Type\": \"int\"}, "
        "{\"Name\": \"cat\", \"Type\": \"string\"}, {\"Name\": \"amt\", \"Type\": \"double\"}], "
        "\"Location\": \"data/j/\"}, \"PartitionKeys\": []}}"));
    assert_int_equal(run_profile(dir, "{\"table\": \"t.c\", \"exact_threshold\": 100}", &oc),
                     WEIR_OK);
    assert_null(json_object_get(oc, "bad_rows"));
    assert_int_equal(run_profile(dir, "{\"table\": \"t.j\", \"exact_threshold\": 100}", &oj),
                     WEIR_OK);
    assert_int_equal(json_integer_value(json_object_get(oj, "row_count")), 3000);
    a = json_dumps(json_object_get(oc, "column_stats"), JSON_COMPACT);
    b = json_dumps(json_object_get(oj, "column_stats"), JSON_COMPACT);
    assert_string_equal(a, b);
    assert_int_equal(
        json_integer_value(json_object_get(
            json_object_get(json_object_get(oc, "column_stats"), "cat"), "null_count")),
        429);
    free(a);
    free(b);
    free(csv);
    free(jsonl);
    json_decref(oc);
    json_decref(oj);
    /* a ragged row fails the profile, or is skipped and counted on request */
    free(tu_write_file(dir, "data/c/part-1.csv", "id,cat,amt\n1,a,2\n2,b\n3,c,4\n"));
    assert_int_equal(run_profile(dir, "{\"table\": \"t.c\"}", &oc), WEIR_EINVALID);
    assert_non_null(strstr(weir_error_last(), "part-1.csv:3"));
    assert_int_equal(run_profile(dir, "{\"table\": \"t.c\", \"skip_bad_rows\": true}", &oc),
                     WEIR_OK);
    assert_int_equal(json_integer_value(json_object_get(oc, "row_count")), 3002);
    assert_int_equal(json_integer_value(json_object_get(oc, "bad_rows")), 1);
    json_decref(oc);
    tu_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_examples_match_brute_force),
        cmocka_unit_test(test_partitions_and_sample),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_jsonl_same_as_csv),
        cmocka_unit_test(test_bounded_memory),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
