/* ydoc.c - YAML text to a positioned node tree (libyaml events), and to JSON. */
#include "ydoc.h"

#include <ctype.h>
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <yaml.h>

#include "error.h"

#define YAML_TAG_PREFIX "tag:yaml.org,2002:"
/* Longest key or tag text quoted in a diagnostic. */
#define EXCERPT_MAX 48

/* One open collection while events stream in. */
struct frame {
    struct weir_ynode *node;
    size_t cap;          /* allocated slots of node->keys / node->items */
    json_t *index;       /* map only: key text -> position in keys */
};

struct builder {
    const char *file;
    struct weir_diags *diags;
    struct weir_ynode *root;
    struct frame stack[WEIR_YDOC_MAX_DEPTH];
    int depth;
    size_t nodes;
    int docs;
    int oom;
};

enum scalar_type {
    ST_NULL,
    ST_TRUE,
    ST_FALSE,
    ST_INT,
    ST_INT_RANGE,        /* integer syntax but outside int64 */
    ST_FLOAT,
    ST_FLOAT_SPECIAL,    /* inf/nan: valid YAML, not representable in JSON */
    ST_STRING
};

/* ---- small helpers ------------------------------------------------------ */

/* A printable, bounded copy of user text for a diagnostic. */
static void excerpt(char *dst, size_t cap, const char *s, size_t len)
{
    size_t max = cap - 4;
    size_t n = len < max ? len : max;

    if (len > max) {
        /* do not cut a UTF-8 sequence in half */
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) {
            n--;
        }
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        dst[i] = (c < 0x20 || c == 0x7F) ? '?' : (char)c;
    }
    strcpy(dst + n, len > n ? "..." : "");
}

static void tag_name(char *dst, size_t cap, const char *tag)
{
    size_t plen = strlen(YAML_TAG_PREFIX);
    char tmp[EXCERPT_MAX + 4];

    if (strncmp(tag, YAML_TAG_PREFIX, plen) == 0) {
        excerpt(tmp, sizeof(tmp), tag + plen, strlen(tag + plen));
        snprintf(dst, cap, "!!%s", tmp);
        return;
    }
    excerpt(dst, cap, tag, strlen(tag));
}

/* Sets the thread's last error from the first diagnostic this call added. */
static int set_error(const struct weir_diags *d, size_t first, int code)
{
    const struct weir_diag *g;

    if (first >= d->n) {
        weir_diags_to_error(d);
        return code;
    }
    g = &d->v[first];
    if (g->line > 0) {
        return weir_error_set(code, "%s:%d:%d: %s", g->file, g->line, g->col, g->msg);
    }
    return weir_error_set(code, "%s: %s", g->file, g->msg);
}

/* ---- scalar typing (YAML 1.2 core schema) -------------------------------- */

static int is_one_of(const char *s, size_t len, const char *const *words)
{
    for (; *words; words++) {
        if (strlen(*words) == len && memcmp(s, *words, len) == 0) {
            return 1;
        }
    }
    return 0;
}

static int digit_value(char c, int base)
{
    static const char digits[] = "0123456789abcdef";
    const char *p = c ? strchr(digits, tolower((unsigned char)c)) : NULL;

    return p && p - digits < base ? (int)(p - digits) : -1;
}

/* Digits only, in base; ST_INT with *out, ST_INT_RANGE past int64, or
 * ST_STRING when s is not a number at all. */
static enum scalar_type parse_digits(const char *s, size_t len, int base, int neg, json_int_t *out)
{
    uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    uint64_t acc = 0;
    int range = 0;

    if (len == 0) {
        return ST_STRING;
    }
    for (size_t i = 0; i < len; i++) {
        int d = digit_value(s[i], base);
        if (d < 0) {
            return ST_STRING;
        }
        if (acc > (limit - (uint64_t)d) / (uint64_t)base) {
            range = 1;
        }
        else {
            acc = acc * (uint64_t)base + (uint64_t)d;
        }
    }
    if (range) {
        return ST_INT_RANGE;
    }
    *out = neg ? (json_int_t)(0 - acc) : (json_int_t)acc;
    return ST_INT;
}

static enum scalar_type classify_int(const char *s, size_t len, json_int_t *out)
{
    int neg = 0;

    if (len > 2 && s[0] == '0' && s[1] == 'x') {
        return parse_digits(s + 2, len - 2, 16, 0, out);
    }
    if (len > 2 && s[0] == '0' && s[1] == 'o') {
        return parse_digits(s + 2, len - 2, 8, 0, out);
    }
    if (len > 0 && (s[0] == '-' || s[0] == '+')) {
        neg = s[0] == '-';
        s++;
        len--;
    }
    return parse_digits(s, len, 10, neg, out);
}

static size_t count_digits(const char *s, size_t len, size_t i)
{
    size_t start = i;

    while (i < len && s[i] >= '0' && s[i] <= '9') {
        i++;
    }
    return i - start;
}

/* [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static int float_syntax(const char *s, size_t len)
{
    size_t i = 0, before, after = 0, exp;

    if (i < len && (s[i] == '-' || s[i] == '+')) {
        i++;
    }
    before = count_digits(s, len, i);
    i += before;
    if (i < len && s[i] == '.') {
        after = count_digits(s, len, i + 1);
        i += 1 + after;
    }
    if (before == 0 && after == 0) {
        return 0;
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '-' || s[i] == '+')) {
            i++;
        }
        exp = count_digits(s, len, i);
        if (exp == 0) {
            return 0;
        }
        i += exp;
    }
    return i == len;
}

static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void c_locale_init(void)
{
    c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
}

/* strtod in the C locale: the program's locale must not turn "1.5" into 1. */
static double c_strtod(const char *s, size_t len)
{
    char stackbuf[64];
    char *tmp = len < sizeof(stackbuf) ? stackbuf : malloc(len + 1);
    double v;

    if (!tmp) {
        return NAN;
    }
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    pthread_once(&c_locale_once, c_locale_init);
    v = c_locale ? strtod_l(tmp, NULL, c_locale) : strtod(tmp, NULL);
    if (tmp != stackbuf) {
        free(tmp);
    }
    return v;
}

static enum scalar_type classify_float(const char *s, size_t len, double *out)
{
    static const char *const inf[] = {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF",
                                      "-.inf", "-.Inf", "-.INF", NULL};
    static const char *const nan[] = {".nan", ".NaN", ".NAN", NULL};

    if (is_one_of(s, len, inf) || is_one_of(s, len, nan)) {
        return ST_FLOAT_SPECIAL;
    }
    if (!float_syntax(s, len)) {
        return ST_STRING;
    }
    *out = c_strtod(s, len);
    /* 1e999 overflows to inf, which JSON cannot hold either */
    return isfinite(*out) ? ST_FLOAT : ST_FLOAT_SPECIAL;
}

static enum scalar_type classify(const char *s, size_t len, json_int_t *iv, double *dv)
{
    static const char *const nulls[] = {"", "~", "null", "Null", "NULL", NULL};
    static const char *const trues[] = {"true", "True", "TRUE", NULL};
    static const char *const falses[] = {"false", "False", "FALSE", NULL};
    enum scalar_type t;

    if (is_one_of(s, len, nulls)) {
        return ST_NULL;
    }
    if (is_one_of(s, len, trues)) {
        return ST_TRUE;
    }
    if (is_one_of(s, len, falses)) {
        return ST_FALSE;
    }
    t = classify_int(s, len, iv);
    if (t != ST_STRING) {
        return t;
    }
    return classify_float(s, len, dv);
}

/* ---- nodes --------------------------------------------------------------- */

void weir_ynode_free(struct weir_ynode *node)
{
    if (!node) {
        return;
    }
    for (size_t i = 0; i < node->n; i++) {
        if (node->keys) {
            weir_ynode_free(node->keys[i]);
        }
        weir_ynode_free(node->items[i]);
    }
    free(node->keys);
    free(node->items);
    free(node->str);
    free(node);
}

struct weir_ynode *weir_ynode_get(const struct weir_ynode *map, const char *key)
{
    size_t klen;

    if (!map || map->kind != WEIR_YNODE_MAP || !key) {
        return NULL;
    }
    klen = strlen(key);
    for (size_t i = 0; i < map->n; i++) {
        const struct weir_ynode *k = map->keys[i];
        if (k->kind == WEIR_YNODE_SCALAR && k->len == klen && memcmp(k->str, key, klen) == 0) {
            return map->items[i];
        }
    }
    return NULL;
}

static json_t *scalar_to_json(const struct weir_ynode *node)
{
    json_int_t iv = 0;
    double dv = 0;

    if (!node->plain) {
        return json_stringn(node->str, node->len);
    }
    switch (classify(node->str, node->len, &iv, &dv)) {
    case ST_NULL:
        return json_null();
    case ST_TRUE:
        return json_true();
    case ST_FALSE:
        return json_false();
    case ST_INT:
        return json_integer(iv);
    case ST_FLOAT:
        return json_real(dv);
    default:
        return json_stringn(node->str, node->len);
    }
}

json_t *weir_ynode_to_json(const struct weir_ynode *node)
{
    json_t *out;

    if (!node) {
        return json_null();
    }
    if (node->kind == WEIR_YNODE_SCALAR) {
        return scalar_to_json(node);
    }
    out = node->kind == WEIR_YNODE_MAP ? json_object() : json_array();
    for (size_t i = 0; out && i < node->n; i++) {
        json_t *v = weir_ynode_to_json(node->items[i]);
        int rc;
        if (node->kind == WEIR_YNODE_MAP) {
            rc = json_object_setn_new(out, node->keys[i]->str, node->keys[i]->len, v);
        }
        else {
            rc = json_array_append_new(out, v);
        }
        if (rc != 0) {
            json_decref(out);
            out = NULL;
        }
    }
    return out;
}

/* ---- building the tree from events -------------------------------------- */

/* libyaml marks are 0-based; diagnostics are 1-based. */
static void __attribute__((format(printf, 3, 4)))
diag_at(struct builder *b, yaml_mark_t mark, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    weir_diags_add(b->diags, b->file, (int)mark.line + 1, (int)mark.column + 1, "%s", msg);
}

static int fail_oom(struct builder *b)
{
    b->oom = 1;
    weir_diags_add(b->diags, b->file, 0, 0, "out of memory while reading YAML");
    return WEIR_ENOMEM;
}

static int new_node(struct builder *b, enum weir_ynode_kind kind, yaml_mark_t mark,
                    struct weir_ynode **out)
{
    struct weir_ynode *n;

    if (++b->nodes > WEIR_YDOC_MAX_NODES) {
        diag_at(b, mark, "more than %d YAML nodes; split the file into smaller ones",
                WEIR_YDOC_MAX_NODES);
        return WEIR_EINVALID;
    }
    n = calloc(1, sizeof(*n));
    if (!n) {
        return fail_oom(b);
    }
    n->kind = kind;
    n->line = (int)mark.line + 1;
    n->col = (int)mark.column + 1;
    *out = n;
    return WEIR_OK;
}

static int grow(struct builder *b, struct frame *f)
{
    size_t cap = f->cap ? f->cap * 2 : 4;
    struct weir_ynode **items, **keys;

    items = realloc(f->node->items, cap * sizeof(*items));
    if (!items) {
        return fail_oom(b);
    }
    f->node->items = items;
    if (f->node->kind == WEIR_YNODE_MAP) {
        keys = realloc(f->node->keys, cap * sizeof(*keys));
        if (!keys) {
            return fail_oom(b);
        }
        f->node->keys = keys;
    }
    f->cap = cap;
    return WEIR_OK;
}

/* Checks a new key against the earlier ones; attach appends it after. The
 * index is a JSON object (key text -> position) so a hostile 100k-key map
 * stays linear overall. */
static int check_key(struct builder *b, struct frame *f, struct weir_ynode *key)
{
    const struct weir_ynode *first;
    char text[EXCERPT_MAX + 4];
    json_t *pos;

    if (key->kind != WEIR_YNODE_SCALAR) {
        weir_diags_add(b->diags, b->file, key->line, key->col,
                       "mapping keys must be scalars, not %s; use a plain string key",
                       key->kind == WEIR_YNODE_MAP ? "a mapping" : "a sequence");
        return WEIR_OK;
    }
    pos = json_object_getn(f->index, key->str, key->len);
    if (pos) {
        first = f->node->keys[json_integer_value(pos)];
        excerpt(text, sizeof(text), key->str, key->len);
        weir_diags_add(b->diags, b->file, key->line, key->col,
                       "duplicate key '%s' (first defined at %d:%d); remove one of them", text,
                       first->line, first->col);
        return WEIR_OK;
    }
    pos = json_integer((json_int_t)f->node->n);
    if (json_object_setn_new(f->index, key->str, key->len, pos) != 0) {
        /* only invalid UTF-8 or no memory; libyaml rules out the first */
        return fail_oom(b);
    }
    return WEIR_OK;
}

/* A map holds keys[n-1] with items[n-1] NULL while it waits for the value, so
 * the tree owns every node at all times and error paths free just the root. */
static int attach(struct builder *b, struct weir_ynode *node)
{
    struct frame *f;
    struct weir_ynode *parent;

    if (b->depth == 0) {
        weir_ynode_free(b->root);
        b->root = node;
        return WEIR_OK;
    }
    f = &b->stack[b->depth - 1];
    parent = f->node;
    if (parent->kind == WEIR_YNODE_MAP && parent->n > 0 && !parent->items[parent->n - 1]) {
        parent->items[parent->n - 1] = node;
        return WEIR_OK;
    }
    if (parent->n == f->cap && grow(b, f) != WEIR_OK) {
        weir_ynode_free(node);
        return WEIR_ENOMEM;
    }
    if (parent->kind == WEIR_YNODE_SEQ) {
        parent->items[parent->n++] = node;
        return WEIR_OK;
    }
    parent->keys[parent->n] = node;
    parent->items[parent->n] = NULL;
    if (check_key(b, f, node) != WEIR_OK) {
        weir_ynode_free(node);
        return WEIR_ENOMEM;
    }
    parent->n++;
    return WEIR_OK;
}

static void refuse_anchor(struct builder *b, const yaml_char_t *anchor, yaml_mark_t mark)
{
    char text[EXCERPT_MAX + 4];

    if (anchor) {
        excerpt(text, sizeof(text), (const char *)anchor, strlen((const char *)anchor));
        diag_at(b, mark,
                "anchor '&%s' is not supported in weir pipelines (no anchors or aliases); "
                "repeat the value instead",
                text);
    }
}

static const char *std_tag(const yaml_char_t *tag)
{
    static const char *const known[] = {"str", "int", "float", "bool", "null", "map", "seq", NULL};
    size_t plen = strlen(YAML_TAG_PREFIX);

    if (strncmp((const char *)tag, YAML_TAG_PREFIX, plen) != 0) {
        return NULL;
    }
    for (size_t i = 0; known[i]; i++) {
        if (strcmp((const char *)tag + plen, known[i]) == 0) {
            return known[i];
        }
    }
    return NULL;
}

/* Returns the short standard name of tag, or NULL after a diagnostic. */
static const char *check_tag(struct builder *b, const yaml_char_t *tag, yaml_mark_t mark)
{
    const char *name = std_tag(tag);
    char text[EXCERPT_MAX + 8];

    if (!name) {
        tag_name(text, sizeof(text), (const char *)tag);
        diag_at(b, mark,
                "unsupported tag '%s'; weir accepts only !!str, !!int, !!float, !!bool, "
                "!!null, !!map and !!seq, or no tag",
                text);
    }
    return name;
}

static int scalar_fits(const char *tag, enum scalar_type t)
{
    if (strcmp(tag, "int") == 0) {
        return t == ST_INT;
    }
    if (strcmp(tag, "float") == 0) {
        return t == ST_INT || t == ST_FLOAT || t == ST_FLOAT_SPECIAL;
    }
    if (strcmp(tag, "bool") == 0) {
        return t == ST_TRUE || t == ST_FALSE;
    }
    return t == ST_NULL;
}

/* An explicit tag decides the type: !!str forces a string, the others are
 * checked here and then resolved like a plain scalar. */
static void apply_scalar_tag(struct builder *b, struct weir_ynode *n, const yaml_event_t *ev)
{
    const char *tag = check_tag(b, ev->data.scalar.tag, ev->start_mark);
    char text[EXCERPT_MAX + 4];
    json_int_t iv;
    double dv;

    if (!tag) {
        return;
    }
    if (strcmp(tag, "str") == 0) {
        n->plain = 0;
        return;
    }
    if (strcmp(tag, "map") == 0 || strcmp(tag, "seq") == 0) {
        diag_at(b, ev->start_mark, "tag '!!%s' is not valid on a scalar; remove the tag", tag);
        return;
    }
    if (!scalar_fits(tag, classify(n->str, n->len, &iv, &dv))) {
        excerpt(text, sizeof(text), n->str, n->len);
        weir_diags_add(b->diags, b->file, n->line, n->col,
                       "'%s' is not a valid !!%s value; fix the value or remove the tag", text,
                       tag);
        return;
    }
    n->plain = 1;
}

static int new_scalar(struct builder *b, yaml_mark_t mark, const void *str, size_t len,
                      struct weir_ynode **out)
{
    int rc = new_node(b, WEIR_YNODE_SCALAR, mark, out);

    if (rc != WEIR_OK) {
        return rc;
    }
    (*out)->str = malloc(len + 1);
    if (!(*out)->str) {
        weir_ynode_free(*out);
        return fail_oom(b);
    }
    memcpy((*out)->str, str, len);
    (*out)->str[len] = '\0';
    (*out)->len = len;
    (*out)->plain = 1;
    return WEIR_OK;
}

static int on_scalar(struct builder *b, const yaml_event_t *ev)
{
    struct weir_ynode *n = NULL;
    int rc = new_scalar(b, ev->start_mark, ev->data.scalar.value, ev->data.scalar.length, &n);

    if (rc != WEIR_OK) {
        return rc;
    }
    n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    refuse_anchor(b, ev->data.scalar.anchor, ev->start_mark);
    if (ev->data.scalar.tag) {
        apply_scalar_tag(b, n, ev);
    }
    return attach(b, n);
}

/* An alias becomes an empty placeholder so the tree keeps its shape and the
 * rest of the file is still checked. */
static int on_alias(struct builder *b, const yaml_event_t *ev)
{
    struct weir_ynode *n = NULL;
    int rc;
    const char *anchor = (const char *)ev->data.alias.anchor;
    char text[EXCERPT_MAX + 4];

    excerpt(text, sizeof(text), anchor, strlen(anchor));
    diag_at(b, ev->start_mark,
            "aliases are not supported in weir pipelines (found '*%s'); repeat the value instead",
            text);
    rc = new_scalar(b, ev->start_mark, "", 0, &n);
    return rc == WEIR_OK ? attach(b, n) : rc;
}

static int on_collection_start(struct builder *b, const yaml_event_t *ev, enum weir_ynode_kind kind)
{
    int is_map = kind == WEIR_YNODE_MAP;
    const yaml_char_t *anchor = is_map ? ev->data.mapping_start.anchor
                                       : ev->data.sequence_start.anchor;
    const yaml_char_t *tag = is_map ? ev->data.mapping_start.tag : ev->data.sequence_start.tag;
    struct frame *f = &b->stack[b->depth];
    struct weir_ynode *n = NULL;
    const char *name;
    int rc;

    if (b->depth >= WEIR_YDOC_MAX_DEPTH) {
        diag_at(b, ev->start_mark, "nesting deeper than %d levels; flatten the structure",
                WEIR_YDOC_MAX_DEPTH);
        return WEIR_EINVALID;
    }
    rc = new_node(b, kind, ev->start_mark, &n);
    if (rc == WEIR_OK) {
        rc = attach(b, n);
    }
    if (rc != WEIR_OK) {
        return rc;
    }
    memset(f, 0, sizeof(*f));
    f->node = n;
    f->index = is_map ? json_object() : NULL;
    b->depth++;
    if (is_map && !f->index) {
        return fail_oom(b);
    }
    refuse_anchor(b, anchor, ev->start_mark);
    name = tag ? check_tag(b, tag, ev->start_mark) : NULL;
    if (name && strcmp(name, is_map ? "map" : "seq") != 0) {
        weir_diags_add(b->diags, b->file, n->line, n->col,
                       "tag '!!%s' is not valid on a %s; remove the tag", name,
                       is_map ? "mapping" : "sequence");
    }
    return WEIR_OK;
}

static void on_collection_end(struct builder *b)
{
    if (b->depth > 0) {
        json_decref(b->stack[b->depth - 1].index);
        b->stack[--b->depth].index = NULL;
    }
}

static int on_document_start(struct builder *b, const yaml_event_t *ev)
{
    if (b->docs++ == 0) {
        return WEIR_OK;
    }
    diag_at(b, ev->start_mark,
            "a second YAML document starts here; a weir file holds one document, so "
            "remove this '---' and what follows or move it to its own file");
    return WEIR_EINVALID;
}

static int on_event(struct builder *b, const yaml_event_t *ev, int *done)
{
    switch (ev->type) {
    case YAML_STREAM_END_EVENT:
        *done = 1;
        return WEIR_OK;
    case YAML_DOCUMENT_START_EVENT:
        return on_document_start(b, ev);
    case YAML_ALIAS_EVENT:
        return on_alias(b, ev);
    case YAML_SCALAR_EVENT:
        return on_scalar(b, ev);
    case YAML_SEQUENCE_START_EVENT:
        return on_collection_start(b, ev, WEIR_YNODE_SEQ);
    case YAML_MAPPING_START_EVENT:
        return on_collection_start(b, ev, WEIR_YNODE_MAP);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        on_collection_end(b);
        return WEIR_OK;
    default:
        return WEIR_OK;
    }
}

/* ---- libyaml errors ------------------------------------------------------- */

/* libyaml reports reader (encoding) errors as a byte offset. */
static void offset_to_pos(const char *buf, size_t len, size_t off, int *line, int *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < off && i < len; i++) {
        if (buf[i] == '\n') {
            (*line)++;
            *col = 1;
        }
        else if (((unsigned char)buf[i] & 0xC0) != 0x80) {
            (*col)++;
        }
    }
}

/* A bad trailing byte is reported at its own offset; point at the character
 * it was meant to continue instead. */
static size_t sequence_start(const yaml_parser_t *p, const char *buf, size_t len)
{
    size_t off = p->problem_offset;

    if (!p->problem || !strstr(p->problem, "trailing") || off > len) {
        return off;
    }
    while (off > 0 && ((unsigned char)buf[off - 1] & 0xC0) == 0x80) {
        off--;
    }
    return off > 0 ? off - 1 : off;
}

static int line_has_tab_indent(const char *buf, size_t len, size_t line)
{
    size_t i = 0;

    for (size_t l = 0; l < line && i < len; i++) {
        if (buf[i] == '\n') {
            l++;
        }
    }
    for (; i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '-'); i++) {
        if (buf[i] == '\t') {
            return 1;
        }
    }
    return 0;
}

static const char *syntax_hint(const yaml_parser_t *p, const char *buf, size_t len)
{
    if (line_has_tab_indent(buf, len, p->problem_mark.line)) {
        return "indent with spaces; YAML does not allow tabs for indentation";
    }
    if (p->problem && strstr(p->problem, "<document start>")) {
        return "a weir file holds one YAML document; remove what follows the '...'";
    }
    if (p->context && strstr(p->context, "quoted scalar")) {
        return "close the quoted string";
    }
    if (p->context && strstr(p->context, "flow")) {
        return "check the brackets and commas of this [...] or {...}";
    }
    return "check the indentation, and quote values that contain ': ' or start with a "
           "special character";
}

static int syntax_error(struct builder *b, const yaml_parser_t *p, const char *buf, size_t len)
{
    const char *problem = p->problem ? p->problem : "invalid YAML";
    int line, col;

    if (p->error == YAML_MEMORY_ERROR) {
        return fail_oom(b);
    }
    if (p->error == YAML_READER_ERROR) {
        offset_to_pos(buf, len, sequence_start(p, buf, len), &line, &col);
        weir_diags_add(b->diags, b->file, line, col, "%s; save the file as UTF-8 text", problem);
        return WEIR_EINVALID;
    }
    line = (int)p->problem_mark.line + 1;
    col = (int)p->problem_mark.column + 1;
    if (p->context) {
        weir_diags_add(b->diags, b->file, line, col, "%s %s (started at %d:%d); %s", problem,
                       p->context, (int)p->context_mark.line + 1, (int)p->context_mark.column + 1,
                       syntax_hint(p, buf, len));
    }
    else {
        weir_diags_add(b->diags, b->file, line, col, "%s; %s", problem, syntax_hint(p, buf, len));
    }
    return WEIR_EINVALID;
}

/* ---- entry points ---------------------------------------------------------- */

static int run_parser(struct builder *b, const char *buf, size_t len)
{
    yaml_parser_t parser;
    yaml_event_t ev;
    int done = 0, rc = WEIR_OK;

    if (!yaml_parser_initialize(&parser)) {
        return fail_oom(b);
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
    while (!done && rc == WEIR_OK) {
        if (!yaml_parser_parse(&parser, &ev)) {
            rc = syntax_error(b, &parser, buf, len);
            break;
        }
        rc = on_event(b, &ev, &done);
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&parser);
    return rc;
}

/* "---" alone is an empty document: same as an empty file. */
static int is_empty_root(const struct weir_ynode *n)
{
    return n && n->kind == WEIR_YNODE_SCALAR && n->plain && n->len == 0;
}

int weir_ydoc_parse(const char *buf, size_t len, const char *file, struct weir_ynode **out,
                    struct weir_diags *diags)
{
    struct builder b;
    size_t first = diags->n, seen = diags->n + diags->dropped;
    int rc;

    *out = NULL;
    memset(&b, 0, sizeof(b));
    b.file = file;
    b.diags = diags;
    if (len > WEIR_YDOC_MAX_BYTES) {
        weir_diags_add(diags, file, 0, 0,
                       "file is larger than %u MiB (%zu bytes); split it into smaller files",
                       WEIR_YDOC_MAX_BYTES >> 20, len);
        return set_error(diags, first, WEIR_EINVALID);
    }
    rc = run_parser(&b, buf ? buf : "", buf ? len : 0);
    /* refusals such as duplicate keys let the parse go on to find more */
    if (rc == WEIR_OK && diags->n + diags->dropped > seen) {
        rc = WEIR_EINVALID;
    }
    while (b.depth > 0) {
        on_collection_end(&b);
    }
    if (rc != WEIR_OK || is_empty_root(b.root)) {
        weir_ynode_free(b.root);
        b.root = NULL;
    }
    *out = b.root;
    return rc == WEIR_OK ? WEIR_OK : set_error(diags, first, b.oom ? WEIR_ENOMEM : rc);
}

/* Reads at most WEIR_YDOC_MAX_BYTES + 1 so a file that grew after stat (or a
 * pipe) is still bounded. */
static int read_stream(FILE *fp, char **buf, size_t *len)
{
    size_t cap = 0, n = 0, got;
    char *p = NULL;

    do {
        if (n == cap) {
            char *np;
            cap = cap ? cap * 2 : 64 * 1024;
            if (cap > WEIR_YDOC_MAX_BYTES + 1) {
                cap = WEIR_YDOC_MAX_BYTES + 1;
            }
            np = realloc(p, cap);
            if (!np) {
                free(p);
                return WEIR_ENOMEM;
            }
            p = np;
        }
        got = fread(p + n, 1, cap - n, fp);
        n += got;
    } while (got > 0 && n < WEIR_YDOC_MAX_BYTES + 1);
    if (ferror(fp)) {
        int err = errno;
        free(p);
        errno = err;
        return WEIR_EIO;
    }
    *buf = p;
    *len = n;
    return WEIR_OK;
}

static int stat_file(const char *path, struct weir_diags *diags)
{
    struct stat st;

    if (stat(path, &st) != 0) {
        if (errno == ENOENT || errno == ENOTDIR) {
            weir_diags_add(diags, path, 0, 0, "file not found; check the path");
            return WEIR_ENOTFOUND;
        }
        weir_diags_add(diags, path, 0, 0, "cannot access the file: %s", strerror(errno));
        return WEIR_EIO;
    }
    if (S_ISDIR(st.st_mode)) {
        weir_diags_add(diags, path, 0, 0, "is a directory; give the path of a YAML file");
        return WEIR_EINVALID;
    }
    if (S_ISREG(st.st_mode) && (uintmax_t)st.st_size > WEIR_YDOC_MAX_BYTES) {
        weir_diags_add(diags, path, 0, 0,
                       "file is larger than %u MiB (%jd bytes); split it into smaller files",
                       WEIR_YDOC_MAX_BYTES >> 20, (intmax_t)st.st_size);
        return WEIR_EINVALID;
    }
    return WEIR_OK;
}

int weir_ydoc_parse_file(const char *path, struct weir_ynode **out, struct weir_diags *diags)
{
    size_t first = diags->n;
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = NULL;
    int rc, parsed = 0;

    *out = NULL;
    rc = stat_file(path, diags);
    if (rc != WEIR_OK) {
        goto cleanup;
    }
    fp = fopen(path, "rb");
    rc = fp ? read_stream(fp, &buf, &len) : WEIR_EIO;
    if (rc != WEIR_OK) {
        weir_diags_add(diags, path, 0, 0, "cannot read the file: %s; check its permissions",
                       rc == WEIR_ENOMEM ? "out of memory" : strerror(errno));
        goto cleanup;
    }
    rc = weir_ydoc_parse(buf, len, path, out, diags);
    parsed = 1;

cleanup:
    free(buf);
    if (fp) {
        fclose(fp);
    }
    /* weir_ydoc_parse has set the error itself */
    return rc == WEIR_OK || parsed ? rc : set_error(diags, first, rc);
}
