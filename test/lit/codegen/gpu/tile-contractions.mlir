// RUN: sinter-opt %s --split-input-file --sinter-tile-contractions-for-gpu=precision=tf32 --cse | FileCheck %s --check-prefixes=CHECK,TF32
// RUN: sinter-opt %s --split-input-file --sinter-tile-contractions-for-gpu --cse | FileCheck %s --check-prefixes=CHECK,TF32X3
// RUN: sinter-opt %s --split-input-file --sinter-tile-contractions-for-gpu=precision=bf16 --cse | FileCheck %s --check-prefixes=CHECK,BF16
// RUN: sinter-opt %s --split-input-file --sinter-tile-contractions-for-gpu=precision=fp32 --cse | FileCheck %s --check-prefixes=CHECK,FP32
// RUN: not sinter-opt %s --split-input-file --sinter-tile-contractions-for-gpu=precision=fp16 2>&1 | FileCheck %s --check-prefix=BAD

// BAD: precision must be fp32, tf32, tf32x3 or bf16, got 'fp16'

#x = affine_map<(m, n, k) -> (m, k)>
#w = affine_map<(m, n, k) -> (n, k)>
#y = affine_map<(m, n, k) -> (m, n)>

// A linear layer (weight [N, K]) with a dynamic number of rows: one
// launch of 128-thread blocks, ceil(M / 64) (at least 1) by ceil(80 / 64)
// blocks, two shared tiles of 64 rows of 16 words and 4 of padding; the
// accumulators start from C (the bias or zeros) within its bounds, the
// reduced dimension runs in slices of 16 words between barriers, and each
// slice is 2 k-steps of 2 x 4 mma.sync per warp (TF32 m16n8k8, BF16
// m16n8k16; three times as many in tf32x3, which also stages each value's
// remainder) or 2 x 8 x 32 FMAs.
// CHECK-LABEL: func.func @linear
// CHECK:       %[[M:.*]] = memref.dim %{{.*}}, %{{.*}} : memref<?x96xf32>
// CHECK-DAG:   %[[C1:.*]] = arith.constant 1 : index
// CHECK-DAG:   %[[C2:.*]] = arith.constant 2 : index
// CHECK-DAG:   %[[C128:.*]] = arith.constant 128 : index
// CHECK-DAG:   %[[TILES:.*]] = arith.ceildivui %[[M]], %{{.*}}
// CHECK-DAG:   %[[GX:.*]] = arith.maxui %[[TILES]], %[[C1]]
// CHECK:       gpu.launch blocks({{.*}}) in ({{.*}} = %[[GX]], {{.*}} = %[[C2]], {{.*}} = %[[C1]]) threads({{.*}}) in ({{.*}} = %[[C128]], {{.*}} = %[[C1]], {{.*}} = %[[C1]]) module(@sinter_kernels)
// TF32-SAME:     workgroup(%[[SA:.*]] : memref<64x20xi32, #gpu.address_space<workgroup>>, %[[SB:.*]] : memref<64x20xi32, #gpu.address_space<workgroup>>)
// TF32X3-SAME:   workgroup(%[[SA:.*]] : memref<64x20xi32, #gpu.address_space<workgroup>>, %[[SB:.*]] : memref<64x20xi32, #gpu.address_space<workgroup>>, %[[LA:.*]] : memref<64x20xi32, #gpu.address_space<workgroup>>, %[[LB:.*]] : memref<64x20xi32, #gpu.address_space<workgroup>>)
// BF16-SAME:     workgroup(%[[SA:.*]] : memref<64x20xi32, #gpu.address_space<workgroup>>, %[[SB:.*]] : memref<64x20xi32, #gpu.address_space<workgroup>>)
// FP32-SAME:     workgroup(%[[SA:.*]] : memref<64x20xf32, #gpu.address_space<workgroup>>, %[[SB:.*]] : memref<64x20xf32, #gpu.address_space<workgroup>>)
// CHECK:         scf.if %{{.*}} -> (f32) {
// CHECK-NEXT:      memref.load %{{.*}} : memref<?x80xf32>
// TF32:          scf.for %{{.*}} = %{{.*}} to %{{.*}} step %{{.*}} iter_args({{.*}}) -> (f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32) {
// TF32:            memref.load %{{.*}} : memref<?x96xf32>
// TF32:            nvvm.convert.float.to.tf32 %{{.*}} {rnd = #nvvm.fp_rnd_mode<rna>}
// TF32:            memref.store %{{.*}}, %[[SA]]
// TF32:            memref.load %{{.*}} : memref<80x96xf32>
// TF32:            memref.store %{{.*}}, %[[SB]]
// TF32:            gpu.barrier
// TF32-COUNT-16:   nvvm.mma.sync {{.*}}multiplicandAPtxType = #nvvm.mma_type<tf32>, multiplicandBPtxType = #nvvm.mma_type<tf32>, shape = #nvvm.shape<m = 16, n = 8, k = 8>
// TF32-NOT:        nvvm.mma.sync
// TF32:            gpu.barrier
// TF32-NEXT:       scf.yield
// TF32X3:          %[[HI:.*]] = nvvm.convert.float.to.tf32 %[[X:.*]] {rnd = #nvvm.fp_rnd_mode<rna>}
// TF32X3-NEXT:     memref.store %[[HI]], %[[SA]]
// TF32X3-NEXT:     %[[HIF:.*]] = arith.bitcast %[[HI]] : i32 to f32
// TF32X3-NEXT:     %[[REST:.*]] = arith.subf %[[X]], %[[HIF]] : f32
// TF32X3-NEXT:     %[[LO:.*]] = nvvm.convert.float.to.tf32 %[[REST]] {rnd = #nvvm.fp_rnd_mode<rna>}
// TF32X3-NEXT:     memref.store %[[LO]], %[[LA]]
// TF32X3:          gpu.barrier
// TF32X3-COUNT-48: nvvm.mma.sync {{.*}}multiplicandAPtxType = #nvvm.mma_type<tf32>, multiplicandBPtxType = #nvvm.mma_type<tf32>, shape = #nvvm.shape<m = 16, n = 8, k = 8>
// TF32X3-NOT:      nvvm.mma.sync
// TF32X3:          gpu.barrier
// BF16:            arith.truncf %{{.*}} : f32 to bf16
// BF16:            arith.shli
// BF16:            arith.ori
// BF16:            memref.store %{{.*}}, %[[SA]]
// BF16:            gpu.barrier
// BF16-COUNT-16:   nvvm.mma.sync {{.*}}multiplicandAPtxType = #nvvm.mma_type<bf16>, multiplicandBPtxType = #nvvm.mma_type<bf16>, shape = #nvvm.shape<m = 16, n = 8, k = 16>
// FP32:            gpu.barrier
// FP32-COUNT-512:  math.fma
// FP32-NOT:        math.fma
// FP32:            gpu.barrier
// FP32-NOT:        nvvm.mma.sync
// CHECK:         scf.if %{{.*}} {
// CHECK-NEXT:      memref.store %{{.*}} : memref<?x80xf32>
// CHECK:         gpu.terminator
// CHECK-NOT:   linalg.generic
func.func @linear(%x: memref<?x96xf32>, %w: memref<80x96xf32>, %y: memref<?x80xf32>) {
  linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x, %w : memref<?x96xf32>, memref<80x96xf32>) outs(%y : memref<?x80xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %0 = arith.mulf %a, %b : f32
    %1 = arith.addf %acc, %0 : f32
    linalg.yield %1 : f32
  }
  return
}

// -----

#q = affine_map<(b, h, i, j, d) -> (b, h, i, d)>
#k = affine_map<(b, h, i, j, d) -> (b, h floordiv 2, j, d)>
#s = affine_map<(b, h, i, j, d) -> (b, h, i, j)>

// Grouped-query attention's scores, product then sum in the other order:
// the rows of Q (i, only in Q) by the rows of K (j, only in K), batch
// b and h over block x with the row tiles, the shared K head an
// expression of h.
// CHECK-LABEL: func.func @gqa_scores
// CHECK:       %[[ROWS:.*]] = memref.dim %{{.*}}, %{{.*}} : memref<1x4x?x16xf32>
// CHECK:       %[[TILES:.*]] = arith.ceildivui %[[ROWS]], %{{.*}}
// CHECK:       %[[BLOCKS:.*]] = arith.muli %[[TILES]], %{{.*}}
// CHECK:       gpu.launch
// CHECK:         affine.apply #{{.*}}()[%[[H:.*]]]
// CHECK:         memref.load %{{.*}}[%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}] : memref<1x2x?x16xf32>
// CHECK-NOT:   linalg.generic
func.func @gqa_scores(%q: memref<1x4x?x16xf32>, %k: memref<1x2x?x16xf32>, %s: memref<1x4x?x?xf32>) {
  linalg.generic {indexing_maps = [#q, #k, #s], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%q, %k : memref<1x4x?x16xf32>, memref<1x2x?x16xf32>) outs(%s : memref<1x4x?x?xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %0 = arith.mulf %a, %b : f32
    %1 = arith.addf %0, %acc : f32
    linalg.yield %1 : f32
  }
  return
}

// -----

#a = affine_map<(m, n, k) -> (m, k)>
#b = affine_map<(m, n, k) -> (k, n)>
#c = affine_map<(m, n, k) -> (m, n)>
#sum = affine_map<(m, k) -> (m, k)>
#row = affine_map<(m, k) -> (m)>

// Not contractions of f32 by f32 into f32 with one reduced dimension and
// a product-sum body: left to --sinter-map-to-gpu.
// CHECK-LABEL: func.func @not_contractions
// CHECK-NOT:   gpu.launch
// CHECK-COUNT-4: linalg.generic
// CHECK-NOT:   gpu.launch
func.func @not_contractions(%a: memref<8x8xf32>, %b: memref<8x8xf32>, %c: memref<8x8xf32>,
                            %ai: memref<8x8xi32>, %bi: memref<8x8xi32>, %ci: memref<8x8xi32>,
                            %r: memref<8xf32>) {
  // Integers.
  linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%ai, %bi : memref<8x8xi32>, memref<8x8xi32>) outs(%ci : memref<8x8xi32>) {
  ^bb0(%x: i32, %y: i32, %acc: i32):
    %0 = arith.muli %x, %y : i32
    %1 = arith.addi %acc, %0 : i32
    linalg.yield %1 : i32
  }
  // A product of differences.
  linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<8x8xf32>, memref<8x8xf32>) outs(%c : memref<8x8xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %0 = arith.subf %x, %y : f32
    %1 = arith.mulf %0, %0 : f32
    %2 = arith.addf %acc, %1 : f32
    linalg.yield %2 : f32
  }
  // A maximum.
  linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<8x8xf32>, memref<8x8xf32>) outs(%c : memref<8x8xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %0 = arith.mulf %x, %y : f32
    %1 = arith.maximumf %acc, %0 : f32
    linalg.yield %1 : f32
  }
  // A row sum: no n dimension.
  linalg.generic {indexing_maps = [#sum, #row], iterator_types = ["parallel", "reduction"]}
      ins(%a : memref<8x8xf32>) outs(%r : memref<8xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %0 = arith.addf %acc, %x : f32
    linalg.yield %0 : f32
  }
  return
}
