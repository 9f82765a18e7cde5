/*
 * Shared fixture of the client tests (test_client*.c): the fake transport
 * state, a captured log, the rejected-line callback and small helpers.
 */
#ifndef DTMETRICS_CLIENT_FIXTURE_H
#define DTMETRICS_CLIENT_FIXTURE_H

#include "fake_transport.h"
#include "testutil.h"

#define TOKEN_SECRET "S3CR3TS3CR3TS3CR3TS3CR3TS3CR3TS3CR3TS3CR3TS3CR3TS3CR3TS3CR3TABCD"
#define TOKEN "dt0c01.ABCDEFGHIJKLMNOPQRSTUVWX." TOKEN_SECRET
#define REMOTE "https://abc12345.live.dynatrace.com/api/v2/metrics/ingest"

typedef struct rejected_rec {
    char line[256];
    char reason[128];
} rejected_rec;

extern ft_state fs;               /* reset by setup() */
extern rejected_rec rejected[64]; /* lines given to the rejected callback */
extern size_t n_rejected;

void capture_log(dtm_log_level level, const char *msg, void *ud);
int log_has(const char *needle);
void log_reset(void);
void on_rejected(const char *line, size_t len, const char *reason, void *ud);

/* Options of a manual-mode client to REMOTE with TOKEN, log captured. */
void manual_opts(dtm_client_options *o);
dtm_client *new_client(const dtm_client_options *o);
void setup(void);
void teardown(void);
/* Queue the lines "m.line,i=<i> gauge,<i>" for i in [first, first + n). */
void add_n(dtm_client *c, int first, int n);
dtm_client_statistics stats_of(dtm_client *c);
void assert_invariant(dtm_client *c);
/* How often line i was in a request answered with status (0: any). */
int times_sent(int i, long status);
/* Write text to a new temporary file; the path is in static storage. */
char *write_temp(const char *text);

/* The test cases of each part, added to s. */
void client_config_cases(Suite *s);
void client_answer_cases(Suite *s);
void client_life_cases(Suite *s);

#endif
