/*
 * test_s3_wire.c - the s3 plugin without a network: the XML reader on
 * documents in S3's documented shapes, URL and key encoding, and each store
 * op against a stand-in host (fake_http.c) that records the requests the op
 * makes and answers with canned S3 responses.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fake_host.h"
#include "plugins.h"
#include "s3_internal.h"

const struct weir_host_api *s3_host;

static int setup(void **state)
{
    (void)state;
    s3_host = fake_host();
    unsetenv("WEIR_S3_BUCKET");
    unsetenv("WEIR_S3_PREFIX");
    unsetenv("WEIR_S3_FORCE_PATH_STYLE");
    return 0;
}

/* Runs a step with input text; returns rc, *out the output or NULL. */
static int run(const struct weir_step_desc *step, const char *input_text, json_t **out)
{
    json_error_t err;
    json_t *in = json_loads(input_text, 0, &err);
    int rc;

    if (!in) {
        fail_msg("bad test input %s: %s", input_text, err.text);
    }
    *out = NULL;
    rc = step->run(in, out, NULL, NULL);
    json_decref(in);
    if (rc < 0) {
        assert_null(*out);
    }
    return rc;
}

static const char *req_str(size_t n, const char *key)
{
    return json_string_value(json_object_get(fake_host_request(n), key));
}

static int req_has_header(size_t n, const char *header)
{
    const json_t *h;
    size_t i;

    json_array_foreach(json_object_get(fake_host_request(n), "headers"), i, h) {
        if (strcmp(json_string_value(h), header) == 0) {
            return 1;
        }
    }
    return 0;
}

/* ---- XML -------------------------------------------------------------- */

static const char list_page[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
    "<Name>lake</Name><Prefix>weir/stats/</Prefix><KeyCount>3</KeyCount><MaxKeys>2</MaxKeys>"
    "<Delimiter>/</Delimiter><EncodingType>url</EncodingType><IsTruncated>true</IsTruncated>"
    "<NextContinuationToken>1D7J/xOp+Rvl</NextContinuationToken>"
    "<Contents><Key>weir/stats/a%20b.json</Key><LastModified>2026-11-21T21:50:57.000Z</"
    "LastModified>"
    "<ETag>&quot;988b785174ba16e4&quot;</ETag><Size>11</Size><StorageClass>STANDARD</StorageClass>"
    "</Contents>"
    "<Contents><Key>weir/stats/r%26d+x.json</Key><LastModified>2026-11-22T00:00:01.000Z</"
    "LastModified>"
    "<ETag>\"ff\"</ETag><Size>0</Size></Contents>"
    "<CommonPrefixes><Prefix>weir/stats/db.t/</Prefix></CommonPrefixes>"
    "</ListBucketResult>";

static void test_xml_list_page(void **state)
{
    json_t *page = NULL;

    (void)state;
    assert_int_equal(s3_xml_list(list_page, strlen(list_page), &page), WEIR_OK);
    tu_assert_json(
        page, "{\"keys\": ["
              "{\"key\": \"weir/stats/a b.json\", \"bytes\": 11, \"etag\": \"988b785174ba16e4\","
              " \"last_modified\": \"2026-11-21T21:50:57.000Z\"},"
              "{\"key\": \"weir/stats/r&d x.json\", \"bytes\": 0, \"etag\": \"ff\","
              " \"last_modified\": \"2026-11-22T00:00:01.000Z\"}],"
              " \"common_prefixes\": [\"weir/stats/db.t/\"],"
              " \"next_continuation_token\": \"1D7J/xOp+Rvl\", \"truncated\": true}");
    json_decref(page);
}

static void test_xml_names_left_alone_without_encoding_type(void **state)
{
    /* a server that ignores encoding-type=url sends raw names: '%' and '+' stay */
    const char *doc =
        "<s3:ListBucketResult xmlns:s3=\"http://doc.s3.amazonaws.com/2006-03-01/\">"
        "<s3:Contents><s3:Key>a%20+&lt;b&gt;&#233;&#x4E2D;</s3:Key><s3:Size>5</s3:Size>"
        "</s3:Contents><s3:IsTruncated>false</s3:IsTruncated></s3:ListBucketResult>";
    json_t *page = NULL;

    (void)state;
    assert_int_equal(s3_xml_list(doc, strlen(doc), &page), WEIR_OK);
    tu_assert_json(page, "{\"keys\": [{\"key\": \"a%20+<b>\\u00e9\\u4e2d\", \"bytes\": 5}],"
                         " \"common_prefixes\": [], \"next_continuation_token\": null,"
                         " \"truncated\": false}");
    json_decref(page);
}

static void test_xml_error_and_malformed(void **state)
{
    const char *err = "<?xml version=\"1.0\"?><Error><Code>NoSuchKey</Code><Message>The specified "
                      "key does not exist.</Message><Key>a/b</Key><RequestId>X</RequestId></Error>";
    char *code = NULL, *msg = NULL;
    json_t *page = NULL;

    (void)state;
    s3_xml_error(err, strlen(err), &code, &msg);
    assert_string_equal(code, "NoSuchKey");
    assert_string_equal(msg, "The specified key does not exist.");
    s3_host->free(code);
    s3_host->free(msg);

    assert_int_equal(s3_xml_list("<A><B></A>", 10, &page), WEIR_EINVALID);
    tu_assert_contains(s3_host->error_last(), "closing tag does not match");
    assert_int_equal(s3_xml_list("<A>&bogus;</A>", 14, &page), WEIR_EINVALID);
    tu_assert_contains(s3_host->error_last(), "unknown entity");
    assert_int_equal(s3_xml_list("<!DOCTYPE x [<!ENTITY e \"x\">]><A/>", 34, &page), WEIR_EINVALID);
    tu_assert_contains(s3_host->error_last(), "DTDs are not accepted");
    assert_int_equal(s3_xml_list("<A><B>", 6, &page), WEIR_EINVALID);
    tu_assert_contains(s3_host->error_last(), "ends inside an element");
    assert_null(page);
}

static void test_xml_depth_is_bounded(void **state)
{
    char doc[40 * 7 + 1] = "";
    json_t *page = NULL;

    (void)state;
    for (int i = 0; i < 20; i++) {
        strcat(doc, "<A>");
    }
    for (int i = 0; i < 20; i++) {
        strcat(doc, "</A>");
    }
    assert_int_equal(s3_xml_list(doc, strlen(doc), &page), WEIR_EINVALID);
    tu_assert_contains(s3_host->error_last(), "nested too deeply");
}

/* ---- URLs ------------------------------------------------------------- */

static void test_urls_and_key_encoding(void **state)
{
    char *u;

    (void)state;
    u = s3_url("http://127.0.0.1:9000", 1, "lake", "a b/c+d:é/~x.json", NULL);
    assert_string_equal(u, "http://127.0.0.1:9000/lake/a%20b/c%2Bd%3A%C3%A9/~x.json");
    s3_host->free(u);
    u = s3_url("https://s3.eu-west-1.amazonaws.com", 0, "lake", "k", "uploads=");
    assert_string_equal(u, "https://lake.s3.eu-west-1.amazonaws.com/k?uploads=");
    s3_host->free(u);
    u = s3_url("https://s3.eu-west-1.amazonaws.com", 0, "lake", NULL, "list-type=2");
    assert_string_equal(u, "https://lake.s3.eu-west-1.amazonaws.com/?list-type=2");
    s3_host->free(u);
    assert_true(s3_endpoint_is_aws("https://s3.us-east-1.amazonaws.com"));
    assert_false(s3_endpoint_is_aws("http://127.0.0.1:4568"));
    assert_false(s3_endpoint_is_aws("https://minio.example.com/amazonaws.com"));
}

/* ---- ops against canned responses ------------------------------------- */

static void test_put_value_is_sorted_json_with_newline(void **state)
{
    json_t *out;

    (void)state;
    fake_host_reset();
    fake_host_queue(200, "{\"etag\": \"\\\"abc123\\\"\"}", NULL);
    assert_int_equal(run(&s3_step_put,
                         "{\"uri\": \"s3://lake/stats/db.t/2026-11-21.json\","
                         " \"value\": {\"rows\": 3, \"cols\": [\"a\", \"b\"]}}",
                         &out),
                     WEIR_OK);
    tu_assert_json(out, "{\"uri\": \"s3://lake/stats/db.t/2026-11-21.json\", \"bytes\": 28,"
                        " \"etag\": \"abc123\"}");
    assert_string_equal(req_str(0, "method"), "PUT");
    assert_string_equal(req_str(0, "url"),
                        "https://lake.s3.us-east-1.amazonaws.com/stats/db.t/2026-11-21.json");
    assert_string_equal(req_str(0, "body"), "{\"cols\":[\"a\",\"b\"],\"rows\":3}\n");
    assert_string_equal(req_str(0, "aws_service"), "s3");
    assert_int_equal(json_integer_value(json_object_get(fake_host_request(0), "auth")),
                     WEIR_HTTP_AUTH_AWS_SIGV4);
    assert_true(req_has_header(0, "Content-Type: application/json"));
    assert_false(req_has_header(0, "If-None-Match: *"));
    json_decref(out);
}

static void test_conditional_create_maps_412_to_exists(void **state)
{
    json_t *out;

    (void)state;
    fake_host_reset();
    fake_host_queue(412, NULL,
                    "<Error><Code>PreconditionFailed</Code><Message>At least one of "
                    "the pre-conditions you specified did not hold</Message></Error>");
    assert_int_equal(run(&s3_step_put,
                         "{\"uri\": \"s3://lake/locks/2026-11-21\", \"body\": \"r1\","
                         " \"if_none_match\": \"*\"}",
                         &out),
                     WEIR_EEXISTS);
    tu_assert_contains(s3_host->error_last(),
                       "store.put: s3://lake/locks/2026-11-21 already exists");
    assert_true(req_has_header(0, "If-None-Match: *"));
    assert_true(req_has_header(0, "Content-Type: text/plain; charset=utf-8"));
}

static void test_relative_keys_use_bucket_and_prefix_settings(void **state)
{
    json_t *out;

    (void)state;
    fake_host_reset();
    fake_host_set_endpoint("http://127.0.0.1:4568/");
    fake_host_queue(200, "{\"etag\": \"\\\"e1\\\"\"}", "{\"rows\": 3}\n");
    assert_int_equal(run(&s3_step_get,
                         "{\"uri\": \"contracts/db.t.json\", \"as\": \"json\","
                         " \"max_bytes\": 1000, \"bucket\": \"lake\","
                         " \"key_prefix\": \"team/weir\"}",
                         &out),
                     WEIR_OK);
    tu_assert_json(out, "{\"uri\": \"contracts/db.t.json\", \"bytes\": 12, \"etag\": \"e1\","
                        " \"value\": {\"rows\": 3}}");
    /* a non-AWS endpoint means path-style */
    assert_string_equal(req_str(0, "url"),
                        "http://127.0.0.1:4568/lake/team/weir/contracts/db.t.json");
    assert_int_equal(json_integer_value(json_object_get(fake_host_request(0), "max_response")),
                     65536);
    json_decref(out);

    setenv("WEIR_S3_BUCKET", "envbucket", 1);
    fake_host_queue(200, NULL, "hi");
    assert_int_equal(run(&s3_step_get, "{\"uri\": \"x.txt\", \"max_bytes\": 10}", &out), WEIR_OK);
    assert_string_equal(req_str(1, "url"), "http://127.0.0.1:4568/envbucket/x.txt");
    tu_assert_json(out, "{\"uri\": \"x.txt\", \"bytes\": 2, \"etag\": null, \"body\": \"hi\"}");
    json_decref(out);
    unsetenv("WEIR_S3_BUCKET");
}

static void test_get_errors_are_mapped(void **state)
{
    json_t *out;

    (void)state;
    fake_host_reset();
    fake_host_queue(404, NULL, "<Error><Code>NoSuchKey</Code><Message>gone</Message></Error>");
    assert_int_equal(run(&s3_step_get, "{\"uri\": \"s3://lake/a.json\", \"max_bytes\": 10}", &out),
                     WEIR_ENOTFOUND);
    assert_string_equal(s3_host->error_last(), "store.get: s3://lake/a.json: no such key");
    fake_host_queue(403, NULL,
                    "<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>");
    assert_int_equal(run(&s3_step_get, "{\"uri\": \"s3://lake/a.json\", \"max_bytes\": 10}", &out),
                     WEIR_EDENIED);
    tu_assert_contains(s3_host->error_last(),
                       "access denied (HTTP 403 AccessDenied: Access Denied)");
    tu_assert_contains(s3_host->error_last(), "s3:GetObject on bucket 'lake'");
    fake_host_queue(200, NULL, "{not json");
    assert_int_equal(run(&s3_step_get,
                         "{\"uri\": \"s3://lake/a.json\", \"as\": \"json\","
                         " \"max_bytes\": 100}",
                         &out),
                     WEIR_EINVALID);
    tu_assert_contains(s3_host->error_last(), "store.get: s3://lake/a.json: not JSON");
    fake_host_queue(200, NULL, "0123456789abc");
    assert_int_equal(run(&s3_step_get, "{\"uri\": \"s3://lake/a.json\", \"max_bytes\": 5}", &out),
                     WEIR_ETOOBIG);
    tu_assert_contains(s3_host->error_last(), "larger than max_bytes (5)");
    fake_host_queue(503, NULL,
                    "<Error><Code>SlowDown</Code><Message>Reduce your rate</Message></Error>");
    assert_int_equal(run(&s3_step_get, "{\"uri\": \"s3://lake/a.json\", \"max_bytes\": 5}", &out),
                     WEIR_EIO);
    tu_assert_contains(s3_host->error_last(),
                       "HTTP 503 SlowDown: Reduce your rate after 1 attempt(s)");
}

static void test_head_and_delete(void **state)
{
    json_t *out;

    (void)state;
    fake_host_reset();
    fake_host_queue(200,
                    "{\"content-length\": \"42\", \"etag\": \"\\\"9f\\\"\","
                    " \"last-modified\": \"Sun, 22 Nov 2026 00:52:51 GMT\"}",
                    NULL);
    assert_int_equal(run(&s3_step_head, "{\"uri\": \"s3://lake/k\"}", &out), WEIR_OK);
    tu_assert_json(out,
                   "{\"uri\": \"s3://lake/k\", \"exists\": true, \"bytes\": 42, \"etag\": \"9f\","
                   " \"last_modified\": \"2026-11-22T00:52:51.000Z\"}");
    assert_string_equal(req_str(0, "method"), "HEAD");
    json_decref(out);

    fake_host_queue(404, NULL, NULL);
    assert_int_equal(run(&s3_step_delete, "{\"uri\": \"s3://lake/k\"}", &out), WEIR_OK);
    tu_assert_json(out, "{\"uri\": \"s3://lake/k\", \"deleted\": false}");
    assert_int_equal(json_array_size(fake_host_requests()), 2); /* no DELETE for a missing key */
    json_decref(out);

    fake_host_queue(200, "{\"content-length\": \"1\"}", NULL);
    fake_host_queue(204, NULL, NULL);
    assert_int_equal(run(&s3_step_delete, "{\"uri\": \"s3://lake/k\"}", &out), WEIR_OK);
    tu_assert_json(out, "{\"uri\": \"s3://lake/k\", \"deleted\": true}");
    assert_string_equal(req_str(3, "method"), "DELETE");
    json_decref(out);
}

static const char list_last_page[] =
    "<ListBucketResult><EncodingType>url</EncodingType><IsTruncated>false</IsTruncated>"
    "<Contents><Key>weir/stats/z.json</Key><Size>7</Size>"
    "<LastModified>2026-11-22T00:00:02.000Z</LastModified></Contents></ListBucketResult>";

static void test_list_request_and_shape(void **state)
{
    json_t *out;

    (void)state;
    fake_host_reset();
    fake_host_queue(200, NULL, list_page);
    fake_host_queue(200, NULL, list_last_page);
    /* 5000 wanted: the op goes on past S3's truncated 3-entry page */
    assert_int_equal(run(&s3_step_list,
                         "{\"prefix\": \"stats/\", \"delimiter\": \"/\","
                         " \"max_keys\": 5000, \"continuation_token\": \"t/1+2\","
                         " \"bucket\": \"lake\", \"key_prefix\": \"weir/\"}",
                         &out),
                     WEIR_OK);
    assert_string_equal(
        req_str(0, "url"),
        "https://lake.s3.us-east-1.amazonaws.com/?continuation-token=t%2F1%2B2"
        "&delimiter=%2F&encoding-type=url&list-type=2&max-keys=1000&prefix=weir%2Fstats%2F");
    assert_string_equal(
        req_str(1, "url"),
        "https://lake.s3.us-east-1.amazonaws.com/?continuation-token=1D7J%2FxOp%2BRvl"
        "&delimiter=%2F&encoding-type=url&list-type=2&max-keys=1000&prefix=weir%2Fstats%2F");
    tu_assert_json(
        out, "{\"keys\": ["
             "{\"uri\": \"stats/a b.json\", \"key\": \"stats/a b.json\", \"bytes\": 11,"
             " \"last_modified\": \"2026-11-21T21:50:57.000Z\"},"
             "{\"uri\": \"stats/r&d x.json\", \"key\": \"stats/r&d x.json\", \"bytes\": 0,"
             " \"last_modified\": \"2026-11-22T00:00:01.000Z\"},"
             "{\"uri\": \"stats/z.json\", \"key\": \"stats/z.json\", \"bytes\": 7,"
             " \"last_modified\": \"2026-11-22T00:00:02.000Z\"}],"
             " \"common_prefixes\": [{\"uri\": \"stats/db.t/\", \"prefix\": \"stats/db.t/\"}],"
             " \"next_continuation_token\": null, \"truncated\": false}");
    json_decref(out);

    /* 3 wanted: one request, and the page says where to go on */
    fake_host_queue(200, NULL, list_page);
    assert_int_equal(
        run(&s3_step_list, "{\"prefix\": \"s3://lake/weir/stats/\", \"max_keys\": 3}", &out),
        WEIR_OK);
    assert_int_equal(json_array_size(fake_host_requests()), 3);
    tu_assert_contains(req_str(2, "url"), "&max-keys=3&");
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(json_object_get(out, "keys"), 0), "uri")),
        "s3://lake/weir/stats/a b.json");
    assert_string_equal(json_string_value(json_object_get(out, "next_continuation_token")),
                        "1D7J/xOp+Rvl");
    json_decref(out);
}

static void test_bad_input_is_refused_before_any_request(void **state)
{
    static const struct {
        const struct weir_step_desc *step;
        const char *input;
        const char *fragment;
    } cases[] = {
        { &s3_step_get, "{\"uri\": \"s3://lake/a/../b\", \"max_bytes\": 1}",
          "'.' and '..' segments" },
        { &s3_step_get, "{\"uri\": \"s3://lake/a//b\", \"max_bytes\": 1}", "empty path segment" },
        { &s3_step_get, "{\"uri\": \"s3:///k\", \"max_bytes\": 1}", "no bucket" },
        { &s3_step_get, "{\"uri\": \"s3://lake/\", \"max_bytes\": 1}", "empty key" },
        { &s3_step_get, "{\"uri\": \"/etc/passwd\", \"max_bytes\": 1}", "absolute local path" },
        { &s3_step_get, "{\"uri\": \"gs://b/k\", \"max_bytes\": 1}", "that scheme" },
        { &s3_step_get, "{\"uri\": \"k.json\", \"max_bytes\": 1}", "env WEIR_S3_BUCKET" },
        { &s3_step_get, "{\"uri\": \"s3://b/k\", \"as\": \"yaml\", \"max_bytes\": 1}",
          "param 'as' is 'yaml'" },
        { &s3_step_put, "{\"uri\": \"s3://b/k\", \"body\": \"x\", \"value\": 1}",
          "exactly one of" },
        { &s3_step_put, "{\"uri\": \"s3://b/k\"}", "exactly one of" },
        { &s3_step_put, "{\"uri\": \"s3://b/k\", \"body\": \"x\", \"if_none_match\": \"abc\"}",
          "if_none_match 'abc' is not supported" },
        { &s3_step_put, "{\"uri\": \"s3://b/k\", \"file\": \"no/such/file.bin\"}",
          "not a readable file" },
        { &s3_step_list, "{\"prefix\": \"s3://b/\", \"max_keys\": 0}", "max_keys is 0" },
    };
    json_t *out;

    (void)state;
    fake_host_reset();
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = run(cases[i].step, cases[i].input, &out);

        if (rc >= 0) {
            fail_msg("case %zu (%s) did not fail", i, cases[i].input);
        }
        tu_assert_contains(s3_host->error_last(), cases[i].fragment);
    }
    assert_int_equal(json_array_size(fake_host_requests()), 0);
}

static void test_without_http_the_ops_say_so(void **state)
{
    struct weir_host_api old = *weir_host_api_get();
    json_t *out;

    (void)state;
    old.http_request = NULL;
    s3_host = &old;
    assert_int_equal(run(&s3_step_get, "{\"uri\": \"s3://b/k\", \"max_bytes\": 1}", &out),
                     WEIR_EVERSION);
    tu_assert_contains(weir_host_api_get()->error_last(), "has no HTTP client");
    s3_host = fake_host();
}

/* ---- multipart -------------------------------------------------------- */

static char *big_file(const char *dir, size_t bytes)
{
    char *path = NULL;
    FILE *f;

    assert_true(asprintf(&path, "%s/big.bin", dir) > 0);
    f = fopen(path, "wb");
    assert_non_null(f);
    for (size_t i = 0; i < bytes; i++) {
        fputc((int)(i * 7 % 251), f);
    }
    fclose(f);
    return path;
}

static void test_multipart_upload_in_8mib_parts(void **state)
{
    char *dir = tu_mkdtemp(), *path = big_file(dir, (size_t)20 << 20), *input = NULL;
    json_t *out;

    (void)state;
    fake_host_reset();
    fake_host_queue(200, NULL,
                    "<InitiateMultipartUploadResult><Bucket>lake</Bucket><Key>big.bin</Key>"
                    "<UploadId>up/1+x</UploadId></InitiateMultipartUploadResult>");
    fake_host_queue(200, "{\"etag\": \"\\\"p1\\\"\"}", NULL);
    fake_host_queue(200, "{\"etag\": \"\\\"p2\\\"\"}", NULL);
    fake_host_queue(200, "{\"etag\": \"\\\"p3\\\"\"}", NULL);
    fake_host_queue(200, NULL,
                    "<CompleteMultipartUploadResult><ETag>&quot;all-3&quot;</ETag>"
                    "</CompleteMultipartUploadResult>");
    assert_true(asprintf(&input,
                         "{\"uri\": \"s3://lake/big.bin\", \"file\": \"%s\","
                         " \"if_none_match\": \"*\"}",
                         path) > 0);
    assert_int_equal(run(&s3_step_put, input, &out), WEIR_OK);
    tu_assert_json(out,
                   "{\"uri\": \"s3://lake/big.bin\", \"bytes\": 20971520, \"etag\": \"all-3\"}");
    assert_string_equal(req_str(0, "url"),
                        "https://lake.s3.us-east-1.amazonaws.com/big.bin?uploads=");
    assert_string_equal(req_str(0, "method"), "POST");
    for (size_t i = 1; i <= 3; i++) {
        char want[200];

        snprintf(want, sizeof(want),
                 "https://lake.s3.us-east-1.amazonaws.com/big.bin"
                 "?partNumber=%zu&uploadId=up%%2F1%%2Bx",
                 i);
        assert_string_equal(req_str(i, "url"), want);
        assert_int_equal(
            json_integer_value(json_object_get(fake_host_request(i), "body_file_bytes")),
            i < 3 ? 8 << 20 : 4 << 20);
        assert_null(req_str(i, "body"));
        /* the part file is gone once the part is sent */
        assert_int_not_equal(access(req_str(i, "body_file"), F_OK), 0);
    }
    assert_string_equal(
        req_str(4, "body"),
        "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        "<Part><PartNumber>1</PartNumber><ETag>&quot;p1&quot;</ETag></Part>"
        "<Part><PartNumber>2</PartNumber><ETag>&quot;p2&quot;</ETag></Part>"
        "<Part><PartNumber>3</PartNumber><ETag>&quot;p3&quot;</ETag></Part>"
        "</CompleteMultipartUpload>");
    assert_true(req_has_header(4, "If-None-Match: *"));
    json_decref(out);

    /* a failing part aborts the upload and reports the part's error */
    fake_host_reset();
    fake_host_queue(200, NULL,
                    "<InitiateMultipartUploadResult><UploadId>u2</UploadId>"
                    "</InitiateMultipartUploadResult>");
    fake_host_queue(200, "{\"etag\": \"\\\"p1\\\"\"}", NULL);
    fake_host_queue(500, NULL, "<Error><Code>InternalError</Code><Message>boom</Message></Error>");
    fake_host_queue(204, NULL, NULL);
    assert_int_equal(run(&s3_step_put, input, &out), WEIR_EIO);
    tu_assert_contains(s3_host->error_last(), "HTTP 500 InternalError: boom");
    assert_string_equal(req_str(3, "method"), "DELETE");
    assert_string_equal(req_str(3, "url"),
                        "https://lake.s3.us-east-1.amazonaws.com/big.bin?uploadId=u2");

    /* an error inside a 200 completion is still an error */
    fake_host_reset();
    fake_host_queue(200, NULL,
                    "<InitiateMultipartUploadResult><UploadId>u3</UploadId>"
                    "</InitiateMultipartUploadResult>");
    for (int i = 0; i < 3; i++) {
        fake_host_queue(200, "{\"etag\": \"\\\"p\\\"\"}", NULL);
    }
    fake_host_queue(200, NULL, "<Error><Code>InternalError</Code><Message>late</Message></Error>");
    fake_host_queue(204, NULL, NULL);
    assert_int_equal(run(&s3_step_put, input, &out), WEIR_EIO);
    tu_assert_contains(s3_host->error_last(), "InternalError: late");
    assert_string_equal(req_str(5, "method"), "DELETE");

    free(input);
    free(path);
    tu_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xml_list_page),
        cmocka_unit_test(test_xml_names_left_alone_without_encoding_type),
        cmocka_unit_test(test_xml_error_and_malformed),
        cmocka_unit_test(test_xml_depth_is_bounded),
        cmocka_unit_test(test_urls_and_key_encoding),
        cmocka_unit_test(test_put_value_is_sorted_json_with_newline),
        cmocka_unit_test(test_conditional_create_maps_412_to_exists),
        cmocka_unit_test(test_relative_keys_use_bucket_and_prefix_settings),
        cmocka_unit_test(test_get_errors_are_mapped),
        cmocka_unit_test(test_head_and_delete),
        cmocka_unit_test(test_list_request_and_shape),
        cmocka_unit_test(test_bad_input_is_refused_before_any_request),
        cmocka_unit_test(test_without_http_the_ops_say_so),
        cmocka_unit_test(test_multipart_upload_in_8mib_parts),
    };

    return cmocka_run_group_tests(tests, setup, NULL);
}
