/*
 * The line serializer: prefix + name + dimensions + payload -> one line of
 * the metrics ingest line protocol (spec sections 1, 4, 5, 6, 9, 10).
 *
 * A serializer is built once (prefix state, default dimensions, static and
 * OneAgent dimensions, all normalized at creation) and is immutable after
 * that, so any number of threads may serialize with it at once.  Per line,
 * the work is: continue the metric-key state machine from the cached
 * "prefix." state, normalize the line's dimensions into stack buffers,
 * resolve precedence on the normalized keys, and write everything into the
 * caller's buffer through a bounded writer.  Nothing is allocated.
 */
#include "config.h"

#include <string.h>
#include <time.h>

#include "enrich.h"
#include "norm.h"
#include "serialize.h"

/* A dimension normalized at creation: ",key=value" ready for the wire. */
typedef struct sdim {
    char *wire;     /* ",key=value" */
    size_t len;     /* bytes of wire */
    size_t units;   /* UTF-16 units of wire */
    size_t key_len; /* bytes of the key (wire + 1) */
} sdim;

struct dtm_serializer {
    dtm__mkey key_base;  /* metric-key state after "prefix" "." (or fresh) */
    sdim *defaults;      /* lowest precedence */
    size_t n_defaults;
    sdim *statics;       /* static, dt.metrics.source and OneAgent: highest */
    size_t n_statics;
    char *defaults_wire; /* every default joined, for lines that override none */
    size_t defaults_len, defaults_units;
    char *statics_wire;  /* every static joined */
    size_t statics_len, statics_units;
    dtm__log log;
    /* diagnostics state: the only mutable part, updated atomically */
    int warned_key, warned_dim_key, warned_dropped, warned_reserved;
    unsigned long ts_warnings;
};

/* ---------------------------------------------------------------------- */
/* creation                                                               */

void dtm_serializer_options_init(dtm_serializer_options *opts)
{
    if (opts)
        memset(opts, 0, sizeof *opts);
}

static void sdims_free(sdim *d, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        dtm__free(d[i].wire);
    dtm__free(d);
}

void dtm_serializer_free(dtm_serializer *s)
{
    if (!s)
        return;
    sdims_free(s->defaults, s->n_defaults);
    sdims_free(s->statics, s->n_statics);
    dtm__free(s->defaults_wire);
    dtm__free(s->statics_wire);
    dtm__free(s);
}

static int sdim_find(const sdim *d, size_t n, const char *key, size_t key_len)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (d[i].key_len == key_len && memcmp(d[i].wire + 1, key, key_len) == 0)
            return (int)i;
    return -1;
}

/* Normalize one configured dimension and add it to d (capacity known by the
   caller); a later entry with the same normalized key replaces the earlier
   one in place.  Invalid keys and empty values are dropped (logged). */
static dtm_status sdim_add(sdim *d, size_t *n, const char *key, size_t key_len, const char *value,
                           size_t value_len, const dtm__log *log, const char *what)
{
    char nkey[DTM_MAX_DIMENSION_KEY_LEN];
    char nval[DTM_MAX_DIMENSION_VALUE_BYTES];
    size_t klen, vlen, vunits;
    char *wire;
    int at;

    klen = dtm__norm_dim_key(key, key_len, nkey);
    if (klen == 0) {
        dtm__logf(log, DTM_LOG_WARN, "%s dimension dropped: its key normalizes to nothing", what);
        return DTM_OK;
    }
    vlen = dtm__norm_dim_value(value, value_len, nval, &vunits);
    if (vlen == 0) {
        dtm__logf(log, DTM_LOG_INFO, "%s dimension '%.*s' dropped: empty value", what, (int)klen,
                  nkey);
        return DTM_OK;
    }
    wire = dtm__malloc(klen + vlen + 3);
    if (!wire)
        return DTM_ENOMEM;
    wire[0] = ',';
    memcpy(wire + 1, nkey, klen);
    wire[1 + klen] = '=';
    memcpy(wire + 2 + klen, nval, vlen);
    wire[2 + klen + vlen] = '\0';

    at = sdim_find(d, *n, nkey, klen);
    if (at >= 0) {
        dtm__free(d[at].wire);
    } else {
        at = (int)(*n)++;
    }
    d[at].wire = wire;
    d[at].len = klen + vlen + 2;
    d[at].units = klen + vunits + 2;
    d[at].key_len = klen;
    return DTM_OK;
}

static dtm_status join_wire(const sdim *d, size_t n, char **out, size_t *len, size_t *units)
{
    size_t i, total = 0, u = 0;
    char *p;
    for (i = 0; i < n; i++) {
        total += d[i].len;
        u += d[i].units;
    }
    p = dtm__malloc(total + 1);
    if (!p)
        return DTM_ENOMEM;
    *out = p;
    for (i = 0; i < n; i++) {
        memcpy(p, d[i].wire, d[i].len);
        p += d[i].len;
    }
    *p = '\0';
    *len = total;
    *units = u;
    return DTM_OK;
}

static dtm_status add_user_dims(sdim *d, size_t *n, const dtm_dimension *dims, size_t count,
                                const dtm__log *log, const char *what)
{
    size_t i;
    dtm_status st;
    for (i = 0; i < count; i++) {
        if (!dims[i].key || !dims[i].value)
            continue;
        st = sdim_add(d, n, dims[i].key, strlen(dims[i].key), dims[i].value,
                      strlen(dims[i].value), log, what);
        if (st != DTM_OK)
            return st;
    }
    return DTM_OK;
}

static dtm_status build_statics(dtm_serializer *s, const dtm_serializer_options *o)
{
    dtm__kvlist meta;
    size_t cap, i;
    dtm_status st;

    memset(&meta, 0, sizeof meta);
    if (o->oneagent_enrichment) {
        dtm__enrich_options eo;
        memset(&eo, 0, sizeof eo);
        eo.indirection_file = o->enrichment_indirection_file;
        eo.dir = o->enrichment_dir;
        eo.host_metadata = o->host_metadata;
        st = dtm__enrich_load(&eo, &meta, &s->log);
        if (st != DTM_OK) {
            dtm__kvlist_free(&meta);
            return st;
        }
    }
    cap = o->n_static_dimensions + meta.n + 1;
    s->statics = dtm__calloc(cap, sizeof *s->statics);
    if (!s->statics) {
        dtm__kvlist_free(&meta);
        return DTM_ENOMEM;
    }
    st = add_user_dims(s->statics, &s->n_statics, o->static_dimensions, o->n_static_dimensions,
                       &s->log, "static");
    if (st == DTM_OK && o->metrics_source && o->metrics_source[0])
        st = sdim_add(s->statics, &s->n_statics, "dt.metrics.source", 17, o->metrics_source,
                      strlen(o->metrics_source), &s->log, "metrics source");
    for (i = 0; st == DTM_OK && i < meta.n; i++)
        st = sdim_add(s->statics, &s->n_statics, meta.keys[i], strlen(meta.keys[i]),
                      meta.values[i], strlen(meta.values[i]), &s->log, "OneAgent metadata");
    dtm__kvlist_free(&meta);
    return st;
}

static dtm_status build_defaults(dtm_serializer *s, const dtm_serializer_options *o)
{
    size_t i, kept = 0;
    dtm_status st;

    s->defaults = dtm__calloc(o->n_default_dimensions + 1, sizeof *s->defaults);
    if (!s->defaults)
        return DTM_ENOMEM;
    st = add_user_dims(s->defaults, &s->n_defaults, o->default_dimensions,
                       o->n_default_dimensions, &s->log, "default");
    if (st != DTM_OK)
        return st;
    /* A default shadowed by a static dimension is discarded now (spec 6). */
    for (i = 0; i < s->n_defaults; i++) {
        sdim *d = &s->defaults[i];
        if (sdim_find(s->statics, s->n_statics, d->wire + 1, d->key_len) >= 0) {
            dtm__free(d->wire);
            continue;
        }
        s->defaults[kept++] = *d;
    }
    s->n_defaults = kept;
    return DTM_OK;
}

dtm_status dtm_serializer_new(dtm_serializer **out, const dtm_serializer_options *opts)
{
    dtm_serializer_options none;
    dtm_serializer *s;
    dtm_status st;

    if (!out)
        return DTM_EINVAL;
    *out = NULL;
    if (!opts) {
        dtm_serializer_options_init(&none);
        opts = &none;
    }
    if ((opts->n_default_dimensions && !opts->default_dimensions)
        || (opts->n_static_dimensions && !opts->static_dimensions))
        return DTM_EINVAL;

    s = dtm__calloc(1, sizeof *s);
    if (!s)
        return DTM_ENOMEM;
    s->log.fn = opts->log_fn;
    s->log.userdata = opts->log_userdata;

    dtm__mkey_init(&s->key_base);
    if (opts->prefix && opts->prefix[0]) {
        dtm__mkey_feed(&s->key_base, opts->prefix, strlen(opts->prefix));
        dtm__mkey_feed(&s->key_base, ".", 1);
    }

    st = build_statics(s, opts);
    if (st == DTM_OK)
        st = build_defaults(s, opts);
    if (st == DTM_OK && s->n_defaults + s->n_statics > DTM_MAX_DIMENSIONS)
        st = DTM_EDIMS;
    if (st == DTM_OK)
        st = join_wire(s->defaults, s->n_defaults, &s->defaults_wire, &s->defaults_len,
                       &s->defaults_units);
    if (st == DTM_OK)
        st = join_wire(s->statics, s->n_statics, &s->statics_wire, &s->statics_len,
                       &s->statics_units);
    if (st != DTM_OK) {
        dtm_serializer_free(s);
        return st;
    }
    *out = s;
    return DTM_OK;
}

const dtm__log *dtm__serializer_log(const dtm_serializer *s)
{
    return &s->log;
}

/* ---------------------------------------------------------------------- */
/* per line                                                               */

/* A per-line dimension after key normalization. */
typedef struct ldim {
    const char *value; /* raw value */
    size_t value_len;
    unsigned char key_len;
    char key[DTM_MAX_DIMENSION_KEY_LEN];
} ldim;

/* Write the normalized value of a line dimension as ",key=value".  The value
   is normalized straight into the caller's buffer when there is room for the
   longest possible result, else through a stack buffer. */
static void put_line_dim(dtm__writer *w, const ldim *d)
{
    size_t vlen, vunits;
    dtm__writer_putc(w, ',');
    dtm__writer_put(w, d->key, d->key_len, d->key_len);
    dtm__writer_putc(w, '=');
    if (w->len + DTM_MAX_DIMENSION_VALUE_BYTES <= w->cap) {
        vlen = dtm__norm_dim_value(d->value, d->value_len, w->buf + w->len, &vunits);
        w->len += vlen;
        w->units += vunits;
    } else {
        char tmp[DTM_MAX_DIMENSION_VALUE_BYTES];
        vlen = dtm__norm_dim_value(d->value, d->value_len, tmp, &vunits);
        dtm__writer_put(w, tmp, vlen, vunits);
    }
}

static int value_is_empty(const char *v, size_t n)
{
    /* Deviation D3: the value "" (two quotes) counts as empty. */
    return n == 0 || (n == 2 && v[0] == '"' && v[1] == '"');
}

dtm_status dtm__serializer_key(const dtm_serializer *s, const char *name, size_t name_len,
                               dtm__mkey *key)
{
    dtm_status st;
    if (name_len == 0)
        return DTM_EKEY; /* even with a prefix (spec 9) */
    dtm__mkey_copy(key, &s->key_base);
    dtm__mkey_feed(key, name, name_len);
    st = dtm__mkey_status(key);
    if (st != DTM_OK)
        return st;
    /* Keys under "dt." are reserved: the server refuses them, so the line is
       refused here, where the caller can see it (not rewritten). */
    if (DTM__UNLIKELY(key->len >= 3 && memcmp(key->out, "dt.", 3) == 0)) {
        dtm__logf(&s->log, dtm__once_level((int *)&s->warned_reserved),
                  "metric key '%.*s' refused: keys starting with 'dt.' are reserved",
                  (int)key->len, key->out);
        return DTM_EKEY;
    }
    /* Unchanged means: the key ends with the name (after the prefix). */
    if (DTM__UNLIKELY(s->log.fn != NULL)
        && (key->len < name_len || memcmp(key->out + key->len - name_len, name, name_len) != 0))
        dtm__logf(&s->log, dtm__once_level((int *)&s->warned_key),
                  "metric key '%.*s' normalized to '%.*s'", (int)(name_len > 300 ? 300 : name_len),
                  name, (int)key->len, key->out);
    return DTM_OK;
}

dtm_status dtm__serialize_identity(const dtm_serializer *s, const char *name, size_t name_len,
                                   const dtm_dimension *dims, size_t n_dims, dtm__writer *w)
{
    ldim line[DTM_MAX_DIMENSIONS];
    size_t n_line = 0, i, j, total;
    uint64_t shadowed = 0; /* defaults overridden by a line dimension */
    dtm__mkey key;
    dtm_status st;

    st = dtm__serializer_key(s, name, name_len, &key);
    if (st != DTM_OK)
        return st;

    for (i = 0; i < n_dims; i++) {
        const char *k = dims[i].key, *v = dims[i].value;
        size_t klen, vlen;
        char nkey[DTM_MAX_DIMENSION_KEY_LEN];
        if (!k || !v || !k[0])
            continue;
        vlen = strlen(v);
        if (value_is_empty(v, vlen))
            continue;
        klen = dtm__norm_dim_key(k, strlen(k), nkey);
        if (klen == 0) {
            dtm__logf(&s->log, dtm__once_level((int *)&s->warned_dropped),
                      "dimension dropped: key '%.100s' normalizes to nothing", k);
            continue;
        }
        /* A static (metadata) dimension wins over the line's own. */
        if (s->n_statics && sdim_find(s->statics, s->n_statics, nkey, klen) >= 0)
            continue;
        /* A later line dimension with the same key replaces the earlier. */
        for (j = 0; j < n_line; j++)
            if (line[j].key_len == klen && memcmp(line[j].key, nkey, klen) == 0)
                break;
        if (j == n_line) {
            if (n_line == DTM_MAX_DIMENSIONS)
                return DTM_EDIMS;
            n_line++;
            line[j].key_len = (unsigned char)klen;
            memcpy(line[j].key, nkey, klen);
        }
        line[j].value = v;
        line[j].value_len = vlen;
    }

    /* Which defaults does the line override? */
    for (j = 0; j < n_line && s->n_defaults; j++) {
        int at = sdim_find(s->defaults, s->n_defaults, line[j].key, line[j].key_len);
        if (at >= 0)
            shadowed |= UINT64_C(1) << at;
    }
    total = s->n_defaults - (size_t)__builtin_popcountll(shadowed) + n_line + s->n_statics;
    if (total > DTM_MAX_DIMENSIONS)
        return DTM_EDIMS;

    dtm__writer_put(w, key.out, key.len, key.len);
    if (!shadowed) {
        dtm__writer_put(w, s->defaults_wire, s->defaults_len, s->defaults_units);
    } else {
        for (i = 0; i < s->n_defaults; i++)
            if (!(shadowed & (UINT64_C(1) << i)))
                dtm__writer_put(w, s->defaults[i].wire, s->defaults[i].len, s->defaults[i].units);
    }
    for (j = 0; j < n_line; j++)
        put_line_dim(w, &line[j]);
    dtm__writer_put(w, s->statics_wire, s->statics_len, s->statics_units);
    return DTM_OK;
}

/* ---------------------------------------------------------------------- */
/* payloads                                                               */

static void put_number(dtm__writer *w, double v)
{
    char num[DTM_NUMBER_BUFSIZE];
    size_t n = dtm__fmt_double(v, num);
    dtm__writer_put(w, num, n, n);
}

static void put_int(dtm__writer *w, int64_t v)
{
    char num[DTM_NUMBER_BUFSIZE];
    size_t n = dtm__fmt_int64(v, num);
    dtm__writer_put(w, num, n, n);
}

void dtm__payload_gauge(dtm__writer *w, double v)
{
    dtm__writer_put(w, " gauge,", 7, 7);
    put_number(w, v);
}

void dtm__payload_counter(dtm__writer *w, double delta)
{
    dtm__writer_put(w, " count,delta=", 13, 13);
    put_number(w, delta);
}

void dtm__payload_counter_int(dtm__writer *w, int64_t delta)
{
    dtm__writer_put(w, " count,delta=", 13, 13);
    put_int(w, delta);
}

void dtm__payload_summary(dtm__writer *w, double min, double max, double sum, int64_t count)
{
    dtm__writer_put(w, " gauge,min=", 11, 11);
    put_number(w, min);
    dtm__writer_put(w, ",max=", 5, 5);
    put_number(w, max);
    dtm__writer_put(w, ",sum=", 5, 5);
    put_number(w, sum);
    dtm__writer_put(w, ",count=", 7, 7);
    put_int(w, count);
}

void dtm__payload_timestamp(const dtm_serializer *s, dtm__writer *w, int64_t ts)
{
    if (ts == 0)
        return;
    if (DTM__LIKELY(ts >= DTM_TIMESTAMP_MIN_MS && ts <= DTM_TIMESTAMP_MAX_MS)) {
        dtm__writer_putc(w, ' ');
        put_int(w, ts);
        return;
    }
    /* Seconds, microseconds or nanoseconds passed as milliseconds: omit the
       timestamp (the server then uses its receive time) and say so on the
       1st, 1001st, 2001st ... occurrence. */
    if (__atomic_fetch_add((unsigned long *)&s->ts_warnings, 1, __ATOMIC_RELAXED) % 1000 == 0)
        dtm__logf(&s->log, DTM_LOG_WARN,
                  "timestamp %lld ms is outside the years 2000-3000 (seconds or "
                  "nanoseconds instead of milliseconds?); it is omitted. Only one in "
                  "every 1000 of these messages is logged",
                  (long long)ts);
}

static int is_finite(double v)
{
    /* No <math.h> needed: NaN fails the comparison, the infinities the bound. */
    return v >= -1.7976931348623157e308 && v <= 1.7976931348623157e308;
}

dtm_status dtm__summary_check(double min, double max, double sum, int64_t count)
{
    double avg;
    if (count < 0)
        return DTM_EVALUE;
    if (count == 0)
        return (min == 0 && max == 0 && sum == 0) ? DTM_OK : DTM_EVALUE;
    if (!is_finite(min) || !is_finite(max) || !is_finite(sum))
        return DTM_EVALUE;
    if (max < min)
        return DTM_EVALUE;
    avg = sum / (double)count;
    /* Exact equality always passes; otherwise the server's tolerance. */
    if (min - avg > 1e-6 || avg - max > 1e-6)
        return DTM_EVALUE;
    return DTM_OK;
}

/* ---------------------------------------------------------------------- */
/* public entry points                                                    */

enum payload_kind { P_GAUGE, P_COUNTER, P_COUNTER_INT, P_SUMMARY };

typedef struct payload {
    enum payload_kind kind;
    double a, b, c; /* value / delta, or min, max, sum */
    int64_t i;      /* integer delta or count */
} payload;

static dtm_status serialize(const dtm_serializer *s, const char *name, const dtm_dimension *dims,
                            size_t n_dims, const payload *p, int64_t ts, char *out,
                            size_t out_cap, size_t *out_len)
{
    dtm__writer w;
    dtm_status st;

    if (!s || !name || !out_len || (!out && out_cap) || (n_dims && !dims))
        return DTM_EINVAL;
    *out_len = 0;
    if (out && out_cap)
        out[0] = '\0';
    switch (p->kind) {
    case P_GAUGE:
    case P_COUNTER:
        if (!is_finite(p->a))
            return DTM_EVALUE;
        break;
    case P_SUMMARY:
        st = dtm__summary_check(p->a, p->b, p->c, p->i);
        if (st != DTM_OK)
            return st;
        break;
    case P_COUNTER_INT:
        break;
    }

    dtm__writer_init(&w, out, out_cap);
    st = dtm__serialize_identity(s, name, strlen(name), dims, n_dims, &w);
    if (st != DTM_OK) {
        if (out && out_cap)
            out[0] = '\0';
        return st;
    }
    switch (p->kind) {
    case P_GAUGE: dtm__payload_gauge(&w, p->a); break;
    case P_COUNTER: dtm__payload_counter(&w, p->a); break;
    case P_COUNTER_INT: dtm__payload_counter_int(&w, p->i); break;
    case P_SUMMARY: dtm__payload_summary(&w, p->a, p->b, p->c, p->i); break;
    }
    dtm__payload_timestamp(s, &w, ts);
    if (w.units > DTM_MAX_LINE_LEN) {
        if (out && out_cap)
            out[0] = '\0';
        return DTM_ELINE;
    }
    return dtm__writer_finish(&w, out_len);
}

dtm_status dtm_serialize_counter(const dtm_serializer *s, const char *name,
                                 const dtm_dimension *dims, size_t n_dims, double delta,
                                 int64_t timestamp_ms, char *out, size_t out_cap, size_t *out_len)
{
    payload p = {P_COUNTER, delta, 0, 0, 0};
    return serialize(s, name, dims, n_dims, &p, timestamp_ms, out, out_cap, out_len);
}

dtm_status dtm_serialize_counter_int(const dtm_serializer *s, const char *name,
                                     const dtm_dimension *dims, size_t n_dims, int64_t delta,
                                     int64_t timestamp_ms, char *out, size_t out_cap,
                                     size_t *out_len)
{
    payload p = {P_COUNTER_INT, 0, 0, 0, delta};
    return serialize(s, name, dims, n_dims, &p, timestamp_ms, out, out_cap, out_len);
}

dtm_status dtm_serialize_gauge(const dtm_serializer *s, const char *name,
                               const dtm_dimension *dims, size_t n_dims, double value,
                               int64_t timestamp_ms, char *out, size_t out_cap, size_t *out_len)
{
    payload p = {P_GAUGE, value, 0, 0, 0};
    return serialize(s, name, dims, n_dims, &p, timestamp_ms, out, out_cap, out_len);
}

dtm_status dtm_serialize_summary(const dtm_serializer *s, const char *name,
                                 const dtm_dimension *dims, size_t n_dims, double min, double max,
                                 double sum, int64_t count, int64_t timestamp_ms, char *out,
                                 size_t out_cap, size_t *out_len)
{
    payload p = {P_SUMMARY, min, max, sum, count};
    return serialize(s, name, dims, n_dims, &p, timestamp_ms, out, out_cap, out_len);
}

int64_t dtm_now_ms(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return 0;
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
