/*===- cpu.c - Which vector extension the kernels run with -----------------===*/
#include "cpu.h"

#include <cpuid.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* CPUID for the features, XGETBV for the OS saving the vector registers.
 * Read here rather than with GCC's target_clones, whose resolver needs
 * libgcc's __cpu_model, which model.so does not link. */
static sinter_isa query_isa(void) {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d))
    return SINTER_ISA_BASELINE;
  int osxsave = (c >> 27) & 1, fma = (c >> 12) & 1;
  if (!osxsave || !fma || __get_cpuid_max(0, 0) < 7)
    return SINTER_ISA_BASELINE;
  unsigned xcr0_lo, xcr0_hi;
  __asm__("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
  __cpuid_count(7, 0, a, b, c, d);
  int ymm = (xcr0_lo & 0x6) == 0x6, zmm = (xcr0_lo & 0xe6) == 0xe6;
  int avx2 = (b >> 5) & 1, avx512f = (b >> 16) & 1, avx512vl = (b >> 31) & 1;
  if (zmm && avx512f && avx512vl && avx2)
    return SINTER_ISA_AVX512;
  if (ymm && avx2)
    return SINTER_ISA_AVX2;
  return SINTER_ISA_BASELINE;
}

/* SINTER_ISA=baseline|avx2|avx512 caps the extension (to test or time a
 * narrower variant on a wider CPU); anything else is ignored. */
static sinter_isa capped(sinter_isa isa) {
  const char *cap = getenv("SINTER_ISA");
  sinter_isa limit = isa;
  if (!cap)
    return isa;
  if (strcmp(cap, "baseline") == 0)
    limit = SINTER_ISA_BASELINE;
  else if (strcmp(cap, "avx2") == 0)
    limit = SINTER_ISA_AVX2;
  return limit < isa ? limit : isa;
}

/* Cached: CPUID traps to the hypervisor in a virtual machine, which every
 * kernel call of every run should not pay for. Threads that race here
 * store the same value. */
sinter_isa sinter_detect_isa(void) {
  static atomic_int cached = -1;
  int isa = atomic_load_explicit(&cached, memory_order_relaxed);
  if (isa < 0) {
    isa = (int)capped(query_isa());
    atomic_store_explicit(&cached, isa, memory_order_relaxed);
  }
  return (sinter_isa)isa;
}

int sinter_has_avx512_vnni(void) {
  static atomic_int cached = -1;
  int vnni = atomic_load_explicit(&cached, memory_order_relaxed);
  if (vnni < 0) {
    unsigned a, b, c, d;
    vnni = sinter_detect_isa() == SINTER_ISA_AVX512 &&
           __get_cpuid_count(7, 0, &a, &b, &c, &d) && ((c >> 11) & 1) &&
           ((b >> 30) & 1); /* AVX512_VNNI and AVX512BW */
    atomic_store_explicit(&cached, vnni, memory_order_relaxed);
  }
  return vnni;
}
