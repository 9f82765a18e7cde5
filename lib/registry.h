/*
 * Instruments layer: the series registry.  A series is one metric key with
 * one set of dimensions (after normalization) and one kind; its identity
 * ("key,dim=value,...") is serialized once, at creation, and every export
 * interval appends only the payload.  Never installed.
 *
 * Recording (dtm__series_*) is lock-free and allocation-free.  Creation,
 * lookup, collection and expiry take the registry's mutex; recording never
 * does.
 */
#ifndef DTMETRICS_REGISTRY_H
#define DTMETRICS_REGISTRY_H

#include "internal.h"

typedef enum dtm__series_kind {
    DTM__SERIES_COUNTER = 0,
    DTM__SERIES_GAUGE = 1,       /* min/max/sum/count of the interval */
    DTM__SERIES_GAUGE_LAST = 2,  /* last value of the interval */
    DTM__SERIES_SUMMARY = 3      /* recorded values exported as a summary gauge */
} dtm__series_kind;

typedef struct dtm__series dtm__series;
typedef struct dtm__registry dtm__registry;

/* Default cap on live series, and default expiry (intervals without data). */
#define DTM__DEFAULT_MAX_SERIES 10000
#define DTM__DEFAULT_EXPIRY_INTERVALS 10

typedef struct dtm__metric_meta {
    const char *unit, *description, *display_name; /* each may be NULL */
} dtm__metric_meta;

/* s is borrowed: it must outlive the registry.  max_series 0 = the default;
   expiry_intervals 0 = never expire. */
dtm_status dtm__registry_new(dtm__registry **out, const dtm_serializer *s, size_t max_series,
                             unsigned expiry_intervals);
void dtm__registry_free(dtm__registry *r);

/* Find or create the series; takes a reference (release it with
   dtm__series_release).  Errors: DTM_EINVAL (an existing series of another
   kind), DTM_EKEY, DTM_EDIMS, DTM_EFULL (the cap is reached: counted),
   DTM_ENOMEM.  meta may be NULL; metadata of a metric key is sent once, with
   the first collection after the first series of that key that has it. */
dtm_status dtm__registry_get(dtm__registry *r, dtm__series_kind kind, const char *name,
                             const dtm_dimension *dims, size_t n_dims, const dtm__metric_meta *meta,
                             dtm__series **out);
void dtm__series_release(dtm__series *s);

/* Recording: any thread, lock-free, no allocation.  Non-finite values are
   ignored and counted (dtm__registry_stats). */
void dtm__series_add(dtm__series *s, double delta);
void dtm__series_add_int(dtm__series *s, int64_t delta);
void dtm__series_set(dtm__series *s, double value);  /* gauges */
void dtm__series_record(dtm__series *s, double value); /* summaries (and gauges) */

/* Called with every line of a collection (no trailing newline).  A non-OK
   return is counted by the caller of collect, not retried. */
typedef dtm_status (*dtm__line_sink)(const char *line, size_t len, void *userdata);

/* Collect the interval: every series with something to say becomes one line
   (timestamp ts, 0 = none), metadata lines first; series idle for the expiry
   count and not referenced are freed.  *n_lines (may be NULL) receives the
   number of lines given to the sink.  DTM_ENOMEM only if the line buffer
   cannot be allocated. */
dtm_status dtm__registry_collect(dtm__registry *r, int64_t ts, dtm__line_sink sink, void *userdata,
                                 size_t *n_lines);

typedef struct dtm__registry_stats {
    size_t series;          /* live series */
    uint64_t refused;       /* series refused because of the cap */
    uint64_t invalid_values;/* NaN/Inf recordings ignored */
    uint64_t expired;       /* series freed after being idle */
    uint64_t sink_errors;   /* lines the sink did not take */
} dtm__registry_stats;

void dtm__registry_stats_get(dtm__registry *r, dtm__registry_stats *st);

#endif /* DTMETRICS_REGISTRY_H */
