/*
 * A bounded FIFO of lines in one preallocated byte ring.  Each line is
 * stored as a 4-byte length followed by its bytes, wrapping around the end
 * of the ring when needed, so no space is wasted and nothing is allocated
 * after dtm__queue_init.  Not thread-safe: the client holds its lock around
 * every call.  Never installed.
 *
 * Invariants: 0 <= used <= cap; count == 0 iff used == 0;
 * used == sum over queued lines of (DTM__QUEUE_HDR + length);
 * payload == sum of the lengths.
 */
#ifndef DTMETRICS_QUEUE_H
#define DTMETRICS_QUEUE_H

#include "internal.h"

#define DTM__QUEUE_HDR 4u

typedef struct dtm__queue {
    char *buf;
    size_t cap;        /* bytes of buf */
    size_t head;       /* offset of the oldest record */
    size_t used;       /* bytes in use, headers included */
    size_t count;      /* lines queued */
    size_t max_lines;
    size_t payload;    /* bytes of the lines themselves */
} dtm__queue;

/* Allocate the ring.  DTM_ENOMEM. */
dtm_status dtm__queue_init(dtm__queue *q, size_t max_bytes, size_t max_lines);
void dtm__queue_free(dtm__queue *q);

/* 1 if a line of len bytes can ever be stored (fits in an empty queue). */
static inline int dtm__queue_storable(const dtm__queue *q, size_t len)
{
    return len <= UINT32_MAX && len + DTM__QUEUE_HDR <= q->cap && q->max_lines > 0;
}

/* 1 if a line of len bytes fits now, without dropping anything. */
static inline int dtm__queue_fits(const dtm__queue *q, size_t len)
{
    return q->count < q->max_lines && q->used + len + DTM__QUEUE_HDR <= q->cap;
}

/* Append a line; the caller checked dtm__queue_fits. */
void dtm__queue_push(dtm__queue *q, const char *line, size_t len);

/* Remove the oldest line; returns its length (the queue must not be empty). */
size_t dtm__queue_drop(dtm__queue *q);

/*
 * Move lines from the front into a batch: at most max_lines lines and
 * max_body bytes of body, the lines joined by '\n' (no trailing newline),
 * written to body.  For each line taken, off[i] and len[i] give its place in
 * body.  Always takes at least one line when the queue is not empty and the
 * first line is <= max_body bytes.  Returns the number of lines taken;
 * *body_len receives the body length.
 */
size_t dtm__queue_take(dtm__queue *q, char *body, size_t max_body, size_t max_lines,
                       uint32_t *off, uint32_t *len, size_t *body_len);

#endif /* DTMETRICS_QUEUE_H */
