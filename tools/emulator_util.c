/* dtmetrics-emulator: small helpers (growable buffer, JSON text, numbers). */
#include "config.h"

#include <string.h>
#include <time.h>

#include "emulator.h"

static int buf_reserve(emu_buf *b, size_t extra)
{
    size_t need, cap;
    char *p;
    if (b->failed)
        return -1;
    if (extra > SIZE_MAX - b->len - 1) {
        b->failed = 1;
        return -1;
    }
    need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    p = dtm__realloc(b->p, cap);
    if (!p) {
        b->failed = 1;
        return -1;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

void emu_buf_put(emu_buf *b, const char *s, size_t n)
{
    if (buf_reserve(b, n) != 0)
        return;
    if (n)
        memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void emu_buf_puts(emu_buf *b, const char *s)
{
    emu_buf_put(b, s, strlen(s));
}

void emu_buf_putu(emu_buf *b, uint64_t v)
{
    char tmp[24];
    size_t i = sizeof tmp;
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    emu_buf_put(b, tmp + i, sizeof tmp - i);
}

void emu_buf_json(emu_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t i, start = 0;
    emu_buf_put(b, "\"", 1);
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        char u[6];
        if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f)
            continue;
        emu_buf_put(b, s + start, i - start);
        start = i + 1;
        switch (c) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        default:
            u[0] = '\\';
            u[1] = 'u';
            u[2] = '0';
            u[3] = '0';
            u[4] = hex[c >> 4];
            u[5] = hex[c & 15];
            emu_buf_put(b, u, 6);
            break;
        }
        if (esc)
            emu_buf_puts(b, esc);
    }
    emu_buf_put(b, s + start, n - start);
    emu_buf_put(b, "\"", 1);
}

void emu_buf_free(emu_buf *b)
{
    dtm__free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
    b->failed = 0;
}

void emu_error_envelope(emu_buf *b, unsigned code, const char *message)
{
    emu_buf_puts(b, "{\"error\":{\"code\":");
    emu_buf_putu(b, code);
    emu_buf_puts(b, ",\"message\":");
    emu_buf_json(b, message, strlen(message));
    emu_buf_puts(b, "}}");
}

int emu_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    if (!s || !*s)
        return -1;
    for (; *s; s++) {
        unsigned d;
        if (*s < '0' || *s > '9')
            return -1;
        d = (unsigned)(*s - '0');
        if (d > max || v > (max - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

static char ascii_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

int emu_ascii_ieq(const char *a, const char *b, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (ascii_lower(a[i]) != ascii_lower(b[i]))
            return 0;
    return 1;
}

int emu_ascii_ieq_str(const char *a, const char *b)
{
    size_t n = strlen(a);
    return n == strlen(b) && emu_ascii_ieq(a, b, n);
}

int64_t emu_now_ms(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return 0;
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
