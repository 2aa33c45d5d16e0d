/* http_retry.c - the AWS standard retry mode for http.c: which answers are
 * worth another attempt, how long to wait, the process-wide retry budget,
 * and the clock-skew correction. */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctx.h"
#include "http.h"
#include "http_int.h"

#define BACKOFF_BASE_MS 100
#define BACKOFF_CAP_MS 20000
#define RETRY_TOKENS 500

int weir_http_aws_code_retryable(const char *code)
{
    static const char *const codes[] = { "Throttling",
                                         "ThrottlingException",
                                         "ThrottledException",
                                         "RequestThrottledException",
                                         "TooManyRequestsException",
                                         "ProvisionedThroughputExceededException",
                                         "TransactionInProgressException",
                                         "RequestLimitExceeded",
                                         "BandwidthLimitExceeded",
                                         "LimitExceededException",
                                         "RequestThrottled",
                                         "SlowDown",
                                         "PriorRequestNotComplete",
                                         "EC2ThrottledException",
                                         "RequestTimeout",
                                         "RequestTimeoutException",
                                         "TimeoutError",
                                         "ModelNotReadyException",
                                         NULL };
    const char *start = code ? strrchr(code, '#') : NULL;
    size_t n;

    if (!code) {
        return 0;
    }
    /* "aws.protocoltests#ThrottlingException:http://..." -> "ThrottlingException" */
    start = start ? start + 1 : code;
    n = strcspn(start, ":,");
    for (const char *const *c = codes; *c; c++) {
        if (strlen(*c) == n && !strncmp(start, *c, n)) {
            return 1;
        }
    }
    return 0;
}

/* The AWS error code of an error response: x-amzn-ErrorType, JSON __type or
 * code, XML <Code>. Copied into out (empty when there is none). */
void weir__http_error_code(const json_t *headers, const char *body, size_t len, char *out, size_t n)
{
    const char *hdr = json_string_value(json_object_get(headers, "x-amzn-errortype"));
    const char *xml;
    json_t *doc;

    out[0] = '\0';
    if (hdr) {
        snprintf(out, n, "%s", hdr);
        return;
    }
    if (!body) {
        return;
    }
    if ((doc = json_loadb(body, len, 0, NULL))) {
        const char *t = json_string_value(json_object_get(doc, "__type"));
        t = t ? t : json_string_value(json_object_get(doc, "code"));
        t = t ? t : json_string_value(json_object_get(doc, "Code"));
        snprintf(out, n, "%s", t ? t : "");
        json_decref(doc);
        return;
    }
    if ((xml = strstr(body, "<Code>"))) {
        const char *end = strstr(xml + 6, "</Code>");
        if (end) {
            snprintf(out, n, "%.*s", (int)(end - xml - 6), xml + 6);
        }
    }
}

/* Full jitter: uniform in [0, min(cap, base * 2^(attempt-1))]. */
long weir__http_backoff_ms(int attempt)
{
    static _Thread_local unsigned int seed;
    long ceiling = BACKOFF_BASE_MS;

    if (!seed) {
        seed = (unsigned int)weir_now_mono_ms() ^ (unsigned int)(uintptr_t)&seed;
        seed = seed ? seed : 1;
    }
    for (int i = 1; i < attempt && ceiling < BACKOFF_CAP_MS; i++) {
        ceiling *= 2;
    }
    ceiling = ceiling < BACKOFF_CAP_MS ? ceiling : BACKOFF_CAP_MS;
    return (long)(rand_r(&seed) % (ceiling + 1));
}

/* Seconds since the epoch of an HTTP date ("Sun, 22 Nov 2026 01:02:03 GMT"),
 * parsed without the locale; -1 when it is not one. */
static time_t http_date(const char *text)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    struct tm tm = { 0 };
    char mon[4] = "";
    const char *m;

    if (!text ||
        sscanf(text, "%*3s, %d %3s %d %d:%d:%d", &tm.tm_mday, mon, &tm.tm_year, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec) != 6 ||
        strlen(mon) != 3 || !(m = strstr(months, mon)) || (m - months) % 3) {
        return -1;
    }
    tm.tm_mon = (int)((m - months) / 3);
    tm.tm_year -= 1900;
    return timegm(&tm);
}

/* Seconds to add to the local clock, learnt from a server that said our
 * signature's time was off (see http.c). Process-wide, like an SDK client's. */
static _Atomic long clock_skew_s;

void weir__http_skew_set(long seconds)
{
    atomic_store(&clock_skew_s, seconds);
}

long weir__http_skew_get(void)
{
    return atomic_load(&clock_skew_s);
}

/* AWS rejects a signature more than 15 minutes off its clock. When it says
 * so and its Date header shows a real skew, sign with its time from now on
 * (the SDKs do the same); returns 1 when the request is worth one more try. */
int weir__http_skew_check(long status, const json_t *headers, const char *body, size_t len)
{
    static const char *const codes[] = { "RequestTimeTooSkewed",  "InvalidSignatureException",
                                         "SignatureDoesNotMatch", "RequestExpired",
                                         "AuthFailure",           NULL };
    time_t server = http_date(json_string_value(json_object_get(headers, "date")));
    long skew = (long)(server - time(NULL));
    char code[96];
    int known = 0;

    if ((status != 400 && status != 403) || server < 0 ||
        labs(skew - weir__http_skew_get()) < 240) {
        return 0;
    }
    weir__http_error_code(headers, body, len, code, sizeof(code));
    for (const char *const *c = codes; *c; c++) {
        known |= !strcmp(code, *c);
    }
    if (known) {
        weir__http_skew_set(skew);
    }
    return known;
}

/* The retry budget of the AWS standard retry mode: a process-wide bucket
 * that retries draw from and successes refill, so when a service is down
 * for everyone the parallel steps stop hammering it. */
static atomic_int retry_tokens = RETRY_TOKENS;

void weir__http_retry_tokens_set(int n)
{
    atomic_store(&retry_tokens, n);
}

int weir__http_tokens_take(int cost)
{
    int have = atomic_load(&retry_tokens);

    while (have >= cost) {
        if (atomic_compare_exchange_weak(&retry_tokens, &have, have - cost)) {
            return 1;
        }
    }
    return 0;
}

void weir__http_tokens_give(int n)
{
    int have = atomic_load(&retry_tokens);

    while (!atomic_compare_exchange_weak(&retry_tokens, &have,
                                         have + n > RETRY_TOKENS ? RETRY_TOKENS : have + n)) {
    }
}
