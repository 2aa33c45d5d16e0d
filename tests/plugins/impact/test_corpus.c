/*
 * test_corpus.c - the job summariser against the corpus in tests/data/jobs/:
 * Glue DynamicFrame jobs, plain PySpark, spark.sql strings and SQL scripts,
 * each with a hand-written <name>.expected.json (inputs, output, join_keys,
 * filters, grain). Every field is scored as matched / (expected + reported
 * - matched), so a missing item and an invented one both count against it.
 * The per-field and overall hit rates are printed; the test fails below 90%
 * overall or 80% in any field, or when the corpus has fewer than 20 scripts.
 */
#include "testutil.h"

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "impact.h"
#include "plugins.h"

const struct weir_host_api *impact_host;

enum { F_INPUTS, F_OUTPUT, F_JOINS, F_FILTERS, F_GRAIN, NFIELDS };
static const char *const FIELD[NFIELDS] = { "inputs", "output", "join_keys", "filters", "grain" };

/* Filters and grain keys (which may be expressions) compare without
 * qualifiers (o.amount vs amount), case or spaces. */
static void norm_filter(const char *s, char *out, size_t cap)
{
    size_t o = 0;
    char q = 0;

    for (size_t i = 0; s[i] && o + 1 < cap; i++) {
        char c = s[i];

        if (q) {
            out[o++] = c;
            q = c == q ? 0 : q;
            continue;
        }
        if (c == '\'' || c == '"') {
            q = c;
            out[o++] = c;
            continue;
        }
        if (isspace((unsigned char)c)) {
            continue;
        }
        if ((isalpha((unsigned char)c) || c == '_') &&
            (i == 0 || !(isalnum((unsigned char)s[i - 1]) || s[i - 1] == '_'))) {
            size_t j = i;

            while (isalnum((unsigned char)s[j]) || s[j] == '_') {
                j++;
            }
            if (s[j] == '.' && (isalpha((unsigned char)s[j + 1]) || s[j + 1] == '_')) {
                i = j; /* drop "qualifier." */
                continue;
            }
        }
        if (c == '!' && s[i + 1] == '=') {
            out[o++] = '<';
            if (o + 1 < cap) {
                out[o++] = '>';
            }
            i++;
            continue;
        }
        out[o++] = (char)tolower((unsigned char)c);
    }
    out[o] = '\0';
}

static char *join_key(const json_t *j)
{
    const json_t *cols = json_object_get(j, "columns");
    char buf[1024];
    size_t n = 0;

    n += (size_t)snprintf(buf, sizeof(buf), "%s|%s|%s|",
                          json_string_value(json_object_get(j, "left_table")) ?: "null",
                          json_string_value(json_object_get(j, "right_table")) ?: "null",
                          json_string_value(json_object_get(j, "how")) ?: "?");
    for (size_t i = 0; i < json_array_size(cols) && n < sizeof(buf); i++) {
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s,",
                              json_string_value(json_array_get(cols, i)));
    }
    return strdup(buf);
}

static int contains(const json_t *arr, const char *s)
{
    size_t i;
    json_t *x;

    json_array_foreach(arr, i, x) {
        if (strcmp(json_string_value(x), s) == 0) {
            return 1;
        }
    }
    return 0;
}

/* The items of a field as comparable strings. */
static json_t *items(const json_t *sum, int field)
{
    json_t *out = json_array(), *v = json_object_get(sum, FIELD[field]), *x;
    char buf[4096];
    size_t i;

    if (field == F_OUTPUT) {
        if (json_is_string(v)) {
            json_array_append_new(out, json_string(json_string_value(v)));
        }
        return out;
    }
    json_array_foreach(v, i, x) {
        if (field == F_JOINS) {
            char *k = join_key(x);

            json_array_append_new(out, json_string(k));
            free(k);
        }
        else if (field == F_FILTERS || field == F_GRAIN) {
            norm_filter(json_string_value(x), buf, sizeof(buf));
            if (!contains(out, buf)) { /* a.d = 1 and b.d = 1 read the same */
                json_array_append_new(out, json_string(buf));
            }
        }
        else {
            json_array_append_new(out, json_string(json_string_value(x)));
        }
    }
    return out;
}

struct score {
    int hit[NFIELDS], total[NFIELDS];
};

static void score_script(const char *dir, const char *name, struct score *sc, int *scripts)
{
    char path[4096], base[512];
    json_t *exp, *sum = NULL;
    char *src = NULL;
    size_t len = 0;

    assert_true(snprintf(base, sizeof(base), "%.*s", (int)(strlen(name) - strlen(".expected.json")),
                         name) < (int)sizeof(base));
    assert_true(snprintf(path, sizeof(path), "%s/%s", dir, name) < (int)sizeof(path));
    exp = json_load_file(path, 0, NULL);
    assert_non_null(exp);
    assert_true(snprintf(path, sizeof(path), "%s/%s.py", dir, base) < (int)sizeof(path));
    if (!(src = tu_read_file(path, &len))) {
        assert_true(snprintf(path, sizeof(path), "%s/%s.sql", dir, base) < (int)sizeof(path));
        src = tu_read_file(path, &len);
    }
    assert_non_null(src);
    assert_int_equal(impact_summarize(path, src, len, IMPACT_LANG_AUTO, &sum), WEIR_OK);
    printf("%-32s", base);
    for (int f = 0; f < NFIELDS; f++) {
        json_t *e = items(exp, f), *a = items(sum, f), *x;
        int hit = 0, uni;
        size_t i;

        json_array_foreach(e, i, x) {
            hit += contains(a, json_string_value(x));
        }
        uni = (int)json_array_size(e) + (int)json_array_size(a) - hit;
        sc->hit[f] += hit;
        sc->total[f] += uni;
        printf(" %s %d/%d", FIELD[f], hit, uni);
        if (hit < uni) {
            json_array_foreach(a, i, x) {
                if (!contains(e, json_string_value(x))) {
                    printf(" [extra %s]", json_string_value(x));
                }
            }
            json_array_foreach(e, i, x) {
                if (!contains(a, json_string_value(x))) {
                    printf(" [missed %s]", json_string_value(x));
                }
            }
        }
        json_decref(e);
        json_decref(a);
    }
    printf("\n");
    /* where the script hides a name, the summary must say so, not guess */
    if (json_object_get(exp, "unresolved_min")) {
        assert_true(json_array_size(json_object_get(sum, "unresolved")) >=
                    (size_t)json_integer_value(json_object_get(exp, "unresolved_min")));
    }
    if (json_object_get(exp, "diagnostics_min")) {
        assert_true(json_array_size(json_object_get(sum, "diagnostics")) >=
                    (size_t)json_integer_value(json_object_get(exp, "diagnostics_min")));
    }
    (*scripts)++;
    json_decref(exp);
    json_decref(sum);
    free(src);
}

static void test_corpus(void **state)
{
    char dir[4096];
    struct dirent **names;
    struct score sc;
    int n, scripts = 0, hit = 0, total = 0;

    (void)state;
    memset(&sc, 0, sizeof(sc));
    snprintf(dir, sizeof(dir), "%s/tests/data/jobs", tu_env("WEIR_SOURCE_DIR"));
    n = scandir(dir, &names, NULL, alphasort);
    assert_true(n > 0);
    for (int i = 0; i < n; i++) {
        const char *nm = names[i]->d_name;
        size_t l = strlen(nm);

        if (l > 14 && strcmp(nm + l - 14, ".expected.json") == 0) {
            score_script(dir, nm, &sc, &scripts);
        }
        free(names[i]);
    }
    free(names);
    printf("\nhit rate over %d scripts:", scripts);
    for (int f = 0; f < NFIELDS; f++) {
        printf(" %s %.1f%% (%d/%d)", FIELD[f], 100.0 * sc.hit[f] / (sc.total[f] ? sc.total[f] : 1),
               sc.hit[f], sc.total[f]);
        hit += sc.hit[f];
        total += sc.total[f];
        assert_true(sc.hit[f] * 100 >= 80 * sc.total[f]);
    }
    printf("\noverall %.1f%% (%d/%d)\n", 100.0 * hit / total, hit, total);
    assert_true(scripts >= 20);
    assert_true(hit * 100 >= 90 * total);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_corpus),
    };

    impact_host = weir_host_api_get();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
