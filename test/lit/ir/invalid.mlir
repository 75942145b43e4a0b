// RUN: sinter-opt %s -split-input-file -verify-diagnostics

// Every verifier and shape inference error of the sinter ops, one per case.

func.func @broadcast_mismatch(%a: tensor<3x4xf32>, %b: tensor<5x4xf32>) {
  // expected-error @+2 {{operand shapes [3, 4], [5, 4] are not broadcast-compatible}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = sinter.add %a, %b : (tensor<3x4xf32>, tensor<5x4xf32>) -> tensor<3x4xf32>
  return
}

// -----

func.func @wrong_result_type(%a: tensor<3x4xf32>, %b: tensor<4xf32>) {
  // expected-error @+2 {{'sinter.mul' op inferred type(s) 'tensor<3x4xf32>' are incompatible with return type(s) of operation 'tensor<3x5xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = sinter.mul %a, %b : (tensor<3x4xf32>, tensor<4xf32>) -> tensor<3x5xf32>
  return
}

// -----

func.func @element_type_mismatch(%a: tensor<4xf32>, %b: tensor<4xf16>) {
  // expected-error @+1 {{'sinter.sub' op failed to verify that all of {lhs, rhs, result} have same element type}}
  %0 = sinter.sub %a, %b : (tensor<4xf32>, tensor<4xf16>) -> tensor<4xf32>
  return
}

// -----

func.func @compare_result_not_bool(%a: tensor<4xf32>) {
  // expected-error @+1 {{'sinter.less' op result #0 must be ranked tensor of 1-bit signless integer values}}
  %0 = sinter.less %a, %a : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @where_condition_not_bool(%c: tensor<4xf32>, %a: tensor<4xf32>) {
  // expected-error @+1 {{'sinter.where' op operand #0 must be ranked tensor of 1-bit signless integer values}}
  %0 = sinter.where %c, %a, %a : (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @unary_on_ints(%a: tensor<4xi32>) {
  // expected-error @+1 {{'sinter.exp' op operand #0 must be ranked tensor of}}
  %0 = sinter.exp %a : tensor<4xi32>
  return
}

// -----

func.func @clip_bounds(%a: tensor<4xf32>) {
  // expected-error @+1 {{'sinter.clip' op min 6.000000e+00 is greater than max 1.000000e+00}}
  %0 = sinter.clip %a {min = 6.0 : f64, max = 1.0 : f64} : tensor<4xf32>
  return
}

// -----

func.func @cast_shape(%a: tensor<4xf32>) {
  // expected-error @+1 {{'sinter.cast' op requires the same shape for all operands and results}}
  %0 = sinter.cast %a : tensor<4xf32> to tensor<5xi32>
  return
}

// -----

func.func @constant_type() {
  // expected-error @+1 {{'sinter.constant' op failed to verify that all of {value, result} have same type}}
  %0 = "sinter.constant"() {value = dense<1.0> : tensor<2xf32>} : () -> tensor<3xf32>
  return
}

// -----

func.func @matmul_scalar(%a: tensor<f32>, %b: tensor<4xf32>) {
  // expected-error @+2 {{operands must have rank >= 1, got 'tensor<f32>' and 'tensor<4xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = sinter.matmul %a, %b : (tensor<f32>, tensor<4xf32>) -> tensor<f32>
  return
}

// -----

func.func @matmul_k(%a: tensor<2x8x16xf32>, %b: tensor<2x15x4xf32>) {
  // expected-error @+2 {{contraction sizes differ: lhs [2, 8, 16] has K = 16, rhs [2, 15, 4] has K = 15}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = sinter.matmul %a, %b : (tensor<2x8x16xf32>, tensor<2x15x4xf32>) -> tensor<2x8x4xf32>
  return
}

// -----

func.func @matmul_batch(%a: tensor<2x8x16xf32>, %b: tensor<3x16x4xf32>) {
  // expected-error @+2 {{batch dimensions [2] and [3] are not broadcast-compatible}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = sinter.matmul %a, %b : (tensor<2x8x16xf32>, tensor<3x16x4xf32>) -> tensor<2x8x4xf32>
  return
}

// -----

func.func @linear_weight_rank(%x: tensor<4x16xf32>, %w: tensor<16xf32>) {
  // expected-error @+2 {{weight must be 2-D, got 'tensor<16xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = sinter.linear %x, %w : (tensor<4x16xf32>, tensor<16xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @linear_k(%x: tensor<4x16xf32>, %w: tensor<32x15xf32>) {
  // expected-error @+2 {{input has K = 16 but weight [32, 15] has K = 15 (transposed: N x K)}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = sinter.linear %x, %w transpose_weight : (tensor<4x16xf32>, tensor<32x15xf32>) -> tensor<4x32xf32>
  return
}

// -----

func.func @linear_input_rank(%x: tensor<f32>, %w: tensor<1x15xf32>) {
  // expected-error @+2 {{input must have rank >= 1, got 'tensor<f32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = sinter.linear %x, %w : (tensor<f32>, tensor<1x15xf32>) -> tensor<15xf32>
  return
}

// -----

func.func @linear_bias(%x: tensor<4x16xf32>, %w: tensor<16x32xf32>, %b: tensor<31xf32>) {
  // expected-error @+2 {{bias must have shape [32], got [31]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = sinter.linear %x, %w, %b : (tensor<4x16xf32>, tensor<16x32xf32>, tensor<31xf32>) -> tensor<4x32xf32>
  return
}

// -----

func.func @conv_rank(%x: tensor<3x32xf32>, %w: tensor<8x3xf32>) {
  // expected-error @+2 {{input must be N x C x spatial..., got 'tensor<3x32xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = sinter.conv %x, %w strides [] pads [] dilations [] group 1 : (tensor<3x32xf32>, tensor<8x3xf32>) -> tensor<3x8xf32>
  return
}

// -----

func.func @conv_weight_rank(%x: tensor<1x3x32x32xf32>, %w: tensor<8x3x4xf32>) {
  // expected-error @+2 {{weight rank 3 differs from input rank 4}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = sinter.conv %x, %w strides [1, 1] pads [0, 0, 0, 0] dilations [1, 1] group 1 : (tensor<1x3x32x32xf32>, tensor<8x3x4xf32>) -> tensor<1x8x29x29xf32>
  return
}

// -----

func.func @conv_attr_sizes(%x: tensor<1x3x32x32xf32>, %w: tensor<8x3x4x4xf32>) {
  // expected-error @+2 {{expects 2 strides, 2 dilations and 4 pads for a 2-D convolution}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = sinter.conv %x, %w strides [1] pads [0, 0, 0, 0] dilations [1, 1] group 1 : (tensor<1x3x32x32xf32>, tensor<8x3x4x4xf32>) -> tensor<1x8x29x29xf32>
  return
}

// -----

func.func @conv_stride(%x: tensor<1x3x32x32xf32>, %w: tensor<8x3x4x4xf32>) {
  // expected-error @+2 {{strides and dilations must be >= 1 and pads >= 0}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = sinter.conv %x, %w strides [0, 1] pads [0, 0, 0, 0] dilations [1, 1] group 1 : (tensor<1x3x32x32xf32>, tensor<8x3x4x4xf32>) -> tensor<1x8x29x29xf32>
  return
}

// -----

func.func @conv_group(%x: tensor<1x3x32x32xf32>, %w: tensor<8x3x4x4xf32>) {
  // expected-error @+2 {{group must be >= 1, got 0}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = sinter.conv %x, %w strides [1, 1] pads [0, 0, 0, 0] dilations [1, 1] group 0 : (tensor<1x3x32x32xf32>, tensor<8x3x4x4xf32>) -> tensor<1x8x29x29xf32>
  return
}

// -----

func.func @conv_channels(%x: tensor<1x4x32x32xf32>, %w: tensor<8x3x4x4xf32>) {
  // expected-error @+2 {{input has 4 channels but weight expects 3 per group x 1 groups}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = sinter.conv %x, %w strides [1, 1] pads [0, 0, 0, 0] dilations [1, 1] group 1 : (tensor<1x4x32x32xf32>, tensor<8x3x4x4xf32>) -> tensor<1x8x29x29xf32>
  return
}

// -----

func.func @conv_out_channels(%x: tensor<1x4x32x32xf32>, %w: tensor<6x1x4x4xf32>) {
  // expected-error @+2 {{output channels 6 are not divisible by group 4}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = sinter.conv %x, %w strides [1, 1] pads [0, 0, 0, 0] dilations [1, 1] group 4 : (tensor<1x4x32x32xf32>, tensor<6x1x4x4xf32>) -> tensor<1x6x29x29xf32>
  return
}

// -----

func.func @conv_bias(%x: tensor<1x3x32x32xf32>, %w: tensor<8x3x4x4xf32>, %b: tensor<4xf32>) {
  // expected-error @+2 {{bias must have shape [8], got [4]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = sinter.conv %x, %w, %b strides [1, 1] pads [0, 0, 0, 0] dilations [1, 1] group 1 : (tensor<1x3x32x32xf32>, tensor<8x3x4x4xf32>, tensor<4xf32>) -> tensor<1x8x29x29xf32>
  return
}

// -----

func.func @conv_kernel_too_big(%x: tensor<1x3x2x2xf32>, %w: tensor<8x3x4x4xf32>) {
  // expected-error @+2 {{kernel size 4 does not fit spatial dimension 0 of size 2 with its padding}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = sinter.conv %x, %w strides [1, 1] pads [0, 0, 0, 0] dilations [1, 1] group 1 : (tensor<1x3x2x2xf32>, tensor<8x3x4x4xf32>) -> tensor<1x8x1x1xf32>
  return
}

// -----

func.func @reduce_axis(%x: tensor<4x8xf32>) {
  // expected-error @+2 {{axis 2 is out of range for rank 2 (axes are non-negative)}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = sinter.reduce_sum %x axes [2] : tensor<4x8xf32> -> tensor<4xf32>
  return
}

// -----

func.func @reduce_negative_axis(%x: tensor<4x8xf32>) {
  // expected-error @+2 {{axis -1 is out of range for rank 2 (axes are non-negative)}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = sinter.reduce_mean %x axes [-1] : tensor<4x8xf32> -> tensor<4xf32>
  return
}

// -----

func.func @reduce_axis_twice(%x: tensor<4x8xf32>) {
  // expected-error @+2 {{axis 1 is reduced twice}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = sinter.reduce_max %x axes [1, 1] : tensor<4x8xf32> -> tensor<4xf32>
  return
}

// -----

func.func @softmax_axis(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{axis 2 is out of range for rank 2}}
  %0 = sinter.softmax %x axis 2 : tensor<4x8xf32>
  return
}

// -----

func.func @log_softmax_axis(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{axis 5 is out of range for rank 2}}
  %0 = sinter.log_softmax %x axis 5 : tensor<4x8xf32>
  return
}

// -----

func.func @topk_axis(%x: tensor<4x8xf32>) {
  // expected-error @+2 {{axis 2 is out of range for rank 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %v, %i = sinter.topk %x k 2 axis 2 : tensor<4x8xf32> -> tensor<4x2xf32>, tensor<4x2xi64>
  return
}

// -----

func.func @topk_k(%x: tensor<4x8xf32>) {
  // expected-error @+2 {{k = 9 must be in [1, 8] for axis 1}}
  // expected-error @+1 {{failed to infer returned types}}
  %v, %i = sinter.topk %x k 9 axis 1 : tensor<4x8xf32> -> tensor<4x9xf32>, tensor<4x9xi64>
  return
}

// -----

func.func @reshape_count(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{'sinter.reshape' op cannot reshape 32 elements [4, 8] into 30 elements [5, 6]}}
  %0 = sinter.reshape %x to [5, 6] : tensor<4x8xf32> -> tensor<5x6xf32>
  return
}

// -----

func.func @reshape_negative(%x: tensor<4x8xf32>) {
  // expected-error @+2 {{shape has a negative size -2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = "sinter.reshape"(%x) <{static_shape = array<i64: -2, 16>}> : (tensor<4x8xf32>) -> tensor<2x16xf32>
  return
}

// -----

func.func @reshape_dynamic_operands(%x: tensor<4x8xf32>, %n: index) {
  // expected-error @+1 {{'sinter.reshape' op has 1 dynamic size operands but its shape [32] has 0 dynamic sizes}}
  %0 = "sinter.reshape"(%x, %n) <{static_shape = array<i64: 32>}> : (tensor<4x8xf32>, index) -> tensor<32xf32>
  return
}

// -----

func.func @expand_incompatible(%x: tensor<3x4xf32>) {
  // expected-error @+2 {{input shape [3, 4] cannot be expanded to [2, 5]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = sinter.expand %x to [2, 5] : tensor<3x4xf32> -> tensor<3x5xf32>
  return
}

// -----

func.func @expand_dynamic_operands(%x: tensor<3x4xf32>) {
  // expected-error @+1 {{'sinter.expand' op has 0 dynamic size operands but its shape [?, 4] has 1 dynamic sizes}}
  %0 = "sinter.expand"(%x) <{static_shape = array<i64: -9223372036854775808, 4>}> : (tensor<3x4xf32>) -> tensor<3x4xf32>
  return
}

// -----

func.func @transpose_length(%x: tensor<3x4xf32>) {
  // expected-error @+2 {{permutation [0] has 1 entries for rank 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = sinter.transpose %x [0] : tensor<3x4xf32> -> tensor<3xf32>
  return
}

// -----

func.func @transpose_not_permutation(%x: tensor<3x4xf32>) {
  // expected-error @+2 {{[1, 1] is not a permutation of the dimensions}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = sinter.transpose %x [1, 1] : tensor<3x4xf32> -> tensor<4x4xf32>
  return
}

// -----

func.func @slice_entries(%x: tensor<3x4xf32>) {
  // expected-error @+2 {{expects one start, end and step per dimension (rank 2), got 1, 2 and 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = sinter.slice %x starts [0] ends [1, 1] steps [1, 1] : tensor<3x4xf32> -> tensor<1x1xf32>
  return
}

// -----

func.func @slice_zero_step(%x: tensor<3x4xf32>) {
  // expected-error @+2 {{step of dimension 1 must be non-zero and > INT64_MIN}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = sinter.slice %x starts [0, 0] ends [1, 1] steps [1, 0] : tensor<3x4xf32> -> tensor<1x1xf32>
  return
}

// -----

func.func @concat_empty() {
  // expected-error @+2 {{expects at least one input}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = sinter.concat axis 0 : () -> tensor<1xf32>
  return
}

// -----

func.func @concat_rank(%a: tensor<3x4xf32>, %b: tensor<4xf32>) {
  // expected-error @+2 {{input 1 has type 'tensor<4xf32>', which differs in rank or element type from 'tensor<3x4xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = sinter.concat %a, %b axis 0 : (tensor<3x4xf32>, tensor<4xf32>) -> tensor<3x4xf32>
  return
}

// -----

func.func @concat_sizes(%a: tensor<3x4xf32>, %b: tensor<3x5xf32>) {
  // expected-error @+2 {{input 1 has size 5 in dimension 1 where input 0 has 4}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = sinter.concat %a, %b axis 0 : (tensor<3x4xf32>, tensor<3x5xf32>) -> tensor<6x4xf32>
  return
}

// -----

func.func @concat_axis(%a: tensor<3x4xf32>) {
  // expected-error @+2 {{axis 2 is out of range for rank 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = sinter.concat %a, %a axis 2 : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  return
}

// -----

func.func @split_sum(%x: tensor<3x12xf32>) {
  // expected-error @+2 {{split sizes [4, 4] add up to 8 but axis 1 has size 12}}
  // expected-error @+1 {{failed to infer returned types}}
  %0:2 = sinter.split %x axis 1 sizes [4, 4] : tensor<3x12xf32> -> tensor<3x4xf32>, tensor<3x4xf32>
  return
}

// -----

func.func @split_negative(%x: tensor<3x?xf32>) {
  // expected-error @+2 {{split sizes must be >= 0, got [4, -1]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0:2 = sinter.split %x axis 1 sizes [4, -1] : tensor<3x?xf32> -> tensor<3x4xf32>, tensor<3x4xf32>
  return
}

// -----

func.func @split_empty(%x: tensor<3x12xf32>) {
  // expected-error @+2 {{expects at least one size}}
  // expected-error @+1 {{failed to infer returned types}}
  "sinter.split"(%x) <{axis = 1 : i64, sizes = array<i64>}> : (tensor<3x12xf32>) -> ()
  return
}

// -----

func.func @split_result_count(%x: tensor<3x12xf32>) {
  // expected-error @+2 {{'sinter.split' op inferred type(s) 'tensor<3x4xf32>', 'tensor<3x8xf32>' are incompatible with return type(s) of operation 'tensor<3x4xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = "sinter.split"(%x) <{axis = 1 : i64, sizes = array<i64: 4, 8>}> : (tensor<3x12xf32>) -> tensor<3x4xf32>
  return
}

// -----

func.func @gather_axis(%d: tensor<3x4xf32>, %i: tensor<2xi64>) {
  // expected-error @+2 {{axis 2 is out of range for rank 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = sinter.gather %d[%i] axis 2 : (tensor<3x4xf32>, tensor<2xi64>) -> tensor<3x2xf32>
  return
}

// -----

func.func @gather_index_type(%d: tensor<3x4xf32>, %i: tensor<2xf32>) {
  // expected-error @+1 {{'sinter.gather' op operand #1 must be ranked tensor of 32-bit signless integer or 64-bit signless integer values}}
  %0 = sinter.gather %d[%i] axis 0 : (tensor<3x4xf32>, tensor<2xf32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @gather_elements_rank(%d: tensor<3x4xf32>, %i: tensor<2xi64>) {
  // expected-error @+2 {{indices rank 1 differs from data rank 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = sinter.gather_elements %d[%i] axis 0 : (tensor<3x4xf32>, tensor<2xi64>) -> tensor<2xf32>
  return
}

// -----

func.func @gather_elements_axis(%d: tensor<3x4xf32>, %i: tensor<3x2xi64>) {
  // expected-error @+2 {{axis 3 is out of range for rank 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = sinter.gather_elements %d[%i] axis 3 : (tensor<3x4xf32>, tensor<3x2xi64>) -> tensor<3x2xf32>
  return
}

// -----

func.func @scatter_rank(%d: tensor<3x4xf32>, %i: tensor<2xi64>, %u: tensor<2xf32>) {
  // expected-error @+2 {{data, indices and updates must have the same rank, got 'tensor<3x4xf32>', 'tensor<2xi64>' and 'tensor<2xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = sinter.scatter_elements %d[%i], %u axis 0 : (tensor<3x4xf32>, tensor<2xi64>, tensor<2xf32>) -> tensor<3x4xf32>
  return
}

// -----

func.func @scatter_shapes(%d: tensor<3x4xf32>, %i: tensor<3x2xi64>, %u: tensor<3x1xf32>) {
  // expected-error @+2 {{indices shape [3, 2] differs from updates shape [3, 1]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = sinter.scatter_elements %d[%i], %u axis 1 : (tensor<3x4xf32>, tensor<3x2xi64>, tensor<3x1xf32>) -> tensor<3x4xf32>
  return
}

// -----

func.func @scatter_axis(%d: tensor<3x4xf32>, %i: tensor<3x2xi64>, %u: tensor<3x2xf32>) {
  // expected-error @+2 {{axis 2 is out of range for rank 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = sinter.scatter_elements %d[%i], %u axis 2 : (tensor<3x4xf32>, tensor<3x2xi64>, tensor<3x2xf32>) -> tensor<3x4xf32>
  return
}

// -----

func.func @attention_rank(%q: tensor<8x32x16xf32>, %k: tensor<1x8x32x16xf32>) {
  // expected-error @+2 {{query, key and value must be 4-D (batch x heads x sequence x head_dim)}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = sinter.attention %q, %k, %k scale 0.25 : (tensor<8x32x16xf32>, tensor<1x8x32x16xf32>, tensor<1x8x32x16xf32>) -> tensor<8x32x16xf32>
  return
}

// -----

func.func @attention_batch(%q: tensor<2x8x32x16xf32>, %k: tensor<3x8x32x16xf32>) {
  // expected-error @+2 {{batch sizes of query, key and value differ: 2, 3, 3}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = sinter.attention %q, %k, %k scale 0.25 : (tensor<2x8x32x16xf32>, tensor<3x8x32x16xf32>, tensor<3x8x32x16xf32>) -> tensor<2x8x32x16xf32>
  return
}

// -----

func.func @attention_kv_heads(%q: tensor<1x8x32x16xf32>, %k: tensor<1x2x32x16xf32>, %v: tensor<1x4x32x16xf32>) {
  // expected-error @+2 {{key has 2 heads but value has 4}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = sinter.attention %q, %k, %v scale 0.25 : (tensor<1x8x32x16xf32>, tensor<1x2x32x16xf32>, tensor<1x4x32x16xf32>) -> tensor<1x8x32x16xf32>
  return
}

// -----

func.func @attention_gqa(%q: tensor<1x8x32x16xf32>, %k: tensor<1x3x32x16xf32>) {
  // expected-error @+2 {{query heads (8) must be a multiple of key/value heads (3)}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = sinter.attention %q, %k, %k scale 0.25 : (tensor<1x8x32x16xf32>, tensor<1x3x32x16xf32>, tensor<1x3x32x16xf32>) -> tensor<1x8x32x16xf32>
  return
}

// -----

func.func @attention_kv_length(%q: tensor<1x8x32x16xf32>, %k: tensor<1x8x32x16xf32>, %v: tensor<1x8x40x16xf32>) {
  // expected-error @+2 {{key sequence length 32 differs from value sequence length 40}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = sinter.attention %q, %k, %v scale 0.25 : (tensor<1x8x32x16xf32>, tensor<1x8x32x16xf32>, tensor<1x8x40x16xf32>) -> tensor<1x8x32x16xf32>
  return
}

// -----

func.func @attention_head_dim(%q: tensor<1x8x32x16xf32>, %k: tensor<1x8x32x8xf32>) {
  // expected-error @+2 {{query head size 16 differs from key head size 8}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = sinter.attention %q, %k, %k scale 0.25 : (tensor<1x8x32x16xf32>, tensor<1x8x32x8xf32>, tensor<1x8x32x8xf32>) -> tensor<1x8x32x8xf32>
  return
}

// -----

func.func @attention_mask(%q: tensor<1x8x32x16xf32>, %m: tensor<1x1x32x33xf32>) {
  // expected-error @+2 {{mask shape [1, 1, 32, 33] does not broadcast to the scores shape [1, 8, 32, 32]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = sinter.attention %q, %q, %q mask %m scale 0.25 : (tensor<1x8x32x16xf32>, tensor<1x8x32x16xf32>, tensor<1x8x32x16xf32>, tensor<1x1x32x33xf32>) -> tensor<1x8x32x16xf32>
  return
}

// -----

func.func @attention_scale(%q: tensor<1x8x32x16xf32>) {
  // expected-error @+2 {{scale must be finite and non-zero, got 0.000000e+00}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = sinter.attention %q, %q, %q scale 0.0 : (tensor<1x8x32x16xf32>, tensor<1x8x32x16xf32>, tensor<1x8x32x16xf32>) -> tensor<1x8x32x16xf32>
  return
}

// -----

func.func @layer_norm_axis(%x: tensor<4x8xf32>, %g: tensor<8xf32>) {
  // expected-error @+2 {{axis 2 is out of range for rank 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = sinter.layer_norm %x, %g axis 2 epsilon 1.0e-05 : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @add_norm_rms_bias(%x: tensor<4x8xf32>, %g: tensor<8xf32>) {
  // expected-error @+2 {{rms normalization takes no bias}}
  // expected-error @+1 {{failed to infer returned types}}
  %0:2 = sinter.add_norm %x, %x, %g, %g kind rms axis 1 epsilon 1.0e-05 : (tensor<4x8xf32>, tensor<4x8xf32>, tensor<8xf32>, tensor<8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>)
  return
}

// -----

func.func @add_norm_broadcast(%x: tensor<4x8xf32>, %r: tensor<8xf32>, %g: tensor<8xf32>) {
  // expected-error @+2 {{input 'tensor<4x8xf32>' and residual 'tensor<8xf32>' must have the same shape}}
  // expected-error @+1 {{failed to infer returned types}}
  %0:2 = sinter.add_norm %x, %r, %g kind layer axis 1 epsilon 1.0e-05 : (tensor<4x8xf32>, tensor<8xf32>, tensor<8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>)
  return
}

// -----

func.func @add_norm_scale(%x: tensor<4x8xf32>, %g: tensor<4xf32>) {
  // expected-error @+2 {{scale shape [4] does not match the normalized shape [8]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0:2 = sinter.add_norm %x, %x, %g kind layer axis 1 epsilon 1.0e-05 : (tensor<4x8xf32>, tensor<4x8xf32>, tensor<4xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>)
  return
}

// -----

func.func @layer_norm_epsilon(%x: tensor<4x8xf32>, %g: tensor<8xf32>) {
  // expected-error @+2 {{epsilon must be finite and >= 0, got -1.000000e+00}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = sinter.layer_norm %x, %g axis 1 epsilon -1.0 : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @layer_norm_scale(%x: tensor<4x8xf32>, %g: tensor<4x8xf32>) {
  // expected-error @+2 {{scale shape [4, 8] does not match the normalized shape [8]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = sinter.layer_norm %x, %g axis 1 epsilon 1.0e-05 : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @layer_norm_bias(%x: tensor<4x8xf32>, %g: tensor<8xf32>, %b: tensor<7xf32>) {
  // expected-error @+2 {{bias shape [7] does not match the normalized shape [8]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = sinter.layer_norm %x, %g, %b axis 1 epsilon 1.0e-05 : (tensor<4x8xf32>, tensor<8xf32>, tensor<7xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @rms_norm_scale(%x: tensor<4x8xf32>, %g: tensor<4xf32>) {
  // expected-error @+2 {{scale shape [4] does not match the normalized shape [8]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = sinter.rms_norm %x, %g axis 1 epsilon 1.0e-05 : (tensor<4x8xf32>, tensor<4xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @rotary_rank(%x: tensor<8x32x16xf32>, %c: tensor<32x8xf32>) {
  // expected-error @+2 {{input must be 4-D (batch x heads x sequence x head_dim), got 'tensor<8x32x16xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = sinter.rotary_embedding %x, %c, %c : (tensor<8x32x16xf32>, tensor<32x8xf32>, tensor<32x8xf32>) -> tensor<8x32x16xf32>
  return
}

// -----

func.func @rotary_cos_sin(%x: tensor<1x8x32x16xf32>, %c: tensor<32x8xf32>, %s: tensor<32x4xf32>) {
  // expected-error @+2 {{cos and sin types differ: 'tensor<32x8xf32>' vs 'tensor<32x4xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = sinter.rotary_embedding %x, %c, %s : (tensor<1x8x32x16xf32>, tensor<32x8xf32>, tensor<32x4xf32>) -> tensor<1x8x32x16xf32>
  return
}

// -----

func.func @rotary_angle_rank(%x: tensor<1x8x32x16xf32>, %c: tensor<8xf32>) {
  // expected-error @+2 {{cos and sin must be [..., sequence, rotary_dim / 2] of rank 2 to 4, got 'tensor<8xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = sinter.rotary_embedding %x, %c, %c : (tensor<1x8x32x16xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<1x8x32x16xf32>
  return
}

// -----

func.func @rotary_dim(%x: tensor<1x8x32x16xf32>, %c: tensor<32x9xf32>) {
  // expected-error @+2 {{rotary dimension 2 x 9 must be in [2, head_dim = 16]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = sinter.rotary_embedding %x, %c, %c : (tensor<1x8x32x16xf32>, tensor<32x9xf32>, tensor<32x9xf32>) -> tensor<1x8x32x16xf32>
  return
}

// -----

func.func @rotary_positions(%x: tensor<1x8x32x16xf32>, %c: tensor<16x8xf32>) {
  // expected-error @+2 {{cos/sin shape [16, 8] does not broadcast to [1, 8, 32, 8]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = sinter.rotary_embedding %x, %c, %c : (tensor<1x8x32x16xf32>, tensor<16x8xf32>, tensor<16x8xf32>) -> tensor<1x8x32x16xf32>
  return
}

// -----

func.func @range_length() -> tensor<3xi64> {
  %s = sinter.constant dense<0> : tensor<i64>
  %l = sinter.constant dense<10> : tensor<i64>
  %d = sinter.constant dense<3> : tensor<i64>
  // expected-error @+1 {{'sinter.range' op has 3 elements but its constant operands give 4}}
  %0 = sinter.range %s, %l, %d : tensor<i64> -> tensor<3xi64>
  return %0 : tensor<3xi64>
}

// -----

func.func @range_zero_delta() -> tensor<?xi64> {
  %s = sinter.constant dense<0> : tensor<i64>
  %d = sinter.constant dense<0> : tensor<i64>
  // expected-error @+1 {{'sinter.range' op delta must be non-zero}}
  %0 = sinter.range %s, %s, %d : tensor<i64> -> tensor<?xi64>
  return %0 : tensor<?xi64>
}

// -----

func.func @range_operands_not_scalar(%s: tensor<1xi64>) {
  // expected-error @+1 {{'sinter.range' op operand #0 must be 0D tensor}}
  %0 = sinter.range %s, %s, %s : tensor<1xi64> -> tensor<?xi64>
  return
}

// -----

func.func @trilu_rank(%x: tensor<8xf32>) {
  // expected-error @+1 {{'sinter.trilu' op operand #0 must be 2D/3D/4D/5D/6D/7D/8D tensor of any type values}}
  %0 = sinter.trilu %x k 0 : tensor<8xf32>
  return
}

// -----

func.func @cumsum_axis(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{axis 2 is out of range for rank 2}}
  %0 = sinter.cumsum %x axis 2 : tensor<4x8xf32>
  return
}

// -----

func.func @dequantize_block_shape(%q: tensor<4x64xi8>, %s: tensor<4x3xbf16>) {
  // expected-error @+1 {{a blocked scale must have shape [4, 2] (blocks of 32 along dimension 1), got [4, 3]}}
  %0 = sinter.dequantize %q, %s axis 1 block 32 : (tensor<4x64xi8>, tensor<4x3xbf16>) -> tensor<4x64xf32>
  return
}

// -----

func.func @dequantize_axis_size(%q: tensor<4x64xi8>, %s: tensor<5xf32>) {
  // expected-error @+1 {{a per-axis scale must be 1-D with 4 elements (dimension 0 of the input), got [5]}}
  %0 = sinter.dequantize %q, %s : (tensor<4x64xi8>, tensor<5xf32>) -> tensor<4x64xf32>
  return
}

// -----

func.func @dequantize_zero_point_type(%q: tensor<4x64xui4>, %s: tensor<4xf32>, %z: tensor<4xi8>) {
  // expected-error @+1 {{zero point element type 'i8' differs from the integers' 'ui4'}}
  %0 = sinter.dequantize %q, %s, %z : (tensor<4x64xui4>, tensor<4xf32>, tensor<4xi8>) -> tensor<4x64xf32>
  return
}

// -----

func.func @dequantize_result_shape(%q: tensor<4x64xi8>, %s: tensor<f32>) {
  // expected-error @+1 {{result shape [4, 32] differs from input shape [4, 64]}}
  %0 = sinter.dequantize %q, %s : (tensor<4x64xi8>, tensor<f32>) -> tensor<4x32xf32>
  return
}

// -----

func.func @dequantize_float_input(%q: tensor<4x64xf32>, %s: tensor<f32>) {
  // expected-error @+1 {{operand #0 must be ranked tensor of}}
  %0 = sinter.dequantize %q, %s : (tensor<4x64xf32>, tensor<f32>) -> tensor<4x64xf32>
  return
}

// -----

func.func @dynamic_quantize_scale_shape(%x: tensor<4x64xf32>) {
  // expected-error @+1 {{scale must have the input's shape with a last dimension of 1, got 'tensor<4x64xf32>'}}
  %q, %s = sinter.dynamic_quantize %x : tensor<4x64xf32> -> tensor<4x64xi8>, tensor<4x64xf32>
  return
}

// -----

func.func @dynamic_quantize_result_shape(%x: tensor<4x64xf32>) {
  // expected-error @+1 {{result shape 'tensor<4x32xi8>' differs from the input's 'tensor<4x64xf32>'}}
  %q, %s = sinter.dynamic_quantize %x : tensor<4x64xf32> -> tensor<4x32xi8>, tensor<4x1xf32>
  return
}

// -----

func.func @dynamic_quantize_scalar(%x: tensor<f32>) {
  // expected-error @+1 {{input must have at least one dimension (the rows' elements), got 'tensor<f32>'}}
  %q, %s = sinter.dynamic_quantize %x : tensor<f32> -> tensor<i8>, tensor<f32>
  return
}

// -----

func.func @probe_axis_out_of_range(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{channel_axis 2 is not a dimension of a rank 2 tensor}}
  sinter.probe_tensor %x id 0 channel_axis 2 name "x" : tensor<4x8xf32>
  return
}

// -----

func.func @probe_negative_id(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{id must be non-negative, got -1}}
  sinter.probe_tensor %x id -1 channel_axis 1 name "x" : tensor<4x8xf32>
  return
}

// -----

func.func @probe_attention_output(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %o: tensor<1x4x6x16xf32>) {
  // expected-error @+1 {{output 'tensor<1x4x6x16xf32>' is not the result of query 'tensor<1x4x8x16xf32>'}}
  sinter.probe_attention %q, %k, %o scale 0.25 id 0 name "a" : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x4x6x16xf32>
  return
}

// -----

func.func @probe_attention_heads(%q: tensor<1x4x8x16xf32>, %k: tensor<1x3x8x16xf32>, %o: tensor<1x4x8x16xf32>) {
  // expected-error @+1 {{query heads (4) must be a multiple of key heads (3)}}
  sinter.probe_attention %q, %k, %o scale 0.25 id 0 name "a" : tensor<1x4x8x16xf32>, tensor<1x3x8x16xf32>, tensor<1x4x8x16xf32>
  return
}

// -----

func.func @probe_attention_mask(%q: tensor<1x4x8x16xf32>, %k: tensor<1x2x8x16xf32>, %o: tensor<1x4x8x16xf32>, %m: tensor<8x5xf32>) {
  // expected-error @+1 {{mask shape [8, 5] does not broadcast to [1, 4, 8, 8]}}
  sinter.probe_attention %q, %k, %o mask %m scale 0.25 id 0 name "a" : tensor<1x4x8x16xf32>, tensor<1x2x8x16xf32>, tensor<1x4x8x16xf32>, tensor<8x5xf32>
  return
}

// -----

func.func @probe_routing_experts(%i: tensor<8x2xi64>) {
  // expected-error @+1 {{experts must be positive, got 0}}
  sinter.probe_routing %i experts 0 id 0 name "r" : tensor<8x2xi64>
  return
}
