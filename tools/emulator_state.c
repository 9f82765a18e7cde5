/*
 * dtmetrics-emulator: the state shared by all connection threads, behind one
 * mutex: statistics, the FIFO of injected faults, the ring of kept accepted
 * lines and the output stream.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "emulator.h"

dtm_status emu_state_init(emu_state *st, const emu_config *cfg, FILE *out, int out_close)
{
    pthread_condattr_t ca;
    memset(st, 0, sizeof *st);
    st->cfg = cfg;
    st->out = out;
    st->out_close = out_close;
    if (pthread_mutex_init(&st->mu, NULL) != 0)
        return DTM_ENOMEM;
    if (pthread_condattr_init(&ca) != 0) {
        pthread_mutex_destroy(&st->mu);
        return DTM_ENOMEM;
    }
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    if (pthread_cond_init(&st->cv, &ca) != 0) {
        pthread_condattr_destroy(&ca);
        pthread_mutex_destroy(&st->mu);
        return DTM_ENOMEM;
    }
    pthread_condattr_destroy(&ca);
    return DTM_OK;
}

static void ring_clear(emu_state *st)
{
    size_t i;
    for (i = 0; i < st->ring_count; i++)
        dtm__free(st->ring[(st->ring_head + i) % st->ring_cap].s);
    st->ring_head = st->ring_count = 0;
    st->ring_bytes = 0;
}

void emu_state_destroy(emu_state *st)
{
    ring_clear(st);
    dtm__free(st->ring);
    st->ring = NULL;
    st->ring_cap = 0;
    if (st->out) {
        fflush(st->out);
        if (st->out_close)
            fclose(st->out);
        st->out = NULL;
    }
    pthread_cond_destroy(&st->cv);
    pthread_mutex_destroy(&st->mu);
}

void emu_state_stop(emu_state *st)
{
    pthread_mutex_lock(&st->mu);
    st->stopping = 1;
    pthread_cond_broadcast(&st->cv);
    pthread_mutex_unlock(&st->mu);
}

void emu_state_sleep(emu_state *st, uint64_t ms)
{
    struct timespec until;
    if (ms == 0)
        return;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += (time_t)(ms / 1000);
    until.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&st->mu);
    while (!st->stopping)
        if (pthread_cond_timedwait(&st->cv, &st->mu, &until) == ETIMEDOUT)
            break;
    pthread_mutex_unlock(&st->mu);
}

/* ---- faults ---- */

int emu_state_take_fault(emu_state *st, emu_fault *f)
{
    int hit = 0;
    pthread_mutex_lock(&st->mu);
    if (st->n_faults) {
        emu_fault *head = &st->faults[st->fault_head];
        *f = *head;
        f->count = 1;
        hit = 1;
        if (--head->count == 0) {
            st->fault_head = (st->fault_head + 1) % EMU_MAX_FAULTS;
            st->n_faults--;
        }
    }
    pthread_mutex_unlock(&st->mu);
    return hit;
}

int emu_state_add_fault(emu_state *st, const emu_fault *f)
{
    int n = -1;
    pthread_mutex_lock(&st->mu);
    if (st->n_faults < EMU_MAX_FAULTS) {
        st->faults[(st->fault_head + st->n_faults) % EMU_MAX_FAULTS] = *f;
        n = (int)++st->n_faults;
    }
    pthread_mutex_unlock(&st->mu);
    return n;
}

void emu_state_clear_faults(emu_state *st)
{
    pthread_mutex_lock(&st->mu);
    st->fault_head = st->n_faults = 0;
    pthread_mutex_unlock(&st->mu);
}

/* ---- statistics ---- */

void emu_state_count_request(emu_state *st)
{
    pthread_mutex_lock(&st->mu);
    st->stats.requests++;
    pthread_mutex_unlock(&st->mu);
}

void emu_state_count_answer(emu_state *st, unsigned status, uint64_t wire, uint64_t decoded)
{
    pthread_mutex_lock(&st->mu);
    if (status < EMU_STATUS_MAX)
        st->stats.by_status[status]++;
    st->stats.bytes += wire;
    st->stats.bytes_decoded += decoded;
    pthread_mutex_unlock(&st->mu);
}

void emu_state_count_drop(emu_state *st, uint64_t wire, uint64_t decoded)
{
    pthread_mutex_lock(&st->mu);
    st->stats.dropped++;
    st->stats.bytes += wire;
    st->stats.bytes_decoded += decoded;
    pthread_mutex_unlock(&st->mu);
}

/* ---- kept lines ---- */

static void ring_pop(emu_state *st)
{
    emu_slot *old = &st->ring[st->ring_head];
    st->ring_bytes -= old->n;
    dtm__free(old->s);
    old->s = NULL;
    st->ring_head = (st->ring_head + 1) % st->ring_cap;
    st->ring_count--;
    st->stats.lines_evicted++;
}

/* Make room for one more slot, growing the array up to keep_lines. */
static int ring_grow(emu_state *st)
{
    size_t cap, i;
    emu_slot *slots;
    if (st->ring_count < st->ring_cap)
        return 0;
    cap = st->ring_cap ? st->ring_cap * 2 : 1024;
    if (cap > st->cfg->keep_lines)
        cap = (size_t)st->cfg->keep_lines;
    if (cap <= st->ring_cap)
        return -1;
    slots = dtm__calloc(cap, sizeof *slots);
    if (!slots)
        return -1;
    for (i = 0; i < st->ring_count; i++)
        slots[i] = st->ring[(st->ring_head + i) % st->ring_cap];
    dtm__free(st->ring);
    st->ring = slots;
    st->ring_cap = cap;
    st->ring_head = 0;
    return 0;
}

/* Returns 0, or -1 when the line is not kept (counted as evicted). */
static int ring_push(emu_state *st, const char *s, size_t n)
{
    const emu_config *cfg = st->cfg;
    char *copy;
    if (cfg->keep_lines == 0 || n > cfg->keep_bytes) {
        st->stats.lines_evicted++;
        return 0;
    }
    while (st->ring_count &&
           (st->ring_count >= cfg->keep_lines || st->ring_bytes + n > cfg->keep_bytes))
        ring_pop(st);
    copy = dtm__strndup(s, n);
    if (!copy || ring_grow(st) != 0) {
        dtm__free(copy);
        st->stats.lines_evicted++;
        return -1;
    }
    st->ring[(st->ring_head + st->ring_count) % st->ring_cap].s = copy;
    st->ring[(st->ring_head + st->ring_count) % st->ring_cap].n = n;
    st->ring_count++;
    st->ring_bytes += n;
    return 0;
}

dtm_status emu_state_commit(emu_state *st, const char *body, const emu_verdict *v)
{
    dtm_status rc = DTM_OK;
    size_t i;
    int err = 0;
    pthread_mutex_lock(&st->mu);
    st->stats.lines_ok += v->lines_ok;
    st->stats.lines_invalid += v->lines_invalid;
    for (i = 0; i < v->n_accepted; i++) {
        const char *s = body + v->accepted[i].off;
        size_t n = v->accepted[i].len;
        if (st->out && !st->out_failed) {
            if (fwrite(s, 1, n, st->out) != n || putc('\n', st->out) == EOF) {
                err = errno;
                st->out_failed = 1;
            }
        }
        if (ring_push(st, s, n) != 0)
            rc = DTM_ENOMEM;
    }
    if (st->out && !st->out_failed && v->n_accepted && fflush(st->out) != 0) {
        err = errno;
        st->out_failed = 1;
    }
    if (st->out_failed == 1) {
        st->out_failed = 2;
        fprintf(stderr, "%s: writing accepted lines failed: %s; no more lines are written\n",
                EMU_PROGRAM, strerror(err));
    }
    pthread_mutex_unlock(&st->mu);
    return rc;
}

void emu_state_reset(emu_state *st)
{
    pthread_mutex_lock(&st->mu);
    ring_clear(st);
    memset(&st->stats, 0, sizeof st->stats);
    st->fault_head = st->n_faults = 0;
    pthread_mutex_unlock(&st->mu);
}

/* ---- snapshots ---- */

void emu_state_lines(emu_state *st, emu_buf *b)
{
    size_t i;
    pthread_mutex_lock(&st->mu);
    emu_buf_put(b, "", 0);
    for (i = 0; i < st->ring_count && !b->failed; i++) {
        const emu_slot *slot = &st->ring[(st->ring_head + i) % st->ring_cap];
        emu_buf_put(b, slot->s, slot->n);
        emu_buf_put(b, "\n", 1);
    }
    pthread_mutex_unlock(&st->mu);
}

static void json_field(emu_buf *b, const char *name, uint64_t v)
{
    emu_buf_puts(b, name);
    emu_buf_putu(b, v);
}

void emu_state_stats_json(emu_state *st, emu_buf *b)
{
    const emu_stats *s = &st->stats;
    uint64_t pending = 0;
    size_t i;
    int first = 1;
    pthread_mutex_lock(&st->mu);
    for (i = 0; i < st->n_faults; i++)
        pending += st->faults[(st->fault_head + i) % EMU_MAX_FAULTS].count;
    json_field(b, "{\"requests\":", s->requests);
    json_field(b, ",\"lines_ok\":", s->lines_ok);
    json_field(b, ",\"lines_invalid\":", s->lines_invalid);
    json_field(b, ",\"bytes\":", s->bytes);
    json_field(b, ",\"bytes_decoded\":", s->bytes_decoded);
    json_field(b, ",\"dropped\":", s->dropped);
    json_field(b, ",\"lines_kept\":", st->ring_count);
    json_field(b, ",\"lines_evicted\":", s->lines_evicted);
    json_field(b, ",\"faults_pending\":", pending);
    emu_buf_puts(b, ",\"status\":{");
    for (i = 0; i < EMU_STATUS_MAX; i++) {
        if (!s->by_status[i])
            continue;
        emu_buf_puts(b, first ? "\"" : ",\"");
        emu_buf_putu(b, i);
        json_field(b, "\":", s->by_status[i]);
        first = 0;
    }
    emu_buf_puts(b, "}}\n");
    pthread_mutex_unlock(&st->mu);
}
