/*
 * preload.c - contract.preload: enforce a contract's row rules on an
 * incoming CSV / JSON Lines batch before it is loaded (DESIGN §7).
 *
 * Rows stream through the lake reader (bounded memory whatever the size);
 * the rules run as a compiled predicate program (predicate.c). Each record
 * goes to exactly one of two files under the store root:
 *   preload/<table>/<run-id>/valid.<csv|jsonl>     rows that broke no
 *       error-severity rule, byte-identical to their source text (CSV: the
 *       first file's header line first; a last record without a line break
 *       gets one)
 *   quarantine/<table>/<run-id>/rejected.jsonl     one JSON object per
 *       rejected record: {line, file, rule_name: [every failed rule],
 *       error_reason, row: {column: value}} and, for records the reader
 *       could not parse (rule "malformed"), row null and raw: the source text
 * Warn-severity rules are counted (per_rule, warned_rows) but do not reject.
 *
 * Accounting: input_rows is what the reader delivered (rows + bad records it
 * reported); a second pass over the same bytes (rawscan.c) counts records on
 * its own; valid_rows and quarantined_rows count what was written. The three
 * must agree, or the step fails as an internal error. Both files are written
 * to temporary names and renamed into place at the end (atomic), and the
 * max_quarantine_pct threshold is applied after that, so a failed step still
 * leaves the evidence.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "contract.h"
#include "predicate.h"
#include "preload_int.h"
#include "rawscan.h"

static const struct weir_param_desc preload_params[] = {
    { "contract", WEIR_PARAM_OBJECT, 0, NULL,
      "the data_quality object, or {data_quality: ...}; or give contract_uri" },
    { "contract_uri", WEIR_PARAM_STRING, 0, NULL,
      "store uri of the contract JSON, e.g. contracts/analytics_db.loan_repayment_fact.json" },
    { "input", WEIR_PARAM_STRING, 1, NULL,
      "incoming CSV / JSON Lines file, or a directory of them (relative to the project; "
      "s3:// maps under store_root)" },
    { "table", WEIR_PARAM_STRING, 0, NULL,
      "db.table whose catalog definition gives format, delimiter, header, null tokens and "
      "columns; default: a CSV with a header line (or JSON Lines by extension)" },
    { "rules", WEIR_PARAM_ARRAY, 0, NULL, "names of the rules to apply; default: every row rule" },
    { "max_quarantine_pct", WEIR_PARAM_NUMBER, 0, "5",
      "fail the step when more than this percentage of input rows is quarantined" },
    { "delimiter", WEIR_PARAM_STRING, 0, "\",\"", "CSV separator when there is no table" },
    { "catalog_dir", WEIR_PARAM_STRING, 0, "\"catalog\"", "catalog directory (with table)" },
    { "store_root", WEIR_PARAM_STRING, 0, "\"lake\"",
      "store root directory the outputs are written under (relative to the project)" },
    { NULL, WEIR_PARAM_ANY, 0, NULL, NULL },
};

/* ---- small helpers ------------------------------------------------------- */

char *preload_printf(const char *fmt, ...)
{
    va_list ap;
    char *p;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || (p = contract_host->malloc((size_t)n + 1)) == NULL) {
        return NULL;
    }
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

static const char *ctx_str(weir_ctx *ctx, const char *key)
{
    return ctx ? contract_host->ctx_get(ctx, key) : NULL;
}

/* A path as given: absolute, s3://bucket/key under the store root, or
 * relative to the project. */
char *preload_resolve(const char *project, const char *store_root, const char *path)
{
    if (path[0] == '/') {
        return preload_printf("%s", path);
    }
    if (!strncmp(path, "s3://", 5)) {
        return preload_printf("%s/%s", store_root, path + 5);
    }
    return preload_printf("%s/%s", project, path);
}

/* Keeps names safe as one path component. */
static void sanitize(char *s)
{
    for (; *s; s++) {
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '.' || *s == '_' || *s == '-')) {
            *s = '_';
        }
    }
}

static int mkdirs(char *path)
{
    char *p;

    for (p = path + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(path, 0777) < 0 && errno != EEXIST) {
                int e = errno;

                *p = '/';
                return contract_host->error_set(WEIR_EIO, "mkdir %s: %s", path, strerror(e));
            }
            *p = '/';
        }
    }
    if (mkdir(path, 0777) < 0 && errno != EEXIST) {
        return contract_host->error_set(WEIR_EIO, "mkdir %s: %s", path, strerror(errno));
    }
    return WEIR_OK;
}

/* ---- outputs ------------------------------------------------------------- */

static int out_open(struct preload_out *o, const char *dir, const char *name)
{
    char *d = preload_printf("%s", dir);
    int rc;

    if (d == NULL) {
        return contract_host->error_set(WEIR_ENOMEM, "out of memory");
    }
    rc = mkdirs(d);
    contract_host->free(d);
    if (rc < 0) {
        return rc;
    }
    o->path = preload_printf("%s/%s", dir, name);
    o->tmp = preload_printf("%s/.%s.tmp.%ld", dir, name, (long)getpid());
    if (o->path == NULL || o->tmp == NULL) {
        return contract_host->error_set(WEIR_ENOMEM, "out of memory");
    }
    if ((o->f = fopen(o->tmp, "wb")) == NULL) {
        return contract_host->error_set(WEIR_EIO, "%s: cannot create: %s", o->tmp, strerror(errno));
    }
    /* big writes: the valid file is most of the input */
    setvbuf(o->f, NULL, _IOFBF, 1 << 20);
    return WEIR_OK;
}

/* Flushes, syncs and renames into place. */
static int out_commit(struct preload_out *o)
{
    int bad = fflush(o->f) != 0 || fsync(fileno(o->f)) != 0;

    bad |= fclose(o->f) != 0;
    o->f = NULL;
    if (bad || rename(o->tmp, o->path) != 0) {
        return contract_host->error_set(WEIR_EIO, "%s: cannot write: %s", o->path, strerror(errno));
    }
    return WEIR_OK;
}

static void out_discard(struct preload_out *o)
{
    if (o->f != NULL) {
        fclose(o->f);
        o->f = NULL;
        unlink(o->tmp);
    }
    contract_host->free(o->path);
    contract_host->free(o->tmp);
}

/* ---- the run ------------------------------------------------------------- */

static void run_free(struct preload_run *st)
{
    predicate_free(st->pred);
    rawscan_close(st->raw);
    out_discard(&st->valid);
    out_discard(&st->quar);
    preload_table_free(st->table, st->own_table);
    preload_files_free(st->files, st->nfiles);
    contract_free(st->c);
    contract_host->free(st->failed);
    contract_host->free(st->counts);
    contract_host->free(st->project);
    contract_host->free(st->store_root);
    contract_host->free(st->table_name);
    contract_host->free(st->valid_key);
    contract_host->free(st->quar_key);
}

/* The contract from `contract` or from the store at `contract_uri`. */
static int load_contract(struct preload_run *st, const json_t *input, weir_ctx *ctx)
{
    const json_t *given = json_object_get(input, "contract");
    const char *uri = json_string_value(json_object_get(input, "contract_uri"));
    json_t *fetched = NULL, *errors = NULL, *schema;
    const json_t *dq;
    int rc;

    if (given == NULL && uri == NULL) {
        return contract_host->error_set(WEIR_EINVALID, "contract.preload: give 'contract' (the "
                                                       "data_quality object) or 'contract_uri'");
    }
    if (given == NULL) {
        json_t *req =
            json_pack("{s:s, s:s, s:s}", "uri", uri, "as", "json", "root", st->store_root);

        rc = req ? contract_host->service_call(ctx, "store", "get", req, &fetched) : WEIR_ENOMEM;
        json_decref(req);
        if (rc < 0) {
            return contract_host->error_set(rc, "contract.preload: reading contract_uri %s: %s",
                                            uri, contract_host->error_last());
        }
        given = json_object_get(fetched, "value");
    }
    dq = json_object_get(given, "data_quality") ? json_object_get(given, "data_quality") : given;
    schema = preload_table_schema(st->table);
    rc = contract_parse(st->from_catalog ? st->table_name : NULL, dq, schema, &st->c, &errors);
    if (rc == WEIR_EINVALID) {
        char *text = json_dumps(errors, JSON_COMPACT);

        rc = contract_host->error_set(WEIR_EINVALID,
                                      "contract.preload: the contract is invalid: "
                                      "%s",
                                      text ? text : "(out of memory)");
        free(text);
    }
    json_decref(schema);
    json_decref(errors);
    json_decref(fetched);
    return rc;
}

static int open_outputs(struct preload_run *st, const char *run_id)
{
    char *dir;
    char *rid = preload_printf("%s", run_id ? run_id : "run");
    int rc;

    if (rid == NULL) {
        return contract_host->error_set(WEIR_ENOMEM, "out of memory");
    }
    sanitize(rid);
    st->valid_key = preload_printf("preload/%s/%s/valid.%s", st->table_name, rid,
                                   st->table->format == LAKE_JSONL ? "jsonl" : "csv");
    st->quar_key = preload_printf("quarantine/%s/%s/rejected.jsonl", st->table_name, rid);
    dir = preload_printf("%s/preload/%s/%s", st->store_root, st->table_name, rid);
    rc = dir ? out_open(&st->valid, dir,
                        st->table->format == LAKE_JSONL ? "valid.jsonl" : "valid.csv")
             : contract_host->error_set(WEIR_ENOMEM, "out of memory");
    contract_host->free(dir);
    dir = preload_printf("%s/quarantine/%s/%s", st->store_root, st->table_name, rid);
    if (rc >= 0) {
        rc = dir ? out_open(&st->quar, dir, "rejected.jsonl")
                 : contract_host->error_set(WEIR_ENOMEM, "out of memory");
    }
    contract_host->free(dir);
    contract_host->free(rid);
    if (rc >= 0 && (st->valid_key == NULL || st->quar_key == NULL)) {
        rc = contract_host->error_set(WEIR_ENOMEM, "out of memory");
    }
    return rc;
}

static int setup(struct preload_run *st, const json_t *input, weir_ctx *ctx)
{
    const char *project = ctx_str(ctx, "project");
    const char *table = json_string_value(json_object_get(input, "table"));
    const char *store = json_string_value(json_object_get(input, "store_root"));
    const char *catdir = json_string_value(json_object_get(input, "catalog_dir"));
    const char *delim = json_string_value(json_object_get(input, "delimiter"));
    const char *in = json_string_value(json_object_get(input, "input"));
    char *cwd = NULL, *inpath = NULL;
    int rc;

    if (project == NULL) {
        project = cwd = getcwd(NULL, 0);
    }
    st->project = preload_printf("%s", project ? project : ".");
    free(cwd);
    st->store_root =
        st->project ? preload_resolve(st->project, st->project, store ? store : "lake") : NULL;
    if (st->store_root == NULL ||
        (inpath = preload_resolve(st->project, st->store_root, in ? in : "")) == NULL) {
        return contract_host->error_set(WEIR_ENOMEM, "out of memory");
    }
    if (delim != NULL && strlen(delim) != 1) {
        rc = contract_host->error_set(WEIR_EINVALID,
                                      "contract.preload: 'delimiter' must be one "
                                      "character, got \"%s\"",
                                      delim);
        goto cleanup;
    }
    if ((rc = preload_list_files(inpath, &st->files, &st->nfiles)) < 0) {
        goto cleanup;
    }
    rc = table ? preload_table_from_catalog(st, catdir ? catdir : "catalog", table)
               : preload_table_infer(st, input, delim ? delim[0] : ',');
    if (rc < 0) {
        goto cleanup;
    }
    if ((rc = load_contract(st, input, ctx)) < 0) {
        goto cleanup;
    }
    if (table == NULL && st->c->table != NULL) {
        contract_host->free(st->table_name);
        st->table_name = preload_printf("%s", st->c->table);
        if (st->table_name == NULL) {
            rc = contract_host->error_set(WEIR_ENOMEM, "out of memory");
            goto cleanup;
        }
        sanitize(st->table_name);
    }
    if (table == NULL && (rc = preload_table_add_contract_columns(st)) < 0) {
        goto cleanup;
    }
    rc = predicate_compile(st->c, st->table, json_object_get(input, "rules"), &st->pred);
    if (rc < 0) {
        goto cleanup;
    }
    predicate_set_ctx(st->pred, ctx);
    st->failed = contract_host->malloc((predicate_nrules(st->pred) + 1) * sizeof(size_t));
    st->counts = contract_host->malloc((predicate_nrules(st->pred) + 1) * sizeof(uint64_t));
    if (st->failed == NULL || st->counts == NULL) {
        rc = contract_host->error_set(WEIR_ENOMEM, "out of memory");
        goto cleanup;
    }
    memset(st->counts, 0, (predicate_nrules(st->pred) + 1) * sizeof(uint64_t));
    rc = open_outputs(st, ctx_str(ctx, "run.id"));

cleanup:
    contract_host->free(inpath);
    return rc;
}

/* per_rule: every applied rule with its count, then malformed. */
static json_t *per_rule_json(const struct preload_run *st)
{
    json_t *o = json_object();
    size_t i;

    for (i = 0; o != NULL && i < predicate_nrules(st->pred); i++) {
        json_object_set_new(o, predicate_rule(st->pred, i)->name,
                            json_integer((json_int_t)st->counts[i]));
    }
    if (o != NULL) {
        json_object_set_new(o, "malformed", json_integer((json_int_t)st->malformed));
    }
    return o;
}

/* On a target whose store is not the local directory (S3), the outputs were
 * written locally (streamed, bounded memory) and go up through store.put
 * from the file: the quarantine first, so rejected rows are never lost to a
 * failed upload of the valid ones. The local copies are removed once up. */
static int upload_outputs(struct preload_run *st, weir_ctx *ctx)
{
    const char *store = contract_host->ctx_get(ctx, "service.store");
    struct preload_out *outs[2] = { &st->quar, &st->valid };
    const char *keys[2] = { st->quar_key, st->valid_key };
    int rc = WEIR_OK;

    if (!store || !strcmp(store, "fs")) {
        return WEIR_OK;
    }
    for (int i = 0; i < 2 && rc == WEIR_OK; i++) {
        json_t *in = json_pack("{s:s,s:s}", "uri", keys[i], "file", outs[i]->path), *got = NULL;

        if (!in) {
            return contract_host->error_set(WEIR_ENOMEM, "out of memory");
        }
        rc = contract_host->service_call(ctx, "store", "put", in, &got);
        json_decref(in);
        json_decref(got);
        if (rc == WEIR_OK) {
            unlink(outs[i]->path);
        }
    }
    return rc;
}

static int finish(struct preload_run *st, const json_t *input, weir_ctx *ctx, json_t **out)
{
    double max_pct = json_is_number(json_object_get(input, "max_quarantine_pct"))
                         ? json_number_value(json_object_get(input, "max_quarantine_pct"))
                         : 5.0;
    uint64_t in = st->rows + st->malformed;
    double pct = in ? 100.0 * (double)st->quarantined / (double)in : 0.0;
    int rc, passed = pct <= max_pct;

    if (st->raw_records != in || st->nvalid + st->quarantined != in || st->unmatched != 0) {
        return contract_host->error_set(
            WEIR_ERROR,
            "contract.preload: internal error: accounting mismatch: reader %llu rows + %llu "
            "malformed, raw pass %llu records (%llu unmatched), written %llu valid + %llu "
            "quarantined; please report this with the input file",
            (unsigned long long)st->rows, (unsigned long long)st->malformed,
            (unsigned long long)st->raw_records, (unsigned long long)st->unmatched,
            (unsigned long long)st->nvalid, (unsigned long long)st->quarantined);
    }
    if ((rc = out_commit(&st->valid)) < 0 || (rc = out_commit(&st->quar)) < 0 ||
        (rc = upload_outputs(st, ctx)) < 0) {
        return rc;
    }
    contract_host->log(ctx, passed ? WEIR_LOG_INFO : WEIR_LOG_ERROR,
                       "preload %s: %llu rows, %llu valid, %llu quarantined (%llu malformed), "
                       "%.2f%% (max %.2f%%) -> %s",
                       st->table_name, (unsigned long long)in, (unsigned long long)st->nvalid,
                       (unsigned long long)st->quarantined, (unsigned long long)st->malformed, pct,
                       max_pct, st->quar_key);
    if (!passed) {
        return contract_host->error_set(
            WEIR_ERROR,
            "contract.preload: %.2f%% of %llu rows quarantined (%llu), above max_quarantine_pct "
            "%.2f; rejected rows with their rules are in %s under the store root %s",
            pct, (unsigned long long)in, (unsigned long long)st->quarantined, max_pct, st->quar_key,
            st->store_root);
    }
    *out = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:o, s:s, s:s, s:s, s:f, s:f, s:b, s:I}",
                     "table", st->table_name, "input_rows", (json_int_t)in, "valid_rows",
                     (json_int_t)st->nvalid, "quarantined_rows", (json_int_t)st->quarantined,
                     "malformed_rows", (json_int_t)st->malformed, "warned_rows",
                     (json_int_t)st->warned, "per_rule", per_rule_json(st), "valid_output",
                     st->valid_key, "quarantine_output", st->quar_key, "store_root", st->store_root,
                     "quarantine_pct", pct, "max_quarantine_pct", max_pct, "passed", passed,
                     "files", (json_int_t)st->nfiles);
    return *out ? WEIR_OK : contract_host->error_set(WEIR_ENOMEM, "out of memory");
}

static int run_preload(const json_t *input, json_t **out, weir_ctx *ctx, void *payload)
{
    struct preload_run st;
    int rc;

    (void)payload;
    memset(&st, 0, sizeof(st));
    st.ctx = ctx;
    if ((rc = setup(&st, input, ctx)) < 0 || (rc = preload_stream(&st)) < 0) {
        goto cleanup;
    }
    rc = finish(&st, input, ctx, out);

cleanup:
    run_free(&st);
    return rc;
}

static const struct weir_step_desc preload_step = {
    .version = WEIR_STEP_DESC_VERSION,
    .name = "preload",
    .description = "checks an incoming batch against a contract's row rules: valid rows "
                   "byte-identical to preload/<table>/<run>/, failing rows to "
                   "quarantine/<table>/<run>/ with every failed rule named",
    .params = preload_params,
    .run = run_preload,
};

int contract_register_preload(weir_registry *reg)
{
    if (lake_host == NULL) {
        lake_host = contract_host;
    }
    return contract_host->step_register(reg, &preload_step);
}
