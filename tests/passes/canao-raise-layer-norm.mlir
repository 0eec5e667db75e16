// RUN: canao-opt %s --canao-raise-layer-norm --canonicalize --split-input-file | FileCheck %s

// The exporter's decomposed LayerNorm (opsets 11-16) over the last axis.
// CHECK-LABEL: func.func @decomposed
// CHECK-DAG: %[[G:.*]] = canao.constant dense<1.500000e+00> : tensor<8xf32>
// CHECK-DAG: %[[B:.*]] = canao.constant dense<2.500000e-01> : tensor<8xf32>
// CHECK: %[[LN:.*]] = canao.layer_norm %arg0, %[[G]], %[[B]] {axis = 2 : i64, epsilon = 9.99999996E-13 : f32}
// CHECK-NEXT: return %[[LN]]
func.func @decomposed(%x: tensor<2x4x8xf32>) -> tensor<2x4x8xf32> {
  %eps = canao.constant dense<9.99999996E-13> : tensor<f32>
  %two = canao.constant dense<2.0> : tensor<f32>
  %g = canao.constant dense<1.5> : tensor<8xf32>
  %b = canao.constant dense<0.25> : tensor<8xf32>
  %m = canao.reduce_mean %x [2] {keepdims = true} : tensor<2x4x8xf32> to tensor<2x4x1xf32>
  %d = canao.sub %x, %m : (tensor<2x4x8xf32>, tensor<2x4x1xf32>) -> tensor<2x4x8xf32>
  %p = canao.pow %d, %two : (tensor<2x4x8xf32>, tensor<f32>) -> tensor<2x4x8xf32>
  %v = canao.reduce_mean %p [2] {keepdims = true} : tensor<2x4x8xf32> to tensor<2x4x1xf32>
  %a = canao.add %v, %eps : (tensor<2x4x1xf32>, tensor<f32>) -> tensor<2x4x1xf32>
  %s = canao.sqrt %a : tensor<2x4x1xf32>
  %n = canao.div %d, %s : (tensor<2x4x8xf32>, tensor<2x4x1xf32>) -> tensor<2x4x8xf32>
  %y = canao.mul %n, %g : (tensor<2x4x8xf32>, tensor<8xf32>) -> tensor<2x4x8xf32>
  %z = canao.add %y, %b : (tensor<2x4x8xf32>, tensor<8xf32>) -> tensor<2x4x8xf32>
  return %z : tensor<2x4x8xf32>
}

// -----

// Negative: normalizing over axis 1 is not a LayerNorm over the last dim.
// CHECK-LABEL: func.func @wrong_axis
// CHECK-NOT: canao.layer_norm
// CHECK: canao.reduce_mean %arg0 [1]
func.func @wrong_axis(%x: tensor<2x4x8xf32>) -> tensor<2x4x8xf32> {
  %eps = canao.constant dense<1.0e-5> : tensor<f32>
  %two = canao.constant dense<2.0> : tensor<f32>
  %m = canao.reduce_mean %x [1] {keepdims = true} : tensor<2x4x8xf32> to tensor<2x1x8xf32>
  %d = canao.sub %x, %m : (tensor<2x4x8xf32>, tensor<2x1x8xf32>) -> tensor<2x4x8xf32>
  %p = canao.pow %d, %two : (tensor<2x4x8xf32>, tensor<f32>) -> tensor<2x4x8xf32>
  %v = canao.reduce_mean %p [1] {keepdims = true} : tensor<2x4x8xf32> to tensor<2x1x8xf32>
  %a = canao.add %v, %eps : (tensor<2x1x8xf32>, tensor<f32>) -> tensor<2x1x8xf32>
  %s = canao.sqrt %a : tensor<2x1x8xf32>
  %n = canao.div %d, %s : (tensor<2x4x8xf32>, tensor<2x1x8xf32>) -> tensor<2x4x8xf32>
  return %n : tensor<2x4x8xf32>
}

// -----

// Negative: the variance of another tensor is not this tensor's LayerNorm.
// CHECK-LABEL: func.func @foreign_variance
// CHECK-NOT: canao.layer_norm
func.func @foreign_variance(%x: tensor<4x8xf32>, %other: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %eps = canao.constant dense<1.0e-5> : tensor<f32>
  %m = canao.reduce_mean %x [1] {keepdims = true} : tensor<4x8xf32> to tensor<4x1xf32>
  %d = canao.sub %x, %m : (tensor<4x8xf32>, tensor<4x1xf32>) -> tensor<4x8xf32>
  %sq = canao.mul %other, %other : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %v = canao.reduce_mean %sq [1] {keepdims = true} : tensor<4x8xf32> to tensor<4x1xf32>
  %a = canao.add %v, %eps : (tensor<4x1xf32>, tensor<f32>) -> tensor<4x1xf32>
  %s = canao.sqrt %a : tensor<4x1xf32>
  %n = canao.div %d, %s : (tensor<4x8xf32>, tensor<4x1xf32>) -> tensor<4x8xf32>
  return %n : tensor<4x8xf32>
}
