/*
 * infer_csv.c - reading a sample of delimited text for catalog.infer: records
 * (quote-aware, across line breaks) and fields. Not the engine's reader:
 * inference must describe files that reader would reject.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog_int.h"

#define MAX_RECORD (16u << 20)

int lake_cat_buf_add(struct lake_cat_buf *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        void *p;
        while (cap < b->n + n + 1) {
            cap *= 2;
        }
        if ((p = lake_host->realloc(b->p, cap)) == NULL) {
            return lake_host->error_set(WEIR_ENOMEM, "catalog.infer: out of memory");
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
    return WEIR_OK;
}

int lake_cat_src_open(struct lake_cat_src *s, const char *path)
{
    memset(s, 0, sizeof(*s));
    s->path = path;
    if ((s->f = fopen(path, "rb")) == NULL) {
        return lake_host->error_set(WEIR_EIO, "catalog.infer: cannot open '%s': %s", path,
                                    strerror(errno));
    }
    return WEIR_OK;
}

void lake_cat_src_close(struct lake_cat_src *s)
{
    if (s->f) {
        fclose(s->f);
    }
    free(s->lbuf); /* getline's buffer comes from the C library */
    lake_host->free(s->rec.p);
}

/* The next record, joining physical lines while a quote is open (quote
 * parity does not depend on the delimiter). 1, 0 at the end, or an error. */
int lake_cat_next_record(struct lake_cat_src *s)
{
    int inside = 0, rc;
    ssize_t len;

    s->rec.n = 0;
    do {
        if ((len = getline(&s->lbuf, &s->lcap, s->f)) < 0) {
            if (!inside) {
                return s->rec.n > 0 ? 1 : 0;
            }
            return lake_host->error_set(WEIR_EINVALID,
                                        "catalog.infer: %s:%llu: a quoted field is never closed",
                                        s->path, (unsigned long long)s->start);
        }
        if (s->rec.n == 0 && !inside) {
            s->start = s->line + 1;
        }
        s->line++;
        for (ssize_t i = 0; i < len; i++) {
            inside ^= s->lbuf[i] == '"';
        }
        if ((rc = lake_cat_buf_add(&s->rec, s->lbuf, (size_t)len)) < 0) {
            return rc;
        }
        if (s->rec.n > MAX_RECORD) {
            return lake_host->error_set(WEIR_EINVALID,
                                        "catalog.infer: %s:%llu: record longer than %u bytes",
                                        s->path, (unsigned long long)s->start, MAX_RECORD);
        }
    } while (inside);
    while (s->rec.n && (s->rec.p[s->rec.n - 1] == '\n' || s->rec.p[s->rec.n - 1] == '\r')) {
        s->rec.p[--s->rec.n] = '\0';
    }
    if (s->start == 1 && s->rec.n >= 3 && !memcmp(s->rec.p, "\xEF\xBB\xBF", 3)) {
        memmove(s->rec.p, s->rec.p + 3, s->rec.n - 2);
        s->rec.n -= 3;
    }
    return 1;
}

/* The next record that is not blank. */
int lake_cat_next_nonblank(struct lake_cat_src *s)
{
    int rc;

    while ((rc = lake_cat_next_record(s)) == 1 && s->rec.n == 0) {
    }
    return rc;
}

/* Splits rec into unquoted NUL-terminated fields, one after the other in out. */
int lake_cat_split(const char *rec, size_t len, char delim, struct lake_cat_buf *out, size_t *nf)
{
    size_t i = 0;
    int rc;

    out->n = 0;
    *nf = 0;
    for (;;) {
        if (i < len && rec[i] == '"') {
            for (i++; i < len; i++) {
                if (rec[i] == '"' && (i + 1 >= len || rec[i + 1] != '"')) {
                    i++;
                    break;
                }
                i += rec[i] == '"';
                if ((rc = lake_cat_buf_add(out, rec + i, 1)) < 0) {
                    return rc;
                }
            }
        }
        while (i < len && rec[i] != delim) {
            if ((rc = lake_cat_buf_add(out, rec + i++, 1)) < 0) {
                return rc;
            }
        }
        if ((rc = lake_cat_buf_add(out, "", 1)) < 0) {
            return rc;
        }
        (*nf)++;
        if (i >= len) {
            return WEIR_OK;
        }
        i++;
    }
}
