/* Enrichment layer: the .properties reader (spec 7.3, cases E1-E13, E19) and
   the OneAgent metadata files (spec 7.2, cases E14-E18). */
#define _POSIX_C_SOURCE 200809L
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "enrich.h"
#include "testutil.h"

/* ---- helpers ---- */

typedef struct logcap {
    int level[4];
    int skipped; /* messages about a skipped pair */
    char all[16384];
    size_t len;
} logcap;

static void cap_fn(dtm_log_level level, const char *msg, void *userdata)
{
    logcap *c = userdata;
    size_t n = strlen(msg);
    ck_assert_int_ge((int)level, 0);
    ck_assert_int_le((int)level, 3);
    ck_assert_ptr_null(strchr(msg, '\n'));
    c->level[level]++;
    if (strstr(msg, "pair skipped"))
        c->skipped++;
    if (c->len + n + 2 < sizeof c->all) {
        memcpy(c->all + c->len, msg, n);
        c->len += n;
        c->all[c->len++] = '\n';
        c->all[c->len] = '\0';
    }
}

static dtm__log cap_log(logcap *c)
{
    dtm__log l;
    memset(c, 0, sizeof *c);
    l.fn = cap_fn;
    l.userdata = c;
    return l;
}

/* The list as "k=v,k=v" in list order (keys and values here hold no ',' or
   '='), into a static buffer. */
static const char *joined(const dtm__kvlist *l)
{
    static char out[4096];
    size_t i, o = 0;
    out[0] = '\0';
    for (i = 0; i < l->n; i++) {
        int w = snprintf(out + o, sizeof out - o, "%s%s=%s", i ? "," : "", l->keys[i],
                         l->values[i]);
        ck_assert_int_gt(w, 0);
        ck_assert_uint_lt(o + (size_t)w, sizeof out);
        o += (size_t)w;
    }
    return out;
}

static const char *get(const dtm__kvlist *l, const char *key)
{
    size_t i;
    for (i = 0; i < l->n; i++)
        if (strcmp(l->keys[i], key) == 0)
            return l->values[i];
    return NULL;
}

/* ---- .properties: table of cases ---- */

typedef struct kv {
    const char *k, *v;
} kv;

typedef struct props_case {
    const char *name;
    const char *text;
    size_t len;
    kv want[4];  /* in list order, ended by {NULL} */
    int skipped; /* pairs logged as skipped */
} props_case;

#define T(s) s, sizeof(s) - 1

static const props_case props_cases[] = {
    /* Spec 12.7. */
    {"E1", T("key1=value1\nkey2=value2\n"), {{"key1", "value1"}, {"key2", "value2"}}, 0},
    {"E2", T("=0x5c14d9a68d569861"), {{NULL, NULL}}, 1},
    {"E3", T("otherKey="), {{NULL, NULL}}, 1},
    {"E4", T("\n"), {{NULL, NULL}}, 0},
    {"E5", T("="), {{NULL, NULL}}, 1},
    {"E6", T("==="), {{NULL, NULL}}, 1},
    {"E7", T("key1=value1=="), {{"key1", "value1=="}}, 0},
    {"E8", T("key1===="), {{"key1", "==="}}, 0},
    {"E9", T("~~#=value2"), {{"~~#", "value2"}}, 0},
    /* D5: the reference keeps "value1\t \t"; the C client trims it. */
    {"E10", T("\t \tkey1=value1\t \t"), {{"key1", "value1"}}, 0},
    {"E11", T("colon.sep:colonvalue"), {{"colon.sep", "colonvalue"}}, 0},
    {"E12", T("# comment=1"), {{NULL, NULL}}, 0},
    {"E13", T("key1=value1\nkey2=value2\nkey1=value3"),
     {{"key1", "value3"}, {"key2", "value2"}}, 0},
    /* D5 again: the reference keeps the three trailing spaces. */
    {"E19", T("leading.ws = value with spaces   \nesc\\=key=v\\u0041\ncont=abc\\\n    def\n"),
     {{"leading.ws", "value with spaces"}, {"esc=key", "vA"}, {"cont", "abcdef"}}, 0},
    {"E1-E13 in one file",
     T("key1=value1\nkey2=value2\n=0x5c14d9a68d569861\notherKey=\n\n=\n===\n~~#=value2\n"
       "# comment=1\ncolon.sep:colonvalue\nkey1=value3\n"),
     {{"key1", "value3"}, {"key2", "value2"}, {"~~#", "value2"}, {"colon.sep", "colonvalue"}}, 4},

    /* Line ends. */
    {"CR only", T("a=1\rb=2\r"), {{"a", "1"}, {"b", "2"}}, 0},
    {"CRLF", T("a=1\r\nb=2\r\n"), {{"a", "1"}, {"b", "2"}}, 0},
    {"mixed line ends and blank lines", T("a=1\r\n\rb=2\n\r\n\n\rc=3"),
     {{"a", "1"}, {"b", "2"}, {"c", "3"}}, 0},
    {"no final newline", T("a=1\nb=2"), {{"a", "1"}, {"b", "2"}}, 0},
    {"empty text", T(""), {{NULL, NULL}}, 0},
    /* Only a mark at the very start is dropped. */
    {"byte order mark", T("\xef\xbb\xbfk=v\n\xef\xbb\xbf" "b=2"),
     {{"k", "v"}, {"\xef\xbb\xbf" "b", "2"}}, 0},
    {"only white space", T(" \t\f\n\r\n  "), {{NULL, NULL}}, 0},

    /* Comments. */
    {"comments after white space", T("   # c=1\n\t! c=2\n\f#c3\n!k=v\nk=v"), {{"k", "v"}}, 0},
    {"# inside a value", T("k=#v # not a comment"), {{"k", "#v # not a comment"}}, 0},
    {"comment ending in a backslash does not continue", T("#c\\\nk=v"), {{"k", "v"}}, 0},

    /* Separators. */
    {"space separator", T("key value"), {{"key", "value"}}, 0},
    {"several spaces", T("key  \t value here"), {{"key", "value here"}}, 0},
    {"spaces around =", T("key = value"), {{"key", "value"}}, 0},
    {"spaces around :", T("key\t:\tvalue"), {{"key", "value"}}, 0},
    {"only one separator skipped", T("key=  = v"), {{"key", "= v"}}, 0},
    {"white space then : then =", T("key :=v"), {{"key", "=v"}}, 0},
    {"key without value", T("key\nkey2 \nkey3=  "), {{NULL, NULL}}, 3},
    {"escaped separators in the key", T("a\\:b\\=c\\ d=v"), {{"a:b=c d", "v"}}, 0},
    {"escaped backslash before =", T("a\\\\=v"), {{"a\\", "v"}}, 0},

    /* Escapes. */
    {"simple escapes", T("k=\\t\\n\\r\\f\\q\\\\\\\"x"), {{"k", "\t\n\r\fq\\\"x"}}, 0},
    {"\\u to UTF-8", T("k=\\u00e4\\u00C4\\u20ac\\u0041"),
     {{"k", "\xc3\xa4\xc3\x84\xe2\x82\xac" "A"}}, 0},
    {"\\u in the key", T("\\u006b\\u00e4=v"), {{"k\xc3\xa4", "v"}}, 0},
    {"surrogate pair", T("k=\\ud83d\\ude00!"), {{"k", "\xf0\x9f\x98\x80!"}}, 0},
    {"lone surrogate", T("k=a\\ud800b"), {{"k", "a\xed\xa0\x80" "b"}}, 0},
    {"high surrogate before a plain escape", T("k=\\ud800\\u0041"), {{"k", "\xed\xa0\x80" "A"}}, 0},
    {"malformed \\u skips the pair", T("k=\\u00g1\nj=2\nbad\\uzz=1\nshort=\\u12"), {{"j", "2"}}, 3},
    {"escaped leading space kept", T("k=\\  v"), {{"k", "  v"}}, 0},
    {"escaped trailing white space kept", T("a=v\\ \nb=v\\t  \nc=v\\\\ "),
     {{"a", "v "}, {"b", "v\t"}, {"c", "v\\"}}, 0},
    {"trailing VT and FF trimmed", T("k=v \v\f"), {{"k", "v"}}, 0},
    {"raw UTF-8 passes through", T("\xd0\xba\xd0\xbb=\xd0\xb7\xd0\xbd \xe2\x82\xac"),
     {{"\xd0\xba\xd0\xbb", "\xd0\xb7\xd0\xbd \xe2\x82\xac"}}, 0},

    /* Continuation lines. */
    {"continuation across CRLF", T("k=abc\\\r\n   def\r\nx=y"), {{"k", "abcdef"}, {"x", "y"}}, 0},
    {"continuation across CR", T("k=abc\\\r\t def\rx=y"), {{"k", "abcdef"}, {"x", "y"}}, 0},
    {"continuation in the key", T("lo\\\n  ng=v"), {{"long", "v"}}, 0},
    {"two continuations", T("k=a\\\n b\\\n c"), {{"k", "abc"}}, 0},
    {"even backslashes do not continue", T("k=abc\\\\\nx=y"), {{"k", "abc\\"}, {"x", "y"}}, 0},
    {"three backslashes continue", T("k=a\\\\\\\n b"), {{"k", "a\\b"}}, 0},
    {"continuation at the end of the text", T("k=abc\\"), {{"k", "abc"}}, 0},
    {"continuation then newline at the end", T("k=abc\\\n"), {{"k", "abc"}}, 0},
    {"continued line starting with #", T("k=a\\\n#b"), {{"k", "a#b"}}, 0},
    {"continuation into a blank line", T("k=a\\\n\nx=y"), {{"k", "a"}, {"x", "y"}}, 0},
    {"lone backslash line", T("\\\n\nk=v"), {{"k", "v"}}, 0},
    {"\\u split by a continuation", T("k=\\u00\\\n  41"), {{"k", "A"}}, 0},

    /* NUL bytes. */
    {"NUL bytes", T("a=1\nb=x\0y\n\0=z\n#\0\nc=3\nd=\\u0000"), {{"a", "1"}, {"c", "3"}}, 3},
};

START_TEST(properties_table)
{
    const props_case *c = &props_cases[_i];
    dtm__kvlist l = {0};
    logcap cap;
    dtm__log log = cap_log(&cap);
    size_t i, n = 0;

    ck_assert_msg(dtm__properties_parse(c->text, c->len, &l, &log) == DTM_OK, "%s", c->name);
    while (n < 4 && c->want[n].k)
        n++;
    ck_assert_msg(l.n == n, "%s: %zu pairs, want %zu (%s)", c->name, l.n, n, joined(&l));
    for (i = 0; i < n; i++) {
        ck_assert_msg(strcmp(l.keys[i], c->want[i].k) == 0, "%s: key %zu", c->name, i);
        ck_assert_msg(strcmp(l.values[i], c->want[i].v) == 0, "%s: value of %s is '%s'", c->name,
                      c->want[i].k, l.values[i]);
    }
    ck_assert_msg(cap.skipped == c->skipped, "%s: %d skipped, want %d\n%s", c->name, cap.skipped,
                  c->skipped, cap.all);
    /* The first skipped pair is a warning, later ones are debug messages. */
    ck_assert_int_eq(cap.level[DTM_LOG_WARN], c->skipped ? 1 : 0);
    ck_assert_int_eq(cap.level[DTM_LOG_ERROR], 0);
    dtm__kvlist_free(&l);
    ck_assert_ptr_null(l.keys);
    ck_assert_uint_eq(l.n, 0);
}
END_TEST

START_TEST(properties_later_text_overwrites)
{
    dtm__kvlist l = {0};
    ck_assert_int_eq(dtm__properties_parse(T("a=1\nb=2"), &l, NULL), DTM_OK);
    ck_assert_int_eq(dtm__properties_parse(T("c=3\na=4"), &l, NULL), DTM_OK);
    ck_assert_str_eq(joined(&l), "a=4,b=2,c=3");
    dtm__kvlist_free(&l);
}
END_TEST

START_TEST(properties_arguments)
{
    dtm__kvlist l = {0};
    ck_assert_int_eq(dtm__properties_parse("a=1", 3, NULL, NULL), DTM_EINVAL);
    ck_assert_int_eq(dtm__properties_parse(NULL, 3, &l, NULL), DTM_EINVAL);
    ck_assert_int_eq(dtm__properties_parse(NULL, 0, &l, NULL), DTM_OK);
    ck_assert_uint_eq(l.n, 0);
    /* Only n bytes are read. */
    ck_assert_int_eq(dtm__properties_parse("a=12345", 3, &l, NULL), DTM_OK);
    ck_assert_str_eq(joined(&l), "a=1");
    dtm__kvlist_free(&l);
    dtm__kvlist_free(&l);
    dtm__kvlist_free(NULL);
}
END_TEST

START_TEST(properties_log_names_source_and_line)
{
    dtm__kvlist l = {0};
    logcap cap;
    dtm__log log = cap_log(&cap);
    ck_assert_int_eq(dtm__properties_parse_source(T("a=1\n\n# c\nempty=\n"), "my.properties", &l,
                                                  &log),
                     DTM_OK);
    ck_assert_ptr_nonnull(strstr(cap.all, "my.properties line 4: empty value for key 'empty'"));
    dtm__kvlist_free(&l);
}
END_TEST

static char *text_with_item(const char *before, size_t n, const char *after, size_t *len)
{
    char *fill = tu_repeat("x", n);
    size_t bl = strlen(before), al = strlen(after);
    char *t = malloc(bl + n + al + 1);
    ck_assert_ptr_nonnull(t);
    memcpy(t, before, bl);
    memcpy(t + bl, fill, n);
    memcpy(t + bl + n, after, al + 1);
    free(fill);
    *len = bl + n + al;
    return t;
}

START_TEST(properties_item_length_limit)
{
    dtm__kvlist l = {0};
    logcap cap;
    dtm__log log = cap_log(&cap);
    size_t len;
    char *t;

    t = text_with_item("v=", DTM__PROPS_MAX_ITEM, "", &len);
    ck_assert_int_eq(dtm__properties_parse(t, len, &l, &log), DTM_OK);
    ck_assert_uint_eq(l.n, 1);
    ck_assert_uint_eq(strlen(get(&l, "v")), DTM__PROPS_MAX_ITEM);
    free(t);
    dtm__kvlist_free(&l);

    t = text_with_item("v=", DTM__PROPS_MAX_ITEM + 1, "\nok=1", &len);
    ck_assert_int_eq(dtm__properties_parse(t, len, &l, &log), DTM_OK);
    ck_assert_str_eq(joined(&l), "ok=1");
    ck_assert_int_eq(cap.skipped, 1);
    free(t);
    dtm__kvlist_free(&l);

    t = text_with_item("", DTM__PROPS_MAX_ITEM + 1, "=v\nok=1", &len);
    ck_assert_int_eq(dtm__properties_parse(t, len, &l, &log), DTM_OK);
    ck_assert_str_eq(joined(&l), "ok=1");
    ck_assert_int_eq(cap.skipped, 2);
    free(t);
    dtm__kvlist_free(&l);

    /* The limit applies after unescaping: 65536 'A's written as \u0041. */
    {
        char *esc = tu_repeat("\\u0041", DTM__PROPS_MAX_ITEM);
        ck_assert_int_eq(dtm__properties_parse_source(esc, strlen(esc), NULL, &l, &log), DTM_OK);
        ck_assert_uint_eq(l.n, 0); /* the key has no value */
        dtm__kvlist_free(&l);
        t = malloc(strlen(esc) + 3);
        ck_assert_ptr_nonnull(t);
        memcpy(t, "k=", 2);
        strcpy(t + 2, esc);
        ck_assert_int_eq(dtm__properties_parse(t, strlen(t), &l, &log), DTM_OK);
        ck_assert_uint_eq(l.n, 1);
        ck_assert_uint_eq(strlen(get(&l, "k")), DTM__PROPS_MAX_ITEM);
        free(t);
        free(esc);
        dtm__kvlist_free(&l);
    }
}
END_TEST

START_TEST(properties_pair_limit)
{
    dtm__kvlist l = {0};
    logcap cap;
    dtm__log log = cap_log(&cap);
    char *rep, *t;
    size_t rl;

    /* A repeated key counts every time it is set. */
    rep = tu_repeat("a=1\n", DTM__PROPS_MAX_PAIRS - 1);
    rl = strlen(rep);
    t = malloc(rl + 128);
    ck_assert_ptr_nonnull(t);
    memcpy(t, rep, rl);
    strcpy(t + rl, "b=2\nc=3\n");
    ck_assert_int_eq(dtm__properties_parse(t, strlen(t), &l, &log), DTM_OK);
    ck_assert_str_eq(joined(&l), "a=1,b=2");
    ck_assert_int_eq(cap.level[DTM_LOG_WARN], 1);
    ck_assert_ptr_nonnull(strstr(cap.all, "more than 10000 pairs"));
    dtm__kvlist_free(&l);

    strcpy(t + rl, "b=2\n# only comments and skipped pairs after the last one\nx=\n");
    log = cap_log(&cap);
    ck_assert_int_eq(dtm__properties_parse(t, strlen(t), &l, &log), DTM_OK);
    ck_assert_str_eq(joined(&l), "a=1,b=2");
    ck_assert_ptr_null(strstr(cap.all, "more than"));
    dtm__kvlist_free(&l);
    free(t);
    free(rep);
}
END_TEST

START_TEST(kvlist_set_rules)
{
    dtm__kvlist l = {0};
    size_t i;
    char key[16];
    ck_assert_int_eq(dtm__kvlist_set(NULL, "a", 1, "b", 1), DTM_EINVAL);
    ck_assert_int_eq(dtm__kvlist_set(&l, NULL, 1, "b", 1), DTM_EINVAL);
    ck_assert_int_eq(dtm__kvlist_set(&l, "a", 1, NULL, 1), DTM_EINVAL);
    ck_assert_int_eq(dtm__kvlist_set(&l, "a\0b", 3, "v", 1), DTM_EINVAL);
    ck_assert_int_eq(dtm__kvlist_set(&l, "a", 1, "v\0w", 3), DTM_EINVAL);
    ck_assert_uint_eq(l.n, 0);
    /* Lengths are honoured; a prefix of a key is another key. */
    ck_assert_int_eq(dtm__kvlist_set(&l, "abc", 2, "1xx", 1), DTM_OK);
    ck_assert_int_eq(dtm__kvlist_set(&l, "a", 1, "2", 1), DTM_OK);
    ck_assert_int_eq(dtm__kvlist_set(&l, "abc", 3, "3", 1), DTM_OK);
    ck_assert_int_eq(dtm__kvlist_set(&l, "ab", 2, "4", 1), DTM_OK);
    ck_assert_str_eq(joined(&l), "ab=4,a=2,abc=3");
    /* Growth keeps every pair. */
    for (i = 0; i < 100; i++) {
        int w = snprintf(key, sizeof key, "k%zu", i);
        ck_assert_int_eq(dtm__kvlist_set(&l, key, (size_t)w, key, (size_t)w), DTM_OK);
    }
    ck_assert_uint_eq(l.n, 103);
    ck_assert_str_eq(get(&l, "k99"), "k99");
    ck_assert_str_eq(l.keys[3], "k0");
    dtm__kvlist_free(&l);
}
END_TEST

START_TEST(properties_alloc_failure)
{
    static const char text[] = "a=1\nlong.key.with.continuation=abc\\\n   def\\u00e4\n"
                               "b : 2\na=3\n# comment\nempty=\n";
    dtm__kvlist l = {0};
    dtm_status st = DTM_ENOMEM;
    long n;
    tu_alloc_install();
    for (n = 0; n < 1000 && st != DTM_OK; n++) {
        tu_alloc_fail_after(n);
        st = dtm__properties_parse(text, sizeof text - 1, &l, NULL);
        if (st != DTM_OK) {
            ck_assert_int_eq(st, DTM_ENOMEM);
            dtm__kvlist_free(&l);
            ck_assert_int_eq(tu_alloc_live(), 0);
        }
    }
    ck_assert_int_eq(st, DTM_OK);
    ck_assert_int_gt(n, 3); /* several allocations were failed on the way */
    ck_assert_str_eq(joined(&l), "a=3,long.key.with.continuation=abcdef\xc3\xa4,b=2");
    dtm__kvlist_free(&l);
    ck_assert_int_eq(tu_alloc_live(), 0);
    tu_alloc_uninstall();
}
END_TEST

START_TEST(kvlist_set_alloc_failure_keeps_list)
{
    dtm__kvlist l = {0};
    long n;
    dtm_status st = DTM_ENOMEM;
    tu_alloc_install();
    ck_assert_int_eq(dtm__kvlist_set(&l, "a", 1, "1", 1), DTM_OK);
    /* Replacing: a failure keeps the old value. */
    tu_alloc_fail_after(0);
    ck_assert_int_eq(dtm__kvlist_set(&l, "a", 1, "2", 1), DTM_ENOMEM);
    ck_assert_str_eq(joined(&l), "a=1");
    /* Appending past the first capacity: every failure leaves the list as it was. */
    tu_alloc_fail_after(-1);
    for (n = 0; n < 7; n++) {
        char k[2] = {(char)('b' + n), 0};
        ck_assert_int_eq(dtm__kvlist_set(&l, k, 1, "x", 1), DTM_OK);
    }
    for (n = 0; st != DTM_OK; n++) {
        tu_alloc_fail_after(n);
        st = dtm__kvlist_set(&l, "z", 1, "9", 1);
        if (st != DTM_OK) {
            ck_assert_int_eq(st, DTM_ENOMEM);
            ck_assert_uint_eq(l.n, 8);
        }
    }
    ck_assert_uint_eq(l.n, 9);
    ck_assert_str_eq(get(&l, "z"), "9");
    dtm__kvlist_free(&l);
    ck_assert_int_eq(tu_alloc_live(), 0);
    tu_alloc_uninstall();
}
END_TEST

/* ---- enrichment files ---- */

typedef struct tmpdir {
    char path[512];
    char files[8][600];
    int n;
} tmpdir;

static void tmp_make(tmpdir *d)
{
    const char *base = getenv("TMPDIR");
    int w;
    if (!base || !*base)
        base = "/tmp";
    w = snprintf(d->path, sizeof d->path, "%s/dtm-enrich-XXXXXX", base);
    ck_assert_int_gt(w, 0);
    ck_assert_uint_lt((size_t)w, sizeof d->path);
    ck_assert_ptr_nonnull(mkdtemp(d->path));
    d->n = 0;
}

/* The path of name inside d, into buf (600 bytes). */
static const char *tmp_path(const tmpdir *d, const char *name, char *buf)
{
    int w = snprintf(buf, 600, "%s/%s", d->path, name);
    ck_assert_uint_lt((size_t)w, 600);
    return buf;
}

/* Remember path for tmp_clean (once). */
static void tmp_track(tmpdir *d, const char *path)
{
    int i;
    for (i = 0; i < d->n; i++)
        if (strcmp(d->files[i], path) == 0)
            return;
    ck_assert_int_lt(d->n, 8);
    strcpy(d->files[d->n++], path);
}

static void tmp_write(tmpdir *d, const char *name, const char *data, size_t len)
{
    char path[600];
    FILE *f;
    tmp_path(d, name, path);
    tmp_track(d, path);
    f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

static void tmp_write_str(tmpdir *d, const char *name, const char *data)
{
    tmp_write(d, name, data, strlen(data));
}

/* A subdirectory, removed by tmp_clean like a file. */
static void tmp_mkdir(tmpdir *d, const char *name)
{
    char path[600];
    tmp_path(d, name, path);
    tmp_track(d, path);
    ck_assert_int_eq(mkdir(path, 0700), 0);
}

static void tmp_clean(tmpdir *d)
{
    while (d->n > 0) {
        d->n--;
        if (unlink(d->files[d->n]) != 0)
            ck_assert_int_eq(rmdir(d->files[d->n]), 0);
    }
    ck_assert_int_eq(rmdir(d->path), 0);
}

/* tmpl with every '@' replaced by path. */
static char *subst(const char *tmpl, const char *path)
{
    size_t pl = strlen(path), o = 0;
    char *out = malloc(strlen(tmpl) * (pl + 1) + 1);
    ck_assert_ptr_nonnull(out);
    for (; *tmpl; tmpl++) {
        if (*tmpl == '@') {
            memcpy(out + o, path, pl);
            o += pl;
        } else {
            out[o++] = *tmpl;
        }
    }
    out[o] = '\0';
    return out;
}

enum { IND_MISSING, IND_TEXT, IND_DIRECTORY };

typedef struct enrich_case {
    const char *name;
    int ind;              /* what the indirection file is */
    const char *ind_text; /* its content for IND_TEXT; '@' = path of target.properties */
    int target;           /* create target.properties "t=target" */
    int fallback;         /* create dt_metadata.properties "f=fallback" */
    int host;             /* create dt_host_metadata.properties "h=host" and ask for it */
    const char *want;     /* the list, joined */
    int warn;             /* messages at WARN */
} enrich_case;

static const enrich_case enrich_cases[] = {
    {"indirection to a file", IND_TEXT, "@\n", 1, 1, 0, "t=target", 0},
    {"E14 white space around the path", IND_TEXT, "\t \t @\t \t\n", 1, 1, 0, "t=target", 0},
    {"E14 no line end", IND_TEXT, "@", 1, 0, 0, "t=target", 0},
    {"E15 empty indirection", IND_TEXT, "", 1, 1, 0, "f=fallback", 0},
    {"E15 empty, no fallback", IND_TEXT, "", 1, 0, 0, "", 0},
    {"E15 blank first line", IND_TEXT, " \t\r\n@\n", 1, 1, 0, "f=fallback", 0},
    {"E16 missing indirection", IND_MISSING, NULL, 1, 1, 0, "f=fallback", 0},
    {"E16 missing, no fallback", IND_MISSING, NULL, 0, 0, 0, "", 0},
    {"E16 unreadable indirection", IND_DIRECTORY, NULL, 1, 1, 0, "f=fallback", 0},
    {"E17 indirection to a missing file", IND_TEXT, "@\n", 0, 1, 0, "", 1},
    {"E17 with host metadata", IND_TEXT, "@\n", 0, 1, 1, "h=host", 1},
    {"E18 several lines", IND_TEXT, "@\nsecond line\n", 1, 1, 0, "t=target", 0},
    {"E18 CRLF", IND_TEXT, "@\r\nsecond line\r\n", 1, 1, 0, "t=target", 0},
    {"E18 CR", IND_TEXT, "@\rsecond line", 1, 1, 0, "t=target", 0},
    {"host metadata after the target", IND_TEXT, "@\n", 1, 1, 1, "t=target,h=host", 0},
    {"host metadata after the fallback", IND_MISSING, NULL, 1, 1, 1, "f=fallback,h=host", 0},
    {"only host metadata", IND_MISSING, NULL, 0, 0, 1, "h=host", 0},
};

START_TEST(enrich_table)
{
    const enrich_case *c = &enrich_cases[_i];
    tmpdir d;
    dtm__kvlist l = {0};
    dtm__enrich_options o;
    logcap cap;
    dtm__log log = cap_log(&cap);
    char target[600], ind_path[600];

    tmp_make(&d);
    tmp_path(&d, "target.properties", target);
    if (c->ind == IND_TEXT) {
        char *text = subst(c->ind_text, target);
        tmp_write_str(&d, "indirection", text);
        free(text);
    } else if (c->ind == IND_DIRECTORY) {
        tmp_mkdir(&d, "indirection");
    }
    if (c->target)
        tmp_write_str(&d, "target.properties", "t=target\n");
    if (c->fallback)
        tmp_write_str(&d, DTM__ENRICH_METADATA, "f=fallback\n");
    if (c->host)
        tmp_write_str(&d, DTM__ENRICH_HOST_METADATA, "h=host\n");
    /* A host file that is not asked for is not read. */
    else
        tmp_write_str(&d, DTM__ENRICH_HOST_METADATA, "unwanted=1\n");

    memset(&o, 0, sizeof o);
    o.indirection_file = tmp_path(&d, "indirection", ind_path);
    o.dir = d.path;
    o.host_metadata = c->host;
    ck_assert_int_eq(dtm__enrich_load(&o, &l, &log), DTM_OK);
    ck_assert_msg(strcmp(joined(&l), c->want) == 0, "%s: got '%s', want '%s'\n%s", c->name,
                  joined(&l), c->want, cap.all);
    ck_assert_msg(cap.level[DTM_LOG_WARN] == c->warn, "%s: %d warnings\n%s", c->name,
                  cap.level[DTM_LOG_WARN], cap.all);
    ck_assert_int_eq(cap.level[DTM_LOG_ERROR], 0);
    if (c->ind == IND_MISSING)
        ck_assert_ptr_nonnull(strstr(cap.all, "normal if OneAgent is not installed"));
    dtm__kvlist_free(&l);
    tmp_clean(&d);
}
END_TEST

START_TEST(enrich_host_overrides)
{
    char p1[600], p2[600];
    tmpdir d;
    dtm__kvlist l = {0};
    dtm__enrich_options o;
    char *ind;

    tmp_make(&d);
    tmp_write_str(&d, "meta", "a=1\nb=2\nc=3\n");
    ind = subst("@\n", tmp_path(&d, "meta", p1));
    tmp_write_str(&d, "ind", ind);
    free(ind);
    tmp_write_str(&d, DTM__ENRICH_HOST_METADATA, "b=host\nd=4\na=host\n");
    memset(&o, 0, sizeof o);
    o.indirection_file = tmp_path(&d, "ind", p2);
    o.dir = d.path;
    o.host_metadata = 1;
    /* Whatever is in the list already is overwritten too. */
    ck_assert_int_eq(dtm__kvlist_set(&l, "c", 1, "old", 3), DTM_OK);
    ck_assert_int_eq(dtm__enrich_load(&o, &l, NULL), DTM_OK);
    ck_assert_str_eq(joined(&l), "c=3,a=host,b=host,d=4");
    dtm__kvlist_free(&l);
    tmp_clean(&d);
}
END_TEST

START_TEST(enrich_dir_with_trailing_slash)
{
    char p2[600];
    tmpdir d;
    dtm__kvlist l = {0};
    dtm__enrich_options o;
    char dir[600];

    tmp_make(&d);
    tmp_write_str(&d, DTM__ENRICH_METADATA, "f=1");
    strcpy(dir, d.path);
    strcat(dir, "/");
    memset(&o, 0, sizeof o);
    o.indirection_file = tmp_path(&d, "none", p2);
    o.dir = dir;
    ck_assert_int_eq(dtm__enrich_load(&o, &l, NULL), DTM_OK);
    ck_assert_str_eq(joined(&l), "f=1");
    dtm__kvlist_free(&l);
    tmp_clean(&d);
}
END_TEST

/* A metadata file of exactly size bytes: one pair, then comment lines. */
static char *file_of_size(size_t size)
{
    char *b = malloc(size);
    size_t i;
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_gt(size, 10);
    memcpy(b, "big=yes\n", 8);
    for (i = 8; i < size; i++)
        b[i] = (i % 64 == 63) ? '\n' : (i == 8 || i % 64 == 0) ? '#' : 'x';
    return b;
}

START_TEST(enrich_oversized_file)
{
    char p1[600], p2[600];
    tmpdir d;
    dtm__kvlist l = {0};
    dtm__enrich_options o;
    logcap cap;
    dtm__log log = cap_log(&cap);
    char *big, *ind;

    tmp_make(&d);
    ind = subst("@\n", tmp_path(&d, "meta", p1));
    tmp_write_str(&d, "ind", ind);
    free(ind);
    memset(&o, 0, sizeof o);
    o.indirection_file = tmp_path(&d, "ind", p2);
    o.dir = d.path;
    o.host_metadata = 1;

    big = file_of_size(DTM__ENRICH_MAX_FILE);
    tmp_write(&d, "meta", big, DTM__ENRICH_MAX_FILE);
    ck_assert_int_eq(dtm__enrich_load(&o, &l, &log), DTM_OK);
    ck_assert_str_eq(joined(&l), "big=yes");
    ck_assert_int_eq(cap.level[DTM_LOG_WARN], 0);
    dtm__kvlist_free(&l);
    free(big);

    /* One byte more: the whole file is ignored; the host file still counts. */
    big = file_of_size(DTM__ENRICH_MAX_FILE + 1);
    tmp_write(&d, "meta", big, DTM__ENRICH_MAX_FILE + 1);
    tmp_write_str(&d, DTM__ENRICH_HOST_METADATA, "h=1\n");
    log = cap_log(&cap);
    ck_assert_int_eq(dtm__enrich_load(&o, &l, &log), DTM_OK);
    ck_assert_str_eq(joined(&l), "h=1");
    ck_assert_int_eq(cap.level[DTM_LOG_WARN], 1);
    ck_assert_ptr_nonnull(strstr(cap.all, "larger than 1048576 bytes"));
    dtm__kvlist_free(&l);
    free(big);
    tmp_clean(&d);
}
END_TEST

START_TEST(enrich_long_indirection_line)
{
    char p2[600];
    tmpdir d;
    dtm__kvlist l = {0};
    dtm__enrich_options o;
    logcap cap;
    dtm__log log = cap_log(&cap);
    char *line;

    tmp_make(&d);
    tmp_write_str(&d, DTM__ENRICH_METADATA, "f=1\n");
    memset(&o, 0, sizeof o);
    o.indirection_file = tmp_path(&d, "ind", p2);
    o.dir = d.path;
    /* A first line longer than any path: no metadata, no fallback. */
    line = tu_repeat("/", DTM__ENRICH_MAX_PATH + 1);
    tmp_write_str(&d, "ind", line);
    free(line);
    ck_assert_int_eq(dtm__enrich_load(&o, &l, &log), DTM_OK);
    ck_assert_uint_eq(l.n, 0);
    ck_assert_int_eq(cap.level[DTM_LOG_WARN], 1);
    /* Exactly the limit is taken as a path (too long for the system here:
       cannot be opened, so no fallback either). */
    line = tu_repeat("/", DTM__ENRICH_MAX_PATH);
    tmp_write_str(&d, "ind", line);
    free(line);
    log = cap_log(&cap);
    ck_assert_int_eq(dtm__enrich_load(&o, &l, &log), DTM_OK);
    ck_assert_uint_eq(l.n, 0);
    ck_assert_ptr_null(strstr(cap.all, "longer than"));
    ck_assert_ptr_nonnull(strstr(cap.all, "metadata file //"));
    ck_assert_int_eq(cap.level[DTM_LOG_WARN], 1);
    tmp_clean(&d);
}
END_TEST

START_TEST(enrich_nothing_installed)
{
    dtm__kvlist l = {0};
    dtm__enrich_options o;
    logcap cap;
    dtm__log log = cap_log(&cap);
    memset(&o, 0, sizeof o);
    o.indirection_file = "/nonexistent-dtm-test/ind.properties";
    o.dir = "/nonexistent-dtm-test";
    o.host_metadata = 1;
    ck_assert_int_eq(dtm__enrich_load(&o, &l, &log), DTM_OK);
    ck_assert_uint_eq(l.n, 0);
    ck_assert_int_eq(cap.level[DTM_LOG_WARN], 0);
    ck_assert_int_eq(cap.level[DTM_LOG_ERROR], 0);
    ck_assert_int_ge(cap.level[DTM_LOG_INFO], 3);
    ck_assert_ptr_nonnull(strstr(cap.all, "/nonexistent-dtm-test/dt_metadata.properties"));
    ck_assert_ptr_nonnull(strstr(cap.all, "/nonexistent-dtm-test/dt_host_metadata.properties"));
    ck_assert_int_eq(dtm__enrich_load(&o, NULL, &log), DTM_EINVAL);
    /* The defaults: whatever this machine has, it is not an error. */
    ck_assert_int_eq(dtm__enrich_load(NULL, &l, NULL), DTM_OK);
    dtm__kvlist_free(&l);
}
END_TEST

START_TEST(enrich_alloc_failure)
{
    char p1[600], p2[600];
    tmpdir d;
    dtm__kvlist l = {0};
    dtm__enrich_options o;
    dtm_status st = DTM_ENOMEM;
    char *ind;
    long n;

    tmp_make(&d);
    tmp_write_str(&d, "meta", "a=1\nb=2\\\n  3\n");
    ind = subst("  @  \n", tmp_path(&d, "meta", p1));
    tmp_write_str(&d, "ind", ind);
    free(ind);
    tmp_write_str(&d, DTM__ENRICH_METADATA, "f=not read\n");
    tmp_write_str(&d, DTM__ENRICH_HOST_METADATA, "b=host\nh=1\n");
    memset(&o, 0, sizeof o);
    o.indirection_file = tmp_path(&d, "ind", p2);
    o.dir = d.path;
    o.host_metadata = 1;

    tu_alloc_install();
    for (n = 0; n < 1000 && st != DTM_OK; n++) {
        tu_alloc_fail_after(n);
        st = dtm__enrich_load(&o, &l, NULL);
        if (st != DTM_OK) {
            ck_assert_int_eq(st, DTM_ENOMEM);
            dtm__kvlist_free(&l);
            ck_assert_int_eq(tu_alloc_live(), 0);
        }
    }
    ck_assert_int_eq(st, DTM_OK);
    ck_assert_int_gt(n, 5);
    ck_assert_str_eq(joined(&l), "a=1,b=host,h=1");
    dtm__kvlist_free(&l);
    ck_assert_int_eq(tu_alloc_live(), 0);
    tu_alloc_uninstall();

    /* The fallback path allocates its file name: fail that too. */
    o.indirection_file = tmp_path(&d, "missing", p1);
    st = DTM_ENOMEM;
    tu_alloc_install();
    for (n = 0; n < 1000 && st != DTM_OK; n++) {
        tu_alloc_fail_after(n);
        st = dtm__enrich_load(&o, &l, NULL);
        if (st != DTM_OK) {
            ck_assert_int_eq(st, DTM_ENOMEM);
            dtm__kvlist_free(&l);
            ck_assert_int_eq(tu_alloc_live(), 0);
        }
    }
    ck_assert_int_eq(st, DTM_OK);
    ck_assert_str_eq(joined(&l), "f=not read,b=host,h=1");
    dtm__kvlist_free(&l);
    ck_assert_int_eq(tu_alloc_live(), 0);
    tu_alloc_uninstall();
    tmp_clean(&d);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("enrich");
    TCase *tc;

    tc = tu_tcase("properties", 10);
    tcase_add_loop_test(tc, properties_table, 0, (int)(sizeof props_cases / sizeof props_cases[0]));
    tcase_add_test(tc, properties_later_text_overwrites);
    tcase_add_test(tc, properties_arguments);
    tcase_add_test(tc, properties_log_names_source_and_line);
    tcase_add_test(tc, properties_item_length_limit);
    tcase_add_test(tc, properties_pair_limit);
    tcase_add_test(tc, kvlist_set_rules);
    suite_add_tcase(s, tc);

    tc = tu_tcase("files", 15);
    tcase_add_loop_test(tc, enrich_table, 0, (int)(sizeof enrich_cases / sizeof enrich_cases[0]));
    tcase_add_test(tc, enrich_host_overrides);
    tcase_add_test(tc, enrich_dir_with_trailing_slash);
    tcase_add_test(tc, enrich_oversized_file);
    tcase_add_test(tc, enrich_long_indirection_line);
    tcase_add_test(tc, enrich_nothing_installed);
    suite_add_tcase(s, tc);

    tc = tu_tcase("alloc", 15);
    tcase_add_test(tc, properties_alloc_failure);
    tcase_add_test(tc, kvlist_set_alloc_failure_keeps_list);
    tcase_add_test(tc, enrich_alloc_failure);
    suite_add_tcase(s, tc);

    return tu_run_suite(s);
}
