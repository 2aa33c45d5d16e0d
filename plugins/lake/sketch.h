/*
 * sketch.h - the profiler's bounded-memory summaries of one column:
 *
 *   lake_hash64       64-bit hash of value bytes (shared by all sketches)
 *   lake_hll          HyperLogLog, precision 14, Ertl's improved estimator
 *   lake_kll          KLL quantile sketch (mergeable, rank error ~0.5% at k=512)
 *   lake_values       exact value -> count map up to a threshold, then
 *                     HyperLogLog (distinct) + SpaceSaving (heavy hitters)
 *
 * Every sketch is sized independently of the row count, deterministic (same
 * input order -> same state) and mergeable. Allocation failures return
 * WEIR_ENOMEM with the message set through lake_host.
 */
#ifndef WEIR_LAKE_SKETCH_H
#define WEIR_LAKE_SKETCH_H

#include <stddef.h>
#include <stdint.h>

uint64_t lake_hash64(const void *data, size_t len);

/* ---- HyperLogLog ---------------------------------------------------- */

#define LAKE_HLL_P 14
#define LAKE_HLL_M (1u << LAKE_HLL_P)

struct lake_hll {
    uint8_t reg[LAKE_HLL_M];
};

void lake_hll_init(struct lake_hll *h);
void lake_hll_add_hash(struct lake_hll *h, uint64_t hash);
void lake_hll_merge(struct lake_hll *dst, const struct lake_hll *src);
double lake_hll_estimate(const struct lake_hll *h);

/* ---- KLL quantiles --------------------------------------------------- */

#define LAKE_KLL_K 512
#define LAKE_KLL_MAX_LEVELS 48

struct lake_kll {
    double *items[LAKE_KLL_MAX_LEVELS]; /* level h: items of weight 2^h */
    uint32_t size[LAKE_KLL_MAX_LEVELS];
    uint32_t alloc[LAKE_KLL_MAX_LEVELS];
    uint32_t cap[LAKE_KLL_MAX_LEVELS]; /* per-level capacity for `levels` */
    uint64_t held, held_cap;           /* items held, sum of capacities */
    int levels;
    uint64_t n;   /* values added (and merged) */
    uint64_t rng; /* fixed seed: deterministic */
};

void lake_kll_init(struct lake_kll *s);
void lake_kll_free(struct lake_kll *s);
int lake_kll_add(struct lake_kll *s, double v);
int lake_kll_merge(struct lake_kll *dst, const struct lake_kll *src);
/* Values are exact (nearest rank) until the first compaction. */
int lake_kll_is_exact(const struct lake_kll *s);
/* Nearest-rank quantiles for each of q[0..nq) (0 <= q <= 1) into out;
 * WEIR_EINVALID when the sketch is empty. */
int lake_kll_quantiles(const struct lake_kll *s, const double *q, size_t nq, double *out);
/* Bytes held by the sketch (for tests of boundedness). */
size_t lake_kll_bytes(const struct lake_kll *s);

/* ---- values: exact counts, then HLL + SpaceSaving -------------------- */

struct lake_value_count {
    const char *data; /* borrowed from the lake_values; valid until it changes */
    size_t len;
    uint64_t count;
    uint64_t error; /* SpaceSaving overestimate bound (0 when exact) */
};

struct lake_ss_counter {
    uint64_t hash;
    char *data;
    size_t len, cap; /* cap: bytes allocated, reused by replacements */
    uint64_t count;
    uint64_t error;
    uint32_t min_pos; /* index in lake_values.ss_min, or UINT32_MAX */
};

struct lake_values {
    /* exact phase */
    struct lake_vslot *slots; /* open addressing, power of two */
    size_t nslots;
    size_t nused;
    char *arena; /* value bytes */
    size_t arena_len, arena_cap;
    size_t threshold; /* max distinct kept exactly */
    size_t byte_cap;  /* max value bytes kept exactly */
    int exact;
    /* approximate phase */
    struct lake_hll *hll;
    struct lake_ss_counter *ss;
    size_t nss, ss_cap;
    uint32_t *ss_min; /* ids of the counters whose count is ss_min_count;
                                  empty: to be rebuilt by a scan */
    size_t nss_min;
    uint64_t ss_min_count;
    uint64_t *ss_index; /* linear probing: (low 32 bits of the hash) << 32 | counter id + 1 */
    size_t ss_index_n;  /* power of two, >= 4 * ss_cap */
};

/* What the profiler learned from a value the first time it saw it, kept
 * beside the value while counts are exact, so a repeated value is not
 * scanned and parsed again. Opaque to the sketch. */
struct lake_value_memo {
    union {
        int64_t i;
        double d;
    } num;
    uint8_t shapes;
    uint8_t kind;
    uint8_t set; /* 0 until the caller fills it in (with any non-zero value) */
};

/* threshold: distinct values counted exactly; ss_cap: heavy-hitter counters. */
int lake_values_init(struct lake_values *v, size_t threshold, size_t ss_cap);
void lake_values_free(struct lake_values *v);
int lake_values_add(struct lake_values *v, const char *data, size_t len, uint64_t hash);
/* lake_values_add that also gives the value's memo while counts are exact
 * (set == 0 the first time the value is seen), else NULL. The pointer is
 * valid until the next add or merge. */
int lake_values_add_memo(struct lake_values *v, const char *data, size_t len, uint64_t hash,
                         struct lake_value_memo **memo);
int lake_values_merge(struct lake_values *dst, const struct lake_values *src);
uint64_t lake_values_distinct(const struct lake_values *v);
/* The top k values by count (desc), ties by bytes (asc): *out is malloc'd
 * (lake_host->malloc) with *n <= k entries. */
int lake_values_top(const struct lake_values *v, size_t k, struct lake_value_count **out,
                    size_t *n);

/* SpaceSaving on its own (used by lake_values after the exact phase). */
int lake_ss_add(struct lake_values *v, const char *data, size_t len, uint64_t hash, uint64_t count,
                uint64_t error);

#endif
