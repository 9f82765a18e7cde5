/*
 * Test harness for integration tests against dtmetrics-emulator.
 *
 * Starts the emulator binary of the build tree as a child process, learns
 * its port, drives its control API with libcurl, and stops it.  Every wait
 * has a timeout; nothing here blocks for ever or calls exit.  Failures are
 * reported on stderr and through return values, so that a test asserts on
 * them:
 *
 *     emu_proc *e = emu_start((const char *[]){"--token", "t0k", NULL});
 *     ck_assert_ptr_nonnull(e);
 *     ...point the client at emu_url(e) + "/api/v2/metrics/ingest"...
 *     ck_assert_int_eq(emu_fault(e, "status=503&count=2&retry_after=1"), 200);
 *     ck_assert_int_eq(emu_wait_lines(e, 3, 10000), 0);
 *     lines = emu_lines(e, NULL);  ...  free(lines);
 *     ck_assert_int_eq(emu_stop(e), 0);
 *
 * The binary is $top_builddir/tools/dtmetrics-emulator ($top_builddir is set
 * by make check), else ./tools/dtmetrics-emulator.  If the environment has
 * DTM_TEST_EMULATOR_WRAPPER (e.g. "valgrind --error-exitcode=99 -q"), the
 * emulator runs under that command, split at spaces.  DTM_EMULATOR_* variables
 * of the test's environment are removed in the child, so that tests see the
 * emulator's defaults.
 *
 * Start the emulator inside the test function (or a checked fixture): it is
 * a child of the process that starts it, and on Linux it gets SIGTERM when
 * that process dies.  An emu_proc belongs to one thread at a time.
 * Memory comes from malloc (never the library's allocator), so the failing
 * allocator of testutil.h does not affect the harness.
 */
#ifndef DTMETRICS_EMULATOR_HARNESS_H
#define DTMETRICS_EMULATOR_HARNESS_H

#include <stddef.h>

typedef struct emu_proc emu_proc;

/* Start the emulator with "--port 0" followed by args (a NULL-terminated
   list, or NULL), wait until it listens (at most 30 s).  Its stdout goes to
   an unlinked temporary file (never a pipe that could fill up); its stderr
   is the test's.  Returns NULL on failure. */
emu_proc *emu_start(const char *const *args);

/* Base URL without a trailing slash, e.g. "http://127.0.0.1:40123". */
const char *emu_url(const emu_proc *e);
unsigned emu_port(const emu_proc *e);

/* Send SIGTERM, wait for the exit (at most 30 s, then SIGKILL), free e.
   Returns 0 when the emulator exited with status 0, else -1 (reason on
   stderr).  NULL is a no-op returning -1. */
int emu_stop(emu_proc *e);

/* Path of the emulator binary the harness runs (static storage). */
const char *emu_program(void);

/* ---- control API; every call times out after 10 s ---- */

/* POST /_emulator/fault?<query>, e.g. "status=503&count=2&retry_after=7",
   "drop=1", "delay_ms=3000".  Returns the HTTP status (200 = queued), or -1
   when the request failed. */
int emu_fault(emu_proc *e, const char *query);

/* POST /_emulator/reset.  0 on success, -1 otherwise. */
int emu_reset(emu_proc *e);

/* GET /_emulator/lines: the kept accepted lines, each followed by "\n".
   malloc'd and NUL-terminated (free it); *len (if not NULL) gets the length.
   NULL on failure. */
char *emu_lines(emu_proc *e, size_t *len);

/* GET /_emulator/stats. */
#define EMU_STATUS_CODES 600
typedef struct emu_counters {
    long requests;       /* non-control requests received */
    long lines_ok;       /* accepted lines */
    long lines_invalid;  /* rejected lines */
    long bytes;          /* body bytes received */
    long bytes_decoded;  /* body bytes after gzip decoding */
    long dropped;        /* connections closed without an answer */
    long lines_kept;     /* lines /_emulator/lines would return */
    long lines_evicted;  /* accepted lines no longer kept */
    long faults_pending; /* requests still to be hit by queued faults */
    long status[EMU_STATUS_CODES]; /* answers by HTTP status */
} emu_counters;
/* 0 on success (out filled), -1 otherwise. */
int emu_stats(emu_proc *e, emu_counters *out);

/* Poll the statistics until lines_ok >= n (or requests >= n) or timeout_ms
   passed.  0 when reached, -1 on timeout or failure. */
int emu_wait_lines(emu_proc *e, long n, long timeout_ms);
int emu_wait_requests(emu_proc *e, long n, long timeout_ms);

/* ---- raw requests (for tests of the emulator itself) ---- */
typedef struct emu_response {
    int curl_code;      /* CURLcode; 0 = an answer came */
    long status;        /* HTTP status, 0 when none */
    char *body;         /* malloc'd, NUL-terminated ("" when empty) */
    size_t body_len;
    char *content_type; /* malloc'd header values, NULL when absent */
    char *retry_after;
    char *allow;
} emu_response;

/* One request to emu_url(e) + path.  headers: NULL-terminated list of
   "Name: value" strings, or NULL.  body may be NULL (len 0); with method
   "POST" an empty body is sent as Content-Length: 0.  timeout_ms <= 0 means
   10 s.  Returns out->curl_code; out is always initialised (free it with
   emu_response_free). */
int emu_request(emu_proc *e, const char *method, const char *path, const char *const *headers,
                const void *body, size_t len, long timeout_ms, emu_response *out);
void emu_response_free(emu_response *r);

#endif /* DTMETRICS_EMULATOR_HARNESS_H */
