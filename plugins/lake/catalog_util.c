/*
 * catalog_util.c - helpers of the catalog files: host-allocated strings,
 * lexical path handling (locations need not exist yet), safe names, and
 * atomic writes.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog_int.h"
#include "weir/util.h"

/* The host table for every lake file. It lives in lake_core (not in the
 * entry) so that whatever links lake_core - the lake plugin, the contract
 * plugin, the tests - gets exactly one definition and sets it. */
const struct weir_host_api *lake_host;

char *lake_cat_strdup(const char *s)
{
    return weir_host_strdup(lake_host, s);
}

char *lake_cat_printf(const char *fmt, ...)
{
    va_list ap;
    char *s;

    va_start(ap, fmt);
    s = weir_host_vprintf(lake_host, fmt, ap);
    va_end(ap);
    return s;
}

void lake_cat_strv_free(char **v)
{
    for (size_t i = 0; v && v[i]; i++) {
        lake_host->free(v[i]);
    }
    lake_host->free(v);
}

/* Collapses "//", "/./" and "/x/.." in place; path is absolute. */
static void normalise(char *path)
{
    char *out = path, *seg = path;

    while (*seg) {
        char *end;
        size_t len;

        while (*seg == '/') {
            seg++;
        }
        end = strchr(seg, '/');
        len = end ? (size_t)(end - seg) : strlen(seg);
        if (len == 0 || (len == 1 && seg[0] == '.')) {
            /* nothing to keep */
        }
        else if (len == 2 && seg[0] == '.' && seg[1] == '.') {
            while (out > path && *--out != '/') {
            }
        }
        else {
            *out++ = '/';
            memmove(out, seg, len);
            out += len;
        }
        seg += len;
    }
    if (out == path) {
        *out++ = '/';
    }
    *out = '\0';
}

char *lake_cat_path_abs(const char *base, const char *path)
{
    char cwd[PATH_MAX];
    char *full, *b = NULL;

    if (path[0] == '/') {
        full = lake_cat_strdup(path);
    }
    else {
        if (!base || base[0] != '/') {
            if (!getcwd(cwd, sizeof(cwd))) {
                return NULL;
            }
            b = base ? lake_cat_printf("%s/%s", cwd, base) : lake_cat_strdup(cwd);
            if (!b) {
                return NULL;
            }
            base = b;
        }
        full = lake_cat_printf("%s/%s", base, path);
    }
    lake_host->free(b);
    if (full) {
        normalise(full);
    }
    return full;
}

char *lake_cat_dirname(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *d;

    if (!slash || slash == path) {
        return lake_cat_strdup("/");
    }
    if ((d = lake_host->malloc((size_t)(slash - path) + 1)) != NULL) {
        memcpy(d, path, (size_t)(slash - path));
        d[slash - path] = '\0';
    }
    return d;
}

int lake_cat_name_ok(const char *name)
{
    if (!name || !*name || name[0] == '-' || name[0] == '.') {
        return 0;
    }
    for (const char *p = name; *p; p++) {
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-') {
            return 0;
        }
    }
    return 1;
}

char *lake_cat_project_path(weir_ctx *ctx, const char *path)
{
    const char *project = ctx ? lake_host->ctx_get(ctx, "project") : NULL;

    return lake_cat_path_abs(project && *project ? project : NULL, path);
}

static int make_dirs(char *dir)
{
    for (char *p = dir + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
                int rc = lake_host->error_set(WEIR_EIO, "cannot create directory '%s': %s", dir,
                                              strerror(errno));
                *p = c;
                return rc;
            }
            *p = c;
            if (c == '\0') {
                return WEIR_OK;
            }
        }
    }
}

int lake_cat_write_atomic(const char *path, const char *text, size_t len)
{
    static atomic_uint counter;
    char *dir = lake_cat_dirname(path), *tmp = NULL;
    int fd = -1, rc = WEIR_OK;

    if (!dir || (rc = make_dirs(dir)) < 0) {
        rc = dir ? rc : lake_host->error_set(WEIR_ENOMEM, "out of memory");
        goto done;
    }
    tmp = lake_cat_printf("%s.tmp.%ld.%u", path, (long)getpid(), atomic_fetch_add(&counter, 1));
    if (!tmp || (fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666)) < 0) {
        rc = lake_host->error_set(WEIR_EIO, "cannot create '%s': %s", tmp ? tmp : path,
                                  strerror(errno));
        goto done;
    }
    if (write(fd, text, len) != (ssize_t)len || fsync(fd) != 0 || close(fd) != 0) {
        rc = lake_host->error_set(WEIR_EIO, "cannot write '%s': %s", tmp, strerror(errno));
        fd = -1;
        unlink(tmp);
        goto done;
    }
    fd = -1;
    if (rename(tmp, path) != 0) {
        rc = lake_host->error_set(WEIR_EIO, "cannot rename '%s' to '%s': %s", tmp, path,
                                  strerror(errno));
        unlink(tmp);
        goto done;
    }
    if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
        fsync(fd); /* the rename itself survives a crash */
    }

done:
    if (fd >= 0) {
        close(fd);
    }
    lake_host->free(tmp);
    lake_host->free(dir);
    return rc;
}
