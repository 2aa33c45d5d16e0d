/* run_exec.c - setting up a run (new or resumed), persisting it, and its summary. */
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "eventlog.h"
#include "run_int.h"
#include "run_pool.h"
#include "state.h"

/* ------------------------------------------------------------------ */
/* runtime                                                             */

static void add_env_dirs(struct weir_config *cfg)
{
    const char *path = getenv("WEIR_PLUGIN_PATH");
    char *copy, *tok, *save = NULL;

    if (!path || !*path || !(copy = strdup(path))) {
        return;
    }
    for (tok = strtok_r(copy, ":", &save); tok; tok = strtok_r(NULL, ":", &save)) {
        weir_config_add_plugin_dir(cfg, tok, 0);
    }
    free(copy);
}

/* The build and install trees both keep plugins at bin/../lib/weir/plugins. */
static void add_exe_dir(struct weir_config *cfg)
{
    char exe[PATH_MAX], *slash, *dir = NULL;
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

    if (n <= 0) {
        return;
    }
    exe[n] = '\0';
    if ((slash = strrchr(exe, '/')) == NULL) {
        return;
    }
    *slash = '\0';
    if (asprintf(&dir, "%s/%s", exe, WEIR_PLUGIN_RELDIR) >= 0 && access(dir, R_OK) == 0) {
        weir_config_add_plugin_dir(cfg, dir, 0);
    }
    free(dir);
}

int weir_runtime_open(const char *config_path, const char *extra_plugin_dir,
                      struct weir_runtime **out, struct weir_diags *diags)
{
    struct weir_runtime *rt = calloc(1, sizeof(*rt));
    int rc;

    if (!rt) {
        return weir_error_set(WEIR_ENOMEM, "out of memory");
    }
    if ((rc = weir_config_load(config_path, &rt->cfg, diags)) < 0 ||
        (rc = weir_plugins_new(&rt->plugins)) < 0) {
        weir_runtime_close(rt);
        return rc;
    }
    if (extra_plugin_dir) {
        weir_config_add_plugin_dir(rt->cfg, extra_plugin_dir, 1);
    }
    add_env_dirs(rt->cfg);
    add_exe_dir(rt->cfg);
    for (size_t i = 0; i < rt->cfg->nplugin_dirs; i++) {
        /* the same plugin in a later directory is shadowed, not an error */
        const char *dir = rt->cfg->plugin_dirs[i];
        int seen = 0;
        for (size_t j = 0; j < i; j++) {
            seen |= !strcmp(rt->cfg->plugin_dirs[j], dir);
        }
        if (!seen && access(dir, R_OK) == 0) {
            weir_plugins_load_dir(rt->plugins, dir);
        }
    }
    *out = rt;
    return WEIR_OK;
}

void weir_runtime_close(struct weir_runtime *rt)
{
    if (!rt) {
        return;
    }
    weir_plugins_free(rt->plugins);
    weir_config_free(rt->cfg);
    free(rt);
}

/* ------------------------------------------------------------------ */
/* events, state, progress                                             */

void weir__run_event(struct run *r, const char *event, size_t step, json_t *fields)
{
    if (!r->log) {
        json_decref(fields);
        return;
    }
    weir_eventlog_emit(r->log, event, step == (size_t)-1 ? NULL : r->p->steps[step].id, fields);
}

/* A plugin's log line during a run: a "log" event in the run's log (debug
 * lines only with WEIR_LOG=debug), and stderr by the threshold. Called from
 * worker threads; the event log serialises its writes. */
static void run_log(void *payload, const char *step, int level, const char *msg)
{
    struct run *r = payload;

    if (r->log && (level < WEIR_LOG_DEBUG || weir_log_threshold() >= WEIR_LOG_DEBUG)) {
        static const char *const names[] = { "error", "warn", "info", "debug" };

        weir_eventlog_emit(r->log, "log", step,
                           json_pack("{s:s,s:s}", "level", names[level < 0 || level > 3 ? 2 : level],
                                     "message", msg));
    }
    weir_log_print(step, level, msg);
}

static void print_progress(const struct run *r, size_t i)
{
    const struct node *n = &r->nodes[i];
    const struct weir_pstep *s = &r->p->steps[i];

    if (!r->progress) {
        return;
    }
    fprintf(r->progress, "  %-9s %-28s %6lld ms%s%s\n", n->status, s->id,
            (long long)(n->ended_wall - n->started_wall), n->error ? "  " : "",
            n->error ? n->error : "");
    fflush(r->progress);
}

#define EVENT_OUTPUT_MAX 4096

/* Counts serialised bytes and stops the dump once past the limit, so a
 * large output (a query result, a profile) costs at most the limit here. */
static int count_until_limit(const char *buffer, size_t size, void *data)
{
    size_t *n = data;

    (void)buffer;
    *n += size;
    return *n > EVENT_OUTPUT_MAX ? -1 : 0;
}

/* Small outputs go into the event log whole; big ones are only noted. */
static json_t *result_fields(const struct node *n)
{
    size_t len = 0;
    int over = json_dump_callback(n->output, count_until_limit, &len,
                                  JSON_COMPACT | JSON_ENCODE_ANY) != 0;
    json_t *f = json_pack("{s:s,s:i,s:I}", "status", n->status, "attempts", n->attempts,
                          "duration_ms", (json_int_t)(n->ended_wall - n->started_wall));

    if (over) {
        json_object_set_new(f, "output_omitted",
                            json_string("larger than 4096 bytes; see weir runs show"));
    }
    else {
        json_object_set(f, "output", n->output);
    }
    return f;
}

/* Step records are written behind, in groups: one commit per step would
 * cost more than the step. A crash loses at most the last ~50 ms of records,
 * and a resume re-runs those steps. */
void weir__run_flush(struct run *r, int force)
{
    size_t k;
    json_t *rec;

    if (!r->st || !json_array_size(r->unsaved) ||
        (!force && weir_now_mono_ms() - r->saved_ms < WEIR_RUN_FLUSH_MS)) {
        return;
    }
    weir_state_batch_begin(r->st);
    json_array_foreach(r->unsaved, k, rec) {
        weir_state_step_put(r->st, r->id, json_string_value(json_object_get(rec, "step")),
                            json_string_value(json_object_get(rec, "status")),
                            (int)json_integer_value(json_object_get(rec, "attempts")),
                            json_object_get(rec, "output"),
                            json_string_value(json_object_get(rec, "error")),
                            json_integer_value(json_object_get(rec, "started_ms")),
                            json_integer_value(json_object_get(rec, "ended_ms")));
    }
    if (weir_state_batch_end(r->st) < 0) {
        fprintf(stderr, "weir: saving run state: %s\n", weir_error_last());
    }
    json_array_clear(r->unsaved);
    r->saved_ms = weir_now_mono_ms();
}

void weir__run_record(struct run *r, size_t i)
{
    const struct node *n = &r->nodes[i];

    json_array_append_new(r->unsaved, json_pack("{s:s,s:s,s:i,s:O,s:s?,s:I,s:I}", "step",
                          r->p->steps[i].id, "status", n->status, "attempts", n->attempts, "output",
                          n->output, "error", n->error, "started_ms", (json_int_t)n->started_wall,
                          "ended_ms", (json_int_t)n->ended_wall));
    weir__run_flush(r, 0);
    if (n->error) {
        weir__run_event(r, "error", i, json_pack("{s:s,s:s}", "status", n->status, "error", n->error));
    }
    else {
        weir__run_event(r, "result", i, result_fields(n));
    }
    print_progress(r, i);
}

void weir__run_request_approval(struct run *r, size_t i, const json_t *shown)
{
    const char *msg = json_string_value(json_object_get(shown, "message"));
    json_t *show = json_object_get(shown, "show");

    weir__run_flush(r, 1); /* the approval refers to the steps before it */
    if (r->st) {
        weir_state_approval_request(r->st, r->id, r->p->steps[i].id, msg ? msg : "approve to continue",
                                    show, weir_now_wall_ms());
    }
    weir__run_event(r, "status", i, json_pack("{s:s,s:s}", "status", "waiting", "message",
                                              msg ? msg : "approve to continue"));
    if (r->progress) {
        fprintf(r->progress, "  approval needed: weir approvals approve %s %s (or reject / refine "
                "--comment)\n", r->id, r->p->steps[i].id);
    }
}

/* ------------------------------------------------------------------ */
/* setup                                                               */

static void make_run_id(char *buf, size_t size)
{
    time_t now = time(NULL);
    struct tm tm;
    unsigned char rnd[3] = { 0 };
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

    if (fd >= 0) {
        if (read(fd, rnd, sizeof(rnd)) != (ssize_t)sizeof(rnd)) {
            rnd[0] = (unsigned char)getpid();
        }
        close(fd);
    }
    gmtime_r(&now, &tm);
    snprintf(buf, size, "%04d%02d%02d-%02d%02d%02d-%02x%02x%02x", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, rnd[0], rnd[1], rnd[2]);
}

static void today(char *buf, size_t size)
{
    time_t now = time(NULL);
    struct tm tm;

    gmtime_r(&now, &tm);
    strftime(buf, size, "%Y-%m-%d", &tm);
}

static int valid_date(const char *d)
{
    int y, m, day;
    char extra;
    return d && strlen(d) == 10 && sscanf(d, "%4d-%2d-%2d%c", &y, &m, &day, &extra) == 3 && m >= 1 &&
           m <= 12 && day >= 1 && day <= 31;
}

static json_t *env_snapshot(const struct weir_config *cfg)
{
    json_t *env = json_object();
    size_t i;
    json_t *name;

    json_array_foreach(cfg->env_allow, i, name) {
        const char *v = getenv(json_string_value(name));
        if (v) {
            json_object_set_new(env, json_string_value(name), json_string(v));
        }
    }
    return env;
}

int weir__run_init(struct run *r, struct weir_runtime *rt, const struct weir_run_opts *opts)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int jobs = opts->jobs > 0 ? opts->jobs : (cores > 0 ? (int)cores : 2);
    int rc;

    r->rt = rt;
    r->progress = opts->progress;
    r->seed = (unsigned)(time(NULL) ^ getpid());
    r->steps_scope = json_object();
    r->unsaved = json_array();
    r->saved_ms = weir_now_mono_ms();
    r->env = env_snapshot(rt->cfg);
    r->nodes = calloc(r->p->nsteps ? r->p->nsteps : 1, sizeof(*r->nodes));
    if (!r->nodes || !r->steps_scope || !r->env) {
        return weir_error_set(WEIR_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < r->p->nsteps; i++) {
        r->nodes[i].status = "pending";
    }
    r->run_info = json_pack("{s:s,s:s,s:s}", "id", r->id, "date", r->date, "target", r->target);
    r->ctx_proto = (struct weir_ctx){ .log_sink = run_log, .log_payload = r,
                                      .run_id = r->id, .run_date = r->date, .target = r->target,
                                      .workspace = rt->cfg->workspace, .project = rt->cfg->project,
                                      .plugins = rt->plugins,
                                      .services = weir_config_target(rt->cfg, r->target),
                                      .lua = rt->cfg->lua };
    if ((rc = weir_state_open(rt->cfg->workspace, &r->st)) < 0 ||
        (rc = weir_eventlog_open(rt->cfg->workspace, r->id, &r->log)) < 0 ||
        (rc = weir_pool_start(jobs, &r->pool)) < 0) {
        return rc;
    }
    return WEIR_OK;
}

static int run_new(struct run *r, struct weir_runtime *rt, const struct weir_run_opts *opts,
                   struct weir_diags *diags)
{
    json_t *given = opts->params ? json_incref((json_t *)opts->params) : json_object();
    char *params_text = NULL;
    int rc;

    r->target = opts->target ? opts->target : rt->cfg->default_target;
    if (!weir_config_target(rt->cfg, r->target)) {
        json_decref(given);
        return WEIR_EINVALID;
    }
    if (opts->date && !valid_date(opts->date)) {
        json_decref(given);
        return weir_error_set(WEIR_EINVALID, "--date '%s' must be YYYY-MM-DD", opts->date);
    }
    snprintf(r->date, sizeof(r->date), "%s", opts->date ? opts->date : "");
    if (!opts->date) {
        today(r->date, sizeof(r->date));
    }
    if ((rc = weir_pipeline_load_file(opts->pipeline, rt->cfg, r->target, rt->plugins, &r->p, diags)) < 0 ||
        (rc = weir_pipeline_params(r->p, given, &r->params)) < 0) {
        json_decref(given);
        return rc;
    }
    json_decref(given);
    make_run_id(r->id, sizeof(r->id));
    if ((rc = weir__run_init(r, rt, opts)) < 0) {
        return rc;
    }
    r->decisions = json_object();
    params_text = json_dumps(r->params, JSON_COMPACT);
    rc = weir_state_run_insert(r->st, &(struct weir_run_info){
        .id = r->id, .pipeline = r->p->name, .path = r->p->file, .source = r->p->source,
        .params = params_text, .target = r->target, .date = r->date, .status = "running",
        .created_ms = weir_now_wall_ms() });
    free(params_text);
    return rc;
}

static void run_free(struct run *r)
{
    weir_pool_stop(r->pool);
    while (r->retries) {
        struct weir_job *j = r->retries;
        r->retries = j->next;
        weir_job_free(j);
    }
    for (size_t i = 0; r->nodes && i < r->p->nsteps; i++) {
        json_decref(r->nodes[i].output);
        json_decref(r->nodes[i].results);
        json_decref(r->nodes[i].feedback);
        free(r->nodes[i].error);
        free(r->nodes[i].item_error);
    }
    free(r->nodes);
    weir_eventlog_close(r->log);
    weir_state_close(r->st);
    weir_pipeline_free(r->p);
    json_decref(r->params);
    json_decref(r->env);
    json_decref(r->run_info);
    json_decref(r->steps_scope);
    json_decref(r->decisions);
    json_decref(r->unsaved);
}

/* ------------------------------------------------------------------ */
/* summary                                                             */

static const char *outcome_name(enum weir_run_status s)
{
    static const char *names[] = { "success", "failed", "paused", "cancelled" };
    return names[s];
}

static json_t *summary_of(const struct run *r, enum weir_run_status st)
{
    json_t *steps = json_object();

    for (size_t i = 0; i < r->p->nsteps; i++) {
        const struct node *n = &r->nodes[i];
        json_t *e = json_pack("{s:s,s:i,s:O}", "status", n->status, "attempts", n->attempts, "output",
                              n->output ? n->output : json_null());
        if (n->error) {
            json_object_set_new(e, "error", json_string(n->error));
        }
        json_object_set_new(steps, r->p->steps[i].id, e);
    }
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:o}", "run", r->id, "pipeline", r->p->name, "target",
                     r->target, "date", r->date, "status", outcome_name(st), "steps", steps);
}

int weir_run_execute(struct weir_runtime *rt, const struct weir_run_opts *opts, struct weir_diags *diags,
                     enum weir_run_status *status, json_t **summary)
{
    struct run r;
    enum weir_run_status outcome;
    int64_t t0 = weir_now_wall_ms();
    int rc;

    memset(&r, 0, sizeof(r));
    rc = opts->resume ? weir__run_resume(&r, rt, opts, diags) : run_new(&r, rt, opts, diags);
    if (rc < 0) {
        goto done;
    }
    weir__run_event(&r, "start", (size_t)-1, json_pack("{s:s,s:s,s:O,s:b}", "pipeline", r.p->name,
                    "target", r.target, "params", r.params, "resumed", opts->resume != NULL));
    weir__run_loop(&r);
    weir__run_flush(&r, 1);
    outcome = weir__run_outcome(&r);
    weir_state_run_set_status(r.st, r.id, outcome_name(outcome), weir_now_wall_ms());
    weir__run_event(&r, "end", (size_t)-1, json_pack("{s:s,s:I}", "status", outcome_name(outcome),
                    "duration_ms", (json_int_t)(weir_now_wall_ms() - t0)));
    *status = outcome;
    *summary = summary_of(&r, outcome);

done:
    run_free(&r);
    return rc;
}
