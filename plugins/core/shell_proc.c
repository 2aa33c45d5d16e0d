/*
 * shell_proc.c - the process side of core.shell: spawning the command,
 * feeding and draining its pipes, enforcing the deadline, reaping it.
 *
 * Steps run on worker threads of a multi-threaded host, so everything the
 * child needs (argv, environment, cwd) is prepared before fork(), and the
 * child only calls async-signal-safe functions until execvp().
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shell.h"

extern char **environ;

/* How often a long wait looks at the deadline and at cancellation. */
#define POLL_SLICE_MS 50
/* Bytes moved per read() or write() call. */
#define IO_CHUNK 16384

/* Where the child failed before execvp() replaced it, reported back through a pipe. */
enum child_stage { STAGE_SETUP = 1, STAGE_CWD, STAGE_EXEC };

/* The parent's view of a running child; an fd is -1 once closed. */
struct child {
    pid_t pid;
    int in_fd;
    int out_fd;
    int err_fd;
    size_t in_off;
};

static void close_fd(int *fd)
{
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

/* Keeps pipe ends off 0..2, so the child's dup2() onto stdio can never
 * clobber another pipe end (a host may run with stdin closed). */
static int lift_fd(int *fd)
{
    int high;

    if (*fd > 2) {
        return 0;
    }
    high = fcntl(*fd, F_DUPFD_CLOEXEC, 3);
    if (high < 0) {
        return -1;
    }
    close(*fd);
    *fd = high;
    return 0;
}

static int make_pipe(int p[2])
{
    if (pipe2(p, O_CLOEXEC) != 0 || lift_fd(&p[0]) != 0 || lift_fd(&p[1]) != 0) {
        return core_host->error_set(WEIR_EIO, "core.shell: cannot create a pipe: %s", strerror(errno));
    }
    return WEIR_OK;
}

static void child_fail(int report, enum child_stage stage)
{
    int msg[2] = { (int)stage, errno };
    ssize_t ignored = write(report, msg, sizeof(msg));

    (void)ignored;
    _exit(127);
}

/* Runs in the child: never returns. */
static void child_exec(const struct shell_spec *spec, int in, int out, int err, int report)
{
    struct sigaction dfl;
    sigset_t none;

    /* Own process group, so a timeout can kill everything the command started. */
    setpgid(0, 0);
    /* Ignored signals and the thread's mask survive exec; the command expects neither. */
    memset(&dfl, 0, sizeof(dfl));
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; sig++) {
        sigaction(sig, &dfl, NULL);
    }
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) {
        child_fail(report, STAGE_SETUP);
    }
    if (spec->cwd && chdir(spec->cwd) != 0) {
        child_fail(report, STAGE_CWD);
    }
#ifdef CLOSE_RANGE_CLOEXEC
    /* Descriptors other threads opened without O_CLOEXEC must not leak into the command. */
    close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
#endif
    /* execvp() searches the PATH of the environment the command gets. */
    environ = spec->envp;
    execvp(spec->argv[0], spec->argv);
    child_fail(report, STAGE_EXEC);
}

static int start_error(const struct shell_spec *spec, int stage, int err)
{
    const char *argv0 = spec->argv[0];

    if (stage == STAGE_CWD && err == ENOENT) {
        return core_host->error_set(WEIR_ENOTFOUND, "core.shell: cwd '%s' does not exist; a relative "
                                    "cwd starts at the project directory", spec->cwd);
    }
    if (stage == STAGE_CWD) {
        return core_host->error_set(WEIR_EIO, "core.shell: cannot change to cwd '%s': %s", spec->cwd,
                                    strerror(err));
    }
    if (stage == STAGE_EXEC && err == ENOENT) {
        return core_host->error_set(WEIR_ENOTFOUND, "core.shell: command '%s' not found; put it on "
                                    "PATH (or env.PATH) or give its path in argv[0]", argv0);
    }
    if (stage == STAGE_EXEC) {
        return core_host->error_set(err == EACCES ? WEIR_EINVALID : WEIR_EIO,
                                    "core.shell: cannot run '%s': %s", argv0, strerror(err));
    }
    return core_host->error_set(WEIR_EIO, "core.shell: cannot set up '%s': %s", argv0, strerror(err));
}

/* Waits for the child to exec. The report pipe closes on a successful
 * execvp() (O_CLOEXEC) and carries {stage, errno} otherwise. */
static int read_report(int fd, const struct shell_spec *spec, struct child *c)
{
    int msg[2];
    ssize_t n;

    do {
        n = read(fd, msg, sizeof(msg));
    } while (n < 0 && errno == EINTR);
    if (n == 0) {
        return WEIR_OK;
    }
    while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR) {
    }
    c->pid = -1;
    if (n != (ssize_t)sizeof(msg)) {
        return core_host->error_set(WEIR_EIO, "core.shell: lost track of '%s' while starting it",
                                    spec->argv[0]);
    }
    return start_error(spec, msg[0], msg[1]);
}

static int spawn(const struct shell_spec *spec, struct child *c)
{
    int in[2] = { -1, -1 }, out[2] = { -1, -1 }, err[2] = { -1, -1 }, report[2] = { -1, -1 };
    int rc;

    if ((rc = make_pipe(in)) < 0 || (rc = make_pipe(out)) < 0 || (rc = make_pipe(err)) < 0 ||
        (rc = make_pipe(report)) < 0) {
        goto done;
    }
    c->pid = fork();
    if (c->pid < 0) {
        rc = core_host->error_set(WEIR_EIO, "core.shell: cannot start '%s': fork: %s", spec->argv[0],
                                  strerror(errno));
        goto done;
    }
    if (c->pid == 0) {
        child_exec(spec, in[0], out[1], err[1], report[1]);
    }
    /* Also set here: the group must exist before any kill() of ours can target it. */
    setpgid(c->pid, c->pid);
    close_fd(&report[1]);
    if ((rc = read_report(report[0], spec, c)) < 0) {
        goto done;
    }
    c->in_fd = in[1];
    c->out_fd = out[0];
    c->err_fd = err[0];
    in[1] = out[0] = err[0] = -1;
    fcntl(c->in_fd, F_SETFL, O_NONBLOCK);

done:
    for (int i = 0; i < 2; i++) {
        close_fd(&in[i]);
        close_fd(&out[i]);
        close_fd(&err[i]);
        close_fd(&report[i]);
    }
    return rc;
}

/* Appends up to the cap; what does not fit is dropped and remembered. */
static int buf_append(struct shell_buf *b, const char *data, size_t n, size_t max)
{
    size_t keep = max - b->len < n ? max - b->len : n;

    if (keep < n) {
        b->truncated = 1;
    }
    if (keep == 0) {
        return WEIR_OK;
    }
    if (b->len + keep > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        char *bigger;
        while (cap < b->len + keep) {
            cap *= 2;
        }
        cap = cap > max ? max : cap;
        if ((bigger = core_host->realloc(b->data, cap)) == NULL) {
            return core_host->error_set(WEIR_ENOMEM, "core.shell: out of memory for %zu bytes of output",
                                        cap);
        }
        b->data = bigger;
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, keep);
    b->len += keep;
    return WEIR_OK;
}

/* Reads what is there; closes the fd at end of file. */
static int drain(int *fd, struct shell_buf *b, size_t max)
{
    char chunk[IO_CHUNK];
    ssize_t n = read(*fd, chunk, sizeof(chunk));

    if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
        return WEIR_OK;
    }
    if (n <= 0) {
        close_fd(fd);
        return WEIR_OK;
    }
    return buf_append(b, chunk, (size_t)n, max);
}

/* Writes the next piece of stdin; closes it when all is written or the
 * command stopped reading (EPIPE is not an error: it may not want stdin). */
static void feed(struct child *c, const struct shell_spec *spec)
{
    size_t left = spec->input_len - c->in_off;
    ssize_t n = left ? write(c->in_fd, spec->input + c->in_off, left < IO_CHUNK ? left : IO_CHUNK) : 0;

    if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
        return;
    }
    if (n > 0) {
        c->in_off += (size_t)n;
    }
    if (n <= 0 || c->in_off == spec->input_len) {
        close_fd(&c->in_fd);
    }
}

/* WEIR_OK with how long the next wait may be, or the reason to stop now. */
static int next_wait(weir_ctx *ctx, int64_t deadline, int *wait_ms)
{
    int64_t left;
    int rc;

    if ((rc = core_ctx_check(ctx)) < 0) {
        return rc;
    }
    *wait_ms = POLL_SLICE_MS;
    if (deadline >= 0) {
        left = deadline - core_now_ms();
        if (left <= 0) {
            return WEIR_ETIMEOUT;
        }
        *wait_ms = left < POLL_SLICE_MS ? (int)left : POLL_SLICE_MS;
    }
    return WEIR_OK;
}

static int poll_once(struct child *c, const struct shell_spec *spec, struct shell_result *res,
                     int wait_ms)
{
    struct pollfd fds[3] = { { c->in_fd, POLLOUT, 0 }, { c->out_fd, POLLIN, 0 }, { c->err_fd, POLLIN, 0 } };
    int rc = WEIR_OK;

    /* poll() ignores negative fds, so closed streams simply drop out. */
    if (poll(fds, 3, wait_ms) < 0) {
        return errno == EINTR ? WEIR_OK
                              : core_host->error_set(WEIR_EIO, "core.shell: poll: %s", strerror(errno));
    }
    if (fds[0].revents & (POLLERR | POLLHUP)) {
        close_fd(&c->in_fd);
    }
    else if (fds[0].revents & POLLOUT) {
        feed(c, spec);
    }
    if (fds[1].revents && (rc = drain(&c->out_fd, &res->out, spec->max_output)) < 0) {
        return rc;
    }
    if (fds[2].revents && (rc = drain(&c->err_fd, &res->err, spec->max_output)) < 0) {
        return rc;
    }
    return WEIR_OK;
}

/* Moves data until the command closes both stdout and stderr. */
static int pump(struct child *c, const struct shell_spec *spec, struct shell_result *res,
                weir_ctx *ctx, int64_t deadline)
{
    int wait_ms, rc;

    if (!spec->input || spec->input_len == 0) {
        close_fd(&c->in_fd);
    }
    while (c->out_fd >= 0 || c->err_fd >= 0) {
        if ((rc = next_wait(ctx, deadline, &wait_ms)) < 0 || (rc = poll_once(c, spec, res, wait_ms)) < 0) {
            return rc;
        }
    }
    close_fd(&c->in_fd);
    return WEIR_OK;
}

static void nap_ms(int ms)
{
    struct timespec ts = { 0, (long)ms * 1000000L };

    nanosleep(&ts, NULL);
}

/* Waits for the exit status; the command may outlive its closed pipes. */
static int reap(struct child *c, weir_ctx *ctx, int64_t deadline, struct shell_result *res)
{
    int status = 0, wait_ms, rc;
    pid_t got;

    while ((got = waitpid(c->pid, &status, WNOHANG)) == 0 || (got < 0 && errno == EINTR)) {
        if ((rc = next_wait(ctx, deadline, &wait_ms)) < 0) {
            return rc;
        }
        nap_ms(wait_ms < 5 ? wait_ms : 5);
    }
    if (got < 0) {
        return core_host->error_set(WEIR_EIO, "core.shell: waitpid: %s", strerror(errno));
    }
    c->pid = -1;
    res->signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    res->exit_code = res->signal ? 128 + res->signal : WEXITSTATUS(status);
    return WEIR_OK;
}

static void kill_group(struct child *c)
{
    if (c->pid <= 0) {
        return;
    }
    kill(-c->pid, SIGKILL);
    while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR) {
    }
    c->pid = -1;
}

/*
 * Writing to a pipe whose reader has gone raises SIGPIPE, which would kill
 * the whole host. Block it on this thread while feeding stdin and swallow
 * the one it may have left pending, then restore the old mask.
 */
static void sigpipe_block(sigset_t *old)
{
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, old);
}

static void sigpipe_restore(const sigset_t *old)
{
    struct timespec zero = { 0, 0 };
    sigset_t set, pending;

    if (sigismember(old, SIGPIPE)) {
        return;
    }
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    if (sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE)) {
        sigtimedwait(&set, NULL, &zero);
    }
    pthread_sigmask(SIG_SETMASK, old, NULL);
}

/* How long the command may run: spec->timeout_ms, capped by the step's own deadline; -1 for no limit. */
static int64_t budget_ms(const struct shell_spec *spec, weir_ctx *ctx)
{
    int64_t budget = spec->timeout_ms > 0 ? spec->timeout_ms : -1;
    int64_t step_left = core_ctx_remaining_ms(ctx);

    if (step_left >= 0 && (budget < 0 || step_left < budget)) {
        budget = step_left;
    }
    return budget;
}

static int stop_error(int rc, const struct shell_spec *spec, int64_t budget, int64_t elapsed)
{
    if (rc == WEIR_ETIMEOUT) {
        return core_host->error_set(WEIR_ETIMEOUT, "core.shell: '%s' timed out after %lld ms",
                                    spec->argv[0], (long long)budget);
    }
    if (rc == WEIR_ECANCELLED) {
        return core_host->error_set(WEIR_ECANCELLED, "core.shell: '%s' was cancelled after %lld ms",
                                    spec->argv[0], (long long)elapsed);
    }
    return rc;
}

int core_shell_exec(const struct shell_spec *spec, weir_ctx *ctx, struct shell_result *res)
{
    struct child c = { -1, -1, -1, -1, 0 };
    int64_t start = core_now_ms(), budget = budget_ms(spec, ctx);
    int64_t deadline = budget >= 0 ? start + budget : -1;
    sigset_t old;
    int rc;

    memset(res, 0, sizeof(*res));
    sigpipe_block(&old);
    if ((rc = spawn(spec, &c)) < 0) {
        goto done;
    }
    if ((rc = pump(&c, spec, res, ctx, deadline)) < 0 || (rc = reap(&c, ctx, deadline, res)) < 0) {
        rc = stop_error(rc, spec, budget, core_now_ms() - start);
    }

done:
    kill_group(&c);
    close_fd(&c.in_fd);
    close_fd(&c.out_fd);
    close_fd(&c.err_fd);
    sigpipe_restore(&old);
    res->duration_ms = core_now_ms() - start;
    return rc;
}

void core_shell_result_free(struct shell_result *res)
{
    core_host->free(res->out.data);
    core_host->free(res->err.data);
    res->out.data = res->err.data = NULL;
}
