/*
 * weir/weir.h - umbrella header of the weir plugin SDK. A plugin includes this
 * and nothing from the weir source tree. See weir/plugin.h for the plugin
 * contract and weir/error.h for return codes.
 */
#ifndef WEIR_WEIR_H
#define WEIR_WEIR_H

#include "weir/error.h"
#include "weir/plugin.h"
#include "weir/util.h"

#endif /* WEIR_WEIR_H */
