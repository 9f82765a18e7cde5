/* The allocator hooks: every allocation of the library goes through here, so
   that tests can fail the Nth one and programs can bring their own heap. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "internal.h"

static dtm_malloc_fn alloc_malloc = malloc;
static dtm_realloc_fn alloc_realloc = realloc;
static dtm_free_fn alloc_free = free;

dtm_status dtm_set_allocator(dtm_malloc_fn malloc_fn, dtm_realloc_fn realloc_fn,
                             dtm_free_fn free_fn)
{
    if (!malloc_fn && !realloc_fn && !free_fn) {
        alloc_malloc = malloc;
        alloc_realloc = realloc;
        alloc_free = free;
        return DTM_OK;
    }
    if (!malloc_fn || !realloc_fn || !free_fn)
        return DTM_EINVAL;
    alloc_malloc = malloc_fn;
    alloc_realloc = realloc_fn;
    alloc_free = free_fn;
    return DTM_OK;
}

void *dtm__malloc(size_t size)
{
    return alloc_malloc(size ? size : 1);
}

void *dtm__calloc(size_t n, size_t size)
{
    void *p;
    size_t total;
    if (size && n > SIZE_MAX / size)
        return NULL;
    total = n * size;
    p = dtm__malloc(total);
    if (p && total)
        memset(p, 0, total);
    return p;
}

void *dtm__realloc(void *ptr, size_t size)
{
    return alloc_realloc(ptr, size ? size : 1);
}

void dtm__free(void *ptr)
{
    if (ptr)
        alloc_free(ptr);
}

char *dtm__strndup(const char *s, size_t n)
{
    char *p;
    if (!s)
        return NULL;
    p = dtm__malloc(n + 1);
    if (!p)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *dtm__strdup(const char *s)
{
    return s ? dtm__strndup(s, strlen(s)) : NULL;
}
