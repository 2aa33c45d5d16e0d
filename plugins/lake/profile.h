/*
 * profile.h - one column's profile, fed one field at a time (profile_col.c),
 * and rendered to the column_stats JSON object. Kept apart from the
 * engine.profile op (profile.c) so it can be driven from any row source.
 */
#ifndef WEIR_LAKE_PROFILE_H
#define WEIR_LAKE_PROFILE_H

#include "lake.h"
#include "shapes.h"
#include "sketch.h"

struct lake_colprof {
    const char *declared; /* Hive type as written (borrowed) */
    enum lake_type kind;
    size_t top_k;

    uint64_t rows, nulls, nonnull;
    /* non-null values that parse as each type, for the inferred type */
    uint64_t n_int, n_num, n_bool, n_date, n_ts;
    uint64_t shapes[LAKE_SHAPE_COUNT];

    /* numbers: Welford mean/variance, min/max, integer min/max kept exactly */
    uint64_t num_n;
    double mean, m2, nmin, nmax;
    int64_t imin, imax;
    struct lake_kll kll;

    /* text: byte-wise min/max values, min/max length in code points */
    char *smin, *smax;
    size_t smin_len, smax_len, smin_cap, smax_cap;
    uint64_t lmin, lmax;

    struct lake_values values;
};

int lake_colprof_init(struct lake_colprof *c, const struct lake_column *col, size_t exact_threshold,
                      size_t top_k);
void lake_colprof_free(struct lake_colprof *c);
/* data == NULL is a null. */
int lake_colprof_add(struct lake_colprof *c, const char *data, size_t len);
/* The column_stats object (new reference) or NULL with the error set. */
json_t *lake_colprof_json(const struct lake_colprof *c);

/* x rounded to 6 significant digits, so printed reals are stable and short. */
double lake_round6(double x);

#endif
