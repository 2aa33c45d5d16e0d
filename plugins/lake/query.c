/* query.c - placeholder until the engine service lands: registers nothing. */
#include "lake.h"

int lake_register_engine(weir_registry *reg)
{
    (void)reg;
    return WEIR_OK;
}
