/* The series registry: exact totals under contention, interval
   boundaries, expiry, the cap, metadata, allocation failures. */
#include "config.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry.h"
#include "testutil.h"

static dtm_serializer *ser;

static void setup(void)
{
    dtm_dimension defs[] = {{"env", "test"}};
    dtm_serializer_options o;
    dtm_serializer_options_init(&o);
    o.prefix = "p";
    o.default_dimensions = defs;
    o.n_default_dimensions = 1;
    ck_assert_int_eq(dtm_serializer_new(&ser, &o), DTM_OK);
}

static void teardown(void)
{
    dtm_serializer_free(ser);
    ser = NULL;
}

/* ---- a sink that aggregates what it is given ---- */

typedef struct agg {
    pthread_mutex_t lock;
    size_t lines;
    double dbl_total;    /* all counter deltas */
    int64_t count;       /* summary counts */
    double sum, min, max;
    int inconsistent;    /* a summary line with avg outside [min, max] */
    char last[4096];
} agg;

static void agg_init(agg *a)
{
    memset(a, 0, sizeof *a);
    pthread_mutex_init(&a->lock, NULL);
    a->min = INFINITY;
    a->max = -INFINITY;
}

static dtm_status agg_sink(const char *line, size_t len, void *ud)
{
    agg *a = ud;
    const char *p;
    ck_assert_uint_lt(len, sizeof a->last);
    pthread_mutex_lock(&a->lock);
    memcpy(a->last, line, len);
    a->last[len] = '\0';
    a->lines++;
    if ((p = strstr(a->last, " count,delta=")) != NULL) {
        a->dbl_total += strtod(p + 13, NULL);
    } else if ((p = strstr(a->last, " gauge,min=")) != NULL) {
        double mn, mx, sm;
        long long c;
        ck_assert_int_eq(sscanf(p, " gauge,min=%lf,max=%lf,sum=%lf,count=%lld", &mn, &mx, &sm, &c),
                         4);
        if (mn - sm / (double)c > 1e-6 || sm / (double)c - mx > 1e-6 || mn > mx)
            a->inconsistent++;
        a->count += c;
        a->sum += sm;
        if (mn < a->min)
            a->min = mn;
        if (mx > a->max)
            a->max = mx;
    }
    pthread_mutex_unlock(&a->lock);
    return DTM_OK;
}

/* ---- contention ---- */

#define THREADS 4
static long iterations(void)
{
    const char *e = getenv("DTM_LONG_TESTS");
    return e && e[0] == '1' ? 2000000 : 200000;
}

typedef struct worker {
    dtm__series *s;
    int id;
    pthread_t t;
} worker;

static volatile int stop_collector;

static void *add_main(void *arg)
{
    worker *w = arg;
    long i, n = iterations();
    for (i = 0; i < n; i++) {
        if (i & 1)
            dtm__series_add_int(w->s, 3);
        else
            dtm__series_add(w->s, 2.0); /* integral: exact in any order */
    }
    return NULL;
}

static void *record_main(void *arg)
{
    worker *w = arg;
    long i, n = iterations();
    for (i = 0; i < n; i++)
        dtm__series_record(w->s, (double)(w->id * 1000 + (i % 1000)));
    return NULL;
}

typedef struct collector {
    dtm__registry *r;
    agg *a;
    long rounds;
} collector;

static void *collect_main(void *arg)
{
    collector *c = arg;
    while (!__atomic_load_n(&stop_collector, __ATOMIC_ACQUIRE)) {
        ck_assert_int_eq(dtm__registry_collect(c->r, 0, agg_sink, c->a, NULL), DTM_OK);
        c->rounds++;
    }
    return NULL;
}

static void run_contended(dtm__series_kind kind, void *(*fn)(void *), agg *a)
{
    dtm__registry *r;
    worker w[THREADS];
    collector c;
    pthread_t ct;
    int i;
    ck_assert_int_eq(dtm__registry_new(&r, ser, 0, 0), DTM_OK);
    agg_init(a);
    for (i = 0; i < THREADS; i++) {
        w[i].id = i;
        ck_assert_int_eq(dtm__registry_get(r, kind, "shared", NULL, 0, NULL, &w[i].s), DTM_OK);
    }
    ck_assert_ptr_eq(w[0].s, w[THREADS - 1].s);
    stop_collector = 0;
    c.r = r;
    c.a = a;
    c.rounds = 0;
    ck_assert_int_eq(pthread_create(&ct, NULL, collect_main, &c), 0);
    for (i = 0; i < THREADS; i++)
        ck_assert_int_eq(pthread_create(&w[i].t, NULL, fn, &w[i]), 0);
    for (i = 0; i < THREADS; i++)
        pthread_join(w[i].t, NULL);
    __atomic_store_n(&stop_collector, 1, __ATOMIC_RELEASE);
    pthread_join(ct, NULL);
    ck_assert_int_eq(dtm__registry_collect(r, 0, agg_sink, a, NULL), DTM_OK);
    ck_assert_int_gt(c.rounds, 0);
    for (i = 0; i < THREADS; i++)
        dtm__series_release(w[i].s);
    dtm__registry_free(r);
}

START_TEST(counter_exact_under_contention)
{
    agg a;
    long n = iterations();
    run_contended(DTM__SERIES_COUNTER, add_main, &a);
    /* half the adds are 2.0, half are 3: exact whatever the interleaving */
    ck_assert_double_eq(a.dbl_total, (double)THREADS * (double)(n / 2) * 5.0);
    ck_assert_uint_gt(a.lines, 0);
}
END_TEST

START_TEST(summary_exact_under_contention)
{
    agg a;
    long n = iterations();
    double expected_sum = 0;
    int t;
    long i;
    run_contended(DTM__SERIES_SUMMARY, record_main, &a);
    for (t = 0; t < THREADS; t++)
        for (i = 0; i < n; i++)
            expected_sum += (double)(t * 1000 + (i % 1000));
    ck_assert_int_eq(a.count, (int64_t)THREADS * n);
    ck_assert_double_eq(a.sum, expected_sum);
    ck_assert_double_eq(a.min, 0);
    ck_assert_double_eq(a.max, (double)((THREADS - 1) * 1000 + 999));
    ck_assert_int_eq(a.inconsistent, 0);
}
END_TEST

/* ---- single-threaded behaviour ---- */

START_TEST(interval_lines)
{
    dtm__registry *r;
    dtm__series *c, *g, *gl, *s;
    dtm_dimension d[] = {{"k", "a b"}};
    agg a;
    size_t n;
    agg_init(&a);
    ck_assert_int_eq(dtm__registry_new(&r, ser, 0, 0), DTM_OK);
    ck_assert_int_eq(dtm__registry_get(r, DTM__SERIES_COUNTER, "req", d, 1, NULL, &c), DTM_OK);
    ck_assert_int_eq(dtm__registry_get(r, DTM__SERIES_GAUGE, "temp", NULL, 0, NULL, &g), DTM_OK);
    ck_assert_int_eq(dtm__registry_get(r, DTM__SERIES_GAUGE_LAST, "queue", NULL, 0, NULL, &gl),
                     DTM_OK);
    ck_assert_int_eq(dtm__registry_get(r, DTM__SERIES_SUMMARY, "lat", NULL, 0, NULL, &s), DTM_OK);

    /* nothing recorded: nothing to say */
    ck_assert_int_eq(dtm__registry_collect(r, 1700000000000, agg_sink, &a, &n), DTM_OK);
    ck_assert_uint_eq(n, 0);

    dtm__series_add_int(c, 5);
    ck_assert_int_eq(dtm__registry_collect(r, 1700000000000, agg_sink, &a, &n), DTM_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(a.last, "p.req,env=test,k=a\\ b count,delta=5 1700000000000");

    dtm__series_add(c, 0.5);
    dtm__series_add_int(c, 1);
    ck_assert_int_eq(dtm__registry_collect(r, 0, agg_sink, &a, &n), DTM_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(a.last, "p.req,env=test,k=a\\ b count,delta=1.5");

    dtm__series_set(g, 3);
    dtm__series_set(g, 1);
    dtm__series_set(g, 2);
    ck_assert_int_eq(dtm__registry_collect(r, 0, agg_sink, &a, &n), DTM_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(a.last, "p.temp,env=test gauge,min=1,max=3,sum=6,count=3");

    dtm__series_set(gl, 3);
    dtm__series_set(gl, 7.25);
    ck_assert_int_eq(dtm__registry_collect(r, 0, agg_sink, &a, &n), DTM_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(a.last, "p.queue,env=test gauge,7.25");

    dtm__series_record(s, 0.25);
    dtm__series_record(s, NAN);
    dtm__series_record(s, INFINITY);
    dtm__series_add(c, NAN);
    ck_assert_int_eq(dtm__registry_collect(r, 0, agg_sink, &a, &n), DTM_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(a.last, "p.lat,env=test gauge,min=0.25,max=0.25,sum=0.25,count=1");
    {
        dtm__registry_stats st;
        dtm__registry_stats_get(r, &st);
        ck_assert_uint_eq(st.invalid_values, 3);
        ck_assert_uint_eq(st.series, 4);
    }
    /* after collection everything is reset */
    ck_assert_int_eq(dtm__registry_collect(r, 0, agg_sink, &a, &n), DTM_OK);
    ck_assert_uint_eq(n, 0);
    dtm__series_release(c);
    dtm__series_release(g);
    dtm__series_release(gl);
    dtm__series_release(s);
    dtm__registry_free(r);
}
END_TEST

START_TEST(identity_is_normalized)
{
    dtm__registry *r;
    dtm__series *a, *b, *c;
    dtm_dimension d1[] = {{"Key", "v"}};
    dtm_dimension d2[] = {{"key", "v"}};
    ck_assert_int_eq(dtm__registry_new(&r, ser, 0, 0), DTM_OK);
    ck_assert_int_eq(dtm__registry_get(r, DTM__SERIES_COUNTER, "a b", d1, 1, NULL, &a), DTM_OK);
    ck_assert_int_eq(dtm__registry_get(r, DTM__SERIES_COUNTER, "a_b", d2, 1, NULL, &b), DTM_OK);
    ck_assert_ptr_eq(a, b);
    ck_assert_int_eq(dtm__registry_get(r, DTM__SERIES_GAUGE, "a_b", d2, 1, NULL, &c), DTM_EINVAL);
    ck_assert_ptr_null(c);
    ck_assert_int_eq(dtm__registry_get(r, DTM__SERIES_GAUGE, "", NULL, 0, NULL, &c), DTM_EKEY);
    ck_assert_int_eq(dtm__registry_get(r, DTM__SERIES_GAUGE, NULL, NULL, 0, NULL, &c), DTM_EINVAL);
    ck_assert_int_eq(dtm__registry_get(r, (dtm__series_kind)9, "x", NULL, 0, NULL, &c),
                     DTM_EINVAL);
    dtm__series_release(a);
    dtm__series_release(b);
    dtm__registry_free(r);
}
END_TEST

START_TEST(cap_refuses_and_counts)
{
    dtm__registry *r;
    dtm__series *s[4];
    dtm__registry_stats st;
    ck_assert_int_eq(dtm__registry_new(&r, ser, 3, 0), DTM_OK);
    ck_assert_int_eq(dtm__registry_get(r, DTM__SERIES_COUNTER, "a", NULL, 0, NULL, &s[0]), DTM_OK);
    ck_assert_int_eq(dtm__registry_get(r, DTM__SERIES_COUNTER, "b", NULL, 0, NULL, &s[1]), DTM_OK);
    ck_assert_int_eq(dtm__registry_get(r, DTM__SERIES_COUNTER, "c", NULL, 0, NULL, &s[2]), DTM_OK);
    ck_assert_int_eq(dtm__registry_get(r, DTM__SERIES_COUNTER, "d", NULL, 0, NULL, &s[3]),
                     DTM_EFULL);
    /* an existing series is still found */
    ck_assert_int_eq(dtm__registry_get(r, DTM__SERIES_COUNTER, "a", NULL, 0, NULL, &s[3]), DTM_OK);
    dtm__registry_stats_get(r, &st);
    ck_assert_uint_eq(st.refused, 1);
    ck_assert_uint_eq(st.series, 3);
    dtm__series_release(s[0]);
    dtm__series_release(s[1]);
    dtm__series_release(s[2]);
    dtm__series_release(s[3]);
    dtm__registry_free(r);
}
END_TEST

START_TEST(expiry_of_idle_unreferenced_series)
{
    dtm__registry *r;
    dtm__series *held, *dropped, *again;
    dtm__registry_stats st;
    agg a;
    int i;
    agg_init(&a);
    ck_assert_int_eq(dtm__registry_new(&r, ser, 0, 2), DTM_OK);
    ck_assert_int_eq(dtm__registry_get(r, DTM__SERIES_COUNTER, "held", NULL, 0, NULL, &held),
                     DTM_OK);
    ck_assert_int_eq(dtm__registry_get(r, DTM__SERIES_COUNTER, "dropped", NULL, 0, NULL, &dropped),
                     DTM_OK);
    dtm__series_add_int(dropped, 1);
    dtm__series_release(dropped);
    for (i = 0; i < 3; i++)
        ck_assert_int_eq(dtm__registry_collect(r, 0, agg_sink, &a, NULL), DTM_OK);
    dtm__registry_stats_get(r, &st);
    ck_assert_uint_eq(st.expired, 1);
    ck_assert_uint_eq(st.series, 1);
    ck_assert_str_eq(a.last, "p.dropped,env=test count,delta=1"); /* exported before expiry */
    /* a new get creates it afresh */
    ck_assert_int_eq(dtm__registry_get(r, DTM__SERIES_COUNTER, "dropped", NULL, 0, NULL, &again),
                     DTM_OK);
    dtm__registry_stats_get(r, &st);
    ck_assert_uint_eq(st.series, 2);
    dtm__series_release(again);
    dtm__series_release(held);
    dtm__registry_free(r);
}
END_TEST

START_TEST(metadata_sent_once)
{
    dtm__registry *r;
    dtm__series *a, *b;
    dtm__metric_meta m = {"ms", "Request latency", NULL};
    dtm_dimension d1[] = {{"x", "1"}};
    dtm_dimension d2[] = {{"x", "2"}};
    agg ag;
    size_t n;
    agg_init(&ag);
    ck_assert_int_eq(dtm__registry_new(&r, ser, 0, 0), DTM_OK);
    ck_assert_int_eq(dtm__registry_get(r, DTM__SERIES_SUMMARY, "lat", d1, 1, &m, &a), DTM_OK);
    ck_assert_int_eq(dtm__registry_get(r, DTM__SERIES_SUMMARY, "lat", d2, 1, &m, &b), DTM_OK);
    ck_assert_int_eq(dtm__registry_collect(r, 0, agg_sink, &ag, &n), DTM_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(ag.last, "#p.lat gauge dt.meta.description=\"Request latency\",dt.meta.unit=ms");
    ck_assert_int_eq(dtm__registry_collect(r, 0, agg_sink, &ag, &n), DTM_OK);
    ck_assert_uint_eq(n, 0);
    dtm__series_release(a);
    dtm__series_release(b);
    dtm__registry_free(r);
}
END_TEST

START_TEST(alloc_failures)
{
    dtm__metric_meta m = {"ms", "d", "n"};
    long n;
    tu_alloc_install();
    for (n = 0;; n++) {
        dtm__registry *r = NULL;
        dtm__series *s = NULL;
        dtm_status st;
        tu_alloc_fail_after(n);
        st = dtm__registry_new(&r, ser, 0, 0);
        if (st == DTM_OK) {
            st = dtm__registry_get(r, DTM__SERIES_GAUGE, "g", NULL, 0, &m, &s);
            if (st == DTM_OK)
                dtm__series_release(s);
        }
        tu_alloc_fail_after(-1);
        dtm__registry_free(r);
        ck_assert_int_eq(tu_alloc_live(), 0);
        if (st == DTM_OK)
            break;
        ck_assert_int_eq(st, DTM_ENOMEM);
        ck_assert_int_lt(n, 100);
    }
    ck_assert_int_gt(n, 4);
    tu_alloc_uninstall();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("registry");
    TCase *tc = tu_tcase("recording", 10);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, interval_lines);
    tcase_add_test(tc, identity_is_normalized);
    tcase_add_test(tc, cap_refuses_and_counts);
    tcase_add_test(tc, expiry_of_idle_unreferenced_series);
    tcase_add_test(tc, metadata_sent_once);
    tcase_add_test(tc, alloc_failures);
    suite_add_tcase(s, tc);

    tc = tu_tcase("contention", 120);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, counter_exact_under_contention);
    tcase_add_test(tc, summary_exact_under_contention);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
