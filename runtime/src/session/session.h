/*===- session.h - What session.c and descriptor.c share ------*- C -*-===*
 *
 * Internal to the runtime: a loaded model's state, how a failure is
 * recorded in it, and the parser of the model descriptor.
 *
 *===-----------------------------------------------------------------------===*/
#ifndef SINTER_RUNTIME_SRC_SESSION_SESSION_H
#define SINTER_RUNTIME_SRC_SESSION_SESSION_H

#include "sinter/runtime.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

enum { kErrorCapacity = 1024 };

/* One input or output: its declaration plus, for outputs, the buffer the
 * last run wrote. */
typedef struct tensor_slot {
  sinter_tensor_info info;
  char *name;
  int64_t *shape;     /* rank entries, -1 where dynamic */
  int64_t *max_shape; /* rank entries */
  char **dim_names;   /* rank entries, "" where static */
  int64_t *run_shape; /* the sizes of the last run */
  void *buffer;       /* outputs: owned, 64-byte aligned */
  size_t capacity;
  uint64_t device;    /* CUDA models: the tensor in device memory */
  size_t device_capacity;
  size_t run_bytes; /* CUDA models: the bytes of the last run's data */
  /* Inputs the model uses as indices (a Gather's, ...): every value must
   * lie in [index_low, index_high), the range of the dimension they
   * index; checked before each run. */
  int has_index_bound;
  int64_t index_low, index_high;
} tensor_slot;

struct sinter_session {
  const sinter_model_def *model;
  /* Set while a run or a thread-count change is in progress: a second
   * thread entering the session then gets SINTER_SESSION_BUSY. */
  atomic_int busy;
  char error[kErrorCapacity];
  int loaded;
  int num_threads;
  char *name;
  uint64_t weights_size, weights_checksum, arena_size;
  int num_inputs, num_outputs;
  tensor_slot *inputs, *outputs;
  /* The mapped weights file (whole), and the data within it. */
  void *mapping;
  size_t mapping_size;
  const unsigned char *weights;
  void *arena;
  /* Memref descriptors handed to the entry point. */
  void **descriptors;
  int64_t *descriptor_storage;
  /* The ops whose computed indices the model checks (by their numbers in
   * the fault record), and the record the entry writes on every run. */
  int num_index_checks;
  char **index_checks;
  int64_t index_faults[SINTER_INDEX_FAULT_WORDS];
  /* The heap buffers of the run in progress (heap.c): those allocated on
   * the session's thread, and where an allocation that fails jumps to,
   * with the size it asked for. */
  pthread_mutex_t heap_lock;
  struct heap_block *heap_live;
  jmp_buf heap_jump;
  size_t heap_failed_bytes;
  /* Calibration probes (instrumented builds only). */
  int num_probes;
  sinter_probe_stats *probes;
  /* Models compiled with --target=cuda: the compute capability their PTX
   * needs, and the weights (copied once, at load) and arena in device
   * memory. */
  int cuda, cuda_major, cuda_minor;
  uint64_t device_weights, device_arena;
};

static inline sinter_status fail(sinter_session *s, sinter_status status,
                          const char *format, ...)
    __attribute__((format(printf, 3, 4)));

static inline sinter_status fail(sinter_session *s, sinter_status status,
                          const char *format, ...) {
  va_list args;
  va_start(args, format);
  vsnprintf(s->error, sizeof s->error, format, args);
  va_end(args);
  return status;
}

/* Around the entry point: from here on, the generated code's heap buffers
 * allocated on this thread belong to `s`, and one that does not fit jumps
 * to s->heap_jump; sinter_heap_end_run frees what is left of them. */
void sinter_heap_begin_run(sinter_session *s);
void sinter_heap_end_run(sinter_session *s);

/* Reads the model's descriptor text into `s` (name, sizes, inputs,
 * outputs, index bounds and checks, probes, device); a malformed one is
 * SINTER_INTERNAL_ERROR. */
sinter_status sinter_parse_descriptor(sinter_session *s);

#endif /* SINTER_RUNTIME_SRC_SESSION_SESSION_H */
