/*
 * libdtmetrics - pure text and number functions of the line protocol.
 *
 * Every function here is pure: no I/O, no globals, no locale, reentrant and
 * safe from any number of threads at once.
 *
 * Output buffers follow the snprintf convention: out_cap counts the
 * terminating NUL; on success out is NUL-terminated and *out_len is its
 * length in bytes.  On DTM_ETOOSMALL, *out_len is the length that would have
 * been written (without the NUL) and out holds the empty string (when
 * out_cap > 0), never a partial result.
 *
 * Inputs are (pointer, length) pairs of UTF-8 that may contain NUL bytes and
 * ill-formed sequences; each maximal ill-formed subsequence counts as one
 * invalid code point.  Output is always valid UTF-8.  Lengths in the protocol
 * are UTF-16 code units (a code point above U+FFFF counts 2).
 */
#ifndef DTMETRICS_NORMALIZE_H
#define DTMETRICS_NORMALIZE_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Longest metric key, in UTF-16 units (and bytes: keys are ASCII). */
#define DTM_MAX_METRIC_KEY_LEN 255
/** Longest dimension key, in UTF-16 units (and bytes). */
#define DTM_MAX_DIMENSION_KEY_LEN 100
/** Longest dimension value on the wire, escapes included, in UTF-16 units. */
#define DTM_MAX_DIMENSION_VALUE_LEN 255
/** Bytes that a normalized dimension value can take at most (without NUL). */
#define DTM_MAX_DIMENSION_VALUE_BYTES (3 * DTM_MAX_DIMENSION_VALUE_LEN)
/** Most dimensions on one line. */
#define DTM_MAX_DIMENSIONS 50
/** Longest line, in UTF-16 units. */
#define DTM_MAX_LINE_LEN 50000
/** Longest metadata description and display name, in UTF-16 units. */
#define DTM_MAX_DESCRIPTION_LEN 65535
#define DTM_MAX_DISPLAY_NAME_LEN 300
/** Longest metadata unit, in characters. */
#define DTM_MAX_UNIT_LEN 63
/** Enough room for any number written by dtm_format_double/int64, with NUL. */
#define DTM_NUMBER_BUFSIZE 32

/**
 * Normalize a metric key (spec section 2): only the first 255 UTF-16 units are
 * considered; invalid characters become '_' (runs collapse); empty sections
 * vanish; a trailing dot is dropped.
 * Errors: DTM_EINVAL (in NULL with in_len > 0, out NULL with out_cap > 0,
 * out_len NULL), DTM_EKEY (empty, or a leading dot), DTM_ETOOSMALL.
 */
DTM_EXTERN dtm_status dtm_normalize_metric_key(const char *in, size_t in_len, char *out,
                                               size_t out_cap, size_t *out_len);

/**
 * Normalize a dimension key (spec section 3.1): lower-cased, first 100 UTF-16
 * units, each section starting with a-z or '_'.
 * Errors as dtm_normalize_metric_key; DTM_EKEY when nothing is left.
 */
DTM_EXTERN dtm_status dtm_normalize_dimension_key(const char *in, size_t in_len, char *out,
                                                  size_t out_cap, size_t *out_len);

/**
 * Normalize and escape a dimension value for the wire (spec section 3.2):
 * control, format, private-use, separator and noncharacter code points become
 * '_'; ',', '=', ' ', '\\' and '"' are escaped (only '"' and '\\' inside a value
 * the caller already quoted); at most 255 UTF-16 units, cut before an escape
 * or a code point that would not fit.  Empty input (and the value "") gives
 * DTM_OK and "": such a dimension is not written.
 * Errors: DTM_EINVAL, DTM_ETOOSMALL.
 */
DTM_EXTERN dtm_status dtm_normalize_dimension_value(const char *in, size_t in_len, char *out,
                                                    size_t out_cap, size_t *out_len);

/**
 * Write a double exactly as the line protocol does (spec section 4.1):
 * integral values in [-2^63, 2^63) as integers ("-0.0" as "0"); others as the
 * shortest digits that read back to the same double, plain for
 * 1e-3 <= |v| < 1e7, else "d.dddE[-]x".  No locale is consulted.
 * Errors: DTM_EVALUE (NaN, +-Inf), DTM_EINVAL, DTM_ETOOSMALL.
 */
DTM_EXTERN dtm_status dtm_format_double(double value, char *out, size_t out_cap,
                                        size_t *out_len);

/** Write a signed 64-bit integer in decimal.  Errors: DTM_EINVAL, DTM_ETOOSMALL. */
DTM_EXTERN dtm_status dtm_format_int64(int64_t value, char *out, size_t out_cap,
                                       size_t *out_len);

/**
 * Normalize a metadata string (description or display name, spec section 10)
 * to at most max_units UTF-16 units of content: quoted when it holds a space,
 * ',', '=', '"', '\\' or a line feed; control, private-use and separator code
 * points dropped; a line feed written as "\n".
 * Errors: DTM_EINVAL, DTM_EVALUE (nothing left: the property is dropped),
 * DTM_ETOOSMALL.
 */
DTM_EXTERN dtm_status dtm_normalize_metadata_string(const char *in, size_t in_len,
                                                    size_t max_units, char *out,
                                                    size_t out_cap, size_t *out_len);

/**
 * Whether a metadata unit is valid: 1 to 63 characters from
 * A-Z a-z 0-9 % [ ] { } / _.  Returns 1 or 0 (0 for NULL).
 */
DTM_EXTERN int dtm_unit_is_valid(const char *unit, size_t unit_len);

#ifdef __cplusplus
}
#endif

#endif /* DTMETRICS_NORMALIZE_H */
