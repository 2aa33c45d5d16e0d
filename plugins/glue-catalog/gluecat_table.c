/*
 * gluecat_table.c - what the lake's get_table adds under "weir", derived
 * from a Glue table the way the lake derives it from the same JSON on disk
 * (plugins/lake README, "Glue JSON"), so a table moved between the local
 * catalog and Glue reads the same.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gluecat.h"

static const char *const default_nulls[] = { "", "NA", "NULL", "null", "\\N", NULL };

/* A SerDe parameter, looked up in SerdeInfo.Parameters, then Table.Parameters. */
static const char *serde_param(const json_t *table, const char *key)
{
    const json_t *sd = json_object_get(table, "StorageDescriptor");
    const json_t *serde = json_object_get(json_object_get(sd, "SerdeInfo"), "Parameters");
    const char *v = json_string_value(json_object_get(serde, key));

    return v ? v : json_string_value(json_object_get(json_object_get(table, "Parameters"), key));
}

int gluecat_delimiter_parse(const char *text)
{
    char *end;
    long v;

    if (!text || !*text) {
        return -1;
    }
    if (!text[1]) {
        return (unsigned char)text[0];
    }
    if (text[0] != '\\') {
        return -1;
    }
    if (!strcmp(text, "\\t")) {
        return '\t';
    }
    if (text[1] == 'u' || text[1] == 'x') {
        v = strtol(text + 2, &end, 16);
    }
    else {
        v = strtol(text + 1, &end, 8);
    }
    return *end == '\0' && end > text + 2 && v > 0 && v < 128 ? (int)v : -1;
}

static int check_columns(const json_t *cols, const char *qualified, const char *what)
{
    const json_t *c;
    enum hive_kind kind;
    size_t i;

    if (cols && !json_is_array(cols)) {
        return gluecat_host->error_set(WEIR_EINVALID, "table %s: %s is not an array", qualified,
                                       what);
    }
    json_array_foreach(cols, i, c) {
        const char *name = json_string_value(json_object_get(c, "Name"));
        const char *type = json_string_value(json_object_get(c, "Type"));

        if (!name || !*name) {
            return gluecat_host->error_set(WEIR_EINVALID, "table %s: %s[%zu] has no Name",
                                           qualified, what, i);
        }
        if (hive_type_parse(type, &kind) < 0) {
            return gluecat_host->error_set(
                WEIR_EINVALID,
                "table %s: column '%s' has type '%s', which is not a Hive type weir knows "
                "(string, varchar(n), int, bigint, double, decimal(p,s), boolean, date, "
                "timestamp, array/map/struct<...>)",
                qualified, name, type ? type : "(none)");
        }
    }
    return WEIR_OK;
}

static const char *format_of(const json_t *table)
{
    const json_t *sd = json_object_get(table, "StorageDescriptor");
    const char *lib = json_string_value(
        json_object_get(json_object_get(sd, "SerdeInfo"), "SerializationLibrary"));
    const char *cls =
        json_string_value(json_object_get(json_object_get(table, "Parameters"), "classification"));
    static const char *const columnar[] = { "parquet", "orc", "avro", NULL };

    if ((lib && strstr(lib, "JsonSerDe")) || (cls && !strcmp(cls, "json"))) {
        return "jsonl";
    }
    for (size_t i = 0; columnar[i]; i++) {
        if (cls && !strcmp(cls, columnar[i])) {
            return columnar[i];
        }
    }
    if (lib && strstr(lib, "ParquetHiveSerDe")) {
        return "parquet";
    }
    if (lib && strstr(lib, "OrcSerde")) {
        return "orc";
    }
    if (lib && strstr(lib, "AvroSerDe")) {
        return "avro";
    }
    return "csv";
}

/* field.delim, else separatorChar (OpenCSVSerde), else serialization.format
 * unless it is Hive's numeric format id. */
static int csv_options(const json_t *table, const char *qualified, json_t *w)
{
    const char *d = serde_param(table, "field.delim"), *skip;
    char buf[2] = { ',', '\0' };
    char *end;
    long n = 0;
    int ch = ',';

    if (!d) {
        d = serde_param(table, "separatorChar");
    }
    if (!d && (d = serde_param(table, "serialization.format")) != NULL &&
        isdigit((unsigned char)d[0])) {
        d = NULL;
    }
    if (d && (ch = gluecat_delimiter_parse(d)) < 0) {
        return gluecat_host->error_set(WEIR_EINVALID,
                                       "table %s: SerDe delimiter '%s' is not one "
                                       "character (or \\t, \\uXXXX, \\ooo)",
                                       qualified, d);
    }
    if ((skip = serde_param(table, "skip.header.line.count")) != NULL) {
        n = strtol(skip, &end, 10);
        if (*skip == '\0' || *end != '\0' || n < 0 || n > 1000) {
            return gluecat_host->error_set(WEIR_EINVALID,
                                           "table %s: skip.header.line.count '%s' "
                                           "is not a number of lines (0-1000)",
                                           qualified, skip);
        }
    }
    buf[0] = (char)ch;
    json_object_set_new(w, "delimiter", json_string(buf));
    json_object_set_new(w, "header_lines", json_integer(n));
    return WEIR_OK;
}

static int null_tokens(const json_t *table, const char *qualified, json_t *w)
{
    const char *one = serde_param(table, "serialization.null.format");
    const char *list = serde_param(table, "weir.null.tokens");
    json_t *arr = NULL, *v;
    size_t i;

    if (one) {
        arr = json_pack("[s]", one);
    }
    else if (list) {
        arr = json_loads(list, 0, NULL);
        json_array_foreach(arr, i, v) {
            if (!json_is_string(v)) {
                json_decref(arr);
                arr = NULL;
                break;
            }
        }
        if (!json_is_array(arr)) {
            json_decref(arr);
            return gluecat_host->error_set(WEIR_EINVALID,
                                           "table %s: weir.null.tokens '%s' is "
                                           "not a JSON array of strings",
                                           qualified, list);
        }
    }
    else {
        arr = json_array();
        for (i = 0; default_nulls[i]; i++) {
            json_array_append_new(arr, json_string(default_nulls[i]));
        }
    }
    json_object_set_new(w, "null_tokens", arr);
    return WEIR_OK;
}

int gluecat_table_weir(const json_t *table, const char *qualified, json_t **out)
{
    const json_t *sd = json_object_get(table, "StorageDescriptor");
    const char *loc = json_string_value(json_object_get(sd, "Location"));
    const char *format = format_of(table);
    json_t *w = json_object();
    int rc;

    *out = NULL;
    if (!w) {
        return gluecat_host->error_set(WEIR_ENOMEM, "out of memory");
    }
    if ((rc = check_columns(json_object_get(sd, "Columns"), qualified,
                            "StorageDescriptor.Columns")) < 0 ||
        (rc = check_columns(json_object_get(table, "PartitionKeys"), qualified, "PartitionKeys")) <
            0) {
        goto done;
    }
    json_object_set_new(w, "root", loc ? json_string(loc) : json_null());
    json_object_set_new(w, "format", json_string(format));
    if (!strcmp(format, "csv") && (rc = csv_options(table, qualified, w)) < 0) {
        goto done;
    }
    if ((rc = null_tokens(table, qualified, w)) < 0) {
        goto done;
    }
    json_object_set_new(w, "files", json_null());
    json_object_set_new(w, "partitions", json_null());
    *out = w;
    w = NULL;

done:
    json_decref(w);
    return rc;
}

int gluecat_split_name(const char *qualified, char *db, size_t dbcap, char *table, size_t tablecap)
{
    const char *dot = qualified ? strchr(qualified, '.') : NULL;
    size_t n;

    if (!dot || dot == qualified || !dot[1] || strchr(dot + 1, '.')) {
        return -1;
    }
    n = (size_t)(dot - qualified);
    if (n >= dbcap || strlen(dot + 1) >= tablecap) {
        return -1;
    }
    memcpy(db, qualified, n);
    db[n] = '\0';
    snprintf(table, tablecap, "%s", dot + 1);
    return 0;
}
