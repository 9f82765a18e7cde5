/*
 * libFuzzer target: arbitrary bytes become a prefix, a name, dimensions and
 * values; whatever the serializer writes must be valid UTF-8, free of line
 * breaks, and accepted by the line parser.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "dtmetrics.h"
#include "text.h"

/* Split the input at 0xFF bytes into NUL-terminated fields. */
static size_t split(const uint8_t *data, size_t size, char *buf, char **fields, size_t max)
{
    size_t n = 0, i;
    if (max == 0)
        return 0;
    fields[n++] = buf;
    for (i = 0; i < size; i++) {
        if (data[i] == 0xFF && n < max) {
            buf[i] = '\0';
            fields[n++] = buf + i + 1;
        } else {
            buf[i] = data[i] ? (char)data[i] : '_';
        }
    }
    buf[size] = '\0';
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char buf[70000], out[70000];
    char *f[16];
    size_t n, len, i;
    dtm_serializer_options o;
    dtm_serializer *s;
    dtm_dimension defs[2], dims[5];
    dtm_parse_result res;
    dtm_status st;
    double v;

    if (size >= sizeof buf || size < 8)
        return 0;
    memcpy(&v, data, sizeof v);
    n = split(data + 8, size - 8, buf, f, 16);
    if (n < 2)
        return 0;
    dtm_serializer_options_init(&o);
    o.prefix = f[0];
    for (i = 0; i < 2 && 2 + 2 * i + 1 < n; i++) {
        defs[i].key = f[2 + 2 * i];
        defs[i].value = f[3 + 2 * i];
    }
    o.default_dimensions = defs;
    o.n_default_dimensions = i;
    if (dtm_serializer_new(&s, &o) != DTM_OK)
        return 0;
    for (i = 0; i < 5 && 6 + 2 * i + 1 < n; i++) {
        dims[i].key = f[6 + 2 * i];
        dims[i].value = f[7 + 2 * i];
    }
    st = dtm_serialize_gauge(s, f[1], dims, i, v, 1700000000000, out, sizeof out, &len);
    if (st == DTM_OK) {
        if (!dtm__utf8_valid(out, len) || memchr(out, '\n', len) || memchr(out, '\r', len))
            __builtin_trap();
        if (dtm_parse_line(out, len, &res) != DTM_OK || res.kind != DTM_LINE_GAUGE)
            __builtin_trap();
    }
    st = dtm_serialize_summary(s, f[1], dims, i, v, v, v, 1, 0, out, sizeof out, &len);
    if (st == DTM_OK && dtm_parse_line(out, len, &res) != DTM_OK)
        __builtin_trap();
    st = dtm_serialize_metadata(s, f[1], DTM_METRIC_GAUGE, f[n - 1], "ms", f[n - 1], out,
                                sizeof out, &len);
    if (st == DTM_OK && len > 0) {
        if (!dtm__utf8_valid(out, len) || dtm_parse_line(out, len, &res) != DTM_OK)
            __builtin_trap();
    }
    dtm_serializer_free(s);
    return 0;
}
