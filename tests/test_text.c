/* Text layer: UTF-8 decoding (maximal subparts), encoding, UTF-16 units,
   validity and the category tables of spec 3.2. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "text.h"

#define INV DTM__CP_INVALID

/* Decode all of s[0..n) into cps/advs; returns the number of code points. */
static size_t decode_all(const unsigned char *s, size_t n, uint32_t *cps, size_t *advs)
{
    size_t i = 0, k = 0;
    while (i < n) {
        size_t adv = 0;
        cps[k] = dtm__utf8_next(s + i, n - i, &adv);
        ck_assert_uint_ge(adv, 1);
        ck_assert_uint_le(adv, n - i);
        advs[k++] = adv;
        i += adv;
    }
    return k;
}

/* ---- well-formed boundaries ---- */

static const struct {
    uint32_t cp;
    unsigned char bytes[4];
    size_t len;
} boundaries[] = {
    {0x0000, {0x00}, 1},
    {0x007F, {0x7F}, 1},
    {0x0080, {0xC2, 0x80}, 2},
    {0x07FF, {0xDF, 0xBF}, 2},
    {0x0800, {0xE0, 0xA0, 0x80}, 3},
    {0xD7FF, {0xED, 0x9F, 0xBF}, 3},
    {0xE000, {0xEE, 0x80, 0x80}, 3},
    {0xFFFD, {0xEF, 0xBF, 0xBD}, 3},
    {0xFFFF, {0xEF, 0xBF, 0xBF}, 3},
    {0x10000, {0xF0, 0x90, 0x80, 0x80}, 4},
    {0x1F600, {0xF0, 0x9F, 0x98, 0x80}, 4},
    {0xFFFFF, {0xF3, 0xBF, 0xBF, 0xBF}, 4},
    {0x100000, {0xF4, 0x80, 0x80, 0x80}, 4},
    {0x10FFFF, {0xF4, 0x8F, 0xBF, 0xBF}, 4},
};

START_TEST(decode_boundaries)
{
    size_t adv = 0;
    char enc[4];
    uint32_t cp = dtm__utf8_next(boundaries[_i].bytes, boundaries[_i].len, &adv);
    ck_assert_uint_eq(cp, boundaries[_i].cp);
    ck_assert_uint_eq(adv, boundaries[_i].len);
    ck_assert_uint_eq(dtm__utf8_put(cp, enc), boundaries[_i].len);
    ck_assert_mem_eq(enc, boundaries[_i].bytes, boundaries[_i].len);
    ck_assert_uint_eq(dtm__cp_units(cp), cp > 0xFFFF ? 2 : 1);
    ck_assert_uint_eq(dtm__utf16_units((const char *)boundaries[_i].bytes, boundaries[_i].len),
                      cp > 0xFFFF ? 2 : 1);
    ck_assert_int_eq(dtm__utf8_valid((const char *)boundaries[_i].bytes, boundaries[_i].len), 1);
    /* every proper prefix is one truncated (invalid) sequence */
    if (boundaries[_i].len > 1) {
        size_t k;
        for (k = 1; k < boundaries[_i].len; k++) {
            ck_assert_uint_eq(dtm__utf8_next(boundaries[_i].bytes, k, &adv), INV);
            ck_assert_uint_eq(adv, k);
            ck_assert_int_eq(dtm__utf8_valid((const char *)boundaries[_i].bytes, k), 0);
        }
    }
}
END_TEST

/* ---- ill-formed sequences: expected code points and their byte lengths ---- */

typedef struct bad_case {
    const char *name;
    const char *bytes;
    size_t len;
    size_t n_cps;
    uint32_t cps[12];
    size_t advs[12];
} bad_case;

#define B(s) s, sizeof(s) - 1

static const bad_case bad_cases[] = {
    /* The four rows of the Unicode standard's table 3-8 (section 3.9). */
    {"non-shortest forms", B("\xC0\xAF\xE0\x80\xBF\xF0\x81\x82\x41"), 9,
     {INV, INV, INV, INV, INV, INV, INV, INV, 0x41}, {1, 1, 1, 1, 1, 1, 1, 1, 1}},
    {"ill-formed sequences for surrogates", B("\xED\xA0\x80\xED\xBF\xBF\xED\xAF\x41"), 9,
     {INV, INV, INV, INV, INV, INV, INV, INV, 0x41}, {1, 1, 1, 1, 1, 1, 1, 1, 1}},
    {"other ill-formed sequences", B("\xF4\x91\x92\x93\xFF\x41\x80\xBF\x42"), 9,
     {INV, INV, INV, INV, INV, 0x41, INV, INV, 0x42}, {1, 1, 1, 1, 1, 1, 1, 1, 1}},
    {"truncated sequences", B("\xE1\x80\xE2\xF0\x91\x92\xF1\xBF\x41"), 5,
     {INV, INV, INV, INV, 0x41}, {2, 1, 3, 2, 1}},
    /* The worked example of section 3.9. */
    {"section 3.9 example", B("\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64"), 10,
     {0x61, INV, INV, INV, 0x62, INV, 0x63, INV, INV, 0x64},
     {1, 3, 2, 1, 1, 1, 1, 1, 1, 1}},
    {"stray continuation bytes", B("\x80\xBF\x8F"), 3, {INV, INV, INV}, {1, 1, 1}},
    {"overlong 2-byte", B("\xC1\xBF"), 2, {INV, INV}, {1, 1}},
    {"overlong 3-byte", B("\xE0\x9F\xBF"), 3, {INV, INV, INV}, {1, 1, 1}},
    {"overlong 4-byte", B("\xF0\x8F\xBF\xBF"), 4, {INV, INV, INV, INV}, {1, 1, 1, 1}},
    {"encoded high surrogate", B("\xED\xA0\xBDx"), 4, {INV, INV, INV, 'x'}, {1, 1, 1, 1}},
    {"encoded low surrogate", B("\xED\xBF\xBF"), 3, {INV, INV, INV}, {1, 1, 1}},
    {"above U+10FFFF (F4 90)", B("\xF4\x90\x80\x80"), 4, {INV, INV, INV, INV}, {1, 1, 1, 1}},
    {"above U+10FFFF (F5)", B("\xF5\x80\x80\x80"), 4, {INV, INV, INV, INV}, {1, 1, 1, 1}},
    {"bytes F8..FF", B("\xF8\xFC\xFE\xFF"), 4, {INV, INV, INV, INV}, {1, 1, 1, 1}},
    {"truncated 2-byte at end", B("a\xC3"), 2, {'a', INV}, {1, 1}},
    {"truncated 3-byte at end", B("\xE2\x82"), 1, {INV}, {2}},
    {"truncated 4-byte at end", B("\xF0\x9F\x98"), 1, {INV}, {3}},
    {"truncated then ASCII", B("\xF0\x9F\x98" "a"), 2, {INV, 'a'}, {3, 1}},
    {"truncated then a new lead", B("\xE2\x82\xE2\x82\xAC"), 2, {INV, 0x20AC}, {2, 3}},
    {"lead followed by a lead", B("\xC3\xC3\xA4"), 2, {INV, 0xE4}, {1, 2}},
    {"noncharacters are well-formed", B("\xEF\xBF\xBE\xEF\xB7\x90"), 2, {0xFFFE, 0xFDD0}, {3, 3}},
    {"NUL is a code point", B("\x00\x00"), 2, {0, 0}, {1, 1}},
};

START_TEST(decode_ill_formed)
{
    const bad_case *c = &bad_cases[_i];
    uint32_t cps[32];
    size_t advs[32], k, n, units = 0;
    int any_bad = 0;
    n = decode_all((const unsigned char *)c->bytes, c->len, cps, advs);
    ck_assert_msg(n == c->n_cps, "%s: %zu code points, expected %zu", c->name, n, c->n_cps);
    for (k = 0; k < n; k++) {
        ck_assert_msg(cps[k] == c->cps[k], "%s: cp %zu is %x, expected %x", c->name, k,
                      (unsigned)cps[k], (unsigned)c->cps[k]);
        ck_assert_msg(advs[k] == c->advs[k], "%s: adv %zu is %zu, expected %zu", c->name, k,
                      advs[k], c->advs[k]);
        units += dtm__cp_units(cps[k]);
        any_bad |= cps[k] == INV;
    }
    ck_assert_uint_eq(dtm__utf16_units(c->bytes, c->len), units);
    ck_assert_int_eq(dtm__utf8_valid(c->bytes, c->len), !any_bad);
    /* behind a long ASCII run (the 8-byte fast path) nothing changes */
    {
        char buf[64];
        memset(buf, 'x', 37);
        memcpy(buf + 37, c->bytes, c->len);
        ck_assert_uint_eq(dtm__utf16_units(buf, 37 + c->len), 37 + units);
        ck_assert_int_eq(dtm__utf8_valid(buf, 37 + c->len), !any_bad);
    }
}
END_TEST

/* ---- exhaustive comparison with an oracle built from the encoder ----
   A byte string is a prefix of a well-formed sequence iff it is a prefix of
   the encoding of some scalar value; the maximal subpart at an offset is the
   longest such prefix (at least one byte). */

static unsigned char *pre2;  /* 65536 flags: 2-byte prefixes */
static unsigned char *pre3;  /* 2^24 bits: 3-byte prefixes */
static unsigned char pre1[256];

static void oracle_build(void)
{
    uint32_t cp;
    pre2 = calloc(65536, 1);
    pre3 = calloc((size_t)1 << 21, 1);
    ck_assert_ptr_nonnull(pre2);
    ck_assert_ptr_nonnull(pre3);
    /* no ck_assert in the loops below: each passing assert costs a write to
       Check's pipe in fork mode */
    for (cp = 0; cp <= 0x10FFFF; cp++) {
        unsigned char e[4];
        size_t len;
        if (cp >= 0xD800 && cp <= 0xDFFF)
            continue;
        len = dtm__utf8_put(cp, (char *)e);
        pre1[e[0]] = 1;
        if (len >= 2)
            pre2[(e[0] << 8) | e[1]] = 1;
        if (len >= 3) {
            uint32_t k = ((uint32_t)e[0] << 16) | ((uint32_t)e[1] << 8) | e[2];
            pre3[k >> 3] |= (unsigned char)(1u << (k & 7));
        }
    }
}

static int is_prefix(const unsigned char *b, size_t k)
{
    uint32_t x;
    if (k == 1)
        return pre1[b[0]];
    if (k == 2)
        return pre2[(b[0] << 8) | b[1]];
    x = ((uint32_t)b[0] << 16) | ((uint32_t)b[1] << 8) | b[2];
    return (pre3[x >> 3] >> (x & 7)) & 1;
}

/* Expected decode of b[0..n), n <= 3, from the oracle alone. */
static uint32_t oracle_next(const unsigned char *b, size_t n, size_t *adv)
{
    size_t k = 0, want;
    while (k < n && is_prefix(b, k + 1))
        k++;
    if (k == 0) {
        *adv = 1;
        return INV;
    }
    want = b[0] < 0x80 ? 1 : b[0] < 0xE0 ? 2 : b[0] < 0xF0 ? 3 : 4;
    *adv = k;
    if (k < want)
        return INV;
    if (want == 1)
        return b[0];
    if (want == 2)
        return ((uint32_t)(b[0] & 0x1F) << 6) | (b[1] & 0x3F);
    return ((uint32_t)(b[0] & 0x0F) << 12) | ((uint32_t)(b[1] & 0x3F) << 6) | (b[2] & 0x3F);
}

START_TEST(decode_matches_oracle_exhaustive)
{
    uint32_t x;
    oracle_build();
    for (x = 0; x < ((uint32_t)1 << 24); x++) {
        unsigned char b[3] = {(unsigned char)(x >> 16), (unsigned char)(x >> 8),
                              (unsigned char)x};
        size_t n, adv, oadv;
        for (n = 1; n <= 3; n++) {
            uint32_t got, want;
            if (n < 3 && (x & ((1u << (8 * (3 - n))) - 1)) != 0)
                continue; /* shorter inputs: only once per prefix */
            got = dtm__utf8_next(b, n, &adv);
            want = oracle_next(b, n, &oadv);
            if (got != want || adv != oadv)
                ck_abort_msg("%02x %02x %02x (n=%zu): got %x/%zu, expected %x/%zu", b[0], b[1],
                             b[2], n, (unsigned)got, adv, (unsigned)want, oadv);
        }
    }
    /* 4-byte inputs: every byte after each valid 3-byte prefix */
    for (x = 0xF00000; x < 0xF50000; x++) {
        unsigned char b[4] = {(unsigned char)(x >> 16), (unsigned char)(x >> 8),
                              (unsigned char)x, 0};
        unsigned last;
        if (!is_prefix(b, 3))
            continue;
        for (last = 0; last < 256; last++) {
            size_t adv;
            uint32_t got;
            b[3] = (unsigned char)last;
            got = dtm__utf8_next(b, 4, &adv);
            if (last >= 0x80 && last <= 0xBF) {
                uint32_t want = ((uint32_t)(b[0] & 7) << 18) | ((uint32_t)(b[1] & 0x3F) << 12) |
                                ((uint32_t)(b[2] & 0x3F) << 6) | (last & 0x3F);
                if (got != want || adv != 4 || got < 0x10000 || got > 0x10FFFF)
                    ck_abort_msg("%02x %02x %02x %02x: got %x/%zu", b[0], b[1], b[2], last,
                                 (unsigned)got, adv);
            } else if (got != INV || adv != 3) {
                ck_abort_msg("%02x %02x %02x %02x: got %x/%zu, expected invalid/3", b[0], b[1],
                             b[2], last, (unsigned)got, adv);
            }
        }
    }
    free(pre2);
    free(pre3);
}
END_TEST

START_TEST(encode_round_trip_all_scalars)
{
    uint32_t cp;
    for (cp = 0; cp <= 0x10FFFF; cp++) {
        char e[4];
        size_t len, adv;
        if (cp >= 0xD800 && cp <= 0xDFFF)
            continue;
        len = dtm__utf8_put(cp, e);
        if (len != (cp < 0x80 ? 1u : cp < 0x800 ? 2u : cp < 0x10000 ? 3u : 4u))
            ck_abort_msg("length of U+%04X is %zu", (unsigned)cp, len);
        if (dtm__utf8_next((const unsigned char *)e, len, &adv) != cp || adv != len)
            ck_abort_msg("round trip of U+%04X failed", (unsigned)cp);
        if (dtm__utf16_units(e, len) != (cp > 0xFFFF ? 2u : 1u))
            ck_abort_msg("units of U+%04X", (unsigned)cp);
    }
}
END_TEST

START_TEST(units_and_validity_of_text)
{
    static const char mixed[] = "a\xC3\xA4\xE2\x82\xAC\xF0\x9F\x98\x80z"; /* a ä € 😀 z */
    char big[1000];
    size_t i;
    ck_assert_uint_eq(dtm__utf16_units("", 0), 0);
    ck_assert_int_eq(dtm__utf8_valid("", 0), 1);
    ck_assert_uint_eq(dtm__utf16_units(mixed, sizeof mixed - 1), 6);
    ck_assert_int_eq(dtm__utf8_valid(mixed, sizeof mixed - 1), 1);
    /* one bad byte anywhere in a long ASCII text */
    for (i = 0; i < sizeof big; i++) {
        memset(big, 'q', sizeof big);
        big[i] = (char)0xFF;
        ck_assert_int_eq(dtm__utf8_valid(big, sizeof big), 0);
        ck_assert_uint_eq(dtm__utf16_units(big, sizeof big), sizeof big);
        big[i] = 'q';
        ck_assert_int_eq(dtm__utf8_valid(big, sizeof big), 1);
    }
    /* a 4-byte sequence straddling the 8-byte blocks */
    for (i = 0; i + 4 <= sizeof big; i += 7) {
        memset(big, 'q', sizeof big);
        memcpy(big + i, "\xF0\x9F\x98\x80", 4);
        ck_assert_uint_eq(dtm__utf16_units(big, sizeof big), sizeof big - 4 + 2);
        ck_assert_int_eq(dtm__utf8_valid(big, sizeof big), 1);
        ck_assert_int_eq(dtm__utf8_valid(big, i + 3), 0);
    }
}
END_TEST

/* ---- categories (spec 3.2, 10) ---- */

typedef struct cat_case {
    uint32_t cp;
    int value_bad; /* dtm__cp_invalid_in_value */
    int meta_bad;  /* dtm__cp_invalid_in_meta */
} cat_case;

static const cat_case cat_cases[] = {
    /* Cc */
    {0x00, 1, 1}, {0x09, 1, 1}, {0x0A, 1, 1}, {0x1F, 1, 1}, {0x7F, 1, 1}, {0x80, 1, 1},
    {0x9F, 1, 1},
    /* Cf: replaced in values, kept in metadata */
    {0xAD, 1, 0}, {0x600, 1, 0}, {0x605, 1, 0}, {0x61C, 1, 0}, {0x6DD, 1, 0}, {0x70F, 1, 0},
    {0x890, 1, 0}, {0x891, 1, 0}, {0x8E2, 1, 0}, {0x180E, 1, 0}, {0x200B, 1, 0},
    {0x200D, 1, 0}, {0x200F, 1, 0}, {0x202A, 1, 0}, {0x202E, 1, 0}, {0x2060, 1, 0},
    {0x2064, 1, 0}, {0x2066, 1, 0}, {0x206F, 1, 0}, {0xFEFF, 1, 0}, {0xFFF9, 1, 0},
    {0xFFFB, 1, 0}, {0x110BD, 1, 0}, {0x110CD, 1, 0}, {0x13430, 1, 0}, {0x13438, 1, 0},
    {0x1BCA0, 1, 0}, {0x1BCA3, 1, 0}, {0x1D173, 1, 0}, {0x1D17A, 1, 0}, {0xE0001, 1, 0},
    {0xE0020, 1, 0}, {0xE007F, 1, 0},
    /* Zl, Zp */
    {0x2028, 1, 1}, {0x2029, 1, 1},
    /* Cs (only reachable from a caller of the table) and Co */
    {0xD800, 1, 1}, {0xDBFF, 1, 1}, {0xDC00, 1, 1}, {0xDFFF, 1, 1}, {0xE000, 1, 1},
    {0xF8FF, 1, 1}, {0xF0000, 1, 1}, {0xFFFFD, 1, 1}, {0x100000, 1, 1}, {0x10FFFD, 1, 1},
    /* noncharacters */
    {0xFDD0, 1, 1}, {0xFDEF, 1, 1}, {0xFFFE, 1, 1}, {0xFFFF, 1, 1}, {0x1FFFE, 1, 1},
    {0x1FFFF, 1, 1}, {0x10FFFE, 1, 1}, {0x10FFFF, 1, 1},
    /* not code points */
    {INV, 1, 1}, {0x110000, 1, 1},
    /* allowed neighbours */
    {0x20, 0, 0}, {'a', 0, 0}, {'"', 0, 0}, {0x7E, 0, 0}, {0xA0, 0, 0}, {0xAC, 0, 0},
    {0xAE, 0, 0}, {0xE4, 0, 0}, {0x5FF, 0, 0}, {0x606, 0, 0}, {0x61B, 0, 0}, {0x61D, 0, 0},
    {0x6DC, 0, 0}, {0x892, 0, 0}, {0x8E1, 0, 0}, {0x8E3, 0, 0}, {0x180D, 0, 0},
    {0x180F, 0, 0}, {0x200A, 0, 0}, {0x2010, 0, 0}, {0x2027, 0, 0}, {0x202F, 0, 0},
    {0x205F, 0, 0}, {0x2070, 0, 0}, {0xD7FF, 0, 0}, {0xF900, 0, 0}, {0xFDCF, 0, 0},
    {0xFDF0, 0, 0}, {0xFEFE, 0, 0}, {0xFF00, 0, 0}, {0xFFFC, 0, 0}, {0xFFFD, 0, 0},
    {0x10000, 0, 0}, {0x110BC, 0, 0}, {0x110BE, 0, 0}, {0x1BCA4, 0, 0}, {0x1D172, 0, 0},
    {0x1D17B, 0, 0}, {0x1F600, 0, 0}, {0x1F920, 0, 0}, {0x1FFFD, 0, 0}, {0xEFFFD, 0, 0},
    /* D1: an unassigned code point (U+0378) is accepted */
    {0x378, 0, 0},
};

START_TEST(category_spot_checks)
{
    const cat_case *c = &cat_cases[_i];
    ck_assert_msg(dtm__cp_invalid_in_value(c->cp) == c->value_bad,
                  "U+%04X: invalid_in_value should be %d", (unsigned)c->cp, c->value_bad);
    ck_assert_msg(dtm__cp_invalid_in_meta(c->cp) == c->meta_bad,
                  "U+%04X: invalid_in_meta should be %d", (unsigned)c->cp, c->meta_bad);
}
END_TEST

START_TEST(category_ascii_and_latin1)
{
    uint32_t cp;
    for (cp = 0; cp < 0x100; cp++) {
        int cc = cp < 0x20 || (cp >= 0x7F && cp <= 0x9F);
        ck_assert_int_eq(dtm__cp_invalid_in_meta(cp), cc);
        ck_assert_int_eq(dtm__cp_invalid_in_value(cp), cc || cp == 0xAD);
    }
}
END_TEST

/* The lists of spec 3.2, written out once more as plain comparisons. */
static int spec_cf(uint32_t c)
{
    return c == 0xAD || (c >= 0x600 && c <= 0x605) || c == 0x61C || c == 0x6DD ||
           c == 0x70F || (c >= 0x890 && c <= 0x891) || c == 0x8E2 || c == 0x180E ||
           (c >= 0x200B && c <= 0x200F) || (c >= 0x202A && c <= 0x202E) ||
           (c >= 0x2060 && c <= 0x2064) || (c >= 0x2066 && c <= 0x206F) || c == 0xFEFF ||
           (c >= 0xFFF9 && c <= 0xFFFB) || c == 0x110BD || c == 0x110CD ||
           (c >= 0x13430 && c <= 0x13438) || (c >= 0x1BCA0 && c <= 0x1BCA3) ||
           (c >= 0x1D173 && c <= 0x1D17A) || c == 0xE0001 || (c >= 0xE0020 && c <= 0xE007F);
}

static int spec_other_bad(uint32_t c)
{
    int cc = c <= 0x1F || (c >= 0x7F && c <= 0x9F);
    int z = c == 0x2028 || c == 0x2029;
    int cs = c >= 0xD800 && c <= 0xDFFF;
    int co = (c >= 0xE000 && c <= 0xF8FF) || (c >= 0xF0000 && c <= 0xFFFFD) ||
             (c >= 0x100000 && c <= 0x10FFFD);
    int nonchar = (c >= 0xFDD0 && c <= 0xFDEF) || (c & 0xFFFF) == 0xFFFE ||
                  (c & 0xFFFF) == 0xFFFF;
    return cc || z || cs || co || nonchar;
}

START_TEST(category_all_code_points)
{
    uint32_t c;
    for (c = 0; c <= 0x10FFFF; c++) {
        int other = spec_other_bad(c), cf = spec_cf(c);
        if (dtm__cp_invalid_in_value(c) != (other || cf) || dtm__cp_invalid_in_meta(c) != other)
            ck_abort_msg("U+%04X: value %d meta %d, spec says value %d meta %d", (unsigned)c,
                         dtm__cp_invalid_in_value(c), dtm__cp_invalid_in_meta(c),
                         other || cf, other);
    }
}
END_TEST

#define N_OF(a) ((int)(sizeof(a) / sizeof((a)[0])))

int main(void)
{
    Suite *s = suite_create("text");
    TCase *tc = tu_tcase("decode", 5);
    tcase_add_loop_test(tc, decode_boundaries, 0, N_OF(boundaries));
    tcase_add_loop_test(tc, decode_ill_formed, 0, N_OF(bad_cases));
    tcase_add_test(tc, units_and_validity_of_text);
    suite_add_tcase(s, tc);

    tc = tu_tcase("exhaustive", 20);
    tcase_add_test(tc, decode_matches_oracle_exhaustive);
    tcase_add_test(tc, encode_round_trip_all_scalars);
    suite_add_tcase(s, tc);

    tc = tu_tcase("categories", 5);
    tcase_add_loop_test(tc, category_spot_checks, 0, N_OF(cat_cases));
    tcase_add_test(tc, category_ascii_and_latin1);
    tcase_add_test(tc, category_all_code_points);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
