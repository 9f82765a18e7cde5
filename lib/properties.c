/* STUB: replaced by the enrichment module. */
#include "config.h"
#include "enrich.h"
void dtm__kvlist_free(dtm__kvlist *l) { (void)l; }
dtm_status dtm__kvlist_set(dtm__kvlist *l, const char *key, size_t key_len, const char *value, size_t value_len) { (void)l; (void)key; (void)key_len; (void)value; (void)value_len; return DTM_ENOMEM; }
dtm_status dtm__properties_parse(const char *text, size_t n, dtm__kvlist *out, const dtm__log *log) { (void)text; (void)n; (void)out; (void)log; return DTM_OK; }
