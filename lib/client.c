/*
 * The client's public calls: creation and release, queueing lines from any
 * thread, statistics, errors, and replacing the token or URL.  Sending is in
 * export.c, configuration in clientcfg.c.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clientimpl.h"
#include "registry.h"
#include "text.h"

/* ---- fork detection ----
   A child handler bumps a generation counter; every call compares it with
   the one the client was created under.  One relaxed load per call, no pid
   syscall, and it works even when the child was forked while another
   thread held the client's lock (the check comes before any locking). */
static unsigned fork_generation;
static pthread_once_t fork_once = PTHREAD_ONCE_INIT;

static void on_fork_child(void)
{
    __atomic_add_fetch(&fork_generation, 1, __ATOMIC_RELAXED);
}

static void fork_register(void)
{
    pthread_atfork(NULL, NULL, on_fork_child);
}

static int forked(const dtm_client *c)
{
    return __atomic_load_n(&fork_generation, __ATOMIC_RELAXED) != c->fork_gen;
}

/* ---- clock and randomness ---- */
int64_t dtm__mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void dtm__timespec_at(int64_t mono_ms, struct timespec *ts)
{
    if (mono_ms < 0)
        mono_ms = 0;
    if (mono_ms > INT64_C(1) << 50) /* "no deadline": far enough */
        mono_ms = INT64_C(1) << 50;
    ts->tv_sec = (time_t)(mono_ms / 1000);
    ts->tv_nsec = (long)(mono_ms % 1000) * 1000000L;
}

int64_t dtm__client_now(dtm_client *c)
{
    return c->hooks.now_ms ? c->hooks.now_ms(c->hooks.ud) : dtm__mono_ms();
}

uint32_t dtm__client_rand(dtm_client *c)
{
    uint64_t x;
    if (c->hooks.rand32)
        return c->hooks.rand32(c->hooks.ud);
    /* xorshift64*, per client: no process-wide random state is touched. */
    x = c->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    c->rng = x;
    return (uint32_t)((x * UINT64_C(2685821657736338717)) >> 32);
}

static uint64_t seed_for(const dtm_client *c)
{
    struct timespec ts;
    uint64_t s;
    clock_gettime(CLOCK_REALTIME, &ts);
    s = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ ((uint64_t)getpid() << 40) ^
        (uint64_t)(uintptr_t)c;
    return s ? s : UINT64_C(0x9E3779B97F4A7C15);
}

/* ---- logging: level filter and token scrubbing ---- */
static void scrub(char *msg, const char *secret)
{
    size_t n = strlen(secret);
    char *p;
    if (n < 4)
        return;
    while ((p = strstr(msg, secret)) != NULL) {
        memset(p, '*', 4);
        memmove(p + 4, p + n, strlen(p + n) + 1);
    }
}

/* Defence in depth: our texts never include the token, but libcurl's
   verbose trace or a server's echo could; remove it and its secret part. */
static void scrub_secret(dtm_client *c, char *text)
{
    pthread_mutex_lock(&c->tok_mu);
    if (c->scrub) {
        const char *dot;
        scrub(text, c->scrub);
        dot = strchr(c->scrub, '.');
        if (dot && (dot = strchr(dot + 1, '.')) != NULL && strlen(dot + 1) >= 16)
            scrub(text, dot + 1);
    }
    pthread_mutex_unlock(&c->tok_mu);
}

void dtm__client_scrub(dtm_client *c, char *text)
{
    if (text)
        scrub_secret(c, text);
}

static void client_log(dtm_log_level level, const char *message, void *userdata)
{
    dtm_client *c = userdata;
    char buf[1024];
    if ((int)level > (int)c->log_level || !c->user_log)
        return;
    snprintf(buf, sizeof buf, "%s", message);
    scrub_secret(c, buf);
    c->user_log(level, buf, c->user_log_ud);
}

static dtm_status set_scrub_token(dtm_client *c, const char *token)
{
    char *copy = NULL, *old;
    if (token) {
        copy = dtm__strdup(token);
        if (!copy)
            return DTM_ENOMEM;
    }
    pthread_mutex_lock(&c->tok_mu);
    old = c->scrub;
    c->scrub = copy;
    pthread_mutex_unlock(&c->tok_mu);
    dtm__secret_free(old);
    return DTM_OK;
}

void dtm__client_set_error_locked(dtm_client *c, dtm_status st, const char *fmt, ...)
{
    va_list ap;
    c->st.last_status = st;
    va_start(ap, fmt);
    vsnprintf(c->errtext, sizeof c->errtext, fmt, ap);
    va_end(ap);
    scrub_secret(c, c->errtext);
}

/* ---- creation ---- */
static void write_errbuf(const dtm_client_options *o, const char *msg)
{
    if (o && o->errbuf && o->errbuf_size)
        snprintf(o->errbuf, o->errbuf_size, "%s", msg);
}

int dtm__client_forked(const dtm_client *c)
{
    return forked(c);
}

static void free_client_memory(dtm_client *c)
{
    dtm__registry_free(c->reg);
    dtm__free(c->ca_file);
    dtm__free(c->ca_path);
    dtm__free(c->proxy);
    dtm__free(c->user_agent);
    dtm__free(c->endpoint_file);
    dtm__endpoint_clear(&c->ep);
    dtm__secret_free(c->scrub);
    dtm__queue_free(&c->q);
    dtm__free(c->pend.body);
    dtm__free(c->pend.off);
    dtm__free(c->pend.len);
    dtm__free(c);
}

static int init_sync(dtm_client *c)
{
    pthread_condattr_t ca;
    int ok = 0, n = 0;
    if (pthread_condattr_init(&ca) != 0)
        return 0;
    if (pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0)
        goto out;
    if (pthread_mutex_init(&c->mu, NULL) != 0)
        goto out;
    n++;
    if (pthread_mutex_init(&c->tok_mu, NULL) != 0)
        goto out;
    n++;
    if (pthread_cond_init(&c->wake_cv, &ca) != 0)
        goto out;
    n++;
    if (pthread_cond_init(&c->space_cv, &ca) != 0)
        goto out;
    n++;
    if (pthread_cond_init(&c->done_cv, &ca) != 0)
        goto out;
    ok = 1;
out:
    if (!ok) {
        if (n > 3)
            pthread_cond_destroy(&c->space_cv);
        if (n > 2)
            pthread_cond_destroy(&c->wake_cv);
        if (n > 1)
            pthread_mutex_destroy(&c->tok_mu);
        if (n > 0)
            pthread_mutex_destroy(&c->mu);
    }
    pthread_condattr_destroy(&ca);
    return ok;
}

static void destroy_sync(dtm_client *c)
{
    pthread_cond_destroy(&c->done_cv);
    pthread_cond_destroy(&c->space_cv);
    pthread_cond_destroy(&c->wake_cv);
    pthread_mutex_destroy(&c->tok_mu);
    pthread_mutex_destroy(&c->mu);
}

dtm_status dtm__client_new_hooked(dtm_client **out, const dtm_client_options *opts,
                                  const dtm__client_hooks *hooks)
{
    dtm_client_options defaults;
    dtm_serializer_options so;
    dtm_client *c;
    dtm_status st;
    char msg[DTM__ERRTEXT_SIZE] = "";

    if (out)
        *out = NULL;
    if (!out) {
        write_errbuf(opts, "out is NULL");
        return DTM_EINVAL;
    }
    if (!opts) {
        dtm_client_options_init(&defaults);
        opts = &defaults;
    }
    pthread_once(&fork_once, fork_register);
    c = dtm__calloc(1, sizeof *c);
    if (!c) {
        write_errbuf(opts, "out of memory");
        return DTM_ENOMEM;
    }
    c->fork_gen = __atomic_load_n(&fork_generation, __ATOMIC_RELAXED);
    if (hooks)
        c->hooks = *hooks;
    c->user_log = opts->log_fn;
    c->user_log_ud = opts->log_userdata;
    c->log_level = opts->log_level;
    /* No callback: no hook at all, so that no layer formats a message. */
    c->log.fn = opts->log_fn ? client_log : NULL;
    c->log.userdata = c;
    c->rejected_fn = opts->rejected_fn;
    c->rejected_ud = opts->rejected_userdata;
    c->rng = seed_for(c);
    if (!init_sync(c)) {
        dtm__free(c);
        write_errbuf(opts, "could not create a mutex or condition variable");
        return DTM_ENOMEM;
    }
    st = dtm__client_apply_options(c, opts, msg, sizeof msg);
    if (st == DTM_OK)
        st = dtm__endpoint_resolve(c, opts, &c->ep, msg, sizeof msg);
    if (st == DTM_OK && set_scrub_token(c, c->ep.token) != DTM_OK)
        st = DTM_ENOMEM;
    if (st == DTM_OK && dtm__queue_init(&c->q, opts->max_queue_bytes, opts->max_queue_lines) !=
                            DTM_OK)
        st = DTM_ENOMEM;
    if (st == DTM_OK && dtm__pending_init(&c->pend, c->batch_lines, c->batch_bytes) != DTM_OK)
        st = DTM_ENOMEM;
    if (st == DTM_OK) {
        so = opts->serializer;
        if (!so.log_fn && c->log.fn) {
            so.log_fn = client_log;
            so.log_userdata = c;
        }
        st = dtm_serializer_new(&c->ser, &so);
        if (st != DTM_OK)
            snprintf(msg, sizeof msg, "serializer options: %s", dtm_strerror(st));
    }
    if (st == DTM_OK && !c->hooks.make_transport) {
        st = dtm__curl_global_init();
        if (st != DTM_OK)
            snprintf(msg, sizeof msg, "libcurl global initialisation failed");
    }
    if (st == DTM_OK && c->mode == DTM_CLIENT_BACKGROUND) {
        st = dtm__export_start(c);
        if (st != DTM_OK)
            snprintf(msg, sizeof msg, "could not start the exporter thread");
    }
    if (st != DTM_OK) {
        if (st == DTM_ENOMEM && !*msg)
            snprintf(msg, sizeof msg, "out of memory");
        DTM__CLOG(c, DTM_LOG_ERROR, "client not created: %s", msg);
        write_errbuf(opts, msg);
        dtm_serializer_free(c->ser);
        destroy_sync(c);
        free_client_memory(c);
        return st;
    }
    c->t_gen = c->ep_gen;
    *out = c;
    return DTM_OK;
}

dtm_status dtm_client_new(dtm_client **out, const dtm_client_options *opts)
{
    return dtm__client_new_hooked(out, opts, NULL);
}

void dtm_client_free(dtm_client *c)
{
    if (!c)
        return;
    if (forked(c)) {
        /* Child of a fork: the exporter thread does not exist here, the
           locks may have been held at fork time, and closing the inherited
           connection could disturb the parent's TLS session.  Release the
           memory only; the transport is left alone on purpose. */
        dtm_serializer_free(c->ser);
        free_client_memory(c);
        return;
    }
    if (!c->closed)
        dtm__export_close(c, 0);
    dtm__export_free(c);
    dtm_serializer_free(c->ser);
    destroy_sync(c);
    free_client_memory(c);
}

/* ---- queueing ---- */

/* Why a line cannot be queued at all (DTM_OK if it can). */
static dtm_status line_check(const dtm_client *c, const char *line, size_t len)
{
    if (len == 0)
        return DTM_EINVAL;
    if (memchr(line, '\n', len) || memchr(line, '\r', len))
        return DTM_EINVAL;
    if (len > c->batch_bytes || !dtm__queue_storable(&c->q, len))
        return DTM_ELINE;
    /* UTF-16 units never exceed bytes, so only long lines need counting. */
    if (len > DTM_MAX_LINE_LEN && dtm__utf16_units(line, len) > DTM_MAX_LINE_LEN)
        return DTM_ELINE;
    return DTM_OK;
}

static const char *refusal_text(dtm_status st)
{
    switch (st) {
    case DTM_EINVAL: return "empty, or contains a line break";
    case DTM_ELINE: return "longer than the protocol (50,000 UTF-16 units) or the batch size allows";
    default: return dtm_strerror(st);
    }
}

/* Count and queue one line (or count its refusal, refused != DTM_OK). */
static dtm_status enqueue(dtm_client *c, const char *line, size_t len, dtm_status refused)
{
    dtm_status st = DTM_OK;
    int log_overflow = 0;
    uint64_t dropped_now = 0;

    pthread_mutex_lock(&c->mu);
    if (c->closed) {
        pthread_mutex_unlock(&c->mu);
        return DTM_ESTATE;
    }
    c->st.lines_submitted++;
    if (refused != DTM_OK) {
        c->st.dropped_refused++;
        pthread_mutex_unlock(&c->mu);
        DTM__CLOG(c, dtm__once_level(&c->once[DTM__ONCE_REFUSED]),
                  "line refused before queuing (%zu bytes): %s", len, refusal_text(refused));
        return refused;
    }
    while (!dtm__queue_fits(&c->q, len)) {
        if (c->overflow == DTM_OVERFLOW_DROP_OLDEST) {
            dtm__queue_drop(&c->q);
            c->st.dropped_overflow++;
            dropped_now++;
            log_overflow = 1;
            continue;
        }
        if (c->overflow == DTM_OVERFLOW_BLOCK && c->block_timeout_ms > 0) {
            struct timespec ts;
            int64_t until = dtm__mono_ms() + c->block_timeout_ms;
            int rc = 0;
            dtm__timespec_at(until, &ts);
            c->n_blocked++;
            while (!c->closed && !dtm__queue_fits(&c->q, len) && rc != ETIMEDOUT)
                rc = pthread_cond_timedwait(&c->space_cv, &c->mu, &ts);
            c->n_blocked--;
            if (c->closed) {
                c->st.dropped_close++;
                pthread_mutex_unlock(&c->mu);
                return DTM_ESTATE;
            }
            if (dtm__queue_fits(&c->q, len))
                break;
        }
        c->st.dropped_overflow++;
        dropped_now = 1;
        log_overflow = 1;
        st = DTM_EFULL;
        break;
    }
    if (st == DTM_OK) {
        dtm__queue_push(&c->q, line, len);
        /* Background: wake the exporter early once a full batch waits. */
        if (c->idle && !c->wake_sent &&
            (c->q.count >= c->batch_lines || c->q.payload + c->q.count >= c->batch_bytes)) {
            c->wake_sent = 1;
            pthread_cond_signal(&c->wake_cv);
        }
    }
    pthread_mutex_unlock(&c->mu);
    if (log_overflow)
        DTM__CLOG(c, dtm__once_level(&c->once[DTM__ONCE_OVERFLOW]),
                  "queue full (%s): %llu line(s) dropped; see dropped_overflow",
                  c->overflow == DTM_OVERFLOW_DROP_OLDEST ? "dropping the oldest"
                                                          : "dropping the newest",
                  (unsigned long long)dropped_now);
    return st;
}

/*
 * Why a mutex around a memcpy into a preallocated ring: the critical section
 * is a bounds check, a copy of one line (typically < 200 bytes) and a few
 * counter updates, so an uncontended lock costs ~20 ns and contention is
 * short.  A lock-free MPSC ring would need a reserve/commit protocol per
 * producer (two atomic RMWs plus a publish flag per slot), a consumer that
 * waits for slow producers to commit, and drop-oldest from the producer side
 * would race the consumer, needing a second protocol; it also would make the
 * exact accounting invariant (tested) much harder to keep.  Not worth it
 * while the lock is not the bottleneck (see bench/bench_client.c).
 */
dtm_status dtm_client_add_line(dtm_client *c, const char *line, size_t len)
{
    if (!c || !line)
        return DTM_EINVAL;
    if (forked(c))
        return DTM_ESTATE;
    return enqueue(c, line, len, line_check(c, line, len));
}

#define STACK_LINE 4096

typedef enum { K_COUNTER, K_COUNTER_INT, K_GAUGE, K_SUMMARY, K_METADATA } line_kind;

/* One line to serialize, whatever its kind (the dtm_client_add_* calls). */
typedef struct line_args {
    line_kind kind;
    const char *name;
    const dtm_dimension *dims;
    size_t n_dims;
    double v, min, max, sum;
    int64_t iv, count, ts;
    dtm_metric_type type; /* K_METADATA */
    const char *description, *unit, *display_name;
} line_args;

static dtm_status serialize(const dtm_client *c, const line_args *a, char *out, size_t cap,
                            size_t *len)
{
    switch (a->kind) {
    case K_COUNTER:
        return dtm_serialize_counter(c->ser, a->name, a->dims, a->n_dims, a->v, a->ts, out, cap,
                                     len);
    case K_COUNTER_INT:
        return dtm_serialize_counter_int(c->ser, a->name, a->dims, a->n_dims, a->iv, a->ts, out,
                                         cap, len);
    case K_GAUGE:
        return dtm_serialize_gauge(c->ser, a->name, a->dims, a->n_dims, a->v, a->ts, out, cap,
                                   len);
    case K_SUMMARY:
        return dtm_serialize_summary(c->ser, a->name, a->dims, a->n_dims, a->min, a->max,
                                     a->sum, a->count, a->ts, out, cap, len);
    case K_METADATA:
        return dtm_serialize_metadata(c->ser, a->name, a->type, a->description, a->unit,
                                      a->display_name, out, cap, len);
    }
    return DTM_EINVAL;
}

static dtm_status add_serialized(dtm_client *c, const line_args *a)
{
    char buf[STACK_LINE];
    char *heap = NULL;
    size_t len = 0;
    dtm_status st;

    if (!c || !a->name || (a->n_dims && !a->dims))
        return DTM_EINVAL;
    if (forked(c))
        return DTM_ESTATE;
    st = serialize(c, a, buf, sizeof buf, &len);
    if (st == DTM_ETOOSMALL) {
        /* Rare: a line over 4 KiB.  Not the hot path. */
        heap = dtm__malloc(len + 1);
        st = heap ? serialize(c, a, heap, len + 1, &len) : DTM_ENOMEM;
    }
    /* Bad arguments are not counted; a metadata line without properties is
       nothing to send. */
    if (st == DTM_EINVAL || (st == DTM_OK && len == 0)) {
        dtm__free(heap);
        return st;
    }
    if (st == DTM_OK)
        st = line_check(c, heap ? heap : buf, len);
    st = enqueue(c, heap ? heap : buf, len, st);
    dtm__free(heap);
    return st;
}

dtm_status dtm_client_add_counter(dtm_client *c, const char *name, const dtm_dimension *dims,
                                  size_t n_dims, double delta, int64_t timestamp_ms)
{
    line_args a = {K_COUNTER, name, dims, n_dims, .v = delta, .ts = timestamp_ms};
    return add_serialized(c, &a);
}

dtm_status dtm_client_add_counter_int(dtm_client *c, const char *name, const dtm_dimension *dims,
                                      size_t n_dims, int64_t delta, int64_t timestamp_ms)
{
    line_args a = {K_COUNTER_INT, name, dims, n_dims, .iv = delta, .ts = timestamp_ms};
    return add_serialized(c, &a);
}

dtm_status dtm_client_add_gauge(dtm_client *c, const char *name, const dtm_dimension *dims,
                                size_t n_dims, double value, int64_t timestamp_ms)
{
    line_args a = {K_GAUGE, name, dims, n_dims, .v = value, .ts = timestamp_ms};
    return add_serialized(c, &a);
}

dtm_status dtm_client_add_summary(dtm_client *c, const char *name, const dtm_dimension *dims,
                                  size_t n_dims, double min, double max, double sum,
                                  int64_t count, int64_t timestamp_ms)
{
    line_args a = {K_SUMMARY, name, dims, n_dims, .min = min, .max = max, .sum = sum,
                   .count = count, .ts = timestamp_ms};
    return add_serialized(c, &a);
}

dtm_status dtm_client_add_metadata(dtm_client *c, const char *name, dtm_metric_type type,
                                   const char *description, const char *unit,
                                   const char *display_name)
{
    line_args a = {K_METADATA, name, NULL, 0, .type = type, .description = description,
                   .unit = unit, .display_name = display_name};
    return add_serialized(c, &a);
}

/* ---- flush, close ---- */
dtm_status dtm_client_flush(dtm_client *c, long timeout_ms)
{
    if (!c || timeout_ms < 0)
        return DTM_EINVAL;
    if (forked(c))
        return DTM_ESTATE;
    return dtm__export_flush(c, timeout_ms);
}

dtm_status dtm_client_close(dtm_client *c, long timeout_ms)
{
    if (!c || timeout_ms < 0)
        return DTM_EINVAL;
    if (forked(c))
        return DTM_ESTATE;
    return dtm__export_close(c, timeout_ms);
}

/* ---- statistics and errors ---- */
dtm_status dtm_client_stats(dtm_client *c, dtm_client_statistics *out)
{
    if (!c || !out)
        return DTM_EINVAL;
    if (forked(c))
        return DTM_ESTATE;
    pthread_mutex_lock(&c->mu);
    *out = c->st;
    out->lines_queued = c->q.count + c->inflight;
    out->bytes_queued = c->q.payload + c->inflight_bytes;
    out->lines_dropped = out->dropped_overflow + out->dropped_refused + out->dropped_retries +
                         out->dropped_too_large + out->dropped_http + out->dropped_close;
    out->stopped = c->stopped;
    snprintf(out->last_error, sizeof out->last_error, "%s", c->errtext);
    pthread_mutex_unlock(&c->mu);
    return DTM_OK;
}

dtm_status dtm_client_last_error(dtm_client *c, char *buf, size_t buf_size, size_t *len)
{
    dtm_status st;
    if (!c || !len || (!buf && buf_size))
        return DTM_EINVAL;
    if (forked(c))
        return DTM_ESTATE;
    pthread_mutex_lock(&c->mu);
    st = dtm__copy_out(c->errtext, strlen(c->errtext), buf, buf_size, len);
    pthread_mutex_unlock(&c->mu);
    return st;
}

dtm_status dtm_client_get_url(dtm_client *c, char *buf, size_t buf_size, size_t *len)
{
    dtm_status st;
    if (!c || !len || (!buf && buf_size))
        return DTM_EINVAL;
    if (forked(c))
        return DTM_ESTATE;
    pthread_mutex_lock(&c->mu);
    st = dtm__copy_out(c->ep.info.display, strlen(c->ep.info.display), buf, buf_size, len);
    pthread_mutex_unlock(&c->mu);
    return st;
}

/* ---- replacing the endpoint ---- */
dtm_status dtm__client_replace_endpoint(dtm_client *c, const char *url, const char *token,
                                        int token_given, int from_file)
{
    dtm__endpoint cur, next;
    dtm_status st;
    char msg[DTM__ERRTEXT_SIZE];
    char desc[64], display[DTM__URL_DISPLAY_SIZE];
    int was_stopped, had_token;

    if (!c || (!token_given && !url))
        return DTM_EINVAL;
    if (forked(c))
        return DTM_ESTATE;
    /* Work on a copy of the current endpoint, outside the lock. */
    pthread_mutex_lock(&c->mu);
    if (c->closed) {
        pthread_mutex_unlock(&c->mu);
        return DTM_ESTATE;
    }
    memset(&cur, 0, sizeof cur);
    cur.url_from_file = c->ep.url_from_file;
    cur.token_from_file = c->ep.token_from_file;
    cur.url = dtm__strdup(c->ep.url);
    cur.token = c->ep.token ? dtm__strdup(c->ep.token) : NULL;
    had_token = c->ep.token != NULL;
    pthread_mutex_unlock(&c->mu);
    if (!cur.url || (had_token && !cur.token)) {
        dtm__endpoint_clear(&cur);
        return DTM_ENOMEM;
    }
    st = dtm__endpoint_make(c, &cur, url, token, token_given, &next, msg, sizeof msg);
    next.url_from_file = url ? from_file : cur.url_from_file;
    next.token_from_file = token_given ? from_file : cur.token_from_file;
    dtm__endpoint_clear(&cur);
    if (st == DTM_OK && set_scrub_token(c, next.token) != DTM_OK) {
        dtm__endpoint_clear(&next);
        st = DTM_ENOMEM;
        snprintf(msg, sizeof msg, "out of memory");
    }
    if (st != DTM_OK) {
        pthread_mutex_lock(&c->mu);
        dtm__client_set_error_locked(c, st, "%s", msg);
        pthread_mutex_unlock(&c->mu);
        DTM__CLOG(c, DTM_LOG_ERROR, "%s", msg);
        return st;
    }
    dtm__token_describe(next.token, desc, sizeof desc);
    memcpy(display, next.info.display, sizeof display);
    pthread_mutex_lock(&c->mu);
    cur = c->ep;
    c->ep = next;
    c->ep_gen++;
    was_stopped = c->stopped;
    pthread_cond_broadcast(&c->wake_cv);
    pthread_mutex_unlock(&c->mu);
    dtm__endpoint_clear(&cur);
    DTM__CLOG(c, DTM_LOG_INFO, "endpoint replaced: %s with %s%s", display, desc,
              was_stopped ? "; sending resumes" : "");
    return DTM_OK;
}

dtm_status dtm_client_set_token(dtm_client *c, const char *token)
{
    return dtm__client_replace_endpoint(c, NULL, token ? token : "", 1, 0);
}

dtm_status dtm_client_set_url(dtm_client *c, const char *url)
{
    if (!url)
        return DTM_EINVAL;
    return dtm__client_replace_endpoint(c, url, NULL, 0, 0);
}
