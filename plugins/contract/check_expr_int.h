/*
 * check_expr_int.h - the compiled form of a `check` expression, shared by
 * its parser (check_expr.c) and evaluator (check_eval.c). Private to them.
 *
 * The AST is a flat array of nodes referring to each other by index, so it is
 * freed in one go and evaluated without allocating.
 */
#ifndef WEIR_CONTRACT_CHECK_EXPR_INT_H
#define WEIR_CONTRACT_CHECK_EXPR_INT_H

#include <stddef.h>

#include "check_expr.h"

enum node_op {
    N_NUM,
    N_STR,
    N_BOOL,
    N_NULL,
    N_COL,
    N_OR,
    N_AND,
    N_NOT,
    N_EQ,
    N_NE,
    N_LT,
    N_LE,
    N_GT,
    N_GE,
    N_ISNULL,  /* neg: IS NOT NULL */
    N_IN,      /* a: operand, list [b, b+c) in e->list; neg: NOT IN */
    N_LIKE,    /* neg: NOT LIKE */
    N_BETWEEN, /* a BETWEEN b AND c; neg */
    N_ADD,
    N_SUB,
    N_MUL,
    N_DIV,
    N_MOD,
    N_NEG
};

struct node {
    enum node_op op;
    int a, b, c;
    int neg;
    double num;
    size_t str, len; /* N_STR: offset/length in e->strings; N_COL: column index in a */
};

struct check_expr {
    struct node *nodes;
    size_t nnodes, capnodes;
    int *list;
    size_t nlist, caplist;
    char *strings;
    size_t nstrings, capstrings;
    char **columns;
    size_t *bind;
    size_t ncolumns;
    int root;
};

#endif
