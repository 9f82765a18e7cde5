/*
 * Serializer throughput, workloads W1 (gauges) and W2 (counters):
 * 1,000,000 lines of key "app.request.latency" with prefix "myprefix",
 * 3 default dimensions and 2 per-line dimensions whose values need escaping
 * (a space, a comma), a non-integral value and a timestamp; every call
 * normalizes everything.  Reports lines/s on one core and allocations per
 * line, next to a plain snprintf-based C serializer as a baseline.
 *
 *   bench/bench_serialize [lines]       (default 1000000, best of 5 runs)
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dtmetrics.h"

static long allocations;
static void *count_malloc(size_t n) { allocations++; return malloc(n); }
static void *count_realloc(void *p, size_t n) { allocations++; return realloc(p, n); }

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *methods[] = {"GET /api/users", "POST /api/orders", "GET /health", "PUT /api/x"};
static const char *regions[] = {"eu-west,1", "us-east,2", "ap-south,3"};

/* The baseline: what a careful C programmer writes with snprintf, escaping
   by hand, without key normalization. */
static size_t escape_naive(const char *in, char *out)
{
    size_t o = 0;
    for (; *in; in++) {
        if (*in == ' ' || *in == ',' || *in == '=' || *in == '\\' || *in == '"')
            out[o++] = '\\';
        out[o++] = *in;
    }
    out[o] = '\0';
    return o;
}

static double run_snprintf(long lines, int counter, size_t *bytes)
{
    char buf[1024], m[64], r[64];
    double t0 = now_s();
    long i;
    int64_t ts = 1700000000000;
    size_t total = 0;
    for (i = 0; i < lines; i++) {
        int n;
        escape_naive(methods[i & 3], m);
        escape_naive(regions[i % 3], r);
        n = snprintf(buf, sizeof buf,
                     "myprefix.app.request.latency,service=checkout,env=prod,host=web-01,"
                     "method=%s,region=%s %s%.17g %lld",
                     m, r, counter ? "count,delta=" : "gauge,", 12.5 + (double)i * 0.001,
                     (long long)(ts + i));
        total += (size_t)n;
    }
    *bytes = total;
    return now_s() - t0;
}

static double run_dtm(const dtm_serializer *s, long lines, int counter, size_t *bytes)
{
    char buf[1024];
    size_t len, total = 0;
    double t0 = now_s();
    long i;
    int64_t ts = 1700000000000;
    for (i = 0; i < lines; i++) {
        dtm_dimension d[2];
        dtm_status st;
        d[0].key = "method";
        d[0].value = methods[i & 3];
        d[1].key = "region";
        d[1].value = regions[i % 3];
        if (counter)
            st = dtm_serialize_counter(s, "app.request.latency", d, 2, 12.5 + (double)i * 0.001,
                                       ts + i, buf, sizeof buf, &len);
        else
            st = dtm_serialize_gauge(s, "app.request.latency", d, 2, 12.5 + (double)i * 0.001,
                                     ts + i, buf, sizeof buf, &len);
        if (st != DTM_OK) {
            fprintf(stderr, "serialize failed: %s\n", dtm_strerror(st));
            exit(1);
        }
        total += len;
    }
    *bytes = total;
    return now_s() - t0;
}

int main(int argc, char **argv)
{
    long lines = argc > 1 ? atol(argv[1]) : 1000000;
    dtm_dimension defs[] = {{"service", "checkout"}, {"env", "prod"}, {"host", "web-01"}};
    dtm_serializer_options o;
    dtm_serializer *s;
    char sample[1024];
    size_t len, bytes;
    int w, run;

    dtm_set_allocator(count_malloc, count_realloc, free);
    dtm_serializer_options_init(&o);
    o.prefix = "myprefix";
    o.default_dimensions = defs;
    o.n_default_dimensions = 3;
    if (dtm_serializer_new(&s, &o) != DTM_OK)
        return 1;
    {
        dtm_dimension d[] = {{"method", methods[0]}, {"region", regions[0]}};
        dtm_serialize_gauge(s, "app.request.latency", d, 2, 12.5, 1700000000000, sample,
                            sizeof sample, &len);
        printf("W1 sample line: %s\n", sample);
    }
    printf("%-28s %12s %10s %12s\n", "workload", "lines/s", "ns/line", "allocs/line");
    for (w = 0; w < 2; w++) {
        double best = 1e9, best_base = 1e9;
        long allocs = 0;
        for (run = 0; run < 5; run++) {
            double t;
            allocations = 0;
            t = run_dtm(s, lines, w, &bytes);
            allocs += allocations;
            if (t < best)
                best = t;
            t = run_snprintf(lines, w, &bytes);
            if (t < best_base)
                best_base = t;
        }
        printf("%-28s %12.0f %10.1f %12.3f\n", w ? "W2 counters, dtm_serialize" : "W1 gauges, dtm_serialize",
               (double)lines / best, best * 1e9 / (double)lines, (double)allocs / (5.0 * (double)lines));
        printf("%-28s %12.0f %10.1f %12s\n", w ? "W2 counters, snprintf" : "W1 gauges, snprintf",
               (double)lines / best_base, best_base * 1e9 / (double)lines, "-");
    }
    dtm_serializer_free(s);
    return 0;
}
