/*
 * shapes.c - value shapes and type parsers. Hand-written scanners rather
 * than a regex library: they run on every non-null field of a profile, and
 * most values are rejected at the first or second byte.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "shapes.h"

const char *const lake_shape_names[LAKE_SHAPE_COUNT] = {
    "email", "uuid", "date", "timestamp", "integer", "decimal",
};

/* Character classes, one table lookup per byte instead of range tests. */
enum { C_DIGIT = 1, C_HEX = 2, C_ALPHA = 4, C_LOCAL = 8 };

static const unsigned char cls[256] = {
#define D (C_DIGIT | C_HEX | C_LOCAL)
#define H (C_HEX | C_ALPHA | C_LOCAL)
#define A (C_ALPHA | C_LOCAL)
#define L C_LOCAL
    ['0'] = D, ['1'] = D, ['2'] = D, ['3'] = D, ['4'] = D, ['5'] = D, ['6'] = D, ['7'] = D,
    ['8'] = D, ['9'] = D,
    ['a'] = H, ['b'] = H, ['c'] = H, ['d'] = H, ['e'] = H, ['f'] = H,
    ['A'] = H, ['B'] = H, ['C'] = H, ['D'] = H, ['E'] = H, ['F'] = H,
    ['g'] = A, ['h'] = A, ['i'] = A, ['j'] = A, ['k'] = A, ['l'] = A, ['m'] = A, ['n'] = A,
    ['o'] = A, ['p'] = A, ['q'] = A, ['r'] = A, ['s'] = A, ['t'] = A, ['u'] = A, ['v'] = A,
    ['w'] = A, ['x'] = A, ['y'] = A, ['z'] = A,
    ['G'] = A, ['H'] = A, ['I'] = A, ['J'] = A, ['K'] = A, ['L'] = A, ['M'] = A, ['N'] = A,
    ['O'] = A, ['P'] = A, ['Q'] = A, ['R'] = A, ['S'] = A, ['T'] = A, ['U'] = A, ['V'] = A,
    ['W'] = A, ['X'] = A, ['Y'] = A, ['Z'] = A,
    /* the other characters of an email's local part (RFC 5322 atext and '.') */
    ['.'] = L, ['!'] = L, ['#'] = L, ['$'] = L, ['%'] = L, ['&'] = L, ['\''] = L, ['*'] = L,
    ['+'] = L, ['/'] = L, ['='] = L, ['?'] = L, ['^'] = L, ['_'] = L, ['`'] = L, ['{'] = L,
    ['|'] = L, ['}'] = L, ['~'] = L, ['-'] = L,
#undef D
#undef H
#undef A
#undef L
};

static inline int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static inline int is_hex(char c)
{
    return cls[(unsigned char)c] & C_HEX;
}

static inline int is_alnum(char c)
{
    return cls[(unsigned char)c] & (C_DIGIT | C_ALPHA);
}

/* n digits at s as a number, or -1. */
static int digits(const char *s, int n)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        if (!is_digit(s[i])) {
            return -1;
        }
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static inline int email_local_char(char c)
{
    return cls[(unsigned char)c] & C_LOCAL;
}

/* The email check given the first '@' (or NULL). */
static int email_at(const char *s, size_t len, const char *at)
{
    size_t local, i, label = 0, labels = 0, alpha_tld = 1;

    if (!at || len > 254) {
        return 0;
    }
    local = (size_t)(at - s);
    if (local == 0 || local > 64 || s[0] == '.' || s[local - 1] == '.') {
        return 0;
    }
    for (i = 0; i < local; i++) {
        if (!email_local_char(s[i]) || (s[i] == '.' && s[i + 1] == '.')) {
            return 0;
        }
    }
    /* Domain: dot-separated labels of [A-Za-z0-9-], no edge hyphens, at
     * least two labels, a top-level label of two or more letters. */
    for (i = local + 1; i <= len; i++) {
        char c = i < len ? s[i] : '.';

        if (c == '.') {
            if (label == 0 || s[i - 1] == '-') {
                return 0;
            }
            labels++;
            if (i == len && (label < 2 || !alpha_tld)) {
                return 0;
            }
            label = 0;
            alpha_tld = 1;
        }
        else if (is_alnum(c) || c == '-') {
            if (label == 0 && c == '-') {
                return 0;
            }
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) {
                alpha_tld = 0;
            }
            label++;
        }
        else {
            return 0;
        }
    }
    return labels >= 2;
}

int lake_shape_email(const char *s, size_t len)
{
    return email_at(s, len, memchr(s, '@', len));
}

int lake_shape_uuid(const char *s, size_t len)
{
    unsigned all = C_HEX;

    if (len != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-') {
        return 0;
    }
    /* No early exit: 32 lookups and ANDs beat 32 unpredictable branches. */
    for (size_t i = 0; i < 8; i++) {
        all &= cls[(unsigned char)s[i]];
    }
    for (size_t i = 9; i < 13; i++) {
        all &= cls[(unsigned char)s[i]];
    }
    for (size_t i = 14; i < 18; i++) {
        all &= cls[(unsigned char)s[i]];
    }
    for (size_t i = 19; i < 23; i++) {
        all &= cls[(unsigned char)s[i]];
    }
    for (size_t i = 24; i < 36; i++) {
        all &= cls[(unsigned char)s[i]];
    }
    return all != 0;
}

static int date10(const char *s)
{
    static const int mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int y = digits(s, 4), m, d;

    if (y < 0 || s[4] != '-' || s[7] != '-' || (m = digits(s + 5, 2)) < 1 || m > 12 ||
        (d = digits(s + 8, 2)) < 1 || d > mdays[m - 1]) {
        return 0;
    }
    if (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) {
        return 0;
    }
    return 1;
}

int lake_shape_date(const char *s, size_t len)
{
    return len == 10 && date10(s);
}

/* Z, +HH, +HHMM or +HH:MM at s (n bytes); 1 if the whole rest is a zone. */
static int zone(const char *s, size_t n)
{
    if (n == 0 || (n == 1 && s[0] == 'Z')) {
        return 1;
    }
    if (s[0] != '+' && s[0] != '-') {
        return 0;
    }
    if (n == 3) {
        return digits(s + 1, 2) >= 0;
    }
    if (n == 5) {
        return digits(s + 1, 4) >= 0;
    }
    return n == 6 && digits(s + 1, 2) >= 0 && s[3] == ':' && digits(s + 4, 2) >= 0;
}

int lake_shape_timestamp(const char *s, size_t len)
{
    size_t i = 16;
    int hh, mi;

    if (len < 16 || !date10(s) || (s[10] != 'T' && s[10] != ' ') || (hh = digits(s + 11, 2)) < 0 ||
        hh > 23 || s[13] != ':' || (mi = digits(s + 14, 2)) < 0 || mi > 59) {
        return 0;
    }
    if (i < len && s[i] == ':') {
        int ss = len >= 19 ? digits(s + 17, 2) : -1;

        if (ss < 0 || ss > 60) {
            return 0;
        }
        i = 19;
        if (i < len && s[i] == '.') {
            size_t f = ++i;

            while (i < len && is_digit(s[i])) {
                i++;
            }
            if (i == f) {
                return 0;
            }
        }
    }
    return zone(s + i, len - i);
}

/* [+-]? digits with at most one dot, over the whole string: the shape bit of
 * an integer or a decimal, or 0. One scan serves both shapes. */
static unsigned number_shape(const char *s, size_t len)
{
    size_t i = len && (s[0] == '+' || s[0] == '-') ? 1 : 0, ndig = 0;
    int dot = 0;

    for (; i < len; i++) {
        if (is_digit(s[i])) {
            ndig++;
        }
        else if (s[i] == '.' && !dot) {
            dot = 1;
        }
        else {
            return 0;
        }
    }
    if (ndig == 0) {
        return 0;
    }
    return 1u << (dot ? LAKE_SHAPE_DECIMAL : LAKE_SHAPE_INTEGER);
}

int lake_shape_integer(const char *s, size_t len)
{
    return number_shape(s, len) == 1u << LAKE_SHAPE_INTEGER;
}

int lake_shape_decimal(const char *s, size_t len)
{
    return number_shape(s, len) == 1u << LAKE_SHAPE_DECIMAL;
}

unsigned lake_shapes_match(const char *s, size_t len)
{
    unsigned m = 0;

    if (len == 0) {
        return 0;
    }
    if (is_digit(s[0]) || s[0] == '+' || s[0] == '-' || s[0] == '.') {
        unsigned num = number_shape(s, len);

        if (num) {
            /* a date or timestamp always has a '-' past its first digit */
            return num;
        }
        m |= lake_shape_date(s, len) ? 1u << LAKE_SHAPE_DATE : 0;
        m |= lake_shape_timestamp(s, len) ? 1u << LAKE_SHAPE_TIMESTAMP : 0;
    }
    if (len == 36 && is_hex(s[0])) {
        m |= lake_shape_uuid(s, len) ? 1u << LAKE_SHAPE_UUID : 0;
    }
    /* A uuid, date or timestamp has no '@'; an email's '@' is within its
     * first 65 bytes (a local part has at most 64). */
    if (len >= 5 && !m) {
        const char *at = memchr(s, '@', len < 65 ? len : 65);

        if (at && email_at(s, len, at)) {
            m |= 1u << LAKE_SHAPE_EMAIL;
        }
    }
    return m;
}

int lake_parse_int(const char *s, size_t len, int64_t *out)
{
    size_t i = 0;
    int neg = 0;
    uint64_t v = 0;

    if (len && (s[0] == '+' || s[0] == '-')) {
        neg = s[0] == '-';
        i = 1;
    }
    if (i == len || len - i > 19) {
        return 0;
    }
    for (; i < len; i++) {
        if (!is_digit(s[i])) {
            return 0;
        }
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v > (uint64_t)INT64_MAX + (uint64_t)neg) {
        return 0;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 1;
}

/* [+-]? (d+ (. d*)? | . d+) ([eE] [+-]? d+)? - strtod alone would also take
 * "inf", "nan", hex floats and leading blanks, which are not numbers in a
 * data file. */
static int number_syntax(const char *s, size_t len)
{
    size_t i = len && (s[0] == '+' || s[0] == '-') ? 1 : 0, mant = 0;

    while (i < len && is_digit(s[i])) {
        i++, mant++;
    }
    if (i < len && s[i] == '.') {
        i++;
        while (i < len && is_digit(s[i])) {
            i++, mant++;
        }
    }
    if (mant == 0) {
        return 0;
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        size_t e;

        i++;
        if (i < len && (s[i] == '+' || s[i] == '-')) {
            i++;
        }
        for (e = i; i < len && is_digit(s[i]); i++) {
        }
        if (i == e) {
            return 0;
        }
    }
    return i == len;
}

/* Clinger's fast path: a decimal with at most 15 significant digits and at
 * most 22 fraction digits is m / 10^k with m and 10^k exact doubles, so one
 * correctly rounded division gives the same double as strtod. */
static int fast_decimal(const char *s, size_t len, double *out)
{
    static const double pow10[] = { 1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                    1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                    1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22 };
    size_t i = len && (s[0] == '+' || s[0] == '-') ? 1 : 0, ndig = 0, frac = 0;
    int dot = 0, neg = s[0] == '-';
    uint64_t m = 0;

    for (; i < len; i++) {
        if (is_digit(s[i])) {
            m = m * 10 + (uint64_t)(s[i] - '0');
            ndig++;
            frac += dot;
        }
        else if (s[i] == '.' && !dot) {
            dot = 1;
        }
        else {
            return 0;
        }
    }
    if (ndig == 0 || ndig > 15 || frac > 22) {
        return 0;
    }
    *out = (neg ? -(double)m : (double)m) / pow10[frac];
    return 1;
}

int lake_parse_number(const char *s, size_t len, double *out)
{
    char buf[64];
    int64_t iv;

    if (len == 0 || !(is_digit(s[0]) || s[0] == '-' || s[0] == '+' || s[0] == '.')) {
        return 0;
    }
    if (len <= 15 && lake_parse_int(s, len, &iv)) {
        *out = (double)iv;
        return 1;
    }
    if (fast_decimal(s, len, out)) {
        return 1;
    }
    if (len >= sizeof(buf) || !number_syntax(s, len)) {
        return 0;
    }
    memcpy(buf, s, len);
    buf[len] = '\0';
    *out = strtod(buf, NULL);
    return 1;
}

int lake_parse_decimal(const char *s, size_t len, double *out)
{
    return fast_decimal(s, len, out) || lake_parse_number(s, len, out);
}

int lake_parse_bool(const char *s, size_t len)
{
    return (len == 4 && strncasecmp(s, "true", 4) == 0) ||
           (len == 5 && strncasecmp(s, "false", 5) == 0);
}

size_t lake_utf8_length(const char *s, size_t len)
{
    size_t n = 0, i = 0;

    /* ASCII words count 8 at a time. */
    for (; i + 8 <= len; i += 8) {
        uint64_t w;

        memcpy(&w, s + i, 8);
        if (w & 0x8080808080808080ull) {
            break;
        }
        n += 8;
    }
    for (; i < len; i++) {
        n += ((unsigned char)s[i] & 0xC0) != 0x80;
    }
    return n;
}
