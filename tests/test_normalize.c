/* Normalizers: the spec's conformance cases (tests/fixtures/normalize_cases.h),
   the streaming metric-key normalizer under every split, prefixes, the
   public functions' argument and buffer contracts, and random inputs checked
   against a literal transcription of the spec (tests/normalize_ref.c). */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fixtures/normalize_cases.h"
#include "norm.h"
#include "normalize_invariants.h"
#include "normalize_ref.h"
#include "testutil.h"

/* ---- helpers ---- */

/* The concatenation of parts (each JSON-decoded and repeated); malloc'd. */
static char *build(const nc_part *parts, size_t *len)
{
    size_t total = 0, cap = 16, k;
    char *buf = malloc(cap);
    ck_assert_ptr_nonnull(buf);
    for (k = 0; k < NC_MAX_PARTS && parts[k].rep > 0; k++) {
        size_t plen, r;
        char *p = tu_json_unescape(parts[k].json, &plen);
        for (r = 0; r < parts[k].rep; r++) {
            if (total + plen + 1 > cap) {
                cap = 2 * (total + plen + 1);
                buf = realloc(buf, cap);
                ck_assert_ptr_nonnull(buf);
            }
            memcpy(buf + total, p, plen);
            total += plen;
        }
        free(p);
    }
    buf[total] = '\0';
    *len = total;
    return buf;
}

/* A metric key fed in pieces: cut at the offsets in cuts[0..ncuts). */
static dtm_status mkey_pieces(const char *in, size_t n, const size_t *cuts, size_t ncuts,
                              dtm__mkey *k)
{
    size_t prev = 0, i;
    dtm__mkey_init(k);
    for (i = 0; i < ncuts; i++) {
        dtm__mkey_feed(k, in + prev, cuts[i] - prev);
        prev = cuts[i];
    }
    dtm__mkey_feed(k, in + prev, n - prev);
    return dtm__mkey_status(k);
}

static const char *kind_name(nc_kind k)
{
    switch (k) {
    case NC_METRIC_KEY: return "metric key";
    case NC_DIM_KEY: return "dimension key";
    case NC_DIM_VALUE: return "dimension value";
    case NC_META: return "metadata string";
    default: return "unit";
    }
}

/* ---- conformance cases ---- */

START_TEST(conformance_case)
{
    const nc_case *c = &nc_cases[_i];
    size_t in_len, want_len = 0, got_len = 99;
    char *in = build(c->in, &in_len);
    char *want = c->rejected ? NULL : build(c->out, &want_len);
    size_t cap = 4 * in_len + 16;
    char *out = malloc(cap);
    dtm_status st = DTM_OK;
    ck_assert_ptr_nonnull(out);

    switch (c->kind) {
    case NC_METRIC_KEY:
        st = dtm_normalize_metric_key(in, in_len, out, cap, &got_len);
        break;
    case NC_DIM_KEY:
        st = dtm_normalize_dimension_key(in, in_len, out, cap, &got_len);
        break;
    case NC_DIM_VALUE:
        st = dtm_normalize_dimension_value(in, in_len, out, cap, &got_len);
        break;
    case NC_META:
        st = dtm_normalize_metadata_string(in, in_len, c->max_units, out, cap, &got_len);
        break;
    case NC_UNIT:
        ck_assert_msg(dtm_unit_is_valid(in, in_len) == !c->rejected, "%s (%s #%d): unit %s",
                      c->id, kind_name(c->kind), _i, c->rejected ? "accepted" : "refused");
        goto done;
    }
    if (c->rejected) {
        dtm_status expect = c->kind == NC_META ? DTM_EVALUE : DTM_EKEY;
        ck_assert_msg(st == expect, "%s (%s #%d): status %d, expected %d; output '%s'", c->id,
                      kind_name(c->kind), _i, st, expect, out);
        ck_assert_uint_eq(got_len, 0);
        ck_assert_str_eq(out, "");
    } else {
        ck_assert_msg(st == DTM_OK, "%s (%s #%d): status %d", c->id, kind_name(c->kind), _i,
                      st);
        ck_assert_msg(got_len == want_len && memcmp(out, want, want_len) == 0,
                      "%s (%s #%d%s%s): got '%s' (%zu bytes), expected '%s' (%zu bytes)", c->id,
                      kind_name(c->kind), _i, c->note ? ", " : "", c->note ? c->note : "", out,
                      got_len, want, want_len);
        ck_assert_int_eq(out[got_len], '\0');
    }
done:
    free(in);
    free(want);
    free(out);
}
END_TEST

/* The internal forms the serializer uses agree with the public ones. */
START_TEST(internal_forms_agree)
{
    const nc_case *c = &nc_cases[_i];
    size_t in_len, want_len = 0, n, units = 0;
    char *in = build(c->in, &in_len);
    char *want = c->rejected ? NULL : build(c->out, &want_len);
    char buf[DTM_MAX_DIMENSION_VALUE_BYTES];

    if (c->kind == NC_DIM_KEY) {
        n = dtm__norm_dim_key(in, in_len, buf);
        ck_assert_uint_eq(n, want_len);
        ck_assert_mem_eq(buf, want ? want : "", n);
    } else if (c->kind == NC_DIM_VALUE) {
        n = dtm__norm_dim_value(in, in_len, buf, &units);
        ck_assert_uint_eq(n, want_len);
        ck_assert_mem_eq(buf, want, n);
        ck_assert_uint_eq(units, ref_units((const unsigned char *)want, want_len));
    } else if (c->kind == NC_META) {
        char wbuf[1024];
        dtm__writer w;
        dtm__writer_init(&w, wbuf, sizeof wbuf);
        dtm__writer_put(&w, "x=", 2, 2);
        n = (size_t)dtm__norm_meta_string(in, in_len, c->max_units, &w);
        ck_assert_uint_eq(n, !c->rejected);
        ck_assert_uint_eq(w.len, 2 + want_len);
        ck_assert_uint_eq(w.units, 2 + ref_units((const unsigned char *)want, want_len));
        ck_assert_mem_eq(wbuf + 2, want ? want : "", want_len);
    }
    free(in);
    free(want);
}
END_TEST

/* Every split point (and byte-at-a-time feeding) of each metric key case
   gives the result of one feed. */
START_TEST(metric_key_every_split)
{
    const nc_case *c = &nc_cases[_i];
    size_t in_len, cut, want_len = 0;
    char *in, *want;
    dtm__mkey k;
    if (c->kind != NC_METRIC_KEY)
        return;
    in = build(c->in, &in_len);
    want = c->rejected ? NULL : build(c->out, &want_len);
    for (cut = 0; cut <= in_len; cut++) {
        dtm_status st = mkey_pieces(in, in_len, &cut, 1, &k);
        ck_assert_msg(st == (c->rejected ? DTM_EKEY : DTM_OK), "%s cut at %zu: status %d", c->id,
                      cut, st);
        if (!c->rejected) {
            ck_assert_msg(k.len == want_len && memcmp(k.out, want, want_len) == 0,
                          "%s cut at %zu: got '%.*s'", c->id, cut, (int)k.len, k.out);
        }
    }
    {
        size_t *cuts = malloc((in_len + 1) * sizeof *cuts), i;
        dtm_status st;
        ck_assert_ptr_nonnull(cuts);
        for (i = 0; i < in_len; i++)
            cuts[i] = i;
        st = mkey_pieces(in, in_len, cuts, in_len, &k);
        ck_assert_int_eq(st, c->rejected ? DTM_EKEY : DTM_OK);
        if (!c->rejected) {
            ck_assert_uint_eq(k.len, want_len);
            ck_assert_mem_eq(k.out, want, want_len);
        }
        free(cuts);
    }
    free(in);
    free(want);
}
END_TEST

/* ---- our own cases: ill-formed input, quoting edges, windows ---- */

typedef struct extra_case {
    nc_kind kind;
    const char *in;
    size_t in_len;
    const char *out; /* NULL: rejected */
} extra_case;

#define S(s) s, sizeof(s) - 1

static const extra_case extra_cases[] = {
    {NC_METRIC_KEY, S("a\xED\xA0\x80" "b"), "a_b"},
    {NC_METRIC_KEY, S("\xC3"), "_"},
    {NC_METRIC_KEY, S("\xF0\x9F\x98"), "_"},
    {NC_METRIC_KEY, S("a.\xFF" "b"), "a._b"},
    {NC_METRIC_KEY, S("a.b."), "a.b"},
    {NC_METRIC_KEY, S("a\0b"), "a_b"},
    {NC_METRIC_KEY, S("\0"), "_"},
    {NC_METRIC_KEY, S(".\0"), NULL},
    {NC_DIM_KEY, S("\xC4\xB0X.\xE2\x84\xAA"), "ix.k"}, /* U+0130, U+212A */
    {NC_DIM_KEY, S("A\xC3\x84" "B"), "a_b"},
    {NC_DIM_KEY, S("..."), NULL},
    {NC_DIM_KEY, S("a.:b"), "a._b"},
    {NC_DIM_KEY, S("\xED\xA0\x80"), "_"},
    {NC_DIM_VALUE, S("a\xFF" "b"), "a_b"},
    {NC_DIM_VALUE, S("a\xED\xA0\x80" "b"), "a_b"},
    {NC_DIM_VALUE, S("\"a"), "\\\"a"},
    {NC_DIM_VALUE, S("a\""), "a\\\""},
    {NC_DIM_VALUE, S("\"\xC3\""), "\"_\""},
    {NC_DIM_VALUE, S("\"a b,c=d\""), "\"a b,c=d\""},
    {NC_DIM_VALUE, S("\"\"\""), "\"\\\"\""},
    {NC_DIM_VALUE, S("\xEF\xBF\xBE" "x\xEF\xB7\x90"), "_x_"}, /* noncharacters */
    {NC_DIM_VALUE, S("\xE2\x80\x8D\xE2\x80\xA8\xEE\x80\x80"), "_"}, /* Cf Zl Co run */
    {NC_META, S("a\xFF" "b c"), "\"ab c\""},
    {NC_META, S("\""), "\"\\\"\""},
    {NC_META, S("a\\\""), "\"a\\\"\""},    /* D7: a backslash before a quote is dropped */
    {NC_META, S("a\\"), "\"a\""},              /* D7: so is a trailing one */
    {NC_META, S("\"a\\b\""), "\"a\\b\""},    /* others stay as given */
    {NC_META, S("a\\\x01\""), "\"a\\\"\""},/* D7: also across dropped code points */
    {NC_META, S("a\\\\\\\t"), "\"a\""},       /* D7: a whole run before the end */
    {NC_META, S("a\\\\b\\"), "\"a\\\\b\""},  /* D7: only the run at the end */
    {NC_META, S("\xE2\x80\xA8"), NULL},
};

START_TEST(extra_case_runs)
{
    const extra_case *c = &extra_cases[_i];
    char out[1024];
    size_t len = 99;
    dtm_status st, want = c->out ? DTM_OK : (c->kind == NC_META ? DTM_EVALUE : DTM_EKEY);
    switch (c->kind) {
    case NC_METRIC_KEY: st = dtm_normalize_metric_key(c->in, c->in_len, out, sizeof out, &len); break;
    case NC_DIM_KEY: st = dtm_normalize_dimension_key(c->in, c->in_len, out, sizeof out, &len); break;
    case NC_DIM_VALUE: st = dtm_normalize_dimension_value(c->in, c->in_len, out, sizeof out, &len); break;
    default: st = dtm_normalize_metadata_string(c->in, c->in_len, 255, out, sizeof out, &len); break;
    }
    ck_assert_msg(st == want, "#%d (%s): status %d, expected %d", _i, kind_name(c->kind), st,
                  want);
    ck_assert_str_eq(out, c->out ? c->out : "");
    ck_assert_uint_eq(len, strlen(out));
}
END_TEST

/* Windows count input UTF-16 units: a supplementary character starting at
   the last position still counts, one starting after it does not. */
START_TEST(windows_count_input_units)
{
    char in[400], out[300];
    size_t len;
    /* dimension key: 'a' x 99 + U+1F600 (starts at 99) + 'b' -> 'a' x 99 + '_' */
    memset(in, 'a', 99);
    memcpy(in + 99, "\xF0\x9F\x98\x80" "b", 5);
    ck_assert_int_eq(dtm_normalize_dimension_key(in, 104, out, sizeof out, &len), DTM_OK);
    ck_assert_uint_eq(len, 100);
    ck_assert_int_eq(out[99], '_');
    /* 'a' x 98 + U+1F600 + 'b': the emoji takes 98 and 99, 'b' is out */
    memmove(in + 98, in + 99, 5);
    ck_assert_int_eq(dtm_normalize_dimension_key(in, 103, out, sizeof out, &len), DTM_OK);
    ck_assert_uint_eq(len, 99);
    /* metric key: an encoded surrogate is three invalid code points, three units */
    memset(in, 'a', 252);
    memcpy(in + 252, "\xED\xA0\x80" "bc", 5);
    ck_assert_int_eq(dtm_normalize_metric_key(in, 257, out, sizeof out, &len), DTM_OK);
    ck_assert_uint_eq(len, 253);
    ck_assert_int_eq(out[252], '_');
}
END_TEST

/* ---- prefixes (spec 9): "prefix" "." name, fed the serializer's way ---- */

typedef struct prefix_case {
    const char *prefix;
    unsigned prefix_rep; /* prefix repeated */
    const char *name;
    const char *want;    /* NULL: INVALID */
    unsigned want_rep;   /* leading part of want repeated (want = p x rep + rest) */
    const char *want_rest;
} prefix_case;

static const prefix_case prefix_cases[] = {
    {"prefix", 1, "name", "prefix.name", 1, ""},
    {"prefix.", 1, "name", "prefix.name", 1, ""},
    {"~@#$", 1, "name", "_.name", 1, ""},
    {"!@#", 1, "~@#$", "_._", 1, ""},
    {".prefix", 1, "x", NULL, 0, NULL},
    {"prefix", 1, "", "prefix", 1, ""}, /* the serializer rejects an empty name itself */
    {"p", 300, "name", "p", 255, ""},   /* a prefix longer than the window */
    {"p", 255, "name", "p", 255, ""},
    {"p", 254, "name", "p", 254, ""},   /* the dot is the last code point processed */
    {"p", 253, "name", "p", 253, ".n"},
    {"p", 253, "\xC3\xA4" "x", "p", 253, "._"},
    {"a\xF0\x9F", 1, "name", "a_.name", 1, ""}, /* truncated sequence before the dot */
};

START_TEST(prefix_then_name)
{
    const prefix_case *c = &prefix_cases[_i];
    char *prefix = tu_repeat(c->prefix, c->prefix_rep);
    size_t plen = strlen(prefix), nlen = strlen(c->name), len;
    char *joined = malloc(plen + nlen + 2), *want = NULL;
    char out[300];
    dtm__mkey base, k;
    dtm_status st;
    ck_assert_ptr_nonnull(joined);
    memcpy(joined, prefix, plen);
    joined[plen] = '.';
    memcpy(joined + plen + 1, c->name, nlen);

    dtm__mkey_init(&base);
    dtm__mkey_feed(&base, prefix, plen);
    dtm__mkey_feed(&base, ".", 1);
    k = base; /* the serializer keeps the prefix state and copies it per line */
    dtm__mkey_feed(&k, c->name, nlen);
    st = dtm__mkey_status(&k);

    if (!c->want) {
        ck_assert_int_eq(st, DTM_EKEY);
        ck_assert_int_eq(dtm_normalize_metric_key(joined, plen + 1 + nlen, out, sizeof out, &len),
                         DTM_EKEY);
    } else {
        char *head = tu_repeat(c->want, c->want_rep);
        size_t wl = strlen(head) + strlen(c->want_rest);
        want = malloc(wl + 1);
        ck_assert_ptr_nonnull(want);
        strcpy(want, head);
        strcat(want, c->want_rest);
        free(head);
        ck_assert_int_eq(st, DTM_OK);
        ck_assert_msg(k.len == wl && memcmp(k.out, want, wl) == 0, "#%d: got '%.*s'", _i,
                      (int)k.len, k.out);
        /* the same as one feed of the joined key */
        ck_assert_int_eq(dtm_normalize_metric_key(joined, plen + 1 + nlen, out, sizeof out, &len),
                         DTM_OK);
        ck_assert_str_eq(out, want);
        /* the prefix state is reusable: dtm__mkey_copy gives the same */
        memset(&k, 0x5A, sizeof k);
        dtm__mkey_copy(&k, &base);
        dtm__mkey_feed(&k, c->name, nlen);
        ck_assert_int_eq(dtm__mkey_status(&k), DTM_OK);
        ck_assert_uint_eq(k.len, wl);
        ck_assert_mem_eq(k.out, want, wl);
    }
    free(want);
    free(joined);
    free(prefix);
}
END_TEST

/* ---- argument and buffer contracts of the public functions ---- */

typedef dtm_status (*norm_fn)(const char *, size_t, char *, size_t, size_t *);

static dtm_status meta255(const char *in, size_t n, char *out, size_t cap, size_t *len)
{
    return dtm_normalize_metadata_string(in, n, 255, out, cap, len);
}

static const struct {
    norm_fn fn;
    const char *name;
    const char *sample;   /* something whose result is non-empty */
    dtm_status on_empty;  /* for (NULL, 0) and ("", 0) */
} fns[] = {
    {dtm_normalize_metric_key, "metric key", "My.Metric key", DTM_EKEY},
    {dtm_normalize_dimension_key, "dimension key", "Dim Key", DTM_EKEY},
    {dtm_normalize_dimension_value, "dimension value", "a b,c=d", DTM_OK},
    {meta255, "metadata string", "line\nfeed \"q\"", DTM_EVALUE},
};

START_TEST(contract_einval)
{
    char out[8] = "zzz";
    size_t len = 99;
    norm_fn fn = fns[_i].fn;
    ck_assert_int_eq(fn(NULL, 1, out, sizeof out, &len), DTM_EINVAL);
    ck_assert_str_eq(out, "");
    ck_assert_uint_eq(len, 0);
    ck_assert_int_eq(fn("a", 1, NULL, 5, &len), DTM_EINVAL);
    ck_assert_int_eq(fn("a", 1, out, sizeof out, NULL), DTM_EINVAL);
    ck_assert_int_eq(fn(NULL, 1, NULL, 0, NULL), DTM_EINVAL);
    /* NULL with length 0 is the empty string */
    strcpy(out, "zzz");
    ck_assert_int_eq(fn(NULL, 0, out, sizeof out, &len), fns[_i].on_empty);
    ck_assert_str_eq(out, "");
    ck_assert_uint_eq(len, 0);
    ck_assert_int_eq(fn("", 0, out, sizeof out, &len), fns[_i].on_empty);
    /* without room for the NUL, an empty result is still too small */
    len = 99;
    ck_assert_int_eq(fn(NULL, 0, NULL, 0, &len),
                     fns[_i].on_empty == DTM_OK ? DTM_ETOOSMALL : fns[_i].on_empty);
    ck_assert_uint_eq(len, 0);
}
END_TEST

START_TEST(contract_etoosmall)
{
    norm_fn fn = fns[_i].fn;
    const char *in = fns[_i].sample;
    size_t n = strlen(in), need = 0, len, cap;
    char full[256], buf[256];

    /* the size query */
    ck_assert_int_eq(fn(in, n, NULL, 0, &need), DTM_ETOOSMALL);
    ck_assert_uint_gt(need, 0);
    ck_assert_int_eq(fn(in, n, full, sizeof full, &len), DTM_OK);
    ck_assert_uint_eq(len, need);
    ck_assert_uint_eq(strlen(full), need);

    for (cap = 1; cap <= need + 1; cap++) {
        memset(buf, 'X', sizeof buf);
        len = 0;
        if (cap <= need) {
            ck_assert_int_eq(fn(in, n, buf, cap, &len), DTM_ETOOSMALL);
            ck_assert_uint_eq(len, need);
            ck_assert_int_eq(buf[0], '\0');
        } else {
            ck_assert_int_eq(fn(in, n, buf, cap, &len), DTM_OK);
            ck_assert_uint_eq(len, need);
            ck_assert_str_eq(buf, full);
        }
        ck_assert_int_eq(buf[cap], 'X'); /* nothing written past out_cap */
    }
}
END_TEST

START_TEST(unit_validity_edges)
{
    ck_assert_int_eq(dtm_unit_is_valid(NULL, 0), 0);
    ck_assert_int_eq(dtm_unit_is_valid(NULL, 3), 0);
    ck_assert_int_eq(dtm_unit_is_valid("", 0), 0);
    ck_assert_int_eq(dtm_unit_is_valid("Byte", 4), 1);
    ck_assert_int_eq(dtm_unit_is_valid("{request}/s", 11), 1);
    ck_assert_int_eq(dtm_unit_is_valid("a\0b", 3), 0);
    ck_assert_int_eq(dtm_unit_is_valid("ms\n", 3), 0);
    ck_assert_int_eq(dtm_unit_is_valid("Byte", 3), 1); /* only the given length counts */
}
END_TEST

/* ---- random inputs against the literal spec ---- */

static uint64_t rng_state;

static uint64_t rng(void)
{
    /* xorshift64* */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * UINT64_C(2685821657736338717);
}

static const char *const pieces[] = {
    "\xC3\xA4", "\xC4\xB0", "\xE2\x84\xAA", "\xE2\x80\x8D", "\xE2\x80\xA8", "\xEF\xBB\xBF",
    "\xEE\x80\x80", "\xEF\xBF\xBE", "\xEF\xB7\x90", "\xF0\x9F\x98\x80", "\xF4\x8F\xBF\xBF",
    "\xED\xA0\x80", "\xF0\x9F\x98", "\xE2\x82", "\xC2\x85", "\xE2\x82\xAC", "\xF0\x9F\xA4\xA0",
};

/* Half of the strings are noisy; the other half look like real keys and
   values (long valid runs with a few dots, dashes and odd bytes), so that
   the eight-byte fast paths meet every kind of block boundary. */
static size_t random_input(unsigned char *buf, size_t cap)
{
    size_t len = (size_t)(rng() % 601), i = 0;
    int quoted = rng() % 8 == 0, keylike = rng() % 2 == 0;
    if (len > cap)
        len = cap;
    if (rng() % 4 == 0)
        len %= 8; /* plenty of short strings */
    while (i < len) {
        unsigned r = (unsigned)(rng() % 100);
        if (keylike) {
            static const char keych[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHXYZ0123456789_";
            if (r < 88) {
                buf[i++] = (unsigned char)keych[rng() % (sizeof keych - 1)];
                continue;
            }
            if (r < 95) {
                buf[i++] = '.';
                continue;
            }
            if (r < 97) {
                buf[i++] = r == 95 ? '-' : ':';
                continue;
            }
            r = (unsigned)(rng() % 100); /* then something from the noisy mix */
        }
        if (r < 30) {
            static const char alnum[] = "abcXYZ019_-:";
            buf[i++] = (unsigned char)alnum[rng() % (sizeof alnum - 1)];
        } else if (r < 55) {
            static const char special[] = "\"\\ .,=\n\t\r\0~#";
            buf[i++] = (unsigned char)special[rng() % (sizeof special - 1)];
        } else if (r < 75) {
            buf[i++] = (unsigned char)(0x80 + rng() % 0x80);
        } else if (r < 90) {
            const char *p = pieces[rng() % (sizeof pieces / sizeof pieces[0])];
            size_t pl = strlen(p);
            if (i + pl > len)
                break;
            memcpy(buf + i, p, pl);
            i += pl;
        } else {
            buf[i++] = (unsigned char)rng();
        }
    }
    len = i;
    if (quoted && len >= 2)
        buf[0] = buf[len - 1] = '"';
    return len;
}

static long env_long(const char *name, long dflt)
{
    const char *v = getenv(name);
    return v && *v ? strtol(v, NULL, 10) : dflt;
}

#define FAIL_IF(cond, ...)                 \
    do {                                   \
        if (cond)                          \
            ck_abort_msg(__VA_ARGS__);     \
    } while (0)

START_TEST(random_inputs_match_spec)
{
    static const size_t budgets[] = {0, 1, 2, 5, 255, 300, 65535};
    long iterations = env_long("DTM_TEST_RANDOM_ITERATIONS", 100000), it;
    unsigned char in[700];
    char out[2048], ref[2048];
    rng_state = (uint64_t)env_long("DTM_TEST_SEED", 20240501) | 1;

    for (it = 0; it < iterations; it++) {
        size_t n = random_input(in, sizeof in), len, rlen, units, cuts[2];
        const char *s = (const char *)in, *err;
        size_t max_units = budgets[rng() % (sizeof budgets / sizeof budgets[0])];
        dtm_status st;
        dtm__mkey k;

        /* metric key */
        st = dtm_normalize_metric_key(s, n, out, sizeof out, &len);
        rlen = ref_metric_key(in, n, ref);
        FAIL_IF((st == DTM_OK) != (rlen != REF_NONE), "it %ld: metric key status %d", it, st);
        if (st == DTM_OK) {
            FAIL_IF(len != rlen || memcmp(out, ref, len) != 0,
                    "it %ld: metric key '%s' differs from the spec's '%.*s'", it, out, (int)rlen,
                    ref);
            err = inv_metric_key(out, len);
            FAIL_IF(err, "it %ld: %s: '%s'", it, err, out);
        }
        cuts[0] = n ? (size_t)(rng() % (n + 1)) : 0;
        cuts[1] = cuts[0] + (n > cuts[0] ? (size_t)(rng() % (n - cuts[0] + 1)) : 0);
        st = mkey_pieces(s, n, cuts, 2, &k);
        FAIL_IF((st == DTM_OK) != (rlen != REF_NONE), "it %ld: streamed key status %d", it, st);
        FAIL_IF(st == DTM_OK && (k.len != rlen || memcmp(k.out, ref, rlen) != 0),
                "it %ld: streamed key (cuts %zu, %zu) differs", it, cuts[0], cuts[1]);

        /* dimension key */
        st = dtm_normalize_dimension_key(s, n, out, sizeof out, &len);
        rlen = ref_dim_key(in, n, ref);
        FAIL_IF((st == DTM_OK) != (rlen != REF_NONE), "it %ld: dimension key status %d", it, st);
        if (st == DTM_OK) {
            FAIL_IF(len != rlen || memcmp(out, ref, len) != 0,
                    "it %ld: dimension key '%s' differs from the spec's '%.*s'", it, out,
                    (int)rlen, ref);
            err = inv_dim_key(out, len);
            FAIL_IF(err, "it %ld: %s: '%s'", it, err, out);
        }

        /* dimension value (internal form: it also reports units) */
        len = dtm__norm_dim_value(s, n, out, &units);
        rlen = ref_dim_value(in, n, ref);
        FAIL_IF(len != rlen || memcmp(out, ref, len) != 0,
                "it %ld: dimension value '%.*s' differs from the spec's '%.*s'", it, (int)len,
                out, (int)rlen, ref);
        FAIL_IF(units != ref_units((const unsigned char *)out, len), "it %ld: value units", it);
        FAIL_IF(!ref_utf8_valid((const unsigned char *)out, len), "it %ld: value not UTF-8", it);
        err = inv_dim_value(out, len);
        FAIL_IF(err, "it %ld: %s: '%.*s'", it, err, (int)len, out);

        /* metadata string */
        st = dtm_normalize_metadata_string(s, n, max_units, out, sizeof out, &len);
        rlen = ref_meta_string(in, n, max_units, ref);
        FAIL_IF((st == DTM_OK) != (rlen != REF_NONE), "it %ld: metadata status %d", it, st);
        if (st == DTM_OK) {
            FAIL_IF(len != rlen || memcmp(out, ref, len) != 0,
                    "it %ld: metadata '%s' differs from the spec's '%.*s'", it, out, (int)rlen,
                    ref);
            FAIL_IF(!ref_utf8_valid((const unsigned char *)out, len), "it %ld: meta UTF-8", it);
            err = inv_meta(out, len, max_units);
            FAIL_IF(err, "it %ld: %s: '%s'", it, err, out);
        }
    }
    /* make sure the generator produced what the test is about */
    ck_assert_int_gt(iterations, 0);
}
END_TEST

#define N_OF(a) ((int)(sizeof(a) / sizeof((a)[0])))

int main(void)
{
    Suite *s = suite_create("normalize");
    TCase *tc = tu_tcase("conformance", 10);
    tcase_add_loop_test(tc, conformance_case, 0, (int)NC_N_CASES);
    tcase_add_loop_test(tc, internal_forms_agree, 0, (int)NC_N_CASES);
    tcase_add_loop_test(tc, extra_case_runs, 0, N_OF(extra_cases));
    tcase_add_test(tc, windows_count_input_units);
    suite_add_tcase(s, tc);

    tc = tu_tcase("streaming", 10);
    tcase_add_loop_test(tc, metric_key_every_split, 0, (int)NC_N_CASES);
    tcase_add_loop_test(tc, prefix_then_name, 0, N_OF(prefix_cases));
    suite_add_tcase(s, tc);

    tc = tu_tcase("contracts", 5);
    tcase_add_loop_test(tc, contract_einval, 0, N_OF(fns));
    tcase_add_loop_test(tc, contract_etoosmall, 0, N_OF(fns));
    tcase_add_test(tc, unit_validity_edges);
    suite_add_tcase(s, tc);

    tc = tu_tcase("random", 60);
    tcase_add_test(tc, random_inputs_match_spec);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
