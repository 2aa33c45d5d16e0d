/* eventlog.c - the JSON-lines event log of one run. */
#include "eventlog.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "fsutil.h"
#include "redact.h"

struct weir_eventlog {
    int fd;
    char *path;
    char *run_id;
    pthread_mutex_t lock;
};

/* A run id becomes a directory name, so it must not climb out of runs/. */
static int check_run_id(const char *run_id)
{
    if (!run_id || !*run_id || strchr(run_id, '/') || strcmp(run_id, ".") == 0 ||
        strcmp(run_id, "..") == 0) {
        return weir_error_set(WEIR_EINVALID,
                              "event log: run id '%s' is not usable as a directory name; "
                              "use letters, digits, '-' and '_'",
                              run_id ? run_id : "(null)");
    }
    return WEIR_OK;
}

static char *join(const char *a, const char *b)
{
    char *s = NULL;

    if (asprintf(&s, "%s/%s", a, b) < 0) {
        return NULL;
    }
    return s;
}

int weir_eventlog_open(const char *workspace, const char *run_id, struct weir_eventlog **out)
{
    struct weir_eventlog *log = NULL;
    char *runs = NULL;
    char *dir = NULL;
    int rc;

    if ((rc = check_run_id(run_id)) < 0) {
        goto cleanup;
    }
    log = calloc(1, sizeof(*log));
    if (log) {
        log->fd = -1;
        runs = join(workspace, "runs");
        dir = runs ? join(runs, run_id) : NULL;
        log->path = dir ? join(dir, "events.jsonl") : NULL;
        log->run_id = strdup(run_id);
    }
    if (!log || !log->path || !log->run_id) {
        rc = weir_error_set(WEIR_ENOMEM, "out of memory opening the event log of run %s", run_id);
        goto cleanup;
    }
    if ((rc = weir_mkdir_p(dir)) < 0) {
        goto cleanup;
    }
    log->fd = open(log->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (log->fd < 0) {
        rc = weir_error_set(WEIR_EIO, "cannot open event log %s: %s; check permissions",
                            log->path, strerror(errno));
        goto cleanup;
    }
    pthread_mutex_init(&log->lock, NULL);
    *out = log;
    log = NULL;
cleanup:
    if (log) {
        if (log->fd >= 0) {
            close(log->fd);
        }
        free(log->path);
        free(log->run_id);
        free(log);
    }
    free(runs);
    free(dir);
    return rc;
}

/* ISO-8601 UTC with milliseconds: 2026-11-21T22:30:00.123Z. */
static void format_now(char *buf, size_t size)
{
    struct timespec ts;
    struct tm tm;
    size_t n;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, size - n, ".%03ldZ", ts.tv_nsec / 1000000);
}

/* The standard keys first, then the caller's; a caller's key that names a
 * standard one is dropped so that every line can be trusted for ts, run,
 * event and step. Steals fields. */
static json_t *build_event(const struct weir_eventlog *log, const char *event, const char *step,
                           json_t *fields)
{
    char ts[40];
    json_t *obj = json_object();
    const char *key;
    json_t *value;

    format_now(ts, sizeof(ts));
    if (!obj || json_object_set_new(obj, "ts", json_string(ts)) < 0 ||
        json_object_set_new(obj, "run", json_string(log->run_id)) < 0 ||
        json_object_set_new(obj, "event", json_string(event)) < 0 ||
        (step && json_object_set_new(obj, "step", json_string(step)) < 0)) {
        goto fail;
    }
    json_object_foreach(fields, key, value) {
        if (!json_object_get(obj, key) && json_object_set(obj, key, value) < 0) {
            goto fail;
        }
    }
    json_decref(fields);
    return obj;
fail:
    json_decref(fields);
    json_decref(obj);
    return NULL;
}

/* The line is written with one write(2) so O_APPEND keeps it whole against
 * other writers; the loop only matters for a short write (disk full). */
static int write_line(struct weir_eventlog *log, const char *line, size_t len)
{
    int rc = WEIR_OK;

    pthread_mutex_lock(&log->lock);
    while (len > 0) {
        ssize_t n = write(log->fd, line, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            rc = weir_error_set(WEIR_EIO, "cannot write to event log %s: %s; check free space",
                                log->path, strerror(errno));
            break;
        }
        line += n;
        len -= (size_t)n;
    }
    pthread_mutex_unlock(&log->lock);
    return rc;
}

int weir_eventlog_emit(struct weir_eventlog *log, const char *event, const char *step,
                       json_t *fields)
{
    json_t *obj = NULL;
    char *text = NULL;
    char *line = NULL;
    char *grown = NULL;
    size_t len;
    int rc = WEIR_OK;

    if (fields && !json_is_object(fields)) {
        json_decref(fields);
        return weir_error_set(WEIR_EINVALID, "event log %s: fields of event '%s' must be a JSON "
                              "object", log->path, event ? event : "(null)");
    }
    if (!event) {
        json_decref(fields);
        return weir_error_set(WEIR_EINVALID, "event log %s: event name missing", log->path);
    }
    obj = build_event(log, event, step, fields);
    text = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
    line = text ? weir_redact(text) : NULL;
    /* weir_redact never lengthens the text, but the newline needs a byte. */
    len = line ? strlen(line) : 0;
    grown = line ? realloc(line, len + 2) : NULL;
    if (!grown) {
        rc = weir_error_set(WEIR_ENOMEM, "out of memory writing event '%s' to %s", event,
                            log->path);
        goto cleanup;
    }
    line = grown;
    line[len] = '\n';
    line[len + 1] = '\0';
    rc = write_line(log, line, len + 1);
cleanup:
    json_decref(obj);
    free(text);
    free(line);
    return rc;
}

void weir_eventlog_close(struct weir_eventlog *log)
{
    if (!log) {
        return;
    }
    close(log->fd);
    pthread_mutex_destroy(&log->lock);
    free(log->path);
    free(log->run_id);
    free(log);
}
