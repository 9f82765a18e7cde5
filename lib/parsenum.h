/*
 * Protocol layer: the numbers of the line protocol read back exactly
 * (decimal doubles, 64-bit integers).  Used by the line parser.
 * Pure apart from one process-wide, immutable "C" locale handle;
 * reentrant; allocation-free.  Never installed.
 */
#ifndef DTMETRICS_PARSENUM_H
#define DTMETRICS_PARSENUM_H

#include <stddef.h>
#include <stdint.h>

#include "internal.h"

/* Parse s[0..n) as a decimal number:
     [+-] digits [. digits] [(e|E) [+-] digits]
   where either the integer or the fraction digits may be missing, not both.
   The result is the correctly rounded double (round to nearest, ties to
   even), whatever the digit count and LC_NUMERIC.
   Returns DTM_OK (*out set); DTM_ESYNTAX with *why a static English reason
   ("NaN and Infinity are not allowed", "hexadecimal numbers are not
   allowed", "number has no digits", "number is out of range", ...) and
   *why_at the offset in s of the problem (<= n); or DTM_ENOMEM when the "C"
   locale object could not be created (never with glibc or musl). */
dtm_status dtm__parse_double(const char *s, size_t n, double *out, const char **why,
                             size_t *why_at);

/* Parse s[0..n) as a decimal integer: digits, with an optional leading '+'
   or '-' when allow_sign.  Returns DTM_OK (*out set); DTM_ESYNTAX with
   *bad_at at the first character that is not allowed (n when s is empty or
   only a sign); DTM_EVALUE when it does not fit int64_t (*bad_at 0). */
dtm_status dtm__parse_int64(const char *s, size_t n, int allow_sign, int64_t *out,
                            size_t *bad_at);

/* 1 if s[0..n) starts with "nan" or "inf" in any case (how NaN and
   Infinity are usually spelled), else 0. */
int dtm__starts_nan_inf(const char *s, size_t n);

#endif /* DTMETRICS_PARSENUM_H */
