/*
 * fs_internal.h - what the source files of the fs plugin share. Nothing here
 * is exported: the plugin is built with hidden visibility and exports only
 * weir_plugin_fs_init.
 */
#ifndef FS_INTERNAL_H
#define FS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <weir/weir.h>

/* The host table, set once by the entry before any step can run. */
extern const struct weir_host_api *fs_host;

/* The store ops, registered by the entry with service "store". */
extern const struct weir_step_desc fs_step_get;
extern const struct weir_step_desc fs_step_put;
extern const struct weir_step_desc fs_step_head;
extern const struct weir_step_desc fs_step_delete;
extern const struct weir_step_desc fs_step_list;

/* In-progress puts write "<dir>/.weir-tmp.<random>"; list skips such names and
 * keys may not use them, so a half-written object is never seen. */
#define FS_TEMP_PREFIX ".weir-tmp."

/* Chunk size for reads and writes: large files stream through it. */
#define FS_CHUNK ((size_t)1 << 20)

/* Where a uri lands on disk. Every string is allocated with fs_host->malloc. */
struct fs_loc {
    const char *uri; /* as given; borrowed from the step input */
    char *root;      /* resolved store root directory */
    char *base;      /* the directory keys are relative to: root, or root/bucket */
    char *bucket;    /* NULL for a plain path */
    char *key;       /* key under base; for list, the key prefix (may be "") */
    char *path;      /* base/key; NULL for list */
};

/*
 * Resolves input[param] (uri, or prefix when is_prefix) and input "root"
 * against ctx "project". Refuses NUL bytes, empty keys, "." and ".."
 * segments, empty segments, reserved temp names, absolute paths outside the
 * root and unknown schemes, with messages that start with op.
 */
int fs_loc_resolve(weir_ctx *ctx, const json_t *input, const char *op, const char *param,
                   int is_prefix, struct fs_loc *loc);
void fs_loc_free(struct fs_loc *loc);

/* The uri of key under the same bucket (or plain root) as loc. */
char *fs_loc_uri(const struct fs_loc *loc, const char *key);

/* Strings allocated with fs_host->malloc; NULL when out of memory. */
char *fs_strdup(const char *s);
char *fs_printf(const char *fmt, ...) WEIR__PRINTF(1, 2);

/* Sets an out-of-memory error naming op. */
int fs_nomem(const char *op);

/* Sets a WEIR_EIO error from err: "<op>: <uri> (<path>): <what>: <strerror>". */
int fs_io_error(const char *op, const struct fs_loc *loc, const char *path, const char *what,
                int err);

/* Param getters: absent and null both mean "not given". */
const char *fs_param_string(const json_t *input, const char *name, const char *fallback);
json_int_t fs_param_int(const json_t *input, const char *name, json_int_t fallback);

/* WEIR_OK, or the code of a passed deadline or cancellation (ctx may be NULL). */
int fs_ctx_check(weir_ctx *ctx);

/* The etag: 64-bit FNV-1a over the content, as 16 lowercase hex digits. */
#define FS_HASH_INIT UINT64_C(0xcbf29ce484222325)
uint64_t fs_hash_update(uint64_t h, const void *data, size_t len);
void fs_hash_hex(uint64_t h, char out[17]);

/* ISO-8601 UTC with milliseconds, as S3 writes LastModified. */
void fs_time_iso(const struct timespec *t, char out[32]);

/* Reads the whole file behind fd, hashing it, without keeping it; *bytes is
 * its length. For head. */
int fs_hash_fd(weir_ctx *ctx, const char *op, const struct fs_loc *loc, int fd, uint64_t *hash,
               uint64_t *bytes);

/* fsync of a directory, so a rename or unlink in it is durable. Filesystems
 * that cannot sync a directory (EINVAL) are taken as done. */
int fs_sync_dir(const char *op, const struct fs_loc *loc, const char *dir);

/* The directory part of path (host-allocated). */
char *fs_dirname(const char *path);

#endif /* FS_INTERNAL_H */
