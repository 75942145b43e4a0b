/*===- cuda.h - The CUDA driver, loaded at run time ------------------------===*
 *
 * What session.c needs to run a model compiled with --target=cuda. The
 * driver (libcuda.so.1) is dlopen'ed on first use: nothing of CUDA is needed
 * to build or link the runtime, and a machine without a GPU gets an error
 * that says so. Every failure is reported as text that names the driver
 * call and its error (e.g. "cuMemAlloc: CUDA_ERROR_OUT_OF_MEMORY (out of
 * memory)").
 *
 * The generated host code of a CUDA model calls the mgpu* functions that
 * MLIR's GPU-to-LLVM lowering emits (module registration, kernel lookup,
 * launches, stream-ordered allocations); cuda.c implements them. Those
 * calls cannot return errors: the first failure of a run is kept and later
 * calls of the same run do nothing, and sinter_cuda_end_run reports it.
 *
 *===-----------------------------------------------------------------------===*/
#ifndef SINTER_RUNTIME_CUDA_H
#define SINTER_RUNTIME_CUDA_H

#include <stddef.h>
#include <stdint.h>

enum { kCudaErrorCapacity = 512 };

/* Loads the driver (SINTER_CUDA_DRIVER, else libcuda.so.1), initializes it
 * and makes the primary context of device SINTER_CUDA_DEVICE (else 0)
 * current on the calling thread. The device must have at least compute
 * capability `major`.`minor` (the PTX's architecture). Returns 0, or -1 with
 * a message in `error`. */
int sinter_cuda_open(int major, int minor, char *error, size_t capacity);

/* Device memory (the context of sinter_cuda_open current). */
int sinter_cuda_alloc(uint64_t *pointer, size_t bytes, char *error,
                      size_t capacity);
void sinter_cuda_free(uint64_t pointer);
int sinter_cuda_upload(uint64_t target, const void *source, size_t bytes,
                       char *error, size_t capacity);

/* One run: sinter_cuda_begin_run takes the run lock (runs of
 * this model library's sessions are serialized; each model.so has its own
 * copy of this state) and clears the run's error; between it and
 * sinter_cuda_end_run the model's entry point launches its kernels, in
 * order, on one stream. Inputs are copied before, outputs after, on the
 * same stream. sinter_cuda_end_run waits for the stream, releases the lock
 * and returns 0, or -1 with the run's first failure in `error`. */
int sinter_cuda_begin_run(char *error, size_t capacity);
void sinter_cuda_copy_to_device(uint64_t target, const void *source,
                                size_t bytes);
void sinter_cuda_copy_to_host(void *target, uint64_t source, size_t bytes);
int sinter_cuda_end_run(char *error, size_t capacity);

#endif /* SINTER_RUNTIME_CUDA_H */
