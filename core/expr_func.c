/*
 * expr_func.c - the built-in functions of expressions, and the value
 * helpers they share with the evaluator and templates: JSON equality where
 * 1 == 1.0, and a capped string buffer with a compact, sorted JSON writer
 * that prints reals in their shortest form (0.1, not 0.10000000000000001).
 */
#include "expr_int.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

/* clang-format off */
const struct expr_func_info weir__expr_funcs[FN_COUNT] = {
    [FN_LENGTH] = { "length", 1, 1 },
    [FN_CONTAINS] = { "contains", 2, 2 },
    [FN_STARTSWITH] = { "startswith", 2, 2 },
    [FN_ENDSWITH] = { "endswith", 2, 2 },
    [FN_FORMAT] = { "format", 1, SIZE_MAX },
    [FN_JOIN] = { "join", 1, 2 },
    [FN_TOJSON] = { "tojson", 1, 1 },
    [FN_FROMJSON] = { "fromjson", 1, 1 },
    [FN_DEFAULT] = { "default", 2, 2 },
    [FN_LOWER] = { "lower", 1, 1 },
    [FN_UPPER] = { "upper", 1, 1 },
    [FN_KEYS] = { "keys", 1, 1 },
};
/* clang-format on */

const char *weir__expr_type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "object";
    case JSON_ARRAY: return "array";
    case JSON_STRING: return "string";
    case JSON_INTEGER:
    case JSON_REAL: return "number";
    case JSON_TRUE:
    case JSON_FALSE: return "boolean";
    default: return "null";
    }
}

static int too_deep(void)
{
    return weir_error_set(WEIR_EINVALID, "value nested deeper than %d levels; flatten it first",
                          WEIR_EXPR_MAX_VALUE_DEPTH);
}

/* ------------------------------------------------------------------ */
/* equality                                                            */

static int numbers_equal(const json_t *a, const json_t *b)
{
    const json_t *i = json_is_integer(a) ? a : b, *r = json_is_integer(a) ? b : a;
    double d;

    if (json_is_integer(a) && json_is_integer(b)) {
        return json_integer_value(a) == json_integer_value(b);
    }
    if (json_is_real(a) && json_is_real(b)) {
        return json_real_value(a) == json_real_value(b);
    }
    /* Compare as integers when the real is whole, so that large integers
     * are not rounded into equality. */
    d = json_real_value(r);
    if (d != floor(d) || d < -9223372036854775808.0 || d >= 9223372036854775808.0) {
        return 0;
    }
    return (json_int_t)d == json_integer_value(i);
}

static int equal(const json_t *a, const json_t *b, int depth);

static int arrays_equal(const json_t *a, const json_t *b, int depth)
{
    size_t n = json_array_size(a);
    int eq = 1;

    if (n != json_array_size(b)) {
        return 0;
    }
    for (size_t i = 0; eq == 1 && i < n; i++) {
        eq = equal(json_array_get(a, i), json_array_get(b, i), depth + 1);
    }
    return eq;
}

static int objects_equal(const json_t *a, const json_t *b, int depth)
{
    int eq = 1;

    if (json_object_size(a) != json_object_size(b)) {
        return 0;
    }
    for (void *it = json_object_iter((json_t *)a); eq == 1 && it;
         it = json_object_iter_next((json_t *)a, it)) {
        const json_t *bv =
            json_object_getn(b, json_object_iter_key(it), json_object_iter_key_len(it));
        eq = bv ? equal(json_object_iter_value(it), bv, depth + 1) : 0;
    }
    return eq;
}

static int equal(const json_t *a, const json_t *b, int depth)
{
    if (depth > WEIR_EXPR_MAX_VALUE_DEPTH) {
        return too_deep();
    }
    if (a == b) {
        return 1;
    }
    if (json_is_number(a) && json_is_number(b)) {
        return numbers_equal(a, b);
    }
    if (json_typeof(a) != json_typeof(b)) {
        return 0;
    }
    switch (json_typeof(a)) {
    case JSON_STRING:
        return json_string_length(a) == json_string_length(b) &&
               !memcmp(json_string_value(a), json_string_value(b), json_string_length(a));
    case JSON_ARRAY: return arrays_equal(a, b, depth);
    case JSON_OBJECT: return objects_equal(a, b, depth);
    default: return 1;
    }
}

int weir__expr_json_equal(const json_t *a, const json_t *b)
{
    return equal(a, b, 0);
}

/* ------------------------------------------------------------------ */
/* string buffer and JSON writer                                       */

int weir__sbuf_add(struct weir_sbuf *b, const char *s, size_t n)
{
    if (n > WEIR_EXPR_MAX_STRING - b->len) {
        return weir_error_set(WEIR_EINVALID,
                              "string result longer than %u mib; work on smaller values",
                              WEIR_EXPR_MAX_STRING >> 20);
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1) {
            cap *= 2;
        }
        char *p = realloc(b->p, cap);
        if (!p) {
            return weir_error_set(WEIR_ENOMEM, "out of memory building a string");
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

static int add_str(struct weir_sbuf *b, const char *s)
{
    return weir__sbuf_add(b, s, strlen(s));
}

void weir__sbuf_free(struct weir_sbuf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

json_t *weir__sbuf_take_string(struct weir_sbuf *b)
{
    json_t *s = json_stringn_nocheck(b->p ? b->p : "", b->len);

    weir__sbuf_free(b);
    if (!s) {
        weir_error_set(WEIR_ENOMEM, "out of memory building a string");
    }
    return s;
}

/* Shortest "%g" that reads back as the same double, with ".0" added to
 * whole numbers so the text stays a real, and "e+07" shortened to "e7". */
static void format_real(double d, char *out, size_t size)
{
    char *e;

    for (int prec = 15; prec <= 17; prec++) {
        snprintf(out, size, "%.*g", prec, d);
        if (strtod(out, NULL) == d) {
            break;
        }
    }
    if (!strpbrk(out, ".eE")) {
        strncat(out, ".0", size - strlen(out) - 1);
    }
    if ((e = strchr(out, 'e')) != NULL) {
        char *digits = e + 1 + (e[1] == '-');
        char *from = e + 1 + (e[1] == '+' || e[1] == '-');
        while (*from == '0' && from[1]) {
            from++;
        }
        memmove(digits, from, strlen(from) + 1);
    }
}

static int add_quoted(struct weir_sbuf *b, const char *s, size_t n)
{
    size_t run = 0;
    char esc[8];
    int rc = weir__sbuf_add(b, "\"", 1);

    for (size_t i = 0; rc == 0 && i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') {
            continue;
        }
        rc = weir__sbuf_add(b, s + run, i - run);
        switch (c) {
        case '"': strcpy(esc, "\\\""); break;
        case '\\': strcpy(esc, "\\\\"); break;
        case '\n': strcpy(esc, "\\n"); break;
        case '\t': strcpy(esc, "\\t"); break;
        case '\r': strcpy(esc, "\\r"); break;
        case '\b': strcpy(esc, "\\b"); break;
        case '\f': strcpy(esc, "\\f"); break;
        default: snprintf(esc, sizeof(esc), "\\u%04x", c);
        }
        rc = rc ? rc : add_str(b, esc);
        run = i + 1;
    }
    rc = rc ? rc : weir__sbuf_add(b, s + run, n - run);
    return rc ? rc : weir__sbuf_add(b, "\"", 1);
}

struct kv {
    const char *key;
    size_t len;
    const json_t *value;
};

static int kv_cmp(const void *pa, const void *pb)
{
    const struct kv *a = pa, *b = pb;
    int c = memcmp(a->key, b->key, a->len < b->len ? a->len : b->len);

    return c ? c : (a->len > b->len) - (a->len < b->len);
}

static int add_json(struct weir_sbuf *b, const json_t *v, int depth);

static int add_object(struct weir_sbuf *b, const json_t *obj, int depth)
{
    size_t n = json_object_size(obj), i = 0;
    struct kv *kvs = malloc((n ? n : 1) * sizeof(*kvs));
    int rc;

    if (!kvs) {
        return weir_error_set(WEIR_ENOMEM, "out of memory writing json");
    }
    for (void *it = json_object_iter((json_t *)obj); it && i < n;
         it = json_object_iter_next((json_t *)obj, it)) {
        kvs[i++] = (struct kv){ json_object_iter_key(it), json_object_iter_key_len(it),
                                json_object_iter_value(it) };
    }
    qsort(kvs, i, sizeof(*kvs), kv_cmp);
    rc = weir__sbuf_add(b, "{", 1);
    for (size_t k = 0; rc == 0 && k < i; k++) {
        rc = k ? weir__sbuf_add(b, ",", 1) : 0;
        rc = rc ? rc : add_quoted(b, kvs[k].key, kvs[k].len);
        rc = rc ? rc : weir__sbuf_add(b, ":", 1);
        rc = rc ? rc : add_json(b, kvs[k].value, depth + 1);
    }
    free(kvs);
    return rc ? rc : weir__sbuf_add(b, "}", 1);
}

static int add_array(struct weir_sbuf *b, const json_t *arr, int depth)
{
    int rc = weir__sbuf_add(b, "[", 1);

    for (size_t i = 0; rc == 0 && i < json_array_size(arr); i++) {
        rc = i ? weir__sbuf_add(b, ",", 1) : 0;
        rc = rc ? rc : add_json(b, json_array_get(arr, i), depth + 1);
    }
    return rc ? rc : weir__sbuf_add(b, "]", 1);
}

static int add_number(struct weir_sbuf *b, const json_t *v)
{
    char num[40];

    if (json_is_integer(v)) {
        snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    }
    else {
        format_real(json_real_value(v), num, sizeof(num));
    }
    return add_str(b, num);
}

static int add_json(struct weir_sbuf *b, const json_t *v, int depth)
{
    if (depth > WEIR_EXPR_MAX_VALUE_DEPTH) {
        return too_deep();
    }
    switch (json_typeof(v)) {
    case JSON_OBJECT: return add_object(b, v, depth);
    case JSON_ARRAY: return add_array(b, v, depth);
    case JSON_STRING: return add_quoted(b, json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
    case JSON_REAL: return add_number(b, v);
    case JSON_TRUE: return add_str(b, "true");
    case JSON_FALSE: return add_str(b, "false");
    default: return add_str(b, "null");
    }
}

int weir__sbuf_add_json(struct weir_sbuf *b, const json_t *v)
{
    return add_json(b, v, 0);
}

int weir__sbuf_add_value(struct weir_sbuf *b, const json_t *v)
{
    if (json_is_string(v)) {
        return weir__sbuf_add(b, json_string_value(v), json_string_length(v));
    }
    return json_is_null(v) ? 0 : add_json(b, v, 0);
}

/* ------------------------------------------------------------------ */
/* functions                                                           */

static json_t *type_error(const char *fn, const char *want, const json_t *got)
{
    weir_error_set(WEIR_EINVALID, "%s() needs %s, got %s", fn, want, weir__expr_type_name(got));
    return NULL;
}

static json_t *fn_length(const json_t *v)
{
    size_t n = 0;

    if (json_is_string(v)) {
        const unsigned char *s = (const unsigned char *)json_string_value(v);
        for (size_t i = 0; i < json_string_length(v); i++) {
            n += (s[i] & 0xC0) != 0x80;
        }
    }
    else if (json_is_array(v)) {
        n = json_array_size(v);
    }
    else if (json_is_object(v)) {
        n = json_object_size(v);
    }
    else if (!json_is_null(v)) {
        return type_error("length", "a string, array or object", v);
    }
    return json_integer((json_int_t)n);
}

static json_t *fn_contains(const json_t *hay, const json_t *needle)
{
    if (json_is_null(hay)) {
        return json_false();
    }
    if (json_is_string(hay)) {
        if (!json_is_string(needle)) {
            return type_error("contains", "a string to look for in a string", needle);
        }
        return json_boolean(memmem(json_string_value(hay), json_string_length(hay),
                                   json_string_value(needle), json_string_length(needle)) != NULL);
    }
    if (!json_is_array(hay)) {
        return type_error("contains", "a string or an array to search", hay);
    }
    for (size_t i = 0; i < json_array_size(hay); i++) {
        int eq = weir__expr_json_equal(json_array_get(hay, i), needle);
        if (eq != 0) {
            return eq < 0 ? NULL : json_true();
        }
    }
    return json_false();
}

static json_t *fn_affix(const json_t *s, const json_t *affix, int at_end)
{
    const char *name = at_end ? "endswith" : "startswith";
    size_t n, k;

    if (json_is_null(s)) {
        return json_false();
    }
    if (!json_is_string(s) || !json_is_string(affix)) {
        return type_error(name, "two strings", json_is_string(s) ? affix : s);
    }
    n = json_string_length(s);
    k = json_string_length(affix);
    return json_boolean(k <= n && !memcmp(json_string_value(s) + (at_end ? n - k : 0),
                                          json_string_value(affix), k));
}

static int placeholder(const char *s, size_t len, size_t *i, size_t *arg)
{
    size_t j = *i + 1, v = 0;

    while (j < len && s[j] >= '0' && s[j] <= '9' && v < 100000) {
        v = v * 10 + (size_t)(s[j++] - '0');
    }
    if (j == *i + 1 || j >= len || s[j] != '}') {
        return weir_error_set(
            WEIR_EINVALID,
            "format() string has a '{' at byte %zu that does not start a placeholder such as "
            "{0}; write '{{' for a literal '{'",
            *i);
    }
    *arg = v;
    *i = j + 1;
    return 0;
}

static int format_brace(struct weir_sbuf *b, const char *s, size_t len, size_t *i,
                        json_t *const *args, size_t nargs)
{
    size_t arg = 0;

    if (*i + 1 < len && s[*i + 1] == s[*i]) {
        *i += 2;
        return weir__sbuf_add(b, s + *i - 1, 1);
    }
    if (s[*i] == '}') {
        return weir_error_set(
            WEIR_EINVALID,
            "format() string has an unmatched '}' at byte %zu; write '}}' for a literal '}'", *i);
    }
    if (placeholder(s, len, i, &arg) < 0) {
        return WEIR_EINVALID;
    }
    if (arg >= nargs) {
        return weir_error_set(WEIR_EINVALID,
                              "format() placeholder {%zu} has no value: %zu argument%s follow%s "
                              "the format string",
                              arg, nargs, nargs == 1 ? "" : "s", nargs == 1 ? "s" : "");
    }
    return weir__sbuf_add_value(b, args[arg]);
}

static json_t *fn_format(json_t *const *args, size_t nargs)
{
    struct weir_sbuf b = { 0 };
    const char *s;
    size_t len, i = 0;

    if (!json_is_string(args[0])) {
        return type_error("format", "a format string as its first argument", args[0]);
    }
    s = json_string_value(args[0]);
    len = json_string_length(args[0]);
    while (i < len) {
        size_t run = strcspn(s + i, "{}");
        run = run < len - i ? run : len - i;
        if (weir__sbuf_add(&b, s + i, run) < 0) {
            goto fail;
        }
        i += run;
        if (i < len && format_brace(&b, s, len, &i, args + 1, nargs - 1) < 0) {
            goto fail;
        }
    }
    return weir__sbuf_take_string(&b);
fail:
    weir__sbuf_free(&b);
    return NULL;
}

static json_t *fn_join(json_t *const *args, size_t nargs)
{
    struct weir_sbuf b = { 0 };
    const json_t *a = args[0], *sep = nargs > 1 ? args[1] : NULL;

    if (sep && !json_is_string(sep)) {
        return type_error("join", "a string separator", sep);
    }
    if (json_is_string(a)) {
        return json_incref((json_t *)a);
    }
    if (!json_is_array(a) && !json_is_null(a)) {
        return type_error("join", "an array", a);
    }
    for (size_t i = 0; i < json_array_size(a); i++) {
        if ((i && (sep ? weir__sbuf_add(&b, json_string_value(sep), json_string_length(sep))
                       : weir__sbuf_add(&b, ",", 1)) < 0) ||
            weir__sbuf_add_value(&b, json_array_get(a, i)) < 0) {
            weir__sbuf_free(&b);
            return NULL;
        }
    }
    return weir__sbuf_take_string(&b);
}

static json_t *fn_tojson(const json_t *v)
{
    struct weir_sbuf b = { 0 };

    if (weir__sbuf_add_json(&b, v) < 0) {
        weir__sbuf_free(&b);
        return NULL;
    }
    return weir__sbuf_take_string(&b);
}

/* Whether v nests at most max containers deep ([] is one level). */
static int depth_ok(const json_t *v, int max)
{
    if (!json_is_array(v) && !json_is_object(v)) {
        return 1;
    }
    if (max <= 0) {
        return 0;
    }
    if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (!depth_ok(json_array_get(v, i), max - 1)) {
                return 0;
            }
        }
        return 1;
    }
    for (void *it = json_object_iter((json_t *)v); it;
         it = json_object_iter_next((json_t *)v, it)) {
        if (!depth_ok(json_object_iter_value(it), max - 1)) {
            return 0;
        }
    }
    return 1;
}

static json_t *fn_fromjson(const json_t *s)
{
    json_error_t err;
    json_t *v;

    if (json_is_null(s)) {
        return json_null();
    }
    if (!json_is_string(s)) {
        return type_error("fromjson", "a string of json text", s);
    }
    v = json_loadb(json_string_value(s), json_string_length(s),
                   JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &err);
    if (!v) {
        weir_error_set(
            WEIR_EINVALID,
            "fromjson() got text that is not json (%s at byte %d); check what produced it",
            err.text, err.position);
        return NULL;
    }
    if (!depth_ok(v, WEIR_EXPR_MAX_DEPTH)) {
        json_decref(v);
        weir_error_set(WEIR_EINVALID, "fromjson() got json nested deeper than %d levels",
                       WEIR_EXPR_MAX_DEPTH);
        return NULL;
    }
    return v;
}

static json_t *fn_case(const json_t *v, int upper)
{
    size_t n = json_string_length(v);
    json_t *res;
    char *p;

    if (json_is_null(v)) {
        return json_null();
    }
    if (!json_is_string(v)) {
        return type_error(upper ? "upper" : "lower", "a string", v);
    }
    if (!(p = malloc(n + 1))) {
        weir_error_set(WEIR_ENOMEM, "out of memory building a string");
        return NULL;
    }
    memcpy(p, json_string_value(v), n);
    /* Only ASCII letters change: other scripts need locale rules. */
    for (size_t i = 0; i < n; i++) {
        if (upper && p[i] >= 'a' && p[i] <= 'z') {
            p[i] = (char)(p[i] - 'a' + 'A');
        }
        else if (!upper && p[i] >= 'A' && p[i] <= 'Z') {
            p[i] = (char)(p[i] - 'A' + 'a');
        }
    }
    res = json_stringn_nocheck(p, n);
    free(p);
    if (!res) {
        weir_error_set(WEIR_ENOMEM, "out of memory building a string");
    }
    return res;
}

static json_t *fn_keys(const json_t *obj)
{
    size_t n = json_object_size(obj), i = 0;
    struct kv *kvs;
    json_t *arr;

    if (!json_is_object(obj) && !json_is_null(obj)) {
        return type_error("keys", "an object", obj);
    }
    kvs = malloc((n ? n : 1) * sizeof(*kvs));
    arr = json_array();
    for (void *it = json_object_iter((json_t *)obj); kvs && it && i < n;
         it = json_object_iter_next((json_t *)obj, it)) {
        kvs[i++] = (struct kv){ json_object_iter_key(it), json_object_iter_key_len(it), NULL };
    }
    if (kvs) {
        qsort(kvs, i, sizeof(*kvs), kv_cmp);
    }
    for (size_t k = 0; kvs && arr && k < i; k++) {
        if (json_array_append_new(arr, json_stringn_nocheck(kvs[k].key, kvs[k].len)) < 0) {
            json_decref(arr);
            arr = NULL;
        }
    }
    if (!kvs || !arr) {
        json_decref(arr);
        arr = NULL;
        weir_error_set(WEIR_ENOMEM, "out of memory listing keys");
    }
    free(kvs);
    return arr;
}

/* default() never gets here: the evaluator runs it lazily. */
static json_t *no_function(int func)
{
    weir_error_set(WEIR_EINVALID, "function %d cannot be called with evaluated arguments", func);
    return NULL;
}

json_t *weir__expr_func_call(int func, json_t *const *args, size_t nargs)
{
    switch (func) {
    case FN_LENGTH: return fn_length(args[0]);
    case FN_CONTAINS: return fn_contains(args[0], args[1]);
    case FN_STARTSWITH: return fn_affix(args[0], args[1], 0);
    case FN_ENDSWITH: return fn_affix(args[0], args[1], 1);
    case FN_FORMAT: return fn_format(args, nargs);
    case FN_JOIN: return fn_join(args, nargs);
    case FN_TOJSON: return fn_tojson(args[0]);
    case FN_FROMJSON: return fn_fromjson(args[0]);
    case FN_LOWER: return fn_case(args[0], 0);
    case FN_UPPER: return fn_case(args[0], 1);
    case FN_KEYS: return fn_keys(args[0]);
    default: return no_function(func);
    }
}
