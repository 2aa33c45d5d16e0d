/*
 * export_int.h - helpers shared by export.c and export_yaml.c, and the
 * format writers export_yaml.c provides.
 */
#ifndef WEIR_CONTRACT_EXPORT_INT_H
#define WEIR_CONTRACT_EXPORT_INT_H

#include <stdio.h>

#include "contract.h"

/* s as a JSON string ("" for NULL). */
void export_q(FILE *f, const char *s);
/* Any JSON value, compact. */
void export_val(FILE *f, const json_t *v);
/* A JSON array as "[a, b]". */
void export_list(FILE *f, const json_t *a);
/* A rule's spec field; a number (or def); a string (or def). */
const json_t *export_arg(const struct contract_rule *r, const char *key);
double export_num(const struct contract_rule *r, const char *key, double def);
const char *export_str_arg(const struct contract_rule *r, const char *key, const char *def);
/* "t" of "db.t". */
const char *export_bare_table(const struct contract *c);
/* The columns of a grain_unique rule (grain, or columns). */
const json_t *export_grain_of(const struct contract_rule *r);

void export_odcs(FILE *f, const struct contract *c);
void export_dbt(FILE *f, const struct contract *c);
void export_soda(FILE *f, const struct contract *c);

#endif
