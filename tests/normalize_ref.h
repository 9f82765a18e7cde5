/* A literal, slow transcription of the normalization rules of the line
   protocol spec (sections 2.2, 3.1, 3.2 with deviations D2/D3, and 10), used
   by tests/test_normalize.c as an oracle for random inputs.  It works on an
   array of decoded code points and keeps the spec's look-ahead ("if it is the
   last code point"), unlike the library's single-pass state machines. */
#ifndef DTMETRICS_NORMALIZE_REF_H
#define DTMETRICS_NORMALIZE_REF_H

#include <stddef.h>
#include <stdint.h>

#define REF_INVALID UINT32_C(0xFFFFFFFF)

/* Decode UTF-8 with maximal subparts, written from table 3-7 of the Unicode
   standard.  cps needs room for n entries; returns the count. */
size_t ref_decode(const unsigned char *s, size_t n, uint32_t *cps);
/* 1 if s[0..n) is well-formed UTF-8 (independent of lib/text.c). */
int ref_utf8_valid(const unsigned char *s, size_t n);
/* UTF-16 units of well-formed UTF-8 (invalid sequences count 1). */
size_t ref_units(const unsigned char *s, size_t n);

/* Each returns the output length in bytes; (size_t)-1 means INVALID or
   "property dropped".  out needs 2 * n + 8 bytes at least (and 1024). */
size_t ref_metric_key(const unsigned char *in, size_t n, char *out);
size_t ref_dim_key(const unsigned char *in, size_t n, char *out);
size_t ref_dim_value(const unsigned char *in, size_t n, char *out);
size_t ref_meta_string(const unsigned char *in, size_t n, size_t max_units, char *out);

#define REF_NONE ((size_t)-1)

#endif
