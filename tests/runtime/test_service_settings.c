/*
 * test_service_settings.c - a target's `with:` settings of a service are
 * defaults of its ops: a pipeline step's own `with` wins, params the op does
 * not declare are left out, and a malformed service entry is refused with
 * its place in weir.yaml.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "diag.h"
#include "rt_util.h"

static const char settings_yaml[] =
    "default_target: t\n"
    "targets:\n"
    "  t:\n"
    "    store: { plugin: fs, with: { root: vault, workgroup: not-an-fs-param } }\n";

static int exists(const char *dir, const char *rel)
{
    char *path = NULL;
    struct stat st;
    int ok;

    assert_true(asprintf(&path, "%s/%s", dir, rel) >= 0);
    ok = stat(path, &st) == 0;
    free(path);
    return ok;
}

static void test_settings_are_defaults(void **state)
{
    struct rt_project *p = rt_project_new(settings_yaml);
    enum weir_run_status st;
    json_t *sum = rt_run(p, "p.yaml",
                         "version: 1\n"
                         "name: settings\n"
                         "steps:\n"
                         "  - id: by_setting\n"
                         "    uses: store.put\n"
                         "    with: { uri: a/one.json, value: { n: 1 } }\n"
                         "  - id: by_step\n"
                         "    uses: store.put\n"
                         "    with: { uri: a/two.json, value: { n: 2 }, root: other }\n",
                         1, NULL, &st, NULL);

    (void)state;
    assert_int_equal(st, WEIR_RUN_SUCCESS);
    assert_true(exists(p->dir, "vault/a/one.json"));
    assert_false(exists(p->dir, "lake/a/one.json"));
    /* the step's own root wins over the target's setting */
    assert_true(exists(p->dir, "other/a/two.json"));
    assert_false(exists(p->dir, "vault/a/two.json"));
    json_decref(sum);
    rt_project_free(p);
}

static void test_bad_service_entry(void **state)
{
    char *dir = tu_mkdtemp(), *cfg;
    struct weir_config *c = NULL;
    struct weir_diags diags = { 0 };
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);

    (void)state;
    cfg = tu_write_file(dir, "weir.yaml",
                        "version: 1\n"
                        "targets:\n"
                        "  local: { store: fs }\n"
                        "  t:\n"
                        "    store: { plugin: fs, settings: { root: x } }\n"
                        "    engine: { with: { a: 1 } }\n");
    assert_int_not_equal(weir_config_load(cfg, &c, &diags), WEIR_OK);
    weir_diags_print(&diags, mem);
    fclose(mem);
    assert_non_null(strstr(text, "weir.yaml:5:"));
    assert_non_null(strstr(text, "unknown key 'settings' in service 'store'"));
    assert_non_null(strstr(text, "weir.yaml:6:"));
    assert_non_null(strstr(text, "service 'engine' must name a plugin"));
    free(text);
    weir_diags_free(&diags);
    weir_config_free(c);
    free(cfg);
    tu_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_settings_are_defaults),
        cmocka_unit_test(test_bad_service_entry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
