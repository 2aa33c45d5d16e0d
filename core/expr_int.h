/*
 * expr_int.h - internals shared by the expression compiler (expr.c), its
 * evaluator (expr_eval.c), its functions (expr_func.c) and templates
 * (tmpl.c). Not an API: nothing outside those files includes it.
 */
#ifndef WEIR_CORE_EXPR_INT_H
#define WEIR_CORE_EXPR_INT_H

#include <limits.h>
#include <stddef.h>

#include <jansson.h>

#include "expr.h"

/* Largest string an expression or template may build (concatenation,
 * format, join, tojson), so that a short expression over large values cannot
 * allocate without bound. */
#define WEIR_EXPR_MAX_STRING (32u << 20)

/* Deepest value that equality, contains and tojson walk; values from the
 * scope are rarely deeper than a few levels, and the walks recurse. */
#define WEIR_EXPR_MAX_VALUE_DEPTH 512

#if JSON_INTEGER_IS_LONG_LONG
#define EXPR_INT_MIN LLONG_MIN
#else
#define EXPR_INT_MIN LONG_MIN
#endif

enum expr_op {
    EOP_CONST,
    EOP_PATH,
    EOP_NOT,
    EOP_NEG,
    EOP_ADD,
    EOP_AND,
    EOP_OR,
    EOP_EQ,
    EOP_NE,
    EOP_LT,
    EOP_LE,
    EOP_GT,
    EOP_GE,
    EOP_CALL,
    EOP_ARRAY
};

enum expr_seg_kind { SEG_KEY, SEG_INDEX, SEG_EXPR };

struct expr_node;

struct expr_seg {
    enum expr_seg_kind kind;
    const char *key; /* SEG_KEY */
    size_t keylen;
    json_int_t index;       /* SEG_INDEX; negative counts from the end */
    struct expr_node *expr; /* SEG_EXPR */
};

struct expr_node {
    enum expr_op op;
    int func;            /* EOP_CALL: an enum expr_func */
    int ref;             /* EOP_PATH on a root: its index in refs, else -1 */
    const json_t *value; /* EOP_CONST: owned by the expression */
    const char *root;    /* EOP_PATH without base: the scope key */
    size_t rootlen;
    struct expr_node *base; /* EOP_PATH over a computed value */
    struct expr_seg *segs;
    size_t nsegs;
    struct expr_node **kids; /* operands, call arguments, array items */
    size_t nkids;
};

struct expr_ref {
    const char *root;
    const char **path;
    size_t npath;
    size_t offset;
};

struct expr_chunk;

struct weir_expr {
    char *src; /* NUL-terminated copy of the source */
    size_t len;
    char *shown; /* one-line, trimmed source for error messages */
    struct expr_node *root;
    json_t *consts;            /* an array owning every literal value */
    struct expr_chunk *chunks; /* arena holding nodes, names and paths */
    struct expr_ref *refs;
    size_t nrefs;
    size_t refcap;
};

/* The lexer, expr_lex.c, and the parser, expr.c, share this state. */
enum tok_kind {
    T_EOF,
    T_NUM,
    T_STR,
    T_IDENT,
    T_LPAREN,
    T_RPAREN,
    T_LBRACK,
    T_RBRACK,
    T_DOT,
    T_COMMA,
    T_NOT,
    T_MINUS,
    T_PLUS,
    T_EQ,
    T_NE,
    T_LT,
    T_LE,
    T_GT,
    T_GE,
    T_AND,
    T_OR
};

struct expr_token {
    enum tok_kind kind;
    size_t start, end;
    json_t *value; /* T_NUM, T_STR: owned by e->consts */
};

struct expr_parser {
    struct weir_expr *e;
    const char *s;
    size_t len, pos;
    struct expr_token tok;
    int depth;
    int failed;
    size_t err_offset;
};

/* Sets the first error of a compilation (later ones are consequences) and
 * returns NULL. */
void *weir__expr_fail(struct expr_parser *p, size_t offset, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void *weir__expr_fail_nomem(struct expr_parser *p);

/* Reads the next token into p->tok; 0, or -1 after weir__expr_fail. */
int weir__expr_lex(struct expr_parser *p);

/* The offset of the first NUL or invalid UTF-8 sequence, or len. */
size_t weir__expr_check_text(const unsigned char *s, size_t len);

enum expr_func {
    FN_LENGTH,
    FN_CONTAINS,
    FN_STARTSWITH,
    FN_ENDSWITH,
    FN_FORMAT,
    FN_JOIN,
    FN_TOJSON,
    FN_FROMJSON,
    FN_DEFAULT,
    FN_LOWER,
    FN_UPPER,
    FN_KEYS,
    FN_COUNT
};

struct expr_func_info {
    const char *name;
    size_t min_args;
    size_t max_args;
};

extern const struct expr_func_info weir__expr_funcs[FN_COUNT];

/* Calls a function other than default() on evaluated arguments; returns a
 * new reference, or NULL with the last error set. */
json_t *weir__expr_func_call(int func, json_t *const *args, size_t nargs);

/* Evaluates one node; a new reference, or NULL with the last error set. */
json_t *weir__expr_node_eval(const struct expr_node *n, const json_t *scope);

/* JSON equality where 1 == 1.0: 1 or 0, or -1 with the last error set
 * when the values are nested too deep. */
int weir__expr_json_equal(const json_t *a, const json_t *b);

const char *weir__expr_type_name(const json_t *v);

/* A growing byte buffer capped at WEIR_EXPR_MAX_STRING; functions return
 * 0, or WEIR_EINVALID / WEIR_ENOMEM with the last error set. */
struct weir_sbuf {
    char *p;
    size_t len;
    size_t cap;
};

int weir__sbuf_add(struct weir_sbuf *b, const char *s, size_t n);
/* Appends v as interpolation shows it: strings as-is, null as nothing,
 * anything else as compact JSON. */
int weir__sbuf_add_value(struct weir_sbuf *b, const json_t *v);
/* Appends v as compact JSON with sorted keys. */
int weir__sbuf_add_json(struct weir_sbuf *b, const json_t *v);
/* Turns the buffer into a JSON string and empties it; NULL on error. */
json_t *weir__sbuf_take_string(struct weir_sbuf *b);
void weir__sbuf_free(struct weir_sbuf *b);

#endif
