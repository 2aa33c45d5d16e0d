/*
 * reader_int.h - state shared by reader.c (files, buffering, fields) and the
 * format parsers reader_csv.c / reader_jsonl.c. Private to the reader files.
 */
#ifndef WEIR_LAKE_READER_INT_H
#define WEIR_LAKE_READER_INT_H

#include <string.h>

#include "lake.h"

#define LAKE_READ_BLOCK (256 * 1024)
/* Bytes allocated past the block: the CSV scanner loads 16 bytes at a time
 * and may look (never act) past the data. */
#define LAKE_READ_PAD 64
/* A record larger than this is refused, so one bad file (a missing closing
 * quote, a binary blob) cannot make the reader eat all memory. */
#define LAKE_RECORD_MAX (16u * 1024 * 1024)

/* Where a field of the record lives before the record is complete: the record
 * buffer may move while it grows, so fields are offsets until then. */
struct lake_span {
    size_t off;
    size_t len;
    const char *ptr;  /* JSONL: points into the parsed document instead */
    int quoted;       /* CSV: quoted fields are never null tokens */
    int null;
};

struct lake_reader {
    const struct lake_table *t;
    const struct lake_file *files;
    size_t nfiles;
    struct lake_reader_opts opts;
    const char *const *null_tokens;
    size_t *null_lens;     /* strlen of each null token */
    size_t null_max;       /* the longest one: longer fields are never null */
    unsigned char stop[256]; /* CSV: bytes that end an unquoted run */
    int fast_ok;           /* CSV: the delimiter allows parsing in place */

    size_t file_i;         /* index of the open file; nfiles when none */
    int fd;
    int file_eof;
    unsigned char *buf;    /* LAKE_READ_BLOCK (+ LAKE_READ_PAD) bytes */
    size_t pos, len;
    size_t ascii_end;      /* offset of the block's first non-ASCII byte, or len */
    uint64_t line;         /* physical line of the next unread byte */
    uint64_t rec_line;     /* line where the current record starts */

    char *rec;             /* current record's bytes, NUL after each field */
    const char *rec_base;  /* what span offsets count from: rec, or buf when the
                              CSV fast path parsed the record in place */
    size_t rec_len, rec_cap;
    struct lake_span *spans;
    size_t nspans, spans_cap;
    struct lake_field *fields;  /* ncolumns + npartitions */
    size_t nfields;

    json_t *doc;           /* JSONL: the current line's object */
    char **dumps;          /* JSONL: nested values as text, one per column */
    char issue[512];       /* text of the current bad record */
};

/* Byte input. lake_rd_fill refills the block: 0 with bytes available, -1 at
 * the end of the file, -2 on a read error (message set). lake_rd_peek
 * returns the next byte without consuming it, or those same values. */
int lake_rd_fill(struct lake_reader *r);
static inline int lake_rd_peek(struct lake_reader *r)
{
    int rc;

    if (r->pos < r->len) {
        return r->buf[r->pos];
    }
    rc = lake_rd_fill(r);
    return rc < 0 ? rc : r->buf[r->pos];
}

/* Record buffer and spans; the slow paths grow the buffers. */
int lake_rec_grow(struct lake_reader *r, size_t n);
int lake_span_grow(struct lake_reader *r);
static inline int lake_rec_put(struct lake_reader *r, const char *p, size_t n)
{
    int rc;

    if (r->rec_len + n + 1 > r->rec_cap && (rc = lake_rec_grow(r, n)) < 0) {
        return rc;
    }
    memcpy(r->rec + r->rec_len, p, n);
    r->rec_len += n;
    return WEIR_OK;
}
static inline int lake_span_push(struct lake_reader *r, size_t off, size_t len, int quoted)
{
    int rc;

    if (r->nspans == r->spans_cap && (rc = lake_span_grow(r)) < 0) {
        return rc;
    }
    r->spans[r->nspans++] = (struct lake_span){ .off = off, .len = len, .quoted = quoted };
    return WEIR_OK;
}
const char *lake_reader_path(const struct lake_reader *r);

/* Length of the leading run of ASCII bytes. */
size_t lake_ascii_prefix(const unsigned char *p, size_t n);
/* Non-zero when the bytes are valid UTF-8. */
int lake_utf8_valid(const unsigned char *p, size_t n);

/* Format parsers: one record of the open file into r->spans (data columns
 * only). Return 1 with a record, 0 at the end of the file, LAKE_BAD_RECORD
 * with r->issue set (the record was consumed; the caller reports or fails),
 * or a negative weir error (fatal, message set). */
#define LAKE_BAD_RECORD 2
int lake_csv_record(struct lake_reader *r);
int lake_csv_skip_header(struct lake_reader *r);
int lake_jsonl_record(struct lake_reader *r);
void lake_jsonl_release(struct lake_reader *r);

#endif
