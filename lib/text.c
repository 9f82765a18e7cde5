/* STUB: replaced by the text module (UTF-8 decoding, Unicode tables). */
#include "config.h"
#include "text.h"
uint32_t dtm__utf8_next(const unsigned char *p, size_t n, size_t *adv) { (void)p; (void)n; *adv = 1; return DTM__CP_INVALID; }
size_t dtm__utf8_put(uint32_t cp, char *out) { (void)cp; (void)out; return 0; }
size_t dtm__utf16_units(const char *s, size_t n) { (void)s; return n; }
int dtm__utf8_valid(const char *s, size_t n) { (void)s; (void)n; return 0; }
int dtm__cp_invalid_in_value(uint32_t cp) { (void)cp; return 1; }
int dtm__cp_invalid_in_meta(uint32_t cp) { (void)cp; return 1; }
