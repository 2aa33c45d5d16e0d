/*
 * sketch_topk.c - distinct values and their counts.
 *
 * While a column has at most `threshold` distinct values (and their bytes
 * fit in byte_cap), every value is kept with its exact count in an
 * open-addressing table keyed by the value hash: distinct_count and the top
 * values are then exact. The first value past the threshold switches the
 * column to sketches for good: all known hashes go into a HyperLogLog, the
 * largest exact counts seed a SpaceSaving summary (Metwally et al. 2005)
 * with zero error, and the table is freed, so memory stays bounded.
 *
 * SpaceSaving keeps ss_cap counters; an unseen value replaces the smallest
 * counter and inherits its count as its error bound, so every reported
 * count overestimates by at most that bound, and every value with a true
 * count above n/ss_cap is among the counters.
 */
#include <stdlib.h>
#include <string.h>

#include "lake.h"
#include "sketch.h"

struct lake_vslot {
    uint64_t hash;
    uint64_t count; /* 0: empty slot */
    uint32_t off;
    uint32_t len;
    struct lake_value_memo memo;
};

#define VALUES_BYTE_CAP ((size_t)8 << 20)

static int oom(void)
{
    return lake_host->error_set(WEIR_ENOMEM, "profile: out of memory counting values");
}

int lake_values_init(struct lake_values *v, size_t threshold, size_t ss_cap)
{
    memset(v, 0, sizeof(*v));
    v->threshold = threshold;
    v->byte_cap = VALUES_BYTE_CAP;
    v->ss_cap = ss_cap < 1 ? 1 : ss_cap;
    v->exact = 1;
    return WEIR_OK;
}

void lake_values_free(struct lake_values *v)
{
    free(v->slots);
    free(v->arena);
    free(v->hll);
    for (size_t i = 0; i < v->nss; i++) {
        free(v->ss[i].data);
    }
    free(v->ss);
    free(v->ss_min);
    free(v->ss_index);
    memset(v, 0, sizeof(*v));
}

static int cmp_counts(const void *a, const void *b)
{
    const struct lake_value_count *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c;

    if (x->count != y->count) {
        return x->count > y->count ? -1 : 1;
    }
    if ((c = memcmp(x->data, y->data, n)) != 0) {
        return c;
    }
    return (x->len > y->len) - (x->len < y->len);
}

/* Every value with its count, sorted by count desc then bytes asc. */
static int collect(const struct lake_values *v, struct lake_value_count **out, size_t *n)
{
    size_t cnt = v->exact ? v->nused : v->nss, j = 0;
    struct lake_value_count *all = lake_host->malloc((cnt ? cnt : 1) * sizeof(*all));

    if (!all) {
        return oom();
    }
    if (v->exact) {
        for (size_t i = 0; i < v->nslots; i++) {
            if (v->slots[i].count) {
                all[j].data = v->arena + v->slots[i].off;
                all[j].len = v->slots[i].len;
                all[j].count = v->slots[i].count;
                all[j++].error = 0;
            }
        }
    }
    else {
        for (size_t i = 0; i < v->nss; i++) {
            all[j].data = v->ss[i].data;
            all[j].len = v->ss[i].len;
            all[j].count = v->ss[i].count;
            all[j++].error = v->ss[i].error;
        }
    }
    qsort(all, j, sizeof(*all), cmp_counts);
    *out = all;
    *n = j;
    return WEIR_OK;
}

/* ---- SpaceSaving. A hash index finds a value's counter. The counter to
 * replace comes from the "min bucket", the ids of all counters at the
 * minimum count: a replaced or incremented counter leaves it, and only when
 * it is empty is it rebuilt by one scan of the k counters. On a stream of
 * mostly new values (the common case past the exact threshold) the bucket
 * holds most counters, so a replacement costs O(1) amortised, not a heap
 * sift of log k unpredictable branches. */

static void min_rebuild(struct lake_values *v)
{
    uint64_t min = UINT64_MAX;

    for (size_t i = 0; i < v->nss; i++) {
        if (v->ss[i].count < min) {
            min = v->ss[i].count;
        }
    }
    v->nss_min = 0;
    v->ss_min_count = min;
    for (size_t i = 0; i < v->nss; i++) {
        if (v->ss[i].count == min) {
            v->ss[i].min_pos = (uint32_t)v->nss_min;
            v->ss_min[v->nss_min++] = (uint32_t)i;
        }
    }
}

/* Takes counter id out of the min bucket (it is about to grow). */
static void min_leave(struct lake_values *v, uint32_t id)
{
    uint32_t pos = v->ss[id].min_pos, last;

    if (pos == UINT32_MAX) {
        return;
    }
    last = v->ss_min[--v->nss_min];
    v->ss_min[pos] = last;
    v->ss[last].min_pos = pos;
    v->ss[id].min_pos = UINT32_MAX;
}

/* Index entries carry the low half of the hash, so probes and deletions
 * compare and find home slots without touching the counters. */
#define IDX_ENTRY(hash, id) (((uint64_t)(uint32_t)(hash) << 32) | ((uint64_t)(id) + 1))
#define IDX_ID(e) ((uint32_t)(e) - 1)
#define IDX_HOME(e, mask) (((e) >> 32) & (mask))

static void index_put(struct lake_values *v, uint64_t hash, uint32_t id)
{
    size_t mask = v->ss_index_n - 1, j = hash & mask;

    while (v->ss_index[j]) {
        j = (j + 1) & mask;
    }
    v->ss_index[j] = IDX_ENTRY(hash, id);
}

/* Backward-shift deletion keeps probe chains intact without tombstones. */
static void index_del(struct lake_values *v, uint64_t hash, uint32_t id)
{
    size_t mask = v->ss_index_n - 1, j = hash & mask, k;
    uint64_t want = IDX_ENTRY(hash, id);

    while (v->ss_index[j] != want) {
        j = (j + 1) & mask;
    }
    for (k = (j + 1) & mask; v->ss_index[k]; k = (k + 1) & mask) {
        size_t home = IDX_HOME(v->ss_index[k], mask);

        /* move k into the hole j unless its home lies cyclically in (j, k] */
        if (((k - home) & mask) >= ((k - j) & mask)) {
            v->ss_index[j] = v->ss_index[k];
            j = k;
        }
    }
    v->ss_index[j] = 0;
}

static int ss_alloc(struct lake_values *v)
{
    size_t n = 16;

    while (n < v->ss_cap * 4) {
        n *= 2;
    }
    v->ss = calloc(v->ss_cap, sizeof(*v->ss));
    v->ss_min = calloc(v->ss_cap, sizeof(*v->ss_min));
    v->ss_index = calloc(n, sizeof(*v->ss_index));
    v->ss_index_n = n;
    return v->ss && v->ss_min && v->ss_index ? WEIR_OK : oom();
}

static int set_value(struct lake_ss_counter *c, const char *data, size_t len, uint64_t hash)
{
    /* A busy high-cardinality column replaces a counter on most rows: the
     * buffer is reused rather than reallocated each time. */
    if (len + 1 > c->cap) {
        size_t cap = len + 1 < 32 ? 32 : len + 1;
        char *p = realloc(c->data, cap);

        if (!p) {
            return oom();
        }
        c->data = p;
        c->cap = cap;
    }
    memcpy(c->data, data, len);
    c->data[len] = '\0';
    c->len = len;
    c->hash = hash;
    return WEIR_OK;
}

int lake_ss_add(struct lake_values *v, const char *data, size_t len, uint64_t hash, uint64_t count,
                uint64_t error)
{
    struct lake_ss_counter *c;
    size_t mask, j;
    uint32_t id;
    int rc;

    if (!v->ss && (rc = ss_alloc(v)) < 0) {
        return rc;
    }
    mask = v->ss_index_n - 1;
    for (j = hash & mask; v->ss_index[j]; j = (j + 1) & mask) {
        uint64_t e = v->ss_index[j];

        if ((e >> 32) != (uint32_t)hash) {
            continue;
        }
        c = &v->ss[IDX_ID(e)];
        if (c->hash == hash && c->len == len && memcmp(c->data, data, len) == 0) {
            c->count += count;
            c->error += error;
            min_leave(v, IDX_ID(e));
            return WEIR_OK;
        }
    }
    if (v->nss < v->ss_cap) {
        id = (uint32_t)v->nss++;
        c = &v->ss[id];
        c->count = count;
        c->error = error;
        c->min_pos = UINT32_MAX;
    }
    else {
        if (v->nss_min == 0) {
            min_rebuild(v);
        }
        id = v->ss_min[v->nss_min - 1];
        min_leave(v, id);
        c = &v->ss[id];
        index_del(v, c->hash, id);
        c->error = c->count + error;
        c->count += count;
    }
    if ((rc = set_value(c, data, len, hash)) < 0) {
        return rc;
    }
    index_put(v, hash, id);
    return WEIR_OK;
}

static int to_approx(struct lake_values *v)
{
    struct lake_value_count *all = NULL;
    size_t n = 0;
    int rc;

    if ((v->hll = malloc(sizeof(*v->hll))) == NULL) {
        return oom();
    }
    lake_hll_init(v->hll);
    for (size_t i = 0; i < v->nslots; i++) {
        if (v->slots[i].count) {
            lake_hll_add_hash(v->hll, v->slots[i].hash);
        }
    }
    if ((rc = collect(v, &all, &n)) < 0) {
        goto done;
    }
    v->exact = 0;
    for (size_t i = 0; i < n && i < v->ss_cap; i++) {
        if ((rc = lake_ss_add(v, all[i].data, all[i].len, lake_hash64(all[i].data, all[i].len),
                              all[i].count, 0)) < 0) {
            goto done;
        }
    }
    free(v->slots);
    free(v->arena);
    v->slots = NULL;
    v->arena = NULL;
    v->nslots = v->nused = v->arena_len = v->arena_cap = 0;

done:
    lake_host->free(all);
    return rc;
}

static int grow_table(struct lake_values *v)
{
    size_t n = v->nslots ? v->nslots * 2 : 64;
    struct lake_vslot *slots = calloc(n, sizeof(*slots));

    if (!slots) {
        return oom();
    }
    for (size_t i = 0; i < v->nslots; i++) {
        if (v->slots[i].count) {
            size_t j = v->slots[i].hash & (n - 1);

            while (slots[j].count) {
                j = (j + 1) & (n - 1);
            }
            slots[j] = v->slots[i];
        }
    }
    free(v->slots);
    v->slots = slots;
    v->nslots = n;
    return WEIR_OK;
}

static int arena_put(struct lake_values *v, const char *data, size_t len, uint32_t *off)
{
    if (v->arena_len + len > v->arena_cap) {
        size_t cap = v->arena_cap ? v->arena_cap : 4096;
        char *p;

        while (cap < v->arena_len + len) {
            cap *= 2;
        }
        if ((p = realloc(v->arena, cap)) == NULL) {
            return oom();
        }
        v->arena = p;
        v->arena_cap = cap;
    }
    memcpy(v->arena + v->arena_len, data, len);
    *off = (uint32_t)v->arena_len;
    v->arena_len += len;
    return WEIR_OK;
}

/* memcmp(a, b, n) == 0 without a call for the short values of a column. */
static inline int same_bytes(const char *a, const char *b, size_t n)
{
    uint64_t x, y;

    while (n >= 8) {
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        if (x != y) {
            return 0;
        }
        a += 8;
        b += 8;
        n -= 8;
    }
    while (n--) {
        if (*a++ != *b++) {
            return 0;
        }
    }
    return 1;
}

static int add_n(struct lake_values *v, const char *data, size_t len, uint64_t hash, uint64_t count,
                 uint64_t error, struct lake_value_memo **memo)
{
    struct lake_vslot *s;
    size_t j;
    int rc;

    if (v->exact) {
        if (v->nslots) {
            for (j = hash & (v->nslots - 1); v->slots[j].count; j = (j + 1) & (v->nslots - 1)) {
                s = &v->slots[j];
                if (s->hash == hash && s->len == len && same_bytes(v->arena + s->off, data, len)) {
                    s->count += count;
                    *memo = &s->memo;
                    return WEIR_OK;
                }
            }
        }
        if (v->nused + 1 > v->threshold || v->arena_len + len > v->byte_cap || error) {
            if ((rc = to_approx(v)) < 0) {
                return rc;
            }
            return add_n(v, data, len, hash, count, error, memo);
        }
        if ((v->nused + 1) * 2 > v->nslots) {
            if ((rc = grow_table(v)) < 0) {
                return rc;
            }
        }
        for (j = hash & (v->nslots - 1); v->slots[j].count; j = (j + 1) & (v->nslots - 1)) {
        }
        s = &v->slots[j];
        if ((rc = arena_put(v, data, len, &s->off)) < 0) {
            return rc;
        }
        s->hash = hash;
        s->len = (uint32_t)len;
        s->count = count;
        memset(&s->memo, 0, sizeof(s->memo));
        *memo = &s->memo;
        v->nused++;
        return WEIR_OK;
    }
    *memo = NULL;
    lake_hll_add_hash(v->hll, hash);
    return lake_ss_add(v, data, len, hash, count, error);
}

int lake_values_add(struct lake_values *v, const char *data, size_t len, uint64_t hash)
{
    struct lake_value_memo *memo;

    return add_n(v, data, len, hash, 1, 0, &memo);
}

int lake_values_add_memo(struct lake_values *v, const char *data, size_t len, uint64_t hash,
                         struct lake_value_memo **memo)
{
    return add_n(v, data, len, hash, 1, 0, memo);
}

int lake_values_merge(struct lake_values *dst, const struct lake_values *src)
{
    struct lake_value_count *all = NULL;
    size_t n = 0;
    int rc;

    if (!src->exact && dst->exact && (rc = to_approx(dst)) < 0) {
        return rc;
    }
    if ((rc = collect(src, &all, &n)) < 0) {
        return rc;
    }
    for (size_t i = 0; i < n; i++) {
        struct lake_value_memo *memo;

        if ((rc = add_n(dst, all[i].data, all[i].len, lake_hash64(all[i].data, all[i].len),
                        all[i].count, all[i].error, &memo)) < 0) {
            goto done;
        }
    }
    if (!src->exact) {
        lake_hll_merge(dst->hll, src->hll);
    }

done:
    lake_host->free(all);
    return rc;
}

uint64_t lake_values_distinct(const struct lake_values *v)
{
    if (v->exact) {
        return v->nused;
    }
    return (uint64_t)(lake_hll_estimate(v->hll) + 0.5);
}

int lake_values_top(const struct lake_values *v, size_t k, struct lake_value_count **out, size_t *n)
{
    int rc = collect(v, out, n);

    if (rc == WEIR_OK && *n > k) {
        *n = k;
    }
    return rc;
}
