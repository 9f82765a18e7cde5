/*
 * The client's insides, shared by client.c (public calls, queueing),
 * clientcfg.c (options, endpoint resolution and checks) and export.c
 * (batches, requests, answers, retries, the exporter thread).  Never
 * installed.
 *
 * Locking: one mutex, mu, guards the queue, the statistics, the endpoint,
 * the stop state and the flush/close bookkeeping.  Everything under "sender
 * state" belongs to the one thread that sends at a time (the exporter thread
 * in background mode, the caller of flush/close in manual mode, marked by
 * `sending`) and is touched without the lock.  The log callback is never
 * called with mu held.
 *
 * Accounting: every line counted in lines_submitted is, at every moment,
 * in exactly one of: the queue (q.count), in flight (inflight: taken into the
 * sender's batch and not yet settled), accepted, rejected, or one of the
 * dropped_* counters.  Moves between them happen under mu.
 */
#ifndef DTMETRICS_CLIENTIMPL_H
#define DTMETRICS_CLIENTIMPL_H

#include <pthread.h>

#include "internal.h"
#include "queue.h"
#include "transport.h"
#include "url.h"

#define DTM__NO_DEADLINE INT64_MAX
#define DTM__DEFAULT_URL "http://localhost:14499/metrics/ingest"
#define DTM__DEFAULT_ENDPOINT_FILE "/var/lib/dynatrace/enrichment/endpoint/endpoint.properties"
#define DTM__ERRTEXT_SIZE 256

/* Test seams (not public API): transport factory, clock, sleep, random. */
typedef struct dtm__client_hooks {
    /* NULL: dtm__curl_transport_new. */
    dtm_status (*make_transport)(void *ud, const dtm__http_config *cfg, dtm__transport **out);
    /* Monotonic milliseconds; NULL: CLOCK_MONOTONIC. */
    int64_t (*now_ms)(void *ud);
    /* A backoff wait of ms milliseconds; NULL: a timed wait that close and
       set_token/set_url interrupt. */
    void (*sleep_ms)(void *ud, int64_t ms);
    /* Uniform 32-bit random numbers; NULL: a per-client xorshift generator. */
    uint32_t (*rand32)(void *ud);
    void *ud;
} dtm__client_hooks;

/* dtm_client_new with test seams (hooks may be NULL). */
dtm_status dtm__client_new_hooked(dtm_client **out, const dtm_client_options *opts,
                                  const dtm__client_hooks *hooks);

/* Where to send, replaced as a whole by set_token / set_url. */
typedef struct dtm__endpoint {
    char *url;            /* as configured (may carry a query) */
    char *token;          /* NULL: none */
    dtm__url_info info;
    int url_from_file;    /* came from the endpoint file (re-read while stopped) */
    int token_from_file;
} dtm__endpoint;

/* Rate-limited message classes: first at WARN, then DEBUG until reset. */
enum {
    DTM__ONCE_OVERFLOW,
    DTM__ONCE_REFUSED,
    DTM__ONCE_RETRY,
    DTM__ONCE_REJECTED,
    DTM__ONCE_WARNINGS,
    DTM__ONCE_2XX,
    DTM__ONCE_413,
    DTM__ONCE_DROPPED,
    DTM__ONCE_COUNT
};

#define DTM__MAX_SPLIT_DEPTH 64

/* The batch being delivered (sender state). */
typedef struct dtm__pending {
    char *body;           /* batch_bytes + 1 */
    uint32_t *off;        /* batch_lines entries */
    uint32_t *len;
    size_t n;             /* lines in the batch; 0: none */
    size_t body_len;
    /* Line ranges [lo, hi) still to deliver, top last.  A 413 replaces the
       top by its two halves; depth stays below log2(1000) + 2. */
    struct {
        uint32_t lo, hi;
    } stack[DTM__MAX_SPLIT_DEPTH];
    size_t depth;
    int attempt;          /* failures of the top range in a row */
    int64_t fail_start;   /* clock of the first of them */
    int64_t next_try;     /* clock of the next attempt (0: now) */
    dtm_status last;      /* the last failure */
} dtm__pending;

struct dtm_client {
    /* ---- immutable after creation ---- */
    dtm_client_mode mode;
    size_t batch_lines, batch_bytes;
    long interval_ms, jitter_ms, block_timeout_ms;
    long connect_timeout_ms, request_timeout_ms;
    long retry_initial_ms, retry_max_delay_ms, retry_max_time_ms;
    dtm_overflow_policy overflow;
    char *ca_file, *ca_path, *proxy, *user_agent;
    int tls_insecure, verbose, allow_any_path, allow_insecure_token;
    int read_endpoint_file;
    char *endpoint_file;
    dtm_log_fn user_log;
    void *user_log_ud;
    dtm_log_level log_level;
    dtm__log log;                 /* filters by level, scrubs the token */
    dtm_rejected_fn rejected_fn;
    void *rejected_ud;
    dtm_serializer *ser;
    dtm__client_hooks hooks;
    unsigned fork_gen;            /* dtm__fork_generation() at creation */

    /* ---- guarded by mu ---- */
    pthread_mutex_t mu;
    pthread_cond_t wake_cv;       /* the sender: work, close, endpoint change */
    pthread_cond_t space_cv;      /* producers blocked on a full queue */
    pthread_cond_t done_cv;       /* flush requests done, sender idle, thread exit */
    dtm__queue q;
    size_t inflight, inflight_bytes;
    uint64_t taken;               /* lines ever taken from the queue */
    int closed;                   /* no more adds */
    int closing;                  /* the sender must finish by close_deadline */
    int64_t close_deadline;
    int sending;                  /* manual mode: a flush or close is sending */
    int idle;                     /* background: the exporter waits for work */
    int wake_sent;
    unsigned n_blocked;
    uint64_t flush_req, flush_done; /* background flush requests */
    int64_t flush_deadline;
    dtm_status flush_status;
    int thread_done;
    dtm_status close_status;
    dtm__endpoint ep;
    unsigned ep_gen;              /* bumped by set_token / set_url */
    int stopped;                  /* 401/403/404/405/3xx */
    unsigned stop_gen;            /* ep_gen the stop applies to */
    int gzip;                     /* cleared when the server refuses gzip */
    dtm_client_statistics st;          /* counters; queue figures filled on read */
    char errtext[DTM__ERRTEXT_SIZE];
    int cancel;                   /* read by the transport (atomics) */
    pthread_t thread;
    int thread_started;

    /* ---- token scrubbing of log text: own leaf lock ---- */
    pthread_mutex_t tok_mu;
    char *scrub;                  /* copy of the token, NULL: none */

    /* ---- sender state ---- */
    dtm__pending pend;
    dtm__transport *t;
    unsigned t_gen;               /* ep_gen of t */
    int t_gzip;
    long t_timeout;
    int64_t next_reread;          /* endpoint file, while stopped */
    uint64_t rng;
    int once[DTM__ONCE_COUNT];
};

/* Log through the client: nothing is formatted unless a callback is set
   and the level is wanted (the level expression is evaluated once, always:
   it may flip a rate-limit flag). */
#define DTM__CLOG(c, level, ...)                                                                   \
    do {                                                                                           \
        dtm_log_level dtm__lv = (level);                                                           \
        if ((c)->user_log && (int)dtm__lv <= (int)(c)->log_level)                                  \
            dtm__logf(&(c)->log, dtm__lv, __VA_ARGS__);                                            \
    } while (0)

/* ---- client.c ---- */
int64_t dtm__client_now(dtm_client *c);
uint32_t dtm__client_rand(dtm_client *c);
/* Set the last error (under mu) and return st. */
void dtm__client_set_error_locked(dtm_client *c, dtm_status st, const char *fmt, ...)
    DTM__PRINTF(3, 4);
/* Replace url and/or token (NULL: keep) after checking them; from_file
   marks the parts as coming from the endpoint file.  DTM_ECONFIG etc. */
dtm_status dtm__client_replace_endpoint(dtm_client *c, const char *url, const char *token,
                                        int token_given, int from_file);
/* Remove the token (and its secret part) from text, in place.  For text
   that comes from outside (server answers) before it is cut or logged. */
void dtm__client_scrub(dtm_client *c, char *text);
/* Reset a rate-limit class (after recovery). */
static inline void dtm__client_once_reset(dtm_client *c, int cls)
{
    __atomic_store_n(&c->once[cls], 0, __ATOMIC_RELAXED);
}
void dtm__timespec_at(int64_t mono_ms, struct timespec *ts);
int64_t dtm__mono_ms(void);

/* ---- clientcfg.c ---- */
/* Check the options (DTM_EINVAL with msg) and copy the plain settings. */
dtm_status dtm__client_apply_options(dtm_client *c, const dtm_client_options *o, char *msg,
                                     size_t msg_size);
/* Resolve url and token from the options, the environment, the endpoint
   file and the default, then check them.  DTM_ECONFIG / DTM_ENOMEM. */
dtm_status dtm__endpoint_resolve(dtm_client *c, const dtm_client_options *o,
                                 dtm__endpoint *ep, char *msg, size_t msg_size);
/* Build an endpoint from url and token (either may be NULL: keep cur's) and
   check it.  DTM_ECONFIG / DTM_ENOMEM. */
dtm_status dtm__endpoint_make(dtm_client *c, const dtm__endpoint *cur, const char *url,
                              const char *token, int token_given, dtm__endpoint *out,
                              char *msg, size_t msg_size);
/* Check scheme, path, host and the token rules.  DTM_ECONFIG with msg. */
dtm_status dtm__endpoint_check(dtm_client *c, dtm__endpoint *ep, char *msg, size_t msg_size);
void dtm__endpoint_clear(dtm__endpoint *ep);
/* Read url/token from the endpoint file into *url / *token (allocated;
   NULL when absent).  Missing file: DTM_OK with both NULL. */
dtm_status dtm__endpoint_file_read(dtm_client *c, char **url, char **token);
/* Describe a token for logs without its secret. */
void dtm__token_describe(const char *token, char *out, size_t size);
/* Overwrite and free a secret. */
void dtm__secret_free(char *s);

/* ---- export.c (sender context) ---- */
dtm_status dtm__pending_init(dtm__pending *p, size_t lines, size_t bytes);
/* Deliver until `target` lines have been taken from the queue and settled,
   the deadline (client clock; also close's) passes, or sending is stopped.
   With may_wait == 0 a retry that is not due yet ends the call.  Returns
   DTM_OK, DTM_EREJECTED, DTM_EAUTH, DTM_ETIMEOUT, or the error of a pending
   retry or of dropped lines. */
dtm_status dtm__deliver(dtm_client *c, int64_t deadline, uint64_t target, int may_wait);
void dtm__export_free(dtm_client *c);          /* release the transport */
/* Count everything queued or in flight as dropped at close (under mu). */
void dtm__drop_all_locked(dtm_client *c);

/* ---- exporter.c ---- */
dtm_status dtm__export_start(dtm_client *c);   /* background: start the thread */
dtm_status dtm__export_flush(dtm_client *c, long timeout_ms);
dtm_status dtm__export_close(dtm_client *c, long timeout_ms);

#endif /* DTMETRICS_CLIENTIMPL_H */
