/*
 * Who sends when: the exporter thread of background mode (interval with
 * jitter, early wake on a full batch, flush requests, the final flush),
 * and manual-mode flush and close on the caller's thread.  The sending
 * itself is dtm__deliver (export.c).
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

#include "clientimpl.h"

/* ---- manual mode ---- */
static dtm_status manual_begin(dtm_client *c, int64_t real_deadline)
{
    while (c->sending) {
        struct timespec ts;
        dtm__timespec_at(real_deadline, &ts);
        if (pthread_cond_timedwait(&c->done_cv, &c->mu, &ts) == ETIMEDOUT && c->sending)
            return DTM_ETIMEOUT;
    }
    c->sending = 1;
    return DTM_OK;
}

static void manual_end(dtm_client *c)
{
    c->sending = 0;
    pthread_cond_broadcast(&c->done_cv);
}

/* ---- background mode ---- */
static int64_t next_tick(dtm_client *c, int64_t now)
{
    int64_t j = 0;
    if (c->jitter_ms > 0)
        j = (int64_t)(dtm__client_rand(c) % (uint32_t)(2 * c->jitter_ms + 1)) - c->jitter_ms;
    return now + c->interval_ms + j;
}

static void *exporter_main(void *arg)
{
    dtm_client *c = arg;
    int64_t tick_at = next_tick(c, dtm__client_now(c));
    dtm_status st;
    uint64_t target;
    int64_t dl;

    pthread_mutex_lock(&c->mu);
    while (!c->closing) {
        int64_t now = dtm__client_now(c);
        dtm__pending *p = &c->pend;
        int backoff = p->n && p->next_try > now;
        int full = !c->stopped && !backoff &&
                   (c->q.count >= c->batch_lines || c->q.payload + c->q.count >= c->batch_bytes);
        int tick = now >= tick_at;
        uint64_t req = c->flush_req;
        int want_flush = req > c->flush_done;
        int resumable = c->stopped && c->stop_gen != c->ep_gen;
        int retry_due = p->n && !c->stopped && !backoff;
        int reread = c->stopped && (c->ep.url_from_file || c->ep.token_from_file) &&
                     c->read_endpoint_file && now >= c->next_reread;

        if (!full && !tick && !want_flush && !resumable && !retry_due && !reread) {
            int64_t wake = tick_at;
            struct timespec ts;
            if (backoff && !c->stopped && p->next_try < wake)
                wake = p->next_try;
            if (c->stopped && c->read_endpoint_file && c->next_reread < wake)
                wake = c->next_reread;
            dtm__timespec_at(dtm__mono_ms() + (wake - now), &ts);
            c->idle = 1;
            c->wake_sent = 0;
            pthread_cond_timedwait(&c->wake_cv, &c->mu, &ts);
            c->idle = 0;
            continue;
        }
        dl = want_flush ? c->flush_deadline : DTM__NO_DEADLINE;
        if (tick || want_flush || resumable || retry_due)
            target = c->taken + c->q.count;
        else /* early wake: only the full batches */
            target = c->taken + (c->q.count >= c->batch_lines
                                     ? (c->q.count / c->batch_lines) * c->batch_lines
                                     : 1);
        pthread_mutex_unlock(&c->mu);
        st = dtm__deliver(c, dl, target, want_flush);
        pthread_mutex_lock(&c->mu);
        if (tick)
            tick_at = next_tick(c, dtm__client_now(c));
        if (want_flush) {
            c->flush_done = req;
            c->flush_status = st;
            pthread_cond_broadcast(&c->done_cv);
        }
    }
    /* Final flush, bounded by close's deadline. */
    target = c->taken + c->q.count;
    dl = c->close_deadline;
    pthread_mutex_unlock(&c->mu);
    st = dtm__deliver(c, dl, target, 1);
    pthread_mutex_lock(&c->mu);
    c->close_status = st;
    c->thread_done = 1;
    pthread_cond_broadcast(&c->done_cv);
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

dtm_status dtm__export_start(dtm_client *c)
{
    sigset_t all, old;
    int rc;
    /* The thread starts with every signal blocked: the application's
       signals (and SIGPIPE from a dead connection) never land on it. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = pthread_create(&c->thread, NULL, exporter_main, c);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0)
        return DTM_ENOMEM;
    c->thread_started = 1;
    return DTM_OK;
}

dtm_status dtm__export_flush(dtm_client *c, long timeout_ms)
{
    int64_t real_deadline, deadline;
    dtm_status st;
    uint64_t target, mine;

    if (timeout_ms > 3600000L)
        timeout_ms = 3600000L;
    real_deadline = dtm__mono_ms() + timeout_ms;
    deadline = dtm__client_now(c) + timeout_ms;
    pthread_mutex_lock(&c->mu);
    if (c->closed) {
        pthread_mutex_unlock(&c->mu);
        return DTM_ESTATE;
    }
    if (c->mode == DTM_CLIENT_BACKGROUND) {
        mine = ++c->flush_req;
        c->flush_deadline = deadline;
        pthread_cond_signal(&c->wake_cv);
        while (c->flush_done < mine && !c->thread_done) {
            struct timespec ts;
            dtm__timespec_at(real_deadline, &ts);
            if (pthread_cond_timedwait(&c->done_cv, &c->mu, &ts) == ETIMEDOUT)
                break;
        }
        st = c->flush_done >= mine ? c->flush_status
                                   : (c->thread_done ? DTM_ESTATE : DTM_ETIMEOUT);
        pthread_mutex_unlock(&c->mu);
        return st;
    }
    st = manual_begin(c, real_deadline);
    target = c->taken + c->q.count;
    pthread_mutex_unlock(&c->mu);
    if (st != DTM_OK)
        return st;
    st = dtm__deliver(c, deadline, target, 1);
    pthread_mutex_lock(&c->mu);
    manual_end(c);
    pthread_mutex_unlock(&c->mu);
    return st;
}

dtm_status dtm__export_close(dtm_client *c, long timeout_ms)
{
    int64_t real_deadline;
    dtm_status st;

    if (timeout_ms > 3600000L)
        timeout_ms = 3600000L;
    real_deadline = dtm__mono_ms() + timeout_ms;
    pthread_mutex_lock(&c->mu);
    if (c->closed) {
        pthread_mutex_unlock(&c->mu);
        return DTM_ESTATE;
    }
    c->closed = 1;
    c->closing = 1;
    c->close_deadline = dtm__client_now(c) + timeout_ms;
    pthread_cond_broadcast(&c->wake_cv);
    pthread_cond_broadcast(&c->space_cv);
    if (c->thread_started) {
        while (!c->thread_done) {
            struct timespec ts;
            dtm__timespec_at(real_deadline, &ts);
            if (pthread_cond_timedwait(&c->done_cv, &c->mu, &ts) == ETIMEDOUT)
                break;
        }
        if (!c->thread_done) /* abandon the transfer in flight */
            __atomic_store_n(&c->cancel, 1, __ATOMIC_RELAXED);
        pthread_mutex_unlock(&c->mu);
        pthread_join(c->thread, NULL);
        pthread_mutex_lock(&c->mu);
        c->thread_started = 0;
        st = c->close_status;
    } else {
        if (manual_begin(c, real_deadline) != DTM_OK) {
            /* Another thread is still sending (a documented misuse): make it
               give up, then take over. */
            __atomic_store_n(&c->cancel, 1, __ATOMIC_RELAXED);
            while (c->sending)
                pthread_cond_wait(&c->done_cv, &c->mu);
            c->sending = 1;
        }
        pthread_mutex_unlock(&c->mu);
        st = dtm__deliver(c, c->close_deadline, UINT64_MAX, 1);
        pthread_mutex_lock(&c->mu);
        manual_end(c);
    }
    if (c->q.count + c->inflight > 0) {
        uint64_t n = c->q.count + c->inflight;
        dtm__drop_all_locked(c);
        if (st == DTM_OK)
            st = DTM_ETIMEOUT;
        /* Keep the text of an earlier problem: it says why. */
        if (c->st.last_status == DTM_OK)
            dtm__client_set_error_locked(c, st,
                                         "closed with %llu line(s) undelivered (dropped)",
                                         (unsigned long long)n);
    }
    pthread_mutex_unlock(&c->mu);
    dtm__export_free(c);
    return st;
}
