/*
 * llm_common.h - what the model-provider plugins (bedrock, openai, gemini)
 * share so that their llm.generate behaves the same: the checks on
 * `messages`, the system prompt, mapping HTTP statuses to weir codes, and
 * turning a model's reply into the op's output (JSON extraction, required
 * keys, usage, latency, the run-log line).
 *
 * llm_generate_run is the whole op; a provider fills a struct llm_provider
 * with what its API spells differently. Every function takes the host table
 * explicitly and `op`, the name that starts each error message (e.g.
 * "llm.generate (bedrock)").
 */
#ifndef LLM_COMMON_H
#define LLM_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include <weir/weir.h>

/* Token counts a provider reported; -1 when it did not say. */
struct llm_usage {
    json_int_t input_tokens;
    json_int_t output_tokens;
};

/* Bound on the reply excerpt quoted in an error message. */
#define LLM_EXCERPT 200

/* Param entries every provider's llm.generate declares alike: the messages
 * llm_messages_check reads, and the timeout and attempts llm_generate_run
 * gives the host (retried: what the provider's API is retried on). */
#define LLM_PARAM_MESSAGES                                                    \
    {                                                                         \
        "messages", WEIR_PARAM_ARRAY, 1, NULL,                                \
            "chat messages [{role, content}], role system, user or assistant" \
    }
#define LLM_PARAM_TIMEOUT_MS                                                      \
    {                                                                             \
        "timeout_ms", WEIR_PARAM_INTEGER, 0, "120000", "per-attempt HTTP timeout" \
    }
#define LLM_PARAM_MAX_ATTEMPTS(retried)                                                     \
    {                                                                                       \
        "max_attempts", WEIR_PARAM_INTEGER, 0, "3", "attempts on " retried " (1: no retry)" \
    }

/* The settings of one llm.generate call that the shared flow reads. A
 * provider embeds it as the first member of its own settings struct, so its
 * callbacks can cast back to that struct. */
struct llm_call {
    const char *model; /* model id, named in errors and the run-log line */
    char source[256];  /* what answered, as in "the <source> is not JSON" */
    char hint[256];    /* what to check when the provider denies the call */
};

/* What differs between model APIs; llm_generate_run does the rest. The
 * messages of settings and request start with op; those of reply do not
 * (the flow adds op and model). */
struct llm_provider {
    const char *op; /* "llm.generate (<provider>)", starts every message */
    /* Reads the provider's params and environment into call (model, source,
     * hint and its own fields); WEIR_EINVALID naming a missing or bad one. */
    int (*settings)(const json_t *input, struct llm_call *call);
    /* The request body for input; system (NULL: none) replaces input's
     * system messages. New reference, or NULL when out of memory. */
    json_t *(*body)(const json_t *input, const char *system, const struct llm_call *call);
    /* Sets *url (libc-allocated) and the auth fields of req; method, headers,
     * body, timeout and attempts are already set. */
    int (*request)(weir_ctx *ctx, const struct llm_call *call, char **url,
                   struct weir_http_request *req);
    /* Reads a 2xx reply document: *text the answer text (libc-allocated, may
     * stay NULL), *answer a structured answer borrowed from doc or NULL,
     * usage the token counts. WEIR_EINVALID when the reply holds no answer. */
    int (*reply)(const json_t *doc, const struct llm_call *call, char **text, const json_t **answer,
                 struct llm_usage *usage);
};

/* The llm.generate op for provider p: the host has HTTP, p's settings, the
 * messages check, the system prompt (asking for JSON with a json_schema),
 * p's body, one POST (timeout_ms, max_attempts from input) with the status
 * mapped by llm_http_status (call->hint on a denial), then p's reply and
 * llm_finish, latency being the wall time of the exchange. call is the
 * caller's storage for p's settings. *out belongs to the caller. */
int llm_generate_run(const struct weir_host_api *host, weir_ctx *ctx, const json_t *input,
                     const struct llm_provider *p, struct llm_call *call, json_t **out);

/* For an API at base whose key is in the variable key_env (call->model set):
 * WEIR_EINVALID unless base is an http(s) URL, else call's source names base
 * and its hint key_env and the model. */
int llm_call_base(const struct weir_host_api *host, const char *op, struct llm_call *call,
                  const char *base, const char *key_env);

/* WEIR_EVERSION with a clear message when the host has no http_request. */
int llm_need_http(const struct weir_host_api *host, const char *op);

/* Checks messages: a non-empty array of {role, content} objects, role one of
 * system, user, assistant, content a string, at least one non-system
 * message. WEIR_EINVALID naming the index otherwise. */
int llm_messages_check(const struct weir_host_api *host, const char *op, const json_t *messages);

/* The system messages joined with blank lines, plus, when ask_json, an
 * instruction to answer with one JSON object only. *text is NULL when there
 * is nothing to say; else libc-allocated (free it). */
int llm_system_text(const struct weir_host_api *host, const char *op, const json_t *messages,
                    int ask_json, char **text);

/* A string param, else the env var, else fallback (may be NULL). The result
 * is borrowed from input, the environment or fallback. */
const char *llm_setting(const json_t *input, const char *param, const char *env,
                        const char *fallback);

/* Maps a response status: 2xx is WEIR_OK; 401/403 WEIR_EDENIED, 404
 * WEIR_ENOTFOUND, 400/413/422 WEIR_EINVALID, 408 WEIR_ETIMEOUT, 429 and the
 * rest WEIR_EIO, each with the provider's error code and a bounded message
 * (long token-like runs masked). `hint` ends the message (what to check). */
int llm_http_status(const struct weir_host_api *host, const char *op,
                    const struct weir_http_response *resp, const char *hint);

/* The answer in text as JSON: surrounding blanks and a ```json fence are
 * stripped; if that is not JSON, the outermost {...} is tried. WEIR_EINVALID
 * with a bounded excerpt when neither parses. *out is a new reference. */
int llm_reply_json(const struct weir_host_api *host, const char *op, const char *text, size_t len,
                   json_t **out);

/* Checks value against the top of schema: type object (or array) and the
 * required keys present. WEIR_EINVALID listing what is missing. */
int llm_reply_check(const struct weir_host_api *host, const char *op, const json_t *value,
                    const json_t *schema);

/* The op output. With a schema: the answer object (answer, when the
 * provider gave a structured value, else the JSON parsed from text), checked
 * against the schema, with "usage" and "latency_ms" added unless the answer
 * has such keys. Without: {text, usage, latency_ms}. Logs model, tokens and
 * latency at info level. answer is borrowed and may be NULL. */
int llm_finish(const struct weir_host_api *host, weir_ctx *ctx, const char *op, const char *model,
               const char *text, const json_t *answer, const json_t *schema,
               const struct llm_usage *usage, int64_t latency_ms, json_t **out);

/* The non-system messages as alternating turns, for APIs that want them so
 * (Bedrock, Gemini): consecutive messages of one role are merged into one
 * turn [{"role": r, <list>: [{"text": t}, ...]}], the assistant role named
 * assistant (e.g. Gemini's "model"); typed adds "type": "text" to each
 * block (Anthropic's shape). New reference, or NULL when out of memory. */
json_t *llm_turns(const json_t *messages, const char *assistant, const char *list, int typed);

/* usage[key] when it is an integer, else -1 (the provider did not say). */
json_int_t llm_usage_count(const json_t *usage, const char *key);

/* s percent-encoded as one URL path segment (only A-Z a-z 0-9 - _ . ~ kept,
 * so ':' and '/' in model ids are encoded); libc-allocated, NULL if no memory. */
char *llm_path_encode(const char *s);

/* The length of base without its trailing '/'s. */
size_t llm_base_len(const char *base);

/* Monotonic milliseconds, for latency. */
int64_t llm_now_ms(void);

#endif
