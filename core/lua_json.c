/* lua_json.c - JSON <-> Lua conversion for the Lua sandbox (see lua_json.h). */
#include "lua_json.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lua5.4/lauxlib.h>

#include "error.h"

/* Registry keys and the weir.null sentinel: only their addresses matter, so
 * they are constants and every state (and thread) can share them. */
static const char array_tag_key = 'a';
static const char object_tag_key = 'o';
static const char box_mt_key = 'b';
static const char null_sentinel = 'n';

/* Longest key shown in a path before it is cut with "...". */
#define PATH_KEY_MAX 40

/* One step from the root to the value being converted. */
struct frame {
    const char *key; /* NULL for an integer index */
    size_t keylen;
    long long index;
};

struct path {
    const char *root;
    int depth;
    struct frame frames[WEIR_LUA_JSON_MAX_DEPTH + 1];
};

static void append(char *buf, size_t size, size_t *n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void append(char *buf, size_t size, size_t *n, const char *fmt, ...)
{
    va_list ap;
    int w;

    if (*n + 1 >= size) {
        return;
    }
    va_start(ap, fmt);
    w = vsnprintf(buf + *n, size - *n, fmt, ap);
    va_end(ap);
    if (w > 0) {
        *n += (size_t)w < size - *n ? (size_t)w : size - *n - 1;
    }
}

static bool is_identifier(const char *s, size_t len)
{
    if (len == 0 || !(isalpha((unsigned char)s[0]) || s[0] == '_')) {
        return false;
    }
    for (size_t i = 1; i < len; i++) {
        if (!(isalnum((unsigned char)s[i]) || s[i] == '_')) {
            return false;
        }
    }
    return true;
}

static void append_quoted_key(char *buf, size_t size, size_t *n, const struct frame *f)
{
    size_t shown = f->keylen < PATH_KEY_MAX ? f->keylen : PATH_KEY_MAX;

    append(buf, size, n, "[\"");
    for (size_t i = 0; i < shown; i++) {
        unsigned char ch = (unsigned char)f->key[i];
        if (ch == '"' || ch == '\\') {
            append(buf, size, n, "\\%c", ch);
        }
        else {
            /* Keep the message one printable line whatever the key holds. */
            append(buf, size, n, "%c", ch < 0x20 || ch == 0x7f ? '?' : ch);
        }
    }
    append(buf, size, n, "%s\"]", shown < f->keylen ? "..." : "");
}

static void format_path(const struct path *p, char *buf, size_t size, size_t *n)
{
    append(buf, size, n, "%s", p->root);
    for (int i = 0; i < p->depth; i++) {
        const struct frame *f = &p->frames[i];
        if (!f->key) {
            append(buf, size, n, "[%lld]", f->index);
        }
        else if (is_identifier(f->key, f->keylen)) {
            append(buf, size, n, ".%.*s", (int)f->keylen, f->key);
        }
        else {
            append_quoted_key(buf, size, n, f);
        }
    }
}

/* Writes "<path>: <message>" into err. */
static void describe(const struct path *p, char *err, size_t errsize, const char *fmt, va_list ap)
{
    size_t n = 0;

    if (errsize == 0) {
        return;
    }
    err[0] = '\0';
    format_path(p, err, errsize, &n);
    append(err, errsize, &n, ": ");
    if (n + 1 < errsize) {
        vsnprintf(err + n, errsize - n, fmt, ap);
    }
}

static void enter_key(struct path *p, const char *key, size_t keylen)
{
    p->frames[p->depth].key = key;
    p->frames[p->depth].keylen = keylen;
    p->depth++;
}

static void enter_index(struct path *p, long long index)
{
    p->frames[p->depth].key = NULL;
    p->frames[p->depth].index = index;
    p->depth++;
}

/* ---- JSON -> Lua ---- */

struct to_lua {
    lua_State *L;
    struct path path;
    char *err;
    size_t errsize;
};

static bool push_fail(struct to_lua *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bool push_fail(struct to_lua *c, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    describe(&c->path, c->err, c->errsize, fmt, ap);
    va_end(ap);
    return false;
}

static bool push_value(struct to_lua *c, const json_t *v);

/* Lua table size hints are ints; a hint is only an optimisation. */
static int size_hint(size_t n)
{
    return n < (1u << 24) ? (int)n : 1 << 24;
}

static void push_tagged_table(lua_State *L, const void *tag, size_t narr, size_t nrec)
{
    lua_createtable(L, size_hint(narr), size_hint(nrec));
    lua_rawgetp(L, LUA_REGISTRYINDEX, tag);
    lua_setmetatable(L, -2);
}

static bool push_object(struct to_lua *c, const json_t *v)
{
    json_t *obj = (json_t *)v; /* the iteration macros want non-const; nothing is changed */
    const char *key;
    size_t keylen;
    json_t *member;

    push_tagged_table(c->L, &object_tag_key, 0, json_object_size(obj));
    json_object_keylen_foreach(obj, key, keylen, member) {
        enter_key(&c->path, key, keylen);
        lua_pushlstring(c->L, key, keylen);
        if (!push_value(c, member)) {
            lua_pop(c->L, 2);
            return false;
        }
        c->path.depth--;
        lua_rawset(c->L, -3);
    }
    return true;
}

static bool push_array(struct to_lua *c, const json_t *v)
{
    size_t n = json_array_size(v);

    push_tagged_table(c->L, &array_tag_key, n, 0);
    for (size_t i = 0; i < n; i++) {
        enter_index(&c->path, (long long)i + 1);
        if (!push_value(c, json_array_get(v, i))) {
            lua_pop(c->L, 1);
            return false;
        }
        c->path.depth--;
        lua_rawseti(c->L, -2, (lua_Integer)i + 1);
    }
    return true;
}

static bool push_container(struct to_lua *c, const json_t *v)
{
    if (c->path.depth >= WEIR_LUA_JSON_MAX_DEPTH) {
        return push_fail(c, "nested deeper than %d levels", WEIR_LUA_JSON_MAX_DEPTH);
    }
    luaL_checkstack(c->L, 4, "JSON value too deep");
    return json_is_object(v) ? push_object(c, v) : push_array(c, v);
}

static bool push_value(struct to_lua *c, const json_t *v)
{
    lua_State *L = c->L;

    switch (json_typeof(v)) {
    case JSON_OBJECT:
    case JSON_ARRAY: return push_container(c, v);
    case JSON_STRING:
        if (json_string_length(v) > WEIR_LUA_MAX_STRING) {
            return push_fail(c,
                             "string of %zu bytes is over the %zu MiB limit for Lua; pass it "
                             "to a non-Lua step or split it",
                             json_string_length(v), WEIR_LUA_MAX_STRING >> 20);
        }
        lua_pushlstring(L, json_string_value(v), json_string_length(v));
        return true;
    case JSON_INTEGER: lua_pushinteger(L, (lua_Integer)json_integer_value(v)); return true;
    case JSON_REAL: lua_pushnumber(L, (lua_Number)json_real_value(v)); return true;
    case JSON_TRUE:
    case JSON_FALSE: lua_pushboolean(L, json_is_true(v)); return true;
    case JSON_NULL:
    default: lua_pushlightuserdata(L, (void *)&null_sentinel); return true;
    }
}

int weir_lua_json_push(lua_State *L, const json_t *v, const char *root, char *err, size_t errsize)
{
    struct to_lua c = { .L = L, .err = err, .errsize = errsize };

    c.path.root = root;
    return push_value(&c, v ? v : json_null()) ? WEIR_OK : WEIR_EINVALID;
}

/* ---- Lua -> JSON ----
 * Only raw, non-allocating Lua API calls are used here (lua_next, lua_rawgeti,
 * lua_tolstring on real strings, lua_checkstack), so no Lua error can jump
 * over the jansson values under construction and no metamethod runs. */

struct to_json {
    lua_State *L;
    int array_mt; /* stack slots holding the tag metatables */
    int object_mt;
    size_t budget;
    struct path path;
    const void *tables[WEIR_LUA_JSON_MAX_DEPTH + 1]; /* tables on the current path */
    int code;
    char *err;
    size_t errsize;
};

/* Each value is charged this much plus its string bytes against the budget,
 * about what jansson spends on a small value. */
#define VALUE_COST 32

static json_t *to_fail(struct to_json *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static json_t *to_fail(struct to_json *c, int code, const char *fmt, ...)
{
    va_list ap;

    c->code = code;
    va_start(ap, fmt);
    describe(&c->path, c->err, c->errsize, fmt, ap);
    va_end(ap);
    return NULL;
}

static bool charge(struct to_json *c, size_t bytes)
{
    if (bytes > c->budget) {
        to_fail(c, WEIR_ENOMEM, "value too large to convert to JSON (over %zu MiB)",
                c->budget >> 20);
        return false;
    }
    c->budget -= bytes;
    return true;
}

static json_t *made(struct to_json *c, json_t *v)
{
    if (!v) {
        return to_fail(c, WEIR_ENOMEM, "out of memory converting to JSON");
    }
    return v;
}

static json_t *value_to_json(struct to_json *c, int idx);

static json_t *number_to_json(struct to_json *c, int idx)
{
    double d;

    if (lua_isinteger(c->L, idx)) {
        return made(c, json_integer((json_int_t)lua_tointeger(c->L, idx)));
    }
    d = (double)lua_tonumber(c->L, idx);
    if (isnan(d)) {
        return to_fail(c, WEIR_EINVALID, "NaN is not JSON");
    }
    if (isinf(d)) {
        return to_fail(c, WEIR_EINVALID, "%s is not JSON", d > 0 ? "inf" : "-inf");
    }
    return made(c, json_real(d));
}

static json_t *string_to_json(struct to_json *c, int idx)
{
    size_t len;
    const char *s = lua_tolstring(c->L, idx, &len);
    json_t *v;

    if (!charge(c, len)) {
        return NULL;
    }
    v = json_stringn(s, len);
    if (!v) {
        return to_fail(c, WEIR_EINVALID, "string is not valid UTF-8");
    }
    return v;
}

struct key_scan {
    long long count;
    long long max;
    bool positive_ints; /* every key is an integer >= 1 */
};

static void scan_keys(lua_State *L, int idx, struct key_scan *s)
{
    s->count = 0;
    s->max = 0;
    s->positive_ints = true;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        s->count++;
        if (lua_isinteger(L, -1) && lua_tointeger(L, -1) > 0) {
            long long k = (long long)lua_tointeger(L, -1);
            s->max = k > s->max ? k : s->max;
        }
        else {
            s->positive_ints = false;
        }
    }
}

/* The metatable slot (array_mt or object_mt) tagging the table, or 0. */
static int tag_of(struct to_json *c, int idx)
{
    int tag = 0;

    if (lua_getmetatable(c->L, idx)) {
        if (lua_rawequal(c->L, -1, c->array_mt)) {
            tag = c->array_mt;
        }
        else if (lua_rawequal(c->L, -1, c->object_mt)) {
            tag = c->object_mt;
        }
        lua_pop(c->L, 1);
    }
    return tag;
}

/* Decides array or object; for an array sets *n to its length. Holes in a
 * weir.array table become null, as long as they do not outnumber the entries
 * (a lone t[1e9] must not turn into a billion nulls). */
static bool table_is_array(struct to_json *c, int idx, long long *n, bool *failed)
{
    int tag = tag_of(c, idx);
    struct key_scan s;

    *failed = false;
    if (tag == c->object_mt) {
        return false;
    }
    scan_keys(c->L, idx, &s);
    *n = s.max;
    if (tag != c->array_mt) {
        return s.count >= 1 && s.positive_ints && s.max == s.count;
    }
    if (!s.positive_ints) {
        to_fail(c, WEIR_EINVALID, "weir.array table has keys other than 1..n");
    }
    else if (s.max > 2 * s.count) {
        to_fail(c, WEIR_EINVALID,
                "weir.array table is too sparse (%lld entries up to index %lld); "
                "store weir.null for JSON null",
                s.count, s.max);
    }
    *failed = c->code != WEIR_OK;
    return true;
}

static json_t *array_to_json(struct to_json *c, int idx, long long n)
{
    json_t *a = made(c, json_array());

    for (long long i = 1; a && i <= n; i++) {
        json_t *v;
        enter_index(&c->path, i);
        lua_rawgeti(c->L, idx, (lua_Integer)i);
        v = lua_isnil(c->L, -1) ? json_null() : value_to_json(c, lua_gettop(c->L));
        lua_pop(c->L, 1);
        if (!v || json_array_append_new(a, v)) {
            json_decref(a);
            a = v ? made(c, NULL) : NULL;
            break;
        }
        c->path.depth--;
    }
    return a;
}

/* Converts the key/value pair on top of the stack into a member of o. */
static bool add_member(struct to_json *c, json_t *o)
{
    lua_State *L = c->L;
    struct frame f = { NULL, 0, 0 };
    char num[32];
    const char *key;
    size_t keylen;
    json_t *v;

    if (lua_type(L, -2) == LUA_TSTRING) {
        key = f.key = lua_tolstring(L, -2, &keylen);
        f.keylen = keylen;
    }
    else if (lua_isinteger(L, -2)) {
        f.index = (long long)lua_tointeger(L, -2);
        keylen = (size_t)snprintf(num, sizeof(num), "%lld", f.index);
        key = num;
    }
    else {
        to_fail(c, WEIR_EINVALID, "table key of type %s is not JSON; use string or integer keys",
                luaL_typename(L, -2));
        return false;
    }
    if (json_object_getn(o, key, keylen)) {
        to_fail(c, WEIR_EINVALID, "key \"%s\" is used both as an integer and as a string", key);
        return false;
    }
    if (!charge(c, keylen)) {
        return false;
    }
    c->path.frames[c->path.depth++] = f;
    v = value_to_json(c, lua_gettop(L));
    if (!v) {
        return false;
    }
    if (json_object_setn_new(o, key, keylen, v)) {
        to_fail(c, WEIR_EINVALID, "key is not valid UTF-8");
        return false;
    }
    c->path.depth--;
    return true;
}

static int cmp_keys(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Lua's table order depends on a per-state hash seed; outputs (and so run
 * summaries and artifacts) must not. Takes o, returns it rebuilt in key order. */
static json_t *sorted_keys(json_t *o)
{
    size_t n = json_object_size(o), i = 0;
    const char **keys;
    const char *key;
    json_t *v, *out;

    if (n < 2) {
        return o;
    }
    keys = malloc(n * sizeof(*keys));
    out = keys ? json_object() : NULL;
    if (!out) {
        free(keys);
        return o; /* still valid JSON, merely unordered */
    }
    json_object_foreach(o, key, v) {
        keys[i++] = key;
    }
    qsort(keys, n, sizeof(*keys), cmp_keys);
    for (i = 0; i < n; i++) {
        json_object_set(out, keys[i], json_object_get(o, keys[i]));
    }
    free(keys);
    json_decref(o);
    return out;
}

static json_t *object_to_json(struct to_json *c, int idx)
{
    json_t *o = made(c, json_object());

    if (!o) {
        return NULL;
    }
    lua_pushnil(c->L);
    while (lua_next(c->L, idx)) {
        bool ok = add_member(c, o);
        lua_pop(c->L, 1);
        if (!ok) {
            lua_pop(c->L, 1);
            json_decref(o);
            return NULL;
        }
    }
    return sorted_keys(o);
}

static json_t *table_to_json(struct to_json *c, int idx)
{
    const void *t = lua_topointer(c->L, idx);
    long long n = 0;
    bool failed;
    bool is_array;

    if (c->path.depth >= WEIR_LUA_JSON_MAX_DEPTH) {
        return to_fail(c, WEIR_EINVALID, "nested deeper than %d levels", WEIR_LUA_JSON_MAX_DEPTH);
    }
    for (int i = 0; i < c->path.depth; i++) {
        if (c->tables[i] == t) {
            return to_fail(c, WEIR_EINVALID, "table contains itself (a cycle is not JSON)");
        }
    }
    if (!lua_checkstack(c->L, 4)) {
        return made(c, NULL);
    }
    c->tables[c->path.depth] = t;
    is_array = table_is_array(c, idx, &n, &failed);
    if (failed) {
        return NULL;
    }
    return is_array ? array_to_json(c, idx, n) : object_to_json(c, idx);
}

static json_t *value_to_json(struct to_json *c, int idx)
{
    lua_State *L = c->L;
    int type = lua_type(L, idx);

    if (!charge(c, VALUE_COST)) {
        return NULL;
    }
    switch (type) {
    case LUA_TNIL: return json_null();
    case LUA_TBOOLEAN: return json_boolean(lua_toboolean(L, idx));
    case LUA_TNUMBER: return number_to_json(c, idx);
    case LUA_TSTRING: return string_to_json(c, idx);
    case LUA_TTABLE: return table_to_json(c, idx);
    case LUA_TLIGHTUSERDATA:
        if (lua_touserdata(L, idx) == (void *)&null_sentinel) {
            return json_null();
        }
        break;
    default: break;
    }
    return to_fail(c, WEIR_EINVALID, "%s is not JSON", lua_typename(L, type));
}

int weir_lua_json_to(lua_State *L, int idx, const char *root, size_t budget, json_t **out,
                     char *err, size_t errsize)
{
    struct to_json c = {
        .L = L, .budget = budget, .code = WEIR_OK, .err = err, .errsize = errsize
    };

    c.path.root = root;
    *out = NULL;
    idx = lua_absindex(L, idx);
    if (!lua_checkstack(L, 8)) {
        snprintf(err, errsize, "%s: out of memory converting to JSON", root);
        return WEIR_ENOMEM;
    }
    lua_rawgetp(L, LUA_REGISTRYINDEX, &array_tag_key);
    c.array_mt = lua_gettop(L);
    lua_rawgetp(L, LUA_REGISTRYINDEX, &object_tag_key);
    c.object_mt = lua_gettop(L);
    *out = value_to_json(&c, idx);
    lua_pop(L, 2);
    return *out ? WEIR_OK : c.code;
}

/* ---- functions in the weir table ---- */

/* A userdata owning jansson memory while Lua code that may raise runs, so a
 * memory error cannot leak it: lua_close finalizes the box. */
struct box {
    json_t *json;
    char *text;
};

static void box_clear(struct box *b)
{
    json_decref(b->json);
    free(b->text);
    b->json = NULL;
    b->text = NULL;
}

static int box_gc(lua_State *L)
{
    box_clear(lua_touserdata(L, 1));
    return 0;
}

static struct box *new_box(lua_State *L)
{
    struct box *b = lua_newuserdatauv(L, sizeof(*b), 0);

    b->json = NULL;
    b->text = NULL;
    lua_rawgetp(L, LUA_REGISTRYINDEX, &box_mt_key);
    lua_setmetatable(L, -2);
    return b;
}

static int json_encode_fn(lua_State *L)
{
    size_t budget = (size_t)lua_tointeger(L, lua_upvalueindex(1));
    char err[512];
    struct box *b;

    luaL_checkany(L, 1);
    lua_settop(L, 1);
    b = new_box(L);
    if (weir_lua_json_to(L, 1, "value", budget, &b->json, err, sizeof(err)) != WEIR_OK) {
        return luaL_error(L, "weir.json_encode: %s", err);
    }
    b->text = json_dumps(b->json, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    if (!b->text) {
        return luaL_error(L, "weir.json_encode: out of memory");
    }
    lua_pushstring(L, b->text);
    box_clear(b);
    return 1;
}

static int json_decode_fn(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    json_error_t jerr;
    char err[512];
    struct box *b = new_box(L);

    b->json = json_loadb(s, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (!b->json) {
        return luaL_error(L, "weir.json_decode: %s at line %d column %d", jerr.text, jerr.line,
                          jerr.column);
    }
    if (weir_lua_json_push(L, b->json, "value", err, sizeof(err)) != WEIR_OK) {
        return luaL_error(L, "weir.json_decode: %s", err);
    }
    box_clear(b);
    return 1;
}

/* weir.array(t) / weir.object(t): tags t (or a new table) and returns it. A
 * table carrying some other metatable is refused rather than silently losing
 * its behaviour. */
static int tag_table(lua_State *L, const void *tag, const char *fname)
{
    bool tagged = false;

    if (lua_isnoneornil(L, 1)) {
        lua_settop(L, 0);
        lua_newtable(L);
    }
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    if (lua_getmetatable(L, 1)) {
        lua_rawgetp(L, LUA_REGISTRYINDEX, &array_tag_key);
        lua_rawgetp(L, LUA_REGISTRYINDEX, &object_tag_key);
        tagged = lua_rawequal(L, -1, -3) || lua_rawequal(L, -2, -3);
        if (!tagged) {
            return luaL_error(L, "%s: the table already has a metatable", fname);
        }
        lua_settop(L, 1);
    }
    lua_rawgetp(L, LUA_REGISTRYINDEX, tag);
    lua_setmetatable(L, 1);
    return 1;
}

static int array_fn(lua_State *L)
{
    return tag_table(L, &array_tag_key, "weir.array");
}

static int object_fn(lua_State *L)
{
    return tag_table(L, &object_tag_key, "weir.object");
}

/* The tag metatables are protected: getmetatable(t) gives their name, and
 * a script cannot add a __gc to them (finalizers escape the time budget). */
static void new_metatable(lua_State *L, const void *key, const char *name)
{
    lua_createtable(L, 0, 2);
    lua_pushstring(L, name);
    lua_setfield(L, -2, "__name");
    lua_pushstring(L, name);
    lua_setfield(L, -2, "__metatable");
    lua_rawsetp(L, LUA_REGISTRYINDEX, key);
}

void weir_lua_json_open(lua_State *L, int t, size_t encode_budget)
{
    t = lua_absindex(L, t);
    new_metatable(L, &array_tag_key, "weir.array");
    new_metatable(L, &object_tag_key, "weir.object");
    new_metatable(L, &box_mt_key, "weir.box");
    lua_rawgetp(L, LUA_REGISTRYINDEX, &box_mt_key);
    lua_pushcfunction(L, box_gc);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);

    lua_pushlightuserdata(L, (void *)&null_sentinel);
    lua_setfield(L, t, "null");
    lua_pushcfunction(L, array_fn);
    lua_setfield(L, t, "array");
    lua_pushcfunction(L, object_fn);
    lua_setfield(L, t, "object");
    lua_pushinteger(
        L, (lua_Integer)(encode_budget > (size_t)LUA_MAXINTEGER ? LUA_MAXINTEGER : encode_budget));
    lua_pushcclosure(L, json_encode_fn, 1);
    lua_setfield(L, t, "json_encode");
    lua_pushcfunction(L, json_decode_fn);
    lua_setfield(L, t, "json_decode");
}
