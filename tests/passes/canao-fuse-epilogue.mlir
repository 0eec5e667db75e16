// RUN: canao-opt %s --canao-fuse-epilogue --split-input-file | FileCheck %s

// bias + GELU: the fused GELU body becomes the dense op's epilogue.
// CHECK-LABEL: func.func @gelu_epilogue
// CHECK: %[[D:.*]] = canao.dense %arg0, %{{.*}} bias %{{.*}} : (tensor<4x8xf32>, tensor<8x16xf32>, tensor<16xf32>) -> tensor<4x16xf32> {
// CHECK-NEXT: ^bb0(%[[ACC:.*]]: f32):
// CHECK-NEXT: math.erf
// CHECK: canao.yield
// CHECK-NOT: canao.fused
// CHECK: return %[[D]]
func.func @gelu_epilogue(%x: tensor<4x8xf32>) -> tensor<4x16xf32> {
  %w = canao.constant dense<0.5> : tensor<8x16xf32>
  %b = canao.constant dense<1.0> : tensor<16xf32>
  %d = canao.dense %x, %w bias %b : (tensor<4x8xf32>, tensor<8x16xf32>, tensor<16xf32>) -> tensor<4x16xf32> {}
  %g = canao.fused(%d) : (tensor<4x16xf32>) -> tensor<4x16xf32> {
  ^bb0(%a: f32):
    %e = math.erf %a : f32
    %y = arith.mulf %a, %e : f32
    canao.yield %y : f32
  }
  return %g : tensor<4x16xf32>
}

// -----

// bias + residual + LayerNorm: the residual becomes an `extra` input of the
// epilogue and the LayerNorm runs on the row.
// CHECK-LABEL: func.func @residual_layer_norm
// CHECK: %[[D:.*]] = canao.dense %arg0, %{{.*}} bias %{{.*}} extra(%arg1) layer_norm(%{{.*}}, %{{.*}}) {ln_epsilon = 9.99999996E-13 : f32}
// CHECK-NEXT: ^bb0(%[[ACC:.*]]: f32, %[[RES:.*]]: f32):
// CHECK-NEXT: %[[S:.*]] = arith.addf %[[RES]], %[[ACC]] : f32
// CHECK-NEXT: canao.yield %[[S]] : f32
// CHECK-NOT: canao.layer_norm
// CHECK: return %[[D]]
func.func @residual_layer_norm(%x: tensor<4x8xf32>, %r: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %w = canao.constant dense<0.5> : tensor<8x8xf32>
  %b = canao.constant dense<1.0> : tensor<8xf32>
  %g = canao.constant dense<1.0> : tensor<8xf32>
  %beta = canao.constant dense<0.0> : tensor<8xf32>
  %d = canao.dense %x, %w bias %b : (tensor<4x8xf32>, tensor<8x8xf32>, tensor<8xf32>) -> tensor<4x8xf32> {}
  %s = canao.fused(%r, %d) : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32> {
  ^bb0(%a: f32, %c: f32):
    %y = arith.addf %a, %c : f32
    canao.yield %y : f32
  }
  %n = canao.layer_norm %s, %g, %beta {axis = 1 : i64, epsilon = 9.99999996E-13 : f32} : (tensor<4x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  return %n : tensor<4x8xf32>
}

// -----

// Negative: a dense result with a second user keeps its own buffer.
// CHECK-LABEL: func.func @two_users
// CHECK: %[[D:.*]] = canao.dense %arg0, %{{.*}} : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32> {
// CHECK-NEXT: }
// CHECK: canao.fused(%[[D]])
func.func @two_users(%x: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
  %w = canao.constant dense<0.5> : tensor<8x8xf32>
  %d = canao.dense %x, %w : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32> {}
  %t = canao.fused(%d) : (tensor<4x8xf32>) -> tensor<4x8xf32> {
  ^bb0(%a: f32):
    %y = math.tanh %a : f32
    canao.yield %y : f32
  }
  return %d, %t : tensor<4x8xf32>, tensor<4x8xf32>
}
