/*
 * Protocol layer: metadata lines for the line parser (spec 10):
 *   #key gauge|count dt.meta.description=...,dt.meta.unit=...,dt.meta.displayName=...
 * See the rules in <dtmetrics/parse.h>.  Pure, reentrant, allocation-free.
 */
#include "config.h"

#include <string.h>

#include "lineparse.h"

/* A character of a metadata unit. */
static int is_unit_char(unsigned ch)
{
    return is_alpha(ch) || is_digit(ch) || ch == '%' || ch == '[' || ch == ']' || ch == '{' ||
           ch == '}' || ch == '/' || ch == '_';
}

enum { PROP_DESCRIPTION, PROP_DISPLAY_NAME, PROP_UNIT };

/* Length of a known "dt.meta.<name>=" at pos (0: none); *which says which. */
static size_t meta_prop_at(const dtm__pctx *c, size_t pos, int *which)
{
    static const struct {
        const char *text;
        size_t len;
        int which;
    } props[] = {
        {"dt.meta.description=", 20, PROP_DESCRIPTION},
        {"dt.meta.displayName=", 20, PROP_DISPLAY_NAME},
        {"dt.meta.displayname=", 20, PROP_DISPLAY_NAME}, /* the documentation's spelling */
        {"dt.meta.unit=", 13, PROP_UNIT},
    };
    size_t k;
    for (k = 0; k < sizeof props / sizeof props[0]; k++) {
        if (has_prefix(c, pos, c->len, props[k].text, props[k].len)) {
            *which = props[k].which;
            return props[k].len;
        }
    }
    return 0;
}

/* Where the property after the ',' at comma starts (one space is tolerated). */
static size_t after_comma(const dtm__pctx *c, size_t comma)
{
    size_t p = comma + 1;
    return p < c->len && c->s[p] == ' ' ? p + 1 : p;
}

/* A quoted description or display name whose opening quote is at open.
   Inside, a backslash is literal except in \" (an escaped quote) and \n (a
   line feed); the first '"' without a backslash ends the value.  The
   serializer never writes a literal backslash before a quote (deviation D7
   of the normalizer), so this reading is unambiguous.  Content units: \"
   and \n count one.  *end gets the position past the closing quote. */
static int parse_meta_quoted(dtm__pctx *c, size_t open, size_t max_units, const char *too_long,
                             size_t *end)
{
    const unsigned char *s = c->s;
    size_t i, units = 0;
    for (i = open + 1; i < c->len; i++) {
        unsigned ch = s[i];
        size_t at = i;
        if (ch == '"') {
            if (i == open + 1)
                return fail(c, open, "metadata value is empty");
            *end = i + 1;
            if (*end < c->len && s[*end] != ',')
                return fail(c, *end, "unexpected character after a quoted metadata value");
            return 0;
        }
        if (ch == '\\' && i + 1 < c->len && (s[i + 1] == '"' || s[i + 1] == 'n')) {
            i++;
            units++;
        } else if (is_control_at(c, i)) {
            return fail(c, i, "metadata value has a control character");
        } else {
            units += byte_units(ch);
        }
        if (units > max_units)
            return fail(c, at, too_long);
    }
    return fail(c, open, "quoted metadata value is not closed");
}

/* An unquoted description or display name from pos up to ',' or the end. */
static int parse_meta_plain(dtm__pctx *c, size_t pos, size_t max_units, const char *too_long,
                            size_t *end)
{
    size_t start = pos, units = 0;
    for (; pos < c->len && c->s[pos] != ','; pos++) {
        unsigned ch = c->s[pos];
        if (ch == ' ' || ch == '=' || ch == '"' || ch == '\\')
            return fail(c, pos, "metadata value with a space, '=', '\"' or '\\' must be quoted");
        if (is_control_at(c, pos))
            return fail(c, pos, "metadata value has a control character");
        units += byte_units(ch);
        if (units > max_units)
            return fail(c, pos, too_long);
    }
    if (pos == start)
        return fail(c, pos, "metadata value is empty");
    *end = pos;
    return 0;
}

/* A unit, plain or quoted: 1 to 63 of A-Z a-z 0-9 % [ ] { } / _. */
static int parse_meta_unit(dtm__pctx *c, size_t pos, size_t *end)
{
    static const char bad_char[] =
        "metadata unit has an invalid character (allowed: A-Z a-z 0-9 % [ ] { } / _)";
    const unsigned char *s = c->s;
    int quoted = pos < c->len && s[pos] == '"';
    size_t start = pos + (size_t)quoted;
    for (pos = start; pos < c->len && s[pos] != ',' && s[pos] != '"'; pos++) {
        if (pos - start >= DTM_MAX_UNIT_LEN)
            return fail(c, pos, "metadata unit is longer than 63 characters");
        if (!is_unit_char(s[pos]))
            return fail(c, pos, bad_char);
    }
    if (pos == start)
        return fail(c, pos, "metadata unit is empty");
    if (quoted) {
        if (pos == c->len || s[pos] != '"')
            return fail(c, start - 1, "quoted metadata value is not closed");
        pos++;
        if (pos < c->len && s[pos] != ',')
            return fail(c, pos, "unexpected character after a quoted metadata value");
    } else if (pos < c->len && s[pos] == '"') {
        return fail(c, pos, bad_char);
    }
    *end = pos;
    return 0;
}

/* The properties of a metadata line, from pos to the end of the line. */
static int parse_props(dtm__pctx *c, size_t pos)
{
    const unsigned char *s = c->s;
    for (;;) {
        size_t n, end, eq;
        int which, rc;
        if (pos == c->len)
            return fail(c, pos, "line ends after ','");
        if (s[pos] == ' ')
            return fail(c, pos, "more than one space between parts");
        n = meta_prop_at(c, pos, &which);
        if (n == 0) {
            for (eq = pos; eq < c->len && s[eq] != '=' && s[eq] != ','; eq++)
                ;
            if (eq == c->len || s[eq] != '=')
                return fail(c, pos, "metadata property has no '=' and value");
            return fail(c, pos, "unknown metadata property (expected dt.meta.description, "
                                "dt.meta.unit or dt.meta.displayName)");
        }
        pos += n;
        if (which == PROP_UNIT) {
            rc = parse_meta_unit(c, pos, &end);
        } else {
            size_t max =
                which == PROP_DESCRIPTION ? DTM_MAX_DESCRIPTION_LEN : DTM_MAX_DISPLAY_NAME_LEN;
            const char *too_long = which == PROP_DESCRIPTION
                                       ? "metadata description is longer than 65,535 UTF-16 units"
                                       : "metadata display name is longer than 300 UTF-16 units";
            if (pos < c->len && s[pos] == '"')
                rc = parse_meta_quoted(c, pos, max, too_long, &end);
            else
                rc = parse_meta_plain(c, pos, max, too_long, &end);
        }
        if (rc != 0)
            return -1;
        if (end == c->len)
            return 0;
        pos = after_comma(c, end); /* s[end] is ',' */
    }
}

/* "#key gauge|count dt.meta.x=v[,dt.meta.y=w...]" */
int dtm__parse_metadata(dtm__pctx *c, dtm_parse_result *r)
{
    const unsigned char *s = c->s;
    size_t pos, ke;
    if (dtm__parse_metric_key(c, 1, &ke) != 0)
        return -1;
    if (ke == c->len || s[ke] == ',')
        return fail(c, ke, ke == c->len ? "metadata line has no type and properties"
                                        : "metadata line cannot have dimensions");
    pos = ke + 1;
    if (has_prefix(c, pos, c->len, "gauge ", 6))
        r->metadata_type = DTM_LINE_GAUGE;
    else if (has_prefix(c, pos, c->len, "count ", 6))
        r->metadata_type = DTM_LINE_COUNTER;
    else if (pos < c->len && s[pos] == ' ')
        return fail(c, pos, "more than one space between parts");
    else
        return fail(c, pos, "metadata type must be 'gauge' or 'count' followed by one space");
    if (pos + 6 == c->len)
        return fail(c, pos + 6, "metadata line has no properties");
    if (parse_props(c, pos + 6) != 0)
        return -1;
    r->kind = DTM_LINE_METADATA;
    r->key = (const char *)s + 1;
    r->key_len = ke - 1;
    r->payload = (const char *)s + pos;
    r->payload_len = c->len - pos;
    key_warnings(r);
    return 0;
}

