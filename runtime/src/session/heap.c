/*===- heap.c - The heap buffers of a run ----------------------------------===*
 *
 * Buffers whose size is known only at run time (dynamic sizes without a
 * bound) are allocated by the generated code as the run goes; sinterc
 * lowers those allocations to the functions below (MLIR's "generic"
 * allocation functions). On the thread that runs a session they are
 * tracked in the session, so that a buffer that does not fit ends the run
 * with SINTER_OUT_OF_MEMORY and the size it asked for — the run jumps
 * back to sinter_rt_run, which frees what the run had allocated — instead
 * of the generated code writing through a null pointer.
 *
 *===----------------------------------------------------------------------===*/
#include "session.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

/* In front of each buffer, within the 64 bytes before it. */
typedef struct heap_block {
  struct heap_block *prev, *next;
  void *base; /* what malloc returned */
  sinter_session *owner; /* NULL: allocated off the session's thread */
} heap_block;

enum { kHeapHeader = 64 };

/* The session running on this thread (a key rather than a thread-local:
 * model.so keeps no TLS segment, see session.c). */
static pthread_key_t running_key;
static pthread_once_t running_key_once = PTHREAD_ONCE_INIT;
static int running_key_made;

static void make_running_key(void) {
  running_key_made = pthread_key_create(&running_key, NULL) == 0;
}

/* Keys are few (PTHREAD_KEYS_MAX): a model.so unloaded gives its back. */
__attribute__((destructor)) static void delete_running_key(void) {
  if (running_key_made)
    pthread_key_delete(running_key);
}

void sinter_heap_begin_run(sinter_session *s) {
  pthread_once(&running_key_once, make_running_key);
  s->heap_live = NULL;
  if (running_key_made)
    pthread_setspecific(running_key, s);
}

void sinter_heap_end_run(sinter_session *s) {
  if (running_key_made)
    pthread_setspecific(running_key, NULL);
  /* After a jump out of the run, its buffers; after a run that finished,
   * nothing (the generated code frees what it allocates). */
  pthread_mutex_lock(&s->heap_lock);
  heap_block *block = s->heap_live;
  s->heap_live = NULL;
  pthread_mutex_unlock(&s->heap_lock);
  while (block) {
    heap_block *next = block->next;
    free(block->base);
    block = next;
  }
}

static sinter_session *running_session(void) {
  return running_key_made ? pthread_getspecific(running_key) : NULL;
}

static void *allocate(size_t alignment, size_t size) {
  if (alignment < kHeapHeader)
    alignment = kHeapHeader;
  sinter_session *s = running_session();
  void *base = NULL;
  if (size <= SIZE_MAX - alignment - kHeapHeader)
    base = malloc(size + alignment + kHeapHeader);
  if (!base) {
    if (s) {
      s->heap_failed_bytes = size;
      longjmp(s->heap_jump, 1);
    }
    return NULL;
  }
  uintptr_t data = ((uintptr_t)base + kHeapHeader + alignment - 1) /
                   alignment * alignment;
  heap_block *block = (heap_block *)(data - sizeof(heap_block));
  block->base = base;
  block->owner = s;
  block->prev = NULL;
  if (s) {
    pthread_mutex_lock(&s->heap_lock);
    block->next = s->heap_live;
    if (block->next)
      block->next->prev = block;
    s->heap_live = block;
    pthread_mutex_unlock(&s->heap_lock);
  } else {
    block->next = NULL;
  }
  return (void *)data;
}

/* The generated code's allocation functions (memref.alloc lowered with
 * use-generic-functions); hidden in model.so like the rest. */
void *_mlir_memref_to_llvm_alloc(size_t size);
void *_mlir_memref_to_llvm_aligned_alloc(size_t alignment, size_t size);
void _mlir_memref_to_llvm_free(void *data);

void *_mlir_memref_to_llvm_alloc(size_t size) { return allocate(0, size); }

void *_mlir_memref_to_llvm_aligned_alloc(size_t alignment, size_t size) {
  return allocate(alignment, size);
}

void _mlir_memref_to_llvm_free(void *data) {
  if (!data)
    return;
  heap_block *block = (heap_block *)((uintptr_t)data - sizeof(heap_block));
  sinter_session *s = block->owner;
  if (s) {
    pthread_mutex_lock(&s->heap_lock);
    if (block->prev)
      block->prev->next = block->next;
    else if (s->heap_live == block)
      s->heap_live = block->next;
    if (block->next)
      block->next->prev = block->prev;
    pthread_mutex_unlock(&s->heap_lock);
  }
  free(block->base);
}
