/*
 * fs_read.c - store.get, store.head and store.delete. A folder is never an
 * object (S3 has no folders), so get reports it missing, head says it does
 * not exist and delete leaves it alone.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs_internal.h"

#define ROOT_PARAM                                                                       \
    {                                                                                    \
        "root", WEIR_PARAM_STRING, 0, "\"lake\"",                                        \
            "store root directory; a relative path is relative to the project directory" \
    }
#define URI_PARAM                                                                               \
    {                                                                                           \
        "uri", WEIR_PARAM_STRING, 1, NULL,                                                      \
            "s3://bucket/key (stored at <root>/bucket/key) or a key relative to the store root" \
    }

static int not_found(const char *op, const struct fs_loc *loc)
{
    return fs_host->error_set(WEIR_ENOTFOUND,
                              "%s: %s: no such key (looked for '%s'); check the uri "
                              "and the store root, or put the object first",
                              op, loc->uri, loc->path);
}

/* Opens the object at loc for reading; a missing key or a folder is ENOTFOUND. */
static int open_object(const char *op, const struct fs_loc *loc, int *fd, struct stat *st)
{
    /* O_NONBLOCK: a FIFO at the path must not hang the step; it is refused below. */
    *fd = open(loc->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (*fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR) {
            return not_found(op, loc);
        }
        return fs_io_error(op, loc, loc->path, "cannot open", errno);
    }
    if (fstat(*fd, st) != 0) {
        return fs_io_error(op, loc, loc->path, "cannot stat", errno);
    }
    if (S_ISDIR(st->st_mode)) {
        return not_found(op, loc);
    }
    if (!S_ISREG(st->st_mode)) {
        return fs_host->error_set(WEIR_EINVALID, "%s: %s: '%s' is not a regular file", op, loc->uri,
                                  loc->path);
    }
    return WEIR_OK;
}

static int too_big(const struct fs_loc *loc, uint64_t size, json_int_t max)
{
    return fs_host->error_set(WEIR_EINVALID,
                              "store.get: %s (%s): %llu bytes or more, over max_bytes "
                              "%lld; raise max_bytes",
                              loc->uri, loc->path, (unsigned long long)size, (long long)max);
}

/* ---- store.get ---------------------------------------------------------- */

static const struct weir_param_desc get_params[] = {
    URI_PARAM,
    { "as", WEIR_PARAM_STRING, 0, "\"text\"",
      "\"text\": output body (a UTF-8 string); \"json\": parse and output value" },
    { "max_bytes", WEIR_PARAM_INTEGER, 0, "67108864",
      "refuse objects larger than this many bytes" },
    ROOT_PARAM,
    { NULL, WEIR_PARAM_ANY, 0, NULL, NULL },
};

/* Streams the file into jansson, hashing what goes by. */
struct reader {
    weir_ctx *ctx;
    int fd;
    uint64_t hash;
    uint64_t bytes;
    json_int_t max;
    int err;  /* errno of a failed read */
    int over; /* the file grew past max */
    int rc;   /* a deadline or cancellation */
};

static size_t read_cb(void *buf, size_t len, void *payload)
{
    struct reader *r = payload;
    ssize_t n;

    do {
        n = read(r->fd, buf, len);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        r->err = errno;
        return (size_t)-1;
    }
    r->hash = fs_hash_update(r->hash, buf, (size_t)n);
    r->bytes += (uint64_t)n;
    if (r->bytes > (uint64_t)r->max) {
        r->over = 1;
        return (size_t)-1;
    }
    if ((r->rc = fs_ctx_check(r->ctx)) < 0) {
        return (size_t)-1;
    }
    return (size_t)n;
}

static int get_json(const struct fs_loc *loc, struct reader *r, json_t **value)
{
    json_error_t jerr;

    /* Without JSON_DISABLE_EOF_CHECK jansson reads on to the end of the
     * file, so the etag covers every byte and trailing garbage is an error. */
    *value = json_load_callback(read_cb, r, JSON_DECODE_ANY, &jerr);
    if (r->rc < 0) {
        return r->rc;
    }
    if (r->err) {
        return fs_io_error("store.get", loc, loc->path, "cannot read", r->err);
    }
    if (r->over) {
        return too_big(loc, r->bytes, r->max);
    }
    if (!*value) {
        return fs_host->error_set(WEIR_EINVALID,
                                  "store.get: %s (%s): invalid JSON at line %d column "
                                  "%d: %s; fix the object or read it with as: text",
                                  loc->uri, loc->path, jerr.line, jerr.column, jerr.text);
    }
    return WEIR_OK;
}

/* Reads the whole object into one buffer sized from fstat (grown if the
 * file grows), then hands it to jansson as a string. */
static int get_text(const struct fs_loc *loc, struct reader *r, uint64_t size, json_t **body)
{
    size_t cap = (size_t)size + 1, used = 0;
    char *buf = fs_host->malloc(cap);
    int rc = WEIR_OK;
    size_t n;

    if (!buf) {
        return fs_nomem("store.get");
    }
    for (;;) {
        if (used == cap) {
            char *bigger = fs_host->realloc(buf, cap * 2);
            if (!bigger) {
                rc = fs_nomem("store.get");
                goto done;
            }
            buf = bigger;
            cap *= 2;
        }
        n = read_cb(buf + used, (cap - used) < FS_CHUNK ? cap - used : FS_CHUNK, r);
        if (n == 0 || n == (size_t)-1) {
            break;
        }
        used += n;
    }
    if (r->rc < 0) {
        rc = r->rc;
    }
    else if (r->err) {
        rc = fs_io_error("store.get", loc, loc->path, "cannot read", r->err);
    }
    else if (r->over) {
        rc = too_big(loc, r->bytes, r->max);
    }
    else if ((*body = json_stringn(buf, used)) == NULL) {
        rc = fs_host->error_set(WEIR_EINVALID,
                                "store.get: %s (%s): the content is not UTF-8 text, so "
                                "it cannot be a JSON string; store text or JSON in it",
                                loc->uri, loc->path);
    }

done:
    fs_host->free(buf);
    return rc;
}

static int get_output(const struct fs_loc *loc, const struct reader *r, const char *field,
                      json_t *content, json_t **out)
{
    char etag[17];

    fs_hash_hex(r->hash, etag);
    *out = json_pack("{s:s, s:I, s:s, s:o}", "uri", loc->uri, "bytes", (json_int_t)r->bytes, "etag",
                     etag, field, content);
    return *out ? WEIR_OK : fs_nomem("store.get");
}

static int run_get(const json_t *input, json_t **out, weir_ctx *ctx, void *payload)
{
    const char *as = fs_param_string(input, "as", "text");
    struct reader r = { .ctx = ctx, .fd = -1, .hash = FS_HASH_INIT };
    json_t *content = NULL;
    struct fs_loc loc;
    struct stat st;
    int rc;

    (void)payload;
    r.max = fs_param_int(input, "max_bytes", (json_int_t)64 << 20);
    if ((rc = fs_loc_resolve(ctx, input, "store.get", "uri", 0, &loc)) < 0) {
        return rc;
    }
    if (strcmp(as, "text") != 0 && strcmp(as, "json") != 0) {
        rc = fs_host->error_set(WEIR_EINVALID,
                                "store.get: %s: param 'as' is '%s'; use \"text\" or "
                                "\"json\"",
                                loc.uri, as);
        goto done;
    }
    if (r.max < 0) {
        rc = fs_host->error_set(WEIR_EINVALID, "store.get: param 'max_bytes' must be >= 0");
        goto done;
    }
    if ((rc = open_object("store.get", &loc, &r.fd, &st)) < 0) {
        goto done;
    }
    if ((uint64_t)st.st_size > (uint64_t)r.max) {
        rc = too_big(&loc, (uint64_t)st.st_size, r.max);
        goto done;
    }
    rc = !strcmp(as, "json") ? get_json(&loc, &r, &content)
                             : get_text(&loc, &r, (uint64_t)st.st_size, &content);
    if (rc < 0) {
        goto done;
    }
    rc = get_output(&loc, &r, !strcmp(as, "json") ? "value" : "body", content, out);
    content = NULL;

done:
    json_decref(content);
    if (r.fd >= 0) {
        close(r.fd);
    }
    fs_loc_free(&loc);
    return rc;
}

const struct weir_step_desc fs_step_get = {
    .version = WEIR_STEP_DESC_VERSION,
    .name = "get",
    .service = "store",
    .description =
        "reads an object; returns {uri, bytes, etag, body} or, with as: json, {..., value}",
    .params = get_params,
    .run = run_get,
};

/* ---- store.head --------------------------------------------------------- */

static const struct weir_param_desc head_params[] = {
    URI_PARAM,
    ROOT_PARAM,
    { NULL, WEIR_PARAM_ANY, 0, NULL, NULL },
};

static int head_missing(const struct fs_loc *loc, json_t **out)
{
    *out = json_pack("{s:s, s:b, s:n, s:n, s:n}", "uri", loc->uri, "exists", 0, "bytes", "etag",
                     "last_modified");
    return *out ? WEIR_OK : fs_nomem("store.head");
}

static int run_head(const json_t *input, json_t **out, weir_ctx *ctx, void *payload)
{
    char etag[17], when[32];
    uint64_t hash, bytes;
    struct fs_loc loc;
    struct stat st;
    int fd = -1, rc;

    (void)payload;
    if ((rc = fs_loc_resolve(ctx, input, "store.head", "uri", 0, &loc)) < 0) {
        return rc;
    }
    rc = open_object("store.head", &loc, &fd, &st);
    if (rc == WEIR_ENOTFOUND) {
        rc = head_missing(&loc, out);
        goto done;
    }
    if (rc < 0 || (rc = fs_hash_fd(ctx, "store.head", &loc, fd, &hash, &bytes)) < 0) {
        goto done;
    }
    fs_hash_hex(hash, etag);
    fs_time_iso(&st.st_mtim, when);
    *out = json_pack("{s:s, s:b, s:I, s:s, s:s}", "uri", loc.uri, "exists", 1, "bytes",
                     (json_int_t)bytes, "etag", etag, "last_modified", when);
    if (!*out) {
        rc = fs_nomem("store.head");
    }

done:
    if (fd >= 0) {
        close(fd);
    }
    fs_loc_free(&loc);
    return rc;
}

const struct weir_step_desc fs_step_head = {
    .version = WEIR_STEP_DESC_VERSION,
    .name = "head",
    .service = "store",
    .description = "describes an object; returns {uri, exists, bytes, etag, last_modified} "
                   "(exists false when missing)",
    .params = head_params,
    .run = run_head,
};

/* ---- store.delete ------------------------------------------------------- */

static const struct weir_param_desc delete_params[] = {
    URI_PARAM,
    ROOT_PARAM,
    { NULL, WEIR_PARAM_ANY, 0, NULL, NULL },
};

static int run_delete(const json_t *input, json_t **out, weir_ctx *ctx, void *payload)
{
    struct fs_loc loc;
    char *dir = NULL;
    int deleted = 0, rc;

    (void)payload;
    if ((rc = fs_loc_resolve(ctx, input, "store.delete", "uri", 0, &loc)) < 0) {
        return rc;
    }
    if (unlink(loc.path) == 0) {
        deleted = 1;
        if (!(dir = fs_dirname(loc.path))) {
            rc = fs_nomem("store.delete");
            goto done;
        }
        if ((rc = fs_sync_dir("store.delete", &loc, dir)) < 0) {
            goto done;
        }
    }
    else if (errno != ENOENT && errno != ENOTDIR && errno != EISDIR) {
        rc = fs_io_error("store.delete", &loc, loc.path, "cannot delete", errno);
        goto done;
    }
    /* Empty folders are left in place: removing them could race with a put
     * creating its temp file there, and list never shows them anyway. */
    *out = json_pack("{s:s, s:b}", "uri", loc.uri, "deleted", deleted);
    if (!*out) {
        rc = fs_nomem("store.delete");
    }

done:
    fs_host->free(dir);
    fs_loc_free(&loc);
    return rc;
}

const struct weir_step_desc fs_step_delete = {
    .version = WEIR_STEP_DESC_VERSION,
    .name = "delete",
    .service = "store",
    .description = "deletes an object; missing is fine; returns {uri, deleted}",
    .params = delete_params,
    .run = run_delete,
};
