#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "plugins.h"

char *tu_mkdtemp(void)
{
    const char *base = getenv("TMPDIR");
    char *path = NULL;

    if (!base || !*base) {
        base = "/tmp";
    }
    if (asprintf(&path, "%s/weir-test-XXXXXX", base) < 0) {
        return NULL;
    }
    if (!mkdtemp(path)) {
        free(path);
        return NULL;
    }
    return path;
}

void tu_rmtree(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *e;

    if (!d) {
        unlink(path);
        return;
    }
    while ((e = readdir(d)) != NULL) {
        char *child = NULL;
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) {
            continue;
        }
        if (asprintf(&child, "%s/%s", path, e->d_name) >= 0) {
            tu_rmtree(child);
            free(child);
        }
    }
    closedir(d);
    rmdir(path);
}

static void mkdirs_for(const char *file)
{
    char *copy = strdup(file);
    for (char *p = copy + 1; p && *p; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(copy, 0755);
            *p = '/';
        }
    }
    free(copy);
}

char *tu_write_file(const char *dir, const char *name, const char *text)
{
    char *path = NULL;
    FILE *fp;

    if (asprintf(&path, "%s/%s", dir, name) < 0) {
        return NULL;
    }
    mkdirs_for(path);
    fp = fopen(path, "wb");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
    return path;
}

char *tu_read_file(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    char *buf;
    long n;

    if (!fp) {
        return NULL;
    }
    fseek(fp, 0, SEEK_END);
    n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    buf = malloc((size_t)n + 1);
    if (fread(buf, 1, (size_t)n, fp) != (size_t)n) {
        n = 0;
    }
    buf[n] = '\0';
    fclose(fp);
    if (len) {
        *len = (size_t)n;
    }
    return buf;
}

const char *tu_env(const char *name)
{
    const char *v = getenv(name);
    if (!v) {
        fail_msg("environment variable %s is not set (run the test through ctest)", name);
    }
    return v;
}

char *tu_json_text(const json_t *v)
{
    return json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
}

void tu__assert_json(const json_t *v, const char *expected, const char *file, int line)
{
    json_error_t err;
    json_t *want = json_loads(expected, JSON_DECODE_ANY, &err);
    char *got_s, *want_s;
    int differs;

    if (!want) {
        fail_msg("%s:%d: bad expected JSON: %s", file, line, err.text);
    }
    got_s = v ? tu_json_text(v) : strdup("(NULL)");
    want_s = tu_json_text(want);
    differs = strcmp(got_s, want_s) != 0;
    if (differs) {
        print_error("%s:%d: JSON differs\n  got:  %s\n  want: %s\n", file, line, got_s, want_s);
    }
    free(got_s);
    free(want_s);
    json_decref(want);
    if (differs) {
        fail();
    }
}

int64_t tu_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void tu_load_plugin(struct weir_plugins *plugins, const char *name)
{
    char *path = NULL;

    assert_true(asprintf(&path, "%s/%s.so", tu_env("WEIR_PLUGIN_DIR"), name) > 0);
    if (weir_plugins_load_file(plugins, path) != WEIR_OK) {
        fail_msg("loading %s: %s", path, weir_error_last());
    }
    free(path);
}

void tu__assert_contains(const char *hay, const char *needle, const char *file, int line)
{
    if (!hay || !strstr(hay, needle)) {
        fail_msg("%s:%d: \"%s\"\n  does not contain \"%s\"", file, line, hay ? hay : "(NULL)",
                 needle);
    }
}

json_t *tu_json_load(const char *text)
{
    json_error_t err;
    json_t *v = json_loads(text, 0, &err);

    if (!v) {
        fail_msg("bad test JSON %s: %s", text, err.text);
    }
    return v;
}
