/* Test harness: run dtmetrics-emulator as a child process and drive it. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <curl/curl.h>
#include <jansson.h>

#include "emulator_harness.h"

#define START_TIMEOUT_MS 30000
#define STOP_TIMEOUT_MS 30000
#define REQUEST_TIMEOUT_MS 10000
#define MAX_RESPONSE ((size_t)256 << 20)
#define MAX_WORDS 32

extern char **environ;

struct emu_proc {
    pid_t pid;
    int outfd;         /* the child's stdout (an unlinked file) */
    unsigned port;
    int curl_ready;    /* curl_global_init was called */
    char url[128];
};

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void nap(long ms)
{
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

const char *emu_program(void)
{
    static char path[PATH_MAX];
    const char *top = getenv("top_builddir");
    snprintf(path, sizeof path, "%s/tools/dtmetrics-emulator", top && *top ? top : ".");
    return path;
}

/* An executable for word: itself when it has a '/', else found on PATH. */
static char *resolve(const char *word)
{
    const char *path = getenv("PATH"), *p;
    if (strchr(word, '/'))
        return strdup(word);
    for (p = path ? path : "/usr/bin:/bin"; *p;) {
        const char *end = strchr(p, ':');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        char *cand = malloc(n + strlen(word) + 2);
        if (!cand)
            return NULL;
        snprintf(cand, n + strlen(word) + 2, "%.*s/%s", (int)n, n ? p : ".", word);
        if (access(cand, X_OK) == 0)
            return cand;
        free(cand);
        p += n + (end ? 1 : 0);
    }
    return NULL;
}

/* The environment without DTM_EMULATOR_* (malloc'd array, shared strings). */
static char **child_environment(void)
{
    size_t n = 0, k = 0, i;
    char **env;
    while (environ[n])
        n++;
    env = calloc(n + 1, sizeof *env);
    if (!env)
        return NULL;
    for (i = 0; i < n; i++)
        if (strncmp(environ[i], "DTM_EMULATOR_", 13) != 0)
            env[k++] = environ[i];
    return env;
}

/* The first line the child wrote, once complete: 1 = got it, 0 = not yet. */
static int first_line(int fd, char *buf, size_t cap)
{
    ssize_t n = pread(fd, buf, cap - 1, 0);
    char *nl;
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    nl = strchr(buf, '\n');
    if (!nl)
        return 0;
    *nl = '\0';
    return 1;
}

static int wait_ready(emu_proc *e)
{
    long deadline = now_ms() + START_TIMEOUT_MS;
    char line[256];
    const char *prefix = "listening on ", *colon;
    int status;
    for (;;) {
        if (first_line(e->outfd, line, sizeof line))
            break;
        if (waitpid(e->pid, &status, WNOHANG) == e->pid) {
            fprintf(stderr, "emulator_harness: %s exited before listening (status 0x%x)\n",
                    emu_program(), (unsigned)status);
            e->pid = -1;
            return -1;
        }
        if (now_ms() > deadline) {
            fprintf(stderr, "emulator_harness: no 'listening on' line within %d ms\n",
                    START_TIMEOUT_MS);
            return -1;
        }
        nap(10);
    }
    colon = strrchr(line, ':');
    if (strncmp(line, prefix, strlen(prefix)) != 0 || !colon ||
        strlen(line + strlen(prefix)) >= sizeof e->url) {
        fprintf(stderr, "emulator_harness: unexpected first line '%s'\n", line);
        return -1;
    }
    strcpy(e->url, line + strlen(prefix));
    e->port = (unsigned)strtoul(colon + 1, NULL, 10);
    if (e->port == 0 || e->port > 65535) {
        fprintf(stderr, "emulator_harness: no port in '%s'\n", line);
        return -1;
    }
    /* it printed the line after it started listening; make sure it answers */
    while (now_ms() <= deadline) {
        emu_counters c;
        if (emu_stats(e, &c) == 0)
            return 0;
        nap(20);
    }
    fprintf(stderr, "emulator_harness: %s does not answer\n", e->url);
    return -1;
}

emu_proc *emu_start(const char *const *args)
{
    const char *wrapper = getenv("DTM_TEST_EMULATOR_WRAPPER");
    char tmpl[PATH_MAX], *words = NULL, *argv[MAX_WORDS + 64], *exe = NULL, **env = NULL;
    const char *tmpdir = getenv("TMPDIR");
    size_t argc = 0, i;
    emu_proc *e;
    pid_t parent = getpid();

    e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->pid = -1;
    snprintf(tmpl, sizeof tmpl, "%s/dtm-emulator-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
    e->outfd = mkstemp(tmpl);
    if (e->outfd < 0) {
        fprintf(stderr, "emulator_harness: mkstemp %s: %s\n", tmpl, strerror(errno));
        free(e);
        return NULL;
    }
    unlink(tmpl);

    if (wrapper && *wrapper) {
        char *w, *save = NULL;
        words = strdup(wrapper);
        for (w = words ? strtok_r(words, " \t", &save) : NULL; w && argc < MAX_WORDS;
             w = strtok_r(NULL, " \t", &save))
            argv[argc++] = w;
    }
    argv[argc++] = (char *)emu_program();
    argv[argc++] = (char *)"--port";
    argv[argc++] = (char *)"0";
    for (i = 0; args && args[i]; i++) {
        if (argc + 1 >= sizeof argv / sizeof argv[0]) {
            fprintf(stderr, "emulator_harness: too many arguments\n");
            goto fail;
        }
        argv[argc++] = (char *)args[i];
    }
    argv[argc] = NULL;
    exe = resolve(argv[0]);
    env = child_environment();
    if (!exe || !env) {
        fprintf(stderr, "emulator_harness: cannot run %s\n", argv[0]);
        goto fail;
    }

    fflush(NULL);
    e->pid = fork();
    if (e->pid < 0) {
        fprintf(stderr, "emulator_harness: fork: %s\n", strerror(errno));
        goto fail;
    }
    if (e->pid == 0) {
        /* only async-signal-safe calls from here on */
        if (dup2(e->outfd, STDOUT_FILENO) < 0)
            _exit(127);
        close(e->outfd);
#ifdef __linux__
        prctl(PR_SET_PDEATHSIG, SIGTERM);
#endif
        if (getppid() != parent)
            _exit(127);
        execve(exe, argv, env);
        _exit(127);
    }
    free(exe);
    free(env);
    free(words);
    exe = NULL;
    env = NULL;
    words = NULL;
    e->curl_ready = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
    if (wait_ready(e) != 0) {
        emu_stop(e);
        return NULL;
    }
    return e;

fail:
    free(exe);
    free(env);
    free(words);
    close(e->outfd);
    free(e);
    return NULL;
}

const char *emu_url(const emu_proc *e)
{
    return e ? e->url : "";
}

unsigned emu_port(const emu_proc *e)
{
    return e ? e->port : 0;
}

int emu_stop(emu_proc *e)
{
    long deadline = now_ms() + STOP_TIMEOUT_MS;
    int status = 0, rc = -1;
    if (!e)
        return -1;
    if (e->pid > 0) {
        kill(e->pid, SIGTERM);
        for (;;) {
            pid_t w = waitpid(e->pid, &status, WNOHANG);
            if (w == e->pid)
                break;
            if (w < 0 && errno != EINTR) {
                fprintf(stderr, "emulator_harness: waitpid: %s\n", strerror(errno));
                status = -1;
                break;
            }
            if (now_ms() > deadline) {
                fprintf(stderr, "emulator_harness: no exit within %d ms of SIGTERM; killing\n",
                        STOP_TIMEOUT_MS);
                kill(e->pid, SIGKILL);
                waitpid(e->pid, &status, 0);
                status = -1;
                break;
            }
            nap(10);
        }
        if (status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0)
            rc = 0;
        else if (status != -1 && WIFEXITED(status))
            fprintf(stderr, "emulator_harness: emulator exited with status %d\n",
                    WEXITSTATUS(status));
        else if (status != -1 && WIFSIGNALED(status))
            fprintf(stderr, "emulator_harness: emulator died of signal %d\n", WTERMSIG(status));
    }
    if (e->curl_ready)
        curl_global_cleanup();
    close(e->outfd);
    free(e);
    return rc;
}

/* ---- requests ---- */

typedef struct sink {
    char *p;
    size_t len, cap;
    int overflow;
} sink;

static size_t on_body(char *data, size_t size, size_t n, void *userdata)
{
    sink *s = userdata;
    size_t add = size * n;
    if (s->len + add + 1 > MAX_RESPONSE) {
        s->overflow = 1;
        return 0;
    }
    if (s->len + add + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        char *p;
        while (cap < s->len + add + 1)
            cap *= 2;
        p = realloc(s->p, cap);
        if (!p)
            return 0;
        s->p = p;
        s->cap = cap;
    }
    memcpy(s->p + s->len, data, add);
    s->len += add;
    s->p[s->len] = '\0';
    return add;
}

static void keep_header(char **slot, const char *name, const char *line, size_t n)
{
    size_t k = strlen(name), end = n;
    const char *v;
    if (n <= k || strncasecmp(line, name, k) != 0 || line[k] != ':')
        return;
    v = line + k + 1;
    while (v < line + end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > (size_t)(v - line) && (line[end - 1] == '\r' || line[end - 1] == '\n' ||
                                        line[end - 1] == ' '))
        end--;
    free(*slot);
    *slot = strndup(v, end - (size_t)(v - line));
}

static size_t on_header(char *data, size_t size, size_t n, void *userdata)
{
    emu_response *r = userdata;
    size_t len = size * n;
    if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
        /* a new response (after "100 Continue"): forget earlier headers */
        free(r->content_type);
        free(r->retry_after);
        free(r->allow);
        r->content_type = r->retry_after = r->allow = NULL;
    }
    keep_header(&r->content_type, "Content-Type", data, len);
    keep_header(&r->retry_after, "Retry-After", data, len);
    keep_header(&r->allow, "Allow", data, len);
    return len;
}

int emu_request(emu_proc *e, const char *method, const char *path, const char *const *headers,
                const void *body, size_t len, long timeout_ms, emu_response *out)
{
    CURL *c;
    struct curl_slist *list = NULL;
    char url[512];
    sink s = {0};
    size_t i;

    memset(out, 0, sizeof *out);
    out->curl_code = CURLE_FAILED_INIT;
    if (!e || !method || !path)
        goto done;
    snprintf(url, sizeof url, "%s%s", e->url, path);
    c = curl_easy_init();
    if (!c)
        goto done;
    for (i = 0; headers && headers[i]; i++) {
        struct curl_slist *l = curl_slist_append(list, headers[i]);
        if (!l) {
            curl_slist_free_all(list);
            curl_easy_cleanup(c);
            goto done;
        }
        list = l;
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms > 0 ? timeout_ms : REQUEST_TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)REQUEST_TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, out);
    if (list)
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
    if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else if (strcmp(method, "POST") == 0 || body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0 && strcmp(method, "HEAD") != 0)
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    out->curl_code = (int)curl_easy_perform(c);
    if (out->curl_code == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    curl_easy_cleanup(c);
    curl_slist_free_all(list);
done:
    if (!s.p)
        s.p = calloc(1, 1);
    out->body = s.p;
    out->body_len = s.len;
    return out->curl_code;
}

void emu_response_free(emu_response *r)
{
    if (!r)
        return;
    free(r->body);
    free(r->content_type);
    free(r->retry_after);
    free(r->allow);
    memset(r, 0, sizeof *r);
}

/* ---- control API ---- */

int emu_fault(emu_proc *e, const char *query)
{
    char path[1024];
    emu_response r;
    int status = -1;
    snprintf(path, sizeof path, "/_emulator/fault?%s", query ? query : "");
    if (emu_request(e, "POST", path, NULL, NULL, 0, 0, &r) == CURLE_OK)
        status = (int)r.status;
    else
        fprintf(stderr, "emulator_harness: fault request failed: %s\n",
                curl_easy_strerror((CURLcode)r.curl_code));
    emu_response_free(&r);
    return status;
}

int emu_reset(emu_proc *e)
{
    emu_response r;
    int rc = emu_request(e, "POST", "/_emulator/reset", NULL, NULL, 0, 0, &r) == CURLE_OK &&
                     r.status == 200
                 ? 0
                 : -1;
    emu_response_free(&r);
    return rc;
}

char *emu_lines(emu_proc *e, size_t *len)
{
    emu_response r;
    char *lines = NULL;
    if (emu_request(e, "GET", "/_emulator/lines", NULL, NULL, 0, 0, &r) == CURLE_OK &&
        r.status == 200) {
        lines = r.body;
        if (len)
            *len = r.body_len;
        r.body = NULL;
    }
    emu_response_free(&r);
    return lines;
}

static long field(json_t *obj, const char *name)
{
    json_t *v = json_object_get(obj, name);
    return json_is_integer(v) ? (long)json_integer_value(v) : -1;
}

int emu_stats(emu_proc *e, emu_counters *out)
{
    emu_response r;
    json_t *root = NULL, *status, *v;
    const char *key;
    int rc = -1;
    memset(out, 0, sizeof *out);
    if (emu_request(e, "GET", "/_emulator/stats", NULL, NULL, 0, 0, &r) != CURLE_OK ||
        r.status != 200)
        goto done;
    root = json_loadb(r.body, r.body_len, 0, NULL);
    if (!json_is_object(root))
        goto done;
    out->requests = field(root, "requests");
    out->lines_ok = field(root, "lines_ok");
    out->lines_invalid = field(root, "lines_invalid");
    out->bytes = field(root, "bytes");
    out->bytes_decoded = field(root, "bytes_decoded");
    out->dropped = field(root, "dropped");
    out->lines_kept = field(root, "lines_kept");
    out->lines_evicted = field(root, "lines_evicted");
    out->faults_pending = field(root, "faults_pending");
    status = json_object_get(root, "status");
    json_object_foreach(status, key, v)
    {
        long code = strtol(key, NULL, 10);
        if (code > 0 && code < EMU_STATUS_CODES && json_is_integer(v))
            out->status[code] = (long)json_integer_value(v);
    }
    rc = 0;
done:
    json_decref(root);
    emu_response_free(&r);
    return rc;
}

static int wait_for(emu_proc *e, long n, long timeout_ms, int lines)
{
    long deadline = now_ms() + timeout_ms;
    for (;;) {
        emu_counters c;
        if (emu_stats(e, &c) == 0 && (lines ? c.lines_ok : c.requests) >= n)
            return 0;
        if (now_ms() > deadline)
            return -1;
        nap(20);
    }
}

int emu_wait_lines(emu_proc *e, long n, long timeout_ms)
{
    return wait_for(e, n, timeout_ms, 1);
}

int emu_wait_requests(emu_proc *e, long n, long timeout_ms)
{
    return wait_for(e, n, timeout_ms, 0);
}
