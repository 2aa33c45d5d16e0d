/*
 * fs_list.c - store.list, shaped like S3 ListObjectsV2: keys under a prefix
 * in bytewise order, pages of max_keys, an opaque continuation token (the
 * last key or common prefix returned) and optional grouping by a delimiter.
 * Only the folders the prefix can reach are walked, and subtrees that sort
 * wholly before the token are skipped, so later pages do not re-read them.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fs_internal.h"

#define OP "store.list"

static const struct weir_param_desc list_params[] = {
    { "prefix", WEIR_PARAM_STRING, 1, NULL,
      "s3://bucket/ or s3://bucket/key-prefix, or a key prefix relative to the store root (\"\" "
      "for all)" },
    { "delimiter", WEIR_PARAM_STRING, 0, "null",
      "group keys by the part of the key after the prefix up to this string (\"/\": one folder "
      "level)" },
    { "max_keys", WEIR_PARAM_INTEGER, 0, "1000", "keys plus common prefixes per page (1..100000)" },
    { "continuation_token", WEIR_PARAM_STRING, 0, "null",
      "next_continuation_token of the previous page, to get the next one" },
    { "root", WEIR_PARAM_STRING, 0, "\"lake\"",
      "store root directory; a relative path is relative to the project directory" },
    { NULL, WEIR_PARAM_ANY, 0, NULL, NULL },
};

struct entry {
    char *key;
    uint64_t bytes;
    struct timespec mtime;
};

struct walk {
    weir_ctx *ctx;
    const struct fs_loc *loc;
    const char *prefix;
    size_t plen;
    const char *after; /* continuation token, or NULL */
    struct entry *v;
    size_t n, cap;
    unsigned ticks;
};

/* Can a key starting with sub (a folder, ending in '/') start with the prefix? */
static int reachable(const struct walk *w, const char *sub)
{
    size_t n = strlen(sub);

    return strncmp(sub, w->prefix, n < w->plen ? n : w->plen) == 0;
}

/* Does every key starting with sub sort at or before the token? True when
 * sub's successor (its final '/' raised to '0') is <= the token. */
static int before_token(const struct walk *w, const char *sub)
{
    size_t m = strlen(sub) - 1;
    int c;

    if (!w->after) {
        return 0;
    }
    c = strncmp(sub, w->after, m);
    return c < 0 || (c == 0 && (unsigned char)w->after[m] >= '0');
}

static int add_entry(struct walk *w, char *key, const struct stat *st)
{
    if (w->n == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 256;
        struct entry *v = fs_host->realloc(w->v, cap * sizeof(*v));
        if (!v) {
            return fs_nomem(OP);
        }
        w->v = v;
        w->cap = cap;
    }
    w->v[w->n].key = key;
    w->v[w->n].bytes = (uint64_t)st->st_size;
    w->v[w->n].mtime = st->st_mtim;
    w->n++;
    return WEIR_OK;
}

static int walk_dir(struct walk *w, const char *dir, const char *rel);

/* One directory entry: a folder to descend into, an object to keep, or neither. */
static int visit(struct walk *w, int dfd, const char *dir, const char *rel, const char *name)
{
    struct stat st;
    char *key, *sub = NULL, *path = NULL;
    int rc = WEIR_OK;

    if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        return WEIR_OK; /* deleted while we looked: not there any more */
    }
    /* A symlink to a file is an object; one to a folder is not followed (no cycles). */
    if (S_ISLNK(st.st_mode) && (fstatat(dfd, name, &st, 0) != 0 || !S_ISREG(st.st_mode))) {
        return WEIR_OK;
    }
    if (!(key = fs_printf("%s%s", rel, name))) {
        return fs_nomem(OP);
    }
    if (S_ISREG(st.st_mode)) {
        if (!strncmp(key, w->prefix, w->plen) && (!w->after || strcmp(key, w->after) > 0)) {
            if ((rc = add_entry(w, key, &st)) == WEIR_OK) {
                key = NULL;
            }
        }
        goto done;
    }
    if (!S_ISDIR(st.st_mode)) {
        goto done;
    }
    if (!(sub = fs_printf("%s/", key)) || !(path = fs_printf("%s/%s", dir, name))) {
        rc = fs_nomem(OP);
        goto done;
    }
    if (reachable(w, sub) && !before_token(w, sub)) {
        rc = walk_dir(w, path, sub);
    }

done:
    fs_host->free(key);
    fs_host->free(sub);
    fs_host->free(path);
    return rc;
}

static int walk_dir(struct walk *w, const char *dir, const char *rel)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int rc = WEIR_OK;

    if (!d) {
        if (errno == ENOENT || errno == ENOTDIR) {
            return WEIR_OK; /* nothing stored under this prefix yet */
        }
        return fs_io_error(OP, w->loc, dir, "cannot read folder", errno);
    }
    while ((de = readdir(d)) != NULL) {
        const char *name = de->d_name;

        if (!strcmp(name, ".") || !strcmp(name, "..") ||
            !strncmp(name, FS_TEMP_PREFIX, strlen(FS_TEMP_PREFIX))) {
            continue;
        }
        if ((++w->ticks & 255) == 0 && (rc = fs_ctx_check(w->ctx)) < 0) {
            goto done;
        }
        if ((rc = visit(w, dirfd(d), dir, rel, name)) < 0) {
            goto done;
        }
    }

done:
    closedir(d);
    return rc;
}

static int entry_cmp(const void *a, const void *b)
{
    return strcmp(((const struct entry *)a)->key, ((const struct entry *)b)->key);
}

/* ---- the page ----------------------------------------------------------- */

struct page {
    json_t *keys;
    json_t *prefixes;
    const char *last; /* last key or common prefix emitted */
    char *group;      /* last common prefix emitted (host-allocated) */
    json_int_t count;
};

static int emit_key(const struct walk *w, struct page *pg, const struct entry *e)
{
    char *uri = fs_loc_uri(w->loc, e->key);
    char when[32];
    json_t *item;

    fs_time_iso(&e->mtime, when);
    item = uri ? json_pack("{s:s, s:s, s:I, s:s}", "uri", uri, "key", e->key, "bytes",
                           (json_int_t)e->bytes, "last_modified", when)
               : NULL;
    fs_host->free(uri);
    if (!item || json_array_append_new(pg->keys, item) != 0) {
        return fs_nomem(OP);
    }
    pg->last = e->key;
    pg->count++;
    return WEIR_OK;
}

static int emit_group(const struct walk *w, struct page *pg, const char *key, size_t len)
{
    char *cp = fs_printf("%.*s", (int)len, key);
    char *uri = cp ? fs_loc_uri(w->loc, cp) : NULL;
    json_t *item = uri ? json_pack("{s:s, s:s}", "uri", uri, "prefix", cp) : NULL;

    fs_host->free(uri);
    if (!item || json_array_append_new(pg->prefixes, item) != 0) {
        fs_host->free(cp);
        return fs_nomem(OP);
    }
    fs_host->free(pg->group);
    pg->group = cp;
    pg->last = cp;
    pg->count++;
    return WEIR_OK;
}

/* Fills the page from the sorted entries; returns 1 in *truncated when more remain. */
static int fill_page(const struct walk *w, const char *delim, json_int_t max, struct page *pg,
                     int *truncated)
{
    size_t dlen = delim ? strlen(delim) : 0;
    int rc;

    *truncated = 0;
    for (size_t i = 0; i < w->n; i++) {
        const char *key = w->v[i].key;
        const char *hit = dlen ? strstr(key + w->plen, delim) : NULL;
        size_t glen = hit ? (size_t)(hit - key) + dlen : 0;

        if (hit && pg->group && strlen(pg->group) == glen && !strncmp(pg->group, key, glen)) {
            continue; /* same common prefix as the one just emitted */
        }
        if (hit && w->after && strncmp(key, w->after, glen) <= 0) {
            continue; /* this common prefix was returned on an earlier page */
        }
        if (pg->count == max) {
            *truncated = 1;
            return WEIR_OK;
        }
        if ((rc = hit ? emit_group(w, pg, key, glen) : emit_key(w, pg, &w->v[i])) < 0) {
            return rc;
        }
    }
    return WEIR_OK;
}

static int list_output(struct page *pg, int truncated, json_t **out)
{
    *out = json_pack("{s:O, s:O, s:o, s:b}", "keys", pg->keys, "common_prefixes", pg->prefixes,
                     "next_continuation_token", truncated ? json_string(pg->last) : json_null(),
                     "truncated", truncated);
    return *out ? WEIR_OK : fs_nomem(OP);
}

static int check_params(const struct fs_loc *loc, json_int_t max, const char *delim)
{
    if (max < 1 || max > 100000) {
        return fs_host->error_set(WEIR_EINVALID, "%s: %s: max_keys is %lld; give 1 to 100000", OP,
                                  loc->uri, (long long)max);
    }
    if (delim && *delim == '\0') {
        return fs_host->error_set(WEIR_EINVALID,
                                  "%s: %s: delimiter is empty; give \"/\" or leave it "
                                  "null",
                                  OP, loc->uri);
    }
    return WEIR_OK;
}

/* The folder the walk starts from: base plus the prefix up to its last '/'. */
static int start_dir(const struct fs_loc *loc, char **dir, char **rel)
{
    const char *slash = strrchr(loc->key, '/');
    int n = slash ? (int)(slash - loc->key) + 1 : 0;

    *rel = fs_printf("%.*s", n, loc->key);
    *dir = n ? fs_printf("%s/%.*s", loc->base, n - 1, loc->key) : fs_strdup(loc->base);
    return *rel && *dir ? WEIR_OK : fs_nomem(OP);
}

static int run_list(const json_t *input, json_t **out, weir_ctx *ctx, void *payload)
{
    const char *delim = fs_param_string(input, "delimiter", NULL);
    json_int_t max = fs_param_int(input, "max_keys", 1000);
    struct page pg = { 0 };
    struct walk w = { .ctx = ctx };
    char *dir = NULL, *rel = NULL;
    struct fs_loc loc;
    int truncated, rc;

    (void)payload;
    if ((rc = fs_loc_resolve(ctx, input, OP, "prefix", 1, &loc)) < 0) {
        return rc;
    }
    w.loc = &loc;
    w.prefix = loc.key;
    w.plen = strlen(loc.key);
    w.after = fs_param_string(input, "continuation_token", NULL);
    pg.keys = json_array();
    pg.prefixes = json_array();
    if (!pg.keys || !pg.prefixes) {
        rc = fs_nomem(OP);
        goto done;
    }
    if ((rc = check_params(&loc, max, delim)) < 0 || (rc = start_dir(&loc, &dir, &rel)) < 0 ||
        (rc = walk_dir(&w, dir, rel)) < 0) {
        goto done;
    }
    if (w.n > 1) {
        qsort(w.v, w.n, sizeof(*w.v), entry_cmp);
    }
    if ((rc = fill_page(&w, delim, max, &pg, &truncated)) < 0) {
        goto done;
    }
    rc = list_output(&pg, truncated, out);

done:
    for (size_t i = 0; i < w.n; i++) {
        fs_host->free(w.v[i].key);
    }
    fs_host->free(w.v);
    fs_host->free(pg.group);
    json_decref(pg.keys);
    json_decref(pg.prefixes);
    fs_host->free(dir);
    fs_host->free(rel);
    fs_loc_free(&loc);
    return rc;
}

const struct weir_step_desc fs_step_list = {
    .version = WEIR_STEP_DESC_VERSION,
    .name = "list",
    .service = "store",
    .description =
        "lists keys under a prefix like S3 ListObjectsV2; returns {keys, common_prefixes, "
        "next_continuation_token, truncated}",
    .params = list_params,
    .run = run_list,
};
