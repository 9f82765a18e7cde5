/* Properties that every output of the normalizers must have, whatever the
   input.  Shared by tests/test_normalize.c (random inputs) and
   fuzz/fuzz_normalize.c (libFuzzer).  Each check returns NULL when the output
   is fine, else a short description of the violation.  The UTF-8 check here
   is written independently of lib/text.c. */
#ifndef DTMETRICS_NORMALIZE_INVARIANTS_H
#define DTMETRICS_NORMALIZE_INVARIANTS_H

#include <stddef.h>
#include <stdint.h>

#include "text.h"

/* Decode s[*i..n) by bit patterns; returns the code point or (uint32_t)-1
   for anything ill-formed (overlong, surrogate, > U+10FFFF, truncated). */
static inline uint32_t inv_next(const unsigned char *s, size_t n, size_t *i)
{
    unsigned b = s[*i];
    size_t len, k;
    uint32_t cp, min;
    if ((b & 0x80) == 0) {
        (*i)++;
        return b;
    }
    if ((b & 0xE0) == 0xC0) {
        len = 2, cp = b & 0x1F, min = 0x80;
    } else if ((b & 0xF0) == 0xE0) {
        len = 3, cp = b & 0x0F, min = 0x800;
    } else if ((b & 0xF8) == 0xF0) {
        len = 4, cp = b & 0x07, min = 0x10000;
    } else {
        return (uint32_t)-1;
    }
    if (n - *i < len)
        return (uint32_t)-1;
    for (k = 1; k < len; k++) {
        if ((s[*i + k] & 0xC0) != 0x80)
            return (uint32_t)-1;
        cp = (cp << 6) | (s[*i + k] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return (uint32_t)-1;
    *i += len;
    return cp;
}

/* Valid UTF-8 and none of the code points reject() refuses; *units gets the
   UTF-16 length.  reject may be NULL. */
static inline const char *inv_text(const char *o, size_t n, int (*reject)(uint32_t),
                                   size_t *units)
{
    const unsigned char *s = (const unsigned char *)o;
    size_t i = 0, u = 0;
    while (i < n) {
        uint32_t cp = inv_next(s, n, &i);
        if (cp == (uint32_t)-1)
            return "output is not valid UTF-8";
        if (reject && reject(cp))
            return "output holds a code point that must have been replaced";
        u += cp > 0xFFFF ? 2 : 1;
    }
    if (!dtm__utf8_valid(o, n))
        return "dtm__utf8_valid disagrees: output is not valid UTF-8";
    *units = u;
    return NULL;
}

static inline int inv_is_letter(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static inline int inv_is_digit(int c)
{
    return c >= '0' && c <= '9';
}

/* Metric key: 1..255 ASCII characters, sections separated by single dots,
   the key starts with A-Z a-z _, later sections with A-Z a-z 0-9 _, the rest
   A-Z a-z 0-9 _ -. */
static inline const char *inv_metric_key(const char *o, size_t n)
{
    size_t i;
    int at_start = 1;
    if (n == 0 || n > 255)
        return "metric key length out of 1..255";
    if (!(inv_is_letter(o[0]) || o[0] == '_'))
        return "metric key starts with a bad character";
    for (i = 0; i < n; i++) {
        int c = (unsigned char)o[i];
        if (c == '.') {
            if (at_start)
                return "metric key has an empty section";
            at_start = 1;
            continue;
        }
        if (at_start ? !(inv_is_letter(c) || inv_is_digit(c) || c == '_')
                     : !(inv_is_letter(c) || inv_is_digit(c) || c == '_' || c == '-'))
            return "metric key holds a character not allowed there";
        at_start = 0;
    }
    if (at_start)
        return "metric key ends with a dot";
    return NULL;
}

/* Dimension key: 1..100 characters; sections start with a-z or _, go on
   with a-z 0-9 _ - :. */
static inline const char *inv_dim_key(const char *o, size_t n)
{
    size_t i;
    int at_start = 1;
    if (n == 0 || n > 100)
        return "dimension key length out of 1..100";
    for (i = 0; i < n; i++) {
        int c = (unsigned char)o[i];
        int lower = c >= 'a' && c <= 'z';
        if (c == '.') {
            if (at_start)
                return "dimension key has an empty section";
            at_start = 1;
            continue;
        }
        if (at_start ? !(lower || c == '_')
                     : !(lower || inv_is_digit(c) || c == '_' || c == '-' || c == ':'))
            return "dimension key holds a character not allowed there";
        at_start = 0;
    }
    if (at_start)
        return "dimension key ends with a dot";
    return NULL;
}

/* Dimension value: valid UTF-8 of at most 255 UTF-16 units without any code
   point the spec replaces; unquoted: ',', '=', ' ', '"' and '\' only as
   escapes; quoted ("..."): '"' and '\' only as escapes inside.  In both forms
   every backslash starts a complete escape, so the value never ends in a
   dangling backslash. */
static inline const char *inv_dim_value(const char *o, size_t n)
{
    size_t units, i, end = n;
    const char *err = inv_text(o, n, dtm__cp_invalid_in_value, &units);
    int quoted;
    if (err)
        return err;
    if (units > 255)
        return "dimension value longer than 255 UTF-16 units";
    if (n == 0)
        return NULL;
    quoted = o[0] == '"';
    i = quoted ? 1 : 0;
    if (quoted) {
        if (n < 3 || o[n - 1] != '"')
            return "quoted dimension value without its closing quote";
        end = n - 1;
    }
    for (; i < end; i++) {
        char c = o[i];
        if (c == '\\') {
            char e;
            if (i + 1 >= end)
                return "dimension value ends in a dangling backslash";
            e = o[++i];
            if (quoted ? !(e == '"' || e == '\\')
                       : !(e == ',' || e == '=' || e == ' ' || e == '"' || e == '\\'))
                return "dimension value holds an unknown escape";
        } else if (c == '"' || (!quoted && (c == ',' || c == '=' || c == ' '))) {
            return "dimension value holds an unescaped special character";
        }
    }
    return NULL;
}

static inline int inv_meta_reject(uint32_t cp)
{
    return dtm__cp_invalid_in_meta(cp);
}

/* Metadata string: valid UTF-8, no control/private/separator code points
   (a line feed only as the two characters '\' 'n'), not empty, not '""'. */
static inline const char *inv_meta(const char *o, size_t n, size_t max_units)
{
    size_t units;
    const char *err = inv_text(o, n, inv_meta_reject, &units);
    if (err)
        return err;
    if (n == 0 || (n == 2 && o[0] == '"' && o[1] == '"'))
        return "empty metadata string not dropped";
    /* the input-index budget lets escapes double the content at most */
    if (units > 2 * max_units + 2)
        return "metadata string far beyond its budget";
    return NULL;
}

#endif /* DTMETRICS_NORMALIZE_INVARIANTS_H */
