/*
 * lua_host.c - Lua 5.4 steps in a sandbox (see lua_host.h).
 *
 * Every call builds its own lua_State and closes it before returning, so the
 * library tables a script sees (string, math, ...) are private copies: a
 * script that rewrites string.upper changes only its own run. Nothing here
 * is global except constants, which is what makes calls thread-safe.
 *
 * The time budget holds against pcall, coroutines and xpcall handlers; the
 * places where Lua itself switches hooks off (finalizers, see "hook-free
 * zones" below) are closed or guarded.
 *
 * Known limit: the count hook only runs between Lua instructions, so a single
 * slow C function (a pathological string.find pattern) is not interrupted;
 * lua_json.c caps input string sizes to bound that, and a process-level
 * watchdog is the real answer (reliability-targets.md §3.2).
 */
#include "lua_host.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lua5.4/lauxlib.h>
#include <lua5.4/lua.h>
#include <lua5.4/lualib.h>

#include "error.h"
#include "lua_json.h"

/* Instructions between deadline checks: a clock read every ~1000
 * instructions costs well under 1% and keeps the overshoot in microseconds. */
#define HOOK_COUNT 1000

/* Output JSON is built by jansson, outside the capped allocator; it may use
 * this many times the memory limit before the conversion gives up. */
#define OUTPUT_BUDGET_FACTOR 4

/* Budgets beyond this (about 11.5 days) are clamped so nanoseconds fit int64. */
#define MAX_BUDGET_MS ((int64_t)1000000000)

#define MIB ((size_t)1 << 20)

/* Per-call state, reached from Lua through the allocator's userdata. */
struct host {
    size_t used;
    size_t cap;
    int64_t budget_ms;
    int64_t deadline_ns;
    bool timed_out;
    int limit; /* the first limit hit: 0, WEIR_ENOMEM or WEIR_ETIMEOUT */
    /* The last refused allocation, until we know whether Lua's retry after
     * an emergency collection succeeded. */
    bool refusal_pending;
    const void *refused_ptr;
    size_t refused_osize;
    size_t refused_nsize;
    lua_State *main;
};

/* What run_script needs and reports besides Lua errors. */
struct run {
    struct host *host;
    const char *chunkname;
    const char *src;
    size_t len;
    const json_t *input;
    const json_t *ctx;
    int ref; /* sessions: registry reference of the function */
    int code;
    char msg[WEIR_ERROR_MAX];
};

static int64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void note_limit(struct host *h, int code)
{
    if (h->limit == 0) {
        h->limit = code;
    }
}

/* ---- memory ---- */

/* Lua answers a refused allocation with an emergency collection and one
 * retry of the same request; only when that fails too does the script see a
 * memory error. So a refusal counts as hitting the limit once the next
 * request turns out not to be its retry, or the retry is refused as well. */
static bool is_retry(struct host *h, const void *ptr, size_t osize, size_t nsize)
{
    bool retry = h->refusal_pending && ptr == h->refused_ptr && osize == h->refused_osize &&
                 nsize == h->refused_nsize;

    if (h->refusal_pending && !retry) {
        note_limit(h, WEIR_ENOMEM);
    }
    h->refusal_pending = false;
    return retry;
}

static void *refuse(struct host *h, const void *ptr, size_t osize, size_t nsize, bool retry)
{
    if (retry) {
        note_limit(h, WEIR_ENOMEM);
    }
    else {
        h->refusal_pending = true;
        h->refused_ptr = ptr;
        h->refused_osize = osize;
        h->refused_nsize = nsize;
    }
    return NULL;
}

static void *capped_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    struct host *h = ud;
    size_t old = ptr ? osize : 0; /* without ptr, osize is a type tag */
    bool retry;
    void *p;

    if (nsize == 0) {
        free(ptr);
        h->used -= old;
        return NULL;
    }
    retry = is_retry(h, ptr, osize, nsize);
    if (nsize > old && nsize - old > h->cap - h->used) {
        return refuse(h, ptr, osize, nsize, retry);
    }
    p = realloc(ptr, nsize);
    if (!p) {
        /* Lua assumes shrinking never fails; the old block is still good. */
        return nsize <= old ? ptr : refuse(h, ptr, osize, nsize, retry);
    }
    h->used = h->used - old + nsize;
    return p;
}

/* ---- time ---- */

static struct host *host_of(lua_State *L)
{
    void *ud;

    (void)lua_getallocf(L, &ud);
    return ud;
}

static int raise_budget_error(lua_State *L, const struct host *h)
{
    lua_pushfstring(L, "lua: time budget of %I ms exceeded", (lua_Integer)h->budget_ms);
    return lua_error(L);
}

static void budget_hook(lua_State *L, lua_Debug *ar)
{
    struct host *h = host_of(L);

    if (!h->timed_out) {
        if (now_ns() < h->deadline_ns) {
            return;
        }
        h->timed_out = true;
        note_limit(h, WEIR_ETIMEOUT);
        /* Coroutines made from now on inherit the main thread's hook. */
        lua_sethook(h->main, budget_hook, LUA_MASKCOUNT, 1);
    }
    /* Fire again at the very next instruction of this thread, so pcall,
     * xpcall or coroutine.resume catching the error gains nothing. */
    lua_sethook(L, budget_hook, LUA_MASKCOUNT, 1);
    raise_budget_error(L, h);
}

static size_t output_budget(const struct host *h)
{
    return h->cap > SIZE_MAX / OUTPUT_BUDGET_FACTOR ? SIZE_MAX : h->cap * OUTPUT_BUDGET_FACTOR;
}

static int init_host(struct host *h, const struct weir_lua_limits *limits)
{
    int64_t ms =
        limits && limits->time_budget_ms ? limits->time_budget_ms : WEIR_LUA_DEFAULT_BUDGET_MS;

    memset(h, 0, sizeof(*h));
    if (ms < 0) {
        return weir_error_set(WEIR_EINVALID,
                              "lua: time budget of %lld ms is negative; use a "
                              "positive number of milliseconds or 0 for the default",
                              (long long)ms);
    }
    h->cap = limits && limits->memory_bytes ? limits->memory_bytes : WEIR_LUA_DEFAULT_MEMORY;
    h->budget_ms = ms;
    return WEIR_OK;
}

static int memory_error(const struct host *h)
{
    return weir_error_set(WEIR_ENOMEM, "lua: memory limit of %g MiB exceeded",
                          (double)h->cap / (double)MIB);
}

/* ---- hook-free zones ----
 * Lua runs some code with hooks switched off: finalizers (__gc) always, an
 * xpcall message handler when the error came from the hook itself, and the
 * __close methods of a coroutine the hook killed (the thread keeps hooks
 * off). A loop there would never be stopped, so those entries are guarded. */

#if LUA_VERSION_RELEASE_NUM >= 50406
#define close_thread(co, from) lua_closethread((co), (from))
#else
#define close_thread(co, from) lua_resetthread(co)
#endif

/* setmetatable, refusing a metatable with __gc: finalizers cannot be timed. */
static int setmetatable_fn(lua_State *L)
{
    if (lua_type(L, 2) == LUA_TTABLE) {
        lua_pushliteral(L, "__gc");
        if (lua_rawget(L, 2) != LUA_TNIL) {
            return luaL_error(L, "setmetatable: __gc metamethods are not allowed in the "
                                 "sandbox; release resources explicitly");
        }
        lua_pop(L, 1);
    }
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

/* Wraps the script's message handler: once the budget is spent, the error
 * passes through untouched instead of running Lua code without hooks. */
static int guarded_handler(lua_State *L)
{
    if (host_of(L)->timed_out) {
        return 1;
    }
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

static int xpcall_done(lua_State *L, int status, lua_KContext ctx)
{
    return lua_gettop(L);
}

static int xpcall_fn(lua_State *L)
{
    luaL_checktype(L, 2, LUA_TFUNCTION);
    lua_pushvalue(L, 2);
    lua_pushcclosure(L, guarded_handler, 1);
    lua_replace(L, 2);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    /* With a continuation, so a coroutine may still yield inside xpcall. */
    lua_callk(L, lua_gettop(L) - 1, LUA_MULTRET, 0, xpcall_done);
    return xpcall_done(L, LUA_OK, 0);
}

/* coroutine.close: once the budget is spent, a thread is not closed (its
 * __close methods would run without hooks); the budget error goes on. */
static int co_close_fn(lua_State *L)
{
    struct host *h = host_of(L);

    if (h->timed_out) {
        return raise_budget_error(L, h);
    }
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    return lua_gettop(L);
}

/* The function coroutine.wrap returns; like Lua's own, except that a thread
 * dead after the budget ran out is not closed (see co_close_fn). */
static int wrapped_call(lua_State *L)
{
    struct host *h = host_of(L);
    lua_State *co = lua_tothread(L, lua_upvalueindex(1));
    int nargs = lua_gettop(L);
    int status;
    int nres;

    if (!lua_checkstack(co, nargs)) {
        return luaL_error(L, "too many arguments to resume");
    }
    lua_xmove(L, co, nargs);
    status = lua_resume(co, L, nargs, &nres);
    if (status == LUA_OK || status == LUA_YIELD) {
        if (!lua_checkstack(L, nres + 1)) {
            lua_pop(co, nres);
            return luaL_error(L, "too many results to resume");
        }
        lua_xmove(co, L, nres);
        return nres;
    }
    lua_xmove(co, L, 1);
    if (h->timed_out) {
        return raise_budget_error(L, h);
    }
    if (lua_status(co) != LUA_OK && lua_status(co) != LUA_YIELD) {
        status = close_thread(co, L);
        lua_xmove(co, L, 1);
    }
    if (status != LUA_ERRMEM && lua_type(L, -1) == LUA_TSTRING) {
        luaL_where(L, 1);
        lua_insert(L, -2);
        lua_concat(L, 2);
    }
    return lua_error(L);
}

static int co_wrap_fn(lua_State *L)
{
    lua_State *co;

    luaL_checktype(L, 1, LUA_TFUNCTION);
    co = lua_newthread(L);
    lua_pushvalue(L, 1);
    lua_xmove(L, co, 1);
    lua_pushcclosure(L, wrapped_call, 1);
    return 1;
}

/* Replaces t[name] by fn with the original as upvalue 1 (or none). */
static void replace_field(lua_State *L, int t, const char *name, lua_CFunction fn, int keep)
{
    if (keep) {
        lua_getfield(L, t, name);
    }
    lua_pushcclosure(L, fn, keep);
    lua_setfield(L, t, name);
}

static void guard_hook_free_zones(lua_State *L, int globals)
{
    replace_field(L, globals, "setmetatable", setmetatable_fn, 1);
    replace_field(L, globals, "xpcall", xpcall_fn, 1);
    lua_getfield(L, globals, LUA_COLIBNAME);
    replace_field(L, lua_gettop(L), "close", co_close_fn, 1);
    replace_field(L, lua_gettop(L), "wrap", co_wrap_fn, 0);
    lua_pop(L, 1);
}

/* ---- the sandbox ---- */

static const luaL_Reg allowed_libs[] = {
    { LUA_GNAME, luaopen_base },
    { LUA_TABLIBNAME, luaopen_table },
    { LUA_STRLIBNAME, luaopen_string },
    { LUA_MATHLIBNAME, luaopen_math },
    { LUA_UTF8LIBNAME, luaopen_utf8 },
    { LUA_COLIBNAME, luaopen_coroutine },
    { NULL, NULL },
};

/* Base functions that reach the file system, compile code (load would
 * accept bytecode) or reveal the host's memory state. */
static const char *const removed_globals[] = {
    "dofile", "loadfile", "load", "loadstring", "collectgarbage", "print", "require", NULL,
};

static const char *const kept_os_functions[] = { "clock", "time", "date", NULL };

/* An `os` holding only clock, time and date; the full library table is
 * built on the stack and dropped without ever being reachable. */
static void open_os(lua_State *L, int globals)
{
    lua_pushcfunction(L, luaopen_os);
    lua_call(L, 0, 1);
    lua_createtable(L, 0, 3);
    for (const char *const *name = kept_os_functions; *name; name++) {
        lua_getfield(L, -2, *name);
        lua_setfield(L, -2, *name);
    }
    lua_setfield(L, globals, "os");
    lua_pop(L, 1);
}

static int log_fn(lua_State *L)
{
    size_t len;
    const char *msg = luaL_tolstring(L, 1, &len);

    /* One call, so lines from parallel runs do not interleave. */
    fprintf(stderr, "lua: %.*s\n", len > 65536 ? 65536 : (int)len, msg);
    return 0;
}

static void open_weir(lua_State *L, int globals, const struct host *h)
{
    lua_createtable(L, 0, 8);
    weir_lua_json_open(L, -1, output_budget(h));
    lua_pushcfunction(L, log_fn);
    lua_setfield(L, -2, "log");
    lua_setfield(L, globals, "weir");
}

static void open_sandbox(lua_State *L, const struct host *h)
{
    int globals;

    for (const luaL_Reg *lib = allowed_libs; lib->func; lib++) {
        luaL_requiref(L, lib->name, lib->func, 1);
        lua_pop(L, 1);
    }
    lua_pushglobaltable(L);
    globals = lua_gettop(L);
    for (const char *const *name = removed_globals; *name; name++) {
        lua_pushnil(L);
        lua_setfield(L, globals, *name);
    }
    lua_getfield(L, globals, LUA_STRLIBNAME);
    lua_pushnil(L);
    lua_setfield(L, -2, "dump");
    lua_pop(L, 1);
    guard_hook_free_zones(L, globals);
    open_os(L, globals);
    open_weir(L, globals, h);
    lua_pop(L, 1);
}

/* The script's _ENV: its own globals land here, reads fall through to the
 * library globals, and _G names the environment itself. The metatable is
 * hidden so the library globals are not one getmetatable away. */
static int push_env(lua_State *L)
{
    lua_createtable(L, 0, 4);
    lua_createtable(L, 0, 2);
    lua_pushglobaltable(L);
    lua_setfield(L, -2, "__index");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);
    lua_pushvalue(L, -1);
    lua_setfield(L, -2, "_G");
    return lua_gettop(L);
}

/* ---- chunk names and messages ---- */

/* How Lua shows a "@name" chunk in messages: the name, or "..." and its
 * tail when it does not fit LUA_IDSIZE (luaO_chunkid). */
static size_t chunkid_len(const char *name)
{
    size_t n = strlen(name);

    return n + 1 <= LUA_IDSIZE ? n : LUA_IDSIZE - 1;
}

/* The line in "<chunkid>:<line>: ...", or 0 when msg is not shaped so. */
static int message_line(const char *name, const char *msg)
{
    size_t n = chunkid_len(name);
    char *end;
    long line;

    if (strlen(msg) <= n || msg[n] != ':') {
        return 0;
    }
    line = strtol(msg + n + 1, &end, 10);
    return end > msg + n + 1 && *end == ':' && line > 0 && line <= 0x7fffffff ? (int)line : 0;
}

/* Copies msg into the last error as one printable line. */
static int set_one_line(int code, const char *prefix, const char *msg)
{
    char line[WEIR_ERROR_MAX];
    size_t n = 0;

    for (; msg[n] && n + 1 < sizeof(line); n++) {
        unsigned char ch = (unsigned char)msg[n];
        line[n] = ch < 0x20 || ch == 0x7f ? ' ' : (char)ch;
    }
    line[n] = '\0';
    return weir_error_set(code, "%s%s", prefix, line);
}

/* A load error comes from Lua as "<chunkid>:<line>: ..." except for a
 * refused binary chunk, which names no chunk; name it. Returns the line. */
static int load_message(const char *name, const char *msg, char *buf, size_t size)
{
    int line = message_line(name, msg);

    if (line > 0) {
        snprintf(buf, size, "%s", msg);
    }
    else {
        snprintf(buf, size, "%s: %s", name, msg);
    }
    return line;
}

/* The innermost Lua frame with a current line, for errors raised from C
 * functions (bad arguments), which carry no position of their own. */
static bool innermost_lua_frame(lua_State *L, lua_Debug *ar)
{
    for (int level = 1; lua_getstack(L, level, ar); level++) {
        if (lua_getinfo(L, "Sl", ar) && ar->currentline > 0) {
            return true;
        }
    }
    return false;
}

static bool has_position(const lua_Debug *ar, const char *msg)
{
    size_t n = strlen(ar->short_src);
    char *end;

    if (strncmp(msg, ar->short_src, n) != 0 || msg[n] != ':') {
        return false;
    }
    (void)strtol(msg + n + 1, &end, 10);
    return end > msg + n + 1 && *end == ':';
}

/* Message handler: "<chunkname>:<line>: <message>", one line, whatever the
 * error value and wherever it was raised. */
static int message_handler(lua_State *L)
{
    lua_Debug ar;
    const char *msg;

    if (host_of(L)->timed_out) {
        return 1; /* replaced by the budget message; run no __tostring */
    }
    if (lua_type(L, 1) == LUA_TSTRING || lua_type(L, 1) == LUA_TNUMBER) {
        msg = lua_tostring(L, 1);
    }
    else if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) {
        msg = lua_tostring(L, -1);
    }
    else {
        msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
    if (innermost_lua_frame(L, &ar) && !has_position(&ar, msg)) {
        msg = lua_pushfstring(L, "%s:%d: %s", ar.short_src, ar.currentline, msg);
    }
    return 1;
}

/* ---- running ---- */

/* Starts the time budget afresh: the deadline moves to now + budget and the
 * hook goes back to its sparse count (the timeout path sets it to 1). */
static void arm_deadline(struct host *h)
{
    int64_t ms = h->budget_ms < MAX_BUDGET_MS ? h->budget_ms : MAX_BUDGET_MS;

    h->deadline_ns = now_ns() + ms * 1000000;
    lua_sethook(h->main, budget_hook, LUA_MASKCOUNT, HOOK_COUNT);
}

/* A capped state for h (which must stay at the same address for the state's
 * life: the allocator and the hook reach it through the allocator's
 * userdata), with the deadline armed. Shared by weir_lua_run and sessions. */
static int state_open(struct host *h, const struct weir_lua_limits *limits, lua_State **out)
{
    int rc = init_host(h, limits);

    *out = NULL;
    if (rc != WEIR_OK) {
        return rc;
    }
    h->main = lua_newstate(capped_alloc, h);
    if (!h->main) {
        return memory_error(h);
    }
    arm_deadline(h);
    *out = h->main;
    return WEIR_OK;
}

static bool set_json_global(lua_State *L, struct run *r, int env, const json_t *v, const char *name)
{
    char err[WEIR_ERROR_MAX / 2];

    if (weir_lua_json_push(L, v, name, err, sizeof(err)) != WEIR_OK) {
        r->code = WEIR_EINVALID;
        snprintf(r->msg, sizeof(r->msg), "%s: %s", r->chunkname, err);
        return false;
    }
    lua_pushvalue(L, -1);
    lua_setfield(L, env, name);
    return true;
}

static bool load_chunk(lua_State *L, struct run *r, int env)
{
    const char *name = lua_pushfstring(L, "@%s", r->chunkname);

    if (luaL_loadbufferx(L, r->src, r->len, name, "t") != LUA_OK) {
        r->code = WEIR_EINVALID;
        load_message(r->chunkname, lua_tostring(L, -1), r->msg, sizeof(r->msg));
        return false;
    }
    lua_pushvalue(L, env);
    lua_setupvalue(L, -2, 1);
    return true;
}

/* Builds the sandbox and the script's _ENV, and loads the chunk: the one
 * setup every way of running a script goes through. Leaves env at the
 * returned index and the compiled chunk on top; on a compile error returns
 * 0 with r->code and r->msg set. Raises only Lua (memory) errors. */
static int setup_chunk(lua_State *L, struct run *r)
{
    int env;

    open_sandbox(L, r->host);
    env = push_env(L);
    if (!load_chunk(L, r, env)) {
        return 0;
    }
    return env;
}

/* Protected: a whole run of weir_lua_run; leaves the output on top.
 * Stack: 1 run. */
static int run_script(lua_State *L)
{
    struct run *r = lua_touserdata(L, 1);
    int env = setup_chunk(L, r);
    int chunk;

    if (env == 0) {
        return 0;
    }
    chunk = lua_gettop(L);
    if (!set_json_global(L, r, env, r->input, "input")) {
        return 0;
    }
    if (r->ctx) {
        if (!set_json_global(L, r, env, r->ctx, "ctx")) {
            return 0;
        }
    }
    else {
        lua_createtable(L, 0, 0);
        lua_pushvalue(L, -1);
        lua_setfield(L, env, "ctx");
    }
    lua_pushvalue(L, chunk);
    lua_call(L, 0, 1);
    if (lua_type(L, -1) == LUA_TFUNCTION) {
        lua_pushvalue(L, chunk + 1);
        lua_pushvalue(L, chunk + 2);
        lua_call(L, 2, 1);
    }
    return 1;
}

static int script_error(lua_State *L)
{
    const char *msg = lua_tostring(L, -1);

    return set_one_line(WEIR_EUSER, "", msg ? msg : "lua: error object is not a string");
}

static int limit_error(const struct host *h)
{
    if (h->limit == WEIR_ENOMEM) {
        return memory_error(h);
    }
    return weir_error_set(WEIR_ETIMEOUT, "lua: time budget of %lld ms exceeded",
                          (long long)h->budget_ms);
}

/* Runs body(r) in protected mode under the message handler. On WEIR_OK the
 * body's one result is left on top of the stack; otherwise the stack is
 * back where it was and the last error says why. The limits are consulted
 * before the status: a script may have caught their errors. */
static int protected_call(lua_State *L, struct host *h, struct run *r, lua_CFunction body)
{
    int base = lua_gettop(L);
    int status;
    int rc;

    lua_pushcfunction(L, message_handler);
    lua_pushcfunction(L, body);
    lua_pushlightuserdata(L, r);
    status = lua_pcall(L, 1, 1, base + 1);
    if (h->refusal_pending) {
        note_limit(h, WEIR_ENOMEM);
    }
    if (h->limit != 0) {
        rc = limit_error(h);
    }
    else if (status != LUA_OK) {
        rc = script_error(L);
    }
    else if (r->code != WEIR_OK) {
        rc = set_one_line(r->code, "", r->msg);
    }
    else {
        lua_remove(L, base + 1);
        return WEIR_OK;
    }
    lua_settop(L, base);
    return rc;
}

/* Converts the value on top to JSON and pops it. */
static int pop_output(lua_State *L, const struct host *h, const struct run *r, json_t **out)
{
    char err[WEIR_ERROR_MAX];
    int rc = weir_lua_json_to(L, -1, "output", output_budget(h), out, err, sizeof(err));

    lua_pop(L, 1);
    if (rc != WEIR_OK) {
        return weir_error_set(rc, "%s: %s", r->chunkname, err);
    }
    return WEIR_OK;
}

int weir_lua_run(const char *chunkname, const char *src, size_t len, const json_t *input,
                 const json_t *ctx, const struct weir_lua_limits *limits, json_t **out)
{
    struct host h;
    struct run r = { .chunkname = chunkname ? chunkname : "lua",
                     .src = src,
                     .len = len,
                     .input = input,
                     .ctx = ctx,
                     .code = WEIR_OK };
    lua_State *L = NULL;
    int rc;

    if (!out || !src) {
        return weir_error_set(WEIR_EINVALID, "lua: no script or no output pointer given");
    }
    *out = NULL;
    rc = state_open(&h, limits, &L);
    if (rc != WEIR_OK) {
        goto done;
    }
    r.host = &h;
    rc = protected_call(L, &h, &r, run_script);
    if (rc == WEIR_OK) {
        rc = pop_output(L, &h, &r, out);
    }
done:
    if (L) {
        lua_close(L);
    }
    return rc;
}

/* ---- sessions ---- */

struct weir_lua_session {
    struct host h; /* the allocator's userdata points here */
    lua_State *L;
    char *chunkname;
    int ref;    /* the function the chunk returned, in the registry */
    int broken; /* 0, or the limit code an earlier call hit */
};

/* Protected: builds the sandbox, runs the chunk once and keeps the function
 * it returned in the registry (r->ref). Stack: 1 run. */
static int session_setup(lua_State *L)
{
    struct run *r = lua_touserdata(L, 1);
    int env = setup_chunk(L, r);

    if (env == 0) {
        return 0;
    }
    lua_call(L, 0, 1);
    if (lua_type(L, -1) != LUA_TFUNCTION) {
        r->code = WEIR_EINVALID;
        snprintf(r->msg, sizeof(r->msg), "%s: the chunk must return a function, it returned a %s",
                 r->chunkname, luaL_typename(L, -1));
        return 0;
    }
    r->ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}

/* Protected: calls the session's function with the input. Stack: 1 run. */
static int session_body(lua_State *L)
{
    struct run *r = lua_touserdata(L, 1);
    char err[WEIR_ERROR_MAX / 2];

    lua_rawgeti(L, LUA_REGISTRYINDEX, r->ref);
    if (weir_lua_json_push(L, r->input, "input", err, sizeof(err)) != WEIR_OK) {
        r->code = WEIR_EINVALID;
        snprintf(r->msg, sizeof(r->msg), "%s: %s", r->chunkname, err);
        return 0;
    }
    lua_call(L, 1, 1);
    return 1;
}

void weir_lua_session_close(struct weir_lua_session *s)
{
    if (!s) {
        return;
    }
    if (s->L) {
        lua_close(s->L);
    }
    free(s->chunkname);
    free(s);
}

int weir_lua_session_open(const char *chunkname, const char *src, size_t len,
                          const struct weir_lua_limits *limits, struct weir_lua_session **out)
{
    struct weir_lua_session *s = NULL;
    const char *name = chunkname ? chunkname : "lua";
    struct run r = { .chunkname = name, .src = src, .len = len, .code = WEIR_OK };
    int rc;

    if (!out || !src) {
        return weir_error_set(WEIR_EINVALID, "lua: no script or no session pointer given");
    }
    *out = NULL;
    s = calloc(1, sizeof(*s));
    if (!s || !(s->chunkname = strdup(name))) {
        rc = weir_error_set(WEIR_ENOMEM, "lua: out of memory");
        goto fail;
    }
    rc = state_open(&s->h, limits, &s->L);
    if (rc != WEIR_OK) {
        goto fail;
    }
    r.chunkname = s->chunkname;
    r.host = &s->h;
    rc = protected_call(s->L, &s->h, &r, session_setup);
    if (rc != WEIR_OK) {
        goto fail;
    }
    lua_pop(s->L, 1); /* session_setup's nil result */
    s->ref = r.ref;
    *out = s;
    return WEIR_OK;
fail:
    weir_lua_session_close(s);
    return rc;
}

int weir_lua_session_call(struct weir_lua_session *s, const json_t *input, json_t **out)
{
    struct run r = { .code = WEIR_OK };
    int rc;

    if (!s || !out) {
        return weir_error_set(WEIR_EINVALID, "lua: no session or no output pointer given");
    }
    *out = NULL;
    if (s->broken) {
        /* The state may hold half-done work of the call that was stopped. */
        return weir_error_set(s->broken,
                              "lua: %s: session unusable: an earlier call exceeded its %s",
                              s->chunkname,
                              s->broken == WEIR_ETIMEOUT ? "time budget" : "memory limit");
    }
    r.chunkname = s->chunkname;
    r.host = &s->h;
    r.input = input;
    r.ref = s->ref;
    arm_deadline(&s->h);
    rc = protected_call(s->L, &s->h, &r, session_body);
    if (s->h.limit != 0) {
        s->broken = s->h.limit;
    }
    if (rc == WEIR_OK) {
        rc = pop_output(s->L, &s->h, &r, out);
    }
    return rc;
}

int weir_lua_check(const char *chunkname, const char *src, size_t len, int *line)
{
    struct host h;
    const char *name = chunkname ? chunkname : "lua";
    char *source = NULL;
    lua_State *L = NULL;
    int rc = WEIR_OK;
    int status;

    if (line) {
        *line = 0;
    }
    if (!src) {
        return weir_error_set(WEIR_EINVALID, "lua: no script given");
    }
    init_host(&h, NULL);
    source = malloc(strlen(name) + 2);
    L = source ? lua_newstate(capped_alloc, &h) : NULL;
    if (!L) {
        rc = memory_error(&h);
        goto done;
    }
    snprintf(source, strlen(name) + 2, "@%s", name);
    /* lua_load runs the parser in protected mode; nothing here can panic. */
    status = luaL_loadbufferx(L, src, len, source, "t");
    if (status == LUA_ERRMEM) {
        rc = memory_error(&h);
    }
    else if (status != LUA_OK) {
        char msg[WEIR_ERROR_MAX];
        int l = load_message(name, lua_tostring(L, -1), msg, sizeof(msg));
        if (line) {
            *line = l;
        }
        rc = set_one_line(WEIR_EINVALID, "", msg);
    }
done:
    if (L) {
        lua_close(L);
    }
    free(source);
    return rc;
}
