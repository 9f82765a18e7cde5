/* The bounded line ring of the client (see queue.h). */
#include "config.h"

#include <string.h>

#include "queue.h"

dtm_status dtm__queue_init(dtm__queue *q, size_t max_bytes, size_t max_lines)
{
    memset(q, 0, sizeof *q);
    q->buf = dtm__malloc(max_bytes);
    if (!q->buf)
        return DTM_ENOMEM;
    q->cap = max_bytes;
    q->max_lines = max_lines;
    return DTM_OK;
}

void dtm__queue_free(dtm__queue *q)
{
    dtm__free(q->buf);
    memset(q, 0, sizeof *q);
}

/* Copy n bytes into the ring at logical offset pos (may wrap). */
static void ring_write(dtm__queue *q, size_t pos, const void *src, size_t n)
{
    size_t first;
    if (pos >= q->cap)
        pos -= q->cap;
    first = q->cap - pos;
    if (n <= first) {
        memcpy(q->buf + pos, src, n);
    } else {
        memcpy(q->buf + pos, src, first);
        memcpy(q->buf, (const char *)src + first, n - first);
    }
}

static void ring_read(const dtm__queue *q, size_t pos, void *dst, size_t n)
{
    size_t first;
    if (pos >= q->cap)
        pos -= q->cap;
    first = q->cap - pos;
    if (n <= first) {
        memcpy(dst, q->buf + pos, n);
    } else {
        memcpy(dst, q->buf + pos, first);
        memcpy((char *)dst + first, q->buf, n - first);
    }
}

static size_t advance(const dtm__queue *q, size_t pos, size_t n)
{
    pos += n;
    while (pos >= q->cap)
        pos -= q->cap;
    return pos;
}

void dtm__queue_push(dtm__queue *q, const char *line, size_t len)
{
    uint32_t hdr = (uint32_t)len;
    size_t tail = advance(q, q->head, q->used);
    ring_write(q, tail, &hdr, DTM__QUEUE_HDR);
    ring_write(q, advance(q, tail, DTM__QUEUE_HDR), line, len);
    q->used += DTM__QUEUE_HDR + len;
    q->payload += len;
    q->count++;
}

static size_t front_len(const dtm__queue *q)
{
    uint32_t hdr;
    ring_read(q, q->head, &hdr, DTM__QUEUE_HDR);
    return hdr;
}

static void pop_front(dtm__queue *q, size_t len)
{
    q->head = advance(q, q->head, DTM__QUEUE_HDR + len);
    q->used -= DTM__QUEUE_HDR + len;
    q->payload -= len;
    q->count--;
    if (q->count == 0)
        q->head = 0; /* keeps the next lines contiguous */
}

size_t dtm__queue_drop(dtm__queue *q)
{
    size_t len = front_len(q);
    pop_front(q, len);
    return len;
}

size_t dtm__queue_take(dtm__queue *q, char *body, size_t max_body, size_t max_lines,
                       uint32_t *off, uint32_t *len, size_t *body_len)
{
    size_t n = 0, pos = 0;
    while (n < max_lines && q->count > 0) {
        size_t l = front_len(q);
        size_t need = l + (n ? 1 : 0);
        if (pos + need > max_body)
            break;
        if (n)
            body[pos++] = '\n';
        ring_read(q, advance(q, q->head, DTM__QUEUE_HDR), body + pos, l);
        off[n] = (uint32_t)pos;
        len[n] = (uint32_t)l;
        pos += l;
        n++;
        pop_front(q, l);
    }
    *body_len = pos;
    return n;
}
