// RUN: canao-opt %s --canao-raise-attention --split-input-file | FileCheck %s

// The exporter's attention: head split, QK^T, / sqrt(d), + mask, softmax,
// .V, head merge. The reshapes and transposes disappear into the op.
// CHECK-LABEL: func.func @attention
// CHECK: %[[A:.*]] = canao.attention(%arg0, %arg1, %arg2) mask %arg3 {num_heads = 2 : i64, scale = 2.500000e-01 : f32} : (tensor<1x8x32xf32>, tensor<1x8x32xf32>, tensor<1x8x32xf32>, tensor<1x1x1x8xf32>) -> tensor<1x8x32xf32>
// CHECK-NOT: canao.transpose
// CHECK-NOT: canao.softmax
// CHECK: return %[[A]]
func.func @attention(%q: tensor<1x8x32xf32>, %k: tensor<1x8x32xf32>, %v: tensor<1x8x32xf32>, %mask: tensor<1x1x1x8xf32>) -> tensor<1x8x32xf32> {
  %scale = canao.constant dense<4.0> : tensor<f32>
  %q0 = canao.reshape %q : tensor<1x8x32xf32> to tensor<1x8x2x16xf32>
  %q1 = canao.transpose %q0 [0, 2, 1, 3] : tensor<1x8x2x16xf32> to tensor<1x2x8x16xf32>
  %k0 = canao.reshape %k : tensor<1x8x32xf32> to tensor<1x8x2x16xf32>
  %k1 = canao.transpose %k0 [0, 2, 3, 1] : tensor<1x8x2x16xf32> to tensor<1x2x16x8xf32>
  %v0 = canao.reshape %v : tensor<1x8x32xf32> to tensor<1x8x2x16xf32>
  %v1 = canao.transpose %v0 [0, 2, 1, 3] : tensor<1x8x2x16xf32> to tensor<1x2x8x16xf32>
  %s = canao.matmul %q1, %k1 : (tensor<1x2x8x16xf32>, tensor<1x2x16x8xf32>) -> tensor<1x2x8x8xf32>
  %s1 = canao.div %s, %scale : (tensor<1x2x8x8xf32>, tensor<f32>) -> tensor<1x2x8x8xf32>
  %s2 = canao.add %s1, %mask : (tensor<1x2x8x8xf32>, tensor<1x1x1x8xf32>) -> tensor<1x2x8x8xf32>
  %p = canao.softmax %s2 {axis = 3 : i64} : tensor<1x2x8x8xf32>
  %o = canao.matmul %p, %v1 : (tensor<1x2x8x8xf32>, tensor<1x2x8x16xf32>) -> tensor<1x2x8x16xf32>
  %o1 = canao.transpose %o [0, 2, 1, 3] : tensor<1x2x8x16xf32> to tensor<1x8x2x16xf32>
  %o2 = canao.reshape %o1 : tensor<1x8x2x16xf32> to tensor<1x8x32xf32>
  return %o2 : tensor<1x8x32xf32>
}

// -----

// Negative: softmax over the query axis is not attention.
// CHECK-LABEL: func.func @wrong_softmax_axis
// CHECK-NOT: canao.attention
func.func @wrong_softmax_axis(%q: tensor<1x8x32xf32>, %k: tensor<1x8x32xf32>, %v: tensor<1x8x32xf32>) -> tensor<1x8x32xf32> {
  %q0 = canao.reshape %q : tensor<1x8x32xf32> to tensor<1x8x2x16xf32>
  %q1 = canao.transpose %q0 [0, 2, 1, 3] : tensor<1x8x2x16xf32> to tensor<1x2x8x16xf32>
  %k0 = canao.reshape %k : tensor<1x8x32xf32> to tensor<1x8x2x16xf32>
  %k1 = canao.transpose %k0 [0, 2, 3, 1] : tensor<1x8x2x16xf32> to tensor<1x2x16x8xf32>
  %v0 = canao.reshape %v : tensor<1x8x32xf32> to tensor<1x8x2x16xf32>
  %v1 = canao.transpose %v0 [0, 2, 1, 3] : tensor<1x8x2x16xf32> to tensor<1x2x8x16xf32>
  %s = canao.matmul %q1, %k1 : (tensor<1x2x8x16xf32>, tensor<1x2x16x8xf32>) -> tensor<1x2x8x8xf32>
  %p = canao.softmax %s {axis = 2 : i64} : tensor<1x2x8x8xf32>
  %o = canao.matmul %p, %v1 : (tensor<1x2x8x8xf32>, tensor<1x2x8x16xf32>) -> tensor<1x2x8x16xf32>
  %o1 = canao.transpose %o [0, 2, 1, 3] : tensor<1x2x8x16xf32> to tensor<1x8x2x16xf32>
  %o2 = canao.reshape %o1 : tensor<1x8x2x16xf32> to tensor<1x8x32xf32>
  return %o2 : tensor<1x8x32xf32>
}

// -----

// MPNet: a relative position bias [1, H, S, S] and the padding mask are
// both added to the scaled scores; they become one mask, summed outside.
// CHECK-LABEL: func.func @position_bias
// CHECK: %[[M:.*]] = canao.add %arg3, %arg4 : (tensor<1x2x8x8xf32>, tensor<1x1x1x8xf32>) -> tensor<1x2x8x8xf32>
// CHECK: canao.attention(%arg0, %arg1, %arg2) mask %[[M]] {num_heads = 2 : i64, scale = 2.500000e-01 : f32}
// CHECK-NOT: canao.softmax
func.func @position_bias(%q: tensor<1x8x32xf32>, %k: tensor<1x8x32xf32>, %v: tensor<1x8x32xf32>, %bias: tensor<1x2x8x8xf32>, %mask: tensor<1x1x1x8xf32>) -> tensor<1x8x32xf32> {
  %scale = canao.constant dense<4.0> : tensor<f32>
  %q0 = canao.reshape %q : tensor<1x8x32xf32> to tensor<1x8x2x16xf32>
  %q1 = canao.transpose %q0 [0, 2, 1, 3] : tensor<1x8x2x16xf32> to tensor<1x2x8x16xf32>
  %k0 = canao.reshape %k : tensor<1x8x32xf32> to tensor<1x8x2x16xf32>
  %k1 = canao.transpose %k0 [0, 2, 3, 1] : tensor<1x8x2x16xf32> to tensor<1x2x16x8xf32>
  %v0 = canao.reshape %v : tensor<1x8x32xf32> to tensor<1x8x2x16xf32>
  %v1 = canao.transpose %v0 [0, 2, 1, 3] : tensor<1x8x2x16xf32> to tensor<1x2x8x16xf32>
  %s = canao.matmul %q1, %k1 : (tensor<1x2x8x16xf32>, tensor<1x2x16x8xf32>) -> tensor<1x2x8x8xf32>
  %s1 = canao.div %s, %scale : (tensor<1x2x8x8xf32>, tensor<f32>) -> tensor<1x2x8x8xf32>
  %s2 = canao.add %s1, %bias : (tensor<1x2x8x8xf32>, tensor<1x2x8x8xf32>) -> tensor<1x2x8x8xf32>
  %s3 = canao.add %s2, %mask : (tensor<1x2x8x8xf32>, tensor<1x1x1x8xf32>) -> tensor<1x2x8x8xf32>
  %p = canao.softmax %s3 {axis = 3 : i64} : tensor<1x2x8x8xf32>
  %o = canao.matmul %p, %v1 : (tensor<1x2x8x8xf32>, tensor<1x2x8x16xf32>) -> tensor<1x2x8x16xf32>
  %o1 = canao.transpose %o [0, 2, 1, 3] : tensor<1x2x8x16xf32> to tensor<1x8x2x16xf32>
  %o2 = canao.reshape %o1 : tensor<1x8x2x16xf32> to tensor<1x8x32xf32>
  return %o2 : tensor<1x8x32xf32>
}
