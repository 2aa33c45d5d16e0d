/* test_sigv4.c - the SigV4 signer against the AWS test suite (every case,
 * header and presigned variants), the service-style vectors computed with
 * botocore, and canonicalisation edge cases. */
#include "testutil.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws_sigv4.h"
#include "error.h"

#define SUITE_KEY "AKIDEXAMPLE"
#define SUITE_SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define SUITE_DATE "20150830T123600Z"
#define MAX_HEADERS 32

/* One suite request, parsed from request.txt. */
struct suite_req {
    char *text; /* request.txt, cut up in place */
    char *method;
    char *path;
    char *query;
    struct weir_sigv4_header h[MAX_HEADERS];
    size_t n;
    const char *body;
    size_t body_len;
    char *joined[MAX_HEADERS]; /* values with continuation lines appended */
};

static char *case_file(const char *dir, const char *name)
{
    char *path = NULL, *text;

    assert_true(asprintf(&path, "%s/%s", dir, name) > 0);
    text = tu_read_file(path, NULL);
    if (!text) {
        fail_msg("missing suite file %s", path);
    }
    free(path);
    return text;
}

static void add_continuation(struct suite_req *r, const char *line)
{
    size_t i = r->n - 1;
    const char *old = r->joined[i] ? r->joined[i] : r->h[i].value;
    char *v = malloc(strlen(old) + strlen(line) + 2);

    sprintf(v, "%s\n%s", old, line);
    free(r->joined[i]);
    r->joined[i] = v;
    r->h[i].value = v;
}

/* "METHOD target HTTP/1.1", headers (continuations start with blanks), then
 * an optional blank line and body. Paths in the suite are not encoded. */
static void parse_request(char *text, struct suite_req *r)
{
    char *line = text, *next, *http;

    memset(r, 0, sizeof(*r));
    r->text = text;
    next = strchr(line, '\n');
    *next = '\0';
    r->method = line;
    r->path = strchr(line, ' ');
    *r->path++ = '\0';
    http = strstr(r->path, " HTTP/");
    *http = '\0';
    if ((r->query = strchr(r->path, '?'))) {
        *r->query++ = '\0';
    }
    for (line = next + 1; *line && *line != '\n'; line = next + 1) {
        next = strchr(line, '\n');
        if (next) {
            *next = '\0';
        }
        if (*line == ' ' || *line == '\t') {
            add_continuation(r, line);
        }
        else {
            char *colon = strchr(line, ':');
            *colon = '\0';
            assert_true(r->n < MAX_HEADERS);
            r->h[r->n++] = (struct weir_sigv4_header){ line, colon + 1 };
        }
        if (!next) {
            return;
        }
    }
    if (*line == '\n') {
        r->body = line + 1;
        r->body_len = strlen(line + 1);
    }
}

static void free_request(struct suite_req *r)
{
    for (size_t i = 0; i < MAX_HEADERS; i++) {
        free(r->joined[i]);
    }
    free(r->text);
}

static void expect_file(const char *dir, const char *name, const char *got)
{
    char *want = case_file(dir, name);

    if (strcmp(want, got) != 0) {
        fail_msg("%s/%s:\n--- want\n%s\n--- got\n%s", dir, name, want, got);
    }
    free(want);
}

/* Signs one case in one variant (header or presigned) and checks the three
 * expected files byte for byte. */
static void check_variant(const char *dir, const json_t *ctx, int presign)
{
    struct suite_req r;
    struct weir_sigv4_result res;
    char hash[65], *hdr_line = NULL;
    const json_t *creds = json_object_get(ctx, "credentials");
    struct weir_sigv4_request sr = {
        .access_key_id = json_string_value(json_object_get(creds, "access_key_id")),
        .secret_access_key = json_string_value(json_object_get(creds, "secret_access_key")),
        .session_token = json_string_value(json_object_get(creds, "token")),
        .region = json_string_value(json_object_get(ctx, "region")),
        .service = json_string_value(json_object_get(ctx, "service")),
        .amz_date = SUITE_DATE,
        .expires = (long)json_integer_value(json_object_get(ctx, "expiration_in_seconds")),
        .flags = WEIR_SIGV4_ENCODE_PATH,
    };

    parse_request(case_file(dir, "request.txt"), &r);
    weir_sha256_hex(r.body ? r.body : "", r.body_len, hash);
    if (json_is_true(json_object_get(ctx, "sign_body")) && !presign) {
        r.h[r.n++] = (struct weir_sigv4_header){ "x-amz-content-sha256", hash };
    }
    sr.flags |= json_is_false(json_object_get(ctx, "normalize")) ? 0 : WEIR_SIGV4_NORMALIZE;
    sr.flags |=
        json_is_true(json_object_get(ctx, "omit_session_token")) ? WEIR_SIGV4_OMIT_TOKEN : 0;
    sr.flags |= presign ? WEIR_SIGV4_PRESIGN : 0;
    sr.method = r.method;
    sr.path = r.path;
    sr.query = r.query;
    sr.headers = r.h;
    sr.n_headers = r.n;
    sr.payload_hash = hash;
    assert_int_equal(weir_sigv4_sign(&sr, &res), WEIR_OK);
    expect_file(dir, presign ? "query-canonical-request.txt" : "header-canonical-request.txt",
                res.canonical_request);
    expect_file(dir, presign ? "query-string-to-sign.txt" : "header-string-to-sign.txt",
                res.string_to_sign);
    expect_file(dir, presign ? "query-signature.txt" : "header-signature.txt", res.signature);
    if (!presign) {
        /* The Authorization line of the signed request, as the suite writes it. */
        char *signed_req = case_file(dir, "header-signed-request.txt");
        hdr_line = malloc(strlen(res.authorization) + 32);
        sprintf(hdr_line, "\nAuthorization:%s\n", res.authorization);
        assert_non_null(strstr(signed_req, hdr_line));
        free(signed_req);
    }
    else {
        char *signed_req = case_file(dir, "query-signed-request.txt");
        char want_sig[100];
        snprintf(want_sig, sizeof(want_sig), "X-Amz-Signature=%s ", res.signature);
        assert_non_null(strstr(signed_req, want_sig));
        want_sig[strlen(want_sig) - 1] = '\0'; /* last in the query: no space after */
        assert_string_equal(res.canonical_query + strlen(res.canonical_query) - strlen(want_sig),
                            want_sig);
        free(signed_req);
    }
    free(hdr_line);
    weir_sigv4_result_free(&res);
    free_request(&r);
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_suite(void **state)
{
    char root[1024], *names[64];
    size_t n = 0, checked = 0;
    DIR *d;
    struct dirent *e;

    snprintf(root, sizeof(root), "%s/tests/data/sigv4-suite", tu_env("WEIR_SOURCE_DIR"));
    d = opendir(root);
    assert_non_null(d);
    while ((e = readdir(d))) {
        if (e->d_name[0] != '.' && strcmp(e->d_name, "README.md") != 0) {
            assert_true(n < 64);
            names[n++] = strdup(e->d_name);
        }
    }
    closedir(d);
    qsort(names, n, sizeof(*names), name_cmp);
    for (size_t i = 0; i < n; i++) {
        char dir[1200];
        char *ctx_text;
        json_t *ctx;
        snprintf(dir, sizeof(dir), "%s/%s", root, names[i]);
        ctx_text = case_file(dir, "context.json");
        ctx = json_loads(ctx_text, 0, NULL);
        assert_non_null(ctx);
        check_variant(dir, ctx, 0);
        check_variant(dir, ctx, 1);
        checked++;
        json_decref(ctx);
        free(ctx_text);
        free(names[i]);
    }
    /* Every one of the 38 cases, none skipped. */
    assert_int_equal(checked, 38);
}

/* A request with the suite credentials and date; returns the signature. */
static void sign_service(const char *method, const char *path, const char *query,
                         const struct weir_sigv4_header *h, size_t n, const char *body,
                         const char *service, unsigned int flags, struct weir_sigv4_result *res)
{
    char hash[65];
    struct weir_sigv4_request sr = {
        .method = method,
        .path = path,
        .query = query,
        .headers = h,
        .n_headers = n,
        .payload_hash = hash,
        .access_key_id = SUITE_KEY,
        .secret_access_key = SUITE_SECRET,
        .region = "us-east-1",
        .service = service,
        .amz_date = SUITE_DATE,
        .flags = flags,
    };

    weir_sha256_hex(body, strlen(body), hash);
    assert_int_equal(weir_sigv4_sign(&sr, res), WEIR_OK);
}

#define NON_S3 (WEIR_SIGV4_NORMALIZE | WEIR_SIGV4_ENCODE_PATH)

/* aws-wire §1.10 vector 1, computed with botocore. */
static void test_glue_get_table(void **state)
{
    struct weir_sigv4_header h[] = { { "Content-Type", "application/x-amz-json-1.1" },
                                     { "Host", "glue.us-east-1.amazonaws.com" },
                                     { "X-Amz-Target", "AWSGlue.GetTable" } };
    struct weir_sigv4_result res;

    sign_service("POST", "/", NULL, h, 3, "{\"DatabaseName\":\"analytics\",\"Name\":\"events\"}",
                 "glue", NON_S3, &res);
    assert_string_equal(res.signed_headers, "content-type;host;x-amz-date;x-amz-target");
    assert_string_equal(res.signature,
                        "bdfeb48540d7471c531a8b77d0dab6adf10ce66d14aefe8b170af9ca4a147260");
    assert_string_equal(
        res.authorization,
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/glue/"
        "aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, "
        "Signature=bdfeb48540d7471c531a8b77d0dab6adf10ce66d14aefe8b170af9ca4a147260");
    weir_sigv4_result_free(&res);
}

/* Vector 2: a Bedrock model id with ':' is double-encoded. */
static void test_bedrock_converse(void **state)
{
    struct weir_sigv4_header h[] = { { "content-type", "application/json" },
                                     { "host", "bedrock-runtime.us-east-1.amazonaws.com" } };
    struct weir_sigv4_result res;

    sign_service("POST", "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse", NULL, h, 2,
                 "{\"messages\":[{\"role\":\"user\",\"content\":[{\"text\":\"Say ok\"}]}]}",
                 "bedrock", NON_S3, &res);
    assert_non_null(strstr(res.canonical_request,
                           "\n/model/anthropic.claude-3-5-sonnet-20240620-v1%253A0/converse\n"));
    assert_string_equal(res.signature,
                        "5e5952dee4eb7698b15f5c25d521ce05fffe102934dde90d88872c67be80da4e");
    weir_sigv4_result_free(&res);
}

/* Vector 3: S3 ListObjectsV2, query sorted and '/' encoded. */
static void test_s3_list(void **state)
{
    struct weir_sigv4_header h[] = { { "host", "testbucket.s3.us-east-1.amazonaws.com" },
                                     { "x-amz-content-sha256", WEIR_SIGV4_EMPTY_SHA256 } };
    struct weir_sigv4_result res;

    sign_service("GET", "/", "list-type=2&prefix=a/&max-keys=2", h, 2, "", "s3", 0, &res);
    assert_string_equal(res.canonical_query, "list-type=2&max-keys=2&prefix=a%2F");
    assert_string_equal(res.signed_headers, "host;x-amz-content-sha256;x-amz-date");
    assert_string_equal(res.signature,
                        "95eb492e71ed1516d27e98ada40fbc4bf6dcdaa811d7bfe9985ce48ded15ed9c");
    weir_sigv4_result_free(&res);
}

/* Vector 4: S3 path-style on a local port; the key is not encoded twice. */
static void test_s3_get_local(void **state)
{
    struct weir_sigv4_header h[] = { { "host", "127.0.0.1:4568" },
                                     { "x-amz-content-sha256", WEIR_SIGV4_EMPTY_SHA256 } };
    struct weir_sigv4_result res;

    sign_service("GET", "/testbucket/dir/a%20b%2Bc.csv", NULL, h, 2, "", "s3", 0, &res);
    assert_non_null(strstr(res.canonical_request, "\n/testbucket/dir/a%20b%2Bc.csv\n"));
    assert_string_equal(res.signature,
                        "05e8858f2a411bd394f35add5aa084b419f39e195c14339e29e02f193f75e47c");
    weir_sigv4_result_free(&res);
}

static void test_query_canonicalisation(void **state)
{
    struct weir_sigv4_header h[] = { { "host", "h" } };
    struct weir_sigv4_result res;

    /* Repeated keys sort by value; empty values keep '='; '+' is a literal plus;
     * already-encoded bytes are decoded then encoded once; a bare '%' is literal. */
    sign_service("GET", "/", "b=2&a=z&a=&a=y&c&d=%7e%2f&e=a+b&f=100%", h, 1, "", "s3", 0, &res);
    assert_string_equal(res.canonical_query, "a=&a=y&a=z&b=2&c=&d=~%2F&e=a%2Bb&f=100%25");
    weir_sigv4_result_free(&res);
}

static void test_path_rules(void **state)
{
    struct weir_sigv4_header h[] = { { "host", "h" } };
    struct weir_sigv4_result res;

    sign_service("GET", "/a/./b/../c//d%3A/", NULL, h, 1, "", "glue", NON_S3, &res);
    assert_non_null(strstr(res.canonical_request, "GET\n/a/c/d%253A/\n"));
    weir_sigv4_result_free(&res);
    sign_service("GET", "/a/./b/../c//d%3A/", NULL, h, 1, "", "s3", 0, &res);
    assert_non_null(strstr(res.canonical_request, "GET\n/a/./b/../c//d%3A/\n"));
    weir_sigv4_result_free(&res);
    sign_service("GET", "", NULL, h, 1, "", "s3", 0, &res);
    assert_non_null(strstr(res.canonical_request, "GET\n/\n"));
    weir_sigv4_result_free(&res);
}

static void test_uri_encode(void **state)
{
    char *e = weir_sigv4_uri_encode("a b/\xe1\x88\xb4~+", 9, 0);

    assert_string_equal(e, "a%20b%2F%E1%88%B4~%2B");
    free(e);
    e = weir_sigv4_uri_encode("a b/c", 5, 1);
    assert_string_equal(e, "a%20b/c");
    free(e);
}

static void test_bad_input(void **state)
{
    struct weir_sigv4_result res;
    struct weir_sigv4_request sr = { .method = "GET",
                                     .path = "/",
                                     .payload_hash = "x",
                                     .access_key_id = "AKID",
                                     .secret_access_key = "secretvalue",
                                     .region = "us-east-1",
                                     .service = "s3",
                                     .amz_date = "2015-08-30" };

    assert_int_equal(weir_sigv4_sign(&sr, &res), WEIR_EINVALID);
    assert_non_null(strstr(weir_error_last(), "2015-08-30"));
    assert_null(strstr(weir_error_last(), "secretvalue"));
    assert_null(res.authorization);
    sr.amz_date = SUITE_DATE;
    sr.region = NULL;
    assert_int_equal(weir_sigv4_sign(&sr, &res), WEIR_EINVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_suite),
        cmocka_unit_test(test_glue_get_table),
        cmocka_unit_test(test_bedrock_converse),
        cmocka_unit_test(test_s3_list),
        cmocka_unit_test(test_s3_get_local),
        cmocka_unit_test(test_query_canonicalisation),
        cmocka_unit_test(test_path_rules),
        cmocka_unit_test(test_uri_encode),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
