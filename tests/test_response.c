/* Parsing of the ingest API's answers (ValidationResponse, ErrorEnvelope). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "response.h"
#include "testutil.h"

static dtm_status parse(const char *json, dtm__ingest_response *r)
{
    return dtm__response_parse(json, strlen(json), r);
}

static void assert_empty(const dtm__ingest_response *r)
{
    ck_assert_int_eq(r->lines_ok, -1);
    ck_assert_int_eq(r->lines_invalid, -1);
    ck_assert_int_eq(r->error_code, 0);
    ck_assert_ptr_null(r->error_message);
    ck_assert_ptr_null(r->invalid);
    ck_assert_uint_eq(r->n_invalid, 0);
    ck_assert_ptr_null(r->warnings);
    ck_assert_uint_eq(r->n_warnings, 0);
}

/* ---- observed payloads (ingest-api spec 1.3/1.4) ---- */

START_TEST(success_202)
{
    dtm__ingest_response r;
    ck_assert_int_eq(parse("{\"linesOk\":1,\"linesInvalid\":0,\"error\":null,\"warnings\":null}", &r),
                     DTM_OK);
    ck_assert_int_eq(r.lines_ok, 1);
    ck_assert_int_eq(r.lines_invalid, 0);
    ck_assert_int_eq(r.error_code, 0);
    ck_assert_ptr_null(r.error_message);
    ck_assert_uint_eq(r.n_invalid, 0);
    ck_assert_uint_eq(r.n_warnings, 0);
    dtm__response_clear(&r);
    assert_empty(&r);
}
END_TEST

START_TEST(partial_400_first_10)
{
    /* 163 accepted, 29 rejected, only the first 10 itemised (1-based). */
    char json[4096];
    size_t o, i;
    dtm__ingest_response r;
    o = (size_t)snprintf(json, sizeof json,
                         "{\"linesOk\":163,\"linesInvalid\":29,\"error\":{\"code\":400,"
                         "\"message\":\"First 10 errors reported\",\"invalidLines\":[");
    for (i = 0; i < 10; i++)
        o += (size_t)snprintf(json + o, sizeof json - o,
                              "%s{\"line\":%u,\"error\":\"failed to parse metric key of message "
                              "'\xe2\x80\xa6'; error at '1' (index 20)\"}",
                              i ? "," : "", (unsigned)(3 + 7 * i));
    snprintf(json + o, sizeof json - o, "]}}");
    ck_assert_int_eq(parse(json, &r), DTM_OK);
    ck_assert_int_eq(r.lines_ok, 163);
    ck_assert_int_eq(r.lines_invalid, 29);
    ck_assert_int_eq(r.error_code, 400);
    ck_assert_str_eq(r.error_message, "First 10 errors reported");
    ck_assert_uint_eq(r.n_invalid, 10);
    for (i = 0; i < 10; i++) {
        ck_assert_int_eq(r.invalid[i].line, (int64_t)(3 + 7 * i));
        ck_assert_str_eq(r.invalid[i].error,
                         "failed to parse metric key of message '\xe2\x80\xa6'; error at '1' (index 20)");
    }
    dtm__response_clear(&r);
}
END_TEST

START_TEST(single_bad_line)
{
    dtm__ingest_response r;
    ck_assert_int_eq(parse("{\"linesOk\":0,\"linesInvalid\":1,\"error\":{\"code\":400,"
                           "\"message\":\"1 invalid lines\",\"invalidLines\":"
                           "[{\"line\":1,\"error\":\"invalid metric key\"}]},\"warnings\":null}", &r),
                     DTM_OK);
    ck_assert_int_eq(r.lines_ok, 0);
    ck_assert_int_eq(r.lines_invalid, 1);
    ck_assert_str_eq(r.error_message, "1 invalid lines");
    ck_assert_uint_eq(r.n_invalid, 1);
    ck_assert_int_eq(r.invalid[0].line, 1);
    ck_assert_str_eq(r.invalid[0].error, "invalid metric key");
    dtm__response_clear(&r);
}
END_TEST

START_TEST(semantic_rejections)
{
    dtm__ingest_response r;
    ck_assert_int_eq(parse("{\"linesOk\":5,\"linesInvalid\":2,\"error\":{\"code\":400,\"message\":"
                           "\"2 invalid lines\",\"invalidLines\":["
                           "{\"line\":2,\"error\":\"inconsistent gauge fields: count == 0 => min, max, "
                           "sum == 0: \xe2\x80\xa6\"},"
                           "{\"line\":7,\"error\":\"dimension value length exceeded: 401 > 250\"}]}}",
                           &r),
                     DTM_OK);
    ck_assert_uint_eq(r.n_invalid, 2);
    ck_assert_int_eq(r.invalid[0].line, 2);
    ck_assert_str_eq(r.invalid[0].error,
                     "inconsistent gauge fields: count == 0 => min, max, sum == 0: \xe2\x80\xa6");
    ck_assert_int_eq(r.invalid[1].line, 7);
    ck_assert_str_eq(r.invalid[1].error, "dimension value length exceeded: 401 > 250");
    dtm__response_clear(&r);
}
END_TEST

START_TEST(empty_request)
{
    dtm__ingest_response r;
    ck_assert_int_eq(parse("{\"linesOk\":0,\"linesInvalid\":0,\"error\":{\"code\":400,\"message\":"
                           "\"empty request\",\"invalidLines\":[]}}", &r),
                     DTM_OK);
    ck_assert_int_eq(r.lines_ok, 0);
    ck_assert_int_eq(r.lines_invalid, 0);
    ck_assert_int_eq(r.error_code, 400);
    ck_assert_str_eq(r.error_message, "empty request");
    ck_assert_uint_eq(r.n_invalid, 0);
    ck_assert_ptr_null(r.invalid);
    dtm__response_clear(&r);
}
END_TEST

START_TEST(lines_valid_form)
{
    dtm__ingest_response r;
    ck_assert_int_eq(parse("{\"error\": null, \"linesValid\": 1, \"linesInvalid\": 0}", &r), DTM_OK);
    ck_assert_int_eq(r.lines_ok, 1);
    ck_assert_int_eq(r.lines_invalid, 0);
    dtm__response_clear(&r);
    /* Both present: linesOk wins; a linesOk of the wrong type falls back. */
    ck_assert_int_eq(parse("{\"linesValid\":3,\"linesOk\":4}", &r), DTM_OK);
    ck_assert_int_eq(r.lines_ok, 4);
    dtm__response_clear(&r);
    ck_assert_int_eq(parse("{\"linesOk\":\"4\",\"linesValid\":3}", &r), DTM_OK);
    ck_assert_int_eq(r.lines_ok, 3);
    dtm__response_clear(&r);
}
END_TEST

/* ---- ErrorEnvelope ---- */

static const struct {
    const char *json;
    int64_t code;
    const char *message;
} envelopes[] = {
    { "{\"error\":{\"code\":401,\"message\":\"Token Authentication failed\"}}", 401,
      "Token Authentication failed" },
    { "{\"error\":{\"code\":403,\"message\":\"Token is missing required scope. Use one of: "
      "metrics.ingest (Ingest metrics)\"}}", 403,
      "Token is missing required scope. Use one of: metrics.ingest (Ingest metrics)" },
    { "{\"error\":{\"code\":413,\"message\":\"Payload too large\",\"constraintViolations\":"
      "[{\"path\":\"body\",\"message\":\"too big\",\"parameterLocation\":\"PAYLOAD_BODY\","
      "\"location\":null}]}}", 413, "Payload too large" },
    { "{\"error\":{\"code\":429,\"message\":\"Too Many Requests\"}}", 429, "Too Many Requests" },
    { "{\"error\":{\"code\":503,\"message\":\"Metric ingest module is paused\"}}", 503,
      "Metric ingest module is paused" },
    /* not the documented shape: error as a plain string */
    { "{\"error\":\"upstream connect error\"}", 0, "upstream connect error" },
    { "{\"error\":{\"code\":500}}", 500, NULL },
};

START_TEST(error_envelope)
{
    dtm__ingest_response r;
    ck_assert_int_eq(parse(envelopes[_i].json, &r), DTM_OK);
    ck_assert_int_eq(r.lines_ok, -1);
    ck_assert_int_eq(r.lines_invalid, -1);
    ck_assert_int_eq(r.error_code, envelopes[_i].code);
    if (envelopes[_i].message)
        ck_assert_str_eq(r.error_message, envelopes[_i].message);
    else
        ck_assert_ptr_null(r.error_message);
    ck_assert_uint_eq(r.n_invalid, 0);
    dtm__response_clear(&r);
}
END_TEST

/* ---- warnings ---- */

START_TEST(warnings_surfaced)
{
    dtm__ingest_response r;
    ck_assert_int_eq(parse("{\"linesOk\":2,\"linesInvalid\":0,\"error\":null,\"warnings\":{"
                           "\"message\":\"Metric keys were changed\",\"changedMetricKeys\":["
                           "{\"line\":1,\"warning\":\"key changed to cpu.temp.gauge\"},"
                           "{\"line\":0,\"warning\":\"bad line number\"},"
                           "{\"warning\":\"no line\"},"
                           "{\"line\":2,\"warning\":5},"
                           "{\"line\":2},"
                           "\"just text\","
                           "{\"line\":9223372036854775807,\"warning\":\"max\"}]}}", &r),
                     DTM_OK);
    ck_assert_int_eq(r.lines_ok, 2);
    ck_assert_uint_eq(r.n_warnings, 5);
    ck_assert_str_eq(r.warnings[0], "Metric keys were changed");
    ck_assert_str_eq(r.warnings[1], "line 1: key changed to cpu.temp.gauge");
    ck_assert_str_eq(r.warnings[2], "bad line number");
    ck_assert_str_eq(r.warnings[3], "no line");
    ck_assert_str_eq(r.warnings[4], "line 9223372036854775807: max");
    dtm__response_clear(&r);

    /* changedMetricKeys alone; message of the wrong type */
    ck_assert_int_eq(parse("{\"warnings\":{\"message\":[],\"changedMetricKeys\":"
                           "[{\"line\":3,\"warning\":\"w\"}]}}", &r), DTM_OK);
    ck_assert_uint_eq(r.n_warnings, 1);
    ck_assert_str_eq(r.warnings[0], "line 3: w");
    dtm__response_clear(&r);

    /* warnings not an object, or empty */
    ck_assert_int_eq(parse("{\"warnings\":[\"x\"]}", &r), DTM_OK);
    ck_assert_uint_eq(r.n_warnings, 0);
    ck_assert_ptr_null(r.warnings);
    dtm__response_clear(&r);
    ck_assert_int_eq(parse("{\"warnings\":{\"changedMetricKeys\":{}}}", &r), DTM_OK);
    ck_assert_uint_eq(r.n_warnings, 0);
    dtm__response_clear(&r);
}
END_TEST

/* ---- bodies that are not a JSON object ---- */

static const struct {
    const char *body;
    size_t len; /* 0: strlen */
} not_objects[] = {
    { "{\"linesOk\":1,", 0 },
    { "{\"linesOk\":1,\"linesInvalid\":0,\"error\":{\"code\":400,\"message\":\"First", 0 },
    { "{\"linesOk\":1}}", 0 },
    { "{\"linesOk\":1} trailing", 0 },
    { "{'linesOk':1}", 0 },
    { "[{\"linesOk\":1}]", 0 },
    { "\"linesOk\"", 0 },
    { "42", 0 },
    { "null", 0 },
    { "   \r\n\t ", 0 },
    { "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway"
      "</h1></center><hr><center>nginx</center></body></html>", 0 },
    { "upstream request timeout", 0 },
    /* invalid UTF-8: a stray byte, an overlong slash, a surrogate, a cut sequence */
    { "{\"error\":{\"message\":\"bad \xff byte\"}}", 0 },
    { "{\"error\":{\"message\":\"\xc0\xaf\"}}", 0 },
    { "{\"error\":{\"message\":\"\xed\xa0\x80\"}}", 0 },
    { "{\"error\":{\"message\":\"\xe2\x82\"}}", 0 },
    /* integers jansson cannot hold (documented: the whole body is refused) */
    { "{\"linesOk\":9223372036854775808}", 0 },
    { "{\"linesOk\":1e400}", 0 },
    /* a raw NUL byte inside the body */
    { "{\"linesOk\":1,\0\"linesInvalid\":0}", sizeof "{\"linesOk\":1,\0\"linesInvalid\":0}" - 1 },
    /* nesting beyond jansson's depth limit is refused, not a stack overflow */
    { NULL, 0 },
};

START_TEST(not_a_json_object)
{
    dtm__ingest_response r;
    const char *body = not_objects[_i].body;
    char *deep = NULL;
    size_t len = not_objects[_i].len;
    if (!body) {
        char *open = tu_repeat("[", 100000);
        size_t n = strlen(open);
        deep = malloc(n + 16);
        ck_assert_ptr_nonnull(deep);
        memcpy(deep, "{\"a\":", 5);
        memcpy(deep + 5, open, n);
        deep[5 + n] = '\0';
        free(open);
        body = deep;
    }
    if (!len)
        len = strlen(body);
    memset(&r, 0x5A, sizeof r);
    ck_assert_int_eq(dtm__response_parse(body, len, &r), DTM_ESYNTAX);
    assert_empty(&r);
    dtm__response_clear(&r);
    free(deep);
}
END_TEST

START_TEST(empty_and_bad_arguments)
{
    dtm__ingest_response r;
    memset(&r, 0x5A, sizeof r);
    ck_assert_int_eq(dtm__response_parse("", 0, &r), DTM_ESYNTAX);
    assert_empty(&r);
    ck_assert_int_eq(dtm__response_parse(NULL, 0, &r), DTM_ESYNTAX);
    assert_empty(&r);
    ck_assert_int_eq(dtm__response_parse(NULL, 5, &r), DTM_EINVAL);
    assert_empty(&r);
    ck_assert_int_eq(dtm__response_parse("{}", 2, NULL), DTM_EINVAL);
    dtm__response_clear(NULL);
    ck_assert_int_eq(dtm__response_parse("{}", 2, &r), DTM_OK);
    assert_empty(&r);
    dtm__response_clear(&r);
}
END_TEST

START_TEST(length_is_honoured)
{
    /* The body is not NUL-terminated where the length says it ends. */
    const char buf[] = "{\"linesOk\":12}{\"linesOk\":13}";
    dtm__ingest_response r;
    ck_assert_int_eq(dtm__response_parse(buf, 14, &r), DTM_OK);
    ck_assert_int_eq(r.lines_ok, 12);
    dtm__response_clear(&r);
    ck_assert_int_eq(dtm__response_parse(buf, 13, &r), DTM_ESYNTAX);
}
END_TEST

/* ---- wrong types and odd numbers ---- */

START_TEST(wrong_types_ignored)
{
    dtm__ingest_response r;
    ck_assert_int_eq(parse("{\"linesOk\":\"1\",\"linesInvalid\":1.5,\"error\":{\"code\":\"400\","
                           "\"message\":7,\"invalidLines\":{\"line\":1,\"error\":\"x\"}},"
                           "\"warnings\":\"w\"}", &r),
                     DTM_OK);
    assert_empty(&r);
    dtm__response_clear(&r);

    ck_assert_int_eq(parse("{\"linesOk\":true,\"linesInvalid\":null,\"error\":[1,2],"
                           "\"warnings\":7}", &r), DTM_OK);
    assert_empty(&r);
    dtm__response_clear(&r);

    ck_assert_int_eq(parse("{\"error\":{\"code\":400.0,\"message\":null,\"invalidLines\":["
                           "1,\"x\",null,[],"
                           "{\"line\":\"2\",\"error\":\"string line\"},"
                           "{\"line\":0,\"error\":\"zero\"},"
                           "{\"line\":-3,\"error\":\"negative\"},"
                           "{\"line\":2.0,\"error\":\"real\"},"
                           "{\"error\":\"no line\"},"
                           "{\"line\":4,\"error\":17},"
                           "{\"line\":4},"
                           "{\"line\":5,\"error\":\"ok\",\"extra\":{\"deep\":[1]}}]}}", &r),
                     DTM_OK);
    ck_assert_int_eq(r.error_code, 0);
    ck_assert_ptr_null(r.error_message);
    ck_assert_uint_eq(r.n_invalid, 3);
    ck_assert_int_eq(r.invalid[0].line, 4);
    ck_assert_str_eq(r.invalid[0].error, "");
    ck_assert_int_eq(r.invalid[1].line, 4);
    ck_assert_str_eq(r.invalid[1].error, "");
    ck_assert_int_eq(r.invalid[2].line, 5);
    ck_assert_str_eq(r.invalid[2].error, "ok");
    dtm__response_clear(&r);

    /* every entry bad: no array at all */
    ck_assert_int_eq(parse("{\"error\":{\"invalidLines\":[{\"line\":0},{\"line\":\"1\"}]}}", &r),
                     DTM_OK);
    ck_assert_ptr_null(r.invalid);
    ck_assert_uint_eq(r.n_invalid, 0);
    dtm__response_clear(&r);
}
END_TEST

START_TEST(negative_and_huge_numbers)
{
    dtm__ingest_response r;
    ck_assert_int_eq(parse("{\"linesOk\":-1,\"linesInvalid\":-5,\"error\":{\"code\":-400}}", &r),
                     DTM_OK);
    assert_empty(&r);
    dtm__response_clear(&r);

    ck_assert_int_eq(parse("{\"linesOk\":9223372036854775807,\"linesInvalid\":0,\"error\":{"
                           "\"code\":9223372036854775807,\"invalidLines\":["
                           "{\"line\":9223372036854775807,\"error\":\"max\"},"
                           "{\"line\":-9223372036854775808,\"error\":\"min\"}]}}", &r),
                     DTM_OK);
    ck_assert_int_eq(r.lines_ok, INT64_MAX);
    ck_assert_int_eq(r.lines_invalid, 0);
    ck_assert_int_eq(r.error_code, INT64_MAX);
    ck_assert_uint_eq(r.n_invalid, 1);
    ck_assert_int_eq(r.invalid[0].line, INT64_MAX);
    dtm__response_clear(&r);

    ck_assert_int_eq(parse("{\"linesOk\":1e3,\"linesInvalid\":-0}", &r), DTM_OK);
    ck_assert_int_eq(r.lines_ok, -1);
    ck_assert_int_eq(r.lines_invalid, 0);
    dtm__response_clear(&r);
}
END_TEST

/* ---- strings: bounded, cut on a character, control characters blanked ---- */

static char *message_json(const char *text)
{
    size_t n = strlen(text);
    char *j = malloc(n + 64);
    ck_assert_ptr_nonnull(j);
    snprintf(j, n + 64, "{\"error\":{\"message\":\"%s\"}}", text);
    return j;
}

START_TEST(strings_are_bounded)
{
    dtm__ingest_response r;
    char *a1024 = tu_repeat("a", 1024), *a1023 = tu_repeat("a", 1023);
    char *text, *json;
    size_t len;

    json = message_json(a1024);
    ck_assert_int_eq(parse(json, &r), DTM_OK);
    ck_assert_str_eq(r.error_message, a1024);
    dtm__response_clear(&r);
    free(json);

    /* 1023 bytes + a 2-byte character: the character does not fit and goes */
    text = malloc(1100);
    ck_assert_ptr_nonnull(text);
    snprintf(text, 1100, "%s\xc3\xa9zzz", a1023);
    json = message_json(text);
    ck_assert_int_eq(parse(json, &r), DTM_OK);
    ck_assert_str_eq(r.error_message, a1023);
    dtm__response_clear(&r);
    free(json);
    free(text);

    /* 3-byte and 4-byte characters: cut at 1023 and 1024 bytes */
    text = tu_repeat("\xe2\x82\xac", 1000);
    json = message_json(text);
    ck_assert_int_eq(parse(json, &r), DTM_OK);
    ck_assert_uint_eq(strlen(r.error_message), 1023);
    ck_assert_int_eq(memcmp(r.error_message, text, 1023), 0);
    dtm__response_clear(&r);
    free(json);
    free(text);
    text = tu_repeat("\xf0\x9f\x98\x80", 1000);
    json = message_json(text);
    ck_assert_int_eq(parse(json, &r), DTM_OK);
    ck_assert_uint_eq(strlen(r.error_message), 1024);
    dtm__response_clear(&r);
    free(json);
    free(text);

    /* escapes decoded; C0, DEL, C1 and NUL turned into spaces */
    text = tu_json_unescape("a\\nb\\tc\\u0000d\\u001be\\u007ff\\u0085g\\u00e9h\\u2028i", &len);
    json = message_json("a\\nb\\tc\\u0000d\\u001be\\u007ff\\u0085g\\u00e9h\\u2028i");
    ck_assert_int_eq(parse(json, &r), DTM_OK);
    ck_assert_uint_eq(strlen(r.error_message), len);
    ck_assert_str_eq(r.error_message, "a b c d e f  g\xc3\xa9h\xe2\x80\xa8i");
    dtm__response_clear(&r);
    free(json);
    free(text);

    free(a1024);
    free(a1023);
}
END_TEST

START_TEST(huge_body_is_bounded)
{
    /* About 5 MB: more invalid lines and warnings than are kept. */
    const char *item = "{\"line\":1,\"error\":\"invalid metric key\"},";
    size_t n = 5u * 1024 * 1024 / strlen(item), i, o = 0;
    size_t cap = n * 64 + 256;
    char *json = malloc(cap);
    dtm__ingest_response r;
    ck_assert_ptr_nonnull(json);
    o += (size_t)snprintf(json + o, cap - o, "{\"linesOk\":0,\"linesInvalid\":%zu,\"error\":{"
                          "\"code\":400,\"message\":\"m\",\"invalidLines\":[", n);
    for (i = 0; i < n; i++)
        o += (size_t)snprintf(json + o, cap - o, "%s{\"line\":%zu,\"error\":\"invalid metric key\"}",
                              i ? "," : "", i + 1);
    o += (size_t)snprintf(json + o, cap - o, "]},\"warnings\":{\"message\":\"w\",\"changedMetricKeys\":[");
    for (i = 0; i < 1500; i++)
        o += (size_t)snprintf(json + o, cap - o, "%s{\"line\":%zu,\"warning\":\"changed\"}",
                              i ? "," : "", i + 1);
    o += (size_t)snprintf(json + o, cap - o, "]}}");
    ck_assert_uint_gt(o, 5u * 1024 * 1024);
    ck_assert_int_eq(dtm__response_parse(json, o, &r), DTM_OK);
    ck_assert_int_eq(r.lines_invalid, (int64_t)n);
    ck_assert_uint_eq(r.n_invalid, DTM__RESPONSE_MAX_ITEMS);
    ck_assert_int_eq(r.invalid[0].line, 1);
    ck_assert_int_eq(r.invalid[DTM__RESPONSE_MAX_ITEMS - 1].line, DTM__RESPONSE_MAX_ITEMS);
    ck_assert_str_eq(r.invalid[DTM__RESPONSE_MAX_ITEMS - 1].error, "invalid metric key");
    ck_assert_uint_eq(r.n_warnings, DTM__RESPONSE_MAX_ITEMS);
    ck_assert_str_eq(r.warnings[0], "w");
    ck_assert_str_eq(r.warnings[DTM__RESPONSE_MAX_ITEMS - 1], "line 999: changed");
    dtm__response_clear(&r);
    free(json);
}
END_TEST

START_TEST(skipped_entries_do_not_count)
{
    /* Bad entries before good ones do not eat into the 1,000 kept. */
    size_t cap = 2000 * 48 + 64, o = 0, i;
    char *json = malloc(cap);
    dtm__ingest_response r;
    ck_assert_ptr_nonnull(json);
    o += (size_t)snprintf(json + o, cap - o, "{\"error\":{\"invalidLines\":[");
    for (i = 0; i < 2000; i++)
        o += (size_t)snprintf(json + o, cap - o, "%s{\"line\":%d,\"error\":\"e\"}", i ? "," : "",
                              i % 2 ? (int)i : 0);
    snprintf(json + o, cap - o, "]}}");
    ck_assert_int_eq(parse(json, &r), DTM_OK);
    ck_assert_uint_eq(r.n_invalid, 1000);
    ck_assert_int_eq(r.invalid[0].line, 1);
    ck_assert_int_eq(r.invalid[999].line, 1999);
    dtm__response_clear(&r);
    free(json);
}
END_TEST

/* ---- allocation failures ---- */

START_TEST(allocation_failures)
{
    static const char json[] =
        "{\"linesOk\":163,\"linesInvalid\":29,\"error\":{\"code\":400,\"message\":\"First 10 errors "
        "reported\",\"invalidLines\":[{\"line\":3,\"error\":\"a\"},{\"line\":0},{\"line\":4,\"error\":1},"
        "{\"line\":5,\"error\":\"c\"}]},\"warnings\":{\"message\":\"w\",\"changedMetricKeys\":["
        "{\"line\":1,\"warning\":\"x\"},{\"warning\":\"y\"}]}}";
    dtm__ingest_response r;
    long n;
    dtm_status st = DTM_ENOMEM;
    tu_alloc_install();
    for (n = 0; n < 1000; n++) {
        tu_alloc_fail_after(n);
        st = parse(json, &r);
        if (st == DTM_OK)
            break;
        ck_assert_int_eq(st, DTM_ENOMEM);
        assert_empty(&r);
        ck_assert_int_eq(tu_alloc_live(), 0);
    }
    ck_assert_int_eq(st, DTM_OK);
    ck_assert_int_ge(n, 8); /* message, 2 arrays, 3 errors, 3 warnings: all went through us */
    ck_assert_uint_eq(r.n_invalid, 3);
    ck_assert_uint_eq(r.n_warnings, 3);
    ck_assert_str_eq(r.warnings[1], "line 1: x");
    dtm__response_clear(&r);
    ck_assert_int_eq(tu_alloc_live(), 0);
    tu_alloc_uninstall();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("response");
    TCase *tc = tu_tcase("observed", 5);
    tcase_add_test(tc, success_202);
    tcase_add_test(tc, partial_400_first_10);
    tcase_add_test(tc, single_bad_line);
    tcase_add_test(tc, semantic_rejections);
    tcase_add_test(tc, empty_request);
    tcase_add_test(tc, lines_valid_form);
    tcase_add_loop_test(tc, error_envelope, 0, (int)(sizeof envelopes / sizeof envelopes[0]));
    tcase_add_test(tc, warnings_surfaced);
    suite_add_tcase(s, tc);

    tc = tu_tcase("hostile", 10);
    tcase_add_loop_test(tc, not_a_json_object, 0, (int)(sizeof not_objects / sizeof not_objects[0]));
    tcase_add_test(tc, empty_and_bad_arguments);
    tcase_add_test(tc, length_is_honoured);
    tcase_add_test(tc, wrong_types_ignored);
    tcase_add_test(tc, negative_and_huge_numbers);
    tcase_add_test(tc, strings_are_bounded);
    tcase_add_test(tc, skipped_entries_do_not_count);
    suite_add_tcase(s, tc);

    tc = tu_tcase("huge", 30); /* generous: sanitizers and a busy machine */
    tcase_add_test(tc, huge_body_is_bounded);
    suite_add_tcase(s, tc);

    tc = tu_tcase("memory", 10);
    tcase_add_test(tc, allocation_failures);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
