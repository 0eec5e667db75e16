// RUN: canao-opt %s --canao-raise-gelu --split-input-file | FileCheck %s

// The exporter's erf GELU, in its own operand order: Div, Erf, Add, Mul, Mul
// (approximate = "none" is the default and not printed).
// CHECK-LABEL: func.func @erf_form
// CHECK: %[[G:.*]] = canao.gelu %arg0 : tensor<4x8xf32>
// CHECK-NOT: canao.erf
// CHECK: return %[[G]]
func.func @erf_form(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %sqrt2 = canao.constant dense<1.41421354> : tensor<f32>
  %one = canao.constant dense<1.0> : tensor<f32>
  %half = canao.constant dense<0.5> : tensor<f32>
  %0 = canao.div %x, %sqrt2 : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  %1 = canao.erf %0 : tensor<4x8xf32>
  %2 = canao.add %1, %one : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  %3 = canao.mul %x, %2 : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %4 = canao.mul %3, %half : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  return %4 : tensor<4x8xf32>
}

// -----

// Another grouping of the same function: 0.5 * (x + x * erf(x * 0.7071)).
// CHECK-LABEL: func.func @erf_regrouped
// CHECK: canao.gelu %arg0 : tensor<8xf32>
func.func @erf_regrouped(%x: tensor<8xf32>) -> tensor<8xf32> {
  %r = canao.constant dense<0.707106769> : tensor<f32>
  %half = canao.constant dense<0.5> : tensor<f32>
  %0 = canao.mul %x, %r : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %1 = canao.erf %0 : tensor<8xf32>
  %2 = canao.mul %x, %1 : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  %3 = canao.add %x, %2 : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  %4 = canao.mul %half, %3 : (tensor<f32>, tensor<8xf32>) -> tensor<8xf32>
  return %4 : tensor<8xf32>
}

// -----

// The tanh approximation with Pow(x, 3), as exporters write it.
// CHECK-LABEL: func.func @tanh_form
// CHECK: canao.gelu %arg0 {approximate = "tanh"}
// CHECK-NOT: canao.tanh
func.func @tanh_form(%x: tensor<8xf32>) -> tensor<8xf32> {
  %three = canao.constant dense<3.0> : tensor<f32>
  %c = canao.constant dense<0.044715> : tensor<f32>
  %k = canao.constant dense<0.797884583> : tensor<f32>
  %one = canao.constant dense<1.0> : tensor<f32>
  %half = canao.constant dense<0.5> : tensor<f32>
  %0 = canao.pow %x, %three : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %1 = canao.mul %0, %c : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %2 = canao.add %x, %1 : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  %3 = canao.mul %2, %k : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %4 = canao.tanh %3 : tensor<8xf32>
  %5 = canao.add %4, %one : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %6 = canao.mul %x, %half : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %7 = canao.mul %6, %5 : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  return %7 : tensor<8xf32>
}

// -----

// Negative: x * erf(x) looks similar but is not GELU.
// CHECK-LABEL: func.func @not_gelu
// CHECK-NOT: canao.gelu
func.func @not_gelu(%x: tensor<8xf32>) -> tensor<8xf32> {
  %one = canao.constant dense<1.0> : tensor<f32>
  %0 = canao.erf %x : tensor<8xf32>
  %1 = canao.add %0, %one : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %2 = canao.mul %x, %1 : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  return %2 : tensor<8xf32>
}
