/*===- runtime.h - The interface between generated code and libsinter_rt -*- C
 *-*-===*
 *
 * What a compiled model (model.so) and the runtime agree on. Users do not
 * include this: they include the model.h that sinterc writes, whose
 * <model>_load/_run/... functions forward to the sinter_rt_* functions here
 * with the model's definition. docs/runtime-abi.md describes the whole
 * contract: the model descriptor, the entry point and the weights file. The
 * kernels the generated code calls are declared in kernels.h, included
 * here.
 *
 *===------------------------------------------------------------------------===*/
#ifndef SINTER_RUNTIME_H
#define SINTER_RUNTIME_H

#include "sinter/kernels.h"
#include "sinter/types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped whenever sinter_model_def, the descriptor text or the entry calling
 * convention changes; the runtime refuses other versions. */
#define SINTER_ABI_VERSION 2

/* The generated code: one pointer per memref descriptor, in order the model's
 * inputs, its outputs, the index fault record (models with index checks
 * only, below), the weights (i8, rank 1) and the arena (i8, rank 1).
 * A descriptor of rank r is {void *allocated, void *aligned, int64_t offset,
 * int64_t sizes[r], int64_t strides[r]}. */
typedef void (*sinter_entry_fn)(void **memref_descriptors);

/* The index fault record: SINTER_INDEX_FAULT_WORDS int64 that a model with
 * index checks (the descriptor's "checks" section) writes on every run.
 * All zero when every checked index was in range; otherwise the first
 * fault of the lowest-numbered check: the check's number + 1, the index,
 * the size of the dimension it indexes, the rank of the indices and the
 * index's position in them (SINTER_INDEX_FAULT_MAX_RANK coordinates). */
#define SINTER_INDEX_FAULT_WORDS 16
#define SINTER_INDEX_FAULT_MAX_RANK 8
enum {
  SINTER_INDEX_FAULT_CHECK = 0,
  SINTER_INDEX_FAULT_VALUE = 1,
  SINTER_INDEX_FAULT_BOUND = 2,
  SINTER_INDEX_FAULT_RANK = 3,
  SINTER_INDEX_FAULT_POSITION = 4
};

typedef struct sinter_model_def {
  uint32_t abi_version;
  /* The model descriptor: a versioned text, see docs/runtime-abi.md. */
  const char *descriptor;
  sinter_entry_fn entry;
} sinter_model_def;

SINTER_RT_API sinter_status sinter_rt_load(const sinter_model_def *model,
                                           const char *weights_path,
                                           int num_threads,
                                           sinter_session **session);
SINTER_RT_API void sinter_rt_free(sinter_session *session);
SINTER_RT_API const char *sinter_rt_error(const sinter_session *session);
SINTER_RT_API int sinter_rt_num_inputs(const sinter_session *session);
SINTER_RT_API int sinter_rt_num_outputs(const sinter_session *session);
SINTER_RT_API const sinter_tensor_info *
sinter_rt_input_info(const sinter_session *session, int index);
SINTER_RT_API const sinter_tensor_info *
sinter_rt_output_info(const sinter_session *session, int index);
SINTER_RT_API sinter_status sinter_rt_set_num_threads(sinter_session *session,
                                                      int num_threads);
SINTER_RT_API sinter_status sinter_rt_run(sinter_session *session,
                                          const sinter_tensor *inputs,
                                          int num_inputs,
                                          sinter_tensor *outputs,
                                          int num_outputs);
/* How many ops' computed indices the model checks (its descriptor's
 * "checks"; 0 for none): with any, the entry point takes the fault record
 * after the outputs. */
SINTER_RT_API int sinter_rt_num_index_checks(const sinter_session *session);
/* The calibration probes of an instrumented model (none in a plain build)
 * and what they recorded so far; NULL for an index out of range. */
SINTER_RT_API int sinter_rt_num_probes(const sinter_session *session);
SINTER_RT_API const sinter_probe_stats *
sinter_rt_probe(const sinter_session *session, int index);

/* The weights file: a 64-byte little-endian header, then the data at
 * data_offset. The file is mapped from its start, so data that starts at a
 * multiple of 64 bytes stays 64-byte aligned in memory; sinterc puts it
 * right after the header (a page of padding would be a tenth of a tiny
 * quantized model). */
#define SINTER_WEIGHTS_MAGIC "SINTRWGT"
#define SINTER_WEIGHTS_VERSION 1
#define SINTER_WEIGHTS_HEADER_SIZE 64
#define SINTER_WEIGHTS_DATA_OFFSET 64
/* Each tensor in the data starts at a multiple of this. */
#define SINTER_WEIGHTS_ALIGNMENT 64

typedef struct sinter_weights_header {
  char magic[8];
  uint32_t version;
  uint32_t flags; /* 0 */
  uint64_t data_offset;
  uint64_t data_size;
  uint64_t checksum; /* sinter_checksum64 of the data */
  uint8_t reserved[24];
} sinter_weights_header;

/* A fast 64-bit checksum (four 8-byte lanes, multiply-rotate mixing). Not
 * cryptographic: it detects corruption and mismatched files. */
SINTER_RT_API uint64_t sinter_checksum64(const void *data, size_t size);

#ifdef __cplusplus
}
#endif

#endif /* SINTER_RUNTIME_H */
