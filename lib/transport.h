/*
 * Transport layer: one HTTP POST at a time to the ingest endpoint.  The
 * only code that includes <curl/curl.h> is transport.c; everything above
 * talks to this small function table, so tests can fake it.  A transport
 * is used by one thread at a time.  Never installed.
 */
#ifndef DTMETRICS_TRANSPORT_H
#define DTMETRICS_TRANSPORT_H

#include "internal.h"

typedef struct dtm__http_config {
    const char *url;             /* full ingest URL */
    const char *token;           /* NULL or "": no Authorization header */
    long connect_timeout_ms;
    long timeout_ms;             /* whole request */
    const char *ca_file;         /* NULL: system default */
    const char *ca_path;
    int insecure;                /* 1: skip TLS peer/host verification (logged at WARN) */
    int gzip;                    /* 1: gzip the body (Content-Encoding: gzip) */
    const char *proxy;           /* NULL: from the environment; "": no proxy */
    int verbose;                 /* 1: libcurl's verbose trace to the log at DEBUG, token scrubbed */
    const char *user_agent;      /* NULL: "dtmetrics/<version>" */
    const dtm__log *log;
    /* NULL, or a flag the transport reads atomically (__atomic_load_n) while
       a transfer runs (e.g. from libcurl's progress callback): once it is
       non-zero the post is abandoned and ends with DTM_ETIMEOUT.  Lets
       dtm_client_close keep its deadline with a request in flight. */
    const int *cancel;
} dtm__http_config;

/* Upper bound of a response body kept by a transport; the rest is discarded. */
#define DTM__MAX_RESPONSE_BODY (256 * 1024)

typedef struct dtm__http_result {
    long status;            /* HTTP status; 0 when no response was received */
    dtm_status error;       /* DTM_OK when a response arrived, else DTM_ETRANSPORT / DTM_ETIMEOUT */
    char message[256];      /* transport error text (never contains the token) */
    int64_t retry_after_ms; /* from Retry-After (seconds or HTTP date); -1 when absent */
    const char *body;       /* response body, NUL-terminated, owned by the transport */
    size_t body_len;        /* valid until the next post or free */
} dtm__http_result;

typedef struct dtm__transport dtm__transport;

typedef struct dtm__transport_ops {
    /* POST body[0..len) and fill *res.  Returns res->error. */
    dtm_status (*post)(dtm__transport *t, const char *body, size_t len, dtm__http_result *res);
    void (*free)(dtm__transport *t);
} dtm__transport_ops;

struct dtm__transport {
    const dtm__transport_ops *ops;
};

/* libcurl transport.  Copies every string of cfg.  Errors: DTM_ENOMEM,
   DTM_ECONFIG (libcurl refused an option). */
dtm_status dtm__curl_transport_new(dtm__transport **out, const dtm__http_config *cfg);

/* curl_global_init exactly once per process, thread-safe. */
dtm_status dtm__curl_global_init(void);

#endif /* DTMETRICS_TRANSPORT_H */
