/* aws_creds.c - AWS credentials, region and endpoints (see aws_creds.h). */
#include "aws_creds.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "error.h"
#include "redact.h"

static const char *env(const char *name)
{
    const char *v = getenv(name);

    return v && *v ? v : NULL;
}

/* AWS_SHARED_CREDENTIALS_FILE / AWS_CONFIG_FILE or ~/.aws/<name>; NULL when
 * neither the variable nor HOME is set. */
static char *shared_file(const char *var, const char *name)
{
    const char *home = env("HOME");
    char *path;

    if (env(var)) {
        return strdup(env(var));
    }
    if (!home) {
        return NULL;
    }
    path = malloc(strlen(home) + strlen(name) + 7);
    if (path) {
        sprintf(path, "%s/.aws/%s", home, name);
    }
    return path;
}

static char *trim(char *s)
{
    char *e;

    while (isspace((unsigned char)*s)) {
        s++;
    }
    e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1])) {
        *--e = '\0';
    }
    return s;
}

/* Splits "key = value" in place; NULL when the line has no '='. */
static char *split_kv(char *line, char **value)
{
    char *eq = strchr(line, '=');

    if (!eq) {
        return NULL;
    }
    *eq = '\0';
    *value = trim(eq + 1);
    return trim(line);
}

struct ini_query {
    const char *section; /* "default", "profile dev", "services local" */
    const char *key;     /* NULL: only ask whether the section exists */
    const char *subkey;  /* for nested blocks ("s3 =" then indented lines) */
};

/* Reads one line of the section body; returns 1 when the query is answered.
 * *block is 0 outside a nested block, 1 inside one, 2 inside the one the
 * query asks about ("s3 =" followed by indented "endpoint_url = ..."). An
 * indented line outside a block is an ordinary key, as in botocore. */
static int ini_line(const struct ini_query *q, char *line, int *block, char **out)
{
    int indented = isspace((unsigned char)line[0]);
    char *value = NULL, *k = split_kv(line, &value);

    if (!k) {
        return 0;
    }
    if (indented && *block) {
        if (*block == 2 && !strcmp(k, q->subkey)) {
            *out = strdup(value);
            return 1;
        }
        return 0;
    }
    *block = *value ? 0 : (q->subkey && !strcmp(k, q->key) ? 2 : 1);
    if (!q->subkey && !strcmp(k, q->key)) {
        *out = strdup(value);
        return 1;
    }
    return 0;
}

/* WEIR_OK with *out (NULL when only the section was asked for),
 * WEIR_ENOTFOUND (no file, section or key), WEIR_EIO or WEIR_ENOMEM. */
static int ini_get(const char *path, const struct ini_query *q, char **out)
{
    char line[4096];
    int in_section = 0, in_block = 0, rc = WEIR_ENOTFOUND;
    FILE *f = fopen(path, "r");

    *out = NULL;
    if (!f) {
        return errno == ENOENT ? WEIR_ENOTFOUND
                               : weir_error_set(WEIR_EIO, "cannot read AWS file '%s': %s", path,
                                                strerror(errno));
    }
    while (fgets(line, sizeof(line), f)) {
        char *t = trim(line);
        if (!*t || *t == '#' || *t == ';') {
            continue;
        }
        if (*t == '[') {
            char *end = strchr(t, ']');
            if (end) {
                *end = '\0';
            }
            in_section = !strcmp(trim(t + 1), q->section);
            in_block = 0;
            if (in_section && !q->key) {
                rc = WEIR_OK;
                break;
            }
            continue;
        }
        /* trim() cut the leading blanks of t, but line still has them. */
        if (in_section && ini_line(q, line, &in_block, out)) {
            rc = *out ? WEIR_OK : WEIR_ENOMEM;
            break;
        }
    }
    fclose(f);
    return rc;
}

static const char *profile_name(void)
{
    return env("AWS_PROFILE") ? env("AWS_PROFILE") : "default";
}

/* Section name of the profile in the config file. */
static void config_section(char *buf, size_t n)
{
    const char *p = profile_name();

    if (!strcmp(p, "default")) {
        snprintf(buf, n, "default");
    }
    else {
        snprintf(buf, n, "profile %s", p);
    }
}

/* Refuses a file holding keys that others can read, as ssh and libpq do. */
static int check_private(const char *path)
{
    struct stat st;

    if (stat(path, &st) != 0) {
        return errno == ENOENT ? WEIR_ENOTFOUND
                               : weir_error_set(WEIR_EIO, "cannot stat AWS file '%s': %s", path,
                                                strerror(errno));
    }
    if (st.st_mode & 077) {
        return weir_error_set(WEIR_EDENIED,
                              "AWS credentials file '%s' is accessible by group or others "
                              "(mode %04o); run `chmod 600 %s`",
                              path, (unsigned)(st.st_mode & 07777), path);
    }
    return WEIR_OK;
}

static int from_env(struct weir_aws_creds *c)
{
    const char *id = env("AWS_ACCESS_KEY_ID"), *secret = env("AWS_SECRET_ACCESS_KEY");

    if (!id && !secret) {
        return WEIR_ENOTFOUND;
    }
    if (!id || !secret) {
        return weir_error_set(WEIR_EDENIED, "%s is set but %s is not; set both or neither",
                              id ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
                              id ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
    }
    c->access_key_id = strdup(id);
    c->secret_access_key = strdup(secret);
    c->session_token = env("AWS_SESSION_TOKEN") ? strdup(env("AWS_SESSION_TOKEN")) : NULL;
    c->source = "environment";
    return WEIR_OK;
}

/* Keys of one profile section of one file; WEIR_ENOTFOUND without a key id. */
static int from_file(const char *path, const char *section, const char *source,
                     struct weir_aws_creds *c)
{
    struct ini_query q = { section, "aws_access_key_id", NULL };
    int rc = ini_get(path, &q, &c->access_key_id);

    if (rc < 0) {
        return rc;
    }
    if ((rc = check_private(path)) < 0) {
        return rc;
    }
    q.key = "aws_secret_access_key";
    if ((rc = ini_get(path, &q, &c->secret_access_key)) < 0) {
        return rc == WEIR_ENOTFOUND
                   ? weir_error_set(WEIR_EDENIED,
                                    "AWS file '%s', [%s]: aws_access_key_id without "
                                    "aws_secret_access_key; add it",
                                    path, section)
                   : rc;
    }
    q.key = "aws_session_token";
    rc = ini_get(path, &q, &c->session_token);
    c->source = source;
    return rc == WEIR_ENOTFOUND ? WEIR_OK : rc;
}

static int section_exists(const char *path, const char *section)
{
    struct ini_query q = { section, NULL, NULL };
    char *unused = NULL;

    return path && ini_get(path, &q, &unused) == WEIR_OK;
}

static int from_files(struct weir_aws_creds *c)
{
    char *cred = shared_file("AWS_SHARED_CREDENTIALS_FILE", "credentials");
    char *conf = shared_file("AWS_CONFIG_FILE", "config");
    char section[512];
    int rc = WEIR_ENOTFOUND;

    config_section(section, sizeof(section));
    if (cred && (rc = check_private(cred)) != WEIR_ENOTFOUND) {
        if (rc == WEIR_OK) {
            rc = from_file(cred, profile_name(), "credentials file", c);
        }
        if (rc != WEIR_ENOTFOUND) {
            goto done;
        }
    }
    if (conf) {
        rc = from_file(conf, section, "config file", c);
    }
    if (rc == WEIR_ENOTFOUND && env("AWS_PROFILE") && !section_exists(cred, profile_name()) &&
        !section_exists(conf, section)) {
        rc = weir_error_set(WEIR_EDENIED,
                            "AWS_PROFILE '%s' is not a profile of '%s' or '%s'; "
                            "check the name",
                            profile_name(), cred ? cred : "(no credentials file)",
                            conf ? conf : "(no config file)");
    }
done:
    free(cred);
    free(conf);
    return rc;
}

int weir_aws_creds_load(struct weir_aws_creds *out)
{
    int rc;

    memset(out, 0, sizeof(*out));
    rc = from_env(out);
    if (rc == WEIR_ENOTFOUND) {
        weir_aws_creds_clear(out);
        rc = from_files(out);
    }
    if (rc == WEIR_ENOTFOUND) {
        rc = weir_aws_creds_container(out);
    }
    if (rc == WEIR_ENOTFOUND) {
        rc = weir_error_set(WEIR_EDENIED,
                            "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
                            "or add profile '%s' to ~/.aws/credentials (AWS_PROFILE picks "
                            "another)",
                            profile_name());
    }
    if (rc == WEIR_OK && (!out->access_key_id || !out->secret_access_key)) {
        rc = weir_error_set(WEIR_ENOMEM, "out of memory reading AWS credentials");
    }
    if (rc < 0) {
        weir_aws_creds_clear(out);
        return rc;
    }
    weir_redact_add(out->secret_access_key);
    weir_redact_add(out->session_token);
    return WEIR_OK;
}

static void wipe(char **s)
{
    if (*s) {
        explicit_bzero(*s, strlen(*s));
        free(*s);
        *s = NULL;
    }
}

void weir_aws_creds_clear(struct weir_aws_creds *c)
{
    if (!c) {
        return;
    }
    wipe(&c->access_key_id);
    wipe(&c->secret_access_key);
    wipe(&c->session_token);
    c->source = NULL;
}

/* A key of the profile's section in the config file, or NULL. */
static char *config_value(const char *key, const char *subkey, const char *section_override)
{
    char *conf = shared_file("AWS_CONFIG_FILE", "config");
    char section[512];
    struct ini_query q = { section, key, subkey };
    char *v = NULL;

    if (section_override) {
        snprintf(section, sizeof(section), "%s", section_override);
    }
    else {
        config_section(section, sizeof(section));
    }
    if (conf) {
        ini_get(conf, &q, &v);
    }
    free(conf);
    return v;
}

char *weir_aws_region(void)
{
    char *r;

    if (env("AWS_REGION")) {
        return strdup(env("AWS_REGION"));
    }
    if (env("AWS_DEFAULT_REGION")) {
        return strdup(env("AWS_DEFAULT_REGION"));
    }
    r = config_value("region", NULL, NULL);
    if (r && *r) {
        return r;
    }
    free(r);
    weir_error_set(WEIR_EINVALID,
                   "no AWS region configured: set AWS_REGION, or `region` in "
                   "profile '%s' of ~/.aws/config",
                   profile_name());
    return NULL;
}

/* "Bedrock Runtime" -> "BEDROCK_RUNTIME" (env) / "bedrock_runtime" (config)
 * / "bedrock-runtime" (host prefix). */
static void service_key(const char *id, char *out, size_t n, int upper, char sep)
{
    size_t i = 0;

    for (; *id && i + 1 < n; id++, i++) {
        unsigned char c = (unsigned char)*id;
        out[i] = c == ' ' || c == '-' || c == '_' ? sep : (char)(upper ? toupper(c) : tolower(c));
    }
    out[i] = '\0';
}

static char *strip_slash(char *url)
{
    size_t n = url ? strlen(url) : 0;

    while (n > 0 && url[n - 1] == '/') {
        url[--n] = '\0';
    }
    return url;
}

/* The overrides, in the SDKs' order; NULL when none applies. */
static char *endpoint_override(const char *service_id)
{
    char key[128], var[160], *services, *url;

    if (env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS") &&
        !strcasecmp(env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"), "true")) {
        return NULL;
    }
    service_key(service_id, key, sizeof(key), 1, '_');
    snprintf(var, sizeof(var), "AWS_ENDPOINT_URL_%s", key);
    if (env(var)) {
        return strdup(env(var));
    }
    if (env("AWS_ENDPOINT_URL")) {
        return strdup(env("AWS_ENDPOINT_URL"));
    }
    services = config_value("services", NULL, NULL);
    if (services && *services) {
        snprintf(var, sizeof(var), "services %s", services);
        service_key(service_id, key, sizeof(key), 0, '_');
        url = config_value(key, "endpoint_url", var);
        if (url) {
            free(services);
            return url;
        }
    }
    free(services);
    return config_value("endpoint_url", NULL, NULL);
}

char *weir_aws_endpoint(const char *service_id, const char *region)
{
    char prefix[128], *own = NULL, *url;

    if (!service_id || !*service_id) {
        weir_error_set(WEIR_EINVALID, "aws_endpoint: a service id is required (\"S3\", \"Glue\")");
        return NULL;
    }
    url = endpoint_override(service_id);
    if (url) {
        return strip_slash(url);
    }
    if (!region && !(region = own = weir_aws_region())) {
        return NULL;
    }
    service_key(service_id, prefix, sizeof(prefix), 0, '-');
    url = malloc(strlen(prefix) + strlen(region) + 40);
    if (url) {
        sprintf(url, "https://%s.%s.amazonaws.com%s", prefix, region,
                strncmp(region, "cn-", 3) ? "" : ".cn");
    }
    else {
        weir_error_set(WEIR_ENOMEM, "out of memory");
    }
    free(own);
    return url;
}
