/*
 * step_json.c - core.json_read and core.json_write. Relative paths are
 * relative to the project directory (ctx "project"), so a pipeline behaves
 * the same whatever directory weir is started from.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core_internal.h"

/* ---- core.json_read ----------------------------------------------------- */

static const struct weir_param_desc read_params[] = {
    { "path", WEIR_PARAM_STRING, 1, NULL,
      "JSON file to read; a relative path is relative to the project directory" },
    { NULL, WEIR_PARAM_ANY, 0, NULL, NULL },
};

static int open_error(const char *step, const char *path, int err)
{
    if (err == ENOENT) {
        return core_host->error_set(WEIR_ENOTFOUND,
                                    "%s: file '%s' not found; relative paths start at the project "
                                    "directory", step, path);
    }
    return core_host->error_set(WEIR_EIO, "%s: cannot open '%s': %s", step, path, strerror(err));
}

static int load(FILE *f, const char *path, json_t **out)
{
    struct stat st;
    json_error_t jerr;

    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        return core_host->error_set(WEIR_EINVALID, "core.json_read: '%s' is a directory, not a file",
                                    path);
    }
    *out = json_loadf(f, JSON_DECODE_ANY, &jerr);
    if (!*out) {
        return core_host->error_set(WEIR_EINVALID,
                                    "core.json_read: '%s' line %d column %d: %s; fix the file or point "
                                    "`path` at valid JSON", path, jerr.line, jerr.column, jerr.text);
    }
    return WEIR_OK;
}

static int run_json_read(const json_t *input, json_t **out, weir_ctx *ctx, void *payload)
{
    const char *given = core_param_string(input, "path", NULL);
    char *path = NULL;
    FILE *f = NULL;
    int rc;

    (void)payload;
    if (!given || !*given) {
        return core_host->error_set(WEIR_EINVALID, "core.json_read: param 'path' must be a non-empty string");
    }
    if ((rc = core_path_resolve(ctx, given, &path)) < 0) {
        goto done;
    }
    if ((f = fopen(path, "re")) == NULL) {
        rc = open_error("core.json_read", path, errno);
        goto done;
    }
    rc = load(f, path, out);

done:
    if (f) {
        fclose(f);
    }
    core_host->free(path);
    return rc;
}

const struct weir_step_desc core_step_json_read = {
    .version = WEIR_STEP_DESC_VERSION,
    .name = "json_read",
    .description = "reads a JSON file and returns its value",
    .params = read_params,
    .run = run_json_read,
};

/* ---- core.json_write ---------------------------------------------------- */

static const struct weir_param_desc write_params[] = {
    { "path", WEIR_PARAM_STRING, 1, NULL,
      "file to write (parent directories are created); a relative path is relative to the project "
      "directory" },
    { "value", WEIR_PARAM_ANY, 0, "null", "the JSON value to write" },
    { "pretty", WEIR_PARAM_BOOLEAN, 0, "true", "indent by two spaces; false writes one compact line" },
    { NULL, WEIR_PARAM_ANY, 0, NULL, NULL },
};

/* Renders v with sorted keys and a trailing newline into a host-allocated buffer. */
static int render(const json_t *v, int pretty, char **text, size_t *len)
{
    /* 15 significant digits keep artifacts readable (0.1, not 0.10000000000000001) */
    size_t flags = JSON_SORT_KEYS | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15) |
                   (pretty ? JSON_INDENT(2) : JSON_COMPACT);
    size_t n = json_dumpb(v, NULL, 0, flags);
    char *buf;

    if (n == 0) {
        return core_host->error_set(WEIR_EINVALID, "core.json_write: the value cannot be encoded as JSON");
    }
    if ((buf = core_host->malloc(n + 1)) == NULL) {
        return core_host->error_set(WEIR_ENOMEM, "core.json_write: out of memory for %zu bytes", n + 1);
    }
    json_dumpb(v, buf, n, flags);
    buf[n] = '\n';
    *text = buf;
    *len = n + 1;
    return WEIR_OK;
}

static int io_error(const char *what, const char *path)
{
    return core_host->error_set(WEIR_EIO, "core.json_write: %s '%s': %s", what, path, strerror(errno));
}

/* mkdir -p, so a pipeline can write into an output folder it has not created. */
static int make_dirs(char *dir)
{
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/') {
            continue;
        }
        *p = '\0';
        if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
            int rc = io_error("cannot create directory", dir);
            *p = '/';
            return rc;
        }
        *p = '/';
    }
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        return io_error("cannot create directory", dir);
    }
    return WEIR_OK;
}

/* A fresh temp file next to the target, so that rename() stays on one filesystem. */
static int create_temp(const char *dir, const char *base, char **tmp, int *fd)
{
    static atomic_uint counter;

    for (int tries = 0; tries < 100; tries++) {
        char *name = core_printf("%s/.%s.tmp.%ld.%u", dir, base, (long)getpid(),
                                 atomic_fetch_add(&counter, 1));
        if (!name) {
            return core_host->error_set(WEIR_ENOMEM, "core.json_write: out of memory");
        }
        *fd = open(name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (*fd >= 0) {
            *tmp = name;
            return WEIR_OK;
        }
        if (errno != EEXIST) {
            int rc = io_error("cannot create temporary file", name);
            core_host->free(name);
            return rc;
        }
        core_host->free(name);
    }
    return core_host->error_set(WEIR_EIO, "core.json_write: no free temporary name in '%s'", dir);
}

static int write_all(int fd, const char *text, size_t len, const char *path)
{
    while (len > 0) {
        ssize_t n = write(fd, text, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return io_error("cannot write", path);
        }
        text += n;
        len -= (size_t)n;
    }
    return fsync(fd) == 0 ? WEIR_OK : io_error("cannot sync", path);
}

/* Makes the rename itself durable. Some filesystems cannot sync a directory
 * (EINVAL); the data is safe there anyway. */
static int sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc = WEIR_OK;

    if (fd < 0) {
        return io_error("cannot open directory", dir);
    }
    if (fsync(fd) != 0 && errno != EINVAL) {
        rc = io_error("cannot sync directory", dir);
    }
    close(fd);
    return rc;
}

/* Splits path into a host-allocated directory ("." when there is none) and its base name. */
static int split_path(const char *path, char **dir, const char **base)
{
    const char *slash = strrchr(path, '/');

    if (!slash) {
        *dir = core_strdup(".");
        *base = path;
    }
    else {
        *dir = slash == path ? core_strdup("/") : core_printf("%.*s", (int)(slash - path), path);
        *base = slash + 1;
    }
    if (!*dir) {
        return core_host->error_set(WEIR_ENOMEM, "core.json_write: out of memory");
    }
    if (!**base) {
        return core_host->error_set(WEIR_EINVALID, "core.json_write: path '%s' names a directory; "
                                    "give a file name", path);
    }
    return WEIR_OK;
}

static int write_atomic(const char *path, const char *text, size_t len)
{
    char *dir = NULL, *tmp = NULL;
    const char *base = NULL;
    int fd = -1, rc;

    if ((rc = split_path(path, &dir, &base)) < 0 || (rc = make_dirs(dir)) < 0 ||
        (rc = create_temp(dir, base, &tmp, &fd)) < 0 || (rc = write_all(fd, text, len, tmp)) < 0) {
        goto done;
    }
    rc = close(fd);
    fd = -1;
    if (rc != 0) {
        rc = io_error("cannot write", tmp);
        goto done;
    }
    if (rename(tmp, path) != 0) {
        rc = io_error("cannot replace", path);
        goto done;
    }
    core_host->free(tmp);
    tmp = NULL;
    rc = sync_dir(dir);

done:
    if (fd >= 0) {
        close(fd);
    }
    if (tmp) {
        unlink(tmp);
        core_host->free(tmp);
    }
    core_host->free(dir);
    return rc;
}

static int run_json_write(const json_t *input, json_t **out, weir_ctx *ctx, void *payload)
{
    const char *given = core_param_string(input, "path", NULL);
    const json_t *value = core_param(input, "value");
    char *path = NULL, *text = NULL;
    size_t len = 0;
    int rc;

    (void)payload;
    if (!given || !*given) {
        return core_host->error_set(WEIR_EINVALID, "core.json_write: param 'path' must be a non-empty string");
    }
    if ((rc = core_path_resolve(ctx, given, &path)) < 0 ||
        (rc = render(value ? value : json_null(), core_param_bool(input, "pretty", 1), &text, &len)) < 0 ||
        (rc = write_atomic(path, text, len)) < 0) {
        goto done;
    }
    *out = json_pack("{s:s, s:I}", "path", path, "bytes", (json_int_t)len);
    if (!*out) {
        rc = core_host->error_set(WEIR_ENOMEM, "core.json_write: out of memory");
    }

done:
    core_host->free(text);
    core_host->free(path);
    return rc;
}

const struct weir_step_desc core_step_json_write = {
    .version = WEIR_STEP_DESC_VERSION,
    .name = "json_write",
    .description = "writes `value` as JSON (sorted keys) to a file atomically; returns {path, bytes}",
    .params = write_params,
    .run = run_json_write,
};
