/*
 * The client against the real dtmetrics-emulator over loopback (libcurl
 * transport): every answer class, splitting, retries, timeouts, refused and
 * dropped connections, exact reconciliation of the statistics with what the
 * emulator accepted, and the token never reaching a log.
 *
 * Backoff waits go through the client's sleep hook (recorded, no wall
 * time); the HTTP traffic is real.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clientimpl.h"
#include "emulator_harness.h"
#include "testutil.h"

#define TOKEN_SECRET "Q9SECRETQ9SECRETQ9SECRETQ9SECRETQ9SECRETQ9SECRETQ9SECRETQ9SECRET"
#define TOKEN "dt0c01.INTEGRATIONPUBLICPART00." TOKEN_SECRET

/* ---- captured log ---- */
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static char *log_text;
static size_t log_len;

static void capture_log(dtm_log_level level, const char *msg, void *ud)
{
    size_t n = strlen(msg);
    (void)ud;
    pthread_mutex_lock(&log_mu);
    log_text = realloc(log_text, log_len + n + 16);
    log_len += (size_t)sprintf(log_text + log_len, "%d %s\n", (int)level, msg);
    pthread_mutex_unlock(&log_mu);
}

static int log_has(const char *needle)
{
    int r;
    pthread_mutex_lock(&log_mu);
    r = log_text && strstr(log_text, needle) != NULL;
    pthread_mutex_unlock(&log_mu);
    return r;
}

/* ---- rejected lines ---- */
static char rejected_lines[64][128];
static size_t n_rejected;

static void on_rejected(const char *line, size_t len, const char *reason, void *ud)
{
    (void)ud;
    (void)len;
    ck_assert(reason && *reason);
    if (n_rejected < 64)
        snprintf(rejected_lines[n_rejected++], sizeof rejected_lines[0], "%s", line);
}

/* ---- a fake clock and recording sleep; random from a seed ---- */
static int64_t clock_now = 1000000;
static int64_t sleeps[1024];
static size_t n_sleeps;
static uint64_t rng = 0x9E3779B97F4A7C15ULL;

static int64_t fake_now(void *ud)
{
    (void)ud;
    return clock_now;
}

static void fake_sleep(void *ud, int64_t ms)
{
    (void)ud;
    if (n_sleeps < 1024)
        sleeps[n_sleeps++] = ms;
    clock_now += ms;
}

static uint32_t fake_rand(void *ud)
{
    (void)ud;
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 20);
}

static dtm__client_hooks hooks = {NULL, fake_now, fake_sleep, fake_rand, NULL};

static emu_proc *emu;
static char ingest_url[256];

static void start_emulator(const char *const *extra)
{
    const char *args[16];
    size_t n = 0;
    args[n++] = "--token";
    args[n++] = TOKEN;
    args[n++] = "--quiet";
    while (extra && *extra && n < 15)
        args[n++] = *extra++;
    args[n] = NULL;
    emu = emu_start(args);
    ck_assert_ptr_nonnull(emu);
    snprintf(ingest_url, sizeof ingest_url, "%s/api/v2/metrics/ingest", emu_url(emu));
}

static void setup(void)
{
    n_sleeps = 0;
    n_rejected = 0;
    pthread_mutex_lock(&log_mu);
    free(log_text);
    log_text = NULL;
    log_len = 0;
    pthread_mutex_unlock(&log_mu);
    emu = NULL;
}

static void teardown(void)
{
    if (emu)
        ck_assert_int_eq(emu_stop(emu), 0);
    emu = NULL;
}

static void opts_for(dtm_client_options *o)
{
    dtm_client_options_init(o);
    o->mode = DTM_CLIENT_MANUAL;
    o->url = ingest_url;
    o->token = TOKEN;
    o->ignore_environment = 1;
    o->log_fn = capture_log;
    o->log_level = DTM_LOG_DEBUG;
    o->rejected_fn = on_rejected;
    o->request_timeout_ms = 5000;
}

static dtm_client *client(const dtm_client_options *o)
{
    dtm_client *c = NULL;
    ck_assert_int_eq(dtm__client_new_hooked(&c, o, &hooks), DTM_OK);
    return c;
}

static void line_of(int i, char *out, size_t cap)
{
    snprintf(out, cap, "it.metric,i=%d,grp=g%d gauge,%d", i, i % 7, i);
}

static void add_lines(dtm_client *c, int first, int n)
{
    int i;
    char line[96];
    for (i = first; i < first + n; i++) {
        line_of(i, line, sizeof line);
        ck_assert_int_eq(dtm_client_add_line(c, line, strlen(line)), DTM_OK);
    }
}

static dtm_client_statistics stats_of(dtm_client *c)
{
    dtm_client_statistics st;
    ck_assert_int_eq(dtm_client_stats(c, &st), DTM_OK);
    return st;
}

static void assert_invariant(dtm_client *c)
{
    dtm_client_statistics st = stats_of(c);
    ck_assert_uint_eq(st.lines_accepted + st.lines_rejected + st.lines_dropped + st.lines_queued,
                      st.lines_submitted);
}

/* How often line i is among the emulator's accepted lines. */
static int count_kept(const char *kept, int i)
{
    char line[96], needle[100];
    const char *p = kept;
    int n = 0;
    line_of(i, line, sizeof line);
    snprintf(needle, sizeof needle, "%s\n", line);
    while ((p = strstr(p, needle)) != NULL) {
        if (p == kept || p[-1] == '\n')
            n++;
        p += strlen(needle);
    }
    return n;
}

static void assert_each_once(int first, int n)
{
    char *kept = emu_lines(emu, NULL);
    int i;
    ck_assert_ptr_nonnull(kept);
    for (i = first; i < first + n; i++)
        ck_assert_msg(count_kept(kept, i) == 1, "line %d kept %d times", i, count_kept(kept, i));
    free(kept);
}

static emu_counters counters(void)
{
    emu_counters k;
    ck_assert_int_eq(emu_stats(emu, &k), 0);
    return k;
}

/* ======================================================================= */
START_TEST(accepted_202)
{
    dtm_client_options o;
    dtm_client *c;
    dtm_client_statistics st;
    emu_counters k;
    start_emulator(NULL);
    opts_for(&o);
    c = client(&o);
    add_lines(c, 0, 2500);
    ck_assert_int_eq(dtm_client_flush(c, 20000), DTM_OK);
    st = stats_of(c);
    ck_assert_uint_eq(st.lines_accepted, 2500);
    ck_assert_uint_eq(st.requests, 3);
    ck_assert_int_eq(st.last_http_status, 202);
    k = counters();
    ck_assert_int_eq(k.lines_ok, 2500);
    ck_assert_int_eq(k.status[202], 3);
    assert_each_once(0, 2500);
    ck_assert_int_eq(dtm_client_close(c, 5000), DTM_OK);
    dtm_client_free(c);
}
END_TEST

START_TEST(partial_400)
{
    static const char *const bad[] = {"it.bad key gauge,1", "it.bad,Dim=x gauge,1",
                                      "it.bad gauge,min=3,max=1,sum=2,count=2"};
    dtm_client_options o;
    dtm_client *c;
    dtm_client_statistics st;
    emu_counters k;
    size_t i;
    start_emulator(NULL);
    opts_for(&o);
    c = client(&o);
    add_lines(c, 0, 5);
    for (i = 0; i < 3; i++)
        ck_assert_int_eq(dtm_client_add_line(c, bad[i], strlen(bad[i])), DTM_OK);
    add_lines(c, 5, 5);
    ck_assert_int_eq(dtm_client_flush(c, 20000), DTM_EREJECTED);
    st = stats_of(c);
    ck_assert_uint_eq(st.lines_accepted, 10);
    ck_assert_uint_eq(st.lines_rejected, 3);
    ck_assert_uint_eq(st.requests, 1);
    ck_assert_uint_eq(n_rejected, 3);
    for (i = 0; i < 3; i++)
        ck_assert_str_eq(rejected_lines[i], bad[i]);
    /* Never resent: the emulator has each valid line exactly once. */
    ck_assert_int_eq(dtm_client_flush(c, 20000), DTM_OK);
    k = counters();
    ck_assert_int_eq(k.requests, 1);
    ck_assert_int_eq(k.lines_ok, 10);
    ck_assert_int_eq(k.lines_invalid, 3);
    assert_each_once(0, 10);
    dtm_client_free(c);
}
END_TEST

START_TEST(unauthorized_401_then_recovery)
{
    dtm_client_options o;
    dtm_client *c;
    dtm_client_statistics st;
    start_emulator(NULL);
    opts_for(&o);
    o.token = "dt0c01.WRONGWRONGWRONGWRONGWRONG.wrong";
    c = client(&o);
    add_lines(c, 0, 20);
    ck_assert_int_eq(dtm_client_flush(c, 20000), DTM_EAUTH);
    st = stats_of(c);
    ck_assert_int_eq(st.stopped, 1);
    ck_assert_int_eq(st.last_http_status, 401);
    ck_assert_uint_eq(st.lines_queued, 20);
    add_lines(c, 20, 5);
    ck_assert_int_eq(dtm_client_flush(c, 20000), DTM_EAUTH); /* sticky: nothing sent */
    ck_assert_int_eq(counters().requests, 1);
    ck_assert_int_eq(dtm_client_set_token(c, TOKEN), DTM_OK);
    ck_assert_int_eq(dtm_client_flush(c, 20000), DTM_OK);
    st = stats_of(c);
    ck_assert_int_eq(st.stopped, 0);
    ck_assert_uint_eq(st.lines_accepted, 25);
    assert_each_once(0, 25);
    dtm_client_free(c);
}
END_TEST

START_TEST(too_large_413_split)
{
    static const char *const extra[] = {"--max-body", "400", NULL};
    dtm_client_options o;
    dtm_client *c;
    dtm_client_statistics st;
    emu_counters k;
    start_emulator(extra);
    opts_for(&o);
    c = client(&o);
    add_lines(c, 0, 60); /* about 2 KB in one batch */
    ck_assert_int_eq(dtm_client_flush(c, 20000), DTM_OK);
    st = stats_of(c);
    ck_assert_uint_eq(st.lines_accepted, 60);
    k = counters();
    ck_assert_int_gt(k.status[413], 0);
    ck_assert_int_eq(k.lines_ok, 60);
    assert_each_once(0, 60);
    dtm_client_free(c);
}
END_TEST

START_TEST(throttled_429)
{
    dtm_client_options o;
    dtm_client *c;
    start_emulator(NULL);
    opts_for(&o);
    o.retry_initial_ms = 800;
    c = client(&o);
    ck_assert_int_eq(emu_fault(emu, "status=429&retry_after=7"), 200);
    ck_assert_int_eq(emu_fault(emu, "status=429"), 200);
    add_lines(c, 0, 10);
    ck_assert_int_eq(dtm_client_flush(c, 60000), DTM_OK);
    ck_assert_uint_eq(n_sleeps, 2);
    ck_assert_int_eq(sleeps[0], 7000);      /* Retry-After */
    ck_assert_int_le(sleeps[1], 2 * 800);   /* backoff, second attempt */
    ck_assert_uint_eq(stats_of(c).retries, 2);
    ck_assert_int_eq(counters().status[429], 2);
    assert_each_once(0, 10);
    dtm_client_free(c);
}
END_TEST

START_TEST(server_errors_5xx)
{
    dtm_client_options o;
    dtm_client *c;
    start_emulator(NULL);
    opts_for(&o);
    o.retry_max_time_ms = 20000;
    c = client(&o);
    ck_assert_int_eq(emu_fault(emu, "status=500&body=html"), 200);
    ck_assert_int_eq(emu_fault(emu, "status=503&body=empty&count=2"), 200);
    add_lines(c, 0, 10);
    ck_assert_int_eq(dtm_client_flush(c, 60000), DTM_OK);
    ck_assert_uint_eq(stats_of(c).retries, 3);
    ck_assert_int_eq(counters().status[503], 2);
    assert_each_once(0, 10);
    /* Retry time used up: dropped and counted. */
    ck_assert_int_eq(emu_fault(emu, "status=503&count=64"), 200);
    add_lines(c, 10, 3);
    ck_assert_int_eq(dtm_client_flush(c, 3600000), DTM_EHTTP);
    ck_assert_uint_eq(stats_of(c).dropped_retries, 3);
    assert_invariant(c);
    dtm_client_free(c);
}
END_TEST

START_TEST(request_timeout)
{
    dtm_client_options o;
    dtm_client *c;
    char *kept;
    int i;
    start_emulator(NULL);
    opts_for(&o);
    o.request_timeout_ms = 300;
    c = client(&o);
    ck_assert_int_eq(emu_fault(emu, "delay_ms=1500"), 200);
    add_lines(c, 0, 5);
    ck_assert_int_eq(dtm_client_flush(c, 60000), DTM_OK);
    ck_assert_uint_eq(stats_of(c).retries, 1);
    ck_assert_uint_eq(stats_of(c).lines_accepted, 5);
    ck_assert(log_has("no answer"));
    /* The emulator ingests before it delays its answer, so the timed-out
       request landed too: a retry after a timeout can duplicate lines (the
       API has no idempotency key; documented). */
    ck_assert_int_eq(emu_wait_lines(emu, 10, 10000), 0);
    kept = emu_lines(emu, NULL);
    for (i = 0; i < 5; i++)
        ck_assert_int_ge(count_kept(kept, i), 1);
    free(kept);
    dtm_client_free(c);
}
END_TEST

START_TEST(connection_refused)
{
    dtm_client_options o;
    dtm_client *c;
    dtm_client_statistics st;
    start_emulator(NULL);
    opts_for(&o);
    ck_assert_int_eq(emu_stop(emu), 0); /* the port is closed now */
    emu = NULL;
    o.retry_max_time_ms = 10000;
    c = client(&o);
    add_lines(c, 0, 4);
    ck_assert_int_eq(dtm_client_flush(c, 3600000), DTM_ETRANSPORT);
    st = stats_of(c);
    ck_assert_uint_eq(st.dropped_retries, 4);
    ck_assert_int_eq(st.last_http_status, 0);
    ck_assert_uint_gt(n_sleeps, 0);
    ck_assert(log_has("no answer"));
    assert_invariant(c);
    dtm_client_free(c);
}
END_TEST

START_TEST(connection_dropped)
{
    dtm_client_options o;
    dtm_client *c;
    start_emulator(NULL);
    opts_for(&o);
    c = client(&o);
    ck_assert_int_eq(emu_fault(emu, "drop=1&count=2"), 200);
    add_lines(c, 0, 10);
    ck_assert_int_eq(dtm_client_flush(c, 60000), DTM_OK);
    ck_assert_uint_eq(stats_of(c).retries, 2);
    ck_assert_int_eq(counters().dropped, 2);
    assert_each_once(0, 10);
    dtm_client_free(c);
}
END_TEST

START_TEST(reconcile_random_faults)
{
    static const char *const faults[] = {
        "status=429", "status=429&retry_after=2", "status=500", "status=502&body=html",
        "status=503&body=empty", "status=504", "drop=1", "status=413", "status=503&count=3"};
    static const char *const bad[] = {"it.bad key gauge,1", "it.bad,Up=1 gauge,2"};
    dtm_client_options o;
    dtm_client *c;
    dtm_client_statistics st;
    emu_counters k;
    dtm_status dst;
    int round, id = 0;
    start_emulator(NULL);
    opts_for(&o);
    o.batch_max_lines = 40;
    o.max_queue_lines = 200;
    o.retry_max_time_ms = 4000;
    o.log_fn = NULL;
    c = client(&o);
    for (round = 0; round < 60; round++) {
        int n = (int)(fake_rand(NULL) % 100), i;
        if (fake_rand(NULL) % 3 == 0)
            emu_fault(emu, faults[fake_rand(NULL) % (sizeof faults / sizeof faults[0])]);
        for (i = 0; i < n; i++) {
            if (fake_rand(NULL) % 40 == 0) {
                const char *b = bad[fake_rand(NULL) % 2];
                dtm_client_add_line(c, b, strlen(b));
            } else {
                char line[96];
                line_of(id++, line, sizeof line);
                dtm_client_add_line(c, line, strlen(line));
            }
        }
        dtm_client_flush(c, (long)(fake_rand(NULL) % 20000));
        clock_now += fake_rand(NULL) % 3000;
        assert_invariant(c);
    }
    {
        emu_response r;
        ck_assert_int_eq(emu_request(emu, "DELETE", "/_emulator/fault", NULL, NULL, 0, 0, &r), 0);
        emu_response_free(&r);
    }
    dst = dtm_client_close(c, 3600000);
    ck_assert_msg(dst == DTM_OK || dst == DTM_EREJECTED, "close: %s", dtm_strerror(dst));
    st = stats_of(c);
    k = counters();
    /* Exact: every line the client counts as accepted or rejected is what
       the emulator accepted or rejected, and nothing is left. */
    ck_assert_uint_eq(st.lines_queued, 0);
    ck_assert_int_eq((long)st.lines_accepted, k.lines_ok);
    ck_assert_int_eq((long)st.lines_rejected, k.lines_invalid);
    /* Requests: libcurl re-sends by itself, once, when a reused keep-alive
       connection dies before any answer (the drop=1 faults), so the
       emulator may count more requests than the client made. */
    ck_assert_int_le((long)st.requests, k.requests);
    assert_invariant(c);
    ck_assert_uint_gt(st.retries, 0);
    dtm_client_free(c);
}
END_TEST

START_TEST(token_never_logged_verbose)
{
    dtm_client_options o;
    dtm_client *c;
    char err[256];
    size_t n;
    start_emulator(NULL);
    opts_for(&o);
    o.verbose = 1;
    o.token = "dt0c01.INTEGRATIONPUBLICPART00.WRONGWRONGWRONGWRONGWRONGWRONGWRONGWRONGWRONGWRONGWRONGWRONGWR";
    c = client(&o);
    add_lines(c, 0, 3);
    ck_assert_int_eq(dtm_client_flush(c, 20000), DTM_EAUTH);
    ck_assert_int_eq(dtm_client_set_token(c, TOKEN), DTM_OK);
    ck_assert_int_eq(emu_fault(emu, "status=503"), 200);
    ck_assert_int_eq(dtm_client_flush(c, 60000), DTM_OK);
    ck_assert_int_eq(dtm_client_last_error(c, err, sizeof err, &n), DTM_OK);
    ck_assert_ptr_null(strstr(err, TOKEN_SECRET));
    dtm_client_free(c);
    ck_assert(log_has("curl: ")); /* the verbose trace was captured */
    ck_assert(log_has("Authorization"));
    ck_assert(!log_has(TOKEN_SECRET));
    ck_assert(!log_has("WRONGWRONGWRONG"));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("integration");
    TCase *tc = tu_tcase("emulator", 30);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, accepted_202);
    tcase_add_test(tc, partial_400);
    tcase_add_test(tc, unauthorized_401_then_recovery);
    tcase_add_test(tc, too_large_413_split);
    tcase_add_test(tc, throttled_429);
    tcase_add_test(tc, server_errors_5xx);
    tcase_add_test(tc, request_timeout);
    tcase_add_test(tc, connection_refused);
    tcase_add_test(tc, connection_dropped);
    tcase_add_test(tc, reconcile_random_faults);
    tcase_add_test(tc, token_never_logged_verbose);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
