/*===- gpu_emulator.c - Runs a CUDA model's kernels on the CPU, for tests ---===*
 *
 * The other half of the emulated GPU (emulated_gpu.py): a model's kernels,
 * compiled from their LLVM IR (sinterc --emit=nvvm) for this CPU with each
 * NVVM intrinsic renamed to an emu_* function below, are linked with this
 * file into a shared library that the fake driver (fake_cuda_driver.c)
 * loads and launches through emu_run.
 *
 * A launch runs its blocks one after the other; the threads of a block are
 * coroutines (ucontext) on one OS thread, each run until it finishes or
 * waits: at a block barrier (bar.sync) until every thread of the block that
 * has not finished arrives, and inside a warp-wide mma.sync until the 32
 * lanes of its warp have handed over their fragments. Shared memory is a
 * global of the kernel library: blocks do not overlap in time.
 *
 * mma.sync is computed from the fragment layouts of the PTX ISA ("Matrix
 * fragments for mma.m16n8k8" with .tf32, "for mma.m16n8k16" with .bf16):
 * lane 4g + t holds A's rows g and g + 8 at k-words t and t + 4, B's column
 * g at k-words t and t + 4, and C's rows g and g + 8 at columns 2t, 2t + 1,
 * where a k-word is one TF32 value or two BF16 values (the lower k in the
 * low half). Products are summed in double, as exactly as the hardware
 * allows or better.
 *
 *===-----------------------------------------------------------------------===*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>

enum thread_state { READY, WAITING_BLOCK, WAITING_WARP, FINISHED };

typedef struct emu_thread {
  ucontext_t context;
  char *stack;
  enum thread_state state;
  unsigned id[3];
} emu_thread;

enum { kMaxThreads = 1024, kStackBytes = 256 * 1024, kWarp = 32 };

static emu_thread threads[kMaxThreads];
static unsigned thread_count, current;
static unsigned block_id[3], block_dim[3], grid_dim[3];
static ucontext_t scheduler;
static void (*running_entry)(void **);
static void **running_params;

/* What each lane of a warp hands over to mma.sync (C stays with the lane). */
static struct {
  uint32_t a[4], b[2];
} lanes[kMaxThreads];

/* The special registers. */
unsigned emu_tid_x(void) { return threads[current].id[0]; }
unsigned emu_tid_y(void) { return threads[current].id[1]; }
unsigned emu_tid_z(void) { return threads[current].id[2]; }
unsigned emu_ctaid_x(void) { return block_id[0]; }
unsigned emu_ctaid_y(void) { return block_id[1]; }
unsigned emu_ctaid_z(void) { return block_id[2]; }
unsigned emu_ntid_x(void) { return block_dim[0]; }
unsigned emu_ntid_y(void) { return block_dim[1]; }
unsigned emu_ntid_z(void) { return block_dim[2]; }
unsigned emu_nctaid_x(void) { return grid_dim[0]; }
unsigned emu_nctaid_y(void) { return grid_dim[1]; }
unsigned emu_nctaid_z(void) { return grid_dim[2]; }

static void wait_as(enum thread_state state) {
  emu_thread *self = &threads[current];
  self->state = state;
  swapcontext(&self->context, &scheduler);
}

/* bar.sync 0 (barrier.cta.sync.aligned.all). */
void emu_barrier(int id) {
  (void)id;
  wait_as(WAITING_BLOCK);
}

/* cvt.rna.tf32.f32: to 10 mantissa bits, to nearest, ties away from zero. */
uint32_t emu_f2tf32_rna(float x) {
  uint32_t bits;
  memcpy(&bits, &x, sizeof bits);
  if ((bits & 0x7f800000u) == 0x7f800000u) /* inf, nan */
    return bits;
  return (bits + 0x1000u) & 0xffffe000u;
}

/* cvt.rn.bf16.f32 (LLVM's fptrunc to bfloat, a compiler-rt call on the
 * CPU): to 8 mantissa bits, to nearest, ties to even. */
__bf16 __truncsfbf2(float x) {
  uint32_t bits;
  memcpy(&bits, &x, sizeof bits);
  uint16_t half;
  if ((bits & 0x7fffffffu) > 0x7f800000u) /* nan: stays one */
    half = (uint16_t)((bits >> 16) | 0x40u);
  else
    half = (uint16_t)((bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16);
  __bf16 result;
  memcpy(&result, &half, sizeof result);
  return result;
}

static float word_as_tf32(uint32_t word) {
  float x;
  memcpy(&x, &word, sizeof x);
  return x;
}
static float half_as_bf16(uint32_t word, unsigned half) {
  uint32_t bits = ((word >> (16 * half)) & 0xffffu) << 16;
  float x;
  memcpy(&x, &bits, sizeof x);
  return x;
}

/* A's element (row, k) and B's element (k, column) of the warp's fragments;
 * `bf16`: two values per k-word. */
static float fragment_a(unsigned warp, int bf16, unsigned row, unsigned k) {
  unsigned word = bf16 ? k / 2 : k;
  unsigned lane = (row % 8) * 4 + word % 4;
  unsigned reg = (row >= 8 ? 1 : 0) + (word >= 4 ? 2 : 0);
  uint32_t value = lanes[warp * kWarp + lane].a[reg];
  return bf16 ? half_as_bf16(value, k % 2) : word_as_tf32(value);
}
static float fragment_b(unsigned warp, int bf16, unsigned k, unsigned col) {
  unsigned word = bf16 ? k / 2 : k;
  unsigned lane = col * 4 + word % 4;
  unsigned reg = word >= 4 ? 1 : 0;
  uint32_t value = lanes[warp * kWarp + lane].b[reg];
  return bf16 ? half_as_bf16(value, k % 2) : word_as_tf32(value);
}

/* mma.sync.aligned.m16n8k8.row.col.f32.tf32 (bf16 = 0) and
 * m16n8k16.row.col.f32.bf16 (bf16 = 1): D = A B + C for the calling lane's
 * four elements of D, from its registers a0..a3, b0, b1, c0..c3. */
void emu_mma(float d[4], int bf16, uint32_t a0, uint32_t a1, uint32_t a2,
             uint32_t a3, uint32_t b0, uint32_t b1, float c0, float c1,
             float c2, float c3) {
  unsigned warp = current / kWarp, lane = current % kWarp;
  const float c[4] = {c0, c1, c2, c3};
  lanes[current].a[0] = a0;
  lanes[current].a[1] = a1;
  lanes[current].a[2] = a2;
  lanes[current].a[3] = a3;
  lanes[current].b[0] = b0;
  lanes[current].b[1] = b1;
  wait_as(WAITING_WARP); /* every lane has handed over its fragments */
  unsigned g = lane / 4, t = lane % 4, depth = bf16 ? 16 : 8;
  for (unsigned r = 0; r < 4; ++r) {
    unsigned row = g + 8 * (r / 2), col = 2 * t + r % 2;
    double sum = c[r];
    for (unsigned k = 0; k < depth; ++k)
      sum += (double)fragment_a(warp, bf16, row, k) *
             fragment_b(warp, bf16, k, col);
    d[r] = (float)sum;
  }
  wait_as(WAITING_WARP); /* every lane has read them: they may change */
}

static void thread_main(void) {
  running_entry(running_params);
  threads[current].state = FINISHED;
  swapcontext(&threads[current].context, &scheduler);
}

/* Releases the threads waiting at a barrier that everyone concerned has
 * reached; returns how many. */
static unsigned release(void) {
  unsigned released = 0;
  /* Warps whose unfinished lanes all wait inside mma.sync. */
  for (unsigned first = 0; first < thread_count; first += kWarp) {
    unsigned end = first + kWarp < thread_count ? first + kWarp : thread_count;
    int all = 1, any = 0;
    for (unsigned i = first; i < end; ++i) {
      all &= threads[i].state == WAITING_WARP ||
             threads[i].state == FINISHED;
      any |= threads[i].state == WAITING_WARP;
    }
    if (all && any)
      for (unsigned i = first; i < end; ++i)
        if (threads[i].state == WAITING_WARP) {
          threads[i].state = READY;
          ++released;
        }
  }
  if (released)
    return released;
  /* The block barrier. */
  int all = 1, any = 0;
  for (unsigned i = 0; i < thread_count; ++i) {
    all &= threads[i].state == WAITING_BLOCK || threads[i].state == FINISHED;
    any |= threads[i].state == WAITING_BLOCK;
  }
  if (all && any)
    for (unsigned i = 0; i < thread_count; ++i)
      if (threads[i].state == WAITING_BLOCK) {
        threads[i].state = READY;
        ++released;
      }
  return released;
}

/* Runs `entry` (the kernel, its parameters read from `params` as the driver
 * passes them) on a grid of blocks; 0, or -1 with a message on stderr. */
int emu_run(void (*entry)(void **), void **params, const unsigned grid[3],
            const unsigned block[3]) {
  thread_count = block[0] * block[1] * block[2];
  if (thread_count == 0 || thread_count > kMaxThreads) {
    fprintf(stderr, "gpu emulator: a block of %u threads\n", thread_count);
    return -1;
  }
  for (unsigned i = 0; i < thread_count; ++i)
    if (!threads[i].stack && !(threads[i].stack = malloc(kStackBytes))) {
      fprintf(stderr, "gpu emulator: out of memory for thread stacks\n");
      return -1;
    }
  memcpy(grid_dim, grid, sizeof grid_dim);
  memcpy(block_dim, block, sizeof block_dim);
  running_entry = entry;
  running_params = params;
  for (block_id[2] = 0; block_id[2] < grid[2]; ++block_id[2])
    for (block_id[1] = 0; block_id[1] < grid[1]; ++block_id[1])
      for (block_id[0] = 0; block_id[0] < grid[0]; ++block_id[0]) {
        for (unsigned i = 0; i < thread_count; ++i) {
          emu_thread *thread = &threads[i];
          thread->id[0] = i % block[0];
          thread->id[1] = i / block[0] % block[1];
          thread->id[2] = i / (block[0] * block[1]);
          thread->state = READY;
          getcontext(&thread->context);
          thread->context.uc_stack.ss_sp = thread->stack;
          thread->context.uc_stack.ss_size = kStackBytes;
          thread->context.uc_link = NULL;
          makecontext(&thread->context, thread_main, 0);
        }
        for (;;) {
          unsigned ran = 0, finished = 0;
          for (unsigned i = 0; i < thread_count; ++i) {
            if (threads[i].state != READY)
              continue;
            current = i;
            swapcontext(&scheduler, &threads[i].context);
            ++ran;
          }
          for (unsigned i = 0; i < thread_count; ++i)
            finished += threads[i].state == FINISHED;
          if (finished == thread_count)
            break;
          if (!release() && !ran) {
            fprintf(stderr,
                    "gpu emulator: block (%u, %u, %u) is stuck: its threads "
                    "wait at different barriers\n",
                    block_id[0], block_id[1], block_id[2]);
            return -1;
          }
        }
      }
  return 0;
}
