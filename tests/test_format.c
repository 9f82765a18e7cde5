/* The number formatter (spec 4.1, conformance cases V of 12.2). */
#include "config.h"

#include <float.h>
#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmt_verify.h"
#include "norm.h"
#include "testutil.h"

/* The same formatter built without unsigned __int128 (format_portable.c). */
size_t dtm__fmt_double_portable(double v, char *out);

/* ---- helpers ---- */

/* dtm_format_double into a static buffer; fails the test on an error. */
static const char *fmt(double v)
{
    static char buf[DTM_NUMBER_BUFSIZE];
    size_t len = 12345;
    dtm_status st = dtm_format_double(v, buf, sizeof buf, &len);
    ck_assert_msg(st == DTM_OK, "dtm_format_double(%a) returned %d", v, (int)st);
    ck_assert_uint_eq(len, strlen(buf));
    return buf;
}

/* Check one value with the independent verifier; the message names the
   value.  Check is only called on a failure: in fork mode every assertion
   costs a system call, and the families below check ~100,000 values. */
static void verify(double v)
{
    char buf[DTM_NUMBER_BUFSIZE] = "";
    size_t len = 0;
    const char *why = dtm_format_double(v, buf, sizeof buf, &len) == DTM_OK
                          ? fv_check(v, buf, len)
                          : "error status";
    if (why)
        ck_abort_msg("%a (%.17g) -> \"%s\": %s", v, v, buf, why);
}

static long env_long(const char *name)
{
    const char *s = getenv(name);
    return s ? strtol(s, NULL, 10) : 0;
}

/* ---- golden values ---- */

struct golden {
    double value;
    const char *expected;
};

/* Spec 12.2, V1 to V22 (V23 is the errors test below). */
static const struct golden spec_cases[] = {
    {0, "0"},                                                 /* V1 */
    {-0.0, "0"},                                              /* V2 */
    {1.00000000000000, "1"},                                  /* V3 */
    {1.23456789000, "1.23456789"},                            /* V4 */
    {1.1234567890123456789, "1.1234567890123457"},            /* V5 */
    {-1.23456789000, "-1.23456789"},                          /* V6 */
    {200.00000000, "200"},                                    /* V7 */
    {1e10, "10000000000"},                                    /* V8 */
    {1234567000000.0, "1234567000000"},                       /* V9 */
    {1234567000000.123, "1.234567000000123E12"},              /* V10 */
    {1.7976931348623157e308, "1.7976931348623157E308"},       /* V11 */
    {4.9e-324, "4.9E-324"},                                   /* V12 */
    {123.456, "123.456"},                                     /* V13 */
    {-123.456, "-123.456"},                                   /* V13 */
    {100.123456789, "100.123456789"},                         /* V14 */
    {0.001, "0.001"},                                         /* V15 */
    {0.0001, "1.0E-4"},                                       /* V16 */
    {1e-5, "1.0E-5"},                                         /* V17 */
    {12345678.9, "1.23456789E7"},                             /* V18 */
    {1e6, "1000000"},                                         /* V19 */
    {1e18, "1000000000000000000"},                            /* V20 */
    {1e20, "1.0E20"},                                         /* V21 */
    {0.30000000000000004, "0.30000000000000004"},             /* V22 */
};

/* More values whose rendering follows from the rules of spec 4.1. */
static const struct golden more_cases[] = {
    /* the asymmetric interval below a power of two */
    {5.9604644775390625e-8, "5.960464477539063E-8"}, /* 2^-24 */
    {-5.9604644775390625e-8, "-5.960464477539063E-8"},
    /* subnormals: two digits where one would do, the closer wins */
    {-4.9e-324, "-4.9E-324"},
    {9.8813129168249309e-324, "9.9E-324"}, /* 2 * 2^-1074 */
    {2.2250738585072009e-308, "2.225073858507201E-308"}, /* largest subnormal */
    {-2.2250738585072009e-308, "-2.225073858507201E-308"},
    {2.2250738585072014e-308, "2.2250738585072014E-308"}, /* smallest normal */
    {-1.7976931348623157e308, "-1.7976931348623157E308"},
    {8.98846567431158e307, "8.98846567431158E307"}, /* 2^1023 */
    /* around 10^-3 */
    {0.0009999999999999998, "9.999999999999998E-4"},
    {0.00099999, "9.9999E-4"},
    {-0.00099999, "-9.9999E-4"},
    {0.0010000000000000002, "0.0010000000000000002"},
    {0.00123, "0.00123"},
    /* around 10^7 */
    {9999999.999999998, "9999999.999999998"},
    {-9999999.999999998, "-9999999.999999998"},
    {9999999.5, "9999999.5"},
    {1e7, "10000000"},
    {10000000.5, "1.00000005E7"},
    {-10000000.5, "-1.00000005E7"},
    /* ordinary fractions */
    {0.1, "0.1"},
    {-0.5, "-0.5"},
    {1.0 / 3.0, "0.3333333333333333"},
    {2.0 / 3.0, "0.6666666666666666"},
    {100.5, "100.5"},
    {1e-7, "1.0E-7"},
    {1.5e300, "1.5E300"},
    {1e23, "1.0E23"},
    {5e-310, "5.0E-310"},
    /* integral values near 2^53 */
    {9007199254740992.0, "9007199254740992"},   /* 2^53 */
    {9007199254740994.0, "9007199254740994"},   /* 2^53 + 2 */
    {9007199254740991.0, "9007199254740991"},   /* 2^53 - 1 */
    {-9007199254740992.0, "-9007199254740992"},
    {-9007199254740991.0, "-9007199254740991"},
    {2251799813685248.5, "2.2517998136852485E15"}, /* 2^51 + 1/2 */
    {-4503599627370495.5, "-4.5035996273704955E15"}, /* -(2^52 - 1/2) */
    /* integral values near 2^63 (2^63 itself is deviation D6) */
    {9223372036854774784.0, "9223372036854774784"}, /* 2^63 - 1024 */
    {-9223372036854775808.0, "-9223372036854775808"}, /* -2^63 */
    {-9223372036854777856.0, "-9.223372036854778E18"}, /* below -2^63 */
    {18446744073709551616.0, "1.8446744073709552E19"}, /* 2^64 */
    {1e19, "1.0E19"},
    {4611686018427387904.0, "4611686018427387904"}, /* 2^62 */
};

START_TEST(spec_v_cases)
{
    const struct golden *g = &spec_cases[_i];
    ck_assert_msg(strcmp(fmt(g->value), g->expected) == 0,
                  "V case %d: %.17g -> \"%s\", want \"%s\"", _i, g->value, fmt(g->value),
                  g->expected);
    verify(g->value);
}
END_TEST

START_TEST(more_golden_cases)
{
    const struct golden *g = &more_cases[_i];
    ck_assert_msg(strcmp(fmt(g->value), g->expected) == 0, "%a: \"%s\", want \"%s\"", g->value,
                  fmt(g->value), g->expected);
    verify(g->value);
}
END_TEST

START_TEST(two_to_the_minus_24)
{
    ck_assert_str_eq(fmt(ldexp(1.0, -24)), "5.960464477539063E-8");
    /* the correctly rounded 16-digit value does not read back ... */
    ck_assert(strtod("5.960464477539062E-8", NULL) != ldexp(1.0, -24));
    /* ... and the 17-digit exact one is longer */
    ck_assert(strtod("5.9604644775390625E-8", NULL) == ldexp(1.0, -24));
}
END_TEST

START_TEST(non_finite_rejected)
{
    const double bad[] = {NAN, -NAN, INFINITY, -INFINITY};
    char buf[DTM_NUMBER_BUFSIZE];
    size_t i, len;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memcpy(buf, "junk", 5);
        len = 99;
        ck_assert_int_eq(dtm_format_double(bad[i], buf, sizeof buf, &len), DTM_EVALUE);
        ck_assert_str_eq(buf, "");
        ck_assert_uint_eq(len, 0);
        len = 99;
        ck_assert_int_eq(dtm_format_double(bad[i], NULL, 0, &len), DTM_EVALUE);
    }
    /* the internal writer stays memory-safe outside its contract */
    ck_assert_uint_eq(dtm__fmt_double(INFINITY, buf), 8);
    ck_assert_uint_eq(dtm__fmt_double(-INFINITY, buf), 9);
    ck_assert_uint_eq(dtm__fmt_double(NAN, buf), 3);
}
END_TEST

/* ---- systematic families ---- */

START_TEST(powers_of_ten)
{
    int k;
    for (k = -320; k <= 308; k++) {
        char lit[16], want[48];
        double v;
        snprintf(lit, sizeof lit, "1e%d", k);
        v = strtod(lit, NULL);
        if (k >= 0 && k <= 18) {
            want[0] = '1';
            memset(want + 1, '0', (size_t)k);
            want[k + 1] = '\0';
        } else if (k < 0 && k >= -3) {
            memcpy(want, "0.00", 2 + (size_t)(-k - 1));
            memcpy(want + 2 + (-k - 1), "1", 2);
        } else {
            snprintf(want, sizeof want, "1.0E%d", k);
        }
        ck_assert_msg(strcmp(fmt(v), want) == 0, "1e%d -> \"%s\", want \"%s\"", k, fmt(v), want);
        verify(v);
        verify(-v);
        verify(nextafter(v, 0));
        verify(nextafter(v, INFINITY));
    }
    /* the two smallest "powers of ten" are 2 and 20 units of 2^-1074 */
    ck_assert_str_eq(fmt(1e-323), "9.9E-324");
    ck_assert_str_eq(fmt(1e-322), "9.9E-323");
    verify(1e-323);
    verify(1e-322);
}
END_TEST

START_TEST(powers_of_two)
{
    int i;
    for (i = -1074; i <= 1023; i++) {
        double v = ldexp(1.0, i);
        verify(v);
        verify(-v);
        if (i > -1074)
            verify(nextafter(v, 0));
        verify(nextafter(v, INFINITY));
        /* 3 * 2^(i-1) and the largest significand of this binade */
        if (i > -1074 && i < 1023) {
            verify(v * 1.5);
            verify(nextafter(v * 2, 0));
        }
    }
}
END_TEST

START_TEST(subnormals)
{
    uint64_t c;
    uint64_t state = 7;
    for (c = 1; c <= 3000; c++) {
        double v;
        memcpy(&v, &c, sizeof v);
        verify(v);
        verify(-v);
    }
    for (c = 0; c < 20000; c++) {
        uint64_t bits = fv_next(&state) & ((UINT64_C(1) << 52) - 1);
        double v;
        memcpy(&v, &bits, sizeof v);
        if (v != 0)
            verify((c & 1) ? -v : v);
    }
}
END_TEST

START_TEST(notation_boundaries)
{
    static const double edges[] = {1e-3, 1e7, 9999999.999, 0.00099999, 1e-4, 1e6, 12345678.9};
    size_t e;
    int i;
    for (e = 0; e < sizeof edges / sizeof edges[0]; e++) {
        double up = edges[e], down = edges[e];
        for (i = 0; i < 50; i++) {
            verify(up);
            verify(-up);
            verify(down);
            verify(-down);
            up = nextafter(up, INFINITY);
            down = nextafter(down, 0);
        }
    }
    /* the decision is made on the value: plain from 10^-3, E from 10^7 */
    ck_assert_ptr_null(strchr(fmt(0.001), 'E'));
    ck_assert_ptr_nonnull(strchr(fmt(nextafter(0.001, 0)), 'E'));
    ck_assert_ptr_null(strchr(fmt(nextafter(1e7, 0)), 'E'));
    ck_assert_ptr_nonnull(strchr(fmt(nextafter(1e7, INFINITY)), 'E'));
}
END_TEST

START_TEST(integral_values)
{
    static const double bases[] = {9007199254740992.0, 9223372036854775808.0, 4294967296.0, 1e15,
                                   1e16, 1e17, 1e18, 1.0, 1e7};
    size_t b;
    int i;
    for (b = 0; b < sizeof bases / sizeof bases[0]; b++) {
        double up = bases[b], down = bases[b];
        for (i = 0; i < 40; i++) {
            if (up != 9223372036854775808.0) { /* D6 */
                verify(up);
                verify(-up);
            }
            if (down != 9223372036854775808.0) {
                verify(down);
                verify(-down);
            }
            up = nextafter(up, INFINITY);
            down = nextafter(down, 0);
        }
    }
    /* every integral double in range prints as the integer itself */
    for (i = 0; i < 63; i++) {
        double v = ldexp(1.0, i);
        char want[32];
        snprintf(want, sizeof want, "%" PRId64, (int64_t)v);
        ck_assert_str_eq(fmt(v), want);
        snprintf(want, sizeof want, "%" PRId64, -(int64_t)v);
        ck_assert_str_eq(fmt(-v), want);
    }
    ck_assert_str_eq(fmt(-ldexp(1.0, 63)), "-9223372036854775808");
}
END_TEST

/* ---- the random property test ---- */

struct failure_log {
    long failures;
    double first;
    char first_text[DTM_NUMBER_BUFSIZE];
    const char *first_why;
};

static void check_one(double v, struct failure_log *log)
{
    char buf[DTM_NUMBER_BUFSIZE];
    size_t len = 0;
    const char *why;
    if (dtm_format_double(v, buf, sizeof buf, &len) != DTM_OK)
        why = "status";
    else
        why = fv_check(v, buf, len);
    if (why) {
        if (log->failures++ == 0) {
            log->first = v;
            memcpy(log->first_text, buf, sizeof buf);
            log->first_why = why;
        }
    }
}

START_TEST(random_round_trip_shortest)
{
    long n = env_long("DTM_LONG_TESTS") == 1 ? 10000000 : 200000;
    long i;
    uint64_t state = UINT64_C(0x5eed0f0f0f0f);
    struct failure_log log = {0, 0, "", NULL};

    for (i = 0; i < n; i++)
        check_one(fv_random_bits(&state), &log);
    /* uniformly drawn values at several magnitudes, and metric-like ones */
    for (i = 0; i < n / 2; i++) {
        double u = fv_unit(&state);
        int mag = (int)(fv_next(&state) % 41) - 20;
        check_one(u, &log);
        check_one(-u * pow(10.0, mag), &log);
        check_one(fv_metric(&state), &log);
    }
    ck_assert_msg(log.failures == 0, "%ld failures; first %a (%.17g) -> \"%s\": %s", log.failures,
                  log.first, log.first, log.first_text, log.first_why);
}
END_TEST

static void compare_portable(double v)
{
    char a[DTM_NUMBER_BUFSIZE], b[DTM_NUMBER_BUFSIZE];
    size_t la = dtm__fmt_double(v, a), lb = dtm__fmt_double_portable(v, b);
    if (la != lb || memcmp(a, b, la) != 0)
        ck_abort_msg("%a: \"%.*s\" vs \"%.*s\"", v, (int)la, a, (int)lb, b);
}

START_TEST(portable_code_paths_agree)
{
    uint64_t state = 42;
    size_t i;
    int k, d;
    for (i = 0; i < sizeof spec_cases / sizeof spec_cases[0]; i++)
        compare_portable(spec_cases[i].value);
    for (i = 0; i < sizeof more_cases / sizeof more_cases[0]; i++)
        compare_portable(more_cases[i].value);
    /* short digit strings in every notation: d * 10^k */
    for (k = -325; k <= 308; k++) {
        for (d = 1; d <= 9; d++) {
            char lit[24];
            double v;
            snprintf(lit, sizeof lit, "%de%d", d, k);
            v = strtod(lit, NULL);
            compare_portable(v);
            compare_portable(-v);
            compare_portable(v * 1.25);
        }
    }
    for (i = 0; i < 200000; i++)
        compare_portable((i & 1) ? fv_random_bits(&state) : fv_metric(&state));
}
END_TEST

/* ---- the snprintf convention ---- */

START_TEST(double_buffer_convention)
{
    char buf[16];
    size_t len;

    len = 0;
    ck_assert_int_eq(dtm_format_double(1.5, buf, 4, &len), DTM_OK);
    ck_assert_str_eq(buf, "1.5");
    ck_assert_uint_eq(len, 3);

    memcpy(buf, "xxxxxxx", 8);
    len = 0;
    ck_assert_int_eq(dtm_format_double(1.5, buf, 3, &len), DTM_ETOOSMALL);
    ck_assert_uint_eq(len, 3);
    ck_assert_str_eq(buf, "");

    len = 0;
    ck_assert_int_eq(dtm_format_double(-1.7976931348623157e308, NULL, 0, &len), DTM_ETOOSMALL);
    ck_assert_uint_eq(len, strlen("-1.7976931348623157E308"));

    memcpy(buf, "xxxxxxx", 8);
    ck_assert_int_eq(dtm_format_double(2.5, buf, 0, &len), DTM_ETOOSMALL);
    ck_assert_uint_eq(len, 3);
    ck_assert_int_eq(buf[0], 'x');

    ck_assert_int_eq(dtm_format_double(1.5, buf, sizeof buf, NULL), DTM_EINVAL);
    ck_assert_int_eq(dtm_format_double(1.5, NULL, 5, &len), DTM_EINVAL);
    ck_assert_int_eq(dtm_format_double(NAN, buf, sizeof buf, NULL), DTM_EINVAL);

    /* exactly enough room, and one byte less */
    len = 0;
    ck_assert_int_eq(dtm_format_double(1e-300, buf, 9, &len), DTM_OK);
    ck_assert_str_eq(buf, "1.0E-300");
    ck_assert_int_eq(dtm_format_double(1.5e-300, buf, 8, &len), DTM_ETOOSMALL);
    ck_assert_uint_eq(len, 8);
}
END_TEST

START_TEST(bytes_after_the_nul_untouched)
{
    /* exactly len + 1 bytes are written, like snprintf */
    static const double values[] = {1.5, -1.7976931348623157e308, 123.456, 1e-5, 0, 42};
    size_t i, j;
    for (i = 0; i < sizeof values / sizeof values[0]; i++) {
        char buf[48];
        size_t len = 0;
        memset(buf, '#', sizeof buf);
        ck_assert_int_eq(dtm_format_double(values[i], buf, sizeof buf, &len), DTM_OK);
        ck_assert_int_eq(buf[len], '\0');
        for (j = len + 1; j < sizeof buf; j++)
            ck_assert_int_eq(buf[j], '#');
        memset(buf, '#', sizeof buf);
        ck_assert_int_eq(dtm_format_int64((int64_t)i * -123456789, buf, sizeof buf, &len), DTM_OK);
        for (j = len + 1; j < sizeof buf; j++)
            ck_assert_int_eq(buf[j], '#');
    }
}
END_TEST

START_TEST(double_longest_fits)
{
    /* the longest outputs fit DTM_NUMBER_BUFSIZE with room to spare */
    static const double longest[] = {-2.2250738585072014e-308, -1.2345678901234567e-300,
                                     -0.0012345678901234567, -1234567.8901234567,
                                     -9223372036854775808.0};
    size_t i;
    for (i = 0; i < sizeof longest / sizeof longest[0]; i++) {
        char buf[DTM_NUMBER_BUFSIZE];
        size_t len = 0, len2 = 0;
        ck_assert_int_eq(dtm_format_double(longest[i], buf, sizeof buf, &len), DTM_OK);
        ck_assert_uint_lt(len, DTM_NUMBER_BUFSIZE);
        ck_assert_int_eq(dtm_format_double(longest[i], buf, len + 1, &len2), DTM_OK);
        ck_assert_uint_eq(len, len2);
        ck_assert_int_eq(dtm_format_double(longest[i], buf, len, &len2), DTM_ETOOSMALL);
        ck_assert_uint_eq(len, len2);
        verify(longest[i]);
    }
}
END_TEST

/* ---- integers ---- */

static void check_int64(int64_t v)
{
    char buf[DTM_NUMBER_BUFSIZE], want[32];
    size_t len = 0;
    snprintf(want, sizeof want, "%" PRId64, v);
    ck_assert_int_eq(dtm_format_int64(v, buf, sizeof buf, &len), DTM_OK);
    ck_assert_str_eq(buf, want);
    ck_assert_uint_eq(len, strlen(want));
}

START_TEST(int64_values)
{
    int64_t p = 1, first = 0;
    long i, mismatches = 0;
    uint64_t state = 99;
    check_int64(0);
    check_int64(1);
    check_int64(-1);
    check_int64(INT64_MAX);
    check_int64(INT64_MIN);
    check_int64(INT64_MIN + 1);
    for (i = 0; i < 19; i++) {
        check_int64(p);
        check_int64(p - 1);
        check_int64(p + 1);
        check_int64(-p);
        check_int64(-p + 1);
        check_int64(-p - 1);
        if (i < 18)
            p *= 10;
    }
    /* random values: one assertion at the end (an assertion per value
       costs a system call in Check's fork mode) */
    for (i = 0; i < 200000; i++) {
        uint64_t r = fv_next(&state);
        int64_t v = (i & 1) ? (int64_t)r : (int64_t)(r >> (r & 63));
        char buf[DTM_NUMBER_BUFSIZE], want[32];
        size_t len = 0;
        snprintf(want, sizeof want, "%" PRId64, v);
        if (dtm_format_int64(v, buf, sizeof buf, &len) != DTM_OK || strcmp(buf, want) != 0 ||
            len != strlen(want)) {
            if (mismatches++ == 0)
                first = v;
        }
    }
    ck_assert_msg(mismatches == 0, "%ld mismatches, first %" PRId64, mismatches, first);
}
END_TEST

START_TEST(int64_golden)
{
    char buf[DTM_NUMBER_BUFSIZE];
    size_t len;
    ck_assert_int_eq(dtm_format_int64(INT64_MIN, buf, sizeof buf, &len), DTM_OK);
    ck_assert_str_eq(buf, "-9223372036854775808");
    ck_assert_uint_eq(len, 20);
    ck_assert_int_eq(dtm_format_int64(INT64_MAX, buf, sizeof buf, &len), DTM_OK);
    ck_assert_str_eq(buf, "9223372036854775807");
    ck_assert_int_eq(dtm_format_int64(-42, buf, sizeof buf, &len), DTM_OK);
    ck_assert_str_eq(buf, "-42");
    ck_assert_int_eq(dtm_format_int64(0, buf, sizeof buf, &len), DTM_OK);
    ck_assert_str_eq(buf, "0");
    ck_assert_uint_eq(len, 1);
}
END_TEST

START_TEST(int64_buffer_convention)
{
    char buf[8];
    size_t len = 0;
    memcpy(buf, "xxxxxxx", 8);
    ck_assert_int_eq(dtm_format_int64(-123456, buf, 7, &len), DTM_ETOOSMALL);
    ck_assert_uint_eq(len, 7);
    ck_assert_str_eq(buf, "");
    ck_assert_int_eq(dtm_format_int64(-123456, buf, 8, &len), DTM_OK);
    ck_assert_str_eq(buf, "-123456");
    ck_assert_int_eq(dtm_format_int64(INT64_MIN, NULL, 0, &len), DTM_ETOOSMALL);
    ck_assert_uint_eq(len, 20);
    ck_assert_int_eq(dtm_format_int64(1, buf, sizeof buf, NULL), DTM_EINVAL);
    ck_assert_int_eq(dtm_format_int64(1, NULL, 1, &len), DTM_EINVAL);
}
END_TEST

START_TEST(uint64_internal)
{
    char buf[DTM_NUMBER_BUFSIZE], want[32];
    uint64_t p = 1;
    size_t n;
    int i;
    for (i = 0; i < 20; i++) {
        uint64_t vals[3];
        int j;
        vals[0] = p;
        vals[1] = p - 1;
        vals[2] = p + 1;
        for (j = 0; j < 3; j++) {
            n = dtm__fmt_uint64(vals[j], buf);
            snprintf(want, sizeof want, "%" PRIu64, vals[j]);
            ck_assert_uint_eq(n, strlen(want));
            ck_assert_int_eq(memcmp(buf, want, n), 0);
        }
        if (i < 19)
            p *= 10;
    }
    n = dtm__fmt_uint64(UINT64_MAX, buf);
    ck_assert_uint_eq(n, 20);
    ck_assert_int_eq(memcmp(buf, "18446744073709551615", 20), 0);
}
END_TEST

/* ---- comma-decimal locale ---- */

static const char *use_comma_locale(void)
{
    static const char *names[] = {"de_DE.UTF-8", "fr_FR.UTF-8", "de_DE.utf8", "fr_FR.utf8",
                                  "de_DE",       "fr_FR"};
    size_t i;
    for (i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (setlocale(LC_ALL, names[i]) && strcmp(localeconv()->decimal_point, ",") == 0)
            return names[i];
    }
    setlocale(LC_ALL, "C");
    return NULL;
}

START_TEST(comma_locale)
{
    enum { RANDOM = 20000 };
    size_t count = sizeof spec_cases / sizeof spec_cases[0] + RANDOM;
    double *values = malloc(count * sizeof *values);
    char(*texts)[DTM_NUMBER_BUFSIZE] = malloc(count * sizeof *texts);
    size_t *lens = malloc(count * sizeof *lens);
    const char *name = use_comma_locale();
    uint64_t state = 2024;
    char probe[16];
    size_t i;

    ck_assert_ptr_nonnull(values);
    ck_assert_ptr_nonnull(texts);
    ck_assert_ptr_nonnull(lens);
    if (!name) {
        if (env_long("DTM_REQUIRE_LOCALE") == 1)
            ck_abort_msg("no comma-decimal locale (de_DE.UTF-8, fr_FR.UTF-8) is installed");
        fprintf(stderr, "test_format: notice: no comma-decimal locale installed; "
                        "locale test not run (set DTM_REQUIRE_LOCALE=1 to make this fail)\n");
        free(values);
        free(texts);
        free(lens);
        return;
    }
    /* printf now writes commas: the test below means something */
    snprintf(probe, sizeof probe, "%.1f", 1.5);
    ck_assert_str_eq(probe, "1,5");

    for (i = 0; i < count; i++) {
        size_t j = i - sizeof spec_cases / sizeof spec_cases[0];
        values[i] = i < sizeof spec_cases / sizeof spec_cases[0] ? spec_cases[i].value
                    : (j & 1) ? fv_random_bits(&state)
                              : fv_metric(&state);
        ck_assert_int_eq(dtm_format_double(values[i], texts[i], DTM_NUMBER_BUFSIZE, &lens[i]),
                         DTM_OK);
        ck_assert_msg(strchr(texts[i], ',') == NULL, "%s: \"%s\"", name, texts[i]);
        if (i < sizeof spec_cases / sizeof spec_cases[0])
            ck_assert_str_eq(texts[i], spec_cases[i].expected);
    }
    /* the verifier's strtod/printf need the C conventions again */
    setlocale(LC_NUMERIC, "C");
    for (i = 0; i < count; i++) {
        const char *why = fv_check(values[i], texts[i], lens[i]);
        ck_assert_msg(why == NULL, "%s: %a -> \"%s\": %s", name, values[i], texts[i], why);
    }
    setlocale(LC_ALL, "C");
    free(values);
    free(texts);
    free(lens);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("format");
    int long_run = env_long("DTM_LONG_TESTS") == 1;
    TCase *tc;

    tc = tu_tcase("golden", 5);
    tcase_add_loop_test(tc, spec_v_cases, 0, (int)(sizeof spec_cases / sizeof spec_cases[0]));
    tcase_add_loop_test(tc, more_golden_cases, 0,
                        (int)(sizeof more_cases / sizeof more_cases[0]));
    tcase_add_test(tc, two_to_the_minus_24);
    tcase_add_test(tc, non_finite_rejected);
    suite_add_tcase(s, tc);

    tc = tu_tcase("families", 60);
    tcase_add_test(tc, powers_of_ten);
    tcase_add_test(tc, powers_of_two);
    tcase_add_test(tc, subnormals);
    tcase_add_test(tc, notation_boundaries);
    tcase_add_test(tc, integral_values);
    suite_add_tcase(s, tc);

    tc = tu_tcase("random", long_run ? 3600 : 60);
    tcase_add_test(tc, random_round_trip_shortest);
    tcase_add_test(tc, portable_code_paths_agree);
    suite_add_tcase(s, tc);

    tc = tu_tcase("buffers", 5);
    tcase_add_test(tc, double_buffer_convention);
    tcase_add_test(tc, double_longest_fits);
    tcase_add_test(tc, bytes_after_the_nul_untouched);
    suite_add_tcase(s, tc);

    tc = tu_tcase("integers", 20);
    tcase_add_test(tc, int64_values);
    tcase_add_test(tc, int64_golden);
    tcase_add_test(tc, int64_buffer_convention);
    tcase_add_test(tc, uint64_internal);
    suite_add_tcase(s, tc);

    tc = tu_tcase("locale", 30);
    tcase_add_test(tc, comma_locale);
    suite_add_tcase(s, tc);

    return tu_run_suite(s);
}
