/* Fixture of the client tests (see client_fixture.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client_fixture.h"

/* ---- captured log ---- */
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static char *log_text;
static size_t log_len;

void capture_log(dtm_log_level level, const char *msg, void *ud)
{
    size_t n = strlen(msg);
    (void)ud;
    pthread_mutex_lock(&log_mu);
    log_text = realloc(log_text, log_len + n + 16);
    log_len += (size_t)sprintf(log_text + log_len, "%d %s\n", (int)level, msg);
    pthread_mutex_unlock(&log_mu);
}

int log_has(const char *needle)
{
    int r;
    pthread_mutex_lock(&log_mu);
    r = log_text && strstr(log_text, needle) != NULL;
    pthread_mutex_unlock(&log_mu);
    return r;
}

void log_reset(void)
{
    pthread_mutex_lock(&log_mu);
    free(log_text);
    log_text = NULL;
    log_len = 0;
    pthread_mutex_unlock(&log_mu);
}

/* ---- rejected-line callback ---- */
rejected_rec rejected[64];
size_t n_rejected;

void on_rejected(const char *line, size_t len, const char *reason, void *ud)
{
    (void)ud;
    ck_assert_uint_eq(strlen(line), len);
    if (n_rejected < 64) {
        snprintf(rejected[n_rejected].line, sizeof rejected[0].line, "%s", line);
        snprintf(rejected[n_rejected].reason, sizeof rejected[0].reason, "%s", reason);
        n_rejected++;
    }
}

/* ---- helpers ---- */
ft_state fs;

void manual_opts(dtm_client_options *o)
{
    dtm_client_options_init(o);
    o->mode = DTM_CLIENT_MANUAL;
    o->url = REMOTE;
    o->token = TOKEN;
    o->ignore_environment = 1;
    o->log_fn = capture_log;
    o->log_level = DTM_LOG_DEBUG;
    o->rejected_fn = on_rejected;
}

dtm_client *new_client(const dtm_client_options *o)
{
    dtm_client *c = NULL;
    ck_assert_int_eq(dtm__client_new_hooked(&c, o, &fs.hooks), DTM_OK);
    return c;
}

void setup(void)
{
    ft_init(&fs, 1);
    log_reset();
    n_rejected = 0;
}

void teardown(void)
{
    ft_free(&fs);
    log_reset();
}

void add_n(dtm_client *c, int first, int n)
{
    int i;
    char line[64];
    for (i = first; i < first + n; i++) {
        int len = snprintf(line, sizeof line, "m.line,i=%d gauge,%d", i, i);
        ck_assert_int_eq(dtm_client_add_line(c, line, (size_t)len), DTM_OK);
    }
}

dtm_client_statistics stats_of(dtm_client *c)
{
    dtm_client_statistics st;
    ck_assert_int_eq(dtm_client_stats(c, &st), DTM_OK);
    return st;
}

void assert_invariant(dtm_client *c)
{
    dtm_client_statistics st = stats_of(c);
    ck_assert_uint_eq(st.lines_dropped, st.dropped_overflow + st.dropped_refused +
                                            st.dropped_retries + st.dropped_too_large +
                                            st.dropped_http + st.dropped_close);
    ck_assert_uint_eq(st.lines_accepted + st.lines_rejected + st.lines_dropped + st.lines_queued,
                      st.lines_submitted);
}

/* How often the line "m.line,i=<i> gauge,<i>" appears in requests answered with status. */
int times_sent(int i, long status)
{
    char line[64];
    size_t r;
    int n = 0, len = snprintf(line, sizeof line, "m.line,i=%d gauge,%d", i, i);
    for (r = 0; r < fs.n_reqs; r++) {
        const char *b = fs.reqs[r].body, *e = b + fs.reqs[r].len;
        if (status && fs.reqs[r].status != status)
            continue;
        while (b < e) {
            const char *nl = memchr(b, '\n', (size_t)(e - b));
            size_t l = nl ? (size_t)(nl - b) : (size_t)(e - b);
            if (l == (size_t)len && memcmp(b, line, l) == 0)
                n++;
            b += l + 1;
        }
    }
    return n;
}

char *write_temp(const char *text)
{
    static char path[64];
    int fd;
    strcpy(path, "/tmp/dtm_endpointXXXXXX");
    fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}


