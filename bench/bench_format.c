/*
 * Speed of the number formatter, with snprintf("%.17g") as the baseline.
 *
 *   make bench/bench_format
 *   bench/bench_format [--count N]      time N values of each kind (10,000,000)
 *   bench/bench_format --verify N       check N random doubles with strtod;
 *                                       prints the failures (exit 1 if any)
 *
 * Kinds of values: random finite doubles (uniform random bit patterns, so
 * mostly huge and tiny magnitudes and 17-digit results) and "typical metric
 * values" (up to 7 integer digits and 1 to 6 decimals).
 */
#define _POSIX_C_SOURCE 200809L
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dtmetrics.h"
#include "../tests/fmt_verify.h"

/* CPU time of this thread: on a shared machine, wall time mostly measures
   the neighbours.  Each figure below is the best of RUNS runs. */
#define RUNS 3

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Both loops sum the lengths so that the compiler cannot drop the calls. */
static double time_dtm(const double *v, size_t n, size_t *sum)
{
    char buf[DTM_NUMBER_BUFSIZE];
    size_t i, len, total = 0;
    double t0 = now_seconds();
    for (i = 0; i < n; i++) {
        if (dtm_format_double(v[i], buf, sizeof buf, &len) != DTM_OK)
            return -1;
        total += len + (unsigned char)buf[0];
    }
    *sum = total;
    return now_seconds() - t0;
}

static double time_snprintf(const double *v, size_t n, size_t *sum)
{
    char buf[DTM_NUMBER_BUFSIZE];
    size_t i, total = 0;
    double t0 = now_seconds();
    for (i = 0; i < n; i++)
        total += (size_t)snprintf(buf, sizeof buf, "%.17g", v[i]) + (unsigned char)buf[0];
    *sum = total;
    return now_seconds() - t0;
}

static int run_timing(size_t n)
{
    double *v = malloc(n * sizeof *v);
    uint64_t state = UINT64_C(0xbe7c4);
    size_t i, sum1 = 0, sum2 = 0;
    int kind, run;

    if (!v) {
        fprintf(stderr, "bench_format: out of memory\n");
        return 1;
    }
    printf("values per run: %zu; best of %d runs; thread CPU time\n", n, RUNS);
    for (kind = 0; kind < 2; kind++) {
        double t_dtm, t_printf;
        for (i = 0; i < n; i++)
            v[i] = kind == 0 ? fv_random_bits(&state) : fv_metric(&state);
        t_dtm = t_printf = 1e300;
        for (run = 0; run < RUNS; run++) {
            double t1 = time_dtm(v, n, &sum1), t2 = time_snprintf(v, n, &sum2);
            if (t1 < 0)
                break;
            t_dtm = t1 < t_dtm ? t1 : t_dtm;
            t_printf = t2 < t_printf ? t2 : t_printf;
        }
        if (run < RUNS) {
            fprintf(stderr, "bench_format: dtm_format_double failed\n");
            free(v);
            return 1;
        }
        printf("%-28s dtm_format_double %7.2f M/s (%6.1f ns)   snprintf %%.17g %6.2f M/s "
               "(%6.1f ns)   speed-up %.1fx   [%zu %zu]\n",
               kind == 0 ? "random finite doubles:" : "typical metric values:",
               (double)n / t_dtm / 1e6, t_dtm / (double)n * 1e9, (double)n / t_printf / 1e6,
               t_printf / (double)n * 1e9, t_printf / t_dtm, sum1 % 1000, sum2 % 1000);
    }
    free(v);
    return 0;
}

static int run_verify(size_t n)
{
    uint64_t state = UINT64_C(0x7e51f1);
    size_t i, failures = 0;
    for (i = 0; i < n; i++) {
        char buf[DTM_NUMBER_BUFSIZE];
        size_t len = 0;
        double v = (i % 4 == 3) ? fv_metric(&state) : fv_random_bits(&state);
        const char *why = dtm_format_double(v, buf, sizeof buf, &len) == DTM_OK
                              ? fv_check(v, buf, len)
                              : "status";
        if (why && failures++ < 20)
            printf("FAIL %a (%.17g) -> \"%s\": %s\n", v, v, buf, why);
    }
    printf("verified %zu values (3/4 random bit patterns, 1/4 metric values): %zu failures\n", n,
           failures);
    return failures != 0;
}

int main(int argc, char **argv)
{
    size_t count = 10000000;
    if (argc == 3 && strcmp(argv[1], "--verify") == 0)
        return run_verify((size_t)strtoull(argv[2], NULL, 10));
    if (argc == 3 && strcmp(argv[1], "--count") == 0)
        count = (size_t)strtoull(argv[2], NULL, 10);
    else if (argc != 1) {
        fprintf(stderr, "usage: %s [--count N | --verify N]\n", argv[0]);
        return 2;
    }
    return run_timing(count ? count : 1);
}
