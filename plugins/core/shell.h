/*
 * shell.h - running one command for core.shell: fork + execvp of an argv
 * (never through a shell), in its own process group, with stdin fed and
 * stdout/stderr collected through poll() so that no pipe can fill up and
 * deadlock the two sides.
 */
#ifndef CORE_SHELL_H
#define CORE_SHELL_H

#include <stddef.h>
#include <stdint.h>

#include "core_internal.h"

struct shell_spec {
    char **argv;            /* NULL-terminated, at least one element */
    char **envp;            /* NULL-terminated: the child's whole environment */
    char *cwd;              /* NULL: inherit the caller's */
    const char *input;      /* bytes for stdin, or NULL for an empty stdin */
    size_t input_len;
    int64_t timeout_ms;     /* > 0: kill the command after this long */
    size_t max_output;      /* bytes kept of stdout and of stderr, each */
};

struct shell_buf {
    char *data;             /* host-allocated, not NUL-terminated; may be NULL */
    size_t len;
    size_t cap;
    int truncated;          /* output beyond max_output was dropped */
};

struct shell_result {
    int exit_code;          /* the exit status, or 128 + the signal that killed it */
    int signal;             /* that signal, 0 when the command exited */
    struct shell_buf out;
    struct shell_buf err;
    int64_t duration_ms;
};

/*
 * Runs spec to completion. The deadline is the earlier of spec->timeout_ms
 * and the step's own (host ctx_remaining_ms); when it passes, or the run is
 * cancelled, the whole process group gets SIGKILL.
 *
 * @return WEIR_OK once the command has exited, whatever its status;
 *         WEIR_ETIMEOUT or WEIR_ECANCELLED after killing it; WEIR_ENOTFOUND
 *         when the command or cwd does not exist; another negative code when
 *         it could not be started. res is filled in every case; free it with
 *         core_shell_result_free.
 */
int core_shell_exec(const struct shell_spec *spec, weir_ctx *ctx, struct shell_result *res);
void core_shell_result_free(struct shell_result *res);

#endif /* CORE_SHELL_H */
