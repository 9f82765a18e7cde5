/*
 * A scripted transport, a fake clock, a recording sleep and a fixed or
 * seeded random source for the client tests (through dtm__client_hooks).
 */
#ifndef DTMETRICS_FAKE_TRANSPORT_H
#define DTMETRICS_FAKE_TRANSPORT_H

#include <pthread.h>
#include <stdint.h>

#include "clientimpl.h"

typedef struct ft_answer {
    long status;             /* 0: no answer; error says why */
    dtm_status error;        /* with status 0: DTM_ETRANSPORT / DTM_ETIMEOUT */
    const char *body;        /* NULL: empty */
    int64_t retry_after_ms;  /* -1: absent */
} ft_answer;

typedef struct ft_request {
    char *body;
    size_t len;
    char *token;             /* NULL: none */
    char *url;
    int gzip;
    long timeout_ms;
    long status;             /* the answer given */
} ft_request;

typedef struct ft_state ft_state;

/* Decide an answer for a body; may write a body into buf (cap bytes). */
typedef void (*ft_answer_fn)(ft_state *fs, const char *body, size_t len, ft_answer *out,
                             char *buf, size_t cap);

struct ft_state {
    pthread_mutex_t mu;
    const ft_answer *script; /* answers in order, then dflt */
    size_t n_script, next;
    ft_answer dflt;          /* 202 unless changed */
    ft_answer_fn answer_fn;  /* when set, decides instead of the script */
    void *user;
    ft_request *reqs;
    size_t n_reqs, cap_reqs;
    int creations;           /* transports created */
    int fail_create;         /* 1: creation fails with DTM_ECONFIG */
    int stall;               /* 1: posts wait (real time) for cancel or the timeout */
    int stall_fake;          /* 1: posts advance the fake clock by the timeout, DTM_ETIMEOUT */
    int in_post;             /* a post is running (for stall tests) */
    int64_t now;             /* fake clock */
    int64_t sleeps[4096];    /* requested backoff sleeps */
    size_t n_sleeps;
    int fixed_rand;          /* 1: rand32 returns rand_value */
    uint32_t rand_value;
    uint64_t rng;
    dtm__client_hooks hooks; /* filled by ft_init */
};

/* use_clock: 1 installs the fake clock, sleep and random; 0 only the transport. */
void ft_init(ft_state *fs, int use_clock);
void ft_free(ft_state *fs);
size_t ft_count_requests(ft_state *fs);
/* Number of lines of a body ('\n'-separated, no trailing newline). */
size_t ft_lines(const char *body, size_t len);

#endif
