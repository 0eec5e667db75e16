// RUN: canao-opt %s --canonicalize --split-input-file | FileCheck %s

// A chain of reshapes becomes one reshape of the original value.
// CHECK-LABEL: func.func @reshape_chain
// CHECK-SAME: (%[[X:.*]]: tensor<2x6xf32>)
// CHECK-NEXT: %[[R:.*]] = canao.reshape %[[X]] : tensor<2x6xf32> to tensor<3x4xf32>
// CHECK-NEXT: return %[[R]]
func.func @reshape_chain(%x: tensor<2x6xf32>) -> tensor<3x4xf32> {
  %0 = canao.reshape %x : tensor<2x6xf32> to tensor<12xf32>
  %1 = canao.reshape %0 : tensor<12xf32> to tensor<3x4xf32>
  return %1 : tensor<3x4xf32>
}

// -----

// A reshape to the same type and an identity transpose disappear.
// CHECK-LABEL: func.func @identities
// CHECK-NEXT: return %arg0
func.func @identities(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = canao.reshape %x : tensor<2x3xf32> to tensor<2x3xf32>
  %1 = canao.transpose %0 [0, 1] : tensor<2x3xf32> to tensor<2x3xf32>
  return %1 : tensor<2x3xf32>
}

// -----

// A transposed weight (Gemm with transB) is transposed at compile time.
// CHECK-LABEL: func.func @transpose_weight
// CHECK-NEXT: %[[W:.*]] = canao.constant dense<{{\[\[}}1.000000e+00, 4.000000e+00], [2.000000e+00, 5.000000e+00], [3.000000e+00, 6.000000e+00]]> : tensor<3x2xf32>
// CHECK-NEXT: %[[M:.*]] = canao.matmul %arg0, %[[W]]
// CHECK-NOT: canao.transpose
func.func @transpose_weight(%x: tensor<4x3xf32>) -> tensor<4x2xf32> {
  %w = canao.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>
  %t = canao.transpose %w [1, 0] : tensor<2x3xf32> to tensor<3x2xf32>
  %0 = canao.matmul %x, %t : (tensor<4x3xf32>, tensor<3x2xf32>) -> tensor<4x2xf32>
  return %0 : tensor<4x2xf32>
}

// -----

// Negative case: a transpose of a runtime value stays.
// CHECK-LABEL: func.func @transpose_runtime
// CHECK: canao.transpose %arg0 [1, 0]
func.func @transpose_runtime(%x: tensor<2x3xf32>) -> tensor<3x2xf32> {
  %0 = canao.transpose %x [1, 0] : tensor<2x3xf32> to tensor<3x2xf32>
  return %0 : tensor<3x2xf32>
}

// -----

// Reshaping a constant only changes its type.
// CHECK-LABEL: func.func @reshape_constant
// CHECK-NEXT: canao.constant dense<{{\[\[}}1, 2], [3, 4]]> : tensor<2x2xi64>
func.func @reshape_constant() -> tensor<2x2xi64> {
  %c = canao.constant dense<[1, 2, 3, 4]> : tensor<4xi64>
  %0 = canao.reshape %c : tensor<4xi64> to tensor<2x2xi64>
  return %0 : tensor<2x2xi64>
}
