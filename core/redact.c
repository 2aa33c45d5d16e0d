/* redact.c - the process-wide registry of secret values and their masking. */
#include "redact.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Shorter values would mask ordinary words and digits. */
#define MIN_SECRET_LEN 4
#define MASK "***"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char **secrets;
static size_t n_secrets;
static size_t cap_secrets;

static bool known(const char *secret)
{
    for (size_t i = 0; i < n_secrets; i++) {
        if (strcmp(secrets[i], secret) == 0) {
            return true;
        }
    }
    return false;
}

static bool grow(void)
{
    size_t cap = cap_secrets ? cap_secrets * 2 : 8;
    char **v = realloc(secrets, cap * sizeof(*v));

    if (!v) {
        return false;
    }
    secrets = v;
    cap_secrets = cap;
    return true;
}

void weir_redact_add(const char *secret)
{
    char *copy = NULL;

    if (!secret || strlen(secret) < MIN_SECRET_LEN) {
        return;
    }
    pthread_mutex_lock(&lock);
    if (known(secret) || (n_secrets == cap_secrets && !grow())) {
        goto done;
    }
    copy = strdup(secret);
    if (copy) {
        secrets[n_secrets++] = copy;
    }
done:
    pthread_mutex_unlock(&lock);
}

/* Marks every byte covered by any occurrence of any secret. Occurrences may
 * overlap one another (a secret inside a longer one, "aaaa" in "aaaaaa", two
 * secrets sharing bytes); marking bytes rather than replacing text one secret
 * at a time means no part of any of them survives. */
static void mark(const char *text, bool *covered)
{
    for (size_t i = 0; i < n_secrets; i++) {
        size_t len = strlen(secrets[i]);
        for (const char *p = strstr(text, secrets[i]); p; p = strstr(p + 1, secrets[i])) {
            memset(covered + (p - text), 1, len);
        }
    }
}

/* Copies text, turning each maximal run of covered bytes into one MASK. */
static char *mask_covered(const char *text, size_t len, const bool *covered)
{
    /* A run of one byte can not occur (secrets are >= 4 bytes), so the result
     * is never longer than the input plus a terminator. */
    char *out = malloc(len + 1);
    size_t o = 0;

    if (!out) {
        return NULL;
    }
    for (size_t i = 0; i < len;) {
        if (!covered[i]) {
            out[o++] = text[i++];
            continue;
        }
        memcpy(out + o, MASK, strlen(MASK));
        o += strlen(MASK);
        while (i < len && covered[i]) {
            i++;
        }
    }
    out[o] = '\0';
    return out;
}

char *weir_redact(const char *text)
{
    bool *covered = NULL;
    char *out = NULL;
    size_t len;

    if (!text) {
        return NULL;
    }
    len = strlen(text);
    pthread_mutex_lock(&lock);
    if (n_secrets == 0) {
        pthread_mutex_unlock(&lock);
        return strdup(text);
    }
    covered = calloc(len + 1, sizeof(*covered));
    if (covered) {
        mark(text, covered);
    }
    pthread_mutex_unlock(&lock);
    if (covered) {
        out = mask_covered(text, len, covered);
    }
    free(covered);
    return out;
}

void weir_redact_reset(void)
{
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < n_secrets; i++) {
        free(secrets[i]);
    }
    free(secrets);
    secrets = NULL;
    n_secrets = 0;
    cap_secrets = 0;
    pthread_mutex_unlock(&lock);
}
