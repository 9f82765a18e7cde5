/* The libcurl transport, against a small libmicrohttpd responder on
   127.0.0.1 that records each request and answers with a scripted reply
   (tests/responder.c). */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>

#include "responder.h"
#include "transport.h"
#include "testutil.h"

#define TOKEN "dt0c01.ABCDEFGHIJKLMNOPQRSTUVWX." \
              "S3CR3TS3CR3TS3CR3TS3CR3TS3CR3TS3CR3TS3CR3TS3CR3TS3CR3TS3CR3TS3CR3TS3C"
#define SECRET "S3CR3TS3CR3TS3CR3TS3CR3TS3CR3TS3CR3TS3CR3TS3CR3TS3CR3TS3CR3TS3CR3TS3C"

/* ---- helpers ---- */

static char logbuf[1 << 18];
static size_t loglen;
static int log_warns, log_count;

static void capture_log(dtm_log_level level, const char *msg, void *userdata)
{
    int n;
    (void)userdata;
    log_count++;
    if (level == DTM_LOG_WARN)
        log_warns++;
    n = snprintf(logbuf + loglen, sizeof logbuf - loglen, "%d|%s\n", (int)level, msg);
    if (n > 0 && (size_t)n < sizeof logbuf - loglen)
        loglen += (size_t)n;
}

static const dtm__log test_log = { capture_log, NULL };

static dtm__http_config config(const char *url)
{
    dtm__http_config c;
    memset(&c, 0, sizeof c);
    c.url = url;
    c.connect_timeout_ms = 5000;
    c.timeout_ms = 10000;
    return c;
}

static dtm__transport *make(const dtm__http_config *c)
{
    dtm__transport *t = NULL;
    ck_assert_int_eq(dtm__curl_transport_new(&t, c), DTM_OK);
    ck_assert_ptr_nonnull(t);
    return t;
}

/* One post, synchronized with the responders on both sides. */
static dtm_status post(dtm__transport *t, const char *body, size_t len, dtm__http_result *res)
{
    dtm_status st;
    memset(res, 0x5A, sizeof *res);
    srv_sync();
    st = t->ops->post(t, body, len, res);
    srv_sync();
    return st;
}

static unsigned short dead_port(void)
{
    struct sockaddr_in sa;
    socklen_t sl = sizeof sa;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    close(fd); /* nobody listens there now */
    return ntohs(sa.sin_port);
}

static void clear_proxy_env(void)
{
    static const char *const names[] = { "http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY",
                                         "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY" };
    size_t i;
    for (i = 0; i < sizeof names / sizeof names[0]; i++)
        unsetenv(names[i]);
}

static void set_proxy_env(const char *proxy)
{
    clear_proxy_env();
    setenv("http_proxy", proxy, 1);
    setenv("https_proxy", proxy, 1);
    setenv("ALL_PROXY", proxy, 1);
}

/* ---- tests ---- */

START_TEST(global_init_once)
{
    ck_assert_int_eq(dtm__curl_global_init(), DTM_OK);
    ck_assert_int_eq(dtm__curl_global_init(), DTM_OK);
}
END_TEST

START_TEST(headers_with_token)
{
    srv *s = srv_start(202, "{\"linesOk\":1,\"linesInvalid\":0,\"error\":null}");
    dtm__http_config c = config(s->url);
    dtm__transport *t;
    dtm__http_result res;
    char v[512];
    c.token = TOKEN;
    t = make(&c);
    ck_assert_int_eq(post(t, "a 1\n", 4, &res), DTM_OK);
    ck_assert_int_eq(res.status, 202);
    ck_assert_str_eq(s->method, "POST");
    ck_assert_str_eq(s->path, "/api/v2/metrics/ingest");
    ck_assert_str_eq(srv_header(s, "Authorization", v, sizeof v), "Api-Token " TOKEN);
    ck_assert_str_eq(srv_header(s, "Content-Type", v, sizeof v), "text/plain; charset=utf-8");
    ck_assert_str_eq(srv_header(s, "Accept", v, sizeof v), "application/json; charset=utf-8");
    ck_assert_str_eq(srv_header(s, "User-Agent", v, sizeof v), "dtmetrics/" DTM_VERSION_STRING);
    ck_assert_str_eq(srv_header(s, "Content-Length", v, sizeof v), "4");
    ck_assert_ptr_null(srv_header(s, "Content-Encoding", v, sizeof v));
    ck_assert_ptr_null(srv_header(s, "Expect", v, sizeof v));
    t->ops->free(t);
    srv_stop(s);
}
END_TEST

START_TEST(headers_without_token)
{
    static const char *const tokens[] = { NULL, "" };
    srv *s = srv_start(202, "{}");
    size_t i;
    char v[512];
    for (i = 0; i < 2; i++) {
        dtm__http_config c = config(s->url);
        dtm__transport *t;
        dtm__http_result res;
        c.token = tokens[i];
        c.user_agent = i ? "myapp/2.0 (dtmetrics)" : "";
        t = make(&c);
        ck_assert_int_eq(post(t, "a 1", 3, &res), DTM_OK);
        ck_assert_int_eq(res.status, 202);
        ck_assert_ptr_null(srv_header(s, "Authorization", v, sizeof v));
        ck_assert_str_eq(srv_header(s, "User-Agent", v, sizeof v),
                         i ? "myapp/2.0 (dtmetrics)" : "dtmetrics/" DTM_VERSION_STRING);
        t->ops->free(t);
    }
    srv_stop(s);
}
END_TEST

START_TEST(body_bytes_exact)
{
    srv *s = srv_start(202, "{}");
    dtm__http_config c = config(s->url);
    dtm__transport *t = make(&c);
    dtm__http_result res;
    size_t n = 1536 * 1024, i; /* over 1 MB: libcurl would like Expect: 100-continue */
    unsigned char *body = malloc(n);
    char v[64];
    ck_assert_ptr_nonnull(body);
    for (i = 0; i < n; i++)
        body[i] = (unsigned char)(i * 7 + (i >> 8));
    ck_assert_int_eq(post(t, (const char *)body, n, &res), DTM_OK);
    ck_assert_int_eq(res.status, 202);
    ck_assert_uint_eq(s->body_len, n);
    ck_assert_int_eq(memcmp(s->body, body, n), 0);
    ck_assert_ptr_null(srv_header(s, "Expect", v, sizeof v));

    /* empty bodies, with and without a pointer */
    ck_assert_int_eq(post(t, "", 0, &res), DTM_OK);
    ck_assert_uint_eq(s->body_len, 0);
    ck_assert_str_eq(srv_header(s, "Content-Length", v, sizeof v), "0");
    ck_assert_int_eq(post(t, NULL, 0, &res), DTM_OK);
    ck_assert_int_eq(res.status, 202);
    ck_assert_int_eq(post(t, NULL, 5, &res), DTM_EINVAL);
    ck_assert_int_eq(res.error, DTM_EINVAL);
    ck_assert_int_eq(t->ops->post(t, "x", 1, NULL), DTM_EINVAL);
    ck_assert_int_eq(s->requests, 3);
    t->ops->free(t);
    free(body);
    srv_stop(s);
}
END_TEST

static unsigned char *gunzip(const unsigned char *in, size_t len, size_t *out_len)
{
    z_stream z;
    size_t cap = 1 << 20;
    unsigned char *out = malloc(cap);
    int r;
    ck_assert_ptr_nonnull(out);
    memset(&z, 0, sizeof z);
    ck_assert_int_eq(inflateInit2(&z, 15 + 16), Z_OK); /* gzip only */
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)len;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    r = inflate(&z, Z_FINISH);
    ck_assert_int_eq(r, Z_STREAM_END);
    *out_len = z.total_out;
    inflateEnd(&z);
    return out;
}

START_TEST(gzip_body_decodes)
{
    srv *s = srv_start(202, "{}");
    dtm__http_config c = config(s->url);
    dtm__transport *t;
    dtm__http_result res;
    char *lines = tu_repeat("my.metric,host=web-01,dc=eu gauge,min=1,max=9,sum=20,count=4\n", 4000);
    size_t n = strlen(lines), k, round;
    unsigned char *plain;
    char v[64];
    c.gzip = 1;
    t = make(&c);
    for (round = 0; round < 3; round++) { /* the stream is reset between posts */
        size_t len = round == 1 ? 10 : n;
        ck_assert_int_eq(post(t, lines, len, &res), DTM_OK);
        ck_assert_int_eq(res.status, 202);
        ck_assert_str_eq(srv_header(s, "Content-Encoding", v, sizeof v), "gzip");
        ck_assert_str_eq(srv_header(s, "Content-Type", v, sizeof v), "text/plain; charset=utf-8");
        if (len == n)
            ck_assert_uint_lt(s->body_len, n / 10);
        plain = gunzip(s->body, s->body_len, &k);
        ck_assert_uint_eq(k, len);
        ck_assert_int_eq(memcmp(plain, lines, len), 0);
        free(plain);
    }
    ck_assert_int_eq(post(t, "", 0, &res), DTM_OK);
    plain = gunzip(s->body, s->body_len, &k);
    ck_assert_uint_eq(k, 0);
    free(plain);
    t->ops->free(t);
    free(lines);
    srv_stop(s);
}
END_TEST

START_TEST(keep_alive)
{
    srv *s = srv_start(202, "{\"linesOk\":1}");
    dtm__http_config c = config(s->url);
    dtm__transport *t = make(&c);
    dtm__http_result res;
    int i;
    for (i = 0; i < 3; i++) {
        ck_assert_int_eq(post(t, "a 1", 3, &res), DTM_OK);
        ck_assert_int_eq(res.status, 202);
    }
    ck_assert_int_eq(s->requests, 3);
    ck_assert_int_eq(s->connections, 1);
    t->ops->free(t);
    srv_stop(s);
}
END_TEST

START_TEST(status_and_body)
{
    static const char reply[] = "{\"linesOk\":1,\"linesInvalid\":1,\"error\":{\"code\":400,"
                                "\"message\":\"1 invalid lines\",\"invalidLines\":[{\"line\":2,"
                                "\"error\":\"invalid metric key\"}]}}";
    srv *s = srv_start(400, reply);
    dtm__http_config c = config(s->url);
    dtm__transport *t = make(&c);
    dtm__http_result res;
    char *big;
    size_t i;
    ck_assert_int_eq(post(t, "a 1\n1a 2", 8, &res), DTM_OK);
    ck_assert_int_eq(res.error, DTM_OK);
    ck_assert_int_eq(res.status, 400);
    ck_assert_str_eq(res.message, "");
    ck_assert_int_eq(res.retry_after_ms, -1);
    ck_assert_uint_eq(res.body_len, strlen(reply));
    ck_assert_str_eq(res.body, reply);

    /* a body over the cap is cut there, without error; the next is whole */
    big = tu_repeat("0123456789abcdef", 20000); /* 320,000 bytes */
    s->status = 503;
    s->reply = big;
    s->reply_len = strlen(big);
    ck_assert_int_eq(post(t, "a 1", 3, &res), DTM_OK);
    ck_assert_int_eq(res.status, 503);
    ck_assert_uint_eq(res.body_len, DTM__MAX_RESPONSE_BODY);
    for (i = 0; i < DTM__MAX_RESPONSE_BODY && res.body[i] == big[i]; i++)
        ;
    ck_assert_msg(i == DTM__MAX_RESPONSE_BODY, "differs at %zu", i);
    ck_assert_int_eq(res.body[DTM__MAX_RESPONSE_BODY], '\0');
    s->status = 413;
    s->reply = "";
    s->reply_len = 0;
    ck_assert_int_eq(post(t, "a 1", 3, &res), DTM_OK);
    ck_assert_int_eq(res.status, 413);
    ck_assert_uint_eq(res.body_len, 0);
    ck_assert_str_eq(res.body, "");
    s->status = 200;
    s->reply = "<html>proxy</html>";
    s->reply_len = strlen(s->reply);
    ck_assert_int_eq(post(t, "a 1", 3, &res), DTM_OK);
    ck_assert_int_eq(res.status, 200);
    ck_assert_str_eq(res.body, "<html>proxy</html>");
    t->ops->free(t);
    free(big);
    srv_stop(s);
}
END_TEST

static const char *http_date(time_t when, char *buf, size_t cap)
{
    struct tm tm;
    gmtime_r(&when, &tm);
    strftime(buf, cap, "%a, %d %b %Y %H:%M:%S GMT", &tm); /* C locale: English names */
    return buf;
}

START_TEST(retry_after)
{
    static const struct {
        const char *value; /* NULL: header absent */
        int64_t ms;
    } table[] = {
        { NULL, -1 },
        { "17", 17000 },
        { "0", 0 },
        { "  5  ", 5000 },
        { "3600", 3600000 },
        { "3601", 3600000 },
        { "99999999999999999999999999", 3600000 },
        { "-5", -1 },
        { "12a", -1 },
        { "soon", -1 },
        { "", -1 },
        { "Wed, 21 Oct 2015 07:28:00 GMT", 0 }, /* in the past */
    };
    srv *s = srv_start(429, "{\"error\":{\"code\":429,\"message\":\"Too Many Requests\"}}");
    dtm__http_config c = config(s->url);
    dtm__transport *t = make(&c);
    dtm__http_result res;
    char date[64];
    size_t i;
    for (i = 0; i < sizeof table / sizeof table[0]; i++) {
        s->hname[0] = table[i].value ? "Retry-After" : NULL;
        s->hvalue[0] = table[i].value;
        ck_assert_int_eq(post(t, "a 1", 3, &res), DTM_OK);
        ck_assert_int_eq(res.status, 429);
        ck_assert_msg(res.retry_after_ms == table[i].ms, "Retry-After '%s': %lld, want %lld",
                      table[i].value ? table[i].value : "(none)", (long long)res.retry_after_ms,
                      (long long)table[i].ms);
    }
    /* an HTTP date two minutes ahead: somewhere in (0, 120 s] */
    s->hname[0] = "Retry-After";
    s->hvalue[0] = http_date(time(NULL) + 120, date, sizeof date);
    ck_assert_int_eq(post(t, "a 1", 3, &res), DTM_OK);
    ck_assert_int_gt(res.retry_after_ms, 0);
    ck_assert_int_le(res.retry_after_ms, 120000);
    ck_assert_int_eq(res.retry_after_ms % 1000, 0);
    /* two days ahead: clamped */
    s->hvalue[0] = http_date(time(NULL) + 2 * 86400, date, sizeof date);
    ck_assert_int_eq(post(t, "a 1", 3, &res), DTM_OK);
    ck_assert_int_eq(res.retry_after_ms, DTM__MAX_RETRY_AFTER_MS);
    /* not carried over to the next response */
    s->hname[0] = NULL;
    s->status = 202;
    ck_assert_int_eq(post(t, "a 1", 3, &res), DTM_OK);
    ck_assert_int_eq(res.retry_after_ms, -1);
    t->ops->free(t);
    srv_stop(s);
}
END_TEST

START_TEST(slow_responder_times_out)
{
    srv *s = srv_start(202, "{}");
    dtm__http_config c = config(s->url);
    dtm__transport *t;
    dtm__http_result res;
    c.timeout_ms = 200;
    c.token = TOKEN;
    s->delay_ms = 20000;
    t = make(&c);
    ck_assert_int_eq(post(t, "a 1", 3, &res), DTM_ETIMEOUT);
    ck_assert_int_eq(res.error, DTM_ETIMEOUT);
    ck_assert_int_eq(res.status, 0);
    ck_assert_int_eq(res.retry_after_ms, -1);
    ck_assert_uint_eq(res.body_len, 0);
    ck_assert_str_ne(res.message, "");
    ck_assert_ptr_null(strstr(res.message, SECRET));
    t->ops->free(t);
    srv_stop(s);
}
END_TEST

START_TEST(cancel_flag_aborts)
{
    srv *s = srv_start(202, "{}");
    dtm__http_config c = config(s->url);
    dtm__transport *t;
    dtm__http_result res;
    int cancel = 0;
    c.timeout_ms = 60000;
    c.cancel = &cancel;
    t = make(&c);
    ck_assert_int_eq(post(t, "a 1", 3, &res), DTM_OK); /* flag clear: posts normally */
    ck_assert_int_eq(res.status, 202);
    s->delay_ms = 60000;
    __atomic_store_n(&cancel, 1, __ATOMIC_RELAXED);
    ck_assert_int_eq(post(t, "a 1", 3, &res), DTM_ETIMEOUT);
    ck_assert_int_eq(res.status, 0);
    ck_assert_str_eq(res.message, "cancelled");
    t->ops->free(t);
    srv_stop(s);
}
END_TEST

START_TEST(connection_refused)
{
    char url[128];
    dtm__http_config c;
    dtm__transport *t;
    dtm__http_result res;
    clear_proxy_env();
    snprintf(url, sizeof url, "http://127.0.0.1:%u/metrics/ingest", (unsigned)dead_port());
    c = config(url);
    c.token = TOKEN;
    t = make(&c);
    ck_assert_int_eq(post(t, "a 1", 3, &res), DTM_ETRANSPORT);
    ck_assert_int_eq(res.error, DTM_ETRANSPORT);
    ck_assert_int_eq(res.status, 0);
    ck_assert_str_ne(res.message, "");
    ck_assert_ptr_null(strstr(res.message, SECRET));
    ck_assert_uint_eq(res.body_len, 0);
    ck_assert_ptr_nonnull(res.body);
    t->ops->free(t);
}
END_TEST

START_TEST(error_text_scrubbed)
{
    /* The token as a host name: curl's error text names the host. */
    dtm__http_config c = config("http://" TOKEN ".localhost:1/ingest");
    dtm__transport *t;
    dtm__http_result res;
    clear_proxy_env();
    c.token = TOKEN;
    c.connect_timeout_ms = 2000;
    t = make(&c);
    ck_assert_int_ne(post(t, "a 1", 3, &res), DTM_OK);
    ck_assert_str_ne(res.message, "");
    ck_assert_ptr_null(strstr(res.message, SECRET));
    ck_assert_ptr_null(strstr(res.message, "ABCDEFGHIJKLMNOPQRSTUVWX"));
    ck_assert_ptr_nonnull(strstr(res.message, "***")); /* the host was named, and masked */
    t->ops->free(t);
}
END_TEST

START_TEST(redirect_not_followed)
{
    srv *s = srv_start(302, "moved");
    char loc[160];
    dtm__http_config c = config(s->url);
    dtm__transport *t;
    dtm__http_result res;
    snprintf(loc, sizeof loc, "http://127.0.0.1:%u/elsewhere", (unsigned)s->port);
    s->hname[0] = "Location";
    s->hvalue[0] = loc;
    c.token = TOKEN;
    t = make(&c);
    ck_assert_int_eq(post(t, "a 1", 3, &res), DTM_OK);
    ck_assert_int_eq(res.status, 302);
    ck_assert_str_eq(res.body, "moved");
    ck_assert_int_eq(s->requests, 1);
    ck_assert_str_eq(s->path, "/api/v2/metrics/ingest");
    s->status = 307;
    ck_assert_int_eq(post(t, "a 1", 3, &res), DTM_OK);
    ck_assert_int_eq(res.status, 307);
    ck_assert_int_eq(s->requests, 2);
    t->ops->free(t);
    srv_stop(s);
}
END_TEST

START_TEST(verbose_trace_scrubbed)
{
    srv *s = srv_start(202, "{\"linesOk\":1,\"note\":\"REPLYMARKER\"}");
    char url[256];
    dtm__http_config c;
    dtm__transport *t;
    dtm__http_result res;
    /* The token also in the query string: masked wherever it shows up. */
    snprintf(url, sizeof url, "%s?x=" TOKEN, s->url);
    c = config(url);
    c.token = TOKEN;
    c.verbose = 1;
    c.log = &test_log;
    loglen = 0;
    logbuf[0] = '\0';
    t = make(&c);
    ck_assert_int_eq(post(t, "body.marker,k=BODYMARKER 1", 26, &res), DTM_OK);
    ck_assert_int_eq(res.status, 202);
    ck_assert_str_eq(srv_header(s, "Authorization", url, sizeof url), "Api-Token " TOKEN);
    t->ops->free(t);
    srv_stop(s);
    ck_assert_ptr_nonnull(strstr(logbuf, "3|curl: > POST /api/v2/metrics/ingest?x=*** HTTP/1.1"));
    ck_assert_ptr_nonnull(strstr(logbuf, "3|curl: > Authorization: ***\n"));
    ck_assert_ptr_nonnull(strstr(logbuf, "3|curl: < HTTP/1.1 202"));
    ck_assert_ptr_nonnull(strstr(logbuf, "3|curl: * "));
    ck_assert_ptr_null(strstr(logbuf, SECRET));
    ck_assert_ptr_null(strstr(logbuf, "ABCDEFGHIJKLMNOPQRSTUVWX"));
    ck_assert_ptr_null(strstr(logbuf, "BODYMARKER"));
    ck_assert_ptr_null(strstr(logbuf, "REPLYMARKER"));
    if (getenv("DTM_TEST_SHOW_TRACE"))
        fputs(logbuf, stderr);
}
END_TEST

START_TEST(quiet_without_verbose)
{
    srv *s = srv_start(202, "{}");
    dtm__http_config c = config(s->url);
    dtm__transport *t;
    dtm__http_result res;
    c.token = TOKEN;
    c.log = &test_log;
    log_count = 0;
    t = make(&c);
    ck_assert_int_eq(post(t, "a 1", 3, &res), DTM_OK);
    t->ops->free(t);
    srv_stop(s);
    ck_assert_int_eq(log_count, 0);
}
END_TEST

START_TEST(insecure_is_logged)
{
    dtm__http_config c = config("https://127.0.0.1:1/ingest");
    dtm__transport *t;
    c.token = TOKEN;
    c.insecure = 1;
    c.log = &test_log;
    log_warns = 0;
    loglen = 0;
    logbuf[0] = '\0';
    t = make(&c);
    ck_assert_int_eq(log_warns, 1);
    ck_assert_ptr_nonnull(strstr(logbuf, "insecure"));
    ck_assert_ptr_null(strstr(logbuf, SECRET));
    t->ops->free(t);
    c.insecure = 0;
    log_warns = 0;
    t = make(&c);
    ck_assert_int_eq(log_warns, 0);
    t->ops->free(t);
}
END_TEST

START_TEST(loopback_bypasses_proxy)
{
    /* The "proxy" is a live recorder: anything sent through it shows there. */
    srv *target = srv_start(202, "{\"linesOk\":1}");
    srv *proxy = srv_start(202, "{\"via\":\"proxy\"}");
    char url[160], purl[64];
    static const char *const hosts[] = { "127.0.0.1", "localhost", "LocalHost", "127.1",
                                         "0177.0.0.1", "127.0.0.1" };
    size_t i;
    dtm__http_result res;
    snprintf(purl, sizeof purl, "http://127.0.0.1:%u", (unsigned)proxy->port);
    set_proxy_env(purl);
    for (i = 0; i < sizeof hosts / sizeof hosts[0]; i++) {
        dtm__http_config c;
        dtm__transport *t;
        snprintf(url, sizeof url, "http://%s:%u/metrics/ingest", hosts[i], (unsigned)target->port);
        c = config(url);
        if (i == 1 || i == 5)
            c.proxy = purl; /* an explicit proxy does not catch loopback either */
        t = make(&c);
        ck_assert_msg(post(t, "a 1", 3, &res) == DTM_OK, "host %s: %s", hosts[i], res.message);
        ck_assert_int_eq(res.status, 202);
        ck_assert_str_eq(res.body, "{\"linesOk\":1}");
        t->ops->free(t);
        ck_assert_msg(target->requests == (int)i + 1, "host %s", hosts[i]);
        ck_assert_int_eq(proxy->requests, 0);
    }
    /* IPv6 loopback, when this machine has it */
    {
        srv *t6 = srv_start_v6(202, "{\"v6\":1}");
        if (t6) {
            dtm__http_config c = config(t6->url);
            dtm__transport *t = make(&c);
            ck_assert_msg(post(t, "a 1", 3, &res) == DTM_OK, "[::1]: %s", res.message);
            ck_assert_str_eq(res.body, "{\"v6\":1}");
            ck_assert_int_eq(t6->requests, 1);
            ck_assert_int_eq(proxy->requests, 0);
            t->ops->free(t);
            srv_stop(t6);
        }
    }
    /* a dead proxy in the environment does not matter either */
    snprintf(purl, sizeof purl, "http://127.0.0.1:%u", (unsigned)dead_port());
    set_proxy_env(purl);
    {
        dtm__http_config c = config(target->url);
        dtm__transport *t = make(&c);
        ck_assert_int_eq(post(t, "a 1", 3, &res), DTM_OK);
        ck_assert_int_eq(res.status, 202);
        t->ops->free(t);
    }
    clear_proxy_env();
    srv_stop(target);
    srv_stop(proxy);
}
END_TEST

START_TEST(remote_host_uses_proxy)
{
    /* Control for the test above: a non-loopback host goes through the
       proxy, from the environment or from the configuration. */
    srv *proxy = srv_start(202, "{\"via\":\"proxy\"}");
    char purl[64];
    int round;
    dtm__http_result res;
    snprintf(purl, sizeof purl, "http://127.0.0.1:%u", (unsigned)proxy->port);
    for (round = 0; round < 2; round++) {
        dtm__http_config c = config("http://ingest.example.invalid/api/v2/metrics/ingest");
        dtm__transport *t;
        clear_proxy_env();
        if (round == 0)
            set_proxy_env(purl);
        else
            c.proxy = purl;
        t = make(&c);
        ck_assert_int_eq(post(t, "a 1", 3, &res), DTM_OK);
        ck_assert_int_eq(res.status, 202);
        ck_assert_str_eq(res.body, "{\"via\":\"proxy\"}");
        ck_assert_int_eq(proxy->requests, round + 1);
        ck_assert_ptr_nonnull(strstr(proxy->path, "ingest.example.invalid"));
        t->ops->free(t);
    }
    clear_proxy_env();
    srv_stop(proxy);
}
END_TEST

static const struct {
    const char *url, *token, *ua;
    dtm_status want;
} bad_configs[] = {
    { "ftp://example.com/ingest", NULL, NULL, DTM_ECONFIG },
    { "file:///etc/passwd", NULL, NULL, DTM_ECONFIG },
    { "not a url", NULL, NULL, DTM_ECONFIG },
    { "", NULL, NULL, DTM_ECONFIG },
    { "localhost:14499/metrics/ingest", NULL, NULL, DTM_ECONFIG },
    { "http://", NULL, NULL, DTM_ECONFIG },
    { "http://localhost:14499/metrics/ingest", "abc\r\nX-Evil: 1", NULL, DTM_ECONFIG },
    { "http://localhost:14499/metrics/ingest", "abc def", NULL, DTM_ECONFIG },
    { "http://localhost:14499/metrics/ingest", "abc\x7f", NULL, DTM_ECONFIG },
    { "http://localhost:14499/metrics/ingest", "t\xc3\xa9", NULL, DTM_ECONFIG },
    { "http://localhost:14499/metrics/ingest", NULL, "ua\r\nX-Evil: 1", DTM_ECONFIG },
    { "HTTP://LOCALHOST:14499/metrics/ingest", "t", "ua 1", DTM_OK },
    { "https://abc12345.live.dynatrace.com/api/v2/metrics/ingest", TOKEN, NULL, DTM_OK },
};

START_TEST(bad_configuration)
{
    dtm__http_config c = config(bad_configs[_i].url);
    dtm__transport *t = (dtm__transport *)&c;
    c.token = bad_configs[_i].token;
    c.user_agent = bad_configs[_i].ua;
    ck_assert_int_eq(dtm__curl_transport_new(&t, &c), bad_configs[_i].want);
    if (bad_configs[_i].want == DTM_OK) {
        ck_assert_ptr_nonnull(t);
        t->ops->free(t);
    } else {
        ck_assert_ptr_null(t);
    }
}
END_TEST

START_TEST(bad_arguments)
{
    dtm__http_config c = config(NULL);
    dtm__transport *t = (dtm__transport *)&c;
    ck_assert_int_eq(dtm__curl_transport_new(NULL, &c), DTM_EINVAL);
    ck_assert_int_eq(dtm__curl_transport_new(&t, NULL), DTM_EINVAL);
    ck_assert_ptr_null(t);
    ck_assert_int_eq(dtm__curl_transport_new(&t, &c), DTM_EINVAL);
    ck_assert_ptr_null(t);
}
END_TEST

START_TEST(default_timeouts)
{
    /* 0 means the defaults, not "forever": the post still works. */
    srv *s = srv_start(202, "{}");
    dtm__http_config c = config(s->url);
    dtm__transport *t;
    dtm__http_result res;
    c.connect_timeout_ms = 0;
    c.timeout_ms = -1;
    t = make(&c);
    ck_assert_int_eq(post(t, "a 1", 3, &res), DTM_OK);
    ck_assert_int_eq(res.status, 202);
    t->ops->free(t);
    srv_stop(s);
}
END_TEST

START_TEST(allocation_failures)
{
    dtm__http_config c = config("http://127.0.0.1:14499/metrics/ingest");
    dtm__transport *t = NULL;
    dtm_status st = DTM_ENOMEM;
    long n;
    c.token = TOKEN;
    c.gzip = 1;
    tu_alloc_install();
    for (n = 0; n < 100; n++) {
        tu_alloc_fail_after(n);
        st = dtm__curl_transport_new(&t, &c);
        if (st == DTM_OK)
            break;
        ck_assert_int_eq(st, DTM_ENOMEM);
        ck_assert_ptr_null(t);
        ck_assert_int_eq(tu_alloc_live(), 0);
    }
    ck_assert_int_eq(st, DTM_OK);
    ck_assert_int_ge(n, 4); /* struct, token, header, body buffer, zlib state */
    t->ops->free(t);
    ck_assert_int_eq(tu_alloc_live(), 0);
    tu_alloc_uninstall();
}
END_TEST

START_TEST(post_allocation_failures)
{
    srv *s = srv_start(200, "");
    dtm__http_config c = config(s->url);
    dtm__transport *t;
    dtm__http_result res;
    char *big = tu_repeat("x", 20000);
    tu_alloc_install();
    c.gzip = 1;
    t = make(&c);
    /* the gzip buffer cannot grow: nothing is sent */
    tu_alloc_fail_after(0);
    ck_assert_int_eq(post(t, "a 1", 3, &res), DTM_ENOMEM);
    ck_assert_int_eq(res.status, 0);
    ck_assert_str_ne(res.message, "");
    ck_assert_int_eq(s->requests, 0);
    /* the response buffer cannot grow: what fits is kept, no error */
    tu_alloc_fail_after(-1);
    ck_assert_int_eq(post(t, "a 1", 3, &res), DTM_OK); /* grows the gzip buffer */
    s->reply = big;
    s->reply_len = strlen(big);
    tu_alloc_fail_after(0);
    ck_assert_int_eq(post(t, "a 1", 3, &res), DTM_OK);
    ck_assert_int_eq(res.status, 200);
    ck_assert_uint_gt(res.body_len, 0);
    ck_assert_uint_lt(res.body_len, strlen(big));
    ck_assert_int_eq(memcmp(res.body, big, res.body_len), 0);
    /* and once memory is back, the whole body */
    tu_alloc_fail_after(-1);
    ck_assert_int_eq(post(t, "a 1", 3, &res), DTM_OK);
    ck_assert_uint_eq(res.body_len, strlen(big));
    /* steady state: posting allocates nothing of ours */
    tu_alloc_fail_after(0);
    ck_assert_int_eq(post(t, "a 1", 3, &res), DTM_OK);
    ck_assert_uint_eq(res.body_len, strlen(big));
    tu_alloc_fail_after(-1);
    t->ops->free(t);
    ck_assert_int_eq(tu_alloc_live(), 0);
    tu_alloc_uninstall();
    free(big);
    srv_stop(s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("transport");
    TCase *tc = tu_tcase("http", 20);
    tcase_add_test(tc, global_init_once);
    tcase_add_test(tc, headers_with_token);
    tcase_add_test(tc, headers_without_token);
    tcase_add_test(tc, body_bytes_exact);
    tcase_add_test(tc, gzip_body_decodes);
    tcase_add_test(tc, keep_alive);
    tcase_add_test(tc, status_and_body);
    tcase_add_test(tc, retry_after);
    tcase_add_test(tc, redirect_not_followed);
    tcase_add_test(tc, default_timeouts);
    suite_add_tcase(s, tc);

    tc = tu_tcase("failures", 20);
    tcase_add_test(tc, slow_responder_times_out);
    tcase_add_test(tc, cancel_flag_aborts);
    tcase_add_test(tc, connection_refused);
    tcase_add_test(tc, error_text_scrubbed);
    tcase_add_loop_test(tc, bad_configuration, 0, (int)(sizeof bad_configs / sizeof bad_configs[0]));
    tcase_add_test(tc, bad_arguments);
    suite_add_tcase(s, tc);

    tc = tu_tcase("secrets", 20);
    tcase_add_test(tc, verbose_trace_scrubbed);
    tcase_add_test(tc, quiet_without_verbose);
    tcase_add_test(tc, insecure_is_logged);
    suite_add_tcase(s, tc);

    tc = tu_tcase("proxy", 20);
    tcase_add_test(tc, loopback_bypasses_proxy);
    tcase_add_test(tc, remote_host_uses_proxy);
    suite_add_tcase(s, tc);

    tc = tu_tcase("memory", 20);
    tcase_add_test(tc, allocation_failures);
    tcase_add_test(tc, post_allocation_failures);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
