/*
 * The owned key/value list and the .properties reader of spec 7.3: the part
 * of java.util.Properties that metadata files use, plus deviation D5
 * (unescaped trailing white space of values is trimmed).
 *
 * The reader works in two steps, like the format itself: physical lines are
 * joined into one logical line (comments and blank lines dropped, a line
 * ending in an odd number of backslashes continued), then the logical line is
 * split into key and value and their escapes are decoded in place.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "enrich.h"

/* ---- the key/value list ---- */

void dtm__kvlist_free(dtm__kvlist *l)
{
    size_t i;
    if (!l)
        return;
    for (i = 0; i < l->n; i++) {
        dtm__free(l->keys[i]);
        dtm__free(l->values[i]);
    }
    dtm__free(l->keys);
    dtm__free(l->values);
    l->keys = NULL;
    l->values = NULL;
    l->n = 0;
    l->cap = 0;
}

/* stored is NUL-terminated; key has key_len bytes and no NUL. */
static int key_equals(const char *stored, const char *key, size_t key_len)
{
    return strncmp(stored, key, key_len) == 0 && stored[key_len] == '\0';
}

static dtm_status kvlist_reserve(dtm__kvlist *l)
{
    size_t cap;
    char **p;
    if (l->n < l->cap)
        return DTM_OK;
    cap = l->cap ? l->cap * 2 : 8;
    if (cap < l->cap || cap > SIZE_MAX / sizeof *p)
        return DTM_ENOMEM;
    /* If only the first array grows, cap stays: the next call grows it again
       (a no-op for it) and retries the second. */
    p = dtm__realloc(l->keys, cap * sizeof *p);
    if (!p)
        return DTM_ENOMEM;
    l->keys = p;
    p = dtm__realloc(l->values, cap * sizeof *p);
    if (!p)
        return DTM_ENOMEM;
    l->values = p;
    l->cap = cap;
    return DTM_OK;
}

dtm_status dtm__kvlist_set(dtm__kvlist *l, const char *key, size_t key_len, const char *value,
                           size_t value_len)
{
    size_t i;
    char *k, *v;
    if (!l || !key || !value)
        return DTM_EINVAL;
    if (memchr(key, '\0', key_len) || memchr(value, '\0', value_len))
        return DTM_EINVAL;
    for (i = 0; i < l->n; i++) {
        if (key_equals(l->keys[i], key, key_len)) {
            v = dtm__strndup(value, value_len);
            if (!v)
                return DTM_ENOMEM;
            dtm__free(l->values[i]);
            l->values[i] = v;
            return DTM_OK;
        }
    }
    if (kvlist_reserve(l) != DTM_OK)
        return DTM_ENOMEM;
    k = dtm__strndup(key, key_len);
    v = dtm__strndup(value, value_len);
    if (!k || !v) {
        dtm__free(k);
        dtm__free(v);
        return DTM_ENOMEM;
    }
    l->keys[l->n] = k;
    l->values[l->n] = v;
    l->n++;
    return DTM_OK;
}

/* ---- the reader ---- */

typedef struct props_reader {
    const char *text;
    size_t n;
    size_t pos;        /* start of the next physical line */
    size_t lineno;     /* number of the physical line last read (1-based) */
    size_t first_line; /* where the current logical line began */
    char *buf;         /* the current logical line (not NUL-terminated) */
    size_t len;
    size_t cap;
    size_t pairs;      /* pairs stored so far */
    int warned;        /* for dtm__once_level */
    const char *source;
    const dtm__log *log;
    dtm__kvlist *out;
} props_reader;

/* Result of one logical line; DTM_OK and DTM_ENOMEM are passed on as such. */
#define PROPS_STOP 1

/* White space that separates and is skipped (java.util.Properties). */
static int is_sep_space(char c)
{
    return c == ' ' || c == '\t' || c == '\f';
}

/* Trailing white space trimmed from values (D5): ASCII white space that can
   occur inside a line. */
static int is_trim_space(char c)
{
    return c == ' ' || c == '\t' || c == '\f' || c == '\v';
}

/* The next physical line [*s, *e), without its terminator (LF, CR or CRLF).
   Returns 0 at the end of the text. */
static int next_physical(props_reader *r, size_t *s, size_t *e)
{
    size_t i = r->pos;
    if (i >= r->n)
        return 0;
    *s = i;
    while (i < r->n && r->text[i] != '\n' && r->text[i] != '\r')
        i++;
    *e = i;
    if (i < r->n)
        i += (r->text[i] == '\r' && i + 1 < r->n && r->text[i + 1] == '\n') ? 2 : 1;
    r->pos = i;
    r->lineno++;
    return 1;
}

static dtm_status buf_append(props_reader *r, const char *s, size_t m)
{
    if (m == 0)
        return DTM_OK;
    if (m > r->cap - r->len) {
        size_t cap = r->cap ? r->cap : 256;
        char *b;
        while (cap - r->len < m) {
            if (cap > SIZE_MAX / 2)
                return DTM_ENOMEM;
            cap *= 2;
        }
        b = dtm__realloc(r->buf, cap);
        if (!b)
            return DTM_ENOMEM;
        r->buf = b;
        r->cap = cap;
    }
    memcpy(r->buf + r->len, s, m);
    r->len += m;
    return DTM_OK;
}

/* Assemble the next logical line into r->buf.  Returns 1 when there is one
   (possibly empty), 0 at the end of the text, -1 when out of memory. */
static int next_logical(props_reader *r)
{
    size_t s, e, k;
    int cont = 0;
    r->len = 0;
    while (next_physical(r, &s, &e)) {
        /* Leading white space goes, also on a continuation line. */
        while (s < e && is_sep_space(r->text[s]))
            s++;
        if (!cont) {
            /* Only a line of its own can be blank or a comment. */
            if (s == e || r->text[s] == '#' || r->text[s] == '!')
                continue;
            r->first_line = r->lineno;
        }
        k = 0;
        while (k < e - s && r->text[e - 1 - k] == '\\')
            k++;
        cont = (k & 1) != 0;
        if (buf_append(r, r->text + s, e - s - (size_t)cont) != DTM_OK)
            return -1;
        if (!cont)
            return 1;
    }
    /* The text ended inside a continuation: the line ends here. */
    return cont ? 1 : 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Four hex digits at p (avail bytes there), or -1. */
static long hex4(const char *p, size_t avail)
{
    long v = 0;
    int i, h;
    if (avail < 4)
        return -1;
    for (i = 0; i < 4; i++) {
        h = hexval(p[i]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

/* UTF-8 of cp (at most U+10FFFF).  A lone surrogate gets the three-byte form
   that the normalizers treat as one invalid code point (spec 0.4). */
static size_t put_utf8(unsigned long cp, char *o)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Decode the escapes of b[from, to) in place; the result is b[from, from +
   *out_len).  Every escape is at least as long as what it decodes to, so the
   output never overtakes the input.  With trim, unescaped white space at the
   end is dropped (D5).  Returns -1 for a malformed \u escape. */
static int unescape(char *b, size_t from, size_t to, int trim, size_t *out_len)
{
    size_t i = from, o = from, keep = from;
    long cp, lo;
    char c;
    while (i < to) {
        c = b[i++];
        if (c != '\\') {
            b[o++] = c;
            if (!trim || !is_trim_space(c))
                keep = o;
            continue;
        }
        if (i == to) /* a lone final backslash; line assembly never leaves one */
            break;
        c = b[i++];
        switch (c) {
        case 't': b[o++] = '\t'; break;
        case 'n': b[o++] = '\n'; break;
        case 'r': b[o++] = '\r'; break;
        case 'f': b[o++] = '\f'; break;
        case 'u':
            cp = hex4(b + i, to - i);
            if (cp < 0)
                return -1;
            i += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF && to - i >= 6 && b[i] == '\\' && b[i + 1] == 'u') {
                lo = hex4(b + i + 2, to - i - 2);
                if (lo >= 0xDC00 && lo <= 0xDFFF) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    i += 6;
                }
            }
            o += put_utf8((unsigned long)cp, b + o);
            break;
        default: b[o++] = c; break;
        }
        keep = o;
    }
    *out_len = (trim ? keep : o) - from;
    return 0;
}

#define LOG_KEY_MAX 64 /* bytes of a key quoted in a log message */

/* Log a skipped pair: the first of a text at WARN, the rest at DEBUG. */
static void skip_pair(props_reader *r, const char *why, const char *key, size_t key_len)
{
    dtm_log_level level = dtm__once_level(&r->warned);
    int shown = key_len > LOG_KEY_MAX ? LOG_KEY_MAX : (int)key_len;
    if (key)
        dtm__logf(r->log, level, "%s line %zu: %s for key '%.*s%s'; pair skipped", r->source,
                  r->first_line, why, shown, key, key_len > LOG_KEY_MAX ? "..." : "");
    else
        dtm__logf(r->log, level, "%s line %zu: %s; pair skipped", r->source, r->first_line, why);
}

/* Split the logical line in r->buf into key and value and store the pair.
   Returns DTM_OK, DTM_ENOMEM or PROPS_STOP (pair limit reached). */
static int parse_line(props_reader *r)
{
    char *b = r->buf;
    size_t len = r->len, kend, vstart, klen, vlen;
    int esc = 0, sep = 0;
    char c;

    if (len == 0) /* a continuation that joined nothing */
        return DTM_OK;
    /* The key ends at the first unescaped '=', ':' or white space. */
    for (kend = 0; kend < len; kend++) {
        c = b[kend];
        if (!esc && (c == '=' || c == ':' || is_sep_space(c)))
            break;
        esc = c == '\\' ? !esc : 0;
    }
    /* Then white space, at most one '=' or ':', white space. */
    vstart = kend;
    while (vstart < len) {
        c = b[vstart];
        if (is_sep_space(c)) {
            vstart++;
        } else if (!sep && (c == '=' || c == ':')) {
            sep = 1;
            vstart++;
        } else {
            break;
        }
    }
    if (unescape(b, 0, kend, 0, &klen) != 0) {
        skip_pair(r, "malformed \\uXXXX escape in the key", NULL, 0);
        return DTM_OK;
    }
    if (klen == 0) {
        skip_pair(r, "empty key", NULL, 0);
        return DTM_OK;
    }
    if (unescape(b, vstart, len, 1, &vlen) != 0) {
        skip_pair(r, "malformed \\uXXXX escape in the value", b, klen);
        return DTM_OK;
    }
    if (vlen == 0) {
        skip_pair(r, "empty value", b, klen);
        return DTM_OK;
    }
    if (klen > DTM__PROPS_MAX_ITEM || vlen > DTM__PROPS_MAX_ITEM) {
        skip_pair(r, "key or value too long", b, klen);
        return DTM_OK;
    }
    if (memchr(b, '\0', klen) || memchr(b + vstart, '\0', vlen)) {
        skip_pair(r, "NUL byte in the key or value", b, klen);
        return DTM_OK;
    }
    if (r->pairs >= DTM__PROPS_MAX_PAIRS) {
        dtm__logf(r->log, DTM_LOG_WARN, "%s line %zu: more than %u pairs; the rest is ignored",
                  r->source, r->first_line, DTM__PROPS_MAX_PAIRS);
        return PROPS_STOP;
    }
    r->pairs++;
    return dtm__kvlist_set(r->out, b, klen, b + vstart, vlen);
}

dtm_status dtm__properties_parse_source(const char *text, size_t n, const char *source,
                                        dtm__kvlist *out, const dtm__log *log)
{
    props_reader r;
    int got, rc = DTM_OK;
    if (!out || (!text && n))
        return DTM_EINVAL;
    memset(&r, 0, sizeof r);
    /* A UTF-8 byte order mark (Windows editors write one) is not part of the
       first key. */
    if (n >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
        text += 3;
        n -= 3;
    }
    r.text = text;
    r.n = n;
    r.source = source ? source : "properties";
    r.log = log;
    r.out = out;
    for (;;) {
        got = next_logical(&r);
        if (got < 0) {
            rc = DTM_ENOMEM;
            break;
        }
        if (got == 0)
            break;
        rc = parse_line(&r);
        if (rc != DTM_OK)
            break;
    }
    dtm__free(r.buf);
    if (rc == PROPS_STOP)
        rc = DTM_OK;
    if (rc == DTM_OK)
        dtm__logf(log, DTM_LOG_DEBUG, "%s: %zu pairs read", r.source, r.pairs);
    return (dtm_status)rc;
}

dtm_status dtm__properties_parse(const char *text, size_t n, dtm__kvlist *out, const dtm__log *log)
{
    return dtm__properties_parse_source(text, n, NULL, out, log);
}
