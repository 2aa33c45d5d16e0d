/*
 * query_sql.c - text helpers of engine.query: where a statement starts and
 * ends (skipping SQL comments), action names for refusals, and values as
 * JSON that is always valid.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sqlite3.h>

#include "query_int.h"
#include "reader_int.h"

/* Skips whitespace and comments; returns the first other character, or the
 * position of an unterminated block comment's end (the string's end). */
static const char *skip_space(const char *s)
{
    for (;;) {
        while (isspace((unsigned char)*s)) {
            s++;
        }
        if (s[0] == '-' && s[1] == '-') {
            while (*s && *s != '\n') {
                s++;
            }
        }
        else if (s[0] == '/' && s[1] == '*') {
            const char *end = strstr(s + 2, "*/");

            s = end ? end + 2 : s + strlen(s);
        }
        else {
            return s;
        }
    }
}

static int keyword_is(const char *s, const char *word)
{
    size_t n = strlen(word);

    return strncasecmp(s, word, n) == 0 && !isalnum((unsigned char)s[n]) && s[n] != '_';
}

int lake_query_first_keyword_ok(const char *sql)
{
    const char *s = skip_space(sql);

    return keyword_is(s, "SELECT") || keyword_is(s, "WITH");
}

int lake_query_only_comments(const char *s)
{
    return !s || *skip_space(s) == '\0';
}

const char *lake_query_action_name(int action, const char *arg)
{
    static __thread char text[128];
    const char *name;

    switch (action) {
    case SQLITE_ATTACH:
        name = "ATTACH";
        break;
    case SQLITE_DETACH:
        name = "DETACH";
        break;
    case SQLITE_PRAGMA:
        name = "PRAGMA";
        break;
    case SQLITE_INSERT:
        name = "INSERT";
        break;
    case SQLITE_UPDATE:
        name = "UPDATE";
        break;
    case SQLITE_DELETE:
        name = "DELETE";
        break;
    case SQLITE_TRANSACTION:
        name = "a transaction";
        break;
    case SQLITE_SAVEPOINT:
        name = "SAVEPOINT";
        break;
    case SQLITE_ANALYZE:
        name = "ANALYZE";
        break;
    case SQLITE_REINDEX:
        name = "REINDEX";
        break;
    case SQLITE_ALTER_TABLE:
        name = "ALTER TABLE";
        break;
    default:
        name = "a statement that changes the database";
        break;
    }
    snprintf(text, sizeof(text), "%s%s%.60s", name, arg ? " " : "", arg ? arg : "");
    return text;
}

json_t *lake_query_text_json(const char *s, size_t n)
{
    json_t *v = json_stringn(s, n);
    char *fixed;
    size_t o = 0;

    if (v || !s) {
        return v ? v : json_null();
    }
    /* json_stringn refuses invalid UTF-8 (and NUL): rebuild byte by byte,
     * keeping valid sequences and replacing the rest. */
    if ((fixed = malloc(n * 3 + 1)) == NULL) {
        return json_null();
    }
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        size_t len = c < 0x80 ? 1 : c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3
            : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
        if (len && i + len <= n && lake_utf8_valid((const unsigned char *)s + i, len)) {
            memcpy(fixed + o, s + i, len);
            o += len;
            i += len;
        }
        else {
            memcpy(fixed + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
        }
    }
    v = json_stringn(fixed, o);
    free(fixed);
    return v ? v : json_null();
}

json_t *lake_query_blob_json(const void *p, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *b = p;
    char *text = malloc(n * 2 + 4);
    json_t *v;

    if (!text) {
        return json_null();
    }
    text[0] = 'x';
    text[1] = '\'';
    for (size_t i = 0; i < n; i++) {
        text[2 + 2 * i] = hex[b[i] >> 4];
        text[3 + 2 * i] = hex[b[i] & 15];
    }
    text[2 + 2 * n] = '\'';
    v = json_stringn(text, 2 * n + 3);
    free(text);
    return v ? v : json_null();
}

const char *lake_query_param_str(const json_t *input, const char *name, const char *fallback)
{
    const char *s = json_string_value(json_object_get(input, name));

    return s ? s : fallback;
}
