/*
 * dtmetrics-emulator: judging one request body the way the ingest service
 * does, and writing its ValidationResponse.
 *
 * - The body is split at LF.  Line numbers are 1-based and count every
 *   physical line, blank ones included, so that invalidLines[].line indexes
 *   the body as sent.  A CR before the LF stays part of the line (the
 *   validator rejects it).
 * - Blank lines (the validator's DTM_LINE_EMPTY, which includes the empty
 *   piece after a trailing LF) are skipped: neither ok nor invalid.
 * - Every other line, metadata lines included, is either ok or invalid.
 * - No countable line at all: 400 "empty request" (spec ingest-api 1.3).
 * - At most 10 invalid lines are itemised; the message says how many.
 * - /metrics/ingest (OneAgent): more than max_lines countable lines reject
 *   the whole request with 400, nothing accepted.
 */
#include "config.h"

#include <string.h>

#include "emulator.h"

#define MAX_ITEMISED 10
#define TS_PAST_MS (60 * 60 * 1000)   /* the service accepts 1 h back ... */
#define TS_FUTURE_MS (10 * 60 * 1000) /* ... and 10 min ahead */

typedef struct bad_line {
    uint64_t line;
    const char *reason;
    size_t offset;
    int has_offset;
} bad_line;

static void counts_open(emu_buf *b, const emu_ingest_opts *o, uint64_t ok, uint64_t invalid)
{
    emu_buf_puts(b, o->oneagent ? "{\"linesValid\":" : "{\"linesOk\":");
    emu_buf_putu(b, ok);
    emu_buf_puts(b, ",\"linesInvalid\":");
    emu_buf_putu(b, invalid);
}

/* {"linesOk":ok,"linesInvalid":invalid,"error":{"code":400,"message":M,"invalidLines":[...]}...} */
static void write_error_body(emu_buf *b, const emu_ingest_opts *o, uint64_t ok, uint64_t invalid,
                             const char *message, const bad_line *bad, size_t n_bad,
                             int with_warnings)
{
    size_t i;
    counts_open(b, o, ok, invalid);
    emu_buf_puts(b, ",\"error\":{\"code\":400,\"message\":");
    emu_buf_json(b, message, strlen(message));
    emu_buf_puts(b, ",\"invalidLines\":[");
    for (i = 0; i < n_bad; i++) {
        emu_buf e = {0};
        if (i)
            emu_buf_puts(b, ",");
        emu_buf_puts(b, "{\"line\":");
        emu_buf_putu(b, bad[i].line);
        emu_buf_puts(b, ",\"error\":");
        emu_buf_puts(&e, bad[i].reason);
        if (bad[i].has_offset) {
            emu_buf_puts(&e, " (index ");
            emu_buf_putu(&e, bad[i].offset);
            emu_buf_puts(&e, ")");
        }
        if (e.failed)
            b->failed = 1;
        else
            emu_buf_json(b, e.p, e.len);
        emu_buf_free(&e);
        emu_buf_puts(b, "}");
    }
    emu_buf_puts(b, "]}");
    if (with_warnings && !o->oneagent)
        emu_buf_puts(b, ",\"warnings\":null");
    emu_buf_puts(b, "}");
}

/* Checks the emulator makes beyond the line validator. */
static const char *extra_check(const dtm_parse_result *r, const emu_ingest_opts *o)
{
    if (o->check_timestamps && r->has_timestamp &&
        (r->timestamp_ms < o->now_ms - TS_PAST_MS || r->timestamp_ms > o->now_ms + TS_FUTURE_MS))
        return "timestamp outside the accepted window (1 hour back to 10 minutes ahead)";
    return NULL;
}

dtm_status emu_ingest(const char *body, size_t len, const emu_ingest_opts *o, emu_verdict *v)
{
    bad_line bad[MAX_ITEMISED];
    size_t n_bad = 0, n_lines = 1, pos = 0, i;
    uint64_t lineno = 0, ok = 0, invalid = 0;
    emu_buf *b = &v->json;

    memset(v, 0, sizeof *v);
    for (i = 0; i < len; i++)
        if (body[i] == '\n')
            n_lines++;
    v->accepted = dtm__calloc(n_lines, sizeof *v->accepted);
    if (!v->accepted)
        return DTM_ENOMEM;

    while (pos <= len) {
        const char *nl = len > pos ? memchr(body + pos, '\n', len - pos) : NULL;
        size_t end = nl ? (size_t)(nl - body) : len;
        dtm_parse_result r;
        dtm_status st;
        const char *reason = NULL;
        int syntax = 0;

        lineno++;
        memset(&r, 0, sizeof r);
        if (o->sink) {
            /* --sink: a plain receiver for throughput measurements */
            st = DTM_OK;
            r.kind = DTM_LINE_GAUGE;
        } else {
            st = end > pos ? dtm_parse_line(body + pos, end - pos, &r) : DTM_OK;
        }
        if (end == pos || (st == DTM_OK && r.kind == DTM_LINE_EMPTY)) {
            /* skipped */
        } else {
            if (st == DTM_OK && r.kind != DTM_LINE_INVALID)
                reason = extra_check(&r, o);
            else if (st == DTM_ESYNTAX || (st == DTM_OK && r.kind == DTM_LINE_INVALID)) {
                reason = r.error ? r.error : "invalid line";
                syntax = 1;
            } else
                reason = dtm_strerror(st);
            if (!reason) {
                v->accepted[v->n_accepted].off = pos;
                v->accepted[v->n_accepted].len = end - pos;
                v->n_accepted++;
                ok++;
            } else {
                if (n_bad < MAX_ITEMISED) {
                    bad[n_bad].line = lineno;
                    bad[n_bad].reason = reason;
                    bad[n_bad].has_offset = syntax;
                    bad[n_bad].offset = r.error_offset;
                    n_bad++;
                }
                invalid++;
            }
        }
        if (!nl)
            break;
        pos = end + 1;
    }

    if (ok + invalid == 0) {
        v->status = 400;
        write_error_body(b, o, 0, 0, "empty request", NULL, 0, 0);
    } else if (o->oneagent && o->max_lines && ok + invalid > o->max_lines) {
        emu_buf m = {0};
        emu_buf_puts(&m, "too many lines: ");
        emu_buf_putu(&m, ok + invalid);
        emu_buf_puts(&m, " in one request, the local endpoint accepts at most ");
        emu_buf_putu(&m, o->max_lines);
        v->status = 400;
        v->n_accepted = 0;
        write_error_body(b, o, 0, ok + invalid, m.failed ? "too many lines" : m.p, NULL, 0, 0);
        emu_buf_free(&m);
        invalid += ok;
        ok = 0;
    } else if (invalid == 0) {
        v->status = 202;
        counts_open(b, o, ok, 0);
        emu_buf_puts(b, o->oneagent ? ",\"error\":null}" : ",\"error\":null,\"warnings\":null}");
    } else {
        emu_buf m = {0};
        if (invalid > MAX_ITEMISED) {
            emu_buf_puts(&m, "First ");
            emu_buf_putu(&m, MAX_ITEMISED);
            emu_buf_puts(&m, " errors reported");
        } else {
            emu_buf_putu(&m, invalid);
            emu_buf_puts(&m, " invalid lines");
        }
        v->status = 400;
        write_error_body(b, o, ok, invalid, m.failed ? "invalid lines" : m.p, bad, n_bad, 1);
        emu_buf_free(&m);
    }
    v->lines_ok = ok;
    v->lines_invalid = invalid;
    if (b->failed) {
        emu_verdict_free(v);
        return DTM_ENOMEM;
    }
    return DTM_OK;
}

void emu_verdict_free(emu_verdict *v)
{
    dtm__free(v->accepted);
    emu_buf_free(&v->json);
    memset(v, 0, sizeof *v);
}
