/* The int8 multiply-add peak of one core with the instructions the W8A8
 * kernel's inner loops are made of (runtime/src/int8/):
 * - AVX2: vpmaddwd multiplies 16 pairs of int16 and adds each pair into an
 *   int32, vpaddd accumulates;
 * - AVX-512 VNNI (where present): vpdpbusd multiplies 64 pairs of bytes and
 *   adds each group of 4 into an int32 accumulator.
 * Twelve independent accumulators, registers only (written in assembly, as
 * the kernel is, so that the compiler neither spills nor hoists). Prints
 * GMAC/s (int8 x int8 multiply-adds) of the best instruction and of each,
 * the best of 5 runs.
 *
 *   cc -O2 bench/limits/int8_peak.c -o int8_peak && ./int8_peak
 */
#include <stdio.h>
#include <time.h>

static double seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

#define STEP(j)                                                                \
  "vpmaddwd %%ymm12, %%ymm13, %%ymm14\n\t"                                     \
  "vpaddd %%ymm14, %%ymm" #j ", %%ymm" #j "\n\t"

__attribute__((target("avx2"))) static double run(long iterations) {
  double start = seconds();
  __asm__ volatile("vpxor %%xmm12, %%xmm12, %%xmm12\n\t"
                   "vpcmpeqd %%ymm13, %%ymm13, %%ymm13\n\t"
                   "1:\n\t" STEP(0) STEP(1) STEP(2) STEP(3) STEP(4) STEP(5)
                       STEP(6) STEP(7) STEP(8) STEP(9) STEP(10) STEP(11)
                   "dec %0\n\t"
                   "jnz 1b\n\t"
                   : "+r"(iterations)
                   :
                   : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6",
                     "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12",
                     "xmm13", "xmm14", "cc");
  return seconds() - start;
}

#define DOT(j) "vpdpbusd %%zmm12, %%zmm13, %%zmm" #j "\n\t"

__attribute__((target("avx512f,avx512vnni"))) static double
run_vnni(long iterations) {
  double start = seconds();
  __asm__ volatile("vpxord %%zmm12, %%zmm12, %%zmm12\n\t"
                   "vpternlogd $0xff, %%zmm13, %%zmm13, %%zmm13\n\t"
                   "1:\n\t" DOT(0) DOT(1) DOT(2) DOT(3) DOT(4) DOT(5) DOT(6)
                       DOT(7) DOT(8) DOT(9) DOT(10) DOT(11)
                   "dec %0\n\t"
                   "jnz 1b\n\t"
                   : "+r"(iterations)
                   :
                   : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6",
                     "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12",
                     "xmm13", "cc");
  return seconds() - start;
}

int main(void) {
  if (!__builtin_cpu_supports("avx2")) {
    printf("0 GMAC/s int8 (no AVX2)\n");
    return 0;
  }
  const long iterations = 50000000;
  double madd = 0.0, dot = 0.0;
  const int vnni = __builtin_cpu_supports("avx512vnni");
  for (int r = 0; r < 5; ++r) {
    /* 12 vpmaddwd of 16 int16 pairs each: 12 x 16 multiply-adds. */
    double rate = (double)iterations * 12 * 16 / run(iterations) / 1e9;
    madd = rate > madd ? rate : madd;
    if (vnni) {
      /* 12 vpdpbusd of 64 byte pairs each. */
      rate = (double)iterations * 12 * 64 / run_vnni(iterations) / 1e9;
      dot = rate > dot ? rate : dot;
    }
  }
  printf("%.1f GMAC/s int8 (best); vpmaddwd + vpaddd %.1f, vpdpbusd %.1f\n",
         madd > dot ? madd : dot, madd, dot);
  return 0;
}
