/* A scripted HTTP responder for tests (libmicrohttpd, one thread per
   connection) on 127.0.0.1 or [::1] with a kernel-chosen port.  It records
   the last request and answers every request with the script below. */
#ifndef DTMETRICS_RESPONDER_H
#define DTMETRICS_RESPONDER_H

#include <pthread.h>
#include <stddef.h>

typedef struct srv {
    struct MHD_Daemon *d;
    unsigned short port;
    char url[128]; /* http://127.0.0.1:<port>/api/v2/metrics/ingest */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stopping;
    /* the script: change it between requests, then call srv_sync() */
    unsigned status;
    const char *reply; /* not copied: must outlive the requests */
    size_t reply_len;
    const char *hname[2], *hvalue[2]; /* extra response headers (NULL: none) */
    int delay_ms;                     /* wait before answering (cut short by srv_stop) */
    /* the record: read it after srv_sync() */
    int connections; /* connections accepted */
    int requests;
    char method[16];
    char path[512];
    char headers[8192]; /* "name: value\n" as received */
    unsigned char *body;
    size_t body_len;
} srv;

/* Start on 127.0.0.1 (fails the test if impossible). */
srv *srv_start(unsigned status, const char *reply);
/* Start on [::1]; NULL when this machine has no IPv6 loopback. */
srv *srv_start_v6(unsigned status, const char *reply);
void srv_stop(srv *s);

/* A lock round trip with every running responder: makes script changes
   visible to its threads and its records visible to the caller (also in
   the eyes of ThreadSanitizer).  Call it before and after each request. */
void srv_sync(void);

/* Value of a recorded request header (name case-insensitive), or NULL. */
const char *srv_header(srv *s, const char *name, char *out, size_t cap);

#endif
