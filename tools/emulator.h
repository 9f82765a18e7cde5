/*
 * dtmetrics-emulator - declarations shared by the emulator's source files.
 * Part of the tool only; nothing here is installed.
 *
 *   emulator.c           options, environment, main loop, signals
 *   emulator_util.c      growable buffer, JSON text, numbers, ErrorEnvelope
 *   emulator_ingest.c    splitting and validating a body, ValidationResponse
 *   emulator_state.c     shared state: statistics, fault queue, kept lines, output
 *   emulator_http.c      the HTTP server (libmicrohttpd), routing, bodies, gzip
 */
#ifndef DTMETRICS_EMULATOR_H
#define DTMETRICS_EMULATOR_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "internal.h"

#define EMU_PROGRAM "dtmetrics-emulator"

/* ---- growable byte buffer (emulator_util.c) ----
   Appends never fail visibly: on allocation failure the buffer is marked
   failed, later appends are ignored, and the owner checks .failed once. */
typedef struct emu_buf {
    char *p;      /* dtm__malloc'd, NUL-terminated when non-NULL */
    size_t len;
    size_t cap;
    int failed;
} emu_buf;

void emu_buf_put(emu_buf *b, const char *s, size_t n);
void emu_buf_puts(emu_buf *b, const char *s);
void emu_buf_putu(emu_buf *b, uint64_t v);
/* s[0..n) as a JSON string literal, quotes included; bytes >= 0x80 are
   copied as they are, control characters escaped. */
void emu_buf_json(emu_buf *b, const char *s, size_t n);
void emu_buf_free(emu_buf *b);

/* The service's ErrorEnvelope: {"error":{"code":C,"message":"M"}} */
void emu_error_envelope(emu_buf *b, unsigned code, const char *message);

/* Strict unsigned decimal, no sign, no spaces; 0 on success, -1 when not a
   number or above max. */
int emu_parse_u64(const char *s, uint64_t max, uint64_t *out);

/* ASCII case-insensitive comparison of n bytes / of whole strings. */
int emu_ascii_ieq(const char *a, const char *b, size_t n);
int emu_ascii_ieq_str(const char *a, const char *b);

/* Milliseconds since the Unix epoch (wall clock). */
int64_t emu_now_ms(void);

/* ---- configuration (filled by emulator.c) ---- */
typedef struct emu_config {
    const char *listen;     /* loopback address text */
    unsigned port;          /* 0 = chosen by the kernel */
    char *token;            /* dtm__malloc'd; NULL = any non-empty token */
    uint64_t max_body;      /* bytes, applies to wire and decoded size */
    uint64_t max_lines;     /* lines per request on /metrics/ingest; 0 = none */
    uint64_t keep_lines;    /* kept accepted lines (ring) */
    uint64_t keep_bytes;    /* bytes of kept lines */
    const char *output;     /* NULL = discard, "-" = stdout, else a file */
    uint64_t delay_ms;      /* before every answer to a non-control request */
    int check_timestamps;   /* reject timestamps outside the service's window */
    int sink;               /* accept every non-empty line unchecked (benchmarks) */
    int verbose;            /* one line per request on stderr */
} emu_config;

/* ---- validation of one request body (emulator_ingest.c) ---- */
typedef struct emu_span {
    size_t off;
    size_t len;
} emu_span;

typedef struct emu_verdict {
    unsigned status;        /* 202 or 400 */
    uint64_t lines_ok;
    uint64_t lines_invalid;
    emu_span *accepted;     /* spans of the body, in order */
    size_t n_accepted;
    emu_buf json;           /* the response body */
} emu_verdict;

typedef struct emu_ingest_opts {
    int oneagent;           /* answer with linesValid, apply max_lines */
    uint64_t max_lines;     /* 0 = no limit */
    int check_timestamps;
    int sink;
    int64_t now_ms;
} emu_ingest_opts;

/* Split body at LF and validate every line.  DTM_OK or DTM_ENOMEM (then v
   holds nothing).  emu_verdict_free releases v. */
dtm_status emu_ingest(const char *body, size_t len, const emu_ingest_opts *o, emu_verdict *v);
void emu_verdict_free(emu_verdict *v);

/* ---- shared state (emulator_state.c) ---- */
enum emu_fault_body { EMU_BODY_JSON = 0, EMU_BODY_EMPTY, EMU_BODY_TEXT, EMU_BODY_HTML };

typedef struct emu_fault {
    unsigned status;        /* 0: answer normally (only delay) */
    uint64_t count;         /* requests it still applies to */
    uint64_t delay_ms;
    int drop;               /* close the connection without an answer */
    int body;               /* enum emu_fault_body */
    char retry_after[64];   /* "" = no Retry-After header */
} emu_fault;

#define EMU_MAX_FAULTS 64
#define EMU_STATUS_MAX 600

typedef struct emu_stats {
    uint64_t requests;      /* non-control requests */
    uint64_t lines_ok;
    uint64_t lines_invalid;
    uint64_t bytes;         /* request body bytes as received */
    uint64_t bytes_decoded; /* after Content-Encoding */
    uint64_t dropped;       /* connections closed without an answer */
    uint64_t lines_evicted; /* accepted lines no longer kept */
    uint64_t by_status[EMU_STATUS_MAX];
} emu_stats;

typedef struct emu_slot {
    char *s;
    size_t n;
} emu_slot;

typedef struct emu_state {
    pthread_mutex_t mu;
    pthread_cond_t cv;      /* signalled when stopping */
    int stopping;
    const emu_config *cfg;
    emu_stats stats;
    /* ring of kept lines */
    emu_slot *ring;
    size_t ring_cap, ring_head, ring_count;
    uint64_t ring_bytes;
    /* FIFO of faults */
    emu_fault faults[EMU_MAX_FAULTS];
    size_t fault_head, n_faults;
    /* output */
    FILE *out;              /* NULL = discard */
    int out_close;          /* fclose at the end */
    int out_failed;         /* a write failed (reported once) */
} emu_state;

dtm_status emu_state_init(emu_state *st, const emu_config *cfg, FILE *out, int out_close);
void emu_state_destroy(emu_state *st);
void emu_state_stop(emu_state *st);
/* Sleep up to ms, returning early when the state is stopping. */
void emu_state_sleep(emu_state *st, uint64_t ms);

/* Returns 1 and a copy of the fault when one applies to this request. */
int emu_state_take_fault(emu_state *st, emu_fault *f);
/* Queue a fault; returns the number of queued faults, or -1 when full. */
int emu_state_add_fault(emu_state *st, const emu_fault *f);
void emu_state_clear_faults(emu_state *st);

void emu_state_count_request(emu_state *st);
void emu_state_count_answer(emu_state *st, unsigned status, uint64_t wire, uint64_t decoded);
void emu_state_count_drop(emu_state *st, uint64_t wire, uint64_t decoded);
/* Keep, write and count the accepted lines of one request.  DTM_OK or
   DTM_ENOMEM (lines that could not be kept are counted as evicted). */
dtm_status emu_state_commit(emu_state *st, const char *body, const emu_verdict *v);
void emu_state_reset(emu_state *st);

/* Snapshots, dtm__malloc'd into b (check b->failed). */
void emu_state_lines(emu_state *st, emu_buf *b);
void emu_state_stats_json(emu_state *st, emu_buf *b);

/* ---- HTTP server (emulator_http.c) ---- */
typedef struct emu_server emu_server;

/* Start listening on cfg->listen:cfg->port.  On success *url receives the
   base URL ("http://127.0.0.1:14499", "http://[::1]:14499"). */
dtm_status emu_server_start(emu_server **out, emu_state *st, char *url, size_t url_cap);
void emu_server_stop(emu_server *s);

#endif /* DTMETRICS_EMULATOR_H */
