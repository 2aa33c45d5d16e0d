/*
 * pipeline_int.h - shared by the pipeline loader's files (load, check, misc);
 * not used elsewhere.
 */
#ifndef WEIR_CORE_PIPELINE_INT_H
#define WEIR_CORE_PIPELINE_INT_H

#include "pipeline.h"
#include "ydoc.h"

/* Loader-only facts about a step: where its parts are in the file. */
struct weir_lstep {
    struct weir_pstep *s;
    const struct weir_ynode *node;
    const struct weir_ynode *with_node;
    const struct weir_ynode **needs_nodes;
    size_t nneeds;
    const struct weir_ynode *refine_node;
};

struct weir_load {
    struct weir_pipeline *p;
    const struct weir_config *cfg;
    const char *target;
    const struct weir_plugins *plugins;
    struct weir_diags *diags;
    struct weir_lstep *ls;   /* parallel to p->steps */
    size_t cap;
    int depth;
    unsigned stamp;          /* visit marks for graph searches */
};

void weir__perr(struct weir_load *ld, const struct weir_ynode *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
struct weir_tmpl *weir__tmpl_from_node(struct weir_load *ld, const struct weir_ynode *n);
struct weir_expr *weir__cond_from_node(struct weir_load *ld, const struct weir_ynode *n,
                                       const char *key);
void weir__lua_load(struct weir_load *ld, struct weir_pstep *s, const struct weir_ynode *n);
void weir__pipeline_check(struct weir_load *ld);
char *weir__dirname(const char *path);

#endif
