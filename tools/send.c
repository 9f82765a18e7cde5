/*
 * NAME
 *     dtmetrics-send - validate metric lines and send them to Dynatrace
 *
 * SYNOPSIS
 *     dtmetrics-send [OPTIONS] [FILE...]
 *
 * Reads lines of the metrics ingest line protocol from the FILEs ("-" or
 * none: standard input), checks each with dtm_parse_line, and sends the
 * valid ones through the library's client in batches.  Uses the public API
 * only.  See usage() for options and exit codes.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <dtmetrics.h>

#define PROG "dtmetrics-send"

enum {
    EXIT_ALL_ACCEPTED = 0,
    EXIT_SOME_REFUSED = 1,   /* invalid input lines, or lines rejected by the server */
    EXIT_USAGE = 2,          /* bad usage, configuration or unreadable input */
    EXIT_NOT_DELIVERED = 3   /* lines that did not reach the server */
};

#define MAX_LINE_BYTES (1u << 20) /* longer lines are consumed and reported */

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: " PROG " [OPTIONS] [FILE...]\n"
            "\n"
            "Read metric lines (Dynatrace line protocol, one per line) from the FILEs\n"
            "(\"-\" or none: standard input), check each one, and send the valid ones in\n"
            "batches to the metrics ingest API.  Invalid lines are reported as\n"
            "FILE:LINE: reason on standard error and not sent.  Blank lines are skipped.\n"
            "\n"
            "Endpoint (default: $DT_METRICS_INGEST_URL and $DT_METRICS_INGEST_API_TOKEN,\n"
            "else the local OneAgent, http://localhost:14499/metrics/ingest, no token):\n"
            "  --url URL               ingest URL, e.g.\n"
            "                          https://{env-id}.live.dynatrace.com/api/v2/metrics/ingest\n"
            "  --token-file FILE       read the API token (scope metrics.ingest) from FILE\n"
            "  --endpoint-file FILE    read DT_METRICS_INGEST_URL / DT_METRICS_INGEST_API_TOKEN\n"
            "                          from a .properties file (Dynatrace's endpoint.properties)\n"
            "  --allow-any-path        accept a URL that does not end in /metrics/ingest\n"
            "  --allow-insecure-token  allow sending the token over plain http to a remote host\n"
            "  --ca-file FILE          CA certificates to verify the server with\n"
            "  --insecure              do not verify the server's TLS certificate\n"
            "  --proxy URL             HTTP proxy (\"\" for none; default: environment)\n"
            "\n"
            "Sending:\n"
            "  --timeout SECONDS       give up on a batch after this long, retries included\n"
            "                          (default 30)\n"
            "  --request-timeout SECONDS  one HTTP request (default 10)\n"
            "  --batch-lines N         lines per request, 1..1000 (default 1000)\n"
            "  --flush-interval SECONDS  send what is read so far when the input pauses this\n"
            "                          long (default 1)\n"
            "  --gzip                  compress request bodies\n"
            "  --dry-run               check the lines and print those that would be sent on\n"
            "                          standard output; send nothing\n"
            "\n"
            "Other:\n"
            "  -q, --quiet             no summary line when everything was accepted\n"
            "  -v, --verbose           the client's diagnostics on standard error; twice:\n"
            "                          also libcurl's trace (the token never appears)\n"
            "  -h, --help              this text\n"
            "  -V, --version           the version\n"
            "\n"
            "A summary line on standard error names the lines accepted, rejected by the\n"
            "server (their reasons are listed before it), invalid, and not delivered.\n"
            "\n"
            "Exit status:\n"
            "  0  every line was accepted\n"
            "  1  some lines were invalid (not sent) or rejected by the server; the rest\n"
            "     were accepted\n"
            "  2  usage or configuration error, or an input file could not be read\n"
            "  3  some lines were not delivered (network, authentication, timeout);\n"
            "     takes precedence over 1\n");
}

typedef struct settings {
    const char *url, *token_file, *endpoint_file, *ca_file, *proxy;
    int allow_any_path, allow_insecure_token, insecure, gzip, dry_run, quiet, verbose;
    long timeout_ms, request_timeout_ms, flush_interval_ms;
    long batch_lines;
} settings;

typedef struct run {
    settings *s;
    dtm_client *c;
    unsigned long valid, invalid, blank;
    unsigned long pending;  /* lines added since the last flush */
    int gave_up;            /* sending stopped (auth or config) */
    unsigned long skipped;  /* valid lines not handed to the client after giving up */
    int read_error;
} run;

/* ---- helpers ---- */
static int parse_seconds(const char *s, long max_s, long *ms)
{
    /* SECONDS with up to three decimals; own parser (no locale). */
    long whole = 0, frac = 0, scale = 100;
    const char *p = s;
    if (!*p)
        return -1;
    for (; *p >= '0' && *p <= '9'; p++) {
        whole = whole * 10 + (*p - '0');
        if (whole > max_s)
            return -1;
    }
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9' && scale; p++, scale /= 10)
            frac += (*p - '0') * scale;
    }
    if (*p || p == s)
        return -1;
    *ms = whole * 1000 + frac;
    return 0;
}

static int parse_count(const char *s, long lo, long hi, long *out)
{
    long v = 0;
    const char *p = s;
    if (!*p)
        return -1;
    for (; *p >= '0' && *p <= '9'; p++) {
        v = v * 10 + (*p - '0');
        if (v > hi)
            return -1;
    }
    if (*p || v < lo)
        return -1;
    *out = v;
    return 0;
}

static char *read_token_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    char buf[4096];
    size_t n, start = 0;
    char *tok;
    if (!f) {
        fprintf(stderr, PROG ": cannot read the token file %s: %s\n", path, strerror(errno));
        return NULL;
    }
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* First line, without surrounding white space. */
    while (start < n && (buf[start] == ' ' || buf[start] == '\t' || buf[start] == '\r' ||
                         buf[start] == '\n'))
        start++;
    n = start;
    while (buf[n] && buf[n] != '\n' && buf[n] != '\r')
        n++;
    while (n > start && (buf[n - 1] == ' ' || buf[n - 1] == '\t'))
        n--;
    if (n == start) {
        fprintf(stderr, PROG ": the token file %s is empty\n", path);
        return NULL;
    }
    tok = malloc(n - start + 1);
    if (!tok)
        return NULL;
    memcpy(tok, buf + start, n - start);
    tok[n - start] = '\0';
    memset(buf, 0, sizeof buf);
    return tok;
}

static void wipe_free(char *s)
{
    if (s) {
        volatile char *v = s;
        while (*v)
            *v++ = '\0';
        free(s);
    }
}

static void on_log(dtm_log_level level, const char *message, void *ud)
{
    static const char *const names[] = {"error", "warning", "info", "debug"};
    (void)ud;
    fprintf(stderr, PROG ": %s: %s\n", names[level <= DTM_LOG_DEBUG ? level : 3], message);
}

static void on_rejected(const char *line, size_t len, const char *reason, void *ud)
{
    (void)ud;
    fprintf(stderr, PROG ": rejected by the server: %s: %.200s%s\n", reason, line,
            len > 200 ? "..." : "");
}

/* ---- sending ---- */
static void flush_now(run *r)
{
    dtm_status st;
    if (r->s->dry_run || r->gave_up || r->pending == 0)
        return;
    st = dtm_client_flush(r->c, r->s->timeout_ms);
    r->pending = 0;
    if (st == DTM_EAUTH) /* the reason was logged at ERROR */
        r->gave_up = 1;
}

static void handle_line(run *r, const char *name, unsigned long lineno, char *line, size_t len)
{
    dtm_parse_result res;
    dtm_status st;
    if (len && line[len - 1] == '\r') /* CRLF input */
        len--;
    st = dtm_parse_line(line, len, &res);
    if (st == DTM_OK && res.kind == DTM_LINE_EMPTY) {
        r->blank++;
        return;
    }
    if (st != DTM_OK) {
        r->invalid++;
        fprintf(stderr, "%s:%lu: %s (at byte %zu)\n", name, lineno,
                res.error ? res.error : dtm_strerror(st), res.error_offset + 1);
        return;
    }
    r->valid++;
    if (r->s->dry_run) {
        fwrite(line, 1, len, stdout);
        fputc('\n', stdout);
        return;
    }
    if (r->gave_up) {
        r->skipped++;
        return;
    }
    /* Refusals and drops are counted by the client's statistics. */
    dtm_client_add_line(r->c, line, len);
    r->pending++;
    if (r->pending >= (unsigned long)r->s->batch_lines)
        flush_now(r);
}

static void too_long(run *r, const char *name, unsigned long lineno)
{
    r->invalid++;
    fprintf(stderr, "%s:%lu: line longer than %u bytes\n", name, lineno, MAX_LINE_BYTES);
}

/* Read one input to the end, line by line, flushing when it pauses. */
static void process_fd(run *r, int fd, const char *name)
{
    char *buf = NULL;
    size_t cap = 0, len = 0;
    unsigned long lineno = 0;
    int skipping = 0, eof = 0;

    while (!eof) {
        struct pollfd p;
        ssize_t got;
        size_t start = 0, i;
        p.fd = fd;
        p.events = POLLIN;
        p.revents = 0;
        if (r->pending && poll(&p, 1, (int)r->s->flush_interval_ms) == 0) {
            flush_now(r); /* the input paused: send what we have */
            continue;
        }
        if (cap - len < 65536) {
            size_t ncap = cap ? cap * 2 : 131072;
            char *nb;
            if (ncap > MAX_LINE_BYTES + 131072)
                ncap = MAX_LINE_BYTES + 131072;
            nb = ncap > cap ? realloc(buf, ncap) : buf;
            if (!nb) {
                fprintf(stderr, PROG ": out of memory\n");
                r->read_error = 1;
                break;
            }
            buf = nb;
            cap = ncap;
        }
        got = read(fd, buf + len, cap - len);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, PROG ": %s: %s\n", name, strerror(errno));
            r->read_error = 1;
            break;
        }
        if (got == 0) {
            eof = 1;
            if (len > 0 && len < cap)
                buf[len++] = '\n'; /* a last line without newline */
        }
        len += (size_t)got;
        for (i = 0; i < len; i++) {
            if (buf[i] != '\n')
                continue;
            lineno++;
            if (skipping) {
                skipping = 0;
                too_long(r, name, lineno);
            } else {
                handle_line(r, name, lineno, buf + start, i - start);
            }
            start = i + 1;
        }
        memmove(buf, buf + start, len - start);
        len -= start;
        if (len > MAX_LINE_BYTES) { /* drop the rest of an overlong line */
            skipping = 1;
            len = 0;
        }
    }
    if (skipping)
        too_long(r, name, ++lineno);
    free(buf);
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"url", required_argument, NULL, 'u'},
        {"token-file", required_argument, NULL, 't'},
        {"endpoint-file", required_argument, NULL, 'e'},
        {"allow-any-path", no_argument, NULL, 'P'},
        {"allow-insecure-token", no_argument, NULL, 'I'},
        {"ca-file", required_argument, NULL, 'c'},
        {"insecure", no_argument, NULL, 'k'},
        {"proxy", required_argument, NULL, 'x'},
        {"timeout", required_argument, NULL, 'T'},
        {"request-timeout", required_argument, NULL, 'R'},
        {"batch-lines", required_argument, NULL, 'b'},
        {"flush-interval", required_argument, NULL, 'F'},
        {"gzip", no_argument, NULL, 'z'},
        {"dry-run", no_argument, NULL, 'n'},
        {"quiet", no_argument, NULL, 'q'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0}};
    settings s;
    run r;
    dtm_client_options o;
    dtm_client_statistics st;
    char err[256] = "";
    char *token = NULL;
    int ch, i, code;
    unsigned long not_delivered;
    dtm_status cst;

    memset(&s, 0, sizeof s);
    s.timeout_ms = 30000;
    s.request_timeout_ms = 10000;
    s.flush_interval_ms = 1000;
    s.batch_lines = 1000;
    while ((ch = getopt_long(argc, argv, "qvhV", longopts, NULL)) != -1) {
        switch (ch) {
        case 'u': s.url = optarg; break;
        case 't': s.token_file = optarg; break;
        case 'e': s.endpoint_file = optarg; break;
        case 'P': s.allow_any_path = 1; break;
        case 'I': s.allow_insecure_token = 1; break;
        case 'c': s.ca_file = optarg; break;
        case 'k': s.insecure = 1; break;
        case 'x': s.proxy = optarg; break;
        case 'z': s.gzip = 1; break;
        case 'n': s.dry_run = 1; break;
        case 'q': s.quiet = 1; break;
        case 'v': s.verbose++; break;
        case 'T':
            if (parse_seconds(optarg, 86400, &s.timeout_ms) || s.timeout_ms < 1) {
                fprintf(stderr, PROG ": --timeout: a number of seconds (0.001..86400)\n");
                return EXIT_USAGE;
            }
            break;
        case 'R':
            if (parse_seconds(optarg, 3600, &s.request_timeout_ms) || s.request_timeout_ms < 1) {
                fprintf(stderr, PROG ": --request-timeout: a number of seconds (0.001..3600)\n");
                return EXIT_USAGE;
            }
            break;
        case 'F':
            if (parse_seconds(optarg, 3600, &s.flush_interval_ms) || s.flush_interval_ms < 1) {
                fprintf(stderr, PROG ": --flush-interval: a number of seconds (0.001..3600)\n");
                return EXIT_USAGE;
            }
            break;
        case 'b':
            if (parse_count(optarg, 1, 1000, &s.batch_lines)) {
                fprintf(stderr, PROG ": --batch-lines: 1..1000\n");
                return EXIT_USAGE;
            }
            break;
        case 'h': usage(stdout); return EXIT_ALL_ACCEPTED;
        case 'V': printf(PROG " %s\n", dtm_version()); return EXIT_ALL_ACCEPTED;
        default:
            fprintf(stderr, "Try '" PROG " --help'.\n");
            return EXIT_USAGE;
        }
    }

    if (s.token_file && !(token = read_token_file(s.token_file)))
        return EXIT_USAGE;
    dtm_client_options_init(&o);
    o.mode = DTM_CLIENT_MANUAL;
    o.url = s.url;
    o.token = token;
    o.read_endpoint_file = s.endpoint_file != NULL;
    o.endpoint_file = s.endpoint_file;
    o.allow_any_path = s.allow_any_path;
    o.allow_insecure_token = s.allow_insecure_token;
    o.ca_file = s.ca_file;
    o.tls_insecure = s.insecure;
    o.proxy = s.proxy;
    o.gzip = s.gzip;
    o.batch_max_lines = (size_t)s.batch_lines;
    o.max_queue_lines = 4 * (size_t)s.batch_lines;
    o.max_queue_bytes = 16u * 1024u * 1024u;
    o.overflow = DTM_OVERFLOW_DROP_NEWEST;
    o.request_timeout_ms = s.request_timeout_ms;
    o.retry_max_time_ms = s.timeout_ms;
    o.user_agent = "dtmetrics-send/" DTM_VERSION_STRING;
    o.log_fn = on_log;
    o.log_level = s.verbose >= 2 ? DTM_LOG_DEBUG : s.verbose ? DTM_LOG_INFO : DTM_LOG_ERROR;
    o.verbose = s.verbose >= 2;
    o.rejected_fn = on_rejected;
    o.errbuf = err;
    o.errbuf_size = sizeof err;
    memset(&r, 0, sizeof r);
    r.s = &s;
    cst = dtm_client_new(&r.c, &o);
    wipe_free(token);
    if (cst != DTM_OK) {
        /* The reason was logged already (at ERROR) when it is a configuration error. */
        if (cst != DTM_ECONFIG)
            fprintf(stderr, PROG ": %s\n", err);
        return EXIT_USAGE;
    }

    if (optind >= argc) {
        process_fd(&r, STDIN_FILENO, "stdin");
    } else {
        for (i = optind; i < argc; i++) {
            int fd;
            if (strcmp(argv[i], "-") == 0) {
                process_fd(&r, STDIN_FILENO, "stdin");
                continue;
            }
            fd = open(argv[i], O_RDONLY);
            if (fd < 0) {
                fprintf(stderr, PROG ": cannot open %s: %s\n", argv[i], strerror(errno));
                r.read_error = 1;
                continue;
            }
            process_fd(&r, fd, argv[i]);
            close(fd);
        }
    }

    if (s.dry_run) {
        dtm_client_free(r.c);
        fflush(stdout);
        fprintf(stderr, PROG ": dry run: %lu valid, %lu invalid; nothing sent\n", r.valid,
                r.invalid);
        if (r.read_error)
            return EXIT_USAGE;
        return r.invalid ? EXIT_SOME_REFUSED : EXIT_ALL_ACCEPTED;
    }

    flush_now(&r);
    dtm_client_close(r.c, r.gave_up ? 0 : s.timeout_ms);
    dtm_client_stats(r.c, &st);
    dtm_client_free(r.c);
    not_delivered = (unsigned long)(st.lines_dropped + st.lines_queued) + r.skipped;
    code = EXIT_ALL_ACCEPTED;
    if (r.invalid || st.lines_rejected)
        code = EXIT_SOME_REFUSED;
    if (not_delivered)
        code = EXIT_NOT_DELIVERED;
    if (r.read_error)
        code = EXIT_USAGE;
    if (code != EXIT_ALL_ACCEPTED || !s.quiet) {
        fprintf(stderr, PROG ": %llu accepted, %llu rejected, %lu invalid, %lu not delivered",
                (unsigned long long)st.lines_accepted, (unsigned long long)st.lines_rejected,
                r.invalid, not_delivered);
        if (not_delivered && st.last_error[0])
            fprintf(stderr, " (%s)", st.last_error);
        fputc('\n', stderr);
    }
    return code;
}
