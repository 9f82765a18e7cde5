/*
 * Instruments: ns per counter add (one thread; two threads on one series;
 * two threads on different series), per gauge set and summary record, next
 * to a mutex-protected counter; and the time to collect 100,000 series into
 * lines.  Uses the internal registry directly (no network).
 *
 *   bench/bench_metrics [adds-per-thread]     (default 20,000,000)
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "registry.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long n_ops;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int64_t mutex_counter;

typedef struct job {
    dtm__series *s;
    int kind; /* 0 add_int, 1 add double, 2 set, 3 record, 4 mutex */
} job;

static void *run(void *arg)
{
    job *j = arg;
    long i;
    switch (j->kind) {
    case 0: for (i = 0; i < n_ops; i++) dtm__series_add_int(j->s, 1); break;
    case 1: for (i = 0; i < n_ops; i++) dtm__series_add(j->s, 0.5); break;
    case 2: for (i = 0; i < n_ops; i++) dtm__series_set(j->s, (double)(i & 1023)); break;
    case 3: for (i = 0; i < n_ops; i++) dtm__series_record(j->s, (double)(i & 1023)); break;
    default:
        for (i = 0; i < n_ops; i++) {
            pthread_mutex_lock(&mu);
            mutex_counter++;
            pthread_mutex_unlock(&mu);
        }
    }
    return NULL;
}

/* ns per operation per thread, best of 3 */
static double measure(job *jobs, int threads)
{
    double best = 1e9;
    int r, t;
    for (r = 0; r < 3; r++) {
        pthread_t th[2];
        double t0 = now_s(), dt;
        for (t = 0; t < threads; t++)
            pthread_create(&th[t], NULL, run, &jobs[t]);
        for (t = 0; t < threads; t++)
            pthread_join(th[t], NULL);
        dt = now_s() - t0;
        if (dt < best)
            best = dt;
    }
    return best * 1e9 / (double)n_ops;
}

static dtm_status count_sink(const char *line, size_t len, void *ud)
{
    (void)line;
    *(size_t *)ud += len;
    return DTM_OK;
}

int main(int argc, char **argv)
{
    dtm_serializer_options o;
    dtm_serializer *ser;
    dtm__registry *r;
    dtm__series *c1, *c2, *g, *last, *sm;
    dtm_dimension defs[] = {{"service", "checkout"}, {"env", "prod"}};
    job j[2];
    size_t i, bytes = 0, lines = 0;
    double t0, best = 1e9;
    int rep;

    n_ops = argc > 1 ? atol(argv[1]) : 20000000;
    dtm_serializer_options_init(&o);
    o.prefix = "bench";
    o.default_dimensions = defs;
    o.n_default_dimensions = 2;
    if (dtm_serializer_new(&ser, &o) != DTM_OK
        || dtm__registry_new(&r, ser, 200000, 0) != DTM_OK)
        return 1;
    dtm__registry_get(r, DTM__SERIES_COUNTER, "c1", NULL, 0, NULL, &c1);
    dtm__registry_get(r, DTM__SERIES_COUNTER, "c2", NULL, 0, NULL, &c2);
    dtm__registry_get(r, DTM__SERIES_GAUGE, "g", NULL, 0, NULL, &g);
    dtm__registry_get(r, DTM__SERIES_GAUGE_LAST, "last", NULL, 0, NULL, &last);
    dtm__registry_get(r, DTM__SERIES_SUMMARY, "sm", NULL, 0, NULL, &sm);

    printf("%-46s %8s\n", "operation", "ns/op");
    j[0].s = c1; j[0].kind = 0;
    printf("%-46s %8.2f\n", "counter add_int, 1 thread", measure(j, 1));
    j[0].kind = 1;
    printf("%-46s %8.2f\n", "counter add (double), 1 thread", measure(j, 1));
    j[0].kind = 0; j[1].s = c1; j[1].kind = 0;
    printf("%-46s %8.2f\n", "counter add_int, 2 threads, same series", measure(j, 2));
    j[1].s = c2;
    printf("%-46s %8.2f\n", "counter add_int, 2 threads, different series", measure(j, 2));
    j[0].s = last; j[0].kind = 2;
    printf("%-46s %8.2f\n", "gauge set (last value), 1 thread", measure(j, 1));
    j[0].s = g; j[0].kind = 2;
    printf("%-46s %8.2f\n", "gauge set (min/max/sum/count), 1 thread", measure(j, 1));
    j[0].s = sm; j[0].kind = 3;
    printf("%-46s %8.2f\n", "summary record, 1 thread", measure(j, 1));
    j[0].kind = 4;
    printf("%-46s %8.2f\n", "baseline: mutex-protected counter, 1 thread", measure(j, 1));
    j[1].kind = 4;
    printf("%-46s %8.2f\n", "baseline: mutex-protected counter, 2 threads", measure(j, 2));

    /* collection of 100,000 series, each with something to say */
    {
        static dtm__series *many[100000];
        char name[32], val[32];
        for (i = 0; i < 100000; i++) {
            dtm_dimension d[] = {{"id", val}};
            snprintf(name, sizeof name, "series%zu", i % 100);
            snprintf(val, sizeof val, "%zu", i);
            if (dtm__registry_get(r, i % 2 ? DTM__SERIES_COUNTER : DTM__SERIES_GAUGE, name, d, 1,
                                  NULL, &many[i]) != DTM_OK)
                return 1;
        }
        for (rep = 0; rep < 3; rep++) {
            for (i = 0; i < 100000; i++) {
                if (i % 2)
                    dtm__series_add_int(many[i], 1);
                else
                    dtm__series_set(many[i], (double)i);
            }
            bytes = 0;
            t0 = now_s();
            dtm__registry_collect(r, 1700000000000, count_sink, &bytes, &lines);
            if (now_s() - t0 < best)
                best = now_s() - t0;
        }
        printf("collect 100,000 series: %.2f ms (%zu lines, %.1f M lines/s, %zu bytes)\n",
               best * 1e3, lines, (double)lines / best / 1e6, bytes);
    }
    dtm__registry_free(r);
    dtm_serializer_free(ser);
    return 0;
}
