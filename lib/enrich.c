/*
 * OneAgent / Kubernetes metadata files (spec 7.1, 7.2).
 *
 * OneAgent serves the indirection file as a virtual file inside the processes
 * it monitors: stat() and access() fail for it and only opening and reading
 * through the C library works.  So every file here is simply opened and read,
 * never checked first; a missing file shows up as ENOENT from open().
 */
#define _POSIX_C_SOURCE 200809L
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "enrich.h"

#ifndef O_CLOEXEC
#define O_CLOEXEC 0
#endif

enum read_result { RD_OK, RD_OPEN, RD_READ, RD_TOO_BIG, RD_NOMEM };

#define OA_HINT "normal if OneAgent is not installed"

/* A thread-safe short text for the errno values that matter here
   (strerror is not thread-safe, strerror_r has two incompatible forms). */
static const char *errno_text(int e)
{
    switch (e) {
    case ENOENT: return "no such file or directory";
    case EACCES: return "permission denied";
    case EISDIR: return "is a directory";
    case ENOTDIR: return "a path component is not a directory";
    case ENAMETOOLONG: return "file name too long";
    case ELOOP: return "too many symbolic links";
    case EMFILE: return "too many open files in the process";
    case ENFILE: return "too many open files in the system";
    case EIO: return "input/output error";
    case EAGAIN: return "resource temporarily unavailable";
    default: return "system error";
    }
}

/* nonblock: the files in the enrichment directory are ordinary files, so
   O_NONBLOCK costs nothing there and keeps a FIFO in their place from
   blocking the caller.  The virtual file is opened exactly like the peers
   open it (plain read-only) so that OneAgent's interception sees nothing
   unusual. */
static int open_ro(const char *path, int nonblock)
{
    int fd, flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | (nonblock ? O_NONBLOCK : 0);
    do
        fd = open(path, flags);
    while (fd < 0 && errno == EINTR);
    return fd;
}

static ssize_t read_some(int fd, char *buf, size_t n)
{
    ssize_t got;
    do
        got = read(fd, buf, n);
    while (got < 0 && errno == EINTR);
    return got;
}

/* The first line of path (without its LF, CR or CRLF) into line[0, *len);
   line has room for DTM__ENRICH_MAX_PATH + 1 bytes.  RD_TOO_BIG when the
   first line is longer than DTM__ENRICH_MAX_PATH. */
static int read_first_line(const char *path, char *line, size_t *len, int *err)
{
    const size_t room = DTM__ENRICH_MAX_PATH + 1;
    size_t total = 0, i;
    ssize_t got;
    int fd = open_ro(path, 0);
    if (fd < 0) {
        *err = errno;
        return RD_OPEN;
    }
    for (;;) {
        got = read_some(fd, line + total, room - total);
        if (got < 0) {
            *err = errno;
            close(fd);
            return RD_READ;
        }
        if (got == 0)
            break;
        for (i = total; i < total + (size_t)got; i++) {
            if (line[i] == '\n' || line[i] == '\r') {
                close(fd);
                *len = i;
                return RD_OK;
            }
        }
        total += (size_t)got;
        if (total == room) {
            close(fd);
            return RD_TOO_BIG;
        }
    }
    close(fd);
    *len = total;
    return RD_OK;
}

/* The whole of path into a new buffer (*out, *len; dtm__free it); files of
   more than DTM__ENRICH_MAX_FILE bytes give RD_TOO_BIG. */
static int read_file(const char *path, char **out, size_t *len, int *err)
{
    char *buf = NULL, *nb;
    size_t n = 0, cap = 0, ncap;
    ssize_t got;
    int fd = open_ro(path, 1);
    if (fd < 0) {
        *err = errno;
        return RD_OPEN;
    }
    for (;;) {
        if (n > DTM__ENRICH_MAX_FILE) {
            close(fd);
            dtm__free(buf);
            return RD_TOO_BIG;
        }
        if (n == cap) {
            ncap = cap ? cap * 2 : 4096;
            if (ncap > DTM__ENRICH_MAX_FILE + 1)
                ncap = DTM__ENRICH_MAX_FILE + 1;
            nb = dtm__realloc(buf, ncap);
            if (!nb) {
                close(fd);
                dtm__free(buf);
                return RD_NOMEM;
            }
            buf = nb;
            cap = ncap;
        }
        got = read_some(fd, buf + n, cap - n);
        if (got < 0) {
            *err = errno;
            close(fd);
            dtm__free(buf);
            return RD_READ;
        }
        if (got == 0)
            break;
        n += (size_t)got;
    }
    close(fd);
    *out = buf;
    *len = n;
    return RD_OK;
}

/* Read and parse one properties file into out.  missing_level: how to log a
   file that does not exist (ENOENT). */
static dtm_status load_file(const char *path, dtm_log_level missing_level, const char *what,
                            dtm__kvlist *out, const dtm__log *log)
{
    char *buf = NULL;
    size_t len = 0;
    int err = 0;
    dtm_status st;
    switch (read_file(path, &buf, &len, &err)) {
    case RD_NOMEM:
        return DTM_ENOMEM;
    case RD_OPEN:
        /* Only a file that does not exist may be normal; anything else
           (permission, a directory in the way) is a warning. */
        dtm__logf(log, err == ENOENT ? missing_level : DTM_LOG_WARN,
                  "OneAgent metadata: cannot open %s %s: %s (errno %d)%s", what, path,
                  errno_text(err), err,
                  err == ENOENT && missing_level == DTM_LOG_INFO ? "; " OA_HINT : "");
        return DTM_OK;
    case RD_READ:
        dtm__logf(log, DTM_LOG_WARN, "OneAgent metadata: cannot read %s %s: %s (errno %d)", what,
                  path, errno_text(err), err);
        return DTM_OK;
    case RD_TOO_BIG:
        dtm__logf(log, DTM_LOG_WARN,
                  "OneAgent metadata: %s %s is larger than %u bytes; ignored", what, path,
                  DTM__ENRICH_MAX_FILE);
        return DTM_OK;
    default:
        break;
    }
    dtm__logf(log, DTM_LOG_DEBUG, "OneAgent metadata: reading %s %s (%zu bytes)", what, path, len);
    st = dtm__properties_parse_source(buf, len, path, out, log);
    dtm__free(buf);
    return st;
}

/* <dir>/<name> in a new string, or NULL when out of memory. */
static char *join_path(const char *dir, const char *name)
{
    size_t dl = strlen(dir), nl = strlen(name);
    int slash = dl > 0 && dir[dl - 1] != '/';
    char *p = dtm__malloc(dl + (size_t)slash + nl + 1);
    if (!p)
        return NULL;
    memcpy(p, dir, dl);
    if (slash)
        p[dl] = '/';
    memcpy(p + dl + (size_t)slash, name, nl + 1);
    return p;
}

static dtm_status load_dir_file(const char *dir, const char *name, const char *what,
                                dtm__kvlist *out, const dtm__log *log)
{
    dtm_status st;
    char *path = join_path(dir, name);
    if (!path)
        return DTM_ENOMEM;
    st = load_file(path, DTM_LOG_INFO, what, out, log);
    dtm__free(path);
    return st;
}

static int is_trim_space(char c)
{
    return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r' || c == '\n';
}

/* Step 1-3 of spec 7.2.  *used is set when the indirection file named a
   file, whether or not that could be read (then there is no fallback). */
static dtm_status load_indirect(const char *indirection, dtm__kvlist *out, const dtm__log *log,
                                int *used)
{
    char line[DTM__ENRICH_MAX_PATH + 2];
    size_t len = 0, start = 0;
    int err = 0;

    *used = 0;
    switch (read_first_line(indirection, line, &len, &err)) {
    case RD_OPEN:
        dtm__logf(log, DTM_LOG_INFO, "OneAgent metadata: cannot open the indirection file %s: %s "
                  "(errno %d); " OA_HINT, indirection, errno_text(err), err);
        return DTM_OK;
    case RD_READ:
        dtm__logf(log, DTM_LOG_INFO, "OneAgent metadata: cannot read the indirection file %s: %s "
                  "(errno %d)", indirection, errno_text(err), err);
        return DTM_OK;
    case RD_TOO_BIG:
        *used = 1;
        dtm__logf(log, DTM_LOG_WARN, "OneAgent metadata: the first line of the indirection file "
                  "%s is longer than %u bytes; no metadata from it", indirection,
                  DTM__ENRICH_MAX_PATH);
        return DTM_OK;
    default:
        break;
    }
    /* Trim ASCII white space (spec 7.2 step 2, case E14). */
    while (start < len && is_trim_space(line[start]))
        start++;
    while (len > start && is_trim_space(line[len - 1]))
        len--;
    if (len == start) {
        dtm__logf(log, DTM_LOG_INFO, "OneAgent metadata: the indirection file %s is empty",
                  indirection);
        return DTM_OK;
    }
    *used = 1;
    if (memchr(line + start, '\0', len - start)) {
        dtm__logf(log, DTM_LOG_WARN, "OneAgent metadata: the indirection file %s names no valid "
                  "path (NUL byte); no metadata from it", indirection);
        return DTM_OK;
    }
    line[len] = '\0';
    /* The named file is gone although OneAgent is there: worth a warning. */
    return load_file(line + start, DTM_LOG_WARN, "metadata file", out, log);
}

dtm_status dtm__enrich_load(const dtm__enrich_options *opts, dtm__kvlist *out, const dtm__log *log)
{
    const char *indirection = DTM__ENRICH_INDIRECTION, *dir = DTM__ENRICH_DIR;
    int used = 0, host = 0;
    dtm_status st;

    if (!out)
        return DTM_EINVAL;
    if (opts) {
        if (opts->indirection_file)
            indirection = opts->indirection_file;
        if (opts->dir)
            dir = opts->dir;
        host = opts->host_metadata;
    }
    st = load_indirect(indirection, out, log, &used);
    if (st == DTM_OK && !used)
        st = load_dir_file(dir, DTM__ENRICH_METADATA, "metadata file", out, log);
    if (st == DTM_OK && host)
        st = load_dir_file(dir, DTM__ENRICH_HOST_METADATA, "host metadata file", out, log);
    if (st == DTM_OK)
        dtm__logf(log, DTM_LOG_INFO, "OneAgent metadata: %zu entries", out->n);
    return st;
}
