/*
 * profile.c - engine.profile: one streaming pass over a catalog table (all
 * partitions or a selection), every column profiled at once (profile_col.c).
 * Memory is the reader's block plus fixed-size sketches per column, whatever
 * the number of rows. Output keys are in a fixed order and every value is a
 * function of the input alone, so equal data gives byte-identical JSON.
 * The table is a catalog table (`table`) or, for files not in the catalog
 * yet, an ad-hoc Glue-shaped `definition` such as catalog.infer's output.
 *
 * Output:
 *   {"table", "row_count", "files", "partitions": {key: [values profiled]},
 *    ["sample_rows",] ["bad_rows",] "column_stats": {column (table order, then partition
 *    keys): {"declared_type", "inferred_type" (integer, double, boolean, date,
 *    timestamp, string; null without values), "null_count", "null_pct" (a
 *    percentage, 0-100), "distinct_count", "distinct_exact", "min", "max",
 *    numeric columns: "mean", "stddev" (sample), "p50", "p95", "p99";
 *    string columns: "min_length", "max_length" (code points);
 *    "top_values": [{"value", "count"}], "top_values_exact",
 *    "shapes": {shape: share of non-null values (0-1), non-zero only}}}}
 * min/max are numbers for numeric columns (declared numeric, or text whose
 * every value is a number), else byte-wise lowest/highest text. Derived
 * reals (mean, stddev, null_pct, shares) are rounded to 6 significant digits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog_int.h"
#include "profile.h"

static const struct weir_param_desc profile_params[] = {
    { "table", WEIR_PARAM_STRING, 0, "null",
      "table to profile, as \"database.table\" (required unless definition is given)" },
    { "definition", WEIR_PARAM_OBJECT, 0, "null",
      "an ad-hoc table in the Glue GetTable shape (e.g. catalog.infer's output) profiled instead "
      "of a catalog table" },
    { "partitions", WEIR_PARAM_OBJECT, 0, "null",
      "partition key -> value or array of values to profile (default: all partitions)" },
    { "catalog_dir", WEIR_PARAM_STRING, 0, "\"catalog\"",
      "catalog directory; relative to the project directory" },
    { "store_root", WEIR_PARAM_STRING, 0, "\"lake\"",
      "directory that s3:// locations map under; relative to the project directory" },
    { "exact_threshold", WEIR_PARAM_INTEGER, 0, "10000",
      "distinct values counted exactly per column before switching to sketches" },
    { "top_k", WEIR_PARAM_INTEGER, 0, "10", "most frequent values reported per column" },
    { "sample_rows", WEIR_PARAM_INTEGER, 0, "0", "profile only the first N rows (0: all)" },
    { "skip_bad_rows", WEIR_PARAM_BOOLEAN, 0, "false",
      "skip (and count as bad_rows) ragged or malformed records instead of failing" },
    { NULL, WEIR_PARAM_ANY, 0, NULL, NULL },
};

/* Rows between cancellation/deadline checks. */
#define CHECK_EVERY 65536
/* rows between progress reports: ~1-3 per second at full speed */
#define PROGRESS_EVERY (1u << 20)

struct profile_run {
    struct lake_table *t;
    struct lake_file *files; /* all files of the table */
    size_t nfiles;
    struct lake_file *sel; /* selected files (shallow copies) */
    size_t nsel;
    struct lake_colprof *cols; /* data columns then partition columns */
    size_t ncols;
    uint64_t rows;
    int skip_bad;
    uint64_t bad_rows;
    weir_ctx *ctx;
};

static const json_t *param(const json_t *input, const char *name)
{
    const json_t *v = json_object_get(input, name);

    return v && !json_is_null(v) ? v : NULL;
}

/* Resolves a directory param against the project directory. */
static char *resolve(weir_ctx *ctx, const char *dir)
{
    const char *project = ctx ? lake_host->ctx_get(ctx, "project") : NULL;
    size_t n;
    char *out;

    if (dir[0] == '/' || !project) {
        project = ".";
    }
    n = strlen(project) + strlen(dir) + 2;
    if ((out = lake_host->malloc(n)) == NULL) {
        return NULL;
    }
    if (dir[0] == '/') {
        snprintf(out, n, "%s", dir);
    }
    else {
        snprintf(out, n, "%s/%s", project, dir);
    }
    return out;
}

/* 1 if want (a string, integer or array of those) names value. */
static int value_selected(const json_t *want, const char *value)
{
    char num[32];
    size_t i;
    const json_t *w;

    if (json_is_array(want)) {
        json_array_foreach(want, i, w) {
            if (value_selected(w, value)) {
                return 1;
            }
        }
        return 0;
    }
    if (json_is_integer(want)) {
        snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(want));
        return value && strcmp(num, value) == 0;
    }
    return json_is_string(want) && value && strcmp(json_string_value(want), value) == 0;
}

static int select_files(struct profile_run *r, const json_t *partitions)
{
    const char *key;
    const json_t *want;

    json_object_foreach((json_t *)partitions, key, want) {
        size_t k = 0;

        while (k < r->t->npartitions && strcmp(r->t->partitions[k].name, key) != 0) {
            k++;
        }
        if (k == r->t->npartitions) {
            return lake_host->error_set(
                WEIR_EINVALID,
                "engine.profile: param 'partitions': '%s' is not a partition key "
                "of %s.%s",
                key, r->t->database, r->t->name);
        }
    }
    if ((r->sel = lake_host->malloc((r->nfiles ? r->nfiles : 1) * sizeof(*r->sel))) == NULL) {
        return lake_host->error_set(WEIR_ENOMEM, "engine.profile: out of memory");
    }
    for (size_t i = 0; i < r->nfiles; i++) {
        int keep = 1;

        for (size_t k = 0; partitions && keep && k < r->t->npartitions; k++) {
            want = json_object_get(partitions, r->t->partitions[k].name);
            keep = !want || value_selected(want, r->files[i].partition_values
                                                     ? r->files[i].partition_values[k]
                                                     : NULL);
        }
        if (keep) {
            r->sel[r->nsel++] = r->files[i];
        }
    }
    return WEIR_OK;
}

static int init_columns(struct profile_run *r, size_t exact_threshold, size_t top_k)
{
    int rc;

    r->ncols = r->t->ncolumns + r->t->npartitions;
    if ((r->cols = lake_host->malloc((r->ncols ? r->ncols : 1) * sizeof(*r->cols))) == NULL) {
        return lake_host->error_set(WEIR_ENOMEM, "engine.profile: out of memory");
    }
    memset(r->cols, 0, (r->ncols ? r->ncols : 1) * sizeof(*r->cols));
    for (size_t i = 0; i < r->ncols; i++) {
        const struct lake_column *col =
            i < r->t->ncolumns ? &r->t->columns[i] : &r->t->partitions[i - r->t->ncolumns];

        if ((rc = lake_colprof_init(&r->cols[i], col, exact_threshold, top_k)) < 0) {
            return rc;
        }
    }
    return WEIR_OK;
}

/* Bad records are counted, and the first few logged with file:line. */
static void on_issue(const struct lake_issue *issue, void *payload)
{
    struct profile_run *r = payload;

    if (++r->bad_rows <= 10) {
        lake_host->log(r->ctx, WEIR_LOG_WARN, "engine.profile: skipped %s:%llu: %s", issue->file,
                       (unsigned long long)issue->line, issue->what);
    }
}

static int scan(struct profile_run *r, weir_ctx *ctx, uint64_t sample_rows)
{
    struct lake_reader_opts opts = { r->skip_bad, on_issue, r };
    struct lake_reader *rd = NULL;
    const struct lake_field *f;
    size_t n;
    int rc;

    r->ctx = ctx;
    if ((rc = lake_reader_open(r->t, r->sel, r->nsel, &opts, &rd)) < 0) {
        return rc;
    }
    while ((sample_rows == 0 || r->rows < sample_rows) && (rc = lake_reader_next(rd)) == 1) {
        f = lake_reader_fields(rd, &n);
        for (size_t i = 0; i < r->ncols; i++) {
            /* A short row cannot come from the reader; treat it as nulls. */
            if ((rc = lake_colprof_add(&r->cols[i], i < n ? f[i].data : NULL,
                                       i < n ? f[i].len : 0)) < 0) {
                goto done;
            }
        }
        if (++r->rows % CHECK_EVERY == 0 && ctx && (rc = lake_host->ctx_check(ctx)) < 0) {
            goto done;
        }
        if (r->rows % PROGRESS_EVERY == 0 && ctx && WEIR_HOST_HAS(lake_host, ctx_progress)) {
            lake_host->ctx_progress(ctx, r->rows, 0, "rows");
        }
    }
    rc = rc < 0 ? rc : WEIR_OK;

done:
    lake_reader_close(rd);
    return rc;
}

/* The selected partition values, key -> [values in file order, distinct]. */
static json_t *partitions_json(const struct profile_run *r)
{
    json_t *o = json_object();

    for (size_t k = 0; o && k < r->t->npartitions; k++) {
        json_t *arr = json_array();

        for (size_t i = 0; arr && i < r->nsel; i++) {
            const char *v = r->sel[i].partition_values ? r->sel[i].partition_values[k] : NULL;
            int seen = 0;

            for (size_t j = 0; v && j < json_array_size(arr); j++) {
                seen |= strcmp(json_string_value(json_array_get(arr, j)), v) == 0;
            }
            if (v && !seen) {
                json_array_append_new(arr, json_string(v));
            }
        }
        json_object_set_new(o, r->t->partitions[k].name, arr ? arr : json_null());
    }
    return o;
}

static int render(const struct profile_run *r, const char *table, uint64_t sample_rows,
                  json_t **out)
{
    json_t *o = json_object(), *stats = json_object();

    if (!o || !stats) {
        goto fail;
    }
    json_object_set_new(o, "table", json_string(table));
    json_object_set_new(o, "row_count", json_integer((json_int_t)r->rows));
    json_object_set_new(o, "files", json_integer((json_int_t)r->nsel));
    json_object_set_new(o, "partitions", partitions_json(r));
    if (sample_rows) {
        json_object_set_new(o, "sample_rows", json_integer((json_int_t)sample_rows));
    }
    if (r->skip_bad) {
        json_object_set_new(o, "bad_rows", json_integer((json_int_t)r->bad_rows));
    }
    for (size_t i = 0; i < r->ncols; i++) {
        const char *name =
            i < r->t->ncolumns ? r->t->columns[i].name : r->t->partitions[i - r->t->ncolumns].name;
        json_t *c = lake_colprof_json(&r->cols[i]);

        if (!c) {
            goto fail;
        }
        json_object_set_new(stats, name, c);
    }
    json_object_set_new(o, "column_stats", stats);
    *out = o;
    return WEIR_OK;

fail:
    json_decref(stats);
    json_decref(o);
    return lake_host->error_set(WEIR_ENOMEM, "engine.profile: out of memory building the result");
}

static int int_param(const json_t *input, const char *name, json_int_t fallback, json_int_t min,
                     json_int_t *out)
{
    const json_t *v = param(input, name);

    *out = v ? json_integer_value(v) : fallback;
    if (*out < min) {
        return lake_host->error_set(WEIR_EINVALID,
                                    "engine.profile: param '%s' must be >= %lld, got %lld", name,
                                    (long long)min, (long long)*out);
    }
    return WEIR_OK;
}

/* The table named by `table` in the catalog, or the ad-hoc `definition`
 * (so a file or folder can be profiled without writing a definition first);
 * relative locations start at the catalog directory's parent, as for catalog
 * tables. */
static int load_table(const json_t *table, const json_t *definition, const char *cat_dir,
                      const char *store_dir, struct lake_table **out)
{
    char *cat, *project = NULL, *store = NULL;
    json_t *copy;
    int rc;

    if (!definition) {
        return lake_table_load(cat_dir, store_dir, json_string_value(table), out);
    }
    cat = lake_cat_path_abs(NULL, cat_dir);
    project = cat ? lake_cat_dirname(cat) : NULL;
    store = project ? lake_cat_path_abs(project, store_dir) : NULL;
    if (!store || (copy = json_deep_copy(definition)) == NULL) {
        rc = lake_host->error_set(WEIR_ENOMEM, "engine.profile: out of memory");
    }
    else {
        rc = lake_cat_table_from_def(copy, project, store, "engine.profile: param 'definition'",
                                     out);
    }
    lake_host->free(cat);
    lake_host->free(project);
    lake_host->free(store);
    return rc;
}

static int run_profile(const json_t *input, json_t **out, weir_ctx *ctx, void *payload)
{
    const json_t *table = param(input, "table"), *parts = param(input, "partitions");
    const json_t *definition = param(input, "definition");
    char *qualified = NULL;
    const json_t *cat = param(input, "catalog_dir"), *store = param(input, "store_root");
    struct profile_run r = { 0 };
    char *cat_dir = NULL, *store_dir = NULL;
    json_int_t threshold, top_k, sample;
    int rc;

    (void)payload;
    if (!definition && (!json_is_string(table) || !*json_string_value(table))) {
        return lake_host->error_set(WEIR_EINVALID,
                                    "engine.profile: param 'table' must be \"database.table\" "
                                    "(or give a 'definition')");
    }
    if ((rc = int_param(input, "exact_threshold", 10000, 0, &threshold)) < 0 ||
        (rc = int_param(input, "top_k", 10, 0, &top_k)) < 0 ||
        (rc = int_param(input, "sample_rows", 0, 0, &sample)) < 0) {
        return rc;
    }
    r.skip_bad = json_is_true(json_object_get(input, "skip_bad_rows"));
    cat_dir = resolve(ctx, cat ? json_string_value(cat) : "catalog");
    store_dir = resolve(ctx, store ? json_string_value(store) : "lake");
    if (!cat_dir || !store_dir) {
        rc = lake_host->error_set(WEIR_ENOMEM, "engine.profile: out of memory");
        goto done;
    }
    if ((rc = load_table(table, definition, cat_dir, store_dir, &r.t)) < 0 ||
        (rc = lake_table_files(r.t, NULL, &r.files, &r.nfiles)) < 0 ||
        (rc = select_files(&r, parts)) < 0 ||
        (rc = init_columns(&r, (size_t)threshold, (size_t)top_k)) < 0 ||
        (rc = scan(&r, ctx, (uint64_t)sample)) < 0) {
        goto done;
    }
    if ((qualified = lake_cat_printf("%s.%s", r.t->database, r.t->name)) == NULL) {
        rc = lake_host->error_set(WEIR_ENOMEM, "engine.profile: out of memory");
        goto done;
    }
    rc = render(&r, qualified, (uint64_t)sample, out);

done:
    for (size_t i = 0; r.cols && i < r.ncols; i++) {
        lake_colprof_free(&r.cols[i]);
    }
    lake_host->free(r.cols);
    lake_host->free(r.sel);
    if (r.files) {
        lake_files_free(r.files, r.nfiles);
    }
    if (r.t) {
        lake_table_free(r.t);
    }
    lake_host->free(cat_dir);
    lake_host->free(store_dir);
    lake_host->free(qualified);
    return rc;
}

int lake_register_profile(weir_registry *reg)
{
    struct weir_step_desc d = {
        .version = WEIR_STEP_DESC_VERSION,
        .name = "profile",
        .service = "engine",
        .description =
            "profiles every column of a table in one streaming pass (stats, sketches, shapes)",
        .params = profile_params,
        .run = run_profile,
    };

    return lake_host->step_register(reg, &d);
}
