/* Log delivery and the small output writer shared by the serializers. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "internal.h"

void dtm__vlogf(const dtm__log *log, dtm_log_level level, const char *fmt, va_list ap)
{
    char msg[1024];
    if (!log || !log->fn)
        return;
    /* Log text only, never numbers on the wire: printf is fine here. */
    vsnprintf(msg, sizeof msg, fmt, ap);
    log->fn(level, msg, log->userdata);
}

void dtm__logf(const dtm__log *log, dtm_log_level level, const char *fmt, ...)
{
    va_list ap;
    if (!log || !log->fn)
        return;
    va_start(ap, fmt);
    dtm__vlogf(log, level, fmt, ap);
    va_end(ap);
}

dtm_log_level dtm__once_level(int *flag)
{
    return __atomic_exchange_n(flag, 1, __ATOMIC_RELAXED) ? DTM_LOG_DEBUG : DTM_LOG_WARN;
}

dtm_status dtm__writer_finish(dtm__writer *w, size_t *out_len)
{
    *out_len = w->len;
    if (w->size == 0 || w->len > w->cap) {
        if (w->size)
            w->buf[0] = '\0';
        return DTM_ETOOSMALL;
    }
    w->buf[w->len] = '\0';
    return DTM_OK;
}

dtm_status dtm__copy_out(const char *src, size_t n, char *out, size_t out_cap, size_t *out_len)
{
    *out_len = n;
    if (n + 1 > out_cap) {
        if (out && out_cap)
            out[0] = '\0';
        return DTM_ETOOSMALL;
    }
    memcpy(out, src, n);
    out[n] = '\0';
    return DTM_OK;
}
