/* STUB: replaced by the serializer module. */
#include "config.h"
#include "internal.h"
void dtm_serializer_options_init(dtm_serializer_options *opts) { (void)opts; }
dtm_status dtm_serializer_new(dtm_serializer **out, const dtm_serializer_options *opts) { (void)out; (void)opts; return DTM_EINVAL; }
void dtm_serializer_free(dtm_serializer *s) { (void)s; }
int64_t dtm_now_ms(void) { return 0; }
