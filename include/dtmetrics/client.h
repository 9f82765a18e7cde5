/*
 * libdtmetrics - the client: queues metric lines and ships them in batches
 * to the Dynatrace metrics ingest API (SaaS, Managed, ActiveGate, or the
 * local OneAgent endpoint).
 *
 * Life cycle:
 *
 *     dtm_client_options o;
 *     dtm_client *c;
 *     dtm_client_options_init(&o);          // defaults + environment
 *     o.serializer.prefix = "myapp";
 *     if (dtm_client_new(&c, &o) != DTM_OK) ...
 *     dtm_client_add_gauge(c, "queue.depth", NULL, 0, 12.0, 0);
 *     ...
 *     dtm_client_close(c, 2000);            // final flush, at most 2 s
 *     dtm_client_free(c);
 *
 * Threads: every dtm_client_add_* function, dtm_client_stats,
 * dtm_client_last_error, dtm_client_set_token and dtm_client_set_url may be
 * called from any thread at any time.  dtm_client_flush may be called from
 * any thread but runs one flush at a time.  dtm_client_close and
 * dtm_client_free must not race with other calls on the same client.
 *
 * fork(): a client belongs to the process that created it.  In a child
 * process every call on an inherited client returns DTM_ESTATE and nothing
 * the parent queued is ever sent from the child; the exporter thread does
 * not exist there.  dtm_client_free in the child releases the client's
 * memory but leaves its libcurl connection alone (closing it could disturb
 * the parent's TLS session).  Create a new client in the child if it needs
 * one.  The parent is unaffected.
 *
 * Signals: the library installs no signal handlers.  The exporter thread is
 * started with every signal blocked, so signals of the application are never
 * delivered to it.  No function here is async-signal-safe.
 */
#ifndef DTMETRICS_CLIENT_H
#define DTMETRICS_CLIENT_H

#include "common.h"
#include "line.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Opaque client handle. */
typedef struct dtm_client dtm_client;

/** Where the exporting work happens. */
typedef enum dtm_client_mode {
    /** A library thread sends every flush_interval_ms, and early whenever a
        full batch is queued. */
    DTM_CLIENT_BACKGROUND = 0,
    /** No thread: lines are sent only by dtm_client_flush and
        dtm_client_close, on the caller's thread (event loops, tools). */
    DTM_CLIENT_MANUAL = 1
} dtm_client_mode;

/** What dtm_client_add_* does when the queue is full. */
typedef enum dtm_overflow_policy {
    /** Drop the oldest queued lines to make room (default). */
    DTM_OVERFLOW_DROP_OLDEST = 0,
    /** Refuse the new line (DTM_EFULL). */
    DTM_OVERFLOW_DROP_NEWEST = 1,
    /** Wait up to block_timeout_ms for room, then refuse the new line
        (DTM_EFULL).  In manual mode room appears only when another thread
        flushes. */
    DTM_OVERFLOW_BLOCK = 2
} dtm_overflow_policy;

/**
 * Called for each line the server rejected (a 400 answer itemises at most
 * 10 lines per request; the others are counted, not reported).  line is the
 * line as it was sent, NUL-terminated, line_len its length; reason is the
 * server's text.  Both are valid only during the call.  Called from the
 * thread that sends (exporter thread, or the caller of flush/close); it must
 * not call back into the client.
 */
typedef void (*dtm_rejected_fn)(const char *line, size_t line_len, const char *reason,
                                void *userdata);

/**
 * Options of dtm_client_new.  Always start with dtm_client_options_init:
 * members may be appended in later versions.  Every string is copied by
 * dtm_client_new.  Durations are in milliseconds.
 */
typedef struct dtm_client_options {
    /* ---- endpoint ---- */
    /** Ingest URL.  NULL: DT_METRICS_INGEST_URL from the environment, then
        (when read_endpoint_file) the endpoint file, then the local OneAgent
        endpoint http://localhost:14499/metrics/ingest. */
    const char *url;
    /** API token (scope metrics.ingest).  NULL: DT_METRICS_INGEST_API_TOKEN,
        then the endpoint file; "" means explicitly none. */
    const char *token;
    /** 1: do not read DT_METRICS_INGEST_URL / DT_METRICS_INGEST_API_TOKEN. */
    int ignore_environment;
    /** 1: read url and token (same key names) from Dynatrace's
        endpoint.properties when neither the caller nor the environment set
        them; the file is re-read (at most once a minute) while the server
        refuses the token. */
    int read_endpoint_file;
    /** NULL: /var/lib/dynatrace/enrichment/endpoint/endpoint.properties. */
    const char *endpoint_file;
    /** 1: accept a URL whose path does not end in /metrics/ingest, and a
        *.apps.dynatrace.com host. */
    int allow_any_path;
    /** 1: allow sending the token over plain http to a host that is not
        the loopback interface (it can be read by anyone on the path). */
    int allow_insecure_token;

    /* ---- exporting ---- */
    dtm_client_mode mode;        /**< default DTM_CLIENT_BACKGROUND */
    long flush_interval_ms;      /**< background: 60000 */
    long flush_jitter_ms;        /**< background: each interval varies by up to +-this;
                                      default 5000, at most half the interval */

    /* ---- memory: the queue is allocated once, at creation ---- */
    size_t max_queue_lines;      /**< default 65536 */
    size_t max_queue_bytes;      /**< default 8 MiB; a queued line costs its length + 4 */
    dtm_overflow_policy overflow;/**< default DTM_OVERFLOW_DROP_OLDEST */
    long block_timeout_ms;       /**< DTM_OVERFLOW_BLOCK: default 100 */

    /* ---- batches (one request each) ---- */
    size_t batch_max_lines;      /**< 1..1000, default 1000 */
    size_t batch_max_bytes;      /**< body bytes, 1024..1000000, default 1000000 */

    /* ---- HTTP ---- */
    long connect_timeout_ms;     /**< default 5000 */
    long request_timeout_ms;     /**< whole request, default 10000 */
    int gzip;                    /**< 1: Content-Encoding: gzip (switched off by itself when
                                      the server does not understand it); default 0 */
    const char *ca_file;         /**< NULL: system default */
    const char *ca_path;         /**< NULL: system default */
    int tls_insecure;            /**< 1: do not verify the server's certificate (logged) */
    const char *proxy;           /**< NULL: environment (never for a loopback URL); "": none */
    const char *user_agent;      /**< NULL: "dtmetrics/<version>" */
    int verbose;                 /**< 1: libcurl's trace to the log at DEBUG, token removed */

    /* ---- retries of 429, 5xx, timeouts and connection errors ---- */
    long retry_initial_ms;       /**< first backoff ceiling, default 1000 */
    long retry_max_delay_ms;     /**< ceiling of one backoff, default 30000 */
    long retry_max_time_ms;      /**< total retry time of a batch, default 300000;
                                      then its lines are dropped and counted */

    /** Prefix, default dimensions and enrichment of the lines written by
        dtm_client_add_counter/gauge/summary/metadata.  dtm_client_options_init
        sets metrics_source to "libdtmetrics" (dt.metrics.source); set it to
        NULL to leave the dimension out. */
    dtm_serializer_options serializer;

    /* ---- instruments (<dtmetrics/metrics.h>) ---- */
    /** Live series at most (counters, gauges, summaries); further ones are
        refused with DTM_EFULL and counted.  Default 10000. */
    size_t max_series;
    /** A series whose handles are all released and that had nothing to say
        for this many collections is removed.  Default 10; 0: never. */
    unsigned series_expiry_intervals;

    /* ---- diagnostics ---- */
    dtm_log_fn log_fn;           /**< NULL: silent */
    void *log_userdata;
    dtm_log_level log_level;     /**< most verbose level delivered; default DTM_LOG_INFO */
    dtm_rejected_fn rejected_fn; /**< NULL: rejected lines are only logged and counted */
    void *rejected_userdata;
    /** When dtm_client_new fails, a message saying why is written here
        (NUL-terminated, cut to errbuf_size).  NULL: none. */
    char *errbuf;
    size_t errbuf_size;
} dtm_client_options;

/** Statistics of a client; see dtm_client_stats. */
typedef struct dtm_client_statistics {
    uint64_t lines_submitted;    /**< lines offered to dtm_client_add_* */
    uint64_t lines_queued;       /**< queued now, lines in flight included */
    uint64_t bytes_queued;       /**< bytes of those lines */
    uint64_t lines_sent;         /**< lines in requests that got an answer (a resent line
                                      counts again) */
    uint64_t lines_accepted;     /**< accepted by the server */
    uint64_t lines_rejected;     /**< rejected by the server as invalid (400) */
    uint64_t lines_dropped;      /**< sum of the dropped_* counters */
    uint64_t dropped_overflow;   /**< queue full */
    uint64_t dropped_refused;    /**< refused by dtm_client_add_* (too long, newline,
                                      bad name or value) */
    uint64_t dropped_retries;    /**< retry time of their batch ran out */
    uint64_t dropped_too_large;  /**< a single line answered 413 */
    uint64_t dropped_http;       /**< other answers that cannot succeed on resend
                                      (e.g. 400 without a validation report, 415) */
    uint64_t dropped_close;      /**< still queued when close's deadline passed */
    uint64_t requests;           /**< HTTP requests made */
    uint64_t retries;            /**< of those, resends after a failure */
    uint64_t bytes_sent;         /**< request body bytes (before gzip) */
    long last_http_status;       /**< 0: none yet, or no answer */
    dtm_status last_status;      /**< outcome of the last request; DTM_EAUTH while stopped */
    int stopped;                 /**< 1: the server refused the token or URL; sending
                                      resumes after dtm_client_set_token/set_url */
    char last_error[256];        /**< text of the last problem ("" if none) */
} dtm_client_statistics;

/**
 * Defaults: see each member.  Also reads nothing yet: the environment and
 * the endpoint file are consulted by dtm_client_new.  opts must not be NULL.
 */
DTM_EXTERN void dtm_client_options_init(dtm_client_options *opts);

/**
 * Create a client: resolve and check the endpoint, allocate the queue and
 * the batch buffer (no allocation later on the path of a line), create the
 * serializer and, in background mode, start the exporter thread.
 *
 * The URL must be http:// or https://, its path must end in /metrics/ingest
 * (unless allow_any_path), a non-loopback URL needs a token, and a token is
 * never sent over http to a non-loopback host (unless allow_insecure_token).
 *
 * Errors: DTM_EINVAL (out NULL, an option out of range), DTM_ECONFIG (bad
 * URL, missing token, ...), DTM_ENOMEM, or the serializer's errors.  The
 * reason goes to errbuf and to the log.  A missing or unreadable endpoint
 * file is logged, not an error.
 */
DTM_EXTERN dtm_status dtm_client_new(dtm_client **out, const dtm_client_options *opts);

/**
 * Queue one line of the line protocol (without line terminator).  The line
 * is copied.  It is not validated beyond these checks, done before queuing:
 * empty, or containing CR or LF: DTM_EINVAL; longer than the protocol's
 * 50,000 UTF-16 units or than batch_max_bytes: DTM_ELINE.  Such lines are
 * counted in dropped_refused.  A full queue gives DTM_EFULL under the
 * DROP_NEWEST and BLOCK policies (counted in dropped_overflow); DROP_OLDEST
 * makes room and returns DTM_OK.
 * Other errors: DTM_EINVAL (c NULL, line NULL), DTM_ESTATE (closed, or in a
 * forked child).  Thread-safe; no allocation.
 */
DTM_EXTERN dtm_status dtm_client_add_line(dtm_client *c, const char *line, size_t len);

/**
 * Serialize a line with the client's serializer (see dtm_serialize_counter
 * etc. in <dtmetrics/line.h>) and queue it as dtm_client_add_line does.
 * Serializer errors (DTM_EKEY, DTM_EVALUE, DTM_EDIMS, DTM_ELINE) are counted
 * in dropped_refused.  Thread-safe; no allocation for lines up to 4 KiB.
 */
DTM_EXTERN dtm_status dtm_client_add_counter(dtm_client *c, const char *name,
                                             const dtm_dimension *dims, size_t n_dims,
                                             double delta, int64_t timestamp_ms);
DTM_EXTERN dtm_status dtm_client_add_counter_int(dtm_client *c, const char *name,
                                                 const dtm_dimension *dims, size_t n_dims,
                                                 int64_t delta, int64_t timestamp_ms);
DTM_EXTERN dtm_status dtm_client_add_gauge(dtm_client *c, const char *name,
                                           const dtm_dimension *dims, size_t n_dims,
                                           double value, int64_t timestamp_ms);
DTM_EXTERN dtm_status dtm_client_add_summary(dtm_client *c, const char *name,
                                             const dtm_dimension *dims, size_t n_dims,
                                             double min, double max, double sum, int64_t count,
                                             int64_t timestamp_ms);
/** A metadata line; DTM_OK without queuing anything when no property is valid. */
DTM_EXTERN dtm_status dtm_client_add_metadata(dtm_client *c, const char *name,
                                              dtm_metric_type type, const char *description,
                                              const char *unit, const char *display_name);

/**
 * Send what is queued now, in batches, and wait for the answers, for at most
 * timeout_ms (clamped to 1 hour; 0 sends nothing and reports the state).
 * Each request's libcurl timeout is clamped to what is left.  In manual
 * mode the work is done on the calling thread; in background mode the
 * exporter thread is asked to do it and this call waits.  Retries that are
 * due before the deadline are made; lines whose retry is due later stay
 * queued for the next flush.
 *
 * Returns DTM_OK when everything was delivered, DTM_EREJECTED when the
 * server rejected some lines (counted, reported), DTM_EAUTH while sending is
 * stopped (401/403/404/405/3xx), DTM_ETIMEOUT when the deadline came first,
 * DTM_ETRANSPORT or DTM_EHTTP when a retry is pending, DTM_ESTATE (closed or
 * forked), DTM_EINVAL.  Lines that are not yet delivered stay queued.
 */
DTM_EXTERN dtm_status dtm_client_flush(dtm_client *c, long timeout_ms);

/**
 * Final flush with a deadline of timeout_ms, then stop: the exporter thread
 * is joined, later adds return DTM_ESTATE.  Lines still queued at the
 * deadline (or while stopped by an auth failure) are dropped and counted in
 * dropped_close.  The deadline also bounds the request in flight: libcurl's
 * timeouts are clamped to it and an in-flight transfer is abandoned when it
 * passes.  Returns what dtm_client_flush would, or DTM_ESTATE when already
 * closed.  Must not race with other calls on c.
 */
DTM_EXTERN dtm_status dtm_client_close(dtm_client *c, long timeout_ms);

/**
 * Free the client; NULL is a no-op.  If it was not closed, it is closed
 * first with a deadline of 0 (queued lines are dropped, nothing is sent).
 * The token is wiped from memory.
 */
DTM_EXTERN void dtm_client_free(dtm_client *c);

/**
 * Replace the API token ("" or NULL: none) or the ingest URL.  Checked like
 * at creation (DTM_ECONFIG, message on the handle).  When sending was
 * stopped by a 401/403/404/405/3xx answer, it resumes with the queued lines.
 * Thread-safe; takes effect before the next request.
 */
DTM_EXTERN dtm_status dtm_client_set_token(dtm_client *c, const char *token);
DTM_EXTERN dtm_status dtm_client_set_url(dtm_client *c, const char *url);

/**
 * Copy the statistics into *st.  At every moment
 * lines_accepted + lines_rejected + lines_dropped + lines_queued ==
 * lines_submitted.  Thread-safe.  Errors: DTM_EINVAL.  Works on a closed
 * client; in a forked child it returns DTM_ESTATE.
 */
DTM_EXTERN dtm_status dtm_client_stats(dtm_client *c, dtm_client_statistics *st);

/**
 * Copy the text of the last problem into buf (snprintf convention: see
 * <dtmetrics/normalize.h>; "" when there was none).  Its status is
 * dtm_client_stats' last_status.  The text never contains the token.
 * Errors: DTM_EINVAL (c or buf NULL with buf_size > 0, len NULL),
 * DTM_ETOOSMALL.  Thread-safe.
 */
DTM_EXTERN dtm_status dtm_client_last_error(dtm_client *c, char *buf, size_t buf_size,
                                            size_t *len);

/**
 * Copy the ingest URL in use into buf (snprintf convention), shown as
 * scheme://host[:port]/path: never credentials or a query.
 * Errors: DTM_EINVAL, DTM_ETOOSMALL.  Thread-safe.
 */
DTM_EXTERN dtm_status dtm_client_get_url(dtm_client *c, char *buf, size_t buf_size,
                                         size_t *len);

#ifdef __cplusplus
}
#endif

#endif /* DTMETRICS_CLIENT_H */
