/*
 * libFuzzer target for dtm_parse_line.
 *
 * Build (from the top of a configured tree, so that config.h exists):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -DDTM_BUILDING \
 *     -I. -Iinclude -Ilib fuzz/fuzz_parse.c lib/[a-z]*.c \
 *     $(pkg-config --cflags --libs libcurl jansson zlib) -lpthread -lm -o fuzz_parse
 *   ./fuzz_parse -max_len=70000 -max_total_time=60
 *
 * Each input is one line.  Checks: the parser never crashes or reads outside
 * the input (ASan), answers DTM_OK or DTM_ESYNTAX with a reason and an offset
 * inside the line, gives the same answer twice, and its views stay inside
 * the input.  An input that parses as a data line is also re-parsed without
 * its timestamp, which must not change the verdict.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dtmetrics.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
    if (!ok)
        abort();
}

static int inside(const char *p, size_t n, const char *base, size_t len)
{
    return p == NULL ? n == 0 : (p >= base && n <= len && p + n <= base + len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *line = (const char *)data;
    dtm_parse_result r, r2;
    dtm_status st = dtm_parse_line(line, size, &r);

    check(st == DTM_OK || st == DTM_ESYNTAX);
    if (st == DTM_ESYNTAX) {
        check(r.kind == DTM_LINE_INVALID);
        check(r.error != NULL && r.error[0] != '\0');
        check(r.error_offset <= size);
    } else {
        check(r.kind != DTM_LINE_INVALID && r.error == NULL);
        check(inside(r.key, r.key_len, line, size));
        check(inside(r.dimensions, r.dimensions_len, line, size));
        check(inside(r.payload, r.payload_len, line, size));
        check(r.n_dimensions <= 50);
        if (r.kind == DTM_LINE_SUMMARY)
            check(r.count >= 0 && r.min <= r.max);
    }
    check(dtm_parse_line(line, size, &r2) == st);
    check(r2.kind == r.kind && r2.error == r.error && r2.error_offset == r.error_offset);

    /* without its timestamp a valid data line stays valid */
    if (st == DTM_OK && r.has_timestamp) {
        size_t cut = (size_t)(r.payload + r.payload_len - line);
        check(dtm_parse_line(line, cut, &r2) == DTM_OK);
        check(r2.kind == r.kind && !r2.has_timestamp);
    }
    /* a prefix of the input: answered, with an offset inside the prefix */
    if (size > 0) {
        size_t cut = size / 2;
        st = dtm_parse_line(line, cut, &r2);
        check(st == DTM_OK || st == DTM_ESYNTAX);
        check(st == DTM_OK || r2.error_offset <= cut);
    }
    return 0;
}
