/*
 * test_loader.c - the plugin loader (core/plugins.h) against the fixture
 * plugins in tests/plugins/fixtures: one fixture per failure the loader must
 * report, each checked for its code and its message.
 */
#include "testutil.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "plugins.h"

#define assert_contains(haystack, needle)                                                     \
    do {                                                                                      \
        if (!strstr((haystack), (needle))) {                                                  \
            fail_msg("message \"%s\"\n  does not contain \"%s\"", (haystack), (needle));      \
        }                                                                                     \
    } while (0)

struct fixture {
    struct weir_plugins *plugins;
    char *tmp;       /* scratch directory */
    char *log;       /* FX_SHUTDOWN_LOG */
};

static char *fixture_path(const char *file)
{
    char *path = NULL;

    assert_true(asprintf(&path, "%s/%s", tu_env("WEIR_FIXTURE_DIR"), file) > 0);
    return path;
}

static char *tmp_path(const struct fixture *f, const char *file)
{
    char *path = NULL;

    assert_true(asprintf(&path, "%s/%s", f->tmp, file) > 0);
    return path;
}

/* Copies a binary file (tu_write_file is for text) and sets its mode. */
static char *copy_fixture(const struct fixture *f, const char *file, mode_t mode)
{
    char *src = fixture_path(file), *dst = tmp_path(f, file);
    size_t len = 0;
    char *data = tu_read_file(src, &len);
    int fd;

    assert_non_null(data);
    fd = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
    assert_int_equal(chmod(dst, mode), 0);
    free(data);
    free(src);
    return dst;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    assert_int_equal(weir_plugins_new(&f->plugins), WEIR_OK);
    f->tmp = tu_mkdtemp();
    assert_non_null(f->tmp);
    f->log = tmp_path(f, "shutdown.log");
    setenv("FX_SHUTDOWN_LOG", f->log, 1);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    weir_plugins_free(f->plugins);
    unsetenv("FX_SHUTDOWN_LOG");
    tu_rmtree(f->tmp);
    free(f->tmp);
    free(f->log);
    free(f);
    return 0;
}

/* Loads path, expects code, and checks that the last error and the recorded
 * failure carry the same message; returns that message (owned by the registry). */
static const char *load_failing(struct fixture *f, const char *path, int code)
{
    const struct weir_plugin_rec *rec;
    size_t before = weir_plugins_step_count(f->plugins);

    assert_int_equal(weir_plugins_load_file(f->plugins, path), code);
    rec = weir_plugins_at(f->plugins, weir_plugins_count(f->plugins) - 1);
    assert_non_null(rec);
    assert_int_equal(rec->error_code, code);
    assert_non_null(rec->error);
    assert_string_equal(rec->error, weir_error_last());
    /* a failed plugin contributes no step */
    assert_int_equal(weir_plugins_step_count(f->plugins), before);
    return rec->error;
}

/* "plugin '<path>': error during initialization: " + detail. */
static const char *init_failure(struct fixture *f, const char *file)
{
    char *path = fixture_path(file), *prefix = NULL;
    const char *msg = load_failing(f, path, WEIR_EUSER);

    assert_true(asprintf(&prefix, "plugin '%s': error during initialization: ", path) > 0);
    assert_int_equal(strncmp(msg, prefix, strlen(prefix)), 0);
    free(prefix);
    free(path);
    return msg;
}

static char *expected(const char *fmt, const char *a, const char *b)
{
    char *s = NULL;

    assert_true(asprintf(&s, fmt, a, b) > 0);
    return s;
}

/* ---- good plugins --------------------------------------------------------- */

static void test_loader__ok_loads_and_runs(void **state)
{
    struct fixture *f = *state;
    char *path = fixture_path("fx_ok.so");
    const struct weir_plugin_rec *rec;
    const struct weir_step_def *def;
    json_t *input = NULL, *out = NULL;

    assert_int_equal(weir_plugins_load_file(f->plugins, path), WEIR_OK);
    rec = weir_plugins_find(f->plugins, "fx_ok");
    assert_non_null(rec);
    assert_int_equal(rec->error_code, WEIR_OK);
    assert_string_equal(rec->path, path);
    assert_string_equal(rec->description, "loader fixture: loads fine");
    assert_string_equal(rec->version, "1.2.3");

    def = weir_plugins_find_step(f->plugins, "fx_ok", "hello");
    assert_non_null(def);
    assert_string_equal(def->plugin, "fx_ok");
    assert_string_equal(def->description, "says hello");
    assert_int_equal(def->nparams, 1);
    assert_string_equal(def->params[0].name, "name");
    tu_assert_json(def->params[0].def, "\"world\"");
    assert_null(weir_plugins_find_step(f->plugins, "fx_ok", "absent"));

    assert_int_equal(weir_step_input_check(def, NULL, &input), WEIR_OK);
    assert_int_equal(def->run(input, &out, NULL, def->payload), WEIR_OK);
    tu_assert_json(out, "\"hello\"");
    json_decref(out);
    json_decref(input);
    free(path);
}

static void test_loader__shutdown_called_on_free(void **state)
{
    struct fixture *f = *state;
    char *path = fixture_path("fx_ok.so");
    char *log;

    assert_int_equal(weir_plugins_load_file(f->plugins, path), WEIR_OK);
    weir_plugins_free(f->plugins);
    assert_int_equal(weir_plugins_new(&f->plugins), WEIR_OK);
    log = tu_read_file(f->log, NULL);
    assert_non_null(log);
    assert_string_equal(log, "fx_ok shutdown\n");
    free(log);
    free(path);
}

static int builtin_init(const struct weir_host_api *host, weir_registry *reg)
{
    struct weir_plugin_info info = WEIR_PLUGIN_INFO_INIT;

    WEIR_PLUGIN_CHECK_ABI(host);
    info.description = "compiled into the test";
    return host->plugin_describe(reg, &info);
}

static void test_loader__builtin_and_duplicate_builtin(void **state)
{
    struct fixture *f = *state;
    const struct weir_plugin_rec *rec;

    assert_int_equal(weir_plugins_add_builtin(f->plugins, "inproc", builtin_init), WEIR_OK);
    rec = weir_plugins_find(f->plugins, "inproc");
    assert_non_null(rec);
    assert_null(rec->path);
    assert_string_equal(rec->description, "compiled into the test");
    assert_int_equal(weir_plugins_add_builtin(f->plugins, "inproc", builtin_init), WEIR_EEXISTS);
    assert_contains(weir_error_last(), "inproc");
}

/* ---- files the loader must refuse before or at dlopen ----------------------- */

static void test_loader__missing_file(void **state)
{
    struct fixture *f = *state;
    char *path = fixture_path("fx_absent.so");
    char *want = expected("plugin '%s': file not found", path, NULL);

    assert_string_equal(load_failing(f, path, WEIR_ENOTFOUND), want);
    free(want);
    free(path);
}

static void check_writable(struct fixture *f, mode_t mode, const char *octal)
{
    char *path = copy_fixture(f, "fx_ok.so", mode);
    char *want = expected("plugin '%s': refusing a group- or world-writable file (mode %s); "
                          "run chmod go-w on it", path, octal);

    assert_string_equal(load_failing(f, path, WEIR_EINVALID), want);
    assert_null(weir_plugins_find_step(f->plugins, "fx_ok", "hello"));
    free(want);
    free(path);
}

static void test_loader__world_writable(void **state)
{
    check_writable(*state, 0666, "0666");
}

static void test_loader__group_writable(void **state)
{
    check_writable(*state, 0664, "0664");
}

static void test_loader__not_elf(void **state)
{
    struct fixture *f = *state;
    char *path = fixture_path("not_elf.so");
    char *prefix = expected("plugin '%s': not a loadable shared object: ", path, NULL);
    const char *msg = load_failing(f, path, WEIR_EINVALID);

    assert_int_equal(strncmp(msg, prefix, strlen(prefix)), 0);
    /* dlerror()'s reason follows */
    assert_true(strlen(msg) > strlen(prefix));
    free(prefix);
    free(path);
}

static void test_loader__no_entry(void **state)
{
    struct fixture *f = *state;
    char *path = fixture_path("fx_no_entry.so");
    char *want = expected("plugin '%s': no entry symbol 'weir_plugin_fx_no_entry_init'; export it "
                          "with WEIR_PLUGIN_EXPORT", path, NULL);

    assert_string_equal(load_failing(f, path, WEIR_ENOTFOUND), want);
    free(want);
    free(path);
}

/* ---- ABI --------------------------------------------------------------------- */

static void check_abi(struct fixture *f, const char *file, unsigned int major, unsigned int minor)
{
    char *path = fixture_path(file);
    char *prefix = expected("plugin '%s': ABI mismatch: ", path, NULL);
    char version[32];
    const char *msg = load_failing(f, path, WEIR_EVERSION);

    assert_int_equal(strncmp(msg, prefix, strlen(prefix)), 0);
    /* the detail names the version the plugin wants */
    snprintf(version, sizeof(version), "%u.%u", major, minor);
    assert_contains(msg, version);
    free(prefix);
    free(path);
}

static void test_loader__abi_major(void **state)
{
    check_abi(*state, "fx_abi_major.so", WEIR_ABI_MAJOR + 1, WEIR_ABI_MINOR);
}

static void test_loader__abi_minor(void **state)
{
    check_abi(*state, "fx_abi_minor.so", WEIR_ABI_MAJOR, WEIR_ABI_MINOR + 1);
}

/* ---- failures inside the entry ------------------------------------------------ */

static void test_loader__init_error(void **state)
{
    struct fixture *f = *state;
    char *path = fixture_path("fx_init_error.so");
    char *want = expected("plugin '%s': error during initialization: database handle missing", path,
                          NULL);
    char *log;

    assert_string_equal(load_failing(f, path, WEIR_EUSER), want);
    /* the step it registered before failing is gone, and shutdown still ran */
    assert_null(weir_plugins_find_step(f->plugins, "fx_init_error", "early"));
    log = tu_read_file(f->log, NULL);
    assert_non_null(log);
    assert_string_equal(log, "fx_init_error shutdown\n");
    free(log);
    free(want);
    free(path);
}

static void test_loader__desc_version_0(void **state)
{
    const char *msg = init_failure(*state, "fx_desc_v0.so");

    assert_contains(msg, "'v0_step'");
    assert_contains(msg, "version 0");
}

static void test_loader__desc_version_future(void **state)
{
    const char *msg = init_failure(*state, "fx_desc_future.so");

    assert_contains(msg, "'future_step'");
    assert_contains(msg, "version 99");
}

static void test_loader__duplicate_step(void **state)
{
    struct fixture *f = *state;
    const char *msg = init_failure(f, "fx_dup_step.so");

    assert_contains(msg, "'twice'");
    assert_null(weir_plugins_find_step(f->plugins, "fx_dup_step", "twice"));
}

static void test_loader__bad_step_name(void **state)
{
    const char *msg = init_failure(*state, "fx_bad_name.so");

    assert_contains(msg, "'Bad Name!'");
}

static void test_loader__step_before_describe(void **state)
{
    struct fixture *f = *state;
    const char *msg = init_failure(f, "fx_no_describe.so");

    assert_contains(msg, "plugin_describe");
    assert_null(weir_plugins_find_step(f->plugins, "fx_no_describe", "undescribed"));
}

/* ---- several plugins ------------------------------------------------------------- */

static void test_loader__duplicate_plugin_name(void **state)
{
    struct fixture *f = *state;
    char *first = fixture_path("fx_ok.so");
    char *second = copy_fixture(f, "fx_ok.so", 0644);
    char *want = expected("plugin '%s': a plugin named 'fx_ok' is already loaded from '%s'", second,
                          first);

    assert_int_equal(weir_plugins_load_file(f->plugins, first), WEIR_OK);
    assert_string_equal(load_failing(f, second, WEIR_EEXISTS), want);
    /* the first one is untouched */
    assert_string_equal(weir_plugins_find(f->plugins, "fx_ok")->path, first);
    assert_non_null(weir_plugins_find_step(f->plugins, "fx_ok", "hello"));
    free(want);
    free(second);
    free(first);
}

struct expect {
    const char *name;
    int code;
};

static void test_loader__load_dir_records_failures(void **state)
{
    static const struct expect want[] = {
        { "fx_abi_major", WEIR_EVERSION }, { "fx_abi_minor", WEIR_EVERSION },
        { "fx_bad_name", WEIR_EUSER },     { "fx_desc_future", WEIR_EUSER },
        { "fx_desc_v0", WEIR_EUSER },      { "fx_dup_step", WEIR_EUSER },
        { "fx_init_error", WEIR_EUSER },   { "fx_no_describe", WEIR_EUSER },
        { "fx_no_entry", WEIR_ENOTFOUND }, { "fx_ok", WEIR_OK },
        { "not_elf", WEIR_EINVALID },
    };
    struct fixture *f = *state;
    size_t n = sizeof(want) / sizeof(want[0]);

    assert_int_equal(weir_plugins_load_dir(f->plugins, tu_env("WEIR_FIXTURE_DIR")), WEIR_OK);
    assert_int_equal(weir_plugins_count(f->plugins), n);
    for (size_t i = 0; i < n; i++) {
        const struct weir_plugin_rec *rec = weir_plugins_at(f->plugins, i);
        /* in name order */
        assert_string_equal(rec->name, want[i].name);
        assert_int_equal(rec->error_code, want[i].code);
        if (want[i].code == WEIR_OK) {
            assert_null(rec->error);
        }
        else {
            assert_non_null(rec->error);
            assert_contains(rec->error, rec->name);
        }
    }
    /* only the good plugin contributed a step */
    assert_int_equal(weir_plugins_step_count(f->plugins), 1);
    assert_non_null(weir_plugins_find_step(f->plugins, "fx_ok", "hello"));
}

static void test_loader__load_dir_missing(void **state)
{
    struct fixture *f = *state;
    char *dir = tmp_path(f, "no-such-dir");

    assert_int_equal(weir_plugins_load_dir(f->plugins, dir), WEIR_ENOTFOUND);
    assert_contains(weir_error_last(), dir);
    assert_int_equal(weir_plugins_count(f->plugins), 0);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_loader__ok_loads_and_runs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loader__shutdown_called_on_free, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loader__builtin_and_duplicate_builtin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loader__missing_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loader__world_writable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loader__group_writable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loader__not_elf, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loader__no_entry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loader__abi_major, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loader__abi_minor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loader__init_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loader__desc_version_0, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loader__desc_version_future, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loader__duplicate_step, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loader__bad_step_name, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loader__step_before_describe, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loader__duplicate_plugin_name, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loader__load_dir_records_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loader__load_dir_missing, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
