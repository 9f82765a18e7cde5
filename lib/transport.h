/*
 * Transport layer: one HTTP POST at a time to the ingest endpoint.  The
 * only code that includes <curl/curl.h> is transport.c; everything above
 * talks to this small function table, so tests can fake it.  A transport
 * is used by one thread at a time.  Never installed.
 *
 * fork(): a transport created before fork() must not be used (nor freed,
 * which could talk to the parent's TLS session) in the child; the child
 * creates its own.  Redirects are never followed: a 3xx comes back as the
 * status.  A loopback URL (localhost, 127.0.0.0/8, ::1) never goes
 * through a proxy.
 */
#ifndef DTMETRICS_TRANSPORT_H
#define DTMETRICS_TRANSPORT_H

#include "internal.h"

typedef struct dtm__http_config {
    const char *url;             /* full ingest URL */
    const char *token;           /* NULL or "": no Authorization header */
    long connect_timeout_ms;     /* <= 0: DTM__DEFAULT_CONNECT_TIMEOUT_MS */
    long timeout_ms;             /* whole request; <= 0: DTM__DEFAULT_TIMEOUT_MS */
    const char *ca_file;         /* NULL: system default */
    const char *ca_path;
    int insecure;                /* 1: skip TLS peer/host verification (logged at WARN) */
    int gzip;                    /* 1: gzip the body (Content-Encoding: gzip) */
    const char *proxy;           /* NULL: from the environment; "": no proxy
                                    (ignored for a loopback URL: never proxied) */
    int verbose;                 /* 1: libcurl's verbose trace to the log at DEBUG, token scrubbed */
    const char *user_agent;      /* NULL or "": "dtmetrics/<version>" */
    const dtm__log *log;         /* copied; NULL: no log */
    const int *cancel;           /* NULL, or a flag that another thread sets to 1
                                    (__atomic_store_n) to abort a post in flight:
                                    the post then ends with DTM_ETIMEOUT within
                                    about a second.  Must outlive the transport. */
} dtm__http_config;

#define DTM__DEFAULT_CONNECT_TIMEOUT_MS 5000L
#define DTM__DEFAULT_TIMEOUT_MS 30000L
/* Retry-After values are clamped to this. */
#define DTM__MAX_RETRY_AFTER_MS (3600L * 1000L)

/* Upper bound of a response body kept by a transport; the rest is discarded. */
#define DTM__MAX_RESPONSE_BODY (256 * 1024)

typedef struct dtm__http_result {
    long status;            /* HTTP status; 0 when no response was received */
    dtm_status error;       /* DTM_OK when a response arrived, else DTM_ETRANSPORT /
                               DTM_ETIMEOUT (also: cancelled), DTM_ENOMEM (the gzip
                               buffer could not grow: nothing sent), DTM_EINVAL */
    char message[256];      /* transport error text (never contains the token) */
    int64_t retry_after_ms; /* from Retry-After (seconds or HTTP date, a past date
                               gives 0, clamped to DTM__MAX_RETRY_AFTER_MS);
                               -1 when absent or unparsable */
    const char *body;       /* response body, NUL-terminated, owned by the transport */
    size_t body_len;        /* valid until the next post or free */
} dtm__http_result;

typedef struct dtm__transport dtm__transport;

typedef struct dtm__transport_ops {
    /* POST body[0..len) and fill *res (always, also on error).  Returns
       res->error.  Allocates nothing but the growth of reused buffers. */
    dtm_status (*post)(dtm__transport *t, const char *body, size_t len, dtm__http_result *res);
    void (*free)(dtm__transport *t);
} dtm__transport_ops;

struct dtm__transport {
    const dtm__transport_ops *ops;
};

/* libcurl transport.  Copies every string of cfg.  Errors: DTM_EINVAL (NULL
   out, cfg or url), DTM_ENOMEM, DTM_ECONFIG (URL not http(s) or unparsable,
   control characters in the token or user agent, libcurl refused an option).
   Calls dtm__curl_global_init.  free zeroes the copy of the token. */
dtm_status dtm__curl_transport_new(dtm__transport **out, const dtm__http_config *cfg);

/* curl_global_init exactly once per process, thread-safe (pthread_once);
   returns the first call's result every time.  curl_global_cleanup is never
   called: the library cannot know whether the program still uses libcurl. */
dtm_status dtm__curl_global_init(void);

#endif /* DTMETRICS_TRANSPORT_H */
