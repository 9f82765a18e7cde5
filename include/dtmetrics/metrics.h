/*
 * libdtmetrics - instruments: counters, gauges and summaries recorded from
 * any thread and exported periodically.
 * (Being written.)
 */
#ifndef DTMETRICS_METRICS_H
#define DTMETRICS_METRICS_H

#include "common.h"
#include "line.h"
#include "client.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif

#endif /* DTMETRICS_METRICS_H */
