/*
 * Metadata lines (spec section 10):
 *   #<key> gauge|count dt.meta.description=...,dt.meta.unit=...,dt.meta.displayName=...
 * The key is the same prefixed, normalized key as the data lines'.
 */
#include "config.h"

#include <string.h>

#include "norm.h"
#include "serialize.h"

/* Append ",name=<normalized s>" (or without the comma for the first
   property); returns 1 if the property was written. */
static int put_meta_string(dtm__writer *w, int first, const char *prop, size_t prop_len,
                           const char *s, size_t max_units)
{
    dtm__writer save = *w;
    if (!s || !s[0])
        return 0;
    if (!first)
        dtm__writer_putc(w, ',');
    dtm__writer_put(w, prop, prop_len, prop_len);
    if (!dtm__norm_meta_string(s, strlen(s), max_units, w)) {
        *w = save; /* nothing survived: drop the property */
        return 0;
    }
    return 1;
}

dtm_status dtm_serialize_metadata(const dtm_serializer *s, const char *name,
                                  dtm_metric_type type, const char *description,
                                  const char *unit, const char *display_name, char *out,
                                  size_t out_cap, size_t *out_len)
{
    dtm__writer w;
    dtm__mkey key;
    dtm_status st;
    int n = 0;

    if (!s || !name || !out_len || (!out && out_cap)
        || (type != DTM_METRIC_GAUGE && type != DTM_METRIC_COUNTER))
        return DTM_EINVAL;
    *out_len = 0;
    if (out && out_cap)
        out[0] = '\0';
    st = dtm__serializer_key(s, name, strlen(name), &key);
    if (st != DTM_OK)
        return st;

    dtm__writer_init(&w, out, out_cap);
    dtm__writer_putc(&w, '#');
    dtm__writer_put(&w, key.out, key.len, key.len);
    if (type == DTM_METRIC_GAUGE)
        dtm__writer_put(&w, " gauge ", 7, 7);
    else
        dtm__writer_put(&w, " count ", 7, 7);

    n += put_meta_string(&w, n == 0, "dt.meta.description=", 20, description,
                         DTM_MAX_DESCRIPTION_LEN);
    if (unit && unit[0]) {
        size_t ulen = strlen(unit);
        if (dtm_unit_is_valid(unit, ulen)) {
            if (n)
                dtm__writer_putc(&w, ',');
            dtm__writer_put(&w, "dt.meta.unit=", 13, 13);
            dtm__writer_put(&w, unit, ulen, ulen);
            n++;
        } else {
            dtm__logf(dtm__serializer_log(s), DTM_LOG_WARN,
                      "metadata unit '%.63s' of '%.*s' dropped: 1-63 characters of "
                      "A-Z a-z 0-9 %% [ ] { } / _ are allowed",
                      unit, (int)key.len, key.out);
        }
    }
    n += put_meta_string(&w, n == 0, "dt.meta.displayName=", 20, display_name,
                         DTM_MAX_DISPLAY_NAME_LEN);
    if (n == 0) {
        *out_len = 0;
        if (!out || out_cap == 0)
            return DTM_ETOOSMALL;
        out[0] = '\0';
        return DTM_OK;
    }
    return dtm__writer_finish(&w, out_len);
}
