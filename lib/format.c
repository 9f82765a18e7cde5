/*
 * Number formatter of the line protocol (spec 4.1): doubles and 64-bit
 * integers as decimal text.
 *
 * Why our own code and not printf/strtod:
 *  - Locale: printf takes its decimal separator from LC_NUMERIC, so a program
 *    that calls setlocale(LC_ALL, "") under a German or French locale would
 *    send "0,5", which the server rejects (and another thread may change the
 *    locale while we format).  Nothing here reads the locale.
 *  - Notation: the protocol wants Java's rendering ("1.0E-4", "1.23456789E7",
 *    integers without a point); no printf conversion produces it, and fixing
 *    up "%g" output is fragile.
 *  - Digits: the protocol wants the shortest digits that read back to the same
 *    double, and among those the closest.  "%.17g" is not shortest, and a
 *    loop over "%.{n}e" is slow and wrong for powers of two, whose rounding
 *    interval is asymmetric (2^-24 must give 5.960464477539063E-8).
 *  - Speed: the code below needs six 64x64-bit multiplications and no
 *    big-number arithmetic; it is about ten times faster than one snprintf
 *    call (bench/bench_format), and the serializer calls it for every value.
 *
 * The digits come from the Schubfach algorithm (R. Giulietti, "The Schubfach
 * way to render doubles", 2020-2021), which yields exactly what Java 19+'s
 * Double.toString yields, including its one special rule: when a single digit
 * would do, two digits are allowed and the closer value wins (4.9E-324).
 *
 * For v = c * 2^q and the rounding interval [vl, vr] of v (between the
 * midpoints to its neighbours; closed when c is even), pick k with
 * 10^k <= vr - vl < 10^(k+1) and scale everything by 10^-k: the interval
 * then contains s = floor(v * 10^-k) or s + 1, and at most one multiple of
 * ten.  A multiple of ten in the interval is the shortest answer; otherwise
 * take the one of s, s + 1 in the interval, or the one closer to v when both
 * are.  The scaled values are computed with a 126-bit upper approximation g
 * of 10^-k (lib/pow10-table.h) and rounded to odd, which keeps every
 * comparison exact.
 */
#include "config.h"

#include <string.h>

#include "norm.h"
#include "pow10-table.h"

/* ---- 64 x 64 -> 128-bit multiplication ---- */

#if defined(__SIZEOF_INT128__) && !defined(DTM_FORMAT_NO_INT128)
#define DTM__HAVE_INT128 1
__extension__ typedef unsigned __int128 u128; /* quiet under -pedantic */
#endif

/* Returns the low 64 bits of a * b and stores the high 64 bits in *hi. */
static inline uint64_t mul_64x64(uint64_t a, uint64_t b, uint64_t *hi)
{
#ifdef DTM__HAVE_INT128
    u128 p = (u128)a * b;
    *hi = (uint64_t)(p >> 64);
    return (uint64_t)p;
#else
    uint64_t al = a & 0xffffffffu, ah = a >> 32;
    uint64_t bl = b & 0xffffffffu, bh = b >> 32;
    uint64_t ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
    uint64_t mid = (ll >> 32) + (lh & 0xffffffffu) + (hl & 0xffffffffu);
    *hi = hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
    return (mid << 32) | (ll & 0xffffffffu);
#endif
}

/*
 * floor(g * cp / 2^127) with the lowest bit set when the quotient is not an
 * integer ("round to odd"), for g = {hi, lo} < 2^126 and cp < 2^61.
 *
 * g exceeds the exact 10^-k * 2^(125 - r) by less than 1, so the product
 * exceeds the exact scaled value by less than cp < 2^64 units of 2^-127:
 * an exact integer shows up with garbage only in the lowest 64 bits.  Those
 * bits are therefore left out of the "not an integer" test (Schubfach's
 * analysis shows that a true fraction always reaches the bits above).
 * Without this, exact ties such as 2^-25 = 2.98023223876953125E-8 would lose
 * their round-half-even.
 */
static inline uint64_t round_to_odd(const uint64_t g[2], uint64_t cp)
{
    uint64_t lo_hi, hi_hi, hi_lo, mid;
    (void)mul_64x64(g[1], cp, &lo_hi); /* its low half is the ignored noise */
    hi_lo = mul_64x64(g[0], cp, &hi_hi);
    /* product / 2^64 = hi_hi * 2^64 + hi_lo + lo_hi */
    mid = hi_lo + lo_hi;
    hi_hi += mid < hi_lo;
    return (hi_hi << 1) | (mid >> 63) | ((mid << 1) != 0);
}

/* ---- integer logarithms (constants checked by gen-pow10.py) ---- */

/* floor(x / 2^s) for |x| < 2^(s+12), without shifting a negative number. */
static inline int floor_shift(int64_t x, int s)
{
    return (int)((x + ((int64_t)4096 << s)) >> s) - 4096;
}

/* floor(log10(2^q)) */
static inline int flog10_pow2(int q)
{
    return floor_shift(q * DTM__LOG10_2_MUL, DTM__LOG10_SHIFT);
}

/* floor(log10(3/4 * 2^q)) */
static inline int flog10_three_quarters_pow2(int q)
{
    return floor_shift(q * DTM__LOG10_2_MUL + DTM__LOG10_34_ADD, DTM__LOG10_SHIFT);
}

/* floor(log2(10^e)) */
static inline int flog2_pow10(int e)
{
    return floor_shift(e * DTM__LOG2_10_MUL, DTM__LOG2_SHIFT);
}

/* ---- the shortest decimal ---- */

#define SIG_BITS 52
#define SIG_MASK ((UINT64_C(1) << SIG_BITS) - 1)
#define C_MIN (UINT64_C(1) << SIG_BITS) /* hidden bit */
#define Q_MIN (-1074)                   /* q of the subnormals */
#define EXP_BIAS_Q 1075                 /* q = biased exponent - 1075 */

/*
 * For a finite, non-zero, positive double given by its bits, find f and e
 * with f * 10^e the decimal that Java 19's Double.toString renders: the
 * shortest that rounds to the double, the closest one among those, and two
 * digits rather than one when two digits are closer (only possible for tiny
 * subnormals).  f has at most 17 digits and may end in zeros.
 */
static uint64_t shortest_decimal(uint64_t bits, int *exp10)
{
    uint64_t t = bits & SIG_MASK;
    int biased = (int)(bits >> SIG_BITS);
    uint64_t c, cb, cbl, cbr, vb, vbl, vbr, s, u, mid, pick;
    const uint64_t *g;
    int q, k, h, dk = 0;
    unsigned odd;
    int uin, win, take_u;

    if (biased != 0) {
        c = C_MIN | t;
        q = biased - EXP_BIAS_Q;
    } else {
        q = Q_MIN;
        c = t;
        if (t < 3) {
            /* 1 or 2 units of 2^-1074: the scaled interval below would hold
               only one-digit integers; work one decimal place finer so that
               two digits come out (4.9E-324, 9.9E-324). */
            c = 10 * t;
            dk = -1;
        }
    }

    odd = (unsigned)(c & 1); /* an odd c makes the interval open */
    cb = c << 2;
    cbr = cb + 2;
    if (c != C_MIN || q == Q_MIN) {
        cbl = cb - 2;
        k = flog10_pow2(q);
    } else {
        /* a power of two: the neighbour below is twice as close */
        cbl = cb - 1;
        k = flog10_three_quarters_pow2(q);
    }
    h = q + flog2_pow10(-k) + 2;
    g = dtm__pow10_g[k - DTM__POW10_K_MIN];

    /* 4 * (v, vl, vr) * 10^-k, rounded to odd */
    vb = round_to_odd(g, cb << h);
    vbl = round_to_odd(g, cbl << h);
    vbr = round_to_odd(g, cbr << h);

    s = vb >> 2;
    u = s + 1;
    *exp10 = k + dk;
    /*
     * The interval holds s or u = s + 1: take the one inside, or when both
     * are, the closer to v (vb against 4s + 2), the even one on a tie.  But
     * a multiple of ten inside the interval is shorter than both.  The
     * choices are made with bit operations, not branches: for random input
     * each condition is a coin toss.
     */
    uin = vbl + odd <= s << 2;
    win = (u << 2) + odd <= vbr;
    mid = (s + u) << 1;
    take_u = win & (!uin | (vb > mid) | ((vb == mid) & (int)(s & 1)));
    pick = s + (uint64_t)take_u;
    if (s >= 100) { /* two digits at least: Java's rule for tiny subnormals */
        uint64_t lo10 = s / 10 * 10, hi10 = lo10 + 10, mask;
        int lo_in = vbl + odd <= lo10 << 2;
        int hi_in = (hi10 << 2) + odd <= vbr;
        mask = 0 - (uint64_t)(lo_in ^ hi_in);
        pick = ((lo_in ? lo10 : hi10) & mask) | (pick & ~mask);
    }
    return pick;
}

/* ---- digits ---- */

static const char digit_pairs[201] =
    "00010203040506070809"
    "10111213141516171819"
    "20212223242526272829"
    "30313233343536373839"
    "40414243444546474849"
    "50515253545556575859"
    "60616263646566676869"
    "70717273747576777879"
    "80818283848586878889"
    "90919293949596979899";

static const uint64_t pow10_u64[20] = {
    UINT64_C(1), UINT64_C(10), UINT64_C(100), UINT64_C(1000), UINT64_C(10000),
    UINT64_C(100000), UINT64_C(1000000), UINT64_C(10000000), UINT64_C(100000000),
    UINT64_C(1000000000), UINT64_C(10000000000), UINT64_C(100000000000),
    UINT64_C(1000000000000), UINT64_C(10000000000000), UINT64_C(100000000000000),
    UINT64_C(1000000000000000), UINT64_C(10000000000000000),
    UINT64_C(100000000000000000), UINT64_C(1000000000000000000),
    UINT64_C(10000000000000000000)};

/* Number of decimal digits of v (1 for 0). */
static inline unsigned count_digits(uint64_t v)
{
    unsigned bits, n;
#if defined(__GNUC__)
    bits = 64 - (unsigned)__builtin_clzll(v | 1);
#else
    uint64_t x = v | 1;
    bits = 0;
    while (x) {
        bits++;
        x >>= 1;
    }
#endif
    /* 1233 / 4096 ~ log10(2): n is the digit count or one less (v | 1 makes
       0 count as one digit, and changes nothing else) */
    n = (bits * 1233) >> 12;
    return n + ((v | 1) >= pow10_u64[n]);
}

static inline void put_pair(char *p, unsigned v)
{
    memcpy(p, digit_pairs + 2 * v, 2);
}

/* Write the decimal digits of v so that the last one lands at end[-1]. */
static void write_digits(char *end, uint64_t v)
{
    uint32_t w;
    while (v >= 100000000) {
        uint64_t q = v / 100000000;
        uint32_t r = (uint32_t)(v - q * 100000000);
        uint32_t hi = r / 10000, lo = r - hi * 10000;
        put_pair(end - 2, lo % 100);
        put_pair(end - 4, lo / 100);
        put_pair(end - 6, hi % 100);
        put_pair(end - 8, hi / 100);
        end -= 8;
        v = q;
    }
    w = (uint32_t)v;
    while (w >= 100) {
        end -= 2;
        put_pair(end, w % 100);
        w /= 100;
    }
    if (w >= 10)
        put_pair(end - 2, w);
    else
        end[-1] = (char)('0' + w);
}

size_t dtm__fmt_uint64(uint64_t v, char *out)
{
    unsigned n = count_digits(v);
    write_digits(out + n, v);
    return n;
}

size_t dtm__fmt_int64(int64_t v, char *out)
{
    if (v < 0) {
        out[0] = '-';
        return 1 + dtm__fmt_uint64(0 - (uint64_t)v, out + 1);
    }
    return dtm__fmt_uint64((uint64_t)v, out);
}

/*
 * The 17 digits of f (10^16 <= f < 10^17) at p[0..17); returns how many
 * of them are significant (17 minus the trailing zeros, at least 1).
 */
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && !defined(DTM_FORMAT_NO_SWAR)

/*
 * Eight digits at once in one 64-bit word ("SIMD within a register"), for
 * v < 10^8: split into two 4-digit halves in 32-bit lanes, each lane into
 * two 2-digit values in 16-bit lanes, each of those into tens and ones in
 * bytes.  x / 100 = (x * 5243) >> 19 for x < 10^4 and x / 10 = (x * 103) >> 10
 * for x < 100, and no lane overflows into the next.  On a little-endian
 * machine the first digit is the lowest byte.  Returns digit values 0-9.
 */
static inline uint64_t eight_digits(uint32_t v)
{
    uint64_t y, hundreds, z, tens;
    uint32_t hi = v / 10000;
    y = hi | ((uint64_t)(v - hi * 10000) << 32);
    hundreds = ((y * 5243) >> 19) & UINT64_C(0x0000007f0000007f);
    y -= hundreds * 100;
    z = hundreds | (y << 16);
    tens = ((z * 103) >> 10) & UINT64_C(0x000f000f000f000f);
    z -= tens * 10;
    return tens | (z << 8);
}

/* Trailing zero digits (in memory order) of an eight_digits word. */
static inline unsigned zero_tail(uint64_t w)
{
    return w ? (unsigned)__builtin_clzll(w) / 8 : 8;
}

static inline unsigned put_17_digits(char *p, uint64_t f)
{
    const uint64_t ascii = UINT64_C(0x3030303030303030);
    uint32_t hi9 = (uint32_t)(f / 100000000); /* < 10^9 */
    uint32_t first = hi9 / 100000000;
    uint64_t a = eight_digits(hi9 - first * 100000000);
    uint64_t b = eight_digits((uint32_t)(f - (uint64_t)hi9 * 100000000));
    uint64_t da = a + ascii, db = b + ascii;
    p[0] = (char)('0' + first);
    memcpy(p + 1, &da, 8);
    memcpy(p + 9, &db, 8);
    return 17 - (b ? zero_tail(b) : 8 + zero_tail(a));
}

#else /* portable */

static inline unsigned put_17_digits(char *p, uint64_t f)
{
    unsigned n = 17;
    write_digits(p + 17, f);
    while (n > 1 && p[n - 1] == '0')
        n--;
    return n;
}

#endif

/*
 * Lay out f * 10^e (0 < f < 10^17) in the protocol's notation: plain for
 * 10^-3 <= value < 10^7, else d.dddE[-]x; at least one digit after the
 * point.  Returns the length (at most 23) and may write scratch bytes after
 * it, up to out[24].
 */
static size_t layout(uint64_t f, int e, char *out)
{
    unsigned n = count_digits(f), sig;
    int x = e + (int)n - 1; /* value = d.ddd * 10^x */
    size_t len;

    f *= pow10_u64[17 - n]; /* now exactly 17 digits */
    if (x >= 0 && x < 7) {
        /* copies of fixed size (no call, no loop); bytes past the end are
           scratch */
        char tmp[32] = {0};
        sig = put_17_digits(tmp, f);
        memcpy(out, tmp, 8);
        out[x + 1] = '.';
        memcpy(out + x + 2, tmp + x + 1, 16);
        /* an integral value (not reached from dtm__fmt_double) gets ".0" */
        return (sig > (unsigned)x + 1 ? sig : (unsigned)x + 2) + 1;
    }
    if (x < 0 && x >= -3) {
        memcpy(out, "0.00", 4);
        return (size_t)(1 - x) + put_17_digits(out + 1 - x, f);
    }
    /* computerized notation: d '.' ddd, the digits after the point being
       the padding zeros of f when there are no others */
    sig = put_17_digits(out + 1, f);
    out[0] = out[1];
    out[1] = '.';
    len = (sig > 1 ? sig : 2) + 1;
    /* the exponent (1 to 324) without branches: signs and digit counts of
       random values are coin tosses */
    out[len++] = 'E';
    out[len] = '-';
    len += x < 0;
    x = x < 0 ? -x : x;
    {
        char tmp[8] = {0};
        unsigned hundreds = (unsigned)x / 100, rest = (unsigned)x - hundreds * 100;
        unsigned nx = 1u + (unsigned)(x >= 10) + (unsigned)(x >= 100);
        tmp[0] = (char)('0' + hundreds);
        put_pair(tmp + 1, rest);
        memcpy(out + len, tmp + 3 - nx, 4);
        return len + nx;
    }
}

size_t dtm__fmt_double(double v, char *out)
{
    uint64_t bits, f;
    size_t len;
    int64_t i;
    int e, in_range;

    /* integral values in [-2^63, 2^63) print as integers (-0.0 as "0");
       values out of range and NaN convert 0.5 instead, which fails */
    in_range = v >= -9223372036854775808.0 && v < 9223372036854775808.0;
    i = (int64_t)(in_range ? v : 0.5);
    if ((double)i == v)
        return dtm__fmt_int64(i, out);
    memcpy(&bits, &v, sizeof bits);
    out[0] = '-';
    len = (size_t)(bits >> 63);
    bits &= ~(UINT64_C(1) << 63);
    if (DTM__UNLIKELY((bits >> SIG_BITS) == 0x7ff)) {
        /* outside the contract; Java's words, which no server accepts */
        if (bits & SIG_MASK) {
            memcpy(out, "NaN", 3);
            return 3;
        }
        memcpy(out + len, "Infinity", 8);
        return len + 8;
    }
    f = shortest_decimal(bits, &e);
    return len + layout(f, e, out + len);
}

/* ---- public functions (snprintf convention) ---- */

/* Copy n <= 32 bytes with two overlapping copies of a fixed size, which
   compile to plain loads and stores instead of a call to memcpy. */
static inline void copy_small(char *dst, const char *src, size_t n)
{
    if (n >= 16) {
        memcpy(dst, src, 16);
        memcpy(dst + n - 16, src + n - 16, 16);
    } else if (n >= 8) {
        memcpy(dst, src, 8);
        memcpy(dst + n - 8, src + n - 8, 8);
    } else if (n >= 4) {
        memcpy(dst, src, 4);
        memcpy(dst + n - 4, src + n - 4, 4);
    } else {
        while (n--)
            *dst++ = *src++;
    }
}

/* Hand a finished number in buf[0..n) to the caller: exactly n + 1 bytes
   written on success, "" on DTM_ETOOSMALL; *out_len = n either way. */
static dtm_status deliver(char *buf, size_t n, char *out, size_t out_cap, size_t *out_len)
{
    *out_len = n;
    if (DTM__LIKELY(n < out_cap)) {
        buf[n] = '\0';
        copy_small(out, buf, n + 1);
        return DTM_OK;
    }
    if (out_cap)
        out[0] = '\0';
    return DTM_ETOOSMALL;
}

dtm_status dtm_format_double(double value, char *out, size_t out_cap, size_t *out_len)
{
    char buf[DTM_NUMBER_BUFSIZE];
    uint64_t bits;

    if (!out_len || (!out && out_cap))
        return DTM_EINVAL;
    memcpy(&bits, &value, sizeof bits);
    if (((bits >> SIG_BITS) & 0x7ff) == 0x7ff) {
        *out_len = 0;
        if (out_cap)
            out[0] = '\0';
        return DTM_EVALUE;
    }
    /* through buf: dtm__fmt_double uses bytes past the result as scratch,
       and the caller's bytes after the NUL stay untouched */
    return deliver(buf, dtm__fmt_double(value, buf), out, out_cap, out_len);
}

dtm_status dtm_format_int64(int64_t value, char *out, size_t out_cap, size_t *out_len)
{
    char buf[DTM_NUMBER_BUFSIZE];

    if (!out_len || (!out && out_cap))
        return DTM_EINVAL;
    return deliver(buf, dtm__fmt_int64(value, buf), out, out_cap, out_len);
}
