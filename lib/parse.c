/* STUB: replaced by the line parser module. */
#include "config.h"
#include "internal.h"
dtm_status dtm_parse_line(const char *line, size_t len, dtm_parse_result *res) { (void)line; (void)len; (void)res; return DTM_EINVAL; }
