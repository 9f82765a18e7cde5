/*
 * Inspection of an ingest URL with libcurl's URL parser (transport layer):
 * scheme, host, loopback or not, path.  Never installed.
 */
#ifndef DTMETRICS_URL_H
#define DTMETRICS_URL_H

#include "internal.h"

#define DTM__URL_DISPLAY_SIZE 512

typedef struct dtm__url_info {
    int https;           /* 1: https, 0: http */
    int loopback;        /* host is localhost, 127.0.0.0/8 or ::1 */
    int ingest_path;     /* the path ends in /metrics/ingest */
    int apps_host;       /* host ends in .apps.dynatrace.com (the platform, not the API) */
    /* scheme://host[:port]/path: no credentials, no query, no fragment;
       safe to show in a log (cut to fit). */
    char display[DTM__URL_DISPLAY_SIZE];
} dtm__url_info;

/*
 * Parse url.  DTM_OK: *info filled.  DTM_ECONFIG: msg says why (never
 * quoting credentials or a query): not a URL, a scheme other than http or
 * https, credentials in the URL, a token in the query.  DTM_ENOMEM.
 * The plausibility findings (path, apps host) are left to the caller.
 */
dtm_status dtm__url_inspect(const char *url, dtm__url_info *info, char *msg, size_t msg_size);

#endif /* DTMETRICS_URL_H */
