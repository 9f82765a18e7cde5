/*
 * Enrichment layer: Java-style .properties parsing and the OneAgent /
 * Kubernetes metadata files (spec 7).  File reads happen only when a
 * serializer is created.  Never installed.
 */
#ifndef DTMETRICS_ENRICH_H
#define DTMETRICS_ENRICH_H

#include "internal.h"

/* A list of raw (not normalized) key/value pairs, owned. */
typedef struct dtm__kvlist {
    char **keys;
    char **values;
    size_t n;
    size_t cap;
} dtm__kvlist;

void dtm__kvlist_free(dtm__kvlist *l); /* frees contents, not l; l may be zeroed */
/* Set key to value: a later set of the same key replaces the value in place. */
dtm_status dtm__kvlist_set(dtm__kvlist *l, const char *key, size_t key_len, const char *value,
                           size_t value_len);

/* Parse .properties text (spec 7.3, deviation D5: trailing white space of
   values trimmed) and set every pair with a non-empty key and value into out
   (empty ones are logged at WARN and skipped).  DTM_ENOMEM on allocation
   failure (out then holds what was set before). */
dtm_status dtm__properties_parse(const char *text, size_t n, dtm__kvlist *out, const dtm__log *log);

typedef struct dtm__enrich_options {
    const char *indirection_file; /* NULL = "dt_metadata_e617c525669e072eebe3d0f08212e8f2.properties" */
    const char *dir;              /* NULL = "/var/lib/dynatrace/enrichment" */
    int host_metadata;            /* also read <dir>/dt_host_metadata.properties */
} dtm__enrich_options;

/* Load OneAgent metadata (spec 7.2) into out, later sources overwriting
   earlier ones: the file named by the indirection file (or, when that cannot
   be opened or is empty, <dir>/dt_metadata.properties), then, when asked,
   <dir>/dt_host_metadata.properties.  Missing files are logged at INFO and are
   not errors; only DTM_ENOMEM is returned as an error. */
dtm_status dtm__enrich_load(const dtm__enrich_options *opts, dtm__kvlist *out, const dtm__log *log);

#endif /* DTMETRICS_ENRICH_H */
