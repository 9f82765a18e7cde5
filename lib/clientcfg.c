/*
 * Client configuration: option defaults and checks, where the endpoint
 * comes from (caller, environment, endpoint.properties, default), and the
 * rules an endpoint must follow before anything is sent.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clientimpl.h"
#include "enrich.h"

void dtm_client_options_init(dtm_client_options *o)
{
    if (!o)
        return;
    memset(o, 0, sizeof *o);
    o->mode = DTM_CLIENT_BACKGROUND;
    o->flush_interval_ms = 60000;
    o->flush_jitter_ms = 5000;
    o->max_queue_lines = 65536;
    o->max_queue_bytes = 8u * 1024u * 1024u;
    o->overflow = DTM_OVERFLOW_DROP_OLDEST;
    o->block_timeout_ms = 100;
    o->batch_max_lines = 1000;
    o->batch_max_bytes = 1000000;
    o->connect_timeout_ms = 5000;
    o->request_timeout_ms = 10000;
    o->retry_initial_ms = 1000;
    o->retry_max_delay_ms = 30000;
    o->retry_max_time_ms = 300000;
    dtm_serializer_options_init(&o->serializer);
    o->serializer.metrics_source = "libdtmetrics";
    o->log_level = DTM_LOG_INFO;
}

#define ONE_HOUR_MS 3600000L

static int bad_range(long v, long lo, long hi)
{
    return v < lo || v > hi;
}

static char *dup_opt(const char *s, int *failed)
{
    char *p;
    if (!s)
        return NULL;
    p = dtm__strdup(s);
    if (!p)
        *failed = 1;
    return p;
}

dtm_status dtm__client_apply_options(dtm_client *c, const dtm_client_options *o, char *msg,
                                     size_t msg_size)
{
    const char *what = NULL;
    int failed = 0;

    if (o->mode != DTM_CLIENT_BACKGROUND && o->mode != DTM_CLIENT_MANUAL)
        what = "mode";
    else if (o->overflow != DTM_OVERFLOW_DROP_OLDEST && o->overflow != DTM_OVERFLOW_DROP_NEWEST &&
             o->overflow != DTM_OVERFLOW_BLOCK)
        what = "overflow";
    else if (bad_range(o->flush_interval_ms, 1, 24 * ONE_HOUR_MS))
        what = "flush_interval_ms (1 ms .. 24 h)";
    else if (bad_range(o->flush_jitter_ms, 0, 24 * ONE_HOUR_MS))
        what = "flush_jitter_ms";
    else if (o->max_queue_lines < 1 || o->max_queue_lines > 100000000)
        what = "max_queue_lines (1 .. 100000000)";
    else if (o->max_queue_bytes < 1024 || o->max_queue_bytes > ((size_t)1 << 34))
        what = "max_queue_bytes (1024 .. 16 GiB)";
    else if (bad_range(o->block_timeout_ms, 0, ONE_HOUR_MS))
        what = "block_timeout_ms";
    else if (o->batch_max_lines < 1 || o->batch_max_lines > 1000)
        what = "batch_max_lines (1 .. 1000)";
    else if (o->batch_max_bytes < 64 || o->batch_max_bytes > 1000000)
        what = "batch_max_bytes (64 .. 1000000)";
    else if (bad_range(o->connect_timeout_ms, 1, ONE_HOUR_MS))
        what = "connect_timeout_ms";
    else if (bad_range(o->request_timeout_ms, 1, ONE_HOUR_MS))
        what = "request_timeout_ms";
    else if (bad_range(o->retry_initial_ms, 1, ONE_HOUR_MS))
        what = "retry_initial_ms";
    else if (bad_range(o->retry_max_delay_ms, 1, ONE_HOUR_MS))
        what = "retry_max_delay_ms";
    else if (bad_range(o->retry_max_time_ms, 0, 24 * ONE_HOUR_MS))
        what = "retry_max_time_ms";
    else if (o->log_level < DTM_LOG_ERROR || o->log_level > DTM_LOG_DEBUG)
        what = "log_level";
    else if (o->errbuf == NULL && o->errbuf_size > 0)
        what = "errbuf";
    if (what) {
        snprintf(msg, msg_size, "option out of range: %s", what);
        return DTM_EINVAL;
    }

    c->mode = o->mode;
    c->overflow = o->overflow;
    c->interval_ms = o->flush_interval_ms;
    c->jitter_ms = o->flush_jitter_ms > o->flush_interval_ms / 2 ? o->flush_interval_ms / 2
                                                                  : o->flush_jitter_ms;
    c->block_timeout_ms = o->block_timeout_ms;
    c->batch_lines = o->batch_max_lines;
    c->batch_bytes = o->batch_max_bytes;
    c->connect_timeout_ms = o->connect_timeout_ms;
    c->request_timeout_ms = o->request_timeout_ms;
    c->retry_initial_ms = o->retry_initial_ms;
    c->retry_max_delay_ms = o->retry_max_delay_ms < o->retry_initial_ms ? o->retry_initial_ms
                                                                         : o->retry_max_delay_ms;
    c->retry_max_time_ms = o->retry_max_time_ms;
    c->gzip = o->gzip ? 1 : 0;
    c->tls_insecure = o->tls_insecure ? 1 : 0;
    c->verbose = o->verbose ? 1 : 0;
    c->allow_any_path = o->allow_any_path ? 1 : 0;
    c->allow_insecure_token = o->allow_insecure_token ? 1 : 0;
    c->read_endpoint_file = o->read_endpoint_file ? 1 : 0;
    c->ca_file = dup_opt(o->ca_file, &failed);
    c->ca_path = dup_opt(o->ca_path, &failed);
    c->proxy = dup_opt(o->proxy, &failed);
    c->user_agent = dup_opt(o->user_agent, &failed);
    c->endpoint_file = dup_opt(o->endpoint_file ? o->endpoint_file : DTM__DEFAULT_ENDPOINT_FILE,
                               &failed);
    if (failed) {
        snprintf(msg, msg_size, "out of memory");
        return DTM_ENOMEM;
    }
    return DTM_OK;
}

static int is_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' || ch == '\f' || ch == '\v';
}

/* A trimmed copy of s[0..n); *failed on allocation failure. */
static char *trimmed(const char *s, size_t n, int *failed)
{
    char *p;
    while (n && is_space(*s)) {
        s++;
        n--;
    }
    while (n && is_space(s[n - 1]))
        n--;
    p = dtm__strndup(s, n);
    if (!p)
        *failed = 1;
    return p;
}

void dtm__secret_free(char *s)
{
    if (s) {
        volatile char *v = s;
        while (*v)
            *v++ = '\0';
        dtm__free(s);
    }
}

void dtm__endpoint_clear(dtm__endpoint *ep)
{
    dtm__free(ep->url);
    dtm__secret_free(ep->token);
    memset(ep, 0, sizeof *ep);
}

void dtm__token_describe(const char *token, char *out, size_t size)
{
    size_t n = token ? strlen(token) : 0;
    if (n == 0)
        snprintf(out, size, "no token");
    else if (n > 32 && strncmp(token, "dt0c01.", 7) == 0 && token[31] == '.')
        /* The identifier (prefix and public part) may be shown; the secret
           part after the second dot never is. */
        snprintf(out, size, "token %.31s.****", token);
    else
        snprintf(out, size, "a token of %zu characters", n);
}

#define MAX_ENDPOINT_FILE 65536

dtm_status dtm__endpoint_file_read(dtm_client *c, char **url, char **token)
{
    FILE *f;
    char *text;
    size_t n;
    dtm__kvlist kv;
    dtm_status st;
    size_t i;
    int failed = 0;

    *url = NULL;
    *token = NULL;
    f = fopen(c->endpoint_file, "rb");
    if (!f) {
        DTM__CLOG(c, DTM_LOG_INFO, "endpoint file %s not readable; not using it",
                  c->endpoint_file);
        return DTM_OK;
    }
    text = dtm__malloc(MAX_ENDPOINT_FILE + 1);
    if (!text) {
        fclose(f);
        return DTM_ENOMEM;
    }
    n = fread(text, 1, MAX_ENDPOINT_FILE, f);
    fclose(f);
    memset(&kv, 0, sizeof kv);
    st = dtm__properties_parse(text, n, &kv, &c->log);
    dtm__free(text);
    for (i = 0; st == DTM_OK && i < kv.n; i++) {
        const char *k = kv.keys[i], *v = kv.values[i];
        if (strcmp(k, "DT_METRICS_INGEST_URL") == 0 && !*url)
            *url = trimmed(v, strlen(v), &failed);
        else if (strcmp(k, "DT_METRICS_INGEST_API_TOKEN") == 0 && !*token)
            *token = trimmed(v, strlen(v), &failed);
    }
    /* The list holds the token too: wipe before freeing. */
    for (i = 0; i < kv.n; i++)
        if (kv.values[i])
            memset(kv.values[i], 0, strlen(kv.values[i]));
    dtm__kvlist_free(&kv);
    if (st == DTM_OK && failed)
        st = DTM_ENOMEM;
    if (st != DTM_OK) {
        dtm__free(*url);
        dtm__secret_free(*token);
        *url = NULL;
        *token = NULL;
    }
    return st;
}

static int token_chars_ok(const char *t)
{
    for (; *t; t++)
        if ((unsigned char)*t <= 0x20 || (unsigned char)*t >= 0x7f)
            return 0;
    return 1;
}

dtm_status dtm__endpoint_check(dtm_client *c, dtm__endpoint *ep, char *msg, size_t msg_size)
{
    dtm_status st = dtm__url_inspect(ep->url, &ep->info, msg, msg_size);
    if (st != DTM_OK)
        return st;
    if (!c->allow_any_path && !ep->info.ingest_path) {
        snprintf(msg, msg_size,
                 "the URL %s does not end in /metrics/ingest: did you forget "
                 "/api/v2/metrics/ingest? (allow_any_path sends there anyway)",
                 ep->info.display);
        return DTM_ECONFIG;
    }
    if (!c->allow_any_path && ep->info.apps_host) {
        snprintf(msg, msg_size,
                 "%s is a Dynatrace platform host (*.apps.dynatrace.com); the metrics ingest "
                 "API is on {environment-id}.live.dynatrace.com",
                 ep->info.display);
        return DTM_ECONFIG;
    }
    if (ep->token && !token_chars_ok(ep->token)) {
        snprintf(msg, msg_size,
                 "the API token contains white space or control characters");
        return DTM_ECONFIG;
    }
    if (!ep->token && !ep->info.loopback) {
        snprintf(msg, msg_size,
                 "an API token is needed for %s: set the token option or "
                 "DT_METRICS_INGEST_API_TOKEN",
                 ep->info.display);
        return DTM_ECONFIG;
    }
    if (ep->token && !ep->info.https && !ep->info.loopback && !c->allow_insecure_token) {
        snprintf(msg, msg_size,
                 "refusing to send the API token over plain http to %s: use https "
                 "(or allow_insecure_token)",
                 ep->info.display);
        return DTM_ECONFIG;
    }
    return DTM_OK;
}

dtm_status dtm__endpoint_make(dtm_client *c, const dtm__endpoint *cur, const char *url,
                              const char *token, int token_given, dtm__endpoint *out,
                              char *msg, size_t msg_size)
{
    int failed = 0;
    dtm_status st;
    memset(out, 0, sizeof *out);
    out->url = trimmed(url ? url : cur->url, strlen(url ? url : cur->url), &failed);
    if (token_given) {
        if (token && *token)
            out->token = trimmed(token, strlen(token), &failed);
    } else if (cur->token) {
        out->token = dtm__strdup(cur->token);
        if (!out->token)
            failed = 1;
    }
    if (out->token && !*out->token) {
        dtm__secret_free(out->token);
        out->token = NULL;
    }
    if (failed) {
        dtm__endpoint_clear(out);
        snprintf(msg, msg_size, "out of memory");
        return DTM_ENOMEM;
    }
    st = dtm__endpoint_check(c, out, msg, msg_size);
    if (st != DTM_OK)
        dtm__endpoint_clear(out);
    return st;
}

dtm_status dtm__endpoint_resolve(dtm_client *c, const dtm_client_options *o,
                                 dtm__endpoint *ep, char *msg, size_t msg_size)
{
    int failed = 0, have_token = 0;
    dtm_status st;
    char desc[64];

    memset(ep, 0, sizeof *ep);
    if (o->url && *o->url)
        ep->url = trimmed(o->url, strlen(o->url), &failed);
    if (o->token) {
        have_token = 1;
        if (*o->token)
            ep->token = trimmed(o->token, strlen(o->token), &failed);
    }
    if (!o->ignore_environment) {
        const char *v;
        if (!ep->url && (v = getenv("DT_METRICS_INGEST_URL")) != NULL && *v)
            ep->url = trimmed(v, strlen(v), &failed);
        if (!have_token && (v = getenv("DT_METRICS_INGEST_API_TOKEN")) != NULL && *v) {
            have_token = 1;
            ep->token = trimmed(v, strlen(v), &failed);
        }
    }
    if (!failed && c->read_endpoint_file && (!ep->url || !have_token)) {
        char *fu, *ft;
        st = dtm__endpoint_file_read(c, &fu, &ft);
        if (st != DTM_OK) {
            dtm__endpoint_clear(ep);
            snprintf(msg, msg_size, "out of memory");
            return st;
        }
        if (!ep->url && fu) {
            ep->url = fu;
            fu = NULL;
            ep->url_from_file = 1;
        }
        if (!have_token && ft) {
            ep->token = ft;
            ft = NULL;
            ep->token_from_file = 1;
        }
        dtm__free(fu);
        dtm__secret_free(ft);
    }
    if (!failed && !ep->url)
        ep->url = trimmed(DTM__DEFAULT_URL, strlen(DTM__DEFAULT_URL), &failed);
    if (failed) {
        dtm__endpoint_clear(ep);
        snprintf(msg, msg_size, "out of memory");
        return DTM_ENOMEM;
    }
    if (ep->token && !*ep->token) {
        dtm__secret_free(ep->token);
        ep->token = NULL;
    }
    st = dtm__endpoint_check(c, ep, msg, msg_size);
    if (st != DTM_OK) {
        dtm__endpoint_clear(ep);
        return st;
    }
    dtm__token_describe(ep->token, desc, sizeof desc);
    DTM__CLOG(c, DTM_LOG_INFO, "sending to %s with %s%s", ep->info.display, desc,
              (ep->url_from_file || ep->token_from_file) ? " (from the endpoint file)" : "");
    return DTM_OK;
}
