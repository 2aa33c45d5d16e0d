/*
 * sqlscan.c - the SQL tokenizer and the keyword-pattern fallback (see
 * sqlscan.h). Linear in the input; never recursive.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "sqlscan.h"

static int tok_push(struct sqltok **v, size_t *n, size_t *cap, enum sqltok_kind k, size_t off,
                    size_t len)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 256;
        struct sqltok *nv = impact_host->realloc(*v, nc * sizeof(**v));

        if (!nv) {
            return WEIR_ENOMEM;
        }
        *v = nv;
        *cap = nc;
    }
    (*v)[*n].kind = k;
    (*v)[*n].off = (uint32_t)off;
    (*v)[*n].len = (uint32_t)len;
    (*n)++;
    return WEIR_OK;
}

static int word_char(unsigned char c)
{
    return isalnum(c) || c == '_' || c == '$' || c >= 0x80;
}

/* End of a quoted run starting at i (the quote), doubling as escape. */
static size_t quoted_end(const char *s, size_t n, size_t i, char q, int backslash)
{
    for (i++; i < n; i++) {
        if (backslash && s[i] == '\\' && i + 1 < n) {
            i++;
        }
        else if (s[i] == q) {
            if (i + 1 < n && s[i + 1] == q) {
                i++;
            }
            else {
                return i + 1;
            }
        }
    }
    return n;
}

static size_t skip_comment(const char *s, size_t n, size_t i)
{
    if (s[i] == '-' && i + 1 < n && s[i + 1] == '-') {
        while (i < n && s[i] != '\n') {
            i++;
        }
        return i;
    }
    if (s[i] == '/' && i + 1 < n && s[i + 1] == '*') {
        const char *e = i + 2 < n ? memmem(s + i + 2, n - i - 2, "*/", 2) : NULL;

        return e ? (size_t)(e - s) + 2 : n;
    }
    return i;
}

int sqlscan_run(const char *s, size_t n, struct sqltok **toks, size_t *count)
{
    size_t i = 0, cap = 0, j;
    int rc = WEIR_OK;

    *toks = NULL;
    *count = 0;
    while (i < n && rc == WEIR_OK) {
        unsigned char c = (unsigned char)s[i];

        if (isspace(c)) {
            i++;
        }
        else if ((j = skip_comment(s, n, i)) != i) {
            i = j;
        }
        else if (c == '\'' || ((c == 'E' || c == 'e') && i + 1 < n && s[i + 1] == '\'')) {
            j = quoted_end(s, n, c == '\'' ? i : i + 1, '\'', c != '\'');
            rc = tok_push(toks, count, &cap, SQLT_STRING, i, j - i);
            i = j;
        }
        else if (c == '"' || c == '`') {
            j = quoted_end(s, n, i, (char)c, 0);
            rc = tok_push(toks, count, &cap, SQLT_QIDENT, i, j - i);
            i = j;
        }
        else if (isdigit(c) || (c == '.' && i + 1 < n && isdigit((unsigned char)s[i + 1]))) {
            for (j = i + 1; j < n && (isalnum((unsigned char)s[j]) || s[j] == '.'); j++) {
            }
            rc = tok_push(toks, count, &cap, SQLT_NUMBER, i, j - i);
            i = j;
        }
        else if (word_char(c)) {
            for (j = i + 1; j < n && word_char((unsigned char)s[j]); j++) {
            }
            rc = tok_push(toks, count, &cap, SQLT_WORD, i, j - i);
            i = j;
        }
        else {
            size_t len = (c == ':' && i + 1 < n && s[i + 1] == ':') ? 2 : 1;

            rc = tok_push(toks, count, &cap, SQLT_OP, i, len);
            i += len;
        }
    }
    if (rc < 0) {
        impact_host->free(*toks);
        *toks = NULL;
        *count = 0;
    }
    return rc;
}

int sqlscan_is(const char *text, const struct sqltok *t, const char *w)
{
    size_t n = strlen(w);

    return t->kind == SQLT_WORD && t->len == n && strncasecmp(text + t->off, w, n) == 0;
}

size_t sqlscan_find(const struct sqltok *t, size_t n, size_t off)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (t[mid].off < off) {
            lo = mid + 1;
        }
        else {
            hi = mid;
        }
    }
    return lo;
}

/* ---- rewrites ---- */

struct rw {
    const char *text;
    const struct sqltok *t;
    struct isum *s;
    int (*line_of)(void *, size_t);
    void *arg;
    int overwrite;
};

static int rw_op(const struct rw *w, size_t i, char c)
{
    return w->t[i].kind == SQLT_OP && w->text[w->t[i].off] == c;
}

static void blank(char *buf, size_t from, size_t to)
{
    memset(buf + from, ' ', to - from);
}

/* Length-preserving rewrites of Spark SQL the PostgreSQL grammar lacks, on
 * buf (the statement from token a, at offset off0). */
static void rewrite(struct rw *w, char *buf, size_t a, size_t b, size_t off0)
{
    const char *x = w->text;
    const struct sqltok *t = w->t;

    for (size_t i = a; i < b; i++) {
        if (t[i].kind == SQLT_QIDENT && x[t[i].off] == '`') {
            buf[t[i].off - off0] = '"';
            buf[t[i].off + t[i].len - 1 - off0] = '"';
        }
        if (i + 1 < b && sqlscan_is(x, &t[i], "INSERT") && sqlscan_is(x, &t[i + 1], "OVERWRITE")) {
            w->overwrite = 1;
            memcpy(buf + t[i + 1].off - off0, "INTO     ", 9);
        }
        if (sqlscan_is(x, &t[i], "QUALIFY")) {
            memcpy(buf + t[i].off - off0, "HAVING ", 7); /* parses the same; a filter either way */
        }
        if (i + 1 < b && sqlscan_is(x, &t[i], "INTO") && sqlscan_is(x, &t[i + 1], "TABLE")) {
            blank(buf, t[i + 1].off - off0, t[i + 1].off + 5 - off0);
        }
        if (i + 1 < b && sqlscan_is(x, &t[i], "OVERWRITE") && sqlscan_is(x, &t[i + 1], "TABLE")) {
            blank(buf, t[i + 1].off - off0, t[i + 1].off + 5 - off0);
        }
        if (i + 2 < b && sqlscan_is(x, &t[i], "OR") && sqlscan_is(x, &t[i + 1], "REPLACE") &&
            sqlscan_is(x, &t[i + 2], "TABLE")) {
            blank(buf, t[i].off - off0, t[i + 2].off - off0);
        }
        if ((i + 1 < b &&
             (sqlscan_is(x, &t[i], "PARTITION") || sqlscan_is(x, &t[i], "PARTITIONED")) &&
             (rw_op(w, i + 1, '(') ||
              (i + 2 < b && sqlscan_is(x, &t[i + 1], "BY") && rw_op(w, i + 2, '(')))) ||
            /* Trino table properties: CREATE TABLE t WITH (format = 'PARQUET') AS ... */
            (i > a && sqlscan_is(x, &t[a], "CREATE") && sqlscan_is(x, &t[i], "WITH") &&
             rw_op(w, i + 1, '(') && !sqlscan_is(x, &t[i - 1], "AS"))) {
            size_t k = i, end;
            int depth = 0;

            while (k < b && !rw_op(w, k, '(')) {
                k++;
            }
            for (; k < b; k++) {
                depth += rw_op(w, k, '(') - rw_op(w, k, ')');
                if (depth == 0) {
                    break;
                }
            }
            end = k < b ? t[k].off + 1 : t[b - 1].off + t[b - 1].len;
            blank(buf, t[i].off - off0, end - off0);
            i = k;
        }
    }
}

/* Spark's LATERAL VIEW [OUTER] gen(...) alias [AS cols] has no PostgreSQL
 * form; blanked, the rest of the statement still parses (a raw parse does
 * not resolve the names it introduced). */
static void lateral_view(struct rw *w, char *buf, size_t a, size_t b, size_t off0)
{
    static const char *const stop[] = { "JOIN",  "LEFT",    "RIGHT",      "INNER",
                                        "FULL",  "CROSS",   "WHERE",      "GROUP",
                                        "ORDER", "LIMIT",   "HAVING",     "LATERAL",
                                        "UNION", "CLUSTER", "DISTRIBUTE", "SORT" };

    for (size_t i = a; i + 1 < b; i++) {
        size_t k;
        int depth = 0, stopped = 0;

        if (!sqlscan_is(w->text, &w->t[i], "LATERAL") ||
            !sqlscan_is(w->text, &w->t[i + 1], "VIEW")) {
            continue;
        }
        for (k = i + 2; k < b && !stopped; k++) {
            depth += rw_op(w, k, '(') - rw_op(w, k, ')');
            for (size_t sw = 0; depth == 0 && sw < sizeof(stop) / sizeof(stop[0]); sw++) {
                stopped |= sqlscan_is(w->text, &w->t[k], stop[sw]);
            }
        }
        k = stopped ? k - 1 : b;
        blank(buf, w->t[i].off - off0,
              (k < b ? w->t[k].off : w->t[b - 1].off + w->t[b - 1].len) - off0);
        isum_diag(w->s, w->line_of(w->arg, w->t[i].off),
                  "Spark LATERAL VIEW left out of the parse: its generator's columns are not "
                  "tracked");
        i = k - 1;
    }
}

int sqlscan_rewrite(const char *text, const struct sqltok *t, size_t a, size_t b, char *buf,
                    size_t off0, struct isum *s, int (*line_of)(void *, size_t), void *arg)
{
    struct rw w = { text, t, s, line_of, arg, 0 };

    rewrite(&w, buf, a, b, off0);
    lateral_view(&w, buf, a, b, off0);
    return w.overwrite;
}

/* ---- fallback ---- */

#define MAX_NAME 512
#define MAX_CTES 64

struct fb {
    struct isum *s;
    const char *text;
    const struct sqltok *t;
    size_t b;
    char ctes[MAX_CTES][64];
    int nctes;
    int (*line_of)(void *, size_t);
    void *arg;
};

static int is_name_tok(const struct sqltok *t)
{
    return t->kind == SQLT_WORD || t->kind == SQLT_QIDENT;
}

/* Reads a dotted name at i into buf (quotes dropped); returns the index after it. */
static size_t read_name(const struct fb *f, size_t i, char *buf)
{
    size_t len = 0;

    buf[0] = '\0';
    while (i < f->b && is_name_tok(&f->t[i])) {
        const struct sqltok *t = &f->t[i];
        size_t off = t->off, n = t->len;

        if (t->kind == SQLT_QIDENT && n >= 2) {
            off++;
            n -= 2;
        }
        if (len + n + 2 >= MAX_NAME) {
            break;
        }
        memcpy(buf + len, f->text + off, n);
        len += n;
        buf[len] = '\0';
        i++;
        if (i + 1 < f->b && f->t[i].kind == SQLT_OP && f->text[f->t[i].off] == '.') {
            buf[len++] = '.';
            buf[len] = '\0';
            i++;
        }
        else {
            break;
        }
    }
    return i;
}

static int is_cte(const struct fb *f, const char *name)
{
    for (int k = 0; k < f->nctes; k++) {
        if (strcasecmp(f->ctes[k], name) == 0) {
            return 1;
        }
    }
    return 0;
}

static void find_ctes(struct fb *f, size_t a)
{
    for (size_t i = a; i + 2 < f->b; i++) {
        const struct sqltok *t = f->t + i;

        if (is_name_tok(t) && sqlscan_is(f->text, t + 1, "AS") && t[2].kind == SQLT_OP &&
            f->text[t[2].off] == '(' && i > a &&
            (sqlscan_is(f->text, t - 1, "WITH") ||
             (t[-1].kind == SQLT_OP && f->text[t[-1].off] == ',')) &&
            f->nctes < MAX_CTES && t->len < 64) {
            memcpy(f->ctes[f->nctes], f->text + t->off, t->len);
            f->ctes[f->nctes++][t->len] = '\0';
        }
    }
}

static int is_op(const struct fb *f, size_t i, char c)
{
    return i < f->b && f->t[i].kind == SQLT_OP && f->text[f->t[i].off] == c;
}

/* After FROM: name [AS] [alias] {, name [AS] [alias]} */
static void from_list(struct fb *f, size_t i, const char *via)
{
    char name[MAX_NAME];

    for (int k = 0; k < 64 && i < f->b; k++) {
        size_t j;

        if (is_op(f, i, '(')) {
            return;
        }
        j = read_name(f, i, name);
        if (j == i || is_op(f, j, '(')) {
            return; /* a table function such as UNNEST(...) */
        }
        if (!is_cte(f, name)) {
            isum_source(f->s, name, "table", via, f->line_of(f->arg, f->t[i].off));
        }
        i = j;
        if (i < f->b && sqlscan_is(f->text, &f->t[i], "AS")) {
            i++;
        }
        if (i < f->b && f->t[i].kind == SQLT_WORD && !is_op(f, i, ',')) {
            static const char *const stop[] = { "WHERE", "JOIN",  "LEFT",    "RIGHT",  "INNER",
                                                "FULL",  "CROSS", "GROUP",   "ORDER",  "LIMIT",
                                                "ON",    "UNION", "LATERAL", "HAVING", "WINDOW" };
            int is_stop = 0;

            for (size_t w = 0; w < sizeof(stop) / sizeof(stop[0]); w++) {
                is_stop |= sqlscan_is(f->text, &f->t[i], stop[w]);
            }
            if (is_stop) {
                return;
            }
            i++;
        }
        if (!is_op(f, i, ',')) {
            return;
        }
        i++;
    }
}

static void target_at(struct fb *f, size_t i, const char *via, const char *mode)
{
    static const char *const skip[] = { "OR",          "REPLACE", "TEMP", "TEMPORARY",
                                        "EXTERNAL",    "TABLE",   "VIEW", "IF",
                                        "NOT",         "EXISTS",  "INTO", "OVERWRITE",
                                        "MATERIALIZED" };
    char name[MAX_NAME];

    for (int guard = 0; guard < 12 && i < f->b; guard++) {
        int skipped = 0;

        for (size_t w = 0; w < sizeof(skip) / sizeof(skip[0]); w++) {
            skipped |= sqlscan_is(f->text, &f->t[i], skip[w]);
        }
        if (!skipped) {
            break;
        }
        i++;
    }
    if (read_name(f, i, name) != i) {
        isum_target(f->s, name, "table", via, mode, f->line_of(f->arg, f->t[i].off));
    }
}

/* A keyword that ends a FROM clause. */
static int ends_from(const char *text, const struct sqltok *t)
{
    static const char *const kw[] = { "WHERE",  "GROUP",  "HAVING",  "ORDER",     "LIMIT", "UNION",
                                      "SELECT", "WINDOW", "QUALIFY", "INTERSECT", "EXCEPT" };

    for (size_t i = 0; i < sizeof(kw) / sizeof(kw[0]); i++) {
        if (sqlscan_is(text, t, kw[i])) {
            return 1;
        }
    }
    return 0;
}

void sqlscan_fallback(struct isum *s, const char *text, const struct sqltok *t, size_t a, size_t b,
                      int (*line_of)(void *, size_t), void *arg)
{
    struct fb f;
    unsigned char calls[256]; /* per paren depth: opened by a function call */
    int depth = 0, merge = 0, from_depth = -1;

    memset(&f, 0, sizeof(f));
    f.s = s;
    f.text = text;
    f.t = t;
    f.b = b;
    f.line_of = line_of;
    f.arg = arg;
    find_ctes(&f, a);
    for (size_t i = a; i < b; i++) {
        int in_call = depth > 0 && depth <= 256 && calls[depth - 1];

        if (is_op(&f, i, '(')) {
            if (depth < 256) {
                calls[depth] =
                    i > a && t[i - 1].kind == SQLT_WORD && !sqlscan_is(text, &t[i - 1], "AS") &&
                    !sqlscan_is(text, &t[i - 1], "IN") && !sqlscan_is(text, &t[i - 1], "FROM") &&
                    !sqlscan_is(text, &t[i - 1], "EXISTS");
            }
            depth++;
        }
        else if (is_op(&f, i, ')')) {
            if (from_depth == depth) {
                from_depth = -1;
            }
            depth -= depth > 0;
        }
        else if (in_call) {
            continue;
        }
        else if (sqlscan_is(text, &t[i], "FROM")) {
            from_list(&f, i + 1, "FROM");
            from_depth = depth;
        }
        else if (from_depth == depth && is_op(&f, i, ',')) {
            from_list(&f, i + 1, "FROM"); /* FROM a JOIN b ON ..., c */
        }
        else if (from_depth == depth && ends_from(text, &t[i])) {
            from_depth = -1;
        }
        else if (sqlscan_is(text, &t[i], "JOIN")) {
            from_list(&f, i + 1, "JOIN");
        }
        else if (sqlscan_is(text, &t[i], "INSERT")) {
            target_at(&f, i + 1, "INSERT",
                      i + 1 < b && sqlscan_is(text, &t[i + 1], "OVERWRITE") ? "overwrite"
                                                                            : "append");
        }
        else if (sqlscan_is(text, &t[i], "CREATE")) {
            int view = 0;

            for (size_t k = i + 1; k < b && k < i + 6; k++) {
                view |= sqlscan_is(text, &t[k], "VIEW");
            }
            target_at(&f, i + 1, view ? "CREATE VIEW" : "CREATE TABLE AS", "overwrite");
        }
        else if (sqlscan_is(text, &t[i], "MERGE")) {
            target_at(&f, i + 1, "MERGE", "merge");
            merge = 1;
        }
        else if (sqlscan_is(text, &t[i], "USING") && merge && i + 1 < b && !is_op(&f, i + 1, '(')) {
            from_list(&f, i + 1, "USING");
        }
    }
}
