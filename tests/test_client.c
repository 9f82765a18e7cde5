/*
 * The client with a fake transport: configuration, every answer class,
 * splitting, retries and backoff, the stop on auth failures, overflow
 * policies, the accounting invariant under random faults, modes, close
 * deadlines, fork, token hygiene and allocation failures.
 */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fake_transport.h"
#include "testutil.h"

#define TOKEN_SECRET "S3CR3TS3CR3TS3CR3TS3CR3TS3CR3TS3CR3TS3CR3TS3CR3TS3CR3TS3CR3TABCD"
#define TOKEN "dt0c01.ABCDEFGHIJKLMNOPQRSTUVWX." TOKEN_SECRET
#define REMOTE "https://abc12345.live.dynatrace.com/api/v2/metrics/ingest"

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

static void log_reset(void)
{
    pthread_mutex_lock(&log_mu);
    free(log_text);
    log_text = NULL;
    log_len = 0;
    pthread_mutex_unlock(&log_mu);
}

/* ---- rejected-line callback ---- */
typedef struct rejected_rec {
    char line[256];
    char reason[128];
} rejected_rec;
static rejected_rec rejected[64];
static size_t n_rejected;

static void on_rejected(const char *line, size_t len, const char *reason, void *ud)
{
    (void)ud;
    ck_assert_uint_eq(strlen(line), len);
    if (n_rejected < 64) {
        snprintf(rejected[n_rejected].line, sizeof rejected[0].line, "%s", line);
        snprintf(rejected[n_rejected].reason, sizeof rejected[0].reason, "%s", reason);
        n_rejected++;
    }
}

/* ---- helpers ---- */
static ft_state fs;

static void manual_opts(dtm_client_options *o)
{
    dtm_client_options_init(o);
    o->mode = DTM_CLIENT_MANUAL;
    o->url = REMOTE;
    o->token = TOKEN;
    o->ignore_environment = 1;
    o->log_fn = capture_log;
    o->log_level = DTM_LOG_DEBUG;
    o->rejected_fn = on_rejected;
}

static dtm_client *new_client(const dtm_client_options *o)
{
    dtm_client *c = NULL;
    ck_assert_int_eq(dtm__client_new_hooked(&c, o, &fs.hooks), DTM_OK);
    return c;
}

static void setup(void)
{
    ft_init(&fs, 1);
    log_reset();
    n_rejected = 0;
}

static void teardown(void)
{
    ft_free(&fs);
    log_reset();
}

static void add_n(dtm_client *c, int first, int n)
{
    int i;
    char line[64];
    for (i = first; i < first + n; i++) {
        int len = snprintf(line, sizeof line, "m.line,i=%d gauge,%d", i, i);
        ck_assert_int_eq(dtm_client_add_line(c, line, (size_t)len), DTM_OK);
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
    ck_assert_uint_eq(st.lines_dropped, st.dropped_overflow + st.dropped_refused +
                                            st.dropped_retries + st.dropped_too_large +
                                            st.dropped_http + st.dropped_close);
    ck_assert_uint_eq(st.lines_accepted + st.lines_rejected + st.lines_dropped + st.lines_queued,
                      st.lines_submitted);
}

/* How often the line "m.line,i=<i> gauge,<i>" appears in requests answered with status. */
static int times_sent(int i, long status)
{
    char line[64];
    size_t r;
    int n = 0, len = snprintf(line, sizeof line, "m.line,i=%d gauge,%d", i, i);
    for (r = 0; r < fs.n_reqs; r++) {
        const char *b = fs.reqs[r].body, *e = b + fs.reqs[r].len;
        if (status && fs.reqs[r].status != status)
            continue;
        while (b < e) {
            const char *nl = memchr(b, '\n', (size_t)(e - b));
            size_t l = nl ? (size_t)(nl - b) : (size_t)(e - b);
            if (l == (size_t)len && memcmp(b, line, l) == 0)
                n++;
            b += l + 1;
        }
    }
    return n;
}

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

static char *write_temp(const char *text)
{
    static char path[64];
    int fd;
    strcpy(path, "/tmp/dtm_endpointXXXXXX");
    fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

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

int main(void)
{
    Suite *s = suite_create("client");
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

    return tu_run_suite(s);
}
