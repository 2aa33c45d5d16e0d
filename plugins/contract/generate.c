/* generate.c - placeholder until this part lands: registers nothing. */
#include "contract.h"

int contract_register_generate(weir_registry *reg)
{
    (void)reg;
    return WEIR_OK;
}
