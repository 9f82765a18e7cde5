/*
 * Protocol layer: the line parser / validator (dtm_parse_line).
 *
 * Two passes over the line:
 *  1. a text pass checks that the bytes are well-formed UTF-8 and finds where
 *     a data line passes 50,000 UTF-16 units (8 ASCII bytes at a time);
 *  2. a structural pass walks key, dimensions, payload and timestamp.  It
 *     treats bytes >= 0x80 as opaque characters, so it behaves exactly as on
 *     valid input up to the first ill-formed byte.
 * The problem reported is the one at the smallest offset; on a tie the text
 * pass wins ("invalid UTF-8" says more than "invalid character").
 *
 * Metadata lines are read by parsemeta.c, numbers by parsenum.c (exactly,
 * independent of LC_NUMERIC).
 *
 * Pure, reentrant, allocation-free.
 */
#include "config.h"

#include <string.h>

#include "lineparse.h"
#include "parsenum.h"

#define MAX_KEY DTM_MAX_METRIC_KEY_LEN
#define MAX_DIM_KEY DTM_MAX_DIMENSION_KEY_LEN
#define MAX_DIM_VALUE DTM_MAX_DIMENSION_VALUE_LEN
#define MAX_DIMS DTM_MAX_DIMENSIONS
#define MAX_LINE DTM_MAX_LINE_LEN

/* ---- characters ---- */

/* First character of a metric key. */
static int mk_first(unsigned ch) { return is_alpha(ch) || ch == '_'; }
/* First character of a later metric key section. */
static int mk_section(unsigned ch) { return mk_first(ch) || is_digit(ch); }
/* Any other metric key character. */
static int mk_body(unsigned ch) { return mk_section(ch) || ch == '-'; }
/* First character of a dimension key section. */
static int dk_first(unsigned ch) { return is_lower(ch) || ch == '_'; }
/* Any other dimension key character. */
static int dk_body(unsigned ch)
{
    return dk_first(ch) || is_digit(ch) || ch == '-' || ch == ':';
}

/* Reason for a character that may not appear in a key. */
static const char *key_char_reason(unsigned ch, const char *non_ascii, const char *other)
{
    if (ch == '\t')
        return "a tab is not allowed (parts are separated by one space)";
    if (ch < 0x20 || ch == 0x7F)
        return "a control character is not allowed here";
    if (ch >= 0x80)
        return non_ascii;
    return other;
}

/* ---- pass 1: UTF-8 and line length ---- */

/* Sets *bad_at to the start of the first ill-formed UTF-8 sequence and
   *long_at to the start of the first code point past limit UTF-16 units
   (limit 0: no limit); SIZE_MAX when there is none.  Stops at the first. */
static void scan_text(const unsigned char *s, size_t len, size_t limit, size_t *bad_at,
                      size_t *long_at)
{
    size_t i = 0, units = 0;
    *bad_at = SIZE_MAX;
    *long_at = SIZE_MAX;
    if (limit == 0 || len <= limit)
        limit = SIZE_MAX; /* bytes >= units: the limit cannot be reached */
    while (i < len) {
        unsigned b0;
        size_t n, u;
        uint64_t w;
        if (i + 8 <= len) {
            memcpy(&w, s + i, 8);
            if ((w & UINT64_C(0x8080808080808080)) == 0) {
                if (DTM__UNLIKELY(units + 8 > limit)) {
                    *long_at = i + (limit - units);
                    return;
                }
                i += 8;
                units += 8;
                continue;
            }
        }
        b0 = s[i];
        if (b0 < 0x80) {
            n = 1;
            u = 1;
        } else {
            unsigned lo = 0x80, hi = 0xBF, k;
            if (b0 >= 0xC2 && b0 <= 0xDF) {
                n = 2;
            } else if (b0 >= 0xE0 && b0 <= 0xEF) {
                n = 3;
                if (b0 == 0xE0)
                    lo = 0xA0;
                else if (b0 == 0xED)
                    hi = 0x9F; /* no surrogates */
            } else if (b0 >= 0xF0 && b0 <= 0xF4) {
                n = 4;
                if (b0 == 0xF0)
                    lo = 0x90;
                else if (b0 == 0xF4)
                    hi = 0x8F; /* nothing above U+10FFFF */
            } else {
                *bad_at = i; /* stray continuation, C0/C1 overlong lead, F5..FF */
                return;
            }
            if (i + n > len || s[i + 1] < lo || s[i + 1] > hi) {
                *bad_at = i;
                return;
            }
            for (k = 2; k < n; k++) {
                if (s[i + k] < 0x80 || s[i + k] > 0xBF) {
                    *bad_at = i;
                    return;
                }
            }
            u = n == 4 ? 2 : 1;
        }
        if (DTM__UNLIKELY(units + u > limit)) {
            *long_at = i;
            return;
        }
        units += u;
        i += n;
    }
}

/* ---- numbers ---- */

/* A number s[start..end) into *out, or the reason and where it fails. */
static int parse_number(dtm__pctx *c, size_t start, size_t end, double *out)
{
    const char *why = NULL;
    size_t at = 0;
    dtm_status st = dtm__parse_double((const char *)c->s + start, end - start, out, &why, &at);
    if (st == DTM_OK)
        return 0;
    if (st == DTM_ENOMEM)
        c->status = DTM_ENOMEM;
    return fail(c, start + at, why);
}

/* A decimal integer s[start..end) into *out (summary count, timestamp). */
static int parse_int64(dtm__pctx *c, size_t start, size_t end, int allow_sign, const char *not_int,
                       const char *too_big, int64_t *out)
{
    size_t at = 0;
    dtm_status st = dtm__parse_int64((const char *)c->s + start, end - start, allow_sign, out, &at);
    if (st == DTM_OK)
        return 0;
    return fail(c, start + at, st == DTM_EVALUE ? too_big : not_int);
}

/* ---- keys ---- */

/* A metric key from pos up to ',' or ' ' or the end; *end gets where it stops. */
int dtm__parse_metric_key(dtm__pctx *c, size_t pos, size_t *end)
{
    const unsigned char *s = c->s;
    size_t start = pos;
    int section_start = 1;
    for (; pos < c->len; pos++) {
        unsigned ch = s[pos];
        if (ch == ',' || ch == ' ')
            break;
        if (pos - start >= MAX_KEY)
            return fail(c, pos, "metric key is longer than 255 characters");
        if (ch == '.') {
            if (pos == start)
                return fail(c, pos, "metric key starts with '.'");
            if (section_start)
                return fail(c, pos, "metric key has an empty section ('..')");
            section_start = 1;
            continue;
        }
        if (pos == start ? mk_first(ch) : section_start ? mk_section(ch) : mk_body(ch)) {
            section_start = 0;
            continue;
        }
        if (pos == start && mk_body(ch))
            return fail(c, pos, "metric key must start with a letter or '_'");
        if (section_start && ch == '-')
            return fail(c, pos, "metric key section starts with '-'");
        return fail(c, pos,
                    key_char_reason(ch, "metric key has a non-ASCII character",
                                    "metric key has an invalid character"));
    }
    if (pos == start)
        return fail(c, pos, "metric key is empty");
    if (section_start)
        return fail(c, pos - 1, "metric key ends with '.'");
    if (pos - start >= 3 && memcmp(s + start, "dt.", 3) == 0)
        return fail(c, start, "metric keys starting with 'dt.' are reserved");
    *end = pos;
    return 0;
}

/* A dimension key from pos up to '='; *end gets the position of the '=',
   *hash a hash of the key (for the duplicate check). */
static int parse_dim_key(dtm__pctx *c, size_t pos, size_t *end, uint32_t *hash)
{
    const unsigned char *s = c->s;
    size_t start = pos;
    int section_start = 1;
    uint32_t h = 2166136261u;
    for (; pos < c->len; pos++) {
        unsigned ch = s[pos];
        if (ch == '=' || ch == ',' || ch == ' ')
            break;
        h = (h ^ ch) * 16777619u;
        if (pos - start >= MAX_DIM_KEY)
            return fail(c, pos, "dimension key is longer than 100 characters");
        if (ch == '.') {
            if (pos == start)
                return fail(c, pos, "dimension key starts with '.'");
            if (section_start)
                return fail(c, pos, "dimension key has an empty section ('..')");
            section_start = 1;
            continue;
        }
        if (section_start ? dk_first(ch) : dk_body(ch)) {
            section_start = 0;
            continue;
        }
        if (is_upper(ch))
            return fail(c, pos, "dimension key has an upper-case letter");
        if (section_start && dk_body(ch))
            return fail(c, pos, "dimension key section must start with a lower-case letter or '_'");
        return fail(c, pos,
                    key_char_reason(ch, "dimension key has a non-ASCII character",
                                    "dimension key has an invalid character"));
    }
    if (pos == start)
        return fail(c, pos, "dimension key is empty");
    if (section_start)
        return fail(c, pos - 1, "dimension key ends with '.'");
    if (pos == c->len || s[pos] != '=')
        return fail(c, pos, "dimension has no '=' and value");
    *end = pos;
    *hash = h;
    return 0;
}

/* ---- dimension values ---- */

static int parse_dim_value(dtm__pctx *c, size_t pos, size_t *end)
{
    const unsigned char *s = c->s;
    size_t start = pos, units = 0;
    if (pos < c->len && s[pos] == '"') {
        units = 1;
        for (pos++;; pos++) {
            unsigned ch;
            size_t at = pos;
            if (pos == c->len)
                return fail(c, start, "quoted dimension value is not closed");
            ch = s[pos];
            if (ch == '"') {
                units++;
                pos++;
            } else if (ch == '\\') {
                if (pos + 1 == c->len)
                    return fail(c, start, "quoted dimension value is not closed");
                if (s[pos + 1] != '"' && s[pos + 1] != '\\')
                    return fail(c, pos,
                                "bad escape in a quoted dimension value (only \\\" and \\\\)");
                units += 2;
                pos++;
            } else if (is_control_at(c, pos)) {
                return fail(c, pos, "dimension value has a control character");
            } else {
                units += byte_units(ch);
            }
            if (units > MAX_DIM_VALUE)
                return fail(c, at, "dimension value is longer than 255 UTF-16 units");
            if (ch == '"')
                break;
        }
        if (pos - start == 2)
            return fail(c, start, "dimension value is empty");
        if (pos < c->len && s[pos] != ',' && s[pos] != ' ')
            return fail(c, pos, "unexpected character after a quoted dimension value");
        *end = pos;
        return 0;
    }
    for (; pos < c->len; pos++) {
        unsigned ch = s[pos];
        size_t at = pos;
        if (ch == ',' || ch == ' ')
            break;
        if (ch == '\\') {
            unsigned nx;
            if (pos + 1 == c->len)
                return fail(c, pos, "dimension value ends with a lone backslash");
            nx = s[pos + 1];
            if (nx != ',' && nx != '=' && nx != ' ' && nx != '\\' && nx != '"')
                return fail(c, pos,
                            "bad escape in a dimension value (only \\, \\= \\space \\\\ \\\")");
            units += 2;
            pos++;
        } else if (ch == '=') {
            return fail(c, pos, "dimension value has an unescaped '='");
        } else if (ch == '"') {
            return fail(c, pos, "dimension value has an unescaped '\"'");
        } else if (is_control_at(c, pos)) {
            return fail(c, pos,
                        ch == '\t' ? "dimension value has an unescaped tab (a control character)"
                                   : "dimension value has a control character");
        } else {
            units += byte_units(ch);
        }
        if (units > MAX_DIM_VALUE)
            return fail(c, at, "dimension value is longer than 255 UTF-16 units");
    }
    if (pos == start)
        return fail(c, pos, "dimension value is empty");
    *end = pos;
    return 0;
}

/* ---- payloads ---- */

/* Position of the next ',' in [pos, end), or end. */
static size_t next_comma(const dtm__pctx *c, size_t pos, size_t end)
{
    const void *p = pos < end ? memchr(c->s + pos, ',', end - pos) : NULL;
    return p ? (size_t)((const unsigned char *)p - c->s) : end;
}

/* Summary fields "min=..,max=..,sum=..,count=.." in [pos, end). */
static int parse_summary(dtm__pctx *c, size_t pos, size_t end, dtm_parse_result *r)
{
    static const char *const names[4] = {"min", "max", "sum", "count"};
    static const char *const missing[4] = {"summary has no min", "summary has no max",
                                           "summary has no sum", "summary has no count"};
    size_t at[4] = {0, 0, 0, 0};
    double v[4] = {0, 0, 0, 0};
    int seen[4] = {0, 0, 0, 0};
    int64_t count = 0;
    double avg;
    int f;
    for (;;) {
        size_t fe = next_comma(c, pos, end), eq, nl;
        for (eq = pos; eq < fe && c->s[eq] != '='; eq++)
            ;
        nl = eq - pos;
        for (f = 0; f < 4; f++)
            if (nl == (f == 3 ? 5u : 3u) && memcmp(c->s + pos, names[f], nl) == 0)
                break;
        if (eq == fe || f == 4)
            return fail(c, pos, "unknown summary field (expected min=, max=, sum=, count=)");
        if (seen[f])
            return fail(c, pos, "summary field appears twice");
        seen[f] = 1;
        at[f] = eq + 1;
        if (f == 3) {
            if (parse_int64(c, eq + 1, fe, 1, "summary count is not an integer",
                            "summary count is out of range", &count) != 0)
                return -1;
        } else if (parse_number(c, eq + 1, fe, &v[f]) != 0) {
            return -1;
        }
        if (fe == end)
            break;
        pos = fe + 1;
    }
    for (f = 0; f < 4; f++)
        if (!seen[f])
            return fail(c, end, missing[f]);
    /* spec 4.3, in its order */
    if (count < 0)
        return fail(c, at[3], "summary: count is negative");
    if (count == 0) {
        if (v[0] != 0 || v[1] != 0 || v[2] != 0)
            return fail(c, at[3], "summary: count is 0 but min, max or sum is not 0");
    } else {
        if (v[1] < v[0])
            return fail(c, at[1], "summary: max < min");
        avg = v[2] / (double)count;
        if (v[0] - avg > 1e-6)
            return fail(c, at[2], "summary: sum/count is below min (tolerance 1e-6)");
        if (avg - v[1] > 1e-6)
            return fail(c, at[2], "summary: sum/count is above max (tolerance 1e-6)");
    }
    r->min = v[0];
    r->max = v[1];
    r->sum = v[2];
    r->count = count;
    return 0;
}

/* The payload of a data line in [pos, end): end is the next space or the end. */
static int parse_payload(dtm__pctx *c, size_t pos, size_t end, dtm_parse_result *r)
{
    const unsigned char *s = c->s;
    unsigned ch;
    size_t q;
    if (pos == end)
        return fail(c, pos,
                    pos == c->len ? "line has no payload" : "more than one space between parts");
    if (has_prefix(c, pos, end, "gauge,", 6)) {
        pos += 6;
        q = pos;
        while (q < end && is_alpha(s[q]))
            q++;
        if (q > pos && q < end && s[q] == '=') { /* "name=": summary fields */
            r->kind = DTM_LINE_SUMMARY;
            return parse_summary(c, pos, end, r);
        }
        r->kind = DTM_LINE_GAUGE;
        return parse_number(c, pos, end, &r->value);
    }
    if (has_prefix(c, pos, end, "count,", 6)) {
        pos += 6;
        if (!has_prefix(c, pos, end, "delta=", 6))
            return fail(c, pos, "counter payload must be count,delta=<number>");
        r->kind = DTM_LINE_COUNTER;
        return parse_number(c, pos + 6, end, &r->value);
    }
    ch = s[pos];
    if (is_digit(ch) || ch == '-' || ch == '+' || ch == '.' ||
        dtm__starts_nan_inf((const char *)s + pos, end - pos)) {
        r->kind = DTM_LINE_GAUGE;
        return parse_number(c, pos, end, &r->value);
    }
    if ((end - pos == 5 && memcmp(s + pos, "gauge", 5) == 0) ||
        (end - pos == 5 && memcmp(s + pos, "count", 5) == 0))
        return fail(c, end, "payload type must be followed by ',' and the value");
    if (ch == '\t')
        return fail(c, pos, "a tab is not allowed (parts are separated by one space)");
    return fail(c, pos,
                "unknown payload (expected gauge,<value>, count,delta=<value> or a number)");
}

/* ---- data lines ---- */

/* The dimension keys of a line, for the duplicate check: a 256-bit filter of
   their hashes, so that the keys are only compared on a filter hit. */
typedef struct dimkeys {
    size_t at[MAX_DIMS], len[MAX_DIMS];
    uint32_t hash[MAX_DIMS];
    uint64_t filter[4];
    size_t n;
} dimkeys;

/* Record the key s[at..at+len) (d->n < MAX_DIMS); 1 if it was seen before. */
static int dimkeys_add(dimkeys *d, const unsigned char *s, size_t at, size_t len, uint32_t hash)
{
    unsigned bit = hash >> 24;
    uint64_t mask = UINT64_C(1) << (bit & 63);
    int dup = 0;
    size_t j;
    if (d->filter[bit >> 6] & mask) {
        for (j = 0; j < d->n && !dup; j++)
            dup = d->hash[j] == hash && d->len[j] == len && memcmp(s + d->at[j], s + at, len) == 0;
    }
    d->filter[bit >> 6] |= mask;
    d->at[d->n] = at;
    d->len[d->n] = len;
    d->hash[d->n] = hash;
    d->n++;
    return dup;
}

/* Position of the next ' ' at or after pos, or the end of the line. */
static size_t next_space(const dtm__pctx *c, size_t pos)
{
    const void *p = pos < c->len ? memchr(c->s + pos, ' ', c->len - pos) : NULL;
    return p ? (size_t)((const unsigned char *)p - c->s) : c->len;
}

/* "key[,k=v...] payload[ timestamp]" */
static int parse_data_line(dtm__pctx *c, dtm_parse_result *r)
{
    const unsigned char *s = c->s;
    dimkeys dims;
    size_t pos, ke, pe;

    if (s[0] == ' ')
        return fail(c, 0, "line starts with a space");
    if (dtm__parse_metric_key(c, 0, &ke) != 0)
        return -1;
    r->key = (const char *)s;
    r->key_len = ke;
    pos = ke;
    dims.n = 0;
    memset(dims.filter, 0, sizeof dims.filter);
    if (pos < c->len && s[pos] == ',') {
        r->dimensions = (const char *)s + pos + 1;
        while (pos < c->len && s[pos] == ',') {
            size_t eq;
            uint32_t hash;
            pos++;
            if (dims.n == MAX_DIMS)
                return fail(c, pos, "more than 50 dimensions");
            if (parse_dim_key(c, pos, &eq, &hash) != 0)
                return -1;
            if (dimkeys_add(&dims, s, pos, eq - pos, hash))
                r->warnings |= DTM_PARSE_WARN_DUPLICATE_DIMENSION;
            if (parse_dim_value(c, eq + 1, &pos) != 0)
                return -1;
        }
        r->dimensions_len = pos - (size_t)(r->dimensions - (const char *)s);
    }
    r->n_dimensions = dims.n;
    if (pos == c->len)
        return fail(c, pos, "line has no payload");
    /* s[pos] == ' ' here: keys and values stop only at ',', ' ' or the end */
    pos++;
    pe = next_space(c, pos);
    r->payload = (const char *)s + pos;
    r->payload_len = pe - pos;
    if (parse_payload(c, pos, pe, r) != 0)
        return -1;
    if (pe < c->len) {
        size_t ts = pe + 1, te;
        if (ts == c->len)
            return fail(c, pe, "line ends with a space");
        if (s[ts] == ' ')
            return fail(c, ts, "more than one space between parts");
        te = next_space(c, ts);
        if (parse_int64(c, ts, te, 0, "timestamp is not a number", "timestamp is out of range",
                        &r->timestamp_ms) != 0)
            return -1;
        if (te < c->len)
            return fail(c, te, te + 1 == c->len ? "line ends with a space"
                                                : "unexpected text after the timestamp");
        r->has_timestamp = 1;
    }
    if (r->kind == DTM_LINE_GAUGE) {
        r->min = r->max = r->sum = r->value;
        r->count = 1;
    }
    key_warnings(r);
    return 0;
}

/* ---- entry point ---- */

dtm_status dtm_parse_line(const char *line, size_t len, dtm_parse_result *res)
{
    dtm__pctx c;
    size_t i, bad_at, long_at, best_at;
    const char *best;
    int meta, rc;

    if (res == NULL || (line == NULL && len > 0))
        return DTM_EINVAL;
    memset(res, 0, sizeof *res);
    for (i = 0; i < len && (line[i] == ' ' || line[i] == '\t'); i++)
        ;
    if (i == len) {
        res->kind = DTM_LINE_EMPTY;
        return DTM_OK;
    }
    c.s = (const unsigned char *)line;
    c.len = len;
    c.err = NULL;
    c.err_at = SIZE_MAX;
    c.status = DTM_ESYNTAX;
    meta = line[0] == '#';

    scan_text(c.s, len, meta ? 0 : MAX_LINE, &bad_at, &long_at);
    rc = meta ? dtm__parse_metadata(&c, res) : parse_data_line(&c, res);
    if (rc == 0 && bad_at == SIZE_MAX && long_at == SIZE_MAX && line[len - 1] != '\r')
        return DTM_OK;
    if (rc != 0 && c.status == DTM_ENOMEM) {
        memset(res, 0, sizeof *res);
        return DTM_ENOMEM;
    }
    best = rc != 0 ? c.err : NULL;
    best_at = rc != 0 ? c.err_at : SIZE_MAX;
    if (line[len - 1] == '\r' && (best == NULL || best_at >= len - 1)) {
        best = "line ends with a carriage return (CRLF line ending?)";
        best_at = len - 1;
    }
    if (long_at < best_at) {
        best = "line is longer than 50,000 UTF-16 units";
        best_at = long_at;
    }
    if (bad_at <= best_at) {
        best = "invalid UTF-8";
        best_at = bad_at;
    }
    memset(res, 0, sizeof *res);
    res->kind = DTM_LINE_INVALID;
    res->error = best;
    res->error_offset = best_at;
    return DTM_ESYNTAX;
}
