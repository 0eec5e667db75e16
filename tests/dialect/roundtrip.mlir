// RUN: canao-opt %s | canao-opt | FileCheck %s

// CHECK-LABEL: func.func @ops
func.func @ops(%x: tensor<1x4x8xf32>, %ids: tensor<1x4xi64>, %g: tensor<8xf32>)
    -> (tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x4x1xf32>) {
  // CHECK: canao.constant dense<0.000000e+00> : tensor<10x8xf32>
  %table = canao.constant dense<0.0> : tensor<10x8xf32>
  // CHECK: canao.gather %{{.*}}[%{{.*}}] {axis = 0 : i64}
  %e = canao.gather %table[%ids] {axis = 0 : i64} : (tensor<10x8xf32>, tensor<1x4xi64>) -> tensor<1x4x8xf32>
  // CHECK: canao.layer_norm
  %n = canao.layer_norm %e, %g {axis = 2 : i64, epsilon = 9.99999996E-13 : f32} : (tensor<1x4x8xf32>, tensor<8xf32>) -> tensor<1x4x8xf32>
  // CHECK: canao.softmax %{{.*}} {axis = 2 : i64}
  %s = canao.softmax %x {axis = 2 : i64} : tensor<1x4x8xf32>
  // CHECK: canao.reduce_mean %{{.*}} [2] {keepdims = true}
  %m = canao.reduce_mean %s [2] {keepdims = true} : tensor<1x4x8xf32> to tensor<1x4x1xf32>
  return %n, %s, %m : tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x4x1xf32>
}
