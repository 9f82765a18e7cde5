/*
 * Internals of the line parser shared by parse.c (data lines, the entry
 * point) and parsemeta.c (metadata lines).  Never installed.
 */
#ifndef DTMETRICS_LINEPARSE_H
#define DTMETRICS_LINEPARSE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "internal.h"

/* State of one dtm_parse_line call. */
typedef struct dtm__pctx {
    const unsigned char *s;
    size_t len;
    const char *err;   /* first problem found by the structural pass */
    size_t err_at;
    dtm_status status; /* DTM_ESYNTAX, or DTM_ENOMEM (see parsenum.h) */
} dtm__pctx;

static inline int fail(dtm__pctx *c, size_t at, const char *msg)
{
    c->err = msg;
    c->err_at = at;
    return -1;
}

/* ASCII classes: explicit ranges, no locale. */
static inline int is_digit(unsigned ch) { return ch - '0' < 10u; }
static inline int is_lower(unsigned ch) { return ch - 'a' < 26u; }
static inline int is_upper(unsigned ch) { return ch - 'A' < 26u; }
static inline int is_alpha(unsigned ch) { return is_lower(ch) || is_upper(ch); }

/* A control character starts at s[i]: C0, DEL, or C1 (U+0080-U+009F, C2 80..C2 9F). */
static inline int is_control_at(const dtm__pctx *c, size_t i)
{
    unsigned ch = c->s[i];
    if (ch < 0x20 || ch == 0x7F)
        return 1;
    return ch == 0xC2 && i + 1 < c->len && c->s[i + 1] >= 0x80 && c->s[i + 1] <= 0x9F;
}

/* UTF-16 units contributed by one byte of well-formed UTF-8: 1 for a lead or
   ASCII byte, 2 for the lead byte of a 4-byte sequence, 0 for continuations. */
static inline size_t byte_units(unsigned ch)
{
    return (size_t)((ch & 0xC0) != 0x80) + (size_t)(ch >= 0xF0);
}

static inline int has_prefix(const dtm__pctx *c, size_t pos, size_t end, const char *p, size_t n)
{
    return end - pos >= n && memcmp(c->s + pos, p, n) == 0;
}

/* Warnings about the key of a valid line. */
static inline void key_warnings(dtm_parse_result *r)
{
    if (r->key_len < 3)
        r->warnings |= DTM_PARSE_WARN_SHORT_KEY;
}

/* A metric key from pos up to ',' or ' ' or the end (parse.c); *end gets
   where it stops.  0, or -1 with the reason in c. */
int dtm__parse_metric_key(dtm__pctx *c, size_t pos, size_t *end);

/* A whole metadata line "#key gauge|count dt.meta.x=v,..." (parsemeta.c);
   fills kind, key, payload, metadata_type and warnings of r.  0, or -1 with
   the reason in c. */
int dtm__parse_metadata(dtm__pctx *c, dtm_parse_result *r);

#endif /* DTMETRICS_LINEPARSE_H */
