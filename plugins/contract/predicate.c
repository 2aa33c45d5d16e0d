/*
 * predicate.c - compiles a contract's row rules into a flat program (one
 * entry per rule, bound to a field index, with its bounds parsed, value sets
 * hashed, regexes JIT-compiled and expressions parsed) and runs it per row.
 *
 * The hot loop parses each numeric field at most once per row (a small
 * cache keyed by a row generation counter) and uses a fast exact decimal
 * parser before falling back to strtod.
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "check_expr.h"
#include "predicate.h"

/* ---- value sets ---------------------------------------------------------- */

struct set_entry {
    const char *s; /* borrowed from the contract's JSON; NULL = empty slot */
    size_t len;
};

struct value_set {
    struct set_entry *slots;
    size_t mask;
    double *nums; /* sorted numeric members */
    size_t nnums;
};

static uint64_t hash_bytes(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ULL;
    size_t i;

    for (i = 0; i < len; i++) {
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    }
    return h;
}

static int set_has(const struct value_set *vs, const char *s, size_t len)
{
    size_t i;

    if (vs->slots == NULL) {
        return 0;
    }
    for (i = hash_bytes(s, len) & vs->mask; vs->slots[i].s != NULL; i = (i + 1) & vs->mask) {
        if (vs->slots[i].len == len && !memcmp(vs->slots[i].s, s, len)) {
            return 1;
        }
    }
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static int set_build(struct value_set *vs, const json_t *values)
{
    size_t n = json_array_size(values), cap = 8, i;
    const json_t *v;

    while (cap < n * 2) {
        cap *= 2;
    }
    vs->slots = contract_host->malloc(cap * sizeof(*vs->slots));
    vs->nums = contract_host->malloc((n ? n : 1) * sizeof(*vs->nums));
    if (vs->slots == NULL || vs->nums == NULL) {
        return WEIR_ENOMEM;
    }
    memset(vs->slots, 0, cap * sizeof(*vs->slots));
    vs->mask = cap - 1;
    json_array_foreach(values, i, v) {
        const char *s = json_is_string(v)  ? json_string_value(v)
                        : json_is_true(v)  ? "true"
                        : json_is_false(v) ? "false"
                                           : NULL;
        size_t len = json_is_string(v) ? json_string_length(v) : s ? strlen(s) : 0;
        size_t k;

        if (json_is_number(v)) {
            vs->nums[vs->nnums++] = json_number_value(v);
            continue;
        }
        if (s == NULL || set_has(vs, s, len)) {
            continue;
        }
        for (k = hash_bytes(s, len) & vs->mask; vs->slots[k].s != NULL; k = (k + 1) & vs->mask) {
        }
        vs->slots[k].s = s;
        vs->slots[k].len = len;
    }
    qsort(vs->nums, vs->nnums, sizeof(*vs->nums), cmp_double);
    return WEIR_OK;
}

/* ---- the program --------------------------------------------------------- */

enum int_width { W_NONE, W_TINY, W_SMALL, W_INT, W_BIG };

struct prule {
    const struct contract_rule *rule;
    size_t col; /* field index; (size_t)-1 for table-level checks */
    /* bounds (min/max/range/range_soft/length_range) */
    int has_lo, has_hi, lo_text, hi_text;
    double lo, hi;
    const char *slo, *shi;
    struct value_set set;
    pcre2_code *re;
    enum lake_type type; /* type_conformity */
    enum int_width width;
    int dec_p, dec_s; /* decimal(p,s); 0 = unchecked */
    struct check_expr *expr;
    char *type_text; /* for reasons */
    void *lua;       /* lua: the host's session, opened on the first row */
    char *lua_why;   /* lua: why the last row failed (LUA_WHY_MAX bytes) */
};

#define LUA_WHY_MAX 400

struct predicate {
    const struct contract *c;
    struct prule *rules;
    size_t nrules;
    size_t nfields;
    pcre2_match_data *md;
    struct check_numcache nums; /* numbers parsed this row, shared with checks */
    const struct lake_table *t;
    weir_ctx *ctx;       /* for the Lua limits; may be NULL */
    json_t *row;         /* lua: the row as an object, rebuilt once per row */
    uint32_t row_built;  /* the nums.row generation row was built for */
};

size_t predicate_nrules(const struct predicate *p)
{
    return p->nrules;
}

const struct contract_rule *predicate_rule(const struct predicate *p, size_t i)
{
    return p->rules[i].rule;
}

void predicate_free(struct predicate *p)
{
    size_t i;

    if (p == NULL) {
        return;
    }
    for (i = 0; i < p->nrules; i++) {
        contract_host->free(p->rules[i].set.slots);
        contract_host->free(p->rules[i].set.nums);
        pcre2_code_free(p->rules[i].re);
        check_expr_free(p->rules[i].expr);
        contract_host->free(p->rules[i].type_text);
        if (p->rules[i].lua != NULL) {
            contract_host->lua_close(p->rules[i].lua);
        }
        contract_host->free(p->rules[i].lua_why);
    }
    json_decref(p->row);
    pcre2_match_data_free(p->md);
    contract_host->free(p->rules);
    contract_host->free(p->nums.gen);
    contract_host->free(p->nums.ok);
    contract_host->free(p->nums.num);
    contract_host->free(p);
}

int predicate_regex_check(const char *regex, char *err, size_t errlen)
{
    int code;
    PCRE2_SIZE off;
    pcre2_code *re =
        pcre2_compile((PCRE2_SPTR)regex, PCRE2_ZERO_TERMINATED, PCRE2_UTF, &code, &off, NULL);
    PCRE2_UCHAR msg[200];

    if (re == NULL) {
        pcre2_get_error_message(code, msg, sizeof(msg));
        snprintf(err, errlen, "offset %zu: %s", (size_t)off, (const char *)msg);
        return WEIR_EINVALID;
    }
    pcre2_code_free(re);
    return WEIR_OK;
}

static size_t column_of(const struct lake_table *t, const char *name)
{
    size_t i;

    for (i = 0; i < t->ncolumns; i++) {
        if (!strcmp(t->columns[i].name, name)) {
            return i;
        }
    }
    for (i = 0; i < t->npartitions; i++) {
        if (!strcmp(t->partitions[i].name, name)) {
            return t->ncolumns + i;
        }
    }
    return (size_t)-1;
}

/* A bound from spec[key]: number or text; returns 1 when present. */
static int bound(const json_t *spec, const char *key, double *num, const char **text, int *is_text)
{
    const json_t *v = json_object_get(spec, key);

    if (json_is_number(v)) {
        *num = json_number_value(v);
        *is_text = 0;
        return 1;
    }
    if (json_is_string(v)) {
        *text = json_string_value(v);
        *is_text = 1;
        return 1;
    }
    return 0;
}

static void compile_bounds(struct prule *r, const json_t *spec)
{
    enum contract_kind k = r->rule->kind;

    if (k == CK_MIN) {
        r->has_lo = bound(spec, "value", &r->lo, &r->slo, &r->lo_text);
    }
    else if (k == CK_MAX) {
        r->has_hi = bound(spec, "value", &r->hi, &r->shi, &r->hi_text);
    }
    else {
        r->has_lo = bound(spec, "min", &r->lo, &r->slo, &r->lo_text);
        r->has_hi = bound(spec, "max", &r->hi, &r->shi, &r->hi_text);
    }
}

/* The declared type a type_conformity rule checks: its own "data_type", the
 * contract's column type, then the table's. */
static int compile_type(struct prule *r, const struct contract *c, const struct lake_table *t)
{
    const char *ty = json_string_value(json_object_get(r->rule->spec, "data_type"));
    char low[64];
    size_t i;

    if (ty == NULL) {
        ty = json_string_value(json_object_get(
            json_object_get(json_object_get(c->data_quality, "columns"), r->rule->column), "type"));
    }
    if (ty == NULL && r->col < t->ncolumns) {
        ty = t->columns[r->col].type;
    }
    if (ty == NULL) {
        ty = "string";
    }
    for (i = 0; ty[i] && i < sizeof(low) - 1; i++) {
        low[i] = (char)tolower((unsigned char)ty[i]);
    }
    low[i] = '\0';
    r->type = lake_type_parse(low);
    r->width = !strcmp(low, "tinyint")                            ? W_TINY
               : !strcmp(low, "smallint")                         ? W_SMALL
               : (!strcmp(low, "int") || !strcmp(low, "integer")) ? W_INT
               : !strcmp(low, "bigint")                           ? W_BIG
                                                                  : W_NONE;
    if (r->type == LAKE_DECIMAL && sscanf(low, "decimal(%d,%d)", &r->dec_p, &r->dec_s) != 2) {
        r->dec_p = r->dec_s = 0;
    }
    if ((r->type_text = contract_host->malloc(strlen(low) + 1)) == NULL) {
        return WEIR_ENOMEM;
    }
    memcpy(r->type_text, low, strlen(low) + 1);
    return WEIR_OK;
}

static int compile_regex(struct predicate *p, struct prule *r)
{
    const char *rx = json_string_value(json_object_get(r->rule->spec, "regex"));
    PCRE2_UCHAR msg[200];
    PCRE2_SIZE off;
    int code;

    r->re = pcre2_compile((PCRE2_SPTR)rx, PCRE2_ZERO_TERMINATED, PCRE2_UTF, &code, &off, NULL);
    if (r->re == NULL) {
        pcre2_get_error_message(code, msg, sizeof(msg));
        return contract_host->error_set(WEIR_EINVALID, "rule %s: bad regex at offset %zu: %s",
                                        r->rule->name, (size_t)off, (const char *)msg);
    }
    /* JIT is an optimisation: without it (no JIT support) matching still works. */
    (void)pcre2_jit_compile(r->re, PCRE2_JIT_COMPLETE);
    if (p->md == NULL && (p->md = pcre2_match_data_create(1, NULL)) == NULL) {
        return contract_host->error_set(WEIR_ENOMEM, "out of memory");
    }
    return WEIR_OK;
}

static int compile_check(struct prule *r, const struct lake_table *t)
{
    const char *text = json_string_value(json_object_get(r->rule->spec, "expression"));
    char err[256];
    size_t i;

    if (check_expr_compile(text ? text : "", &r->expr, err, sizeof(err)) < 0) {
        return contract_host->error_set(WEIR_EINVALID, "rule %s: %s", r->rule->name, err);
    }
    for (i = 0; i < check_expr_ncolumns(r->expr); i++) {
        size_t f = column_of(t, check_expr_column(r->expr, i));

        if (f == (size_t)-1) {
            return contract_host->error_set(WEIR_EINVALID,
                                            "rule %s: column '%s' is not in the table %s.%s",
                                            r->rule->name, check_expr_column(r->expr, i),
                                            t->database ? t->database : "", t->name ? t->name : "");
        }
        check_expr_bind(r->expr, i, f);
    }
    return WEIR_OK;
}

/* The session itself is opened on the first row (see lua_holds), so a
 * preload that never reaches a row pays nothing. */
static int compile_lua(struct prule *r)
{
    if (!WEIR_HOST_HAS(contract_host, lua_open)) {
        return contract_host->error_set(WEIR_EVERSION,
                                        "rule %s: this weir host has no Lua sessions (host ABI "
                                        "1.1 with lua_open); upgrade weir or drop the lua rule",
                                        r->rule->name);
    }
    if ((r->lua_why = contract_host->malloc(LUA_WHY_MAX)) == NULL) {
        return contract_host->error_set(WEIR_ENOMEM, "out of memory");
    }
    r->lua_why[0] = '\0';
    return WEIR_OK;
}

static int compile_rule(struct predicate *p, const struct contract_rule *cr,
                        const struct lake_table *t)
{
    struct prule *r = &p->rules[p->nrules];

    memset(r, 0, sizeof(*r));
    r->rule = cr;
    r->col = (size_t)-1;
    p->nrules++;
    if (cr->column != NULL && (r->col = column_of(t, cr->column)) == (size_t)-1) {
        return contract_host->error_set(WEIR_EINVALID,
                                        "rule %s: column '%s' is not in the incoming file's "
                                        "columns; fix the contract or the table definition",
                                        cr->name, cr->column);
    }
    switch (cr->kind) {
    case CK_ALLOWED_VALUES:
    case CK_DISALLOWED_VALUES:
        return set_build(&r->set, json_object_get(cr->spec, "values")) < 0
                   ? contract_host->error_set(WEIR_ENOMEM, "out of memory")
                   : WEIR_OK;
    case CK_MIN:
    case CK_MAX:
    case CK_RANGE:
    case CK_RANGE_SOFT:
    case CK_LENGTH_RANGE: compile_bounds(r, cr->spec); return WEIR_OK;
    case CK_PATTERN: return compile_regex(p, r);
    case CK_TYPE_CONFORMITY:
        return compile_type(r, p->c, t) < 0 ? contract_host->error_set(WEIR_ENOMEM, "out of memory")
                                            : WEIR_OK;
    case CK_CHECK: return compile_check(r, t);
    case CK_LUA: return compile_lua(r);
    default: return WEIR_OK;
    }
}

/* Non-zero when rule r is selected by only (NULL: every row rule). */
static int selected(const json_t *only, const struct contract_rule *r)
{
    size_t i;
    const json_t *v;

    if (only == NULL) {
        return contract_kind_is_row_rule(r->kind);
    }
    json_array_foreach(only, i, v) {
        if (json_is_string(v) && !strcmp(json_string_value(v), r->name)) {
            return 1;
        }
    }
    return 0;
}

static int check_only(const struct contract *c, const json_t *only)
{
    size_t i, j;
    const json_t *v;

    json_array_foreach(only, i, v) {
        const char *name = json_string_value(v);

        for (j = 0; j < c->nrules && (name == NULL || strcmp(c->rules[j].name, name)); j++) {
        }
        if (j == c->nrules) {
            return contract_host->error_set(WEIR_EINVALID,
                                            "rules[%zu]: no rule named '%s' in "
                                            "the contract",
                                            i, name ? name : "(not a string)");
        }
        if (!contract_kind_is_row_rule(c->rules[j].kind)) {
            return contract_host->error_set(WEIR_EINVALID,
                                            "rules[%zu]: '%s' is a %s rule, which "
                                            "needs the whole table; run it post-load",
                                            i, name, contract_kind_name(c->rules[j].kind));
        }
    }
    return WEIR_OK;
}

int predicate_compile(const struct contract *c, const struct lake_table *t, const json_t *only,
                      struct predicate **out)
{
    struct predicate *p = NULL;
    size_t i, nf = t->ncolumns + t->npartitions;
    int rc;

    *out = NULL;
    if (only != NULL && (rc = check_only(c, only)) < 0) {
        return rc;
    }
    if ((p = contract_host->malloc(sizeof(*p))) == NULL) {
        return contract_host->error_set(WEIR_ENOMEM, "out of memory");
    }
    memset(p, 0, sizeof(*p));
    p->c = c;
    p->t = t;
    p->nfields = nf;
    p->rules = contract_host->malloc((c->nrules ? c->nrules : 1) * sizeof(*p->rules));
    p->nums.gen = contract_host->malloc((nf ? nf : 1) * sizeof(*p->nums.gen));
    p->nums.ok = contract_host->malloc(nf ? nf : 1);
    p->nums.num = contract_host->malloc((nf ? nf : 1) * sizeof(*p->nums.num));
    if (p->rules == NULL || p->nums.gen == NULL || p->nums.ok == NULL || p->nums.num == NULL) {
        rc = contract_host->error_set(WEIR_ENOMEM, "out of memory");
        goto cleanup;
    }
    memset(p->nums.gen, 0, (nf ? nf : 1) * sizeof(*p->nums.gen));
    for (i = 0; i < c->nrules; i++) {
        if (selected(only, &c->rules[i]) && (rc = compile_rule(p, &c->rules[i], t)) < 0) {
            goto cleanup;
        }
    }
    *out = p;
    return WEIR_OK;

cleanup:
    predicate_free(p);
    return rc;
}

void predicate_set_ctx(struct predicate *p, weir_ctx *ctx)
{
    p->ctx = ctx;
}

/* ---- evaluation ---------------------------------------------------------- */

static int field_number(struct predicate *p, size_t col, const struct lake_field *f, double *out)
{
    return check_numcache_get(&p->nums, col, f, out);
}

static int text_cmp(const struct lake_field *f, const char *s)
{
    size_t n = strlen(s), m = f->len < n ? f->len : n;
    int c = memcmp(f->data, s, m);

    return c ? c : (f->len > n) - (f->len < n);
}

/* Bounds on a number or on text; length_range bounds the code point count. */
static int in_bounds(struct predicate *p, const struct prule *r, const struct lake_field *f)
{
    double x = 0;

    if (r->rule->kind == CK_LENGTH_RANGE) {
        size_t i, cps = 0;

        for (i = 0; i < f->len; i++) {
            cps += ((unsigned char)f->data[i] & 0xC0) != 0x80;
        }
        x = (double)cps;
        return (!r->has_lo || x >= r->lo) && (!r->has_hi || x <= r->hi);
    }
    if ((r->has_lo && !r->lo_text) || (r->has_hi && !r->hi_text)) {
        if (!field_number(p, r->col, f, &x)) {
            return 0;
        }
    }
    if (r->has_lo && (r->lo_text ? text_cmp(f, r->slo) < 0 : x < r->lo)) {
        return 0;
    }
    if (r->has_hi && (r->hi_text ? text_cmp(f, r->shi) > 0 : x > r->hi)) {
        return 0;
    }
    return 1;
}

static int in_set(struct predicate *p, const struct prule *r, const struct lake_field *f)
{
    double x;

    if (set_has(&r->set, f->data, f->len)) {
        return 1;
    }
    return r->set.nnums > 0 && field_number(p, r->col, f, &x) &&
           bsearch(&x, r->set.nums, r->set.nnums, sizeof(double), cmp_double) != NULL;
}

static int digits2(const char *s, int *v)
{
    if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1])) {
        return 0;
    }
    *v = (s[0] - '0') * 10 + (s[1] - '0');
    return 1;
}

static int valid_date(const char *s, size_t len)
{
    static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int y1, y2, m, d, leap;

    if (len < 10 || s[4] != '-' || s[7] != '-' || !digits2(s, &y1) || !digits2(s + 2, &y2) ||
        !digits2(s + 5, &m) || !digits2(s + 8, &d) || m < 1 || m > 12 || d < 1) {
        return 0;
    }
    y1 = y1 * 100 + y2;
    leap = (y1 % 4 == 0 && y1 % 100 != 0) || y1 % 400 == 0;
    return d <= mdays[m - 1] + (m == 2 && leap);
}

/* yyyy-mm-dd[( |T)hh:mm[:ss[.f+]]][Z|(+|-)hh[:]mm] */
static int valid_timestamp(const char *s, size_t len)
{
    size_t i = 10;
    int h, mi, sec;

    if (!valid_date(s, len)) {
        return 0;
    }
    if (len == 10) {
        return 1;
    }
    if ((s[10] != ' ' && s[10] != 'T') || len < 16 || !digits2(s + 11, &h) || s[13] != ':' ||
        !digits2(s + 14, &mi) || h > 23 || mi > 59) {
        return 0;
    }
    i = 16;
    if (i < len && s[i] == ':') {
        if (i + 3 > len || !digits2(s + i + 1, &sec) || sec > 60) {
            return 0;
        }
        i += 3;
        if (i < len && s[i] == '.') {
            size_t start = ++i;

            while (i < len && isdigit((unsigned char)s[i])) {
                i++;
            }
            if (i == start) {
                return 0;
            }
        }
    }
    if (i < len && s[i] == 'Z') {
        i++;
    }
    else if (i < len && (s[i] == '+' || s[i] == '-')) {
        if (i + 3 > len || !digits2(s + i + 1, &h)) {
            return 0;
        }
        i += 3;
        i += (i < len && s[i] == ':');
        if (i + 2 > len || !digits2(s + i, &mi)) {
            return 0;
        }
        i += 2;
    }
    return i == len;
}

static int valid_integer(const char *s, size_t len, enum int_width w)
{
    static const long long lim[] = { 0, 127, 32767, 2147483647LL, 0 };
    unsigned long long v = 0;
    size_t i = 0;
    int neg = 0;

    if (i < len && (s[i] == '-' || s[i] == '+')) {
        neg = s[i++] == '-';
    }
    if (i == len || len - i > 19) {
        return 0;
    }
    for (; i < len; i++) {
        if (!isdigit((unsigned char)s[i])) {
            return 0;
        }
        v = v * 10 + (unsigned long long)(s[i] - '0');
    }
    if (w == W_BIG || w == W_NONE) {
        return v <= (unsigned long long)INT64_MAX + (unsigned long long)neg;
    }
    return v <= (unsigned long long)lim[w] + (unsigned long long)neg;
}

static int valid_decimal(const struct prule *r, const char *s, size_t len)
{
    size_t i = 0;
    int ints = 0, fracs = 0, any = 0;

    if (i < len && (s[i] == '-' || s[i] == '+')) {
        i++;
    }
    while (i < len && isdigit((unsigned char)s[i])) {
        /* leading zeros take no precision */
        ints += ints > 0 || s[i] != '0';
        any = 1;
        i++;
    }
    if (i < len && s[i] == '.') {
        i++;
        while (i < len && isdigit((unsigned char)s[i])) {
            fracs++;
            any = 1;
            i++;
        }
    }
    if (i != len || !any) {
        return 0;
    }
    return r->dec_p == 0 || (fracs <= r->dec_s && ints <= r->dec_p - r->dec_s);
}

static int conforms(struct predicate *p, const struct prule *r, const struct lake_field *f)
{
    double x;

    switch (r->type) {
    case LAKE_INT:
    case LAKE_BIGINT: return valid_integer(f->data, f->len, r->width);
    case LAKE_DOUBLE: return field_number(p, r->col, f, &x);
    case LAKE_DECIMAL: return valid_decimal(r, f->data, f->len);
    case LAKE_BOOLEAN:
        return (f->len == 4 && !strncasecmp(f->data, "true", 4)) ||
               (f->len == 5 && !strncasecmp(f->data, "false", 5));
    case LAKE_DATE: return f->len == 10 && valid_date(f->data, f->len);
    case LAKE_TIMESTAMP: return valid_timestamp(f->data, f->len);
    default: return 1;
    }
}

/* ---- lua rules ---------------------------------------------------------- */

/* A field as its column's kind says (integers, numbers, booleans), or as a
 * string when it does not parse as that kind: the rule sees the value the
 * file holds rather than a failure of its own. Bytes go to Lua unchecked, as
 * Lua strings are bytes. */
static json_t *typed_value(enum lake_type kind, const struct lake_field *f)
{
    char buf[64], *end;

    if (f->len > 0 && f->len < sizeof(buf)) {
        memcpy(buf, f->data, f->len);
        buf[f->len] = '\0';
        if (kind == LAKE_INT || kind == LAKE_BIGINT) {
            long long v;

            errno = 0;
            v = strtoll(buf, &end, 10);
            if (*end == '\0' && errno == 0 && !isspace((unsigned char)buf[0])) {
                return json_integer((json_int_t)v);
            }
        }
        else if (kind == LAKE_DOUBLE || kind == LAKE_DECIMAL) {
            double v = strtod(buf, &end);

            if (*end == '\0' && isfinite(v) && !isspace((unsigned char)buf[0])) {
                return json_real(v);
            }
        }
        else if (kind == LAKE_BOOLEAN && (!strcasecmp(buf, "true") || !strcasecmp(buf, "false"))) {
            return json_boolean(buf[0] == 't' || buf[0] == 'T');
        }
    }
    return json_stringn_nocheck(f->data, f->len);
}

/* The row as {column: value}; NULL fields are left out, so they are nil in
 * Lua. Built once per row however many Lua rules read it. */
static int build_row(struct predicate *p, const struct lake_field *fields, size_t n)
{
    size_t i;

    if (p->row != NULL && p->row_built == p->nums.row) {
        return WEIR_OK;
    }
    if (p->row == NULL && (p->row = json_object()) == NULL) {
        return contract_host->error_set(WEIR_ENOMEM, "out of memory");
    }
    for (i = 0; i < p->nfields; i++) {
        const struct lake_column *col = i < p->t->ncolumns
                                            ? &p->t->columns[i]
                                            : &p->t->partitions[i - p->t->ncolumns];

        if (i >= n || fields[i].data == NULL) {
            json_object_del(p->row, col->name);
        }
        else if (json_object_set_new(p->row, col->name, typed_value(col->kind, &fields[i])) < 0) {
            return contract_host->error_set(WEIR_ENOMEM, "out of memory");
        }
    }
    p->row_built = p->nums.row;
    return WEIR_OK;
}

/* Runs a Lua rule on the row: 1 holds, 0 fails (lua_why says why), or a
 * negative code when the rule itself is broken (script error, limit, bad
 * result), which fails the whole step: that is a bug in the rule, not in
 * the data, and quarantining every row for it would hide it. */
static int lua_holds(struct predicate *p, struct prule *r, const struct lake_field *fields,
                     size_t n)
{
    const char *script = json_string_value(json_object_get(r->rule->spec, "script"));
    json_t *res = NULL;
    int rc;

    if (r->lua == NULL) {
        char name[300];

        snprintf(name, sizeof(name), "lua rule %s", r->rule->name);
        rc = contract_host->lua_open(p->ctx, name, script ? script : "",
                                     script ? strlen(script) : 0, &r->lua);
        if (rc < 0) {
            return rc;
        }
    }
    if ((rc = build_row(p, fields, n)) < 0) {
        return rc;
    }
    if ((rc = contract_host->lua_call(r->lua, p->row, &res)) < 0) {
        return rc;
    }
    if (json_is_true(res) || json_is_null(res)) {
        rc = 1;
    }
    else if (json_is_false(res)) {
        snprintf(r->lua_why, LUA_WHY_MAX, "lua rule returned false");
        rc = 0;
    }
    else if (json_is_string(res)) {
        snprintf(r->lua_why, LUA_WHY_MAX, "%s", json_string_value(res));
        rc = 0;
    }
    else {
        rc = contract_host->error_set(WEIR_EINVALID,
                                      "lua rule %s: the function returned %s; return true or "
                                      "nil (pass), false or a string (fail, the string is the "
                                      "reason)",
                                      r->rule->name,
                                      json_is_number(res) ? "a number" : "a table");
    }
    json_decref(res);
    return rc;
}

/* Non-zero when rule r holds on the row. */
static int rule_holds(struct predicate *p, const struct prule *r, const struct lake_field *fields,
                      size_t n)
{
    static const struct lake_field null_field = { NULL, 0 };
    const struct lake_field *f = r->col < n ? &fields[r->col] : &null_field;

    if (r->rule->kind == CK_CHECK) {
        enum check_result res = check_expr_eval_cached(r->expr, fields, &p->nums);

        return res == CHECK_TRUE || res == CHECK_NULL;
    }
    if (f->data == NULL) {
        return r->rule->kind != CK_NOT_NULL;
    }
    switch (r->rule->kind) {
    case CK_ALLOWED_VALUES: return in_set(p, r, f);
    case CK_DISALLOWED_VALUES: return !in_set(p, r, f);
    case CK_MIN:
    case CK_MAX:
    case CK_RANGE:
    case CK_RANGE_SOFT:
    case CK_LENGTH_RANGE: return in_bounds(p, r, f);
    case CK_PATTERN: return pcre2_match(r->re, (PCRE2_SPTR)f->data, f->len, 0, 0, p->md, NULL) >= 0;
    case CK_TYPE_CONFORMITY: return conforms(p, r, f);
    default: return 1;
    }
}

int predicate_eval(struct predicate *p, const struct lake_field *fields, size_t n, size_t *failed,
                   size_t *nfailed)
{
    size_t i, nf = 0;
    int holds;

    /* a new generation invalidates every cached number of the last row */
    if (++p->nums.row == 0) {
        memset(p->nums.gen, 0, (p->nfields ? p->nfields : 1) * sizeof(*p->nums.gen));
        p->nums.row = 1;
    }
    *nfailed = 0;
    for (i = 0; i < p->nrules; i++) {
        if (p->rules[i].rule->kind == CK_LUA) {
            /* a short row leaves the missing columns out (nil) */
            if ((holds = lua_holds(p, &p->rules[i], fields, n)) < 0) {
                return holds;
            }
        }
        else if (n < p->nfields && p->rules[i].rule->kind == CK_CHECK) {
            /* a short row (tolerated upstream) must not be read past its end */
            holds = 0;
        }
        else {
            holds = rule_holds(p, &p->rules[i], fields, n);
        }
        if (!holds) {
            failed[nf++] = i;
        }
    }
    *nfailed = nf;
    return WEIR_OK;
}

/* ---- reasons ------------------------------------------------------------- */

static void append(char *buf, size_t len, size_t *at, const char *fmt, ...) WEIR__PRINTF(4, 5);

static void append(char *buf, size_t len, size_t *at, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (*at >= len) {
        return;
    }
    va_start(ap, fmt);
    n = vsnprintf(buf + *at, len - *at, fmt, ap);
    va_end(ap);
    *at = n < 0 ? len : *at + (size_t)n;
}

static void append_value(char *buf, size_t len, size_t *at, const struct lake_field *f)
{
    if (f == NULL || f->data == NULL) {
        append(buf, len, at, "NULL");
    }
    else if (f->len > 40) {
        append(buf, len, at, "'%.37s...'", f->data);
    }
    else {
        append(buf, len, at, "%.*s", (int)f->len, f->data);
    }
}

static void append_bound(char *buf, size_t len, size_t *at, double num, const char *text,
                         int is_text)
{
    if (is_text) {
        append(buf, len, at, "'%s'", text);
    }
    else {
        append(buf, len, at, "%.15g", num);
    }
}

static void append_values(char *buf, size_t len, size_t *at, const json_t *values)
{
    size_t i;
    const json_t *v;

    append(buf, len, at, "[");
    json_array_foreach(values, i, v) {
        if (i == 8) {
            append(buf, len, at, ", ... %zu more", json_array_size(values) - 8);
            break;
        }
        if (json_is_string(v)) {
            append(buf, len, at, "%s%s", i ? ", " : "", json_string_value(v));
        }
        else if (json_is_number(v)) {
            append(buf, len, at, "%s%.15g", i ? ", " : "", json_number_value(v));
        }
        else {
            append(buf, len, at, "%s%s", i ? ", " : "", json_is_true(v) ? "true" : "false");
        }
    }
    append(buf, len, at, "]");
}

static void expectation(const struct prule *r, char *buf, size_t len, size_t *at)
{
    const char *lt = r->rule->kind == CK_LENGTH_RANGE ? "length " : "";

    switch (r->rule->kind) {
    case CK_NOT_NULL: append(buf, len, at, "not null"); break;
    case CK_ALLOWED_VALUES:
    case CK_DISALLOWED_VALUES:
        append(buf, len, at, "%s", r->rule->kind == CK_ALLOWED_VALUES ? "in " : "not in ");
        append_values(buf, len, at, json_object_get(r->rule->spec, "values"));
        break;
    case CK_PATTERN:
        append(buf, len, at, "matches /%s/",
               json_string_value(json_object_get(r->rule->spec, "regex")));
        break;
    case CK_TYPE_CONFORMITY: append(buf, len, at, "a valid %s", r->type_text); break;
    default:
        if (r->has_lo && r->has_hi) {
            append(buf, len, at, "%sbetween ", lt);
            append_bound(buf, len, at, r->lo, r->slo, r->lo_text);
            append(buf, len, at, " and ");
            append_bound(buf, len, at, r->hi, r->shi, r->hi_text);
        }
        else if (r->has_lo) {
            append(buf, len, at, "%s>= ", lt);
            append_bound(buf, len, at, r->lo, r->slo, r->lo_text);
        }
        else if (r->has_hi) {
            append(buf, len, at, "%s<= ", lt);
            append_bound(buf, len, at, r->hi, r->shi, r->hi_text);
        }
        break;
    }
}

void predicate_reason(const struct predicate *p, size_t i, const struct lake_field *fields,
                      size_t n, char *buf, size_t len)
{
    const struct prule *r = &p->rules[i];
    size_t at = 0, k;

    buf[0] = '\0';
    if (r->rule->kind == CK_LUA) {
        append(buf, len, &at, "%s (%s)", r->lua_why ? r->lua_why : "", r->rule->name);
        return;
    }
    if (r->rule->kind == CK_CHECK) {
        append(buf, len, &at, "%s is not true for (",
               json_string_value(json_object_get(r->rule->spec, "expression")));
        for (k = 0; k < check_expr_ncolumns(r->expr); k++) {
            size_t col = check_expr_field(r->expr, k);

            append(buf, len, &at, "%s%s=", k ? ", " : "", check_expr_column(r->expr, k));
            append_value(buf, len, &at, col < n ? &fields[col] : NULL);
        }
        append(buf, len, &at, ") (%s)", r->rule->name);
        return;
    }
    append(buf, len, &at, "%s=", r->rule->column);
    append_value(buf, len, &at, r->col < n ? &fields[r->col] : NULL);
    append(buf, len, &at, " violates %s (", r->rule->name);
    expectation(r, buf, len, &at);
    append(buf, len, &at, ")");
}
