/*
 * export.h - contract.export: one contract as text for the peers' tools
 * (pyspark quarantine split, AWS Glue DQDL, SQL violation queries, ODCS v3
 * YAML, dbt schema.yml, SodaCL). The text is deterministic: it depends only
 * on the contract (rules in contract order), never on time or locale.
 */
#ifndef WEIR_CONTRACT_EXPORT_H
#define WEIR_CONTRACT_EXPORT_H

#include "contract.h"
#include "sqlgen.h"

/* Formats, in the order `weir contract export --help` lists them. */
extern const char *const contract_export_formats[];

/* The text of c in format (one of contract_export_formats; sql uses
 * dialect d). Returns WEIR_OK with *text (caller frees), or WEIR_EINVALID
 * for an unknown format, message set. */
int contract_export(const struct contract *c, const char *format, enum sqlgen_dialect d, char **text);

/* Registers contract.export (called by contract_register_postload). */
int contract_register_export(weir_registry *reg);

#endif
