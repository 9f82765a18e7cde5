/*
 * dtmetrics-send against dtmetrics-emulator: success, partial rejection,
 * invalid input lines, dry run, delivery failures, usage errors, and the
 * exit status of each.
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "emulator_harness.h"
#include "testutil.h"

#define TOKEN "dt0c01.SENDTESTPUBLICPART000000.SENDTESTSECRETSENDTESTSECRETSENDTESTSECRETSENDTESTSECRET0000"

static emu_proc *emu;
static char url[256];
static char dir[64];
static char token_file[128];

typedef struct outcome {
    int code;
    char *out, *err;
} outcome;

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *b;
    long n;
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    b = calloc(1, (size_t)n + 1);
    ck_assert_int_eq(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    return b;
}

static const char *program(void)
{
    static char path[512];
    const char *top = getenv("top_builddir");
    snprintf(path, sizeof path, "%s/tools/dtmetrics-send", top ? top : ".");
    return path;
}

static const char *write_file(const char *name, const char *text)
{
    static char path[8][160];
    static int k;
    char *p = path[k++ % 8];
    FILE *f;
    snprintf(p, 160, "%s/%s", dir, name);
    f = fopen(p, "wb");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    return p;
}

/* Run dtmetrics-send with args (NULL-terminated) and stdin from input. */
static outcome run_send(const char *input, const char *const *args)
{
    outcome o;
    char out_path[160], err_path[160];
    const char *in_path = write_file("stdin.txt", input ? input : "");
    const char *argv[32];
    int n = 0, status;
    pid_t pid;
    snprintf(out_path, sizeof out_path, "%s/out.txt", dir);
    snprintf(err_path, sizeof err_path, "%s/err.txt", dir);
    argv[n++] = program();
    while (args && *args && n < 31)
        argv[n++] = *args++;
    argv[n] = NULL;
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int in = open(in_path, O_RDONLY);
        int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int err = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(in, 0);
        dup2(out, 1);
        dup2(err, 2);
        unsetenv("DT_METRICS_INGEST_URL");
        unsetenv("DT_METRICS_INGEST_API_TOKEN");
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status));
    o.code = WEXITSTATUS(status);
    o.out = slurp(out_path);
    o.err = slurp(err_path);
    return o;
}

static void outcome_free(outcome *o)
{
    free(o->out);
    free(o->err);
}

static void setup(void)
{
    static const char *const args[] = {"--token", TOKEN, "--quiet", "--check-timestamps", NULL};
    strcpy(dir, "/tmp/dtm_sendXXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(token_file, sizeof token_file, "%s", write_file("token", TOKEN "\n"));
    emu = emu_start(args);
    ck_assert_ptr_nonnull(emu);
    snprintf(url, sizeof url, "%s/api/v2/metrics/ingest", emu_url(emu));
}

static void teardown(void)
{
    char cmd[128];
    if (emu)
        ck_assert_int_eq(emu_stop(emu), 0);
    emu = NULL;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static long lines_ok(void)
{
    emu_counters k;
    ck_assert_int_eq(emu_stats(emu, &k), 0);
    return k.lines_ok;
}

static char *numbered_lines(int n)
{
    char *b = malloc((size_t)n * 48 + 1);
    int i, w = 0;
    for (i = 0; i < n; i++)
        w += sprintf(b + w, "send.test,i=%d gauge,%d\n", i, i);
    return b;
}

START_TEST(all_accepted)
{
    char *text = numbered_lines(2345);
    const char *file = write_file("in.txt", text);
    const char *args[] = {"--url", url, "--token-file", token_file, file, NULL};
    outcome o = run_send(NULL, args);
    ck_assert_msg(o.code == 0, "exit %d: %s", o.code, o.err);
    ck_assert(strstr(o.err, "2345 accepted, 0 rejected, 0 invalid, 0 not delivered"));
    ck_assert_int_eq(lines_ok(), 2345);
    ck_assert_ptr_null(strstr(o.err, "SENDTESTSECRET"));
    outcome_free(&o);
    free(text);
}
END_TEST

START_TEST(stdin_crlf_blank_and_quiet)
{
    const char *args[] = {"--url", url, "--token-file", token_file, "--quiet", "-", NULL};
    outcome o = run_send("a.b gauge,1\r\n\r\n   \nc.d count,delta=2\ne.f gauge,3", args);
    ck_assert_int_eq(o.code, 0);
    ck_assert_str_eq(o.err, "");
    ck_assert_int_eq(lines_ok(), 3);
    outcome_free(&o);
}
END_TEST

START_TEST(partial_rejection)
{
    /* Valid syntax, but a timestamp from 2021: the emulator (like the
       service) rejects it. */
    const char *file = write_file("in.txt", "ok.one gauge,1\nold.one gauge,2 1620392690261\n"
                                            "ok.two gauge,3\n");
    const char *args[] = {"--url", url, "--token-file", token_file, file, NULL};
    outcome o = run_send(NULL, args);
    char *reason, *summary;
    ck_assert_msg(o.code == 1, "exit %d: %s", o.code, o.err);
    reason = strstr(o.err, "rejected by the server:");
    summary = strstr(o.err, "2 accepted, 1 rejected, 0 invalid, 0 not delivered");
    ck_assert_ptr_nonnull(reason);
    ck_assert_ptr_nonnull(summary);
    ck_assert(reason < summary); /* reasons before the summary */
    ck_assert(strstr(o.err, "old.one gauge,2 1620392690261"));
    ck_assert_int_eq(lines_ok(), 2);
    outcome_free(&o);
}
END_TEST

START_TEST(invalid_input_lines)
{
    const char *file = write_file("in.txt", "good.one gauge,1\nbad key gauge,1\n"
                                            "good.two gauge,2\nbad.value gauge,abc\n");
    const char *args[] = {"--url", url, "--token-file", token_file, file, NULL};
    outcome o = run_send(NULL, args);
    char where[200];
    ck_assert_msg(o.code == 1, "exit %d: %s", o.code, o.err);
    snprintf(where, sizeof where, "%s:2: ", file);
    ck_assert_msg(strstr(o.err, where), "%s", o.err);
    snprintf(where, sizeof where, "%s:4: ", file);
    ck_assert(strstr(o.err, where));
    ck_assert(strstr(o.err, "2 accepted, 0 rejected, 2 invalid, 0 not delivered"));
    ck_assert_int_eq(lines_ok(), 2);
    outcome_free(&o);
}
END_TEST

START_TEST(dry_run)
{
    const char *args[] = {"--url", url, "--token-file", token_file, "--dry-run", NULL};
    outcome o = run_send("x.y gauge,1\nnot valid\nz.w count,delta=5\n", args);
    emu_counters k;
    ck_assert_int_eq(o.code, 1);
    ck_assert_str_eq(o.out, "x.y gauge,1\nz.w count,delta=5\n");
    ck_assert(strstr(o.err, "stdin:2: "));
    ck_assert(strstr(o.err, "dry run: 2 valid, 1 invalid"));
    ck_assert_int_eq(emu_stats(emu, &k), 0);
    ck_assert_int_eq(k.requests, 0);
    outcome_free(&o);
    {
        const char *args2[] = {"--url", url, "--token-file", token_file, "--dry-run", NULL};
        o = run_send("x.y gauge,1\n", args2);
        ck_assert_int_eq(o.code, 0);
        outcome_free(&o);
    }
}
END_TEST

START_TEST(not_delivered_wrong_token)
{
    const char *bad = write_file("badtoken", "dt0c01.WRONG\n");
    const char *args[] = {"--url", url, "--token-file", bad, NULL};
    outcome o = run_send("a.b gauge,1\nc.d gauge,2\n", args);
    ck_assert_msg(o.code == 3, "exit %d: %s", o.code, o.err);
    ck_assert(strstr(o.err, "0 accepted, 0 rejected, 0 invalid, 2 not delivered"));
    ck_assert(strstr(o.err, "401"));
    outcome_free(&o);
}
END_TEST

START_TEST(not_delivered_refused)
{
    const char *args[] = {"--url", url, "--token-file", token_file, "--timeout", "0.5", NULL};
    outcome o;
    ck_assert_int_eq(emu_stop(emu), 0); /* nobody listens any more */
    emu = NULL;
    o = run_send("a.b gauge,1\n", args);
    ck_assert_msg(o.code == 3, "exit %d: %s", o.code, o.err);
    ck_assert(strstr(o.err, "0 accepted, 0 rejected, 0 invalid, 1 not delivered"));
    outcome_free(&o);
}
END_TEST

START_TEST(usage_errors)
{
    static const char *const cases[][4] = {
        {"--no-such-option", NULL, NULL, NULL},
        {"--batch-lines", "0", NULL, NULL},
        {"--batch-lines", "1001", NULL, NULL},
        {"--timeout", "soon", NULL, NULL},
        {"--url", "https://x.live.dynatrace.com/api/v2/metrics", "--token-file", NULL},
        {"--token-file", "/nonexistent/token", NULL, NULL},
        {"/nonexistent/input.txt", NULL, NULL, NULL},
    };
    size_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *args[6] = {NULL};
        outcome o;
        int n = 0, j;
        for (j = 0; j < 4 && cases[i][j]; j++)
            args[n++] = cases[i][j];
        if (i == 4)
            args[n++] = token_file;
        if (i == 6) { /* the default endpoint needs no token */
            args[n++] = "--url";
            args[n++] = url;
        }
        o = run_send("", args);
        ck_assert_msg(o.code == 2, "case %zu: exit %d: %s", i, o.code, o.err);
        ck_assert(strlen(o.err) > 0);
        if (i == 4)
            ck_assert(strstr(o.err, "/api/v2/metrics/ingest"));
        outcome_free(&o);
    }
}
END_TEST

START_TEST(help_and_version)
{
    const char *h[] = {"--help", NULL};
    const char *v[] = {"--version", NULL};
    outcome o = run_send(NULL, h);
    ck_assert_int_eq(o.code, 0);
    ck_assert(strstr(o.out, "Exit status"));
    ck_assert(strstr(o.out, "--token-file"));
    ck_assert(strstr(o.out, "--dry-run"));
    outcome_free(&o);
    o = run_send(NULL, v);
    ck_assert_int_eq(o.code, 0);
    ck_assert(strstr(o.out, DTM_VERSION_STRING));
    outcome_free(&o);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("send");
    TCase *tc = tu_tcase("tool", 30);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, all_accepted);
    tcase_add_test(tc, stdin_crlf_blank_and_quiet);
    tcase_add_test(tc, partial_rejection);
    tcase_add_test(tc, invalid_input_lines);
    tcase_add_test(tc, dry_run);
    tcase_add_test(tc, not_delivered_wrong_token);
    tcase_add_test(tc, not_delivered_refused);
    tcase_add_test(tc, usage_errors);
    tcase_add_test(tc, help_and_version);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
