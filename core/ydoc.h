/*
 * ydoc.h - a YAML document as a small tree with source positions, built on
 * libyaml's event API. This is the only place that touches libyaml.
 *
 * Refused (each as a file:line:col diagnostic): duplicate mapping keys,
 * non-scalar keys, aliases and anchors (no billion-laughs), more than one
 * document, nesting deeper than WEIR_YDOC_MAX_DEPTH, input larger than
 * WEIR_YDOC_MAX_BYTES, more than WEIR_YDOC_MAX_NODES nodes, and anything libyaml
 * itself rejects. Tags other than the standard !!str/!!int/... are refused.
 */
#ifndef WEIR_CORE_YDOC_H
#define WEIR_CORE_YDOC_H

#include <stddef.h>

#include <jansson.h>

#include "diag.h"

#define WEIR_YDOC_MAX_DEPTH 64
#define WEIR_YDOC_MAX_BYTES (4u << 20)
#define WEIR_YDOC_MAX_NODES 200000

enum weir_ynode_kind { WEIR_YNODE_SCALAR, WEIR_YNODE_MAP, WEIR_YNODE_SEQ };

struct weir_ynode {
    enum weir_ynode_kind kind;
    int line, col;       /* 1-based start of the node */
    /* scalar */
    char *str;           /* NUL-terminated (may contain NULs up to len) */
    size_t len;
    int plain;           /* unquoted plain scalar: may mean null/bool/number */
    /* map and seq: n children; for a map keys[i] -> items[i], keys are scalars */
    size_t n;
    struct weir_ynode **keys;
    struct weir_ynode **items;
};

/* Parses buf (len bytes; need not be NUL-terminated). On success *out is the
 * root (caller frees with weir_ynode_free); an empty document gives a NULL
 * *out and WEIR_OK. On error adds diagnostics to diags (file names them) and
 * returns WEIR_EINVALID. */
int weir_ydoc_parse(const char *buf, size_t len, const char *file, struct weir_ynode **out,
                    struct weir_diags *diags);

/* Reads and parses a file (size-checked before reading). */
int weir_ydoc_parse_file(const char *path, struct weir_ynode **out, struct weir_diags *diags);

void weir_ynode_free(struct weir_ynode *node);

/* Value of key in a map node, borrowed, or NULL. */
struct weir_ynode *weir_ynode_get(const struct weir_ynode *map, const char *key);

/* Converts a node to JSON, YAML 1.2 core schema: plain null/~/empty -> null,
 * true/false -> boolean, integers (decimal, 0x, 0o) and floats -> numbers,
 * everything else (and every quoted scalar) -> string. New reference. */
json_t *weir_ynode_to_json(const struct weir_ynode *node);

#endif
