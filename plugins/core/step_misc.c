/*
 * step_misc.c - small steps for tests and pipelines: core.fail, core.flaky,
 * core.sleep and core.log.
 */
#include <limits.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "core_internal.h"

/* ---- core.fail ---------------------------------------------------------- */

static const struct weir_param_desc fail_params[] = {
    { "message", WEIR_PARAM_STRING, 0, "\"core.fail was asked to fail\"",
      "the error message the step fails with" },
    { "code", WEIR_PARAM_STRING, 0, "\"error\"",
      "error class: error, invalid or timeout (WEIR_ERROR, WEIR_EINVALID, WEIR_ETIMEOUT)" },
    { NULL, WEIR_PARAM_ANY, 0, NULL, NULL },
};

static int run_fail(const json_t *input, json_t **out, weir_ctx *ctx, void *payload)
{
    const char *message = core_param_string(input, "message", "core.fail was asked to fail");
    const char *code = core_param_string(input, "code", "error");

    (void)out;
    (void)ctx;
    (void)payload;
    if (!strcmp(code, "error")) {
        return core_host->error_set(WEIR_ERROR, "%s", message);
    }
    if (!strcmp(code, "invalid")) {
        return core_host->error_set(WEIR_EINVALID, "%s", message);
    }
    if (!strcmp(code, "timeout")) {
        return core_host->error_set(WEIR_ETIMEOUT, "%s", message);
    }
    return core_host->error_set(WEIR_EINVALID,
                                "core.fail: param 'code' must be error, invalid or timeout, got '%s'",
                                code);
}

const struct weir_step_desc core_step_fail = {
    .version = WEIR_STEP_DESC_VERSION,
    .name = "fail",
    .description = "always fails with `message`; for testing error handling",
    .params = fail_params,
    .run = run_fail,
};

/* ---- core.flaky --------------------------------------------------------- */

/*
 * Attempts seen so far, keyed by run id, step id and the `key` param. The
 * runner retries a step by calling run again, possibly on another thread, so
 * the table is shared and locked. It lives until the plugin is unloaded; the
 * entries are a few bytes per flaky step and run.
 */
static pthread_mutex_t flaky_lock = PTHREAD_MUTEX_INITIALIZER;
static json_t *flaky_attempts;

void core_flaky_reset(void)
{
    pthread_mutex_lock(&flaky_lock);
    json_decref(flaky_attempts);
    flaky_attempts = NULL;
    pthread_mutex_unlock(&flaky_lock);
}

static const struct weir_param_desc flaky_params[] = {
    { "failures", WEIR_PARAM_INTEGER, 0, "1", "how many attempts fail before one succeeds" },
    { "key", WEIR_PARAM_STRING, 0, "\"\"",
      "separates counters of several flaky calls in the same step (e.g. one per for_each item)" },
    { NULL, WEIR_PARAM_ANY, 0, NULL, NULL },
};

/* Counts one more attempt for key and returns its number (1 for the first). */
static int count_attempt(const char *key, json_int_t *attempt)
{
    json_int_t n;
    int rc = WEIR_OK;

    pthread_mutex_lock(&flaky_lock);
    if (!flaky_attempts && (flaky_attempts = json_object()) == NULL) {
        rc = core_host->error_set(WEIR_ENOMEM, "core.flaky: out of memory");
        goto done;
    }
    /* Keys join ids with a control character and need not be valid UTF-8. */
    n = json_integer_value(json_object_get(flaky_attempts, key)) + 1;
    if (json_object_set_new_nocheck(flaky_attempts, key, json_integer(n)) < 0) {
        rc = core_host->error_set(WEIR_ENOMEM, "core.flaky: out of memory");
        goto done;
    }
    *attempt = n;

done:
    pthread_mutex_unlock(&flaky_lock);
    return rc;
}

static int run_flaky(const json_t *input, json_t **out, weir_ctx *ctx, void *payload)
{
    json_int_t failures = core_param_int(input, "failures", 1);
    const char *key = core_param_string(input, "key", "");
    char *slot = NULL;
    json_int_t attempt = 0;
    int rc;

    (void)payload;
    slot = core_printf("%s\x1f%s\x1f%s", core_ctx_get(ctx, "run.id", ""),
                       core_ctx_get(ctx, "step.id", ""), key);
    if (!slot) {
        rc = core_host->error_set(WEIR_ENOMEM, "core.flaky: out of memory");
        goto done;
    }
    if ((rc = count_attempt(slot, &attempt)) < 0) {
        goto done;
    }
    if (attempt <= failures) {
        rc = core_host->error_set(WEIR_ERROR,
                                  "core.flaky: attempt %lld fails on purpose (failures: %lld, key: '%s')",
                                  (long long)attempt, (long long)failures, key);
        goto done;
    }
    *out = json_pack("{s:I}", "attempt", attempt);
    rc = *out ? WEIR_OK : core_host->error_set(WEIR_ENOMEM, "core.flaky: out of memory");

done:
    core_host->free(slot);
    return rc;
}

const struct weir_step_desc core_step_flaky = {
    .version = WEIR_STEP_DESC_VERSION,
    .name = "flaky",
    .description = "fails the first `failures` attempts, then returns {attempt}; for testing retry",
    .params = flaky_params,
    .run = run_flaky,
};

/* ---- core.sleep --------------------------------------------------------- */

/* Slices short enough that a timeout or a cancel is noticed within about 10 ms. */
#define SLEEP_SLICE_MS 10

static const struct weir_param_desc sleep_params[] = {
    { "ms", WEIR_PARAM_INTEGER, 1, NULL, "milliseconds to sleep (0 to 2147483647)" },
    { NULL, WEIR_PARAM_ANY, 0, NULL, NULL },
};

static void nap(int64_t ms)
{
    struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

    while (nanosleep(&ts, &ts) != 0) {
        /* EINTR: sleep the rest */
    }
}

static int run_sleep(const json_t *input, json_t **out, weir_ctx *ctx, void *payload)
{
    json_int_t ms = core_param_int(input, "ms", -1);
    int64_t end, left;
    int rc;

    (void)payload;
    if (ms < 0 || ms > INT_MAX) {
        return core_host->error_set(WEIR_EINVALID,
                                    "core.sleep: param 'ms' must be an integer from 0 to %d, got %lld",
                                    INT_MAX, (long long)ms);
    }
    end = core_now_ms() + ms;
    while ((rc = core_ctx_check(ctx)) == WEIR_OK && (left = end - core_now_ms()) > 0) {
        nap(left < SLEEP_SLICE_MS ? left : SLEEP_SLICE_MS);
    }
    if (rc < 0) {
        return rc;
    }
    *out = json_pack("{s:I}", "slept_ms", ms);
    return *out ? WEIR_OK : core_host->error_set(WEIR_ENOMEM, "core.sleep: out of memory");
}

const struct weir_step_desc core_step_sleep = {
    .version = WEIR_STEP_DESC_VERSION,
    .name = "sleep",
    .description = "sleeps `ms` milliseconds, stopping early on the step's timeout or a cancel",
    .params = sleep_params,
    .run = run_sleep,
};

/* ---- core.log ----------------------------------------------------------- */

static const struct weir_param_desc log_params[] = {
    { "message", WEIR_PARAM_STRING, 1, NULL, "the line to log" },
    { "level", WEIR_PARAM_STRING, 0, "\"info\"", "debug, info, warn or error" },
    { NULL, WEIR_PARAM_ANY, 0, NULL, NULL },
};

static int parse_level(const char *name, enum weir_log_level *level)
{
    static const char *const names[] = { "error", "warn", "info", "debug" };

    for (int i = 0; i < 4; i++) {
        if (!strcmp(name, names[i])) {
            *level = (enum weir_log_level)i;
            return WEIR_OK;
        }
    }
    return core_host->error_set(WEIR_EINVALID,
                                "core.log: param 'level' must be debug, info, warn or error, got '%s'",
                                name);
}

static int run_log(const json_t *input, json_t **out, weir_ctx *ctx, void *payload)
{
    enum weir_log_level level = WEIR_LOG_INFO;
    int rc;

    (void)payload;
    if ((rc = parse_level(core_param_string(input, "level", "info"), &level)) < 0) {
        return rc;
    }
    core_host->log(ctx, level, "%s", core_param_string(input, "message", ""));
    *out = json_null();
    return WEIR_OK;
}

const struct weir_step_desc core_step_log = {
    .version = WEIR_STEP_DESC_VERSION,
    .name = "log",
    .description = "logs `message` at `level` through the host and returns null",
    .params = log_params,
    .run = run_log,
};
