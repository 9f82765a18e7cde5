/*
 * Protocol layer: the normalizers of metric keys (spec 2), dimension keys
 * (3.1), dimension values (3.2), metadata strings (10) and the unit check.
 *
 * Why our own code rather than a regex or ICU: the reference (Java) has
 * exact, slightly quirky rules that no library reproduces (only the first
 * character of a section is judged by the start rule, truncation happens on
 * the input before normalizing but escape-safe on the output, metadata
 * budgets count input positions); every limit is in UTF-16 code units, which
 * a UTF-8 program has to count itself; and the serializer calls these for
 * every line, so they must not allocate, must not consult the locale and
 * must cost a few nanoseconds per byte.  Each normalizer is one left-to-right
 * pass: ASCII bytes are classified through a 256-entry table and only bytes
 * >= 0x80 go through the UTF-8 decoder of text.c.
 */
#include "config.h"

#include <string.h>

#include "norm.h"
#include "text.h"

/* ---- byte classes ---- */

enum {
    K_MSTART = 0x01, /* A-Z a-z _      may start a metric key */
    K_MSECT = 0x02,  /* A-Z a-z 0-9 _  may start a later metric key section */
    K_MINNER = 0x04, /* A-Z a-z 0-9 _ - inside a metric key section */
    K_DSTART = 0x08, /* A-Z a-z _      may start a dimension key section */
    K_DINNER = 0x10, /* A-Z a-z 0-9 _ - : inside a dimension key section */
    K_DOT = 0x20,
    K_MRUN = 0x40,   /* A-Z a-z 0-9 _ - .   may appear in a metric key as is */
    K_DRUN = 0x80    /* A-Z a-z 0-9 _ - : . may appear in a dimension key */
};

enum {
    V_ESC = 0x01,  /* escaped in an unquoted value: , = space \ " */
    V_QESC = 0x02, /* escaped in a quoted value: \ " */
    V_CTRL = 0x04, /* Cc: replaced by '_' (metadata: dropped) */
    V_HIGH = 0x08, /* >= 0x80: decode */
    V_QUOTE = 0x10, /* '"' (metadata: "bad") */
    V_WORTHY = 0x20, /* metadata: forces quotes: LF space , = " \ */
    V_UNIT = 0x40  /* allowed in a metadata unit */
};

#define IS_ALPHA(c) (((c) >= 'A' && (c) <= 'Z') || ((c) >= 'a' && (c) <= 'z'))
#define IS_DIGIT(c) ((c) >= '0' && (c) <= '9')

#define KEY_CLASS(c)                                                                   \
    ((IS_ALPHA(c) || (c) == '_' ? K_MSTART | K_MSECT | K_MINNER | K_DSTART | K_DINNER  \
                                : 0) |                                                 \
     (IS_DIGIT(c) ? K_MSECT | K_MINNER | K_DINNER : 0) |                               \
     ((c) == '-' ? K_MINNER | K_DINNER : 0) | ((c) == ':' ? K_DINNER : 0) |            \
     ((c) == '.' ? K_DOT | K_MRUN | K_DRUN : 0) |                                     \
     (IS_ALPHA(c) || IS_DIGIT(c) || (c) == '_' || (c) == '-' ? K_MRUN | K_DRUN : 0) |  \
     ((c) == ':' ? K_DRUN : 0))

#define VAL_CLASS(c)                                                                   \
    (((c) == ',' || (c) == '=' || (c) == ' ' ? V_ESC | V_WORTHY : 0) |                 \
     ((c) == '\\' ? V_ESC | V_QESC | V_WORTHY : 0) |                                   \
     ((c) == '"' ? V_ESC | V_QESC | V_QUOTE | V_WORTHY : 0) |                          \
     ((c) < 0x20 || (c) == 0x7F ? V_CTRL : 0) | ((c) == '\n' ? V_WORTHY : 0) |         \
     ((c) >= 0x80 ? V_HIGH : 0) |                                                      \
     (IS_ALPHA(c) || IS_DIGIT(c) || (c) == '%' || (c) == '[' || (c) == ']' ||          \
              (c) == '{' || (c) == '}' || (c) == '/' || (c) == '_'                     \
          ? V_UNIT                                                                     \
          : 0))

/* The tables are written out by the preprocessor, one entry per byte. */
#define T4(F, b) F(b), F((b) + 1), F((b) + 2), F((b) + 3)
#define T16(F, b) T4(F, b), T4(F, (b) + 4), T4(F, (b) + 8), T4(F, (b) + 12)
#define T64(F, b) T16(F, b), T16(F, (b) + 16), T16(F, (b) + 32), T16(F, (b) + 48)
#define T256(F) T64(F, 0), T64(F, 64), T64(F, 128), T64(F, 192)

static const unsigned char key_class[256] = {T256(KEY_CLASS)};
static const unsigned char val_class[256] = {T256(VAL_CLASS)};

/* ---- runs that need no decision ----
   The normalizers spend most of their time on input that is already valid.
   These loops copy such runs eight bytes per step when they can: the eight
   table look-ups of a step are independent, so they overlap, and the dots of
   a key are checked on the whole 8-byte word (little-endian hosts only; the
   byte loops give the same result elsewhere). */

#define ALL8(q, t) ((t)[(q)[0]] & (t)[(q)[1]] & (t)[(q)[2]] & (t)[(q)[3]] & \
                    (t)[(q)[4]] & (t)[(q)[5]] & (t)[(q)[6]] & (t)[(q)[7]])
#define ANY8(q, t) ((t)[(q)[0]] | (t)[(q)[1]] | (t)[(q)[2]] | (t)[(q)[3]] | \
                    (t)[(q)[4]] | (t)[(q)[5]] | (t)[(q)[6]] | (t)[(q)[7]])

#if defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__) && \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define DTM__SWAR 1
#define ONES UINT64_C(0x0101010101010101)
#define HIGH (ONES * 0x80)

/* The high bit of every byte of x that lies in [lo, hi]; every byte of x
   must be ASCII (then no addition carries into the next byte). */
static inline uint64_t in_range7(uint64_t x, unsigned lo, unsigned hi)
{
    return (x + ONES * (0x80 - lo)) & ~(x + ONES * (0x7F - hi)) & HIGH;
}

/* 1 if the ASCII word x (bytes of class run) holds no dot followed by a
   byte in [lo, hi] ('.' and '-' for metric keys; '-' to ':' for dimension
   keys), and a dot in its last byte is followed by a byte of class
   next_ok in next (NULL: end of the window). */
static inline int dots_ok(uint64_t x, unsigned lo, unsigned hi, const unsigned char *next,
                          unsigned next_ok, const unsigned char *tab)
{
    uint64_t dot = in_range7(x, '.', '.');
    if (!dot)
        return 1;
    if (dot & (in_range7(x, lo, hi) >> 8))
        return 0;
    if (dot >> 63)
        return next != NULL && (tab[*next] & next_ok);
    return 1;
}
#endif

/* Metric key, state "inside a section": copy p[0..m) while it is valid as
   is: A-Z a-z 0-9 _ -, or a dot followed by A-Z a-z 0-9 _. */
#ifdef DTM__SWAR
static inline int mkey_block(const unsigned char *q, const unsigned char *next, uint64_t *x)
{
    if (!(ALL8(q, key_class) & K_MRUN))
        return 0;
    memcpy(x, q, 8);
    return dots_ok(*x, '-', '.', next, K_MSECT, key_class);
}
#endif

static size_t mkey_run(char *o, const unsigned char *p, size_t m)
{
    size_t i = 0;
#ifdef DTM__SWAR
    uint64_t x;
    while (m - i >= 8 && mkey_block(p + i, m - i > 8 ? p + i + 8 : NULL, &x)) {
        memcpy(o + i, &x, 8);
        i += 8;
    }
    /* a short rest: one more block, overlapping what is already copied */
    if (i < m && m >= 8 && m - i < 8 && mkey_block(p + m - 8, NULL, &x)) {
        memcpy(o + m - 8, &x, 8);
        return m;
    }
#endif
    while (i < m) {
        unsigned cls = key_class[p[i]];
        if (cls & K_MINNER) {
            o[i] = (char)p[i];
            i++;
        } else if ((cls & K_DOT) && i + 1 < m && (key_class[p[i + 1]] & K_MSECT)) {
            o[i] = '.';
            o[i + 1] = (char)p[i + 1];
            i += 2;
        } else {
            break;
        }
    }
    return i;
}

#define LOWER(c) ((c) + ((c) >= 'A' && (c) <= 'Z' ? 'a' - 'A' : 0))
static const unsigned char lower_tab[256] = {T256(LOWER)};

/* Dimension key, state "inside a section": as mkey_run for a-z 0-9 _ - :
   and dots followed by a-z _, lower-casing A-Z on the way. */
#ifdef DTM__SWAR
static inline int dkey_block(const unsigned char *q, const unsigned char *next, uint64_t *x)
{
    if (!(ALL8(q, key_class) & K_DRUN))
        return 0;
    memcpy(x, q, 8);
    if (!dots_ok(*x, '-', ':', next, K_DSTART, key_class))
        return 0;
    *x |= in_range7(*x, 'A', 'Z') >> 2; /* 0x80 >> 2 == 'a' - 'A' */
    return 1;
}
#endif

static size_t dkey_run(char *o, const unsigned char *p, size_t m)
{
    size_t i = 0;
#ifdef DTM__SWAR
    uint64_t x;
    while (m - i >= 8 && dkey_block(p + i, m - i > 8 ? p + i + 8 : NULL, &x)) {
        memcpy(o + i, &x, 8);
        i += 8;
    }
    if (i < m && m >= 8 && m - i < 8 && dkey_block(p + m - 8, NULL, &x)) {
        memcpy(o + m - 8, &x, 8);
        return m;
    }
#endif
    while (i < m) {
        unsigned cls = key_class[p[i]];
        if (cls & K_DINNER) {
            o[i] = (char)lower_tab[p[i]];
            i++;
        } else if ((cls & K_DOT) && i + 1 < m && (key_class[p[i + 1]] & K_DSTART)) {
            o[i] = '.';
            o[i + 1] = (char)lower_tab[p[i + 1]];
            i += 2;
        } else {
            break;
        }
    }
    return i;
}

/* Dimension value: copy the leading bytes of p[0..m) that have none of the
   class bits in mask (nothing to escape, replace or decode). */
static inline size_t copy_clear(char *o, const unsigned char *p, size_t m,
                                const unsigned char *tab, unsigned mask)
{
    size_t i = 0;
    while (m - i >= 8 && !(ANY8(p + i, tab) & mask)) {
        memcpy(o + i, p + i, 8);
        i += 8;
    }
    if (i < m && m >= 8 && m - i < 8 && !(ANY8(p + m - 8, tab) & mask)) {
        memcpy(o + m - 8, p + m - 8, 8);
        return m;
    }
    while (i < m && !(tab[p[i]] & mask)) {
        o[i] = (char)p[i];
        i++;
    }
    return i;
}

/* Length of the UTF-8 sequence a lead byte announces (1 for a bad lead). */
static size_t seq_len(unsigned lead)
{
    if (lead >= 0xC2 && lead <= 0xDF)
        return 2;
    if (lead >= 0xE0 && lead <= 0xEF)
        return 3;
    if (lead >= 0xF0 && lead <= 0xF4)
        return 4;
    return 1;
}

/* ---- metric key (spec 2.2), streaming ---- */

enum { MK_FIRST, MK_SECTION, MK_DOT, MK_INVALID };

void dtm__mkey_init(dtm__mkey *k)
{
    k->len = 0;
    k->window = 0;
    k->state = MK_FIRST;
    k->repl = 0;
    k->npend = 0;
}

void dtm__mkey_copy(dtm__mkey *dst, const dtm__mkey *src)
{
    memcpy(dst->out, src->out, src->len);
    dst->len = src->len;
    dst->window = src->window;
    dst->state = src->state;
    dst->repl = src->repl;
    dst->npend = src->npend;
    memcpy(dst->pend, src->pend, sizeof dst->pend);
}

/* Continue a multi-byte sequence cut by the end of the previous feed.  Its
   single invalid-character effect on the output and its first unit were
   applied then; a completed 4-byte sequence adds its second unit.  Returns
   the bytes of p that belonged to it. */
static size_t mkey_resume(dtm__mkey *k, const unsigned char *p, size_t n)
{
    unsigned char tmp[4];
    size_t np = k->npend, take = 4 - np, adv;
    uint32_t cp;

    if (take > n)
        take = n;
    memcpy(tmp, k->pend, np);
    memcpy(tmp + np, p, take);
    cp = dtm__utf8_next(tmp, np + take, &adv);
    if (cp == DTM__CP_INVALID && adv == np + take && adv < seq_len(tmp[0])) {
        /* still not complete: all of p was taken */
        memcpy(k->pend, tmp, adv);
        k->npend = (unsigned char)adv;
        return take;
    }
    k->npend = 0;
    if (cp != DTM__CP_INVALID && cp > 0xFFFF)
        k->window++;
    /* the pending bytes are a valid prefix, so the sequence covers them all */
    return adv - np;
}

void dtm__mkey_feed(dtm__mkey *k, const char *in, size_t n)
{
    const unsigned char *p = (const unsigned char *)in, *end;
    char *out = k->out;
    size_t len, window;
    unsigned state, repl;

    if (n == 0 || k->state == MK_INVALID)
        return;
    if (DTM__UNLIKELY(k->npend != 0)) {
        size_t used = mkey_resume(k, p, n);
        p += used;
        n -= used;
    }
    end = p + n;
    len = k->len;
    window = k->window;
    state = k->state;
    repl = k->repl;

    while (p < end && window < DTM_MAX_METRIC_KEY_LEN) {
        unsigned c, cls;
        if (state == MK_SECTION) {
            /* the common case: a run that stays as it is */
            size_t room = DTM_MAX_METRIC_KEY_LEN - window, avail = (size_t)(end - p);
            size_t i = mkey_run(out + len, p, avail < room ? avail : room);
            if (i) {
                len += i;
                window += i;
                p += i;
                repl = 0;
                if (p == end || window >= DTM_MAX_METRIC_KEY_LEN)
                    break;
            }
        }
        c = *p;
        if (DTM__LIKELY(c < 0x80)) {
            cls = key_class[c];
            p++;
            window++;
        } else {
            size_t adv, left = (size_t)(end - p);
            uint32_t cp = dtm__utf8_next(p, left, &adv);
            if (cp == DTM__CP_INVALID && adv == left && adv < seq_len(c)) {
                /* cut by the end of this piece: the next feed may complete it */
                memcpy(k->pend, p, adv);
                k->npend = (unsigned char)adv;
            }
            p += adv;
            window += dtm__cp_units(cp);
            cls = 0; /* nothing outside ASCII is allowed in a key */
        }

        switch (state) {
        case MK_FIRST:
            if (cls & K_DOT) {
                state = MK_INVALID; /* empty first section */
                goto done;
            }
            if (cls & K_MSTART) {
                out[len++] = (char)c;
                repl = 0;
            } else {
                out[len++] = '_';
                repl = 1;
            }
            state = MK_SECTION;
            break;
        case MK_SECTION:
            if (cls & K_DOT) {
                /* nothing is written until the next section starts, so a
                   trailing dot simply never shows */
                state = MK_DOT;
                repl = 0;
            } else if (cls & K_MINNER) {
                out[len++] = (char)c;
                repl = 0;
            } else if (!repl) {
                out[len++] = '_';
                repl = 1;
            }
            break;
        default: /* MK_DOT */
            if (cls & K_DOT)
                break; /* empty sections vanish */
            out[len++] = '.';
            if (cls & K_MSECT) {
                out[len++] = (char)c;
                repl = 0;
            } else {
                out[len++] = '_';
                repl = 1;
            }
            state = MK_SECTION;
            break;
        }
    }
done:
    k->len = len;
    k->window = window;
    k->state = (unsigned char)state;
    k->repl = (unsigned char)repl;
}

dtm_status dtm__mkey_status(const dtm__mkey *k)
{
    return (k->state == MK_FIRST || k->state == MK_INVALID) ? DTM_EKEY : DTM_OK;
}

/* ---- dimension key (spec 3.1) ---- */

enum { DK_START, DK_SECTION };

size_t dtm__norm_dim_key(const char *in, size_t n, char *out)
{
    const unsigned char *p = (const unsigned char *)in;
    size_t i = 0, len = 0, window = 0;
    unsigned state = DK_START, repl = 0;

    if (n > 0 && (key_class[p[0]] & K_DSTART)) {
        /* most keys are valid as they are (up to case): one run does them */
        size_t m = n < DTM_MAX_DIMENSION_KEY_LEN ? n : DTM_MAX_DIMENSION_KEY_LEN;
        out[0] = (char)lower_tab[p[0]];
        i = len = window = 1 + dkey_run(out + 1, p + 1, m - 1);
        if (i == m)
            return len;
        state = DK_SECTION;
    }

    while (i < n && window < DTM_MAX_DIMENSION_KEY_LEN) {
        unsigned c, cls;
        if (state == DK_SECTION) {
            size_t room = DTM_MAX_DIMENSION_KEY_LEN - window;
            size_t j = dkey_run(out + len, p + i, n - i < room ? n - i : room);
            if (j) {
                len += j;
                window += j;
                i += j;
                repl = 0;
                if (i == n || window >= DTM_MAX_DIMENSION_KEY_LEN)
                    break;
            }
        }
        c = p[i];
        if (DTM__LIKELY(c < 0x80)) {
            cls = key_class[c];
            c = lower_tab[c];
            i++;
            window++;
        } else {
            size_t adv;
            uint32_t cp = dtm__utf8_next(p + i, n - i, &adv);
            i += adv;
            window += dtm__cp_units(cp);
            /* the only non-ASCII code points whose simple lower case is
               ASCII: LATIN CAPITAL LETTER I WITH DOT ABOVE and KELVIN SIGN */
            if (cp == 0x0130) {
                c = 'i';
                cls = K_DSTART | K_DINNER;
            } else if (cp == 0x212A) {
                c = 'k';
                cls = K_DSTART | K_DINNER;
            } else {
                cls = 0;
            }
        }

        if (cls & K_DOT) {
            /* leading dots and empty sections vanish; a trailing dot leaves
               the state at DK_START, which writes nothing */
            state = DK_START;
            repl = 0;
        } else if (state == DK_START) {
            if (len)
                out[len++] = '.';
            if (cls & K_DSTART) {
                out[len++] = (char)c;
                repl = 0;
            } else {
                out[len++] = '_';
                repl = 1;
            }
            state = DK_SECTION;
        } else if (cls & K_DINNER) {
            out[len++] = (char)c;
            repl = 0;
        } else if (!repl) {
            out[len++] = '_';
            repl = 1;
        }
    }
    return len;
}

/* ---- dimension value (spec 3.2) ---- */

/* Escape and copy in[i..end) into out+len with a budget of
   DTM_MAX_DIMENSION_VALUE_LEN - reserve units; escmask selects the
   characters that get a backslash.  Stops at the first character that
   does not fit.  Updates *plen and *punits. */
static void value_body(const unsigned char *p, size_t i, size_t end, unsigned escmask,
                       size_t reserve, char *out, size_t *plen, size_t *punits)
{
    const size_t max = DTM_MAX_DIMENSION_VALUE_LEN - reserve;
    size_t len = *plen, units = *punits;
    unsigned repl = 0;

    while (i < end) {
        unsigned c = p[i], cls = val_class[c] & (escmask | V_CTRL | V_HIGH);
        if (DTM__LIKELY(cls == 0)) {
            /* a run of plain ASCII: one byte, one unit each */
            size_t room = max - units, j;
            size_t m = end - i < room ? end - i : room;
            if (m == 0)
                break;
            j = copy_clear(out + len, p + i, m, val_class, escmask | V_CTRL | V_HIGH);
            len += j;
            units += j;
            i += j;
            repl = 0;
            continue;
        }
        if (cls & escmask) {
            if (units + 2 > max)
                break;
            out[len++] = '\\';
            out[len++] = (char)c;
            units += 2;
            i++;
            repl = 0;
            continue;
        }
        if (cls & V_HIGH) {
            size_t adv, u;
            uint32_t cp = dtm__utf8_next(p + i, end - i, &adv);
            if (!dtm__cp_invalid_in_value(cp)) {
                u = dtm__cp_units(cp);
                if (units + u > max)
                    break;
                memcpy(out + len, p + i, adv);
                len += adv;
                units += u;
                i += adv;
                repl = 0;
                continue;
            }
            i += adv;
        } else {
            i++; /* ASCII control */
        }
        /* an invalid code point: one '_' for a run of them */
        if (repl)
            continue;
        if (units + 1 > max)
            break;
        out[len++] = '_';
        units++;
        repl = 1;
    }
    *plen = len;
    *punits = units;
}

size_t dtm__norm_dim_value(const char *in, size_t n, char *out, size_t *units)
{
    const unsigned char *p = (const unsigned char *)in;
    size_t len = 0, u = 0;

    if (n == 0 || (n == 2 && p[0] == '"' && p[1] == '"')) {
        /* empty, or deviation D3: '""' would be an empty value on the wire */
        *units = 0;
        return 0;
    }
    if (n >= 2 && p[0] == '"' && p[n - 1] == '"') {
        /* quoted by the caller (deviation D2: a lone '"' is not): keep the
           quotes, escape only '"' and '\' inside, reserve the closing quote */
        out[len++] = '"';
        u = 1;
        value_body(p, 1, n - 1, V_QESC, 1, out, &len, &u);
        out[len++] = '"';
        u++;
    } else {
        /* most values need nothing: copy them before setting up the loop */
        size_t m = n < DTM_MAX_DIMENSION_VALUE_LEN ? n : DTM_MAX_DIMENSION_VALUE_LEN;
        len = u = copy_clear(out, p, m, val_class, V_ESC | V_CTRL | V_HIGH);
        if (len < n)
            value_body(p, len, n, V_ESC, 0, out, &len, &u);
    }
    *units = u;
    return len;
}

/* ---- metadata strings (spec 10) ---- */

/* D7: is the next code point that survives, skipping dropped ones and
   backslashes, a quote, or is there none before the end of the content?
   Then the backslash (and the whole run it belongs to) is dropped. */
static int bs_before_quote(const unsigned char *p, size_t i, size_t ce)
{
    while (i < ce) {
        size_t adv;
        uint32_t cp;
        if (p[i] < 0x80) {
            if (p[i] == '"')
                return 1;
            if (p[i] != '\\' && (p[i] == '\n' || !(val_class[p[i]] & V_CTRL)))
                return 0;
            i++;
            continue;
        }
        cp = dtm__utf8_next(p + i, ce - i, &adv);
        if (!dtm__cp_invalid_in_meta(cp))
            return 0;
        i += adv;
    }
    return 1;
}

int dtm__norm_meta_string(const char *in, size_t n, size_t max_units, dtm__writer *w)
{
    const unsigned char *p = (const unsigned char *)in;
    size_t cs, ce, i, units = 0, idx, save_len, save_units;
    unsigned flags = 0;
    int quoted, emitted = 0;
    size_t bs_run = 0; /* literal backslashes at the end of the output */

    if (n == 0 || (n == 2 && p[0] == '"' && p[1] == '"'))
        return 0;
    quoted = n >= 2 && p[0] == '"' && p[n - 1] == '"';
    cs = quoted ? 1 : 0;
    ce = quoted ? n - 1 : n;

    /* Fast path: no bad code point and within the budget: the value as is,
       or wrapped in quotes without any escaping. */
    for (i = cs; i < ce;) {
        unsigned c = p[i];
        if (c < 0x80) {
            flags |= val_class[c];
            units++;
            i++;
        } else {
            size_t adv;
            uint32_t cp = dtm__utf8_next(p + i, ce - i, &adv);
            if (dtm__cp_invalid_in_meta(cp))
                flags |= V_CTRL;
            units += dtm__cp_units(cp);
            i += adv;
        }
    }
    /* Deviation D7 (ours): the reference can write a backslash right before
       the closing quote ("a\\" from a\) or before an escaped quote, and the
       line can then not be parsed.  A content ending in a backslash takes
       the slow path, which drops every backslash that would stand before a
       quote. */
    if (ce > cs && p[ce - 1] == '\\')
        flags |= V_QUOTE;
    if (!(flags & (V_CTRL | V_QUOTE)) && units <= max_units) {
        if (quoted || !(flags & V_WORTHY)) {
            dtm__writer_put(w, in, n, units + (quoted ? 2 : 0));
        } else {
            dtm__writer_putc(w, '"');
            dtm__writer_put(w, in, n, units);
            dtm__writer_putc(w, '"');
        }
        return 1;
    }

    /* Slow path.  The budget is checked against the UTF-16 index of each
       code point in the original value (the reference's quirk): dropped
       code points still use budget and the quotes are not counted. */
    save_len = w->len;
    save_units = w->units;
    dtm__writer_putc(w, '"');
    idx = cs;
    for (i = cs; i < ce;) {
        unsigned c = p[i];
        if (c < 0x80) {
            unsigned cls = val_class[c];
            if (c == '\n' || c == '"') {
                if (idx + 2 > max_units)
                    break;
                dtm__writer_putc(w, '\\');
                dtm__writer_putc(w, c == '\n' ? 'n' : '"');
                emitted++;
                bs_run = 0;
            } else if (c == '\\' && bs_before_quote(p, i + 1, ce)) {
                /* D7: dropped (it still uses budget, like other drops) */
            } else if (!(cls & V_CTRL)) {
                if (idx + 1 > max_units)
                    break;
                dtm__writer_putc(w, (char)c);
                emitted++;
                bs_run = c == '\\' ? bs_run + 1 : 0;
            }
            idx++;
            i++;
        } else {
            size_t adv, u;
            uint32_t cp = dtm__utf8_next(p + i, ce - i, &adv);
            u = dtm__cp_units(cp);
            if (!dtm__cp_invalid_in_meta(cp)) {
                if (idx + u > max_units)
                    break;
                dtm__writer_put(w, in + i, adv, u);
                emitted++;
                bs_run = 0;
            }
            idx += u;
            i += adv;
        }
    }
    if (bs_run) {
        /* cut by the budget inside a run of backslashes: the run would stand
           before the closing quote (D7) */
        w->len -= bs_run;
        w->units -= bs_run;
        emitted -= (int)bs_run;
    }
    if (!emitted) {
        /* '""' carries nothing: take back the opening quote */
        w->len = save_len;
        w->units = save_units;
        return 0;
    }
    dtm__writer_putc(w, '"');
    return 1;
}

/* ---- public wrappers ---- */

/* Argument rules shared by the public normalizers (snprintf convention). */
static int bad_args(const char *in, size_t in_len, char *out, size_t out_cap, size_t *out_len)
{
    if (out_len == NULL || (in == NULL && in_len > 0) || (out == NULL && out_cap > 0)) {
        if (out_len)
            *out_len = 0;
        if (out && out_cap)
            out[0] = '\0';
        return 1;
    }
    return 0;
}

/* No result (DTM_EKEY, DTM_EVALUE): an empty string and length 0. */
static dtm_status no_result(dtm_status st, char *out, size_t out_cap, size_t *out_len)
{
    *out_len = 0;
    if (out_cap)
        out[0] = '\0';
    return st;
}

dtm_status dtm_normalize_metric_key(const char *in, size_t in_len, char *out,
                                    size_t out_cap, size_t *out_len)
{
    dtm__mkey k;
    if (bad_args(in, in_len, out, out_cap, out_len))
        return DTM_EINVAL;
    dtm__mkey_init(&k);
    dtm__mkey_feed(&k, in, in_len);
    if (dtm__mkey_status(&k) != DTM_OK)
        return no_result(DTM_EKEY, out, out_cap, out_len);
    return dtm__copy_out(k.out, k.len, out, out_cap, out_len);
}

dtm_status dtm_normalize_dimension_key(const char *in, size_t in_len, char *out,
                                       size_t out_cap, size_t *out_len)
{
    char buf[DTM_MAX_DIMENSION_KEY_LEN];
    size_t n;
    if (bad_args(in, in_len, out, out_cap, out_len))
        return DTM_EINVAL;
    n = dtm__norm_dim_key(in, in_len, buf);
    if (n == 0)
        return no_result(DTM_EKEY, out, out_cap, out_len);
    return dtm__copy_out(buf, n, out, out_cap, out_len);
}

dtm_status dtm_normalize_dimension_value(const char *in, size_t in_len, char *out,
                                         size_t out_cap, size_t *out_len)
{
    char buf[DTM_MAX_DIMENSION_VALUE_BYTES];
    size_t n, units;
    if (bad_args(in, in_len, out, out_cap, out_len))
        return DTM_EINVAL;
    n = dtm__norm_dim_value(in, in_len, buf, &units);
    return dtm__copy_out(buf, n, out, out_cap, out_len);
}

dtm_status dtm_normalize_metadata_string(const char *in, size_t in_len, size_t max_units,
                                         char *out, size_t out_cap, size_t *out_len)
{
    dtm__writer w;
    if (bad_args(in, in_len, out, out_cap, out_len))
        return DTM_EINVAL;
    dtm__writer_init(&w, out, out_cap);
    if (!dtm__norm_meta_string(in, in_len, max_units, &w))
        return no_result(DTM_EVALUE, out, out_cap, out_len);
    return dtm__writer_finish(&w, out_len);
}

int dtm_unit_is_valid(const char *unit, size_t unit_len)
{
    const unsigned char *p = (const unsigned char *)unit;
    size_t i;
    if (unit == NULL || unit_len == 0 || unit_len > DTM_MAX_UNIT_LEN)
        return 0;
    for (i = 0; i < unit_len; i++)
        if (!(val_class[p[i]] & V_UNIT))
            return 0;
    return 1;
}
