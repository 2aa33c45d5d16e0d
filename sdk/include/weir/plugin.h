/*
 * weir/plugin.h - how a plugin talks to the weir host.
 *
 * A plugin is a shared object that exports exactly one symbol, its entry:
 *
 *     WEIR_PLUGIN_EXPORT int weir_plugin_<name>_init(const struct weir_host_api *host,
 *                                                   weir_registry *reg);
 *
 * where <name> is the file name without a "lib" or "weir-" prefix and without
 * everything from the first '.', with '-' turned into '_' (so "glue-catalog.so"
 * exports weir_plugin_glue_catalog_init). Steps of that plugin are used in a
 * pipeline as `uses: <name>.<step>` (here "glue-catalog.<step>").
 *
 * The entry checks the host's ABI, describes the plugin, registers its steps,
 * and returns WEIR_OK; on failure it sets a message with host->error_set and
 * returns a negative code. The host never links plugins against itself: the
 * only way back into the host is the function table below, which is
 * append-only (a field once published keeps its offset and meaning forever).
 *
 * Values are jansson json_t (<jansson.h>, Debian libjansson-dev). Reference
 * rules are jansson's: a function documented as taking "a new reference"
 * steals it; "borrowed" means the caller keeps ownership. Host and plugin share
 * the one system libjansson, so a json_t may cross the boundary either way.
 *
 * Threading: the init entry runs once, on the main thread, before any step.
 * Step run callbacks may run concurrently on worker threads, several at once
 * for the same step (fan-out), so a plugin keeps per-call state on the stack
 * or guards shared state itself. Every host function is thread-safe.
 */
#ifndef WEIR_PLUGIN_H
#define WEIR_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "weir/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/** ABI major: a plugin built for another major is refused. */
#define WEIR_ABI_MAJOR 1
/** ABI minor: grows when fields are appended to the host table. A plugin that
 *  needs a newer minor than the host has is refused. */
#define WEIR_ABI_MINOR 2

#if defined(__GNUC__) || defined(__clang__)
/** Marks the plugin entry as the one exported symbol (build with hidden visibility). */
#define WEIR_PLUGIN_EXPORT __attribute__((visibility("default")))
#define WEIR__PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define WEIR_PLUGIN_EXPORT
#define WEIR__PRINTF(fmt, args)
#endif

/** Opaque handle through which the entry registers what the plugin provides.
 *  Valid only during the entry call. */
typedef struct weir_registry weir_registry;

/** Opaque handle for one execution of one step (one attempt, one item of a
 *  for_each). Valid only during that run callback. */
typedef struct weir_ctx weir_ctx;

/** Type of a step parameter; the host checks `with:` values against it. */
enum weir_param_type {
    WEIR_PARAM_ANY = 0, /**< any JSON value */
    WEIR_PARAM_STRING,
    WEIR_PARAM_INTEGER,
    WEIR_PARAM_NUMBER, /**< integer or real */
    WEIR_PARAM_BOOLEAN,
    WEIR_PARAM_OBJECT,
    WEIR_PARAM_ARRAY
};

/** One declared parameter of a step. Arrays of these end with an entry whose
 *  name is NULL. The host rejects unknown keys in `with:`, reports a missing
 *  required parameter before the run starts, fills in defaults, and checks
 *  types both when the pipeline is loaded (literal values) and after
 *  expressions are evaluated. `weir plugin describe` prints this table. */
struct weir_param_desc {
    const char *name;           /**< key in `with:` */
    enum weir_param_type type;  /**< expected JSON type */
    int required;               /**< non-zero: must be given */
    const char *default_json;   /**< default as JSON text ("\"csv\"", "10", "[]"), or NULL */
    const char *description;    /**< one line for `weir plugin describe` */
};

/**
 * Runs one step.
 *
 * @param input    borrowed: the step's `with:` object after expression
 *                 evaluation and defaults; never NULL, read-only.
 * @param[out] out on WEIR_OK, a new reference the host takes (any JSON value;
 *                 leave NULL for "no output", which the host stores as null).
 * @param ctx      the execution context (logging, deadline, run info).
 * @param payload  the payload given at registration.
 * @return WEIR_OK, or a negative weir_error_code with the reason set through
 *         host->error_set. A failure is retried if the step has `retry:`.
 */
typedef int (*weir_step_run_fn)(const json_t *input, json_t **out, weir_ctx *ctx, void *payload);

/** Version of struct weir_step_desc this SDK writes. */
#define WEIR_STEP_DESC_VERSION 1

/** A step a plugin provides. The host copies the fields it knows for
 *  `version`, so the struct may live on the stack during registration; the
 *  strings and the params array it points to must stay valid until the plugin
 *  is unloaded (static storage is the norm). */
struct weir_step_desc {
    unsigned int version;           /**< WEIR_STEP_DESC_VERSION; 0 is refused */
    const char *name;               /**< [a-z][a-z0-9_]*, unique within the plugin */
    const char *service;            /**< NULL for a plain step; else the service this
                                         step is an operation of ("catalog", "engine",
                                         "store", "llm", "notify"), see below */
    const char *description;        /**< one line */
    const struct weir_param_desc *params; /**< NULL or a NULL-name-terminated array */
    weir_step_run_fn run;           /**< required */
    void *payload;                  /**< passed back to run */
};

/*
 * Services. A step registered with service = "engine" and name = "query" is
 * the "query" operation of this plugin's implementation of the engine
 * service. A pipeline that says `uses: engine.query` reaches the
 * implementation its target names (weir.yaml: targets.<t>.engine: <plugin>),
 * so the same pipeline runs on every target. Such a step is also reachable
 * directly as `uses: <plugin>.query`.
 */

/** Version of struct weir_plugin_info this SDK writes. */
#define WEIR_PLUGIN_INFO_VERSION 1

/** What a plugin says about itself; registered once from the entry, before
 *  any step. Fill it with WEIR_PLUGIN_INFO_INIT so the ABI fields are right. */
struct weir_plugin_info {
    unsigned int version;       /**< WEIR_PLUGIN_INFO_VERSION; 0 is refused */
    unsigned int abi_major;     /**< WEIR_ABI_MAJOR the plugin was built with */
    unsigned int abi_minor;     /**< WEIR_ABI_MINOR the plugin was built with; a
                                     host with an older minor refuses the plugin */
    const char *description;    /**< one line */
    const char *plugin_version; /**< the plugin's own version, e.g. "0.1.0" */
    /** Called once when the host unloads the plugin, even if the entry failed
     *  part way (so it must cope with half-built state). May be NULL. */
    void (*shutdown)(void *payload);
    void *payload;              /**< passed to shutdown */
};

/** Initialiser: `struct weir_plugin_info info = WEIR_PLUGIN_INFO_INIT;` */
#define WEIR_PLUGIN_INFO_INIT { WEIR_PLUGIN_INFO_VERSION, WEIR_ABI_MAJOR, WEIR_ABI_MINOR, NULL, NULL, NULL, NULL }

/** struct weir_http_request's current version. */
#define WEIR_HTTP_REQUEST_VERSION 1

/** How the host authenticates an HTTP request. Credentials never pass through
 *  a plugin: the host reads them, adds them, and redacts them everywhere. */
enum weir_http_auth {
    WEIR_HTTP_AUTH_NONE = 0,
    /** AWS Signature Version 4 with the standard credential chain (env,
     *  then ~/.aws/credentials and ~/.aws/config with AWS_PROFILE) and
     *  aws_region (NULL: AWS_REGION, AWS_DEFAULT_REGION, the profile's
     *  region, in that order). aws_service is the signing name ("s3",
     *  "glue", "athena", "bedrock"); for "s3" the payload is hashed into
     *  x-amz-content-sha256 and the path is not normalised. */
    WEIR_HTTP_AUTH_AWS_SIGV4 = 1,
    /** `auth_header: <auth_prefix><value of env var auth_env>`, e.g.
     *  "Authorization" / "Bearer " / "OPENAI_API_KEY", or "x-goog-api-key" /
     *  "" / "GEMINI_API_KEY". A missing or empty variable is WEIR_EDENIED. */
    WEIR_HTTP_AUTH_ENV_TOKEN = 2
};

/**
 * An HTTP request for weir_host_api.http_request. Zero-initialise it, set
 * version = WEIR_HTTP_REQUEST_VERSION, then the fields needed; zero means the
 * default everywhere.
 */
struct weir_http_request {
    unsigned int version;        /**< WEIR_HTTP_REQUEST_VERSION */
    const char *method;          /**< "GET", "PUT", "POST", "HEAD", "DELETE" */
    const char *url;             /**< absolute http(s) URL; path and query already
                                      percent-encoded as they should be sent */
    const char *const *headers;  /**< "Name: value" strings, NULL-terminated, or NULL */
    const void *body;            /**< request body (body_len bytes), or NULL */
    size_t body_len;
    const char *body_file;       /**< or: stream the body from this file (large PUTs) */
    const char *response_file;   /**< write a 2xx body to this file instead of memory
                                      (written to a temp file, renamed on success) */
    size_t max_response;         /**< bound on an in-memory body; 0: 64 MiB. Larger
                                      is WEIR_ETOOBIG. */
    long connect_timeout_ms;     /**< 0: 5000 */
    long timeout_ms;             /**< per attempt; 0: 60000. Never beyond the step's deadline. */
    int max_attempts;            /**< 0: 3 (AWS standard retry mode); 1: no retry.
                                      Retried: connection errors, 429, 500, 502, 503,
                                      504, and AWS throttling codes, with jittered
                                      exponential backoff (base 100 ms, cap 20 s). */
    enum weir_http_auth auth;
    const char *aws_service;     /**< signing name, for WEIR_HTTP_AUTH_AWS_SIGV4 */
    const char *aws_region;      /**< NULL: the configured region */
    const char *auth_header;     /**< for WEIR_HTTP_AUTH_ENV_TOKEN */
    const char *auth_prefix;
    const char *auth_env;
};

/** A response from weir_host_api.http_request; free with http_response_free. */
struct weir_http_response {
    long status;      /**< HTTP status of the last attempt */
    char *body;       /**< NUL-terminated (body_len excludes it); NULL with response_file */
    size_t body_len;
    json_t *headers;  /**< object: lower-cased header name -> value (last one wins) */
    int attempts;     /**< how many attempts were made */
};

/** Log levels for weir_host_api.log. */
enum weir_log_level {
    WEIR_LOG_ERROR = 0,
    WEIR_LOG_WARN,
    WEIR_LOG_INFO,
    WEIR_LOG_DEBUG
};

/**
 * The host's function table, passed to the entry. Append-only: fields are
 * never removed or reordered; new ones go at the end, commented with the ABI
 * minor that added them. Test for an appended field with WEIR_HOST_HAS().
 */
struct weir_host_api {
    uint16_t abi_major; /**< WEIR_ABI_MAJOR of the host */
    uint16_t abi_minor; /**< WEIR_ABI_MINOR of the host */
    uint32_t size;      /**< sizeof(struct weir_host_api) in the host */

    /* ---- ABI 1.0 ---- */

    /** Allocation. Memory a plugin hands to the host (or back) goes through
     *  these; free(NULL) is a no-op. malloc returns NULL when out of memory. */
    void *(*malloc)(size_t size);
    void *(*realloc)(void *ptr, size_t size);
    void (*free)(void *ptr);

    /** Sets this thread's last-error message (printf-style) and returns code,
     *  so a plugin writes `return host->error_set(WEIR_EINVALID, "...", ...);`. */
    int (*error_set)(int code, const char *fmt, ...) WEIR__PRINTF(2, 3);

    /** This thread's last-error message; borrowed, valid until the next
     *  error_set on this thread. Never NULL (may be ""). */
    const char *(*error_last)(void);

    /** Logs a line attributed to the running step (ctx may be NULL during
     *  init). Secrets registered by the host are redacted. */
    void (*log)(weir_ctx *ctx, enum weir_log_level level, const char *fmt, ...) WEIR__PRINTF(3, 4);

    /** Describes the plugin. Call once from the entry, before step_register.
     *  @return WEIR_OK, WEIR_EINVALID (struct version 0 or unknown, called
     *  twice) or WEIR_EVERSION (ABI major differs, or minor newer than the host). */
    int (*plugin_describe)(weir_registry *reg, const struct weir_plugin_info *info);

    /** Registers a step (see struct weir_step_desc). @return WEIR_OK,
     *  WEIR_EINVALID (version 0 or newer than the host, bad name, no run),
     *  or WEIR_EEXISTS (name taken). */
    int (*step_register)(weir_registry *reg, const struct weir_step_desc *desc);

    /**
     * Calls an operation of a service through the current target, e.g. the
     * contract plugin asking for ("engine", "profile"). The input is
     * validated against the operation's params like a pipeline step's.
     * @param input    borrowed object
     * @param[out] out new reference on success
     * @return the operation's code; WEIR_ENOTFOUND if the target has no such service/op
     */
    int (*service_call)(weir_ctx *ctx, const char *service, const char *op, const json_t *input,
                        json_t **out);

    /** WEIR_OK while the step may go on; WEIR_ETIMEOUT once its `timeout:`
     *  passed, WEIR_ECANCELLED if the run is being cancelled. Long-running
     *  steps call this between units of work and return its code. */
    int (*ctx_check)(weir_ctx *ctx);

    /** Milliseconds left before the step's deadline, or -1 when it has none. */
    int64_t (*ctx_remaining_ms)(weir_ctx *ctx);

    /** Run information by key, borrowed for the duration of the run callback,
     *  or NULL for an unknown key. Keys: "run.id", "run.date" (YYYY-MM-DD),
     *  "run.target", "step.id", "workspace" (absolute directory for state and
     *  artifacts), "project" (directory of weir.yaml), and "service.<name>":
     *  the plugin implementing that service in the target ("service.store"
     *  is "fs" locally, "s3" on aws), or NULL when the target has none. */
    const char *(*ctx_get)(weir_ctx *ctx, const char *key);

    /* ---- ABI 1.1 ---- */

    /** Reports how far a long step has got: `done` units out of `total` (0 when
     *  the total is unknown), `unit` naming them ("rows", "bytes", "files").
     *  The host shows it (a progress line on a terminal) or ignores it; it is
     *  cheap, but calling it a few times a second is plenty. */
    void (*ctx_progress)(weir_ctx *ctx, uint64_t done, uint64_t total, const char *unit);

    /**
     * Lua sessions: one sandboxed Lua 5.4 state (the sandbox of Lua steps:
     * no io, os only clock/time/date, no load/require) that serves many
     * calls, for plugins that run a user's small function very often (a
     * contract's Lua rule on every row) where a fresh state per call would
     * cost tens of microseconds.
     *
     * lua_open loads `src` (`len` bytes, text only) and runs it once; the
     * chunk must return a function, which the session keeps. `chunkname`
     * names it in messages ("<chunkname>:<line>: ..."). The limits are the
     * project's `lua:` settings (memory_mb, time_budget_ms) for the step
     * `ctx` runs; ctx may be NULL (e.g. while validating), then the defaults
     * apply. On WEIR_OK *session is a new session the caller owns and frees
     * with lua_close. Errors: WEIR_EINVALID (syntax error, or the chunk did
     * not return a function), WEIR_EUSER (error while running the chunk),
     * WEIR_ETIMEOUT, WEIR_ENOMEM; the message is in error_last.
     *
     * lua_call calls the function with `input` (borrowed; NULL is JSON null)
     * converted to Lua: objects and arrays become tables, null becomes
     * weir.null, integers stay integers. On WEIR_OK *out is a new reference
     * to its first result converted back (nil is JSON null). The time budget
     * is per call; the memory cap is for the whole session. A call that
     * exceeds either fails with WEIR_ETIMEOUT / WEIR_ENOMEM and the session is
     * then unusable (every later call fails at once; close it). A script
     * error fails with WEIR_EUSER ("<chunkname>:<line>: message") and only
     * that call; a result that is not JSON fails with WEIR_EINVALID. Globals
     * the function writes persist between calls of the same session, never
     * beyond it.
     *
     * Threads: sessions share nothing, but a session must be used by one
     * thread at a time. A session keeps no pointer to ctx, but belongs to
     * the step that opened it: close it before the run callback returns.
     * lua_close(NULL) is a no-op.
     */
    int (*lua_open)(weir_ctx *ctx, const char *chunkname, const char *src, size_t len,
                    void **session);
    int (*lua_call)(void *session, const json_t *input, json_t **out);
    void (*lua_close)(void *session);

    /* ---- ABI 1.2 ---- */

    /**
     * Sends an HTTP request (libcurl in the host) and waits for its
     * response, retrying as req->max_attempts says; each retry and its
     * reason is logged at debug level. Authorization, credentials, tokens
     * and x-amz-security-token never appear in a log line or error message.
     *
     * On WEIR_OK *resp holds the last attempt's response, whatever its
     * status (a 404 is WEIR_OK with status 404: the caller maps statuses to
     * meaning). When retries run out on a retryable status (429, 5xx, a
     * throttling code) the result is also WEIR_OK with that status, and
     * error_last says "...; gave up after N attempts" for the caller to use.
     * Redirects are not followed (a 3xx is returned). For SigV4 a body_file
     * is read once to hash it; a caller header "x-amz-content-sha256:
     * UNSIGNED-PAYLOAD" skips that (S3). The wire query of a SigV4 request
     * is its canonical form (pairs sorted, encoded once; '+' is a literal
     * plus, so encode spaces as %20).
     *
     * Errors (resp is then empty): WEIR_EINVALID (bad request: no
     * URL, unknown version or method), WEIR_EDENIED (no credentials, or a
     * credential file readable by others), WEIR_EIO (connection failed or
     * broke, every attempt), WEIR_ETIMEOUT (the timeout or the step's deadline
     * passed), WEIR_ETOOBIG (body over max_response), WEIR_ECANCELLED.
     */
    int (*http_request)(weir_ctx *ctx, const struct weir_http_request *req,
                        struct weir_http_response *resp);
    /** Frees what a response holds and zeroes it; NULL is a no-op. */
    void (*http_response_free)(struct weir_http_response *resp);

    /**
     * The endpoint of an AWS service, as a new string the caller frees with
     * host->free: AWS_ENDPOINT_URL_<SERVICE_ID> (service id upper-cased,
     * spaces and '-' as '_', e.g. "S3", "GLUE", "ATHENA", "BEDROCK_RUNTIME"),
     * else AWS_ENDPOINT_URL, else https://<prefix>.<region>.amazonaws.com
     * with prefix "s3", "glue", "athena", "bedrock-runtime" from the id.
     * region NULL: the configured region. Returns NULL (error set,
     * WEIR_EINVALID) when no region is configured and no override is set.
     */
    char *(*aws_endpoint)(weir_ctx *ctx, const char *service_id, const char *region);
};

/** Non-zero when `host` provides the appended field `field`. */
#define WEIR_HOST_HAS(host, field)                                                       \
    (offsetof(struct weir_host_api, field) + sizeof((host)->field) <= (host)->size &&   \
     (host)->field != NULL)

/** Declares and starts the definition of a plugin's entry, so it has a
 *  prototype (no -Wmissing-prototypes) and is the one exported symbol:
 *
 *      WEIR_PLUGIN_ENTRY(glue_catalog)
 *      {
 *          WEIR_PLUGIN_CHECK_ABI(host);
 *          ...
 *      }
 */
#define WEIR_PLUGIN_ENTRY(name)                                                              \
    WEIR_PLUGIN_EXPORT int weir_plugin_##name##_init(const struct weir_host_api *host,      \
                                                     weir_registry *reg);                   \
    WEIR_PLUGIN_EXPORT int weir_plugin_##name##_init(const struct weir_host_api *host,      \
                                                     weir_registry *reg)

/** Signature of a plugin entry. */
typedef int (*weir_plugin_init_fn)(const struct weir_host_api *host, weir_registry *reg);

/** First line of an entry: refuses a host whose major differs or whose minor
 *  is older than the one this plugin was built with, before any other field of
 *  the table is touched (only abi_major, abi_minor, size and error_set are
 *  guaranteed at these offsets across majors). */
#define WEIR_PLUGIN_CHECK_ABI(host)                                                       \
    do {                                                                                 \
        if ((host)->abi_major != WEIR_ABI_MAJOR || (host)->abi_minor < WEIR_ABI_MINOR) { \
            return (host)->error_set(WEIR_EVERSION,                                      \
                                     "plugin built for weir ABI %d.%d, host has %d.%d",  \
                                     WEIR_ABI_MAJOR, WEIR_ABI_MINOR,                     \
                                     (int)(host)->abi_major, (int)(host)->abi_minor);   \
        }                                                                                \
    } while (0)

#ifdef __cplusplus
}
#endif

#endif /* WEIR_PLUGIN_H */
