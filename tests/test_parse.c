/* The line parser / validator (dtm_parse_line). */
#include "config.h"

#include <float.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "testutil.h"

/* ---- helpers ---- */

static void show(char *buf, size_t cap, const char *line, size_t len)
{
    size_t i, n = 0;
    for (i = 0; i < len && n + 5 < cap; i++) {
        unsigned char ch = (unsigned char)line[i];
        if (ch >= 0x20 && ch < 0x7F)
            buf[n++] = (char)ch;
        else
            n += (size_t)snprintf(buf + n, cap - n, "\\x%02x", ch);
    }
    buf[n] = '\0';
}

static void check_ok(const char *line, size_t len, dtm_line_kind kind, dtm_parse_result *r)
{
    char shown[512];
    dtm_status st = dtm_parse_line(line, len, r);
    show(shown, sizeof shown, line, len);
    ck_assert_msg(st == DTM_OK, "<%s>: status %d, error '%s' at %zu", shown, (int)st,
                  r->error ? r->error : "-", r->error_offset);
    ck_assert_msg(r->kind == kind, "<%s>: kind %d, expected %d", shown, (int)r->kind, (int)kind);
    ck_assert_ptr_null(r->error);
    ck_assert_uint_eq(r->error_offset, 0);
}

static void check_bad(const char *line, size_t len, size_t offset, const char *reason)
{
    char shown[512];
    dtm_parse_result r;
    dtm_status st = dtm_parse_line(line, len, &r);
    show(shown, sizeof shown, line, len);
    ck_assert_msg(st == DTM_ESYNTAX, "<%s>: status %d, expected DTM_ESYNTAX", shown, (int)st);
    ck_assert_int_eq(r.kind, DTM_LINE_INVALID);
    ck_assert_ptr_nonnull(r.error);
    ck_assert_msg(strstr(r.error, reason) != NULL, "<%s>: reason '%s', expected '%s'", shown,
                  r.error, reason);
    ck_assert_msg(r.error_offset == offset, "<%s>: offset %zu, expected %zu ('%s')", shown,
                  r.error_offset, offset, r.error);
    ck_assert_ptr_null(r.key);
    ck_assert_uint_eq(r.n_dimensions, 0);
}

/* ---- valid lines ---- */

typedef struct ok_case {
    const char *line;
    dtm_line_kind kind;
    size_t n_dims;
    long long ts; /* -1: none */
} ok_case;

#define G DTM_LINE_GAUGE
#define S DTM_LINE_SUMMARY
#define C DTM_LINE_COUNTER
#define M DTM_LINE_METADATA

static const ok_case ok_cases[] = {
    /* spec 1.1 examples */
    {"name gauge,1.23", G, 0, -1},
    {"name count,delta=1.23", C, 0, -1},
    {"name gauge,min=1.23,max=10.34,sum=20.45,count=7", S, 0, -1},
    {"prefix.name,dim1=val1 count,delta=1 1616580000123", C, 1, 1616580000123LL},
    {"metric1,key=\\ \\,\\=\\\\ count,delta=123 1620392690261", C, 1, 1620392690261LL},
    {"m,k=\"a b,c\" gauge,1", G, 1, -1},
    {"#prefix.name gauge dt.meta.description=\"my description goes here\",dt.meta.unit=unit,"
     "dt.meta.displayName=displayName",
     M, 0, -1},
    /* spec 12.5 (L) */
    {"_ count,delta=1", C, 0, -1},                                        /* L3 */
    {"prefix.name count,delta=1", C, 0, -1},                              /* L4, L5 */
    {"_.name count,delta=1", C, 0, -1},                                   /* L6 */
    {"_._ count,delta=1", C, 0, -1},                                      /* L7 */
    {"prefix.name,dim2=default2,dim1=overwritten count,delta=1", C, 2, -1}, /* L14 */
    {"prefix.name,defaultdim1=defaultVal1,dim1=val1 count,delta=1", C, 2, -1}, /* L15 */
    {"prefix.name,dim1=defaultVal1,dim2=dynamicVal2,dim3=metadataVal3 count,delta=1", C, 3, -1},
    {"prefix.name,dim_=metadataVal count,delta=1", C, 1, -1},             /* L17 */
    {"prefix.name,_leading=value1,trailing_=value2 count,delta=1", C, 2, -1}, /* L20 */
    {"prefix.name,valid=value,_=underscore,another_valid=value count,delta=1", C, 3, -1},
    {"metric,dim_1=\\\\\\=\\\"\\ \\=\\=,_dim_2_=_val_ gauge,100", G, 2, -1}, /* L22 */
    {"metric,dt.metrics.source=test_source gauge,100", G, 1, -1},        /* L26 */
    {"metric,dt.metrics.source=test\\ source! gauge,100", G, 1, -1},     /* L27 */
    {"prefix.name,dt.metrics.source=esc\\\\ape\\=this\\\" count,delta=1", C, 1, -1}, /* L28 */
    /* spec 12.4 (T) */
    {"prefix.name count,delta=1 946684800000", C, 0, 946684800000LL},
    {"prefix.name count,delta=1 32535215999999", C, 0, 32535215999999LL},
    {"prefix.name count,delta=1 0", C, 0, 0},
    {"prefix.name count,delta=1 9223372036854775807", C, 0, 9223372036854775807LL},
    /* spec 12.3 (S), accepted */
    {"m gauge,min=0.123,max=10.321,sum=20,count=10", S, 0, -1},  /* S2 */
    {"m gauge,min=0,max=0,sum=0,count=0", S, 0, -1},             /* S3 */
    {"m gauge,min=2.0000001,max=3,sum=4,count=2", S, 0, -1},     /* S11 */
    {"m gauge,min=1.5,max=1.999999,sum=4,count=2", S, 0, -1},    /* S12 */
    {"m gauge,min=-1.3,max=4.1,sum=5,count=2", S, 0, -1},        /* S13 */
    {"m gauge,min=1,max=1,sum=1.0000005,count=1", S, 0, -1},     /* S15 */
    {"m gauge,count=2,sum=4,max=3,min=2 1616580000123", S, 0, 1616580000123LL}, /* any order */
    {"m gauge,min=-0,max=0,sum=-0,count=0", S, 0, -1},
    /* spec 12.6 (M1-M14) */
    {"#prefix.name gauge dt.meta.unit=unit", M, 0, -1},                                   /* M1 */
    {"#prefix.name gauge dt.meta.description=\"my description goes here\"", M, 0, -1},   /* M2 */
    {"#prefix.name gauge dt.meta.displayName=\"my displayName goes here\"", M, 0, -1},   /* M3 */
    {"#name count dt.meta.unit=Byte", M, 0, -1},                                          /* M5 */
    {"#name gauge dt.meta.unit={[ab09YZ%/_]}", M, 0, -1},                                 /* M8 */
    {"#name gauge dt.meta.unit={unit}", M, 0, -1},
    {"#name gauge dt.meta.unit=%", M, 0, -1},
    {"#name gauge dt.meta.unit=/", M, 0, -1},
    {"#name gauge dt.meta.unit=a", M, 0, -1},
    {"#name gauge dt.meta.description=do_not_normalize_description", M, 0, -1},           /* M10 */
    {"#name gauge dt.meta.description=\"multiline\\ndescription\"", M, 0, -1},           /* M11 */
    {"#name gauge dt.meta.description=\xf0\x9f\xa4\xa0", M, 0, -1},                       /* M13 */
    {"#name gauge dt.meta.description=\"\xf0\x9f\xa4\xa0 \xf0\x9f\x8c\x9e\"", M, 0, -1}, /* M14 */
    /* metadata strings as the normalizer writes them (M15, M18, M19, M20) */
    {"#name gauge dt.meta.description=\"a b\"", M, 0, -1},
    {"#name gauge dt.meta.description=\"a\\b\"", M, 0, -1},
    {"#name gauge dt.meta.description=\"key=\\\"value\\\"\"", M, 0, -1},
    {"#name gauge dt.meta.description='something'", M, 0, -1},
    {"#name gauge dt.meta.description=\"a,b\"", M, 0, -1},
    {"#name gauge dt.meta.description=\"\\\"something\"", M, 0, -1},
    {"#name gauge dt.meta.description=\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80\x8d"
     "\xf0\x9f\x91\xa7\xe2\x80\x8d\xf0\x9f\x91\xa7",
     M, 0, -1},
    /* \" is an escaped quote, even before something that looks like a property */
    {"#k gauge dt.meta.description=\"x\\\",dt.meta.unit=ms\",dt.meta.unit=s", M, 0, -1},
    {"#k gauge dt.meta.description=\"x\\\",dt.meta.unit=bad unit\"", M, 0, -1},
    {"#name gauge dt.meta.description=\"a\\\\\"b\",dt.meta.unit=s", M, 0, -1},
    /* documentation examples */
    {"workHours,team=\"devops\\\\bugfixing\",project=\"\\\"product\\\"_improvement\" 1000",
     G, 2, -1},
    {"mymetric,team=teamA,businessapp=hr 1000", G, 2, -1},
    {"mymetric,team=teamA,businessapp=hr 1000 1609459200000", G, 2, 1609459200000LL},
    {"cpu.temperature,hostname=hostA,cpu=1 55", G, 2, -1},
    {"cpu.temperature,hostname=hostA,cpu=1 gauge,45", G, 2, -1},
    {"cpu.temperature,hostname=hostA,cpu=1 gauge,min=17.1,max=17.3,sum=34.4,count=2", S, 2, -1},
    {"cpu.temperature,dt.entity.host=HOST-4587AE40F95AD90D,cpu=1 gauge,min=17.1,max=17.3,sum=34.4,"
     "count=2",
     S, 2, -1},
    {"new_user_count,region=EAST count,delta=50", C, 1, -1},
    {"cpu.temperature gauge,45", G, 0, -1},
    {"#cpu.temperature gauge dt.meta.unit=count,dt.meta.description=\"The temperature of the CPU\","
     "dt.meta.displayname=\"CPU temperature\"",
     M, 0, -1},
    {"#metric.key count dt.meta.unit=\"MilliSecond\", dt.meta.description=\"d\"", M, 0, -1},
    /* every escape, quoted values, keys */
    {"k,a=\\,\\=\\ \\\\\\\" gauge,1", G, 1, -1},
    {"k,a=\"\\\"\\\\\",b=\"x, y=z\" gauge,1", G, 2, -1},
    {"k,a=\xc3\xa4\xe2\x82\xac\xf0\x9f\x98\x80 gauge,1", G, 1, -1},
    {"k,a=\"\xc3\xa4 \xf0\x9f\x98\x80\" gauge,1", G, 1, -1},
    {"Key_1.a-b.0c.__ gauge,1", G, 0, -1},
    {"a.0.c gauge,1", G, 0, -1},
    {"metric.key-number-1.001 gauge,1", G, 0, -1},
    {"k,dt.entity.process_group_instance=PGI-1,k8s.pod:uid=x,_a-b:c.d_=v gauge,1", G, 3, -1},
    {"k,a=b,a=c gauge,1", G, 2, -1},
    {"dt gauge,1", G, 0, -1},
    {"dtx.a gauge,1", G, 0, -1},
    /* numbers */
    {"m 80.6", G, 0, -1},
    {"m -5 1616580000123", G, 0, 1616580000123LL},
    {"m +5", G, 0, -1},
    {"m .5", G, 0, -1},
    {"m 5.", G, 0, -1},
    {"m gauge,1.0e+06", G, 0, -1},
    {"m gauge,1e-05", G, 0, -1},
    {"m gauge,1E+20", G, 0, -1},
    {"m gauge,100000000000000000000", G, 0, -1},
    {"m gauge,1.7976931348623157E308", G, 0, -1},
    {"m gauge,4.9E-324", G, 0, -1},
    {"m gauge,1e-400", G, 0, -1},
    {"m count,delta=-10.123", C, 0, -1},
    {"m count,delta=0", C, 0, -1},
};

START_TEST(valid_lines)
{
    size_t i;
    for (i = 0; i < sizeof ok_cases / sizeof ok_cases[0]; i++) {
        const ok_case *t = &ok_cases[i];
        dtm_parse_result r;
        check_ok(t->line, strlen(t->line), t->kind, &r);
        ck_assert_msg(r.n_dimensions == t->n_dims, "<%s>: %zu dimensions", t->line, r.n_dimensions);
        ck_assert_int_eq(r.has_timestamp, t->ts >= 0);
        if (t->ts >= 0)
            ck_assert_int_eq(r.timestamp_ms, t->ts);
        ck_assert_ptr_nonnull(r.key);
        ck_assert_ptr_nonnull(r.payload);
        ck_assert(r.payload > t->line && r.payload + r.payload_len <= t->line + strlen(t->line));
        if (t->kind != M) {
            ck_assert(r.key == t->line);
            ck_assert_int_eq(r.metadata_type, 0);
        } else {
            ck_assert(r.key == t->line + 1);
            ck_assert(r.metadata_type == G || r.metadata_type == C);
        }
    }
}
END_TEST

START_TEST(result_members)
{
    static const char l1[] =
        "prefix.name,dim1=val1,dim2=\"a b\" gauge,min=1,max=3,sum=4,count=2 1616580000123";
    static const char l2[] = "ab 42";
    static const char l3[] = "#name count dt.meta.unit=Byte";
    static const char l4[] = "m,a=1,b=2,a=3 count,delta=-2.5";
    dtm_parse_result r;

    check_ok(l1, strlen(l1), S, &r);
    ck_assert_uint_eq(r.key_len, 11);
    ck_assert(memcmp(r.key, "prefix.name", 11) == 0);
    ck_assert_uint_eq(r.dimensions_len, strlen("dim1=val1,dim2=\"a b\""));
    ck_assert(memcmp(r.dimensions, "dim1=val1,dim2=\"a b\"", r.dimensions_len) == 0);
    ck_assert_uint_eq(r.payload_len, strlen("gauge,min=1,max=3,sum=4,count=2"));
    ck_assert(memcmp(r.payload, "gauge,min=1,max=3,sum=4,count=2", r.payload_len) == 0);
    ck_assert(r.min == 1 && r.max == 3 && r.sum == 4);
    ck_assert_int_eq(r.count, 2);
    ck_assert_int_eq(r.timestamp_ms, 1616580000123LL);
    ck_assert_uint_eq(r.warnings, 0);

    check_ok(l2, strlen(l2), G, &r);
    ck_assert(r.value == 42 && r.min == 42 && r.max == 42 && r.sum == 42);
    ck_assert_int_eq(r.count, 1);
    ck_assert_ptr_null(r.dimensions);
    ck_assert_uint_eq(r.dimensions_len, 0);
    ck_assert_uint_eq(r.warnings, DTM_PARSE_WARN_SHORT_KEY);
    ck_assert_int_eq(r.has_timestamp, 0);

    check_ok(l3, strlen(l3), M, &r);
    ck_assert_int_eq(r.metadata_type, C);
    ck_assert_uint_eq(r.key_len, 4);
    ck_assert(memcmp(r.payload, "count dt.meta.unit=Byte", r.payload_len) == 0);
    ck_assert_uint_eq(r.warnings, 0);

    check_ok("dtx gauge,1", 11, G, &r);
    ck_assert_uint_eq(r.warnings, 0);
    check_ok("dt gauge,1", 10, G, &r);
    ck_assert_uint_eq(r.warnings, DTM_PARSE_WARN_SHORT_KEY);

    check_ok(l4, strlen(l4), C, &r);
    ck_assert(r.value == -2.5);
    ck_assert_uint_eq(r.n_dimensions, 3);
    ck_assert_uint_eq(r.warnings, DTM_PARSE_WARN_DUPLICATE_DIMENSION | DTM_PARSE_WARN_SHORT_KEY);
}
END_TEST

/* ---- invalid lines: the offset is the length of the prefix `at` ---- */

typedef struct bad_case {
    const char *line;
    const char *at; /* the line up to the problem */
    const char *reason;
} bad_case;

static const bad_case bad_cases[] = {
    /* structure */
    {" k gauge,1", "", "starts with a space"},
    {"k  gauge,1", "k ", "more than one space"},
    {"k,a=b  gauge,1", "k,a=b ", "more than one space"},
    {"k gauge,1  1616580000123", "k gauge,1 ", "more than one space"},
    {"k gauge,1 ", "k gauge,1", "ends with a space"},
    {"k gauge,1 1616580000123 ", "k gauge,1 1616580000123", "ends with a space"},
    {"k gauge,1 1616580000123 5", "k gauge,1 1616580000123", "after the timestamp"},
    {"k", "k", "no payload"},
    {"k,a=b", "k,a=b", "no payload"},
    {"k ", "k ", "no payload"},
    {"k\tgauge,1", "k", "tab"},
    {"k gauge,1\r", "k gauge,1", "carriage return"},
    {"k gauge,1 1616580000123\r", "k gauge,1 1616580000123", "carriage return"},
    {"\r", "", "carriage return"},
    /* metric keys */
    {",a=b gauge,1", "", "metric key is empty"},
    {"1abc gauge,1", "", "must start with a letter or '_'"},
    {"-abc gauge,1", "", "must start with a letter or '_'"},
    {".abc gauge,1", "", "starts with '.'"},
    {"a..b gauge,1", "a.", "empty section"},
    {"a. gauge,1", "a", "ends with '.'"},
    {"a.b. gauge,1", "a.b", "ends with '.'"},
    {"a.-b gauge,1", "a.", "section starts with '-'"},
    {"a.b$c gauge,1", "a.b", "invalid character"},
    {"a:b gauge,1", "a", "invalid character"},
    {"m\xc3\xa4 gauge,1", "m", "non-ASCII"},
    {"a=b gauge,1", "a", "invalid character"},
    /* dimension keys */
    {"k,A=b gauge,1", "k,", "upper-case"},
    {"k,a.B=c gauge,1", "k,a.", "upper-case"},
    {"k,aB=c gauge,1", "k,a", "upper-case"},
    {"k,0a=b gauge,1", "k,", "must start with a lower-case letter or '_'"},
    {"k,a.0b=c gauge,1", "k,a.", "must start with a lower-case letter or '_'"},
    {"k,-a=b gauge,1", "k,", "must start with a lower-case letter or '_'"},
    {"k,:a=b gauge,1", "k,", "must start with a lower-case letter or '_'"},
    {"k,.a=b gauge,1", "k,", "starts with '.'"},
    {"k,a..b=c gauge,1", "k,a.", "empty section"},
    {"k,a.=b gauge,1", "k,a", "ends with '.'"},
    {"k,a$=b gauge,1", "k,a", "invalid character"},
    {"k,\xc3\xa4=b gauge,1", "k,", "non-ASCII"},
    {"k,,a=b gauge,1", "k,", "dimension key is empty"},
    {"k,=b gauge,1", "k,", "dimension key is empty"},
    {"k, gauge,1", "k,", "dimension key is empty"},
    {"k,a=b, gauge,1", "k,a=b,", "dimension key is empty"},
    {"k,a gauge,1", "k,a", "no '='"},
    {"k,a,b=c gauge,1", "k,a", "no '='"},
    {"k,a", "k,a", "no '='"},
    /* dimension values */
    {"k,a= gauge,1", "k,a=", "value is empty"},
    {"k,a=,b=c gauge,1", "k,a=", "value is empty"},
    {"k,a=\"\" gauge,1", "k,a=", "value is empty"},
    {"k,a=", "k,a=", "value is empty"},
    {"k,a=b=c gauge,1", "k,a=b", "unescaped '='"},
    {"k,a=b\"c gauge,1", "k,a=b", "unescaped '\"'"},
    {"k,a=x\"\" gauge,1", "k,a=x", "unescaped '\"'"},
    {"k,a=b\\x gauge,1", "k,a=b", "bad escape"},
    {"k,a=b\\n gauge,1", "k,a=b", "bad escape"},
    {"k,a=b\\", "k,a=b", "lone backslash"},
    {"k,a=\"bc gauge,1", "k,a=", "not closed"},
    {"k,a=\"bc\\\" gauge,1", "k,a=", "not closed"},
    {"k,a=\"b\\", "k,a=", "not closed"},
    {"k,a=\"b\"c gauge,1", "k,a=\"b\"", "after a quoted dimension value"},
    {"k,a=\"b\"\" gauge,1", "k,a=\"b\"", "after a quoted dimension value"},
    {"k,a=\"b\\x\" gauge,1", "k,a=\"b", "bad escape in a quoted"},
    {"k,a=\"b\\,\" gauge,1", "k,a=\"b", "bad escape in a quoted"},
    {"k,a=b\tc gauge,1", "k,a=b", "tab"},
    {"k,a=b\x01 gauge,1", "k,a=b", "control character"},
    {"k,a=b\x7f gauge,1", "k,a=b", "control character"},
    {"k,a=b\xc2\x85 gauge,1", "k,a=b", "control character"},
    {"k,a=\"b\x1b\" gauge,1", "k,a=\"b", "control character"},
    /* payloads */
    {"k gauge", "k gauge", "followed by ','"},
    {"k count", "k count", "followed by ','"},
    {"k gauge,", "k gauge,", "number is missing"},
    {"k count,5", "k count,", "count,delta="},
    {"k count,delta=", "k count,delta=", "number is missing"},
    {"k count,delta=1,x=2", "k count,delta=1", "invalid character"},
    {"k summary,1", "k ", "unknown payload"},
    {"k Gauge,1", "k ", "unknown payload"},
    {"k gauge,1,2", "k gauge,1", "invalid character"},
    /* numbers */
    {"k gauge,NaN", "k gauge,", "NaN and Infinity"},
    {"k gauge,nan", "k gauge,", "NaN and Infinity"},
    {"k NaN", "k ", "NaN and Infinity"},
    {"k gauge,-Inf", "k gauge,-", "NaN and Infinity"},
    {"k gauge,Infinity", "k gauge,", "NaN and Infinity"},
    {"k count,delta=inf", "k count,delta=", "NaN and Infinity"},
    {"k gauge,0x10", "k gauge,0", "hexadecimal"},
    {"k gauge,0X1p3", "k gauge,0", "hexadecimal"},
    {"k gauge,1e", "k gauge,1e", "exponent"},
    {"k gauge,1e+", "k gauge,1e+", "exponent"},
    {"k gauge,.", "k gauge,", "no digits"},
    {"k gauge,-", "k gauge,-", "no digits"},
    {"k gauge,+", "k gauge,+", "no digits"},
    {"k gauge,.e5", "k gauge,", "no digits"},
    {"k gauge,1.2.3", "k gauge,1.2", "invalid character"},
    {"k gauge,1_000", "k gauge,1", "invalid character"},
    {"k gauge,1f", "k gauge,1", "invalid character"},
    {"k gauge,1.5d", "k gauge,1.5", "invalid character"},
    {"k gauge,--1", "k gauge,-", "no digits"},
    {"k gauge,\xd9\xa1", "k gauge,", "no digits"},
    {"k gauge,1e400", "k gauge,", "out of range"},
    {"k count,delta=-1e400", "k count,delta=", "out of range"},
    {"k gauge,1.8e308", "k gauge,", "out of range"},
    /* summaries (spec 12.3) */
    {"k gauge,min=0,max=0,sum=0,count=-1", "k gauge,min=0,max=0,sum=0,count=", "count is negative"},
    {"k gauge,min=0,max=0,sum=1,count=0", "k gauge,min=0,max=0,sum=1,count=", "count is 0"},
    {"k gauge,min=5,max=3,sum=3,count=1", "k gauge,min=5,max=", "max < min"},
    {"k gauge,min=1.1,max=1,sum=1,count=1", "k gauge,min=1.1,max=", "max < min"},
    {"k gauge,min=2.5,max=3,sum=6,count=3", "k gauge,min=2.5,max=3,sum=", "below min"},
    {"k gauge,min=-5.3,max=-4.1,sum=-5,count=2", "k gauge,min=-5.3,max=-4.1,sum=", "above max"},
    {"k gauge,min=2,max=2,sum=5,count=3", "k gauge,min=2,max=2,sum=", "below min"},
    {"k gauge,min=35.689672,max=35.689672,sum=35.669104,count=1",
     "k gauge,min=35.689672,max=35.689672,sum=", "below min"},
    {"k gauge,min=1,max=1,sum=1.000002,count=1", "k gauge,min=1,max=1,sum=", "above max"},
    {"k gauge,min=NaN,max=1,sum=1,count=1", "k gauge,min=", "NaN and Infinity"},
    {"k gauge,min=1,max=Inf,sum=1,count=1", "k gauge,min=1,max=", "NaN and Infinity"},
    {"k gauge,min=1,max=2,sum=3", "k gauge,min=1,max=2,sum=3", "no count"},
    {"k gauge,max=2,sum=3,count=2", "k gauge,max=2,sum=3,count=2", "no min"},
    {"k gauge,min=1,max=2,sum=3,count=2,min=1", "k gauge,min=1,max=2,sum=3,count=2,", "twice"},
    {"k gauge,min=1,max=2,avg=1.5,count=2", "k gauge,min=1,max=2,", "unknown summary field"},
    {"k gauge,min=1,max=2,sum,count=2", "k gauge,min=1,max=2,", "unknown summary field"},
    {"k gauge,min=1,max=2,sum=3,count=1.5", "k gauge,min=1,max=2,sum=3,count=1", "not an integer"},
    {"k gauge,min=1,max=2,sum=3,count=", "k gauge,min=1,max=2,sum=3,count=", "not an integer"},
    {"k gauge,min=1,max=2,sum=3,count=1e3", "k gauge,min=1,max=2,sum=3,count=1", "not an integer"},
    {"k gauge,min=1,max=2,sum=3,count=99999999999999999999",
     "k gauge,min=1,max=2,sum=3,count=", "out of range"},
    {"k gauge,min=1,max=2,sum=,count=2", "k gauge,min=1,max=2,sum=", "number is missing"},
    /* timestamps */
    {"k gauge,1 12a", "k gauge,1 12", "timestamp is not a number"},
    {"k gauge,1 -5", "k gauge,1 ", "timestamp is not a number"},
    {"k gauge,1 +5", "k gauge,1 ", "timestamp is not a number"},
    {"k gauge,1 1616580000.123", "k gauge,1 1616580000", "timestamp is not a number"},
    {"k gauge,1 1e12", "k gauge,1 1", "timestamp is not a number"},
    {"k gauge,1 9223372036854775808", "k gauge,1 ", "timestamp is out of range"},
    /* UTF-8 (the text pass wins a tie) */
    {"k,a=\xff gauge,1", "k,a=", "invalid UTF-8"},
    {"k,a=\xc3 gauge,1", "k,a=", "invalid UTF-8"},
    {"k,a=b\xc3", "k,a=b", "invalid UTF-8"},
    {"k,a=\xed\xa0\x80 gauge,1", "k,a=", "invalid UTF-8"},
    {"k,a=\xc0\xaf gauge,1", "k,a=", "invalid UTF-8"},
    {"k,a=\xe0\x80\x80 gauge,1", "k,a=", "invalid UTF-8"},
    {"k,a=\xf0\x80\x80\x80 gauge,1", "k,a=", "invalid UTF-8"},
    {"k,a=\xf4\x90\x80\x80 gauge,1", "k,a=", "invalid UTF-8"},
    {"k,a=\xf5\x80\x80\x80 gauge,1", "k,a=", "invalid UTF-8"},
    {"k,a=b\x80 gauge,1", "k,a=b", "invalid UTF-8"},
    {"k,a=\xe2\x82 gauge,1", "k,a=", "invalid UTF-8"},
    {"k\xff gauge,1", "k", "invalid UTF-8"},
    {"k gauge,1 \xf0\x9f\x98", "k gauge,1 ", "invalid UTF-8"},
    {"1k,a=\xff gauge,1", "", "must start with a letter"}, /* earlier problem wins */
    {"#k gauge dt.meta.description=\"\xff\"", "#k gauge dt.meta.description=\"", "invalid UTF-8"},
    /* metadata lines */
    {"#", "#", "metric key is empty"},
    {"# k gauge dt.meta.unit=s", "#", "metric key is empty"},
    {"#1k gauge dt.meta.unit=s", "#", "must start with a letter"},
    {"#k", "#k", "no type"},
    {"#k gauge", "#k ", "type must be"},
    {"#k gauge ", "#k gauge ", "no properties"},
    {"#k  gauge dt.meta.unit=s", "#k ", "more than one space"},
    {"#k gauge  dt.meta.unit=s", "#k gauge ", "more than one space"},
    {"#k,a=b gauge dt.meta.unit=s", "#k", "cannot have dimensions"},
    {"#k summary dt.meta.unit=s", "#k ", "type must be"},
    {"#k gauge dt.meta.color=red", "#k gauge ", "unknown metadata property"},
    {"#k gauge dt.meta.unit", "#k gauge ", "no '='"},
    {"#k gauge dt.meta.unit=", "#k gauge dt.meta.unit=", "unit is empty"},
    {"#k gauge dt.meta.unit=a b", "#k gauge dt.meta.unit=a", "unit has an invalid character"},
    {"#k gauge dt.meta.unit={invalid unit}", "#k gauge dt.meta.unit={invalid", "invalid character"},
    {"#k gauge dt.meta.unit=\xe2\x82\xac", "#k gauge dt.meta.unit=", "invalid character"},
    {"#k gauge dt.meta.unit=\"s", "#k gauge dt.meta.unit=", "not closed"},
    {"#k gauge dt.meta.unit=s\"", "#k gauge dt.meta.unit=s", "invalid character"},
    {"#k gauge dt.meta.unit=s,", "#k gauge dt.meta.unit=s,", "ends after ','"},
    {"#k gauge dt.meta.unit=s,  dt.meta.description=x", "#k gauge dt.meta.unit=s, ",
     "more than one space"},
    {"#k gauge dt.meta.description=a b", "#k gauge dt.meta.description=a", "must be quoted"},
    {"#k gauge dt.meta.description=a=b", "#k gauge dt.meta.description=a", "must be quoted"},
    {"#k gauge dt.meta.description=a\\b", "#k gauge dt.meta.description=a", "must be quoted"},
    {"#k gauge dt.meta.description=\"abc", "#k gauge dt.meta.description=", "not closed"},
    {"#k gauge dt.meta.description=\"\"", "#k gauge dt.meta.description=", "value is empty"},
    {"#k gauge dt.meta.description=", "#k gauge dt.meta.description=", "value is empty"},
    {"#k gauge dt.meta.description=\"a\"b", "#k gauge dt.meta.description=\"a\"",
     "after a quoted metadata"},
    {"#k gauge dt.meta.description=\"a\tb\"", "#k gauge dt.meta.description=\"a",
     "control character"},
    {"#k gauge dt.meta.displayName=a\x01", "#k gauge dt.meta.displayName=a", "control character"},
    {"#k gauge dt.meta.DisplayName=a", "#k gauge ", "unknown metadata property"},
    {"#k gauge dt.meta.description=\"x\\\",dt.meta.unit=bad unit",
     "#k gauge dt.meta.description=", "not closed"},
    {"#k gauge dt.meta.description=\"x\\\",dt.meta.unit=s\"junk",
     "#k gauge dt.meta.description=\"x\\\",dt.meta.unit=s\"", "after a quoted metadata"},
    {"#k gauge dt.meta.description=\"a\\\"", "#k gauge dt.meta.description=", "not closed"},
    {"#k gauge dt.meta.description=\"a\\\",dt.meta.unit=ms,dt.meta.displayName=\"a\\\"",
     "#k gauge dt.meta.description=\"a\\\",dt.meta.unit=ms,dt.meta.displayName=\"",
     "after a quoted metadata"},
    {"dt.foo gauge,1", "", "reserved"},
    {"dt.foo,a=b count,delta=1", "", "reserved"},
    {"#dt.k gauge dt.meta.unit=s", "#", "reserved"},
};

START_TEST(invalid_lines)
{
    size_t i;
    for (i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        const bad_case *t = &bad_cases[i];
        size_t n = strlen(t->at);
        ck_assert_msg(strncmp(t->line, t->at, n) == 0, "case %zu: 'at' is not a prefix", i);
        check_bad(t->line, strlen(t->line), n, t->reason);
    }
}
END_TEST

START_TEST(embedded_nul)
{
    static const char l1[] = "k,a=b\0c gauge,1";
    static const char l2[] = "k gauge,1\0";
    static const char l3[] = "#k gauge dt.meta.description=\"a\0\"";
    check_bad(l1, sizeof l1 - 1, 5, "control character");
    check_bad(l2, sizeof l2 - 1, 9, "invalid character");
    check_bad(l3, sizeof l3 - 1, strlen("#k gauge dt.meta.description=\"a"), "control character");
}
END_TEST

START_TEST(empty_and_arguments)
{
    dtm_parse_result r;
    memset(&r, 0xAB, sizeof r);
    ck_assert_int_eq(dtm_parse_line("", 0, &r), DTM_OK);
    ck_assert_int_eq(r.kind, DTM_LINE_EMPTY);
    ck_assert_ptr_null(r.error);
    ck_assert_ptr_null(r.key);
    ck_assert_int_eq(dtm_parse_line(NULL, 0, &r), DTM_OK);
    ck_assert_int_eq(r.kind, DTM_LINE_EMPTY);
    ck_assert_int_eq(dtm_parse_line("  \t ", 4, &r), DTM_OK);
    ck_assert_int_eq(r.kind, DTM_LINE_EMPTY);
    ck_assert_int_eq(dtm_parse_line(NULL, 3, &r), DTM_EINVAL);
    ck_assert_int_eq(dtm_parse_line("k 1", 3, NULL), DTM_EINVAL);
    ck_assert_int_eq(dtm_parse_line(NULL, 0, NULL), DTM_EINVAL);
    /* only len bytes are read: the rest of the buffer does not matter */
    ck_assert_int_eq(dtm_parse_line("k gauge,1 junk", 9, &r), DTM_OK);
    ck_assert(r.value == 1);
    ck_assert_int_eq(dtm_parse_line("k gauge,12", 9, &r), DTM_OK);
    ck_assert(r.value == 1);
}
END_TEST

START_TEST(allocation_free)
{
    static const char l[] = "k,a=\"x y\" gauge,min=1,max=2,sum=3.000000000000000000001,count=2 5";
    dtm_parse_result r;
    tu_alloc_install();
    tu_alloc_fail_after(0);
    ck_assert_int_eq(dtm_parse_line(l, strlen(l), &r), DTM_OK);
    ck_assert_int_eq(r.kind, DTM_LINE_SUMMARY);
    ck_assert_int_eq(tu_alloc_count(), 0);
    ck_assert_int_eq(tu_alloc_live(), 0);
    tu_alloc_uninstall();
}
END_TEST

/* ---- limits ---- */

static char *cat3(const char *a, const char *b, const char *c)
{
    size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
    char *s = malloc(la + lb + lc + 1);
    ck_assert_ptr_nonnull(s);
    memcpy(s, a, la);
    memcpy(s + la, b, lb);
    memcpy(s + la + lb, c, lc + 1);
    return s;
}

/* "prefix" + rep(unit, n) + "suffix" */
static char *build(const char *prefix, const char *unit, size_t n, const char *suffix)
{
    char *r = tu_repeat(unit, n);
    char *s = cat3(prefix, r, suffix);
    free(r);
    return s;
}

static void ok_line(const char *l, dtm_line_kind kind)
{
    dtm_parse_result r;
    check_ok(l, strlen(l), kind, &r);
}

START_TEST(metric_key_length)
{
    char *l = build("", "a", 255, " gauge,1");
    ok_line(l, G);
    free(l);
    l = build("", "a", 256, " gauge,1");
    check_bad(l, strlen(l), 255, "longer than 255");
    free(l);
    l = build("a.", "b", 253, ",x=y gauge,1"); /* 255 with dots */
    ok_line(l, G);
    free(l);
    l = build("#", "a", 255, " gauge dt.meta.unit=s");
    ok_line(l, M);
    free(l);
    l = build("#", "a", 256, " gauge dt.meta.unit=s");
    check_bad(l, strlen(l), 256, "longer than 255");
    free(l);
}
END_TEST

START_TEST(dimension_key_length)
{
    char *l = build("k,", "a", 100, "=v gauge,1");
    ok_line(l, G);
    free(l);
    l = build("k,", "a", 101, "=v gauge,1");
    check_bad(l, strlen(l), 2 + 100, "longer than 100");
    free(l);
}
END_TEST

START_TEST(dimension_value_length)
{
    char *l;
    /* ASCII */
    l = build("k,a=", "v", 255, " gauge,1");
    ok_line(l, G);
    free(l);
    l = build("k,a=", "v", 256, " gauge,1");
    check_bad(l, strlen(l), 4 + 255, "longer than 255");
    free(l);
    /* 2-byte characters count one unit each */
    l = build("k,a=", "\xc3\xa9", 255, " gauge,1");
    ok_line(l, G);
    free(l);
    l = build("k,a=", "\xc3\xa9", 256, " gauge,1");
    check_bad(l, strlen(l), 4 + 2 * 255, "longer than 255");
    free(l);
    /* emoji count two units: 127 of them plus one ASCII character is 255 */
    l = build("k,a=", "\xf0\x9f\x98\x80", 127, "x gauge,1");
    ok_line(l, G);
    free(l);
    l = build("k,a=", "\xf0\x9f\x98\x80", 127, "xy gauge,1");
    check_bad(l, strlen(l), 4 + 4 * 127 + 1, "longer than 255");
    free(l);
    l = build("k,a=", "\xf0\x9f\x98\x80", 128, " gauge,1");
    check_bad(l, strlen(l), 4 + 4 * 127, "longer than 255");
    free(l);
    /* escapes count: 127 escaped commas plus one character is 255 */
    l = build("k,a=", "\\,", 127, "x gauge,1");
    ok_line(l, G);
    free(l);
    l = build("k,a=", "\\,", 128, " gauge,1");
    check_bad(l, strlen(l), 4 + 2 * 127, "longer than 255");
    free(l);
    /* quotes count: "..." with 253 characters inside is 255 */
    l = build("k,a=\"", "q", 253, "\" gauge,1");
    ok_line(l, G);
    free(l);
    l = build("k,a=\"", "q", 254, "\" gauge,1");
    check_bad(l, strlen(l), 5 + 254, "longer than 255");
    free(l);
}
END_TEST

/* "k" + n dimensions "dI=vI" + payload */
static char *dims_line(size_t n, const char *payload)
{
    size_t cap = 16 + n * 16 + strlen(payload), len, i;
    char *s = malloc(cap);
    ck_assert_ptr_nonnull(s);
    len = (size_t)snprintf(s, cap, "k");
    for (i = 0; i < n; i++)
        len += (size_t)snprintf(s + len, cap - len, ",d%zu=v%zu", i, i);
    snprintf(s + len, cap - len, "%s", payload);
    return s;
}

START_TEST(dimension_count)
{
    dtm_parse_result r;
    char *l = dims_line(50, " gauge,1");
    char *p;
    check_ok(l, strlen(l), G, &r);
    ck_assert_uint_eq(r.n_dimensions, 50);
    ck_assert_uint_eq(r.warnings & DTM_PARSE_WARN_DUPLICATE_DIMENSION, 0);
    free(l);
    l = dims_line(49, ",d0=again gauge,1"); /* a repeat after 49 others */
    check_ok(l, strlen(l), G, &r);
    ck_assert_uint_eq(r.n_dimensions, 50);
    ck_assert_uint_ne(r.warnings & DTM_PARSE_WARN_DUPLICATE_DIMENSION, 0);
    free(l);
    l = dims_line(49, ",d0x=v gauge,1"); /* same prefix, other key */
    check_ok(l, strlen(l), G, &r);
    ck_assert_uint_eq(r.warnings & DTM_PARSE_WARN_DUPLICATE_DIMENSION, 0);
    free(l);
    l = dims_line(51, " gauge,1");
    p = strstr(l, ",d50=");
    ck_assert_ptr_nonnull(p);
    check_bad(l, strlen(l), (size_t)(p - l) + 1, "more than 50 dimensions");
    free(l);
    l = dims_line(5555, " gauge,1"); /* spec L30 */
    p = strstr(l, ",d50=");
    check_bad(l, strlen(l), (size_t)(p - l) + 1, "more than 50 dimensions");
    free(l);
}
END_TEST

/* A data line of exactly `units` UTF-16 units: 50 dimensions whose values
   are 127 emoji (254 units, 508 bytes) each, then "gauge,1.000..." */
static char *long_line(size_t units, size_t *bytes)
{
    char *emo = tu_repeat("\xf0\x9f\x98\x80", 127);
    size_t cap = 50 * (16 + 508) + units + 64, len = 0, u = 0, i;
    char *s = malloc(cap);
    ck_assert_ptr_nonnull(s);
    s[len++] = 'k';
    u++;
    for (i = 0; i < 50; i++) {
        int n = snprintf(s + len, cap - len, ",d%02zu=", i);
        len += (size_t)n;
        u += (size_t)n;
        memcpy(s + len, emo, 508);
        len += 508;
        u += 254;
    }
    memcpy(s + len, " gauge,1.", 9);
    len += 9;
    u += 9;
    ck_assert(u < units);
    while (u < units) {
        s[len++] = '0';
        u++;
    }
    s[len] = '\0';
    *bytes = len;
    free(emo);
    return s;
}

START_TEST(line_length)
{
    dtm_parse_result r;
    size_t n;
    char *l = long_line(50000, &n);
    ck_assert_uint_gt(n, 50000); /* more bytes than units */
    check_ok(l, n, G, &r);
    ck_assert(r.value == 1);
    free(l);
    l = long_line(50001, &n);
    check_bad(l, n, n - 1, "longer than 50,000");
    free(l);
    /* ASCII only: 50,000 bytes pass, 50,001 do not */
    l = build("k gauge,1.", "0", 50000 - 10, "");
    ck_assert_uint_eq(strlen(l), 50000);
    ok_line(l, G);
    free(l);
    l = build("k gauge,1.", "0", 50001 - 10, "");
    check_bad(l, 50001, 50000, "longer than 50,000");
    free(l);
    /* an error before the limit is reported first */
    l = build("k gauge,1.", "0", 60000, "x");
    check_bad(l, strlen(l), 50000, "longer than 50,000");
    free(l);
    l = build("k gauge,x", "0", 60000, "");
    check_bad(l, strlen(l), 8, "no digits");
    free(l);
}
END_TEST

START_TEST(metadata_lengths)
{
    char *l;
    l = build("#k gauge dt.meta.description=", "a", 65535, "");
    ok_line(l, M); /* longer than 50,000: metadata lines are exempt */
    free(l);
    l = build("#k gauge dt.meta.description=", "a", 65536, "");
    check_bad(l, strlen(l), strlen("#k gauge dt.meta.description=") + 65535, "longer than 65,535");
    free(l);
    l = build("#k gauge dt.meta.displayName=\"", "a", 300, "\"");
    ok_line(l, M);
    free(l);
    l = build("#k gauge dt.meta.displayName=\"", "\\n", 300, "\""); /* \n counts one */
    ok_line(l, M);
    free(l);
    l = build("#k gauge dt.meta.displayName=\"", "\xf0\x9f\x98\x80", 150, "\"");
    ok_line(l, M);
    free(l);
    l = build("#k gauge dt.meta.displayName=\"", "\xf0\x9f\x98\x80", 151, "\"");
    check_bad(l, strlen(l), strlen("#k gauge dt.meta.displayName=\"") + 4 * 150, "longer than 300");
    free(l);
    l = build("#k gauge dt.meta.displayName=", "a", 301, "");
    check_bad(l, strlen(l), strlen("#k gauge dt.meta.displayName=") + 300, "longer than 300");
    free(l);
    l = build("#k gauge dt.meta.unit=", "a", 63, "");
    ok_line(l, M);
    free(l);
    l = build("#k gauge dt.meta.unit=\"", "a", 63, "\"");
    ok_line(l, M);
    free(l);
    l = build("#k gauge dt.meta.unit=", "a", 64, "");
    check_bad(l, strlen(l), strlen("#k gauge dt.meta.unit=") + 63, "longer than 63");
    free(l);
    l = build("#k gauge dt.meta.description=\"", "a", 255, "\""); /* M21 */
    ok_line(l, M);
    free(l);
}
END_TEST

/* ---- number values ---- */

typedef struct num_case {
    const char *text;
    double value;
} num_case;

static double parse_value(const char *payload_number)
{
    char line[2048];
    dtm_parse_result r;
    int n = snprintf(line, sizeof line, "m gauge,%s", payload_number);
    ck_assert(n > 0 && (size_t)n < sizeof line);
    check_ok(line, (size_t)n, G, &r);
    return r.value;
}

START_TEST(number_values)
{
    static const num_case cases[] = {
        {"0", 0.0},
        {"1.23", 1.23},
        {"-1.23456789", -1.23456789},
        {"1.1234567890123457", 1.1234567890123457},
        {"0.30000000000000004", 0.30000000000000004},
        {"10000000000", 1e10},
        {"1.234567000000123E12", 1.234567000000123e12},
        {"1.7976931348623157E308", DBL_MAX},
        {"4.9E-324", 4.9e-324},
        {"2.2250738585072014E-308", DBL_MIN},
        {"1.0E-4", 1e-4},
        {"1.0E-5", 1e-5},
        {"1e-05", 1e-5},
        {"1.23456789E7", 12345678.9},
        {"1.0E20", 1e20},
        {"1.0e+20", 1e20},
        {"100000000000000000000", 1e20},
        {"5.960464477539063E-8", 5.960464477539063e-8},
        {"9007199254740993", 9007199254740992.0}, /* halfway: to even */
        {"9007199254740995", 9007199254740996.0},
        {"123456789012345678901234567890", 123456789012345678901234567890.0},
        {"0.000001", 1e-6},
        {"000123.4500", 123.45},
        {".5", 0.5},
        {"5.", 5.0},
        {"+7", 7.0},
        {"1e-400", 0.0},
        {"2.4703282292062328e-324", 4.9406564584124654e-324}, /* just above half the smallest */
        {"2.4703282292062327e-324", 0.0},                    /* just below: rounds to 0 */
        /* exactly halfway between 1 and the next double: to even (1) */
        {"1.00000000000000011102230246251565404236316680908203125", 1.0},
        {"1.000000000000000111022302462515654042363166809082031250000000000000000000001",
         1.0000000000000002},
    };
    size_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double v = parse_value(cases[i].text);
        ck_assert_msg(v == cases[i].value, "%s: got %.17g, expected %.17g", cases[i].text, v,
                      cases[i].value);
    }
    ck_assert(signbit(parse_value("-0")));
    ck_assert(signbit(parse_value("-0.0e5")));
}
END_TEST

/* More than 781 significant digits: the digits past the cut still decide. */
START_TEST(number_long_digits)
{
    char *n;
    n = build("1.00000000000000011102230246251565404236316680908203125", "0", 900, "");
    ck_assert(parse_value(n) == 1.0);
    free(n);
    n = build("1.00000000000000011102230246251565404236316680908203125", "0", 900, "1");
    ck_assert(parse_value(n) == 1.0000000000000002);
    free(n);
    n = build("0.", "0", 1200, "1e1201");
    ck_assert(parse_value(n) == 1.0);
    free(n);
    n = build("1", "0", 1000, "e-1000");
    ck_assert(parse_value(n) == 1.0);
    free(n);
    n = build("", "9", 1000, "e-1000");
    ck_assert(parse_value(n) == 1.0); /* 0.999... (1000 nines) rounds to 1 */
    free(n);
    n = build("1e", "0", 1000, "5"); /* a long exponent with leading zeros */
    ck_assert(parse_value(n) == 1e5);
    free(n);
    n = build("1e-", "9", 30, ""); /* a huge negative exponent underflows to 0 */
    ck_assert(parse_value(n) == 0.0);
    free(n);
    n = build("k gauge,1e", "9", 30, "");
    check_bad(n, strlen(n), 8, "out of range");
    free(n);
}
END_TEST

/* The value does not depend on LC_NUMERIC. */
START_TEST(number_locale_independent)
{
    const char *locs[] = {"de_DE.UTF-8", "fr_FR.UTF-8"};
    size_t i;
    int tested = 0;
    for (i = 0; i < 2; i++) {
        if (setlocale(LC_ALL, locs[i]) == NULL)
            continue;
        tested++;
        ck_assert(parse_value("1.5") == 1.5);
        ck_assert(parse_value("1.2345678901234567") == 1.2345678901234567);
        ck_assert(parse_value("1.0E-300") == 1e-300);
        check_bad("k gauge,1,5", 11, 9, "invalid character");
        setlocale(LC_ALL, "C");
    }
    ck_assert_msg(tested > 0, "no comma-decimal locale installed");
}
END_TEST

/* ---- random input ---- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
    /* xorshift64* */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * UINT64_C(2685821657736338717);
}

static void check_any(const char *line, size_t len)
{
    dtm_parse_result r, r2;
    dtm_status st = dtm_parse_line(line, len, &r);
    ck_assert(st == DTM_OK || st == DTM_ESYNTAX);
    if (st == DTM_ESYNTAX) {
        ck_assert_int_eq(r.kind, DTM_LINE_INVALID);
        ck_assert_ptr_nonnull(r.error);
        ck_assert_uint_le(r.error_offset, len);
    } else {
        ck_assert_int_ne(r.kind, DTM_LINE_INVALID);
        ck_assert_ptr_null(r.error);
        if (r.kind != DTM_LINE_EMPTY) {
            ck_assert(r.key >= line && r.key + r.key_len <= line + len);
            ck_assert(r.payload >= line && r.payload + r.payload_len <= line + len);
            ck_assert_uint_le(r.n_dimensions, 50);
        }
    }
    ck_assert_int_eq(dtm_parse_line(line, len, &r2), st);
    ck_assert(r2.kind == r.kind && r2.error == r.error && r2.error_offset == r.error_offset);
}

START_TEST(random_bytes)
{
    static const char alphabet[] = "ab_.-,= \"\\09eE+#\t\r\xc3\xa9\xf0\x9f\x98\x80\xff";
    char buf[256];
    long i;
    rng_state = UINT64_C(0x9E3779B97F4A7C15);
    for (i = 0; i < 100000; i++) {
        size_t len = (size_t)(rnd() % sizeof buf), k;
        int mode = (int)(rnd() % 2);
        for (k = 0; k < len; k++) {
            uint64_t x = rnd();
            buf[k] = mode ? (char)(x & 0xFF) : alphabet[x % (sizeof alphabet - 1)];
        }
        check_any(buf, len);
    }
}
END_TEST

/* Valid lines with one byte changed, inserted or deleted. */
START_TEST(random_mutations)
{
    static const char *seeds[] = {
        "prefix.name,dim1=val1,d2=\"a b\\\"c\" gauge,min=1.5,max=2.5,sum=4,count=2 1616580000123",
        "metric1,key=\\ \\,\\=\\\\ count,delta=123 1620392690261",
        "#prefix.name gauge dt.meta.description=\"my \\\"d\\\"\",dt.meta.unit=unit,"
        "dt.meta.displayName=d",
        "k,a=\xc3\xa4\xf0\x9f\x98\x80 -1.0E-5",
    };
    static const char bytes[] = ",= .\"\\#-e0\t\r\x80\xc3";
    char buf[512];
    long i;
    rng_state = UINT64_C(12345);
    for (i = 0; i < 100000; i++) {
        const char *seed = seeds[rnd() % 4];
        size_t len = strlen(seed), pos, k, nmut = 1 + (size_t)(rnd() % 3);
        memcpy(buf, seed, len);
        for (k = 0; k < nmut && len > 0; k++) {
            char b = (rnd() % 2) ? bytes[rnd() % (sizeof bytes - 1)] : (char)(rnd() & 0xFF);
            pos = (size_t)(rnd() % len);
            switch (rnd() % 3) {
            case 0:
                buf[pos] = b;
                break;
            case 1:
                memmove(buf + pos + 1, buf + pos, len - pos);
                buf[pos] = b;
                len++;
                break;
            default:
                memmove(buf + pos, buf + pos + 1, len - pos - 1);
                len--;
                break;
            }
        }
        check_any(buf, len);
    }
}
END_TEST

/* Random valid lines: always accepted, and the value is the printed double. */
START_TEST(random_valid_lines)
{
    static const char *vals[] = {"v",   "\\ ", "\\,", "\\=", "\\\\", "\\\"", "\xc3\xa9",
                                 "\xf0\x9f\x98\x80", "x-y"};
    char line[4096], num[64];
    long i;
    rng_state = UINT64_C(777);
    for (i = 0; i < 20000; i++) {
        size_t len = 0, nd = rnd() % 6, d, k;
        double v;
        uint64_t bits;
        dtm_parse_result r;
        do {
            bits = rnd();
            memcpy(&v, &bits, sizeof v);
        } while (isnan(v) || isinf(v));
        if (rnd() % 2) /* also plenty of "ordinary" numbers */
            v = (double)(int64_t)(rnd() % 2000000 - 1000000) / (double)(1 + rnd() % 1000);
        snprintf(num, sizeof num, (rnd() % 2) ? "%.17g" : "%.15g", v);
        len += (size_t)snprintf(line + len, sizeof line - len, "m%zu.k_%zu", (size_t)(rnd() % 100),
                                (size_t)(rnd() % 100));
        for (d = 0; d < nd; d++) {
            size_t nv = 1 + rnd() % 5;
            int quoted = (int)(rnd() % 3 == 0);
            len += (size_t)snprintf(line + len, sizeof line - len, ",d%zu=%s", d,
                                    quoted ? "\"" : "");
            for (k = 0; k < nv; k++) {
                const char *piece = quoted ? "a, b=" : vals[rnd() % (sizeof vals / sizeof vals[0])];
                len += (size_t)snprintf(line + len, sizeof line - len, "%s", piece);
            }
            if (quoted)
                line[len++] = '"';
        }
        switch (rnd() % 3) {
        case 0:
            len += (size_t)snprintf(line + len, sizeof line - len, " gauge,%s", num);
            break;
        case 1:
            len += (size_t)snprintf(line + len, sizeof line - len, " count,delta=%s", num);
            break;
        default:
            len += (size_t)snprintf(line + len, sizeof line - len, " %s", num);
            break;
        }
        if (rnd() % 2)
            len += (size_t)snprintf(line + len, sizeof line - len, " %llu",
                                    (unsigned long long)(rnd() >> 1));
        ck_assert_int_eq(dtm_parse_line(line, len, &r), DTM_OK);
        ck_assert_uint_eq(r.n_dimensions, nd);
        ck_assert_msg(r.value == strtod(num, NULL), "%s: %.17g", line, r.value);
    }
}
END_TEST

/* ---- round trip through the serializer ---- */

/* A random string of nasty pieces: separators, escapes, quotes, controls,
   non-ASCII, property names. */
static void nasty(char *out, size_t cap)
{
    static const char *pieces[] = {"a", "Z", "0", " ", ",", "=", "\\", "\"", "\"\"", ".", "-",
                                   ":", "\t", "\n", "\x01", "\x7f", "\xc2\x85", "\xc3\xa4",
                                   "\xe2\x80\x8d", "\xf0\x9f\x98\x80", "\xff", "\xed\xa0\x80",
                                   "dt.", ",dt.meta.unit=", "\\\"", "#"};
    size_t len = 0, n = rnd() % 12, k;
    for (k = 0; k < n; k++) {
        const char *p = pieces[rnd() % (sizeof pieces / sizeof pieces[0])];
        size_t pl = strlen(p);
        if (len + pl + 1 > cap)
            break;
        memcpy(out + len, p, pl);
        len += pl;
    }
    out[len] = '\0';
}

START_TEST(serializer_round_trip)
{
    char name[128], dk[4][128], dv[4][128], desc[128], disp[128], out[4096];
    dtm_dimension dims[4];
    dtm_serializer *s;
    dtm_parse_result r;
    dtm_status st;
    size_t len, k;
    long i, lines = 0;
    ck_assert_int_eq(dtm_serializer_new(&s, NULL), DTM_OK);
    rng_state = UINT64_C(4242);
    for (i = 0; i < 20000; i++) {
        nasty(name, sizeof name);
        for (k = 0; k < 4; k++) {
            nasty(dk[k], sizeof dk[k]);
            nasty(dv[k], sizeof dv[k]);
            if (rnd() % 4 == 0) { /* a value the caller quoted */
                size_t n = strlen(dv[k]);
                memmove(dv[k] + 1, dv[k], n);
                dv[k][0] = '"';
                dv[k][n + 1] = '"';
                dv[k][n + 2] = '\0';
            }
            dims[k].key = dk[k];
            dims[k].value = dv[k];
        }
        if (dtm_serialize_gauge(s, name, dims, 4, 1.5, 0, out, sizeof out, &len) == DTM_OK) {
            ck_assert_msg(dtm_parse_line(out, len, &r) == DTM_OK, "<%s>: %s at %zu", out, r.error,
                          r.error_offset);
            lines++;
        }
        if (dtm_serialize_summary(s, name, dims, 4, 0, 0, 0, 0, 1700000000000, out, sizeof out,
                                  &len) == DTM_OK)
            ck_assert_msg(dtm_parse_line(out, len, &r) == DTM_OK, "<%s>: %s at %zu", out, r.error,
                          r.error_offset);
        nasty(desc, sizeof desc);
        nasty(disp, sizeof disp);
        if (rnd() % 4 == 0) {
            size_t n = strlen(desc);
            memmove(desc + 1, desc, n);
            desc[0] = '"';
            desc[n + 1] = '"';
            desc[n + 2] = '\0';
        }
        st = dtm_serialize_metadata(s, name, (i % 2) ? DTM_METRIC_GAUGE : DTM_METRIC_COUNTER, desc,
                                    (rnd() % 2) ? "ms" : NULL, disp, out, sizeof out, &len);
        if (st == DTM_OK && len > 0) {
            ck_assert_msg(dtm_parse_line(out, len, &r) == DTM_OK, "<%s>: %s at %zu", out, r.error,
                          r.error_offset);
            ck_assert_int_eq(r.kind, DTM_LINE_METADATA);
            lines++;
        }
    }
    ck_assert_int_gt(lines, 1000);
    dtm_serializer_free(s);
}
END_TEST

/* ---- threads ---- */

static void *parse_many(void *arg)
{
    static const char l[] = "k,a=b gauge,min=1.25,max=2.12345678901234567,sum=3.3,count=2";
    long i, *bad = arg;
    for (i = 0; i < 20000; i++) {
        dtm_parse_result r;
        if (dtm_parse_line(l, sizeof l - 1, &r) != DTM_OK || r.max != 2.12345678901234567)
            (*bad)++;
    }
    return NULL;
}

START_TEST(threads)
{
    pthread_t t[4];
    long bad[4] = {0, 0, 0, 0};
    int i;
    for (i = 0; i < 4; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, parse_many, &bad[i]), 0);
    for (i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        ck_assert_int_eq(bad[i], 0);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("parse");
    TCase *tc = tu_tcase("lines", 10);
    tcase_add_test(tc, valid_lines);
    tcase_add_test(tc, result_members);
    tcase_add_test(tc, invalid_lines);
    tcase_add_test(tc, embedded_nul);
    tcase_add_test(tc, empty_and_arguments);
    tcase_add_test(tc, allocation_free);
    suite_add_tcase(s, tc);
    tc = tu_tcase("limits", 10);
    tcase_add_test(tc, metric_key_length);
    tcase_add_test(tc, dimension_key_length);
    tcase_add_test(tc, dimension_value_length);
    tcase_add_test(tc, dimension_count);
    tcase_add_test(tc, line_length);
    tcase_add_test(tc, metadata_lengths);
    suite_add_tcase(s, tc);
    tc = tu_tcase("numbers", 10);
    tcase_add_test(tc, number_values);
    tcase_add_test(tc, number_long_digits);
    tcase_add_test(tc, number_locale_independent);
    suite_add_tcase(s, tc);
    tc = tu_tcase("robustness", 60);
    tcase_add_test(tc, random_bytes);
    tcase_add_test(tc, random_mutations);
    tcase_add_test(tc, random_valid_lines);
    tcase_add_test(tc, serializer_round_trip);
    tcase_add_test(tc, threads);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
