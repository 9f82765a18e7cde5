/*
 * libdtmetrics - the line serializer: metric name + dimensions + value ->
 * one line of the Dynatrace metrics ingest line protocol.
 */
#ifndef DTMETRICS_LINE_H
#define DTMETRICS_LINE_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** One dimension: a key and a value, both NUL-terminated UTF-8, not normalized. */
typedef struct dtm_dimension {
    const char *key;
    const char *value;
} dtm_dimension;

/** Opaque serializer: a prefix and the dimensions that go on every line. */
typedef struct dtm_serializer dtm_serializer;

/**
 * Options of dtm_serializer_new.  Zero the struct or call
 * dtm_serializer_options_init, then set what you need.  All strings are
 * copied by dtm_serializer_new.
 */
typedef struct dtm_serializer_options {
    const char *prefix;                      /**< NULL or "" = none */
    const dtm_dimension *default_dimensions; /**< lowest precedence */
    size_t n_default_dimensions;
    const dtm_dimension *static_dimensions;  /**< highest precedence (spec section 6) */
    size_t n_static_dimensions;
    int oneagent_enrichment;                 /**< 1: add OneAgent metadata (spec section 7) */
    /* --- members after this line are libdtmetrics extensions --- */
    /** With oneagent_enrichment: also read dt_host_metadata.properties from the
        enrichment directory (host tags and properties; later files win). */
    int host_metadata;
    /** Directory of the enrichment files; NULL = /var/lib/dynatrace/enrichment. */
    const char *enrichment_dir;
    /** Path of OneAgent's virtual indirection file; NULL = its standard relative name. */
    const char *enrichment_indirection_file;
    /** Added as dt.metrics.source=<value> with static precedence when non-empty. */
    const char *metrics_source;
    /** Diagnostics (dropped dimensions, implausible timestamps); NULL = silent. */
    dtm_log_fn log_fn;
    void *log_userdata;
} dtm_serializer_options;

/** Metric types, for metadata lines. */
typedef enum dtm_metric_type {
    DTM_METRIC_GAUGE = 0,
    DTM_METRIC_COUNTER = 1
} dtm_metric_type;

/** Set every member to "off / empty". opts must not be NULL. */
DTM_EXTERN void dtm_serializer_options_init(dtm_serializer_options *opts);

/**
 * Create a serializer.  opts may be NULL (no prefix, no dimensions).
 * Dimension keys are normalized here; entries whose key normalizes to nothing
 * or whose value is empty are dropped (logged).  Enrichment files, when asked
 * for, are read here and only here; their absence is not an error.
 * The serializer is immutable afterwards and may be used from any number of
 * threads at once.
 * Errors: DTM_EINVAL (out NULL, n_* > 0 with a NULL array), DTM_ENOMEM,
 * DTM_EDIMS (the default and static dimensions alone exceed 50).
 */
DTM_EXTERN dtm_status dtm_serializer_new(dtm_serializer **out, const dtm_serializer_options *opts);

/** Free a serializer; NULL is a no-op. */
DTM_EXTERN void dtm_serializer_free(dtm_serializer *s);

/**
 * Serialize one counter, gauge or summary line, without a trailing newline,
 * into out (snprintf convention: see <dtmetrics/normalize.h>).
 *
 * name: NUL-terminated metric name, joined to the prefix and normalized.
 * dims/n_dims: per-line dimensions (dims may be NULL when n_dims is 0);
 *   entries with a NULL/empty key or value are skipped.
 * timestamp_ms: Unix epoch milliseconds; 0 = none.  Values outside years
 *   2000..3000 are omitted (the line is still written) and logged, the 1st,
 *   1001st, 2001st ... time.
 *
 * Errors: DTM_EINVAL, DTM_EKEY (the name normalizes to nothing, or to a key
 * under the reserved "dt." namespace, which the server refuses), DTM_EVALUE
 * (NaN/Inf, or for summaries: count < 0, count 0 with non-zero fields,
 * max < min, or the average outside [min, max] by more than 1e-6),
 * DTM_EDIMS (more than 50 dimensions after de-duplication), DTM_ELINE
 * (longer than 50,000 UTF-16 units), DTM_ETOOSMALL.
 * Thread-safe; allocation-free.
 */
DTM_EXTERN dtm_status dtm_serialize_counter(const dtm_serializer *s, const char *name,
                                            const dtm_dimension *dims, size_t n_dims,
                                            double delta, int64_t timestamp_ms, char *out,
                                            size_t out_cap, size_t *out_len);
DTM_EXTERN dtm_status dtm_serialize_gauge(const dtm_serializer *s, const char *name,
                                          const dtm_dimension *dims, size_t n_dims,
                                          double value, int64_t timestamp_ms, char *out,
                                          size_t out_cap, size_t *out_len);
DTM_EXTERN dtm_status dtm_serialize_summary(const dtm_serializer *s, const char *name,
                                            const dtm_dimension *dims, size_t n_dims,
                                            double min, double max, double sum, int64_t count,
                                            int64_t timestamp_ms, char *out, size_t out_cap,
                                            size_t *out_len);

/** A counter whose delta is an exact 64-bit integer (no rounding above 2^53). */
DTM_EXTERN dtm_status dtm_serialize_counter_int(const dtm_serializer *s, const char *name,
                                                const dtm_dimension *dims, size_t n_dims,
                                                int64_t delta, int64_t timestamp_ms, char *out,
                                                size_t out_cap, size_t *out_len);

/**
 * Serialize a metadata line (spec section 10) for the metric `name` (prefixed
 * and normalized like a data line): "#key gauge dt.meta.description=...,
 * dt.meta.unit=...,dt.meta.displayName=...".  Each of description, unit and
 * display_name may be NULL.  An invalid unit is dropped (logged).  When no
 * property survives, the result is DTM_OK with *out_len == 0 and out "":
 * there is nothing to send.
 * Errors: DTM_EINVAL, DTM_EKEY, DTM_ETOOSMALL.
 */
DTM_EXTERN dtm_status dtm_serialize_metadata(const dtm_serializer *s, const char *name,
                                             dtm_metric_type type, const char *description,
                                             const char *unit, const char *display_name,
                                             char *out, size_t out_cap, size_t *out_len);

/** Milliseconds since the Unix epoch from CLOCK_REALTIME. */
DTM_EXTERN int64_t dtm_now_ms(void);

/** Lowest and highest timestamp the serializer writes (years 2000 to 3000, UTC). */
#define DTM_TIMESTAMP_MIN_MS INT64_C(946684800000)
#define DTM_TIMESTAMP_MAX_MS INT64_C(32535215999999)

#ifdef __cplusplus
}
#endif

#endif /* DTMETRICS_LINE_H */
