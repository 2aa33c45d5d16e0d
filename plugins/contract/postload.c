/* postload.c - placeholder until this part lands: registers nothing. */
#include "contract.h"

int contract_register_postload(weir_registry *reg)
{
    (void)reg;
    return WEIR_OK;
}
