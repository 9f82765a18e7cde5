/*
 * End-to-end throughput of the client over loopback: W1 lines (key
 * "app.request.latency", prefix "myprefix", 3 default dimensions, 2 per-line
 * dimensions whose values hold a space and a comma, a non-integral value, a
 * timestamp) recorded with dtm_client_add_gauge from one thread, sent by the
 * exporter thread in 1,000-line batches to dtmetrics-emulator --quiet, until
 * dtm_client_close returns.  Next to it, the transport ceiling: a minimal
 * libcurl loop posting one fixed 1,000-line body over a kept-alive
 * connection to the same emulator.
 *
 *   bench/bench_client [--lines N] [--runs R] [--validate] [--emulator PATH]
 *
 * The emulator runs as a plain sink (--sink) unless --validate is given,
 * then it checks every line like the service (and is the bottleneck).
 *
 * Defaults: 1,000,000 lines, best of 3 runs, PATH = tools/dtmetrics-emulator
 * next to this program's directory.  CPU per line is the process's user +
 * system time (the producer and the exporter thread; not the emulator).
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "dtmetrics.h"

#define TOKEN "dt0c01.BENCHBENCHBENCHBENCHBENCH00.benchsecretbenchsecretbenchsecretbenchsecretbenchsecret0000"

static const char *methods[] = {"GET /api/users", "POST /api/orders", "GET /health", "PUT /api/x"};
static const char *regions[] = {"eu-west,1", "us-east,2", "ap-south,3"};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* ---- the emulator as a child process ---- */
static pid_t emu_pid;
static char emu_base[256];

/* 0: the emulator is a plain sink (--sink); 1: it validates every line. */
static int validate;

static int start_emulator(const char *path)
{
    int fds[2];
    FILE *f;
    char line[256];
    if (pipe(fds) != 0)
        return -1;
    emu_pid = fork();
    if (emu_pid < 0)
        return -1;
    if (emu_pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        if (validate)
            execl(path, path, "--port", "0", "--quiet", "--token", TOKEN, (char *)NULL);
        else
            execl(path, path, "--port", "0", "--quiet", "--sink", "--token", TOKEN, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    f = fdopen(fds[0], "r");
    if (!f || !fgets(line, sizeof line, f) || strncmp(line, "listening on ", 13) != 0) {
        fprintf(stderr, "bench: the emulator (%s) did not start\n", path);
        return -1;
    }
    line[strcspn(line, "\r\n")] = '\0';
    snprintf(emu_base, sizeof emu_base, "%s", line + 13);
    /* Keep the pipe open: the emulator writes nothing more with --quiet. */
    return 0;
}

static void stop_emulator(void)
{
    int st;
    if (emu_pid > 0) {
        kill(emu_pid, SIGTERM);
        waitpid(emu_pid, &st, 0);
    }
}

/* ---- end to end through dtm_client ---- */
static int run_client(const char *url, long lines, double *secs, double *cpu,
                      dtm_client_statistics *out)
{
    dtm_dimension defs[] = {{"service", "checkout"}, {"env", "prod"}, {"host", "web-01"}};
    dtm_client_options o;
    dtm_client *c;
    char err[256];
    double t0, c0;
    int64_t ts = dtm_now_ms();
    long i;
    dtm_status st;

    dtm_client_options_init(&o);
    o.url = url;
    o.token = TOKEN;
    o.ignore_environment = 1;
    o.serializer.prefix = "myprefix";
    o.serializer.default_dimensions = defs;
    o.serializer.n_default_dimensions = 3;
    o.serializer.metrics_source = NULL;
    o.overflow = DTM_OVERFLOW_BLOCK; /* nothing may be lost here */
    o.block_timeout_ms = 60000;
    o.max_queue_lines = 16384;
    o.max_queue_bytes = 8u << 20;
    o.errbuf = err;
    o.errbuf_size = sizeof err;
    if (dtm_client_new(&c, &o) != DTM_OK) {
        fprintf(stderr, "bench: dtm_client_new: %s\n", err);
        return -1;
    }
    t0 = now_s();
    c0 = cpu_s();
    for (i = 0; i < lines; i++) {
        dtm_dimension d[2];
        d[0].key = "method";
        d[0].value = methods[i & 3];
        d[1].key = "region";
        d[1].value = regions[i % 3];
        st = dtm_client_add_gauge(c, "app.request.latency", d, 2, 12.5 + (double)i * 0.001,
                                  ts + (i & 1023));
        if (st != DTM_OK) {
            fprintf(stderr, "bench: add: %s\n", dtm_strerror(st));
            return -1;
        }
    }
    st = dtm_client_close(c, 120000);
    *secs = now_s() - t0;
    *cpu = cpu_s() - c0;
    dtm_client_stats(c, out);
    dtm_client_free(c);
    if (st != DTM_OK || out->lines_accepted != (uint64_t)lines) {
        fprintf(stderr, "bench: close: %s, %llu of %ld accepted\n", dtm_strerror(st),
                (unsigned long long)out->lines_accepted, lines);
        return -1;
    }
    return 0;
}

/* ---- the recording path alone: serialize + queue, nothing sent ---- */
static double run_record_only(long lines, double *cpu)
{
    dtm_dimension defs[] = {{"service", "checkout"}, {"env", "prod"}, {"host", "web-01"}};
    dtm_client_options o;
    dtm_client *c;
    double t0;
    int64_t ts = dtm_now_ms();
    long i;

    dtm_client_options_init(&o);
    o.mode = DTM_CLIENT_MANUAL;
    o.ignore_environment = 1;
    o.serializer.prefix = "myprefix";
    o.serializer.default_dimensions = defs;
    o.serializer.n_default_dimensions = 3;
    o.serializer.metrics_source = NULL;
    o.max_queue_bytes = 8u << 20; /* fills, then drops the oldest: same work per line */
    if (dtm_client_new(&c, &o) != DTM_OK)
        return -1;
    t0 = now_s();
    *cpu = cpu_s();
    for (i = 0; i < lines; i++) {
        dtm_dimension d[2];
        d[0].key = "method";
        d[0].value = methods[i & 3];
        d[1].key = "region";
        d[1].value = regions[i % 3];
        dtm_client_add_gauge(c, "app.request.latency", d, 2, 12.5 + (double)i * 0.001,
                             ts + (i & 1023));
    }
    t0 = now_s() - t0;
    *cpu = cpu_s() - *cpu;
    dtm_client_free(c);
    return t0;
}

/* ---- the transport ceiling: one fixed body, posted again and again ---- */
static size_t sink(char *p, size_t s, size_t n, void *u)
{
    (void)p;
    (void)u;
    return s * n;
}

static int run_ceiling(const char *url, long lines, double *secs, double *cpu)
{
    dtm_dimension defs[] = {{"service", "checkout"}, {"env", "prod"}, {"host", "web-01"}};
    dtm_serializer_options so;
    dtm_serializer *s;
    char *body = malloc(1000000), line[1024];
    size_t blen = 0, len;
    struct curl_slist *h = NULL;
    CURL *e;
    long i, requests = lines / 1000, code = 0;
    double t0, c0;
    int64_t ts = dtm_now_ms();

    dtm_serializer_options_init(&so);
    so.prefix = "myprefix";
    so.default_dimensions = defs;
    so.n_default_dimensions = 3;
    if (!body || dtm_serializer_new(&s, &so) != DTM_OK)
        return -1;
    for (i = 0; i < 1000; i++) {
        dtm_dimension d[2] = {{"method", methods[i & 3]}, {"region", regions[i % 3]}};
        dtm_serialize_gauge(s, "app.request.latency", d, 2, 12.5 + (double)i * 0.001, ts + i,
                            line, sizeof line, &len);
        if (i)
            body[blen++] = '\n';
        memcpy(body + blen, line, len);
        blen += len;
    }
    dtm_serializer_free(s);
    e = curl_easy_init();
    h = curl_slist_append(h, "Content-Type: text/plain; charset=utf-8");
    h = curl_slist_append(h, "Authorization: Api-Token " TOKEN);
    h = curl_slist_append(h, "Expect:");
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)blen);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
    t0 = now_s();
    c0 = cpu_s();
    for (i = 0; i < requests; i++) {
        if (curl_easy_perform(e) != CURLE_OK)
            return -1;
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
        if (code != 202)
            return -1;
    }
    *secs = now_s() - t0;
    *cpu = cpu_s() - c0;
    curl_easy_cleanup(e);
    curl_slist_free_all(h);
    free(body);
    return 0;
}

int main(int argc, char **argv)
{
    long lines = 1000000, runs = 3, r;
    char emu_path[512], url[320];
    double best = 1e9, best_cpu = 0, best_ceiling = 1e9, ceiling_cpu = 0, best_record = 1e9, record_cpu = 0;
    dtm_client_statistics st;
    int i;

    snprintf(emu_path, sizeof emu_path, "%s", argv[0]);
    {
        char *slash = strrchr(emu_path, '/');
        char *up;
        if (slash)
            *slash = '\0';
        else
            strcpy(emu_path, ".");
        up = strrchr(emu_path, '/');
        /* bench/bench_client (or bench/.libs/...) -> tools/dtmetrics-emulator */
        if (up && strcmp(up, "/.libs") == 0)
            *up = '\0';
        strcat(emu_path, "/../tools/dtmetrics-emulator");
    }
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--lines") == 0 && i + 1 < argc)
            lines = atol(argv[++i]);
        else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
            runs = atol(argv[++i]);
        else if (strcmp(argv[i], "--validate") == 0)
            validate = 1;
        else if (strcmp(argv[i], "--emulator") == 0 && i + 1 < argc)
            snprintf(emu_path, sizeof emu_path, "%s", argv[++i]);
        else {
            fprintf(stderr, "usage: %s [--lines N] [--runs R] [--validate] [--emulator PATH]\n", argv[0]);
            return 2;
        }
    }
    if (lines < 1000 || runs < 1)
        return 2;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (start_emulator(emu_path) != 0)
        return 1;
    snprintf(url, sizeof url, "%s/api/v2/metrics/ingest", emu_base);
    for (r = 0; r < runs; r++) {
        double t, cpu;
        if (run_ceiling(url, lines, &t, &cpu) != 0) {
            fprintf(stderr, "bench: the libcurl loop failed\n");
            stop_emulator();
            return 1;
        }
        if (t < best_ceiling) {
            best_ceiling = t;
            ceiling_cpu = cpu;
        }
        if (run_client(url, lines, &t, &cpu, &st) != 0) {
            stop_emulator();
            return 1;
        }
        if (t < best) {
            best = t;
            best_cpu = cpu;
        }
        t = run_record_only(lines, &cpu);
        if (t > 0 && t < best_record) {
            best_record = t;
            record_cpu = cpu;
        }
    }
    stop_emulator();
    printf("%ld W1 lines, 1,000-line batches, best of %ld, loopback to dtmetrics-emulator --quiet%s\n",
           lines, runs, validate ? "" : " --sink");
    printf("%-44s %12s %12s\n", "", "lines/s", "CPU ns/line");
    printf("%-44s %12.0f %12.1f\n", "dtm_client_add_gauge -> close (end to end)",
           (double)lines / best, best_cpu * 1e9 / (double)lines);
    printf("%-44s %12.0f %12.1f\n", "libcurl loop, fixed 1,000-line body (ceiling)",
           (double)(lines / 1000 * 1000) / best_ceiling, ceiling_cpu * 1e9 / (double)lines);
    printf("%-44s %12.0f %12.1f\n", "dtm_client_add_gauge only (serialize + queue)",
           (double)lines / best_record, record_cpu * 1e9 / (double)lines);
    printf("end to end / ceiling: %.0f%%   (requests %llu, bytes %llu)\n",
           100.0 * best_ceiling / best * (double)lines / (double)(lines / 1000 * 1000),
           (unsigned long long)st.requests, (unsigned long long)st.bytes_sent);
    return 0;
}
