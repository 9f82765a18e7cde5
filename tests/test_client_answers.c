/*
 * The client with a fake transport: every answer class, 413 splitting,
 * partial-400 mapping, the sticky stop on 401/403/404/405/3xx, retries with
 * Retry-After and backoff, the retry budget.
 */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client_fixture.h"

/* ================= answers ================= */
START_TEST(answer_202_and_200)
{
    static const ft_answer script[] = {{202, DTM_OK, "{\"linesOk\":3,\"linesInvalid\":0,\"error\":null,"
                                                     "\"warnings\":null}", -1},
                                       {200, DTM_OK, "<html>ok</html>", -1}};
    dtm_client_options o;
    dtm_client *c;
    dtm_client_statistics st;
    manual_opts(&o);
    fs.script = script;
    fs.n_script = 2;
    c = new_client(&o);
    add_n(c, 0, 3);
    ck_assert_int_eq(dtm_client_flush(c, 1000), DTM_OK);
    ck_assert(!log_has("instead of 202"));
    add_n(c, 3, 2);
    ck_assert_int_eq(dtm_client_flush(c, 1000), DTM_OK);
    ck_assert(log_has("HTTP 200 instead of 202"));
    ck_assert(log_has("did you forget /api/v2/metrics/ingest?"));
    st = stats_of(c);
    ck_assert_uint_eq(st.lines_accepted, 5);
    ck_assert_uint_eq(st.requests, 2);
    ck_assert_uint_eq(st.lines_sent, 5);
    ck_assert_int_eq(st.last_http_status, 200);
    ck_assert_uint_eq(st.bytes_sent, fs.reqs[0].len + fs.reqs[1].len);
    assert_invariant(c);
    dtm_client_free(c);
}
END_TEST

START_TEST(answer_400_partial)
{
    /* Lines 3 and 7 (1-based) of a 10-line request are invalid. */
    static const ft_answer script[] = {
        {400, DTM_OK,
         "{\"linesOk\":8,\"linesInvalid\":2,\"error\":{\"code\":400,\"message\":\"2 invalid "
         "lines\",\"invalidLines\":[{\"line\":3,\"error\":\"invalid metric key\"},{\"line\":7,"
         "\"error\":\"dimension value length exceeded\"}]},\"warnings\":null}",
         -1}};
    dtm_client_options o;
    dtm_client *c;
    dtm_client_statistics st;
    manual_opts(&o);
    fs.script = script;
    fs.n_script = 1;
    c = new_client(&o);
    add_n(c, 0, 10);
    ck_assert_int_eq(dtm_client_flush(c, 1000), DTM_EREJECTED);
    ck_assert_uint_eq(n_rejected, 2);
    ck_assert_str_eq(rejected[0].line, "m.line,i=2 gauge,2");
    ck_assert_str_eq(rejected[0].reason, "invalid metric key");
    ck_assert_str_eq(rejected[1].line, "m.line,i=6 gauge,6");
    ck_assert_str_eq(rejected[1].reason, "dimension value length exceeded");
    ck_assert(log_has("m.line,i=2 gauge,2"));
    ck_assert(log_has("invalid metric key"));
    st = stats_of(c);
    ck_assert_uint_eq(st.lines_accepted, 8);
    ck_assert_uint_eq(st.lines_rejected, 2);
    ck_assert_uint_eq(st.lines_queued, 0);
    /* Nothing resent, now or later. */
    ck_assert_int_eq(dtm_client_flush(c, 1000), DTM_OK);
    ck_assert_uint_eq(fs.n_reqs, 1);
    assert_invariant(c);
    dtm_client_free(c);
}
END_TEST

START_TEST(answer_400_after_split_maps_to_range)
{
    /* The 400 comes for the second half of a split batch: line 2 of that
       request is line 5 + 2 of the batch. */
    static const ft_answer script[] = {
        {413, DTM_OK, "", -1},
        {202, DTM_OK, "{\"linesOk\":5,\"linesInvalid\":0,\"error\":null}", -1},
        {400, DTM_OK,
         "{\"linesOk\":4,\"linesInvalid\":1,\"error\":{\"code\":400,\"message\":\"1 invalid "
         "lines\",\"invalidLines\":[{\"line\":2,\"error\":\"bad\"}]}}",
         -1}};
    dtm_client_options o;
    dtm_client *c;
    manual_opts(&o);
    fs.script = script;
    fs.n_script = 3;
    c = new_client(&o);
    add_n(c, 0, 10);
    ck_assert_int_eq(dtm_client_flush(c, 1000), DTM_EREJECTED);
    ck_assert_uint_eq(n_rejected, 1);
    ck_assert_str_eq(rejected[0].line, "m.line,i=6 gauge,6");
    ck_assert_uint_eq(stats_of(c).lines_accepted, 9);
    ck_assert_uint_eq(stats_of(c).lines_rejected, 1);
    dtm_client_free(c);
}
END_TEST

START_TEST(answer_400_variants)
{
    /* 29 invalid, 10 itemised, linesOk given; then linesOk absent; then the
       OneAgent's linesValid; then an out-of-range line number. */
    static const ft_answer script[] = {
        {400, DTM_OK,
         "{\"linesOk\":11,\"linesInvalid\":29,\"error\":{\"code\":400,\"message\":\"First 10 "
         "errors reported\",\"invalidLines\":[{\"line\":1,\"error\":\"e\"},{\"line\":2,\"error\":"
         "\"e\"},{\"line\":3,\"error\":\"e\"},{\"line\":4,\"error\":\"e\"},{\"line\":5,\"error\":"
         "\"e\"},{\"line\":6,\"error\":\"e\"},{\"line\":7,\"error\":\"e\"},{\"line\":8,\"error\":"
         "\"e\"},{\"line\":9,\"error\":\"e\"},{\"line\":10,\"error\":\"e\"}]}}",
         -1},
        {400, DTM_OK,
         "{\"error\":{\"code\":400,\"message\":\"x\",\"invalidLines\":[{\"line\":2,\"error\":\"k\"}]}}",
         -1},
        {400, DTM_OK, "{\"error\":null,\"linesValid\":3,\"linesInvalid\":1}", -1},
        {400, DTM_OK,
         "{\"linesOk\":1,\"linesInvalid\":1,\"error\":{\"code\":400,\"message\":\"x\","
         "\"invalidLines\":[{\"line\":99,\"error\":\"k\"},{\"line\":0,\"error\":\"k\"}]}}",
         -1}};
    dtm_client_options o;
    dtm_client *c;
    dtm_client_statistics st;
    manual_opts(&o);
    o.batch_max_lines = 40;
    fs.script = script;
    fs.n_script = 4;
    c = new_client(&o);
    add_n(c, 0, 40);
    ck_assert_int_eq(dtm_client_flush(c, 1000), DTM_EREJECTED);
    ck_assert_uint_eq(n_rejected, 10);
    st = stats_of(c);
    ck_assert_uint_eq(st.lines_accepted, 11);
    ck_assert_uint_eq(st.lines_rejected, 29);
    add_n(c, 100, 4);
    ck_assert_int_eq(dtm_client_flush(c, 1000), DTM_EREJECTED);
    ck_assert_str_eq(rejected[10].line, "m.line,i=101 gauge,101");
    st = stats_of(c);
    ck_assert_uint_eq(st.lines_accepted, 14);
    ck_assert_uint_eq(st.lines_rejected, 30);
    add_n(c, 200, 4);
    ck_assert_int_eq(dtm_client_flush(c, 1000), DTM_EREJECTED);
    st = stats_of(c);
    ck_assert_uint_eq(st.lines_accepted, 17);
    ck_assert_uint_eq(st.lines_rejected, 31);
    add_n(c, 300, 2);
    ck_assert_int_eq(dtm_client_flush(c, 1000), DTM_EREJECTED);
    ck_assert_uint_eq(n_rejected, 11); /* no report for impossible line numbers */
    ck_assert_uint_eq(stats_of(c).lines_rejected, 32);
    ck_assert_uint_eq(fs.n_reqs, 4);
    assert_invariant(c);
    dtm_client_free(c);
}
END_TEST

START_TEST(answer_400_unreadable)
{
    static const ft_answer script[] = {{400, DTM_OK, "<html>Bad Request</html>", -1}};
    dtm_client_options o;
    dtm_client *c;
    dtm_client_statistics st;
    manual_opts(&o);
    fs.script = script;
    fs.n_script = 1;
    c = new_client(&o);
    add_n(c, 0, 5);
    ck_assert_int_eq(dtm_client_flush(c, 1000), DTM_EHTTP);
    st = stats_of(c);
    ck_assert_uint_eq(st.dropped_http, 5);
    ck_assert_uint_eq(st.lines_queued, 0);
    ck_assert_int_eq(dtm_client_flush(c, 1000), DTM_OK);
    ck_assert_uint_eq(fs.n_reqs, 1); /* never resent */
    assert_invariant(c);
    dtm_client_free(c);
}
END_TEST

static void check_stop_and_resume(long status, int by_url)
{
    ft_answer script[1] = {{0, DTM_OK, "{\"error\":{\"code\":0,\"message\":\"Token Authentication failed\"}}", -1}};
    dtm_client_options o;
    dtm_client *c;
    dtm_client_statistics st;
    char err[256];
    size_t n;
    script[0].status = status;
    manual_opts(&o);
    o.max_queue_lines = 8;
    fs.script = script;
    fs.n_script = 1;
    c = new_client(&o);
    add_n(c, 0, 5);
    ck_assert_int_eq(dtm_client_flush(c, 1000), DTM_EAUTH);
    st = stats_of(c);
    ck_assert_int_eq(st.stopped, 1);
    ck_assert_int_eq(st.last_status, DTM_EAUTH);
    ck_assert_int_eq(st.last_http_status, status);
    ck_assert_uint_eq(st.lines_queued, 5);
    ck_assert_int_eq(dtm_client_last_error(c, err, sizeof err, &n), DTM_OK);
    ck_assert(strstr(err, "stopped"));
    ck_assert(log_has("stopped"));
    /* Sticky: no request while stopped; the queue stays bounded. */
    add_n(c, 5, 10);
    ck_assert_int_eq(dtm_client_flush(c, 1000), DTM_EAUTH);
    ck_assert_uint_eq(fs.n_reqs, 1);
    st = stats_of(c);
    ck_assert_uint_eq(st.lines_queued, 5 + 8);
    ck_assert_uint_eq(st.dropped_overflow, 2);
    assert_invariant(c);
    if (by_url)
        ck_assert_int_eq(dtm_client_set_url(c, "https://fixed.live.dynatrace.com/api/v2/metrics/ingest"),
                         DTM_OK);
    else
        ck_assert_int_eq(dtm_client_set_token(c, "dt0c01.NEWTOKEN"), DTM_OK);
    ck_assert_int_eq(dtm_client_flush(c, 1000), DTM_OK);
    st = stats_of(c);
    ck_assert_int_eq(st.stopped, 0);
    ck_assert_int_eq(st.last_status, DTM_OK);
    ck_assert_uint_eq(st.lines_accepted, 13);
    ck_assert_uint_eq(st.lines_queued, 0);
    if (by_url)
        ck_assert_str_eq(fs.reqs[1].url, "https://fixed.live.dynatrace.com/api/v2/metrics/ingest");
    else
        ck_assert_str_eq(fs.reqs[1].token, "dt0c01.NEWTOKEN");
    /* The stopped batch went first: line 0 was delivered exactly once. */
    ck_assert_int_eq(times_sent(0, 202), 1);
    ck_assert_int_eq(times_sent(4, 202), 1);
    assert_invariant(c);
    dtm_client_free(c);
}

START_TEST(answer_401_sticky_then_set_token)
{
    check_stop_and_resume(401, 0);
}
END_TEST

START_TEST(answer_403_sticky_then_set_token)
{
    check_stop_and_resume(403, 0);
}
END_TEST

START_TEST(answer_404_405_3xx_sticky_then_set_url)
{
    check_stop_and_resume(404, 1);
    teardown();
    setup();
    check_stop_and_resume(405, 1);
    teardown();
    setup();
    check_stop_and_resume(301, 1);
    ck_assert(log_has("redirected"));
}
END_TEST

static void answer_413_over(ft_state *f, const char *body, size_t len, ft_answer *out, char *buf,
                            size_t cap)
{
    size_t limit = *(size_t *)f->user;
    (void)body;
    (void)buf;
    (void)cap;
    if (len > limit)
        out->status = 413;
}

START_TEST(answer_413_split_each_line_once)
{
    dtm_client_options o;
    dtm_client *c;
    size_t limit = 60, r;
    dtm_client_statistics st;
    int i;
    manual_opts(&o);
    fs.answer_fn = answer_413_over;
    fs.user = &limit;
    c = new_client(&o);
    add_n(c, 0, 37);
    ck_assert_int_eq(dtm_client_flush(c, 1000), DTM_OK);
    for (i = 0; i < 37; i++)
        ck_assert_msg(times_sent(i, 202) == 1, "line %d delivered %d times", i, times_sent(i, 202));
    for (r = 0; r < fs.n_reqs; r++)
        if (fs.reqs[r].status == 202)
            ck_assert_uint_le(fs.reqs[r].len, limit);
    st = stats_of(c);
    ck_assert_uint_eq(st.lines_accepted, 37);
    ck_assert_uint_eq(st.retries, 0);
    ck_assert(log_has("413"));
    assert_invariant(c);
    /* Order is kept: the accepted requests, joined, are the lines in order. */
    {
        int next = 0;
        for (r = 0; r < fs.n_reqs; r++) {
            char first[64];
            if (fs.reqs[r].status != 202)
                continue;
            snprintf(first, sizeof first, "m.line,i=%d ", next);
            ck_assert_msg(strncmp(fs.reqs[r].body, first, strlen(first)) == 0, "order at %d", next);
            next += (int)ft_lines(fs.reqs[r].body, fs.reqs[r].len);
        }
        ck_assert_int_eq(next, 37);
    }
    /* A single line that is still too large is dropped and counted. */
    limit = 10;
    add_n(c, 100, 1);
    ck_assert_int_eq(dtm_client_flush(c, 1000), DTM_EHTTP);
    st = stats_of(c);
    ck_assert_uint_eq(st.dropped_too_large, 1);
    assert_invariant(c);
    dtm_client_free(c);
}
END_TEST

START_TEST(answer_other_4xx_dropped_and_gzip_fallback)
{
    static const ft_answer script[] = {{415, DTM_OK, "", -1}, {202, DTM_OK, "", -1},
                                       {422, DTM_OK, "", -1}};
    dtm_client_options o;
    dtm_client *c;
    dtm_client_statistics st;
    manual_opts(&o);
    o.gzip = 1;
    fs.script = script;
    fs.n_script = 3;
    c = new_client(&o);
    add_n(c, 0, 4);
    ck_assert_int_eq(dtm_client_flush(c, 1000), DTM_OK);
    ck_assert_uint_eq(fs.n_reqs, 2);
    ck_assert_int_eq(fs.reqs[0].gzip, 1);
    ck_assert_int_eq(fs.reqs[1].gzip, 0);
    ck_assert(log_has("gzip"));
    add_n(c, 4, 2);
    ck_assert_int_eq(dtm_client_flush(c, 1000), DTM_EHTTP);
    st = stats_of(c);
    ck_assert_uint_eq(st.lines_accepted, 4);
    ck_assert_uint_eq(st.dropped_http, 2);
    assert_invariant(c);
    dtm_client_free(c);
}
END_TEST

/* ================= retries ================= */
START_TEST(retry_after_honoured)
{
    static const ft_answer script[] = {{429, DTM_OK, "", 7000}, {503, DTM_OK, "", 1500},
                                       {202, DTM_OK, "", -1}};
    dtm_client_options o;
    dtm_client *c;
    dtm_client_statistics st;
    manual_opts(&o);
    fs.script = script;
    fs.n_script = 3;
    c = new_client(&o);
    add_n(c, 0, 3);
    ck_assert_int_eq(dtm_client_flush(c, 60000), DTM_OK);
    ck_assert_uint_eq(fs.n_sleeps, 2);
    ck_assert_int_eq(fs.sleeps[0], 7000);
    ck_assert_int_eq(fs.sleeps[1], 1500);
    st = stats_of(c);
    ck_assert_uint_eq(st.requests, 3);
    ck_assert_uint_eq(st.retries, 2);
    ck_assert_uint_eq(st.lines_accepted, 3);
    ck_assert_uint_eq(st.lines_sent, 9);
    ck_assert_int_eq(times_sent(1, 202), 1);
    dtm_client_free(c);
}
END_TEST

START_TEST(backoff_grows_to_cap)
{
    static const ft_answer script[] = {{500, DTM_OK, "", -1}, {502, DTM_OK, "", -1},
                                       {503, DTM_OK, "", -1}, {504, DTM_OK, "", -1},
                                       {429, DTM_OK, "", -1}, {0, DTM_ETRANSPORT, NULL, -1},
                                       {0, DTM_ETIMEOUT, NULL, -1}, {408, DTM_OK, "", -1},
                                       {202, DTM_OK, "", -1}};
    static const int64_t want[] = {1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000};
    dtm_client_options o;
    dtm_client *c;
    size_t i;
    manual_opts(&o);
    o.retry_initial_ms = 1000;
    o.retry_max_delay_ms = 30000;
    o.retry_max_time_ms = 600000;
    fs.script = script;
    fs.n_script = 9;
    fs.fixed_rand = 1;
    fs.rand_value = UINT32_MAX; /* the top of every jitter range */
    c = new_client(&o);
    add_n(c, 0, 2);
    ck_assert_int_eq(dtm_client_flush(c, 3600000), DTM_OK);
    ck_assert_uint_eq(fs.n_sleeps, 8);
    for (i = 0; i < 8; i++)
        ck_assert_int_eq(fs.sleeps[i], want[i]);
    ck_assert_uint_eq(stats_of(c).lines_accepted, 2);
    dtm_client_free(c);

    /* Full jitter: the low end of the range is 0, the middle half. */
    teardown();
    setup();
    fs.script = script;
    fs.n_script = 9;
    fs.fixed_rand = 1;
    fs.rand_value = UINT32_MAX / 2;
    c = new_client(&o);
    add_n(c, 0, 2);
    ck_assert_int_eq(dtm_client_flush(c, 3600000), DTM_OK);
    for (i = 0; i < 8; i++)
        ck_assert_int_eq(fs.sleeps[i],
                         (int64_t)((uint64_t)want[i] * (UINT32_MAX / 2) / UINT32_MAX));
    dtm_client_free(c);
}
END_TEST

START_TEST(retry_budget_exhausted)
{
    dtm_client_options o;
    dtm_client *c;
    dtm_client_statistics st;
    int64_t total = 0;
    size_t i;
    manual_opts(&o);
    o.retry_initial_ms = 1000;
    o.retry_max_delay_ms = 4000;
    o.retry_max_time_ms = 20000;
    fs.dflt.status = 503;
    fs.dflt.body = "";
    fs.fixed_rand = 1;
    fs.rand_value = UINT32_MAX;
    c = new_client(&o);
    add_n(c, 0, 6);
    ck_assert_int_eq(dtm_client_flush(c, 3600000), DTM_EHTTP);
    st = stats_of(c);
    ck_assert_uint_eq(st.dropped_retries, 6);
    ck_assert_uint_eq(st.lines_queued, 0);
    for (i = 0; i < fs.n_sleeps; i++)
        total += fs.sleeps[i];
    ck_assert_int_le(total, 20000);
    ck_assert_uint_eq(st.retries, fs.n_sleeps);
    ck_assert(log_has("dropped"));
    assert_invariant(c);
    dtm_client_free(c);
}
END_TEST

START_TEST(retry_after_beyond_budget_drops)
{
    static const ft_answer script[] = {{429, DTM_OK, "", 3600000}};
    dtm_client_options o;
    dtm_client *c;
    manual_opts(&o);
    fs.script = script;
    fs.n_script = 1;
    c = new_client(&o);
    add_n(c, 0, 2);
    ck_assert_int_eq(dtm_client_flush(c, 1000), DTM_EHTTP);
    ck_assert_uint_eq(fs.n_sleeps, 0);
    ck_assert_uint_eq(stats_of(c).dropped_retries, 2);
    dtm_client_free(c);
}
END_TEST

START_TEST(retry_pending_past_deadline_stays_queued)
{
    static const ft_answer script[] = {{503, DTM_OK, "", 5000}, {202, DTM_OK, "", -1}};
    dtm_client_options o;
    dtm_client *c;
    manual_opts(&o);
    fs.script = script;
    fs.n_script = 2;
    c = new_client(&o);
    add_n(c, 0, 3);
    ck_assert_int_eq(dtm_client_flush(c, 1000), DTM_EHTTP); /* retry due after the deadline */
    ck_assert_uint_eq(fs.n_sleeps, 0);
    ck_assert_uint_eq(stats_of(c).lines_queued, 3);
    assert_invariant(c);
    fs.now += 5000;
    ck_assert_int_eq(dtm_client_flush(c, 1000), DTM_OK);
    ck_assert_uint_eq(stats_of(c).lines_accepted, 3);
    ck_assert_uint_eq(fs.n_reqs, 2);
    dtm_client_free(c);
}
END_TEST

START_TEST(transport_creation_failure_retried)
{
    dtm_client_options o;
    dtm_client *c;
    manual_opts(&o);
    o.retry_max_time_ms = 0;
    fs.fail_create = 1;
    c = new_client(&o);
    add_n(c, 0, 2);
    ck_assert_int_eq(dtm_client_flush(c, 1000), DTM_ETRANSPORT);
    ck_assert_uint_eq(stats_of(c).dropped_retries, 2);
    assert_invariant(c);
    dtm_client_free(c);
}
END_TEST

void client_answer_cases(Suite *s)
{
    TCase *tc;

    tc = tu_tcase("answers", 10);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, answer_202_and_200);
    tcase_add_test(tc, answer_400_partial);
    tcase_add_test(tc, answer_400_after_split_maps_to_range);
    tcase_add_test(tc, answer_400_variants);
    tcase_add_test(tc, answer_400_unreadable);
    tcase_add_test(tc, answer_401_sticky_then_set_token);
    tcase_add_test(tc, answer_403_sticky_then_set_token);
    tcase_add_test(tc, answer_404_405_3xx_sticky_then_set_url);
    tcase_add_test(tc, answer_413_split_each_line_once);
    tcase_add_test(tc, answer_other_4xx_dropped_and_gzip_fallback);
    suite_add_tcase(s, tc);

    tc = tu_tcase("retries", 10);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, retry_after_honoured);
    tcase_add_test(tc, backoff_grows_to_cap);
    tcase_add_test(tc, retry_budget_exhausted);
    tcase_add_test(tc, retry_after_beyond_budget_drops);
    tcase_add_test(tc, retry_pending_past_deadline_stays_queued);
    tcase_add_test(tc, transport_creation_failure_retried);
    suite_add_tcase(s, tc);
}
