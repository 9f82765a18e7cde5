/*
 * The client with a fake transport: configuration, environment, endpoint
 * file, argument checks and batching.  The answers and retries are in
 * test_client_answers.c, memory bounds, the invariant under random faults,
 * modes, close, fork, token hygiene and allocation failures in
 * test_client_life.c.
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

/* ================= configuration ================= */
START_TEST(options_defaults)
{
    dtm_client_options o;
    dtm_client_options_init(&o);
    ck_assert_int_eq(o.mode, DTM_CLIENT_BACKGROUND);
    ck_assert_int_eq(o.flush_interval_ms, 60000);
    ck_assert_uint_eq(o.batch_max_lines, 1000);
    ck_assert_uint_eq(o.batch_max_bytes, 1000000);
    ck_assert_int_eq(o.overflow, DTM_OVERFLOW_DROP_OLDEST);
    ck_assert_int_le(o.retry_max_time_ms, 600000);
    ck_assert_ptr_null(o.url);
    ck_assert_ptr_null(o.token);
    ck_assert_ptr_null(o.log_fn);
    ck_assert_str_eq(o.serializer.metrics_source, "libdtmetrics");
}
END_TEST

typedef struct url_case {
    const char *url, *token;
    int allow_any_path, allow_insecure;
    dtm_status want;
    const char *msg_has;   /* substring of the message, or NULL */
    const char *msg_lacks; /* must not appear */
} url_case;

static const url_case url_cases[] = {
    {REMOTE, TOKEN, 0, 0, DTM_OK, NULL, NULL},
    {REMOTE, NULL, 0, 0, DTM_ECONFIG, "token is needed", NULL},
    {"https://abc12345.live.dynatrace.com", TOKEN, 0, 0, DTM_ECONFIG,
     "did you forget /api/v2/metrics/ingest?", NULL},
    {"https://abc12345.live.dynatrace.com/api/v2/metrics", TOKEN, 0, 0, DTM_ECONFIG,
     "did you forget", NULL},
    {"https://abc12345.live.dynatrace.com/custom", TOKEN, 1, 0, DTM_OK, NULL, NULL},
    {"https://mgd.example.com/e/abc/api/v2/metrics/ingest", TOKEN, 0, 0, DTM_OK, NULL, NULL},
    {"http://example.com/api/v2/metrics/ingest", TOKEN, 0, 0, DTM_ECONFIG, "plain http", NULL},
    {"http://example.com/api/v2/metrics/ingest", TOKEN, 0, 1, DTM_OK, NULL, NULL},
    {"http://127.0.0.1:9/metrics/ingest", TOKEN, 0, 0, DTM_OK, NULL, NULL},
    {"http://127.0.0.1:9/metrics/ingest", NULL, 0, 0, DTM_OK, NULL, NULL},
    {"http://[::1]:14499/metrics/ingest", NULL, 0, 0, DTM_OK, NULL, NULL},
    {"http://localhost:14499/metrics/ingest", NULL, 0, 0, DTM_OK, NULL, NULL},
    {"http://10.0.0.1:14499/metrics/ingest", NULL, 0, 0, DTM_ECONFIG, "token", NULL},
    {"ftp://example.com/metrics/ingest", TOKEN, 0, 0, DTM_ECONFIG, "scheme", NULL},
    {"localhost:14499/metrics/ingest", NULL, 0, 0, DTM_ECONFIG, "http://", NULL},
    {"", NULL, 0, 0, DTM_OK, NULL, NULL}, /* empty: the default endpoint */
    {"https://abc.apps.dynatrace.com/api/v2/metrics/ingest", TOKEN, 0, 0, DTM_ECONFIG,
     "live.dynatrace.com", NULL},
    {"https://user:pa55word@abc.live.dynatrace.com/api/v2/metrics/ingest", TOKEN, 0, 0,
     DTM_ECONFIG, "credentials", "pa55word"},
    {"https://abc.live.dynatrace.com/api/v2/metrics/ingest?Api-Token=QQSECRETQQ", TOKEN, 0, 0,
     DTM_ECONFIG, "never put the token", "QQSECRETQQ"},
    {REMOTE, "dt0c01.ABC DEF", 0, 0, DTM_ECONFIG, "white space", "ABC DEF"},
    {REMOTE, "", 0, 0, DTM_ECONFIG, "token is needed", NULL},
};

START_TEST(config_urls)
{
    const url_case *k = &url_cases[_i];
    dtm_client_options o;
    dtm_client *c = NULL;
    char err[256] = "x";
    dtm_status st;
    manual_opts(&o);
    o.url = k->url;
    o.token = k->token;
    o.allow_any_path = k->allow_any_path;
    o.allow_insecure_token = k->allow_insecure;
    o.errbuf = err;
    o.errbuf_size = sizeof err;
    st = dtm__client_new_hooked(&c, &o, &fs.hooks);
    ck_assert_msg(st == k->want, "case %d (%s): got %d, %s", _i, k->url, st, err);
    if (st == DTM_OK) {
        ck_assert_ptr_nonnull(c);
        dtm_client_free(c);
    } else {
        ck_assert_ptr_null(c);
        if (k->msg_has)
            ck_assert_msg(strstr(err, k->msg_has), "case %d: message '%s'", _i, err);
        ck_assert(log_has(k->msg_has ? k->msg_has : ""));
        ck_assert_ptr_null(strstr(err, TOKEN_SECRET));
        if (k->msg_lacks) {
            ck_assert_ptr_null(strstr(err, k->msg_lacks));
            ck_assert(!log_has(k->msg_lacks));
        }
    }
    ck_assert(!log_has(TOKEN_SECRET));
}
END_TEST

START_TEST(config_default_endpoint)
{
    dtm_client_options o;
    dtm_client *c;
    char url[256];
    size_t n;
    manual_opts(&o);
    o.url = NULL;
    o.token = NULL;
    c = new_client(&o);
    ck_assert_int_eq(dtm_client_get_url(c, url, sizeof url, &n), DTM_OK);
    ck_assert_str_eq(url, "http://localhost:14499/metrics/ingest");
    add_n(c, 0, 2);
    ck_assert_int_eq(dtm_client_flush(c, 1000), DTM_OK);
    ck_assert_uint_eq(fs.n_reqs, 1);
    ck_assert_ptr_null(fs.reqs[0].token);
    ck_assert_str_eq(fs.reqs[0].url, "http://localhost:14499/metrics/ingest");
    dtm_client_free(c);
}
END_TEST

START_TEST(config_environment)
{
    dtm_client_options o;
    dtm_client *c;
    char url[256];
    size_t n;
    setenv("DT_METRICS_INGEST_URL", " https://env.live.dynatrace.com/api/v2/metrics/ingest\n", 1);
    setenv("DT_METRICS_INGEST_API_TOKEN", "envtoken123", 1);
    manual_opts(&o);
    o.url = NULL;
    o.token = NULL;
    o.ignore_environment = 0;
    c = new_client(&o);
    ck_assert_int_eq(dtm_client_get_url(c, url, sizeof url, &n), DTM_OK);
    ck_assert_str_eq(url, "https://env.live.dynatrace.com/api/v2/metrics/ingest");
    add_n(c, 0, 1);
    ck_assert_int_eq(dtm_client_flush(c, 1000), DTM_OK);
    ck_assert_str_eq(fs.reqs[0].token, "envtoken123");
    dtm_client_free(c);
    /* The caller's settings win over the environment. */
    o.url = "http://127.0.0.1:1/metrics/ingest";
    o.token = "";
    c = new_client(&o);
    add_n(c, 0, 1);
    ck_assert_int_eq(dtm_client_flush(c, 1000), DTM_OK);
    ck_assert_ptr_null(fs.reqs[1].token);
    ck_assert_str_eq(fs.reqs[1].url, "http://127.0.0.1:1/metrics/ingest");
    dtm_client_free(c);
    /* ignore_environment: the default endpoint. */
    o.url = NULL;
    o.token = NULL;
    o.ignore_environment = 1;
    c = new_client(&o);
    ck_assert_int_eq(dtm_client_get_url(c, url, sizeof url, &n), DTM_OK);
    ck_assert_str_eq(url, "http://localhost:14499/metrics/ingest");
    dtm_client_free(c);
    unsetenv("DT_METRICS_INGEST_URL");
    unsetenv("DT_METRICS_INGEST_API_TOKEN");
}
END_TEST

START_TEST(config_endpoint_file)
{
    dtm_client_options o;
    dtm_client *c;
    char first[64];
    char *path = write_temp("DT_METRICS_INGEST_URL=https://file.live.dynatrace.com/api/v2/metrics/ingest\n"
                            "DT_METRICS_INGEST_API_TOKEN=filetoken1\n");
    static const ft_answer script[] = {{401, DTM_OK, "{\"error\":{\"code\":401,\"message\":\"expired\"}}", -1}};
    char url[256];
    size_t n;

    manual_opts(&o);
    o.url = NULL;
    o.token = NULL;
    o.read_endpoint_file = 1;
    snprintf(first, sizeof first, "%s", path);
    o.endpoint_file = first;
    fs.script = script;
    fs.n_script = 1;
    c = new_client(&o);
    ck_assert_int_eq(dtm_client_get_url(c, url, sizeof url, &n), DTM_OK);
    ck_assert_str_eq(url, "https://file.live.dynatrace.com/api/v2/metrics/ingest");
    add_n(c, 0, 3);
    ck_assert_int_eq(dtm_client_flush(c, 1000), DTM_EAUTH);
    ck_assert_str_eq(fs.reqs[0].token, "filetoken1");
    /* The operator rotates the token; a minute later the file is re-read. */
    path = write_temp("DT_METRICS_INGEST_URL=https://file.live.dynatrace.com/api/v2/metrics/ingest\n"
                      "DT_METRICS_INGEST_API_TOKEN=filetoken2\n");
    /* (write_temp made a new file: point the client at it the way an
       operator's atomic rename would.) */
    rename(path, o.endpoint_file);
    ck_assert_int_eq(dtm_client_flush(c, 1000), DTM_EAUTH); /* not yet due */
    ck_assert_uint_eq(fs.n_reqs, 1);
    fs.now += 60001;
    ck_assert_int_eq(dtm_client_flush(c, 1000), DTM_OK);
    ck_assert_uint_eq(fs.n_reqs, 2);
    ck_assert_str_eq(fs.reqs[1].token, "filetoken2");
    ck_assert_uint_eq(stats_of(c).lines_accepted, 3);
    ck_assert(!log_has("filetoken"));
    dtm_client_free(c);
    unlink(o.endpoint_file);
}
END_TEST

START_TEST(config_bad_options)
{
    dtm_client_options o;
    dtm_client *c = (dtm_client *)&o;
    char err[128];
    int i;
    for (i = 0; i < 8; i++) {
        manual_opts(&o);
        o.errbuf = err;
        o.errbuf_size = sizeof err;
        switch (i) {
        case 0: o.batch_max_lines = 1001; break;
        case 1: o.batch_max_lines = 0; break;
        case 2: o.batch_max_bytes = 1000001; break;
        case 3: o.max_queue_lines = 0; break;
        case 4: o.mode = (dtm_client_mode)7; break;
        case 5: o.overflow = (dtm_overflow_policy)9; break;
        case 6: o.request_timeout_ms = 0; break;
        case 7: o.retry_max_time_ms = -1; break;
        }
        ck_assert_int_eq(dtm__client_new_hooked(&c, &o, &fs.hooks), DTM_EINVAL);
        ck_assert_ptr_null(c);
        ck_assert(strstr(err, "option"));
    }
    ck_assert_int_eq(dtm_client_new(NULL, &o), DTM_EINVAL);
}
END_TEST

START_TEST(bad_arguments)
{
    dtm_client_options o;
    dtm_client *c;
    dtm_client_statistics st;
    char buf[8];
    size_t n;
    manual_opts(&o);
    c = new_client(&o);
    ck_assert_int_eq(dtm_client_add_line(NULL, "a b", 3), DTM_EINVAL);
    ck_assert_int_eq(dtm_client_add_line(c, NULL, 3), DTM_EINVAL);
    ck_assert_int_eq(dtm_client_add_gauge(NULL, "a", NULL, 0, 1, 0), DTM_EINVAL);
    ck_assert_int_eq(dtm_client_add_gauge(c, NULL, NULL, 0, 1, 0), DTM_EINVAL);
    ck_assert_int_eq(dtm_client_add_counter(c, "a", NULL, 2, 1, 0), DTM_EINVAL);
    ck_assert_int_eq(dtm_client_add_metadata(c, NULL, DTM_METRIC_GAUGE, "d", NULL, NULL),
                     DTM_EINVAL);
    ck_assert_int_eq(dtm_client_flush(NULL, 10), DTM_EINVAL);
    ck_assert_int_eq(dtm_client_flush(c, -1), DTM_EINVAL);
    ck_assert_int_eq(dtm_client_close(NULL, 10), DTM_EINVAL);
    ck_assert_int_eq(dtm_client_close(c, -5), DTM_EINVAL);
    ck_assert_int_eq(dtm_client_stats(NULL, &st), DTM_EINVAL);
    ck_assert_int_eq(dtm_client_stats(c, NULL), DTM_EINVAL);
    ck_assert_int_eq(dtm_client_last_error(c, NULL, 4, &n), DTM_EINVAL);
    ck_assert_int_eq(dtm_client_last_error(c, buf, sizeof buf, NULL), DTM_EINVAL);
    ck_assert_int_eq(dtm_client_last_error(NULL, buf, sizeof buf, &n), DTM_EINVAL);
    ck_assert_int_eq(dtm_client_get_url(c, buf, sizeof buf, &n), DTM_ETOOSMALL);
    ck_assert_uint_gt(n, sizeof buf);
    ck_assert_int_eq(dtm_client_set_url(c, NULL), DTM_EINVAL);
    ck_assert_int_eq(dtm_client_set_token(NULL, "x"), DTM_EINVAL);
    ck_assert_uint_eq(stats_of(c).lines_submitted, 0);
    dtm_client_free(c);
    dtm_client_free(NULL);
    dtm_client_options_init(NULL);
}
END_TEST

START_TEST(set_url_and_token_checked)
{
    dtm_client_options o;
    dtm_client *c;
    char err[256];
    size_t n;
    manual_opts(&o);
    c = new_client(&o);
    ck_assert_int_eq(dtm_client_set_url(c, "https://abc.live.dynatrace.com/"), DTM_ECONFIG);
    ck_assert_int_eq(dtm_client_last_error(c, err, sizeof err, &n), DTM_OK);
    ck_assert(strstr(err, "did you forget /api/v2/metrics/ingest?"));
    ck_assert_int_eq(stats_of(c).last_status, DTM_ECONFIG);
    ck_assert_int_eq(dtm_client_set_url(c, "http://plain.example.com/api/v2/metrics/ingest"),
                     DTM_ECONFIG);
    ck_assert_int_eq(dtm_client_set_token(c, "bad token"), DTM_ECONFIG);
    ck_assert_int_eq(dtm_client_set_token(c, ""), DTM_ECONFIG); /* remote needs one */
    /* Still usable with the old endpoint. */
    add_n(c, 0, 1);
    ck_assert_int_eq(dtm_client_flush(c, 1000), DTM_OK);
    ck_assert_str_eq(fs.reqs[0].url, REMOTE);
    ck_assert_str_eq(fs.reqs[0].token, TOKEN);
    ck_assert_int_eq(dtm_client_set_url(c, "https://other.live.dynatrace.com/api/v2/metrics/ingest"),
                     DTM_OK);
    add_n(c, 1, 1);
    ck_assert_int_eq(dtm_client_flush(c, 1000), DTM_OK);
    ck_assert_str_eq(fs.reqs[1].url, "https://other.live.dynatrace.com/api/v2/metrics/ingest");
    ck_assert_str_eq(fs.reqs[1].token, TOKEN);
    dtm_client_free(c);
}
END_TEST

/* ================= batches ================= */
START_TEST(batch_limits)
{
    dtm_client_options o;
    dtm_client *c;
    size_t r, total = 0;
    manual_opts(&o);
    o.batch_max_lines = 3;
    c = new_client(&o);
    add_n(c, 0, 10);
    ck_assert_int_eq(dtm_client_flush(c, 1000), DTM_OK);
    ck_assert_uint_eq(fs.n_reqs, 4);
    for (r = 0; r < 4; r++) {
        ck_assert_uint_eq(ft_lines(fs.reqs[r].body, fs.reqs[r].len), r < 3 ? 3 : 1);
        ck_assert(fs.reqs[r].body[fs.reqs[r].len - 1] != '\n');
    }
    ck_assert_str_eq(fs.reqs[0].body, "m.line,i=0 gauge,0\nm.line,i=1 gauge,1\nm.line,i=2 gauge,2");
    dtm_client_free(c);

    /* By bytes. */
    teardown();
    setup();
    manual_opts(&o);
    o.batch_max_bytes = 100;
    c = new_client(&o);
    add_n(c, 0, 50);
    ck_assert_int_eq(dtm_client_flush(c, 1000), DTM_OK);
    for (r = 0; r < fs.n_reqs; r++) {
        ck_assert_uint_le(fs.reqs[r].len, 100);
        total += ft_lines(fs.reqs[r].body, fs.reqs[r].len);
    }
    ck_assert_uint_eq(total, 50);
    ck_assert_uint_eq(stats_of(c).lines_accepted, 50);
    dtm_client_free(c);
}
END_TEST

START_TEST(refused_lines)
{
    dtm_client_options o;
    dtm_client *c;
    char *big;
    dtm_client_statistics st;
    manual_opts(&o);
    c = new_client(&o);
    big = tu_repeat("a", 50001);
    ck_assert_int_eq(dtm_client_add_line(c, big, 50001), DTM_ELINE);
    ck_assert_int_eq(dtm_client_add_line(c, big, 50000), DTM_OK); /* at the limit */
    ck_assert_int_eq(dtm_client_add_line(c, "a gauge,1\nb gauge,2", 19), DTM_EINVAL);
    ck_assert_int_eq(dtm_client_add_line(c, "a gauge,1\r", 10), DTM_EINVAL);
    ck_assert_int_eq(dtm_client_add_line(c, "", 0), DTM_EINVAL);
    st = stats_of(c);
    ck_assert_uint_eq(st.lines_submitted, 5);
    ck_assert_uint_eq(st.dropped_refused, 4);
    ck_assert_uint_eq(st.lines_queued, 1);
    assert_invariant(c);
    ck_assert(log_has("refused"));
    free(big);
    dtm_client_free(c);
    /* Longer than batch_max_bytes. */
    manual_opts(&o);
    o.batch_max_bytes = 64;
    c = new_client(&o);
    big = tu_repeat("b", 65);
    ck_assert_int_eq(dtm_client_add_line(c, big, 65), DTM_ELINE);
    ck_assert_int_eq(dtm_client_add_line(c, big, 64), DTM_OK);
    free(big);
    dtm_client_free(c);
}
END_TEST

START_TEST(serialized_adds)
{
    dtm_client_options o;
    dtm_client *c;
    dtm_serializer *s;
    dtm_dimension d[2] = {{"host", "h1"}, {"k", "v w"}};
    char want[4][512];
    size_t n, r;
    char all[2048] = "";
    manual_opts(&o);
    o.serializer.prefix = "pfx";
    c = new_client(&o);
    ck_assert_int_eq(dtm_serializer_new(&s, &o.serializer), DTM_OK);
    ck_assert_int_eq(dtm_serialize_counter(s, "c1", d, 2, 2.5, 0, want[0], 512, &n), DTM_OK);
    ck_assert_int_eq(dtm_serialize_gauge(s, "g1", d, 1, -1.25, 1700000000000, want[1], 512, &n),
                     DTM_OK);
    ck_assert_int_eq(dtm_serialize_summary(s, "s1", NULL, 0, 1, 3, 6, 3, 0, want[2], 512, &n),
                     DTM_OK);
    ck_assert_int_eq(dtm_serialize_counter_int(s, "c2", NULL, 0, 7, 0, want[3], 512, &n), DTM_OK);
    ck_assert_int_eq(dtm_client_add_counter(c, "c1", d, 2, 2.5, 0), DTM_OK);
    ck_assert_int_eq(dtm_client_add_gauge(c, "g1", d, 1, -1.25, 1700000000000), DTM_OK);
    ck_assert_int_eq(dtm_client_add_summary(c, "s1", NULL, 0, 1, 3, 6, 3, 0), DTM_OK);
    ck_assert_int_eq(dtm_client_add_counter_int(c, "c2", NULL, 0, 7, 0), DTM_OK);
    ck_assert_int_eq(dtm_client_add_gauge(c, "g1", NULL, 0, 0.0 / 0.0, 0), DTM_EVALUE);
    ck_assert_int_eq(dtm_client_flush(c, 1000), DTM_OK);
    for (r = 0; r < 4; r++) {
        strcat(all, want[r]);
        if (r < 3)
            strcat(all, "\n");
    }
    ck_assert_uint_eq(fs.n_reqs, 1);
    ck_assert_str_eq(fs.reqs[0].body, all);
    ck_assert_uint_eq(stats_of(c).dropped_refused, 1);
    assert_invariant(c);
    dtm_serializer_free(s);
    dtm_client_free(c);
}
END_TEST

void client_config_cases(Suite *s)
{
    TCase *tc;

    tc = tu_tcase("config", 10);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, options_defaults);
    tcase_add_loop_test(tc, config_urls, 0, (int)(sizeof url_cases / sizeof url_cases[0]));
    tcase_add_test(tc, config_default_endpoint);
    tcase_add_test(tc, config_environment);
    tcase_add_test(tc, config_endpoint_file);
    tcase_add_test(tc, config_bad_options);
    tcase_add_test(tc, bad_arguments);
    tcase_add_test(tc, set_url_and_token_checked);
    suite_add_tcase(s, tc);

    tc = tu_tcase("batches", 10);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, batch_limits);
    tcase_add_test(tc, refused_lines);
    tcase_add_test(tc, serialized_adds);
    suite_add_tcase(s, tc);
}

int main(void)
{
    Suite *s = suite_create("client");
    client_config_cases(s);
    client_answer_cases(s);
    client_life_cases(s);
    return tu_run_suite(s);
}
