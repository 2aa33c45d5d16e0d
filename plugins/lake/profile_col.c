/*
 * profile_col.c - what the profiler learns about one column in one pass.
 *
 * Per non-null field: its hash feeds the exact-then-sketched value counts;
 * its shape bits and type parses feed the inferred type; a number feeds
 * Welford's running mean/variance (stable where sum-of-squares cancels), the
 * KLL sketch and min/max; every value feeds byte-wise min/max and the
 * code-point length range. Nothing is allocated per field except when a
 * new text minimum or maximum is seen.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profile.h"

int lake_colprof_init(struct lake_colprof *c, const struct lake_column *col, size_t exact_threshold,
                      size_t top_k)
{
    size_t ss = top_k * 4 < 64 ? 64 : top_k * 4;

    memset(c, 0, sizeof(*c));
    c->declared = col->type;
    c->kind = col->kind;
    c->top_k = top_k;
    c->lmin = UINT64_MAX;
    lake_kll_init(&c->kll);
    return lake_values_init(&c->values, exact_threshold, ss);
}

void lake_colprof_free(struct lake_colprof *c)
{
    lake_kll_free(&c->kll);
    lake_values_free(&c->values);
    free(c->smin);
    free(c->smax);
    memset(c, 0, sizeof(*c));
}

static int keep_text(char **buf, size_t *blen, size_t *cap, const char *data, size_t len)
{
    if (len + 1 > *cap) {
        char *p = realloc(*buf, len + 1);

        if (!p) {
            return lake_host->error_set(WEIR_ENOMEM, "profile: out of memory keeping a value");
        }
        *buf = p;
        *cap = len + 1;
    }
    memcpy(*buf, data, len);
    (*buf)[len] = '\0';
    *blen = len;
    return WEIR_OK;
}

static inline int bytes_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    int c;

    /* The first byte settles most comparisons without a call. */
    if (alen && blen && a[0] != b[0]) {
        return (unsigned char)a[0] < (unsigned char)b[0] ? -1 : 1;
    }
    c = memcmp(a, b, alen < blen ? alen : blen);

    return c ? c : (alen > blen) - (alen < blen);
}

static int add_text(struct lake_colprof *c, const char *data, size_t len)
{
    int rc;

    if (c->kind == LAKE_STRING || c->kind == LAKE_COMPLEX) {
        uint64_t cp = lake_utf8_length(data, len);

        if (cp < c->lmin) {
            c->lmin = cp;
        }
        if (cp > c->lmax) {
            c->lmax = cp;
        }
    }
    if (!c->smin || bytes_cmp(data, len, c->smin, c->smin_len) < 0) {
        if ((rc = keep_text(&c->smin, &c->smin_len, &c->smin_cap, data, len)) < 0) {
            return rc;
        }
    }
    if (!c->smax || bytes_cmp(data, len, c->smax, c->smax_len) > 0) {
        return keep_text(&c->smax, &c->smax_len, &c->smax_cap, data, len);
    }
    return WEIR_OK;
}

static int add_number(struct lake_colprof *c, double x)
{
    double d;

    c->num_n++;
    d = x - c->mean;
    c->mean += d / (double)c->num_n;
    c->m2 += d * (x - c->mean);
    if (c->num_n == 1 || x < c->nmin) {
        c->nmin = x;
    }
    if (c->num_n == 1 || x > c->nmax) {
        c->nmax = x;
    }
    return lake_kll_add(&c->kll, x);
}

enum { K_NONE = 0, K_INT, K_NUM };

/* Counts a value whose shapes and parse are known (computed now, or kept
 * from its first occurrence while counts are exact). */
static int count_value(struct lake_colprof *c, const struct lake_value_memo *m)
{
    unsigned shapes = m->shapes;

    for (unsigned b = shapes; b; b &= b - 1) {
        c->shapes[__builtin_ctz(b)]++;
    }
    c->n_date += (shapes >> LAKE_SHAPE_DATE) & 1u;
    c->n_ts += (shapes >> LAKE_SHAPE_TIMESTAMP) & 1u;
    if (m->kind == K_INT) {
        int64_t iv = m->num.i;

        if (c->n_int == 0 || iv < c->imin) {
            c->imin = iv;
        }
        if (c->n_int == 0 || iv > c->imax) {
            c->imax = iv;
        }
        c->n_int++;
        c->n_num++;
        return add_number(c, (double)iv);
    }
    if (m->kind == K_NUM) {
        c->n_num++;
        return add_number(c, m->num.d);
    }
    c->n_bool += m->set == 2;
    return WEIR_OK;
}

int lake_colprof_add(struct lake_colprof *c, const char *data, size_t len)
{
    struct lake_value_memo *m = NULL, local;
    unsigned shapes;
    int rc;

    c->rows++;
    if (!data) {
        c->nulls++;
        return WEIR_OK;
    }
    c->nonnull++;
    if ((rc = lake_values_add_memo(&c->values, data, len, lake_hash64(data, len), &m)) < 0) {
        return rc;
    }
    /* A value seen before (while counts are exact) changes no text minimum,
     * maximum or length range: only its counts and its number are added. */
    if (m && m->set) {
        return count_value(c, m);
    }
    if (!m) {
        m = &local;
    }
    memset(m, 0, sizeof(*m));
    shapes = lake_shapes_match(data, len);
    m->shapes = (uint8_t)shapes;
    m->set = 1;
    /* The shape scan already tells which parser can succeed: an integer is
     * integer-shaped, and a date or timestamp is never a number. */
    if ((shapes & (1u << LAKE_SHAPE_INTEGER)) && lake_parse_int(data, len, &m->num.i)) {
        m->kind = K_INT;
    }
    else if ((shapes & (1u << LAKE_SHAPE_DECIMAL)) ? lake_parse_decimal(data, len, &m->num.d)
             : !(shapes & ((1u << LAKE_SHAPE_DATE) | (1u << LAKE_SHAPE_TIMESTAMP))) &&
                 lake_parse_number(data, len, &m->num.d)) {
        m->kind = K_NUM;
    }
    else if (lake_parse_bool(data, len)) {
        m->set = 2; /* a boolean */
    }
    if ((rc = count_value(c, m)) < 0) {
        return rc;
    }
    /* Declared numeric columns report numeric min/max and no lengths. */
    if (c->kind >= LAKE_INT && c->kind <= LAKE_DECIMAL) {
        return WEIR_OK;
    }
    return add_text(c, data, len);
}

double lake_round6(double x)
{
    char buf[32];

    if (!isfinite(x) || x == 0.0) {
        return 0.0;
    }
    snprintf(buf, sizeof(buf), "%.6g", x);
    return strtod(buf, NULL);
}

static const char *inferred(const struct lake_colprof *c)
{
    if (c->nonnull == 0) {
        return NULL;
    }
    if (c->n_int == c->nonnull) {
        return "integer";
    }
    if (c->n_num == c->nonnull) {
        return "double";
    }
    if (c->n_bool == c->nonnull) {
        return "boolean";
    }
    if (c->n_date == c->nonnull) {
        return "date";
    }
    if (c->n_ts == c->nonnull) {
        return "timestamp";
    }
    return "string";
}

static int is_numeric(const struct lake_colprof *c)
{
    switch (c->kind) {
    case LAKE_INT:
    case LAKE_BIGINT:
    case LAKE_DOUBLE:
    case LAKE_DECIMAL: return 1;
    case LAKE_STRING:
        /* Text columns whose every value is a number are profiled as
         * numbers too (zip codes, amounts loaded as strings). */
        return c->nonnull > 0 && c->n_num == c->nonnull;
    default: return 0;
    }
}

/* A JSON string of arbitrary bytes: invalid UTF-8 bytes become U+FFFD, so
 * the output is always valid JSON (readers normally reject such data). */
static json_t *text_json(const char *data, size_t len)
{
    json_t *s = json_stringn(data, len);
    char *buf;

    if (s || !(buf = malloc(len * 3 + 1))) {
        return s;
    }
    size_t j = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char b = (unsigned char)data[i];

        if (b < 0x80) {
            buf[j++] = (char)b;
        }
        else {
            memcpy(buf + j, "\xEF\xBF\xBD", 3);
            j += 3;
        }
    }
    s = json_stringn(buf, j);
    free(buf);
    return s;
}

static json_t *number_json(const struct lake_colprof *c, double v)
{
    if (c->n_int == c->n_num && fabs(v) < 9.0e15) {
        return json_integer((json_int_t)v);
    }
    return json_real(v);
}

static int set(json_t *o, const char *key, json_t *v)
{
    return json_object_set_new(o, key, v ? v : json_null());
}

static int numeric_json(const struct lake_colprof *c, json_t *o)
{
    static const double q[3] = { 0.5, 0.95, 0.99 };
    double p[3];
    int rc = 0, ints = c->n_int == c->n_num;

    if (c->num_n == 0) {
        const char *keys[] = { "min", "max", "mean", "stddev", "p50", "p95", "p99" };

        for (size_t i = 0; i < 7; i++) {
            rc |= set(o, keys[i], json_null());
        }
        return rc;
    }
    if (lake_kll_quantiles(&c->kll, q, 3, p) < 0) {
        return -1;
    }
    rc |= set(o, "min", ints ? json_integer(c->imin) : json_real(c->nmin));
    rc |= set(o, "max", ints ? json_integer(c->imax) : json_real(c->nmax));
    rc |= set(o, "mean", json_real(lake_round6(c->mean)));
    /* Sample standard deviation (n - 1), as pandas and SQL stddev report. */
    rc |= set(o, "stddev",
              c->num_n > 1 ? json_real(lake_round6(sqrt(c->m2 / (double)(c->num_n - 1))))
                           : json_null());
    rc |= set(o, "p50", number_json(c, p[0]));
    rc |= set(o, "p95", number_json(c, p[1]));
    rc |= set(o, "p99", number_json(c, p[2]));
    return rc;
}

static int top_json(const struct lake_colprof *c, json_t *o)
{
    struct lake_value_count *top = NULL;
    json_t *arr = json_array();
    size_t n = 0;
    int rc = -1;

    if (!arr || lake_values_top(&c->values, c->top_k, &top, &n) < 0) {
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_object();

        if (!e || set(e, "value", text_json(top[i].data, top[i].len)) ||
            set(e, "count", json_integer((json_int_t)top[i].count)) ||
            json_array_append_new(arr, e)) {
            json_decref(e);
            goto done;
        }
    }
    rc = set(o, "top_values", arr);
    arr = NULL;
    rc |= set(o, "top_values_exact", json_boolean(c->values.exact));

done:
    json_decref(arr);
    lake_host->free(top);
    return rc;
}

static int shapes_json(const struct lake_colprof *c, json_t *o)
{
    json_t *s = json_object();

    if (!s) {
        return -1;
    }
    for (int i = 0; i < LAKE_SHAPE_COUNT; i++) {
        if (c->shapes[i] && json_object_set_new(s, lake_shape_names[i],
                                                json_real(lake_round6((double)c->shapes[i] /
                                                                      (double)c->nonnull)))) {
            json_decref(s);
            return -1;
        }
    }
    return set(o, "shapes", s);
}

json_t *lake_colprof_json(const struct lake_colprof *c)
{
    json_t *o = json_object();
    const char *inf = inferred(c);
    int rc = 0;

    if (!o) {
        goto fail;
    }
    rc |= set(o, "declared_type", json_string(c->declared ? c->declared : "string"));
    rc |= set(o, "inferred_type", inf ? json_string(inf) : NULL);
    rc |= set(o, "null_count", json_integer((json_int_t)c->nulls));
    rc |= set(o, "null_pct",
              json_real(c->rows ? lake_round6(100.0 * (double)c->nulls / (double)c->rows) : 0.0));
    rc |= set(o, "distinct_count", json_integer((json_int_t)lake_values_distinct(&c->values)));
    rc |= set(o, "distinct_exact", json_boolean(c->values.exact));
    if (is_numeric(c)) {
        rc |= numeric_json(c, o);
    }
    else {
        rc |= set(o, "min", c->smin ? text_json(c->smin, c->smin_len) : NULL);
        rc |= set(o, "max", c->smax ? text_json(c->smax, c->smax_len) : NULL);
    }
    if (c->kind == LAKE_STRING || c->kind == LAKE_COMPLEX) {
        rc |= set(o, "min_length", c->nonnull ? json_integer((json_int_t)c->lmin) : NULL);
        rc |= set(o, "max_length", c->nonnull ? json_integer((json_int_t)c->lmax) : NULL);
    }
    rc |= top_json(c, o);
    rc |= shapes_json(c, o);
    if (rc == 0) {
        return o;
    }

fail:
    json_decref(o);
    lake_host->error_set(WEIR_ENOMEM, "profile: out of memory building column stats");
    return NULL;
}
