/* STUB: replaced by the enrichment module. */
#include "config.h"
#include "enrich.h"
dtm_status dtm__enrich_load(const dtm__enrich_options *opts, dtm__kvlist *out, const dtm__log *log) { (void)opts; (void)out; (void)log; return DTM_OK; }
