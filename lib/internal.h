/*
 * Internal definitions shared by the library's .c files.  Never installed.
 */
#ifndef DTMETRICS_INTERNAL_H
#define DTMETRICS_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dtmetrics.h"

#if defined(__GNUC__)
#define DTM__LIKELY(x) __builtin_expect(!!(x), 1)
#define DTM__UNLIKELY(x) __builtin_expect(!!(x), 0)
#define DTM__PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define DTM__LIKELY(x) (x)
#define DTM__UNLIKELY(x) (x)
#define DTM__PRINTF(f, a)
#endif

/* ---- allocation (alloc.c): every allocation of the library goes here ---- */
void *dtm__malloc(size_t size);
void *dtm__calloc(size_t n, size_t size);
void *dtm__realloc(void *ptr, size_t size);
void dtm__free(void *ptr);
/* Copy of s (NULL gives NULL); dtm__strndup copies n bytes and adds a NUL. */
char *dtm__strdup(const char *s);
char *dtm__strndup(const char *s, size_t n);

/* ---- logging (log.c) ---- */
typedef struct dtm__log {
    dtm_log_fn fn;
    void *userdata;
} dtm__log;

/* Format and deliver one message; a no-op when log or log->fn is NULL.
   Messages are cut at 1023 bytes. */
void dtm__logf(const dtm__log *log, dtm_log_level level, const char *fmt, ...) DTM__PRINTF(3, 4);
void dtm__vlogf(const dtm__log *log, dtm_log_level level, const char *fmt, va_list ap)
    DTM__PRINTF(3, 0);

/* "First at WARN, the rest at DEBUG": returns DTM_LOG_WARN the first time it
   is called on *flag (atomically), DTM_LOG_DEBUG afterwards. */
dtm_log_level dtm__once_level(int *flag);

/* ---- a bounded writer used by the serializers ----
   Appends while there is room; keeps counting bytes (and UTF-16 units) after
   the buffer is full so that the needed size can be reported. */
typedef struct dtm__writer {
    char *buf;
    size_t size;   /* bytes of buf, the NUL included (0: nothing can be written) */
    size_t cap;    /* usable bytes, the NUL excluded */
    size_t len;    /* bytes that were (or would have been) written */
    size_t units;  /* UTF-16 units of the same */
} dtm__writer;

static inline void dtm__writer_init(dtm__writer *w, char *buf, size_t cap_with_nul)
{
    w->buf = buf;
    w->size = cap_with_nul;
    w->cap = cap_with_nul ? cap_with_nul - 1 : 0;
    w->len = 0;
    w->units = 0;
}

/* Text whose UTF-16 units the caller knows.  Once something did not fit,
   len stays above cap and nothing more is written: the result is discarded,
   only its length is reported. */
static inline void dtm__writer_put(dtm__writer *w, const char *s, size_t n, size_t units)
{
    if (DTM__LIKELY(w->len + n <= w->cap))
        memcpy(w->buf + w->len, s, n);
    w->len += n;
    w->units += units;
}
static inline void dtm__writer_putc(dtm__writer *w, char c)
{
    if (DTM__LIKELY(w->len < w->cap))
        w->buf[w->len] = c;
    w->len++;
    w->units++;
}

/* Finish with the snprintf convention: NUL-terminate, or on overflow clear
   the buffer and return DTM_ETOOSMALL.  *out_len = w->len in both cases. */
dtm_status dtm__writer_finish(dtm__writer *w, size_t *out_len);

/* Copy a finished internal result into a caller buffer (snprintf convention). */
dtm_status dtm__copy_out(const char *src, size_t n, char *out, size_t out_cap, size_t *out_len);

#endif /* DTMETRICS_INTERNAL_H */
