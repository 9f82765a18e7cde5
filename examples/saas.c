/*
 * saas: send to a Dynatrace environment.  The endpoint and token come from
 * the environment:
 *
 *   DT_METRICS_INGEST_URL=https://{env-id}.live.dynatrace.com/api/v2/metrics/ingest
 *   DT_METRICS_INGEST_API_TOKEN=dt0c01....   (scope metrics.ingest)
 *
 * It sends a few lines in manual mode (no library thread), prints what the
 * server said about each rejected line, and exits 0 only when all were
 * accepted.
 */
#include <stdio.h>
#include <stdlib.h>

#include <dtmetrics.h>

static void on_rejected(const char *line, size_t len, const char *reason, void *ud)
{
    (void)ud;
    fprintf(stderr, "rejected: %.*s: %s\n", (int)len, line, reason);
}

static void on_log(dtm_log_level level, const char *message, void *ud)
{
    static const char *names[] = {"error", "warning", "info", "debug"};
    (void)ud;
    fprintf(stderr, "dtmetrics %s: %s\n", names[level], message);
}

int main(void)
{
    dtm_dimension dims[] = {{"region", "eu-west 1"}};
    dtm_client_options o;
    dtm_client_statistics st;
    dtm_client *c;
    char err[256];
    dtm_status rc;
    int64_t now = dtm_now_ms();

    if (!getenv("DT_METRICS_INGEST_URL") || !getenv("DT_METRICS_INGEST_API_TOKEN")) {
        fprintf(stderr, "saas: set DT_METRICS_INGEST_URL and DT_METRICS_INGEST_API_TOKEN\n");
        return 2;
    }
    dtm_client_options_init(&o);
    o.mode = DTM_CLIENT_MANUAL;
    o.serializer.prefix = "example.saas";
    o.log_fn = on_log;
    o.log_level = DTM_LOG_WARN;
    o.rejected_fn = on_rejected;
    o.errbuf = err;
    o.errbuf_size = sizeof err;
    rc = dtm_client_new(&c, &o);
    if (rc != DTM_OK) {
        fprintf(stderr, "saas: %s: %s\n", dtm_strerror(rc), err);
        return 1;
    }
    dtm_client_add_metadata(c, "disk.free", DTM_METRIC_GAUGE, "Free space on the data disk",
                            "Byte", "Free disk space");
    dtm_client_add_gauge(c, "disk.free", dims, 1, 1.5e9, now);
    dtm_client_add_counter_int(c, "jobs.done", dims, 1, 12, now);
    dtm_client_add_summary(c, "job.duration", dims, 1, 0.8, 4.2, 21.3, 12, now);
    rc = dtm_client_flush(c, 30000);
    dtm_client_stats(c, &st);
    printf("saas: %s; %llu accepted, %llu rejected, %llu dropped\n", dtm_strerror(rc),
           (unsigned long long)st.lines_accepted, (unsigned long long)st.lines_rejected,
           (unsigned long long)st.lines_dropped);
    dtm_client_close(c, 5000);
    dtm_client_free(c);
    return rc == DTM_OK ? 0 : 1;
}
