/*===- session.c - Loading and running a compiled model --------------------===*
 *
 * A session is one loaded model: its parsed descriptor, its weights mapped
 * read-only, its arena (every intermediate tensor, laid out at compile
 * time), and its outputs. Every failure leaves a message in the session and
 * returns a status; nothing here aborts on user input.
 *
 *===-----------------------------------------------------------------------===*/
#include "session.h"

#include "cuda.h"
#include "probe.h"

#include <errno.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* The instrumented session whose run is in progress: where the probes of
 * the generated code record. One per process at a time (calibration runs
 * one session); plain sessions never touch it. Not thread-local: a TLS
 * segment in every model.so makes LeakSanitizer's exit-time scan of
 * processes that dlopen models crash now and then (see test/CMakeLists.txt). */
static _Atomic(sinter_session *) active_session;

sinter_probe_stats *sinter_rt_active_probe(int64_t id, sinter_probe_kind kind) {
  sinter_session *s = atomic_load(&active_session);
  if (!s || id < 0 || id >= s->num_probes || s->probes[id].kind != kind)
    return NULL;
  return &s->probes[id];
}

/* The generated code's parallel loops run on LLVM's OpenMP runtime, which
 * model.so links; the runtime only sets their thread count, through a weak
 * reference so that it does not itself depend on libomp. */
extern void omp_set_num_threads(int) __attribute__((weak));

static void free_slot(tensor_slot *slot) {
  sinter_cuda_free(slot->device);
  free(slot->name);
  if (slot->dim_names)
    for (int32_t d = 0; d < slot->info.rank; ++d)
      free(slot->dim_names[d]);
  free(slot->dim_names);
  free(slot->shape);
  free(slot->max_shape);
  free(slot->run_shape);
  free(slot->buffer);
}

/*===--- The weights file -------------------------------------------------===*/

static sinter_status map_weights(sinter_session *s, const char *path) {
  if (s->weights_size == 0 && !path)
    return SINTER_OK;
  if (!path)
    return fail(s, SINTER_INVALID_ARGUMENT,
                "model '%s' needs its weights file (%llu bytes of weights), "
                "and no path was given",
                s->name, (unsigned long long)s->weights_size);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return fail(s, SINTER_IO_ERROR, "cannot open weights file '%s': %s", path,
                strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int saved = errno;
    close(fd);
    return fail(s, SINTER_IO_ERROR, "cannot stat weights file '%s': %s", path,
                strerror(saved));
  }
  if (!S_ISREG(st.st_mode) ||
      (uint64_t)st.st_size < SINTER_WEIGHTS_HEADER_SIZE) {
    close(fd);
    return fail(s, SINTER_CORRUPT_WEIGHTS,
                "'%s' is not a sinter weights file (%s)", path,
                S_ISREG(st.st_mode) ? "shorter than the header"
                                    : "not a regular file");
  }
  s->mapping_size = (size_t)st.st_size;
  s->mapping = mmap(NULL, s->mapping_size, PROT_READ, MAP_PRIVATE, fd, 0);
  int saved = errno;
  close(fd);
  if (s->mapping == MAP_FAILED) {
    s->mapping = NULL;
    return fail(s, SINTER_IO_ERROR, "cannot map weights file '%s': %s", path,
                strerror(saved));
  }
  sinter_weights_header header;
  memcpy(&header, s->mapping, sizeof header);
  if (memcmp(header.magic, SINTER_WEIGHTS_MAGIC, 8) != 0)
    return fail(s, SINTER_CORRUPT_WEIGHTS,
                "'%s' is not a sinter weights file (bad magic)", path);
  if (header.version != SINTER_WEIGHTS_VERSION)
    return fail(s, SINTER_CORRUPT_WEIGHTS,
                "weights file '%s' has format version %u; this runtime reads "
                "version %d",
                path, header.version, SINTER_WEIGHTS_VERSION);
  if (header.data_size != s->weights_size ||
      header.checksum != s->weights_checksum)
    return fail(s, SINTER_CORRUPT_WEIGHTS,
                "weights file '%s' belongs to another model: it holds %llu "
                "bytes with checksum %016llx, model '%s' expects %llu bytes "
                "with checksum %016llx",
                path, (unsigned long long)header.data_size,
                (unsigned long long)header.checksum, s->name,
                (unsigned long long)s->weights_size,
                (unsigned long long)s->weights_checksum);
  if (header.data_offset < SINTER_WEIGHTS_HEADER_SIZE ||
      header.data_offset > s->mapping_size ||
      s->mapping_size - header.data_offset < header.data_size)
    return fail(s, SINTER_CORRUPT_WEIGHTS,
                "weights file '%s' is truncated: %zu bytes, the header "
                "promises %llu bytes of data at offset %llu",
                path, s->mapping_size, (unsigned long long)header.data_size,
                (unsigned long long)header.data_offset);
  if (header.data_offset % SINTER_WEIGHTS_ALIGNMENT != 0)
    return fail(s, SINTER_CORRUPT_WEIGHTS,
                "weights file '%s' is corrupt: its data offset %llu is not a "
                "multiple of %d",
                path, (unsigned long long)header.data_offset,
                SINTER_WEIGHTS_ALIGNMENT);
  s->weights = (const unsigned char *)s->mapping + header.data_offset;
  uint64_t actual = sinter_checksum64(s->weights, header.data_size);
  if (actual != header.checksum)
    return fail(s, SINTER_CORRUPT_WEIGHTS,
                "weights file '%s' is corrupt: its data has checksum %016llx, "
                "its header says %016llx",
                path, (unsigned long long)actual,
                (unsigned long long)header.checksum);
  return SINTER_OK;
}

/*===--- Load, query, free ------------------------------------------------===*/

static sinter_status check_threads(sinter_session *s, int num_threads) {
  if (num_threads < 0 || num_threads > 1024)
    return fail(s, SINTER_INVALID_ARGUMENT,
                "number of threads must be 0 (all cores) to 1024, got %d",
                num_threads);
  if (num_threads == 0) {
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    num_threads = cores > 0 ? (int)cores : 1;
  }
  s->num_threads = num_threads;
  return SINTER_OK;
}

/* A CUDA model: the device, the weights copied to it, the device arena. */
static sinter_status load_on_device(sinter_session *s) {
  char error[kCudaErrorCapacity];
  if (sinter_cuda_open(s->cuda_major, s->cuda_minor, error, sizeof error) !=
          0 ||
      sinter_cuda_alloc(&s->device_weights, (size_t)s->weights_size, error,
                        sizeof error) != 0 ||
      sinter_cuda_upload(s->device_weights, s->weights,
                         (size_t)s->weights_size, error, sizeof error) != 0 ||
      sinter_cuda_alloc(&s->device_arena, (size_t)s->arena_size, error,
                        sizeof error) != 0)
    return fail(s, SINTER_DEVICE_ERROR, "model '%s' (CUDA): %s", s->name,
                error);
  return SINTER_OK;
}

static sinter_status load(sinter_session *s, const char *weights_path,
                          int num_threads) {
  if (!s->model || s->model->abi_version != SINTER_ABI_VERSION)
    return fail(s, SINTER_INTERNAL_ERROR,
                "the model was compiled for runtime ABI version %u; this "
                "runtime implements version %d",
                s->model ? s->model->abi_version : 0u, SINTER_ABI_VERSION);
  sinter_status status = sinter_parse_descriptor(s);
  if (status == SINTER_OK)
    status = check_threads(s, num_threads);
  for (int i = 0; status == SINTER_OK && i < s->num_inputs; ++i)
    if (sinter_dtype_size(s->inputs[i].info.dtype) == 0)
      status = fail(s, SINTER_INTERNAL_ERROR, "input %d has unknown dtype %d",
                    i, (int)s->inputs[i].info.dtype);
  for (int i = 0; status == SINTER_OK && i < s->num_outputs; ++i)
    if (sinter_dtype_size(s->outputs[i].info.dtype) == 0)
      status = fail(s, SINTER_INTERNAL_ERROR, "output %d has unknown dtype %d",
                    i, (int)s->outputs[i].info.dtype);
  if (status == SINTER_OK)
    status = map_weights(s, weights_path);
  if (status == SINTER_OK && s->cuda)
    status = load_on_device(s);
  if (status != SINTER_OK)
    return status;
  /* The arena; 64-byte aligned for the widest vector loads. */
  /* (A CUDA model's arena is in device memory.) */
  size_t arena = s->cuda ? 0 : (size_t)((s->arena_size + 63) / 64 * 64);
  s->arena = aligned_alloc(64, arena ? arena : 64);
  int descriptors =
      s->num_inputs + s->num_outputs + (s->num_index_checks > 0) + 2;
  s->descriptors = calloc((size_t)descriptors, sizeof(void *));
  size_t words = 0;
  for (int i = 0; i < s->num_inputs; ++i)
    words += 3 + 2 * (size_t)s->inputs[i].info.rank;
  for (int i = 0; i < s->num_outputs; ++i)
    words += 3 + 2 * (size_t)s->outputs[i].info.rank;
  words += (2 + (s->num_index_checks > 0)) * 5;
  s->descriptor_storage = calloc(words, sizeof(int64_t));
  if (!s->arena || !s->descriptors || !s->descriptor_storage)
    return fail(s, SINTER_OUT_OF_MEMORY,
                "out of memory allocating the %llu-byte arena of model '%s'",
                (unsigned long long)s->arena_size, s->name);
  s->loaded = 1;
  return SINTER_OK;
}

/* Returned by sinter_rt_error when there is no session to hold a message. */
static const char kNoSession[] =
    "no session (it was NULL, or there was no memory to create one)";

sinter_status sinter_rt_load(const sinter_model_def *model,
                             const char *weights_path, int num_threads,
                             sinter_session **session) {
  if (!session)
    return SINTER_INVALID_ARGUMENT;
  sinter_session *s = calloc(1, sizeof *s);
  *session = s;
  if (!s)
    return SINTER_OUT_OF_MEMORY;
  s->model = model;
  pthread_mutex_init(&s->heap_lock, NULL);
  return load(s, weights_path, num_threads);
}

void sinter_rt_free(sinter_session *s) {
  if (!s)
    return;
  for (int i = 0; s->inputs && i < s->num_inputs; ++i)
    free_slot(&s->inputs[i]);
  for (int i = 0; s->outputs && i < s->num_outputs; ++i)
    free_slot(&s->outputs[i]);
  free(s->inputs);
  free(s->outputs);
  sinter_cuda_free(s->device_weights);
  sinter_cuda_free(s->device_arena);
  if (s->mapping)
    munmap(s->mapping, s->mapping_size);
  free(s->arena);
  free(s->descriptors);
  free(s->descriptor_storage);
  for (int i = 0; s->index_checks && i < s->num_index_checks; ++i)
    free(s->index_checks[i]);
  free(s->index_checks);
  for (int i = 0; s->probes && i < s->num_probes; ++i)
    sinter_probe_release(&s->probes[i]);
  free(s->probes);
  free(s->name);
  pthread_mutex_destroy(&s->heap_lock);
  free(s);
}

const char *sinter_rt_error(const sinter_session *s) {
  return s ? s->error : kNoSession;
}

int sinter_rt_num_inputs(const sinter_session *s) {
  return s && s->loaded ? s->num_inputs : 0;
}

int sinter_rt_num_outputs(const sinter_session *s) {
  return s && s->loaded ? s->num_outputs : 0;
}

const sinter_tensor_info *sinter_rt_input_info(const sinter_session *s,
                                               int index) {
  if (!s || !s->loaded || index < 0 || index >= s->num_inputs)
    return NULL;
  return &s->inputs[index].info;
}

const sinter_tensor_info *sinter_rt_output_info(const sinter_session *s,
                                                int index) {
  if (!s || !s->loaded || index < 0 || index >= s->num_outputs)
    return NULL;
  return &s->outputs[index].info;
}

/* Claims the session for the calling thread: false when another thread is
 * inside it (then nothing of the session may be touched, its error string
 * included). One atomic exchange per call. */
static int enter(sinter_session *s) {
  int idle = 0;
  return atomic_compare_exchange_strong(&s->busy, &idle, 1);
}

static void leave(sinter_session *s) { atomic_store(&s->busy, 0); }

sinter_status sinter_rt_set_num_threads(sinter_session *s, int num_threads) {
  if (!s)
    return SINTER_INVALID_ARGUMENT;
  if (!enter(s))
    return SINTER_SESSION_BUSY;
  sinter_status status = check_threads(s, num_threads);
  leave(s);
  return status;
}

/*===--- Run --------------------------------------------------------------===*/

/* The byte size of `rank` sizes of `dtype`, or SIZE_MAX on overflow. */
static size_t byte_size(sinter_dtype dtype, int32_t rank,
                        const int64_t *shape) {
  size_t bytes = sinter_dtype_size(dtype);
  for (int32_t d = 0; d < rank; ++d)
    if (__builtin_mul_overflow(bytes, (size_t)shape[d], &bytes))
      return SIZE_MAX;
  return bytes;
}

/* Fills `storage` with a rank-r memref descriptor of dense row-major data. */
static int64_t *write_descriptor(int64_t *storage, void *data, int32_t rank,
                                 const int64_t *shape) {
  static int64_t placeholder; /* empty tensors still need a pointer */
  void *pointer = data ? data : &placeholder;
  memcpy(&storage[0], &pointer, sizeof pointer);
  memcpy(&storage[1], &pointer, sizeof pointer);
  storage[2] = 0;
  int64_t stride = 1;
  for (int32_t d = rank - 1; d >= 0; --d) {
    storage[3 + d] = shape[d];
    storage[3 + rank + d] = stride;
    stride *= shape[d] > 0 ? shape[d] : 1;
  }
  return storage + 3 + 2 * rank;
}

/* The size bound to symbol `name` by the inputs checked so far, or -1. */
static int64_t bound_symbol(const sinter_session *s, int inputs_checked,
                            const char *name) {
  for (int i = 0; i < inputs_checked; ++i) {
    const tensor_slot *slot = &s->inputs[i];
    for (int32_t d = 0; d < slot->info.rank; ++d)
      if (slot->shape[d] < 0 && strcmp(slot->dim_names[d], name) == 0)
        return slot->run_shape[d];
  }
  return -1;
}

static sinter_status check_input(sinter_session *s, int index,
                                 const sinter_tensor *tensor) {
  tensor_slot *slot = &s->inputs[index];
  const sinter_tensor_info *info = &slot->info;
  if (tensor->dtype != info->dtype)
    return fail(s, SINTER_INVALID_ARGUMENT,
                "input %d ('%s') must be %s, got %s", index, info->name,
                sinter_dtype_name(info->dtype),
                sinter_dtype_name(tensor->dtype));
  if (tensor->rank != info->rank)
    return fail(s, SINTER_INVALID_ARGUMENT,
                "input %d ('%s') must have rank %d, got rank %d", index,
                info->name, info->rank, tensor->rank);
  if (info->rank > 0 && !tensor->shape)
    return fail(s, SINTER_INVALID_ARGUMENT, "input %d ('%s') has no shape",
                index, info->name);
  for (int32_t d = 0; d < info->rank; ++d) {
    int64_t size = tensor->shape[d];
    if (size < 0)
      return fail(s, SINTER_INVALID_ARGUMENT,
                  "input %d ('%s') has negative size %lld in dimension %d",
                  index, info->name, (long long)size, d);
    if (info->shape[d] >= 0 && size != info->shape[d])
      return fail(s, SINTER_INVALID_ARGUMENT,
                  "input %d ('%s') must have size %lld in dimension %d, got "
                  "%lld",
                  index, info->name, (long long)info->shape[d], d,
                  (long long)size);
    if (info->shape[d] < 0) {
      if (info->max_shape[d] >= 0 && size > info->max_shape[d])
        return fail(s, SINTER_INVALID_ARGUMENT,
                    "input %d ('%s') dimension %d ('%s') is %lld, above the "
                    "bound %lld the model was compiled for",
                    index, info->name, d, info->dim_names[d], (long long)size,
                    (long long)info->max_shape[d]);
      int64_t bound = bound_symbol(s, index, info->dim_names[d]);
      for (int32_t e = 0; bound < 0 && e < d; ++e)
        if (info->shape[e] < 0 &&
            strcmp(info->dim_names[e], info->dim_names[d]) == 0)
          bound = tensor->shape[e];
      if (info->dim_names[d][0] && bound >= 0 && bound != size)
        return fail(s, SINTER_INVALID_ARGUMENT,
                    "input %d ('%s') dimension %d ('%s') is %lld, but another "
                    "input gave '%s' the size %lld",
                    index, info->name, d, info->dim_names[d], (long long)size,
                    info->dim_names[d], (long long)bound);
    }
    slot->run_shape[d] = size;
  }
  size_t bytes = byte_size(info->dtype, info->rank, tensor->shape);
  if (bytes == SIZE_MAX)
    return fail(s, SINTER_INVALID_ARGUMENT,
                "input %d ('%s') is too large to address", index, info->name);
  if (bytes && !tensor->data)
    return fail(s, SINTER_INVALID_ARGUMENT, "input %d ('%s') has no data",
                index, info->name);
  if ((uintptr_t)tensor->data % sinter_dtype_size(info->dtype) != 0)
    return fail(s, SINTER_INVALID_ARGUMENT,
                "input %d ('%s') data is not aligned to its %zu-byte elements",
                index, info->name, sinter_dtype_size(info->dtype));
  return SINTER_OK;
}

/* Element i of an integer input as an int64 (a uint64 above INT64_MAX
 * becomes INT64_MAX: outside every bound). */
static int64_t integer_at(sinter_dtype dtype, const void *data, int64_t i) {
  switch (dtype) {
  case SINTER_INT8:
    return ((const int8_t *)data)[i];
  case SINTER_UINT8:
    return ((const uint8_t *)data)[i];
  case SINTER_INT16:
    return ((const int16_t *)data)[i];
  case SINTER_UINT16:
    return ((const uint16_t *)data)[i];
  case SINTER_INT32:
    return ((const int32_t *)data)[i];
  case SINTER_UINT32:
    return ((const uint32_t *)data)[i];
  case SINTER_UINT64: {
    uint64_t value = ((const uint64_t *)data)[i];
    return value > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)value;
  }
  default:
    return ((const int64_t *)data)[i];
  }
}

/* "[c0, c1, ...]" of `rank` coordinates, cut short if `capacity` is too
 * small (22 bytes a coordinate and 3 more always suffice). */
static void format_position(char *out, size_t capacity, const int64_t *coords,
                            int rank) {
  size_t used = 0;
  for (int d = -1; d <= rank; ++d) {
    int written =
        d < 0       ? snprintf(out + used, capacity - used, "[")
        : d == rank ? snprintf(out + used, capacity - used, "]")
                    : snprintf(out + used, capacity - used, "%s%lld",
                               d ? ", " : "", (long long)coords[d]);
    if (written < 0 || (size_t)written >= capacity - used)
      return;
    used += (size_t)written;
  }
}

/* Whether any of `count` values lies outside [low, high): one pass without
 * branches, which vectorizes (the common types spelled out). */
static int any_outside(sinter_dtype dtype, const void *data, int64_t count,
                       int64_t low, int64_t high) {
  int outside = 0;
  if (dtype == SINTER_INT64) {
    const int64_t *v = data;
    for (int64_t i = 0; i < count; ++i)
      outside |= (v[i] < low) | (v[i] >= high);
  } else if (dtype == SINTER_INT32) {
    const int32_t *v = data;
    for (int64_t i = 0; i < count; ++i)
      outside |= (v[i] < low) | (v[i] >= high);
  } else {
    for (int64_t i = 0; i < count; ++i) {
      int64_t value = integer_at(dtype, data, i);
      outside |= (value < low) | (value >= high);
    }
  }
  return outside;
}

/* Input `index` holds indices into a dimension of the model (a Gather's,
 * a GatherElements' or a ScatterElements'): a value outside the bound the
 * compiler recorded fails the run, naming the first such value and its
 * position, where the kernels would otherwise read (or write) outside the
 * tensor it indexes. */
static sinter_status check_index_values(sinter_session *s, int index,
                                        const sinter_tensor *tensor) {
  const tensor_slot *slot = &s->inputs[index];
  const sinter_dtype dtype = slot->info.dtype;
  const int integer = dtype == SINTER_INT8 || dtype == SINTER_UINT8 ||
                      dtype == SINTER_INT16 || dtype == SINTER_UINT16 ||
                      dtype == SINTER_INT32 || dtype == SINTER_UINT32 ||
                      dtype == SINTER_INT64 || dtype == SINTER_UINT64;
  if (!slot->has_index_bound || !integer)
    return SINTER_OK;
  int64_t count = 1;
  for (int32_t d = 0; d < slot->info.rank; ++d)
    count *= slot->run_shape[d];
  const int64_t low = slot->index_low, high = slot->index_high;
  if (!any_outside(dtype, tensor->data, count, low, high))
    return SINTER_OK;
  int64_t at = 0, value = 0;
  for (; at < count; ++at) {
    value = integer_at(dtype, tensor->data, at);
    if (value < low || value >= high)
      break;
  }
  int64_t coords[64];
  for (int32_t d = slot->info.rank - 1; d >= 0; --d) {
    coords[d] = at % slot->run_shape[d];
    at /= slot->run_shape[d];
  }
  char position[64 * 22 + 3];
  format_position(position, sizeof position, coords, slot->info.rank);
  return fail(s, SINTER_INVALID_ARGUMENT,
              "input %d ('%s') holds %lld at %s, outside [%lld, %lld): it "
              "indexes a dimension of size %lld",
              index, slot->info.name, (long long)value, position,
              (long long)low, (long long)high, (long long)high);
}

/* Computes the output's shape from the inputs' symbols and makes room. */
static sinter_status prepare_output(sinter_session *s, int index) {
  tensor_slot *slot = &s->outputs[index];
  for (int32_t d = 0; d < slot->info.rank; ++d) {
    int64_t size = slot->shape[d];
    if (size < 0)
      size = bound_symbol(s, s->num_inputs, slot->dim_names[d]);
    if (size < 0)
      return fail(s, SINTER_INTERNAL_ERROR,
                  "output %d ('%s') dimension %d ('%s') is not given by any "
                  "input",
                  index, slot->info.name, d, slot->dim_names[d]);
    slot->run_shape[d] = size;
  }
  size_t bytes = byte_size(slot->info.dtype, slot->info.rank, slot->run_shape);
  if (bytes == SIZE_MAX)
    return fail(s, SINTER_OUT_OF_MEMORY, "output %d ('%s') is too large", index,
                slot->info.name);
  if (bytes > slot->capacity) {
    free(slot->buffer);
    slot->capacity = 0;
    slot->buffer = aligned_alloc(64, (bytes + 63) / 64 * 64);
    if (!slot->buffer)
      return fail(s, SINTER_OUT_OF_MEMORY,
                  "out of memory allocating %zu bytes for output %d ('%s')",
                  bytes, index, slot->info.name);
    slot->capacity = bytes;
  }
  return SINTER_OK;
}

/* The entry point's descriptors for this run: the inputs, outputs, weights
 * and arena where the code reads them, in host memory or (CUDA) on the
 * device. */
static void write_descriptors(sinter_session *s, const sinter_tensor *inputs) {
  int64_t *storage = s->descriptor_storage;
  int next = 0;
  for (int i = 0; i < s->num_inputs; ++i) {
    tensor_slot *slot = &s->inputs[i];
    void *data = s->cuda ? (void *)(uintptr_t)slot->device : inputs[i].data;
    s->descriptors[next++] = storage;
    storage = write_descriptor(storage, data, slot->info.rank, slot->run_shape);
  }
  for (int i = 0; i < s->num_outputs; ++i) {
    tensor_slot *slot = &s->outputs[i];
    void *data = s->cuda ? (void *)(uintptr_t)slot->device : slot->buffer;
    s->descriptors[next++] = storage;
    storage = write_descriptor(storage, data, slot->info.rank, slot->run_shape);
  }
  if (s->num_index_checks > 0) {
    int64_t words = SINTER_INDEX_FAULT_WORDS;
    memset(s->index_faults, 0, sizeof s->index_faults);
    s->descriptors[next++] = storage;
    storage = write_descriptor(storage, s->index_faults, 1, &words);
  }
  int64_t weights_size = (int64_t)s->weights_size;
  int64_t arena_size = (int64_t)s->arena_size;
  s->descriptors[next++] = storage;
  storage = write_descriptor(
      storage,
      s->cuda ? (void *)(uintptr_t)s->device_weights : (void *)s->weights, 1,
      &weights_size);
  s->descriptors[next++] = storage;
  write_descriptor(storage,
                   s->cuda ? (void *)(uintptr_t)s->device_arena : s->arena, 1,
                   &arena_size);
}

/* Points the caller's outputs at the session's buffers. */
static sinter_status finish_run(sinter_session *s, sinter_tensor *outputs) {
  for (int i = 0; i < s->num_outputs; ++i) {
    outputs[i].data = s->outputs[i].buffer;
    outputs[i].dtype = s->outputs[i].info.dtype;
    outputs[i].rank = s->outputs[i].info.rank;
    outputs[i].shape = s->outputs[i].run_shape;
  }
  s->error[0] = '\0';
  return SINTER_OK;
}

/* The device copy of an input or output, grown to `bytes`. */
static sinter_status reserve_device(sinter_session *s, tensor_slot *slot,
                                    size_t bytes, const char *role,
                                    int index) {
  if (slot->device && bytes <= slot->device_capacity)
    return SINTER_OK;
  sinter_cuda_free(slot->device);
  slot->device = 0;
  slot->device_capacity = 0;
  char error[kCudaErrorCapacity];
  if (sinter_cuda_alloc(&slot->device, bytes, error, sizeof error) != 0)
    return fail(s, SINTER_DEVICE_ERROR,
                "model '%s' (CUDA): %zu bytes for %s %d ('%s'): %s", s->name,
                bytes, role, index, slot->info.name, error);
  slot->device_capacity = bytes;
  return SINTER_OK;
}

/* A CUDA model's run: inputs to the device, the entry point (which
 * launches the kernels), outputs back, all in order on one stream. */
static sinter_status run_on_device(sinter_session *s,
                                   const sinter_tensor *inputs) {
  for (int i = 0; i < s->num_inputs + s->num_outputs; ++i) {
    int is_input = i < s->num_inputs;
    int index = is_input ? i : i - s->num_inputs;
    tensor_slot *slot = is_input ? &s->inputs[index] : &s->outputs[index];
    slot->run_bytes =
        byte_size(slot->info.dtype, slot->info.rank, slot->run_shape);
    sinter_status status = reserve_device(s, slot, slot->run_bytes,
                                          is_input ? "input" : "output", index);
    if (status != SINTER_OK)
      return status;
  }
  write_descriptors(s, inputs);

  char error[kCudaErrorCapacity];
  if (sinter_cuda_begin_run(error, sizeof error) != 0)
    return fail(s, SINTER_DEVICE_ERROR, "model '%s' (CUDA): %s", s->name,
                error);
  for (int i = 0; i < s->num_inputs; ++i)
    sinter_cuda_copy_to_device(s->inputs[i].device, inputs[i].data,
                               s->inputs[i].run_bytes);
  s->model->entry(s->descriptors);
  for (int i = 0; i < s->num_outputs; ++i)
    sinter_cuda_copy_to_host(s->outputs[i].buffer, s->outputs[i].device,
                             s->outputs[i].run_bytes);
  if (sinter_cuda_end_run(error, sizeof error) != 0)
    return fail(s, SINTER_DEVICE_ERROR, "model '%s' (CUDA) failed to run: %s",
                s->name, error);
  return SINTER_OK;
}

/* "sequence=40, batch=2", the sizes of the run's dynamic dimensions (or
 * "these sizes" when every size is static), cut short at `capacity`. */
static void describe_run_sizes(const sinter_session *s, char *out,
                               size_t capacity) {
  size_t used = 0;
  out[0] = '\0';
  for (int i = 0; i < s->num_inputs; ++i) {
    const tensor_slot *slot = &s->inputs[i];
    for (int32_t d = 0; d < slot->info.rank; ++d) {
      const char *symbol = slot->dim_names[d];
      int named_before = bound_symbol(s, i, symbol) >= 0;
      for (int32_t e = 0; e < d; ++e)
        named_before |= strcmp(slot->dim_names[e], symbol) == 0;
      if (slot->shape[d] >= 0 || named_before)
        continue;
      int written = snprintf(out + used, capacity - used, "%s%s=%lld",
                             used ? ", " : "", symbol,
                             (long long)slot->run_shape[d]);
      if (written < 0 || (size_t)written >= capacity - used)
        return;
      used += (size_t)written;
    }
  }
  if (!used)
    snprintf(out, capacity, "these sizes");
}

/* The fault record's first fault (the model computed an index outside the
 * dimension it indexes) as the run's error. */
static sinter_status report_index_fault(sinter_session *s) {
  const int64_t *record = s->index_faults;
  int64_t check = record[SINTER_INDEX_FAULT_CHECK] - 1;
  int64_t rank = record[SINTER_INDEX_FAULT_RANK];
  if (check < 0 || check >= s->num_index_checks || rank < 0 ||
      rank > SINTER_INDEX_FAULT_MAX_RANK)
    return fail(s, SINTER_INTERNAL_ERROR,
                "model '%s' wrote a malformed index fault record", s->name);
  char position[SINTER_INDEX_FAULT_MAX_RANK * 22 + 3];
  format_position(position, sizeof position,
                  &record[SINTER_INDEX_FAULT_POSITION], (int)rank);
  long long bound = (long long)record[SINTER_INDEX_FAULT_BOUND];
  return fail(s, SINTER_INVALID_ARGUMENT,
              "%s got the index %lld at %s of its indices, outside "
              "[%lld, %lld): it indexes a dimension of size %lld",
              s->index_checks[check],
              (long long)record[SINTER_INDEX_FAULT_VALUE], position, -bound,
              bound, bound);
}

static sinter_status run(sinter_session *s, const sinter_tensor *inputs,
                         int num_inputs, sinter_tensor *outputs,
                         int num_outputs) {
  if (num_inputs != s->num_inputs || num_outputs != s->num_outputs)
    return fail(s, SINTER_INVALID_ARGUMENT,
                "model '%s' takes %d inputs and %d outputs, got %d and %d",
                s->name, s->num_inputs, s->num_outputs, num_inputs,
                num_outputs);
  if ((num_inputs && !inputs) || (num_outputs && !outputs))
    return fail(s, SINTER_INVALID_ARGUMENT,
                "the inputs or outputs array is NULL");
  for (int i = 0; i < num_inputs; ++i) {
    sinter_status status = check_input(s, i, &inputs[i]);
    if (status != SINTER_OK)
      return status;
  }
  for (int i = 0; i < num_inputs; ++i) {
    sinter_status status = check_index_values(s, i, &inputs[i]);
    if (status != SINTER_OK)
      return status;
  }
  for (int i = 0; i < num_outputs; ++i) {
    sinter_status status = prepare_output(s, i);
    if (status != SINTER_OK)
      return status;
  }
  if (s->cuda) {
    sinter_status status = run_on_device(s, inputs);
    if (status != SINTER_OK)
      return status;
    return finish_run(s, outputs);
  }
  write_descriptors(s, inputs);
  /* Per calling thread in OpenMP: sessions on different threads may use
   * different counts. */
  if (omp_set_num_threads)
    omp_set_num_threads(s->num_threads);
  if (s->num_probes > 0) {
    sinter_session *none = NULL;
    if (!atomic_compare_exchange_strong(&active_session, &none, s))
      return fail(s, SINTER_INVALID_ARGUMENT,
                  "model '%s' is instrumented for calibration, and another "
                  "instrumented session is running: run them one at a time",
                  s->name);
  }
  sinter_heap_begin_run(s);
  if (setjmp(s->heap_jump) != 0) {
    /* A heap buffer of the run did not fit (heap.c). */
    sinter_heap_end_run(s);
    if (s->num_probes > 0)
      atomic_store(&active_session, NULL);
    char sizes[256];
    describe_run_sizes(s, sizes, sizeof sizes);
    return fail(s, SINTER_OUT_OF_MEMORY,
                "model '%s' ran out of memory: a buffer of %zu bytes that "
                "the run needs at %s could not be allocated",
                s->name, s->heap_failed_bytes, sizes);
  }
  s->model->entry(s->descriptors);
  sinter_heap_end_run(s);
  if (s->num_probes > 0)
    atomic_store(&active_session, NULL);
  if (s->num_index_checks > 0 && s->index_faults[SINTER_INDEX_FAULT_CHECK])
    return report_index_fault(s);
  return finish_run(s, outputs);
}

sinter_status sinter_rt_run(sinter_session *s, const sinter_tensor *inputs,
                            int num_inputs, sinter_tensor *outputs,
                            int num_outputs) {
  if (!s)
    return SINTER_INVALID_ARGUMENT;
  if (!s->loaded)
    return SINTER_INVALID_ARGUMENT; /* the load error stays in s->error */
  if (!enter(s))
    return SINTER_SESSION_BUSY;
  sinter_status status = run(s, inputs, num_inputs, outputs, num_outputs);
  leave(s);
  return status;
}

int sinter_rt_num_index_checks(const sinter_session *s) {
  return s && s->loaded ? s->num_index_checks : 0;
}

int sinter_rt_num_probes(const sinter_session *s) {
  return s && s->loaded ? s->num_probes : 0;
}

const sinter_probe_stats *sinter_rt_probe(const sinter_session *s, int index) {
  if (!s || !s->loaded || index < 0 || index >= s->num_probes)
    return NULL;
  return &s->probes[index];
}
