/*===- arena.c - aligned scratch memory for P_run --------------------------===*/
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "kiln_internal.h"

void *kiln_arena_alloc(const kiln_model_info *model) {
  uint64_t align, size;
  void *p = NULL;
  if (!model)
    return NULL;
  align = model->arena_align ? model->arena_align : 64;
  if ((align & (align - 1)) != 0)
    return NULL; /* not a power of two */
  if (align < sizeof(void *))
    align = sizeof(void *);
  size = model->arena_size ? model->arena_size : 1;
  if (size > UINT64_MAX - (align - 1))
    return NULL;
  size = (size + align - 1) & ~(align - 1); /* a whole number of alignments */
  if (size > (uint64_t)SIZE_MAX || align > (uint64_t)SIZE_MAX)
    return NULL;
  if (posix_memalign(&p, (size_t)align, (size_t)size) != 0)
    return NULL;
  memset(p, 0, (size_t)size);
  return p;
}

void kiln_arena_free(void *arena) { free(arena); }
