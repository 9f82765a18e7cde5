/* The fake transport of the client tests (see fake_transport.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fake_transport.h"

typedef struct fake {
    dtm__transport base;
    ft_state *fs;
    char *url, *token;
    long timeout_ms;
    int gzip;
    const int *cancel;
    char body[4096];
} fake;

static char *xdup(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

size_t ft_lines(const char *body, size_t len)
{
    size_t i, n = len ? 1 : 0;
    for (i = 0; i < len; i++)
        n += body[i] == '\n';
    return n;
}

static void msleep(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static dtm_status fake_post(dtm__transport *t, const char *body, size_t len, dtm__http_result *res)
{
    fake *f = (fake *)t;
    ft_state *fs = f->fs;
    ft_answer a;
    ft_request *r;

    pthread_mutex_lock(&fs->mu);
    if (fs->n_reqs == fs->cap_reqs) {
        fs->cap_reqs = fs->cap_reqs ? 2 * fs->cap_reqs : 64;
        fs->reqs = realloc(fs->reqs, fs->cap_reqs * sizeof *fs->reqs);
    }
    r = &fs->reqs[fs->n_reqs++];
    memset(r, 0, sizeof *r);
    r->body = xdup(body, len);
    r->len = len;
    r->token = f->token ? xdup(f->token, strlen(f->token)) : NULL;
    r->url = xdup(f->url, strlen(f->url));
    r->gzip = f->gzip;
    r->timeout_ms = f->timeout_ms;
    f->body[0] = '\0';
    if (fs->answer_fn) {
        a.status = 202;
        a.error = DTM_OK;
        a.body = NULL;
        a.retry_after_ms = -1;
        fs->answer_fn(fs, body, len, &a, f->body, sizeof f->body);
    } else if (fs->next < fs->n_script) {
        a = fs->script[fs->next++];
    } else {
        a = fs->dflt;
    }
    if (fs->stall_fake) {
        fs->now += f->timeout_ms;
        a.status = 0;
        a.error = DTM_ETIMEOUT;
    }
    r->status = a.status;
    fs->in_post = 1;
    pthread_mutex_unlock(&fs->mu);

    if (fs->stall) {
        long waited = 0;
        while (waited < f->timeout_ms && !__atomic_load_n(f->cancel, __ATOMIC_RELAXED)) {
            msleep(1);
            waited++;
        }
        a.status = 0;
        a.error = DTM_ETIMEOUT;
    }
    pthread_mutex_lock(&fs->mu);
    fs->in_post = 0;
    pthread_mutex_unlock(&fs->mu);

    res->status = a.status;
    res->error = a.status ? DTM_OK : (a.error ? a.error : DTM_ETRANSPORT);
    res->retry_after_ms = a.retry_after_ms;
    if (a.body && a.body != f->body) {
        strncpy(f->body, a.body, sizeof f->body - 1);
        f->body[sizeof f->body - 1] = '\0';
    }
    res->body = f->body;
    res->body_len = strlen(f->body);
    if (!a.status)
        strcpy(res->message, a.error == DTM_ETIMEOUT ? "fake timeout" : "fake connection refused");
    return res->error;
}

static void fake_free(dtm__transport *t)
{
    fake *f = (fake *)t;
    free(f->url);
    free(f->token);
    free(f);
}

static const dtm__transport_ops fake_ops = {fake_post, fake_free};

static dtm_status make(void *ud, const dtm__http_config *cfg, dtm__transport **out)
{
    ft_state *fs = ud;
    fake *f;
    pthread_mutex_lock(&fs->mu);
    fs->creations++;
    if (fs->fail_create) {
        pthread_mutex_unlock(&fs->mu);
        return DTM_ECONFIG;
    }
    pthread_mutex_unlock(&fs->mu);
    f = calloc(1, sizeof *f);
    f->base.ops = &fake_ops;
    f->fs = fs;
    f->url = xdup(cfg->url, strlen(cfg->url));
    f->token = cfg->token && *cfg->token ? xdup(cfg->token, strlen(cfg->token)) : NULL;
    f->timeout_ms = cfg->timeout_ms;
    f->gzip = cfg->gzip;
    f->cancel = cfg->cancel;
    *out = &f->base;
    return DTM_OK;
}

static int64_t now_ms(void *ud)
{
    ft_state *fs = ud;
    int64_t n;
    pthread_mutex_lock(&fs->mu);
    n = fs->now;
    pthread_mutex_unlock(&fs->mu);
    return n;
}

static void sleep_ms(void *ud, int64_t ms)
{
    ft_state *fs = ud;
    pthread_mutex_lock(&fs->mu);
    if (fs->n_sleeps < sizeof fs->sleeps / sizeof fs->sleeps[0])
        fs->sleeps[fs->n_sleeps++] = ms;
    fs->now += ms;
    pthread_mutex_unlock(&fs->mu);
}

static uint32_t rand32(void *ud)
{
    ft_state *fs = ud;
    uint64_t x;
    if (fs->fixed_rand)
        return fs->rand_value;
    x = fs->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    fs->rng = x;
    return (uint32_t)(x >> 16);
}

void ft_init(ft_state *fs, int use_clock)
{
    memset(fs, 0, sizeof *fs);
    pthread_mutex_init(&fs->mu, NULL);
    fs->dflt.status = 202;
    fs->dflt.body = "{\"linesOk\":1,\"linesInvalid\":0,\"error\":null}";
    fs->dflt.retry_after_ms = -1;
    fs->now = 1000000;
    fs->rng = 88172645463325252ULL;
    fs->hooks.make_transport = make;
    fs->hooks.ud = fs;
    if (use_clock) {
        fs->hooks.now_ms = now_ms;
        fs->hooks.sleep_ms = sleep_ms;
        fs->hooks.rand32 = rand32;
    }
}

size_t ft_count_requests(ft_state *fs)
{
    size_t n;
    pthread_mutex_lock(&fs->mu);
    n = fs->n_reqs;
    pthread_mutex_unlock(&fs->mu);
    return n;
}

void ft_free(ft_state *fs)
{
    size_t i;
    for (i = 0; i < fs->n_reqs; i++) {
        free(fs->reqs[i].body);
        free(fs->reqs[i].token);
        free(fs->reqs[i].url);
    }
    free(fs->reqs);
    pthread_mutex_destroy(&fs->mu);
}
