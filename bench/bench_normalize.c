/*
 * Micro-benchmark of the normalizers: nanoseconds per call on typical ASCII
 * input and on input that needs replacements or escapes, plus the
 * normalizer work of one typical line (key + 5 dimensions).
 *
 *   make bench/bench_normalize && ./bench/bench_normalize [iterations]
 *
 * Each figure is the best of five rounds of thread CPU time, so that other
 * load on a shared machine inflates it less.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "norm.h"

static volatile size_t sink;

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

typedef size_t (*bench_fn)(const char *in, size_t n);

static size_t run_metric_key(const char *in, size_t n)
{
    dtm__mkey k;
    dtm__mkey_init(&k);
    dtm__mkey_feed(&k, in, n);
    return k.len + (size_t)dtm__mkey_status(&k);
}

static dtm__mkey prefix_state;

static size_t run_prefixed_key(const char *in, size_t n)
{
    dtm__mkey k;
    dtm__mkey_copy(&k, &prefix_state); /* what the serializer does per line */
    dtm__mkey_feed(&k, in, n);
    return k.len;
}

static size_t run_dim_key(const char *in, size_t n)
{
    char out[DTM_MAX_DIMENSION_KEY_LEN];
    return dtm__norm_dim_key(in, n, out) + (unsigned char)out[0];
}

static size_t run_dim_value(const char *in, size_t n)
{
    char out[DTM_MAX_DIMENSION_VALUE_BYTES];
    size_t units;
    return dtm__norm_dim_value(in, n, out, &units) + units + (unsigned char)out[0];
}

static size_t run_meta(const char *in, size_t n)
{
    char out[1024];
    dtm__writer w;
    dtm__writer_init(&w, out, sizeof out);
    return (size_t)dtm__norm_meta_string(in, n, DTM_MAX_DISPLAY_NAME_LEN, &w) + w.len;
}

static size_t run_public_value(const char *in, size_t n)
{
    char out[DTM_MAX_DIMENSION_VALUE_BYTES + 1];
    size_t len = 0;
    dtm_normalize_dimension_value(in, n, out, sizeof out, &len);
    return len;
}

static size_t run_unit(const char *in, size_t n)
{
    return (size_t)dtm_unit_is_valid(in, n);
}

/* The normalizer part of one line: a prefixed key, 5 dimension keys and
   5 values, as the serializer would run them. */
static const char *const line_dims[5][2] = {
    {"http.method", "GET"},
    {"http.status_code", "200"},
    {"service.name", "checkout-service"},
    {"host.name", "web-frontend-01.example.com"},
    {"dt.entity.process_group_instance", "PROCESS_GROUP_INSTANCE-3F2C1A9B8E7D6C5B"},
};

static size_t run_line(const char *in, size_t n)
{
    char kout[DTM_MAX_DIMENSION_KEY_LEN], vout[DTM_MAX_DIMENSION_VALUE_BYTES];
    size_t acc = run_prefixed_key(in, n), i, units;
    for (i = 0; i < 5; i++) {
        acc += dtm__norm_dim_key(line_dims[i][0], strlen(line_dims[i][0]), kout);
        acc += dtm__norm_dim_value(line_dims[i][1], strlen(line_dims[i][1]), vout, &units);
    }
    return acc;
}

static void bench(const char *name, bench_fn fn, const char *in, long iters)
{
    size_t n = strlen(in);
    double best = 1e30;
    int round;
    for (round = 0; round < 5; round++) {
        double t0 = now_ns(), dt;
        long i;
        size_t acc = 0;
        for (i = 0; i < iters; i++)
            acc += fn(in, n);
        dt = (now_ns() - t0) / (double)iters;
        sink += acc;
        if (dt < best)
            best = dt;
    }
    printf("%-34s %4zu B  %8.1f ns/call\n", name, n, best);
}

int main(int argc, char **argv)
{
    long iters = argc > 1 ? strtol(argv[1], NULL, 10) : 1000000;
    if (iters <= 0)
        iters = 1000000;

    dtm__mkey_init(&prefix_state);
    dtm__mkey_feed(&prefix_state, "myapp", 5);
    dtm__mkey_feed(&prefix_state, ".", 1);

    printf("normalizers, best of 5 rounds of %ld calls\n", iters);
    bench("metric key, ASCII", run_metric_key, "myapp.http.server.requests_total", iters);
    bench("metric key, replacements", run_metric_key, "my app/requests (total) \xC3\xBC.1x",
          iters);
    bench("metric key after prefix state", run_prefixed_key, "http.server.requests_total",
          iters);
    bench("dimension key, ASCII", run_dim_key, "http.status_code", iters);
    bench("dimension key, upper/invalid", run_dim_key, "HTTP Status-Code!\xC3\xA4", iters);
    bench("dimension value, ASCII", run_dim_value, "checkout-service", iters);
    bench("dimension value, long ASCII", run_dim_value,
          "PROCESS_GROUP_INSTANCE-3F2C1A9B8E7D6C5B/web-frontend-01.example.com", iters);
    bench("dimension value, escapes", run_dim_value, "a b,c=d \"quoted\" C:\\path\\x", iters);
    bench("dimension value, UTF-8", run_dim_value, "M\xC3\xBCnchen \xE2\x82\xAC \xF0\x9F\x98\x80",
          iters);
    bench("dimension value, caller-quoted", run_dim_value, "\"a b, c=d\"", iters);
    bench("dimension value, public API", run_public_value, "checkout-service", iters);
    bench("metadata string, fast path", run_meta, "Requests served", iters);
    bench("metadata string, slow path", run_meta, "line one\nline \"two\"\x01", iters);
    bench("unit check", run_unit, "{request}/s", iters);
    bench("line: prefixed key + 5 dims", run_line, "http.server.requests_total", iters);
    return sink == 42 ? 1 : 0;
}
