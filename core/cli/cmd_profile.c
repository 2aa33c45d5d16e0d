/*
 * cmd_profile.c - `weir profile TABLE|PATH`: column statistics of a catalog
 * table, or of files not in the catalog yet. A table goes straight to the
 * target's `engine.profile`; a file or folder first gets a throw-away
 * definition from `catalog.infer` (nothing is written), which the profile op
 * takes as its `definition` param. Both ops run through the runtime exactly
 * as pipeline steps would, so `--target` picks the same plugins a run uses.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "error.h"

struct profile_args {
    const char *target;
    const char *catalog_dir;
    const char *store_root;
    json_t *partitions; /* key -> value or [values], NULL for all partitions */
    long sample_rows;
    long top;
};

static const char usage[] =
    "usage: weir profile DATABASE.TABLE|PATH [options]\n"
    "profiles every column of a catalog table, or of a file or a folder of files\n"
    "(partitions as key=value folders) whose definition is inferred on the fly\n"
    "options:\n"
    "  -t, --target T        target from weir.yaml (default: default_target)\n"
    "  -p, --partition K=V   profile only partitions with K=V (repeat: several values or keys)\n"
    "  --sample-rows N       profile only the first N rows\n"
    "  --top N               most frequent values kept per column (default 10)\n"
    "  --catalog-dir DIR     catalog directory, relative to the project (lake default: catalog)\n"
    "  --store-root DIR      where s3:// locations map, relative to the project (lake default: "
    "lake)\n"
    "  --json                print the profile JSON instead of the table\n"
    "exit codes: 0 ok, 2 usage or no such table or path, 3 an invalid definition, file layout\n"
    "            or malformed data, 1 a timeout, 10 anything else (I/O, out of memory)\n";

/* --partition k=v: repeated values of one key become an array (k IN (...)). */
static int add_partition(struct profile_args *a, const char *arg)
{
    const char *eq = strchr(arg, '=');
    char key[256];
    json_t *old;

    if (!eq || eq == arg || (size_t)(eq - arg) >= sizeof(key)) {
        fprintf(stderr, "weir: --partition wants KEY=VALUE (e.g. dt=2026-10-01), not '%s'\n", arg);
        return -1;
    }
    memcpy(key, arg, (size_t)(eq - arg));
    key[eq - arg] = '\0';
    if (!a->partitions) {
        a->partitions = json_object();
    }
    old = json_object_get(a->partitions, key);
    if (!old) {
        json_object_set_new(a->partitions, key, json_string(eq + 1));
    }
    else if (json_is_array(old)) {
        json_array_append_new(old, json_string(eq + 1));
    }
    else {
        json_object_set_new(a->partitions, key, json_pack("[Os]", old, eq + 1));
    }
    return 0;
}

static int positive(const char *opt, const char *arg, long *out)
{
    char *end;

    errno = 0;
    *out = strtol(arg, &end, 10);
    if (errno || end == arg || *end || *out < 1) {
        fprintf(stderr, "weir: --%s wants a positive integer, not '%s'\n", opt, arg);
        return -1;
    }
    return 0;
}

static int on_opt(const char *name, const char *arg, void *payload)
{
    struct profile_args *a = payload;

    if (!strcmp(name, "target")) {
        a->target = arg;
    }
    else if (!strcmp(name, "partition")) {
        return add_partition(a, arg);
    }
    else if (!strcmp(name, "sample-rows")) {
        return positive(name, arg, &a->sample_rows);
    }
    else if (!strcmp(name, "top")) {
        return positive(name, arg, &a->top);
    }
    else if (!strcmp(name, "catalog-dir")) {
        a->catalog_dir = arg;
    }
    else if (!strcmp(name, "store-root")) {
        a->store_root = arg;
    }
    return 0;
}

/* Input for a catalog op, with the lake's directory overrides. */
static json_t *catalog_with(const struct profile_args *a)
{
    json_t *with = json_object();

    if (a->catalog_dir) {
        json_object_set_new(with, "catalog_dir", json_string(a->catalog_dir));
    }
    if (a->store_root) {
        json_object_set_new(with, "store_root", json_string(a->store_root));
    }
    return with;
}

/* "db.table" as the catalog spells names: one dot, letters, digits, _ and -. */
static int table_shaped(const char *s)
{
    const char *dot = strchr(s, '.');

    if (!dot || dot == s || !dot[1] || strchr(dot + 1, '.')) {
        return 0;
    }
    return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") ==
           strlen(s);
}

/*
 * Decides what ARG is and sets `with` (the engine.profile input) to name it:
 * a table the catalog knows, else an existing file or folder, inferred.
 * A name-shaped argument that the catalog does not know may still be a
 * file ("payments.csv"), so the catalog's "not found" only counts once the
 * file system says no too. Returns 0 or an exit code (message printed).
 */
static int target_of(struct weir_runtime *rt, const struct profile_args *a, const char *arg,
                     json_t *with)
{
    char *why = NULL, abs[PATH_MAX];
    json_t *in, *out = NULL;
    struct stat st;
    int rc;

    if (table_shaped(arg)) {
        in = catalog_with(a);
        json_object_set_new(in, "table", json_string(arg));
        rc = cli_service_call(rt, a->target, "catalog", "get_table", in, &out);
        json_decref(in);
        json_decref(out);
        if (rc == WEIR_OK) {
            json_object_set_new(with, "table", json_string(arg));
            return 0;
        }
        if (rc != WEIR_ENOTFOUND) {
            cli_error(NULL);
            return cli_service_exit(rc);
        }
        why = strdup(weir_error_last());
    }
    if (stat(arg, &st) != 0 || !(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))) {
        fprintf(stderr,
                "weir: profile: '%s' is neither a table of the catalog (database.table) nor a "
                "file or directory%s%s\n",
                arg, why ? "\n  catalog: " : "", why ? why : "");
        free(why);
        return WEIR_EXIT_USAGE;
    }
    free(why);
    /* the file system path is the user's (relative to the current
     * directory), while the catalog resolves relative paths against the
     * project: hand it an absolute one */
    if (!realpath(arg, abs)) {
        fprintf(stderr, "weir: profile: %s: %s\n", arg, strerror(errno));
        return WEIR_EXIT_USAGE;
    }
    in = catalog_with(a);
    json_object_set_new(in, "path", json_string(abs));
    json_object_set_new(in, "write", json_false());
    rc = cli_service_call(rt, a->target, "catalog", "infer", in, &out);
    json_decref(in);
    if (rc < 0) {
        cli_error(NULL);
        return cli_service_exit(rc);
    }
    json_object_set_new(with, "definition", out);
    return 0;
}

/* ---- the readable table ------------------------------------------------ */

/* Prints s in exactly `width` columns (code points; control characters as
 * '?'), cut with '~' when longer, padded on the right or the left. */
static void cell(const char *s, size_t width, int right)
{
    size_t n = 0, len = 0, cut;
    const unsigned char *p;

    for (p = (const unsigned char *)s; *p; p++) {
        len += (*p & 0xC0) != 0x80;
    }
    cut = len > width ? width - 1 : len;
    if (right) {
        printf("%*s", (int)(width - (len > width ? width : len)), "");
    }
    for (p = (const unsigned char *)s; *p; p++) {
        if ((*p & 0xC0) != 0x80 && n++ == cut) {
            break;
        }
        putchar(*p < 0x20 || *p == 0x7F ? '?' : *p);
    }
    if (len > width) {
        putchar('~');
    }
    if (!right) {
        printf("%*s", (int)(width - (len > width ? width : len)), "");
    }
}

/* A stat as text: numbers with up to 10 significant digits, strings as is. */
static void stat_text(const json_t *v, char *buf, size_t cap)
{
    if (json_is_integer(v)) {
        snprintf(buf, cap, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    }
    else if (json_is_real(v)) {
        snprintf(buf, cap, "%.10g", json_real_value(v));
    }
    else if (json_is_string(v)) {
        snprintf(buf, cap, "%s", json_string_value(v));
    }
    else if (json_is_boolean(v)) {
        snprintf(buf, cap, "%s", json_is_true(v) ? "true" : "false");
    }
    else {
        snprintf(buf, cap, "-");
    }
}

/* The family of a Hive type, to tell whether the data agrees with it. */
static const char *family(const char *hive)
{
    static const char *const ints[] = { "tinyint", "smallint", "int", "integer", "bigint", NULL };
    static const char *const reals[] = { "float", "double", "decimal", NULL };

    for (size_t i = 0; ints[i]; i++) {
        if (!strcmp(hive, ints[i])) {
            return "integer";
        }
    }
    for (size_t i = 0; reals[i]; i++) {
        if (!strncmp(hive, reals[i], strlen(reals[i]))) {
            return "double";
        }
    }
    if (!strncmp(hive, "varchar", 7) || !strncmp(hive, "char", 4)) {
        return "string";
    }
    return hive;
}

/* "double", or "string (date)" when the values say more than the declaration. */
static void type_text(const json_t *c, char *buf, size_t cap)
{
    const char *decl = json_string_value(json_object_get(c, "declared_type"));
    const char *inf = json_string_value(json_object_get(c, "inferred_type"));

    decl = decl ? decl : "?";
    if (inf && strcmp(family(decl), inf) != 0 &&
        !(!strcmp(family(decl), "double") && !strcmp(inf, "integer"))) {
        snprintf(buf, cap, "%s (%s)", decl, inf);
    }
    else {
        snprintf(buf, cap, "%s", decl);
    }
}

/* mean / p50 / p95 for numbers, the length range for text. */
static void spread_text(const json_t *c, char *buf, size_t cap)
{
    char m[32], p50[32], p95[32];

    if (json_object_get(c, "mean") && !json_is_null(json_object_get(c, "mean"))) {
        stat_text(json_object_get(c, "mean"), m, sizeof(m));
        stat_text(json_object_get(c, "p50"), p50, sizeof(p50));
        stat_text(json_object_get(c, "p95"), p95, sizeof(p95));
        if (snprintf(buf, cap, "%s / %s / %s", m, p50, p95) >= (int)cap) {
            buf[cap - 1] = '\0'; /* a narrow column: cut, as every cell is */
        }
    }
    else if (json_is_integer(json_object_get(c, "min_length"))) {
        snprintf(buf, cap, "len %" JSON_INTEGER_FORMAT "..%" JSON_INTEGER_FORMAT,
                 json_integer_value(json_object_get(c, "min_length")),
                 json_integer_value(json_object_get(c, "max_length")));
    }
    else {
        snprintf(buf, cap, "-");
    }
}

/* The three most frequent values, "SUCCESS 105, PENDING 9, FAILED 6". */
static void top_text(const json_t *c, char *buf, size_t cap)
{
    const json_t *tops = json_object_get(c, "top_values"), *t;
    size_t i, used = 0;
    char v[32];

    buf[0] = '\0';
    json_array_foreach(tops, i, t) {
        const char *s = json_string_value(json_object_get(t, "value"));
        int n;

        if (i == 3) {
            break;
        }
        /* long values are cut so three still fit on the line */
        snprintf(v, sizeof(v), "%.20s%s", s ? s : "null", s && strlen(s) > 20 ? "~" : "");
        n = snprintf(buf + used, cap - used, "%s%s %" JSON_INTEGER_FORMAT, i ? ", " : "", v,
                     json_integer_value(json_object_get(t, "count")));
        if (n < 0 || (size_t)n >= cap - used) {
            break;
        }
        used += (size_t)n;
    }
    if (json_array_size(tops) > 3 && used + 5 < cap) {
        strcat(buf, ", ...");
    }
}

static void print_profile(const json_t *p)
{
    const json_t *stats = json_object_get(p, "column_stats"), *c, *vals, *v;
    const char *name, *key;
    size_t wname = 6, i;
    char type[64], nulls[16], distinct[32], min[64], max[64], spread[96], top[256];

    printf("%s: %" JSON_INTEGER_FORMAT " rows in %" JSON_INTEGER_FORMAT " file%s",
           json_string_value(json_object_get(p, "table")),
           json_integer_value(json_object_get(p, "row_count")),
           json_integer_value(json_object_get(p, "files")),
           json_integer_value(json_object_get(p, "files")) == 1 ? "" : "s");
    json_object_foreach((json_t *)json_object_get(p, "partitions"), key, vals) {
        printf(", %s:", key);
        json_array_foreach(vals, i, v) {
            printf("%s%s", i ? ", " : " ", json_string_value(v));
        }
    }
    if (json_is_integer(json_object_get(p, "sample_rows"))) {
        printf(" (first %" JSON_INTEGER_FORMAT " rows only)",
               json_integer_value(json_object_get(p, "sample_rows")));
    }
    printf("\n\n");
    json_object_foreach((json_t *)stats, name, c) {
        wname = strlen(name) > wname ? strlen(name) : wname;
    }
    wname = wname > 32 ? 32 : wname;
    cell("column", wname, 0);
    printf("  %-18s %7s %9s  %-19s  %-19s  %-30s  %s\n", "type", "nulls", "distinct", "min", "max",
           "mean / p50 / p95", "top values");
    json_object_foreach((json_t *)stats, name, c) {
        type_text(c, type, sizeof(type));
        snprintf(nulls, sizeof(nulls), "%.1f%%", json_number_value(json_object_get(c, "null_pct")));
        snprintf(distinct, sizeof(distinct), "%s%" JSON_INTEGER_FORMAT,
                 json_is_true(json_object_get(c, "distinct_exact")) ? "" : "~",
                 json_integer_value(json_object_get(c, "distinct_count")));
        stat_text(json_object_get(c, "min"), min, sizeof(min));
        stat_text(json_object_get(c, "max"), max, sizeof(max));
        spread_text(c, spread, sizeof(spread));
        top_text(c, top, sizeof(top));
        cell(name, wname, 0);
        printf("  ");
        cell(type, 18, 0);
        printf(" ");
        cell(nulls, 7, 1);
        printf(" ");
        cell(distinct, 9, 1);
        printf("  ");
        cell(min, 19, 0);
        printf("  ");
        cell(max, 19, 0);
        printf("  ");
        cell(spread, 30, 0);
        printf("  %s\n", top);
    }
    if (json_is_integer(json_object_get(p, "bad_rows"))) {
        printf("\nbad rows skipped: %" JSON_INTEGER_FORMAT "\n",
               json_integer_value(json_object_get(p, "bad_rows")));
    }
}

int cli_profile(int argc, char **argv)
{
    static const struct cli_opt opts[] = {
        { "target", 1, 't' },    { "partition", 1, 'p' }, { "sample-rows", 1, 0 }, { "top", 1, 0 },
        { "catalog-dir", 1, 0 }, { "store-root", 1, 0 },  { NULL, 0, 0 },
    };
    struct profile_args a = { 0 };
    struct cli_common c = { 0 };
    struct weir_runtime *rt = NULL;
    json_t *with = NULL, *out = NULL;
    int first = cli_parse(argc, argv, &c, opts, on_opt, &a, usage), code, rc;

    if (first < 0) {
        code = WEIR_EXIT_USAGE;
        goto done;
    }
    if (argc - first != 1) {
        fprintf(stderr, "weir: profile wants one table or path\n%s", usage);
        code = WEIR_EXIT_USAGE;
        goto done;
    }
    if ((code = cli_runtime(&c, &rt)) != 0) {
        goto done;
    }
    with = catalog_with(&a);
    if ((code = target_of(rt, &a, argv[first], with)) != 0) {
        goto done;
    }
    if (a.partitions) {
        json_object_set(with, "partitions", a.partitions);
    }
    if (a.sample_rows > 0) {
        json_object_set_new(with, "sample_rows", json_integer(a.sample_rows));
    }
    if (a.top > 0) {
        json_object_set_new(with, "top_k", json_integer(a.top));
    }
    /* The profile op reports no progress while it scans, so there is no
     * progress bar: one streaming pass is fast enough for files that fit
     * on a laptop, and Ctrl-C stops it. */
    if ((rc = cli_service_call(rt, a.target, "engine", "profile", with, &out)) < 0) {
        cli_error(NULL);
        code = cli_service_exit(rc);
        goto done;
    }
    if (c.json) {
        cli_print_json(out);
    }
    else {
        print_profile(out);
    }
    code = WEIR_EXIT_OK;

done:
    json_decref(out);
    json_decref(with);
    json_decref(a.partitions);
    if (rt) {
        weir_runtime_close(rt);
    }
    return code;
}
