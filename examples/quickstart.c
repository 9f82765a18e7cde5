/*
 * quickstart: counters and gauges with a prefix and default dimensions, and
 * no configuration at all: the lines go to the local OneAgent
 * (http://localhost:14499/metrics/ingest), or to DT_METRICS_INGEST_URL with
 * DT_METRICS_INGEST_API_TOKEN when those are set.
 *
 * It records for a few seconds (QUICKSTART_SECONDS, default 3), exports,
 * closes, and exits 0 only if every line was accepted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <dtmetrics.h>

static void sleep_ms(long ms)
{
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    nanosleep(&ts, NULL);
}

int main(void)
{
    dtm_dimension defaults[] = {{"service", "quickstart"}, {"env", "dev"}};
    dtm_dimension get[] = {{"method", "GET"}}, post[] = {{"method", "POST"}};
    dtm_client_options o;
    dtm_client_statistics st;
    dtm_client *c;
    dtm_counter *gets, *posts;
    dtm_gauge *queue;
    dtm_summary *latency;
    dtm_instrument_options ms;
    char err[256];
    const char *env = getenv("QUICKSTART_SECONDS");
    long seconds = env ? atol(env) : 3, i;
    dtm_status rc;

    dtm_client_options_init(&o);
    o.serializer.prefix = "quickstart";
    o.serializer.default_dimensions = defaults;
    o.serializer.n_default_dimensions = 2;
    o.flush_interval_ms = 1000; /* export every second (the default is 60 s) */
    o.flush_jitter_ms = 0;
    o.errbuf = err;
    o.errbuf_size = sizeof err;
    rc = dtm_client_new(&c, &o);
    if (rc != DTM_OK) {
        fprintf(stderr, "quickstart: %s: %s\n", dtm_strerror(rc), err);
        return 1;
    }

    dtm_instrument_options_init(&ms);
    ms.unit = "ms";
    ms.description = "Time to answer a request";
    if (dtm_counter_get(c, "http.requests", get, 1, NULL, &gets) != DTM_OK
        || dtm_counter_get(c, "http.requests", post, 1, NULL, &posts) != DTM_OK
        || dtm_gauge_get(c, "queue.length", NULL, 0, NULL, &queue) != DTM_OK
        || dtm_summary_get(c, "http.latency", NULL, 0, &ms, &latency) != DTM_OK) {
        fprintf(stderr, "quickstart: could not create the instruments\n");
        dtm_client_free(c);
        return 1;
    }

    for (i = 0; i < seconds * 20; i++) {
        dtm_counter_add_int(gets, 3);
        dtm_counter_add_int(posts, 1);
        dtm_gauge_set(queue, (double)(i % 17));
        dtm_summary_record(latency, 12.5 + (double)(i % 10) * 0.75);
        sleep_ms(50);
    }

    dtm_counter_release(gets);
    dtm_counter_release(posts);
    dtm_gauge_release(queue);
    dtm_summary_release(latency);
    rc = dtm_client_close(c, 10000); /* exports the last interval */
    dtm_client_stats(c, &st);
    printf("quickstart: %llu lines submitted, %llu accepted, %llu rejected, %llu dropped",
           (unsigned long long)st.lines_submitted, (unsigned long long)st.lines_accepted,
           (unsigned long long)st.lines_rejected, (unsigned long long)st.lines_dropped);
    if (st.last_error[0])
        printf(" (last problem: %s)", st.last_error);
    printf("\n");
    dtm_client_free(c);
    return rc == DTM_OK && st.lines_submitted > 0 && st.lines_accepted == st.lines_submitted
               ? 0
               : 1;
}
