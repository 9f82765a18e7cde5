/*
 * NAME
 *     dtmetrics-emulator - a local, validating stand-in for the Dynatrace
 *     metrics ingest endpoint
 *
 * SYNOPSIS
 *     dtmetrics-emulator [--listen ADDR] [--port N] [--token-file FILE | --token T]
 *                        [--max-body BYTES] [--max-lines N] [--keep-lines N]
 *                        [--keep-bytes BYTES] [--output FILE | --quiet]
 *                        [--delay-ms MS] [--check-timestamps] [--verbose]
 *     dtmetrics-emulator --help | --version
 *
 * DESCRIPTION
 *     Serves, on a loopback address only:
 *
 *     POST /api/v2/metrics/ingest   the SaaS/Managed endpoint: needs
 *         "Authorization: Api-Token <token>" (scheme word in any case), answers
 *         202 {"linesOk":n,"linesInvalid":0,"error":null,"warnings":null}, or 400
 *         with error.invalidLines (1-based, at most 10 itemised) when some lines
 *         are invalid; the valid lines are accepted all the same.  An empty body
 *         gets 400 "empty request".  Missing or wrong token: 401 ErrorEnvelope.
 *     POST /metrics/ingest          the local OneAgent endpoint: no token, answers
 *         with "linesValid" instead of "linesOk"; more than --max-lines lines in
 *         one request: 400, nothing accepted.
 *
 *     Every line is checked with the library's validator (dtm_parse_line).  The
 *     body is split at LF; blank lines are skipped but keep their number;
 *     metadata lines count as lines.  Bodies above --max-body (received or
 *     after gzip decoding) get 413; Content-Encoding other than gzip/identity
 *     gets 415; other methods 405; other paths 404.  Accepted lines go to the
 *     output (one per line, flushed per request) and into a bounded memory.
 *     Content-Type is not checked.  A CR before the LF stays in the line and
 *     makes it invalid (the service's behaviour on CRLF is unverified).  With a
 *     delay, the lines are accepted first and the answer comes late, like a
 *     server that ingested and then stalled.
 *
 *     Control API (no token; for tests and scripts):
 *     POST   /_emulator/fault?status=S&count=N&retry_after=V&delay_ms=D&body=B
 *     POST   /_emulator/fault?drop=1&count=N&delay_ms=D
 *     POST   /_emulator/fault?delay_ms=D&count=N
 *         queue a fault for the next N (default 1) ingest requests: answer with
 *         status S (200..599) and an ErrorEnvelope (body=json, the default) or
 *         body=empty|text|html, with "Retry-After: V" when given; or close the
 *         connection without an answer (drop=1); delay_ms waits before that, or
 *         alone delays a normal answer.  Faults queue up in order (at most 64)
 *         and are applied before the token and the body are looked at.
 *     DELETE /_emulator/fault        forget queued faults
 *     GET    /_emulator/lines        kept accepted lines, text/plain, one per line
 *     GET    /_emulator/stats        JSON: requests, lines_ok, lines_invalid,
 *         bytes, bytes_decoded, dropped, lines_kept, lines_evicted,
 *         faults_pending, status {"202":n,...}
 *     POST   /_emulator/reset        clear lines, statistics and faults
 *
 * OPTIONS
 *     Every option can also come from the environment variable
 *     DTM_EMULATOR_<NAME> (upper case, '-' as '_', e.g. DTM_EMULATOR_MAX_BODY;
 *     switches take 1 or 0); the command line wins.  Later options win.
 *
 *     --listen ADDR      loopback address to listen on: 127.0.0.1 (default),
 *                        any 127.x.y.z, ::1 or localhost
 *     --port N           TCP port (default 14499); 0 lets the kernel choose
 *     --token-file FILE  the API token expected on /api/v2/metrics/ingest
 *                        (first line of FILE)
 *     --token T          the same on the command line; visible in ps, so
 *                        meant for throwaway test tokens only.  Without any
 *                        token, every non-empty Api-Token is accepted
 *     --max-body BYTES   largest body, received and decoded (default 1000000)
 *     --max-lines N      lines per request on /metrics/ingest (default 1000;
 *                        0 = no limit)
 *     --keep-lines N     accepted lines kept for /_emulator/lines (default
 *                        100000; oldest dropped first)
 *     --keep-bytes BYTES bytes of kept lines (default 67108864)
 *     --output FILE      append accepted lines to FILE ('-' = stdout, the
 *                        default)
 *     --quiet            do not write accepted lines anywhere
 *     --delay-ms MS      wait before answering every non-control request
 *     --check-timestamps reject timestamps more than 1 hour old or 10 minutes
 *                        ahead, like the service (off: fixed test data stays valid)
 *     --sink             accept every non-empty line without checking it: a
 *                        plain receiver for throughput measurements
 *     --verbose          one line per request on stderr
 *     --help, --version
 *
 * OUTPUT
 *     The first line on stdout is exactly "listening on http://ADDR:PORT"
 *     (IPv6 as [::1]); accepted lines follow when the output is stdout.
 *     Diagnostics go to stderr.  SIGINT or SIGTERM stops the server (exit 0).
 *     Exit status 1: cannot listen or write; 2: bad usage.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "emulator.h"

enum opt_kind { OPT_TEXT, OPT_NUM, OPT_FLAG };

typedef struct opt_def {
    const char *name; /* without "--" */
    enum opt_kind kind;
    uint64_t max;     /* OPT_NUM */
} opt_def;

static const opt_def opts[] = {
    {"listen", OPT_TEXT, 0},
    {"port", OPT_NUM, 65535},
    {"token", OPT_TEXT, 0},
    {"token-file", OPT_TEXT, 0},
    {"max-body", OPT_NUM, (uint64_t)1 << 32},
    {"max-lines", OPT_NUM, UINT32_MAX},
    {"keep-lines", OPT_NUM, (uint64_t)1 << 32},
    {"keep-bytes", OPT_NUM, (uint64_t)1 << 40},
    {"output", OPT_TEXT, 0},
    {"quiet", OPT_FLAG, 0},
    {"delay-ms", OPT_NUM, 3600000},
    {"check-timestamps", OPT_FLAG, 0},
    {"sink", OPT_FLAG, 0},
    {"verbose", OPT_FLAG, 0},
};

typedef struct settings {
    emu_config cfg;
    const char *token;      /* from --token / env, not owned */
    const char *token_file;
    int token_from_file;    /* which of the two came last */
} settings;

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: %s [OPTION]...\n"
            "A local, validating stand-in for the Dynatrace metrics ingest endpoint.\n"
            "\n"
            "  --listen ADDR       loopback address (127.0.0.1 default, 127.x.y.z, ::1, localhost)\n"
            "  --port N            TCP port (default 14499; 0 = chosen by the kernel)\n"
            "  --token-file FILE   API token expected on /api/v2/metrics/ingest (first line)\n"
            "  --token T           the same on the command line (visible in ps: test tokens only);\n"
            "                      without a token any non-empty Api-Token is accepted\n"
            "  --max-body BYTES    largest body, received and decoded (default 1000000) -> 413\n"
            "  --max-lines N       lines per request on /metrics/ingest (default 1000, 0 = none)\n"
            "  --keep-lines N      accepted lines kept for /_emulator/lines (default 100000)\n"
            "  --keep-bytes BYTES  bytes of kept lines (default 67108864)\n"
            "  --output FILE       append accepted lines to FILE ('-' = stdout, the default)\n"
            "  --quiet             do not write accepted lines\n"
            "  --delay-ms MS       wait before answering every non-control request\n"
            "  --check-timestamps  reject timestamps older than 1 h or more than 10 min ahead\n"
            "  --sink              accept every non-empty line without checking it\n"
            "                      (a plain receiver for throughput measurements)\n"
            "  --verbose           one line per request on stderr\n"
            "  --help              this text\n"
            "  --version           the library version\n"
            "\n"
            "Every option may also be set as DTM_EMULATOR_<NAME> in the environment\n"
            "(e.g. DTM_EMULATOR_PORT=0, DTM_EMULATOR_QUIET=1); the command line wins.\n"
            "\n"
            "Endpoints:\n"
            "  POST /api/v2/metrics/ingest   needs Authorization: Api-Token <token>\n"
            "  POST /metrics/ingest          OneAgent style, no token, answers linesValid\n"
            "  POST /_emulator/fault?status=S&count=N&retry_after=V&delay_ms=D&body=json|empty|text|html\n"
            "  POST /_emulator/fault?drop=1&count=N     close the next N connections unanswered\n"
            "  DELETE /_emulator/fault                  forget queued faults\n"
            "  GET  /_emulator/lines   accepted lines     GET  /_emulator/stats   counters (JSON)\n"
            "  POST /_emulator/reset   clear lines, counters and faults\n"
            "\n"
            "Prints \"listening on http://ADDR:PORT\" first on stdout; stops on SIGINT/SIGTERM.\n",
            EMU_PROGRAM);
}

/* Apply one option; returns 0 or -1 (message printed). */
static int apply(settings *s, const opt_def *d, const char *value, const char *origin)
{
    emu_config *c = &s->cfg;
    uint64_t n = 0;
    if (d->kind == OPT_NUM && emu_parse_u64(value, d->max, &n) != 0) {
        fprintf(stderr, "%s: %s: '%s' is not a number in 0..%llu\n", EMU_PROGRAM, origin, value,
                (unsigned long long)d->max);
        return -1;
    }
    if (d->kind == OPT_FLAG) {
        if (strcmp(value, "1") == 0)
            n = 1;
        else if (strcmp(value, "0") != 0 && value[0] != '\0') {
            fprintf(stderr, "%s: %s: expected 1 or 0\n", EMU_PROGRAM, origin);
            return -1;
        }
    }
    if (strcmp(d->name, "listen") == 0)
        c->listen = value;
    else if (strcmp(d->name, "port") == 0)
        c->port = (unsigned)n;
    else if (strcmp(d->name, "token") == 0) {
        s->token = value;
        s->token_from_file = 0;
    } else if (strcmp(d->name, "token-file") == 0) {
        s->token_file = value;
        s->token_from_file = 1;
    } else if (strcmp(d->name, "max-body") == 0) {
        if (n == 0) {
            fprintf(stderr, "%s: %s: must be at least 1\n", EMU_PROGRAM, origin);
            return -1;
        }
        c->max_body = n;
    } else if (strcmp(d->name, "max-lines") == 0)
        c->max_lines = n;
    else if (strcmp(d->name, "keep-lines") == 0)
        c->keep_lines = n;
    else if (strcmp(d->name, "keep-bytes") == 0)
        c->keep_bytes = n;
    else if (strcmp(d->name, "output") == 0)
        c->output = value;
    else if (strcmp(d->name, "quiet") == 0) {
        if (n)
            c->output = NULL;
    }
    else if (strcmp(d->name, "delay-ms") == 0)
        c->delay_ms = n;
    else if (strcmp(d->name, "check-timestamps") == 0)
        c->check_timestamps = (int)n;
    else if (strcmp(d->name, "sink") == 0)
        c->sink = (int)n;
    else if (strcmp(d->name, "verbose") == 0)
        c->verbose = (int)n;
    return 0;
}

static int from_environment(settings *s)
{
    size_t i, j;
    for (i = 0; i < sizeof opts / sizeof opts[0]; i++) {
        char name[64] = "DTM_EMULATOR_";
        size_t p = strlen(name);
        const char *v;
        for (j = 0; opts[i].name[j] && p + 1 < sizeof name; j++, p++) {
            char ch = opts[i].name[j];
            name[p] = ch == '-' ? '_' : (char)(ch - 'a' + 'A');
        }
        name[p] = '\0';
        v = getenv(name);
        if (v && apply(s, &opts[i], v, name) != 0)
            return -1;
    }
    return 0;
}

/* 0 = run, 1 = done (help/version), -1 = usage error. */
static int from_arguments(settings *s, int argc, char **argv)
{
    int i;
    for (i = 1; i < argc; i++) {
        const char *arg = argv[i], *eq, *value = NULL;
        size_t n, k;
        const opt_def *d = NULL;
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            usage(stdout);
            return 1;
        }
        if (strcmp(arg, "--version") == 0) {
            printf("%s %s\n", EMU_PROGRAM, dtm_version());
            return 1;
        }
        if (strncmp(arg, "--", 2) != 0)
            goto unknown;
        eq = strchr(arg, '=');
        n = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
        for (k = 0; k < sizeof opts / sizeof opts[0]; k++)
            if (strlen(opts[k].name) == n && strncmp(opts[k].name, arg + 2, n) == 0)
                d = &opts[k];
        if (!d)
            goto unknown;
        if (d->kind == OPT_FLAG) {
            if (eq) {
                fprintf(stderr, "%s: %s takes no value\n", EMU_PROGRAM, d->name);
                return -1;
            }
            value = "1";
        } else if (eq) {
            value = eq + 1;
        } else if (i + 1 < argc) {
            value = argv[++i];
        } else {
            fprintf(stderr, "%s: --%s needs a value\n", EMU_PROGRAM, d->name);
            return -1;
        }
        if (apply(s, d, value, arg) != 0)
            return -1;
        continue;
    unknown:
        fprintf(stderr, "%s: unknown argument '%s' (see --help)\n", EMU_PROGRAM, arg);
        return -1;
    }
    return 0;
}

/* The first line of a file, without trailing white space. */
static char *read_token_file(const char *path)
{
    char line[4096];
    size_t n;
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "%s: cannot open token file %s: %s\n", EMU_PROGRAM, path, strerror(errno));
        return NULL;
    }
    if (!fgets(line, sizeof line, f))
        line[0] = '\0';
    fclose(f);
    n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' ' ||
                 line[n - 1] == '\t'))
        n--;
    if (n == 0) {
        fprintf(stderr, "%s: token file %s has no token on its first line\n", EMU_PROGRAM, path);
        return NULL;
    }
    return dtm__strndup(line, n);
}

static int configure(settings *s, int argc, char **argv)
{
    int rc;
    memset(s, 0, sizeof *s);
    s->cfg.listen = "127.0.0.1";
    s->cfg.port = 14499;
    s->cfg.max_body = 1000000;
    s->cfg.max_lines = 1000;
    s->cfg.keep_lines = 100000;
    s->cfg.keep_bytes = (uint64_t)64 << 20;
    s->cfg.output = "-";
    if (from_environment(s) != 0)
        return -1;
    rc = from_arguments(s, argc, argv);
    if (rc != 0)
        return rc;
    if (s->token_from_file && s->token_file) {
        s->cfg.token = read_token_file(s->token_file);
        if (!s->cfg.token)
            return -1;
    } else if (s->token) {
        if (!*s->token) {
            fprintf(stderr, "%s: the token is empty\n", EMU_PROGRAM);
            return -1;
        }
        s->cfg.token = dtm__strdup(s->token);
        if (!s->cfg.token)
            return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    settings s;
    emu_state st;
    emu_server *server = NULL;
    sigset_t stop_signals;
    char url[128];
    FILE *out = NULL;
    int out_close = 0, rc, sig = 0;

    rc = configure(&s, argc, argv);
    if (rc != 0) {
        dtm__free(s.cfg.token);
        return rc > 0 ? 0 : 2;
    }
    signal(SIGPIPE, SIG_IGN);

    if (s.cfg.output && strcmp(s.cfg.output, "-") == 0) {
        out = stdout;
    } else if (s.cfg.output) {
        out = fopen(s.cfg.output, "a");
        if (!out) {
            fprintf(stderr, "%s: cannot open %s: %s\n", EMU_PROGRAM, s.cfg.output, strerror(errno));
            dtm__free(s.cfg.token);
            return 1;
        }
        out_close = 1;
    }
    if (emu_state_init(&st, &s.cfg, out, out_close) != DTM_OK) {
        fprintf(stderr, "%s: cannot initialise\n", EMU_PROGRAM);
        if (out_close)
            fclose(out);
        dtm__free(s.cfg.token);
        return 1;
    }

    /* Every thread (MHD's included) inherits this mask; only sigwait below
       takes the stop signals. */
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);

    rc = emu_server_start(&server, &st, url, sizeof url);
    if (rc != DTM_OK) {
        rc = rc == DTM_ECONFIG ? 2 : 1;
        goto done;
    }
    rc = 1;
    if (printf("listening on %s\n", url) < 0 || fflush(stdout) != 0) {
        fprintf(stderr, "%s: cannot write to stdout\n", EMU_PROGRAM);
        goto done;
    }
    if (!s.cfg.token)
        fprintf(stderr, "%s: no token configured: any non-empty Api-Token is accepted\n",
                EMU_PROGRAM);
    while (sigwait(&stop_signals, &sig) != 0)
        ;
    if (s.cfg.verbose)
        fprintf(stderr, "%s: stopping on signal %d\n", EMU_PROGRAM, sig);
    rc = 0;

done:
    emu_server_stop(server);
    emu_state_destroy(&st);
    dtm__free(s.cfg.token);
    return rc;
}
