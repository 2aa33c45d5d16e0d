/*
 * pytok.c - the Python tokenizer (see pytok.h). One pass, no backtracking
 * beyond a string prefix, so every byte is looked at a bounded number of
 * times.
 */
#include <string.h>

#include "impact.h"
#include "pytok.h"

#define MAX_SRC (8u << 20)

struct lexer {
    const char *s;
    size_t n, i;
    int line;
    int depth; /* open brackets: newlines inside do not end a statement */
    int indent[PYTOK_MAX_INDENT + 1];
    int nindent;
    struct pytok *out;
};

static int emit(struct lexer *lx, enum pytok_kind kind, size_t off, size_t len, int line)
{
    struct pytok *t = lx->out;

    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 256;
        struct pytok_token *v = impact_host->realloc(t->v, cap * sizeof(*v));

        if (!v) {
            return WEIR_ENOMEM;
        }
        t->v = v;
        t->cap = cap;
    }
    t->v[t->n].kind = kind;
    t->v[t->n].off = (uint32_t)off;
    t->v[t->n].len = (uint32_t)len;
    t->v[t->n].line = line;
    t->n++;
    return WEIR_OK;
}

static int is_name_start(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

static int is_name_char(unsigned char c)
{
    return is_name_start(c) || (c >= '0' && c <= '9');
}

/* Length of a string prefix (r, b, u, f, rb, br, fr, rf in any case) at i
 * when a quote follows it, else -1. */
static int string_prefix(const struct lexer *lx, size_t i)
{
    size_t k = 0;

    while (k < 2 && i + k < lx->n && strchr("rRbBuUfF", lx->s[i + k]) && lx->s[i + k]) {
        k++;
    }
    for (size_t p = 0; p <= k; p++) {
        if (i + p < lx->n && (lx->s[i + p] == '\'' || lx->s[i + p] == '"')) {
            return (int)p;
        }
        if (p < k && !strchr("rRbBuUfF", lx->s[i + p])) {
            break;
        }
    }
    return -1;
}

static int lex_string(struct lexer *lx, size_t start, int prefix)
{
    size_t i = start + (size_t)prefix;
    char q = lx->s[i];
    int triple = i + 2 < lx->n && lx->s[i + 1] == q && lx->s[i + 2] == q;
    int line = lx->line;

    i += triple ? 3 : 1;
    while (i < lx->n) {
        char c = lx->s[i];

        if (c == '\\' && i + 1 < lx->n) {
            if (lx->s[i + 1] == '\n') {
                lx->line++;
            }
            i += 2;
            continue;
        }
        if (c == '\n') {
            if (!triple) {
                break; /* unterminated: ends with its line */
            }
            lx->line++;
        }
        else if (c == q && (!triple || (i + 2 < lx->n && lx->s[i + 1] == q && lx->s[i + 2] == q))) {
            i += triple ? 3 : 1;
            break;
        }
        i++;
    }
    lx->i = i;
    return emit(lx, PYTOK_STRING, start, i - start, line);
}

static int lex_number(struct lexer *lx)
{
    size_t i = lx->i;

    while (i < lx->n) {
        char c = lx->s[i];

        if (is_name_char((unsigned char)c) || c == '.') {
            i++;
        }
        else if ((c == '+' || c == '-') && (lx->s[i - 1] == 'e' || lx->s[i - 1] == 'E')) {
            i++;
        }
        else {
            break;
        }
    }
    size_t start = lx->i;
    lx->i = i;
    return emit(lx, PYTOK_NUMBER, start, i - start, lx->line);
}

static int lex_op(struct lexer *lx)
{
    static const char *const ops3[] = { "**=", "//=", ">>=", "<<=", "...", "!=" };
    static const char *const ops2[] = { "==", "!=", "<=", ">=", "**", "//", "->", "+=", "-=", "*=",
                                        "/=", "%=", "&=", "|=", "^=", ":=", "<<", ">>", "@=" };
    size_t rest = lx->n - lx->i, len = 1;
    const char *p = lx->s + lx->i;

    for (size_t k = 0; k < sizeof(ops3) / sizeof(ops3[0]) && len == 1; k++) {
        if (rest >= 3 && strlen(ops3[k]) == 3 && memcmp(p, ops3[k], 3) == 0) {
            len = 3;
        }
    }
    for (size_t k = 0; k < sizeof(ops2) / sizeof(ops2[0]) && len == 1; k++) {
        if (rest >= 2 && memcmp(p, ops2[k], 2) == 0) {
            len = 2;
        }
    }
    if (len == 1) {
        if (strchr("([{", *p) && *p) {
            lx->depth++;
        }
        else if (strchr(")]}", *p) && *p && lx->depth > 0) {
            lx->depth--;
        }
    }
    lx->i += len;
    if (len == 1 && !strchr("()[]{}+-*/%@&|^~<>=.,:;!", *p)) {
        return emit(lx, PYTOK_ERROR, lx->i - 1, 1, lx->line);
    }
    return emit(lx, PYTOK_OP, lx->i - len, len, lx->line);
}

/* At the start of a logical line: measures indentation and emits INDENT /
 * DEDENT. Blank and comment-only lines are skipped. */
static int lex_indent(struct lexer *lx)
{
    for (;;) {
        int col = 0;
        size_t i = lx->i;

        while (i < lx->n && (lx->s[i] == ' ' || lx->s[i] == '\t' || lx->s[i] == '\f')) {
            col = lx->s[i] == '\t' ? (col / 8 + 1) * 8 : col + 1;
            i++;
        }
        lx->i = i;
        if (i < lx->n && (lx->s[i] == '\n' || lx->s[i] == '\r' || lx->s[i] == '#')) {
            while (lx->i < lx->n && lx->s[lx->i] != '\n') {
                lx->i++;
            }
            if (lx->i < lx->n) {
                lx->i++;
                lx->line++;
                continue;
            }
        }
        if (lx->i >= lx->n) {
            return WEIR_OK;
        }
        if (col > lx->indent[lx->nindent] && lx->nindent < PYTOK_MAX_INDENT) {
            lx->indent[++lx->nindent] = col;
            return emit(lx, PYTOK_INDENT, i, 0, lx->line);
        }
        while (lx->nindent > 0 && col < lx->indent[lx->nindent]) {
            int rc;

            lx->nindent--;
            if ((rc = emit(lx, PYTOK_DEDENT, i, 0, lx->line)) < 0) {
                return rc;
            }
        }
        return WEIR_OK;
    }
}

static int lex_one(struct lexer *lx, int *bol)
{
    unsigned char c = (unsigned char)lx->s[lx->i];
    int p;

    if (c == '\n') {
        lx->i++;
        if (lx->depth == 0) {
            *bol = 1;
            int rc = emit(lx, PYTOK_NEWLINE, lx->i - 1, 1, lx->line);
            lx->line++;
            return rc;
        }
        lx->line++;
        return WEIR_OK;
    }
    if (c == ' ' || c == '\t' || c == '\r' || c == '\f') {
        lx->i++;
        return WEIR_OK;
    }
    if (c == '#') {
        while (lx->i < lx->n && lx->s[lx->i] != '\n') {
            lx->i++;
        }
        return WEIR_OK;
    }
    if (c == '\\' && lx->i + 1 < lx->n && (lx->s[lx->i + 1] == '\n' || lx->s[lx->i + 1] == '\r')) {
        lx->i += lx->s[lx->i + 1] == '\r' && lx->i + 2 < lx->n && lx->s[lx->i + 2] == '\n' ? 3 : 2;
        lx->line++;
        return WEIR_OK;
    }
    if ((p = string_prefix(lx, lx->i)) >= 0) {
        return lex_string(lx, lx->i, p);
    }
    if (is_name_start(c)) {
        size_t start = lx->i;

        while (lx->i < lx->n && is_name_char((unsigned char)lx->s[lx->i])) {
            lx->i++;
        }
        return emit(lx, PYTOK_NAME, start, lx->i - start, lx->line);
    }
    if ((c >= '0' && c <= '9') ||
        (c == '.' && lx->i + 1 < lx->n && lx->s[lx->i + 1] >= '0' && lx->s[lx->i + 1] <= '9')) {
        return lex_number(lx);
    }
    return lex_op(lx);
}

int pytok_run(const char *src, size_t len, struct pytok *out)
{
    struct lexer lx;
    int bol = 1, rc = WEIR_OK;

    memset(out, 0, sizeof(*out));
    if (len > MAX_SRC) {
        return WEIR_ETOOBIG;
    }
    memset(&lx, 0, sizeof(lx));
    lx.s = src;
    lx.n = len;
    lx.line = 1;
    lx.out = out;
    while (rc == WEIR_OK) {
        if (bol && lx.depth == 0) {
            bol = 0;
            if ((rc = lex_indent(&lx)) < 0) {
                break;
            }
        }
        if (lx.i >= lx.n) {
            break;
        }
        rc = lex_one(&lx, &bol);
    }
    if (rc == WEIR_OK && out->n && out->v[out->n - 1].kind != PYTOK_NEWLINE) {
        rc = emit(&lx, PYTOK_NEWLINE, len, 0, lx.line);
    }
    while (rc == WEIR_OK && lx.nindent > 0) {
        lx.nindent--;
        rc = emit(&lx, PYTOK_DEDENT, len, 0, lx.line);
    }
    if (rc == WEIR_OK) {
        rc = emit(&lx, PYTOK_END, len, 0, lx.line);
    }
    if (rc < 0) {
        pytok_free(out);
    }
    return rc;
}

void pytok_free(struct pytok *t)
{
    impact_host->free(t->v);
    memset(t, 0, sizeof(*t));
}

const char *pytok_string_body(const char *src, const struct pytok_token *t, size_t *len, int *flags)
{
    const char *s = src + t->off, *end = s + t->len;
    int f = 0;
    size_t q;

    while (s < end && *s != '\'' && *s != '"') {
        char c = (char)(*s | 0x20);

        f |= c == 'r' ? PYTOK_STR_RAW : c == 'b' ? PYTOK_STR_BYTES : c == 'f' ? PYTOK_STR_F : 0;
        s++;
    }
    *flags = f;
    if (s >= end) {
        *len = 0;
        return s;
    }
    q = (end - s >= 6 && s[1] == s[0] && s[2] == s[0]) ? 3 : 1;
    s += q;
    if ((size_t)(end - s) >= q && end[-1] == s[-1] &&
        (q == 1 || (end[-2] == s[-1] && end[-3] == s[-1]))) {
        end -= q;
    }
    *len = end > s ? (size_t)(end - s) : 0;
    return s;
}
