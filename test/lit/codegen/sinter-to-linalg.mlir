// RUN: sinter-opt %s --convert-sinter-to-linalg -split-input-file | FileCheck %s

// Tests that broadcasting becomes indexing maps: the bias reads only d1,
// a static size-1 dimension reads index 0.
// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[ROW:.*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-DAG: #[[ONE:.*]] = affine_map<(d0, d1) -> (0, d1)>
// CHECK-LABEL: func @add_broadcast
// CHECK-SAME: (%[[X:.*]]: tensor<4x8xf32>, %[[B:.*]]: tensor<8xf32>, %[[R:.*]]: tensor<1x8xf32>)
// CHECK: %[[E:.*]] = tensor.empty() : tensor<4x8xf32>
// CHECK: %[[S:.*]] = linalg.generic {indexing_maps = [#[[ID]], #[[ROW]], #[[ID]]], iterator_types = ["parallel", "parallel"]} ins(%[[X]], %[[B]] : tensor<4x8xf32>, tensor<8xf32>) outs(%[[E]] : tensor<4x8xf32>)
// CHECK: arith.addf
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[ONE]], #[[ID]]]
// CHECK: arith.mulf
func.func @add_broadcast(%x: tensor<4x8xf32>, %b: tensor<8xf32>, %r: tensor<1x8xf32>) -> tensor<4x8xf32> {
  %0 = sinter.add %x, %b : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  %1 = sinter.mul %0, %r : (tensor<4x8xf32>, tensor<1x8xf32>) -> tensor<4x8xf32>
  return %1 : tensor<4x8xf32>
}

// -----

// Tests that a dynamic result size comes from the operand that has it.
// CHECK-LABEL: func @dynamic_sizes
// CHECK-SAME: (%[[X:.*]]: tensor<?x8xf32>
// CHECK: %[[C0:.*]] = arith.constant 0 : index
// CHECK: %[[N:.*]] = tensor.dim %[[X]], %[[C0]] : tensor<?x8xf32>
// CHECK: tensor.empty(%[[N]]) : tensor<?x8xi1>
// CHECK: arith.cmpf olt
func.func @dynamic_sizes(%x: tensor<?x8xf32>, %y: tensor<8xf32>) -> tensor<?x8xi1> {
  %0 = sinter.less %x, %y : (tensor<?x8xf32>, tensor<8xf32>) -> tensor<?x8xi1>
  return %0 : tensor<?x8xi1>
}

// -----

// Tests that matmul is one contraction with broadcast batch dimensions
// (the lhs batch of size 1 reads index 0) and a zero-filled accumulator.
// CHECK-DAG: #[[LHS:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (0, d1, d2, d4)>
// CHECK-DAG: #[[RHS:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d3)>
// CHECK-DAG: #[[OUT:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>
// CHECK-LABEL: func @matmul
// CHECK: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[ACC:.*]] = linalg.fill ins(%[[ZERO]] : f32)
// CHECK: linalg.generic {indexing_maps = [#[[LHS]], #[[RHS]], #[[OUT]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
// CHECK-SAME: outs(%[[ACC]] : tensor<2x4x8x16xf32>)
// CHECK: %[[P:.*]] = arith.mulf
// CHECK: arith.addf %{{.*}}, %[[P]]
func.func @matmul(%a: tensor<1x4x8x32xf32>, %b: tensor<2x4x32x16xf32>) -> tensor<2x4x8x16xf32> {
  %0 = sinter.matmul %a, %b : (tensor<1x4x8x32xf32>, tensor<2x4x32x16xf32>) -> tensor<2x4x8x16xf32>
  return %0 : tensor<2x4x8x16xf32>
}

// -----

// Tests that linear reads the PyTorch-layout weight as (n, k) and
// accumulates into the broadcast bias.
// CHECK-DAG: #[[IN:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[W:.*]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-DAG: #[[O:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-LABEL: func @linear
// CHECK-SAME: (%[[X:.*]]: tensor<4x16xf32>, %[[WT:.*]]: tensor<32x16xf32>, %[[BIAS:.*]]: tensor<32xf32>)
// CHECK: %[[INIT:.*]] = linalg.generic {{.*}} ins(%[[BIAS]] : tensor<32xf32>)
// CHECK: linalg.generic {indexing_maps = [#[[IN]], #[[W]], #[[O]]], iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[X]], %[[WT]] : tensor<4x16xf32>, tensor<32x16xf32>) outs(%[[INIT]] : tensor<4x32xf32>)
func.func @linear(%x: tensor<4x16xf32>, %w: tensor<32x16xf32>, %b: tensor<32xf32>) -> tensor<4x32xf32> {
  %0 = sinter.linear %x, %w, %b transpose_weight : (tensor<4x16xf32>, tensor<32x16xf32>, tensor<32xf32>) -> tensor<4x32xf32>
  return %0 : tensor<4x32xf32>
}

// -----

// Tests that reduce_mean sums into a keepdims result, then divides by the
// element count of the reduced axes (static here: 8).
// CHECK-DAG: #[[KEEP:.*]] = affine_map<(d0, d1) -> (d0, 0)>
// CHECK-LABEL: func @reduce_mean
// CHECK-DAG: %[[COUNT:.*]] = arith.constant 8.000000e+00 : f32
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[KEEP]]], iterator_types = ["parallel", "reduction"]}
// CHECK: arith.addf
// CHECK: arith.divf %{{.*}}, %[[COUNT]]
func.func @reduce_mean(%x: tensor<4x8xf32>) -> tensor<4x1xf32> {
  %0 = sinter.reduce_mean %x axes [1] keepdims : tensor<4x8xf32> -> tensor<4x1xf32>
  return %0 : tensor<4x1xf32>
}

// -----

// Tests that softmax is the stable form: max, exp(x - max), sum, divide.
// CHECK-LABEL: func @softmax
// CHECK: %[[NEGINF:.*]] = arith.constant 0xFF800000 : f32
// CHECK: linalg.fill ins(%[[NEGINF]] : f32)
// CHECK: arith.maximumf
// CHECK: arith.subf
// CHECK: math.exp
// CHECK: arith.addf
// CHECK: arith.divf
func.func @softmax(%x: tensor<2x16xf32>) -> tensor<2x16xf32> {
  %0 = sinter.softmax %x axis 1 : tensor<2x16xf32>
  return %0 : tensor<2x16xf32>
}

// -----

// Tests the data movement ops.
// CHECK-LABEL: func @movement
// CHECK-SAME: (%[[X:.*]]: tensor<1x?x64xf32>, %[[N:.*]]: index)
// CHECK: %[[SHAPE:.*]] = tensor.from_elements %{{.*}}, %[[N]], %{{.*}}, %{{.*}} : tensor<4xindex>
// CHECK: %[[R:.*]] = tensor.reshape %[[X]](%[[SHAPE]]) : (tensor<1x?x64xf32>, tensor<4xindex>) -> tensor<1x?x4x16xf32>
// CHECK: linalg.transpose ins(%[[R]] : tensor<1x?x4x16xf32>) outs(%{{.*}} : tensor<1x4x?x16xf32>) permutation = [0, 2, 1, 3]
// CHECK: tensor.extract_slice %[[X]][0, 0, 16] [1, %{{.*}}, 16] [1, 1, 2] : tensor<1x?x64xf32> to tensor<1x?x16xf32>
// CHECK: tensor.extract_slice %[[X]][0, 0, 0] [1, %{{.*}}, 16] [1, 1, 1]
// CHECK: tensor.extract_slice %[[X]][0, 0, 16] [1, %{{.*}}, 48] [1, 1, 1]
// CHECK: tensor.concat dim(2)
func.func @movement(%x: tensor<1x?x64xf32>, %n: index) -> (tensor<1x4x?x16xf32>, tensor<1x?x16xf32>, tensor<1x?x64xf32>) {
  %0 = sinter.reshape %x to [1, %n, 4, 16] : tensor<1x?x64xf32> -> tensor<1x?x4x16xf32>
  %1 = sinter.transpose %0 [0, 2, 1, 3] : tensor<1x?x4x16xf32> -> tensor<1x4x?x16xf32>
  %2 = sinter.slice %x starts [0, 0, 16] ends [1, 9223372036854775807, 48] steps [1, 1, 2] : tensor<1x?x64xf32> -> tensor<1x?x16xf32>
  %3:2 = sinter.split %x axis 2 sizes [16, 48] : tensor<1x?x64xf32> -> tensor<1x?x16xf32>, tensor<1x?x48xf32>
  %4 = sinter.concat %3#0, %3#1 axis 2 : (tensor<1x?x16xf32>, tensor<1x?x48xf32>) -> tensor<1x?x64xf32>
  return %1, %2, %4 : tensor<1x4x?x16xf32>, tensor<1x?x16xf32>, tensor<1x?x64xf32>
}

// -----

// Tests that gather reads data at the index of each position, wrapped when
// negative and clamped into the axis (never outside the buffer).
// CHECK-LABEL: func @gather
// CHECK-SAME: (%[[W:.*]]: tensor<256x64xf32>, %[[IDS:.*]]: tensor<1x32xi64>)
// CHECK: linalg.generic {{.*}} ins(%[[IDS]] : tensor<1x32xi64>) outs(%{{.*}} : tensor<1x32x64xf32>)
// CHECK: %[[I:.*]] = arith.index_cast %{{.*}} : i64 to index
// CHECK: %[[NEG:.*]] = arith.cmpi slt, %[[I]]
// CHECK: %[[WRAPPED:.*]] = arith.select %[[NEG]]
// CHECK: %[[LOW:.*]] = arith.minsi %[[WRAPPED]], %{{.*}} : index
// CHECK: %[[IDX:.*]] = arith.maxsi %{{.*}}, %[[LOW]] : index
// CHECK: %[[D:.*]] = linalg.index 2 : index
// CHECK: tensor.extract %[[W]][%[[IDX]], %[[D]]] : tensor<256x64xf32>
func.func @gather(%w: tensor<256x64xf32>, %ids: tensor<1x32xi64>) -> tensor<1x32x64xf32> {
  %0 = sinter.gather %w[%ids] axis 0 : (tensor<256x64xf32>, tensor<1x32xi64>) -> tensor<1x32x64xf32>
  return %0 : tensor<1x32x64xf32>
}

// -----

// Tests casts with ONNX's rules and the GELU bodies.
// CHECK-LABEL: func @cast_gelu
// CHECK: arith.sitofp %{{.*}} : i64 to f32
// CHECK: arith.cmpf une
// CHECK: math.erf
// CHECK: math.tanh
func.func @cast_gelu(%i: tensor<4xi64>, %x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xi1>, tensor<4xf32>, tensor<4xf32>) {
  %0 = sinter.cast %i : tensor<4xi64> to tensor<4xf32>
  %1 = sinter.cast %x : tensor<4xf32> to tensor<4xi1>
  %2 = sinter.gelu %x approximate none : tensor<4xf32>
  %3 = sinter.gelu %x approximate tanh : tensor<4xf32>
  return %0, %1, %2, %3 : tensor<4xf32>, tensor<4xi1>, tensor<4xf32>, tensor<4xf32>
}

// -----

// Tests that silu is x * 1 / (1 + e^-x) and swiglu multiplies it by up, each
// in one elementwise generic.
// CHECK-LABEL: func @silu_swiglu
// CHECK: linalg.generic
// CHECK: arith.negf
// CHECK: math.exp
// CHECK: arith.divf
// CHECK: arith.mulf
// CHECK: linalg.generic
// CHECK: math.exp
// CHECK: arith.mulf
// CHECK: arith.mulf
// CHECK-NOT: sinter.
func.func @silu_swiglu(%g: tensor<4xf32>, %u: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %0 = sinter.silu %g : tensor<4xf32>
  %1 = sinter.swiglu %g, %u : tensor<4xf32>
  return %0, %1 : tensor<4xf32>, tensor<4xf32>
}

// -----

// Tests that layer_norm centers by the mean, scales by rsqrt(var + eps)
// and applies scale and bias in one last elementwise pass.
// CHECK-LABEL: func @layer_norm
// CHECK-DAG: %[[EPS:.*]] = arith.constant 9.99999974E-6 : f32
// CHECK: arith.subf
// CHECK: arith.mulf
// CHECK: arith.addf %{{.*}}, %[[EPS]]
// CHECK: math.rsqrt
// CHECK: arith.mulf
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK-NOT: sinter.
func.func @layer_norm(%x: tensor<2x8xf32>, %g: tensor<8xf32>, %b: tensor<8xf32>) -> tensor<2x8xf32> {
  %0 = sinter.layer_norm %x, %g, %b axis 1 epsilon 1.0e-05 : (tensor<2x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

// Tests that add_norm without the kernel is the add, then the norm's
// decomposition over the sum: both results come from the sum's generic.
// CHECK-LABEL: func @add_norm
// CHECK: %[[SUM:.*]] = linalg.generic
// CHECK: arith.addf
// CHECK: %[[NORM:.*]] = linalg.generic {{.*}} ins(%[[SUM]],
// CHECK: math.rsqrt
// CHECK: return %[[SUM]], %[[NORM]]
// CHECK-NOT: sinter.
func.func @add_norm(%x: tensor<2x8xf32>, %r: tensor<2x8xf32>, %g: tensor<8xf32>) -> (tensor<2x8xf32>, tensor<2x8xf32>) {
  %s, %y = sinter.add_norm %x, %r, %g kind rms axis 1 epsilon 1.0e-05 : (tensor<2x8xf32>, tensor<2x8xf32>, tensor<8xf32>) -> (tensor<2x8xf32>, tensor<2x8xf32>)
  return %s, %y : tensor<2x8xf32>, tensor<2x8xf32>
}

// -----

// Tests that attention reads key/value head h / 2 for 4 query heads over 2
// key/value heads (no copies), hides the future under causal masking, and
// contracts over the head size, then over the keys.
// CHECK-DAG: #[[KV:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1 floordiv 2, d3, d4)>
// CHECK-DAG: #[[V:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1 floordiv 2, d4, d3)>
// CHECK-LABEL: func @attention
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[KV]], #{{.*}}]
// CHECK: %[[J:.*]] = linalg.index 3 : index
// CHECK: arith.cmpi sgt, %[[J]]
// CHECK: math.exp
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #[[V]], #{{.*}}]
func.func @attention(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %v: tensor<1x2x8x16xf32>) -> tensor<1x4x8x16xf32> {
  %0 = sinter.attention %q, %k, %v causal scale 0.25 : (tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x2x8x16xf32>) -> tensor<1x4x8x16xf32>
  return %0 : tensor<1x4x8x16xf32>
}

// -----

// Tests that conv pads the input, then contracts with the group's channels:
// channel = (m floordiv 3) * 2 + c for 6 outputs in 2 groups of 2 inputs.
// CHECK-DAG: #[[IN:.*]] = affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, (d1 floordiv 3) * 2 + d4, d2 * 2 + d5, d3 + d6 * 2)>
// CHECK-LABEL: func @conv
// CHECK: %[[P:.*]] = tensor.pad
// CHECK: linalg.generic {indexing_maps = [#[[IN]], #{{.*}}, #{{.*}}], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%[[P]], %{{.*}} : tensor<1x4x8x9xf32>, tensor<6x2x3x2xf32>)
func.func @conv(%x: tensor<1x4x7x6xf32>, %w: tensor<6x2x3x2xf32>) -> tensor<1x6x3x7xf32> {
  %0 = sinter.conv %x, %w strides [2, 1] pads [1, 2, 0, 1] dilations [1, 2] group 2 : (tensor<1x4x7x6xf32>, tensor<6x2x3x2xf32>) -> tensor<1x6x3x7xf32>
  return %0 : tensor<1x6x3x7xf32>
}

// -----

// Tests that a conv with a dynamic batch (tf2onnx's unk__ dimension) reads
// the batch once and keeps it in the padded input, the bias accumulator and
// the contraction.
// CHECK-LABEL: func @conv_dynamic_batch
// CHECK: %[[P:.*]] = tensor.pad %{{.*}} low[0, 0, 1, 1] high[0, 0, 1, 1]
// CHECK: } : tensor<?x3x6x6xf32> to tensor<?x3x8x8xf32>
// CHECK: %[[N:.*]] = tensor.dim %{{.*}}, %{{.*}} : tensor<?x3x6x6xf32>
// CHECK: tensor.empty(%[[N]]) : tensor<?x4x6x6xf32>
// CHECK: linalg.generic {{.*}} ins(%[[P]], %{{.*}} : tensor<?x3x8x8xf32>, tensor<4x3x3x3xf32>) outs(%{{.*}} : tensor<?x4x6x6xf32>)
func.func @conv_dynamic_batch(%x: tensor<?x3x6x6xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<4xf32>) -> tensor<?x4x6x6xf32> {
  %0 = sinter.conv %x, %w, %b strides [1, 1] pads [1, 1, 1, 1] dilations [1, 1] group 1 : (tensor<?x3x6x6xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<?x4x6x6xf32>
  return %0 : tensor<?x4x6x6xf32>
}

// -----

// Tests the sequence ops: range computes its dynamic length from the
// scalars, trilu compares j - i with k, cumsum is a reduction masked by
// t <= i.
// CHECK-LABEL: func @sequences
// CHECK: %[[START:.*]] = tensor.extract %{{.*}}[] : tensor<i64>
// CHECK: arith.ceildivsi
// CHECK: arith.maxsi
// CHECK: tensor.empty(%{{.*}}) : tensor<?xi64>
// CHECK: %[[I:.*]] = linalg.index 1 : index
// CHECK: %[[J:.*]] = linalg.index 2 : index
// CHECK: %[[D:.*]] = arith.subi %[[J]], %[[I]] : index
// CHECK: arith.cmpi sle, %[[D]]
// CHECK: arith.cmpi sle
// CHECK: linalg.yield
func.func @sequences(%s: tensor<i64>, %l: tensor<i64>, %d: tensor<i64>, %m: tensor<2x4x4xf32>, %x: tensor<2x6xf32>) -> (tensor<?xi64>, tensor<2x4x4xf32>, tensor<2x6xf32>) {
  %0 = sinter.range %s, %l, %d : tensor<i64> -> tensor<?xi64>
  %1 = sinter.trilu %m k 0 : tensor<2x4x4xf32>
  %2 = sinter.cumsum %x axis 1 : tensor<2x6xf32>
  return %0, %1, %2 : tensor<?xi64>, tensor<2x4x4xf32>, tensor<2x6xf32>
}

// -----

// Tests that rotary_embedding reads the pair's feature and the angle of the
// pair inside one elementwise generic.
// CHECK-LABEL: func @rotary
// CHECK: linalg.generic
// CHECK: tensor.extract %{{.*}} : tensor<8x3xf32>
// CHECK: tensor.extract %{{.*}} : tensor<8x3xf32>
// CHECK: tensor.extract %{{.*}} : tensor<1x2x8x8xf32>
// CHECK-DAG: arith.subf
// CHECK-DAG: arith.addf
// CHECK: linalg.yield
func.func @rotary(%x: tensor<1x2x8x8xf32>, %c: tensor<8x3xf32>, %s: tensor<8x3xf32>) -> tensor<1x2x8x8xf32> {
  %0 = sinter.rotary_embedding %x, %c, %s : (tensor<1x2x8x8xf32>, tensor<8x3xf32>, tensor<8x3xf32>) -> tensor<1x2x8x8xf32>
  return %0 : tensor<1x2x8x8xf32>
}

// -----

// Tests unsigned integers: arith works on signless values, so each element
// crosses over with a cast the LLVM lowering removes, and division,
// maximum and comparisons take their unsigned forms.
// CHECK-LABEL: func @unsigned
// CHECK: linalg.generic
// CHECK: ^bb0(%[[A:.*]]: ui8, %[[B:.*]]: ui8, %{{.*}}: ui8):
// CHECK: %[[SA:.*]] = builtin.unrealized_conversion_cast %[[A]] : ui8 to i8
// CHECK: %[[SB:.*]] = builtin.unrealized_conversion_cast %[[B]] : ui8 to i8
// CHECK: %[[Q:.*]] = arith.divui %[[SA]], %[[SB]] : i8
// CHECK: %[[U:.*]] = builtin.unrealized_conversion_cast %[[Q]] : i8 to ui8
// CHECK: linalg.yield %[[U]] : ui8
// CHECK: arith.maxui
// CHECK: arith.cmpi ult
// CHECK: arith.uitofp %{{.*}} : i8 to f32
func.func @unsigned(%x: tensor<4xui8>, %y: tensor<4xui8>) -> (tensor<4xui8>, tensor<4xui8>, tensor<4xi1>, tensor<4xf32>) {
  %0 = sinter.div %x, %y : (tensor<4xui8>, tensor<4xui8>) -> tensor<4xui8>
  %1 = sinter.max %x, %y : (tensor<4xui8>, tensor<4xui8>) -> tensor<4xui8>
  %2 = sinter.less %x, %y : (tensor<4xui8>, tensor<4xui8>) -> tensor<4xi1>
  %3 = sinter.cast %x : tensor<4xui8> to tensor<4xf32>
  return %0, %1, %2, %3 : tensor<4xui8>, tensor<4xui8>, tensor<4xi1>, tensor<4xf32>
}

// -----

// Tests a slice with a negative step: the elements it reads are extracted
// in increasing order (stride 2 from 1: 1, 3, 5, 7), then reversed.
// CHECK-DAG: #[[REV:.*]] = affine_map<(d0) -> (-d0 + 3)>
// CHECK-LABEL: func @reversed_slice
// CHECK: %[[S:.*]] = tensor.extract_slice %{{.*}}[1] [4] [2] : tensor<10xf32> to tensor<4xf32>
// CHECK: linalg.generic {indexing_maps = [#[[REV]], #{{.*}}]
// CHECK-SAME: ins(%[[S]] : tensor<4xf32>)
func.func @reversed_slice(%x: tensor<10xf32>) -> tensor<4xf32> {
  %0 = sinter.slice %x starts [7] ends [0] steps [-2] : tensor<10xf32> -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// Tests that empty split pieces of an empty input are empty tensors (an
// extract_slice would need an offset inside a dimension of size 0).
// CHECK-LABEL: func @empty_split
// CHECK: %[[E:.*]] = tensor.empty() : tensor<0xf32>
// CHECK: %[[F:.*]] = tensor.empty() : tensor<0xf32>
// CHECK: return %[[E]], %[[F]]
func.func @empty_split(%x: tensor<0xf32>) -> (tensor<0xf32>, tensor<0xf32>) {
  %0:2 = sinter.split %x axis 0 sizes [0, 0] : tensor<0xf32> -> tensor<0xf32>, tensor<0xf32>
  return %0#0, %0#1 : tensor<0xf32>, tensor<0xf32>
}

// -----

// Tests that the rounding ops map to math: ONNX Round rounds halves to
// even, which is math.roundeven (math.round rounds them away from zero).
// CHECK-LABEL: func @rounding
// CHECK: math.floor
// CHECK: math.ceil
// CHECK: math.roundeven
// CHECK-NOT: math.round %
func.func @rounding(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) {
  %0 = sinter.floor %x : tensor<4xf32>
  %1 = sinter.ceil %x : tensor<4xf32>
  %2 = sinter.round %x : tensor<4xf32>
  return %0, %1, %2 : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
}
