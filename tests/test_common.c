/* Status codes, version and the allocator hooks. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "testutil.h"

START_TEST(strerror_every_code)
{
    int c;
    for (c = 0; c >= DTM_EREJECTED; c--) {
        const char *m = dtm_strerror((dtm_status)c);
        ck_assert_ptr_nonnull(m);
        ck_assert_str_ne(m, "unknown status");
    }
    ck_assert_str_eq(dtm_strerror((dtm_status)-1000), "unknown status");
    ck_assert_str_eq(dtm_strerror((dtm_status)5), "unknown status");
}
END_TEST

START_TEST(version_matches_header)
{
    ck_assert_str_eq(dtm_version(), DTM_VERSION_STRING);
}
END_TEST

START_TEST(allocator_partial_is_rejected)
{
    ck_assert_int_eq(dtm_set_allocator(malloc, NULL, NULL), DTM_EINVAL);
    ck_assert_int_eq(dtm_set_allocator(NULL, NULL, NULL), DTM_OK);
}
END_TEST

START_TEST(allocator_hooks_are_used)
{
    char *p;
    tu_alloc_install();
    p = dtm__strdup("abc");
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(tu_alloc_live(), 1);
    dtm__free(p);
    ck_assert_int_eq(tu_alloc_live(), 0);
    tu_alloc_fail_after(0);
    ck_assert_ptr_null(dtm__strdup("abc"));
    ck_assert_ptr_null(dtm__calloc(SIZE_MAX / 2, 4));
    tu_alloc_uninstall();
}
END_TEST

START_TEST(writer_reports_needed_length)
{
    char buf[4];
    dtm__writer w;
    size_t len = 99;
    dtm__writer_init(&w, buf, sizeof buf);
    dtm__writer_put(&w, "ab", 2, 2);
    dtm__writer_putc(&w, 'c');
    ck_assert_int_eq(dtm__writer_finish(&w, &len), DTM_OK);
    ck_assert_str_eq(buf, "abc");
    ck_assert_uint_eq(len, 3);
    dtm__writer_init(&w, buf, sizeof buf);
    dtm__writer_put(&w, "abcd", 4, 4);
    dtm__writer_putc(&w, 'e');
    ck_assert_int_eq(dtm__writer_finish(&w, &len), DTM_ETOOSMALL);
    ck_assert_uint_eq(len, 5);
    ck_assert_str_eq(buf, "");
    dtm__writer_init(&w, NULL, 0);
    ck_assert_int_eq(dtm__writer_finish(&w, &len), DTM_ETOOSMALL);
    ck_assert_uint_eq(len, 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("common");
    TCase *tc = tu_tcase("core", 5);
    tcase_add_test(tc, strerror_every_code);
    tcase_add_test(tc, version_matches_header);
    tcase_add_test(tc, allocator_partial_is_rejected);
    tcase_add_test(tc, allocator_hooks_are_used);
    tcase_add_test(tc, writer_reports_needed_length);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
