/*
 * pytok.h - a Python tokenizer for job summaries: names, numbers, strings
 * (every prefix, triple quotes, f-strings kept whole), operators, logical
 * NEWLINE, INDENT and DEDENT. Comments and line continuations are dropped.
 * It accepts any bytes: what is not Python becomes OP or ERROR tokens, and
 * time and memory are linear in the input.
 */
#ifndef WEIR_IMPACT_PYTOK_H
#define WEIR_IMPACT_PYTOK_H

#include <stddef.h>
#include <stdint.h>

enum pytok_kind {
    PYTOK_NAME,
    PYTOK_NUMBER,
    PYTOK_STRING,
    PYTOK_OP,
    PYTOK_NEWLINE,
    PYTOK_INDENT,
    PYTOK_DEDENT,
    PYTOK_ERROR, /* a byte that starts no token */
    PYTOK_END
};

struct pytok_token {
    enum pytok_kind kind;
    uint32_t off, len; /* bytes of the source */
    int line;          /* 1-based line of the first byte */
};

struct pytok {
    struct pytok_token *v;
    size_t n, cap;
};

/* Tokenizes src[0..len) (len <= 8 MiB). WEIR_OK, WEIR_ETOOBIG or WEIR_ENOMEM;
 * on success the last token is PYTOK_END and INDENT/DEDENT balance. */
int pytok_run(const char *src, size_t len, struct pytok *out);
void pytok_free(struct pytok *t);

/* For a STRING token: its prefix letters, lower-cased, into flags. */
#define PYTOK_STR_RAW 1
#define PYTOK_STR_BYTES 2
#define PYTOK_STR_F 4
/* The string's body (between the quotes) as a pointer into src and a length,
 * and its prefix flags. An unterminated string runs to the end of its line
 * (or of the input for triple quotes). */
const char *pytok_string_body(const char *src, const struct pytok_token *t, size_t *len,
                              int *flags);

/* Nesting bound of brackets counted by the tokenizer and of indentation. */
#define PYTOK_MAX_INDENT 100

#endif
