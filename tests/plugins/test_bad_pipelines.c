/*
 * test_bad_pipelines.c - the pipeline loader against broken and correct
 * pipelines.
 *
 * tests/data/bad-pipelines/NNN-name.yaml each hold one problem and start with
 *
 *     # expect: LINE:COL: part of the message
 *
 * The load must fail, and one diagnostic must sit at exactly file:LINE:COL and
 * contain the text. Every diagnostic must have a position, because a user
 * who gets "error: something" without a line cannot find it in a long file.
 * the files in tests/data/good-pipelines/ must load without a single diagnostic.
 * Inputs too big to commit (5 MiB, 10,000 steps, deep nesting, garbage) are
 * generated here.
 *
 * WEIR_TEST_VERBOSE=1 prints every diagnostic of every file.
 */
#include "testutil.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "diag.h"
#include "error.h"
#include "pipeline.h"
#include "plugins.h"

#define MIN_BAD_FILES 50
#define MIN_GOOD_FILES 8

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_SANITIZER 1
#endif
#endif
#ifndef UNDER_SANITIZER
#define UNDER_SANITIZER 0
#endif

struct env {
    struct weir_config *cfg;
    struct weir_plugins *plugins;
    char *tmp;
    int verbose;
};

/* ------------------------------------------------------------------ */
/* helpers                                                             */

static int verbose(void)
{
    const char *v = getenv("WEIR_TEST_VERBOSE");
    return v && *v && strcmp(v, "0");
}

static void print_diags(const struct weir_diags *d, const char *indent)
{
    for (size_t i = 0; i < d->n; i++) {
        fprintf(stderr, "%s%s:%d:%d: %s\n", indent, d->v[i].file, d->v[i].line, d->v[i].col,
                d->v[i].msg);
    }
    if (d->dropped) {
        fprintf(stderr, "%s(%zu more dropped)\n", indent, d->dropped);
    }
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names in dir ending in ".yaml", sorted, NULL-terminated; *n gets the count. */
static char **list_yaml(const char *dir, size_t *n)
{
    DIR *dp = opendir(dir);
    struct dirent *de;
    char **names = NULL;
    size_t cap = 0;

    *n = 0;
    if (!dp) {
        fail_msg("cannot open %s", dir);
    }
    while ((de = readdir(dp)) != NULL) {
        size_t len = strlen(de->d_name);
        if (len < 6 || strcmp(de->d_name + len - 5, ".yaml")) {
            continue;
        }
        if (*n + 1 >= cap) {
            cap = cap ? cap * 2 : 64;
            names = realloc(names, cap * sizeof(*names));
            assert_non_null(names);
        }
        names[(*n)++] = strdup(de->d_name);
    }
    closedir(dp);
    if (!names) {
        names = calloc(1, sizeof(*names));
        assert_non_null(names);
    }
    names[*n] = NULL;
    qsort(names, *n, sizeof(*names), cmp_names);
    return names;
}

static void free_list(char **names)
{
    for (size_t i = 0; names[i]; i++) {
        free(names[i]);
    }
    free(names);
}

static char *data_path(const char *sub, const char *name)
{
    char *path = NULL;

    if (name) {
        assert_true(asprintf(&path, "%s/tests/data/%s/%s", tu_env("WEIR_SOURCE_DIR"), sub, name) >
                    0);
    }
    else {
        assert_true(asprintf(&path, "%s/tests/data/%s", tu_env("WEIR_SOURCE_DIR"), sub) > 0);
    }
    return path;
}

/* Loads text as a pipeline named file; returns the code, fills diags. */
static int load_text(const struct env *e, const char *file, const char *text, size_t len,
                     struct weir_diags *diags)
{
    struct weir_pipeline *p = NULL;
    int rc =
        weir_pipeline_load(file, text, len, e->cfg, e->cfg->default_target, e->plugins, &p, diags);

    if (rc == WEIR_OK) {
        assert_non_null(p);
        weir_pipeline_free(p);
    }
    else {
        assert_null(p);
    }
    return rc;
}

static int load_file(const struct env *e, const char *path, struct weir_diags *diags)
{
    struct weir_pipeline *p = NULL;
    int rc = weir_pipeline_load_file(path, e->cfg, e->cfg->default_target, e->plugins, &p, diags);

    if (rc == WEIR_OK) {
        assert_non_null(p);
        weir_pipeline_free(p);
    }
    else {
        assert_null(p);
    }
    return rc;
}

static const struct weir_diag *find_diag(const struct weir_diags *d, const char *needle)
{
    for (size_t i = 0; i < d->n; i++) {
        if (strstr(d->v[i].msg, needle)) {
            return &d->v[i];
        }
    }
    return NULL;
}

static int all_positioned(const struct weir_diags *d)
{
    for (size_t i = 0; i < d->n; i++) {
        if (d->v[i].line <= 0 || d->v[i].col <= 0) {
            return 0;
        }
    }
    return 1;
}

/* A growable text buffer for generated pipelines. */
struct buf {
    char *s;
    size_t len, cap;
};

static void buf_add(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void buf_add(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    for (;;) {
        va_start(ap, fmt);
        n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        assert_true(n >= 0);
        if (b->s && b->len + (size_t)n < b->cap) {
            b->len += (size_t)n;
            return;
        }
        b->cap = (b->cap + (size_t)n + 1) * 2;
        b->s = realloc(b->s, b->cap);
        assert_non_null(b->s);
    }
}

/* ------------------------------------------------------------------ */
/* fixtures                                                            */

static int setup(void **state)
{
    struct env *e = calloc(1, sizeof(*e));
    struct weir_diags diags = { 0 };
    char *cwd = getcwd(NULL, 0), *so = NULL;

    assert_non_null(e);
    e->verbose = verbose();
    /* the default config: load it where no weir.yaml can be found */
    e->tmp = tu_mkdtemp();
    assert_non_null(e->tmp);
    assert_int_equal(chdir(e->tmp), 0);
    if (weir_config_load(NULL, &e->cfg, &diags) != WEIR_OK) {
        print_diags(&diags, "  ");
        fail_msg("default config failed to load");
    }
    assert_int_equal(chdir(cwd), 0);
    free(cwd);
    weir_diags_free(&diags);
    assert_int_equal(weir_plugins_new(&e->plugins), WEIR_OK);
    assert_true(asprintf(&so, "%s/core.so", tu_env("WEIR_PLUGIN_DIR")) > 0);
    if (weir_plugins_load_file(e->plugins, so) != WEIR_OK) {
        fail_msg("cannot load %s: %s", so, weir_error_last());
    }
    free(so);
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;

    weir_plugins_free(e->plugins);
    weir_config_free(e->cfg);
    tu_rmtree(e->tmp);
    free(e->tmp);
    free(e);
    return 0;
}

/* ------------------------------------------------------------------ */
/* the committed files                                                 */

struct expect {
    int line, col;
    char text[256];
};

static int parse_expect(const char *path, struct expect *x)
{
    FILE *fp = fopen(path, "rb");
    char first[512] = "";
    int used = 0;
    size_t len;

    if (!fp) {
        return -1;
    }
    if (!fgets(first, sizeof(first), fp)) {
        first[0] = '\0';
    }
    fclose(fp);
    len = strcspn(first, "\r\n");
    first[len] = '\0';
    if (sscanf(first, "# expect: %d:%d: %n", &x->line, &x->col, &used) < 2 || used == 0 ||
        !first[used]) {
        return -1;
    }
    snprintf(x->text, sizeof(x->text), "%s", first + used);
    return 0;
}

/* Checks one bad file; returns 0 when it behaves, else prints why. */
static int check_bad_file(const struct env *e, const char *path, const char *name, size_t *ndiags)
{
    struct weir_diags diags = { 0 };
    struct expect x;
    int ok = 1, rc;

    if (parse_expect(path, &x) < 0) {
        fprintf(stderr, "%s: first line must be '# expect: LINE:COL: text'\n", name);
        return -1;
    }
    rc = load_file(e, path, &diags);
    *ndiags += diags.n;
    if (rc == WEIR_OK || diags.n == 0) {
        fprintf(stderr, "%s: loaded without an error (wanted %d:%d: %s)\n", name, x.line, x.col,
                x.text);
        ok = 0;
    }
    else {
        int found = 0;
        for (size_t i = 0; i < diags.n; i++) {
            const struct weir_diag *g = &diags.v[i];
            found |= !strcmp(g->file, path) && g->line == x.line && g->col == x.col &&
                     strstr(g->msg, x.text) != NULL;
        }
        if (!found) {
            fprintf(stderr, "%s: no diagnostic at %d:%d containing \"%s\"; got:\n", name, x.line,
                    x.col, x.text);
            ok = 0;
        }
        if (!all_positioned(&diags)) {
            fprintf(stderr, "%s: a diagnostic has no line/column:\n", name);
            ok = 0;
        }
    }
    if (!ok || e->verbose) {
        if (ok) {
            fprintf(stderr, "%s: ok (%zu diagnostic%s)\n", name, diags.n, diags.n == 1 ? "" : "s");
        }
        print_diags(&diags, "    ");
    }
    weir_diags_free(&diags);
    return ok ? 0 : -1;
}

static void test_bad_files(void **state)
{
    const struct env *e = *state;
    char *dir = data_path("bad-pipelines", NULL);
    size_t n = 0, failed = 0, ndiags = 0;
    char **names = list_yaml(dir, &n);

    for (size_t i = 0; i < n; i++) {
        char *path = data_path("bad-pipelines", names[i]);
        if (check_bad_file(e, path, names[i], &ndiags) < 0) {
            failed++;
        }
        free(path);
    }
    printf("bad-pipelines: %zu files, %zu as expected, %zu failed, %zu diagnostics in all\n", n,
           n - failed, failed, ndiags);
    free_list(names);
    free(dir);
    assert_true(n >= MIN_BAD_FILES);
    assert_int_equal(failed, 0);
}

static void test_good_files(void **state)
{
    const struct env *e = *state;
    char *dir = data_path("good-pipelines", NULL);
    size_t n = 0, failed = 0;
    char **names = list_yaml(dir, &n);

    for (size_t i = 0; i < n; i++) {
        char *path = data_path("good-pipelines", names[i]);
        struct weir_diags diags = { 0 };
        struct weir_pipeline *p = NULL;
        int rc =
            weir_pipeline_load_file(path, e->cfg, e->cfg->default_target, e->plugins, &p, &diags);
        if (rc != WEIR_OK || diags.n || !p || p->nsteps == 0) {
            fprintf(stderr, "%s: must load cleanly; got rc %d and:\n", names[i], rc);
            print_diags(&diags, "    ");
            failed++;
        }
        else if (e->verbose) {
            fprintf(stderr, "%s: ok (%zu steps)\n", names[i], p->nsteps);
        }
        weir_pipeline_free(p);
        weir_diags_free(&diags);
        free(path);
    }
    printf("good-pipelines: %zu files, %zu loaded cleanly\n", n, n - failed);
    free_list(names);
    free(dir);
    assert_true(n >= MIN_GOOD_FILES);
    assert_int_equal(failed, 0);
}

/* ------------------------------------------------------------------ */
/* generated inputs                                                    */

/* 5 MiB: refused with a message about the size, from text and from a file. */
static void test_too_large(void **state)
{
    const struct env *e = *state;
    size_t size = 5u << 20;
    char *text = malloc(size + 1), *path = NULL;
    struct weir_diags diags = { 0 };
    const struct weir_diag *g;
    struct buf head = { 0 };
    FILE *fp;

    assert_non_null(text);
    buf_add(&head,
            "version: 1\nsteps:\n  - id: a\n    uses: core.echo\n    with:\n      value: |\n");
    memcpy(text, head.s, head.len);
    for (size_t i = head.len; i < size; i++) {
        /* an indented block scalar: valid YAML if it were small enough */
        text[i] = (i - head.len) % 64 == 0 ? '\n' : (i - head.len) % 64 < 9 ? ' ' : 'x';
    }
    text[size] = '\0';

    assert_int_equal(load_text(e, "big.yaml", text, size, &diags), WEIR_EINVALID);
    g = find_diag(&diags, "larger than 4 MiB");
    if (!g) {
        print_diags(&diags, "    ");
        fail_msg("no size-limit diagnostic for a 5 MiB text");
    }
    weir_diags_free(&diags);

    assert_true(asprintf(&path, "%s/big.yaml", e->tmp) > 0);
    fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(text, 1, size, fp), size);
    fclose(fp);
    assert_int_equal(load_file(e, path, &diags), WEIR_EINVALID);
    g = find_diag(&diags, "larger than 4 MiB");
    if (!g) {
        print_diags(&diags, "    ");
        fail_msg("no size-limit diagnostic for a 5 MiB file");
    }
    assert_string_equal(g->file, path);
    weir_diags_free(&diags);
    unlink(path);
    free(path);
    free(head.s);
    free(text);
}

/* 100 levels of nesting, flow and block style: refused past 64, with a position. */
static void test_deep_nesting(void **state)
{
    const struct env *e = *state;
    struct buf flow = { 0 }, block = { 0 };
    struct weir_diags diags = { 0 };
    const struct weir_diag *g;

    buf_add(&flow, "version: 1\nsteps:\n  - id: a\n    uses: core.echo\n    with: {value: ");
    for (int i = 0; i < 100; i++) {
        buf_add(&flow, "[");
    }
    buf_add(&flow, "1");
    for (int i = 0; i < 100; i++) {
        buf_add(&flow, "]");
    }
    buf_add(&flow, "}\n");
    assert_int_equal(load_text(e, "flow.yaml", flow.s, flow.len, &diags), WEIR_EINVALID);
    g = find_diag(&diags, "nesting deeper than 64 levels");
    assert_non_null(g);
    /* root, steps, the step and with are 4 levels: the 61st '[' is the 65th */
    assert_int_equal(g->line, 5);
    assert_int_equal(g->col, (int)strlen("    with: {value: ") + 61);
    assert_true(all_positioned(&diags));
    weir_diags_free(&diags);

    buf_add(&block,
            "version: 1\nsteps:\n  - id: a\n    uses: core.echo\n    with:\n      value:\n");
    for (int i = 0; i < 100; i++) {
        buf_add(&block, "%*sk%d:\n", 8 + 2 * i, "", i);
    }
    assert_int_equal(load_text(e, "block.yaml", block.s, block.len, &diags), WEIR_EINVALID);
    g = find_diag(&diags, "nesting deeper than 64 levels");
    assert_non_null(g);
    assert_true(g->line > 6);
    assert_true(all_positioned(&diags));
    weir_diags_free(&diags);
    free(flow.s);
    free(block.s);
}

/* depth nested repeat groups around one step */
static char *nested_repeats(int depth, size_t *len)
{
    struct buf b = { 0 };
    int ind = 0;

    buf_add(&b, "version: 1\nsteps:\n");
    for (int i = 1; i <= depth; i++, ind += 4) {
        buf_add(&b, "%*s  - id: r%d\n%*s    repeat: {until: \"true\", max: 1}\n%*s    steps:\n",
                ind, "", i, ind, "", ind, "");
    }
    buf_add(&b, "%*s  - id: leaf\n%*s    uses: core.echo\n", ind, "", ind, "");
    *len = b.len;
    return b.s;
}

/* 16 nested repeat groups are allowed, 17 are not. */
static void test_repeat_nesting_limit(void **state)
{
    const struct env *e = *state;
    struct weir_diags diags = { 0 };
    size_t len;
    char *text = nested_repeats(16, &len);

    if (load_text(e, "r16.yaml", text, len, &diags) != WEIR_OK) {
        print_diags(&diags, "    ");
        fail_msg("16 nested repeat groups must load");
    }
    free(text);
    weir_diags_free(&diags);
    text = nested_repeats(17, &len);
    assert_int_equal(load_text(e, "r17.yaml", text, len, &diags), WEIR_EINVALID);
    assert_non_null(find_diag(&diags, "nest deeper than 16 levels"));
    assert_true(all_positioned(&diags));
    free(text);
    weir_diags_free(&diags);
}

/* A chain of 10,000 steps, each reading the one before: fast, no recursion limit. */
static void test_long_chain(void **state)
{
    const struct env *e = *state;
    const int nsteps = 10000;
    struct buf b = { 0 };
    struct weir_diags diags = { 0 };
    struct weir_pipeline *p = NULL;
    int64_t t0, ms;
    int rc;

    buf_add(
        &b,
        "version: 1\nname: chain\nsteps:\n  - id: s0\n    uses: core.echo\n    with: {value: 0}\n");
    for (int i = 1; i < nsteps; i++) {
        buf_add(&b,
                "  - id: s%d\n    uses: core.echo\n    needs: [s%d]\n    with: {value: \"${{ "
                "steps.s%d.output }}\"}\n",
                i, i - 1, i - 1);
    }
    t0 = tu_now_ms();
    rc = weir_pipeline_load("chain.yaml", b.s, b.len, e->cfg, e->cfg->default_target, e->plugins,
                            &p, &diags);
    ms = tu_now_ms() - t0;
    if (rc != WEIR_OK) {
        print_diags(&diags, "    ");
        fail_msg("the chain must load");
    }
    printf("chain of %d steps (%zu bytes) loaded in %lld ms\n", nsteps, b.len, (long long)ms);
    assert_int_equal(p->nsteps, (size_t)nsteps);
    assert_int_equal(p->steps[nsteps - 1].nneeds, 1);
    assert_int_equal(p->steps[nsteps - 1].needs[0], (size_t)(nsteps - 2));
    /* "well under a second"; sanitizers make everything several times slower */
    assert_true(ms < (UNDER_SANITIZER ? 5000 : 1000));
    weir_pipeline_free(p);
    weir_diags_free(&diags);
    free(b.s);
}

/* xorshift64*: the same garbage on every run and every machine */
static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

static const char seed_pipeline[] =
    "version: 1\nparams:\n  t: { type: string, default: x }\nsteps:\n"
    "  - id: a\n    uses: core.echo\n    with: {value: \"${{ params.t }}\"}\n"
    "  - id: b\n    uses: core.flaky\n    needs: [a]\n    retry: {max: 2, backoff: exponential}\n"
    "    if: \"${{ steps.a.output != '' }}\"\n"
    "  - id: c\n    needs: [b]\n    repeat: {until: \"${{ loop.index > 1 }}\", max: 3}\n"
    "    steps:\n      - id: d\n        lua: \"return 1\"\n";

/* One garbage input of up to 4 KiB: random bytes, YAML-ish characters, or a
 * valid pipeline with some bytes changed (which reaches the checks). */
static size_t garbage(uint64_t *rng, char *out, size_t cap)
{
    static const char yamlish[] =
        " \n\t-:{}[],'\"#&*!|>%@`?.$abcdefgxyz0123456789 \n  - id: uses: with: needs:";
    size_t len = (size_t)(rng_next(rng) % (cap + 1));
    unsigned kind = (unsigned)(rng_next(rng) % 3);

    if (kind == 2) {
        size_t base = sizeof(seed_pipeline) - 1;
        size_t flips = 1 + (size_t)(rng_next(rng) % 8);
        memcpy(out, seed_pipeline, base);
        for (size_t i = 0; i < flips; i++) {
            out[rng_next(rng) % base] = yamlish[rng_next(rng) % (sizeof(yamlish) - 1)];
        }
        return base;
    }
    for (size_t i = 0; i < len; i++) {
        uint64_t r = rng_next(rng);
        out[i] = kind == 0 ? (char)(r & 0xff) : yamlish[r % (sizeof(yamlish) - 1)];
    }
    return len;
}

static void test_garbage(void **state)
{
    const struct env *e = *state;
    uint64_t rng = 0x5eed5eed1234abcdull;
    char *buf = malloc(4096);
    size_t failed = 0, loaded = 0;

    assert_non_null(buf);
    for (int i = 0; i < 1000; i++) {
        struct weir_diags diags = { 0 };
        size_t len = garbage(&rng, buf, 4096);
        int rc = load_text(e, "garbage.yaml", buf, len, &diags);
        if (rc == WEIR_OK) {
            loaded++;
            assert_int_equal(diags.n, 0);
        }
        else if (diags.n == 0 || !all_positioned(&diags)) {
            fprintf(stderr, "garbage input %d (%zu bytes): diagnostic without a position:\n", i,
                    len);
            print_diags(&diags, "    ");
            failed++;
        }
        weir_diags_free(&diags);
    }
    printf("garbage: 1000 inputs, %zu loaded, %zu refused with positions, %zu without\n", loaded,
           1000 - loaded - failed, failed);
    free(buf);
    assert_int_equal(failed, 0);
}

/* Diagnostics of an earlier load in the same list must not hide this load's
 * problems, nor become its error message. */
static void test_shared_diags(void **state)
{
    const struct env *e = *state;
    static const char refs[] = "version: 1\nsteps:\n  - id: a\n    uses: core.echo\n"
                               "    with: {value: \"${{ params.nope }}\"}\n";
    struct weir_diags diags = { 0 };
    char *bad = data_path("bad-pipelines", "001-tab-indent.yaml");
    const struct weir_diag *g;

    assert_int_equal(load_file(e, bad, &diags), WEIR_EINVALID);
    assert_int_equal(load_text(e, "second.yaml", refs, strlen(refs), &diags), WEIR_EINVALID);
    g = find_diag(&diags, "params.nope");
    assert_non_null(g);
    assert_string_equal(g->file, "second.yaml");
    assert_int_equal(g->line, 5);
    assert_non_null(strstr(weir_error_last(), "second.yaml:5:"));
    /* a directory is not a pipeline, whatever errno said before */
    assert_int_equal(load_file(e, e->tmp, &diags), WEIR_EINVALID);
    assert_non_null(strstr(weir_error_last(), "not a regular file"));
    weir_diags_free(&diags);
    free(bad);
}

/* `default: null` means no default: an optional param then comes out null. */
static void test_null_default(void **state)
{
    const struct env *e = *state;
    static const char text[] = "version: 1\nparams:\n  note: { type: string, default: null }\n"
                               "  day: { type: string }\nsteps:\n  - id: a\n    uses: core.echo\n";
    struct weir_diags diags = { 0 };
    struct weir_pipeline *p = NULL;
    json_t *given = json_object(), *params = NULL;

    assert_int_equal(weir_pipeline_load("null.yaml", text, strlen(text), e->cfg,
                                        e->cfg->default_target, e->plugins, &p, &diags),
                     WEIR_OK);
    if (weir_pipeline_params(p, given, &params) != WEIR_OK) {
        fail_msg("params: %s", weir_error_last());
    }
    tu_assert_json(params, "{\"note\": null, \"day\": null}");
    json_decref(params);
    json_decref(given);
    weir_pipeline_free(p);
    weir_diags_free(&diags);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_good_files),
        cmocka_unit_test(test_too_large),
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_repeat_nesting_limit),
        cmocka_unit_test(test_long_chain),
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_shared_diags),
        cmocka_unit_test(test_null_default),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
