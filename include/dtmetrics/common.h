/*
 * libdtmetrics - common definitions: export macro, version, status codes,
 * allocator hooks and the log callback type.
 *
 * Users include <dtmetrics.h>, never this file directly.
 */
#ifndef DTMETRICS_COMMON_H
#define DTMETRICS_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(DTM_BUILDING) && defined(__GNUC__)
#define DTM_EXTERN __attribute__((visibility("default")))
#else
#define DTM_EXTERN
#endif

/** Version of the headers; dtm_version() gives the library's. */
#define DTM_VERSION_MAJOR 0
#define DTM_VERSION_MINOR 1
#define DTM_VERSION_PATCH 0
#define DTM_VERSION_STRING "0.1.0"
/** (major << 16) | (minor << 8) | patch, for #if comparisons. */
#define DTM_VERSION_NUM ((DTM_VERSION_MAJOR << 16) | (DTM_VERSION_MINOR << 8) | DTM_VERSION_PATCH)

/**
 * Status of every fallible call.  DTM_OK is 0, every error is negative.
 * Codes are append-only: a value never changes meaning.
 */
typedef enum dtm_status {
    DTM_OK = 0,
    DTM_EINVAL = -1,     /**< bad argument (NULL, out of range, bad option) */
    DTM_EKEY = -2,       /**< a metric or dimension key normalizes to nothing */
    DTM_EVALUE = -3,     /**< NaN, +-Inf, or an inconsistent summary */
    DTM_ETOOSMALL = -4,  /**< caller buffer too small; needed length reported */
    DTM_ENOMEM = -5,     /**< out of memory */
    DTM_ELINE = -6,      /**< line longer than the protocol allows (50,000 UTF-16 units) */
    DTM_EDIMS = -7,      /**< more than 50 dimensions after merging */
    DTM_ESYNTAX = -8,    /**< text that is not a valid line of the protocol */
    DTM_EIO = -9,        /**< a file could not be read or written */
    DTM_ECONFIG = -10,   /**< invalid client configuration (URL, token, options) */
    DTM_ETRANSPORT = -11,/**< connection, TLS or other transport failure */
    DTM_EHTTP = -12,     /**< the server answered with an unexpected HTTP status */
    DTM_EAUTH = -13,     /**< the server refused the token or the URL (401/403/404/405) */
    DTM_ETIMEOUT = -14,  /**< a deadline passed before the work was done */
    DTM_EFULL = -15,     /**< a queue or registry is full; the data was dropped and counted */
    DTM_ESTATE = -16,    /**< the object cannot do this now (closed, or used in a forked child) */
    DTM_EREJECTED = -17  /**< the server rejected some lines (they are counted and reported) */
} dtm_status;

/**
 * A short English description of a status code.
 * Returns a static string, never NULL (unknown codes give "unknown status").
 * Thread-safe.
 */
DTM_EXTERN const char *dtm_strerror(dtm_status status);

/** The library's version as "major.minor.patch"; static string. */
DTM_EXTERN const char *dtm_version(void);

/**
 * Replace the allocator used by every later allocation of the library
 * (jansson and libcurl keep their own).  Pass NULL for all three to restore
 * malloc/realloc/free.  Returns DTM_EINVAL if only some are NULL.
 *
 * Not thread-safe: call it before creating any object, and only free memory
 * with the allocator that allocated it.  Meant for tests that fail the Nth
 * allocation and for programs with their own heap.
 */
typedef void *(*dtm_malloc_fn)(size_t size);
typedef void *(*dtm_realloc_fn)(void *ptr, size_t size);
typedef void (*dtm_free_fn)(void *ptr);
DTM_EXTERN dtm_status dtm_set_allocator(dtm_malloc_fn malloc_fn, dtm_realloc_fn realloc_fn,
                                        dtm_free_fn free_fn);

/** Severity of a log message. */
typedef enum dtm_log_level {
    DTM_LOG_ERROR = 0,
    DTM_LOG_WARN = 1,
    DTM_LOG_INFO = 2,
    DTM_LOG_DEBUG = 3
} dtm_log_level;

/**
 * Log callback.  The library never prints; it calls this (when set) with a
 * NUL-terminated message without trailing newline, valid only during the
 * call.  It may be called from any thread that uses the object that owns it
 * (including the exporter thread) and must not call back into that object.
 * Messages never contain the API token.
 */
typedef void (*dtm_log_fn)(dtm_log_level level, const char *message, void *userdata);

#ifdef __cplusplus
}
#endif

#endif /* DTMETRICS_COMMON_H */
