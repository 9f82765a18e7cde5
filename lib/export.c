/*
 * Export: take batches from the queue, post them, act on the answer, retry
 * with backoff.  Everything here runs in the one sender context (see
 * clientimpl.h) unless it says otherwise.  Who sends when (the exporter
 * thread, flush, close) is in exporter.c.
 *
 * What each answer means:
 *   2xx        done (202 expected; another 2xx is logged as suspicious)
 *   400        done: the valid lines were ingested, never resend; the
 *              itemised invalid lines (1-based) are reported
 *   3xx, 401, 403, 404, 405
 *              stop: keep the batch and the queue, sticky DTM_EAUTH, resume
 *              when the token or URL is replaced
 *   413        split the range in halves; a single line is dropped
 *   408, 429, 5xx, no answer
 *              retry with exponential backoff and full jitter (Retry-After
 *              wins) within retry_max_time_ms, then drop
 *   415, other 4xx
 *              drop (415 with gzip: switch gzip off and resend first)
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "clientimpl.h"
#include "response.h"

enum { OUT_DONE, OUT_RETRY, OUT_STOP, OUT_AGAIN, OUT_DEADLINE };

/* How a range ended, for the accounting. */
enum { END_OK, END_REJECTED, END_DROP_RETRIES, END_DROP_TOO_LARGE, END_DROP_HTTP };

dtm_status dtm__pending_init(dtm__pending *p, size_t lines, size_t bytes)
{
    memset(p, 0, sizeof *p);
    p->body = dtm__malloc(bytes + 1);
    p->off = dtm__calloc(lines, sizeof *p->off);
    p->len = dtm__calloc(lines, sizeof *p->len);
    return (p->body && p->off && p->len) ? DTM_OK : DTM_ENOMEM;
}

/* ---- transport ---- */
static void drop_transport(dtm_client *c)
{
    if (c->t) {
        c->t->ops->free(c->t);
        c->t = NULL;
    }
}

static dtm_status make_transport(dtm_client *c, long timeout_ms, char *msg, size_t msg_size)
{
    dtm__http_config cfg;
    dtm__transport *t = NULL;
    char *url, *token = NULL;
    unsigned gen;
    int gzip, loopback, token_failed;
    dtm_status st;

    if (c->t && c->t_gen == __atomic_load_n(&c->ep_gen, __ATOMIC_RELAXED) &&
        c->t_gzip == __atomic_load_n(&c->gzip, __ATOMIC_RELAXED) && timeout_ms >= c->t_timeout &&
        !(c->t_timeout < c->request_timeout_ms && timeout_ms >= 2 * c->t_timeout))
        return DTM_OK;
    /* Copy what we need under the lock; create outside it. */
    pthread_mutex_lock(&c->mu);
    gen = c->ep_gen;
    gzip = c->gzip;
    loopback = c->ep.info.loopback;
    url = dtm__strdup(c->ep.url);
    token_failed = 0;
    if (c->ep.token) {
        token = dtm__strdup(c->ep.token);
        token_failed = token == NULL;
    }
    pthread_mutex_unlock(&c->mu);
    if (!url || token_failed) {
        dtm__free(url);
        dtm__secret_free(token);
        snprintf(msg, msg_size, "out of memory creating the HTTP transport");
        return DTM_ENOMEM;
    }
    memset(&cfg, 0, sizeof cfg);
    cfg.url = url;
    cfg.token = token;
    cfg.timeout_ms = timeout_ms;
    cfg.connect_timeout_ms = c->connect_timeout_ms < timeout_ms ? c->connect_timeout_ms
                                                                : timeout_ms;
    cfg.ca_file = c->ca_file;
    cfg.ca_path = c->ca_path;
    cfg.insecure = c->tls_insecure;
    cfg.gzip = gzip;
    /* Never send the local OneAgent's traffic to an http_proxy from the
       environment. */
    cfg.proxy = c->proxy ? c->proxy : (loopback ? "" : NULL);
    cfg.verbose = c->verbose;
    cfg.user_agent = c->user_agent;
    cfg.log = &c->log;
    cfg.cancel = &c->cancel;
    st = c->hooks.make_transport ? c->hooks.make_transport(c->hooks.ud, &cfg, &t)
                                 : dtm__curl_transport_new(&t, &cfg);
    dtm__free(url);
    dtm__secret_free(token);
    drop_transport(c);
    if (st != DTM_OK) {
        snprintf(msg, msg_size, "could not create the HTTP transport: %s", dtm_strerror(st));
        return st;
    }
    c->t = t;
    c->t_gen = gen;
    c->t_gzip = gzip;
    c->t_timeout = timeout_ms;
    return DTM_OK;
}

void dtm__export_free(dtm_client *c)
{
    drop_transport(c);
}

/* ---- batches and accounting ---- */
static size_t take_batch(dtm_client *c)
{
    dtm__pending *p = &c->pend;
    size_t n;
    pthread_mutex_lock(&c->mu);
    n = dtm__queue_take(&c->q, p->body, c->batch_bytes, c->batch_lines, p->off, p->len,
                        &p->body_len);
    c->inflight += n;
    c->inflight_bytes += n ? p->body_len - (n - 1) : 0;
    c->taken += n;
    if (n && c->n_blocked)
        pthread_cond_broadcast(&c->space_cv);
    pthread_mutex_unlock(&c->mu);
    p->n = n;
    p->depth = n ? 1 : 0;
    p->stack[0].lo = 0;
    p->stack[0].hi = (uint32_t)n;
    p->attempt = 0;
    p->fail_start = 0;
    p->next_try = 0;
    p->last = DTM_OK;
    return n;
}

static size_t range_bytes(const dtm__pending *p, size_t lo, size_t hi)
{
    size_t i, b = 0;
    for (i = lo; i < hi; i++)
        b += p->len[i];
    return b;
}

/* Settle the top range: move its lines out of "in flight". */
static void settle_top(dtm_client *c, int how, uint64_t accepted)
{
    dtm__pending *p = &c->pend;
    size_t lo = p->stack[p->depth - 1].lo, hi = p->stack[p->depth - 1].hi;
    uint64_t n = hi - lo;
    size_t bytes = range_bytes(p, lo, hi);

    if (accepted > n)
        accepted = n;
    pthread_mutex_lock(&c->mu);
    c->inflight -= n;
    c->inflight_bytes -= bytes;
    switch (how) {
    case END_OK: c->st.lines_accepted += n; break;
    case END_REJECTED:
        c->st.lines_accepted += accepted;
        c->st.lines_rejected += n - accepted;
        break;
    case END_DROP_RETRIES: c->st.dropped_retries += n; break;
    case END_DROP_TOO_LARGE: c->st.dropped_too_large += n; break;
    default: c->st.dropped_http += n; break;
    }
    pthread_mutex_unlock(&c->mu);
    p->depth--;
    p->attempt = 0;
    p->fail_start = 0;
    p->next_try = 0;
    if (p->depth == 0)
        p->n = 0;
}

void dtm__drop_all_locked(dtm_client *c)
{
    c->st.dropped_close += c->q.count + c->inflight;
    while (c->q.count)
        dtm__queue_drop(&c->q);
    c->inflight = 0;
    c->inflight_bytes = 0;
    c->pend.n = 0;
    c->pend.depth = 0;
}

/* ---- answers ---- */

/* Parse an answer and scrub every text in it: a server (or a proxy) may
   echo what it was sent, the Authorization header included. */
static dtm_status parse_answer(dtm_client *c, const dtm__http_result *res,
                               dtm__ingest_response *r)
{
    size_t i;
    dtm_status st = dtm__response_parse(res->body ? res->body : "", res->body_len, r);
    if (st != DTM_OK)
        return st;
    dtm__client_scrub(c, r->error_message);
    for (i = 0; i < r->n_invalid; i++)
        dtm__client_scrub(c, r->invalid[i].error);
    for (i = 0; i < r->n_warnings; i++)
        dtm__client_scrub(c, r->warnings[i]);
    return DTM_OK;
}
static int64_t backoff_ms(dtm_client *c, int attempt)
{
    int64_t ceiling = c->retry_initial_ms;
    int i;
    for (i = 1; i < attempt && ceiling < c->retry_max_delay_ms; i++)
        ceiling *= 2;
    if (ceiling > c->retry_max_delay_ms)
        ceiling = c->retry_max_delay_ms;
    /* Full jitter: uniform in [0, ceiling]. */
    return (int64_t)(((uint64_t)ceiling * dtm__client_rand(c)) / UINT32_MAX);
}

static int retry_or_drop(dtm_client *c, dtm_status err, int64_t retry_after_ms,
                         const char *what, dtm_status *worst)
{
    dtm__pending *p = &c->pend;
    int64_t now = dtm__client_now(c), delay;
    size_t n = p->stack[p->depth - 1].hi - p->stack[p->depth - 1].lo;

    if (p->attempt == 0)
        p->fail_start = now;
    p->attempt++;
    delay = retry_after_ms >= 0 ? retry_after_ms : backoff_ms(c, p->attempt);
    if (c->retry_max_time_ms == 0 || now + delay - p->fail_start > c->retry_max_time_ms) {
        pthread_mutex_lock(&c->mu);
        dtm__client_set_error_locked(c, err, "%s; retry time (%ld ms) used up, %zu line(s) dropped",
                                     what, c->retry_max_time_ms, n);
        pthread_mutex_unlock(&c->mu);
        DTM__CLOG(c, dtm__once_level(&c->once[DTM__ONCE_DROPPED]),
                  "%s; retry time (%ld ms) used up after %d attempt(s): %zu line(s) dropped", what,
                  c->retry_max_time_ms, p->attempt, n);
        settle_top(c, END_DROP_RETRIES, 0);
        if (*worst == DTM_OK)
            *worst = err;
        return OUT_DONE;
    }
    p->next_try = now + delay;
    p->last = err;
    pthread_mutex_lock(&c->mu);
    dtm__client_set_error_locked(c, err, "%s; retrying in %lld ms", what, (long long)delay);
    pthread_mutex_unlock(&c->mu);
    DTM__CLOG(c, dtm__once_level(&c->once[DTM__ONCE_RETRY]),
              "%s; retry %d of %zu line(s) in %lld ms%s", what, p->attempt, n, (long long)delay,
              retry_after_ms >= 0 ? " (Retry-After)" : "");
    return OUT_RETRY;
}

static int stop_sending(dtm_client *c, unsigned gen, long status, const char *server_msg)
{
    char display[DTM__URL_DISPLAY_SIZE];
    char text[DTM__ERRTEXT_SIZE];
    const char *srv = server_msg ? server_msg : "";

    pthread_mutex_lock(&c->mu);
    memcpy(display, c->ep.info.display, sizeof display);
    pthread_mutex_unlock(&c->mu);
    if (status == 401)
        snprintf(text, sizeof text,
                 "HTTP 401: the server refused the API token (missing, malformed or expired)%s%.80s"
                 "; sending stopped until the token is replaced",
                 *srv ? ": " : "", srv);
    else if (status == 403)
        snprintf(text, sizeof text,
                 "HTTP 403: the API token lacks the scope metrics.ingest%s%.80s; sending stopped "
                 "until the token is replaced",
                 *srv ? ": " : "", srv);
    else if (status == 404 || status == 405)
        snprintf(text, sizeof text,
                 "HTTP %ld: no metrics ingest API at %.120s (did you forget "
                 "/api/v2/metrics/ingest?); sending stopped until the URL is replaced",
                 status, display);
    else
        snprintf(text, sizeof text,
                 "HTTP %ld: redirected away from %.120s (use the final URL, https?); sending "
                 "stopped until the URL is replaced",
                 status, display);
    pthread_mutex_lock(&c->mu);
    c->stopped = 1;
    c->stop_gen = gen;
    dtm__client_set_error_locked(c, DTM_EAUTH, "%s", text);
    pthread_mutex_unlock(&c->mu);
    DTM__CLOG(c, DTM_LOG_ERROR, "%s", text);
    c->next_reread = dtm__client_now(c) + 60000;
    return OUT_STOP;
}

/* Report the itemised invalid lines of the top range. */
static void report_rejected(dtm_client *c, const dtm__ingest_response *r, dtm_log_level level)
{
    dtm__pending *p = &c->pend;
    size_t lo = p->stack[p->depth - 1].lo, hi = p->stack[p->depth - 1].hi;
    size_t i;
    for (i = 0; i < r->n_invalid; i++) {
        int64_t ln = r->invalid[i].line;
        const char *reason = r->invalid[i].error ? r->invalid[i].error : "";
        char *line, saved;
        size_t len;
        if (ln < 1 || (uint64_t)ln > hi - lo)
            continue;
        line = p->body + p->off[lo + (size_t)ln - 1];
        len = p->len[lo + (size_t)ln - 1];
        saved = line[len];
        line[len] = '\0';
        DTM__CLOG(c, level, "line rejected by the server: %s: %.200s%s", reason, line,
                  len > 200 ? "..." : "");
        if (c->rejected_fn)
            c->rejected_fn(line, len, reason, c->rejected_ud);
        line[len] = saved;
    }
}

static void log_warnings(dtm_client *c, const dtm__ingest_response *r)
{
    size_t i;
    for (i = 0; i < r->n_warnings; i++)
        DTM__CLOG(c, dtm__once_level(&c->once[DTM__ONCE_WARNINGS]),
                  "server warning: %s", r->warnings[i]);
}

static int gzip_fallback(dtm_client *c, long status)
{
    pthread_mutex_lock(&c->mu);
    c->gzip = 0;
    pthread_mutex_unlock(&c->mu);
    DTM__CLOG(c, DTM_LOG_WARN,
              "HTTP %ld to a gzip body: the server does not take gzip; sending uncompressed", status);
    return OUT_AGAIN;
}

static int on_400(dtm_client *c, const dtm__http_result *res, int *rejected, dtm_status *worst)
{
    dtm__pending *p = &c->pend;
    size_t n = p->stack[p->depth - 1].hi - p->stack[p->depth - 1].lo;
    dtm__ingest_response r;
    dtm_status ps = parse_answer(c, res, &r);
    int report = ps == DTM_OK && (r.lines_ok >= 0 || r.lines_invalid >= 0 || r.n_invalid > 0);
    int64_t accepted;
    dtm_log_level level;

    if (!report) {
        if (c->t_gzip) {
            if (ps == DTM_OK)
                dtm__response_clear(&r);
            return gzip_fallback(c, 400);
        }
        pthread_mutex_lock(&c->mu);
        dtm__client_set_error_locked(c, DTM_EHTTP,
                                     "HTTP 400 without a validation report%s%.120s: %zu line(s) "
                                     "dropped (not resent: some may have been ingested)",
                                     ps == DTM_OK && r.error_message ? ": " : "",
                                     ps == DTM_OK && r.error_message ? r.error_message : "", n);
        pthread_mutex_unlock(&c->mu);
        DTM__CLOG(c, DTM_LOG_ERROR,
                  "HTTP 400 without a validation report: %zu line(s) dropped", n);
        if (ps == DTM_OK)
            dtm__response_clear(&r);
        settle_top(c, END_DROP_HTTP, 0);
        if (*worst == DTM_OK)
            *worst = DTM_EHTTP;
        return OUT_DONE;
    }
    if (r.lines_ok >= 0)
        accepted = r.lines_ok;
    else if (r.lines_invalid >= 0)
        accepted = (int64_t)n - r.lines_invalid;
    else
        accepted = (int64_t)n - (int64_t)r.n_invalid;
    if (accepted < 0)
        accepted = 0;
    if ((uint64_t)accepted > n)
        accepted = (int64_t)n;
    level = dtm__once_level(&c->once[DTM__ONCE_REJECTED]);
    DTM__CLOG(c, level,
              "the server rejected %lld of %zu line(s) (%zu itemised)%s%s",
              (long long)(n - (size_t)accepted), n, r.n_invalid, r.error_message ? ": " : "",
              r.error_message ? r.error_message : "");
    report_rejected(c, &r, level);
    log_warnings(c, &r);
    pthread_mutex_lock(&c->mu);
    dtm__client_set_error_locked(c, DTM_EREJECTED, "HTTP 400: %lld of %zu line(s) rejected%s%.120s",
                                 (long long)(n - (size_t)accepted), n,
                                 r.error_message ? ": " : "",
                                 r.error_message ? r.error_message : "");
    pthread_mutex_unlock(&c->mu);
    dtm__response_clear(&r);
    if ((size_t)accepted < n)
        *rejected = 1;
    settle_top(c, END_REJECTED, (uint64_t)accepted);
    return OUT_DONE;
}

static int on_2xx(dtm_client *c, const dtm__http_result *res)
{
    dtm__ingest_response r;
    if (res->status != 202) {
        char display[DTM__URL_DISPLAY_SIZE];
        pthread_mutex_lock(&c->mu);
        memcpy(display, c->ep.info.display, sizeof display);
        pthread_mutex_unlock(&c->mu);
        DTM__CLOG(c, dtm__once_level(&c->once[DTM__ONCE_2XX]),
                  "HTTP %ld instead of 202 from %s: is this the metrics ingest API (did you "
                  "forget /api/v2/metrics/ingest?) or a proxy?",
                  res->status, display);
    } else if (res->body_len &&
               parse_answer(c, res, &r) == DTM_OK) {
        log_warnings(c, &r);
        dtm__response_clear(&r);
    }
    pthread_mutex_lock(&c->mu);
    c->st.last_status = DTM_OK;
    pthread_mutex_unlock(&c->mu);
    dtm__client_once_reset(c, DTM__ONCE_RETRY);
    dtm__client_once_reset(c, DTM__ONCE_DROPPED);
    settle_top(c, END_OK, 0);
    return OUT_DONE;
}

static int on_413(dtm_client *c, dtm_status *worst)
{
    dtm__pending *p = &c->pend;
    uint32_t lo = p->stack[p->depth - 1].lo, hi = p->stack[p->depth - 1].hi, mid;
    if (hi - lo <= 1 || p->depth + 1 >= DTM__MAX_SPLIT_DEPTH) {
        pthread_mutex_lock(&c->mu);
        dtm__client_set_error_locked(c, DTM_EHTTP,
                                     "HTTP 413: a request of %u line(s) is still too large; "
                                     "dropped",
                                     (unsigned)(hi - lo));
        pthread_mutex_unlock(&c->mu);
        DTM__CLOG(c, DTM_LOG_ERROR,
                  "HTTP 413 for a request of %u line(s) (%zu bytes): dropped", (unsigned)(hi - lo),
                  range_bytes(p, lo, hi));
        settle_top(c, END_DROP_TOO_LARGE, 0);
        if (*worst == DTM_OK)
            *worst = DTM_EHTTP;
        return OUT_DONE;
    }
    DTM__CLOG(c, dtm__once_level(&c->once[DTM__ONCE_413]),
              "HTTP 413 for %u line(s): sending them in halves (lower batch_max_bytes?)",
              (unsigned)(hi - lo));
    mid = lo + (hi - lo) / 2;
    /* Replace the top by [lo, mid) on top of [mid, hi): order is kept. */
    p->stack[p->depth - 1].lo = mid;
    p->stack[p->depth].lo = lo;
    p->stack[p->depth].hi = mid;
    p->depth++;
    p->attempt = 0;
    p->fail_start = 0;
    p->next_try = 0;
    return OUT_AGAIN;
}

/* Post the top range once and act on the answer. */
static int send_top(dtm_client *c, int64_t deadline, int *rejected, dtm_status *worst)
{
    dtm__pending *p = &c->pend;
    size_t lo = p->stack[p->depth - 1].lo, hi = p->stack[p->depth - 1].hi;
    const char *body = p->body + p->off[lo];
    size_t len = p->off[hi - 1] + p->len[hi - 1] - p->off[lo];
    long timeout = c->request_timeout_ms;
    int64_t now = dtm__client_now(c);
    dtm__http_result res;
    char msg[DTM__ERRTEXT_SIZE], what[DTM__ERRTEXT_SIZE];
    dtm_status st;
    unsigned gen;

    if (deadline != DTM__NO_DEADLINE) {
        if (deadline - now <= 0)
            return OUT_DEADLINE;
        if (deadline - now < timeout)
            timeout = (long)(deadline - now);
    }
    st = make_transport(c, timeout, msg, sizeof msg);
    if (st != DTM_OK)
        return retry_or_drop(c, DTM_ETRANSPORT, -1, msg, worst);
    gen = c->t_gen;
    memset(&res, 0, sizeof res);
    res.retry_after_ms = -1;
    st = c->t->ops->post(c->t, body, len, &res);

    pthread_mutex_lock(&c->mu);
    c->st.requests++;
    if (p->attempt > 0)
        c->st.retries++;
    c->st.bytes_sent += len;
    if (res.status > 0)
        c->st.lines_sent += hi - lo;
    c->st.last_http_status = res.status;
    pthread_mutex_unlock(&c->mu);

    if (st != DTM_OK || res.status <= 0) {
        if (st == DTM_OK)
            st = DTM_ETRANSPORT;
        snprintf(what, sizeof what, "no answer from the server (%s%s%.160s)", dtm_strerror(st),
                 res.message[0] ? ": " : "", res.message);
        return retry_or_drop(c, st, -1, what, worst);
    }
    if (res.status >= 200 && res.status < 300)
        return on_2xx(c, &res);
    if (res.status == 400)
        return on_400(c, &res, rejected, worst);
    if ((res.status >= 300 && res.status < 400) || res.status == 401 || res.status == 403 ||
        res.status == 404 || res.status == 405) {
        dtm__ingest_response r;
        int parsed = res.body_len && parse_answer(c, &res, &r) == DTM_OK;
        int out = stop_sending(c, gen, res.status, parsed ? r.error_message : NULL);
        if (parsed)
            dtm__response_clear(&r);
        return out;
    }
    if (res.status == 413)
        return on_413(c, worst);
    if (res.status == 408 || res.status == 429 || res.status >= 500) {
        snprintf(what, sizeof what, "HTTP %ld%s", res.status,
                 res.status == 429 ? " (throttled)" : "");
        return retry_or_drop(c, DTM_EHTTP, res.retry_after_ms, what, worst);
    }
    if (res.status == 415 && c->t_gzip)
        return gzip_fallback(c, res.status);
    pthread_mutex_lock(&c->mu);
    dtm__client_set_error_locked(c, DTM_EHTTP, "unexpected HTTP %ld: %zu line(s) dropped",
                                 res.status, hi - lo);
    pthread_mutex_unlock(&c->mu);
    DTM__CLOG(c, DTM_LOG_ERROR, "unexpected HTTP %ld: %zu line(s) dropped", res.status,
              hi - lo);
    settle_top(c, END_DROP_HTTP, 0);
    if (*worst == DTM_OK)
        *worst = DTM_EHTTP;
    return OUT_DONE;
}

/* ---- delivery ---- */

/* Wait (sender) until `when` on the client clock; close and endpoint
   changes cut the wait short. */
static void wait_until(dtm_client *c, int64_t when)
{
    int64_t now = dtm__client_now(c);
    unsigned gen;
    int closing;
    if (when <= now)
        return;
    if (c->hooks.sleep_ms) {
        c->hooks.sleep_ms(c->hooks.ud, when - now);
        return;
    }
    pthread_mutex_lock(&c->mu);
    gen = c->ep_gen;
    closing = c->closing;
    while (c->ep_gen == gen && c->closing == closing) {
        struct timespec ts;
        dtm__timespec_at(dtm__mono_ms() + (when - dtm__client_now(c)), &ts);
        if (pthread_cond_timedwait(&c->wake_cv, &c->mu, &ts) == ETIMEDOUT)
            break;
    }
    pthread_mutex_unlock(&c->mu);
}

static void reread_endpoint_file(dtm_client *c)
{
    char *url = NULL, *token = NULL;
    int url_file, token_file, changed = 0;
    c->next_reread = dtm__client_now(c) + 60000;
    if (dtm__endpoint_file_read(c, &url, &token) != DTM_OK)
        return;
    pthread_mutex_lock(&c->mu);
    url_file = c->ep.url_from_file;
    token_file = c->ep.token_from_file;
    if (url_file && url && strcmp(url, c->ep.url) != 0)
        changed = 1;
    if (token_file && token && (!c->ep.token || strcmp(token, c->ep.token) != 0))
        changed = 1;
    pthread_mutex_unlock(&c->mu);
    if (changed) {
        DTM__CLOG(c, DTM_LOG_INFO, "endpoint file changed; applying it");
        dtm__client_replace_endpoint(c, url_file ? url : NULL, token_file ? token : NULL,
                                     token_file && token, 1);
    }
    dtm__free(url);
    dtm__secret_free(token);
}

/* Resume after a stop when the endpoint changed.  Returns 1 while stopped. */
static int check_stopped(dtm_client *c)
{
    int stopped;
    pthread_mutex_lock(&c->mu);
    if (c->stopped && c->stop_gen != c->ep_gen) {
        c->stopped = 0;
        c->st.last_status = DTM_OK;
    }
    stopped = c->stopped;
    pthread_mutex_unlock(&c->mu);
    return stopped;
}

static int64_t effective_deadline(dtm_client *c, int64_t deadline)
{
    int64_t d = deadline;
    pthread_mutex_lock(&c->mu);
    if (c->closing && c->close_deadline < d)
        d = c->close_deadline;
    pthread_mutex_unlock(&c->mu);
    return d;
}

/*
 * Deliver until `target` lines have been taken from the queue and settled,
 * the deadline passes, or sending is stopped.  With may_wait == 0 a retry
 * that is not due yet ends the call (the exporter thread waits itself).
 */
dtm_status dtm__deliver(dtm_client *c, int64_t deadline, uint64_t target, int may_wait)
{
    dtm__pending *p = &c->pend;
    int rejected = 0;
    dtm_status worst = DTM_OK;

    for (;;) {
        int64_t dl = effective_deadline(c, deadline), now;
        int out;
        uint64_t taken;
        if (check_stopped(c)) {
            int from_file;
            pthread_mutex_lock(&c->mu);
            from_file = c->read_endpoint_file && (c->ep.url_from_file || c->ep.token_from_file);
            pthread_mutex_unlock(&c->mu);
            if (!from_file || dtm__client_now(c) < c->next_reread)
                return DTM_EAUTH;
            reread_endpoint_file(c);
            if (check_stopped(c))
                return DTM_EAUTH;
        }
        if (p->n == 0) {
            pthread_mutex_lock(&c->mu);
            taken = c->taken;
            pthread_mutex_unlock(&c->mu);
            if (taken >= target || take_batch(c) == 0)
                break;
        }
        now = dtm__client_now(c);
        if (p->next_try > now) {
            if (!may_wait || p->next_try > dl)
                return p->last;
            wait_until(c, p->next_try);
            continue;
        }
        out = send_top(c, dl, &rejected, &worst);
        if (out == OUT_DEADLINE)
            return DTM_ETIMEOUT;
        if (out == OUT_STOP)
            return DTM_EAUTH;
    }
    if (worst != DTM_OK)
        return worst;
    return rejected ? DTM_EREJECTED : DTM_OK;
}
