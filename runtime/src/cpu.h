/*===- cpu.h - Which vector extension the kernels run with -----------------===*
 *
 * The kernels are compiled several times (AVX-512, AVX2 + FMA, baseline
 * x86-64) with GCC's target attribute and pick one per call from what this
 * CPU and OS support. Internal to the runtime.
 *
 *===-----------------------------------------------------------------------===*/
#ifndef SINTER_RUNTIME_SRC_CPU_H
#define SINTER_RUNTIME_SRC_CPU_H

typedef enum sinter_isa {
  SINTER_ISA_BASELINE = 0,
  SINTER_ISA_AVX2 = 1,   /* AVX2 and FMA */
  SINTER_ISA_AVX512 = 2, /* AVX-512 F and VL, AVX2 and FMA */
} sinter_isa;

/* The widest extension usable here, detected on the first call (and
 * capped by the environment variable SINTER_ISA=baseline|avx2). */
sinter_isa sinter_detect_isa(void);

/* Whether the AVX-512 kernels may use VNNI's int8 dot products
 * (vpdpbusd): AVX-512 in use and AVX512_VNNI and AVX512BW present. */
int sinter_has_avx512_vnni(void);

/* Below this many multiply-adds (several microseconds of one core's work)
 * a kernel runs on the calling thread: waking the OpenMP team has a cost
 * of its own, and on a VM whose second vCPU is briefly taken every barrier
 * waits for it (tiny models at 2 threads ran several times slower with
 * lower thresholds, moe-tiny's expert products among them; the figures are
 * in bench/NOTES.md), so a region must save clearly more than it risks. */
#define SINTER_PARALLEL_WORK (1 << 21)

/* Defines name_avx512, name_avx2 and name_baseline, each a copy of the
 * always-inlined `name` compiled for that extension: `params` is the
 * parenthesized parameter list, `args` the same names as call arguments. */
#define SINTER_ISA_VARIANTS(name, params, args)                                \
  SINTER_TARGET_AVX512 static void name##_avx512 params { name args; }         \
  SINTER_TARGET_AVX2 static void name##_avx2 params { name args; }             \
  static void name##_baseline params { name args; }

/* The instantiation of kernel `name` (name_avx512, name_avx2,
 * name_baseline) for this CPU. */
#define SINTER_PICK_ISA(name)                                                  \
  (sinter_detect_isa() == SINTER_ISA_AVX512  ? name##_avx512                   \
   : sinter_detect_isa() == SINTER_ISA_AVX2 ? name##_avx2                      \
                                            : name##_baseline)

/* Inlined into each instantiation of a kernel, so that it is compiled for
 * that instantiation's vector extension. */
#define SINTER_INLINE static inline __attribute__((always_inline))
#define SINTER_TARGET_AVX512 __attribute__((target("avx512f,avx512vl,avx2,fma")))
#define SINTER_TARGET_AVX2 __attribute__((target("avx2,fma")))
#define SINTER_TARGET_AVX512_VNNI                                              \
  __attribute__((target("avx512f,avx512vl,avx512bw,avx512vnni,avx2,fma")))

#endif /* SINTER_RUNTIME_SRC_CPU_H */
