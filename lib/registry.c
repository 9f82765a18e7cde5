/*
 * The series registry and the recording cells (see registry.h).
 *
 * Recording cells, per kind:
 *  - counter: an int64 and a double accumulator, each updated with one
 *    atomic read-modify-write; the collector swaps them with zero, so every
 *    increment lands in exactly one interval.
 *  - last-value gauge: the value's bits and a "set" flag, plain atomic
 *    stores; the collector swaps the flag.
 *  - summary (and the default gauge): min and max (extended with a
 *    compare-and-swap only when a value lies outside them, so usually just
 *    a load) and the pair (count, sum) updated together by one 16-byte
 *    compare-and-swap.  The writer extends min/max BEFORE it adds to the
 *    pair, and the collector swaps the pair before it resets min/max, so a
 *    snapshot's min/max can only be wider than its values, never narrower.
 *    A value racing with the collector may have its min/max effect in one
 *    interval and its (count, sum) in the next; the collector then widens
 *    that interval's min/max to the average, which keeps every line
 *    consistent (min <= sum/count <= max) and the totals exact.  Where the
 *    CPU has no 16-byte CAS, a per-series spin flag guards the pair.
 */
#include "config.h"

#include <pthread.h>
#include <string.h>

#include "registry.h"
#include "serialize.h"

#if defined(__GCC_HAVE_SYNC_COMPARE_AND_SWAP_16) && defined(__SIZEOF_INT128__)
#define DTM__HAVE_CAS16 1
#else
#define DTM__HAVE_CAS16 0
#endif

typedef struct pair {
    uint64_t count;
    double sum;
} pair;

#if DTM__HAVE_CAS16
typedef union pair_cell {
    unsigned __int128 v;
    pair p;
    uint64_t w[2];
} pair_cell;

/* The first read before a compare-and-swap: two atomic 8-byte loads.  A
   torn pair is harmless (the CAS compares all 16 bytes and returns the
   real value), and atomic loads keep the race defined (and TSan quiet). */
static inline unsigned __int128 load_cell(pair_cell *pc)
{
    pair_cell v;
    v.w[0] = __atomic_load_n(&pc->w[0], __ATOMIC_RELAXED);
    v.w[1] = __atomic_load_n(&pc->w[1], __ATOMIC_RELAXED);
    return v.v;
}
#endif

struct dtm__series {
    /* recording cells first: the struct is cache-line aligned */
    union {
        struct {
            int64_t i;
            uint64_t d; /* bits of a double */
        } counter;
        struct {
            uint64_t bits;
            int set;
        } last;
        struct {
#if DTM__HAVE_CAS16
            pair_cell pc;
#else
            pair p;
            int lock;
#endif
            uint64_t min, max; /* bits of doubles */
        } sum;
    } c;
    dtm__registry *reg;
    dtm__series_kind kind;
    int refs;          /* atomic */
    unsigned idle;     /* intervals without data (collector only) */
    uint64_t hash;
    dtm__series *next; /* hash chain */
    void *raw;         /* what dtm__malloc returned */
    size_t id_len, id_units;
    char id[];         /* "key,dims" */
};

typedef struct meta_rec {
    struct meta_rec *next;
    char *name, *unit, *description, *display_name;
    dtm_metric_type type;
    int sent;
} meta_rec;

struct dtm__registry {
    pthread_mutex_t lock;
    const dtm_serializer *ser;
    dtm__series **buckets;
    size_t n_buckets; /* power of two */
    size_t n_series, max_series;
    unsigned expiry;
    meta_rec *metas;
    char *line;       /* collection buffer */
    size_t line_cap;
    uint64_t refused, invalid_values, expired, sink_errors; /* atomic */
};

/* ---- doubles in atomics ---- */

static inline uint64_t dbits(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

static inline double bitsd(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

static inline int is_finite(double v)
{
    return v >= -1.7976931348623157e308 && v <= 1.7976931348623157e308;
}

static const double pos_inf = 1e308 * 10.0;

/* ---- recording ---- */

static void count_invalid(dtm__series *s)
{
    __atomic_add_fetch(&s->reg->invalid_values, 1, __ATOMIC_RELAXED);
}

void dtm__series_add_int(dtm__series *s, int64_t delta)
{
    /* Wrap-around is defined for the unsigned view; a counter that overflows
       int64 within one interval is beyond any sane use. */
    __atomic_add_fetch((uint64_t *)&s->c.counter.i, (uint64_t)delta, __ATOMIC_RELAXED);
}

void dtm__series_add(dtm__series *s, double delta)
{
    uint64_t old, nv;
    if (DTM__UNLIKELY(!is_finite(delta))) {
        count_invalid(s);
        return;
    }
    old = __atomic_load_n(&s->c.counter.d, __ATOMIC_RELAXED);
    do {
        nv = dbits(bitsd(old) + delta);
    } while (!__atomic_compare_exchange_n(&s->c.counter.d, &old, nv, 1, __ATOMIC_RELAXED,
                                          __ATOMIC_RELAXED));
}

void dtm__series_set(dtm__series *s, double value)
{
    if (s->kind != DTM__SERIES_GAUGE_LAST) {
        dtm__series_record(s, value);
        return;
    }
    if (DTM__UNLIKELY(!is_finite(value))) {
        count_invalid(s);
        return;
    }
    __atomic_store_n(&s->c.last.bits, dbits(value), __ATOMIC_RELAXED);
    __atomic_store_n(&s->c.last.set, 1, __ATOMIC_RELEASE);
}

static inline void extend_min(uint64_t *cell, double v)
{
    uint64_t cur = __atomic_load_n(cell, __ATOMIC_RELAXED);
    while (v < bitsd(cur))
        if (__atomic_compare_exchange_n(cell, &cur, dbits(v), 1, __ATOMIC_SEQ_CST,
                                        __ATOMIC_RELAXED))
            break;
}

static inline void extend_max(uint64_t *cell, double v)
{
    uint64_t cur = __atomic_load_n(cell, __ATOMIC_RELAXED);
    while (v > bitsd(cur))
        if (__atomic_compare_exchange_n(cell, &cur, dbits(v), 1, __ATOMIC_SEQ_CST,
                                        __ATOMIC_RELAXED))
            break;
}

void dtm__series_record(dtm__series *s, double value)
{
    if (s->kind == DTM__SERIES_GAUGE_LAST) {
        dtm__series_set(s, value);
        return;
    }
    if (DTM__UNLIKELY(!is_finite(value))) {
        count_invalid(s);
        return;
    }
    extend_min(&s->c.sum.min, value);
    extend_max(&s->c.sum.max, value);
#if DTM__HAVE_CAS16
    {
        pair_cell old, nv;
        old.v = load_cell(&s->c.sum.pc);
        for (;;) {
            unsigned __int128 seen;
            nv.p.count = old.p.count + 1;
            nv.p.sum = old.p.sum + value;
            seen = __sync_val_compare_and_swap(&s->c.sum.pc.v, old.v, nv.v);
            if (seen == old.v)
                break;
            old.v = seen;
        }
    }
#else
    while (__atomic_exchange_n(&s->c.sum.lock, 1, __ATOMIC_ACQUIRE))
        while (__atomic_load_n(&s->c.sum.lock, __ATOMIC_RELAXED))
            ;
    s->c.sum.p.count++;
    s->c.sum.p.sum += value;
    __atomic_store_n(&s->c.sum.lock, 0, __ATOMIC_RELEASE);
#endif
}

static pair take_pair(dtm__series *s)
{
#if DTM__HAVE_CAS16
    pair_cell old, zero;
    memset(&zero, 0, sizeof zero);
    old.v = load_cell(&s->c.sum.pc);
    for (;;) {
        unsigned __int128 seen = __sync_val_compare_and_swap(&s->c.sum.pc.v, old.v, zero.v);
        if (seen == old.v)
            break;
        old.v = seen;
    }
    return old.p;
#else
    pair p;
    while (__atomic_exchange_n(&s->c.sum.lock, 1, __ATOMIC_ACQUIRE))
        ;
    p = s->c.sum.p;
    s->c.sum.p.count = 0;
    s->c.sum.p.sum = 0;
    __atomic_store_n(&s->c.sum.lock, 0, __ATOMIC_RELEASE);
    return p;
#endif
}

static void reset_cells(dtm__series *s)
{
    memset(&s->c, 0, sizeof s->c);
    if (s->kind == DTM__SERIES_GAUGE || s->kind == DTM__SERIES_SUMMARY) {
        s->c.sum.min = dbits(pos_inf);
        s->c.sum.max = dbits(-pos_inf);
    }
}

/* ---- the registry ---- */

dtm_status dtm__registry_new(dtm__registry **out, const dtm_serializer *s, size_t max_series,
                             unsigned expiry_intervals)
{
    dtm__registry *r;
    size_t nb = 64;
    if (!out || !s)
        return DTM_EINVAL;
    *out = NULL;
    if (max_series == 0)
        max_series = DTM__DEFAULT_MAX_SERIES;
    while (nb < max_series && nb < ((size_t)1 << 20))
        nb <<= 1;
    r = dtm__calloc(1, sizeof *r);
    if (!r)
        return DTM_ENOMEM;
    r->buckets = dtm__calloc(nb, sizeof *r->buckets);
    /* The longest identity is about 44 KiB; the payload adds little. */
    r->line_cap = 64 * 1024;
    r->line = dtm__malloc(r->line_cap);
    if (!r->buckets || !r->line || pthread_mutex_init(&r->lock, NULL) != 0) {
        dtm__free(r->buckets);
        dtm__free(r->line);
        dtm__free(r);
        return DTM_ENOMEM;
    }
    r->n_buckets = nb;
    r->ser = s;
    r->max_series = max_series;
    r->expiry = expiry_intervals;
    *out = r;
    return DTM_OK;
}

static void meta_free(meta_rec *m)
{
    dtm__free(m->name);
    dtm__free(m->unit);
    dtm__free(m->description);
    dtm__free(m->display_name);
    dtm__free(m);
}

void dtm__registry_free(dtm__registry *r)
{
    size_t i;
    if (!r)
        return;
    for (i = 0; i < r->n_buckets; i++) {
        dtm__series *s = r->buckets[i];
        while (s) {
            dtm__series *next = s->next;
            dtm__free(s->raw);
            s = next;
        }
    }
    while (r->metas) {
        meta_rec *m = r->metas;
        r->metas = m->next;
        meta_free(m);
    }
    pthread_mutex_destroy(&r->lock);
    dtm__free(r->buckets);
    dtm__free(r->line);
    dtm__free(r);
}

static uint64_t hash_bytes(const char *p, size_t n)
{
    /* FNV-1a: short keys, creation path only. */
    uint64_t h = UINT64_C(1469598103934665603);
    size_t i;
    for (i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= UINT64_C(1099511628211);
    }
    return h;
}

/* Serialize the identity into a fresh buffer (two passes: measure, write). */
static dtm_status make_identity(const dtm_serializer *ser, const char *name,
                                const dtm_dimension *dims, size_t n_dims, char **out,
                                size_t *len, size_t *units)
{
    dtm__writer w;
    dtm_status st;
    char *buf;
    size_t nlen = strlen(name);
    dtm__writer_init(&w, NULL, 0);
    st = dtm__serialize_identity(ser, name, nlen, dims, n_dims, &w);
    if (st != DTM_OK)
        return st;
    buf = dtm__malloc(w.len + 1);
    if (!buf)
        return DTM_ENOMEM;
    dtm__writer_init(&w, buf, w.len + 1);
    st = dtm__serialize_identity(ser, name, nlen, dims, n_dims, &w);
    if (st == DTM_OK)
        st = dtm__writer_finish(&w, len);
    if (st != DTM_OK) {
        dtm__free(buf);
        return st;
    }
    *units = w.units;
    *out = buf;
    return DTM_OK;
}

static int meta_wanted(const dtm__metric_meta *m)
{
    return m && ((m->unit && m->unit[0]) || (m->description && m->description[0])
                 || (m->display_name && m->display_name[0]));
}

/* Remember the metadata of a metric key (first one wins, like the server). */
static dtm_status meta_note(dtm__registry *r, const char *name, dtm__series_kind kind,
                            const dtm__metric_meta *m)
{
    meta_rec *rec;
    for (rec = r->metas; rec; rec = rec->next)
        if (strcmp(rec->name, name) == 0)
            return DTM_OK;
    rec = dtm__calloc(1, sizeof *rec);
    if (!rec)
        return DTM_ENOMEM;
    rec->name = dtm__strdup(name);
    rec->unit = dtm__strdup(m->unit);
    rec->description = dtm__strdup(m->description);
    rec->display_name = dtm__strdup(m->display_name);
    rec->type = kind == DTM__SERIES_COUNTER ? DTM_METRIC_COUNTER : DTM_METRIC_GAUGE;
    if (!rec->name || (m->unit && !rec->unit) || (m->description && !rec->description)
        || (m->display_name && !rec->display_name)) {
        meta_free(rec);
        return DTM_ENOMEM;
    }
    rec->next = r->metas;
    r->metas = rec;
    return DTM_OK;
}

dtm_status dtm__registry_get(dtm__registry *r, dtm__series_kind kind, const char *name,
                             const dtm_dimension *dims, size_t n_dims, const dtm__metric_meta *meta,
                             dtm__series **out)
{
    char *id;
    size_t len, units, b;
    uint64_t h;
    dtm__series *s;
    dtm_status st;

    if (!r || !name || !out || (n_dims && !dims) || (unsigned)kind > DTM__SERIES_SUMMARY)
        return DTM_EINVAL;
    *out = NULL;
    st = make_identity(r->ser, name, dims, n_dims, &id, &len, &units);
    if (st != DTM_OK)
        return st;
    h = hash_bytes(id, len);
    b = (size_t)h & (r->n_buckets - 1);

    pthread_mutex_lock(&r->lock);
    for (s = r->buckets[b]; s; s = s->next)
        if (s->hash == h && s->id_len == len && memcmp(s->id, id, len) == 0)
            break;
    if (s) {
        if (s->kind != kind)
            st = DTM_EINVAL;
    } else if (r->n_series >= r->max_series) {
        __atomic_add_fetch(&r->refused, 1, __ATOMIC_RELAXED);
        st = DTM_EFULL;
    } else {
        void *raw = dtm__malloc(sizeof *s + len + 1 + 63);
        if (!raw) {
            st = DTM_ENOMEM;
        } else {
            s = (dtm__series *)(((uintptr_t)raw + 63) & ~(uintptr_t)63);
            memset(s, 0, sizeof *s);
            s->raw = raw;
            s->reg = r;
            s->kind = kind;
            s->hash = h;
            s->id_len = len;
            s->id_units = units;
            memcpy(s->id, id, len + 1);
            reset_cells(s);
            if (meta_wanted(meta))
                st = meta_note(r, name, kind, meta);
            if (st != DTM_OK) {
                dtm__free(raw);
                s = NULL;
            } else {
                s->next = r->buckets[b];
                r->buckets[b] = s;
                r->n_series++;
            }
        }
    }
    if (st == DTM_OK) {
        __atomic_add_fetch(&s->refs, 1, __ATOMIC_RELAXED);
        *out = s;
    }
    pthread_mutex_unlock(&r->lock);
    dtm__free(id);
    return st;
}

void dtm__series_release(dtm__series *s)
{
    if (s)
        __atomic_sub_fetch(&s->refs, 1, __ATOMIC_RELEASE);
}

/* ---- collection ---- */

/* Append this interval's payload; returns 0 when the series has nothing. */
static int take_payload(dtm__registry *r, dtm__series *s, dtm__writer *w)
{
    switch (s->kind) {
    case DTM__SERIES_COUNTER: {
        int64_t i = (int64_t)__atomic_exchange_n((uint64_t *)&s->c.counter.i, 0, __ATOMIC_ACQ_REL);
        double d = bitsd(__atomic_exchange_n(&s->c.counter.d, 0, __ATOMIC_ACQ_REL));
        if (d != 0)
            dtm__payload_counter(w, d + (double)i);
        else if (i != 0)
            dtm__payload_counter_int(w, i);
        else
            return 0;
        return 1;
    }
    case DTM__SERIES_GAUGE_LAST:
        if (!__atomic_exchange_n(&s->c.last.set, 0, __ATOMIC_ACQUIRE))
            return 0;
        dtm__payload_gauge(w, bitsd(__atomic_load_n(&s->c.last.bits, __ATOMIC_RELAXED)));
        return 1;
    case DTM__SERIES_GAUGE:
    case DTM__SERIES_SUMMARY: {
        pair p = take_pair(s);
        double mn = bitsd(__atomic_exchange_n(&s->c.sum.min, dbits(pos_inf), __ATOMIC_SEQ_CST));
        double mx = bitsd(__atomic_exchange_n(&s->c.sum.max, dbits(-pos_inf), __ATOMIC_SEQ_CST));
        double avg;
        if (p.count == 0)
            return 0;
        avg = p.sum / (double)p.count;
        /* See the top of the file: racing values and rounding of the sum
           can leave the average a hair outside [min, max]. */
        if (mn > avg)
            mn = avg;
        if (mx < avg)
            mx = avg;
        if (p.count > (uint64_t)INT64_MAX
            || dtm__summary_check(mn, mx, p.sum, (int64_t)p.count) != DTM_OK) {
            /* The sum overflowed to infinity: nothing sendable. */
            __atomic_add_fetch(&r->invalid_values, p.count, __ATOMIC_RELAXED);
            return 0;
        }
        dtm__payload_summary(w, mn, mx, p.sum, (int64_t)p.count);
        return 1;
    }
    }
    return 0;
}

static void collect_metas(dtm__registry *r, dtm__line_sink sink, void *ud, size_t *n)
{
    meta_rec *m;
    for (m = r->metas; m; m = m->next) {
        size_t len;
        if (m->sent)
            continue;
        m->sent = 1;
        if (dtm_serialize_metadata(r->ser, m->name, m->type, m->description, m->unit,
                                   m->display_name, r->line, r->line_cap, &len)
                != DTM_OK
            || len == 0)
            continue;
        if (sink(r->line, len, ud) == DTM_OK)
            (*n)++;
        else
            __atomic_add_fetch(&r->sink_errors, 1, __ATOMIC_RELAXED);
    }
}

dtm_status dtm__registry_collect(dtm__registry *r, int64_t ts, dtm__line_sink sink, void *ud,
                                 size_t *n_lines)
{
    size_t b, n = 0;
    char tsbuf[DTM_NUMBER_BUFSIZE + 1];
    dtm__writer tw;
    if (!r || !sink)
        return DTM_EINVAL;
    /* One timestamp for the whole collection: written (and judged) once. */
    dtm__writer_init(&tw, tsbuf, sizeof tsbuf);
    dtm__payload_timestamp(r->ser, &tw, ts);
    pthread_mutex_lock(&r->lock);
    collect_metas(r, sink, ud, &n);
    for (b = 0; b < r->n_buckets; b++) {
        dtm__series **link = &r->buckets[b];
        while (*link) {
            dtm__series *s = *link;
            dtm__writer w;
            size_t len;
            dtm__writer_init(&w, r->line, r->line_cap);
            dtm__writer_put(&w, s->id, s->id_len, s->id_units);
            if (take_payload(r, s, &w)) {
                s->idle = 0;
                dtm__writer_put(&w, tsbuf, tw.len, tw.units);
                if (dtm__writer_finish(&w, &len) == DTM_OK && sink(r->line, len, ud) == DTM_OK)
                    n++;
                else
                    __atomic_add_fetch(&r->sink_errors, 1, __ATOMIC_RELAXED);
            } else if (r->expiry && ++s->idle >= r->expiry
                       && __atomic_load_n(&s->refs, __ATOMIC_ACQUIRE) == 0) {
                *link = s->next;
                r->n_series--;
                __atomic_add_fetch(&r->expired, 1, __ATOMIC_RELAXED);
                dtm__free(s->raw);
                continue;
            }
            link = &s->next;
        }
    }
    pthread_mutex_unlock(&r->lock);
    if (n_lines)
        *n_lines = n;
    return DTM_OK;
}

void dtm__registry_stats_get(dtm__registry *r, dtm__registry_stats *st)
{
    pthread_mutex_lock(&r->lock);
    st->series = r->n_series;
    pthread_mutex_unlock(&r->lock);
    st->refused = __atomic_load_n(&r->refused, __ATOMIC_RELAXED);
    st->invalid_values = __atomic_load_n(&r->invalid_values, __ATOMIC_RELAXED);
    st->expired = __atomic_load_n(&r->expired, __ATOMIC_RELAXED);
    st->sink_errors = __atomic_load_n(&r->sink_errors, __ATOMIC_RELAXED);
}
