/*===- types.h - The C types of a compiled sinter model --------*- C -*-===*
 *
 * Shared by the runtime and by every header sinterc generates (sinterc
 * copies this block into model.h, so that the generated header stands
 * alone). Plain C99; the numbering of sinter_dtype is ONNX's
 * TensorProto.DataType, so that ONNX tooling and sinter agree on it.
 *
 *===---------------------------------------------------------------------===*/
#ifndef SINTER_TYPES_H
#define SINTER_TYPES_H

#include <stddef.h>
#include <stdint.h>

/* What every API call returns. On failure the session's error string
 * (<model>_error) says what went wrong and where. */
typedef enum sinter_status {
  SINTER_OK = 0,
  /* A wrong argument: tensor count, dtype, rank or shape, a NULL pointer. */
  SINTER_INVALID_ARGUMENT = 1,
  /* The weights file cannot be opened, read or mapped. */
  SINTER_IO_ERROR = 2,
  /* The weights file is not a sinter weights file, belongs to another
   * model, or fails its checksum. */
  SINTER_CORRUPT_WEIGHTS = 3,
  SINTER_OUT_OF_MEMORY = 4,
  /* The artifact and this runtime disagree (a bug, or mixed versions). */
  SINTER_INTERNAL_ERROR = 5,
  /* A model compiled for a GPU (--target=cuda): no CUDA driver, no GPU or
   * one too old for the model, or a driver call that failed (the message
   * names the call and the driver's error). */
  SINTER_DEVICE_ERROR = 6,
  /* The session is running on another thread: a session is for one thread
   * at a time (make one per thread). The call changed nothing, the
   * session's error string included, which belongs to the running call. */
  SINTER_SESSION_BUSY = 7
} sinter_status;

/* Element types, numbered as ONNX's TensorProto.DataType. */
typedef enum sinter_dtype {
  SINTER_FLOAT32 = 1,
  SINTER_UINT8 = 2,
  SINTER_INT8 = 3,
  SINTER_UINT16 = 4,
  SINTER_INT16 = 5,
  SINTER_INT32 = 6,
  SINTER_INT64 = 7,
  SINTER_BOOL = 9, /* one byte per element, 0 or 1 */
  SINTER_FLOAT16 = 10,
  SINTER_FLOAT64 = 11,
  SINTER_UINT32 = 12,
  SINTER_UINT64 = 13,
  SINTER_BFLOAT16 = 16
} sinter_dtype;

/* Bytes per element; 0 for a value that is not a sinter_dtype. */
static inline size_t sinter_dtype_size(int dtype) {
  switch (dtype) {
  case SINTER_UINT8:
  case SINTER_INT8:
  case SINTER_BOOL:
    return 1;
  case SINTER_UINT16:
  case SINTER_INT16:
  case SINTER_FLOAT16:
  case SINTER_BFLOAT16:
    return 2;
  case SINTER_FLOAT32:
  case SINTER_INT32:
  case SINTER_UINT32:
    return 4;
  case SINTER_INT64:
  case SINTER_FLOAT64:
  case SINTER_UINT64:
    return 8;
  }
  return 0;
}

/* "float32", "int64"...; "unknown" for other values. */
static inline const char *sinter_dtype_name(int dtype) {
  switch (dtype) {
  case SINTER_FLOAT32:
    return "float32";
  case SINTER_UINT8:
    return "uint8";
  case SINTER_INT8:
    return "int8";
  case SINTER_UINT16:
    return "uint16";
  case SINTER_INT16:
    return "int16";
  case SINTER_INT32:
    return "int32";
  case SINTER_INT64:
    return "int64";
  case SINTER_BOOL:
    return "bool";
  case SINTER_FLOAT16:
    return "float16";
  case SINTER_FLOAT64:
    return "float64";
  case SINTER_UINT32:
    return "uint32";
  case SINTER_UINT64:
    return "uint64";
  case SINTER_BFLOAT16:
    return "bfloat16";
  }
  return "unknown";
}

/* A model input or output as the model declares it. */
typedef struct sinter_tensor_info {
  const char *name;
  sinter_dtype dtype;
  int32_t rank;
  /* Sizes; -1 marks a dimension chosen at run time. */
  const int64_t *shape;
  /* For each dynamic dimension its upper bound (-1: none); for the others
   * the size itself. */
  const int64_t *max_shape;
  /* For each dynamic dimension its symbol ("sequence"): dimensions with the
   * same symbol must have the same size. "" for static dimensions. */
  const char *const *dim_names;
} sinter_tensor_info;

/* Data of one input or output: dense, row-major, in the dtype's native
 * (little-endian) layout. */
typedef struct sinter_tensor {
  void *data;
  sinter_dtype dtype;
  int32_t rank;
  const int64_t *shape;
} sinter_tensor;

/* What a calibration probe recorded over the runs of a session (the
 * instrumented build of `sinterc --calibrate`; docs/calibration.md). Sums
 * are over every run; the arrays belong to the session. */
typedef enum sinter_probe_kind {
  /* Range, histogram and per-channel magnitudes of an activation. */
  SINTER_PROBE_TENSOR = 1,
  /* Where an attention layer's heads look. */
  SINTER_PROBE_ATTENTION = 2,
  /* How often a mixture-of-experts router picks each expert. */
  SINTER_PROBE_ROUTING = 3
} sinter_probe_kind;

/* Magnitudes are binned by quarter octaves: bin 0 holds |x| < 2^-32 (and
 * zeros), bin i in 1 .. 254 holds 2^(-32 + (i-1)/4) <= |x| < 2^(-32 + i/4),
 * bin 255 everything from 2^31.5 up (infinities too). */
#define SINTER_PROBE_HISTOGRAM_BINS 256
#define SINTER_PROBE_HISTOGRAM_MIN_EXPONENT (-32)
#define SINTER_PROBE_HISTOGRAM_BINS_PER_OCTAVE 4
#define SINTER_PROBE_SAMPLE_ROWS 256

typedef struct sinter_probe_stats {
  sinter_probe_kind kind;
  const char *name;
  /* Runs that reached the probe. */
  int64_t calls;

  /* SINTER_PROBE_TENSOR: elements seen (NaNs counted apart and left out of
   * everything else), their extremes, sum and sum of squares. */
  int64_t count, nan_count;
  double min, max, sum, sum_squares;
  int64_t histogram[SINTER_PROBE_HISTOGRAM_BINS];
  /* Per index of the channel dimension: the largest |x|, the sum of |x|,
   * of x and of x^2 (divide by count / channels for the means). Calls
   * whose channel count differs from the first call's are counted in
   * channel_mismatches and left out of these. */
  int64_t channels, channel_mismatches;
  double *channel_abs_max, *channel_abs_sum, *channel_sum, *channel_sq_sum;
  /* A uniform sample (reservoir) of up to SINTER_PROBE_SAMPLE_ROWS rows of
   * the value: a row is the channels at one position of the other
   * dimensions. sample_rows rows of `channels` floats are held, out of
   * rows_seen. */
  int64_t sample_rows, rows_seen;
  float *samples;

  /* SINTER_PROBE_ATTENTION, per query head: rows is the number of query
   * rows (batch x query positions) summed over runs; key_mass[h * keys + j]
   * sums the probability that head h gave to key position j, and
   * key_rows[h * keys + j] counts the rows in which it gave it any (the
   * rows that see position j: causal and additive masks hide it from the
   * others; keys grows to the longest key sequence seen); entropy_sum[h]
   * sums -sum_j p log p (nats) over the rows; output_norm_sum[h] sums the
   * L2 norms of the head's output rows. Rows whose keys are all masked have
   * no distribution: they add to rows but nothing else. Calls whose head
   * count differs from the first call's are counted in channel_mismatches
   * and skipped. */
  int64_t heads, keys, rows;
  double *key_mass, *entropy_sum, *output_norm_sum;
  int64_t *key_rows;

  /* SINTER_PROBE_ROUTING: choices[e] counts the times expert e was picked;
   * out_of_range counts indices outside 0 .. experts-1. */
  int64_t experts, out_of_range;
  int64_t *choices;
} sinter_probe_stats;

typedef struct sinter_session sinter_session;

#endif /* SINTER_TYPES_H */
