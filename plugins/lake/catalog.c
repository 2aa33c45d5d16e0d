/* catalog.c - placeholder until the catalog service lands: registers nothing. */
#include "lake.h"

int lake_register_catalog(weir_registry *reg)
{
    (void)reg;
    return WEIR_OK;
}
