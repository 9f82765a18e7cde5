/*
 * Protocol layer internals: the normalizers in forms the serializer can use
 * without copies.  Never installed.
 */
#ifndef DTMETRICS_NORM_H
#define DTMETRICS_NORM_H

#include "internal.h"

/*
 * Streaming metric-key normalizer (spec 2.2).  The algorithm is a left-to-
 * right state machine whose only look-ahead rule (a trailing dot) gives the
 * same result as treating that dot like any other separator, so the input can
 * be fed in pieces: the serializer feeds "prefix" "." once at creation, keeps
 * the state, and continues with each line's name.
 */
typedef struct dtm__mkey {
    char out[DTM_MAX_METRIC_KEY_LEN + 1]; /* ASCII; not NUL-terminated while feeding */
    size_t len;          /* bytes (= units) in out */
    size_t window;       /* UTF-16 units of input consumed so far (<= 255 + 1) */
    unsigned char state; /* internal: first / section / dot / invalid */
    unsigned char repl;  /* last output char is a replacement '_' */
    /* A multi-byte sequence cut by the end of a feed: its bytes so far.  Its
       effect on out is already applied (every non-ASCII code point is invalid
       in a key); the next feed only completes its unit count.  This makes
       any split of the input give the result of a single feed. */
    unsigned char npend;
    unsigned char pend[3];
} dtm__mkey;

void dtm__mkey_init(dtm__mkey *k);
/* Copy a state (e.g. the prefix state, once per line): only the used part
   of out, which is much cheaper than assigning the whole struct. */
void dtm__mkey_copy(dtm__mkey *dst, const dtm__mkey *src);
/* Feed more input; input beyond the 255-unit window is ignored. */
void dtm__mkey_feed(dtm__mkey *k, const char *in, size_t n);
/* DTM_OK if k->out[0..k->len) is a valid key; DTM_EKEY if the input was
   empty or started with a dot.  Does not NUL-terminate. */
dtm_status dtm__mkey_status(const dtm__mkey *k);

/* Dimension key (spec 3.1) into out[DTM_MAX_DIMENSION_KEY_LEN]; returns the
   length, 0 when the key normalizes to nothing.  Output is ASCII. */
size_t dtm__norm_dim_key(const char *in, size_t n, char *out);

/* Dimension value (spec 3.2) into out[DTM_MAX_DIMENSION_VALUE_BYTES]; returns
   the length in bytes (0 = empty: omit the dimension) and its UTF-16 units
   in *units.  Implements deviations D2 ('"' alone is escaped) and D3 ('""'
   is empty). */
size_t dtm__norm_dim_value(const char *in, size_t n, char *out, size_t *units);

/* Metadata string (spec 10) with a budget of max_units; writes to w.
   Returns 0 when the property must be dropped (nothing written then). */
int dtm__norm_meta_string(const char *in, size_t n, size_t max_units, dtm__writer *w);

/* Fast number writers: out must have DTM_NUMBER_BUFSIZE bytes; they return
   the length and do not NUL-terminate.  dtm__fmt_double needs a finite v
   and may use the bytes after the result (within the 32) as scratch. */
size_t dtm__fmt_double(double v, char *out);
size_t dtm__fmt_int64(int64_t v, char *out);
size_t dtm__fmt_uint64(uint64_t v, char *out);

#endif /* DTMETRICS_NORM_H */
