/*
 * fuzz_expr.c - libFuzzer target for expressions and templates. The input
 * is compiled as an expression and, if that works, evaluated against a
 * small fixed scope; it is also compiled as a template string, alone, inside
 * "${{ }}" and nested in a document, and evaluated. Besides crashes and
 * sanitizer reports it traps when an error offset points past the input.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "expr.h"

static json_t *scope;

static const char *scope_text =
    "{\"params\": {\"table\": \"db.t\", \"n\": 3, \"f\": 1.5, \"s\": \"h\\u00e9llo\", \"e\": \"\", "
    "\"z\": "
    "null,"
    "  \"t\": true, \"big\": 9223372036854775807, \"min\": -9223372036854775808,"
    "  \"list\": [1, 2.5, \"x\", null, [true]], \"obj\": {\"b\": 2, \"a\": {\"c\": [1]}},"
    "  \"json\": \"{\\\"k\\\": [1, {\\\"m\\\": null}]}\"},"
    " \"steps\": {\"a\": {\"output\": {\"x\": 42, \"rows\": [{\"id\": 1}, {\"id\": 2}]}}},"
    " \"env\": {\"HOME\": \"/home/u\"}, \"run\": {\"id\": \"r1\"}, \"item\": \"it\"}";

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    scope = json_loads(scope_text, 0, NULL);
    if (!scope) {
        abort();
    }
    return 0;
}

static int check_ref(const struct weir_expr_ref *ref, void *payload)
{
    size_t limit = *(const size_t *)payload;

    if (!ref->root || ref->offset > limit || (ref->npath && !ref->path)) {
        __builtin_trap();
    }
    for (size_t i = 0; i < ref->npath; i++) {
        if (!ref->path[i]) {
            __builtin_trap();
        }
    }
    return 0;
}

static void run_expr(const char *src, size_t size)
{
    struct weir_expr *e = NULL;
    size_t off = 0;
    json_t *v = NULL;

    if (weir_expr_compile(src, size, &e, &off) != 0) {
        if (off > size || e) {
            __builtin_trap();
        }
        return;
    }
    weir_expr_foreach_ref(e, check_ref, &size);
    if (weir_expr_eval(e, scope, &v) == 0) {
        weir_json_truthy(v);
        json_decref(v);
    }
    weir_expr_free(e);
}

static void run_tmpl(json_t *doc, size_t limit)
{
    struct weir_tmpl *t = NULL;
    struct weir_tmpl_error err;
    json_t *v = NULL;

    if (weir_tmpl_compile(doc, &t, &err) != 0) {
        if (err.offset > limit || t || !memchr(err.path, '\0', sizeof(err.path))) {
            __builtin_trap();
        }
        return;
    }
    weir_tmpl_foreach_ref(t, check_ref, &limit);
    weir_tmpl_is_constant(t);
    if (weir_tmpl_eval(t, scope, &v) == 0) {
        json_decref(v);
    }
    weir_tmpl_free(t);
}

static void run_templates(const char *src, size_t size)
{
    char *wrapped = malloc(size + 8);
    json_t *s, *w, *doc;

    if (!wrapped) {
        return;
    }
    memcpy(wrapped, "${{ ", 4);
    memcpy(wrapped + 4, src, size);
    memcpy(wrapped + 4 + size, " }}", 3);
    s = json_stringn(src, size);
    w = json_stringn(wrapped, size + 7);
    free(wrapped);
    if (s) {
        run_tmpl(s, size);
    }
    if (w) {
        run_tmpl(w, size + 7);
    }
    doc = json_pack("{s:[i, {s:O*}], s:O*, s:{}}", "a", 1, "b~/c", s, "d", w, "e");
    if (doc) {
        run_tmpl(doc, size + 7);
        json_decref(doc);
    }
    json_decref(s);
    json_decref(w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 2 * WEIR_EXPR_MAX_LEN) {
        return 0;
    }
    run_expr((const char *)data, size);
    run_templates((const char *)data, size);
    return 0;
}
