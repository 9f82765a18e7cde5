/*
 * An independent check of one dtm_format_double result, built on the C
 * library's correctly rounded strtod and "%.*e" (glibc rounds exactly).
 * Shared by tests/test_format.c and bench/bench_format.c.  The caller must
 * have LC_NUMERIC set to "C".
 *
 * fv_check() verifies, for a finite v and the text s the formatter wrote:
 *  - notation (spec 4.1): integers for integral v in [-2^63, 2^63), else plain
 *    for 1e-3 <= |v| < 1e7, else d.ddd E [-] x; at least one digit after the
 *    point, no superfluous zeros, upper-case E, no '+', no leading zeros;
 *  - round trip: strtod(s) is v, bit for bit (for the integer form: equal);
 *  - shortest: no decimal with one significant digit fewer reads back to v
 *    (checking the two such decimals around v is enough: the set of lengths
 *    that read back is closed upwards); Java's rule allows two digits where
 *    one would do for tiny subnormals;
 *  - closest: if the correctly rounded n-digit decimal reads back to v, s has
 *    exactly its digits, else s is its neighbour on the n-digit grid.
 */
#ifndef DTMETRICS_FMT_VERIFY_H
#define DTMETRICS_FMT_VERIFY_H

#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A decimal sig * 10^exp. */
typedef struct fv_dec {
    uint64_t sig;
    int exp;
} fv_dec;

static inline int fv_same_bits(double a, double b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

static inline unsigned fv_ndigits(uint64_t v)
{
    unsigned n = 1;
    while (v >= 10) {
        v /= 10;
        n++;
    }
    return n;
}

static inline fv_dec fv_trim(fv_dec d)
{
    while (d.sig != 0 && d.sig % 10 == 0) {
        d.sig /= 10;
        d.exp++;
    }
    return d;
}

/* Whether the decimal reads back to v (v > 0). */
static inline int fv_reads_back(fv_dec d, double v)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%" PRIu64 "e%d", d.sig, d.exp);
    return fv_same_bits(strtod(buf, NULL), v);
}

/* The correctly rounded decimal of v > 0 with n significant digits. */
static inline fv_dec fv_rounded(double v, unsigned n)
{
    char buf[64];
    fv_dec d = {0, 0};
    const char *p;
    int digits = 0;
    snprintf(buf, sizeof buf, "%.*e", (int)n - 1, v);
    for (p = buf; *p && *p != 'e'; p++) {
        if (*p >= '0' && *p <= '9') {
            d.sig = d.sig * 10 + (uint64_t)(*p - '0');
            digits++;
        }
    }
    d.exp = atoi(p + 1) - (digits - 1);
    return d;
}

/* Neighbours of an n-digit decimal on the n-digit grid. */
static inline fv_dec fv_up(fv_dec d)
{
    d.sig++;
    return d;
}

static inline fv_dec fv_down(fv_dec d, unsigned n)
{
    uint64_t p = 1;
    unsigned i;
    for (i = 1; i < n; i++)
        p *= 10;
    if (d.sig == p) { /* 1.000 -> 9.999 one decade lower */
        d.sig = p * 10 - 1;
        d.exp--;
    } else {
        d.sig--;
    }
    return d;
}

static inline int fv_eq(fv_dec a, fv_dec b)
{
    a = fv_trim(a);
    b = fv_trim(b);
    return a.sig == b.sig && a.exp == b.exp;
}

static inline int fv_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* NULL when s is right for v, else the rule it breaks. */
static inline const char *fv_check(double v, const char *s, size_t len)
{
    const char *p = s, *int_start, *frac_start, *frac_end;
    double a = fabs(v);
    fv_dec ours = {0, 0};
    unsigned n;
    int neg = v < 0;

    if (len != strlen(s) || len >= 32)
        return "length";
    if (isnan(v) || isinf(v))
        return "not finite";

    if (v >= -9223372036854775808.0 && v < 9223372036854775808.0 && v == (double)(int64_t)v) {
        char want[32];
        snprintf(want, sizeof want, "%" PRId64, (int64_t)v);
        if (strcmp(s, want) != 0)
            return "integral value not printed as that integer";
        if (strtod(s, NULL) != v)
            return "integer round trip";
        return NULL;
    }

    if ((*p == '-') != neg)
        return "sign";
    if (neg)
        p++;
    int_start = p;
    while (fv_is_digit(*p)) {
        ours.sig = ours.sig * 10 + (uint64_t)(*p - '0');
        p++;
    }
    if (p == int_start || *p != '.')
        return "no digit before the point";
    frac_start = ++p;
    while (fv_is_digit(*p)) {
        ours.sig = ours.sig * 10 + (uint64_t)(*p - '0');
        p++;
    }
    frac_end = p;
    if (frac_end == frac_start)
        return "no digit after the point";
    if (frac_end - int_start > 21)
        return "too many digits";
    ours.exp = -(int)(frac_end - frac_start);

    if (a >= 1e-3 && a < 1e7) {
        if (*p != '\0')
            return "plain notation expected";
        if (*int_start == '0' && p - int_start > 1 && int_start[1] != '.')
            return "leading zero";
        if (frac_end[-1] == '0')
            return "trailing zero after the point";
    } else {
        int x = 0;
        const char *xs;
        if (frac_start - int_start != 2 || *int_start == '0')
            return "computerized notation needs one non-zero digit before the point";
        if (frac_end[-1] == '0' && frac_end - frac_start > 1)
            return "trailing zero in the mantissa";
        if (*p++ != 'E')
            return "upper-case E expected";
        if (*p == '-')
            p++;
        xs = p;
        if (!fv_is_digit(*p) || *p == '0')
            return "exponent digits";
        while (fv_is_digit(*p))
            x = x * 10 + (*p++ - '0');
        if (*p != '\0')
            return "junk after the exponent";
        ours.exp += xs[-1] == '-' ? -x : x;
    }

    if (!fv_same_bits(strtod(s, NULL), v))
        return "round trip";

    ours = fv_trim(ours);
    n = fv_ndigits(ours.sig);
    if (n > 17)
        return "more than 17 digits";
    if (n >= 2 && !(n == 2 && a < DBL_MIN)) {
        fv_dec r = fv_rounded(a, n - 1);
        if (fv_reads_back(r, a) || fv_reads_back(fv_up(r), a) ||
            fv_reads_back(fv_down(r, n - 1), a))
            return "not the shortest";
    }
    {
        fv_dec r = fv_rounded(a, n);
        if (fv_reads_back(r, a)) {
            if (!fv_eq(r, ours))
                return "not the closest";
        } else if (!fv_eq(fv_up(r), ours) && !fv_eq(fv_down(r, n), ours)) {
            return "not next to the closest";
        }
    }
    return NULL;
}

/* ---- random doubles (splitmix64; deterministic for a seed) ---- */

static inline uint64_t fv_next(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* A finite double from random bits. */
static inline double fv_random_bits(uint64_t *state)
{
    for (;;) {
        uint64_t b = fv_next(state);
        double d;
        if (((b >> 52) & 0x7ff) == 0x7ff)
            continue;
        memcpy(&d, &b, sizeof d);
        return d;
    }
}

/* Uniform in [0, 1). */
static inline double fv_unit(uint64_t *state)
{
    return (double)(fv_next(state) >> 11) * (1.0 / 9007199254740992.0);
}

/* A "metric-like" value: up to 7 integer digits and 1 to 6 decimals. */
static inline double fv_metric(uint64_t *state)
{
    static const double scale[7] = {1, 10, 100, 1000, 10000, 100000, 1000000};
    uint64_t r = fv_next(state);
    unsigned decimals = 1 + (unsigned)(r % 6);
    double whole = (double)((r >> 8) % 10000000);
    double frac = (double)((r >> 32) % (uint64_t)scale[decimals]);
    double v = whole + frac / scale[decimals];
    return (r >> 63) ? -v : v;
}

#endif /* DTMETRICS_FMT_VERIFY_H */
