/*
 * cmd_drift.c - `weir drift`: what schedulers call every morning. For a
 * table (or every table of a database) and a day: profile that day's data
 * into the stats history, judge it against the days before (drift.detect),
 * write the report (drift.report), optionally notify, and exit non-zero
 * when an error-severity anomaly was found. `weir drift backfill` builds the
 * history of past days from partitioned data.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "error.h"

struct drift_args {
    const char *target;
    const char *table;
    const char *database;
    const char *date;
    const char *from;
    const char *to;
    const char *schema; /* catalog | files */
    const char *partition_key;
    int narrative;
    int no_record;
    int notify;
};

static const char usage[] =
    "usage: weir drift --table T [--date D] [options]      judge one table's day, write its report\n"
    "       weir drift --database DB [--date D] [options]  every table of a database\n"
    "       weir drift backfill --table T --from D1 --to D2 [--schema S]\n"
    "                                                     stats history of past days, one per partition\n"
    "options:\n"
    "  -t, --target T        target from weir.yaml (default: default_target)\n"
    "  --date D              the day judged, YYYY-MM-DD (default: today)\n"
    "  --no-record           judge the stats already in the history; do not profile the day\n"
    "  --schema S            where a day's columns come from: catalog (default: the catalog now,\n"
    "                        right for daily runs) or files (inferred from that day's partition,\n"
    "                        as a crawler would: for backfills of tables whose schema changed)\n"
    "  --partition-key K     the date partition key (default: the table's first partition key)\n"
    "  --narrative           add an explanation from the llm service to the report\n"
    "  --notify              send the summary through the target's notify service\n"
    "  --json                print the drift.detect output(s)\n"
    "Reports land at reports/drift/<table>/<date>.md and .html in the target's store.\n"
    "exit codes: 0 no error-severity anomaly (warnings are printed), 1 an error-severity anomaly\n"
    "            (or a day with no data), 2 usage or no such table / history, 3 invalid config,\n"
    "            10 internal error\n";

static int on_opt(const char *name, const char *arg, void *payload)
{
    struct drift_args *a = payload;
    static const struct {
        const char *name;
        size_t off;
    } strs[] = {
        { "target", offsetof(struct drift_args, target) },
        { "table", offsetof(struct drift_args, table) },
        { "database", offsetof(struct drift_args, database) },
        { "date", offsetof(struct drift_args, date) },
        { "from", offsetof(struct drift_args, from) },
        { "to", offsetof(struct drift_args, to) },
        { "schema", offsetof(struct drift_args, schema) },
        { "partition-key", offsetof(struct drift_args, partition_key) },
    };

    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
        if (!strcmp(name, strs[i].name)) {
            *(const char **)((char *)a + strs[i].off) = arg;
            return 0;
        }
    }
    a->narrative |= !strcmp(name, "narrative");
    a->no_record |= !strcmp(name, "no-record");
    a->notify |= !strcmp(name, "notify");
    return 0;
}

/* ---- days ---- */

static int parse_day(const char *s, time_t *t)
{
    struct tm tm = { 0 };
    char *end;

    if (!s || strlen(s) != 10 || (end = strptime(s, "%Y-%m-%d", &tm)) == NULL || *end) {
        return -1;
    }
    tm.tm_hour = 12; /* away from midnight: no DST edge moves the date */
    *t = timegm(&tm);
    return 0;
}

static void format_day(time_t t, char *buf)
{
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(buf, 11, "%Y-%m-%d", &tm);
}

/* ---- one day's profile ---- */

/* Where a table's days are: its catalog definition, read once per command. */
struct days {
    const char *table;
    json_t *def;          /* catalog.get_table output */
    const char *key;      /* the date partition key, or NULL (borrowed from def or args) */
    const char *location; /* borrowed from def */
};

static int days_open(struct weir_runtime *rt, const struct drift_args *a, const char *table,
                     struct days *d)
{
    json_t *with = json_pack("{s:s}", "table", table);
    const json_t *t;
    int rc;

    *d = (struct days){ .table = table };
    rc = cli_service_call(rt, a->target, "catalog", "get_table", with, &d->def);
    json_decref(with);
    if (rc < 0) {
        return rc;
    }
    t = json_object_get(d->def, "Table");
    d->location =
        json_string_value(json_object_get(json_object_get(t, "StorageDescriptor"), "Location"));
    d->key = a->partition_key ? a->partition_key
                              : json_string_value(json_object_get(
                                    json_array_get(json_object_get(t, "PartitionKeys"), 0), "Name"));
    return WEIR_OK;
}

static void days_close(struct days *d)
{
    json_decref(d->def);
    d->def = NULL;
}

/* engine.profile of one day: the partition key=date, read with the
 * catalog's columns or (schema files) the columns of that day's files. */
static int profile_day(struct weir_runtime *rt, const struct drift_args *a, const struct days *d,
                       const char *date, json_t **profile)
{
    json_t *with = NULL, *inferred = NULL;
    char *path = NULL;
    int rc;

    *profile = NULL;
    if (a->schema && !strcmp(a->schema, "files")) {
        if (!d->key || !d->location || !*d->location) {
            return weir_error_set(WEIR_EINVALID, "%s has no partition key (or location): --schema "
                                  "files needs one partition per day", d->table);
        }
        if (asprintf(&path, "%s%s%s=%s/", d->location,
                     d->location[strlen(d->location) - 1] == '/' ? "" : "/", d->key, date) < 0) {
            return weir_error_set(WEIR_ENOMEM, "out of memory");
        }
        with = json_pack("{s:s,s:s,s:s}", "path", path, "database", "drift", "table", "day");
        if ((rc = cli_service_call(rt, a->target, "catalog", "infer", with, &inferred)) < 0) {
            goto done;
        }
        json_decref(with);
        with = json_pack("{s:O}", "definition", inferred);
    }
    else {
        with = json_pack("{s:s}", "table", d->table);
        if (d->key) {
            json_object_set_new(with, "partitions", json_pack("{s:s}", d->key, date));
        }
    }
    rc = cli_service_call(rt, a->target, "engine", "profile", with, profile);
done:
    json_decref(with);
    json_decref(inferred);
    free(path);
    return rc;
}

/* Profiles the day and stores it in the stats history (drift.record). */
static int record_day(struct weir_runtime *rt, const struct drift_args *a, const struct days *d,
                      const char *date, long long *rows)
{
    json_t *profile = NULL, *with = NULL, *out = NULL;
    int rc;

    if ((rc = profile_day(rt, a, d, date, &profile)) < 0) {
        return rc;
    }
    *rows = json_integer_value(json_object_get(profile, "row_count"));
    with = json_pack("{s:s,s:s,s:O}", "table", d->table, "date", date, "profile", profile);
    rc = cli_step_call(rt, a->target, "drift", "record", date, with, &out);
    json_decref(profile);
    json_decref(with);
    json_decref(out);
    return rc;
}

/* ---- backfill ---- */

static int do_backfill(struct weir_runtime *rt, const struct drift_args *a)
{
    struct days d;
    time_t from, to;
    char day[11];
    int recorded = 0, gaps = 0, rc;

    if (!a->table || parse_day(a->from, &from) < 0 || parse_day(a->to, &to) < 0 || to < from) {
        fprintf(stderr, "weir: drift backfill needs --table and --from <= --to as YYYY-MM-DD\n%s",
                usage);
        return WEIR_EXIT_USAGE;
    }
    if ((rc = days_open(rt, a, a->table, &d)) < 0) {
        fprintf(stderr, "weir: %s: %s\n", a->table, weir_error_last());
        return cli_service_exit(rc);
    }
    for (time_t t = from; t <= to; t += 86400) {
        long long rows = 0;

        format_day(t, day);
        rc = record_day(rt, a, &d, day, &rows);
        if (rc == WEIR_ENOTFOUND && a->schema && !strcmp(a->schema, "files")) {
            printf("%s  no partition: a gap in the history\n", day);
            gaps++;
            continue;
        }
        if (rc < 0) {
            fprintf(stderr, "weir: %s %s: %s\n", a->table, day, weir_error_last());
            days_close(&d);
            return cli_service_exit(rc);
        }
        printf("%s  %lld rows  stats-history/%s/%s.json\n", day, rows, a->table, day);
        recorded++;
    }
    printf("backfilled %d day%s of %s (%d gap%s)\n", recorded, recorded == 1 ? "" : "s", a->table,
           gaps, gaps == 1 ? "" : "s");
    days_close(&d);
    return WEIR_EXIT_OK;
}

/* ---- the daily check ---- */

static void print_result(const json_t *det, const json_t *rep)
{
    const json_t *an;
    size_t i;

    printf("%s\n", json_string_value(json_object_get(rep, "summary")));
    json_array_foreach(json_object_get(det, "anomalies"), i, an) {
        printf("  %-5s %-12s %s\n", json_string_value(json_object_get(an, "severity")),
               json_string_value(json_object_get(an, "detector")),
               json_string_value(json_object_get(an, "explanation")));
    }
    printf("  report: %s\n", json_string_value(json_object_get(rep, "html_uri")));
}

static void notify(struct weir_runtime *rt, const struct drift_args *a, const json_t *rep)
{
    json_t *with = json_pack("{s:s,s:O,s:O,s:O}", "title", "weir drift", "text",
                             json_object_get(rep, "summary"), "status",
                             json_object_get(rep, "status"), "link", json_object_get(rep, "html_uri"));
    json_t *out = NULL;

    if (cli_service_call(rt, a->target, "notify", "send", with, &out) < 0) {
        fprintf(stderr, "weir: notify: %s\n", weir_error_last());
    }
    json_decref(with);
    json_decref(out);
}

/* One table's day: record, detect, report. Returns an exit code. */
static int check_table(struct weir_runtime *rt, const struct drift_args *a,
                       const struct cli_common *c, const char *table, const char *date)
{
    json_t *with = NULL, *det = NULL, *rep = NULL;
    struct days d = { 0 };
    long long rows = 0;
    int rc, code;

    if (!a->no_record && ((rc = days_open(rt, a, table, &d)) < 0 ||
                          (rc = record_day(rt, a, &d, date, &rows)) < 0)) {
        days_close(&d);
        fprintf(stderr, "weir: %s %s: %s\n", table, date, weir_error_last());
        /* no data for the day is the worst drift of all */
        return rc == WEIR_ENOTFOUND && a->schema && !strcmp(a->schema, "files") ? WEIR_EXIT_FAILED
                                                                              : cli_service_exit(rc);
    }
    days_close(&d);
    with = json_pack("{s:s,s:s}", "table", table, "date", date);
    if ((rc = cli_step_call(rt, a->target, "drift", "detect", date, with, &det)) < 0) {
        fprintf(stderr, "weir: %s %s: %s\n", table, date, weir_error_last());
        code = cli_service_exit(rc);
        goto done;
    }
    json_decref(with);
    with = json_pack("{s:O,s:b}", "detection", det, "narrative", a->narrative);
    if ((rc = cli_step_call(rt, a->target, "drift", "report", date, with, &rep)) < 0) {
        fprintf(stderr, "weir: %s %s: report: %s\n", table, date, weir_error_last());
        code = cli_service_exit(rc);
        goto done;
    }
    if (c->json) {
        cli_print_json(det);
    }
    else {
        print_result(det, rep);
    }
    if (a->notify) {
        notify(rt, a, rep);
    }
    code = strcmp(json_string_value(json_object_get(det, "status")) ?: "", "error") == 0
               ? WEIR_EXIT_FAILED
               : WEIR_EXIT_OK;
    if (!a->no_record && rows == 0) {
        /* the detectors need history to see it, the scheduler needs it today */
        printf("  error no data: nothing was loaded for %s on %s\n", table, date);
        code = WEIR_EXIT_FAILED;
    }
done:
    json_decref(with);
    json_decref(det);
    json_decref(rep);
    return code;
}

static int check_database(struct weir_runtime *rt, const struct drift_args *a,
                          const struct cli_common *c, const char *date)
{
    json_t *with = json_pack("{s:s}", "database", a->database), *out = NULL;
    const json_t *t;
    size_t i;
    int rc, worst = WEIR_EXIT_OK;

    rc = cli_service_call(rt, a->target, "catalog", "list_tables", with, &out);
    json_decref(with);
    if (rc < 0) {
        cli_error(NULL);
        return cli_service_exit(rc);
    }
    json_array_foreach(json_object_get(out, "tables"), i, t) {
        const char *name = json_string_value(json_object_get(t, "name"));
        char *table = NULL;
        int code;

        if (!name || asprintf(&table, "%s.%s", a->database, name) < 0) {
            continue;
        }
        code = check_table(rt, a, c, table, date);
        /* a failing table does not hide the others; the worst code wins */
        worst = code > worst ? code : worst;
        free(table);
    }
    json_decref(out);
    return worst;
}

int cli_drift(int argc, char **argv)
{
    static const struct cli_opt opts[] = {
        { "target", 1, 't' },  { "table", 1, 0 },        { "database", 1, 0 },
        { "date", 1, 0 },      { "from", 1, 0 },         { "to", 1, 0 },
        { "schema", 1, 0 },    { "partition-key", 1, 0 }, { "narrative", 0, 0 },
        { "no-record", 0, 0 }, { "notify", 0, 0 },       { NULL, 0, 0 },
    };
    struct drift_args a = { 0 };
    struct cli_common c = { 0 };
    struct weir_runtime *rt = NULL;
    int first = cli_parse(argc, argv, &c, opts, on_opt, &a, usage), backfill, code;
    char today[11];
    time_t now = time(NULL), day;

    if (first < 0) {
        return WEIR_EXIT_USAGE;
    }
    backfill = argc - first == 1 && !strcmp(argv[first], "backfill");
    if ((argc - first != 0 && !backfill) || (!backfill && !a.table == !a.database) ||
        (a.schema && strcmp(a.schema, "catalog") && strcmp(a.schema, "files")) ||
        (a.date && parse_day(a.date, &day) < 0)) {
        fprintf(stderr, "weir: drift needs exactly one of --table and --database, a date as "
                        "YYYY-MM-DD and --schema catalog|files\n%s", usage);
        return WEIR_EXIT_USAGE;
    }
    format_day(now, today);
    if ((code = cli_runtime(&c, &rt)) != 0) {
        return code;
    }
    if (backfill) {
        code = do_backfill(rt, &a);
    }
    else if (a.table) {
        code = check_table(rt, &a, &c, a.table, a.date ? a.date : today);
    }
    else {
        code = check_database(rt, &a, &c, a.date ? a.date : today);
    }
    weir_runtime_close(rt);
    return code;
}
