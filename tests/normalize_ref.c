/* Oracle for tests/test_normalize.c: the spec's rules, transcribed literally.
   See normalize_ref.h. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "normalize_ref.h"
#include "text.h" /* only the category tables, which test_text checks */

/* Table 3-7: well-formed UTF-8 byte sequences (multi-byte rows). */
static const struct {
    unsigned char lead_lo, lead_hi, second_lo, second_hi, len;
} rows[] = {
    {0xC2, 0xDF, 0x80, 0xBF, 2}, {0xE0, 0xE0, 0xA0, 0xBF, 3}, {0xE1, 0xEC, 0x80, 0xBF, 3},
    {0xED, 0xED, 0x80, 0x9F, 3}, {0xEE, 0xEF, 0x80, 0xBF, 3}, {0xF0, 0xF0, 0x90, 0xBF, 4},
    {0xF1, 0xF3, 0x80, 0xBF, 4}, {0xF4, 0xF4, 0x80, 0x8F, 4},
};

size_t ref_decode(const unsigned char *s, size_t n, uint32_t *cps)
{
    size_t i = 0, k = 0;
    while (i < n) {
        size_t r, good = 0, len = 0;
        uint32_t cp;
        if (s[i] < 0x80) {
            cps[k++] = s[i++];
            continue;
        }
        for (r = 0; r < sizeof rows / sizeof rows[0]; r++)
            if (s[i] >= rows[r].lead_lo && s[i] <= rows[r].lead_hi)
                break;
        if (r == sizeof rows / sizeof rows[0]) {
            cps[k++] = REF_INVALID;
            i++;
            continue;
        }
        len = rows[r].len;
        good = 1;
        while (good < len && i + good < n) {
            unsigned char b = s[i + good];
            unsigned char lo = good == 1 ? rows[r].second_lo : 0x80;
            unsigned char hi = good == 1 ? rows[r].second_hi : 0xBF;
            if (b < lo || b > hi)
                break;
            good++;
        }
        if (good < len) {
            cps[k++] = REF_INVALID;
            i += good;
            continue;
        }
        cp = s[i] & (len == 2 ? 0x1F : len == 3 ? 0x0F : 0x07);
        for (good = 1; good < len; good++)
            cp = (cp << 6) | (s[i + good] & 0x3F);
        cps[k++] = cp;
        i += len;
    }
    return k;
}

static uint32_t *decode_alloc(const unsigned char *s, size_t n, size_t *count)
{
    uint32_t *cps = malloc((n + 1) * sizeof *cps);
    if (!cps)
        abort();
    *count = ref_decode(s, n, cps);
    return cps;
}

int ref_utf8_valid(const unsigned char *s, size_t n)
{
    size_t k, i;
    uint32_t *cps = decode_alloc(s, n, &k);
    int ok = 1;
    for (i = 0; i < k; i++)
        if (cps[i] == REF_INVALID)
            ok = 0;
    free(cps);
    return ok;
}

static size_t units_of(uint32_t cp)
{
    return cp != REF_INVALID && cp >= 0x10000 ? 2 : 1;
}

size_t ref_units(const unsigned char *s, size_t n)
{
    size_t k, i, u = 0;
    uint32_t *cps = decode_alloc(s, n, &k);
    for (i = 0; i < k; i++)
        u += units_of(cps[i]);
    free(cps);
    return u;
}

static int in_set(uint32_t c, const char *set)
{
    return c != 0 && c < 0x80 && strchr(set, (int)c) != NULL;
}

#define LETTERS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
#define LOWER "abcdefghijklmnopqrstuvwxyz"
#define DIGITS "0123456789"

/* The number of leading code points whose UTF-16 start offset is < limit. */
static size_t window(const uint32_t *cps, size_t k, size_t limit)
{
    size_t i, off = 0;
    for (i = 0; i < k && off < limit; i++)
        off += units_of(cps[i]);
    return i;
}

static size_t put_cp(uint32_t cp, char *o)
{
    unsigned char *b = (unsigned char *)o;
    if (cp < 0x80) {
        b[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        b[0] = (unsigned char)(0xC0 | (cp >> 6));
        b[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        b[0] = (unsigned char)(0xE0 | (cp >> 12));
        b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    b[0] = (unsigned char)(0xF0 | (cp >> 18));
    b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    b[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

size_t ref_metric_key(const unsigned char *in, size_t n, char *out)
{
    enum { FIRST, SECTION, DOT } state = FIRST;
    size_t k, w, i, len = 0;
    int repl = 0;
    uint32_t *cps;

    if (n == 0)
        return REF_NONE;
    cps = decode_alloc(in, n, &k);
    w = window(cps, k, 255);
    for (i = 0; i < w; i++) {
        uint32_t c = cps[i];
        int last = i + 1 == w;
        if (state == FIRST) {
            if (c == '.') {
                free(cps);
                return REF_NONE;
            }
            if (in_set(c, LETTERS "_")) {
                out[len++] = (char)c;
            } else {
                out[len++] = '_';
                repl = 1;
            }
            state = SECTION;
        } else if (state == SECTION) {
            if (c == '.') {
                if (!last) {
                    state = DOT;
                    repl = 0;
                }
            } else if (in_set(c, LETTERS DIGITS "_-")) {
                out[len++] = (char)c;
                repl = 0;
            } else {
                if (!repl)
                    out[len++] = '_';
                repl = 1;
            }
        } else if (c != '.') {
            out[len++] = '.';
            if (in_set(c, LETTERS DIGITS "_")) {
                out[len++] = (char)c;
                repl = 0;
            } else {
                out[len++] = '_';
                repl = 1;
            }
            state = SECTION;
        }
    }
    free(cps);
    return len;
}

size_t ref_dim_key(const unsigned char *in, size_t n, char *out)
{
    enum { START, SECTION } state = START;
    size_t k, w, i, len = 0;
    int repl = 0;
    uint32_t *cps;

    if (n == 0)
        return REF_NONE;
    cps = decode_alloc(in, n, &k);
    w = window(cps, k, 100);
    for (i = 0; i < w; i++) {
        uint32_t c = cps[i];
        int last = i + 1 == w;
        if (c >= 'A' && c <= 'Z')
            c = c - 'A' + 'a';
        else if (c == 0x130)
            c = 'i';
        else if (c == 0x212A)
            c = 'k';
        if (state == START) {
            if (c == '.')
                continue;
            if (len)
                out[len++] = '.';
            if (in_set(c, LOWER "_")) {
                out[len++] = (char)c;
                repl = 0;
            } else {
                out[len++] = '_';
                repl = 1;
            }
            state = SECTION;
        } else if (c == '.') {
            if (!last) {
                state = START;
                repl = 0;
            }
        } else if (in_set(c, LOWER DIGITS "_-:")) {
            out[len++] = (char)c;
            repl = 0;
        } else {
            if (!repl)
                out[len++] = '_';
            repl = 1;
        }
    }
    free(cps);
    return len ? len : REF_NONE;
}

size_t ref_dim_value(const unsigned char *in, size_t n, char *out)
{
    const size_t M = 255;
    size_t k, i, len = 0, units = 0, first, end;
    int repl = 0, quoted;
    uint32_t *cps;

    if (n == 0)
        return 0;
    cps = decode_alloc(in, n, &k);
    /* D2: quoted needs two code points; D3: '""' is empty */
    quoted = k >= 2 && cps[0] == '"' && cps[k - 1] == '"';
    if (quoted && k == 2) {
        free(cps);
        return 0;
    }
    first = quoted ? 1 : 0;
    end = quoted ? k - 1 : k;
    if (quoted) {
        out[len++] = '"';
        units = 1;
    }
    for (i = first; i < end; i++) {
        uint32_t c = cps[i];
        size_t reserve = quoted ? 1 : 0;
        if (dtm__cp_invalid_in_value(c)) {
            if (repl)
                continue;
            if (units + 1 + reserve > M)
                break;
            out[len++] = '_';
            units++;
            repl = 1;
        } else if (quoted ? in_set(c, "\"\\") : in_set(c, ",= \\\"")) {
            if (units + 2 + reserve > M)
                break;
            out[len++] = '\\';
            out[len++] = (char)c;
            units += 2;
            repl = 0;
        } else {
            if (units + units_of(c) + reserve > M)
                break;
            len += put_cp(c, out + len);
            units += units_of(c);
            repl = 0;
        }
    }
    if (quoted)
        out[len++] = '"';
    free(cps);
    return len;
}

static int meta_bad(uint32_t c)
{
    return c == '"' || dtm__cp_invalid_in_meta(c);
}

static int next_kept_is_quote_or_end(const uint32_t *cps, size_t i, size_t end)
{
    for (; i < end; i++) {
        if (cps[i] == '"')
            return 1;
        if (cps[i] != '\\' && (cps[i] == '\n' || !meta_bad(cps[i])))
            return 0;
    }
    return 1;
}

size_t ref_meta_string(const unsigned char *in, size_t n, size_t max_units, char *out)
{
    size_t k, i, len = 0, first, end, content_units = 0, idx;
    int quoted, bad = 0, worthy = 0, emitted = 0;
    size_t bs_run = 0;
    uint32_t *cps;

    if (n == 0)
        return REF_NONE;
    cps = decode_alloc(in, n, &k);
    if (k == 2 && cps[0] == '"' && cps[1] == '"') {
        free(cps);
        return REF_NONE;
    }
    quoted = k >= 2 && cps[0] == '"' && cps[k - 1] == '"';
    first = quoted ? 1 : 0;
    end = quoted ? k - 1 : k;
    for (i = first; i < end; i++) {
        bad |= meta_bad(cps[i]);
        worthy |= in_set(cps[i], "\n ,=\"\\");
        content_units += units_of(cps[i]);
    }
    if (end > first && cps[end - 1] == '\\')
        bad = 1; /* D7: a trailing backslash takes the slow path */
    if (!bad && content_units <= max_units) {
        free(cps);
        if (quoted || !worthy) {
            memcpy(out, in, n);
            return n;
        }
        out[0] = '"';
        memcpy(out + 1, in, n);
        out[n + 1] = '"';
        return n + 2;
    }
    out[len++] = '"';
    idx = first; /* UTF-16 index in the original value */
    for (i = first; i < end; i++) {
        uint32_t c = cps[i];
        if (c == '\n' || c == '"') {
            if (idx + 2 > max_units)
                break;
            out[len++] = '\\';
            out[len++] = c == '\n' ? 'n' : '"';
            emitted++;
            bs_run = 0;
        } else if (c == '\\' && next_kept_is_quote_or_end(cps, i + 1, end)) {
            /* D7: dropped */
        } else if (!meta_bad(c)) {
            if (idx + units_of(c) > max_units)
                break;
            len += put_cp(c, out + len);
            emitted++;
            bs_run = c == '\\' ? bs_run + 1 : 0;
        }
        idx += units_of(c);
    }
    free(cps);
    len -= bs_run; /* D7: never a backslash before the closing quote */
    emitted -= (int)bs_run;
    if (!emitted)
        return REF_NONE;
    out[len++] = '"';
    return len;
}
