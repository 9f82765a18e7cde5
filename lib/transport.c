/*
 * The libcurl transport: one reused easy handle (so the connection is kept
 * alive between posts), fixed headers built once, an optional gzip stream
 * kept across posts, and a response buffer that only grows.  This is the
 * only file of the library that includes <curl/curl.h>.
 *
 * Secrets: the token is copied once (to scrub it from curl's error text and
 * verbose trace), and zeroed, with the Authorization header, on free.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#define ZLIB_CONST
#include <zlib.h>

#include "transport.h"

#define INITIAL_BODY_CAP 4096

typedef struct curl_transport {
    dtm__transport base;
    CURL *curl;
    struct curl_slist *headers;
    char *token;            /* NULL when none; zeroed on free */
    size_t token_len;
    dtm__log log;
    const int *cancel;
    int gzip;
    z_stream z;             /* valid when gzip */
    unsigned char *gz;      /* compressed body, reused */
    size_t gz_cap;
    char *resp;             /* response body, NUL-terminated, reused */
    size_t resp_len, resp_cap; /* cap excludes the NUL */
    int64_t retry_after_ms; /* of the response being received */
    char errbuf[CURL_ERROR_SIZE];
} curl_transport;

/* ---- global init ---- */

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static dtm_status global_status = DTM_ETRANSPORT;

static void global_init_once(void)
{
    global_status = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? DTM_OK : DTM_ETRANSPORT;
}

dtm_status dtm__curl_global_init(void)
{
    if (pthread_once(&global_once, global_init_once) != 0)
        return DTM_ETRANSPORT;
    return global_status;
}

/* ---- small ASCII and secret helpers ---- */

static int lower_ascii(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

static int ascii_eq_ci(const char *a, size_t n, const char *lit)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (lit[i] == '\0' || lower_ascii((unsigned char)a[i]) != lower_ascii((unsigned char)lit[i]))
            return 0;
    return lit[n] == '\0';
}

/* Offset of the first case-insensitive occurrence of lit in s[0..n), or n. */
static size_t find_ci(const char *s, size_t n, const char *lit)
{
    size_t m = strlen(lit), i;
    for (i = 0; m <= n && i <= n - m; i++)
        if (ascii_eq_ci(s + i, m, lit))
            return i;
    return n;
}

static void secure_zero(void *p, size_t n)
{
    volatile unsigned char *v = p;
    while (n--)
        *v++ = 0;
}

/* Copy src[0..n) into dst (cap > 0 bytes, NUL included), replacing every
   occurrence of the token by "***".  The whole source is scanned before
   anything is cut, so a token straddling the cut cannot leak.  Returns the
   length written. */
static size_t scrub_copy(const curl_transport *t, char *dst, size_t cap, const char *src, size_t n)
{
    size_t i = 0, o = 0;
    while (i < n) {
        if (t->token_len && n - i >= t->token_len && memcmp(src + i, t->token, t->token_len) == 0) {
            const char *mask = "***";
            while (*mask && o + 1 < cap)
                dst[o++] = *mask++;
            i += t->token_len;
            continue;
        }
        if (o + 1 < cap)
            dst[o++] = src[i];
        i++;
    }
    dst[o] = '\0';
    return o;
}

/* ---- callbacks ---- */

static size_t on_body(char *data, size_t size, size_t nmemb, void *userp)
{
    curl_transport *t = userp;
    size_t n = size * nmemb, room;
    if (t->resp_len >= DTM__MAX_RESPONSE_BODY)
        return n; /* over the cap: discarded, not an error */
    room = DTM__MAX_RESPONSE_BODY - t->resp_len;
    if (n < room)
        room = n;
    if (t->resp_len + room > t->resp_cap) {
        size_t cap = t->resp_cap * 2;
        char *p;
        while (cap < t->resp_len + room)
            cap *= 2;
        if (cap > DTM__MAX_RESPONSE_BODY)
            cap = DTM__MAX_RESPONSE_BODY;
        p = dtm__realloc(t->resp, cap + 1);
        if (!p)
            return n; /* out of memory: keep what we have, the post goes on */
        t->resp = p;
        t->resp_cap = cap;
    }
    memcpy(t->resp + t->resp_len, data, room);
    t->resp_len += room;
    t->resp[t->resp_len] = '\0';
    return n;
}

/* Retry-After: delta-seconds or an HTTP date; -1 when unparsable. */
static int64_t parse_retry_after(const char *v, size_t n)
{
    char buf[64];
    size_t i;
    while (n && (*v == ' ' || *v == '\t'))
        v++, n--;
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t' || v[n - 1] == '\r' || v[n - 1] == '\n'))
        n--;
    if (n == 0)
        return -1;
    if (v[0] >= '0' && v[0] <= '9') {
        int64_t s = 0;
        for (i = 0; i < n; i++) {
            if (v[i] < '0' || v[i] > '9')
                return -1;
            if (s <= DTM__MAX_RETRY_AFTER_MS / 1000)
                s = s * 10 + (v[i] - '0');
        }
        s *= 1000;
        return s > DTM__MAX_RETRY_AFTER_MS ? DTM__MAX_RETRY_AFTER_MS : s;
    }
    if (n >= sizeof buf)
        return -1;
    memcpy(buf, v, n);
    buf[n] = '\0';
    {
        time_t when = curl_getdate(buf, NULL), now = time(NULL);
        if (when == (time_t)-1)
            return -1;
        if (when <= now)
            return 0;
        if ((int64_t)(when - now) > DTM__MAX_RETRY_AFTER_MS / 1000)
            return DTM__MAX_RETRY_AFTER_MS;
        return (int64_t)(when - now) * 1000;
    }
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *userp)
{
    curl_transport *t = userp;
    size_t n = size * nmemb;
    static const char name[] = "retry-after:";
    if (n >= 5 && memcmp(data, "HTTP/", 5) == 0)
        t->retry_after_ms = -1; /* a new response (after 1xx or a proxy's CONNECT) */
    else if (n >= sizeof name - 1 && ascii_eq_ci(data, sizeof name - 1, name))
        t->retry_after_ms = parse_retry_after(data + sizeof name - 1, n - (sizeof name - 1));
    return n;
}

static int on_progress(void *userp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    const curl_transport *t = userp;
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    return __atomic_load_n(t->cancel, __ATOMIC_RELAXED) ? 1 : 0;
}

/* One line of the verbose trace.  Anything that mentions authorization
   (the request header, HTTP/2's pseudo-header trace, a proxy's) is cut
   after the word; everything else has the token masked. */
static void trace_line(const curl_transport *t, const char *prefix, const char *s, size_t n)
{
    char line[512];
    size_t at;
    while (n && (s[n - 1] == '\r' || s[n - 1] == '\n'))
        n--;
    if (n == 0)
        return;
    at = find_ci(s, n, "authorization");
    if (at < n) {
        at += sizeof "authorization" - 1;
        if (at > 200)
            at = 200;
        scrub_copy(t, line, sizeof line - 8, s, at);
        strcat(line, ": ***");
    } else {
        scrub_copy(t, line, sizeof line, s, n);
    }
    dtm__logf(&t->log, DTM_LOG_DEBUG, "curl: %s%s", prefix, line);
}

static int on_debug(CURL *h, curl_infotype type, char *data, size_t size, void *userp)
{
    const curl_transport *t = userp;
    const char *prefix;
    size_t start = 0, i;
    (void)h;
    switch (type) {
    case CURLINFO_TEXT: prefix = "* "; break;
    case CURLINFO_HEADER_IN: prefix = "< "; break;
    case CURLINFO_HEADER_OUT: prefix = "> "; break;
    default: return 0; /* body and TLS bytes are never forwarded */
    }
    for (i = 0; i <= size; i++) {
        if (i == size || data[i] == '\n') {
            trace_line(t, prefix, data + start, i - start);
            start = i + 1;
        }
    }
    return 0;
}

/* ---- creation ---- */

static int host_is_loopback(const char *host)
{
    size_t n = strlen(host);
    struct in6_addr a6;
    struct in_addr a4;
    char buf[64];
    if (n && host[n - 1] == '.')
        n--; /* fully qualified: "localhost." */
    if (n == 0 || n >= sizeof buf)
        return 0;
    memcpy(buf, host, n);
    buf[n] = '\0';
    if (ascii_eq_ci(buf, n, "localhost"))
        return 1;
    if (n > 10 && ascii_eq_ci(buf + n - 10, 10, ".localhost"))
        return 1;
    if (n > 2 && buf[0] == '[' && buf[n - 1] == ']') {
        buf[n - 1] = '\0';
        if (inet_pton(AF_INET6, buf + 1, &a6) != 1)
            return 0;
        if (IN6_IS_ADDR_LOOPBACK(&a6))
            return 1;
        return IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127;
    }
    /* curl's URL parser has already normalized 127.1 and friends. */
    return inet_pton(AF_INET, buf, &a4) == 1 && ((const unsigned char *)&a4.s_addr)[0] == 127;
}

/* Parse the URL with libcurl's own parser: the scheme must be http(s);
   *loopback tells whether the host is this machine. */
static dtm_status inspect_url(const char *url, int *loopback)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL;
    dtm_status st = DTM_ECONFIG;
    CURLUcode uc;
    if (!u)
        return DTM_ENOMEM;
    uc = curl_url_set(u, CURLUPART_URL, url, 0);
    if (uc == CURLUE_OUT_OF_MEMORY)
        st = DTM_ENOMEM;
    if (uc == CURLUE_OK && curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK
        && curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK
        && (ascii_eq_ci(scheme, strlen(scheme), "http") || ascii_eq_ci(scheme, strlen(scheme), "https"))) {
        *loopback = host_is_loopback(host);
        st = DTM_OK;
    }
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return st;
}

/* Header values go on the wire verbatim: no control characters (a CR or LF
   would let a value inject headers).  A token is visible ASCII only. */
static int header_safe(const char *s, int is_token)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7F || (is_token && (c == ' ' || c >= 0x80)))
            return 0;
    }
    return 1;
}

static voidpf z_alloc(voidpf opaque, uInt items, uInt size)
{
    (void)opaque;
    if (size && items > SIZE_MAX / size)
        return Z_NULL;
    return dtm__malloc((size_t)items * size);
}

static void z_free(voidpf opaque, voidpf p)
{
    (void)opaque;
    dtm__free(p);
}

static dtm_status curl_code(CURLcode c)
{
    if (c == CURLE_OK)
        return DTM_OK;
    return c == CURLE_OUT_OF_MEMORY ? DTM_ENOMEM : DTM_ECONFIG;
}

#define SET(opt, val) do { if ((st = curl_code(curl_easy_setopt(t->curl, opt, val))) != DTM_OK) return st; } while (0)

static dtm_status add_header(curl_transport *t, const char *h)
{
    struct curl_slist *l = curl_slist_append(t->headers, h);
    if (!l)
        return DTM_ENOMEM;
    t->headers = l;
    return DTM_OK;
}

static dtm_status build_headers(curl_transport *t)
{
    static const char auth[] = "Authorization: Api-Token ";
    dtm_status st;
    if ((st = add_header(t, "Content-Type: text/plain; charset=utf-8")) != DTM_OK
        || (st = add_header(t, "Accept: application/json; charset=utf-8")) != DTM_OK
        || (st = add_header(t, "Expect:")) != DTM_OK
        || (t->gzip && (st = add_header(t, "Content-Encoding: gzip")) != DTM_OK))
        return st;
    if (t->token) {
        char *h = dtm__malloc(sizeof auth + t->token_len);
        if (!h)
            return DTM_ENOMEM;
        memcpy(h, auth, sizeof auth - 1);
        memcpy(h + sizeof auth - 1, t->token, t->token_len + 1);
        st = add_header(t, h);
        secure_zero(h, sizeof auth + t->token_len);
        dtm__free(h);
    }
    return st;
}

static dtm_status configure(curl_transport *t, const dtm__http_config *cfg, int loopback)
{
    dtm_status st;
    long cto = cfg->connect_timeout_ms > 0 ? cfg->connect_timeout_ms : DTM__DEFAULT_CONNECT_TIMEOUT_MS;
    long to = cfg->timeout_ms > 0 ? cfg->timeout_ms : DTM__DEFAULT_TIMEOUT_MS;

    if ((st = build_headers(t)) != DTM_OK)
        return st;
    SET(CURLOPT_URL, cfg->url);
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_CONNECTTIMEOUT_MS, cto);
    SET(CURLOPT_TIMEOUT_MS, to);
    SET(CURLOPT_ERRORBUFFER, t->errbuf);
    SET(CURLOPT_HTTPHEADER, t->headers);
    SET(CURLOPT_USERAGENT, cfg->user_agent && *cfg->user_agent ? cfg->user_agent
                                                                : "dtmetrics/" DTM_VERSION_STRING);
    SET(CURLOPT_POST, 1L);
    SET(CURLOPT_FOLLOWLOCATION, 0L); /* a redirect would resend the token elsewhere */
#if LIBCURL_VERSION_NUM >= 0x075500
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
#else
    SET(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
#if LIBCURL_VERSION_NUM >= 0x075000
    /* A fresh connection now and then lets load balancers rebalance. */
    SET(CURLOPT_MAXLIFETIME_CONN, 600L);
#endif
    SET(CURLOPT_SSL_VERIFYPEER, cfg->insecure ? 0L : 1L);
    SET(CURLOPT_SSL_VERIFYHOST, cfg->insecure ? 0L : 2L);
    if (cfg->ca_file && *cfg->ca_file)
        SET(CURLOPT_CAINFO, cfg->ca_file);
    if (cfg->ca_path && *cfg->ca_path)
        SET(CURLOPT_CAPATH, cfg->ca_path);
    if (loopback)
        SET(CURLOPT_PROXY, ""); /* never proxy this machine, whatever the environment says */
    else if (cfg->proxy)
        SET(CURLOPT_PROXY, cfg->proxy);
    SET(CURLOPT_WRITEFUNCTION, on_body);
    SET(CURLOPT_WRITEDATA, t);
    SET(CURLOPT_HEADERFUNCTION, on_header);
    SET(CURLOPT_HEADERDATA, t);
    if (cfg->cancel) {
        SET(CURLOPT_XFERINFOFUNCTION, on_progress);
        SET(CURLOPT_XFERINFODATA, t);
        SET(CURLOPT_NOPROGRESS, 0L);
    }
    if (cfg->verbose && t->log.fn) {
        SET(CURLOPT_DEBUGFUNCTION, on_debug);
        SET(CURLOPT_DEBUGDATA, t);
        SET(CURLOPT_VERBOSE, 1L);
    }
    return DTM_OK;
}

#undef SET

static void ct_free(dtm__transport *base)
{
    curl_transport *t = (curl_transport *)base;
    struct curl_slist *l;
    if (!t)
        return;
    if (t->curl)
        curl_easy_cleanup(t->curl);
    for (l = t->headers; l; l = l->next)
        secure_zero(l->data, strlen(l->data));
    curl_slist_free_all(t->headers);
    if (t->token) {
        secure_zero(t->token, t->token_len);
        dtm__free(t->token);
    }
    if (t->gzip)
        deflateEnd(&t->z);
    dtm__free(t->gz);
    dtm__free(t->resp);
    dtm__free(t);
}

static dtm_status ct_post(dtm__transport *base, const char *body, size_t len, dtm__http_result *res);

static const dtm__transport_ops curl_ops = { ct_post, ct_free };

dtm_status dtm__curl_transport_new(dtm__transport **out, const dtm__http_config *cfg)
{
    curl_transport *t;
    dtm_status st;
    int loopback = 0;

    if (!out)
        return DTM_EINVAL;
    *out = NULL;
    if (!cfg || !cfg->url)
        return DTM_EINVAL;
    if ((st = dtm__curl_global_init()) != DTM_OK)
        return st;
    if ((cfg->token && !header_safe(cfg->token, 1))
        || (cfg->user_agent && !header_safe(cfg->user_agent, 0)))
        return DTM_ECONFIG;
    if ((st = inspect_url(cfg->url, &loopback)) != DTM_OK)
        return st;

    t = dtm__calloc(1, sizeof *t);
    if (!t)
        return DTM_ENOMEM;
    t->base.ops = &curl_ops;
    t->retry_after_ms = -1;
    if (cfg->log)
        t->log = *cfg->log;
    t->cancel = cfg->cancel;
    if (cfg->token && *cfg->token) {
        t->token_len = strlen(cfg->token);
        if (!(t->token = dtm__strndup(cfg->token, t->token_len)))
            goto nomem;
    }
    if (!(t->resp = dtm__malloc(INITIAL_BODY_CAP + 1)))
        goto nomem;
    t->resp_cap = INITIAL_BODY_CAP;
    t->resp[0] = '\0';
    if (cfg->gzip) {
        t->z.zalloc = z_alloc;
        t->z.zfree = z_free;
        /* windowBits 15 + 16: a gzip header and trailer instead of zlib's. */
        if (deflateInit2(&t->z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
            goto nomem;
        t->gzip = 1;
    }
    if (!(t->curl = curl_easy_init()))
        goto nomem;
    if ((st = configure(t, cfg, loopback)) != DTM_OK) {
        ct_free(&t->base);
        return st;
    }
    if (cfg->insecure)
        dtm__logf(&t->log, DTM_LOG_WARN,
                  "TLS certificate and host name verification are disabled (insecure): "
                  "a man in the middle can read the token and the metrics");
    *out = &t->base;
    return DTM_OK;

nomem:
    ct_free(&t->base);
    return DTM_ENOMEM;
}

/* ---- posting ---- */

static dtm_status gzip_body(curl_transport *t, const char *body, size_t len, const char **out,
                            size_t *out_len)
{
    uLong bound;
    if (len > 0x7fffffffUL)
        return DTM_EINVAL;
    if (deflateReset(&t->z) != Z_OK)
        return DTM_ETRANSPORT;
    bound = deflateBound(&t->z, (uLong)len);
    if (bound > t->gz_cap) {
        unsigned char *p = dtm__realloc(t->gz, bound);
        if (!p)
            return DTM_ENOMEM;
        t->gz = p;
        t->gz_cap = bound;
    }
    t->z.next_in = (const Bytef *)body;
    t->z.avail_in = (uInt)len;
    t->z.next_out = t->gz;
    t->z.avail_out = (uInt)bound;
    if (deflate(&t->z, Z_FINISH) != Z_STREAM_END)
        return DTM_ETRANSPORT;
    *out = (const char *)t->gz;
    *out_len = (size_t)t->z.total_out;
    return DTM_OK;
}

static void set_message(const curl_transport *t, dtm__http_result *res, const char *text)
{
    scrub_copy(t, res->message, sizeof res->message, text, strlen(text));
}

static dtm_status ct_post(dtm__transport *base, const char *body, size_t len, dtm__http_result *res)
{
    curl_transport *t = (curl_transport *)base;
    const char *payload = body ? body : "";
    size_t plen = len;
    CURLcode cc;
    dtm_status st;

    if (!res)
        return DTM_EINVAL;
    res->status = 0;
    res->error = DTM_OK;
    res->message[0] = '\0';
    res->retry_after_ms = -1;
    res->body = "";
    res->body_len = 0;
    if (!t || (!body && len)) {
        res->error = DTM_EINVAL;
        return res->error;
    }
    t->resp_len = 0;
    t->resp[0] = '\0';
    t->retry_after_ms = -1;
    t->errbuf[0] = '\0';

    if (t->gzip && (st = gzip_body(t, payload, len, &payload, &plen)) != DTM_OK) {
        res->error = st;
        set_message(t, res, st == DTM_ENOMEM ? "out of memory compressing the body"
                                             : "the body could not be compressed");
        return res->error;
    }
    curl_easy_setopt(t->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)plen);
    curl_easy_setopt(t->curl, CURLOPT_POSTFIELDS, payload);
    cc = curl_easy_perform(t->curl);
    /* Do not keep a pointer to the caller's memory past this call. */
    curl_easy_setopt(t->curl, CURLOPT_POSTFIELDS, "");
    res->body = t->resp; /* after the transfer: the buffer may have moved */

    if (cc == CURLE_OK) {
        long code = 0;
        curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &code);
        res->status = code;
        res->body_len = t->resp_len;
        res->retry_after_ms = t->retry_after_ms;
        return DTM_OK;
    }
    t->resp_len = 0; /* no (complete) response: no body */
    t->resp[0] = '\0';
    if (cc == CURLE_OPERATION_TIMEDOUT) {
        res->error = DTM_ETIMEOUT;
    } else if (cc == CURLE_ABORTED_BY_CALLBACK) {
        res->error = DTM_ETIMEOUT;
        set_message(t, res, "cancelled");
        return res->error;
    } else {
        res->error = DTM_ETRANSPORT;
    }
    set_message(t, res, t->errbuf[0] ? t->errbuf : curl_easy_strerror(cc));
    return res->error;
}
