/*
 * Parser throughput (dtm_parse_line) on typical lines, one core:
 *   P1 gauges like the serializer's W1: prefixed key, 5 dimensions (two with
 *      escapes), a non-integral value written with up to 17 digits, timestamp;
 *   P2 counters with an integral delta, 2 dimensions, no timestamp;
 *   P3 summaries, 3 dimensions, one quoted value;
 *   P4 metadata lines;
 *   P5 long lines: 50 dimensions, ~2.4 KB;
 *   P6 a mixed stream of P1..P4 (what dtmetrics-send sees).
 * Each workload cycles through 1,024 prepared lines whose numbers differ; one
 * value in four has 17 significant digits (read by strtod_l), the others
 * take the exact fast path.  Reports
 * lines/s, ns/line and MB/s (best of 5 runs), measured in CPU time of the
 * thread so that other load on the machine does not count.
 *
 *   bench/bench_parse [lines]          (default 1000000)
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dtmetrics.h"

#define NPREP 1024

typedef struct prepared {
    char *text[NPREP];
    size_t len[NPREP];
} prepared;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts); /* other load does not count */
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void add(prepared *p, int i, const char *s)
{
    p->len[i] = strlen(s);
    p->text[i] = malloc(p->len[i] + 1);
    if (!p->text[i])
        exit(1);
    memcpy(p->text[i], s, p->len[i] + 1);
}

static const char *methods[] = {"GET\\ /api/users", "POST\\ /api/orders", "GET\\ /health",
                                "PUT\\ /api/x"};
static const char *regions[] = {"eu-west\\,1", "us-east\\,2", "ap-south\\,3"};

static void make(prepared *p, int workload)
{
    char buf[4096];
    int i, k;
    for (i = 0; i < NPREP; i++) {
        int n = 0, w = workload == 6 ? 1 + i % 4 : workload;
        char v[32];
        int mn = 1 + i % 7;
        /* most values short ("12.501"), one in four needing 17 digits */
        if (i % 4 == 3)
            snprintf(v, sizeof v, "%.17g", 12.5 + (double)i * 0.001 + 1e-9);
        else
            snprintf(v, sizeof v, "%d.%03d", 12 + i % 100, i % 1000);
        switch (w) {
        case 1:
            snprintf(buf, sizeof buf,
                     "myprefix.app.request.latency,service=checkout,env=prod,host=web-01,"
                     "method=%s,region=%s gauge,%s %lld",
                     methods[i & 3], regions[i % 3], v, 1700000000000LL + i);
            break;
        case 2:
            snprintf(buf, sizeof buf,
                     "http.server.requests,route=/api/users,status=200 count,delta=%d", i % 50);
            break;
        case 3:
            snprintf(buf, sizeof buf,
                     "db.query.duration,db=orders,op=select,stmt=\"select * from t, u\" "
                     "gauge,min=%d.25,max=%d.75,sum=%d,count=4",
                     mn, mn + 10, 4 * mn + 22);
            break;
        case 4:
            snprintf(buf, sizeof buf,
                     "#app.request.latency gauge dt.meta.description=\"Latency of request %d, "
                     "end to end\",dt.meta.unit=MilliSecond,dt.meta.displayName=\"Latency %d\"",
                     i, i);
            break;
        default:
            n = snprintf(buf, sizeof buf, "app.wide.metric");
            for (k = 0; k < 50; k++)
                n += snprintf(buf + n, sizeof buf - (size_t)n,
                              ",dimension.key_%02d=value\\ %d\\,%d", k, k, i);
            snprintf(buf + n, sizeof buf - (size_t)n, " gauge,%s %lld", v, 1700000000000LL + i);
            break;
        }
        add(p, i, buf);
    }
}

static double run(const prepared *p, long lines, size_t *bytes)
{
    double t0 = now_s();
    size_t total = 0;
    long i;
    for (i = 0; i < lines; i++) {
        dtm_parse_result r;
        int k = (int)(i & (NPREP - 1));
        if (dtm_parse_line(p->text[k], p->len[k], &r) != DTM_OK) {
            fprintf(stderr, "parse failed: %s at %zu in %s\n", r.error, r.error_offset, p->text[k]);
            exit(1);
        }
        total += p->len[k];
    }
    *bytes = total;
    return now_s() - t0;
}

int main(int argc, char **argv)
{
    static const char *names[] = {"", "P1 gauges (W1-like)", "P2 counters", "P3 summaries",
                                  "P4 metadata lines", "P5 50 dimensions", "P6 mixed P1..P4"};
    long lines = argc > 1 ? atol(argv[1]) : 1000000;
    int w, run_no, i;
    if (lines <= 0)
        lines = 1000000;
    printf("%-22s %12s %10s %9s %10s\n", "workload", "lines/s", "ns/line", "MB/s", "bytes/line");
    for (w = 1; w <= 6; w++) {
        prepared p;
        double best = 1e9;
        size_t bytes = 0;
        make(&p, w);
        for (run_no = 0; run_no < 5; run_no++) {
            double t = run(&p, lines, &bytes);
            if (t < best)
                best = t;
        }
        printf("%-22s %12.0f %10.1f %9.1f %10.1f\n", names[w], (double)lines / best,
               best * 1e9 / (double)lines, (double)bytes / best / 1e6,
               (double)bytes / (double)lines);
        for (i = 0; i < NPREP; i++)
            free(p.text[i]);
    }
    return 0;
}
