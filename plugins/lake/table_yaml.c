/*
 * table_yaml.c - the short YAML form of a table, for hand-written tables:
 *
 *   name: payments            # default: the file name
 *   database: raw             # default: the directory name
 *   description: ...
 *   location: s3://lake/raw/payments/   # or a path relative to the project
 *   format: csv               # csv (default) or jsonl
 *   delimiter: ";"            # csv only, default ","
 *   header: true              # csv only: first line is a header (default true)
 *   null_tokens: ["", "NA"]   # default "", NA, NULL, null, \N
 *   columns: [{name: id, type: bigint, comment: ...}]   or   {id: bigint, ...}
 *   partitions: [dt]          # or [{name: dt, type: date}] or {dt: date}
 *   parameters: {owner: me}   # extra Glue table parameters
 *
 * It is read into JSON (every scalar a string) and rewritten in the Glue
 * GetTable shape, so table.c has a single code path.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include "catalog_int.h"

#define MAX_DEPTH 32

static int node_to_json(yaml_document_t *doc, yaml_node_t *node, int depth, const char *path,
                        json_t **out)
{
    yaml_node_pair_t *pair;
    yaml_node_item_t *item;
    json_t *v = NULL, *child;
    int rc = WEIR_OK;

    if (depth > MAX_DEPTH) {
        return lake_host->error_set(WEIR_EINVALID, "%s:%zu: nested too deeply", path,
                                    node->start_mark.line + 1);
    }
    switch (node->type) {
    case YAML_SCALAR_NODE:
        v = json_stringn((const char *)node->data.scalar.value, node->data.scalar.length);
        break;
    case YAML_SEQUENCE_NODE:
        v = json_array();
        for (item = node->data.sequence.items.start;
             rc == WEIR_OK && item < node->data.sequence.items.top; item++) {
            if ((rc = node_to_json(doc, yaml_document_get_node(doc, *item), depth + 1, path,
                                   &child)) == WEIR_OK) {
                json_array_append_new(v, child);
            }
        }
        break;
    case YAML_MAPPING_NODE:
        v = json_object();
        for (pair = node->data.mapping.pairs.start;
             rc == WEIR_OK && pair < node->data.mapping.pairs.top; pair++) {
            yaml_node_t *k = yaml_document_get_node(doc, pair->key);
            const char *key =
                k && k->type == YAML_SCALAR_NODE ? (const char *)k->data.scalar.value : NULL;
            if (!key || json_object_get(v, key)) {
                rc = lake_host->error_set(WEIR_EINVALID, "%s:%zu: %s", path,
                                          k ? k->start_mark.line + 1 : 0,
                                          key ? "duplicate key" : "keys must be plain strings");
                break;
            }
            if ((rc = node_to_json(doc, yaml_document_get_node(doc, pair->value), depth + 1, path,
                                   &child)) == WEIR_OK) {
                json_object_set_new(v, key, child);
            }
        }
        break;
    default: rc = lake_host->error_set(WEIR_EINVALID, "%s: empty document", path);
    }
    if (rc < 0 || !v) {
        json_decref(v);
        return rc < 0 ? rc : lake_host->error_set(WEIR_ENOMEM, "%s: out of memory", path);
    }
    *out = v;
    return WEIR_OK;
}

static int read_yaml(const char *path, json_t **out)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    yaml_node_t *root;
    FILE *f = fopen(path, "rb");
    int rc, loaded = 0;

    *out = NULL;
    if (!f) {
        return lake_host->error_set(WEIR_EIO, "cannot open '%s'", path);
    }
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_file(&parser, f);
    if (!yaml_parser_load(&parser, &doc)) {
        rc = lake_host->error_set(WEIR_EINVALID, "%s:%zu:%zu: %s", path,
                                  parser.problem_mark.line + 1, parser.problem_mark.column + 1,
                                  parser.problem ? parser.problem : "invalid YAML");
        goto done;
    }
    loaded = 1;
    root = yaml_document_get_root_node(&doc);
    if (!root || root->type != YAML_MAPPING_NODE) {
        rc = lake_host->error_set(
            WEIR_EINVALID, "%s: a table definition is a YAML mapping (name:, columns:, ...)", path);
        goto done;
    }
    rc = node_to_json(&doc, root, 0, path, out);

done:
    if (loaded) {
        yaml_document_delete(&doc);
    }
    yaml_parser_delete(&parser);
    fclose(f);
    return rc;
}

static int bad(const char *path, const char *what)
{
    return lake_host->error_set(WEIR_EINVALID, "%s: %s", path, what);
}

/* One Glue column from {name, type, comment}, {name: type} or "name". */
static int column(const char *path, const char *key, json_t *v, json_t *arr,
                  const char *default_type)
{
    const char *name = NULL, *type = default_type, *comment = NULL, *k;
    json_t *x, *col;

    if (json_is_string(v)) {
        name = json_string_value(v);
    }
    else if (json_is_object(v) && json_object_get(v, "name")) {
        json_object_foreach(v, k, x) {
            if (strcmp(k, "name") && strcmp(k, "type") && strcmp(k, "comment")) {
                return lake_host->error_set(
                    WEIR_EINVALID, "%s: %s: unknown key '%s' (name, type, comment)", path, key, k);
            }
        }
        name = json_string_value(json_object_get(v, "name"));
        type = json_object_get(v, "type") ? json_string_value(json_object_get(v, "type"))
                                          : default_type;
        comment = json_string_value(json_object_get(v, "comment"));
    }
    else if (json_is_object(v) && json_object_size(v) == 1) {
        json_object_foreach(v, k, x) {
            name = k;
            /* name: type, or name: {type: ..., comment: ...} */
            type = json_is_object(x) ? json_string_value(json_object_get(x, "type"))
                                     : json_string_value(x);
            comment = json_is_object(x) ? json_string_value(json_object_get(x, "comment")) : NULL;
        }
    }
    if (!name || !type) {
        return lake_host->error_set(WEIR_EINVALID, "%s: every entry of %s needs a name and a type",
                                    path, key);
    }
    col = json_pack("{s:s,s:s}", "Name", name, "Type", type);
    if (comment) {
        json_object_set_new(col, "Comment", json_string(comment));
    }
    json_array_append_new(arr, col);
    return WEIR_OK;
}

static int columns(const char *path, const char *key, json_t *v, const char *default_type,
                   json_t **out)
{
    const char *name;
    json_t *x;
    size_t i;
    int rc = WEIR_OK;

    *out = json_array();
    if (json_is_object(v)) {
        json_object_foreach(v, name, x) {
            json_t *one = json_pack("{s:O}", name, x);
            rc = column(path, key, one, *out, default_type);
            json_decref(one);
            if (rc < 0) {
                break;
            }
        }
    }
    else if (json_is_array(v)) {
        json_array_foreach(v, i, x) {
            if ((rc = column(path, key, x, *out, default_type)) < 0) {
                break;
            }
        }
    }
    else if (v) {
        rc = lake_host->error_set(WEIR_EINVALID, "%s: %s must be a list or a mapping", path, key);
    }
    return rc;
}

static int truth(const char *s, int *v)
{
    static const char *const yes[] = { "true", "yes", "on", "1" }, *const no[] = { "false", "no",
                                                                                   "off", "0" };

    for (size_t i = 0; s && i < 4; i++) {
        if (!strcasecmp(s, yes[i]) || !strcasecmp(s, no[i])) {
            *v = !strcasecmp(s, yes[i]);
            return 0;
        }
    }
    return -1;
}

static int params_from(const char *path, json_t *y, int jsonl, json_t *params, json_t *serde_params)
{
    const char *hdr = json_string_value(json_object_get(y, "header")), *k;
    json_t *nulls = json_object_get(y, "null_tokens"), *extra = json_object_get(y, "parameters"),
           *x;
    int header = 1;

    json_object_set_new(params, "classification", json_string(jsonl ? "json" : "csv"));
    if (json_object_get(y, "header") && truth(hdr, &header) < 0) {
        return bad(path, "header must be true or false");
    }
    if (!jsonl) {
        json_object_set_new(params, "skip.header.line.count", json_string(header ? "1" : "0"));
    }
    if (json_is_string(nulls)) {
        json_object_set_new(serde_params, "serialization.null.format", json_copy(nulls));
    }
    else if (json_is_array(nulls)) {
        char *text = json_dumps(nulls, JSON_COMPACT);
        if (!text) {
            return lake_host->error_set(WEIR_ENOMEM, "%s: out of memory", path);
        }
        json_object_set_new(params, "weir.null.tokens", json_string(text));
        free(text);
    }
    else if (nulls) {
        return bad(path, "null_tokens must be a string or a list of strings");
    }
    if (extra && !json_is_object(extra)) {
        return bad(path, "parameters must be a mapping of strings");
    }
    json_object_foreach(extra, k, x) {
        json_object_set(params, k, x);
    }
    return WEIR_OK;
}

static int check_keys(const char *path, json_t *y)
{
    static const char *const known[] = { "name",    "database",   "description", "location",
                                         "format",  "delimiter",  "header",      "null_tokens",
                                         "columns", "partitions", "parameters" };
    const char *k;
    json_t *x;

    json_object_foreach(y, k, x) {
        size_t i = 0;
        while (i < sizeof(known) / sizeof(known[0]) && strcmp(k, known[i])) {
            i++;
        }
        if (i == sizeof(known) / sizeof(known[0])) {
            return lake_host->error_set(
                WEIR_EINVALID,
                "%s: unknown key '%s'; a table has name, database, "
                "description, location, format, delimiter, header, null_tokens, "
                "columns, partitions, parameters",
                path, k);
        }
    }
    return WEIR_OK;
}

static json_t *build(json_t *y, const char *default_db, json_t *cols, json_t *parts, json_t *params,
                     json_t *serde_params, int jsonl)
{
    json_t *tbl = json_object(), *sd = json_object();
    const char *name = json_string_value(json_object_get(y, "name"));
    const char *db = json_string_value(json_object_get(y, "database"));
    const char *desc = json_string_value(json_object_get(y, "description"));
    const char *loc = json_string_value(json_object_get(y, "location"));

    if (name) {
        json_object_set_new(tbl, "Name", json_string(name));
    }
    json_object_set_new(tbl, "DatabaseName", json_string(db ? db : default_db));
    if (desc) {
        json_object_set_new(tbl, "Description", json_string(desc));
    }
    json_object_set_new(tbl, "TableType", json_string("EXTERNAL_TABLE"));
    json_object_set_new(tbl, "Parameters", params);
    json_object_set_new(sd, "Columns", cols);
    if (loc) {
        json_object_set_new(sd, "Location", json_string(loc));
    }
    json_object_set_new(sd, "SerdeInfo",
                        json_pack("{s:s,s:o}", "SerializationLibrary",
                                  jsonl ? "org.openx.data.jsonserde.JsonSerDe"
                                        : "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
                                  "Parameters", serde_params));
    json_object_set_new(tbl, "StorageDescriptor", sd);
    json_object_set_new(tbl, "PartitionKeys", parts);
    return json_pack("{s:o}", "Table", tbl);
}

int lake_cat_yaml_to_glue(const char *path, const char *default_db, json_t **out)
{
    json_t *y = NULL, *cols = NULL, *parts = NULL, *params = json_object(),
           *serde_params = json_object();
    const char *format, *delim;
    int rc, jsonl = 0;

    *out = NULL;
    if ((rc = read_yaml(path, &y)) < 0 || (rc = check_keys(path, y)) < 0) {
        goto done;
    }
    format = json_string_value(json_object_get(y, "format"));
    delim = json_string_value(json_object_get(y, "delimiter"));
    if (format && strcmp(format, "csv") && strcmp(format, "jsonl") && strcmp(format, "json")) {
        rc = bad(path, "format must be csv or jsonl");
        goto done;
    }
    jsonl = format && format[0] == 'j';
    if (!json_object_get(y, "columns")) {
        rc = bad(path,
                 "columns: is required (a list of {name, type, comment} or a mapping name: type)");
        goto done;
    }
    if ((rc = columns(path, "columns", json_object_get(y, "columns"), NULL, &cols)) < 0 ||
        (rc = columns(path, "partitions", json_object_get(y, "partitions"), "string", &parts)) <
            0 ||
        (rc = params_from(path, y, jsonl, params, serde_params)) < 0) {
        goto done;
    }
    if (delim) {
        json_object_set_new(serde_params, "field.delim", json_string(delim));
    }
    *out = build(y, default_db, cols, parts, params, serde_params, jsonl);
    cols = parts = params = serde_params = NULL;
    if (!*out) {
        rc = lake_host->error_set(WEIR_ENOMEM, "%s: out of memory", path);
    }

done:
    json_decref(y);
    json_decref(cols);
    json_decref(parts);
    json_decref(params);
    json_decref(serde_params);
    return rc;
}
