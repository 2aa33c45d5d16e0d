/*
 * fs_put.c - store.put: an atomic write. The content goes to a fresh temp
 * file in the target's own directory (so the rename stays on one
 * filesystem), is synced, then renamed over the target (or linked, for a
 * conditional create) and the directory is synced. Any failure unlinks the
 * temp file, so readers only ever see the previous version or the new one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs_internal.h"

#define OP "store.put"

static const struct weir_param_desc put_params[] = {
    { "uri", WEIR_PARAM_STRING, 1, NULL,
      "s3://bucket/key (stored at <root>/bucket/key) or a key relative to the store root" },
    { "body", WEIR_PARAM_STRING, 0, NULL,
      "the content, as text; give exactly one of body and value" },
    { "value", WEIR_PARAM_ANY, 0, NULL,
      "a JSON value, stored as compact JSON with sorted keys and a final newline" },
    { "if_none_match", WEIR_PARAM_STRING, 0, NULL,
      "\"*\": create only; fail with 'already exists' if the key exists (race-free)" },
    { "content_type", WEIR_PARAM_STRING, 0, NULL,
      "accepted for S3 compatibility; the local store does not keep it" },
    { "root", WEIR_PARAM_STRING, 0, "\"lake\"",
      "store root directory; a relative path is relative to the project directory" },
    { NULL, WEIR_PARAM_ANY, 0, NULL, NULL },
};

/* The temp file being written, with what has gone into it so far. */
struct writer {
    const struct fs_loc *loc;
    weir_ctx *ctx;
    char *tmp;
    int fd;
    uint64_t hash;
    uint64_t bytes;
    char *buf; /* FS_CHUNK bytes, to batch the small pieces jansson emits */
    size_t used;
    int rc; /* first failure, once set every later write is refused */
};

static int write_raw(struct writer *w, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(w->fd, data, len);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return w->rc = fs_io_error(OP, w->loc, w->tmp, "cannot write", errno);
        }
        data += n;
        len -= (size_t)n;
    }
    return w->rc = fs_ctx_check(w->ctx);
}

static int flush(struct writer *w)
{
    int rc = w->used ? write_raw(w, w->buf, w->used) : WEIR_OK;

    w->used = 0;
    return rc;
}

/* Appends to the chunk buffer; big pieces go straight to the file, so a
 * large body is never copied whole. */
static int writer_put(struct writer *w, const char *data, size_t len)
{
    if (w->rc < 0) {
        return w->rc;
    }
    w->hash = fs_hash_update(w->hash, data, len);
    w->bytes += len;
    if (w->used + len <= FS_CHUNK) {
        memcpy(w->buf + w->used, data, len);
        w->used += len;
        return WEIR_OK;
    }
    if (flush(w) < 0) {
        return w->rc;
    }
    while (len > FS_CHUNK) {
        if (write_raw(w, data, FS_CHUNK) < 0) {
            return w->rc;
        }
        data += FS_CHUNK;
        len -= FS_CHUNK;
    }
    memcpy(w->buf, data, len);
    w->used = len;
    return WEIR_OK;
}

static int dump_cb(const char *data, size_t len, void *payload)
{
    return writer_put(payload, data, len) < 0 ? -1 : 0;
}

/* mkdir -p: creates missing parents first, and tells a key in the way
 * ("a" exists as an object, so "a/b" has nowhere to go) from other errors. */
static int make_dirs(const struct fs_loc *loc, char *dir)
{
    struct stat st;
    char *slash;
    int rc, err;

    if (mkdir(dir, 0777) == 0) {
        return WEIR_OK;
    }
    if (errno == ENOENT && (slash = strrchr(dir, '/')) != NULL && slash != dir) {
        *slash = '\0';
        rc = make_dirs(loc, dir);
        *slash = '/';
        if (rc < 0) {
            return rc;
        }
        if (mkdir(dir, 0777) == 0) {
            return WEIR_OK;
        }
    }
    err = errno;
    if (err == EEXIST && stat(dir, &st) == 0 && S_ISDIR(st.st_mode)) {
        return WEIR_OK;
    }
    if (err == EEXIST || err == ENOTDIR) {
        return fs_host->error_set(WEIR_EEXISTS,
                                  "%s: %s (%s): '%s' or one of its parents is an object, "
                                  "so nothing can be stored under it locally; delete it or choose "
                                  "another key",
                                  OP, loc->uri, loc->path, dir);
    }
    return fs_io_error(OP, loc, dir, "cannot create directory", err);
}

static uint64_t random_suffix(void)
{
    static _Atomic uint64_t counter;
    uint64_t r = 0;

    if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r)) {
        r = ((uint64_t)getpid() << 32) ^ (uint64_t)time(NULL);
    }
    return r ^ (counter++ * UINT64_C(0x9e3779b97f4a7c15));
}

static int create_temp(struct writer *w, const char *dir)
{
    for (int tries = 0; tries < 16; tries++) {
        w->tmp =
            fs_printf("%s/%s%016llx", dir, FS_TEMP_PREFIX, (unsigned long long)random_suffix());
        if (!w->tmp) {
            return fs_nomem(OP);
        }
        w->fd = open(w->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (w->fd >= 0) {
            /* The umask must not make objects unreadable to other readers. */
            (void)fchmod(w->fd, 0644);
            return WEIR_OK;
        }
        if (errno != EEXIST) {
            return fs_io_error(OP, w->loc, w->tmp, "cannot create temporary file", errno);
        }
        fs_host->free(w->tmp);
        w->tmp = NULL;
    }
    return fs_host->error_set(WEIR_EIO, "%s: %s: no free temporary name in '%s'", OP, w->loc->uri,
                              dir);
}

/* Writes the content, then makes it durable before anyone can see it. */
static int write_content(struct writer *w, const json_t *body, const json_t *value)
{
    if (body) {
        const char *s = json_string_value(body);
        writer_put(w, s, json_string_length(body));
    }
    /* 15 significant digits keep artifacts readable (0.1, not 0.10000000000000001) */
    else if (json_dump_callback(value, dump_cb, w, JSON_ENCODE_ANY | JSON_COMPACT | JSON_SORT_KEYS |
                                                       JSON_REAL_PRECISION(15)) != 0) {
        if (w->rc >= 0) {
            w->rc = fs_host->error_set(WEIR_EINVALID, "%s: %s: the value cannot be encoded as JSON",
                                       OP, w->loc->uri);
        }
    }
    else {
        writer_put(w, "\n", 1);
    }
    if (w->rc < 0 || flush(w) < 0) {
        return w->rc;
    }
    if (fsync(w->fd) != 0) {
        return fs_io_error(OP, w->loc, w->tmp, "cannot sync", errno);
    }
    if (close(w->fd) != 0) {
        w->fd = -1;
        return fs_io_error(OP, w->loc, w->tmp, "cannot write", errno);
    }
    w->fd = -1;
    return WEIR_OK;
}

/* Create-only: link() fails with EEXIST when the key exists, atomically. */
static int commit_new(struct writer *w)
{
    const struct fs_loc *loc = w->loc;
    int err;

    if (link(w->tmp, loc->path) == 0) {
        return WEIR_OK;
    }
    err = errno;
    if (err == EPERM || err == ENOTSUP || err == ENOSYS) {
        /* Some filesystems have no hard links; renameat2 gives the same guarantee. */
        if (renameat2(AT_FDCWD, w->tmp, AT_FDCWD, loc->path, RENAME_NOREPLACE) == 0) {
            return WEIR_OK;
        }
        err = errno;
    }
    if (err == EEXIST) {
        return fs_host->error_set(WEIR_EEXISTS,
                                  "%s: %s already exists (%s) and if_none_match is '*'; "
                                  "delete it first or drop if_none_match to overwrite",
                                  OP, loc->uri, loc->path);
    }
    return fs_io_error(OP, loc, loc->path, "cannot create", err);
}

static int commit_replace(struct writer *w)
{
    const struct fs_loc *loc = w->loc;

    if (rename(w->tmp, loc->path) == 0) {
        return WEIR_OK;
    }
    if (errno == EISDIR || errno == ENOTEMPTY || errno == EEXIST) {
        return fs_host->error_set(WEIR_EEXISTS,
                                  "%s: %s (%s) is a folder holding other keys, so it "
                                  "cannot be an object locally; choose another key",
                                  OP, loc->uri, loc->path);
    }
    return fs_io_error(OP, loc, loc->path, "cannot replace", errno);
}

/* Exactly one of body and value; a null value next to a body counts as absent. */
static int pick_content(const json_t *input, const struct fs_loc *loc, const json_t **body,
                        const json_t **value)
{
    *body = json_object_get(input, "body");
    *value = json_object_get(input, "value");
    if (json_is_null(*body)) {
        *body = NULL;
    }
    if (*body && json_is_null(*value)) {
        *value = NULL;
    }
    if ((*body != NULL) == (*value != NULL)) {
        return fs_host->error_set(WEIR_EINVALID,
                                  "%s: %s: give exactly one of 'body' (text) and "
                                  "'value' (JSON)",
                                  OP, loc->uri);
    }
    return WEIR_OK;
}

static int check_condition(const json_t *input, const struct fs_loc *loc, int *create_only)
{
    const char *cond = fs_param_string(input, "if_none_match", NULL);

    *create_only = cond != NULL;
    if (cond && strcmp(cond, "*") != 0) {
        return fs_host->error_set(WEIR_EINVALID,
                                  "%s: %s: if_none_match '%s' is not supported; only "
                                  "\"*\" (create if absent) is, as on S3",
                                  OP, loc->uri, cond);
    }
    return WEIR_OK;
}

static int put_file(const struct fs_loc *loc, const json_t *body, const json_t *value,
                    int create_only, struct writer *w)
{
    char *dir = fs_dirname(loc->path);
    int rc;

    if (!dir || !(w->buf = fs_host->malloc(FS_CHUNK))) {
        rc = fs_nomem(OP);
        goto done;
    }
    if ((rc = make_dirs(loc, dir)) < 0 || (rc = create_temp(w, dir)) < 0 ||
        (rc = write_content(w, body, value)) < 0 ||
        (rc = create_only ? commit_new(w) : commit_replace(w)) < 0) {
        goto done;
    }
    if (create_only) {
        unlink(w->tmp);
    }
    fs_host->free(w->tmp);
    w->tmp = NULL;
    rc = fs_sync_dir(OP, loc, dir);

done:
    if (w->fd >= 0) {
        close(w->fd);
    }
    if (w->tmp) {
        unlink(w->tmp);
        fs_host->free(w->tmp);
    }
    fs_host->free(w->buf);
    fs_host->free(dir);
    return rc;
}

static int run_put(const json_t *input, json_t **out, weir_ctx *ctx, void *payload)
{
    struct fs_loc loc;
    struct writer w = { .fd = -1, .hash = FS_HASH_INIT, .ctx = ctx };
    const json_t *body, *value;
    char etag[17];
    int create_only, rc;

    (void)payload;
    if ((rc = fs_loc_resolve(ctx, input, OP, "uri", 0, &loc)) < 0) {
        return rc;
    }
    w.loc = &loc;
    if ((rc = pick_content(input, &loc, &body, &value)) < 0 ||
        (rc = check_condition(input, &loc, &create_only)) < 0 ||
        (rc = put_file(&loc, body, value, create_only, &w)) < 0) {
        goto done;
    }
    fs_hash_hex(w.hash, etag);
    *out = json_pack("{s:s, s:I, s:s}", "uri", loc.uri, "bytes", (json_int_t)w.bytes, "etag", etag);
    if (!*out) {
        rc = fs_nomem(OP);
    }

done:
    fs_loc_free(&loc);
    return rc;
}

const struct weir_step_desc fs_step_put = {
    .version = WEIR_STEP_DESC_VERSION,
    .name = "put",
    .service = "store",
    .description =
        "writes an object atomically (temp file, fsync, rename); returns {uri, bytes, etag}",
    .params = put_params,
    .run = run_put,
};
