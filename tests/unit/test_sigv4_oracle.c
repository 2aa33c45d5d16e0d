/* test_sigv4_oracle.c - weir's SigV4 signer against an independent one:
 * N randomized requests (methods, reserved and UTF-8 bytes in paths and
 * queries, repeated and empty query keys, header whitespace, repeated
 * headers, session tokens, S3 vs other services, bodies) are signed here and
 * by botocore (tests/unit/sigv4_botocore.py, python3-botocore); canonical
 * request, string to sign and Authorization must be byte-identical.
 *
 * WEIR_SIGV4_ORACLE_N and WEIR_SIGV4_ORACLE_SEED override the count (500)
 * and the seed; WEIR_PYTHON the interpreter (python3). */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws_sigv4.h"
#include "error.h"

#define DEFAULT_N 500
#define DEFAULT_SEED 0x5eed5167u

static uint64_t rng;

static uint32_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 11);
}

static uint32_t pick(uint32_t n)
{
    return next() % n;
}

static const char *const pieces[] = { "a",
                                      "Z",
                                      "0",
                                      "-",
                                      "_",
                                      ".",
                                      "~",
                                      " ",
                                      "+",
                                      ":",
                                      "@",
                                      "!",
                                      "$",
                                      "'",
                                      "(",
                                      ")",
                                      "*",
                                      ",",
                                      ";",
                                      "=",
                                      "&",
                                      "/",
                                      "%",
                                      "\xc3\xa9",
                                      "\xe1\x88\xb4",
                                      "\xf0\x9f\x98\x80",
                                      "model",
                                      "v1:0",
                                      "x y",
                                      "A+B",
                                      "\"q\"",
                                      "[",
                                      "]" };

/* Appends one random decoded text of up to max pieces. Path pieces leave
 * out '/' (segments are built separately). */
static void random_text(char *out, size_t cap, int max, int for_path)
{
    int n = (int)pick((uint32_t)max + 1);

    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        const char *p = pieces[pick(sizeof(pieces) / sizeof(*pieces))];
        if (for_path && (!strcmp(p, "/"))) {
            continue;
        }
        if (strlen(out) + strlen(p) + 1 < cap) {
            strcat(out, p);
        }
    }
}

/* Wire encoding of a path segment or a query part the way a client might:
 * only what must be encoded (delimiters, '%', space, non-ASCII), with
 * upper- or lowercase hex. The signer must decode or re-encode it right. */
static void wire_encode(const char *s, char *out, size_t cap, const char *must)
{
    size_t o = 0;
    int lower = (int)pick(2);

    for (; *s && o + 4 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c <= 0x20 || c >= 0x7f || strchr(must, c) || c == '%') {
            o += (size_t)snprintf(out + o, cap - o, lower ? "%%%02x" : "%%%02X", c);
        }
        else {
            out[o++] = (char)c;
        }
    }
    out[o] = '\0';
}

static void random_path(char *out, size_t cap, int s3)
{
    int segs = (int)pick(5);
    char text[128], enc[512];

    snprintf(out, cap, "%s", segs ? "" : "/");
    for (int i = 0; i < segs; i++) {
        uint32_t kind = pick(10);
        if (!s3 && kind == 0) {
            snprintf(text, sizeof(text), "%s", pick(2) ? "." : "..");
        }
        else if (kind == 1) {
            text[0] = '\0'; /* "//" */
        }
        else {
            random_text(text, sizeof(text), 4, 1);
        }
        /* S3 keys: the wire form is the signed form, so encode every
         * reserved byte as the S3 rules require. */
        if (s3) {
            char *e = weir_sigv4_uri_encode(text, strlen(text), 0);
            snprintf(enc, sizeof(enc), "%s", e);
            free(e);
        }
        else {
            wire_encode(text, enc, sizeof(enc), "?#[]\"");
        }
        if (strlen(out) + strlen(enc) + 2 < cap) {
            strcat(out, "/");
            strcat(out, enc);
        }
    }
    if (pick(4) == 0 && strlen(out) + 2 < cap) {
        strcat(out, "/");
    }
}

/* Query: decoded pairs for the oracle, a wire string for weir. */
static void random_query(json_t *pairs, char *wire, size_t cap)
{
    int n = (int)pick(6);
    char name[96], value[96], en[320], ev[320];

    wire[0] = '\0';
    for (int i = 0; i < n; i++) {
        if (i > 0 && pick(3) == 0) {
            snprintf(name, sizeof(name), "%s",
                     json_string_value(json_array_get(json_array_get(pairs, 0), 0)));
        }
        else {
            random_text(name, sizeof(name), 3, 0);
            if (!*name) {
                snprintf(name, sizeof(name), "k%d", i);
            }
        }
        random_text(value, sizeof(value), 3, 0);
        json_array_append_new(pairs, json_pack("[ss]", name, value));
        wire_encode(name, en, sizeof(en), "&=+#");
        wire_encode(value, ev, sizeof(ev), "&=+#");
        if (strlen(wire) + strlen(en) + strlen(ev) + 3 < cap) {
            snprintf(wire + strlen(wire), cap - strlen(wire), "%s%s%s%s", i ? "&" : "", en,
                     *ev || pick(2) ? "=" : "", ev);
        }
    }
}

static const char *const header_names[] = { "Content-Type",  "x-amz-target", "X-Amz-Meta-Owner",
                                            "x-custom",      "X-Custom",     "accept",
                                            "If-None-Match", "x-amz-acl",    "Range" };
static const char *const header_values[] = { "application/json",  "  padded  ", "a   b\t\tc",
                                             "\"quoted   text\"", "",           "AWSGlue.GetTable",
                                             "bytes=0-99",        "x,y",        " \t lead" };

static void random_headers(json_t *headers)
{
    int n = (int)pick(5);

    for (int i = 0; i < n; i++) {
        json_array_append_new(
            headers,
            json_pack("[ss]", header_names[pick(sizeof(header_names) / sizeof(*header_names))],
                      header_values[pick(sizeof(header_values) / sizeof(*header_values))]));
    }
}

/* One request as the oracle reads it, plus weir's wire query. */
static json_t *random_request(char *wire_query, size_t cap)
{
    static const char *const methods[] = { "GET", "PUT", "POST", "HEAD", "DELETE" };
    static const char *const services[] = { "s3", "s3", "glue", "athena", "bedrock", "service" };
    const char *service = services[pick(6)];
    int s3 = !strcmp(service, "s3");
    char path[512], body[256], date[17], host[64];
    json_t *query = json_array(), *headers = json_array();

    random_path(path, sizeof(path), s3);
    random_query(query, wire_query, cap);
    random_headers(headers);
    random_text(body, sizeof(body), pick(2) ? 0 : 12, 0);
    snprintf(date, sizeof(date), "20%02u%02u%02uT%02u%02u%02uZ", 15 + pick(12), 1 + pick(12),
             1 + pick(28), pick(24), pick(60), pick(60));
    if (pick(2)) {
        snprintf(host, sizeof(host), "%s.us-west-2.amazonaws.com", service);
    }
    else {
        snprintf(host, sizeof(host), "127.0.0.1:%u", 1024 + pick(60000));
    }
    json_error_t err;
    json_t *r =
        json_pack_ex(&err, 0, "{ss ss ss so so ss ss ss ss ss ss ss?}", "method", methods[pick(5)],
                     "host", host, "path", path, "query", query, "headers", headers, "body", body,
                     "service", service, "region", pick(2) ? "us-east-1" : "eu-central-1", "date",
                     date, "key", "AKIDORACLE", "secret", "s3cr3t/K+EY=oracle", "token",
                     pick(3) == 0 ? "FwoGZXIvYXdzEBYaDH/token+with/slashes==" : NULL);
    if (!r) {
        fail_msg("json_pack: %s", err.text);
    }
    return r;
}

/* weir's signature of req, the way http.c signs (host first, S3 content hash). */
static void weir_sign(const json_t *req, const char *wire_query, struct weir_sigv4_result *res)
{
    const json_t *hs = json_object_get(req, "headers");
    struct weir_sigv4_header h[16];
    size_t n = 0, i;
    const json_t *pair;
    const char *body = json_string_value(json_object_get(req, "body"));
    int s3 = !strcmp(json_string_value(json_object_get(req, "service")), "s3");
    char hash[65];
    struct weir_sigv4_request sr = { 0 };

    weir_sha256_hex(body, strlen(body), hash);
    h[n++] = (struct weir_sigv4_header){ "host", json_string_value(json_object_get(req, "host")) };
    json_array_foreach(hs, i, pair) {
        h[n++] = (struct weir_sigv4_header){ json_string_value(json_array_get(pair, 0)),
                                             json_string_value(json_array_get(pair, 1)) };
    }
    if (s3) {
        h[n++] = (struct weir_sigv4_header){ "x-amz-content-sha256", hash };
    }
    sr = (struct weir_sigv4_request){
        .method = json_string_value(json_object_get(req, "method")),
        .path = json_string_value(json_object_get(req, "path")),
        .query = wire_query,
        .headers = h,
        .n_headers = n,
        .payload_hash = hash,
        .access_key_id = json_string_value(json_object_get(req, "key")),
        .secret_access_key = json_string_value(json_object_get(req, "secret")),
        .session_token = json_string_value(json_object_get(req, "token")),
        .region = json_string_value(json_object_get(req, "region")),
        .service = json_string_value(json_object_get(req, "service")),
        .amz_date = json_string_value(json_object_get(req, "date")),
        .flags = s3 ? 0 : WEIR_SIGV4_NORMALIZE | WEIR_SIGV4_ENCODE_PATH,
    };
    assert_int_equal(weir_sigv4_sign(&sr, res), WEIR_OK);
}

static void compare(size_t i, const json_t *req, const json_t *want,
                    const struct weir_sigv4_result *got)
{
    const char *fields[] = { "canonical_request", "string_to_sign", "authorization" };
    const char *mine[] = { got->canonical_request, got->string_to_sign, got->authorization };

    for (int f = 0; f < 3; f++) {
        const char *w = json_string_value(json_object_get(want, fields[f]));
        if (!w || strcmp(w, mine[f]) != 0) {
            char *text = json_dumps(req, JSON_COMPACT);
            fail_msg("request %zu: %s differs\nrequest: %s\n--- botocore\n%s\n--- weir\n%s", i,
                     fields[f], text, w ? w : "(none)", mine[f]);
        }
    }
}

static long env_long(const char *name, long def)
{
    const char *v = getenv(name);

    return v && *v ? strtol(v, NULL, 0) : def;
}

static void test_against_botocore(void **state)
{
    long n = env_long("WEIR_SIGV4_ORACLE_N", DEFAULT_N);
    const char *python = getenv("WEIR_PYTHON") ? getenv("WEIR_PYTHON") : "python3";
    char *dir = tu_mkdtemp(), in_path[1024], out_path[1024], cmd[4096], wire[1024];
    json_t *reqs = json_array();
    FILE *in, *out;
    char line[65536];
    size_t i = 0;

    rng = (uint64_t)env_long("WEIR_SIGV4_ORACLE_SEED", DEFAULT_SEED) | 1;
    snprintf(in_path, sizeof(in_path), "%s/requests.jsonl", dir);
    snprintf(out_path, sizeof(out_path), "%s/botocore.jsonl", dir);
    in = fopen(in_path, "w");
    assert_non_null(in);
    for (long k = 0; k < n; k++) {
        json_t *r = random_request(wire, sizeof(wire));
        assert_non_null(r);
        json_object_set_new(r, "wire_query", json_string(wire));
        json_dumpf(r, in, JSON_COMPACT);
        fputc('\n', in);
        json_array_append_new(reqs, r);
    }
    fclose(in);
    snprintf(cmd, sizeof(cmd), "%s %s/tests/unit/sigv4_botocore.py < %s > %s", python,
             tu_env("WEIR_SOURCE_DIR"), in_path, out_path);
    if (system(cmd) != 0) {
        fail_msg("the botocore oracle failed: %s (needs python3-botocore)", cmd);
    }
    out = fopen(out_path, "r");
    assert_non_null(out);
    while (fgets(line, sizeof(line), out)) {
        json_t *req = json_array_get(reqs, i), *want = json_loads(line, 0, NULL);
        struct weir_sigv4_result got;
        assert_non_null(want);
        assert_non_null(req);
        weir_sign(req, json_string_value(json_object_get(req, "wire_query")), &got);
        compare(i, req, want, &got);
        weir_sigv4_result_free(&got);
        json_decref(want);
        i++;
    }
    fclose(out);
    assert_int_equal(i, (size_t)n);
    json_decref(reqs);
    tu_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_against_botocore),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
