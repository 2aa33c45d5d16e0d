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
 * Bytes are copied run by run from the block buffer into the record buffer,
 * never byte by byte through a function call.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "reader_int.h"

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

static void set_issue(struct lake_reader *r, const char *what)
{
    if (!r->issue[0]) {
        snprintf(r->issue, sizeof(r->issue), "%s", what);
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
