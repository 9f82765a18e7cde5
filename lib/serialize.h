/*
 * Serializer internals used by the export and instrument layers: the parts
 * of a line written separately, so that a series identity (key and
 * dimensions) is normalized once and a payload appended many times.
 * Never installed.
 */
#ifndef DTMETRICS_SERIALIZE_H
#define DTMETRICS_SERIALIZE_H

#include "internal.h"
#include "norm.h"

/* Write the identity "key[,dim=value...]" of a line: the prefixed, normalized
   key and the merged, de-duplicated dimensions (default < line < static).
   Errors as dtm_serialize_gauge (DTM_EKEY, DTM_EDIMS, DTM_EINVAL); on success
   the identity's UTF-16 units are added to w->units. */
dtm_status dtm__serialize_identity(const dtm_serializer *s, const char *name, size_t name_len,
                                   const dtm_dimension *dims, size_t n_dims, dtm__writer *w);

/* The prefixed, normalized metric key of name (logged when it changed).
   DTM_EKEY when it normalizes to nothing or name_len is 0. */
dtm_status dtm__serializer_key(const dtm_serializer *s, const char *name, size_t name_len,
                               dtm__mkey *key);

/* Payload writers: append " gauge,<v>", " count,delta=<v>",
   " gauge,min=..,max=..,sum=..,count=.." and, when plausible, " <ts>".
   The values must already be validated (finite; summary consistent). */
void dtm__payload_gauge(dtm__writer *w, double v);
void dtm__payload_counter(dtm__writer *w, double delta);
void dtm__payload_counter_int(dtm__writer *w, int64_t delta);
void dtm__payload_summary(dtm__writer *w, double min, double max, double sum, int64_t count);
/* Appends " <ts>" when ts is inside the plausible window; otherwise (ts != 0)
   logs through the serializer's log (rate-limited) and writes nothing. */
void dtm__payload_timestamp(const dtm_serializer *s, dtm__writer *w, int64_t ts);

/* Summary validation of spec 4.3: DTM_OK or DTM_EVALUE. */
dtm_status dtm__summary_check(double min, double max, double sum, int64_t count);

/* The log of a serializer (for layers that report through it). */
const dtm__log *dtm__serializer_log(const dtm_serializer *s);

#endif /* DTMETRICS_SERIALIZE_H */
