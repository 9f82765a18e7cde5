/*
 * The public face of the instruments: handles on a client's series
 * registry (registry.c), created lazily by the first dtm_*_get, and the
 * collection the exporter runs every interval.
 */
#include "config.h"

#include <string.h>

#include "clientimpl.h"
#include "registry.h"

/* The public handle types are the series themselves. */
#define AS_SERIES(h) ((dtm__series *)(void *)(h))

void dtm_instrument_options_init(dtm_instrument_options *opts)
{
    if (opts)
        memset(opts, 0, sizeof *opts);
}

static dtm__registry *registry_of(dtm_client *c, dtm_status *st)
{
    dtm__registry *r;
    /* Creation and lookup path only: the lock is fine here. */
    pthread_mutex_lock(&c->mu);
    if (c->closed) {
        pthread_mutex_unlock(&c->mu);
        *st = DTM_ESTATE;
        return NULL;
    }
    if (!c->reg) {
        *st = dtm__registry_new(&r, c->ser, c->max_series, c->series_expiry);
        if (*st == DTM_OK)
            __atomic_store_n(&c->reg, r, __ATOMIC_RELEASE);
    }
    r = c->reg;
    pthread_mutex_unlock(&c->mu);
    return r;
}

static dtm_status get(dtm_client *c, dtm__series_kind kind, const char *name,
                      const dtm_dimension *dims, size_t n_dims, const dtm_instrument_options *opts,
                      void **out)
{
    dtm__metric_meta meta, *mp = NULL;
    dtm__registry *r;
    dtm__series *s = NULL;
    dtm_status st = DTM_OK;

    if (!out)
        return DTM_EINVAL;
    *out = NULL;
    if (!c || !name || (n_dims && !dims))
        return DTM_EINVAL;
    if (dtm__client_forked(c))
        return DTM_ESTATE;
    r = registry_of(c, &st);
    if (!r)
        return st;
    if (opts) {
        meta.unit = opts->unit;
        meta.description = opts->description;
        meta.display_name = opts->display_name;
        mp = &meta;
        if (kind == DTM__SERIES_GAUGE && opts->gauge_mode == DTM_GAUGE_LAST_VALUE)
            kind = DTM__SERIES_GAUGE_LAST;
        else if (kind == DTM__SERIES_GAUGE && opts->gauge_mode != DTM_GAUGE_SUMMARY)
            return DTM_EINVAL;
    }
    st = dtm__registry_get(r, kind, name, dims, n_dims, mp, &s);
    if (st == DTM_EFULL)
        DTM__CLOG(c, DTM_LOG_WARN, "series '%s' refused: the client's max_series (%zu) is reached",
                  name, c->max_series);
    *out = s;
    return st;
}

dtm_status dtm_counter_get(dtm_client *c, const char *name, const dtm_dimension *dims,
                           size_t n_dims, const dtm_instrument_options *opts, dtm_counter **out)
{
    return get(c, DTM__SERIES_COUNTER, name, dims, n_dims, opts, (void **)out);
}

dtm_status dtm_gauge_get(dtm_client *c, const char *name, const dtm_dimension *dims,
                         size_t n_dims, const dtm_instrument_options *opts, dtm_gauge **out)
{
    return get(c, DTM__SERIES_GAUGE, name, dims, n_dims, opts, (void **)out);
}

dtm_status dtm_summary_get(dtm_client *c, const char *name, const dtm_dimension *dims,
                           size_t n_dims, const dtm_instrument_options *opts, dtm_summary **out)
{
    return get(c, DTM__SERIES_SUMMARY, name, dims, n_dims, opts, (void **)out);
}

void dtm_counter_add(dtm_counter *h, double delta)
{
    if (h)
        dtm__series_add(AS_SERIES(h), delta);
}

void dtm_counter_add_int(dtm_counter *h, int64_t delta)
{
    if (h)
        dtm__series_add_int(AS_SERIES(h), delta);
}

void dtm_gauge_set(dtm_gauge *h, double value)
{
    if (h)
        dtm__series_set(AS_SERIES(h), value);
}

void dtm_summary_record(dtm_summary *h, double value)
{
    if (h)
        dtm__series_record(AS_SERIES(h), value);
}

void dtm_counter_release(dtm_counter *h)
{
    dtm__series_release(AS_SERIES(h));
}

void dtm_gauge_release(dtm_gauge *h)
{
    dtm__series_release(AS_SERIES(h));
}

void dtm_summary_release(dtm_summary *h)
{
    dtm__series_release(AS_SERIES(h));
}

/* ---- collection ---- */

static dtm_status sink(const char *line, size_t len, void *ud)
{
    return dtm_client_add_line((dtm_client *)ud, line, len);
}

/* Collect into the client's queue and count it. */
static dtm_status collect_at(dtm_client *c, int64_t ts)
{
    dtm__registry *r = __atomic_load_n(&c->reg, __ATOMIC_ACQUIRE);
    size_t n = 0;
    dtm_status st;
    if (!r)
        return DTM_OK;
    st = dtm__registry_collect(r, ts ? ts : dtm_now_ms(), sink, c, &n);
    if (st == DTM_OK) {
        __atomic_add_fetch(&c->collections, 1, __ATOMIC_RELAXED);
        __atomic_add_fetch(&c->lines_collected, n, __ATOMIC_RELAXED);
    }
    return st;
}

void dtm__client_collect(dtm_client *c)
{
    (void)collect_at(c, 0);
}

dtm_status dtm_metrics_collect(dtm_client *c, int64_t timestamp_ms)
{
    if (!c)
        return DTM_EINVAL;
    if (dtm__client_forked(c))
        return DTM_ESTATE;
    return collect_at(c, timestamp_ms);
}

dtm_status dtm_metrics_stats(dtm_client *c, dtm_metrics_statistics *st)
{
    dtm__registry *r;
    if (!c || !st)
        return DTM_EINVAL;
    memset(st, 0, sizeof *st);
    r = __atomic_load_n(&c->reg, __ATOMIC_ACQUIRE);
    if (r) {
        dtm__registry_stats rs;
        dtm__registry_stats_get(r, &rs);
        st->series = rs.series;
        st->series_refused = rs.refused;
        st->series_expired = rs.expired;
        st->invalid_values = rs.invalid_values;
    }
    st->collections = __atomic_load_n(&c->collections, __ATOMIC_RELAXED);
    st->lines_collected = __atomic_load_n(&c->lines_collected, __ATOMIC_RELAXED);
    return DTM_OK;
}
