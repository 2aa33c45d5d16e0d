/*
 * pystr.c - strings of a PySpark script computed symbolically: f-strings,
 * str.format, + and a few str methods. A piece that cannot be computed
 * makes the result V_UNRES, which says why (the first unknown piece) and
 * keeps the text with a placeholder (for spark.sql text).
 */
#include <stdio.h>
#include <string.h>

#include "pysum_int.h"

/* ---- f-strings and str methods ---- */

static struct val *eval_text(struct py *P, const char *text, size_t len, int line)
{
    struct pytok t;
    struct pyparser p;
    struct pn *n;
    struct val *v;

    if (!py_enter(P) || pytok_run(text, len, &t) < 0) {
        py_leave(P);
        return py_val(P, V_UNK, line);
    }
    memset(&p, 0, sizeof(p));
    p.src = text;
    p.tk = &t;
    p.end = t.n ? t.n - 1 : 0;
    while (p.end > 0 && t.v[p.end - 1].kind != PYTOK_NAME && t.v[p.end - 1].kind != PYTOK_OP &&
           t.v[p.end - 1].kind != PYTOK_STRING && t.v[p.end - 1].kind != PYTOK_NUMBER) {
        p.end--; /* NEWLINE, DEDENT */
    }
    p.ar = py_arena(P);
    while (p.i < p.end && t.v[p.i].kind == PYTOK_INDENT) {
        p.i++; /* f"{ x}" */
    }
    n = pyparse_expr(&p);
    v = p.fail || !n ? py_val(P, V_UNK, line) : py_eval(P, n);
    py_leave(P);
    pytok_free(&t);
    return v;
}

/* Appends piece to the result buffer growing in the arena. */
struct sbuf {
    char *s;
    size_t n, cap;
};

static void sb_add(struct py *P, struct sbuf *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t cap = (b->n + n + 1) * 2;
        char *ns = pyarena_alloc(py_arena(P), cap);

        if (!ns) {
            return;
        }
        if (b->n) {
            memcpy(ns, b->s, b->n);
        }
        b->s = ns;
        b->cap = cap;
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = '\0';
}

/* A piece substituted into a string: its text, or a placeholder when it is
 * unknown (reason recorded in *why). */
static void sb_value(struct py *P, struct sbuf *b, struct val *v, const char *src, size_t n,
                     const char **why)
{
    if (v->k == V_STR || v->k == V_NUM) {
        sb_add(P, b, v->s, strlen(v->s));
        return;
    }
    if (!*why) {
        *why = v->k == V_UNRES ? v->s : py_printf(P, "'%.*s'", (int)n, src);
    }
    sb_add(P, b, "__unresolved__", 14);
}

static struct val *finish_str(struct py *P, struct sbuf *b, const char *why, int line)
{
    struct val *v = py_str(P, b->s ? b->s : "", line);

    if (why) {
        v->k = V_UNRES;
        v->s = why;
        v->path = b->s ? b->s : ""; /* the text with placeholders */
    }
    return v;
}

struct val *py_fstring(struct py *P, const struct pn *n)
{
    struct sbuf b = { 0 };
    const char *s = n->text, *why = NULL;
    size_t i = 0;

    sb_add(P, &b, "", 0);
    while (i < n->len) {
        if ((s[i] == '{' || s[i] == '}') && i + 1 < n->len && s[i + 1] == s[i]) {
            sb_add(P, &b, s + i, 1);
            i += 2;
            continue;
        }
        if (s[i] != '{') {
            sb_add(P, &b, s + i, 1);
            i++;
            continue;
        }
        size_t j = ++i, end;
        int depth = 0;

        while (j < n->len && (depth > 0 || (s[j] != '}' && s[j] != ':' && s[j] != '!'))) {
            depth += (s[j] == '[' || s[j] == '(' || s[j] == '{') -
                     (s[j] == ']' || s[j] == ')' || s[j] == '}');
            j++;
        }
        end = j;
        while (j < n->len && s[j] != '}') {
            j++;
        }
        sb_value(P, &b, eval_text(P, s + i, end - i, n->line), s + i, end - i, &why);
        i = j + 1;
    }
    return finish_str(P, &b, why, n->line);
}

/* "...{}...{name}...".format(...) */
static struct val *str_format(struct py *P, struct val *fmt, const struct pn *call)
{
    struct sbuf b = { 0 };
    const char *s = fmt->s, *why = NULL;
    int auto_pos = 0;

    sb_add(P, &b, "", 0);
    for (size_t i = 0; s[i];) {
        if ((s[i] == '{' || s[i] == '}') && s[i + 1] == s[i]) {
            sb_add(P, &b, s + i, 1);
            i += 2;
            continue;
        }
        if (s[i] != '{') {
            sb_add(P, &b, s + i, 1);
            i++;
            continue;
        }
        size_t j = i + 1;
        char key[64];
        struct val *v;

        while (s[j] && s[j] != '}' && s[j] != ':' && s[j] != '!' && j - i < 60) {
            j++;
        }
        snprintf(key, sizeof(key), "%.*s", (int)(j - i - 1), s + i + 1);
        if (!key[0]) {
            v = py_arg(P, call, auto_pos++, NULL);
        }
        else if (key[0] >= '0' && key[0] <= '9') {
            v = py_arg(P, call, key[0] - '0', NULL);
        }
        else {
            v = py_arg(P, call, 1000, key);
        }
        sb_value(P, &b, v ? v : py_val(P, V_UNK, fmt->line), key, strlen(key), &why);
        while (s[j] && s[j] != '}') {
            j++;
        }
        i = s[j] ? j + 1 : j;
    }
    return finish_str(P, &b, why, fmt->line);
}

struct val *py_str_method(struct py *P, struct val *str, const char *m, const struct pn *call)
{
    if (strcmp(m, "format") == 0) {
        return str_format(P, str, call);
    }
    if (strcmp(m, "strip") == 0 || strcmp(m, "lower") == 0 || strcmp(m, "upper") == 0) {
        char *c = py_strdup(P, str->s), *e;

        for (char *q = c; *q; q++) {
            if (m[0] == 'l' && *q >= 'A' && *q <= 'Z') {
                *q = (char)(*q + 32);
            }
            else if (m[0] == 'u' && *q >= 'a' && *q <= 'z') {
                *q = (char)(*q - 32);
            }
        }
        if (m[0] == 's') {
            while (*c == ' ' || *c == '\n' || *c == '\t') {
                c++;
            }
            for (e = c + strlen(c); e > c && (e[-1] == ' ' || e[-1] == '\n' || e[-1] == '\t');) {
                *--e = '\0';
            }
        }
        return py_str(P, c, str->line);
    }
    if (strcmp(m, "join") == 0) {
        struct val *l = py_arg(P, call, 0, NULL);
        struct sbuf b = { 0 };
        const char *why = NULL;

        sb_add(P, &b, "", 0);
        for (int i = 0; l && l->k == V_LIST && i < l->n; i++) {
            if (i) {
                sb_add(P, &b, str->s, strlen(str->s));
            }
            sb_value(P, &b, l->items[i], "item", 4, &why);
        }
        return l && l->k == V_LIST ? finish_str(P, &b, why, str->line)
                                   : py_val(P, V_UNK, str->line);
    }
    return py_val(P, V_UNK, str->line);
}

struct val *py_concat(struct py *P, struct val *a, struct val *b, int line)
{
    struct sbuf sb = { 0 };
    const char *why = NULL;

    sb_add(P, &sb, "", 0);
    sb_value(P, &sb, a->k == V_UNRES && a->path ? py_str(P, a->path, line) : a, "value", 5, &why);
    sb_value(P, &sb, b->k == V_UNRES && b->path ? py_str(P, b->path, line) : b, "value", 5, &why);
    if (a->k == V_UNRES || b->k == V_UNRES) {
        why = a->k == V_UNRES ? a->s : b->s;
    }
    return finish_str(P, &sb, why, a->line ? a->line : line);
}

int py_is_strish(const struct val *v)
{
    return v->k == V_STR || v->k == V_UNRES;
}
