/* Helpers shared by the Check test programs. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

int tu_run_suite(Suite *s)
{
    SRunner *sr = srunner_create(s);
    int failed;
    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

TCase *tu_tcase(const char *name, double timeout_s)
{
    TCase *tc = tcase_create(name);
    tcase_set_timeout(tc, timeout_s);
    return tc;
}

/* ---- failing allocator ---- */
static long fail_after = -1;
static long attempts;
static long live;

static void *tu_malloc(size_t n)
{
    void *p;
    if (fail_after >= 0 && attempts++ >= fail_after)
        return NULL;
    p = malloc(n);
    if (p)
        __atomic_add_fetch(&live, 1, __ATOMIC_RELAXED);
    return p;
}

static void *tu_realloc(void *ptr, size_t n)
{
    void *p;
    if (fail_after >= 0 && attempts++ >= fail_after)
        return NULL;
    p = realloc(ptr, n);
    if (p && !ptr)
        __atomic_add_fetch(&live, 1, __ATOMIC_RELAXED);
    return p;
}

static void tu_free(void *p)
{
    if (p)
        __atomic_sub_fetch(&live, 1, __ATOMIC_RELAXED);
    free(p);
}

void tu_alloc_install(void)
{
    live = 0;
    attempts = 0;
    fail_after = -1;
    dtm_set_allocator(tu_malloc, tu_realloc, tu_free);
}

void tu_alloc_uninstall(void)
{
    dtm_set_allocator(NULL, NULL, NULL);
}

void tu_alloc_fail_after(long n)
{
    attempts = 0;
    fail_after = n;
}

long tu_alloc_count(void)
{
    return attempts;
}

long tu_alloc_live(void)
{
    return live;
}

/* ---- fixture helpers ---- */
static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static size_t put_utf8(uint32_t cp, char *o)
{
    /* Also encodes lone surrogates (as ill-formed 3-byte sequences) on purpose. */
    if (cp < 0x80) { o[0] = (char)cp; return 1; }
    if (cp < 0x800) { o[0] = (char)(0xC0 | (cp >> 6)); o[1] = (char)(0x80 | (cp & 0x3F)); return 2; }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12)); o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F)); return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18)); o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

static long read_u4(const char *p)
{
    long v = 0;
    int i;
    for (i = 0; i < 4; i++) {
        int h = hexval((unsigned char)p[i]);
        if (h < 0) return -1;
        v = v * 16 + h;
    }
    return v;
}

char *tu_json_unescape(const char *lit, size_t *len)
{
    size_t n = strlen(lit), o = 0, i = 0;
    char *out = malloc(n * 3 + 1);
    ck_assert_ptr_nonnull(out);
    while (i < n) {
        char c = lit[i];
        if (c != '\\') { out[o++] = c; i++; continue; }
        ck_assert_uint_lt(i + 1, n);
        c = lit[i + 1];
        i += 2;
        switch (c) {
        case 'n': out[o++] = '\n'; break;
        case 't': out[o++] = '\t'; break;
        case 'r': out[o++] = '\r'; break;
        case 'b': out[o++] = '\b'; break;
        case 'f': out[o++] = '\f'; break;
        case 'u': {
            long cp = read_u4(lit + i), lo;
            ck_assert_int_ge(cp, 0);
            i += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF && lit[i] == '\\' && lit[i + 1] == 'u'
                && (lo = read_u4(lit + i + 2)) >= 0xDC00 && lo <= 0xDFFF) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                i += 6;
            }
            o += put_utf8((uint32_t)cp, out + o);
            break;
        }
        default: out[o++] = c; break;
        }
    }
    out[o] = '\0';
    *len = o;
    return out;
}

char *tu_repeat(const char *s, size_t n)
{
    size_t l = strlen(s), i;
    char *out = malloc(l * n + 1);
    ck_assert_ptr_nonnull(out);
    for (i = 0; i < n; i++)
        memcpy(out + i * l, s, l);
    out[l * n] = '\0';
    return out;
}
