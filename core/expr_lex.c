/*
 * expr_lex.c - the lexer of `${{ ... }}` expressions: numbers, strings with
 * their escapes, names and operators, with a message for each mistake a
 * person is likely to make (such as '=' for '==').
 */
#include "expr_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

#define fail weir__expr_fail
#define fail_nomem weir__expr_fail_nomem

void *weir__expr_fail(struct expr_parser *p, size_t offset, const char *fmt, ...)
{
    va_list ap;

    if (!p->failed) {
        p->failed = 1;
        p->err_offset = offset;
        va_start(ap, fmt);
        weir_error_vset(WEIR_EINVALID, fmt, ap);
        va_end(ap);
    }
    return NULL;
}

void *weir__expr_fail_nomem(struct expr_parser *p)
{
    return fail(p, p->tok.start, "out of memory while compiling the expression");
}

static int is_ident_start(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static int is_ident_char(int c)
{
    return is_ident_start(c) || is_digit(c);
}

static int keep_const(struct expr_parser *p, json_t *v)
{
    if (!v || json_array_append_new(p->e->consts, v) < 0) {
        fail_nomem(p);
        return -1;
    }
    p->tok.value = v;
    return 0;
}

static size_t digits(const char *s, size_t i, size_t len)
{
    while (i < len && is_digit((unsigned char)s[i])) {
        i++;
    }
    return i;
}

static json_t *number_value(struct expr_parser *p, size_t start, size_t end, int is_real)
{
    const char *text = p->e->src + start;
    char *stop = NULL;

    errno = 0;
    if (!is_real) {
        long long i = strtoll(text, &stop, 10);
        if (errno == 0 && stop == p->e->src + end) {
            return json_integer((json_int_t)i);
        }
    }
    /* Integers past 64 bits fall back to a real, like most JSON readers. */
    errno = 0;
    double d = strtod(text, &stop);
    if (stop != p->e->src + end) {
        return fail(p, start, "number '%.*s' is not understood", (int)(end - start), text);
    }
    if (errno == ERANGE && (d > 1.0 || d < -1.0)) {
        return fail(p, start, "number '%.*s' is out of range",
                    (int)(end - start > 40 ? 40 : end - start), text);
    }
    return json_real(d);
}

static int lex_number(struct expr_parser *p)
{
    const char *s = p->s;
    size_t i = digits(s, p->pos, p->len);
    int is_real = 0;

    if (i < p->len && s[i] == '.') {
        if (i + 1 >= p->len || !is_digit((unsigned char)s[i + 1])) {
            fail(p, i, "expected a digit after '.' in a number; write 1.0, not 1.");
            return -1;
        }
        i = digits(s, i + 1, p->len);
        is_real = 1;
    }
    if (i < p->len && (s[i] == 'e' || s[i] == 'E')) {
        size_t j = i + 1;
        if (j < p->len && (s[j] == '+' || s[j] == '-')) {
            j++;
        }
        if (j >= p->len || !is_digit((unsigned char)s[j])) {
            fail(p, i, "expected digits in the exponent of a number, as in 1e3");
            return -1;
        }
        i = digits(s, j, p->len);
        is_real = 1;
    }
    if (i < p->len && is_ident_char((unsigned char)s[i])) {
        fail(p, p->tok.start, "number followed by '%c'; separate it with an operator", s[i]);
        return -1;
    }
    p->tok.kind = T_NUM;
    p->pos = i;
    json_t *v = number_value(p, p->tok.start, i, is_real);
    return v ? keep_const(p, v) : -1;
}

static int hex4(const char *s, size_t i, size_t len, unsigned *out)
{
    unsigned v = 0;

    if (len - i < 4) {
        return -1;
    }
    for (size_t k = i; k < i + 4; k++) {
        int c = (unsigned char)s[k];
        int d = is_digit(c)              ? c - '0'
                : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                         : -1;
        if (d < 0) {
            return -1;
        }
        v = v * 16 + (unsigned)d;
    }
    *out = v;
    return 0;
}

static size_t put_utf8(char *out, unsigned cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Decodes \uXXXX (and a following low surrogate) at s[*i] == 'u'. */
static int unicode_escape(struct expr_parser *p, size_t *i, char *out, size_t *n)
{
    size_t at = *i - 1;
    unsigned cp, lo;

    if (hex4(p->s, *i + 1, p->len, &cp) < 0) {
        fail(p, at, "'\\u' must be followed by 4 hex digits, as in \\u00e9");
        return -1;
    }
    *i += 5;
    if (cp >= 0xDC00 && cp <= 0xDFFF) {
        fail(p, at, "lone low surrogate \\u%04x in string; write the character itself", cp);
        return -1;
    }
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (*i + 1 >= p->len || p->s[*i] != '\\' || p->s[*i + 1] != 'u' ||
            hex4(p->s, *i + 2, p->len, &lo) < 0 || lo < 0xDC00 || lo > 0xDFFF) {
            fail(p, at,
                 "high surrogate \\u%04x must be followed by a low surrogate \\udc00-\\udfff", cp);
            return -1;
        }
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        *i += 6;
    }
    if (cp == 0) {
        fail(p, at, "\\u0000 is not allowed in strings");
        return -1;
    }
    *n += put_utf8(out + *n, cp);
    return 0;
}

static int simple_escape(int c)
{
    switch (c) {
    case 'n': return '\n';
    case 't': return '\t';
    case 'r': return '\r';
    case '\\': return '\\';
    case '\'': return '\'';
    case '"': return '"';
    default: return -1;
    }
}

static int decode_string(struct expr_parser *p, char *out, size_t *n)
{
    char quote = p->s[p->pos];
    size_t i = p->pos + 1;

    while (i < p->len && p->s[i] != quote) {
        if (p->s[i] != '\\') {
            out[(*n)++] = p->s[i++];
            continue;
        }
        if (i + 1 >= p->len) {
            i = p->len;
            break;
        }
        if (p->s[i + 1] == 'u') {
            i++;
            if (unicode_escape(p, &i, out, n) < 0) {
                return -1;
            }
            continue;
        }
        int c = simple_escape((unsigned char)p->s[i + 1]);
        if (c < 0) {
            fail(p, i,
                 "unknown escape '\\%c' in string; use \\n, \\t, \\r, \\\\, \\', \\\" or \\uXXXX",
                 p->s[i + 1]);
            return -1;
        }
        out[(*n)++] = (char)c;
        i += 2;
    }
    if (i >= p->len) {
        fail(p, p->pos, "unterminated string; close it with %c", quote);
        return -1;
    }
    p->pos = i + 1;
    return 0;
}

static int lex_string(struct expr_parser *p)
{
    /* Escapes only shrink, so the raw length bounds the decoded one. */
    char *buf = malloc(p->len - p->pos + 1);
    size_t n = 0;
    int rc = -1;

    if (!buf) {
        fail_nomem(p);
        return -1;
    }
    if (decode_string(p, buf, &n) < 0) {
        goto done;
    }
    p->tok.kind = T_STR;
    rc = keep_const(p, json_stringn(buf, n));
done:
    free(buf);
    return rc;
}

static enum tok_kind two_char(const char *s, size_t left)
{
    static const struct {
        char a, b;
        enum tok_kind kind;
    } ops[] = {
        { '=', '=', T_EQ }, { '!', '=', T_NE },  { '<', '=', T_LE },
        { '>', '=', T_GE }, { '&', '&', T_AND }, { '|', '|', T_OR },
    };

    if (left < 2) {
        return T_EOF;
    }
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        if (s[0] == ops[i].a && s[1] == ops[i].b) {
            return ops[i].kind;
        }
    }
    return T_EOF;
}

static enum tok_kind one_char(int c)
{
    switch (c) {
    case '(': return T_LPAREN;
    case ')': return T_RPAREN;
    case '[': return T_LBRACK;
    case ']': return T_RBRACK;
    case '.': return T_DOT;
    case ',': return T_COMMA;
    case '!': return T_NOT;
    case '-': return T_MINUS;
    case '+': return T_PLUS;
    case '<': return T_LT;
    case '>': return T_GT;
    default: return T_EOF;
    }
}

static int bad_char(struct expr_parser *p, int c)
{
    size_t at = p->pos;

    switch (c) {
    case '=': fail(p, at, "'=' is not an operator; use '==' to compare"); break;
    case '&': fail(p, at, "'&' is not an operator; use '&&'"); break;
    case '|': fail(p, at, "'|' is not an operator; use '||'"); break;
    case '*':
    case '/':
    case '%':
        fail(p, at,
             "'%c' is not an operator; the only arithmetic is '+' (do the rest in a lua step)", c);
        break;
    case '{':
    case '}':
        fail(p, at, "unexpected '%c'; there are no object literals (use fromjson('{...}'))", c);
        break;
    default:
        if (c >= 0x21 && c < 0x7F) {
            fail(p, at, "unexpected character '%c'", c);
        }
        else {
            fail(p, at, "unexpected byte 0x%02x outside a string", (unsigned)c);
        }
    }
    return -1;
}

int weir__expr_lex(struct expr_parser *p)
{
    const char *s = p->s;
    enum tok_kind k;

    while (p->pos < p->len &&
           (s[p->pos] == ' ' || s[p->pos] == '\t' || s[p->pos] == '\n' || s[p->pos] == '\r')) {
        p->pos++;
    }
    p->tok.start = p->pos;
    p->tok.value = NULL;
    if (p->pos >= p->len) {
        p->tok.kind = T_EOF;
        p->tok.end = p->pos;
        return 0;
    }
    int c = (unsigned char)s[p->pos];
    int rc = 0;
    if (is_digit(c)) {
        rc = lex_number(p);
    }
    else if (c == '\'' || c == '"') {
        rc = lex_string(p);
    }
    else if (is_ident_start(c)) {
        while (p->pos < p->len && is_ident_char((unsigned char)s[p->pos])) {
            p->pos++;
        }
        p->tok.kind = T_IDENT;
    }
    else if ((k = two_char(s + p->pos, p->len - p->pos)) != T_EOF) {
        p->tok.kind = k;
        p->pos += 2;
    }
    else if ((k = one_char(c)) != T_EOF) {
        p->tok.kind = k;
        p->pos++;
    }
    else {
        rc = bad_char(p, c);
    }
    p->tok.end = p->pos;
    return rc;
}

size_t weir__expr_check_text(const unsigned char *s, size_t len)
{
    size_t i = 0;

    while (i < len) {
        unsigned c = s[i];
        size_t n = c < 0x80             ? 1
                   : (c & 0xE0) == 0xC0 ? 2
                   : (c & 0xF0) == 0xE0 ? 3
                   : (c & 0xF8) == 0xF0 ? 4
                                        : 0;
        unsigned cp;
        if (c == 0 || n == 0 || c == 0xC0 || c == 0xC1 || len - i < n) {
            return i;
        }
        cp = n == 1 ? c : n == 2 ? c & 0x1F : n == 3 ? c & 0x0F : c & 0x07;
        for (size_t k = 1; k < n; k++) {
            if ((s[i + k] & 0xC0) != 0x80) {
                return i;
            }
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF)) {
            return i;
        }
        i += n;
    }
    return len;
}
