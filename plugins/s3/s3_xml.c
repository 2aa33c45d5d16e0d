/*
 * s3_xml.c - a small, bounded reader for the few S3 XML documents weir
 * needs (ListBucketResult, Error, InitiateMultipartUploadResult,
 * CompleteMultipartUploadResult). Elements are matched by local name, since
 * S3-compatible servers differ in namespaces; no DTD or external entity is
 * ever expanded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3_internal.h"

#define DEPTH 16
#define PATH_MAX_LEN 512
#define TEXT_MAX ((size_t)64 << 10)

struct walker {
    const char *p, *end, *start;
    char path[PATH_MAX_LEN];
    size_t marks[DEPTH + 1]; /* path length before each open element */
    int depth;
    char *text;
    size_t tlen;
    s3_xml_fn fn;
    void *user;
};

static int bad(const struct walker *w, const char *what)
{
    return s3_host->error_set(WEIR_EINVALID, "malformed XML from S3 at byte %zu: %s",
                              (size_t)(w->p - w->start), what);
}

static void put_utf8(struct walker *w, unsigned long c)
{
    char *t = w->text + w->tlen;

    if (c < 0x80) {
        t[0] = (char)c, w->tlen += 1;
    }
    else if (c < 0x800) {
        t[0] = (char)(0xC0 | (c >> 6)), t[1] = (char)(0x80 | (c & 0x3F)), w->tlen += 2;
    }
    else if (c < 0x10000) {
        t[0] = (char)(0xE0 | (c >> 12)), t[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        t[2] = (char)(0x80 | (c & 0x3F)), w->tlen += 3;
    }
    else {
        t[0] = (char)(0xF0 | (c >> 18)), t[1] = (char)(0x80 | ((c >> 12) & 0x3F));
        t[2] = (char)(0x80 | ((c >> 6) & 0x3F)), t[3] = (char)(0x80 | (c & 0x3F)), w->tlen += 4;
    }
}

/* Decodes one entity at w->p ('&'). */
static int entity(struct walker *w)
{
    static const struct {
        const char *name;
        char c;
    } named[] = {
        { "lt;", '<' }, { "gt;", '>' }, { "amp;", '&' }, { "quot;", '"' }, { "apos;", '\'' },
    };
    const char *semi =
        memchr(w->p, ';', (size_t)(w->end - w->p) < 12 ? (size_t)(w->end - w->p) : 12);
    unsigned long c;
    char *stop;

    if (!semi) {
        return bad(w, "unterminated entity");
    }
    for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
        if ((size_t)(semi - w->p) == strlen(named[i].name) &&
            memcmp(w->p + 1, named[i].name, strlen(named[i].name)) == 0) {
            w->text[w->tlen++] = named[i].c;
            w->p = semi + 1;
            return WEIR_OK;
        }
    }
    if (w->p[1] != '#') {
        return bad(w, "unknown entity");
    }
    c = w->p[2] == 'x' ? strtoul(w->p + 3, &stop, 16) : strtoul(w->p + 2, &stop, 10);
    if (stop != semi || c == 0 || c > 0x10FFFF) {
        return bad(w, "bad character reference");
    }
    put_utf8(w, c);
    w->p = semi + 1;
    return WEIR_OK;
}

static int text(struct walker *w)
{
    while (w->p < w->end && *w->p != '<') {
        int rc;

        if (w->tlen + 8 >= TEXT_MAX) {
            return bad(w, "element text over 64 KiB");
        }
        if (*w->p == '&') {
            if ((rc = entity(w)) < 0) {
                return rc;
            }
            continue;
        }
        w->text[w->tlen++] = *w->p++;
    }
    return WEIR_OK;
}

/* Skips past the string `close`; false when it never comes. */
static int skip_past(struct walker *w, const char *close)
{
    const char *at = memmem(w->p, (size_t)(w->end - w->p), close, strlen(close));

    if (!at) {
        return 0;
    }
    w->p = at + strlen(close);
    return 1;
}

static int close_element(struct walker *w, const char *name, size_t n)
{
    size_t mark = w->marks[w->depth - 1];
    const char *top = w->path + mark + (mark > 0);

    if (strlen(top) != n || memcmp(top, name, n) != 0) {
        return bad(w, "closing tag does not match the open element");
    }
    w->text[w->tlen] = '\0';
    w->fn(w->user, w->path, w->text, w->tlen);
    w->path[mark] = '\0';
    w->depth--;
    w->tlen = 0;
    return WEIR_OK;
}

static int open_element(struct walker *w, const char *name, size_t n)
{
    size_t len = strlen(w->path);

    if (w->depth >= DEPTH || len + n + 2 >= PATH_MAX_LEN) {
        return bad(w, "elements nested too deeply");
    }
    w->marks[w->depth++] = len;
    snprintf(w->path + len, PATH_MAX_LEN - len, "%s%.*s", len ? "/" : "", (int)n, name);
    w->tlen = 0;
    return WEIR_OK;
}

/* A tag at w->p ('<'). */
static int tag(struct walker *w)
{
    const char *name, *colon, *gt;
    int closing = w->p[1] == '/';
    size_t n;
    int rc;

    if (w->p[1] == '?' || w->p[1] == '!') {
        if (w->end - w->p >= 9 && memcmp(w->p, "<![CDATA[", 9) == 0) {
            const char *endc = memmem(w->p, (size_t)(w->end - w->p), "]]>", 3);

            if (!endc || w->tlen + (size_t)(endc - w->p) >= TEXT_MAX) {
                return bad(w, "bad CDATA section");
            }
            memcpy(w->text + w->tlen, w->p + 9, (size_t)(endc - w->p - 9));
            w->tlen += (size_t)(endc - w->p - 9);
            w->p = endc + 3;
            return WEIR_OK;
        }
        if (w->p[1] == '!' && w->end - w->p >= 4 && memcmp(w->p, "<!--", 4) == 0) {
            return skip_past(w, "-->") ? WEIR_OK : bad(w, "unterminated comment");
        }
        if (w->p[1] == '!') {
            return bad(w, "DTDs are not accepted");
        }
        return skip_past(w, "?>") ? WEIR_OK : bad(w, "unterminated declaration");
    }
    name = w->p + 1 + closing;
    n = strcspn(name, " \t\r\n/>");
    if (n == 0 || name + n >= w->end || !(gt = memchr(name, '>', (size_t)(w->end - name)))) {
        return bad(w, "bad tag");
    }
    colon = memchr(name, ':', n);
    if (colon) {
        n -= (size_t)(colon + 1 - name);
        name = colon + 1;
    }
    w->p = gt + 1;
    if (closing) {
        return w->depth > 0 ? close_element(w, name, n) : bad(w, "closing tag without an open one");
    }
    if ((rc = open_element(w, name, n)) < 0) {
        return rc;
    }
    return gt[-1] == '/' ? close_element(w, name, n) : WEIR_OK;
}

int s3_xml_walk(const char *xml, size_t len, s3_xml_fn fn, void *user)
{
    struct walker w = { .p = xml, .end = xml + len, .start = xml, .fn = fn, .user = user };
    int rc = WEIR_OK;

    if (!(w.text = s3_host->malloc(TEXT_MAX))) {
        return s3_host->error_set(WEIR_ENOMEM, "out of memory");
    }
    while (rc == WEIR_OK && w.p < w.end) {
        rc = *w.p == '<' ? tag(&w) : text(&w);
    }
    if (rc == WEIR_OK && w.depth != 0) {
        rc = bad(&w, "document ends inside an element");
    }
    s3_host->free(w.text);
    return rc;
}

/* ---- finders ---------------------------------------------------------- */

struct find {
    const char *path;
    char *found;
};

static void find_cb(void *user, const char *path, const char *t, size_t len)
{
    struct find *f = user;

    if (!f->found && strcmp(path, f->path) == 0 && (f->found = s3_host->malloc(len + 1))) {
        memcpy(f->found, t, len + 1);
    }
}

char *s3_xml_find(const char *xml, size_t len, const char *path)
{
    struct find f = { path, NULL };

    if (!xml || s3_xml_walk(xml, len, find_cb, &f) < 0) {
        s3_host->free(f.found);
        return NULL;
    }
    return f.found;
}

void s3_xml_error(const char *xml, size_t len, char **code, char **message)
{
    *code = s3_xml_find(xml, len, "Error/Code");
    *message = *code ? s3_xml_find(xml, len, "Error/Message") : NULL;
}
