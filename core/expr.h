/*
 * expr.h - the `${{ ... }}` expression language and string templates.
 *
 * Grammar (lowest precedence first):
 *   expr    := or
 *   or      := and ( '||' and )*
 *   and     := cmp ( '&&' cmp )*
 *   cmp     := add ( ( '==' | '!=' | '<' | '<=' | '>' | '>=' ) add )?
 *   add     := unary ( '+' unary )*       numbers add; if either side is a string, concatenates
 *   unary   := '!' unary | '-' unary | postfix
 *   postfix := primary ( '.' IDENT | '[' expr ']' )*
 *   primary := NUMBER | STRING ('...' or "...", backslash escapes) | true | false | null
 *            | IDENT                       a root of the scope (params, steps, env, run, item, ...)
 *            | IDENT '(' [ expr (',' expr)* ] ')'   a function call
 *            | '(' expr ')' | '[' [expr (',' expr)*] ']'
 *
 * Semantics (GitHub-Actions-like, so data engineers find few surprises):
 *   - a path into a missing key, an out-of-range index, or through a non-container
 *     yields null, never an error; negative indexes count from the end;
 *   - falsy: false, null, 0, 0.0, "" ; everything else (including [] and {}) is truthy;
 *   - '&&' / '||' short-circuit and yield one of their operands (like JS);
 *     '!' yields a boolean;
 *   - '==' is JSON equality (1 == 1.0, objects compare by content); '<' etc. compare
 *     numbers numerically and strings bytewise; other combinations are an error;
 *   - errors at evaluation (bad comparison, bad argument type) are errors, reported
 *     with the expression text.
 * Functions: length(x) (string: UTF-8 code points; array/object: size), contains(hay,
 *   needle) (substring, or array element equality), startswith(s, p), endswith(s, p),
 *   format(fmt, args...) ('{0}' placeholders, '{{' '}}' escapes), join(array, sep),
 *   tojson(x) (compact, sorted keys), fromjson(s), default(x, fallback) (fallback when x
 *   is null or ""), lower(s), upper(s), keys(obj) (sorted), not more. Unknown function
 *   names and wrong argument counts are compile errors.
 */
#ifndef WEIR_CORE_EXPR_H
#define WEIR_CORE_EXPR_H

#include <stddef.h>

#include <jansson.h>

/* Bounds so that no input can exhaust the stack or memory. */
#define WEIR_EXPR_MAX_LEN 8192
#define WEIR_EXPR_MAX_DEPTH 64

struct weir_expr; /* a compiled expression */

/* Compiles src (len bytes, the text between "${{" and "}}"). On error returns
 * WEIR_EINVALID, sets the last error to a message without position, and sets
 * *err_offset to the byte offset in src where the problem is. */
int weir_expr_compile(const char *src, size_t len, struct weir_expr **out, size_t *err_offset);

/* Evaluates against scope (an object whose keys are the roots). *out is a new
 * reference. Errors: WEIR_EINVALID with the last error set. */
int weir_expr_eval(const struct weir_expr *e, const json_t *scope, json_t **out);

void weir_expr_free(struct weir_expr *e);

/* A reference to the scope found in an expression, for checks before a run:
 * the root identifier and the constant path after it (".a" and "['a']" and
 * "[0]" segments; stops at the first computed index). */
struct weir_expr_ref {
    const char *root;          /* borrowed from the expression */
    const char *const *path;   /* npath segments; numbers as decimal text */
    size_t npath;
    size_t offset;             /* byte offset of the root in the source */
};

/* Calls cb for every root reference, in source order; stops and returns cb's
 * value when it is non-zero. */
typedef int (*weir_expr_ref_cb)(const struct weir_expr_ref *ref, void *payload);
int weir_expr_foreach_ref(const struct weir_expr *e, weir_expr_ref_cb cb, void *payload);

/* -------- templates: JSON values with ${{ }} inside strings -------- */

struct weir_tmpl; /* a compiled template of any JSON value */

/* Compiles every string inside value (recursively through arrays and objects;
 * keys are not templated). A string that is exactly "${{ e }}" (whitespace
 * inside the braces allowed, nothing outside) evaluates to e's JSON value; a
 * string with text around or several expressions evaluates to a string where
 * each value is inserted (strings as-is, null as "", others as compact JSON).
 * "$${{" is a literal "${{". An unterminated "${{" is an error.
 * On error returns WEIR_EINVALID, sets the last error, and fills *err: the
 * JSON pointer (RFC 6901, e.g. "/a/0/b"; "" for the root) of the offending
 * string and the byte offset of the problem within that string. */
struct weir_tmpl_error {
    char path[256];
    size_t offset;
};
int weir_tmpl_compile(const json_t *value, struct weir_tmpl **out, struct weir_tmpl_error *err);

/* Non-zero when the template has no expression at all (evaluation returns a
 * copy of the value). */
int weir_tmpl_is_constant(const struct weir_tmpl *t);

/* Evaluates to a new JSON value. */
int weir_tmpl_eval(const struct weir_tmpl *t, const json_t *scope, json_t **out);

/* Calls cb for every reference of every expression in the template. */
int weir_tmpl_foreach_ref(const struct weir_tmpl *t, weir_expr_ref_cb cb, void *payload);

void weir_tmpl_free(struct weir_tmpl *t);

/* Truthiness as defined above. */
int weir_json_truthy(const json_t *v);

#endif
