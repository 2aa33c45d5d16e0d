/*
 * sketch_quantile.c - KLL quantile sketch (Karnin, Lang, Liberty 2016).
 *
 * Level h holds items of weight 2^h. Capacities shrink geometrically (factor
 * 2/3) from the top level down, with a floor of 8, so the sketch holds about
 * 3k items whatever the stream length. When the total reaches the total
 * capacity, the lowest level at or over its own capacity is sorted and every
 * other item (random offset) is promoted one level up: the lazy variant,
 * which keeps level 0 large and so compacts rarely. The random bits come
 * from a fixed-seed xorshift, so the same input gives the same answers.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lake.h"
#include "sketch.h"

#define KLL_MIN_CAP 8

/* Capacities depend only on the number of levels: recomputed when it grows. */
static void set_levels(struct lake_kll *s, int levels)
{
    s->levels = levels;
    s->held_cap = 0;
    for (int h = 0; h < levels; h++) {
        uint32_t cap = (uint32_t)(LAKE_KLL_K * pow(2.0 / 3.0, (double)(levels - 1 - h)));

        s->cap[h] = cap < KLL_MIN_CAP ? KLL_MIN_CAP : cap;
        s->held_cap += s->cap[h];
    }
}

void lake_kll_init(struct lake_kll *s)
{
    memset(s, 0, sizeof(*s));
    set_levels(s, 1);
    s->rng = 0x2545f4914f6cdd1dULL;
}

void lake_kll_free(struct lake_kll *s)
{
    for (int h = 0; h < LAKE_KLL_MAX_LEVELS; h++) {
        free(s->items[h]);
    }
    lake_kll_init(s);
}

static int reserve(struct lake_kll *s, int h, uint32_t need)
{
    uint32_t n;
    double *p;

    if (need <= s->alloc[h]) {
        return WEIR_OK;
    }
    n = s->alloc[h] ? s->alloc[h] : 16;
    while (n < need) {
        n *= 2;
    }
    if ((p = realloc(s->items[h], n * sizeof(double))) == NULL) {
        return lake_host->error_set(WEIR_ENOMEM, "profile: out of memory in the quantile sketch");
    }
    s->items[h] = p;
    s->alloc[h] = n;
    return WEIR_OK;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* Sorting level items dominates compaction; an inlined quicksort (median of
 * three, insertion sort below 16) runs several times faster than qsort's
 * callback per comparison. */
static void sort_doubles(double *a, size_t n)
{
    while (n > 16) {
        double x = a[0], y = a[n / 2], z = a[n - 1], pivot, t;
        size_t i = 0, j = n - 1;

        pivot = x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y));
        for (;;) {
            while (a[i] < pivot) {
                i++;
            }
            while (a[j] > pivot) {
                j--;
            }
            if (i >= j) {
                break;
            }
            t = a[i];
            a[i++] = a[j];
            a[j--] = t;
        }
        /* recurse into the smaller half, loop on the larger */
        if (j + 1 < n - j - 1) {
            sort_doubles(a, j + 1);
            a += j + 1;
            n -= j + 1;
        }
        else {
            sort_doubles(a + j + 1, n - j - 1);
            n = j + 1;
        }
    }
    for (size_t i = 1; i < n; i++) {
        double v = a[i];
        size_t j = i;

        while (j > 0 && a[j - 1] > v) {
            a[j] = a[j - 1];
            j--;
        }
        a[j] = v;
    }
}

static uint64_t next_bit(struct lake_kll *s)
{
    s->rng ^= s->rng << 13;
    s->rng ^= s->rng >> 7;
    s->rng ^= s->rng << 17;
    return s->rng >> 63;
}

/* Merges the sorted items b[0], b[2], ... (m of them) into the sorted a[0..n)
 * that has room for them, from the back so nothing is overwritten early. */
static void merge_in(double *a, size_t n, const double *b, size_t m)
{
    size_t i = n, j = m, k = n + m;

    while (j > 0) {
        if (i > 0 && a[i - 1] > b[2 * (j - 1)]) {
            a[--k] = a[--i];
        }
        else {
            a[--k] = b[2 * (--j)];
        }
    }
}

static int compact_level(struct lake_kll *s, int h)
{
    uint32_t n = s->size[h], keep = n & 1u, pairs = n / 2;
    double *src = s->items[h];
    uint32_t off;
    int rc;

    if (h + 1 >= LAKE_KLL_MAX_LEVELS) {
        return lake_host->error_set(WEIR_EINVALID, "profile: quantile sketch overflow");
    }
    if (h + 1 >= s->levels) {
        set_levels(s, h + 2);
    }
    if ((rc = reserve(s, h + 1, s->size[h + 1] + pairs)) < 0) {
        return rc;
    }
    /* Levels above 0 are kept sorted (promoted runs are merged in), so only
     * level 0, the unsorted input buffer, needs a sort here. */
    if (h == 0) {
        uint32_t i = 1;

        /* Ordered input (ids, timestamps) is common: check before sorting. */
        while (i < n && src[i - 1] <= src[i]) {
            i++;
        }
        if (i < n) {
            sort_doubles(src, n);
        }
    }
    off = keep + (uint32_t)next_bit(s);
    merge_in(s->items[h + 1], s->size[h + 1], src + off, pairs);
    s->size[h + 1] += pairs;
    /* An odd level keeps its smallest item at its own weight. */
    s->size[h] = keep;
    s->held -= pairs;
    return WEIR_OK;
}

static int compress(struct lake_kll *s)
{
    int rc;

    while (s->held >= s->held_cap) {
        int h = 0;

        while (h < s->levels - 1 && s->size[h] < s->cap[h]) {
            h++;
        }
        if ((rc = compact_level(s, h)) < 0) {
            return rc;
        }
    }
    return WEIR_OK;
}

int lake_kll_add(struct lake_kll *s, double v)
{
    int rc;

    if ((rc = reserve(s, 0, s->size[0] + 1)) < 0) {
        return rc;
    }
    s->items[0][s->size[0]++] = v;
    s->n++;
    if (++s->held >= s->held_cap) {
        return compress(s);
    }
    return WEIR_OK;
}

int lake_kll_merge(struct lake_kll *dst, const struct lake_kll *src)
{
    int rc;

    for (int h = 0; h < src->levels; h++) {
        if ((rc = reserve(dst, h, dst->size[h] + src->size[h])) < 0) {
            return rc;
        }
        if (src->size[h]) {
            memcpy(dst->items[h] + dst->size[h], src->items[h], src->size[h] * sizeof(double));
        }
        dst->size[h] += src->size[h];
        dst->held += src->size[h];
    }
    if (src->levels > dst->levels) {
        set_levels(dst, src->levels);
    }
    for (int h = 1; h < dst->levels; h++) {
        sort_doubles(dst->items[h], dst->size[h]);
    }
    dst->n += src->n;
    return compress(dst);
}

int lake_kll_is_exact(const struct lake_kll *s)
{
    return s->levels == 1;
}

struct weighted {
    double v;
    uint64_t w;
};

static int cmp_weighted(const void *a, const void *b)
{
    return cmp_double(&((const struct weighted *)a)->v, &((const struct weighted *)b)->v);
}

int lake_kll_quantiles(const struct lake_kll *s, const double *q, size_t nq, double *out)
{
    size_t total = 0, j = 0;
    struct weighted *all;
    uint64_t weight = 0;

    for (int h = 0; h < s->levels; h++) {
        total += s->size[h];
    }
    if (total == 0) {
        return lake_host->error_set(WEIR_EINVALID, "profile: no values for quantiles");
    }
    if ((all = malloc(total * sizeof(*all))) == NULL) {
        return lake_host->error_set(WEIR_ENOMEM, "profile: out of memory for quantiles");
    }
    for (int h = 0; h < s->levels; h++) {
        for (uint32_t i = 0; i < s->size[h]; i++) {
            all[j].v = s->items[h][i];
            all[j++].w = (uint64_t)1 << h;
            weight += (uint64_t)1 << h;
        }
    }
    qsort(all, total, sizeof(*all), cmp_weighted);
    for (size_t k = 0; k < nq; k++) {
        /* Nearest rank: the smallest value whose cumulative weight reaches
         * ceil(q * W), at least the first. */
        double t = ceil(q[k] * (double)weight);
        uint64_t target = t < 1.0 ? 1 : (uint64_t)t, cum = 0;
        size_t i = 0;

        while (i + 1 < total && cum + all[i].w < target) {
            cum += all[i++].w;
        }
        out[k] = all[i].v;
    }
    free(all);
    return WEIR_OK;
}

size_t lake_kll_bytes(const struct lake_kll *s)
{
    size_t b = sizeof(*s);

    for (int h = 0; h < LAKE_KLL_MAX_LEVELS; h++) {
        b += s->alloc[h] * sizeof(double);
    }
    return b;
}
