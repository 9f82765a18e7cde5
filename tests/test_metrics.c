/* Instruments through a real client against dtmetrics-emulator: exact
   totals under contention with a background exporter, the final export on
   close, fork, the series cap, metadata. */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "emulator_harness.h"
#include "testutil.h"

static emu_proc *emu;
static char url[256];

static void setup(void)
{
    const char *args[] = {"--quiet", NULL};
    emu = emu_start(args);
    ck_assert_ptr_nonnull(emu);
    snprintf(url, sizeof url, "%s/metrics/ingest", emu_url(emu));
}

static void teardown(void)
{
    ck_assert_int_eq(emu_stop(emu), 0);
    emu = NULL;
}

static dtm_client *client(dtm_client_mode mode, long interval_ms)
{
    dtm_client_options o;
    dtm_client *c = NULL;
    dtm_client_options_init(&o);
    o.url = url;
    o.ignore_environment = 1;
    o.mode = mode;
    o.flush_interval_ms = interval_ms;
    o.flush_jitter_ms = 0;
    o.serializer.prefix = "t";
    o.serializer.metrics_source = NULL;
    ck_assert_int_eq(dtm_client_new(&c, &o), DTM_OK);
    return c;
}

/* Sum the deltas (or summary fields) of every received line of one key. */
typedef struct totals {
    double delta;
    long long count;
    double sum, min, max;
    long lines, bad;
} totals;

static totals received(const char *key_prefix)
{
    size_t len;
    char *text = emu_lines(emu, &len), *line, *save = NULL;
    totals t;
    size_t kl = strlen(key_prefix);
    memset(&t, 0, sizeof t);
    t.min = 1e300;
    t.max = -1e300;
    ck_assert_ptr_nonnull(text);
    for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        const char *p;
        if (strncmp(line, key_prefix, kl) != 0 || (line[kl] != ',' && line[kl] != ' '))
            continue;
        t.lines++;
        if ((p = strstr(line, " count,delta=")) != NULL) {
            t.delta += strtod(p + 13, NULL);
        } else if ((p = strstr(line, " gauge,min=")) != NULL) {
            double mn, mx, sm;
            long long c;
            if (sscanf(p, " gauge,min=%lf,max=%lf,sum=%lf,count=%lld", &mn, &mx, &sm, &c) != 4) {
                t.bad++;
                continue;
            }
            t.count += c;
            t.sum += sm;
            if (mn < t.min)
                t.min = mn;
            if (mx > t.max)
                t.max = mx;
        }
    }
    free(text);
    return t;
}

START_TEST(manual_flush_exports_the_interval)
{
    dtm_client *c = client(DTM_CLIENT_MANUAL, 60000);
    dtm_counter *req;
    dtm_gauge *temp, *queue;
    dtm_summary *lat;
    dtm_instrument_options io;
    dtm_dimension d[] = {{"method", "GET /x"}};
    dtm_metrics_statistics ms;
    totals t;

    dtm_instrument_options_init(&io);
    io.unit = "ms";
    io.description = "request latency";
    ck_assert_int_eq(dtm_counter_get(c, "requests", d, 1, NULL, &req), DTM_OK);
    ck_assert_int_eq(dtm_gauge_get(c, "temp", NULL, 0, NULL, &temp), DTM_OK);
    io.gauge_mode = DTM_GAUGE_LAST_VALUE;
    ck_assert_int_eq(dtm_gauge_get(c, "queue", NULL, 0, &io, &queue), DTM_OK);
    io.gauge_mode = DTM_GAUGE_SUMMARY;
    ck_assert_int_eq(dtm_summary_get(c, "latency", NULL, 0, &io, &lat), DTM_OK);

    dtm_counter_add_int(req, 3);
    dtm_counter_add(req, 0.5);
    dtm_gauge_set(temp, 20);
    dtm_gauge_set(temp, 22);
    dtm_gauge_set(queue, 4);
    dtm_gauge_set(queue, 9);
    dtm_summary_record(lat, 1.5);
    dtm_summary_record(lat, 2.5);
    ck_assert_int_eq(dtm_client_flush(c, 10000), DTM_OK);

    t = received("t.requests");
    ck_assert_int_eq(t.lines, 1);
    ck_assert_double_eq(t.delta, 3.5);
    t = received("t.temp");
    ck_assert_int_eq(t.count, 2);
    ck_assert_double_eq(t.sum, 42);
    t = received("t.latency");
    ck_assert_int_eq(t.count, 2);
    ck_assert_double_eq(t.min, 1.5);
    ck_assert_double_eq(t.max, 2.5);
    {
        char *all = emu_lines(emu, NULL);
        ck_assert_ptr_nonnull(strstr(all, "t.queue gauge,9 "));
        ck_assert_ptr_nonnull(strstr(all, "t.requests,method=GET\\ /x count,delta=3.5 "));
        ck_assert_ptr_nonnull(strstr(all, "#t.queue gauge dt.meta.description=\"request latency\",dt.meta.unit=ms"));
        free(all);
    }
    /* nothing recorded since: the next flush sends nothing new */
    emu_reset(emu);
    ck_assert_int_eq(dtm_client_flush(c, 10000), DTM_OK);
    t = received("t.requests");
    ck_assert_int_eq(t.lines, 0);

    ck_assert_int_eq(dtm_metrics_stats(c, &ms), DTM_OK);
    ck_assert_uint_eq(ms.series, 4);
    ck_assert_uint_eq(ms.collections, 2);
    ck_assert_uint_eq(ms.lines_collected, 6); /* 4 series + 2 metadata lines */
    dtm_counter_release(req);
    dtm_gauge_release(temp);
    dtm_gauge_release(queue);
    dtm_summary_release(lat);
    ck_assert_int_eq(dtm_client_close(c, 10000), DTM_OK);
    dtm_client_free(c);
}
END_TEST

#define THREADS 4
#define PER_THREAD 200000

typedef struct work {
    dtm_counter *shared, *own;
    dtm_summary *sum;
    int id;
} work;

static void *recorder(void *arg)
{
    work *w = arg;
    long i;
    for (i = 0; i < PER_THREAD; i++) {
        dtm_counter_add_int(w->shared, 1);
        dtm_counter_add(w->own, 0.5);
        dtm_summary_record(w->sum, (double)(i % 100));
    }
    return NULL;
}

START_TEST(background_export_exact_totals)
{
    /* A 20 ms interval: many collections race with the recording threads;
       nothing may be lost or counted twice. */
    dtm_client *c = client(DTM_CLIENT_BACKGROUND, 20);
    pthread_t t[THREADS];
    work w[THREADS];
    char name[32];
    totals tot;
    int i;
    for (i = 0; i < THREADS; i++) {
        w[i].id = i;
        ck_assert_int_eq(dtm_counter_get(c, "shared", NULL, 0, NULL, &w[i].shared), DTM_OK);
        snprintf(name, sizeof name, "own%d", i);
        ck_assert_int_eq(dtm_counter_get(c, name, NULL, 0, NULL, &w[i].own), DTM_OK);
        ck_assert_int_eq(dtm_summary_get(c, "dist", NULL, 0, NULL, &w[i].sum), DTM_OK);
    }
    for (i = 0; i < THREADS; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, recorder, &w[i]), 0);
    for (i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    /* close exports the final interval */
    ck_assert_int_eq(dtm_client_close(c, 30000), DTM_OK);
    dtm_client_free(c);

    tot = received("t.shared");
    ck_assert_double_eq(tot.delta, (double)THREADS * PER_THREAD);
    for (i = 0; i < THREADS; i++) {
        snprintf(name, sizeof name, "t.own%d", i);
        tot = received(name);
        ck_assert_double_eq(tot.delta, PER_THREAD * 0.5);
    }
    tot = received("t.dist");
    ck_assert_int_eq(tot.bad, 0);
    ck_assert_int_eq(tot.count, (long long)THREADS * PER_THREAD);
    ck_assert_double_eq(tot.sum, (double)THREADS * (PER_THREAD / 100) * 4950.0);
    ck_assert_double_eq(tot.min, 0);
    ck_assert_double_eq(tot.max, 99);
}
END_TEST

START_TEST(close_exports_the_final_interval)
{
    dtm_client *c = client(DTM_CLIENT_BACKGROUND, 3600000);
    dtm_counter *h;
    totals t;
    ck_assert_int_eq(dtm_counter_get(c, "last", NULL, 0, NULL, &h), DTM_OK);
    dtm_counter_add_int(h, 42);
    dtm_counter_release(h);
    ck_assert_int_eq(dtm_client_close(c, 10000), DTM_OK);
    dtm_client_free(c);
    t = received("t.last");
    ck_assert_int_eq(t.lines, 1);
    ck_assert_double_eq(t.delta, 42);
}
END_TEST

START_TEST(fork_child_never_sends_parent_data)
{
    dtm_client *c = client(DTM_CLIENT_MANUAL, 60000);
    dtm_counter *h, *other = NULL;
    pid_t pid;
    int status;
    totals t;
    ck_assert_int_eq(dtm_counter_get(c, "forked", NULL, 0, NULL, &h), DTM_OK);
    dtm_counter_add_int(h, 5);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int rc = 0;
        dtm_counter_add_int(h, 7); /* harmless, goes nowhere */
        if (dtm_client_flush(c, 1000) != DTM_ESTATE)
            rc |= 1;
        if (dtm_counter_get(c, "child", NULL, 0, NULL, &other) != DTM_ESTATE)
            rc |= 2;
        if (dtm_metrics_collect(c, 0) != DTM_ESTATE)
            rc |= 4;
        dtm_client_free(c);
        _exit(rc);
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status));
    ck_assert_int_eq(WEXITSTATUS(status), 0);
    ck_assert_int_eq(dtm_client_flush(c, 10000), DTM_OK);
    t = received("t.forked");
    ck_assert_int_eq(t.lines, 1);
    ck_assert_double_eq(t.delta, 5);
    dtm_counter_release(h);
    dtm_client_free(c);
}
END_TEST

START_TEST(series_cap_and_bad_arguments)
{
    dtm_client_options o;
    dtm_client *c = NULL;
    dtm_counter *a, *b, *x;
    dtm_gauge *g;
    dtm_metrics_statistics ms;
    dtm_instrument_options io;
    dtm_client_options_init(&o);
    o.url = url;
    o.ignore_environment = 1;
    o.mode = DTM_CLIENT_MANUAL;
    o.max_series = 2;
    ck_assert_int_eq(dtm_client_new(&c, &o), DTM_OK);
    ck_assert_int_eq(dtm_counter_get(c, "a", NULL, 0, NULL, &a), DTM_OK);
    ck_assert_int_eq(dtm_counter_get(c, "b", NULL, 0, NULL, &b), DTM_OK);
    ck_assert_int_eq(dtm_counter_get(c, "c", NULL, 0, NULL, &x), DTM_EFULL);
    ck_assert_ptr_null(x);
    ck_assert_int_eq(dtm_gauge_get(c, "a", NULL, 0, NULL, &g), DTM_EINVAL); /* kind clash */
    ck_assert_int_eq(dtm_counter_get(c, "", NULL, 0, NULL, &x), DTM_EKEY);
    ck_assert_int_eq(dtm_counter_get(NULL, "a", NULL, 0, NULL, &x), DTM_EINVAL);
    ck_assert_int_eq(dtm_counter_get(c, "a", NULL, 1, NULL, &x), DTM_EINVAL);
    ck_assert_int_eq(dtm_counter_get(c, "a", NULL, 0, NULL, NULL), DTM_EINVAL);
    dtm_instrument_options_init(&io);
    io.gauge_mode = (dtm_gauge_mode)7;
    ck_assert_int_eq(dtm_gauge_get(c, "g", NULL, 0, &io, &g), DTM_EINVAL);
    dtm_counter_add(a, 1.0 / 0.0); /* ignored and counted */
    dtm_counter_add(NULL, 1);      /* no-op */
    ck_assert_int_eq(dtm_metrics_stats(c, &ms), DTM_OK);
    ck_assert_uint_eq(ms.series, 2);
    ck_assert_uint_eq(ms.series_refused, 1);
    ck_assert_uint_eq(ms.invalid_values, 1);
    dtm_counter_release(a);
    dtm_counter_release(b);
    ck_assert_int_eq(dtm_client_close(c, 5000), DTM_OK);
    ck_assert_int_eq(dtm_counter_get(c, "a", NULL, 0, NULL, &x), DTM_ESTATE);
    dtm_client_free(c);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tu_tcase("client", 120);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, manual_flush_exports_the_interval);
    tcase_add_test(tc, background_export_exact_totals);
    tcase_add_test(tc, close_exports_the_final_interval);
    tcase_add_test(tc, fork_child_never_sends_parent_data);
    tcase_add_test(tc, series_cap_and_bad_arguments);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
