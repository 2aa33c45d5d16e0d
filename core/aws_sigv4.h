/*
 * aws_sigv4.h - AWS Signature Version 4, as a pure function: a request's
 * parts and a key in, the canonical request, string to sign, signature and
 * Authorization header out. No clock, no I/O, no global state, so the AWS
 * test suite and an independent signer can check it byte for byte.
 *
 * weir signs every AWS request itself rather than with libcurl's
 * CURLOPT_AWS_SIGV4: libcurl 7.88 signs the query verbatim and does not
 * double-encode non-S3 paths.
 */
#ifndef WEIR_CORE_AWS_SIGV4_H
#define WEIR_CORE_AWS_SIGV4_H

#include <stddef.h>

/** SHA-256 of the empty string, the payload hash of a request without body. */
#define WEIR_SIGV4_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define WEIR_SIGV4_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"

/* Flags of struct weir_sigv4_request. */
enum {
    /** Remove "." and ".." segments and collapse "//" (every service but S3). */
    WEIR_SIGV4_NORMALIZE = 1,
    /** UriEncode the path (keeping '/'). Every service but S3 encodes the
     *  already-encoded wire path a second time; S3 signs the wire path as is. */
    WEIR_SIGV4_ENCODE_PATH = 2,
    /** Legacy variant: do not sign the session token (the caller adds it after). */
    WEIR_SIGV4_OMIT_TOKEN = 4,
    /** Presigned URL: the authentication goes into the query (X-Amz-*) and
     *  x-amz-date is not a header. */
    WEIR_SIGV4_PRESIGN = 8
};

/** One header as it will be sent; names in any case, repeated names allowed
 *  (their values are joined with ',' in the order given). */
struct weir_sigv4_header {
    const char *name;
    const char *value;
};

struct weir_sigv4_request {
    const char *method;                      /**< "GET", "POST", ... */
    const char *path;                        /**< path as sent ("" is "/") */
    const char *query;                       /**< query as sent, without '?', or NULL: its pairs are
                                  percent-decoded, then encoded and sorted again */
    const struct weir_sigv4_header *headers; /**< the headers to sign; include host.
                                  x-amz-date and x-amz-security-token are added here */
    size_t n_headers;
    const char *payload_hash; /**< lowercase hex SHA-256 of the body, or UNSIGNED-PAYLOAD */
    const char *access_key_id;
    const char *secret_access_key;
    const char *session_token; /**< NULL or "" for long-term keys */
    const char *region;
    const char *service;  /**< signing name ("s3", "glue", "bedrock") */
    const char *amz_date; /**< "YYYYMMDDTHHMMSSZ" (UTC) */
    long expires;         /**< seconds, for WEIR_SIGV4_PRESIGN */
    unsigned int flags;   /**< WEIR_SIGV4_* */
};

/** Everything the signer computed; strings are owned by the result. */
struct weir_sigv4_result {
    char *canonical_request;
    char *string_to_sign;
    char *canonical_query; /**< send this as the wire query: then wire and signature agree;
                                 with PRESIGN it holds the X-Amz-* pairs and X-Amz-Signature */
    char *signed_headers;  /**< "host;x-amz-date" */
    char *authorization;   /**< the Authorization header value (NULL with PRESIGN) */
    char signature[65];    /**< lowercase hex */
};

/**
 * Signs req into *out (zeroed first). Returns WEIR_OK, WEIR_EINVALID (a
 * required field missing, or a malformed amz_date) or WEIR_ENOMEM, with the
 * last error set. No secret is ever part of a message.
 */
int weir_sigv4_sign(const struct weir_sigv4_request *req, struct weir_sigv4_result *out);

/** Frees the strings of a result and zeroes it; NULL is a no-op. */
void weir_sigv4_result_free(struct weir_sigv4_result *res);

/** Lowercase hex SHA-256 of len bytes (out: 65 bytes). */
void weir_sha256_hex(const void *data, size_t len, char out[65]);

/** Appends UriEncode(s[0..len)) to a new string (caller frees): every byte but
 *  A-Z a-z 0-9 - _ . ~ (and '/' when keep_slash) as %XX, uppercase. */
char *weir_sigv4_uri_encode(const char *s, size_t len, int keep_slash);

#endif
