/*
 * redact.h - secrets never reach logs, errors or artifacts. Whatever reads a
 * secret (credentials, tokens) registers its value here; every log line,
 * event and user-facing error passes through weir_redact() on its way out.
 */
#ifndef WEIR_CORE_REDACT_H
#define WEIR_CORE_REDACT_H

#include <stddef.h>

/* Registers a secret value (copied). Values shorter than 4 bytes are ignored
 * (they would redact ordinary text). Thread-safe. */
void weir_redact_add(const char *secret);

/* Returns a new string (caller frees) with every registered secret replaced
 * by "***". NULL in, NULL out. */
char *weir_redact(const char *text);

/* Forgets all secrets (tests). */
void weir_redact_reset(void);

#endif
