/* fs_util.c - helpers shared by the store ops: strings, errors, params, hashing, time. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fs_internal.h"
#include "weir/util.h"

char *fs_strdup(const char *s)
{
    return weir_host_strdup(fs_host, s);
}

char *fs_printf(const char *fmt, ...)
{
    va_list ap;
    char *s;

    va_start(ap, fmt);
    s = weir_host_vprintf(fs_host, fmt, ap);
    va_end(ap);
    return s;
}

int fs_nomem(const char *op)
{
    return fs_host->error_set(WEIR_ENOMEM, "%s: out of memory", op);
}

int fs_io_error(const char *op, const struct fs_loc *loc, const char *path, const char *what,
                int err)
{
    return fs_host->error_set(WEIR_EIO,
                              "%s: %s (%s): %s: %s; check the store root's permissions "
                              "and free space",
                              op, loc->uri, path, what, strerror(err));
}

const char *fs_param_string(const json_t *input, const char *name, const char *fallback)
{
    const char *s = json_string_value(json_object_get(input, name));

    return s ? s : fallback;
}

json_int_t fs_param_int(const json_t *input, const char *name, json_int_t fallback)
{
    const json_t *v = json_object_get(input, name);

    return json_is_integer(v) ? json_integer_value(v) : fallback;
}

int fs_ctx_check(weir_ctx *ctx)
{
    return ctx ? fs_host->ctx_check(ctx) : WEIR_OK;
}

uint64_t fs_hash_update(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;

    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}

void fs_hash_hex(uint64_t h, char out[17])
{
    snprintf(out, 17, "%016llx", (unsigned long long)h);
}

void fs_time_iso(const struct timespec *t, char out[32])
{
    struct tm tm;
    char day[24];

    gmtime_r(&t->tv_sec, &tm);
    strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, 32, "%.19s.%03uZ", day, (unsigned)(t->tv_nsec / 1000000) % 1000u);
}

int fs_hash_fd(weir_ctx *ctx, const char *op, const struct fs_loc *loc, int fd, uint64_t *hash,
               uint64_t *bytes)
{
    char *buf = fs_host->malloc(FS_CHUNK);
    int rc = WEIR_OK;
    ssize_t n;

    *hash = FS_HASH_INIT;
    *bytes = 0;
    if (!buf) {
        return fs_nomem(op);
    }
    while ((n = read(fd, buf, FS_CHUNK)) != 0) {
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            rc = fs_io_error(op, loc, loc->path, "cannot read", errno);
            goto done;
        }
        *hash = fs_hash_update(*hash, buf, (size_t)n);
        *bytes += (uint64_t)n;
        if ((rc = fs_ctx_check(ctx)) < 0) {
            goto done;
        }
    }

done:
    fs_host->free(buf);
    return rc;
}

int fs_sync_dir(const char *op, const struct fs_loc *loc, const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc = WEIR_OK;

    if (fd < 0) {
        return fs_io_error(op, loc, dir, "cannot open directory", errno);
    }
    if (fsync(fd) != 0 && errno != EINVAL) {
        rc = fs_io_error(op, loc, dir, "cannot sync directory", errno);
    }
    close(fd);
    return rc;
}

char *fs_dirname(const char *path)
{
    const char *slash = strrchr(path, '/');

    if (!slash) {
        return fs_strdup(".");
    }
    if (slash == path) {
        return fs_strdup("/");
    }
    return fs_printf("%.*s", (int)(slash - path), path);
}
