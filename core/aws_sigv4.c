/* aws_sigv4.c - AWS Signature Version 4 (see aws_sigv4.h). */
#include "aws_sigv4.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "error.h"

/* A growing string; `oom` sticks once an allocation failed so callers check
 * it once at the end instead of after every append. */
struct sb {
    char *p;
    size_t len;
    size_t cap;
    int oom;
};

static void sb_add(struct sb *b, const char *s, size_t n)
{
    if (b->oom) {
        return;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        char *p;
        while (cap < b->len + n + 1) {
            cap *= 2;
        }
        p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_puts(struct sb *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

/* Returns the string (never NULL unless out of memory) and empties b. */
static char *sb_take(struct sb *b)
{
    char *p;

    if (b->oom) {
        free(b->p);
        memset(b, 0, sizeof(*b));
        return NULL;
    }
    p = b->p ? b->p : strdup("");
    memset(b, 0, sizeof(*b));
    return p;
}

static void hex(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

void weir_sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char md[SHA256_DIGEST_LENGTH];

    SHA256(data, len, md);
    hex(md, sizeof(md), out);
}

static void hmac(const unsigned char *key, size_t klen, const char *msg, unsigned char out[32])
{
    unsigned int olen = 32;

    HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg, strlen(msg), out, &olen);
}

static int unreserved(unsigned char c)
{
    return isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

static void uri_encode(struct sb *b, const char *s, size_t len, int keep_slash)
{
    static const char digits[] = "0123456789ABCDEF";

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (unreserved(c) || (keep_slash && c == '/')) {
            sb_add(b, (const char *)&c, 1);
        }
        else {
            char e[3] = { '%', digits[c >> 4], digits[c & 15] };
            sb_add(b, e, 3);
        }
    }
}

char *weir_sigv4_uri_encode(const char *s, size_t len, int keep_slash)
{
    struct sb b = { 0 };

    uri_encode(&b, s, len, keep_slash);
    return sb_take(&b);
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decodes s[0..len) into b; a '%' not followed by two hex digits
 * stays literal ('+' too: AWS query values are not form-encoded). */
static void pct_decode(struct sb *b, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '%' && i + 2 < len && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            char c = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            sb_add(b, &c, 1);
            i += 2;
        }
        else {
            sb_add(b, s + i, 1);
        }
    }
}

/* RFC 3986 remove_dot_segments plus collapsing of empty segments, as AWS
 * services (other than S3) normalise paths. */
static void normalize_path(struct sb *b, const char *path)
{
    size_t len = strlen(path), n = 0;
    const char **seg = calloc(len + 1, sizeof(*seg));
    size_t *seglen = calloc(len + 1, sizeof(*seglen));
    const char *p = path;

    if (!seg || !seglen) {
        b->oom = 1;
        goto done;
    }
    while (*p) {
        const char *e = strchr(p, '/');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l == 2 && !strncmp(p, "..", 2)) {
            n -= n > 0;
        }
        else if (l > 0 && !(l == 1 && *p == '.')) {
            seg[n] = p;
            seglen[n++] = l;
        }
        p += l + (e != NULL);
    }
    if (path[0] == '/') {
        sb_add(b, "/", 1);
    }
    for (size_t i = 0; i < n; i++) {
        sb_add(b, seg[i], seglen[i]);
        if (i + 1 < n) {
            sb_add(b, "/", 1);
        }
    }
    if (len && path[len - 1] == '/' && n > 0) {
        sb_add(b, "/", 1);
    }
done:
    free(seg);
    free(seglen);
}

static char *canonical_uri(const struct weir_sigv4_request *req)
{
    struct sb tmp = { 0 }, out = { 0 };
    const char *path = req->path && *req->path ? req->path : "/";

    if (req->flags & WEIR_SIGV4_NORMALIZE) {
        normalize_path(&tmp, path);
        path = tmp.p ? tmp.p : "/";
    }
    if (req->flags & WEIR_SIGV4_ENCODE_PATH) {
        uri_encode(&out, path, strlen(path), 1);
    }
    else {
        sb_puts(&out, path);
    }
    if (tmp.oom) {
        out.oom = 1;
    }
    free(tmp.p);
    return sb_take(&out);
}

struct pair {
    char *text; /* "name=value", encoded */
    size_t name_len;
};

static int pair_cmp(const void *a, const void *b)
{
    const struct pair *x = a, *y = b;
    size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
    int c = memcmp(x->text, y->text, n);

    if (c || x->name_len != y->name_len) {
        return c ? c : (x->name_len < y->name_len ? -1 : 1);
    }
    return strcmp(x->text + x->name_len + 1, y->text + y->name_len + 1);
}

/* Encodes one decoded-or-raw pair into "name=value". */
static int add_pair(struct pair *v, size_t *n, const char *name, size_t nlen, const char *val,
                    size_t vlen, int decode)
{
    struct sb raw = { 0 }, out = { 0 };

    if (decode) {
        pct_decode(&raw, name, nlen);
        uri_encode(&out, raw.p ? raw.p : "", raw.len, 0);
        raw.len = 0;
        sb_add(&out, "=", 1);
        pct_decode(&raw, val, vlen);
        uri_encode(&out, raw.p ? raw.p : "", raw.len, 0);
    }
    else {
        uri_encode(&out, name, nlen, 0);
        sb_add(&out, "=", 1);
        uri_encode(&out, val, vlen, 0);
    }
    free(raw.p);
    if (raw.oom || !(v[*n].text = sb_take(&out))) {
        return WEIR_ENOMEM;
    }
    /* An encoded name holds no '=' (it would be %3D). */
    v[*n].name_len = (size_t)(strchr(v[*n].text, '=') - v[*n].text);
    (*n)++;
    return WEIR_OK;
}

static size_t count_char(const char *s, char c)
{
    size_t n = 0;

    for (; s && *s; s++) {
        n += *s == c;
    }
    return n;
}

static int split_query(const char *q, struct pair *v, size_t *n)
{
    while (q && *q) {
        const char *amp = strchr(q, '&');
        size_t len = amp ? (size_t)(amp - q) : strlen(q);
        const char *eq = memchr(q, '=', len);
        size_t nlen = eq ? (size_t)(eq - q) : len;
        if (len > 0 && add_pair(v, n, q, nlen, eq ? eq + 1 : "", eq ? len - nlen - 1 : 0, 1)) {
            return WEIR_ENOMEM;
        }
        q += len + (amp != NULL);
    }
    return WEIR_OK;
}

/* The presign parameters go into the canonical query like any other pair. */
static int presign_pairs(const struct weir_sigv4_request *req, const char *scope,
                         const char *signed_headers, struct pair *v, size_t *n)
{
    char cred[512], expires[32];
    int rc = WEIR_OK;

    snprintf(cred, sizeof(cred), "%s/%s", req->access_key_id, scope);
    snprintf(expires, sizeof(expires), "%ld", req->expires > 0 ? req->expires : 3600);
#define ADD(k, val) (rc = rc ? rc : add_pair(v, n, k, strlen(k), val, strlen(val), 0))
    ADD("X-Amz-Algorithm", "AWS4-HMAC-SHA256");
    ADD("X-Amz-Credential", cred);
    ADD("X-Amz-Date", req->amz_date);
    ADD("X-Amz-Expires", expires);
    if (req->session_token && *req->session_token && !(req->flags & WEIR_SIGV4_OMIT_TOKEN)) {
        ADD("X-Amz-Security-Token", req->session_token);
    }
    ADD("X-Amz-SignedHeaders", signed_headers);
#undef ADD
    return rc;
}

static char *canonical_query(const struct weir_sigv4_request *req, const char *scope,
                             const char *signed_headers)
{
    size_t cap = count_char(req->query, '&') + 8, n = 0;
    struct pair *v = calloc(cap, sizeof(*v));
    struct sb out = { 0 };
    int rc;

    if (!v) {
        return NULL;
    }
    rc = split_query(req->query, v, &n);
    if (!rc && (req->flags & WEIR_SIGV4_PRESIGN)) {
        rc = presign_pairs(req, scope, signed_headers, v, &n);
    }
    if (rc) {
        out.oom = 1;
    }
    qsort(v, n, sizeof(*v), pair_cmp);
    for (size_t i = 0; i < n; i++) {
        if (i) {
            sb_add(&out, "&", 1);
        }
        sb_puts(&out, v[i].text);
        free(v[i].text);
    }
    free(v);
    return sb_take(&out);
}

struct hdr {
    char *name; /* lowercase */
    const char *value;
    size_t order;
};

static int hdr_cmp(const void *a, const void *b)
{
    const struct hdr *x = a, *y = b;
    int c = strcmp(x->name, y->name);

    return c ? c : (x->order < y->order ? -1 : x->order > y->order);
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Trims the value and collapses inner runs of whitespace (folded lines too). */
static void add_trimmed(struct sb *b, const char *v)
{
    int pending = 0;

    while (is_space(*v)) {
        v++;
    }
    for (; *v; v++) {
        if (is_space(*v)) {
            pending = 1;
            continue;
        }
        if (pending) {
            sb_add(b, " ", 1);
            pending = 0;
        }
        sb_add(b, v, 1);
    }
}

static char *lower_dup(const char *s)
{
    char *d = strdup(s);

    for (char *p = d; p && *p; p++) {
        *p = (char)tolower((unsigned char)*p);
    }
    return d;
}

/* Collects the caller's headers plus the ones SigV4 adds, sorted by name
 * with repeated names kept in arrival order. */
static struct hdr *collect_headers(const struct weir_sigv4_request *req, size_t *n_out)
{
    struct hdr *h = calloc(req->n_headers + 2, sizeof(*h));
    size_t n = 0;
    int ok = h != NULL;

    for (size_t i = 0; ok && i < req->n_headers; i++, n++) {
        h[n] = (struct hdr){ lower_dup(req->headers[i].name), req->headers[i].value, n };
        ok = h[n].name != NULL;
    }
    if (ok && !(req->flags & WEIR_SIGV4_PRESIGN)) {
        h[n] = (struct hdr){ strdup("x-amz-date"), req->amz_date, n };
        ok = h[n++].name != NULL;
        if (ok && req->session_token && *req->session_token &&
            !(req->flags & WEIR_SIGV4_OMIT_TOKEN)) {
            h[n] = (struct hdr){ strdup("x-amz-security-token"), req->session_token, n };
            ok = h[n++].name != NULL;
        }
    }
    if (!ok) {
        for (size_t i = 0; h && i < n; i++) {
            free(h[i].name);
        }
        free(h);
        return NULL;
    }
    qsort(h, n, sizeof(*h), hdr_cmp);
    *n_out = n;
    return h;
}

/* Fills canonical headers ("name:value\n" each) and signed headers. */
static int canonical_headers(const struct weir_sigv4_request *req, struct sb *canon,
                             struct sb *names)
{
    size_t n = 0;
    struct hdr *h = collect_headers(req, &n);

    if (!h) {
        return WEIR_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        int same = i > 0 && !strcmp(h[i].name, h[i - 1].name);
        if (same) {
            sb_add(canon, ",", 1);
        }
        else {
            if (i > 0) {
                sb_add(canon, "\n", 1);
                sb_add(names, ";", 1);
            }
            sb_puts(canon, h[i].name);
            sb_add(canon, ":", 1);
            sb_puts(names, h[i].name);
        }
        add_trimmed(canon, h[i].value ? h[i].value : "");
    }
    if (n > 0) {
        sb_add(canon, "\n", 1);
    }
    for (size_t i = 0; i < n; i++) {
        free(h[i].name);
    }
    free(h);
    return canon->oom || names->oom ? WEIR_ENOMEM : WEIR_OK;
}

static int check_request(const struct weir_sigv4_request *req)
{
    const char *d = req->amz_date;

    if (!req->method || !req->access_key_id || !req->secret_access_key || !req->region ||
        !req->service || !req->payload_hash || !d) {
        return weir_error_set(WEIR_EINVALID, "sigv4: method, credentials, region, service, "
                                             "payload hash and date are required");
    }
    if (strlen(d) != 16 || d[8] != 'T' || d[15] != 'Z') {
        return weir_error_set(WEIR_EINVALID, "sigv4: date '%s' is not YYYYMMDDTHHMMSSZ", d);
    }
    return WEIR_OK;
}

static void signing_key(const struct weir_sigv4_request *req, unsigned char key[32])
{
    char date[9];
    size_t slen = strlen(req->secret_access_key);
    unsigned char *k0 = malloc(slen + 5);

    memcpy(date, req->amz_date, 8);
    date[8] = '\0';
    if (!k0) {
        memset(key, 0, 32);
        return;
    }
    memcpy(k0, "AWS4", 4);
    memcpy(k0 + 4, req->secret_access_key, slen + 1);
    hmac(k0, slen + 4, date, key);
    OPENSSL_cleanse(k0, slen + 4);
    free(k0);
    hmac(key, 32, req->region, key);
    hmac(key, 32, req->service, key);
    hmac(key, 32, "aws4_request", key);
}

/* The part that depends on the canonical request: string to sign, signature. */
static int finish(const struct weir_sigv4_request *req, const char *scope,
                  struct weir_sigv4_result *out)
{
    struct sb sts = { 0 }, auth = { 0 };
    char crhash[65];
    unsigned char key[32], sig[32];

    weir_sha256_hex(out->canonical_request, strlen(out->canonical_request), crhash);
    sb_puts(&sts, "AWS4-HMAC-SHA256\n");
    sb_puts(&sts, req->amz_date);
    sb_add(&sts, "\n", 1);
    sb_puts(&sts, scope);
    sb_add(&sts, "\n", 1);
    sb_puts(&sts, crhash);
    if (!(out->string_to_sign = sb_take(&sts))) {
        return WEIR_ENOMEM;
    }
    signing_key(req, key);
    hmac(key, sizeof(key), out->string_to_sign, sig);
    OPENSSL_cleanse(key, sizeof(key));
    hex(sig, sizeof(sig), out->signature);
    if (req->flags & WEIR_SIGV4_PRESIGN) {
        sb_puts(&auth, out->canonical_query);
        sb_puts(&auth, *out->canonical_query ? "&X-Amz-Signature=" : "X-Amz-Signature=");
        sb_puts(&auth, out->signature);
        free(out->canonical_query);
        out->canonical_query = sb_take(&auth);
        return out->canonical_query ? WEIR_OK : WEIR_ENOMEM;
    }
    sb_puts(&auth, "AWS4-HMAC-SHA256 Credential=");
    sb_puts(&auth, req->access_key_id);
    sb_add(&auth, "/", 1);
    sb_puts(&auth, scope);
    sb_puts(&auth, ", SignedHeaders=");
    sb_puts(&auth, out->signed_headers);
    sb_puts(&auth, ", Signature=");
    sb_puts(&auth, out->signature);
    out->authorization = sb_take(&auth);
    return out->authorization ? WEIR_OK : WEIR_ENOMEM;
}

int weir_sigv4_sign(const struct weir_sigv4_request *req, struct weir_sigv4_result *out)
{
    struct sb canon = { 0 }, names = { 0 }, cr = { 0 };
    char scope[256];
    char *uri = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    if ((rc = check_request(req)) < 0) {
        return rc;
    }
    snprintf(scope, sizeof(scope), "%.8s/%s/%s/aws4_request", req->amz_date, req->region,
             req->service);
    if ((rc = canonical_headers(req, &canon, &names)) < 0) {
        goto done;
    }
    uri = canonical_uri(req);
    out->signed_headers = sb_take(&names);
    out->canonical_query =
        out->signed_headers ? canonical_query(req, scope, out->signed_headers) : NULL;
    if (!uri || !out->canonical_query) {
        rc = WEIR_ENOMEM;
        goto done;
    }
    sb_puts(&cr, req->method);
    sb_add(&cr, "\n", 1);
    sb_puts(&cr, uri);
    sb_add(&cr, "\n", 1);
    sb_puts(&cr, out->canonical_query);
    sb_add(&cr, "\n", 1);
    sb_puts(&cr, canon.p ? canon.p : "");
    sb_add(&cr, "\n", 1);
    sb_puts(&cr, out->signed_headers);
    sb_add(&cr, "\n", 1);
    sb_puts(&cr, req->payload_hash);
    if (!(out->canonical_request = sb_take(&cr))) {
        rc = WEIR_ENOMEM;
        goto done;
    }
    rc = finish(req, scope, out);
done:
    free(uri);
    free(canon.p);
    if (rc < 0) {
        weir_sigv4_result_free(out);
        if (rc == WEIR_ENOMEM) {
            weir_error_set(rc, "sigv4: out of memory");
        }
    }
    return rc;
}

void weir_sigv4_result_free(struct weir_sigv4_result *res)
{
    if (!res) {
        return;
    }
    free(res->canonical_request);
    free(res->string_to_sign);
    free(res->canonical_query);
    free(res->signed_headers);
    free(res->authorization);
    memset(res, 0, sizeof(*res));
}
