// RUN: canao-opt %s --canao-fold-attention-scale | FileCheck %s

// The 1/sqrt(d) scale moves into Q's weight and bias (2.0 * 0.25 = 0.5,
// 4.0 * 0.25 = 1.0); the attention's scale becomes 1. K and V are untouched.
// CHECK-LABEL: func.func @fold
// CHECK-DAG: %[[WQ:.*]] = canao.constant dense<5.000000e-01> : tensor<8x8xf32>
// CHECK-DAG: %[[BQ:.*]] = canao.constant dense<1.000000e+00> : tensor<8xf32>
// CHECK: %[[Q:.*]] = canao.dense %arg0, %[[WQ]] bias %[[BQ]]
// CHECK: canao.attention(%[[Q]], %{{.*}}, %{{.*}}) {num_heads = 2 : i64, scale = 1.000000e+00 : f32}
func.func @fold(%x: tensor<1x4x8xf32>) -> tensor<1x4x8xf32> {
  %w = canao.constant dense<2.0> : tensor<8x8xf32>
  %b = canao.constant dense<4.0> : tensor<8xf32>
  %q = canao.dense %x, %w bias %b : (tensor<1x4x8xf32>, tensor<8x8xf32>, tensor<8xf32>) -> tensor<1x4x8xf32> {}
  %k = canao.dense %x, %w bias %b : (tensor<1x4x8xf32>, tensor<8x8xf32>, tensor<8xf32>) -> tensor<1x4x8xf32> {}
  %v = canao.dense %x, %w bias %b : (tensor<1x4x8xf32>, tensor<8x8xf32>, tensor<8xf32>) -> tensor<1x4x8xf32> {}
  %a = canao.attention(%q, %k, %v) {num_heads = 2 : i64, scale = 0.25 : f32} : (tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
  return %a : tensor<1x4x8xf32>
}
