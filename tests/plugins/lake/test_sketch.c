/*
 * test_sketch.c - the profiler's sketches against exact answers on
 * deterministic data: HyperLogLog error, the exact-then-sketched value
 * counts, KLL rank error on uniform and skewed streams, heavy-hitter recall
 * on a Zipf stream, the shape matchers, and Welford against two passes.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "plugins.h"
#include "profile.h"
#include "shapes.h"
#include "sketch.h"


static uint64_t rng_state = 88172645463325252ULL;

static uint64_t rng_next(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static double rng_unit(void)
{
    return (double)(rng_next() >> 11) / 9007199254740992.0;
}

static int setup(void **state)
{
    (void)state;
    lake_host = weir_host_api_get();
    rng_state = 88172645463325252ULL;
    return 0;
}

/* ---- HyperLogLog ------------------------------------------------------ */

static double hll_rel_error(uint64_t n, uint64_t salt)
{
    struct lake_hll h;
    char buf[48];

    lake_hll_init(&h);
    for (uint64_t i = 0; i < n; i++) {
        int len = snprintf(buf, sizeof(buf), "user-%llu-%llu", (unsigned long long)salt,
                           (unsigned long long)i);

        lake_hll_add_hash(&h, lake_hash64(buf, (size_t)len));
    }
    return fabs(lake_hll_estimate(&h) - (double)n) / (double)n;
}

static void test_hll_error(void **state)
{
    static const uint64_t sizes[] = { 100, 1000, 20000, 100000, 1000000 };

    (void)state;
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        double err = hll_rel_error(sizes[i], i);

        print_message("hll n=%llu rel error %.4f%%\n", (unsigned long long)sizes[i], err * 100);
        assert_true(err < 0.02);
    }
}

/* Typical error: the RMS over 64 independent sets of 50k values must be near
 * the 1.04/sqrt(2^14) = 0.81% of an ideal hash (measured: 0.79% over 200). */
static void test_hll_rms(void **state)
{
    double sq = 0;

    (void)state;
    for (uint64_t t = 0; t < 64; t++) {
        double e = hll_rel_error(50000, 1000 + t);

        sq += e * e;
    }
    print_message("hll rms error over 64 sets of 50000: %.3f%%\n", 100 * sqrt(sq / 64));
    assert_true(sqrt(sq / 64) < 0.011);
}

static void test_hll_merge(void **state)
{
    struct lake_hll a, b, all;
    char buf[32];

    (void)state;
    lake_hll_init(&a);
    lake_hll_init(&b);
    lake_hll_init(&all);
    /* a: 0..60k, b: 40k..100k, union 100k distinct */
    for (int i = 0; i < 100000; i++) {
        int len = snprintf(buf, sizeof(buf), "k%d", i);
        uint64_t h = lake_hash64(buf, (size_t)len);

        if (i < 60000) {
            lake_hll_add_hash(&a, h);
        }
        if (i >= 40000) {
            lake_hll_add_hash(&b, h);
        }
        lake_hll_add_hash(&all, h);
    }
    lake_hll_merge(&a, &b);
    assert_memory_equal(a.reg, all.reg, sizeof(a.reg));
    assert_true(fabs(lake_hll_estimate(&a) - 100000.0) / 100000.0 < 0.02);
}

static void test_hash_spread(void **state)
{
    (void)state;
    /* Neighbouring and zero-padded inputs must hash apart. */
    assert_true(lake_hash64("a", 1) != lake_hash64("a\0", 2));
    assert_true(lake_hash64("", 0) != lake_hash64("\0", 1));
    assert_true(lake_hash64("12345678", 8) != lake_hash64("12345679", 8));
    assert_int_equal(lake_hash64("hello", 5), lake_hash64("hello", 5));
}

/* ---- exact values, then sketches -------------------------------------- */

static void add_str(struct lake_values *v, const char *s)
{
    assert_int_equal(lake_values_add(v, s, strlen(s), lake_hash64(s, strlen(s))), WEIR_OK);
}

static void test_values_exact_then_sketch(void **state)
{
    struct lake_values v;
    struct lake_value_count *top = NULL;
    size_t n = 0;
    char buf[32];

    (void)state;
    lake_values_init(&v, 10000, 64);
    for (int rep = 0; rep < 2; rep++) {
        for (int i = 0; i < 5000; i++) {
            snprintf(buf, sizeof(buf), "v%d", i);
            add_str(&v, buf);
        }
    }
    add_str(&v, "v7");
    assert_true(v.exact);
    assert_int_equal(lake_values_distinct(&v), 5000);
    assert_int_equal(lake_values_top(&v, 3, &top, &n), WEIR_OK);
    assert_int_equal(n, 3);
    assert_int_equal(top[0].count, 3);
    assert_memory_equal(top[0].data, "v7", 2);
    /* ties by bytes: v0 before v1 */
    assert_int_equal(top[1].count, 2);
    assert_memory_equal(top[1].data, "v0", 2);
    assert_memory_equal(top[2].data, "v1", 2);
    lake_host->free(top);

    /* a heavy hitter (2003 of 47003 rows, above n / 64) must survive */
    for (int i = 0; i < 2000; i++) {
        add_str(&v, "v7");
    }
    for (int i = 5000; i < 50000; i++) {
        snprintf(buf, sizeof(buf), "v%d", i);
        add_str(&v, buf);
    }
    assert_false(v.exact);
    assert_true(fabs((double)lake_values_distinct(&v) - 50000.0) / 50000.0 < 0.02);
    /* v7 seeded SpaceSaving from the exact counts and must still be on top. */
    assert_int_equal(lake_values_top(&v, 1, &top, &n), WEIR_OK);
    assert_memory_equal(top[0].data, "v7", 2);
    assert_true(top[0].count >= 2003 && top[0].count - top[0].error <= 2003);
    lake_host->free(top);
    lake_values_free(&v);
}

static void test_values_merge(void **state)
{
    struct lake_values a, b;
    char buf[32];

    (void)state;
    lake_values_init(&a, 1000, 64);
    lake_values_init(&b, 1000, 64);
    for (int i = 0; i < 600; i++) {
        snprintf(buf, sizeof(buf), "x%d", i);
        add_str(&a, buf);
        snprintf(buf, sizeof(buf), "x%d", i + 300);
        add_str(&b, buf);
    }
    assert_int_equal(lake_values_merge(&a, &b), WEIR_OK);
    assert_true(a.exact);
    assert_int_equal(lake_values_distinct(&a), 900);
    /* b goes approximate; merging it turns a approximate too */
    for (int i = 0; i < 30000; i++) {
        snprintf(buf, sizeof(buf), "y%d", i);
        add_str(&b, buf);
    }
    assert_false(b.exact);
    assert_int_equal(lake_values_merge(&a, &b), WEIR_OK);
    assert_false(a.exact);
    assert_true(fabs((double)lake_values_distinct(&a) - 30900.0) / 30900.0 < 0.02);
    lake_values_free(&a);
    lake_values_free(&b);
}

/* ---- KLL --------------------------------------------------------------- */

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* Distance of q from the rank interval of v in sorted data, as a share. */
static double rank_error(const double *sorted, size_t n, double v, double q)
{
    size_t lo = 0, hi = n, a, b;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;

        if (sorted[mid] < v) {
            lo = mid + 1;
        }
        else {
            hi = mid;
        }
    }
    a = lo;
    for (hi = n; lo < hi;) {
        size_t mid = (lo + hi) / 2;

        if (sorted[mid] <= v) {
            lo = mid + 1;
        }
        else {
            hi = mid;
        }
    }
    b = lo;
    /* v occupies ranks (a, b] of n */
    double target = q * (double)n;
    if (target < (double)a) {
        return ((double)a - target) / (double)n;
    }
    if (target > (double)b) {
        return (target - (double)b) / (double)n;
    }
    return 0.0;
}

static void check_kll(const char *what, double *data, size_t n, int merged)
{
    static const double q[] = { 0.01, 0.25, 0.5, 0.75, 0.95, 0.99 };
    struct lake_kll s, t;
    double out[6], worst = 0;

    lake_kll_init(&s);
    lake_kll_init(&t);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(lake_kll_add(merged && (i & 1) ? &t : &s, data[i]), WEIR_OK);
    }
    if (merged) {
        assert_int_equal(lake_kll_merge(&s, &t), WEIR_OK);
    }
    assert_int_equal(s.n, n);
    assert_false(lake_kll_is_exact(&s));
    assert_true(lake_kll_bytes(&s) < 128 * 1024);
    assert_int_equal(lake_kll_quantiles(&s, q, 6, out), WEIR_OK);
    qsort(data, n, sizeof(double), cmp_d);
    for (size_t i = 0; i < 6; i++) {
        double e = rank_error(data, n, out[i], q[i]);

        worst = e > worst ? e : worst;
        assert_true(e < 0.01);
    }
    print_message("kll %s%s n=%zu worst rank error %.4f%% (%zu bytes)\n", what,
                  merged ? " merged" : "", n, worst * 100, lake_kll_bytes(&s));
    lake_kll_free(&s);
    lake_kll_free(&t);
}

static void test_kll_uniform_and_skewed(void **state)
{
    size_t n = 1000000;
    double *d = malloc(n * sizeof(double));

    (void)state;
    assert_non_null(d);
    for (int merged = 0; merged < 2; merged++) {
        for (size_t i = 0; i < n; i++) {
            d[i] = rng_unit() * 1000.0;
        }
        check_kll("uniform", d, n, merged);
        for (size_t i = 0; i < n; i++) {
            /* log-normal-ish heavy tail, with many repeats of small values */
            double u = rng_unit();
            d[i] = u < 0.3 ? 1.0 : exp(6.0 * rng_unit() * rng_unit());
        }
        check_kll("skewed", d, n, merged);
    }
    free(d);
}

static void test_kll_exact_small(void **state)
{
    static const double q[] = { 0.5, 0.95, 0.99 };
    struct lake_kll s;
    double out[3];

    (void)state;
    lake_kll_init(&s);
    assert_int_equal(lake_kll_quantiles(&s, q, 3, out), WEIR_EINVALID);
    for (int i = 100; i >= 1; i--) {
        lake_kll_add(&s, i);
    }
    assert_true(lake_kll_is_exact(&s));
    assert_int_equal(lake_kll_quantiles(&s, q, 3, out), WEIR_OK);
    assert_true(out[0] == 50.0 && out[1] == 95.0 && out[2] == 99.0);
    lake_kll_free(&s);
}

/* ---- heavy hitters on Zipf --------------------------------------------- */

static void test_topk_zipf(void **state)
{
    enum { U = 100000, N = 1000000, K = 10 };
    double *cdf = malloc(U * sizeof(double));
    uint32_t *truth = calloc(U, sizeof(uint32_t));
    struct lake_values v;
    struct lake_value_count *top = NULL;
    size_t n = 0;
    double sum = 0;
    char buf[32];

    (void)state;
    assert_true(cdf && truth);
    for (int r = 0; r < U; r++) {
        sum += 1.0 / pow(r + 1, 1.1);
        cdf[r] = sum;
    }
    lake_values_init(&v, 1000, 64);
    for (int i = 0; i < N; i++) {
        double u = rng_unit() * sum;
        size_t lo = 0, hi = U - 1;

        while (lo < hi) {
            size_t mid = (lo + hi) / 2;

            if (cdf[mid] < u) {
                lo = mid + 1;
            }
            else {
                hi = mid;
            }
        }
        truth[lo]++;
        snprintf(buf, sizeof(buf), "item%zu", lo);
        add_str(&v, buf);
    }
    assert_false(v.exact);
    assert_int_equal(lake_values_top(&v, K, &top, &n), WEIR_OK);
    assert_int_equal(n, K);
    /* Ranks 0..K-1 are the true top K; every one must be reported, and each
     * reported count brackets the truth: count - error <= true <= count. */
    for (size_t i = 0; i < n; i++) {
        int rank = atoi(top[i].data + 4);

        assert_true(rank < K);
        assert_true(top[i].count >= truth[rank]);
        assert_true(top[i].count - top[i].error <= truth[rank]);
    }
    lake_host->free(top);
    lake_values_free(&v);
    free(cdf);
    free(truth);
}

/* ---- shapes ------------------------------------------------------------ */

#define S(x) (1u << LAKE_SHAPE_##x)

static void test_shapes_table(void **state)
{
    static const struct {
        const char *s;
        unsigned want;
    } cases[] = {
        { "ana@example.com", S(EMAIL) },
        { "first.last+tag@mail.example.co.uk", S(EMAIL) },
        { "a@b", 0 },
        { "a@b.c", 0 },
        { ".a@example.com", 0 },
        { "a..b@example.com", 0 },
        { "a@-x.com", 0 },
        { "a@x-.com", 0 },
        { "a@@x.com", 0 },
        { "a b@x.com", 0 },
        { "123e4567-e89b-12d3-a456-426614174000", S(UUID) },
        { "123e4567-e89b-12d3-a456-42661417400g", 0 },
        { "123e4567e89b-12d3-a456-4266141740000", 0 },
        { "2026-10-01", S(DATE) },
        { "2024-02-29", S(DATE) },
        { "2026-02-29", 0 },
        { "2026-13-01", 0 },
        { "2026-1-01", 0 },
        { "2026-10-01 01:14:00", S(TIMESTAMP) },
        { "2026-10-01T01:14:00Z", S(TIMESTAMP) },
        { "2026-10-01T01:14:00.123+05:30", S(TIMESTAMP) },
        { "2026-10-01T01:14", S(TIMESTAMP) },
        { "2026-10-01T25:14:00", 0 },
        { "2026-10-01T01:14:00.", 0 },
        { "42", S(INTEGER) },
        { "-7", S(INTEGER) },
        { "+0012", S(INTEGER) },
        { "-", 0 },
        { "3.14", S(DECIMAL) },
        { "-0.5", S(DECIMAL) },
        { ".5", S(DECIMAL) },
        { "1.2.3", 0 },
        { "1e5", 0 },
        { "SUCCESS", 0 },
        { "", 0 },
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        unsigned got = lake_shapes_match(cases[i].s, strlen(cases[i].s));

        if (got != cases[i].want) {
            fail_msg("shape of '%s': got %#x, want %#x", cases[i].s, got, cases[i].want);
        }
    }
}

static void test_parsers(void **state)
{
    int64_t iv;
    double dv;

    (void)state;
    assert_true(lake_parse_int("9223372036854775807", 19, &iv) && iv == INT64_MAX);
    assert_true(lake_parse_int("-9223372036854775808", 20, &iv) && iv == INT64_MIN);
    assert_false(lake_parse_int("9223372036854775808", 19, &iv));
    assert_true(lake_parse_number("1e5", 3, &dv) && dv == 1e5);
    assert_true(lake_parse_number("-2.5E-3", 7, &dv) && dv == -2.5e-3);
    assert_false(lake_parse_number("inf", 3, &dv));
    assert_false(lake_parse_number("nan", 3, &dv));
    assert_false(lake_parse_number("0x10", 4, &dv));
    assert_false(lake_parse_number(" 1", 2, &dv));
    assert_false(lake_parse_number("1e", 2, &dv));
    assert_false(lake_parse_number(".", 1, &dv));
    assert_false(lake_parse_number("-.", 2, &dv));
    /* the fast decimal path must agree with strtod to the last bit */
    for (int i = 0; i < 200000; i++) {
        char buf[40];
        int len =
            snprintf(buf, sizeof(buf), "%s%llu.%0*llu", i & 1 ? "-" : "",
                     (unsigned long long)(rng_next() % 10000000), 1 + i % 8,
                     (unsigned long long)(rng_next() % 100000000) % (uint64_t)pow(10, 1 + i % 8));

        assert_true(lake_parse_number(buf, (size_t)len, &dv));
        if (dv != strtod(buf, NULL)) {
            fail_msg("'%s' parsed as %.17g, strtod says %.17g", buf, dv, strtod(buf, NULL));
        }
    }
    assert_true(lake_parse_bool("TRUE", 4) && lake_parse_bool("false", 5) &&
                !lake_parse_bool("yes", 3));
    assert_int_equal(lake_utf8_length("h\xc3\xa9llo \xe2\x82\xac", 10), 7);
}

/* ---- Welford ------------------------------------------------------------ */

static void test_welford_vs_two_pass(void **state)
{
    enum { N = 1000000 };
    struct lake_column col = { "x", "double", LAKE_DOUBLE, NULL };
    struct lake_colprof c;
    double *x = malloc(N * sizeof(double));
    long double sum = 0, ss = 0, mean, sd;
    char buf[64];
    json_t *o;

    (void)state;
    assert_non_null(x);
    assert_int_equal(lake_colprof_init(&c, &col, 100, 5), WEIR_OK);
    for (int i = 0; i < N; i++) {
        /* a large offset with a small spread: sum of squares would cancel */
        int len = snprintf(buf, sizeof(buf), "%.6f", 1e9 + rng_unit() * 10.0);

        x[i] = strtod(buf, NULL);
        assert_int_equal(lake_colprof_add(&c, buf, (size_t)len), WEIR_OK);
        sum += x[i];
    }
    mean = sum / N;
    for (int i = 0; i < N; i++) {
        ss += (x[i] - mean) * (x[i] - mean);
    }
    sd = sqrtl(ss / (N - 1));
    print_message("welford: mean rel err %.3Le, sd rel err %.3Le\n", fabsl(c.mean - mean) / mean,
                  fabsl(sqrtl(c.m2 / (N - 1)) - sd) / sd);
    assert_true(fabsl(c.mean - mean) / mean < 1e-12);
    /* Welford lands within 1e-9 here; the one-pass sum-of-squares formula
     * loses all digits at this offset (x^2 ~ 1e18, spread ~ 10). */
    assert_true(fabsl(sqrtl(c.m2 / (N - 1)) - sd) / sd < 1e-7);
    o = lake_colprof_json(&c);
    assert_non_null(o);
    assert_true(fabs(json_real_value(json_object_get(o, "stddev")) - (double)sd) / (double)sd <
                1e-5);
    assert_string_equal(json_string_value(json_object_get(o, "inferred_type")), "double");
    assert_false(json_is_true(json_object_get(o, "distinct_exact")));
    json_decref(o);
    lake_colprof_free(&c);
    free(x);
}

/* ---- one column's JSON ------------------------------------------------- */

static json_t *profile_of(const char *type, enum lake_type kind, const char *const *vals, size_t n)
{
    struct lake_column col = { "c", (char *)type, kind, NULL };
    struct lake_colprof c;
    json_t *o;

    assert_int_equal(lake_colprof_init(&c, &col, 100, 2), WEIR_OK);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(lake_colprof_add(&c, vals[i], vals[i] ? strlen(vals[i]) : 0), WEIR_OK);
    }
    o = lake_colprof_json(&c);
    lake_colprof_free(&c);
    assert_non_null(o);
    return o;
}

static void test_colprof_json(void **state)
{
    static const char *const text[] = { "b\xc3\xa9"
                                        "b",
                                        NULL,
                                        "ana@example.com",
                                        "zz",
                                        NULL,
                                        "zz",
                                        "a" };
    static const char *const ints[] = { "7", "-3", NULL, "12", "7" };
    static const char *const bools[] = { "true", "FALSE", "true" };
    json_t *o;

    (void)state;
    o = profile_of("string", LAKE_STRING, text, 7);
    tu_assert_json(
        o,
        "{\"declared_type\": \"string\", \"inferred_type\": \"string\", \"null_count\": 2, "
        "\"null_pct\": 28.5714, \"distinct_count\": 4, \"distinct_exact\": true, \"min\": \"a\", "
        "\"max\": \"zz\", \"min_length\": 1, \"max_length\": 15, \"top_values\": [{\"value\": "
        "\"zz\", \"count\": 2}, {\"value\": \"a\", \"count\": 1}], \"top_values_exact\": true, "
        "\"shapes\": {\"email\": 0.2}}");
    json_decref(o);

    o = profile_of("int", LAKE_INT, ints, 5);
    tu_assert_json(
        o,
        "{\"declared_type\": \"int\", \"inferred_type\": \"integer\", \"null_count\": 1, "
        "\"null_pct\": 20.0, \"distinct_count\": 3, \"distinct_exact\": true, \"min\": -3, "
        "\"max\": 12, \"mean\": 5.75, \"stddev\": 6.29153, \"p50\": 7, \"p95\": 12, \"p99\": 12, "
        "\"top_values\": [{\"value\": \"7\", \"count\": 2}, {\"value\": \"-3\", \"count\": 1}], "
        "\"top_values_exact\": true, \"shapes\": {\"integer\": 1.0}}");
    json_decref(o);

    o = profile_of("boolean", LAKE_BOOLEAN, bools, 3);
    assert_string_equal(json_string_value(json_object_get(o, "inferred_type")), "boolean");
    assert_string_equal(json_string_value(json_object_get(o, "min")), "FALSE");
    assert_null(json_object_get(o, "mean"));
    assert_null(json_object_get(o, "min_length"));
    json_decref(o);

    o = profile_of("string", LAKE_STRING, text + 1, 1); /* only a null */
    assert_true(json_is_null(json_object_get(o, "inferred_type")));
    assert_true(json_is_null(json_object_get(o, "min")));
    assert_true(json_number_value(json_object_get(o, "null_pct")) == 100.0);
    json_decref(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_hash_spread, setup),
        cmocka_unit_test_setup(test_hll_error, setup),
        cmocka_unit_test_setup(test_hll_rms, setup),
        cmocka_unit_test_setup(test_hll_merge, setup),
        cmocka_unit_test_setup(test_values_exact_then_sketch, setup),
        cmocka_unit_test_setup(test_values_merge, setup),
        cmocka_unit_test_setup(test_kll_uniform_and_skewed, setup),
        cmocka_unit_test_setup(test_kll_exact_small, setup),
        cmocka_unit_test_setup(test_topk_zipf, setup),
        cmocka_unit_test_setup(test_shapes_table, setup),
        cmocka_unit_test_setup(test_parsers, setup),
        cmocka_unit_test_setup(test_welford_vs_two_pass, setup),
        cmocka_unit_test_setup(test_colprof_json, setup),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
