/*
 * cmd_contract.c - `weir contract export|test`: the contract plugin's
 * contract.export and contract.postload steps, run through the runtime with
 * the target's services, exactly as a pipeline step would run them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "ctx.h"
#include "error.h"

struct contract_args {
    const char *target;
    const char *format;
    const char *output;
    const char *dialect;
    const char *date;
};

static const char usage[] =
    "usage: weir contract export TABLE|FILE --format F [--output FILE]\n"
    "                                        a contract as pyspark, dqdl, sql, odcs, dbt or soda\n"
    "       weir contract test TABLE [--date YYYY-MM-DD]\n"
    "                                        post-load tests of a table for a day (contract.postload)\n"
    "options:\n"
    "  -t, --target T        target from weir.yaml (default: default_target)\n"
    "  --format F            export format: pyspark, dqdl, sql, odcs, dbt, soda\n"
    "  --output FILE         write the export there instead of stdout\n"
    "  --dialect D           SQL dialect of the sql export: trino (Athena, default) or sqlite\n"
    "  --date D              the day tested (default: today)\n"
    "  --json                print the step's JSON output\n"
    "TABLE is database.table, read from contracts/TABLE.json in the target's store;\n"
    "FILE is a contract (data_quality object) on disk.\n"
    "exit codes: 0 ok, 1 an error-severity test failed, 2 usage or nothing found, 3 invalid contract\n";

static int on_opt(const char *name, const char *arg, void *payload)
{
    struct contract_args *a = payload;

    if (!strcmp(name, "target")) {
        a->target = arg;
    }
    else if (!strcmp(name, "format")) {
        a->format = arg;
    }
    else if (!strcmp(name, "output")) {
        a->output = arg;
    }
    else if (!strcmp(name, "dialect")) {
        a->dialect = arg;
    }
    else if (!strcmp(name, "date")) {
        a->date = arg;
    }
    return 0;
}

/* Runs contract.<step> with `with` (borrowed) on the target's services. */
static int call_step(struct weir_runtime *rt, const struct contract_args *a, const char *step,
                     const char *date, const json_t *with, json_t **out)
{
    return cli_step_call(rt, a->target, "contract", step, date, with, out);
}

static int do_export(struct weir_runtime *rt, const struct contract_args *a, const struct cli_common *c,
                     const char *what, const char *today)
{
    json_t *with = json_pack("{s:s}", "format", a->format), *out = NULL, *doc;
    struct stat st;
    json_error_t jerr;
    const char *text;
    FILE *f;
    int rc, code = WEIR_EXIT_OK;

    if (a->dialect) {
        json_object_set_new(with, "dialect", json_string(a->dialect));
    }
    if (stat(what, &st) == 0 && S_ISREG(st.st_mode)) {
        if ((doc = json_load_file(what, 0, &jerr)) == NULL) {
            fprintf(stderr, "weir: %s:%d: %s\n", what, jerr.line, jerr.text);
            json_decref(with);
            return WEIR_EXIT_INVALID;
        }
        json_object_set_new(with, "contract", doc);
    }
    else {
        json_object_set_new(with, "table", json_string(what));
    }
    if ((rc = call_step(rt, a, "export", today, with, &out)) < 0) {
        cli_error(NULL);
        code = cli_service_exit(rc);
        goto done;
    }
    if (c->json) {
        cli_print_json(out);
        goto done;
    }
    text = json_string_value(json_object_get(out, "text"));
    if (a->output) {
        if ((f = fopen(a->output, "w")) == NULL || fputs(text ? text : "", f) < 0 || fclose(f) != 0) {
            fprintf(stderr, "weir: cannot write %s\n", a->output);
            code = WEIR_EXIT_INTERNAL;
            goto done;
        }
        fprintf(stderr, "%s export written to %s\n", a->format, a->output);
    }
    else {
        fputs(text ? text : "", stdout);
    }

done:
    json_decref(with);
    json_decref(out);
    return code;
}

/* The summary table of a results document. */
static void print_results(const json_t *doc)
{
    const json_t *r;
    size_t i;

    printf("%s %s\n", json_string_value(json_object_get(doc, "table")),
           json_string_value(json_object_get(doc, "date")));
    printf("  %-7s %-5s %-40s %-12s %s\n", "status", "sev", "test", "observed", "expectation");
    json_array_foreach(json_object_get(doc, "results"), i, r) {
        char *obs = json_dumps(json_object_get(r, "observed"), JSON_ENCODE_ANY | JSON_COMPACT);
        const char *msg = json_string_value(json_object_get(r, "message"));

        printf("  %-7s %-5s %-40s %-12s %s%s%s\n", json_string_value(json_object_get(r, "status")),
               json_string_value(json_object_get(r, "severity")), json_string_value(json_object_get(r, "name")),
               obs ? obs : "null", json_string_value(json_object_get(r, "expectation")), msg ? " - " : "",
               msg ? msg : "");
        free(obs);
    }
    printf("passed %lld, failed %lld, errors %lld, skipped %lld\n",
           (long long)json_integer_value(json_object_get(doc, "passed")),
           (long long)json_integer_value(json_object_get(doc, "failed")),
           (long long)json_integer_value(json_object_get(doc, "errors")),
           (long long)json_integer_value(json_object_get(doc, "skipped")));
}

static int do_test(struct weir_runtime *rt, const struct contract_args *a, const struct cli_common *c,
                   const char *table, const char *today)
{
    const char *date = a->date ? a->date : today;
    json_t *with = json_pack("{s:s,s:s}", "table", table, "date", date), *out = NULL, *in = NULL, *got = NULL;
    char *uri = NULL, *why = NULL;
    int rc, code = WEIR_EXIT_OK;

    if ((rc = call_step(rt, a, "postload", date, with, &out)) == WEIR_OK) {
        if (c->json) {
            cli_print_json(out);
        }
        else {
            print_results(out);
            printf("results: %s\n", json_string_value(json_object_get(out, "results_uri")));
        }
        goto done;
    }
    why = strdup(weir_error_last());
    code = cli_service_exit(rc);
    /* a failed test run still wrote its results: show them */
    if (rc == WEIR_ERROR && asprintf(&uri, "results/%s/%s.json", table, date) > 0 &&
        (in = json_pack("{s:s,s:s}", "uri", uri, "as", "json")) != NULL &&
        cli_service_call(rt, a->target, "store", "get", in, &got) == WEIR_OK) {
        if (c->json) {
            cli_print_json(json_object_get(got, "value"));
        }
        else {
            print_results(json_object_get(got, "value"));
            printf("results: %s\n", uri);
        }
        code = WEIR_EXIT_FAILED;
    }
    fprintf(stderr, "weir: %s\n", why ? why : "contract test failed");

done:
    free(why);
    free(uri);
    json_decref(with);
    json_decref(out);
    json_decref(in);
    json_decref(got);
    return code;
}

int cli_contract(int argc, char **argv)
{
    static const struct cli_opt opts[] = {
        { "target", 1, 't' }, { "format", 1, 0 }, { "output", 1, 'o' }, { "dialect", 1, 0 },
        { "date", 1, 0 },     { NULL, 0, 0 },
    };
    struct contract_args a = { 0 };
    struct cli_common c = { 0 };
    struct weir_runtime *rt = NULL;
    int first = cli_parse(argc, argv, &c, opts, on_opt, &a, usage), nargs, code;
    const char *sub;
    char today[16];
    time_t now = time(NULL);
    struct tm tm;

    if (first < 0) {
        return WEIR_EXIT_USAGE;
    }
    nargs = argc - first;
    sub = nargs > 0 ? argv[first] : "";
    if (!((!strcmp(sub, "export") && nargs == 2 && a.format) || (!strcmp(sub, "test") && nargs == 2))) {
        fputs(usage, stderr);
        return WEIR_EXIT_USAGE;
    }
    if ((code = cli_runtime(&c, &rt)) != 0) {
        return code;
    }
    localtime_r(&now, &tm);
    strftime(today, sizeof(today), "%Y-%m-%d", &tm);
    if (!strcmp(sub, "export")) {
        code = do_export(rt, &a, &c, argv[first + 1], today);
    }
    else {
        code = do_test(rt, &a, &c, argv[first + 1], today);
    }
    weir_runtime_close(rt);
    return code;
}
