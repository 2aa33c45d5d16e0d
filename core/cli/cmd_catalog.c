/*
 * cmd_catalog.c - `weir catalog list|show|infer`: the catalog service of a
 * target (the lake plugin locally, Glue on aws), called through the runtime
 * exactly as a pipeline step `catalog.<op>` would be.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "error.h"

struct catalog_args {
    const char *target;
    const char *database;
    const char *table;
    const char *catalog_dir;
    const char *store_root;
    long sample_rows;
    int write, force;
};

static const char usage[] =
    "usage: weir catalog list [DATABASE]        databases, or one database's tables\n"
    "       weir catalog show DATABASE.TABLE    a table: columns, location, partitions\n"
    "       weir catalog infer PATH             a table definition inferred from files\n"
    "options:\n"
    "  -t, --target T        target from weir.yaml (default: default_target)\n"
    "  --catalog-dir DIR     catalog directory, relative to the project (lake default: catalog)\n"
    "  --store-root DIR      where s3:// locations map, relative to the project (lake default: "
    "lake)\n"
    "  --json                print the service's JSON output\n"
    "infer options:\n"
    "  --database D          database of the table (default: default)\n"
    "  --table T             table name (default: the directory or file name)\n"
    "  --sample-rows N       rows read to infer delimiter and types (default 1000)\n"
    "  --write               save it as <catalog-dir>/<database>/<table>.json\n"
    "  --force               with --write: replace an existing definition\n";

static int on_opt(const char *name, const char *arg, void *payload)
{
    struct catalog_args *a = payload;
    char *end;

    if (!strcmp(name, "target")) {
        a->target = arg;
    }
    else if (!strcmp(name, "database")) {
        a->database = arg;
    }
    else if (!strcmp(name, "table")) {
        a->table = arg;
    }
    else if (!strcmp(name, "catalog-dir")) {
        a->catalog_dir = arg;
    }
    else if (!strcmp(name, "store-root")) {
        a->store_root = arg;
    }
    else if (!strcmp(name, "sample-rows")) {
        a->sample_rows = strtol(arg, &end, 10);
        if (*end || a->sample_rows < 1) {
            fprintf(stderr, "weir: --sample-rows wants a positive integer, not '%s'\n", arg);
            return -1;
        }
    }
    else if (!strcmp(name, "write")) {
        a->write = 1;
    }
    else if (!strcmp(name, "force")) {
        a->force = 1;
    }
    return 0;
}

/* Calls catalog.<op> of the target with `with` (a new reference it takes);
 * on failure prints why and returns the exit code, else 0 with *out set. */
static int call(struct weir_runtime *rt, const struct catalog_args *a, const char *op, json_t *with,
                json_t **out)
{
    int rc;

    if (a->catalog_dir) {
        json_object_set_new(with, "catalog_dir", json_string(a->catalog_dir));
    }
    if (a->store_root && strcmp(op, "list_databases") && strcmp(op, "list_tables")) {
        json_object_set_new(with, "store_root", json_string(a->store_root));
    }
    rc = cli_service_call(rt, a->target, "catalog", op, with, out);
    json_decref(with);
    if (rc < 0) {
        /* the service's messages name the operation or the table already */
        cli_error(NULL);
        return cli_service_exit(rc);
    }
    return 0;
}

static const char *str(const json_t *obj, const char *key)
{
    const char *v = json_string_value(json_object_get(obj, key));

    return v ? v : "";
}

static void print_columns(const char *title, const json_t *cols)
{
    size_t i;
    json_t *c;

    if (json_array_size(cols) == 0) {
        return;
    }
    printf("%s:\n", title);
    json_array_foreach(cols, i, c) {
        printf("  %-24s %-16s %s\n", str(c, "Name"), str(c, "Type"), str(c, "Comment"));
    }
}

/* The readable form of get_table and infer output. */
static void print_table(const json_t *out)
{
    const json_t *t = json_object_get(out, "Table"), *w = json_object_get(out, "weir");
    const json_t *sd = json_object_get(t, "StorageDescriptor"),
                 *parts = json_object_get(w, "partitions"), *p;
    const char *fmt = str(w, "format"), *key;
    json_t *v;
    size_t i;

    printf("%s.%s\n", str(t, "DatabaseName"), str(t, "Name"));
    if (*str(t, "Description")) {
        printf("  %s\n", str(t, "Description"));
    }
    printf("location: %s\n  (%s)\n", str(sd, "Location"), str(w, "root"));
    if (!strcmp(fmt, "csv")) {
        printf("format:   csv, delimiter '%s'%s\n",
               !strcmp(str(w, "delimiter"), "\t") ? "\\t" : str(w, "delimiter"),
               json_integer_value(json_object_get(w, "header_lines")) > 0 ? ", header line" : "");
    }
    else {
        printf("format:   %s\n", fmt);
    }
    print_columns("columns", json_object_get(sd, "Columns"));
    print_columns("partition keys", json_object_get(t, "PartitionKeys"));
    if (json_is_array(parts)) {
        printf("files:    %lld in %zu partition%s\n",
               (long long)json_integer_value(json_object_get(w, "files")), json_array_size(parts),
               json_array_size(parts) == 1 ? "" : "s");
    }
    json_array_foreach(parts, i, p) {
        printf(" ");
        json_object_foreach(json_object_get(p, "values"), key, v) {
            printf(" %s=%s", key, json_string_value(v));
        }
        printf("\n");
    }
}

static int do_list(struct weir_runtime *rt, const struct catalog_args *a,
                   const struct cli_common *c, const char *db)
{
    json_t *out = NULL, *tables = NULL, *v;
    size_t i;
    int code;

    if (db) {
        if ((code = call(rt, a, "list_tables", json_pack("{s:s}", "database", db), &out)) != 0) {
            return code;
        }
        if (c->json) {
            cli_print_json(out);
        }
        json_array_foreach(json_object_get(out, "tables"), i, v) {
            if (!c->json) {
                printf("%s\n", json_string_value(v));
            }
        }
        json_decref(out);
        return WEIR_EXIT_OK;
    }
    if ((code = call(rt, a, "list_databases", json_object(), &out)) != 0) {
        return code;
    }
    if (c->json) {
        cli_print_json(out);
        json_decref(out);
        return WEIR_EXIT_OK;
    }
    json_array_foreach(json_object_get(out, "databases"), i, v) {
        printf("%s\n", json_string_value(v));
        if ((code = call(rt, a, "list_tables", json_pack("{s:s}", "database", json_string_value(v)),
                         &tables)) != 0) {
            break;
        }
        for (size_t k = 0; k < json_array_size(json_object_get(tables, "tables")); k++) {
            printf("  %s\n",
                   json_string_value(json_array_get(json_object_get(tables, "tables"), k)));
        }
        json_decref(tables);
    }
    json_decref(out);
    return code;
}

static int do_show(struct weir_runtime *rt, const struct catalog_args *a,
                   const struct cli_common *c, const char *table)
{
    json_t *out = NULL;
    int code = call(rt, a, "get_table", json_pack("{s:s}", "table", table), &out);

    if (code != 0) {
        return code;
    }
    if (c->json) {
        cli_print_json(out);
    }
    else {
        print_table(out);
    }
    json_decref(out);
    return WEIR_EXIT_OK;
}

static int do_infer(struct weir_runtime *rt, const struct catalog_args *a,
                    const struct cli_common *c, const char *path)
{
    json_t *with = json_pack("{s:s,s:b,s:b}", "path", path, "write", a->write, "force", a->force),
           *out = NULL;
    const json_t *written;
    int code;

    if (a->database) {
        json_object_set_new(with, "database", json_string(a->database));
    }
    if (a->table) {
        json_object_set_new(with, "table", json_string(a->table));
    }
    if (a->sample_rows > 0) {
        json_object_set_new(with, "sample_rows", json_integer(a->sample_rows));
    }
    if ((code = call(rt, a, "infer", with, &out)) != 0) {
        return code;
    }
    if (c->json) {
        cli_print_json(out);
    }
    else {
        print_table(out);
        written = json_object_get(json_object_get(out, "weir"), "written");
        if (json_is_string(written)) {
            printf("written to %s\n", json_string_value(written));
        }
        else {
            printf("(not saved: add --write to save it in the catalog)\n");
        }
    }
    json_decref(out);
    return WEIR_EXIT_OK;
}

int cli_catalog(int argc, char **argv)
{
    static const struct cli_opt opts[] = {
        { "target", 1, 't' },    { "database", 1, 0 },   { "table", 1, 0 },
        { "catalog-dir", 1, 0 }, { "store-root", 1, 0 }, { "sample-rows", 1, 0 },
        { "write", 0, 0 },       { "force", 0, 0 },      { NULL, 0, 0 },
    };
    struct catalog_args a = { 0 };
    struct cli_common c = { 0 };
    struct weir_runtime *rt = NULL;
    int first = cli_parse(argc, argv, &c, opts, on_opt, &a, usage), nargs, code;
    const char *sub;

    if (first < 0) {
        return WEIR_EXIT_USAGE;
    }
    nargs = argc - first;
    sub = nargs > 0 ? argv[first] : "";
    if (!((!strcmp(sub, "list") && nargs <= 2) || (!strcmp(sub, "show") && nargs == 2) ||
          (!strcmp(sub, "infer") && nargs == 2))) {
        fputs(usage, stderr);
        return WEIR_EXIT_USAGE;
    }
    if ((code = cli_runtime(&c, &rt)) != 0) {
        return code;
    }
    if (!strcmp(sub, "list")) {
        code = do_list(rt, &a, &c, nargs == 2 ? argv[first + 1] : NULL);
    }
    else if (!strcmp(sub, "show")) {
        code = do_show(rt, &a, &c, argv[first + 1]);
    }
    else {
        code = do_infer(rt, &a, &c, argv[first + 1]);
    }
    weir_runtime_close(rt);
    return code;
}
