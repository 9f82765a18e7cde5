/*
 * threads: several threads record into shared and per-thread series while
 * the library's exporter thread sends every second.  The recording calls
 * take no lock and allocate nothing.
 */
#include <pthread.h>
#include <stdio.h>

#include <dtmetrics.h>

#define THREADS 4
#define EVENTS 1000000

typedef struct worker {
    dtm_client *client;
    int id;
    pthread_t thread;
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    char id[16];
    dtm_dimension dims[1];
    dtm_counter *all, *mine;
    dtm_summary *size;
    long i;

    snprintf(id, sizeof id, "%d", w->id);
    dims[0].key = "worker";
    dims[0].value = id;
    if (dtm_counter_get(w->client, "events", NULL, 0, NULL, &all) != DTM_OK
        || dtm_counter_get(w->client, "events.by_worker", dims, 1, NULL, &mine) != DTM_OK
        || dtm_summary_get(w->client, "event.size", NULL, 0, NULL, &size) != DTM_OK)
        return (void *)1;
    for (i = 0; i < EVENTS; i++) {
        dtm_counter_add_int(all, 1);
        dtm_counter_add_int(mine, 1);
        dtm_summary_record(size, (double)(64 + i % 1024));
    }
    dtm_counter_release(all);
    dtm_counter_release(mine);
    dtm_summary_release(size);
    return NULL;
}

int main(void)
{
    dtm_client_options o;
    dtm_client_statistics st;
    dtm_client *c;
    worker w[THREADS];
    int i, failed = 0;
    dtm_status rc;

    dtm_client_options_init(&o);
    o.serializer.prefix = "example.threads";
    o.flush_interval_ms = 1000;
    rc = dtm_client_new(&c, &o);
    if (rc != DTM_OK) {
        fprintf(stderr, "threads: %s\n", dtm_strerror(rc));
        return 1;
    }
    for (i = 0; i < THREADS; i++) {
        w[i].client = c;
        w[i].id = i;
        if (pthread_create(&w[i].thread, NULL, work, &w[i]) != 0)
            return 1;
    }
    for (i = 0; i < THREADS; i++) {
        void *r;
        pthread_join(w[i].thread, &r);
        failed |= r != NULL;
    }
    rc = dtm_client_close(c, 10000);
    dtm_client_stats(c, &st);
    printf("threads: %d x %d events recorded; %llu lines sent, %llu accepted: %s\n", THREADS,
           EVENTS, (unsigned long long)st.lines_sent, (unsigned long long)st.lines_accepted,
           dtm_strerror(rc));
    dtm_client_free(c);
    return failed || rc != DTM_OK ? 1 : 0;
}
