/*
 * Parsing of the ingest API's JSON answers (ValidationResponse and
 * ErrorEnvelope).  Never installed.
 */
#ifndef DTMETRICS_RESPONSE_H
#define DTMETRICS_RESPONSE_H

#include "internal.h"

typedef struct dtm__invalid_line {
    int64_t line;  /* 1-based index of the line in the request body */
    char *error;   /* the server's reason (owned) */
} dtm__invalid_line;

typedef struct dtm__ingest_response {
    int64_t lines_ok;       /* linesOk or linesValid; -1 when absent */
    int64_t lines_invalid;  /* -1 when absent */
    int64_t error_code;     /* error.code; 0 when absent */
    char *error_message;    /* error.message or NULL (owned) */
    dtm__invalid_line *invalid; /* error.invalidLines (owned); entries with a bad
                                   line number are skipped */
    size_t n_invalid;
    char **warnings;        /* warnings.message and each changedMetricKeys[].warning (owned) */
    size_t n_warnings;
} dtm__ingest_response;

/* Parse a response body (any bytes, any length).  DTM_OK: *out filled (free
   with dtm__response_clear).  DTM_ESYNTAX: not a JSON object (out cleared).
   DTM_ENOMEM.  Strings are cut at 1024 bytes. */
dtm_status dtm__response_parse(const char *body, size_t len, dtm__ingest_response *out);
void dtm__response_clear(dtm__ingest_response *r);

#endif /* DTMETRICS_RESPONSE_H */
