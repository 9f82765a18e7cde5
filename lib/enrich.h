/*
 * Enrichment layer: Java-style .properties parsing and the OneAgent /
 * Kubernetes metadata files (spec 7).  File reads happen only when a
 * serializer is created.  Never installed.
 *
 * Nothing here keeps global state: every function is reentrant, and two
 * threads may parse or load into two different lists at the same time.
 */
#ifndef DTMETRICS_ENRICH_H
#define DTMETRICS_ENRICH_H

#include "internal.h"

/* ---- bounds (documented in the README) ---- */
/* A key or a value longer than this many bytes (after unescaping) is skipped
   with a warning. */
#define DTM__PROPS_MAX_ITEM (64u * 1024u)
/* At most this many pairs are taken from one text (a repeated key counts each
   time); the rest of the text is ignored with a warning. */
#define DTM__PROPS_MAX_PAIRS 10000u
/* A metadata file larger than this is ignored as a whole, with a warning. */
#define DTM__ENRICH_MAX_FILE (1024u * 1024u)
/* The first line of the indirection file (a path) may have at most this many
   bytes; a longer one is treated like a path that cannot be opened. */
#define DTM__ENRICH_MAX_PATH 4096u

#define DTM__ENRICH_INDIRECTION "dt_metadata_e617c525669e072eebe3d0f08212e8f2.properties"
#define DTM__ENRICH_DIR "/var/lib/dynatrace/enrichment"
#define DTM__ENRICH_METADATA "dt_metadata.properties"
#define DTM__ENRICH_HOST_METADATA "dt_host_metadata.properties"

/* A list of raw (not normalized) key/value pairs, owned.  Keys and values are
   NUL-terminated and never contain a NUL byte; the list keeps the order in
   which keys were first set.  A zeroed struct is an empty list. */
typedef struct dtm__kvlist {
    char **keys;
    char **values;
    size_t n;
    size_t cap;
} dtm__kvlist;

void dtm__kvlist_free(dtm__kvlist *l); /* frees contents, not l; l may be zeroed or NULL;
                                          l is left zeroed */
/* Set key to value (copies both): a later set of the same key replaces the
   value in place, so the key keeps its first position.  DTM_EINVAL for a NULL
   list or string or a key/value containing a NUL byte; DTM_ENOMEM leaves the
   list as it was. */
dtm_status dtm__kvlist_set(dtm__kvlist *l, const char *key, size_t key_len, const char *value,
                           size_t value_len);

/* Parse .properties text (spec 7.3, deviation D5: trailing white space of
   values trimmed) and set every pair with a non-empty key and value into out
   (empty ones are logged at WARN and skipped).  The text may contain NUL bytes
   and need not end with a line terminator; a UTF-8 byte order mark at its
   start is skipped.  Pairs that are skipped with a log
   message (the first at WARN, the rest at DEBUG) rather than stored:
     - an empty key or an empty value;
     - a key or value longer than DTM__PROPS_MAX_ITEM bytes;
     - a key or value containing a NUL byte (raw or written as \u0000);
     - a malformed \u escape (not followed by four hex digits).
   After DTM__PROPS_MAX_PAIRS pairs the rest of the text is ignored (WARN).
   \uXXXX escapes are written as UTF-8; a surrogate pair of escapes becomes
   one code point, a lone surrogate escape is written as its three-byte
   (ill-formed) encoding so that the normalizers treat it as an invalid code
   point, as the reference does.  Escaped white space at the end of a value
   (`\ `, `\t`) is kept; only unescaped trailing white space is trimmed.
   DTM_EINVAL for a NULL out or NULL text with n > 0; DTM_ENOMEM on allocation
   failure (out then holds what was set before). */
dtm_status dtm__properties_parse(const char *text, size_t n, dtm__kvlist *out, const dtm__log *log);
/* The same; source (may be NULL) names the text in log messages. */
dtm_status dtm__properties_parse_source(const char *text, size_t n, const char *source,
                                        dtm__kvlist *out, const dtm__log *log);

typedef struct dtm__enrich_options {
    const char *indirection_file; /* NULL = DTM__ENRICH_INDIRECTION (relative, opened as is) */
    const char *dir;              /* NULL = DTM__ENRICH_DIR */
    int host_metadata;            /* also read <dir>/dt_host_metadata.properties */
} dtm__enrich_options;

/* Load OneAgent metadata (spec 7.2) into out, later sources overwriting
   earlier ones: the file named by the indirection file (or, when that cannot
   be opened or read or its first line is empty, <dir>/dt_metadata.properties),
   then, when asked, <dir>/dt_host_metadata.properties.  If the indirection
   names a file that cannot be opened, nothing comes from it and there is no
   fallback.  Files are opened without any stat/access check first (OneAgent's
   virtual file fails them), with O_CLOEXEC.  Missing files are logged at INFO
   and are not errors; unreadable or oversized ones at WARN.  opts may be NULL
   (all defaults).  Returns DTM_OK, DTM_EINVAL for a NULL out, or DTM_ENOMEM
   (out then holds what was set before; free it with dtm__kvlist_free). */
dtm_status dtm__enrich_load(const dtm__enrich_options *opts, dtm__kvlist *out, const dtm__log *log);

#endif /* DTMETRICS_ENRICH_H */
