/*
 * The number formatter compiled a second time with its portable code paths
 * (64x64->128-bit multiplication without unsigned __int128, digits without
 * the little-endian word trick), under other names, so that test_format can
 * compare the two builds on the same inputs.
 */
#define DTM_FORMAT_NO_INT128 1
#define DTM_FORMAT_NO_SWAR 1
#define dtm__fmt_double dtm__fmt_double_portable
#define dtm__fmt_int64 dtm__fmt_int64_portable
#define dtm__fmt_uint64 dtm__fmt_uint64_portable
#define dtm_format_double dtm_format_double_portable
#define dtm_format_int64 dtm_format_int64_portable
#include "../lib/format.c"
