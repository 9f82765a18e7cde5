/*
 * Protocol layer: exact reading of the numbers of the line protocol.
 *
 * The syntax is checked here, character by character (no locale).  The value
 * of a double is computed exactly:
 *  - Clinger's fast path when the significand has at most 15 digits and the
 *    power of ten is at most 22: both are exact doubles, so the one IEEE
 *    multiplication or division rounds correctly;
 *  - otherwise strtod_l on a normalized copy "[-]DIGITSe[-]EXP" of at most
 *    781 significant digits.  Digits past the 780th are replaced by one
 *    sticky '1' when any of them is non-zero: every rounding boundary of a
 *    double has at most 767 significant digits, so the shortened number
 *    lies strictly on the same side of each boundary as the original.
 * strtod_l gets a "C" locale object that is created on first use and
 * published with an atomic compare-and-swap (a loser frees its copy; a
 * failed creation is retried on the next call).  That immutable handle is
 * the only process-wide state of the module, and the reason LC_NUMERIC never
 * matters here.  (strtod itself would read LC_NUMERIC.)
 */
#define _GNU_SOURCE 1 /* strtod_l in <stdlib.h>, newlocale in <locale.h> */
#include "config.h"

#include <float.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "parsenum.h"

#define NUM_MAX_DIGITS 781 /* significant digits handed to strtod_l */
#define NUM_EXP_CLAMP 99999 /* beyond this, any 781-digit number is 0 or Inf */

static int is_digit(unsigned ch) { return ch - '0' < 10u; }

static locale_t c_locale(void)
{
    static locale_t cached; /* published once, never changed or freed */
    locale_t l = __atomic_load_n(&cached, __ATOMIC_ACQUIRE);
    locale_t expected = (locale_t)0;
    if (l != (locale_t)0)
        return l;
    l = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    if (l == (locale_t)0)
        return l;
    if (!__atomic_compare_exchange_n(&cached, &expected, l, 0, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE)) {
        freelocale(l); /* another thread won; use its handle */
        l = expected;
    }
    return l;
}

int dtm__starts_nan_inf(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    static const char nan[] = "nan", inf[] = "inf";
    int is_nan = 1, is_inf = 1;
    size_t k;
    if (n < 3)
        return 0;
    for (k = 0; k < 3; k++) {
        unsigned ch = s[k] | 0x20; /* ASCII letters only: fold to lower case */
        is_nan &= ch == (unsigned char)nan[k];
        is_inf &= ch == (unsigned char)inf[k];
    }
    return is_nan || is_inf;
}

/* Reason and offset of a syntax error. */
static dtm_status bad(const char **why, size_t *why_at, const char *reason, size_t at)
{
    *why = reason;
    *why_at = at;
    return DTM_ESYNTAX;
}

/* Write "e[-]EXP" at buf[n..] and return the new length. */
static size_t put_exponent(char *buf, size_t n, int64_t e)
{
    char tmp[8];
    size_t t = 0;
    buf[n++] = 'e';
    if (e < 0) {
        buf[n++] = '-';
        e = -e;
    }
    do {
        tmp[t++] = (char)('0' + e % 10);
        e /= 10;
    } while (e > 0);
    while (t > 0)
        buf[n++] = tmp[--t];
    return n;
}

dtm_status dtm__parse_double(const char *str, size_t len, double *out, const char **why,
                             size_t *why_at)
{
    static const double exact_pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                         1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                         1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0, int_beg, int_end, frac_beg, frac_end, nd = 0, dropped = 0, n = 0, k;
    int neg = 0, sticky = 0;
    int64_t exp10 = 0, scale;
    char buf[NUM_MAX_DIGITS + 16]; /* sign, digits, "e-99999", NUL */
    locale_t loc;
    char *endp;
    double v;

    if (len == 0)
        return bad(why, why_at, "number is missing", 0);
    if (s[i] == '+' || s[i] == '-') {
        neg = s[i] == '-';
        i++;
    }
    if (dtm__starts_nan_inf(str + i, len - i))
        return bad(why, why_at, "NaN and Infinity are not allowed", i);
    int_beg = i;
    while (i < len && is_digit(s[i]))
        i++;
    int_end = i;
    if (i < len && (s[i] == 'x' || s[i] == 'X') && int_end - int_beg == 1 && s[int_beg] == '0')
        return bad(why, why_at, "hexadecimal numbers are not allowed", i);
    frac_beg = frac_end = i;
    if (i < len && s[i] == '.') {
        frac_beg = ++i;
        while (i < len && is_digit(s[i]))
            i++;
        frac_end = i;
    }
    if (int_end == int_beg && frac_end == frac_beg)
        return bad(why, why_at, "number has no digits", int_beg);
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        size_t e0;
        int eneg = 0;
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-')) {
            eneg = s[i] == '-';
            i++;
        }
        e0 = i;
        while (i < len && is_digit(s[i])) {
            if (exp10 < 1000000000) /* saturate: far beyond any finite result */
                exp10 = exp10 * 10 + (s[i] - '0');
            i++;
        }
        if (i == e0)
            return bad(why, why_at, "number has no digits in its exponent", i);
        if (eneg)
            exp10 = -exp10;
    }
    if (i != len)
        return bad(why, why_at, "number has an invalid character", i);

    /* value = DIGITS * 10^scale, DIGITS without leading and trailing zeros */
    if (neg)
        buf[n++] = '-';
    scale = exp10 - (int64_t)(frac_end - frac_beg);
    for (k = int_beg; k < frac_end; k++) {
        unsigned d = s[k];
        if (k == int_end)
            continue; /* the '.' */
        if (nd == 0 && d == '0')
            continue;
        if (nd < NUM_MAX_DIGITS - 1) {
            buf[n++] = (char)d;
            nd++;
        } else {
            dropped++;
            sticky |= d != '0';
        }
    }
    scale += (int64_t)dropped;
    if (sticky) {
        buf[n++] = '1';
        nd++;
        scale--;
    } else {
        while (nd > 0 && buf[n - 1] == '0') {
            n--;
            nd--;
            scale++;
        }
    }
    if (nd == 0) {
        *out = neg ? -0.0 : 0.0;
        return DTM_OK;
    }
#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD == 0
    if (nd <= 15 && scale >= -22 && scale <= 22) {
        uint64_t w = 0;
        for (k = (size_t)neg; k < n; k++)
            w = w * 10 + (uint64_t)(buf[k] - '0');
        v = (double)w; /* < 10^15 < 2^53: exact */
        v = scale >= 0 ? v * exact_pow10[scale] : v / exact_pow10[-scale];
        *out = neg ? -v : v;
        return DTM_OK;
    }
#else
    (void)exact_pow10; /* excess precision would round twice: always use strtod_l */
#endif
    if (scale > NUM_EXP_CLAMP)
        scale = NUM_EXP_CLAMP;
    else if (scale < -NUM_EXP_CLAMP)
        scale = -NUM_EXP_CLAMP;
    n = put_exponent(buf, n, scale);
    buf[n] = '\0';
    loc = c_locale();
    if (loc == (locale_t)0) {
        *why = "no C locale to convert numbers (out of memory)";
        *why_at = 0;
        return DTM_ENOMEM;
    }
    v = strtod_l(buf, &endp, loc);
    if (endp != buf + n)
        return bad(why, why_at, "number could not be converted", 0); /* cannot happen */
    if (v > DBL_MAX || v < -DBL_MAX)
        return bad(why, why_at, "number is out of range", 0);
    *out = v;
    return DTM_OK;
}

dtm_status dtm__parse_int64(const char *str, size_t len, int allow_sign, int64_t *out,
                            size_t *bad_at)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    int neg = 0;
    uint64_t v = 0, lim;
    if (allow_sign && len > 0 && (s[0] == '+' || s[0] == '-')) {
        neg = s[0] == '-';
        i++;
    }
    if (i == len) {
        *bad_at = i;
        return DTM_ESYNTAX;
    }
    lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; i < len; i++) {
        unsigned d = (unsigned)s[i] - '0';
        if (d >= 10) {
            *bad_at = i;
            return DTM_ESYNTAX;
        }
        if (v > (lim - d) / 10) {
            /* keep looking for a bad character: that is the better reason */
            for (i++; i < len; i++) {
                if ((unsigned)s[i] - '0' >= 10) {
                    *bad_at = i;
                    return DTM_ESYNTAX;
                }
            }
            *bad_at = 0;
            return DTM_EVALUE;
        }
        v = v * 10 + d;
    }
    if (neg)
        *out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    else
        *out = (int64_t)v;
    return DTM_OK;
}
