/* testutil.h - small helpers shared by the cmocka tests. */
#ifndef WEIR_TESTUTIL_H
#define WEIR_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <jansson.h>

/* A fresh empty directory under $TMPDIR (or /tmp); caller frees the string
 * and may leave the directory (tests clean up with tu_rmtree). */
char *tu_mkdtemp(void);
void tu_rmtree(const char *path);

/* Writes text to dir/name (creating parent dirs); returns the full path (free it). */
char *tu_write_file(const char *dir, const char *name, const char *text);

/* Reads a whole file; NULL if absent. Caller frees. */
char *tu_read_file(const char *path, size_t *len);

/* Environment variable set by ctest (WEIR_SOURCE_DIR, ...); fails the test if unset. */
const char *tu_env(const char *name);

/* Compact, sorted JSON text of v (caller frees). */
char *tu_json_text(const json_t *v);

/* Asserts that v's compact sorted JSON equals the JSON text `expected`
 * (which is parsed and re-dumped, so spacing and key order do not matter). */
#define tu_assert_json(v, expected) tu__assert_json((v), (expected), __FILE__, __LINE__)
void tu__assert_json(const json_t *v, const char *expected, const char *file, int line);

/* Asserts that the string hay contains needle (hay may be NULL). */
#define tu_assert_contains(hay, needle) tu__assert_contains((hay), (needle), __FILE__, __LINE__)
void tu__assert_contains(const char *hay, const char *needle, const char *file, int line);

/* The JSON text parsed (new reference); fails the test when it is not JSON. */
json_t *tu_json_load(const char *text);

/* Loads $WEIR_PLUGIN_DIR/<name>.so into plugins; fails the test if it does not load. */
struct weir_plugins;
void tu_load_plugin(struct weir_plugins *plugins, const char *name);

/* Monotonic milliseconds. */
int64_t tu_now_ms(void);

#endif
