/*===- cuda.c - The CUDA driver, loaded at run time ------------------------===*
 *
 * The driver API is declared here by hand (the handful of entry points and
 * constants used): the runtime builds without CUDA's headers, and finds the
 * driver with dlopen when a CUDA model is loaded.
 *
 *===-----------------------------------------------------------------------===*/
#include "cuda.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int CUresult;
typedef int CUdevice;
typedef uint64_t CUdeviceptr;
typedef struct CUctx_st *CUcontext;
typedef struct CUmod_st *CUmodule;
typedef struct CUfunc_st *CUfunction;
typedef struct CUstream_st *CUstream;

enum {
  CUDA_SUCCESS = 0,
  CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75,
  CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76,
  CU_JIT_ERROR_LOG_BUFFER = 5,
  CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES = 6,
  CU_STREAM_NON_BLOCKING = 1,
};

/* The driver's entry points, by their versioned symbol names. */
static struct {
  CUresult (*cuInit)(unsigned);
  CUresult (*cuDeviceGetCount)(int *);
  CUresult (*cuDeviceGet)(CUdevice *, int);
  CUresult (*cuDeviceGetName)(char *, int, CUdevice);
  CUresult (*cuDeviceGetAttribute)(int *, int, CUdevice);
  CUresult (*cuDevicePrimaryCtxRetain)(CUcontext *, CUdevice);
  CUresult (*cuCtxSetCurrent)(CUcontext);
  CUresult (*cuModuleLoadDataEx)(CUmodule *, const void *, unsigned, int *,
                                 void **);
  CUresult (*cuModuleGetFunction)(CUfunction *, CUmodule, const char *);
  CUresult (*cuModuleUnload)(CUmodule);
  CUresult (*cuLaunchKernel)(CUfunction, unsigned, unsigned, unsigned,
                             unsigned, unsigned, unsigned, unsigned, CUstream,
                             void **, void **);
  CUresult (*cuStreamCreate)(CUstream *, unsigned);
  CUresult (*cuStreamSynchronize)(CUstream);
  CUresult (*cuMemAlloc)(CUdeviceptr *, size_t);
  CUresult (*cuMemFree)(CUdeviceptr);
  CUresult (*cuMemAllocAsync)(CUdeviceptr *, size_t, CUstream);
  CUresult (*cuMemFreeAsync)(CUdeviceptr, CUstream);
  CUresult (*cuMemcpyHtoD)(CUdeviceptr, const void *, size_t);
  CUresult (*cuMemcpyHtoDAsync)(CUdeviceptr, const void *, size_t, CUstream);
  CUresult (*cuMemcpyDtoHAsync)(void *, CUdeviceptr, size_t, CUstream);
  CUresult (*cuGetErrorName)(CUresult, const char **);
  CUresult (*cuGetErrorString)(CUresult, const char **);
} driver;

/* Process-wide: the driver, the context and the stream every run uses. */
static pthread_mutex_t open_lock = PTHREAD_MUTEX_INITIALIZER;
static int opened; /* 0: not tried, 1: open, -1: failed (open_error) */
static char open_error[kCudaErrorCapacity];
static CUdevice device;
static CUcontext context;
static CUstream stream;
static int device_major, device_minor;
static char device_name[128];

/* The run in progress (under run_lock): its first failure. */
static pthread_mutex_t run_lock = PTHREAD_MUTEX_INITIALIZER;
static int run_failed;
static char run_error[kCudaErrorCapacity];

static void format(char *error, size_t capacity, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void format(char *error, size_t capacity, const char *fmt, ...) {
  va_list args;
  va_start(args, fmt);
  vsnprintf(error, capacity, fmt, args);
  va_end(args);
}

/* "<call>: CUDA_ERROR_X (description)". */
static void describe(CUresult result, const char *call, char *error,
                     size_t capacity) {
  const char *name = NULL, *text = NULL;
  if (driver.cuGetErrorName)
    driver.cuGetErrorName(result, &name);
  if (driver.cuGetErrorString)
    driver.cuGetErrorString(result, &text);
  if (name)
    format(error, capacity, "%s: %s (%s)", call, name,
           text ? text : "no description");
  else
    format(error, capacity, "%s: CUDA error %d", call, result);
}

static int check(CUresult result, const char *call, char *error,
                 size_t capacity) {
  if (result == CUDA_SUCCESS)
    return 0;
  describe(result, call, error, capacity);
  return -1;
}

/* Records the run's first failure; later calls of the run do nothing. */
static int run_check(CUresult result, const char *call) {
  if (result == CUDA_SUCCESS)
    return 0;
  if (!run_failed)
    describe(result, call, run_error, sizeof run_error);
  run_failed = 1;
  return -1;
}

static int load_driver(char *error, size_t capacity) {
  const char *path = getenv("SINTER_CUDA_DRIVER");
  if (!path || !*path)
    path = "libcuda.so.1";
  void *library = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!library) {
    const char *why = dlerror();
    format(error, capacity,
           "cannot load the CUDA driver (%s): %s; a model compiled with "
           "--target=cuda runs on a machine with an NVIDIA GPU and its driver",
           path, why ? why : "unknown error");
    return -1;
  }
  struct {
    void **slot;
    const char *symbol;
  } symbols[] = {
#define SYMBOL(field, name) {(void **)&driver.field, name}
      SYMBOL(cuInit, "cuInit"),
      SYMBOL(cuDeviceGetCount, "cuDeviceGetCount"),
      SYMBOL(cuDeviceGet, "cuDeviceGet"),
      SYMBOL(cuDeviceGetName, "cuDeviceGetName"),
      SYMBOL(cuDeviceGetAttribute, "cuDeviceGetAttribute"),
      SYMBOL(cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain"),
      SYMBOL(cuCtxSetCurrent, "cuCtxSetCurrent"),
      SYMBOL(cuModuleLoadDataEx, "cuModuleLoadDataEx"),
      SYMBOL(cuModuleGetFunction, "cuModuleGetFunction"),
      SYMBOL(cuModuleUnload, "cuModuleUnload"),
      SYMBOL(cuLaunchKernel, "cuLaunchKernel"),
      SYMBOL(cuStreamCreate, "cuStreamCreate"),
      SYMBOL(cuStreamSynchronize, "cuStreamSynchronize"),
      SYMBOL(cuMemAlloc, "cuMemAlloc_v2"),
      SYMBOL(cuMemFree, "cuMemFree_v2"),
      SYMBOL(cuMemAllocAsync, "cuMemAllocAsync"),
      SYMBOL(cuMemFreeAsync, "cuMemFreeAsync"),
      SYMBOL(cuMemcpyHtoD, "cuMemcpyHtoD_v2"),
      SYMBOL(cuMemcpyHtoDAsync, "cuMemcpyHtoDAsync_v2"),
      SYMBOL(cuMemcpyDtoHAsync, "cuMemcpyDtoHAsync_v2"),
      SYMBOL(cuGetErrorName, "cuGetErrorName"),
      SYMBOL(cuGetErrorString, "cuGetErrorString"),
#undef SYMBOL
  };
  for (size_t i = 0; i < sizeof symbols / sizeof symbols[0]; ++i) {
    *symbols[i].slot = dlsym(library, symbols[i].symbol);
    if (!*symbols[i].slot) {
      format(error, capacity,
             "the CUDA driver (%s) has no %s: it is older than CUDA 11.2, "
             "which sinter needs",
             path, symbols[i].symbol);
      memset(&driver, 0, sizeof driver);
      dlclose(library);
      return -1;
    }
  }
  return 0; /* The library stays loaded for the process's lifetime. */
}

static int open_device(char *error, size_t capacity) {
  if (load_driver(error, capacity) != 0 ||
      check(driver.cuInit(0), "cuInit", error, capacity) != 0)
    return -1;
  int count = 0;
  if (check(driver.cuDeviceGetCount(&count), "cuDeviceGetCount", error,
            capacity) != 0)
    return -1;
  const char *chosen = getenv("SINTER_CUDA_DEVICE");
  char *end = NULL;
  long ordinal = chosen && *chosen ? strtol(chosen, &end, 10) : 0;
  if (chosen && *chosen && (*end != '\0' || ordinal < 0)) {
    format(error, capacity, "SINTER_CUDA_DEVICE is '%s', not a device number",
           chosen);
    return -1;
  }
  if (ordinal >= count) {
    format(error, capacity,
           "no CUDA device %ld: the driver sees %d GPU%s (SINTER_CUDA_DEVICE "
           "chooses one)",
           ordinal, count, count == 1 ? "" : "s");
    return -1;
  }
  if (check(driver.cuDeviceGet(&device, (int)ordinal), "cuDeviceGet", error,
            capacity) != 0 ||
      check(driver.cuDeviceGetName(device_name, sizeof device_name, device),
            "cuDeviceGetName", error, capacity) != 0 ||
      check(driver.cuDeviceGetAttribute(
                &device_major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR,
                device),
            "cuDeviceGetAttribute", error, capacity) != 0 ||
      check(driver.cuDeviceGetAttribute(
                &device_minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR,
                device),
            "cuDeviceGetAttribute", error, capacity) != 0 ||
      check(driver.cuDevicePrimaryCtxRetain(&context, device),
            "cuDevicePrimaryCtxRetain", error, capacity) != 0 ||
      check(driver.cuCtxSetCurrent(context), "cuCtxSetCurrent", error,
            capacity) != 0 ||
      check(driver.cuStreamCreate(&stream, CU_STREAM_NON_BLOCKING),
            "cuStreamCreate", error, capacity) != 0)
    return -1;
  return 0;
}

int sinter_cuda_open(int major, int minor, char *error, size_t capacity) {
  pthread_mutex_lock(&open_lock);
  int status = 0;
  if (!opened) {
    status = open_device(error, capacity);
    /* A failure is final for the process: the driver does not recover
     * from a failed cuInit either. */
    opened = status == 0 ? 1 : -1;
    if (status != 0)
      format(open_error, sizeof open_error, "%s", error);
  } else if (opened < 0) {
    format(error, capacity, "%s", open_error);
    status = -1;
  }
  pthread_mutex_unlock(&open_lock);
  if (status != 0)
    return -1;
  if (device_major < major || (device_major == major && device_minor < minor)) {
    format(error, capacity,
           "the model's kernels are compiled for sm_%d%d, and the GPU (%s) "
           "is sm_%d%d: compile it with --gpu-arch=sm_%d%d",
           major, minor, device_name, device_major, device_minor,
           device_major, device_minor);
    return -1;
  }
  return check(driver.cuCtxSetCurrent(context), "cuCtxSetCurrent", error,
               capacity);
}

int sinter_cuda_alloc(uint64_t *pointer, size_t bytes, char *error,
                      size_t capacity) {
  /* cuMemAlloc refuses 0 bytes; an empty buffer still gets an address. */
  return check(driver.cuMemAlloc(pointer, bytes ? bytes : 1), "cuMemAlloc",
               error, capacity);
}

void sinter_cuda_free(uint64_t pointer) {
  if (pointer && driver.cuMemFree)
    driver.cuMemFree(pointer);
}

int sinter_cuda_upload(uint64_t target, const void *source, size_t bytes,
                       char *error, size_t capacity) {
  if (bytes == 0)
    return 0;
  return check(driver.cuMemcpyHtoD(target, source, bytes), "cuMemcpyHtoD",
               error, capacity);
}

int sinter_cuda_begin_run(char *error, size_t capacity) {
  pthread_mutex_lock(&run_lock);
  run_failed = 0;
  run_error[0] = '\0';
  if (check(driver.cuCtxSetCurrent(context), "cuCtxSetCurrent", error,
            capacity) != 0) {
    pthread_mutex_unlock(&run_lock);
    return -1;
  }
  return 0;
}

void sinter_cuda_copy_to_device(uint64_t target, const void *source,
                                size_t bytes) {
  if (!run_failed && bytes)
    run_check(driver.cuMemcpyHtoDAsync(target, source, bytes, stream),
              "cuMemcpyHtoDAsync");
}

void sinter_cuda_copy_to_host(void *target, uint64_t source, size_t bytes) {
  if (!run_failed && bytes)
    run_check(driver.cuMemcpyDtoHAsync(target, source, bytes, stream),
              "cuMemcpyDtoHAsync");
}

int sinter_cuda_end_run(char *error, size_t capacity) {
  /* Waited for even after a failure: the copies must not outlive the run. */
  CUresult synced = driver.cuStreamSynchronize(stream);
  if (!run_failed)
    run_check(synced, "cuStreamSynchronize (the model's kernels)");
  int status = run_failed ? -1 : 0;
  if (run_failed)
    format(error, capacity, "%s", run_error);
  pthread_mutex_unlock(&run_lock);
  return status;
}

/*===--- What the generated host code calls --------------------------------===*
 *
 * The names and signatures are those that MLIR's --gpu-to-llvm emits. They
 * run inside sinter_cuda_begin_run/end_run, on the run's thread. */

/* A GPU module of the model: registered when the model's library is loaded
 * (a constructor the lowering emits), compiled by the driver at first use. */
typedef struct kernel_module {
  const char *ptx;
  CUmodule module;
} kernel_module;

void *mgpuModuleLoadJIT(void *data, int opt_level);
void mgpuModuleUnload(void *module);
void *mgpuModuleGetFunction(void *module, const char *name);
void *mgpuStreamCreate(void);
void mgpuStreamDestroy(void *stream);
void mgpuStreamSynchronize(void *stream);
void mgpuLaunchKernel(void *function, intptr_t grid_x, intptr_t grid_y,
                      intptr_t grid_z, intptr_t block_x, intptr_t block_y,
                      intptr_t block_z, int32_t shared_memory, void *stream,
                      void **params, void **extra, size_t param_count);
void *mgpuMemAlloc(uint64_t bytes, void *stream, _Bool host_shared);
void mgpuMemFree(void *pointer, void *stream);

void *mgpuModuleLoadJIT(void *data, int opt_level) {
  (void)opt_level; /* The PTX was optimized when it was generated. */
  kernel_module *module = calloc(1, sizeof *module);
  if (module)
    module->ptx = data;
  return module;
}

void mgpuModuleUnload(void *handle) {
  kernel_module *module = handle;
  /* When the model's library is unloaded. At process exit the driver may
   * be shut down already: the call then fails, and the module went with
   * the context anyway. */
  if (module && module->module && driver.cuModuleUnload)
    driver.cuModuleUnload(module->module);
  free(module);
}

void *mgpuModuleGetFunction(void *handle, const char *name) {
  kernel_module *module = handle;
  if (run_failed)
    return NULL;
  if (!module) {
    run_failed = 1;
    format(run_error, sizeof run_error,
           "out of memory registering the model's GPU kernels");
    return NULL;
  }
  if (!module->module) {
    char log[4096] = "";
    int options[] = {CU_JIT_ERROR_LOG_BUFFER,
                     CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
    void *values[] = {log, (void *)(uintptr_t)sizeof log};
    CUresult result = driver.cuModuleLoadDataEx(&module->module, module->ptx,
                                                2, options, values);
    if (result != CUDA_SUCCESS) {
      describe(result, "cuModuleLoadDataEx (the model's PTX)", run_error,
               sizeof run_error);
      size_t used = strlen(run_error);
      if (log[0] && used + 2 < sizeof run_error)
        format(run_error + used, sizeof run_error - used, ": %s", log);
      run_failed = 1;
      module->module = NULL;
      return NULL;
    }
  }
  CUfunction function = NULL;
  char call[160];
  format(call, sizeof call, "cuModuleGetFunction (%s)", name);
  if (run_check(driver.cuModuleGetFunction(&function, module->module, name),
                call) != 0)
    return NULL;
  return function;
}

/* Every launch of a run goes to the run's stream, in program order; host
 * code never reads device memory between launches, so nothing waits until
 * sinter_cuda_end_run. */
void *mgpuStreamCreate(void) { return stream; }
void mgpuStreamDestroy(void *unused) { (void)unused; }
void mgpuStreamSynchronize(void *unused) { (void)unused; }

void mgpuLaunchKernel(void *function, intptr_t grid_x, intptr_t grid_y,
                      intptr_t grid_z, intptr_t block_x, intptr_t block_y,
                      intptr_t block_z, int32_t shared_memory, void *unused,
                      void **params, void **extra, size_t param_count) {
  (void)unused;
  (void)param_count;
  if (run_failed || !function)
    return;
  run_check(driver.cuLaunchKernel(function, (unsigned)grid_x,
                                  (unsigned)grid_y, (unsigned)grid_z,
                                  (unsigned)block_x, (unsigned)block_y,
                                  (unsigned)block_z, (unsigned)shared_memory,
                                  stream, params, extra),
            "cuLaunchKernel");
}

/* Buffers that the arena does not hold (dynamic sizes without bounds):
 * stream-ordered, so a buffer is freed after the kernels before it. */
void *mgpuMemAlloc(uint64_t bytes, void *unused, _Bool host_shared) {
  (void)unused;
  (void)host_shared;
  CUdeviceptr pointer = 0;
  if (run_failed)
    return NULL;
  run_check(driver.cuMemAllocAsync(&pointer, bytes ? bytes : 1, stream),
            "cuMemAllocAsync");
  return (void *)(uintptr_t)pointer;
}

void mgpuMemFree(void *pointer, void *unused) {
  (void)unused;
  if (pointer && !run_failed)
    run_check(driver.cuMemFreeAsync((CUdeviceptr)(uintptr_t)pointer, stream),
              "cuMemFreeAsync");
}
