/*
 * Parsing of the ingest API's answers: the ValidationResponse of 202/400
 * and the ErrorEnvelope of other 4xx/5xx.  Tolerant by design: a member of
 * the wrong type is ignored rather than failing the parse, because the
 * status code alone already tells the client what to do; the body only
 * adds detail.  Everything kept is bounded (items and string lengths).
 *
 * JSON library: jansson.  It is small and well maintained, validates UTF-8
 * strictly, reports errors clearly (with an out-of-memory code we can map
 * to DTM_ENOMEM), parses a buffer with an explicit length, and is one of
 * the model libraries of our house style.  Its allocator is left alone:
 * json_set_alloc_funcs is process-wide state that the program may use
 * itself.  Everything we keep is copied out through dtm__malloc.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "response.h"

static void reset(dtm__ingest_response *r)
{
    memset(r, 0, sizeof *r);
    r->lines_ok = -1;
    r->lines_invalid = -1;
}

void dtm__response_clear(dtm__ingest_response *r)
{
    size_t i;
    if (!r)
        return;
    dtm__free(r->error_message);
    for (i = 0; i < r->n_invalid; i++)
        dtm__free(r->invalid[i].error);
    dtm__free(r->invalid);
    for (i = 0; i < r->n_warnings; i++)
        dtm__free(r->warnings[i]);
    dtm__free(r->warnings);
    reset(r);
}

/* prefix (ASCII) followed by s[0..n): n cut on a UTF-8 boundary (jansson
   gives valid UTF-8), control characters turned into spaces. */
static char *copy_text(const char *prefix, const char *s, size_t n)
{
    size_t plen = strlen(prefix), i;
    unsigned char *p;
    if (n > DTM__RESPONSE_MAX_STRING) {
        n = DTM__RESPONSE_MAX_STRING;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--; /* s[n] continues a character that would be split */
    }
    p = dtm__malloc(plen + n + 1);
    if (!p)
        return NULL;
    memcpy(p, prefix, plen);
    memcpy(p + plen, s, n);
    p[plen + n] = '\0';
    for (i = plen; i < plen + n; i++) {
        if (p[i] < 0x20 || p[i] == 0x7F)
            p[i] = ' ';
        else if (p[i] == 0xC2 && i + 1 < plen + n && p[i + 1] >= 0x80 && p[i + 1] <= 0x9F)
            p[i] = p[i + 1] = ' '; /* U+0080..U+009F, the C1 controls */
    }
    return (char *)p;
}

static char *copy_string(const char *prefix, const json_t *v)
{
    return copy_text(prefix, json_string_value(v), json_string_length(v));
}

/* A non-negative integer member, or -1. */
static int64_t get_count(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    if (json_is_integer(v) && json_integer_value(v) >= 0)
        return (int64_t)json_integer_value(v);
    return -1;
}

static int64_t get_line(const json_t *entry)
{
    const json_t *v = json_object_get(entry, "line");
    if (json_is_integer(v) && json_integer_value(v) >= 1)
        return (int64_t)json_integer_value(v);
    return 0;
}

static dtm_status parse_invalid_lines(const json_t *arr, dtm__ingest_response *r)
{
    size_t i, n = 0, total = json_array_size(arr);
    for (i = 0; i < total && n < DTM__RESPONSE_MAX_ITEMS; i++)
        if (get_line(json_array_get(arr, i)) > 0)
            n++;
    if (n == 0)
        return DTM_OK;
    r->invalid = dtm__calloc(n, sizeof *r->invalid);
    if (!r->invalid)
        return DTM_ENOMEM;
    for (i = 0; i < total && r->n_invalid < n; i++) {
        const json_t *e = json_array_get(arr, i);
        const json_t *msg = json_object_get(e, "error");
        int64_t line = get_line(e);
        char *text;
        if (line <= 0)
            continue;
        text = json_is_string(msg) ? copy_string("", msg) : copy_text("", "", 0);
        if (!text)
            return DTM_ENOMEM;
        r->invalid[r->n_invalid].line = line;
        r->invalid[r->n_invalid].error = text;
        r->n_invalid++;
    }
    return DTM_OK;
}

static dtm_status parse_error(const json_t *err, dtm__ingest_response *r)
{
    const json_t *v;
    if (json_is_string(err)) {
        /* Not the documented shape, but some servers and proxies say it so. */
        r->error_message = copy_string("", err);
        return r->error_message ? DTM_OK : DTM_ENOMEM;
    }
    if (!json_is_object(err))
        return DTM_OK;
    v = json_object_get(err, "code");
    if (json_is_integer(v) && json_integer_value(v) > 0)
        r->error_code = (int64_t)json_integer_value(v);
    v = json_object_get(err, "message");
    if (json_is_string(v) && !(r->error_message = copy_string("", v)))
        return DTM_ENOMEM;
    v = json_object_get(err, "invalidLines");
    return json_is_array(v) ? parse_invalid_lines(v, r) : DTM_OK;
}

static const json_t *warning_text(const json_t *entry)
{
    const json_t *v = json_object_get(entry, "warning");
    return json_is_string(v) ? v : NULL;
}

static dtm_status parse_warnings(const json_t *w, dtm__ingest_response *r)
{
    const json_t *msg = json_object_get(w, "message");
    const json_t *keys = json_object_get(w, "changedMetricKeys");
    size_t i, n = 0, total = json_array_size(keys); /* 0 when not an array */
    if (json_is_string(msg))
        n++;
    for (i = 0; i < total && n < DTM__RESPONSE_MAX_ITEMS; i++)
        if (warning_text(json_array_get(keys, i)))
            n++;
    if (n == 0)
        return DTM_OK;
    r->warnings = dtm__calloc(n, sizeof *r->warnings);
    if (!r->warnings)
        return DTM_ENOMEM;
    if (json_is_string(msg)) {
        if (!(r->warnings[0] = copy_string("", msg)))
            return DTM_ENOMEM;
        r->n_warnings = 1;
    }
    for (i = 0; i < total && r->n_warnings < n; i++) {
        const json_t *e = json_array_get(keys, i);
        const json_t *text = warning_text(e);
        int64_t line = get_line(e);
        char prefix[32] = "";
        if (!text)
            continue;
        if (line > 0) /* log text, not wire output: snprintf is fine */
            snprintf(prefix, sizeof prefix, "line %lld: ", (long long)line);
        if (!(r->warnings[r->n_warnings] = copy_string(prefix, text)))
            return DTM_ENOMEM;
        r->n_warnings++;
    }
    return DTM_OK;
}

dtm_status dtm__response_parse(const char *body, size_t len, dtm__ingest_response *out)
{
    json_error_t jerr;
    json_t *root;
    int64_t n;
    dtm_status st;

    if (!out)
        return DTM_EINVAL;
    reset(out);
    if (!body && len)
        return DTM_EINVAL;
    if (len == 0)
        return DTM_ESYNTAX;
    /* JSON_ALLOW_NUL: a "\u0000" inside some message must not cost us the
       counts; copy_text turns it into a space. */
    root = json_loadb(body, len, JSON_ALLOW_NUL, &jerr);
    if (!root)
        return json_error_code(&jerr) == json_error_out_of_memory ? DTM_ENOMEM : DTM_ESYNTAX;
    if (!json_is_object(root)) {
        json_decref(root);
        return DTM_ESYNTAX;
    }
    n = get_count(root, "linesOk");
    out->lines_ok = n >= 0 ? n : get_count(root, "linesValid");
    out->lines_invalid = get_count(root, "linesInvalid");
    st = parse_error(json_object_get(root, "error"), out);
    if (st == DTM_OK && json_is_object(json_object_get(root, "warnings")))
        st = parse_warnings(json_object_get(root, "warnings"), out);
    json_decref(root);
    if (st != DTM_OK)
        dtm__response_clear(out);
    return st;
}
