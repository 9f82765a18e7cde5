/* The line serializer: conformance cases L, S, T and M of the protocol
   specification, precedence, limits, buffer contract, diagnostics. */
#include "config.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "serialize.h"
#include "text.h"
#include "testutil.h"

#define BUF 65536
static char out[BUF];
static size_t out_len;

static dtm_serializer *make(const char *prefix, const dtm_dimension *defs, size_t n_defs,
                            const dtm_dimension *stat, size_t n_stat)
{
    dtm_serializer_options o;
    dtm_serializer *s = NULL;
    dtm_serializer_options_init(&o);
    o.prefix = prefix;
    o.default_dimensions = defs;
    o.n_default_dimensions = n_defs;
    o.static_dimensions = stat;
    o.n_static_dimensions = n_stat;
    ck_assert_int_eq(dtm_serializer_new(&s, &o), DTM_OK);
    ck_assert_ptr_nonnull(s);
    return s;
}

/* ---- full lines (spec 12.5, 12.4) ---- */

typedef struct line_case {
    const char *id;
    const char *prefix;
    const char *name;
    int type; /* 0 gauge, 1 counter */
    double value;
    int64_t ts;
    dtm_dimension dims[4];
    size_t n_dims;
    dtm_status status;
    const char *expected;
} line_case;

static const line_case line_cases[] = {
    {"L1", NULL, "name", 0, 1.23, 0, {{0, 0}}, 0, DTM_OK, "name gauge,1.23"},
    {"L2", NULL, "name", 1, 1.23, 0, {{0, 0}}, 0, DTM_OK, "name count,delta=1.23"},
    {"L3", NULL, "~@#$", 1, 1, 0, {{0, 0}}, 0, DTM_OK, "_ count,delta=1"},
    {"L4", "prefix", "name", 1, 1, 0, {{0, 0}}, 0, DTM_OK, "prefix.name count,delta=1"},
    {"L5", "prefix.", "name", 1, 1, 0, {{0, 0}}, 0, DTM_OK, "prefix.name count,delta=1"},
    {"L6", "~@#$", "name", 1, 1, 0, {{0, 0}}, 0, DTM_OK, "_.name count,delta=1"},
    {"L7", "!@#", "~@#$", 1, 1, 0, {{0, 0}}, 0, DTM_OK, "_._ count,delta=1"},
    {"L8", "prefix", "", 1, 1, 0, {{0, 0}}, 0, DTM_EKEY, NULL},
    {"L9", NULL, "", 1, 1, 0, {{0, 0}}, 0, DTM_EKEY, NULL},
    {"L10", NULL, ".", 1, 1, 0, {{0, 0}}, 0, DTM_EKEY, NULL},
    {"L11", ".prefix", "x", 1, 1, 0, {{0, 0}}, 0, DTM_EKEY, NULL},
    {"dt-reserved", NULL, "dt.foo", 0, 1, 0, {{0, 0}}, 0, DTM_EKEY, NULL},
    {"dt-reserved-prefix", "dt", "foo", 0, 1, 0, {{0, 0}}, 0, DTM_EKEY, NULL},
    {"dt-not-reserved", NULL, "dtx.foo", 0, 1, 0, {{0, 0}}, 0, DTM_OK, "dtx.foo gauge,1"},
    {"L12", NULL, "metric1", 1, 123, 1620392690261, {{"key", " ,=\\"}}, 1, DTM_OK,
     "metric1,key=\\ \\,\\=\\\\ count,delta=123 1620392690261"},
    {"L13", "prefix", "name", 1, 1, 0, {{"dim1", "val1"}}, 1, DTM_OK,
     "prefix.name,dim1=val1 count,delta=1"},
    {"L18a", "prefix", "name", 1, 1, 0, {{"", ""}}, 1, DTM_OK, "prefix.name count,delta=1"},
    {"L18b", "prefix", "name", 1, 1, 0, {{"dim", NULL}}, 1, DTM_OK, "prefix.name count,delta=1"},
    {"L18c", "prefix", "name", 1, 1, 0, {{"dim", ""}}, 1, DTM_OK, "prefix.name count,delta=1"},
    {"L18d", "prefix", "name", 1, 1, 0, {{NULL, ""}}, 1, DTM_OK, "prefix.name count,delta=1"},
    {"L18e", "prefix", "name", 1, 1, 0, {{"", "val"}}, 1, DTM_OK, "prefix.name count,delta=1"},
    {"L18f", "prefix", "name", 1, 1, 0, {{NULL, "val"}}, 1, DTM_OK, "prefix.name count,delta=1"},
    {"L18g", "prefix", "name", 1, 1, 0, {{"", NULL}}, 1, DTM_OK, "prefix.name count,delta=1"},
    {"L18h", "prefix", "name", 1, 1, 0, {{NULL, NULL}}, 1, DTM_OK, "prefix.name count,delta=1"},
    {"L19", "prefix", "name", 1, 1, 0, {{".", "value"}}, 1, DTM_OK, "prefix.name count,delta=1"},
    {"L20", NULL, "name", 1, 1, 0, {{"~!@LEADING", "value1"}, {"TRAILING!@#", "value2"}}, 2,
     DTM_OK, "name,_leading=value1,trailing_=value2 count,delta=1"},
    {"L21", NULL, "name", 1, 1, 0,
     {{"valid", "value"}, {"!@@$", "underscore"}, {"another_valid", "value"}}, 3, DTM_OK,
     "name,valid=value,_=underscore,another_valid=value count,delta=1"},
    {"T1", "prefix", "name", 1, 1, 1616580000123, {{0, 0}}, 0, DTM_OK,
     "prefix.name count,delta=1 1616580000123"},
    {"T2", "prefix", "name", 1, 1, 1616580000, {{0, 0}}, 0, DTM_OK, "prefix.name count,delta=1"},
    {"T3", "prefix", "name", 1, 1, 1616580000000000, {{0, 0}}, 0, DTM_OK,
     "prefix.name count,delta=1"},
    {"T4", "prefix", "name", 1, 1, 0, {{0, 0}}, 0, DTM_OK, "prefix.name count,delta=1"},
    {"T5", "prefix", "name", 1, 1, 946684800000, {{0, 0}}, 0, DTM_OK,
     "prefix.name count,delta=1 946684800000"},
    {"T6", "prefix", "name", 1, 1, 946684799999, {{0, 0}}, 0, DTM_OK, "prefix.name count,delta=1"},
    {"T7", "prefix", "name", 1, 1, 32535215999999, {{0, 0}}, 0, DTM_OK,
     "prefix.name count,delta=1 32535215999999"},
    {"T8", "prefix", "name", 1, 1, 32535216000000, {{0, 0}}, 0, DTM_OK,
     "prefix.name count,delta=1"},
    {"T9", "prefix", "name", 1, 1, (int64_t)(1615800000.123 * 1000), {{0, 0}}, 0, DTM_OK,
     "prefix.name count,delta=1 1615800000123"},
    {"V13", NULL, "m", 0, -123.456, 0, {{0, 0}}, 0, DTM_OK, "m gauge,-123.456"},
    {"V14", NULL, "m", 1, 100.123456789, 0, {{0, 0}}, 0, DTM_OK, "m count,delta=100.123456789"},
    {"V2", NULL, "m", 0, -0.0, 0, {{0, 0}}, 0, DTM_OK, "m gauge,0"},
    {"neg-delta", NULL, "m", 1, -10.123, 0, {{0, 0}}, 0, DTM_OK, "m count,delta=-10.123"},
};

START_TEST(full_lines)
{
    const line_case *c = &line_cases[_i];
    dtm_serializer *s = make(c->prefix, NULL, 0, NULL, 0);
    dtm_status st;
    if (c->type == 0)
        st = dtm_serialize_gauge(s, c->name, c->dims, c->n_dims, c->value, c->ts, out, BUF,
                                 &out_len);
    else
        st = dtm_serialize_counter(s, c->name, c->dims, c->n_dims, c->value, c->ts, out, BUF,
                                   &out_len);
    ck_assert_msg(st == c->status, "%s: status %d, expected %d", c->id, st, c->status);
    if (c->expected) {
        ck_assert_msg(strcmp(out, c->expected) == 0, "%s: got '%s', expected '%s'", c->id, out,
                      c->expected);
        ck_assert_uint_eq(out_len, strlen(c->expected));
    } else {
        ck_assert_str_eq(out, "");
    }
    dtm_serializer_free(s);
}
END_TEST

START_TEST(defaults_overridden_by_line)
{
    /* L14, L15 */
    dtm_dimension defs[] = {{"dim1", "default1"}, {"dim2", "default2"}};
    dtm_dimension line[] = {{"dim1", "overwritten"}};
    dtm_dimension defs2[] = {{"defaultDim1", "defaultVal1"}};
    dtm_dimension line2[] = {{"dim1", "val1"}};
    dtm_serializer *s = make(NULL, defs, 2, NULL, 0);
    ck_assert_int_eq(dtm_serialize_gauge(s, "m", line, 1, 1, 0, out, BUF, &out_len), DTM_OK);
    ck_assert_str_eq(out, "m,dim2=default2,dim1=overwritten gauge,1");
    dtm_serializer_free(s);
    s = make(NULL, defs2, 1, NULL, 0);
    ck_assert_int_eq(dtm_serialize_gauge(s, "m", line2, 1, 1, 0, out, BUF, &out_len), DTM_OK);
    ck_assert_str_eq(out, "m,defaultdim1=defaultVal1,dim1=val1 gauge,1");
    dtm_serializer_free(s);
}
END_TEST

START_TEST(three_groups_precedence)
{
    /* L16 and L17: precedence on the normalized key. */
    dtm_dimension defs[] = {{"dim1", "defaultVal1"}, {"dim2", "defaultVal2"}, {"dim3", "defaultVal3"}};
    dtm_dimension line[] = {{"dim2", "dynamicVal2"}, {"dim3", "dynamicVal3"}};
    dtm_dimension stat[] = {{"dim3", "metadataVal3"}};
    dtm_dimension d17[] = {{"dim@", "defaultVal"}};
    dtm_dimension l17[] = {{"dim@", "dynamicVal"}};
    dtm_dimension s17[] = {{"dim@", "metadataVal"}};
    dtm_serializer *s = make(NULL, defs, 3, stat, 1);
    ck_assert_int_eq(dtm_serialize_counter(s, "name", line, 2, 1, 0, out, BUF, &out_len), DTM_OK);
    ck_assert_str_eq(out, "name,dim1=defaultVal1,dim2=dynamicVal2,dim3=metadataVal3 count,delta=1");
    dtm_serializer_free(s);
    s = make("prefix", d17, 1, s17, 1);
    ck_assert_int_eq(dtm_serialize_counter(s, "name", l17, 1, 1, 0, out, BUF, &out_len), DTM_OK);
    ck_assert_str_eq(out, "prefix.name,dim_=metadataVal count,delta=1");
    dtm_serializer_free(s);
}
END_TEST

START_TEST(same_key_within_group_last_wins)
{
    dtm_dimension defs[] = {{"a", "1"}, {"A", "2"}, {"b", "3"}};
    dtm_dimension line[] = {{"x", "1"}, {"y", "2"}, {"X", "3"}};
    dtm_serializer *s = make(NULL, defs, 3, NULL, 0);
    ck_assert_int_eq(dtm_serialize_gauge(s, "m", line, 3, 1, 0, out, BUF, &out_len), DTM_OK);
    ck_assert_str_eq(out, "m,a=2,b=3,x=3,y=2 gauge,1");
    dtm_serializer_free(s);
}
END_TEST

START_TEST(line_value_quoted_and_d3)
{
    dtm_dimension line[] = {{"q", "\"a b\""}, {"e", "\"\""}, {"one", "\""}};
    dtm_serializer *s = make(NULL, NULL, 0, NULL, 0);
    ck_assert_int_eq(dtm_serialize_gauge(s, "m", line, 3, 1, 0, out, BUF, &out_len), DTM_OK);
    /* D3: "" is empty -> omitted; D2: a lone quote is escaped. */
    ck_assert_str_eq(out, "m,q=\"a b\",one=\\\" gauge,1");
    dtm_serializer_free(s);
}
END_TEST

START_TEST(l22_escapes_and_invalid)
{
    /* L22: the second dimension's value holds a NUL, so it goes through the
       length-taking normalizers; the first through the serializer. */
    static const char v2[] = "\0val\t";
    dtm_dimension l1[] = {{"dim~1", "\\=\" =="}};
    dtm_serializer *s = make(NULL, NULL, 0, NULL, 0);
    char buf[256];
    size_t len;
    ck_assert_int_eq(dtm_serialize_gauge(s, "metric", l1, 1, 100, 0, out, BUF, &out_len), DTM_OK);
    ck_assert_str_eq(out, "metric,dim_1=\\\\\\=\\\"\\ \\=\\= gauge,100");
    ck_assert_int_eq(dtm_normalize_dimension_key("  dim 2!@", 9, buf, sizeof buf, &len), DTM_OK);
    ck_assert_str_eq(buf, "_dim_2_");
    ck_assert_int_eq(dtm_normalize_dimension_value(v2, sizeof v2 - 1, buf, sizeof buf, &len),
                     DTM_OK);
    ck_assert_str_eq(buf, "_val_");
    dtm_serializer_free(s);
}
END_TEST

static void fill_dims(dtm_dimension *d, char (*keys)[16], char (*vals)[16], size_t n,
                      const char *kprefix)
{
    size_t i;
    for (i = 0; i < n; i++) {
        snprintf(keys[i], 16, "%s%d", kprefix, (int)i);
        snprintf(vals[i], 16, "val%d", (int)i);
        d[i].key = keys[i];
        d[i].value = vals[i];
    }
}

START_TEST(fifty_dimensions)
{
    /* L23, L24, L25 */
    static dtm_dimension d[60];
    static char keys[60][16], vals[60][16];
    dtm_dimension meta[] = {{"dim3", "m"}};
    dtm_dimension extra[] = {{"extra", "x"}};
    dtm_serializer *s = make(NULL, NULL, 0, NULL, 0);
    fill_dims(d, keys, vals, 51, "dim");
    ck_assert_int_eq(dtm_serialize_gauge(s, "m", d, 50, 1, 0, out, BUF, &out_len), DTM_OK);
    ck_assert_int_eq(dtm_serialize_gauge(s, "m", d, 51, 1, 0, out, BUF, &out_len), DTM_EDIMS);
    ck_assert_str_eq(out, "");
    dtm_serializer_free(s);
    /* 50 defaults + metadata overlapping one default + one line dim: 51. */
    s = make(NULL, d, 50, meta, 1);
    ck_assert_int_eq(dtm_serialize_gauge(s, "m", NULL, 0, 1, 0, out, BUF, &out_len), DTM_OK);
    ck_assert_int_eq(dtm_serialize_gauge(s, "m", extra, 1, 1, 0, out, BUF, &out_len), DTM_EDIMS);
    /* D4: repeats of the same key count once. */
    {
        dtm_dimension rep[60];
        size_t i;
        for (i = 0; i < 60; i++) {
            rep[i].key = "dim0";
            rep[i].value = "v";
        }
        ck_assert_int_eq(dtm_serialize_gauge(s, "m", rep, 60, 1, 0, out, BUF, &out_len), DTM_OK);
    }
    dtm_serializer_free(s);
}
END_TEST

START_TEST(defaults_alone_over_fifty)
{
    static dtm_dimension d[60];
    static char keys[60][16], vals[60][16];
    dtm_serializer_options o;
    dtm_serializer *s = NULL;
    fill_dims(d, keys, vals, 51, "k");
    dtm_serializer_options_init(&o);
    o.default_dimensions = d;
    o.n_default_dimensions = 51;
    ck_assert_int_eq(dtm_serializer_new(&s, &o), DTM_EDIMS);
    ck_assert_ptr_null(s);
}
END_TEST

START_TEST(longest_possible_line)
{
    /* With 50 dimensions of 100-unit keys and 255-unit values the line stays
       far below 50,000 units, so DTM_ELINE cannot come from the serializer
       (it exists for raw lines); check that the worst case serializes and
       that UTF-16 units are counted, not bytes. */
    static dtm_dimension d[50];
    static char keys[50][128];
    char *v = tu_repeat("\xF0\x9F\x98\x80", 200); /* 400 units: cut to 127 emoji */
    char *k = tu_repeat("k", 120);
    size_t i;
    dtm__writer w;
    dtm_serializer *s = make(NULL, NULL, 0, NULL, 0);
    for (i = 0; i < 50; i++) {
        snprintf(keys[i], sizeof keys[i], "%.97s%03d", k, (int)i);
        d[i].key = keys[i];
        d[i].value = v;
    }
    dtm__writer_init(&w, out, BUF);
    ck_assert_int_eq(dtm__serialize_identity(s, "m", 1, d, 50, &w), DTM_OK);
    ck_assert_uint_eq(w.units, 1 + 50 * (1 + 100 + 1 + 254));
    ck_assert_uint_eq(w.len, 1 + 50 * (1 + 100 + 1 + 127 * 4));
    ck_assert_int_eq(dtm_serialize_gauge(s, "m", d, 50, 1, 0, out, BUF, &out_len), DTM_OK);
    ck_assert_uint_eq(out_len, w.len + 8);
    free(v);
    free(k);
    dtm_serializer_free(s);
}
END_TEST

/* ---- summaries (spec 12.3) ---- */

typedef struct sum_case {
    const char *id;
    double min, max, sum;
    int64_t count;
    const char *payload; /* NULL = rejected */
} sum_case;

static const sum_case sum_cases[] = {
    {"S1", 1.23, 10.34, 20.45, 7, "gauge,min=1.23,max=10.34,sum=20.45,count=7"},
    {"S2", 0.123, 10.321, 20, 10, "gauge,min=0.123,max=10.321,sum=20,count=10"},
    {"S3", 0, 0, 0, 0, "gauge,min=0,max=0,sum=0,count=0"},
    {"S4", 0, 0, 0, -1, NULL},
    {"S5", 0, 0, 1, 0, NULL},
    {"S6", 5, 3, 3, 1, NULL},
    {"S7", 1.1, 1, 1, 1, NULL},
    {"S8", 2.5, 3, 6, 3, NULL},
    {"S9", -5.3, -4.1, -5, 2, NULL},
    {"S10", 2, 2, 5, 3, NULL},
    {"S11", 2.0000001, 3, 4, 2, "gauge,min=2.0000001,max=3,sum=4,count=2"},
    {"S12", 1.5, 1.999999, 4, 2, "gauge,min=1.5,max=1.999999,sum=4,count=2"},
    {"S13", -1.3, 4.1, 5, 2, "gauge,min=-1.3,max=4.1,sum=5,count=2"},
    {"S14", 35.689672, 35.689672, 35.669104, 1, NULL},
    {"S15", 1, 1, 1.0000005, 1, "gauge,min=1,max=1,sum=1.0000005,count=1"},
    {"S16", 1, 1, 1.000002, 1, NULL},
    {"S17a", NAN, 1, 1, 1, NULL},
    {"S17b", 1, INFINITY, 1, 1, NULL},
    {"S17c", 1, 1, -INFINITY, 1, NULL},
    {"S17d", 1, 1, NAN, 1, NULL},
    {"S17e", NAN, NAN, NAN, 0, NULL},
};

START_TEST(summaries)
{
    const sum_case *c = &sum_cases[_i];
    dtm_serializer *s = make(NULL, NULL, 0, NULL, 0);
    char expected[256];
    dtm_status st = dtm_serialize_summary(s, "m", NULL, 0, c->min, c->max, c->sum, c->count, 0,
                                          out, BUF, &out_len);
    if (c->payload) {
        ck_assert_msg(st == DTM_OK, "%s: status %d", c->id, st);
        snprintf(expected, sizeof expected, "m %s", c->payload);
        ck_assert_str_eq(out, expected);
    } else {
        ck_assert_msg(st == DTM_EVALUE, "%s: status %d", c->id, st);
        ck_assert_str_eq(out, "");
    }
    dtm_serializer_free(s);
}
END_TEST

START_TEST(non_finite_values)
{
    /* V23 */
    dtm_serializer *s = make(NULL, NULL, 0, NULL, 0);
    double bad[] = {NAN, INFINITY, -INFINITY};
    size_t i;
    for (i = 0; i < 3; i++) {
        ck_assert_int_eq(dtm_serialize_gauge(s, "m", NULL, 0, bad[i], 0, out, BUF, &out_len),
                         DTM_EVALUE);
        ck_assert_int_eq(dtm_serialize_counter(s, "m", NULL, 0, bad[i], 0, out, BUF, &out_len),
                         DTM_EVALUE);
    }
    ck_assert_int_eq(dtm_serialize_counter_int(s, "m", NULL, 0, INT64_MIN, 0, out, BUF, &out_len),
                     DTM_OK);
    ck_assert_str_eq(out, "m count,delta=-9223372036854775808");
    dtm_serializer_free(s);
}
END_TEST

/* ---- metadata lines (spec 12.6) ---- */

typedef struct meta_case {
    const char *id;
    const char *prefix, *name;
    dtm_metric_type type;
    const char *desc, *unit, *display;
    const char *expected; /* "" = no line */
} meta_case;

static const meta_case meta_cases[] = {
    {"M1", "prefix", "name", DTM_METRIC_GAUGE, NULL, "unit", NULL,
     "#prefix.name gauge dt.meta.unit=unit"},
    {"M2", "prefix", "name", DTM_METRIC_GAUGE, "my description goes here", NULL, NULL,
     "#prefix.name gauge dt.meta.description=\"my description goes here\""},
    {"M3", "prefix", "name", DTM_METRIC_GAUGE, NULL, NULL, "my displayName goes here",
     "#prefix.name gauge dt.meta.displayName=\"my displayName goes here\""},
    {"M4", "prefix", "name", DTM_METRIC_GAUGE, "my description goes here", "unit", "displayName",
     "#prefix.name gauge dt.meta.description=\"my description goes here\",dt.meta.unit=unit,"
     "dt.meta.displayName=displayName"},
    {"M5", NULL, "name", DTM_METRIC_COUNTER, NULL, "Byte", NULL, "#name count dt.meta.unit=Byte"},
    {"M6", NULL, "name", DTM_METRIC_COUNTER, NULL, NULL, NULL, ""},
    {"M7a", NULL, "name", DTM_METRIC_GAUGE, NULL, "{invalid unit}", NULL, ""},
    {"M7b", NULL, "name", DTM_METRIC_GAUGE, NULL, "", NULL, ""},
    {"M7c", NULL, "name", DTM_METRIC_GAUGE, "d", "{invalid unit}", NULL,
     "#name gauge dt.meta.description=d"},
    {"M10", NULL, "name", DTM_METRIC_GAUGE, "do_not_normalize_description", NULL, NULL,
     "#name gauge dt.meta.description=do_not_normalize_description"},
    {"M11", NULL, "name", DTM_METRIC_GAUGE, "multiline\ndescription", NULL, NULL,
     "#name gauge dt.meta.description=\"multiline\\ndescription\""},
    {"M12a", NULL, "name", DTM_METRIC_GAUGE, "\"\"", NULL, "\"\"", ""},
    {"M12b", NULL, "name", DTM_METRIC_GAUGE, "", NULL, "", ""},
    {"M13", NULL, "name", DTM_METRIC_GAUGE, "\xF0\x9F\xA4\xA0", NULL, NULL,
     "#name gauge dt.meta.description=\xF0\x9F\xA4\xA0"},
    {"M14", NULL, "name", DTM_METRIC_GAUGE, "\xF0\x9F\xA4\xA0 \xF0\x9F\x8C\x9E", NULL, NULL,
     "#name gauge dt.meta.description=\"\xF0\x9F\xA4\xA0 \xF0\x9F\x8C\x9E\""},
    {"unit-first", NULL, "name", DTM_METRIC_GAUGE, NULL, "ms", "Latency",
     "#name gauge dt.meta.unit=ms,dt.meta.displayName=Latency"},
};

START_TEST(metadata_lines)
{
    const meta_case *c = &meta_cases[_i];
    dtm_serializer *s = make(c->prefix, NULL, 0, NULL, 0);
    dtm_status st = dtm_serialize_metadata(s, c->name, c->type, c->desc, c->unit, c->display, out,
                                           BUF, &out_len);
    ck_assert_msg(st == DTM_OK, "%s: status %d", c->id, st);
    ck_assert_msg(strcmp(out, c->expected) == 0, "%s: got '%s', expected '%s'", c->id, out,
                  c->expected);
    ck_assert_uint_eq(out_len, strlen(c->expected));
    dtm_serializer_free(s);
}
END_TEST

START_TEST(metadata_nul_description)
{
    /* M12: a description that is a lone NUL cannot be passed as a C string;
       through the normalizer API it is dropped. */
    char buf[16];
    size_t len;
    ck_assert_int_eq(dtm_normalize_metadata_string("\0", 1, 255, buf, sizeof buf, &len),
                     DTM_EVALUE);
}
END_TEST

/* ---- buffer and argument contract ---- */

START_TEST(buffer_contract)
{
    dtm_dimension d[] = {{"k", "v"}};
    dtm_serializer *s = make("p", NULL, 0, NULL, 0);
    char small[8];
    size_t need;
    ck_assert_int_eq(dtm_serialize_gauge(s, "name", d, 1, 1.5, 0, out, BUF, &need), DTM_OK);
    ck_assert_str_eq(out, "p.name,k=v gauge,1.5");
    memset(small, 'x', sizeof small);
    ck_assert_int_eq(dtm_serialize_gauge(s, "name", d, 1, 1.5, 0, small, sizeof small, &out_len),
                     DTM_ETOOSMALL);
    ck_assert_uint_eq(out_len, need);
    ck_assert_str_eq(small, "");
    ck_assert_int_eq(dtm_serialize_gauge(s, "name", d, 1, 1.5, 0, NULL, 0, &out_len),
                     DTM_ETOOSMALL);
    ck_assert_uint_eq(out_len, need);
    /* exactly enough */
    {
        char *exact = malloc(need + 1);
        ck_assert_int_eq(dtm_serialize_gauge(s, "name", d, 1, 1.5, 0, exact, need + 1, &out_len),
                         DTM_OK);
        ck_assert_str_eq(exact, "p.name,k=v gauge,1.5");
        ck_assert_int_eq(dtm_serialize_gauge(s, "name", d, 1, 1.5, 0, exact, need, &out_len),
                         DTM_ETOOSMALL);
        free(exact);
    }
    /* a small buffer with a long dimension value (the stack path) */
    {
        char *val = tu_repeat("a b", 80);
        dtm_dimension dv[] = {{"k", val}};
        char mid[300];
        ck_assert_int_eq(dtm_serialize_gauge(s, "name", dv, 1, 1, 0, out, BUF, &need), DTM_OK);
        ck_assert_int_eq(dtm_serialize_gauge(s, "name", dv, 1, 1, 0, mid, sizeof mid, &out_len),
                         need + 1 <= sizeof mid ? DTM_OK : DTM_ETOOSMALL);
        ck_assert_uint_eq(out_len, need);
        if (need + 1 <= sizeof mid)
            ck_assert_str_eq(mid, out);
        free(val);
    }
    dtm_serializer_free(s);
}
END_TEST

START_TEST(invalid_arguments)
{
    dtm_serializer *s = make(NULL, NULL, 0, NULL, 0);
    dtm_serializer_options o;
    ck_assert_int_eq(dtm_serialize_gauge(NULL, "m", NULL, 0, 1, 0, out, BUF, &out_len), DTM_EINVAL);
    ck_assert_int_eq(dtm_serialize_gauge(s, NULL, NULL, 0, 1, 0, out, BUF, &out_len), DTM_EINVAL);
    ck_assert_int_eq(dtm_serialize_gauge(s, "m", NULL, 1, 1, 0, out, BUF, &out_len), DTM_EINVAL);
    ck_assert_int_eq(dtm_serialize_gauge(s, "m", NULL, 0, 1, 0, NULL, 5, &out_len), DTM_EINVAL);
    ck_assert_int_eq(dtm_serialize_gauge(s, "m", NULL, 0, 1, 0, out, BUF, NULL), DTM_EINVAL);
    ck_assert_int_eq(dtm_serialize_metadata(s, "m", (dtm_metric_type)7, "d", NULL, NULL, out, BUF,
                                            &out_len),
                     DTM_EINVAL);
    ck_assert_int_eq(dtm_serialize_metadata(NULL, "m", DTM_METRIC_GAUGE, "d", NULL, NULL, out, BUF,
                                            &out_len),
                     DTM_EINVAL);
    ck_assert_int_eq(dtm_serializer_new(NULL, NULL), DTM_EINVAL);
    dtm_serializer_options_init(&o);
    o.n_default_dimensions = 2;
    {
        dtm_serializer *t = (dtm_serializer *)1;
        ck_assert_int_eq(dtm_serializer_new(&t, &o), DTM_EINVAL);
        ck_assert_ptr_null(t);
    }
    dtm_serializer_free(NULL);
    dtm_serializer_free(s);
}
END_TEST

/* ---- diagnostics ---- */

typedef struct logrec {
    int n[4];
    char last[1024];
} logrec;

static void log_cb(dtm_log_level level, const char *msg, void *ud)
{
    logrec *r = ud;
    r->n[level]++;
    snprintf(r->last, sizeof r->last, "%s", msg);
}

START_TEST(timestamp_warning_rate_limited)
{
    logrec r;
    dtm_serializer_options o;
    dtm_serializer *s = NULL;
    int i;
    memset(&r, 0, sizeof r);
    dtm_serializer_options_init(&o);
    o.log_fn = log_cb;
    o.log_userdata = &r;
    ck_assert_int_eq(dtm_serializer_new(&s, &o), DTM_OK);
    for (i = 0; i < 2001; i++)
        ck_assert_int_eq(dtm_serialize_gauge(s, "m", NULL, 0, 1, 1616580000, out, BUF, &out_len),
                         DTM_OK);
    /* the 1st, 1001st and 2001st */
    ck_assert_int_eq(r.n[DTM_LOG_WARN], 3);
    ck_assert_ptr_nonnull(strstr(r.last, "1616580000"));
    dtm_serializer_free(s);
}
END_TEST

START_TEST(normalization_logged_once_at_warn)
{
    logrec r;
    dtm_serializer_options o;
    dtm_serializer *s = NULL;
    memset(&r, 0, sizeof r);
    dtm_serializer_options_init(&o);
    o.log_fn = log_cb;
    o.log_userdata = &r;
    o.prefix = "p";
    ck_assert_int_eq(dtm_serializer_new(&s, &o), DTM_OK);
    ck_assert_int_eq(dtm_serialize_gauge(s, "ok.name", NULL, 0, 1, 0, out, BUF, &out_len), DTM_OK);
    ck_assert_int_eq(r.n[DTM_LOG_WARN] + r.n[DTM_LOG_DEBUG], 0);
    ck_assert_int_eq(dtm_serialize_gauge(s, "bad name", NULL, 0, 1, 0, out, BUF, &out_len),
                     DTM_OK);
    ck_assert_int_eq(dtm_serialize_gauge(s, "bad name", NULL, 0, 1, 0, out, BUF, &out_len),
                     DTM_OK);
    ck_assert_int_eq(r.n[DTM_LOG_WARN], 1);
    ck_assert_int_eq(r.n[DTM_LOG_DEBUG], 1);
    ck_assert_ptr_nonnull(strstr(r.last, "p.bad_name"));
    dtm_serializer_free(s);
}
END_TEST

START_TEST(metrics_source)
{
    /* L26-L29 */
    static const char *src[] = {"test_source", "test source!", "esc\\ape=this\"", ""};
    static const char *exp[] = {"metric,dt.metrics.source=test_source gauge,100",
                                "metric,dt.metrics.source=test\\ source! gauge,100",
                                "metric,dt.metrics.source=esc\\\\ape\\=this\\\" gauge,100",
                                "metric gauge,100"};
    size_t i;
    for (i = 0; i < 4; i++) {
        dtm_serializer_options o;
        dtm_serializer *s = NULL;
        dtm_serializer_options_init(&o);
        o.metrics_source = src[i];
        ck_assert_int_eq(dtm_serializer_new(&s, &o), DTM_OK);
        ck_assert_int_eq(dtm_serialize_gauge(s, "metric", NULL, 0, 100, 0, out, BUF, &out_len),
                         DTM_OK);
        ck_assert_str_eq(out, exp[i]);
        dtm_serializer_free(s);
    }
}
END_TEST

/* ---- enrichment through the serializer ---- */

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

START_TEST(oneagent_enrichment)
{
    char dir[] = "/tmp/dtm-ser-XXXXXX", ind[256], meta[256], host[256];
    dtm_serializer_options o;
    dtm_serializer *s = NULL;
    dtm_dimension defs[] = {{"dt.entity.process_group_instance", "default"}, {"d", "1"}};
    dtm_dimension line[] = {{"dt.entity.process_group_instance", "line"}, {"l", "2"}};
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(ind, sizeof ind, "%s/indirection", dir);
    snprintf(meta, sizeof meta, "%s/meta.properties", dir);
    snprintf(host, sizeof host, "%s/dt_host_metadata.properties", dir);
    write_file(meta, "dt.entity.process_group_instance=PROCESS_GROUP_INSTANCE-1\n"
                     "dt.entity.host=HOST-1\n");
    write_file(host, "dt.entity.host=HOST-2\nhost.tag=x y\n");
    {
        char content[300];
        snprintf(content, sizeof content, "%s\n", meta);
        write_file(ind, content);
    }
    dtm_serializer_options_init(&o);
    o.oneagent_enrichment = 1;
    o.enrichment_indirection_file = ind;
    o.enrichment_dir = dir;
    o.default_dimensions = defs;
    o.n_default_dimensions = 2;
    ck_assert_int_eq(dtm_serializer_new(&s, &o), DTM_OK);
    ck_assert_int_eq(dtm_serialize_gauge(s, "m", line, 2, 1, 0, out, BUF, &out_len), DTM_OK);
    ck_assert_str_eq(out, "m,d=1,l=2,dt.entity.process_group_instance=PROCESS_GROUP_INSTANCE-1,"
                          "dt.entity.host=HOST-1 gauge,1");
    dtm_serializer_free(s);
    o.host_metadata = 1;
    ck_assert_int_eq(dtm_serializer_new(&s, &o), DTM_OK);
    ck_assert_int_eq(dtm_serialize_gauge(s, "m", NULL, 0, 1, 0, out, BUF, &out_len), DTM_OK);
    ck_assert_str_eq(out, "m,d=1,dt.entity.process_group_instance=PROCESS_GROUP_INSTANCE-1,"
                          "dt.entity.host=HOST-2,host.tag=x\\ y gauge,1");
    dtm_serializer_free(s);
    /* A missing indirection file and no fallback file: no metadata, no error. */
    o.host_metadata = 0;
    remove(ind);
    ck_assert_int_eq(dtm_serializer_new(&s, &o), DTM_OK);
    ck_assert_int_eq(dtm_serialize_gauge(s, "m", NULL, 0, 1, 0, out, BUF, &out_len), DTM_OK);
    ck_assert_str_eq(out, "m,dt.entity.process_group_instance=default,d=1 gauge,1");
    dtm_serializer_free(s);
    remove(meta);
    remove(host);
    rmdir(dir);
}
END_TEST

START_TEST(alloc_failures)
{
    dtm_dimension defs[] = {{"a", "1"}, {"b", "2"}};
    dtm_dimension stat[] = {{"c", "3"}};
    dtm_serializer_options o;
    long n;
    dtm_serializer_options_init(&o);
    o.prefix = "p";
    o.default_dimensions = defs;
    o.n_default_dimensions = 2;
    o.static_dimensions = stat;
    o.n_static_dimensions = 1;
    o.metrics_source = "src";
    tu_alloc_install();
    for (n = 0;; n++) {
        dtm_serializer *s = NULL;
        dtm_status st;
        tu_alloc_fail_after(n);
        st = dtm_serializer_new(&s, &o);
        if (st == DTM_OK) {
            tu_alloc_fail_after(-1);
            ck_assert_int_eq(dtm_serialize_gauge(s, "m", NULL, 0, 1, 0, out, BUF, &out_len),
                             DTM_OK);
            ck_assert_str_eq(out, "p.m,a=1,b=2,c=3,dt.metrics.source=src gauge,1");
            dtm_serializer_free(s);
            ck_assert_int_eq(tu_alloc_live(), 0);
            break;
        }
        ck_assert_int_eq(st, DTM_ENOMEM);
        ck_assert_ptr_null(s);
        ck_assert_int_eq(tu_alloc_live(), 0);
        ck_assert_int_lt(n, 1000);
    }
    ck_assert_int_gt(n, 3);
    /* serializing allocates nothing */
    {
        dtm_serializer *s = NULL;
        dtm_dimension line[] = {{"x y", "a,b"}};
        tu_alloc_fail_after(-1);
        ck_assert_int_eq(dtm_serializer_new(&s, &o), DTM_OK);
        tu_alloc_fail_after(0);
        ck_assert_int_eq(dtm_serialize_gauge(s, "m", line, 1, 1.5, dtm_now_ms(), out, BUF,
                                             &out_len),
                         DTM_OK);
        ck_assert_int_eq(tu_alloc_count(), 0);
        tu_alloc_fail_after(-1);
        dtm_serializer_free(s);
    }
    tu_alloc_uninstall();
}
END_TEST

/* ---- threads: one serializer, many threads ---- */

static dtm_serializer *shared_s;

static void *thread_main(void *arg)
{
    char buf[512], key[32];
    size_t len, i;
    long id = (long)arg;
    for (i = 0; i < 20000; i++) {
        dtm_dimension d[] = {{"thread", key}};
        snprintf(key, sizeof key, "t%ld-%zu", id, i % 7);
        if (dtm_serialize_gauge(shared_s, "bad name", d, 1, (double)i, 1700000000000, buf,
                                sizeof buf, &len)
            != DTM_OK)
            return (void *)1;
        if (strncmp(buf, "p.bad_name,a=1,thread=", 22) != 0)
            return (void *)2;
        if (dtm_serialize_gauge(shared_s, "m", NULL, 0, 1, 5, buf, sizeof buf, &len) != DTM_OK)
            return (void *)3;
    }
    return NULL;
}

static void quiet_log(dtm_log_level level, const char *msg, void *ud)
{
    (void)level;
    (void)msg;
    __atomic_add_fetch((int *)ud, 1, __ATOMIC_RELAXED);
}

START_TEST(concurrent_use)
{
    pthread_t t[4];
    dtm_dimension defs[] = {{"a", "1"}};
    dtm_serializer_options o;
    int logs = 0;
    long i;
    dtm_serializer_options_init(&o);
    o.prefix = "p";
    o.default_dimensions = defs;
    o.n_default_dimensions = 1;
    o.log_fn = quiet_log;
    o.log_userdata = &logs;
    ck_assert_int_eq(dtm_serializer_new(&shared_s, &o), DTM_OK);
    for (i = 0; i < 4; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, thread_main, (void *)i), 0);
    for (i = 0; i < 4; i++) {
        void *r;
        ck_assert_int_eq(pthread_join(t[i], &r), 0);
        ck_assert_ptr_null(r);
    }
    /* every key normalization is logged (once WARN, then DEBUG), and
       80,000 implausible timestamps gave exactly 80 warnings */
    ck_assert_int_eq(logs, 80000 + 80);
    dtm_serializer_free(shared_s);
}
END_TEST


/* ---- round trip: whatever the serializer writes, the parser accepts ---- */

static uint64_t rng_state = 0x9E3779B97F4A7C15u;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Random text biased to the characters the protocol cares about. */
static void rnd_text(char *buf, size_t max)
{
    static const char *pieces[] = {" ", ",", "=", "\\", "\"", ".", "_", "-", ":", "a", "Z", "0",
                                   "\xC3\xA4", "\xF0\x9F\x98\x80", "\xE2\x80\x8D", "\xED\xA0\x80",
                                   "\x80", "\xFF", "\t", "\n", "#", "dt.", "\xE2\x80\xA8", "\x7F"};
    size_t n = (size_t)(rnd() % 40), len = 0, i;
    for (i = 0; i < n; i++) {
        const char *p = pieces[rnd() % (sizeof pieces / sizeof pieces[0])];
        size_t l = strlen(p);
        if (len + l >= max)
            break;
        memcpy(buf + len, p, l);
        len += l;
    }
    if (rnd() % 10 == 0 && len + 300 < max) { /* sometimes very long */
        memset(buf + len, 'x', 300);
        len += 300;
    }
    buf[len] = '\0';
}

static double rnd_double(void)
{
    uint64_t bits = rnd();
    double d;
    switch (rnd() % 4) {
    case 0: memcpy(&d, &bits, sizeof d); return d; /* any bit pattern, NaN and Inf included */
    case 1: return (double)(int64_t)(bits % 2000001) - 1000000.0;
    case 2: return (double)(bits % 100000) / 1000.0;
    default: return (double)(bits % 7) * 1e-5;
    }
}

START_TEST(serializer_output_always_parses)
{
    static char name[1024], prefix[1024], k[8][512], v[8][512], desc[512];
    dtm_dimension d[8];
    int iter, ok = 0;
    for (iter = 0; iter < 20000; iter++) {
        dtm_serializer_options o;
        dtm_serializer *s = NULL;
        dtm_parse_result res;
        size_t i, nd = (size_t)(rnd() % 8);
        double val = rnd_double();
        dtm_status st;
        int64_t ts = (int64_t)(rnd() % 3) * 1700000000000;
        rnd_text(prefix, sizeof prefix);
        rnd_text(name, sizeof name);
        for (i = 0; i < 8; i++) {
            rnd_text(k[i], sizeof k[i]);
            rnd_text(v[i], sizeof v[i]);
            d[i].key = k[i];
            d[i].value = v[i];
        }
        dtm_serializer_options_init(&o);
        o.prefix = prefix;
        o.default_dimensions = d + 6;
        o.n_default_dimensions = 2;
        ck_assert_int_eq(dtm_serializer_new(&s, &o), DTM_OK);
        switch (iter % 4) {
        case 0:
            st = dtm_serialize_gauge(s, name, d, nd, val, ts, out, BUF, &out_len);
            break;
        case 1:
            st = dtm_serialize_counter(s, name, d, nd, val, ts, out, BUF, &out_len);
            break;
        case 2:
            st = dtm_serialize_summary(s, name, d, nd, val, val, val * 3, 3, ts, out, BUF,
                                       &out_len);
            break;
        default:
            rnd_text(desc, sizeof desc);
            st = dtm_serialize_metadata(s, name, DTM_METRIC_COUNTER, desc, "ms", desc, out, BUF,
                                        &out_len);
            break;
        }
        ck_assert(st == DTM_OK || st == DTM_EKEY || st == DTM_EVALUE);
        if (st == DTM_OK && out_len > 0) {
            ck_assert_uint_eq(strlen(out), out_len);
            ck_assert_msg(dtm__utf8_valid(out, out_len), "invalid UTF-8: %s", out);
            if (dtm_parse_line(out, out_len, &res) != DTM_OK) {
                char hex[2048];
                size_t j, hl = 0;
                const char *src = iter % 4 == 3 ? desc : name;
                for (j = 0; src[j] && hl + 4 < sizeof hex; j++)
                    hl += (size_t)snprintf(hex + hl, sizeof hex - hl, "%02x", (unsigned char)src[j]);
                ck_abort_msg("parser refused '%s': %s at %zu (input %s)", out, res.error,
                             res.error_offset, hex);
            }
            ck_assert_int_ne(res.kind, DTM_LINE_INVALID);
            ok++;
        }
        dtm_serializer_free(s);
    }
    ck_assert_int_gt(ok, 10000);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("serializer");
    TCase *tc;

    tc = tu_tcase("lines", 10);
    tcase_add_loop_test(tc, full_lines, 0, (int)(sizeof line_cases / sizeof line_cases[0]));
    tcase_add_test(tc, defaults_overridden_by_line);
    tcase_add_test(tc, three_groups_precedence);
    tcase_add_test(tc, same_key_within_group_last_wins);
    tcase_add_test(tc, line_value_quoted_and_d3);
    tcase_add_test(tc, l22_escapes_and_invalid);
    tcase_add_test(tc, metrics_source);
    suite_add_tcase(s, tc);

    tc = tu_tcase("limits", 10);
    tcase_add_test(tc, fifty_dimensions);
    tcase_add_test(tc, defaults_alone_over_fifty);
    tcase_add_test(tc, longest_possible_line);
    tcase_add_test(tc, buffer_contract);
    tcase_add_test(tc, invalid_arguments);
    suite_add_tcase(s, tc);

    tc = tu_tcase("values", 10);
    tcase_add_loop_test(tc, summaries, 0, (int)(sizeof sum_cases / sizeof sum_cases[0]));
    tcase_add_test(tc, non_finite_values);
    suite_add_tcase(s, tc);

    tc = tu_tcase("metadata", 10);
    tcase_add_loop_test(tc, metadata_lines, 0, (int)(sizeof meta_cases / sizeof meta_cases[0]));
    tcase_add_test(tc, metadata_nul_description);
    suite_add_tcase(s, tc);

    tc = tu_tcase("roundtrip", 60);
    tcase_add_test(tc, serializer_output_always_parses);
    suite_add_tcase(s, tc);

    tc = tu_tcase("diagnostics", 20);
    tcase_add_test(tc, timestamp_warning_rate_limited);
    tcase_add_test(tc, normalization_logged_once_at_warn);
    tcase_add_test(tc, oneagent_enrichment);
    tcase_add_test(tc, alloc_failures);
    tcase_add_test(tc, concurrent_use);
    suite_add_tcase(s, tc);

    return tu_run_suite(s);
}
