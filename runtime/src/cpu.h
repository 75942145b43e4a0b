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

/* The widest extension usable here, detected on the first call. */
sinter_isa sinter_detect_isa(void);

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

#endif /* SINTER_RUNTIME_SRC_CPU_H */
