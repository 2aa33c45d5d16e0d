/*
 * engine_int.h - what query.c (engine.query) needs from vtab.c (the
 * weir_lake SQLite virtual table module). Private to the engine files.
 */
#ifndef WEIR_LAKE_ENGINE_INT_H
#define WEIR_LAKE_ENGINE_INT_H

#include <sqlite3.h>

#include "lake.h"

/* Shared by every weir_lake table of one query's connection. */
struct lake_vtab_env {
    const char *catalog_dir;  /* absolute */
    const char *store_root;   /* absolute */
    uint64_t files_read;      /* data files scans opened, after pruning */
};

/* Registers the weir_lake module on db. Tables are then created with
 *     CREATE VIRTUAL TABLE "db"."t" USING weir_lake(db.t)
 * and expose the table's data columns, then its partition columns, with SQL
 * types INTEGER (int, bigint), REAL (double, decimal) or TEXT. env must
 * outlive db. */
int lake_vtab_register(sqlite3 *db, struct lake_vtab_env *env);

#endif
