/* test_ydoc.c - YAML tree: positions, refusals, limits, typing, file reader. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"
#include "ydoc.h"

/* ---- helpers ---------------------------------------------------------------- */

static struct weir_ynode *parse_ok(const char *text)
{
    struct weir_diags d = {0};
    struct weir_ynode *n = NULL;
    int rc = weir_ydoc_parse(text, strlen(text), "t.yaml", &n, &d);

    if (rc != WEIR_OK) {
        weir_diags_print(&d, stderr);
    }
    assert_int_equal(rc, WEIR_OK);
    assert_int_equal(d.n, 0);
    weir_diags_free(&d);
    return n;
}

/* Parses text that must fail; checks the first diagnostic and the last error. */
static void expect_error_n(const char *text, size_t len, int line, int col, const char *needle)
{
    struct weir_diags d = {0};
    struct weir_ynode *n = (struct weir_ynode *)&d; /* must be reset to NULL */
    char prefix[64];
    int rc = weir_ydoc_parse(text, len, "t.yaml", &n, &d);

    if (d.n == 0 || strstr(d.v[0].msg, needle) == NULL || d.v[0].line != line ||
        d.v[0].col != col) {
        print_error("want %d:%d '%s', got:\n", line, col, needle);
        weir_diags_print(&d, stderr);
    }
    assert_int_equal(rc, WEIR_EINVALID);
    assert_null(n);
    assert_true(d.n >= 1);
    assert_int_equal(d.v[0].line, line);
    assert_int_equal(d.v[0].col, col);
    assert_non_null(strstr(d.v[0].msg, needle));
    assert_string_equal(d.v[0].file, "t.yaml");
    snprintf(prefix, sizeof(prefix), line > 0 ? "t.yaml:%d:%d: " : "t.yaml: ", line, col);
    assert_memory_equal(weir_error_last(), prefix, strlen(prefix));
    assert_non_null(strstr(weir_error_last(), needle));
    weir_diags_free(&d);
}

static void expect_error(const char *text, int line, int col, const char *needle)
{
    expect_error_n(text, strlen(text), line, col, needle);
}

static void assert_pos(const struct weir_ynode *n, int line, int col)
{
    assert_non_null(n);
    if (n->line != line || n->col != col) {
        print_error("node at %d:%d, want %d:%d\n", n->line, n->col, line, col);
    }
    assert_int_equal(n->line, line);
    assert_int_equal(n->col, col);
}

static void assert_json_of(const char *yaml, const char *json)
{
    struct weir_ynode *n = parse_ok(yaml);
    json_t *j = weir_ynode_to_json(n);

    assert_non_null(j);
    tu_assert_json(j, json);
    json_decref(j);
    weir_ynode_free(n);
}

/* ---- positions -------------------------------------------------------------- */

static void test_positions(void **state)
{
    const char *text = "version: 1\n"
                       "steps:\n"
                       "  - id: a\n"
                       "    uses: x.y\n"
                       "  - id: b\n"
                       "    with: { k: [1, \"two\"] }\n";
    struct weir_ynode *root = parse_ok(text), *steps, *s1, *with, *k;

    assert_int_equal(root->kind, WEIR_YNODE_MAP);
    assert_pos(root, 1, 1);
    assert_int_equal(root->n, 2);
    assert_pos(root->keys[0], 1, 1);
    assert_pos(root->items[0], 1, 10);
    assert_pos(root->keys[1], 2, 1);
    steps = root->items[1];
    assert_int_equal(steps->kind, WEIR_YNODE_SEQ);
    assert_null(steps->keys);
    assert_int_equal(steps->n, 2);
    assert_pos(steps, 3, 3);
    assert_pos(steps->items[0], 3, 5);
    assert_pos(steps->items[0]->keys[0], 3, 5);
    assert_pos(steps->items[0]->items[0], 3, 9);
    assert_pos(steps->items[0]->keys[1], 4, 5);
    assert_pos(steps->items[0]->items[1], 4, 11);
    s1 = steps->items[1];
    assert_pos(s1, 5, 5);
    with = weir_ynode_get(s1, "with");
    assert_int_equal(with->kind, WEIR_YNODE_MAP);
    assert_pos(with, 6, 11);
    assert_pos(with->keys[0], 6, 13);
    k = with->items[0];
    assert_int_equal(k->kind, WEIR_YNODE_SEQ);
    assert_pos(k, 6, 16);
    assert_pos(k->items[0], 6, 17);
    assert_pos(k->items[1], 6, 20);
    assert_string_equal(k->items[1]->str, "two");
    assert_int_equal(k->items[1]->plain, 0);
    assert_int_equal(k->items[0]->plain, 1);
    weir_ynode_free(root);
}

static void test_positions_utf8_columns(void **state)
{
    /* columns count characters, not bytes */
    struct weir_ynode *root = parse_ok("\xc3\xa9t\xc3\xa9: [a, b]\n");

    assert_pos(root->items[0], 1, 6);
    assert_pos(root->items[0]->items[1], 1, 10);
    weir_ynode_free(root);
}

/* ---- refusals --------------------------------------------------------------- */

static void test_duplicate_keys(void **state)
{
    expect_error("name: a\nsteps: []\nname: b\n", 3, 1, "duplicate key 'name' (first defined at 1:1)");
    expect_error("steps:\n  - id: a\n    uses: x\n    id: b\n", 4, 5,
                 "duplicate key 'id' (first defined at 2:5); remove one of them");
    expect_error("{a: 1, b: 2, a: 3}", 1, 14, "duplicate key 'a' (first defined at 1:2)");
    /* quoting does not make a different key */
    expect_error("a: 1\n'a': 2\n", 2, 1, "duplicate key 'a' (first defined at 1:1)");
}

static void test_duplicate_keys_all_reported(void **state)
{
    struct weir_diags d = {0};
    struct weir_ynode *n = NULL;
    const char *text = "a: 1\na: 2\nb: {x: 1, x: 2}\n";

    assert_int_equal(weir_ydoc_parse(text, strlen(text), "t.yaml", &n, &d), WEIR_EINVALID);
    assert_null(n);
    assert_int_equal(d.n, 2);
    assert_int_equal(d.v[1].line, 3);
    assert_int_equal(d.v[1].col, 11);
    assert_non_null(strstr(d.v[1].msg, "duplicate key 'x' (first defined at 3:5)"));
    weir_diags_free(&d);
}

static void test_duplicate_keys_large_map(void **state)
{
    /* past the first few keys, and a key repeated twice: the first stays named */
    char *text = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&text, &len);

    for (int i = 0; i < 40; i++) {
        fprintf(fp, "k%d: %d\n", i, i);
    }
    fprintf(fp, "k17: again\nk17: thrice\n");
    fclose(fp);
    expect_error(text, 41, 1, "duplicate key 'k17' (first defined at 18:1)");
    free(text);
}

static void test_duplicate_key_text_is_sanitized(void **state)
{
    expect_error("\"a\\nb\": 1\n\"a\\nb\": 2\n", 2, 1, "duplicate key 'a?b'");
}

static void test_alias_and_anchor_refused(void **state)
{
    struct weir_diags d = {0};
    struct weir_ynode *n = NULL;
    const char *text = "base: &b {x: 1}\nother: *b\n";

    expect_error("a: *x\n", 1, 4, "aliases are not supported in weir pipelines");
    expect_error("a: &x 1\n", 1, 4, "anchor '&x' is not supported");
    expect_error("- &l [1]\n", 1, 3, "repeat the value instead");
    assert_int_equal(weir_ydoc_parse(text, strlen(text), "t.yaml", &n, &d), WEIR_EINVALID);
    assert_null(n);
    assert_int_equal(d.n, 2);
    assert_int_equal(d.v[1].line, 2);
    assert_int_equal(d.v[1].col, 8);
    assert_non_null(strstr(d.v[1].msg, "aliases are not supported in weir pipelines"));
    assert_non_null(strstr(d.v[1].msg, "repeat the value instead"));
    weir_diags_free(&d);
}

static void test_billion_laughs_refused_fast(void **state)
{
    const char *text = "a: &a [x, x, x, x, x, x, x, x, x]\n"
                       "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                       "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                       "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                       "e: [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n";
    int64_t t0 = tu_now_ms();

    expect_error(text, 1, 4, "anchor '&a'");
    assert_true(tu_now_ms() - t0 < 1000);
}

static void test_tags(void **state)
{
    expect_error("a: !foo bar\n", 1, 4, "unsupported tag '!foo'");
    expect_error("a: !!binary aGk=\n", 1, 4, "unsupported tag '!!binary'");
    expect_error("%TAG !e! tag:example.com,2000:\n---\na: !e!x 1\n", 3, 4, "unsupported tag");
    /* !! rebound to another prefix is not the standard !! */
    expect_error("%TAG !! tag:example.com,2000:\n---\na: !!str 1\n", 3, 4, "unsupported tag");
    expect_error("a: !!int abc\n", 1, 4, "'abc' is not a valid !!int value");
    expect_error("a: !!int 1.5\n", 1, 4, "not a valid !!int");
    expect_error("a: !!int 99999999999999999999\n", 1, 4, "not a valid !!int");
    expect_error("a: !!bool yes\n", 1, 4, "not a valid !!bool");
    expect_error("a: !!null x\n", 1, 4, "not a valid !!null");
    expect_error("a: !!float x\n", 1, 4, "not a valid !!float");
    expect_error("a: !!map [1]\n", 1, 4, "tag '!!map' is not valid on a sequence");
    expect_error("a: !!seq {b: 1}\n", 1, 4, "tag '!!seq' is not valid on a mapping");
    expect_error("a: !!seq x\n", 1, 4, "tag '!!seq' is not valid on a scalar");
    expect_error("!foo {a: 1}\n", 1, 1, "unsupported tag");
}

static void test_tags_applied(void **state)
{
    assert_json_of("a: !!str 12\n"
                   "b: !!int '12'\n"
                   "c: !!float \"1.5\"\n"
                   "d: !!bool 'true'\n"
                   "e: !!null ''\n"
                   "f: !!map {x: 1}\n"
                   "g: !!seq [1]\n"
                   "h: !!str true\n"
                   "i: !!float 2\n"
                   "j: !!str\n"
                   "k: !!int 0x10\n",
                   "{\"a\": \"12\", \"b\": 12, \"c\": 1.5, \"d\": true, \"e\": null,"
                   " \"f\": {\"x\": 1}, \"g\": [1], \"h\": \"true\", \"i\": 2, \"j\": \"\","
                   " \"k\": 16}");
}

static void test_non_scalar_keys(void **state)
{
    expect_error("? [a, b]\n: 1\n", 1, 3, "mapping keys must be scalars, not a sequence");
    expect_error("{[a]: 1}", 1, 2, "mapping keys must be scalars");
    expect_error("? {a: 1}\n: 1\n", 1, 3, "not a mapping");
}

static void test_multiple_documents(void **state)
{
    expect_error("a: 1\n---\nb: 2\n", 2, 1, "a second YAML document starts here");
    expect_error("---\na: 1\n...\n---\nb: 2\n", 4, 1, "one document");
    expect_error("a: 1\n...\nb: 2\n", 3, 1, "one YAML document");
    expect_error("---\n---\n", 2, 1, "second YAML document");
}

/* ---- syntax errors -------------------------------------------------------------- */

static void test_syntax_errors(void **state)
{
    /* bad indentation: 'c' is neither in 'a' nor at the top level */
    expect_error("a:\n  b: 1\n c: 2\n", 3, 2, "did not find expected key");
    /* unclosed quote: reported at the end, naming where the string started */
    expect_error("a: \"abc\nb: 1\n", 3, 1, "quoted scalar (started at 1:4); close the quoted");
    expect_error("a: 'x\n", 2, 1, "started at 1:4");
    expect_error("a:\n\tb: 1\n", 2, 1, "indent with spaces");
    expect_error("a:\n  b: 1\n\t c: 2\n", 3, 1, "tabs");
    expect_error("a: [1, 2\n", 2, 1, "did not find expected ',' or ']'");
    expect_error("a: {b: 1\n", 2, 1, "brackets");
    expect_error("a: b: c\n", 1, 5, "mapping values are not allowed");
    expect_error("- a\nb: 1\n", 2, 1, "did not find expected '-' indicator");
    expect_error_n("a: \xff\n", 5, 1, 4, "UTF-8");
    expect_error_n("a: 1\nb: x\xc3\n", 11, 2, 5, "UTF-8");
}

static void test_empty_input(void **state)
{
    const char *cases[] = {"", "\n\n", "   \n", "# only a comment\n", "---\n", "--- # c\n...\n",
                           NULL};

    for (int i = 0; cases[i]; i++) {
        struct weir_diags d = {0};
        struct weir_ynode *n = (struct weir_ynode *)&d;
        assert_int_equal(weir_ydoc_parse(cases[i], strlen(cases[i]), "t.yaml", &n, &d), WEIR_OK);
        assert_null(n);
        assert_int_equal(d.n, 0);
    }
    {
        struct weir_diags d = {0};
        struct weir_ynode *n = (struct weir_ynode *)&d;
        assert_int_equal(weir_ydoc_parse(NULL, 0, NULL, &n, &d), WEIR_OK);
        assert_null(n);
    }
    /* an explicit null is a value, not an empty document */
    {
        struct weir_ynode *n = parse_ok("~\n");
        assert_non_null(n);
        assert_int_equal(n->kind, WEIR_YNODE_SCALAR);
        weir_ynode_free(n);
    }
}

/* Needs no NUL terminator: bytes past len are never read. */
static void test_not_nul_terminated(void **state)
{
    char *buf = malloc(6);
    struct weir_diags d = {0};
    struct weir_ynode *n = NULL;

    memcpy(buf, "a: 123", 6);
    assert_int_equal(weir_ydoc_parse(buf, 6, "t.yaml", &n, &d), WEIR_OK);
    assert_int_equal(d.n, 0);
    assert_string_equal(n->items[0]->str, "123");
    weir_ynode_free(n);
    free(buf);
}

/* ---- limits ---------------------------------------------------------------------- */

static char *nested_flow(int depth)
{
    char *s = malloc((size_t)depth * 2 + 1);

    memset(s, '[', (size_t)depth);
    memset(s + depth, ']', (size_t)depth);
    s[depth * 2] = '\0';
    return s;
}

static void test_depth_limit(void **state)
{
    char *ok = nested_flow(WEIR_YDOC_MAX_DEPTH);
    char *bad = nested_flow(WEIR_YDOC_MAX_DEPTH + 1);
    char *deep = nested_flow(100000);
    struct weir_ynode *n = parse_ok(ok);

    weir_ynode_free(n);
    expect_error(bad, 1, 65, "nesting deeper than 64 levels");
    expect_error(deep, 1, 65, "nesting deeper than 64 levels");
    free(ok);
    free(bad);
    free(deep);
}

static void test_depth_limit_block(void **state)
{
    char *text = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&text, &len);

    for (int i = 0; i < 70; i++) {
        fprintf(fp, "%*sk%d:\n", i, "", i);
    }
    fclose(fp);
    expect_error(text, 65, 65, "nesting deeper than 64 levels");
    free(text);
}

static char *flow_seq(size_t items)
{
    char *s = malloc(items * 2 + 2);

    s[0] = '[';
    for (size_t i = 0; i < items; i++) {
        s[1 + 2 * i] = '0';
        s[2 + 2 * i] = i + 1 < items ? ',' : ']';
    }
    s[items * 2 + 1] = '\0';
    return s;
}

static void test_node_limit(void **state)
{
    /* the sequence itself is one node */
    char *ok = flow_seq(WEIR_YDOC_MAX_NODES - 1);
    char *bad = flow_seq(WEIR_YDOC_MAX_NODES);
    struct weir_ynode *n = parse_ok(ok);

    assert_int_equal(n->n, WEIR_YDOC_MAX_NODES - 1);
    weir_ynode_free(n);
    expect_error(bad, 1, 2 * WEIR_YDOC_MAX_NODES, "more than 200000 YAML nodes");
    free(ok);
    free(bad);
}

static void test_size_limit(void **state)
{
    size_t max = WEIR_YDOC_MAX_BYTES;
    char *buf = malloc(max + 1);
    struct weir_diags d = {0};
    struct weir_ynode *n = NULL;

    /* one comment line, exactly at the limit: accepted */
    memset(buf, 'x', max + 1);
    buf[0] = '#';
    buf[max - 1] = '\n';
    assert_int_equal(weir_ydoc_parse(buf, max, "t.yaml", &n, &d), WEIR_OK);
    assert_null(n);
    assert_int_equal(d.n, 0);
    expect_error_n(buf, max + 1, 0, 0, "file is larger than 4 MiB");
    free(buf);
}

/* ---- scalar typing ---------------------------------------------------------------- */

static void test_scalar_typing(void **state)
{
    static const char *const table[][2] = {
        {"~", "null"}, {"null", "null"}, {"Null", "null"}, {"NULL", "null"}, {"", "null"},
        {"nULL", "\"nULL\""}, {"true", "true"}, {"True", "true"}, {"TRUE", "true"},
        {"false", "false"}, {"False", "false"}, {"FALSE", "false"}, {"tRUE", "\"tRUE\""},
        {"yes", "\"yes\""}, {"no", "\"no\""}, {"on", "\"on\""}, {"off", "\"off\""},
        {"y", "\"y\""}, {"0", "0"}, {"-12", "-12"}, {"+12", "12"}, {"0123", "123"},
        {"0x1F", "31"}, {"0xff", "255"}, {"0o17", "15"}, {"0o8", "\"0o8\""}, {"0x", "\"0x\""},
        {"-0x1F", "\"-0x1F\""}, {"0X1F", "\"0X1F\""}, {"1_000", "\"1_000\""},
        {"9223372036854775807", "9223372036854775807"},
        {"-9223372036854775808", "-9223372036854775808"},
        {"9223372036854775808", "\"9223372036854775808\""},
        {"0x8000000000000000", "\"0x8000000000000000\""}, {"1e3", "1000.0"}, {"1.5", "1.5"},
        {"-1.5", "-1.5"}, {".5", "0.5"}, {"1.", "1.0"}, {"+1.5e-2", "0.015"},
        {"2E+2", "200.0"}, {"1e999", "\"1e999\""}, {".inf", "\".inf\""},
        {"-.Inf", "\"-.Inf\""}, {"+.INF", "\"+.INF\""}, {".nan", "\".nan\""},
        {".NaN", "\".NaN\""}, {".", "\".\""}, {"1.2.3", "\"1.2.3\""}, {"e3", "\"e3\""},
        {"1e", "\"1e\""}, {"-x", "\"-x\""}, {"12abc", "\"12abc\""}, {"hello world", "\"hello world\""},
        {"\"true\"", "\"true\""}, {"'12'", "\"12\""}, {"\"null\"", "\"null\""}, {"''", "\"\""},
        {"\"1.5\"", "\"1.5\""}, {"|\n  12\n", "\"12\\n\""}, {">-\n  true\n", "\"true\""},
        {"|-\n  null\n", "\"null\""}, {"\"a\\tb\"", "\"a\\tb\""},
    };

    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        char yaml[128], json[128];
        snprintf(yaml, sizeof(yaml), "v: %s\n", table[i][0]);
        snprintf(json, sizeof(json), "{\"v\": %s}", table[i][1]);
        print_message("case %zu: %s\n", i, table[i][0]);
        assert_json_of(yaml, json);
    }
}

static void test_plain_flag(void **state)
{
    struct weir_ynode *n = parse_ok("- a\n- 'b'\n- \"c\"\n- |\n  d\n- >\n  e\n");
    assert_int_equal(n->items[0]->plain, 1);
    for (size_t i = 1; i < 5; i++) {
        assert_int_equal(n->items[i]->plain, 0);
    }
    assert_string_equal(n->items[3]->str, "d\n");
    weir_ynode_free(n);
}

static void test_embedded_nul(void **state)
{
    struct weir_ynode *n = parse_ok("\"k\\0\": \"a\\0b\"\n");

    assert_int_equal(n->keys[0]->len, 2);
    assert_int_equal(n->items[0]->len, 3);
    assert_memory_equal(n->items[0]->str, "a\0b", 4);
    assert_null(weir_ynode_get(n, "k"));
    weir_ynode_free(n);
}

/* ---- to_json and get ---------------------------------------------------------------- */

static void test_to_json_nested(void **state)
{
    assert_json_of("version: 1\n"
                   "name: copilot\n"
                   "params:\n"
                   "  table: { type: string, required: true }\n"
                   "  job_script: { type: string, default: \"\" }\n"
                   "steps:\n"
                   "  - id: schema\n"
                   "    uses: catalog.get_table\n"
                   "    with: { table: \"${{ params.table }}\" }\n"
                   "  - id: save\n"
                   "    needs: [schema, 2, ~]\n"
                   "    retry: { max: 3, backoff: exponential, delay: 1.5 }\n"
                   "    empty: {}\n"
                   "    none: []\n"
                   "    nothing:\n"
                   "1: numeric key\n"
                   "true: bool key\n",
                   "{\"version\": 1, \"name\": \"copilot\","
                   " \"params\": {\"table\": {\"type\": \"string\", \"required\": true},"
                   "  \"job_script\": {\"type\": \"string\", \"default\": \"\"}},"
                   " \"steps\": [{\"id\": \"schema\", \"uses\": \"catalog.get_table\","
                   "   \"with\": {\"table\": \"${{ params.table }}\"}},"
                   "  {\"id\": \"save\", \"needs\": [\"schema\", 2, null],"
                   "   \"retry\": {\"max\": 3, \"backoff\": \"exponential\", \"delay\": 1.5},"
                   "   \"empty\": {}, \"none\": [], \"nothing\": null}],"
                   " \"1\": \"numeric key\", \"true\": \"bool key\"}");
}

static void test_to_json_scalar_root_and_null(void **state)
{
    struct weir_ynode *n = parse_ok("hello\n");
    json_t *j = weir_ynode_to_json(n);

    tu_assert_json(j, "\"hello\"");
    json_decref(j);
    weir_ynode_free(n);
    j = weir_ynode_to_json(NULL);
    assert_true(json_is_null(j));
    json_decref(j);
}

static void test_get(void **state)
{
    struct weir_ynode *n = parse_ok("steps: [a]\nname: x\n'quoted': q\n");

    assert_int_equal(weir_ynode_get(n, "steps")->kind, WEIR_YNODE_SEQ);
    assert_string_equal(weir_ynode_get(n, "name")->str, "x");
    assert_string_equal(weir_ynode_get(n, "quoted")->str, "q");
    assert_null(weir_ynode_get(n, "ste"));
    assert_null(weir_ynode_get(n, "stepsx"));
    assert_null(weir_ynode_get(n, "missing"));
    assert_null(weir_ynode_get(n, ""));
    assert_null(weir_ynode_get(weir_ynode_get(n, "steps"), "a"));
    assert_null(weir_ynode_get(weir_ynode_get(n, "name"), "x"));
    assert_null(weir_ynode_get(NULL, "x"));
    weir_ynode_free(n);
}

/* ---- errors and diagnostics ---------------------------------------------------------------- */

static void test_error_names_new_diagnostic(void **state)
{
    struct weir_diags d = {0};
    struct weir_ynode *n = NULL;

    /* a diagnostic from an earlier file must not become this call's error */
    weir_diags_add(&d, "earlier.yaml", 1, 1, "older problem");
    assert_int_equal(weir_ydoc_parse("a: 1\na: 2\n", 10, "t.yaml", &n, &d), WEIR_EINVALID);
    assert_int_equal(d.n, 2);
    assert_string_equal(weir_error_last(),
                        "t.yaml:2:1: duplicate key 'a' (first defined at 1:1); remove one of them");
    weir_diags_free(&d);
}

/* ---- file reader ---------------------------------------------------------------------------- */

static void test_file_reader(void **state)
{
    char *dir = tu_mkdtemp();
    char *good = tu_write_file(dir, "p.yaml", "name: x\nsteps: []\n");
    char *bad = tu_write_file(dir, "bad.yaml", "a: 1\na: 2\n");
    char *missing = NULL;
    struct weir_diags d = {0};
    struct weir_ynode *n = NULL;

    assert_int_equal(weir_ydoc_parse_file(good, &n, &d), WEIR_OK);
    assert_string_equal(weir_ynode_get(n, "name")->str, "x");
    weir_ynode_free(n);

    assert_int_equal(weir_ydoc_parse_file(bad, &n, &d), WEIR_EINVALID);
    assert_null(n);
    assert_int_equal(d.n, 1);
    assert_string_equal(d.v[0].file, bad);
    assert_int_equal(d.v[0].line, 2);

    assert_true(asprintf(&missing, "%s/nope.yaml", dir) > 0);
    assert_int_equal(weir_ydoc_parse_file(missing, &n, &d), WEIR_ENOTFOUND);
    assert_null(n);
    assert_int_equal(d.n, 2);
    assert_string_equal(d.v[1].file, missing);
    assert_non_null(strstr(d.v[1].msg, "not found"));
    assert_non_null(strstr(weir_error_last(), missing));
    assert_non_null(strstr(weir_error_last(), "not found"));

    assert_int_equal(weir_ydoc_parse_file(dir, &n, &d), WEIR_EINVALID);
    assert_int_equal(d.n, 3);
    assert_string_equal(d.v[2].file, dir);
    assert_non_null(strstr(d.v[2].msg, "directory"));
    assert_non_null(strstr(weir_error_last(), dir));

    weir_diags_free(&d);
    free(missing);
    free(good);
    free(bad);
    tu_rmtree(dir);
    free(dir);
}

static void test_file_reader_too_big(void **state)
{
    char *dir = tu_mkdtemp();
    char *path = NULL;
    struct weir_diags d = {0};
    struct weir_ynode *n = (struct weir_ynode *)&d;
    FILE *fp;

    assert_true(asprintf(&path, "%s/big.yaml", dir) > 0);
    fp = fopen(path, "wb");
    assert_non_null(fp);
    /* sparse: the size check must refuse it before reading */
    assert_int_equal(fseek(fp, (long)WEIR_YDOC_MAX_BYTES, SEEK_SET), 0);
    fputc('\n', fp);
    fclose(fp);
    assert_int_equal(weir_ydoc_parse_file(path, &n, &d), WEIR_EINVALID);
    assert_null(n);
    assert_int_equal(d.n, 1);
    assert_string_equal(d.v[0].file, path);
    assert_non_null(strstr(d.v[0].msg, "file is larger than 4 MiB"));
    assert_non_null(strstr(weir_error_last(), path));
    weir_diags_free(&d);
    free(path);
    tu_rmtree(dir);
    free(dir);
}

/* ---- robustness and speed ---------------------------------------------------------------------- */

static char *pipeline_text(int steps, size_t *len)
{
    char *text = NULL;
    FILE *fp = open_memstream(&text, len);

    fprintf(fp, "version: 1\nname: big\nsteps:\n");
    for (int i = 0; i < steps; i++) {
        fprintf(fp, "  - id: s%d\n    uses: core.echo\n    needs: [s%d]\n"
                    "    with: { value: \"${{ steps.s%d.output }}\", n: %d }\n",
                i, i > 0 ? i - 1 : 0, i, i);
    }
    fclose(fp);
    return text;
}

static void test_speed_1000_steps(void **state)
{
    size_t len = 0;
    char *text = pipeline_text(1000, &len);
    struct weir_diags d = {0};
    struct weir_ynode *n = NULL;
    int64_t t0 = tu_now_ms(), dt;

    assert_int_equal(weir_ydoc_parse(text, len, "big.yaml", &n, &d), WEIR_OK);
    dt = tu_now_ms() - t0;
    print_message("1000 steps (%zu bytes): %lld ms\n", len, (long long)dt);
    assert_int_equal(weir_ynode_get(n, "steps")->n, 1000);
    /* a few ms normally; generous for sanitizer builds and busy machines */
    assert_true(dt < 1000);
    weir_ynode_free(n);
    free(text);
}

static void test_speed_huge_map(void **state)
{
    /* duplicate checks must not be quadratic in the number of keys */
    char *text = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&text, &len);
    int keys = WEIR_YDOC_MAX_NODES / 2 - 2;
    int64_t t0;

    for (int i = 0; i < keys; i++) {
        fprintf(fp, "key%d: 1\n", i);
    }
    fprintf(fp, "key7: 1\n");
    fclose(fp);
    t0 = tu_now_ms();
    expect_error(text, keys + 1, 1, "duplicate key 'key7' (first defined at 8:1)");
    print_message("%d keys: %lld ms\n", keys, (long long)(tu_now_ms() - t0));
    assert_true(tu_now_ms() - t0 < 3000);
    free(text);
}

static void parse_any(const char *buf, size_t len)
{
    struct weir_diags d = {0};
    struct weir_ynode *n = NULL;
    int rc = weir_ydoc_parse(buf, len, "f.yaml", &n, &d);

    assert_true(rc == WEIR_OK || rc == WEIR_EINVALID);
    if (rc == WEIR_OK) {
        json_t *j = weir_ynode_to_json(n);
        assert_int_equal(d.n, 0);
        assert_non_null(j);
        json_decref(j);
    }
    else {
        assert_null(n);
        assert_true(d.n >= 1);
        assert_true(weir_error_last()[0] != '\0');
    }
    weir_ynode_free(n);
    weir_diags_free(&d);
}

static void test_robust_prefixes_and_mutations(void **state)
{
    const char *seed = "version: 1\nparams: {t: {type: string}}\nsteps:\n"
                       "  - id: a\n    uses: x.y\n    with: [1, 'q', \"d\\n\", &z 3, *z]\n"
                       "  - id: b\n    lua: |\n      return 1\n    k: !!int 4\n? [c]\n: d\n";
    static const char alphabet[] = " \t\n:-[]{},'\"&*!|>#?%@`\\\x80\xc3\xff" "0a.~";
    size_t len = strlen(seed);
    char *buf = malloc(len);
    unsigned int rnd = 12345;

    for (size_t i = 0; i <= len; i++) {
        parse_any(seed, i);
    }
    for (int iter = 0; iter < 5000; iter++) {
        memcpy(buf, seed, len);
        for (int k = 0; k < 1 + iter % 4; k++) {
            rnd = rnd * 1103515245u + 12345u;
            buf[(rnd >> 8) % len] = alphabet[(rnd >> 20) % (sizeof(alphabet) - 1)];
        }
        parse_any(buf, len);
    }
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_positions),
        cmocka_unit_test(test_positions_utf8_columns),
        cmocka_unit_test(test_duplicate_keys),
        cmocka_unit_test(test_duplicate_keys_all_reported),
        cmocka_unit_test(test_duplicate_keys_large_map),
        cmocka_unit_test(test_duplicate_key_text_is_sanitized),
        cmocka_unit_test(test_alias_and_anchor_refused),
        cmocka_unit_test(test_billion_laughs_refused_fast),
        cmocka_unit_test(test_tags),
        cmocka_unit_test(test_tags_applied),
        cmocka_unit_test(test_non_scalar_keys),
        cmocka_unit_test(test_multiple_documents),
        cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_empty_input),
        cmocka_unit_test(test_not_nul_terminated),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_depth_limit_block),
        cmocka_unit_test(test_node_limit),
        cmocka_unit_test(test_size_limit),
        cmocka_unit_test(test_scalar_typing),
        cmocka_unit_test(test_plain_flag),
        cmocka_unit_test(test_embedded_nul),
        cmocka_unit_test(test_to_json_nested),
        cmocka_unit_test(test_to_json_scalar_root_and_null),
        cmocka_unit_test(test_get),
        cmocka_unit_test(test_error_names_new_diagnostic),
        cmocka_unit_test(test_file_reader),
        cmocka_unit_test(test_file_reader_too_big),
        cmocka_unit_test(test_speed_1000_steps),
        cmocka_unit_test(test_speed_huge_map),
        cmocka_unit_test(test_robust_prefixes_and_mutations),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
