/*
 * test_s3_server.c - the built s3.so end to end: its store ops run through
 * the host's HTTP client and SigV4 signer against tests/aws-server (which
 * checks every signature with botocore and keeps objects as plain files, so
 * what the ops wrote is checked on disk, independently of the plugin).
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "aws_server.h"
#include "ctx.h"
#include "error.h"
#include "plugins.h"

static struct weir_plugins *plugins;
static struct aws_server server;
static char *s3root, *project;
static struct weir_ctx ctx;

static int group_setup(void **state)
{
    char *path = NULL, *bucket = NULL;
    const char *args[3];

    (void)state;
    s3root = tu_mkdtemp();
    project = tu_mkdtemp();
    if (asprintf(&bucket, "%s/lake", s3root) < 0 || mkdir(bucket, 0755) != 0) {
        return -1;
    }
    free(bucket);
    args[0] = "--s3-root";
    args[1] = s3root;
    args[2] = NULL;
    if (aws_server_start(&server, args) != 0) {
        return -1;
    }
    unsetenv("WEIR_S3_BUCKET");
    unsetenv("WEIR_S3_PREFIX");
    if (weir_plugins_new(&plugins) != WEIR_OK ||
        asprintf(&path, "%s/s3.so", tu_env("WEIR_PLUGIN_DIR")) < 0 ||
        weir_plugins_load_file(plugins, path) != WEIR_OK) {
        fprintf(stderr, "loading s3.so: %s\n", weir_error_last());
        free(path);
        return -1;
    }
    free(path);
    ctx.run_id = "r1";
    ctx.run_date = "2026-11-21";
    ctx.target = "aws";
    ctx.step_id = "s";
    ctx.workspace = project;
    ctx.project = project;
    ctx.plugins = plugins;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    aws_server_stop(&server);
    weir_plugins_free(plugins);
    tu_rmtree(s3root);
    tu_rmtree(project);
    free(s3root);
    free(project);
    return 0;
}

/* store.<op> with input text; *out the output or NULL. */
static int call(const char *op, const char *input_text, json_t **out)
{
    const struct weir_step_def *def = weir_plugins_find_op(plugins, "s3", "store", op);
    json_error_t err;
    json_t *in = json_loads(input_text, 0, &err);
    int rc;

    assert_non_null(def);
    if (!in) {
        fail_msg("bad test JSON %s: %s", input_text, err.text);
    }
    *out = NULL;
    rc = weir_step_invoke(def, in, out, &ctx);
    json_decref(in);
    return rc;
}

static json_t *ok(const char *op, const char *input_text)
{
    json_t *out;
    int rc = call(op, input_text, &out);

    if (rc != WEIR_OK) {
        fail_msg("store.%s %s: %d %s", op, input_text, rc, weir_error_last());
    }
    return out;
}

static char *on_disk(const char *key)
{
    char *path = NULL, *text;

    assert_true(asprintf(&path, "%s/lake/%s", s3root, key) > 0);
    text = tu_read_file(path, NULL);
    free(path);
    return text;
}

static void test_put_get_head_delete(void **state)
{
    json_t *out;
    char *disk;

    (void)state;
    out = ok("put", "{\"uri\": \"s3://lake/stats-history/db.t/2026-11-21.json\","
                    " \"value\": {\"rows\": 3, \"cols\": [\"a\", \"b\"]}}");
    assert_int_equal(json_integer_value(json_object_get(out, "bytes")), 28);
    assert_true(json_string_length(json_object_get(out, "etag")) > 0);
    json_decref(out);
    disk = on_disk("stats-history/db.t/2026-11-21.json");
    assert_string_equal(disk, "{\"cols\":[\"a\",\"b\"],\"rows\":3}\n");
    free(disk);

    out =
        ok("get", "{\"uri\": \"s3://lake/stats-history/db.t/2026-11-21.json\", \"as\": \"json\"}");
    tu_assert_json(json_object_get(out, "value"), "{\"rows\": 3, \"cols\": [\"a\", \"b\"]}");
    json_decref(out);

    /* relative keys under the bucket setting, text with non-ASCII and a space in the key */
    out = ok("put",
             "{\"uri\": \"notes/a b é.txt\", \"body\": \"h\\u00e9llo\\n\", \"bucket\": \"lake\","
             " \"key_prefix\": \"team\"}");
    assert_string_equal(json_string_value(json_object_get(out, "uri")), "notes/a b é.txt");
    json_decref(out);
    disk = on_disk("team/notes/a b é.txt");
    assert_string_equal(disk, "h\xc3\xa9llo\n");
    free(disk);
    out = ok("head", "{\"uri\": \"s3://lake/team/notes/a b é.txt\"}");
    assert_true(json_is_true(json_object_get(out, "exists")));
    assert_int_equal(json_integer_value(json_object_get(out, "bytes")), 7);
    assert_int_equal(strlen(json_string_value(json_object_get(out, "last_modified"))), 24);
    json_decref(out);

    out = ok("delete", "{\"uri\": \"s3://lake/team/notes/a b é.txt\"}");
    tu_assert_json(out, "{\"uri\": \"s3://lake/team/notes/a b é.txt\", \"deleted\": true}");
    json_decref(out);
    assert_null(on_disk("team/notes/a b é.txt"));
    out = ok("delete", "{\"uri\": \"s3://lake/team/notes/a b é.txt\"}");
    assert_false(json_is_true(json_object_get(out, "deleted")));
    json_decref(out);
    out = ok("head", "{\"uri\": \"s3://lake/team/notes/a b é.txt\"}");
    tu_assert_json(out, "{\"uri\": \"s3://lake/team/notes/a b é.txt\", \"exists\": false,"
                        " \"bytes\": null, \"etag\": null, \"last_modified\": null}");
    json_decref(out);
    assert_int_equal(call("get", "{\"uri\": \"s3://lake/team/notes/a b é.txt\"}", &out),
                     WEIR_ENOTFOUND);
    tu_assert_contains(weir_error_last(), "no such key");
}

static void test_list_pages_through_everything(void **state)
{
    const char *names[] = { "p/a.json",   "p/b.json", "p/c/1.json",
                            "p/c/2.json", "p/d.json", "p/e f.json" };
    json_t *page, *all = json_array();
    char *token = NULL, input[512];
    int pages = 0;

    (void)state;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        snprintf(input, sizeof(input), "{\"uri\": \"s3://lake/%s\", \"body\": \"%zu\"}", names[i],
                 i);
        json_decref(ok("put", input));
    }
    do {
        snprintf(input, sizeof(input), "{\"prefix\": \"s3://lake/p/\", \"max_keys\": 2%s%s%s}",
                 token ? ", \"continuation_token\": \"" : "", token ? token : "",
                 token ? "\"" : "");
        page = ok("list", input);
        json_array_extend(all, json_object_get(page, "keys"));
        free(token);
        token = json_is_true(json_object_get(page, "truncated"))
                    ? strdup(json_string_value(json_object_get(page, "next_continuation_token")))
                    : NULL;
        json_decref(page);
        pages++;
    } while (token && pages < 10);
    assert_int_equal(pages, 3);
    assert_int_equal(json_array_size(all), 6);
    for (size_t i = 0; i < 6; i++) {
        json_t *k = json_array_get(all, i);
        char want[64];

        assert_string_equal(json_string_value(json_object_get(k, "key")), names[i]);
        snprintf(want, sizeof(want), "s3://lake/%s", names[i]);
        assert_string_equal(json_string_value(json_object_get(k, "uri")), want);
        assert_int_equal(json_integer_value(json_object_get(k, "bytes")), 1);
    }
    json_decref(all);

    page = ok("list", "{\"prefix\": \"p/\", \"delimiter\": \"/\", \"bucket\": \"lake\"}");
    tu_assert_json(json_object_get(page, "common_prefixes"),
                   "[{\"uri\": \"p/c/\", \"prefix\": \"p/c/\"}]");
    assert_int_equal(json_array_size(json_object_get(page, "keys")), 4);
    assert_false(json_is_true(json_object_get(page, "truncated")));
    json_decref(page);
}

static void test_conditional_create_refuses_overwrite(void **state)
{
    json_t *out;
    char *disk;

    (void)state;
    json_decref(
        ok("put",
           "{\"uri\": \"s3://lake/locks/day\", \"body\": \"first\", \"if_none_match\": \"*\"}"));
    assert_int_equal(call("put",
                          "{\"uri\": \"s3://lake/locks/day\", \"body\": \"second\","
                          " \"if_none_match\": \"*\"}",
                          &out),
                     WEIR_EEXISTS);
    tu_assert_contains(weir_error_last(), "store.put: s3://lake/locks/day already exists");
    disk = on_disk("locks/day");
    assert_string_equal(disk, "first");
    free(disk);
}

static int same_files(const char *a, const char *b)
{
    size_t na, nb;
    char *x = tu_read_file(a, &na), *y = tu_read_file(b, &nb);
    int same = x && y && na == nb && memcmp(x, y, na) == 0;

    free(x);
    free(y);
    return same;
}

static int count_ops(const char *op, long status)
{
    json_t *log = aws_server_log(&server, op), *r;
    size_t i;
    int n = 0;

    json_array_foreach(log, i, r) {
        n += status == 0 || json_integer_value(json_object_get(r, "status")) == status;
    }
    json_decref(log);
    return n;
}

static void test_multipart_of_a_20mib_file(void **state)
{
    char *src = NULL, *back = NULL, *stored = NULL, input[1024];
    json_t *out;
    FILE *f;

    (void)state;
    assert_true(asprintf(&src, "%s/big.bin", project) > 0);
    f = fopen(src, "wb");
    assert_non_null(f);
    for (size_t i = 0; i < ((size_t)20 << 20); i++) {
        fputc((int)((i * 2654435761u) >> 13 & 0xff), f);
    }
    fclose(f);
    assert_int_equal(aws_server_reset(&server), 0);
    out = ok("put", "{\"uri\": \"s3://lake/big/blob.bin\", \"file\": \"big.bin\"}");
    assert_int_equal(json_integer_value(json_object_get(out, "bytes")), 20 << 20);
    json_decref(out);
    assert_int_equal(count_ops("UploadPart", 200), 3);
    assert_int_equal(count_ops("CompleteMultipartUpload", 200), 1);
    assert_true(asprintf(&stored, "%s/lake/big/blob.bin", s3root) > 0);
    assert_true(same_files(src, stored));

    /* and back, streamed to a file */
    out = ok("get", "{\"uri\": \"s3://lake/big/blob.bin\", \"file\": \"back.bin\"}");
    assert_int_equal(json_integer_value(json_object_get(out, "bytes")), 20 << 20);
    json_decref(out);
    assert_true(asprintf(&back, "%s/back.bin", project) > 0);
    assert_true(same_files(src, back));

    /* a failing part aborts the upload: the old object stays */
    snprintf(input, sizeof(input),
             "{\"service\": \"s3\", \"operation\": \"UploadPart\","
             " \"fault\": \"500\", \"count\": 5}");
    assert_int_equal(aws_server_admin(&server, "faults", input, NULL), 0);
    assert_int_equal(
        call("put", "{\"uri\": \"s3://lake/big/blob.bin\", \"file\": \"back.bin\"}", &out),
        WEIR_EIO);
    tu_assert_contains(weir_error_last(), "HTTP 500");
    assert_int_equal(count_ops("AbortMultipartUpload", 204), 1);
    assert_true(same_files(src, stored));
    aws_server_reset(&server);
    free(src);
    free(back);
    free(stored);
}

static void test_throttling_then_success(void **state)
{
    json_t *out;

    (void)state;
    assert_int_equal(aws_server_reset(&server), 0);
    assert_int_equal(aws_server_admin(&server, "faults",
                                      "{\"service\": \"s3\", \"operation\": \"PutObject\","
                                      " \"fault\": \"throttle\", \"count\": 2}",
                                      NULL),
                     0);
    out = ok("put", "{\"uri\": \"s3://lake/t/x\", \"body\": \"ok\"}");
    json_decref(out);
    assert_int_equal(count_ops("PutObject", 503), 2);
    assert_int_equal(count_ops("PutObject", 200), 1);

    /* a storm beyond the attempts is a clear error */
    assert_int_equal(aws_server_admin(&server, "faults",
                                      "{\"service\": \"s3\", \"operation\": \"GetObject\","
                                      " \"fault\": \"throttle\", \"count\": 20}",
                                      NULL),
                     0);
    assert_int_equal(call("get", "{\"uri\": \"s3://lake/t/x\"}", &out), WEIR_EIO);
    tu_assert_contains(weir_error_last(),
                       "store.get: s3://lake/t/x: S3 answered HTTP 503 SlowDown");
    aws_server_reset(&server);
}

static void test_bad_credentials_are_denied_without_the_secret(void **state)
{
    const char *secret = "wrongSECRETwrongSECRETwrongSECRET0123";
    json_t *out;

    (void)state;
    setenv("AWS_SECRET_ACCESS_KEY", secret, 1);
    assert_int_equal(call("get", "{\"uri\": \"s3://lake/t/x\"}", &out), WEIR_EDENIED);
    tu_assert_contains(weir_error_last(), "access denied (HTTP 403 SignatureDoesNotMatch");
    tu_assert_contains(weir_error_last(), "s3:GetObject on bucket 'lake'");
    assert_null(strstr(weir_error_last(), secret));
    setenv("AWS_ACCESS_KEY_ID", "AKIDUNKNOWN", 1);
    assert_int_equal(call("put", "{\"uri\": \"s3://lake/t/y\", \"body\": \"x\"}", &out),
                     WEIR_EDENIED);
    tu_assert_contains(weir_error_last(), "InvalidAccessKeyId");
    aws_server_env(&server);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_get_head_delete),
        cmocka_unit_test(test_list_pages_through_everything),
        cmocka_unit_test(test_conditional_create_refuses_overwrite),
        cmocka_unit_test(test_multipart_of_a_20mib_file),
        cmocka_unit_test(test_throttling_then_success),
        cmocka_unit_test(test_bad_credentials_are_denied_without_the_secret),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
