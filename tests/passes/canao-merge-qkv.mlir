// RUN: canao-opt %s --canao-merge-qkv | FileCheck %s

// Three projections of one input become one GEMM with a [8, 24] weight whose
// row r is [Wq row r | Wk row r | Wv row r]; attention reads it packed.
// CHECK-LABEL: func.func @merge
// CHECK: %[[W:.*]] = canao.constant dense<{{\[\[}}1.000000e+00, 1.000000e+00, 2.000000e+00, 2.000000e+00, 3.000000e+00, 3.000000e+00], [1.000000e+00, 1.000000e+00, 2.000000e+00, 2.000000e+00, 3.000000e+00, 3.000000e+00]]> : tensor<2x6xf32>
// CHECK: %[[B:.*]] = canao.constant dense<[1.000000e+01, 1.000000e+01, 2.000000e+01, 2.000000e+01, 3.000000e+01, 3.000000e+01]> : tensor<6xf32>
// CHECK: %[[QKV:.*]] = canao.dense %arg0, %[[W]] bias %[[B]] : (tensor<1x4x2xf32>, tensor<2x6xf32>, tensor<6xf32>) -> tensor<1x4x6xf32>
// CHECK: canao.attention(%[[QKV]]) mask %arg1 {num_heads = 1 : i64, scale = 1.000000e+00 : f32} : (tensor<1x4x6xf32>, tensor<1x1x1x4xf32>) -> tensor<1x4x2xf32>
func.func @merge(%x: tensor<1x4x2xf32>, %m: tensor<1x1x1x4xf32>) -> tensor<1x4x2xf32> {
  %wq = canao.constant dense<1.0> : tensor<2x2xf32>
  %wk = canao.constant dense<2.0> : tensor<2x2xf32>
  %wv = canao.constant dense<3.0> : tensor<2x2xf32>
  %bq = canao.constant dense<10.0> : tensor<2xf32>
  %bk = canao.constant dense<20.0> : tensor<2xf32>
  %bv = canao.constant dense<30.0> : tensor<2xf32>
  %q = canao.dense %x, %wq bias %bq : (tensor<1x4x2xf32>, tensor<2x2xf32>, tensor<2xf32>) -> tensor<1x4x2xf32> {}
  %k = canao.dense %x, %wk bias %bk : (tensor<1x4x2xf32>, tensor<2x2xf32>, tensor<2xf32>) -> tensor<1x4x2xf32> {}
  %v = canao.dense %x, %wv bias %bv : (tensor<1x4x2xf32>, tensor<2x2xf32>, tensor<2xf32>) -> tensor<1x4x2xf32> {}
  %a = canao.attention(%q, %k, %v) mask %m {num_heads = 1 : i64, scale = 1.0 : f32} : (tensor<1x4x2xf32>, tensor<1x4x2xf32>, tensor<1x4x2xf32>, tensor<1x1x1x4xf32>) -> tensor<1x4x2xf32>
  return %a : tensor<1x4x2xf32>
}
