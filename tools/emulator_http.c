/*
 * dtmetrics-emulator: the HTTP side (libmicrohttpd, one thread per
 * connection, so that a delayed answer never holds up another connection).
 *
 * The access handler sees a request three ways: once when the headers are
 * in (begin), once per piece of body (take_body), and once at the end
 * (finish).  Decisions that need only the headers (route, method, fault,
 * token, Content-Encoding, Content-Length) are made in begin; the answer is
 * queued in finish, so that a client always gets its answer after it sent
 * its body.  The one exception is a declared Content-Length above the limit
 * on a request that waits for "100 Continue": it gets its 413 before it
 * sends the body.
 *
 * Bodies are kept only when they are going to be validated, never beyond
 * --max-body (applied to the received and to the decoded size); everything
 * else is read and discarded, up to DRAIN_CAP bytes, then the connection is
 * closed.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>
#include <zlib.h>

#include "emulator.h"

#define DRAIN_CAP ((uint64_t)64 << 20) /* bytes read and discarded before closing */
#define CONNECTION_LIMIT 256u
#define CONNECTION_TIMEOUT_S 60u
#define FIRST_CHUNK 16384u

struct emu_server {
    struct MHD_Daemon *daemon;
    emu_state *st;
    const emu_config *cfg;
};

enum route { RT_NOT_FOUND, RT_API, RT_ONEAGENT, RT_FAULT, RT_LINES, RT_STATS, RT_RESET };
enum auth { AUTH_OK, AUTH_MISSING, AUTH_SCHEME, AUTH_WRONG };

static const struct {
    const char *path;
    enum route route;
    const char *methods; /* the Allow header */
} routes[] = {
    {"/api/v2/metrics/ingest", RT_API, "POST"},
    {"/metrics/ingest", RT_ONEAGENT, "POST"},
    {"/_emulator/fault", RT_FAULT, "POST, DELETE"},
    {"/_emulator/lines", RT_LINES, "GET"},
    {"/_emulator/stats", RT_STATS, "GET"},
    {"/_emulator/reset", RT_RESET, "POST"},
};

typedef struct req {
    enum route route;
    const char *allow;   /* methods of the route */
    int control;         /* under /_emulator/ */
    int method_ok;
    int has_fault;
    emu_fault fault;
    enum auth auth;
    int bad_encoding;
    int gzip;
    int want_body;       /* keep (and decode) the body */
    int too_large;
    int oom;
    int z_ready, z_member, z_error;
    z_stream z;
    char *buf;
    size_t len, cap;
    uint64_t wire;       /* body bytes received */
    uint64_t decoded;    /* body bytes after decoding */
} req;

/* ---- answers ---- */

static enum MHD_Result answer(emu_server *s, struct MHD_Connection *c, req *r, unsigned status,
                              const char *ctype, emu_buf *body, const char *retry_after)
{
    struct MHD_Response *resp;
    enum MHD_Result ret;
    static char empty[] = "";
    if (body && body->failed) {
        emu_buf_free(body);
        return MHD_NO;
    }
    if (body && body->len) {
        resp = MHD_create_response_from_buffer_with_free_callback(body->len, body->p, dtm__free);
        if (resp)
            body->p = NULL;
    } else {
        resp = MHD_create_response_from_buffer_with_free_callback(0, empty, NULL);
    }
    if (body)
        emu_buf_free(body);
    if (!resp)
        return MHD_NO;
    if (ctype)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    if (retry_after && *retry_after)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, retry_after);
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED && r->allow)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, r->allow);
    ret = MHD_queue_response(c, status, resp);
    MHD_destroy_response(resp);
    if (!r->control)
        emu_state_count_answer(s->st, status, r->wire, r->decoded);
    return ret;
}

static const char *json_type = "application/json; charset=utf-8";

static enum MHD_Result answer_error(emu_server *s, struct MHD_Connection *c, req *r,
                                    unsigned status, const char *message)
{
    emu_buf b = {0};
    emu_error_envelope(&b, status, message);
    return answer(s, c, r, status, json_type, &b, NULL);
}

static void log_request(const emu_server *s, const char *method, const char *url,
                        const char *outcome, unsigned status, const emu_verdict *v, const req *r)
{
    if (!s->cfg->verbose)
        return;
    if (v)
        fprintf(stderr, "%s: %s %s -> %u: %llu lines ok, %llu invalid; %llu bytes (%llu decoded)\n",
                EMU_PROGRAM, method, url, status, (unsigned long long)v->lines_ok,
                (unsigned long long)v->lines_invalid, (unsigned long long)r->wire,
                (unsigned long long)r->decoded);
    else if (status)
        fprintf(stderr, "%s: %s %s -> %s%u; %llu bytes\n", EMU_PROGRAM, method, url, outcome,
                status, (unsigned long long)r->wire);
    else
        fprintf(stderr, "%s: %s %s -> %s; %llu bytes\n", EMU_PROGRAM, method, url, outcome,
                (unsigned long long)r->wire);
}

/* ---- headers ---- */

static enum auth check_auth(struct MHD_Connection *c, const emu_config *cfg)
{
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    const char *tok;
    size_t n, want, i;
    unsigned char diff = 0;
    if (!h)
        return AUTH_MISSING;
    if (strlen(h) < 10 || !emu_ascii_ieq(h, "Api-Token", 9) || (h[9] != ' ' && h[9] != '\t'))
        return AUTH_SCHEME;
    for (tok = h + 9; *tok == ' ' || *tok == '\t'; tok++)
        ;
    n = strlen(tok);
    while (n && (tok[n - 1] == ' ' || tok[n - 1] == '\t'))
        n--;
    if (n == 0)
        return AUTH_MISSING;
    if (!cfg->token)
        return AUTH_OK;
    /* constant-time over the configured token */
    want = strlen(cfg->token);
    for (i = 0; i < want; i++)
        diff |= (unsigned char)(cfg->token[i] ^ (i < n ? tok[i] : 0));
    return (diff == 0 && n == want) ? AUTH_OK : AUTH_WRONG;
}

static const char *header(struct MHD_Connection *c, const char *name)
{
    return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

/* Trimmed, case-insensitive equality of a header value. */
static int value_is(const char *v, const char *want)
{
    size_t n;
    while (*v == ' ' || *v == '\t')
        v++;
    n = strlen(v);
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    return n == strlen(want) && emu_ascii_ieq(v, want, n);
}

static voidpf z_alloc(voidpf opaque, uInt items, uInt size)
{
    (void)opaque;
    return dtm__calloc(items, size);
}

static void z_free(voidpf opaque, voidpf p)
{
    (void)opaque;
    dtm__free(p);
}

static enum MHD_Result begin(emu_server *s, struct MHD_Connection *c, req *r, const char *url,
                             const char *method)
{
    const emu_config *cfg = s->cfg;
    const char *enc, *cl, *expect;
    uint64_t declared = 0;
    size_t i;

    r->route = RT_NOT_FOUND;
    r->control = strncmp(url, "/_emulator/", 11) == 0;
    for (i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        if (strcmp(url, routes[i].path) == 0) {
            r->route = routes[i].route;
            r->allow = routes[i].methods;
            break;
        }
    }
    if (r->route == RT_FAULT)
        r->method_ok = strcmp(method, "POST") == 0 || strcmp(method, "DELETE") == 0;
    else if (r->route != RT_NOT_FOUND)
        r->method_ok = strcmp(method, r->route == RT_LINES || r->route == RT_STATS ? "GET" : "POST") == 0;
    if (r->control)
        return MHD_YES;
    emu_state_count_request(s->st);
    if (r->route == RT_NOT_FOUND || !r->method_ok)
        return MHD_YES;

    /* an ingest request */
    r->has_fault = emu_state_take_fault(s->st, &r->fault);
    if (r->has_fault && (r->fault.status || r->fault.drop))
        return MHD_YES;
    if (r->route == RT_API)
        r->auth = check_auth(c, cfg);
    enc = header(c, MHD_HTTP_HEADER_CONTENT_ENCODING);
    if (enc && (value_is(enc, "gzip") || value_is(enc, "x-gzip")))
        r->gzip = 1;
    else if (enc && !value_is(enc, "identity") && !value_is(enc, ""))
        r->bad_encoding = 1;
    if (r->auth != AUTH_OK || r->bad_encoding)
        return MHD_YES;

    cl = header(c, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl && emu_parse_u64(cl, UINT64_MAX, &declared) == 0 && declared > cfg->max_body) {
        r->too_large = 1;
        expect = header(c, MHD_HTTP_HEADER_EXPECT);
        if ((expect && value_is(expect, "100-continue")) || declared - cfg->max_body > DRAIN_CAP) {
            emu_state_sleep(s->st, cfg->delay_ms + (r->has_fault ? r->fault.delay_ms : 0));
            log_request(s, method, url, "", 413, NULL, r);
            return answer_error(s, c, r, 413, "request body exceeds the size limit");
        }
        return MHD_YES;
    }
    r->want_body = 1;
    if (r->gzip) {
        r->z.zalloc = z_alloc;
        r->z.zfree = z_free;
        if (inflateInit2(&r->z, 16 + MAX_WBITS) != Z_OK) {
            r->oom = 1;
            return MHD_YES;
        }
        r->z_ready = 1;
    }
    return MHD_YES;
}

/* ---- body ---- */

static void drop_body(req *r)
{
    dtm__free(r->buf);
    r->buf = NULL;
    r->len = r->cap = 0;
}

/* Room for at least one more byte, never beyond max_body + 1 (one byte more
   than allowed is how "too large" shows). */
static int grow(req *r, uint64_t max_body, size_t need)
{
    size_t cap;
    char *p;
    if (need > max_body + 1) {
        r->too_large = 1;
        drop_body(r);
        return -1;
    }
    if (need <= r->cap)
        return 0;
    cap = r->cap ? r->cap : FIRST_CHUNK;
    while (cap < need)
        cap *= 2;
    if (cap > max_body + 1)
        cap = (size_t)(max_body + 1);
    p = dtm__realloc(r->buf, cap);
    if (!p) {
        r->oom = 1;
        drop_body(r);
        return -1;
    }
    r->buf = p;
    r->cap = cap;
    return 0;
}

static void inflate_chunk(req *r, uint64_t max_body, const char *data, size_t n)
{
    r->z.next_in = (Bytef *)(uintptr_t)data;
    r->z.avail_in = (uInt)n;
    while (r->z.avail_in > 0) {
        int zr;
        size_t room;
        r->z_member = 1;
        if (r->len == r->cap && grow(r, max_body, r->len + 1) != 0)
            return;
        room = r->cap - r->len;
        if (room > UINT32_MAX)
            room = UINT32_MAX;
        r->z.next_out = (Bytef *)r->buf + r->len;
        r->z.avail_out = (uInt)room;
        zr = inflate(&r->z, Z_NO_FLUSH);
        r->len += room - r->z.avail_out;
        r->decoded += room - r->z.avail_out;
        if (r->len > max_body) {
            r->too_large = 1;
            drop_body(r);
            return;
        }
        if (zr == Z_STREAM_END) {
            r->z_member = 0; /* another member may follow */
            if (inflateReset(&r->z) != Z_OK) {
                r->z_error = 1;
                return;
            }
        } else if (zr == Z_BUF_ERROR) {
            if (r->z.avail_out != 0)
                return; /* needs more input */
        } else if (zr != Z_OK) {
            r->z_error = 1;
            drop_body(r);
            return;
        }
    }
}

static void take_body(emu_server *s, req *r, const char *data, size_t n)
{
    uint64_t max_body = s->cfg->max_body;
    r->wire += n;
    if (!r->want_body || r->too_large || r->oom || r->z_error)
        return;
    if (r->wire > max_body) {
        r->too_large = 1;
        drop_body(r);
        return;
    }
    if (r->gzip) {
        inflate_chunk(r, max_body, data, n);
        return;
    }
    if (grow(r, max_body, r->len + n) != 0)
        return;
    memcpy(r->buf + r->len, data, n);
    r->len += n;
    r->decoded += n;
}

/* ---- control API ---- */

typedef struct fault_args {
    emu_fault f;
    int have_status, have_delay, have_extra;
    const char *error;
} fault_args;

static enum MHD_Result fault_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *value)
{
    fault_args *a = cls;
    uint64_t v = 0;
    (void)kind;
    if (a->error)
        return MHD_NO;
    if (!value)
        value = "";
    if (strcmp(key, "status") == 0) {
        if (emu_parse_u64(value, 599, &v) != 0 || v < 200 || v == 204 || v == 205 || v == 304)
            a->error = "status must be 200..599 (not 204, 205 or 304)";
        a->f.status = (unsigned)v;
        a->have_status = 1;
    } else if (strcmp(key, "count") == 0) {
        if (emu_parse_u64(value, 1000000000u, &v) != 0 || v == 0)
            a->error = "count must be 1..1000000000";
        a->f.count = v;
    } else if (strcmp(key, "delay_ms") == 0) {
        if (emu_parse_u64(value, 3600000u, &v) != 0)
            a->error = "delay_ms must be 0..3600000";
        a->f.delay_ms = v;
        a->have_delay = v > 0;
    } else if (strcmp(key, "drop") == 0) {
        if (emu_parse_u64(value, 1, &v) != 0)
            a->error = "drop must be 0 or 1";
        a->f.drop = (int)v;
    } else if (strcmp(key, "retry_after") == 0) {
        size_t i, n = strlen(value);
        if (n == 0 || n >= sizeof a->f.retry_after)
            a->error = "retry_after must be 1..63 characters";
        for (i = 0; i < n && !a->error; i++)
            if (value[i] < 0x20 || value[i] > 0x7e)
                a->error = "retry_after must be printable ASCII";
        if (!a->error)
            memcpy(a->f.retry_after, value, n + 1);
        a->have_extra = 1;
    } else if (strcmp(key, "body") == 0) {
        if (strcmp(value, "json") == 0)
            a->f.body = EMU_BODY_JSON;
        else if (strcmp(value, "empty") == 0)
            a->f.body = EMU_BODY_EMPTY;
        else if (strcmp(value, "text") == 0)
            a->f.body = EMU_BODY_TEXT;
        else if (strcmp(value, "html") == 0)
            a->f.body = EMU_BODY_HTML;
        else
            a->error = "body must be json, empty, text or html";
        a->have_extra = 1;
    } else {
        a->error = "unknown parameter (known: status, count, retry_after, delay_ms, drop, body)";
    }
    return a->error ? MHD_NO : MHD_YES;
}

static enum MHD_Result control(emu_server *s, struct MHD_Connection *c, req *r,
                               const char *method)
{
    emu_buf b = {0};
    if (r->route == RT_NOT_FOUND)
        return answer_error(s, c, r, 404, "no such control endpoint");
    if (!r->method_ok)
        return answer_error(s, c, r, 405, "method not allowed");
    switch (r->route) {
    case RT_LINES:
        emu_state_lines(s->st, &b);
        return answer(s, c, r, 200, "text/plain; charset=utf-8", &b, NULL);
    case RT_STATS:
        emu_state_stats_json(s->st, &b);
        return answer(s, c, r, 200, json_type, &b, NULL);
    case RT_RESET:
        emu_state_reset(s->st);
        emu_buf_puts(&b, "{\"ok\":true}\n");
        return answer(s, c, r, 200, json_type, &b, NULL);
    case RT_FAULT:
        if (strcmp(method, "DELETE") == 0) {
            emu_state_clear_faults(s->st);
            emu_buf_puts(&b, "{\"ok\":true}\n");
            return answer(s, c, r, 200, json_type, &b, NULL);
        } else {
            fault_args a;
            int queued;
            memset(&a, 0, sizeof a);
            a.f.count = 1;
            MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, fault_arg, &a);
            if (!a.error && a.have_status && a.f.drop)
                a.error = "status and drop=1 exclude each other";
            if (!a.error && !a.have_status && !a.f.drop && !a.have_delay)
                a.error = "a fault needs status=S, drop=1 or delay_ms=D";
            if (!a.error && a.have_extra && !a.have_status)
                a.error = "retry_after and body need status=S";
            if (a.error)
                return answer_error(s, c, r, 400, a.error);
            queued = emu_state_add_fault(s->st, &a.f);
            if (queued < 0)
                return answer_error(s, c, r, 409, "too many queued faults");
            emu_buf_puts(&b, "{\"ok\":true,\"queued\":");
            emu_buf_putu(&b, (uint64_t)queued);
            emu_buf_puts(&b, "}\n");
            return answer(s, c, r, 200, json_type, &b, NULL);
        }
    default:
        return answer_error(s, c, r, 404, "no such control endpoint");
    }
}

/* ---- ingest ---- */

static enum MHD_Result fault_answer(emu_server *s, struct MHD_Connection *c, req *r)
{
    emu_buf b = {0};
    const char *ctype = NULL;
    unsigned st = r->fault.status;
    switch (r->fault.body) {
    case EMU_BODY_EMPTY:
        break;
    case EMU_BODY_TEXT:
        emu_buf_puts(&b, "injected fault\n");
        ctype = "text/plain; charset=utf-8";
        break;
    case EMU_BODY_HTML:
        emu_buf_puts(&b, "<html><head><title>Error</title></head><body><h1>");
        emu_buf_putu(&b, st);
        emu_buf_puts(&b, "</h1><p>injected fault</p></body></html>\n");
        ctype = "text/html; charset=utf-8";
        break;
    default:
        emu_error_envelope(&b, st, "injected fault (dtmetrics-emulator)");
        ctype = json_type;
        break;
    }
    return answer(s, c, r, st, ctype, &b, r->fault.retry_after);
}

static enum MHD_Result finish(emu_server *s, struct MHD_Connection *c, req *r, const char *url,
                              const char *method)
{
    const emu_config *cfg = s->cfg;
    uint64_t delay = cfg->delay_ms;
    emu_ingest_opts o;
    emu_verdict v;
    enum MHD_Result ret;
    const char *msg = NULL;
    unsigned status = 400;

    if (r->control)
        return control(s, c, r, method);
    if (r->has_fault)
        delay += r->fault.delay_ms;
    if (r->route == RT_NOT_FOUND) {
        status = 404;
        msg = "no such endpoint; ingest is at /api/v2/metrics/ingest and /metrics/ingest";
    } else if (!r->method_ok) {
        status = 405;
        msg = "method not allowed; use POST";
    } else if (r->has_fault && r->fault.drop) {
        emu_state_sleep(s->st, delay);
        emu_state_count_drop(s->st, r->wire, r->decoded);
        log_request(s, method, url, "connection dropped", 0, NULL, r);
        return MHD_NO;
    } else if (r->has_fault && r->fault.status) {
        emu_state_sleep(s->st, delay);
        log_request(s, method, url, "fault ", r->fault.status, NULL, r);
        return fault_answer(s, c, r);
    } else if (r->auth == AUTH_MISSING) {
        status = 401;
        msg = "missing API token: send the header 'Authorization: Api-Token <token>'";
    } else if (r->auth == AUTH_SCHEME) {
        status = 401;
        msg = "unsupported authorization scheme: use 'Authorization: Api-Token <token>'";
    } else if (r->auth == AUTH_WRONG) {
        status = 401;
        msg = "invalid API token";
    } else if (r->bad_encoding) {
        status = 415;
        msg = "unsupported Content-Encoding: use gzip or none";
    } else if (r->too_large) {
        status = 413;
        msg = "request body exceeds the size limit";
    } else if (r->oom) {
        status = 500;
        msg = "the emulator ran out of memory";
    } else if (r->z_error || (r->gzip && r->z_member)) {
        msg = "invalid or truncated gzip body";
    }
    if (msg) {
        emu_state_sleep(s->st, delay);
        log_request(s, method, url, "", status, NULL, r);
        return answer_error(s, c, r, status, msg);
    }

    memset(&o, 0, sizeof o);
    o.oneagent = r->route == RT_ONEAGENT;
    o.max_lines = cfg->max_lines;
    o.check_timestamps = cfg->check_timestamps;
    o.sink = cfg->sink;
    o.now_ms = emu_now_ms();
    if (emu_ingest(r->buf ? r->buf : "", r->len, &o, &v) != DTM_OK) {
        emu_state_sleep(s->st, delay);
        return answer_error(s, c, r, 500, "the emulator ran out of memory");
    }
    if (emu_state_commit(s->st, r->buf, &v) != DTM_OK)
        fprintf(stderr, "%s: out of memory: some accepted lines are not kept\n", EMU_PROGRAM);
    emu_state_sleep(s->st, delay);
    log_request(s, method, url, "", v.status, &v, r);
    ret = answer(s, c, r, v.status, json_type, &v.json, NULL);
    emu_verdict_free(&v);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *data_size, void **con_cls)
{
    emu_server *s = cls;
    req *r = *con_cls;
    (void)version;
    if (!r) {
        r = dtm__calloc(1, sizeof *r);
        if (!r)
            return MHD_NO;
        *con_cls = r;
        return begin(s, c, r, url, method);
    }
    if (*data_size) {
        take_body(s, r, data, *data_size);
        *data_size = 0;
        if (r->wire > s->cfg->max_body + DRAIN_CAP) {
            fprintf(stderr, "%s: closing a connection that sent more than %llu bytes\n",
                    EMU_PROGRAM, (unsigned long long)(s->cfg->max_body + DRAIN_CAP));
            if (!r->control)
                emu_state_count_drop(s->st, r->wire, r->decoded);
            return MHD_NO;
        }
        return MHD_YES;
    }
    return finish(s, c, r, url, method);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    req *r = *con_cls;
    (void)cls;
    (void)c;
    (void)toe;
    if (!r)
        return;
    if (r->z_ready)
        inflateEnd(&r->z);
    dtm__free(r->buf);
    dtm__free(r);
    *con_cls = NULL;
}

/* ---- daemon ---- */

static enum MHD_Result accept_loopback(void *cls, const struct sockaddr *addr, socklen_t len)
{
    (void)cls;
    if (addr->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)addr;
        return (ntohl(in->sin_addr.s_addr) >> 24) == 127 ? MHD_YES : MHD_NO;
    }
    if (addr->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)addr;
        if (IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr))
            return MHD_YES;
        return IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) && in6->sin6_addr.s6_addr[12] == 127
                   ? MHD_YES
                   : MHD_NO;
    }
    return MHD_NO;
}

static void mhd_log(void *cls, const char *fmt, va_list ap) DTM__PRINTF(2, 0);
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    size_t n;
    (void)cls;
    vsnprintf(msg, sizeof msg, fmt, ap);
    n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    /* returning MHD_NO is how a dropped connection is made: not news */
    if (strstr(msg, "Application reported internal error"))
        return;
    fprintf(stderr, "%s: libmicrohttpd: %s\n", EMU_PROGRAM, msg);
}

dtm_status emu_server_start(emu_server **out, emu_state *st, char *url, size_t url_cap)
{
    const emu_config *cfg = st->cfg;
    struct sockaddr_in sin;
    struct sockaddr_in6 sin6;
    const struct sockaddr *sa;
    char host[INET6_ADDRSTRLEN + 2], text[INET6_ADDRSTRLEN];
    const union MHD_DaemonInfo *info;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                     MHD_USE_ITC | MHD_USE_ERROR_LOG;
    const char *a = cfg->listen;
    size_t n = strlen(a);
    emu_server *s;
    int v6 = 0;

    *out = NULL;
    if (n >= 2 && a[0] == '[' && a[n - 1] == ']') {
        a++;
        n -= 2;
    }
    if (n >= sizeof text)
        goto bad_address;
    memcpy(text, a, n);
    text[n] = '\0';
    if (strcmp(text, "localhost") == 0)
        strcpy(text, "127.0.0.1");
    memset(&sin, 0, sizeof sin);
    memset(&sin6, 0, sizeof sin6);
    if (inet_pton(AF_INET, text, &sin.sin_addr) == 1) {
        if ((ntohl(sin.sin_addr.s_addr) >> 24) != 127)
            goto bad_address;
        sin.sin_family = AF_INET;
        sin.sin_port = htons((uint16_t)cfg->port);
        sa = (const struct sockaddr *)&sin;
    } else if (inet_pton(AF_INET6, text, &sin6.sin6_addr) == 1) {
        if (!IN6_IS_ADDR_LOOPBACK(&sin6.sin6_addr))
            goto bad_address;
        sin6.sin6_family = AF_INET6;
        sin6.sin6_port = htons((uint16_t)cfg->port);
        sa = (const struct sockaddr *)&sin6;
        v6 = 1;
        flags |= MHD_USE_IPv6;
    } else {
        goto bad_address;
    }

    s = dtm__calloc(1, sizeof *s);
    if (!s)
        return DTM_ENOMEM;
    s->st = st;
    s->cfg = cfg;
    s->daemon = MHD_start_daemon(flags, (uint16_t)cfg->port, accept_loopback, NULL, on_request, s,
                                 MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
                                 MHD_OPTION_SOCK_ADDR, sa,
                                 MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                                 MHD_OPTION_CONNECTION_LIMIT, CONNECTION_LIMIT,
                                 MHD_OPTION_CONNECTION_TIMEOUT, CONNECTION_TIMEOUT_S,
                                 MHD_OPTION_END);
    if (!s->daemon) {
        fprintf(stderr, "%s: cannot listen on %s port %u\n", EMU_PROGRAM, text, cfg->port);
        dtm__free(s);
        return DTM_EIO;
    }
    info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    if (!info || info->port == 0) {
        fprintf(stderr, "%s: cannot learn the listening port\n", EMU_PROGRAM);
        emu_server_stop(s);
        return DTM_EIO;
    }
    inet_ntop(v6 ? AF_INET6 : AF_INET, v6 ? (const void *)&sin6.sin6_addr
                                          : (const void *)&sin.sin_addr, text, sizeof text);
    if (v6)
        snprintf(host, sizeof host, "[%s]", text);
    else
        snprintf(host, sizeof host, "%s", text);
    snprintf(url, url_cap, "http://%s:%u", host, (unsigned)info->port);
    *out = s;
    return DTM_OK;

bad_address:
    fprintf(stderr, "%s: --listen must be a loopback address (127.0.0.0/8 or ::1), not '%s'\n",
            EMU_PROGRAM, cfg->listen);
    return DTM_ECONFIG;
}

void emu_server_stop(emu_server *s)
{
    if (!s)
        return;
    emu_state_stop(s->st);
    if (s->daemon)
        MHD_stop_daemon(s->daemon);
    dtm__free(s);
}
