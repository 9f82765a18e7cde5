/* STUB: replaced by the number formatter module. */
#include "config.h"
#include "norm.h"
size_t dtm__fmt_double(double v, char *out) { (void)v; out[0] = '0'; return 1; }
size_t dtm__fmt_int64(int64_t v, char *out) { (void)v; out[0] = '0'; return 1; }
size_t dtm__fmt_uint64(uint64_t v, char *out) { (void)v; out[0] = '0'; return 1; }
dtm_status dtm_format_double(double value, char *out, size_t out_cap, size_t *out_len) { (void)value; (void)out; (void)out_cap; (void)out_len; return DTM_EINVAL; }
dtm_status dtm_format_int64(int64_t value, char *out, size_t out_cap, size_t *out_len) { (void)value; (void)out; (void)out_cap; (void)out_len; return DTM_EINVAL; }
