/* dtmetrics-emulator: every answer class, the control API and the options,
   through the binary of the build tree (tests/emulator_harness.h). */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <zlib.h>

#include "emulator_harness.h"
#include "testutil.h"

#define TOKEN "dt0c01.EMULATORTEST.secretpart"
#define API "/api/v2/metrics/ingest"
#define AGENT "/metrics/ingest"

static const char *const auth[] = {"Authorization: Api-Token " TOKEN,
                                    "Content-Type: text/plain; charset=utf-8", NULL};
static const char *const no_auth[] = {"Content-Type: text/plain; charset=utf-8", NULL};
static const char *const token_args[] = {"--token", TOKEN, "--quiet", NULL};

/* ---- helpers ---- */

static emu_proc *start(const char *const *args)
{
    emu_proc *e = emu_start(args);
    ck_assert_msg(e != NULL, "the emulator did not start");
    return e;
}

static void stop(emu_proc *e)
{
    ck_assert_int_eq(emu_stop(e), 0);
}

/* POST and insist that an answer came. */
static long post(emu_proc *e, const char *path, const char *const *hdrs, const char *body,
                 size_t len, emu_response *r)
{
    int rc = emu_request(e, "POST", path, hdrs, body, len, 0, r);
    ck_assert_msg(rc == CURLE_OK, "request failed: %s", curl_easy_strerror((CURLcode)rc));
    return r->status;
}

static long post_str(emu_proc *e, const char *path, const char *const *hdrs, const char *body,
                     emu_response *r)
{
    return post(e, path, hdrs, body, strlen(body), r);
}

static json_t *json_of(const emu_response *r)
{
    json_error_t err;
    json_t *j = json_loadb(r->body, r->body_len, 0, &err);
    ck_assert_msg(j != NULL, "not JSON (%s): %s", err.text, r->body);
    return j;
}

static long jint(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    ck_assert_msg(json_is_integer(v), "no integer '%s'", key);
    return (long)json_integer_value(v);
}

/* The ErrorEnvelope of r has the given code and a non-empty message. */
static void assert_envelope(const emu_response *r, long code)
{
    json_t *j = json_of(r), *err = json_object_get(j, "error");
    ck_assert_msg(json_is_object(err), "no error object: %s", r->body);
    ck_assert_int_eq(jint(err, "code"), code);
    ck_assert_msg(json_string_length(json_object_get(err, "message")) > 0, "no message");
    ck_assert_ptr_nonnull(r->content_type);
    ck_assert_msg(strncmp(r->content_type, "application/json", 16) == 0, "%s", r->content_type);
    json_decref(j);
}

static void assert_lines(emu_proc *e, const char *want)
{
    char *lines = emu_lines(e, NULL);
    ck_assert_ptr_nonnull(lines);
    ck_assert_str_eq(lines, want);
    free(lines);
}

static emu_counters stats(emu_proc *e)
{
    emu_counters c;
    ck_assert_int_eq(emu_stats(e, &c), 0);
    return c;
}

/* A body of exactly n (>= 11) bytes of valid gauge lines. */
static char *body_of_size(size_t n, size_t *lines)
{
    size_t full = (n - 11) / 12, rest = n - 12 * full, i;
    char *b = malloc(n + 1), *p = b;
    ck_assert_ptr_nonnull(b);
    for (i = 0; i < full; i++, p += 12)
        memcpy(p, "m.k gauge,1\n", 12);
    memcpy(p, "m.k gauge,1", 11);
    memset(p + 11, '0', rest - 11);
    b[n] = '\0';
    if (lines)
        *lines = full + 1;
    return b;
}

static unsigned char *gzip_of(const char *in, size_t n, size_t *out_len)
{
    z_stream z;
    unsigned char *out;
    uLong cap;
    memset(&z, 0, sizeof z);
    ck_assert_int_eq(deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8,
                                  Z_DEFAULT_STRATEGY), Z_OK);
    cap = deflateBound(&z, (uLong)n);
    out = malloc(cap);
    ck_assert_ptr_nonnull(out);
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    ck_assert_int_eq(deflate(&z, Z_FINISH), Z_STREAM_END);
    *out_len = z.total_out;
    deflateEnd(&z);
    return out;
}

/* Run the binary to completion; returns its exit status, stdout in out. */
static int run_program(const char *const *args, const char *env, char *out, size_t cap)
{
    int fds[2], status = -1;
    size_t len = 0, n = 0;
    const char *argv[16];
    pid_t pid;
    argv[n++] = emu_program();
    while (args && *args && n < 15)
        argv[n++] = *args++;
    argv[n] = NULL;
    ck_assert_int_eq(pipe(fds), 0);
    fflush(NULL);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        if (env)
            putenv((char *)env);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(fds[1]);
    for (;;) {
        ssize_t got = read(fds[0], out + len, cap - 1 - len);
        if (got > 0 && len + (size_t)got < cap - 1)
            len += (size_t)got;
        else if (got < 0 && errno == EINTR)
            continue;
        else
            break;
    }
    out[len] = '\0';
    close(fds[0]);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status));
    return WEXITSTATUS(status);
}

/* ---- /api/v2/metrics/ingest ---- */

START_TEST(all_valid_gives_202)
{
    const char *body = "m.k gauge,1\nmy.metric,dim=a count,delta=5\n#my.metric count dt.meta.unit=Byte";
    emu_proc *e = start(token_args);
    emu_response r;
    emu_counters c;
    ck_assert_int_eq(post_str(e, API, auth, body, &r), 202);
    ck_assert_str_eq(r.body, "{\"linesOk\":3,\"linesInvalid\":0,\"error\":null,\"warnings\":null}");
    ck_assert_msg(strncmp(r.content_type, "application/json", 16) == 0, "%s", r.content_type);
    emu_response_free(&r);
    assert_lines(e, "m.k gauge,1\nmy.metric,dim=a count,delta=5\n"
                    "#my.metric count dt.meta.unit=Byte\n");
    c = stats(e);
    ck_assert_int_eq(c.requests, 1);
    ck_assert_int_eq(c.lines_ok, 3);
    ck_assert_int_eq(c.lines_invalid, 0);
    ck_assert_int_eq(c.bytes, (long)strlen(body));
    ck_assert_int_eq(c.status[202], 1);
    stop(e);
}
END_TEST

/* 25 lines, every even one invalid: 13 ok, 12 invalid, 10 itemised. */
START_TEST(partial_gives_400_and_keeps_valid_lines)
{
    emu_proc *e = start(token_args);
    char body[2048] = "", want[2048] = "", line[64];
    emu_response r;
    json_t *j, *err, *items;
    size_t i;
    for (i = 1; i <= 25; i++) {
        if (i % 2 == 0) {
            snprintf(line, sizeof line, "not a metric line %zu", i);
        } else {
            snprintf(line, sizeof line, "m.k,i=%zu gauge,%zu", i, i);
            strcat(want, line);
            strcat(want, "\n");
        }
        strcat(body, line);
        if (i < 25)
            strcat(body, "\n");
    }
    ck_assert_int_eq(post_str(e, API, auth, body, &r), 400);
    j = json_of(&r);
    ck_assert_int_eq(jint(j, "linesOk"), 13);
    ck_assert_int_eq(jint(j, "linesInvalid"), 12);
    err = json_object_get(j, "error");
    ck_assert_int_eq(jint(err, "code"), 400);
    ck_assert_str_eq(json_string_value(json_object_get(err, "message")), "First 10 errors reported");
    items = json_object_get(err, "invalidLines");
    ck_assert_int_eq(json_array_size(items), 10);
    for (i = 0; i < 10; i++) {
        json_t *it = json_array_get(items, i);
        ck_assert_int_eq(jint(it, "line"), (long)(2 * (i + 1)));
        ck_assert_int_gt(json_string_length(json_object_get(it, "error")), 0);
    }
    json_decref(j);
    emu_response_free(&r);
    assert_lines(e, want);
    ck_assert_int_eq(stats(e).lines_invalid, 12);
    stop(e);
}
END_TEST

START_TEST(few_invalid_are_all_itemised)
{
    emu_proc *e = start(token_args);
    emu_response r;
    json_t *j, *items;
    ck_assert_int_eq(post_str(e, API, auth, "bad one\nm.k gauge,1\nbad two", &r), 400);
    j = json_of(&r);
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "error"), "message")),
                     "2 invalid lines");
    items = json_object_get(json_object_get(j, "error"), "invalidLines");
    ck_assert_int_eq(json_array_size(items), 2);
    ck_assert_int_eq(jint(json_array_get(items, 0), "line"), 1);
    ck_assert_int_eq(jint(json_array_get(items, 1), "line"), 3);
    ck_assert_int_eq(jint(j, "linesOk"), 1);
    json_decref(j);
    emu_response_free(&r);
    stop(e);
}
END_TEST

/* Blank lines are skipped but keep their number; a trailing LF is fine. */
START_TEST(blank_lines_keep_numbering)
{
    emu_proc *e = start(token_args);
    emu_response r;
    json_t *j;
    ck_assert_int_eq(post_str(e, API, auth, "m.k gauge,1\n\nnot valid\n", &r), 400);
    j = json_of(&r);
    ck_assert_int_eq(jint(j, "linesOk"), 1);
    ck_assert_int_eq(jint(j, "linesInvalid"), 1);
    ck_assert_int_eq(jint(json_array_get(json_object_get(json_object_get(j, "error"),
                                                         "invalidLines"), 0), "line"), 3);
    json_decref(j);
    emu_response_free(&r);
    ck_assert_int_eq(post_str(e, API, auth, "m.k gauge,2\n", &r), 202);
    ck_assert_str_eq(r.body, "{\"linesOk\":1,\"linesInvalid\":0,\"error\":null,\"warnings\":null}");
    emu_response_free(&r);
    assert_lines(e, "m.k gauge,1\nm.k gauge,2\n");
    stop(e);
}
END_TEST

/* A CR before the LF stays in the line, and the validator rejects it. */
START_TEST(crlf_lines_are_invalid)
{
    emu_proc *e = start(token_args);
    emu_response r;
    json_t *j;
    ck_assert_int_eq(post_str(e, API, auth, "m.k gauge,1\r\nm.k gauge,2", &r), 400);
    j = json_of(&r);
    ck_assert_int_eq(jint(j, "linesOk"), 1);
    ck_assert_int_eq(jint(json_array_get(json_object_get(json_object_get(j, "error"),
                                                         "invalidLines"), 0), "line"), 1);
    json_decref(j);
    emu_response_free(&r);
    assert_lines(e, "m.k gauge,2\n");
    stop(e);
}
END_TEST

START_TEST(reserved_keys_are_invalid)
{
    emu_proc *e = start(token_args);
    emu_response r;
    ck_assert_int_eq(post_str(e, API, auth, "dt.something gauge,1", &r), 400);
    emu_response_free(&r);
    ck_assert_int_eq(stats(e).lines_invalid, 1);
    stop(e);
}
END_TEST

START_TEST(empty_body_gives_400_empty_request)
{
    emu_proc *e = start(token_args);
    emu_response r;
    ck_assert_int_eq(post(e, API, auth, NULL, 0, &r), 400);
    ck_assert_str_eq(r.body, "{\"linesOk\":0,\"linesInvalid\":0,\"error\":{\"code\":400,"
                             "\"message\":\"empty request\",\"invalidLines\":[]}}");
    emu_response_free(&r);
    /* the token is checked first: the probe tells a bad token apart */
    ck_assert_int_eq(post(e, API, no_auth, NULL, 0, &r), 401);
    emu_response_free(&r);
    ck_assert_int_eq(post(e, AGENT, no_auth, "\n\n", 2, &r), 400);
    ck_assert_str_eq(r.body, "{\"linesValid\":0,\"linesInvalid\":0,\"error\":{\"code\":400,"
                             "\"message\":\"empty request\",\"invalidLines\":[]}}");
    emu_response_free(&r);
    stop(e);
}
END_TEST

/* ---- tokens ---- */

static const struct {
    const char *header; /* NULL: none */
    long status;
} auth_cases[] = {
    {NULL, 401},
    {"Authorization: Api-Token wrong", 401},
    {"Authorization: Api-Token " TOKEN "x", 401},
    {"Authorization: Api-Token", 401},
    {"Authorization: Bearer " TOKEN, 401},
    {"Authorization: " TOKEN, 401},
    {"Authorization: Api-Token " TOKEN, 202},
    {"Authorization: api-token " TOKEN, 202},
    {"Authorization: API-TOKEN  " TOKEN, 202},
};

START_TEST(token_is_checked)
{
    emu_proc *e = start(token_args);
    long ok = 0;
    size_t i;
    for (i = 0; i < sizeof auth_cases / sizeof auth_cases[0]; i++) {
        const char *hdrs[2] = {auth_cases[i].header, NULL};
        emu_response r;
        ck_assert_msg(post_str(e, API, hdrs, "m.k gauge,1", &r) == auth_cases[i].status,
                      "case %zu: %ld", i, r.status);
        if (auth_cases[i].status == 401)
            assert_envelope(&r, 401);
        else
            ok++;
        ck_assert_msg(strstr(r.body, TOKEN) == NULL, "the answer shows the token");
        emu_response_free(&r);
        ck_assert_int_eq(stats(e).lines_ok, ok);
    }
    stop(e);
}
END_TEST

START_TEST(token_from_file)
{
    char path[] = "/tmp/dtm-emu-token-XXXXXX";
    const char *args[] = {"--token-file", path, "--quiet", NULL};
    const char *good[] = {"Authorization: Api-Token from-file", NULL};
    int fd = mkstemp(path);
    emu_proc *e;
    emu_response r;
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "from-file\n", 10), 10);
    close(fd);
    e = start(args);
    ck_assert_int_eq(post_str(e, API, good, "m.k gauge,1", &r), 202);
    emu_response_free(&r);
    ck_assert_int_eq(post_str(e, API, auth, "m.k gauge,1", &r), 401);
    emu_response_free(&r);
    stop(e);
    unlink(path);
}
END_TEST

START_TEST(no_configured_token_accepts_any)
{
    const char *args[] = {"--quiet", NULL};
    const char *any[] = {"Authorization: Api-Token whatever", NULL};
    emu_proc *e = start(args);
    emu_response r;
    ck_assert_int_eq(post_str(e, API, any, "m.k gauge,1", &r), 202);
    emu_response_free(&r);
    ck_assert_int_eq(post_str(e, API, no_auth, "m.k gauge,1", &r), 401);
    emu_response_free(&r);
    stop(e);
}
END_TEST

/* ---- /metrics/ingest (OneAgent) ---- */

START_TEST(oneagent_needs_no_token)
{
    emu_proc *e = start(token_args);
    emu_response r;
    json_t *j;
    ck_assert_int_eq(post_str(e, AGENT, no_auth, "m.k gauge,1\nm.k count,delta=1", &r), 202);
    ck_assert_str_eq(r.body, "{\"linesValid\":2,\"linesInvalid\":0,\"error\":null}");
    emu_response_free(&r);
    ck_assert_int_eq(post_str(e, AGENT, no_auth, "m.k gauge,1\nbroken", &r), 400);
    j = json_of(&r);
    ck_assert_int_eq(jint(j, "linesValid"), 1);
    ck_assert_int_eq(jint(j, "linesInvalid"), 1);
    ck_assert_ptr_null(json_object_get(j, "linesOk"));
    json_decref(j);
    emu_response_free(&r);
    ck_assert_int_eq(stats(e).lines_ok, 3);
    stop(e);
}
END_TEST

START_TEST(oneagent_line_limit)
{
    emu_proc *e = start(token_args);
    size_t lines;
    char *body = body_of_size(12 * 1000 - 1, &lines); /* exactly 1000 lines */
    emu_response r;
    json_t *j;
    ck_assert_int_eq(lines, 1000);
    ck_assert_int_eq(post_str(e, AGENT, no_auth, body, &r), 202);
    emu_response_free(&r);
    free(body);
    body = body_of_size(12 * 1001 - 1, &lines);
    ck_assert_int_eq(lines, 1001);
    ck_assert_int_eq(post_str(e, AGENT, no_auth, body, &r), 400);
    j = json_of(&r);
    ck_assert_int_eq(jint(j, "linesValid"), 0);
    ck_assert_int_eq(jint(j, "linesInvalid"), 1001);
    ck_assert_int_eq(jint(json_object_get(j, "error"), "code"), 400);
    json_decref(j);
    emu_response_free(&r);
    ck_assert_int_eq(stats(e).lines_ok, 1000); /* none of the 1001 */
    /* the SaaS path has no line limit */
    ck_assert_int_eq(post_str(e, API, auth, body, &r), 202);
    emu_response_free(&r);
    free(body);
    stop(e);
}
END_TEST

/* ---- routes and methods ---- */

static const struct {
    const char *method;
    const char *path;
    long status;
    const char *allow;
} route_cases[] = {
    {"POST", "/nope", 404, NULL},
    {"POST", "/api/v2/metrics/ingest/", 404, NULL},
    {"POST", "/api/v2/metrics", 404, NULL},
    {"GET", "/", 404, NULL},
    {"GET", "/_emulator/nope", 404, NULL},
    {"GET", API, 405, "POST"},
    {"PUT", API, 405, "POST"},
    {"DELETE", AGENT, 405, "POST"},
    {"GET", AGENT, 405, "POST"},
    {"GET", "/_emulator/reset", 405, "POST"},
    {"POST", "/_emulator/lines", 405, "GET"},
    {"PUT", "/_emulator/fault", 405, "POST, DELETE"},
};

START_TEST(routes_and_methods)
{
    emu_proc *e = start(token_args);
    size_t i;
    for (i = 0; i < sizeof route_cases / sizeof route_cases[0]; i++) {
        emu_response r;
        ck_assert_int_eq(emu_request(e, route_cases[i].method, route_cases[i].path, auth, NULL,
                                     0, 0, &r), CURLE_OK);
        ck_assert_msg(r.status == route_cases[i].status, "case %zu: %s %s gave %ld", i,
                      route_cases[i].method, route_cases[i].path, r.status);
        assert_envelope(&r, route_cases[i].status);
        if (route_cases[i].allow) {
            ck_assert_ptr_nonnull(r.allow);
            ck_assert_str_eq(r.allow, route_cases[i].allow);
        }
        emu_response_free(&r);
    }
    ck_assert_int_eq(stats(e).lines_ok, 0);
    stop(e);
}
END_TEST

/* ---- body limit ---- */

static const char *const expect_none[] = {"Authorization: Api-Token " TOKEN, "Expect:", NULL};
static const char *const expect_100[] = {"Authorization: Api-Token " TOKEN,
                                         "Expect: 100-continue", NULL};

static void check_limit(emu_proc *e, size_t limit)
{
    char *at = body_of_size(limit, NULL), *above = body_of_size(limit + 1, NULL);
    emu_response r;
    ck_assert_int_eq(post(e, API, expect_none, at, limit, &r), 202);
    emu_response_free(&r);
    ck_assert_int_eq(post(e, API, expect_none, above, limit + 1, &r), 413);
    assert_envelope(&r, 413);
    emu_response_free(&r);
    ck_assert_int_eq(post(e, API, expect_100, above, limit + 1, &r), 413);
    assert_envelope(&r, 413);
    emu_response_free(&r);
    ck_assert_int_eq(post(e, AGENT, no_auth, above, limit + 1, &r), 413);
    emu_response_free(&r);
    free(at);
    free(above);
}

START_TEST(body_limit_small)
{
    const char *args[] = {"--token", TOKEN, "--quiet", "--max-body", "100", NULL};
    emu_proc *e = start(args);
    size_t lines;
    char *at = body_of_size(100, &lines);
    check_limit(e, 100);
    ck_assert_int_eq(stats(e).lines_ok, (long)lines); /* only the body at the limit */
    ck_assert_int_eq(stats(e).status[413], 3);
    free(at);
    stop(e);
}
END_TEST

START_TEST(body_limit_default)
{
    emu_proc *e = start(token_args);
    check_limit(e, 1000000);
    stop(e);
}
END_TEST

/* A chunked upload has no Content-Length: the limit applies while reading. */
START_TEST(body_limit_chunked)
{
    const char *args[] = {"--token", TOKEN, "--quiet", "--max-body", "100", NULL};
    const char *hdrs[] = {"Authorization: Api-Token " TOKEN, "Transfer-Encoding: chunked", NULL};
    emu_proc *e = start(args);
    char *above = body_of_size(101, NULL), *at = body_of_size(100, NULL);
    emu_response r;
    ck_assert_int_eq(post(e, API, hdrs, above, 101, &r), 413);
    emu_response_free(&r);
    ck_assert_int_eq(post(e, API, hdrs, at, 100, &r), 202);
    emu_response_free(&r);
    free(above);
    free(at);
    stop(e);
}
END_TEST

/* ---- Content-Encoding ---- */

static const char *const gz_hdrs[] = {"Authorization: Api-Token " TOKEN, "Content-Encoding: gzip",
                                      NULL};

START_TEST(gzip_body_is_decoded)
{
    const char *body = "m.k gauge,1\nm.k gauge,2\nm.k gauge,3";
    emu_proc *e = start(token_args);
    size_t zlen;
    unsigned char *z = gzip_of(body, strlen(body), &zlen);
    emu_response r;
    emu_counters c;
    ck_assert_int_eq(post(e, API, gz_hdrs, (const char *)z, zlen, &r), 202);
    ck_assert_str_eq(r.body, "{\"linesOk\":3,\"linesInvalid\":0,\"error\":null,\"warnings\":null}");
    emu_response_free(&r);
    assert_lines(e, "m.k gauge,1\nm.k gauge,2\nm.k gauge,3\n");
    c = stats(e);
    ck_assert_int_eq(c.bytes, (long)zlen);
    ck_assert_int_eq(c.bytes_decoded, (long)strlen(body));
    free(z);
    stop(e);
}
END_TEST

START_TEST(gzip_limit_applies_to_decoded_size)
{
    const char *args[] = {"--token", TOKEN, "--quiet", "--max-body", "100", NULL};
    emu_proc *e = start(args);
    char *at = body_of_size(100, NULL), *above = body_of_size(101, NULL);
    size_t zat, zabove;
    unsigned char *gat = gzip_of(at, 100, &zat), *gabove = gzip_of(above, 101, &zabove);
    emu_response r;
    ck_assert_uint_lt(zabove, 100); /* small on the wire, too large decoded */
    ck_assert_int_eq(post(e, API, gz_hdrs, (const char *)gabove, zabove, &r), 413);
    emu_response_free(&r);
    ck_assert_int_eq(post(e, API, gz_hdrs, (const char *)gat, zat, &r), 202);
    emu_response_free(&r);
    free(at);
    free(above);
    free(gat);
    free(gabove);
    stop(e);
}
END_TEST

START_TEST(gzip_broken_or_truncated)
{
    const char *body = "m.k gauge,1\nm.k gauge,2";
    emu_proc *e = start(token_args);
    size_t zlen;
    unsigned char *z = gzip_of(body, strlen(body), &zlen);
    emu_response r;
    ck_assert_int_eq(post(e, API, gz_hdrs, (const char *)z, zlen - 4, &r), 400);
    assert_envelope(&r, 400);
    emu_response_free(&r);
    ck_assert_int_eq(post_str(e, API, gz_hdrs, "this is not gzip", &r), 400);
    assert_envelope(&r, 400);
    emu_response_free(&r);
    ck_assert_int_eq(stats(e).lines_ok, 0);
    free(z);
    stop(e);
}
END_TEST

START_TEST(unknown_encoding_gives_415)
{
    const char *hdrs[] = {"Authorization: Api-Token " TOKEN, "Content-Encoding: br", NULL};
    const char *ident[] = {"Authorization: Api-Token " TOKEN, "Content-Encoding: identity", NULL};
    emu_proc *e = start(token_args);
    emu_response r;
    ck_assert_int_eq(post_str(e, API, hdrs, "m.k gauge,1", &r), 415);
    assert_envelope(&r, 415);
    emu_response_free(&r);
    ck_assert_int_eq(post_str(e, API, ident, "m.k gauge,1", &r), 202);
    emu_response_free(&r);
    stop(e);
}
END_TEST

/* ---- faults ---- */

START_TEST(fault_status_with_retry_after)
{
    emu_proc *e = start(token_args);
    emu_response r;
    emu_counters c;
    int i;
    ck_assert_int_eq(emu_fault(e, "status=503&count=2&retry_after=7"), 200);
    ck_assert_int_eq(stats(e).faults_pending, 2);
    for (i = 0; i < 2; i++) {
        ck_assert_int_eq(post_str(e, API, auth, "m.k gauge,1", &r), 503);
        assert_envelope(&r, 503);
        ck_assert_ptr_nonnull(r.retry_after);
        ck_assert_str_eq(r.retry_after, "7");
        emu_response_free(&r);
    }
    ck_assert_int_eq(post_str(e, API, auth, "m.k gauge,2", &r), 202);
    ck_assert_ptr_null(r.retry_after);
    emu_response_free(&r);
    assert_lines(e, "m.k gauge,2\n");
    c = stats(e);
    ck_assert_int_eq(c.status[503], 2);
    ck_assert_int_eq(c.status[202], 1);
    ck_assert_int_eq(c.faults_pending, 0);
    stop(e);
}
END_TEST

/* Faults apply in the order they were queued, to both ingest paths. */
START_TEST(faults_queue_in_order)
{
    emu_proc *e = start(token_args);
    emu_response r;
    ck_assert_int_eq(emu_fault(e, "status=429"), 200);
    ck_assert_int_eq(emu_fault(e, "status=500&body=empty"), 200);
    ck_assert_int_eq(emu_fault(e, "status=502&body=html&retry_after=Wed,%2021%20Oct%202015%2007:28:00%20GMT"), 200);
    ck_assert_int_eq(emu_fault(e, "status=200&body=text"), 200);
    ck_assert_int_eq(post_str(e, AGENT, no_auth, "m.k gauge,1", &r), 429);
    ck_assert_ptr_null(r.retry_after);
    emu_response_free(&r);
    ck_assert_int_eq(post_str(e, API, auth, "m.k gauge,1", &r), 500);
    ck_assert_uint_eq(r.body_len, 0);
    emu_response_free(&r);
    ck_assert_int_eq(post_str(e, API, auth, "m.k gauge,1", &r), 502);
    ck_assert_msg(strncmp(r.content_type, "text/html", 9) == 0, "%s", r.content_type);
    ck_assert_str_eq(r.retry_after, "Wed, 21 Oct 2015 07:28:00 GMT");
    emu_response_free(&r);
    ck_assert_int_eq(post_str(e, API, auth, "m.k gauge,1", &r), 200);
    ck_assert_msg(strncmp(r.content_type, "text/plain", 10) == 0, "%s", r.content_type);
    ck_assert_ptr_null(strstr(r.body, "linesOk"));
    emu_response_free(&r);
    ck_assert_int_eq(stats(e).lines_ok, 0);
    /* DELETE forgets what is queued */
    ck_assert_int_eq(emu_fault(e, "status=503&count=5"), 200);
    ck_assert_int_eq(emu_request(e, "DELETE", "/_emulator/fault", NULL, NULL, 0, 0, &r), CURLE_OK);
    ck_assert_int_eq(r.status, 200);
    emu_response_free(&r);
    ck_assert_int_eq(post_str(e, API, auth, "m.k gauge,1", &r), 202);
    emu_response_free(&r);
    stop(e);
}
END_TEST

START_TEST(fault_drop_closes_without_answer)
{
    emu_proc *e = start(token_args);
    emu_response r;
    emu_counters c;
    ck_assert_int_eq(emu_fault(e, "drop=1"), 200);
    ck_assert_int_ne(emu_request(e, "POST", API, auth, "m.k gauge,1", 11, 0, &r), CURLE_OK);
    ck_assert_int_eq(r.status, 0);
    emu_response_free(&r);
    ck_assert_int_eq(post_str(e, API, auth, "m.k gauge,2", &r), 202);
    emu_response_free(&r);
    c = stats(e);
    ck_assert_int_eq(c.dropped, 1);
    ck_assert_int_eq(c.requests, 2);
    assert_lines(e, "m.k gauge,2\n");
    stop(e);
}
END_TEST

/* The delayed request is answered late (the client gives up first) but its
   lines are accepted, like a server that ingested and then was slow. */
START_TEST(fault_delay)
{
    emu_proc *e = start(token_args);
    emu_response r;
    ck_assert_int_eq(emu_fault(e, "delay_ms=60000"), 200);
    ck_assert_int_eq(emu_request(e, "POST", API, auth, "m.k gauge,1", 11, 300, &r),
                     CURLE_OPERATION_TIMEDOUT);
    emu_response_free(&r);
    ck_assert_int_eq(emu_wait_lines(e, 1, 10000), 0);
    ck_assert_int_eq(post_str(e, API, auth, "m.k gauge,2", &r), 202);
    emu_response_free(&r);
    /* stopping does not wait for the delay */
    stop(e);
}
END_TEST

START_TEST(option_delay_ms)
{
    const char *args[] = {"--token", TOKEN, "--quiet", "--delay-ms", "60000", NULL};
    emu_proc *e = start(args);
    emu_response r;
    ck_assert_int_eq(emu_request(e, "POST", AGENT, no_auth, "m.k gauge,1", 11, 300, &r),
                     CURLE_OPERATION_TIMEDOUT);
    emu_response_free(&r);
    ck_assert_int_eq(emu_wait_lines(e, 1, 10000), 0); /* the control API is not delayed */
    stop(e);
}
END_TEST

static const char *const bad_faults[] = {
    "",
    "status=99",
    "status=600",
    "status=204",
    "status=abc",
    "status=503&count=0",
    "status=503&count=-1",
    "bogus=1",
    "status=503&drop=1",
    "retry_after=5",
    "drop=1&body=html",
    "status=503&body=xml",
    "drop=2",
    "delay_ms=3600001",
};

START_TEST(fault_parameters_are_checked)
{
    emu_proc *e = start(token_args);
    size_t i;
    for (i = 0; i < sizeof bad_faults / sizeof bad_faults[0]; i++)
        ck_assert_msg(emu_fault(e, bad_faults[i]) == 400, "'%s' was taken", bad_faults[i]);
    ck_assert_int_eq(stats(e).faults_pending, 0);
    ck_assert_int_eq(emu_fault(e, "status=503&count=2"), 200);
    ck_assert_int_eq(stats(e).faults_pending, 2);
    stop(e);
}
END_TEST

/* ---- control API ---- */

START_TEST(reset_clears_everything)
{
    emu_proc *e = start(token_args);
    emu_response r;
    emu_counters c;
    ck_assert_int_eq(post_str(e, API, auth, "m.k gauge,1\nbad", &r), 400);
    emu_response_free(&r);
    ck_assert_int_eq(emu_fault(e, "status=503&count=3"), 200);
    ck_assert_int_eq(emu_reset(e), 0);
    c = stats(e);
    ck_assert_int_eq(c.requests, 0);
    ck_assert_int_eq(c.lines_ok, 0);
    ck_assert_int_eq(c.lines_invalid, 0);
    ck_assert_int_eq(c.bytes, 0);
    ck_assert_int_eq(c.status[400], 0);
    ck_assert_int_eq(c.lines_kept, 0);
    ck_assert_int_eq(c.faults_pending, 0);
    assert_lines(e, "");
    ck_assert_int_eq(post_str(e, API, auth, "m.k gauge,2", &r), 202);
    emu_response_free(&r);
    assert_lines(e, "m.k gauge,2\n");
    stop(e);
}
END_TEST

START_TEST(stats_count_everything)
{
    emu_proc *e = start(token_args);
    emu_response r;
    emu_counters c;
    ck_assert_int_eq(post_str(e, API, auth, "m.k gauge,1\nm.k gauge,2", &r), 202);
    emu_response_free(&r);
    ck_assert_int_eq(post_str(e, API, auth, "bad\nm.k gauge,3", &r), 400);
    emu_response_free(&r);
    ck_assert_int_eq(post_str(e, API, no_auth, "m.k gauge,4", &r), 401);
    emu_response_free(&r);
    ck_assert_int_eq(post_str(e, "/x", no_auth, "", &r), 404);
    emu_response_free(&r);
    c = stats(e);
    ck_assert_int_eq(c.requests, 4);
    ck_assert_int_eq(c.lines_ok, 3);
    ck_assert_int_eq(c.lines_invalid, 1);
    ck_assert_int_eq(c.bytes, 23 + 15 + 11);
    ck_assert_int_eq(c.status[202], 1);
    ck_assert_int_eq(c.status[400], 1);
    ck_assert_int_eq(c.status[401], 1);
    ck_assert_int_eq(c.status[404], 1);
    ck_assert_int_eq(c.lines_kept, 3);
    stop(e);
}
END_TEST

START_TEST(keep_lines_is_a_ring)
{
    const char *args[] = {"--token", TOKEN, "--quiet", "--keep-lines", "2", NULL};
    emu_proc *e = start(args);
    emu_response r;
    emu_counters c;
    ck_assert_int_eq(post_str(e, API, auth, "m.k gauge,1\nm.k gauge,2\nm.k gauge,3", &r), 202);
    emu_response_free(&r);
    assert_lines(e, "m.k gauge,2\nm.k gauge,3\n");
    c = stats(e);
    ck_assert_int_eq(c.lines_ok, 3);
    ck_assert_int_eq(c.lines_kept, 2);
    ck_assert_int_eq(c.lines_evicted, 1);
    stop(e);
}
END_TEST

START_TEST(output_file_gets_accepted_lines)
{
    char path[] = "/tmp/dtm-emu-out-XXXXXX", got[256];
    const char *args[] = {"--token", TOKEN, "--output", path, NULL};
    int fd = mkstemp(path);
    ssize_t n;
    emu_proc *e;
    emu_response r;
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "old\n", 4), 4); /* appended to, not replaced */
    e = start(args);
    ck_assert_int_eq(post_str(e, API, auth, "m.k gauge,1\nbad\nm.k gauge,2", &r), 400);
    emu_response_free(&r);
    n = pread(fd, got, sizeof got - 1, 0); /* flushed before the answer */
    ck_assert_int_ge(n, 0);
    got[n] = '\0';
    ck_assert_str_eq(got, "old\nm.k gauge,1\nm.k gauge,2\n");
    stop(e);
    close(fd);
    unlink(path);
}
END_TEST

START_TEST(check_timestamps_option)
{
    const char *strict_args[] = {"--token", TOKEN, "--quiet", "--check-timestamps", NULL};
    char line[64];
    emu_proc *e = start(token_args);
    emu_response r;
    struct timespec ts;
    long long now;
    clock_gettime(CLOCK_REALTIME, &ts);
    now = (long long)ts.tv_sec * 1000;
    ck_assert_int_eq(post_str(e, API, auth, "m.k gauge,1 1000", &r), 202);
    emu_response_free(&r);
    stop(e);
    e = start(strict_args);
    ck_assert_int_eq(post_str(e, API, auth, "m.k gauge,1 1000", &r), 400);
    emu_response_free(&r);
    snprintf(line, sizeof line, "m.k gauge,1 %lld", now);
    ck_assert_int_eq(post_str(e, API, auth, line, &r), 202);
    emu_response_free(&r);
    stop(e);
}
END_TEST

START_TEST(sink_option)
{
    const char *sink_args[] = {"--token", TOKEN, "--quiet", "--sink", NULL};
    emu_proc *e = start(token_args);
    emu_response r;
    /* a line the validator refuses ... */
    ck_assert_int_eq(post_str(e, API, auth, "m.k gauge,abc", &r), 400);
    emu_response_free(&r);
    stop(e);
    /* ... passes unchecked through a sink, which still counts lines and
       checks the token */
    e = start(sink_args);
    ck_assert_int_eq(post_str(e, API, auth, "m.k gauge,abc\nx y z", &r), 202);
    ck_assert_ptr_nonnull(strstr(r.body, "\"linesOk\":2"));
    emu_response_free(&r);
    ck_assert_int_eq(post_str(e, API, NULL, "m.k gauge,1", &r), 401);
    emu_response_free(&r);
    stop(e);
}
END_TEST

/* ---- program ---- */

START_TEST(help_and_version)
{
    char out[8192];
    const char *version[] = {"--version", NULL};
    const char *help[] = {"--help", NULL};
    const char *bad[] = {"--no-such-option", NULL};
    const char *bad_num[] = {"--port", "65536", NULL};
    const char *remote[] = {"--listen", "10.1.2.3", NULL};
    ck_assert_int_eq(run_program(version, NULL, out, sizeof out), 0);
    ck_assert_str_eq(out, "dtmetrics-emulator " DTM_VERSION_STRING "\n");
    ck_assert_str_eq(dtm_version(), DTM_VERSION_STRING);
    ck_assert_int_eq(run_program(help, NULL, out, sizeof out), 0);
    ck_assert_ptr_nonnull(strstr(out, "--max-body"));
    ck_assert_ptr_nonnull(strstr(out, "/_emulator/fault"));
    ck_assert_int_eq(run_program(bad, NULL, out, sizeof out), 2);
    ck_assert_int_eq(run_program(bad_num, NULL, out, sizeof out), 2);
    ck_assert_int_eq(run_program(remote, NULL, out, sizeof out), 2);
    ck_assert_int_eq(run_program(NULL, "DTM_EMULATOR_MAX_BODY=lots", out, sizeof out), 2);
}
END_TEST

START_TEST(listen_on_ipv6_loopback)
{
    const char *args[] = {"--listen", "::1", "--quiet", NULL};
    struct sockaddr_in6 sa;
    int fd = socket(AF_INET6, SOCK_STREAM, 0), usable;
    emu_proc *e;
    emu_response r;
    memset(&sa, 0, sizeof sa);
    sa.sin6_family = AF_INET6;
    sa.sin6_addr = in6addr_loopback;
    usable = fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    if (fd >= 0)
        close(fd);
    if (!usable) {
        fprintf(stderr, "test_emulator: no IPv6 loopback here, skipping ::1\n");
        return;
    }
    e = start(args);
    ck_assert_ptr_nonnull(strstr(emu_url(e), "http://[::1]:"));
    ck_assert_int_eq(post_str(e, AGENT, no_auth, "m.k gauge,1", &r), 202);
    emu_response_free(&r);
    stop(e);
}
END_TEST

typedef struct worker {
    emu_proc *e;
    int failures;
} worker;

static void *post_many(void *arg)
{
    worker *w = arg;
    int i;
    for (i = 0; i < 20; i++) {
        emu_response r;
        if (emu_request(w->e, "POST", API, auth, "m.k gauge,1\nm.k gauge,2\nm.k gauge,3", 35, 0,
                        &r) != CURLE_OK || r.status != 202)
            w->failures++;
        emu_response_free(&r);
    }
    return NULL;
}

START_TEST(concurrent_requests)
{
    emu_proc *e = start(token_args);
    pthread_t t[4];
    worker w[4];
    emu_counters c;
    int i;
    for (i = 0; i < 4; i++) {
        w[i].e = e;
        w[i].failures = 0;
        ck_assert_int_eq(pthread_create(&t[i], NULL, post_many, &w[i]), 0);
    }
    for (i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        ck_assert_int_eq(w[i].failures, 0);
    }
    c = stats(e);
    ck_assert_int_eq(c.requests, 80);
    ck_assert_int_eq(c.lines_ok, 240);
    ck_assert_int_eq(c.status[202], 80);
    stop(e);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("emulator");
    TCase *tc;

    tc = tu_tcase("ingest", 60);
    tcase_add_test(tc, all_valid_gives_202);
    tcase_add_test(tc, partial_gives_400_and_keeps_valid_lines);
    tcase_add_test(tc, few_invalid_are_all_itemised);
    tcase_add_test(tc, blank_lines_keep_numbering);
    tcase_add_test(tc, crlf_lines_are_invalid);
    tcase_add_test(tc, reserved_keys_are_invalid);
    tcase_add_test(tc, empty_body_gives_400_empty_request);
    suite_add_tcase(s, tc);

    tc = tu_tcase("token", 60);
    tcase_add_test(tc, token_is_checked);
    tcase_add_test(tc, token_from_file);
    tcase_add_test(tc, no_configured_token_accepts_any);
    suite_add_tcase(s, tc);

    tc = tu_tcase("oneagent", 60);
    tcase_add_test(tc, oneagent_needs_no_token);
    tcase_add_test(tc, oneagent_line_limit);
    suite_add_tcase(s, tc);

    tc = tu_tcase("routes", 60);
    tcase_add_test(tc, routes_and_methods);
    suite_add_tcase(s, tc);

    tc = tu_tcase("limits", 60);
    tcase_add_test(tc, body_limit_small);
    tcase_add_test(tc, body_limit_default);
    tcase_add_test(tc, body_limit_chunked);
    tcase_add_test(tc, gzip_body_is_decoded);
    tcase_add_test(tc, gzip_limit_applies_to_decoded_size);
    tcase_add_test(tc, gzip_broken_or_truncated);
    tcase_add_test(tc, unknown_encoding_gives_415);
    suite_add_tcase(s, tc);

    tc = tu_tcase("faults", 60);
    tcase_add_test(tc, fault_status_with_retry_after);
    tcase_add_test(tc, faults_queue_in_order);
    tcase_add_test(tc, fault_drop_closes_without_answer);
    tcase_add_test(tc, fault_delay);
    tcase_add_test(tc, option_delay_ms);
    tcase_add_test(tc, fault_parameters_are_checked);
    suite_add_tcase(s, tc);

    tc = tu_tcase("control", 60);
    tcase_add_test(tc, reset_clears_everything);
    tcase_add_test(tc, stats_count_everything);
    tcase_add_test(tc, keep_lines_is_a_ring);
    tcase_add_test(tc, output_file_gets_accepted_lines);
    tcase_add_test(tc, check_timestamps_option);
    tcase_add_test(tc, sink_option);
    suite_add_tcase(s, tc);

    tc = tu_tcase("program", 60);
    tcase_add_test(tc, help_and_version);
    tcase_add_test(tc, listen_on_ipv6_loopback);
    tcase_add_test(tc, concurrent_requests);
    suite_add_tcase(s, tc);

    return tu_run_suite(s);
}
