/*
 * rawscan.c - record boundaries of CSV / JSON Lines text, see rawscan.h.
 *
 * The current record always sits contiguous in the block buffer: when a
 * record runs past the bytes read so far, its start is moved to the front
 * before the next read (and the buffer grows for records longer than it), so
 * records are never copied one by one. A plain CSV line (no quote, no lone
 * CR) is found with two memchr calls; only lines with quotes take the
 * byte-precise path that mirrors the reader's quoting rules.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "contract.h"
#include "rawscan.h"

#define RAW_BLOCK (1024 * 1024)
#define RAW_WINDOW (8u * 1024 * 1024)
/* The lake reader refuses records over 16 MiB; stay a little above it so the
 * reader, not this pass, reports such a record. */
#define RAW_RECORD_MAX (17u * 1024 * 1024)

struct rawscan {
    int fd;
    char *path;
    int jsonl;
    unsigned char delim;
    unsigned char *buf;
    size_t cap;     /* bytes allocated */
    size_t len;     /* bytes read into buf */
    size_t pos;     /* scan position */
    size_t start;   /* where the current record starts */
    size_t rec_len; /* length of the last complete record (at start) */
    int eof;
    uint64_t line; /* physical line of the next unread byte */
    uint64_t rec_line;
    int mapped; /* buf is a window of the file mapped at map_off */
    uint64_t map_off;
    uint64_t size; /* of the file when opened (mapped only) */
    size_t page;
};

/*
 * Regular files are mapped a window at a time instead of read: the lake
 * reader already copies every byte out of the page cache once, and the
 * window (unmapped as the scan moves on) keeps the resident set bounded.
 * Moves the window so it starts at the page holding buf[start] and reaches
 * past the bytes seen so far.
 */
static int more_mapped(struct rawscan *s)
{
    uint64_t abs_start = s->map_off + s->start, seen_end = s->map_off + s->len;
    uint64_t off = abs_start - abs_start % (uint64_t)s->page;
    size_t len = RAW_WINDOW;
    void *p;

    if (seen_end >= s->size) {
        s->eof = 1;
        return -1;
    }
    if (seen_end - abs_start > RAW_RECORD_MAX) {
        return contract_host->error_set(WEIR_EINVALID, "%s:%llu: record larger than 17 MiB",
                                        s->path, (unsigned long long)s->rec_line);
    }
    while (off + len <= seen_end) {
        len *= 2;
    }
    if (off + len > s->size) {
        len = (size_t)(s->size - off);
    }
    if (s->buf != NULL) {
        munmap(s->buf, s->cap);
        s->buf = NULL;
    }
    if ((p = mmap(NULL, len, PROT_READ, MAP_PRIVATE, s->fd, (off_t)off)) == MAP_FAILED) {
        return contract_host->error_set(WEIR_EIO, "%s: mmap: %s", s->path, strerror(errno));
    }
    (void)madvise(p, len, MADV_SEQUENTIAL);
    s->buf = p;
    s->cap = len;
    s->start = (size_t)(abs_start - off);
    s->pos = (size_t)(s->map_off + s->pos - off);
    s->len = len;
    s->map_off = off;
    return 0;
}

/*
 * Reads more bytes after buf[len), keeping buf[start..len) (the record in
 * progress). Returns 0 with more bytes, -1 at the end of the file, or a weir
 * error (< -1).
 */
static int more_mapped(struct rawscan *s);

static int more(struct rawscan *s)
{
    ssize_t n;

    if (s->eof) {
        return -1;
    }
    if (s->mapped) {
        return more_mapped(s);
    }
    if (s->start > 0) {
        memmove(s->buf, s->buf + s->start, s->len - s->start);
        s->len -= s->start;
        s->pos -= s->start;
        s->start = 0;
    }
    if (s->len == s->cap) {
        size_t cap = s->cap * 2;
        unsigned char *p;

        if (s->len > RAW_RECORD_MAX) {
            return contract_host->error_set(WEIR_EINVALID, "%s:%llu: record larger than 17 MiB",
                                            s->path, (unsigned long long)s->rec_line);
        }
        if ((p = contract_host->realloc(s->buf, cap)) == NULL) {
            return contract_host->error_set(WEIR_ENOMEM, "out of memory");
        }
        s->buf = p;
        s->cap = cap;
    }
    do {
        n = read(s->fd, s->buf + s->len, s->cap - s->len);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        return contract_host->error_set(WEIR_EIO, "%s: read: %s", s->path, strerror(errno));
    }
    if (n == 0) {
        s->eof = 1;
        return -1;
    }
    s->len += (size_t)n;
    return 0;
}

/* The next byte without consuming it, -1 at the end, or a weir error (< -1). */
static int peek(struct rawscan *s)
{
    int rc;

    if (s->pos >= s->len && (rc = more(s)) < 0) {
        return rc;
    }
    return s->buf[s->pos];
}

int rawscan_open(const char *path, int jsonl, char delim, struct rawscan **out)
{
    struct rawscan *s;
    size_t n = strlen(path) + 1;
    struct stat sb;
    int rc;

    *out = NULL;
    if ((s = contract_host->malloc(sizeof(*s))) == NULL) {
        return contract_host->error_set(WEIR_ENOMEM, "out of memory");
    }
    memset(s, 0, sizeof(*s));
    s->fd = -1;
    s->jsonl = jsonl;
    s->delim = (unsigned char)(delim ? delim : ',');
    s->line = 1;
    s->cap = RAW_BLOCK;
    if ((s->path = contract_host->malloc(n)) == NULL ||
        (s->buf = contract_host->malloc(s->cap)) == NULL) {
        rc = contract_host->error_set(WEIR_ENOMEM, "out of memory");
        goto fail;
    }
    memcpy(s->path, path, n);
    if ((s->fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        rc = contract_host->error_set(WEIR_EIO, "%s: cannot open: %s", path, strerror(errno));
        goto fail;
    }
    (void)posix_fadvise(s->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    if (fstat(s->fd, &sb) == 0 && S_ISREG(sb.st_mode)) {
        /* (a file truncated while it is scanned would raise SIGBUS; batches
         * being checked are not written to at the same time) */
        contract_host->free(s->buf);
        s->buf = NULL;
        s->cap = 0;
        s->mapped = 1;
        s->size = (uint64_t)sb.st_size;
        s->page = (size_t)sysconf(_SC_PAGESIZE);
    }
    /* a UTF-8 byte order mark is not part of the first record */
    rc = 0;
    while (s->len < 3 && (rc = more(s)) == 0) {
    }
    if (rc < -1) {
        goto fail;
    }
    s->pos = s->len >= 3 && memcmp(s->buf, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
    s->start = s->pos;
    *out = s;
    return WEIR_OK;

fail:
    rawscan_close(s);
    return rc;
}

void rawscan_close(struct rawscan *s)
{
    if (s == NULL) {
        return;
    }
    if (s->fd >= 0) {
        close(s->fd);
    }
    if (s->mapped) {
        if (s->buf != NULL) {
            munmap(s->buf, s->cap);
        }
    }
    else {
        contract_host->free(s->buf);
    }
    contract_host->free(s->path);
    contract_host->free(s);
}

/* Advances past bytes for which stop[] is clear; returns the stopping byte
 * (not consumed), -1 at the end of the file, or a weir error. Counts LF when
 * count_lf (inside quotes, where line breaks do not end the record). */
static int run_until(struct rawscan *s, const unsigned char *stop, int count_lf)
{
    int rc;

    for (;;) {
        const unsigned char *q, *end;

        if (s->pos >= s->len && (rc = more(s)) < 0) {
            return rc;
        }
        end = s->buf + s->len;
        for (q = s->buf + s->pos; q < end && !stop[*q]; q++) {
        }
        s->pos = (size_t)(q - s->buf);
        if (q < end) {
            if (count_lf && *q == '\n') {
                s->line++;
                s->pos++;
                continue;
            }
            return *q;
        }
    }
}

/* One quoted field, the opening quote consumed: through the closing quote
 * (a doubled quote continues the field), or to the end of the file. */
static int quoted_field(struct rawscan *s)
{
    static const unsigned char stop[256] = { ['"'] = 1, ['\n'] = 1 };
    int c;

    for (;;) {
        if ((c = run_until(s, stop, 1)) < 0) {
            return c == -1 ? WEIR_OK : c;
        }
        s->pos++;
        if ((c = peek(s)) != '"') {
            return c < -1 ? c : WEIR_OK;
        }
        s->pos++;
    }
}

/* The byte-precise path: fields one by one, from the record's start. */
static int slow_csv(struct rawscan *s)
{
    unsigned char stop[256] = { 0 };
    int c;

    stop[s->delim] = 1;
    stop['\n'] = 1;
    stop['\r'] = 1;
    for (;;) {
        if (peek(s) == '"') {
            s->pos++;
            if ((c = quoted_field(s)) < 0) {
                return c;
            }
        }
        if ((c = run_until(s, stop, 0)) < 0) {
            return c == -1 ? 1 : c;
        }
        s->pos++;
        if (c == s->delim) {
            continue;
        }
        if (c == '\r' && peek(s) == '\n') {
            s->pos++;
        }
        s->line++;
        return 1;
    }
}

/* A plain line: no quote anywhere and no CR but one before the LF. Then the
 * record is the line, whatever the delimiters. Returns 1 when it was one (pos
 * past it), 0 to take the slow path, or a weir error. */
static int fast_csv(struct rawscan *s)
{
    int rc;

    for (;;) {
        const unsigned char *p = s->buf + s->pos, *nl;
        size_t n = s->len - s->pos;

        nl = memchr(p, '\n', n);
        if (nl == NULL && !s->eof) {
            if ((rc = more(s)) < -1) {
                return rc;
            }
            if (rc == 0) {
                continue;
            }
        }
        if (nl == NULL) {
            return 0; /* the last line: let the slow path see its end */
        }
        n = (size_t)(nl - p);
        if (memchr(p, '"', n) != NULL) {
            return 0;
        }
        if (n > 0) {
            const unsigned char *cr = memchr(p, '\r', n);

            if (cr != NULL && cr != nl - 1) {
                return 0;
            }
        }
        s->pos += n + 1;
        s->line++;
        return 1;
    }
}

static int skip_blank_csv(struct rawscan *s)
{
    int c;

    for (;;) {
        s->start = s->pos;
        if ((c = peek(s)) < 0) {
            return c;
        }
        if (c != '\n' && c != '\r') {
            return c;
        }
        s->pos++;
        if (c == '\r' && peek(s) == '\n') {
            s->pos++;
        }
        s->line++;
    }
}

static int next_csv(struct rawscan *s)
{
    int c;

    if ((c = skip_blank_csv(s)) < 0) {
        return c == -1 ? 0 : c;
    }
    s->rec_line = s->line;
    if (peek(s) != '"') {
        int rc = fast_csv(s);

        if (rc != 0) {
            return rc;
        }
        /* fast_csv only looked ahead: the slow path starts at the record */
        s->pos = s->start;
    }
    return slow_csv(s);
}

static int blank(const unsigned char *p, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n') {
            return 0;
        }
    }
    return 1;
}

static int next_jsonl(struct rawscan *s)
{
    int rc;

    for (;;) {
        const unsigned char *nl;

        s->start = s->pos;
        s->rec_line = s->line;
        while ((nl = memchr(s->buf + s->pos, '\n', s->len - s->pos)) == NULL) {
            s->pos = s->len;
            if ((rc = more(s)) < -1) {
                return rc;
            }
            if (rc == -1) {
                break;
            }
        }
        if (nl != NULL) {
            s->pos = (size_t)(nl - s->buf) + 1;
            s->line++;
        }
        else if (s->pos == s->start) {
            return 0;
        }
        if (!blank(s->buf + s->start, s->pos - s->start)) {
            return 1;
        }
    }
}

int rawscan_next(struct rawscan *s)
{
    int rc;

    s->start = s->pos;
    rc = s->jsonl ? next_jsonl(s) : next_csv(s);
    s->rec_len = rc > 0 ? s->pos - s->start : 0;
    return rc;
}

const char *rawscan_record(const struct rawscan *s, size_t *len)
{
    *len = s->rec_len;
    return (const char *)s->buf + s->start;
}

uint64_t rawscan_line(const struct rawscan *s)
{
    return s->rec_line;
}

const char *rawscan_path(const struct rawscan *s)
{
    return s->path;
}
