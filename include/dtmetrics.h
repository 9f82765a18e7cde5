/*
 * libdtmetrics - send metrics to Dynatrace from C programs.
 *
 * The one header users include.  See README for an overview; every
 * declaration is documented in the module header that holds it.
 */
#ifndef DTMETRICS_H
#define DTMETRICS_H

#include "dtmetrics/common.h"
#include "dtmetrics/normalize.h"
#include "dtmetrics/line.h"
#include "dtmetrics/parse.h"
#include "dtmetrics/client.h"
#include "dtmetrics/metrics.h"

#endif /* DTMETRICS_H */
