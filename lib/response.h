/*
 * Parsing of the ingest API's JSON answers (ValidationResponse and
 * ErrorEnvelope).  Never installed.
 */
#ifndef DTMETRICS_RESPONSE_H
#define DTMETRICS_RESPONSE_H

#include "internal.h"

/* Bounds of what a parse keeps: entries beyond MAX_ITEMS (per list) are
   dropped, strings are cut at MAX_STRING bytes on a UTF-8 boundary. */
#define DTM__RESPONSE_MAX_ITEMS 1000
#define DTM__RESPONSE_MAX_STRING 1024

typedef struct dtm__invalid_line {
    int64_t line;  /* 1-based index of the line in the request body */
    char *error;   /* the server's reason (owned, never NULL, may be "") */
} dtm__invalid_line;

typedef struct dtm__ingest_response {
    int64_t lines_ok;       /* linesOk or linesValid; -1 when absent */
    int64_t lines_invalid;  /* -1 when absent */
    int64_t error_code;     /* error.code; 0 when absent */
    char *error_message;    /* error.message or NULL (owned) */
    dtm__invalid_line *invalid; /* error.invalidLines (owned); entries with a bad
                                   line number are skipped */
    size_t n_invalid;
    char **warnings;        /* warnings.message and each changedMetricKeys[].warning,
                               the latter as "line N: text" when it has a line (owned) */
    size_t n_warnings;
} dtm__ingest_response;

/* Parse a response body (any bytes, any length).  DTM_OK: *out filled (free
   with dtm__response_clear).  DTM_ESYNTAX: not a JSON object (also: invalid
   UTF-8, or an integer beyond int64; out cleared).  DTM_ENOMEM (out
   cleared).  DTM_EINVAL: out NULL, or body NULL with len > 0.  Members of
   the wrong type or out of range (negative counts, line < 1) are ignored.
   Strings are cut at DTM__RESPONSE_MAX_STRING bytes; control characters
   (C0, DEL, C1) in them become spaces, so they are safe to log. */
dtm_status dtm__response_parse(const char *body, size_t len, dtm__ingest_response *out);
/* Free what *r owns and reset it to "nothing known" (counts -1).  NULL: no-op. */
void dtm__response_clear(dtm__ingest_response *r);

#endif /* DTMETRICS_RESPONSE_H */
