/*
 * libFuzzer target: every normalizer on arbitrary bytes.  Traps when an
 * output breaks a property of tests/normalize_invariants.h (valid UTF-8,
 * allowed characters, unit limits, complete escapes), when the streaming
 * metric-key normalizer fed in pieces disagrees with a single feed, or when
 * a size query disagrees with the real call.
 *
 * Build from a configured tree (the library sources include the generated
 * config.h):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Ilib -I. \
 *       fuzz/fuzz_normalize.c lib/text.c lib/normalize.c lib/alloc.c \
 *       lib/log.c lib/status.c -o fuzz_normalize
 *   ./fuzz_normalize -max_len=1024 -max_total_time=60
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "norm.h"
#include "../tests/normalize_invariants.h"

#define CHECK(cond)                \
    do {                           \
        if (!(cond))               \
            __builtin_trap();      \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_metric_key(const char *in, size_t n, size_t cut1, size_t cut2)
{
    char out[DTM_MAX_METRIC_KEY_LEN + 1];
    size_t len = 0, need = 0;
    dtm__mkey k;
    dtm_status st = dtm_normalize_metric_key(in, n, out, sizeof out, &len);

    CHECK(st == DTM_OK || st == DTM_EKEY);
    if (st == DTM_OK) {
        CHECK(inv_metric_key(out, len) == NULL);
        CHECK(dtm_normalize_metric_key(in, n, NULL, 0, &need) == DTM_ETOOSMALL);
        CHECK(need == len);
    }
    /* the same input in three pieces */
    dtm__mkey_init(&k);
    dtm__mkey_feed(&k, in, cut1);
    dtm__mkey_feed(&k, in + cut1, cut2 - cut1);
    dtm__mkey_feed(&k, in + cut2, n - cut2);
    CHECK(dtm__mkey_status(&k) == st);
    if (st == DTM_OK)
        CHECK(k.len == len && memcmp(k.out, out, len) == 0);
}

static void check_dim_key(const char *in, size_t n)
{
    char out[DTM_MAX_DIMENSION_KEY_LEN + 1];
    size_t len = 0;
    dtm_status st = dtm_normalize_dimension_key(in, n, out, sizeof out, &len);
    CHECK(st == DTM_OK || st == DTM_EKEY);
    if (st == DTM_OK)
        CHECK(inv_dim_key(out, len) == NULL);
}

static void check_dim_value(const char *in, size_t n)
{
    char out[DTM_MAX_DIMENSION_VALUE_BYTES + 1], raw[DTM_MAX_DIMENSION_VALUE_BYTES];
    size_t len = 0, units = 0, rlen, u2;
    dtm_status st = dtm_normalize_dimension_value(in, n, out, sizeof out, &len);
    CHECK(st == DTM_OK);
    CHECK(inv_dim_value(out, len) == NULL);
    rlen = dtm__norm_dim_value(in, n, raw, &units);
    CHECK(rlen == len && memcmp(raw, out, len) == 0);
    CHECK(inv_text(out, len, NULL, &u2) == NULL && u2 == units);
    CHECK(units <= DTM_MAX_DIMENSION_VALUE_LEN);
}

static void check_meta(const char *in, size_t n, size_t max_units)
{
    static char out[4 * 4096 + 8];
    size_t len = 0, need = 0;
    dtm_status st = dtm_normalize_metadata_string(in, n, max_units, out, sizeof out, &len);
    CHECK(st == DTM_OK || st == DTM_EVALUE);
    if (st == DTM_OK) {
        CHECK(inv_meta(out, len, max_units) == NULL);
        CHECK(dtm_normalize_metadata_string(in, n, max_units, NULL, 0, &need) ==
              DTM_ETOOSMALL);
        CHECK(need == len);
    } else {
        CHECK(len == 0 && out[0] == '\0');
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t budgets[] = {255, 300, 65535, 3};
    const char *in = (const char *)data;
    size_t cut1, cut2;

    if (size > 4096)
        return 0;
    cut1 = size ? data[0] % (size + 1) : 0;
    cut2 = cut1 + (size > cut1 ? data[size - 1] % (size - cut1 + 1) : 0);
    check_metric_key(in, size, cut1, cut2);
    check_dim_key(in, size);
    check_dim_value(in, size);
    check_meta(in, size, budgets[size % 4]);
    (void)dtm_unit_is_valid(in, size);
    return 0;
}
