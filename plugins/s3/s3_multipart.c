/*
 * s3_multipart.c - large files as a multipart upload: CreateMultipartUpload,
 * one UploadPart per 8 MiB, CompleteMultipartUpload. The host streams a
 * request body only from a whole file, so each part is first copied to a
 * temp file (never held in memory). Any failure aborts the upload, so S3
 * keeps no orphaned parts and the key keeps its old content.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "s3_internal.h"

#define OP "store.put"
#define COPY_CHUNK ((size_t)1 << 20)

struct upload {
    weir_ctx *ctx;
    const struct s3_loc *loc;
    char *id;      /* UploadId, url-encoded for queries */
    json_t *etags; /* one per part, quoted as S3 sent them */
};

static int post_create(struct upload *u, const char *content_type)
{
    struct weir_http_response resp = { 0 };
    struct s3_req r = { .method = "POST", .key = u->loc->key, .query = "uploads=" };
    char ct[256], *id = NULL;
    const char *headers[] = { ct, NULL };
    int rc;

    snprintf(ct, sizeof(ct), "Content-Type: %s", content_type);
    r.headers = headers;
    if ((rc = s3_send(u->ctx, OP, u->loc, &r, &resp)) < 0) {
        return rc;
    }
    if (resp.status != 200) {
        rc = s3_fail(OP, u->loc, &resp, "s3:PutObject");
    }
    else if (!(id = s3_xml_find(resp.body, resp.body_len,
                                "InitiateMultipartUploadResult/UploadId"))) {
        rc = s3_host->error_set(WEIR_EIO,
                                OP ": %s: CreateMultipartUpload answered without an "
                                   "UploadId",
                                u->loc->uri);
    }
    else if (!(u->id = s3_uri_encode(id, 0))) {
        rc = s3_host->error_set(WEIR_ENOMEM, OP ": out of memory");
    }
    s3_host->free(id);
    s3_host->http_response_free(&resp);
    return rc;
}

/* Copies [off, off + len) of src into a new temp file; *tmp is its path. */
static int part_file(struct upload *u, int src, uint64_t off, uint64_t len, char **tmp)
{
    const char *dir = u->ctx ? s3_host->ctx_get(u->ctx, "workspace") : NULL;
    char *buf = s3_host->malloc(COPY_CHUNK);
    int fd = -1, rc = WEIR_OK;

    *tmp = NULL;
    if (!buf || asprintf(tmp, "%s/.weir-s3-part.XXXXXX", dir && *dir ? dir : P_tmpdir) < 0) {
        *tmp = NULL;
        rc = s3_host->error_set(WEIR_ENOMEM, OP ": out of memory");
        goto done;
    }
    if ((fd = mkstemp(*tmp)) < 0 && dir && *dir) {
        /* a workspace not created yet: the system's temp dir will do */
        free(*tmp);
        if (asprintf(tmp, "%s/.weir-s3-part.XXXXXX", P_tmpdir) < 0) {
            *tmp = NULL;
            rc = s3_host->error_set(WEIR_ENOMEM, OP ": out of memory");
            goto done;
        }
        fd = mkstemp(*tmp);
    }
    if (fd < 0) {
        rc = s3_host->error_set(WEIR_EIO, OP ": cannot create the part file '%s': %s", *tmp,
                                strerror(errno));
        goto done;
    }
    while (len > 0 && rc == WEIR_OK) {
        ssize_t n = pread(src, buf, len < COPY_CHUNK ? (size_t)len : COPY_CHUNK, (off_t)off);

        if (n <= 0 || write(fd, buf, (size_t)n) != n) {
            rc =
                s3_host->error_set(WEIR_EIO, OP ": %s: copying part bytes to '%s': %s", u->loc->uri,
                                   *tmp, n == 0 ? "the file shrank" : strerror(errno));
        }
        off += (uint64_t)(n > 0 ? n : 0);
        len -= (uint64_t)(n > 0 ? n : 0);
    }

done:
    if (fd >= 0 && close(fd) != 0 && rc == WEIR_OK) {
        rc = s3_host->error_set(WEIR_EIO, OP ": closing '%s': %s", *tmp, strerror(errno));
    }
    if (rc < 0 && *tmp) {
        unlink(*tmp);
        free(*tmp);
        *tmp = NULL;
    }
    s3_host->free(buf);
    return rc;
}

static int put_part(struct upload *u, int src, int number, uint64_t off, uint64_t len)
{
    struct weir_http_response resp = { 0 };
    struct s3_req r = { .method = "PUT", .key = u->loc->key };
    char query[1024], *tmp = NULL;
    const char *etag;
    int rc;

    if ((rc = part_file(u, src, off, len, &tmp)) < 0) {
        return rc;
    }
    snprintf(query, sizeof(query), "partNumber=%d&uploadId=%s", number, u->id);
    r.query = query;
    r.body_file = tmp;
    if ((rc = s3_send(u->ctx, OP, u->loc, &r, &resp)) == WEIR_OK && resp.status != 200) {
        rc = s3_fail(OP, u->loc, &resp, "s3:PutObject");
    }
    etag = json_string_value(json_object_get(resp.headers, "etag"));
    if (rc == WEIR_OK && (!etag || json_array_append_new(u->etags, json_string(etag)) < 0)) {
        rc = s3_host->error_set(WEIR_EIO, OP ": %s: part %d was stored without an ETag",
                                u->loc->uri, number);
    }
    unlink(tmp);
    free(tmp);
    s3_host->http_response_free(&resp);
    return rc;
}

/* The CompleteMultipartUpload document (libc-allocated). */
static char *complete_xml(const json_t *etags)
{
    char *buf = NULL;
    size_t len = 0, i;
    const json_t *e;
    FILE *f = open_memstream(&buf, &len);

    if (!f) {
        return NULL;
    }
    fputs("<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">", f);
    json_array_foreach(etags, i, e) {
        fprintf(f, "<Part><PartNumber>%zu</PartNumber><ETag>", i + 1);
        for (const char *p = json_string_value(e); *p; p++) {
            if (*p == '"' || *p == '&' || *p == '<') {
                fputs(*p == '"' ? "&quot;" : *p == '&' ? "&amp;" : "&lt;", f);
            }
            else {
                fputc(*p, f);
            }
        }
        fputs("</ETag></Part>", f);
    }
    fputs("</CompleteMultipartUpload>", f);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

static int post_complete(struct upload *u, int create_only, char **etag)
{
    struct weir_http_response resp = { 0 };
    struct s3_req r = { .method = "POST", .key = u->loc->key };
    const char *headers[] = { "Content-Type: application/xml",
                              create_only ? "If-None-Match: *" : NULL, NULL };
    char query[1024], *xml = complete_xml(u->etags), *code = NULL, *msg = NULL;
    int rc;

    if (!xml) {
        return s3_host->error_set(WEIR_ENOMEM, OP ": out of memory");
    }
    snprintf(query, sizeof(query), "uploadId=%s", u->id);
    r.query = query;
    r.headers = headers;
    r.body = xml;
    r.body_len = strlen(xml);
    if ((rc = s3_send(u->ctx, OP, u->loc, &r, &resp)) < 0) {
        goto done;
    }
    /* S3 may report a failed completion inside a 200 */
    s3_xml_error(resp.body, resp.body_len, &code, &msg);
    if (resp.status != 200 || code) {
        rc = s3_fail(OP, u->loc, &resp, "s3:PutObject");
        goto done;
    }
    *etag = s3_xml_find(resp.body, resp.body_len, "CompleteMultipartUploadResult/ETag");
    if (*etag && (*etag)[0] == '"') {
        size_t n = strlen(*etag);

        memmove(*etag, *etag + 1, n - 1);
        (*etag)[n - (n >= 2 && (*etag)[n - 1] == '"' ? 2 : 1)] = '\0';
    }

done:
    free(xml);
    s3_host->free(code);
    s3_host->free(msg);
    s3_host->http_response_free(&resp);
    return rc;
}

static void abort_upload(struct upload *u)
{
    struct weir_http_response resp = { 0 };
    struct s3_req r = { .method = "DELETE", .key = u->loc->key };
    char query[1024], keep[512];

    snprintf(keep, sizeof(keep), "%s", s3_host->error_last());
    snprintf(query, sizeof(query), "uploadId=%s", u->id);
    r.query = query;
    if (s3_send(u->ctx, OP, u->loc, &r, &resp) < 0 || (resp.status != 204 && resp.status != 200)) {
        s3_host->log(u->ctx, WEIR_LOG_WARN,
                     OP ": %s: aborting multipart upload failed (HTTP %ld); "
                        "its parts may remain until a bucket lifecycle rule "
                        "removes them",
                     u->loc->uri, resp.status);
    }
    s3_host->http_response_free(&resp);
    s3_host->error_set(WEIR_ERROR, "%s", keep); /* the caller reports the original failure */
}

int s3_multipart_put(weir_ctx *ctx, const struct s3_loc *loc, const char *path, uint64_t size,
                     int create_only, const char *content_type, char **etag)
{
    struct upload u = { ctx, loc, NULL, json_array() };
    int src = open(path, O_RDONLY | O_CLOEXEC), rc, number = 1;

    if (src < 0 || !u.etags) {
        rc = src < 0 ? s3_host->error_set(WEIR_EIO, OP ": %s: cannot open '%s': %s", loc->uri, path,
                                          strerror(errno))
                     : s3_host->error_set(WEIR_ENOMEM, OP ": out of memory");
        goto done;
    }
    if ((rc = post_create(&u, content_type)) < 0) {
        goto done;
    }
    for (uint64_t off = 0; off < size && rc == WEIR_OK; off += S3_PART_SIZE, number++) {
        uint64_t len = size - off < S3_PART_SIZE ? size - off : S3_PART_SIZE;

        if (ctx && (rc = s3_host->ctx_check(ctx)) < 0) {
            break;
        }
        rc = put_part(&u, src, number, off, len);
        if (ctx && rc == WEIR_OK) {
            s3_host->ctx_progress(ctx, off + len, size, "bytes");
        }
    }
    if (rc == WEIR_OK) {
        rc = post_complete(&u, create_only, etag);
    }
    if (rc < 0 && u.id) {
        int code = rc;

        abort_upload(&u);
        rc = code;
    }

done:
    if (src >= 0) {
        close(src);
    }
    s3_host->free(u.id);
    json_decref(u.etags);
    return rc;
}
