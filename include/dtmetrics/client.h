/*
 * libdtmetrics - the client: queues lines and ships them to Dynatrace.
 * (Being written; the declarations here will be completed by the export layer.)
 */
#ifndef DTMETRICS_CLIENT_H
#define DTMETRICS_CLIENT_H

#include "common.h"
#include "line.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif

#endif /* DTMETRICS_CLIENT_H */
