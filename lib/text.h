/*
 * Text layer: UTF-8 decoding, UTF-16 unit counting, Unicode category tests.
 * Pure and table-driven.  Never installed.
 */
#ifndef DTMETRICS_TEXT_H
#define DTMETRICS_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* Returned by dtm__utf8_next for a maximal ill-formed subsequence. */
#define DTM__CP_INVALID UINT32_C(0xFFFFFFFF)

/* Decode the code point at p[0..n) (n > 0).  Sets *adv to the number of bytes
   consumed (>= 1).  Ill-formed input (overlong, surrogate, > U+10FFFF,
   truncated, stray continuation) gives DTM__CP_INVALID and consumes exactly
   one maximal ill-formed subsequence (Unicode "substitution of maximal
   subparts"). */
uint32_t dtm__utf8_next(const unsigned char *p, size_t n, size_t *adv);

/* UTF-16 units of a code point (1 or 2; an invalid one counts 1, it becomes
   one replacement character). */
static inline size_t dtm__cp_units(uint32_t cp)
{
    return (cp != DTM__CP_INVALID && cp > 0xFFFF) ? 2 : 1;
}

/* Encode a valid code point as UTF-8 into out (>= 4 bytes); returns bytes. */
size_t dtm__utf8_put(uint32_t cp, char *out);

/* UTF-16 units of UTF-8 text; each maximal ill-formed subsequence counts 1
   (it stands for one replacement character), as in dtm__utf8_next. */
size_t dtm__utf16_units(const char *s, size_t n);

/* 1 if s[0..n) is well-formed UTF-8. */
int dtm__utf8_valid(const char *s, size_t n);

/* Code points that a dimension value may not carry (spec 3.2): Cc, Cf, Co, Cs,
   Zl, Zp and noncharacters; also DTM__CP_INVALID. */
int dtm__cp_invalid_in_value(uint32_t cp);

/* Code points dropped from metadata strings (spec 10): as above but Cf is
   allowed and '"' is "bad" (handled by the caller). */
int dtm__cp_invalid_in_meta(uint32_t cp);

#endif /* DTMETRICS_TEXT_H */
