/* STUB: replaced by the normalizer module. */
#include "config.h"
#include "norm.h"
void dtm__mkey_init(dtm__mkey *k) { k->len = 0; k->window = 0; k->state = 0; k->repl = 0; }
void dtm__mkey_feed(dtm__mkey *k, const char *in, size_t n) { (void)k; (void)in; (void)n; }
dtm_status dtm__mkey_status(const dtm__mkey *k) { (void)k; return DTM_EKEY; }
size_t dtm__norm_dim_key(const char *in, size_t n, char *out) { (void)in; (void)n; (void)out; return 0; }
size_t dtm__norm_dim_value(const char *in, size_t n, char *out, size_t *units) { (void)in; (void)n; (void)out; *units = 0; return 0; }
int dtm__norm_meta_string(const char *in, size_t n, size_t max_units, dtm__writer *w) { (void)in; (void)n; (void)max_units; (void)w; return 0; }
dtm_status dtm_normalize_metric_key(const char *in, size_t in_len, char *out, size_t out_cap, size_t *out_len) { (void)in; (void)in_len; (void)out; (void)out_cap; (void)out_len; return DTM_EINVAL; }
dtm_status dtm_normalize_dimension_key(const char *in, size_t in_len, char *out, size_t out_cap, size_t *out_len) { (void)in; (void)in_len; (void)out; (void)out_cap; (void)out_len; return DTM_EINVAL; }
dtm_status dtm_normalize_dimension_value(const char *in, size_t in_len, char *out, size_t out_cap, size_t *out_len) { (void)in; (void)in_len; (void)out; (void)out_cap; (void)out_len; return DTM_EINVAL; }
dtm_status dtm_normalize_metadata_string(const char *in, size_t in_len, size_t max_units, char *out, size_t out_cap, size_t *out_len) { (void)in; (void)in_len; (void)max_units; (void)out; (void)out_cap; (void)out_len; return DTM_EINVAL; }
int dtm_unit_is_valid(const char *unit, size_t unit_len) { (void)unit; (void)unit_len; return 0; }
