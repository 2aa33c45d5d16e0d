/*
 * reader_csv.c - one CSV record at a time, RFC 4180 style:
 *   - fields may be quoted; "" inside quotes is one quote; quoted fields may
 *     hold delimiters and line breaks (line numbers keep counting inside);
 *   - records end at LF, CRLF or a lone CR; blank lines are skipped;
 *   - a quote inside an unquoted field is kept as a literal character
 *     (5'3" style data), text after a closing quote makes the record bad;
 *   - a quoted field is never a null token: "" is the empty string and "NA"
 *     the two letters, while an unquoted empty field or NA is NULL;
 *   - every record must be valid UTF-8.
 * A record that lies whole in the block buffer (nearly all of them) is parsed
 * in place: fields point into the buffer, the byte after each field (its
 * delimiter, line break or closing quote) becomes its NUL, and "" pairs are
 * folded in place. Anything else - a record crossing the block end, a line
 * break inside quotes, text after a closing quote - goes through the general
 * path, which copies bytes run by run into the record buffer.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "reader_int.h"

static void set_issue(struct lake_reader *r, const char *what)
{
    if (!r->issue[0]) {
        snprintf(r->issue, sizeof(r->issue), "%s", what);
    }
}

/* The first byte in [p, end) equal to a, b or c, or end. May load up to 15
 * bytes past end (the block has LAKE_READ_PAD bytes of slack) but never
 * returns a position there. */
static inline const unsigned char *find3(const unsigned char *p, const unsigned char *end,
                                         unsigned char a, unsigned char b, unsigned char c)
{
#if defined(__SSE2__)
    const __m128i va = _mm_set1_epi8((char)a), vb = _mm_set1_epi8((char)b),
                  vc = _mm_set1_epi8((char)c);

    while (p < end) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        unsigned m = (unsigned)_mm_movemask_epi8(_mm_or_si128(
            _mm_or_si128(_mm_cmpeq_epi8(v, va), _mm_cmpeq_epi8(v, vb)), _mm_cmpeq_epi8(v, vc)));

        if (m) {
            p += __builtin_ctz(m);
            return p < end ? p : end;
        }
        p += 16;
    }
    return end;
#else
    while (p < end && *p != a && *p != b && *p != c) {
        p++;
    }
    return p;
#endif
}

/* Folds each "" of a quoted field's inside into one ", in place; returns
 * the new length. */
static size_t unescape_quotes(char *s, size_t len)
{
    size_t i = 0, j = 0;

    while (i < len) {
        char ch = s[i++];

        s[j++] = ch;
        if (ch == '"' && i < len && s[i] == '"') {
            i++;
        }
    }
    return j;
}

/* One record parsed in place in the block buffer. Returns 1 (record read),
 * LAKE_BAD_RECORD (invalid UTF-8, consumed), 0 when the general path must
 * take it (nothing consumed, no byte changed), or a negative weir error. */
static int fast_record(struct lake_reader *r, unsigned char delim)
{
    unsigned char *buf = r->buf, *start = buf + r->pos, *p = start, *end = buf + r->len;
    size_t first = r->nspans;
    int escapes = 0, rc;

    for (;;) {
        unsigned char *f, *q;
        int quoted = 0;

        if (p < end && *p == '"') {
            quoted = 1;
            f = ++p;
            for (;;) {
                q = (unsigned char *)find3(p, end, '"', '\n', '\r');
                if (q + 1 >= end || *q != '"') {
                    return 0; /* the block ends, or a line break inside quotes */
                }
                if (q[1] != '"') {
                    break;
                }
                escapes = 1;
                p = q + 2;
            }
            p = q + 1;
            if (*p != delim && *p != '\n' && *p != '\r') {
                return 0; /* text after the closing quote: the general path reports it */
            }
        }
        else {
            f = p;
            q = (unsigned char *)find3(p, end, delim, '\n', '\r');
            if (q >= end) {
                return 0;
            }
            p = q;
        }
        if ((rc = lake_span_push(r, (size_t)(f - buf), (size_t)(q - f), quoted)) < 0) {
            return rc;
        }
        if (*p == delim) {
            p++;
            continue;
        }
        if (*p == '\r') {
            if (p + 1 >= end) {
                return 0; /* an LF may follow in the next block */
            }
            p += p[1] == '\n' ? 2 : 1;
        }
        else {
            p++;
        }
        break;
    }
    /* Complete: now the buffer may change. */
    if ((size_t)(p - buf) > r->ascii_end && !lake_utf8_valid(start, (size_t)(p - start))) {
        set_issue(r, "invalid UTF-8");
    }
    for (size_t i = first; i < r->nspans; i++) {
        struct lake_span *s = &r->spans[i];

        if (escapes && s->quoted) {
            s->len = unescape_quotes((char *)buf + s->off, s->len);
        }
        buf[s->off + s->len] = '\0';
    }
    r->pos = (size_t)(p - buf);
    r->line++;
    r->rec_base = (const char *)buf;
    return r->issue[0] ? LAKE_BAD_RECORD : 1;
}

static char delimiter_of(const struct lake_reader *r)
{
    return r->t->delimiter ? r->t->delimiter : ',';
}

/* Appends unquoted bytes up to the next delimiter or line break; *stop gets
 * that byte, or -1 at the end of the file. Returns the bytes appended. */
static long plain_run(struct lake_reader *r, int *stop)
{
    long n = 0;
    int rc;

    for (;;) {
        const unsigned char *p, *q, *end;

        if (r->pos >= r->len) {
            rc = lake_rd_fill(r);
            if (rc == -1) {
                *stop = -1;
                return n;
            }
            if (rc < 0) {
                return WEIR_EIO;
            }
        }
        p = r->buf + r->pos;
        end = r->buf + r->len;
        q = p;
        while (q < end && !r->stop[*q]) {
            q++;
        }
        if (q > p && (rc = lake_rec_put(r, (const char *)p, (size_t)(q - p))) < 0) {
            return rc;
        }
        n += q - p;
        r->pos = (size_t)(q - r->buf);
        if (q < end) {
            *stop = *q;
            return n;
        }
    }
}

/* Appends the inside of a quoted field, the opening quote consumed. Returns
 * 1 at the closing quote, 0 at the end of the file (unterminated). */
static int quoted_run(struct lake_reader *r)
{
    int rc;

    for (;;) {
        const unsigned char *p, *q, *end;

        if (r->pos >= r->len) {
            rc = lake_rd_fill(r);
            if (rc == -1) {
                return 0;
            }
            if (rc < 0) {
                return WEIR_EIO;
            }
        }
        p = r->buf + r->pos;
        end = r->buf + r->len;
        q = p;
        while (q < end && *q != '"') {
            if (*q == '\n') {
                r->line++;
            }
            q++;
        }
        if (q > p && (rc = lake_rec_put(r, (const char *)p, (size_t)(q - p))) < 0) {
            return rc;
        }
        r->pos = (size_t)(q - r->buf);
        if (q == end) {
            continue;
        }
        r->pos++;
        rc = lake_rd_peek(r);
        if (rc == -2) {
            return WEIR_EIO;
        }
        if (rc != '"') {
            return 1;
        }
        r->pos++;
        if ((rc = lake_rec_put(r, "\"", 1)) < 0) {
            return rc;
        }
    }
}


/* Skips line breaks between records; returns the first byte of the next
 * record (not consumed), -1 at the end of the file, or WEIR_EIO. */
static int skip_blank_lines(struct lake_reader *r)
{
    for (;;) {
        int c = lake_rd_peek(r);

        if (c == -1) {
            return -1;
        }
        if (c < 0) {
            return WEIR_EIO;
        }
        if (c != '\n' && c != '\r') {
            return c;
        }
        r->pos++;
        if (c == '\r' && lake_rd_peek(r) == '\n') {
            r->pos++;
        }
        r->line++;
    }
}

/* One field at the read position; *stop as for plain_run. */
static int read_field(struct lake_reader *r, int *stop)
{
    size_t off = r->rec_len;
    uint64_t quote_line = r->line;
    int quoted = 0, rc;
    long extra;

    if (lake_rd_peek(r) == '"') {
        r->pos++;
        quoted = 1;
        if ((rc = quoted_run(r)) < 0) {
            return rc;
        }
        if (rc == 0) {
            char what[128];

            snprintf(what, sizeof(what), "unterminated quoted field (opened on line %" PRIu64 ")",
                     quote_line);
            set_issue(r, what);
        }
    }
    if ((extra = plain_run(r, stop)) < 0) {
        return (int)extra;
    }
    if (quoted && extra > 0) {
        set_issue(r, "text after the closing quote of a field");
    }
    if ((rc = lake_span_push(r, off, r->rec_len - off, quoted)) < 0 ||
        (rc = lake_rec_put(r, "", 1)) < 0) {
        return rc;
    }
    return WEIR_OK;
}

int lake_csv_record(struct lake_reader *r)
{
    char delim = delimiter_of(r);
    int c, rc, stop = -1;

    r->rec_len = 0;
    r->nspans = 0;
    r->issue[0] = '\0';
    if ((c = skip_blank_lines(r)) == -1) {
        return 0;
    }
    if (c < 0) {
        return c;
    }
    r->rec_line = r->line;
    if (r->fast_ok) {
        if ((rc = fast_record(r, (unsigned char)delim)) != 0) {
            return rc;
        }
        r->nspans = 0;
    }
    for (;;) {
        if ((rc = read_field(r, &stop)) < 0) {
            return rc;
        }
        if (stop == -1) {
            break;
        }
        r->pos++;
        if (stop == (unsigned char)delim) {
            continue;
        }
        if (stop == '\r' && lake_rd_peek(r) == '\n') {
            r->pos++;
        }
        r->line++;
        break;
    }
    r->rec_base = r->rec; /* the record buffer may have moved while it grew */
    if (!r->issue[0] && !lake_utf8_valid((const unsigned char *)r->rec, r->rec_len)) {
        set_issue(r, "invalid UTF-8");
    }
    return r->issue[0] ? LAKE_BAD_RECORD : 1;
}

int lake_csv_skip_header(struct lake_reader *r)
{
    for (int i = 0; i < r->t->header_lines; i++) {
        int rc = lake_csv_record(r);

        if (rc < 0) {
            return rc;
        }
        if (rc == 0) {
            break;
        }
    }
    return WEIR_OK;
}
