/*
 * reader.c - the streaming row reader over a table's files: opening files in
 * order, the 64 KiB block buffer, the capped record buffer, null tokens and
 * partition columns, and the policy for bad records (fail with file:line, or
 * report and skip with tolerate_errors). The formats live in reader_csv.c
 * and reader_jsonl.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "reader_int.h"

static const char *const default_null_tokens[] = { "", "NA", "NULL", "null", "\\N", NULL };

/* Hive writes this for a NULL partition value. */
#define HIVE_NULL_PARTITION "__HIVE_DEFAULT_PARTITION__"

const char *lake_reader_path(const struct lake_reader *r)
{
    return r->file_i < r->nfiles ? r->files[r->file_i].path : "";
}

int lake_rd_fill(struct lake_reader *r)
{
    ssize_t n;

    if (r->file_eof) {
        return -1;
    }
    do {
        n = read(r->fd, r->buf, LAKE_READ_BLOCK);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        lake_host->error_set(WEIR_EIO, "%s: cannot read: %s", lake_reader_path(r), strerror(errno));
        return -2;
    }
    r->pos = 0;
    r->len = (size_t)n;
    if (n == 0) {
        r->file_eof = 1;
        r->ascii_end = 0;
        return -1;
    }
    r->ascii_end = lake_ascii_prefix(r->buf, r->len);
    return 0;
}

int lake_rec_grow(struct lake_reader *r, size_t n)
{
    size_t cap;
    char *grown;

    if (r->rec_len + n + 1 > LAKE_RECORD_MAX) {
        return lake_host->error_set(WEIR_EINVALID,
                                    "%s:%" PRIu64 ": record larger than %u MiB (a missing "
                                    "closing quote?)",
                                    lake_reader_path(r), r->rec_line, LAKE_RECORD_MAX >> 20);
    }
    cap = r->rec_cap ? r->rec_cap : 4096;
    while (cap < r->rec_len + n + 1) {
        cap *= 2;
    }
    if (cap > LAKE_RECORD_MAX) {
        cap = LAKE_RECORD_MAX;
    }
    if ((grown = lake_host->realloc(r->rec, cap)) == NULL) {
        return lake_host->error_set(WEIR_ENOMEM, "out of memory reading %s", lake_reader_path(r));
    }
    r->rec = grown;
    r->rec_cap = cap;
    return WEIR_OK;
}

int lake_span_grow(struct lake_reader *r)
{
    size_t cap = r->spans_cap ? r->spans_cap * 2 : 32;
    struct lake_span *grown = lake_host->realloc(r->spans, cap * sizeof(*grown));

    if (!grown) {
        return lake_host->error_set(WEIR_ENOMEM, "out of memory reading %s", lake_reader_path(r));
    }
    r->spans = grown;
    r->spans_cap = cap;
    return WEIR_OK;
}

size_t lake_ascii_prefix(const unsigned char *p, size_t n)
{
    size_t i = 0;

    /* Four words per step: the compiler keeps them in registers. */
    for (; i + 32 <= n; i += 32) {
        uint64_t a, b, c, d;

        memcpy(&a, p + i, 8);
        memcpy(&b, p + i + 8, 8);
        memcpy(&c, p + i + 16, 8);
        memcpy(&d, p + i + 24, 8);
        if ((a | b | c | d) & 0x8080808080808080ull) {
            break;
        }
    }
    while (i < n && p[i] < 0x80) {
        i++;
    }
    return i;
}

int lake_utf8_valid(const unsigned char *p, size_t n)
{
    size_t i = 0;

    while (i < n) {
        unsigned char c = p[i];
        size_t need;
        uint32_t cp;

        /* Most data is ASCII: skip it eight bytes at a time. */
        if (i + 8 <= n) {
            uint64_t w;

            memcpy(&w, p + i, 8);
            if ((w & 0x8080808080808080ull) == 0) {
                i += 8;
                continue;
            }
        }
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            need = 1;
            cp = c & 0x1F;
        }
        else if (c >= 0xE0 && c <= 0xEF) {
            need = 2;
            cp = c & 0x0F;
        }
        else if (c >= 0xF0 && c <= 0xF4) {
            need = 3;
            cp = c & 0x07;
        }
        else {
            return 0;
        }
        if (i + need >= n) {
            return 0;
        }
        for (size_t k = 1; k <= need; k++) {
            if ((p[i + k] & 0xC0) != 0x80) {
                return 0;
            }
            cp = (cp << 6) | (p[i + k] & 0x3F);
        }
        /* Overlong forms, surrogates and values past U+10FFFF. */
        if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF)) {
            return 0;
        }
        i += need + 1;
    }
    return 1;
}

static void close_file(struct lake_reader *r)
{
    if (r->fd >= 0) {
        close(r->fd);
        r->fd = -1;
    }
}

static int open_file(struct lake_reader *r)
{
    const char *path = r->files[r->file_i].path;
    int rc;

    if ((r->fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        return lake_host->error_set(WEIR_EIO, "%s: cannot open: %s", path, strerror(errno));
    }
    r->file_eof = 0;
    r->pos = r->len = 0;
    r->line = 1;
    rc = lake_rd_fill(r);
    if (rc == -2) {
        return WEIR_EIO;
    }
    /* A UTF-8 byte order mark (Excel writes one) is not part of the data. */
    if (r->len >= 3 && memcmp(r->buf, "\xEF\xBB\xBF", 3) == 0) {
        r->pos = 3;
    }
    if (r->t->format == LAKE_CSV) {
        return lake_csv_skip_header(r);
    }
    return WEIR_OK;
}

static int prepare_lookups(struct lake_reader *r);

int lake_reader_open(const struct lake_table *t, const struct lake_file *files, size_t nfiles,
                     const struct lake_reader_opts *opts, struct lake_reader **out)
{
    struct lake_reader *r;
    int rc = WEIR_ENOMEM;

    *out = NULL;
    if ((r = lake_host->malloc(sizeof(*r))) == NULL) {
        return lake_host->error_set(WEIR_ENOMEM, "out of memory opening a reader");
    }
    memset(r, 0, sizeof(*r));
    r->t = t;
    r->files = files;
    r->nfiles = nfiles;
    r->fd = -1;
    if (opts) {
        r->opts = *opts;
    }
    r->null_tokens = t->null_tokens ? (const char *const *)t->null_tokens : default_null_tokens;
    r->nfields = t->ncolumns + t->npartitions;
    r->buf = lake_host->malloc(LAKE_READ_BLOCK + LAKE_READ_PAD);
    r->fields = lake_host->malloc((r->nfields ? r->nfields : 1) * sizeof(*r->fields));
    r->dumps = lake_host->malloc((t->ncolumns ? t->ncolumns : 1) * sizeof(*r->dumps));
    if (!r->buf || !r->fields || !r->dumps) {
        rc = lake_host->error_set(WEIR_ENOMEM, "out of memory opening a reader");
        goto fail;
    }
    memset(r->dumps, 0, (t->ncolumns ? t->ncolumns : 1) * sizeof(*r->dumps));
    memset(r->buf, 0, LAKE_READ_BLOCK + LAKE_READ_PAD);
    if ((rc = prepare_lookups(r)) < 0) {
        goto fail;
    }
    *out = r;
    return WEIR_OK;

fail:
    lake_reader_close(r);
    return rc;
}

static int is_null_token(const struct lake_reader *r, const char *s, size_t len)
{
    if (len > r->null_max) {
        return 0;
    }
    for (size_t i = 0; r->null_tokens[i]; i++) {
        if (r->null_lens[i] == len && memcmp(r->null_tokens[i], s, len) == 0) {
            return 1;
        }
    }
    return 0;
}

static int prepare_lookups(struct lake_reader *r)
{
    size_t n = 0;

    while (r->null_tokens[n]) {
        n++;
    }
    if ((r->null_lens = lake_host->malloc((n + 1) * sizeof(size_t))) == NULL) {
        return lake_host->error_set(WEIR_ENOMEM, "out of memory opening a reader");
    }
    for (size_t i = 0; i < n; i++) {
        r->null_lens[i] = strlen(r->null_tokens[i]);
        if (r->null_lens[i] > r->null_max) {
            r->null_max = r->null_lens[i];
        }
    }
    r->stop[(unsigned char)(r->t->delimiter ? r->t->delimiter : ',')] = 1;
    /* In-place parsing checks UTF-8 over the raw record, delimiters
     * included: only right when the delimiter is ASCII. */
    r->fast_ok = r->t->delimiter != '"' && r->t->delimiter != '\n' && r->t->delimiter != '\r' &&
                 (unsigned char)r->t->delimiter < 0x80;
    r->stop['\n'] = 1;
    r->stop['\r'] = 1;
    return WEIR_OK;
}

/* Turns the spans of a complete record into fields, then appends the
 * partition values of the file it came from. */
static void finish_fields(struct lake_reader *r)
{
    const struct lake_file *f = &r->files[r->file_i];
    size_t nc = r->t->ncolumns;

    for (size_t i = 0; i < nc; i++) {
        const struct lake_span *s = &r->spans[i];
        const char *data = s->ptr ? s->ptr : r->rec_base + s->off;

        if (s->null || (!s->quoted && !s->ptr && is_null_token(r, data, s->len))) {
            r->fields[i] = (struct lake_field){ NULL, 0 };
        }
        else {
            r->fields[i] = (struct lake_field){ data, s->len };
        }
    }
    for (size_t k = 0; k < r->t->npartitions; k++) {
        const char *v = f->partition_values ? f->partition_values[k] : NULL;

        if (!v || strcmp(v, HIVE_NULL_PARTITION) == 0) {
            r->fields[nc + k] = (struct lake_field){ NULL, 0 };
        }
        else {
            r->fields[nc + k] = (struct lake_field){ v, strlen(v) };
        }
    }
}

/* A bad record: fails the read, or with tolerate_errors reports it and lets
 * the caller go on with the next record. */
static int bad_record(struct lake_reader *r)
{
    struct lake_issue issue;

    if (!r->opts.tolerate_errors) {
        return lake_host->error_set(WEIR_EINVALID, "%s:%" PRIu64 ": %s", lake_reader_path(r),
                                    r->rec_line, r->issue);
    }
    issue.file = lake_reader_path(r);
    issue.line = r->rec_line;
    issue.what = r->issue;
    if (r->opts.on_issue) {
        r->opts.on_issue(&issue, r->opts.payload);
    }
    return WEIR_OK;
}

int lake_reader_next(struct lake_reader *r)
{
    int rc;

    for (;;) {
        if (r->fd < 0) {
            if (r->file_i >= r->nfiles) {
                return 0;
            }
            if ((rc = open_file(r)) < 0) {
                return rc;
            }
        }
        rc = r->t->format == LAKE_JSONL ? lake_jsonl_record(r) : lake_csv_record(r);
        if (rc < 0) {
            return rc;
        }
        if (rc == 0) {
            close_file(r);
            r->file_i++;
            continue;
        }
        if (rc == 1 && r->nspans != r->t->ncolumns) {
            snprintf(r->issue, sizeof(r->issue), "ragged row: %zu fields, expected %zu", r->nspans,
                     r->t->ncolumns);
            rc = LAKE_BAD_RECORD;
        }
        if (rc == LAKE_BAD_RECORD) {
            if ((rc = bad_record(r)) < 0) {
                return rc;
            }
            continue;
        }
        finish_fields(r);
        return 1;
    }
}

const struct lake_field *lake_reader_fields(const struct lake_reader *r, size_t *n)
{
    *n = r->nfields;
    return r->fields;
}

const char *lake_reader_file(const struct lake_reader *r)
{
    return lake_reader_path(r);
}

uint64_t lake_reader_line(const struct lake_reader *r)
{
    return r->rec_line;
}

void lake_reader_close(struct lake_reader *r)
{
    if (!r) {
        return;
    }
    close_file(r);
    lake_jsonl_release(r);
    lake_host->free(r->buf);
    lake_host->free(r->rec);
    lake_host->free(r->spans);
    lake_host->free(r->fields);
    lake_host->free(r->dumps);
    lake_host->free(r->null_lens);
    lake_host->free(r);
}
