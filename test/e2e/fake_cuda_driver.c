/*===- fake_cuda_driver.c - A CUDA driver without a GPU, for tests ---------===*
 *
 * Stands in for libcuda.so.1 (through SINTER_CUDA_DRIVER) where there is no
 * GPU, so that the runtime's CUDA path and a CUDA model's generated host
 * code run in CI: device memory is host memory, and FAKE_CUDA_MODE chooses
 * what goes wrong:
 *
 *   init-fails    cuInit returns CUDA_ERROR_NO_DEVICE
 *   no-device     the driver sees no GPU
 *   sm80          the GPU has compute capability 8.0
 *   launch-fails  every kernel launch returns CUDA_ERROR_LAUNCH_FAILED
 *   (unset)       everything succeeds; kernels do not run
 *
 * With FAKE_CUDA_MEMORY=<bytes>, allocations beyond that many bytes in all
 * fail with CUDA_ERROR_OUT_OF_MEMORY.
 *
 * With FAKE_CUDA_KERNELS=<library>, the kernels run: the library holds the
 * model's kernels compiled for the CPU with gpu_emulator.c (emulated_gpu.py
 * builds it), and each launch runs its kernel there on the grid asked.
 *
 * It checks what a real driver would reject: a module that is not PTX, a
 * kernel name that is not an entry of the loaded PTX, empty or oversized
 * launch dimensions. With FAKE_CUDA_LOG set, each launch appends
 * "<kernel> <grid x> <block x> <parameter count>" to that file.
 *
 *===-----------------------------------------------------------------------===*/
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int CUresult;
enum {
  OK = 0,
  INVALID_VALUE = 1,
  OUT_OF_MEMORY = 2,
  NO_DEVICE = 100,
  INVALID_IMAGE = 200,
  INVALID_HANDLE = 400,
  NOT_FOUND = 500,
  LAUNCH_FAILED = 719,
};

static const char *mode(void) {
  const char *m = getenv("FAKE_CUDA_MODE");
  return m ? m : "";
}

static size_t allocated;

CUresult cuGetErrorName(CUresult error, const char **name) {
  switch (error) {
  case OK: *name = "CUDA_SUCCESS"; return OK;
  case INVALID_VALUE: *name = "CUDA_ERROR_INVALID_VALUE"; return OK;
  case OUT_OF_MEMORY: *name = "CUDA_ERROR_OUT_OF_MEMORY"; return OK;
  case NO_DEVICE: *name = "CUDA_ERROR_NO_DEVICE"; return OK;
  case INVALID_IMAGE: *name = "CUDA_ERROR_INVALID_IMAGE"; return OK;
  case INVALID_HANDLE: *name = "CUDA_ERROR_INVALID_HANDLE"; return OK;
  case NOT_FOUND: *name = "CUDA_ERROR_NOT_FOUND"; return OK;
  case LAUNCH_FAILED: *name = "CUDA_ERROR_LAUNCH_FAILED"; return OK;
  }
  *name = NULL;
  return INVALID_VALUE;
}

CUresult cuGetErrorString(CUresult error, const char **text) {
  switch (error) {
  case NO_DEVICE: *text = "no CUDA-capable device is detected"; return OK;
  case OUT_OF_MEMORY: *text = "out of memory"; return OK;
  case LAUNCH_FAILED: *text = "unspecified launch failure"; return OK;
  case NOT_FOUND: *text = "named symbol not found"; return OK;
  case INVALID_IMAGE: *text = "device kernel image is invalid"; return OK;
  }
  *text = "fake driver error";
  return OK;
}

CUresult cuInit(unsigned flags) {
  return flags ? INVALID_VALUE : strcmp(mode(), "init-fails") == 0 ? NO_DEVICE
                                                                    : OK;
}
CUresult cuDeviceGetCount(int *count) {
  *count = strcmp(mode(), "no-device") == 0 ? 0 : 1;
  return OK;
}
CUresult cuDeviceGet(int *device, int ordinal) {
  *device = ordinal;
  return ordinal == 0 ? OK : INVALID_VALUE;
}
CUresult cuDeviceGetName(char *name, int length, int device) {
  (void)device;
  snprintf(name, (size_t)length, "Fake GPU");
  return OK;
}
CUresult cuDeviceGetAttribute(int *value, int attribute, int device) {
  (void)device;
  int sm80 = strcmp(mode(), "sm80") == 0;
  if (attribute == 75)
    *value = sm80 ? 8 : 9;
  else if (attribute == 76)
    *value = 0;
  else
    return INVALID_VALUE;
  return OK;
}
static int context_storage;
CUresult cuDevicePrimaryCtxRetain(void **context, int device) {
  (void)device;
  *context = &context_storage;
  return OK;
}
CUresult cuCtxSetCurrent(void *context) {
  return context == &context_storage ? OK : INVALID_HANDLE;
}
static int stream_storage;
CUresult cuStreamCreate(void **stream, unsigned flags) {
  (void)flags;
  *stream = &stream_storage;
  return OK;
}
CUresult cuStreamSynchronize(void *stream) {
  return stream == &stream_storage ? OK : INVALID_HANDLE;
}

/*===--- Memory: host memory -----------------------------------------------===*/

static CUresult allocate(uint64_t *pointer, size_t bytes) {
  if (bytes == 0)
    return INVALID_VALUE;
  const char *limit = getenv("FAKE_CUDA_MEMORY");
  if (limit && allocated + bytes > strtoull(limit, NULL, 10))
    return OUT_OF_MEMORY;
  void *memory = malloc(bytes);
  if (!memory)
    return OUT_OF_MEMORY;
  allocated += bytes;
  *pointer = (uint64_t)(uintptr_t)memory;
  return OK;
}
CUresult cuMemAlloc_v2(uint64_t *pointer, size_t bytes) {
  return allocate(pointer, bytes);
}
CUresult cuMemAllocAsync(uint64_t *pointer, size_t bytes, void *stream) {
  return stream == &stream_storage ? allocate(pointer, bytes) : INVALID_HANDLE;
}
CUresult cuMemFree_v2(uint64_t pointer) {
  free((void *)(uintptr_t)pointer);
  return OK;
}
CUresult cuMemFreeAsync(uint64_t pointer, void *stream) {
  (void)stream;
  free((void *)(uintptr_t)pointer);
  return OK;
}
CUresult cuMemcpyHtoD_v2(uint64_t target, const void *source, size_t bytes) {
  memcpy((void *)(uintptr_t)target, source, bytes);
  return OK;
}
CUresult cuMemcpyHtoDAsync_v2(uint64_t target, const void *source,
                              size_t bytes, void *stream) {
  (void)stream;
  return cuMemcpyHtoD_v2(target, source, bytes);
}
CUresult cuMemcpyDtoHAsync_v2(void *target, uint64_t source, size_t bytes,
                              void *stream) {
  (void)stream;
  memcpy(target, (const void *)(uintptr_t)source, bytes);
  return OK;
}

/*===--- Modules and launches ----------------------------------------------===*/

typedef void (*kernel_entry)(void **);
typedef int (*emulator_run)(kernel_entry, void **, const unsigned[3],
                            const unsigned[3]);

typedef struct fake_module {
  const char *ptx;
  void *kernels; /* FAKE_CUDA_KERNELS, loaded */
  emulator_run run;
} fake_module;

typedef struct fake_function {
  char name[256];
  int params; /* as the PTX entry declares them */
  kernel_entry entry;
  emulator_run run;
} fake_function;

CUresult cuModuleLoadDataEx(void **module, const void *image, unsigned count,
                            int *options, void **values) {
  (void)count;
  (void)options;
  (void)values;
  const char *ptx = image;
  if (!ptx)
    return INVALID_VALUE;
  if (!strstr(ptx, ".version ") || !strstr(ptx, ".target sm_") ||
      !strstr(ptx, ".entry "))
    return INVALID_IMAGE;
  fake_module *m = malloc(sizeof *m);
  if (!m)
    return OUT_OF_MEMORY;
  m->ptx = ptx;
  m->kernels = NULL;
  m->run = NULL;
  const char *kernels = getenv("FAKE_CUDA_KERNELS");
  if (kernels) {
    m->kernels = dlopen(kernels, RTLD_NOW | RTLD_LOCAL);
    m->run = m->kernels ? (emulator_run)dlsym(m->kernels, "emu_run") : NULL;
    if (!m->run) {
      fprintf(stderr, "fake CUDA driver: FAKE_CUDA_KERNELS: %s\n", dlerror());
      if (m->kernels)
        dlclose(m->kernels);
      free(m);
      return INVALID_IMAGE;
    }
  }
  *module = m;
  return OK;
}
CUresult cuModuleUnload(void *module) {
  fake_module *m = module;
  if (m && m->kernels)
    dlclose(m->kernels);
  free(module);
  return OK;
}
CUresult cuModuleGetFunction(void **function, void *module, const char *name) {
  fake_module *m = module;
  char entry[300];
  snprintf(entry, sizeof entry, ".entry %s(", name);
  const char *declaration = m ? strstr(m->ptx, entry) : NULL;
  if (!declaration || strlen(name) >= 256)
    return NOT_FOUND;
  const char *end = strchr(declaration, ')');
  int params = 0;
  for (const char *p = strstr(declaration, ".param "); p && end && p < end;
       p = strstr(p + 1, ".param "))
    ++params;
  /* One per name, kept for the process (as the driver's would be). */
  fake_function *f = malloc(sizeof *f);
  if (!f)
    return OUT_OF_MEMORY;
  strcpy(f->name, name);
  f->params = params;
  f->entry = NULL;
  f->run = m->run;
  if (m->kernels) {
    char symbol[300];
    snprintf(symbol, sizeof symbol, "emu_entry_%s", name);
    f->entry = (kernel_entry)dlsym(m->kernels, symbol);
    if (!f->entry) {
      free(f);
      return NOT_FOUND;
    }
  }
  *function = f;
  return OK;
}
CUresult cuLaunchKernel(void *function, unsigned grid_x, unsigned grid_y,
                        unsigned grid_z, unsigned block_x, unsigned block_y,
                        unsigned block_z, unsigned shared, void *stream,
                        void **params, void **extra) {
  (void)shared;
  (void)extra;
  fake_function *f = function;
  if (!f || stream != &stream_storage)
    return INVALID_HANDLE;
  if (!grid_x || !grid_y || !grid_z || !block_x || !block_y || !block_z ||
      (uint64_t)block_x * block_y * block_z > 1024 || !params)
    return INVALID_VALUE;
  if (strcmp(mode(), "launch-fails") == 0)
    return LAUNCH_FAILED;
  /* Each parameter is read as the driver would copy it. */
  unsigned char sum = 0;
  for (int i = 0; i < f->params; ++i) {
    if (!params[i])
      return INVALID_VALUE;
    sum ^= *(volatile unsigned char *)params[i];
  }
  (void)sum;
  const char *log = getenv("FAKE_CUDA_LOG");
  if (log) {
    FILE *file = fopen(log, "a");
    if (file) {
      fprintf(file, "%s %u %u %d\n", f->name, grid_x, block_x, f->params);
      fclose(file);
    }
  }
  if (f->entry) {
    const unsigned grid[3] = {grid_x, grid_y, grid_z};
    const unsigned block[3] = {block_x, block_y, block_z};
    if (f->run(f->entry, params, grid, block) != 0)
      return LAUNCH_FAILED;
  }
  return OK;
}
