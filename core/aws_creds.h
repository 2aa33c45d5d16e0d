/*
 * aws_creds.h - where weir finds AWS credentials, the region and service
 * endpoints: a subset of the AWS SDKs' chains, read from the environment and
 * the shared files on every call (so a refreshed file is picked up).
 *
 * Credentials: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN),
 * else the profile AWS_PROFILE (default "default") in the credentials file
 * (AWS_SHARED_CREDENTIALS_FILE, default ~/.aws/credentials, section
 * [name]), else in the config file (AWS_CONFIG_FILE, default ~/.aws/config,
 * section [profile name] or [default]), else the container credentials
 * endpoint (ECS task roles, EKS Pod Identity) when AWS_CONTAINER_CREDENTIALS_
 * RELATIVE_URI or _FULL_URI is set. A file holding keys must not be
 * accessible by group or others.
 *
 * Region: AWS_REGION, AWS_DEFAULT_REGION, the profile's `region` in the
 * config file.
 *
 * Endpoint of a service id ("S3", "Glue", "bedrock-runtime"):
 * AWS_ENDPOINT_URL_<ID>, AWS_ENDPOINT_URL, the profile's `services` section
 * key, the profile's `endpoint_url`, else https://<prefix>.<region>.amazonaws.com
 * (.amazonaws.com.cn in cn-* regions). AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true
 * skips the overrides.
 *
 * Every value read here that is a secret is registered with weir_redact_add.
 */
#ifndef WEIR_CORE_AWS_CREDS_H
#define WEIR_CORE_AWS_CREDS_H

struct weir_aws_creds {
    char *access_key_id;
    char *secret_access_key;
    char *session_token; /* NULL for long-term keys */
    const char *source;  /* "environment", "credentials file", "config file" */
};

/**
 * Resolves credentials into *out. Returns WEIR_OK; WEIR_EDENIED when no
 * source has them, a source is half filled (a key id without its secret), a
 * file holding keys is readable by others, or AWS_PROFILE names a profile no
 * file has; WEIR_EIO when a file exists but cannot be read; WEIR_ENOMEM.
 * Messages name the variable or file and never a secret.
 */
int weir_aws_creds_load(struct weir_aws_creds *out);

/**
 * Container credentials (aws_creds_container.c): GET
 * http://169.254.170.2$AWS_CONTAINER_CREDENTIALS_RELATIVE_URI, or
 * $AWS_CONTAINER_CREDENTIALS_FULL_URI (https, or http to a loopback or the
 * ECS/EKS link-local address), with `Authorization:` from
 * AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE or AWS_CONTAINER_AUTHORIZATION_TOKEN.
 * Cached per URL until five minutes before their Expiration. WEIR_ENOTFOUND
 * when neither variable is set; WEIR_EDENIED (refused URL, endpoint error or
 * an answer without keys) or the transport's code otherwise.
 */
int weir_aws_creds_container(struct weir_aws_creds *out);

/** Forgets cached container credentials (tests). */
void weir_aws_creds_cache_reset(void);

/** Wipes and frees the strings, zeroes *c; NULL is a no-op. */
void weir_aws_creds_clear(struct weir_aws_creds *c);

/** The configured region as a new string (caller frees), or NULL with the
 *  last error set (WEIR_EINVALID: none configured). */
char *weir_aws_region(void);

/** The endpoint URL of service_id as a new string (caller frees; no trailing
 *  '/'), or NULL with the last error set. region NULL: weir_aws_region(). */
char *weir_aws_endpoint(const char *service_id, const char *region);

#endif
