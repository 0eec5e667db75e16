// RUN: canao-opt %s --canao-raise-dense --split-input-file | FileCheck %s

// MatMul by a constant weight plus a bias (bias first, as the exporter
// writes it) is one dense op.
// CHECK-LABEL: func.func @bias_first
// CHECK: %[[D:.*]] = canao.dense %arg0, %{{.*}} bias %{{.*}} : (tensor<1x4x8xf32>, tensor<8x16xf32>, tensor<16xf32>) -> tensor<1x4x16xf32>
// CHECK-NOT: canao.matmul
// CHECK-NOT: canao.add
// CHECK: return %[[D]]
func.func @bias_first(%x: tensor<1x4x8xf32>) -> tensor<1x4x16xf32> {
  %w = canao.constant dense<0.5> : tensor<8x16xf32>
  %b = canao.constant dense<1.0> : tensor<16xf32>
  %0 = canao.matmul %x, %w : (tensor<1x4x8xf32>, tensor<8x16xf32>) -> tensor<1x4x16xf32>
  %1 = canao.add %b, %0 : (tensor<16xf32>, tensor<1x4x16xf32>) -> tensor<1x4x16xf32>
  return %1 : tensor<1x4x16xf32>
}

// -----

// A residual add is not a bias: dense without bias, the add stays.
// CHECK-LABEL: func.func @residual
// CHECK: %[[D:.*]] = canao.dense %arg0, %{{.*}} : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
// CHECK: canao.add %[[D]], %arg0
func.func @residual(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %w = canao.constant dense<0.5> : tensor<8x8xf32>
  %0 = canao.matmul %x, %w : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  %1 = canao.add %0, %x : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  return %1 : tensor<4x8xf32>
}

// -----

// Negative: a matmul of two activations (attention scores) is not dense.
// CHECK-LABEL: func.func @activations
// CHECK: canao.matmul
// CHECK-NOT: canao.dense
func.func @activations(%a: tensor<4x8xf32>, %b: tensor<8x4xf32>) -> tensor<4x4xf32> {
  %0 = canao.matmul %a, %b : (tensor<4x8xf32>, tensor<8x4xf32>) -> tensor<4x4xf32>
  return %0 : tensor<4x4xf32>
}
