/*
 * sketch_hll.c - the value hash and HyperLogLog.
 *
 * The hash reads 8-byte little-endian words, mixes each with two odd
 * multipliers and a rotation into one 64-bit lane, and finishes with the
 * SplitMix64 finaliser, so every input bit affects every output bit (HLL
 * needs both the top 14 bits and the leading-zero run of the rest to look
 * uniform).
 *
 * The estimator is Ertl's "improved raw estimator" (New cardinality
 * estimation algorithms for HyperLogLog sketches, 2017): it uses the
 * register histogram with sigma/tau corrections for empty and saturated
 * registers, so it is unbiased from 0 to far beyond 2^32 without the
 * empirical bias tables of HLL++ or a linear-counting switch.
 */
#include <math.h>
#include <string.h>

#include "sketch.h"

#define HASH_M1 0x9e3779b97f4a7c15ULL
#define HASH_M2 0xc2b2ae3d27d4eb4fULL
#define HASH_M3 0x165667b19e3779f9ULL

static inline uint64_t rotl64(uint64_t x, int r)
{
    return (x << r) | (x >> (64 - r));
}

static inline uint64_t load64(const unsigned char *p)
{
    uint64_t w;

    memcpy(&w, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    w = __builtin_bswap64(w);
#endif
    return w;
}

static inline uint64_t mix_word(uint64_t h, uint64_t w)
{
    w *= HASH_M2;
    w = rotl64(w, 31);
    w *= HASH_M1;
    h ^= w;
    return rotl64(h, 27) * HASH_M1 + HASH_M3;
}

static inline uint64_t finalise(uint64_t h)
{
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    h ^= h >> 31;
    return h;
}

uint64_t lake_hash64(const void *data, size_t len)
{
    const unsigned char *p = data;
    uint64_t h = HASH_M3 ^ ((uint64_t)len * HASH_M1);
    uint64_t tail = 0;
    size_t i = 0;

    for (; i + 8 <= len; i += 8) {
        h = mix_word(h, load64(p + i));
    }
    /* The tail is packed into one word with a length-dependent position so
     * "a" and "a\0" differ (the length is also in the seed). */
    for (size_t j = 0; i < len; i++, j++) {
        tail |= (uint64_t)p[i] << (8 * j);
    }
    h = mix_word(h, tail ^ ((uint64_t)(len & 7) << 59));
    return finalise(h);
}

void lake_hll_init(struct lake_hll *h)
{
    memset(h->reg, 0, sizeof(h->reg));
}

void lake_hll_add_hash(struct lake_hll *h, uint64_t hash)
{
    uint32_t idx = (uint32_t)(hash >> (64 - LAKE_HLL_P));
    uint64_t w = hash << LAKE_HLL_P;
    /* Registers hold 1 + leading zeros of the remaining 64-p bits, capped
     * at 64-p+1 when they are all zero. */
    uint8_t rank = w == 0 ? (uint8_t)(64 - LAKE_HLL_P + 1) : (uint8_t)(__builtin_clzll(w) + 1);

    if (rank > h->reg[idx]) {
        h->reg[idx] = rank;
    }
}

void lake_hll_merge(struct lake_hll *dst, const struct lake_hll *src)
{
    for (size_t i = 0; i < LAKE_HLL_M; i++) {
        if (src->reg[i] > dst->reg[i]) {
            dst->reg[i] = src->reg[i];
        }
    }
}

/* sigma(x) = x + sum_k x^(2^k) 2^(k-1), for the share of empty registers. */
static double hll_sigma(double x)
{
    double y = 1.0, z = x, prev;

    if (x == 1.0) {
        return INFINITY;
    }
    do {
        x *= x;
        prev = z;
        z += x * y;
        y += y;
    } while (z != prev);
    return z;
}

/* tau(x) = (1 - x - sum_k (1 - x^(2^-k))^2 2^-k) / 3, for saturated registers. */
static double hll_tau(double x)
{
    double y = 1.0, z, prev;

    if (x == 0.0 || x == 1.0) {
        return 0.0;
    }
    z = 1.0 - x;
    do {
        x = sqrt(x);
        prev = z;
        y *= 0.5;
        z -= (1.0 - x) * (1.0 - x) * y;
    } while (z != prev);
    return z / 3.0;
}

double lake_hll_estimate(const struct lake_hll *h)
{
    enum { Q = 64 - LAKE_HLL_P };
    uint32_t hist[Q + 2] = { 0 };
    const double m = (double)LAKE_HLL_M;
    double z;

    for (size_t i = 0; i < LAKE_HLL_M; i++) {
        hist[h->reg[i]]++;
    }
    if (hist[0] == LAKE_HLL_M) {
        return 0.0;
    }
    z = m * hll_tau(1.0 - (double)hist[Q + 1] / m);
    for (int k = Q; k >= 1; k--) {
        z = 0.5 * (z + hist[k]);
    }
    z += m * hll_sigma((double)hist[0] / m);
    return (0.5 / log(2.0)) * m * m / z;
}
