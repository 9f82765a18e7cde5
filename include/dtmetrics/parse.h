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
 * Bits of dtm_parse_result.warnings: things a valid line may carry that a
 * caller may want to know about.  None of them makes the line invalid.
 */
typedef enum dtm_parse_warning {
    /** The metric key is shorter than 3 characters: the documentation asks
        for 3 to 255, but normalization produces keys like "_" and no client
        enforces the minimum. */
    DTM_PARSE_WARN_SHORT_KEY = 0x1,
    /** A dimension key appears more than once: the server accepts the line
        but keeps only one of the values. */
    DTM_PARSE_WARN_DUPLICATE_DIMENSION = 0x2
} dtm_parse_warning;

/**
 * Result of dtm_parse_line.  Views (key, dimensions, payload) point into the
 * parsed line and are valid as long as it is.
 *
 * On DTM_OK every member describes the line (members that do not apply to
 * its kind are zero).  On DTM_ESYNTAX only kind (DTM_LINE_INVALID), error
 * and error_offset are set; every other member is zero.
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
    double min, max, sum;     /**< summary fields; a single-value gauge v gives v, v, v */
    int64_t count;            /**< summary count; 1 for a single-value gauge */
    /* --- members after this line were added with the parser --- */
    const char *dimensions;   /**< "k=v,k2=v2" as written (no leading ','), or NULL */
    size_t dimensions_len;
    const char *payload;      /**< the payload as written ("gauge,1.5", "80.6",
                                   "count,delta=3"; for metadata lines the type
                                   and the properties), without the timestamp */
    size_t payload_len;
    dtm_line_kind metadata_type; /**< metadata lines: DTM_LINE_GAUGE or DTM_LINE_COUNTER */
    unsigned warnings;        /**< dtm_parse_warning bits */
} dtm_parse_result;

/**
 * Validate one line (no line terminator; a trailing CR is an error) against
 * the rules of the ingest API: key syntax and length, dimension syntax,
 * escapes and quoting, the 50-dimension and 50,000-unit limits, the payload
 * forms, summary consistency, valid UTF-8.  It does not judge the timestamp
 * against a clock.  Everything the serializer writes is accepted.
 *
 * Accepted forms (spec section 1.1 plus what the documentation allows):
 *   key[,dim=value...] gauge,<number> [<timestamp>]
 *   key[,dim=value...] <number> [<timestamp>]          (single-value gauge)
 *   key[,dim=value...] gauge,min=<n>,max=<n>,sum=<n>,count=<int> [<timestamp>]
 *   key[,dim=value...] count,delta=<number> [<timestamp>]
 *   #key gauge|count dt.meta.<property>=<value>[,dt.meta.<property>=<value>...]
 * Parts are separated by exactly one space (no tabs).
 *
 * Rules and deliberate choices:
 * - Metric key: ASCII; first character A-Z a-z _; every later section starts
 *   with A-Z a-z 0-9 _; other characters A-Z a-z 0-9 _ -; sections are
 *   separated by single dots (no empty, leading or trailing section); at most
 *   255 characters.  A later section may start with a digit ("a.0b"), as
 *   the documentation allows (spec 13.2: one server rejected that in 2023).
 *   Keys starting with "dt." are rejected (reserved; the server refuses
 *   them and the serializer does not write them).  Keys of 1 or 2
 *   characters are accepted with DTM_PARSE_WARN_SHORT_KEY (the serializer
 *   writes "_" for an all-invalid name; the documentation asks for 3).
 * - Dimension key: a-z 0-9 _ - : and '.', every section starting with a-z or
 *   '_' (upper case is rejected, as the server does), no empty section, at
 *   most 100 characters.  Repeated keys are accepted (the server accepts
 *   them and keeps one value) and flagged DTM_PARSE_WARN_DUPLICATE_DIMENSION.
 * - Dimension value: at least one character.  Unquoted: ',', '=', ' ', '\\'
 *   and '"' only as \, \= "\ " \\ \" (any other escape is an error).
 *   Quoted ("..."): ',', '=' and ' ' literal, only \" and \\ as escapes; the
 *   closing quote must be followed by ',' or ' '.  At most 255 UTF-16 units
 *   as written (escapes and quotes included), the limit the serializer
 *   writes to.  Control characters (U+0000-U+001F, U+007F-U+009F) are
 *   rejected in values; the normalizer never writes them.
 * - At most 50 dimensions.  Data lines are at most 50,000 UTF-16 units;
 *   metadata lines are not held to that (a description alone may have
 *   65,535 units).
 * - Numbers: decimal only: [+-] digits [. digits] [(e|E) [+-] digits], the
 *   integer or the fraction digits may be missing but not both ("5.", ".5"
 *   are accepted, ".", "-", "1e" are not).  NaN, Infinity, hexadecimal and
 *   numbers that overflow a double are rejected; underflow to 0 is accepted.
 * - Summary: the four fields min, max, sum, count each exactly once, in any
 *   order; count a decimal integer.  Checked as spec 4.3 in this order:
 *   count < 0; count 0 with a non-zero field; max < min; the average
 *   sum/count more than 1e-6 below min or above max.
 * - Counter: only "count,delta=<number>" (the documentation requires delta).
 * - Timestamp: decimal digits only, fitting in int64_t.
 * - Metadata line: '#', a metric key (no dimensions), one space, "gauge" or
 *   "count", one space, properties separated by ',' (a single space after
 *   the ',' is tolerated, the documentation shows one).  Properties:
 *   dt.meta.description (at most 65,535 units), dt.meta.displayName (also
 *   written dt.meta.displayname in the documentation; at most 300 units)
 *   and dt.meta.unit (1 to 63 of A-Z a-z 0-9 % [ ] { } / _).  Other names
 *   are rejected; repeated properties are accepted.  Values are plain (no
 *   space, ',', '=', '"' or '\\') or quoted.  Inside quotes a backslash is
 *   literal except in \" (a quote) and \n (a line feed), and the first '"'
 *   without a backslash ends the value (the serializer never writes a
 *   backslash before a quote: normalizer deviation D7).  Lengths count the
 *   content with \" and \n as one unit.  No control characters.
 * - The whole line must be well-formed UTF-8; keys are ASCII.
 *
 * error_offset is the byte offset of the first problem (for a too-long part,
 * the first character past the limit).
 *
 * Returns DTM_OK (res->kind says what it was, DTM_LINE_EMPTY included),
 * DTM_ESYNTAX (res->error and res->error_offset say why and where), or
 * DTM_EINVAL (res NULL, or line NULL with len > 0).  DTM_ENOMEM only if the
 * process-wide "C" locale object used to convert long numbers could not be
 * created (glibc hands out a static one; a later call tries again).
 * Pure and thread-safe; allocation-free.
 */
DTM_EXTERN dtm_status dtm_parse_line(const char *line, size_t len, dtm_parse_result *res);

#ifdef __cplusplus
}
#endif

#endif /* DTMETRICS_PARSE_H */
