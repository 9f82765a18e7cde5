/*
 * Text layer: UTF-8 decoding and encoding, UTF-16 unit counting and the
 * Unicode category tests the normalizers need (spec 0.3, 0.4 and 3.2).
 *
 * The decoder follows the Unicode practice "U+FFFD substitution of maximal
 * subparts" (Unicode 14, section 3.9, tables 3-7 and 3-8): a lead byte that
 * starts a well-formed sequence together with the longest run of following
 * bytes that can still continue it forms one ill-formed subsequence when the
 * sequence is not completed; every other bad byte (C0, C1, F5..FF, a stray
 * continuation byte, the first byte of an overlong or surrogate form) is one
 * ill-formed subsequence on its own.  So "ED A0 80" (an encoded surrogate) is
 * three invalid code points and "F0 9F 98" (a truncated emoji) is one.
 *
 * The category tables are fixed (Unicode 14) and only cover what the
 * protocol needs; unassigned code points other than the noncharacters are
 * accepted (deviation D1 of the spec).  No locale, no wchar_t.
 */
#include "config.h"

#include <string.h>

#include "text.h"

uint32_t dtm__utf8_next(const unsigned char *p, size_t n, size_t *adv)
{
    unsigned c = p[0];
    unsigned lo, hi;
    size_t need, i;
    uint32_t cp;

    if (c < 0x80) {
        *adv = 1;
        return c;
    }
    if (c < 0xC2 || c > 0xF4) {
        /* continuation byte, overlong lead C0/C1, or beyond U+10FFFF */
        *adv = 1;
        return DTM__CP_INVALID;
    }
    /* Table 3-7: only the second byte has a range other than 80..BF. */
    lo = 0x80;
    hi = 0xBF;
    if (c < 0xE0) {
        need = 1;
        cp = c & 0x1F;
    } else if (c < 0xF0) {
        need = 2;
        cp = c & 0x0F;
        if (c == 0xE0)
            lo = 0xA0; /* no overlongs */
        else if (c == 0xED)
            hi = 0x9F; /* no surrogates */
    } else {
        need = 3;
        cp = c & 0x07;
        if (c == 0xF0)
            lo = 0x90; /* no overlongs */
        else if (c == 0xF4)
            hi = 0x8F; /* nothing above U+10FFFF */
    }
    for (i = 1; i <= need; i++) {
        if (i >= n || p[i] < lo || p[i] > hi) {
            *adv = i;
            return DTM__CP_INVALID;
        }
        cp = (cp << 6) | (p[i] & 0x3Fu);
        lo = 0x80;
        hi = 0xBF;
    }
    *adv = need + 1;
    return cp;
}

size_t dtm__utf8_put(uint32_t cp, char *out)
{
    unsigned char *o = (unsigned char *)out;
    if (cp < 0x80) {
        o[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (unsigned char)(0xC0 | (cp >> 6));
        o[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | (cp >> 12));
        o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (unsigned char)(0xF0 | (cp >> 18));
    o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Bytes of s[i..n) that are ASCII, counted eight at a time. */
static size_t ascii_run(const unsigned char *s, size_t i, size_t n)
{
    size_t start = i;
    while (n - i >= 8) {
        uint64_t v;
        memcpy(&v, s + i, 8);
        if (v & UINT64_C(0x8080808080808080))
            break;
        i += 8;
    }
    while (i < n && s[i] < 0x80)
        i++;
    return i - start;
}

size_t dtm__utf16_units(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, units = 0;
    while (i < n) {
        size_t run = ascii_run(p, i, n), adv;
        uint32_t cp;
        i += run;
        units += run;
        if (i >= n)
            break;
        cp = dtm__utf8_next(p + i, n - i, &adv);
        i += adv;
        units += dtm__cp_units(cp);
    }
    return units;
}

int dtm__utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        size_t adv;
        i += ascii_run(p, i, n);
        if (i >= n)
            break;
        if (dtm__utf8_next(p + i, n - i, &adv) == DTM__CP_INVALID)
            return 0;
        i += adv;
    }
    return 1;
}

/* ---- categories ---- */

typedef struct cp_range {
    uint32_t lo, hi;
} cp_range;

/* General category Cf (format characters), Unicode 14, sorted. */
static const cp_range cf_ranges[] = {
    {0x00AD, 0x00AD},   {0x0600, 0x0605},   {0x061C, 0x061C},   {0x06DD, 0x06DD},
    {0x070F, 0x070F},   {0x0890, 0x0891},   {0x08E2, 0x08E2},   {0x180E, 0x180E},
    {0x200B, 0x200F},   {0x202A, 0x202E},   {0x2060, 0x2064},   {0x2066, 0x206F},
    {0xFEFF, 0xFEFF},   {0xFFF9, 0xFFFB},   {0x110BD, 0x110BD}, {0x110CD, 0x110CD},
    {0x13430, 0x13438}, {0x1BCA0, 0x1BCA3}, {0x1D173, 0x1D17A}, {0xE0001, 0xE0001},
    {0xE0020, 0xE007F},
};

static int in_ranges(uint32_t cp, const cp_range *r, size_t n)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cp < r[mid].lo)
            hi = mid;
        else if (cp > r[mid].hi)
            lo = mid + 1;
        else
            return 1;
    }
    return 0;
}

static int is_cf(uint32_t cp)
{
    /* quick answers for the scripts met most, then the table */
    if (cp < 0x600)
        return cp == 0xAD;
    if (cp >= 0x2070 && cp < 0xFEFF)
        return 0;
    return in_ranges(cp, cf_ranges, sizeof cf_ranges / sizeof cf_ranges[0]);
}

/* Cc, Cs, Co, Zl, Zp, the noncharacters and anything that is not a code
   point at all: the set both normalizers reject. */
static int is_bad_common(uint32_t cp)
{
    if (cp < 0x80)
        return cp < 0x20 || cp == 0x7F;
    if (cp <= 0x9F)
        return 1; /* C1 controls */
    if (cp < 0x2028)
        return 0;
    if (cp <= 0x2029)
        return 1; /* LINE SEPARATOR, PARAGRAPH SEPARATOR */
    if (cp >= 0xD800 && cp <= 0xF8FF)
        return 1; /* surrogates and the BMP private use area */
    if (cp >= 0xFDD0 && cp <= 0xFDEF)
        return 1; /* noncharacters */
    if ((cp & 0xFFFE) == 0xFFFE)
        return 1; /* U+xxFFFE and U+xxFFFF, noncharacters in every plane */
    if (cp >= 0xF0000)
        return 1; /* planes 15 and 16: private use (their last two are
                     noncharacters); DTM__CP_INVALID is above as well */
    return 0;
}

int dtm__cp_invalid_in_value(uint32_t cp)
{
    return is_bad_common(cp) || is_cf(cp);
}

int dtm__cp_invalid_in_meta(uint32_t cp)
{
    return is_bad_common(cp);
}
