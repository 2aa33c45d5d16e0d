/*
 * lua_host.h - Lua 5.4 steps in a sandbox (DESIGN §9).
 *
 * Each call gets a fresh lua_State with:
 *   - only base, table, string, math, utf8 and coroutine, plus an `os` table
 *     holding just clock, time and date; io, package, require, debug, dofile,
 *     loadfile, load, collectgarbage, print and string.dump are absent (nil);
 *     chunks are loaded in text mode only ("t"), so binary chunks are refused;
 *   - a per-script _ENV (globals written by the script stay in it);
 *   - an allocator capped at limits->memory_bytes: a script that needs more
 *     fails with "lua: memory limit of N MiB exceeded";
 *   - a count hook that checks a monotonic deadline every 1000 instructions;
 *     once past it, the hook re-arms at count 1 and raises again, so pcall
 *     or a coroutine cannot swallow it: "lua: time budget of N ms exceeded".
 *   - `weir.null` (a sentinel for JSON null), `weir.json_encode(v)`,
 *     `weir.json_decode(s)`, `weir.log(msg)`, `weir.array(t)` / `weir.object(t)`
 *     (mark an empty table's JSON kind).
 *
 * A Lua step's chunk either returns a function, which is then called as
 * f(input, ctx) and whose first result is the output; or returns a value
 * directly (inline one-liners), with `input` and `ctx` available as globals.
 * ctx is a table of run information (ctx.run.id, ctx.run.date,
 * ctx.run.target, ctx.step.id, ...) given by the caller.
 *
 * JSON <-> Lua: objects and arrays become tables tagged with a metatable
 * (weir.object / weir.array kinds) so {} and [] round-trip; null becomes
 * weir.null; integers stay integers (math.type) and reals stay reals. An
 * untagged table converts to an array when its keys are exactly 1..n (n >= 1),
 * else to an object (string keys; integer keys are written in decimal); an
 * untagged empty table becomes {}. A value that cannot be JSON (function,
 * userdata other than weir.null, a NaN or infinite number, cycles, nesting over
 * 64) is an error naming the path ("output.a[3]: function is not JSON").
 */
#ifndef WEIR_CORE_LUA_HOST_H
#define WEIR_CORE_LUA_HOST_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct weir_lua_limits {
    size_t memory_bytes;   /* e.g. 64 MiB; 0 means the default */
    int64_t time_budget_ms; /* e.g. 1000; 0 means the default */
};

#define WEIR_LUA_DEFAULT_MEMORY (64u << 20)
#define WEIR_LUA_DEFAULT_BUDGET_MS 10000

/* Runs a script. chunkname is used in messages (e.g. "scripts-lua/x.lua" or
 * "pipeline.yaml:12 (inline lua)"). input and ctx are borrowed (ctx may be
 * NULL). On WEIR_OK *out is a new reference (null when the script returned
 * nothing). Errors return WEIR_EUSER (script error, message includes the Lua
 * message with line), WEIR_ETIMEOUT, WEIR_ENOMEM or WEIR_EINVALID (result not
 * JSON), with the last error set. Thread-safe: calls share nothing. */
int weir_lua_run(const char *chunkname, const char *src, size_t len, const json_t *input,
                 const json_t *ctx, const struct weir_lua_limits *limits, json_t **out);

/*
 * Sessions: one sandboxed state that serves many calls, for callers that run
 * the same small function very often (a contract's Lua rule on every row),
 * where building a fresh state per call (~30 us) would dominate.
 *
 * weir_lua_session_open builds the sandbox above, loads the chunk and runs it
 * once; the chunk must return a function, which the session keeps. Each
 * weir_lua_session_call calls that function with one argument, input
 * converted to Lua (NULL counts as JSON null), and converts its first result
 * back (nil becomes JSON null) into a new reference in *out.
 *
 * Limits: the time budget is per call (the deadline is re-armed at every
 * call, and the chunk's first run at open has one of its own); the memory
 * cap is for the whole session (everything the state holds, including
 * globals kept between calls; garbage is collected). A call that hits either
 * limit fails with WEIR_ETIMEOUT or WEIR_ENOMEM and the session is then
 * unusable: the state may hold half-done work, so every later call fails at
 * once with the same code. A script error (WEIR_EUSER) or an input or result
 * that is not JSON (WEIR_EINVALID) fails only that call.
 *
 * Isolation: globals a call writes stay in the session's _ENV and are seen
 * by later calls of the same session (the function's upvalues too), never by
 * another session or by weir_lua_run. Callers that want no memory between
 * calls should not rely on globals.
 *
 * Threads: sessions share nothing, but one session must be used by one
 * thread at a time. Errors set the calling thread's last error.
 */
struct weir_lua_session;

/* On WEIR_OK *out is a new session (close it with weir_lua_session_close).
 * Errors: WEIR_EINVALID (syntax error, chunk did not return a function),
 * WEIR_EUSER (error while running the chunk), WEIR_ETIMEOUT, WEIR_ENOMEM. */
int weir_lua_session_open(const char *chunkname, const char *src, size_t len,
                          const struct weir_lua_limits *limits, struct weir_lua_session **out);

/* input is borrowed. Errors as weir_lua_run, plus the "unusable" case. */
int weir_lua_session_call(struct weir_lua_session *s, const json_t *input, json_t **out);

/* Frees everything; NULL is a no-op. */
void weir_lua_session_close(struct weir_lua_session *s);

/* Compiles without running, for `weir validate`. On a syntax error returns
 * WEIR_EINVALID, sets the last error, and sets *line to the line (1-based) Lua
 * reported, or 0. */
int weir_lua_check(const char *chunkname, const char *src, size_t len, int *line);

#endif
