/*
 * test_fs_store.c - the fs plugin's store ops, loaded from the built fs.so
 * and run through weir_step_invoke (params checked and defaulted, as the
 * runner does) with a context whose project is a fresh temp directory.
 */
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctx.h"
#include "error.h"
#include "plugins.h"

#define assert_contains(haystack, needle)                                        \
    do {                                                                         \
        if (!strstr((haystack), (needle))) {                                     \
            fail_msg("\"%s\"\n  does not contain \"%s\"", (haystack), (needle)); \
        }                                                                        \
    } while (0)

static struct weir_plugins *plugins;

struct fixture {
    char *project;
    char *lake; /* <project>/lake, the default root */
    struct weir_ctx ctx;
};

static int group_setup(void **state)
{
    char *path = NULL;

    (void)state;
    if (weir_plugins_new(&plugins) != WEIR_OK ||
        asprintf(&path, "%s/fs.so", tu_env("WEIR_PLUGIN_DIR")) < 0) {
        return -1;
    }
    if (weir_plugins_load_file(plugins, path) != WEIR_OK) {
        fprintf(stderr, "loading fs.so: %s\n", weir_error_last());
        free(path);
        return -1;
    }
    free(path);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    weir_plugins_free(plugins);
    return 0;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    if (!f || !(f->project = tu_mkdtemp()) || asprintf(&f->lake, "%s/lake", f->project) < 0) {
        return -1;
    }
    f->ctx.run_id = "r1";
    f->ctx.run_date = "2026-11-21";
    f->ctx.target = "local";
    f->ctx.step_id = "s";
    f->ctx.workspace = f->project;
    f->ctx.project = f->project;
    f->ctx.plugins = plugins;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    tu_rmtree(f->project);
    free(f->project);
    free(f->lake);
    free(f);
    return 0;
}

/* Runs store.<op> through the fs plugin; `with` is stolen. */
static int call(struct fixture *f, const char *op, json_t *with, json_t **out)
{
    const struct weir_step_def *def = weir_plugins_find_op(plugins, "fs", "store", op);
    int rc;

    assert_non_null(def);
    assert_non_null(with);
    *out = NULL;
    rc = weir_step_invoke(def, with, out, &f->ctx);
    json_decref(with);
    if (rc < 0) {
        assert_null(*out);
        assert_true(*weir_error_last() != '\0');
    }
    return rc;
}

static json_t *parse(const char *text)
{
    json_error_t jerr;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &jerr);

    if (!v) {
        fail_msg("bad test JSON %s: %s", text, jerr.text);
    }
    return v;
}

/* Runs an op that must succeed; returns its output (caller decrefs). */
static json_t *ok(struct fixture *f, const char *op, const char *with_text)
{
    json_t *out = NULL;
    int rc = call(f, op, parse(with_text), &out);

    if (rc != WEIR_OK) {
        fail_msg("store.%s %s: %d %s", op, with_text, rc, weir_error_last());
    }
    return out;
}

/* Runs an op that must fail with code and a message containing fragment. */
static void expect_error_v(struct fixture *f, const char *op, json_t *with, int code,
                           const char *fragment)
{
    json_t *out = NULL;
    char *text = tu_json_text(with);
    int rc = call(f, op, with, &out);

    if (rc != code) {
        fail_msg("store.%s %s: want %d, got %d (%s)", op, text, code, rc,
                 rc < 0 ? weir_error_last() : "");
    }
    assert_contains(weir_error_last(), fragment);
    free(text);
}

static void expect_error(struct fixture *f, const char *op, const char *with_text, int code,
                         const char *fragment)
{
    expect_error_v(f, op, parse(with_text), code, fragment);
}

static const char *str(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));

    if (!s) {
        fail_msg("no string '%s' in the output", key);
    }
    return s;
}

static json_int_t num(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);

    if (!json_is_integer(v)) {
        fail_msg("no integer '%s' in the output", key);
    }
    return json_integer_value(v);
}

static char *lake_file(struct fixture *f, const char *rel, size_t *len)
{
    char *path = NULL, *text;

    assert_true(asprintf(&path, "%s/%s", f->lake, rel) >= 0);
    text = tu_read_file(path, len);
    free(path);
    return text;
}

static int lake_exists(struct fixture *f, const char *rel)
{
    char *path = NULL;
    struct stat st;
    int found;

    assert_true(asprintf(&path, "%s/%s", f->lake, rel) >= 0);
    found = lstat(path, &st) == 0;
    free(path);
    return found;
}

/* Number of temp files (.weir-tmp.*) left anywhere under dir. */
static int count_temps(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int n = 0;

    if (!d) {
        return 0;
    }
    while ((de = readdir(d)) != NULL) {
        char *sub = NULL;
        struct stat st;

        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) {
            continue;
        }
        n += strncmp(de->d_name, ".weir-tmp.", 10) == 0;
        assert_true(asprintf(&sub, "%s/%s", dir, de->d_name) >= 0);
        if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode)) {
            n += count_temps(sub);
        }
        free(sub);
    }
    closedir(d);
    return n;
}

/* The test's own FNV-1a 64, to check the etag independently. */
static void fnv_hex(const void *data, size_t len, char out[17])
{
    const unsigned char *p = data;
    unsigned long long h = 14695981039346656037ULL;

    for (size_t i = 0; i < len; i++) {
        h = (h ^ p[i]) * 1099511628211ULL;
    }
    snprintf(out, 17, "%016llx", h);
}

/* ---- round trips ---------------------------------------------------------- */

static void test_registered_as_store_service(void **state)
{
    const char *ops[] = { "get", "put", "head", "delete", "list" };

    (void)state;

    for (size_t i = 0; i < 5; i++) {
        const struct weir_step_def *def = weir_plugins_find_op(plugins, "fs", "store", ops[i]);
        assert_non_null(def);
        assert_string_equal(def->service, "store");
        assert_ptr_equal(weir_plugins_find_step(plugins, "fs", ops[i]), def);
        for (size_t j = 0; j < def->nparams; j++) {
            assert_non_null(def->params[j].description);
            assert_true(strlen(def->params[j].description) > 10);
        }
    }
    assert_null(weir_plugins_find_op(plugins, "fs", "engine", "get"));
}

static void test_text_round_trip_s3_mapping(void **state)
{
    struct fixture *f = *state;
    json_t *put = ok(f, "put", "{\"uri\": \"s3://bkt/a/b.txt\", \"body\": \"hello\\n\"}");
    json_t *get = ok(f, "get", "{\"uri\": \"s3://bkt/a/b.txt\"}");
    char etag[17];
    size_t len = 0;
    char *disk = lake_file(f, "bkt/a/b.txt", &len);

    fnv_hex("hello\n", 6, etag);
    assert_string_equal(str(put, "uri"), "s3://bkt/a/b.txt");
    assert_int_equal(num(put, "bytes"), 6);
    assert_string_equal(str(put, "etag"), etag);
    assert_non_null(disk);
    assert_int_equal(len, 6);
    assert_memory_equal(disk, "hello\n", 6);
    assert_string_equal(str(get, "body"), "hello\n");
    assert_int_equal(num(get, "bytes"), 6);
    assert_string_equal(str(get, "etag"), etag);
    assert_string_equal(str(get, "uri"), "s3://bkt/a/b.txt");
    assert_null(json_object_get(get, "value"));
    free(disk);
    json_decref(put);
    json_decref(get);

    /* A plain relative key lands straight under the root. */
    json_decref(ok(f, "put", "{\"uri\": \"notes/x.md\", \"body\": \"# x\"}"));
    disk = lake_file(f, "notes/x.md", NULL);
    assert_non_null(disk);
    assert_string_equal(disk, "# x");
    free(disk);
    get = ok(f, "get", "{\"uri\": \"notes/x.md\"}");
    assert_string_equal(str(get, "body"), "# x");
    json_decref(get);

    /* Overwrite replaces the content. */
    json_decref(ok(f, "put", "{\"uri\": \"notes/x.md\", \"body\": \"v2\"}"));
    get = ok(f, "get", "{\"uri\": \"notes/x.md\"}");
    assert_string_equal(str(get, "body"), "v2");
    json_decref(get);
    assert_int_equal(count_temps(f->lake), 0);
}

static void test_json_round_trip(void **state)
{
    struct fixture *f = *state;
    json_t *put = ok(f, "put",
                     "{\"uri\": \"s3://b/stats/t.json\", \"content_type\": \"application/json\", "
                     "\"value\": {\"z\": 1, \"a\": [1, 2.5, null, \"x\"], \"m\": {\"k\": true}}}");
    const char *want = "{\"a\":[1,2.5,null,\"x\"],\"m\":{\"k\":true},\"z\":1}\n";
    char *disk = lake_file(f, "b/stats/t.json", NULL);
    json_t *get = ok(f, "get", "{\"uri\": \"s3://b/stats/t.json\", \"as\": \"json\"}");
    json_t *text = ok(f, "get", "{\"uri\": \"s3://b/stats/t.json\"}");
    char etag[17];

    fnv_hex(want, strlen(want), etag);
    assert_non_null(disk);
    assert_string_equal(disk, want);
    assert_int_equal(num(put, "bytes"), (json_int_t)strlen(want));
    assert_string_equal(str(put, "etag"), etag);
    tu_assert_json(json_object_get(get, "value"),
                   "{\"z\": 1, \"a\": [1, 2.5, null, \"x\"], \"m\": {\"k\": true}}");
    assert_null(json_object_get(get, "body"));
    assert_string_equal(str(get, "etag"), etag);
    assert_int_equal(num(get, "bytes"), (json_int_t)strlen(want));
    assert_string_equal(str(text, "body"), want);
    free(disk);
    json_decref(put);
    json_decref(get);
    json_decref(text);

    /* Scalars and null are values too. */
    json_decref(ok(f, "put", "{\"uri\": \"n.json\", \"value\": null}"));
    disk = lake_file(f, "n.json", NULL);
    assert_string_equal(disk, "null\n");
    free(disk);
    get = ok(f, "get", "{\"uri\": \"n.json\", \"as\": \"json\"}");
    assert_true(json_is_null(json_object_get(get, "value")));
    json_decref(get);
}

static void test_binaryish_round_trip(void **state)
{
    struct fixture *f = *state;
    /* NUL, control bytes, 2-, 3- and 4-byte UTF-8, CR LF, and a run longer than one chunk. */
    static const char head[] = "a\0b\001\037\x7f\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\r\n";
    size_t n = sizeof(head) - 1 + (3u << 20);
    char *body = malloc(n), *disk;
    json_t *with, *out = NULL, *get;
    size_t len = 0;
    char etag[17];

    assert_non_null(body);
    memcpy(body, head, sizeof(head) - 1);
    for (size_t i = sizeof(head) - 1; i < n; i++) {
        body[i] = (char)('a' + i % 26);
    }
    fnv_hex(body, n, etag);
    with = json_pack("{s:s, s:s%}", "uri", "s3://b/bin/blob", "body", body, n);
    assert_int_equal(call(f, "put", with, &out), WEIR_OK);
    assert_int_equal(num(out, "bytes"), (json_int_t)n);
    assert_string_equal(str(out, "etag"), etag);
    json_decref(out);
    disk = lake_file(f, "b/bin/blob", &len);
    assert_int_equal(len, n);
    assert_memory_equal(disk, body, n);
    free(disk);

    get = ok(f, "get", "{\"uri\": \"s3://b/bin/blob\"}");
    assert_int_equal(json_string_length(json_object_get(get, "body")), n);
    assert_memory_equal(json_string_value(json_object_get(get, "body")), body, n);
    assert_string_equal(str(get, "etag"), etag);
    json_decref(get);
    free(body);

    /* Bytes that are not UTF-8 cannot become a JSON string: a clear error, and head still works. */
    free(tu_write_file(f->lake, "raw/latin1.txt", "caf\xe9"));
    expect_error(f, "get", "{\"uri\": \"raw/latin1.txt\"}", WEIR_EINVALID, "not UTF-8");
    get = ok(f, "head", "{\"uri\": \"raw/latin1.txt\"}");
    assert_true(json_is_true(json_object_get(get, "exists")));
    assert_int_equal(num(get, "bytes"), 4);
    json_decref(get);
}

static void test_root_param(void **state)
{
    struct fixture *f = *state;
    char *abs_root = NULL, *with = NULL, *disk;
    json_t *out;

    /* Relative to the project... */
    json_decref(ok(f, "put", "{\"uri\": \"s3://b/k\", \"body\": \"r\", \"root\": \"store2/\"}"));
    assert_true(asprintf(&abs_root, "%s/store2/b/k", f->project) >= 0);
    disk = tu_read_file(abs_root, NULL);
    assert_non_null(disk);
    assert_string_equal(disk, "r");
    free(disk);
    free(abs_root);

    /* ...or absolute; an absolute uri inside the root is its key. */
    assert_true(asprintf(&abs_root, "%s/abs", f->project) >= 0);
    assert_true(asprintf(&with, "{\"uri\": \"%s/x/y.txt\", \"body\": \"abs\", \"root\": \"%s\"}",
                         abs_root, abs_root) >= 0);
    json_decref(ok(f, "put", with));
    free(with);
    assert_true(asprintf(&with, "{\"uri\": \"x/y.txt\", \"root\": \"%s\"}", abs_root) >= 0);
    out = ok(f, "get", with);
    assert_string_equal(str(out, "body"), "abs");
    json_decref(out);
    free(with);

    /* An absolute uri elsewhere, or one that only shares a name prefix with the root, is refused. */
    assert_true(asprintf(&with, "{\"uri\": \"%s-evil/x\", \"body\": \"no\", \"root\": \"%s\"}",
                         abs_root, abs_root) >= 0);
    expect_error(f, "put", with, WEIR_EINVALID, "outside the store root");
    free(with);
    free(abs_root);
    expect_error(f, "put", "{\"uri\": \"/etc/weir-fs-test\", \"body\": \"no\"}", WEIR_EINVALID,
                 "outside the store root");
    expect_error(f, "get", "{\"uri\": \"k\", \"root\": \"\"}", WEIR_EINVALID, "'root' is empty");
}

/* ---- refused keys --------------------------------------------------------- */

static void test_bad_keys_refused(void **state)
{
    struct fixture *f = *state;
    static const struct {
        const char *uri;
        const char *fragment;
    } cases[] = {
        { "../x", "'..'" },
        { "s3://b/../x", "'..'" },
        { "s3://b/a/../../../x", "'..'" },
        { "s3://../x", "'..'" },
        { "a/./b", "'.'" },
        { "./a", "'.'" },
        { "a//b", "empty path segment" },
        { "a/", "empty path segment" },
        { "s3://b/a/", "empty path segment" },
        { "s3:///k", "no bucket" },
        { "s3://", "no bucket" },
        { "s3://b", "empty key" },
        { "s3://b/", "empty key" },
        { "", "empty key" },
        { "gs://b/k", "unsupported scheme" },
        { "a/.weir-tmp.123", "reserved" },
    };
    const char *ops[] = { "put", "get", "head", "delete" };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        for (size_t j = 0; j < 4; j++) {
            json_t *with = json_pack("{s:s}", "uri", cases[i].uri);
            if (!strcmp(ops[j], "put")) {
                json_object_set_new(with, "body", json_string("x"));
            }
            expect_error_v(f, ops[j], with, WEIR_EINVALID, cases[i].fragment);
        }
    }
    /* NUL bytes would truncate the path silently. */
    expect_error_v(f, "put", json_pack("{s:s%, s:s}", "uri", "a\0b", (size_t)3, "body", "x"),
                   WEIR_EINVALID, "NUL byte");
    expect_error_v(f, "get", json_pack("{s:s%}", "uri", "s3://b/k\0/../../x", (size_t)17),
                   WEIR_EINVALID, "NUL byte");
    expect_error_v(f, "list", json_pack("{s:s%}", "prefix", "p\0q", (size_t)3), WEIR_EINVALID,
                   "NUL byte");
    expect_error(f, "list", "{\"prefix\": \"../\"}", WEIR_EINVALID, "'..'");
    expect_error(f, "list", "{\"prefix\": \"s3://b/a/../x\"}", WEIR_EINVALID, "'..'");
    /* Nothing was written anywhere. */
    assert_false(lake_exists(f, ""));
    {
        char *outside = NULL;
        struct stat st;
        assert_true(asprintf(&outside, "%s/x", f->project) >= 0);
        assert_int_not_equal(stat(outside, &st), 0);
        free(outside);
    }
}

/* ---- put ------------------------------------------------------------------ */

static void test_put_content_params(void **state)
{
    struct fixture *f = *state;

    expect_error(f, "put", "{\"uri\": \"k\"}", WEIR_EINVALID, "exactly one of 'body'");
    expect_error(f, "put", "{\"uri\": \"k\", \"body\": \"a\", \"value\": 1}", WEIR_EINVALID,
                 "exactly one");
    expect_error(f, "put", "{\"uri\": \"k\", \"body\": 5}", WEIR_EINVALID, "body");
    expect_error(f, "put", "{\"uri\": \"k\", \"body\": \"a\", \"if_none_match\": \"abc\"}",
                 WEIR_EINVALID, "only \"*\"");
    expect_error(f, "put", "{\"body\": \"a\"}", WEIR_EINVALID, "uri");
    assert_false(lake_exists(f, "k"));
}

static void test_if_none_match(void **state)
{
    struct fixture *f = *state;
    json_t *out;
    char *disk;

    out = ok(f, "put", "{\"uri\": \"s3://b/once\", \"body\": \"first\", \"if_none_match\": \"*\"}");
    assert_int_equal(num(out, "bytes"), 5);
    json_decref(out);
    expect_error(f, "put",
                 "{\"uri\": \"s3://b/once\", \"body\": \"second\", \"if_none_match\": \"*\"}",
                 WEIR_EEXISTS, "s3://b/once already exists");
    disk = lake_file(f, "b/once", NULL);
    assert_string_equal(disk, "first");
    free(disk);
    assert_int_equal(count_temps(f->lake), 0);
    /* Without the condition it overwrites. */
    json_decref(ok(f, "put", "{\"uri\": \"s3://b/once\", \"body\": \"second\"}"));
    disk = lake_file(f, "b/once", NULL);
    assert_string_equal(disk, "second");
    free(disk);
}

#define RACERS 8
#define ROUNDS 25

struct racer {
    struct fixture *f;
    pthread_barrier_t *barrier;
    int round;
    int id;
    int rc;
};

static void *race(void *arg)
{
    struct racer *r = arg;
    const struct weir_step_def *def = weir_plugins_find_op(plugins, "fs", "store", "put");
    json_t *with =
        json_pack("{s:s, s:s, s:s}", "uri", "s3://b/race/key", "if_none_match", "*", "body", "");
    json_t *out = NULL;
    char body[64];

    snprintf(body, sizeof(body), "round %d writer %d", r->round, r->id);
    json_object_set_new(with, "body", json_string(body));
    pthread_barrier_wait(r->barrier);
    r->rc = weir_step_invoke(def, with, &out, &r->f->ctx);
    json_decref(out);
    json_decref(with);
    return NULL;
}

static void test_if_none_match_race(void **state)
{
    struct fixture *f = *state;

    for (int round = 0; round < ROUNDS; round++) {
        pthread_t th[RACERS];
        struct racer rs[RACERS];
        pthread_barrier_t barrier;
        int winners = 0, winner = -1;
        char want[64], *disk;

        pthread_barrier_init(&barrier, NULL, RACERS);
        for (int i = 0; i < RACERS; i++) {
            rs[i] = (struct racer){ .f = f, .barrier = &barrier, .round = round, .id = i };
            assert_int_equal(pthread_create(&th[i], NULL, race, &rs[i]), 0);
        }
        for (int i = 0; i < RACERS; i++) {
            pthread_join(th[i], NULL);
        }
        pthread_barrier_destroy(&barrier);
        for (int i = 0; i < RACERS; i++) {
            if (rs[i].rc == WEIR_OK) {
                winners++;
                winner = i;
            }
            else {
                assert_int_equal(rs[i].rc, WEIR_EEXISTS);
            }
        }
        assert_int_equal(winners, 1);
        snprintf(want, sizeof(want), "round %d writer %d", round, winner);
        disk = lake_file(f, "b/race/key", NULL);
        assert_string_equal(disk, want);
        free(disk);
        assert_int_equal(count_temps(f->lake), 0);
        json_decref(ok(f, "delete", "{\"uri\": \"s3://b/race/key\"}"));
    }
}

/* A write that fails half way (the file size limit stops it) leaves the old
 * version and no temp file. */
static void test_failed_put_keeps_old_version(void **state)
{
    struct fixture *f = *state;
    struct rlimit old, lim;
    void (*old_handler)(int);
    size_t n = 256 * 1024;
    char *big = malloc(n), *disk;
    json_t *out = NULL;
    int rc;

    assert_non_null(big);
    memset(big, 'x', n);
    json_decref(ok(f, "put", "{\"uri\": \"s3://b/keep.txt\", \"body\": \"old version\"}"));
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = 64 * 1024;
    old_handler = signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    rc = call(f, "put", json_pack("{s:s, s:s%}", "uri", "s3://b/keep.txt", "body", big, n), &out);
    setrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, old_handler);
    assert_int_equal(rc, WEIR_EIO);
    assert_contains(weir_error_last(), "cannot write");
    assert_contains(weir_error_last(), "s3://b/keep.txt");
    disk = lake_file(f, "b/keep.txt", NULL);
    assert_string_equal(disk, "old version");
    free(disk);
    assert_int_equal(count_temps(f->lake), 0);
    free(big);
}

static void test_put_over_folder_or_under_object(void **state)
{
    struct fixture *f = *state;
    char *disk;

    /* "d" is a folder holding d/x: it cannot also be an object. */
    json_decref(ok(f, "put", "{\"uri\": \"s3://b/d/x\", \"body\": \"inside\"}"));
    expect_error(f, "put", "{\"uri\": \"s3://b/d\", \"body\": \"clash\"}", WEIR_EEXISTS, "folder");
    disk = lake_file(f, "b/d/x", NULL);
    assert_string_equal(disk, "inside");
    free(disk);
    /* "o" is an object: nothing can go under it. */
    json_decref(ok(f, "put", "{\"uri\": \"s3://b/o\", \"body\": \"obj\"}"));
    expect_error(f, "put", "{\"uri\": \"s3://b/o/deeper/k\", \"body\": \"no\"}", WEIR_EEXISTS,
                 "is an object");
    disk = lake_file(f, "b/o", NULL);
    assert_string_equal(disk, "obj");
    free(disk);
    assert_int_equal(count_temps(f->lake), 0);
}

/* ---- get / head / delete -------------------------------------------------- */

static void test_get_errors(void **state)
{
    struct fixture *f = *state;
    json_t *out;

    expect_error(f, "get", "{\"uri\": \"s3://b/k\"}", WEIR_ENOTFOUND,
                 "store.get: s3://b/k: no such key");
    expect_error(f, "get", "{\"uri\": \"s3://b/k\"}", WEIR_ENOTFOUND, "/lake/b/k");
    json_decref(ok(f, "put", "{\"uri\": \"s3://b/dir/k\", \"body\": \"abcdef\"}"));
    expect_error(f, "get", "{\"uri\": \"s3://b/dir\"}", WEIR_ENOTFOUND, "no such key");
    expect_error(f, "get", "{\"uri\": \"s3://b/dir/k/more\"}", WEIR_ENOTFOUND, "no such key");
    expect_error(f, "get", "{\"uri\": \"s3://b/dir/k\", \"max_bytes\": 5}", WEIR_EINVALID,
                 "max_bytes");
    out = ok(f, "get", "{\"uri\": \"s3://b/dir/k\", \"max_bytes\": 6}");
    assert_string_equal(str(out, "body"), "abcdef");
    json_decref(out);
    expect_error(f, "get", "{\"uri\": \"s3://b/dir/k\", \"as\": \"json\", \"max_bytes\": 5}",
                 WEIR_EINVALID, "max_bytes");
    expect_error(f, "get", "{\"uri\": \"s3://b/dir/k\", \"as\": \"xml\"}", WEIR_EINVALID,
                 "\"text\" or \"json\"");
    json_decref(ok(
        f, "put", "{\"uri\": \"s3://b/bad.json\", \"body\": \"{\\\"a\\\": 1,\\n  \\\"b\\\": }\"}"));
    expect_error(f, "get", "{\"uri\": \"s3://b/bad.json\", \"as\": \"json\"}", WEIR_EINVALID,
                 "store.get: s3://b/bad.json (");
    expect_error(f, "get", "{\"uri\": \"s3://b/bad.json\", \"as\": \"json\"}", WEIR_EINVALID,
                 "line 2 column");
    json_decref(ok(f, "put", "{\"uri\": \"s3://b/trail.json\", \"body\": \"{} x\"}"));
    expect_error(f, "get", "{\"uri\": \"s3://b/trail.json\", \"as\": \"json\"}", WEIR_EINVALID,
                 "invalid JSON");
}

static void test_head_and_delete(void **state)
{
    struct fixture *f = *state;
    json_t *out, *put;
    const char *when;

    out = ok(f, "head", "{\"uri\": \"s3://b/h.txt\"}");
    tu_assert_json(
        out, "{\"uri\": \"s3://b/h.txt\", \"exists\": false, \"bytes\": null, \"etag\": null, "
             "\"last_modified\": null}");
    json_decref(out);
    put = ok(f, "put", "{\"uri\": \"s3://b/h.txt\", \"body\": \"12345\"}");
    out = ok(f, "head", "{\"uri\": \"s3://b/h.txt\"}");
    assert_true(json_is_true(json_object_get(out, "exists")));
    assert_int_equal(num(out, "bytes"), 5);
    assert_string_equal(str(out, "etag"), str(put, "etag"));
    when = str(out, "last_modified");
    assert_int_equal(strlen(when), 24); /* 2026-11-21T23:59:59.123Z */
    assert_true(when[4] == '-' && when[10] == 'T' && when[19] == '.' && when[23] == 'Z');
    json_decref(out);
    json_decref(put);

    /* A folder is not an object. */
    json_decref(ok(f, "put", "{\"uri\": \"s3://b/f/inner\", \"body\": \"i\"}"));
    out = ok(f, "head", "{\"uri\": \"s3://b/f\"}");
    assert_true(json_is_false(json_object_get(out, "exists")));
    json_decref(out);
    out = ok(f, "delete", "{\"uri\": \"s3://b/f\"}");
    tu_assert_json(out, "{\"uri\": \"s3://b/f\", \"deleted\": false}");
    json_decref(out);
    assert_true(lake_exists(f, "b/f/inner"));

    out = ok(f, "delete", "{\"uri\": \"s3://b/h.txt\"}");
    tu_assert_json(out, "{\"uri\": \"s3://b/h.txt\", \"deleted\": true}");
    json_decref(out);
    assert_false(lake_exists(f, "b/h.txt"));
    out = ok(f, "delete", "{\"uri\": \"s3://b/h.txt\"}");
    tu_assert_json(out, "{\"uri\": \"s3://b/h.txt\", \"deleted\": false}");
    json_decref(out);
    out = ok(f, "delete", "{\"uri\": \"s3://nobucket/a/b\"}");
    tu_assert_json(out, "{\"uri\": \"s3://nobucket/a/b\", \"deleted\": false}");
    json_decref(out);
    out = ok(f, "head", "{\"uri\": \"s3://b/h.txt\"}");
    assert_true(json_is_false(json_object_get(out, "exists")));
    json_decref(out);
    expect_error(f, "get", "{\"uri\": \"s3://b/h.txt\"}", WEIR_ENOTFOUND, "no such key");
}

/* ---- list ----------------------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

#define NKEYS 2500

static void test_list_paging(void **state)
{
    struct fixture *f = *state;
    char *want[NKEYS], *token = NULL;
    size_t got = 0;
    int pages = 0;

    /* Names chosen so that folder order and bytewise order differ:
     * "g1-x..." sorts before "g1/..." ('-' < '/'). */
    for (int i = 0; i < NKEYS; i++) {
        char rel[64];
        if (i % 7 == 0) {
            snprintf(rel, sizeof(rel), "data/g%d-x%04d", i % 3, i);
        }
        else {
            snprintf(rel, sizeof(rel), "data/g%d/%c/%04d.csv", i % 3, 'a' + i % 4, i);
        }
        want[i] = strdup(rel);
        char *full = NULL;
        assert_true(asprintf(&full, "bkt/%s", rel) >= 0);
        free(tu_write_file(f->lake, full, "1,2\n"));
        free(full);
    }
    /* Noise: in-progress temp files, keys outside the prefix, an empty folder. */
    free(tu_write_file(f->lake, "bkt/data/g0/.weir-tmp.0123456789abcdef", "partial"));
    free(tu_write_file(f->lake, "bkt/data/.weir-tmp.x", "partial"));
    free(tu_write_file(f->lake, "bkt/datb/outside", "no"));
    free(tu_write_file(f->lake, "bkt/dat", "no"));
    free(tu_write_file(f->lake, "other/data/x", "no"));
    qsort(want, NKEYS, sizeof(want[0]), cmp_str);

    for (;;) {
        json_t *with = json_pack("{s:s, s:i}", "prefix", "s3://bkt/data/", "max_keys", 1000);
        json_t *out = NULL, *keys;
        size_t i;
        json_t *item;

        if (token) {
            json_object_set_new(with, "continuation_token", json_string(token));
        }
        if (call(f, "list", with, &out) != WEIR_OK) {
            fail_msg("list: %s", weir_error_last());
        }
        pages++;
        keys = json_object_get(out, "keys");
        assert_int_equal(json_array_size(json_object_get(out, "common_prefixes")), 0);
        json_array_foreach(keys, i, item) {
            char uri[96];
            assert_true(got < NKEYS);
            assert_string_equal(str(item, "key"), want[got]);
            snprintf(uri, sizeof(uri), "s3://bkt/%s", want[got]);
            assert_string_equal(str(item, "uri"), uri);
            assert_int_equal(num(item, "bytes"), 4);
            assert_int_equal(strlen(str(item, "last_modified")), 24);
            got++;
        }
        free(token);
        token = NULL;
        if (json_is_true(json_object_get(out, "truncated"))) {
            assert_int_equal(json_array_size(keys), 1000);
            token = strdup(str(out, "next_continuation_token"));
        }
        else {
            assert_true(json_is_null(json_object_get(out, "next_continuation_token")));
        }
        json_decref(out);
        if (!token) {
            break;
        }
        assert_true(pages < 10);
    }
    assert_int_equal(pages, 3);
    assert_int_equal(got, NKEYS);
    for (int i = 0; i < NKEYS; i++) {
        free(want[i]);
    }
}

/* Keys of a list output joined by spaces, common prefixes after a '|'. */
static char *page_text(const json_t *out)
{
    char *s = strdup("");
    size_t i;
    json_t *item;

    json_array_foreach(json_object_get(out, "keys"), i, item) {
        char *t = NULL;
        assert_true(asprintf(&t, "%s%s ", s, str(item, "key")) >= 0);
        free(s);
        s = t;
    }
    {
        char *t = NULL;
        assert_true(asprintf(&t, "%s|", s) >= 0);
        free(s);
        s = t;
    }
    json_array_foreach(json_object_get(out, "common_prefixes"), i, item) {
        char *t = NULL;
        assert_true(asprintf(&t, "%s %s=%s", s, str(item, "prefix"), str(item, "uri")) >= 0);
        free(s);
        s = t;
    }
    return s;
}

static void expect_page(struct fixture *f, const char *with_text, const char *want)
{
    json_t *out = ok(f, "list", with_text);
    char *text = page_text(out);

    if (strcmp(text, want) != 0) {
        fail_msg("list %s\n  got  \"%s\"\n  want \"%s\"", with_text, text, want);
    }
    free(text);
    json_decref(out);
}

static void test_list_delimiter(void **state)
{
    struct fixture *f = *state;
    const char *files[] = { "t/a.txt", "t/b/1", "t/b/2",          "t/c/d/3",
                            "t/b-x",   "u/1",   "t/z/.weir-tmp.1" };
    char *path = NULL, *token = NULL;
    const char *pages[] = { "t/a.txt |", "t/b-x |", "| t/b/=s3://bkt/t/b/",
                            "| t/c/=s3://bkt/t/c/" };

    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        char *rel = NULL;
        assert_true(asprintf(&rel, "bkt/%s", files[i]) >= 0);
        free(tu_write_file(f->lake, rel, "x"));
        free(rel);
    }
    assert_true(asprintf(&path, "%s/bkt/t/empty", f->lake) >= 0);
    assert_int_equal(mkdir(path, 0755), 0);
    free(path);

    expect_page(f, "{\"prefix\": \"s3://bkt/t/\", \"delimiter\": \"/\"}",
                "t/a.txt t/b-x | t/b/=s3://bkt/t/b/ t/c/=s3://bkt/t/c/");
    expect_page(f, "{\"prefix\": \"s3://bkt/t/b\", \"delimiter\": \"/\"}",
                "t/b-x | t/b/=s3://bkt/t/b/");
    expect_page(f, "{\"prefix\": \"s3://bkt/t/b\"}", "t/b-x t/b/1 t/b/2 |");
    expect_page(f, "{\"prefix\": \"s3://bkt/\", \"delimiter\": \"/\"}",
                "| t/=s3://bkt/t/ u/=s3://bkt/u/");
    expect_page(f, "{\"prefix\": \"s3://bkt\"}", "t/a.txt t/b-x t/b/1 t/b/2 t/c/d/3 u/1 |");
    expect_page(f, "{\"prefix\": \"bkt/t/c\"}", "bkt/t/c/d/3 |");
    expect_page(f, "{\"prefix\": \"\", \"delimiter\": \"/\"}", "| bkt/=bkt/");
    expect_page(f, "{\"prefix\": \"s3://nobucket/\"}", "|");
    expect_page(f, "{\"prefix\": \"s3://bkt/t/nothing\"}", "|");

    /* Pages of one, common prefixes counted like keys, no repeats. */
    for (size_t i = 0; i < 4; i++) {
        json_t *with =
            json_pack("{s:s, s:s, s:i}", "prefix", "s3://bkt/t/", "delimiter", "/", "max_keys", 1);
        json_t *out = NULL;
        char *text;

        if (token) {
            json_object_set_new(with, "continuation_token", json_string(token));
        }
        assert_int_equal(call(f, "list", with, &out), WEIR_OK);
        text = page_text(out);
        assert_string_equal(text, pages[i]);
        free(text);
        free(token);
        token = NULL;
        assert_int_equal(json_is_true(json_object_get(out, "truncated")), i < 3);
        if (i < 3) {
            token = strdup(str(out, "next_continuation_token"));
        }
        else {
            assert_true(json_is_null(json_object_get(out, "next_continuation_token")));
        }
        json_decref(out);
    }
    expect_error(f, "list", "{\"prefix\": \"s3://bkt/\", \"max_keys\": 0}", WEIR_EINVALID,
                 "max_keys");
    expect_error(f, "list", "{\"prefix\": \"s3://bkt/\", \"delimiter\": \"\"}", WEIR_EINVALID,
                 "delimiter");
    expect_error(f, "list", "{}", WEIR_EINVALID, "prefix");
}

/* Keys that puts are writing right now never show up in a listing. */
static void test_list_skips_temp_files(void **state)
{
    struct fixture *f = *state;

    json_decref(ok(f, "put", "{\"uri\": \"s3://b/p/real\", \"body\": \"r\"}"));
    free(tu_write_file(f->lake, "b/p/.weir-tmp.00ff00ff00ff00ff", "half"));
    free(tu_write_file(f->lake, "b/q/.weir-tmp.1", "half"));
    expect_page(f, "{\"prefix\": \"s3://b/\"}", "p/real |");
    expect_page(f, "{\"prefix\": \"s3://b/\", \"delimiter\": \"/\"}", "| p/=s3://b/p/");
    expect_page(f, "{\"prefix\": \"s3://b/p/.weir\"}", "|");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_registered_as_store_service, setup, teardown),
        cmocka_unit_test_setup_teardown(test_text_round_trip_s3_mapping, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_binaryish_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_root_param, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_keys_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_put_content_params, setup, teardown),
        cmocka_unit_test_setup_teardown(test_if_none_match, setup, teardown),
        cmocka_unit_test_setup_teardown(test_if_none_match_race, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_put_keeps_old_version, setup, teardown),
        cmocka_unit_test_setup_teardown(test_put_over_folder_or_under_object, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_head_and_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_paging, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_delimiter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_skips_temp_files, setup, teardown),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
