/*
 * summarize.c - job summaries: the summary builder shared by the PySpark and
 * SQL summarisers, impact_summarize(), and the impact.summarize_job step.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "impact_sum_int.h"
#include "weir/util.h"

/* ---- builder ---- */

int isum_init(struct isum *s)
{
    memset(s, 0, sizeof(*s));
    s->sources = json_array();
    s->targets = json_array();
    s->join_keys = json_array();
    s->filter_details = json_array();
    s->columns = json_array();
    s->grain_details = json_array();
    s->unresolved = json_array();
    s->diagnostics = json_array();
    if (!s->sources || !s->targets || !s->join_keys || !s->filter_details || !s->columns ||
        !s->grain_details || !s->unresolved || !s->diagnostics) {
        isum_free(s);
        return WEIR_ENOMEM;
    }
    return WEIR_OK;
}

void isum_free(struct isum *s)
{
    json_decref(s->sources);
    json_decref(s->targets);
    json_decref(s->join_keys);
    json_decref(s->filter_details);
    json_decref(s->columns);
    json_decref(s->grain_details);
    json_decref(s->unresolved);
    json_decref(s->diagnostics);
    impact_host->free(s->seen);
    memset(s, 0, sizeof(*s));
}

json_t *isum_str(const char *v)
{
    json_t *j;
    size_t n, o = 0;
    char *c;

    if (!v) {
        return json_null();
    }
    if ((j = json_string(v)) != NULL) {
        return j;
    }
    /* not UTF-8 (the script may be any bytes): invalid bytes become '?' */
    n = strlen(v);
    if (!(c = impact_host->malloc(n + 1))) {
        return NULL;
    }
    for (size_t i = 0; i < n;) {
        const unsigned char *u = (const unsigned char *)v + i;
        size_t len = u[0] < 0x80         ? 1
                     : (u[0] >> 5) == 6  ? 2
                     : (u[0] >> 4) == 14 ? 3
                     : (u[0] >> 3) == 30 ? 4
                                         : 0;
        json_t *probe;

        if (len > 1 && i + len <= n && (probe = json_stringn(v + i, len)) != NULL) {
            json_decref(probe);
            memcpy(c + o, v + i, len);
            o += len;
            i += len;
            continue;
        }
        c[o++] = len == 1 ? v[i] : '?';
        i++;
    }
    c[o] = '\0';
    j = json_string(c);
    impact_host->free(c);
    return j;
}

static json_t *str_or_null(const char *v)
{
    return isum_str(v);
}

#define MAX_ENTRIES 10000

/* FNV-1a over an entry's values: equal entries have equal fingerprints. */
static uint64_t fingerprint(const json_t *v, uint64_t h, int depth)
{
    const char *k;
    json_t *x;
    size_t i;

    h = (h ^ (uint64_t)json_typeof(v)) * 1099511628211u;
    if (depth > 8) {
        return h;
    }
    if (json_is_string(v)) {
        for (const char *p = json_string_value(v); *p; p++) {
            h = (h ^ (unsigned char)*p) * 1099511628211u;
        }
    }
    else if (json_is_integer(v)) {
        h = (h ^ (uint64_t)json_integer_value(v)) * 1099511628211u;
    }
    else if (json_is_array(v)) {
        json_array_foreach(v, i, x) {
            h = fingerprint(x, h, depth + 1);
        }
    }
    else if (json_is_object(v)) {
        json_object_foreach((json_t *)v, k, x) {
            h = fingerprint(x, (h ^ (unsigned char)k[0]) * 1099511628211u, depth + 1);
        }
    }
    return h;
}

/* Adds fp to the set; 0 if it was there already. */
static int seen_add(struct isum *s, uint64_t fp)
{
    size_t i;

    if (s->nseen * 2 >= s->capseen) {
        size_t cap = s->capseen ? s->capseen * 2 : 256;
        uint64_t *t = impact_host->malloc(cap * sizeof(*t));

        if (!t) {
            s->oom = 1;
            return 1;
        }
        memset(t, 0, cap * sizeof(*t));
        for (i = 0; i < s->capseen; i++) {
            if (s->seen[i]) {
                size_t j = s->seen[i] & (cap - 1);

                while (t[j]) {
                    j = (j + 1) & (cap - 1);
                }
                t[j] = s->seen[i];
            }
        }
        impact_host->free(s->seen);
        s->seen = t;
        s->capseen = cap;
    }
    fp |= 1; /* 0 marks an empty slot */
    for (i = fp & (s->capseen - 1); s->seen[i]; i = (i + 1) & (s->capseen - 1)) {
        if (s->seen[i] == fp) {
            return 0;
        }
    }
    s->seen[i] = fp;
    s->nseen++;
    return 1;
}

/* Appends obj unless an equal entry is there (a def called twice, a loop
 * body run per item) or the array is full. */
static void append(struct isum *s, json_t *arr, json_t *obj)
{
    if (!obj) {
        s->oom = 1;
        return;
    }
    if (json_array_size(arr) >= MAX_ENTRIES ||
        !seen_add(s, fingerprint(obj, 14695981039346656037u ^ (uintptr_t)arr, 0))) {
        json_decref(obj);
        return;
    }
    if (json_array_append_new(arr, obj) < 0) {
        s->oom = 1;
    }
}

void isum_source(struct isum *s, const char *name, const char *kind, const char *via, int line)
{
    append(s, s->sources,
           json_pack("{s:o, s:s, s:o, s:i}", "name", isum_str(name), "kind", kind, "via",
                     isum_str(via), "line", line));
}

void isum_target(struct isum *s, const char *name, const char *kind, const char *via,
                 const char *mode, int line)
{
    append(s, s->targets,
           json_pack("{s:o, s:s, s:o, s:o, s:i}", "name", isum_str(name), "kind", kind, "via",
                     isum_str(via), "mode", str_or_null(mode), "line", line));
}

/* Column names shared by both sides, in the left side's order. */
static json_t *join_columns(const json_t *l, const json_t *r)
{
    json_t *cols = json_array();
    size_t i, j;
    json_t *v, *w;

    if (!cols) {
        return NULL;
    }
    json_array_foreach(l, i, v) {
        json_t *name = v;

        json_array_foreach(r, j, w) {
            if (j == i && !json_equal(v, w)) {
                name = NULL; /* different names on each side: keep both in left/right */
            }
        }
        if (name) {
            json_array_append(cols, name);
        }
        else {
            json_array_append_new(cols, json_sprintf("%s=%s", json_string_value(v),
                                                     json_string_value(json_array_get(r, i))
                                                         ? json_string_value(json_array_get(r, i))
                                                         : "?"));
        }
    }
    return cols;
}

void isum_join(struct isum *s, const char *left, const char *right, json_t *lcols, json_t *rcols,
               const char *how, int line)
{
    json_t *cols;

    if (!lcols) {
        lcols = json_array();
    }
    if (!rcols) {
        rcols = json_array();
    }
    cols = (lcols && rcols) ? join_columns(lcols, rcols) : NULL;
    if (!cols) {
        json_decref(lcols);
        json_decref(rcols);
        s->oom = 1;
        return;
    }
    append(s, s->join_keys,
           json_pack("{s:o, s:o, s:o, s:o, s:o, s:s, s:i}", "left_table", str_or_null(left),
                     "right_table", str_or_null(right), "columns", cols, "left_columns", lcols,
                     "right_columns", rcols, "how", how ? how : "inner", "line", line));
}

void isum_filter(struct isum *s, const char *expr, const char *table, int line)
{
    append(s, s->filter_details,
           json_pack("{s:o, s:o, s:i}", "expr", isum_str(expr), "table", str_or_null(table), "line",
                     line));
}

void isum_column(struct isum *s, const char *name, const char *op, json_t *sources,
                 const char *expr, const char *type, const char *from, int line)
{
    append(s, s->columns,
           json_pack("{s:o, s:s, s:o, s:o, s:o, s:o, s:i}", "name", isum_str(name), "op", op,
                     "sources", sources ? sources : json_array(), "expr", str_or_null(expr), "type",
                     str_or_null(type), "from", str_or_null(from), "line", line));
}

void isum_grain(struct isum *s, const char *kind, json_t *keys, int line)
{
    if (!keys) {
        s->oom = 1;
        return;
    }
    append(s, s->grain_details,
           json_pack("{s:s, s:o, s:i}", "kind", kind, "keys", keys, "line", line));
}

static void vnote(struct isum *s, json_t *arr, const char *key, int line, const char *fmt,
                  va_list ap)
{
    char buf[512];

    vsnprintf(buf, sizeof(buf), fmt, ap);
    append(s, arr, json_pack("{s:i, s:o}", "line", line, key, isum_str(buf)));
}

void isum_unresolved(struct isum *s, int line, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vnote(s, s->unresolved, "what", line, fmt, ap);
    va_end(ap);
}

void isum_diag(struct isum *s, int line, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vnote(s, s->diagnostics, "message", line, fmt, ap);
    va_end(ap);
}

const char *isum_how(const char *word)
{
    static const char *const map[][2] = {
        { "inner", "inner" }, { "cross", "cross" },      { "outer", "full" },
        { "full", "full" },   { "fullouter", "full" },   { "full_outer", "full" },
        { "left", "left" },   { "leftouter", "left" },   { "left_outer", "left" },
        { "right", "right" }, { "rightouter", "right" }, { "right_outer", "right" },
        { "semi", "semi" },   { "leftsemi", "semi" },    { "left_semi", "semi" },
        { "anti", "anti" },   { "leftanti", "anti" },    { "left_anti", "anti" },
    };

    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        if (strcasecmp(word, map[i][0]) == 0) {
            return map[i][1];
        }
    }
    return NULL;
}

/* Appends the string v to arr unless set (an object used as a hash set)
 * has it already. */
static int add_unique(json_t *arr, json_t *set, const char *v)
{
    if (!v || json_object_get(set, v)) {
        return 0;
    }
    json_object_set_new(set, v, json_true());
    return json_array_append_new(arr, isum_str(v));
}

int isum_finish(struct isum *s, const char *job_name, const char *language, json_t **out)
{
    json_t *inputs = json_array(), *filters = json_array(), *grain = json_array(), *o = NULL;
    json_t *targets = json_object(), *set_in = json_object(), *set_f = json_object();
    json_t *set_g = json_object(), *v, *k;
    size_t i, j;
    int rc = WEIR_ENOMEM;

    *out = NULL;
    if (!inputs || !filters || !grain || !targets || !set_in || !set_f || !set_g || s->oom) {
        goto done;
    }
    json_array_foreach(s->targets, i, v) {
        json_object_set_new(targets, json_string_value(json_object_get(v, "name")), json_true());
    }
    json_array_foreach(s->sources, i, v) {
        const char *name = json_string_value(json_object_get(v, "name"));

        if (!json_object_get(targets, name)) { /* read and written (an append): an output */
            add_unique(inputs, set_in, name);
        }
    }
    json_array_foreach(s->filter_details, i, v) {
        add_unique(filters, set_f, json_string_value(json_object_get(v, "expr")));
    }
    json_array_foreach(s->grain_details, i, v) {
        json_array_foreach(json_object_get(v, "keys"), j, k) {
            add_unique(grain, set_g, json_string_value(k));
        }
    }
    o = json_pack("{s:s, s:s, s:O, s:o, s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:O}",
                  "job_name", job_name, "language", language, "inputs", inputs, "output",
                  json_array_size(s->targets)
                      ? json_deep_copy(json_object_get(json_array_get(s->targets, 0), "name"))
                      : json_null(),
                  "sources", s->sources, "targets", s->targets, "join_keys", s->join_keys,
                  "filters", filters, "filter_details", s->filter_details, "columns", s->columns,
                  "grain", grain, "grain_details", s->grain_details, "unresolved", s->unresolved,
                  "diagnostics", s->diagnostics);
    if (o) {
        *out = o;
        rc = WEIR_OK;
    }
done:
    json_decref(inputs);
    json_decref(filters);
    json_decref(grain);
    json_decref(targets);
    json_decref(set_in);
    json_decref(set_f);
    json_decref(set_g);
    return rc;
}

/* ---- impact_summarize ---- */

/* File name without directories and extension, into buf. */
static void base_name(const char *name, char *buf, size_t cap)
{
    const char *b = strrchr(name, '/');
    const char *dot;
    size_t n;

    b = b ? b + 1 : name;
    dot = strrchr(b, '.');
    n = dot && dot != b ? (size_t)(dot - b) : strlen(b);
    if (n >= cap) {
        n = cap - 1;
    }
    memcpy(buf, b, n);
    buf[n] = '\0';
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);

    return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

int impact_summarize(const char *name, const char *src, size_t len, enum impact_language lang,
                     json_t **out)
{
    struct isum s;
    char job[256];
    int rc;

    *out = NULL;
    if (len > IMPACT_MAX_SCRIPT) {
        return impact_host->error_set(WEIR_ETOOBIG, "%s: script is %zu bytes, over the 8 MiB bound",
                                      name ? name : "script", len);
    }
    if ((rc = isum_init(&s)) < 0) {
        return impact_host->error_set(rc, "out of memory");
    }
    base_name(name ? name : "script", job, sizeof(job));
    if (lang == IMPACT_LANG_AUTO) {
        lang = name && ends_with(name, ".sql") ? IMPACT_LANG_SQL : IMPACT_LANG_PYSPARK;
    }
    if (lang == IMPACT_LANG_SQL) {
        impact_sql_summarize(&s, src, len, 1, NULL, NULL);
    }
    else {
        impact_py_summarize(&s, src, len);
    }
    rc = isum_finish(&s, job, lang == IMPACT_LANG_SQL ? "sql" : "pyspark", out);
    isum_free(&s);
    if (rc < 0) {
        return impact_host->error_set(rc, "out of memory summarising %s", job);
    }
    return WEIR_OK;
}

/* ---- impact.summarize_job ---- */

static char *join_path(const char *dir, const char *file)
{
    size_t a = strlen(dir), b = strlen(file);
    char *p = impact_host->malloc(a + b + 2);

    if (p) {
        memcpy(p, dir, a);
        p[a] = '/';
        memcpy(p + a + 1, file, b + 1);
    }
    return p;
}

static int read_script(const char *path, char **buf, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *b = NULL;
    size_t n = 0, cap = 0;
    int rc = WEIR_OK;

    *buf = NULL;
    if (!f) {
        return impact_host->error_set(errno == ENOENT ? WEIR_ENOTFOUND : WEIR_EIO,
                                      "impact.summarize_job: cannot open script %s: %s", path,
                                      strerror(errno));
    }
    for (;;) {
        size_t got;

        if (n == cap) {
            char *nb;

            if (cap > IMPACT_MAX_SCRIPT) {
                rc = impact_host->error_set(WEIR_ETOOBIG,
                                            "impact.summarize_job: script %s is over 8 MiB", path);
                goto done;
            }
            cap = cap ? cap * 2 : 65536;
            if (!(nb = impact_host->realloc(b, cap + 1))) {
                rc = impact_host->error_set(WEIR_ENOMEM, "out of memory reading %s", path);
                goto done;
            }
            b = nb;
        }
        got = fread(b + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            break;
        }
    }
    if (ferror(f)) {
        rc = impact_host->error_set(WEIR_EIO, "impact.summarize_job: cannot read %s", path);
    }
done:
    fclose(f);
    if (rc < 0) {
        impact_host->free(b);
        return rc;
    }
    *buf = b;
    *len = n;
    return WEIR_OK;
}

static int parse_language(const char *s, enum impact_language *lang)
{
    if (!s || strcmp(s, "auto") == 0) {
        *lang = IMPACT_LANG_AUTO;
    }
    else if (strcmp(s, "pyspark") == 0 || strcmp(s, "python") == 0) {
        *lang = IMPACT_LANG_PYSPARK;
    }
    else if (strcmp(s, "sql") == 0) {
        *lang = IMPACT_LANG_SQL;
    }
    else {
        return impact_host->error_set(WEIR_EINVALID,
                                      "impact.summarize_job: language '%s' is not one of auto, "
                                      "pyspark, sql",
                                      s);
    }
    return WEIR_OK;
}

static int run_summarize(const json_t *input, json_t **out, weir_ctx *ctx, void *payload)
{
    const char *script = json_string_value(json_object_get(input, "script"));
    const char *text = json_string_value(json_object_get(input, "text"));
    const char *project = impact_host->ctx_get(ctx, "project");
    enum impact_language lang = IMPACT_LANG_AUTO;
    char *path = NULL, *buf = NULL;
    json_t *sum = NULL;
    size_t len = 0;
    int rc;

    (void)payload;
    if ((rc = parse_language(json_string_value(json_object_get(input, "language")), &lang)) < 0) {
        goto done;
    }
    if ((!script || !*script) && !text) {
        rc = impact_host->error_set(WEIR_EINVALID,
                                    "impact.summarize_job: give `script` (a path) or `text`");
        goto done;
    }
    if (text) {
        rc =
            impact_summarize(script && *script ? script : "inline", text, strlen(text), lang, &sum);
    }
    else {
        path = script[0] == '/' || !project ? weir_host_strdup(impact_host, script)
                                            : join_path(project, script);
        if (!path) {
            rc = impact_host->error_set(WEIR_ENOMEM, "out of memory");
            goto done;
        }
        if ((rc = read_script(path, &buf, &len)) < 0) {
            goto done;
        }
        rc = impact_summarize(script, buf, len, lang, &sum);
    }
    if (rc < 0) {
        goto done;
    }
    if (json_object_set_new(sum, "script", json_string(script && *script ? script : "inline")) <
        0) {
        rc = impact_host->error_set(WEIR_ENOMEM, "out of memory");
        goto done;
    }
    *out = sum;
    sum = NULL;
done:
    json_decref(sum);
    impact_host->free(path);
    impact_host->free(buf);
    return rc;
}

static const struct weir_param_desc summarize_params[] = {
    { "script", WEIR_PARAM_STRING, 0, "\"\"",
      "job script path, relative to the project directory or absolute" },
    { "text", WEIR_PARAM_STRING, 0, NULL, "the script itself, instead of a file" },
    { "language", WEIR_PARAM_STRING, 0, "\"auto\"",
      "auto (by extension: .sql is SQL, else PySpark), pyspark or sql" },
    { NULL, 0, 0, NULL, NULL },
};

const struct weir_step_desc impact_step_summarize_job = {
    WEIR_STEP_DESC_VERSION,
    "summarize_job",
    NULL,
    "summarises a Glue/PySpark or SQL job script: inputs, output, join keys, filters, columns, "
    "grain",
    summarize_params,
    run_summarize,
    NULL,
};
