/* model.c - placeholder until this part lands: registers nothing. */
#include "contract.h"

int contract_register_model(weir_registry *reg)
{
    (void)reg;
    return WEIR_OK;
}
