/*
 * libdtmetrics - instruments: counters, gauges and summaries recorded from
 * any thread and exported by the client every interval.
 *
 * A series is a metric name plus a set of dimensions on one client.  Get a
 * handle once (the name and dimensions are normalized and serialized then),
 * record through it as often as you like:
 *
 *     dtm_counter *requests;
 *     dtm_dimension d[] = {{"method", "GET"}};
 *     dtm_counter_get(client, "http.requests", d, 1, NULL, &requests);
 *     ...
 *     dtm_counter_add_int(requests, 1);         (any thread, a few ns)
 *     ...
 *     dtm_counter_release(requests);
 *
 * Every export interval (the client's flush: its background thread, or
 * dtm_client_flush in manual mode, and dtm_client_close) collects each
 * series: a counter becomes "count,delta=" of what was added in the
 * interval, a gauge the interval's min/max/sum/count (or its last value),
 * a summary the min/max/sum/count of what was recorded; all lines of one
 * collection carry its timestamp.  A series with nothing to say in an
 * interval writes no line.
 *
 * Recording functions never allocate, never lock and never fail: a NaN or
 * infinite value is ignored and counted (dtm_metrics_stats).
 *
 * Handles stay valid until released and at most until the client is freed.
 * A series whose handles are all released and that has had nothing to say
 * for series_expiry_intervals intervals is removed (its memory freed).
 *
 * fork(): a child process never sends what the parent recorded; its client
 * answers DTM_ESTATE and recording through inherited handles is harmless
 * and goes nowhere.  Create a new client in the child.
 */
#ifndef DTMETRICS_METRICS_H
#define DTMETRICS_METRICS_H

#include "common.h"
#include "line.h"
#include "client.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dtm_counter dtm_counter;
typedef struct dtm_gauge dtm_gauge;
typedef struct dtm_summary dtm_summary;

/** How a gauge is exported. */
typedef enum dtm_gauge_mode {
    /** min, max, sum and count of the values set during the interval (default) */
    DTM_GAUGE_SUMMARY = 0,
    /** the last value set during the interval */
    DTM_GAUGE_LAST_VALUE = 1
} dtm_gauge_mode;

/**
 * Optional description of a metric, sent once per metric key as a metadata
 * line (the first series of a key that has it wins).  Zero it or call
 * dtm_instrument_options_init.  Strings are copied.
 */
typedef struct dtm_instrument_options {
    const char *unit;         /**< e.g. "ms", "Byte", "{request}/s"; invalid units are dropped */
    const char *description;
    const char *display_name;
    dtm_gauge_mode gauge_mode;/**< gauges only */
} dtm_instrument_options;

DTM_EXTERN void dtm_instrument_options_init(dtm_instrument_options *opts);

/**
 * Find or create the series (name, dims) on client c and return a handle
 * with a reference.  opts may be NULL.
 * Errors: DTM_EINVAL (NULL arguments; the series exists as another kind),
 * DTM_EKEY, DTM_EDIMS, DTM_EFULL (the client's max_series is reached; the
 * refusal is counted), DTM_ENOMEM, DTM_ESTATE (closed client, or in a
 * forked child).  Thread-safe (takes the registry's mutex).
 */
DTM_EXTERN dtm_status dtm_counter_get(dtm_client *c, const char *name, const dtm_dimension *dims,
                                      size_t n_dims, const dtm_instrument_options *opts,
                                      dtm_counter **out);
DTM_EXTERN dtm_status dtm_gauge_get(dtm_client *c, const char *name, const dtm_dimension *dims,
                                    size_t n_dims, const dtm_instrument_options *opts,
                                    dtm_gauge **out);
DTM_EXTERN dtm_status dtm_summary_get(dtm_client *c, const char *name, const dtm_dimension *dims,
                                      size_t n_dims, const dtm_instrument_options *opts,
                                      dtm_summary **out);

/** Add to a counter (any thread; lock-free; NaN/Inf ignored and counted). */
DTM_EXTERN void dtm_counter_add(dtm_counter *h, double delta);
/** Add an exact integer to a counter (any thread; one atomic add). */
DTM_EXTERN void dtm_counter_add_int(dtm_counter *h, int64_t delta);
/** Set a gauge (any thread; lock-free). */
DTM_EXTERN void dtm_gauge_set(dtm_gauge *h, double value);
/** Record one value into a summary (any thread; lock-free). */
DTM_EXTERN void dtm_summary_record(dtm_summary *h, double value);

/** Give a handle back; NULL is a no-op.  The handle must not be used after. */
DTM_EXTERN void dtm_counter_release(dtm_counter *h);
DTM_EXTERN void dtm_gauge_release(dtm_gauge *h);
DTM_EXTERN void dtm_summary_release(dtm_summary *h);

/** Statistics of the instruments of a client. */
typedef struct dtm_metrics_statistics {
    uint64_t series;          /**< live series */
    uint64_t series_refused;  /**< dtm_*_get refused because of max_series */
    uint64_t series_expired;  /**< series removed after being idle */
    uint64_t invalid_values;  /**< NaN/Inf recordings ignored (and overflowing sums) */
    uint64_t collections;     /**< intervals collected */
    uint64_t lines_collected; /**< lines the collections gave to the client's queue */
} dtm_metrics_statistics;

/** Errors: DTM_EINVAL. */
DTM_EXTERN dtm_status dtm_metrics_stats(dtm_client *c, dtm_metrics_statistics *st);

/**
 * Collect the instruments now (normally the client does it on every
 * flush): their lines are queued on the client with the timestamp
 * timestamp_ms (0: now).  Errors: DTM_EINVAL, DTM_ESTATE.
 */
DTM_EXTERN dtm_status dtm_metrics_collect(dtm_client *c, int64_t timestamp_ms);

#ifdef __cplusplus
}
#endif

#endif /* DTMETRICS_METRICS_H */
