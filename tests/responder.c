/* A scripted HTTP responder for tests; see responder.h. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include <microhttpd.h>

#include "responder.h"
#include "testutil.h"

#define MAX_LIVE 8

static srv *live[MAX_LIVE];
static pthread_mutex_t live_mu = PTHREAD_MUTEX_INITIALIZER;
static int req_marker;

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
    srv *s = cls;
    size_t o = strlen(s->headers);
    (void)kind;
    snprintf(s->headers + o, sizeof s->headers - o, "%s: %s\n", key, value ? value : "");
    return MHD_YES;
}

static void wait_ms(srv *s, int ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    while (!s->stopping && pthread_cond_timedwait(&s->cv, &s->mu, &until) == 0)
        ;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload, size_t *upload_size, void **req_cls)
{
    srv *s = cls;
    struct MHD_Response *r;
    enum MHD_Result ret = MHD_NO;
    unsigned status;
    int i;
    (void)version;
    pthread_mutex_lock(&s->mu);
    if (*req_cls == NULL) {
        s->requests++;
        snprintf(s->method, sizeof s->method, "%s", method);
        snprintf(s->path, sizeof s->path, "%s", url);
        s->headers[0] = '\0';
        MHD_get_connection_values(c, MHD_HEADER_KIND, collect_header, s);
        s->body_len = 0;
        *req_cls = &req_marker;
        ret = MHD_YES;
    } else if (*upload_size) {
        unsigned char *b = realloc(s->body, s->body_len + *upload_size);
        if (b) {
            s->body = b;
            memcpy(s->body + s->body_len, upload, *upload_size);
            s->body_len += *upload_size;
            *upload_size = 0;
            ret = MHD_YES;
        }
    } else {
        if (s->delay_ms)
            wait_ms(s, s->delay_ms);
        status = s->status;
        r = MHD_create_response_from_buffer(s->reply_len, (void *)(uintptr_t)s->reply,
                                            MHD_RESPMEM_MUST_COPY);
        for (i = 0; r && i < 2; i++)
            if (s->hname[i])
                MHD_add_response_header(r, s->hname[i], s->hvalue[i]);
        pthread_mutex_unlock(&s->mu);
        if (!r)
            return MHD_NO;
        ret = MHD_queue_response(c, status, r);
        MHD_destroy_response(r);
        return ret;
    }
    pthread_mutex_unlock(&s->mu);
    return ret;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_ctx,
                          enum MHD_ConnectionNotificationCode toe)
{
    srv *s = cls;
    (void)c, (void)socket_ctx;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        pthread_mutex_lock(&s->mu);
        s->connections++;
        pthread_mutex_unlock(&s->mu);
    }
}

static srv *start(unsigned status, const char *reply, int v6)
{
    srv *s = calloc(1, sizeof *s);
    struct sockaddr_in sa;
    struct sockaddr_in6 sa6;
    const union MHD_DaemonInfo *info;
    int i;
    ck_assert_ptr_nonnull(s);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    s->status = status;
    s->reply = reply;
    s->reply_len = strlen(reply);
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons(0); /* the kernel chooses */
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    memset(&sa6, 0, sizeof sa6);
    sa6.sin6_family = AF_INET6;
    sa6.sin6_addr = in6addr_loopback;
    s->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION
                                | (v6 ? MHD_USE_IPv6 : 0), 0,
                            NULL, NULL, on_request, s,
                            MHD_OPTION_SOCK_ADDR,
                            v6 ? (struct sockaddr *)&sa6 : (struct sockaddr *)&sa,
                            MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
                            MHD_OPTION_CONNECTION_TIMEOUT, 30u,
                            MHD_OPTION_END);
    if (v6 && !s->d) {
        pthread_mutex_destroy(&s->mu);
        pthread_cond_destroy(&s->cv);
        free(s);
        return NULL;
    }
    ck_assert_ptr_nonnull(s->d);
    info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    ck_assert_ptr_nonnull(info);
    s->port = info->port;
    ck_assert_uint_ne(s->port, 0);
    snprintf(s->url, sizeof s->url, "http://%s:%u/api/v2/metrics/ingest",
             v6 ? "[::1]" : "127.0.0.1", (unsigned)s->port);
    pthread_mutex_lock(&live_mu);
    for (i = 0; i < MAX_LIVE && live[i]; i++)
        ;
    ck_assert_int_lt(i, MAX_LIVE);
    live[i] = s;
    pthread_mutex_unlock(&live_mu);
    return s;
}

srv *srv_start(unsigned status, const char *reply)
{
    return start(status, reply, 0);
}

srv *srv_start_v6(unsigned status, const char *reply)
{
    return start(status, reply, 1);
}

void srv_stop(srv *s)
{
    int i;
    pthread_mutex_lock(&live_mu);
    for (i = 0; i < MAX_LIVE; i++)
        if (live[i] == s)
            live[i] = NULL;
    pthread_mutex_unlock(&live_mu);
    pthread_mutex_lock(&s->mu);
    s->stopping = 1;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    MHD_stop_daemon(s->d);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s->body);
    free(s);
}

void srv_sync(void)
{
    int i;
    pthread_mutex_lock(&live_mu);
    for (i = 0; i < MAX_LIVE; i++) {
        if (live[i]) {
            pthread_mutex_lock(&live[i]->mu);
            pthread_mutex_unlock(&live[i]->mu);
        }
    }
    pthread_mutex_unlock(&live_mu);
}

const char *srv_header(srv *s, const char *name, char *out, size_t cap)
{
    const char *p = s->headers;
    size_t n = strlen(name);
    while (*p) {
        const char *eol = strchr(p, '\n');
        if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
            size_t len = (size_t)(eol - (p + n + 2));
            ck_assert_uint_lt(len, cap);
            memcpy(out, p + n + 2, len);
            out[len] = '\0';
            return out;
        }
        p = eol + 1;
    }
    return NULL;
}
