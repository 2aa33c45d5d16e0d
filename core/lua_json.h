/*
 * lua_json.h - JSON <-> Lua values for lua_host.c (internal, not installed).
 *
 * Conversion rules are those of lua_host.h. Paths in messages use Lua's view
 * of the value ("output.items[3].name"), so array indexes are 1-based like
 * the script that produced them.
 */
#ifndef WEIR_CORE_LUA_JSON_H
#define WEIR_CORE_LUA_JSON_H

#include <stddef.h>

#include <jansson.h>
#include <lua5.4/lua.h>

/* Tables nested deeper than this are refused in both directions. */
#define WEIR_LUA_JSON_MAX_DEPTH 64

/* Input strings longer than this are refused: Lua's C functions (string.find
 * and friends) are opaque to the time budget hook, so the only bound on a
 * pathological pattern match is the size of the subject. */
#define WEIR_LUA_MAX_STRING ((size_t)16 << 20)

/* Creates the array/object tag metatables in the registry and sets fields
 * null, array, object, json_encode and json_decode in the table at index t.
 * encode_budget bounds what json_encode builds outside the Lua allocator
 * (see weir_lua_json_to). May raise Lua errors (memory). */
void weir_lua_json_open(lua_State *L, int t, size_t encode_budget);

/* Pushes v (NULL counts as JSON null). root names the value in messages
 * ("input"). Returns WEIR_OK, or WEIR_EINVALID with a message in err (too
 * deep, string too long) and nothing pushed. May raise Lua memory errors. */
int weir_lua_json_push(lua_State *L, const json_t *v, const char *root, char *err, size_t errsize);

/* Converts the value at idx to a new JSON reference in *out. Never raises a
 * Lua error and never runs Lua code (raw access only), so it is safe outside
 * protected mode. budget bounds the size of the result in bytes (shared
 * subtables count once per use). Returns WEIR_OK, WEIR_EINVALID (not JSON)
 * or WEIR_ENOMEM, with a message in err. */
int weir_lua_json_to(lua_State *L, int idx, const char *root, size_t budget, json_t **out,
                     char *err, size_t errsize);

#endif
