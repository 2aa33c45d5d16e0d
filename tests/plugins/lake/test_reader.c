/*
 * test_reader.c - the lake row reader (plugins/lake/reader*.c) driven
 * directly over files written by the test, with tables filled by hand:
 * CSV quoting, line numbers, BOM, CRLF, delimiters, null tokens, ragged
 * rows, invalid UTF-8, tolerate_errors, bounded memory; JSON Lines.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "testutil.h"

#include "lake.h"
#include "plugins.h"


#define assert_contains(haystack, needle)                                                     \
    do {                                                                                      \
        if (!strstr((haystack), (needle))) {                                                  \
            fail_msg("\"%s\"\n  does not contain \"%s\"", (haystack), (needle));              \
        }                                                                                     \
    } while (0)

static char *tmp;

static int group_setup(void **state)
{
    (void)state;
    lake_host = weir_host_api_get();
    tmp = tu_mkdtemp();
    return tmp ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    tu_rmtree(tmp);
    free(tmp);
    return 0;
}

/* A table of ncols string columns c1..cn (names given as "a,b,c" or NULL). */
struct fixture {
    struct lake_table t;
    struct lake_column cols[16];
    struct lake_column parts[2];
    struct lake_file files[4];
    char *paths[4];
    size_t nfiles;
};

static void fx_init(struct fixture *fx, size_t ncols, enum lake_format format)
{
    static char names[16][24];

    memset(fx, 0, sizeof(*fx));
    for (size_t i = 0; i < ncols; i++) {
        snprintf(names[i], sizeof(names[i]), "c%zu", i + 1);
        fx->cols[i].name = names[i];
        fx->cols[i].type = "string";
    }
    fx->t.database = "db";
    fx->t.name = "t";
    fx->t.columns = fx->cols;
    fx->t.ncolumns = ncols;
    fx->t.format = format;
    fx->t.delimiter = ',';
}

static void fx_file(struct fixture *fx, const char *name, const char *text, size_t len,
                    char **partition_values)
{
    char *path = NULL;
    FILE *f;

    assert_true(asprintf(&path, "%s/%s", tmp, name) > 0);
    f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    fclose(f);
    fx->paths[fx->nfiles] = path;
    fx->files[fx->nfiles].path = path;
    fx->files[fx->nfiles].partition_values = partition_values;
    fx->nfiles++;
}

static void fx_free(struct fixture *fx)
{
    for (size_t i = 0; i < fx->nfiles; i++) {
        free(fx->paths[i]);
    }
}

struct issues {
    int n;
    char text[1024];
};

static void on_issue(const struct lake_issue *issue, void *payload)
{
    struct issues *is = payload;
    const char *base = strrchr(issue->file, '/');
    size_t used = strlen(is->text);

    is->n++;
    snprintf(is->text + used, sizeof(is->text) - used, "%s:%llu: %s\n", base ? base + 1 : issue->file,
             (unsigned long long)issue->line, issue->what);
}

static size_t last_rows; /* rows the last read_rows returned */

/* Reads every row as "f1|f2|~\n" (~ for NULL) plus "@line" per row when
 * with_lines; returns the reader's final code. *text is malloc'd. */
static int read_rows(struct fixture *fx, struct issues *is, int with_lines, char **text)
{
    struct lake_reader_opts opts = { .tolerate_errors = is != NULL, .on_issue = on_issue, .payload = is };
    struct lake_reader *r = NULL;
    size_t cap = 4096, len = 0;
    char *out = calloc(1, cap);
    int rc;

    assert_int_equal(lake_reader_open(&fx->t, fx->files, fx->nfiles, &opts, &r), WEIR_OK);
    last_rows = 0;
    while ((rc = lake_reader_next(r)) == 1) {
        size_t n;

        last_rows++;
        const struct lake_field *f = lake_reader_fields(r, &n);

        assert_int_equal(n, fx->t.ncolumns + fx->t.npartitions);
        for (size_t i = 0; i < n; i++) {
            size_t need = (f[i].data ? f[i].len : 1) + 32;

            if (len + need >= cap) {
                cap = (len + need) * 2;
                out = realloc(out, cap);
            }
            if (f[i].data) {
                assert_int_equal(f[i].data[f[i].len], '\0');
                memcpy(out + len, f[i].data, f[i].len);
                len += f[i].len;
            }
            else {
                out[len++] = '~';
            }
            out[len++] = i + 1 < n ? '|' : (with_lines ? ' ' : '\n');
        }
        if (with_lines) {
            len += (size_t)sprintf(out + len, "@%llu\n", (unsigned long long)lake_reader_line(r));
        }
        out[len] = '\0';
    }
    lake_reader_close(r);
    *text = out;
    return rc;
}

static void expect_rows(struct fixture *fx, const char *expected)
{
    char *text = NULL;
    int rc = read_rows(fx, NULL, 0, &text);

    if (rc != 0) {
        fail_msg("reader failed: %s", lake_host->error_last());
    }
    assert_string_equal(text, expected);
    free(text);
}

static void expect_error(struct fixture *fx, const char *file, const char *message)
{
    char *text = NULL, *want = NULL;
    int rc = read_rows(fx, NULL, 0, &text);

    assert_int_equal(rc, WEIR_EINVALID);
    assert_true(asprintf(&want, "%s/%s:%s", tmp, file, message) > 0);
    assert_string_equal(lake_host->error_last(), want);
    free(want);
    free(text);
}

#define TEXT(s) (s), sizeof(s) - 1

static void test_quotes(void **state)
{
    struct fixture fx;

    (void)state;
    fx_init(&fx, 3, LAKE_CSV);
    fx_file(&fx, "q.csv", TEXT("a,\"b,c\",\"d\"\"e\"\n\"\",\"\"\"\",x\n"), NULL);
    expect_rows(&fx, "a|b,c|d\"e\n|\"|x\n");
    fx_free(&fx);
}

static void test_embedded_newlines_keep_line_numbers(void **state)
{
    struct fixture fx;
    char *text = NULL;

    (void)state;
    fx_init(&fx, 3, LAKE_CSV);
    fx_file(&fx, "nl.csv", TEXT("1,\"x\ny\",z\n2,a,b\n3,\"p\n\nq\",r\n4,b,c\n5,ragged\n"), NULL);
    assert_int_equal(read_rows(&fx, NULL, 1, &text), WEIR_EINVALID);
    assert_string_equal(text, "1|x\ny|z @1\n2|a|b @3\n3|p\n\nq|r @4\n4|b|c @7\n");
    assert_string_equal(strstr(lake_host->error_last(), "nl.csv"),
                        "nl.csv:8: ragged row: 2 fields, expected 3");
    free(text);
    fx_free(&fx);
}

static void test_bom_crlf_header(void **state)
{
    struct fixture fx;

    (void)state;
    fx_init(&fx, 2, LAKE_CSV);
    fx.t.header_lines = 1;
    fx_file(&fx, "bom.csv", TEXT("\xEF\xBB\xBFh1,h2\r\na,b\r\nc,\"d\r\ne\"\r\n\r\nf,g"), NULL);
    expect_rows(&fx, "a|b\nc|d\r\ne\nf|g\n");
    fx_free(&fx);
}

static void test_delimiters(void **state)
{
    struct fixture fx;

    (void)state;
    fx_init(&fx, 3, LAKE_CSV);
    fx.t.delimiter = ';';
    fx_file(&fx, "semi.csv", TEXT("a;b,c;\"d;e\"\n"), NULL);
    expect_rows(&fx, "a|b,c|d;e\n");
    fx_free(&fx);
    fx_init(&fx, 3, LAKE_CSV);
    fx.t.delimiter = '\t';
    fx_file(&fx, "tab.tsv", TEXT("a\tb c\t\"d\te\"\n1,2\t\t3\n"), NULL);
    expect_rows(&fx, "a|b c|d\te\n1,2|~|3\n");
    fx_free(&fx);
}

static void test_null_tokens(void **state)
{
    struct fixture fx;
    char *custom[] = { "-", NULL };

    (void)state;
    fx_init(&fx, 8, LAKE_CSV);
    fx_file(&fx, "n.csv", TEXT(",NA,NULL,null,\\N,\"\",\"NA\",x\n"), NULL);
    /* Quoted fields are never null tokens: "" is an empty string. */
    expect_rows(&fx, "~|~|~|~|~||NA|x\n");
    fx.t.null_tokens = custom;
    expect_rows(&fx, "|NA|NULL|null|\\N||NA|x\n");
    fx_free(&fx);
    fx_init(&fx, 2, LAKE_CSV);
    fx.t.null_tokens = custom;
    fx_file(&fx, "n2.csv", TEXT("-,\"-\"\n"), NULL);
    expect_rows(&fx, "~|-\n");
    fx_free(&fx);
}

static void test_ragged_row_error(void **state)
{
    struct fixture fx;

    (void)state;
    fx_init(&fx, 6, LAKE_CSV);
    fx.t.header_lines = 1;
    fx_file(&fx, "r.csv", TEXT("a,b,c,d,e,f\n1,2,3,4,5,6\n1,2,3,4,5,6,7\n1,2,3,4,5,6\n"), NULL);
    expect_error(&fx, "r.csv", "3: ragged row: 7 fields, expected 6");
    fx_free(&fx);
    fx_init(&fx, 6, LAKE_CSV);
    fx_file(&fx, "short.csv", TEXT("1,2,3,4,5,6\n1,2,3,4,5\n"), NULL);
    expect_error(&fx, "short.csv", "2: ragged row: 5 fields, expected 6");
    fx_free(&fx);
}

static void test_tolerate_errors(void **state)
{
    struct fixture fx;
    struct issues is = { 0 };
    char *text = NULL;

    (void)state;
    fx_init(&fx, 2, LAKE_CSV);
    fx_file(&fx, "tol.csv", TEXT("a,b\nc\nd,\xff\xfe\ne,f\ng,\"h\"x\ni,j,k\nl,m\n"), NULL);
    assert_int_equal(read_rows(&fx, &is, 0, &text), 0);
    assert_string_equal(text, "a|b\ne|f\nl|m\n");
    /* rows read + rows reported bad == records in the file */
    assert_int_equal(is.n, 4);
    assert_string_equal(is.text, "tol.csv:2: ragged row: 1 fields, expected 2\n"
                                 "tol.csv:3: invalid UTF-8\n"
                                 "tol.csv:5: text after the closing quote of a field\n"
                                 "tol.csv:6: ragged row: 3 fields, expected 2\n");
    free(text);
    fx_free(&fx);
}

static void test_invalid_utf8(void **state)
{
    struct fixture fx;

    (void)state;
    fx_init(&fx, 2, LAKE_CSV);
    fx_file(&fx, "u.csv", TEXT("caf\xc3\xa9,ok\n\"x\xc3\",y\n"), NULL);
    expect_error(&fx, "u.csv", "2: invalid UTF-8");
    fx_free(&fx);
    fx_init(&fx, 1, LAKE_CSV);
    /* An overlong encoding of '/' and a UTF-16 surrogate are invalid too. */
    fx_file(&fx, "u2.csv", TEXT("ok\n\xed\xa0\x80\n"), NULL);
    expect_error(&fx, "u2.csv", "2: invalid UTF-8");
    fx_free(&fx);
    fx_init(&fx, 1, LAKE_CSV);
    fx_file(&fx, "u3.csv", TEXT("\xc0\xaf\n"), NULL);
    expect_error(&fx, "u3.csv", "1: invalid UTF-8");
    fx_free(&fx);
}

static void test_unterminated_quote(void **state)
{
    struct fixture fx;

    (void)state;
    fx_init(&fx, 2, LAKE_CSV);
    fx_file(&fx, "uq.csv", TEXT("a,b\nc,d\ne,\"f\ng,h\n"), NULL);
    expect_error(&fx, "uq.csv", "3: unterminated quoted field (opened on line 3)");
    fx_free(&fx);
}

static void test_header_per_file_and_partitions(void **state)
{
    struct fixture fx;
    char *p1[] = { "2026-10-01" }, *p2[] = { "__HIVE_DEFAULT_PARTITION__" };

    (void)state;
    fx_init(&fx, 2, LAKE_CSV);
    fx.t.header_lines = 1;
    fx.parts[0].name = "dt";
    fx.parts[0].type = "string";
    fx.t.partitions = fx.parts;
    fx.t.npartitions = 1;
    fx_file(&fx, "h1.csv", TEXT("x,y\n1,2\n3,4\n"), p1);
    fx_file(&fx, "h2.csv", TEXT("x,y\n5,6"), p2);
    fx_file(&fx, "empty.csv", TEXT(""), p1);
    fx_file(&fx, "only-header.csv", TEXT("x,y\n"), p1);
    expect_rows(&fx, "1|2|2026-10-01\n3|4|2026-10-01\n5|6|~\n");
    fx_free(&fx);
}

static void test_empty_and_blank(void **state)
{
    struct fixture fx;

    (void)state;
    fx_init(&fx, 2, LAKE_CSV);
    fx_file(&fx, "e.csv", TEXT(""), NULL);
    fx_file(&fx, "blank.csv", TEXT("\n\r\n\n"), NULL);
    expect_rows(&fx, "");
    fx_free(&fx);
    fx_init(&fx, 2, LAKE_CSV);
    fx_file(&fx, "trail.csv", TEXT("a,\n,b\n"), NULL);
    expect_rows(&fx, "a|~\n~|b\n");
    fx_free(&fx);
}

static void test_record_cap(void **state)
{
    struct fixture fx;
    size_t n = 17u * 1024 * 1024;
    char *big = malloc(n + 8);

    (void)state;
    memset(big, 'x', n);
    memcpy(big, "a,\"", 3);
    fx_init(&fx, 2, LAKE_CSV);
    fx_file(&fx, "big.csv", big, n, NULL);
    free(big);
    expect_error(&fx, "big.csv", "1: record larger than 16 MiB (a missing closing quote?)");
    fx_free(&fx);
}

static long peak_rss_kb(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static void test_large_file_bounded_memory(void **state)
{
    struct fixture fx;
    struct lake_reader *r = NULL;
    char *path = NULL, line[256];
    size_t rows = 0, written = 0, expect = 0, n;
    long before;
    FILE *f;

    (void)state;
    assert_true(asprintf(&path, "%s/large.csv", tmp) > 0);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("id,name,note,amount\n", f);
    while (written < 50u * 1024 * 1024) {
        int len = snprintf(line, sizeof(line), "%zu,name-%zu,\"a \"\"quoted\"\", note\nwith a break\",%zu.25\n",
                           expect, expect % 977, expect * 3);
        fwrite(line, 1, (size_t)len, f);
        written += (size_t)len;
        expect++;
    }
    fclose(f);
    fx_init(&fx, 4, LAKE_CSV);
    fx.t.header_lines = 1;
    fx.files[0].path = path;
    fx.nfiles = 1;
    before = peak_rss_kb();
    assert_int_equal(lake_reader_open(&fx.t, fx.files, 1, NULL, &r), WEIR_OK);
    while (lake_reader_next(r) == 1) {
        const struct lake_field *fl = lake_reader_fields(r, &n);

        assert_int_equal(fl[2].len, 29);
        rows++;
    }
    assert_int_equal(lake_reader_line(r), 2 * expect);
    lake_reader_close(r);
    assert_int_equal(rows, expect);
    if (peak_rss_kb() - before > 32 * 1024) {
        fail_msg("peak RSS grew by %ld KiB reading 50 MB", peak_rss_kb() - before);
    }
    free(path);
}

static void test_jsonl(void **state)
{
    struct fixture fx;
    char *p[] = { "7" };

    (void)state;
    fx_init(&fx, 5, LAKE_JSONL);
    fx.parts[0].name = "part";
    fx.parts[0].type = "int";
    fx.t.partitions = fx.parts;
    fx.t.npartitions = 1;
    fx_file(&fx, "a.jsonl",
            TEXT("{\"c1\":1,\"c2\":\"x\",\"c3\":{\"k\":[1,2]},\"c4\":true,\"c5\":0.1}\n"
                 "\n   \r\n"
                 "{\"C1\":-5,\"c2\":null,\"c3\":[],\"c4\":false,\"c5\":1e300,\"extra\":1}\r\n"
                 "{\"c2\":\"NA\",\"c5\":\"\"}"),
            p);
    expect_rows(&fx, "1|x|{\"k\":[1,2]}|true|0.1|7\n-5|~|[]|false|1e+300|7\n~|NA|~|~||7\n");
    fx_free(&fx);
}

static void test_jsonl_errors(void **state)
{
    struct fixture fx;
    struct issues is = { 0 };
    char *text = NULL;

    (void)state;
    fx_init(&fx, 1, LAKE_JSONL);
    fx_file(&fx, "b.jsonl", TEXT("{\"c1\":1}\n\n[1,2]\n{\"c1\":2}\n"), NULL);
    expect_error(&fx, "b.jsonl", "3: not a JSON object");
    fx_free(&fx);
    fx_init(&fx, 1, LAKE_JSONL);
    fx_file(&fx, "c.jsonl", TEXT("{\"c1\":1}\n{\"c1\": tru}\n{\"c1\":\"\xff\"}\n{\"c1\":3}\n"), NULL);
    assert_int_equal(read_rows(&fx, NULL, 0, &text), WEIR_EINVALID);
    assert_contains(lake_host->error_last(), "c.jsonl:2: invalid JSON at column");
    free(text);
    assert_int_equal(read_rows(&fx, &is, 0, &text), 0);
    assert_string_equal(text, "1\n3\n");
    assert_int_equal(is.n, 2);
    assert_contains(is.text, "c.jsonl:3: invalid JSON");
    free(text);
    fx_free(&fx);
}

/* ---- generated corpus ---------------------------------------------- */

/* A growable text buffer for the generator. */
struct buf {
    char *p;
    size_t len, cap;
};

static void put(struct buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void puts_(struct buf *b, const char *s)
{
    put(b, s, strlen(s));
}

static uint32_t rng_state;

static uint32_t rnd(uint32_t n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state % n;
}

/* One generated field: its CSV text (appended to csv) and what the reader
 * must return (appended to want as "value|" or "~|"). */
static void gen_field(struct buf *csv, struct buf *want, char delim, int quote_all, int single)
{
    static const char *const pieces[] = { "a", "Z", "42", " ", "\"", "\n", "\r\n", "\xc3\xa9", "\xe6\x97\xa5",
                                          "x y", "NA", "\\N", "-1.5", "\r" };
    static const char *const nulls[] = { "", "NA", "NULL", "null", "\\N" };
    struct buf v = { 0 };
    int quote;

    if (rnd(6) == 0) {
        /* NULL: an unquoted null token (a lone empty field would make a
         * blank line in a one-column file, which is no record). */
        puts_(csv, nulls[single ? 1 + rnd(4) : rnd(5)]);
        puts_(want, "~|");
        return;
    }
    for (uint32_t n = rnd(5); n > 0; n--) {
        puts_(&v, pieces[rnd(sizeof(pieces) / sizeof(pieces[0]))]);
    }
    if (rnd(3) == 0) {
        put(&v, &delim, 1);
    }
    quote = quote_all || strpbrk(v.p ? v.p : "", "\"\r\n") || (v.p && memchr(v.p, delim, v.len)) ||
            v.len == 0 || !strcmp(v.p, "NA") || !strcmp(v.p, "NULL") || !strcmp(v.p, "null") ||
            !strcmp(v.p, "\\N");
    if (quote) {
        puts_(csv, "\"");
        for (size_t i = 0; i < v.len; i++) {
            put(csv, v.p[i] == '"' ? "\"\"" : &v.p[i], v.p[i] == '"' ? 2 : 1);
        }
        puts_(csv, "\"");
    }
    else {
        put(csv, v.p, v.len);
    }
    if (v.len) {
        put(want, v.p, v.len);
    }
    puts_(want, "|");
    free(v.p);
}

static size_t count_char(const char *s, size_t n, char c)
{
    size_t k = 0;

    for (size_t i = 0; i < n; i++) {
        k += s[i] == c;
    }
    return k;
}

/* Generates file k of the corpus: options from k, rows at random, about one
 * bad record (ragged or invalid UTF-8) in eight. */
static void gen_file(int k, struct fixture *fx, struct buf *want, struct buf *bad, size_t *nrecords)
{
    static const char delims[] = { ',', ';', '\t', '|' };
    struct buf csv = { 0 };
    char name[32], delim = delims[k % 4];
    int crlf = k & 1, quote_all = k % 5 == 0;
    size_t ncols = 1 + (size_t)(k % 7), nrows = k % 10 == 0 ? 0 : rnd(40), line = 1;
    const char *eol = crlf ? "\r\n" : "\n";

    fx_init(fx, ncols, LAKE_CSV);
    fx->t.delimiter = delim;
    fx->t.header_lines = k % 4 == 0;
    if (k % 3 == 0) {
        puts_(&csv, "\xEF\xBB\xBF");
    }
    if (fx->t.header_lines) {
        puts_(&csv, "h1");
        puts_(&csv, eol);
        line++;
    }
    *nrecords = nrows;
    for (size_t r = 0; r < nrows; r++) {
        size_t start = csv.len, fields = ncols, wlen = want->len;
        int kind = rnd(8) == 0 ? 1 + (int)rnd(2) : 0;

        if (kind == 1) {
            fields = ncols == 1 || rnd(2) ? ncols + 1 : ncols - 1;
        }
        for (size_t f = 0; f < fields; f++) {
            if (f) {
                put(&csv, &delim, 1);
            }
            if (kind == 2 && f == 0) {
                puts_(&csv, "bad\xff");
                continue;
            }
            gen_field(&csv, want, delim, quote_all, fields == 1);
        }
        want->p[want->len - 1] = '\n';
        if (kind) {
            char text[96];

            want->len = wlen;
            want->p[wlen] = '\0';
            snprintf(text, sizeof(text), "c%d.csv:%zu: %s\n", k, line,
                     kind == 2 ? "invalid UTF-8" : "ragged row");
            puts_(bad, text);
        }
        line += count_char(csv.p + start, csv.len - start, '\n') + 1;
        if (r + 1 < nrows || rnd(2)) {
            puts_(&csv, eol);
        }
    }
    if (k == 7) {
        /* A huge (1 MiB) quoted field in a row of its own. */
        struct buf big = { 0 };

        for (int i = 0; i < (1 << 20) / 8; i++) {
            puts_(&big, "0123456,");
        }
        puts_(&csv, eol);
        puts_(&csv, "\"");
        put(&csv, big.p, big.len);
        puts_(&csv, "\"");
        for (size_t f = 1; f < ncols; f++) {
            put(&csv, &delim, 1);
            puts_(&csv, "z");
        }
        put(want, big.p, big.len);
        for (size_t f = 1; f < ncols; f++) {
            puts_(want, "|z");
        }
        puts_(want, "\n");
        (*nrecords)++;
        free(big.p);
    }
    snprintf(name, sizeof(name), "c%d.csv", k);
    fx_file(fx, name, csv.p ? csv.p : "", csv.len, NULL);
    free(csv.p);
}

/* Strips the " N fields, expected M" detail so lines compare to the generator's. */
static void normalise_issues(char *text)
{
    char *p;

    while ((p = strstr(text, "ragged row: ")) != NULL) {
        char *nl = strchr(p, '\n');

        memmove(p + 10, nl, strlen(nl) + 1);
        text = p + 10;
    }
}

static void test_generated_corpus(void **state)
{
    (void)state;
    rng_state = 0x9e3779b9u;
    for (int k = 0; k < 60; k++) {
        struct fixture fx;
        struct buf want = { 0 }, bad = { 0 };
        struct issues is = { 0 };
        char *text = NULL;
        size_t nrecords = 0;

        puts_(&want, "");
        puts_(&bad, "");
        gen_file(k, &fx, &want, &bad, &nrecords);
        assert_int_equal(read_rows(&fx, &is, 0, &text), 0);
        if (strcmp(text, want.p) != 0) {
            fail_msg("c%d.csv: rows differ\n got: %.300s\nwant: %.300s", k, text, want.p);
        }
        normalise_issues(is.text);
        assert_string_equal(is.text, bad.p);
        /* Every record is either read or reported: none dropped, none invented. */
        assert_int_equal(last_rows + (size_t)is.n, nrecords);
        free(text);
        free(want.p);
        free(bad.p);
        fx_free(&fx);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quotes),
        cmocka_unit_test(test_embedded_newlines_keep_line_numbers),
        cmocka_unit_test(test_bom_crlf_header),
        cmocka_unit_test(test_delimiters),
        cmocka_unit_test(test_null_tokens),
        cmocka_unit_test(test_ragged_row_error),
        cmocka_unit_test(test_tolerate_errors),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_unterminated_quote),
        cmocka_unit_test(test_header_per_file_and_partitions),
        cmocka_unit_test(test_empty_and_blank),
        cmocka_unit_test(test_record_cap),
        cmocka_unit_test(test_large_file_bounded_memory),
        cmocka_unit_test(test_jsonl),
        cmocka_unit_test(test_jsonl_errors),
        cmocka_unit_test(test_generated_corpus),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
