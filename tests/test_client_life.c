/*
 * The client with a fake transport: memory bounds and overflow policies,
 * the accounting invariant under thousands of random faults, manual and
 * background modes, close deadlines, fork, token hygiene, allocation
 * failures.
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

/* ================= memory bounds ================= */
START_TEST(overflow_drop_oldest)
{
    dtm_client_options o;
    dtm_client *c;
    dtm_client_statistics st;
    int i;
    manual_opts(&o);
    o.max_queue_lines = 5;
    c = new_client(&o);
    add_n(c, 0, 8);
    st = stats_of(c);
    ck_assert_uint_eq(st.dropped_overflow, 3);
    ck_assert_uint_eq(st.lines_queued, 5);
    ck_assert(log_has("queue full"));
    ck_assert_int_eq(dtm_client_flush(c, 1000), DTM_OK);
    for (i = 0; i < 8; i++)
        ck_assert_int_eq(times_sent(i, 0), i >= 3);
    assert_invariant(c);
    dtm_client_free(c);
}
END_TEST

START_TEST(overflow_drop_newest_and_bytes)
{
    dtm_client_options o;
    dtm_client *c;
    dtm_client_statistics st;
    int i;
    char line[64];
    manual_opts(&o);
    o.max_queue_lines = 5;
    o.overflow = DTM_OVERFLOW_DROP_NEWEST;
    c = new_client(&o);
    add_n(c, 0, 5);
    for (i = 5; i < 8; i++) {
        int len = snprintf(line, sizeof line, "m.line,i=%d gauge,%d", i, i);
        ck_assert_int_eq(dtm_client_add_line(c, line, (size_t)len), DTM_EFULL);
    }
    st = stats_of(c);
    ck_assert_uint_eq(st.dropped_overflow, 3);
    ck_assert_int_eq(dtm_client_flush(c, 1000), DTM_OK);
    for (i = 0; i < 8; i++)
        ck_assert_int_eq(times_sent(i, 0), i < 5);
    assert_invariant(c);
    dtm_client_free(c);

    /* The byte cap: 1024 bytes hold 39 lines of 22 + 4 bytes, not 40. */
    manual_opts(&o);
    o.max_queue_bytes = 1024;
    o.overflow = DTM_OVERFLOW_DROP_NEWEST;
    c = new_client(&o);
    for (i = 0; i < 40; i++) {
        int len = snprintf(line, sizeof line, "m.ln,i=%d gauge,%04d", 1000 + i, i);
        ck_assert_int_eq(len, 22);
        ck_assert_int_eq(dtm_client_add_line(c, line, (size_t)len), i < 39 ? DTM_OK : DTM_EFULL);
    }
    st = stats_of(c);
    ck_assert_uint_eq(st.lines_queued, 39);
    ck_assert_uint_eq(st.bytes_queued, 39 * 22);
    dtm_client_free(c);
}
END_TEST

START_TEST(overflow_ring_wraps)
{
    /* Drop-oldest over a small byte ring: the tail wraps around its end
       many times; the newest lines come out intact and in order. */
    dtm_client_options o;
    dtm_client *c;
    char line[64], want[2048] = "";
    int i, len;
    manual_opts(&o);
    o.max_queue_bytes = 1024;
    c = new_client(&o);
    for (i = 0; i < 1000; i++) {
        len = snprintf(line, sizeof line, "w.%d gauge,%d", i, i * 7);
        ck_assert_int_eq(dtm_client_add_line(c, line, (size_t)len), DTM_OK);
    }
    len = (int)stats_of(c).lines_queued;
    for (i = 1000 - len; i < 1000; i++) {
        char one[64];
        snprintf(one, sizeof one, "%sw.%d gauge,%d", i > 1000 - len ? "\n" : "", i, i * 7);
        strcat(want, one);
    }
    ck_assert_int_eq(dtm_client_flush(c, 1000), DTM_OK);
    ck_assert_uint_eq(fs.n_reqs, 1);
    ck_assert_str_eq(fs.reqs[0].body, want);
    ck_assert_uint_eq(stats_of(c).dropped_overflow, (uint64_t)(1000 - len));
    assert_invariant(c);
    dtm_client_free(c);
}
END_TEST

typedef struct blocker {
    dtm_client *c;
    dtm_status st;
} blocker;

static void *block_add(void *arg)
{
    blocker *b = arg;
    b->st = dtm_client_add_line(b->c, "late.line gauge,1", 17);
    return NULL;
}

START_TEST(overflow_block)
{
    dtm_client_options o;
    dtm_client *c;
    pthread_t th;
    blocker b;
    manual_opts(&o);
    o.max_queue_lines = 3;
    o.overflow = DTM_OVERFLOW_BLOCK;
    o.block_timeout_ms = 10;
    c = new_client(&o);
    add_n(c, 0, 3);
    /* Nobody makes room: dropped after the timeout. */
    ck_assert_int_eq(dtm_client_add_line(c, "x gauge,1", 9), DTM_EFULL);
    ck_assert_uint_eq(stats_of(c).dropped_overflow, 1);
    dtm_client_free(c);

    /* A flush from another thread makes room. */
    manual_opts(&o);
    o.max_queue_lines = 3;
    o.overflow = DTM_OVERFLOW_BLOCK;
    o.block_timeout_ms = 60000;
    c = new_client(&o);
    add_n(c, 0, 3);
    b.c = c;
    b.st = DTM_EINVAL;
    pthread_create(&th, NULL, block_add, &b);
    while (1) { /* wait until the producer blocks */
        int nb;
        pthread_mutex_lock(&c->mu);
        nb = (int)c->n_blocked;
        pthread_mutex_unlock(&c->mu);
        if (nb)
            break;
        usleep(1000);
    }
    ck_assert_int_eq(dtm_client_flush(c, 1000), DTM_OK);
    pthread_join(th, NULL);
    ck_assert_int_eq(b.st, DTM_OK);
    ck_assert_int_eq(dtm_client_flush(c, 1000), DTM_OK);
    ck_assert_uint_eq(stats_of(c).lines_accepted, 4);
    ck_assert_uint_eq(stats_of(c).dropped_overflow, 0);
    assert_invariant(c);
    dtm_client_free(c);
}
END_TEST

/* ================= the invariant under random faults ================= */
typedef struct chaos {
    uint64_t rng;
    uint64_t accepted, rejected; /* what the fake server decided */
    int auth_failures;
} chaos;

static uint32_t chaos_next(chaos *k)
{
    k->rng ^= k->rng << 13;
    k->rng ^= k->rng >> 7;
    k->rng ^= k->rng << 17;
    return (uint32_t)(k->rng >> 11);
}

static void chaos_answer(ft_state *f, const char *body, size_t len, ft_answer *out, char *buf,
                         size_t cap)
{
    chaos *k = f->user;
    size_t n = ft_lines(body, len);
    uint32_t r = chaos_next(k) % 100;
    out->retry_after_ms = -1;
    if (r < 40) {
        out->status = 202;
        k->accepted += n;
    } else if (r < 45) {
        out->status = 200;
        k->accepted += n;
    } else if (r < 55) {
        size_t bad = 1 + chaos_next(k) % n, i, w;
        if (bad > 12)
            bad = 12;
        w = (size_t)snprintf(buf, cap, "{\"linesOk\":%zu,\"linesInvalid\":%zu,\"error\":{\"code\":400,"
                                       "\"message\":\"x\",\"invalidLines\":[",
                             n - bad, bad);
        for (i = 0; i < bad && i < 10; i++)
            w += (size_t)snprintf(buf + w, cap - w, "%s{\"line\":%zu,\"error\":\"bad\"}",
                                  i ? "," : "", 1 + chaos_next(k) % n);
        snprintf(buf + w, cap - w, "]}}");
        out->status = 400;
        out->body = buf;
        k->accepted += n - bad;
        k->rejected += bad;
    } else if (r < 58) {
        out->status = 401;
        k->auth_failures++;
    } else if (r < 65) {
        out->status = 413;
    } else if (r < 72) {
        out->status = 429;
        if (chaos_next(k) % 2)
            out->retry_after_ms = chaos_next(k) % 3000;
    } else if (r < 80) {
        out->status = 500 + (long)(chaos_next(k) % 5);
    } else if (r < 88) {
        out->status = 0;
        out->error = (chaos_next(k) % 2) ? DTM_ETRANSPORT : DTM_ETIMEOUT;
    } else if (r < 90) {
        out->status = 422;
    } else {
        out->status = 202;
        k->accepted += n;
    }
}

START_TEST(invariant_random_faults)
{
    dtm_client_options o;
    dtm_client *c;
    chaos k;
    int round, i, id = 0;
    dtm_client_statistics st;
    manual_opts(&o);
    o.max_queue_lines = 150;
    o.batch_max_lines = 50;
    o.retry_max_time_ms = 3000;
    o.log_fn = NULL;
    memset(&k, 0, sizeof k);
    k.rng = 0x2545F4914F6CDD1DULL + (uint64_t)_i * 7919;
    fs.answer_fn = chaos_answer;
    fs.user = &k;
    c = new_client(&o);
    for (round = 0; round < 300; round++) {
        int adds = (int)(chaos_next(&k) % 120);
        for (i = 0; i < adds; i++) {
            char line[64];
            uint32_t r = chaos_next(&k) % 50;
            int len = snprintf(line, sizeof line, "m.line,i=%d gauge,%d", id, id);
            id++;
            if (r == 0)
                dtm_client_add_line(c, "bad\nline", 8);
            else
                dtm_client_add_line(c, line, (size_t)len);
        }
        dtm_client_flush(c, (long)(chaos_next(&k) % 30000));
        if (stats_of(c).stopped && chaos_next(&k) % 2)
            dtm_client_set_token(c, (chaos_next(&k) % 2) ? "dt0c01.ROTATED1" : "dt0c01.ROTATED2");
        fs.now += chaos_next(&k) % 4000;
        assert_invariant(c);
    }
    st = stats_of(c);
    ck_assert_uint_eq(st.lines_accepted, k.accepted);
    ck_assert_uint_eq(st.lines_rejected, k.rejected);
    ck_assert_uint_gt(st.lines_submitted, 5000);
    if (getenv("DTM_TEST_VERBOSE"))
        fprintf(stderr, "chaos %d: sub %llu acc %llu rej %llu ovf %llu ret %llu big %llu http %llu ref %llu req %llu\n", _i,
                (unsigned long long)st.lines_submitted, (unsigned long long)st.lines_accepted,
                (unsigned long long)st.lines_rejected, (unsigned long long)st.dropped_overflow,
                (unsigned long long)st.dropped_retries, (unsigned long long)st.dropped_too_large,
                (unsigned long long)st.dropped_http, (unsigned long long)st.dropped_refused,
                (unsigned long long)st.requests);
    ck_assert_uint_gt(st.dropped_overflow, 0);
    ck_assert_uint_gt(st.dropped_retries, 0);
    ck_assert_uint_gt(st.dropped_http, 0);
    ck_assert_uint_gt(st.dropped_refused, 0);
    ck_assert_uint_gt(st.lines_rejected, 0);
    dtm_client_set_token(c, "dt0c01.FINAL");
    dtm_client_close(c, 3600000);
    st = stats_of(c);
    ck_assert_uint_eq(st.lines_queued, 0);
    assert_invariant(c);
    ck_assert_uint_eq(st.lines_accepted, k.accepted);
    dtm_client_free(c);
}
END_TEST

/* ================= modes, close, fork ================= */
static int thread_count(void)
{
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    int n = 0;
    if (!d)
        return -1;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

START_TEST(manual_mode_no_thread_no_send)
{
    dtm_client_options o;
    dtm_client *c;
    int before = thread_count();
    manual_opts(&o);
    c = new_client(&o);
    ck_assert_int_eq(thread_count(), before);
    add_n(c, 0, 2000);
    ck_assert_uint_eq(ft_count_requests(&fs), 0); /* only flush sends */
    ck_assert_int_eq(dtm_client_flush(c, 1000), DTM_OK);
    ck_assert_uint_eq(ft_count_requests(&fs), 2);
    dtm_client_free(c);
}
END_TEST

START_TEST(background_mode_full_batch_and_flush)
{
    dtm_client_options o;
    dtm_client *c;
    int before = thread_count(), with;
    ft_free(&fs);
    ft_init(&fs, 0); /* real clock: the thread waits on it */
    manual_opts(&o);
    o.mode = DTM_CLIENT_BACKGROUND;
    o.flush_interval_ms = 3600000; /* only early wakes and flushes */
    o.batch_max_lines = 100;
    c = new_client(&o);
    with = thread_count();
    ck_assert_int_ge(with, before + 1); /* (a sanitizer may add its own) */
    add_n(c, 0, 250);
    while (stats_of(c).lines_accepted < 200) /* the two full batches go early */
        usleep(1000);
    ck_assert_uint_eq(stats_of(c).lines_queued, 50);
    ck_assert_int_eq(dtm_client_flush(c, 10000), DTM_OK);
    ck_assert_uint_eq(stats_of(c).lines_accepted, 250);
    ck_assert_uint_eq(ft_count_requests(&fs), 3);
    ck_assert_int_eq(dtm_client_close(c, 1000), DTM_OK);
    ck_assert_int_eq(thread_count(), with - 1); /* joined */
    ck_assert_int_eq(dtm_client_add_line(c, "a gauge,1", 9), DTM_ESTATE);
    ck_assert_int_eq(dtm_client_flush(c, 10), DTM_ESTATE);
    ck_assert_int_eq(dtm_client_close(c, 10), DTM_ESTATE);
    assert_invariant(c);
    dtm_client_free(c);
}
END_TEST

START_TEST(background_mode_interval)
{
    dtm_client_options o;
    dtm_client *c;
    ft_free(&fs);
    ft_init(&fs, 0);
    manual_opts(&o);
    o.mode = DTM_CLIENT_BACKGROUND;
    o.flush_interval_ms = 20;
    o.flush_jitter_ms = 5;
    c = new_client(&o);
    add_n(c, 0, 3);
    while (stats_of(c).lines_accepted < 3)
        usleep(1000);
    ck_assert_uint_eq(ft_count_requests(&fs), 1);
    dtm_client_free(c); /* free without close: nothing left to drop */
}
END_TEST

START_TEST(close_sends_the_rest)
{
    dtm_client_options o;
    dtm_client *c;
    manual_opts(&o);
    c = new_client(&o);
    add_n(c, 0, 5);
    ck_assert_int_eq(dtm_client_close(c, 1000), DTM_OK);
    ck_assert_uint_eq(stats_of(c).lines_accepted, 5);
    ck_assert_int_eq(dtm_client_add_line(c, "a gauge,1", 9), DTM_ESTATE);
    ck_assert_uint_eq(stats_of(c).lines_submitted, 5);
    dtm_client_free(c);
    /* Free without close: dropped, nothing sent. */
    manual_opts(&o);
    c = new_client(&o);
    add_n(c, 0, 5);
    dtm_client_free(c);
    ck_assert_uint_eq(fs.n_reqs, 1);
}
END_TEST

START_TEST(close_with_stalling_transport_manual)
{
    dtm_client_options o;
    dtm_client *c;
    dtm_client_statistics st;
    int64_t start;
    manual_opts(&o);
    fs.stall_fake = 1; /* each post burns its whole timeout on the fake clock */
    c = new_client(&o);
    add_n(c, 0, 5);
    start = fs.now;
    ck_assert_int_eq(dtm_client_close(c, 2500), DTM_ETIMEOUT);
    ck_assert_int_le(fs.now - start, 2500); /* never past the deadline */
    ck_assert_uint_ge(fs.n_reqs, 1);
    ck_assert_int_le(fs.reqs[0].timeout_ms, 2500); /* clamped */
    st = stats_of(c);
    ck_assert_uint_eq(st.dropped_close, 5);
    ck_assert_uint_eq(st.lines_queued, 0);
    assert_invariant(c);
    dtm_client_free(c);
}
END_TEST

START_TEST(close_with_stalling_transport_background)
{
    dtm_client_options o;
    dtm_client *c;
    dtm_client_statistics st;
    ft_free(&fs);
    ft_init(&fs, 0);
    fs.stall = 1; /* real time: posts wait for cancel or their 60 s timeout */
    manual_opts(&o);
    o.mode = DTM_CLIENT_BACKGROUND;
    o.flush_interval_ms = 1;
    o.flush_jitter_ms = 0;
    o.request_timeout_ms = 60000;
    c = new_client(&o);
    add_n(c, 0, 5);
    while (1) { /* wait for the exporter to be inside a post */
        int in;
        pthread_mutex_lock(&fs.mu);
        in = fs.in_post;
        pthread_mutex_unlock(&fs.mu);
        if (in)
            break;
        usleep(1000);
    }
    /* The test case's timeout (far below 60 s) catches a close that waits
       for the transfer instead of abandoning it. */
    ck_assert_int_eq(dtm_client_close(c, 50), DTM_ETIMEOUT);
    st = stats_of(c);
    ck_assert_uint_eq(st.dropped_close, 5);
    assert_invariant(c);
    dtm_client_free(c);
}
END_TEST

static void fork_case(dtm_client_mode mode)
{
    dtm_client_options o;
    dtm_client *c;
    pid_t pid;
    int status, i;
    if (mode == DTM_CLIENT_BACKGROUND) {
        ft_free(&fs);
        ft_init(&fs, 0);
    }
    manual_opts(&o);
    o.mode = mode;
    o.flush_interval_ms = 3600000;
    c = new_client(&o);
    add_n(c, 0, 4);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        dtm_client_statistics st;
        char buf[64];
        size_t n;
        int ok = dtm_client_add_line(c, "child gauge,1", 13) == DTM_ESTATE &&
                 dtm_client_add_gauge(c, "child", NULL, 0, 1, 0) == DTM_ESTATE &&
                 dtm_client_flush(c, 100) == DTM_ESTATE &&
                 dtm_client_stats(c, &st) == DTM_ESTATE &&
                 dtm_client_last_error(c, buf, sizeof buf, &n) == DTM_ESTATE &&
                 dtm_client_set_token(c, "x.y") == DTM_ESTATE &&
                 dtm_client_close(c, 100) == DTM_ESTATE && ft_count_requests(&fs) == 0;
        dtm_client_free(c);
        _exit(ok ? 0 : 1);
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status));
    ck_assert_int_eq(WEXITSTATUS(status), 0);
    /* The parent is unaffected. */
    add_n(c, 4, 1);
    ck_assert_int_eq(dtm_client_flush(c, 5000), DTM_OK);
    for (i = 0; i < 5; i++)
        ck_assert_int_eq(times_sent(i, 202), 1);
    ck_assert_uint_eq(stats_of(c).lines_accepted, 5);
    dtm_client_free(c);
}

START_TEST(fork_child_gets_estate)
{
    fork_case(DTM_CLIENT_MANUAL);
    teardown();
    setup();
    fork_case(DTM_CLIENT_BACKGROUND);
}
END_TEST

/* ================= token hygiene ================= */
START_TEST(token_never_in_logs_or_errors)
{
    /* The server even echoes the token in its messages; it is removed. */
    static const ft_answer script[] = {
        {401, DTM_OK, "{\"error\":{\"code\":401,\"message\":\"bad token " TOKEN "\"}}", -1},
        {400, DTM_OK,
         "{\"linesOk\":0,\"linesInvalid\":1,\"error\":{\"code\":400,\"message\":\"x " TOKEN_SECRET
         "\",\"invalidLines\":[{\"line\":1,\"error\":\"e " TOKEN "\"}]}}",
         -1},
        {500, DTM_OK, "", -1},
        {202, DTM_OK, "", -1}};
    dtm_client_options o;
    dtm_client *c;
    char err[256];
    size_t n;
    dtm_client_statistics st;
    manual_opts(&o);
    o.verbose = 1;
    fs.script = script;
    fs.n_script = 4;
    c = new_client(&o);
    ck_assert(log_has("dt0c01.ABCDEFGHIJKLMNOPQRSTUVWX.****")); /* the identifier only */
    add_n(c, 0, 1);
    ck_assert_int_eq(dtm_client_flush(c, 1000), DTM_EAUTH);
    ck_assert_int_eq(dtm_client_last_error(c, err, sizeof err, &n), DTM_OK);
    ck_assert_ptr_null(strstr(err, TOKEN_SECRET));
    ck_assert_int_eq(dtm_client_set_token(c, TOKEN), DTM_OK);
    ck_assert_int_eq(dtm_client_flush(c, 100000), DTM_EREJECTED);
    add_n(c, 1, 1);
    ck_assert_int_eq(dtm_client_flush(c, 100000), DTM_OK);
    ck_assert_int_eq(dtm_client_stats(c, &st), DTM_OK);
    ck_assert_ptr_null(strstr(st.last_error, TOKEN_SECRET));
    ck_assert_int_eq(dtm_client_set_url(c, "http://plain.example.com/api/v2/metrics/ingest"),
                     DTM_ECONFIG);
    ck_assert_int_eq(dtm_client_last_error(c, err, sizeof err, &n), DTM_OK);
    ck_assert_ptr_null(strstr(err, TOKEN_SECRET));
    dtm_client_close(c, 0);
    dtm_client_free(c);
    ck_assert(log_has("stopped"));
    ck_assert(!log_has(TOKEN_SECRET));
    ck_assert(!log_has("S3CR3TS3CR3T"));
}
END_TEST

/* ================= allocation failures ================= */
static void alloc_loop(dtm_client_mode mode)
{
    long n;
    dtm_status st = DTM_ENOMEM;
    dtm_client_options o;
    char *path = write_temp("DT_METRICS_INGEST_API_TOKEN=filetoken\n");
    manual_opts(&o);
    o.mode = mode;
    o.token = NULL;
    o.read_endpoint_file = 1;
    o.endpoint_file = path;
    o.ca_file = "/x/ca.pem";
    o.proxy = "";
    o.user_agent = "ua/1";
    o.max_queue_bytes = 4096;
    tu_alloc_install();
    for (n = 0; n < 1000; n++) {
        dtm_client *c = (dtm_client *)&o;
        tu_alloc_fail_after(n);
        st = dtm__client_new_hooked(&c, &o, &fs.hooks);
        if (st == DTM_OK) {
            tu_alloc_fail_after(-1);
            ck_assert_int_eq(dtm_client_add_line(c, "a gauge,1", 9), DTM_OK);
            ck_assert_int_eq(dtm_client_flush(c, 1000), DTM_OK);
            dtm_client_free(c);
            break;
        }
        ck_assert_int_eq(st, DTM_ENOMEM);
        ck_assert_ptr_null(c);
        ck_assert_int_eq(tu_alloc_live(), 0);
    }
    tu_alloc_fail_after(-1);
    ck_assert_int_eq(st, DTM_OK);
    ck_assert_int_gt(n, 5);
    ck_assert_int_eq(tu_alloc_live(), 0);
    tu_alloc_uninstall();
    unlink(path);
}

START_TEST(alloc_failures_new)
{
    alloc_loop(DTM_CLIENT_MANUAL);
    alloc_loop(DTM_CLIENT_BACKGROUND);
}
END_TEST

START_TEST(alloc_failures_send_path)
{
    /* After creation, failures on the send path (transport copies, answer
       parsing) never lose count of a line. */
    long n;
    dtm_client_options o;
    static const ft_answer script[] = {
        {400, DTM_OK, "{\"linesOk\":1,\"linesInvalid\":1,\"error\":{\"code\":400,\"message\":\"m\","
                      "\"invalidLines\":[{\"line\":1,\"error\":\"e\"}]}}", -1}};
    manual_opts(&o);
    o.retry_max_time_ms = 0;
    tu_alloc_install();
    for (n = 0; n < 40; n++) {
        dtm_client *c;
        fs.script = script;
        fs.n_script = 1;
        fs.next = 0;
        ck_assert_int_eq(dtm__client_new_hooked(&c, &o, &fs.hooks), DTM_OK);
        add_n(c, 0, 2);
        tu_alloc_fail_after(n);
        dtm_client_flush(c, 1000);
        tu_alloc_fail_after(-1);
        assert_invariant(c);
        ck_assert_uint_eq(stats_of(c).lines_queued, 0);
        dtm_client_free(c);
        ck_assert_int_eq(tu_alloc_live(), 0);
    }
    tu_alloc_uninstall();
}
END_TEST

void client_life_cases(Suite *s)
{
    TCase *tc;

    tc = tu_tcase("memory", 10);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, overflow_drop_oldest);
    tcase_add_test(tc, overflow_drop_newest_and_bytes);
    tcase_add_test(tc, overflow_ring_wraps);
    tcase_add_test(tc, overflow_block);
    suite_add_tcase(s, tc);

    tc = tu_tcase("invariant", 20);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, invariant_random_faults, 0, 5);
    suite_add_tcase(s, tc);

    tc = tu_tcase("lifecycle", 10);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, manual_mode_no_thread_no_send);
    tcase_add_test(tc, background_mode_full_batch_and_flush);
    tcase_add_test(tc, background_mode_interval);
    tcase_add_test(tc, close_sends_the_rest);
    tcase_add_test(tc, close_with_stalling_transport_manual);
    tcase_add_test(tc, close_with_stalling_transport_background);
    tcase_add_test(tc, fork_child_gets_estate);
    suite_add_tcase(s, tc);

    tc = tu_tcase("hygiene", 20);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, token_never_in_logs_or_errors);
    tcase_add_test(tc, alloc_failures_new);
    tcase_add_test(tc, alloc_failures_send_path);
    suite_add_tcase(s, tc);
}
