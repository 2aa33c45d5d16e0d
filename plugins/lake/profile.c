/* profile.c - placeholder until the profile service lands: registers nothing. */
#include "lake.h"

int lake_register_profile(weir_registry *reg)
{
    (void)reg;
    return WEIR_OK;
}
