/* Helpers shared by the Check test programs. */
#ifndef DTMETRICS_TESTUTIL_H
#define DTMETRICS_TESTUTIL_H

#include <check.h>
#include <stddef.h>

#include "dtmetrics.h"

/* Run one suite with CK_ENV verbosity; returns EXIT_SUCCESS or EXIT_FAILURE. */
int tu_run_suite(Suite *s);

/* A test case with an explicit timeout (seconds). */
TCase *tu_tcase(const char *name, double timeout_s);

/* The failing allocator: after tu_alloc_fail_after(n), the (n+1)th allocation
   through dtm__malloc/realloc fails (n = 0 fails the first); -1 never fails.
   tu_alloc_install() routes the library's allocations through it and counts
   live blocks (tu_alloc_live). */
void tu_alloc_install(void);
void tu_alloc_uninstall(void);
void tu_alloc_fail_after(long n);
long tu_alloc_count(void);  /* allocations attempted since the last fail_after */
long tu_alloc_live(void);   /* blocks allocated and not yet freed */

/* Decode a JSON-style string literal body (\" \\ \n \t \uXXXX incl. surrogate
   pairs; a lone surrogate \uD83D is written as its 3-byte ill-formed UTF-8)
   into a malloc'd buffer; *len receives its byte length. */
char *tu_json_unescape(const char *lit, size_t *len);

/* A malloc'd string of s repeated n times. */
char *tu_repeat(const char *s, size_t n);

#endif
