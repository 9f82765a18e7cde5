/*
 * libdtmetrics - line parser / validator: would the ingest API accept this
 * line, and if not, why and where?
 */
#ifndef DTMETRICS_PARSE_H
#define DTMETRICS_PARSE_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** What kind of line was parsed. */
typedef enum dtm_line_kind {
    DTM_LINE_INVALID = 0,  /**< not a valid line (see reason/offset) */
    DTM_LINE_GAUGE = 1,    /**< "key gauge,<number>" or a bare number */
    DTM_LINE_SUMMARY = 2,  /**< "key gauge,min=..,max=..,sum=..,count=.." */
    DTM_LINE_COUNTER = 3,  /**< "key count,delta=<number>" */
    DTM_LINE_METADATA = 4, /**< "#key gauge|count dt.meta.*=..." */
    DTM_LINE_EMPTY = 5     /**< empty or only white space: nothing to send */
} dtm_line_kind;

/**
 * Result of dtm_parse_line.  Views (key, payload) point into the parsed line
 * and are valid as long as it is.
 */
typedef struct dtm_parse_result {
    dtm_line_kind kind;
    size_t error_offset;      /**< byte offset of the first problem (kind INVALID) */
    const char *error;        /**< static English reason (kind INVALID), else NULL */
    const char *key;          /**< the metric key (without '#') */
    size_t key_len;
    size_t n_dimensions;      /**< dimensions on the line */
    int has_timestamp;        /**< 1 if a timestamp was given */
    int64_t timestamp_ms;     /**< the timestamp, when has_timestamp */
    double value;             /**< gauge value or counter delta */
    double min, max, sum;     /**< summary fields */
    int64_t count;            /**< summary count */
} dtm_parse_result;

/**
 * Validate one line (no line terminator; a trailing CR is an error) against
 * the rules of the ingest API: key syntax and length, dimension syntax,
 * escapes and quoting, the 50-dimension and 50,000-unit limits, the payload
 * forms, summary consistency, valid UTF-8.  It does not judge the timestamp
 * against a clock.  Everything the serializer writes is accepted.
 *
 * Returns DTM_OK (res->kind says what it was, DTM_LINE_EMPTY included),
 * DTM_ESYNTAX (res->error and res->error_offset say why and where), or
 * DTM_EINVAL (res NULL, or line NULL with len > 0).
 * Pure and thread-safe; allocation-free.
 */
DTM_EXTERN dtm_status dtm_parse_line(const char *line, size_t len, dtm_parse_result *res);

#ifdef __cplusplus
}
#endif

#endif /* DTMETRICS_PARSE_H */
