/*
 * history.c - reads a table's stats history (stats-history/<table>/<date>.json)
 * through the store service. A daily job must not die because one day is
 * missing or one write was torn: gaps are normal, and an unreadable file is
 * skipped with a warning.
 */
#include "drift.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int drift_profile_valid(const json_t *p)
{
    return json_is_object(p) && json_is_integer(json_object_get(p, "row_count")) &&
           json_is_object(json_object_get(p, "column_stats"));
}

void drift_history_free(struct drift_history *h)
{
    for (size_t i = 0; i < h->n; i++) {
        json_decref(h->days[i].profile);
    }
    free(h->days);
    h->days = NULL;
    h->n = 0;
}

/* The day of a key "<prefix><YYYY-MM-DD>.json", or -1. */
static int key_day(const char *key, const char *prefix)
{
    size_t lp = strlen(prefix);

    if (strncmp(key, prefix, lp) != 0 || strlen(key + lp) != 15 ||
        strcmp(key + lp + 10, ".json") != 0) {
        return -1;
    }
    return drift_parse_day(key + lp);
}

static int cmp_day(const void *a, const void *b)
{
    const struct drift_day *x = a, *y = b;

    return (x->day > y->day) - (x->day < y->day);
}

/* Adds the profile of one listed key, or warns and skips it. */
static int load_day(weir_ctx *ctx, const char *key, int day, struct drift_history *h, size_t *cap)
{
    json_t *in = json_pack("{s:s,s:s}", "uri", key, "as", "json"), *got = NULL, *v;
    int rc = WEIR_OK;

    if (!in) {
        return drift_host->error_set(WEIR_ENOMEM, "drift: out of memory");
    }
    if (drift_host->service_call(ctx, "store", "get", in, &got) < 0) {
        drift_host->log(ctx, WEIR_LOG_WARN, "drift: skipping %s: %s", key,
                        drift_host->error_last());
        h->skipped++;
        goto done;
    }
    v = json_object_get(got, "value");
    if (!drift_profile_valid(v)) {
        drift_host->log(ctx, WEIR_LOG_WARN,
                        "drift: skipping %s: not a profile (no row_count or column_stats)", key);
        h->skipped++;
        goto done;
    }
    if (h->n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 32;
        struct drift_day *d = realloc(h->days, ncap * sizeof(*d));

        if (!d) {
            rc = drift_host->error_set(WEIR_ENOMEM, "drift: out of memory");
            goto done;
        }
        h->days = d;
        *cap = ncap;
    }
    h->days[h->n].day = day;
    h->days[h->n].profile = json_incref(v);
    h->n++;
done:
    json_decref(in);
    json_decref(got);
    return rc;
}

int drift_history_read(weir_ctx *ctx, const char *table, int to, int window,
                       struct drift_history *h)
{
    char *prefix = NULL, *token = NULL;
    json_t *page = NULL;
    size_t cap = 0;
    int rc = WEIR_OK;

    memset(h, 0, sizeof(*h));
    if (asprintf(&prefix, "stats-history/%s/", table) < 0) {
        prefix = NULL;
        rc = drift_host->error_set(WEIR_ENOMEM, "drift: out of memory");
        goto done;
    }
    do {
        json_t *in = json_pack("{s:s}", "prefix", prefix), *keys, *k;
        const char *next;
        size_t i;

        if (in && token) {
            json_object_set_new(in, "continuation_token", json_string(token));
        }
        json_decref(page);
        page = NULL;
        rc = in ? drift_host->service_call(ctx, "store", "list", in, &page)
                : drift_host->error_set(WEIR_ENOMEM, "drift: out of memory");
        json_decref(in);
        if (rc < 0) {
            goto done;
        }
        keys = json_object_get(page, "keys");
        json_array_foreach(keys, i, k) {
            const char *key = json_string_value(json_object_get(k, "key"));
            int day = key ? key_day(key, prefix) : -1;

            if (day >= to - window && day < to && (rc = load_day(ctx, key, day, h, &cap)) < 0) {
                goto done;
            }
        }
        next = json_is_true(json_object_get(page, "truncated"))
                   ? json_string_value(json_object_get(page, "next_continuation_token"))
                   : NULL;
        free(token);
        token = next ? strdup(next) : NULL;
        if (next && !token) {
            rc = drift_host->error_set(WEIR_ENOMEM, "drift: out of memory");
            goto done;
        }
        if ((rc = drift_host->ctx_check(ctx)) < 0) {
            goto done;
        }
    } while (token);
    /* keys come in bytewise order, which is date order, but say so anyway */
    if (h->n > 1) {
        qsort(h->days, h->n, sizeof(*h->days), cmp_day);
    }
done:
    if (rc < 0) {
        drift_history_free(h);
    }
    json_decref(page);
    free(prefix);
    free(token);
    return rc;
}

int drift_table_ok(const char *t)
{
    if (!*t || *t == '.') {
        return 0;
    }
    for (const char *p = t; *p; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '-' || *p == '.')) {
            return 0;
        }
    }
    return strstr(t, "..") == NULL;
}

int drift_store_get_json(weir_ctx *ctx, const char *uri, json_t **value)
{
    json_t *in = json_pack("{s:s,s:s}", "uri", uri, "as", "json"), *got = NULL;
    int rc;

    *value = NULL;
    if (!in) {
        return drift_host->error_set(WEIR_ENOMEM, "drift: out of memory");
    }
    rc = drift_host->service_call(ctx, "store", "get", in, &got);
    if (rc == WEIR_ENOTFOUND) {
        rc = WEIR_OK;
    }
    else if (rc == WEIR_OK) {
        *value = json_incref(json_object_get(got, "value"));
    }
    json_decref(in);
    json_decref(got);
    return rc;
}
